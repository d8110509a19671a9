"""Shared pieces of the benchmarks: the application on a fresh SQLite file, the demo policy and logins, a
case waiting on its publicity timer and its copies, a clock offset from real time, generated ID numbers, the scheduler catch-up,
and the identification diagram run in bare SpiffWorkflow (no persistence) for comparison.

Not a benchmark itself: the scripts beside it (``bench_*.py``) import it as ``common``.
"""
from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, insert, select

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.bpmn.runtime import next_wakeup
from engine.cases.functions import CaseContext
from engine.cases.lifecycle import open_identification
from engine.core.clock import Clock, FixedClock, install_spiff_clock, using_clock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import AuditEvent, Case, CaseDeadline
from engine.core.transaction import transaction
from engine.demo import create_users, drive_case, sample_form_data
from engine.households.register import register_household
from engine.identification.classification import conclude_assessment
from engine.policy.parameters import load_policy_file
from timers.calendar import to_local_date
from timers.functions import DIAGRAM_FUNCTIONS
from timers.scheduler import TimerScheduler

log = logging.getLogger("bench")

START = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)
WAIT_STEP = "张贴村级公示"  # after this step an identification waits on its village publicity timer


class OffsetClock:
    """Real time shifted by an offset (so a far-away due time can arrive in seconds)."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def id_number(i: int, born: date = date(1980, 1, 1)) -> str:
    """The ID number of the ``i``-th generated person of 章贡区 (GB 11643, with its check character): born ``born``
    plus a day for every thousand before it, sequence ``i % 1000``. Generators whose people share a database
    start from different days."""
    birthday = born + timedelta(days=i // 1000)
    return with_check_character(f"360702{birthday:%Y%m%d}{i % 1000:03d}")


def household_data(i: int) -> dict[str, Any]:
    """A one-person household in 沙河村, with an ID number unique to ``i``."""
    return {"village": "360702101201", "members": [
        {"name": f"户主{i}", "relation_to_head": "户主", "id_number": id_number(i)}]}


def make_app(tmp: str, clock: Clock, name: str = "bench.db") -> Flask:
    """The engine application on a fresh SQLite file in ``tmp``, with ``clock`` as its clock."""
    return create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / name}",
                              "FANGPIN_CLOCK_OBJECT": clock})


def setup(clock: Clock) -> None:
    """Schema, reference data, the demo policy and the demo logins (inside an app context)."""
    setup_database(clock)
    with transaction():
        load_policy_file(project_dir("policy") / "demo_parameters.json")
        create_users()


def waiting_case(clock: FixedClock, i: int = 0) -> Case:
    """A new identification driven up to its village publicity: it waits on the publicity timer."""
    household = register_household(household_data(i), "bench", clock)
    case = open_identification(household.id, "self_application", date(2026, 9, 20), "bench", clock)
    drive_case(case.id, clock, until=WAIT_STEP)
    return db.session.get(Case, case.id)


def copy_case(template: Case, copies: int, chunk: int = 5000) -> list[int]:
    """Insert ``copies`` rows identical to ``template`` (same workflow state, so the same timer and due
    time), with their case and timer deadlines; return the new case ids. The template has no ready task
    while it waits, so no task rows are copied."""
    columns = {c.key: getattr(template, c.key) for c in Case.__table__.columns if c.key not in ("id", "number")}
    for start in range(0, copies, chunk):
        db.session.execute(insert(Case), [{**columns, "number": f"BENCH-{i}"}
                                          for i in range(start, min(copies, start + chunk))])
    ids = list(db.session.scalars(select(Case.id).where(Case.number.like("BENCH-%")).order_by(Case.id)))
    deadlines = db.session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == template.id,
                                                              CaseDeadline.task_id.is_(None))).all()
    skip = {"id", "case_id"}
    rows = [{c.key: getattr(d, c.key) for c in CaseDeadline.__table__.columns if c.key not in skip}
            for d in deadlines]
    if rows:
        per_chunk = max(1, chunk // len(rows))
        for start in range(0, len(ids), per_chunk):
            db.session.execute(insert(CaseDeadline), [{**row, "case_id": case_id}
                                                      for case_id in ids[start:start + per_chunk] for row in rows])
    db.session.commit()
    return ids


def woken_counts() -> dict[int, int]:
    """How many ``timers_fired`` audit events each case has."""
    rows = db.session.execute(select(AuditEvent.case_id, func.count()).where(AuditEvent.action == "timers_fired")
                              .group_by(AuditEvent.case_id)).all()
    return {case_id: count for case_id, count in rows}


@dataclass(frozen=True)
class CatchUp:
    timers: int
    seconds: float  # time inside TimerScheduler.tick() only
    ticks: int
    cases_woken: int  # cases with at least one timers_fired audit event
    left_due: int  # running cases still due when the loop ended (0 unless the scheduler got stuck)


def waiting_copies(tmp: str, clock: FixedClock, n: int, name: str) -> tuple[Flask, datetime, set[int]]:
    """A fresh database in ``tmp`` with ``n`` cases waiting on the same publicity timer: the app, the due time and
    the case ids."""
    app = make_app(tmp, clock, name)
    with app.app_context():
        setup(clock)
        template = waiting_case(clock)
        return app, template.next_wakeup_at, {template.id, *copy_case(template, n - 1)}


def catch_up(n: int, owner: str = "bench", processes: int = 1) -> CatchUp:
    """One case waiting on its publicity timer copied into ``n`` - 1 more rows; the clock set past the due
    time (as if the system had been down); scheduler sweeps, with ``processes`` waking processes, until no running
    case is due. The helper processes are started inside the time measured."""
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(START)
        app, due, _ = waiting_copies(tmp, clock, n, "timers.db")
        clock.set(due + timedelta(hours=1))
        scheduler = TimerScheduler(app, owner=owner, processes=processes)
        seconds, ticks, idle, left = 0.0, 0, 0, n
        try:
            while left and idle < 2:  # a sweep may work in bounded batches: sweep until nothing is due
                started = time.perf_counter()
                woken = scheduler.tick()
                seconds += time.perf_counter() - started
                ticks += 1
                idle = idle + 1 if woken == 0 else 0
                with app.app_context():
                    left = db.session.scalar(select(func.count()).select_from(Case).where(
                        Case.status == "running", Case.next_wakeup_at <= clock.now()))
        finally:
            scheduler.pool.close()
        if left:
            log.error("catch-up stopped after %s ticks with %s cases still due", ticks, left)
        with app.app_context():
            cases_woken = len(woken_counts())
            db.session.remove()
            db.engine.dispose()
    return CatchUp(n, seconds, ticks, cases_woken, left)


# -- the same diagram in bare SpiffWorkflow -------------------------------------------------------


def _bare_functions(clock: FixedClock) -> dict:
    def assess_household(income, risk_types, exclusions=None, guarantees=None):
        return {"excluded": False, "guarantee_problem": False, "has_risk": True, "net_income_per_capita": 5000.0,
                "income_reference_per_capita": 5000.0, "monitoring_line": 7800.0, "formerly_poor": True,
                "income_text": "bench", "exclusions_text": "", "guarantee_text": ""}

    names = CaseContext(None, "bench", clock).functions()  # the same names the engine offers diagrams
    stubs = {name: (lambda *a, **k: True) for name in names if name not in DIAGRAM_FUNCTIONS}
    return {**stubs, **DIAGRAM_FUNCTIONS, "assess_household": assess_household, "today": lambda: "2026-09-20",
            "category_name": lambda code: code, "conclude_assessment": conclude_assessment}


def run_bare(n: int) -> tuple[float, int]:
    """The identification diagram in bare SpiffWorkflow: parsed once, plain script engine, no persistence.
    Returns (seconds for the ``n`` cases, task completions)."""
    install_spiff_clock()
    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(p) for p in project_dir("processes").glob("*.bpmn")])
    parser.add_dmn_files([str(p) for p in project_dir("processes").glob("*.dmn")])
    spec, subprocesses = parser.get_spec("identification"), parser.get_subprocess_specs("identification")
    clock = FixedClock(START)
    policy = {"village_publicity_days": 5, "limit_days": 15, "system_entry_days": 10, "assistance_plan_days": 10}
    completions = 0
    started = time.perf_counter()
    for _ in range(n):
        clock.set(START)
        engine = PythonScriptEngine(environment=TaskDataEnvironment(_bare_functions(clock)))
        workflow = BpmnWorkflow(spec, subprocesses, script_engine=engine)
        workflow.task_tree.data.update({"policy": policy, "lead_date": "2026-09-20", "application": {},
                                        "household": {"enjoys_poverty_policy": False}})
        with using_clock(clock):
            workflow.do_engine_steps()
            while not workflow.is_completed():
                ready = workflow.get_tasks(state=TaskState.READY, manual=True)
                if ready:
                    task = ready[0]
                    form = task.task_spec.extensions["properties"]["formJsonSchemaFilename"]
                    task.set_data(**sample_form_data(form, to_local_date(clock.now())))
                    task.run()
                    completions += 1
                else:
                    clock.set(next_wakeup(workflow) + timedelta(seconds=1))
                    workflow.refresh_timers()
                workflow.do_engine_steps()
    return time.perf_counter() - started, completions


def latency(samples: int) -> list[float]:
    """Seconds from due to fired of ``samples`` single timers, each the only one due, fired by the real scheduler
    (sweep + exact wake-up) running in this process on a clock offset so that the due time comes in ~3 s."""
    delays = []
    with tempfile.TemporaryDirectory() as tmp:
        setup_clock = FixedClock(START)
        app = make_app(tmp, setup_clock, "timers.db")
        with app.app_context():
            setup(setup_clock)
            cases = [waiting_case(setup_clock, i) for i in range(samples)]
            dues = {c.id: c.next_wakeup_at for c in cases}
        for i, (case_id, due) in enumerate(dues.items()):
            clock = OffsetClock(due - datetime.now(UTC) - timedelta(seconds=3))
            app.extensions["fangpin.clock"] = clock
            scheduler = TimerScheduler(app, sweep_seconds=30, owner=f"bench-{i}").start()
            deadline = time.monotonic() + 40
            fired_at = None
            while time.monotonic() < deadline and fired_at is None:
                time.sleep(0.05)
                with app.app_context():
                    fired_at = db.session.scalar(select(AuditEvent.at).filter_by(case_id=case_id, action="timers_fired"))
            scheduler.stop()
            delays.append((fired_at - due).total_seconds() if fired_at else float("inf"))
    return delays
