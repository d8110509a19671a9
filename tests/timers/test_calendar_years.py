"""Entering a year's holiday arrangement (录入节假日安排, timers.calendar_years): the lines an official copies from
the State Council notice become a year of the override file, validated by the calendar's own rules, written
atomically; a wrong line is refused naming it and nothing is written.

The 2027 arrangement (tests.timers.calendar_lines) is FICTITIOUS: it only exercises the mechanism, it is NOT the
real 2027 notice."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.timers.calendar_lines import DAYS_OFF_2027, HOLIDAYS_2027, SAVED_HOLIDAYS_2027, WORKDAYS_2027
from timers import calendar_years
from timers.calendar import (
    OVERRIDE_ENV_VAR,
    CalendarDataMissing,
    WorkCalendar,
    default_calendar,
    reset_default_calendar,
)
from timers.calendar_years import OverrideNotWritable, YearEntryInvalid, prepare_year, save_year, year_text

SOURCE = "虚构测试通知（不是真实的国办发明电）"
HOLIDAYS, WORKDAYS = HOLIDAYS_2027, WORKDAYS_2027
HOLIDAYS_2028 = HOLIDAYS_2027.replace("2027-", "2028-")  # FICTITIOUS too; no adjusted working day
REPOSITORY_OVERRIDE = Path(calendar_years.__file__).with_name("calendar_override.json")


@pytest.fixture(autouse=True)
def _isolated_default_calendar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(OVERRIDE_ENV_VAR, raising=False)
    reset_default_calendar()
    yield
    reset_default_calendar()


@pytest.fixture
def override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's (empty) override file, configured through the environment variable."""
    path = tmp_path / "calendar_override.json"
    path.write_bytes(REPOSITORY_OVERRIDE.read_bytes())
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(path))
    return path


def test_a_saved_year_is_used_by_every_calendar_and_a_deadline_into_it_computes(override: Path) -> None:
    with pytest.raises(CalendarDataMissing):
        default_calendar().add_working_days("2026-12-04", 20)  # a department warning: refused without 2027
    saved = save_year("2027", SOURCE, HOLIDAYS, WORKDAYS)
    assert (saved.year, saved.days_off, saved.working_days) == (2027, DAYS_OFF_2027, 1)  # 2-05…2-13 is nine days
    document = json.loads(override.read_text(encoding="utf-8"))
    assert document["_comment"] == json.loads(REPOSITORY_OVERRIDE.read_text(encoding="utf-8"))["_comment"]
    year = document["years"]["2027"]
    assert year["source"] == SOURCE and year["holidays"]["2027-02-06"] == "春节"  # a Saturday inside the holiday
    assert year["workdays"] == {"2027-02-14": "春节调休上班"}

    deadline = default_calendar().add_working_days("2026-12-04", 20)  # the same process, no restart
    assert deadline.last_day.isoformat() == "2027-01-04" and not deadline.provisional
    assert deadline.data_version == saved.data_version == WorkCalendar(override).data_version
    assert WorkCalendar(override).holiday_name("2027-02-14") == "春节调休上班"
    assert WorkCalendar(override).is_workday("2027-02-14") and not WorkCalendar(override).is_workday("2027-02-08")


def test_the_saved_year_reads_back_in_the_format_it_was_entered_in(override: Path) -> None:
    save_year(2027, SOURCE, HOLIDAYS, WORKDAYS)
    shown = year_text(2027)
    assert shown is not None and shown.source == SOURCE
    assert shown.holidays == SAVED_HOLIDAYS_2027
    assert shown.workdays == "2027-02-14 春节调休上班"
    before = override.read_bytes()
    save_year(2027, shown.source, shown.holidays, shown.workdays)  # saving it again unchanged changes nothing
    assert override.read_bytes() == before
    assert year_text(2028) is None


def test_a_year_in_the_file_is_corrected_and_the_other_years_are_kept(override: Path) -> None:
    save_year(2027, SOURCE, HOLIDAYS, WORKDAYS)
    assert calendar_years.allowed_years() == [2027, 2028]  # correct 2027, or enter the next one
    save_year(2028, "虚构 2028", HOLIDAYS_2028, "")
    save_year(2027, SOURCE, HOLIDAYS.replace("2027-02-05~2027-02-13", "2027-02-06~2027-02-12"), "")
    years = json.loads(override.read_text(encoding="utf-8"))["years"]
    assert sorted(years) == ["2027", "2028"] and years["2028"]["holidays"]["2028-01-01"] == "元旦"
    assert "2027-02-05" not in years["2027"]["holidays"] and years["2027"]["workdays"] == {}
    assert WorkCalendar(override).describe_coverage() == "2004–2028"


@pytest.mark.parametrize(("year", "source", "holidays", "workdays", "field", "message"), [
    ("2027", "", HOLIDAYS, WORKDAYS, "source", "请填写来源"),
    ("2030", SOURCE, HOLIDAYS, WORKDAYS, "year", "不能录入 2030 年：只能录入第一个还没有数据的年份 2027"),
    ("2026", SOURCE, HOLIDAYS, WORKDAYS, "year", "不能录入 2026 年"),
    ("2027", SOURCE, "2027-01-01 元旦\n2027-02-30 春节", "", "holidays", "第 2 行“2027-02-30 春节”：日期不存在"),
    ("2027", SOURCE, "2027/01/01 元旦", "", "holidays", "第 1 行“2027/01/01 元旦”：格式应为“日期 名称”"),
    ("2027", SOURCE, "2027-01-01", "", "holidays", "第 1 行“2027-01-01”：日期后面请写上节日名称"),
    ("2027", SOURCE, "2027-02-13~2027-02-05 春节", "", "holidays", "结束日期 2027-02-05 早于起始日期 2027-02-13"),
    ("2027", SOURCE, "2027-02-05~2027-02-13 春节\n2027-02-13 春节", "", "holidays",
     "第 2 行“2027-02-13 春节”：2027-02-13 已在第 1 行列出"),
    ("2027", SOURCE, "", WORKDAYS, "holidays", "请至少填写一个放假日期"),
    # the calendar's own rules (the loader's), named by the line
    # the year's own rules: every day in it, 调休上班 on a Saturday or Sunday, every festival of a notice
    ("2027", SOURCE, "2026-10-01 国庆节", "", "holidays",
     "第 1 行“2026-10-01 国庆节”：2026-10-01 不在 2027 年内，请改正日期（上一年的日期只能是 2026-12-25 及以后"),
    ("2027", SOURCE, HOLIDAYS + "2029-01-01 元旦", "", "holidays", "第 9 行“2029-01-01 元旦”：2029-01-01 不在 2027 年内"),
    ("2027", SOURCE, HOLIDAYS, "2026-12-24~2026-12-26 元旦调休上班", "workdays",
     "第 1 行“2026-12-24~2026-12-26 元旦调休上班”：2026-12-24 不在 2027 年内"),
    ("2027", SOURCE, HOLIDAYS, WORKDAYS + "2027-01-04 调休", "workdays",
     "第 2 行“2027-01-04 调休”：2027-01-04 是星期一，本来就上班；调休上班日只能是星期六或星期日，请改正日期或删去这一行"),
    ("2027", SOURCE, "2027-01-01 元旦", "", "holidays",
     ("缺少春节、清明节、劳动节、端午节、中秋节、国庆节的放假日期，没有保存：国务院办公厅的通知每年都安排元旦、春节、清明节、"
      "劳动节、端午节、中秋节、国庆节放假")),
    ("2027", SOURCE, HOLIDAYS.replace("2027-09-15 中秋节\n", "").replace("国庆节", "国庆"), WORKDAYS, "holidays",
     "缺少中秋节的放假日期"),
    ("2027", SOURCE, HOLIDAYS, "2027-02-14 春节调休上班\n2027-02-06 春节调休上班", "workdays",
     "第 2 行（2027-02-06）：年份 2027：日期 2027-02-06 同时列为休息日和调休上班日（放假日期第 3 行也列了这一天"),
])
def test_a_wrong_entry_is_refused_naming_the_field_and_line_and_nothing_is_written(
        override: Path, year: str, source: str, holidays: str, workdays: str, field: str, message: str) -> None:
    before = override.read_bytes()
    with pytest.raises(YearEntryInvalid) as refused:
        save_year(year, source, holidays, workdays)
    assert [f for f, _ in refused.value.errors] == [field]
    assert message in refused.value.errors[0][1]
    assert override.read_bytes() == before
    assert [p.name for p in override.parent.iterdir()] == [override.name]  # no temporary file left behind


def test_the_new_years_arrangement_across_the_years_end_may_list_the_previous_years_last_days(override: Path) -> None:
    """As the 2019 notice did (2018-12-30 to 2019-01-01 off, Saturday 2018-12-29 worked)."""
    save_year(2027, SOURCE, HOLIDAYS.replace("2027-01-01 元旦", "2026-12-31~2027-01-01 元旦"),
              WORKDAYS + "2026-12-26 元旦调休上班")
    calendar = WorkCalendar(override)
    assert not calendar.is_workday("2026-12-31") and calendar.is_workday("2026-12-26")


def test_every_wrong_line_of_a_field_is_named_at_once(override: Path) -> None:
    with pytest.raises(YearEntryInvalid) as refused:
        prepare_year(2027, SOURCE, "2027-01-01 元旦\n2027-13-01 春节\n春节", "2027-02-14")
    lines = [(field, message.split("：")[0]) for field, message in refused.value.errors]
    assert lines == [("holidays", "第 2 行“2027-13-01 春节”"), ("holidays", "第 3 行“春节”"),
                     ("workdays", "第 1 行“2027-02-14”")]


def test_a_conflict_with_another_year_of_the_file_is_refused(override: Path) -> None:
    save_year(2027, SOURCE, HOLIDAYS + "2027-12-26 元旦", WORKDAYS)  # a Sunday off, in 2027's notice
    before = override.read_bytes()
    with pytest.raises(YearEntryInvalid) as refused:
        save_year(2028, "虚构 2028", HOLIDAYS_2028, "2027-12-26 元旦调休上班")  # 2028's notice: worked
    conflict = "第 1 行（2027-12-26）：年份 2028：日期 2027-12-26 与 2027 年的安排矛盾（一个休息，一个上班）"
    assert refused.value.errors == [("workdays", conflict)]
    assert override.read_bytes() == before


def test_a_broken_override_file_is_named_and_left_alone(override: Path) -> None:
    override.write_text('{"years": {', encoding="utf-8")
    with pytest.raises(YearEntryInvalid, match="请先修正该文件"):
        save_year(2027, SOURCE, HOLIDAYS, WORKDAYS)
    assert override.read_text(encoding="utf-8") == '{"years": {'


def test_the_mode_of_the_file_is_kept(override: Path) -> None:
    override.chmod(0o640)
    save_year(2027, SOURCE, HOLIDAYS, WORKDAYS)
    assert override.stat().st_mode & 0o777 == 0o640


@contextlib.contextmanager
def read_only_directory(directory: Path) -> Iterator[None]:
    """The directory as on a read-only installation: not writable for this process (root: immutable)."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(directory)], check=False, capture_output=True).returncode != 0:
            pytest.skip("running as root on a file system without chattr: no directory is read-only")
        undo = ["chattr", "-i", str(directory)]
    else:
        directory.chmod(0o555)
        undo = ["chmod", "755", str(directory)]
    try:
        yield
    finally:
        subprocess.run(undo, check=True)


def test_an_unwritable_override_file_is_refused_naming_it_and_the_environment_variable(override: Path) -> None:
    before = override.read_bytes()
    with read_only_directory(override.parent), pytest.raises(OverrideNotWritable) as refused:
        save_year(2027, SOURCE, HOLIDAYS, WORKDAYS)
    message = str(refused.value)
    assert f"无法写入工作日历覆盖文件 {override}" in message and OVERRIDE_ENV_VAR in message and "没有保存" in message
    assert override.read_bytes() == before
    with pytest.raises(CalendarDataMissing):
        default_calendar().add_working_days("2026-12-04", 20)


def test_the_repository_override_file_is_the_target_without_the_environment_variable() -> None:
    assert calendar_years.override_target() == REPOSITORY_OVERRIDE
    assert calendar_years.first_uncovered_year() == 2027


def test_a_file_changed_since_the_form_was_shown_is_not_overwritten(override: Path) -> None:
    seen = calendar_years.current_version()
    assert seen == default_calendar().data_version
    save_year(2027, SOURCE, HOLIDAYS, WORKDAYS, seen_version=seen)  # another administrator saves first
    after_theirs = override.read_bytes()
    with pytest.raises(YearEntryInvalid) as refused:
        save_year(2027, SOURCE, "2027-01-01 元旦", "", seen_version=seen)
    [(field, message)] = refused.value.errors
    assert field == "" and f"覆盖文件 {override} 在您打开本页之后已被修改" in message and "本次没有保存" in message
    assert override.read_bytes() == after_theirs


def test_a_conflict_found_in_another_year_of_the_file_names_that_year_not_a_line_of_the_form(override: Path) -> None:
    save_year(2027, SOURCE, HOLIDAYS, WORKDAYS)
    save_year(2028, "虚构 2028", HOLIDAYS_2028, "2027-12-26 元旦调休上班")  # 2027 says nothing of 12-26
    with pytest.raises(YearEntryInvalid) as refused:
        save_year(2027, SOURCE, HOLIDAYS + "2027-12-26 元旦", WORKDAYS)  # correcting 2027
    assert refused.value.errors == [("", "年份 2028：日期 2027-12-26 与 2027 年的安排矛盾（一个休息，一个上班）")]
