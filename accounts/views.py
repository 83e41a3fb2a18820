from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from . import services
from .forms import AccountSettingsForm


@login_required
def account_settings(request):
    """The signed-in user's own details. Nothing is saved unless every field is valid."""
    user = request.user
    if request.method == "POST":
        form = AccountSettingsForm(request.POST, request.FILES, instance=user)
        if form.is_valid():
            services.update_account_settings(user=user, form=form)
            messages.success(request, "Your settings were saved.")
            return redirect("accounts:settings")
        messages.error(request, "Nothing was saved: please correct the fields marked below.")
        # is_valid() copied the rejected values onto request.user (the form's
        # instance); the rest of the page must show what is actually saved.
        user.refresh_from_db()
    else:
        form = AccountSettingsForm(instance=user)
    return render(request, "accounts/settings.html", {"form": form})
