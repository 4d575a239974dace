"""Schedules: tasks enqueued when a cron expression comes due (daily digests, weekly
diagnosis, housekeeping).

Each app declares its schedules in a ``schedules.py`` module calling ``register()``; the
worker imports them all (``all_schedules()``). Cron expressions are read in the
organisation's time zone (``settings.TIME_ZONE``) by croniter. A schedule's task is called
with one keyword argument, ``due``: the instant it came due (ISO 8601), so that a late run
still knows which day it is for.

A run missed while no worker was running is made up once when the worker starts, unless
it is older than the schedule's ``grace``: then it is skipped (a digest from yesterday
morning is noise) and the next one waits for its time.
"""

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from .models import ScheduleState

logger = logging.getLogger("loudou.jobs")


@dataclass(frozen=True)
class Schedule:
    """A task to enqueue whenever ``cron`` comes due.

    ``cron`` is a five-field cron expression, or a function returning one (read when the
    worker ticks, so that settings decide it); ``task`` a django-tasks ``Task`` taking the
    keyword argument ``due``."""

    name: str
    cron: str | Callable[[], str]
    task: object
    grace: dt.timedelta = dt.timedelta(hours=6)
    description: str = ""
    enabled: Callable[[], bool] = field(default=lambda: True)

    def expression(self) -> str:
        expression = self.cron() if callable(self.cron) else self.cron
        if not croniter.is_valid(expression):
            raise ImproperlyConfigured(
                f"Schedule {self.name}: {expression!r} is not a cron expression "
                "(five fields: minute hour day month weekday)."
            )
        return expression

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first instant after ``moment`` when the schedule is due (UTC)."""
        return next_due(self.expression(), moment)


def next_due(expression: str, moment: dt.datetime) -> dt.datetime:
    """The first instant strictly after ``moment`` matching ``expression`` in the
    organisation's time zone, in UTC."""
    local = moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    following = croniter(expression, local).get_next(dt.datetime)
    return following.astimezone(dt.UTC)


_REGISTRY: dict[str, Schedule] = {}
_discovered = False


def register(schedule: Schedule) -> Schedule:
    """Add ``schedule`` (from an app's ``schedules.py``); a name registers once."""
    _REGISTRY[schedule.name] = schedule
    return schedule


def all_schedules() -> list[Schedule]:
    """Every registered schedule, each app's ``schedules.py`` imported first."""
    global _discovered
    if not _discovered:
        autodiscover_modules("schedules")
        _discovered = True
    return sorted(_REGISTRY.values(), key=lambda s: s.name)


@dataclass(frozen=True)
class Fired:
    """What a tick did with one schedule that was due."""

    name: str
    due: dt.datetime
    task_id: str | None  # None: skipped (later than the grace period)


def tick(now: dt.datetime | None = None) -> list[Fired]:
    """Enqueue the task of every schedule that has come due, once; return what fired.

    The first time a schedule is seen, it is only planned (its next due instant stored).
    When its expression changes, it is planned again from now."""
    now = now or timezone.now()
    fired: list[Fired] = []
    for schedule in all_schedules():
        if not schedule.enabled():
            continue
        try:
            result = _tick_one(schedule, now)
        except IntegrityError:  # another worker created the same state row just now
            continue
        if result is not None:
            fired.append(result)
    return fired


@transaction.atomic
def _tick_one(schedule: Schedule, now: dt.datetime) -> Fired | None:
    expression = schedule.expression()
    state, created = ScheduleState.objects.get_or_create(
        name=schedule.name,
        defaults={"cron": expression, "next_due_at": schedule.next_after(now)},
    )
    if created:
        return None
    if state.cron != expression:
        ScheduleState.objects.filter(pk=state.pk).update(
            cron=expression, next_due_at=schedule.next_after(now)
        )
        return None
    due = state.next_due_at
    if due > now:
        return None
    # Compare-and-set: only the worker whose update matches enqueues this run.
    late = now - due > schedule.grace
    taken = ScheduleState.objects.filter(pk=state.pk, next_due_at=due).update(
        next_due_at=schedule.next_after(now), last_due_at=due, last_skipped=late
    )
    if not taken:
        return None
    if late:
        logger.warning(
            "Schedule %s was due at %s, more than %s ago: skipped.",
            schedule.name,
            due,
            schedule.grace,
        )
        return Fired(schedule.name, due, None)
    result = schedule.task.enqueue(due=due.isoformat())
    ScheduleState.objects.filter(pk=state.pk).update(last_enqueued_at=now, last_task_id=result.id)
    logger.info("Schedule %s (due %s): enqueued task %s.", schedule.name, due, result.id)
    return Fired(schedule.name, due, str(result.id))


def _housekeeping() -> None:
    from .tasks import prune_finished_tasks

    register(
        Schedule(
            name="jobs.prune_finished_tasks",
            cron="17 3 * * *",
            task=prune_finished_tasks,
            grace=dt.timedelta(days=1),
            description="Delete finished task results older than LOUDOU_TASK_RETENTION_DAYS.",
        )
    )


_housekeeping()
