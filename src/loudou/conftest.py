"""pytest fixtures shared by every app's tests."""

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Uploads made by tests go to a throw-away folder, never the working tree.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
