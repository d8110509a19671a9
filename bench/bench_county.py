"""Benchmark the queries of a county-sized data set (bench/county.py): inbox pages and their counts for each
level, the reads of a task page (held to the inbox's target: the issue names none), the county's overdue overview (before the sweep has marked anything, on a county just generated, and
after it), and the overdue sweep with nothing new due, as p50 and p95 of repeated runs, each in a fresh session (as
a request would be), with the SQL statements each issues, against the issue's targets.

    .venv/bin/python bench/bench_county.py                       # generates the county on a temporary SQLite file
    .venv/bin/python bench/bench_county.py --database-url postgresql://…   # on PostgreSQL (emptied first)
    .venv/bin/python bench/bench_county.py --postgres            # on a PostgreSQL server of its own (as bench_http)
    BENCH_QUICK=1 …                                               # a tenth of the county
    … --repeat 3                  # measure three times on the same county: each figure's median of the three p95
    … --database-url … --reuse    # measure the county a previous run left (upgrading its schema first)

At the end the production server (``fangpin run --no-scheduler``, its clock standing at the county's "today") serves
the county and the supervisor's page is fetched over HTTP, logged in, as a browser would (the issue's < 200 ms), with
a township's drill-down and the county officer's inbox page beside it.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from bench_engine import percentile
from bench_http import Client, postgres, production_server
from common import START
from county import COUNTY, NOW, generate
from sqlalchemy import event, func, select, text

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.cases.deadlines import task_deadline
from engine.cases.decision_view import decision_view, prefill
from engine.cases.lifecycle import notices_of_case
from engine.cases.self_application import application_of_case
from engine.cases.tasks import TaskFilter, count_ready, inbox, task_with_case
from engine.core.clock import FixedClock
from engine.core.config import project_dir, tune_garbage_collector
from engine.core.db import db
from engine.core.models import HumanTask, Jurisdiction
from engine.core.transaction import transaction
from engine.demo import create_users
from engine.policy.parameters import load_policy_file
from engine.serving import DEFAULT_THREADS, DEFAULT_WORKERS
from engine.supervision.overdue import mark_overdue
from engine.supervision.overview import overdue_overview

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
RUNS = 20
INBOX_MS, OVERDUE_MS, SWEEP_MS, PAGE_MS = 20.0, 50.0, 20.0, 200.0
SUPERVISOR, COUNTY_OFFICER = "zhanggong_dudao", "zhanggong_xian"  # engine/demo.py's users of 章贡区
CLOCK = FixedClock(NOW)


def p95(fn: Callable[[], object], runs: int = RUNS) -> tuple[float, float, int]:
    """(p50, p95) of ``runs`` timings in ms, each after emptying the session (after one untimed run: the first pays
    for compiling the statements, as only a server's first request would), and the SQL statements of one run."""
    db.session.remove()
    statements = []
    listen = (db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    event.listen(*listen)
    try:
        fn()
    finally:
        event.remove(*listen)
    times = []
    for _ in range(runs):
        db.session.remove()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(0.95 * len(times)))], len(statements)


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def measure() -> dict[str, tuple[float, float, int]]:
    """Each figure's (p50, p95, statements), printed as it is measured."""
    figures = {}
    county = COUNTY
    township, village = f"{COUNTY}900", f"{COUNTY}900000"
    for label, code, roles in (("village cadre", village, ("village_cadre",)),
                               ("township officer", township, ("township_officer",)),
                               ("county officer", county, ("county_officer",)),
                               ("county, every role", county, None)):
        def page(code=code, roles=roles) -> None:
            f = TaskFilter(roles, _place(code))
            inbox(f, limit=50, total=count_ready(f))  # as the inbox page: its count, then its first page
        db.session.remove()
        n = count_ready(TaskFilter(roles, _place(code)))
        figures[label] = p50, ms, statements = p95(page)
        print(f"inbox page and count, {label} ({n} open): p50 {p50:.1f}, p95 {ms:.1f} ms, {statements} statements"
              f"   (target < {INBOX_MS:g} ms) {'✓' if ms < INBOX_MS else '✗'}")
    task_pages(figures)
    unmarked = db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.state == "READY", HumanTask.due_at < NOW, HumanTask.overdue_since.is_(None)))
    if unmarked:  # a county just generated (or whose scheduler was down): the sweep has marked none of it yet
        overview(figures, "overview, unswept", f"before the sweep marks its {unmarked} overdue tasks")
    started = time.perf_counter()
    marked = mark_overdue(NOW)
    first = (time.perf_counter() - started) * 1000
    figures["sweep"] = p50, ms, statements = p95(lambda: mark_overdue(NOW))
    print(f"overdue sweep: first marks {marked} in {first:.0f} ms; with nothing new due p50 {p50:.1f}, "
          f"p95 {ms:.1f} ms, {statements} statements   (target < {SWEEP_MS:g} ms) {'✓' if ms < SWEEP_MS else '✗'}")
    overview(figures, "overview", "swept")  # as a county's scheduler keeps it (a sweep every 30 s)
    return figures


def task_pages(figures: dict, pages: int = RUNS) -> None:
    """The reads of a task page (web/tasks.py's GET) for ready tasks spread over the county, the oldest first: the
    task with its case and places, the household's application, the decision view, the form's prefill (from the
    tasks the view read), the notices and the task's deadline."""
    ready = list(db.session.scalars(select(HumanTask.id).where(HumanTask.state == "READY").order_by(HumanTask.id)))
    picked = ready[::max(1, len(ready) // pages)][:pages]
    turn = iter(range(10 ** 9))

    def page() -> None:
        row = task_with_case(picked[next(turn) % len(picked)], "bench")
        application = application_of_case(row.case_id)
        prefill(row, application, decision_view(row, CLOCK).tasks)
        notices_of_case(row.case_id), task_deadline(row.id)

    figures["task page"] = p50, ms, statements = p95(page)
    print(f"task page reads, {len(picked)} ready tasks across the county: p50 {p50:.1f}, p95 {ms:.1f} ms, "
          f"{statements} statements   (target < {INBOX_MS:g} ms, the inbox's) {'✓' if ms < INBOX_MS else '✗'}")


def overview(figures: dict, label: str, when: str) -> None:
    """The county's overdue overview (the supervisor's page) at NOW."""
    county = COUNTY
    db.session.remove()
    seen = overdue_overview(_place(county), NOW)
    figures[label] = p50, ms, statements = p95(lambda: overdue_overview(_place(county), NOW))
    print(f"overdue overview, county, {when} ({seen.total} overdue, first page of {len(seen.items)}): "
          f"p50 {p50:.1f}, p95 {ms:.1f} ms, {statements} statements   (target < {OVERDUE_MS:g} ms) "
          f"{'✓' if ms < OVERDUE_MS else '✗'}")


def pages_over_http(url: str, workdir: Path, runs: int = RUNS) -> None:
    """The supervisor's page of the county and of a township, and the county officer's inbox, each GET ``runs``
    times over HTTP from the production server (after one untimed GET per worker thread), as p50 and p95."""
    with production_server(url, workdir, DEFAULT_WORKERS, DEFAULT_THREADS, at=NOW, scheduler=False) as server:
        for label, user, path, target in (("supervisor page, county", SUPERVISOR, "/supervisor", PAGE_MS),
                                           ("supervisor page, a township", SUPERVISOR, f"/supervisor?j={COUNTY}900",
                                            PAGE_MS),
                                           ("inbox page, county officer", COUNTY_OFFICER, "/inbox", None)):
            client = Client(server.base, user, deque(), [])
            client.login()
            times, warm_up = [], DEFAULT_WORKERS * DEFAULT_THREADS
            for i in range(warm_up + runs):
                started = time.perf_counter()
                answer = client.browser.request("GET", path)
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 200:
                    raise RuntimeError(f"GET {path} as {user}: {answer.status_code} {answer.text[:300]}")
                if i >= warm_up:
                    times.append(elapsed)
            client.browser.close()
            ms = percentile(times, 95)
            verdict = f"(target < {target:g} ms) {'✓' if ms < target else '✗'}" if target else "(no target over HTTP)"
            print(f"{label} over HTTP ({len(answer.text) // 1024} KB): p50 {percentile(times, 50):.0f}, "
                  f"p95 {ms:.0f} ms   {verdict}")


def medians(rounds: list[dict[str, tuple[float, float, int]]]) -> None:
    """Each figure's median p50 and p95 over the rounds that measured it."""
    print(f"median of {len(rounds)} rounds:")
    for label in dict.fromkeys(label for r in rounds for label in r):
        measured = [r[label] for r in rounds if label in r]
        p50, ms = statistics.median(m[0] for m in measured), statistics.median(m[1] for m in measured)
        target = SWEEP_MS if label == "sweep" else OVERDUE_MS if label.startswith("overview") else INBOX_MS
        rounds_seen = "" if len(measured) == len(rounds) else f"   ({len(measured)} of the rounds)"
        print(f"  {label}: p50 {p50:.1f}, p95 {ms:.1f} ms, {measured[0][2]} statements   (target < {target:g} ms) "
              f"{'✓' if ms < target else '✗'}{rounds_seen}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--postgres", action="store_true", help="start a PostgreSQL server of its own for the run")
    parser.add_argument("--reuse", action="store_true", help="measure the county already in --database-url")
    parser.add_argument("--repeat", type=int, default=1, help="measure this many times (and print the medians)")
    args = parser.parse_args()
    if args.reuse and not args.database_url:
        parser.error("--reuse needs --database-url")
    if args.postgres and args.database_url:
        parser.error("--postgres starts a server of its own: no --database-url with it")
    tune_garbage_collector()  # as the web and scheduler processes do
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        url = args.database_url or (stack.enter_context(postgres(durable=False)).url if args.postgres
                                    else f"sqlite:///{Path(tmp) / 'county.db'}")
        run(url, Path(tmp), reuse=args.reuse, empty_first=bool(args.database_url or args.postgres), repeat=args.repeat)


def run(url: str, workdir: Path, reuse: bool, empty_first: bool, repeat: int) -> None:
    """Generate the county in ``url`` (or reuse it), measure the queries ``repeat`` times, then the pages over HTTP."""
    clock = FixedClock(START)
    app = create_engine_app({"SQLALCHEMY_DATABASE_URI": url, "FANGPIN_CLOCK_OBJECT": clock})
    with app.app_context():
        if reuse:
            setup_database(clock)  # upgrades the schema of the county left there (new indexes included)
            tasks = db.session.scalar(select(func.count()).select_from(HumanTask))
            print(f"county on {db.engine.dialect.name}, reused: {tasks} tasks")
        else:
            make_county(clock, empty_first)
        if db.engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        rounds = [measure() for _ in range(repeat)]
        if repeat > 1:
            medians(rounds)
        db.session.remove()
        db.engine.dispose()
    pages_over_http(url, workdir)


def make_county(clock: FixedClock, empty_first: bool) -> None:
    """Set the database up (emptied first: a server's database may hold an earlier run) with the demo's policy data
    and users, and generate the county (a tenth of it with BENCH_QUICK)."""
    if empty_first:
        db.drop_all()
        with db.engine.begin() as connection:  # the migration history too: set up again from empty
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    setup_database(clock)
    with transaction():
        load_policy_file(project_dir("policy") / "demo_parameters.json")
        create_users()
    scale = 10 if QUICK else 1
    made = generate(200_000 // scale, 1_000_000 // scale, 100_000 // scale, 10_000 // scale)
    print(f"county on {db.engine.dialect.name}: {made.households} households, {made.tasks} tasks "
          f"({made.open_tasks} open, {made.overdue} overdue), generated in {made.seconds:.0f} s")


if __name__ == "__main__":
    main()
