"""The restricted script engine (受限脚本): diagram expressions and scripts run under
``compile_restricted`` with a functions-only environment, never modules, so that an uploaded
diagram cannot read files, run commands or import anything."""
from __future__ import annotations

import builtins
import copy
import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import CodeType
from typing import Any

from RestrictedPython import PrintCollector, compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

_EXTRA_BUILTINS = (
    "dict", "list", "set", "tuple", "sorted", "min", "max", "sum", "any", "all",
    "enumerate", "zip", "map", "filter", "reversed", "len", "round", "abs", "str", "int", "float", "bool",
)  # fmt: skip

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": lambda a, b: a + b,
    "-=": lambda a, b: a - b,
    "*=": lambda a, b: a * b,
    "/=": lambda a, b: a / b,
    "//=": lambda a, b: a // b,
    "%=": lambda a, b: a % b,
}


def _inplacevar_(op: str, x: Any, y: Any) -> Any:
    if op not in _INPLACE:
        raise SyntaxError(f"{op} is not allowed in diagram scripts")
    return _INPLACE[op](x, y)


def _restricted_builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)  # a copy: never mutate RestrictedPython's shared dict
    for name in _EXTRA_BUILTINS:
        allowed[name] = getattr(builtins, name)
    return allowed


_GUARDS: dict[str, Any] = {
    "__builtins__": _restricted_builtins(),
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar_,
    "_print_": PrintCollector,
}


@functools.lru_cache(maxsize=4096)
def compile_diagram_code(source: str, mode: str) -> CodeType:
    """Compile an expression (``mode='eval'``) or script (``'exec'``) under RestrictedPython.

    Raises SyntaxError (with a line number, which SpiffWorkflow's error formatter needs) naming
    what is forbidden.
    """
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, "<diagram>")
    if result.errors:
        first = source.splitlines()[0] if source else ""
        raise SyntaxError("; ".join(result.errors), ("<diagram>", 1, 0, first))
    return result.code


class RestrictedEnvironment(TaskDataEnvironment):
    """Task-data environment whose globals are the guards plus the given functions only."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        non_callables = [name for name, fn in functions.items() if not callable(fn)]
        if non_callables:
            raise TypeError(f"only functions may be exposed to diagrams: {non_callables}")
        super().__init__({**_GUARDS, **functions})

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        env = copy.copy(self.globals)
        env.update(external_context or {})
        env.update(context)
        return eval(compile_diagram_code(expression, "eval"), env)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        code = compile_diagram_code(script, "exec")
        context.update(copy.copy(self.globals))
        context.update(external_context or {})
        try:
            exec(code, context)  # noqa: S102 - restricted code
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
            for key in [k for k in context if k.startswith("_")]:
                context.pop(key, None)
        return True


class DiagramScriptEngine(PythonScriptEngine):
    """Script engine for fangpin diagrams: restricted, and timers may return dates or datetimes."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__(environment=RestrictedEnvironment(functions))

    def evaluate(self, task, expression: str, external_context: dict | None = None) -> Any:
        result = super().evaluate(task, expression, external_context)
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, (TimerEventDefinition, MultipleEventDefinition)) and isinstance(
            result, (date, datetime)
        ):
            return result.isoformat()
        return result

    def evaluate_plain(self, expression: str, data: Mapping[str, Any]) -> Any:
        """Evaluate an expression against plain data (due dates, validation with sample data)."""
        return self.environment.evaluate(expression, dict(data))
