"""The words of each message, per team, in the channel's language: the daily digest, the
weekly diagnosis, a won deal, an approval request."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from loudou.analytics.params import ParamError
from loudou.deals.models import Deal, DealStatus, StageApproval
from loudou.deals.queries import days_since, with_last_touch
from loudou.people.models import Quota, Team
from loudou.pipelines.models import CriterionKind, ExitCriterion
from loudou.reports.services import run_report

from .models import MessageKind
from .platforms import Message

MAX_LISTED = 5  # deals named per rep; the rest are counted


def _money(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):,.0f}"


def _local_today(now: dt.datetime) -> dt.date:
    return timezone.localtime(now).date()


def stale_deals(team: Team, now: dt.datetime) -> list[Deal]:
    """The team's open deals untouched beyond their stage's rot days, stalest first."""
    deals = with_last_touch(
        Deal.objects.filter(team=team, status=DealStatus.OPEN).select_related("owner", "stage")
    )
    stale = [d for d in deals if now - d.last_touch > dt.timedelta(days=d.stage.rot_days)]
    return sorted(stale, key=lambda d: d.last_touch)


def awaiting_approval(team: Team) -> list[Deal]:
    """Open deals of the team in a stage that needs a manager's approval they do not have
    yet for this stay."""
    needs = ExitCriterion.objects.filter(stage=OuterRef("stage"), kind=CriterionKind.APPROVAL)
    approved = StageApproval.objects.filter(
        deal=OuterRef("pk"), stage=OuterRef("stage"), at__gte=OuterRef("stage_entered_at")
    )
    return list(
        Deal.objects.filter(team=team, status=DealStatus.OPEN)
        .filter(Exists(needs))
        .exclude(Exists(approved))
        .select_related("owner", "stage")
        .order_by("stage_entered_at")
    )


def digest(team: Team, lang: str, now: dt.datetime | None = None) -> Message:
    """Each rep's stale deals, the deals waiting for an approval, and the month so far
    against the team's quota."""
    now = now or timezone.now()
    today = _local_today(now)
    with translation.override(lang):
        lines: list[str] = []
        by_owner: dict[str, list[Deal]] = {}
        for deal in stale_deals(team, now):
            by_owner.setdefault(str(deal.owner), []).append(deal)
        lines.append("### " + _("Stale deals"))
        if not by_owner:
            lines.append(_("None: every open deal was touched in time."))
        for owner, deals in sorted(by_owner.items()):
            named = "; ".join(
                _("%(deal)s (%(days)d days)")
                % {"deal": d.name, "days": days_since(d.last_touch, now)}
                for d in deals[:MAX_LISTED]
            )
            more = len(deals) - MAX_LISTED
            extra = " " + _("and %(n)d more") % {"n": more} if more > 0 else ""
            lines.append(f"- **{owner}** ({len(deals)}): {named}{extra}")
        waiting = awaiting_approval(team)
        lines.append("")
        lines.append("### " + _("Waiting for approval"))
        if not waiting:
            lines.append(_("None."))
        for deal in waiting[: MAX_LISTED * 2]:
            lines.append(
                f"- {deal.name} · {deal.owner} · {deal.stage.name} "
                + _("(%(days)d days in the stage)")
                % {"days": days_since(deal.stage_entered_at, now)}
            )
        lines.append("")
        lines.append("### " + _("This month"))
        lines.extend(_month(team, today))
        title = _("%(team)s daily digest %(date)s") % {"team": team.name, "date": today.isoformat()}
        return Message(MessageKind.DIGEST, team.name, lang, title, "\n".join(lines))


def _month(team: Team, today: dt.date) -> list[str]:
    start = today.replace(day=1)
    tz = timezone.get_current_timezone()
    start_at = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    won = Deal.objects.filter(team=team, status=DealStatus.WON, closed_at__gte=start_at).aggregate(
        n=Count("id"), total=Sum("amount")
    )
    open_deals = Deal.objects.filter(team=team, status=DealStatus.OPEN).aggregate(
        total=Sum("amount"), weighted=Sum(F("amount") * F("stage__probability"))
    )
    quota = (
        Quota.objects.filter(team=team, period_start__lte=today, period_end__gt=today)
        .order_by("period_start")
        .first()
    )
    won_amount = won["total"] or Decimal(0)
    lines = [
        _("Won so far: %(amount)s (%(n)d deals)")
        % {"amount": _money(won_amount), "n": won["n"] or 0}
    ]
    if quota is not None and quota.amount:
        share = won_amount / quota.amount * 100
        lines.append(
            _("Quota %(start)s–%(end)s: %(quota)s, %(share).0f%% reached")
            % {
                "start": quota.period_start.isoformat(),
                "end": quota.period_end.isoformat(),
                "quota": _money(quota.amount),
                "share": share,
            }
        )
    else:
        lines.append(_("No team quota covers today."))
    lines.append(
        _("Open pipeline: %(amount)s (weighted %(weighted)s)")
        % {"amount": _money(open_deals["total"]), "weighted": _money(open_deals["weighted"])}
    )
    return ["- " + line for line in lines]


def weekly(team: Team, lang: str, now: dt.datetime | None = None) -> Message:
    """The diagnosis report's findings for the team, in words."""
    now = now or timezone.now()
    with translation.override(lang):
        try:
            result = run_report(name="diagnosis", user=None, now=now, team=team.name, lang=lang)
            findings = [str(row.get("message", "")) for row in result.rows if row.get("message")]
        except ParamError as exc:
            findings = [exc.message(lang)]
        lines = [f"- {text}" for text in findings[:15]] or [_("No findings this week.")]
        if len(findings) > 15:
            lines.append(_("and %(n)d more") % {"n": len(findings) - 15})
        title = _("%(team)s weekly diagnosis %(date)s") % {
            "team": team.name,
            "date": _local_today(now).isoformat(),
        }
        return Message(MessageKind.WEEKLY, team.name, lang, title, "\n".join(lines))


def won(deal: Deal, lang: str) -> Message:
    with translation.override(lang):
        title = _("Won: %(deal)s") % {"deal": deal.name}
        text = _("%(owner)s won %(deal)s (%(account)s), %(amount)s %(currency)s.") % {
            "owner": deal.owner,
            "deal": deal.name,
            "account": deal.account.name if deal.account else "—",
            "amount": _money(deal.amount),
            "currency": deal.currency,
        }
        return Message(MessageKind.WON, deal.team.name if deal.team else "", lang, title, text)


def approval_request(deal: Deal, lang: str, data: dict[str, Any]) -> Message:
    with translation.override(lang):
        title = _("Approval requested: %(deal)s") % {"deal": deal.name}
        text = _("%(owner)s asks to approve %(deal)s leaving the stage %(stage)s.") % {
            "owner": deal.owner,
            "deal": deal.name,
            "stage": deal.stage.name,
        }
        note = str(data.get("note") or "").strip()
        if note:
            text += "\n\n> " + note[:500]
        return Message(
            MessageKind.APPROVALS, deal.team.name if deal.team else "", lang, title, text
        )


BUILDERS = {MessageKind.DIGEST: digest, MessageKind.WEEKLY: weekly}
