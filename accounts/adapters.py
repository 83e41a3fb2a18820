from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

from .middleware import timezone_from_cookie


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is open; emails carry the site's name and absolute links."""

    def is_open_for_signup(self, request) -> bool:
        return True


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Google sign-up: take the name from the profile and the zone from the browser."""

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        extra = sociallogin.account.extra_data or {}
        user.name = (
            extra.get("name")
            or " ".join(filter(None, [data.get("first_name"), data.get("last_name")]))
            or (user.email or "").split("@")[0]
        )[:150]
        user.timezone = timezone_from_cookie(request) or "UTC"
        return user
