"""What reaches people about their sessions: the outbox of emails and
reminders (``outbox``), the messages themselves (``emails``), iCalendar files
(``ics``) and the private calendar feed (``feeds``). The Celery tasks that
deliver them are in ``scheduling/tasks.py``."""
