"""In a real browser, a zh-Hans rep opens a deal's edit form and saves it unchanged: every
field, the dates included, is kept (issue 10: dates rendered as 2027/01/15 were dropped by the
browser and saving wiped them). Also: the page runs with no console error under the CSP."""

import datetime as dt
from pathlib import Path

import pytest

from loudou.core.testing import make_user
from loudou.deals import services
from loudou.deals.models import Deal
from loudou.people.models import Role, Team

# serialized_rollback: the default pipeline (a data migration) must survive other
# transactional tests' flushes.
# serialized_rollback: flushing without it would break the serialized_rollback tests that
# run after this one (content types recreated, then restored twice).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"


def log_in(page, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-" + username)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_load_state()


def test_zh_hans_edit_form_keeps_its_dates(open_page):
    page = open_page("zh-CN")
    team = Team.objects.create(name="East")
    rep = make_user("mei", Role.REP, team)
    deal = services.create_deal(
        actor=rep,
        name="华东项目",
        amount="120000",
        expected_close_date=dt.date(2027, 1, 15),
        account_name="上海某公司",
        source="展会",
    )
    log_in(page, "mei")
    page.goto(f"{page.base_url}/deals/{deal.pk}/")
    form = page.locator(f"form[action$='/deals/{deal.pk}/edit/']")
    page.locator("details:has(form[action$='/edit/']) > summary").click()
    assert form.locator("input[name=expected_close_date]").input_value() == "2027-01-15"
    page.screenshot(path=str(SHOTS / "deal-zh-hans.png"), full_page=True)
    form.locator("button").click()
    page.wait_for_load_state()

    deal = Deal.objects.get(pk=deal.pk)
    assert deal.expected_close_date == dt.date(2027, 1, 15)
    assert (deal.name, deal.amount, deal.source) == ("华东项目", 120000, "展会")
    assert page.console_errors == []
