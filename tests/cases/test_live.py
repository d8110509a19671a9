"""Live workflow instances: a completion takes the instance the previous step kept instead of rebuilding it, and
the result is exactly what rebuilding from the stored state gives; a changed case or a rolled-back transaction
never hands out a stale instance; a completion writes once."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select, update

from engine.bpmn.runtime import state_document
from engine.cases import lifecycle
from engine.cases.lifecycle import complete_task
from engine.cases.live import live_instances
from engine.core.db import db
from engine.core.models import Case, HumanTask
from engine.demo import drive_case, sample_form_data
from tests.factories import open_case, ready_row
from timers.calendar import to_local_date

VERIFIER = "shahe_zhen"  # 入户核实 is the township's


def _comparable(case_id: int) -> tuple:
    """What a case is, without the ids and moments that differ between two runs."""
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    document = state_document(case.state)
    steps = [(t.name, t.state, t.form_data) for t in db.session.scalars(
        select(HumanTask).filter_by(case_id=case_id).order_by(HumanTask.id))]
    data = {k: v for k, v in document["data"].items() if k not in ("case", "household")}
    return case.status, case.outcome, case.next_wakeup_at, steps, data, len(document["tasks"])


def test_a_case_run_on_live_instances_ends_exactly_as_one_rebuilt_from_storage_at_every_step(app, clock):
    cache = live_instances()
    live = open_case(clock, head="甲")
    drive_case(live.id, clock)
    assert cache.hits >= 8  # every completion after the first took the instance the step before kept

    cache.size = 0  # nothing kept: every step rebuilds its instance from the stored state
    cache.clear()
    hits = cache.hits
    clock.set(clock.now().replace(year=2026, month=9, day=20, hour=1))
    rebuilt = open_case(clock, head="乙")
    drive_case(rebuilt.id, clock)
    assert cache.hits == hits
    assert _comparable(live.id) == _comparable(rebuilt.id)
    assert _comparable(live.id)[:2] == ("completed", "identified")


def test_an_instance_is_not_used_once_another_process_changed_the_case(app, clock):
    case = open_case(clock)
    complete_task(ready_row(case).id, sample_form_data("identification_apply.json", to_local_date(clock.now())),
                  "shahe_cun", clock)
    assert len(live_instances()) == 1
    db.session.execute(update(Case).where(Case.id == case.id).values(lock_version=Case.lock_version + 1))
    db.session.commit()
    misses = live_instances().misses
    complete_task(ready_row(case).id, sample_form_data("household_verification.json", to_local_date(clock.now()), case),
                  VERIFIER, clock)
    assert live_instances().misses == misses + 1
    assert ready_row(case).name == "民主评议"


def test_a_completion_that_rolls_back_keeps_no_instance_and_the_next_one_starts_from_storage(app, clock, monkeypatch):
    case = open_case(clock)
    first = ready_row(case)
    data = sample_form_data("identification_apply.json", to_local_date(clock.now()))
    real = lifecycle.sync_tasks

    def failing(run, now):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(lifecycle, "sync_tasks", failing)
    with pytest.raises(RuntimeError):
        complete_task(first.id, data, "shahe_cun", clock)
    assert len(live_instances()) == 0  # the instance the failed step ran on is gone with its transaction
    monkeypatch.setattr(lifecycle, "sync_tasks", real)
    db.session.expire_all()
    assert ready_row(case).id == first.id
    complete_task(first.id, data, "shahe_cun", clock)
    assert ready_row(case).name == "入户核实"
    assert [t.state for t in db.session.scalars(select(HumanTask).filter_by(case_id=case.id))] == ["COMPLETED",
                                                                                                   "READY"]


def test_a_completion_reads_once_and_writes_each_kind_of_row_in_one_statement(app, clock):
    case = open_case(clock)
    for form, official in (("identification_apply.json", "shahe_cun"), ("household_verification.json", VERIFIER)):
        complete_task(ready_row(case).id, sample_form_data(form, to_local_date(clock.now()), case), official, clock)
    task_id = ready_row(case).id  # 民主评议: a step that changes nothing but the case
    db.session.remove()  # a new request: nothing in the session
    statements, flushes = [], []
    listen = (db.engine, "before_cursor_execute", lambda *args: statements.append(" ".join(args[2].split()[:3])))
    event.listen(*listen)
    event.listen(db.session, "after_flush", lambda *args: flushes.append(1))
    try:
        complete_task(task_id, sample_form_data("democratic_appraisal.json", to_local_date(clock.now())),
                      "shahe_cun2", clock)  # not the case's opener: no separation-of-duties rule to read
    finally:
        event.remove(*listen)
    assert flushes == []  # nothing left for the unit of work: the rows are written directly
    assert len(statements) <= 6, statements
    assert sorted(statements) == sorted(["SELECT human_task.id, human_task.case_id,", "UPDATE human_task SET",
                                         "INSERT INTO human_task", "INSERT INTO case_deadline",
                                         "INSERT INTO audit_event", 'UPDATE "case" SET']), statements
    assert [s for s in statements if s.startswith("SELECT")] == ["SELECT human_task.id, human_task.case_id,"]


def test_how_many_instances_a_process_keeps_is_configured(monkeypatch, tmp_path, clock):
    from tests.conftest import make_app, prepare_database

    monkeypatch.setenv("FANGPIN_LIVE_INSTANCES", "zwei")
    with pytest.raises(SystemExit, match="FANGPIN_LIVE_INSTANCES 应为不小于 0 的整数"):
        make_app(tmp_path / "a.db", clock)
    monkeypatch.setenv("FANGPIN_LIVE_INSTANCES", "0")
    with make_app(tmp_path / "b.db", clock).app_context():
        prepare_database(clock)
        case = open_case(clock)
        complete_task(ready_row(case).id, sample_form_data("identification_apply.json", to_local_date(clock.now())),
                      "shahe_cun", clock)
        assert len(live_instances()) == 0 and live_instances().hits == 0
        db.session.remove()


def test_the_instance_a_task_page_read_is_the_one_the_completion_after_it_runs_on(app, clock):
    from engine.cases.decision_view import decision_view

    case = open_case(clock)
    cache = live_instances()
    cache.clear()
    row = ready_row(case)
    decision_view(row, clock)  # the page: the instance rebuilt from storage, read, and kept
    assert len(cache) == 1
    hits = cache.hits
    db.session.remove()  # the completion is another request
    complete_task(row.id, sample_form_data("identification_apply.json", to_local_date(clock.now())), "shahe_cun",
                  clock)
    assert cache.hits == hits + 1
    assert ready_row(case).name == "入户核实"


def test_a_page_read_never_replaces_the_instance_a_run_kept_meanwhile(app, clock):
    from engine.cases.runs import viewed_workflow

    case = open_case(clock)
    cache = live_instances()
    cache.clear()
    with viewed_workflow(db.session.get(Case, case.id), clock) as read:
        db.session.remove()
        complete_task(ready_row(case).id, sample_form_data("identification_apply.json", to_local_date(clock.now())),
                      "shahe_cun", clock)  # rebuilt (the page holds the kept one), run and kept
        kept = cache._entries[case.id].workflow
    assert cache._entries[case.id].workflow is kept is not read
