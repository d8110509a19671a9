"""农户批量导入 as an official does it (engine.households.importing reads, checks and writes the file): in one
transaction, and for each monitored household it brings (系统外识别) the monthly follow-up (每月回访) that an
identification in fangpin starts when the household becomes monitored — so that it is visited every month from the
month of the import, and its elimination is later ended the same way (engine.cases.lifecycle). A village whose
follow-up cannot start (its diagram not bound, a parameter missing) is named among the file's problems, and
nothing is written."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engine.cases.lifecycle import open_case
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import FangpinError, NotFound
from engine.core.models import Household, User
from engine.core.transaction import transaction
from engine.core.vocabulary import Channel, Procedure
from engine.core.writes import deferred
from engine.households.importing import CATEGORY, ImportResult, PreparedImport, columns, prepare_import, write_import
from engine.policy.check import StartPolicy, start_policy
from timers.calendar import to_local_date

log = logging.getLogger(__name__)


def import_households(file_name: str, data: bytes, actor: str, clock: Clock, *, dry_run: bool = False) -> ImportResult:
    """Import the households of the file ``file_name`` (its bytes ``data``) as ``actor``, who must be allowed to
    register households of every village in it; ImportRefused listing every problem, nothing written. ``dry_run``:
    check only, and say what would be written."""
    with transaction():
        user = db.session.scalar(select(User).filter_by(username=actor))
        if user is None:
            raise NotFound(f"用户 {actor} 不存在")
        prepared = prepare_import(file_name, data, user, clock, lock=not dry_run)
        policies = _followup_policies(prepared, clock)
        if prepared.problems:
            raise prepared.problems.refusal()
        if dry_run:
            return prepared.summary(written=False)
        result = write_import(prepared, actor, clock)
        _start_followups(result.monitored_ids, policies, actor, clock)
    return result


def _followup_policies(prepared: PreparedImport, clock: Clock) -> dict[int, StartPolicy]:
    """What the follow-up of each village with monitored households starts with (engine.policy.check); a village
    where it cannot start is a problem of its first monitored household's row."""
    today = to_local_date(clock.now())
    found: dict[int, StartPolicy] = {}
    refused: set[int] = set()
    title = next(c.title for c in columns() if c.key == CATEGORY)
    villages = {village.id: village for village in prepared.villages.values()}
    for household in prepared.monitored():
        village = villages.get(household.village_id)
        if village is None or village.id in found or village.id in refused:
            continue
        try:
            found[village.id] = start_policy(Procedure.FOLLOWUP, village, today)
        except FangpinError as exc:
            refused.add(village.id)
            prepared.problems.add(household.row, title, f"监测对象导入后须开始每月回访，但{exc}")
    return found


def _start_followups(household_ids: list[int], policies: dict[int, StartPolicy], actor: str, clock: Clock) -> None:
    """The monthly follow-up of each imported monitored household, its rows written together (deferred)."""
    today = to_local_date(clock.now())
    for start in range(0, len(household_ids), 500):
        households = db.session.scalars(
            select(Household).where(Household.id.in_(household_ids[start:start + 500]))
            .options(selectinload(Household.members), selectinload(Household.village)))
        with deferred():
            for household in households:
                open_case(Procedure.FOLLOWUP, household.village, actor, clock, household=household,
                          channel=Channel.MONITORING, lead_date=today, needs=policies[household.village_id])
    log.info("%s: monthly follow-up started for %s imported monitored households", actor, len(household_ids))
