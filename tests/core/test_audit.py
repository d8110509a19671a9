"""The audit log."""
from __future__ import annotations

import ast
import re

import pytest
from sqlalchemy import func, select

from engine.core import audit
from engine.core.config import REPO_ROOT
from engine.core.db import db
from engine.core.models import AuditEvent
from engine.core.transaction import transaction
from engine.core.vocabulary import AuditAction
from tests.factories import open_case


def test_the_audit_log_is_append_only(app, clock):
    open_case(clock)
    event = db.session.scalar(select(AuditEvent))
    event.actor = "someone else"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditEvent)))
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


def test_an_action_without_its_label_is_refused_and_nothing_is_written(app, clock):
    """An official reads an entry by its action's label (engine.core.vocabulary.AuditAction): an action not listed
    there cannot be written, one at a time or many at once."""
    with pytest.raises(ValueError, match="has no label"), transaction():
        audit.record(clock.now(), "system", "something_new", detail="x")
    with pytest.raises(ValueError, match="has no label"), transaction():
        audit.record_many(clock.now(), "system", "something_new", [(None, {})])
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    with transaction():
        audit.record(clock.now(), "system", AuditAction.CASE_ENDED, by="X")
    assert db.session.scalars(select(AuditEvent.action)).all() == ["case_ended"]


# -- every action the engine writes is listed with its label ---------------------------------------------------

_SOURCES = ("engine", "web", "timers")
_RECORDERS = ("audit.record", "audit.record_many")  # engine.core.audit's writers: the action is the third argument


def _modules() -> dict[str, ast.Module]:
    root = REPO_ROOT
    return {str(path.relative_to(root)): ast.parse(path.read_text(encoding="utf-8"))
            for folder in _SOURCES for path in sorted((root / folder).rglob("*.py"))}


def _functions(modules: dict[str, ast.Module]) -> dict[str, list[ast.FunctionDef]]:
    found: dict[str, list[ast.FunctionDef]] = {}
    for tree in modules.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.setdefault(node.name, []).append(node)
    return found


def _calls_of(name: str, modules: dict[str, ast.Module]) -> list[ast.Call]:
    return [node for tree in modules.values() for node in ast.walk(tree) if isinstance(node, ast.Call)
            and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)]


def _parameter_values(function: ast.FunctionDef, name: str, modules: dict[str, ast.Module]) -> list[ast.expr]:
    """What the calls of ``function`` pass as its parameter ``name`` (or its default)."""
    params = [a.arg for a in function.args.args]
    position = params.index(name) - (1 if params and params[0] == "self" else 0)
    defaults = dict(zip(params[len(params) - len(function.args.defaults):], function.args.defaults, strict=True))
    values = []
    for call in _calls_of(function.name, modules):
        keyword = next((k.value for k in call.keywords if k.arg == name), None)
        if keyword is not None:
            values.append(keyword)
        elif len(call.args) > position:
            values.append(call.args[position])
        elif name in defaults:
            values.append(defaults[name])
    return values


def _actions(expr: ast.expr, scope: list[ast.AST], tree: ast.Module, modules: dict[str, ast.Module]) -> set[str]:
    """The actions ``expr`` may be (a text, a constant, AuditAction.X, a variable, a parameter); "?" for one this
    test cannot tell, so that the way it is written must change."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _actions(expr.body, scope, tree, modules) | _actions(expr.orelse, scope, tree, modules)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Attribute):  # AuditAction.X.value
        return _actions(expr.value, scope, tree, modules)
    if isinstance(expr, ast.Attribute) and getattr(expr.value, "id", None) == "AuditAction":
        return {getattr(AuditAction, expr.attr).value} if hasattr(AuditAction, expr.attr) else {"?"}
    if isinstance(expr, ast.Name):
        return _named(expr.id, scope, tree, modules)
    return {"?"}


def _named(name: str, scope: list[ast.AST], tree: ast.Module, modules: dict[str, ast.Module]) -> set[str]:
    for holder in reversed(scope):  # a local variable, then a parameter of the function it is in
        assigned = [n.value for n in ast.walk(holder) if isinstance(n, ast.Assign)
                    and any(getattr(t, "id", None) == name for t in n.targets)]
        if assigned and isinstance(holder, ast.FunctionDef):
            return set().union(*(_actions(v, scope, tree, modules) for v in assigned))
        if isinstance(holder, ast.FunctionDef) and name in [a.arg for a in holder.args.args]:
            values = _parameter_values(holder, name, modules)
            return set().union(*(_actions(v, [], tree, modules) for v in values)) if values else {"?"}
    for node in tree.body:  # a module constant, or one imported from another module
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return _actions(node.value, [], tree, modules)
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
            source = modules.get(node.module.replace(".", "/") + ".py") if node.module else None
            return _named(name, [], source, modules) if source else {"?"}
    return {"?"}


def _written_actions() -> dict[str, set[str]]:
    """Each action the sources write, with where."""
    modules = _modules()
    found: dict[str, set[str]] = {}

    def visit(node: ast.AST, scope: list[ast.AST], path: str, tree: ast.Module) -> None:
        if isinstance(node, ast.Call) and ast.unparse(node.func) in _RECORDERS:
            action = node.args[2] if len(node.args) > 2 else next(k.value for k in node.keywords if k.arg == "action")
            for code in _actions(action, scope, tree, modules):
                found.setdefault(code, set()).add(f"{path}:{node.lineno}")
        inner = [*scope, node] if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else scope
        for child in ast.iter_child_nodes(node):
            visit(child, inner, path, tree)

    for path, tree in modules.items():
        visit(tree, [], path, tree)
    return found


def test_every_action_the_engine_writes_has_its_label():
    """A new audit action cannot slip onto a case's 办理记录 as its code: each one written (by text, constant,
    AuditAction member, variable or parameter) is listed in AuditAction with a Chinese label; and the scan finds
    the actions a case's timeline shows, so that it does read the sources."""
    written = _written_actions()
    unlabelled = {code: sorted(where) for code, where in written.items() if code not in AuditAction.labels()}
    assert unlabelled == {}
    assert {"case_opened", "warning_dispatched", "household_rollback", "household_removal", "case_ended",
            "opened_case_decided", "process_bound", "private_data_viewed", "households_imported"} <= set(written)
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in AuditAction.labels().values())
