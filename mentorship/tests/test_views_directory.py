"""``/mentors/``: search, tag filters, sorts, pages, htmx and junk input.

Runs on SQLite (contains-matching) and PostgreSQL (full-text search): the
assertions use whole words, which both match.
"""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.utils import timezone

from accounts.services import deactivate_user
from accounts.tests.factories import UserFactory
from mentorship.models import MentorProfile

from .factories import ExpertiseTagFactory, MentorProfileFactory, mentor_with_tags_and_links

CARD_LINK = re.compile(r'<a class="stretched-link text-decoration-none" href="/mentors/([^/"]+)/">')
EMPTY_STATE = "No mentors match"


def listed(response) -> list[str]:
    """The mentor slugs on the page, in order."""
    assert response.status_code == 200
    return CARD_LINK.findall(response.text)


@pytest.fixture
def community(db):
    python = ExpertiseTagFactory(name="Python", slug="python")
    django_tag = ExpertiseTagFactory(name="Django", slug="django")
    go = ExpertiseTagFactory(name="Go", slug="go")
    ExpertiseTagFactory(name="Unused", slug="unused")
    MentorProfileFactory(
        slug="ada",
        user=UserFactory(name="Ada Lovelace"),
        headline="Analytical engines for everyone",
        biography="I write about the orchestration of mathematics.\n\nAsk me about notes.",
        expertise=[python],
    )
    MentorProfileFactory(
        slug="grace",
        user=UserFactory(name="Grace Hopper"),
        headline="Compilers and COBOL",
        biography="Navy officer and programmer.",
        expertise=[python, django_tag],
    )
    MentorProfileFactory(
        slug="alan",
        user=UserFactory(name="Alan Turing"),
        headline="Computability and codebreaking",
        biography="Marathon runner.",
        expertise=[go],
    )


# --- Search ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Lovelace", {"ada"}),
        ("grace", {"grace"}),
        ("GRACE HOPPER", {"grace"}),
        ("compilers", {"grace"}),
        ("codebreaking", {"alan"}),
        ("orchestration", {"ada"}),
        ("marathon", {"alan"}),
        ("navy officer", {"grace"}),
        ("orchestration of mathematics", {"ada"}),
        ("Django", {"grace"}),
        ("python", {"ada", "grace"}),
    ],
    ids=[
        "surname",
        "first name",
        "full name, other case",
        "headline",
        "headline 2",
        "biography",
        "biography 2",
        "two biography words",
        "biography phrase with a stop word",
        "tag name",
        "tag on two mentors",
    ],
)
def test_search_matches_name_headline_biography_and_tags(client, community, q, expected):
    response = client.get("/mentors/", {"q": q})
    assert set(listed(response)) == expected
    assert f"matching “{q}”" in response.text


@pytest.mark.django_db
def test_search_without_a_match_shows_the_empty_state(client, community):
    response = client.get("/mentors/", {"q": "xylophonist"})
    assert listed(response) == []
    assert f"{EMPTY_STATE} “xylophonist”" in response.text
    assert 'href="/mentors/">Show all mentors</a>' in response.text


@pytest.mark.django_db
def test_search_words_are_trimmed_and_joined(client, community):
    response = client.get("/mentors/", {"q": "   Lovelace   "})
    assert listed(response) == ["ada"]
    assert 'value="Lovelace"' in response.text


@pytest.mark.django_db
def test_overlong_search_is_cut_to_200_characters(client, community):
    response = client.get("/mentors/", {"q": "x" * 5000})
    assert listed(response) == []
    assert f"“{'x' * 200}”" in response.text
    assert "x" * 201 not in response.text


@pytest.mark.django_db
def test_search_input_is_escaped_in_the_page(client, community):
    response = client.get("/mentors/", {"q": '<script>alert("q")</script>'})
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert" in response.text


# --- Tag filters -------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_tag_filters(client, community):
    response = client.get("/mentors/?tag=python")
    assert set(listed(response)) == {"ada", "grace"}
    assert 'value="python" id="tag-python" checked' in response.text


@pytest.mark.django_db
def test_two_tags_must_both_match(client, community):
    assert listed(client.get("/mentors/?tag=python&tag=django")) == ["grace"]
    assert listed(client.get("/mentors/?tag=django&tag=go")) == []


@pytest.mark.django_db
def test_tag_filter_ignores_case_and_repeats(client, community):
    assert set(listed(client.get("/mentors/?tag=PYTHON&tag=python"))) == {"ada", "grace"}


@pytest.mark.django_db
@pytest.mark.parametrize("tag", ["nope", "unused"])
def test_unknown_or_unused_tag_shows_the_empty_state(client, community, tag):
    response = client.get(f"/mentors/?tag={tag}")
    assert listed(response) == []
    assert f"{EMPTY_STATE} with those tags" in response.text
    assert "Try fewer tags" in response.text


@pytest.mark.django_db
def test_tag_and_search_combine(client, community):
    assert listed(client.get("/mentors/?tag=python&q=hopper")) == ["grace"]
    assert listed(client.get("/mentors/?tag=go&q=hopper")) == []


@pytest.mark.django_db
def test_the_filter_lists_every_tag(client, community):
    text = client.get("/mentors/").text
    for slug in ("python", "django", "go", "unused"):
        assert f'name="tag" value="{slug}"' in text


# --- Sorts -------------------------------------------------------------------------------


@pytest.fixture
def rated(db):
    """Four mentors whose order differs for each sort."""
    now = timezone.now()
    rows = [
        # slug, name, rating avg, rating count, age in days
        ("m-b", "bob Zed", "4.50", 2, 3),
        ("m-c", "Carol Young", "4.50", 10, 1),
        ("m-a", "alice Xu", "5.00", 1, 2),
        ("m-d", "Dan Wu", "0.00", 0, 0),
    ]
    for slug, name, average, count, age in rows:
        mentor = MentorProfileFactory(slug=slug, user=UserFactory(name=name))
        MentorProfile.objects.filter(pk=mentor.pk).update(
            rating_avg=Decimal(average), rating_count=count, created_at=now - timedelta(days=age)
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("", ["m-a", "m-c", "m-b", "m-d"]),
        ("?sort=rating", ["m-a", "m-c", "m-b", "m-d"]),
        ("?sort=newest", ["m-d", "m-c", "m-a", "m-b"]),
        ("?sort=name", ["m-a", "m-b", "m-c", "m-d"]),
        ("?sort=price", ["m-a", "m-c", "m-b", "m-d"]),
        ("?sort=NAME", ["m-a", "m-c", "m-b", "m-d"]),
        ("?sort=", ["m-a", "m-c", "m-b", "m-d"]),
    ],
    ids=["default", "rating", "newest", "name", "unknown", "wrong case", "empty"],
)
def test_sorts(client, rated, params, expected):
    assert listed(client.get(f"/mentors/{params}")) == expected


@pytest.mark.django_db
def test_sort_by_rating_breaks_ties_by_review_count(client, rated):
    # 4.50 with 10 reviews ranks above 4.50 with 2 reviews.
    order = listed(client.get("/mentors/?sort=rating"))
    assert order.index("m-c") < order.index("m-b")


def selected_sorts(response) -> list[str]:
    return re.findall(r'<option value="([^"]*)" selected>', response.text)


@pytest.mark.django_db
def test_the_chosen_sort_is_selected(client, rated):
    assert selected_sorts(client.get("/mentors/?sort=name")) == ["name"]
    # An unknown sort is the default, and the page says so.
    default = selected_sorts(client.get("/mentors/"))
    assert len(default) == 1
    assert selected_sorts(client.get("/mentors/?sort=bogus")) == default


@pytest.mark.django_db
def test_explicit_sort_wins_over_search_relevance(client, rated):
    MentorProfile.objects.update(headline="Mentoring engineers")
    assert listed(client.get("/mentors/?q=mentoring&sort=name")) == ["m-a", "m-b", "m-c", "m-d"]


# --- Pages -------------------------------------------------------------------------------


@pytest.fixture
def crowd(db):
    """45 mentors: pages of 20, 20 and 5."""
    return [
        MentorProfileFactory(slug=f"mentor-{number:02d}", user=UserFactory(name=f"M {number:02d}"))
        for number in range(45)
    ]


@pytest.mark.django_db
def test_pages_hold_20_mentors_and_cover_everyone_once(client, crowd):
    pages = [listed(client.get(f"/mentors/?sort=name&page={number}")) for number in (1, 2, 3)]
    assert [len(page) for page in pages] == [20, 20, 5]
    seen = [slug for page in pages for slug in page]
    assert sorted(seen) == sorted(mentor.slug for mentor in crowd)
    assert seen == sorted(seen)


@pytest.mark.django_db
def test_page_2_says_where_it_is_and_links_both_ways(client, crowd):
    text = client.get("/mentors/?sort=name&page=2").text
    # No total (it would cost a count of every match): which mentors these are.
    assert "Mentors 21–40 · page 2" in text
    # Page links keep the sort.
    assert 'href="?sort=name&amp;page=1"' in text
    assert 'href="?sort=name&amp;page=3"' in text


@pytest.mark.django_db
def test_page_links_keep_search_and_tags(client, crowd):
    tag = ExpertiseTagFactory(name="Python", slug="python")
    for mentor in crowd:
        mentor.expertise.add(tag)
    text = client.get("/mentors/?q=M&tag=python&page=1").text
    assert 'href="?q=M&amp;tag=python&amp;page=2"' in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "expected_page"),
    [("abc", 1), ("", 1), ("1.5", 1), ("999", 3), ("0", 3), ("-1", 3), ("9" * 30, 3)],
)
def test_bad_page_numbers_fall_back(client, crowd, page, expected_page):
    expected = listed(client.get(f"/mentors/?sort=name&page={expected_page}"))
    response = client.get("/mentors/", {"sort": "name", "page": page})
    assert listed(response) == expected
    assert f"· page {expected_page}" in response.text


@pytest.mark.django_db
def test_search_pages_list_name_matches_first_and_everyone_once(client):
    """Relevance order: the mentors whose name matches, then the others that
    match (each group by rating), over pages that never repeat or skip one."""
    named = [
        MentorProfileFactory(
            slug=f"named-{number:02d}",
            user=UserFactory(name=f"Pythonista {number:02d}"),
            rating_avg=Decimal("1.00"),
        )
        for number in range(25)
    ]
    others = [
        MentorProfileFactory(
            slug=f"other-{number:02d}",
            user=UserFactory(name=f"Mentor {number:02d}"),
            headline="Pythonista at heart",
            rating_avg=Decimal("5.00"),
        )
        for number in range(25)
    ]
    pages = [listed(client.get("/mentors/", {"q": "pythonista", "page": n})) for n in (1, 2, 3)]
    assert [len(page) for page in pages] == [20, 20, 10]
    seen = [slug for page in pages for slug in page]
    assert seen == [mentor.slug for mentor in named + others]


@pytest.mark.django_db
def test_long_non_latin_search_pages_differ(client):
    """A search whose query string is long once URL-encoded (60 Cyrillic letters
    are 360 characters) still gets page 2 as page 2, not a cached page 1."""
    words = " ".join(["Александра"] * 10)
    for number in range(25):
        MentorProfileFactory(
            slug=f"sasha-{number:02d}", user=UserFactory(name=f"{words} {number:02d}")
        )
    first = listed(client.get("/mentors/", {"q": words, "sort": "name"}))
    second = listed(client.get("/mentors/", {"q": words, "sort": "name", "page": "2"}))
    assert first == [f"sasha-{number:02d}" for number in range(20)]
    assert second == [f"sasha-{number:02d}" for number in range(20, 25)]


# --- Who is listed -----------------------------------------------------------------------


@pytest.mark.django_db
def test_only_mentors_accepting_bookings_are_listed(client):
    MentorProfileFactory(slug="open", user=UserFactory(name="Open Mentor"))
    MentorProfileFactory(slug="paused", user=UserFactory(name="Paused Mentor"))
    MentorProfile.objects.filter(slug="paused").update(is_accepting_bookings=False)
    response = client.get("/mentors/")
    assert listed(response) == ["open"]
    assert "1 mentor" in response.text
    # Not by searching or filtering for them either.
    assert listed(client.get("/mentors/", {"q": "Mentor"})) == ["open"]
    assert listed(client.get("/mentors/", {"q": "Paused"})) == []


@pytest.mark.django_db
def test_deactivated_user_is_not_listed(client):
    MentorProfileFactory(slug="open", user=UserFactory(name="Open Mentor"))
    gone = MentorProfileFactory(slug="gone", user=UserFactory(name="Gone Mentor"))
    deactivate_user(user=gone.user)
    assert listed(client.get("/mentors/")) == ["open"]
    assert listed(client.get("/mentors/", {"q": "Gone"})) == []


@pytest.mark.django_db
def test_mentor_with_an_inactive_account_is_not_listed(client):
    """However the account became inactive (the shell, a bulk update, a future
    path that forgets the service): the directory must never list a card whose
    mentor page is a 404."""
    MentorProfileFactory(slug="open", user=UserFactory(name="Open Mentor"))
    MentorProfileFactory(slug="gone", user=UserFactory(name="Gone Mentor", is_active=False))
    assert client.get("/mentors/gone/").status_code == 404
    assert listed(client.get("/mentors/")) == ["open"]
    assert listed(client.get("/mentors/", {"q": "Gone"})) == []


@pytest.mark.django_db
def test_every_listed_card_opens_its_mentor_page(client, community):
    MentorProfileFactory(slug="inactive", user=UserFactory(is_active=False))
    for slug in listed(client.get("/mentors/")):
        assert client.get(f"/mentors/{slug}/").status_code == 200, slug


@pytest.mark.django_db
def test_empty_directory_says_so(client):
    response = client.get("/mentors/")
    assert listed(response) == []
    assert EMPTY_STATE in response.text
    assert 'href="/mentors/">Show all mentors</a>' in response.text


@pytest.mark.django_db
def test_card_shows_name_headline_tags_and_rating(client, community):
    MentorProfile.objects.filter(slug="grace").update(rating_avg=Decimal("4.75"), rating_count=8)
    text = client.get("/mentors/?q=grace").text
    assert "Grace Hopper" in text
    assert "Compilers and COBOL" in text
    assert "★ 4.8" in text
    assert "(8 reviews)" in text
    assert ">Django</span>" in text
    assert ">Python</span>" in text


@pytest.mark.django_db
def test_cards_never_show_emails(client, community):
    text = client.get("/mentors/").text
    for mentor in MentorProfile.objects.select_related("user"):
        assert mentor.user.email not in text


@pytest.mark.django_db
def test_directory_is_read_only(client, community):
    # GET and HEAD (which every general-purpose server must support, RFC 9110 §9.1).
    assert client.head("/mentors/").status_code == 200
    assert client.post("/mentors/", {"q": "ada"}).status_code == 405


# --- htmx --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_htmx_request_gets_only_the_results(client, community):
    response = client.get("/mentors/?tag=python", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert '<nav class="navbar' not in response.text
    assert 'id="directory-filters"' not in response.text
    assert set(CARD_LINK.findall(response.text)) == {"ada", "grace"}


@pytest.mark.django_db
def test_htmx_empty_result_is_the_empty_state(client, community):
    response = client.get("/mentors/?q=xylophonist", HTTP_HX_REQUEST="true")
    assert "<html" not in response.text
    assert EMPTY_STATE in response.text


@pytest.mark.django_db
def test_full_page_and_history_restore_get_the_whole_page(client, community):
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}):
        response = client.get("/mentors/", **headers)
        assert "<html" in response.text
        assert 'id="directory-results"' in response.text
        assert 'id="directory-filters"' in response.text


# --- Junk input never errors -------------------------------------------------------------

JUNK_QUERY_STRINGS = [
    "q=%00",
    "q=a%00b",
    "q=%FF%FE",
    "q=%ZZ",
    "q=%",
    "q=%25%5F%25",
    "q=%27%3B%20DROP%20TABLE%20mentorship_mentorprofile%3B--",
    'q="unclosed',
    "q=a:*",
    "q=!!!",
    "q=%26%7C%21",
    "q=or",
    "q=-",
    "q=the",
    "q=%F0%9F%98%80",
    "q=\\",
    "q=" + "x" * 3000,
    "q=a&q=b",
    "tag=",
    "tag=%00",
    "tag=../../etc/passwd",
    "tag=" + "a" * 500,
    "tag=Python%20Django",
    "&".join(f"tag=t{number}" for number in range(60)),
    "sort=%00",
    "sort=-rating_avg",
    "sort=user__password",
    "sort[]=name",
    "page=%00",
    "page=-1",
    "page=0",
    "page=1e9",
    "page=NaN",
    "page=inf",
    "page=0x10",
    "page=99999999999999999999999999999999999",
    "page=1&page=2",
    "q=&tag=&sort=&page=",
    "=&&&==",
    "%00=%00",
]


@pytest.mark.django_db
@pytest.mark.parametrize("query_string", JUNK_QUERY_STRINGS)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_junk_parameters_never_error(client, community, query_string, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.get(f"/mentors/?{query_string}", **headers)
    assert response.status_code == 200
    assert "mentor" in response.text
    assert ("<html" in response.text) is not htmx


@pytest.mark.django_db
@pytest.mark.parametrize("character", ["\x00", "\x01", "\ufeff", "\u202e"])
def test_control_characters_in_the_search_never_error(client, community, character):
    response = client.get(f"/mentors/?q={quote('Lovelace' + character)}")
    assert response.status_code == 200


# --- Query budgets -----------------------------------------------------------------------

# Cold cache, anonymous: the page's ids (no count), those mentors with their
# users, their tags (one prefetch), the filter's tag list; a search in
# relevance order reads the name matches' ids first. Signed in adds the
# session, the user and the navbar's roles. With the fragments cached, only
# those three remain. The same for 1 mentor as for 50: no query per card.
DIRECTORY_QUERIES = {
    ("anonymous", "cold"): 5,
    ("anonymous", "warm"): 0,
    ("signed-in", "cold"): 8,
    ("signed-in", "warm"): 3,
}
# The htmx partial has no navbar (no roles query); it renders the filters
# too (the whole page is cached as one value), so its count is the same.
DIRECTORY_HTMX_QUERIES = {
    ("anonymous", "cold"): 4,
    ("anonymous", "warm"): 0,
    ("signed-in", "cold"): 6,
    ("signed-in", "warm"): 2,
}


def directory_urls(mentors) -> dict[str, str]:
    tag = mentors[0].expertise.order_by("slug").first().slug
    return {
        "plain": "/mentors/",
        # The last page (page 1 of one mentor): a page past the end costs a
        # count more (test_directory_queries.py).
        "deep page": f"/mentors/?sort=name&page={-(-len(mentors) // 20)}",
        "newest": "/mentors/?sort=newest",
        "search and tag": f"/mentors/?q=mentor&tag={tag}",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize("viewer", ["anonymous", "signed-in"])
@pytest.mark.parametrize("cache", ["cold", "warm"])
@pytest.mark.parametrize("variant", ["plain", "deep page", "newest", "search and tag"])
def test_directory_query_budget(
    client, django_assert_max_num_queries, count, viewer, cache, variant
):
    mentors = [mentor_with_tags_and_links(user=UserFactory(name="A Mentor")) for _ in range(count)]
    url = directory_urls(mentors)[variant]
    if viewer == "signed-in":
        client.force_login(UserFactory())
    if cache == "warm":
        client.get(url)
    with django_assert_max_num_queries(DIRECTORY_QUERIES[viewer, cache]):
        response = client.get(url)
    cards = listed(response)
    # The budget holds with cards on the page, each with its three tags.
    assert cards
    assert response.text.count("badge rounded-pill") == 3 * len(cards)
    if variant == "plain":
        assert len(cards) == min(count, 20)


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize("viewer", ["anonymous", "signed-in"])
@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_directory_htmx_query_budget(client, django_assert_max_num_queries, count, viewer, cache):
    for _ in range(count):
        mentor_with_tags_and_links()
    if viewer == "signed-in":
        client.force_login(UserFactory())
    if cache == "warm":
        client.get("/mentors/", HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(DIRECTORY_HTMX_QUERIES[viewer, cache]):
        response = client.get("/mentors/", HTTP_HX_REQUEST="true")
    assert len(CARD_LINK.findall(response.text)) == min(count, 20)
