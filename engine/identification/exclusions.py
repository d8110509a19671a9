"""The exclusion criteria of a place (本地原则上不纳入情形): the list in ``policy/exclusions.json`` that the policy
parameter ``identification.exclusion_set`` names for the household's village on the day its case opened — 鞍山's
eight (000 二（一）), 龙口's five (003 二（二））, 江西's "可不纳入、持续跟踪" cases (001 Q10, Q12, Q16; high-value
property and one-off income are weighed, not excluded: Q14). The 入户核实 form offers only those and a completion
naming another place's criterion is refused, naming the field (the form asks for it: ``"x-rules":
["exclusions_of_the_place"]``)."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine.core.errors import PolicyMissing
from engine.core.models import Case, Jurisdiction
from engine.policy.exclusions import criteria_sets
from engine.policy.parameters import resolve
from timers.calendar import to_local_date

EXCLUSION_SET = "identification.exclusion_set"
RULE = "exclusions_of_the_place"  # the form rule (engine.cases.form_rules)
FIELD = "exclusions"  # the form's field of criteria


@dataclass(frozen=True)
class PlaceCriteria:
    """The list a place uses: its key in policy/exclusions.json, its heading, {criterion: label} in its order."""

    key: str
    heading: str
    criteria: dict[str, str]


def place_criteria(place: Jurisdiction, on: Any) -> PlaceCriteria:
    """The criteria in force for ``place`` on ``on``; PolicyMissing (in words) if none is configured or the
    configured list is not in policy/exclusions.json."""
    key = resolve(EXCLUSION_SET, place, to_local_date(on))
    found = criteria_sets().get(key)
    if found is None:
        raise PolicyMissing(f"{place.full_name} 的政策参数 {EXCLUSION_SET} 为 {key!r}，policy/exclusions.json 中没有这份清单"
                            f"（现有：{'、'.join(criteria_sets())}）：请改为其中之一")
    return PlaceCriteria(key, found.get("heading", ""), {c["key"]: c["label"] for c in found["criteria"]})


def _place(case: Case) -> Jurisdiction:
    """The case's village (its place, for a case of no household)."""
    return case.household.village if case.household else case.jurisdiction


def of_case(case: Case) -> PlaceCriteria:
    """The criteria of the case's place as its policy stood when it opened — as the rest of the case's policy data."""
    return place_criteria(_place(case), case.opened_at)


def exclusion_problems(data: dict[str, Any], case: Case) -> list[tuple[str, str]]:
    """The form rule: every criterion ticked is one of the place's list (a problem naming the field if not)."""
    selected = [key for key in data.get(FIELD) or [] if isinstance(key, str)]
    if not selected:
        return []
    used = of_case(case)
    outside = [key for key in selected if key not in used.criteria]
    if not outside:
        return []
    offered = "、".join(used.criteria.values())
    return [(FIELD, f"{'、'.join(outside)} 不在{_place(case).full_name}所用的清单中（{used.heading}）；可选：{offered}")]


def narrowed(schema: dict[str, Any], case: Case) -> dict[str, Any]:
    """``schema`` with its criteria field offering the place's list only (with its heading), if the form asks for
    the rule; else ``schema`` itself."""
    field = (schema.get("properties") or {}).get(FIELD)
    if RULE not in schema.get("x-rules", []) or not isinstance(field, dict) or "items" not in field:
        return schema
    used = of_case(case)
    form = copy.deepcopy(schema)
    spec = form["properties"][FIELD]
    spec["items"]["enum"], spec["enumNames"] = list(used.criteria), list(used.criteria.values())
    spec["description"] = used.heading
    return form
