"""An administrator enters next year's holiday arrangement (录入节假日安排) of the State Council General Office: the
calendar (timers.calendar_years) parses, validates and writes it; here it is audited, in the caller's transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.core import audit
from engine.core.db import undo_unless_committed
from engine.core.errors import FangpinError, FormInvalid
from engine.core.vocabulary import AuditAction
from timers import calendar_years
from timers.calendar_years import OverrideNotWritable, YearEntryInvalid, YearText

FORM = "录入下一年节假日安排"
ACTION = AuditAction.CALENDAR_YEAR_SAVED.value


class CalendarFileUnwritable(FangpinError):
    """The override file cannot be written on this installation; nothing was saved."""


@dataclass(frozen=True)
class SavedYear:
    """A year written to the override file."""

    year: int
    days_off: int
    working_days: int
    data_version: str

    def summary(self) -> str:
        return (f"已保存 {self.year} 年节假日安排：放假 {self.days_off} 天，调休上班 {self.working_days} 天"
                f"（数据版本 {self.data_version}）。各进程自动使用新数据；请用下方按钮重新计算本辖区的暂定期限。")


def save_calendar_year(actor: str, now: datetime, year: str, source: str, holidays: str, workdays: str,
                       seen_version: str | None = None) -> SavedYear:
    """Write ``year``'s arrangement to the override file and audit it (``calendar_year_saved``), inside the caller's
    transaction; ``seen_version`` is the data version the form was shown with (refused if the file changed since).
    Raises :class:`FormInvalid` (each field's error, nothing written) or :class:`CalendarFileUnwritable`."""
    try:
        prepared = calendar_years.prepare_year(year, source, holidays, workdays, seen_version=seen_version)
    except YearEntryInvalid as exc:
        raise FormInvalid(FORM, exc.errors) from exc
    audit.record(now, actor, ACTION, year=prepared.year, source=prepared.source, days_off=prepared.days_off,
                 working_days=prepared.working_days, data_version=prepared.data_version, file=str(prepared.path))
    try:
        calendar_years.install(prepared)  # last: an error here rolls the audit entry back with the transaction
    except OverrideNotWritable as exc:
        raise CalendarFileUnwritable(str(exc)) from exc
    undo_unless_committed(lambda: calendar_years.put_back(prepared))  # the audit entry not committed: file as it was
    return SavedYear(prepared.year, prepared.days_off, prepared.working_days, prepared.data_version)


def year_form(year: int | None) -> YearText:
    """What the form shows: ``year`` as saved in the override file (to correct it), else an empty form for the first
    year without data. A year that may not be entered gives the empty form of the first one."""
    allowed = calendar_years.allowed_years()
    if year in allowed:
        saved = calendar_years.year_text(year)
        if saved is not None:
            return saved
    return YearText(calendar_years.first_uncovered_year(), "", "", "")

