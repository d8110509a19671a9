"""Self-application by a household (农户自主申报): the household is found by its head's ID number among the
registered members and must match the head's name and the village; then an identification case is opened
on the channel ``self_application`` and the application is kept with it (statement, phone, risk types) under a
random application number (申请编号). The engine refuses a household that is already monitored or has an
unfinished application (000 附件1: 已经是监测对象或者自主申报还未办结的，不允许重复申报).

What the public is told never depends on more than it must: one refusal for every household that cannot apply
on line (not registered, a mismatch, already monitored, an unfinished application), and no household or case
number ever — the applicant holds only the application number. With it and the ID number given when applying,
the applicant follows the application (申报进度查询) and may cancel it (取消申报, 000 附件1 四、查询、取消申报)
as long as the village has not accepted it (受理): from then on all members have signed the commitment and
authorization and the case is the officials' to decide, so a household that changes its mind tells the village."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from sqlalchemy import bindparam, select

from engine.bpmn.forms import load_form
from engine.cases.lifecycle import begin_identification, withdraw_identification
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import FormInvalid, NotFound, RuleViolation
from engine.core.id_numbers import id_number_problem, normalised
from engine.core.models import (
    Case,
    CaseDeadline,
    Household,
    HumanTask,
    Jurisdiction,
    Member,
    Notice,
    SelfApplication,
    load_ancestors,
)
from engine.core.transaction import transaction
from engine.core.vocabulary import Channel, JurisdictionLevel, PublicStage
from timers.calendar import to_local_date

log = logging.getLogger(__name__)

CHANNEL = Channel.SELF_APPLICATION
ACTOR = "self_application"  # the audit log's actor for applications made (and cancelled) by the public
HEAD = "户主"
FORM = "自主申报"
APPLY_FORM = "identification_apply.json"
PHONE = re.compile(r"^(1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8})$")
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U to misread
NUMBER_LENGTH = 10  # 50 random bits; looked up only together with the ID number, and rate limited
REASON_LIMIT = 200
SUBMITTED, CANCELLED = "submitted", "cancelled"

COMMITMENT = ("本人知晓申报防止返贫监测帮扶的有关政策和程序，申报时提供的家庭情况及相关信息客观真实；"
              "如有虚假，愿意承担相应责任。如今后致贫（返贫）风险因素消除，愿意主动退出。")
AUTHORIZATION = ("本户全体家庭成员授权相关部门在审查审核过程中，根据需要向房产、公安、交管、市场监管、税务、教育、"
                 "人社、金融、财政、不动产登记等部门查询、核对本人及家庭成员的收入、财产、支出等信息和资料。"
                 "村委会入户核实时，全体家庭成员须在《承诺授权书》上签字（特殊情况可书面委托他人签署）。")


class ApplicationRefused(RuleViolation):
    """The household cannot apply on line. One message whatever the reason — not registered, the village, name
    or ID number do not match, already monitored, or an unfinished application — so that the public page does not
    tell anyone who types an ID number what the system knows of that person. ``reason`` is for the log only."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__("未能在网上受理您的申请。可能是所在村、户主姓名或身份证号与村里登记的不一致，"
                         "也可能您家已是监测对象，或已有申请还未办结（可凭申请编号查询进度）。"
                         "请与所在村村委会联系核对，也可以直接到村委会书面申请。")


class ApplicationNotFound(NotFound):
    """The application number and the ID number do not match one application (one message for every mismatch)."""

    def __init__(self) -> None:
        super().__init__("申请编号或身份证号不正确，请核对后重试。忘记申请编号的，请联系所在村村委会。")


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
    id_number = id_number_problem(normalised(a.id_number))
    checks = [
        ("village", not a.village_code, "请选择所在村"),
        ("head_name", not a.head_name.strip(), "请填写户主姓名"),
        ("id_number", id_number is not None, f"身份证号{id_number}"),
        ("phone", not PHONE.match(a.phone.strip().replace(" ", "")), "请填写 11 位手机号码或带区号的固定电话"),
        ("description", not a.description.strip(), "请简要说明家庭遇到的困难"),
        ("description", len(a.description) > 2000, "最多 2000 个字"),
        ("risk_types", bool(set(a.risk_types) - risk_types), "风险类型取值无效"),
        ("agreed", not a.agreed, "须阅读并同意承诺和授权"),
    ]
    return [(name, reason) for name, failed, reason in checks if failed]


def villages() -> list[Jurisdiction]:
    """Every village (村) a household may apply in, in the order of the jurisdiction tree."""
    return list(db.session.scalars(select(Jurisdiction).filter_by(level=JurisdictionLevel.VILLAGE)
                                   .order_by(Jurisdiction.path)))


def village_groups() -> list[tuple[str, list[Jurisdiction]]]:
    """The villages grouped by the two places above them (县 + 乡镇, "章贡区沙河镇"), for the page's choice of
    village: two statements, however many villages there are."""
    every = villages()
    load_ancestors(every)

    def township(village: Jurisdiction) -> str:
        return "".join(j.name for j in reversed(village.ancestors()[1:3]))

    return [(name, list(group)) for name, group in groupby(every, key=township)]


def find_applicant_household(village_code: str, head_name: str, id_number: str) -> Household:
    """The household whose head has ``id_number`` and ``head_name`` in ``village_code``; else ApplicationRefused
    (one message for every mismatch, so that the page does not reveal which ID numbers are registered)."""
    member = db.session.scalar(select(Member).filter_by(id_number=normalised(id_number)))
    if member is None or member.relation_to_head != HEAD or member.name != head_name.strip():
        raise ApplicationRefused("no registered head of that name and ID number")
    household = member.household
    if household.village.code != village_code:
        raise ApplicationRefused("the head's household is in another village")
    return household


def submit_application(application: Application, clock: Clock) -> SelfApplication:
    """Open the identification case of a self-application (lead date = today) and keep the application with it,
    in one transaction; the first task — receiving the application and the signatures of all members — goes to
    the village cadres. Refused (ApplicationRefused) for a household that cannot apply on line."""
    check_application(application)
    household = find_applicant_household(application.village_code, application.head_name, application.id_number)
    today, number = to_local_date(clock.now()), new_number()
    phone = application.phone.strip().replace(" ", "")
    try:
        with transaction():
            before = household.status
            case = begin_identification(household, CHANNEL, today, ACTOR, clock, application={
                "source": "public_web", "applied_on": today.isoformat(), "head_name": application.head_name.strip(),
                "phone": phone, "risk_description": application.description.strip(),
                "risk_types": list(application.risk_types), "commitment": COMMITMENT, "authorization": AUTHORIZATION,
                "agreed": application.agreed, "application_number": display_number(number),
                "channel_detail": f"网上申报，申请编号 {display_number(number)}",
            })
            record = SelfApplication(number=number, case=case, applicant_digest=_digest(number, application.id_number),
                                     statement=application.description.strip(), phone=phone,
                                     risk_types=list(application.risk_types), submitted_at=clock.now(),
                                     status=SUBMITTED, household_status_before=before)
            db.session.add(record)
    except RuleViolation as exc:  # monitored, an identification or green channel running (or one got in first)
        raise ApplicationRefused(str(exc)) from exc
    log.info("self-application %s: case %s opened for household %s", number, case.number, household.number)
    return record


# -- the application number -----------------------------------------------------------------------


def new_number() -> str:
    return "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def display_number(number: str) -> str:
    """``ABCDE-12345``: easier to read out and to write down."""
    half = len(number) // 2
    return f"{number[:half]}-{number[half:]}"


def normalize_number(text: str) -> str:
    """What was typed, as stored: capitals, without dashes or spaces; O read as 0, I and L as 1."""
    cleaned = re.sub(r"[\s\-－—_]", "", str(text or "")).upper()
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def _digest(number: str, id_number: str) -> str:
    return hmac.new(number.encode(), normalised(str(id_number or "")).encode(), hashlib.sha256).hexdigest()


def find_application(number: str, id_number: str) -> SelfApplication:
    """The application of ``number`` made with ``id_number``; ApplicationNotFound when either does not match."""
    key = normalize_number(number)
    record = db.session.scalar(select(SelfApplication).filter_by(number=key)) if len(key) == NUMBER_LENGTH else None
    given = _digest(key, id_number)
    if record is None or not hmac.compare_digest(record.applicant_digest, given):
        raise ApplicationNotFound()
    return record


# -- progress and cancellation --------------------------------------------------------------------

ORDER = [stage.label for stage in PublicStage]  # the stages of a running case, as the diagram's steps say them
EXPLANATIONS = {
    "受理中": "村委会已收到您的申请，会联系您家，请全体家庭成员在《承诺授权书》上签字。",
    "入户核实": "工作人员到您家中核实家庭成员、收入和“两不愁三保障”等情况。",
    "民主评议": "村里召开村民代表会议（或村“两委”扩大会议）评议。",
    "公示中": "拟纳入名单正在公示，公示期间任何人都可以提出异议。",
    "审核审定中": "乡镇审核、县级审定，必要时与有关部门比对家庭信息。",
    "已审定纳入": "经审定，您家已纳入防止返贫监测，将落实帮扶措施并定期回访。",
    "未纳入": "经核实，您家这次未纳入监测，理由见下方的书面告知。如有异议，可以向村委会或乡镇反映。",
    "已取消": "您已取消本次申请。家庭情况再有变化的，可以重新申请。",
    "办理中": "您的申请正在办理。",
    "已办结": "您的申请已办结。",
}


@dataclass(frozen=True)
class Progress:
    """What the applicant may see of the application (no household or case number, no phone)."""

    number: str  # as displayed
    village: str
    submitted_at: datetime
    step: str  # 受理中 / 入户核实 / 民主评议 / 公示中 / 审核审定中 / 已审定纳入 / 未纳入 / 已取消
    explanation: str
    finished: bool
    cancellable: bool
    due_at: datetime | None
    notices: list[tuple[str, str]]  # (title, body) of the written notices to the household

    @property
    def stages(self) -> list[str]:
        return ORDER


def progress(number: str, id_number: str) -> Progress:
    """申报进度查询: where the application stands, for the applicant (ApplicationNotFound on a wrong pair)."""
    return progress_of(find_application(number, id_number))


def progress_of(record: SelfApplication) -> Progress:
    case = record.case
    step = _step(record, case)
    notices = db.session.scalars(select(Notice).filter_by(case_id=case.id).order_by(Notice.id))
    return Progress(display_number(record.number), case.jurisdiction.full_name, record.submitted_at, step,
                    EXPLANATIONS[step], case.status != "running", _cancellable(record, case),
                    case.due_at if case.status == "running" else None, [(n.title, n.body) for n in notices])


def _step(record: SelfApplication, case: Case) -> str:
    if record.status == CANCELLED or case.outcome == "cancelled":
        return "已取消"
    if case.status != "running":
        return {"identified": "已审定纳入", "rejected": "未纳入"}.get(case.outcome or "", "已办结")
    ready = db.session.scalars(select(HumanTask.public_stage).filter_by(case_id=case.id, state="READY")
                               .where(HumanTask.public_stage.is_not(None)))  # the diagram's publicStage
    steps = {PublicStage(stage).label for stage in ready if stage in PublicStage.labels()}
    if PublicStage.INCLUDED.label in steps:
        return PublicStage.INCLUDED.label  # approved: a publicity still running is the announcement's
    waiting = db.session.scalar(select(CaseDeadline.id).filter_by(case_id=case.id, subject="timer", fired_at=None))
    if waiting is not None:
        steps.add(PublicStage.PUBLICITY.label)  # a publicity period runs (a timer)
    # steps run side by side (001 Q43: the comparison beside the village's): the application is where the least
    # advanced of them is
    return min(steps, key=ORDER.index) if steps else "办理中"


def _cancellable(record: SelfApplication, case: Case) -> bool:
    """Before the village has accepted the application (its step of the stage 受理中 is still to do)."""
    if record.status != SUBMITTED or case.status != "running":
        return False
    return db.session.scalar(select(HumanTask.id).filter_by(case_id=case.id, public_stage=PublicStage.APPLICATION,
                                                            state="READY")) is not None


def cancel_application(number: str, id_number: str, reason: str, clock: Clock) -> Progress:
    """取消申报: the applicant cancels the application before the village has accepted it; the case is ended
    through the engine (its task leaves the cadres' inboxes) and the household is as it was before, in one
    transaction, audited. ApplicationNotFound on a wrong pair; RuleViolation once it may no longer be cancelled."""
    reason = str(reason or "").strip()
    if len(reason) > REASON_LIMIT:
        raise FormInvalid(FORM, [("reason", f"最多 {REASON_LIMIT} 个字")])
    with transaction():
        record = find_application(number, id_number)
        if not _cancellable(record, record.case):
            raise RuleViolation(_not_cancellable(record))
        said = "农户网上取消申请" + (f"：{reason}" if reason else "")
        try:
            withdraw_identification(record.case, PublicStage.APPLICATION, said, record.household_status_before, ACTOR, clock)
        except RuleViolation as exc:  # the engine's words name the case: not for the public
            raise RuleViolation(_not_cancellable(record)) from exc
        record.status, record.cancelled_at = CANCELLED, clock.now()
    log.info("self-application %s cancelled (case %s)", record.number, record.case.number)
    return progress_of(record)


def _not_cancellable(record: SelfApplication) -> str:
    if record.status == CANCELLED:
        return "这份申请已经取消。"
    if record.case.status != "running":
        return "这份申请已经办结，不能取消。"
    return "村委会已受理您的申请，不能在网上取消。如需撤回申请，请联系所在村村委会。"


# -- for the officials ----------------------------------------------------------------------------


_APPLICATION_OF_CASE = select(SelfApplication).where(SelfApplication.case_id == bindparam("case_id"))  # built once (engine.core.reads)


def application_of_case(case_id: int) -> SelfApplication | None:
    """The public application that opened the case, if one did (shown to the officials, phone included)."""
    return db.session.scalar(_APPLICATION_OF_CASE, {"case_id": case_id})


@dataclass(frozen=True)
class ForOfficials:
    """The application as the officials handling the case see it (the phone included)."""

    number: str
    submitted_at: datetime
    statement: str
    phone: str
    risk_types: list[str]  # labels
    cancelled_at: datetime | None


def for_officials(record: SelfApplication) -> ForOfficials:
    labels = dict(risk_type_choices())
    return ForOfficials(display_number(record.number), record.submitted_at, record.statement, record.phone,
                        [labels.get(key, key) for key in record.risk_types], record.cancelled_at)


def prefilled(record: SelfApplication | None) -> dict:
    """The initial values of the village's application form (a form recording the application: ``x-records``) from
    what the household stated on line: the date applied, the statement (on one line: the form's input has one) and
    the risk types. The signatures are for the cadre to confirm."""
    if record is None:
        return {}
    known = {key for key, _ in risk_type_choices()}
    return {"applied_on": to_local_date(record.submitted_at).isoformat(),
            "risk_description": " ".join(line.strip() for line in record.statement.splitlines() if line.strip()),
            "risk_types": [key for key in record.risk_types if key in known]}
