"""The back office for sessions, session types, availability and busy times.

Sessions are looked at in the admin and changed only through the cancel
action, which goes through ``cancel_session``; the other models' edits mark
the cached public pages stale.
"""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import messages_of, result_rows
from core.cache import profiles_version, versions
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.models import Availability, BusyInterval, Session, SessionType

from .factories import (
    AvailabilityFactory,
    BusyIntervalFactory,
    SessionFactory,
    SessionTypeFactory,
)

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/scheduling/session/"
SESSION_TYPES = "/admin/scheduling/sessiontype/"
AVAILABILITY = "/admin/scheduling/availability/"
BUSY = "/admin/scheduling/busyinterval/"


def titles(response) -> set[str]:
    return {
        re.search(r'<th class="field-title"><a [^>]*>([^<]+)</a>', row).group(1)
        for row in result_rows(response)
    }


def soon(**delta) -> datetime:
    """``now`` moved by ``delta``, on a whole minute."""
    return (timezone.now() + timedelta(**delta)).replace(second=0, microsecond=0)


def row(session) -> dict:
    """The session's row as stored, to assert that a refusal changed nothing."""
    return Session.objects.filter(pk=session.pk).values().get()


@pytest.fixture
def people(db):
    return {
        "ada": MentorProfileFactory(
            slug="ada-lovelace", user=UserFactory(name="Ada Lovelace", email="ada@example.com")
        ),
        "grace": MentorProfileFactory(
            slug="grace-hopper", user=UserFactory(name="Grace Hopper", email="grace@example.com")
        ),
        "mia": MenteeProfileFactory(user=UserFactory(name="Mia Mentee", email="mia@example.com")),
        "noor": MenteeProfileFactory(
            user=UserFactory(name="Noor Learner", email="noor@example.com")
        ),
    }


@pytest.fixture
def sessions(people):
    """Four sessions, each with a title of its own to find it by."""
    ada, grace, mia, noor = people["ada"], people["grace"], people["mia"], people["noor"]
    return {
        "soon": SessionFactory(
            mentor=ada,
            mentee=mia,
            title="Soon",
            start=soon(days=3),
            topic="Moving into data engineering",
        ),
        "later": SessionFactory(mentor=grace, mentee=noor, title="Later", start=soon(days=20)),
        "past": SessionFactory(
            mentor=ada,
            mentee=noor,
            title="Past",
            start=soon(days=-5),
            status=Session.Status.COMPLETED,
        ),
        "called_off": SessionFactory(
            mentor=grace,
            mentee=mia,
            title="Called off",
            start=soon(days=10),
            status=Session.Status.CANCELLED,
            cancelled_at=soon(days=-1),
            cancelled_by=mia.user,
            cancellation_reason="Found another mentor",
        ),
    }


# --- Who gets in ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [SESSIONS, SESSION_TYPES, AVAILABILITY, BUSY])
def test_anonymous_visitors_are_sent_to_sign_in(client, sessions, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("url", [SESSIONS, SESSION_TYPES, AVAILABILITY, BUSY])
def test_non_staff_are_sent_to_sign_in(client, sessions, url):
    client.force_login(sessions["soon"].mentor.user)
    response = client.get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert "Soon" not in response.text


def test_non_staff_cannot_see_a_session_page(client, sessions):
    client.force_login(sessions["soon"].mentee.user)
    response = client.get(f"{SESSIONS}{sessions['soon'].pk}/change/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- The session changelist ---------------------------------------------------------------


def test_changelist_lists_sessions_with_mentor_and_mentee(staff_client, sessions):
    response = staff_client.get(SESSIONS)
    assert titles(response) == {"Soon", "Later", "Past", "Called off"}
    soon_row = next(row for row in result_rows(response) if ">Soon</a>" in row)
    assert "Ada Lovelace" in soon_row
    assert "Mia Mentee" in soon_row
    assert "Upcoming" in soon_row
    # Times in the staff member's zone (Europe/Berlin), saying which.
    start = timezone.localtime(sessions["soon"].start, ZoneInfo("Europe/Berlin"))
    assert f"{start:%H:%M} {start.tzname()}" in soon_row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status__exact=cancelled", {"Called off"}),
        ("status__exact=completed", {"Past"}),
        ("when=upcoming", {"Soon", "Later", "Called off"}),
        ("when=next_7_days", {"Soon"}),
        ("when=past", {"Past"}),
        ("when=upcoming&status__exact=upcoming", {"Soon", "Later"}),
    ],
)
def test_changelist_filters_by_status_and_time(staff_client, sessions, query, expected):
    assert titles(staff_client.get(f"{SESSIONS}?{query}")) == expected


def test_the_today_filter_uses_the_staff_members_day(staff_client, staff, sessions):
    """Staff sign in with Europe/Berlin: "today" is that calendar day there."""
    assert staff.timezone == "Europe/Berlin"
    berlin_noon = timezone.localtime(timezone=ZoneInfo("Europe/Berlin")).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    SessionFactory(title="Today", start=berlin_noon)
    SessionFactory(title="Tomorrow", start=berlin_noon + timedelta(days=1))
    SessionFactory(title="Yesterday", start=berlin_noon - timedelta(days=1))
    assert titles(staff_client.get(f"{SESSIONS}?when=today")) == {"Today"}


def test_changelist_filters_by_mentor(staff_client, sessions, people):
    response = staff_client.get(SESSIONS)
    # The filter offers the mentors that have sessions, by name.
    assert f"?mentor__id__exact={people['ada'].pk}" in response.text
    assert ">Ada Lovelace</a>" in response.text
    assert ">Grace Hopper</a>" in response.text
    MentorProfileFactory(user=UserFactory(name="Idle Mentor"))
    assert ">Idle Mentor</a>" not in staff_client.get(SESSIONS).text

    response = staff_client.get(f"{SESSIONS}?mentor__id__exact={people['ada'].pk}")
    assert titles(response) == {"Soon", "Past"}


def test_changelist_has_a_date_hierarchy(staff_client, staff, sessions):
    # The hierarchy's days are the viewer's (the middleware activates the
    # staff member's zone): from 22:00 or 23:00 UTC, Berlin is a day ahead.
    later = sessions["later"].start.astimezone(ZoneInfo(staff.timezone))
    assert "start__year=" in staff_client.get(SESSIONS).text
    response = staff_client.get(
        f"{SESSIONS}?start__year={later.year}&start__month={later.month}&start__day={later.day}"
    )
    assert "Later" in titles(response)
    assert "Past" not in titles(response)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Lovelace", {"Soon", "Past"}),  # mentor name
        ("grace@example.com", {"Later", "Called off"}),  # mentor email
        ("Noor", {"Later", "Past"}),  # mentee name
        ("MIA@EXAMPLE", {"Soon", "Called off"}),  # mentee email, any case
        ("data engineering", {"Soon"}),  # topic
    ],
)
def test_changelist_searches_names_emails_and_topic(staff_client, sessions, q, expected):
    assert titles(staff_client.get(SESSIONS, {"q": q})) == expected


# Session, user, the mentor filter's mentors with their users, the filtered
# count, the full count, the page of sessions with mentors, mentees and their
# users, and the date hierarchy's first/last start and dates: the same for 1
# and 50 (Django's own mentor filter would add a query per mentor).
SESSION_CHANGELIST_QUERIES = 8


@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize(
    "params",
    ["", "?status__exact=upcoming", "?when=upcoming", "?q=person", "?o=3"],
    ids=["all", "status", "when", "search", "sorted-by-mentor"],
)
def test_session_changelist_query_budget(
    staff_client, django_assert_max_num_queries, count, params
):
    # Each session with a mentor and a mentee of its own: the mentor filter
    # lists 50 mentors, the rows 100 names.
    for number in range(count):
        SessionFactory(start=soon(days=1, hours=2 * number))
    with django_assert_max_num_queries(SESSION_CHANGELIST_QUERIES):
        response = staff_client.get(f"{SESSIONS}{params}")
    assert len(result_rows(response)) == count


# --- The session page -----------------------------------------------------------------------


def test_session_page_shows_everything_read_only(staff_client, sessions):
    called_off = sessions["called_off"]
    response = staff_client.get(f"{SESSIONS}{called_off.pk}/change/")
    assert response.status_code == 200
    text = response.text
    for shown in ("Found another mentor", "Mia Mentee", "Grace Hopper", called_off.ical_uid):
        assert shown in text
    # Nothing to type into and nothing to save: sessions change through services.
    assert not re.search(r'<(input|textarea|select)[^>]*name="(?!csrfmiddlewaretoken)', text)
    assert 'name="_save"' not in text
    assert 'name="_continue"' not in text


def test_session_page_links_a_reschedule_both_ways(staff_client, sessions):
    old = sessions["called_off"]
    new = SessionFactory(
        mentor=old.mentor,
        mentee=old.mentee,
        title="Moved",
        start=soon(days=11),
        rescheduled_from=old,
    )
    response = staff_client.get(f"{SESSIONS}{old.pk}/change/")
    assert re.search(
        rf'Rescheduled to:</label>\s*<div class="readonly"><a href="{SESSIONS}{new.pk}/change/">',
        response.text,
    )
    response = staff_client.get(f"{SESSIONS}{new.pk}/change/")
    assert f"{SESSIONS}{old.pk}/change/" in response.text


def test_sessions_cannot_be_added_changed_or_deleted(staff_client, sessions):
    soon_session = sessions["soon"]
    before = row(soon_session)
    assert staff_client.get(f"{SESSIONS}add/").status_code == 403
    assert staff_client.post(f"{SESSIONS}add/", {"title": "Made up"}).status_code == 403
    assert staff_client.get(f"{SESSIONS}{soon_session.pk}/delete/").status_code == 403
    assert (
        staff_client.post(f"{SESSIONS}{soon_session.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    response = staff_client.post(
        f"{SESSIONS}{soon_session.pk}/change/", {"status": "cancelled", "_save": "Save"}
    )
    assert response.status_code == 403
    assert row(soon_session) == before
    assert Session.objects.count() == 4


def test_delete_is_not_an_action(staff_client, sessions):
    response = staff_client.get(SESSIONS)
    assert 'value="cancel_sessions"' in response.text
    assert "delete_selected" not in response.text
    before = {session.pk: row(session) for session in sessions.values()}
    response = staff_client.post(
        SESSIONS,
        {
            "action": "delete_selected",
            "_selected_action": [str(pk) for pk in before],
            "post": "yes",
        },
    )
    assert {session.pk: row(session) for session in sessions.values()} == before


# --- The cancel action --------------------------------------------------------------------


def cancel_action(client, selected, **data):
    """The changelist's action POST; with ``apply``, the confirmation page's."""
    return client.post(
        SESSIONS,
        {
            "action": "cancel_sessions",
            "_selected_action": [str(session.pk) for session in selected],
            **data,
        },
    )


def test_cancel_asks_for_a_reason_first_and_changes_nothing(staff_client, sessions):
    selected = [sessions["soon"], sessions["later"]]
    before = [row(session) for session in selected]
    response = cancel_action(staff_client, selected)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/scheduling/session/cancel_confirmation.html"
    text = response.text
    assert "Cancel these 2 sessions?" in text
    assert "Soon" in text and "Later" in text
    assert "Ada Lovelace with Mia Mentee" in text
    assert 'name="reason"' in text
    assert 'name="apply"' in text
    for session in selected:
        assert f'name="_selected_action" value="{session.pk}"' in text
    assert "<script>" not in text and "style=" not in text  # the CSP allows neither
    assert [row(session) for session in selected] == before


def test_cancel_goes_through_the_service(
    staff_client, staff, sessions, django_capture_on_commit_callbacks
):
    selected = [sessions["soon"], sessions["later"]]
    before = versions()
    with django_capture_on_commit_callbacks(execute=True):
        response = cancel_action(
            staff_client, selected, apply="yes", reason="  Mentor is ill this month  "
        )
    assert response.status_code == 302
    assert response["Location"] == SESSIONS
    assert messages_of(response) == ["Cancelled 2 sessions."]
    for session in selected:
        session.refresh_from_db()
        assert session.status == Session.Status.CANCELLED
        assert session.cancelled_by == staff
        assert session.cancellation_reason == "Mentor is ill this month"
        assert session.cancelled_at is not None
        assert timezone.now() - session.cancelled_at < timedelta(minutes=1)
    # The times are offered again on the public pages; the profiles did not change.
    assert versions().times > before.times
    assert versions().profiles == before.profiles


def test_cancel_refuses_started_and_cancelled_sessions_and_says_why(
    staff_client, staff, sessions, people
):
    started = SessionFactory(
        mentor=people["ada"],
        mentee=people["mia"],
        title="Started",
        start=soon(minutes=-10),
        duration_minutes=60,
        end=soon(minutes=50),
    )
    called_off = sessions["called_off"]
    unchanged = {started.pk: row(started), called_off.pk: row(called_off)}
    response = cancel_action(
        staff_client, [started, called_off, sessions["soon"]], apply="yes", reason="Clean-up"
    )
    assert response.status_code == 302
    shown = messages_of(response)
    assert "Cancelled 1 session." in shown
    refusals = [message for message in shown if message.startswith("Not cancelled")]
    assert len(refusals) == 2
    started_message = next(message for message in refusals if "“Started”" in message)
    assert "in progress" in started_message
    assert "Ada Lovelace with Mia Mentee" in started_message
    assert "can no longer be cancelled" in started_message
    called_off_message = next(message for message in refusals if "“Called off”" in message)
    assert "cancelled" in called_off_message
    assert "can no longer be cancelled" in called_off_message

    assert {pk: row(Session(pk=pk)) for pk in unchanged} == unchanged
    called_off.refresh_from_db()
    assert called_off.cancelled_by == people["mia"].user
    assert called_off.cancellation_reason == "Found another mentor"
    sessions["soon"].refresh_from_db()
    assert sessions["soon"].status == Session.Status.CANCELLED
    assert sessions["soon"].cancelled_by == staff


def test_cancel_with_nothing_cancellable_reports_only_refusals(staff_client, sessions):
    response = cancel_action(staff_client, [sessions["past"]], apply="yes", reason="Clean-up")
    assert response.status_code == 302
    shown = messages_of(response)
    assert len(shown) == 1
    assert shown[0].startswith("Not cancelled: “Past”")
    assert row(sessions["past"])["status"] == Session.Status.COMPLETED


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("", "This field is required."),
        ("   \n ", "This field is required."),
        ("x" * 1001, "Ensure this value has at most 1000 characters (it has 1001)."),
    ],
    ids=["empty", "blank", "too-long"],
)
def test_cancel_without_a_valid_reason_shows_the_form_again(staff_client, sessions, reason, error):
    selected = [sessions["soon"], sessions["later"]]
    before = [row(session) for session in selected]
    response = cancel_action(staff_client, selected, apply="yes", reason=reason)
    assert response.status_code == 200
    assert error in response.text
    assert "Please give a reason for the cancellation." in response.text
    assert 'name="reason"' in response.text
    for session in selected:
        assert f'name="_selected_action" value="{session.pk}"' in response.text
    assert [row(session) for session in selected] == before
    assert not [message for message in messages_of(response) if "Cancelled" in message]


def test_cancel_keeps_the_changelist_filters(staff_client, sessions):
    response = staff_client.post(
        f"{SESSIONS}?status__exact=upcoming",
        {
            "action": "cancel_sessions",
            "_selected_action": [str(sessions["soon"].pk)],
            "apply": "yes",
            "reason": "Clean-up",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{SESSIONS}?status__exact=upcoming"


def test_staff_who_may_only_view_sessions_cannot_cancel(client, sessions):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(content_type__app_label="scheduling", codename="view_session")
    )
    client.force_login(viewer)
    response = client.get(SESSIONS)
    assert titles(response) == {"Soon", "Later", "Past", "Called off"}
    assert "cancel_sessions" not in response.text
    before = row(sessions["soon"])
    cancel_action(client, [sessions["soon"]], apply="yes", reason="Not allowed")
    assert row(sessions["soon"]) == before


# --- Session types, availability and busy times ------------------------------------------------


@pytest.fixture
def mentor_rows(people):
    ada, grace = people["ada"], people["grace"]
    return {
        "intro": SessionTypeFactory(mentor=ada, name="Intro call", slug="intro-call"),
        "deep": SessionTypeFactory(
            mentor=grace, name="Deep dive", slug="deep-dive", duration_minutes=60, is_active=False
        ),
        "window": AvailabilityFactory(mentor=ada, start=soon(days=2), recurrence=""),
        "blocked": AvailabilityFactory(
            mentor=grace, kind=Availability.Kind.BLOCKED, start=soon(days=4)
        ),
        "busy": BusyIntervalFactory(mentor=grace, start=soon(days=3), source="Google"),
    }


def test_session_type_changelist_filters_and_searches(staff_client, mentor_rows):
    response = staff_client.get(SESSION_TYPES)
    assert len(result_rows(response)) == 2
    response = staff_client.get(f"{SESSION_TYPES}?is_active__exact=0")
    rows = result_rows(response)
    assert len(rows) == 1
    assert "Deep dive" in rows[0]
    response = staff_client.get(SESSION_TYPES, {"q": "ada@example.com"})
    rows = result_rows(response)
    assert len(rows) == 1
    assert "Intro call" in rows[0]
    assert "Ada Lovelace" in rows[0]


def test_session_type_edit_shows_on_the_public_pages_at_once(
    staff_client, mentor_rows, django_capture_on_commit_callbacks
):
    intro = mentor_rows["intro"]
    response = staff_client.get(f"{SESSION_TYPES}{intro.pk}/change/")
    assert response.status_code == 200
    assert 'name="slug"' not in response.text  # links name the type by its slug
    version = profiles_version()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"{SESSION_TYPES}{intro.pk}/change/",
            {"name": "First chat", "duration_minutes": "45", "description": "", "_save": "Save"},
        )
    assert response.status_code == 302, response.text[:3000]
    intro.refresh_from_db()
    assert (intro.name, intro.slug, intro.duration_minutes, intro.is_active) == (
        "First chat",
        "intro-call",
        45,
        False,
    )
    assert profiles_version() > version


def test_session_type_admin_keeps_the_duration_rules(staff_client, mentor_rows):
    intro = mentor_rows["intro"]
    response = staff_client.post(
        f"{SESSION_TYPES}{intro.pk}/change/",
        {"name": "Odd", "duration_minutes": "47", "is_active": "on", "_save": "Save"},
    )
    assert response.status_code == 200
    assert "Use a multiple of 5 minutes." in response.text
    intro.refresh_from_db()
    assert intro.name == "Intro call"


def test_session_types_are_switched_off_not_deleted(staff_client, mentor_rows):
    intro = mentor_rows["intro"]
    assert staff_client.get(f"{SESSION_TYPES}{intro.pk}/delete/").status_code == 403
    assert "delete_selected" not in staff_client.get(SESSION_TYPES).text
    assert SessionType.objects.filter(pk=intro.pk).exists()


def test_session_type_add_page_uses_autocomplete_for_the_mentor(staff_client, mentor_rows):
    response = staff_client.get(f"{SESSION_TYPES}add/")
    assert response.status_code == 200
    assert "admin-autocomplete" in response.text
    # The mentor select does not list every mentor (there can be thousands).
    assert "Grace Hopper" not in response.text


def test_availability_changelist_filters_and_searches(staff_client, mentor_rows):
    assert len(result_rows(staff_client.get(AVAILABILITY))) == 2
    rows = result_rows(staff_client.get(f"{AVAILABILITY}?kind__exact=blocked"))
    assert len(rows) == 1
    assert "Grace Hopper" in rows[0]
    rows = result_rows(staff_client.get(AVAILABILITY, {"q": "Lovelace"}))
    assert len(rows) == 1
    assert "Ada Lovelace" in rows[0]
    response = staff_client.get(f"{AVAILABILITY}{mentor_rows['window'].pk}/change/")
    assert response.status_code == 200


def availability_form(mentor, recurrence: str) -> dict:
    """The admin's add form for available time next Monday, 09:00-12:00 in
    Berlin, repeating by ``recurrence``."""
    today = timezone.localdate()
    monday = (today + timedelta(days=7 - today.weekday())).isoformat()
    return {
        "mentor": str(mentor.pk),
        "kind": "available",
        "timezone": "Europe/Berlin",
        "start_0": monday,
        "start_1": "09:00",
        "end_0": monday,
        "end_1": "12:00",
        "recurrence": recurrence,
        "_save": "Save",
    }


def test_availability_added_in_the_admin_marks_the_pages_stale(
    staff_client, people, django_capture_on_commit_callbacks
):
    version = profiles_version()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"{AVAILABILITY}add/", availability_form(people["ada"], "RRULE:FREQ=WEEKLY;BYDAY=MO")
        )
    assert response.status_code == 302, response.text[:3000]
    window = Availability.objects.get(mentor=people["ada"])
    assert window.recurrence == "RRULE:FREQ=WEEKLY;BYDAY=MO"
    assert profiles_version() > version


def test_availability_admin_refuses_a_bad_repeat_rule(staff_client, people):
    response = staff_client.post(
        f"{AVAILABILITY}add/", availability_form(people["ada"], "RRULE:FREQ=SOMETIMES")
    )
    assert response.status_code == 200
    assert "This repeat rule is not valid" in response.text
    assert not Availability.objects.exists()


def test_busy_times_are_read_only_but_may_be_deleted(
    staff_client, mentor_rows, django_capture_on_commit_callbacks
):
    busy = mentor_rows["busy"]
    rows = result_rows(staff_client.get(BUSY, {"q": "grace"}))
    assert len(rows) == 1
    assert "Google" in rows[0]
    response = staff_client.get(f"{BUSY}{busy.pk}/change/")
    assert response.status_code == 200
    assert 'name="_save"' not in response.text
    assert staff_client.get(f"{BUSY}add/").status_code == 403
    version = profiles_version()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{BUSY}{busy.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not BusyInterval.objects.exists()
    assert profiles_version() > version


# Session, user, the filtered count, the full count and the page of rows
# with their mentors' users; busy times add the date hierarchy's first/last
# and dates. The same for 1 and 50.
@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize(
    ("url", "factory", "budget"),
    [
        (SESSION_TYPES, SessionTypeFactory, 5),
        (AVAILABILITY, AvailabilityFactory, 5),
        (BUSY, BusyIntervalFactory, 7),
    ],
    ids=["session-types", "availability", "busy"],
)
def test_mentor_rows_changelist_query_budget(
    staff_client, django_assert_max_num_queries, count, url, factory, budget
):
    factory.create_batch(count)
    with django_assert_max_num_queries(budget):
        response = staff_client.get(url)
    assert len(result_rows(response)) == count


def test_staff_see_held_times_and_filter_them(staff_client, sessions, people):
    """A visitor's hold (issue 16) is in the admin with its state and expiry."""
    held = SessionFactory(
        mentor=people["ada"],
        mentee=people["noor"],
        title="Held",
        start=soon(days=4),
        status=Session.Status.PENDING,
        hold_expires_at=soon(minutes=30),
    )
    lapsed = SessionFactory(
        mentor=people["grace"],
        mentee=people["mia"],
        title="Lapsed",
        start=soon(days=5),
        status=Session.Status.PENDING,
        hold_expires_at=soon(minutes=-1),
    )
    assert titles(staff_client.get(f"{SESSIONS}?status__exact=pending")) == {"Held", "Lapsed"}
    rows = {
        title: text
        for text in result_rows(staff_client.get(SESSIONS))
        for title in ["Held", "Lapsed"]
        if f">{title}<" in text
    }
    assert "Held, awaiting email confirmation" in rows["Held"]
    assert "Hold expired" in rows["Lapsed"]  # read from the clock
    detail = staff_client.get(f"{SESSIONS}{held.pk}/change/").content.decode()
    assert "Hold expires at" in detail
    assert lapsed.status_at(timezone.now()) == Session.Status.EXPIRED
