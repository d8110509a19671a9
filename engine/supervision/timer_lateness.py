"""How late timers fire (定时器触发延迟): over the last day, for the cases of a jurisdiction, how many timers fired
and how long after their moment — the median, the 99th percentile and the longest — read from each fired timer's
deadline (``case_deadline.fired_at``, written when the scheduler woke the case). A supervisor sees it on the
overview, a county's monitoring in ``/healthz``; the benchmark reads the same column. Nothing names a household."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from engine.core.db import db, fixed, within
from engine.core.models import Case, CaseDeadline, Jurisdiction

WINDOW = timedelta(hours=24)
SAMPLE = 20000  # the latest fired timers read at most (a county fires a few thousand a day)


@dataclass(frozen=True)
class TimerLateness:
    """Timers fired in the window, and their lateness in seconds (None when none fired)."""

    fired: int
    median_s: float | None
    p99_s: float | None
    max_s: float | None
    sampled: bool  # more fired than SAMPLE: the figures are of the latest SAMPLE

    def as_dict(self) -> dict:
        return {"fired": self.fired, "median_seconds": self.median_s, "p99_seconds": self.p99_s,
                "max_seconds": self.max_s}


def timer_lateness(now: datetime, place: Jurisdiction | None = None, window: timedelta = WINDOW) -> TimerLateness:
    """The timers of ``place``'s cases (every case without it) fired in ``window`` before ``now``: one statement,
    served by the index of fired timers."""
    query = (select(CaseDeadline.due_at, CaseDeadline.fired_at)
             .where(CaseDeadline.fired_at.is_not(None), CaseDeadline.fired_at > now - window,
                    CaseDeadline.subject == fixed("timer")))
    if place is not None:
        query = query.join(Case, Case.id == CaseDeadline.case_id).where(within(Case.jurisdiction_path, place.path))
    rows = db.session.execute(query.order_by(CaseDeadline.fired_at.desc()).limit(SAMPLE + 1)).all()
    late = sorted(max(0.0, (fired - due).total_seconds()) for due, fired in rows[:SAMPLE])
    if not late:
        return TimerLateness(0, None, None, None, False)
    return TimerLateness(len(late), statistics.median(late), _percentile(late, 99), late[-1], len(rows) > SAMPLE)


def _percentile(ordered: list[float], p: int) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[rank - 1]
