"""Logging activities."""

from loudou.accounts.models import Contact
from loudou.activities.services import log_activity
from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase, ago


class LogActivityTests(LoudouTestCase):
    def test_log(self):
        deal = self.make_deal(account=self.account)
        contact = Contact.objects.create(account=self.account, name="任总")
        activity = log_activity(
            actor=self.rep,
            deal=deal,
            type="wechat",
            outcome="positive",
            note=" 聊了 ",
            contact=contact,
            at=ago(1),
        )
        self.assertEqual((activity.type, activity.note, activity.by), ("wechat", "聊了", self.rep))

    def test_validation(self):
        deal = self.make_deal()
        other = Contact.objects.create(account=self.account, name="x")
        for kwargs in (
            {"type": "fax"},
            {"type": "call", "outcome": "great"},
            {"type": "call", "contact": other},
            {"type": "call", "at": ago(-2)},
        ):
            with self.subTest(kwargs=kwargs), self.assertRaises(InvalidInput):
                log_activity(actor=self.rep, deal=deal, **kwargs)
        self.assertFalse(deal.activities.exists())

    def test_permissions(self):
        deal = self.make_deal()
        log_activity(actor=self.manager, deal=deal, type="note")
        with self.assertRaises(NotAllowed):
            log_activity(actor=self.teammate, deal=deal, type="note")
