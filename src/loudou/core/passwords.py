"""Forgotten passwords: reset links by e-mail, and passwords set by an administrator.

A request for a link never says whether the address belongs to anyone: the page after it
reads the same either way, and the request does the same work either way (it records
itself, looks the address up and queues one task, which sends to whoever has the address
by the time it runs, possibly nobody), so neither the answer nor its time tells. Requests
are limited per e-mail address typed and per client address within
``LOUDOU_PASSWORD_RESET_WINDOW``, counting addresses that belong to nobody alike, so a
refusal reveals nothing either. Mail goes out from the background worker: a slow mail
server delays nobody's page.

Completing a reset, or an administrator setting a password, unlocks the account at the
login throttle (its failed logins are forgotten): whoever can read its mail, or its
administrator, may log in at once.
"""

import datetime as dt
import ipaddress
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from loudou.jobs.queue import enqueue_on_commit
from loudou.people.models import User
from loudou.people.services import require_admin_over

from .errors import InvalidInput, ServiceError, sentences
from .models import PasswordResetRequest
from .tasks import send_password_reset
from .throttle import forget_failures


class ResetThrottled(ServiceError):
    """Too many reset requests for this e-mail address or from this client address."""

    code = "throttled"
    default_message = _("Too many password reset requests. Try again later.")

    def __init__(self, until: dt.datetime) -> None:
        self.until = until
        super().__init__()


@dataclass(frozen=True)
class LinkSite:
    """Where the links in e-mails point."""

    domain: str
    use_https: bool

    @classmethod
    def of(cls, request: HttpRequest) -> "LinkSite":
        """LOUDOU_SITE_URL when set (the address people use, whatever a proxy passes on);
        else the address this request came to (its host is one of ALLOWED_HOSTS)."""
        if settings.LOUDOU_SITE_URL:
            site = urlsplit(settings.LOUDOU_SITE_URL)
            if site.netloc:
                return cls(domain=site.netloc, use_https=site.scheme == "https")
        return cls(domain=request.get_host(), use_https=request.is_secure())


def _digest(email: str) -> str:
    """The e-mail address as the throttle keeps it: keyed, case and width folded."""
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return salted_hmac("loudou.password-reset", folded, algorithm="sha256").hexdigest()


def _holders(email: str) -> list[User]:
    """The active users with this e-mail address (letter case aside). Several people may
    share one; each gets their own link."""
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    if not folded:
        return []
    return [
        u
        for u in User.objects.filter(is_active=True, email__iexact=email.strip())
        # As Django's own form: an account without a usable password (an owner created by
        # an import, a login kept elsewhere) gets one from an admin, not from a public form.
        if unicodedata.normalize("NFKC", u.email).casefold() == folded and u.has_usable_password()
    ]


def _client_key(address: str | None) -> str:
    """What the per-client limit counts: an IPv4 address, or an IPv6 address's /64
    network (one host or household gets a whole /64 and could rotate inside it)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or ""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is an IPv4 client
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _refused_until(
    times: list[dt.datetime], limit: int, window: dt.timedelta
) -> dt.datetime | None:
    """When enough of ``times`` (oldest first, within the window) leave it for one more
    request to fit under ``limit``; None when one fits now."""
    if len(times) < limit:
        return None
    return times[len(times) - limit] + window


@transaction.atomic
def request_reset(
    *,
    email: str,
    address: str | None,
    site: LinkSite,
    language: str,
    now: dt.datetime | None = None,
) -> None:
    """Someone asks for a reset link for ``email`` from the client ``address``: queue it,
    or raise ``ResetThrottled`` (nothing recorded then, so the promised time holds)."""
    now = now or timezone.now()
    window = settings.LOUDOU_PASSWORD_RESET_WINDOW
    PasswordResetRequest.objects.filter(at__lte=now - window).delete()
    digest, address = _digest(email), _client_key(address)
    recent = PasswordResetRequest.objects.filter(at__gt=now - window).order_by("at")
    limits = (
        (recent.filter(email_digest=digest), settings.LOUDOU_PASSWORD_RESET_LIMIT),
        (recent.filter(address=address), settings.LOUDOU_PASSWORD_RESET_ADDRESS_LIMIT),
    )
    refused = [
        until
        for rows, limit in limits
        if (until := _refused_until(list(rows.values_list("at", flat=True)), limit, window))
    ]
    if refused:
        raise ResetThrottled(max(refused))
    PasswordResetRequest.objects.create(at=now, address=address, email_digest=digest)
    # One task whether or not anyone has the address: the same work either way.
    enqueue_on_commit(
        send_password_reset,
        user_ids=[u.pk for u in _holders(email)],
        domain=site.domain,
        use_https=site.use_https,
        language=language,
    )


def reset_link(user: User, site: LinkSite) -> str:
    """A link that lets ``user`` choose a new password: it works once (the token is made
    from the current password hash and last login), within PASSWORD_RESET_TIMEOUT."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{'https' if site.use_https else 'http'}://{site.domain}{path}"


def send_reset_mails(
    *, user_ids: list[int], site: LinkSite, language: str, sent_by_id: int | None = None
) -> int:
    """E-mail a reset link to each of these users who is still active and has an
    address, in ``language``; returns how many were sent (the worker's task). With
    ``sent_by_id``, an administrator sent it: the mail names them instead of telling of
    a request the user may not have made."""
    users = User.objects.filter(pk__in=user_ids, is_active=True).exclude(email="")
    admin = User.objects.filter(pk=sent_by_id).first() if sent_by_id is not None else None
    sent = 0
    with translation.override(language):
        for user in users:
            context = {
                "user": user,
                "link": reset_link(user, site),
                "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
                "site": site.domain,
                "sent_by": admin,
                # Sent by someone unknown now (their account removed): still not the
                # user's own request.
                "by_admin": sent_by_id is not None,
            }
            subject = render_to_string("core/email/password_reset_subject.txt", context)
            body = render_to_string("core/email/password_reset.txt", context)
            message = EmailMessage(
                " ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [user.email]
            )
            message.send()
            sent += 1
    return sent


@transaction.atomic
def admin_set_password(*, actor: User, user: User, password: str) -> User:
    """An administrator gives ``user`` a new password (to pass on to them): it must pass
    the site's password rules; the user's other sessions end, and the account is
    unlocked at the login throttle."""
    require_admin_over(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput({"password": sentences(exc.messages)}, model=User) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    forget_failures(user.get_username())
    return user


@transaction.atomic
def admin_send_reset_link(*, actor: User, user: User, site: LinkSite, language: str) -> None:
    """An administrator has a reset link sent to ``user``'s e-mail address (queued like a
    request of their own, without the request limits)."""
    require_admin_over(actor, user)
    if not user.is_active:
        raise InvalidInput({"user": _("This user is deactivated: reactivate them first.")})
    if not user.email:
        raise InvalidInput(
            {"email": _("This user has no e-mail address: add one, or set a new password.")}
        )
    enqueue_on_commit(
        send_password_reset,
        user_ids=[user.pk],
        domain=site.domain,
        use_https=site.use_https,
        language=language,
        sent_by_id=actor.pk,
    )


def reset_completed(user: User) -> None:
    """``user`` chose a new password through a link: whoever reads their mail is them,
    so their failed logins are forgotten (the account is unlocked)."""
    forget_failures(user.get_username())
