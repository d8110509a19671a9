"""Working-day calendar (工作日历) and deadline (期限) tests.

The known facts below are the official arrangements of the State Council General Office, as
shipped in chinesecalendar 1.11.0 (data 2004–2026).  When the package is upgraded (every
November), test_package_coverage_is_pinned fails first: update the year-boundary tests.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from timers import functions
from timers.calendar import (
    OVERRIDE_ENV_VAR,
    CalendarDataMissing,
    Deadline,
    WorkCalendar,
    default_calendar,
    display_deadline,
    display_moment,
    end_of_day,
    reset_default_calendar,
    to_local_date,
)
from timers.cli import calendar_group

# FICTITIOUS 2027 arrangement: only exercises the override mechanism, NOT the real 2027 notice.
FICTITIOUS_2027 = {
    "_comment": "虚构数据，仅供测试 / FICTITIOUS test data, not the real 2027 notice",
    "years": {
        "2027": {
            "source": "虚构测试数据（不是真实通知）",
            "holidays": {"2027-01-01": "元旦（虚构）"},
            "workdays": {"2027-01-09": "元旦调休上班（虚构）"},
        }
    },
}


@pytest.fixture(autouse=True)
def _isolated_default_calendar(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(OVERRIDE_ENV_VAR, raising=False)
    reset_default_calendar()
    yield
    reset_default_calendar()


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar(None)


def write_override(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def override_2027(tmp_path: Path) -> Path:
    return write_override(tmp_path / "override.json", FICTITIOUS_2027)


# -- data coverage and classification -----------------------------------------------------------
def test_package_coverage_is_pinned(cal: WorkCalendar) -> None:
    assert cal.covered_years() == (2004, 2026), (
        "chinesecalendar upgraded? update the 2026/2027 boundary tests"
    )
    assert cal.data_version.startswith("chinesecalendar 1.11.0")
    assert "override" not in cal.data_version


@pytest.mark.parametrize(
    ("day", "workday", "name"),
    [
        ("2024-09-29", True, "国庆节调休上班"),  # Sunday worked
        ("2024-10-01", False, "国庆节"),
        ("2024-10-12", True, "国庆节调休上班"),  # Saturday worked
        ("2025-01-26", True, "春节调休上班"),  # Sunday worked
        ("2025-01-28", False, "春节"),
        ("2025-02-04", False, "春节"),
        ("2026-10-10", True, "国庆节调休上班"),
        ("2026-10-03", False, "国庆节"),
        ("2026-10-17", False, None),  # ordinary Saturday
        ("2026-10-16", True, None),  # ordinary Friday
    ],
)
def test_known_days(
    cal: WorkCalendar, day: str, workday: bool, name: str | None
) -> None:
    assert cal.is_workday(date.fromisoformat(day)) is workday
    assert cal.holiday_name(day) == name


def test_2026_official_days_off(cal: WorkCalendar) -> None:
    off_weekdays = [
        d
        for d in (date(2026, 1, 1) + timedelta(n) for n in range(365))
        if d.weekday() < 5 and not cal.is_workday(d)
    ]
    assert [d.strftime("%m-%d") for d in off_weekdays] == [
        "01-01",
        "01-02",
        "02-16",
        "02-17",
        "02-18",
        "02-19",
        "02-20",
        "02-23",
        "04-06",
        "05-01",
        "05-04",
        "05-05",
        "06-19",
        "09-25",
        "10-01",
        "10-02",
        "10-05",
        "10-06",
        "10-07",
    ]


def test_year_without_data_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarDataMissing) as err:
        cal.is_workday(date(2003, 6, 2))
    assert err.value.year == 2003
    assert isinstance(err.value, LookupError)


# -- working days -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "n", "last"),
    [
        ("2024-09-27", 20, "2024-10-30"),  # 2024 National Day, 09-29 and 10-12 worked
        ("2025-01-24", 5, "2025-02-07"),  # 2025 Spring Festival, 01-26 worked
        ("2026-09-25", 20, "2026-10-29"),
        ("2026-09-28", 5, "2026-10-10"),  # the 5th working day is the 调休 Saturday
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-10-09", 1, "2026-10-10"),
    ],
)
def test_add_working_days_known_facts(
    cal: WorkCalendar, start: str, n: int, last: str
) -> None:
    deadline = cal.add_working_days(date.fromisoformat(start), n)
    assert deadline.last_day == date.fromisoformat(last)
    assert deadline.kind == "working_days" and deadline.amount == n
    assert deadline.start == date.fromisoformat(start)
    assert deadline.provisional is False


def test_due_at_is_midnight_china_time_after_last_day(cal: WorkCalendar) -> None:
    due = cal.add_working_days(date(2026, 9, 25), 20).due_at
    assert due.isoformat() == "2026-10-30T00:00:00+08:00"
    assert due == datetime(2026, 10, 29, 16, 0, tzinfo=UTC)


def test_explanation_names_holidays_and_adjusted_days(cal: WorkCalendar) -> None:
    text = cal.add_working_days(date(2026, 9, 25), 20).explanation
    assert "2026-09-25" in text and "2026-10-29 24:00" in text
    assert "10-01…10-07 国庆节假期" in text
    assert "10-10（星期六，调休上班）" in text
    assert "跳过周末 5 天" in text
    assert "暂定" not in text


def test_explanation_without_holidays(cal: WorkCalendar) -> None:
    text = cal.add_working_days(date(2026, 11, 2), 5).explanation
    assert "期间没有节假日或调休" in text
    assert "跳过周末 2 天" in text


def test_start_day_is_not_counted_even_when_it_is_a_workday(cal: WorkCalendar) -> None:
    assert cal.add_working_days(date(2026, 11, 2), 1).last_day == date(2026, 11, 3)


@pytest.mark.parametrize("bad", [0, -3, True, 2.0])
def test_amount_must_be_a_positive_integer(cal: WorkCalendar, bad: object) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 11, 2), bad)  # type: ignore[arg-type]


def test_deadline_reaching_2027_is_refused_naming_the_year(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarDataMissing) as err:
        cal.add_working_days(date(2026, 12, 15), 20)
    message = str(err.value)
    assert err.value.year == 2027
    assert "2027" in message and "2004–2026" in message
    assert "calendar_override.json" in message


def test_deadline_ending_after_dec_25_is_provisional(cal: WorkCalendar) -> None:
    deadline = cal.add_working_days(date(2026, 12, 15), 9)
    assert deadline.last_day == date(2026, 12, 28)
    assert deadline.provisional is True
    assert "暂定：2027 年安排公布后可能变化" in deadline.explanation


def test_deadline_before_dec_25_is_not_provisional(cal: WorkCalendar) -> None:
    deadline = cal.add_working_days(date(2026, 12, 15), 7)
    assert deadline.last_day == date(2026, 12, 24)
    assert deadline.provisional is False


def test_provisional_from_is_configurable() -> None:
    cal = WorkCalendar(None, provisional_from=(12, 1))
    assert cal.add_working_days(date(2026, 11, 27), 2).provisional is True
    assert cal.add_working_days(date(2026, 11, 25), 2).provisional is False


# -- override file ------------------------------------------------------------------------------
def test_override_adds_2027(override_2027: Path, cal: WorkCalendar) -> None:
    with_2027 = WorkCalendar(override_2027)
    deadline = with_2027.add_working_days(date(2026, 12, 15), 20)
    # Dec 2026: 12 working days; 2027-01-01 off; 01-04..01-08 five; Sat 01-09 worked; 01-11, 01-12.
    assert deadline.last_day == date(2027, 1, 12)
    assert deadline.provisional is False
    assert "元旦（虚构）假期" in deadline.explanation
    assert "2027-01-09（星期六，调休上班）" in deadline.explanation
    assert with_2027.covered_years() == (2004, 2027)
    assert with_2027.sources[2027] == "override.json: 虚构测试数据（不是真实通知）"
    assert with_2027.data_version != cal.data_version
    assert with_2027.data_version.startswith(
        "chinesecalendar 1.11.0 + override sha256:"
    )
    assert deadline.data_version == with_2027.data_version


def test_data_version_changes_with_override_content(tmp_path: Path) -> None:
    first = WorkCalendar(
        write_override(tmp_path / "a.json", {"years": {}})
    ).data_version
    second = WorkCalendar(
        write_override(tmp_path / "b.json", FICTITIOUS_2027)
    ).data_version
    assert first != second


def test_override_replaces_a_whole_year_without_touching_the_package(
    tmp_path: Path,
) -> None:
    path = write_override(
        tmp_path / "o.json",
        {
            "years": {
                "2026": {"source": "测试：清空 2026", "holidays": {}, "workdays": {}}
            }
        },
    )
    replaced = WorkCalendar(path)
    assert replaced.is_workday(date(2026, 10, 1)) is True
    assert replaced.is_workday(date(2026, 10, 10)) is False
    assert (
        replaced.is_workday(date(2025, 10, 1)) is False
    )  # other years keep the package data
    fresh = WorkCalendar(None)  # the package's own tables were not mutated
    assert fresh.is_workday(date(2026, 10, 1)) is False
    assert fresh.is_workday(date(2026, 10, 10)) is True


def test_override_may_change_late_december_of_previous_year(tmp_path: Path) -> None:
    data = json.loads(json.dumps(FICTITIOUS_2027))
    data["years"]["2027"]["holidays"]["2026-12-31"] = "元旦（虚构）"
    cal = WorkCalendar(write_override(tmp_path / "o.json", data))
    assert cal.is_workday(date(2026, 12, 31)) is False
    assert cal.add_working_days(date(2026, 12, 15), 20).last_day == date(2027, 1, 13)


@pytest.mark.parametrize(
    ("year_spec", "expected"),
    [
        (
            {
                "source": "x",
                "holidays": {"2027-02-07": "春节"},
                "workdays": {"2027-02-07": "春节调休上班"},
            },
            "2027-02-07",
        ),
        (
            {"source": "x", "holidays": {"2029-01-01": "元旦"}, "workdays": {}},
            "2029-01-01",
        ),
        (
            {"source": "x", "holidays": {"2027-13-01": "元旦"}, "workdays": {}},
            "2027-13-01",
        ),
        ({"source": "x", "holidays": {}}, "workdays"),
        ({"holidays": {}, "workdays": {}}, "source"),
    ],
)
def test_bad_override_file_raises_value_error(
    tmp_path: Path, year_spec: dict, expected: str
) -> None:
    path = write_override(tmp_path / "bad.json", {"years": {"2027": year_spec}})
    with pytest.raises(ValueError) as err:
        WorkCalendar(path)
    message = str(err.value)
    assert str(path) in message and "2027" in message and expected in message


def test_override_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"years": {', encoding="utf-8")
    with pytest.raises(ValueError, match="broken.json"):
        WorkCalendar(path)


# -- calendar days, months, monthly deadlines ---------------------------------------------------
def test_days_from_publicity_closes_at_start_of_day_six(cal: WorkCalendar) -> None:
    deadline = cal.add_days(date(2026, 9, 28), 5)
    assert deadline.last_day == date(2026, 10, 3)  # a holiday, not extended by default
    assert deadline.due_at.isoformat() == "2026-10-04T00:00:00+08:00"
    assert deadline.kind == "days" and deadline.provisional is False


def test_days_extended_over_holidays_on_request(cal: WorkCalendar) -> None:
    deadline = cal.add_days(date(2026, 9, 28), 5, extend_over_holidays=True)
    assert deadline.last_day == date(2026, 10, 8)
    assert "顺延至下一个工作日 2026-10-08" in deadline.explanation
    # a last day that is a 调休 working Saturday is not moved
    assert cal.add_days(
        date(2026, 10, 5), 5, extend_over_holidays=True
    ).last_day == date(2026, 10, 10)


def test_calendar_days_need_no_holiday_data(cal: WorkCalendar) -> None:
    deadline = cal.add_days(date(2030, 2, 25), 5)
    assert deadline.last_day == date(2030, 3, 2)
    assert cal.add_months(date(2030, 1, 31), 1).last_day == date(2030, 2, 28)
    assert cal.monthly_deadline(2030, 6, 25).last_day == date(2030, 6, 25)
    with pytest.raises(CalendarDataMissing):
        cal.add_days(date(2030, 2, 25), 5, extend_over_holidays=True)


@pytest.mark.parametrize(
    ("start", "n", "last"),
    [
        ("2027-01-31", 1, "2027-02-28"),
        ("2028-01-31", 1, "2028-02-29"),
        ("2026-08-31", 1, "2026-09-30"),
        ("2026-10-15", 3, "2027-01-15"),
        ("2026-06-30", 6, "2026-12-30"),
    ],
)
def test_add_months_clamps_to_month_end(
    cal: WorkCalendar, start: str, n: int, last: str
) -> None:
    deadline = cal.add_months(date.fromisoformat(start), n)
    assert deadline.last_day == date.fromisoformat(last)
    assert deadline.kind == "months"


def test_add_months_explains_clamping(cal: WorkCalendar) -> None:
    assert "没有 31 日，取月末" in cal.add_months(date(2027, 1, 31), 1).explanation
    assert "取月末" not in cal.add_months(date(2027, 1, 15), 1).explanation


@pytest.mark.parametrize(
    ("year", "month", "day", "last"),
    [
        (2027, 2, 30, "2027-02-28"),
        (2028, 2, 30, "2028-02-29"),
        (2026, 4, 31, "2026-04-30"),
        (2026, 3, 25, "2026-03-25"),
    ],
)
def test_monthly_deadline_clamps(
    cal: WorkCalendar, year: int, month: int, day: int, last: str
) -> None:
    deadline = cal.monthly_deadline(year, month, day)
    assert deadline.last_day == date.fromisoformat(last)
    assert deadline.start == date(year, month, 1)
    assert deadline.amount == day and deadline.kind == "monthly_day"


def test_monthly_deadline_rejects_day_32(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        cal.monthly_deadline(2026, 3, 32)


@pytest.mark.parametrize(
    ("year", "month", "day", "last", "words"),
    [
        (2026, 12, 8, "2026-12-08", "每年 12 月 8 日前：2026 年的期限为 2026-12-08，截止 2026-12-08 24:00（节假日不顺延）。"),
        (2027, 2, 29, "2027-02-28", "每年 2 月 29 日前：2027 年的期限为 2027-02-28（2027 年 2 月没有 29 日，取 2 月 28 日）"),
        (2028, 2, 29, "2028-02-29", "每年 2 月 29 日前：2028 年的期限为 2028-02-29，"),
    ],
)
def test_a_yearly_deadline_is_explained_as_once_a_year(
    cal: WorkCalendar, year: int, month: int, day: int, last: str, words: str
) -> None:
    """Review 22, finding 8: the campaign's 12-08 was explained “每月 8 日前：2026-12 的期限为 2026-12-08”."""
    deadline = cal.yearly_deadline(year, month, day)
    assert deadline.last_day == date.fromisoformat(last) and deadline.kind == "yearly_day"
    assert (deadline.start, deadline.amount) == (date(year, month, 1), day)
    assert words in deadline.explanation and "每月" not in deadline.explanation
    again = functions.explain("yearly_day", deadline.start, deadline.amount)  # as a recomputation does it
    assert (again.kind, again.last_day, again.explanation) == (deadline.kind, deadline.last_day, deadline.explanation)


@pytest.mark.parametrize(("month", "day"), [(13, 1), (4, 31), (2, 30), (12, 0)])
def test_a_yearly_deadline_refuses_a_day_no_year_has(cal: WorkCalendar, month: int, day: int) -> None:
    with pytest.raises(ValueError):
        cal.yearly_deadline(2026, month, day)


def test_the_diagram_function_takes_the_policy_month_day_and_records_its_deadline() -> None:
    assert functions.yearly_deadline("2026-09-20", "12-08") == "2026-12-09T00:00:00+08:00"
    assert functions.yearly_deadline(date(2026, 12, 8), "12-08") == "2026-12-09T00:00:00+08:00"
    sink: list[Deadline] = []
    assert functions.recording_functions(sink)["yearly_deadline"]("2026-12-08", "12-08") == "2026-12-09T00:00:00+08:00"
    assert [(d.kind, d.start, d.amount) for d in sink] == [("yearly_day", date(2026, 12, 1), 8)]
    assert sink[0].explanation.startswith("每年 12 月 8 日前：2026 年的期限为 2026-12-08")
    with pytest.raises(TypeError):
        functions.yearly_deadline("2026-09-20", "1208")


# -- Deadline, dates ----------------------------------------------------------------------------
def test_deadline_round_trips_through_json(cal: WorkCalendar) -> None:
    deadline = cal.add_working_days(date(2026, 12, 15), 9)
    stored = json.loads(json.dumps(deadline.to_dict(), ensure_ascii=False))
    assert stored["due_at"] == "2026-12-29T00:00:00+08:00"
    assert stored["last_day"] == "2026-12-28" and stored["provisional"] is True
    assert Deadline.from_dict(stored) == deadline


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 9, 28), date(2026, 9, 28)),
        (
            datetime(2026, 9, 28, 23, 30),
            date(2026, 9, 28),
        ),  # naive: taken as China time
        (
            datetime(2026, 9, 27, 20, 0, tzinfo=UTC),
            date(2026, 9, 28),
        ),  # 04:00 in Beijing
        ("2026-09-28", date(2026, 9, 28)),
        ("2026-09-27T20:00:00Z", date(2026, 9, 28)),
        ("2026-09-28T07:59:00+08:00", date(2026, 9, 28)),
    ],
)
def test_to_local_date(value: object, expected: date) -> None:
    assert to_local_date(value) == expected  # type: ignore[arg-type]


def test_to_local_date_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        to_local_date("28.09.2026")
    with pytest.raises(TypeError):
        to_local_date(20260928)  # type: ignore[arg-type]


# -- diagram functions and the default calendar -------------------------------------------------
def test_diagram_functions_return_aware_iso_strings() -> None:
    assert functions.days_from("2026-09-28", 5) == "2026-10-04T00:00:00+08:00"
    assert functions.working_days_from("2026-09-25", 20) == "2026-10-30T00:00:00+08:00"
    assert (
        functions.working_days_from(datetime(2026, 9, 28, 9, 0), "5")
        == "2026-10-11T00:00:00+08:00"
    )
    assert functions.months_from(date(2027, 1, 31), 1) == "2027-03-01T00:00:00+08:00"
    assert functions.monthly_deadline("2027-02-10", 30) == "2027-03-01T00:00:00+08:00"
    assert set(functions.DIAGRAM_FUNCTIONS) == {
        "working_days_from",
        "days_from",
        "months_from",
        "monthly_deadline",
        "yearly_deadline",
    }
    assert all(callable(f) for f in functions.DIAGRAM_FUNCTIONS.values())


def test_explain_returns_full_deadline() -> None:
    deadline = functions.explain("working_days", "2026-09-28", 5)
    assert deadline.last_day == date(2026, 10, 10)
    assert "调休上班" in deadline.explanation
    with pytest.raises(ValueError):
        functions.explain("weeks", "2026-09-28", 5)
    with pytest.raises(TypeError):
        functions.days_from("2026-09-28", 5.5)


def test_default_calendar_is_cached_and_follows_env_var_and_file(
    monkeypatch: pytest.MonkeyPatch, override_2027: Path
) -> None:
    first = default_calendar()
    assert default_calendar() is first  # read once while its file is unchanged
    assert not first.has_year(2027)
    with pytest.raises(CalendarDataMissing):
        functions.working_days_from("2026-12-15", 20)
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(override_2027))
    second = default_calendar()  # another file: read it
    assert second is not first and second.has_year(2027) and default_calendar() is second
    assert functions.working_days_from("2026-12-15", 20) == "2027-01-13T00:00:00+08:00"
    write_override(override_2027, {"years": {}})  # an administrator edits the file: every process reads it again
    assert not default_calendar().has_year(2027)
    with pytest.raises(CalendarDataMissing):
        functions.working_days_from("2026-12-15", 20)


def test_missing_years_warn_from_november_naming_the_file(override_2027: Path) -> None:
    calendar = WorkCalendar(None)
    assert calendar.missing_years(date(2026, 10, 31)) == []
    assert calendar.missing_years(date(2026, 11, 1)) == [2027]
    assert calendar.missing_years(date(2027, 3, 1)) == [2027]  # this year itself missing
    [warning] = calendar.missing_data_warnings(date(2026, 12, 2))
    assert "还没有 2027 年的节假日/调休数据" in warning and "calendar_override.json" not in warning  # no file set
    assert WorkCalendar(override_2027).missing_years(date(2026, 12, 2)) == []
    empty = write_override(override_2027.with_name("empty.json"), {"years": {}})
    assert str(empty) in WorkCalendar(empty).missing_data_warnings(date(2026, 12, 2))[0]  # where to add it


def test_default_override_file_is_valid_and_empty() -> None:
    cal = default_calendar()
    assert (
        cal.override_file is not None
        and cal.override_file.name == "calendar_override.json"
    )
    assert "override sha256:" in cal.data_version


def test_missing_configured_override_file_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(tmp_path / "nope.json"))
    with pytest.raises(FileNotFoundError):
        default_calendar()


# -- CLI ----------------------------------------------------------------------------------------
def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(calendar_group, list(args), env=env)


def test_cli_add_working_days() -> None:
    result = invoke("add", "--from", "2026-09-25", "--working-days", "20")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "2026-10-29"
    assert "国庆节" in lines[1] and "10-10（星期六，调休上班）" in lines[1]
    assert "chinesecalendar 1.11.0" in result.stdout
    assert "provisional" not in result.stdout


def test_cli_add_days_and_months() -> None:
    assert (
        invoke("add", "--from", "2026-09-28", "--days", "5").stdout.splitlines()[0]
        == "2026-10-03"
    )
    extended = invoke(
        "add", "--from", "2026-09-28", "--days", "5", "--extend-over-holidays"
    )
    assert extended.stdout.splitlines()[0] == "2026-10-08"
    assert (
        invoke("add", "--from", "2027-01-31", "--months", "1").stdout.splitlines()[0]
        == "2027-02-28"
    )


def test_cli_missing_year_exits_2() -> None:
    result = invoke("add", "--from", "2026-12-15", "--working-days", "20")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "2027" in result.stderr and "calendar_override.json" in result.stderr


def test_cli_provisional_note() -> None:
    result = invoke("add", "--from", "2026-12-15", "--working-days", "9")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "2026-12-28"
    assert "provisional" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("add", "--from", "2026-09-25"),
        ("add", "--from", "2026-09-25", "--days", "5", "--months", "1"),
        (
            "add",
            "--from",
            "2026-09-25",
            "--working-days",
            "5",
            "--extend-over-holidays",
        ),
        ("add", "--from", "not-a-date", "--days", "5"),
        ("add", "--from", "2026-09-25", "--days", "0"),
    ],
)
def test_cli_usage_errors(args: tuple[str, ...]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert "Error" in result.stderr
    assert result.stdout == ""


def test_cli_coverage_warns_from_november(override_2027: Path) -> None:
    early = invoke("coverage", "--today", "2026-10-31")
    assert early.exit_code == 0
    assert "2004–2026" in early.stdout
    assert "chinesecalendar 1.11.0" in early.stdout
    assert early.stderr == ""
    late = invoke("coverage", "--today", "2026-11-01")
    assert late.exit_code == 0 and "2027" in late.stderr
    reset_default_calendar()
    covered = invoke(
        "coverage", "--today", "2026-11-01", env={OVERRIDE_ENV_VAR: str(override_2027)}
    )
    assert "2004–2027" in covered.stdout and covered.stderr == ""
    assert "2027: override.json: 虚构测试数据" in covered.stdout


def test_cli_bad_override_file_is_a_clean_error(tmp_path: Path) -> None:
    bad = write_override(tmp_path / "bad.json", {"years": {"2027": {"source": "x"}}})
    result = invoke("coverage", env={OVERRIDE_ENV_VAR: str(bad)})
    assert result.exit_code == 1
    assert "bad.json" in result.stderr and "Traceback" not in result.output


def test_cli_coverage_warns_when_this_year_is_missing() -> None:
    result = invoke("coverage", "--today", "2027-03-01")
    assert "2027" in result.stderr


def test_an_event_at_midnight_reads_as_that_day_and_a_deadline_as_24_00_of_the_day_before() -> None:
    midnight = datetime(2026, 1, 28, 16, 0, tzinfo=UTC)  # 2026-01-29 00:00 China Standard Time
    assert display_moment(midnight) == "2026-01-29 00:00"  # 立案, 已办理 … at midnight
    assert display_deadline(midnight) == "2026-01-28 24:00" and midnight == end_of_day(date(2026, 1, 28))
    morning = datetime(2026, 9, 26, 1, 0, tzinfo=UTC)
    assert display_moment(morning) == display_deadline(morning) == "2026-09-26 09:00"
