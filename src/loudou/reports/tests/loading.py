"""A test case that counts the report loader's full reads of the database."""

from django.test import TransactionTestCase

from loudou.core.testing import make_user
from loudou.reports import loader


class LoadCountingCase(TransactionTestCase):
    """Starts with an empty report cache and a rep; ``self.loads`` counts the loader's
    full reads (``_run_reader`` calls) so a test can tell a patch from a reload."""

    serialized_rollback = True

    def setUp(self) -> None:
        loader.clear_cache()
        self.rep = make_user("rep")
        self.loads = 0
        original = loader._run_reader

        def counting(*args, **kwargs):
            self.loads += 1
            return original(*args, **kwargs)

        loader._run_reader = counting
        self.addCleanup(setattr, loader, "_run_reader", original)
        self.addCleanup(loader.clear_cache)
