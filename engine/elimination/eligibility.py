"""Risk elimination eligibility (风险消除条件), computed and explained for a monitored household
(DOMAIN.md §4; seed 001 Q30–Q37, seed 000 §4)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from engine.core.db import db
from engine.core.models import Household, Jurisdiction, Measure
from engine.core.vocabulary import HouseholdStatus
from engine.households.guarantees import guarantee_problems, medical_insurance_findings
from engine.households.income import IncomeFigures
from engine.households.records import completed_forms
from engine.policy.parameters import monitoring_line, resolve

ASSISTANCE_MONTHS = "elimination.assistance_months"
EARLIEST_MONTH = "elimination.earliest_month_after_identification"


@dataclass(frozen=True)
class Durations:
    """The time limits of the conditions, policy data by jurisdiction and date: measures in force and income
    stable at least ``assistance_months`` (半年以上 = 6), and no elimination before the ``earliest_month``-th month
    after the identification month (Q37 不得当月进当月出或次月出 = 2)."""

    assistance_months: int
    earliest_month: int

    @classmethod
    def of(cls, household: Household, on: date) -> Durations:
        return cls(int(resolve(ASSISTANCE_MONTHS, household.village, on)),
                   int(resolve(EARLIEST_MONTH, household.village, on)))

    @property
    def assistance_text(self) -> str:
        return "半年" if self.assistance_months == 6 else f"{self.assistance_months} 个月"


@dataclass(frozen=True)
class History:
    """What the conditions read of a household's record: its first measure, its monthly revisits (每月回访),
    newest first, and whether the latest verification found a member without basic medical insurance (A26)."""

    first_measure: date | None = None
    revisits: list[dict] = field(default_factory=list)
    no_medical_insurance_found: bool = False


def histories(household_ids: Iterable[int]) -> dict[int, History]:
    """History of each household, in three queries whatever their number."""
    ids = list(household_ids)
    firsts = dict(db.session.execute(select(Measure.household_id, func.min(Measure.started_on))
                                     .where(Measure.household_id.in_(ids)).group_by(Measure.household_id)).all())
    revisits: dict[int, list[dict]] = {}
    for household_id, data in reversed(completed_forms("monthly_revisit.json", ids)):
        if data:
            revisits.setdefault(household_id, []).append(data)
    medical = medical_insurance_findings(ids)
    return {i: History(firsts.get(i), revisits.get(i, []), medical.get(i, False)) for i in ids}


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Eligibility:
    household: Household
    checks: list[Check]

    @property
    def eligible(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def explanation(self) -> str:
        text = "；".join(f"{'✓' if c.passed else '✗'} {c.name}：{c.detail}" for c in self.checks)
        if not any(c.name.startswith("收入高于") for c in self.checks):
            text += "；收入是否高于当年监测范围、刚性支出问题是否解决，由乡镇入户核实"
        return text


def months_before(day: date, months: int) -> date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    from calendar import monthrange

    return date(year, month, min(day.day, monthrange(year, month)[1]))


def assess(household: Household, on: date, mode: str = "assisted", verified_income: IncomeFigures | None = None,
           history: History | None = None, durations: Durations | None = None) -> Eligibility:
    """Whether ``household`` may have its risk eliminated on ``on`` (mode assisted 帮扶消除 / natural 自然消除).

    Without ``verified_income`` this is the quarterly screening: the income condition is checked later
    against the income the township verifies at home (乡镇入户核实)."""
    history = history or histories([household.id])[household.id]
    durations = durations or Durations.of(household, on)
    checks = [_not_social_guarantee(household), _not_too_soon(household, on, durations),
              _guarantees(household, history), _no_new_risk(history)]
    if verified_income is not None:
        checks.append(_income(household, on, verified_income))
    if mode != "natural":  # Q32: natural elimination is exempt from the half-year rules
        checks[1:1] = [_measures_long_enough(history, on, durations), _stable_long_enough(history, durations)]
    return Eligibility(household, checks)


def _not_social_guarantee(h: Household) -> Check:
    return Check("非整户无劳动能力兜底保障户", not h.social_guarantee,
                 "兜底保障户不标注风险消除，持续跟踪（Q34）" if h.social_guarantee else "否")


def _not_too_soon(h: Household, on: date, durations: Durations) -> Check:
    name = ("不在识别当月或次月消除" if durations.earliest_month == 2
            else f"识别后第 {durations.earliest_month} 个月起消除")
    if h.identified_on is None:
        return Check(name, False, "没有识别日期")
    months = (on.year - h.identified_on.year) * 12 + on.month - h.identified_on.month
    return Check(name, months >= durations.earliest_month, f"{h.identified_on} 纳入，距今 {months} 个月（Q37）")


def _measures_long_enough(history: History, on: date, durations: Durations) -> Check:
    name = f"帮扶措施落实{durations.assistance_text}以上"
    limit = months_before(on, durations.assistance_months)
    if history.first_measure is None:
        return Check(name, False, "没有登记帮扶措施")
    return Check(name, history.first_measure < limit, f"措施自 {history.first_measure} 起落实（须早于 {limit}）")


def _stable_long_enough(history: History, durations: Durations) -> Check:
    months = durations.assistance_months
    recent = history.revisits[:months]
    stable = len(recent) >= months and all(r.get("income_stable") for r in recent)
    return Check(f"收入持续稳定{durations.assistance_text}以上", stable,
                 f"最近 {len(recent)} 次每月回访中收入稳定 {sum(bool(r.get('income_stable')) for r in recent)} 次")


def _no_new_risk(history: History) -> Check:
    risky = bool(history.revisits and history.revisits[0].get("new_risk"))
    return Check("无新的返贫致贫风险", not risky, "最近一次回访发现新风险" if risky else "无")


GUARANTEE_NAMES = {"housing_unsafe": "住房", "compulsory_education_dropout": "义务教育", "drinking_water_unsafe": "饮水",
                   "no_basic_medical_insurance": "基本医疗保险"}  # A23–A26 as the check names them


def _guarantees(h: Household, history: History) -> Check:
    problems = [GUARANTEE_NAMES[p.value] for p in guarantee_problems(h, history.no_medical_insurance_found)]
    return Check("“三保障”和饮水安全有保障", not problems, "、".join(problems) + "未保障" if problems else "有保障")


def _income(h: Household, on: date, figures: IncomeFigures) -> Check:
    line = monitoring_line(h.village, on.year)
    ok = figures.net_income_per_capita > line and figures.income_reference_per_capita > line
    return Check("收入高于当年监测范围且刚性支出问题已解决", ok,
                 f"人均纯收入 {figures.net_income_per_capita}，人均收入参考范围 {figures.income_reference_per_capita}，"
                 f"{on.year} 年监测范围 {line}")


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
    results = [assess(h, on, history=history[h.id], durations=durations[h.village_id]) for h in households]
    return sorted(results, key=lambda e: (not e.eligible, e.household.number))
