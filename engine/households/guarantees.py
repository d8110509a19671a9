"""三保障和饮水安全 (A23–A25): what the latest household verification found about housing, compulsory education
and drinking water is kept on the household — its information form, the ledger and the elimination evaluation
read it there — until a later verification finds otherwise. A26 (a member without basic medical insurance) is
derived from each member's A17, which the household registration keeps."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.core import audit
from engine.core.models import Household
from engine.core.vocabulary import GuaranteeProblem

STORED = (GuaranteeProblem.HOUSING_UNSAFE, GuaranteeProblem.COMPULSORY_EDUCATION_DROPOUT,
          GuaranteeProblem.DRINKING_WATER_UNSAFE)  # A23–A25: columns of the household


def record_verified_guarantees(household: Household, found: Mapping[str, Any] | None, *, at: datetime, by: str,
                               case_id: int | None) -> dict[str, bool]:
    """Set A23–A25 to what a verification found (a box not ticked clears an earlier problem); audit what changed.
    Returns the changes, ``{field: new value}``."""
    changed = {}
    for problem in STORED:
        value = bool((found or {}).get(problem.value))
        if getattr(household, problem.value) != value:
            setattr(household, problem.value, value)
            changed[problem.value] = value
    if changed:
        audit.record(at, by, "guarantees_verified", case_id=case_id, household_id=household.id,
                     changed=changed, problems=[p.label for p in STORED if getattr(household, p.value)])
    return changed
