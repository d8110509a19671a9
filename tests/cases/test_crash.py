"""A process killed (kill -9) while it completes tasks leaves every case loadable, with its task list matching its
workflow, and every completion it had reported committed is there (SQLite in WAL mode, synchronous=FULL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.bpmn.runtime import ready_human_tasks
from engine.cases.functions import CaseContext, case_workflow
from engine.core.config import REPO_ROOT
from engine.core.db import db
from engine.core.models import Case, HumanTask
from tests.factories import open_case

WORKER = textwrap.dedent('''
    import sys
    from datetime import UTC, datetime
    from sqlalchemy import select
    from engine.app import create_engine_app
    from engine.cases.lifecycle import complete_task, wake_due
    from engine.core.clock import FixedClock
    from engine.core.db import db
    from engine.core.models import Case, HumanTask
    from engine.demo import official_for, sample_form_data
    from timers.calendar import to_local_date

    clock = FixedClock(datetime.fromisoformat(sys.argv[2]))
    app = create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{sys.argv[1]}", "FANGPIN_CLOCK_OBJECT": clock})
    with app.app_context():
        while True:
            db.session.remove()
            row = db.session.scalar(select(HumanTask).filter_by(state="READY").order_by(HumanTask.id))
            if row is None:
                due = db.session.scalar(select(Case.next_wakeup_at).where(Case.status == "running")
                                        .order_by(Case.next_wakeup_at))
                if due is None:
                    break
                clock.set(max(clock.now(), due))
                wake_due(clock.now(), clock)
                continue
            data = sample_form_data(row.form, to_local_date(clock.now()), row.case)
            task_id, user = row.id, official_for(row.role, row.case).username
            complete_task(task_id, data, user, clock)
            print("committed", task_id, flush=True)
    print("finished", flush=True)
''')


def _kill_after(db_path: Path, clock, completions: int) -> list[int]:
    """Run the worker, kill -9 it after it reported ``completions`` committed completions; their task ids."""
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(db_path), clock.now().isoformat()],
                              cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    committed = []
    try:
        for line in worker.stdout:
            if line.startswith("committed"):
                committed.append(int(line.split()[1]))
            if len(committed) == completions or line.startswith("finished"):
                break
        os.kill(worker.pid, signal.SIGKILL)  # while it is in its next completion
    finally:
        worker.wait()
        worker.stdout.close()
    return committed


def _check_every_case(committed: list[int], clock) -> None:
    db.session.remove()
    done = {t.id: t.state for t in db.session.scalars(select(HumanTask).where(HumanTask.id.in_(committed)))}
    assert done == dict.fromkeys(committed, "COMPLETED")
    for case in db.session.scalars(select(Case)):
        workflow = case_workflow(case, CaseContext(case, "t", clock).script_engine())
        ready = {str(t.id) for t in ready_human_tasks(workflow)}
        rows = set(db.session.scalars(select(HumanTask.task_uuid).filter_by(case_id=case.id, state="READY")))
        assert rows == ready, case.number


@pytest.mark.slow
def test_killed_while_completing_every_case_loads_and_its_tasks_match_its_workflow(app, clock, db_path):
    for i in range(4):
        open_case(clock, head=f"户主{i}")
    db.session.remove()
    committed: list[int] = []
    for completions in (3, 5, 7):  # three crashes, each in a later step
        committed += _kill_after(db_path, clock, completions)
        _check_every_case(committed, clock)
    assert len(committed) == 15
