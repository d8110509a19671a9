"""Step definitions for features/calendar.feature (期限计算 in Chinese Gherkin)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from timers.calendar import (
    OVERRIDE_ENV_VAR,
    CalendarDataMissing,
    reset_default_calendar,
)
from timers.functions import explain

scenarios("calendar.feature")

# FICTITIOUS 2027 arrangement: only exercises the override mechanism, NOT the real 2027 notice.
FICTITIOUS_2027 = {
    "_comment": "虚构数据，仅供测试 / FICTITIOUS test data",
    "years": {
        "2027": {
            "source": "虚构测试数据（不是真实通知）",
            "holidays": {"2027-01-01": "元旦（虚构）"},
            "workdays": {},
        }
    },
}


@pytest.fixture
def calendar_ctx() -> dict[str, Any]:
    return {}


@pytest.fixture(autouse=True)
def _reset_calendar_after_scenario():
    reset_default_calendar()
    yield
    reset_default_calendar()


def _use_override(
    monkeypatch: pytest.MonkeyPatch, path: Path, data: dict[str, Any]
) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(path))
    reset_default_calendar()


@given("工作日历只有内置的节假日数据")
def calendar_with_package_data_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_override(monkeypatch, tmp_path / "empty_override.json", {"years": {}})


@when(parsers.parse("自 {start} 起计算 {n:d} 个工作日的期限"))
def calendar_compute_working_days(
    calendar_ctx: dict[str, Any], start: str, n: int
) -> None:
    calendar_ctx.pop("error", None)
    try:
        calendar_ctx["deadline"] = explain("working_days", start, n)
    except CalendarDataMissing as exc:
        calendar_ctx["error"] = exc


@when(parsers.parse("公示于 {start} 张贴，公示期 {n:d} 天"))
def calendar_compute_publicity(
    calendar_ctx: dict[str, Any], start: str, n: int
) -> None:
    calendar_ctx["deadline"] = explain("days", start, n)


@when("管理员在覆盖文件中加入 2027 年的安排（虚构测试数据）")
def calendar_admin_adds_2027(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _use_override(monkeypatch, tmp_path / "override_2027.json", FICTITIOUS_2027)


@then(parsers.parse("期限的最后一日是 {expected}"))
def calendar_last_day_is(calendar_ctx: dict[str, Any], expected: str) -> None:
    assert "error" not in calendar_ctx, calendar_ctx.get("error")
    assert calendar_ctx["deadline"].last_day == date.fromisoformat(expected)


@then(parsers.parse("期限截止于 {expected}"))
def calendar_due_at_is(calendar_ctx: dict[str, Any], expected: str) -> None:
    due_at = calendar_ctx["deadline"].due_at
    assert due_at == datetime.fromisoformat(expected)
    assert due_at.isoformat() == expected


@then(parsers.parse('期限说明中提到 "{text}"'))
def calendar_explanation_mentions(calendar_ctx: dict[str, Any], text: str) -> None:
    assert text in calendar_ctx["deadline"].explanation


@then(parsers.parse("在 {moment} 公示尚未期满"))
def calendar_publicity_still_running(calendar_ctx: dict[str, Any], moment: str) -> None:
    assert datetime.fromisoformat(moment) < calendar_ctx["deadline"].due_at


@then(parsers.parse("在 {moment} 公示已经期满"))
def calendar_publicity_over(calendar_ctx: dict[str, Any], moment: str) -> None:
    assert datetime.fromisoformat(moment) >= calendar_ctx["deadline"].due_at


@then(parsers.parse("计算被拒绝，提示缺少 {year:d} 年的节假日数据和覆盖文件"))
def calendar_refused_for_year(calendar_ctx: dict[str, Any], year: int) -> None:
    error = calendar_ctx.get("error")
    assert isinstance(error, CalendarDataMissing), calendar_ctx
    assert error.year == year
    assert f"没有 {year} 年的节假日" in str(error) and ".json" in str(error)


@then("期限不是暂定的")
def calendar_not_provisional(calendar_ctx: dict[str, Any]) -> None:
    assert calendar_ctx["deadline"].provisional is False
