"""Entering a year's holiday arrangement (录入节假日安排) into the calendar override file, as an official copies it
from the State Council General Office's notice: one line per day or range of days, e.g. ``2027-01-01 元旦``,
``2027-02-05~2027-02-13 春节`` (a range is every day in it, weekends included), ``2027-02-14 春节调休上班``.

The lines are parsed here and checked against the year entered: every day in that year (or, for the New Year's
Day arrangement across the year's end, the previous year's last days), every adjusted working day a Saturday or
Sunday, and a day off for each of the seven festivals of every notice. The other rules are those the calendar reads
the file with (``validate_override`` of timers.calendar, run on the whole document about to be written), so a year
that is saved is a year that loads. The
file is replaced atomically (a temporary file in its directory, then ``os.replace``), keeping its other years and its
``_comment``; on any error nothing is written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from timers.calendar import (
    DEFAULT_OVERRIDE_FILE,
    ONE_DAY,
    OVERRIDE_ENV_VAR,
    WEEKDAYS_ZH,
    OverrideInvalid,
    WorkCalendar,
    default_calendar,
    file_data_version,
    validate_override,
)

log = logging.getLogger(__name__)

HOLIDAYS, WORKDAYS, SOURCE, YEAR = "holidays", "workdays", "source", "year"
FIELD_LABELS = {HOLIDAYS: "放假日期", WORKDAYS: "调休上班日期", SOURCE: "来源", YEAR: "年份"}
MAX_RANGE_DAYS = 31  # a holiday is never longer: a longer range is a typo in a date
_DATE = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_LINE = re.compile(rf"^{_DATE}(?:\s*[~～至—–]\s*{_DATE})?(?:\s+(.*))?$")
# The festivals the State Council's notice gives days off every year (《全国年节及纪念日放假办法》第二条, the same
# seven since 2008), each with the words a line's name is recognised by: the notice's own names, which may join two
# festivals ("国庆节、中秋节" when the Mid-autumn Festival falls in the National Day holiday).
FESTIVALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("元旦", ("元旦",)), ("春节", ("春节",)), ("清明节", ("清明",)), ("劳动节", ("劳动节", "五一")),
    ("端午节", ("端午",)), ("中秋节", ("中秋",)), ("国庆节", ("国庆",)))


class YearEntryInvalid(ValueError):
    """The entered arrangement is refused: ``errors`` are ``(field, message)``, each message in Chinese naming the
    line or date and what to change. Nothing was written."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("；".join(f"{FIELD_LABELS.get(field, field)}：{message}" for field, message in errors))


class OverrideNotWritable(OSError):
    """The override file cannot be written here (a read-only installation): names the file and the way out."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"无法写入工作日历覆盖文件 {path}（{reason}），没有保存。若本机安装目录只读，请让环境变量 "
                         f"{OVERRIDE_ENV_VAR} 指向一个可写的文件（先复制现有文件的内容），重启各进程后再录入。")


@dataclass(frozen=True)
class YearText:
    """A year of the override file in the form's line format (to correct a saved year)."""

    year: int
    source: str
    holidays: str
    workdays: str


@dataclass(frozen=True)
class PreparedYear:
    """A validated override document with the year in it, not yet written."""

    path: Path
    raw: bytes
    year: int
    source: str
    days_off: int
    working_days: int
    data_version: str
    previous: bytes = b""  # the file as it was when validated, to put back


def override_target() -> Path:
    """The override file a year is written to: $FANGPIN_CALENDAR_OVERRIDE if set, else timers/calendar_override.json
    (the file :func:`timers.calendar.default_calendar` reads)."""
    configured = os.environ.get(OVERRIDE_ENV_VAR)
    return Path(configured) if configured else DEFAULT_OVERRIDE_FILE


def _document(path: Path) -> dict[str, Any]:
    """The override file's JSON (``{"years": {}}`` if there is none yet)."""
    if not path.exists():
        return {"years": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise YearEntryInvalid([("", f"覆盖文件 {path} 现在无法读取（{exc}），请先修正该文件")]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("years"), dict):
        raise YearEntryInvalid([("", f'覆盖文件 {path} 的顶层必须是对象并包含 "years" 对象，请先修正该文件')])
    return data


def _calendar(path: Path) -> WorkCalendar:
    """The calendar with the override file ``path`` (the process's own if it reads that file: not read again)."""
    try:
        current = default_calendar()
        if current.override_file is not None and current.override_file == path:
            return current
        return WorkCalendar(path if path.exists() else None)
    except (OSError, ValueError) as exc:
        raise YearEntryInvalid([("", f"覆盖文件现有内容有误，请先修正该文件：{exc}")]) from exc


def _first_uncovered(calendar: WorkCalendar) -> int:
    first, last = calendar.covered_years()
    return next(year for year in range(first, last + 2) if not calendar.has_year(year))


def allowed_years(path: Path | None = None) -> list[int]:
    """The years that may be entered: the first year without data, and every year already in the override file (to
    correct it)."""
    path = path or override_target()
    in_file = {int(key) for key in _document(path)["years"] if str(key).isdigit()}
    return sorted(in_file | {_first_uncovered(_calendar(path))})


def first_uncovered_year(path: Path | None = None) -> int:
    """The first year the calendar has no holiday data for (the one to enter next)."""
    return _first_uncovered(_calendar(path or override_target()))


# -- the line format ------------------------------------------------------------------------------------------------
def _day(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _parse_line(line: str) -> tuple[list[date], str]:
    """The days and the name of one line; raises ValueError with what to change."""
    match = _LINE.match(line)
    if not match:
        raise ValueError("格式应为“日期 名称”或“起始日期~结束日期 名称”，日期写成 年-月-日，例如 2027-01-01 元旦")
    first = _day(*match.group(1, 2, 3))
    last = _day(*match.group(4, 5, 6)) if match.group(4) else first
    if first is None or last is None:
        raise ValueError("日期不存在，请核对年、月、日")
    name = (match.group(7) or "").strip()
    if not name:
        raise ValueError("日期后面请写上节日名称，例如 2027-01-01 元旦、2027-02-14 春节调休上班")
    if last < first:
        raise ValueError(f"结束日期 {last} 早于起始日期 {first}，请对调或改正")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValueError(f"一段日期最长 {MAX_RANGE_DAYS} 天，{first}~{last} 太长，请核对日期")
    return [first + ONE_DAY * i for i in range((last - first).days + 1)], name


def parse_days(text: str, field: str) -> tuple[dict[date, str], dict[date, int]]:
    """The lines of a textarea as ``({day: name}, {day: line number})``; blank lines are skipped, a range is each of
    its days. Raises :class:`YearEntryInvalid` naming every wrong line."""
    days: dict[date, str] = {}
    lines: dict[date, int] = {}
    errors: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            listed, name = _parse_line(line)
        except ValueError as exc:
            errors.append((field, f"第 {number} 行“{line}”：{exc}"))
            continue
        for day in listed:
            if day in lines:
                errors.append((field, f"第 {number} 行“{line}”：{day} 已在第 {lines[day]} 行列出，请删去重复的日期"))
                break
            days[day], lines[day] = name, number
    if errors:
        raise YearEntryInvalid(errors)
    return days, lines


def format_days(days: dict[str, str]) -> str:
    """The override file's ``{date: name}`` in the line format: consecutive days of one name as one range."""
    runs: list[tuple[date, date, str]] = []
    for day, name in sorted((date.fromisoformat(text), name) for text, name in days.items()):
        if runs and runs[-1][2] == name and runs[-1][1] + ONE_DAY == day:
            runs[-1] = (runs[-1][0], day, name)
        else:
            runs.append((day, day, name))
    return "\n".join(f"{a}~{b} {name}" if a != b else f"{a} {name}" for a, b, name in runs)


def year_text(year: int, path: Path | None = None) -> YearText | None:
    """A year of the override file in the line format, or None if it is not there."""
    spec = _document(path or override_target())["years"].get(str(year))
    if not isinstance(spec, dict):
        return None
    listed = {field: spec.get(field) or {} for field in (HOLIDAYS, WORKDAYS)}
    defaults = {HOLIDAYS: "节假日", WORKDAYS: "调休上班"}  # the names the calendar gives a list's days
    listed = {field: value if isinstance(value, dict) else dict.fromkeys(value, defaults[field])
              for field, value in listed.items()}
    return YearText(year, str(spec.get(SOURCE, "")), format_days(listed[HOLIDAYS]), format_days(listed[WORKDAYS]))


# -- validating and writing ---------------------------------------------------------------------------------------
def _year(text: int | str, path: Path) -> int:
    year = int(text) if isinstance(text, int) or str(text).strip().isdigit() else None
    allowed = allowed_years(path)
    if year not in allowed:
        first = first_uncovered_year(path)
        saved = "、".join(str(y) for y in allowed if y != first)
        message = f"不能录入 {text} 年：只能录入第一个还没有数据的年份 {first}"
        message += f"，或修改覆盖文件中已有的年份（{saved}）" if saved else ""
        raise YearEntryInvalid([(YEAR, message)])
    return year


def _misplaced_days(year: int, field: str, days: dict[date, str], lines: dict[date, int], text: str,
                    provisional_from: tuple[int, int]) -> list[tuple[str, str]]:
    """A line with a day outside ``year`` — only the previous year's days from ``provisional_from`` (12-25) may be
    there, the New Year's Day arrangement across the year's end the notice of ``year`` decides — or, among the
    adjusted working days, a day that is not a Saturday or Sunday (a weekday is worked anyway): one error per line."""
    earliest = date(year - 1, *provisional_from)
    problems: dict[int, str] = {}
    for day in sorted(days):
        if day.year != year and not (day.year == year - 1 and day >= earliest):
            problems.setdefault(lines[day], f"{day} 不在 {year} 年内，请改正日期（上一年的日期只能是 {earliest} "
                                            f"及以后元旦放假调休的日子）")
        elif field == WORKDAYS and day.weekday() < 5:
            problems.setdefault(lines[day], f"{day} 是{WEEKDAYS_ZH[day.weekday()]}，本来就上班；调休上班日只能是"
                                            f"星期六或星期日，请改正日期或删去这一行")
    numbered = text.splitlines()
    return [(field, f"第 {number} 行“{numbered[number - 1].strip()}”：{problem}")
            for number, problem in sorted(problems.items())]


def missing_festivals(names: Iterable[str]) -> list[str]:
    """The festivals of :data:`FESTIVALS` that no name of a year's days off names, in the notice's order."""
    listed = list(names)
    return [festival for festival, words in FESTIVALS
            if not any(word in name for name in listed for word in words)]


def _missing_message(missing: list[str]) -> str:
    every = "、".join(festival for festival, _ in FESTIVALS)
    return (f"缺少{'、'.join(missing)}的放假日期，没有保存：国务院办公厅的通知每年都安排{every}放假，请按通知补齐，"
            f"名称写节日名（如 2027-10-01~2027-10-07 国庆节；中秋节在国庆假期内时写“国庆节、中秋节”）")


def _merged(path: Path, year: int, source: str, holidays: dict[date, str], workdays: dict[date, str]) -> bytes:
    """The override file with ``year`` replaced (its other keys and years kept), as the bytes to write."""
    document = _document(path)
    years = dict(document["years"])
    years[str(year)] = {SOURCE: source.strip(),
                        HOLIDAYS: {day.isoformat(): name for day, name in sorted(holidays.items())},
                        WORKDAYS: {day.isoformat(): name for day, name in sorted(workdays.items())}}
    document["years"] = dict(sorted(years.items()))
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _explain(exc: OverrideInvalid, year: int, lines: dict[str, dict[date, int]]) -> tuple[str, str]:
    """A calendar rule's refusal named by the form's field and line (of the year entered; another year of the file
    is named by its own message)."""
    field = exc.field if exc.field in FIELD_LABELS and exc.year == year else ""
    detail = exc.detail
    for key in (HOLIDAYS, WORKDAYS):
        detail = detail.replace(f"{key} 中", f"{FIELD_LABELS[key]}中").replace(f"缺少 {key}", f"缺少{FIELD_LABELS[key]}")
    line = lines.get(field, {}).get(exc.day) if exc.day else None
    if line is not None:
        detail = f"第 {line} 行（{exc.day}）：{detail}"
        other = lines[HOLIDAYS].get(exc.day) if field == WORKDAYS else None
        if other is not None:
            detail += f"（放假日期第 {other} 行也列了这一天，请删去其中一处）"
    return field, detail


def current_version(path: Path | None = None) -> str:
    """The data version the override file gives now (what a form shows, to notice a change before saving)."""
    path = path or override_target()
    return file_data_version(path.read_bytes() if path.exists() else None)


def _unchanged(path: Path, seen_version: str | None) -> None:
    now = current_version(path)
    if seen_version is not None and seen_version != now:
        message = (f"覆盖文件 {path} 在您打开本页之后已被修改（可能是另一位管理员保存了；数据版本 {seen_version} → "
                   f"{now}），本次没有保存。请另开本页核对现有数据；确认以本页所填为准时再保存一次。")
        raise YearEntryInvalid([("", message)])


def prepare_year(year: int | str, source: str, holidays: str, workdays: str, path: Path | None = None,
                 seen_version: str | None = None) -> PreparedYear:
    """Parse and validate a year's arrangement against the override file ``path`` (default: :func:`override_target`)
    with the calendar's own rules; nothing is written. ``seen_version``: the data version the official saw — refused
    if the file has changed since (another administrator saved). Raises :class:`YearEntryInvalid`."""
    path = path or override_target()
    _unchanged(path, seen_version)
    number = _year(year, path)
    errors: list[tuple[str, str]] = []
    parsed: dict[str, tuple[dict[date, str], dict[date, int]]] = {}
    field_texts = {HOLIDAYS: holidays, WORKDAYS: workdays}
    for field, text in field_texts.items():
        try:
            parsed[field] = parse_days(text, field)
        except YearEntryInvalid as exc:
            errors.extend(exc.errors)
    if not source.strip():
        errors.insert(0, (SOURCE, "请填写来源：国务院办公厅通知的文号或网址，例如 国办发明电〔2026〕N号"))
    provisional_from = _calendar(path).provisional_from
    for field, (days, lines) in parsed.items():
        errors.extend(_misplaced_days(number, field, days, lines, field_texts[field], provisional_from))
    if not errors and not parsed[HOLIDAYS][0]:
        errors.append((HOLIDAYS, "请至少填写一个放假日期（每年都有元旦、春节等假日）"))
    elif not errors and (missing := missing_festivals(parsed[HOLIDAYS][0].values())):
        errors.append((HOLIDAYS, _missing_message(missing)))
    if errors:
        raise YearEntryInvalid(errors)
    raw = _merged(path, number, source, parsed[HOLIDAYS][0], parsed[WORKDAYS][0])
    try:
        _, version = validate_override(path, raw)
    except OverrideInvalid as exc:
        raise YearEntryInvalid([_explain(exc, number, {field: lines for field, (_, lines) in parsed.items()})]) from exc
    return PreparedYear(path, raw, number, source.strip(), len(parsed[HOLIDAYS][0]), len(parsed[WORKDAYS][0]),
                        version, path.read_bytes())


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (a crash right after it keeps the new file)."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def install(prepared: PreparedYear) -> None:
    """Replace the override file with the prepared document atomically (every process reads it at its next
    computation). Raises :class:`OverrideNotWritable` and leaves the file as it was if it cannot be written."""
    _replace(prepared.path, prepared.raw)
    log.info("calendar override %s: year %s saved (%s days off, %s working days), %s", prepared.path, prepared.year,
             prepared.days_off, prepared.working_days, prepared.data_version)


def put_back(prepared: PreparedYear) -> None:
    """Undo :func:`install`: the override file as it was when the year was validated — when what installed it is
    not kept (the audit entry of the save was not committed)."""
    path = prepared.path
    _replace(path, prepared.previous)
    log.warning("calendar override %s: year %s not kept, the file put back as it was", path, prepared.year)


def _replace(path: Path, raw: bytes) -> None:
    if path.exists() and not os.access(path, os.W_OK):
        raise OverrideNotWritable(path, "文件只读")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OverrideNotWritable(path, exc.strerror or str(exc)) from exc
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
        os.replace(temporary, path)
        _sync_directory(path.parent)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OverrideNotWritable(path, exc.strerror or str(exc)) from exc


def save_year(year: int | str, source: str, holidays: str, workdays: str, path: Path | None = None,
              seen_version: str | None = None) -> PreparedYear:
    """:func:`prepare_year` then :func:`install`: the year is in the override file, or nothing was written."""
    prepared = prepare_year(year, source, holidays, workdays, path, seen_version)
    install(prepared)
    return prepared
