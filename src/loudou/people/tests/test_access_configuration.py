"""Scope: who changes configuration (administrators) and who manages a team (its manager
and administrators); the command line's unrestricted scope configures nothing by itself."""

from loudou.core.testing import LoudouTestCase
from loudou.people.access import Scope


class ConfigurationScopeTests(LoudouTestCase):
    def test_may_configure(self):
        self.assertTrue(Scope.of(self.admin).may_configure)
        for user in (self.rep, self.manager, self.other_manager, self.outsider):
            self.assertFalse(Scope.of(user).may_configure, user.username)
        self.assertFalse(Scope.unrestricted().may_configure)

    def test_manages(self):
        self.assertTrue(Scope.of(self.manager).manages(self.north.pk))
        self.assertFalse(Scope.of(self.manager).manages(self.south.pk))
        self.assertFalse(Scope.of(self.rep).manages(self.north.pk))
        self.assertTrue(Scope.of(self.admin).manages(self.south.pk))
        self.assertFalse(Scope.of(self.manager).manages(None))
        self.admin.is_active = False
        self.assertFalse(Scope.of(self.admin).manages(self.south.pk))
