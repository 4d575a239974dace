"""The permission matrix: rep / teammate / manager / other manager / outsider / admin × each
service, on a deal owned by ``rep`` in team North."""

from django.core.files.base import ContentFile
from django.utils import timezone

from loudou.activities.services import log_activity
from loudou.core.errors import NotAllowed
from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.deals.models import Deal

ALLOWED = {"rep", "manager", "admin"}
DENIED = {"teammate", "other_manager", "outsider"}


class PermissionMatrixTests(LoudouTestCase):
    def actors(self):
        return {
            "rep": self.rep,
            "teammate": self.teammate,
            "manager": self.manager,
            "other_manager": self.other_manager,
            "outsider": self.outsider,
            "admin": self.admin,
        }

    def fresh(self, **kwargs):
        return self.make_deal(owner=self.rep, **kwargs)

    def operations(self):
        today = timezone.localdate()

        def won_deal():
            deal = self.fresh()
            services.win_deal(actor=self.admin, deal=deal, override_reason="x")
            return deal

        def lost_deal():
            deal = self.fresh()
            services.lose_deal(actor=self.admin, deal=deal, reason=self.price)
            return deal

        return {
            "update": lambda a, d=None: services.update_deal(
                actor=a, deal=(d := self.fresh()), expected_version=d.version, changes={"name": "n"}
            ),
            "move_back": lambda a: services.move_deal(
                actor=a,
                deal=self.fresh(stage=self.stages["needs"]),
                to_stage=self.stages["contact"],
            ),
            "win": lambda a: services.win_deal(
                actor=a, deal=self.fresh(), override_reason="x" if a != self.rep else ""
            ),
            "lose": lambda a: services.lose_deal(actor=a, deal=self.fresh(), reason=self.price),
            "reopen": lambda a: services.reopen_deal(actor=a, deal=lost_deal()),
            "log_activity": lambda a: log_activity(actor=a, deal=self.fresh(), type="call"),
            "attach": lambda a: services.attach_file(
                actor=a, deal=self.fresh(), kind="quote", file=ContentFile(b"x", name="q.pdf")
            ),
            "payment": lambda a: services.record_payment(
                actor=a, deal=won_deal(), amount="1", paid_on=today
            ),
        }

    def test_matrix(self):
        for op_name, op in self.operations().items():
            for actor_name, actor in self.actors().items():
                with self.subTest(op=op_name, actor=actor_name):
                    if actor_name in DENIED:
                        with self.assertRaises(NotAllowed):
                            op(actor)
                    elif op_name == "win" and actor_name == "rep":
                        # The rep is allowed to act but cannot override the unmet criteria.
                        with self.assertRaises(services.CriteriaNotMet):
                            op(actor)
                    else:
                        op(actor)

    def test_approval_is_for_managers_of_the_team_and_admins(self):
        for actor_name, actor in self.actors().items():
            deal = self.fresh(stage=self.stages["negotiation"])
            with self.subTest(actor=actor_name):
                if actor_name in {"manager", "admin"}:
                    services.approve_stage_exit(actor=actor, deal=deal)
                else:
                    with self.assertRaises(NotAllowed):
                        services.approve_stage_exit(actor=actor, deal=deal)

    def test_managers_cannot_approve_their_own_deals(self):
        deal = self.make_deal(owner=self.manager, stage=self.stages["negotiation"])
        with self.assertRaises(NotAllowed):
            services.approve_stage_exit(actor=self.manager, deal=deal)
        services.approve_stage_exit(actor=self.admin, deal=deal)

    def test_create_for_whom(self):
        cases = [
            (self.rep, self.rep, True),
            (self.rep, self.teammate, False),
            (self.manager, self.rep, True),
            (self.manager, self.outsider, False),
            (self.other_manager, self.outsider, True),
            (self.outsider, self.rep, False),
            (self.admin, self.outsider, True),
        ]
        for actor, owner, ok in cases:
            with self.subTest(actor=actor.username, owner=owner.username):
                if ok:
                    deal = services.create_deal(actor=actor, owner=owner, name="d")
                    self.assertEqual(deal.team, owner.team)
                else:
                    with self.assertRaises(NotAllowed):
                        services.create_deal(actor=actor, owner=owner, name="d")

    def test_only_managers_reassign(self):
        deal = self.fresh()
        with self.assertRaises(NotAllowed):
            services.update_deal(
                actor=self.rep, deal=deal, expected_version=1, changes={"owner": self.teammate}
            )
        deal = services.update_deal(
            actor=self.manager, deal=deal, expected_version=1, changes={"owner": self.teammate}
        )
        self.assertEqual(deal.owner, self.teammate)
        self.assertEqual(deal.team, self.north)
        with self.assertRaises(NotAllowed):
            services.update_deal(
                actor=self.manager, deal=deal, expected_version=2, changes={"owner": self.outsider}
            )
        deal = services.update_deal(
            actor=self.admin, deal=deal, expected_version=2, changes={"owner": self.outsider}
        )
        self.assertEqual(deal.team, self.south)

    def test_visibility(self):
        mine = self.make_deal(owner=self.rep)
        theirs = self.make_deal(owner=self.teammate)
        south = self.make_deal(owner=self.outsider)
        managers_own = self.make_deal(owner=self.manager)

        def visible(user):
            return set(services.deals_visible_to(user).values_list("pk", flat=True))

        self.assertEqual(visible(self.rep), {mine.pk})
        self.assertEqual(visible(self.teammate), {theirs.pk})
        self.assertEqual(visible(self.outsider), {south.pk})
        self.assertEqual(visible(self.manager), {mine.pk, theirs.pk, managers_own.pk})
        self.assertEqual(visible(self.other_manager), {south.pk})
        self.assertEqual(visible(self.admin), set(Deal.objects.values_list("pk", flat=True)))

    def test_inactive_users_see_and_do_nothing(self):
        deal = self.fresh()
        self.rep.is_active = False
        self.assertFalse(services.deals_visible_to(self.rep).exists())
        with self.assertRaises(NotAllowed):
            log_activity(actor=self.rep, deal=deal, type="call")
