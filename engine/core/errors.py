"""Errors the engine raises to its callers (CLI, web). Each carries a message for the official."""
from __future__ import annotations

import re

FIELD_NAMED = re.compile(r"^([A-Za-z_][\w./]*): (.+)$", re.DOTALL | re.ASCII)  # "<field>: <words>" of a refusal
_CODE = re.compile(r"^[\w.\-/]*$", re.ASCII)  # a form's file name or key (annual_collection.json): never shown


class FangpinError(Exception):
    """Base class: a refusal with a clear message; nothing was changed."""


class NotFound(FangpinError):
    """The named record does not exist."""


class ConflictError(FangpinError):
    """Someone else changed the case first (optimistic locking); reload and try again."""


class FormInvalid(FangpinError):
    """Form data does not match the task's JSON Schema. The message names the form by ``title`` (the task's name or
    the form's own title: 入户采集和排查填写有误：…), never by its file name; without a title, by ``form`` if that is
    words (用户信息), else as 表单."""

    def __init__(self, form: str, errors: list[tuple[str, str]], title: str | None = None) -> None:
        self.form = form
        self.errors = errors  # [(field path, reason)]
        self.title = title or ("表单" if _CODE.match(form or "") else form)
        detail = "；".join(reason for _, reason in errors)  # each reason in words (a schema's names its field's title)
        super().__init__(f"{self.title}填写有误：{detail}")


class FormKeywordInvalid(FangpinError, ValueError):
    """A form declares a fangpin keyword (``x-verdict``, ``x-records``…) wrongly: the form is refused as a form that
    is not valid JSON is (a ValueError too), naming the form and what to change."""

    def __init__(self, form: str, problems: list[str]) -> None:
        self.form = form
        self.problems = problems
        super().__init__(f"表单 {form} 的声明有误：" + "；".join(problems))


class RuleViolation(FangpinError):
    """A domain rule refuses the action (duplicate application, early publicity close, ...). A refusal of one input
    names it first, ``"<field>: <words>"`` (``"lead_date: 发现日期 … 晚于今天"``): the input goes to ``field`` — for a
    page to show the words beside it, for the API to name it — and the message is the words alone, never the
    input's English name."""

    def __init__(self, message: str = "", field: str | None = None) -> None:
        named = FIELD_NAMED.match(message) if field is None else None
        if named:
            field, message = named.group(1), named.group(2)
        super().__init__(message)
        self.field = field


class PermissionDenied(FangpinError):
    """The acting user may not do this (role or jurisdiction)."""


class DiagramInvalid(FangpinError):
    """A diagram or decision table failed validation; the running version stays."""

    def __init__(self, file_name: str, problems: list[str]) -> None:
        self.file_name = file_name
        self.problems = problems
        super().__init__(f"{file_name}: " + "; ".join(problems))


class PolicyMissing(FangpinError):
    """A policy parameter (monitoring line, publicity days, ...) is not configured."""


class CalendarRefused(FangpinError):
    """A deadline needs holiday data for a year that is not loaded; nothing was done (never guessed)."""

    @classmethod
    def missing_year(cls, year: int) -> CalendarRefused:
        """As an official reads it: what is missing, that nothing was saved, and who adds it (not where: the
        administrator's 工作日历 page and warning say that)."""
        return cls(f"无法计算期限：系统还没有 {year} 年的节假日/调休数据（国务院办公厅 {year} 年部分节假日安排的通知），"
                   f"期限不作推测。本次办理未保存；请联系系统管理员加入 {year} 年安排（工作日历）后再办理。")


class DecisionInvalid(FangpinError):
    """A decision table (决策表) gave an answer the procedure cannot use (no matching rule, unknown value)."""
