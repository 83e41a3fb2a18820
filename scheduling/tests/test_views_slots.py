"""``/mentors/<slug>/slots/``: the JSON contract and every 400."""

from datetime import UTC, date, datetime

import pytest

from scheduling.models import SessionType

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def url(mentor, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/mentors/{mentor.slug}/slots/?{query}"


def test_contract(client, mentor):
    response = client.get(
        url(
            mentor,
            type="mentoring-session",
            tz="America/New_York",
            **{"from": "2026-11-30", "to": "2026-11-30"},
        )
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"]
    assert "max-age=60" in response["Cache-Control"]
    assert response.json() == {
        "mentor": mentor.slug,
        "timezone": "America/New_York",
        "type": "mentoring-session",
        "slots": [
            {"start": "2026-11-30T14:00:00Z", "end": "2026-11-30T15:00:00Z"},
            {"start": "2026-11-30T15:00:00Z", "end": "2026-11-30T16:00:00Z"},
            {"start": "2026-11-30T16:00:00Z", "end": "2026-11-30T17:00:00Z"},
        ],
    }


def test_dates_are_read_in_the_viewers_zone(client, mentor):
    # Monday 30 November in Kathmandu (+05:45) ends at 18:15 UTC: 09:00-12:00
    # New York (14:00-17:00 UTC) is wholly inside it.
    data = client.get(
        url(
            mentor,
            type="intro-call",
            tz="Asia/Kathmandu",
            **{"from": "2026-11-30", "to": "2026-11-30"},
        )
    ).json()
    assert data["timezone"] == "Asia/Kathmandu"
    assert [slot["start"] for slot in data["slots"]][:2] == [
        "2026-11-30T14:00:00Z",
        "2026-11-30T14:30:00Z",
    ]
    assert len(data["slots"]) == 6
    # Tuesday 1 December in Tokyo (+09:00) runs from 15:00 UTC Monday to 15:00
    # UTC Tuesday: the end of Monday's hours and the start of Tuesday's.
    data = client.get(
        url(
            mentor, type="intro-call", tz="Asia/Tokyo", **{"from": "2026-12-01", "to": "2026-12-01"}
        )
    ).json()
    assert [slot["start"] for slot in data["slots"]] == [
        "2026-11-30T15:00:00Z",
        "2026-11-30T15:30:00Z",
        "2026-11-30T16:00:00Z",
        "2026-11-30T16:30:00Z",
        "2026-12-01T14:00:00Z",
        "2026-12-01T14:30:00Z",
    ]


def test_defaults_to_the_first_active_type_and_a_week_from_today(client, mentor):
    data = client.get(f"/mentors/{mentor.slug}/slots/").json()
    assert data["type"] == "intro-call"
    assert data["timezone"] == "UTC"
    starts = [slot["start"] for slot in data["slots"]]
    assert starts[0] == "2026-11-26T14:00:00Z"  # today (a Thursday), 09:00 New York
    assert starts[-1] < "2026-12-03T00:00:00Z"


def test_anonymous_may_read(client, mentor):
    assert client.get(url(mentor)).status_code == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tz": "Mars/Olympus"}, "IANA time zone"),
        ({"from": "2026-13-01"}, "“from” must be a date"),
        ({"from": "tomorrow"}, "“from” must be a date"),
        ({"to": "2026-02-30"}, "“to” must be a date"),
        ({"from": "2026-12-10", "to": "2026-12-01"}, "must not be after"),
        ({"from": "2026-12-01", "to": "2027-02-01"}, "at most 62 days"),
        ({"type": "nope"}, "no session type “nope”"),
        # Found by fuzzing (issue 14): a NUL reached PostgreSQL, which refuses
        # it; dates near year 1 or 9999 overflowed the date arithmetic.
        ({"type": "%00"}, "must be the slug of a session type"),
        ({"type": "intro%00call"}, "must be the slug of a session type"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "within ten years of today"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, "within ten years of today"),
        ({"to": "9999-12-31"}, "within ten years of today"),
    ],
)
def test_bad_parameters_are_400_with_an_error(client, mentor, params, message):
    response = client.get(url(mentor, **params))
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_62_days_is_allowed(client, mentor):
    response = client.get(url(mentor, **{"from": "2026-12-01", "to": "2027-01-31"}))
    assert response.status_code == 200


def test_inactive_type_is_400(client, mentor):
    SessionType.objects.filter(mentor=mentor, slug="intro-call").update(is_active=False)
    response = client.get(url(mentor, type="intro-call"))
    assert response.status_code == 400
    # Without a type, the next active one is used.
    assert client.get(url(mentor)).json()["type"] == "mentoring-session"


def test_no_active_types_is_400(client, mentor):
    SessionType.objects.filter(mentor=mentor).update(is_active=False)
    response = client.get(url(mentor))
    assert response.status_code == 400
    assert "no session types" in response.json()["error"]


def test_unknown_or_unlisted_mentor_is_404(client, mentor):
    assert client.get("/mentors/nobody/slots/").status_code == 404
    mentor.is_accepting_bookings = False
    mentor.save()
    assert client.get(url(mentor)).status_code == 404


def test_post_is_refused(client, mentor):
    assert client.post(url(mentor)).status_code == 405


@pytest.mark.parametrize("days", [1, 62])
def test_query_count_is_constant(client, mentor, days, django_assert_max_num_queries):
    last = date(2026, 12, 1).toordinal() + days - 1
    with django_assert_max_num_queries(5):
        response = client.get(
            url(mentor, **{"from": "2026-12-01", "to": date.fromordinal(last).isoformat()})
        )
    assert response.status_code == 200


def test_the_cache_key_holds_only_the_checked_parameters(client, mentor, monkeypatch):
    """Junk in the query string neither lengthens the key nor makes new entries."""
    from scheduling.views import slots as views

    keys = []
    real_set = views.cache.set
    monkeypatch.setattr(
        views.cache,
        "set",
        lambda key, *args, **kwargs: keys.append(key) or real_set(key, *args, **kwargs),
    )
    asked = {"type": "intro-call", "tz": "America/New_York", "from": "2026-11-30"}
    first = client.get(url(mentor, **asked, junk="x" * 100_000))
    second = client.get(url(mentor, **asked, other="y" * 50, junk="z"))
    third = client.get(url(mentor, **{**asked, "to": "2026-12-06"}))  # the default "to"

    assert first.status_code == second.status_code == third.status_code == 200
    assert first.json() == second.json() == third.json()
    assert len(keys) == 1, "the same checked parameters are one entry"
    assert len(keys[0]) < 200
    assert keys[0].endswith(":America/New_York:2026-11-30:2026-12-06:intro-call")


def test_a_bad_request_is_not_cached(client, mentor, monkeypatch):
    from scheduling.views import slots as views

    keys = []
    monkeypatch.setattr(views.cache, "set", lambda key, *args, **kwargs: keys.append(key))
    for junk in ("a", "b", "c"):
        assert client.get(url(mentor, tz=f"Nowhere/{junk}")).status_code == 400
    assert keys == []
