"""三保障和饮水安全 (A23–A26): what the latest household verification found about housing, compulsory education,
drinking water and basic medical insurance is kept on the household — its information form, the ledger and the
elimination evaluation read it there — until a later verification finds otherwise.

A23–A25 are columns of the household. A26 (a member without basic medical insurance) is also derived from each
member's A17, which the registration and member changes keep: it holds when a member's A17 says so, or when the
latest verification that recorded A26 found it (a lapsed insurance the members' records do not show yet: the
household's column ``no_medical_insurance_found``). Every change of a finding is audited (``guarantees_verified``)
with the verification that made it."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.core import audit
from engine.core.models import Household
from engine.core.vocabulary import AuditAction, GuaranteeProblem

STORED = (GuaranteeProblem.HOUSING_UNSAFE, GuaranteeProblem.COMPULSORY_EDUCATION_DROPOUT,
          GuaranteeProblem.DRINKING_WATER_UNSAFE)  # A23–A25: columns of the household
MEDICAL = GuaranteeProblem.NO_BASIC_MEDICAL_INSURANCE  # A26: the members' A17, or the finding carried in the audit
VERIFIED = AuditAction.GUARANTEES_VERIFIED.value  # the audit action of a verification that changed a finding


def no_basic_medical_insurance(household: Household) -> bool:
    """A26: a member living with the household without basic medical insurance (their A17), or the latest
    verification's finding."""
    return household.no_medical_insurance_found or household.no_basic_medical_insurance


def guarantee_problems(household: Household) -> list[GuaranteeProblem]:
    """The 三保障 and drinking-water problems the household has now (A23–A26), in the form's order."""
    problems = [p for p in STORED if getattr(household, p.value)]
    return problems + [MEDICAL] if no_basic_medical_insurance(household) else problems


def record_verified_guarantees(household: Household, found: Mapping[str, Any] | None, *, at: datetime, by: str,
                               case_id: int | None) -> dict[str, bool]:
    """Set A23–A26 to what a verification found (a box not ticked clears an earlier problem); audit what changed.
    Returns the changes, ``{field: new value}``."""
    changed = {}
    for problem in STORED:
        value = bool((found or {}).get(problem.value))
        if getattr(household, problem.value) != value:
            setattr(household, problem.value, value)
            changed[problem.value] = value
    medical = bool((found or {}).get(MEDICAL.value))
    if household.no_medical_insurance_found != medical:
        household.no_medical_insurance_found = medical
        changed[MEDICAL.value] = medical
    if changed:
        audit.record(at, by, VERIFIED, case_id=case_id, household_id=household.id, changed=changed,
                     problems=[p.label for p in guarantee_problems(household)])
    return changed
