"""The engine's refusals and guarantees: forms, deployment, versions, permissions, timers, audit, policy."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.bpmn.deployment import latest_version
from engine.bpmn.source import DiagramSource, read_directory
from engine.cases.lifecycle import complete_task, open_identification, wake_due
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import DiagramInvalid, FormInvalid, PermissionDenied, PolicyMissing
from engine.core.models import AuditEvent, Case, DiagramFile, HumanTask, Jurisdiction, ProcessVersion
from engine.core.transaction import transaction
from engine.households.register import register_household
from engine.library.rules import deploy
from engine.policy.parameters import monitoring_line, resolve
from tests.bdd.officials import household_data

PROCESSES = project_dir("processes")


def _open_case(clock, head: str = "张三") -> Case:
    household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    return open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock)


def _ready(case: Case) -> HumanTask:
    return db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_wrong_form_field_is_named_and_nothing_is_saved(app, clock):
    case = _open_case(clock)
    task, version, events = _ready(case), case.lock_version, _count(AuditEvent)
    with pytest.raises(FormInvalid) as refused:
        complete_task(task.id, {"applied_on": "20.9.2026", "all_members_signed": False}, "shahe_cun", clock)
    fields = dict(refused.value.errors)
    assert set(fields) == {"applied_on", "all_members_signed", "risk_description"}
    assert "YYYY-MM-DD" in fields["applied_on"] and "必须确认" in fields["all_members_signed"]
    db.session.expire_all()
    assert (task.state, case.lock_version, _count(AuditEvent)) == ("READY", version, events)


def test_reject_decision_needs_a_reason(app, clock):
    from engine.bpmn.forms import validate_form

    with pytest.raises(FormInvalid) as refused:
        validate_form("review_decision.json", {"reviewed_on": "2026-09-20", "decision": "reject"})
    assert [f for f, _ in refused.value.errors] == ["reason"]
    validate_form("review_decision.json", {"reviewed_on": "2026-09-20", "decision": "approve"})


def test_only_the_tasks_role_in_its_jurisdiction_may_complete_it(app, clock):
    case = _open_case(clock)
    task = _ready(case)
    data = {"applied_on": "2026-09-20", "all_members_signed": True, "risk_description": "因病"}
    with pytest.raises(PermissionDenied, match="角色"):
        complete_task(task.id, data, "shahe_zhen", clock)
    with pytest.raises(PermissionDenied, match="辖区"):
        complete_task(task.id, data, "huaping_cun", clock)
    complete_task(task.id, data, "shahe_cun", clock)


def _broken(name: str, old: str, new: str) -> DiagramSource:
    text = (PROCESSES / "identification.bpmn").read_text(encoding="utf-8")
    assert old in text
    return DiagramSource(name, text.replace(old, new).encode())


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('<bpmn:lane id="Lane_identification_1" name="乡镇">', '<bpmn:lane id="Lane_identification_1" name="居委会">',
     "lane 'Lane_identification_1'（居委会）"),
    ('value="review_decision.json"', 'value="no_such_form.json"', "userTask 'township_review'"),
    ("record_outcome(", "__import__('os').system('id') or record_outcome(", "scriptTask 'rejected'"),
    ("bpmn:startEvent", "bpmn:intermediateThrowEvent", "No start event found"),
    ("<bpmn:laneSet", "<bpmn:bogus/><bpmn:laneSet", "bogus"),
    ("</bpmn:definitions>", "", "XML 格式错误"),
])
def test_a_broken_diagram_is_refused_naming_the_element_and_the_running_version_stays(app, clock, old, new,
                                                                                       expected):
    before, count = latest_version("identification"), _count(ProcessVersion)
    library = [s for s in read_directory(PROCESSES) if s.file_name != "identification.bpmn"]
    with pytest.raises(DiagramInvalid) as refused, transaction():
        deploy([_broken("identification.bpmn", old, new), *library], "editor", clock.now())
    assert expected in str(refused.value)
    assert latest_version("identification").id == before.id
    assert _count(ProcessVersion) == count


def test_a_changed_diagram_becomes_a_new_version_and_running_cases_keep_theirs(app, clock):
    running = _open_case(clock, "李四")
    changed = _broken("identification.bpmn", "张贴村级公示", "张贴村级公示（新）")
    library = [s for s in read_directory(PROCESSES) if s.file_name != "identification.bpmn"]
    with transaction():
        versions = deploy([changed, *library], "editor", clock.now())
    assert [(v.process_key, v.version) for v in versions] == [("identification", 2)]
    stored = db.session.get(DiagramFile, versions[0].files[0]["sha256"])
    assert stored.content == changed.content  # the uploaded bytes, unchanged
    with transaction():
        assert deploy([changed, *library], "editor", clock.now()) == []  # same bytes: nothing new
    new_case = _open_case(clock, "王五")
    assert (running.process_version.version, new_case.process_version.version) == (1, 2)


def test_the_audit_log_is_append_only(app, clock):
    _open_case(clock)
    event = db.session.scalar(select(AuditEvent))
    event.actor = "someone else"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditEvent)))
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


def test_a_timer_fires_once_when_due(app, clock):
    from tests.bdd.steps import _run  # the default-data driver of the features

    world = {"done": [], "case_id": _open_case(clock).id}
    _run(world, clock, until="张贴村级公示")
    case = db.session.get(Case, world["case_id"])
    due = case.next_wakeup_at
    assert due == datetime(2026, 9, 25, 16, 0, tzinfo=UTC)  # 5 days from 09-20, 24:00 CST
    clock.set(due - timedelta(seconds=1))
    assert wake_due(clock.now(), clock) == 0
    clock.set(due)
    assert wake_due(clock.now(), clock) == 1
    assert wake_due(clock.now(), clock) == 0
    fired = db.session.scalars(select(AuditEvent).filter_by(case_id=case.id, action="timers_fired")).all()
    assert len(fired) == 1 and _ready(case).name == "乡镇审核（入户抽查）"


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def test_policy_is_inherited_downwards_and_changes_by_date(app):
    village = _place("360702101201")
    assert resolve("identification.village_publicity_days", village, date(2022, 5, 1)) == 7  # 章贡区 2021
    assert resolve("identification.village_publicity_days", village, date(2024, 5, 1)) == 5  # 江西省 2023
    assert resolve("identification.process", village, date(2023, 4, 30)) == "identification_zhanggong_2021"
    assert resolve("identification.process", _place("370681104201"), date(2026, 1, 1)) == "identification_longkou"
    with pytest.raises(PolicyMissing, match="identification.process"):
        resolve("identification.process", village, date(2020, 1, 1))


def test_monitoring_line_per_province_and_year(app):
    assert monitoring_line(_place("360702101201"), 2023) == 7800
    assert monitoring_line(_place("210321100201"), 2021) == 6600
    with pytest.raises(PolicyMissing, match="江西省 没有 2019 年的监测范围"):
        monitoring_line(_place("360702101201"), 2019)


def test_demo_parameters_are_labelled_as_demo():
    import json

    demo = json.loads(Path(project_dir("policy") / "demo_parameters.json").read_text(encoding="utf-8"))
    assert all("演示数据" in line["source"] for line in demo["monitoring_lines"])


def test_a_due_date_expression_may_give_no_limit_a_date_or_a_moment():
    from datetime import date as day
    from datetime import datetime as moment

    from engine.cases.tasks import due_moment

    assert due_moment(None) is None  # the jurisdiction has no such limit: the task has no due date
    assert due_moment("2026-10-06T00:00:00+08:00").isoformat() == "2026-10-06T00:00:00+08:00"
    assert due_moment(day(2026, 10, 5)).isoformat() == "2026-10-06T00:00:00+08:00"  # 24:00 of that day
    assert due_moment("2026-10-05").isoformat() == "2026-10-06T00:00:00+08:00"
    aware = moment.fromisoformat("2026-10-05T12:00:00+08:00")
    assert due_moment(aware) is aware
    with pytest.raises(TypeError, match="不是日期"):
        due_moment(5)
