"""Parsing and validating a bundle (流程图解析与校验) with SpiffWorkflow's spiff parser: the BPMN/DMN schema,
SpiffWorkflow's own checks, the lint (engine.bpmn.validation) and the trial evaluation (engine.bpmn.dry_run),
under the rules the caller hands in; every refusal names the file, the element and the reason."""
from __future__ import annotations

import logging
import time

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.bpmn.decision_tables import check_outputs
from engine.bpmn.dry_run import dry_run
from engine.bpmn.rules import DiagramRules
from engine.bpmn.source import DiagramSource, bundle_hash
from engine.bpmn.validation import NS, describe_validation, lint
from engine.core.config import project_dir
from engine.core.errors import DiagramInvalid

log = logging.getLogger(__name__)


_PARSED: dict[tuple[str, ...], tuple[BpmnProcessSpec, dict]] = {}  # (process, bundle hash, …) → parsed spec


def parse_bundle(bundle: list[DiagramSource], process_id: str, rules: DiagramRules) -> tuple[BpmnProcessSpec, dict]:
    """Validate (XSD, SpiffWorkflow, fangpin lint, 部署前试算 of every expression with sample data) and return
    ``(spec, subprocess_specs)``; a bundle already validated in this process (same bytes) is not parsed or
    tried again.

    Raises DiagramInvalid naming the file, the element and the reason.
    """
    key = (process_id, bundle_hash(bundle), str(project_dir("forms")), rules.state())
    if key not in _PARSED:
        _PARSED[key] = _parse_bundle(bundle, process_id, rules)
    return _PARSED[key]


def _parse_bundle(bundle: list[DiagramSource], process_id: str, rules: DiagramRules) -> tuple[BpmnProcessSpec, dict]:
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
        problems = lint(tree, rules.is_lane)  # BPMN: lanes, forms, expressions compile; DMN: every cell compiles
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
    problems = dry_run(bundle, process_id, rules)
    log.debug("dry run of %s: %.1f ms", process_id, (time.perf_counter() - started) * 1000)
    if problems:
        raise DiagramInvalid(bundle[0].file_name, problems)
    return spec, subprocess_specs


def procedures_in(sources: list[DiagramSource]) -> list[tuple[DiagramSource, str]]:
    """Executable processes that no other file calls: the procedures to deploy."""
    called = set().union(*(s.called_processes() for s in sources if not s.is_dmn))
    return [(s, pid) for s in sources if not s.is_dmn for pid in s.process_ids() if pid not in called]


def no_executable(source: DiagramSource) -> str:
    processes = source.parse_xml().iterfind(".//bpmn:process", NS)
    named = "、".join(f"process '{p.get('id')}'" + (f"（{p.get('name')}）" if p.get("name") else "") for p in processes)
    return f"{named or '文件'}：没有可执行的流程（需要 isExecutable=\"true\"），描述性模型不能部署"
