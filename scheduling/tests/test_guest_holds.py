"""Booking without an account (issue 16, items 1 and 2): the picker's POST
with name, email and password holds the time as a pending session; the
emailed link confirms it; a hold nobody confirms lapses by the clock.

The clock is frozen at the factories' ``NOW`` (Monday 1 June 2026, 12:00 UTC,
08:00 in New York); the mentor has weekday hours 09:00-12:00 in New York.
"""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from scheduling import holds
from scheduling.booking import BookingRefused, book_session
from scheduling.models import Notification, Session
from scheduling.slots import available_slots
from scheduling.tests.factories import NOW, TUESDAY_9, book
from scheduling.timefmt import utc_iso

pytestmark = pytest.mark.django_db

TUESDAY_9_ISO = utc_iso(TUESDAY_9)
TUESDAY_10 = TUESDAY_9 + timedelta(hours=1)
GUEST = {"name": "Gia Guest", "email": "gia@example.com", "password": "a long passphrase 42"}
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/book/confirm/[^\s\"]+/)")


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def picker_url(mentor) -> str:
    return reverse("scheduling:book", kwargs={"slug": mentor.slug})


def hold_post(client, mentor, start_iso=TUESDAY_9_ISO, topic="Career change", **details):
    data = {"type": "intro-call", "start": start_iso, "topic": topic, **GUEST, **details}
    return client.post(picker_url(mentor), data)


def offered(mentor, intro, start, *, now=NOW) -> bool:
    slots = available_slots(mentor, intro, start, start + timedelta(minutes=30), now=now)
    return any(slot.start == start for slot in slots)


def the_link() -> str:
    links = [CONFIRM_LINK.search(message.body) for message in mail.outbox]
    found = [match.group(1) for match in links if match]
    assert len(found) == 1, [message.body for message in mail.outbox]
    return found[0]


@pytest.fixture
def held(client, mentor, django_capture_on_commit_callbacks):
    """Gia's hold on Tuesday 09:00, its email sent."""
    with django_capture_on_commit_callbacks(execute=True):
        response = hold_post(client, mentor)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Session.objects.get(mentee__user__email=GUEST["email"])


# --- Holding -------------------------------------------------------------------------------


def test_a_visitor_holds_the_time_and_gets_only_the_link(client, mentor, intro, held, settings):
    assert held.status == Session.Status.PENDING
    assert held.hold_expires_at == NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    assert held.topic == "Career change"
    user = held.mentee.user
    assert (user.name, user.email) == ("Gia Guest", "gia@example.com")
    assert user.check_password(GUEST["password"])
    assert not EmailAddress.objects.filter(user=user, verified=True).exists()
    # One message, to the visitor: the mentor hears nothing yet.
    assert [row.kind for row in Notification.objects.all()] == [Notification.Kind.HOLD]
    assert [message.to for message in mail.outbox] == [["gia@example.com"]]
    assert mentor.user.email not in mail.outbox[0].message().as_string()
    assert "Confirm your booking" in mail.outbox[0].subject
    # Nobody else is offered the time while it is held.
    assert not offered(mentor, intro, TUESDAY_9)
    with pytest.raises(BookingRefused):
        book(UserFactory(), mentor, intro, TUESDAY_9)


def test_the_held_page_says_where_the_link_went_and_until_when(client, mentor, held):
    response = client.get(reverse("scheduling:hold_sent", kwargs={"slug": mentor.slug}))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Check your email to confirm" in body
    assert "gia@example.com" in body
    # Until 12:30 UTC, in the visitor's zone (UTC: no cookie).
    assert "until <strong>12:30 UTC</strong>" in body


def test_the_held_page_without_a_hold_goes_back_to_the_picker(client, mentor):
    response = client.get(reverse("scheduling:hold_sent", kwargs={"slug": mentor.slug}))
    assert response.status_code == 302
    assert response.url == picker_url(mentor)


def test_the_link_confirms_the_address_signs_in_and_books(
    client, mentor, held, django_capture_on_commit_callbacks
):
    link = the_link()
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my booking" in page.content.decode()
    assert Session.objects.get(pk=held.pk).status == Session.Status.PENDING  # GET changes nothing

    other_browser = type(client)()
    with django_capture_on_commit_callbacks(execute=True):
        response = other_browser.post(link)
    detail = reverse("scheduling:session_detail", kwargs={"session_id": held.pk})
    assert response.status_code == 302 and response.url == detail
    session = Session.objects.get(pk=held.pk)
    assert session.status == Session.Status.UPCOMING
    assert EmailAddress.objects.get(user=session.mentee.user).verified
    page = other_browser.get(detail)
    assert page.status_code == 200
    assert "Your email is confirmed and your session is booked." in page.content.decode()
    # Now both sides hear about the booking, as for any booking.
    confirmations = Notification.objects.filter(kind=Notification.Kind.CONFIRMATION)
    assert {row.recipient_id for row in confirmations} == {mentor.user_id, session.mentee.user_id}
    # The link again: no second sign-in for another browser, the session for the visitor.
    assert other_browser.post(link).url == detail
    again = type(client)().get(link)
    assert again.status_code == 302 and again.url.startswith(reverse("account_login"))


def test_the_visitor_can_then_sign_in_with_their_password(client, mentor, held):
    holds.confirm_hold(session=held)
    browser = type(client)()
    response = browser.post(
        reverse("account_login"), {"login": GUEST["email"], "password": GUEST["password"]}
    )
    assert response.status_code == 302
    assert browser.get(reverse("scheduling:session_list")).status_code == 200


def test_a_link_not_made_by_us_is_refused(client, held):
    token = the_link().rstrip("/").rsplit("/", 1)[1]
    response = client.get(reverse("scheduling:hold_confirm", kwargs={"token": token[:-2] + "xx"}))
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_a_link_for_an_address_changed_since_is_refused(client, held):
    link = the_link()
    User.objects.filter(pk=held.mentee.user_id).update(email="other@example.com")
    assert client.post(link).status_code == 404
    assert Session.objects.get(pk=held.pk).status == Session.Status.PENDING


def test_holds_and_lapsed_holds_are_not_sessions_anyone_sees(client, mentor, held, staff_client):
    detail = reverse("scheduling:session_detail", kwargs={"session_id": held.pk})
    client.force_login(mentor.user)
    assert "Career change" not in client.get(reverse("scheduling:session_list")).content.decode()
    assert client.get(detail).status_code == 404
    assert staff_client.get(detail).status_code == 404


# --- Lapsing -------------------------------------------------------------------------------


def test_a_hold_lapses_by_the_clock_and_frees_the_time(
    client, mentor, intro, held, time_machine, settings
):
    later = NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    time_machine.move_to(later, tick=False)
    assert held.status_at(later) == Session.Status.EXPIRED
    # The engine reads the clock: the time is offered again before any tidying.
    assert offered(mentor, intro, TUESDAY_9, now=later)
    # And someone else can book it (the lapsed hold is marked expired first).
    session = book(UserFactory(), mentor, intro, TUESDAY_9, now=later)
    assert session.status == Session.Status.UPCOMING
    assert Session.objects.get(pk=held.pk).status == Session.Status.EXPIRED


def test_the_link_of_a_lapsed_hold_explains_and_offers_the_picker(
    client, mentor, held, time_machine, settings
):
    link = the_link()
    time_machine.move_to(NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES + 1), tick=False)
    for response in (client.get(link), client.post(link)):
        body = response.content.decode()
        assert response.status_code == 410
        assert "This hold has lapsed" in body
        assert f'href="{picker_url(mentor)}?type=intro-call"' in body
    assert Session.objects.get(pk=held.pk).status == Session.Status.PENDING  # nothing confirmed
    assert not EmailAddress.objects.filter(verified=True, email=GUEST["email"]).exists()


def test_the_beat_task_tidies_lapsed_holds_up(held, settings):
    assert holds.expire_holds(now=NOW) == 0
    later = NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    assert holds.expire_holds(now=later) == 1
    assert Session.objects.get(pk=held.pk).status == Session.Status.EXPIRED
    assert holds.expire_holds(now=later) == 0


def test_a_hold_email_sent_late_is_skipped_once_the_hold_lapsed(mentor, intro, settings):
    from scheduling.notifications import outbox

    session = holds.hold_guest_booking(
        guest=holds.Guest("Gia Guest", "gia@example.com", "a long passphrase 42", "UTC"),
        mentor=mentor,
        session_type=intro,
        start=TUESDAY_9,
        now=NOW,
    )
    row = Notification.objects.get(session=session)
    later = NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    assert outbox.deliver(row.pk, now=later).status == Notification.Status.SKIPPED
    assert mail.outbox == []


# --- Limits --------------------------------------------------------------------------------


def test_one_hold_per_address_then_a_new_one_once_it_lapsed(
    client, mentor, held, time_machine, settings
):
    second = hold_post(client, mentor, start_iso=utc_iso(TUESDAY_10))
    assert second.status_code == 400
    assert "You already have a time on hold" in second.content.decode()
    assert Session.objects.count() == 1

    # Back after it lapsed, with the same address and password: the same account.
    time_machine.move_to(NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES), tick=False)
    third = hold_post(client, mentor, start_iso=utc_iso(TUESDAY_10))
    assert third.status_code == 302
    assert User.objects.filter(email=GUEST["email"]).count() == 1
    later = NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    live = Session.objects.blocking(later).filter(status=Session.Status.PENDING)
    assert [session.start for session in live] == [TUESDAY_10]


def test_an_address_with_an_account_is_asked_to_sign_in_with_the_time_kept(client, mentor):
    member = UserFactory(email="member@example.com")
    response = hold_post(client, mentor, email="Member@Example.com", topic="My topic")
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is already an account for <strong>member@example.com</strong>" in body
    assert "Sign in to book" in body
    assert User.objects.filter(email__iexact="member@example.com").count() == 1
    assert not Session.objects.exists()
    # The sign-in link comes back to the chosen time…
    sign_in = re.search(r'href="(/accounts/login/\?next=[^"]+)"', body).group(1)
    next_url = parse_qs(urlsplit(sign_in.replace("&amp;", "&")).query)["next"][0]
    assert next_url == f"{picker_url(mentor)}?{urlencode({'type': 'intro-call'})}&" + urlencode(
        {"start": TUESDAY_9_ISO}
    )
    # …where, signed in, the topic typed is still there.
    client.force_login(member)
    assert ">My topic</textarea>" in client.get(next_url).content.decode()


def test_a_wrong_password_for_an_unconfirmed_account_makes_no_second_account(
    client, mentor, held, time_machine, settings
):
    time_machine.move_to(NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES), tick=False)
    response = hold_post(client, mentor, password="another passphrase 43")
    assert "There is already an account" in response.content.decode()
    assert User.objects.filter(email=GUEST["email"]).count() == 1


def test_the_details_are_checked_and_the_topic_kept(client, mentor):
    response = hold_post(client, mentor, name=" ", email="not-an-email", password="123")
    body = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in body
    assert "Enter a valid email address." in body
    assert "This password is too short." in body
    assert ">Career change</textarea>" in body
    assert 'value="not-an-email"' in body
    assert "123" not in re.findall(r'name="password"[^>]*', body)[0]  # never echoed
    assert not User.objects.filter(email="not-an-email").exists()


def test_a_few_holds_per_client_address_an_hour(client, mentor, settings):
    settings.GUEST_HOLDS_PER_ADDRESS_PER_HOUR = 2
    for number in range(2):
        response = hold_post(
            client,
            mentor,
            start_iso=utc_iso(TUESDAY_9 + timedelta(hours=number)),
            email=f"visitor{number}@example.com",
        )
        assert response.status_code == 302
    response = hold_post(
        client, mentor, start_iso=utc_iso(TUESDAY_9 + timedelta(days=1)), email="v3@example.com"
    )
    assert response.status_code == 429
    assert "Too many bookings from your network" in response.content.decode()
    assert not User.objects.filter(email="v3@example.com").exists()


def test_a_held_time_is_refused_to_a_second_visitor(client, mentor, held):
    browser = type(client)()
    response = hold_post(browser, mentor, email="second@example.com")
    assert response.status_code == 409
    assert "That time is not available" in response.content.decode()
    # No account is left behind by the refused hold.
    assert not User.objects.filter(email="second@example.com").exists()


def test_confirming_the_address_with_allauth_confirms_the_hold(
    client, mentor, held, django_capture_on_commit_callbacks
):
    from allauth.account.signals import email_confirmed

    address = EmailAddress.objects.get(email=GUEST["email"])
    address.verified = True
    address.save()
    with django_capture_on_commit_callbacks(execute=True):
        email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
    assert Session.objects.get(pk=held.pk).status == Session.Status.UPCOMING


# --- Context kept (item 2) -----------------------------------------------------------------


def test_sign_in_instead_keeps_the_time_and_the_topic(client, mentor):
    member = UserFactory(email="member@example.com")
    response = client.post(
        picker_url(mentor),
        {"type": "intro-call", "start": TUESDAY_9_ISO, "topic": "Kept", "action": "sign-in"},
    )
    assert response.status_code == 302
    next_url = parse_qs(urlsplit(response.url).query)["next"][0]
    assert parse_qs(urlsplit(next_url).query)["start"] == [TUESDAY_9_ISO]
    login = client.post(
        f"{reverse('account_login')}?{urlencode({'next': next_url})}",
        {"login": member.email, "password": PASSWORD},
    )
    assert login.status_code == 302 and login.url == next_url
    body = client.get(next_url).content.decode()
    assert 'aria-current="true"' in body
    assert ">Kept</textarea>" in body


def test_a_refused_booking_keeps_the_topic_and_suggests_the_nearest_times(
    client, mentor, intro, mentee_user
):
    book(UserFactory(), mentor, intro, TUESDAY_9)  # someone else was faster
    client.force_login(mentee_user)
    response = client.post(
        picker_url(mentor), {"type": "intro-call", "start": TUESDAY_9_ISO, "topic": "Mine"}
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert ">Mine</textarea>" not in body  # no time chosen: no form yet…
    suggested = re.search(r'id="picker-suggested".*?</div>', body, re.S).group(0)
    # …the nearest free times are offered, the taken one is gone.
    starts = sorted(set(re.findall(r"start=([0-9T:%AZ-]+)", suggested)))
    assert len(starts) == 3
    assert TUESDAY_9_ISO.replace(":", "%3A") not in starts
    assert utc_iso(TUESDAY_9 + timedelta(minutes=30)).replace(":", "%3A") in starts
    assert "btn-success" in body
    # Picking one of them brings the topic back.
    chosen = client.get(f"{picker_url(mentor)}?type=intro-call&start={starts[0]}")
    assert ">Mine</textarea>" in chosen.content.decode()


def test_the_limits_are_shown_before_picking(client, mentor, intro, mentee_user, settings):
    settings.MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR = 1
    book(mentee_user, mentor, intro, TUESDAY_9)
    client.force_login(mentee_user)
    body = client.get(picker_url(mentor)).content.decode()
    assert 'id="picker-limit"' in body
    assert "at most 1 upcoming sessions with one mentor" in body
    chosen = client.get(f"{picker_url(mentor)}?type=intro-call&start={utc_iso(TUESDAY_10)}")
    assert 'name="topic"' not in chosen.content.decode()  # no form to be refused by


def test_a_mentor_on_their_own_picker_is_told(client, mentor):
    client.force_login(mentor.user)
    assert "This is your own booking page" in client.get(picker_url(mentor)).content.decode()


def test_a_signed_in_booking_still_books_at_once(client, mentor, mentee_user):
    client.force_login(mentee_user)
    response = client.post(picker_url(mentor), {"type": "intro-call", "start": TUESDAY_9_ISO})
    assert response.status_code == 302
    assert Session.objects.get().status == Session.Status.UPCOMING


def test_book_session_still_needs_a_confirmed_address(mentor, intro):
    user = UserFactory()
    EmailAddress.objects.filter(user=user).update(verified=False)
    with pytest.raises(BookingRefused, match="confirm your email"):
        book_session(mentee_user=user, mentor=mentor, session_type=intro, start=TUESDAY_9, now=NOW)


def test_a_wrong_address_releases_the_hold_and_starts_again(client, mentor, intro, held):
    held_url = reverse("scheduling:hold_sent", kwargs={"slug": mentor.slug})
    response = client.post(held_url)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.url).query)["start"] == [TUESDAY_9_ISO]
    assert Session.objects.get(pk=held.pk).status == Session.Status.EXPIRED
    assert offered(mentor, intro, TUESDAY_9)
    # Another browser cannot release it: it is not theirs.
    assert type(client)().post(held_url).status_code == 302
    assert client.get(held_url).status_code == 302  # nothing held any more
