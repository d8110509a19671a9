"""The injected clock (时钟): every "now" of the engine, the timers and the tests comes from here.

The application holds one clock object; the engine installs it as the current clock while it
runs workflow steps, so SpiffWorkflow's timer checks use the same time as everything else.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
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
