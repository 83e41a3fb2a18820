"""A mentor page's reviews cost the same for 30 reviews as for 30,000.

The rating summary reads the per-star counts stored on the profile (no
query, ``test_services``), and a page of reviews is a walk of the visible
reviews' index in the page's order (PostgreSQL, ``EXPLAIN (FORMAT JSON)``),
with no Sort node and no count of the reviews.

The tables here are small, where the planner may rightly prefer reading a
whole table; so sequential scans and sorts are turned off for the statement
(discouraged, not forbidden): a Sort node then still appears if no index
gives the order. (On the benchmark database, with 30,000 reviews of one
mentor, the planner chooses this plan itself.)
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import discouraged_plan, plan_nodes
from mentorship.tests.factories import MentorProfileFactory
from reviews.selectors import visible_reviews
from reviews.views import PAGE_SIZE, mentor_reviews_context

from .factories import ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed():
    mentor = MentorProfileFactory()
    ReviewFactory.create_batch(25, session__mentor=mentor, recompute=False)
    ReviewFactory(session__mentor=mentor)  # brings the stored counts up to date
    ReviewFactory.create_batch(5, recompute=False)  # other mentors'
    mentor.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reviews_review")
    return mentor


@pytest.mark.parametrize("page", [1, 3])
def test_a_page_of_reviews_is_one_query_without_a_count(reviewed, page):
    context = mentor_reviews_context(mentor=reviewed, page=page, on_reviews_page=True)
    with CaptureQueriesContext(connection) as queries:
        summary = context["summary"]
        assert summary.count == 26
        shown = list(context["reviews_page"].object_list)
    assert len(shown) == (PAGE_SIZE if page == 1 else 6)
    assert len(queries) == 1
    assert "COUNT(" not in queries.captured_queries[0]["sql"]


@pytest.mark.postgres
@pytest.mark.parametrize("offset", [0, 20])
def test_a_page_of_reviews_walks_the_visible_reviews_index(reviewed, offset):
    if connection.vendor != "postgresql":
        pytest.skip("plans are PostgreSQL's; this run is on SQLite")
    with CaptureQueriesContext(connection) as queries:
        list(visible_reviews(reviewed)[offset : offset + PAGE_SIZE])
    nodes = plan_nodes(discouraged_plan(queries.captured_queries[0]["sql"]))
    types = [node["Node Type"] for node in nodes]
    assert "Sort" not in types and "Incremental Sort" not in types, types
    reviews = [node for node in nodes if node.get("Relation Name") == "reviews_review"]
    assert [(node["Node Type"], node.get("Index Name")) for node in reviews] == [
        ("Index Scan", "review_mentor_visible_order")
    ], reviews


def test_the_mentor_page_runs_the_same_statements_for_1_review_and_26(client, reviewed):
    def statements(mentor):
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/mentors/{mentor.slug}/").status_code == 200
        return [query["sql"].split(" WHERE ")[0] for query in queries.captured_queries]

    few = MentorProfileFactory()
    ReviewFactory(session__mentor=few)
    assert statements(few) == statements(reviewed)
