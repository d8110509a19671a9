"""Exclusion criteria (原则上不纳入情形), per jurisdiction, from ``policy/exclusions.json``."""
from __future__ import annotations

import functools
import json

from engine.core.config import project_dir


@functools.lru_cache(maxsize=1)
def criteria_sets() -> dict[str, dict]:
    """``{set_key: {"criteria": [{"key", "label"}], ...}}`` as published by each jurisdiction."""
    raw = json.loads((project_dir("policy") / "exclusions.json").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if isinstance(v, dict) and "criteria" in v}


def all_criteria() -> dict[str, str]:
    """Every criterion key with its label, over all sets."""
    return {c["key"]: c["label"] for s in criteria_sets().values() for c in s["criteria"]}


def exclusion_labels(keys: list[str]) -> list[str]:
    """The labels of the selected criteria; an unknown key is an error naming it."""
    known = all_criteria()
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"unknown exclusion criteria: {unknown}")
    return [known[k] for k in keys]
