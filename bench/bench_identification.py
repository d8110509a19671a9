"""Benchmark: N identification cases end to end through the engine on SQLite, against the same
diagram run in bare SpiffWorkflow in memory.

    .venv/bin/python bench/bench_identification.py --cases 100

Prints cases/s and task completions/s for both, and the ratio (engine time / bare time). The engine
figure includes everything a real completion does: form validation, permission check, loading the
instance state, running, serializing, the task projection, the audit log and the commit.
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.bpmn.runtime import next_wakeup
from engine.cases.functions import CaseContext
from engine.cases.lifecycle import open_identification
from engine.core.clock import FixedClock, install_spiff_clock, using_clock
from engine.core.config import project_dir
from engine.core.transaction import transaction
from engine.demo import create_users, drive_case, sample_form_data
from engine.households.register import register_household
from engine.identification.classification import conclude_assessment
from engine.policy.parameters import load_policy_file
from timers.calendar import to_local_date
from timers.functions import DIAGRAM_FUNCTIONS

log = logging.getLogger("bench")
START = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)


def _household(i: int) -> dict:
    return {"village": "360702101201", "members": [
        {"name": f"户主{i}", "relation_to_head": "户主", "id_number": f"3607021980{i:08d}"}]}


def run_engine(n: int) -> tuple[float, int]:
    clock = FixedClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
                                 "FANGPIN_CLOCK_OBJECT": clock})
        with app.app_context():
            setup_database(clock)
            with transaction():
                load_policy_file(project_dir("policy") / "demo_parameters.json")
                create_users()
            ids = [register_household(_household(i), "bench", clock).id for i in range(n)]
            completions = 0
            started = time.perf_counter()
            for household_id in ids:
                clock.set(START)
                case = open_identification(household_id, "self_application", date(2026, 9, 20), "bench", clock)
                completions += len(drive_case(case.id, clock))
            return time.perf_counter() - started, completions


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
    """The same diagram in bare SpiffWorkflow: parsed once, plain script engine, no persistence."""
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


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100)
    n = parser.parse_args().cases
    engine_s, engine_tasks = run_engine(n)
    bare_s, bare_tasks = run_bare(n)
    print(f"cases: {n}; task completions per case: engine {engine_tasks / n:.0f}, bare {bare_tasks / n:.0f}")
    print(f"engine on SQLite:          {n / engine_s:8.1f} cases/s  {engine_tasks / engine_s:8.1f} completions/s"
          f"  ({engine_s:.2f} s)")
    print(f"bare SpiffWorkflow in RAM: {n / bare_s:8.1f} cases/s  {bare_tasks / bare_s:8.1f} completions/s"
          f"  ({bare_s:.2f} s)")
    print(f"ratio engine/bare: {engine_s / bare_s:.1f}×")


if __name__ == "__main__":
    main()
