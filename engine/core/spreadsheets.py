"""Uploaded tables (表格文件): a CSV file in UTF-8 (with or without a byte-order mark) or GBK, or the first sheet of an
Excel workbook (.xlsx), read as numbered records of raw cell values — the line numbers an official sees in Excel (the
first line is 1). Only whether the file can be read is checked here; what its cells mean is the caller's (a
department's warning batch, a county's households)."""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from typing import Any

from engine.core.errors import FangpinError

log = logging.getLogger(__name__)

Record = tuple[int, list[Any]]  # (line number, cells)
CSV, XLSX = "csv", "xlsx"
KINDS = "CSV（UTF-8）或 Excel（.xlsx）文件"


class UnreadableFile(FangpinError):
    """The file cannot be read as a table (not CSV or .xlsx, neither UTF-8 nor GBK, a damaged workbook): the message
    says what to do."""


def kind_of(file_name: str | None) -> str:
    """``csv`` or ``xlsx`` by the file's extension; UnreadableFile for any other."""
    lower = (file_name or "").lower()
    if lower.endswith(".csv"):
        return CSV
    if lower.endswith(".xlsx"):
        return XLSX
    raise UnreadableFile(f"只接受 {KINDS}")


def records(file_name: str | None, data: bytes) -> Iterator[Record]:
    """The records of an uploaded file, chosen by its extension (:func:`kind_of`); read as they are iterated, so that
    a large file is never held twice. UnreadableFile if it cannot be read (raised before the first record)."""
    return csv_records(data) if kind_of(file_name) == CSV else xlsx_records(data)


def csv_records(data: bytes) -> Iterator[Record]:
    """Records of a CSV file in UTF-8 (a byte-order mark is dropped) or, when it is not UTF-8, in GBK — what Excel
    saves as “CSV（逗号分隔）” on a Chinese Windows (read as GB18030, which GBK is part of); a record spanning lines
    has its first line's number."""
    return _csv(decode_csv(data))


def decode_csv(data: bytes) -> str:
    """The text of a CSV file: UTF-8 if it is valid UTF-8 (a GBK text of Chinese almost never is), else GB18030;
    UnreadableFile if it is neither (UTF-16 “Unicode 文本”, a binary file)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("既不是 UTF-8 也不是 GBK 编码的文本：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新上传") from exc
    log.info("a CSV file that is not UTF-8 was read as GB18030 (GBK)")
    return text


def _csv(text: str) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableFile(f"第 {start} 行不是有效的 CSV：{exc}") from exc


def xlsx_records(data: bytes) -> Iterator[Record]:
    """Records of the first sheet of an Excel workbook (cell values as stored: numbers, dates, text)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        log.info("not an xlsx file: %s", exc)
        raise UnreadableFile("不是有效的 Excel（.xlsx）文件") from exc
    return _sheet(book)


def _sheet(book: Any) -> Iterator[Record]:
    try:
        for line, row in enumerate(book.worksheets[0].iter_rows(values_only=True), 1):
            yield line, list(row)
    finally:
        book.close()


def blank(cells: list[Any]) -> bool:
    """Is every cell of the record empty (a blank line, or one of spaces)?"""
    return all(cell is None or str(cell).strip() == "" for cell in cells)
