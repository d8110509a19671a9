"""What a procedure needs before a case of it can start (开办所需配置), and the check of every place (配置检查).

A new case of a procedure starts at the household's village, on the day it is opened, on the diagram that the
``<procedure>.process`` binding in force there names (engine.policy.bindings.bound_version), with the
procedure's parameters in force (engine.policy.parameters.resolve_group). It can start only when

* the binding is configured and names a deployed process (or a deployed version of it, when pinned) that carries
  out this procedure (engine.bpmn.procedures: the diagram declares it, or its process id names it);
* every parameter its deployed diagrams read unguarded — ``policy["name"]`` in a script, condition, timer or
  due date — is configured (``policy.get("name")`` and ``"name" in policy`` read an optional one), and so is
  every parameter the engine's own code reads for the procedure (:data:`READ_BY_CODE`);
* every form its human tasks use is in ``forms/`` and every lane of its diagrams is a role (policy/roles.json).

:func:`requirements` is that list; engine.cases.lifecycle.start_case calls :func:`start_policy`, which refuses
with everything missing, and :func:`check` runs the same :func:`requirements` for every place where the answer
can differ, so that the check cannot disagree with what happens when an official opens a case. Besides the
procedures, :data:`PUBLICITY` (公示公告) needs the authority a county announcement is issued in the name of
(``publicity.issuer``), which engine.publicity.lists reads through :func:`requirements` too.

A parameter the engine's code reads only where it is set (:data:`OPTIONAL_BY_CODE`: a place without it has no such
rule) is never missing; :func:`optional_not_set` names, with what it is, each place checked that has not set it.
"""
from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from lxml import etree
from sqlalchemy import select

from engine.bpmn.forms import load_form
from engine.bpmn.procedures import mismatch
from engine.bpmn.validation import FORM_PROPERTY, NS
from engine.core.db import db
from engine.core.errors import FangpinError, FormKeywordInvalid, NotFound, PolicyMissing, RuleViolation
from engine.core.models import DiagramFile, Jurisdiction, PolicyParameter, ProcessVersion
from engine.core.vocabulary import LEVELS, JurisdictionLevel, Procedure
from engine.policy.bindings import bound_version
from engine.policy.parameters import PROCESS_SUFFIX, monitoring_line, resolve_group
from engine.policy.roles import role_for_lane

PUBLICITY = "publicity"  # printing publicity lists and announcements (公示公告): no diagram of its own
ISSUER = "issuer"  # publicity.issuer: the authority a county announcement is issued in the name of (落款)
LABELS = {**Procedure.labels(), PUBLICITY: "公示公告"}
READ_BY_CODE: dict[str, dict[str, str]] = {  # procedure → {parameter: what it is}, read by the engine's code
    Procedure.IDENTIFICATION.value: {  # engine.cases.functions (测算收入, 纳入监测对象)
        "income_window_anchor": "收入计算时间的起算月份：识别纳入月份或发现月份",
        "exclusion_set": "原则上不纳入情形清单（policy/exclusions.json 中的哪一份）",
        "late_lead_days": "立案补录：发现日期早于立案之日超过该天数的，须写明补录说明",  # engine.cases.lifecycle
    },
    Procedure.ELIMINATION.value: {  # engine.elimination.eligibility (风险消除条件)
        "assistance_months": "风险消除条件：帮扶措施落实和收入稳定的最少月数",
        "earliest_month_after_identification": "风险消除条件：识别后最早第几个月可以消除",
    },
    Procedure.ANNUAL_CAMPAIGN.value: {  # engine.campaigns.campaign (年度信息采集和集中排查的日期)
        "window": "收入、务工时间和人口变化的统计期间（起止月-日）",
        "moment": "状态指标的统计时点（月-日）",
        "entry_by": "录入和数据清洗完成的截止日（月-日）",
        "system_closes": "全国系统关闭录入的日期（月-日）",
    },
    PUBLICITY: {ISSUER: "县级公告的落款机关"},  # engine.publicity.lists
}
OPTIONAL_BY_CODE: dict[str, dict[str, str]] = {  # procedure → {parameter: what it is}, read by the engine's code
    # where set: a place without it has no such rule (never missing; listed by optional_not_set)
    Procedure.IDENTIFICATION.value: {  # engine.identification.comparison (信息比对的表单和校验)
        "comparison_reuse_months": "信息比对：排查识别时点前几个月内已开展过信息比对的低保对象、分散供养特困人员等，"
                                   "可共用比对结果、不重复比对（001 第43问：三个月）",
    },
    Procedure.ELIMINATION.value: {  # engine.elimination.eligibility: printed after the condition it is the basis of
        "earliest_month_basis": "风险消除条件：“识别后最早第几个月可以消除”的本地依据（如“江西省问答第37条”）；"
                                "未配置的，条件说明不引用依据",
    },
    Procedure.ANNUAL_CAMPAIGN.value: {  # engine.campaigns.priority
        "priority_groups": "集中排查优先走访的农户群体及其条件",
    },
    PUBLICITY: {  # engine.publicity.lists: not entered, the number is a blank line on the printed publicity
        "village_supervision_phone": "村级公示“监督电话”中的村书记联系电话（按村填写；未填写的，公示上留空手工填写）",
        "township_supervision_phone": "乡镇公示“监督电话”中的镇街乡村振兴工作站电话（按乡镇填写；未填写的，公示上留空手工填写）",
    },
}
OPTIONAL_FOR_EVERY_PROCEDURE: dict[str, str] = {  # read by the engine's code for any procedure where set (a
    # restriction: where not set there is none, and nothing is listed)
    "opener_may_not_complete": "立案人不得办理的环节（所列表单的步骤须由其他工作人员办理）",  # engine.cases.duties
}
LINE_READERS = ("assess_household", "check_elimination")  # diagram functions measuring against the 监测范围
CHECK_LEVEL = JurisdictionLevel.COUNTY  # a place is checked at this level, and below it only where parameters of its own are set


@dataclass(frozen=True)
class Requirements:
    """What a new case of ``procedure`` at ``place`` on ``on`` would start with, and what is missing for it."""

    procedure: str
    place: Jurisdiction
    on: date
    values: dict[str, Any]  # the procedure's parameters in force, by name ({"process": …, "limit_days": …})
    version: ProcessVersion | None
    missing: tuple[str, ...]  # one sentence per thing missing; empty: a case can start

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def label(self) -> str:
        return LABELS.get(self.procedure, self.procedure)


@dataclass(frozen=True)
class StartPolicy:
    """A procedure's binding value, the version it resolves to and its parameters, for a new case."""

    binding: Any
    version: ProcessVersion
    values: dict[str, Any]


def requirements(procedure: str, place: Jurisdiction, on: date,
                 versions: Callable[[Any], ProcessVersion] = bound_version) -> Requirements:
    """Everything a case of ``procedure`` needs at ``place`` on ``on``, and what of it is missing
    (``versions``: how a binding value becomes a version — engine.policy.bindings.bound_version)."""
    values = resolve_group(procedure, place, on)
    missing: list[str] = []
    version = None
    if procedure != PUBLICITY:
        if "process" not in values:
            missing.append(f"没有配置政策参数 {procedure}{PROCESS_SUFFIX}（流程绑定）")
        else:
            try:
                version = versions(values["process"])
            except (NotFound, RuleViolation) as exc:
                missing.append(f"流程绑定 {procedure}{PROCESS_SUFFIX} = {values['process']}：{exc}")
    if version is not None and (problem := mismatch(procedure, version)):
        missing.append(f"流程绑定 {procedure}{PROCESS_SUFFIX} = {values['process']}：{problem}")
    if version is not None:
        missing += _diagram_gaps(procedure, version, values, place, on)
    missing += [f"没有配置政策参数 {procedure}.{name}（{reader}）"
                for name, reader in READ_BY_CODE.get(procedure, {}).items() if name not in values]
    return Requirements(procedure, place, on, values, version, tuple(missing))


def start_policy(procedure: str, place: Jurisdiction, on: date) -> StartPolicy:
    """The binding, version and parameters a new case of ``procedure`` at ``place`` starts with on ``on``;
    PolicyMissing naming everything missing (:func:`requirements`)."""
    found = requirements(procedure, place, on)
    if found.missing:
        raise PolicyMissing(f"{place.full_name} 在 {on} 不能开始{found.label}：{'；'.join(found.missing)}")
    assert found.version is not None
    return StartPolicy(found.values["process"], found.version, found.values)


# -- what a deployed version reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class DiagramNeeds:
    """What the files of a deployed version use: the parameters read unguarded and the optional ones, the
    forms of its human tasks ({form: task names}), its lane names and its human tasks as (form, step id)."""

    required: frozenset[str]
    optional: frozenset[str]
    forms: dict[str, tuple[str, ...]]
    lanes: frozenset[str]
    reads_monitoring_line: bool = False  # a script calls a diagram function that measures against the line
    steps: frozenset[tuple[str, str]] = frozenset()

    def has_step(self, form: str, step: str | None = None) -> bool:
        """Has a human task with ``form`` (and, if given, the id ``step``)?"""
        return any(f == form and step in (None, s) for f, s in self.steps)


def _diagram_gaps(procedure: str, version: ProcessVersion, values: dict[str, Any], place: Jurisdiction,
                  on: date) -> list[str]:
    needs = diagram_needs(tuple(f["sha256"] for f in version.files))
    which = f"流程 {version.process_key} 第 {version.version} 版"
    gaps = [f"没有配置政策参数 {procedure}.{name}（{which}使用）" for name in sorted(needs.required - values.keys())]
    if needs.reads_monitoring_line:
        try:
            monitoring_line(place, on.year)
        except PolicyMissing as exc:
            gaps.append(f"{exc}（{which}测算收入时使用）")
    for form, tasks in sorted(needs.forms.items()):
        try:
            load_form(form)
        except NotFound:
            gaps.append(f"表单 {form} 不存在（forms/ 中没有该文件；{which}的“{'、'.join(tasks)}”使用）")
        except FormKeywordInvalid as exc:
            gaps.append(f"{exc}（{which}的“{'、'.join(tasks)}”使用）")
    gaps += [f"泳道“{lane}”不是已知角色（policy/roles.json；{which}）"
             for lane in sorted(needs.lanes) if role_for_lane(lane) is None]
    return gaps


@functools.lru_cache(maxsize=256)
def diagram_needs(file_hashes: tuple[str, ...]) -> DiagramNeeds:
    """What the deployed files with these hashes use (files never change under their hash: read once)."""
    rows = db.session.scalars(select(DiagramFile).where(DiagramFile.sha256.in_(file_hashes)))
    required: set[str] = set()
    optional: set[str] = set()
    forms: dict[str, list[str]] = {}
    lanes: set[str] = set()
    steps: set[tuple[str, str]] = set()
    line = False
    for row in rows:
        tree = etree.fromstring(row.content)
        for code in _code_of(tree):
            strict, guarded = _policy_names(code)
            required |= strict
            optional |= guarded
        for task in tree.iterfind(".//bpmn:userTask", NS):
            prop = task.find(f".//spiffworkflow:property[@name='{FORM_PROPERTY}']", NS)
            if prop is not None and prop.get("value"):
                forms.setdefault(prop.get("value"), []).append(task.get("name") or task.get("id"))
                steps.add((prop.get("value"), task.get("id") or ""))
        lanes |= {lane.get("name") or "" for lane in tree.iterfind(".//bpmn:lane", NS)}
        line |= any(f"{name}(" in text for node in tree.iter() if isinstance(node.tag, str)
                    for text in (node.text or "",) for name in LINE_READERS)
    return DiagramNeeds(frozenset(required - optional), frozenset(optional),
                        {form: tuple(tasks) for form, tasks in forms.items()}, frozenset(lanes), line,
                        frozenset(steps))


def _code_of(tree: etree._Element) -> Iterable[str]:
    """Every text and attribute value of a diagram that mentions ``policy`` (scripts, conditions, timers,
    due dates …); what is not Python is skipped by :func:`_policy_names`."""
    for node in tree.iter():
        if isinstance(node.tag, str):
            texts = [node.text or "", *node.attrib.values()]
            yield from (text for text in texts if "policy" in text)


def _policy_names(code: str) -> tuple[set[str], set[str]]:
    """(names read as ``policy["name"]``, names read as ``policy.get("name")`` or tested ``"name" in policy``)."""
    try:
        tree = ast.parse(code.strip())
    except (SyntaxError, ValueError):
        return set(), set()
    strict, guarded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_policy(node.value) and _text(node.slice):
            strict.add(_text(node.slice))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and _is_policy(node.func.value) and node.args and _text(node.args[0])):
            guarded.add(_text(node.args[0]))
        elif (isinstance(node, ast.Compare) and _text(node.left) and len(node.ops) == 1
              and isinstance(node.ops[0], ast.In | ast.NotIn) and _is_policy(node.comparators[0])):
            guarded.add(_text(node.left))
    return strict, guarded


def _is_policy(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "policy"


def _text(node: ast.AST) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


# -- the check of every place -----------------------------------------------------------------------------


def procedures_to_check() -> list[str]:
    """The procedures of the vocabulary, any other procedure bound somewhere, then publicity."""
    keys = db.session.scalars(select(PolicyParameter.key).distinct().where(PolicyParameter.key.endswith(PROCESS_SUFFIX)))
    bound = sorted({k[: -len(PROCESS_SUFFIX)] for k in keys} - set(Procedure.labels()))
    return [*Procedure.labels(), *bound, PUBLICITY]


def places_to_check(scope: Jurisdiction | None = None) -> list[Jurisdiction]:
    """Where the answer can differ: every county (cases start in its villages, which inherit its parameters)
    and every place below a county with parameters of its own (and everything below it); within ``scope``,
    which is checked itself when it lies below a county. Two queries."""
    places = list(db.session.scalars(select(Jurisdiction).order_by(Jurisdiction.path)))
    own = set(db.session.scalars(select(PolicyParameter.jurisdiction_id).distinct()))
    county = LEVELS.index(CHECK_LEVEL)
    chosen = [p for p in places if (scope is None or scope.contains(p)) and p.level in LEVELS
              and (LEVELS.index(p.level) == county or (LEVELS.index(p.level) > county and p.id in own))]
    if scope is not None and scope.level in LEVELS and LEVELS.index(scope.level) > county and scope not in chosen:
        chosen.insert(0, scope)
    return chosen


def check(on: date, scope: Jurisdiction | None = None) -> list[Requirements]:
    """:func:`requirements` of every procedure at every place to check (:func:`places_to_check`), in the
    order of the jurisdiction tree; each binding value is resolved to a version once."""
    versions, procedures = _once(bound_version), procedures_to_check()
    return [requirements(procedure, place, on, versions) for place in places_to_check(scope) for procedure in procedures]


def _once(resolve_version: Callable[[Any], ProcessVersion]) -> Callable[[Any], ProcessVersion]:
    """``resolve_version`` called once per binding value (a value need not be hashable; a refusal is kept too)."""
    seen: dict[str, ProcessVersion | FangpinError] = {}

    def call(value: Any) -> ProcessVersion:
        key = repr(value)
        if key not in seen:
            try:
                seen[key] = resolve_version(value)
            except (NotFound, RuleViolation) as exc:
                seen[key] = exc
        found = seen[key]
        if isinstance(found, FangpinError):
            raise found
        return found

    return call


def gaps(results: Iterable[Requirements]) -> list[Requirements]:
    return [r for r in results if not r.ok]


@dataclass(frozen=True)
class OptionalNotSet:
    """A parameter of :data:`OPTIONAL_BY_CODE` a place checked has not set: the place has no such rule."""

    found: Requirements  # the place's requirements of the procedure reading it
    key: str  # "identification.comparison_reuse_months"
    description: str

    def __str__(self) -> str:
        return f"未配置可选参数 {self.key}（{self.description}），即当地没有此规定"


def optional_not_set(results: Iterable[Requirements]) -> list[OptionalNotSet]:
    """Each parameter the engine's code reads where set (:data:`OPTIONAL_BY_CODE`) that a checked place has not
    set for the procedure reading it — said, not a failure."""
    return [OptionalNotSet(r, f"{r.procedure}.{name}", description) for r in results
            for name, description in OPTIONAL_BY_CODE.get(r.procedure, {}).items() if name not in r.values]


def refuse_unstartable(procedure: str, place: Jurisdiction, value: str, on: date,
                       nothing_done: str = "未部署、未绑定") -> None:
    """A binding of ``procedure`` to ``value`` (a process, perhaps pinned) at ``place`` is refused when a case
    could not start on it: at every place it reaches on ``on`` (:func:`places_to_check`; a place with a binding
    of its own is not reached), what :func:`requirements` finds missing is named with the place and the date, as
    opening a case would refuse it. Called after the binding is written, inside its transaction: PolicyMissing
    rolls it back (and whatever was deployed with it)."""
    gaps = [found for where in places_to_check(place) for found in (requirements(procedure, where, on),)
            if found.missing and found.values.get("process") == value]
    if gaps:
        reasons = "；".join(f"{g.place.full_name} 在 {on} 不能开始{g.label}：{'；'.join(g.missing)}" for g in gaps)
        again = "再部署并绑定" if "部署" in nothing_done else "再绑定"
        raise PolicyMissing(f"{nothing_done}：{reasons}。请先在“政策参数”页为该地配置所缺的参数（或改选生效日期），{again}")
