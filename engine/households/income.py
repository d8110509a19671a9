"""Household income (家庭收入) and the formulas of the information form, A28–A38."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select

from engine.core.db import db
from engine.core.models import IncomeRecord
from engine.core.vocabulary import IncomeWindowAnchor
from engine.core.writes import insert_rows

CENT = Decimal("0.01")

INCOME_FIELDS = (
    "wages", "business_income", "property_income", "transfer_income", "business_expenses",
    "insurance_payouts", "compliant_out_of_pocket",
)  # fmt: skip


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class IncomeFigures:
    """Inputs A28–A32, A35, A36 and the household size; the computed fields are properties."""

    household_size: int
    wages: Decimal = Decimal(0)  # A28 工资性收入
    business_income: Decimal = Decimal(0)  # A29 生产经营性收入
    property_income: Decimal = Decimal(0)  # A30 财产性收入
    transfer_income: Decimal = Decimal(0)  # A31 转移性收入
    business_expenses: Decimal = Decimal(0)  # A32 生产经营性支出
    insurance_payouts: Decimal = Decimal(0)  # A35 理赔收入
    compliant_out_of_pocket: Decimal = Decimal(0)  # A36 合规自付支出

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], household_size: int) -> IncomeFigures:
        if household_size < 1:
            raise ValueError("家庭人口数至少为 1")
        return cls(household_size=household_size, **{f: _money(data.get(f)) for f in INCOME_FIELDS})

    @property
    def net_income(self) -> Decimal:
        """A33 家庭纯收入 = A28 + A29 + A30 + A31 − A32."""
        return self.wages + self.business_income + self.property_income + self.transfer_income - self.business_expenses

    @property
    def net_income_per_capita(self) -> Decimal:
        """A34 家庭人均纯收入 = A33 / household size."""
        return (self.net_income / self.household_size).quantize(CENT, ROUND_HALF_UP)

    @property
    def income_reference(self) -> Decimal:
        """A37 收入参考范围 = A33 + A35 − A36."""
        return self.net_income + self.insurance_payouts - self.compliant_out_of_pocket

    @property
    def income_reference_per_capita(self) -> Decimal:
        """A38 人均收入参考范围 = A37 / household size."""
        return (self.income_reference / self.household_size).quantize(CENT, ROUND_HALF_UP)

    def to_dict(self) -> dict[str, float | int]:
        """Inputs and computed fields (A33, A34, A37, A38) as plain numbers."""
        out: dict[str, float | int] = {f: float(getattr(self, f)) for f in INCOME_FIELDS}
        out["household_size"] = self.household_size
        for name in ("net_income", "net_income_per_capita", "income_reference", "income_reference_per_capita"):
            out[name] = float(getattr(self, name))
        return out


def income_window(month_of: date) -> tuple[date, date]:
    """The 12 months ending with the month before ``month_of``'s month (收入计算区间).

    Identified in June 2021 → 2020-06-01 … 2021-05-31.
    """
    end_month_first = date(month_of.year, month_of.month, 1)
    start = date(end_month_first.year - 1, end_month_first.month, 1)
    last = date.fromordinal(end_month_first.toordinal() - 1)
    return start, last


def window_anchor(anchor: str, *, discovered_on: date, identified_on: date) -> date:
    """The day whose month the income window is reckoned back from, by the place's rule ``anchor``
    (:class:`~engine.core.vocabulary.IncomeWindowAnchor`): the month of identification (001 Q10 “从识别纳入月份的上一个月，
    向前推算一年”) or the month the household was found (003 “农户发现月份的上年度本月到本年度上月”)."""
    days = {IncomeWindowAnchor.IDENTIFICATION_MONTH: identified_on, IncomeWindowAnchor.DISCOVERY_MONTH: discovered_on}
    if anchor not in days:
        choices = "、".join(f"{code}（{label}）" for code, label in IncomeWindowAnchor.labels().items())
        raise ValueError(f"收入计算时间的起算月份 {anchor!r} 无效：应为 {choices} 之一")
    return days[anchor]


def settle_income_window(case_id: int, window: tuple[date, date]) -> tuple[date, date] | None:
    """The latest income the case verified counts over ``window`` from now on — the 12 months once the month they
    are reckoned from is known (a case identified in a later month than it was verified in). The window it had
    before, or None if it had this one already or the case verified no income."""
    record = db.session.scalar(select(IncomeRecord).filter_by(case_id=case_id)
                               .order_by(IncomeRecord.recorded_at.desc(), IncomeRecord.id.desc()).limit(1))
    if record is None or (record.window_start, record.window_end) == window:
        return None
    before = (record.window_start, record.window_end)
    record.window_start, record.window_end = window
    return before


def record_income(figures: IncomeFigures, window: tuple[date, date], *, household_id: int, case_id: int | None,
                  at: datetime, by: str) -> IncomeRecord:
    """Keep the verified income of a household over ``window`` (a new record, written at once in one statement;
    earlier ones stay)."""
    record = IncomeRecord(household_id=household_id, case_id=case_id, window_start=window[0], window_end=window[1],
                          recorded_at=at, recorded_by=by, **dict(figures.__dict__))
    insert_rows([record])
    return record
