"""Reading a department's warning data (预警数据文件): CSV (UTF-8, with or without BOM), Excel (.xlsx) or a
JSON list, into numbered rows of raw values. Only the shape is checked here (readable file, known columns);
the rows themselves are validated by :mod:`engine.warnings.procedure`, all of them, before anything is stored."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.core import spreadsheets
from engine.core.errors import FormInvalid
from engine.core.vocabulary import WarningSource

FORM = "warning_batch"
FILE_FIELD = "文件"
MAX_ROWS = 10000
COLUMNS: dict[str, tuple[str, ...]] = {  # field → accepted header names (case-insensitive)
    "name": ("name", "姓名"),
    "id_number": ("id_number", "身份证号", "身份证号码", "公民身份号码"),
    "indicator": ("indicator", "预警指标", "指标"),
    "amount": ("amount", "金额", "金额（元）", "金额(元)"),
    "village": ("village", "village_code", "村代码", "村编码", "村级代码"),
    "date": ("date", "日期", "发生日期"),
}
REQUIRED_COLUMNS = ("name", "id_number", "indicator", "date")
TEMPLATE_HEADER = ("姓名", "身份证号", "预警指标", "金额", "村代码", "日期")


@dataclass(frozen=True)
class RawRow:
    """One data row as read, with its line number in the file (the header is line 1)."""

    line: int
    values: dict[str, Any]


def read_upload(file_name: str, data: bytes) -> tuple[str, list[RawRow]]:
    """(source, rows) of an uploaded file, chosen by its extension: ``.csv`` or ``.xlsx``."""
    try:
        kind = spreadsheets.kind_of(file_name)
    except spreadsheets.UnreadableFile as exc:
        raise FormInvalid(FORM, [(FILE_FIELD, str(exc))]) from exc
    return (WarningSource.CSV if kind == spreadsheets.CSV else WarningSource.XLSX), _read(file_name, data)


def read_csv(data: bytes) -> list[RawRow]:
    """Rows of a UTF-8 CSV file (a byte-order mark is dropped)."""
    return _read("rows.csv", data)


def read_xlsx(data: bytes) -> list[RawRow]:
    """Rows of the first sheet of an Excel workbook (cell values as stored: numbers, dates, text)."""
    return _read("rows.xlsx", data)


def _read(file_name: str, data: bytes) -> list[RawRow]:
    try:
        return _rows(list(spreadsheets.records(file_name, data)))
    except spreadsheets.UnreadableFile as exc:
        raise FormInvalid(FORM, [(FILE_FIELD, str(exc))]) from exc


def read_json(items: Any) -> list[RawRow]:
    """Rows of a JSON list of objects keyed by the field names (row numbers count from 1)."""
    if not isinstance(items, list):
        raise FormInvalid(FORM, [("rows", "应为对象列表")])
    problems = [(f"第 {i} 行", "应为对象") for i, item in enumerate(items, 1) if not isinstance(item, dict)]
    if problems:
        raise FormInvalid(FORM, problems)
    rows = [RawRow(i, {field: _first(item, names) for field, names in COLUMNS.items()})
            for i, item in enumerate(items, 1)]
    return _checked_count(rows)


def _first(item: dict, names: tuple[str, ...]) -> Any:
    return next((item[n] for n in names if n in item), None)


def _rows(records: list[tuple[int, list[Any]]]) -> list[RawRow]:
    records = [(line, cells) for line, cells in records if not spreadsheets.blank(cells)]
    if not records:
        raise FormInvalid(FORM, [(FILE_FIELD, "文件是空的：第 1 行应为表头（姓名、身份证号、预警指标、金额、村代码、日期）")])
    header_line, header = records[0]
    columns = _columns(header_line, header)
    rows = [RawRow(line, {field: cells[i] if i < len(cells) else None for field, i in columns.items()})
            for line, cells in records[1:]]
    return _checked_count(rows)


def _columns(line: int, header: list[Any]) -> dict[str, int]:
    """field → column index, from the header row; refused if a required column is missing or doubled."""
    names = [str(cell).strip().lower() if cell is not None else "" for cell in header]
    found: dict[str, int] = {}
    problems = []
    for field, accepted in COLUMNS.items():
        hits = [i for i, name in enumerate(names) if name in {a.lower() for a in accepted}]
        if len(hits) > 1:
            problems.append((f"第 {line} 行", f"列“{accepted[1]}”出现了 {len(hits)} 次"))
        elif hits:
            found[field] = hits[0]
    missing = [COLUMNS[f][1] for f in REQUIRED_COLUMNS if f not in found]
    if missing:
        problems.append((f"第 {line} 行", f"表头缺少列：{'、'.join(missing)}（应为：{'、'.join(TEMPLATE_HEADER)}）"))
    if problems:
        raise FormInvalid(FORM, problems)
    return found


def _checked_count(rows: list[RawRow]) -> list[RawRow]:
    if not rows:
        raise FormInvalid(FORM, [(FILE_FIELD, "没有数据行")])
    if len(rows) > MAX_ROWS:
        raise FormInvalid(FORM, [(FILE_FIELD, f"一次最多导入 {MAX_ROWS} 行，本文件有 {len(rows)} 行，请分批推送")])
    return rows


def template_csv(indicator: str = "年度累计自付医疗费用（经基本医保、大病保险、医疗救助三重保障后）",
                 amount: Decimal | None = Decimal("25000.00")) -> bytes:
    """A CSV template with the header and one example row (UTF-8 with BOM, so that Excel opens it right): the
    indicator by its Chinese name, as the department officer writes it (the code is accepted too), and an amount
    that is a warning (none for an indicator without thresholds)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(("张三", "360702198001010016", indicator, f"{amount:.2f}" if amount is not None else "",
                     "360702101201", "2026-09-10"))
    return out.getvalue().encode("utf-8-sig")
