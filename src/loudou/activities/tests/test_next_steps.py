"""Next steps (follow-ups): schedule, complete (logs the activity), reschedule; who may."""

import datetime as dt

from django.utils import timezone

from loudou.activities.models import Activity, NextStep
from loudou.activities.services import (
    cancel_next_step,
    complete_next_step,
    next_steps_visible_to,
    reschedule_next_step,
    schedule_next_step,
)
from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import services


def later(days: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


class ScheduleTests(LoudouTestCase):
    def test_future_time_is_allowed_and_owner_is_the_default_assignee(self):
        deal = self.make_deal()
        step = schedule_next_step(
            actor=self.rep, deal=deal, type="visit", due_at=later(3), note=" 带报价 "
        )
        self.assertEqual(
            (step.assignee, step.created_by, step.note), (self.rep, self.rep, "带报价")
        )
        self.assertIsNone(step.done_at)

    def test_manager_schedules_for_the_owner_or_a_teammate(self):
        deal = self.make_deal()
        step = schedule_next_step(actor=self.manager, deal=deal, type="call", due_at=later(1))
        self.assertEqual(step.assignee, self.rep)
        step = schedule_next_step(
            actor=self.manager, deal=deal, type="task", due_at=later(1), assignee=self.manager
        )
        self.assertEqual(step.assignee, self.manager)

    def test_refusals_change_nothing(self):
        deal = self.make_deal()
        cases = [
            ({"type": "fax", "due_at": later(1)}, InvalidInput),
            ({"type": "call", "due_at": None}, InvalidInput),
            ({"type": "call", "due_at": dt.datetime(2030, 1, 1)}, InvalidInput),  # naive
            ({"type": "call", "due_at": later(365 * 300)}, InvalidInput),
            # A teammate cannot work on the rep's deal, so cannot be its assignee.
            ({"type": "call", "due_at": later(1), "assignee": self.teammate}, InvalidInput),
        ]
        for kwargs, error in cases:
            with self.subTest(kwargs=kwargs), self.assertRaises(error):
                schedule_next_step(actor=self.rep, deal=deal, **kwargs)
        for actor in (self.teammate, self.other_manager, self.outsider):
            with self.subTest(actor=actor.username), self.assertRaises(NotAllowed):
                schedule_next_step(actor=actor, deal=deal, type="call", due_at=later(1))
        lost = self.make_deal()
        services.lose_deal(actor=self.rep, deal=lost, reason=self.price)
        with self.assertRaises(InvalidInput):
            schedule_next_step(actor=self.rep, deal=lost, type="call", due_at=later(1))
        self.assertFalse(NextStep.objects.exists())


class CompleteTests(LoudouTestCase):
    def test_complete_logs_the_activity_in_one_action(self):
        deal = self.make_deal()
        step = schedule_next_step(
            actor=self.rep, deal=deal, type="wechat", due_at=ago(1), note="问预算"
        )
        activity = complete_next_step(actor=self.rep, step=step, outcome="positive", note="有预算")
        self.assertEqual(
            (activity.type, activity.outcome, activity.note, activity.by),
            ("wechat", "positive", "问预算\n有预算", self.rep),
        )
        self.assertEqual((step.done_at, step.activity), (activity.at, activity))
        deal.refresh_from_db()
        self.assertEqual(deal.last_activity_at, activity.at)
        with self.assertRaises(InvalidInput):
            complete_next_step(actor=self.rep, step=step)
        self.assertEqual(Activity.objects.count(), 1)

    def test_a_task_is_logged_as_a_note(self):
        deal = self.make_deal()
        step = schedule_next_step(actor=self.rep, deal=deal, type="task", due_at=later(1))
        self.assertEqual(complete_next_step(actor=self.rep, step=step).type, "note")

    def test_bad_outcome_and_outsiders_change_nothing(self):
        deal = self.make_deal()
        step = schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=later(1))
        with self.assertRaises(InvalidInput):
            complete_next_step(actor=self.rep, step=step, outcome="great")
        for actor in (self.teammate, self.other_manager, self.outsider):
            with self.subTest(actor=actor.username), self.assertRaises(NotAllowed):
                complete_next_step(actor=actor, step=step)
        step.refresh_from_db()
        self.assertIsNone(step.done_at)
        self.assertFalse(Activity.objects.exists())
        complete_next_step(actor=self.manager, step=step)  # the team's manager may


class RescheduleTests(LoudouTestCase):
    def test_reschedule(self):
        deal = self.make_deal()
        step = schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=ago(2))
        due = later(2)
        reschedule_next_step(actor=self.rep, step=step, due_at=due, note="改到周四")
        self.assertEqual((step.due_at, step.note), (due, "改到周四"))
        with self.assertRaises(NotAllowed):
            reschedule_next_step(actor=self.outsider, step=step, due_at=later(5))
        with self.assertRaises(InvalidInput):
            reschedule_next_step(actor=self.rep, step=step, due_at=None)
        complete_next_step(actor=self.rep, step=step)
        with self.assertRaises(InvalidInput):
            reschedule_next_step(actor=self.rep, step=step, due_at=later(5))
        step.refresh_from_db()
        self.assertEqual(step.due_at, due)


class CancelTests(LoudouTestCase):
    def test_cancel_an_open_step_only(self):
        deal = self.make_deal()
        step = schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=later(1))
        with self.assertRaises(NotAllowed):
            cancel_next_step(actor=self.outsider, step=step)
        cancel_next_step(actor=self.rep, step=step)
        self.assertFalse(NextStep.objects.exists())
        done = schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=ago(1))
        complete_next_step(actor=self.rep, step=done)
        with self.assertRaises(InvalidInput):
            cancel_next_step(actor=self.rep, step=done)
        self.assertTrue(NextStep.objects.filter(pk=done.pk).exists())


class VisibilityTests(LoudouTestCase):
    def test_open_steps_follow_the_scope(self):
        mine = self.make_deal()
        theirs = self.make_deal(owner=self.outsider)
        a = schedule_next_step(actor=self.rep, deal=mine, type="call", due_at=later(1))
        b = schedule_next_step(actor=self.outsider, deal=theirs, type="call", due_at=later(1))
        expected = {
            self.rep: {a},
            self.teammate: set(),
            self.manager: {a},
            self.other_manager: {b},
            self.outsider: {b},
            self.admin: {a, b},
        }
        for user, steps in expected.items():
            with self.subTest(user=user.username):
                self.assertEqual(set(next_steps_visible_to(user)), steps)
