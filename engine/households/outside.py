"""Households identified as monitored outside fangpin (系统外识别): a county that starts with fangpin brings the
monitored households (监测对象) it identified in the national 防返贫监测信息系统 with the household import
(engine.households.importing), without an identification case. Each is recorded so in the audit log
(``household_identified_outside``: its category, the day it was identified, its risk types and the file it came
from), and where a page would name the identification it says 系统外识别（导入）. A later identification in
fangpin (after its risk was eliminated and a new one found) is the household's own again."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.core.db import db
from engine.core.models import AuditEvent
from engine.core.vocabulary import AuditAction

IDENTIFIED_OUTSIDE = AuditAction.HOUSEHOLD_IDENTIFIED_OUTSIDE.value
IDENTIFIED_BY_CASE = AuditAction.HOUSEHOLD_MONITORED.value  # what an identification case records (engine.cases.functions)
LABEL = "系统外识别（导入）"


@dataclass(frozen=True)
class OutsideIdentification:
    """The import that brought a household in as monitored: from which file, when and by whom."""

    source: str
    at: datetime
    actor: str

    @property
    def text(self) -> str:
        """系统外识别（导入）, with the file it came from."""
        return f"{LABEL}：{self.source}" if self.source else LABEL


def outside_identifications(household_ids: Iterable[int]) -> dict[int, OutsideIdentification]:
    """The households among ``household_ids`` whose identification in force was made outside fangpin — the latest
    of their identification entries is an import's — with that import; in one query per 500 households."""
    ids = sorted(set(household_ids))
    found: dict[int, OutsideIdentification | None] = {}
    for start in range(0, len(ids), 500):
        entries = db.session.execute(
            select(AuditEvent.household_id, AuditEvent.action, AuditEvent.at, AuditEvent.actor, AuditEvent.detail)
            .where(AuditEvent.household_id.in_(ids[start:start + 500]),
                   AuditEvent.action.in_((IDENTIFIED_OUTSIDE, IDENTIFIED_BY_CASE)))
            .order_by(AuditEvent.id))
        for household_id, action, at, actor, detail in entries:
            found[household_id] = (OutsideIdentification(str((detail or {}).get("source") or ""), at, actor)
                                   if action == IDENTIFIED_OUTSIDE else None)
    return {household_id: outside for household_id, outside in found.items() if outside is not None}


def outside_identification(household_id: int) -> OutsideIdentification | None:
    """The import that brought this household in as monitored, if its identification in force was made outside
    fangpin (:func:`outside_identifications`)."""
    return outside_identifications([household_id]).get(household_id)
