"""Diagram scripts and expressions run restricted: the known escapes are refused, benign code runs."""
from __future__ import annotations

import pytest

from engine.bpmn.scripting import RestrictedEnvironment, compile_diagram_code

ESCAPES = [
    "__import__('os').popen('id').read()",
    "open('/etc/hostname').read()",
    "().__class__.__mro__[1].__subclasses__()",
    "calendar.sys.modules['os']",
    "days_from.__globals__['os']",
    "getattr(days_from, '__globals__')",
    "eval('1+1')",
    "[c for c in ().__class__.__base__.__subclasses__()]",
]


def _env() -> RestrictedEnvironment:
    return RestrictedEnvironment({"days_from": lambda start, n: f"{start}+{n}"})


@pytest.mark.parametrize("payload", ESCAPES)
def test_known_escapes_are_refused(payload):
    with pytest.raises((SyntaxError, NameError, AttributeError, TypeError)):
        _env().evaluate(payload, {})


@pytest.mark.parametrize("payload", ESCAPES)
def test_known_escapes_are_refused_in_scripts(payload):
    with pytest.raises((SyntaxError, NameError, AttributeError, TypeError)):
        _env().execute(f"x = {payload}", {})


def test_underscore_names_are_refused_at_compile_time():
    with pytest.raises(SyntaxError, match="__import__"):
        compile_diagram_code("__import__('os')", "eval")


def test_benign_scripts_run_and_leave_only_data():
    context = {"policy": {"days": 5}, "members": [{"age": 30}, {"age": 70}]}
    _env().execute(
        "due = days_from('2026-09-28', policy['days'])\n"
        "elderly = sum(1 for m in members if m['age'] >= 60)\n"
        "label = f'{elderly} 位老人'\n"
        "total = 0\nfor m in members:\n    total += m['age']\n",
        context,
    )
    assert (context["due"], context["elderly"], context["label"], context["total"]) == (
        "2026-09-28+5", 1, "1 位老人", 100)
    assert "days_from" not in context and not any(k.startswith("_") for k in context)


def test_only_functions_may_be_exposed():
    import os

    with pytest.raises(TypeError, match="only functions"):
        RestrictedEnvironment({"os": os})


def test_an_endless_loop_is_stopped_and_the_next_script_runs():
    from engine.bpmn.scripting import ScriptTimeout, time_limit

    with pytest.raises(ScriptTimeout, match="超过"), time_limit(0.2):
        _env().execute("n = 0\nwhile True:\n    n += 1\n", {})
    context = {}
    _env().execute("x = 1 + 1", context)
    assert context["x"] == 2


def test_power_is_refused_because_it_cannot_be_interrupted():
    with pytest.raises(SyntaxError, match="乘方"):
        compile_diagram_code("10 ** 10 ** 10", "eval")


@pytest.mark.parametrize(("source", "said"), [
    ("__import__('os').system('id')", "第 1 行：名称“__import__”以下划线开头，流程代码中不能使用"),
    ("x = y.__class__", "第 1 行：属性“__class__”以下划线开头，流程代码中不能使用"),
    ("exec('1')", "第 1 行：流程代码中不能调用 Exec"),
    ("a = 1 +", "第 1 行：语法错误（invalid syntax）：a = 1 +"),
])
def test_a_refused_script_is_explained_in_chinese_naming_the_line(source, said):
    with pytest.raises(SyntaxError) as refused:
        compile_diagram_code(source, "exec")
    assert said in str(refused.value)


def test_a_timer_that_names_no_zone_is_beijing_time():
    """SpiffWorkflow reads a moment without a zone in the server's zone (UTC on most servers: 08:00 in Beijing)."""
    from datetime import date, datetime

    from engine.bpmn.scripting import timer_moment

    assert timer_moment("2026-10-01T00:00:00") == "2026-10-01T00:00:00+08:00"
    assert timer_moment(datetime(2026, 10, 1)) == "2026-10-01T00:00:00+08:00"
    assert timer_moment(date(2026, 10, 1)) == "2026-10-01T00:00:00+08:00"
    assert timer_moment("2026-10-01T00:00:00+00:00") == "2026-10-01T00:00:00+00:00"  # a zone given stays
    assert timer_moment("P5D") == "P5D" and timer_moment("R3/PT1H") == "R3/PT1H"
