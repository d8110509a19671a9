"""Starting a procedure for a household (发起): which procedures an official may start (policy/roles.json
``opens``), which households each offers, what it tells the official — its time limits as the parameters in force
in the official's jurisdiction say them — and the checked start itself, the same for the browser and the API."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from engine.cases.lifecycle import (
    open_correction,
    open_elimination,
    open_green_channel,
    open_member_change,
    open_poverty_policy,
)
from engine.cases.views import household_by_number
from engine.core.clock import Clock
from engine.core.errors import FormInvalid, NotFound
from engine.core.models import Case, Household, Jurisdiction, User
from engine.core.vocabulary import CorrectionKind, EliminationMode, HouseholdStatus, Procedure
from engine.policy.parameters import resolve_group
from engine.policy.permissions import may_open, require_may_open

log = logging.getLogger(__name__)

NOT_CONFIGURED = "（未配置）"


@dataclass(frozen=True)
class Start:
    """A procedure an official starts for one household (besides identification): its title, the households
    offered (None: every household; the procedure's own opening checks again), and what it tells the official,
    ``{name}`` being the procedure's parameter ``name`` in force."""

    title: str
    statuses: tuple[str, ...] | None
    hint: str


STARTS: dict[str, Start] = {
    Procedure.GREEN_CHANNEL.value: Start(
        "启动绿色通道",
        (HouseholdStatus.ORDINARY, HouseholdStatus.KEY_ATTENTION, HouseholdStatus.ELIMINATED, HouseholdStatus.REMOVED),
        "因灾因病等突发严重困难、需要即时帮扶的农户，先行落实帮扶措施，{verification_months}个月内核实是否符合监测对象条件。"),
    Procedure.MEMBER_CHANGE.value: Start(
        "登记成员自然变更", None,
        "出生、婚入、死亡、婚出等家庭成员自然变更，自变更之日起{limit_months}个月内凭佐证材料办理。"),
    Procedure.ELIMINATION.value: Start(
        "发起风险消除", (HouseholdStatus.MONITORED,),
        "乡镇研判认为符合风险消除条件的监测对象；不符合的，系统逐项说明原因。帮扶消除须帮扶措施落实、收入持续稳定"
        "{assistance_months}个月以上；自然消除不受此限。"),
    Procedure.CORRECTION.value: Start(
        "申请风险消除回退或清退", (HouseholdStatus.ELIMINATED, HouseholdStatus.MONITORED),
        "识别或风险消除不精准的：已标注风险消除的户申请回退，监测对象申请清退；县级书面申请，逐级报省审定。"),
    Procedure.POVERTY_POLICY.value: Start(
        "脱贫人口分类认定", None,
        "对脱贫享受政策户逐户摸排：存在认定情形且无例外情形的，经民主评议、乡镇审核、村级公示（{village_publicity_days}天）"
        "认定为脱贫不再享受政策，{report_by}前由街道（乡镇）汇总审定。"),
}


def startable(user: User) -> dict[str, str]:
    """The procedures ``user`` may start for a household (procedure → title), for the case list's buttons."""
    return {key: start.title for key, start in STARTS.items() if may_open(user, key)}


def start_hint(procedure: str, place: Jurisdiction, on: date) -> str:
    """What starting ``procedure`` tells an official of ``place`` on ``on``: its hint with the parameters in force
    there (a parameter not configured is said to be so)."""
    values = {name: _shown(name, value) for name, value in resolve_group(procedure, place, on).items()}
    return STARTS[procedure].hint.format_map(_Missing(values))


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return NOT_CONFIGURED


def _shown(name: str, value: object) -> str:
    if name == "report_by" and isinstance(value, str) and len(value) == 5:  # "12-08": 12月8日
        month, day = value.split("-")
        return f"{int(month)}月{int(day)}日"
    return str(value)


def start_for_household(user: User, procedure: str, values: Mapping[str, str], clock: Clock) -> Case:
    """Start ``procedure`` for the household ``values["household"]`` (its number) with the detail the procedure
    asks for (``hardship``, ``changed_on``, ``mode``, ``kind``): FormInvalid naming each field that is wrong
    (NotFound for a procedure not started this way);
    PermissionDenied unless ``user`` may start it (policy/roles.json ``opens``) for a household of their
    jurisdiction; the procedure's own refusals (RuleViolation) otherwise."""
    if procedure not in STARTS:
        raise NotFound(f"没有可发起的程序 {procedure}")
    require_may_open(user, procedure)
    errors: dict[str, str] = {}
    changed_on = None
    household = _household(values.get("household") or "", errors)
    if procedure == Procedure.MEMBER_CHANGE:
        try:
            changed_on = date.fromisoformat(values.get("changed_on", ""))
        except ValueError:
            errors["changed_on"] = "请填写变更发生日期（年-月-日）"
    if procedure == Procedure.ELIMINATION and values.get("mode") not in EliminationMode.labels():
        errors["mode"] = "请选择消除方式"
    if procedure == Procedure.CORRECTION and values.get("kind") not in CorrectionKind.labels():
        errors["kind"] = "请选择申请类型"
    if errors:
        raise FormInvalid(STARTS[procedure].title, list(errors.items()))
    assert household is not None
    require_may_open(user, procedure, household.village)
    case = _open(procedure, household, values, changed_on, user.username, clock)
    log.info("%s started %s %s for household %s", user.username, procedure, case.number, household.number)
    return case


def _household(number: str, errors: dict[str, str]) -> Household | None:
    if not number.strip():
        errors["household"] = "请填写户编号"
        return None
    try:
        return household_by_number(number)
    except NotFound as exc:
        errors["household"] = str(exc)
        return None


def _open(procedure: str, household: Household, values: Mapping[str, str], changed_on: date | None, actor: str,
          clock: Clock) -> Case:
    if procedure == Procedure.GREEN_CHANNEL:
        return open_green_channel(household.id, actor, clock, {"hardship": values.get("hardship", "")})
    if procedure == Procedure.MEMBER_CHANGE:
        assert changed_on is not None
        return open_member_change(household.id, changed_on, actor, clock)
    if procedure == Procedure.ELIMINATION:
        return open_elimination(household.id, values["mode"], actor, clock)
    if procedure == Procedure.POVERTY_POLICY:
        return open_poverty_policy(household.id, actor, clock)
    return open_correction(household.id, values["kind"], actor, clock)
