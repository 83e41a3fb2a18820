"""The back office for reviews and reports.

Staff look, hide and restore (through the services, so the mentor's rating
follows), and resolve reports; nobody edits a rating or text or adds a review.
Staff with ``reviews.delete_review`` delete reviews (with their reply and
reports) through ``delete_review``; reports are never deleted on their own.
"""

import re
from decimal import Decimal

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory
from conftest import messages_of, result_rows
from core.cache import mentor_page_versions
from mentorship.models import MentorProfile
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from reviews.models import Review, ReviewReply, ReviewReport
from reviews.services import review_refusal
from scheduling.models import Session

from .factories import ReviewFactory, ReviewReplyFactory, ReviewReportFactory

pytestmark = pytest.mark.django_db


def page_versions() -> list[str]:
    """The cache versions of every mentor's page: a review service bumps its
    mentor's (``core.cache.mentor_changed``), no longer every page's."""
    return [
        mentor_page_versions(slug).fragments
        for slug in MentorProfile.objects.order_by("slug").values_list("slug", flat=True)
    ]


REVIEWS = "/admin/reviews/review/"
REPORTS = "/admin/reviews/reviewreport/"


def row(review) -> dict:
    values = Review.objects.filter(pk=review.pk).values().get()
    values.pop("updated_at")
    return values


def stored_rating(mentor) -> tuple[Decimal, int]:
    row = MentorProfile.objects.filter(pk=mentor.pk).values("rating_avg", "rating_count").get()
    return row["rating_avg"], row["rating_count"]


@pytest.fixture
def reviews(db):
    ada = MentorProfileFactory(user=UserFactory(name="Ada Lovelace"))
    grace = MentorProfileFactory(user=UserFactory(name="Grace Hopper"))
    mia = MenteeProfileFactory(user=UserFactory(name="Mia Mentee"))
    noor = MenteeProfileFactory(user=UserFactory(name="Noor Learner"))
    made = {
        "kind": ReviewFactory(
            session__mentor=ada, session__mentee=mia, rating=5, feedback="Kind and clear."
        ),
        "rude": ReviewFactory(
            session__mentor=ada, session__mentee=noor, rating=1, feedback="Useless, a scam."
        ),
        "fine": ReviewFactory(
            session__mentor=grace, session__mentee=noor, rating=4, feedback="Good pointers."
        ),
    }
    ReviewReportFactory.create_batch(2, review=made["rude"])
    ReviewReportFactory(review=made["kind"], status=ReviewReport.Status.RESOLVED)
    return made


def feedback_shown(response) -> set[str]:
    found = set()
    for html in result_rows(response):
        for review in Review.objects.all():
            if f"/admin/reviews/review/{review.pk}/change/" in html:
                found.add(review.feedback)
    return found


# --- Who gets in ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["non-staff", "anonymous"])
@pytest.mark.parametrize("url", [REVIEWS, REPORTS, REVIEWS + "{kind}/delete/"])
def test_non_staff_are_sent_to_sign_in(client, reviews, url, who):
    kind = reviews["kind"]
    if who == "non-staff":
        client.force_login(kind.mentor.user)
    url = url.format(kind=kind.pk)
    for response in (client.get(url), client.post(url, {"post": "yes"})):
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    assert Review.objects.filter(pk=kind.pk).exists()


# --- The reviews list -----------------------------------------------------------------------


def test_the_list_shows_who_wrote_what_and_the_open_reports(staff_client, reviews):
    response = staff_client.get(REVIEWS)
    rows = result_rows(response)
    rude = next(html for html in rows if str(reviews["rude"].pk) in html)
    assert "Ada Lovelace" in rude
    assert "Noor Learner" in rude
    assert '<td class="field-rating">1</td>' in rude
    # Two open reports, linked to those reports.
    assert f'href="{REPORTS}?review={reviews["rude"].pk}&amp;status=open">2</a>' in rude
    kind = next(html for html in rows if str(reviews["kind"].pk) in html)
    assert '<td class="field-open_reports_link">0</td>' in kind  # its report is resolved


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rating__exact=1", {"Useless, a scam."}),
        ("is_hidden__exact=0", {"Kind and clear.", "Useless, a scam.", "Good pointers."}),
        ("reports=open", {"Useless, a scam."}),
        ("reports=any", {"Useless, a scam.", "Kind and clear."}),
        ("reports=none", {"Good pointers."}),
        ("q=grace", {"Good pointers."}),
        ("q=noor", {"Useless, a scam.", "Good pointers."}),
        ("q=scam", {"Useless, a scam."}),
    ],
)
def test_the_list_filters_and_searches(staff_client, reviews, query, expected):
    assert feedback_shown(staff_client.get(f"{REVIEWS}?{query}")) == expected


def test_the_mentor_filter(staff_client, reviews):
    ada = reviews["kind"].mentor
    assert feedback_shown(staff_client.get(f"{REVIEWS}?mentor__id__exact={ada.pk}")) == {
        "Kind and clear.",
        "Useless, a scam.",
    }


# Session, user, the mentor filter's mentors with their users, the filtered
# count, the full count, the page of reviews with mentors, reviewers and the
# report counts: the same for 1 and 50.
REVIEW_CHANGELIST_QUERIES = 7


@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize(
    "params",
    ["", "?rating__exact=5", "?reports=open", "?q=helpful", "?o=3"],
    ids=["all", "rating", "reported", "search", "sorted-by-reviewer"],
)
def test_review_changelist_query_budget(staff_client, django_assert_max_num_queries, count, params):
    # Each review with a mentor, a reviewer and two open reports of its own.
    for _ in range(count):
        review = ReviewFactory(rating=5, feedback="A helpful session.", recompute=False)
        ReviewReportFactory.create_batch(2, review=review)
    with django_assert_max_num_queries(REVIEW_CHANGELIST_QUERIES):
        response = staff_client.get(f"{REVIEWS}{params}")
    assert len(result_rows(response)) == count


# --- The review page ------------------------------------------------------------------------


def test_the_review_page_shows_everything_read_only(staff_client, reviews):
    rude = reviews["rude"]
    ReviewReplyFactory(review=rude, body="I am sorry you felt that way.")
    response = staff_client.get(f"{REVIEWS}{rude.pk}/change/")
    assert response.status_code == 200
    text = response.text
    for shown in (
        "Useless, a scam.",
        "I am sorry you felt that way.",
        "Ada Lovelace",
        "Noor Learner",
        f"/admin/scheduling/session/{rude.session_id}/change/",
        "This review is not about the session.",  # the reports, inline
        f'href="{REPORTS}?review={rude.pk}">2 reports (2 open)</a>',
    ):
        assert shown in text, shown
    # Nothing to type into and nothing to save: staff never edit a review (the
    # hidden inputs are the reports inline's formset bookkeeping).
    assert not re.search(r'<(input(?![^>]*type="hidden")|textarea|select)[^>]*name="', text)
    assert 'name="_save"' not in text
    # A review without a reply or reports has its page too.
    assert staff_client.get(f"{REVIEWS}{reviews['fine'].pk}/change/").status_code == 200


def test_reviews_cannot_be_added_or_changed(staff_client, reviews):
    rude = reviews["rude"]
    before = row(rude)
    assert staff_client.get(f"{REVIEWS}add/").status_code == 403
    response = staff_client.post(
        f"{REVIEWS}{rude.pk}/change/", {"rating": "5", "feedback": "Great!", "_save": "Save"}
    )
    assert response.status_code == 403
    assert row(rude) == before


# --- Hiding and restoring -------------------------------------------------------------------


def act(client, action: str, selected, url=REVIEWS):
    """The changelist's action POST, followed to the list it redirects to
    (which shows, and so uses up, the action's messages)."""
    return client.post(
        url,
        {"action": action, "_selected_action": [str(item.pk) for item in selected]},
        follow=True,
    )


def test_hiding_goes_through_the_service(
    staff_client, staff, reviews, django_capture_on_commit_callbacks
):
    rude, kind = reviews["rude"], reviews["kind"]
    ada = rude.mentor
    assert stored_rating(ada) == (Decimal("3.00"), 2)
    version = page_versions()

    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff_client, "hide_reviews", [rude])

    assert response.redirect_chain == [(REVIEWS, 302)]
    rude.refresh_from_db()
    assert (rude.is_hidden, rude.hidden_by) == (True, staff)
    assert stored_rating(ada) == (Decimal("5.00"), 1)
    assert page_versions() != version
    # Its open reports are resolved.
    assert not ReviewReport.objects.filter(review=rude, status="open").exists()
    assert messages_of(response) == ["Hid 1 review; the mentors' ratings are updated."]
    # Hidden and visible together: the hidden one is reported as such.
    response = act(staff_client, "hide_reviews", [rude, kind])
    assert messages_of(response) == [
        "Hid 1 review; the mentors' ratings are updated.",
        "1 review was already hidden.",
    ]
    assert stored_rating(ada) == (Decimal("0.00"), 0)


def test_restoring_goes_through_the_service(staff_client, reviews):
    rude = reviews["rude"]
    act(staff_client, "hide_reviews", [rude])
    response = act(staff_client, "restore_reviews", [rude, reviews["fine"]])
    rude.refresh_from_db()
    assert (rude.is_hidden, rude.hidden_at, rude.hidden_by) == (False, None, None)
    assert stored_rating(rude.mentor) == (Decimal("3.00"), 2)
    assert messages_of(response) == [
        "Restored 1 review; the mentors' ratings are updated.",
        "1 review was already visible.",
    ]
    # The review's history says who did what.
    history = staff_client.get(f"{REVIEWS}{rude.pk}/history/").text
    assert "Hidden." in history
    assert "Restored." in history


def test_staff_who_may_only_view_reviews_cannot_hide(client, reviews):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reviews", codename__in=["view_review", "view_reviewreport"]
        )
    )
    client.force_login(viewer)
    response = client.get(REVIEWS)
    assert len(result_rows(response)) == 3
    assert "hide_reviews" not in response.text
    rude = reviews["rude"]
    before = row(rude)
    act(client, "hide_reviews", [rude])
    assert row(rude) == before
    assert "mark_resolved" not in client.get(REPORTS).text
    act(client, "mark_resolved", list(ReviewReport.objects.all()), url=REPORTS)
    assert ReviewReport.objects.filter(status="open").count() == 2


# --- Deleting -------------------------------------------------------------------------------


def test_a_superuser_deletes_a_review_from_its_page(
    staff_client, staff, reviews, django_capture_on_commit_callbacks
):
    rude = reviews["rude"]
    ada = rude.mentor
    ReviewReplyFactory(review=rude, body="I am sorry you felt that way.")
    assert stored_rating(ada) == (Decimal("3.00"), 2)
    # The review's page links to Django's confirmation page, which lists what
    # goes with the review: its reply and its two reports.
    assert (
        f'href="{REVIEWS}{rude.pk}/delete/"' in staff_client.get(f"{REVIEWS}{rude.pk}/change/").text
    )
    response = staff_client.get(f"{REVIEWS}{rude.pk}/delete/")
    assert response.status_code == 200
    text = response.text
    assert "Are you sure you want to delete the review" in text
    assert f"Review reply: reply to {rude.pk}" in text
    assert text.count(f'Review report: <a href="{REPORTS}') == 2
    assert "Review replies: 1" in text  # the summary of what goes
    assert "permission to delete" not in text  # the reports do not stand in the way
    version = page_versions()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{REVIEWS}{rude.pk}/delete/", {"post": "yes"}, follow=True)

    assert response.redirect_chain == [(REVIEWS, 302)]
    assert messages_of(response) == [f"The review “{rude}” was deleted successfully."]
    assert not Review.objects.filter(pk=rude.pk).exists()
    assert not ReviewReply.objects.exists()
    assert not ReviewReport.objects.filter(review_id=rude.pk).exists()
    assert ReviewReport.objects.filter(review=reviews["kind"]).count() == 1  # another review's
    assert stored_rating(ada) == (Decimal("5.00"), 1)
    assert page_versions() != version
    # Django's history records who deleted what.
    entry = LogEntry.objects.get(object_id=str(rude.pk))
    assert (entry.action_flag, entry.user_id, entry.object_repr) == (DELETION, staff.pk, str(rude))
    # The session stays, and its mentee may review it again.
    session = Session.objects.select_related("mentor", "mentee").get(pk=rude.session_id)
    assert review_refusal(session=session, user=rude.mentee.user, now=session.end) is None


def test_delete_selected_deletes_each_review_through_the_service(staff_client, reviews):
    rude, kind, fine = reviews["rude"], reviews["kind"], reviews["fine"]
    ada, grace = rude.mentor, fine.mentor
    assert "delete_selected" in staff_client.get(REVIEWS).text
    selected = [str(review.pk) for review in (rude, fine)]
    # Django's confirmation page first ...
    response = staff_client.post(
        REVIEWS, {"action": "delete_selected", "_selected_action": selected}
    )
    assert response.status_code == 200
    assert "Are you sure you want to delete the selected reviews?" in response.text
    assert "permission to delete" not in response.text
    assert Review.objects.count() == 3
    # ... then the deletion.
    response = staff_client.post(
        REVIEWS,
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
        follow=True,
    )
    assert messages_of(response) == ["Successfully deleted 2 reviews."]
    assert list(Review.objects.values_list("pk", flat=True)) == [kind.pk]
    assert list(ReviewReport.objects.values_list("review", flat=True)) == [kind.pk]
    # Both mentors' ratings are recomputed.
    assert stored_rating(ada) == (Decimal("5.00"), 1)
    assert stored_rating(grace) == (Decimal("0.00"), 0)
    assert set(
        LogEntry.objects.filter(action_flag=DELETION).values_list("object_id", flat=True)
    ) == set(selected)


def test_staff_without_the_delete_permission_cannot_delete(client, reviews):
    moderator = UserFactory(is_staff=True)
    moderator.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reviews",
            codename__in=["view_review", "change_review", "view_reviewreport"],
        )
    )
    client.force_login(moderator)
    rude = reviews["rude"]
    before = row(rude)
    response = client.get(REVIEWS)
    assert "hide_reviews" in response.text  # they moderate ...
    assert "delete_selected" not in response.text  # ... but do not delete
    assert f"{REVIEWS}{rude.pk}/delete/" not in client.get(f"{REVIEWS}{rude.pk}/change/").text
    assert client.get(f"{REVIEWS}{rude.pk}/delete/").status_code == 403
    assert client.post(f"{REVIEWS}{rude.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(
        REVIEWS,
        {"action": "delete_selected", "_selected_action": [str(rude.pk)], "post": "yes"},
    )
    assert row(rude) == before
    assert ReviewReport.objects.filter(review=rude).count() == 2
    assert stored_rating(rude.mentor) == (Decimal("3.00"), 2)


# --- Reports --------------------------------------------------------------------------------


def test_the_reports_list_links_each_report_to_its_review(staff_client, reviews):
    rude = reviews["rude"]
    rows = result_rows(staff_client.get(f"{REPORTS}?status__exact=open"))
    assert len(rows) == 2
    for html in rows:
        assert f'href="{REVIEWS}{rude.pk}/change/">1★ for Ada Lovelace</a>' in html
        assert "This review is not about the session." in html
    # The review list's links: one review's (open) reports.
    assert len(result_rows(staff_client.get(f"{REPORTS}?review={rude.pk}&status=open"))) == 2
    assert len(result_rows(staff_client.get(f"{REPORTS}?review={reviews['kind'].pk}"))) == 1


def test_mark_resolved_leaves_the_review_alone(staff_client, staff, reviews):
    rude = reviews["rude"]
    reports = list(ReviewReport.objects.all())
    response = act(staff_client, "mark_resolved", reports, url=REPORTS)
    assert messages_of(response) == ["Resolved 2 reports.", "1 report was already resolved."]
    assert set(ReviewReport.objects.values_list("status", "resolved_by")) == {
        ("resolved", staff.pk),
        ("resolved", None),  # the one resolved before, by nobody in particular
    }
    rude.refresh_from_db()
    assert not rude.is_hidden


def test_reports_cannot_be_added_changed_or_deleted(staff_client, reviews):
    report = ReviewReport.objects.filter(review=reviews["rude"]).first()
    assert staff_client.get(f"{REPORTS}add/").status_code == 403
    assert staff_client.get(f"{REPORTS}{report.pk}/delete/").status_code == 403
    response = staff_client.post(f"{REPORTS}{report.pk}/change/", {"status": "resolved"})
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.status == "open"
    response = staff_client.get(f"{REPORTS}{report.pk}/change/")
    assert response.status_code == 200
    assert f"{REVIEWS}{reviews['rude'].pk}/change/" in response.text


# Session, user, the filtered count, the full count, the page of reports with
# reporters, reviews and mentors: the same for 1 and 50.
REPORT_CHANGELIST_QUERIES = 5


@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize("params", ["", "?status__exact=open", "?q=person"])
def test_report_changelist_query_budget(staff_client, django_assert_max_num_queries, count, params):
    for _ in range(count):
        ReviewReportFactory(review__recompute=False)
    with django_assert_max_num_queries(REPORT_CHANGELIST_QUERIES):
        response = staff_client.get(f"{REPORTS}{params}")
    assert len(result_rows(response)) == count
