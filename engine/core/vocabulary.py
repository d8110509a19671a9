"""The codes of the domain (术语与代码), each defined once with its Chinese label.

A code is what the database, the diagrams and the API store (``monitored``); its label is what an official
reads (监测中（风险未消除）). The engine, the command line and the templates all take labels from here, as
Django's ``TextChoices`` do: ``HouseholdStatus.MONITORED.label``, ``HouseholdStatus.label_of(code)``,
``Procedure.labels()``.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any, Self


class Code(StrEnum):
    """A code with its Chinese label; a member compares equal to its code (a plain string)."""

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Code → label, in definition order."""
        return {member.value: member.label for member in cls}

    @classmethod
    def label_of(cls, code: str | None) -> str:
        """The label of ``code``; an unknown code is shown as it is (never hidden)."""
        try:
            return cls(code).label
        except ValueError:
            return code or ""


class JurisdictionLevel(Code):
    """The level of a place in the administrative divisions (行政区划层级), from the top down."""

    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县"
    TOWNSHIP = "township", "乡镇"
    VILLAGE = "village", "村"


LEVELS: tuple[JurisdictionLevel, ...] = tuple(JurisdictionLevel)
"""The levels in their order, the province first: a place's parent is one level up."""


class HouseholdStatus(Code):
    """Where a household stands in the monitoring mechanism (农户状态)."""

    ORDINARY = "ordinary", "未纳入监测"
    APPLYING = "applying", "申请识别中"
    MONITORED = "monitored", "监测中（风险未消除）"
    KEY_ATTENTION = "key_attention", "重点关注"
    ELIMINATED = "eliminated", "风险已消除"
    GREEN_CHANNEL = "green_channel", "绿色通道"
    REMOVED = "removed", "已清退"


class HouseholdCategory(Code):
    """The category of a monitored household (监测对象类别, DOMAIN.md §1)."""

    UNSTABLE = "unstable", "脱贫不稳定户"
    MARGINAL = "marginal", "边缘易致贫户"
    SUDDEN = "sudden", "突发严重困难户"


class Procedure(Code):
    """A procedure a case runs (办理程序); which diagram runs it is policy data (``<procedure>.process``), and a
    diagram declares the procedure it carries out with one of these codes (engine.bpmn.procedures)."""

    IDENTIFICATION = "identification", "识别纳入"
    FOLLOWUP = "followup", "帮扶回访"
    ELIMINATION = "elimination", "风险消除"
    GREEN_CHANNEL = "green_channel", "绿色通道"
    MEMBER_CHANGE = "member_change", "家庭成员自然变更"
    CORRECTION = "correction", "风险消除回退或清退"
    WARNING_PUSH = "warning_push", "行业部门预警推送"
    WARNING_BATCH = "warning_batch", "预警分解推送和比对交办"
    WARNING_VERIFICATION = "warning_verification", "预警入户核查"
    WARNING_REPORT = "warning_report", "预警核查结果月报"
    POVERTY_POLICY = "poverty_policy", "脱贫人口分类管理（脱贫不再享受政策认定）"
    ANNUAL_CAMPAIGN = "annual_campaign", "年度信息采集和集中排查"
    ANNUAL_COLLECTION = "annual_collection", "入户信息采集和排查"
    AREA_SCREENING = "area_screening", "区域性、规模性返贫风险排查"
    AREA_VISIT = "area_visit", "灾后入户排查"


class Channel(Code):
    """How a case came about (发现渠道 for an identification, or the procedure that started it)."""

    MONITORING = "monitoring", "纳入监测后"
    TOWNSHIP_EVALUATION = "township_evaluation", "乡镇季度研判"
    CONCENTRATED_SCREENING = "concentrated_screening", "集中排查"  # a yearly campaign's or an area's screening
    GREEN_CHANNEL = "green_channel", "绿色通道"
    MEMBER_CHANGE = "member_change", "成员自然变更"
    CORRECTION = "correction", "清退、回退申请"
    SELF_APPLICATION = "self_application", "农户自主申报"
    CADRE_SCREENING = "cadre_screening", "基层干部排查"
    DEPARTMENT_WARNING = "department_warning", "部门筛查预警"
    PETITION = "petition", "信访、12317 等渠道"
    ANNUAL_CLASSIFICATION = "annual_classification", "脱贫人口分类管理"


IDENTIFICATION_CHANNELS = (Channel.SELF_APPLICATION, Channel.CADRE_SCREENING, Channel.DEPARTMENT_WARNING,
                           Channel.PETITION)
"""The channels through which a household at risk is found (000 §三): those an identification opens on."""


class CaseStatus(Code):
    """Whether a case is still being handled (案件状态)."""

    RUNNING = "running", "办理中"
    COMPLETED = "completed", "已办结"




class StepState(Code):
    """The state of a human step of a case (环节状态), as the task projection keeps it."""

    READY = "READY", "待办理"
    COMPLETED = "COMPLETED", "已办理"
    CANCELLED = "CANCELLED", "已取消"


class PublicStage(Code):
    """What the applicant is told of an identification's step on the public progress page (申报进度), in the
    order the stages follow. A diagram gives it on the user task: ``spiffworkflow:property name="publicStage"``
    (engine.bpmn.validation refuses any other value); a step without it is not shown to the public."""

    APPLICATION = "application", "受理中"  # the village receives the application: until done, it may be cancelled
    VERIFICATION = "verification", "入户核实"
    APPRAISAL = "appraisal", "民主评议"
    PUBLICITY = "publicity", "公示中"
    REVIEW = "review", "审核审定中"
    INCLUDED = "included", "已审定纳入"


class LedgerStep(Code):
    """What a step is for in the warning and campaign ledgers (台账环节): the step the ledger waits for, whatever
    the diagram calls it. A diagram gives it on the user task: ``spiffworkflow:property name="ledgerStep"``
    (engine.bpmn.validation refuses any other value)."""

    DEPARTMENT_PUSH = "department_push", "行业部门推送预警数据"  # the push case's task (推送逾期 when late)
    MONTHLY_REPORT = "monthly_report", "县级月报上报核查结果"  # the county's monthly report to the city
    HOUSEHOLD_VISIT = "household_visit", "入户采集和排查"  # a campaign's household still to visit
    SYSTEM_ENTRY = "system_entry", "录入全国防返贫监测信息系统"  # a campaign's household screened, still to enter
    COUNTY_DECISION = "county_decision", "县级审定，审定日期即识别日期"  # the warning ledger's 审定 date


class FormRecord(Code):
    """What a form records for the steps after it (表单记录的内容): what the task page shows or prefills from it,
    whatever the form's file is called. A form gives it in its schema: ``"x-records": ["household_size"]``
    (engine.bpmn.forms refuses any other value, and a form without the fields the value needs)."""

    APPLICATION = "application", "识别申请：预填农户网上申报的申请日期、情况简述和风险类型"
    RISK_TYPES = "risk_types", "风险类型（A27）：预填申请环节记录的风险类型"
    HOUSEHOLD_SIZE = "household_size", "家庭人口数：预填农户登记的实际共同生活人数"
    PUBLICITY_POSTING = "publicity_posting", "公示张贴：张贴日期和地点列入办理依据的公示情况"
    OBJECTION_FINDING = "objection_finding", "异议核实结论：列在所核实的异议下，不列入历次结论"
    HARDSHIP = "hardship", "突发困难情况：预填启动时填写的困难情况，并列入此后各环节的办理依据"


class WarningStatus(Code):
    """Where a department warning (行业部门预警) stands: waiting at the city, the county or the township, or what
    the comparison or the home verification made of it (预警状态)."""

    RECEIVED = "received", "待市级分解推送"
    AT_COUNTY = "at_county", "待县级比对交办"
    ALREADY_MONITORED = "already_monitored", "已在监测，已备注"  # the county's comparison found it monitored
    NOTED_IN_IDENTIFICATION = "noted_in_identification", "正在办理识别纳入，已记入该案"  # …or being identified
    NOTED_IN_GREEN_CHANNEL = "noted_in_green_channel", "绿色通道中，已记入该案"  # …or in the green channel
    DISPATCHED = "dispatched", "已交办乡镇核查"
    INCLUDED = "included", "符合条件，已启动识别"
    NOT_INCLUDED = "not_included", "不符合条件，列为重点关注"


class WarningSource(Code):
    """How a department's batch of warnings came in (推送方式)."""

    CSV = "csv", "上传 CSV 文件"
    XLSX = "xlsx", "上传 Excel 文件"
    API = "api", "数据接口推送"


NOTED_WARNING_STATUSES = (WarningStatus.ALREADY_MONITORED, WarningStatus.NOTED_IN_IDENTIFICATION,
                          WarningStatus.NOTED_IN_GREEN_CHANNEL)
"""A warning in one of these was noted on its household by the county's comparison (比对), not dispatched: the
household is monitored, or in an identification or the green channel (COVERED_HOUSEHOLD_STATUSES below)."""

OPEN_WARNING_STATUSES = (WarningStatus.RECEIVED, WarningStatus.AT_COUNTY, WarningStatus.DISPATCHED)
"""A warning in one of these still waits in a step (the city's split, the county's comparison, the township's
verification)."""

COVERED_HOUSEHOLD_STATUSES = (HouseholdStatus.MONITORED, HouseholdStatus.APPLYING, HouseholdStatus.GREEN_CHANNEL)
"""A household in one of these is already in the monitoring or in a procedure towards it: a warning about it is
noted on it, not dispatched for verification (比对), and it is not made a key-attention household."""

COVERING_PROCEDURES = (Procedure.IDENTIFICATION, Procedure.GREEN_CHANNEL)
"""A running case of one of these covers its household as the statuses above do."""


class OverdueKind(Code):
    """What is overdue (逾期类型): a step's task, or a case's overall time limit."""

    TASK = "task", "任务"
    CASE = "case", "案件总时限"


class EliminationMode(Code):
    """How a household's risk was eliminated (风险消除方式)."""

    ASSISTED = "assisted", "帮扶消除"
    NATURAL = "natural", "自然消除"


class PublicityStage(Code):
    """What a publicity list (公示公告名单) is about: a template's ``stage`` (policy/publicity_fields.json)."""

    IDENTIFICATION = "identification", "识别纳入"
    ASSISTANCE = "assistance", "帮扶"
    ELIMINATION = "elimination", "风险消除"


class SystemActor(Code):
    """Who did something when no official did (the audit log's and the library's actor)."""

    SYSTEM = "system", "系统"
    SELF_APPLICATION = "self_application", "农户网上申请"
    MIGRATION = "migration", "数据迁移"
    DEMO = "demo", "演示数据"


def actor_name(actor: str | None, names: dict[str, str] | None = None) -> str:
    """How an actor reads: an official's name (``names``: username → display name), or the system's own actors in
    Chinese; anything else as it is."""
    if actor in SystemActor.labels():
        return SystemActor.label_of(actor)
    return (names or {}).get(actor or "", actor or "")


class CorrectionKind(Code):
    """What a county asks for when an identification or elimination was not accurate (回退或清退)."""

    ROLLBACK = "rollback", "风险消除回退"
    REMOVAL = "removal", "清退"


class CaseOutcome(Code):
    """How a case ended (办理结果): what a diagram records with ``record_outcome(code, reason)``. The shipped
    diagrams record these (tests/core/test_vocabulary.py); a code a diagram of its own records is shown as it is."""

    IDENTIFIED = "identified", "纳入监测"  # identification
    REJECTED = "rejected", "不予纳入"  # identification, green channel
    CANCELLED = "cancelled", "农户取消申请"
    QUALIFIED = "qualified", "符合监测对象条件"  # green channel: the identification's procedure follows
    LEFT_GREEN_CHANNEL = "left_green_channel", "退出绿色通道"
    ELIMINATED = "eliminated", "风险已消除"  # elimination
    POSTPONED = "postponed", "暂缓消除"
    INCLUDED = "included", "符合条件，已启动识别"  # department warning's home verification
    NOT_INCLUDED = "not_included", "不符合条件，列为重点关注"
    KEPT = "kept", "仍按脱贫享受政策管理"  # 脱贫人口分类管理
    NOT_ENJOYING = "not_enjoying", "脱贫不再享受政策"
    ROLLBACK = CorrectionKind.ROLLBACK.value, CorrectionKind.ROLLBACK.label  # correction: what was approved
    REMOVAL = CorrectionKind.REMOVAL.value, CorrectionKind.REMOVAL.label
    REFUSED = "refused", "回退或清退申请未获同意"
    NO_RISK = "no_risk", "无新的返贫致贫风险"  # a yearly campaign's household
    IDENTIFY = "identify", "符合认定标准，已启动识别"
    RISK_GONE = "risk_gone", "风险已消除，已启动风险消除程序"
    REPORTED = "reported", "已汇总上报"  # a township's yearly campaign
    NO_SCALE_RISK = "no_scale_risk", "不存在区域性、规模性返贫风险"  # an area screening's assessment
    SCALE_RISK = "scale_risk", "存在区域性、规模性返贫风险"


class GuaranteeProblem(Code):
    """A problem of 三保障 or drinking water found at the household (A23–A26)."""

    HOUSING_UNSAFE = "housing_unsafe", "住房安全"
    COMPULSORY_EDUCATION_DROPOUT = "compulsory_education_dropout", "义务教育（适龄儿童失学辍学）"
    DRINKING_WATER_UNSAFE = "drinking_water_unsafe", "饮水安全"
    NO_BASIC_MEDICAL_INSURANCE = "no_basic_medical_insurance", "基本医疗保险"


class IncomeWindowAnchor(Code):
    """The month the 12 months of income counted at identification are reckoned back from (收入计算时间的起算月份,
    policy ``identification.income_window_anchor``): the income window ends with the month before it."""

    IDENTIFICATION_MONTH = "identification_month", "识别纳入月份"  # 001 Q10, 002 收入指标说明
    DISCOVERY_MONTH = "discovery_month", "发现月份"  # 003 二（二）


class EliminationWindowAnchor(Code):
    """The month the 12 months of income counted at risk elimination are reckoned back from (风险消除的收入计算时间):
    the month of elimination, in every seed that states a rule (002 附件12–17 收入指标说明 2), so no policy parameter
    (engine.elimination.income)."""

    ELIMINATION_MONTH = "elimination_month", "风险消除月份"


class PrivateAccess(Code):
    """Through what an official saw a household's private fields in full (查看敏感信息的途径), as the audit log
    records it (``private_data_viewed``, ``via``)."""

    API = "api", "数据接口（?sensitive=1）"
    INFORMATION_FORM = "information_form", "农户信息采集表"
    COMMAND = "command", "命令行（fangpin household show --sensitive）"


class AuditAction(Code):
    """What an entry of the audit log (操作留痕) records: its code is stored, its label heads the entry on a case's
    办理记录 and an account's history. engine.core.audit refuses to write an action not listed here."""

    # a case and its steps (engine.cases)
    CASE_OPENED = "case_opened", "立案"
    TASK_READY = "task_ready", "待办"
    TASK_COMPLETED = "task_completed", "办理"
    TASK_CLAIMED = "task_claimed", "认领"
    TASK_RELEASED = "task_released", "释放"
    TASK_OVERDUE = "task_overdue", "逾期"
    DATE_BACKDATED = "date_backdated", "补录日期"
    CASE_DEADLINE = "case_deadline", "时限"
    CASE_OVERDUE = "case_overdue", "超时限"
    DEADLINE_RECOMPUTED = "deadline_recomputed", "期限重算"
    TIMERS_FIRED = "timers_fired", "期满"
    PUBLICITY_CLOSED = "publicity_closed", "结束公示"
    OBJECTION_RAISED = "objection_raised", "异议"
    NOTICE_SENT = "notice_sent", "告知农户"
    OUTCOME = "outcome", "结果"
    CASE_CLOSED = "case_closed", "办结"
    CASE_ENDED = "case_ended", "结束办理"
    OPENED_CASE_DECIDED = "opened_case_decided", "审定"
    CASE_MIGRATED = "case_migrated", "流程版本迁移"
    # what a case did to its household (engine.cases.functions)
    HOUSEHOLD_MONITORED = "household_monitored", "纳入监测"
    HOUSEHOLD_ELIMINATED = "household_eliminated", "风险消除"
    HOUSEHOLD_NOT_ENJOYING_POLICY = "household_not_enjoying_policy", "脱贫不再享受政策"
    HOUSEHOLD_ENJOYING_POLICY = "household_enjoying_policy", "脱贫享受政策"
    HOUSEHOLD_ROLLBACK = f"household_{CorrectionKind.ROLLBACK.value}", CorrectionKind.ROLLBACK.label
    HOUSEHOLD_REMOVAL = f"household_{CorrectionKind.REMOVAL.value}", CorrectionKind.REMOVAL.label
    HOUSEHOLD_RELEASED = "household_released", "农户状态"
    INCOME_WINDOW_SETTLED = "income_window_settled", "收入计算时间"
    ELIMINATION_LINE_SETTLED = "elimination_line_settled", "监测范围"
    MEASURES_RECORDED = "measures_recorded", "落实帮扶措施"
    MEASURES_STOPPED = "measures_stopped", "停止帮扶措施"
    GREEN_CHANNEL_ENTERED = "green_channel_entered", "纳入绿色通道"
    MEMBERS_CHANGED = "members_changed", "家庭成员变更"
    GUARANTEES_VERIFIED = "guarantees_verified", "“三保障”和饮水安全核实"
    ANNUAL_INCOME_RECORDED = "annual_income_recorded", "采集年度收入"
    # department warnings (engine.warnings)
    WARNING_BATCH_IMPORTED = "warning_batch_imported", "导入预警数据"
    WARNINGS_PUSHED = "warnings_pushed", "分解推送"
    WARNING_NOTED = "warning_noted", "部门预警已备注"
    WARNING_DISPATCHED = "warning_dispatched", "交办乡镇核查"
    WARNING_VERIFIED = "warning_verified", "预警核查结论"
    WARNING_REPORT_SUBMITTED = "warning_report_submitted", "上报月报"
    WARNING_REPORT_RECORDED = "warning_report_recorded", "月报已记录"
    # households (engine.households)
    HOUSEHOLD_REGISTERED = "household_registered", "农户登记"
    HOUSEHOLDS_IMPORTED = "households_imported", "导入农户"
    HOUSEHOLD_IDENTIFIED_OUTSIDE = "household_identified_outside", "系统外识别纳入"
    PRIVATE_DATA_VIEWED = "private_data_viewed", "查看敏感信息"
    PRIVATE_DATA_REFUSED = "private_data_refused", "拒绝查看敏感信息"
    # policy, diagrams and the calendar (engine.policy, engine.library, engine.cases.calendar_year, the command line)
    POLICY_LOADED = "policy_loaded", "载入政策数据"
    POLICY_PARAMETER_SET = "policy_parameter_set", "修改政策参数"
    MONITORING_LINE_SET = "monitoring_line_set", "设定监测范围"
    PROCESS_BOUND = "process_bound", "绑定流程"
    PROCESS_ROLLED_BACK = "process_rolled_back", "回退流程版本"
    PROCESS_PINNED = "process_pinned", "固定流程版本"
    DIAGRAM_DEPLOYED = "diagram_deployed", "部署流程图"
    DECISION_TABLE_DEPLOYED = "decision_table_deployed", "部署决策表"
    DRAFT_SAVED = "draft_saved", "保存草稿"
    DRAFT_DEPLOYED = "draft_deployed", "部署草稿"
    SCENARIO_SAVED = "scenario_saved", "保存试运行场景"
    CALENDAR_YEAR_SAVED = "calendar_year_saved", "保存工作日历"
    # accounts (engine.accounts)
    USER_CREATED = "user_created", "创建用户"
    USER_CHANGED = "user_changed", "修改用户"
    USER_DEACTIVATED = "user_deactivated", "停用"
    USER_REACTIVATED = "user_reactivated", "重新启用"
    PASSWORD_RESET = "password_reset", "重置密码"
    PASSWORD_CHANGED = "password_changed", "本人修改密码"
    API_TOKEN_ISSUED = "api_token_issued", "发放接口令牌"
    API_TOKEN_REVOKED = "api_token_revoked", "吊销接口令牌"


FORM_VOCABULARIES: tuple[type[Code], ...] = (HouseholdCategory, EliminationMode, HouseholdStatus, GuaranteeProblem,
                                             Procedure, Channel)
"""Where the Chinese label of a form's option comes from when the form gives none (``enumNames``): a form whose
options are all codes of one vocabulary shows that vocabulary's labels, never the codes — as a choice to make and
as a value recorded alike."""


def vocabulary_labels(values: list[Any]) -> dict[Any, str]:
    """The labels of ``values`` if they are all codes of one vocabulary of FORM_VOCABULARIES, else none."""
    if not values or not all(isinstance(v, str) for v in values):
        return {}
    for vocabulary in FORM_VOCABULARIES:
        labels = vocabulary.labels()
        if all(v in labels for v in values):
            return {v: labels[v] for v in values}
    return {}


def option_labels(spec: dict[str, Any]) -> dict[Any, str]:
    """value → label of the options of a form's field ``spec`` (its ``enum``, or its items' for a list of choices):
    the form's own ``enumNames``, else the labels of the vocabulary its codes are of."""
    values = spec.get("enum") or (spec.get("items") or {}).get("enum") or []
    names = spec.get("enumNames") or []
    known = vocabulary_labels([v for v in values if v is not None])
    return {v: names[i] if i < len(names) else known.get(v, str(v)) for i, v in enumerate(values) if v is not None}
