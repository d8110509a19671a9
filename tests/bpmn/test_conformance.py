"""Diagrams exported by common modelers (../shared/bpmn-conformance): each one deploys, or is refused
with a message naming the element and the reason; none crashes; nothing refused is stored; what is
stored is byte-identical to what was uploaded."""
from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.bpmn.source import DiagramSource
from engine.core.clock import FixedClock
from engine.core.config import REPO_ROOT
from engine.core.db import db
from engine.core.errors import DiagramInvalid
from engine.core.models import DiagramFile, ProcessVersion
from engine.core.transaction import transaction
from engine.library.rules import deploy
from tests.conftest import make_app, prepare_database


def _conformance_dir() -> Path:
    """``shared/bpmn-conformance`` beside the checkout (CI puts ../shared there); FANGPIN_SHARED_DIR overrides."""
    override = os.environ.get("FANGPIN_SHARED_DIR")
    candidates = [Path(override)] if override else [p / "shared" for p in REPO_ROOT.parents]
    return next((c / "bpmn-conformance" for c in candidates if (c / "bpmn-conformance").is_dir()),
                REPO_ROOT.parent / "shared" / "bpmn-conformance")


CONFORMANCE = _conformance_dir()
FILES = sorted(CONFORMANCE.glob("*.bpmn"))
ELEMENT = re.compile(r"(\w+ '[^']+'|元素 '[^']+'|第 \d+ 行|XML 格式错误)")


def test_the_conformance_set_is_there():
    assert len(FILES) >= 20, f"expected the modeler exports in {CONFORMANCE}"


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    """One database for the whole set (setting one up per file would dominate the run time)."""
    clock = FixedClock(datetime(2026, 9, 20, 1, tzinfo=UTC))
    app = make_app(tmp_path_factory.mktemp("conformance") / "c.db", clock)
    with app.app_context():
        prepare_database(clock)
        yield app, clock
        db.session.remove()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_export_deploys_or_is_refused_naming_the_element(shared_app, path: Path):
    _, clock = shared_app
    versions_before = db.session.scalar(select(func.count()).select_from(ProcessVersion))
    content = path.read_bytes()
    try:
        with transaction():
            versions = deploy([DiagramSource(path.name, content)], "editor", clock.now())
    except DiagramInvalid as refused:
        assert refused.problems and all(ELEMENT.search(p) for p in refused.problems), refused.problems
        assert db.session.scalar(select(func.count()).select_from(ProcessVersion)) == versions_before
        assert db.session.get(DiagramFile, DiagramSource(path.name, content).sha256) is None
        return
    assert versions, "deployed nothing without saying why"
    stored = db.session.get(DiagramFile, versions[0].files[0]["sha256"])
    assert stored.content == content


@pytest.mark.parametrize(("name", "expected"), [
    ("A.3.0-export.bpmn", "subProcess 'Activity_1j4b29j'（Collapsed Sub-Process）：子流程必须恰好有一个开始事件，现在有 0 个"),
    ("C.1.1-export.bpmn", ("sequenceFlow 'Flow_029m3t7'（no）：从排他网关 'Gateway_19a72vw'（Review successful?） 流出，"
                          "既没有条件，也不是网关的默认流")),
    ("C.5.0-export.bpmn", ("userTask 'Activity_1nw3l11'（Find documents in customer file）：数据输出关联（dataOutputAssociation）"
                          "指向数据存储 dataStoreReference 'DataStoreReference_06oj71q'")),
], ids=["subprocess-without-start", "flow-without-condition", "data-store-association"])
def test_spiffworkflows_english_refusals_are_said_in_chinese(shared_app, name: str, expected: str):
    """They reached the editor as "Exactly one start event is required in a SubWorkflow Task; found 0",
    "Non-default exclusive outgoing sequence flow without condition", "Cannot resolve dataOutputAssociation
    <Element …targetRef at 0x…>"."""
    _, clock = shared_app
    with pytest.raises(DiagramInvalid) as refused, transaction():
        deploy([DiagramSource(name, (CONFORMANCE / name).read_bytes())], "editor", clock.now())
    problems = "；".join(refused.value.problems)
    assert expected in problems
    for english in ("SubWorkflow", "Non-default", "Cannot resolve", "<Element"):
        assert english not in problems
