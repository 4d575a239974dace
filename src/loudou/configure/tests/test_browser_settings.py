"""In a real browser, an admin adds an exit criterion on the settings page, with pickers,
and sees it in the words reps read; a rep's move is then blocked by it, with those words.
Screenshots of the settings page in zh-Hans and English go to docs/screenshots/."""

from decimal import Decimal
from pathlib import Path

import pytest

from loudou.core.testing import make_user
from loudou.deals import services
from loudou.deals.models import Deal
from loudou.people.models import Quota, Role, Team
from loudou.pipelines.models import ExitCriterion, Pipeline

# serialized_rollback: the default pipeline (a data migration) is back whatever ran before.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"
RULE_EN = "Initial contact: an attachment of kind “Contract” is required."
RULE_ZH = "初步接洽：需要上传“合同”类附件。"


def log_in(page, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-" + username)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_load_state()


def test_admin_adds_a_criterion_and_a_reps_move_is_blocked_by_it(open_page):
    pipeline = Pipeline.objects.get(is_default=True)
    contact = pipeline.stages.get(key="contact")
    needs = pipeline.stages.get(key="needs")
    ExitCriterion.objects.filter(stage=contact).delete()  # only the new rule applies
    make_user("boss", Role.ADMIN)
    rep = make_user("mei", Role.REP, Team.objects.create(name="East"))
    deal = services.create_deal(actor=rep, name="华东项目", amount="120000")

    admin = open_page("en")
    log_in(admin, "boss")
    admin.goto(f"{admin.base_url}/settings/pipelines/{pipeline.pk}/")
    row = admin.locator(f".stage-row[data-stage='{contact.pk}']")
    row.locator("details > summary").click()
    form = row.locator("form.criterion-form")
    form.locator("select[name=kind]").select_option("attachment")
    assert form.locator("select[name=field_name]").is_hidden()  # pickers of the kind only
    form.locator("select[name=attachment_kind]").select_option("contract")
    form.locator("button.primary").click()
    admin.wait_for_load_state()
    assert RULE_EN in admin.locator(f".stage-row[data-stage='{contact.pk}'] .rule").inner_text()
    admin.screenshot(path=str(SHOTS / "settings-pipeline-en.png"), full_page=True)
    assert admin.console_errors == []

    page = open_page("zh-CN")
    log_in(page, "mei")
    page.goto(f"{page.base_url}/deals/{deal.pk}/")
    move = page.locator(f"form[action$='/deals/{deal.pk}/move/']")
    move.locator("select[name=stage]").select_option(str(needs.pk))
    move.locator("button").click()
    page.wait_for_load_state()
    assert page.locator(".msg.error").count() == 1  # refused, then what is missing:
    assert RULE_ZH in page.locator(".msg.warning").all_inner_texts()
    assert Deal.objects.get(pk=deal.pk).stage_id == contact.pk
    assert page.console_errors == []

    boss = open_page("zh-CN")
    log_in(boss, "boss")
    boss.goto(f"{boss.base_url}/settings/pipelines/{pipeline.pk}/")
    assert RULE_ZH in boss.locator(f".stage-row[data-stage='{contact.pk}'] .rule").inner_text()
    boss.screenshot(path=str(SHOTS / "settings-pipeline-zh-hans.png"), full_page=True)
    assert boss.console_errors == []

    # A row copied from Excel, pasted into the first cell, fills the quarters.
    boss.goto(f"{boss.base_url}/settings/quotas/?year=2026")
    boss.evaluate(
        r"""(name) => {
          const data = new DataTransfer();
          data.setData("text", "1,000,000\t120万\t\t300000\r\n");
          const cell = document.querySelector(`#quota-grid input[name="${name}"]`);
          cell.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        }""",
        f"q-{rep.pk}-2026-01-01",
    )
    boss.locator("#quota-grid button.primary").click()
    boss.wait_for_load_state()
    amounts = dict(Quota.objects.filter(user=rep).values_list("period_start__month", "amount"))
    assert amounts == {1: Decimal("1000000.00"), 4: Decimal("1200000.00"), 10: Decimal("300000.00")}
    assert boss.console_errors == []
