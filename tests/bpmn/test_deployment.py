"""Deploying diagrams: a broken one is refused naming the element, a changed one becomes a new version."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from engine.bpmn.deployment import latest_version
from engine.bpmn.source import DiagramSource, read_directory
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import DiagramInvalid
from engine.core.models import DiagramFile, ProcessVersion
from engine.core.transaction import transaction
from engine.library.rules import deploy
from tests.factories import count_rows, open_case

PROCESSES = project_dir("processes")


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
    ("</bpmn:definitions>", "", "不是格式正确的 XML 文件：第 "),
])
def test_a_broken_diagram_is_refused_naming_the_element_and_the_running_version_stays(app, clock, old, new,
                                                                                       expected):
    before, count = latest_version("identification"), count_rows(ProcessVersion)
    library = [s for s in read_directory(PROCESSES) if s.file_name != "identification.bpmn"]
    with pytest.raises(DiagramInvalid) as refused, transaction():
        deploy([_broken("identification.bpmn", old, new), *library], "editor", clock.now())
    assert expected in str(refused.value)
    assert latest_version("identification").id == before.id
    assert count_rows(ProcessVersion) == count


def test_a_changed_diagram_becomes_a_new_version_and_running_cases_keep_theirs(app, clock):
    running = open_case(clock, "李四")
    changed = _broken("identification.bpmn", "张贴村级公示", "张贴村级公示（新）")
    library = [s for s in read_directory(PROCESSES) if s.file_name != "identification.bpmn"]
    with transaction():
        versions = deploy([changed, *library], "editor", clock.now())
    assert [(v.process_key, v.version) for v in versions] == [("identification", 2)]
    stored = db.session.get(DiagramFile, versions[0].files[0]["sha256"])
    assert stored.content == changed.content  # the uploaded bytes, unchanged
    with transaction():
        assert deploy([changed, *library], "editor", clock.now()) == []  # same bytes: nothing new
    new_case = open_case(clock, "王五")
    assert (running.process_version.version, new_case.process_version.version) == (1, 2)


def test_the_newest_version_is_read_once_per_transaction_and_a_deployment_or_a_rollback_is_seen(app, clock):
    """A case opened on the newest version and its first step's marks (engine.cases.tasks.step_marks) ask for it
    twice: one statement. A version deployed in the transaction is the newest at once; one rolled back is not."""
    statements: list[str] = []
    listener = (db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    first = latest_version("identification")
    event.listen(*listener)
    try:
        assert latest_version("identification") is first
        assert not [s for s in statements if "process_version" in s]
    finally:
        event.remove(*listener)
    library = [s for s in read_directory(PROCESSES) if s.file_name != "identification.bpmn"]
    with pytest.raises(RuntimeError), transaction():
        deploy([_broken("identification.bpmn", "张贴村级公示", "张贴村级公示（回滚）"), *library], "editor", clock.now())
        assert latest_version("identification").version == first.version + 1
        raise RuntimeError("taken back")
    assert latest_version("identification").id == first.id
    with transaction():
        (second,) = deploy([_broken("identification.bpmn", "张贴村级公示", "张贴村级公示（新）"), *library], "editor",
                           clock.now())
        assert latest_version("identification") is second
    assert latest_version("identification").id == second.id
