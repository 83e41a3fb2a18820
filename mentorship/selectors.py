"""Reads for the directory and the mentor page."""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

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
        q = " ".join(params.get("q", "").split())[:MAX_QUERY_LENGTH]
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
        return f"{self.as_params()}|page={self.page}"[:500]

    def as_params(self, **overrides) -> str:
        """The query string for this query with ``overrides``, for links."""
        values = {"q": self.q, "tag": list(self.tags), "sort": self.sort if self.sort_given else ""}
        values.update(overrides)
        return urlencode({key: value for key, value in values.items() if value}, doseq=True)


def all_tags() -> list[ExpertiseTag]:
    return list(ExpertiseTag.objects.order_by("name").only("id", "name", "slug"))


def _has_tag(**lookup) -> Exists:
    return Exists(MentorExpertise.objects.filter(mentor=OuterRef("pk"), **lookup))


def search_mentors(query: DirectoryQuery) -> QuerySet[MentorProfile]:
    """Listed mentors matching ``query``, ordered as it asks.

    PostgreSQL: full-text search over name (most weight), headline and biography,
    ranked, plus tag names. SQLite: a case-insensitive contains-match on the
    same fields. An explicit sort wins over relevance.
    """
    mentors = MentorProfile.objects.listed()
    for slug in query.tags:
        mentors = mentors.filter(_has_tag(tag__slug=slug))
    if query.q:
        tag_match = _has_tag(tag__name__icontains=query.q)
        if connection.vendor == "postgresql":
            vector = (
                SearchVector("user__name", weight="A", config="english")
                + SearchVector("headline", weight="B", config="english")
                + SearchVector("biography", weight="C", config="english")
            )
            search = SearchQuery(query.q, search_type="websearch", config="english")
            mentors = mentors.annotate(rank=SearchRank(vector, search)).filter(
                Q(rank__gt=0)
                | tag_match
                | Q(user__name__icontains=query.q)
                | Q(headline__icontains=query.q)
            )
            if not query.sort_given:
                return mentors.order_by(F("rank").desc(), "-rating_avg", "slug")
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
