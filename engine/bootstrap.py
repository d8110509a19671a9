"""Setting up a database (初始化): tables, the jurisdiction tree, roles' policy data and the deployed
diagrams from the repository's folders. Safe to run again: it only adds what is missing."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from sqlalchemy import select

from engine.bpmn.source import read_directory
from engine.core.clock import Clock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.models import Jurisdiction
from engine.core.schema import upgrade_schema
from engine.core.transaction import transaction
from engine.core.vocabulary import LEVELS
from engine.library.rules import deploy
from engine.library.scenarios import seed_scenarios
from engine.policy.parameters import load_policy_file
from engine.warnings.migration import move_running_warnings

log = logging.getLogger(__name__)


def create_tables() -> None:
    upgrade_schema()


def load_jurisdictions(path: Path) -> int:
    """Add the jurisdictions of a nested JSON tree (``{"code", "name", "level", "children": [...]}``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return sum(_add_tree(node, None) for node in data["jurisdictions"])


def _add_tree(node: dict, parent: Jurisdiction | None) -> int:
    if node["level"] not in LEVELS:
        raise ValueError(f"{node['code']}: unknown level {node['level']!r}")
    existing = db.session.scalar(select(Jurisdiction).filter_by(code=node["code"]))
    added = 0
    if existing is None:
        existing = Jurisdiction(
            code=node["code"], name=node["name"], level=node["level"], parent=parent,
            path=(parent.path if parent else "/") + node["code"] + "/", rural_population=node.get("rural_population"),
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
        jurisdictions = load_jurisdictions(policy_dir / "jurisdictions.json")
        parameters = load_policy_file(policy_dir / "parameters.json")
        parameters += load_policy_file(policy_dir / "warning_thresholds.json")
        versions = deploy(read_directory(project_dir("processes")), actor, clock.now())
        scenarios = seed_scenarios(project_dir("processes") / "scenarios", actor, clock)
    with transaction():
        moved = move_running_warnings(clock)  # from a release before the warning procedures: once, then none
    log.info("set up: %s jurisdictions, %s policy entries, %s process versions, %s trial scenarios, "
             "%s running warnings moved", jurisdictions, parameters, len(versions), scenarios, moved)
    return {"jurisdictions": jurisdictions, "policy": parameters, "versions": len(versions)}
