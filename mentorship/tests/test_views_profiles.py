"""Becoming a mentor or mentee, and editing your own profiles, over HTTP."""

import html
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from core import timeformat
from mentorship.forms import (
    buffer_example,
    cutoff_example,
    daily_cap_example,
    horizon_example,
    notice_example,
)
from mentorship.models import MenteeProfile, MentorProfile

from .factories import (
    ExpertiseTagFactory,
    MenteeProfileFactory,
    MentorProfileFactory,
    mentor_state,
)

NOTHING_SAVED = "Nothing was saved: please correct the fields marked below."


def editor_data(mentor, *, tags=None, links=None, **fields) -> dict:
    """The POST the editor sends: the mentor's current values with ``fields``,
    ``tags`` and ``links`` (a list of (platform, url) rows) changed.

    Like the rendered form, the links formset counts the mentor's existing links
    as initial rows; rows the owner cleared are sent empty.
    """
    if tags is None:
        tags = list(mentor.expertise.all())
    if links is None:
        links = list(mentor.social_links.values_list("platform", "url"))
    initial = mentor.social_links.count()
    rows = list(links) + [("", "")] * max(0, initial - len(links))
    data = {
        "headline": mentor.headline,
        "biography": mentor.biography,
        # Each rule in the unit the model stores it in; the unit tests below
        # choose others.
        "buffer_minutes": str(mentor.buffer_minutes),
        "buffer_minutes_unit": "minutes",
        "minimum_notice_minutes": str(mentor.minimum_notice_minutes),
        "minimum_notice_minutes_unit": "minutes",
        "booking_horizon_days": str(mentor.booking_horizon_days),
        "booking_horizon_days_unit": "days",
        "max_sessions_per_day": str(mentor.max_sessions_per_day or ""),
        "cancellation_cutoff_hours": str(mentor.cancellation_cutoff_hours),
        "cancellation_cutoff_hours_unit": "hours",
        "expertise": [str(tag.pk) for tag in tags],
        "links-TOTAL_FORMS": str(len(rows)),
        "links-INITIAL_FORMS": str(initial),
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "9",
    }
    if mentor.is_accepting_bookings:
        data["is_accepting_bookings"] = "on"
    for number, (platform, url) in enumerate(rows):
        data[f"links-{number}-platform"] = platform
        data[f"links-{number}-url"] = url
    data.update(fields)
    return data


@pytest.fixture
def mentor(db):
    return MentorProfileFactory(
        user=UserFactory(name="Ada Lovelace", email="ada@example.com"),
        slug="ada-lovelace",
        headline="Original headline",
        biography="Original biography",
        expertise=[ExpertiseTagFactory(name="Python", slug="python")],
        links={"github": "https://github.com/ada"},
    )


def edit_url(mentor) -> str:
    return f"/mentors/{mentor.slug}/edit/"


def send(client, method: str, url: str, data: dict):
    """GET without a query string, POST with ``data``."""
    return client.get(url) if method == "get" else client.post(url, data)


# --- Becoming a mentor -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_become_mentor_anonymous_is_sent_to_login(client, method):
    response = getattr(client, method)("/become-a-mentor/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/become-a-mentor/"
    assert not MentorProfile.objects.exists()


@pytest.mark.django_db
def test_become_mentor_page_explains_and_offers_the_button(client):
    client.force_login(UserFactory())
    response = client.get("/become-a-mentor/")
    assert response.status_code == 200
    assert "Create my mentor profile" in response.text
    assert 'method="post"' in response.text
    assert not MentorProfile.objects.exists()


@pytest.mark.django_db
def test_become_mentor_post_creates_the_profile_and_opens_the_editor(client):
    user = UserFactory(name="Grace Hopper")
    client.force_login(user)
    response = client.post("/become-a-mentor/")
    mentor = MentorProfile.objects.get(user=user)
    assert mentor.slug == "grace-hopper"
    assert response.status_code == 302
    assert response["Location"] == "/mentors/grace-hopper/edit/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "You are now a mentor." in page.text


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_become_mentor_when_already_a_mentor_goes_to_the_editor(owner_client, mentor, method):
    response = getattr(owner_client, method)("/become-a-mentor/")
    assert response.status_code == 302
    assert response["Location"] == edit_url(mentor)
    assert MentorProfile.objects.filter(user=mentor.user).count() == 1


@pytest.mark.django_db
def test_become_mentor_refuses_other_methods(client):
    client.force_login(UserFactory())
    assert client.put("/become-a-mentor/").status_code == 405
    assert not MentorProfile.objects.exists()


# --- Becoming a mentee -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_become_mentee_anonymous_is_sent_to_login(client, method):
    response = getattr(client, method)("/become-a-mentee/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/become-a-mentee/"
    assert not MenteeProfile.objects.exists()


@pytest.mark.django_db
def test_become_mentee_page_and_post(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/become-a-mentee/")
    assert page.status_code == 200
    assert "Create my mentee profile" in page.text
    assert not MenteeProfile.objects.exists()

    response = client.post("/become-a-mentee/")
    assert response.status_code == 302
    assert response["Location"] == "/me/mentee/"
    assert MenteeProfile.objects.filter(user=user).count() == 1
    assert "Welcome! Tell mentors what you" in client.get("/me/mentee/").text


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_become_mentee_when_already_a_mentee_goes_to_the_editor(client, method):
    mentee = MenteeProfileFactory()
    client.force_login(mentee.user)
    response = getattr(client, method)("/become-a-mentee/")
    assert response.status_code == 302
    assert response["Location"] == "/me/mentee/"
    assert MenteeProfile.objects.filter(user=mentee.user).count() == 1


# --- The mentor editor: who may open it --------------------------------------------------


@pytest.mark.django_db
def test_mentor_editor_shows_the_owner_their_values(owner_client, mentor):
    response = owner_client.get(edit_url(mentor))
    assert response.status_code == 200
    text = response.text
    assert 'value="Original headline"' in text
    assert "Original biography" in text
    assert 'value="https://github.com/ada"' in text
    assert f'value="{mentor.expertise.get().pk}"' in text


@pytest.mark.django_db
def test_mentor_editor_renders_exactly_the_fields_these_tests_post(owner_client, mentor):
    """Keeps ``editor_data`` honest, and shows no field the owner may not set."""
    text = owner_client.get(edit_url(mentor)).text
    form = text[text.index('<form method="post" novalidate>') :]
    form = form[: form.index("</form>")]
    rendered = set(re.findall(r'name="([^"]+)"', form)) - {"csrfmiddlewaretoken"}
    posted = set(editor_data(mentor, links=[("github", "https://github.com/ada"), ("", "")]))
    # The page renders spare link rows; the helper sends only the rows it fills.
    assert posted - {"is_accepting_bookings"} <= rendered
    assert "is_accepting_bookings" in rendered
    assert {name for name in rendered if not name.startswith("links-")} == {
        "headline",
        "biography",
        "expertise",
        "is_accepting_bookings",
        "buffer_minutes",
        "buffer_minutes_unit",
        "minimum_notice_minutes",
        "minimum_notice_minutes_unit",
        "booking_horizon_days",
        "booking_horizon_days_unit",
        "max_sessions_per_day",
        "cancellation_cutoff_hours",
        "cancellation_cutoff_hours_unit",
    }


@pytest.mark.django_db
def test_mentor_editor_owner_saves(owner_client, mentor):
    django_tag = ExpertiseTagFactory(name="Django", slug="django")
    data = editor_data(
        mentor,
        tags=[django_tag],
        links=[("linkedin", "https://www.linkedin.com/in/ada"), ("website", "ada.example.com")],
        headline="Analytical engines, explained",
        biography="First paragraph.\n\nSecond paragraph.",
        buffer_minutes="30",
        minimum_notice_minutes="0",
        booking_horizon_days="365",
        max_sessions_per_day="24",
    )
    del data["is_accepting_bookings"]
    response = owner_client.post(edit_url(mentor), data)
    assert response.status_code == 302
    assert response["Location"] == edit_url(mentor)
    mentor.refresh_from_db()
    assert mentor.headline == "Analytical engines, explained"
    assert mentor.biography == "First paragraph.\n\nSecond paragraph."
    assert mentor.is_accepting_bookings is False
    assert (mentor.buffer_minutes, mentor.minimum_notice_minutes) == (30, 0)
    assert (mentor.booking_horizon_days, mentor.max_sessions_per_day) == (365, 24)
    assert list(mentor.expertise.values_list("slug", flat=True)) == ["django"]
    # A link typed without a scheme is stored as https.
    assert dict(mentor.social_links.values_list("platform", "url")) == {
        "linkedin": "https://www.linkedin.com/in/ada",
        "website": "https://ada.example.com",
    }
    page = owner_client.get(response["Location"])
    assert "Your mentor profile was saved." in page.text


@pytest.mark.django_db
def test_saved_changes_show_at_once_on_public_pages(
    owner_client, mentor, django_capture_on_commit_callbacks
):
    # Both pages are rendered (and their fragments cached) before the edit.
    assert "Original headline" in owner_client.get("/mentors/ada-lovelace/").text
    assert "Original headline" in owner_client.get("/mentors/").text
    rust = ExpertiseTagFactory(name="Rust", slug="rust")
    data = editor_data(
        mentor,
        tags=[rust],
        links=[("website", "https://ada.example.com/")],
        headline="Fresh headline",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.post(edit_url(mentor), data).status_code == 302

    page = owner_client.get("/mentors/ada-lovelace/").text
    assert "Fresh headline" in page
    assert "Original headline" not in page
    assert 'href="/mentors/?tag=rust">Rust</a>' in page
    assert 'href="/mentors/?tag=python"' not in page
    assert 'href="https://ada.example.com/"' in page
    assert 'href="https://github.com/ada"' not in page
    directory = owner_client.get("/mentors/").text
    assert "Fresh headline" in directory
    assert "Original headline" not in directory


@pytest.mark.django_db
def test_a_new_mentor_is_in_the_directory_at_once(client, django_capture_on_commit_callbacks):
    MentorProfileFactory(user=UserFactory(name="Existing Mentor"))
    assert "Existing Mentor" in client.get("/mentors/").text
    client.force_login(UserFactory(name="Brand New"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/become-a-mentor/")
    assert 'href="/mentors/brand-new/"' in client.get("/mentors/").text


@pytest.mark.django_db
def test_mentor_editor_clearing_a_row_removes_the_link(owner_client, mentor):
    response = owner_client.post(edit_url(mentor), editor_data(mentor, links=[], tags=[]))
    assert response.status_code == 302
    assert not mentor.social_links.exists()
    assert not mentor.expertise.exists()


@pytest.mark.django_db
def test_mentor_editor_daily_cap_may_be_left_empty(owner_client, mentor):
    MentorProfile.objects.filter(pk=mentor.pk).update(max_sessions_per_day=3)
    mentor.refresh_from_db()
    response = owner_client.post(edit_url(mentor), editor_data(mentor, max_sessions_per_day=""))
    assert response.status_code == 302
    mentor.refresh_from_db()
    assert mentor.max_sessions_per_day is None


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_mentor_editor_is_404_for_another_user(client, mentor, method):
    before = mentor_state(mentor)
    client.force_login(UserFactory())
    response = send(client, method, edit_url(mentor), editor_data(mentor, headline="Hijacked"))
    assert response.status_code == 404
    assert mentor_state(mentor) == before


@pytest.mark.django_db
def test_mentor_editor_is_404_for_another_mentor(client, mentor):
    before = mentor_state(mentor)
    client.force_login(MentorProfileFactory().user)
    assert client.get(edit_url(mentor)).status_code == 404
    assert client.post(edit_url(mentor), editor_data(mentor, headline="X")).status_code == 404
    assert mentor_state(mentor) == before


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_mentor_editor_sends_anonymous_to_login(client, mentor, method):
    before = mentor_state(mentor)
    response = send(client, method, edit_url(mentor), editor_data(mentor, headline="Hijacked"))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={edit_url(mentor)}"
    assert mentor_state(mentor) == before


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_mentor_editor_is_404_for_staff_who_edit_in_the_admin(client, mentor, method):
    before = mentor_state(mentor)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = send(client, method, edit_url(mentor), editor_data(mentor, headline="Staff"))
    assert response.status_code == 404
    assert mentor_state(mentor) == before


@pytest.mark.django_db
def test_mentor_editor_unknown_slug_is_404(owner_client):
    assert owner_client.get("/mentors/nobody-here/edit/").status_code == 404


# --- The mentor editor: booking rules in human units ------------------------------------

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thursday 26 November, 09:00 in Berlin


def rule_block(text: str, rule: str) -> str:
    """One booking rule's block on the editor (label, inputs, error, help,
    example), its character references decoded."""
    match = re.search(
        rf'<div class="mb-3 booking-rule" data-rule="{rule}">(.*?)</p>\s*</div>', text, re.S
    )
    assert match, f"no {rule} rule on the page"
    return html.unescape(match.group(1))


def shown(block: str, name: str) -> tuple[str, str]:
    """The number and the selected unit a duration field shows."""
    number = re.search(rf'<input type="number" name="{name}" value="([^"]*)"', block)
    unit = re.search(r'<option value="(\w+)" selected>', block)
    return number.group(1), unit.group(1)


@pytest.mark.django_db
def test_rules_are_shown_in_the_largest_exact_unit(owner_client, mentor):
    MentorProfile.objects.filter(pk=mentor.pk).update(
        buffer_minutes=90,
        minimum_notice_minutes=720,
        booking_horizon_days=56,
        cancellation_cutoff_hours=48,
    )
    text = owner_client.get(edit_url(mentor)).text
    assert shown(rule_block(text, "notice"), "minimum_notice_minutes") == ("12", "hours")
    assert 'value="720"' not in text
    assert shown(rule_block(text, "buffer"), "buffer_minutes") == ("90", "minutes")
    assert shown(rule_block(text, "horizon"), "booking_horizon_days") == ("8", "weeks")
    assert shown(rule_block(text, "cutoff"), "cancellation_cutoff_hours") == ("2", "days")

    MentorProfile.objects.filter(pk=mentor.pk).update(
        buffer_minutes=0, minimum_notice_minutes=3 * 24 * 60, booking_horizon_days=60
    )
    text = owner_client.get(edit_url(mentor)).text
    assert shown(rule_block(text, "notice"), "minimum_notice_minutes") == ("3", "days")
    assert shown(rule_block(text, "buffer"), "buffer_minutes") == ("0", "minutes")
    assert shown(rule_block(text, "horizon"), "booking_horizon_days") == ("60", "days")


RULES = {
    "minimum_notice_minutes": "notice",
    "buffer_minutes": "buffer",
    "booking_horizon_days": "horizon",
    "cancellation_cutoff_hours": "cutoff",
}
ROUND_TRIPS = {
    "notice 12 hours": ("minimum_notice_minutes", "12", "hours", 720),
    "notice 3 days": ("minimum_notice_minutes", "3", "days", 4320),
    "notice 14 days, the most": ("minimum_notice_minutes", "14", "days", 20160),
    "notice 45 minutes": ("minimum_notice_minutes", "45", "minutes", 45),
    "buffer 2 hours, the most": ("buffer_minutes", "2", "hours", 120),
    "buffer 15 minutes": ("buffer_minutes", "15", "minutes", 15),
    "horizon 8 weeks": ("booking_horizon_days", "8", "weeks", 56),
    "horizon 365 days": ("booking_horizon_days", "365", "days", 365),
    "cutoff 2 days": ("cancellation_cutoff_hours", "2", "days", 48),
    "cutoff 7 days, the most": ("cancellation_cutoff_hours", "7", "days", 168),
    "cutoff 0 hours": ("cancellation_cutoff_hours", "0", "hours", 0),
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "count", "unit", "stored"), ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys()
)
def test_a_rule_typed_in_any_unit_is_stored_in_the_fields_own(
    owner_client, mentor, field, count, unit, stored
):
    data = editor_data(mentor, **{field: count, f"{field}_unit": unit})
    response = owner_client.post(edit_url(mentor), data)
    assert response.status_code == 302
    assert MentorProfile.objects.values_list(field, flat=True).get(pk=mentor.pk) == stored
    # And it comes back as typed (each is typed in its largest exact unit here).
    block = rule_block(owner_client.get(edit_url(mentor)).text, RULES[field])
    assert shown(block, field) == (count, unit)


@pytest.mark.django_db
def test_a_refused_rule_says_why_next_to_its_field(owner_client, mentor):
    data = editor_data(
        mentor,
        buffer_minutes="3",
        buffer_minutes_unit="hours",
        minimum_notice_minutes="2",
        minimum_notice_minutes_unit="days",
    )
    before = mentor_state(mentor)
    response = owner_client.post(edit_url(mentor), data)
    assert response.status_code == 200
    assert mentor_state(mentor) == before
    block = rule_block(response.text, "buffer")
    assert (
        '<div class="invalid-feedback d-block" id="id_buffer_minutes_error">'
        "Choose at most 2 hours (you chose 3 hours).</div>"
    ) in block
    # Both inputs are marked invalid and described by the error, the help and the example.
    for input_id in ("id_buffer_minutes_0", "id_buffer_minutes_1"):
        tag = re.search(rf'<(?:input|select)[^>]*id="{input_id}"[^>]*>', block).group(0)
        assert 'aria-invalid="true"' in tag
        assert "is-invalid" in tag
        assert (
            'aria-describedby="id_buffer_minutes_helptext id_buffer_minutes_example '
            'id_buffer_minutes_error"'
        ) in tag
    assert shown(block, "buffer_minutes") == ("3", "hours")  # as typed
    # No example for a value the form refuses (the block ends where the example would be).
    assert block.endswith('id="id_buffer_minutes_example" data-rule-example aria-live="polite">')
    # The other rules are fine: no error there, and their example follows what was sent.
    notice = rule_block(response.text, "notice")
    assert "invalid" not in notice
    assert (
        "With 2 days' notice, at 09:00 today the first bookable time is 09:00 in 2 days." in notice
    )


@pytest.mark.django_db
def test_each_rule_has_a_help_line_and_an_example_of_its_value(owner_client, mentor, time_machine):
    time_machine.move_to(NOW, tick=False)
    MentorProfile.objects.filter(pk=mentor.pk).update(
        buffer_minutes=15,
        minimum_notice_minutes=720,
        booking_horizon_days=60,
        max_sessions_per_day=3,
        cancellation_cutoff_hours=12,
    )
    owner = mentor.user
    owner.timezone = "Europe/Berlin"
    owner.save(update_fields=["timezone"])
    text = owner_client.get(edit_url(mentor)).text
    examples = {
        "notice": "With 12 hours' notice, at 09:00 today the first bookable time is 21:00 today.",
        "buffer": "With a 15-minute buffer, after a session that ends at 10:00 "
        "the next one can start at 10:15 at the earliest.",
        "horizon": "With 60 days, on 26 November people can book times until 25 January 2027.",
        "daily-cap": "With a limit of 3, once 3 sessions are booked on a day, "
        "that day's other times are no longer offered.",
        "cutoff": "With 12 hours, a mentee can cancel or move a 09:00 session "
        "until 21:00 the day before.",
    }
    for rule, example in examples.items():
        block = rule_block(text, rule)
        assert re.search(r'<div class="form-text" id="id_\w+_helptext">[^<]{20,}</div>', block)
        assert f'data-rule-example aria-live="polite">{example}' in block
    assert 'data-clock="24" data-today="2026-11-26"' in text
    assert "js/duration." in text


def test_examples_in_words():
    assert notice_example(0) == (
        "With no notice, at 09:00 today any free time from 09:00 on can be booked."
    )
    assert notice_example(90) == (
        "With 90 minutes' notice, at 09:00 today the first bookable time is 10:30 today."
    )
    assert notice_example(24 * 60) == (
        "With 1 day's notice, at 09:00 today the first bookable time is 09:00 tomorrow."
    )
    assert notice_example(20 * 60) == (
        "With 20 hours' notice, at 09:00 today the first bookable time is 05:00 tomorrow."
    )
    assert buffer_example(0) == "With no buffer, a session can start as soon as another one ends."
    assert buffer_example(60) == (
        "With a 1-hour buffer, after a session that ends at 10:00 "
        "the next one can start at 11:00 at the earliest."
    )
    assert horizon_example(14, today=date(2027, 3, 1)) == (
        "With 2 weeks, on 1 March people can book times until 15 March."
    )
    assert horizon_example(1, today=date(2027, 12, 31)) == (
        "With 1 day, on 31 December people can book times until 1 January 2028."
    )
    assert daily_cap_example(None) == "With no limit, every free time of a day can be booked."
    assert daily_cap_example(1) == (
        "With a limit of 1, once 1 session is booked on a day, "
        "that day's other times are no longer offered."
    )
    assert cutoff_example(0) == "A mentee can cancel or move a 09:00 session until it starts."
    assert cutoff_example(6) == (
        "With 6 hours, a mentee can cancel or move a 09:00 session until 03:00 the same day."
    )
    assert cutoff_example(72) == (
        "With 3 days, a mentee can cancel or move a 09:00 session until 09:00, 3 days before."
    )


def test_examples_follow_the_readers_clock():
    with timeformat.override(timeformat.TWELVE):
        assert notice_example(720) == (
            "With 12 hours' notice, at 9:00 AM today the first bookable time is 9:00 PM today."
        )
        assert buffer_example(150 - 30) == (
            "With a 2-hour buffer, after a session that ends at 10:00 AM "
            "the next one can start at 12:00 PM at the earliest."
        )
        assert cutoff_example(12) == (
            "With 12 hours, a mentee can cancel or move a 9:00 AM session "
            "until 9:00 PM the day before."
        )


# --- The mentor editor: every refusal saves nothing --------------------------------------


def eleven_tags():
    return ExpertiseTagFactory.create_batch(11)


INVALID_EDITS = {
    "javascript link": (
        {"links": [("website", "javascript:alert(1)")]},
        "Enter a valid URL.",
    ),
    "http link": (
        {"links": [("website", "http://ada.example.com/")]},
        "Links must start with https://.",
    ),
    "link on the wrong domain": (
        {"links": [("github", "https://gitlab.com/ada")]},
        "A GitHub link must be on github.com.",
    ),
    "platform twice": (
        {"links": [("github", "https://github.com/ada"), ("github", "https://github.com/b")]},
        "You added GitHub twice: keep one link per platform.",
    ),
    "link without platform": (
        {"links": [("", "https://ada.example.com/")]},
        "Choose which platform this link is for.",
    ),
    "platform without link": (
        {"links": [("website", "")]},
        "Add the link for this platform, or clear the platform.",
    ),
    "unknown platform": (
        {"links": [("myspace", "https://myspace.com/ada")]},
        "Select a valid choice.",
    ),
    "eleven tags": ({"tags": eleven_tags}, "Choose at most 10 areas of expertise (you chose 11)."),
    "unknown tag": ({"expertise": ["999999"]}, "Select a valid choice."),
    "headline over 120": ({"headline": "h" * 121}, "at most 120 characters"),
    "biography over 5000": ({"biography": "b" * 5001}, "at most 5000 characters"),
    "buffer 121": ({"buffer_minutes": "121"}, "Choose at most 2 hours (you chose 121 minutes)."),
    "buffer not a number": ({"buffer_minutes": "ten"}, "Enter a whole number."),
    "horizon 0": ({"booking_horizon_days": "0"}, "Choose at least 1 day."),
    "horizon 366": (
        {"booking_horizon_days": "366"},
        "Choose at most 365 days (you chose 366 days).",
    ),
    "horizon empty": ({"booking_horizon_days": ""}, "Enter a number."),
    "daily cap 0": ({"max_sessions_per_day": "0"}, "greater than or equal to 1"),
    "daily cap 25": ({"max_sessions_per_day": "25"}, "less than or equal to 24"),
    "cutoff 169": (
        {"cancellation_cutoff_hours": "169"},
        "Choose at most 7 days (you chose 169 hours).",
    ),
    "negative notice": ({"minimum_notice_minutes": "-1"}, "Choose 0 or more."),
    "notice over two weeks": (
        {"minimum_notice_minutes": "20161"},
        "Choose at most 14 days (you chose 20161 minutes).",
    ),
    "notice of 15 days": (
        {"minimum_notice_minutes": "15", "minimum_notice_minutes_unit": "days"},
        "Choose at most 14 days (you chose 15 days).",
    ),
    "buffer of 3 hours": (
        {"buffer_minutes": "3", "buffer_minutes_unit": "hours"},
        "Choose at most 2 hours (you chose 3 hours).",
    ),
    "buffer in days": (
        {"buffer_minutes": "1", "buffer_minutes_unit": "days"},
        "Choose minutes or hours.",
    ),
    "cutoff in minutes": (
        {"cancellation_cutoff_hours": "90", "cancellation_cutoff_hours_unit": "minutes"},
        "Choose hours or days.",
    ),
    "notice without a unit": (
        {"minimum_notice_minutes_unit": ""},
        "Choose minutes, hours or days.",
    ),
    "notice in fractions": (
        {"minimum_notice_minutes": "1.5", "minimum_notice_minutes_unit": "hours"},
        "Enter a whole number.",
    ),
    "null character": ({"headline": "bad\x00byte"}, "Null characters are not allowed."),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "error"), INVALID_EDITS.values(), ids=INVALID_EDITS.keys())
def test_mentor_editor_refusal_saves_nothing(owner_client, mentor, change, error):
    change = dict(change)
    tags = change.pop("tags", None)
    # Every other part of the POST is a valid change, so a partial save would show.
    data = editor_data(
        mentor,
        tags=tags() if tags else [ExpertiseTagFactory(name="Rust")],
        links=change.pop("links", [("website", "https://new.example.com/")]),
        headline="Changed headline",
        biography="Changed biography",
        buffer_minutes="45",
    )
    data.update(change)
    before = mentor_state(mentor)
    response = owner_client.post(edit_url(mentor), data)
    assert response.status_code == 200
    assert NOTHING_SAVED in response.text
    assert error in response.text
    assert mentor_state(mentor) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "management",
    [
        {},
        {"links-TOTAL_FORMS": "abc", "links-INITIAL_FORMS": "0"},
        {"links-TOTAL_FORMS": "50", "links-INITIAL_FORMS": "0"},
        {"links-TOTAL_FORMS": "100000", "links-INITIAL_FORMS": "0"},
    ],
    ids=["missing", "not a number", "too many rows", "absurd"],
)
def test_mentor_editor_tampered_link_rows_save_nothing(owner_client, mentor, management):
    data = editor_data(mentor, links=[("website", "https://new.example.com/")], headline="X")
    for key in ("links-TOTAL_FORMS", "links-INITIAL_FORMS", "links-MIN_NUM_FORMS"):
        data.pop(key)
    data.pop("links-MAX_NUM_FORMS")
    data.update(management)
    before = mentor_state(mentor)
    response = owner_client.post(edit_url(mentor), data)
    assert response.status_code == 200
    assert NOTHING_SAVED in response.text
    assert mentor_state(mentor) == before


@pytest.mark.django_db
def test_mentor_editor_ignores_fields_the_owner_may_not_set(owner_client, mentor):
    other = UserFactory()
    data = editor_data(
        mentor,
        headline="Honest headline",
        rating_avg="5.00",
        rating_count="999",
        slug="hijacked",
        user=str(other.pk),
        id="00000000-0000-0000-0000-000000000000",
        created_at="2000-01-01T00:00:00Z",
    )
    response = owner_client.post(edit_url(mentor), data)
    assert response.status_code == 302
    stored = MentorProfile.objects.get(pk=mentor.pk)
    assert stored.headline == "Honest headline"
    assert stored.rating_avg == Decimal("0.00")
    assert stored.rating_count == 0
    assert stored.slug == "ada-lovelace"
    assert stored.user_id == mentor.user_id
    assert stored.created_at == mentor.created_at
    assert not MentorProfile.objects.filter(slug="hijacked").exists()
    assert not MentorProfile.objects.filter(user=other).exists()


# --- The mentee editor -------------------------------------------------------------------


@pytest.mark.django_db
def test_mentee_editor_owner_sees_and_saves(client):
    mentee = MenteeProfileFactory(biography="Old bio", goals="Old goals")
    client.force_login(mentee.user)
    page = client.get("/me/mentee/")
    assert page.status_code == 200
    assert "Old bio" in page.text
    assert "Old goals" in page.text

    response = client.post("/me/mentee/", {"biography": "New bio", "goals": "New goals"})
    assert response.status_code == 302
    assert response["Location"] == "/me/mentee/"
    mentee.refresh_from_db()
    assert (mentee.biography, mentee.goals) == ("New bio", "New goals")
    assert "Your mentee profile was saved." in client.get("/me/mentee/").text


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_mentee_editor_sends_anonymous_to_login(client, method):
    response = send(client, method, "/me/mentee/", {"biography": "x", "goals": "y"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/me/mentee/"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_mentee_editor_without_a_profile_sends_to_become_a_mentee(client, method):
    client.force_login(UserFactory())
    response = send(client, method, "/me/mentee/", {"biography": "x", "goals": "y"})
    assert response.status_code == 302
    assert response["Location"] == "/become-a-mentee/"
    assert not MenteeProfile.objects.exists()


@pytest.mark.django_db
def test_mentee_editor_only_edits_your_own_profile(client):
    mine = MenteeProfileFactory(goals="Mine")
    theirs = MenteeProfileFactory(goals="Theirs")
    client.force_login(mine.user)
    client.post("/me/mentee/", {"biography": "", "goals": "Changed", "user": theirs.user_id})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.goals, theirs.goals) == ("Changed", "Theirs")
    assert mine.user_id != theirs.user_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"biography": "Fine", "goals": "g" * 2001}, "at most 2000 characters"),
        ({"biography": "b" * 5001, "goals": "Fine"}, "at most 5000 characters"),
        ({"biography": "Fine", "goals": "bad\x00byte"}, "Null characters are not allowed."),
    ],
    ids=["goals", "biography", "null character"],
)
def test_mentee_editor_refuses_bad_text(client, data, error):
    mentee = MenteeProfileFactory(biography="Before", goals="Before goals")
    client.force_login(mentee.user)
    response = client.post("/me/mentee/", data)
    assert response.status_code == 200
    assert NOTHING_SAVED in response.text
    assert error in response.text
    stored = MenteeProfile.objects.get(pk=mentee.pk)
    assert (stored.biography, stored.goals) == ("Before", "Before goals")


# --- The navbar follows the roles --------------------------------------------------------

BECOME_MENTOR = '<a class="nav-link" href="/become-a-mentor/">Become a mentor</a>'
BECOME_MENTEE = '<a class="dropdown-item" href="/become-a-mentee/">Become a mentee</a>'
MY_MENTEE_PROFILE = '<a class="dropdown-item" href="/me/mentee/">My mentee profile</a>'


@pytest.mark.django_db
def test_navbar_for_anonymous_offers_becoming_a_mentor(client):
    text = client.get("/").text
    assert BECOME_MENTOR in text
    assert "My mentor profile" not in text
    assert "My mentee profile" not in text


@pytest.mark.django_db
def test_navbar_for_a_user_without_roles_offers_both(client):
    client.force_login(UserFactory())
    text = client.get("/").text
    assert BECOME_MENTOR in text
    assert BECOME_MENTEE in text
    assert "My mentor profile" not in text
    assert "My mentee profile" not in text


@pytest.mark.django_db
def test_navbar_for_a_mentor_links_their_profile(owner_client, mentor):
    text = owner_client.get("/").text
    assert '<a class="nav-link" href="/mentors/ada-lovelace/edit/">My mentor profile</a>' in text
    assert 'href="/mentors/ada-lovelace/">My public mentor page</a>' in text
    assert "Become a mentor" not in text
    assert BECOME_MENTEE in text


@pytest.mark.django_db
def test_navbar_for_a_mentee_links_their_profile_in_the_account_menu(client):
    mentee = MenteeProfileFactory()
    client.force_login(mentee.user)
    text = client.get("/").text
    account_menu = text[text.index('aria-labelledby="account-menu"') :]
    assert MY_MENTEE_PROFILE in account_menu
    assert "Become a mentee" not in text
    assert BECOME_MENTOR in text


@pytest.mark.django_db
def test_navbar_for_someone_with_both_roles(client, mentor):
    MenteeProfileFactory(user=mentor.user)
    client.force_login(mentor.user)
    text = client.get("/mentors/").text
    assert "My mentor profile" in text
    assert MY_MENTEE_PROFILE in text
    assert "Become a mentor" not in text
    assert "Become a mentee" not in text
