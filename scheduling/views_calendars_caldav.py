"""Connecting a CalDAV calendar, and choosing calendars for any connection.

* ``/calendars/caldav/connect/``: server address, user name and app password.
  The credentials are tried (the calendars discovered) before anything is
  saved; a mentor has one CalDAV connection, so connecting again updates it.
* ``/calendars/<uuid>/choose/``: which calendars count as busy and which one
  receives sessions, for CalDAV and Google connections alike (the list comes
  from ``client_for(connection).list_calendars()``). Saving starts a sync.
"""

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .calendars import CalendarAuthError, CalendarError, CalendarTemporaryError, client_for
from .calendars.caldav import check_url_form, connect_caldav
from .models import CalendarConnection
from .views_calendars import own_connection, own_mentor

logger = logging.getLogger(__name__)

# Each attempt makes requests to an address the mentor typed: a few a
# quarter of an hour are plenty for typos, and too few to scan anything.
CONNECT_ATTEMPTS = 10
CONNECT_WINDOW_SECONDS = 15 * 60


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


def choose_calendars(*, connection: CalendarConnection, busy: list[str], target: str) -> None:
    """Save which of the connection's calendars count as busy and which one
    receives sessions ("" for none), then enqueue a sync once committed.
    The caller has checked the ids against the account's calendars."""
    with transaction.atomic():
        connection.busy_calendars = list(busy)
        connection.target_calendar = target
        connection.save(update_fields=["busy_calendars", "target_calendar", "updated_at"])
        connection_id = str(connection.pk)

        def enqueue():
            from .tasks import sync_calendar

            try:
                sync_calendar.delay(connection_id)
            except Exception:  # the broker is down: the periodic sync runs soon
                logger.warning("Could not enqueue a sync of %s", connection_id, exc_info=True)

        transaction.on_commit(enqueue)


def _attempts_left(request) -> bool:
    key = f"caldav-connect:{request.user.pk}"
    cache.add(key, 0, CONNECT_WINDOW_SECONDS)
    try:
        return cache.incr(key) <= CONNECT_ATTEMPTS
    except ValueError:  # expired between add and incr
        return True


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def connect(request):
    mentor = own_mentor(request)
    if mentor is None:
        messages.info(request, "Calendar connections are for mentors.")
        return redirect("mentorship:become_mentor")
    existing = CalendarConnection.objects.filter(
        mentor=mentor, provider=CalendarConnection.Provider.CALDAV
    ).first()
    if request.method == "POST":
        form = CalDAVConnectForm(request.POST)
        if form.is_valid():
            if not _attempts_left(request):
                form.add_error(None, "Too many attempts: wait a quarter of an hour and try again.")
            else:
                try:
                    connection = connect_caldav(mentor=mentor, **form.cleaned_data)
                except CalendarAuthError:
                    form.add_error(
                        None,
                        "The server refused this user name or app password. Check them, or "
                        "create a new app password at your provider and try again.",
                    )
                except CalendarTemporaryError:
                    form.add_error(
                        None, "Your calendar server did not answer. Try again in a minute."
                    )
                except CalendarError as error:
                    form.add_error(None, str(error))
                else:
                    messages.success(
                        request, "Connected. Now choose the calendars Mentorship should use."
                    )
                    return redirect("scheduling:calendar_choose", connection_id=connection.pk)
    else:
        initial = (
            {"url": existing.caldav_url, "username": existing.caldav_username} if existing else {}
        )
        form = CalDAVConnectForm(initial=initial)
    return render(
        request,
        "scheduling/calendar_caldav_connect.html",
        {"form": form, "existing": existing},
    )


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def choose(request, connection_id):
    connection = own_connection(request, connection_id)
    context = {"connection": connection, "form": None, "error": "", "needs_reconnect": False}
    try:
        calendars = client_for(connection).list_calendars()
    except CalendarAuthError as error:
        context.update(error=str(error), needs_reconnect=True)
        return render(request, "scheduling/calendar_choose.html", context)
    except CalendarTemporaryError:
        context["error"] = "Your calendar server did not answer just now. Try again in a minute."
        return render(request, "scheduling/calendar_choose.html", context)
    except CalendarError as error:
        context["error"] = str(error)
        return render(request, "scheduling/calendar_choose.html", context)

    if request.method == "POST":
        form = ChooseCalendarsForm(request.POST, calendars=calendars)
        if form.is_valid():
            choose_calendars(
                connection=connection,
                busy=form.cleaned_data["busy"],
                target=form.cleaned_data["target"],
            )
            messages.success(
                request,
                "Saved. Busy times are being read now, and sessions already booked are "
                "added to your calendar within a few minutes."
                if form.cleaned_data["target"]
                else "Saved. Busy times are being read now.",
            )
            return redirect("scheduling:calendar_settings")
    else:
        form = ChooseCalendarsForm(
            calendars=calendars, initial=_initial_choice(connection, calendars)
        )
    context["form"] = form
    context["rows"] = _rows(form, calendars)
    context["no_target"] = not any(row["target"] for row in context["rows"])
    return render(request, "scheduling/calendar_choose.html", context)


def _initial_choice(connection, calendars) -> dict:
    """The saved choice; for a connection never set up, every calendar counts
    as busy and sessions go to the first one that takes events."""
    if connection.busy_calendars or connection.target_calendar:
        return {"busy": connection.busy_calendars, "target": connection.target_calendar}
    writable = [calendar.id for calendar in calendars if calendar.writable]
    return {
        "busy": [calendar.id for calendar in calendars],
        "target": writable[0] if writable else "",
    }


def _rows(form, calendars) -> list[dict]:
    """One row per calendar for the template: its name and whether each box is ticked."""
    if form.is_bound:
        busy = set(form.data.getlist("busy"))
        target = form.data.get("target", "")
    else:
        busy = set(form.initial.get("busy", []))
        target = form.initial.get("target", "")
    return [
        {
            "calendar": calendar,
            "number": number,
            "busy": calendar.id in busy,
            "target": calendar.id == target,
        }
        for number, calendar in enumerate(calendars)
    ]
