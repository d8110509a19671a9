"""The restricted script engine (受限脚本): diagram expressions and scripts run under
``compile_restricted`` with a functions-only environment, never modules, so that an uploaded
diagram cannot read files, run commands or import anything.

Limits (运行限制). Diagram code cannot freeze or exhaust the server: the compiler
(``_LimitingTransformer``) puts guard calls into the code itself, so there is nothing for the code to switch
off and nothing to pay outside it (no tracing):

* a **deadline** (``TIME_LIMIT_SECONDS`` per evaluation) checked at the top of every ``while`` body, function
  and lambda, at every item of every ``for`` loop, comprehension, unpacking and iterable a builtin consumes
  (``_getiter_``: sum, any, set(), dict(), join, zip, map, …), and at every step of the comparisons that
  could take long in C (sorting, min and max, ``in``/``==``/``<`` and count/index on containers). It is
  **sticky**: once any limit is hit, every later guard of the same evaluation raises again, and the
  evaluation fails with it when the code returns, so ``try: … except Exception: pass`` gains nothing;
* **sizes**: no sequence, set or mapping beyond ``MAX_ITEMS`` items (``range``, ``*``, ``+``, slices,
  ``list()``/``dict()``/…, ``extend``), no text beyond ``MAX_TEXT`` characters (``*``, ``+``, ``%``,
  f-strings, ``str()``/``repr()``, ``center``/``join``/``replace``/…), no integer beyond ``MAX_INT_BITS``
  bits (``*``, ``<<``, ``pow``; the operands of ``//``, ``%``, ``divmod``), refused *before* the builtin
  runs wherever the result's size can be known beforehand (and at compile time where it is a constant);
* **work**: every loop step, comparison step and allocated item or character counts against
  ``WORK_BUDGET`` per evaluation, which bounds what a loop can pile up within the deadline;
* what is repeated (``[x] * n``), made a tuple (hashable, so compared in C as a key), shown as text, raised
  as an error, returned, or left in the task data must fit ``MAX_DATA_TEXT`` characters as text: a million
  references to one long text are small in memory, not once serialized or compared.

A limit raises ``ScriptTimeout`` (time) or ``ScriptTooLarge`` (size, work; a subclass) with a Chinese message;
the callers name the element (SpiffWorkflow names the task, engine.bpmn.dry_run the element at upload).
``time_limit()`` opens the limits of one evaluation (RestrictedEnvironment.evaluate and execute do).
"""
from __future__ import annotations

import ast
import builtins
import contextvars
import copy
import functools
import math
import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from types import CodeType, TracebackType
from typing import Any, NoReturn, Self

from RestrictedPython import PrintCollector, compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException

from timers.calendar import CHINA_TZ

TIME_LIMIT_SECONDS = 2.0  # one expression or script
MAX_ITEMS = 1_000_000  # items of one sequence, set or mapping made by diagram code (range, *, +, list(), …)
MAX_TEXT = 1_000_000  # characters (bytes) of one text made by diagram code
MAX_INT_BITS = 100_000  # bits of an integer made by *, <<, pow; operands of //, %, divmod
MAX_POW_MOD_BITS = 4_096  # bits of each argument of pow(base, exp, mod)
MAX_ROUND_DIGITS = 10_000  # round(integer, -n): 10 ** n is computed
WORK_BUDGET = 10_000_000  # loop steps + comparisons + allocated items and characters, per evaluation
MAX_DATA_TEXT = 10_000_000  # an evaluation's result and a script's task data, as text


# -- limit errors and the per-evaluation context ------------------------------------------------------------


class ScriptTimeout(RuntimeError):
    """A diagram script or expression was stopped by one of its limits: the time limit (this class), or a size
    or work limit (the subclass ScriptTooLarge). Callers that catch this catch every limit."""


class ScriptTooLarge(ScriptTimeout):
    """A diagram script or expression was stopped before making a sequence, text or number too large, or doing
    too much work in one evaluation."""


def _items_message() -> str:
    return f"流程脚本中的序列过大（超过 {MAX_ITEMS} 项）"


def _text_message() -> str:
    return f"流程脚本中的字符串过长（超过 {MAX_TEXT} 个字符）"


def _int_message() -> str:
    return f"流程脚本中的整数过大（超过 {MAX_INT_BITS} 位二进制）"


def _width_message() -> str:
    return f"流程脚本中的格式宽度或精度过大（超过 {MAX_TEXT}）"


def _data_message() -> str:
    return f"流程脚本产生的数据过大（超过 {MAX_DATA_TEXT} 个字符）"


_STOPPED = "，已停止"
_NEG_INF = float("-inf")


class _Limits:
    """The limits of one evaluation (a context manager; see ``time_limit``)."""

    __slots__ = ("_token", "budget", "deadline", "error", "seconds", "units")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = float("inf")
        self.units = 0
        self.budget = WORK_BUDGET
        self.error: BaseException | None = None
        self._token: contextvars.Token | None = None

    def __enter__(self) -> Self:
        outer = _ACTIVE.get()
        self.deadline = time.monotonic() + self.seconds
        self.budget = WORK_BUDGET
        if outer is not _OUTSIDE:  # nested: the earlier deadline applies, a limit hit outside stays hit
            if outer.error is not None:
                self._stop(outer.error)
            elif outer.deadline < self.deadline:
                self.deadline, self.seconds = outer.deadline, outer.seconds
        self._token = _ACTIVE.set(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        _ACTIVE.reset(self._token)
        if self.error is None or isinstance(exc, ScriptTimeout):
            return False
        raise _again(self.error) from None  # the code caught the limit error: the evaluation fails all the same

    def fail(self) -> NoReturn:
        """Called by a guard that found the deadline or the work budget passed (or a limit hit before)."""
        if self.error is None:
            if self.units > self.budget:
                self._stop(ScriptTooLarge(f"流程脚本运算量过大（超过 {WORK_BUDGET} 步或项）{_STOPPED}"))
            else:
                self._stop(ScriptTimeout(f"流程脚本运行超过 {self.seconds:g} 秒{_STOPPED}"))
        raise _again(self.error)

    def stop(self, error: BaseException) -> NoReturn:
        if self.error is None:
            self._stop(error)
        raise _again(self.error)

    def _stop(self, error: BaseException) -> None:
        self.error = error
        self.deadline = _NEG_INF  # sticky: every later guard fails at once
        self.budget = -1


def _again(error: BaseException) -> BaseException:
    return type(error)(*error.args)


_OUTSIDE = _Limits(0.0)  # guards running outside any evaluation (a leaked generator or lambda) refuse to run
_OUTSIDE._stop(RuntimeError("流程脚本的代码只能在求值期间运行"))
_ACTIVE: contextvars.ContextVar[_Limits] = contextvars.ContextVar("diagram_script_limits", default=_OUTSIDE)
_active = _ACTIVE.get
_clock = time.monotonic


def time_limit(seconds: float | None = None) -> _Limits:
    """The limits of one evaluation, as a context manager: diagram code run inside is stopped once it runs
    longer than ``seconds`` (default ``TIME_LIMIT_SECONDS``, read at the call) or hits a size or work limit.
    Nested use keeps the earlier deadline. When the block ends after a limit was hit, the limit's error is
    raised even if the code caught it."""
    return _Limits(TIME_LIMIT_SECONDS if seconds is None else seconds)


# -- guards called by the compiled code ---------------------------------------------------------------------


def _tick_() -> None:
    """One step (a while iteration, a call, a comparison): check the deadline and the work budget."""
    limits = _active()
    limits.units += 1
    if limits.units > limits.budget or _clock() > limits.deadline:
        limits.fail()


def _charge(units: int) -> None:
    limits = _active()
    limits.units += units
    if limits.units > limits.budget or _clock() > limits.deadline:
        limits.fail()


def _refuse(message: str) -> NoReturn:
    _active().stop(ScriptTooLarge(message + _STOPPED))


def _item_count(count: int) -> None:
    """A sequence of ``count`` items is about to be made (or was just made)."""
    if count > MAX_ITEMS:
        _refuse(_items_message())
    if count > 0:
        _charge(count)


def _text_size(size: int) -> None:
    """A text of ``size`` characters is about to be made (or was just made)."""
    if size > MAX_TEXT:
        _refuse(_text_message())
    if size > 0:
        _charge(size)


def _text_fits(size: int) -> None:
    if size > MAX_TEXT:
        _refuse(_text_message())


def _int_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        _refuse(_int_message())


def _int_operands(a: int, b: int) -> None:
    _int_bits(max(a.bit_length(), b.bit_length()))


def _getiter_(ob: Any) -> Iterator[Any]:
    """Every ``for`` loop, comprehension, unpacking and consumed iterable: each item checks the deadline, the
    work budget and the item cap."""
    return _guarded(iter(ob))


def _guarded(iterator: Iterator[Any]) -> Iterator[Any]:
    cap = MAX_ITEMS
    for count, item in enumerate(iterator, 1):
        limits = _active()
        limits.units += 1
        if count > cap or limits.units > limits.budget or _clock() > limits.deadline:
            if count > cap:
                _refuse(_items_message())
            limits.fail()
        yield item


_TEXTS = (str, bytes)
_SEQUENCES = (list, tuple)
_COLLECTIONS = (set, frozenset, dict)
_NUMBERS = frozenset({int, float, bool, complex})
_SCALARS = frozenset({str, int, float, bool, complex, type(None), date, datetime})
_DICT_KEYS, _DICT_VALUES, _DICT_ITEMS = type({}.keys()), type({}.values()), type({}.items())


def _mul_(a: Any, b: Any) -> Any:
    if type(a) is float or type(b) is float:
        return a * b
    if isinstance(a, int):
        if isinstance(b, int):
            _int_bits(a.bit_length() + b.bit_length())
        else:
            _repeated(b, a)
    elif isinstance(b, int):
        _repeated(a, b)
    return a * b


def _repeated(sequence: Any, times: int) -> None:
    if isinstance(sequence, _TEXTS):
        _text_size(len(sequence) * times)
    elif isinstance(sequence, _SEQUENCES):
        _item_count(len(sequence) * times)
        if times > 1:  # a million references to one long text: small in memory, not as text or to compare
            limit = MAX_DATA_TEXT // times + 1
            if _text_weight(sequence, limit) > limit:
                _refuse(_data_message())


def _weighed_tuple(value: tuple) -> tuple:
    """A tuple made by diagram code: it can be hashed and compared in C (as a key), so it may not be heavy."""
    if _text_weight(value, MAX_DATA_TEXT) > MAX_DATA_TEXT:
        _refuse(_data_message())
    return value


def _add_(a: Any, b: Any) -> Any:
    if type(a) in _NUMBERS and type(b) in _NUMBERS:
        return a + b
    if isinstance(a, _TEXTS):
        if isinstance(b, _TEXTS):
            _text_size(len(a) + len(b))
    elif isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _item_count(len(a) + len(b))
        if isinstance(a, tuple) and isinstance(b, tuple):
            return _weighed_tuple(a + b)
    return a + b


def _collection_operator(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``-``, ``|``, ``&``, ``^``: numbers as they are; a set or mapping made by them is counted."""

    def guard(a: Any, b: Any) -> Any:
        if type(a) in _NUMBERS and type(b) in _NUMBERS:
            return op(a, b)
        result = op(a, b)
        if isinstance(result, _COLLECTIONS):
            _item_count(len(result))
        return result

    return guard


_sub_ = _collection_operator(operator.sub)
_or_ = _collection_operator(operator.or_)
_and_ = _collection_operator(operator.and_)
_xor_ = _collection_operator(operator.xor)


def _floordiv_(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        _int_operands(a, b)  # long division is quadratic
    return a // b


def _mod_(a: Any, b: Any) -> Any:
    if isinstance(a, _TEXTS):
        return _percent(a, b)
    if isinstance(a, int) and isinstance(b, int):
        _int_operands(a, b)
    return a % b


def _lshift_(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0:
        _int_bits(a.bit_length() + b)
    return a << b


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": _add_,
    "-=": _sub_,
    "*=": _mul_,
    "/=": operator.truediv,
    "//=": _floordiv_,
    "%=": _mod_,
}


def _inplacevar_(op: str, x: Any, y: Any) -> Any:
    if op not in _INPLACE:
        raise SyntaxError(f"{op} is not allowed in diagram scripts")
    return _INPLACE[op](x, y)


def _getitem_(ob: Any, index: Any) -> Any:
    result = ob[index]
    if type(index) is slice:  # a copy
        if isinstance(result, _TEXTS):
            _text_size(len(result))
        elif isinstance(result, _SEQUENCES):
            _item_count(len(result))
    return result


def _display_(value: Any) -> Any:
    """A list, tuple, set or dict display with many elements (allocated every time it is evaluated), or a
    tuple display unpacking an iterable."""
    _item_count(len(value))
    return _weighed_tuple(value) if type(value) is tuple else value


def _unpack_map_(mapping: Any) -> Any:
    """``{**mapping}``."""
    if isinstance(mapping, dict):
        _item_count(len(mapping))
    return mapping


# -- text: weight, %-formatting, f-strings, str(), repr(), print --------------------------------------------


def _text_weight(value: Any, limit: int) -> int:
    """About how many characters ``value`` takes as text (str, repr, JSON), counting every reference to a
    shared object again; stops counting once past ``limit``. A cycle counts as too large."""
    total = 0
    stack = [value]
    pop, push = stack.pop, stack.extend
    visited = 0
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bytes:
            total += len(item) + 3
        elif kind is int:
            total += item.bit_length() // 3 + 2
        elif kind is float:
            total += len(repr(item))
        elif kind is bool or item is None:
            total += 5
        elif kind in _SCALARS:
            total += 64
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            if total <= limit:
                push(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= limit:
                push(item.keys())
                push(item.values())
        elif isinstance(item, BaseException):
            total += 32
            push(item.args)
        else:
            total += 64
        if total > limit:
            return total
        visited += 1
        if not visited & 0x3FF:
            _tick_()
    return total


def _fits_as_text(value: Any) -> None:
    if type(value) not in _SCALARS and _text_weight(value, MAX_TEXT) > MAX_TEXT:
        _refuse(_text_message())


def _text_of(value: Any, convert: Callable[[Any], str] = builtins.str) -> str:
    """``convert(value)`` (str, repr, ascii), refused before it is made if it would be too long."""
    if convert is builtins.str and type(value) is str:
        return value
    _fits_as_text(value)
    result = convert(value)
    _text_fits(len(result))
    return result


def _build_str(*args: Any, **kwargs: Any) -> str:
    if len(args) == 1 and not kwargs:
        result = _text_of(args[0])
    else:
        result = builtins.str(*args, **kwargs)  # str() or decoding bytes
    _text_size(len(result))
    return result


def _repr(value: Any) -> str:
    result = _text_of(value, builtins.repr)
    _text_size(len(result))
    return result


_CONVERSIONS: dict[int, Callable[[Any], str]] = {115: builtins.str, 114: builtins.repr, 97: builtins.ascii}
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[_,]?(?:\.(?P<precision>\d+))?[a-zA-Z%]?", re.DOTALL)


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= 18 else 10**18


def _spec_size(spec: str) -> int:
    """The width or precision of a standard format spec (0 for other specs, e.g. a date's strftime)."""
    match = _FORMAT_SPEC.fullmatch(spec)
    if match is None:
        return 0
    return max(_number(match["width"] or "0"), _number(match["precision"] or "0"))


def _format_(value: Any, conversion: int, spec: str) -> str:
    """One ``{value!conversion:spec}`` of an f-string."""
    if conversion in _CONVERSIONS:
        value = _text_of(value, _CONVERSIONS[conversion])
    if spec and _spec_size(spec) > MAX_TEXT:
        _refuse(_width_message())
    if type(value) is str and not spec:
        result = value
    else:
        _fits_as_text(value)
        result = format(value, spec)
    _text_size(len(result))
    return result


_PERCENT_FLAGS = frozenset("-+ #0")


def _percent_specs(fmt: str | bytes, tick: Callable[[], None] | None = None) -> tuple[tuple[Any, Any, Any, str], ...]:
    """(key, width, precision, conversion) of each ``%`` conversion of ``fmt``; width and precision are an
    int, ``'*'`` or None; key is a slice of ``fmt`` or None. As CPython reads them. ``tick`` is called every
    thousand conversions (at run time)."""
    if len(fmt) <= 1000:
        return _cached_percent_specs(fmt)
    return _read_percent_specs(fmt, tick)


def _read_percent_specs(fmt: str | bytes, tick: Callable[[], None] | None = None) -> tuple[tuple[Any, ...], ...]:
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    specs = []
    end = len(text)
    at = text.find("%")
    while 0 <= at < end:
        i = at + 1
        key = None
        if i < end and text[i] == "(":
            depth, j = 1, i + 1
            while j < end and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            key, i = fmt[i + 1:j - 1], j
        while i < end and text[i] in _PERCENT_FLAGS:
            i += 1
        width, i = _percent_number(text, i)
        precision = None
        if i < end and text[i] == ".":
            precision, i = _percent_number(text, i + 1)
            precision = precision or 0
        while i < end and text[i] in "hlL":
            i += 1
        specs.append((key, width, precision, text[i] if i < end else ""))
        at = text.find("%", i + 1)
        if tick is not None and not len(specs) % 1000:
            tick()
    return tuple(specs)


_cached_percent_specs = functools.lru_cache(maxsize=1024)(_read_percent_specs)


def _percent_number(text: str, i: int) -> tuple[Any, int]:
    if i < len(text) and text[i] == "*":
        return "*", i + 1
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    return (_number(text[i:j]) if j > i else None), j


def _percent_widest(fmt: str | bytes, tick: Callable[[], None] | None = None) -> int:
    specs = _percent_specs(fmt, tick)
    return max((n for _, w, p, _ in specs for n in (w, p) if isinstance(n, int)), default=0)


def _percent(fmt: str | bytes, args: Any) -> Any:
    """``fmt % args``, refused before formatting if a width or precision or the result would be too large."""
    if _percent_widest(fmt, _tick_) > MAX_TEXT:
        _refuse(_width_message())
    try:
        estimate = _percent_estimate(fmt, args)
    except (LookupError, TypeError, ValueError, StopIteration):
        estimate = 0  # the formatting itself raises the proper error
    _text_fits(estimate)
    result = fmt % args
    _text_size(len(result))
    return result


def _percent_estimate(fmt: str | bytes, args: Any) -> int:
    mapping = args if hasattr(args, "__getitem__") and not isinstance(args, (tuple, str, bytes)) else None
    positional = iter(args if isinstance(args, tuple) else (args,))
    estimate = len(fmt)
    for key, width, precision, conversion in _percent_specs(fmt, _tick_):
        if conversion == "%":
            continue
        if width == "*":
            width = abs(next(positional))
        if precision == "*":
            precision = next(positional)
        if width and width > MAX_TEXT or precision and precision > MAX_TEXT:
            _refuse(_width_message())
        value = mapping[key] if key is not None else next(positional)
        estimate += max(width or 0, _converted_size(value, conversion, precision))
        if estimate > MAX_TEXT:
            break
    return estimate


def _converted_size(value: Any, conversion: str, precision: int | None) -> int:
    if conversion in "sra":
        size = _text_weight(value, MAX_TEXT)
        return min(size, precision) if precision is not None and conversion == "s" else size
    if conversion in "eEfFgG":
        return (precision or 6) + 330  # '%f' % 1e308 has 309 digits
    if conversion in "diuoxX":
        return value.bit_length() // 2 + 4 if isinstance(value, int) else 330
    return _text_weight(value, MAX_TEXT)  # %c, %b


class _PrintCollector(PrintCollector):
    """``print`` and ``printed`` as RestrictedPython collects them, with what is printed counted as text."""

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        texts = [_text_of(o) for o in objects]
        sep, end = kwargs.get("sep"), kwargs.get("end")
        size = sum(map(len, texts)) + len(texts) * (len(sep) if isinstance(sep, str) else 1)
        _text_size(size + (len(end) if isinstance(end, str) else 1))
        super()._call_print(*texts, **kwargs)


# -- comparisons ----------------------------------------------------------------------------------------------

_PLAIN = frozenset({str, bytes, int, float, bool, complex, type(None), date, datetime})
_QUICK = _PLAIN - {str, bytes}  # compared with anything in C at once (a text against a text takes its length)
_COMPARED_IN_PYTHON = frozenset({list, tuple, set, frozenset, dict, _DICT_KEYS, _DICT_VALUES, _DICT_ITEMS})
_CHEAP_TO_COMPARE = 64  # a container of at most this many plain items is compared in C


def _cmpval_(value: Any) -> Any:
    """An operand of a comparison (``==``, ``<``, ``in``, …): containers other than a few plain items are
    compared item by item in Python, each step counted: comparing a million references to a long text with
    another long text would run in C for minutes."""
    kind = type(value)
    if kind in _PLAIN or kind not in _COMPARED_IN_PYTHON:
        return value
    if len(value) <= _CHEAP_TO_COMPARE and _PLAIN.issuperset(map(type, value)) and (
            kind is not dict or _PLAIN.issuperset(map(type, value.values()))):
        return value
    return _Compared(value)


class _Compared:
    """A container compared as Python compares it, one counted step at a time (lives only inside the
    comparison: the result of a comparison is a plain bool)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __hash__(self) -> int:
        return hash(self.value)

    def __eq__(self, other: object) -> bool:
        return _equal(self.value, _uncompared(other))

    def __ne__(self, other: object) -> bool:
        return not _equal(self.value, _uncompared(other))

    def __lt__(self, other: object) -> Any:
        return _order(operator.lt, self.value, _uncompared(other))

    def __le__(self, other: object) -> Any:
        return _order(operator.le, self.value, _uncompared(other))

    def __gt__(self, other: object) -> Any:
        return _order(operator.gt, self.value, _uncompared(other))

    def __ge__(self, other: object) -> Any:
        return _order(operator.ge, self.value, _uncompared(other))

    def __contains__(self, item: object) -> bool:
        return _contains(self.value, _uncompared(item))


def _uncompared(value: Any) -> Any:
    return value.value if type(value) is _Compared else value


def _equal(a: Any, b: Any) -> bool:
    """``a == b`` as CPython computes it for lists, tuples and dicts (an item identical to the other is equal)."""
    _tick_()
    kind = type(a)
    if kind is type(b) and kind not in _PLAIN:
        if kind is list or kind is tuple:
            if len(a) != len(b):
                return False
            return all(x is y or _equal(x, y) for x, y in zip(a, b, strict=True))
        if kind is dict:
            if len(a) != len(b):
                return False
            for key, x in a.items():
                if key not in b:
                    return False
                y = b[key]
                if x is not y and not _equal(x, y):
                    return False
            return True
    return bool(a == b)


def _order(op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """``a < b`` (or ``<=``, ``>``, ``>=``): lists and tuples by their first differing items, as CPython."""
    _tick_()
    kind = type(a)
    if kind is type(b) and (kind is list or kind is tuple):
        for x, y in zip(a, b):
            if x is not y and not _equal(x, y):
                return _order(op, x, y)
        return op(len(a), len(b))
    return op(a, b)


def _contains(container: Any, item: Any) -> bool:
    """``item in container``: sets, mappings and texts look up or search in C; sequences and views compare
    item by item."""
    if isinstance(container, (set, frozenset, dict, str, bytes)) or type(container) is _DICT_KEYS \
            or type(item) in _QUICK:
        return item in container
    for element in container:
        _tick_()
        if element is item or _equal(element, item):
            return True
    return False


def _comparing(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """list.count, list.index, list.remove, tuple.count, tuple.index: compared item by item in Python unless
    the list and the value are cheap to compare."""
    if type(obj) not in (list, tuple):
        return method
    name = method.__name__

    def call(value: Any, *args: Any) -> Any:
        if type(value) in _QUICK or (_cmpval_(obj) is obj and type(value) in _PLAIN) \
                or (args and name != "index") or len(args) > 2:
            return method(value, *args)
        count = 0
        for i in _window(len(obj), args):
            _tick_()
            element = obj[i]
            if element is value or _equal(element, value):
                if name == "count":
                    count += 1
                elif name == "remove":
                    del obj[i]
                    return None
                else:
                    return i
        if name == "count":
            return count
        return getattr(type(obj)(), name)(value)  # raises the ValueError Python gives

    return call


def _window(length: int, args: tuple) -> range:
    if not args:
        return range(length)
    return range(*slice(args[0], args[1] if len(args) > 1 else length).indices(length)[:2])


# -- builtins -------------------------------------------------------------------------------------------------

_COPIED_IN_C = frozenset({list, tuple, str, bytes, range, dict, set, frozenset, _DICT_KEYS, _DICT_VALUES,
                          _DICT_ITEMS})  # copied item by item without comparing or hashing
_UNIQUE = frozenset({set, frozenset, dict, _DICT_KEYS})  # their items' hashes are known already
_HASHED_QUICKLY = _UNIQUE | {range, str, bytes}  # … or trivial (small ints, characters)


def _copy_source(iterable: Any) -> Iterable[Any]:
    """What list() or tuple() may copy in C: a known container (counted), else a guarded iterator."""
    if type(iterable) in _COPIED_IN_C:
        _item_count(len(iterable))
        return iterable
    return _getiter_(iterable)


def _hash_source(iterable: Any) -> Iterable[Any]:
    """What set(), dict() and the set methods may hash in C: a set or mapping (hashes known), else a guarded
    iterator (hashing a long tuple again for each of a million references to it would take for ever)."""
    if type(iterable) in _HASHED_QUICKLY or isinstance(iterable, (set, frozenset, dict)):
        _item_count(len(iterable))
        return iterable
    return _getiter_(iterable)


def _build_list(iterable: Any = (), /) -> list:
    return list(_copy_source(iterable))


def _build_tuple(iterable: Any = (), /) -> tuple:
    return _weighed_tuple(tuple(_copy_source(iterable)))


def _build_set(iterable: Any = (), /) -> set:
    return set(_hash_source(iterable))


def _build_dict(*args: Any, **kwargs: Any) -> dict:
    if len(args) > 1:
        raise TypeError(f"dict expected at most 1 argument, got {len(args)}")
    source = args[0] if args else ()
    if not hasattr(source, "keys"):
        source = _getiter_(source)  # pairs, hashed one by one
    elif isinstance(source, dict) and len(source) > MAX_ITEMS:
        _refuse(_items_message())
    result = dict(source, **kwargs)
    _item_count(len(result))
    return result


class _GuardedType(type):
    """A builtin type as diagrams see it: calling it goes through a guard; ``isinstance``, ``issubclass`` and
    its other attributes (``dict.fromkeys``, ``str.maketrans``) are the real type's."""

    _real: type
    _build: Callable[..., Any]

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls._real)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub._real if type(sub) is _GuardedType else sub, cls._real)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._build(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls._real, name)

    def __repr__(cls) -> str:
        return repr(cls._real)


def _guarded_type(real: type, build: Callable[..., Any]) -> _GuardedType:
    return _GuardedType(real.__name__, (), {"_real": real, "_build": staticmethod(build), "__slots__": ()})


class _Ordered:
    """A sort key whose comparisons check the deadline (comparing long texts a million times takes long)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Ordered) -> Any:
        _tick_()
        return _cmpval_(self.value) < _cmpval_(other.value)

    def __gt__(self, other: _Ordered) -> Any:
        _tick_()
        return _cmpval_(self.value) > _cmpval_(other.value)


def _order_key(key: Callable[[Any], Any] | None) -> Callable[[Any], _Ordered]:
    if key is None:
        return _Ordered
    return lambda item: _Ordered(key(item))


def _sorted(iterable: Any, /, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> list:
    items = list(_copy_source(iterable))
    items.sort(key=_order_key(key), reverse=reverse)
    return items


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def guard(*args: Any, key: Callable[[Any], Any] | None = None, **default: Any) -> Any:
        if len(args) == 1:
            return pick(_getiter_(args[0]), key=_order_key(key), **default)
        return pick(*args, key=_order_key(key), **default)

    guard.__name__ = pick.__name__
    return guard


def _sum(iterable: Any, /, start: Any = 0) -> Any:
    if isinstance(start, _TEXTS):
        return builtins.sum((), start)  # raises: sum() can't sum strings
    if type(start) in _NUMBERS:
        return builtins.sum(_getiter_(iterable), start)
    total = start
    for item in _getiter_(iterable):
        total = _add_(total, item)
    return total


def _range(*args: Any) -> range:
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:
        count = MAX_ITEMS + 1
    if count > MAX_ITEMS:
        _refuse(_items_message())
    return numbers


def _pow(base: Any, exp: Any, mod: Any = None) -> Any:
    if isinstance(base, int) and isinstance(exp, int):
        if mod is None:
            if exp > 0 and abs(base) > 1 and exp * math.log2(abs(base)) > MAX_INT_BITS:
                _refuse(_int_message())
        elif isinstance(mod, int) and max(base.bit_length(), exp.bit_length(), mod.bit_length()) > MAX_POW_MOD_BITS:
            _refuse(_int_message())
    return builtins.pow(base, exp, mod)


def _round(number: Any, ndigits: Any = None) -> Any:
    if isinstance(number, int) and isinstance(ndigits, int) and ndigits < -MAX_ROUND_DIGITS:
        _refuse(_int_message())
    return builtins.round(number, ndigits)


def _divmod(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        _int_operands(a, b)
    return builtins.divmod(a, b)


def _lazy(make: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """enumerate, zip, map, filter, reversed: what they give is a guarded iterator (whoever consumes it)."""

    def guard(*args: Any, **kwargs: Any) -> Iterator[Any]:
        return _guarded(make(*args, **kwargs))

    guard.__name__ = make.__name__
    return guard


_GUARDED_BUILTINS: dict[str, Any] = {
    "list": _guarded_type(list, _build_list),
    "tuple": _guarded_type(tuple, _build_tuple),
    "set": _guarded_type(set, _build_set),
    "dict": _guarded_type(dict, _build_dict),
    "str": _guarded_type(str, _build_str),
    "repr": _repr,
    "sorted": _sorted,
    "min": _extreme(builtins.min),
    "max": _extreme(builtins.max),
    "sum": _sum,
    "any": lambda iterable, /: builtins.any(_getiter_(iterable)),
    "all": lambda iterable, /: builtins.all(_getiter_(iterable)),
    "enumerate": _lazy(builtins.enumerate),
    "zip": _lazy(builtins.zip),
    "map": _lazy(builtins.map),
    "filter": _lazy(builtins.filter),
    "reversed": _lazy(builtins.reversed),
    "range": _range,
    "pow": _pow,
    "round": _round,
    "divmod": _divmod,
}
_EXTRA_BUILTINS = ("len", "abs", "int", "float", "bool")  # as they are (safe_builtins has the rest)


_PROCESS_EXITS = ("SystemExit", "KeyboardInterrupt", "GeneratorExit")  # would escape every `except Exception`


def builtin_names() -> list[str]:
    """The builtins a diagram's code may call (what the modeler offers)."""
    return sorted(name for name, value in _restricted_builtins().items()
                  if callable(value) and name[:1].islower() and not name.startswith("_"))


def _restricted_builtins() -> dict[str, Any]:
    allowed = {k: v for k, v in safe_builtins.items() if k not in _PROCESS_EXITS}  # a copy, never RestrictedPython's
    for name in _EXTRA_BUILTINS:
        allowed[name] = getattr(builtins, name)
    allowed.update(_GUARDED_BUILTINS)
    return allowed


# -- methods (through _getattr_) ----------------------------------------------------------------------------


def _counted_result(result: Any) -> Any:
    if isinstance(result, _TEXTS):
        _text_size(len(result))
    elif isinstance(result, (list, tuple, set, frozenset, dict)):
        _item_count(len(result))
    return result


def _copying(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """A method whose result is a new text or collection no larger than a small multiple of its inputs: the
    result is counted (so that a loop cannot pile up copies)."""
    if not isinstance(obj, (str, bytes, list, tuple, dict, set, frozenset)):
        return method

    def call(*args: Any, **kwargs: Any) -> Any:
        return _counted_result(method(*args, **kwargs))

    return call


def _widening(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """center, ljust, rjust, zfill: the width is the size of the result."""
    if not isinstance(obj, _TEXTS):
        return method

    def call(width: Any, *args: Any) -> Any:
        if isinstance(width, int):
            _text_fits(width)
        return _counted_result(method(width, *args))

    return call


def _expandtabs(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(obj, _TEXTS):
        return method

    def call(tabsize: Any = 8) -> Any:
        if isinstance(tabsize, int):
            _text_fits(len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t") * max(tabsize - 1, 0))
        return _counted_result(method(tabsize))

    return call


def _join(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(obj, _TEXTS):
        return method

    def call(iterable: Any) -> Any:
        items = iterable if type(iterable) in (list, tuple) else list(_getiter_(iterable))
        if len(items) > MAX_ITEMS:
            _refuse(_items_message())
        try:
            size = sum(map(len, items)) + len(obj) * max(len(items) - 1, 0)
        except TypeError:
            size = 0  # an item that is not text: join raises
        _text_fits(size)
        return _counted_result(method(items))

    return call


def _replace(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(obj, _TEXTS):
        return method

    def call(old: Any, new: Any, count: Any = -1) -> Any:
        if isinstance(old, _TEXTS) and isinstance(new, _TEXTS) and isinstance(count, int) and len(new) > len(old):
            try:
                hits = obj.count(old) if old else len(obj) + 1
            except TypeError:
                hits = 0  # str and bytes mixed: replace raises
            if count >= 0:
                hits = min(hits, count)
            _text_fits(len(obj) + hits * (len(new) - len(old)))
        return _counted_result(method(old, new, count))

    return call


def _translate(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(obj, str):
        return _copying(obj, method)

    def call(table: Any) -> Any:
        values = table.values() if isinstance(table, dict) else table if isinstance(table, _SEQUENCES) else ()
        widest = max((len(v) for v in _getiter_(values) if isinstance(v, str)), default=1)
        _text_fits(len(obj) * max(widest, 1))
        return _counted_result(method(table))

    return call


def _extend(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(obj, list):
        return method

    def call(iterable: Any) -> None:
        if type(iterable) in _COPIED_IN_C:
            if len(obj) + len(iterable) > MAX_ITEMS:
                _refuse(_items_message())
            _charge(len(iterable))
        else:
            iterable = _getiter_(iterable)
        method(iterable)
        if len(obj) > MAX_ITEMS:
            _refuse(_items_message())

    return call


def _hashing(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """update, union, intersection, …, issubset: the arguments are hashed item by item."""
    if not isinstance(obj, (set, frozenset, dict)):
        return method

    def call(*others: Any, **kwargs: Any) -> Any:
        sources = [_hash_source(o) if type(o) in _UNIQUE or not hasattr(o, "keys") else o for o in others]
        result = method(*sources, **kwargs)
        if len(obj) > MAX_ITEMS:
            _refuse(_items_message())
        return _counted_result(result)

    return call


def _fromkeys(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    def call(iterable: Any, value: Any = None) -> Any:
        return _counted_result(method(_hash_source(iterable), value))

    return call


def _sort(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(obj, list):
        return method

    def call(*, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        method(key=_order_key(key), reverse=reverse)

    return call


def _to_bytes(obj: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(obj, int):
        return method

    def call(length: Any = 1, *args: Any, **kwargs: Any) -> Any:
        if isinstance(length, int):
            _text_fits(length)
        return _counted_result(method(length, *args, **kwargs))

    return call


_METHOD_GUARDS: dict[str, Callable[[Any, Callable[..., Any]], Callable[..., Any]]] = {
    **dict.fromkeys(("center", "ljust", "rjust", "zfill"), _widening),
    "expandtabs": _expandtabs,
    "join": _join,
    "replace": _replace,
    "translate": _translate,
    "extend": _extend,
    "sort": _sort,
    "to_bytes": _to_bytes,
    "fromkeys": _fromkeys,
    **dict.fromkeys(("count", "index", "remove"), _comparing),
    **dict.fromkeys(("update", "union", "intersection", "difference", "symmetric_difference",
                     "intersection_update", "difference_update", "symmetric_difference_update",
                     "issubset", "issuperset", "isdisjoint"), _hashing),
    **dict.fromkeys(("split", "rsplit", "splitlines", "partition", "rpartition", "encode", "decode", "upper",
                     "lower", "casefold", "swapcase", "title", "capitalize", "strip", "lstrip", "rstrip",
                     "removeprefix", "removesuffix", "hex", "copy", "maketrans"), _copying),
}  # fmt: skip
_GUARDED_CLASSES = frozenset({str, bytes, list, tuple, dict, set, frozenset, int})
_CLASS_METHODS = frozenset({"maketrans", "fromkeys", "from_bytes"})


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    """RestrictedPython's ``safer_getattr``, with the methods that make large texts or collections (or hash or
    compare item by item) guarded, on instances and on the types (``str.center(s, n)``)."""
    if type(obj) is _GuardedType:
        obj = obj._real
    value = safer_getattr(obj, name, default)
    guard = _METHOD_GUARDS.get(name)
    if guard is None or value is default:
        return value
    if isinstance(obj, type) and obj in _GUARDED_CLASSES:
        if name in _CLASS_METHODS:
            return guard(obj(), value) if name == "fromkeys" else _copying("", value)
        return _unbound(obj, name, value)
    return guard(obj, value)


def _unbound(cls: type, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """``str.center(s, 10)``: the guarded method of ``s``."""

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(self, cls):
            return method(self, *args, **kwargs)  # raises the TypeError Python gives
        return _METHOD_GUARDS[name](self, getattr(self, name))(*args, **kwargs)

    return call


# -- the compiler -------------------------------------------------------------------------------------------


def _call(name: str, args: list[ast.expr], node: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(call, node)
    return call


_BINOP_GUARDS = {ast.Add: "_add_", ast.Sub: "_sub_", ast.Mult: "_mul_", ast.FloorDiv: "_floordiv_",
                 ast.Mod: "_mod_", ast.LShift: "_lshift_", ast.BitOr: "_or_", ast.BitAnd: "_and_",
                 ast.BitXor: "_xor_"}
_LARGE_DISPLAY = 16  # elements
_WIDENING = frozenset({"center", "ljust", "rjust", "zfill"})


class _LimitingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus the guards of the limits: ``_tick_()`` at the top of every while body,
    function and lambda; guarded operators, f-string fields and large displays; ``**`` refused; sizes that are
    constants in the source checked here already."""

    def visit_While(self, node: ast.While) -> ast.AST:
        node = super().visit_While(node)
        node.body.insert(0, self._tick(node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node = super().visit_FunctionDef(node)
        node.body.insert(0, self._tick(node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node = super().visit_Lambda(node)
        node.body = ast.BoolOp(op=ast.Or(), values=[_call("_tick_", [], node), node.body])  # None or body
        copy_locations(node.body, node)
        return node

    def _tick(self, node: ast.AST) -> ast.Expr:
        statement = ast.Expr(_call("_tick_", [], node))
        copy_locations(statement, node)
        return statement

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = super().visit_BinOp(node)
        if isinstance(node.op, ast.Pow):  # 10 ** 10 ** 10 runs in C: refused outright
            self.error(node, "不允许使用乘方运算（**）")
            return node
        self._check_constants(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        return _call(guard, [node.left, node.right], node) if guard else node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        if isinstance(node.op, ast.Pow):
            self.error(node, "不允许使用乘方运算（**）")
        return super().visit_AugAssign(node)

    def _check_constants(self, node: ast.BinOp) -> None:
        left = node.left.value if isinstance(node.left, ast.Constant) else None
        right = node.right.value if isinstance(node.right, ast.Constant) else None
        if isinstance(node.op, ast.Mod) and isinstance(left, _TEXTS) and _percent_widest(left) > MAX_TEXT:
            self.error(node, _width_message())
        elif isinstance(node.op, ast.Mult):
            for text, times in ((left, right), (right, left)):
                if isinstance(text, _TEXTS) and type(times) is int and len(text) * times > MAX_TEXT:
                    self.error(node, _text_message())

    def visit_Call(self, node: ast.Call) -> ast.AST:
        first = node.args[0] if node.args else None
        width = first.value if isinstance(first, ast.Constant) and type(first.value) is int else 0
        if isinstance(node.func, ast.Attribute) and node.func.attr in _WIDENING and width > MAX_TEXT:
            self.error(node, _text_message())
        return super().visit_Call(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = super().visit_FormattedValue(node)
        spec = node.format_spec
        constant = isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values)
        if constant and _spec_size("".join(v.value for v in spec.values)) > MAX_TEXT:
            self.error(node, _width_message())
        if spec is not None:
            copy_locations(spec, node)
        node.value = _call("_format_", [node.value, ast.Constant(node.conversion), spec or ast.Constant("")], node)
        node.conversion, node.format_spec = -1, None
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        node = super().visit_Compare(node)
        if not any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):  # identity must see the object
            node.left, *node.comparators = [
                o if isinstance(o, ast.Constant) else _call("_cmpval_", [o], o) for o in [node.left, *node.comparators]]
        return node

    def visit_YieldFrom(self, node: ast.YieldFrom) -> ast.AST:
        node = super().visit_YieldFrom(node)
        node.value = _call("_getiter_", [node.value], node)
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.AST:
        node = super().visit_Starred(node)
        if isinstance(node.ctx, ast.Load):  # [*a, *b], {*a}: iterated in C otherwise
            node.value = _call("_getiter_", [node.value], node)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        node = super().visit_Dict(node)
        node.values = [_call("_unpack_map_", [v], v) if k is None else v for k, v in zip(node.keys, node.values,
                                                                                         strict=True)]
        return self._large(node, len(node.keys))

    def visit_List(self, node: ast.List) -> ast.AST:
        return self._large(super().visit_List(node), len(node.elts))

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        return self._large(super().visit_Tuple(node), len(node.elts))

    def visit_Set(self, node: ast.Set) -> ast.AST:
        return self._large(super().visit_Set(node), len(node.elts))

    def _large(self, node: ast.expr, elements: int) -> ast.AST:
        if not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
            return node
        unpacks = isinstance(node, ast.Tuple) and any(isinstance(e, ast.Starred) for e in node.elts)
        return _call("_display_", [node], node) if elements >= _LARGE_DISPLAY or unpacks else node


@functools.lru_cache(maxsize=4096)
def compile_diagram_code(source: str, mode: str) -> CodeType:
    """Compile an expression (``mode='eval'``) or script (``'exec'``) under RestrictedPython, with the
    guards of the limits compiled in.

    Raises SyntaxError (with a line number, which SpiffWorkflow's error formatter needs) naming
    what is forbidden.
    """
    first = source.splitlines()[0] if source else ""
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, "<diagram>", policy=_LimitingTransformer)
    if result.errors:
        raise SyntaxError("；".join(_in_chinese(error) for error in result.errors), ("<diagram>", 1, 0, first))
    return result.code


_COMPILE_MESSAGES = (  # RestrictedPython's refusals, as a policy editor reads them
    (re.compile(r'^Line (\d+): "(.+?)" is an invalid variable name because it starts with "_"\.?$'),
     "第 {0} 行：名称“{1}”以下划线开头，流程代码中不能使用"),
    (re.compile(r'^Line (\d+): "(.+?)" is an invalid attribute name because it starts with "_"\.?$'),
     "第 {0} 行：属性“{1}”以下划线开头，流程代码中不能使用"),
    (re.compile(r"^Line (\d+): (Exec|Eval) calls are not allowed\.?$"), "第 {0} 行：流程代码中不能调用 {1}"),
    (re.compile(r"^Line (\d+): SyntaxError: (.+?) at statement: '(.*)'$", re.DOTALL), "第 {0} 行：语法错误（{1}）：{2}"),
    (re.compile(r"^Line (\d+): (.+?) statements? (?:is|are) not allowed\.?$"), "第 {0} 行：流程代码中不能使用 {1} 语句"),
)


def _in_chinese(error: str) -> str:
    """A compile refusal of RestrictedPython in Chinese (the line and the name kept); one not known as it is."""
    for pattern, text in _COMPILE_MESSAGES:
        found = pattern.match(error)
        if found:
            return text.format(*found.groups())
    return error


# -- environments and engine --------------------------------------------------------------------------------

_GUARDS: dict[str, Any] = {
    "__builtins__": _restricted_builtins(),
    "_getattr_": _guarded_getattr,
    "_getitem_": _getitem_,
    "_getiter_": _getiter_,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar_,
    "_print_": _PrintCollector,
    "_tick_": _tick_,
    "_add_": _add_,
    "_sub_": _sub_,
    "_mul_": _mul_,
    "_floordiv_": _floordiv_,
    "_mod_": _mod_,
    "_lshift_": _lshift_,
    "_or_": _or_,
    "_and_": _and_,
    "_xor_": _xor_,
    "_format_": _format_,
    "_cmpval_": _cmpval_,
    "_unpack_map_": _unpack_map_,
    "_display_": _display_,
}


def _data_fits(value: Any) -> None:
    """What an evaluation gives back (a result, a script's task data) must be storable."""
    if type(value) not in _SCALARS and _text_weight(value, MAX_DATA_TEXT) > MAX_DATA_TEXT:
        _refuse(_data_message())


def _error_fits(exc: Exception) -> None:
    """An error raised by diagram code is shown as text later, outside the limits."""
    if exc.args and _text_weight(exc.args, MAX_TEXT) > MAX_TEXT:
        _refuse(f"流程脚本引发的错误信息过长（{type(exc).__name__}）")


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
        env.update(_GUARDS)  # task data never replaces a guard
        code = compile_diagram_code(expression, "eval")
        with time_limit():
            try:
                result = eval(code, env)
            except ScriptTimeout:
                raise
            except Exception as exc:
                _error_fits(exc)
                raise
            _data_fits(result)
        return result

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        code = compile_diagram_code(script, "exec")
        context.update(copy.copy(self.globals))
        context.update(external_context or {})
        with time_limit():
            try:
                exec(code, context)  # noqa: S102 - restricted code
            except ScriptTimeout:
                raise
            except Exception as exc:
                _error_fits(exc)
                raise
            finally:
                self._remove_globals_and_functions_from_context(context, external_context)
                for key in [k for k in context if k.startswith("_")]:
                    context.pop(key, None)
            _data_fits(context)
        return True


def timer_moment(value: Any) -> Any:
    """A timer's value as SpiffWorkflow reads it, an ISO string, in China Standard Time where it names no zone: a
    date is its midnight, a moment without a zone (``"2026-10-01T00:00:00"``) is Beijing time — SpiffWorkflow would
    read it in the server's zone, UTC on most servers, eight hours late. Durations and cycles pass as they are."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)).isoformat()
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time(), CHINA_TZ).isoformat()
    if isinstance(value, str) and "T" in value and not value.startswith(("P", "R")):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return value if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ).isoformat()
    return value


class DiagramScriptEngine(PythonScriptEngine):
    """Script engine for fangpin diagrams: restricted, and timers may return dates or datetimes."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__(environment=RestrictedEnvironment(functions))

    def evaluate(self, task, expression: str, external_context: dict | None = None) -> Any:
        try:
            result = super().evaluate(task, expression, external_context)
        except SpiffWorkflowException as exc:
            if isinstance(exc.__context__, ScriptTimeout):  # SpiffWorkflow's message leaves out why
                exc.add_note(str(exc.__context__))
            raise
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, (TimerEventDefinition, MultipleEventDefinition)):
            return timer_moment(result)
        return result

    def evaluate_plain(self, expression: str, data: Mapping[str, Any]) -> Any:
        """Evaluate an expression against plain data (due dates, validation with sample data)."""
        return self.environment.evaluate(expression, dict(data))
