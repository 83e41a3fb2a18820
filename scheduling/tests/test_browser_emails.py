"""The HTML emails as a mail client shows them: each kind built with
``build_message`` and rendered in Chromium, its key text checked for
visibility and a screenshot saved under test-artifacts/screenshots/email-<kind>.png
for review (one more at phone width).

The mentor is in New York, the mentee in Kolkata; the session is Monday
30 November 2026, 14:00-14:30 UTC.
"""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import watch_browser_problems
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.models import Notification, Session
from scheduling.notifications import outbox
from scheduling.notifications.emails import build_message
from scheduling.tests.factories import SessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

Kind = Notification.Kind
SITE = "https://mentoring.example.org"
MEETING_URL = "https://meet.example.com/mentorship-abc123"
MONDAY_14_UTC = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
PHONE = {"width": 375, "height": 740}


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def session():
    return SessionFactory(
        mentor=MentorProfileFactory(
            slug="maya-mentor",
            user=UserFactory(name="Maya Mentor", timezone="America/New_York"),
        ),
        mentee=MenteeProfileFactory(user=UserFactory(name="Kiran Mentee", timezone="Asia/Kolkata")),
        title="Intro call",
        start=MONDAY_14_UTC,
        topic="Moving from backend work into data engineering: which skills first?",
        meeting_url=MEETING_URL,
    )


def prepare(session: Session, kind: str) -> Session:
    """The session as the service that writes ``kind`` leaves it."""
    if kind == Kind.RESCHEDULE:
        # Moved from the Friday before: cancel that one, point back at it.
        earlier = SessionFactory(
            mentor=session.mentor,
            mentee=session.mentee,
            title=session.title,
            start=session.start - timedelta(days=3),
            status=Session.Status.CANCELLED,
            cancelled_by=session.mentee.user,
            cancellation_reason="Rescheduled by the mentee.",
        )
        session.rescheduled_from = earlier
        session.ical_uid = earlier.ical_uid
        session.ical_sequence = 1
    elif kind == Kind.CANCELLATION:
        session.status = Session.Status.CANCELLED
        session.cancelled_by = session.mentor.user
        session.cancellation_reason = (
            "I have to travel for work that week, sorry. Please pick another time next month."
        )
    elif kind == Kind.REVIEW_REQUEST:
        session.status = Session.Status.COMPLETED
    session.save()
    return session


def email_html(session: Session, kind: str, recipient) -> str:
    row = Notification.objects.create(
        session=session, kind=kind, recipient=recipient, occurrence=outbox.occurrence(session)
    )
    row = Notification.objects.select_related(
        "recipient", "session__mentor__user", "session__mentee__user"
    ).get(pk=row.pk)
    [(html, mimetype)] = build_message(row).alternatives
    assert mimetype == "text/html"
    return html


# (kind, whose inbox, sentences that must be visible, the call to action)
EMAILS = [
    (
        Kind.CONFIRMATION,
        "mentee",
        [
            "Your session with Maya Mentor is booked.",
            "Monday 30 November 2026, 19:30–20:00 IST",
            MEETING_URL,
        ],
        "View the session",
    ),
    (
        Kind.RESCHEDULE,
        "mentor",
        [
            "Kiran Mentee moved your session to a new time.",
            "It was on Friday 27 November, 09:00 EST.",
            "Monday 30 November 2026, 09:00–09:30 EST",
        ],
        "View the session",
    ),
    (
        Kind.CANCELLATION,
        "mentee",
        [
            "Maya Mentor cancelled your session.",
            "I have to travel for work that week",
            "Monday 30 November 2026, 19:30–20:00 IST",
        ],
        "Book another time",
    ),
    (
        Kind.REMINDER_24H,
        "mentor",
        [
            "your session with Kiran Mentee starts tomorrow.",
            "Monday 30 November 2026, 09:00–09:30 EST",
        ],
        "Join the meeting",
    ),
    (
        Kind.REMINDER_1H,
        "mentee",
        [
            "your session with Maya Mentor starts in one hour.",
            "Monday 30 November 2026, 19:30–20:00 IST",
        ],
        "Join the meeting",
    ),
    (
        Kind.REVIEW_REQUEST,
        "mentee",
        ["How was your Intro call with Maya Mentor?", "Monday 30 November 2026, 19:30–20:00 IST"],
        "Write a review",
    ),
]


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("kind", "role", "sentences", "action"), EMAILS, ids=lambda v: str(v))
def test_each_email_reads_well_in_a_browser(
    page, screenshot, session, kind, role, sentences, action
):
    problems = watch_browser_problems(page)
    session = prepare(session, kind)
    recipient = session.mentor.user if role == "mentor" else session.mentee.user

    page.set_content(email_html(session, kind, recipient))

    expect(page.get_by_text(f"Hi {recipient.name.split()[0]},")).to_be_visible()
    for sentence in sentences:
        expect(page.get_by_text(sentence).first).to_be_visible()
    button = page.get_by_role("link", name=action)
    expect(button).to_be_visible()
    expect(page.get_by_text(f"Times are in your time zone, {recipient.timezone}")).to_be_visible()
    if kind == Kind.CANCELLATION:
        expect(page.get_by_text(MEETING_URL)).to_have_count(0)
    assert fits_the_width(page)
    screenshot(f"email-{kind}")
    assert problems == []


def test_the_confirmation_fits_a_phone(page, screenshot, session):
    problems = watch_browser_problems(page)
    page.set_viewport_size(PHONE)

    page.set_content(email_html(session, Kind.CONFIRMATION, session.mentee.user))

    expect(page.get_by_text("Your session with Maya Mentor is booked.")).to_be_visible()
    button = page.get_by_role("link", name="View the session")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    # The date may wrap, the times stay on one line.
    times = page.get_by_text("19:30–20:00 IST", exact=True)
    expect(times).to_be_visible()
    assert times.bounding_box()["height"] < 30
    # The long meeting link wraps instead of widening the page.
    assert fits_the_width(page)
    screenshot("email-confirmation-phone")
    assert problems == []


def test_a_mentor_with_a_connected_calendar_is_told_it_is_there(page, screenshot, session):
    """No invite for them (the push writes the event); the email says where it goes."""
    from .fake_calendar import CalendarConnectionFactory

    problems = watch_browser_problems(page)
    CalendarConnectionFactory(mentor=session.mentor, account="maya@fastmail.example")

    page.set_content(email_html(session, Kind.CONFIRMATION, session.mentor.user))

    expect(
        page.get_by_text(
            "It is being added to your connected calendar (maya@fastmail.example)."
        ).first
    ).to_be_visible()
    expect(page.get_by_text("The invite attached")).to_have_count(0)
    assert fits_the_width(page)
    screenshot("email-confirmation-mentor-synced")
    assert problems == []
