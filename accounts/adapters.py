import hashlib
import math
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import get_next_redirect_url
from allauth.core.exceptions import ImmediateHttpResponse

# The limiter allauth's own adapter counts failed sign-ins with: the same
# cache keys, locks and rollback, fed the keys of the rule below.
from allauth.core.internal import ratelimit
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.core.cache import cache
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from .middleware import timezone_from_cookie

# Failed password sign-ins (issue 14). The limits are ACCOUNT_RATE_LIMITS in
# settings; the counts live in the cache, which is Redis (REDIS_URL) as soon
# as there is more than one web process, so every process sees every failure.
#
#   "login_failed"             per address (the client IP, see settings), any
#                              account: 10 a minute and 100 an hour. One
#                              address trying many accounts.
#   "login_failed_ip_account"  per address and account: 5 in 5 minutes, 30 a
#                              day. One address guessing one password; the
#                              day's cap is what holds a guesser who shares
#                              the owner's usual address, which the next
#                              limit leaves alone. It is the only limit
#                              someone mistyping their own password meets, and
#                              it pauses that address for that account only.
#   "login_failed_account"     per account, from every address: 30 an hour and
#                              100 a day. Guessers that rotate addresses. It
#                              does not apply from an address the account
#                              signed in from in the last 30 days, so strangers
#                              elsewhere cannot lock the owner out where they
#                              usually sign in. From a new address the owner
#                              resets the password: the emailed link signs
#                              them in (ACCOUNT_LOGIN_ON_PASSWORD_RESET) and
#                              clears the account's counts.
#
# The limits are checked before the password is, so a paused address learns
# nothing more (the right password is refused too); the answer is a 429 page
# that says when to try again and offers the reset. Only wrong passwords
# count: a refused attempt counts for nothing and a right password takes its
# own attempt back. The account is the email as typed, lower-cased, whether or
# not an account has it (so pauses do not tell which emails have accounts);
# not allauth's "<host>:<email>", which a client varies with the Host header.
SIGN_IN_LIMITS_APP = "allauth.account"
PER_ADDRESS = "login_failed"
PER_ADDRESS_AND_ACCOUNT = "login_failed_ip_account"
PER_ACCOUNT = "login_failed_account"
SIGNED_IN_FROM_FOR = timedelta(days=30)


def account_key(credentials: dict) -> str:
    """The account a sign-in attempt is for: its email, lower-cased."""
    return (credentials.get("email") or credentials.get("username") or "").strip().lower()


def _signed_in_from_cache_key(account: str, address: str) -> str:
    digest = hashlib.sha256(f"{account}\n{address}".encode()).hexdigest()
    return f"accounts:signed-in-from:{digest}"


def sign_in_limits(request, account: str) -> list[tuple[str, str | None]]:
    """The (action, key) pairs that count a failed sign-in to ``account`` from
    this request's address."""
    address = ratelimit.get_ip(request)
    limits = [(PER_ADDRESS, None), (PER_ADDRESS_AND_ACCOUNT, f"{address}|{account}")]
    if cache.get(_signed_in_from_cache_key(account, address)) is None:
        limits.append((PER_ACCOUNT, account))
    return limits


def _free_at(request, action: str, key: str | None) -> float | None:
    """When ``action``'s exhausted rates for ``key`` next let an attempt
    through (a Unix time), or None when none is exhausted."""
    now = datetime.now(UTC).timestamp()
    latest = None
    for rate in ratelimit.get_rates(app=SIGN_IN_LIMITS_APP, action=action):
        cache_key = ratelimit.get_cache_key(
            request, app=SIGN_IN_LIMITS_APP, action=action, rate=rate, key=key
        )
        # Newest first; an attempt is let through once fewer than
        # rate.amount of them are younger than rate.duration.
        history = [moment for moment in cache.get(cache_key, []) if moment > now - rate.duration]
        if len(history) >= rate.amount:
            free = history[rate.amount - 1] + rate.duration
            latest = free if latest is None else max(latest, free)
    return latest


def respond_sign_in_paused(request, limits: list[tuple[str, str | None]]):
    """The 429 page for a sign-in refused by ``limits``: which limit, when to
    try again (also as Retry-After), and the way round it (a password reset)."""
    now = datetime.now(UTC)
    reason, free_at = PER_ADDRESS, now.timestamp() + 60
    waits = [(_free_at(request, action, key), action) for action, key in limits]
    exhausted = [(moment, action) for moment, action in waits if moment is not None]
    if exhausted:
        # Another request may have filled a limit in between; when nothing
        # reads as exhausted any more, a minute from now is still honest.
        free_at, reason = max(exhausted)
    seconds = max(1, math.ceil(free_at - now.timestamp()))
    # Shown to the minute, rounded up: trying at the time shown works.
    retry_at = datetime.fromtimestamp(math.ceil(free_at / 60) * 60, UTC)
    login_url = reverse("account_login")
    next_url = get_next_redirect_url(request)
    if next_url:
        login_url = f"{login_url}?{urlencode({'next': next_url})}"
    context = {
        "sign_in_paused": {
            "reason": {
                PER_ADDRESS: "address",
                PER_ADDRESS_AND_ACCOUNT: "address_account",
                PER_ACCOUNT: "account",
            }[reason],
            "retry_at": retry_at,
            "same_day": timezone.localdate(retry_at) == timezone.localdate(now),
            "login_url": login_url,
        }
    }
    response = render(request, "429.html", context, status=HTTPStatus.TOO_MANY_REQUESTS)
    response["Retry-After"] = str(seconds)
    return response


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is open; emails carry the site's name and absolute links;
    failed sign-ins are throttled by the rule above."""

    def is_open_for_signup(self, request) -> bool:
        return True

    def pre_authenticate(self, request, **credentials) -> None:
        """Count this attempt against every limit of the rule, or refuse it
        with the 429 page before the password is checked. allauth's
        ``authenticate`` takes the attempt back when the password is right."""
        limits = sign_in_limits(request, account_key(credentials))
        # A dry run first, so that a refused attempt counts for nothing.
        for action, key in limits:
            if not ratelimit.consume(
                request, app=SIGN_IN_LIMITS_APP, action=action, key=key, dry_run=True
            ):
                raise ImmediateHttpResponse(respond_sign_in_paused(request, limits))
        counted = []
        for action, key in limits:
            usage = ratelimit.consume(request, app=SIGN_IN_LIMITS_APP, action=action, key=key)
            if usage is None:
                # A concurrent attempt took the last one in between.
                for earlier in counted:
                    earlier.rollback()
                raise ImmediateHttpResponse(respond_sign_in_paused(request, limits))
            counted.append(usage)
        self._login_failed_rl_usage = ratelimit.RateLimitUsage(
            usage=[single for usage in counted for single in usage.usage]
        )

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        """allauth calls this after a successful password reset, for each of
        the user's addresses: the account's own counts start again (those of
        this address for it too); the per-address count stays, as it is not
        the account's."""
        account = account_key(credentials)
        address = ratelimit.get_ip(request)
        for action, key in [
            (PER_ACCOUNT, account),
            (PER_ADDRESS_AND_ACCOUNT, f"{address}|{account}"),
        ]:
            ratelimit.clear(request, app=SIGN_IN_LIMITS_APP, action=action, key=key)

    def login(self, request, user) -> None:
        """Every sign-in (password, reset link, email confirmation, Google)
        remembers its address for the account, which the per-account limit
        then leaves alone."""
        super().login(request, user)
        account = account_key({"email": user.email})
        if account:
            cache.set(
                _signed_in_from_cache_key(account, ratelimit.get_ip(request)),
                True,
                timeout=int(SIGNED_IN_FROM_FOR.total_seconds()),
            )


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
