"""A case's audit trail in words (办理记录): each entry headed by its action's label (AuditAction) and told from its
detail with the labels of the codes it holds — outcomes, statuses, categories, measure categories — never a code.
Private values of a detail (a leaving member's ID number) are masked."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.accounts.users import display_names
from engine.bpmn.forms import load_form
from engine.cases.lifecycle import BACKFILL_REASON
from engine.core.errors import NotFound
from engine.core.vocabulary import (
    AuditAction,
    CaseOutcome,
    Channel,
    EliminationMode,
    EliminationWindowAnchor,
    HouseholdCategory,
    HouseholdStatus,
    IncomeWindowAnchor,
    WarningStatus,
    option_labels,
)
from engine.households.measures import categories
from engine.households.privacy import mask_id_number
from engine.policy.roles import all_roles
from timers.calendar import display_deadline

MEMBER_CHANGE_FORM = "member_change.json"  # the words of a member change's type (members_changed)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    title: str
    text: str


def timeline(events: list, names: dict[str, str] | None = None) -> list[TimelineEntry]:
    """The audit trail of a case (操作留痕) in words, each with the official's name (``names``: of
    :func:`engine.accounts.users.display_names`, if the caller has read them for every actor of ``events``)."""
    names = display_names(e.actor for e in events) if names is None else names
    return [TimelineEntry(e.at, names.get(e.actor, e.actor), AuditAction.label_of(e.action),
                          describe_event(e.action, e.detail or {})) for e in events]


def describe_event(action: str, detail: dict) -> str:
    """What an entry of ``action`` says, from its ``detail`` ("" for an action whose label says it all)."""
    describe = _EVENTS.get(action)
    return describe(detail) if describe is not None else ""


def deadline_text(value: Any) -> str:
    """A stored deadline (ISO text or datetime) in China Standard Time; midnight reads as 24:00 of the day before."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return f"{moment:%Y-%m-%d %H:%M}"
    return display_deadline(moment)


def backfill_reason(opened: dict) -> str:
    """Why a lead found long ago was opened only then (补录说明), from the detail of the case's opening, or ""."""
    reason = (opened.get("application") or {}).get(BACKFILL_REASON)
    return reason if isinstance(reason, str) else ""


def _role(key: str | None) -> str:
    role = all_roles().get(key or "")
    return role.name if role else (key or "")


def _day(value: Any) -> str:
    return str(value or "")[:10]


def _with_reason(text: str, d: dict) -> str:
    return text + (f"：{d['reason']}" if d.get("reason") else "")


def _yuan(value: Any) -> str:
    """An amount of yuan as recorded (a float or a decimal's text in an audit entry): 10500, 10500.5."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return str(value or "")
    return str(int(amount)) if amount.is_integer() else f"{amount:.2f}"


def _outcome(d: dict) -> str:
    """How the case ended, and why — the reason alone when it begins with the outcome's own words."""
    label, reason = CaseOutcome.label_of(d.get("outcome", "")), str(d.get("reason") or "")
    return reason if label and reason.startswith(label) else _with_reason(label, d)


def _opened(d: dict) -> str:
    if d.get("channel") == Channel.MONITORING and d.get("subject"):  # a case about no household (a monthly report,
        return str(d["subject"])  # a campaign, a department's batch): found by no channel on no date
    detail = (d.get("application") or {}).get("channel_detail")
    text = f"发现渠道：{Channel.label_of(d.get('channel', ''))}，发现日期 {d.get('lead_date', '')}"
    reason = backfill_reason(d)
    return text + (f"（{detail}）" if detail else "") + (f"；补录说明：{reason}" if reason else "")


def _ready(d: dict) -> str:
    due = f"，期限 {deadline_text(d['due_at'])}" if d.get("due_at") else ""
    return f"{d.get('step', '')}（{_role(d.get('role'))}{due}）"


def _fired(d: dict) -> str:
    labels = [t.get("timer", "") for t in d.get("timers", [])]
    return ("、".join(labels) + " 到期") if labels else "定时器到期"


def _publicity_closed(d: dict) -> str:
    info = d.get("publicity") or {}
    return f"{info.get('level', '')}公示{info.get('days', '')}天期满"


def _monitored(d: dict) -> str:
    return f"{HouseholdCategory.label_of(d.get('category', ''))}，识别日期 {_day(d.get('identified_on'))}"


_WINDOW_ANCHORS = IncomeWindowAnchor.labels() | EliminationWindowAnchor.labels()  # identification's, elimination's


def _income_window(d: dict) -> str:
    window, before = d.get("window") or ["", ""], d.get("before") or ["", ""]
    anchor = _WINDOW_ANCHORS.get(d.get("anchor") or "", d.get("anchor") or "")
    return f"按{anchor}确定为 {window[0]} 至 {window[1]}（入户核实时暂按 {before[0]} 至 {before[1]}）"


def _line_settled(d: dict) -> str:
    """The elimination's income measured against the line of the year of elimination (engine.cases.functions
    .check_elimination_line)."""
    verdict = "符合风险消除条件" if d.get("eligible") else "不符合，暂缓消除"
    return (f"风险消除日期 {d.get('eliminated_on', '')} 在 {d.get('year', '')} 年：收入按 {d.get('year', '')} 年"
            f"监测范围 {_yuan(d.get('line'))} 元复核（入户核实时按 {d.get('verified_on', '')[:4]} 年 "
            f"{_yuan(d.get('verified_line'))} 元），{verdict}")


def _decided(d: dict) -> str:
    """The case this one opened (an identification) was decided: its limit met, or it ended before with ``outcome``."""
    outcome = d.get("outcome")
    return f"{d.get('by', '')} " + (f"已办结（{CaseOutcome.label_of(outcome)}）" if outcome else "已审定")


def _measures(d: dict) -> str:
    """The plan's measures by their category's name (A48 → 综合保障), and the responsible person."""
    names = {code: c.get("label", code) for code, c in categories().items()}
    measures = "；".join(f"{names.get(m.get('category'), m.get('category') or '')}：{m.get('item', '')}"
                         for m in d.get("measures") or [] if isinstance(m, dict))
    person = f"；帮扶责任人 {d['responsible_person']}" if d.get("responsible_person") else ""
    return (measures or "无") + person


def _change_types() -> dict[Any, str]:
    try:
        return option_labels(load_form(MEMBER_CHANGE_FORM).get("properties", {}).get("change_type", {}))
    except NotFound:
        return {}


def _members_changed(d: dict) -> str:
    kind = _change_types().get(d.get("change_type"), d.get("change_type") or "")
    parts = [f"{kind}（{_day(d.get('changed_on'))}）"]
    if d.get("added"):
        parts.append(f"新增成员 {d['added']}")
    if d.get("left"):
        parts.append(f"身份证号 {mask_id_number(str(d['left']))} 的成员不再共同生活")
    if d.get("proof"):
        parts.append(f"证明材料：{d['proof']}")
    return "，".join(parts)


def _pushed(d: dict) -> str:
    return "、".join(f"{county} {n} 条" for county, n in (d.get("counties") or {}).items())


def _noted(d: dict) -> str:
    amount = f" {_yuan(d['amount'])} 元" if d.get("amount") is not None else ""
    what = f"{d.get('department_name') or ''}预警：{d.get('indicator_name') or ''}{amount}"
    on = f"（{d['date']}）" if d.get("date") else ""
    return what.strip() + on + (f"；{d['comparison']}" if d.get("comparison") else "")


def _report(d: dict) -> str:
    late = "，逾期上报" if d.get("late") else ""
    return f"{d.get('month', '')} 核查结果 {d.get('items', 0)} 条{late}"


def _private(refused: bool) -> Callable[[dict], str]:
    def text(d: dict) -> str:
        via = "通过数据接口" if d.get("via") == "api" else ""
        if refused:
            return via + "请求查看完整的身份证号、联系电话和健康状况，其角色无权查看，已拒绝"
        return via + "查看了完整的身份证号、联系电话和健康状况"
    return text


def _simple(template: str) -> Callable[[dict], str]:
    return lambda d: template.format_map(_Blank(d))


class _Blank(dict):
    """format_map() source that reads a missing key as empty."""

    def __missing__(self, key: str) -> str:
        return ""


_CORRECTED = _simple("{approved_on} 经审核同意，全国系统备案编号 {reference}")

_EVENTS: dict[str, Callable[[dict], str]] = {
    AuditAction.CASE_OPENED: _opened,
    AuditAction.TASK_READY: _ready,
    AuditAction.TASK_COMPLETED: _simple("{step}"),
    AuditAction.TASK_CLAIMED: _simple("{step}"),
    AuditAction.TASK_RELEASED: _simple("{step}"),
    AuditAction.TASK_OVERDUE: _simple("{step} 超过办理期限"),
    AuditAction.DATE_BACKDATED: lambda d: (f"{d.get('step', '')}：日期 {_day(d.get('date'))} 早于 "
                                           f"{_day(d.get('earliest'))}，补录说明：{d.get('reason', '')}"),
    AuditAction.CASE_DEADLINE: lambda d: f"{d.get('label', '')}：{deadline_text(d.get('due_at'))} 截止",
    AuditAction.CASE_OVERDUE: _simple("{deadline} 已过，案件尚未办结"),
    AuditAction.DEADLINE_RECOMPUTED: lambda d: (f"{d.get('label', '')}：由 {deadline_text(d.get('before'))} 截止改为 "
                                                f"{deadline_text(d.get('after'))} 截止（工作日历已更新）"),
    AuditAction.TIMERS_FIRED: _fired,
    AuditAction.PUBLICITY_CLOSED: _publicity_closed,
    AuditAction.OBJECTION_RAISED: _simple("{raised_by}：{text}"),
    AuditAction.NOTICE_SENT: _simple("{title}：{body}"),
    AuditAction.OUTCOME: _outcome,
    AuditAction.CASE_CLOSED: lambda d: CaseOutcome.label_of(d.get("outcome")),
    AuditAction.CASE_ENDED: _simple("由 {by} 结束"),
    AuditAction.OPENED_CASE_DECIDED: _decided,
    AuditAction.CASE_MIGRATED: _simple("由第 {from_version} 版改按第 {to_version} 版流程办理"),
    AuditAction.HOUSEHOLD_MONITORED: _monitored,
    AuditAction.HOUSEHOLD_ELIMINATED: lambda d: (f"{EliminationMode.label_of(d.get('mode'))}，"
                                                 f"风险消除日期 {_day(d.get('on'))}"),
    AuditAction.HOUSEHOLD_NOT_ENJOYING_POLICY: lambda d: f"自 {_day(d.get('on'))} 起",
    AuditAction.HOUSEHOLD_ENJOYING_POLICY: lambda d: f"自 {_day(d.get('on'))} 起",
    AuditAction.HOUSEHOLD_ROLLBACK: _CORRECTED,
    AuditAction.HOUSEHOLD_REMOVAL: _CORRECTED,
    AuditAction.HOUSEHOLD_RELEASED: lambda d: _with_reason(HouseholdStatus.label_of(d.get("status", "")), d),
    AuditAction.INCOME_WINDOW_SETTLED: _income_window,
    AuditAction.ELIMINATION_LINE_SETTLED: _line_settled,
    AuditAction.MEASURES_RECORDED: _measures,
    AuditAction.MEASURES_STOPPED: _simple("{reason}"),
    AuditAction.GREEN_CHANNEL_ENTERED: lambda d: f"{_day(d.get('entered_on'))} 纳入绿色通道，即时帮扶",
    AuditAction.MEMBERS_CHANGED: _members_changed,
    AuditAction.GUARANTEES_VERIFIED: lambda d: ("存在问题：" + "、".join(d["problems"]) if d.get("problems")
                                                else "未发现问题"),
    AuditAction.ANNUAL_INCOME_RECORDED: lambda d: "统计时段 {} 至 {}".format(*(d.get("window") or ["", ""])),
    AuditAction.WARNINGS_PUSHED: _pushed,
    AuditAction.WARNING_NOTED: _noted,
    AuditAction.WARNING_DISPATCHED: _simple("交办{township}入户核查"),
    AuditAction.WARNING_VERIFIED: lambda d: _with_reason(WarningStatus.label_of(d.get("outcome")), d),
    AuditAction.WARNING_REPORT_SUBMITTED: _report,
    AuditAction.PRIVATE_DATA_VIEWED: _private(refused=False),
    AuditAction.PRIVATE_DATA_REFUSED: _private(refused=True),
}
