"""The review, reply and report forms. They validate; ``reviews.services`` act."""

from django import forms

from .models import FEEDBACK_MAX_LENGTH, REPLY_MAX_LENGTH, REPORT_REASON_MAX_LENGTH

# The words each star stands for, read out by screen readers and shown under
# the stars for the one chosen.
RATING_LABELS = {
    1: "1 star — poor",
    2: "2 stars — fair",
    3: "3 stars — good",
    4: "4 stars — very good",
    5: "5 stars — excellent",
}
RATING_REQUIRED = "Please choose a rating from 1 to 5 stars."


def _too_long(what: str, limit: int) -> str:
    return f"Please keep {what} to {limit} characters or fewer (it has %(show_value)d)."


class ReviewForm(forms.Form):
    """A rating of 1–5 and optional feedback. Anything else (0, 6, "abc",
    nothing) is refused with one clear message."""

    rating = forms.TypedChoiceField(
        choices=list(RATING_LABELS.items()),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": RATING_REQUIRED, "invalid_choice": RATING_REQUIRED},
    )
    feedback = forms.CharField(
        required=False,
        max_length=FEEDBACK_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": FEEDBACK_MAX_LENGTH}),
        error_messages={"max_length": _too_long("your feedback", FEEDBACK_MAX_LENGTH)},
    )

    def stars(self) -> list[dict]:
        """The five choices for the star template: value, label and whether chosen."""
        chosen = str(self["rating"].value() or "")
        return [
            {"value": value, "label": label, "checked": chosen == str(value)}
            for value, label in RATING_LABELS.items()
        ]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your public reply",
        max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": REPLY_MAX_LENGTH}),
        error_messages={
            "required": "Please write a reply (or delete it instead).",
            "max_length": _too_long("your reply", REPLY_MAX_LENGTH),
        },
    )


class ReportForm(forms.Form):
    reason = forms.CharField(
        label="What is wrong with this review?",
        max_length=REPORT_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": REPORT_REASON_MAX_LENGTH}),
        error_messages={
            "required": "Please tell us what is wrong with this review.",
            "max_length": _too_long("the reason", REPORT_REASON_MAX_LENGTH),
        },
    )
