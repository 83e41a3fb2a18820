"""The availability editor over HTTP: access, forms, messages, preview, query budgets.

Every form works as a plain POST (the page, or a redirect once saved) and
with htmx (``HX-Request``: the section it concerns, and the preview once
something was saved). The weekly hours' buttons edit the posted week
without saving (``action``); only Save stores it.
"""

import re
from datetime import UTC, date, datetime, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from scheduling import availability as services
from scheduling.models import Availability
from scheduling.tests.factories import mentor_without_hours
from scheduling.views.availability import describe_time_off

# Thursday 26 November 2026, 13:00 in Berlin.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NOTHING_SAVED = "Nothing was saved: please correct the fields marked below."
WEEK_NOT_SAVED = "Nothing was saved: please correct the fields marked above."  # under the week
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


def wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A naive wall-clock time (in the mentor's zone), as the time off services take."""
    return datetime.combine(date(year, month, day), time(hour, minute))


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
        data[f"day{day}-rows"] = str(len(rows))
        for index, (start, end) in enumerate(rows):
            data[f"day{day}-{index}-start"] = start
            data[f"day{day}-{index}-end"] = end
    data.update(extra)
    return data


def selected(html: str, name: str) -> str | None:
    """The value selected in the ``<select name=name>`` of ``html``; None if
    there is no such select."""
    match = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    if match is None:
        return None
    chosen = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', match.group(1))
    return chosen.group(1) if chosen else ""


def option_label(html: str, name: str, value: str) -> str:
    match = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert match, name
    option = re.search(rf'<option value="{re.escape(value)}"[^>]*>([^<]*)</option>', match.group(1))
    assert option, value
    return option.group(1)


def week_in(html: str) -> dict[int, list[tuple[str, str]]]:
    """The week a page (or the weekly section) shows: weekday → selected rows."""
    week = {}
    for day in range(7):
        count = int(re.search(rf'name="day{day}-rows" value="(\d+)"', html).group(1))
        week[day] = [
            (selected(html, f"day{day}-{index}-start"), selected(html, f"day{day}-{index}-end"))
            for index in range(count)
        ]
    return week


def htmx_post(client, url: str, data: dict):
    return client.post(url, data, HTTP_HX_REQUEST="true")


EDITS = {
    "toggle": {"action": "toggle:5"},
    "add": {"action": "add:0"},
    "remove": {"action": "remove:0:0"},
    "copy": {"action": "copy:0", "copy0-to": ["5", "6"]},
}


def editor_requests(mentor) -> list[tuple[str, str, dict]]:
    """Every editor URL with a method and a valid body, against existing rows."""
    services.set_date_override(mentor=mentor, day=WEDNESDAY, ranges=[])
    time_off = services.add_time_off(
        mentor=mentor,
        start=datetime.combine(date(2026, 12, 7), time(0)),
        end=datetime.combine(date(2026, 12, 8), time(0)),
    )
    base = editor_url(mentor)
    week = {0: [("10:00", "11:00")]}
    return [
        ("get", base, {}),
        ("post", base, weekly_data(week)),
        *[("post", base, weekly_data(week, **edit)) for edit in EDITS.values()],
        ("get", f"{base}preview/", {}),
        ("post", f"{base}overrides/", {"date": "2026-12-03", "kind": "off"}),
        ("post", f"{base}overrides/2026-12-02/remove/", {}),
        ("post", f"{base}time-off/", {"start_date": "2026-12-10", "end_date": "2026-12-11"}),
        ("post", f"{base}time-off/{time_off.pk}/remove/", {}),
    ]


# --- Access -------------------------------------------------------------------------------


REQUESTS = range(11)
HTMX = [pytest.param(False, id="plain"), pytest.param(True, id="htmx")]


def send(client, method: str, url: str, data: dict, htmx: bool):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return getattr(client, method)(url, data, **headers)


@pytest.mark.parametrize("htmx", HTMX)
@pytest.mark.parametrize("index", REQUESTS)
def test_owner_can_use_every_editor_url(client, mentor, index, htmx):
    method, url, data = editor_requests(mentor)[index]
    client.force_login(mentor.user)
    response = send(client, method, url, data, htmx)
    edits = data.get("action", "save") != "save"
    answered_in_place = method == "get" or edits or htmx
    assert response.status_code == (200 if answered_in_place else 302)


@pytest.mark.parametrize("htmx", HTMX)
@pytest.mark.parametrize("viewer", ["other", "staff"])
@pytest.mark.parametrize("index", REQUESTS)
def test_editor_urls_are_404_for_other_users_and_staff(client, mentor, viewer, index, htmx):
    method, url, data = editor_requests(mentor)[index]
    before = state(mentor)
    if viewer == "staff":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
    else:
        client.force_login(mentor_without_hours(zone="Europe/Berlin", buffer_minutes=None).user)
    response = send(client, method, url, data, htmx)
    assert response.status_code == 404
    assert state(mentor) == before


@pytest.mark.parametrize("index", REQUESTS)
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
    assert week_in(html) == {
        **{day: [("09:00", "12:00")] for day in range(5)},
        5: [],
        6: [],
    }
    # Saturday is off: its switch says so, and it has no rows.
    assert re.search(r'value="toggle:5" id="toggle-5" role="switch" aria-checked="false"', html)
    assert re.search(r'value="toggle:0" id="toggle-0" role="switch" aria-checked="true"', html)
    assert "Wednesday 2 December 2026" in html
    assert "14:00–15:00" in html
    # Not an <input type=time> (its format follows the browser): a list every 15 minutes.
    assert 'type="time"' not in html
    assert option_label(html, "day0-0-start", "23:45") == "23:45"
    # Nothing is ticked in the copy menus, and nothing is unsaved.
    assert 'name="copy0-to"' in html
    assert not re.search(r'name="copy\d-to" value="\d" id="[^"]*" checked', html)
    assert re.search(r'id="weekly-unsaved" hidden', html)


def test_summary_lines_group_consecutive_days_with_the_same_hours(owner_client, mentor):
    services.save_weekly_hours(
        mentor=mentor,
        weekly={
            **{day: [(time(9), time(12)), (time(14), time(17))] for day in range(5)},
            5: [(time(10), time(12))],
        },
    )
    html = owner_client.get(editor_url(mentor)).content.decode()
    lines = [
        " ".join(re.sub(r"<[^>]+>", " ", line).split())
        for line in re.findall(r'<summary class="week-group-summary">(.*?)</summary>', html, re.S)
    ]
    assert lines == ["Mon–Fri 09:00–12:00, 14:00–17:00", "Sat 10:00–12:00", "Sun Unavailable"]


def test_times_follow_the_readers_12_hour_clock(owner_client, mentor):
    mentor.user.time_format = "12"
    mentor.user.save(update_fields=["time_format"])
    services.save_weekly_hours(mentor=mentor, weekly={0: [(time(9), time(17))]})
    html = owner_client.get(editor_url(mentor)).content.decode()
    assert option_label(html, "day0-0-start", "09:00") == "9:00 AM"
    assert option_label(html, "day0-0-end", "17:00") == "5:00 PM"
    assert selected(html, "day0-0-end") == "17:00"  # the values stay "HH:MM"
    assert "Mon 9:00 AM–5:00 PM" in " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_time_off_the_15_minute_list_is_shown_and_kept(owner_client, mentor):
    services.save_weekly_hours(mentor=mentor, weekly={0: [(time(9, 5), time(11, 50))]})
    html = owner_client.get(editor_url(mentor)).content.decode()
    assert selected(html, "day0-0-start") == "09:05"
    assert selected(html, "day0-0-end") == "11:50"
    assert re.search(r'value="09:00">09:00</option>\s*<option value="09:05" selected', html)

    owner_client.post(editor_url(mentor), weekly_data({0: [("09:05", "11:50")]}))
    [row] = Availability.objects.filter(mentor=mentor)
    assert row.start == datetime(2026, 11, 30, 8, 5, tzinfo=UTC)


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


def test_weekly_hours_saved_in_place_refresh_the_preview(owner_client, mentor):
    response = htmx_post(owner_client, editor_url(mentor), weekly_data({5: [("10:00", "11:00")]}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith("<section") and 'id="weekly-hours"' in html
    assert "Your weekly hours were saved." in html
    assert re.search(r'id="weekly-unsaved" hidden', html)
    # The preview, swapped out of band: Saturday 28 November now has times.
    assert (
        'id="availability-preview" aria-labelledby="availability-preview-title" hx-swap-oob="true"'
        in html
    )
    assert 'data-day="2026-11-28"' in html
    assert 'data-day="2026-11-27"' not in html
    assert [row[-1] for row in state(mentor)] == ["RRULE:FREQ=WEEKLY;BYDAY=SA"]
    # No message waits for the next page: the section said it.
    assert "were saved" not in owner_client.get(editor_url(mentor)).content.decode()


@pytest.mark.parametrize("htmx", HTMX)
@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("12:00", "09:00")], "End after the start (12:00)."),
        ([("09:00", "12:00"), ("11:00", "13:00")], "Overlaps 09:00–12:00 on the same day."),
        ([("25:00", "26:00")], "Enter a valid time."),
        ([("09:00", "")], "Enter an end time as well."),
    ],
)
def test_bad_weekly_hours_save_nothing(owner_client, mentor, rows, message, htmx):
    data = weekly_data({0: rows, 1: [("08:00", "09:00")]})
    before = state(mentor)
    response = (
        htmx_post(owner_client, editor_url(mentor), data)
        if htmx
        else (owner_client.post(editor_url(mentor), data))
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert WEEK_NOT_SAVED in html
    assert state(mentor) == before
    assert ("<html" in html) is not htmx
    # The error is under its field, which points to it, is marked invalid and
    # takes the focus (the only autofocus of the weekly hours).
    error = re.search(
        r'<div class="invalid-feedback d-block" id="id_(day0-\d-(?:start|end))_error">'
        r"<div>([^<]*)</div>",
        html,
    )
    assert error and error.group(2) == message, html
    name = error.group(1)
    attributes = re.search(rf'<select name="{name}"([^>]*)>', html).group(1)
    assert f'aria-describedby="id_{name}_error"' in attributes
    assert 'aria-invalid="true"' in attributes
    assert "is-invalid" in attributes
    weekly = weekly_section(html)
    assert len(re.findall(r"\sautofocus\b", weekly)) == 1 and "autofocus" in attributes


def weekly_section(html: str) -> str:
    return html[
        html.index('id="weekly-hours"') : html.index("</section>", html.index('id="weekly-hours"'))
    ]


def post_edit(client, mentor, week, htmx=True, **edit):
    data = weekly_data(week, **edit)
    response = (
        htmx_post(client, editor_url(mentor), data)
        if htmx
        else (client.post(editor_url(mentor), data))
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("htmx", HTMX)
def test_edits_are_shown_unsaved(owner_client, mentor, htmx):
    before = state(mentor)
    week = {0: [("09:00", "12:00")], 1: [("09:00", "12:00")]}
    html = post_edit(owner_client, mentor, week, htmx, action="add:0")
    assert ("<html" in html) is not htmx
    assert week_in(html)[0] == [("09:00", "12:00"), ("13:00", "14:00")]
    assert "A range was added to Monday." in html
    assert 'id="weekly-unsaved">' in html  # shown
    assert 'name="dirty" value="1"' in html
    assert "hx-swap-oob" not in html  # the preview shows saved hours only
    assert state(mentor) == before


def test_add_range_starts_the_day_at_9_to_17_and_stops_at_six(owner_client, mentor):
    html = post_edit(owner_client, mentor, {}, action="add:3")
    assert week_in(html)[3] == [("09:00", "17:00")]
    six = [(f"{hour:02d}:00", f"{hour:02d}:30") for hour in range(8, 14)]
    html = post_edit(owner_client, mentor, {3: six}, action="add:3")
    assert week_in(html)[3] == six
    assert 'value="add:3"' not in html
    # Past 23:00 there is no hour left to suggest: a blank row to fill in.
    html = post_edit(owner_client, mentor, {3: [("20:00", "23:30")]}, action="add:3")
    assert week_in(html)[3] == [("20:00", "23:30"), ("", "")]


def test_remove_a_range(owner_client, mentor):
    week = {0: [("09:00", "12:00"), ("14:00", "17:00")]}
    html = post_edit(owner_client, mentor, week, action="remove:0:0")
    assert week_in(html)[0] == [("14:00", "17:00")]
    assert "A range was removed from Monday." in html
    html = post_edit(owner_client, mentor, {0: [("14:00", "17:00")]}, action="remove:0:0")
    assert week_in(html)[0] == []
    assert re.search(r'id="toggle-0" role="switch" aria-checked="false" autofocus', html)


def test_turn_a_day_off_and_on(owner_client, mentor):
    week = {0: [("09:00", "12:00")], 5: []}
    html = post_edit(owner_client, mentor, week, action="toggle:0")
    assert week_in(html)[0] == []
    assert "Monday turned off." in html
    html = post_edit(owner_client, mentor, week, action="toggle:5")
    assert week_in(html)[5] == [("09:00", "17:00")]
    assert re.search(r'id="toggle-5" role="switch" aria-checked="true" autofocus', html)


@pytest.mark.parametrize("htmx", HTMX)
def test_copy_a_day_to_the_chosen_days_then_undo(owner_client, mentor, htmx):
    before = state(mentor)
    week = {
        0: [("08:00", "10:00"), ("13:00", "15:00")],
        1: [("09:00", "12:00")],
        2: [("09:00", "12:00")],
    }
    html = post_edit(owner_client, mentor, week, htmx, action="copy:0", **{"copy0-to": ["2", "5"]})
    assert "Copied Monday&#x27;s hours to Wednesday and Saturday." in html
    shown = week_in(html)
    assert shown[2] == shown[5] == [("08:00", "10:00"), ("13:00", "15:00")]
    assert shown[1] == [("09:00", "12:00")]  # not chosen, not changed
    assert shown[6] == []
    assert state(mentor) == before
    assert re.search(r'name="action" value="undo" id="weekly-undo" autofocus', html)
    # The menus come back with nothing ticked.
    assert not re.search(r'type="checkbox" name="copy\d-to"[^>]*checked', html)

    # Undo puts back the days the copy replaced, and keeps what changed since.
    undo = re.search(r'name="undo" value="([^"]*)"', html).group(1).replace("&amp;", "&")
    edited = {**shown, 0: [("07:00", "08:00")]}
    html = post_edit(owner_client, mentor, edited, htmx, action="undo", undo=undo, undo_source="0")
    assert "The copy was undone." in html
    assert week_in(html) == {**week, 0: [("07:00", "08:00")], 3: [], 4: [], 5: [], 6: []}
    assert 'name="undo"' not in html
    assert state(mentor) == before


def test_copy_with_no_day_chosen_copies_nothing_and_says_so(owner_client, mentor):
    week = {0: [("09:00", "12:00")], 5: [("10:00", "11:00")]}
    html = post_edit(owner_client, mentor, week, action="copy:5")
    assert week_in(html) == {
        0: [("09:00", "12:00")],
        1: [],
        2: [],
        3: [],
        4: [],
        5: [("10:00", "11:00")],
        6: [],
    }
    assert "Choose the days to copy Saturday&#x27;s hours to." in html
    # Beside the menu, which stays open with its first day focused.
    assert 'id="copy-menu-5" open' in html
    assert 'aria-describedby="copy5-error"' in html
    assert re.search(r'id="copy5-to-0" autofocus', html)


def test_a_copy_ignores_the_source_and_unknown_days(owner_client, mentor):
    week = {0: [("09:00", "12:00")]}
    html = post_edit(
        owner_client, mentor, week, action="copy:0", **{"copy0-to": ["0", "9", "x", "3"]}
    )
    assert "Copied Monday&#x27;s hours to Thursday." in html
    assert week_in(html)[3] == [("09:00", "12:00")]


@pytest.mark.parametrize(
    "action", ["copy", "add:9", "remove:1", "remove:1:6", "toggle:x", "explode:1", "save:1"]
)
def test_a_malformed_action_shows_the_week_again_and_saves_nothing(owner_client, mentor, action):
    before = state(mentor)
    week = {4: [("10:00", "11:00")]}
    html = post_edit(owner_client, mentor, week, htmx=False, action=action)
    assert week_in(html)[4] == [("10:00", "11:00")]
    assert state(mentor) == before


def test_no_action_is_a_save(owner_client, mentor):
    response = owner_client.post(editor_url(mentor), weekly_data({4: [("10:00", "11:00")]}))
    assert response.status_code == 302
    assert [row[-1] for row in state(mentor)] == ["RRULE:FREQ=WEEKLY;BYDAY=FR"]


def test_a_post_without_row_counts_reads_the_rows_it_has(owner_client, mentor):
    response = owner_client.post(
        editor_url(mentor), {"day2-0-start": "10:00", "day2-0-end": "11:00"}
    )
    assert response.status_code == 302
    assert [row[-1] for row in state(mentor)] == ["RRULE:FREQ=WEEKLY;BYDAY=WE"]


# --- Date overrides -----------------------------------------------------------------------


def test_day_off_added_and_removed(owner_client, mentor):
    url = f"{editor_url(mentor)}overrides/"
    response = owner_client.post(url, {"date": "2026-12-02", "kind": "off"}, follow=True)
    assert "Wednesday 2 December 2026 is now a day off." in response.content.decode()
    assert [o.day for o in services.date_overrides(Availability.objects.all())] == [WEDNESDAY]

    response = owner_client.post(f"{url}2026-12-02/remove/", follow=True)
    assert "Wednesday 2 December 2026 has its weekly hours back." in response.content.decode()
    assert services.date_overrides(Availability.objects.all()) == []


def test_day_off_added_and_removed_in_place(owner_client, mentor):
    url = f"{editor_url(mentor)}overrides/"
    html = htmx_post(owner_client, url, {"date": "2026-12-02", "kind": "off"}).content.decode()
    assert html.lstrip().startswith("<section") and 'id="date-overrides"' in html
    assert "Wednesday 2 December 2026 is now a day off." in html
    assert 'data-override="2026-12-02"' in html
    assert 'hx-post="/mentors/' in html and "/overrides/2026-12-02/remove/" in html
    # The preview comes along, without that Wednesday.
    assert 'hx-swap-oob="true"' in html
    assert 'data-day="2026-12-01"' in html and 'data-day="2026-12-02"' not in html

    html = htmx_post(owner_client, f"{url}2026-12-02/remove/", {}).content.decode()
    assert "Wednesday 2 December 2026 has its weekly hours back." in html
    assert 'data-override="2026-12-02"' not in html
    assert 'data-day="2026-12-02"' in html
    assert services.date_overrides(Availability.objects.all()) == []
    # Nothing left over for the next page.
    assert "has its weekly hours back" not in owner_client.get(editor_url(mentor)).content.decode()


def test_bad_override_in_place_keeps_the_form_open_with_the_error(owner_client, mentor):
    before = state(mentor)
    html = htmx_post(
        owner_client,
        f"{editor_url(mentor)}overrides/",
        {"date": "2026-12-02", "kind": "hours", "start_0": "16:00", "end_0": "14:00"},
    ).content.decode()
    assert NOTHING_SAVED in html
    assert "hx-swap-oob" not in html
    assert '<details class="add-form" open data-keep-open>' in html
    attributes = re.search(r'<select name="end_0"([^>]*)>', html).group(1)
    assert 'aria-invalid="true"' in attributes and "autofocus" in attributes
    assert 'id="id_end_0_error"><div>End after the start (16:00).' in html
    assert state(mentor) == before


def test_past_overrides_are_not_listed(owner_client, mentor, time_machine):
    services.set_date_override(mentor=mentor, day=date(2026, 11, 27), ranges=[])
    services.set_date_override(mentor=mentor, day=WEDNESDAY, ranges=[])
    html = owner_client.get(editor_url(mentor)).content.decode()
    assert 'data-override="2026-11-27"' in html and 'data-override="2026-12-02"' in html
    time_machine.move_to(datetime(2026, 11, 28, 12, 0, tzinfo=UTC), tick=False)
    owner_client.force_login(mentor.user)  # the session has lapsed meanwhile
    html = owner_client.get(editor_url(mentor)).content.decode()
    assert 'data-override="2026-11-27"' not in html
    assert 'data-override="2026-12-02"' in html


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
    assert (
        "Time off added: Tue 1 Dec, 10:00 until the end of Thu 3 Dec 2026 (Europe/Berlin)." in html
    )
    row = Availability.objects.get(mentor=mentor, kind=Availability.Kind.BLOCKED)
    assert row.start == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert row.end == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    item = re.search(rf'data-time-off="{row.pk}">\s*<span>([^<]*)</span>', html).group(1)
    assert item == "Tue 1 Dec, 10:00 until the end of Thu 3 Dec 2026"

    response = owner_client.post(f"{url}{row.pk}/remove/", follow=True)
    assert "The time off was removed." in response.content.decode()
    assert not Availability.objects.filter(pk=row.pk).exists()


def test_time_off_until_a_date_lasts_through_that_date(owner_client, mentor):
    """“Until 24 Dec” is through the end of 24 December, and reads so: never “25 Dec 00:00”."""
    url = f"{editor_url(mentor)}time-off/"
    html = htmx_post(
        owner_client, url, {"start_date": "2026-12-21", "end_date": "2026-12-24"}
    ).content.decode()
    row = Availability.objects.get(mentor=mentor, kind=Availability.Kind.BLOCKED)
    assert row.start == datetime(2026, 12, 20, 23, 0, tzinfo=UTC)  # 21 Dec 00:00 in Berlin
    assert row.end == datetime(2026, 12, 24, 23, 0, tzinfo=UTC)  # 25 Dec 00:00 in Berlin
    assert "Time off added: Mon 21 Dec – Thu 24 Dec 2026 (Europe/Berlin)." in html
    item = re.search(rf'data-time-off="{row.pk}">\s*<span>([^<]*)</span>', html).group(1)
    assert item == "Mon 21 Dec – Thu 24 Dec 2026"
    assert "25 Dec" not in html
    # In place: the section and the preview (the first week is still bookable).
    assert html.lstrip().startswith("<section") and 'id="time-off"' in html
    assert 'hx-swap-oob="true"' in html


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (wall(2026, 12, 24), wall(2026, 12, 25), "Thu 24 Dec 2026, all day"),
        (wall(2026, 12, 1), wall(2026, 12, 25), "Tue 1 Dec – Thu 24 Dec 2026"),
        (wall(2026, 12, 28), wall(2027, 1, 5), "Mon 28 Dec 2026 – Mon 4 Jan 2027"),
        (wall(2026, 12, 24, 10), wall(2026, 12, 24, 14), "Thu 24 Dec 2026, 10:00–14:00"),
        (
            wall(2026, 12, 1, 10),
            wall(2026, 12, 4),
            "Tue 1 Dec, 10:00 until the end of Thu 3 Dec 2026",
        ),
        (wall(2026, 12, 1), wall(2026, 12, 3, 14), "Tue 1 Dec until Thu 3 Dec 2026, 14:00"),
        (
            wall(2026, 12, 31, 22),
            wall(2027, 1, 1, 2),
            "Thu 31 Dec 2026, 22:00 until Fri 1 Jan 2027, 02:00",
        ),
    ],
)
def test_time_off_reads_as_a_person_reads_it(start, end, shown):
    assert describe_time_off(start, end) == shown


def test_time_off_list_leaves_out_what_is_over(owner_client, mentor):
    ended = services.add_time_off(
        mentor=mentor, start=wall(2026, 11, 26, 13, 30), end=wall(2026, 11, 26, 14, 0)
    )
    ongoing = services.add_time_off(
        mentor=mentor, start=wall(2026, 11, 26, 13, 0), end=wall(2026, 11, 28, 0, 0)
    )
    coming = services.add_time_off(
        mentor=mentor, start=wall(2026, 12, 24, 0, 0), end=wall(2026, 12, 25, 0, 0)
    )
    Availability.objects.filter(pk=ended.pk).update(
        start=datetime(2026, 11, 25, 8, 0, tzinfo=UTC), end=datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    )
    html = owner_client.get(editor_url(mentor)).content.decode()
    assert f'data-time-off="{ended.pk}"' not in html
    assert f'data-time-off="{ongoing.pk}"' in html
    assert f'data-time-off="{coming.pk}"' in html
    assert "Thu 24 Dec 2026, all day" in html


def test_time_off_removed_in_place(owner_client, mentor):
    row = services.add_time_off(
        mentor=mentor, start=wall(2026, 11, 27, 0, 0), end=wall(2026, 11, 28, 0, 0)
    )
    html = htmx_post(
        owner_client, f"{editor_url(mentor)}time-off/{row.pk}/remove/", {}
    ).content.decode()
    assert "The time off was removed." in html
    assert "No time off coming up." in html
    assert 'data-day="2026-11-27"' in html  # the preview has Friday back
    assert not Availability.objects.filter(pk=row.pk).exists()


def test_time_off_times_are_lists_not_browser_time_inputs(owner_client, mentor):
    html = owner_client.get(editor_url(mentor)).content.decode()
    assert option_label(html, "start_time", "") == "Start of the day"
    assert option_label(html, "end_time", "") == "End of the day"
    assert option_label(html, "end_time", "17:30") == "17:30"


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
