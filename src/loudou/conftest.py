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


@pytest.fixture(autouse=True)
def _report_store_in_tmp(settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Each test publishes report frames into its own throw-away store.
    settings.LOUDOU_REPORT_STORE = tmp_path_factory.mktemp("report-store")


@pytest.fixture
def client():
    # pytest-style tests get the same throttled-login test client as LoudouTestCase.
    from loudou.core.testing import LoudouClient

    return LoudouClient()


# --- Browser tests --------------------------------------------------------------------
# Playwright for Python drives Debian's chromium (scripts/test.sh installs it with apt when
# missing); browser downloads never happen. Tests marked ``browser`` get ``page``, a fresh
# context on one shared headless browser, and pytest-django's ``live_server``.
CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests last: Playwright's sync API leaves an event loop running in the main
    # thread for the rest of the session, so the browser fixture must allow the ORM there
    # (DJANGO_ALLOW_ASYNC_UNSAFE); no other test should run with that protection off, or
    # start a command that inherits it (check --deploy refuses it).
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser(django_db_setup, django_db_blocker):
    import os
    from pathlib import Path

    from django.db import connections

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true" or os.environ.get("LOUDOU_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs it with apt")
        pytest.skip(f"{CHROMIUM} is missing (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the ORM calls a test makes between
    # browser steps are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Playwright's sync API leaves its event loop running in this thread, and Django then
    # keeps this thread's connections elsewhere (asgiref's Local): new connection objects,
    # without the copy of the migrated data that transactional tests with
    # serialized_rollback restore after each flush (the default pipeline, lost reasons).
    # Hand that copy over to the new connections.
    with django_db_blocker.unblock():
        serialized = {
            alias: connections[alias]._test_serialized_contents
            for alias in connections
            if hasattr(connections[alias], "_test_serialized_contents")
        }
    with sync_playwright() as p:
        for alias, contents in serialized.items():
            connections[alias]._test_serialized_contents = contents
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    """``open_page(language)``: a page in a fresh browser context speaking ``language``
    ("en" or "zh-CN"), whose requests may only go to the live server (anything else fails
    the test). ``page.console_errors`` collects console errors; ``page.base_url`` is the
    server's address."""
    from urllib.parse import urlsplit

    host = urlsplit(live_server.url).netloc
    contexts = []
    outside: list[str] = []

    def guard(route):
        url = route.request.url
        if urlsplit(url).netloc == host or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    def open_(language: str = "en"):
        context = browser.new_context(locale=language, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        context.route("**/*", guard)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.console_errors = errors
        page.base_url = live_server.url
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not outside, f"requests left the test server: {outside}"


@pytest.fixture
def page(open_page):
    """An English page (see ``open_page``)."""
    return open_page("en")
