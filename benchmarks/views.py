"""The baseline every endpoint is compared with, and the reference POSTs the
booking POST is shown against. Routed by ``benchmarks.urls`` only.

The two reference POSTs are the floor under any booking: what a signed-in,
CSRF-checked POST costs before it does any work (``signed_in_post``), and that
plus the least a booking's transaction must do, one locked read of a row and
one write (``locked_write``). They answer like a booking does: a redirect.
"""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

BARE_ITEMS = [f"Item {number}" for number in range(1, 21)]


def bare(request):
    """``base.html`` with 20 list items in the content block and no queries."""
    return render(request, "benchmarks/bare.html", {"items": BARE_ITEMS})


@require_POST
@login_required
def signed_in_post(request):
    """A signed-in POST (session, user, CSRF token checked) that does nothing."""
    return redirect("scheduling:session_list")


@require_POST
@login_required
def locked_write(request):
    """A signed-in POST that, in one transaction, locks the user's row and
    writes it (``last_login``, set to itself: a real UPDATE, nothing changes)."""
    from accounts.models import User

    with transaction.atomic():
        user = User.objects.select_for_update().only("last_login").get(pk=request.user.pk)
        User.objects.filter(pk=user.pk).update(last_login=user.last_login or timezone.now())
    return redirect("scheduling:session_list")
