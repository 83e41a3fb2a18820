"""The verification email travels through a real SMTP server (aiosmtpd on loopback)."""

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from accounts.models import User

from .factories import PASSWORD


class Collect(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    handler = Collect()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.mark.django_db
def test_signup_verification_is_sent_over_smtp(client, settings, smtp_server):
    controller, handler = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    response = client.post(
        "/accounts/signup/",
        {
            "name": "Sam Smtp",
            "email": "sam@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 302
    assert User.objects.filter(email="sam@example.com").exists()
    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["To"] == "sam@example.com"
    assert message["Subject"].startswith("[Mentorship]")
    body = message.get_payload(decode=True) or message.get_payload(0).get_payload(decode=True)
    assert b"/accounts/confirm-email/" in body
