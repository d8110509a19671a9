"""Demo data (演示数据): logins for every role, a few households, and cases at different steps."""
from __future__ import annotations

import functools
import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from engine.cases.lifecycle import (
    complete_task,
    open_elimination,
    open_green_channel,
    open_identification,
    open_member_change,
    wake_due,
)
from engine.core.clock import Clock, FixedClock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import Case, Household, HumanTask, Jurisdiction, User
from engine.core.transaction import transaction
from engine.core.vocabulary import WarningSource
from engine.households.register import register_household
from engine.policy.parameters import load_policy_file
from engine.policy.roles import all_roles
from engine.warnings.intake import import_batch
from engine.warnings.procedure import batch_reference
from engine.warnings.rows import read_json
from engine.warnings.schedules import open_schedules
from timers.calendar import CHINA_TZ, to_local_date

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo"
# The demo's "today" (演示日): a new demo database's clock starts here (``fangpin init --demo``), so that its cases,
# deadlines and policy data lie within the holiday and policy data shipped, whatever the real date — on a real date
# beyond them (a December before the next year's holiday notice is loaded) the demo could not be built.
DEMO_DAY = datetime(2026, 9, 20, 9, 0, tzinfo=CHINA_TZ)
DEMO_USERS = [  # username, display name, roles, jurisdiction code
    ("shahe_cun", "沙河村村干部", ["village_cadre"], "360702101201"),
    ("shahe_cun2", "沙河村村干部（二）", ["village_cadre"], "360702101201"),
    ("huaping_cun", "华坪村村干部", ["village_cadre"], "360702101202"),
    ("shuixi_cun", "水西村村干部", ["village_cadre"], "360702102201"),
    ("shahe_zhen", "沙河镇乡镇干部", ["township_officer"], "360702101"),
    ("shuixi_zhen", "水西镇乡镇干部", ["township_officer"], "360702102"),
    ("zhanggong_xian", "章贡区乡村振兴局", ["county_officer"], "360702"),
    ("zhanggong_dudao", "章贡区督导", ["supervisor"], "360702"),
    ("zhanggong_admin", "章贡区系统管理员", ["administrator"], "360702"),
    ("ganzhou_shi", "赣州市乡村振兴局", ["city_officer", "supervisor"], "3607"),
    ("jiangxi_zhengce", "江西省政策管理员", ["policy_editor", "supervisor"], "36"),
    ("jiangxi_sheng", "江西省乡村振兴局", ["province_officer"], "36"),
    ("zhuyouguan_cun", "诸由观村村干部", ["village_cadre"], "370681104201"),
    ("zhuyouguan_zhen", "诸由观镇干部", ["township_officer"], "370681104"),
    ("longkou_shi", "龙口市扶贫办", ["county_officer"], "370681"),  # 龙口市 is a county-level city
    ("xinhua_cun", "新华村村干部", ["village_cadre"], "210321100201"),
    ("taian_zhen", "台安镇干部", ["township_officer"], "210321100"),
    ("taian_xian", "台安县乡村振兴局", ["county_officer"], "210321"),
    ("zhanggong_yibao", "章贡区医保局", ["department_officer"], "360702"),
    ("ganzhou_yibao", "赣州市医保局", ["department_officer"], "3607"),
    ("longkou_minzheng", "龙口市民政局", ["department_officer"], "370681"),
    ("taian_yibao", "台安县医保局", ["department_officer"], "210321"),
]

DEMO_DEPARTMENTS = {"zhanggong_yibao": "medical", "ganzhou_yibao": "medical", "longkou_minzheng": "civil_affairs",
                    "taian_yibao": "medical"}


@functools.lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    """Hashing is deliberately slow; the demo logins all share one password, so hash it once per process."""
    return generate_password_hash(DEMO_PASSWORD)


def create_users() -> int:
    added = 0
    for username, name, roles, code in DEMO_USERS:
        if db.session.scalar(select(User).filter_by(username=username)):
            continue
        jurisdiction = db.session.scalar(select(Jurisdiction).filter_by(code=code))
        db.session.add(User(username=username, display_name=name, roles=roles, jurisdiction=jurisdiction,
                            password_hash=_demo_password_hash(), department=DEMO_DEPARTMENTS.get(username)))
        added += 1
    return added


def _member(name: str, body: str, relation: str, **extra) -> dict:
    """A member whose ID number is ``body`` (its first 17 digits: place, birth date, sequence) and its check
    character."""
    return {"name": name, "id_number": with_check_character(body), "relation_to_head": relation,
            "medical_insurance": True, **extra}


DEMO_HOUSEHOLDS = [
    {"village": "360702101201", "group_name": "一组", "address": "沙河村一组12号", "is_formerly_poor": True,
     "contact_phone": "13900000001", "members": [
         _member("刘建国", "36070219700512001", "户主", health_status="慢性病"),
         _member("王秀英", "36070219720815002", "配偶"), _member("刘小明", "36070220050302001", "子")]},
    {"village": "360702101201", "group_name": "三组", "address": "沙河村三组5号", "contact_phone": "13900000002",
     "members": [_member("陈志强", "36070219801111003", "户主"), _member("李红梅", "36070219830222004", "配偶")]},
    {"village": "360702101202", "group_name": "二组", "address": "华坪村二组8号", "contact_phone": "13900000003",
     "members": [_member("赵德胜", "36070219651212005", "户主"), _member("赵丽", "36070219990909006", "女")]},
    {"village": "370681104201", "address": "诸由观村", "is_formerly_poor": True, "enjoys_poverty_policy": True,
     "members": [_member("孙永福", "37068119680606007", "户主")]},
    {"village": "210321100201", "address": "新华村", "members": [_member("周玉兰", "21032119770707008", "户主")]},
    {"village": "360702102201", "address": "水西村四组3号", "is_formerly_poor": True, "members": [
        _member("黄金水", "36070219730303009", "户主"), _member("黄秀兰", "36070219760404010", "配偶"),
        _member("黄小兵", "36070220000606011", "子")]},
    {"village": "360702101202", "address": "华坪村五组1号", "members": [
        _member("吴长林", "36070219680808013", "户主"), _member("吴红", "36070219950101014", "女")]},
]


def demo_id_number(name: str) -> str:
    """The ID number of the demo's member ``name`` (刘建国, 陈志强, …)."""
    return next(m["id_number"] for data in DEMO_HOUSEHOLDS for m in data["members"] if m["name"] == name)


def load_demo(clock: Clock) -> dict[str, int]:
    """Add demo users, households and cases (only what is missing: a household by its address)."""
    with transaction():
        load_policy_file(project_dir("policy") / "demo_parameters.json")
        users = create_users()
    households = 0
    for data in DEMO_HOUSEHOLDS:
        if not db.session.scalar(select(Household.id).where(Household.address == data["address"])):
            register_household(data, "demo", clock)
            households += 1
    cases = _demo_cases(clock) if households else 0
    log.info("demo data: %s users, %s households, %s cases", users, households, cases)
    return {"users": users, "households": households, "cases": cases}


def _demo_cases(clock: Clock) -> int:
    """Cases in every procedure and at different steps: identification waiting for verification, in village
    publicity, one overdue (its lead found 20 days ago); identified households with their monthly follow-up;
    an elimination in its publicity; a green channel to confirm; a member change to record; warnings compared."""
    now = clock.now()
    today = to_local_date(now)
    by_address = {h.address: h for h in db.session.scalars(select(Household))}
    open_identification(by_address["沙河村一组12号"].id, "cadre_screening", today - timedelta(days=2), "shahe_cun", clock)
    _past(by_address["华坪村二组8号"], now - timedelta(days=20), "self_application", until="受理申请并签署承诺授权书")
    _past(by_address["沙河村三组5号"], now - timedelta(days=3), "cadre_screening", until="张贴村级公示")
    _past(by_address["诸由观村"], now - timedelta(days=1), "petition", until="受理申请并签署承诺授权书")
    _past(by_address["新华村"], now - timedelta(days=40), "cadre_screening")
    _elimination_under_way(by_address["水西村四组3号"], now)
    open_green_channel(by_address["华坪村五组1号"].id, "huaping_cun", clock, {"hardship": "房屋遭洪水冲毁"})
    open_member_change(by_address["沙河村一组12号"].id, today - timedelta(days=10), "shahe_cun", clock)
    _warnings(clock)
    return 9


def _elimination_under_way(household: Household, now: datetime) -> None:
    """Identified eight months ago, visited every month since, now in the village publicity of its elimination."""
    past = FixedClock(now - timedelta(days=240))
    case = open_identification(household.id, "cadre_screening", to_local_date(past.now()), "demo", past)
    drive_case(case.id, past)
    followup = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="followup"))
    while past.now() + timedelta(days=30) < now:  # nothing of the demo happens after its today
        visit = db.session.scalar(select(HumanTask).filter_by(case_id=followup.id, state="READY"))
        if visit is not None:
            complete_task(visit.id, sample_form_data(visit.form, to_local_date(past.now()), followup), "shuixi_cun", past)
        past.set(past.now() + timedelta(days=30))
        wake_due(past.now(), past)
    past.set(max(past.now(), now - timedelta(days=2)))  # the publicity was posted two days ago: it runs today
    elimination = open_elimination(household.id, "assisted", "shuixi_zhen", past)
    drive_case(elimination.id, past, until="张贴村级公示（风险消除）")


def _warnings(clock: Clock) -> None:
    """The medical insurance office of 章贡区 pushes this quarter's warnings; the county has compared them."""

    today = to_local_date(clock.now())
    rows = [{"name": "赵德胜", "id_number": demo_id_number("赵德胜"), "indicator": "out_of_pocket", "amount": 26000,
             "date": today.isoformat()},
            {"name": "孙外来", "id_number": with_check_character("36070219890909014"), "indicator": "out_of_pocket",
             "amount": 31000, "village": "360702102202", "date": today.isoformat()}]  # not registered
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    batch = import_batch("medical", quarter, read_json(rows), WarningSource.API, "zhanggong_yibao", clock)
    comparison = db.session.scalar(select(HumanTask).join(Case, Case.id == HumanTask.case_id).where(
        Case.reference == batch_reference(batch, batch.jurisdiction), HumanTask.state == "READY"))
    complete_task(comparison.id, sample_form_data(comparison.form, today), "zhanggong_xian", clock)
    with transaction():
        open_schedules(clock)


def _past(household: Household, started: datetime, channel: str, until: str | None = None) -> Case:
    """Run a case from ``started`` up to step ``until`` (or to its end) on a clock of its own, so the demo
    has history; timers that fell due since then fire on the system's first sweep."""
    past = FixedClock(started)
    case = open_identification(household.id, channel, to_local_date(started), "demo", past)
    drive_case(case.id, past, until=until)
    return case


SAMPLE_HOUSEHOLD_SIZE = 3  # the 家庭人口数 of a sample for no case
# The income of a sample per member of the household (近12个月, A28–A32), for each form whose 家庭人口数 the task page
# prefills from the register (``"x-records": ["household_size"]``): the sample gives the case's household size and
# these times it, so its per-capita income (A34) is the same whatever the household's size — 5 000 a head at the
# identification's verification (within the monitoring range), 12 000 at the elimination's (above it).
SAMPLE_INCOME_PER_HEAD: dict[str, dict[str, int]] = {
    "household_verification.json": {"wages": 4000, "business_income": 1000, "property_income": 0,
                                    "transfer_income": 200, "business_expenses": 200},
    "elimination_review.json": {"wages": 10000, "business_income": 2000, "property_income": 0,
                                "transfer_income": 400, "business_expenses": 400},
}


def _sample_income(form: str, case: Case | None) -> dict[str, int]:
    """The income of ``form``'s sample: the case's household size (its members who live with it,
    ``Household.size``, as the task page prefills) and the income per head times it."""
    household = case.household if case is not None else None
    size = household.size if household is not None and household.size else SAMPLE_HOUSEHOLD_SIZE
    return {"household_size": size, **{field: amount * size for field, amount in SAMPLE_INCOME_PER_HEAD[form].items()}}


def sample_form_data(form: str, today: date, case: Case | None = None) -> dict:
    """Plausible, valid data for each task form (demo runs, benchmarks and tests); for ``case``, the household's
    own size where the form asks for it (:data:`SAMPLE_INCOME_PER_HEAD`), a household of three without one."""
    d = today.isoformat()
    return {
        "identification_apply.json": {"applied_on": d, "all_members_signed": True, "risk_description": "户主因病住院",
                                      "risk_types": ["illness"]},
        "household_verification.json": {
            "verified_on": d, "risk_types": ["illness"], "exclusions": [], "guarantees": {},
            "income": _sample_income("household_verification.json", case)},
        "democratic_appraisal.json": {"appraised_on": d, "participants": 15, "decision": "approve"},
        "post_publicity.json": {"posted_on": d, "place": "村务公开栏"},
        "verify_objection.json": {"verified_on": d, "objection_finding": "dismissed", "reason": "经核实，异议不成立"},
        "review_decision.json": {"reviewed_on": d, "visited": True, "decision": "approve"},
        "information_comparison.json": {"compared_on": d, "decision": "approve"},
        "county_approval.json": {"decided_on": d, "decision": "approve"},
        "elimination_approval.json": {"decided_on": d, "decision": "approve"},
        "announcement.json": {"announced_on": d},
        "assistance_plan.json": {"responsible_person": "王帮扶", "plan_publicized_on": d, "able_and_willing": True,
                                 "measures": [{"category": "A39", "item": "种植业"}]},
        "household_consent.json": {"consented_on": d, "consented": True},
        "elimination_review.json": {
            "reviewed_on": d, "decision": "approve",
            "income": _sample_income("elimination_review.json", case)},
        "green_channel_village.json": {"confirmed_on": d, "hardship": "房屋遭洪水冲毁", "risk_types": ["natural_disaster"]},
        "green_channel_entry.json": {"entered_on": d, "responsible_person": "王帮扶", "able_and_willing": True,
                                     "measures": [{"category": "A40", "item": "技能培训"}]},
        "green_channel_verification.json": {"verified_on": d, "qualifies": "yes"},
        "correction_request.json": {"requested_on": d, "reason": "集中排查发现风险消除不精准", "evidence": "入户核实记录"},
        "province_decision.json": {"decided_on": d, "decision": "approve", "national_reference": "国乡振备〔2026〕1号"},
        "monthly_revisit.json": {"visited_on": d, "method": "home_visit", "income_stable": True,
                                 "measures_in_place": True, "new_risk": False},
        "system_entry.json": {"entered_on": d},
        "warning_push.json": {"no_warnings": True, "note": "本期无达到预警标准的人员"},
        "warning_split.json": {"pushed_on": d},
        "warning_dispatch.json": {"compared_on": d},
        "warning_verification.json": {"verified_on": d, "outcome": "meets", "reason": "入户核实医疗支出大，收入骤减"},
        "warning_report.json": {"reported_on": d},
        "poverty_policy_check.json": {"verified_on": d, "criteria": ["company_employing"], "exceptions": [],
                                      "evidence": "入户核实：户主注册养殖公司，雇工 6 人"},
        "poverty_policy_approval.json": {"decided_on": d, "decision": "approve"},
        "campaign_open.json": {"opened_on": d},
        "area_visit.json": {"visited_on": d, "affected": True, "outcome": "no_risk", "note": "房屋轻微受损，已修缮"},
        "area_assessment.json": {"assessed_on": d, "risk_level": "no_scale_risk", "measures": "继续跟踪受灾户"},
        "campaign_report.json": {"reported_on": d},
        "annual_collection.json": {"collected_on": d, "interview": "home_visit", "household_signed": True,
                                   "collector_signed": True, "screening": "no_risk",
                                   "income": {"household_size": 3, "wages": 36000, "business_income": 4000,
                                              "property_income": 0, "transfer_income": 1200,
                                              "business_expenses": 800}},
    }[form]


def official_for(role_key: str, case: Case) -> User:
    """A login holding ``role_key`` at the case's level of that role."""
    role = all_roles()[role_key]
    place = case.jurisdiction.ancestor_at(role.level)
    users = db.session.scalars(select(User).filter_by(jurisdiction_id=place.id))
    found = next((u for u in users if role_key in u.roles), None)
    if found is None:
        raise LookupError(f"no demo login with role {role_key} in {place.full_name}")
    return found


def drive_case(case_id: int, clock: FixedClock, until: str | None = None, max_steps: int = 100,
               data: dict[str, dict] | None = None) -> list[tuple[str, str]]:
    """Complete each ready task with sample data (``data`` overrides fields per form) and move the clock
    to each next timer, until the case ends (or the step ``until`` is done). Returns ``[(step, role)]``."""
    done: list[tuple[str, str]] = []
    for _ in range(max_steps):
        case = db.session.get(Case, case_id)
        db.session.refresh(case)
        row = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY").order_by(HumanTask.id))
        if row is not None:
            values = {**sample_form_data(row.form, to_local_date(clock.now()), case), **(data or {}).get(row.form, {})}
            complete_task(row.id, values, official_for(row.role, case).username, clock)
            done.append((row.name, row.role))
            if row.name == until:
                return done
        elif case.status == "running" and case.next_wakeup_at is not None:
            clock.set(max(clock.now(), case.next_wakeup_at))
            wake_due(clock.now(), clock)
        else:
            return done
    raise RuntimeError(f"case {case_id} did not finish in {max_steps} steps")
