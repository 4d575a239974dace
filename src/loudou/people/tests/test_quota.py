"""Quotas belong to one user or one team, over an ordered period, never negative."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from loudou.core.testing import LoudouTestCase
from loudou.people.models import Quota

Q1 = {"period_start": dt.date(2026, 1, 1), "period_end": dt.date(2026, 4, 1)}


class QuotaTests(LoudouTestCase):
    def test_user_or_team_quota(self):
        Quota.objects.create(user=self.rep, amount=100, **Q1)
        Quota.objects.create(team=self.north, amount=400, **Q1)
        self.assertEqual(self.rep.quotas.count(), 1)

    def test_database_constraints(self):
        bad = [
            {"amount": 1, **Q1},  # neither
            {"user": self.rep, "team": self.north, "amount": 1, **Q1},  # both
            {"user": self.rep, "amount": -1, **Q1},
            {
                "user": self.rep,
                "amount": 1,
                "period_start": dt.date(2026, 4, 1),
                "period_end": dt.date(2026, 4, 1),
            },
        ]
        for values in bad:
            with (
                self.subTest(values=values),
                self.assertRaises(IntegrityError),
                transaction.atomic(),
            ):
                Quota.objects.create(**values)

    def test_one_quota_per_user_and_period(self):
        Quota.objects.create(user=self.rep, amount=1, **Q1)
        with self.assertDatabaseRefuses():
            Quota.objects.create(user=self.rep, amount=2, **Q1)

    def test_clean_explains(self):
        with self.assertRaises(ValidationError):
            Quota(amount=1, **Q1).clean()
        with self.assertRaises(ValidationError):
            Quota(user=self.rep, amount=-1, **Q1).clean()


class RoleTests(LoudouTestCase):
    def test_roles(self):
        self.assertTrue(self.rep.is_rep)
        self.assertTrue(self.manager.is_manager)
        self.assertTrue(self.admin.is_loudou_admin)
        self.assertFalse(self.manager.is_loudou_admin)
        self.assertEqual(str(self.rep), "Rep")

    def test_role_is_checked_by_the_database(self):
        from loudou.people.models import User

        with self.assertDatabaseRefuses():
            User.objects.filter(pk=self.rep.pk).update(role="boss")
