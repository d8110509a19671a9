"""A household's information form (防止返贫动态监测对象信息采集表) in the A1–A55 layout: the fields of
``policy/household_form.json`` in their order, with labels, filled from the household, its members, the
latest income record and the assistance plans. For authorized officials only: private fields (ID numbers,
phone, health status) are shown here, flagged as private, and must never be copied to a publicity list."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.core.models import Household, IncomeRecord, Member
from engine.core.vocabulary import EliminationMode
from engine.households.guarantees import no_basic_medical_insurance
from engine.households.income import IncomeFigures
from engine.households.poverty_policy import status_label
from engine.households.records import (
    PlanSummary,
    category_name,
    figures,
    form_catalogue,
    latest_incomes,
    money,
    plan_summaries,
    risk_text,
    yes_no,
)
from timers.calendar import to_local_date

INCOME_INPUTS = {"wages_income": "wages"}  # form key → IncomeRecord attribute where they differ


@dataclass(frozen=True)
class SheetField:
    code: str | None
    label: str
    value: str
    private: bool = False


@dataclass
class Section:
    """Consecutive household fields, or the member table (A5–A22, one row per member)."""

    kind: str  # "fields" | "members"
    fields: list[SheetField] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True)
class SheetContext:
    household: Household
    record: IncomeRecord | None
    figures: IncomeFigures | None
    plan: PlanSummary | None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    return str(value)


def _address(h: Household) -> str:
    return f"{h.village.full_name}{h.group_name or ''}" + (f"（{h.address}）" if h.address else "")


SPECIAL: dict[str, Callable[[SheetContext], Any]] = {
    "fill_date": lambda c: to_local_date(c.record.recorded_at) if c.record else None,
    "address": lambda c: _address(c.household),
    "phone": lambda c: c.household.contact_phone,
    "category": lambda c: category_name(c.household.category),
    "household_size": lambda c: c.household.size,
    "risk_types": lambda c: risk_text(c.household.risk_types),
    "elimination_mode": lambda c: EliminationMode.label_of(c.household.elimination_mode),
    "no_basic_medical_insurance": lambda c: no_basic_medical_insurance(c.household),  # A26: A17 or the verification
    "is_formerly_poor": lambda c: status_label(c.household),  # A4 with 享受政策 / 不再享受政策 (脱贫人口分类管理)
}


def _measure(entry: dict[str, Any], ctx: SheetContext) -> str:
    items = ctx.plan.items_for(entry["code"]) if ctx.plan else []
    if entry["type"] == "boolean":
        return yes_no(bool(items)) if ctx.plan else ""
    return "、".join(items)


def _income(key: str, ctx: SheetContext) -> str:
    if ctx.figures is None:
        return ""
    return money(getattr(ctx.figures, INCOME_INPUTS.get(key, key)))


def household_value(entry: dict[str, Any], ctx: SheetContext) -> str:
    key = entry["key"]
    if key in SPECIAL:
        return _text(SPECIAL[key](ctx))
    if entry.get("measure_group"):
        return _measure(entry, ctx)
    if entry.get("unit") == "元":
        return _income(key, ctx)
    return _text(getattr(ctx.household, key, None))


def _contact_fields(entry: dict[str, Any], household: Household) -> list[SheetField]:
    """A55 监测联系人 and its phone (the household's only recorded phone is the header field 联系电话)."""
    values = {"contact_name": household.monitoring_contact, "contact_phone": None}
    return [SheetField(entry["code"], sub["label"], _text(values.get(sub["key"])), bool(sub.get("private")))
            for sub in entry["subfields"]]


def _member_row(member: Member, keys: list[str]) -> list[str]:
    return [_text(getattr(member, key, None)) for key in keys] + [yes_no(member.lives_with_household)]


def information_form(household: Household) -> list[Section]:
    """The form's sections in catalogue order."""
    record = latest_incomes([household.id]).get(household.id)
    ctx = SheetContext(household, record, figures(record), plan_summaries([household.id]).get(household.id))
    sections: list[Section] = []
    for entry in form_catalogue():
        kind = "members" if entry["scope"] == "member" else "fields"
        if not sections or sections[-1].kind != kind:
            sections.append(Section(kind))
        section = sections[-1]
        if kind == "members":
            section.fields.append(SheetField(entry["code"], entry["label"], "", bool(entry.get("private"))))
        elif entry.get("subfields"):
            section.fields.extend(_contact_fields(entry, household))
        else:
            section.fields.append(SheetField(entry["code"], entry["label"], household_value(entry, ctx),
                                             bool(entry.get("private"))))
    member_keys = [e["key"] for e in form_catalogue() if e["scope"] == "member"]
    for section in sections:
        if section.kind == "members":
            section.fields.append(SheetField(None, "实际共同生活", ""))
            section.rows = [_member_row(m, member_keys) for m in household.members]
    return sections
