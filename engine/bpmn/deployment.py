"""Deployed versions (流程版本): each executable procedure of a bundle stored as a versioned process
definition — the uploaded bytes unchanged, a content hash, and the serialized spec stored once per version —
and the lookups of versions by process."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from engine.bpmn.parser import no_executable, parse_bundle, procedures_in
from engine.bpmn.procedures import change_problem
from engine.bpmn.rules import DiagramRules
from engine.bpmn.source import DiagramSource, bundle_for, bundle_hash
from engine.bpmn.spec_cache import dump_spec
from engine.bpmn.validation import describe
from engine.core.db import db, forget_when_the_transaction_ends
from engine.core.errors import DiagramInvalid, NotFound
from engine.core.models import DiagramFile, ProcessVersion

log = logging.getLogger(__name__)


def deploy(sources: list[DiagramSource], actor: str, now: datetime, rules: DiagramRules) -> list[ProcessVersion]:
    """Deploy every procedure in ``sources`` whose files changed (checked against ``rules``); return the new
    versions.

    Everything is validated before anything is stored: one invalid file deploys nothing, nor does a version
    declaring another procedure than the process's versions before it (engine.bpmn.procedures).
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
        spec, subprocess_specs = parse_bundle(bundle, process_id, rules)
        refuse_procedure_change(main, process_id)
        planned.append((process_id, spec, subprocess_specs, bundle, digest))
    return [_store(actor, now, *plan) for plan in planned]


def refuse_procedure_change(main: DiagramSource, process_id: str) -> None:
    """DiagramInvalid when ``main``, as a new version of ``process_id``, declares another procedure than the
    process's deployed versions carry out (engine.bpmn.procedures.change_problem)."""
    problem = change_problem(process_id, main.parse_xml(), describe)
    if problem:
        raise DiagramInvalid(main.file_name, [problem])


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
    _newest_versions()[process_id] = version
    log.info("deployed %s version %s (%s)", process_id, version.version, digest[:12])
    return version


def latest_version(process_key: str) -> ProcessVersion:
    """The newest deployed version of ``process_key`` (new cases start on it; running cases keep theirs), read
    once per transaction: a case opened on it and the steps projected for it then (engine.cases.tasks.step_marks)
    ask for it again; a version deployed in the transaction is the newest from then on."""
    newest = _newest_versions()
    if process_key not in newest:
        newest[process_key] = db.session.scalar(
            select(ProcessVersion)
            .where(ProcessVersion.process_key == process_key)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        )
    if newest[process_key] is None:
        raise NotFound(f"流程 {process_key} 尚未部署")
    return newest[process_key]


_NEWEST = "fangpin.newest_versions"  # session.info: process key → its newest version (None: none), this transaction


def _newest_versions() -> dict[str, ProcessVersion | None]:
    return db.session().info.setdefault(_NEWEST, {})


forget_when_the_transaction_ends(_NEWEST)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    """A rollback, of a savepoint too, may take back a version deployed in it: the newest are read again."""
    session.info.pop(_NEWEST, None)


def get_version(version_id: int) -> ProcessVersion:
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(f"流程版本 {version_id} 不存在")
    return version


def newest_version_number(process_key: str) -> int:
    return db.session.scalar(select(func.max(ProcessVersion.version)).filter_by(process_key=process_key)) or 0


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
