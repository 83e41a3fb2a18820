from django import forms
from django.core.exceptions import ValidationError

from .models import (
    BIOGRAPHY_MAX_LENGTH,
    MAX_EXPERTISE_TAGS,
    ExpertiseTag,
    MenteeProfile,
    MentorProfile,
    SocialLink,
)


class IdChoicesField(forms.ModelMultipleChoiceField):
    """Choices by integer id. An id no integer column holds (SQLite raises
    OverflowError for it, which Django's field does not catch) is refused as
    an unknown choice before any query."""

    LARGEST_ID = 2**63 - 1

    def _check_values(self, value):
        for pk in value:
            text = str(pk).strip()
            if not text.isdigit() or int(text) > self.LARGEST_ID:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text[:40]},
                )
        return super()._check_values(value)


class MentorProfileForm(forms.ModelForm):
    """The owner's editable fields. Rating, slug and owner are never form fields."""

    expertise = IdChoicesField(
        queryset=ExpertiseTag.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        label="Areas of expertise",
        help_text=f"Pick up to {MAX_EXPERTISE_TAGS}. Type above the list to filter it.",
    )

    class Meta:
        model = MentorProfile
        fields = [
            "headline",
            "biography",
            "expertise",
            "is_accepting_bookings",
            "buffer_minutes",
            "minimum_notice_minutes",
            "booking_horizon_days",
            "max_sessions_per_day",
            "cancellation_cutoff_hours",
        ]
        widgets = {
            "headline": forms.TextInput(
                attrs={"placeholder": "e.g. Staff engineer helping people grow into tech leads"}
            ),
            "biography": forms.Textarea(attrs={"rows": 8}),
            "buffer_minutes": forms.NumberInput(attrs={"min": 0, "max": 120, "step": 5}),
            "minimum_notice_minutes": forms.NumberInput(attrs={"min": 0, "max": 20160, "step": 15}),
            "booking_horizon_days": forms.NumberInput(attrs={"min": 1, "max": 365}),
            "max_sessions_per_day": forms.NumberInput(attrs={"min": 1, "max": 24}),
            "cancellation_cutoff_hours": forms.NumberInput(attrs={"min": 0, "max": 168}),
        }
        help_texts = {
            "headline": "One line shown on your card in the directory.",
            "biography": (
                f"Plain text, up to {BIOGRAPHY_MAX_LENGTH} characters. "
                "Leave an empty line between paragraphs."
            ),
            "is_accepting_bookings": (
                "When off, you are hidden from the directory and nobody can book you."
            ),
            "buffer_minutes": "Free time kept before and after every session (0–120).",
            "minimum_notice_minutes": (
                "How long before a session it can still be booked (720 = 12 hours)."
            ),
            "booking_horizon_days": "How far ahead people can book (1–365 days).",
            "max_sessions_per_day": "Leave empty for no daily limit (1–24).",
        }

    def clean_expertise(self):
        tags = self.cleaned_data["expertise"]
        if len(tags) > MAX_EXPERTISE_TAGS:
            raise ValidationError(
                "Choose at most %(limit)s areas of expertise (you chose %(count)s).",
                code="too_many_tags",
                params={"limit": MAX_EXPERTISE_TAGS, "count": len(tags)},
            )
        return tags

    def changes(self) -> dict:
        return {field: value for field, value in self.cleaned_data.items() if field != "expertise"}


class SocialLinkForm(forms.Form):
    platform = forms.ChoiceField(
        choices=[("", "Choose a platform…"), *SocialLink.Platform.choices], required=False
    )
    url = forms.URLField(
        label="Link",
        required=False,
        max_length=300,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )

    def clean(self):
        cleaned = super().clean()
        platform, url = cleaned.get("platform"), cleaned.get("url")
        if platform and not url and "url" not in self.errors:
            self.add_error("url", "Add the link for this platform, or clear the platform.")
        if url and not platform:
            self.add_error("platform", "Choose which platform this link is for.")
        if platform and url:
            # The model's own rules: https only, and on the platform's domain.
            link = SocialLink(platform=platform, url=url)
            try:
                link.full_clean(exclude=["mentor"], validate_unique=False)
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    for message in messages:
                        self.add_error(field if field in self.fields else None, message)
        return cleaned


class BaseSocialLinkFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            platform = form.cleaned_data.get("platform")
            if not platform:
                continue
            if platform in seen:
                raise ValidationError(
                    "You added %(platform)s twice: keep one link per platform.",
                    code="duplicate_platform",
                    params={"platform": dict(SocialLink.Platform.choices)[platform]},
                )
            seen.add(platform)

    def links(self) -> dict[str, str]:
        return {
            form.cleaned_data["platform"]: form.cleaned_data["url"]
            for form in self.forms
            if form.cleaned_data.get("platform") and form.cleaned_data.get("url")
        }


SocialLinkFormSet = forms.formset_factory(
    SocialLinkForm,
    formset=BaseSocialLinkFormSet,
    extra=2,
    max_num=len(SocialLink.Platform.choices),
    validate_max=True,
)


def social_link_formset(mentor: MentorProfile, data=None) -> BaseSocialLinkFormSet:
    initial = [{"platform": link.platform, "url": link.url} for link in mentor.social_links.all()]
    return SocialLinkFormSet(data=data, initial=initial, prefix="links")


class MenteeProfileForm(forms.ModelForm):
    class Meta:
        model = MenteeProfile
        fields = ["biography", "goals"]
        widgets = {
            "biography": forms.Textarea(attrs={"rows": 5}),
            "goals": forms.Textarea(
                attrs={
                    "rows": 4,
                    "placeholder": "e.g. Move from backend engineering to management this year",
                }
            ),
        }
        labels = {"biography": "About you", "goals": "What you want from mentoring"}
        help_texts = {
            "goals": "Mentors you book see this, so they can prepare.",
        }
