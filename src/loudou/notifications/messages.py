"""What the messages say: the daily digest, the weekly diagnosis, approval requests, won
deals; each built in one language (the channel's) as a ``platforms.Message``.

Facts come from the places that own them: stale and last touch from ``deals.queries``,
unmet exit criteria from ``deals.criteria``, the period's funnel, the plan and the
diagnosis from the report engine (``reports.services.run_report``), quotas from
``people``.
"""

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from loudou.activities.models import NextStep
from loudou.analytics.params import ParamError
from loudou.deals.criteria import unmet_criteria
from loudou.deals.models import Deal, DealStatus
from loudou.deals.queries import days_since, is_stale, with_last_touch
from loudou.people.models import Quota, Team
from loudou.pipelines.models import CriterionKind, ExitCriterion
from loudou.reports.services import run_report

from .platforms import Message, Section

logger = logging.getLogger("loudou.notifications")

MAX_LINES = 200  # per section, before the platform's own limit trims further
MAX_APPROVAL_CHECKS = 500  # deals looked at for "waiting for approval" in one digest


def _zh(lang: str) -> bool:
    return lang.lower().startswith("zh")


def stage_name(stage: Any, lang: str) -> str:
    return stage.name_zh if _zh(lang) else stage.name_en


def money(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return "—"
    return f"{amount:,.0f} {currency}".strip()


def deal_link(deal: Deal) -> str:
    """The deal's page on the site (LOUDOU_SITE_URL), or "" when the site is not set."""
    base = getattr(settings, "LOUDOU_SITE_URL", "")
    return f"{base.rstrip('/')}{reverse('deal_detail', args=[deal.pk])}" if base else ""


def _deal_ref(deal: Deal) -> str:
    link = deal_link(deal)
    name = deal.name.replace("[", "(").replace("]", ")")
    return f"[{name}]({link})" if link else f"**{name}**"


def _bounded(section: Section, lines: list[str]) -> Section:
    section.lines = lines[:MAX_LINES]
    section.hidden = max(0, len(lines) - MAX_LINES)
    return section


# -- waiting for approval ----------------------------------------------------------------


def waiting_for_approval(deal: Deal) -> bool:
    """Is ``deal`` held in its stage by nothing but a manager's approval? (Open, its
    stage has exit criteria, and every one it does not meet is an approval.)"""
    if deal.status != DealStatus.OPEN:
        return False
    unmet = unmet_criteria(deal, [deal.stage])
    return bool(unmet) and all(u.kind == CriterionKind.APPROVAL for u in unmet)


def approvals_waiting(deals: QuerySet[Deal]) -> list[Deal]:
    """The open deals of ``deals`` waiting only for a manager's approval."""
    stages = ExitCriterion.objects.filter(kind=CriterionKind.APPROVAL).values("stage_id")
    candidates = deals.filter(status=DealStatus.OPEN, stage_id__in=stages).select_related(
        "stage", "owner"
    )
    return [
        d
        for d in candidates.order_by("stage_entered_at", "id")[:MAX_APPROVAL_CHECKS]
        if waiting_for_approval(d)
    ]


# -- the daily digest --------------------------------------------------------------------


def _current_quota(team: Team, today: dt.date) -> tuple[Decimal, dt.date, dt.date] | None:
    """The team's target for the period containing ``today``: its team quota, else the sum
    of its members' quotas for that period."""
    quotas = Quota.objects.filter(period_start__lte=today, period_end__gt=today)
    team_quota = quotas.filter(team=team).order_by("period_start").first()
    if team_quota:
        return team_quota.amount, team_quota.period_start, team_quota.period_end
    members = list(quotas.filter(user__team=team, user__is_active=True))
    if not members:
        return None
    return (
        sum((q.amount for q in members), Decimal(0)),
        min(q.period_start for q in members),
        max(q.period_end for q in members),
    )


def _month(today: dt.date) -> tuple[dt.date, dt.date]:
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def _funnel_section(team: Team, now: dt.datetime, lang: str) -> Section:
    today = timezone.localdate(now)
    quota = _current_quota(team, today)
    start, end = (quota[1], quota[2]) if quota else _month(today)
    section = Section(
        _("This period's funnel (%(start)s – %(end)s)")
        % {"start": start.isoformat(), "end": (end - dt.timedelta(days=1)).isoformat()}
    )
    try:
        funnel = run_report(
            name="funnel",
            user=None,
            now=now,
            team=team.name,
            date_from=start,
            date_to=end,
            lang=lang,
        ).totals
        section.lines.append(
            _("Deals created in the period: %(deals)s (won %(won)s, lost %(lost)s, open %(open)s)")
            % funnel
        )
        if quota is None:
            section.lines.append(_("No quota for this period: no plan to compare with."))
            return section
        plan = run_report(
            name="plan",
            user=None,
            now=now,
            team=team.name,
            date_from=start,
            date_to=end,
            target=quota[0],
            lang=lang,
        ).totals
    except ParamError as error:  # e.g. no pipeline yet
        section.lines.append(error.message(lang))
        return section
    target = plan.get("target") or quota[0]
    won = plan.get("already_won") or Decimal(0)
    share = f"{won / target:.0%}" if target else "—"
    section.lines.append(
        _("Won %(won)s of the target %(target)s (%(share)s); %(left)s to go")
        % {
            "won": money(won),
            "target": money(target),
            "share": share,
            "left": money(plan.get("remaining_target")),
        }
    )
    coverage = plan.get("coverage")
    section.lines.append(
        _("Open deals expected to close in the period: %(open)s (coverage %(coverage)s)")
        % {
            "open": money(plan.get("open_amount")),
            "coverage": "—" if coverage is None else f"{coverage:.1f}×",
        }
    )
    return section


def digest(team: Team, lang: str, now: dt.datetime | None = None) -> Message:
    """The team's daily digest: each rep's overdue next steps, stale deals and deals past
    their expected close, the deals waiting for a manager's approval, this period's
    funnel against the plan."""
    now = now or timezone.now()
    with translation.override(lang):
        today = timezone.localdate(now)
        deals = Deal.objects.filter(team=team)
        open_deals = list(
            with_last_touch(deals.filter(status=DealStatus.OPEN))
            .select_related("stage", "owner")
            .order_by("owner__username", "stage_entered_at", "id")
        )
        # The earliest next step past its time, per deal (the rep's own follow-ups).
        late_steps: dict[int, dt.datetime] = {}
        for deal_id, due in (
            NextStep.objects.filter(
                deal__in=[d.pk for d in open_deals], done_at__isnull=True, due_at__lt=now
            )
            .order_by("due_at")
            .values_list("deal_id", "due_at")
        ):
            late_steps.setdefault(deal_id, due)
        by_owner: dict[Any, list[str]] = {}
        stale_count = overdue_count = 0
        for deal in open_deals:
            notes = []
            if deal.pk in late_steps:
                notes.append(
                    _("next step overdue since %(date)s")
                    % {"date": timezone.localdate(late_steps[deal.pk]).isoformat()}
                )
            if is_stale(deal, now):
                stale_count += 1
                notes.append(
                    _("untouched for %(days)s days") % {"days": days_since(deal.last_touch, now)}
                )
            if deal.expected_close_date and deal.expected_close_date < today:
                overdue_count += 1
                notes.append(
                    _("expected to close on %(date)s")
                    % {"date": deal.expected_close_date.isoformat()}
                )
            if notes:
                line = f"{_deal_ref(deal)} · {stage_name(deal.stage, lang)} · {' · '.join(notes)}"
                by_owner.setdefault(deal.owner, []).append(line)
        waiting = approvals_waiting(deals)
        message = Message(
            kind="digest",
            title=_("Daily digest · %(team)s · %(date)s")
            % {"team": team.name, "date": today.isoformat()},
            lead=_(
                "%(open)s open deals · %(stale)s stale · %(overdue)s past expected close · "
                "%(waiting)s waiting for approval"
            )
            % {
                "open": len(open_deals),
                "stale": stale_count,
                "overdue": overdue_count,
                "waiting": len(waiting),
            },
        )
        for owner, lines in sorted(by_owner.items(), key=lambda item: str(item[0])):
            message.sections.append(_bounded(Section(str(owner)), lines))
        if not by_owner:
            message.sections.append(Section(_("Deals"), [_("Nothing stale or overdue.")]))
        if waiting:
            message.sections.append(
                _bounded(
                    Section(_("Waiting for a manager's approval")),
                    [
                        f"{_deal_ref(d)} · {stage_name(d.stage, lang)} · {d.owner} · "
                        + _("%(days)s days in the stage")
                        % {"days": days_since(d.stage_entered_at, now)}
                        for d in waiting
                    ],
                )
            )
        message.sections.append(_funnel_section(team, now, lang))
        message.data = {"team": team.name, "date": today.isoformat()}
        return message


# -- the weekly diagnosis ----------------------------------------------------------------


SEVERITY = {"high": "🔴", "medium": "🟠", "low": "🟡"}


def weekly(team: Team, lang: str, now: dt.datetime | None = None) -> Message:
    """The diagnosis report's findings for the team, in words."""
    now = now or timezone.now()
    with translation.override(lang):
        message = Message(
            kind="weekly",
            title=_("Weekly diagnosis · %(team)s") % {"team": team.name},
        )
        try:
            result = run_report(name="diagnosis", user=None, now=now, team=team.name, lang=lang)
        except ParamError as error:
            message.lead = error.message(lang)
            return message
        findings = result.rows
        key = "message_zh" if _zh(lang) else "message_en"
        if not findings:
            message.lead = _("No findings: nothing in the funnel stands out this week.")
        else:
            message.lead = _("%(count)s findings, the most severe first.") % {
                "count": len(findings)
            }
            message.sections.append(
                _bounded(
                    Section(_("Findings")),
                    [f"{SEVERITY.get(f.get('severity'), '•')} {f[key]}" for f in findings],
                )
            )
        message.data = {"team": team.name, "findings": len(findings)}
        return message


# -- events --------------------------------------------------------------------------------


def approval_request(deal: Deal, lang: str) -> Message:
    """A deal waits for a manager's approval to leave its stage."""
    with translation.override(lang):
        unmet = unmet_criteria(deal, [deal.stage])
        key = "message_zh" if _zh(lang) else "message_en"
        return Message(
            kind="approval",
            title=_("Approval requested: %(deal)s") % {"deal": deal.name},
            lead=_(
                "%(owner)s's deal %(deal)s (%(amount)s) waits for a manager's approval to "
                "leave %(stage)s."
            )
            % {
                "owner": deal.owner,
                "deal": _deal_ref(deal),
                "amount": money(deal.amount, deal.currency),
                "stage": stage_name(deal.stage, lang),
            },
            sections=[Section(_("Still missing"), [getattr(u, key) for u in unmet])]
            if unmet
            else [],
            link=deal_link(deal),
            data={"deal_id": deal.pk},
        )


def won(deal: Deal, lang: str) -> Message:
    """A deal was won."""
    with translation.override(lang):
        account = f" · {deal.account}" if deal.account_id else ""
        return Message(
            kind="won",
            title=_("Won: %(deal)s") % {"deal": deal.name},
            lead=_("🎉 %(owner)s won %(deal)s%(account)s: %(amount)s")
            % {
                "owner": deal.owner,
                "deal": _deal_ref(deal),
                "account": account,
                "amount": money(deal.amount, deal.currency),
            },
            link=deal_link(deal),
            data={"deal_id": deal.pk},
        )


def test_message(team: Team, lang: str) -> Message:
    with translation.override(lang):
        return Message(
            kind="test",
            title=_("Loudou test message"),
            lead=_("This channel receives %(team)s's notifications.") % {"team": team.name},
        )
