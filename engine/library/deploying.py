"""Uploading and deploying (上传与部署) a diagram or decision table from the library: checked as a bundle with the
files as last deployed, deployed as new versions, and when asked bound to one jurisdiction from a date in the
same transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine.bpmn.decision_tables import check_outputs
from engine.bpmn.deployment import newest_version_number, refuse_procedure_change
from engine.bpmn.parser import no_executable, notices
from engine.bpmn.source import DiagramSource
from engine.bpmn.validation import add_dmn, lint_dmn, new_parser
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import DiagramInvalid, PolicyMissing, RuleViolation
from engine.core.models import DiagramFile, PolicyParameter, ProcessVersion, User
from engine.core.transaction import transaction
from engine.library.catalogue import bundles_containing, deployed_library
from engine.library.rules import deploy, parse_bundle
from engine.policy.bindings import ProcessRef, binding_rows, bound_keys, parse_process_ref
from engine.policy.check import refuse_unstartable
from engine.policy.editing import check_procedure, write_parameter
from engine.policy.parameters import PROCESS_SUFFIX, resolve
from engine.policy.permissions import jurisdiction_by_code, require_editor
from timers.calendar import to_local_date

DIAGRAM_SUFFIXES = (".bpmn", ".dmn")


MAX_DIAGRAM_BYTES = 2 * 1024 * 1024


def diagram_source(file_name: str, content: bytes) -> DiagramSource:
    """An uploaded file as a diagram source; refused unless it is a non-empty ``.bpmn``/``.dmn`` file (no file
    chosen: 请选择要上传的文件)."""
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name and not content:
        raise RuleViolation("请选择要上传的文件（BPMN 流程图 .bpmn 或 DMN 决策表 .dmn）")
    if not name.lower().endswith(DIAGRAM_SUFFIXES):
        raise RuleViolation(f"文件 {name or '（无名）'} 不是 .bpmn 或 .dmn 文件")
    if not content:
        raise RuleViolation(f"文件 {name} 是空的")
    if len(content) > MAX_DIAGRAM_BYTES:
        raise RuleViolation(f"文件 {name} 超过 {MAX_DIAGRAM_BYTES // 1024 // 1024} MB")
    return DiagramSource(name, content)


def check_diagram(source: DiagramSource) -> list[str]:
    """部署前校验 without deploying: every procedure the file belongs to parses and passes the lint.

    Raises DiagramInvalid naming the file, the element (id and name) and the reason; returns the process
    ids it would deploy."""
    source.parse_xml()
    if not source.is_dmn and not source.process_ids():
        raise DiagramInvalid(source.file_name, [no_executable(source)])
    affected = bundles_containing(source)
    if source.is_dmn and not affected:
        _check_dmn(source)
    for bundle, process_id in affected:
        parse_bundle(bundle, process_id)
        refuse_procedure_change(bundle[0], process_id)  # as deploying it would
    return [process_id for _, process_id in affected]


def diagram_notices(source: DiagramSource) -> list[str]:
    """提示 for the procedures the file belongs to (with the files as last deployed): what is worth changing
    though it is not refused — an exclusive gateway that may find no condition true, for one."""
    found: list[str] = []
    for bundle, _ in bundles_containing(source):
        found += [n for n in notices(bundle) if n not in found]
    return found


def _check_dmn(source: DiagramSource) -> None:
    tree = source.parse_xml()
    add_dmn(new_parser(), source.file_name, tree)  # DiagramInvalid naming the element, never another exception
    problems = lint_dmn(tree) + check_outputs(source)
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


def deploy_files(editor: User, sources: list[DiagramSource], clock: Clock) -> tuple[list[ProcessVersion], list[str]]:
    """``fangpin process deploy``: as uploads on /diagrams, for several files at once (sources from
    :func:`diagram_source`, so with the same size limit). Validated with the files as last deployed (a file of
    the same name, or defining the same process or decision, is replaced); the procedures whose files changed
    are deployed, and a decision table no deployed process calls is checked and kept in the library like an
    upload. Returns the new versions and the file names of the decision tables newly kept. One invalid file:
    DiagramInvalid, nothing stored."""
    require_editor(editor)
    defined = {d for s in sources for d in _defines(s)}
    names = {s.file_name for s in sources}
    library = sources + [s for s in deployed_library() if s.file_name not in names and not defined & _defines(s)]
    with transaction():
        for source in sources:
            source.parse_xml()
            if source.is_dmn:
                _check_dmn(source)  # as an upload: refused naming the decision, never another exception
        versions = deploy(library, editor.username, clock.now())
        for version in versions:
            audit.record(clock.now(), editor.username, "diagram_deployed", process=version.process_key,
                         version=version.version, files=[f["file_name"] for f in version.files],
                         bundle_sha256=version.bundle_sha256)
        used = {f["sha256"] for v in versions for f in v.files}
        kept = []
        for source in sources:
            if source.is_dmn and source.sha256 not in used and db.session.get(DiagramFile, source.sha256) is None:
                _store_decision_table(source, editor.username, clock)
                kept.append(source.file_name)
    return versions, kept


def _defines(source: DiagramSource) -> set[str]:
    return set(source.decision_ids() if source.is_dmn else source.process_ids())


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
    for bundle, _ in bundles_containing(source):
        files += [s for s in bundle if s not in files]
    if source.is_dmn and not files:
        _store_decision_table(source, actor, clock)
        return []
    versions = deploy(files or [source], actor, clock.now())
    for version in versions:
        audit.record(clock.now(), actor, "diagram_deployed", process=version.process_key, version=version.version,
                     file=source.file_name, sha256=source.sha256, bundle_sha256=version.bundle_sha256)
    return versions


class Deployed(list):
    """The new versions of a deploy (a list of ProcessVersion), with the bindings it pinned to the version they
    ran before (``pinned``), those that now start new cases on a new version (``following``) and the notices
    (提示) about the diagrams deployed (:func:`diagram_notices`)."""

    def __init__(self, versions: list[ProcessVersion]) -> None:
        super().__init__(versions)
        self.pinned: list[PolicyParameter] = []
        self.following: list[PolicyParameter] = []
        self.notices: list[str] = []


def deploy_and_bind(editor: User, source: DiagramSource, clock: Clock,
                    request: BindingRequest | None) -> Deployed:
    """Inside the caller's transaction: deploy, then (when asked) pin the jurisdiction to the new version.

    A deploy changes only the editor's own jurisdiction (and below): bindings elsewhere that follow the newest
    version — in another province, or an ancestor's row the editor's area inherits — are pinned to the version
    they ran (audited as ``process_pinned``); if that was the row in force for the editor's own area, the
    editor's jurisdiction gets its own row following the newest version, so that the change reaches it. Inside
    the editor's area, followers change with a plain deploy and, with a binding, are pinned when
    ``keep_others``."""
    if request is not None:
        check_procedure(request.procedure)
        require_editor(editor, jurisdiction_by_code(request.jurisdiction_code))
    before = {key: newest_version_number(key) for key in bound_keys()}
    deployed = Deployed(_deploy(source, editor.username, clock))
    if request is not None and not deployed:
        raise RuleViolation("文件与已部署的版本相同，没有新的版本可绑定；如需改用已有的版本，请在该版本页“回退到此版本”")
    deployed.notices = diagram_notices(source) if deployed else []
    replaced = None
    if request is not None:  # the jurisdiction's own binding from that date: replaced, not pinned first
        replaced = (f"{request.procedure}{PROCESS_SUFFIX}", request.jurisdiction_code, request.effective_from)
    inside = request is not None and request.keep_others
    for version in deployed:
        if before.get(version.process_key):
            _pin_followers(editor, version.process_key, before[version.process_key], clock, deployed,
                           replaced=replaced, inside=inside)
    if request is not None:
        target = _version_to_bind(source, deployed, request)
        key = f"{request.procedure}{PROCESS_SUFFIX}"
        value = str(ProcessRef(target.process_key, target.version))
        write_parameter(editor, key, value, request.jurisdiction_code, request.effective_from, clock,
                        request.effective_to, request.source or f"部署 {target.process_key} v{target.version} 并绑定",
                        action="process_bound")
        refuse_unstartable(request.procedure, jurisdiction_by_code(request.jurisdiction_code), value,
                           max(request.effective_from, to_local_date(clock.now())))
    return deployed


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


def _pin_followers(editor: User, process_key: str, version: int, clock: Clock, deployed: Deployed,
                   replaced: tuple[str, str, date] | None, inside: bool) -> None:
    """Bindings that follow the newest version of ``process_key`` and are in force today or later keep the
    version they use now — pinned to ``version`` from today (a planned one from its own date): every one outside
    the editor's jurisdiction, and those inside it when ``inside``. Audited as ``process_pinned``: it keeps what
    they run, it does not change it. An ancestor's row pinned so that the editor's own area would keep the old
    version too is followed by a row of the editor's jurisdiction following the newest version (unless
    ``inside``: then the editor's area keeps its version as well). The row the new binding ``replaced`` (key,
    jurisdiction, date) takes the place of from its first day in force is neither pinned nor followed: it is
    replaced, and named once."""
    today = to_local_date(clock.now())
    area = editor.jurisdiction
    for binding in binding_rows():
        row = binding.row
        if binding.ref != ProcessRef(process_key) or not binding.ends_after(today):
            continue
        if replaced == (row.key, row.jurisdiction.code, max(row.effective_from, today)):
            continue
        mine = area.contains(row.jurisdiction)
        if mine and not inside:
            deployed.following.append(row)
            continue
        deployed.pinned.append(_pin(editor, row, str(ProcessRef(process_key, version)), version, clock, today))
        if (not mine and row.jurisdiction.contains(area) and not inside and row.effective_from <= today
                and replaced != (row.key, area.code, today)):
            deployed.following.append(write_parameter(
                editor, row.key, process_key, area.code, today, clock, None,
                f"部署新版本：{area.full_name}使用最新版本（上级 {row.jurisdiction.full_name} 的绑定保持 v{version}）",
                action="process_bound"))


def _pin(editor: User, row: PolicyParameter, pinned: str, version: int, clock: Clock, today: date) -> PolicyParameter:
    note = f"部署新版本时保持原版本 v{version}"
    if row.effective_from >= today:
        audit.record(clock.now(), editor.username, "process_pinned", key=row.key, jurisdiction=row.jurisdiction.code,
                     value=pinned, value_before=row.value, effective_from=row.effective_from,
                     effective_to=row.effective_to, parameter_id=row.id, source=note)
        row.value = pinned
        return row
    return write_parameter(editor, row.key, pinned, row.jurisdiction.code, today, clock, None, note,
                           action="process_pinned", check_place=False)


def deploy_diagram(editor: User, source: DiagramSource, clock: Clock,
                   binding: BindingRequest | None = None) -> Deployed:
    """Validate and deploy an uploaded file as new versions of the procedures it belongs to (uploaded
    bytes unchanged). Invalid: DiagramInvalid, nothing stored, the running versions stay. Unchanged: [].

    With ``binding`` the new version is also pinned for the jurisdiction from its date, in the same
    transaction: if the binding is refused, nothing is deployed."""
    require_editor(editor)
    with transaction():
        versions = deploy_and_bind(editor, source, clock, binding)
    return versions
