"""Working-day calendar (工作日历): the ONLY module of fangpin that classifies dates.

Base data are the official holiday and adjusted-working-day (调休) tables of the pinned
``chinesecalendar`` package (years 2004–2026 in 1.11.0).  An administrator-maintained
JSON override file replaces whole years (to add a new year's State Council notice or to
correct the package).  A date in a year that neither source covers raises
:class:`CalendarDataMissing`: deadlines are never guessed.

Periods (期限) follow DOMAIN.md §9: the start day is not counted, a period ends at 24:00
China Standard Time of its last day, calendar-day periods are not extended over holidays
unless asked to (civil-law option).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

CHINA_TZ = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)
OVERRIDE_ENV_VAR = "FANGPIN_CALENDAR_OVERRIDE"
DEFAULT_OVERRIDE_FILE = Path(__file__).with_name("calendar_override.json")

DeadlineKind = Literal["working_days", "days", "months", "monthly_day", "yearly_day"]
DEADLINE_KINDS: tuple[str, ...] = ("working_days", "days", "months", "monthly_day", "yearly_day")
DateLike = date | datetime | str

# chinesecalendar names its holidays in English; the explanations are Chinese.
_PACKAGE_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
DATE_FORMAT = "日期格式应为 年-月-日，如 2026-09-10"
"""How every refusal of a badly written date says what to write (a form's date field, an upload's date column, a
query's date): one wording for officials, never YYYY-MM-DD."""
WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class CalendarDataMissing(LookupError):
    """No official holiday/调休 data for a year: a working-day deadline cannot be computed."""

    def __init__(self, year: int, covered: str, override_file: Path | None) -> None:
        self.year = year
        target = override_file or DEFAULT_OVERRIDE_FILE
        super().__init__(
            f"没有 {year} 年的节假日/调休数据（已覆盖 {covered}）：请把国务院办公厅 {year} 年"
            f"部分节假日安排的通知加入 {target} "
            f"(no official holiday data for {year}; "
            "add the State Council notice to the override file)"
        )


@dataclass(frozen=True)
class Deadline:
    """A computed period (期限) with everything needed to store, show and recompute it."""

    kind: DeadlineKind
    start: date
    amount: int
    last_day: date
    due_at: datetime
    provisional: bool
    data_version: str
    explanation: str
    extended: bool = False  # a calendar-day period whose last day moves to the next working day (days only)

    def __post_init__(self) -> None:
        if self.kind not in DEADLINE_KINDS:
            raise ValueError(f"unknown deadline kind {self.kind!r}")
        if self.due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible representation (dates and datetimes as ISO strings)."""
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["last_day"] = self.last_day.isoformat()
        data["due_at"] = self.due_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deadline:
        """Inverse of :meth:`to_dict`."""
        return cls(
            kind=data["kind"],
            start=date.fromisoformat(data["start"]),
            amount=int(data["amount"]),
            last_day=date.fromisoformat(data["last_day"]),
            due_at=datetime.fromisoformat(data["due_at"]),
            provisional=bool(data["provisional"]),
            data_version=data["data_version"],
            explanation=data["explanation"],
            extended=bool(data.get("extended", False)),
        )


@dataclass(frozen=True)
class _Day:
    """Classification of one date."""

    day: date
    workday: bool
    kind: Literal["normal", "weekend", "holiday", "adjusted_workday"]
    name: str | None
    provisional: bool


@dataclass(frozen=True)
class _Entry:
    """One entry of the holiday table: an official day off or an adjusted working day."""

    workday: bool
    name: str


def to_local_date(value: DateLike) -> date:
    """Calendar date in China Standard Time of a date, datetime or ISO string.

    Aware datetimes are converted to Asia/Shanghai; naive ones are taken as Asia/Shanghai.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"not an ISO date or datetime: {value!r}") from exc
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CHINA_TZ)
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(
        f"expected a date, datetime or ISO string, got {type(value).__name__}"
    )


def end_of_day(day: date) -> datetime:
    """24:00 China Standard Time of ``day`` (= 00:00 of the next day)."""
    return datetime.combine(day + ONE_DAY, time(0), tzinfo=CHINA_TZ)


def display_moment(moment: datetime) -> str:
    """A moment something happened (立案, 办理, 导入 …) as officials read it, China Standard Time to the minute:
    midnight reads as 00:00 of its own day. A deadline reads with :func:`display_deadline`."""
    return f"{moment.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"


def display_deadline(moment: datetime) -> str:
    """A deadline (期限, 期满) as officials read it, China Standard Time; at midnight it reads as 24:00 of the day
    before (期限截止于当日24时), the inverse of end_of_day."""
    local = moment.astimezone(CHINA_TZ)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{local - ONE_DAY:%Y-%m-%d} 24:00"
    return display_moment(local)


def _last_day_of_month(year: int, month: int) -> int:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - ONE_DAY).day


def months_before(day: date, months: int) -> date:
    """The corresponding day ``months`` calendar months before ``day`` (or that month's last day)."""
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, min(day.day, _last_day_of_month(year, month)))


def _check_amount(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(
            f"the number of days/months must be a positive integer, got {n!r}"
        )
    return n


def _format_years(years: Iterable[int]) -> str:
    """2004–2026、2030 style summary of a set of years."""
    ordered = sorted(years)
    if not ordered:
        return "无"
    runs: list[tuple[int, int]] = []
    for year in ordered:
        if runs and year == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], year)
        else:
            runs.append((year, year))
    return "、".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


class OverrideInvalid(ValueError):
    """The override file (覆盖文件) breaks a rule: ``detail`` says which and what to change (without the file name),
    ``year``, ``field`` (``holidays``/``workdays``/``source``) and ``day`` locate it when known."""

    def __init__(self, path: Path, detail: str, year: int | None = None, field: str | None = None,
                 day: date | None = None) -> None:
        self.path, self.detail, self.year, self.field, self.day = path, detail, year, field, day
        super().__init__(f"{path}: {detail}")


class _OverrideLoader:
    """Parses and validates the override file; errors name the file, the year and the date.

    ``raw`` validates a document before it is written (the rules are the same as when it is read)."""

    def __init__(self, path: Path, raw: bytes | None = None) -> None:
        self.path = path
        self.raw = path.read_bytes() if raw is None else raw

    def fail(self, message: str, year: int | None = None, field: str | None = None,
             day: date | None = None) -> OverrideInvalid:
        return OverrideInvalid(self.path, message, year, field, day)

    def load(self) -> tuple[dict[int, dict[date, _Entry]], dict[int, str]]:
        try:
            data = json.loads(self.raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.fail(f"不是有效的 UTF-8 JSON 文件：{exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("years"), dict):
            raise self.fail('顶层必须是对象并包含 "years" 对象')
        tables: dict[int, dict[date, _Entry]] = {}
        sources: dict[int, str] = {}
        for key, spec in data["years"].items():
            year = self._year(key)
            tables[year], sources[year] = self._year_table(year, spec)
        self._check_cross_year_conflicts(tables)
        return tables, sources

    def _year(self, key: str) -> int:
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4):
            raise self.fail(f"年份 {key!r} 不是四位数字")
        return int(key)

    def _year_table(self, year: int, spec: Any) -> tuple[dict[date, _Entry], str]:
        if not isinstance(spec, dict):
            raise self.fail(f"年份 {year}：必须是对象")
        unknown = {k for k in spec if not k.startswith("_")} - {
            "source",
            "holidays",
            "workdays",
        }
        if unknown:
            raise self.fail(f"年份 {year}：未知字段 {sorted(unknown)}")
        source = spec.get("source")
        if not isinstance(source, str) or not source.strip():
            raise self.fail(f"年份 {year}：缺少 source（通知文号或网址）", year, "source")
        off = self._days(year, spec, "holidays", "节假日")
        work = self._days(year, spec, "workdays", "调休上班")
        both = sorted(set(off) & set(work))
        if both:
            raise self.fail(f"年份 {year}：日期 {both[0]} 同时列为休息日和调休上班日", year, "workdays", both[0])
        table = {d: _Entry(False, name) for d, name in off.items()}
        table.update({d: _Entry(True, name) for d, name in work.items()})
        return table, source.strip()

    def _days(
        self, year: int, spec: dict[str, Any], field: str, default_name: str
    ) -> dict[date, str]:
        if field not in spec:
            raise self.fail(f"年份 {year}：缺少 {field}（没有时写 {{}}）", year, field)
        raw = spec[field]
        if isinstance(raw, list):
            raw = {item: default_name for item in raw}
        if not isinstance(raw, dict):
            raise self.fail(f"年份 {year}：{field} 必须是 {{日期: 名称}} 对象", year, field)
        days: dict[date, str] = {}
        for text, name in raw.items():
            day = self._date(year, field, text)
            if not isinstance(name, str) or not name.strip():
                raise self.fail(
                    f"年份 {year}：{field} 中日期 {text} 的名称必须是非空字符串", year, field, day
                )
            if field == "workdays" and day.weekday() < 5:
                log.warning(
                    "%s: year %s: adjusted working day %s is already a weekday",
                    self.path,
                    year,
                    day,
                )
            days[day] = name.strip()
        return days

    def _date(self, year: int, field: str, text: Any) -> date:
        try:
            day = date.fromisoformat(text)
        except (TypeError, ValueError) as exc:
            raise self.fail(
                f"年份 {year}：{field} 中的“{text}”不是日期（{DATE_FORMAT}）", year, field
            ) from exc
        if abs(day.year - year) > 1:
            raise self.fail(
                f"年份 {year}：{field} 中的日期 {day} 不在 {year - 1}–{year + 1} 年内", year, field, day
            )
        return day

    def _check_cross_year_conflicts(
        self, tables: dict[int, dict[date, _Entry]]
    ) -> None:
        seen: dict[date, tuple[int, bool]] = {}
        for year in sorted(tables):
            for day, entry in tables[year].items():
                if day in seen and seen[day][1] != entry.workday:
                    raise self.fail(
                        f"年份 {year}：日期 {day} 与 {seen[day][0]} 年的安排矛盾（一个休息，一个上班）",
                        year, "workdays" if entry.workday else "holidays", day,
                    )
                seen[day] = (year, entry.workday)


def _override_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:12]


def data_version_of(override_hash: str | None) -> str:
    """The data version (数据版本) of the package with an override file of that hash (None: no file)."""
    version = f"chinesecalendar {chinese_calendar.__version__}"
    if override_hash is not None:
        version += f" + override sha256:{override_hash}"
    return version


def file_data_version(raw: bytes | None) -> str:
    """The data version a calendar reading an override file with these bytes has (None: no file)."""
    return data_version_of(None if raw is None else _override_hash(raw))


def validate_override(path: Path, raw: bytes) -> tuple[dict[int, dict[date, bool]], str]:
    """Check the bytes of an override file before they are written, by the rules a calendar reads it with:
    ({year: {day: is a working day}}, the data version it will give); raises :class:`OverrideInvalid`."""
    tables, _ = _OverrideLoader(path, raw).load()
    days = {year: {day: entry.workday for day, entry in table.items()} for year, table in tables.items()}
    return days, file_data_version(raw)


class WorkCalendar:
    """Chinese official working-day calendar (工作日 = Mon–Fri minus holidays plus 调休 working days)."""

    def __init__(
        self,
        override_file: Path | str | None = None,
        provisional_from: tuple[int, int] = (12, 25),
    ) -> None:
        date(2001, *provisional_from)  # validates month/day (a non-leap year: no 02-29)
        self.provisional_from = provisional_from
        self.override_file = Path(override_file) if override_file is not None else None
        self._table: dict[date, _Entry] = {}
        self._years: set[int] = set()
        self.sources: dict[int, str] = {}
        self._override_hash: str | None = None
        self._load_package()
        if self.override_file is not None:
            self._load_override(self.override_file)

    # -- loading -----------------------------------------------------------------------------
    def _load_package(self) -> None:
        # Copy into our own table: the package's dicts are module globals, never mutate them.
        for day, name in chinese_calendar.holidays.items():
            self._table[day] = _Entry(False, _PACKAGE_NAMES_ZH.get(name, name))
        for day, name in chinese_calendar.workdays.items():
            self._table[day] = _Entry(
                True, f"{_PACKAGE_NAMES_ZH.get(name, name)}调休上班"
            )
        # Every year with official data has at least one holiday (Spring Festival).
        self._years = {day.year for day in chinese_calendar.holidays}
        self.sources = {
            year: f"chinesecalendar {chinese_calendar.__version__}"
            for year in self._years
        }

    def _load_override(self, path: Path) -> None:
        loader = _OverrideLoader(path)
        tables, sources = loader.load()
        for year in sorted(tables):  # a year in the file replaces that year entirely
            self._table = {d: e for d, e in self._table.items() if d.year != year}
            self._table.update(tables[year])
            self._years.add(year)
            self.sources[year] = f"{path.name}: {sources[year]}"
        self._override_hash = _override_hash(loader.raw)
        log.info(
            "calendar override %s loaded (years %s)",
            path,
            _format_years(tables) if tables else "none",
        )

    # -- coverage ----------------------------------------------------------------------------
    @property
    def data_version(self) -> str:
        """Package version plus a hash of the override file, stored with every deadline."""
        return data_version_of(self._override_hash)

    def covered_years(self) -> tuple[int, int]:
        """(first, last) year with official data (gaps possible if the override adds a far year)."""
        return min(self._years), max(self._years)

    def has_year(self, year: int) -> bool:
        """True if holiday/调休 data for ``year`` is loaded."""
        return year in self._years

    def describe_coverage(self) -> str:
        """Covered years as text, e.g. ``2004–2026``."""
        return _format_years(self._years)

    def missing_years(self, today: date) -> list[int]:
        """The years whose data is due but not loaded: this year if missing; next year too once November has
        begun (the State Council publishes its arrangement around then)."""
        years = [today.year] if not self.has_year(today.year) else []
        if today >= date(today.year, 11, 1) and not self.has_year(today.year + 1):
            years.append(today.year + 1)
        return years

    def missing_data_warnings(self, today: date) -> list[str]:
        """A warning in Chinese for each of :meth:`missing_years`: what is refused, what to add, and where."""
        target = self.override_file or "覆盖文件"
        return [f"今天是 {today}，还没有 {year} 年的节假日/调休数据：国务院办公厅通知公布后请加入 {target}，"
                f"否则用到 {year} 年日期的工作日期限会被拒绝计算（办理会被拒绝），{year - 1} 年 "
                f"{self.provisional_from[0]} 月 {self.provisional_from[1]} 日以后的期限为暂定。"
                for year in self.missing_years(today)]

    # -- classification ----------------------------------------------------------------------
    def _classify(self, day: date) -> _Day:
        if day.year not in self._years:
            raise CalendarDataMissing(
                day.year, self.describe_coverage(), self.override_file
            )
        provisional = self.is_provisional(day)
        entry = self._table.get(day)
        if entry is not None:
            kind = "adjusted_workday" if entry.workday else "holiday"
            return _Day(day, entry.workday, kind, entry.name, provisional)
        if day.weekday() >= 5:
            return _Day(day, False, "weekend", None, provisional)
        return _Day(day, True, "normal", None, provisional)

    def is_provisional(self, day: DateLike) -> bool:
        """True if ``day`` may still change with next year's notice (cross-year 调休), not loaded yet."""
        day = to_local_date(day)
        late = day >= date(day.year, *self.provisional_from)
        return late and day.year in self._years and day.year + 1 not in self._years

    def is_workday(self, day: DateLike) -> bool:
        """True for a working day; raises CalendarDataMissing for a year without data."""
        return self._classify(to_local_date(day)).workday

    def holiday_name(self, day: DateLike) -> str | None:
        """Name of an official day off, ``"<节日>调休上班"`` for an adjusted working day, else None."""
        return self._classify(to_local_date(day)).name

    # -- periods -----------------------------------------------------------------------------
    def add_working_days(self, start: DateLike, n: int) -> Deadline:
        """The n-th working day after ``start`` (start not counted, 开始的当日不计入)."""
        start, n = to_local_date(start), _check_amount(n)
        walked: list[_Day] = []
        day, counted = start, 0
        while counted < n:
            day += ONE_DAY
            info = self._classify(day)
            walked.append(info)
            if info.workday:
                counted += 1
        provisional = any(info.provisional for info in walked)
        text = f"自 {start} 起 {n} 个工作日（起始日不计入），截止 {day} 24:00：{_walk_summary(start, walked)}"
        return self._deadline("working_days", start, n, day, provisional, text)

    def add_days(
        self, start: DateLike, n: int, extend_over_holidays: bool = False
    ) -> Deadline:
        """Calendar-day period: last day = start + n (start not counted).

        Without ``extend_over_holidays`` no holiday data is needed (works for any year). With it,
        a last day that is not a working day moves to the next working day (民法典第二百零三条).
        """
        start, n = to_local_date(start), _check_amount(n)
        nominal = start + timedelta(days=n)
        text = f"自 {start} 起 {n} 天（自然日，起始日不计入），最后一日 {nominal}"
        if not extend_over_holidays:
            text += f"（节假日不顺延），截止 {nominal} 24:00（即 {nominal + ONE_DAY} 00:00）。"
            return self._deadline("days", start, n, nominal, False, text)
        last, walked = self._next_workday(nominal)
        if last == nominal:
            text += f"，是工作日，无需顺延，截止 {last} 24:00。"
        else:
            text += f" 为{_describe_rest_day(walked[0])}，顺延至下一个工作日 {last}，截止 {last} 24:00。"
        provisional = any(info.provisional for info in walked)
        return self._deadline("days", start, n, last, provisional, text, extended=True)

    def _next_workday(self, day: date) -> tuple[date, list[_Day]]:
        walked = [self._classify(day)]
        while not walked[-1].workday:
            day += ONE_DAY
            walked.append(self._classify(day))
        return day, walked

    def add_months(self, start: DateLike, n: int) -> Deadline:
        """Calendar-month period: the corresponding day n months later, or that month's last day."""
        start, n = to_local_date(start), _check_amount(n)
        months = start.month - 1 + n
        year, month = start.year + months // 12, months % 12 + 1
        month_end = _last_day_of_month(year, month)
        last = date(year, month, min(start.day, month_end))
        text = f"自 {start} 起 {n} 个月（起始日不计入，到期月的对应日为最后一日"
        if start.day > month_end:
            text += f"；{year}-{month:02d} 没有 {start.day} 日，取月末"
        text += f"），截止 {last} 24:00（节假日不顺延）。"
        return self._deadline("months", start, n, last, False, text)

    def monthly_deadline(self, year: int, month: int, day: int) -> Deadline:
        """Monthly deadline "每月 N 日前" of ``year``-``month``; a missing day becomes the month end."""
        if not 1 <= day <= 31:
            raise ValueError(f"day of month must be 1..31, got {day!r}")
        first = date(year, month, 1)
        month_end = _last_day_of_month(year, month)
        last = date(year, month, min(day, month_end))
        text = f"每月 {day} 日前：{year}-{month:02d} 的期限为 {last}"
        if day > month_end:
            text += f"（该月没有 {day} 日，取月末）"
        text += f"，截止 {last} 24:00（节假日不顺延）。"
        return self._deadline("monthly_day", first, day, last, False, text)

    def yearly_deadline(self, year: int, month: int, day: int) -> Deadline:
        """Yearly deadline "每年 M 月 D 日前" of ``year`` (a fixed date once a year, e.g. 004's 12 月 8 日前);
        29 February becomes the 28th in a common year. Kept like a monthly one: start the 1st of ``month``,
        amount ``day``."""
        if not 1 <= month <= 12 or not 1 <= day <= 31:
            raise ValueError(f"month must be 1..12 and day 1..31, got {month!r}-{day!r}")
        month_end = _last_day_of_month(year, month)
        if day > month_end and not (month == 2 and day == 29):
            raise ValueError(f"{month}-{day} is not a day of any year")
        last = date(year, month, min(day, month_end))
        text = f"每年 {month} 月 {day} 日前：{year} 年的期限为 {last}"
        if day > month_end:
            text += f"（{year} 年 2 月没有 29 日，取 2 月 28 日）"
        text += f"，截止 {last} 24:00（节假日不顺延）。"
        return self._deadline("yearly_day", date(year, month, 1), day, last, False, text)

    def _deadline(
        self,
        kind: DeadlineKind,
        start: date,
        amount: int,
        last: date,
        provisional: bool,
        text: str,
        extended: bool = False,
    ) -> Deadline:
        if provisional:
            # provisional days lie in a covered year whose successor is not loaded
            next_year = last.year + 1
            text += (
                f"暂定：{next_year} 年安排公布后可能变化（计算用到了 {next_year - 1} 年 "
                f"{self.provisional_from[0]} 月 {self.provisional_from[1]} 日及以后的日期，"
                f"而国务院办公厅 {next_year} 年节假日安排尚未加载，可能带来跨年调休）。"
            )
        return Deadline(
            kind,
            start,
            amount,
            last,
            end_of_day(last),
            provisional,
            self.data_version,
            text,
            extended,
        )


def _fmt(day: date, ref_year: int) -> str:
    return day.strftime("%m-%d") if day.year == ref_year else day.isoformat()


def _describe_rest_day(info: _Day) -> str:
    if info.kind == "holiday":
        return _holiday_label(info.name or "节假日")
    return f"周末（{WEEKDAYS_ZH[info.day.weekday()]}）"


def _holiday_label(name: str) -> str:
    return name if name.endswith(("假期", "假")) else f"{name}假期"


def _holiday_runs(walked: list[_Day], ref_year: int) -> list[str]:
    """Consecutive official days off with the same name, e.g. ``10-01…10-07 国庆节假期``."""
    runs: list[list[_Day]] = []
    for info in walked:
        if info.kind != "holiday":
            continue
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and last.name == info.name
            and info.day - last.day == ONE_DAY
        ):
            runs[-1].append(info)
        else:
            runs.append([info])
    labels = []
    for run in runs:
        first, last = _fmt(run[0].day, ref_year), _fmt(run[-1].day, ref_year)
        span = first if len(run) == 1 else f"{first}…{last}"
        labels.append(f"{span} {_holiday_label(run[0].name or '节假日')}")
    return labels


def _walk_summary(start: date, walked: list[_Day]) -> str:
    """Chinese summary of skipped holidays, weekends and counted 调休 days of a working-day walk."""
    ref_year = start.year if all(info.day.year == start.year for info in walked) else 0
    parts = []
    holidays = _holiday_runs(walked, ref_year)
    if holidays:
        parts.append("跳过 " + "、".join(holidays))
    weekends = sum(info.kind == "weekend" for info in walked)
    if weekends:
        parts.append(f"跳过周末 {weekends} 天")
    adjusted = [
        f"{_fmt(info.day, ref_year)}（{WEEKDAYS_ZH[info.day.weekday()]}，调休上班）"
        for info in walked
        if info.kind == "adjusted_workday"
    ]
    if adjusted:
        parts.append("计入 " + "、".join(adjusted))
    if not holidays and not adjusted:
        parts.append("期间没有节假日或调休")
    return "，".join(parts) + "。"


_default: WorkCalendar | None = None
_default_stamp: tuple | None = None  # the override file as it was when _default read it
_default_lock = threading.Lock()


def _file_stamp(path: Path | None) -> tuple | None:
    if path is None:
        return None
    try:
        info = path.stat()
    except FileNotFoundError:
        return (str(path), None)
    return (str(path), info.st_mtime_ns, info.st_size, info.st_ino)


def default_calendar() -> WorkCalendar:
    """The process-wide calendar, read again when its override file has changed (so that every process — web
    workers, the scheduler — uses a year an administrator added without a restart).

    Its override file is $FANGPIN_CALENDAR_OVERRIDE if set, else timers/calendar_override.json.
    """
    global _default, _default_stamp
    with _default_lock:
        path = _default_override_path()
        stamp = _file_stamp(path)
        if _default is None or stamp != _default_stamp:  # edited since it was read (by any process): read again
            _default, _default_stamp = WorkCalendar(path), stamp
            log.info(
                "working-day calendar loaded: years %s, %s",
                _default.describe_coverage(),
                _default.data_version,
            )
        return _default


def _default_override_path() -> Path | None:
    configured = os.environ.get(OVERRIDE_ENV_VAR)
    if configured:
        return Path(configured)  # must exist: a configured but missing file is an error
    if DEFAULT_OVERRIDE_FILE.is_file():
        return DEFAULT_OVERRIDE_FILE
    log.warning(
        "calendar override file %s not found: using package data only",
        DEFAULT_OVERRIDE_FILE,
    )
    return None


def reset_default_calendar() -> None:
    """Forget the cached default calendar (tests; after editing the override file)."""
    global _default, _default_stamp
    with _default_lock:
        _default, _default_stamp = None, None
