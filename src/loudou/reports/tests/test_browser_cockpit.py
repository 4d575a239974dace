"""In a real browser, a manager opens the cockpit: every chart is drawn (plotly.js from the
installed package, nothing fetched elsewhere, no console error under the CSP), the funnel
holds the report's numbers, and filtering by a rep redraws it with that rep's. Screenshots
in zh-Hans and English go to docs/screenshots/."""

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from loudou.core.demo import DEMO_PASSWORD, seed_demo
from loudou.reports import loader

# serialized_rollback: the default pipeline (a data migration) is back whatever ran before.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"
PANELS = 8  # charts drawn (the diagnosis panel is cards, the plan needs a target)


def log_in(page, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_load_state()


def reached(*args: str) -> list[int]:
    out = io.StringIO()
    call_command("report", "funnel", *args, "--format", "json", stdout=out)
    return [row["reached"] for row in json.loads(out.getvalue())["rows"]]


def drawn_funnel(page) -> list[int]:
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 7")
    return page.evaluate("document.querySelector('[data-figure=fig-funnel]').data[0].x")


@pytest.fixture
def demo():
    loader.clear_cache()
    seed_demo(deals=120, now=timezone.now() - dt.timedelta(days=1))
    yield
    loader.clear_cache()


def test_manager_cockpit_draws_the_reports_numbers(open_page, demo):
    page = open_page("zh-CN")
    log_in(page, "manager1")
    page.goto(page.base_url + "/cockpit/?target=800000")
    assert drawn_funnel(page) == reached("--user", "manager1")
    assert page.locator(".js-plotly-plot").count() >= PANELS
    # The funnel names its stages (plotly.js hides a funnel's axes unless asked to draw them).
    assert "初步接洽" in page.locator("#panel-funnel .ytick text").all_text_contents()
    page.screenshot(path=str(SHOTS / "cockpit-zh-hans.png"), full_page=True)

    page.select_option("select[name=owner]", "rep1")
    page.locator("form.cockpit-filters button.primary").click()
    page.wait_for_load_state()
    assert drawn_funnel(page) == reached("--user", "manager1", "--owner", "rep1")

    # The chart downloads as a PNG from its modebar (drawn in the browser, CSP allowing).
    page.hover("#panel-funnel .chart")
    with page.expect_download() as download:
        page.locator(
            "#panel-funnel .modebar-btn[data-title*='PNG'], "
            "#panel-funnel .modebar-btn[data-title*='png']"
        ).first.click()
    assert download.value.suggested_filename.endswith(".png")
    assert page.console_errors == []

    english = open_page("en")
    log_in(english, "manager1")
    english.goto(english.base_url + "/cockpit/?target=800000")
    drawn_funnel(english)
    assert english.locator("h1").inner_text() == "Cockpit"
    english.screenshot(path=str(SHOTS / "cockpit-en.png"), full_page=True)
    assert english.console_errors == []
