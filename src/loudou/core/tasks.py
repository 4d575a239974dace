"""Core's background tasks (django-tasks; run by `loudou worker`)."""

from django.conf import settings
from django.db import connection, transaction
from django_tasks import task

from .db import prune_changes


@task()
def prune_change_records(due: str | None = None) -> int:
    """Delete change records older than LOUDOU_CHANGES_KEEP_HOURS (scheduled hourly)."""
    with transaction.atomic():
        return prune_changes(connection, settings.LOUDOU_CHANGES_KEEP_HOURS)


@task()
def send_password_reset(
    *,
    user_ids: list[int],
    domain: str,
    use_https: bool,
    language: str,
    sent_by_id: int | None = None,
) -> int:
    """E-mail password reset links (``core.passwords``): queued for every request, so a
    request for an address nobody has costs the same (an empty ``user_ids``);
    ``sent_by_id`` is the administrator who sent the link, when one did."""
    from .passwords import LinkSite, send_reset_mails  # passwords queues this task

    return send_reset_mails(
        user_ids=user_ids,
        site=LinkSite(domain=domain, use_https=use_https),
        language=language,
        sent_by_id=sent_by_id,
    )
