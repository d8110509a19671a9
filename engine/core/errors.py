"""Errors the engine raises to its callers (CLI, web). Each carries a message for the official."""
from __future__ import annotations


class FangpinError(Exception):
    """Base class: a refusal with a clear message; nothing was changed."""


class NotFound(FangpinError):
    """The named record does not exist."""


class ConflictError(FangpinError):
    """Someone else changed the case first (optimistic locking); reload and try again."""


class FormInvalid(FangpinError):
    """Form data does not match the task's JSON Schema."""

    def __init__(self, form: str, errors: list[tuple[str, str]]) -> None:
        self.form = form
        self.errors = errors  # [(field path, reason)]
        detail = "; ".join(f"{field or '(表单)'}: {reason}" for field, reason in errors)
        super().__init__(f"表单 {form} 填写有误：{detail}")


class FormKeywordInvalid(FangpinError, ValueError):
    """A form declares a fangpin keyword (``x-verdict``, ``x-records``…) wrongly: the form is refused as a form that
    is not valid JSON is (a ValueError too), naming the form and what to change."""

    def __init__(self, form: str, problems: list[str]) -> None:
        self.form = form
        self.problems = problems
        super().__init__(f"表单 {form} 的声明有误：" + "；".join(problems))


class RuleViolation(FangpinError):
    """A domain rule refuses the action (duplicate application, early publicity close, ...)."""


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


class DecisionInvalid(FangpinError):
    """A decision table (决策表) gave an answer the procedure cannot use (no matching rule, unknown value)."""
