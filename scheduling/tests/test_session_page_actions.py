"""The session page's own actions: Join (from 10 minutes before the start to
the end), Add to Google Calendar, Book again, the link to the mentor's page,
and the card about the mentee that the mentor (and staff) see.

The clock is frozen at the factories' ``NOW`` (Monday 1 June 2026, 08:00 in
New York) when the session is booked, then moved around its start:
Tuesday 2 June 2026, 09:00-09:30 New York (13:00 UTC, 18:30 in Kolkata, where
the mentee reads times).
"""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from mentorship.models import MenteeProfile, MentorProfile
from scheduling.booking import cancel_session
from scheduling.lifecycle import mark_no_show
from scheduling.models import Session, SessionType

from .factories import NOW, TUESDAY_9, book

pytestmark = pytest.mark.django_db

SITE_URL = "https://mentorship.example.org"


@pytest.fixture(autouse=True)
def clock(time_machine, settings):
    """Freezes the clock at NOW; ``clock.move_to(moment)`` moves it (still frozen)."""
    settings.SITE_URL = SITE_URL
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def session(mentor, intro, mentee_user) -> Session:
    """Tuesday 09:00-09:30 New York, booked through the real service at NOW."""
    return book(mentee_user, mentor, intro, TUESDAY_9, topic="Career change")


def page_of(client, user, session) -> str:
    client.force_login(user)
    response = client.get(reverse("scheduling:session_detail", kwargs={"session_id": session.pk}))
    assert response.status_code == 200
    return response.text


def viewer_of(session, viewer: str):
    return {"mentee": session.mentee.user, "mentor": session.mentor.user}[viewer]


def join_link(session) -> str:
    return (
        f'<a class="btn btn-success" href="{session.meeting_url}" rel="noopener" '
        'target="_blank">Join the meeting</a>'
    )


def join_shown(page: str) -> bool:
    return 'id="join"' in page


def google_link(page: str) -> str | None:
    """The Add to Google Calendar link's address, unescaped, or None."""
    match = re.search(r'<a [^>]*href="(https://calendar\.google\.com/[^"]*)"[^>]*>', page)
    return html.unescape(match.group(1)) if match else None


def book_again_link(page: str) -> str | None:
    match = re.search(r'<a [^>]*href="([^"]*)"[^>]*>Book again</a>', page)
    return html.unescape(match.group(1)) if match else None


def details_list(page: str) -> str:
    start = page.index('<dl class="row mb-0">')
    return page[start : page.index("</dl>", start)]


# --- Join ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "opens_at"),
    # 10 minutes before 13:00 UTC, in the viewer's zone.
    [("mentee", "Join opens at 18:20 IST"), ("mentor", "Join opens at 08:50 EDT")],
)
def test_join_is_disabled_until_10_minutes_before_the_start(
    client, session, clock, viewer, opens_at
):
    clock.move_to(session.start - timedelta(minutes=11))
    page = page_of(client, viewer_of(session, viewer), session)

    assert f'<button class="btn btn-success" type="button" disabled>{opens_at}</button>' in page
    assert join_link(session) not in page
    # The meeting link itself is still on the page, as before.
    assert f'<a href="{session.meeting_url}" rel="noopener" target="_blank">' in page


@pytest.mark.parametrize("viewer", ["mentee", "mentor"])
@pytest.mark.parametrize(
    "offset",
    [timedelta(minutes=-10), timedelta(minutes=-1), timedelta(0), timedelta(minutes=29)],
    ids=["10 minutes before", "1 minute before", "at the start", "1 minute before the end"],
)
def test_join_is_a_link_from_10_minutes_before_the_start_until_the_end(
    client, session, clock, viewer, offset
):
    clock.move_to(session.start + offset)
    page = page_of(client, viewer_of(session, viewer), session)

    assert join_link(session) in page
    assert "Join opens at" not in page


@pytest.mark.parametrize("viewer", ["mentee", "mentor"])
def test_there_is_no_join_once_the_session_is_over(client, session, clock, viewer):
    clock.move_to(session.end)
    page = page_of(client, viewer_of(session, viewer), session)
    assert not join_shown(page)
    assert "Join the meeting" not in page
    # The calendar links stay, as the .ics download always did.
    assert google_link(page) is not None


@pytest.mark.parametrize("viewer", ["mentee", "mentor"])
def test_a_cancelled_session_has_no_join_and_no_calendar_or_book_again(
    client, session, clock, viewer
):
    cancel_session(session=session, by=session.mentor.user, reason="Ill")
    clock.move_to(session.start - timedelta(minutes=5))
    page = page_of(client, viewer_of(session, viewer), session)
    assert not join_shown(page)
    assert google_link(page) is None
    assert book_again_link(page) is None


def test_a_no_show_has_no_join(client, session, clock):
    clock.move_to(session.start + timedelta(minutes=10))
    mark_no_show(session=session, by=session.mentor.user)
    page = page_of(client, session.mentor.user, session)
    assert not join_shown(page)


def test_staff_get_no_join_and_no_calendar_link(client, session, clock, staff):
    clock.move_to(session.start - timedelta(minutes=5))
    page = page_of(client, staff, session)
    assert not join_shown(page)
    assert google_link(page) is None
    assert book_again_link(page) is None


# --- Add to Google Calendar -------------------------------------------------------------------


@pytest.mark.parametrize(("viewer", "other"), [("mentee", "Maya Mentor"), ("mentor", "Kiran")])
def test_the_google_link_has_the_utc_times_the_other_person_and_the_links(
    client, session, viewer, other
):
    page = page_of(client, viewer_of(session, viewer), session)
    link = google_link(page)

    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://calendar.google.com/calendar/render"
    )
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["action"] == "TEMPLATE"
    # 09:00-09:30 in New York (EDT) is 13:00-13:30 UTC.
    assert query["dates"] == "20260602T130000Z/20260602T133000Z"
    assert query["text"].startswith("Intro call with ")
    assert other in query["text"]
    assert query["location"] == session.meeting_url
    session_page = reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
    assert session.meeting_url in query["details"]
    assert f"{SITE_URL}{session_page}" in query["details"]
    assert re.search(
        r'<a [^>]*href="https://calendar\.google\.com/[^"]*" rel="noopener" target="_blank">'
        r"Add to Google Calendar</a>",
        page,
    )


@pytest.mark.parametrize("viewer", ["mentee", "mentor"])
def test_the_google_link_never_holds_an_email_address(client, session, viewer):
    link = google_link(page_of(client, viewer_of(session, viewer), session))
    for text in (link, unquote(link), unquote(unquote(link))):
        assert session.mentor.user.email not in text
        assert session.mentee.user.email not in text
        assert "@" not in text


# --- Book again -------------------------------------------------------------------------------


def test_the_mentee_can_book_again_the_same_type(client, session):
    link = book_again_link(page_of(client, session.mentee.user, session))
    assert link == f"/mentors/{session.mentor.slug}/book/?type=intro-call"


def test_the_mentor_is_not_offered_book_again(client, session):
    assert book_again_link(page_of(client, session.mentor.user, session)) is None


def test_a_type_no_longer_offered_books_again_without_it(client, session):
    SessionType.objects.filter(pk=session.session_type_id).update(is_active=False)
    link = book_again_link(page_of(client, session.mentee.user, session))
    assert link == f"/mentors/{session.mentor.slug}/book/"


def test_a_deleted_type_books_again_without_it(client, session):
    SessionType.objects.filter(pk=session.session_type_id).delete()
    link = book_again_link(page_of(client, session.mentee.user, session))
    assert link == f"/mentors/{session.mentor.slug}/book/"


def test_a_mentor_not_taking_bookings_offers_no_book_again_and_no_page_link(client, session):
    MentorProfile.objects.filter(pk=session.mentor_id).update(is_accepting_bookings=False)
    page = page_of(client, session.mentee.user, session)
    assert book_again_link(page) is None
    assert f'href="/mentors/{session.mentor.slug}/"' not in page
    assert "Maya Mentor" in details_list(page)


def test_the_page_and_book_again_follow_the_picker_url(client, session):
    """The link opens the picker the mentor page's "Book" does."""
    picker = reverse("scheduling:book", kwargs={"slug": session.mentor.slug})
    link = book_again_link(page_of(client, session.mentee.user, session))
    assert link.startswith(picker + "?")
    response = client.get(link)
    assert response.status_code == 200


# --- The mentor's page ------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["mentee", "mentor", "staff"])
def test_the_mentors_name_links_to_their_page(client, session, staff, viewer):
    user = staff if viewer == "staff" else viewer_of(session, viewer)
    details = details_list(page_of(client, user, session))
    mentor_page = reverse("mentorship:mentor_detail", kwargs={"slug": session.mentor.slug})
    assert f'<a href="{mentor_page}">Maya Mentor</a>' in details


# --- About the mentee -------------------------------------------------------------------------


@pytest.fixture
def mentee_wrote(session):
    MenteeProfile.objects.filter(pk=session.mentee_id).update(
        biography="Analyst for six years.\nSelf-taught <script>alert(1)</script> Python.",
        goals="Move into data science\nwithin a year.",
    )


def about_card(page: str) -> str | None:
    if 'id="about-mentee"' not in page:
        return None
    start = page.index('id="about-mentee"')
    return page[start : page.index("</section>", start)]


def test_the_mentor_sees_the_mentees_biography_and_goals(client, session, mentee_wrote):
    card = about_card(page_of(client, session.mentor.user, session))
    assert card is not None
    assert "About Kiran" in card
    assert "Analyst for six years.<br>Self-taught &lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert "Move into data science<br>within a year." in card
    assert "<script>" not in card


def test_the_mentee_does_not_see_the_card_about_themselves(client, session, mentee_wrote):
    page = page_of(client, session.mentee.user, session)
    assert about_card(page) is None
    assert "Analyst for six years." not in page


def test_staff_see_the_card(client, session, mentee_wrote, staff):
    card = about_card(page_of(client, staff, session))
    assert card is not None
    assert "Move into data science" in card


def test_anyone_else_gets_404(client, session, mentee_wrote):
    client.force_login(UserFactory())
    url = reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
    assert client.get(url).status_code == 404


def test_the_card_says_when_the_mentee_wrote_nothing(client, session):
    card = about_card(page_of(client, session.mentor.user, session))
    assert "Kiran has not written a biography or goals yet." in card


def test_only_goals_shows_only_goals(client, session):
    MenteeProfile.objects.filter(pk=session.mentee_id).update(goals="Lead a team")
    card = about_card(page_of(client, session.mentor.user, session))
    assert "Lead a team" in card
    assert "Background" not in card
    assert "has not written" not in card


# --- Query budget -----------------------------------------------------------------------------

# The Django session, the user, the session with its people, its type and
# whether the mentor is listed (one query), the navigation's profiles: the
# new actions and the card about the mentee cost nothing more.
DETAIL_QUERIES = 4


@pytest.mark.parametrize("viewer", ["mentee", "mentor", "staff"])
def test_the_page_with_every_action_keeps_the_detail_budget(
    client, session, clock, mentee_wrote, staff, viewer, django_assert_max_num_queries
):
    clock.move_to(session.start - timedelta(minutes=5))
    user = staff if viewer == "staff" else viewer_of(session, viewer)
    client.force_login(user)
    url = reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
    with django_assert_max_num_queries(DETAIL_QUERIES):
        page = client.get(url).text
    assert ('id="about-mentee"' in page) == (viewer != "mentee")
    assert (join_link(session) in page) == (viewer != "staff")
    assert (book_again_link(page) is not None) == (viewer == "mentee")
