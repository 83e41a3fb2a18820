"""Project infrastructure that every app may use and that uses no app:
cache versioning (``cache``), safe redirects (``redirects``), enqueueing
tasks after commit (``tasks``). Nothing here imports ``accounts``,
``mentorship``, ``scheduling`` or ``reviews``."""
