"""Accessibility as a tested property: axe-core (vendored, ``mentorship/tests/vendor/``)
checks every page of the main journeys with all its default rules (WCAG 2.0-2.2
A and AA and best practices), at desktop width and, for the pages people open
on their phones first, at phone width, and finds nothing, whatever the impact.

Each test signs in once for its role and visits its pages in turn, collecting
each page's violations (``conftest.axe_violations``: rule, impact, element and
what to fix) into one dict that must stay empty. The contexts bypass our
Content-Security-Policy, which would rightly refuse the injected script; the
pages are otherwise served as they always are.
"""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import axe_violations, log_in, new_page, submit_login, submit_signup
from mentorship.tests.factories import ExpertiseTagFactory
from reviews.tests.factories import ReviewFactory, ReviewReplyFactory
from scheduling.holds import hold_token
from scheduling.models import Session
from scheduling.tests.factories import (
    WEEKDAYS_9_TO_12,
    SessionFactory,
    book,
    mentor_with_hours,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # Thursday, 07:00 in New York
THIS_MONDAY = NOW.date() - timedelta(days=NOW.weekday())
NEXT_MONDAY = THIS_MONDAY + timedelta(days=7)  # the mentor's weekly hours start here
# Monday and Tuesday of that week, 09:00 in New York.
BOOKED = datetime.combine(NEXT_MONDAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=14)
TAKEN = BOOKED + timedelta(days=1)
HELD = TAKEN + timedelta(hours=1)  # a visitor's
ZONE = "Europe/Berlin"

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    """Frozen in every thread, the live server's too."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def mentor(db):
    """Maya in New York, weekday hours 09:00-12:00 from next Monday (so this
    week's picker is empty), two tags, two reviews (one with her reply); and
    Ravi, listed beside her with no reviews yet."""
    tags = [ExpertiseTagFactory(name="Python"), ExpertiseTagFactory(name="Leadership")]
    maya = mentor_with_hours(
        zone="America/New_York",
        weekly=WEEKDAYS_9_TO_12,
        starting=NEXT_MONDAY,
        tags=tags,
        headline="Staff engineer helping engineers grow",
    )
    ReviewFactory(session__mentor=maya, rating=5, feedback="Clear, kind and practical.")
    answered = ReviewFactory(session__mentor=maya, rating=3, feedback="Good, a bit rushed.")
    ReviewReplyFactory(review=answered, body="Thank you, I will keep more time next time.")
    mentor_with_hours(
        zone="Asia/Kolkata", weekly={}, name="Ravi Mentor", headline="Data engineer", tags=tags[:1]
    )
    return maya


@pytest.fixture
def mentee_user(mentor):
    """Theo, with an upcoming session with Maya next Monday and one that ended
    on Monday this week, not yet reviewed."""
    user = UserFactory(name="Theo Mentee", timezone=ZONE)
    intro = mentor.session_types.get(slug="intro-call")
    book(user, mentor, intro, BOOKED, topic="Becoming a tech lead", now=NOW)
    SessionFactory(
        mentor=mentor,
        mentee=user.mentee_profile,
        session_type=intro,
        start=NOW - timedelta(days=3, hours=2),
        status=Session.Status.COMPLETED,
    )
    return user


def open_page(browser, live_server, viewport):
    """A page whose context bypasses the CSP (for axe) and already has the
    browser's zone as its ``tz`` cookie, so timezone.js never reloads a page
    under axe."""
    context, page = new_page(browser, live_server, ZONE, viewport=viewport, bypass_csp=True)
    context.add_cookies([{"name": "tz", "value": ZONE, "url": live_server.url}])
    return context, page


def sign_in(page, email: str) -> None:
    """``log_in`` at desktop width (where the account menu it waits for is
    shown), then back to the page's own width."""
    viewport = page.viewport_size
    page.set_viewport_size(DESKTOP)
    log_in(page, email)
    page.set_viewport_size(viewport)


def check(page, found: dict[str, list[str]], name: str, path: str | None = None) -> None:
    """Open ``path`` (unless the page is already there) and record axe's findings as ``name``."""
    if path is not None:
        response = page.goto(path)
        assert response.status == 200, (path, response.status)
    found[name] = axe_violations(page)


def assert_none_found(found: dict[str, list[str]]) -> None:
    """Every page checked, and none with a violation; else one line per
    failing element, named by its page."""
    assert found
    assert not any(found.values()), "axe-core found:\n" + "\n".join(
        f"{name}: {line}" for name, lines in found.items() for line in lines
    )


@pytest.mark.parametrize("viewport", WIDTHS)
def test_public_pages_have_no_axe_violations(browser, live_server, mentor, viewport):
    context, page = open_page(browser, live_server, viewport)
    found: dict[str, list[str]] = {}
    try:
        check(page, found, "home", "/")
        if viewport == PHONE:
            page.get_by_role("button", name="Toggle navigation").click()
            expect(page.locator("#main-nav.collapse.show")).to_be_visible()
            check(page, found, "home, menu open")
        check(page, found, "directory", "/mentors/")
        check(page, found, "mentor page", f"/mentors/{mentor.slug}/")
        check(page, found, "sign-up", "/accounts/signup/")
        submit_signup(page, name="Ada King", email="not an address", password="short")
        expect(page.locator(".is-invalid").first).to_be_visible()
        check(page, found, "sign-up, refused")
        check(page, found, "login", "/accounts/login/")
        submit_login(page, mentor.user.email, "not the password")
        expect(page.locator(".alert-danger, .is-invalid").first).to_be_visible()
        check(page, found, "login, refused")
    finally:
        context.close()
    assert_none_found(found)


@pytest.mark.parametrize("viewport", WIDTHS)
def test_picker_pages_have_no_axe_violations(browser, live_server, mentor, mentee_user, viewport):
    book_url = f"/mentors/{mentor.slug}/book/"
    chosen_url = f"{book_url}?type=intro-call&start={TAKEN:%Y-%m-%dT%H:%M:%SZ}"
    context, page = open_page(browser, live_server, viewport)
    found: dict[str, list[str]] = {}
    try:
        check(page, found, "picker, empty week", f"{book_url}?week={THIS_MONDAY}")
        expect(page.locator("#picker-days time")).to_have_count(0)
        check(page, found, "picker with times", book_url)
        expect(page.locator("#picker-days time").first).to_be_visible()
        check(page, found, "picker, time chosen", chosen_url)

        # A visitor books another time: the guest form refused, then the
        # hold's pages (issue 16, item 1).
        check(
            page, found, "guest form", f"{book_url}?type=intro-call&start={HELD:%Y-%m-%dT%H:%M:%SZ}"
        )
        page.get_by_label("Your name").fill("Gia Guest")
        page.get_by_label("Email").fill("gia@example.com")
        page.get_by_label("Choose a password").fill("short")
        page.get_by_role("button", name="Book this time").click()
        expect(page.locator("#id_password-error")).to_be_visible()
        check(page, found, "guest form, refused")
        page.get_by_label("Choose a password").fill("a long passphrase 42")
        page.get_by_role("button", name="Book this time").click()
        expect(page.get_by_role("heading", name="Check your email to confirm")).to_be_visible()
        check(page, found, "hold, check your email")
        held = Session.objects.get(mentee__user__email="gia@example.com")
        check(page, found, "hold, confirm", f"/book/confirm/{hold_token(held)}/")

        sign_in(page, mentee_user.email)
        check(page, found, "picker, time chosen, signed in", chosen_url)
        # Someone else books that time first: the picker says so (409).
        other = UserFactory(name="Olga Other")
        book(other, mentor, mentor.session_types.get(slug="intro-call"), TAKEN, now=NOW)
        with page.expect_response(lambda response: response.request.method == "POST") as posted:
            page.get_by_role("button", name="Book this time").click()
        assert posted.value.status == 409
        page.wait_for_load_state()
        check(page, found, "picker, time refused")
    finally:
        context.close()
    assert_none_found(found)


def test_mentee_pages_have_no_axe_violations(browser, live_server, mentor, mentee_user):
    upcoming = Session.objects.get(mentee__user=mentee_user, start=BOOKED)
    ended = Session.objects.get(mentee__user=mentee_user, status=Session.Status.COMPLETED)
    context, page = open_page(browser, live_server, DESKTOP)
    found: dict[str, list[str]] = {}
    try:
        sign_in(page, mentee_user.email)
        check(page, found, "sessions", "/sessions/")
        check(page, found, "session page", f"/sessions/{upcoming.pk}/")
        check(page, found, "cancel step", f"/sessions/{upcoming.pk}/cancel/")
        check(page, found, "review form", f"/sessions/{ended.pk}/review/")
        page.get_by_role("button", name="Publish review").click()
        expect(page.get_by_text("Please choose a rating from 1 to 5 stars.")).to_be_visible()
        check(page, found, "review form, refused without a rating")
        check(page, found, "account settings", "/accounts/settings/")
        check(page, found, "email addresses", "/accounts/email/")
        check(page, found, "password change", "/accounts/password/change/")
    finally:
        context.close()
    assert_none_found(found)


def test_mentor_pages_have_no_axe_violations(browser, live_server, mentor, mentee_user):
    context, page = open_page(browser, live_server, DESKTOP)
    found: dict[str, list[str]] = {}
    try:
        sign_in(page, mentor.user.email)
        check(page, found, "dashboard", "/dashboard/")
        expect(page.locator("#dashboard-week")).to_contain_text("Intro call with Theo Mentee")
        check(page, found, "availability editor", f"/mentors/{mentor.slug}/availability/")
        # Their own page has a reply form under each review.
        check(page, found, "mentor page, as its mentor", f"/mentors/{mentor.slug}/")
        check(page, found, "sessions, as mentor", "/sessions/")
        check(page, found, "account settings", "/accounts/settings/")
        check(page, found, "profile editor", f"/mentors/{mentor.slug}/edit/")
        page.get_by_label("Buffer between sessions", exact=True).fill("3")
        page.get_by_label("Buffer between sessions: unit").select_option("hours")
        page.get_by_role("button", name="Save profile").last.click()
        expect(page.locator("#id_buffer_minutes_error")).to_be_visible()
        check(page, found, "profile editor, refused")
        check(page, found, "calendars", "/calendars/")
    finally:
        context.close()
    assert_none_found(found)


def test_the_check_reports_what_it_finds(browser, live_server, db):
    """The helper is not vacuous: an image without a text alternative and a
    field without a label, added to a page that passes, come back one line
    each, naming the rule, the impact, the element and the fix."""
    context, page = open_page(browser, live_server, DESKTOP)
    try:
        page.goto("/accounts/login/")
        page.locator("main").evaluate(
            """main => main.insertAdjacentHTML("beforeend",
                '<img id="no-alt" src="/static/favicon.svg"><input id="no-label">')"""
        )
        found = axe_violations(page)
    finally:
        context.close()
    assert [line.split(" — ")[0] for line in found] == [
        "image-alt (critical): #no-alt",
        "label (critical): #no-label",
    ], found
    assert all(" — Fix " in line for line in found), found
