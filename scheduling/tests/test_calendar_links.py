"""``scheduling.calendar_links``: the Google Calendar new-event link."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from scheduling.calendar_links import google_calendar_url, google_dates, session_google_calendar_url

KOLKATA = ZoneInfo("Asia/Kolkata")
# 18:30 in Kolkata (UTC+05:30) is 13:00 UTC.
START = datetime(2026, 6, 2, 18, 30, tzinfo=KOLKATA)
END = START + timedelta(minutes=30)


def query_of(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://calendar.google.com/calendar/render"
    )
    return {key: values[0] for key, values in parse_qs(parts.query, strict_parsing=True).items()}


def test_dates_are_utc_whatever_zone_they_come_in():
    assert google_dates(START, END) == "20260602T130000Z/20260602T133000Z"


def test_the_fields_survive_the_round_trip_encoded():
    url = google_calendar_url(
        title="Intro call with Zoë & Ana",
        start=START,
        end=END,
        details="Join: https://meet.example.com/a?b=c&d=e\nSession page: https://x.example/s/",
        location="https://meet.example.com/a?b=c&d=e",
    )
    assert " " not in url and "\n" not in url
    assert query_of(url) == {
        "action": "TEMPLATE",
        "text": "Intro call with Zoë & Ana",
        "dates": "20260602T130000Z/20260602T133000Z",
        "details": "Join: https://meet.example.com/a?b=c&d=e\nSession page: https://x.example/s/",
        "location": "https://meet.example.com/a?b=c&d=e",
    }


def test_empty_details_and_location_are_left_out():
    query = query_of(google_calendar_url(title="Call", start=START, end=END))
    assert set(query) == {"action", "text", "dates"}


def person(pk: int, name: str, email: str):
    return SimpleNamespace(pk=pk, name=name, email=email, public_name=name or "Mentorship member")


def a_session(mentee_name: str = "Kiran Mentee"):
    mentor = person(1, "Maya Mentor", "maya.private@example.com")
    mentee = person(2, mentee_name, "kiran.private@example.com")
    return SimpleNamespace(
        title="Intro call",
        start=START,
        end=END,
        meeting_url="https://meet.example.com/session-abc123",
        mentor=SimpleNamespace(user=mentor),
        mentee=SimpleNamespace(user=mentee),
    )


def test_each_side_sees_the_other_sides_name_and_no_email():
    session = a_session()
    page = "https://mentorship.example.org/sessions/abc/"
    for viewer, other in ((session.mentee.user, "Maya Mentor"), (session.mentor.user, "Kiran")):
        url = session_google_calendar_url(session, viewer=viewer, page_url=page)
        query = query_of(url)
        assert query["text"].startswith("Intro call with ")
        assert other in query["text"]
        assert query["location"] == session.meeting_url
        assert session.meeting_url in query["details"]
        assert page in query["details"]
        assert "@" not in unquote(url)


def test_an_unnamed_person_is_a_plain_label_not_their_address():
    session = a_session(mentee_name="")
    url = session_google_calendar_url(session, viewer=session.mentor.user, page_url="https://x/")
    assert query_of(url)["text"] == "Intro call with Mentorship member"
    assert "kiran.private" not in unquote(url)
