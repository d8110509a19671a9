"""The domain's rules for diagrams (流程图校验依据), bound once: which lanes are roles (policy/roles.json), the
start data a new case of a process gets under the policy parameters of each place bound to it, and the
stand-in functions a trial run calls. The ``bpmn`` package is handed :data:`RULES`
(engine.bpmn.rules.DiagramRules) by the functions here; it imports none of this.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from sqlalchemy import func, select

from engine.bpmn import deployment, parser
from engine.bpmn import dry_run as trial_evaluation
from engine.bpmn.dry_run import SAMPLE_DAY, SAMPLE_NOW
from engine.bpmn.rules import TrialSample
from engine.bpmn.source import DiagramSource
from engine.core.clock import Clock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.models import MonitoringLine, PolicyParameter, ProcessVersion
from engine.core.vocabulary import Channel, HouseholdCategory
from engine.library.stand_ins import Trace, stand_ins
from engine.policy.parameters import PROCESS_SUFFIX, resolve_group, shipped_parameters
from engine.policy.roles import all_roles, role_for_lane


@dataclass(frozen=True)
class PolicySample:
    """The policy parameters of one procedure as a case would get them (``label``: where and from when)."""

    label: str
    values: dict[str, Any]


def policy_samples(process_id: str) -> list[PolicySample]:
    """The ``policy`` dicts a case of ``process_id`` can get, as the policy parameters stand now (set in
    policy/parameters.json or by policy editors): for every jurisdiction with parameters of a procedure and
    every date one of them changes, the procedure's parameters in force there (engine.policy.parameters
    .resolve_group) when its binding names this process — one sample per distinct set of keys. A process bound nowhere yet (a
    new diagram, bound after deploying) gets every value of its procedure (by the process id's prefix, else of
    every procedure), so that only keys configured nowhere fail. Worked out once for every process while the
    parameters stay the same (:meth:`DomainRules.state`): deploying the whole library checks each diagram."""
    bound, union = _samples_by_process(f"{db.engine.url}|{RULES.state()}")
    if process_id in bound:
        return [PolicySample("、".join(f"{place}（{day} 起）" for place, day in sorted(places.items())[:3])
                             + ("等" if len(places) > 3 else ""), group) for group, places in bound[process_id].values()]
    procedures = sorted(union)
    related = [p for p in procedures if process_id == p or process_id.startswith(p + "_")] or procedures
    return [PolicySample("", {name: value for p in related for name, value in union[p].items()})]


@functools.lru_cache(maxsize=2)
def _samples_by_process(state: str) -> tuple[dict[str, dict], dict[str, dict[str, Any]]]:
    """({process key: {keys: (policy, {place: from})}}, {procedure: every value of its parameters}) for the
    parameters as ``state`` (the database and its parameters' count and newest id) names them."""
    rows = list(db.session.scalars(select(PolicyParameter).order_by(PolicyParameter.effective_from,
                                                                     PolicyParameter.id)))
    procedures = sorted({r.key[: -len(PROCESS_SUFFIX)] for r in rows if r.key.endswith(PROCESS_SUFFIX)})
    bound: dict[str, dict[frozenset[str], tuple[dict[str, Any], dict[str, str]]]] = {}
    for procedure in procedures:
        own = [r for r in rows if r.key.startswith(procedure + ".")]
        days = sorted({r.effective_from for r in own} | {r.effective_to for r in own if r.effective_to})
        for place in {r.jurisdiction for r in own}:
            for day in days:
                group = resolve_group(procedure, place, day)
                process = str(group.get("process", "")).partition("@")[0]  # "key" or "key@version"
                places = bound.setdefault(process, {}).setdefault(frozenset(group), (group, {}))[1]
                places.setdefault(place.full_name, day.isoformat())  # the first date it applies from
    return bound, _every_value([(r.key, r.value) for r in rows])


def _every_value(configured: list[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
    """{procedure: every value of its parameters}: those configured here (the last of each key wins), over those the
    policy folder's files give places this database does not have (a county that loaded its own places instead of
    the seed documents' still deploys the shipped diagrams, and a key configured nowhere still fails)."""
    shipped = [(e["key"], e["value"]) for e in shipped_parameters(project_dir("policy"))]
    union: dict[str, dict[str, Any]] = {key[: -len(PROCESS_SUFFIX)]: {} for key, _ in shipped + configured
                                        if key.endswith(PROCESS_SUFFIX)}
    for key, value in shipped + configured:
        procedure, _, name = key.rpartition(".")
        if procedure in union:
            union[procedure][name] = value
    return union


# -- sample data ------------------------------------------------------------------------------------


def start_data(policy: dict[str, Any]) -> dict[str, Any]:
    """What engine.cases.lifecycle gives a new case, with sample values."""
    day = SAMPLE_DAY.isoformat()
    return {
        "case": {"id": 1, "number": "SB-2026-000001", "channel": Channel.SELF_APPLICATION.value,
                 "channel_name": Channel.SELF_APPLICATION.label,
                 "lead_date": day},
        "household": {"number": "3607021012010001", "head": "示例户主", "size": 3, "is_formerly_poor": False,
                      "enjoys_poverty_policy": False, "category": HouseholdCategory.MARGINAL.value,
                      "village": "江西省赣州市章贡区沙河镇沙河村"},
        "place": {"code": "360702101201", "name": "江西省赣州市章贡区沙河镇沙河村", "level": "village"},
        "policy": dict(policy),
        "mode": "assisted",
        "kind": "rollback",
        "lead_date": day,
        "application": {},
        # a department warning case's own (engine.warnings): its batch, warning, push period or report month
        "batch": {"id": 1, "department": "medical", "department_name": "医保部门", "period": "2026-09", "rows": 1,
                  "received_on": day},
        "warning": {"id": 1, "person": "示例", "department_name": "医保部门", "indicator_name": "年度累计自付医疗费用",
                    "amount": "30,000.00 元", "dispatched_on": day},
        "push": {"department": "medical", "department_name": "医保部门", "period": "2026-09", "opens_on": "2026-09-01",
                 "due_month": "2026-09-01", "day": 25, "rule": "每月 25 日前", "event_on": day, "working_days": 15},
        "report": {"month": "2026-08", "opens_on": "2026-09-01"},
        "campaign": {"year": 2026, "window_start": "2025-10-01", "window_end": "2026-09-30", "moment": "2026-09-30",
                     "entry_by": "2026-12-08", "closes": "2026-12-31"},
        "screening": {"cause": "洪涝灾害", "villages": ["360702101201"], "started_on": day},
    }


def _monitoring_line() -> float:
    """The newest monitoring line configured (yuan per person and year), for the income stand-in."""
    line = db.session.scalar(select(MonitoringLine.amount).order_by(MonitoringLine.year.desc()).limit(1))
    return float(line) if line is not None else 0.0


class DomainRules:
    """engine.bpmn.rules.DiagramRules for fangpin's diagrams."""

    def is_lane(self, name: str | None) -> bool:
        return role_for_lane(name) is not None

    def lane_names(self) -> list[str]:
        """Every lane name a role answers to (policy/roles.json), for the refusal of an unknown lane."""
        return [lane for role in all_roles().values() for lane in role.lanes]

    def role_of(self, name: str) -> str | None:
        """The role a lane name, role key or role name (村干部（村两委）) names (a Camunda candidate group)."""
        role = role_for_lane(name) or next((r for r in all_roles().values() if r.name == name), None)
        return role.key if role else None

    def role_lanes(self, role: str) -> list[str]:
        found = all_roles().get(role)
        return list(found.lanes) if found else []

    def samples(self, process_id: str) -> list[TrialSample]:
        return [TrialSample(s.label, start_data(s.values)) for s in policy_samples(process_id)]

    def functions(self, clock: Clock) -> dict[str, Callable[..., Any]]:
        """Real deadlines, stand-in domain functions (engine.library.stand_ins)."""
        sample = {"start": SAMPLE_NOW.isoformat(), "monitoring_line": _monitoring_line(), "data": start_data({})}
        return stand_ins(Trace(), clock, sample)

    def state(self) -> str:
        """Changes with the policy folder (roles) and whenever a policy parameter is added (the trial run uses
        the parameters in force); rows are only ever added, closed when a later one is added, or replaced by a
        new row (a higher id) when the later one starts on the same day."""
        count, last = db.session.execute(select(func.count(PolicyParameter.id), func.max(PolicyParameter.id))).one()
        return f"{project_dir('policy')}:{count}:{last}"


RULES = DomainRules()


def parse_bundle(bundle: list[DiagramSource], process_id: str) -> tuple[BpmnProcessSpec, dict]:
    """engine.bpmn.parser.parse_bundle under the domain's rules."""
    return parser.parse_bundle(bundle, process_id, RULES)


def dry_run(bundle: Sequence[DiagramSource], process_id: str) -> list[str]:
    """engine.bpmn.dry_run.dry_run under the domain's rules."""
    return trial_evaluation.dry_run(bundle, process_id, RULES)


def deploy(sources: list[DiagramSource], actor: str, now: datetime) -> list[ProcessVersion]:
    """engine.bpmn.deployment.deploy under the domain's rules."""
    return deployment.deploy(sources, actor, now, RULES)
