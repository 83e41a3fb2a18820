"""The directory's cost does not grow with the mentors behind it.

Query counts (both databases): page 1 with one mentor and with fifty, and a
deep page, run the same statements; a page past the end costs one count
more. Plans (PostgreSQL, ``EXPLAIN (FORMAT JSON)``): the page's ids come from
a walk of the listed-mentors index in the page's order, with no Sort node and
no scan of the users, on page 1, on a deep page and for a search.

The tables here are small, where the planner may rightly prefer reading a
whole table; so the plan tests turn sequential scans and sorts off for the
statement (``enable_seqscan``/``enable_sort``: discouraged, not forbidden). A
Sort node then still appears if no index gives the order, and a Seq Scan if
no index answers the filter: their absence proves that one does. (On the
benchmark database, 10,000 mentors, the planner chooses these plans itself.)
"""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import discouraged_plan, plan_nodes
from mentorship import selectors
from mentorship.models import MentorProfile

from .factories import ExpertiseTagFactory, mentor_with_tags_and_links

pytestmark = pytest.mark.django_db


def page_statements(client, url: str) -> list[str]:
    """The SQL an anonymous first visit to ``url`` runs, cache cleared, with
    the literal ids and values made alike."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"].split(" WHERE ")[0] for query in queries.captured_queries]


def crowd(count: int) -> list[MentorProfile]:
    return [mentor_with_tags_and_links(user=UserFactory(name="A Mentor")) for _ in range(count)]


@pytest.mark.parametrize(
    "url", ["/mentors/", "/mentors/?sort=newest", "/mentors/?q=engineers", "/mentors/?sort=name"]
)
def test_one_mentor_fifty_and_a_deep_page_run_the_same_statements(client, url):
    crowd(1)
    one = page_statements(client, url)
    crowd(49)
    fifty = page_statements(client, url)
    deep = page_statements(client, url + ("&" if "?" in url else "?") + "page=3")
    assert one == fifty == deep
    # The page's mentors with their users (their ids in a subquery), their
    # tags, the filters' tags; a search in relevance order reads the ids of
    # the name matches, then of the others, first.
    assert len(one) == (5 if "q=" in url else 3)
    assert not any("COUNT(" in statement for statement in one)


def test_a_page_past_the_end_costs_one_count_and_shows_the_last_page(client):
    crowd(45)
    last = page_statements(client, "/mentors/?page=3")
    past = page_statements(client, "/mentors/?page=9")
    assert len(past) == len(last) + 2  # the empty page, the count
    assert sum("COUNT(" in statement for statement in past) == 1
    cache.clear()
    text = client.get("/mentors/?page=9").text
    assert "Mentors 41–45 of 45 · page 3" in text


def test_the_last_page_knows_the_total_and_other_pages_do_not(client):
    crowd(45)
    assert "Mentors 21–40 · page 2" in client.get("/mentors/?page=2").text
    assert "Mentors 41–45 of 45 · page 3" in client.get("/mentors/?page=3").text


def test_a_single_page_says_how_many(client):
    crowd(3)
    text = client.get("/mentors/").text
    assert "3 mentors" in text
    assert "· page" not in text


# --- Plans (PostgreSQL) ------------------------------------------------------------------------


def on_postgresql() -> None:
    if connection.vendor != "postgresql":
        # Not a missing service: CI's PostgreSQL pass runs these.
        pytest.skip("plans are PostgreSQL's; this run is on SQLite")


def path_to(root: dict, wanted) -> list[dict]:
    """The nodes from ``root`` down to the first node ``wanted(node)`` holds for."""
    if wanted(root):
        return [root]
    for child in root.get("Plans", []):
        path = path_to(child, wanted)
        if path:
            return [root, *path]
    return []


def page_statement(params: str) -> str:
    """The statement that reads a directory page's mentors (the first one)."""
    query = selectors.DirectoryQuery.from_params(QueryDict(params))
    with CaptureQueriesContext(connection) as queries:
        selectors.directory_page(query)
    return queries.captured_queries[0]["sql"]


@pytest.fixture
def many_mentors(db):
    """600 listed mentors (30 pages) with ratings, some not listed, an
    inactive account; then fresh statistics."""
    python = ExpertiseTagFactory(name="Python", slug="python")
    users = User.objects.bulk_create(
        User(email=f"mentor{number}@example.com", name=f"Mentor {number:04d}", timezone="UTC")
        for number in range(640)
    )
    mentors = MentorProfile.objects.bulk_create(
        MentorProfile(
            user=user,
            slug=f"mentor-{number:04d}",
            headline="Kubernetes and Go" if number % 7 == 0 else "Product design",
            is_accepting_bookings=number < 600,
            rating_avg=Decimal(number % 500) / 100,
            rating_count=number % 13,
        )
        for number, user in enumerate(users)
    )
    for mentor in mentors[::5]:
        mentor.expertise.add(python)
    User.objects.filter(pk=users[3].pk).update(is_active=False)
    with connection.cursor() as cursor:
        for table in ("accounts_user", "mentorship_mentorprofile", "mentorship_mentorexpertise"):
            cursor.execute(f"ANALYZE {table}")
    return mentors


def walks_the_listed_index(sql: str, index: str) -> None:
    """The page is a walk of ``index`` that a Limit stops: no Sort and no
    join between them (the inactive accounts are a SubPlan, read once from
    their partial index), no count; the page's rows are then read by key."""
    assert "COUNT(" not in sql
    root = discouraged_plan(sql)
    path = path_to(root, lambda node: node.get("Index Name") == index)
    assert path, plan_nodes(root)
    walk = path[-1]
    assert walk["Node Type"] in ("Index Only Scan", "Index Scan"), walk
    limits = [position for position, node in enumerate(path) if node["Node Type"] == "Limit"]
    assert limits, path
    between = path[limits[-1] :]
    types = [node["Node Type"] for node in between]
    assert "Sort" not in types and "Incremental Sort" not in types, types
    below_limit = plan_nodes(between[0])
    users = [node for node in below_limit if node.get("Relation Name") == "accounts_user"]
    assert all(node.get("Parent Relationship") == "SubPlan" for node in users), users
    assert all(node["Node Type"] != "Seq Scan" for node in plan_nodes(root)), root
    others = [
        node
        for node in plan_nodes(root)
        if node.get("Relation Name") == "mentorship_mentorprofile" and node is not walk
    ]
    assert all(node.get("Index Name") == "mentorship_mentorprofile_pkey" for node in others)


@pytest.mark.postgres
@pytest.mark.parametrize("page", ["1", "25"])
@pytest.mark.parametrize(
    ("sort", "index"),
    [("", "mentor_listed_by_rating"), ("sort=newest&", "mentor_listed_by_newest")],
)
def test_a_directory_page_walks_the_listed_index_without_sorting(many_mentors, sort, index, page):
    on_postgresql()
    sql = page_statement(f"{sort}page={page}")
    assert f"OFFSET {(int(page) - 1) * 20}" in sql or page == "1"
    walks_the_listed_index(sql, index)


@pytest.mark.postgres
def test_a_deep_page_is_the_same_plan_as_page_1(many_mentors):
    on_postgresql()
    first = plan_nodes(discouraged_plan(page_statement("page=1")))
    deep = plan_nodes(discouraged_plan(page_statement("page=30")))
    assert [node["Node Type"] for node in first] == [node["Node Type"] for node in deep]


@pytest.mark.postgres
def test_search_walks_the_rating_index_and_finds_names_by_their_trigram_index(many_mentors):
    on_postgresql()
    query = selectors.DirectoryQuery.from_params(QueryDict("q=kubernetes"))
    with CaptureQueriesContext(connection) as queries:
        page = selectors.directory_page(query)
    # 86 of the 600 listed mentors match by headline (one has no active account).
    assert len(page.object_list) == 20 and page.has_next
    names_first, others = queries.captured_queries[0]["sql"], queries.captured_queries[1]["sql"]
    walks_the_listed_index(others, "mentor_listed_by_rating")
    for statement in (names_first, others):
        nodes = plan_nodes(discouraged_plan(statement))
        assert any(node.get("Index Name") == "user_name_upper_trigram" for node in nodes), nodes
        users = [node for node in nodes if node.get("Relation Name") == "accounts_user"]
        assert all(node["Node Type"] != "Seq Scan" for node in users), users
