"""The digests' schedules: cron expressions in the organisation's time zone
(LOUDOU_DIGEST_CRON, LOUDOU_WEEKLY_CRON)."""

import datetime as dt

from django.conf import settings

from loudou.jobs.schedules import Schedule, register

from .tasks import prune_deliveries, send_digests, send_weekly

register(
    Schedule(
        name="notifications.daily_digest",
        cron=lambda: settings.LOUDOU_DIGEST_CRON,
        task=send_digests,
        grace=dt.timedelta(hours=3),
        description="Each team's daily digest to its chat channels",
    )
)
register(
    Schedule(
        name="notifications.weekly_diagnosis",
        cron=lambda: settings.LOUDOU_WEEKLY_CRON,
        task=send_weekly,
        grace=dt.timedelta(hours=12),
        description="Each team's weekly diagnosis to its chat channels",
    )
)
register(
    Schedule(
        name="notifications.prune_deliveries",
        cron="27 3 * * *",
        task=prune_deliveries,
        grace=dt.timedelta(days=1),
        description="Delete finished deliveries older than LOUDOU_NOTIFY_KEEP_DAYS",
    )
)
