"""The monitoring ledger (监测台账, 000 §7(三)): per monitored household of a jurisdiction — date included,
family situation, risk, responsible person, measures, effect, elimination — as rows, an Excel workbook
(openpyxl) and a CSV file (UTF-8 with BOM, so that Excel shows Chinese correctly). Kept at county,
township and village level; contains no ID numbers or phone numbers."""
from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import or_

from engine.core.models import Household, Jurisdiction, load_ancestors
from engine.core.vocabulary import EliminationMode, HouseholdStatus
from engine.households.guarantees import guarantee_problems
from engine.households.poverty_policy import status_label
from engine.households.records import (
    category_name,
    figures,
    households_in,
    latest_incomes,
    latest_revisits,
    place_names,
    plan_summaries,
    revisit_text,
    risk_text,
    yes_no,
)

HEADERS = (
    "序号", "户编号", "乡镇（街道）", "村", "组", "户主", "家庭人口数", "监测对象类别", "是否脱贫户", "兜底保障户",
    "纳入监测日期", "风险类型", "三保障和饮水安全问题", "人均纯收入（A34，元）", "人均收入参考范围（A38，元）",
    "收入计算区间", "帮扶责任人", "帮扶措施", "帮扶成效", "监测状态", "风险消除方式", "风险消除日期",
)  # fmt: skip
WIDTHS = (6, 18, 12, 12, 8, 10, 8, 14, 8, 8, 12, 18, 18, 12, 12, 24, 10, 36, 16, 16, 10, 12)


@dataclass(frozen=True)
class LedgerRow:
    """One household of the ledger, in the order of :data:`HEADERS`."""

    number: int
    household_number: str
    township: str
    village: str
    group: str
    head: str
    size: int
    category: str
    formerly_poor: str
    social_guarantee: str
    identified_on: date | None
    risks: str
    guarantee_problems: str
    net_income_per_capita: Decimal | None
    income_reference_per_capita: Decimal | None
    income_window: str
    responsible_person: str
    measures: str
    effect: str
    status: str
    elimination_mode: str
    elimination_date: date | None
    household_id: int = 0  # for links; not exported

    def values(self) -> tuple:
        return astuple(self)[: len(HEADERS)]


def _guarantee_problems(household: Household) -> str:
    return "、".join(problem.label for problem in guarantee_problems(household))


def _status(household: Household) -> str:
    label = HouseholdStatus.label_of(household.status)
    if household.status == HouseholdStatus.KEY_ATTENTION and household.attention_since:
        return f"{label}（{household.attention_since}起：{household.attention_reason or ''}）"
    return label


def ledger_rows(place: Jurisdiction) -> list[LedgerRow]:
    """Every household at or below ``place`` ever identified as monitored (still monitored or eliminated), and the
    key-attention ones (重点关注, with since when and why)."""
    households = households_in(place, or_(Household.identified_on.is_not(None),
                                          Household.status == HouseholdStatus.KEY_ATTENTION.value))
    ids = [h.id for h in households]
    plans, incomes, revisits = plan_summaries(ids), latest_incomes(ids), latest_revisits(ids)
    load_ancestors({h.village for h in households})  # their townships: one statement, not one per village
    rows = []
    for number, h in enumerate(households, start=1):
        plan, record = plans.get(h.id), incomes.get(h.id)
        income = figures(record)
        township, village = place_names(h.village)
        rows.append(LedgerRow(
            number=number, household_number=h.number, township=township, village=village, group=h.group_name or "",
            head=h.head.name if h.head else "", size=h.size, category=category_name(h.category),
            formerly_poor=status_label(h), social_guarantee=yes_no(h.social_guarantee),
            identified_on=h.identified_on, risks=risk_text(h.risk_types),
            guarantee_problems=_guarantee_problems(h),
            net_income_per_capita=income.net_income_per_capita if income else None,
            income_reference_per_capita=income.income_reference_per_capita if income else None,
            income_window=f"{record.window_start} 至 {record.window_end}" if record else "",
            responsible_person=h.responsible_person or (plan.responsible_person if plan else "") or "",
            measures=plan.measures_text if plan else "", effect=revisit_text(revisits.get(h.id)),
            status=_status(h),
            elimination_mode=EliminationMode.label_of(h.elimination_mode), elimination_date=h.elimination_date,
            household_id=h.id,
        ))
    return rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def ledger_table(rows: list[LedgerRow]) -> list[list[str]]:
    """The rows as text, in the order of :data:`HEADERS`."""
    return [[_text(v) for v in row.values()] for row in rows]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what Excel and LibreOffice read as the start of a formula


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet evaluate this text (a name such as ``=HYPERLINK(…)``, ``+1``, ``@SUM(…)``)?"""
    return text.startswith(FORMULA_STARTS)


def safe_text(text: str) -> str:
    """Text for a CSV cell: a leading apostrophe keeps a spreadsheet from reading it as a formula (OWASP's
    advice against CSV injection); other text is unchanged."""
    return "'" + text if is_formula_like(text) else text


def _csv_cell(value: object) -> str:
    """Numbers and dates as they are (a negative income stays a number); text made safe."""
    text = _text(value)
    return safe_text(text) if isinstance(value, str) else text


def ledger_csv(rows: list[LedgerRow]) -> bytes:
    """The ledger as CSV, UTF-8 with a byte-order mark (Excel then reads the Chinese correctly). Every text cell
    that a spreadsheet would read as a formula starts with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows([_csv_cell(v) for v in row.values()] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _as_text_cells(sheet, row_index: int) -> None:
    """Every string cell of a sheet row stays a string: openpyxl would store ``=…`` as a formula; the cell is
    typed as text (shown with Excel's quote prefix), so the household's name is shown, never evaluated."""
    for cell in sheet[row_index]:
        if isinstance(cell.value, str) and (cell.data_type == "f" or is_formula_like(cell.value)):
            cell.data_type = "s"
            cell.quotePrefix = True


def ledger_title(place: Jurisdiction) -> str:
    return f"{place.full_name}防止返贫监测对象台账"


def ledger_xlsx(place: Jurisdiction, rows: list[LedgerRow], today: date) -> bytes:
    """The ledger as an Excel workbook: title, date, header row (frozen), one row per household."""
    book = Workbook()
    sheet = book.active
    sheet.title = "监测台账"
    sheet.append([ledger_title(place)])
    _as_text_cells(sheet, 1)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet["A1"].font, sheet["A1"].alignment = Font(bold=True, size=14), Alignment(horizontal="center")
    sheet.append([f"制表日期：{today.isoformat()}　共 {len(rows)} 户"])
    _as_text_cells(sheet, 2)
    sheet.append(list(HEADERS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EDF2")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row.values()])
        _as_text_cells(sheet, sheet.max_row)
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for column in ("K", "V"):  # dates
        for cell in sheet[column][3:]:
            cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A4"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
