"""Which diagram a jurisdiction runs (流程绑定): the value of a <procedure>.process parameter names a process (its
newest version) or pins one version; new cases start on the version it resolves to."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from engine.bpmn.deployment import latest_version
from engine.core.db import db
from engine.core.errors import NotFound, RuleViolation
from engine.core.models import Jurisdiction, PolicyParameter, ProcessVersion
from engine.policy.parameters import PROCESS_SUFFIX


def applies_in(place: Jurisdiction, viewer: Jurisdiction) -> bool:
    """Policy rows that apply to the viewer's area: set on its ancestors, itself, or below it."""
    return viewer.contains(place) or place.contains(viewer)


@dataclass(frozen=True)
class ProcessRef:
    """The value of a ``<procedure>.process`` binding: ``"<process_key>"`` follows the newest deployed version
    (最新版本), ``"<process_key>@<version>"`` is pinned to one version (固定版本)."""

    key: str
    version: int | None = None

    @property
    def pinned(self) -> bool:
        return self.version is not None

    def __str__(self) -> str:
        return self.key if self.version is None else f"{self.key}{VERSION_SEPARATOR}{self.version}"

    @property
    def label(self) -> str:
        return f"{self.key} v{self.version}（固定版本）" if self.pinned else f"{self.key}（最新版本）"


VERSION_SEPARATOR = "@"


def parse_process_ref(value: Any) -> ProcessRef:
    """The one reading of a binding value: ``"identification"`` or ``"identification@2"``; RuleViolation when
    it is neither (process ids never contain ``@``)."""
    text = value.strip() if isinstance(value, str) else ""
    key, separator, number = text.partition(VERSION_SEPARATOR)
    if not key or (separator and not (number.isascii() and number.isdigit() and int(number) > 0)):
        raise RuleViolation(f"流程绑定“{value}”格式不正确，应为“流程标识”或“流程标识@版本号”（如 identification@2）")
    return ProcessRef(key, int(number) if separator else None)


def bound_version(value: Any) -> ProcessVersion:
    """The version a new case starts on for a binding value: the pinned one, or the newest deployed one.
    NotFound when the process (or the pinned version) is not deployed."""
    ref = parse_process_ref(value)
    if not ref.pinned:
        return latest_version(ref.key)
    found = db.session.scalar(select(ProcessVersion).filter_by(process_key=ref.key, version=ref.version))
    if found is None:
        raise NotFound(f"流程 {ref.key} 没有第 {ref.version} 版（绑定 {value}）")
    return found


@dataclass(frozen=True)
class Binding:
    """A ``<procedure>.process`` row: which jurisdiction runs the process (a version, or the newest) from which
    date (流程绑定)."""

    row: PolicyParameter
    procedure: str

    @property
    def jurisdiction(self) -> Jurisdiction:
        return self.row.jurisdiction

    @property
    def ref(self) -> ProcessRef:
        return parse_process_ref(self.row.value)

    def uses(self, version: ProcessVersion, newest: int) -> bool:
        """New cases under this binding start on ``version`` (``newest``: the newest version of its process)."""
        ref = self.ref
        return ref.key == version.process_key and (ref.version or newest) == version.version

    def ends_after(self, day: date) -> bool:
        return self.row.effective_to is None or self.row.effective_to > day


def binding_rows() -> list[Binding]:
    rows = db.session.scalars(
        select(PolicyParameter).where(PolicyParameter.key.endswith(PROCESS_SUFFIX))
        .order_by(PolicyParameter.key, PolicyParameter.effective_from, PolicyParameter.id)
    )
    return [Binding(r, r.key[: -len(PROCESS_SUFFIX)]) for r in rows]


def bindings(viewer: Jurisdiction, process_key: str | None = None) -> list[Binding]:
    """Every ``*.process`` row that applies in the viewer's area (optionally: naming ``process_key``, pinned
    to one of its versions or not)."""
    out = [b for b in binding_rows() if applies_in(b.jurisdiction, viewer)]
    return [b for b in out if process_key is None or b.ref.key == process_key]


def bound_keys() -> set[str]:
    return {b.ref.key for b in binding_rows()}
