"""The admin site, hardened against request input Django's admin does not check.

``MentorshipAdminSite`` is the default admin site (``MentorshipAdminConfig``
in INSTALLED_APPS, from ``mentorship/apps.py``), so every registered model
admin, ours and the libraries', goes through its ``admin_view``. Django
5.2's admin answers with a 500 to:

- an empty ``_to_field`` (``?_to_field=``): it looks up a field named "";
- a date-hierarchy year it cannot add one to (``?start__year=9999``) or
  that overflows (``?start__year=99999999999999999999``);
- a NUL character in a filter or search value (PostgreSQL refuses it).

The site drops the first two (the page shows unfiltered, as for any unknown
filter) and refuses the third with a 400 page, as it does values over 10,000
characters (SQLite refuses such a search pattern) and numbers of 19 digits or
more (ids no column holds, on which SQLite raises). ``CheckedModelAdminMixin``
covers what depends on a model admin's own fields: autocomplete widgets
redrawing an invalid submitted id, and initial values taken from the query
string (``/add/?start=garbage``).
"""

import re
from functools import wraps

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string

DATE_PART = re.compile(r"__(year|month|day)$")
DATE_PART_RANGES = {"year": (1, 9998), "month": (1, 12), "day": (1, 31)}


def _usable_date_part(key: str, value: str) -> bool:
    match = DATE_PART.search(key)
    if match is None:
        return True
    low, high = DATE_PART_RANGES[match[1]]
    return value.isdigit() and len(value) <= 4 and low <= int(value) <= high


class MentorshipAdminSite(admin.AdminSite):
    site_header = "Mentorship administration"
    site_title = "Mentorship admin"

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        @wraps(view)
        def checked(request, *args, **kwargs):
            problem = _problem(request)
            if problem:
                page = render_to_string("400.html", {"problem": problem}, request=request)
                return HttpResponseBadRequest(page)
            request.GET = _without_unusable(request.GET)
            if request.method == "POST":
                request.POST = _without_unusable(request.POST)
            return protected(request, *args, **kwargs)

        return checked


MAX_VALUE_LENGTH = 10_000
HUGE_NUMBER = re.compile(r"[+-]?\d{19,}")


def _problem(request) -> str:
    """Why the admin will not take this request's values ("" if it will)."""
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            for text in (key, *values):
                if "\x00" in text:
                    return "A value holds a character that is not allowed."
                if len(text) > MAX_VALUE_LENGTH:
                    # SQLite refuses a search (LIKE) pattern this long.
                    return f"A value is longer than {MAX_VALUE_LENGTH:,} characters."
                if HUGE_NUMBER.fullmatch(text.strip()):
                    # No id or number column holds it; SQLite raises on it.
                    return "A number is far too large."
    return ""


def _without_unusable(data):
    """``data`` without an empty ``_to_field`` or date-hierarchy parts out of range."""
    unusable = [
        key
        for key, value in data.items()
        if (key == admin.options.TO_FIELD_VAR and not value) or not _usable_date_part(key, value)
    ]
    if not unusable:
        return data
    data = data.copy()
    for key in unusable:
        del data[key]
    data._mutable = False
    return data


class _CheckedChoices:
    """Redraws only the submitted ids its field can read: Django's widget
    looks each one up, and an id that is not a UUID (or a number) raises."""

    def optgroups(self, name, value, attr=None):
        field = self.field.remote_field.model._meta.get_field(self.field.remote_field.field_name)
        readable = []
        for item in value:
            try:
                field.to_python(item)
            except (ValidationError, ValueError, TypeError, OverflowError):
                continue
            readable.append(item)
        return super().optgroups(name, readable, attr)


class CheckedAutocompleteSelect(_CheckedChoices, AutocompleteSelect):
    pass


class CheckedAutocompleteSelectMultiple(_CheckedChoices, AutocompleteSelectMultiple):
    pass


class CheckedModelAdminMixin:
    """For our ``ModelAdmin`` and inline classes (see the module docstring)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                CheckedAutocompleteSelectMultiple(
                    db_field, self.admin_site, using=kwargs.get("using")
                ),
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        """Initial values from the query string, only those their field accepts."""
        initial = super().get_changeform_initial_data(request)
        fields = self.get_form(request).base_fields
        accepted = {}
        for name, value in initial.items():
            field = fields.get(name)
            if field is None or isinstance(field, forms.FileField):
                continue
            try:
                field.clean(value)
            except (ValidationError, ValueError, TypeError, OverflowError):
                continue
            accepted[name] = value
        return accepted
