"""Deploying diagrams (流程部署): parse and validate BPMN/DMN files with SpiffWorkflow's spiff
parser and store each executable procedure as a versioned process definition — the uploaded bytes
unchanged, a content hash, and the serialized spec stored once per version."""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import func, select

from engine.bpmn.decision_tables import check_outputs
from engine.bpmn.dry_run import dry_run
from engine.bpmn.validation import NS, lint
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import DiagramInvalid, NotFound
from engine.core.models import DiagramFile, PolicyParameter, ProcessVersion

log = logging.getLogger(__name__)

SPEC_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


@dataclass
class DiagramSource:
    """One BPMN or DMN file as uploaded."""

    file_name: str
    content: bytes
    sha256: str = field(init=False)
    tree: etree._ElementTree | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.content).hexdigest()

    @property
    def is_dmn(self) -> bool:
        return self.file_name.lower().endswith(".dmn")

    def parse_xml(self) -> etree._ElementTree:
        if self.tree is None:
            try:
                self.tree = etree.ElementTree(etree.fromstring(self.content))
            except etree.XMLSyntaxError as exc:
                raise DiagramInvalid(self.file_name, [f"XML 格式错误（第 {exc.lineno} 行）：{exc.msg}"]) from exc
        return self.tree

    def process_ids(self) -> list[str]:
        return [p.get("id") for p in self.parse_xml().iterfind(".//bpmn:process[@isExecutable='true']", NS)]

    def called_processes(self) -> set[str]:
        return {c.get("calledElement") for c in self.parse_xml().iterfind(".//bpmn:callActivity", NS)}

    def called_decisions(self) -> set[str]:
        return {(n.text or "").strip() for n in self.parse_xml().iterfind(".//spiffworkflow:calledDecisionId", NS)}

    def decision_ids(self) -> list[str]:
        return [d.get("id") for d in self.parse_xml().iter("{*}decision")]


def read_directory(directory: Path) -> list[DiagramSource]:
    """Every ``.bpmn`` and ``.dmn`` file of a folder, sorted by name."""
    paths = sorted([*directory.glob("*.bpmn"), *directory.glob("*.dmn")])
    return [DiagramSource(p.name, p.read_bytes()) for p in paths]


def bundle_for(main: DiagramSource, library: list[DiagramSource]) -> list[DiagramSource]:
    """``main`` plus the files that define the processes and decisions it calls, transitively."""
    by_process = {pid: s for s in library if not s.is_dmn for pid in s.process_ids()}
    by_decision = {did: s for s in library if s.is_dmn for did in s.decision_ids()}
    bundle, todo = [main], [main]
    while todo:
        source = todo.pop()
        wanted = [by_process.get(p) for p in source.called_processes()]
        wanted += [by_decision.get(d) for d in source.called_decisions()]
        for dep in wanted:
            if dep is not None and dep not in bundle:
                bundle.append(dep)
                todo.append(dep)
    return bundle


def bundle_hash(bundle: list[DiagramSource]) -> str:
    joined = "\n".join(f"{s.file_name}:{s.sha256}" for s in bundle)
    return hashlib.sha256(joined.encode()).hexdigest()


_PARSED: dict[tuple[str, ...], tuple[BpmnProcessSpec, dict]] = {}  # (process, bundle hash, …) → parsed spec


def parse_bundle(bundle: list[DiagramSource], process_id: str) -> tuple[BpmnProcessSpec, dict]:
    """Validate (XSD, SpiffWorkflow, fangpin lint, 部署前试算 of every expression with sample data) and return
    ``(spec, subprocess_specs)``; a bundle already validated in this process (same bytes) is not parsed or
    tried again.

    Raises DiagramInvalid naming the file, the element and the reason.
    """
    key = (process_id, bundle_hash(bundle), str(project_dir("forms")), str(project_dir("policy")), _policy_state())
    if key not in _PARSED:
        _PARSED[key] = _parse_bundle(bundle, process_id)
    return _PARSED[key]


def _policy_state() -> str:
    """Changes whenever a policy parameter is added (the trial run uses the parameters in force); rows are
    only ever added, or closed when a later one is added."""
    count, last = db.session.execute(select(func.count(PolicyParameter.id), func.max(PolicyParameter.id))).one()
    return f"{count}:{last}"


def _parse_bundle(bundle: list[DiagramSource], process_id: str) -> tuple[BpmnProcessSpec, dict]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for source in bundle:
        tree = source.parse_xml()
        try:
            if source.is_dmn:
                parser.add_dmn_xml(tree.getroot(), filename=source.file_name)
            else:
                parser.add_bpmn_xml(tree.getroot(), filename=source.file_name)
        except ValidationException as exc:
            raise DiagramInvalid(source.file_name, [describe_validation(exc, tree)]) from exc
        problems = lint(tree)  # BPMN: lanes, forms, expressions compile; DMN: every cell compiles
        if source.is_dmn:
            problems += check_outputs(source)  # literal outputs fit their column's type and allowed values
        if problems:
            raise DiagramInvalid(source.file_name, problems)
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DiagramInvalid(exc.file_name or bundle[0].file_name, [describe_validation(exc, None)]) from exc
    started = time.perf_counter()
    problems = dry_run(bundle, process_id)
    log.debug("dry run of %s: %.1f ms", process_id, (time.perf_counter() - started) * 1000)
    if problems:
        raise DiagramInvalid(bundle[0].file_name, problems)
    return spec, subprocess_specs


def describe_validation(exc: ValidationException, tree: etree._ElementTree | None) -> str:
    element = f"元素 '{exc.id}'" if exc.id else ""
    if exc.name:
        element += f"（{exc.name}）"
    line = exc.line_number
    if not line and tree is not None and exc.id:
        found = tree.getroot().find(f".//*[@id='{exc.id}']")
        line = found.sourceline if found is not None else ""
    where = f"第 {line} 行 " if line else ""
    message = str(exc).strip().rstrip(".").strip()
    return f"{where}{element}：{message}" if element or where else message


def dump_spec(spec: BpmnProcessSpec, subprocess_specs: dict) -> str:
    return json.dumps(
        {
            "serializer_version": VERSION,
            "spec": SPEC_SERIALIZER.to_dict(spec),
            "subprocess_specs": {k: SPEC_SERIALIZER.to_dict(v) for k, v in subprocess_specs.items()},
        }
    )


class SpecCache:
    """(process, bundle hash) → (spec, subprocess_specs), restored once per process."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[BpmnProcessSpec, dict]] = {}

    def get(self, version: ProcessVersion) -> tuple[BpmnProcessSpec, dict]:
        key = (version.process_key, version.bundle_sha256)
        if key not in self._cache:
            d = json.loads(version.spec_json)
            self._cache[key] = (
                SPEC_SERIALIZER.from_dict(d["spec"]),
                {k: SPEC_SERIALIZER.from_dict(v) for k, v in d["subprocess_specs"].items()},
            )
        return self._cache[key]


SPECS = SpecCache()


def procedures_in(sources: list[DiagramSource]) -> list[tuple[DiagramSource, str]]:
    """Executable processes that no other file calls: the procedures to deploy."""
    called = set().union(*(s.called_processes() for s in sources if not s.is_dmn))
    return [(s, pid) for s in sources if not s.is_dmn for pid in s.process_ids() if pid not in called]


def deploy(sources: list[DiagramSource], actor: str, now: datetime) -> list[ProcessVersion]:
    """Deploy every procedure in ``sources`` whose files changed; return the new versions.

    Everything is validated before anything is stored: one invalid file deploys nothing.
    """
    for source in sources:
        if not source.is_dmn and not source.process_ids():
            raise DiagramInvalid(source.file_name, [no_executable(source)])
    planned = []
    for main, process_id in procedures_in(sources):
        bundle = bundle_for(main, sources)
        digest = bundle_hash(bundle)
        if _version_with_hash(process_id, digest) is not None:
            continue
        spec, subprocess_specs = parse_bundle(bundle, process_id)
        planned.append((process_id, spec, subprocess_specs, bundle, digest))
    return [_store(actor, now, *plan) for plan in planned]


def no_executable(source: DiagramSource) -> str:
    processes = source.parse_xml().iterfind(".//bpmn:process", NS)
    named = "、".join(f"process '{p.get('id')}'" + (f"（{p.get('name')}）" if p.get("name") else "") for p in processes)
    return f"{named or '文件'}：没有可执行的流程（需要 isExecutable=\"true\"），描述性模型不能部署"


def _version_with_hash(process_id: str, digest: str) -> ProcessVersion | None:
    return db.session.scalar(
        select(ProcessVersion).filter_by(process_key=process_id, bundle_sha256=digest)
    )


def _store(actor, now, process_id, spec, subprocess_specs, bundle, digest) -> ProcessVersion:
    for source in bundle:
        if db.session.get(DiagramFile, source.sha256) is None:
            db.session.add(
                DiagramFile(
                    sha256=source.sha256, file_name=source.file_name, content=source.content,
                    uploaded_at=now, uploaded_by=actor,
                )
            )
    last = db.session.scalar(select(func.max(ProcessVersion.version)).filter_by(process_key=process_id))
    version = ProcessVersion(
        process_key=process_id,
        name=spec.description or process_id,
        version=(last or 0) + 1,
        bundle_sha256=digest,
        files=[{"file_name": s.file_name, "sha256": s.sha256} for s in bundle],
        spec_json=dump_spec(spec, subprocess_specs),
        deployed_at=now,
        deployed_by=actor,
    )
    db.session.add(version)
    db.session.flush()
    log.info("deployed %s version %s (%s)", process_id, version.version, digest[:12])
    return version


def latest_version(process_key: str) -> ProcessVersion:
    """The newest deployed version of ``process_key`` (new cases start on it; running cases keep theirs)."""
    version = db.session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_key == process_key)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(f"流程 {process_key} 尚未部署")
    return version
