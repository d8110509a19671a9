"""农户批量导入 (bulk import of households with their members): a county starting with fangpin brings its households —
一般农户, 脱贫户 and the monitored households (监测对象) already identified in the national 防返贫监测信息系统 — from one
Excel (.xlsx) or UTF-8 CSV file, one row per member.

**Columns** (:func:`columns`): the registration form's fields by their titles (forms/register_household.json; the
information form's names and the titles without their brackets are read too), and for a household already
monitored 监测对象类别 (the category's name), 识别纳入时间 and 风险类型 (names separated by 、 or ,), and its
assistance measures as the information form has them — a column per category A39–A52 (policy/measures.json: the
items' names, or 是 for a category without items) — 帮扶措施落实时间 and 帮扶责任人. The template
(:func:`template_xlsx`) is made from the form, so that it never differs from it. Columns the file has beyond these
are not read (and said so).

**Households**: the rows of one 户编号 are a household, wherever they stand; a row without 户编号 belongs to the
household of the row above it, except a 户主 row, which starts a new household (its number made as a registration
makes it). A household's own columns are read from its head's row.

**Checked whole first** (:func:`prepare_import`), with the rules of one registration (engine.households.register:
the form's schema, exactly one head, the village a village of the official's jurisdiction), ID numbers once in the
file and not registered, household numbers given not taken, and for a monitored household a category only with
the day it was identified, that day not after today, risk types only with a category, measures (by the rules of an
assistance plan), the day they start (not before the identification, not after today) and a responsible person with
every category and only with one. Any problem, and nothing is written: every one is listed by row and column (the first :data:`MAX_LISTED`, and how many more), never with a full
ID or telephone number (engine.households.privacy).

**Written** (:func:`write_import`) in the caller's transaction, set-based: per :data:`CHUNK` households one INSERT of
the households (their keys returned), one of their members, one of their audit entries (``household_registered``
with the file; ``household_identified_outside`` for a monitored one: engine.households.outside), one of the monitored
ones' measures (as a plan's, without its case: engine.households.measures), after the villages' rows are taken (one import or registration per village at a time)."""
from __future__ import annotations

import functools
import heapq
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from engine.bpmn.forms import FormChecker, load_form
from engine.core import audit, spreadsheets
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import FangpinError, PermissionDenied
from engine.core.id_numbers import normalised
from engine.core.models import Household, Jurisdiction, Measure, Member, User
from engine.core.vocabulary import AuditAction, HouseholdCategory, HouseholdStatus
from engine.core.writes import insert_values, lock_rows
from engine.households.categories import NOT_FORMERLY_POOR, category_mismatch
from engine.households.measures import categories as measure_categories
from engine.households.measures import check_plan, measure_values
from engine.households.outside import IDENTIFIED_OUTSIDE
from engine.households.privacy import mask_numbers_in
from engine.households.records import form_catalogue, risk_labels
from engine.households.register import (
    HEAD,
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    REGISTRATION_FORM,
    member_problems,
    next_numbers,
    registered_id_numbers,
    taken_numbers,
    village_problem,
)
from engine.policy.permissions import require_may_register
from timers.calendar import DATE_FORMAT, to_local_date

log = logging.getLogger(__name__)

MAX_LISTED = 200  # problems listed; the others are counted
CHUNK = 5000  # households written per round of INSERTs
IMPORTED = AuditAction.HOUSEHOLDS_IMPORTED.value  # the import's own audit entry (file, counts)
HOUSEHOLD, MEMBER, MONITORING = "household", "member", "monitoring"
CATEGORY, IDENTIFIED_ON, RISK_TYPES = "category", "identified_on", "risk_types"
MEASURES_PREFIX, MEASURES_FROM, RESPONSIBLE = "measures_", "measures_started_on", "responsible_person"
TRUE_WORDS = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "有"})
FALSE_WORDS = frozenset({"否", "n", "no", "false", "0", "×", "✗", "无"})
DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
LIST_SEPARATORS = re.compile(r"[、,，;；]")
BRACKETS = re.compile(r"[（(][^（()）]*[)）]")
TEXT_COLUMNS = ("village", "number", "id_number", "contact_phone")  # kept as text in the template (leading zeros, X)


@dataclass(frozen=True)
class Column:
    """A column of the import file: a field of the registration form (a household's or a member's) or of the
    monitored household, with its schema node (its type and allowed values) and the header names read as it."""

    key: str
    title: str
    scope: str
    node: dict[str, Any]
    required: bool
    names: frozenset[str] = frozenset()

    @property
    def kind(self) -> str:
        """boolean, integer, date, list or text."""
        if self.node.get("format") == "date":
            return "date"
        return {"boolean": "boolean", "integer": "integer", "array": "list"}.get(self.node.get("type"), "text")

    def describe(self) -> str:
        """What the column takes, in words (the template's 填写说明)."""
        if self.kind == "boolean":
            return "填“是”或“否”"
        if self.kind == "date":
            return "日期，如 2024-03-15"
        if self.kind == "list":
            return "可填多项，用“、”分隔：" + "、".join(self.node["items"]["enum"])
        if self.node.get("enum"):
            return "填其中之一：" + "、".join(self.node["enum"])
        words = ["整数" if self.kind == "integer" else "文本"]
        if "minimum" in self.node and "maximum" in self.node:
            words.append(f"{self.node['minimum']}–{self.node['maximum']}")
        if "maxLength" in self.node:
            words.append(f"最多 {self.node['maxLength']} 字")
        if self.node.get("description"):
            words.append(self.node["description"])
        return "，".join(words)


@dataclass(frozen=True, order=True)
class Problem:
    """What is wrong, where: the row of the file (None: the file itself) and the column's title."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        return f"{where} {self.column}：{self.reason}" if self.column else f"{where}：{self.reason}"


class ImportRefused(FangpinError):
    """The file was not imported — nothing was written — for the problems listed (the first :data:`MAX_LISTED` of
    ``total``)."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        self.problems, self.total = problems, total
        more = f"；另有 {total - len(problems)} 处未列出" if total > len(problems) else ""
        super().__init__(f"导入文件有 {total} 处错误，未导入任何农户：" + "；".join(map(str, problems[:20])) + more)


class Problems:
    """The problems found, in row order: the first :data:`MAX_LISTED` kept, all counted."""

    def __init__(self) -> None:
        self.total = 0
        self._kept: list[tuple[int, int, Problem]] = []  # a max-heap by (row, order found), negated

    def add(self, row: int, column: str, reason: str) -> None:
        self.total += 1
        entry = (-row, -self.total, Problem(row, column, mask_numbers_in(reason)))
        if len(self._kept) < MAX_LISTED:
            heapq.heappush(self._kept, entry)
        elif entry > self._kept[0]:
            heapq.heapreplace(self._kept, entry)

    def __bool__(self) -> bool:
        return self.total > 0

    def refusal(self) -> ImportRefused:
        return ImportRefused([p for _, _, p in sorted(self._kept, reverse=True)], self.total)


@dataclass
class _Household:
    """One household of the file: its rows, the values read from each, and what the registration form gets."""

    number: str | None
    rows: list[int] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)  # the values of each row, by field key
    head_index: int | None = None  # its (first) 户主 row among them
    village_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)  # as the registration form takes it

    def add(self, row: int, values: dict[str, Any]) -> None:
        if self.head_index is None and values.get("relation_to_head") == HEAD:
            self.head_index = len(self.members)
        self.rows.append(row)
        self.members.append(values)

    @property
    def head(self) -> dict[str, Any]:
        """The values of its head's row — where the household's own columns are read — else of its first."""
        return self.members[self.head_index or 0]

    @property
    def row(self) -> int:
        return self.rows[self.head_index or 0]

    @property
    def monitored(self) -> bool:
        return bool(self.head.get(CATEGORY))


@dataclass
class PreparedImport:
    """A file read and checked (:func:`prepare_import`): its households and what was wrong."""

    file_name: str
    households: list[_Household]
    villages: dict[str, Jurisdiction]  # code → place, those the file names
    problems: Problems
    ignored_columns: list[str]

    @property
    def members(self) -> int:
        return sum(len(h.members) for h in self.households)

    def monitored(self) -> list[_Household]:
        return [h for h in self.households if h.monitored]

    def summary(self, *, written: bool) -> ImportResult:
        return ImportResult(self.file_name, len(self.households), self.members, len(self.monitored()),
                            sum(1 for h in self.households if not h.number), len(self.villages),
                            list(self.ignored_columns), written)


@dataclass
class ImportResult:
    """What an import wrote (or, checked only, would write)."""

    file_name: str
    households: int
    members: int
    monitored: int
    numbers_made: int
    villages: int
    ignored_columns: list[str]
    written: bool
    monitored_ids: list[int] = field(default_factory=list)

    def text(self) -> str:
        done = "已导入" if self.written else "校验通过，未写入任何内容：可导入"
        text = (f"{done} {self.households} 户、{self.members} 人（{self.villages} 个村），其中监测对象 {self.monitored} 户"
                f"（系统外识别），自动生成户编号 {self.numbers_made} 个")
        if self.ignored_columns:
            text += f"；未读取的列：{'、'.join(self.ignored_columns)}"
        return text


# -- the columns ----------------------------------------------------------------------------------------------


def columns() -> tuple[Column, ...]:
    """The columns of the import file, in the template's order: the village and household number, the members'
    fields, the household's other fields, then those of a monitored household. Made again when the form is."""
    schema = load_form(REGISTRATION_FORM)
    if _MADE.get("schema") is not schema:
        found = _columns(schema)
        _MADE.update(schema=schema, columns=found, titles={column.key: column.title for column in found})
    return _MADE["columns"]


def _titles() -> dict[str, str]:
    """Field key → its column's title."""
    columns()
    return _MADE["titles"]


_MADE: dict[str, Any] = {}  # the columns of the registration form as loaded (load_form)


def _columns(schema: dict[str, Any]) -> tuple[Column, ...]:
    own, members = schema["properties"], schema["properties"]["members"]["items"]
    required = set(schema.get("required", ())) | set(members.get("required", ()))
    first = [(k, own[k], HOUSEHOLD) for k in ("village", "number") if k in own]
    first += [(k, n, MEMBER) for k, n in members["properties"].items() if k in MEMBER_FIELDS]
    first += [(k, n, HOUSEHOLD) for k, n in own.items() if k in HOUSEHOLD_FIELDS]
    found = [Column(k, n["title"], scope, n, k in required) for k, n, scope in first]
    found += [Column(k, n["title"], MONITORING, n, False) for k, n in _monitoring_nodes().items()]
    return _named(found)


def _monitoring_nodes() -> dict[str, dict[str, Any]]:
    """The columns of a household already monitored, as schema nodes of their values' labels: its category, the day
    it was identified, its risk types, then its assistance measures as the information form has them (A39–A52: a
    category's items, or 是/否 for a category without items), the day they are in force from and its responsible
    person — as an assistance plan in fangpin records them (engine.households.measures)."""
    return {
        CATEGORY: {"type": "string", "title": "监测对象类别（A3）", "enum": list(HouseholdCategory.labels().values())},
        IDENTIFIED_ON: {"type": "string", "format": "date", "title": "识别纳入时间"},
        RISK_TYPES: {"type": "array", "title": "风险类型（A27）", "items": {"enum": list(risk_labels().values())}},
        **{_measure_key(code): _measure_node(code, category) for code, category in measure_categories().items()},
        MEASURES_FROM: {"type": "string", "format": "date", "title": "帮扶措施落实时间",
                        "description": "本户帮扶措施开始落实的日期，不早于识别纳入时间；风险消除按此计算帮扶时长"},
        RESPONSIBLE: {"type": "string", "title": "帮扶责任人", "maxLength": 50},
    }


def _measure_key(code: str) -> str:
    """The column of the measures of category ``code`` (A39 …)."""
    return f"{MEASURES_PREFIX}{code}"


def _measure_node(code: str, category: dict[str, Any]) -> dict[str, Any]:
    title = f"{category['label']}（{code}）"
    items = [item["label"] for item in category.get("items") or []]
    if not items:
        return {"type": "boolean", "title": title}
    return {"type": "array", "title": title, "items": {"enum": items}}


def _measure_titles() -> str:
    """The measures' columns in words: 产业帮扶（A39）至基础设施建设（A52）."""
    codes, titles = list(measure_categories()), _titles()
    return f"{titles[_measure_key(codes[0])]}至{titles[_measure_key(codes[-1])]}"


def _measures(head: dict[str, Any]) -> list[dict[str, str]]:
    """The measures of the household read from its head's row, as a plan's (category code, item's label); a
    category without items, marked 是, is its own label (as the plan's form offers it)."""
    found = []
    for code, category in measure_categories().items():
        value = head.get(_measure_key(code))
        if value is True:
            found.append({"category": code, "item": category["label"]})
        elif isinstance(value, list):
            found += [{"category": code, "item": item} for item in value]
    return found


def _named(found: list[Column]) -> tuple[Column, ...]:
    """Each column with the header names read as it: its title, the title without its brackets, the information
    form's name of its field (by its A-code or key), its key. A name two columns would share is read as neither."""
    catalogue = {entry["key"]: entry["label"] for entry in form_catalogue()}
    by_code = {entry["code"]: entry["label"] for entry in form_catalogue() if entry.get("code")}
    wanted: dict[str, set[str]] = {}
    for column in found:
        code = re.search(r"（(A\d+)）", column.title)
        names = {column.title, BRACKETS.sub("", column.title), column.key, catalogue.get(column.key, ""),
                 by_code.get(code.group(1), "") if code else ""}
        wanted[column.key] = {_header(name) for name in names if name}
    counts: dict[str, int] = {}
    for names in wanted.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return tuple(Column(c.key, c.title, c.scope, c.node, c.required,
                        frozenset(n for n in wanted[c.key] if counts[n] == 1 or n == _header(c.title))) for c in found)


def _header(text: Any) -> str:
    """A header as compared: without spaces, brackets of either width, case."""
    return re.sub(r"\s+", "", str(text or "")).replace("(", "（").replace(")", "）").lower()


# -- the template ---------------------------------------------------------------------------------------------


def template_xlsx() -> bytes:
    """The import template: a sheet with the columns (required ones marked by the 填写说明 sheet), choices offered
    where a column has them, text format where leading zeros or an X matter; and a sheet explaining each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "农户导入"
    found = columns()
    sheet.append([c.title for c in found])
    for index, column in enumerate(found, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="B00000" if column.required else "000000")
        cell.fill = PatternFill("solid", fgColor="E8EDF2")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[letter].width = max(10, min(30, len(column.title) * 2))
        if column.key in TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
        choices = ["是", "否"] if column.kind == "boolean" else column.node.get("enum")
        if choices and len(",".join(choices)) < 250:  # Excel's limit of a list written in the rule
            rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
            rule.add(f"{letter}2:{letter}1048576")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"
    help_sheet = book.create_sheet("填写说明")
    for line in explanations():
        help_sheet.append([line])
    help_sheet.append([])
    help_sheet.append(["列名", "必填", "填写要求"])
    for column in found:
        help_sheet.append([column.title, "必填" if column.required else "", column.describe()])
    help_sheet.column_dimensions["A"].width, help_sheet.column_dimensions["C"].width = 40, 80
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def explanations() -> list[str]:
    """How the file is filled in, in words (the template's 填写说明 and the import page)."""
    return [
        "农户批量导入模板：每行一名家庭成员，第 1 行为表头（列名不可改动，列的顺序可调整，不需要的列可删除）。",
        "同一户的成员户编号相同；户编号留空时，成员行紧接在本户户主行之后，由系统按村自动生成户编号。",
        "户的信息（所在村、户编号、村民小组、住址、是否脱贫户、联系电话、监测对象类别等）只读户主所在行，其他成员行可留空。",
        (f"已在全国防返贫监测信息系统中识别的监测对象：在户主行填写监测对象类别、识别纳入时间和风险类型，以及已落实的帮扶措施"
         f"（{_measure_titles()}各列：有具体措施的类别填措施名称，多项用“、”分隔；其他类别填“是”）、帮扶措施落实时间和"
         "帮扶责任人——风险消除须帮扶措施落实半年以上；一般农户、脱贫户不填这些列。"),
        "身份证号、户编号、村代码、联系电话请保持文本格式（模板中已设置），以免丢失末位或首位的 0。",
        "整个文件校验通过才会导入；有任何错误时一户也不导入，并按行号列出每处错误。",
    ]


# -- reading the file -----------------------------------------------------------------------------------------


def prepare_import(file_name: str, data: bytes, user: User, clock: Clock, *, lock: bool = False) -> PreparedImport:
    """Read ``data`` (the file ``file_name``) and check every household of it for ``user`` to register, in the
    caller's transaction; ``lock``: take the villages' rows before the checks that read the registered households
    (for writing after). The problems are in the result's ``problems``: nothing was written either way."""
    require_may_register(user)
    problems = Problems()
    households, ignored = _read(file_name, data, problems)
    villages = _villages({h.head["village"] for h in households if isinstance(h.head.get("village"), str)})
    today = to_local_date(clock.now())
    checker = FormChecker(REGISTRATION_FORM)
    allowed: dict[str, str | None] = {}
    for household in households:
        _check_household(household, checker, villages, user, allowed, today, problems)
    if lock and villages:
        lock_rows(Jurisdiction.__table__, [v.id for v in villages.values()])
    _check_registered(households, problems)
    log.info("import %s read: %s households, %s problems", file_name, len(households), problems.total)
    return PreparedImport(file_name, households, villages, problems, ignored)


def _read(file_name: str, data: bytes, problems: Problems) -> tuple[list[_Household], list[str]]:
    try:
        records = spreadsheets.records(file_name, data)
        households, ignored = _households(records, problems)
    except spreadsheets.UnreadableFile as exc:
        problems.add(0, "", str(exc))
        return [], []
    if not households and not problems:
        problems.add(0, "", "没有数据行：第 1 行为表头，其下每行一名家庭成员")
    return households, ignored


def _households(records: Iterator[spreadsheets.Record], problems: Problems) -> tuple[list[_Household], list[str]]:
    header = next(((line, cells) for line, cells in records if not spreadsheets.blank(cells)), None)
    if header is None:
        problems.add(0, "", "文件是空的：第 1 行应为表头（下载模板查看各列）")
        return [], []
    line, cells = header
    found, ignored = _header_columns(line, cells, problems)
    if problems:
        return [], ignored
    by_number: dict[str, _Household] = {}
    households: list[_Household] = []
    previous: _Household | None = None
    for line, cells in records:
        if spreadsheets.blank(cells):
            continue
        values = _row_values(line, cells, found, problems)
        number = values.get("number")
        if number is not None:
            household = by_number.get(number)
            if household is None:
                household = by_number[number] = _Household(number)
                households.append(household)
        elif values.get("relation_to_head") == HEAD or previous is None:
            household = _Household(None)
            households.append(household)
        else:
            household = previous
        household.add(line, values)
        previous = household
    return households, ignored


def _header_columns(line: int, cells: list[Any], problems: Problems,
                    ) -> tuple[list[tuple[int, Column, Reader]], list[str]]:
    """(cell index, column, its reader) of each header cell naming a column; the header cells naming none."""
    known = {name: column for column in columns() for name in column.names}
    found: list[tuple[int, Column, Reader]] = []
    seen: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(cells):
        column = known.get(_header(cell))
        if column is None:
            if not spreadsheets.blank([cell]):
                ignored.append(str(cell).strip())
            continue
        if column.key in seen:
            problems.add(line, column.title, f"该列出现了两次（第 {seen[column.key] + 1} 列和第 {index + 1} 列）")
        seen[column.key] = index
        found.append((index, column, _reader(column)))
    missing = [c.title for c in columns() if c.required and c.key not in seen]
    if missing:
        problems.add(line, "", f"表头缺少必填的列：{'、'.join(missing)}（第 1 行应为表头，列名见导入模板）")
    return found, ignored


def _row_values(line: int, cells: list[Any], found: list[tuple[int, Column, Reader]],
                problems: Problems) -> dict[str, Any]:
    """The values of a row by field key (empty cells left out); a cell that cannot be read is named and left out."""
    values: dict[str, Any] = {}
    width = len(cells)
    for index, column, read in found:
        cell = cells[index] if index < width else None
        if cell is None:
            continue
        if cell.__class__ is str:
            cell = cell.strip()
            if not cell:
                continue
        value, problem = read(cell)
        if problem is not None:
            problems.add(line, column.title, problem)
            values.setdefault("_unreadable", set()).add(column.key)
        else:
            values[column.key] = value
    return values


Reader = Callable[[Any], tuple[Any, "str | None"]]  # a cell (text stripped, never empty) → (value, problem)


def _reader(column: Column) -> Reader:
    """How a cell of ``column`` is read as the form takes it, or why it cannot be (never quoting an ID or phone
    number)."""
    kind = column.kind
    if kind == "list":
        return functools.partial(_labels, column=column)
    if column.key == CATEGORY:
        return _category
    if column.key == "id_number":
        return _id_number
    return {"boolean": _boolean, "integer": _integer, "date": _date}.get(kind, _plain)


def _plain(cell: Any) -> tuple[str, None]:
    return (cell if cell.__class__ is str else _text(cell)), None


def _id_number(cell: Any) -> tuple[str | None, str | None]:
    if isinstance(cell, float | int) and not isinstance(cell, bool):
        return None, "身份证号应以文本格式保存（数字格式会丢失末位），请把该列设为“文本”后重新填写"
    return normalised(_text(cell)), None


def _text(cell: Any) -> str:
    if cell.__class__ is str:
        return cell.strip()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat(" ")
    return str(cell).strip()


def _boolean(cell: Any) -> tuple[bool | None, str | None]:
    if isinstance(cell, bool):
        return cell, None
    text = _text(cell).lower()
    if text in TRUE_WORDS:
        return True, None
    if text in FALSE_WORDS:
        return False, None
    return None, f"应填“是”或“否”，现为“{_shown(cell)}”"


def _integer(cell: Any) -> tuple[int | None, str | None]:
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell, None
    text = _text(cell)
    if re.fullmatch(r"-?\d{1,9}", text):
        return int(text), None
    return None, f"应为整数，现为“{_shown(cell)}”"


def _date(cell: Any) -> tuple[str | None, str | None]:
    if isinstance(cell, datetime):
        return cell.date().isoformat(), None
    if isinstance(cell, date):
        return cell.isoformat(), None
    text = _text(cell)
    match = DATE_TEXT.match(text)
    try:
        return (date(*(int(g) for g in match.groups())) if match else date.fromisoformat(text)).isoformat(), None
    except ValueError:
        return None, f"{DATE_FORMAT}，现为“{_shown(cell)}”"


def _category(cell: Any) -> tuple[str | None, str | None]:
    text = _text(cell)
    for code, label in HouseholdCategory.labels().items():
        if text in (code, label):
            return code, None
    return None, f"“{_shown(cell)}”不是监测对象类别，应为 {'、'.join(HouseholdCategory.labels().values())} 之一"


def _labels(cell: Any, column: Column) -> tuple[list[str] | None, str | None]:
    """Choices by their names (or keys), separated by 、 or ,: as they are kept (a risk type's key, a measure's
    label), in the order given."""
    kept = _kept_values(column.key)
    given = [part.strip() for part in LIST_SEPARATORS.split(_text(cell)) if part.strip()]
    unknown = [part for part in given if part not in kept]
    if unknown:
        return None, (f"“{'、'.join(_shown(u) for u in unknown)}”不是{BRACKETS.sub('', column.title)}，"
                      f"可选：{'、'.join(column.node['items']['enum'])}")
    return list(dict.fromkeys(kept[part] for part in given)), None


def _kept_values(key: str) -> dict[str, str]:
    """What a list column's name of a choice (its label or key) is kept as: a risk type (A27) as its key, an
    assistance measure (A39–A52) as its label, as an assistance plan keeps it."""
    if key == RISK_TYPES:
        return {label: key for key, label in risk_labels().items()} | {key: key for key in risk_labels()}
    items = measure_categories()[key.removeprefix(MEASURES_PREFIX)].get("items") or []
    return {item["label"]: item["label"] for item in items} | {item["key"]: item["label"] for item in items}


def _shown(cell: Any) -> str:
    text = _text(cell)
    return text if len(text) <= 20 else text[:20] + "…"


# -- checking it ----------------------------------------------------------------------------------------------


def _villages(codes: Iterable[str]) -> dict[str, Jurisdiction]:
    wanted = sorted(codes)
    return {place.code: place for start in range(0, len(wanted), 500) for place in db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.code.in_(wanted[start:start + 500])))}


def _check_household(household: _Household, checker: FormChecker, villages: dict[str, Jurisdiction], user: User,
                     allowed: dict[str, str | None], today: date, problems: Problems) -> None:
    head = household.head
    household.data = data = {key: head[key] for key in ("village", *HOUSEHOLD_FIELDS) if key in head}
    if household.number:
        data["number"] = household.number
    data["members"] = [{key: m[key] for key in MEMBER_FIELDS if key in m} for m in household.members]
    unreadable = {(row, key) for row, m in zip(household.rows, household.members, strict=True)
                  for key in m.get("_unreadable", ())}
    titles = _titles()
    for path, reason in checker.problems(data):
        row, key = _where(household, path)
        if (row, key) not in unreadable:
            title = titles.get(key, checker.schema["properties"].get(key, {}).get("title", ""))
            problems.add(row, title, reason.removeprefix(f"{title}："))
    for index, key, reason in member_problems(data["members"]):
        problems.add(household.rows[index] if index is not None else household.row, titles[key], reason)
    code = data.get("village")
    if isinstance(code, str):
        place = villages.get(code)
        household.village_id = place.id if place is not None else None
        if code not in allowed:
            allowed[code] = village_problem(place, code) or _outside(user, place)
        if allowed[code]:
            problems.add(household.row, titles["village"], allowed[code])
    _check_monitoring(household, head, titles, today, problems)


def _outside(user: User, place: Jurisdiction | None) -> str | None:
    """Why ``user`` may not register a household of ``place`` (outside their jurisdiction), or None."""
    try:
        require_may_register(user, place)
    except PermissionDenied as exc:
        return str(exc)
    return None


def _where(household: _Household, path: str) -> tuple[int, str]:
    """The row and field a problem's path (``members/2/name``, ``village``) names."""
    parts = path.split("/")
    if parts[0] == "members" and len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) < len(household.rows):
        return household.rows[int(parts[1])], parts[2]
    return household.row, parts[0]


def _check_monitoring(household: _Household, head: dict[str, Any], titles: dict[str, str], today: date,
                      problems: Problems) -> None:
    category, on, risks = head.get(CATEGORY), head.get(IDENTIFIED_ON), head.get(RISK_TYPES)
    row = household.row
    if category and not on:
        problems.add(row, titles[IDENTIFIED_ON], f"填写了{titles[CATEGORY]}的户须填写识别纳入时间")
    if on and not category:
        problems.add(row, titles[IDENTIFIED_ON], f"识别纳入时间只用于监测对象：请同时填写{titles[CATEGORY]}，或清空该格")
    if risks and not category:
        problems.add(row, titles[RISK_TYPES], f"风险类型只用于监测对象：请同时填写{titles[CATEGORY]}，或清空该格")
    if on and date.fromisoformat(on) > today:
        problems.add(row, titles[IDENTIFIED_ON], f"识别纳入时间 {on} 晚于今天")
    _check_measures(household, head, titles, today, problems)
    mismatch = category_mismatch(category, head.get("is_formerly_poor") is True)
    if mismatch == NOT_FORMERLY_POOR:
        problems.add(row, titles[CATEGORY], f"{mismatch}：{titles['is_formerly_poor']}应填“是”")
    elif mismatch:
        problems.add(row, titles[CATEGORY], mismatch)


def _check_measures(household: _Household, head: dict[str, Any], titles: dict[str, str], today: date,
                    problems: Problems) -> None:
    """A monitored household comes with its measures (every monitored household has them, 001 Q23, reported with
    the list, Q27; 帮扶消除 needs them in force half a year, 000 四（一）), the day they are in force from — not after
    today nor before it was identified — and its responsible person, checked by the rules of an assistance plan;
    an ordinary household with none. A cell that could not be read is named already, not again as missing."""
    first = titles[_measure_key(next(iter(measure_categories())))]
    measures, started, row = _measures(head), head.get(MEASURES_FROM), household.row
    unreadable = head.get("_unreadable", set())
    if not head.get(CATEGORY):
        for key in (MEASURES_FROM, RESPONSIBLE):
            if head.get(key):
                problems.add(row, titles[key], f"{titles[key]}只用于监测对象：请同时填写{titles[CATEGORY]}，或清空该格")
        if measures:
            problems.add(row, first, f"帮扶措施只用于监测对象：请同时填写{titles[CATEGORY]}，或清空各帮扶措施列")
        return
    if not measures and not any(key.startswith(MEASURES_PREFIX) for key in unreadable):
        problems.add(row, first, "监测对象须填写帮扶措施（识别为监测对象后都要落实帮扶措施）：在户主行的帮扶措施列"
                                 f"（{_measure_titles()}）填写已落实的措施")
    if MEASURES_FROM not in unreadable and (reason := _started_problem(started, head.get(IDENTIFIED_ON), today)):
        problems.add(row, titles[MEASURES_FROM], reason)
    if not head.get(RESPONSIBLE):
        problems.add(row, titles[RESPONSIBLE], "监测对象须填写帮扶责任人（每户确定 1 名）")
    for _, reason in check_plan({"measures": measures}, head.get(RISK_TYPES) or []):
        problems.add(row, first, reason)


def _started_problem(started: str | None, identified_on: str | None, today: date) -> str | None:
    """Why ``started`` cannot be the day a monitored household's measures are in force from, or None."""
    if not started:
        return "监测对象须填写帮扶措施落实时间（风险消除按此计算帮扶时长）"
    if date.fromisoformat(started) > today:
        return f"帮扶措施落实时间 {started} 晚于今天"
    if identified_on and started < identified_on:
        return f"帮扶措施落实时间 {started} 早于识别纳入时间 {identified_on}：应填写识别纳入后针对其风险开始落实措施的日期"
    return None


def _check_registered(households: list[_Household], problems: Problems) -> None:
    """ID numbers once in the file and not registered; household numbers given not taken."""
    titles = _titles()
    first: dict[str, int] = {}
    for household in households:
        for row, member in zip(household.rows, household.members, strict=True):
            number = member.get("id_number")
            if not isinstance(number, str):
                continue
            if number in first:
                problems.add(row, titles["id_number"], f"与第 {first[number]} 行的身份证号相同（同一人只能登记一次）")
            else:
                first[number] = row
    for number in sorted(registered_id_numbers(first)):
        problems.add(first[number], titles["id_number"], "身份证号已登记（已是某户的成员）")
    numbered = {h.number: h.row for h in households if h.number}
    for number in sorted(taken_numbers(numbered)):
        problems.add(numbered[number], titles["number"], f"户编号 {number} 已登记")


# -- writing it -----------------------------------------------------------------------------------------------


def write_import(prepared: PreparedImport, actor: str, clock: Clock) -> ImportResult:
    """Write the households of a checked file (no problems) in the caller's transaction, after
    :func:`prepare_import` with ``lock``: per :data:`CHUNK` households one INSERT each of households, members and
    audit entries. Returns what was written, with the ids of the monitored households."""
    assert not prepared.problems, "only a file without problems is written"
    now, villages = clock.now(), {v.id: v for v in prepared.villages.values()}
    _number(prepared.households, villages)
    household_defaults, member_defaults = _defaults(Household), _defaults(Member)
    monitored_ids: list[int] = []
    for start in range(0, len(prepared.households), CHUNK):
        chunk = prepared.households[start:start + CHUNK]
        ids = insert_values(Household.__table__, [_household_row(h, household_defaults, now) for h in chunk],
                            keys=True)
        insert_values(Member.__table__, [{**member_defaults, **{k: m[k] for k in MEMBER_FIELDS if k in m},
                                          "household_id": household_id, "position": position}
                                         for h, household_id in zip(chunk, ids, strict=True)
                                         for position, m in enumerate(h.data["members"])])
        audit.record_many(now, actor, "household_registered", (
            (household_id, {"number": h.data["number"], "members": len(h.members), "source": prepared.file_name,
                            "row": h.row})
            for h, household_id in zip(chunk, ids, strict=True)))
        outside = [(h, household_id) for h, household_id in zip(chunk, ids, strict=True) if h.monitored]
        audit.record_many(now, actor, IDENTIFIED_OUTSIDE, (
            (household_id, {"category": h.head[CATEGORY], "identified_on": h.head[IDENTIFIED_ON],
                            "risk_types": h.head.get(RISK_TYPES, []), "measures": _measures(h.head),
                            "measures_started_on": h.head[MEASURES_FROM], "responsible_person": h.head[RESPONSIBLE],
                            "source": prepared.file_name, "row": h.row})
            for h, household_id in outside))
        insert_values(Measure.__table__, [
            row for h, household_id in outside
            for row in measure_values(household_id, None, _measures(h.head), date.fromisoformat(h.head[MEASURES_FROM]))])
        monitored_ids += [household_id for _, household_id in outside]
    result = prepared.summary(written=True)
    result.monitored_ids = monitored_ids
    audit.record(now, actor, IMPORTED, file=prepared.file_name, households=result.households,
                 members=result.members, monitored=result.monitored, numbers_made=result.numbers_made)
    log.info("%s imported %s households (%s members, %s monitored) from %s", actor, result.households,
             result.members, result.monitored, prepared.file_name)
    return result


def _number(households: list[_Household], villages: dict[int, Jurisdiction]) -> None:
    """A number for each household without one, per village after the highest given so far (in the file too)."""
    wanted: dict[Jurisdiction, int] = {}
    typed: dict[int, list[str]] = {}
    for household in households:
        if household.number:
            typed.setdefault(household.village_id, []).append(household.number)
        else:
            village = villages[household.village_id]
            wanted[village] = wanted.get(village, 0) + 1
    made = {village_id: iter(numbers) for village_id, numbers in next_numbers(wanted, typed).items()}
    for household in households:
        household.data.setdefault("number", household.number or next(made[household.village_id]))


def _defaults(model: Any) -> dict[str, Any]:
    """Each column's value where a row leaves it out, as the ORM would write it (its scalar default, else NULL)."""
    table = model.__table__
    return {column.key: (column.default.arg if column.default is not None and column.default.is_scalar else None)
            for column in table.columns if not column.primary_key}


def _household_row(household: _Household, defaults: dict[str, Any], now: datetime) -> dict[str, Any]:
    data, head = household.data, household.head
    row = {**defaults, **{k: data[k] for k in HOUSEHOLD_FIELDS if k in data}, "number": data["number"],
           "village_id": household.village_id, "created_at": now, "risk_types": [],
           "status": HouseholdStatus.ORDINARY.value}
    if household.monitored:
        row |= {"status": HouseholdStatus.MONITORED.value, "category": head[CATEGORY],
                "identified_on": date.fromisoformat(head[IDENTIFIED_ON]), "risk_types": head.get(RISK_TYPES, []),
                "responsible_person": head[RESPONSIBLE]}
    return row
