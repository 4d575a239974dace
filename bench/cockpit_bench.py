"""Server time of the whole cockpit page (every panel, rendered) with warm frames.

    python bench/cockpit_bench.py --deals 100000            # bench/data/bench-100000.sqlite3
    python bench/cockpit_bench.py --deals 100000 --runs 7

Generates the database with bench/generate.py when it is missing, adds an admin (who sees
every deal: the largest cockpit) and a manager of one team, loads the frames once, then
times GET /cockpit/ through Django's full request handling (middleware, view, every
report, the template): median, min and max of --runs runs, per user, for a first view
(the simulated forecast computed) and a repeat view (the forecast kept), with the CPU
time and the machine's load; then each panel's reports alone. Target: at most 300 ms at
100k deals. Not part of the test suite.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def setup_django(db: Path) -> None:
    os.environ["LOUDOU_HOME"] = str(db.parent)
    os.environ["LOUDOU_SQLITE_FILE"] = db.name
    os.environ.pop("LOUDOU_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "loudou.settings"
    os.environ.setdefault("LOUDOU_SECRET_KEY", "bench-only")
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    db = HERE / "data" / f"bench-{args.deals}.sqlite3"
    if not db.exists():
        db.parent.mkdir(exist_ok=True)
        generate = [sys.executable, str(HERE / "generate.py"), "--deals", str(args.deals)]
        subprocess.run([*generate, "--db", str(db)], check=True)
    setup_django(db)
    from django.test import Client

    from loudou.people.models import Role, Team, User
    from loudou.reports import cockpit as cockpit_module
    from loudou.reports import loader
    from loudou.reports.cockpit import PANELS, cockpit

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": Role.ADMIN})
    manager, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"role": Role.MANAGER}
    )
    team = Team.objects.order_by("id").first()
    if team is not None and team.manager_id != manager.pk:
        Team.objects.filter(pk=team.pk).update(manager=manager)

    started = time.perf_counter()
    loader.frames_for()
    print(f"frames loaded in {time.perf_counter() - started:.2f} s (cold, once)")
    # Wall times depend on what else the machine runs: say how busy it was.
    print(f"load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    for user in (admin, manager):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN", HTTP_HOST="127.0.0.1")
        client.force_login(user)
        assert client.get("/cockpit/").status_code == 200  # warm: frames, templates
        # First view: the simulated forecast computed (as after any write, or each new
        # day); repeat view: kept from an earlier view (cockpit.CockpitRun._same_day).
        for label, forget in (("first view", True), ("repeat view", False)):
            times, cpu = [], []
            for _ in range(args.runs):
                if forget:
                    cockpit_module._same_day_cache.clear()
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get("/cockpit/")
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                assert response.status_code == 200
            print(
                f"GET /cockpit/ as {user.get_role_display()} ({user.username}), {label}: "
                f"median {statistics.median(times):.1f} ms, min {min(times):.1f}, "
                f"max {max(times):.1f}; CPU median {statistics.median(cpu):.1f} ms (all "
                f"threads) ({args.runs} runs, {len(response.content) / 1024:.0f} KiB)"
            )

    print("panels alone, as the admin, first view (median ms):")
    for key in PANELS:
        times = []
        for _ in range(args.runs):
            cockpit_module._same_day_cache.clear()
            started = time.perf_counter()
            cockpit(user=admin, options={"lang": "zh-hans"}, panels=[key])
            times.append((time.perf_counter() - started) * 1000)
        print(f"  {key:<12} {statistics.median(times):7.1f}")


if __name__ == "__main__":
    main()
