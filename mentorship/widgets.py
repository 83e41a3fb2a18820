"""A length of time typed as a number and a unit ("12" and "hours"), stored
as a whole number of the one unit the model field keeps (minutes, hours or
days), and a bound field that ties a field's help, example and error to its
inputs.

``DurationField(base=MINUTES, units=[MINUTES, HOURS, DAYS], max_value=…)``
cleans "12 hours" to 720 and shows a stored 720 as "12 hours": a value is
always shown in the largest unit it is a whole number of. Every unit offered
is a whole multiple of ``base``, so each choice converts exactly.

The number keeps the field's own name and the unit is ``<name>_unit``.
``static/js/duration.js`` converts the same way in the browser (its table of
units must match ``UNITS``).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField


@dataclass(frozen=True)
class Unit:
    name: str  # the plural, also the value the form posts: "hours"
    singular: str
    minutes: int

    def amount(self, count: int) -> str:
        """``count`` of this unit in words: "1 hour", "12 hours"."""
        return f"{count} {self.singular if count == 1 else self.name}"


MINUTES = Unit("minutes", "minute", 1)
HOURS = Unit("hours", "hour", 60)
DAYS = Unit("days", "day", 24 * 60)
WEEKS = Unit("weeks", "week", 7 * 24 * 60)
UNITS = {unit.name: unit for unit in (MINUTES, HOURS, DAYS, WEEKS)}


def largest_unit(value: int, *, base: Unit, units: Sequence[Unit]) -> tuple[int, Unit]:
    """``value`` (in ``base``) as (count, unit) in the largest of ``units`` it
    is a whole number of; 0 is counted in the smallest unit offered."""
    minutes = value * base.minutes
    ordered = sorted(units, key=lambda unit: unit.minutes)
    if minutes == 0:
        return 0, ordered[0]
    for unit in reversed(ordered):
        if minutes % unit.minutes == 0:
            return minutes // unit.minutes, unit
    return value, base


def describe(value: int, *, base: Unit, units: Sequence[Unit]) -> str:
    """``value`` (in ``base``) in words, in its largest exact unit: "12 hours"."""
    count, unit = largest_unit(value, base=base, units=units)
    return unit.amount(count)


class DurationWidget(forms.MultiWidget):
    """A number and a ``<select>`` of units, side by side (a Bootstrap input group)."""

    template_name = "mentorship/widgets/duration.html"
    # One label names the number; the select carries its own name. So no
    # fieldset, and Django's aria-describedby applies as for any input.
    use_fieldset = False

    def __init__(self, *, base: Unit, units: Sequence[Unit], suffix: str = "", attrs=None):
        self.base = base
        self.units = list(units)
        self.suffix = suffix  # words after the unit: "2 days *before*"
        self.unit_label = "Unit"
        # The accepted range in ``base`` (set by DurationField), for duration.js.
        self.min_value: int | None = None
        self.max_value: int | None = None
        number = forms.NumberInput(
            attrs={"class": "form-control", "min": 0, "step": 1, "inputmode": "numeric"}
        )
        choice = forms.Select(
            choices=[(unit.name, unit.name) for unit in self.units],
            attrs={"class": "form-select"},
        )
        super().__init__({"": number, "unit": choice}, attrs)

    def decompress(self, value):
        if value in (None, ""):
            return [None, self.base.name]
        count, unit = largest_unit(int(value), base=self.base, units=self.units)
        return [count, unit.name]

    def id_for_label(self, id_):
        # The label names the number; the select has its own aria-label.
        return f"{id_}_0" if id_ else ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        extra_class = context["widget"]["attrs"].get("class", "")
        for widget, subwidget in zip(self.widgets, context["widget"]["subwidgets"], strict=True):
            # The subwidget's own class (form-control, form-select) and the
            # field's (is-invalid) together: Django would keep only the latter.
            own = widget.attrs.get("class", "")
            subwidget["attrs"]["class"] = " ".join(filter(None, [own, extra_class]))
        context["widget"]["subwidgets"][1]["attrs"]["aria-label"] = self.unit_label
        context["widget"]["base_unit"] = self.base.name
        context["widget"]["suffix"] = self.suffix
        context["widget"]["unit_names"] = " ".join(unit.name for unit in self.units)
        context["widget"]["min_value"] = self.min_value
        context["widget"]["max_value"] = self.max_value
        return context


class ExampleBoundField(BoundField):
    """A bound field that describes its inputs by its help text, its example
    (``<id>_example``, filled from ``field.example(value)``) and its errors,
    and marks them invalid for Bootstrap as well as for assistive technology."""

    @property
    def example_id(self) -> str:
        return f"{self.auto_id}_example"

    @property
    def error_id(self) -> str:
        return f"{self.auto_id}_error"

    @property
    def aria_describedby(self):
        if not self.auto_id:
            return ""
        ids = []
        if self.help_text:
            ids.append(f"{self.auto_id}_helptext")
        ids.append(self.example_id)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            widget = widget or self.field.widget
            own = "" if isinstance(widget, forms.MultiWidget) else widget.attrs.get("class", "")
            attrs["class"] = " ".join(filter(None, [own, "is-invalid"]))
        return attrs

    @property
    def example(self) -> str:
        """The field's example for the value it shows: what is stored, or
        what was sent if that is valid; empty next to an error (the browser
        fills it in again as the value is corrected, ``duration.js``)."""
        example = getattr(self.field, "example", None)
        if example is None:
            return ""
        if not self.form.is_bound:
            return example(self.form.get_initial_for_field(self.field, self.name))
        if self.errors:
            return ""
        return example(self.form.cleaned_data.get(self.name))


class DurationField(forms.MultiValueField):
    """A whole number of ``base`` units, typed in any of ``units``; refused
    outside ``min_value``–``max_value`` (in ``base``) with the limit in words.

    ``example`` (optional) turns a clean value into a sentence shown under
    the field (``ExampleBoundField.example``); ``suffix`` (optional) are
    words shown after the unit ("before")."""

    bound_field_class = ExampleBoundField

    def __init__(
        self,
        *,
        base: Unit,
        units: Sequence[Unit],
        max_value: int,
        min_value: int = 0,
        example: Callable[[int], str] | None = None,
        suffix: str = "",
        **kwargs,
    ):
        if any(unit.minutes % base.minutes for unit in units):
            raise ValueError("every unit must be a whole number of the base unit")
        self.base, self.units = base, list(units)
        self.min_value, self.max_value = min_value, max_value
        self.example = example
        unit_words = ", ".join(unit.name for unit in self.units[:-1])
        unit_words = f"{unit_words} or {self.units[-1].name}" if unit_words else self.units[0].name
        fields = (
            forms.IntegerField(
                error_messages={
                    "invalid": "Enter a whole number.",
                    "incomplete": "Enter a number.",
                }
            ),
            forms.ChoiceField(
                choices=[(unit.name, unit.name) for unit in self.units],
                error_messages={
                    "invalid_choice": f"Choose {unit_words}.",
                    "incomplete": f"Choose {unit_words}.",
                },
            ),
        )
        kwargs.setdefault("error_messages", {}).setdefault("required", "Enter a number.")
        super().__init__(
            fields,
            require_all_fields=False,
            widget=DurationWidget(base=base, units=units, suffix=suffix),
            **kwargs,
        )
        self.widget.unit_label = f"{self.label}: unit" if self.label else "Unit"
        self.widget.min_value, self.widget.max_value = min_value, max_value

    def describe(self, value: int) -> str:
        return describe(value, base=self.base, units=self.units)

    def compress(self, data_list):
        if not data_list:
            return None
        count, unit_name = data_list
        value = count * UNITS[unit_name].minutes // self.base.minutes
        typed = UNITS[unit_name].amount(count)
        if value < self.min_value:
            least = (
                "0 or more" if self.min_value == 0 else f"at least {self.describe(self.min_value)}"
            )
            raise ValidationError(f"Choose {least}.", code="min_value")
        if value > self.max_value:
            raise ValidationError(
                "Choose at most %(limit)s (you chose %(typed)s).",
                code="max_value",
                params={"limit": self.describe(self.max_value), "typed": typed},
            )
        return value
