"""The timer scheduler wakes due cases from one place at a time: a burst of timers due at the same instant wakes
each case exactly once, even with the sweep and the exact wake-up running at the same moment; a case that
cannot be woken does not cost the others theirs; how late each timer fired is recorded."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from engine.cases.lifecycle import wake_due
from engine.core.db import db
from engine.core.models import AuditEvent, Case, CaseDeadline
from engine.demo import drive_case
from tests.factories import open_case
from timers.scheduler import TimerScheduler, acquire_lease

PUBLICITY_POSTED = "张贴村级公示"


def _waiting_cases(clock, n: int) -> list[int]:
    """``n`` cases waiting for the end of their village publicity, all due at the same instant."""
    ids = []
    for i in range(n):
        case = open_case(clock, head=f"户主{i}")
        drive_case(case.id, clock, until=PUBLICITY_POSTED)
        ids.append(case.id)
    return ids


def _wake_ups(case_ids: list[int]) -> dict[int, list[list]]:
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "timers_fired",
                                                         AuditEvent.case_id.in_(case_ids)))
    found: dict[int, list[list]] = {case_id: [] for case_id in case_ids}
    for event in events:
        found[event.case_id].append(event.detail["timers"])
    return found


def test_a_burst_of_due_timers_wakes_each_case_once_with_the_sweep_and_the_exact_wake_up_at_once(app, clock):
    case_ids = _waiting_cases(clock, 12)
    due = db.session.scalar(select(func.max(Case.next_wakeup_at)).where(Case.id.in_(case_ids)))
    assert due == db.session.scalar(select(func.min(Case.next_wakeup_at)).where(Case.id.in_(case_ids)))
    clock.set(due + timedelta(seconds=1))
    scheduler = TimerScheduler(app, owner="test")
    assert acquire_lease(scheduler.owner, scheduler.ttl)
    scheduler.leader = True
    db.session.commit()
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in
               (scheduler.tick, scheduler._wake_exact, scheduler.tick, scheduler._wake_exact)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    woken = _wake_ups(case_ids)
    assert all(len(fired) == 1 and len(fired[0]) == 1 for fired in woken.values()), woken
    assert wake_due(clock.now(), clock) == 0  # nothing left due, and no empty wake-up written
    assert all(len(fired) == 1 for fired in _wake_ups(case_ids).values())


def test_a_case_that_cannot_be_woken_does_not_cost_the_others_their_wake_up(app, clock):
    case_ids = _waiting_cases(clock, 3)
    broken = case_ids[1]
    db.session.execute(update(Case).where(Case.id == broken).values(state=b"not a workflow"))
    db.session.commit()
    due = db.session.get(Case, broken).next_wakeup_at
    clock.set(due + timedelta(minutes=5))
    assert wake_due(clock.now(), clock) == 2
    woken = _wake_ups(case_ids)
    assert [len(woken[c]) for c in case_ids] == [1, 0, 1]
    assert db.session.get(Case, broken).next_wakeup_at == due  # still due: the next sweep tries again


def test_how_late_each_timer_fired_is_recorded(app, clock):
    (case_id,) = _waiting_cases(clock, 1)
    due = db.session.get(Case, case_id).next_wakeup_at
    clock.set(due + timedelta(seconds=90))
    assert wake_due(clock.now(), clock) == 1
    deadline = db.session.scalar(select(CaseDeadline).filter_by(case_id=case_id, subject="timer", due_at=due))
    assert deadline.fired_at - deadline.due_at == timedelta(seconds=90)
    (fired,) = _wake_ups([case_id])[case_id]
    assert fired[0]["late_ms"] == 90_000


@pytest.mark.slow
def test_many_due_cases_are_shared_out_among_the_waking_processes_and_each_is_woken_once(app, clock, monkeypatch):
    from timers import wake_pool

    case_ids = _waiting_cases(clock, 12)
    due = db.session.scalar(select(func.max(Case.next_wakeup_at)).where(Case.id.in_(case_ids)))
    clock.set(due + timedelta(seconds=1))
    monkeypatch.setattr(wake_pool, "WAKE_BATCH", 2)  # batches of two: twelve cases are worth sharing out
    from_helper: list[int] = []
    real_result = wake_pool.WakePool._result
    monkeypatch.setattr(wake_pool.WakePool, "_result",
                        lambda self, future, batch: from_helper.append(real_result(self, future, batch)) or
                        from_helper[-1])
    scheduler = TimerScheduler(app, owner="test", processes=2)
    try:
        assert scheduler.tick() == 12
    finally:
        scheduler.pool.close()
    assert sum(from_helper) > 0  # the helper process woke some of them
    woken = _wake_ups(case_ids)
    assert all(len(fired) == 1 and len(fired[0]) == 1 for fired in woken.values()), woken
    assert wake_due(clock.now(), clock) == 0


def test_the_log_says_which_scheduler_is_active_when_that_changes(app, caplog):
    """Two machines, one lease: each scheduler logs at INFO when it becomes the active one or the standby."""
    import logging

    first, second = TimerScheduler(app, owner="甲"), TimerScheduler(app, owner="乙")
    try:
        with caplog.at_level(logging.INFO, logger="timers.scheduler"):
            first.tick(), second.tick(), first.tick(), second.tick()
        said = [r.getMessage() for r in caplog.records if r.name == "timers.scheduler" and "lease" in r.getMessage()]
        assert said == ["scheduler 甲 holds the lease: it fires the timers (active)",
                        "scheduler 乙 does not hold the lease: another scheduler fires the timers (standby)"]
    finally:
        first.pool.close(), second.pool.close()


def test_a_sweep_while_the_database_is_down_is_one_line_in_the_log(app, caplog, monkeypatch):
    """(It was a 35-line traceback every 30 s from APScheduler, until the database came back.)"""
    import logging

    from sqlalchemy.exc import OperationalError

    from timers import scheduler as module

    def down(*args):
        raise OperationalError("SELECT", {}, Exception("connection to server at \"db\" failed: Connection refused"))

    monkeypatch.setattr(module, "acquire_lease", down)
    sweeper = TimerScheduler(app, owner="甲")
    try:
        with caplog.at_level(logging.INFO, logger="timers.scheduler"):
            sweeper._sweep()
        [said] = [r for r in caplog.records if r.name == "timers.scheduler"]
        assert said.levelno == logging.ERROR and said.exc_info is None
        assert said.getMessage() == ('database unavailable, sweep skipped (the next one tries again): connection to '
                                     'server at "db" failed: Connection refused')
    finally:
        sweeper.pool.close()
