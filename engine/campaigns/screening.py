"""What a household's screening opens (集中排查结果, 004 一(二); 000 §七(三)): a household that meets the criteria is
identified (channel 基层干部排查); a monitored household whose risk is gone, and whose 三保障 and drinking water are
safe, is put forward for risk elimination (风险消除) — refused, with the reason, when they are not. Both are opened
inside the screening's own run (one transaction), so a refusal leaves the screening's task open."""
from __future__ import annotations

import logging
from datetime import date

from engine.cases.lifecycle import begin_identification, check_no_running_elimination, start_case
from engine.core.clock import Clock
from engine.core.errors import RuleViolation
from engine.core.models import Case
from engine.core.vocabulary import Channel, EliminationMode, HouseholdStatus, Procedure
from engine.elimination.eligibility import assess
from engine.households.guarantees import guarantee_problems
from timers.calendar import to_local_date

log = logging.getLogger(__name__)


def identify_from_screening(screening: Case, found_on: date, detail: str, actor: str, clock: Clock) -> Case:
    """Open the identification of the screened household (渠道：基层干部排查), with the same checks as any other
    (not monitored already, no identification running)."""
    case = begin_identification(screening.household, Channel.CADRE_SCREENING, found_on, actor, clock,
                                {"channel_detail": detail, "screening": screening.number})
    log.info("screening %s opened identification %s", screening.number, case.number)
    return case


def propose_elimination(screening: Case, mode: str, actor: str, clock: Clock) -> Case:
    """Open the risk elimination (风险消除) of the screened household, a monitored one whose risk the screening
    found gone; refused when it is not monitored, already has one running, or its 三保障 or drinking water is not
    safe (A23–A26 as the latest verification found them, engine.households.guarantees). The elimination's own
    steps (民主评议, 公示, 乡镇入户核实, 县级审定) recheck every condition.

    Only this one condition refuses here (004 一（二）: 风险消除且不存在“三保障”和饮水安全问题的，及时标注): the others
    of the elimination table (elimination_conditions.dmn: 半年, 收入, Q37 …) are left to those steps, so the table's
    answer (all conditions) is not this gate's; the table reads the same finding (facts["guarantee_problem"], from
    guarantee_problems), which is computed in one place."""
    household = screening.household
    if mode not in EliminationMode.labels():
        raise RuleViolation(f"风险消除方式应为：{'、'.join(f'{k}（{v}）' for k, v in EliminationMode.labels().items())}")
    if household.status != HouseholdStatus.MONITORED:
        raise RuleViolation(f"户 {household.number} 不是风险未消除的监测对象（{HouseholdStatus.label_of(household.status)}），"
                            "排查结果不能为“风险已消除”")
    check_no_running_elimination(household)
    problems = guarantee_problems(household)
    if problems:
        raise RuleViolation(f"户 {household.number} 的“三保障”和饮水安全尚未保障（{'、'.join(p.label for p in problems)}），"
                            "不能标注风险消除：请继续帮扶，问题解决并经核实后再提请风险消除研判")
    today = to_local_date(clock.now())
    eligibility = assess(household, today, mode).explanation
    case = start_case(household, Procedure.ELIMINATION, Channel.CONCENTRATED_SCREENING, today, actor, clock,
                      {"mode": mode, "eligibility": eligibility, "screening": screening.number})
    log.info("screening %s opened elimination %s", screening.number, case.number)
    return case
