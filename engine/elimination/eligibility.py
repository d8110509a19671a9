"""Risk elimination eligibility (风险消除条件), computed and explained for a monitored household
(DOMAIN.md §4; seed 001 Q30–Q37, seed 000 §4)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from engine.bpmn.decision_tables import decide, decision_with_output, tables_of
from engine.bpmn.source import DiagramSource
from engine.core.db import db
from engine.core.errors import DecisionInvalid, PolicyMissing
from engine.core.models import Case, Household, Jurisdiction, Measure, ProcessVersion
from engine.core.vocabulary import HouseholdStatus, Procedure
from engine.elimination.income import elimination_line
from engine.households.guarantees import guarantee_problems
from engine.households.income import IncomeFigures
from engine.households.records import REVISIT_FORM, completed_forms
from engine.policy.bindings import bound_version
from engine.policy.parameters import PROCESS_SUFFIX, resolve
from timers.calendar import months_before

ASSISTANCE_MONTHS = "elimination.assistance_months"
EARLIEST_MONTH = "elimination.earliest_month_after_identification"
EARLIEST_BASIS = "elimination.earliest_month_basis"  # optional: the place's own document for it (江西省问答第37条)
BINDING = f"{Procedure.ELIMINATION.value}{PROCESS_SUFFIX}"  # which diagram (and so which tables) a village runs
CONDITION_MET = "condition_met"
OUTPUTS = ("condition", CONDITION_MET, "condition_detail")  # the table's columns: one row per condition
TOLD = "household_reason"  # an optional column: what the household is told when the condition is not met


@dataclass(frozen=True)
class Durations:
    """The time limits of the conditions, policy data by jurisdiction and date: measures in force and income
    stable at least ``assistance_months`` (半年以上 = 6), and no elimination before the ``earliest_month``-th month
    after the identification month (Q37 不得当月进当月出或次月出 = 2); ``earliest_basis``: the place's own document
    for that month rule, cited after it (None where the place has none: nothing is cited)."""

    assistance_months: int
    earliest_month: int
    earliest_basis: str | None = None

    @classmethod
    def of(cls, household: Household, on: date) -> Durations:
        try:
            basis = str(resolve(EARLIEST_BASIS, household.village, on)).strip() or None
        except PolicyMissing:
            basis = None
        return cls(int(resolve(ASSISTANCE_MONTHS, household.village, on)),
                   int(resolve(EARLIEST_MONTH, household.village, on)), basis)

    @property
    def assistance_text(self) -> str:
        return "半年" if self.assistance_months == 6 else f"{self.assistance_months} 个月"


@dataclass(frozen=True)
class History:
    """What the conditions read of a household's record: its first measure and its monthly revisits (每月回访),
    newest first."""

    first_measure: date | None = None
    revisits: list[dict] = field(default_factory=list)


def histories(household_ids: Iterable[int]) -> dict[int, History]:
    """History of each household, in two queries whatever their number."""
    ids = list(household_ids)
    firsts = dict(db.session.execute(select(Measure.household_id, func.min(Measure.started_on))
                                     .where(Measure.household_id.in_(ids)).group_by(Measure.household_id)).all())
    revisits: dict[int, list[dict]] = {}
    for household_id, data in reversed(completed_forms(REVISIT_FORM, ids)):
        if data:
            revisits.setdefault(household_id, []).append(data)
    return {i: History(firsts.get(i), revisits.get(i, [])) for i in ids}


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str
    told: str = ""  # not met: the reason in the household's words (the table's household_reason), if it gives one


@dataclass(frozen=True)
class Eligibility:
    household: Household
    checks: list[Check]
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def explanation(self) -> str:
        text = "；".join(f"{'✓' if c.passed else '✗'} {c.name}：{c.detail}" for c in self.checks)
        if not self.facts.get("income_verified"):
            text += "；收入是否高于当年监测范围、刚性支出问题是否解决，由乡镇入户核实"
        return text

    @property
    def household_reason(self) -> str:
        """Why the household's risk is not eliminated, as its written notice (告知) says it: each unmet condition in
        plain words — no tick marks, figures or citations, which stay in :attr:`explanation` for the officials; a
        condition whose table gives no such words is named as the condition still to be met. Empty if eligible."""
        failed = [c for c in self.checks if not c.passed]
        told = [c.told for c in failed if c.told]
        unnamed = [c.name for c in failed if not c.told]
        if unnamed:
            told.append(f"尚未符合风险消除条件：{'、'.join(unnamed)}")
        return "；".join(told)


def assess(household: Household, on: date, mode: str = "assisted", verified_income: IncomeFigures | None = None,
           history: History | None = None, durations: Durations | None = None,
           tables: Sequence[DiagramSource] | None = None, eliminated_on: date | None = None) -> Eligibility:
    """Whether ``household`` may have its risk eliminated on ``on`` (mode assisted 帮扶消除 / natural 自然消除):
    the facts of the household (:func:`elimination_facts`) decided by the decision table of its elimination
    diagram (``tables``; by default :func:`deciding_tables`).

    Without ``verified_income`` this is the quarterly screening: the income condition is checked later
    against the income the township verifies at home (乡镇入户核实), and the line of the year of the elimination —
    ``eliminated_on``, the day of elimination once it is known; until then ``on`` stands for it
    (:mod:`engine.elimination.income`)."""
    history = history or histories([household.id])[household.id]
    durations = durations or Durations.of(household, on)
    line_day = eliminated_on or on
    line = elimination_line(household, line_day) if verified_income is not None else None
    facts = elimination_facts(household, on, mode, history, durations, verified_income, line, line_day.year)
    if tables is None:
        tables = deciding_tables([household], on)[household.id]
    return Eligibility(household, decide_conditions(facts, tables), facts)


def elimination_facts(h: Household, on: date, mode: str, history: History, durations: Durations,
                      figures: IncomeFigures | None = None, line: Decimal | None = None,
                      line_year: int | None = None) -> dict[str, Any]:
    """What the decision table ``elimination_conditions`` reads (``facts[...]``), plain JSON values: the
    household's record on ``on`` and the time limits in force, never whether they are enough; ``line``: the
    monitoring line of ``line_year`` (by default the year of ``on``) the verified income is measured against."""
    months = durations.assistance_months
    recent = history.revisits[:months]
    stable = sum(bool(r.get("income_stable")) for r in recent)
    identified = h.identified_on
    since = (on.year - identified.year) * 12 + on.month - identified.month if identified else 0
    facts: dict[str, Any] = {
        "mode": str(mode),
        "social_guarantee": bool(h.social_guarantee),
        "assistance_months": months,
        "assistance_text": durations.assistance_text,
        "has_measures": history.first_measure is not None,
        "first_measure": history.first_measure.isoformat() if history.first_measure else None,
        "measures_limit": months_before(on, months).isoformat(),
        "recent_revisits": len(recent),
        "stable_revisits": stable,
        "revisits_text": f"最近 {len(recent)} 次每月回访中收入稳定 {stable} 次",
        "identified": identified is not None,
        "months_since_identification": since,
        "earliest_month": durations.earliest_month,
        "earliest_text": ("不在识别当月或次月" if durations.earliest_month == 2
                          else f"识别后第 {durations.earliest_month} 个月起"),
        "identification_text": (f"{identified} 纳入，距今 {since} 个月"
                                + (f"（{durations.earliest_basis}）" if durations.earliest_basis else "")
                                if identified else ""),
        "guarantee_problem": False,
        "guarantee_text": "",
        "new_risk": bool(history.revisits and history.revisits[0].get("new_risk")),
        "income_verified": figures is not None,
        "net_income_per_capita": None,
        "income_reference_per_capita": None,
        "monitoring_line": None,
        "income_text": "",
    }
    problems = [p.label for p in guarantee_problems(h)]  # A23–A26
    facts.update(guarantee_problem=bool(problems), guarantee_text="、".join(problems))
    if figures is not None:
        if line is None:
            raise ValueError("verified income is measured against the monitoring line in force: line is needed")
        a34, a38 = figures.net_income_per_capita, figures.income_reference_per_capita
        facts.update(net_income_per_capita=float(a34), income_reference_per_capita=float(a38),
                     monitoring_line=float(line),
                     income_text=f"人均纯收入 {a34}，人均收入参考范围 {a38}，{line_year or on.year} 年监测范围 {line}")
    return facts


def decide_conditions(facts: dict[str, Any], tables: Sequence[DiagramSource]) -> list[Check]:
    """Apply the elimination table among ``tables`` (the decision with a ``condition_met`` output, hit policy
    COLLECT: one row per condition) to ``facts``; DecisionInvalid (naming the table) if its answer is not usable."""
    decision_id = decision_with_output(tables, CONDITION_MET)
    result = decide(decision_id, {"facts": facts}, tables)
    names, met, details = (result.get(name) for name in OUTPUTS)
    told = result.get(TOLD) if isinstance(result.get(TOLD), list) else [None] * len(met or [])
    if not isinstance(met, list) or not met:
        raise DecisionInvalid(f"风险消除条件决策表 {decision_id} 没有符合的规则（应采用 COLLECT，每项条件一条符合的规则）")
    if not (isinstance(names, list) and isinstance(details, list) and len(names) == len(met) == len(details)):
        raise DecisionInvalid(f"风险消除条件决策表 {decision_id} 应有输出 {'、'.join(OUTPUTS)}，且采用 COLLECT")
    if any(not isinstance(m, bool) for m in met):
        raise DecisionInvalid(f"风险消除条件决策表 {decision_id} 的输出 {CONDITION_MET} 应为 True 或 False，"
                              f"实际为 {'、'.join(repr(m) for m in met if not isinstance(m, bool))}")
    if len(told) != len(met):
        raise DecisionInvalid(f"风险消除条件决策表 {decision_id} 的输出 {TOLD} 应与其他输出一样每条规则一项")
    return [Check(str(n or ""), m, str(d if d is not None else ""), str(t or ""))
            for n, m, d, t in zip(names, met, details, told, strict=True)]


def deciding_tables(households: Iterable[Household], on: date) -> dict[int, list[DiagramSource]]:
    """The decision tables deciding each household's elimination on ``on``: those deployed with its running
    elimination case's version, else with the version a new elimination would start on at its village
    (the ``elimination.process`` binding in force there). One query for the running cases, one binding per village."""
    households = list(households)
    running = dict(db.session.execute(
        select(Case.household_id, Case.process_version_id)
        .where(Case.household_id.in_([h.id for h in households]), Case.procedure == Procedure.ELIMINATION.value,
               Case.status == "running")).all())
    by_version: dict[int, list[DiagramSource]] = {}
    bound: dict[int, int] = {}  # village id → version id

    def of(version: ProcessVersion) -> list[DiagramSource]:
        if version.id not in by_version:
            by_version[version.id] = tables_of(version)
        return by_version[version.id]

    out = {}
    for h in households:
        if h.id in running:
            out[h.id] = of(db.session.get(ProcessVersion, running[h.id]))
            continue
        if h.village_id not in bound:
            bound[h.village_id] = bound_version(resolve(BINDING, h.village, on)).id
        out[h.id] = of(db.session.get(ProcessVersion, bound[h.village_id]))
    return out


def evaluation_list(township: Jurisdiction, on: date) -> list[Eligibility]:
    """The township's quarterly evaluation (乡镇季度研判): its monitored households, eligible ones first."""
    households = db.session.scalars(
        select(Household).join(Jurisdiction, Household.village_id == Jurisdiction.id)
        .where(Household.status == HouseholdStatus.MONITORED, Jurisdiction.path.startswith(township.path)))
    households = list(households)
    history = histories(h.id for h in households)
    durations: dict[int, Durations] = {}  # per village
    for h in households:
        if h.village_id not in durations:
            durations[h.village_id] = Durations.of(h, on)
    tables = deciding_tables(households, on)
    results = [assess(h, on, history=history[h.id], durations=durations[h.village_id], tables=tables[h.id])
               for h in households]
    return sorted(results, key=lambda e: (not e.eligible, e.household.number))
