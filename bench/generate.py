"""Fill Loudou's own database with N deals and their stage events, fast (bulk SQL).

    python bench/generate.py --deals 1000000 --db bench/data/bench-1000000.sqlite3
    python bench/generate.py --deals 100000 --db postgresql://postgres@127.0.0.1:5432/bench

200 reps in 20 teams, deals created over 3 years, ~3 stage events per deal: skipped
stages, slip-backs, losses at every stage, reopened lost and won deals, and open deals left
untouched (stale). Also, for the management reports: 3% of moves forced past exit
criteria, 0-4 activities per deal, payments against won deals, quarterly quotas per rep.
Seeded: the same arguments give the same data. The database is migrated first and must
hold no deals.
"""

import argparse
import datetime as dt
import io
import math
import os
import random
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
YEARS = 3
ADVANCE = [0.62, 0.64, 0.55, 0.70]  # leave stage k forward (else lost), k = 1..4
SKIP = 0.05
SLIP_BACK = 0.06
REOPEN = 0.03
REOPEN_WON = 0.02  # won, then reopened into the stage it was won from (METRICS.md: "ever won")
DWELL_DAYS = [9.0, 14.0, 18.0, 12.0]
SOURCES = ["web", "fair", "referral", "outbound", "partner"]


def configure(db: str) -> None:
    if "://" in db:
        os.environ["LOUDOU_DATABASE_URL"] = db
        os.environ.setdefault("LOUDOU_SECRET_KEY", "bench-only")
    else:
        path = Path(db).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["LOUDOU_HOME"] = str(path.parent)
        os.environ["LOUDOU_SQLITE_FILE"] = path.name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loudou.settings")
    import django

    django.setup()


def generate(n_deals: int, seed: int) -> tuple[list, list, list, list]:
    """(teams, users, deals, events) as tuples ready for insertion."""
    rng = random.Random(seed)
    # Reopening won deals draws from its own stream, and so does the rest of a reopened
    # won deal's walk: every other deal keeps the path of earlier benchmark runs.
    reopen_won = random.Random(seed + 2)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, s.key, s.kind FROM pipelines_stage s JOIN pipelines_pipeline p "
            "ON p.id = s.pipeline_id WHERE p.is_default ORDER BY s.position"
        )
        stages = cursor.fetchall()
        cursor.execute("SELECT id FROM pipelines_pipeline WHERE is_default")
        pipeline_id = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM deals_lostreason ORDER BY id")
        reasons = [r[0] for r in cursor.fetchall()]
    open_ids = [s[0] for s in stages if s[2] == "open"]
    won_id = next(s[0] for s in stages if s[2] == "won")
    lost_id = next(s[0] for s in stages if s[2] == "lost")
    teams = [(t + 1, f"Team {t + 1:02d}") for t in range(20)]
    users = [(u + 1, f"rep{u + 1:03d}", (u // 10) + 1) for u in range(200)]
    span = YEARS * 365 * 86400
    start = NOW - dt.timedelta(seconds=span)
    deals, events = [], []
    event_id = 0
    for deal_id in range(1, n_deals + 1):
        owner, _, team = users[rng.randrange(200)]
        created = start + dt.timedelta(seconds=rng.random() * span)
        amount = None if rng.random() < 0.05 else round(math.exp(rng.gauss(11.5, 0.8)), -2)
        at = created
        k = 1 if rng.random() < 0.9 else 2
        path = [(None, open_ids[k - 1], at)]
        status, reopened, walk = "open", False, rng
        while True:
            leave = at + dt.timedelta(days=walk.expovariate(1 / DWELL_DAYS[k - 1]) + 0.01)
            if leave >= NOW:
                break
            roll = walk.random()
            if roll >= ADVANCE[k - 1]:
                path.append((open_ids[k - 1], lost_id, leave))
                status, at = "lost", leave
                if not reopened and walk.random() < REOPEN:
                    back = leave + dt.timedelta(days=walk.uniform(10, 60))
                    if back < NOW:
                        reopened, status, at = True, "open", back
                        path.append((lost_id, open_ids[k - 1], back))
                        continue
                break
            if k >= 3 and walk.random() < SLIP_BACK:
                path.append((open_ids[k - 1], open_ids[k - 2], leave))
                k, at = k - 1, leave
                continue
            step = 2 if k <= 2 and walk.random() < SKIP else 1
            if k + step > 4:
                path.append((open_ids[k - 1], won_id, leave))
                status, at = "won", leave
                if not reopened and reopen_won.random() < REOPEN_WON:
                    back = leave + dt.timedelta(days=reopen_won.uniform(10, 60))
                    if back < NOW:
                        reopened, status, at, walk = True, "open", back, reopen_won
                        path.append((won_id, open_ids[k - 1], back))
                        continue
                break
            path.append((open_ids[k - 1], open_ids[k + step - 1], leave))
            k, at = k + step, leave
        _last_from, last_to, last_at = path[-1]
        closed = last_at if status != "open" else None
        touched = None
        if rng.random() < 0.5:
            touched = created + (last_at - created) * rng.random()
        deals.append(
            (
                deal_id,
                f"Deal {deal_id}",
                owner,
                team,
                pipeline_id,
                last_to,
                last_at,
                status,
                amount,
                created.date() + dt.timedelta(days=rng.randint(30, 120)),
                created,
                closed,
                rng.choice(reasons) if status == "lost" else None,
                rng.choice(SOURCES),
                created,
                touched,
            )
        )
        for from_id, to_id, when in path:
            event_id += 1
            events.append((event_id, deal_id, from_id, to_id, when))
    return teams, users, deals, events


DEAL_COLUMNS = (
    "id, name, owner_id, team_id, pipeline_id, stage_id, stage_entered_at, status, amount, "
    "expected_close_date, created_at, closed_at, lost_reason_id, source, updated_at, "
    "last_activity_at, currency, custom, version, forecast_category, lost_note"
)
DEAL_CONSTANTS = ("CNY", "{}", 1, "", "")


def _sqlite_time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")


FORCED = 0.03
ACTIVITY_TYPES = ["call", "call", "visit", "meeting", "email", "wechat"]


def extras(users: list, deals: list, events: list, seed: int) -> tuple[set, list, list, list]:
    """(forced event ids, activities, payments, quotas), from their own random stream so
    that the deals and events stay those of earlier benchmark runs."""
    rng = random.Random(seed + 1)
    forced = {e[0] for e in events if e[2] is not None and rng.random() < FORCED}
    activities, payments = [], []
    for d in deals:
        deal_id, owner, last_at, status, amount, created = d[0], d[2], d[6], d[7], d[8], d[10]
        end = min(last_at + dt.timedelta(days=3), NOW) if status != "open" else NOW
        span = (end - created).total_seconds()
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            at = created + dt.timedelta(seconds=rng.random() * span)
            activities.append((len(activities) + 1, deal_id, owner, rng.choice(ACTIVITY_TYPES), at))
        if status == "won" and amount:
            left = round(amount * (1 if rng.random() < 0.8 else rng.uniform(0.2, 0.9)), 2)
            paid_on = last_at.date()
            for part in range(rng.randint(1, 3), 0, -1):
                piece = left if part == 1 else round(left * rng.uniform(0.2, 0.6), 2)
                paid_on += dt.timedelta(days=rng.randint(5, 60))
                if piece <= 0 or paid_on > NOW.date():
                    break
                payments.append((len(payments) + 1, deal_id, owner, piece, paid_on))
                left = round(left - piece, 2)
    quotas, start = [], dt.date(NOW.year - YEARS, 1, 1)
    for uid, _, _ in users:
        quarter = start
        while quarter.year <= NOW.year:
            end = dt.date(quarter.year + (quarter.month == 10), (quarter.month + 2) % 12 + 1, 1)
            quotas.append((len(quotas) + 1, uid, quarter, end, rng.randrange(50, 150) * 10_000))
            quarter = end
    return forced, activities, payments, quotas


def insert(teams: list, users: list, deals: list, events: list, more: tuple | None = None) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from loudou.core.db import bulk_write

    password = make_password(None)
    with transaction.atomic(), bulk_write(connection), connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM deals_deal")
        if cursor.fetchone()[0]:
            sys.exit("This database already holds deals; generate into an empty one.")
        if connection.vendor == "postgresql":
            _insert_postgresql(cursor, teams, users, deals, events, password)
        else:
            _insert_sqlite(cursor, teams, users, deals, events, password)
        if more:
            _insert_extras(cursor, connection.vendor, *more)


def _insert_extras(
    cursor: Any, vendor: str, _forced: set, activities: list, payments: list, quotas: list
) -> None:
    """The same rows on both databases through executemany (these tables are small next
    to deals and events, except activities)."""
    when = _sqlite_time if vendor == "sqlite" else (lambda v: v)
    cursor.executemany(
        "INSERT INTO activities_activity (id, deal_id, by_id, type, at, outcome, note, "
        "created_at) VALUES (%s, %s, %s, %s, %s, '', '', %s)",
        [(i, d, b, t, when(at), when(at)) for i, d, b, t, at in activities],
    )
    cursor.executemany(
        "INSERT INTO deals_payment (id, deal_id, recorded_by_id, amount, paid_on, note, "
        "recorded_at) VALUES (%s, %s, %s, %s, %s, '', %s)",
        [(i, d, b, f"{a:.2f}", p.isoformat(), when(NOW)) for i, d, b, a, p in payments],
    )
    cursor.executemany(
        "INSERT INTO people_quota (id, user_id, period_start, period_end, amount, currency) "
        "VALUES (%s, %s, %s, %s, %s, 'CNY')",
        [(i, u, s.isoformat(), e.isoformat(), f"{a:.2f}") for i, u, s, e, a in quotas],
    )
    if vendor == "postgresql":
        for table in ("activities_activity", "deals_payment", "people_quota"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )


USER_COLUMNS = (
    "id, username, team_id, role, display_name, password, is_superuser, is_staff, "
    "is_active, first_name, last_name, email, date_joined"
)


def _user_rows(users: list, password: str) -> list[tuple]:
    joined = NOW.isoformat()
    return [
        (uid, name, team, "rep", name, password, False, False, True, "", "", "", joined)
        for uid, name, team in users
    ]


def _insert_sqlite(
    cursor: Any, teams: list, users: list, deals: list, events: list, password: str
) -> None:
    cursor.executemany("INSERT INTO people_team (id, name) VALUES (%s, %s)", teams)
    cursor.executemany(
        f"INSERT INTO people_user ({USER_COLUMNS}) VALUES ({', '.join(['%s'] * 13)})",
        _user_rows(users, password),
    )
    cursor.executemany(
        f"INSERT INTO deals_deal ({DEAL_COLUMNS}) VALUES ({', '.join(['%s'] * 21)})",
        [
            (
                d[0],
                d[1],
                d[2],
                d[3],
                d[4],
                d[5],
                _sqlite_time(d[6]),
                d[7],
                None if d[8] is None else f"{d[8]:.2f}",
                d[9].isoformat(),
                _sqlite_time(d[10]),
                _sqlite_time(d[11]),
                d[12],
                d[13],
                _sqlite_time(d[14]),
                _sqlite_time(d[15]),
                *DEAL_CONSTANTS,
            )
            for d in deals
        ],
    )
    cursor.executemany(
        "INSERT INTO deals_stageevent (id, deal_id, from_stage_id, to_stage_id, at, "
        "override_reason, overridden, note) VALUES (%s, %s, %s, %s, %s, %s, %s, '')",
        [(e[0], e[1], e[2], e[3], _sqlite_time(e[4]), *_override(e)) for e in events],
    )


def _override(event: tuple) -> tuple[str, str]:
    """(override_reason, overridden) of an event: a forced move has both."""
    return ("bench", '["approval"]') if len(event) > 5 and event[5] else ("", "[]")


def _copy(cursor: Any, table: str, columns: str, rows: Iterable[tuple]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def _insert_postgresql(
    cursor: Any, teams: list, users: list, deals: list, events: list, password: str
) -> None:
    _copy(cursor, "people_team", "id, name", teams)
    _copy(cursor, "people_user", USER_COLUMNS, _user_rows(users, password))
    _copy(
        cursor,
        "deals_deal",
        DEAL_COLUMNS,
        ((*d[:8], None if d[8] is None else f"{d[8]:.2f}", *d[9:], *DEAL_CONSTANTS) for d in deals),
    )
    _copy(
        cursor,
        "deals_stageevent",
        "id, deal_id, from_stage_id, to_stage_id, at, override_reason, overridden, note",
        ((*e[:5], *_override(e), "") for e in events),
    )
    for table in ("people_team", "people_user", "deals_deal", "deals_stageevent"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--db", required=True, help="SQLite file path or PostgreSQL URL")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    configure(args.db)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    teams, users, deals, events = generate(args.deals, args.seed)
    more = extras(users, deals, events, args.seed)
    events = [(*e, e[0] in more[0]) for e in events]  # flag the forced moves
    generated = time.perf_counter()
    insert(teams, users, deals, events, more)
    done = time.perf_counter()
    print(
        f"{len(deals):,} deals, {len(events):,} stage events: generated in "
        f"{generated - started:.1f} s, inserted in {done - generated:.1f} s "
        f"({len(deals) + len(events):,.0f} rows, "
        f"{(len(deals) + len(events)) / (done - generated):,.0f} rows/s)."
    )


if __name__ == "__main__":
    main()
