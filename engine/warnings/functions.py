"""The functions the department-warning diagrams call (预警流程可调用的函数), installed beside the engine's own
(engine.cases.functions) by the composition roots: each acts on the case being run, in its transaction."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.cases.form_rules import install_rules
from engine.cases.functions import CaseContext, install_functions
from engine.core import audit
from engine.core.errors import PolicyMissing
from engine.warnings import procedure, report, schedules
from engine.warnings.thresholds import departments
from timers.calendar import to_local_date


def _pushed_batches(ctx: CaseContext) -> Callable[..., Any]:
    def pushed_batches(department: str, period: str) -> int:
        """How many batches the department has already pushed for ``period`` (上传即完成推送)."""
        return schedules.pushed_batches(ctx.case.jurisdiction, str(department), str(period))
    return pushed_batches


def _open_next_push(ctx: CaseContext) -> Callable[..., Any]:
    def open_next_push() -> bool:
        """Open the department's push case of the next period (once this one is saved)."""
        case = ctx.case
        period = case.reference.rsplit(":", 1)[1]
        found = departments(case.jurisdiction, to_local_date(ctx.now()))
        if case.department not in found:
            raise PolicyMissing(f"{case.jurisdiction.full_name} 已不再配置行业部门 {case.department}，不再开启下一期推送")
        department = found[case.department]
        if not department.push.periodic:  # pushed after an event: the next event opens its own
            return False
        upcoming = schedules.following_period(department, period)
        ctx.after_save.append(lambda: schedules.open_push(case.jurisdiction, department, upcoming, ctx.actor,
                                                          ctx.clock))
        return True
    return open_next_push


def _split(ctx: CaseContext) -> Callable[..., Any]:
    def split_to_counties() -> dict:
        """The city pushes each county its share of the batch (分解推送); returns the count per county."""
        return procedure.split_to_counties(ctx.case, ctx.actor, ctx.clock)
    return split_to_counties


def _dispatch(ctx: CaseContext) -> Callable[..., Any]:
    def dispatch_to_townships() -> dict:
        """Compare the county's share with the monitored list and dispatch the others (比对交办)."""
        return procedure.dispatch_to_townships(ctx.case, ctx.actor, ctx.clock)
    return dispatch_to_townships


def _include(ctx: CaseContext) -> Callable[..., Any]:
    def include_warned_household(reason: str = "") -> bool:
        """Open the identification of the warned person's household (lead date = the dispatch date)."""
        procedure.include(ctx.case, str(reason or ""), ctx.actor, ctx.clock)
        return True
    return include_warned_household


def _keep_in_view(ctx: CaseContext) -> Callable[..., Any]:
    def keep_warned_household_in_view(reason: str) -> bool:
        """The household does not meet the criteria: key attention (重点关注), with the reason."""
        procedure.keep_in_view(ctx.case, str(reason or ""), ctx.actor, ctx.clock)
        return True
    return keep_warned_household_in_view


def _submit_report(ctx: CaseContext) -> Callable[..., Any]:
    def submit_warning_report() -> bool:
        """Record the county's report of last month's dispatched warnings to the city (上报市级)."""
        event = report.record_report(ctx.case, ctx.actor, ctx.now())
        audit.record(ctx.now(), ctx.actor, "warning_report_recorded", case_id=ctx.case.id, report=event.id)
        return True
    return submit_warning_report


def _open_next_report(ctx: CaseContext) -> Callable[..., Any]:
    def open_next_report() -> bool:
        """Open the county's report case of the next month (once this one is saved)."""
        case = ctx.case
        month = case.reference.rsplit(":", 1)[1]
        following = schedules.following_month(month)
        ctx.after_save.append(lambda: schedules.open_report(case.jurisdiction, following, ctx.actor, ctx.clock))
        return True
    return open_next_report


FUNCTIONS = {
    "pushed_batches": _pushed_batches,
    "open_next_push": _open_next_push,
    "split_to_counties": _split,
    "dispatch_to_townships": _dispatch,
    "include_warned_household": _include,
    "keep_warned_household_in_view": _keep_in_view,
    "submit_warning_report": _submit_report,
    "open_next_report": _open_next_report,
}


def install() -> None:
    """Make the warning functions callable from diagrams, and the verification form's rule checked."""
    install_functions(FUNCTIONS)
    install_rules({"verification_outcome": lambda data, case, step: procedure.verification_problems(data, case)})
