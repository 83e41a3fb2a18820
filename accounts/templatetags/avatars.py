from django import template

from accounts.avatars import RENDITION_SIZES, rendition_name

register = template.Library()


@register.filter
def avatar_url(person, size: str) -> str:
    """The URL of ``person``'s avatar rendition for ``size`` (``sm``, ``md``,
    ``lg``; see ``RENDITION_SIZES``). Pages embed renditions only, never the
    stored picture. Builds the name, so it costs no query and no storage call."""
    name = rendition_name(person.avatar.name, RENDITION_SIZES[size])
    return person.avatar.storage.url(name)
