"""Functions a diagram may call in its scripts and expressions (流程可调用的函数).

They are the only bridge from a diagram to the domain records: a policy editor sees in the diagram
where a household is assessed, notified, marked as monitored or released. Each call acts on the
case being run, in the same transaction as the workflow state.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select

from engine.bpmn.runtime import load_workflow
from engine.bpmn.scripting import DiagramScriptEngine
from engine.cases.deadlines import new_deadline
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.id_numbers import normalised, with_normalised
from engine.core.models import Case, CaseDeadline, Measure, Member, Notice
from engine.core.vocabulary import (
    AuditAction,
    CorrectionKind,
    EliminationMode,
    EliminationWindowAnchor,
    HouseholdCategory,
    HouseholdStatus,
    Procedure,
)
from engine.core.writes import insert_rows
from engine.elimination.eligibility import assess
from engine.elimination.income import elimination_window
from engine.households.attention import end_key_attention, mark_key_attention
from engine.households.guarantees import record_verified_guarantees
from engine.households.income import IncomeFigures, income_window, record_income, settle_income_window, window_anchor
from engine.households.measures import record_measures
from engine.households.poverty_policy import describe_items, mark_enjoying, mark_not_enjoying
from engine.households.privacy import mask_id_number
from engine.households.records import case_incomes, figures
from engine.identification.classification import conclude_assessment, measure_household
from engine.policy.parameters import monitoring_line, resolve
from engine.publicity.lists import issuing_authority
from timers.calendar import Deadline, to_local_date
from timers.functions import recording_functions

log = logging.getLogger(__name__)

STARTABLE = (Procedure.FOLLOWUP, Procedure.IDENTIFICATION)  # what a diagram may start
INCOME_WINDOW_ANCHOR = "identification.income_window_anchor"  # 收入计算时间的起算月份 (IncomeWindowAnchor)

EXTENSIONS: dict[str, Callable[[CaseContext], Callable[..., Any]]] = {}
"""Diagram functions of the packages above this one (department warnings), each made for a case's context; they
are installed by the composition roots (:func:`install_functions`), since this package may not import them."""


def install_functions(makers: dict[str, Callable[[CaseContext], Callable[..., Any]]]) -> None:
    """Make more functions callable from diagrams (a name → a maker taking the case's context)."""
    EXTENSIONS.update(makers)


@dataclass
class CaseContext:
    """What the diagram functions act on: one case, the acting official and the clock."""

    case: Case
    actor: str
    clock: Clock
    deadlines: list[Deadline] = field(default_factory=list)  # every deadline computed in this run
    deadline_rows: list[CaseDeadline] = field(default_factory=list)  # the case's own, written when the run is saved
    started: list[dict] = field(default_factory=list)  # procedures this run starts for the household
    ended: list[str] = field(default_factory=list)  # procedures of the household this run ends
    after_save: list[Callable[[], None]] = field(default_factory=list)  # run once this run's case is saved
    limit_met: bool = False  # this run met the case's overall limit (:meth:`meet_case_deadline`)
    start_policy: dict[str, Any] = field(default_factory=dict)  # the procedure's parameters the case opened with

    def now(self) -> datetime:
        return self.clock.now()

    def script_engine(self) -> DiagramScriptEngine:
        return DiagramScriptEngine(self.functions())

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {
            **recording_functions(self.deadlines),
            "today": self.today,
            "start_case_deadline": self.start_case_deadline,
            "meet_case_deadline": self.meet_case_deadline,
            "assess_household": self.assess_household,
            "notify_household": self.notify_household,
            "record_outcome": self.record_outcome,
            "mark_monitored": self.mark_monitored,
            "release_household": self.release_household,
            "record_measures": self.record_measures,
            "start_procedure": self.start_procedure,
            "enter_green_channel": self.enter_green_channel,
            "apply_member_change": self.apply_member_change,
            "apply_correction": self.apply_correction,
            "stop_measures": self.stop_measures,
            "end_procedure": self.end_procedure,
            "check_elimination": self.check_elimination,
            "check_elimination_line": self.check_elimination_line,
            "mark_eliminated": self.mark_eliminated,
            "next_month": next_month,
            "category_name": HouseholdCategory.label_of,
            "conclude_assessment": conclude_assessment,
            "poverty_policy_items": describe_items,
            "mark_not_enjoying_policy": self.mark_not_enjoying_policy,
            "mark_enjoying_policy": self.mark_enjoying_policy,
            **{name: make(self) for name, make in EXTENSIONS.items()},
        }

    def today(self) -> str:
        """Today's date (China Standard Time), ISO."""
        return to_local_date(self.now()).isoformat()

    def start_case_deadline(self, label: str, due: str) -> bool:
        """The procedure's overall limit (e.g. 15 days from the lead): the case is overdue after ``due``
        unless :meth:`meet_case_deadline` was called before. It never stops the procedure."""

        case = self.case
        case.due_at, case.deadline_label = datetime.fromisoformat(due), str(label)
        self.deadline_rows.append(new_deadline(case.id, "case", case.deadline_label, case.due_at, self.deadlines,
                                               self.now()))
        audit.record(self.now(), self.actor, "case_deadline", case_id=case.id, label=label, due_at=case.due_at)
        return True

    def meet_case_deadline(self) -> bool:
        """The case reached the point its overall limit is about (e.g. identification decided): a case waiting for
        this one's decision goes on when this run is saved (engine.cases.lifecycle, DECIDED_MESSAGE)."""
        if self.case.deadline_met_at is None:
            self.case.deadline_met_at, self.limit_met = self.now(), True
        return True

    def assess_household(self, income: dict, risk_types: list, exclusions: list | None = None,
                         guarantees: dict | None = None) -> dict:
        """测算收入: record the verified income (A28–A38, over the income window) and the 三保障/water findings
        (A23–A25, kept on the household), and return the facts the
        decision table ``household_category`` classifies by (income against the monitoring line, exclusions,
        三保障/water problems, risk)."""
        household = self.case.household
        on = to_local_date(self.now())
        _, (start, end) = self._identification_income_window(identified_on=on)  # identified later: mark_monitored
        figures, facts = measure_household(income, risk_types, exclusions, guarantees,
                                           line=monitoring_line(household.village, on.year),
                                           formerly_poor=household.is_formerly_poor, default_size=household.size)
        self._record_income(figures, start, end)
        household.risk_types = list(risk_types)
        record_verified_guarantees(household, guarantees, at=self.now(), by=self.actor, case_id=self.case.id)
        return {**figures.to_dict(), **facts, "income_window": [start.isoformat(), end.isoformat()]}

    def _identification_income_window(self, identified_on: date) -> tuple[str, tuple[date, date]]:
        """收入计算时间: the place's rule (policy ``identification.income_window_anchor``, as the case opened with it)
        and the 12 months before the month it reckons them from — the month the household was found (the case's lead date), or the month
        it is identified in (``identified_on``; at the verification, the day of the verification)."""
        anchor = self.start_policy.get(INCOME_WINDOW_ANCHOR.removeprefix("identification."))
        if anchor is None or self.case.procedure != Procedure.IDENTIFICATION:  # opened before the rule, or another
            anchor = resolve(INCOME_WINDOW_ANCHOR, self.case.household.village, to_local_date(self.now()))
        day = window_anchor(anchor, discovered_on=self.case.lead_date, identified_on=identified_on)
        return anchor, income_window(day)

    def _record_income(self, figures: IncomeFigures, start: date, end: date) -> None:
        record_income(figures, (start, end), household_id=self.case.household_id, case_id=self.case.id,
                      at=self.now(), by=self.actor)

    def notify_household(self, title: str, body: str) -> bool:
        """Send the household a written notice (告知), kept with the case: the diagram's words, signed on a line of
        their own by the authority of the household's county (policy ``publicity.issuer``, as its announcements)."""
        issuer = issuing_authority(self.case.jurisdiction, to_local_date(self.now()))
        if issuer is None:
            log.warning("case %s: notice %r sent without its issuing authority (publicity.issuer is not configured "
                        "for %s)", self.case.number, title, self.case.jurisdiction.full_name)
        body = f"{body}\n{issuer}" if issuer else str(body)
        insert_rows([Notice(case_id=self.case.id, household_id=self.case.household_id, at=self.now(),
                            title=str(title), body=body)])
        audit.record(self.now(), self.actor, "notice_sent", case_id=self.case.id,
                     household_id=self.case.household_id, title=title, body=body)
        return True

    def record_outcome(self, outcome: str, reason: str = "") -> bool:
        """Record how the procedure ended (e.g. identified / rejected) and why."""
        self.case.outcome, self.case.outcome_reason = str(outcome), str(reason)
        audit.record(self.now(), self.actor, "outcome", case_id=self.case.id, outcome=outcome, reason=reason)
        return True

    def mark_monitored(self, category: str, identified_on: str) -> bool:
        """The household becomes a monitored household (监测对象) of ``category`` from ``identified_on``; the income
        its verification recorded counts over the 12 months the place's rule gives now that the identification month
        is known (001 Q10: from the month before the identification month, one year back)."""
        if category not in HouseholdCategory.labels():
            raise ValueError(f"unknown category {category!r}; expected one of {sorted(HouseholdCategory.labels())}")
        household = self.case.household
        household.status, household.category = HouseholdStatus.MONITORED, category
        household.identified_on = date.fromisoformat(str(identified_on)[:10])
        end_key_attention(household)
        anchor, window = self._identification_income_window(household.identified_on)
        self._settle_income_window(anchor, window, identified_on=household.identified_on.isoformat())
        return self._household_event("household_monitored", category=category, identified_on=str(identified_on))

    def _settle_income_window(self, anchor: str, window: tuple[date, date], **detail: str) -> None:
        """The income this case verified counts over ``window`` (reckoned by ``anchor`` from the day in ``detail``),
        audited (``income_window_settled``) when it had been recorded over another one."""
        before = settle_income_window(self.case.id, window)
        if before is not None:
            audit.record(self.now(), self.actor, "income_window_settled", case_id=self.case.id,
                         household_id=self.case.household_id, anchor=anchor, **detail,
                         before=[d.isoformat() for d in before], window=[d.isoformat() for d in window])

    def _household_event(self, action: str, **detail: Any) -> bool:
        audit.record(self.now(), self.actor, action, case_id=self.case.id, household_id=self.case.household_id,
                     **detail)
        return True

    def record_measures(self, measures: list, started_on: str, responsible_person: str) -> bool:
        """The assistance plan's measures (帮扶措施) are in force from ``started_on``; the household gets
        its responsible person (帮扶责任人)."""

        record_measures(self.case, list(measures), date.fromisoformat(str(started_on)[:10]))
        self.case.household.responsible_person = str(responsible_person)
        audit.record(self.now(), self.actor, "measures_recorded", case_id=self.case.id,
                     household_id=self.case.household_id, measures=measures, responsible_person=responsible_person)
        return True

    def start_procedure(self, procedure: str, channel: str = "monitoring", lead_date: str | None = None,
                        application: dict | None = None) -> bool:
        """Start another procedure for this household when this run is saved, in the same transaction: the
        monthly follow-up (每月回访), or identification after the green channel (绿色通道)."""
        if procedure not in STARTABLE:
            raise ValueError(f"procedure {procedure!r} cannot be started from a diagram")
        self.started.append({"procedure": procedure, "channel": channel, "application": dict(application or {}),
                             "lead_date": date.fromisoformat(str(lead_date)[:10]) if lead_date else None})
        return True

    def enter_green_channel(self, entered_on: str) -> bool:
        """The county enters the household into the green channel (绿色通道): help starts at once."""
        household = self.case.household
        if household.status == HouseholdStatus.MONITORED:
            raise ValueError(f"household {household.number} is already monitored")
        household.status = HouseholdStatus.GREEN_CHANNEL
        audit.record(self.now(), self.actor, "green_channel_entered", case_id=self.case.id,
                     household_id=household.id, entered_on=str(entered_on))
        return True

    def apply_member_change(self, change_type: str, changed_on: str, proof: str, new_member: dict | None,
                            leaving_id_number: str | None) -> bool:
        """A natural change of the household's members (成员自然变更) with its proof."""

        household = self.case.household
        new_member = with_normalised(new_member)  # as stored: a check character x is X
        leaving_id_number = normalised(str(leaving_id_number)) if leaving_id_number else None
        if new_member:
            taken = db.session.scalar(select(Member).filter_by(id_number=new_member["id_number"]))
            if taken is not None:
                raise ValueError(f"身份证号 {mask_id_number(new_member['id_number'])} 已登记")
            household.members.append(Member(position=len(household.members), **dict(new_member)))
        if leaving_id_number:
            member = next((m for m in household.members if m.id_number == leaving_id_number), None)
            if member is None:
                raise ValueError(f"户 {household.number} 没有身份证号为 {mask_id_number(leaving_id_number)} 的成员")
            member.lives_with_household = False
        audit.record(self.now(), self.actor, "members_changed", case_id=self.case.id, household_id=household.id,
                     change_type=change_type, changed_on=changed_on, proof=proof,
                     added=(new_member or {}).get("name"), left=leaving_id_number)
        return True

    def apply_correction(self, kind: str, approved_on: str, reference: str) -> bool:
        """After the province's approval (and the national filing ``reference``): a rollback (风险消除回退)
        makes the household monitored again and restarts its monthly follow-up; a removal (清退) takes it
        off the monitored list and ends the follow-up."""
        household = self.case.household
        if kind == CorrectionKind.ROLLBACK:
            household.status, household.elimination_mode, household.elimination_date = HouseholdStatus.MONITORED, None, None
            self.start_procedure("followup")
            action = AuditAction.HOUSEHOLD_ROLLBACK
        elif kind == CorrectionKind.REMOVAL:
            household.status, household.category = HouseholdStatus.REMOVED, None
            self.end_procedure("followup")
            action = AuditAction.HOUSEHOLD_REMOVAL
        else:
            raise ValueError(f"kind must be 'rollback' or 'removal', not {kind!r}")
        audit.record(self.now(), self.actor, action, case_id=self.case.id, household_id=household.id,
                     approved_on=str(approved_on), reference=reference)
        return True

    def stop_measures(self, reason: str) -> bool:
        """The measures this case put in force stop today (the household leaves the green channel)."""

        today = to_local_date(self.now())
        for measure in db.session.scalars(select(Measure).filter_by(case_id=self.case.id, ended_on=None)):
            measure.ended_on = today
        audit.record(self.now(), self.actor, "measures_stopped", case_id=self.case.id,
                     household_id=self.case.household_id, reason=reason)
        return True

    def end_procedure(self, procedure: str) -> bool:
        """End the household's running ``procedure`` (e.g. its monthly follow-up) when this run is saved."""
        self.ended.append(str(procedure))
        return True

    def check_elimination(self, income: dict, mode: str = "assisted") -> dict:
        """Record the income verified for elimination and recheck every condition (风险消除条件): over the 12 months
        before this month and against this year's monitoring line, today standing for the elimination date until
        :meth:`mark_eliminated` (engine.elimination.income)."""

        household = self.case.household
        figures = IncomeFigures.from_mapping(income, int(income.get("household_size") or household.size))
        on = to_local_date(self.now())
        start, end = elimination_window(on)
        self._record_income(figures, start, end)
        db.session.flush()
        result = assess(household, on, mode, verified_income=figures)
        return {"eligible": result.eligible, "explanation": result.explanation, "told": result.household_reason,
                "income_window": [start.isoformat(), end.isoformat()],
                "monitoring_line": result.facts.get("monitoring_line")}

    def check_elimination_line(self, eliminated_on: str, mode: str = "assisted") -> dict:
        """风险消除按当年监测范围: the day of elimination (A54, the county's approval or 龙口's tagging) falls in
        another year than the township's home verification, whose recheck measured the income against its own
        year's line: the conditions are decided again, with the income verified then, against the line of the year
        of elimination (000 四（一） 当地当年度监测范围, 001 Q30 当年监测范围; engine.elimination.income), audited
        ``elimination_line_settled``. In the verification's year, or without a verification of this case, nothing
        to decide again. PolicyMissing (in words) while that year's line is not set."""
        day = date.fromisoformat(str(eliminated_on)[:10])
        record = case_incomes([self.case.id]).get(self.case.id)
        verified_on = to_local_date(record.recorded_at) if record is not None else None
        if verified_on is None or verified_on.year == day.year:
            return {"eligible": True, "explanation": "", "told": "", "monitoring_line": None}
        household = self.case.household
        result = assess(household, verified_on, str(mode), verified_income=figures(record), eliminated_on=day)
        line = result.facts["monitoring_line"]
        audit.record(self.now(), self.actor, "elimination_line_settled", case_id=self.case.id,
                     household_id=household.id, eliminated_on=day.isoformat(), year=day.year, line=line,
                     verified_on=verified_on.isoformat(),
                     verified_line=float(monitoring_line(household.village, verified_on.year)), eligible=result.eligible)
        failed = "；".join(f"✗ {c.name}：{c.detail}" for c in result.checks if not c.passed)
        explanation = "" if result.eligible else (
            f"风险消除日期 {day} 在 {day.year} 年，收入须超过 {day.year} 年的监测范围（入户核实时按 {verified_on.year} 年的"
            f"复核）；按 {day.year} 年复核：{failed}")
        told = "" if result.eligible else (f"风险消除日期 {day} 在 {day.year} 年，收入须超过 {day.year} 年的监测范围，"
                                           f"按 {day.year} 年复核：{result.household_reason}")
        return {"eligible": result.eligible, "explanation": explanation, "told": told, "monitoring_line": line}

    def mark_eliminated(self, mode: str, on: str) -> bool:
        """Tag the household 风险消除 with its mode (assisted 帮扶消除 / natural 自然消除) and date (A54); it stays
        under key attention (重点关注). The income this case verified counts over the 12 months before the month of
        elimination now that it is known (002 收入指标说明: 消除风险的上一月份倒推上一年)."""
        if mode not in EliminationMode.labels():
            raise ValueError(f"mode must be 'assisted' or 'natural', not {mode!r}")
        household = self.case.household
        household.status, household.elimination_mode = HouseholdStatus.ELIMINATED, mode
        household.elimination_date = date.fromisoformat(str(on)[:10])
        self._settle_income_window(EliminationWindowAnchor.ELIMINATION_MONTH.value,
                                   elimination_window(household.elimination_date),
                                   eliminated_on=household.elimination_date.isoformat())
        return self._household_event("household_eliminated", mode=mode, on=str(on))

    def mark_not_enjoying_policy(self, on: str) -> bool:
        """The household is marked 脱贫不再享受政策 from ``on`` (004 附件2)."""
        mark_not_enjoying(self.case.household, date.fromisoformat(str(on)[:10]))
        return self._household_event("household_not_enjoying_policy", on=str(on))

    def mark_enjoying_policy(self, on: str) -> bool:
        """The formerly poor household is managed as 脱贫享受政策户 from ``on`` (003 六（二）: Longkou's 脱贫不稳定户
        whose risk is eliminated)."""
        mark_enjoying(self.case.household)
        return self._household_event("household_enjoying_policy", on=str(on))

    def release_household(self, status: str = "ordinary", reason: str = "") -> bool:
        """The household leaves the procedure: back to ``ordinary``, or ``key_attention`` (重点关注)."""
        if status not in (HouseholdStatus.ORDINARY, HouseholdStatus.KEY_ATTENTION):
            raise ValueError(f"status must be 'ordinary' or 'key_attention', not {status!r}")
        household = self.case.household
        if status == HouseholdStatus.KEY_ATTENTION:
            mark_key_attention(household, to_local_date(self.now()), reason)
        else:
            household.status = status
            end_key_attention(household)
        audit.record(self.now(), self.actor, "household_released", case_id=self.case.id,
                     household_id=self.case.household_id, status=status, reason=reason)
        return True


def case_workflow(case: Case, engine: DiagramScriptEngine) -> BpmnWorkflow:
    """The case's workflow instance, restored on the version it runs."""
    return load_workflow(case.process_version, case.state, engine)


def next_month(reference: str) -> str:
    """The first day of the month after ``reference`` (ISO date)."""
    day = date.fromisoformat(str(reference)[:10])
    return date(day.year + day.month // 12, day.month % 12 + 1, 1).isoformat()


def plain_json(value: Any) -> Any:
    """Round-trip through JSON so that task data holds only plain values."""
    return json.loads(json.dumps(value, default=str))
