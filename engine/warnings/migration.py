"""Running warnings move to the warning procedures (迁移在办预警): a database upgraded from a release where the
department warnings were a status machine of their own (steps and due dates in each warning's ``detail``) has
warnings waiting at the city, at the county or at the township and no case for them. Each gets the case it would
have had — its batch's at the city or at its county, or its own verification case from its dispatch date — so that
its step is in the inbox with the due date counted from when that step really began. Nothing in the ledger is lost:
the old steps stay in ``detail`` as the record of what happened before. Safe to run again: only warnings still
waiting and without a case are moved."""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from engine.core.clock import Clock
from engine.core.db import db
from engine.core.models import DepartmentWarning, Household, Jurisdiction
from engine.core.vocabulary import OPEN_WARNING_STATUSES, JurisdictionLevel, SystemActor, WarningStatus
from engine.warnings.procedure import open_batch_case, open_verification, places_by_id
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

ACTOR = SystemActor.MIGRATION


def move_running_warnings(clock: Clock) -> int:
    """Open the cases of every waiting warning that has none (in the caller's transaction); returns how many
    warnings were moved."""
    waiting = list(db.session.scalars(select(DepartmentWarning).where(
        DepartmentWarning.status.in_(OPEN_WARNING_STATUSES), DepartmentWarning.step_case_id.is_(None))
        .order_by(DepartmentWarning.batch_id, DepartmentWarning.row_number)))
    if not waiting:
        return 0
    villages = places_by_id({w.village_id for w in waiting})
    shares: dict[tuple[int, int], list[DepartmentWarning]] = defaultdict(list)
    for warning in waiting:
        village = villages[warning.village_id]
        if warning.status == WarningStatus.DISPATCHED:
            household = db.session.get(Household, warning.household_id) if warning.household_id else None
            open_verification(warning, village, household, ACTOR, clock, to_local_date(warning.dispatched_at))
            continue
        place = (warning.batch.jurisdiction if warning.status == WarningStatus.RECEIVED
                 else village.ancestor_at(JurisdictionLevel.COUNTY))
        shares[(warning.batch_id, place.id)].append(warning)
    for (_, place_id), warnings in shares.items():
        began = _step_began(warnings[0]) or warnings[0].batch.submitted_at
        open_batch_case(warnings[0].batch, db.session.get(Jurisdiction, place_id), [w.id for w in warnings], ACTOR,
                        clock, received_on=to_local_date(min(began, clock.now())))
    log.info("moved %s running warnings to the warning procedures", len(waiting))
    return len(waiting)


def _step_began(warning: DepartmentWarning) -> datetime | None:
    """When the warning's current step began, as the old status machine recorded it."""
    steps = warning.detail.get("steps") or []
    return datetime.fromisoformat(steps[-1]["started_at"]) if steps else None
