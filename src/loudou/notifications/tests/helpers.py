"""Shared set-up for the notifications tests."""

from typing import Any

from django.test import override_settings

from loudou.core.testing import LoudouTestCase
from loudou.jobs.testing import run_tasks
from loudou.notifications.models import Channel, Subscription


@override_settings(LOUDOU_NOTIFY_PRIVATE_ADDRESSES=True)  # the receivers listen on 127.0.0.1
class NotifyTestCase(LoudouTestCase):
    """LoudouTestCase with channel and subscription factories; sending to 127.0.0.1 is
    allowed (the local receivers)."""

    def channel(self, kind: str, url: str, secret: str = "", **kwargs: Any) -> Channel:
        kwargs.setdefault("team", self.north)
        kwargs.setdefault("name", kind)
        return Channel.objects.create(kind=kind, address=url, secret=secret, **kwargs)

    def subscription(self, url: str, events: list[str], secret: str = "s3cret") -> Subscription:
        return Subscription.objects.create(url=url, events=events, secret=secret)

    def committed(self, action: Any) -> Any:
        """Run ``action`` and its on-commit callbacks (the events), then the tasks."""
        with self.captureOnCommitCallbacks(execute=True):
            result = action()
        run_tasks()
        return result
