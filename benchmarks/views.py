"""The baseline every endpoint is compared with: the site layout, no database."""

from django.shortcuts import render

BARE_ITEMS = [f"Item {number}" for number in range(1, 21)]


def bare(request):
    """``base.html`` with 20 list items in the content block and no queries."""
    return render(request, "benchmarks/bare.html", {"items": BARE_ITEMS})
