from django import forms

from .models import User
from .validators import canonical_timezone, timezone_names, validate_timezone


def browser_time_format(request) -> str:
    """The clock the visitor's browser uses ("12" or "24", from the ``tf``
    cookie static/js/timezone.js sets), or "" when it has not said."""
    value = request.COOKIES.get("tf", "") if request is not None else ""
    return value if value in ("12", "24") else ""


def clean_person_name(value: str) -> str:
    """A name as typed, with runs of spaces made one; refuses a blank one."""
    name = " ".join(value.split())
    if not name:
        raise forms.ValidationError("Please tell us your name.")
    return name


class SignupForm(forms.Form):
    """The extra sign-up fields allauth adds to its own (email, passwords).

    ``timezone`` is a hidden field that ``static/js/timezone.js`` fills with the
    browser's zone (``Intl.DateTimeFormat().resolvedOptions().timeZone``).
    """

    name = forms.CharField(
        max_length=150,
        label="Your name",
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": "Ada Lovelace"}),
    )
    timezone = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"data-browser-timezone": "true"})
    )

    field_order = ["name"]

    def clean_name(self) -> str:
        return clean_person_name(self.cleaned_data["name"])

    def clean_timezone(self) -> str:
        # The visitor cannot see or fix this field, so an unknown value falls
        # back to UTC (editable later in the settings) instead of an error.
        value = canonical_timezone(self.cleaned_data.get("timezone", "").strip())
        try:
            validate_timezone(value)
        except forms.ValidationError:
            return "UTC"
        return value

    def signup(self, request, user: User) -> None:
        """Called by allauth once the user row exists."""
        user.name = self.cleaned_data["name"]
        user.timezone = self.cleaned_data["timezone"]
        # Emails have no browser to ask: keep the clock the browser uses.
        user.time_format = browser_time_format(request)
        user.save(update_fields=["name", "timezone", "time_format"])


class TimezoneInput(forms.TextInput):
    """A text input backed by a <datalist> of every zone: type to search."""

    template_name = "accounts/widgets/timezone_input.html"

    def __init__(self, attrs=None):
        super().__init__(attrs={"list": "timezone-options", "autocomplete": "off", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["timezone_names"] = timezone_names()
        return context


class AccountSettingsForm(forms.ModelForm):
    """Name, date of birth, LinkedIn, time zone and avatar of the signed-in user.

    Validation lives on the model fields (see ``accounts/validators.py``); a
    ModelForm runs it all before anything is saved.
    """

    class Meta:
        model = User
        fields = ["name", "date_of_birth", "linkedin_url", "timezone", "time_format", "avatar"]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "linkedin_url": forms.URLInput(
                attrs={"placeholder": "https://www.linkedin.com/in/your-name"}
            ),
            "timezone": TimezoneInput(),
            "avatar": forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        }
        # The model's AvatarValidator judges the picture (with clear messages,
        # also for a decompression bomb); Django's ImageField form field would
        # open it with Pillow first and answer only "Upload a valid image".
        field_classes = {"avatar": forms.FileField}
        help_texts = {
            "timezone": "Times across the site are shown in this zone. Start typing to search.",
            "time_format": "How times read on the site and in your emails.",
            "avatar": "JPEG, PNG or WebP, at most 2 MB and 40 megapixels.",
            "linkedin_url": "Optional. Must be an https://linkedin.com address.",
        }

    def clean_name(self) -> str:
        return clean_person_name(self.cleaned_data["name"])
