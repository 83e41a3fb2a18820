"""Where to go back to: the one check every ``next`` parameter goes through."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, candidate: str | None) -> str:
    """``candidate`` when it is a path on this site (``/sessions/…``), else "".

    Only paths: a leading ``/`` but not ``//`` or ``/\\`` (which browsers read
    as another host), no scheme or host, nothing that is not printable. Used
    for every ``next`` a request carries, so a crafted link can neither send
    people elsewhere nor reach ``redirect()``'s URL-name lookup.
    """
    candidate = (candidate or "").strip()
    if (
        not candidate.startswith("/")
        or candidate.startswith(("//", "/\\"))
        or not candidate.isprintable()
        or len(candidate) > 2000
    ):
        return ""
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return candidate
