"""The availability editor over HTTP: access, forms, messages, preview, query budgets."""

from datetime import UTC, date, datetime, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from scheduling import availability as services
from scheduling.models import Availability
from scheduling.tests.factories import mentor_without_hours

# Thursday 26 November 2026, 13:00 in Berlin.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NOTHING_SAVED = "Nothing was saved: please correct the fields marked below."
WEDNESDAY = date(2026, 12, 2)


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def mentor(db, frozen_now):
    # No notice, the model's default buffer.
    mentor = mentor_without_hours(zone="Europe/Berlin", buffer_minutes=None)
    services.save_weekly_hours(
        mentor=mentor, weekly={day: [(time(9), time(12))] for day in range(5)}
    )
    return mentor


def editor_url(mentor) -> str:
    return f"/mentors/{mentor.slug}/availability/"


def state(mentor) -> list[tuple]:
    return list(
        Availability.objects.filter(mentor=mentor)
        .order_by("pk")
        .values_list("pk", "kind", "timezone", "start", "end", "recurrence")
    )


def refused_and_unsaved(owner_client, mentor, url: str, data: dict, message: str) -> str:
    """Posts ``data`` to ``url``: the form comes back with ``message`` and the
    mentor's rows are as they were. Returns the page's HTML."""
    before = state(mentor)
    response = owner_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert NOTHING_SAVED in html
    assert message in html
    assert state(mentor) == before
    return html


def weekly_data(weekly: dict[int, list[tuple[str, str]]], **extra) -> dict:
    """The weekly form's POST: ``weekly`` maps a weekday to ("HH:MM", "HH:MM") rows."""
    data = {}
    for day in range(7):
        rows = weekly.get(day, [])
        data[f"day{day}-rows"] = str(len(rows) + 1)
        for index, (start, end) in enumerate(rows):
            data[f"day{day}-{index}-start"] = start
            data[f"day{day}-{index}-end"] = end
    data.update(extra)
    return data


def editor_requests(mentor) -> list[tuple[str, str, dict]]:
    """Every editor URL with a method and a valid body, against existing rows."""
    services.set_date_override(mentor=mentor, day=WEDNESDAY, ranges=[])
    time_off = services.add_time_off(
        mentor=mentor,
        start=datetime.combine(date(2026, 12, 7), time(0)),
        end=datetime.combine(date(2026, 12, 8), time(0)),
    )
    base = editor_url(mentor)
    return [
        ("get", base, {}),
        ("post", base, weekly_data({0: [("10:00", "11:00")]})),
        ("get", f"{base}preview/", {}),
        ("post", f"{base}overrides/", {"date": "2026-12-03", "kind": "off"}),
        ("post", f"{base}overrides/2026-12-02/remove/", {}),
        ("post", f"{base}time-off/", {"start_date": "2026-12-10", "end_date": "2026-12-11"}),
        ("post", f"{base}time-off/{time_off.pk}/remove/", {}),
    ]


# --- Access -------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(7))
def test_owner_can_use_every_editor_url(client, mentor, index):
    method, url, data = editor_requests(mentor)[index]
    client.force_login(mentor.user)
    response = getattr(client, method)(url, data)
    assert response.status_code == (200 if method == "get" else 302)


@pytest.mark.parametrize("viewer", ["other", "staff"])
@pytest.mark.parametrize("index", range(7))
def test_editor_urls_are_404_for_other_users_and_staff(client, mentor, viewer, index):
    method, url, data = editor_requests(mentor)[index]
    before = state(mentor)
    if viewer == "staff":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
    else:
        client.force_login(mentor_without_hours(zone="Europe/Berlin", buffer_minutes=None).user)
    response = getattr(client, method)(url, data)
    assert response.status_code == 404
    assert state(mentor) == before


@pytest.mark.parametrize("index", range(7))
def test_editor_urls_send_anonymous_visitors_to_log_in(client, mentor, index):
    method, url, data = editor_requests(mentor)[index]
    before = state(mentor)
    response = getattr(client, method)(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert state(mentor) == before


def test_unknown_override_date_and_time_off_are_404(owner_client, mentor):
    base = editor_url(mentor)
    assert owner_client.post(f"{base}overrides/2026-13-45/remove/").status_code == 404
    assert owner_client.post(f"{base}time-off/999999/remove/").status_code == 404


# --- The page -----------------------------------------------------------------------------


def test_editor_shows_weekly_hours_in_the_mentors_zone(owner_client, mentor):
    services.set_date_override(mentor=mentor, day=WEDNESDAY, ranges=[(time(14), time(15))])
    response = owner_client.get(editor_url(mentor))
    html = response.content.decode()
    assert "Europe/Berlin" in html
    assert 'href="/accounts/settings/"' in html
    assert 'name="day0-0-start" value="09:00"' in html
    assert 'name="day0-0-end" value="12:00"' in html
    assert 'name="day5-0-start"' in html  # a blank row for Saturday
    assert "Wednesday 2 December 2026" in html
    assert "14:00–15:00" in html


# --- Weekly hours -------------------------------------------------------------------------


def test_weekly_hours_saved(owner_client, mentor):
    response = owner_client.post(
        editor_url(mentor),
        weekly_data({0: [("09:00", "12:00"), ("14:00", "17:00")], 2: [("10:00", "11:30")]}),
        follow=True,
    )
    assert "Your weekly hours were saved." in response.content.decode()
    assert sorted(
        Availability.objects.filter(mentor=mentor).values_list("recurrence", flat=True)
    ) == ["RRULE:FREQ=WEEKLY;BYDAY=MO", "RRULE:FREQ=WEEKLY;BYDAY=MO", "RRULE:FREQ=WEEKLY;BYDAY=WE"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("12:00", "09:00")], "End after the start (12:00)."),
        ([("09:00", "12:00"), ("11:00", "13:00")], "Overlaps 09:00–12:00 on the same day."),
        ([("25:00", "26:00")], "Enter a valid time."),
        ([("09:00", "")], "Enter an end time as well."),
    ],
)
def test_bad_weekly_hours_save_nothing(owner_client, mentor, rows, message):
    data = weekly_data({0: rows, 1: [("08:00", "09:00")]})
    html = refused_and_unsaved(owner_client, mentor, editor_url(mentor), data, message)
    assert "is-invalid" in html


def test_copy_a_day_fills_the_ticked_days_without_saving(owner_client, mentor):
    before = state(mentor)
    data = weekly_data({0: [("08:00", "10:00"), ("13:00", "15:00")]}, copy_from="0")
    data["copy_to"] = ["1", "2", "3", "4"]
    html = owner_client.post(editor_url(mentor), data).content.decode()
    assert "Copied Monday&#x27;s hours to Tuesday, Wednesday, Thursday and Friday." in html
    for day in range(1, 5):
        assert f'name="day{day}-0-start" value="08:00"' in html
        assert f'name="day{day}-1-end" value="15:00"' in html
    assert 'name="day5-0-start" value="08:00"' not in html
    assert state(mentor) == before


def test_copy_with_no_day_ticked_goes_to_every_other_day(owner_client, mentor):
    data = weekly_data({2: [("08:00", "10:00")]}, copy_from="2")
    html = owner_client.post(editor_url(mentor), data).content.decode()
    for day in (0, 1, 3, 4, 5, 6):
        assert f'name="day{day}-0-start" value="08:00"' in html


def test_add_a_range_shows_another_row(owner_client, mentor):
    data = weekly_data({0: [("08:00", "10:00")]}, add_range="0")
    html = owner_client.post(editor_url(mentor), data).content.decode()
    assert 'name="day0-2-start"' in html
    assert 'name="day0-rows" value="3"' in html


# --- Date overrides -----------------------------------------------------------------------


def test_day_off_added_and_removed(owner_client, mentor):
    url = f"{editor_url(mentor)}overrides/"
    response = owner_client.post(url, {"date": "2026-12-02", "kind": "off"}, follow=True)
    assert "Wednesday 2 December 2026 is now a day off." in response.content.decode()
    assert [o.day for o in services.date_overrides(Availability.objects.all())] == [WEDNESDAY]

    response = owner_client.post(f"{url}2026-12-02/remove/", follow=True)
    assert "Wednesday 2 December 2026 has its weekly hours back." in response.content.decode()
    assert services.date_overrides(Availability.objects.all()) == []


def test_override_with_hours(owner_client, mentor):
    response = owner_client.post(
        f"{editor_url(mentor)}overrides/",
        {"date": "2026-12-02", "kind": "hours", "start_0": "14:00", "end_0": "16:00"},
        follow=True,
    )
    assert "Wednesday 2 December 2026 now has these hours: 14:00–16:00." in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "2026-11-20", "kind": "off"}, "Choose today or a later date."),
        ({"date": "2026-11-28", "kind": "off"}, "that day is already off"),
        ({"date": "not a date", "kind": "off"}, "Enter a valid date."),
        ({"date": "2026-12-02", "kind": "hours"}, "Enter the hours for this date"),
        (
            {"date": "2026-12-02", "kind": "hours", "start_0": "16:00", "end_0": "14:00"},
            "End after the start (16:00).",
        ),
        (
            {
                "date": "2026-12-02",
                "kind": "hours",
                **{"start_0": "09:00", "end_0": "11:00", "start_1": "10:00", "end_1": "12:00"},
            },
            "Overlaps 09:00–11:00 on the same day.",
        ),
    ],
)
def test_bad_overrides_save_nothing(owner_client, mentor, data, message):
    refused_and_unsaved(owner_client, mentor, f"{editor_url(mentor)}overrides/", data, message)


# --- Time off -----------------------------------------------------------------------------


def test_time_off_added_listed_and_removed(owner_client, mentor):
    url = f"{editor_url(mentor)}time-off/"
    response = owner_client.post(
        url,
        {"start_date": "2026-12-01", "start_time": "10:00", "end_date": "2026-12-03"},
        follow=True,
    )
    html = response.content.decode()
    assert "Time off added: 2026-12-01 10:00 to 2026-12-04 00:00 (Europe/Berlin)." in html
    row = Availability.objects.get(mentor=mentor, kind=Availability.Kind.BLOCKED)
    assert row.start == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert row.end == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    assert f'data-time-off="{row.pk}"' in html

    response = owner_client.post(f"{url}{row.pk}/remove/", follow=True)
    assert "The time off was removed." in response.content.decode()
    assert not Availability.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"start_date": "2026-12-03", "end_date": "2026-12-01"},
            "Time off must end after it starts.",
        ),
        ({"start_date": "2026-11-01", "end_date": "2026-11-02"}, "already over"),
        ({"start_date": "", "end_date": "2026-12-02"}, "This field is required."),
        (
            {"start_date": "2026-12-01", "start_time": "99:00", "end_date": "2026-12-02"},
            "Enter a valid time.",
        ),
    ],
)
def test_bad_time_off_saves_nothing(owner_client, mentor, data, message):
    refused_and_unsaved(owner_client, mentor, f"{editor_url(mentor)}time-off/", data, message)


# --- Preview ------------------------------------------------------------------------------


def test_preview_inline_on_the_page(owner_client, mentor):
    html = owner_client.get(editor_url(mentor)).content.decode()
    assert 'id="availability-preview"' in html
    assert f'hx-get="{editor_url(mentor)}preview/"' in html  # the Refresh link
    # Today (Thursday 26 November) from 13:00 Berlin: the morning is over.
    assert 'data-day="2026-11-26"' not in html
    assert 'data-day="2026-11-27"' in html
    assert 'data-day="2026-11-28"' not in html  # Saturday


def test_preview_partial_for_htmx(owner_client, mentor):
    response = owner_client.get(f"{editor_url(mentor)}preview/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith("<section")
    assert "Preview: your bookable times" in html
    assert "Friday 27 November 2026" in html
    assert "09:00" in html
    assert response["Vary"].count("HX-Request") == 1


def test_preview_without_htmx_is_a_page(owner_client, mentor):
    response = owner_client.get(f"{editor_url(mentor)}preview/")
    assert "<html" in response.content.decode()


def test_preview_empty_state(owner_client, mentor):
    Availability.objects.filter(mentor=mentor).delete()
    html = owner_client.get(
        f"{editor_url(mentor)}preview/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "No bookable times in the next 14 days" in html
    assert "Add weekly hours" in html


def test_preview_leaves_out_a_day_off(owner_client, mentor):
    services.set_date_override(mentor=mentor, day=WEDNESDAY, ranges=[])
    html = owner_client.get(
        f"{editor_url(mentor)}preview/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-day="2026-12-01"' in html
    assert 'data-day="2026-12-02"' not in html
    assert 'data-day="2026-12-09"' in html


# --- Query budgets ------------------------------------------------------------------------

EDITOR_QUERIES = 9
PREVIEW_QUERIES = 7


def add_rules(mentor, count: int) -> None:
    """``count`` availability rules: weekly ranges, overrides and time off."""
    weekly = {
        day: [(time(hour), time(hour + 1)) for hour in range(8, 8 + count // 7 + 1)]
        for day in range(7)
    }
    services.save_weekly_hours(mentor=mentor, weekly=weekly)
    if count > 1:
        services.set_date_override(mentor=mentor, day=WEDNESDAY, ranges=[(time(20), time(21))])
        services.add_time_off(
            mentor=mentor,
            start=datetime.combine(date(2026, 12, 7), time(0)),
            end=datetime.combine(date(2026, 12, 8), time(0)),
        )
    keep = Availability.objects.filter(mentor=mentor).order_by("-kind", "recurrence", "pk")
    Availability.objects.filter(mentor=mentor).exclude(
        pk__in=list(keep.values_list("pk", flat=True)[:count])
    ).delete()


@pytest.mark.parametrize(
    ("url_suffix", "budget"), [("", EDITOR_QUERIES), ("preview/", PREVIEW_QUERIES)]
)
def test_query_budget_is_the_same_for_1_and_20_rules(client, db, frozen_now, url_suffix, budget):
    counts = []
    for rules in (1, 20):
        mentor = mentor_without_hours(zone="Europe/Berlin", buffer_minutes=None)
        add_rules(mentor, rules)
        assert Availability.objects.filter(mentor=mentor).count() == rules
        client.force_login(mentor.user)
        client.get(editor_url(mentor) + url_suffix)  # warm up the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(editor_url(mentor) + url_suffix, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= budget, counts
