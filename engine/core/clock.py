"""The injected clock (时钟): every "now" of the engine, the timers and the tests comes from here.

The application holds one clock object; the engine installs it as the current clock while it
runs workflow steps, so SpiffWorkflow's timer checks use the same time as everything else.
Which one is configuration (``FANGPIN_CLOCK``, :mod:`engine.app`): the real time, the demo clock in the
database, or the time written in a file (:class:`FileClock`).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer


class Clock(Protocol):
    """Anything with a ``now()`` returning a timezone-aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (tests, demos)."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _aware(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class ClockFileError(RuntimeError):
    """The file of a :class:`FileClock` is missing or holds no time with its offset (the message says which)."""


class FileClock:
    """The time written in a file (文件时钟), read again on every ``now()``: one ISO-8601 moment with its
    offset, e.g. ``2026-10-08T09:00:00+08:00``. Chosen with ``FANGPIN_CLOCK=file:/path/to/clock``.

    Another process sets the time of running servers by rewriting the file: the browser tests' pytest process
    shares its test clock with the production server it starts; and rehearsing a date (演练) — a deadline, the
    end of a publicity, a year-end evaluation — on a copy of the data, without touching that data's own demo
    clock: ``echo 2026-12-31T09:00+08:00 > clock``. A missing or unreadable file is an error, never the real
    time. Not for production (every ``now()`` reads the file)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def now(self) -> datetime:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ClockFileError(f"时钟文件 {self.path} 不存在（FANGPIN_CLOCK=file:…）：请写入一个带时区的时间，"
                                 "例如 2026-10-08T09:00:00+08:00") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ClockFileError(f"时钟文件 {self.path} 无法读取：{exc}") from exc
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise ClockFileError(f"时钟文件 {self.path} 的内容 {text[:60]!r} 不是 ISO-8601 时间，"
                                 "应为例如 2026-10-08T09:00:00+08:00") from None
        if at.tzinfo is None:
            raise ClockFileError(f"时钟文件 {self.path} 的时间 {text!r} 没有时区，应带时区，例如 +08:00")
        return at.astimezone(UTC)

    def set(self, at: datetime) -> None:
        """Write ``at`` to the file, replacing it at once (a reader never sees a half-written time)."""
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(_aware(at).isoformat() + "\n", encoding="utf-8")
        os.replace(partial, self.path)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("clock times must be timezone-aware")
    return at.astimezone(UTC)


_current: ContextVar[Clock | None] = ContextVar("fangpin_clock", default=None)


def current_time() -> datetime:
    """Now according to the clock installed by :func:`using_clock` (system time otherwise)."""
    clock = _current.get()
    return clock.now() if clock is not None else datetime.now(UTC)


@contextlib.contextmanager
def using_clock(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the time source for SpiffWorkflow timers inside the block."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


_EPSILON = timedelta(microseconds=1)


class _ClockedDatetime(datetime):
    """Stand-in for ``datetime`` inside SpiffWorkflow's timer module: ``now()`` asks our clock."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        # SpiffWorkflow fires a timer when due < now (strictly); a deadline of 24:00 must fire at 24:00.
        now = current_time() + _EPSILON
        return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)


def install_spiff_clock() -> None:
    """Route SpiffWorkflow's timer "now" through :func:`current_time` (idempotent)."""
    _spiff_timer.datetime = _ClockedDatetime
