"""The timer scheduler (定时任务): an APScheduler job that fires every due BPMN timer.

The database is the source of truth (``case.next_wakeup_at``); the job sweeps it, so timers that
fell due while the system was down fire on the first sweep after start.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30


def sweep(app: Flask) -> int:
    """Fire every timer due now; return the number of cases woken."""
    from engine.app import get_clock
    from engine.cases import wake_due

    with app.app_context():
        clock = get_clock()
        woken = wake_due(clock.now(), clock)
    if woken:
        log.info("woke %s cases", woken)
    return woken


def start_scheduler(app: Flask, seconds: int = SWEEP_SECONDS) -> BackgroundScheduler:
    """Start the sweep in a background thread (first run at once)."""
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduler.add_job(sweep, "interval", seconds=seconds, args=[app], id="sweep", max_instances=1, coalesce=True,
                      misfire_grace_time=None, next_run_time=datetime.now(UTC))
    scheduler.start()
    return scheduler
