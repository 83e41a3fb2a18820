"""How reviews name their authors and show their stars."""

from django import template

register = template.Library()


@register.filter
def reviewer_name(user) -> str:
    """The reviewer as the public sees them: first name and last initial
    ("Theo M."), never the full last name or the email address."""
    words = (getattr(user, "name", "") or "").split()
    if not words:
        return "A mentee"
    if len(words) == 1:
        return words[0]
    return f"{words[0]} {words[-1][0].upper()}."
