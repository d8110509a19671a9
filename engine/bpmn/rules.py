"""What a diagram is checked against (流程图校验依据), handed to the ``bpmn`` package by its caller.

The ``bpmn`` package knows no role, household, case or policy: which lane names are roles, the start data a
new instance of a process would get, and the functions its scripts may call come from the domain through a
:class:`DiagramRules` object, built once at the top (``engine.library.rules``) and passed down, as
cosmicpython's bootstrap hands a handler its dependencies.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from engine.core.clock import Clock


@dataclass(frozen=True)
class TrialSample:
    """The start data of one kind of instance of a process (``label``: where and from when it applies)."""

    label: str
    start: dict[str, Any]


class DiagramRules(Protocol):
    """The domain's side of validating a diagram."""

    def is_lane(self, name: str | None) -> bool:
        """Whether a lane of that name is a known role."""

    def lane_names(self) -> list[str]:
        """Every lane name a role answers to (named in the refusal of an unknown lane)."""

    def role_of(self, name: str) -> str | None:
        """The role (its key) a lane name, role key or group name names; None if none."""

    def role_lanes(self, role: str) -> list[str]:
        """The lane names of the role ``role``."""

    def samples(self, process_id: str) -> list[TrialSample]:
        """The start data instances of ``process_id`` can get, one per distinct kind (at least one)."""

    def functions(self, clock: Clock) -> dict[str, Callable[..., Any]]:
        """The functions a diagram may call, as stand-ins that change nothing (deadlines may be real)."""

    def state(self) -> str:
        """A key that changes whenever :meth:`samples` could answer differently (a parse cache key)."""
