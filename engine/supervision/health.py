"""The system's health (运行状态), as a county's monitoring and its reverse proxy ask for it: the database answers,
a scheduler holds the lease, no case's timer waits long past its moment (a scheduler stopped, or a case whose
wake-up keeps failing — its error is in the scheduler's log), and the working-day calendar has the years ahead.
Nothing in it names a household or a person."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text

from engine.core.db import db
from engine.core.models import Case
from engine.supervision.timer_lateness import WINDOW, TimerLateness, timer_lateness
from timers.calendar import CHINA_TZ

LATE_AFTER = timedelta(minutes=5)  # a timer not fired this long after its moment (the sweep runs every 30 s)


@dataclass(frozen=True)
class Check:
    ok: bool
    message: str
    details: dict = field(default_factory=dict)


def database_check() -> Check:
    db.session.execute(text("SELECT 1"))
    return Check(True, "数据库可用")


def scheduler_check(lease_expires_at: datetime | None, real_now: datetime) -> Check:
    """Is a scheduler firing timers: its lease (renewed on every sweep) not expired by ``real_now``."""
    if lease_expires_at is None:
        return Check(False, "定时器调度进程从未启动：请启动 fangpin scheduler（或 fangpin run）")
    if lease_expires_at < real_now:
        return Check(False, f"没有定时器调度进程在运行（租约已于 {_shown(lease_expires_at)} 过期）：请检查 fangpin scheduler "
                            f"进程及其日志", {"lease_expires_at": lease_expires_at.isoformat()})
    return Check(True, "定时器调度进程在运行", {"lease_expires_at": lease_expires_at.isoformat()})


def timers_check(now: datetime) -> Check:
    """The running cases whose next timer was due more than LATE_AFTER before ``now`` (one indexed count)."""
    late, oldest = db.session.execute(
        select(func.count(Case.id), func.min(Case.next_wakeup_at))
        .where(Case.status == "running", Case.next_wakeup_at <= now - LATE_AFTER)).one()
    if not late:
        return Check(True, "没有逾期未触发的定时器", {"late": 0})
    return Check(False, f"{late} 个案件的定时器到期超过 {int(LATE_AFTER.total_seconds() // 60)} 分钟仍未触发（最早于 "
                        f"{_shown(oldest)} 到期）：调度进程未运行，或这些案件的唤醒出错，原因见调度进程的日志",
                 {"late": late, "oldest_due_at": oldest.isoformat()})


def lateness_check(now: datetime) -> Check:
    """How late the timers fired in the last day (information: a timer long overdue fails :func:`timers_check`)."""
    lateness = timer_lateness(now)
    return Check(True, lateness_text(lateness), lateness.as_dict())


def lateness_text(lateness: TimerLateness) -> str:
    """The lateness in words, as the supervisor's overview shows it too."""
    hours = int(WINDOW.total_seconds() // 3600)
    if not lateness.fired:
        return f"近 {hours} 小时没有触发定时器"
    latest = f"（最近 {lateness.fired} 个）" if lateness.sampled else ""
    return (f"近 {hours} 小时触发定时器 {lateness.fired} 个{latest}：晚于到期时刻中位 {_seconds(lateness.median_s)}，"
            f"99% 不超过 {_seconds(lateness.p99_s)}，最长 {_seconds(lateness.max_s)}")


def _seconds(value: float | None) -> str:
    """A lateness in the unit a reader takes in at once: 42.0 秒, 35 分钟, 69 小时, 4 天."""
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.1f} 秒"
    if value < 2 * 3600:
        return f"{value / 60:.0f} 分钟"
    return f"{value / 3600:.0f} 小时" if value < 3 * 86400 else f"{value / 86400:.0f} 天"


def calendar_check(warnings: list[str]) -> Check:
    """The calendar's warnings of missing holiday data: a warning, not a failure (deadlines within the data still
    compute), until a date in the missing year is needed — then the wake-ups that need it show as late timers."""
    return Check(True, "；".join(warnings) if warnings else "工作日历数据完整", {"warnings": warnings})


def _shown(moment: datetime) -> str:
    """A moment as every page shows it: China Standard Time."""
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
