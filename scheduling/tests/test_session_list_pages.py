"""``/sessions/`` a page at a time (``scheduling.session_lists``): every
session once, in order, whatever the number; the same queries for 1 session
or 500; on PostgreSQL, plans that walk an index and stop after a page.

The clock is frozen at a fixed instant; sessions are placed around it.
"""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from conftest import plan_nodes
from mentorship.tests.factories import MenteeProfileFactory, MentorProfileFactory
from scheduling.models import Session
from scheduling.session_lists import MORE_SIZE, PAGE_SIZES, Cursor
from scheduling.slots import prepared_cursor
from scheduling.tests.factories import SessionFactory

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LIST_URL = "/sessions/"
# The Django session, the user, the user's profiles (also the navbar's roles),
# then one statement for every list (upcoming, past, cancelled) in both roles
# (mentor, mentee), with the people, the review and the move riding along.
LIST_QUERIES = 4

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def person():
    """Someone who is both a mentor and a mentee, in UTC."""
    user = UserFactory(name="Pat Person", timezone="UTC")
    return {
        "user": user,
        "mentor": MentorProfileFactory(user=user),
        "mentee": MenteeProfileFactory(user=user),
    }


def make_sessions(person, count: int) -> list[Session]:
    """``count`` sessions of ``person``, alternately as mentor and as mentee,
    two hours apart around NOW (so as many past as to come), every fifth
    cancelled, every seventh past one a no-show. Each pair of mentor and
    mentee sessions shares its start, so the order needs its tie-break."""
    others_mentee = MenteeProfileFactory()
    others_mentor = MentorProfileFactory()
    rows = []
    for number in range(count):
        start = NOW + timedelta(hours=2 * (number // 2) - count // 2)
        if number % 5 == 4:
            status = Session.Status.CANCELLED
        elif start < NOW and number % 7 == 3:
            status = Session.Status.NO_SHOW
        elif start + timedelta(hours=1) <= NOW:
            status = Session.Status.COMPLETED
        else:
            status = Session.Status.UPCOMING
        as_mentor = number % 2 == 0
        rows.append(
            Session(
                mentor=person["mentor"] if as_mentor else others_mentor,
                mentee=others_mentee if as_mentor else person["mentee"],
                title=f"Session {number:04d}",
                duration_minutes=60,
                start=start,
                end=start + timedelta(hours=1),
                status=status,
            )
        )
    return Session.objects.bulk_create(rows)


def expected(sessions: list[Session], name: str) -> list[str]:
    """The titles of list ``name``, in its order, computed here from the rows."""

    def in_list(session: Session) -> bool:
        if name == "cancelled":
            return session.status == Session.Status.CANCELLED
        if session.status == Session.Status.CANCELLED:
            return False
        over = session.end <= NOW or session.status == Session.Status.NO_SHOW
        return over if name == "past" else not over

    chosen = sorted(
        (s for s in sessions if in_list(s)),
        key=lambda s: (s.start, s.pk),
        reverse=name != "upcoming",
    )
    return [s.title for s in chosen]


def section(body: str, name: str) -> str:
    start = body.index(f'aria-labelledby="{name}-title"')
    return body[start : body.index("</section>", start)]


def titles(html: str) -> list[str]:
    return re.findall(r">(Session \d{4})</a>", html)


def next_link(html: str, name: str) -> str | None:
    match = re.search(rf'href="(/sessions/\?list={name}&amp;after=[^"]+)"', html)
    return match[1].replace("&amp;", "&") if match else None


@pytest.mark.parametrize("name", ["upcoming", "past", "cancelled"])
def test_a_list_pages_through_every_session_once_in_order(client, person, name):
    sessions = make_sessions(person, 97)
    client.force_login(person["user"])

    first = section(client.get(LIST_URL).content.decode(), name)
    seen, link, pages = titles(first), next_link(first, name), 1
    while link:
        body = client.get(link).content.decode()
        seen += titles(section(body, name))
        link = next_link(body, name)
        pages += 1

    assert seen == expected(sessions, name)
    # The overview's rows, then MORE_SIZE at a time.
    assert seen and pages == 1 + -(-(len(seen) - PAGE_SIZES[name]) // MORE_SIZE)


def test_htmx_gets_the_next_rows_and_the_next_button_only(client, person):
    sessions = make_sessions(person, 120)
    client.force_login(person["user"])
    link = next_link(client.get(LIST_URL).content.decode(), "past")

    response = client.get(link, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<nav" not in body
    size = PAGE_SIZES["past"]
    assert titles(body) == expected(sessions, "past")[size : size + MORE_SIZE]
    # Keyboard and screen-reader users land on the first row that came in.
    assert re.search(r'<a class="fw-semibold" href="/sessions/[^"]+/" autofocus>', body)
    assert body.count("autofocus") == 1
    assert 'id="past-more"' in body and next_link(body, "past") != link
    assert "Vary" in response and "HX-Request" in response["Vary"]


def test_one_list_on_its_own_page_without_htmx(client, person):
    sessions = make_sessions(person, 60)
    client.force_login(person["user"])

    body = client.get(LIST_URL, {"list": "cancelled"}).content.decode()

    assert '<h1 class="h3 mb-1">Cancelled and moved</h1>' in body
    assert 'href="/sessions/">← All my sessions</a>' in body
    assert titles(section(body, "cancelled")) == expected(sessions, "cancelled")[:MORE_SIZE]
    assert 'aria-labelledby="past-title"' not in body
    assert "autofocus" not in body


@pytest.mark.parametrize("after", ["", "garbage", "20261301T000000.000000Z_" + "0" * 32])
def test_a_bad_cursor_gives_the_first_rows(client, person, after):
    sessions = make_sessions(person, 30)
    client.force_login(person["user"])

    body = client.get(LIST_URL, {"list": "upcoming", "after": after}).content.decode()

    assert titles(body) == expected(sessions, "upcoming")[:MORE_SIZE]


def test_an_unknown_list_gives_the_overview(client, person):
    make_sessions(person, 3)
    client.force_login(person["user"])
    body = client.get(LIST_URL, {"list": "everything"}).content.decode()
    for name in ("upcoming", "past", "cancelled"):
        assert f'aria-labelledby="{name}-title"' in body


def test_a_cursor_is_only_a_position_never_someone_elses_rows(client, person):
    """A cursor copied from another user's list pages through the viewer's
    own sessions only."""
    make_sessions(person, 40)
    stranger = UserFactory(timezone="UTC")
    MenteeProfileFactory(user=stranger)
    mine = SessionFactory(
        mentee=stranger.mentee_profile,
        title="Session 9999",
        start=NOW - timedelta(days=400),
        status=Session.Status.COMPLETED,
    )
    client.force_login(person["user"])
    link = next_link(client.get(LIST_URL).content.decode(), "past")
    client.force_login(stranger)

    body = client.get(link).content.decode()

    assert titles(body) == [mine.title]
    assert "Pat Person" not in body


def test_the_page_after_the_last_says_so(client, person):
    client.force_login(person["user"])
    cursor = Cursor(start=NOW - timedelta(days=3000), pk=uuid.uuid4())
    body = client.get(LIST_URL, {"list": "past", "after": str(cursor)}).content.decode()
    assert "No more sessions here." in body
    assert "No past sessions yet." not in body


def test_a_cursor_reads_back_as_written():
    cursor = Cursor(start=datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC), pk=uuid.uuid4())
    assert Cursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize("count", [1, 500])
def test_the_list_costs_the_same_queries_for_1_or_500_sessions(
    client, person, count, django_assert_max_num_queries
):
    make_sessions(person, count)
    client.force_login(person["user"])

    with django_assert_max_num_queries(LIST_QUERIES) as queries:
        response = client.get(LIST_URL)

    assert response.status_code == 200
    assert len(queries) == LIST_QUERIES
    shown = sum(
        min(PAGE_SIZES[name], len(expected(Session.objects.all(), name)))
        for name in ("upcoming", "past", "cancelled")
    )
    assert len(titles(response.content.decode())) == shown >= 1


def test_a_mentee_only_reads_the_lists_in_one_statement_too(client, django_assert_max_num_queries):
    user = UserFactory(timezone="UTC")
    session = SessionFactory(mentee=MenteeProfileFactory(user=user), start=NOW + timedelta(days=1))
    client.force_login(user)
    with django_assert_max_num_queries(LIST_QUERIES) as queries:
        body = client.get(LIST_URL).content.decode()
    assert len(queries) == LIST_QUERIES
    assert f"with {session.mentor.user.name}" in body


def test_someone_without_profiles_reads_no_sessions(client, django_assert_max_num_queries):
    client.force_login(UserFactory(timezone="UTC"))
    with django_assert_max_num_queries(3) as queries:
        body = client.get(LIST_URL).content.decode()
    assert len(queries) == 3
    assert "No upcoming sessions. Find a mentor and book a time." in body


# --- PostgreSQL: each page is an index walk that stops ----------------------------------------


def test_each_list_query_walks_an_index_without_sorting_the_history(client, person):
    """With 2,000 sessions of one person (and as many of other people), the
    statement of the overview and of a later page walks an index in each
    branch, reading about a page of rows, not the whole history, and sorts
    nothing but sessions of one start."""
    if connection.vendor != "postgresql":
        pytest.skip("index plans are checked on PostgreSQL, the database in production")
    make_sessions(person, 2000)
    make_sessions({"mentor": MentorProfileFactory(), "mentee": MenteeProfileFactory()}, 2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scheduling_session")
    client.force_login(person["user"])
    later = next_link(client.get(LIST_URL).content.decode(), "past")

    for url, branches in ((LIST_URL, 6), (later, 2)):
        ran = []

        def keep(execute, sql, params, many, context, ran=ran):
            ran.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(keep):
            assert client.get(url).status_code == 200
        lists = [(sql, params) for sql, params in ran if "FROM scheduling_session s" in sql]
        assert len(lists) == 1
        sql, params = lists[0]
        with prepared_cursor(connection) as cursor:  # the statement as run, parameters bound
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0][0]["Plan"]
        nodes = plan_nodes(plan)
        # The sessions listed (EXPLAIN names the branches' "s" s, s_1, s_2…).
        scans = [n for n in nodes if re.fullmatch(r"s(_\d+)?", n.get("Alias", ""))]
        assert len(scans) == branches, plan
        for scan in scans:
            assert scan["Node Type"] == "Index Scan", plan
            assert scan["Index Name"] in (
                "session_mentor_start",
                "session_mentee_start",
                "session_mentor_cancelled",
                "session_mentee_cancelled",
            )
            # About a page read, filtered rows included: not the history.
            read = scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0)
            assert read <= 60, (scan, read)
        # An incremental sort orders sessions of the same start by id as the
        # walk meets them; a full sort would read the history first.
        assert not [n for n in nodes if n["Node Type"] == "Sort"], plan
