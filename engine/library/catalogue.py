"""The diagram library's read side (流程图库): every deployed process with its versions, how many cases run on
each in the viewer's area and which bindings start new cases on it, the exact deployed bytes, and the files as
last deployed (what an upload is validated and bundled with). Read-only; changes are engine.library.deploying,
engine.library.drafts and engine.policy.editing."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from engine.bpmn.deployment import newest_version_number
from engine.bpmn.parser import procedures_in
from engine.bpmn.source import DiagramSource, bundle_for, read_directory
from engine.core.config import project_dir
from engine.core.db import db, fetch
from engine.core.errors import DiagramInvalid
from engine.core.models import Case, DiagramFile, Jurisdiction, ProcessVersion
from engine.policy.bindings import Binding, bindings

log = logging.getLogger(__name__)


# -- the library ----------------------------------------------------------------------------------


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


def version_summary(version: ProcessVersion, viewer: Jurisdiction, today: date | None = None) -> VersionSummary:
    """Cases on the version in the viewer's area, and the bindings (in force on ``today`` or later) using it."""
    total, running = _case_counts(viewer).get(version.id, (0, 0))
    newest = newest_version_number(version.process_key)
    used = [b for b in bindings(viewer, version.process_key)
            if today is not None and b.ends_after(today) and b.uses(version, newest)]
    return VersionSummary(version, total, running, latest=version.version == newest, bindings=used)


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


def bundles_containing(source: DiagramSource) -> list[tuple[list[DiagramSource], str]]:
    """(bundle, process id) of each procedure whose bundle contains the file."""
    sources = with_library(source)
    out = []
    for main, process_id in procedures_in(sources):
        bundle = bundle_for(main, sources)
        if source in bundle:
            out.append((bundle, process_id))
    return out
