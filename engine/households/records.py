"""Read-side helpers over household records (农户档案) shared by the ledger, the publicity lists and the
information form: the A1–A55 field catalogue with its privacy flags, labels of categories, risk types and
measures, the latest income figures (A28–A38) and the assistance plans (帮扶计划) of completed tasks."""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engine.core.config import project_dir
from engine.core.db import db, within
from engine.core.models import Case, Household, HumanTask, IncomeRecord, Jurisdiction
from engine.core.models import Measure as MeasureRecord
from engine.core.vocabulary import HouseholdCategory, JurisdictionLevel
from engine.households.income import INCOME_FIELDS, IncomeFigures

REVISIT_FORM = "monthly_revisit.json"


def _policy_json(name: str) -> Any:
    return json.loads((project_dir("policy") / name).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def form_catalogue() -> tuple[dict[str, Any], ...]:
    """The fields of the information form (信息采集表) in form order, from ``policy/household_form.json``."""
    return tuple(_policy_json("household_form.json"))


@functools.lru_cache(maxsize=1)
def private_keys() -> frozenset[str]:
    """Keys of every field (or sub-field) marked ``private: true``: ID numbers, phones, health status …"""
    keys: set[str] = set()
    for entry in form_catalogue():
        if entry.get("private"):
            keys.add(entry["key"])
        keys.update(sub["key"] for sub in entry.get("subfields", []) if sub.get("private"))
    return frozenset(keys)


@functools.lru_cache(maxsize=1)
def risk_labels() -> dict[str, str]:
    """Risk type (A27 风险类型) key → label."""
    return {r["key"]: r["label"] for r in _policy_json("risk_types.json")["risk_types"]}


def risk_text(keys: Iterable[str] | None) -> str:
    return "、".join(risk_labels().get(k, k) for k in keys or [])


def category_name(key: str | None) -> str:
    return HouseholdCategory.label_of(key)


def yes_no(value: Any) -> str:
    return "" if value is None else ("是" if value else "否")


@functools.lru_cache(maxsize=1)
def _measure_codes() -> dict[str, str]:
    """Every way a measure category may be written (label, code, key, form key) → its code A39–A52."""
    names: dict[str, str] = {}
    for measure in _policy_json("measures.json")["measures"]:
        for alias in (measure["code"], measure["category"], measure["label"]):
            names[alias.strip().lower()] = measure["code"]
    for entry in form_catalogue():
        if entry.get("measure_group"):
            names[entry["key"].lower()] = entry["code"]
            names[entry["label"].lower()] = entry["code"]
    return names


def measure_code(category: str | None) -> str | None:
    """The form code (A39–A52) of a measure category as entered in a plan, or None if unknown."""
    return _measure_codes().get((category or "").strip().lower())


@functools.lru_cache(maxsize=1)
def measure_labels() -> dict[str, str]:
    """Code (A39–A52) → category label (产业帮扶 …)."""
    return {m["code"]: m["label"] for m in _policy_json("measures.json")["measures"]}


@dataclass(frozen=True)
class Measure:
    """One assistance measure (帮扶措施) of a plan."""

    category: str
    item: str
    code: str | None

    @property
    def label(self) -> str:
        return measure_labels().get(self.code or "", self.category)

    @property
    def text(self) -> str:
        return f"{self.label}：{self.item}" if self.item else self.label


@dataclass
class PlanSummary:
    """What the completed assistance plans of a household say: responsible person and measures."""

    responsible_person: str | None = None
    publicized_on: date | None = None
    measures: list[Measure] = field(default_factory=list)

    def add(self, data: dict[str, Any]) -> None:
        self.responsible_person = data.get("responsible_person") or self.responsible_person
        self.publicized_on = parse_date(data.get("plan_publicized_on")) or self.publicized_on
        for raw in data.get("measures") or []:
            measure = Measure(str(raw.get("category", "")), str(raw.get("item", "")), measure_code(raw.get("category")))
            if measure not in self.measures:
                self.measures.append(measure)

    def items_for(self, code: str) -> list[str]:
        return [m.item or m.label for m in self.measures if m.code == code]

    @property
    def measures_text(self) -> str:
        return "；".join(m.text for m in self.measures)


def parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def completed_forms(form: str, household_ids: Iterable[int]) -> list[tuple[int, dict[str, Any] | None]]:
    """``(household id, form data)`` of every completed task with ``form``, oldest first."""
    ids = list(household_ids)
    if not ids:
        return []
    return list(db.session.execute(
        select(Case.household_id, HumanTask.form_data).join(HumanTask.case)
        .where(HumanTask.form == form, HumanTask.state == "COMPLETED", Case.household_id.in_(ids))
        .order_by(HumanTask.completed_at, HumanTask.id)
    ))


def plan_summaries(household_ids: Iterable[int]) -> dict[int, PlanSummary]:
    """The assistance measures (帮扶措施) in force per household — those the diagrams recorded from an
    assistance plan or the green channel, without the ones stopped since — and its responsible person.
    ``publicized_on``: the earliest start of those measures."""
    rows = db.session.execute(
        select(MeasureRecord, Household.responsible_person).join(Household, Household.id == MeasureRecord.household_id)
        .where(MeasureRecord.household_id.in_(list(household_ids)), MeasureRecord.ended_on.is_(None))
        .order_by(MeasureRecord.household_id, MeasureRecord.started_on, MeasureRecord.id)
    )
    plans: dict[int, PlanSummary] = {}
    for row, person in rows:
        plan = plans.setdefault(row.household_id, PlanSummary(responsible_person=person, publicized_on=row.started_on))
        code = measure_code(row.code) or row.code
        measure = Measure(measure_labels().get(code, row.code), row.item, code)
        if measure not in plan.measures:
            plan.measures.append(measure)
    return plans


def latest_revisits(household_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The data of each household's latest completed monthly revisit (每月回访), if any."""
    return {household_id: data or {} for household_id, data in completed_forms(REVISIT_FORM, household_ids)}


def revisit_text(data: dict[str, Any] | None) -> str:
    """The effect of assistance as the latest revisit found it (收入稳定、措施落实、有无新风险)."""
    if not data:
        return ""
    parts = [("收入稳定" if data.get("income_stable") else "收入不稳定"),
             ("措施落实到位" if data.get("measures_in_place") else "措施未落实到位"),
             ("出现新风险" if data.get("new_risk") else "无新风险")]
    return f"{data.get('visited_on', '')} 回访：{'，'.join(parts)}"


def latest_incomes(household_ids: Iterable[int], procedure: str | None = None) -> dict[int, IncomeRecord]:
    """The most recently recorded income (收入, A28–A38 inputs) of each household; with ``procedure``, the
    latest recorded by a case of that procedure (识别纳入 or 风险消除)."""
    ids = list(household_ids)
    if not ids:
        return {}
    query = (select(IncomeRecord).where(IncomeRecord.household_id.in_(ids))
             .order_by(IncomeRecord.recorded_at, IncomeRecord.id))
    if procedure:
        query = query.join(Case, IncomeRecord.case_id == Case.id).where(Case.procedure == procedure)
    return {row.household_id: row for row in db.session.scalars(query)}


def case_incomes(case_ids: Iterable[int], as_of: Mapping[int, datetime | None] | None = None
                 ) -> dict[int, IncomeRecord]:
    """The income recorded by each case (at household verification), the latest if several — of all the cases in
    one statement (a publicity list shows hundreds); with ``as_of`` (case id → a moment), only what the case had
    recorded by then (a posted list shows the figures as they were when it was posted)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    query = (select(IncomeRecord).where(IncomeRecord.case_id.in_(ids))
             .order_by(IncomeRecord.recorded_at, IncomeRecord.id))
    limits = as_of or {}
    return {row.case_id: row for row in db.session.scalars(query)  # the latest wins
            if limits.get(row.case_id) is None or row.recorded_at <= limits[row.case_id]}


def figures(record: IncomeRecord | None) -> IncomeFigures | None:
    """A33, A34, A37, A38 of a record (engine.households.income.IncomeFigures)."""
    if record is None or not record.household_size:
        return None
    return IncomeFigures.from_mapping({f: getattr(record, f) for f in INCOME_FIELDS}, record.household_size)


def money(value: Any) -> str:
    return "" if value is None else f"{value:.2f}"


def households_in(jurisdiction: Jurisdiction, *conditions: Any) -> list[Household]:
    """Households of the villages at or below ``jurisdiction``, with members and villages loaded."""
    query = (select(Household).join(Household.village)
             .where(within(Jurisdiction.path, jurisdiction.path), *conditions)
             .options(selectinload(Household.members), selectinload(Household.village))
             .order_by(Jurisdiction.path, Household.number))
    return list(db.session.scalars(query))


def place_names(village: Jurisdiction) -> tuple[str, str]:
    """(township, village) names of a household's village."""
    township = village.ancestor_at(JurisdictionLevel.TOWNSHIP)
    return (township.name if township else ""), village.name
