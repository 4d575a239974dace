"""The demo organisation: deterministic, seeded data that exercises the whole funnel.

Every deal is created and moved through the real services (so the histories obey the
exit criteria: activities logged, fields filled, quotes attached, approvals given), with
realistic noise: skipped stages, slip-backs, losses at every stage with reasons, reopened
deals, a few manager overrides, stale open deals, payments and quotas. One rep (``rep4``)
is clearly weaker at 方案报价 → 合同谈判.
"""

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from loudou.accounts.models import Account, Contact
from loudou.activities.services import log_activity
from loudou.deals import services
from loudou.deals.models import Deal, LostReason
from loudou.people.models import Quota, Role, Team, User
from loudou.pipelines.models import Pipeline, Stage

DEMO_PASSWORD = "loudou-demo"
WEAK_REP = "rep4"

COMPANIES = [
    "华为技术",
    "中兴通讯",
    "海尔集团",
    "美的集团",
    "格力电器",
    "比亚迪",
    "宁德时代",
    "顺丰速运",
    "京东物流",
    "携程旅行",
    "网易",
    "小米科技",
    "联想集团",
    "三一重工",
    "徐工机械",
    "中联重科",
    "上汽集团",
    "吉利汽车",
    "长城汽车",
    "蔚来汽车",
    "招商银行",
    "平安保险",
    "万科地产",
    "碧桂园",
    "伊利股份",
    "蒙牛乳业",
    "海天味业",
    "青岛啤酒",
    "农夫山泉",
    "安踏体育",
    "李宁",
    "波司登",
    "立讯精密",
    "歌尔股份",
    "海康威视",
    "大华股份",
    "科大讯飞",
    "金山软件",
    "用友网络",
    "浪潮信息",
    "紫光股份",
    "中芯国际",
    "长电科技",
    "迈瑞医疗",
    "药明康德",
    "恒瑞医药",
    "复星医药",
    "云南白药",
    "片仔癀",
    "东方财富",
    "同花顺",
    "三七互娱",
    "完美世界",
    "分众传媒",
    "光线传媒",
    "新东方",
    "好未来",
    "中公教育",
    "南方航空",
    "东方航空",
]
PRODUCTS = ["CRM 实施", "数据平台", "销售培训", "年度订阅", "私有化部署", "系统集成", "咨询服务"]
SOURCES = ["官网", "展会", "转介绍", "电话营销", "合作伙伴"]
SURNAMES = "王李张刘陈杨黄赵吴周"

# Chance of advancing out of each stage (the rest are lost), mean days spent there.
ADVANCE = {"contact": 0.62, "needs": 0.66, "proposal": 0.58, "negotiation": 0.72}
WEAK_PROPOSAL_ADVANCE = 0.18
DWELL_DAYS = {"contact": 12, "needs": 20, "proposal": 24, "negotiation": 18}
LOST_REASONS_BY_STAGE = {
    "contact": ["no_budget", "timing", "requirements"],
    "needs": ["no_budget", "requirements", "no_decision"],
    "proposal": ["price", "competitor", "requirements"],
    "negotiation": ["price", "competitor", "no_decision"],
}


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    deals: int
    logins: list[tuple[str, str]]


def demo_exists() -> bool:
    return User.objects.filter(username="demo-admin").exists()


def _logins() -> list[tuple[str, str]]:
    users = User.objects.filter(
        username__in=["demo-admin", "manager1", "manager2", "rep1", WEAK_REP]
    )
    return [(u.username, u.get_role_display()) for u in users.order_by("role", "username")]


def seed_demo(*, deals: int = 600, seed: int = 42, now: dt.datetime | None = None) -> DemoSummary:
    """Create the demo organisation unless it exists; return the logins to print."""
    if demo_exists():
        return DemoSummary(False, Deal.objects.count(), _logins())
    with transaction.atomic():
        _Seeder(random.Random(seed), now or timezone.now()).run(deals)
    return DemoSummary(True, Deal.objects.count(), _logins())


class _Seeder:
    def __init__(self, rng: random.Random, now: dt.datetime) -> None:
        self.rng = rng
        self.now = now.replace(microsecond=0)
        self.pipeline = Pipeline.objects.get(is_default=True)
        self.stages = {s.key: s for s in Stage.objects.filter(pipeline=self.pipeline)}
        self.order = ["contact", "needs", "proposal", "negotiation"]
        self.reasons = {r.key: r for r in LostReason.objects.all()}

    # -- people and accounts -------------------------------------------------------------
    def _user(self, username: str, role: str, display: str, team: Team | None = None) -> User:
        return User.objects.create_user(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=display,
            team=team,
            email=f"{username}@demo.loudou.example",
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )

    def people(self) -> None:
        self.admin = self._user("demo-admin", Role.ADMIN, "管理员 Admin")
        self.managers = []
        self.reps: list[User] = []
        for i, (name, city) in enumerate([("East", "华东"), ("North", "华北")], start=1):
            manager = self._user(
                f"manager{i}", Role.MANAGER, f"{city}经理 {self.rng.choice(SURNAMES)}"
            )
            team = Team.objects.create(name=f"{city} {name}", manager=manager)
            manager.team = team
            manager.save(update_fields=["team"])
            self.managers.append(manager)
            for j in range(4):
                n = (i - 1) * 4 + j + 1
                self.reps.append(
                    self._user(f"rep{n}", Role.REP, f"{self.rng.choice(SURNAMES)}销售{n}", team)
                )

    def accounts(self) -> None:
        self.accounts_list = []
        for name in COMPANIES:
            account = Account.objects.create(name=name)
            Contact.objects.create(
                account=account,
                name=f"{self.rng.choice(SURNAMES)}总",
                title="采购总监",
                is_decision_maker=True,
            )
            self.accounts_list.append(account)

    def quotas(self) -> None:
        today = timezone.localdate(self.now)
        quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        for back in range(6, -1, -1):
            month = quarter_start.month - 3 * back
            year = quarter_start.year + (month - 1) // 12
            start = dt.date(year, (month - 1) % 12 + 1, 1)
            end_month = start.month + 3
            end = dt.date(start.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
            for rep in self.reps:
                Quota.objects.create(
                    user=rep, period_start=start, period_end=end, amount=Decimal(1_200_000)
                )
            for manager in self.managers:
                team = manager.managed_teams.get()
                Quota.objects.create(
                    team=team, period_start=start, period_end=end, amount=Decimal(4_800_000)
                )

    # -- deals ---------------------------------------------------------------------------
    def _later(self, at: dt.datetime, mean_days: float) -> dt.datetime:
        return at + dt.timedelta(days=self.rng.expovariate(1 / mean_days) + 0.05)

    def _activities(
        self, deal: Deal, actor: User, start: dt.datetime, end: dt.datetime, count: int
    ) -> None:
        end = min(end, self.now)
        for _ in range(count):
            at = start + (end - start) * self.rng.random()
            log_activity(
                actor=actor,
                deal=deal,
                type=self.rng.choice(["call", "call", "visit", "meeting", "email", "wechat"]),
                at=at,
                outcome=self.rng.choice(["positive", "neutral", "negative", "no_answer", ""]),
            )

    def _prepare_exit(self, deal: Deal, key: str, actor: User, at: dt.datetime) -> Deal:
        """Meet the exit criteria of ``key`` just before ``at`` (what a diligent rep does)."""
        if key == "contact":
            log_activity(actor=actor, deal=deal, type="call", outcome="positive", at=at)
        elif key == "needs" and not {"budget", "decision_maker"} <= set(deal.custom):
            deal = services.update_deal(
                actor=actor,
                deal=deal,
                expected_version=deal.version,
                changes={
                    "custom": {
                        "budget": int(deal.amount or 100000) * 1.2,
                        "decision_maker": deal.account.contacts.first().name,
                    }
                },
                at=at,
            )
        elif key == "proposal" and not deal.attachments.filter(kind="quote").exists():
            services.attach_file(
                actor=actor,
                deal=deal,
                kind="quote",
                at=at,
                file=ContentFile(b"%PDF-1.4 demo quote\n", name=f"quote-{deal.pk}.pdf"),
            )
        elif key == "negotiation":
            manager = deal.team.manager
            services.approve_stage_exit(actor=manager, deal=deal, at=at, note="同意")
        return deal

    def deal(self, index: int) -> None:
        rng = self.rng
        rep = self.reps[index % len(self.reps)] if rng.random() < 0.5 else rng.choice(self.reps)
        # More deals in recent months: the business is growing.
        created = self.now - dt.timedelta(days=548 * rng.random() ** 1.4)
        account = rng.choice(self.accounts_list)
        amount = None if rng.random() < 0.04 else Decimal(round(rng.lognormvariate(12.0, 0.7), -3))
        deal = services.create_deal(
            actor=rep,
            name=f"{account.name} {rng.choice(PRODUCTS)}",
            account=account,
            amount=amount,
            source=rng.choice(SOURCES),
            expected_close_date=(created + dt.timedelta(days=rng.randint(30, 150))).date(),
            at=created,
        )
        self._walk(deal, rep, created, index)

    def _walk(self, deal: Deal, rep: User, at: dt.datetime, index: int) -> None:
        rng = self.rng
        position = self.order.index(deal.stage.key)
        reopened = False
        while True:
            key = self.order[position]
            leave = self._later(at, DWELL_DAYS[key])
            if leave >= self.now:
                # Still open today. Some reps stopped following up: a stale deal.
                last = at if rng.random() < 0.3 else self.now - dt.timedelta(days=rng.uniform(0, 6))
                self._activities(deal, rep, at, max(at, last), rng.randint(0, 2))
                return
            self._activities(deal, rep, at, leave, rng.randint(0, 3))
            advance = ADVANCE[key]
            if key == "proposal" and rep.username == WEAK_REP:
                advance = WEAK_PROPOSAL_ADVANCE
            if deal.amount is None and key == "proposal":
                advance = 0.0
            if rng.random() >= advance:
                reason = self.reasons[rng.choice(LOST_REASONS_BY_STAGE[key])]
                services.lose_deal(actor=rep, deal=deal, reason=reason, at=leave, note="")
                if not reopened and rng.random() < 0.08:
                    reopened = True
                    back = self._later(leave, 40)
                    if back < self.now:
                        services.reopen_deal(actor=rep, deal=deal, at=back, note="客户重新联系")
                        at = back
                        continue
                return
            # Occasionally slip back a stage from negotiation, then carry on from there.
            if key == "negotiation" and rng.random() < 0.08:
                services.move_deal(
                    actor=rep,
                    deal=deal,
                    to_stage=self.stages["proposal"],
                    at=leave,
                    note="客户要求重新报价",
                )
                position, at = self.order.index("proposal"), leave
                continue
            skip = key == "contact" and rng.random() < 0.08
            target_pos = position + (2 if skip else 1)
            passing = self.order[position:target_pos]
            # A few forced moves: the manager overrides instead of the rep doing the work.
            forced = rng.random() < 0.03
            if not forced:
                ready = at + (leave - at) * 0.9  # after entering the stage, before leaving
                for passed in passing:
                    deal = self._prepare_exit(deal, passed, rep, ready)
            actor = deal.team.manager if forced else rep
            reason = "客户催得急，先推进" if forced else ""
            if target_pos >= len(self.order):
                services.win_deal(actor=actor, deal=deal, at=leave, override_reason=reason)
                self._payments(deal, rep)
                return
            services.move_deal(
                actor=actor,
                deal=deal,
                to_stage=self.stages[self.order[target_pos]],
                at=leave,
                override_reason=reason,
            )
            position, at = target_pos, leave

    def _payments(self, deal: Deal, rep: User) -> None:
        if deal.amount is None:
            return
        remaining = deal.amount
        day = deal.closed_at.date()
        for share in (Decimal("0.3"), Decimal("0.4"), Decimal("0.3")):
            day += dt.timedelta(days=self.rng.randint(10, 60))
            if day > timezone.localdate(self.now) or remaining <= 0:
                return
            part = min(remaining, (deal.amount * share).quantize(Decimal("0.01")))
            services.record_payment(actor=rep, deal=deal, amount=part, paid_on=day)
            remaining -= part

    def daily(self) -> None:
        """The daily loop: next steps on most open deals (some overdue, some due today, the
        rest ahead; a quarter have none, which Today and the board flag) and a few approval
        requests waiting for the managers."""
        from loudou.activities.services import schedule_next_step

        open_deals = Deal.objects.filter(status="open").select_related("owner", "stage")
        asked = 0
        for deal in open_deals.order_by("id"):
            if self.rng.random() < 0.75:
                due = self.now + dt.timedelta(
                    days=self.rng.randint(-4, 7), hours=self.rng.randint(-3, 3)
                )
                schedule_next_step(
                    actor=deal.owner,
                    deal=deal,
                    type=self.rng.choice(["call", "visit", "meeting", "wechat", "email", "task"]),
                    due_at=due,
                    note=self.rng.choice(["", "确认预算", "发送报价", "约技术交流", "催合同"]),
                )
            if (
                asked < 3
                and deal.stage.key == "negotiation"
                and not services.is_approved(deal=deal)
            ):
                services.request_approval(
                    actor=deal.owner, deal=deal, note="客户已口头确认，请批准"
                )
                asked += 1

    def run(self, deals: int) -> None:
        self.people()
        self.accounts()
        self.quotas()
        for index in range(deals):
            self.deal(index)
        self.daily()
