"""What a step is comes from the diagram, never from its id (环节标记): the user task's ``publicStage`` gives the
applicant's progress stage of an identification step (申报进度) and ``ledgerStep`` what a step is for in the
warning and campaign ledgers. A step whose id a policy editor (or a county's own diagram) changed keeps its
stage; a value the engine does not know is refused at validation, naming the element and the values allowed."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.bpmn.source import DiagramSource
from engine.campaigns.campaign import county_progress, progress
from engine.cases.lifecycle import complete_task
from engine.cases.self_application import Application, cancel_application, progress_of, submit_application
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import DiagramInvalid
from engine.core.models import Case, HumanTask, Jurisdiction, User
from engine.demo import drive_case, sample_form_data
from engine.households.register import register_household
from engine.library.deploying import check_diagram, deploy_diagram, diagram_source
from tests.bdd.officials import household_data
from tests.campaigns.test_county_progress import _campaign, _households
from tests.diagram_variants import renamed_step, step_id_changed, with_property
from timers.calendar import to_local_date

IDENTIFICATION = "identification.bpmn"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


@pytest.fixture
def editor(app) -> User:
    return db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))


def _shipped(name: str = IDENTIFICATION) -> bytes:
    return (project_dir("processes") / name).read_bytes()


def _deploy(editor: User, clock, content: bytes, name: str = IDENTIFICATION) -> None:
    assert deploy_diagram(editor, diagram_source(name, content), clock)


def _apply(clock, head: str):
    household = register_household(household_data("沙河村", head, 2, contact_phone="13900000009"), "shahe_cun", clock)
    id_number = household.members[0].id_number
    record = submit_application(Application(household.village.code, head, id_number, "13900000009", "户主住院",
                                            [], True), clock)
    return record, id_number


def _ready(case_id: int) -> HumanTask:
    return db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))


def _complete(record, form: str, official: str, clock) -> None:
    complete_task(_ready(record.case_id).id, sample_form_data(form, to_local_date(clock.now())), official, clock)


def test_steps_whose_ids_changed_keep_their_public_stage(app, clock, editor):
    content = step_id_changed(_shipped(), "apply", "receive_application", "受理农户申请")
    _deploy(editor, clock, step_id_changed(content, "verify", "home_check", "入户调查核实"))
    record, _ = _apply(clock, "改号户")
    first = _ready(record.case_id)
    assert (first.bpmn_id, first.public_stage) == ("receive_application", "application")
    progress = progress_of(record)
    assert progress.step == "受理中" and progress.cancellable
    _complete(record, "identification_apply.json", "shahe_cun", clock)
    second = _ready(record.case_id)
    assert (second.bpmn_id, second.public_stage) == ("home_check", "verification")
    progress = progress_of(record)
    assert progress.step == "入户核实" and not progress.cancellable


def test_the_applicant_cancels_while_the_renamed_acceptance_step_is_to_do(app, clock, editor):
    _deploy(editor, clock, step_id_changed(_shipped(), "apply", "receive_application"))
    record, id_number = _apply(clock, "取消户")
    assert cancel_application(record.number, id_number, "家里情况好转", clock).step == "已取消"
    assert record.case.outcome == "cancelled"


def test_a_step_without_the_property_is_not_shown_as_a_stage(app, clock, editor):
    """The stage is the diagram's word: a step that does not say it is not counted (the page says 办理中)."""
    root_less = _shipped().replace(b'<spiffworkflow:property name="publicStage" value="application" />', b"")
    _deploy(editor, clock, root_less)
    record, _ = _apply(clock, "无阶段户")
    assert _ready(record.case_id).public_stage is None
    progress = progress_of(record)
    assert progress.step == "办理中" and not progress.cancellable


def test_a_case_on_a_version_deployed_before_the_properties_takes_those_of_the_newest(app, clock, editor):
    """A version without any publicStage (deployed before the property existed) keeps its stages from the newest
    version's step of the same id, until the case is moved to a newer version."""
    old = _shipped()
    for stage in (b"application", b"verification", b"appraisal", b"publicity", b"review", b"included"):
        old = old.replace(b'<spiffworkflow:property name="publicStage" value="' + stage + b'" />', b"")
    assert b"publicStage" not in old
    _deploy(editor, clock, old)
    record, _ = _apply(clock, "旧版户")
    _deploy(editor, clock, renamed_step(_shipped(), "verify", "入户核实（新版）"))
    assert _ready(record.case_id).public_stage is None  # projected on the old version, before the newest existed
    _complete(record, "identification_apply.json", "shahe_cun", clock)
    row = _ready(record.case_id)
    assert (row.bpmn_id, row.name, row.public_stage) == ("verify", "入户核实", "verification")
    assert progress_of(record).step == "入户核实"


def _refusal(name: str, content: bytes) -> str:
    with pytest.raises(DiagramInvalid) as refused:
        check_diagram(DiagramSource(name, content))
    return "；".join(refused.value.problems)


@pytest.mark.usefixtures("app")
def test_an_unknown_public_stage_is_refused_naming_the_element_and_the_values():
    message = _refusal(IDENTIFICATION, with_property(_shipped(), "verify", "publicStage", "checking"))
    assert "userTask 'verify'（入户核实）" in message and "publicStage" in message and "“checking”" in message
    assert "verification（入户核实）" in message and "included（已审定纳入）" in message


@pytest.mark.usefixtures("app")
def test_an_unknown_ledger_step_is_refused_naming_the_element_and_the_values():
    message = _refusal("annual_collection.bpmn", with_property(_shipped("annual_collection.bpmn"), "cl_visit",
                                                               "ledgerStep", "visit"))
    assert "userTask 'cl_visit'（入户采集和排查）" in message and "ledgerStep" in message and "“visit”" in message
    assert "household_visit（入户采集和排查）" in message and "county_decision（县级审定，审定日期即识别日期）" in message


@pytest.mark.usefixtures("app")
def test_a_mark_on_another_element_than_a_user_task_is_refused():
    content = _shipped("warning_report.bpmn")
    script = next(line for line in content.decode().splitlines() if "<bpmn:scriptTask id=" in line)
    script_id = script.split('id="')[1].split('"')[0]
    message = _refusal("warning_report.bpmn", with_property(content, script_id, "ledgerStep", "monthly_report"))
    assert f"scriptTask '{script_id}'" in message and "只能设在人工任务（userTask）上" in message


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize("name", ["identification.bpmn", "identification_anshan.bpmn", "identification_longkou.bpmn",
                                  "identification_zhanggong_2021.bpmn", "publicity.bpmn", "warning_report.bpmn",
                                  "warning_push.bpmn", "annual_collection.bpmn"])
def test_the_shipped_diagrams_carry_known_marks(name):
    check_diagram(DiagramSource(name, _shipped(name)))
    assert b'name="publicStage"' in _shipped(name) or b'name="ledgerStep"' in _shipped(name)


def test_the_campaign_counts_follow_the_ledger_step_not_the_step_id(app, clock, editor):
    """A county's collection diagram that calls its steps otherwise is counted the same: to visit, to enter."""
    content = step_id_changed(_shipped("annual_collection.bpmn"), "cl_visit", "household_survey", "入户调查")
    _deploy(editor, clock, step_id_changed(content, "cl_entry", "enter_national_system"), "annual_collection.bpmn")
    _households(clock, "沙河村", 2, "改号采集户")
    campaign = _campaign(clock)
    county = db.session.scalar(select(Jurisdiction).filter_by(code="360702"))
    assert (county_progress(county, 2026, clock.now()).total.to_visit, progress(campaign, clock.now()).total.to_visit) \
        == (2, 2)
    first = db.session.scalar(select(HumanTask).filter_by(bpmn_id="household_survey", state="READY"))
    assert first.ledger_step == "household_visit"
    complete_task(first.id, sample_form_data("annual_collection.json", to_local_date(clock.now())), "shahe_cun", clock)
    tally = progress(campaign, clock.now()).total
    assert (tally.to_visit, tally.to_enter) == (1, 1) and len(progress(campaign, clock.now()).to_visit) == 1


def test_a_case_on_a_version_without_a_ledger_step_takes_the_newest_versions_mark(app, clock, editor):
    """A version deployed before the county's decision was marked (publicStage on its steps, no ledgerStep at all)
    takes that mark of the newest version's step of the same id, keeping its own stages: the warning ledger finds
    the decision of a case still running on it."""
    old = re.sub(rb'\s*<spiffworkflow:property name="ledgerStep" value="[a-z_]+" />', b"", _shipped())
    assert b"ledgerStep" not in old and b"publicStage" in old
    _deploy(editor, clock, old)
    record, _ = _apply(clock, "旧版审定户")
    version = record.case.process_version_id
    _deploy(editor, clock, renamed_step(_shipped(), "verify", "入户核实（新版）"))
    drive_case(record.case_id, clock, until="乡镇审核（入户抽查）")
    row = _ready(record.case_id)
    assert (row.bpmn_id, row.public_stage, row.ledger_step) == ("county_approval", "review", "county_decision")
    assert db.session.get(Case, record.case_id).process_version_id == version  # still on the old version
