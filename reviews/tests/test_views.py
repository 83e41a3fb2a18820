"""Reviews over HTTP: ``/sessions/<uuid>/review/``, the mentor page's reviews
and ``/mentors/<slug>/reviews/``, replies (``/reviews/<uuid>/reply/``) and
reports (``/reviews/<uuid>/report/``); the review prompts on the sessions
pages and in the review request email.

The clock is frozen at Thursday 26 November 2026, 12:00 UTC. Every
object-scoped URL is tried as its owner, another user, staff and anonymous.
"""

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from conftest import login_required_url, messages_of
from mentorship.models import MentorProfile
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from reviews.models import Review, ReviewReply, ReviewReport
from reviews.services import hide_review, submit_review
from reviews.tests.factories import ReviewFactory, ReviewReplyFactory, ReviewReportFactory
from scheduling.models import Notification, Session
from scheduling.notifications import outbox
from scheduling.notifications.emails import build_message
from scheduling.session_lists import PAGE_SIZES
from scheduling.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
# Monday 23 November 2026, 14:00-14:30 UTC: ended three days before NOW.
ENDED = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
THANKS = "Thanks — your review is on Maya Mentor's page."
RATING_REQUIRED = "Please choose a rating from 1 to 5 stars."


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def clock(frozen_now, time_machine):
    """``clock.move_to(moment)`` moves the frozen clock (it stays frozen)."""
    return time_machine


@pytest.fixture
def mentor():
    return MentorProfileFactory(
        slug="maya-mentor",
        user=UserFactory(name="Maya Mentor", email="maya.private@example.com"),
    )


@pytest.fixture
def mentee_user():
    return UserFactory(name="Theo Mitchell", email="theo.private@example.com")


@pytest.fixture
def mentee(mentee_user):
    return MenteeProfileFactory(user=mentee_user)


@pytest.fixture
def session(mentor, mentee) -> Session:
    """An Intro call that ended three days ago; its stored status still says
    upcoming, as before the periodic task ran."""
    return SessionFactory(mentor=mentor, mentee=mentee, title="Intro call", start=ENDED)


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def review_url(session) -> str:
    return reverse("reviews:session_review", kwargs={"session_id": session.pk})


def detail_url(session) -> str:
    return reverse("scheduling:session_detail", kwargs={"session_id": session.pk})


def mentor_url(mentor) -> str:
    return reverse("mentorship:mentor_detail", kwargs={"slug": mentor.slug})


def reviews_url(mentor, page=None) -> str:
    url = reverse("reviews:mentor_reviews", kwargs={"slug": mentor.slug})
    return f"{url}?page={page}" if page is not None else url


def reply_url(review) -> str:
    return reverse("reviews:reply", kwargs={"review_id": review.pk})


def reply_delete_url(review) -> str:
    return reverse("reviews:reply_delete", kwargs={"review_id": review.pk})


def report_url(review) -> str:
    return reverse("reviews:report", kwargs={"review_id": review.pk})


def text_of(response) -> str:
    """The page's visible text, entities decoded and white space collapsed
    (for sentences that markup may break across lines)."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body)).strip()


def mentor_state(mentor) -> tuple:
    mentor.refresh_from_db(fields=["rating_avg", "rating_count"])
    return mentor.rating_avg, mentor.rating_count


def reviewed(session, *, rating=4, feedback="Clear and kind advice.", at=None, **changes):
    """A review of ``session`` written at ``at`` (default: now)."""
    review = ReviewFactory(session=session, rating=rating, feedback=feedback, **changes)
    if at is not None:
        Review.objects.filter(pk=review.pk).update(created_at=at)
        review.refresh_from_db()
    return review


# --- /sessions/<uuid>/review/: who may open it --------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_review_page_sends_anonymous_visitors_to_sign_in(client, session, method):
    data = {"rating": "5"} if method == "post" else {}
    response = getattr(client, method)(review_url(session), data)
    assert response.status_code == 302
    assert response["Location"] == login_required_url(review_url(session))
    assert not Review.objects.exists()


@pytest.mark.parametrize("who", ["other", "staff", "other mentee of the mentor"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_review_page_is_404_for_anyone_but_the_participants(client, session, staff, who, method):
    users = {
        "other": UserFactory(),
        "staff": staff,
        "other mentee of the mentor": SessionFactory(
            mentor=session.mentor, start=ENDED - timedelta(days=1)
        ).mentee.user,
    }
    client.force_login(users[who])
    response = getattr(client, method)(review_url(session), {"rating": "5"})
    assert response.status_code == 404
    assert not Review.objects.exists()


def test_an_unknown_session_is_404(client, mentee_user):
    client.force_login(mentee_user)
    url = reverse("reviews:session_review", kwargs={"session_id": uuid.uuid4()})
    assert client.get(url).status_code == 404
    assert client.get("/sessions/not-a-uuid/review/").status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_mentor_is_sent_back_to_the_session_with_a_refusal(client, session, method):
    client.force_login(session.mentor.user)
    response = getattr(client, method)(review_url(session), {"rating": "5"})
    assert response.status_code == 302
    assert response["Location"] == detail_url(session)
    assert messages_of(response) == [
        "Only the mentee can review a session. Reviews of your sessions appear on your mentor page."
    ]
    assert not Review.objects.exists()


def test_the_review_page_answers_get_head_and_post_only(client, session, mentee_user):
    client.force_login(mentee_user)
    assert client.head(review_url(session)).status_code == 200
    assert client.put(review_url(session)).status_code == 405
    assert client.delete(review_url(session)).status_code == 405


# --- The form ------------------------------------------------------------------------------------


def test_the_mentee_gets_five_star_radios_with_words(client, session, mentee_user):
    client.force_login(mentee_user)
    response = client.get(review_url(session))
    assert response.status_code == 200
    body = response.content.decode()
    radios = re.findall(r'<input class="star-input" type="radio" name="rating"[^>]*>', body)
    assert [re.search(r'value="(\d)"', radio)[1] for radio in radios] == list("12345")
    assert not any("checked" in radio for radio in radios)
    for words in ("1 star — poor", "3 stars — good", "4 stars — very good", "5 stars — excellent"):
        assert words in body
    assert '<label class="star-label" for="rating-4">' in body
    assert 'name="feedback"' in body and 'maxlength="2000"' in body
    assert "How was your session?" in body
    assert "Intro call with Maya Mentor" in body
    assert "<script" not in body.split("</head>")[1]  # no inline script: works without JS


def test_a_review_is_published_and_thanks_the_mentee(
    client, session, mentee_user, django_capture_on_commit_callbacks
):
    client.force_login(mentee_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            review_url(session), {"rating": "4", "feedback": "  Clear next steps.  "}
        )

    assert response.status_code == 302
    assert response["Location"] == detail_url(session)
    assert messages_of(response) == [THANKS]
    review = Review.objects.get()
    assert (review.session, review.rating, review.feedback) == (session, 4, "Clear next steps.")
    assert review.mentee.user == mentee_user
    assert mentor_state(session.mentor) == (Decimal("4.00"), 1)

    page = text_of(client.get(response["Location"]))
    assert THANKS in page
    assert "Your review" in page


def test_feedback_is_optional(client, session, mentee_user):
    client.force_login(mentee_user)
    response = client.post(review_url(session), {"rating": "5"})
    assert response.status_code == 302
    assert Review.objects.get().feedback == ""


@pytest.mark.parametrize(
    "data",
    [
        {"rating": "0"},
        {"rating": "6"},
        {"rating": "abc"},
        {"rating": "4.5"},
        {"rating": "-1"},
        {"rating": ""},
        {},
        {"feedback": "Great session, but I forgot the stars."},
    ],
    ids=["0", "6", "abc", "4.5", "-1", "empty", "nothing", "feedback only"],
)
def test_a_missing_or_bad_rating_is_400_with_the_form_and_a_clear_message(
    client, session, mentee_user, data
):
    client.force_login(mentee_user)
    response = client.post(review_url(session), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert RATING_REQUIRED in body
    assert 'aria-invalid="true"' in body
    assert 'name="rating"' in body  # the form again
    if "feedback" in data:
        assert data["feedback"] in body  # what they wrote is kept
    assert not Review.objects.exists()
    assert mentor_state(session.mentor) == (Decimal("0.00"), 0)


def test_feedback_over_2000_characters_is_refused(client, session, mentee_user):
    client.force_login(mentee_user)
    response = client.post(review_url(session), {"rating": "4", "feedback": "x" * 2001})
    assert response.status_code == 400
    assert "Please keep your feedback to 2000 characters or fewer (it has 2001)." in (
        response.content.decode()
    )
    assert not Review.objects.exists()

    response = client.post(review_url(session), {"rating": "4", "feedback": "x" * 2000})
    assert response.status_code == 302
    assert len(Review.objects.get().feedback) == 2000


def test_a_null_character_is_refused_not_a_500(client, session, mentee_user):
    client.force_login(mentee_user)
    response = client.post(review_url(session), {"rating": "4", "feedback": "a\x00b"})
    assert response.status_code == 400
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"start": NOW + timedelta(days=1)}, "You can review this session once it has ended."),
        ({"start": NOW - timedelta(minutes=10)}, "You can review this session once it has ended."),
        ({"status": "cancelled"}, "A cancelled session cannot be reviewed."),
        ({"status": "no_show"}, "A session marked as a no-show cannot be reviewed."),
    ],
    ids=["future", "in progress", "cancelled", "no-show"],
)
def test_no_form_when_the_session_cannot_be_reviewed(client, session, mentee_user, change, reason):
    if "start" in change:
        change["end"] = change["start"] + timedelta(minutes=30)
    Session.objects.filter(pk=session.pk).update(**change)
    client.force_login(mentee_user)

    response = client.get(review_url(session))
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert 'name="rating"' not in response.content.decode()

    response = client.post(review_url(session), {"rating": "5"})
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not Review.objects.exists()


# --- Editing ---------------------------------------------------------------------------------


def test_within_7_days_the_same_url_edits_the_review(client, session, mentee_user):
    review = reviewed(session, rating=3, feedback="Okay.", at=NOW - timedelta(days=6, hours=23))
    client.force_login(mentee_user)

    page = client.get(review_url(session))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Your review" in body
    assert re.search(r'type="radio" name="rating" id="rating-3" value="3" checked', body)
    assert ">Okay.</textarea>" in body
    # Seven days after it was written, in the viewer's zone (Berlin).
    assert "You can change your review until 26 November 2026, 14:00 CET." in text_of(page)

    response = client.post(
        review_url(session), {"rating": "5", "feedback": "Better on reflection."}
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(session)
    assert messages_of(response) == ["Your review was updated."]
    review.refresh_from_db()
    assert (review.rating, review.feedback) == (5, "Better on reflection.")
    assert Review.objects.count() == 1
    assert mentor_state(session.mentor) == (Decimal("5.00"), 1)


def test_an_edit_with_a_bad_rating_changes_nothing(client, session, mentee_user):
    review = reviewed(session, rating=3)
    client.force_login(mentee_user)
    response = client.post(review_url(session), {"rating": "6", "feedback": "x"})
    assert response.status_code == 400
    assert RATING_REQUIRED in response.content.decode()
    review.refresh_from_db()
    assert review.rating == 3


def test_after_7_days_the_review_is_read_only_with_a_note(client, session, mentee_user):
    review = reviewed(session, rating=3, feedback="Okay.", at=NOW - timedelta(days=7, minutes=1))
    client.force_login(mentee_user)

    page = client.get(review_url(session))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="rating"' not in body and 'name="feedback"' not in body
    assert 'aria-label="Rated 3 out of 5 stars"' in body
    assert "Okay." in body
    assert "Reviews can be edited for 7 days after they are written." in body

    response = client.post(review_url(session), {"rating": "5", "feedback": "Changed."})
    assert response.status_code == 400
    assert "Reviews can be edited for 7 days after they are written." in response.content.decode()
    review.refresh_from_db()
    assert (review.rating, review.feedback) == (3, "Okay.")


def test_a_hidden_review_cannot_be_edited(client, session, mentee_user, staff):
    review = reviewed(session, rating=1)
    hide_review(review=review, by=staff)
    client.force_login(mentee_user)
    page = client.get(review_url(session))
    assert "hidden by our moderators" in page.content.decode()
    assert 'name="rating"' not in page.content.decode()
    assert client.post(review_url(session), {"rating": "5"}).status_code == 400
    assert Review.objects.get().rating == 1


# --- The sessions pages' prompts -------------------------------------------------------------


def test_the_session_page_prompts_the_mentee_to_review(client, session, mentee_user):
    client.force_login(mentee_user)
    body = client.get(detail_url(session)).content.decode()
    assert f'<a class="btn btn-primary" href="{review_url(session)}">Leave a review</a>' in body


def test_the_session_page_has_no_prompt_before_the_end_or_for_the_mentor(
    client, session, mentee_user, clock
):
    client.force_login(session.mentor.user)
    assert review_url(session) not in client.get(detail_url(session)).content.decode()
    clock.move_to(ENDED + timedelta(minutes=15))
    client.force_login(mentee_user)
    assert review_url(session) not in client.get(detail_url(session)).content.decode()


def test_the_session_page_shows_the_review_with_an_edit_link_for_7_days(
    client, session, mentee_user, clock
):
    reviewed(session, rating=4, feedback="Clear and kind advice.")
    client.force_login(mentee_user)
    page = client.get(detail_url(session))
    body = page.content.decode()
    assert "Leave a review" not in body
    assert "Your review" in body and 'aria-label="Rated 4 out of 5 stars"' in body
    assert "Clear and kind advice." in body
    assert f'href="{review_url(session)}">Edit your review</a>' in body

    clock.move_to(NOW + timedelta(days=8))
    client.force_login(mentee_user)  # the sign-in lasts 12 hours
    body = client.get(detail_url(session)).content.decode()
    assert "Your review" in body
    assert "Edit your review" not in body
    assert "Reviews can be changed for 7 days after they are written." in body


def test_the_sessions_list_links_ended_sessions_to_their_review(
    client, session, mentee, mentee_user, mentor
):
    upcoming = SessionFactory(mentor=mentor, mentee=mentee, start=NOW + timedelta(days=2))
    done = SessionFactory(mentor=mentor, mentee=mentee, start=ENDED - timedelta(days=1))
    reviewed(done, rating=5)
    cancelled = SessionFactory(
        mentor=mentor, mentee=mentee, start=ENDED - timedelta(days=2), status="cancelled"
    )
    as_mentor = SessionFactory(
        mentor=MentorProfileFactory(user=mentee_user), start=ENDED - timedelta(days=3)
    )
    client.force_login(mentee_user)

    body = client.get(reverse("scheduling:session_list")).content.decode()

    assert f'href="{review_url(session)}">Review<span class="visually-hidden">' in body
    assert f'href="{review_url(done)}">Reviewed · 5<' in body
    for other in (upcoming, cancelled, as_mentor):
        assert review_url(other) not in body


# The Django session, the user, the user's profiles (also the navbar's), and
# one statement for a page of each list (upcoming, past, cancelled) with their
# people, reviews and moves: as in scheduling/tests/test_session_list_pages.py.
LIST_QUERIES = 4


@pytest.mark.parametrize("count", [1, 50])
def test_the_sessions_list_with_reviews_keeps_its_budget(
    client, mentee, mentee_user, count, django_assert_max_num_queries
):
    as_mentor = MentorProfileFactory(user=mentee_user)
    for number in range(count):
        start = NOW - timedelta(hours=2 * number + 2)
        if number % 2:
            reviewed(SessionFactory(mentee=mentee, start=start), rating=number % 5 + 1)
        elif number % 4:
            SessionFactory(mentee=mentee, start=start)  # ended, waiting for a review
        else:
            SessionFactory(mentor=as_mentor, start=start)
    client.force_login(mentee_user)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(reverse("scheduling:session_list"))

    assert response.status_code == 200
    # The first page of past sessions (latest first: the lowest numbers).
    assert response.content.decode().count("/review/") == sum(
        1 for number in range(min(count, PAGE_SIZES["past"])) if number % 2 or number % 4
    )


# The Django session, the user, the session with its people and review, the
# navigation's profiles: as in scheduling/tests/test_views_sessions.py.
DETAIL_QUERIES = 4


@pytest.mark.parametrize("state", ["to review", "reviewed"])
def test_the_session_page_with_its_review_keeps_its_budget(
    client, session, mentee_user, state, django_assert_max_num_queries
):
    if state == "reviewed":
        reviewed(session)
    client.force_login(mentee_user)
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(detail_url(session))
    assert review_url(session) in response.content.decode()


# --- The review request email ------------------------------------------------------------------


def test_the_review_request_button_opens_the_review_form(client, session, settings):
    settings.SITE_URL = "https://mentoring.example.org"
    Session.objects.filter(pk=session.pk).update(status="completed")
    row = Notification.objects.create(
        session=session,
        kind=Notification.Kind.REVIEW_REQUEST,
        recipient=session.mentee.user,
        occurrence=outbox.occurrence(session),
    )
    row = Notification.objects.select_related(
        "recipient", "session__mentor__user", "session__mentee__user"
    ).get(pk=row.pk)

    message = build_message(row)

    absolute = f"https://mentoring.example.org/sessions/{session.pk}/review/"
    [(html, _mimetype)] = message.alternatives
    button = re.search(r'<a href="([^"]+)"[^>]*>Write a review</a>', html)
    assert button[1] == absolute
    assert f"Write a review: {absolute}" in message.body


# --- The mentor page and /mentors/<slug>/reviews/ ------------------------------------------------


def reviews_of(mentor, ratings, *, names=None) -> list[Review]:
    """One review per rating, the first the oldest (an hour apart)."""
    made = []
    for number, rating in enumerate(ratings):
        user = UserFactory(name=names[number]) if names else UserFactory()
        session = SessionFactory(
            mentor=mentor,
            mentee=MenteeProfileFactory(user=user),
            title="Intro call",
            start=datetime(2026, 11, 2, 9, 0, tzinfo=UTC) + timedelta(hours=2 * number),
        )
        review = ReviewFactory(
            session=session, rating=rating, feedback=f"Feedback number {number}."
        )
        Review.objects.filter(pk=review.pk).update(
            created_at=NOW - timedelta(days=20) + timedelta(hours=number)
        )
        made.append(review)
    return made


@pytest.mark.parametrize("url", [mentor_url, reviews_url])
def test_the_summary_shows_average_count_and_distribution(client, mentor, url):
    reviews_of(mentor, [5, 5, 4, 2])
    response = client.get(url(mentor))
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        '<p class="rating-average mb-0">4.0<span class="visually-hidden"> out of 5</span>' in body
    )
    assert "4 reviews" in body
    bars = re.findall(
        r'<progress class="rating-bar" max="100" value="(\d+)" aria-label="([^"]+)"', body
    )
    assert bars == [
        ("50", "5 stars: 2 reviews, 50%"),
        ("25", "4 stars: 1 review, 25%"),
        ("0", "3 stars: 0 reviews, 0%"),
        ("25", "2 stars: 1 review, 25%"),
        ("0", "1 star: 0 reviews, 0%"),
    ]


def test_the_header_shows_the_stored_rating(client, mentor):
    reviews_of(mentor, [4])
    assert "★ 4.0 · 1 review ·" in text_of(client.get(mentor_url(mentor)))


@pytest.mark.parametrize("viewer", ["anonymous", "other", "owner", "staff"])
def test_reviewers_appear_as_first_name_and_last_initial_only(client, mentor, staff, viewer):
    reviewer = UserFactory(name="Theo van Mitchell", email="theo.private@example.com")
    session = SessionFactory(
        mentor=mentor, mentee=MenteeProfileFactory(user=reviewer), title="Intro call", start=ENDED
    )
    ReviewFactory(session=session, rating=4, feedback="Clear and kind advice.")
    if viewer != "anonymous":
        client.force_login({"other": UserFactory(), "owner": mentor.user, "staff": staff}[viewer])

    for url in (mentor_url(mentor), reviews_url(mentor)):
        body = client.get(url).content.decode()
        assert '<span class="fw-semibold ms-1">Theo M.</span>' in body
        assert "Mitchell" not in body
        assert "theo.private" not in body
        assert "Intro call · November 2026" in body
        assert 'aria-label="Rated 4 out of 5 stars"' in body
        assert "Clear and kind advice." in body


def test_a_one_word_or_empty_name_shows_as_it_is(client, mentor):
    reviews_of(mentor, [5, 4], names=["Cher", ""])
    body = client.get(mentor_url(mentor)).content.decode()
    assert '<span class="fw-semibold ms-1">Cher</span>' in body
    assert '<span class="fw-semibold ms-1">A mentee</span>' in body


def test_reviews_are_escaped(client, mentor):
    reviews_of(mentor, [4], names=["<b>Eve</b> Hacker"])
    Review.objects.update(feedback="<script>alert(1)</script>")
    body = client.get(mentor_url(mentor)).content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>Eve</b>" not in body


def test_hidden_reviews_are_absent_and_do_not_count(client, mentor, staff):
    kept, hidden = reviews_of(mentor, [5, 1])
    hide_review(review=hidden, by=staff)
    for url in (mentor_url(mentor), reviews_url(mentor)):
        body = client.get(url).content.decode()
        assert kept.feedback in body
        assert hidden.feedback not in body
        assert f"review-{hidden.pk}" not in body
        assert "1 review" in body and "5.0" in body


def test_the_mentors_reply_shows_under_the_review(client, mentor):
    [review] = reviews_of(mentor, [5])
    ReviewReplyFactory(review=review, body="Thank you, Theo!")
    body = client.get(mentor_url(mentor)).content.decode()
    assert "Reply from Maya Mentor" in body
    assert "Thank you, Theo!" in body


def test_no_reviews_yet(client, mentor):
    for url in (mentor_url(mentor), reviews_url(mentor)):
        body = client.get(url).content.decode()
        assert "No reviews yet. Reviews come only from mentees who had a session." in body
        assert "rating-bar" not in body


def feedback_shown(response) -> list[int]:
    return [int(n) for n in re.findall(r"Feedback number (\d+)\.", response.content.decode())]


def test_reviews_are_newest_first_and_paginated(client, mentor):
    reviews_of(mentor, [5] * 23)

    page = client.get(mentor_url(mentor))
    assert feedback_shown(page) == list(range(22, 12, -1))
    assert f'<a href="{reviews_url(mentor, 2)}">Older reviews →</a>' in page.content.decode()

    first = client.get(reviews_url(mentor))
    assert feedback_shown(first) == list(range(22, 12, -1))
    second = client.get(reviews_url(mentor, 2))
    assert feedback_shown(second) == list(range(12, 2, -1))
    body = second.content.decode()
    assert f'rel="prev" href="{reviews_url(mentor, 1)}"' in body
    assert f'rel="next" href="{reviews_url(mentor, 3)}"' in body
    assert "Page 2 of 3" in body
    third = client.get(reviews_url(mentor, 3))
    assert feedback_shown(third) == [2, 1, 0]
    assert 'rel="next"' not in third.content.decode()


@pytest.mark.parametrize(
    ("page", "shown"),
    [("abc", 1), ("0", 1), ("-3", 1), ("999", 2), ("9" * 5000, 1), ("1\x00", 1)],
    ids=["abc", "0", "negative", "past the end", "huge", "nul"],
)
def test_a_bad_page_number_gives_a_page_not_an_error(client, mentor, page, shown):
    reviews_of(mentor, [4] * 12)
    response = client.get(reviews_url(mentor), {"page": page})
    assert response.status_code == 200
    assert f"Page {shown} of 2" in response.content.decode()


def test_the_reviews_page_follows_the_mentor_pages_visibility(client, mentor, staff):
    reviews_of(mentor, [4])
    MentorProfile.objects.filter(pk=mentor.pk).update(is_accepting_bookings=False)
    assert client.get(reviews_url(mentor)).status_code == 404
    client.force_login(UserFactory())
    assert client.get(reviews_url(mentor)).status_code == 404
    for viewer in (mentor.user, staff):
        client.force_login(viewer)
        assert client.get(reviews_url(mentor)).status_code == 200
    assert client.get("/mentors/nobody/reviews/").status_code == 404


def test_the_reviews_page_is_read_only(client, mentor):
    assert client.post(reviews_url(mentor)).status_code == 405


def test_a_new_review_shows_at_once_although_the_page_is_cached(
    client, session, mentee_user, django_capture_on_commit_callbacks
):
    assert "No reviews yet" in client.get(mentor_url(session.mentor)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        submit_review(session=session, by=mentee_user, rating=4, feedback="Fresh feedback.")
    for url in (mentor_url(session.mentor), reviews_url(session.mentor)):
        body = text_of(client.get(url))
        assert "Fresh feedback." in body
        assert "★ 4.0 · 1 review" in body or url != mentor_url(session.mentor)


def test_only_the_owner_gets_reply_forms(client, mentor, staff):
    [review] = reviews_of(mentor, [4])
    form = f'action="{reply_url(review)}"'
    assert form not in client.get(mentor_url(mentor)).content.decode()
    for viewer in (UserFactory(), staff, review.mentee.user):
        client.force_login(viewer)
        assert form not in client.get(mentor_url(mentor)).content.decode()
    client.force_login(mentor.user)
    for url in (mentor_url(mentor), reviews_url(mentor)):
        assert form in client.get(url).content.decode()


def test_everyone_gets_a_report_link_signed_in_users_the_inline_form(client, mentor):
    [review] = reviews_of(mentor, [4])
    body = client.get(mentor_url(mentor)).content.decode()
    assert f'href="{report_url(review)}?next=/mentors/maya-mentor/"' in body
    assert "hx-get" not in body.split('id="reviews"')[1]
    client.force_login(UserFactory())
    body = client.get(mentor_url(mentor)).content.decode()
    assert f'hx-get="{report_url(review)}?next=/mentors/maya-mentor/"' in body


# Cold caches, as in mentorship/tests/test_views_mentor_page.py: the mentor
# page's own queries and the reviews' two (the summary, then one page with
# sessions, reviewers and replies joined). Signed in adds the Django
# session, the user and the navbar's roles; the owner's copy (with reply
# forms) is never cached. The reviews page is the mentor, then the reviews.
PAGE_QUERIES = {
    ("mentor page", "anonymous"): 9,
    ("mentor page", "signed-in"): 12,
    ("mentor page", "owner"): 12,
    ("reviews page", "anonymous"): 3,
    ("reviews page", "signed-in"): 6,
    ("reviews page", "owner"): 6,
}


@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize("viewer", ["anonymous", "signed-in", "owner"])
@pytest.mark.parametrize("page", ["mentor page", "reviews page"])
def test_the_query_budget_is_the_same_for_1_or_50_reviews(
    client, mentor, staff, count, viewer, page, django_assert_max_num_queries
):
    made = reviews_of(mentor, [number % 5 + 1 for number in range(count)])
    for review in made[::2]:
        ReviewReplyFactory(review=review)
    if viewer == "signed-in":
        client.force_login(UserFactory())
    elif viewer == "owner":
        client.force_login(mentor.user)
    url = mentor_url(mentor) if page == "mentor page" else reviews_url(mentor)

    with django_assert_max_num_queries(PAGE_QUERIES[page, viewer]):
        response = client.get(url)

    assert response.status_code == 200
    assert len(feedback_shown(response)) == min(count, 10)
    with django_assert_max_num_queries(PAGE_QUERIES[page, viewer] if viewer == "owner" else 4):
        assert client.get(url).status_code == 200  # warm: the fragments are cached


# --- Replies ---------------------------------------------------------------------------------


@pytest.fixture
def review(session) -> Review:
    return reviewed(session, rating=4, feedback="Clear and kind advice.")


def test_the_mentor_replies_and_returns_to_where_they_were(client, review):
    client.force_login(review.mentor.user)
    back = reviews_url(review.mentor, 1)
    response = client.post(reply_url(review), {"body": "Thank you, Theo!", "next": back})
    assert response.status_code == 302
    assert response["Location"] == f"{back}#review-{review.pk}"
    assert messages_of(response) == ["Your reply is published."]
    assert ReviewReply.objects.get(review=review).body == "Thank you, Theo!"

    response = client.post(reply_url(review), {"body": "Thank you again!"})
    assert response["Location"] == f"{mentor_url(review.mentor)}#review-{review.pk}"
    assert messages_of(response)[-1:] == ["Your reply was updated."]
    assert ReviewReply.objects.get(review=review).body == "Thank you again!"


def test_the_reply_page_works_without_javascript(client, review):
    ReviewReplyFactory(review=review, body="Earlier words.")
    client.force_login(review.mentor.user)
    page = client.get(reply_url(review))
    assert page.status_code == 200
    assert ">Earlier words.</textarea>" in page.content.decode()
    assert f'action="{reply_delete_url(review)}"' in page.content.decode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Please write a reply (or delete it instead)."),
        ("   ", "Please write a reply (or delete it instead)."),
        ("x" * 2001, "Please keep your reply to 2000 characters or fewer (it has 2001)."),
    ],
    ids=["empty", "blank", "too long"],
)
def test_a_bad_reply_is_400_with_the_message(client, review, body, message):
    client.force_login(review.mentor.user)
    response = client.post(reply_url(review), {"body": body})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReviewReply.objects.exists()


def test_an_unsafe_next_goes_to_the_mentor_page(client, review):
    client.force_login(review.mentor.user)
    response = client.post(
        reply_url(review), {"body": "Thanks!", "next": "https://evil.example.com/"}
    )
    assert response["Location"] == f"{mentor_url(review.mentor)}#review-{review.pk}"


# Each unsafe ``next`` falls back to the mentor page. "foo" (no leading slash)
# used to reach redirect() as a URL name: a 500, after the reply or report
# was saved (issue 14).
UNSAFE_NEXTS = [
    "foo",
    "mentors/maya-mentor/",
    "https://evil.example.com/",
    "//evil.example.com/x",
    "/\\evil.example.com/",
    "javascript:alert(1)",
    "/mentors/\x7f/",
    "",
]


@pytest.mark.parametrize("unsafe", UNSAFE_NEXTS)
def test_an_unsafe_next_of_a_reply_goes_to_the_mentor_page(client, review, unsafe):
    client.force_login(review.mentor.user)
    page = client.get(reply_url(review), {"next": unsafe})
    assert page.status_code == 200
    assert 'name="next" value=""' in page.content.decode()  # not carried into the form
    response = client.post(reply_url(review), {"body": "Thanks!", "next": unsafe})
    assert response.status_code == 302
    assert response["Location"] == f"{mentor_url(review.mentor)}#review-{review.pk}"
    assert ReviewReply.objects.get().body == "Thanks!"


@pytest.mark.parametrize("unsafe", UNSAFE_NEXTS)
def test_an_unsafe_next_of_a_report_goes_to_the_mentor_page(client, review, unsafe):
    client.force_login(UserFactory())
    response = client.post(report_url(review), {"reason": "Off topic.", "next": unsafe})
    assert response.status_code == 302
    assert response["Location"] == f"{mentor_url(review.mentor)}#review-{review.pk}"
    assert ReviewReport.objects.count() == 1
    # The author, sent back at once, goes the same way.
    client.force_login(review.mentee.user)
    response = client.get(report_url(review), {"next": unsafe})
    assert response["Location"] == f"{mentor_url(review.mentor)}#review-{review.pk}"


@pytest.mark.parametrize("who", ["author", "other", "staff", "other mentor"])
def test_only_the_reviews_mentor_may_reply(client, review, staff, who):
    ReviewReplyFactory(review=review, body="Mine.")
    users = {
        "author": review.mentee.user,
        "other": UserFactory(),
        "staff": staff,
        "other mentor": MentorProfileFactory().user,
    }
    client.force_login(users[who])
    assert client.get(reply_url(review)).status_code == 404
    assert client.post(reply_url(review), {"body": "Hijacked"}).status_code == 404
    assert client.post(reply_delete_url(review)).status_code == 404
    assert ReviewReply.objects.get().body == "Mine."


def test_anonymous_visitors_are_sent_to_sign_in_before_replying(client, review):
    for url in (reply_url(review), reply_delete_url(review)):
        response = client.post(url, {"body": "Anonymous"})
        assert response.status_code == 302
        assert response["Location"] == login_required_url(url)
    assert not ReviewReply.objects.exists()


def test_no_reply_to_a_hidden_review(client, review, staff):
    hide_review(review=review, by=staff)
    client.force_login(review.mentor.user)
    assert client.post(reply_url(review), {"body": "Hello"}).status_code == 404


def test_the_mentor_deletes_their_reply(client, review):
    ReviewReplyFactory(review=review)
    client.force_login(review.mentor.user)
    assert client.get(reply_delete_url(review)).status_code == 405
    response = client.post(reply_delete_url(review))
    assert response.status_code == 302
    assert messages_of(response) == ["Your reply was deleted."]
    assert not ReviewReply.objects.exists()
    assert client.post(reply_delete_url(review)).status_code == 404  # nothing left


def test_an_unknown_review_is_404(client, mentor):
    client.force_login(mentor.user)
    missing = uuid.uuid4()
    for name in ("reply", "reply_delete", "report"):
        assert (
            client.post(reverse(f"reviews:{name}", kwargs={"review_id": missing})).status_code
            == 404
        )


# --- Reports ---------------------------------------------------------------------------------

REPORTED = "Thank you — our moderators will look at this review."
ALREADY = "You have already reported this review."


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_sign_in_before_reporting(client, review, method):
    data = {"reason": "Spam"} if method == "post" else {}
    response = getattr(client, method)(report_url(review), data)
    assert response.status_code == 302
    assert response["Location"] == login_required_url(report_url(review))
    assert not ReviewReport.objects.exists()


@pytest.mark.parametrize("who", ["other", "staff", "the mentor"])
def test_a_signed_in_user_reports_once(client, review, staff, who):
    reporter = {"other": UserFactory(), "staff": staff, "the mentor": review.mentor.user}[who]
    client.force_login(reporter)
    page = client.get(report_url(review), {"next": "/mentors/maya-mentor/"})
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    assert "Clear and kind advice." in page.content.decode()

    response = client.post(
        report_url(review), {"reason": "Off topic.", "next": "/mentors/maya-mentor/"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/mentors/maya-mentor/#review-{review.pk}"
    assert messages_of(response) == [REPORTED]
    report = ReviewReport.objects.get()
    assert (report.review, report.reporter, report.reason) == (review, reporter, "Off topic.")

    response = client.post(report_url(review), {"reason": "Again."})
    assert messages_of(response)[-1:] == [ALREADY]  # after the unread first one
    assert ReviewReport.objects.count() == 1


def test_a_report_needs_a_reason(client, review):
    client.force_login(UserFactory())
    response = client.post(report_url(review), {"reason": "  "})
    assert response.status_code == 400
    assert "Please tell us what is wrong with this review." in response.content.decode()
    response = client.post(report_url(review), {"reason": "x" * 1001})
    assert response.status_code == 400
    assert not ReviewReport.objects.exists()


def test_the_author_cannot_report_their_own_review(client, review):
    client.force_login(review.mentee.user)
    response = client.post(report_url(review), {"reason": "Oops"})
    assert response.status_code == 302
    assert messages_of(response) == [
        "This is your own review: you can change it from the session page."
    ]
    assert not ReviewReport.objects.exists()


def test_hidden_reviews_and_hidden_mentors_cannot_be_reported(client, review, staff):
    client.force_login(UserFactory())
    MentorProfile.objects.filter(pk=review.mentor_id).update(is_accepting_bookings=False)
    assert client.get(report_url(review)).status_code == 404
    MentorProfile.objects.filter(pk=review.mentor_id).update(is_accepting_bookings=True)
    hide_review(review=review, by=staff)
    assert client.post(report_url(review), {"reason": "Spam"}).status_code == 404
    assert not ReviewReport.objects.exists()


def test_with_htmx_the_form_and_the_answer_are_partials(client, review):
    client.force_login(UserFactory())
    headers = {"HX-Request": "true"}
    form = client.get(report_url(review), headers=headers)
    assert form.status_code == 200
    assert "<html" not in form.content.decode()
    assert f'hx-post="{report_url(review)}"' in form.content.decode()

    invalid = client.post(report_url(review), {"reason": ""}, headers=headers)
    assert invalid.status_code == 200  # htmx swaps only 2xx answers
    assert "Please tell us what is wrong with this review." in invalid.content.decode()

    done = client.post(report_url(review), {"reason": "Spam"}, headers=headers)
    assert done.status_code == 200
    assert REPORTED in done.content.decode() and "<html" not in done.content.decode()
    again = client.post(report_url(review), {"reason": "Spam"}, headers=headers)
    assert ALREADY in again.content.decode()
    assert ReviewReport.objects.count() == 1
    assert messages_of(done) == []  # the answer is in place, not on the next page


def test_existing_reports_from_others_do_not_block_a_new_one(client, review):
    ReviewReportFactory(review=review)
    client.force_login(UserFactory())
    assert messages_of(client.post(report_url(review), {"reason": "Rude."})) == [REPORTED]
    assert ReviewReport.objects.count() == 2
