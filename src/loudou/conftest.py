"""pytest fixtures shared by every app's tests."""

import pytest


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Test on a SQLite *file* (WAL, IMMEDIATE transactions, busy timeout) as deployed, not
    # Django's shared-cache memory database, whose table locks fail at once instead of
    # waiting and so behave unlike production under concurrent writes.
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db["TEST"]["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Uploads made by tests go to a throw-away folder, never the working tree.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture
def client():
    # pytest-style tests get the same throttled-login test client as LoudouTestCase.
    from loudou.core.testing import LoudouClient

    return LoudouClient()
