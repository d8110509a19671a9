"""The departments (行业部门) that push warnings to a city or a county — policy data (``warning.department.<key>``,
policy/warning_thresholds.json), each with its Chinese name: what a department officer's account belongs to, and
whose warnings that officer pushes."""
from __future__ import annotations

from datetime import date

from engine.core.models import Jurisdiction
from engine.policy.parameters import resolve_group

DEPARTMENT_PREFIX = "warning.department"


def department_names(place: Jurisdiction, on: date) -> dict[str, str]:
    """key → name of the departments configured for ``place`` on ``on`` (inherited from above, as every parameter)."""
    return {key: str(value.get("name", key)) if isinstance(value, dict) else key
            for key, value in sorted(resolve_group(DEPARTMENT_PREFIX, place, on).items())}
