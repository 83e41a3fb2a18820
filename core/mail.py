"""Email in local development: the console shows each message as a person
reads it (who, subject, the plain-text body with its links on one line each,
the attachments' names), not the raw MIME that Django's console backend
prints, where quoted-printable breaks long links with ``=`` line ends."""

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend


class ReadableConsoleBackend(DjangoConsoleBackend):
    def write_message(self, message) -> None:
        attachments = [
            attachment.get_filename() if hasattr(attachment, "get_filename") else attachment[0]
            for attachment in message.attachments
        ]
        lines = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
            f"Subject: {message.subject}",
            "",
            message.body.rstrip(),
        ]
        if attachments:
            lines += ["", f"Attached: {', '.join(str(name) for name in attachments)}"]
        self.stream.write("\n".join(lines) + "\n" + "-" * 79 + "\n")
