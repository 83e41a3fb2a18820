"""Forms of the calendar pages: connecting a CalDAV account, choosing calendars."""

from django import forms

from .base import CalendarError


class CalDAVConnectForm(forms.Form):
    url = forms.URLField(
        label="Server address",
        max_length=500,
        assume_scheme="https",
        help_text=(
            "Your provider's CalDAV address, for example https://caldav.icloud.com/, "
            "https://caldav.fastmail.com/ or https://cloud.example.com/remote.php/dav/."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "url", "spellcheck": "false"}),
    )
    username = forms.CharField(
        label="User name",
        max_length=254,
        help_text="Usually your email address.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label="App password",
        max_length=1000,
        strip=False,
        help_text=(
            "Create an app password in your provider's account settings rather than using "
            "your main password. It is stored encrypted and only used to reach your calendar."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )

    def clean_url(self):
        from .caldav import check_url_form  # with requests: loaded for this form only

        url = self.cleaned_data["url"]
        try:
            check_url_form(url)
        except CalendarError as error:
            raise forms.ValidationError(str(error), code="url") from None
        return url


class ChooseCalendarsForm(forms.Form):
    busy = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    target = forms.ChoiceField(required=False, widget=forms.RadioSelect)

    def __init__(self, *args, calendars, **kwargs):
        super().__init__(*args, **kwargs)
        self.calendars = calendars
        self.fields["busy"].choices = [(calendar.id, calendar.name) for calendar in calendars]
        self.fields["target"].choices = [("", "None")] + [
            (calendar.id, calendar.name) for calendar in calendars if calendar.writable
        ]
