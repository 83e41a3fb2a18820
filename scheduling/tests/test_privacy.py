"""No one's email address reaches the other side of a session: not in the
emails (headers, text, HTML, invites), the ``.ics`` download, the calendar
feed, or the pages. A session is booked, moved, reminded and cancelled for
real (eager tasks, the outbox delivering to Django's test mailbox); then
everything each side received is searched for the other's address."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from scheduling.booking import cancel_session, reschedule_session
from scheduling.models import Notification
from scheduling.notifications import outbox
from scheduling.notifications.feeds import feed_for
from scheduling.notifications.ics import organizer_email
from scheduling.tests.factories import NOW, TUESDAY_9, book

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def everything_in(message) -> str:
    """A sent email as the recipient's mail program has it: headers, every
    alternative and every attachment."""
    text = message.message().as_string()
    for content, _type in getattr(message, "alternatives", []):
        text += content
    for attachment in message.attachments:
        payload = attachment.get_payload(decode=True) if hasattr(attachment, "get_payload") else b""
        text += payload.decode() if isinstance(payload, bytes) else str(attachment)
    return text


def deliver_everything():
    for notification_id in Notification.objects.values_list("pk", flat=True):
        outbox.deliver(notification_id)


def what_they_see(client, user, session) -> str:
    """The pages, the download and the feed, as ``user``."""
    client.force_login(user)
    seen = ""
    for url in (
        reverse("scheduling:session_list"),
        reverse("scheduling:session_detail", kwargs={"session_id": session.pk}),
        reverse("scheduling:session_invite", kwargs={"session_id": session.pk}),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        seen += response.content.decode()
    token = feed_for(user=user).token
    response = client.get(reverse("scheduling:calendar_feed_ics", kwargs={"token": token}))
    assert response.status_code == 200
    return seen + response.content.decode()


def test_neither_side_sees_the_other_sides_email_address(
    client, mentor, intro, mentee_user, django_capture_on_commit_callbacks, time_machine
):
    with django_capture_on_commit_callbacks(execute=True):
        session = book(mentee_user, mentor, intro, TUESDAY_9, topic="Career change")
    with django_capture_on_commit_callbacks(execute=True):
        moved = reschedule_session(
            session=session, by=mentee_user, start=TUESDAY_9 + timedelta(days=1), now=NOW
        )
    time_machine.move_to(moved.start - timedelta(hours=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.queue_due_reminders()
    deliver_everything()
    pages = {
        mentee_user: what_they_see(client, mentee_user, moved),
        mentor.user: what_they_see(client, mentor.user, moved),
    }
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=moved, by=mentor.user, reason="Something came up")
    deliver_everything()

    sides = ((mentee_user, mentor.user), (mentor.user, mentee_user))
    for reader, other in sides:
        received = [message for message in mail.outbox if message.to == [reader.email]]
        kinds = {message.subject.split(":")[0] for message in received}
        assert len(received) >= 4, kinds  # booked, moved, reminded, cancelled
        for message in received:
            assert other.email not in everything_in(message), message.subject
        assert other.email not in pages[reader]
        # Invites: the platform organizes, the reader is the one attendee.
        invites = [part for message in received for part in message.attachments]
        assert invites
        for invite in invites:
            content = invite.get_payload(decode=True).decode()
            assert f"mailto:{organizer_email()}" in content.replace("\r\n ", "")
            assert content.count("ATTENDEE") == 1
            assert reader.email in content.replace("\r\n ", "")
