"""Self-application by a household (农户自主申报): the household is found by its head's ID number among the
registered members and must match the head's name and the village; then an identification case is opened
on the channel ``self_application``. The engine refuses a household that is already monitored or has an
unfinished application (000 附件1: 已经是监测对象或者自主申报还未办结的，不允许重复申报)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from engine.bpmn.forms import load_form
from engine.cases.lifecycle import open_identification
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import FormInvalid, NotFound
from engine.core.models import Case, Household, Jurisdiction, Member
from engine.core.vocabulary import Channel
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

CHANNEL = Channel.SELF_APPLICATION
ACTOR = "self_application"  # the audit log's actor for applications made by the public
HEAD = "户主"
FORM = "自主申报"
APPLY_FORM = "identification_apply.json"
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9Xx]$")
PHONE = re.compile(r"^(1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8})$")

COMMITMENT = ("本人知晓申报防止返贫监测帮扶的有关政策和程序，申报时提供的家庭情况及相关信息客观真实；"
              "如有虚假，愿意承担相应责任。如今后致贫（返贫）风险因素消除，愿意主动退出。")
AUTHORIZATION = ("本户全体家庭成员授权相关部门在审查审核过程中，根据需要向房产、公安、交管、市场监管、税务、教育、"
                 "人社、金融、财政、不动产登记等部门查询、核对本人及家庭成员的收入、财产、支出等信息和资料。"
                 "村委会入户核实时，全体家庭成员须在《承诺授权书》上签字（特殊情况可书面委托他人签署）。")


class ApplicantNotFound(NotFound):
    """The village, the head's name and ID number do not match one registered household."""

    def __init__(self) -> None:
        super().__init__("未能核对到您家的登记信息：所在村、户主姓名和身份证号须与村里登记的一致。"
                         "请与所在村村委会联系，核对或登记家庭信息后再申请，也可以直接到村委会书面申请。")


@dataclass(frozen=True)
class Application:
    """What the household states when applying (申请书 + 承诺授权)."""

    village_code: str
    head_name: str
    id_number: str
    phone: str
    description: str
    risk_types: list[str] = field(default_factory=list)
    agreed: bool = False


def risk_type_choices() -> list[tuple[str, str]]:
    """(key, label) of the risk types (A27), as in the village's application form, so that the cadre who
    receives the application sees the same choices."""
    spec = load_form(APPLY_FORM)["properties"]["risk_types"]
    return list(zip(spec["items"]["enum"], spec["enumNames"], strict=True))


def check_application(application: Application) -> None:
    """Raise FormInvalid naming every wrong field (nothing is saved)."""
    problems = _problems(application, {key for key, _ in risk_type_choices()})
    if problems:
        raise FormInvalid(FORM, problems)


def _problems(a: Application, risk_types: set[str]) -> list[tuple[str, str]]:
    checks = [
        ("village", not a.village_code, "请选择所在村"),
        ("head_name", not a.head_name.strip(), "请填写户主姓名"),
        ("id_number", not ID_NUMBER.match(a.id_number.strip()), "身份证号应为 18 位（最后一位可以是 X）"),
        ("phone", not PHONE.match(a.phone.strip().replace(" ", "")), "请填写 11 位手机号码或带区号的固定电话"),
        ("description", not a.description.strip(), "请简要说明家庭遇到的困难"),
        ("description", len(a.description) > 2000, "最多 2000 个字"),
        ("risk_types", bool(set(a.risk_types) - risk_types), "风险类型取值无效"),
        ("agreed", not a.agreed, "须阅读并同意承诺和授权"),
    ]
    return [(name, reason) for name, failed, reason in checks if failed]


def villages() -> list[Jurisdiction]:
    """Every village (村) a household may apply in, in the order of the jurisdiction tree."""
    return list(db.session.scalars(select(Jurisdiction).filter_by(level="village").order_by(Jurisdiction.path)))


def find_applicant_household(village_code: str, head_name: str, id_number: str) -> Household:
    """The household whose head has ``id_number`` and ``head_name`` in ``village_code``; else ApplicantNotFound
    (one message for every mismatch, so that the page does not reveal which ID numbers are registered)."""
    member = db.session.scalar(select(Member).where(func.upper(Member.id_number) == id_number.strip().upper()))
    if member is None or member.relation_to_head != HEAD or member.name != head_name.strip():
        raise ApplicantNotFound()
    household = member.household
    if household.village.code != village_code:
        raise ApplicantNotFound()
    return household


def submit_application(application: Application, clock: Clock) -> Case:
    """Open the identification case of a self-application (lead date = today); the first task — receiving
    the application and the signatures of all members — goes to the village cadres."""
    check_application(application)
    household = find_applicant_household(application.village_code, application.head_name, application.id_number)
    today = to_local_date(clock.now())
    case = open_identification(household.id, CHANNEL, today, ACTOR, clock, application={
        "source": "public_web", "applied_on": today.isoformat(), "head_name": application.head_name.strip(),
        "phone": application.phone.strip().replace(" ", ""), "risk_description": application.description.strip(),
        "risk_types": list(application.risk_types), "commitment": COMMITMENT, "authorization": AUTHORIZATION,
        "agreed": application.agreed,
    })
    log.info("self-application: case %s opened for household %s", case.number, household.number)
    return case
