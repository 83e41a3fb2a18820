"""Reads for the directory and the mentor page."""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from core.cache import FRAGMENT_SECONDS, profiles_version

from .models import ExpertiseTag, MentorExpertise, MentorProfile

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
        # Never truncated: {% cache %} hashes its vary-on values anyway.
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


# The text PostgreSQL searches, weighted: headline over biography. The same
# expression is indexed (GIN) by migration 0002, which is what makes it fast.
MENTOR_DOCUMENT_SQL = (
    "(setweight(to_tsvector('english'::regconfig, coalesce(headline, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(biography, '')), 'C'))"
)


def _document() -> RawSQL:
    # A constant expression, no user input: the search terms go in SearchQuery.
    return RawSQL(MENTOR_DOCUMENT_SQL, [], output_field=SearchVectorField())  # noqa: S611


def search_mentors(query: DirectoryQuery) -> QuerySet[MentorProfile]:
    """Listed mentors matching ``query``, ordered as it asks.

    PostgreSQL: full-text search (``websearch`` syntax, English stemming) over
    headline and biography from an index, plus name and tag-name matches;
    ranked, name matches first. SQLite: a case-insensitive contains-match on the
    same fields. An explicit sort wins over relevance.
    """
    mentors = MentorProfile.objects.listed()
    for slug in query.tags:
        mentors = mentors.filter(_has_tag(tag__slug=slug))
    if query.q:
        tag_match = _has_tag(tag__name__icontains=query.q)
        if connection.vendor == "postgresql":
            search = SearchQuery(query.q, search_type="websearch", config="english")
            # A subquery, so that the index answers it once for all rows.
            text_match = MentorProfile.objects.listed().alias(document=_document())
            text_match = text_match.filter(document=search).values("pk")
            name_match = Q(user__name__icontains=query.q)
            mentors = mentors.filter(Q(pk__in=text_match) | name_match | tag_match)
            if not query.sort_given:
                relevance = SearchRank(_document(), search) + Case(
                    When(name_match, then=Value(1.0)), default=Value(0.0)
                )
                return mentors.annotate(rank=relevance).order_by(
                    F("rank").desc(), "-rating_avg", "slug"
                )
        else:
            mentors = mentors.filter(
                Q(user__name__icontains=query.q)
                | Q(headline__icontains=query.q)
                | Q(biography__icontains=query.q)
                | tag_match
            )
    return mentors.order_by(*SORTS[query.sort][1])


def directory_page(query: DirectoryQuery) -> Page:
    """One page of the directory, in four queries whatever the page number.

    The page's ids come first from the listed-mentors index alone (an
    index-only walk, also for page 500), then the 20 rows with their users and
    tags. A bad page number gives page 1; one past the end, the last page.
    """
    page = Paginator(search_mentors(query), PAGE_SIZE).get_page(query.page)
    ids = list(page.object_list.values_list("pk", flat=True))
    by_id = MentorProfile.objects.for_cards().in_bulk(ids)
    page.object_list = [by_id[pk] for pk in ids]
    return page


def mentor_for_page(*, slug: str, viewer, version: int | None = None) -> MentorProfile:
    """The mentor at ``/mentors/<slug>/`` as ``viewer`` may see it, or 404.

    Anonymous visitors all share one scope (mentors accepting bookings), so
    that fetch is cached under the profiles version (``version`` when the
    caller has read it already); signed-in viewers (who may be the owner or
    staff) always query.
    """
    scoped = MentorProfile.objects.visible_to(viewer).select_related("user")
    if viewer.is_authenticated:
        return get_object_or_404(scoped, slug=slug)
    if version is None:
        version = profiles_version()
    key = f"mentorship:public-mentor:{version}:{slug}"
    mentor = cache.get(key)
    if mentor is None:
        mentor = get_object_or_404(scoped, slug=slug)
        cache.set(key, mentor, FRAGMENT_SECONDS)
    return mentor
