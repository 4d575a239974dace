"""``DealLoad.set_contacts``: an import's primary contacts go through deals.bulk, which
refuses a deal out of the importing user's scope (naming nothing about it) and a contact
of another account than the deal's, as the services do."""

from django.db import transaction

from loudou.accounts.models import Account, Contact
from loudou.core.testing import LoudouTestCase
from loudou.deals.bulk import CONTACT_NOT_OF_ACCOUNT, NOT_YOURS, DealLoad
from loudou.deals.models import Deal


class SetContactsTests(LoudouTestCase):
    def setUp(self):
        self.acme = Account.objects.create(name="Acme")
        globex = Account.objects.create(name="Globex")
        self.ann = Contact.objects.create(account=self.acme, name="Ann")
        self.cy = Contact.objects.create(account=globex, name="Cy")
        self.mine = self.make_deal(external_id="M1", account=self.acme)
        self.theirs = self.make_deal(owner=self.outsider, external_id="T1", account=self.acme)

    def test_a_contact_of_the_deals_account_becomes_its_primary_contact(self):
        with transaction.atomic(), DealLoad(actor=self.rep) as load:
            linked = load.set_contacts([(2, "M1", self.ann.pk), (3, "T1", self.ann.pk)])
        self.assertEqual(linked, 1)
        self.assertEqual(
            [(f.row, f.field, f.message) for f in load.failures], [(3, "external_id", NOT_YOURS)]
        )
        deal = Deal.objects.get(pk=self.mine.pk)
        self.assertEqual((deal.contact, deal.version), (self.ann, self.mine.version + 1))
        self.assertIsNone(Deal.objects.get(pk=self.theirs.pk).contact)

    def test_a_contact_of_another_account_is_refused(self):
        with transaction.atomic(), DealLoad(actor=None) as load:
            linked = load.set_contacts([(4, "M1", self.cy.pk)])
        self.assertEqual(linked, 0)
        [failure] = load.failures
        self.assertEqual(
            (failure.row, failure.field, failure.value, failure.message),
            (4, "contact", "Cy", CONTACT_NOT_OF_ACCOUNT),
        )
        self.assertIsNone(Deal.objects.get(pk=self.mine.pk).contact)
