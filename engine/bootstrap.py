"""Setting up a database (初始化): tables, the jurisdiction tree, roles' policy data and the deployed
diagrams from the repository's folders. Safe to run again: it only adds what is missing."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.bpmn.source import read_directory
from engine.core.clock import Clock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.models import Jurisdiction
from engine.core.schema import upgrade_schema
from engine.core.transaction import transaction
from engine.core.vocabulary import LEVELS
from engine.library.rules import deploy
from engine.library.scenarios import seed_scenarios
from engine.policy.parameters import POLICY_FILES, load_policy_file
from engine.warnings.migration import move_running_warnings

log = logging.getLogger(__name__)


def create_tables() -> None:
    upgrade_schema()


PLACES_ENV_VAR = "FANGPIN_PLACES"  # the county's own jurisdiction tree instead of policy/jurisdictions.json


class PlacesInvalid(FangpinError):
    """The jurisdiction tree file (行政区划文件) breaks a rule; the message names the file, the place and the fix."""


def places_file() -> Path:
    """The jurisdiction tree ``fangpin init`` loads: $FANGPIN_PLACES if set (a county's own places), else the seed
    documents' places in policy/jurisdictions.json."""
    configured = os.environ.get(PLACES_ENV_VAR)
    return Path(configured) if configured else project_dir("policy") / "jurisdictions.json"


def load_jurisdictions(path: Path) -> int:
    """Add the jurisdictions of a nested JSON tree (``{"code", "name", "level", "children": [...]}``) not yet in
    the database; PlacesInvalid (nothing added) if the file breaks a rule."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlacesInvalid(f"行政区划文件 {path} 无法读取（{exc}）：请提供 UTF-8 编码的 JSON 文件") from exc
    nodes = data.get("jurisdictions") if isinstance(data, dict) else None
    if not isinstance(nodes, list) or not nodes:
        raise PlacesInvalid(f'行政区划文件 {path} 的顶层必须是对象，含非空的 "jurisdictions" 列表（省级区划）')
    problems = [p for node in nodes for p in _tree_problems(node, None, set())]
    if problems:
        raise PlacesInvalid(f"行政区划文件 {path} 有误，未加载任何区划：" + "；".join(problems[:20]))
    return sum(_add_tree(node, None) for node in nodes)


def _tree_problems(node: Any, parent: dict | None, seen: set[str]) -> list[str]:
    """What is wrong with ``node`` and its children: fields, level one below the parent's, the code within the
    parent's, each code once."""
    if not isinstance(node, dict):
        return [f"{_named(parent)}下有一项不是对象"]
    problems = [f"{_named(node)}缺少 “{key}”" for key in ("code", "name", "level") if not node.get(key)]
    if problems:
        return problems
    code, level = str(node["code"]), node["level"]
    expected = LEVELS[LEVELS.index(parent["level"]) + 1] if parent and parent["level"] in LEVELS[:-1] else None
    if level not in LEVELS:
        problems.append(f"{_named(node)}的层级 “{level}” 不是 {'、'.join(LEVELS)} 之一")
    elif parent is None and level != LEVELS[0]:
        problems.append(f"{_named(node)}在最上层，层级须为 {LEVELS[0]}（{LEVELS[0].label}）")
    elif parent is not None and level != expected:
        problems.append(f"{_named(node)}在{_named(parent)}之下，层级须为 {expected}（{expected.label if expected else '无'}）")
    if not code.isdigit():
        problems.append(f"{_named(node)}的代码须由数字组成（行政区划代码）")
    elif parent is not None and not code.startswith(str(parent["code"])):
        problems.append(f"{_named(node)}的代码须以上级代码 {parent['code']} 开头")
    if code in seen:
        problems.append(f"代码 {code} 出现了不止一次")
    seen.add(code)
    population = node.get("rural_population")
    if population is not None and (isinstance(population, bool) or not isinstance(population, int) or population < 0):
        problems.append(f"{_named(node)}的 rural_population（农村户籍人口）须为非负整数")
    children = node.get("children", [])
    if not isinstance(children, list):
        return [*problems, f"{_named(node)}的 children 须为列表"]
    return problems + [p for child in children for p in _tree_problems(child, node, seen)]


def _named(node: dict | None) -> str:
    if node is None:
        return "文件顶层"
    return f"{node.get('name') or '（无名称）'}（{node.get('code') or '无代码'}）"


def _add_tree(node: dict, parent: Jurisdiction | None) -> int:
    existing = db.session.scalar(select(Jurisdiction).filter_by(code=str(node["code"])))
    added = 0
    if existing is None:
        existing = Jurisdiction(
            code=str(node["code"]), name=node["name"], level=node["level"], parent=parent,
            path=(parent.path if parent else "/") + str(node["code"]) + "/",
            rural_population=node.get("rural_population"),
        )
        db.session.add(existing)
        db.session.flush()
        added = 1
    return added + sum(_add_tree(child, existing) for child in node.get("children", []))


def setup_database(clock: Clock, actor: str = "system") -> dict[str, int]:
    """Create tables, load jurisdictions and policy data, deploy the diagrams of ``processes/`` and keep their
    trial-run scenarios (``processes/scenarios/``)."""
    create_tables()
    policy_dir = project_dir("policy")
    with transaction():
        jurisdictions = load_jurisdictions(places_file())
        parameters = sum(load_policy_file(policy_dir / name) for name in POLICY_FILES)
        versions = deploy(read_directory(project_dir("processes")), actor, clock.now())
        scenarios = seed_scenarios(project_dir("processes") / "scenarios", actor, clock)
    with transaction():
        moved = move_running_warnings(clock)  # from a release before the warning procedures: once, then none
    log.info("set up: %s jurisdictions, %s policy entries, %s process versions, %s trial scenarios, "
             "%s running warnings moved", jurisdictions, parameters, len(versions), scenarios, moved)
    return {"jurisdictions": jurisdictions, "policy": parameters, "versions": len(versions)}
