"""Benchmark the department warning procedures at county scale: a department pushes one batch of N rows to a
county (default 10 000, the issue's largest batch); the county completes its one comparison task, which notes
the monitored households and opens one home-verification case per other warning; the ledger of the batch is read.

Against the physical limit, per dispatched warning: bare SpiffWorkflow starting the same verification diagram in
memory plus a raw INSERT of the case row and its task row in one transaction (what opening a case must at least
do).

    .venv/bin/python bench/bench_warnings.py               # 10 000 rows
    BENCH_QUICK=1 .venv/bin/python bench/bench_warnings.py  # 1 000 rows
"""
from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime

from common import id_number, make_app, setup
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from sqlalchemy import event, func, select

from engine.cases.lifecycle import complete_task
from engine.core.clock import FixedClock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.models import Case, DepartmentWarning, HumanTask, Jurisdiction
from engine.warnings.intake import import_batch
from engine.warnings.ledger import ledger
from engine.warnings.procedure import batch_reference
from engine.warnings.rows import read_json
from timers.functions import DIAGRAM_FUNCTIONS

log = logging.getLogger("bench.warnings")
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
START = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)


def _rows(n: int, villages: list[str]) -> list[dict]:
    rows = []
    for i in range(n):
        rows.append({"name": f"预警{i}", "id_number": id_number(i, date(1950, 1, 1)), "indicator": "out_of_pocket",
                     "amount": 30000, "village": villages[i % len(villages)], "date": "2026-09-10"})
    return rows


def _counting():
    counter = {"n": 0}

    def count(*_):
        counter["n"] += 1
    event.listen(db.engine, "before_cursor_execute", count)
    return counter, lambda: event.remove(db.engine, "before_cursor_execute", count)


def bare_per_case(samples: int) -> float:
    """Seconds per case: the verification diagram started in bare SpiffWorkflow (parsed once)."""
    parser = BpmnParser()
    parser.add_bpmn_file(str(project_dir("processes") / "warning_verification.bpmn"))
    spec = parser.get_spec("warning_verification")
    functions = {**DIAGRAM_FUNCTIONS, "start_case_deadline": lambda *a: True}
    started = time.perf_counter()
    for i in range(samples):
        engine = PythonScriptEngine(environment=TaskDataEnvironment(functions))
        workflow = BpmnWorkflow(spec, script_engine=engine)
        workflow.task_tree.data.update({"warning": {"id": i, "dispatched_on": "2026-09-20"}})
        workflow.do_engine_steps()
    return (time.perf_counter() - started) / samples


def raw_insert_per_case(tmp: str, samples: int) -> float:
    """Seconds per case: a case row and a task row inserted by sqlite3 in one transaction."""
    connection = sqlite3.connect(os.path.join(tmp, "raw.db"))
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, ref TEXT, state BLOB, path TEXT)")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, case_id INT, name TEXT, path TEXT, due TEXT)")
    state = b"x" * 4000
    started = time.perf_counter()
    with connection:
        for i in range(samples):
            cursor = connection.execute("INSERT INTO c (ref, state, path) VALUES (?, ?, ?)",
                                        (f"warning_verification:{i}", state, "/36/3607/360702/"))
            connection.execute("INSERT INTO t (case_id, name, path, due) VALUES (?, ?, ?, ?)",
                               (cursor.lastrowid, "入户核查", "/36/3607/360702/360702101/", "2026-10-23"))
    return (time.perf_counter() - started) / samples


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000 if QUICK else 10000)
    args = parser.parse_args()
    clock = FixedClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(tmp, clock)
        with app.app_context():
            setup(clock)
            villages = list(db.session.scalars(select(Jurisdiction.code).where(
                Jurisdiction.level == "village", Jurisdiction.path.startswith("/36/3607/360702/"))))
            rows = _rows(args.rows, villages)
            started = time.perf_counter()
            batch = import_batch("medical", "2026-Q3", read_json(rows), "api", "zhanggong_yibao", clock)
            imported = time.perf_counter() - started
            compare = db.session.scalar(select(HumanTask).join(Case, Case.id == HumanTask.case_id).where(
                Case.reference == batch_reference(batch, batch.jurisdiction), HumanTask.state == "READY"))
            counter, stop = _counting()
            started = time.perf_counter()
            complete_task(compare.id, {"compared_on": "2026-09-20"}, "zhanggong_xian", clock)
            compared = time.perf_counter() - started
            stop()
            dispatched = db.session.scalar(select(func.count()).select_from(DepartmentWarning)
                                           .filter_by(batch_id=batch.id, status="dispatched"))
            counter2, stop = _counting()
            started = time.perf_counter()
            lines = ledger(db.session.get(Jurisdiction, batch.jurisdiction_id), clock.now(), limit=500)
            read = time.perf_counter() - started
            stop()
        bare, raw = bare_per_case(min(args.rows, 1000)), raw_insert_per_case(tmp, min(args.rows, 1000))
    per_case = compared / max(dispatched, 1)
    print(f"batch of {args.rows} rows to 章贡区: import {imported:.1f} s ({args.rows / imported:,.0f} rows/s, "
          "one transaction)")
    print(f"county comparison, one task: {compared:.1f} s for {dispatched} verification cases opened "
          f"({per_case * 1000:.1f} ms and {counter['n'] / max(dispatched, 1):.1f} SQL statements per case)")
    print(f"  physical limit per case: bare SpiffWorkflow start {bare * 1000:.2f} ms + raw insert "
          f"{raw * 1000:.3f} ms = {(bare + raw) * 1000:.2f} ms; ratio {per_case / (bare + raw):.1f}×")
    print(f"ledger page of {len(lines)} warnings: {read * 1000:.0f} ms, {counter2['n']} SQL statements "
          "(set-based: not one per warning)")


if __name__ == "__main__":
    main()
