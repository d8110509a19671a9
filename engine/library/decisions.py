"""Decision tables in the diagram library (流程图库：决策表): each DMN file deployed with a procedure, its
decisions (id and name), its deployed versions — the bytes kept as uploaded, who uploaded them and when —
and the process versions that were deployed with each of them. Read-only; the web only renders it."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from sqlalchemy import func, select

from engine.bpmn.deployment import newest_versions
from engine.core.db import db
from engine.core.models import DiagramFile, ProcessVersion
from engine.library.catalogue import last_deployed_files

log = logging.getLogger(__name__)

DMN_SUFFIX = ".dmn"


@dataclass(frozen=True)
class Decision:
    """One ``<decision>`` of a DMN file: its id (what a business rule task calls) and name."""

    id: str
    name: str
    hit_policy: str = ""
    rules: int = 0


@dataclass(frozen=True)
class UsingVersion:
    """A process version deployed with the file (``newest``: it is the newest version of its process)."""

    id: int
    process_key: str
    version: int
    newest: bool


@dataclass
class DecisionFileVersion:
    """A deployed version of a DMN file (a DiagramFile row) and the process versions that contain it."""

    number: int
    sha256: str
    file_name: str
    uploaded_at: datetime
    uploaded_by: str
    size: int
    decisions: list[Decision]
    used_by: list[UsingVersion] = field(default_factory=list)
    last_deployed: bool = False


@dataclass
class DecisionTable:
    """A DMN file of the library by name, its versions newest first."""

    file_name: str
    versions: list[DecisionFileVersion] = field(default_factory=list)

    @property
    def current(self) -> DecisionFileVersion:
        """The version last deployed (what uploads are validated with), else the newest upload."""
        return next((v for v in self.versions if v.last_deployed), self.versions[0])

    @property
    def decisions(self) -> list[Decision]:
        return self.current.decisions


def decisions_in(content: bytes) -> list[Decision]:
    """The decisions of a DMN document (any DMN version); [] if it cannot be read."""
    try:
        root = etree.fromstring(content)
    except etree.XMLSyntaxError:
        log.warning("a deployed DMN file is not well-formed XML")
        return []
    out = []
    for node in root.iter("{*}decision"):
        table = next(node.iter("{*}decisionTable"), None)
        rules = len(list(table.iter("{*}rule"))) if table is not None else 0
        out.append(Decision(node.get("id") or "", node.get("name") or "",
                            (table.get("hitPolicy") or "UNIQUE") if table is not None else "", rules))
    return out


def _using() -> dict[str, list[UsingVersion]]:
    """sha256 → the process versions whose files contain it (spec_json is not loaded)."""
    newest = newest_versions()
    rows = db.session.execute(select(ProcessVersion.id, ProcessVersion.process_key, ProcessVersion.version,
                                     ProcessVersion.files).order_by(ProcessVersion.process_key,
                                                                    ProcessVersion.version.desc()))
    using: dict[str, list[UsingVersion]] = {}
    for version_id, key, number, files in rows:
        for item in files:
            using.setdefault(item["sha256"], []).append(UsingVersion(version_id, key, number, newest.get(key) == number))
    return using


def decision_library() -> list[DecisionTable]:
    """决策表: every deployed DMN file by name (sorted), each with its versions, newest upload first."""
    rows = db.session.scalars(
        select(DiagramFile).where(func.lower(DiagramFile.file_name).like(f"%{DMN_SUFFIX}"))
        .order_by(DiagramFile.file_name, DiagramFile.uploaded_at, DiagramFile.sha256)
    )
    using, last = _using(), last_deployed_files()
    tables: dict[str, DecisionTable] = {}
    for row in rows:
        table = tables.setdefault(row.file_name, DecisionTable(row.file_name))
        table.versions.append(DecisionFileVersion(
            number=len(table.versions) + 1, sha256=row.sha256, file_name=row.file_name, uploaded_at=row.uploaded_at,
            uploaded_by=row.uploaded_by, size=len(row.content), decisions=decisions_in(row.content),
            used_by=using.get(row.sha256, []), last_deployed=last.get(row.file_name) == row.sha256))
    for table in tables.values():
        table.versions.reverse()
    return [tables[name] for name in sorted(tables)]
