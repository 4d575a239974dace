"""Test helpers: the base case every test module builds on, and factories for bulk data."""

import contextlib
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import DataError, IntegrityError, transaction
from django.http import HttpRequest
from django.test import Client, TestCase
from django.utils import timezone

from loudou.accounts.models import Account
from loudou.activities.services import log_activity
from loudou.deals import rules, services
from loudou.deals.models import Deal, LostReason
from loudou.people.models import Role, Team, User
from loudou.pipelines.models import Pipeline, Stage


class LoudouClient(Client):
    """The test client, with a ``login()`` that goes through login throttling as the login
    page does. Django's ``Client.login()`` calls ``authenticate()`` without a request, which
    the throttle (django-axes) refuses to judge: here it gets one, from the address the
    test client uses, so failed test logins count like any others. ``force_login()`` skips
    authentication and needs nothing."""

    def login(self, **credentials: Any) -> bool:
        """Log in with ``credentials`` (e.g. username and password), throttled."""
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        return super().login(request=request, **credentials)


def make_user(username: str, role: str = Role.REP, team: Team | None = None) -> User:
    return User.objects.create_user(
        username=username,
        password="pw-" + username,
        role=role,
        team=team,
        display_name=username.title(),
    )


def stage(key: str, pipeline: Pipeline | None = None) -> Stage:
    pipeline = pipeline or Pipeline.objects.get(is_default=True)
    return Stage.objects.get(pipeline=pipeline, key=key)


def ready_to_leave(deal: Deal, actor: User, approver: User | None = None) -> Deal:
    """Satisfy every default exit criterion of ``deal``'s current stay (tests only)."""
    log_activity(actor=actor, deal=deal, type="call")
    deal = services.update_deal(
        actor=actor,
        deal=deal,
        expected_version=deal.version,
        changes={"custom": {"budget": 100000, "decision_maker": "王总"}, "amount": "50000"},
    )
    if not deal.attachments.filter(kind="quote").exists():
        services.attach_file(
            actor=actor, deal=deal, kind="quote", file=ContentFile(b"%PDF", name="quote.pdf")
        )
    if approver is not None:
        services.approve_stage_exit(actor=approver, deal=deal)
    return deal


class LoudouTestCase(TestCase):
    """Two teams: North (manager ``manager``; reps ``rep`` and ``teammate``) and South
    (manager ``other_manager``; rep ``outsider``), plus an ``admin``."""

    client_class = LoudouClient

    @classmethod
    def setUpTestData(cls) -> None:
        cls.manager = make_user("manager", Role.MANAGER)
        cls.other_manager = make_user("other_manager", Role.MANAGER)
        cls.north = Team.objects.create(name="North", manager=cls.manager)
        cls.south = Team.objects.create(name="South", manager=cls.other_manager)
        User.objects.filter(pk=cls.manager.pk).update(team=cls.north)
        User.objects.filter(pk=cls.other_manager.pk).update(team=cls.south)
        cls.manager.refresh_from_db()
        cls.other_manager.refresh_from_db()
        cls.rep = make_user("rep", Role.REP, cls.north)
        cls.teammate = make_user("teammate", Role.REP, cls.north)
        cls.outsider = make_user("outsider", Role.REP, cls.south)
        cls.admin = make_user("admin", Role.ADMIN)
        cls.pipeline = Pipeline.objects.get(is_default=True)
        cls.stages = {s.key: s for s in cls.pipeline.stages.all()}
        cls.price = LostReason.objects.get(key="price")
        cls.account = Account.objects.create(name="华为技术")

    @contextlib.contextmanager
    def assertDatabaseRefuses(self) -> Iterator[None]:
        """The block must fail with an IntegrityError (a constraint) or a DataError (a value
        the column cannot hold); its transaction is rolled back."""
        with self.assertRaises((IntegrityError, DataError)), transaction.atomic():
            yield

    def make_deal(self, owner: User | None = None, **kwargs: Any) -> Deal:
        """A deal of ``owner`` (default: ``rep``), created by them. In a stage after the
        first, the rules want the earlier stages' criteria met or a manager's override:
        unless the test says otherwise, an admin creates it with an override (set-up)."""
        owner = owner or self.rep
        kwargs.setdefault("name", "Deal")
        kwargs.setdefault("amount", Decimal("10000"))
        stage = kwargs.get("stage")
        first = stage is None or stage.pk == rules.open_stages(stage.pipeline_id)[0].pk
        if not first and "actor" not in kwargs:
            kwargs["actor"] = self.admin
            kwargs.setdefault("override_reason", "test set-up")
        return services.create_deal(actor=kwargs.pop("actor", owner), owner=owner, **kwargs)


def ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
