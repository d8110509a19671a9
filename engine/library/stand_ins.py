"""Stand-ins for the domain functions (试运行替身): what a diagram's scripts call when it is tried before deploying —
the deadlines and the income facts are real, the functions that would change records only note their call."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.cases.functions import CaseContext
from engine.core.clock import FixedClock
from engine.core.errors import FangpinError
from engine.identification.classification import measure_household
from timers.calendar import CHINA_TZ as CST

FUNCTION_LABELS: dict[str, str] = {
    # the diagram functions (engine.cases.functions, timers.functions, engine.warnings.functions) by the step an
    # official knows them as: shown for a trial run's calls and beside each function in the modeler's panel
    "working_days_from": "计算工作日期限",
    "days_from": "计算自然日期限",
    "months_from": "计算按月期限",
    "monthly_deadline": "计算每月截止日",
    "yearly_deadline": "计算每年截止日",
    "today": "取今天的日期",
    "next_month": "取下月第一天",
    "start_case_deadline": "设定案件总时限",
    "meet_case_deadline": "案件达到总时限节点",
    "assess_household": "测算收入并比对监测范围",
    "notify_household": "书面告知农户",
    "record_outcome": "记录办理结果",
    "mark_monitored": "纳入监测对象",
    "release_household": "解除监测（转为一般户或重点关注）",
    "record_measures": "落实帮扶措施",
    "start_procedure": "为该户启动另一办理程序",
    "end_procedure": "结束该户的另一办理程序",
    "enter_green_channel": "纳入绿色通道",
    "apply_member_change": "办理成员自然变更",
    "apply_correction": "办理风险消除回退或清退",
    "stop_measures": "停止本案的帮扶措施",
    "check_elimination": "核查风险消除条件",
    "check_elimination_line": "按风险消除年度的监测范围复核",
    "mark_eliminated": "标注风险消除",
    "category_name": "取监测对象类别名称",
    "conclude_assessment": "形成认定意见",
    "poverty_policy_items": "列出所勾选的政策条件",
    "mark_not_enjoying_policy": "标注脱贫不再享受政策",
    "mark_enjoying_policy": "作为脱贫享受政策户管理",
    "pushed_batches": "统计已推送的预警批次",
    "open_next_push": "开启下一期预警推送",
    "split_to_counties": "预警信息分发到县",
    "dispatch_to_townships": "预警信息分派到乡镇核实",
    "include_warned_household": "预警户纳入识别",
    "keep_warned_household_in_view": "预警户列为重点关注",
    "submit_warning_report": "报送预警月报",
    "open_next_report": "开启下一期预警月报",
}


FUNCTION_NOTES: dict[str, str] = {
    # how a function counts or what it records, beside its signature in the modeler's panel
    "working_days_from": "自起算日起第 n 个工作日结束时（起算日不计，按法定节假日和调休）",
    "days_from": "自起算日起第 n 个自然日结束时（起算日不计）",
    "months_from": "自起算日起 n 个月后对应日结束时",
    "monthly_deadline": "参考日期所在月第 day 日结束时（每月某日前）",
    "yearly_deadline": "参考日期所在年的 month_day（月-日，如 12-08）结束时（每年某日前）",
    "today": "今天的日期（北京时间）；在期限或定时中即任务（定时）开始之日",
    "next_month": "下个月",
    "start_case_deadline": "设定案件的总时限（标签、到期时间）",
    "meet_case_deadline": "案件已达到总时限所指的节点",
    "notify_household": "书面告知农户（标题、正文）",
    "record_outcome": "记录办理结果",
    "release_household": "解除户的监测状态",
    "category_name": "监测对象类别的中文名称",
    "assess_household": "测算收入并比对监测范围",
    "start_procedure": "为该户启动另一个办理程序",
    "end_procedure": "结束该户的另一个办理程序",
}


def function_label(name: str) -> str:
    """What an official calls the step a diagram function does; an unknown function by its own name."""
    return FUNCTION_LABELS.get(name, name)


class ScenarioError(FangpinError):
    """The scenario cannot go on: which step, and why."""


@dataclass
class Trace:
    """What happened, in order: ``(kind, name, when, detail)``."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, name: str, at: datetime, **detail: Any) -> None:
        self.events.append({"kind": kind, "name": name, "at": at.astimezone(CST).isoformat(), **detail})


def stand_ins(trace: Trace, clock: FixedClock, scenario: dict[str, Any]) -> dict[str, Any]:
    """The diagram functions: deadlines and the income facts are real, the domain ones record their call and
    return plain data."""
    real = CaseContext(None, "scenario", clock).functions()  # type: ignore[arg-type]
    keep = {"working_days_from", "days_from", "months_from", "monthly_deadline", "yearly_deadline", "today", "next_month",
            "category_name", "conclude_assessment", "poverty_policy_items"}

    def stand_in(name: str):
        def call(*args: Any, **kwargs: Any) -> Any:
            trace.add("call", name, clock.now(), args=[str(a) for a in args], label=function_label(name))
            if name == "assess_household":
                return scenario_facts(scenario, *args, **kwargs)
            if name in ("check_elimination", "check_elimination_line"):
                return {"eligible": True, "explanation": "试运行：假定符合"}
            return True
        return call

    return {name: (fn if name in keep else stand_in(name)) for name, fn in real.items()}


def scenario_facts(scenario: dict[str, Any], income: dict, risk_types: list, exclusions: list | None = None,
                   guarantees: dict | None = None) -> dict[str, Any]:
    """测算收入 in a trial run: the household's facts from the form inputs against the scenario's
    ``monitoring_line`` (and ``household.formerly_poor``), as the decision table will read them."""
    if "monitoring_line" not in scenario:
        raise ScenarioError("场景没有 monitoring_line（监测范围，元/人·年），无法测算收入、认定类别")
    figures, facts = measure_household(
        income, risk_types, exclusions, guarantees, line=Decimal(str(scenario["monitoring_line"])),
        formerly_poor=bool(scenario.get("data", {}).get("household", {}).get("formerly_poor")), default_size=1)
    return {**figures.to_dict(), **facts}
