"""The restricted script engine (受限脚本): diagram expressions and scripts run under
``compile_restricted`` with a functions-only environment, never modules, so that an uploaded
diagram cannot read files, run commands or import anything."""
from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import functools
import sys
import time
from collections.abc import Callable, Iterator, Mapping
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


TIME_LIMIT_SECONDS = 2.0  # one expression or script; a loop that runs longer is stopped


class ScriptTimeout(RuntimeError):
    """A diagram script or expression ran past the time limit and was stopped."""


@functools.lru_cache(maxsize=4096)
def compile_diagram_code(source: str, mode: str) -> CodeType:
    """Compile an expression (``mode='eval'``) or script (``'exec'``) under RestrictedPython.

    Raises SyntaxError (with a line number, which SpiffWorkflow's error formatter needs) naming
    what is forbidden.
    """
    first = source.splitlines()[0] if source else ""
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, "<diagram>")
    if result.errors:
        raise SyntaxError("; ".join(result.errors), ("<diagram>", 1, 0, first))
    if _uses_power(source, mode):
        # 10 ** 10 ** 10 would run in C for ever: no time limit can stop it
        raise SyntaxError("不允许使用乘方运算（**）", ("<diagram>", 1, 0, first))
    return result.code


def _uses_power(source: str, mode: str) -> bool:
    tree = ast.parse(source, mode="eval" if mode == "eval" else "exec")
    return any(isinstance(node, ast.Pow) for node in ast.walk(tree))


@contextlib.contextmanager
def time_limit(seconds: float = TIME_LIMIT_SECONDS) -> Iterator[None]:
    """Stop Python-level code (loops, comprehensions) that runs longer than ``seconds``."""
    deadline = time.monotonic() + seconds

    def tracer(frame, event, arg):
        if time.monotonic() > deadline:
            raise ScriptTimeout(f"流程脚本运行超过 {seconds:g} 秒，已停止")
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(previous)


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
        code = compile_diagram_code(expression, "eval")
        with time_limit():
            return eval(code, env)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        code = compile_diagram_code(script, "exec")
        context.update(copy.copy(self.globals))
        context.update(external_context or {})
        try:
            with time_limit():
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
