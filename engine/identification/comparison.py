"""Information comparison (信息比对) reusing an earlier one: 001 Q43 “排查识别监测对象时点前三个月内已开展过信息比对的
低保对象和分散供养特困人员等，可不重复比对” — the county records on the comparison step that it shares the result of
a comparison made within that time (比对结果共用) instead of comparing again. How many months is policy data
(``identification.comparison_reuse_months``, by jurisdiction and date, as in force when the case was opened); a place
without it has no such rule: its comparison form does not offer the reuse (:func:`narrowed`), a completion reusing
one is refused naming the field, and its comparison is always made. Where the rule is in force the form says its
months (the tick's title and description are built from the parameter's value, never a fixed 三个月), and an earlier
comparison's date without the tick is refused at the date: the date belongs to a reuse only."""
from __future__ import annotations

import copy
from datetime import date
from typing import Any

from engine.bpmn.forms import without_fields
from engine.core.errors import PolicyMissing
from engine.core.models import Jurisdiction
from engine.policy.parameters import resolve
from timers.calendar import months_before

REUSE_MONTHS = "identification.comparison_reuse_months"
RULE = "comparison_reuse"  # the form rule (engine.cases.form_rules)
REUSED, EARLIER_ON, COMPARED_ON = "earlier_comparison_reused", "earlier_compared_on", "compared_on"
REUSE_FIELDS = (REUSED, EARLIER_ON)  # the form's fields of a reuse: offered only where the place's rule is in force


def reuse_months(place: Jurisdiction, opened_on: date) -> int | None:
    """The months within which the rule of ``place`` in force on ``opened_on`` lets a comparison be reused; None
    where it has no such rule."""
    try:
        return int(resolve(REUSE_MONTHS, place, opened_on))
    except PolicyMissing:
        return None


def reuse_label(months: int) -> str:
    """The tick's short name with the place's months (“3 个月内已比对”), as its title and its refusals say it."""
    return f"{months} 个月内已比对"


def narrowed(schema: dict[str, Any], place: Jurisdiction, opened_on: date) -> dict[str, Any]:
    """``schema`` without its reuse fields where ``place`` has no rule in force on ``opened_on``; else a copy whose
    tick says the rule's months (title and description)."""
    months = reuse_months(place, opened_on)
    if months is None:
        return without_fields(schema, REUSE_FIELDS)
    form = copy.deepcopy(schema)
    tick = form["properties"][REUSED]
    tick["title"] = f"{reuse_label(months)}（低保对象、分散供养特困人员等），共用比对结果，不重复比对"
    tick["description"] = (f"排查识别监测对象时点前 {months} 个月内已开展过信息比对的低保对象和分散供养特困人员等，"
                           f"可不重复比对，共用比对结果（本地政策参数 {REUSE_MONTHS}）；勾选时须填写此前比对日期。")
    return form


def reuse_problems(data: dict[str, Any], place: Jurisdiction, lead_date: date,
                   opened_on: date) -> list[tuple[str, str]]:
    """Problems of a comparison step that reuses an earlier comparison, as ``(field, reason)`` (empty when it
    reuses none, or may): the place's rule in force on ``opened_on`` allows it, and the earlier comparison lies
    within its months before the time the risk was found (``lead_date``, 排查识别时点) and not after this step's
    date. Where no rule allows it, the reuse and an earlier comparison's date are each refused at their field; where
    one does, a date without the tick is refused at the date (to tick the reuse or clear the date)."""
    months = reuse_months(place, opened_on)
    if months is None:
        rule = f"{place.full_name} 在 {opened_on} 没有“已比对的可不重复比对”的规定（政策参数 {REUSE_MONTHS}）"
        refused = {REUSED: f"{rule}，请开展信息比对", EARLIER_ON: f"{rule}，不填此前比对日期，请开展信息比对"}
        return [(name, reason) for name, reason in refused.items() if data.get(name)]
    if not data.get(REUSED):
        return _date_without_tick(data, months)
    earlier, earliest = date.fromisoformat(data[EARLIER_ON]), months_before(lead_date, months)
    if earlier < earliest:
        window = f"排查识别时点 {lead_date} 前 {months} 个月（{earliest}）"
        return [(EARLIER_ON, f"此前比对日期 {earlier} 早于{window}，不能共用，请重新比对")]
    if earlier > date.fromisoformat(data[COMPARED_ON]):
        return [(EARLIER_ON, f"此前比对日期 {earlier} 晚于本次的比对日期 {data[COMPARED_ON]}")]
    return []


def _date_without_tick(data: dict[str, Any], months: int) -> list[tuple[str, str]]:
    """An earlier comparison's date given without the tick: refused at the date, saying to tick or clear it."""
    if not data.get(EARLIER_ON):
        return []
    tick = f"填写了此前比对日期 {data[EARLIER_ON]}，但未勾选“{reuse_label(months)}”"
    return [(EARLIER_ON, f"{tick}：共用此前比对结果的请勾选此项，本次已开展比对的请清空此前比对日期")]
