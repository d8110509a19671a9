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
