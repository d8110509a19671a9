"""Policy administration (政策管理): the diagram library, drafts, deploying uploaded diagrams, and policy
parameters set from a date — which diagram a jurisdiction runs (``<procedure>.process``) and values such
as publicity days. Only policy editors (政策管理员) change anything, and only at or below their own
jurisdiction; every change is audited. Running cases are never touched: they keep the diagram version
and the parameter values they started with."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from engine.bpmn.decision_tables import check_outputs
from engine.bpmn.deployment import (
    DiagramSource,
    bundle_for,
    deploy,
    describe_validation,
    latest_version,
    no_executable,
    parse_bundle,
    procedures_in,
    read_directory,
)
from engine.bpmn.validation import lint
from engine.cases.functions import local_date
from engine.core import audit
from engine.core.clock import Clock
from engine.core.config import project_dir
from engine.core.db import db, fetch
from engine.core.errors import DiagramInvalid, NotFound, PermissionDenied, PolicyMissing, RuleViolation
from engine.core.models import (
    LEVELS,
    Case,
    DiagramDraft,
    DiagramFile,
    Jurisdiction,
    PolicyParameter,
    ProcessVersion,
    User,
)
from engine.core.transaction import transaction
from engine.policy.parameters import PROCESS_SUFFIX, resolve
from engine.policy.schemas import check_policy_value

log = logging.getLogger(__name__)

EDITOR_ROLE = "policy_editor"
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
class ProcessRef:
    """The value of a ``<procedure>.process`` binding: ``"<process_key>"`` follows the newest deployed version
    (最新版本), ``"<process_key>@<version>"`` is pinned to one version (固定版本)."""

    key: str
    version: int | None = None

    @property
    def pinned(self) -> bool:
        return self.version is not None

    def __str__(self) -> str:
        return self.key if self.version is None else f"{self.key}{VERSION_SEPARATOR}{self.version}"

    @property
    def label(self) -> str:
        return f"{self.key} v{self.version}（固定版本）" if self.pinned else f"{self.key}（最新版本）"


VERSION_SEPARATOR = "@"


def parse_process_ref(value: Any) -> ProcessRef:
    """The one reading of a binding value: ``"identification"`` or ``"identification@2"``; RuleViolation when
    it is neither (process ids never contain ``@``)."""
    text = value.strip() if isinstance(value, str) else ""
    key, separator, number = text.partition(VERSION_SEPARATOR)
    if not key or (separator and not (number.isascii() and number.isdigit() and int(number) > 0)):
        raise RuleViolation(f"流程绑定“{value}”格式不正确，应为“流程标识”或“流程标识@版本号”（如 identification@2）")
    return ProcessRef(key, int(number) if separator else None)


def bound_version(value: Any) -> ProcessVersion:
    """The version a new case starts on for a binding value: the pinned one, or the newest deployed one.
    NotFound when the process (or the pinned version) is not deployed."""
    ref = parse_process_ref(value)
    if not ref.pinned:
        return latest_version(ref.key)
    found = db.session.scalar(select(ProcessVersion).filter_by(process_key=ref.key, version=ref.version))
    if found is None:
        raise NotFound(f"流程 {ref.key} 没有第 {ref.version} 版（绑定 {value}）")
    return found


@dataclass(frozen=True)
class Binding:
    """A ``<procedure>.process`` row: which jurisdiction runs the process (a version, or the newest) from which
    date (流程绑定)."""

    row: PolicyParameter
    procedure: str

    @property
    def jurisdiction(self) -> Jurisdiction:
        return self.row.jurisdiction

    @property
    def ref(self) -> ProcessRef:
        return parse_process_ref(self.row.value)

    def uses(self, version: ProcessVersion, newest: int) -> bool:
        """New cases under this binding start on ``version`` (``newest``: the newest version of its process)."""
        ref = self.ref
        return ref.key == version.process_key and (ref.version or newest) == version.version

    def ends_after(self, day: date) -> bool:
        return self.row.effective_to is None or self.row.effective_to > day


@dataclass
class VersionSummary:
    """A deployed version with how many cases (in the viewer's area) run or ran on it."""

    version: ProcessVersion
    cases: int = 0
    running: int = 0
    latest: bool = False
    bindings: list[Binding] = field(default_factory=list)  # in force now or later, starting new cases on it


@dataclass
class ProcessSummary:
    """One process (流程) with its versions, newest first, and the jurisdictions bound to it."""

    key: str
    name: str
    versions: list[VersionSummary] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)


def _binding_rows() -> list[Binding]:
    rows = db.session.scalars(
        select(PolicyParameter).where(PolicyParameter.key.endswith(PROCESS_SUFFIX))
        .order_by(PolicyParameter.key, PolicyParameter.effective_from, PolicyParameter.id)
    )
    return [Binding(r, r.key[: -len(PROCESS_SUFFIX)]) for r in rows]


def bindings(viewer: Jurisdiction, process_key: str | None = None) -> list[Binding]:
    """Every ``*.process`` row that applies in the viewer's area (optionally: naming ``process_key``, pinned
    to one of its versions or not)."""
    out = [b for b in _binding_rows() if _relevant(b.jurisdiction, viewer)]
    return [b for b in out if process_key is None or b.ref.key == process_key]


def _case_counts(viewer: Jurisdiction) -> dict[int, tuple[int, int]]:
    running = func.sum(sql_case((Case.status == "running", 1), else_=0))
    rows = db.session.execute(
        select(Case.process_version_id, func.count(), running)
        .where(Case.jurisdiction_path.startswith(viewer.path)).group_by(Case.process_version_id)
    )
    return {vid: (total, int(run or 0)) for vid, total, run in rows}


def process_library(viewer: Jurisdiction, today: date | None = None) -> list[ProcessSummary]:
    """流程图库: every deployed process with its versions and where it is used — each binding of the viewer's
    area, and for each version the bindings (in force on ``today`` or later) that start new cases on it."""
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
        summary = library.get(binding.ref.key)
        if summary is None:
            continue
        summary.bindings.append(binding)
        if today is not None and binding.ends_after(today):
            newest = summary.versions[0].version.version
            for item in summary.versions:
                if binding.uses(item.version, newest):
                    item.bindings.append(binding)
    return list(library.values())


def get_version(version_id: int) -> ProcessVersion:
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(f"流程版本 {version_id} 不存在")
    return version


def newest_version_number(process_key: str) -> int:
    return db.session.scalar(select(func.max(ProcessVersion.version)).filter_by(process_key=process_key)) or 0


def version_summary(version: ProcessVersion, viewer: Jurisdiction, today: date | None = None) -> VersionSummary:
    """Cases on the version in the viewer's area, and the bindings (in force on ``today`` or later) using it."""
    total, running = _case_counts(viewer).get(version.id, (0, 0))
    newest = newest_version_number(version.process_key)
    used = [b for b in bindings(viewer, version.process_key)
            if today is not None and b.ends_after(today) and b.uses(version, newest)]
    return VersionSummary(version, total, running, latest=version.version == newest, bindings=used)


def newest_versions() -> dict[str, int]:
    """Each deployed process and the number of its newest version."""
    rows = db.session.execute(select(ProcessVersion.process_key, func.max(ProcessVersion.version))
                              .group_by(ProcessVersion.process_key))
    return {key: number for key, number in rows}


def versions_of(process_key: str) -> list[ProcessVersion]:
    """The deployed versions of a process, newest first."""
    return list(db.session.scalars(
        select(ProcessVersion).filter_by(process_key=process_key).order_by(ProcessVersion.version.desc())
    ))


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


def last_deployed_files() -> dict[str, str]:
    """File name → sha256 of its bytes in the newest deployed version that contains it, or of a decision
    table deployed on its own (no process calls it yet) after that."""
    events: list[tuple[datetime, int, str, str]] = []
    in_versions: set[str] = set()
    for version_id, deployed_at, files in db.session.execute(
            select(ProcessVersion.id, ProcessVersion.deployed_at, ProcessVersion.files)):
        events += [(deployed_at, version_id, f["file_name"], f["sha256"]) for f in files]
        in_versions.update(f["sha256"] for f in files)
    for sha, name, uploaded_at in db.session.execute(
            select(DiagramFile.sha256, DiagramFile.file_name, DiagramFile.uploaded_at)
            .where(func.lower(DiagramFile.file_name).like("%.dmn"))):
        if sha not in in_versions:
            events.append((uploaded_at, 0, name, sha))
    return {name: sha for _, _, name, sha in sorted(events)}


def deployed_library() -> list[DiagramSource]:
    """The files as last deployed: for each file name, its bytes in the newest version that contains it (a
    deployed change of ``publicity.bpmn`` is what later uploads are validated and bundled with); files of
    ``processes/`` that were never deployed, from disk. Sorted by file name."""
    newest = last_deployed_files()
    stored = {f.sha256: f for f in db.session.scalars(select(DiagramFile).where(DiagramFile.sha256.in_(newest.values())))}
    library = {name: DiagramSource(name, stored[sha].content) for name, sha in newest.items() if sha in stored}
    for source in read_directory(project_dir("processes")):
        library.setdefault(source.file_name, source)
    return [library[name] for name in sorted(library)]


def _defines(source: DiagramSource) -> set[str]:
    try:
        return set(source.decision_ids() if source.is_dmn else source.process_ids())
    except DiagramInvalid:
        return set()


def with_library(source: DiagramSource) -> list[DiagramSource]:
    """The file plus the other files of the library as last deployed (for the processes and decisions it
    calls); a library file of the same name, or defining the same process or decision, is replaced."""
    replaced = _defines(source)
    library = [s for s in deployed_library()
               if s.file_name != source.file_name and not (replaced and replaced & _defines(s))]
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
    problems = lint(tree) + check_outputs(source)
    if problems:
        raise DiagramInvalid(source.file_name, problems)


def _store_decision_table(source: DiagramSource, actor: str, clock: Clock) -> None:
    """A new decision table that no process calls yet: checked and kept in the library (byte for byte), so
    that a diagram calling it can be validated and deployed with it."""
    _check_dmn(source)
    if db.session.get(DiagramFile, source.sha256) is not None:
        return
    db.session.add(DiagramFile(sha256=source.sha256, file_name=source.file_name, content=source.content,
                               uploaded_at=clock.now(), uploaded_by=actor))
    audit.record(clock.now(), actor, "decision_table_deployed", file=source.file_name, sha256=source.sha256,
                 decisions=source.decision_ids())


@dataclass(frozen=True)
class BindingRequest:
    """部署并绑定: after deploying, pin ``procedure`` of a jurisdiction to the new version from a date.
    ``keep_others``: bindings elsewhere that follow the newest version are pinned (from today) to the version
    they use now, so that only this jurisdiction changes."""

    procedure: str
    jurisdiction_code: str
    effective_from: date
    effective_to: date | None = None
    source: str = ""
    keep_others: bool = True


def _deploy(source: DiagramSource, actor: str, clock: Clock) -> list[ProcessVersion]:
    files: list[DiagramSource] = []
    for bundle, _ in _affected(source):
        files += [s for s in bundle if s not in files]
    if source.is_dmn and not files:
        _store_decision_table(source, actor, clock)
        return []
    versions = deploy(files or [source], actor, clock.now())
    for version in versions:
        audit.record(clock.now(), actor, "diagram_deployed", process=version.process_key, version=version.version,
                     file=source.file_name, sha256=source.sha256, bundle_sha256=version.bundle_sha256)
    return versions


def _check_procedure(procedure: str) -> None:
    if procedure not in procedures():
        raise RuleViolation(f"没有名为 {procedure} 的办理程序（已有：{'、'.join(procedures())}）")


def _deploy_and_bind(editor: User, source: DiagramSource, clock: Clock,
                     request: BindingRequest | None) -> list[ProcessVersion]:
    """Inside the caller's transaction: deploy, then (when asked) pin the jurisdiction to the new version."""
    if request is None:
        return _deploy(source, editor.username, clock)
    _check_procedure(request.procedure)
    require_editor(editor, jurisdiction_by_code(request.jurisdiction_code))
    before = {key: newest_version_number(key) for key in _bound_keys()}
    versions = _deploy(source, editor.username, clock)
    if not versions:
        raise RuleViolation("文件与已部署的版本相同，没有新的版本可绑定；如需改用已有的版本，请在该版本页“回退到此版本”")
    target = _version_to_bind(source, versions, request)
    key = f"{request.procedure}{PROCESS_SUFFIX}"
    if request.keep_others:
        # the jurisdiction's own row is replaced by the new binding when that starts today: not pinned first
        replaced = (key, request.jurisdiction_code) if request.effective_from <= local_date(clock.now()) else None
        for version in versions:
            if before.get(version.process_key):
                _pin_followers(editor, version.process_key, before[version.process_key], clock, replaced)
    _set(editor, key, str(ProcessRef(target.process_key, target.version)), request.jurisdiction_code, request.effective_from, clock, request.effective_to,
         request.source or f"部署 {target.process_key} v{target.version} 并绑定", action="process_bound")
    return versions


def _bound_keys() -> set[str]:
    return {b.ref.key for b in _binding_rows()}


def _version_to_bind(source: DiagramSource, versions: list[ProcessVersion],
                     request: BindingRequest) -> ProcessVersion:
    """The new version to pin: the uploaded file's own process, else the one the jurisdiction runs for the
    procedure on that date, else the only one deployed; refused when it cannot be told."""
    own = [v for v in versions if not source.is_dmn and v.process_key in source.process_ids()]
    if len(own) == 1:
        return own[0]
    place = jurisdiction_by_code(request.jurisdiction_code)
    try:
        running = parse_process_ref(resolve(f"{request.procedure}{PROCESS_SUFFIX}", place, request.effective_from))
    except PolicyMissing:
        running = None
    same = [v for v in versions if running is not None and v.process_key == running.key]
    if len(same) == 1:
        return same[0]
    if len(versions) == 1:
        return versions[0]
    names = "、".join(f"{v.process_key} v{v.version}" for v in versions)
    raise RuleViolation(f"{source.file_name} 部署了多个流程（{names}），无法确定 {place.full_name} 绑定哪一个；"
                        "未部署。请不填绑定先部署，再在流程绑定页选择流程和版本")


def _pin_followers(editor: User, process_key: str, version: int, clock: Clock,
                   replaced: tuple[str, str] | None = None) -> None:
    """Every binding that follows the newest version of ``process_key`` and is in force today or later keeps
    the version it uses now: pinned to ``version`` from today (a planned one from its own date). Audited as
    ``process_pinned``, in every jurisdiction: it keeps what they run, it does not change it."""
    today = local_date(clock.now())
    for binding in _binding_rows():
        row = binding.row
        if binding.ref != ProcessRef(process_key) or not binding.ends_after(today):
            continue
        if replaced == (row.key, row.jurisdiction.code) and row.effective_from <= today:
            continue
        pinned = str(ProcessRef(process_key, version))
        note = f"部署新版本时保持原版本 v{version}"
        if row.effective_from >= today:
            audit.record(clock.now(), editor.username, "process_pinned", key=row.key, jurisdiction=row.jurisdiction.code,
                         value=pinned, value_before=row.value, effective_from=row.effective_from,
                         effective_to=row.effective_to, parameter_id=row.id, source=note)
            row.value = pinned
            continue
        _set(editor, row.key, pinned, row.jurisdiction.code, today, clock, None, note,
             action="process_pinned", check_place=False)


def following_newest(viewer: Jurisdiction, process_keys: list[str], today: date) -> list[Binding]:
    """Bindings of the viewer's area, in force today or later, that follow the newest version of one of
    ``process_keys`` (a new version changes them at once)."""
    return [b for b in bindings(viewer) if not b.ref.pinned and b.ref.key in process_keys and b.ends_after(today)]


def deploy_diagram(editor: User, source: DiagramSource, clock: Clock,
                   binding: BindingRequest | None = None) -> list[ProcessVersion]:
    """Validate and deploy an uploaded file as new versions of the procedures it belongs to (uploaded
    bytes unchanged). Invalid: DiagramInvalid, nothing stored, the running versions stay. Unchanged: [].

    With ``binding`` the new version is also pinned for the jurisdiction from its date, in the same
    transaction: if the binding is refused, nothing is deployed."""
    require_editor(editor)
    with transaction():
        versions = _deploy_and_bind(editor, source, clock, binding)
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


def deploy_draft(editor: User, draft_id: int, clock: Clock, binding: BindingRequest | None = None
                 ) -> list[ProcessVersion]:
    """Deploy a draft (its bytes exactly) as new versions, bound like an upload when asked; refused like an
    invalid upload."""
    require_editor(editor)
    with transaction():
        draft = get_draft(draft_id)
        versions = _deploy_and_bind(editor, DiagramSource(draft.file_name, draft.content), clock, binding)
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
    problems = check_policy_value(key, value)
    if problems:
        raise RuleViolation(f"{key} 的值不符合要求：" + "；".join(problems))
    if key.endswith(PROCESS_SUFFIX):
        ref = parse_process_ref(value)
        numbers = list(db.session.scalars(select(ProcessVersion.version).filter_by(process_key=ref.key)
                                          .order_by(ProcessVersion.version)))
        if not numbers:
            raise RuleViolation(f"流程 {ref.key} 尚未部署，不能绑定")
        if ref.pinned and ref.version not in numbers:
            raise RuleViolation(f"流程 {ref.key} 没有第 {ref.version} 版（已部署："
                                f"{'、'.join(f'v{n}' for n in numbers)}），不能绑定")


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
         source: str, action: str = "policy_parameter_set", check_place: bool = True,
         **detail: Any) -> PolicyParameter:
    place = jurisdiction_by_code(code)
    require_editor(editor, place if check_place else None)
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
                 effective_from=start, effective_to=new_end, parameter_id=row.id, closed=closed, source=row.source,
                 **detail)
    log.info("%s: %s = %r for %s from %s", editor.username, key, value, place.code, start)
    return row


def bind_process(editor: User, procedure: str, process_key: str, jurisdiction_code: str, effective_from: date,
                 clock: Clock, effective_to: date | None = None, source: str = "",
                 version: int | None = None) -> PolicyParameter:
    """流程绑定: from ``effective_from`` new ``procedure`` cases of the jurisdiction (and below, unless set
    lower) start on ``version`` of ``process_key`` or, without a version, on its newest deployed version
    (``process_key`` may also be given as ``"<key>@<version>"``). Running cases keep their version."""
    _check_procedure(procedure)
    ref = parse_process_ref(process_key)
    if version is not None:
        ref = ProcessRef(ref.key, version)
    with transaction():
        row = _set(editor, f"{procedure}{PROCESS_SUFFIX}", str(ref), jurisdiction_code, effective_from, clock,
                   effective_to, source, action="process_bound")
    return row


def roll_back(editor: User, version_id: int, procedure: str, jurisdiction_code: str, effective_from: date,
              clock: Clock, source: str = "") -> PolicyParameter:
    """回退到此版本: from ``effective_from`` (today or later) new ``procedure`` cases of the jurisdiction start
    on this (earlier) version — the binding is pinned to it. Running cases are not touched. Audited as
    ``process_rolled_back`` with the binding it replaces (pinning the newest version: ``process_bound``)."""
    _check_procedure(procedure)
    version = get_version(version_id)
    key = f"{procedure}{PROCESS_SUFFIX}"
    newest = newest_version_number(version.process_key)
    older = version.version < newest
    with transaction():
        place = jurisdiction_by_code(jurisdiction_code)
        try:
            before = resolve(key, place, effective_from)
        except PolicyMissing:
            before = None
        note = f"{'回退到' if older else '固定使用'} {version.process_key} v{version.version}"
        row = _set(editor, key, str(ProcessRef(version.process_key, version.version)), jurisdiction_code,
                   effective_from, clock, None, source or note, action="process_rolled_back" if older else "process_bound",
                   note=note, replaces=before, replaces_version=_version_number(before), newest_version=newest)
    return row


def _version_number(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return bound_version(value).version
    except (NotFound, RuleViolation):
        return None

