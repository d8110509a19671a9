"""Policy parameters by jurisdiction and date."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, select

from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import PolicyMissing
from engine.core.models import Jurisdiction, PolicyParameter
from engine.policy.parameters import monitoring_line, resolve, resolve_group
from engine.publicity.lists import issuing_authority


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


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def test_the_parameters_of_a_place_are_read_once_per_transaction_and_a_change_is_seen_at_once(app):
    """A task completion reads several keys of the same places (the income window's rule, the follow-up's binding,
    the county's issuing authority): one statement. A parameter written in the transaction — added, changed or
    deleted, flushed or not — is what the next read sees."""
    village, county = _place("360702101201"), _place("360702")
    on = date(2024, 5, 1)
    statements: list[str] = []
    listener = (db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    event.listen(*listener)
    try:
        assert resolve("identification.village_publicity_days", village, on) == 5
        assert resolve_group("identification", village, on)["village_publicity_days"] == 5
        resolve_group("publicity", county, on)  # the village's county: among the places already read
        assert len([s for s in statements if "policy_parameter" in s]) == 1

        row = PolicyParameter(jurisdiction=village, key="identification.village_publicity_days", value=9,
                              effective_from=date(2024, 1, 1), source="test")
        db.session.add(row)  # not flushed
        assert resolve("identification.village_publicity_days", village, on) == 9
        db.session.flush()
        row.value = 10
        assert resolve("identification.village_publicity_days", village, on) == 10
        db.session.flush()
        assert resolve("identification.village_publicity_days", village, on) == 10
        db.session.delete(row)
        assert resolve("identification.village_publicity_days", village, on) == 5
    finally:
        event.remove(*listener)
        db.session.rollback()
    assert resolve("identification.village_publicity_days", village, on) == 5


def test_the_county_issuing_authority_then_the_village_read_the_parameters_once(app):
    """A household's notice is signed by its county (read at the county) before the follow-up's binding is read at
    the village, in the same completion: the village's parameters come with the first read."""
    village = _place("360702101201")
    on = date(2026, 9, 20)
    statements: list[str] = []
    listener = (db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    event.listen(*listener)
    try:
        assert issuing_authority(village, on)
        assert "process" in resolve_group("followup", village, on)
        assert len([s for s in statements if "policy_parameter" in s]) == 1
    finally:
        event.remove(*listener)
        db.session.rollback()
