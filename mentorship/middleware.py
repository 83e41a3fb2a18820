from django.conf import settings
from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string


class ContentSecurityPolicyMiddleware:
    """Sends ``settings.CONTENT_SECURITY_POLICY`` on every response.

    Django 5.2 has no CSP support of its own. The policy allows only our own
    static files, so templates carry no inline scripts or styles.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class RequestGuardMiddleware:
    """Keeps NUL characters out of the two places no view checks: the path
    (``<str:…>`` and ``<path:…>`` parameters, the admin's object ids) and
    cookies (the session key). PostgreSQL text cannot hold NUL, so such a
    value would otherwise fail in the database as a 500.

    A path holding NUL is answered with a 400 page; a cookie holding NUL is
    dropped rather than refused, so a damaged cookie (the session's, say)
    cannot lock its browser out. Query and form values are left to the views
    and forms, which give each bad value its own message or fallback (forms
    refuse NUL already); ``mentorship/tests/test_hostile_input.py`` checks
    that none of them ends in a 500. Runs before the session middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, value in list(request.COOKIES.items()):
            if "\x00" in name or "\x00" in value:
                del request.COOKIES[name]
        if "\x00" in request.path:
            # Rendered without the request, as Django renders its error
            # pages: the middleware that sets up the user has not run yet.
            page = render_to_string(
                "400.html", {"problem": "The address holds a character that is not allowed."}
            )
            return HttpResponseBadRequest(page, headers={"Cache-Control": "no-store"})
        return self.get_response(request)
