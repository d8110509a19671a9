"""``fangpin calendar`` commands: compute a period (期限), check the calendar's coverage.

Exit code 2 when a working-day (工作日) computation reaches a year without holiday/调休 data.
"""

from __future__ import annotations

from datetime import date, datetime

import click

from timers.calendar import (
    CalendarDataMissing,
    Deadline,
    WorkCalendar,
    default_calendar,
    to_local_date,
)


def _parse_start(value: str) -> date:
    try:
        return to_local_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--from") from exc


def _calendar() -> WorkCalendar:
    """The default calendar; a broken or missing override file becomes a clean error (exit 1)."""
    try:
        return default_calendar()
    except (OSError, ValueError) as exc:
        raise click.ClickException(
            f"cannot load the working-day calendar: {exc}"
        ) from exc


@click.group("calendar")
def calendar_group() -> None:
    """Working-day calendar (工作日历): deadlines and holiday-data coverage."""


def _compute(
    start: date,
    working_days: int | None,
    days: int | None,
    months: int | None,
    extend: bool,
) -> Deadline:
    cal = _calendar()
    if working_days is not None:
        return cal.add_working_days(start, working_days)
    if days is not None:
        return cal.add_days(start, days, extend_over_holidays=extend)
    assert months is not None
    return cal.add_months(start, months)


@calendar_group.command("add")
@click.option(
    "--from", "start", required=True, help="Start date (not counted), e.g. 2026-09-25."
)
@click.option(
    "--working-days",
    type=click.IntRange(min=1),
    help="Number of working days (工作日).",
)
@click.option(
    "--days", type=click.IntRange(min=1), help="Number of calendar days (自然日)."
)
@click.option("--months", type=click.IntRange(min=1), help="Number of calendar months.")
@click.option(
    "--extend-over-holidays",
    is_flag=True,
    help="With --days: a last day that is not a working day moves to the next working day.",
)
def add_command(
    start: str,
    working_days: int | None,
    days: int | None,
    months: int | None,
    extend_over_holidays: bool,
) -> None:
    """Print the last day of a period (first line, ISO date) and how it was computed."""
    given = [
        name
        for name, value in (
            ("--working-days", working_days),
            ("--days", days),
            ("--months", months),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --working-days, --days, --months")
    if extend_over_holidays and days is None:
        raise click.UsageError("--extend-over-holidays only applies to --days")
    try:
        deadline = _compute(
            _parse_start(start), working_days, days, months, extend_over_holidays
        )
    except CalendarDataMissing as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2) from exc
    click.echo(deadline.last_day.isoformat())
    click.echo(deadline.explanation)
    click.echo(f"截止时刻 (due at): {deadline.due_at.isoformat()}")
    if deadline.provisional:
        click.echo(
            "provisional: 暂定结果，下一年的节假日安排公布并加入覆盖文件后须重新计算"
        )
    click.echo(f"数据版本 (data version): {deadline.data_version}")


@calendar_group.command("coverage")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Pretend today is this date (YYYY-MM-DD).",
)
def coverage_command(today: datetime | None) -> None:
    """Print the years with holiday/调休 data and warn when next year's data is due but missing."""
    cal = _calendar()
    current = today.date() if today is not None else date.today()
    click.echo(f"已覆盖年份 (covered years): {cal.describe_coverage()}")
    click.echo(f"数据版本 (data version): {cal.data_version}")
    click.echo(f"覆盖文件 (override file): {cal.override_file or '无 (none)'}")
    for year in sorted(cal.sources):
        if not cal.sources[year].startswith("chinesecalendar"):
            click.echo(f"  {year}: {cal.sources[year]}")
    for warning in cal.missing_data_warnings(current):
        click.echo(f"警告 (warning): {warning}", err=True)
