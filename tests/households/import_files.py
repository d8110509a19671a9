"""Import files for the tests of 农户批量导入 (engine, command line, pages): rows by column title, as CSV or .xlsx,
with ID numbers whose GB 11643 check character is right."""
from __future__ import annotations

import csv
import io
import itertools
from typing import Any

from engine.core.id_numbers import check_character

SHAHE, HUAPING = "360702101201", "360702101202"  # 沙河村, 华坪村 (章贡区沙河镇)
LONGKOU_VILLAGE = "370681104201"  # 诸由观村 (龙口市): outside 章贡区
_sequence = itertools.count(1)

VILLAGE, NUMBER, NAME, ID, RELATION, SEX = ("所在村（行政区划代码）", "户编号（留空自动生成）", "姓名（A5）", "身份证号（A7）",
                                          "与户主关系（A8）", "性别（A6）")
FORMERLY_POOR, PHONE, LIVES = "是否脱贫户（A4）", "联系电话（不公开）", "实际共同生活"
CATEGORY, IDENTIFIED_ON, RISKS = "监测对象类别（A3）", "识别纳入时间", "风险类型（A27）"
INDUSTRY, HEALTH, WATER = "产业帮扶（A39）", "健康帮扶（A45）", "饮水安全保障（A44）"  # measures' columns (A39–A52)
MEASURES_FROM, RESPONSIBLE = "帮扶措施落实时间", "帮扶责任人"
MEASURED = {INDUSTRY: "种植业", HEALTH: "医疗救助", MEASURES_FROM: "2025-03-10", RESPONSIBLE: "王帮扶"}
"""A monitored household's measures as the information form has them, in force from 2025-03-10."""


def id_number(born: str = "19800101") -> str:
    """A new ID number (of 章贡区) with its right check character."""
    body = f"360702{born}{next(_sequence) % 1000:03d}"
    return body + check_character(body)


def household(head: str, size: int = 3, village: str = SHAHE, **head_columns: Any) -> list[dict[str, Any]]:
    """The rows of one household: its head (with ``head_columns``) and ``size - 1`` other members."""
    rows = [{VILLAGE: village, NAME: head, ID: id_number(), RELATION: "户主", SEX: "男", **head_columns}]
    relations = ["配偶", "子", "女", "母亲", "其他"]
    rows += [{NAME: f"{head}家{i}", ID: id_number(f"20{10 + i:02d}0101"), RELATION: relations[(i - 1) % len(relations)]}
             for i in range(1, size)]
    return rows


def as_csv(rows: list[dict[str, Any]], header: list[str] | None = None) -> bytes:
    """UTF-8 with a byte-order mark, as Excel saves “CSV UTF-8”."""
    header = header or list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([row.get(column, "") for column in header] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    header = list(dict.fromkeys(key for row in rows for key in row))
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column) for column in header])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
