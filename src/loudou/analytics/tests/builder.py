"""Build report frames by hand: deals as their stage paths (a test factory)."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from loudou.analytics.frames import Frames
from loudou.pipelines.defaults import DEFAULT_STAGES

# Stage ids 1..6 in DEFAULT_STAGES order: contact, needs, proposal, negotiation, won, lost.
STAGE_IDS = {key: i for i, (key, *_rest) in enumerate(DEFAULT_STAGES, start=1)}


def t(text: str) -> dt.datetime:
    """'2026-01-05T10:00+08:00' or '2026-01-05T02:00' (UTC when no offset)."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass
class FrameBuilder:
    users: dict[str, int] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)
    deals: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    activities: list[dict] = field(default_factory=list)
    quotas: list[dict] = field(default_factory=list)
    # Display names by username (a user without one is shown by username).
    names: dict[str, str] = field(default_factory=dict)

    def user(self, name: str, team: str | None = None) -> int:
        if name not in self.users:
            self.users[name] = len(self.users) + 1
            if team and team not in self.teams:
                self.teams[team] = len(self.teams) + 1
            self._user_team = getattr(self, "_user_team", {})
            self._user_team[name] = self.teams.get(team) if team else None
        return self.users[name]

    def deal(
        self,
        path: list[tuple[str, str]],
        *,
        owner: str = "alice",
        team: str | None = "North",
        amount: str | int | None = 100,
        source: str = "",
        expected_close: str | None = None,
        forecast_category: str = "",
        touched: str | None = None,
        activity: str | None = None,
        forced: tuple[int, ...] = (),
        imported: tuple[int, ...] = (),
    ) -> int:
        """A deal created into ``path[0]`` and moved through the rest of ``path``;
        each step is (stage key, time). Its status follows the last step; the steps
        numbered in ``forced`` were moved with an override of exit criteria, those in
        ``imported`` came from a spreadsheet import (history from another system)."""
        owner_id = self.user(owner, team)
        deal_id = len(self.deals) + 1
        previous = None
        for step, (key, when) in enumerate(path):
            self.events.append(
                {
                    "id": len(self.events) + 1,
                    "deal_id": deal_id,
                    "from_stage_id": STAGE_IDS[previous] if previous else None,
                    "to_stage_id": STAGE_IDS[key],
                    "at": t(when),
                    "forced": step in forced,
                    "imported": step in imported,
                }
            )
            previous = key
        last_key, last_at = path[-1]
        status = last_key if last_key in ("won", "lost") else "open"
        cents = None if amount is None else int(Decimal(str(amount)) * 100)
        touches = [t(last_at), t(touched or path[0][1]), *([t(activity)] if activity else [])]
        self.deals.append(
            {
                "id": deal_id,
                "owner_id": owner_id,
                "team_id": self.teams.get(team) if team else None,
                "pipeline_id": 1,
                "stage_id": STAGE_IDS[last_key],
                "status": status,
                "amount_cents": cents,
                "expected_close_date": (
                    dt.date.fromisoformat(expected_close) if expected_close else None
                ),
                "source": source,
                "forecast_category": forecast_category,
                "last_touch": max(touches),
            }
        )
        return deal_id

    def payment(self, deal_id: int, amount: str | int, paid_on: str) -> None:
        self.payments.append(
            {
                "id": len(self.payments) + 1,
                "deal_id": deal_id,
                "amount_cents": int(Decimal(str(amount)) * 100),
                "paid_on": dt.date.fromisoformat(paid_on),
            }
        )

    def activity(self, deal_id: int, kind: str, at: str) -> None:
        self.activities.append(
            {"id": len(self.activities) + 1, "deal_id": deal_id, "type": kind, "at": t(at)}
        )

    def quota(self, user: str, start: str, end: str, amount: int) -> None:
        self.quotas.append(
            {
                "id": len(self.quotas) + 1,
                "user_id": self.user(user),
                "team_id": None,
                "period_start": dt.date.fromisoformat(start),
                "period_end": dt.date.fromisoformat(end),
                "amount_cents": amount * 100,
            }
        )

    def frames(self) -> Frames:
        stages = pl.DataFrame(
            [
                {
                    "id": i,
                    "pipeline_id": 1,
                    "key": key,
                    "kind": kind,
                    "position": pos,
                    "probability": str(prob),
                    "forecast_category": cat,
                    "rot_days": 14,
                    "name_zh": zh,
                    "name_en": en,
                }
                for i, (key, kind, pos, zh, en, prob, cat) in enumerate(DEFAULT_STAGES, start=1)
            ]
        )
        from loudou.analytics.frames import SCHEMAS

        def frame(rows: list[dict], name: str) -> pl.DataFrame:
            return (
                pl.DataFrame(rows, schema=SCHEMAS[name])
                if rows
                else pl.DataFrame(schema=SCHEMAS[name])
            )

        user_team = getattr(self, "_user_team", {})
        return Frames.from_frames(
            pipelines=pl.DataFrame({"id": [1], "key": ["default"], "is_default": [True]}),
            deals=frame(self.deals, "deals"),
            events=frame(self.events, "events"),
            stages=stages,
            users=frame(
                [
                    {"id": i, "username": u, "team_id": user_team.get(u), "name": self.names.get(u)}
                    for u, i in self.users.items()
                ],
                "users",
            ),
            teams=frame([{"id": i, "name": n} for n, i in self.teams.items()], "teams"),
            payments=frame(self.payments, "payments"),
            activities=frame(self.activities, "activities"),
            quotas=frame(self.quotas, "quotas"),
        )
