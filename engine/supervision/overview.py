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
from engine.core.vocabulary import OverdueKind
from engine.supervision.overdue import (
    LIMIT,
    OverdueGroup,
    OverdueItem,
    days_overdue,
    overdue_groups,
    overdue_items,
)


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
    items: list[OverdueItem]  # after the filters, most overdue first: the first LIMIT of them
    tasks: int  # after the filters, all of them
    cases: int
    worst_days: int
    by_child: list[PlaceCount]  # every child, also those with nothing overdue
    own_level: PlaceCount  # items held at the viewed jurisdiction itself (e.g. county tasks)
    by_procedure: list[tuple[str, int]]
    by_step: list[tuple[str, str, int]]  # (kind, step, count)

    @property
    def total(self) -> int:
        return self.tasks + self.cases


def most_overdue_first(items: list[OverdueItem]) -> list[OverdueItem]:
    return sorted(items, key=lambda i: (-i.days_overdue, i.due_at, i.kind, i.id))


def children_of(jurisdiction: Jurisdiction) -> list[Jurisdiction]:
    return list(db.session.scalars(select(Jurisdiction).filter_by(parent_id=jurisdiction.id).order_by(Jurisdiction.code)))


def _child_code(length: int, path: str) -> str | None:
    """The code of the child on ``path`` (at or below a place whose path is ``length`` long); None if ``path`` is
    the place itself."""
    return path[length:path.index("/", length)] if len(path) > length else None


def count_by_child(jurisdiction: Jurisdiction, groups: list[OverdueGroup]) -> tuple[list[PlaceCount], PlaceCount]:
    """(a count per child jurisdiction, the count at the jurisdiction's own level)."""
    tasks: Counter[str | None] = Counter()
    cases: Counter[str | None] = Counter()
    length = len(jurisdiction.path)  # every group's path starts with it (at or below the jurisdiction)
    for group in groups:
        (tasks if group.kind == OverdueKind.TASK else cases)[_child_code(length, group.jurisdiction_path)] += group.count
    children = [PlaceCount(c.code, c.name, tasks[c.code], cases[c.code]) for c in children_of(jurisdiction)]
    return children, PlaceCount(jurisdiction.code, "本级", tasks[None], cases[None])


def overdue_overview(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None,
                     step: str | None = None, limit: int = LIMIT) -> OverdueOverview:
    """Everything overdue at or below ``jurisdiction`` at ``now``; ``procedure``/``step`` narrow the list and
    the per-place counts, while the per-procedure and per-step counts always show the whole picture. Counted in
    the database (a constant number of queries however much is overdue); the list holds the ``limit`` most
    overdue items."""
    everything = overdue_groups(jurisdiction, now)
    groups = [g for g in everything if (not procedure or g.procedure == procedure) and (not step or g.step == step)]
    # one statement for both lists; a case's step is its overall limit's label
    tasks, cases = overdue_items(jurisdiction, now, procedure, step, label=step, limit=limit)
    items = most_overdue_first(tasks + cases)[:limit]
    by_child, own = count_by_child(jurisdiction, groups)
    procedures: Counter[str] = Counter()
    steps: Counter[tuple[str, str]] = Counter()
    for group in everything:
        procedures[group.procedure] += group.count
        steps[(group.kind, group.step)] += group.count
    return OverdueOverview(
        jurisdiction, items,
        tasks=sum(g.count for g in groups if g.kind == OverdueKind.TASK),
        cases=sum(g.count for g in groups if g.kind == OverdueKind.CASE),
        worst_days=days_overdue(min(g.earliest_due for g in groups), now) if groups else 0,  # the earliest is worst
        by_child=by_child, own_level=own,
        by_procedure=procedures.most_common(),
        by_step=[(kind, name, n) for (kind, name), n in steps.most_common()],
    )
