"""When the digests go out (cron, in the organisation's time zone)."""

from django.conf import settings

from loudou.jobs.schedules import Schedule, register

from .tasks import send_digests, send_weekly

register(
    Schedule(
        name="notify.daily_digest",
        cron=lambda: settings.LOUDOU_DIGEST_CRON,
        task=send_digests,
        description="Each team's daily digest to its chat channels",
    )
)
register(
    Schedule(
        name="notify.weekly_diagnosis",
        cron=lambda: settings.LOUDOU_WEEKLY_CRON,
        task=send_weekly,
        description="Each team's weekly diagnosis to its chat channels",
    )
)
