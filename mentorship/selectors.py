"""Reads for the directory and the mentor page."""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from core.cache import FRAGMENT_SECONDS, mentor_page_versions

from .models import ExpertiseTag, MentorExpertise, MentorProfile, with_tag_names

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 200
MAX_TAG_FILTERS = 10
SLUG_PATTERN = re.compile(r"^[-a-z0-9_]{1,70}$")

SORTS = {
    "rating": ("Top rated", ("-rating_avg", "-rating_count", "slug")),
    "newest": ("Newest", ("-created_at", "slug")),
    "name": ("Name", (Lower("user__name"), "slug")),
}
DEFAULT_SORT = "rating"


@dataclass(frozen=True)
class DirectoryQuery:
    """The directory's parameters, cleaned: anything invalid falls back to a default."""

    q: str = ""
    tags: tuple[str, ...] = ()
    sort: str = DEFAULT_SORT
    sort_given: bool = False
    page: str = "1"

    @classmethod
    def from_params(cls, params) -> "DirectoryQuery":
        # PostgreSQL text cannot hold NUL: drop it before it reaches a query.
        q = " ".join(params.get("q", "").replace("\x00", " ").split())[:MAX_QUERY_LENGTH]
        tags = []
        for slug in params.getlist("tag"):
            slug = slug.strip().lower()
            if SLUG_PATTERN.match(slug) and slug not in tags:
                tags.append(slug)
        sort = params.get("sort", "")
        sort_given = sort in SORTS
        return cls(
            q=q,
            tags=tuple(tags[:MAX_TAG_FILTERS]),
            sort=sort if sort_given else DEFAULT_SORT,
            sort_given=sort_given,
            page=params.get("page", "1"),
        )

    @property
    def cache_key(self) -> str:
        # Never truncated: the view hashes it into the cache key.
        return f"{self.as_params()}|page={self.page}"

    def as_params(self, **overrides) -> str:
        """The query string for this query with ``overrides``, for links."""
        values = {"q": self.q, "tag": list(self.tags), "sort": self.sort if self.sort_given else ""}
        values.update(overrides)
        return urlencode({key: value for key, value in values.items() if value}, doseq=True)


def all_tags() -> list[ExpertiseTag]:
    return list(ExpertiseTag.objects.order_by("name").only("id", "name", "slug"))


def _has_tag(**lookup) -> Exists:
    return Exists(MentorExpertise.objects.filter(mentor=OuterRef("pk"), **lookup))


# The stored search document (a generated tsvector column of headline and
# biography, PostgreSQL only: mentorship migration 0006), GIN-indexed.
SEARCH_DOCUMENT_COLUMN = "mentorship_mentorprofile.search_document"


def _document() -> RawSQL:
    # A constant column name, no user input: the search terms go in SearchQuery.
    return RawSQL(SEARCH_DOCUMENT_COLUMN, [], output_field=SearchVectorField())  # noqa: S611


def _text_match(query: DirectoryQuery) -> Q:
    """Mentors whose name, headline, biography or a tag's name matches ``q``.

    PostgreSQL: full-text search (``websearch`` syntax, English stemming) in
    the stored document, and a contains-match on the name (trigram-indexed)
    and on tag names. SQLite: a contains-match on every field.
    """
    tag_match = _has_tag(tag__name__icontains=query.q)
    name_match = Q(user__in=_users_named(query.q))
    if connection.vendor == "postgresql":
        search = SearchQuery(query.q, search_type="websearch", config="english")
        # ``search_document`` is aliased by ``search_mentors``.
        return Q(search_document=search) | name_match | tag_match
    return name_match | Q(headline__icontains=query.q) | Q(biography__icontains=query.q) | tag_match


def _users_named(q: str) -> QuerySet:
    from accounts.models import User

    return User.objects.filter(name__icontains=q).values("pk")


def search_mentors(query: DirectoryQuery) -> QuerySet[MentorProfile]:
    """Listed mentors matching ``query`` (search text and tags), in the
    sort's order. With a search and no explicit sort, ``directory_page``
    puts the name matches first."""
    mentors = MentorProfile.objects.listed()
    for slug in query.tags:
        mentors = mentors.filter(_has_tag(tag__slug=slug))
    if query.q:
        if connection.vendor == "postgresql":
            mentors = mentors.alias(search_document=_document())
        mentors = mentors.filter(_text_match(query))
    return mentors.order_by(*SORTS[query.sort][1])


@dataclass
class DirectoryPage:
    """One page of the directory, without a total: the page says which
    mentors it holds (``start_index``–``end_index``) and links to the pages
    on either side. The total is known only on the last page."""

    number: int
    object_list: list
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * PAGE_SIZE + len(self.object_list)

    @property
    def total(self) -> int | None:
        """How many mentors match, when this is the last page (else None)."""
        return None if self.has_next else self.end_index


MAX_PAGE = 100_000  # larger numbers are past the end of any directory


def _page_number(raw) -> int | None:
    """``?page=`` as a number from 1; junk is page 1 and a number below 1 is
    past the end (the last page, as Django's paginator does)."""
    try:
        number = int(str(raw))
    except ValueError:
        return 1
    return number if 1 <= number <= MAX_PAGE else None


def _cards(ids, order) -> list[MentorProfile]:
    """The mentors at ``ids`` (a list, or a sliced query of ids: then one
    statement, the ids as its subquery) as the cards show them, in ``order``."""
    mentors = list(MentorProfile.objects.for_cards().filter(pk__in=ids).order_by(*order))
    return with_tag_names(mentors)


def _page_mentors(query: DirectoryQuery, number: int) -> list[MentorProfile]:
    """The mentors on page ``number`` and one more (is there a next page?).

    The ids come from one walk of an index in the page's order that stops
    after the page (no count, no sort of every match), in a subquery of the
    statement that reads those mentors. A search without an explicit sort
    lists the name matches first: their ids first, then the others'.
    """
    mentors = search_mentors(query)
    order = SORTS[query.sort][1]
    start, stop = (number - 1) * PAGE_SIZE, number * PAGE_SIZE + 1
    if not query.q or query.sort_given:
        return _cards(mentors.values("pk")[start:stop], order)
    named = Q(user__in=_users_named(query.q))
    by_name = list(mentors.filter(named).values_list("pk", flat=True)[:stop])
    ids = by_name[start:stop]
    if len(by_name) < stop:
        # All the name matches are in ``by_name``: the others follow them.
        rest = mentors.exclude(named).values_list("pk", flat=True)
        ids += rest[max(0, start - len(by_name)) : stop - len(by_name)]
    by_id = {mentor.pk: mentor for mentor in _cards(ids, order)}
    return [by_id[pk] for pk in ids]


def directory_page(query: DirectoryQuery) -> DirectoryPage:
    """One page of the directory, in two queries whatever the page number
    and the number of mentors (the page's mentors, their tags), three for a
    search in relevance order.

    A bad page number gives page 1; one past the end (rare: the links never
    point there) the last page, which costs a count.
    """
    number = _page_number(query.page)
    mentors = _page_mentors(query, number) if number else []
    if not mentors and number != 1:
        matches = search_mentors(query).count()
        number = max(1, -(-matches // PAGE_SIZE))
        mentors = _page_mentors(query, number)
    return DirectoryPage(
        number=number, object_list=mentors[:PAGE_SIZE], has_next=len(mentors) > PAGE_SIZE
    )


def mentor_for_page(*, slug: str, viewer, version: str | None = None) -> MentorProfile:
    """The mentor at ``/mentors/<slug>/`` as ``viewer`` may see it, or 404.

    Anonymous visitors all share one scope (mentors accepting bookings), so
    that fetch is cached under the mentor page's fragments version (``version``
    when the caller has read it already); signed-in viewers (who may be the
    owner or staff) always query.
    """
    scoped = MentorProfile.objects.visible_to(viewer).select_related("user")
    if viewer.is_authenticated:
        return get_object_or_404(scoped, slug=slug)
    if version is None:
        version = mentor_page_versions(slug).fragments
    key = f"mentorship:public-mentor:{version}:{slug}"
    mentor = cache.get(key)
    if mentor is None:
        mentor = get_object_or_404(scoped, slug=slug)
        cache.set(key, mentor, FRAGMENT_SECONDS)
    return mentor
