"""Waking many cases in several processes (并行唤醒): when more cases are due at once than one process wakes in
a moment — every monthly revisit of a county due the same night, or the timers that fell due while the system was
down — the scheduler shares them out among helper processes of its own, one per core, each waking its part in
bounded batches in transactions of its own (:func:`engine.cases.lifecycle.wake_cases`).

Each case goes to exactly one process, so no case is woken twice; a part that fails (its process died) leaves
its cases due, and the next sweep wakes them. The helpers are started once, by ``spawn`` (a fresh interpreter:
nothing of the scheduler's threads or database connections is inherited), build the same engine application
from the same environment and configuration, and stop with the scheduler.

A helper also stops by itself when the scheduler dies without stopping them (kill -9, the OOM killer): a thread of
the helper watches for its parent to be gone — the pipe it was started through closed, or the helper handed to
another parent — and ends the helper within :data:`PARENT_CHECK_SECONDS` (at once on the closed pipe), so no
idle helper outlives its scheduler. A batch it was waking then is not committed and stays due for the next
scheduler's sweep."""
from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from flask import Flask

from engine.app import create_engine_app, get_clock
from engine.cases.lifecycle import WAKE_BATCH, wake_cases
from engine.core.clock import Clock
from engine.core.config import tune_garbage_collector
from engine.core.logs import configure_server_logging

log = logging.getLogger(__name__)

SHARED_CONFIG = ("SQLALCHEMY_DATABASE_URI", "FANGPIN_LIVE_INSTANCES")  # what a helper's application is built with
_HELPER_APP: Flask | None = None  # in a helper process: its application
PARENT_CHECK_SECONDS = 1.0  # how often a helper looks whether its scheduler is still there


class WakePool:
    """``processes`` processes waking cases: this one and ``processes`` - 1 helpers."""

    def __init__(self, app: Flask, processes: int) -> None:
        self.processes = processes
        self._config = {key: app.config[key] for key in SHARED_CONFIG if key in app.config}
        self._executor: ProcessPoolExecutor | None = None

    def worth_sharing(self, due: int) -> bool:
        """Share out ``due`` cases only if every process gets at least two batches (starting costs a moment)."""
        return self.processes > 1 and due >= 2 * WAKE_BATCH * self.processes

    def wake(self, ids: list[int], clock: Clock, actor: str = "system") -> int:
        """Wake ``ids`` (most overdue first) across the processes, a batch at a time, in due order; the number
        woken. This process wakes a batch whenever the helpers have two batches each in hand, so the work goes
        on while they start and none of them waits for the others at the end."""
        batches = deque(ids[i:i + WAKE_BATCH] for i in range(0, len(ids), WAKE_BATCH))
        shared, handed = _shareable(clock), {}
        woken = 0
        while batches or handed:
            while batches and len(handed) < 2 * (self.processes - 1):
                batch = batches.popleft()
                handed[self._executor_started().submit(_wake_part, batch, shared, actor)] = batch
            if batches:
                woken += wake_cases(batches.popleft(), actor, clock)
            else:
                wait(handed, return_when=FIRST_COMPLETED)
            for future in [f for f in handed if f.done()]:
                woken += self._result(future, handed.pop(future))
        return woken

    def _result(self, future: Future, batch: list[int]) -> int:
        try:
            return future.result()
        except BrokenProcessPool:
            log.error("a wake-up helper process died; its %s cases stay due for the next sweep", len(batch))
            self.close()
        except Exception:
            log.exception("a wake-up helper failed; its %s cases stay due for the next sweep", len(batch))
        return 0

    def _executor_started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(max_workers=self.processes - 1,
                                                 mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_helper,
                                                 initargs=(self._config, logging.getLogger().getEffectiveLevel(),
                                                           os.getpid()))
        return self._executor

    def start(self) -> None:
        """Start the helpers now, in the background (a long-running scheduler: they are ready when a burst comes)."""
        if self.processes > 1:
            for _ in range(self.processes - 1):
                self._executor_started().submit(_ready)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _shareable(clock: Clock) -> Clock | None:
    """The clock, if it can go to another process as it is (the system clock, a file clock, a fixed one); None: the
    helper uses its own application's (the demo clock, kept in the database)."""
    try:
        pickle.dumps(clock)
    except Exception:  # noqa: BLE001 — whatever cannot be pickled is read in the helper instead
        return None
    return clock


def _start_helper(config: dict[str, Any], level: int, parent: int) -> None:
    """A helper process's start: logging as the scheduler's (SpiffWorkflow's step by step log left out), the watch
    on its scheduler (process ``parent``), its application, and the garbage collector tuned as the scheduler's own
    (with Python's defaults, one process woke cases about half as fast)."""
    global _HELPER_APP
    configure_server_logging(level)
    threading.Thread(target=_watch_parent, args=(parent,), name="wake-helper-parent-watch", daemon=True).start()
    _HELPER_APP = create_engine_app(config)
    tune_garbage_collector()


def _watch_parent(parent: int) -> None:
    """Wait for the scheduler ``parent`` to be gone, then end this helper at once (``os._exit``: nothing of a batch
    under way is committed). Gone: the sentinel pipe ``multiprocessing`` started the helper through reads as
    closed (at once), or, checked every :data:`PARENT_CHECK_SECONDS`, the helper's parent is no longer ``parent``
    (it was handed to init or a subreaper) — for where there is no sentinel, or a child the scheduler forked still
    holds the pipe open. ``parent`` is the scheduler's pid as the scheduler read it, so a scheduler that died
    before this thread started is seen too."""
    parent_process = multiprocessing.parent_process()
    sentinel = parent_process.sentinel if parent_process is not None else None
    while os.getppid() == parent:
        if sentinel is None:
            time.sleep(PARENT_CHECK_SECONDS)
        elif multiprocessing.connection.wait([sentinel], timeout=PARENT_CHECK_SECONDS):
            break
    log.warning("wake-up helper %s: its scheduler (process %s) is gone; stopping", os.getpid(), parent)
    os._exit(1)


def _wake_part(ids: list[int], clock: Clock | None, actor: str) -> int:
    assert _HELPER_APP is not None, "the helper's application is built when it starts"
    with _HELPER_APP.app_context():
        return wake_cases(ids, actor, clock if clock is not None else get_clock())



def _ready() -> bool:
    return _HELPER_APP is not None
