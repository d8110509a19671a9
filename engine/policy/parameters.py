"""Policy as data (政策参数): values that differ by jurisdiction and date — publicity days, which
diagram a jurisdiction runs, deadlines, monitoring lines — resolved for a jurisdiction (inherited
downwards: province → city → county → township → village) and an effective date."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Row, event, or_, select
from sqlalchemy.orm import Session, object_session

from engine.core.db import db, forget_when_the_transaction_ends
from engine.core.errors import PolicyMissing
from engine.core.models import Jurisdiction, MonitoringLine, PolicyParameter, load_ancestors
from engine.core.vocabulary import JurisdictionLevel

log = logging.getLogger(__name__)


PROCESS_SUFFIX = ".process"  # <procedure>.process: which diagram a jurisdiction runs (流程绑定)
POLICY_FILES = ("parameters.json", "warning_thresholds.json")  # the parameter files of a policy folder

_IN_FORCE = "fangpin.policy_in_force"  # session.info: day → (place ids read, every row in force at them that day)
_READ = (PolicyParameter.jurisdiction_id, PolicyParameter.key, PolicyParameter.value, PolicyParameter.effective_from)


def _rows_in_force(wanted: Callable[[str], bool], jurisdiction: Jurisdiction, on: date) -> list[Row]:
    return _rows_in_force_at(wanted, [j.id for j in jurisdiction.ancestors()], on)


def read_in_force(jurisdiction: Jurisdiction, on: date) -> None:
    """Read, in one statement, every parameter in force at ``jurisdiction`` and the places above it on ``on``, for the
    rest of the transaction: a caller resolving at an ancestor first (the county's issuing authority of a village's
    household) and at the place itself later (the follow-up's binding at the village) then reads nothing more."""
    _rows_in_force_at(lambda key: False, [j.id for j in jurisdiction.ancestors()], on)


def _rows_in_force_at(wanted: Callable[[str], bool], ids: Iterable[int], on: date) -> list[Row]:
    """The rows of the keys ``wanted`` in force at the places ``ids`` on ``on``. Every row in force there that day
    is read once and kept for the rest of the transaction (a task completion reads several keys of the same places:
    the issuing authority of the village's county, then the follow-up's binding at the village — only the places
    not read yet are read then): dropped
    when the transaction ends or when it writes a parameter, and not used while the session holds an unwritten
    change of one."""
    session = db.session()
    cache: dict[date, tuple[frozenset[int], list[Row]]] = session.info.setdefault(_IN_FORCE, {})
    places = frozenset(ids)
    if _changing_parameters(session):
        cache.clear()
    known, read = cache.get(on, (frozenset(), []))
    if not places <= known:  # the places not read yet that day
        read = read + list(session.execute(select(*_READ).where(
            PolicyParameter.jurisdiction_id.in_(places - known),
            PolicyParameter.effective_from <= on,
            or_(PolicyParameter.effective_to.is_(None), PolicyParameter.effective_to > on),
        )))
        cache[on] = (known | places, read)
    return [row for row in read if row.jurisdiction_id in places and wanted(row.key)]


def _changing_parameters(session: Session) -> bool:
    return any(isinstance(obj, PolicyParameter) for changed in (session.new, session.dirty, session.deleted)
               for obj in changed)


@event.listens_for(PolicyParameter, "after_insert")
@event.listens_for(PolicyParameter, "after_update")
@event.listens_for(PolicyParameter, "after_delete")
def _written(mapper, connection, target: PolicyParameter) -> None:
    session = object_session(target)
    if session is not None:
        session.info.pop(_IN_FORCE, None)


forget_when_the_transaction_ends(_IN_FORCE)


def _most_specific(rows: list[Row], jurisdiction: Jurisdiction) -> dict[str, Row]:
    """For each key, the row of the nearest jurisdiction, then the latest effective date."""
    depth = {j.id: i for i, j in enumerate(jurisdiction.ancestors())}
    best: dict[str, Row] = {}
    for row in sorted(rows, key=lambda r: (-depth[r.jurisdiction_id], r.effective_from)):
        best[row.key] = row
    return best


def resolve(key: str, jurisdiction: Jurisdiction, on: date) -> Any:
    """The value of ``key`` in force for ``jurisdiction`` on ``on``; PolicyMissing if none."""
    best = _most_specific(_rows_in_force(key.__eq__, jurisdiction, on), jurisdiction)
    if key not in best:
        raise PolicyMissing(f"{jurisdiction.full_name} 在 {on} 没有配置政策参数 {key}")
    return best[key].value


def resolve_each(key: str, places: list[Jurisdiction], on: date) -> dict[int, Any]:
    """What :func:`resolve` gives for each of ``places``, by place id — absent where none is configured — in at
    most two statements however many places: every place their paths pass through, then the rows in force on
    them."""
    load_ancestors(places)
    chains = {place.id: place.ancestors() for place in places}
    rows = _rows_in_force_at(key.__eq__, {j.id for chain in chains.values() for j in chain}, on)
    by_place: dict[int, list[Row]] = {}
    for row in rows:
        by_place.setdefault(row.jurisdiction_id, []).append(row)
    found = {}
    for place in places:
        best = _most_specific([row for j in chains[place.id] for row in by_place.get(j.id, [])], place)
        if key in best:
            found[place.id] = best[key].value
    return found


def resolve_group(prefix: str, jurisdiction: Jurisdiction, on: date) -> dict[str, Any]:
    """All parameters ``<prefix>.<name>`` in force, as ``{name: value}``."""
    rows = _rows_in_force(lambda key: key.startswith(prefix + "."), jurisdiction, on)
    return {key[len(prefix) + 1 :]: row.value for key, row in _most_specific(rows, jurisdiction).items()}


def monitoring_line(jurisdiction: Jurisdiction, year: int) -> Decimal:
    """监测范围 of the province of ``jurisdiction`` for ``year``; PolicyMissing if not configured."""
    province = jurisdiction.ancestor_at(JurisdictionLevel.PROVINCE)
    line = province and db.session.scalar(select(MonitoringLine).filter_by(province_id=province.id, year=year))
    if line is None:
        name = province.name if province else jurisdiction.full_name
        raise PolicyMissing(f"{name} 没有 {year} 年的监测范围（监测标准）：请省级政策管理员在“监测范围”页面按本省公布的标准"
                            f"设置，或由系统管理员用 fangpin policy load 加载")
    return line.amount


def shipped_parameters(policy_dir: Path) -> list[dict[str, Any]]:
    """The parameter entries of the policy folder's files (:data:`POLICY_FILES`), for every place they name, whether
    this database has the place or not (a county's own tree in place of the seed documents' places)."""
    entries: list[dict[str, Any]] = []
    for name in POLICY_FILES:
        path = policy_dir / name
        if path.is_file():
            entries += json.loads(path.read_text(encoding="utf-8")).get("parameters", [])
    return entries


def load_policy_file(path: Path) -> int:
    """Insert the parameters and monitoring lines of a policy file not yet in the database.

    Entries for jurisdictions that do not exist here are skipped. Returns the number added.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    codes = {j.code: j for j in db.session.scalars(select(Jurisdiction))}
    added = sum(_add_parameter(entry, codes) for entry in data.get("parameters", []))
    added += sum(_add_line(entry, codes) for entry in data.get("monitoring_lines", []))
    db.session.flush()
    return added


def _add_parameter(entry: dict, codes: dict[str, Jurisdiction]) -> bool:
    jurisdiction = codes.get(entry["jurisdiction"])
    if jurisdiction is None:
        return False
    start = date.fromisoformat(entry["effective_from"])
    exists = db.session.scalar(
        select(PolicyParameter).filter_by(jurisdiction_id=jurisdiction.id, key=entry["key"], effective_from=start)
    )
    if exists is not None:
        return False
    end = entry.get("effective_to")
    db.session.add(
        PolicyParameter(
            jurisdiction=jurisdiction, key=entry["key"], value=entry["value"], effective_from=start,
            effective_to=date.fromisoformat(end) if end else None, source=entry.get("source", ""),
        )
    )
    return True


def _add_line(entry: dict, codes: dict[str, Jurisdiction]) -> bool:
    province = codes.get(entry["province"])
    if province is None:
        return False
    if db.session.scalar(select(MonitoringLine).filter_by(province_id=province.id, year=entry["year"])):
        return False
    db.session.add(
        MonitoringLine(
            province_id=province.id, year=entry["year"], amount=Decimal(str(entry["amount"])),
            source=entry.get("source", ""),
        )
    )
    return True
