"""Officials submitting at the same moment: two completing the same task (both load the same case version first),
several opening a case for the same household (all read it before any takes its row)."""
from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from engine.cases import lifecycle, runs
from engine.cases.lifecycle import complete_task
from engine.core.db import db
from engine.core.errors import ConflictError, RuleViolation


def _together(monkeypatch, module, name: str, n: int) -> None:
    """``module.name`` waits until ``n`` threads have called it, then each goes on."""
    barrier = threading.Barrier(n, timeout=10)
    real = getattr(module, name)

    def together(*args):
        barrier.wait()  # every official has got this far
        return real(*args)

    monkeypatch.setattr(module, name, together)


def _at_once(app: Flask, n: int, call: Callable[[], object], refused: type[Exception], word: str) -> list[str]:
    """``call()`` in ``n`` threads, each in its own session: ``"ok"``, ``"<word>: …"`` or ``"error: …"`` each, in
    finishing order."""
    results: list[str] = []

    def submit() -> None:
        with app.app_context():
            try:
                call()
                results.append("ok")
            except refused as exc:
                results.append(f"{word}: {exc}")
            except Exception as exc:  # noqa: BLE001 - reported to the caller's assertion
                results.append(f"error: {type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a submission hung"
    return results


def complete_twice_at_once(app: Flask, monkeypatch, task_id: int, data: dict, user: str, clock) -> list[str]:
    """Both submissions have loaded the same version of the case; returns ``["ok", "conflict: …"]``."""
    _together(monkeypatch, runs, "advance", 2)
    return _at_once(app, 2, lambda: complete_task(task_id, data, user, clock), ConflictError, "conflict")


def open_at_once(app: Flask, monkeypatch, opener: Callable[[], object], n: int = 3) -> list[str]:
    """``n`` officials opening a case for the same household, all having read the household before any takes its
    row (engine.households.register.lock_household); returns ``"ok"`` or ``"refused: …"`` for each."""
    _together(monkeypatch, lifecycle, "lock_household", n)
    return _at_once(app, n, opener, RuleViolation, "refused")
