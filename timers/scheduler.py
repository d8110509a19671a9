"""The timer scheduler (定时器调度): fires BPMN timers and marks overdue work.

The application database is the source of truth: ``case.next_wakeup_at`` (indexed) says when each case
must wake, and task and case due dates say what becomes overdue. A periodic sweep wakes everything due
— so whatever fell due while the system was down fires on the first sweep after start, once — and one
APScheduler date job wakes, at its exact time, whatever falls due before the next sweep (it is moved to the
next due moment each time). The sweep and that job wake cases from one place at a time (a lock), so a case
is never woken by both at once; many due cases are woken in bounded rounds, the lease renewed before each.
Only the process holding the database lease acts; another scheduler started against the same database waits
and takes over when the lease expires.
"""
from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from flask import Flask
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from engine.app import DemoClock, get_clock
from engine.cases.lifecycle import due_cases, wake_cases
from engine.core.db import db
from engine.core.models import Case, SchedulerLease
from engine.supervision.overdue import mark_overdue
from timers.wake_pool import WakePool

log = logging.getLogger(__name__)

LEASE = "timers"
ROUND = 1000  # cases woken by each waking process between two renewals of the lease (a few seconds of work)
EXACT_JOB = "exact"


def _real_now() -> datetime:
    """Leases are about processes being alive: always real time, never the demo clock."""
    return datetime.now(UTC)


def acquire_lease(owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the scheduler lease; False if another live process holds it."""
    now = now or _real_now()
    taken = db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE, or_(SchedulerLease.owner == owner, SchedulerLease.expires_at < now))
        .values(owner=owner, expires_at=now + ttl)
    ).rowcount
    if taken:
        db.session.commit()
        return True
    if db.session.get(SchedulerLease, LEASE) is not None:
        db.session.rollback()
        return False
    try:
        db.session.add(SchedulerLease(name=LEASE, owner=owner, expires_at=now + ttl))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def lease_expires_at() -> datetime | None:
    """Until when the active scheduler holds the lease (renewed on every sweep); None if no scheduler ever took it.
    A moment past means no scheduler is firing timers now."""
    return db.session.scalar(select(SchedulerLease.expires_at).where(SchedulerLease.name == LEASE))


def release_lease(owner: str) -> None:
    db.session.execute(update(SchedulerLease).where(SchedulerLease.name == LEASE, SchedulerLease.owner == owner)
                       .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
    db.session.commit()


class TimerScheduler:
    """One scheduler process: a sweep every ``sweep_seconds`` plus exact-time wake-ups in between."""

    def __init__(self, app: Flask, sweep_seconds: int = 30, lease_seconds: int = 90, owner: str | None = None,
                 processes: int = 1):
        self.app = app
        self.pool = WakePool(app, processes)  # many cases due at once are woken by this many processes
        self.sweep_seconds = sweep_seconds
        self.ttl = timedelta(seconds=lease_seconds)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.leader: bool | None = None  # not known until the first sweep asks for the lease
        self._aps: BackgroundScheduler | None = None
        self._stopping = threading.Lock()
        self._waking = threading.Lock()  # the sweep and the exact wake-up never wake cases at the same time

    def tick(self) -> int:
        """Sweep once if this process holds the lease; return the cases woken."""
        with self._waking, self.app.app_context():
            woken = self._wake_all()
            if self.leader:
                now = get_clock().now()
                overdue = mark_overdue(now)
                if woken or overdue:
                    log.info("sweep: woke %s cases, %s newly overdue", woken, overdue)
            return woken

    def _wake_all(self) -> int:
        """Wake every due case, in rounds of ROUND with the lease renewed before each; then schedule the exact
        wake-up for the next due moment before the next sweep."""
        woken = 0
        while True:
            self._lead(acquire_lease(self.owner, self.ttl))
            if not self.leader:
                log.debug("another scheduler holds the lease; waiting")
                return woken
            clock = get_clock()
            now = clock.now()
            size = ROUND * self.pool.processes  # a few seconds of work for every waking process
            due = due_cases(now, limit=size)
            done = self.pool.wake(due, clock) if self.pool.worth_sharing(len(due)) else wake_cases(due, "system", clock)
            woken += done
            if done < size:
                break
        if not isinstance(clock, DemoClock):
            self._schedule_exact(now)
        return woken

    def _lead(self, leader: bool) -> None:
        """Hold the lease or not; a change is logged (INFO), so that the log says which scheduler is active."""
        if leader != self.leader:
            log.info("scheduler %s %s", self.owner, "holds the lease: it fires the timers (active)" if leader
                     else "does not hold the lease: another scheduler fires the timers (standby)")
        self.leader = leader

    def _schedule_exact(self, now: datetime) -> None:
        if self._aps is None:
            return
        due = db.session.scalar(select(func.min(Case.next_wakeup_at)).where(
            Case.status == "running", Case.next_wakeup_at > now))
        if due is None or due > now + timedelta(seconds=self.sweep_seconds):
            return  # the sweep comes first
        # APScheduler runs on real time; the clock may be offset from it
        self._aps.add_job(self._wake_exact, DateTrigger(run_date=_real_now() + (due - now)), id=EXACT_JOB,
                          replace_existing=True, misfire_grace_time=None, coalesce=True, max_instances=1)

    def _sweep(self) -> None:
        """The sweep job: :meth:`tick`, except that a database that does not answer is one line in the log (the
        next sweep tries again), not a traceback every sweep."""
        try:
            self.tick()
            log.debug("sweep done (%s)", "active" if self.leader else "standby")  # FANGPIN_LOG_LEVEL=DEBUG
        except (OperationalError, InterfaceError) as exc:
            lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            log.error("database unavailable, sweep skipped (the next one tries again): %s",
                      lines[0] if lines else type(exc).__name__)

    def _wake_exact(self) -> None:
        with self._waking, self.app.app_context():
            if self.leader:
                self._wake_all()

    def start(self) -> TimerScheduler:
        """Start sweeping; the lease is released by :meth:`stop`, and at the latest when the interpreter exits
        (atexit: a normal exit, ``sys.exit``, an uncaught exception, SIGINT) — the ``fangpin run`` and
        ``fangpin scheduler`` commands turn SIGTERM into a normal stop as well."""
        atexit.register(self.stop)
        self._aps = BackgroundScheduler(timezone="Asia/Shanghai")
        self._aps.add_job(self._sweep, "interval", seconds=self.sweep_seconds, id="sweep", max_instances=1,
                          coalesce=True, misfire_grace_time=None, next_run_time=datetime.now(UTC))
        self._aps.start()
        self.pool.start()
        log.info("timer scheduler %s started (sweep every %s s)", self.owner, self.sweep_seconds)
        return self

    def stop(self) -> None:
        """Stop sweeping (waiting for a sweep under way) and release the lease, so that another process takes over
        at once instead of after ``lease_seconds``. Safe to call twice."""
        with self._stopping:
            aps, self._aps = self._aps, None
            if aps is not None:
                atexit.unregister(self.stop)
                aps.shutdown(wait=True)
            self.pool.close()
            try:
                with self.app.app_context():
                    release_lease(self.owner)
            except Exception:  # the database may be gone: the lease then expires after lease_seconds
                log.exception("could not release the scheduler lease of %s", self.owner)
            else:
                log.info("timer scheduler %s stopped; lease released", self.owner)
            self.leader = False
