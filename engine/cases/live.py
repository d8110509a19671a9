"""Live workflow instances (运行中的流程实例): a per-process cache of the SpiffWorkflow instances of cases, so that
completing a task does not rebuild from its stored state the instance the previous step has just written.

An instance is kept after its transaction commits, under the case id together with the case's lock version,
process version and stored state; it is handed out once (taken, not shared) and only while all three still
match the case row — any change by another process or request bumps the lock version and the instance is
rebuilt from the stored state. An instance whose transaction rolls back is never kept. The cache holds at
most ``FANGPIN_LIVE_INSTANCES`` instances (least recently used go first); 0 turns it off."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app
from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from engine.core.db import db, forget_when_the_transaction_ends
from engine.core.models import Case

CACHE_KEY = "fangpin.live_instances"
SIZE_SETTING = "FANGPIN_LIVE_INSTANCES"
DEFAULT_SIZE = 2000  # instances; a finished identification takes about 150 KB in memory
_PENDING = "fangpin.live_pending"  # session.info: instances to keep when the transaction commits


@dataclass(frozen=True)
class _Entry:
    version_id: int
    lock_version: int
    state: bytes
    workflow: BpmnWorkflow


class LiveInstances:
    """The cache of one application (thread-safe; an instance is handed to one caller at a time)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, case: Case) -> BpmnWorkflow | None:
        """The kept instance of ``case`` if it is exactly the case's stored state, removed from the cache."""
        with self._lock:
            entry = self._entries.pop(case.id, None)
            fresh = entry is not None and (entry.lock_version, entry.version_id) == (
                case.lock_version, case.process_version_id) and entry.state == case.state
            if fresh:
                self.hits += 1
            else:
                self.misses += 1
        return entry.workflow if fresh else None

    def put(self, case_id: int, entry: _Entry) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._entries[case_id] = entry
            self._entries.move_to_end(case_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def keep_unless_newer(self, case: Case, workflow: BpmnWorkflow) -> None:
        """Keep ``workflow``, read (not run) from ``case`` as it is stored now, unless the cache already holds an
        instance of that case (one a run kept meanwhile is at least as new)."""
        if self.size <= 0:
            return
        with self._lock:
            if case.id in self._entries:
                return
        self.put(case.id, _Entry(case.process_version_id, case.lock_version, case.state, workflow))

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def live_instances() -> LiveInstances:
    """The current application's cache."""
    cache = current_app.extensions.get(CACHE_KEY)
    if cache is None:
        cache = current_app.extensions.setdefault(
            CACHE_KEY, LiveInstances(int(current_app.config.get(SIZE_SETTING, DEFAULT_SIZE))))
    return cache


def keep_after_commit(case: Case, workflow: BpmnWorkflow) -> None:
    """Keep ``workflow`` (just saved into ``case``) once the current transaction commits."""
    pending = db.session.info.setdefault(_PENDING, {})
    pending[case.id] = (live_instances(), case, workflow)


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    for cache, case, workflow in session.info.pop(_PENDING, {}).values():
        values = inspect(case).dict  # read without loading: the row is about to be expired
        if "lock_version" in values and "state" in values:
            cache.put(case.id, _Entry(values["process_version_id"], values["lock_version"], values["state"],
                                      workflow))


forget_when_the_transaction_ends(_PENDING)
