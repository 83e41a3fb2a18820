"""Trying it locally: the console shows emails as people read them, with
whole links, and the demo data sends no emails."""

import io

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command

from core.mail import ReadableConsoleBackend
from scheduling.models import Notification

LINK = "http://127.0.0.1:8123/accounts/confirm-email/" + "MjA:1vQx" * 12 + "/"


def test_the_console_shows_the_text_with_whole_links():
    stream = io.StringIO()
    message = EmailMultiAlternatives(
        subject="Please confirm your email address",
        body=f"Hello,\n\nTo confirm your address, go to {LINK}\n",
        from_email="Mentorship <noreply@localhost>",
        to=["visitor@example.com"],
    )
    message.attach_alternative(f'<a href="{LINK}">Confirm</a>', "text/html")
    message.attach("invite.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    ReadableConsoleBackend(stream=stream).send_messages([message])
    shown = stream.getvalue()
    assert "To: visitor@example.com" in shown
    assert "Subject: Please confirm your email address" in shown
    assert f"go to {LINK}\n" in shown  # one line, no quoted-printable "=" breaks
    assert "Attached: invite.ics" in shown
    assert "Content-Transfer-Encoding" not in shown and "<a href" not in shown


@pytest.mark.django_db(transaction=True)
def test_the_demo_data_sends_no_email():
    call_command("seed_demo", stdout=io.StringIO())
    assert mail.outbox == []
    # The demo bookings' notifications were handled, not left to be retried.
    assert Notification.objects.exists()
    assert not Notification.objects.filter(status=Notification.Status.PENDING).exists()
