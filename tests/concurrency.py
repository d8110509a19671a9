"""Two officials submitting the same task at the same moment (both load the same case version first)."""
from __future__ import annotations

import threading

from flask import Flask

from engine.cases import runs
from engine.cases.lifecycle import complete_task
from engine.core.db import db
from engine.core.errors import ConflictError


def complete_twice_at_once(app: Flask, monkeypatch, task_id: int, data: dict, user: str, clock) -> list[str]:
    """Both submissions run in their own session; returns ``["ok", "conflict: …"]`` in finishing order."""
    barrier = threading.Barrier(2, timeout=10)
    real_advance = runs.advance

    def advance_together(workflow, clk):
        barrier.wait()  # both officials have loaded the same version of the case
        return real_advance(workflow, clk)

    monkeypatch.setattr(runs, "advance", advance_together)
    results: list[str] = []

    def submit() -> None:
        with app.app_context():
            try:
                complete_task(task_id, data, user, clock)
                results.append("ok")
            except ConflictError as exc:
                results.append(f"conflict: {exc}")
            except Exception as exc:  # noqa: BLE001 - reported to the caller's assertion
                results.append(f"error: {type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a submission hung"
    return results


def open_at_once(app: Flask, monkeypatch, opener, n: int = 3) -> list[str]:
    """``n`` officials opening a case for the same household at the same moment: each calls ``opener()`` in its
    own session, all of them having read the household before any takes its row (engine.households.register
    .lock_household). Returns ``"ok"`` or ``"refused: …"`` for each, in finishing order."""
    from engine.cases import lifecycle
    from engine.core.errors import RuleViolation

    barrier = threading.Barrier(n, timeout=10)
    real_lock = lifecycle.lock_household

    def lock_together(household):
        barrier.wait()  # every official has read the household and is about to check what it may open
        return real_lock(household)

    monkeypatch.setattr(lifecycle, "lock_household", lock_together)
    results: list[str] = []

    def submit() -> None:
        with app.app_context():
            try:
                opener()
                results.append("ok")
            except RuleViolation as exc:
                results.append(f"refused: {exc}")
            except Exception as exc:  # noqa: BLE001 - reported to the caller's assertion
                results.append(f"error: {type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "an official's request hung"
    return results
