"""A diagram file as uploaded (流程图文件): its bytes, content hash and parsed XML, and the bundle of
files a procedure needs (the processes and decision tables it calls, transitively)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from engine.bpmn.conventions import adopt
from engine.bpmn.validation import NS
from engine.bpmn.xml_errors import xml_problem
from engine.core.errors import DiagramInvalid


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
                raise DiagramInvalid(self.file_name, [xml_problem(exc)]) from exc
            if not self.is_dmn:
                adopt(self.tree)  # other modelers' properties, mapped in the parsed tree only (the bytes stay)
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
