"""The department warning procedures (engine.warnings) against the real diagrams, calendar and database: schedules of
pushes and reports, the set-based comparison, a policy editor's changed limit for one county from a date, and
running warnings of the old status machine moved to the procedures."""
from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from engine.bpmn.forms import load_form
from engine.bpmn.source import DiagramSource
from engine.cases.lifecycle import complete_task, open_identification, wake_due, withdraw_identification
from engine.cases.live import live_instances
from engine.cases.views import timeline
from engine.core import audit
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.id_numbers import with_check_character
from engine.core.models import AuditEvent, Case, DepartmentWarning, HumanTask, Jurisdiction, User, WarningBatch
from engine.core.transaction import transaction
from engine.demo import drive_case, sample_form_data
from engine.households.register import register_household
from engine.library.deploying import deploy_diagram, diagram_source
from engine.library.rules import deploy
from engine.policy.editing import bind_process
from engine.supervision.overdue import mark_overdue, overdue_cases
from engine.warnings.intake import import_batch
from engine.warnings.ledger import compare_all, ledger, ledger_row, overdue_warnings
from engine.warnings.migration import move_running_warnings
from engine.warnings.rows import read_json
from engine.warnings.schedules import first_report_month, following_period, open_schedules, period_months
from engine.warnings.thresholds import check_period, departments
from tests.bdd.officials import household_data
from tests.factories import statements_of
from timers.calendar import CHINA_TZ, end_of_day, to_local_date


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def _id(serial: int) -> str:
    return with_check_character(f"36070219800101{serial:03d}")


def _push(clock, *people: tuple[str, str], user: str = "zhanggong_yibao", period: str = "2026-Q3") -> WarningBatch:
    rows = [{"name": name, "id_number": number, "indicator": "out_of_pocket", "amount": 30000,
             "village": "360702101201", "date": "2026-09-10"} for name, number in people]
    return import_batch("medical", period, read_json(rows), "api", user, clock)


def _ready(step: str) -> list[HumanTask]:
    db.session.expire_all()
    return list(db.session.scalars(select(HumanTask).filter_by(bpmn_id=step, state="READY").order_by(HumanTask.id)))


def test_periods_follow_the_department_rule(app):
    zhanggong = departments(_place("360702"), date(2026, 9, 20))["medical"]  # quarterly, before the 25th
    assert following_period(zhanggong, "2026-Q3") == "2026-Q4" and following_period(zhanggong, "2026-Q4") == "2027-Q1"
    assert period_months(zhanggong, "2026-Q3") == (date(2026, 7, 1), date(2026, 9, 1))
    ganzhou = departments(_place("3607"), date(2026, 9, 20))["medical"]  # monthly
    assert following_period(ganzhou, "2026-12") == "2027-01"
    assert period_months(ganzhou, "2026-09") == (date(2026, 9, 1), date(2026, 9, 1))


def test_a_period_is_valid_once_it_has_started(app):
    zhanggong = departments(_place("360702"), date(2026, 9, 20))["medical"].push  # quarterly: 3, 6, 9, 12
    assert check_period(zhanggong, "2026-Q3", date(2026, 7, 1)) is None
    assert check_period(zhanggong, "2026-Q3", date(2026, 6, 30)) == "尚未开始（2026-07-01 起），只能推送已开始的期间"
    assert check_period(zhanggong, "2027-Q1", date(2026, 9, 26)) == "尚未开始（2027-01-01 起），只能推送已开始的期间"
    ganzhou = departments(_place("3607"), date(2026, 9, 20))["medical"].push  # monthly
    assert check_period(ganzhou, "2026-09", date(2026, 9, 1)) is None
    assert "尚未开始（2026-10-01 起）" in check_period(ganzhou, "2026-10", date(2026, 9, 30))


def test_schedules_open_once_and_each_push_opens_the_next_period(app, clock):
    with transaction():
        first = open_schedules(clock)
        again = open_schedules(clock)
    assert first["push"] > 0 and first["report"] == 3 and again == {"push": 0, "report": 0}
    reference = "warning_push:360702:medical:2026-Q3"
    case = db.session.scalar(select(Case).filter_by(reference=reference))
    (task,) = [t for t in _ready("wp_push") if t.case_id == case.id]
    assert task.due_at == end_of_day(date(2026, 9, 25)) and task.jurisdiction.code == "360702"
    _push(clock, ("推送甲", _id(1)))
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "completed"
    following = db.session.scalar(select(Case).filter_by(reference="warning_push:360702:medical:2026-Q4"))
    assert following is not None and following.status == "running"
    assert following.next_wakeup_at == datetime(2026, 10, 1, tzinfo=CHINA_TZ)  # its task opens with the quarter


@pytest.mark.parametrize(("latest", "month"), [
    (None, "2026-08"),  # a county's first report: last month's, due before the 25th of this month
    ("2026-08", "2026-09"),  # after last month's: this month's (its task opens when the month ends)
    ("2025-01", "2026-08"),  # a chain broken long ago starts again with last month's, not with old months
])
def test_the_first_report_a_county_opens_is_the_one_due_now(latest, month):
    assert first_report_month(latest, date(2026, 9, 20)) == month


def test_schedules_open_each_countys_report_of_last_month_at_first(app, clock):
    """Review 22, finding 10 (000 六（二）4): the report of month M opens at the start of M+1, due the 25th."""
    with transaction():
        open_schedules(clock)
    wake_due(clock.now(), clock)
    report = db.session.scalar(select(Case).filter_by(reference="warning_report:360702:2026-08"))
    assert report is not None and db.session.scalar(select(Case).filter_by(
        reference="warning_report:360702:2026-09")) is None
    (task,) = [t for t in _ready("wr_submit") if t.case_id == report.id]
    assert task.due_at == end_of_day(date(2026, 9, 25))


def test_the_comparison_is_set_based_and_names_the_running_procedure(app, clock):
    monitored = register_household(household_data("沙河村", "比对甲", 2), "shahe_cun", clock)
    applying = register_household(household_data("沙河村", "比对乙", 2), "shahe_cun", clock)
    open_identification(applying.id, "cadre_screening", date(2026, 9, 19), "shahe_cun", clock)
    with transaction():
        db.session.get(type(monitored), monitored.id).status = "monitored"
    batch = _push(clock, ("比对甲", monitored.head.id_number), ("比对乙", applying.head.id_number),
                  ("比对丙", _id(2)))
    warnings = list(db.session.scalars(select(DepartmentWarning).filter_by(batch_id=batch.id)
                                       .order_by(DepartmentWarning.row_number)))
    statements = []
    from sqlalchemy import event

    def count(*_):
        statements.append(1)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        found = compare_all(warnings)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 3  # members with households, their running cases: not one per warning
    texts = [found[w.id].text for w in warnings]
    assert texts[0].startswith("已是监测对象") and found[warnings[0].id].covered
    assert texts[1].startswith("正在办理识别纳入（SB-2026-") and found[warnings[1].id].covered
    assert texts[2] == "未在系统中登记" and not found[warnings[2].id].covered


def test_a_warning_noted_on_a_household_not_monitored_is_not_said_to_be_monitored(app, clock):
    """比对 notes a warning on a household monitored, being identified or in the green channel, and says which: the
    department's batch and the county's report count only the first as 已在监测 (000 六（二）4)."""
    monitored = register_household(household_data("沙河村", "备注甲", 2), "shahe_cun", clock)
    applying = register_household(household_data("沙河村", "备注乙", 2), "shahe_cun", clock)
    green = register_household(household_data("沙河村", "备注丙", 2), "shahe_cun", clock)
    identification = open_identification(applying.id, "cadre_screening", date(2026, 9, 19), "shahe_cun", clock)
    with transaction():
        db.session.get(type(monitored), monitored.id).status = "monitored"
        db.session.get(type(green), green.id).status = "green_channel"
    batch = _push(clock, ("备注甲", monitored.head.id_number), ("备注乙", applying.head.id_number),
                  ("备注丙", green.head.id_number))
    (compare,) = _ready("wb_compare")
    complete_task(compare.id, {"compared_on": "2026-09-20"}, "zhanggong_xian", clock)
    db.session.expire_all()
    warnings = list(db.session.scalars(select(DepartmentWarning).filter_by(batch_id=batch.id)
                                       .order_by(DepartmentWarning.row_number)))
    assert [w.status for w in warnings] == ["already_monitored", "noted_in_identification", "noted_in_green_channel"]
    rows = {r.warning.person_name: r for r in ledger(_place("360702"), clock.now())}
    assert [rows[n].status_name for n in ("备注甲", "备注乙", "备注丙")] == [
        "已在监测，已备注", "正在办理识别纳入，已记入该案", "绿色通道中，已记入该案"]
    assert rows["备注乙"].outcome == f"正在办理识别纳入（{identification.number}）：预警已记入案件 {identification.number}"
    assert rows["备注丙"].outcome == "正在办理（绿色通道）：预警已记入该户"


def test_a_policy_editor_changes_the_township_limit_for_one_county_from_a_date(app, clock):
    """Saved in the modeler as a diagram of its own (the province's binding takes the newest version of its own
    diagram), deployed, and bound to 章贡区 from tomorrow: today's dispatch keeps 20 working days."""
    text = (project_dir("processes") / "warning_verification.bpmn").read_text(encoding="utf-8")
    assert text.count('working_days_from(warning["dispatched_on"], 20)') == 2
    changed = (text.replace('working_days_from(warning["dispatched_on"], 20)',
                            'working_days_from(warning["dispatched_on"], 15)').replace("20 个工作日", "15 个工作日")
               .replace('processRef="warning_verification"', 'processRef="warning_verification_zhanggong"')
               .replace('<bpmn:process id="warning_verification"', '<bpmn:process id="warning_verification_zhanggong"'))
    with transaction():
        (version,) = deploy([DiagramSource("warning_verification_zhanggong.bpmn", changed.encode())],
                            "jiangxi_zhengce", clock.now())
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    bind_process(editor, "warning_verification", f"warning_verification_zhanggong@{version.version}", "360702",
                 date(2026, 9, 21), clock, source="区级通知（示例）")
    _push(clock, ("限时甲", _id(3)))
    (compare,) = _ready("wb_compare")
    complete_task(compare.id, {"compared_on": "2026-09-20"}, "zhanggong_xian", clock)
    (before,) = _ready("wv_verify")
    assert before.due_at == end_of_day(date(2026, 10, 23))  # 20 working days: the binding starts tomorrow
    clock.set(datetime(2026, 9, 21, 2, 0, tzinfo=UTC))
    _push(clock, ("限时乙", _id(4)), period="2026-Q3")
    (compare,) = _ready("wb_compare")
    complete_task(compare.id, {"compared_on": "2026-09-21"}, "zhanggong_xian", clock)
    after = [t for t in _ready("wv_verify") if t.id != before.id]
    assert [t.due_at for t in after] == [end_of_day(date(2026, 10, 19))]  # 15 working days over National Day
    assert db.session.get(Case, after[0].case_id).process_version_id == version.id


def test_running_warnings_of_the_status_machine_move_to_the_procedures(app, clock):
    """Rows as the old release left them: one at the county since 09-18, one dispatched on 09-16; no cases."""
    with transaction():
        county, village = _place("360702"), _place("360702101201")
        batch = WarningBatch(department="medical", period="2026-Q3", jurisdiction=county, source="csv", rows_count=2,
                             submitted_at=datetime(2026, 9, 18, 1, tzinfo=UTC), submitted_by="zhanggong_yibao")
        db.session.add(batch)
        for row, (status, started) in enumerate((("at_county", "2026-09-18T09:00:00+08:00"),
                                                 ("dispatched", "2026-09-16T09:00:00+08:00")), start=2):
            db.session.add(DepartmentWarning(
                batch=batch, row_number=row, department="medical", indicator="out_of_pocket", amount=30000,
                person_name=f"迁移{row}", id_number=_id(10 + row), village_id=village.id,
                jurisdiction_path=village.path, status=status,
                dispatched_at=datetime.fromisoformat(started) if status == "dispatched" else None,
                detail={"department_name": "医保部门", "indicator_name": "年度累计自付医疗费用",
                        "steps": [{"step": "county_dispatch", "started_at": started}]}))
    with transaction():
        assert move_running_warnings(clock) == 2
        assert move_running_warnings(clock) == 0  # once
    waiting, dispatched = db.session.scalars(select(DepartmentWarning).order_by(DepartmentWarning.row_number)).all()
    assert ledger_row(waiting, clock.now()).open_due == end_of_day(date(2026, 9, 24))  # 5 working days from 09-18
    # (Sunday 09-20 is a working day in lieu)
    assert ledger_row(dispatched, clock.now()).step_name == "入户核查"
    assert ledger_row(dispatched, clock.now()).open_due == end_of_day(date(2026, 10, 20))  # 20 from 09-16
    assert waiting.detail["steps"] and waiting.status == "at_county"  # the old record kept
    assert db.session.scalar(select(func.count()).select_from(Case).filter_by(opened_by="migration")) == 2


@pytest.mark.parametrize("user", ["longkou_minzheng"])
def test_a_longkou_batch_goes_straight_to_the_county(app, clock, user):
    holder = register_household(household_data("诸由观村", "龙口甲", 2), "zhuyouguan_cun", clock)
    rows = [{"name": "龙口甲", "id_number": holder.head.id_number, "indicator": "new_dibao", "date": "2026-09-10"}]
    batch = import_batch("civil_affairs", "2026-09", read_json(rows), "api", user, clock)
    case = db.session.scalar(select(Case).filter_by(reference=f"warning_batch:{batch.id}:370681"))
    assert case.process_version.process_key == "warning_batch_longkou"
    (compare,) = [t for t in _ready("wb_compare") if t.case_id == case.id]
    assert compare.jurisdiction.code == "370681" and _ready("wb_split") == []


def test_the_ledger_reads_the_same_statements_however_many_batches(app, clock):
    """The batches of the ledger's warnings (when each was received) are read in one statement, not one per
    batch."""
    _push(clock, ("台账甲", _id(21)), period="2026-Q1")
    county, now = _place("360702"), clock.now()
    db.session.expire_all()
    few = statements_of(lambda: ledger(county, now))
    _push(clock, ("台账乙", _id(22)), ("台账丙", _id(23)), period="2026-Q2")
    _push(clock, ("台账丁", _id(24)), period="2026-Q3")
    db.session.expire_all()
    rows = []
    many = statements_of(lambda: rows.extend(ledger(county, now)))
    assert many == few and len(rows) == 4
    batches = {b.id: b.submitted_at for b in db.session.scalars(select(WarningBatch))}
    assert len(batches) == 3 and all(r.received_at == batches[r.warning.batch_id] for r in rows)


COUNTY_DECISION_STEP = "县级审定"  # the step's name in identification.bpmn (章贡区 2021: 区级审定)


def _included(clock, head: str) -> tuple[DepartmentWarning, Case]:
    """A warning about a registered household, compared, dispatched and found to meet the criteria: the warning and
    the identification it started."""
    warning = _verified(clock, head, "meets", "入户核实属实")
    assert warning.status == "included"
    return warning, db.session.get(Case, warning.case_id)


def _verified(clock, head: str, outcome: str, reason: str) -> DepartmentWarning:
    """A warning about a registered household, compared, dispatched on 2026-09-20 and verified with ``outcome``."""
    household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    _push(clock, (head, household.head.id_number))
    (compare,) = _ready("wb_compare")
    complete_task(compare.id, {"compared_on": "2026-09-20"}, "zhanggong_xian", clock)
    (verify,) = _ready("wv_verify")
    complete_task(verify.id, {"verified_on": "2026-09-20", "outcome": outcome, "reason": reason}, "shahe_zhen", clock)
    return db.session.scalar(select(DepartmentWarning).filter_by(household_id=household.id))


def _decided(clock, warning: DepartmentWarning, case: Case) -> HumanTask:
    """Drive the identification up to its county decision and approve it (whatever the decision's form is called):
    the decision's task."""
    drive_case(case.id, clock, until="乡镇审核（入户抽查）")
    assert ledger_row(warning, clock.now()).step_name == "识别办理中"  # undecided yet
    decision = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    assert decision.name == COUNTY_DECISION_STEP
    complete_task(decision.id, sample_form_data("county_approval.json", to_local_date(clock.now())),
                  "zhanggong_xian", clock)
    db.session.expire_all()
    decision = db.session.get(HumanTask, decision.id)
    assert decision.state == "COMPLETED" and case.status == "running" and case.outcome is None
    return decision


def test_the_ledger_dates_the_decision_by_the_county_approval_of_the_shipped_diagram(app, clock):
    warning, case = _included(clock, "审定甲")
    decision = _decided(clock, warning, case)
    assert (decision.form, decision.ledger_step) == ("county_approval.json", "county_decision")
    row = ledger_row(warning, clock.now())
    assert row.decided_at == decision.completed_at and row.step_name != "识别办理中"
    assert row.outcome == f"{case.number} 识别办理中"  # the outcome is recorded when the identification ends


@pytest.fixture
def renamed_form(tmp_path, monkeypatch):
    """A form library where the county's decision form is called otherwise (the same fields)."""
    forms = tmp_path / "forms"
    shutil.copytree(project_dir("forms"), forms)
    (forms / "county_approval.json").rename(forms / "county_resolution.json")
    monkeypatch.setenv("FANGPIN_FORMS_DIR", str(forms))
    load_form.cache_clear()
    yield "county_resolution.json"
    load_form.cache_clear()


def test_a_decision_step_with_a_differently_named_form_is_found_by_its_ledger_step(app, clock, renamed_form):
    """What the ledger reads is what the diagram says the step is (ledgerStep county_decision), not its form."""
    content = (project_dir("processes") / "identification.bpmn").read_bytes()
    assert content.count(b'value="county_approval.json"') == 1
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    assert deploy_diagram(editor, diagram_source("identification.bpmn", content.replace(
        b'value="county_approval.json"', f'value="{renamed_form}"'.encode())), clock)
    warning, case = _included(clock, "审定乙")
    decision = _decided(clock, warning, case)
    assert (decision.form, decision.ledger_step) == (renamed_form, "county_decision")
    assert ledger_row(warning, clock.now()).decided_at == decision.completed_at


WARNING_LIMIT = "自交办之日起至县级审定（20 个工作日）"  # the label warning_verification.bpmn gives its limit
WARNING_DUE = end_of_day(date(2026, 10, 23))  # 20 working days from the dispatch on 2026-09-20 (a working Sunday)


def _verification(warning: DepartmentWarning) -> Case:
    """The warning's own case (入户核查), which holds its limit from the dispatch."""
    db.session.expire_all()
    return db.session.scalar(select(Case).filter_by(reference=f"warning_verification:{warning.id}"))


def test_the_warning_limit_runs_past_the_start_of_the_identification_to_the_county_decision(app, clock):
    """000 六（二）3 自交办之日起至县级乡村振兴部门审定: the verification case waits for the county's decision on the
    identification it opened, and is listed overdue once its 20 working days are over; the county's approval meets
    it while the identification goes on (plan, announcement)."""
    warning, identification = _included(clock, "时限甲")
    verification = _verification(warning)
    assert (verification.status, verification.deadline_met_at) == ("running", None)
    assert (verification.deadline_label, verification.due_at) == (WARNING_LIMIT, WARNING_DUE)
    drive_case(identification.id, clock, until="乡镇审核（入户抽查）")
    township = _place("360702101")
    assert overdue_cases(township, WARNING_DUE, procedure="warning_verification") == []
    clock.set(datetime(2026, 10, 24, 1, 0, tzinfo=UTC))  # 09:00 on the day after
    late = overdue_cases(township, clock.now(), procedure="warning_verification")
    assert [(i.case_id, i.step, i.days_overdue) for i in late] == [(verification.id, WARNING_LIMIT, 1)]
    assert mark_overdue(clock.now()) >= 1 and _verification(warning).overdue_since == WARNING_DUE
    decision = db.session.scalar(select(HumanTask).filter_by(case_id=identification.id, state="READY"))
    assert decision.name == COUNTY_DECISION_STEP
    live_instances().clear()  # both cases restored from their stored states, as after a restart
    complete_task(decision.id, sample_form_data("county_approval.json", to_local_date(clock.now())),
                  "zhanggong_xian", clock)
    verification = _verification(warning)
    assert (verification.status, verification.deadline_met_at) == ("completed", clock.now())
    assert overdue_cases(township, clock.now(), procedure="warning_verification") == []
    assert db.session.get(Case, identification.id).status == "running"
    (event,) = db.session.scalars(select(AuditEvent).filter_by(case_id=verification.id, action="opened_case_decided"))
    assert event.detail == {"by": identification.number, "outcome": None}  # its outcome comes when it ends
    entries = [(e.title, e.text) for e in timeline(audit.for_case(verification.id))]
    assert ("审定", f"{identification.number} 已审定") in entries


def test_the_ledger_lists_a_warning_overdue_while_its_identification_waits_for_the_county(app, clock):
    """The county's ledger (核查办理明细台账) shows an included warning's own limit while its identification is
    undecided, and lists it overdue after the 20 working days: in the same statements however many."""
    first, _ = _included(clock, "台账逾期甲")
    second, _ = _included(clock, "台账逾期乙")
    county = _place("360702")
    assert [ledger_row(w, clock.now()).open_due for w in (first, second)] == [WARNING_DUE, WARNING_DUE]
    db.session.expire_all()
    none_late = statements_of(lambda: overdue_warnings(county, WARNING_DUE))
    assert overdue_warnings(county, WARNING_DUE) == []
    late = datetime(2026, 10, 24, 1, 0, tzinfo=UTC)
    db.session.expire_all()
    rows = []
    assert statements_of(lambda: rows.extend(overdue_warnings(county, late))) == none_late
    assert [(r.warning.id, r.step_name, r.days_overdue) for r in rows] == [(first.id, "识别办理中", 1),
                                                                          (second.id, "识别办理中", 1)]
    assert overdue_warnings(_place("360702102"), late) == []  # 水西镇: not its warnings


@pytest.mark.parametrize(("form", "refusal"), [
    ("county_approval.json", "经县级审定不予纳入"),  # the county refuses (县级审定不通过)
    ("democratic_appraisal.json", "民主评议未通过"),  # refused before it reaches the county: nothing is left to decide
])
def test_a_refused_identification_meets_the_warning_limit_when_it_ends(app, clock, form, refusal):
    warning, identification = _included(clock, "时限乙")
    drive_case(identification.id, clock, data={form: {"decision": "reject", "reason": refusal}})
    db.session.expire_all()
    identification = db.session.get(Case, identification.id)
    assert (identification.status, identification.outcome) == ("completed", "rejected")
    verification = _verification(warning)
    assert (verification.status, verification.deadline_met_at) == ("completed", identification.closed_at)
    (event,) = db.session.scalars(select(AuditEvent).filter_by(case_id=verification.id, action="opened_case_decided"))
    assert event.detail == {"by": identification.number, "outcome": "rejected"}
    entries = [(e.title, e.text) for e in timeline(audit.for_case(verification.id))]
    assert ("审定", f"{identification.number} 已办结（不予纳入）") in entries


def test_a_withdrawn_identification_meets_the_warning_limit(app, clock):
    warning, identification = _included(clock, "时限丙")
    clock.set(datetime(2026, 9, 22, 1, 0, tzinfo=UTC))
    with transaction():
        withdraw_identification(db.session.get(Case, identification.id), "application", "农户不再申请", "ordinary",
                                "shahe_cun", clock)
    verification = _verification(warning)
    assert (verification.status, verification.deadline_met_at) == ("completed", clock.now())


def test_a_household_not_meeting_the_criteria_meets_the_warning_limit_at_the_township(app, clock):
    warning = _verified(clock, "时限丁", "not_meets", "收入稳定")
    verification = _verification(warning)
    assert (warning.status, verification.status, verification.deadline_met_at) == ("not_included", "completed",
                                                                                   clock.now())


@pytest.mark.parametrize("amount", ["1e308", "9" * 30, "1000000000000"])
def test_an_amount_larger_than_the_ledger_holds_is_refused_naming_its_row(app, clock, amount):
    """(Each was a 500: a Decimal of 1e28 or more cannot be rounded to cents.)"""
    row = {"name": "巨额户", "id_number": _id(901), "indicator": "out_of_pocket", "amount": amount,
           "village": "360702101201", "date": "2026-09-10"}
    with pytest.raises(FormInvalid) as refused:
        import_batch("medical", "2026-Q3", read_json([row]), "api", "zhanggong_yibao", clock)
    assert [(f, r.split("：")[0]) for f, r in refused.value.errors] == [("第 1 行 amount", "金额过大")]
    assert db.session.scalar(select(func.count()).select_from(WarningBatch)) == 0
