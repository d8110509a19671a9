"""Roles (角色): which lane of a diagram a role works in, at which jurisdiction level, what it may start
(registering a household, the procedures it opens for one) and whether it may see households' private fields."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from engine.core.config import project_dir


@dataclass(frozen=True)
class Role:
    key: str
    name: str
    level: str  # where its lanes' tasks go: the case's place at this level (engine.cases.tasks)
    lanes: tuple[str, ...]
    registers_households: bool = False
    opens: tuple[str, ...] = ()  # the procedures it may start for a household (发起)
    sees_private: bool = False  # ID numbers, phones, health status in full (信息采集表; the API when asked)
    levels: tuple[str, ...] = ()  # the levels its officials sit at: ``level`` unless roles.json says more


@functools.lru_cache(maxsize=1)
def all_roles() -> dict[str, Role]:
    """Roles from ``policy/roles.json``."""
    raw = json.loads((project_dir("policy") / "roles.json").read_text(encoding="utf-8"))
    return {
        key: Role(key=key, name=spec["name"], level=spec["level"], lanes=tuple(spec.get("lanes", [])),
                  registers_households=bool(spec.get("registers_households")), opens=tuple(spec.get("opens", [])),
                  sees_private=bool(spec.get("sees_private")), levels=tuple(spec.get("levels") or [spec["level"]]))
        for key, spec in raw["roles"].items()
    }


def role_for_lane(lane: str | None) -> Role | None:
    """The role whose lane names include ``lane`` (lane names are what policy staff see)."""
    if lane is None:
        return None
    return next((r for r in all_roles().values() if lane in r.lanes or lane == r.key), None)
