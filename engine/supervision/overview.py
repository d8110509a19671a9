"""The supervisor's overview of what is overdue (逾期督导) in a jurisdiction: totals, the worst items first,
counts per child jurisdiction (for the drill-down province → city → county → township → village), per
procedure and per step. Built on engine.supervision.overdue."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.core.db import db
from engine.core.models import Jurisdiction
from engine.supervision.overdue import OverdueItem, overdue_cases, overdue_tasks

KIND_NAMES = {"task": "任务", "case": "案件总时限"}


@dataclass(frozen=True)
class PlaceCount:
    """Overdue tasks and cases in one jurisdiction directly below the one viewed (or at its own level)."""

    code: str
    name: str
    tasks: int = 0
    cases: int = 0

    @property
    def total(self) -> int:
        return self.tasks + self.cases


@dataclass(frozen=True)
class OverdueOverview:
    jurisdiction: Jurisdiction
    items: list[OverdueItem]  # after the filters, most overdue first
    by_child: list[PlaceCount]  # every child, also those with nothing overdue
    own_level: PlaceCount  # items held at the viewed jurisdiction itself (e.g. county tasks)
    by_procedure: list[tuple[str, int]]
    by_step: list[tuple[str, str, int]]  # (kind, step, count)

    @property
    def tasks(self) -> int:
        return sum(1 for i in self.items if i.kind == "task")

    @property
    def cases(self) -> int:
        return sum(1 for i in self.items if i.kind == "case")

    @property
    def worst_days(self) -> int:
        return self.items[0].days_overdue if self.items else 0


def most_overdue_first(items: list[OverdueItem]) -> list[OverdueItem]:
    return sorted(items, key=lambda i: (-i.days_overdue, i.due_at, i.kind, i.id))


def children_of(jurisdiction: Jurisdiction) -> list[Jurisdiction]:
    return list(db.session.scalars(select(Jurisdiction).filter_by(parent_id=jurisdiction.id).order_by(Jurisdiction.code)))


def _child_code(jurisdiction: Jurisdiction, item: OverdueItem) -> str | None:
    """The code of the child of ``jurisdiction`` holding ``item``; None if held at ``jurisdiction`` itself."""
    depth = len(jurisdiction.path.strip("/").split("/"))
    parts = item.jurisdiction_path.strip("/").split("/")
    return parts[depth] if len(parts) > depth else None


def count_by_child(jurisdiction: Jurisdiction, items: list[OverdueItem]) -> tuple[list[PlaceCount], PlaceCount]:
    """(a count per child jurisdiction, the count at the jurisdiction's own level)."""
    tasks: Counter[str | None] = Counter()
    cases: Counter[str | None] = Counter()
    for item in items:
        (tasks if item.kind == "task" else cases)[_child_code(jurisdiction, item)] += 1
    children = [PlaceCount(c.code, c.name, tasks[c.code], cases[c.code]) for c in children_of(jurisdiction)]
    return children, PlaceCount(jurisdiction.code, "本级", tasks[None], cases[None])


def overdue_overview(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None,
                     step: str | None = None) -> OverdueOverview:
    """Everything overdue at or below ``jurisdiction`` at ``now``; ``procedure``/``step`` narrow the list and
    the per-place counts, while the per-procedure and per-step counts always show the whole picture."""
    everything = most_overdue_first(overdue_tasks(jurisdiction, now) + overdue_cases(jurisdiction, now))
    items = [i for i in everything if (not procedure or i.procedure == procedure) and (not step or i.step == step)]
    by_child, own = count_by_child(jurisdiction, items)
    procedures = Counter(i.procedure for i in everything)
    steps = Counter((i.kind, i.step) for i in everything)
    return OverdueOverview(
        jurisdiction, items, by_child, own,
        by_procedure=procedures.most_common(),
        by_step=[(kind, name, n) for (kind, name), n in steps.most_common()],
    )
