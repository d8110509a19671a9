"""Policy administration (政策管理): the diagram library, drafts, deploying uploaded diagrams, and policy
parameters set from a date — which diagram a jurisdiction runs (``<procedure>.process``) and values such
as publicity days. Only policy editors (政策管理员) change anything, and only at or below their own
jurisdiction; every change is audited. Running cases are never touched: they keep the diagram version
and the parameter values they started with."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from . import audit
from .case_functions import local_date
from .clock import Clock
from .config import project_dir
from .db import db, fetch
from .deployment import (
    DiagramSource,
    bundle_for,
    deploy,
    describe_validation,
    no_executable,
    parse_bundle,
    procedures_in,
    read_directory,
)
from .errors import DiagramInvalid, NotFound, PermissionDenied, RuleViolation
from .models import LEVELS, Case, DiagramDraft, DiagramFile, Jurisdiction, PolicyParameter, ProcessVersion, User
from .transaction import transaction

log = logging.getLogger(__name__)

EDITOR_ROLE = "policy_editor"
PROCESS_SUFFIX = ".process"
DIAGRAM_SUFFIXES = (".bpmn", ".dmn")
MAX_DIAGRAM_BYTES = 2 * 1024 * 1024


# -- permissions ----------------------------------------------------------------------------------


def require_editor(user: User, place: Jurisdiction | None = None) -> None:
    """The user must be a policy editor (政策管理员), and ``place`` at or below the user's jurisdiction."""
    if EDITOR_ROLE not in user.roles:
        raise PermissionDenied(f"{user.display_name} 不是政策管理员")
    if place is not None and not place.path.startswith(user.jurisdiction.path):
        raise PermissionDenied(f"{place.full_name} 不在 {user.jurisdiction.full_name} 辖区内")


def jurisdiction_by_code(code: str) -> Jurisdiction:
    place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
    if place is None:
        raise NotFound(f"行政区划 {code} 不存在")
    return place


def editable_jurisdictions(user: User, deepest: str = "township") -> list[Jurisdiction]:
    """The user's jurisdiction and those below it, down to ``deepest`` level, in tree order."""
    levels = LEVELS[: LEVELS.index(deepest) + 1]
    return list(db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.path.startswith(user.jurisdiction.path), Jurisdiction.level.in_(levels))
        .order_by(Jurisdiction.path)
    ))


def _relevant(place: Jurisdiction, viewer: Jurisdiction) -> bool:
    """Policy rows that apply to the viewer's area: set on its ancestors, itself, or below it."""
    return place.path.startswith(viewer.path) or viewer.path.startswith(place.path)


# -- the library ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """A ``<procedure>.process`` row: which jurisdiction runs the process from which date (流程绑定)."""

    row: PolicyParameter
    procedure: str

    @property
    def jurisdiction(self) -> Jurisdiction:
        return self.row.jurisdiction


@dataclass
class VersionSummary:
    """A deployed version with how many cases (in the viewer's area) run or ran on it."""

    version: ProcessVersion
    cases: int = 0
    running: int = 0
    latest: bool = False


@dataclass
class ProcessSummary:
    """One process (流程) with its versions, newest first, and the jurisdictions bound to it."""

    key: str
    name: str
    versions: list[VersionSummary] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)


def bindings(viewer: Jurisdiction, process_key: str | None = None) -> list[Binding]:
    """Every ``*.process`` row that applies in the viewer's area (optionally: naming ``process_key``)."""
    rows = db.session.scalars(
        select(PolicyParameter).where(PolicyParameter.key.endswith(PROCESS_SUFFIX))
        .order_by(PolicyParameter.key, PolicyParameter.effective_from, PolicyParameter.id)
    )
    out = [Binding(r, r.key[: -len(PROCESS_SUFFIX)]) for r in rows if _relevant(r.jurisdiction, viewer)]
    return [b for b in out if process_key is None or b.row.value == process_key]


def _case_counts(viewer: Jurisdiction) -> dict[int, tuple[int, int]]:
    running = func.sum(sql_case((Case.status == "running", 1), else_=0))
    rows = db.session.execute(
        select(Case.process_version_id, func.count(), running)
        .where(Case.jurisdiction_path.startswith(viewer.path)).group_by(Case.process_version_id)
    )
    return {vid: (total, int(run or 0)) for vid, total, run in rows}


def process_library(viewer: Jurisdiction) -> list[ProcessSummary]:
    """流程图库: every deployed process with its versions and where it is used."""
    counts = _case_counts(viewer)
    library: dict[str, ProcessSummary] = {}
    versions = db.session.scalars(
        select(ProcessVersion).order_by(ProcessVersion.process_key, ProcessVersion.version.desc())
    )
    for version in versions:
        summary = library.setdefault(version.process_key, ProcessSummary(version.process_key, version.name))
        total, running = counts.get(version.id, (0, 0))
        summary.versions.append(VersionSummary(version, total, running, latest=not summary.versions))
    for binding in bindings(viewer):
        if binding.row.value in library:
            library[binding.row.value].bindings.append(binding)
    return list(library.values())


def get_version(version_id: int) -> ProcessVersion:
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(f"流程版本 {version_id} 不存在")
    return version


def version_summary(version: ProcessVersion, viewer: Jurisdiction) -> VersionSummary:
    total, running = _case_counts(viewer).get(version.id, (0, 0))
    newest = db.session.scalar(select(func.max(ProcessVersion.version)).filter_by(process_key=version.process_key))
    return VersionSummary(version, total, running, latest=version.version == newest)


def running_cases(version: ProcessVersion, viewer: Jurisdiction, limit: int = 50) -> list[Case]:
    return list(db.session.scalars(
        select(Case).where(Case.process_version_id == version.id, Case.status == "running",
                           Case.jurisdiction_path.startswith(viewer.path)).order_by(Case.id).limit(limit)
    ))


def deployed_file(sha256: str) -> DiagramFile:
    """A deployed BPMN/DMN file, bytes exactly as uploaded."""
    return fetch(DiagramFile, sha256, "文件")


def main_file(version: ProcessVersion) -> DiagramFile:
    return deployed_file(version.files[0]["sha256"])


# -- uploading and deploying ----------------------------------------------------------------------


def diagram_source(file_name: str, content: bytes) -> DiagramSource:
    """An uploaded file as a diagram source; refused unless it is a non-empty ``.bpmn``/``.dmn`` file."""
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name.lower().endswith(DIAGRAM_SUFFIXES):
        raise RuleViolation(f"文件 {name or '（无名）'} 不是 .bpmn 或 .dmn 文件")
    if not content:
        raise RuleViolation(f"文件 {name} 是空的")
    if len(content) > MAX_DIAGRAM_BYTES:
        raise RuleViolation(f"文件 {name} 超过 {MAX_DIAGRAM_BYTES // 1024 // 1024} MB")
    return DiagramSource(name, content)


def with_library(source: DiagramSource) -> list[DiagramSource]:
    """The file plus the other files of ``processes/`` (for the processes and decisions it calls)."""
    library = [s for s in read_directory(project_dir("processes")) if s.file_name != source.file_name]
    return [source, *library]


def _affected(source: DiagramSource) -> list[tuple[list[DiagramSource], str]]:
    """(bundle, process id) of each procedure whose bundle contains the file."""
    sources = with_library(source)
    out = []
    for main, process_id in procedures_in(sources):
        bundle = bundle_for(main, sources)
        if source in bundle:
            out.append((bundle, process_id))
    return out


def check_diagram(source: DiagramSource) -> list[str]:
    """部署前校验 without deploying: every procedure the file belongs to parses and passes the lint.

    Raises DiagramInvalid naming the file, the element (id and name) and the reason; returns the process
    ids it would deploy."""
    source.parse_xml()
    if not source.is_dmn and not source.process_ids():
        raise DiagramInvalid(source.file_name, [no_executable(source)])
    affected = _affected(source)
    if source.is_dmn and not affected:
        _check_dmn(source)
    for bundle, process_id in affected:
        parse_bundle(bundle, process_id)
    return [process_id for _, process_id in affected]


def _check_dmn(source: DiagramSource) -> None:
    tree = source.parse_xml()
    try:
        SpiffBpmnParser(validator=VALIDATOR).add_dmn_xml(tree.getroot(), filename=source.file_name)
    except ValidationException as exc:
        raise DiagramInvalid(source.file_name, [describe_validation(exc, tree)]) from exc


def _deploy(source: DiagramSource, actor: str, clock: Clock) -> list[ProcessVersion]:
    files: list[DiagramSource] = []
    for bundle, _ in _affected(source):
        files += [s for s in bundle if s not in files]
    versions = deploy(files or [source], actor, clock.now())
    for version in versions:
        audit.record(clock.now(), actor, "diagram_deployed", process=version.process_key, version=version.version,
                     file=source.file_name, sha256=source.sha256, bundle_sha256=version.bundle_sha256)
    return versions


def deploy_diagram(editor: User, source: DiagramSource, clock: Clock) -> list[ProcessVersion]:
    """Validate and deploy an uploaded file as new versions of the procedures it belongs to (uploaded
    bytes unchanged). Invalid: DiagramInvalid, nothing stored, the running versions stay. Unchanged: []."""
    require_editor(editor)
    with transaction():
        versions = _deploy(source, editor.username, clock)
    return versions


# -- drafts ---------------------------------------------------------------------------------------


def save_draft(editor: User, source: DiagramSource, note: str, clock: Clock) -> DiagramDraft:
    """草稿: keep a file (uploaded or saved from the modeler) byte for byte, without validating or deploying."""
    require_editor(editor)
    with transaction():
        draft = DiagramDraft(file_name=source.file_name, content=source.content, sha256=source.sha256,
                             note=(note or "").strip()[:300], saved_at=clock.now(), saved_by=editor.username)
        db.session.add(draft)
        db.session.flush()
        audit.record(clock.now(), editor.username, "draft_saved", draft_id=draft.id, file=draft.file_name,
                     sha256=draft.sha256, note=draft.note)
    return draft


def drafts() -> list[DiagramDraft]:
    return list(db.session.scalars(select(DiagramDraft).order_by(DiagramDraft.id.desc())))


def get_draft(draft_id: int) -> DiagramDraft:
    return fetch(DiagramDraft, draft_id, "草稿")


def check_draft(draft_id: int) -> list[str]:
    """Validate a draft like an upload; DiagramInvalid if it would be refused."""
    draft = get_draft(draft_id)
    return check_diagram(DiagramSource(draft.file_name, draft.content))


def deploy_draft(editor: User, draft_id: int, clock: Clock) -> list[ProcessVersion]:
    """Deploy a draft (its bytes exactly) as new versions; refused like an invalid upload."""
    require_editor(editor)
    with transaction():
        draft = get_draft(draft_id)
        versions = _deploy(DiagramSource(draft.file_name, draft.content), editor.username, clock)
        audit.record(clock.now(), editor.username, "draft_deployed", draft_id=draft.id,
                     versions=[f"{v.process_key} v{v.version}" for v in versions])
    return versions


# -- policy parameters ----------------------------------------------------------------------------


def parameter_keys() -> list[str]:
    """Every key that has a value somewhere (new keys are added in policy/parameters.json, not here)."""
    return list(db.session.scalars(select(PolicyParameter.key).distinct().order_by(PolicyParameter.key)))


def procedures() -> list[str]:
    return [k[: -len(PROCESS_SUFFIX)] for k in parameter_keys() if k.endswith(PROCESS_SUFFIX)]


def parameter_rows(viewer: Jurisdiction, key: str | None = None) -> list[PolicyParameter]:
    """The rows that apply in the viewer's area, by key, jurisdiction and date."""
    query = select(PolicyParameter).order_by(PolicyParameter.key, PolicyParameter.jurisdiction_id,
                                             PolicyParameter.effective_from, PolicyParameter.id)
    if key:
        query = query.where(PolicyParameter.key == key)
    return [r for r in db.session.scalars(query) if _relevant(r.jurisdiction, viewer)]


TYPE_NAMES = {bool: "是/否", int: "整数", float: "数字", str: "文字", list: "列表", dict: "对象"}


def _kind(value: Any) -> type:
    return bool if isinstance(value, bool) else type(value)


def expected_type(key: str) -> type:
    """The type of the values ``key`` has now; NotFound if the key has no value anywhere."""
    values = list(db.session.scalars(select(PolicyParameter.value).filter_by(key=key)))
    if not values:
        raise NotFound(f"政策参数 {key} 不存在（新参数请在 policy/parameters.json 中添加）")
    kinds = {_kind(v) for v in values}
    return kinds.pop() if len(kinds) == 1 else (float if kinds <= {int, float} else str)


def parse_value(key: str, text: str) -> Any:
    """The text typed in a form, as a value of the type ``key`` already has (RuleViolation otherwise)."""
    kind, raw = expected_type(key), (text or "").strip()
    try:
        if kind is bool:
            if raw.lower() in ("true", "是", "1"):
                return True
            if raw.lower() in ("false", "否", "0"):
                return False
            raise ValueError(raw)
        if kind in (list, dict):
            value = json.loads(raw)
            if not isinstance(value, kind):
                raise ValueError(raw)
            return value
        if not raw:
            raise ValueError(raw)
        return kind(raw)
    except ValueError as exc:
        raise RuleViolation(f"{key} 的值应为{TYPE_NAMES.get(kind, kind.__name__)}，“{raw}”不符合") from exc


def _check_value(key: str, value: Any) -> None:
    kind = expected_type(key)
    ok = _kind(value) is kind or (kind is float and _kind(value) is int)
    if not ok:
        raise RuleViolation(f"{key} 的值应为{TYPE_NAMES.get(kind, kind.__name__)}，不能设为 {value!r}")
    if key.endswith(PROCESS_SUFFIX) and not db.session.scalar(select(ProcessVersion.id).filter_by(process_key=value)):
        raise RuleViolation(f"流程 {value} 尚未部署，不能绑定")


def _rows_of(place: Jurisdiction, key: str) -> list[PolicyParameter]:
    return list(db.session.scalars(
        select(PolicyParameter).filter_by(jurisdiction_id=place.id, key=key).order_by(PolicyParameter.effective_from)
    ))


def _in_force(rows: list[PolicyParameter], on: date) -> PolicyParameter | None:
    return next((r for r in rows if r.effective_from <= on and (r.effective_to is None or r.effective_to > on)), None)


def _end_of_new_row(rows: list[PolicyParameter], current: PolicyParameter | None, start: date,
                    end: date | None) -> date | None:
    """Until the current row would have ended, or the next planned row starts; an explicit end must not
    overlap the next planned row."""
    later = [r.effective_from for r in rows if r.effective_from > start]
    following = min(later) if later else None
    if end is not None:
        if end <= start:
            raise RuleViolation(f"截止日期 {end} 应晚于生效日期 {start}")
        if following is not None and end > following:
            raise RuleViolation(f"截止日期 {end} 与自 {following} 起的设置重叠")
        return end
    candidates = [d for d in (current.effective_to if current else None, following) if d is not None]
    return min(candidates) if candidates else None


def set_parameter(editor: User, key: str, value: Any, jurisdiction_code: str, effective_from: date, clock: Clock,
                  effective_to: date | None = None, source: str = "") -> PolicyParameter:
    """修改政策参数: ``key`` = ``value`` for a jurisdiction from a date (not before today).

    The row of the same jurisdiction in force on that date is closed the day before (effective_to is
    exclusive); the new row runs until that row would have ended, the next planned change, or
    ``effective_to``. Cases already started keep the values they started with. Audited."""
    with transaction():
        row = _set(editor, key, value, jurisdiction_code, effective_from, clock, effective_to, source)
    return row


def _set(editor: User, key: str, value: Any, code: str, start: date, clock: Clock, end: date | None,
         source: str, action: str = "policy_parameter_set") -> PolicyParameter:
    place = jurisdiction_by_code(code)
    require_editor(editor, place)
    _check_value(key, value)
    today = local_date(clock.now())
    if start < today:
        raise RuleViolation(f"生效日期 {start} 早于今天 {today}：政策修改只能从今天或以后生效，已有记录不改写")
    rows = _rows_of(place, key)
    current = _in_force(rows, start)
    new_end = _end_of_new_row(rows, current, start, end)
    closed = None
    if current is not None:
        closed = {"id": current.id, "value": current.value, "effective_from": current.effective_from,
                  "effective_to_before": current.effective_to, "effective_to": start}
        current.effective_to = start
    row = PolicyParameter(jurisdiction=place, key=key, value=value, effective_from=start, effective_to=new_end,
                          source=(source or f"{editor.display_name} 修改").strip()[:300])
    db.session.add(row)
    db.session.flush()
    audit.record(clock.now(), editor.username, action, key=key, jurisdiction=place.code, value=value,
                 effective_from=start, effective_to=new_end, parameter_id=row.id, closed=closed, source=row.source)
    log.info("%s: %s = %r for %s from %s", editor.username, key, value, place.code, start)
    return row


def bind_process(editor: User, procedure: str, process_key: str, jurisdiction_code: str, effective_from: date,
                 clock: Clock, effective_to: date | None = None, source: str = "") -> PolicyParameter:
    """流程绑定: from ``effective_from`` new ``procedure`` cases of the jurisdiction (and below, unless set
    lower) start on the newest version of ``process_key``. Running cases keep their version."""
    if procedure not in procedures():
        raise RuleViolation(f"没有名为 {procedure} 的办理程序（已有：{'、'.join(procedures())}）")
    with transaction():
        row = _set(editor, f"{procedure}{PROCESS_SUFFIX}", process_key, jurisdiction_code, effective_from, clock,
                   effective_to, source, action="process_bound")
    return row

