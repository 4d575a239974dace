"""The daily loop in a real browser (issue 13): a rep schedules a next step and completes
it from Today; drags a card onto a blocked stage, fills the missing field in the dialog and
sees the card move; asks for approval, which the manager gives from the queue. The
screenshots in docs/screenshots/ come from these runs (English and zh-Hans)."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from loudou.activities.models import NextStep
from loudou.activities.services import log_activity
from loudou.core.testing import make_user
from loudou.deals import services
from loudou.deals.models import ApprovalRequest, Deal
from loudou.people.models import Role, Team
from loudou.pipelines.models import Stage

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


def people() -> tuple:
    manager = make_user("lin", Role.MANAGER)
    team = Team.objects.create(name="East", manager=manager)
    rep = make_user("mei", Role.REP, team)
    manager.team = team
    manager.save(update_fields=["team"])
    return rep, manager


def stage(key: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, key=key)


def test_schedule_a_next_step_and_complete_it_from_today(open_page):
    rep, _manager = people()
    deal = services.create_deal(
        actor=rep, name="华东项目", amount="120000", account_name="上海某公司"
    )
    # Two more for a fuller Today: one untouched for 20 days, one past its close date.
    services.create_deal(
        actor=rep,
        name="深圳年度订阅",
        amount="36000",
        account_name="深圳某科技",
        at=timezone.now() - dt.timedelta(days=20),
    )
    services.create_deal(
        actor=rep,
        name="北京私有化部署",
        amount="450000",
        account_name="北京某集团",
        expected_close_date=timezone.localdate() - dt.timedelta(days=3),
    )
    page = open_page("en")
    log_in(page, "mei")
    page.goto(f"{page.base_url}/deals/{deal.pk}/")
    form = page.locator("form#schedule-step")
    form.locator("select[name=type]").select_option("call")
    # Later today: a future time (logged activities refuse those; next steps need them).
    due = timezone.localtime().replace(hour=23, minute=59)
    form.locator("input[name=due_at]").fill(due.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=note]").fill("Confirm the budget")
    form.locator("button").click()
    page.wait_for_load_state()
    step = NextStep.objects.get(deal=deal)
    assert step.due_at > timezone.now() and step.done_at is None

    page.goto(page.base_url + "/today/")
    line = page.locator(f"#step-{step.pk}")
    assert "Confirm the budget" in line.inner_text()
    page.screenshot(path=str(SHOTS / "today-en.png"), full_page=True)
    zh = open_page("zh-CN")
    log_in(zh, "mei")
    zh.goto(zh.base_url + "/today/")
    zh.screenshot(path=str(SHOTS / "today-zh-hans.png"), full_page=True)

    line.locator("select[name=outcome]").select_option("positive")
    line.locator("input[name=note]").fill("Budget approved")
    line.locator("button.success").click()
    page.locator(f"#step-{step.pk}.done").wait_for()
    step.refresh_from_db()
    assert step.done_at is not None
    assert (step.activity.outcome, step.activity.type) == ("positive", "call")
    assert page.console_errors == [] and zh.console_errors == []


def test_drag_to_a_blocked_stage_and_fix_it_in_the_dialog(open_page):
    rep, _manager = people()
    names = {"en": "Data platform", "zh-CN": "数据平台项目"}
    # "needs" wants a budget and a decision maker: create the deals in the first stage
    # and move them (their first stage's criteria met by an activity); give no budget.
    deals = {}
    for language, name in names.items():
        deal = services.create_deal(actor=rep, name=name, amount="80000", account_name="某集团")
        log_activity(actor=rep, deal=deal, type="visit")
        services.move_deal(actor=rep, deal=deal, to_stage=stage("needs"))
        services.update_deal(
            actor=rep,
            deal=deal,
            expected_version=Deal.objects.get(pk=deal.pk).version,
            changes={"custom": {"decision_maker": "王总"}},
        )
        deals[language] = Deal.objects.get(pk=deal.pk)
    for language, deal in deals.items():
        page = open_page(language)
        log_in(page, "mei")
        page.goto(page.base_url + "/")
        card = page.locator(f"article.deal[data-deal='{deal.pk}']")
        card.drag_to(page.locator(f"section.column[data-stage='{stage('proposal').pk}']"))
        dialog = page.locator("dialog#move-dialog[open]")
        dialog.wait_for()
        field = dialog.locator("input[name='field__custom.budget']")
        shot = "board-dialog-en.png" if language == "en" else "board-dialog-zh-hans.png"
        page.screenshot(path=str(SHOTS / shot))
        field.fill("500000")
        dialog.locator("button.primary").click()
        page.locator("dialog#move-dialog[open]").wait_for(state="detached")
        column = page.locator(f"section.column[data-stage='{stage('proposal').pk}']")
        moved = column.locator(f"article.deal[data-deal='{deal.pk}']")
        moved.wait_for()
        assert Deal.objects.get(pk=deal.pk).stage.key == "proposal"
        assert page.console_errors == []


def test_ask_for_approval_and_the_manager_approves_from_the_queue(open_page):
    rep, _manager = people()
    admin = make_user("root", Role.ADMIN)
    # Set up by an admin's override: the deal waits in negotiation, whose exit needs a
    # manager's approval.
    deal = services.create_deal(
        actor=admin,
        owner=rep,
        name="年度框架合同",
        amount="900000",
        account_name="深圳某科技",
        stage=stage("negotiation"),
        override_reason="set-up",
    )
    page = open_page("zh-CN")
    log_in(page, "mei")
    page.goto(f"{page.base_url}/deals/{deal.pk}/")
    ask = page.locator(f"form[action$='/deals/{deal.pk}/approval-request/']")
    ask.locator("input[name=note]").fill("客户已口头确认")
    ask.locator("button").click()
    page.wait_for_load_state()
    assert ApprovalRequest.objects.get(deal=deal).status == "pending"

    boss = open_page("en")
    log_in(boss, "lin")
    assert boss.locator(".topbar .count").inner_text() == "1"
    boss.goto(boss.base_url + "/approvals/")
    card = boss.locator(f"#approval-{ApprovalRequest.objects.get(deal=deal).pk}")
    card.locator("input[name=note]").fill("Go ahead")
    card.locator("button[value=approve]").click()
    boss.wait_for_load_state()
    assert ApprovalRequest.objects.get(deal=deal).status == "approved"
    assert boss.locator(".topbar .count").count() == 0

    page.goto(f"{page.base_url}/deals/{deal.pk}/")
    assert page.locator(f"form[action$='/deals/{deal.pk}/approval-request/']").count() == 0
    assert "Go ahead" in page.locator("#approval").inner_text()
    page.screenshot(path=str(SHOTS / "deal-approved-zh-hans.png"), full_page=True)
    boss.goto(f"{boss.base_url}/deals/{deal.pk}/")
    boss.screenshot(path=str(SHOTS / "deal-en.png"), full_page=True)
    assert page.console_errors == [] and boss.console_errors == []
