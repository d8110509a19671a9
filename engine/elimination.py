"""Risk elimination eligibility (风险消除条件), computed and explained for a monitored household
(DOMAIN.md §4; seed 001 Q30–Q37, seed 000 §4)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from .db import db
from .household_records import completed_forms
from .income import IncomeFigures
from .models import Household, Jurisdiction, Measure
from .policy import monitoring_line

HALF_YEAR_MONTHS = 6


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


def assess(household: Household, on: date, mode: str = "assisted",
           verified_income: IncomeFigures | None = None) -> Eligibility:
    """Whether ``household`` may have its risk eliminated on ``on`` (mode assisted 帮扶消除 / natural 自然消除).

    Without ``verified_income`` this is the quarterly screening: the income condition is checked later
    against the income the township verifies at home (乡镇入户核实)."""
    checks = [_not_social_guarantee(household), _not_too_soon(household, on), _guarantees(household),
              _no_new_risk(household)]
    if verified_income is not None:
        checks.append(_income(household, on, verified_income))
    if mode != "natural":  # Q32: natural elimination is exempt from the half-year rules
        checks[1:1] = [_measures_half_year(household, on), _stable_half_year(household, on)]
    return Eligibility(household, checks)


def _not_social_guarantee(h: Household) -> Check:
    return Check("非整户无劳动能力兜底保障户", not h.social_guarantee,
                 "兜底保障户不标注风险消除，持续跟踪（Q34）" if h.social_guarantee else "否")


def _not_too_soon(h: Household, on: date) -> Check:
    if h.identified_on is None:
        return Check("不在识别当月或次月消除", False, "没有识别日期")
    months = (on.year - h.identified_on.year) * 12 + on.month - h.identified_on.month
    return Check("不在识别当月或次月消除", months >= 2, f"{h.identified_on} 纳入，距今 {months} 个月（Q37）")


def _measures_half_year(h: Household, on: date) -> Check:
    first = db.session.scalar(select(Measure.started_on).filter_by(household_id=h.id).order_by(Measure.started_on))
    limit = months_before(on, HALF_YEAR_MONTHS)
    if first is None:
        return Check("帮扶措施落实半年以上", False, "没有登记帮扶措施")
    return Check("帮扶措施落实半年以上", first < limit, f"措施自 {first} 起落实（须早于 {limit}）")


def _revisits(h: Household) -> list[dict]:
    """The household's monthly revisits (每月回访), newest first."""
    return [data for _, data in reversed(completed_forms("monthly_revisit.json", [h.id])) if data]


def _stable_half_year(h: Household, on: date) -> Check:
    recent = _revisits(h)[:HALF_YEAR_MONTHS]
    stable = len(recent) >= HALF_YEAR_MONTHS and all(r.get("income_stable") for r in recent)
    return Check("收入持续稳定半年以上", stable,
                 f"最近 {len(recent)} 次每月回访中收入稳定 {sum(bool(r.get('income_stable')) for r in recent)} 次")


def _no_new_risk(h: Household) -> Check:
    recent = _revisits(h)[:1]
    risky = bool(recent and recent[0].get("new_risk"))
    return Check("无新的返贫致贫风险", not risky, "最近一次回访发现新风险" if risky else "无")


def _guarantees(h: Household) -> Check:
    problems = [name for flag, name in ((h.housing_unsafe, "住房"), (h.compulsory_education_dropout, "义务教育"),
                                        (h.drinking_water_unsafe, "饮水"),
                                        (h.no_basic_medical_insurance, "基本医疗保险")) if flag]
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
        .where(Household.status == "monitored", Jurisdiction.path.startswith(township.path)))
    results = [assess(h, on) for h in households]
    return sorted(results, key=lambda e: (not e.eligible, e.household.number))
