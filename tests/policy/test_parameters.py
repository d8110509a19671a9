"""Policy parameters by jurisdiction and date."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import PolicyMissing
from engine.core.models import Jurisdiction
from engine.policy.parameters import monitoring_line, resolve


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
