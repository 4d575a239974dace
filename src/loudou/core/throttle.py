"""Login throttling on top of django-axes: one limit per account, a higher one per address.

django-axes records every failed login (``AccessAttempt``: username, client address, user
agent, number of failures, time of the latest) and refuses a login whose failures have
reached ``AXES_FAILURE_LIMIT``. It compares one number with one limit; Loudou wants two:

- per account (``AXES_FAILURE_LIMIT``, ``LOUDOU_LOGIN_FAILURE_LIMIT``): guessing one
  account's password stops after a few tries, from however many addresses;
- per client address (``LOUDOU_LOGIN_ADDRESS_FAILURE_LIMIT``, higher, since the people of
  one office often share an address): trying many accounts from one place stops too,
  while a colleague's typos do not lock everyone else there out.

Failures count within the cool-off window (``AXES_COOLOFF_TIME``), as axes counts them.
Settings: see ``loudou.settings`` and README.
"""

import datetime as dt
import ipaddress
from dataclasses import dataclass

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone


@dataclass(frozen=True)
class Failures:
    """Failed logins within the cool-off window: how many, and when the latest was."""

    count: int
    latest: dt.datetime | None

    @classmethod
    def of(cls, attempts: "QuerySet[AccessAttempt]") -> "Failures":
        """Add up ``attempts`` (rows of axes' ``AccessAttempt``)."""
        totals = attempts.aggregate(count=Sum("failures_since_start"), latest=Max("attempt_time"))
        return cls(totals["count"] or 0, totals["latest"])


def recent_failures(request: HttpRequest, credentials: dict | None) -> tuple[Failures, Failures]:
    """The failures of this login's account and of its client address, in the window."""
    AxesProxyHandler.update_request(request)  # sets request.axes_ip_address, _attempt_time
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    username = get_client_username(request, credentials)
    return (
        Failures.of(recent.filter(username=username)),
        Failures.of(recent.filter(ip_address=request.axes_ip_address)),
    )


def locked_until(request: HttpRequest, credentials: dict | None) -> dt.datetime:
    """When this login may be tried again: the latest failure that counts toward each limit
    reached, plus the cool-off (a bound: earlier failures may leave the window sooner)."""
    account, address = recent_failures(request, credentials)
    reached = [
        failures.latest
        for failures, limit in (
            (account, settings.AXES_FAILURE_LIMIT),
            (address, settings.LOUDOU_LOGIN_ADDRESS_FAILURE_LIMIT),
        )
        if failures.count >= limit and failures.latest is not None
    ]
    cool_off = get_cool_off(request) or dt.timedelta(0)
    return max(reached, default=timezone.now()) + cool_off


class LoginThrottle(AxesDatabaseHandler):
    """axes' database handler with a per-account and a per-address limit (``AXES_HANDLER``)."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """The failures axes compares with ``AXES_FAILURE_LIMIT``: the account's, or that
        limit itself once the address has reached its own (axes knows only one limit)."""
        account, address = recent_failures(request, credentials)
        if address.count >= settings.LOUDOU_LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(account.count, settings.AXES_FAILURE_LIMIT)
        return account.count

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """After a good login, forget the failures of that account only. axes would also
        forget every failure from the address, so one known password would wipe the count
        of guesses at other accounts made from the same place."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def forget_failures(username: str) -> int:
    """Unlock one account: forget its failed logins (as `loudou axes_reset_username`
    does). Its address's failures stay: they count guesses at other accounts too."""
    count, _ = AccessAttempt.objects.filter(username=username).delete()
    return count


def client_address(request: HttpRequest) -> str | None:
    """The address failures are counted against (``AXES_CLIENT_IP_CALLABLE``).

    Behind ``LOUDOU_PROXY_COUNT`` reverse proxies that each append the address they saw to
    X-Forwarded-For, the client is that many entries from the right: entries further left
    came from the client itself and prove nothing. Without proxies, or when the header is
    short or not an address, it is the connection's peer (REMOTE_ADDR).
    """
    peer = request.META.get("REMOTE_ADDR")
    proxies = settings.LOUDOU_PROXY_COUNT
    if not proxies:
        return peer
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < proxies:
        return peer
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer
