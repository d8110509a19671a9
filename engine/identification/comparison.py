"""Information comparison (信息比对) reusing an earlier one: 001 Q43 “排查识别监测对象时点前三个月内已开展过信息比对的
低保对象和分散供养特困人员等，可不重复比对” — the county records on the comparison step that it shares the result of
a comparison made within that time (比对结果共用) instead of comparing again. How many months is policy data
(``identification.comparison_reuse_months``, by jurisdiction and date, as in force when the case was opened); a place
without it has no such rule, and its comparison is always made."""
from __future__ import annotations

from datetime import date
from typing import Any

from engine.core.errors import PolicyMissing
from engine.core.models import Jurisdiction
from engine.policy.parameters import resolve
from timers.calendar import months_before

REUSE_MONTHS = "identification.comparison_reuse_months"
REUSED, EARLIER_ON, COMPARED_ON = "earlier_comparison_reused", "earlier_compared_on", "compared_on"


def reuse_problems(data: dict[str, Any], place: Jurisdiction, lead_date: date,
                   opened_on: date) -> list[tuple[str, str]]:
    """Problems of a comparison step that reuses an earlier comparison, as ``(field, reason)`` (empty when it
    reuses none, or may): the place's rule in force on ``opened_on`` allows it, and the earlier comparison lies
    within its months before the time the risk was found (``lead_date``, 排查识别时点) and not after this step's
    date."""
    if not data.get(REUSED):
        return []
    try:
        months = int(resolve(REUSE_MONTHS, place, opened_on))
    except PolicyMissing:
        rule = f"{place.full_name} 在 {opened_on} 没有“已比对的可不重复比对”的规定（政策参数 {REUSE_MONTHS}）"
        return [(REUSED, f"{rule}，请开展信息比对")]
    earlier, earliest = date.fromisoformat(data[EARLIER_ON]), months_before(lead_date, months)
    if earlier < earliest:
        window = f"排查识别时点 {lead_date} 前 {months} 个月（{earliest}）"
        return [(EARLIER_ON, f"此前比对日期 {earlier} 早于{window}，不能共用，请重新比对")]
    if earlier > date.fromisoformat(data[COMPARED_ON]):
        return [(EARLIER_ON, f"此前比对日期 {earlier} 晚于本次的比对日期 {data[COMPARED_ON]}")]
    return []
