"""One clock everywhere (issue 17, item 2): each person reads times on the
12- or 24-hour clock they chose in their settings, or, before choosing, the
one their browser's locale uses (the ``tf`` cookie that timezone.js sets):
on the picker, the mentor page, the sessions list, the session page, the
dashboard and in their emails.

The clock is frozen at the factories' ``NOW`` (Monday 1 June 2026, 12:00 UTC,
08:00 in New York); the mentor has weekday hours 09:00-12:00 in New York.
"""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from core import timeformat
from scheduling.models import Notification
from scheduling.notifications.emails import build_message
from scheduling.tests.factories import NOW, TUESDAY_9, book

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def picker(client, mentor) -> str:
    url = reverse("scheduling:book", kwargs={"slug": mentor.slug})
    return client.get(url, {"week": "2026-06-01", "tz": NEW_YORK}).content.decode()


def first_time(body: str) -> str:
    return re.search(r'<time datetime="2026-06-01T13:00:00Z">([^<]+)</time>', body).group(1)


@pytest.mark.parametrize(
    ("choice", "cookie", "shown"),
    [
        ("", None, "09:00"),  # nothing known: 24-hour
        ("", "12", "9:00 AM"),  # the browser's locale
        ("", "24", "09:00"),
        ("12", None, "9:00 AM"),  # their choice…
        ("24", "12", "09:00"),  # …wins over the browser's
    ],
)
def test_the_picker_follows_the_choice_then_the_browser(client, mentor, choice, cookie, shown):
    user = UserFactory(timezone=NEW_YORK, time_format=choice)
    client.force_login(user)
    if cookie:
        client.cookies["tf"] = cookie
    assert first_time(picker(client, mentor)) == shown


def test_a_visitor_reads_their_browsers_clock(client, mentor):
    assert first_time(picker(client, mentor)) == "09:00"
    client.cookies["tf"] = "12"
    body = picker(client, mentor)
    assert first_time(body) == "9:00 AM"
    client.cookies["tf"] = "nonsense"
    assert first_time(picker(client, mentor)) == "09:00"


def test_pages_of_a_12_hour_reader(client, mentor, intro):
    mentee = UserFactory(timezone=NEW_YORK, time_format="12")
    session = book(mentee, mentor, intro, TUESDAY_9)
    client.force_login(mentee)
    detail = client.get(
        reverse("scheduling:session_detail", kwargs={"session_id": session.pk})
    ).content.decode()
    assert "Tuesday 2 June 2026, 9:00 AM–9:30 AM EDT" in detail
    sessions = client.get(reverse("scheduling:session_list")).content.decode()
    assert "9:00 AM–9:30 AM EDT" in sessions
    mentor_page = client.get(
        reverse("mentorship:mentor_detail", kwargs={"slug": mentor.slug})
    ).content.decode()
    assert "Mon 1 Jun, 9:30 AM" in mentor_page  # a next time
    assert "8:00 AM local time now" in mentor_page

    mentor.user.time_format = "12"
    mentor.user.save()
    client.force_login(mentor.user)
    dashboard = client.get(reverse("scheduling:mentor_dashboard")).content.decode()
    assert "9:00 AM" in dashboard
    assert "09:00" not in dashboard


def test_emails_use_the_recipients_choice_and_24_hours_otherwise(mentor, intro):
    mentee = UserFactory(timezone=NEW_YORK, time_format="12")
    session = book(mentee, mentor, intro, TUESDAY_9)
    rows = Notification.objects.filter(session=session).select_related(
        "recipient", "session__mentor__user", "session__mentee__user"
    )
    by_recipient = {row.recipient_id: build_message(row) for row in rows}
    to_mentee, to_mentor = by_recipient[mentee.pk], by_recipient[mentor.user_id]
    assert "9:00 AM" in to_mentee.subject and "9:00 AM–9:30 AM EDT" in to_mentee.body
    assert "09:00" in to_mentor.subject and "09:00–09:30 EDT" in to_mentor.body
    assert "AM" not in to_mentor.body.split("Mentorship ·")[0]
    # An email never leaks the clock of the request that wrote it.
    with timeformat.override("12"):
        assert "09:00" in build_message(rows.get(recipient=mentor.user)).subject


def test_the_choice_is_an_account_setting(client):
    user = UserFactory(timezone=NEW_YORK)
    client.force_login(user)
    page = client.get(reverse("accounts:settings")).content.decode()
    assert "12-hour (5:00 PM)" in page and "As my browser shows times" in page
    data = {"name": user.name, "timezone": NEW_YORK, "time_format": "12"}
    response = client.post(reverse("accounts:settings"), data)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.time_format == "12"
    response = client.post(reverse("accounts:settings"), {**data, "time_format": "13"})
    assert "Select a valid choice" in response.content.decode()


def test_a_new_account_keeps_the_browsers_clock_for_its_emails(client, mentor):
    client.cookies["tf"] = "12"
    response = client.post(
        reverse("scheduling:book", kwargs={"slug": mentor.slug}),
        {
            "type": "intro-call",
            "start": "2026-06-02T13:00:00Z",
            "name": "Gia Guest",
            "email": "gia@example.com",
            "password": "a long passphrase 42",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="gia@example.com").time_format == "12"


def test_signing_up_keeps_the_browsers_clock(client):
    client.cookies["tf"] = "12"
    response = client.post(
        reverse("account_signup"),
        {
            "name": "Sam Signup",
            "email": "sam@example.com",
            "password1": "a long passphrase 42",
            "password2": "a long passphrase 42",
            "timezone": NEW_YORK,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="sam@example.com").time_format == "12"
