"""Parsing and validating a bundle (流程图解析与校验) with SpiffWorkflow's spiff parser: the BPMN/DMN schema,
SpiffWorkflow's own checks, the lint (engine.bpmn.validation) and the trial evaluation (engine.bpmn.dry_run),
under the rules the caller hands in; every refusal names the file, the element and the reason."""
from __future__ import annotations

import logging
import time

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from sqlalchemy import select

from engine.bpmn.decision_tables import check_outputs
from engine.bpmn.dry_run import dry_run
from engine.bpmn.rules import DiagramRules
from engine.bpmn.source import DiagramSource, bundle_hash
from engine.bpmn.validation import NS, add_dmn, explain_validation, lint, new_parser, too_deep
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import DiagramInvalid
from engine.core.models import ProcessVersion

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
    parser = new_parser()
    for source in bundle:
        tree = source.parse_xml()
        if source.is_dmn:
            add_dmn(parser, source.file_name, tree)  # DiagramInvalid naming the decision, never another exception
        else:
            _add_bpmn(parser, source, tree)
        problems = lint(tree, rules)  # BPMN: lanes, forms, expressions compile, other modelers' attributes; DMN: cells
        if source.is_dmn:
            problems += check_outputs(source)  # literal outputs fit their column's type and allowed values
        if problems:
            raise DiagramInvalid(source.file_name, problems)
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        tree = next((s.parse_xml() for s in bundle if s.file_name == exc.file_name), None)
        known = [*parser.get_process_ids(), *_deployed_processes()]
        raise DiagramInvalid(exc.file_name or bundle[0].file_name,
                             [explain_validation(exc, tree, _trees(bundle), known)]) from exc
    except RecursionError as exc:
        raise DiagramInvalid(bundle[0].file_name, [too_deep(_trees(bundle))]) from exc
    except Exception as exc:
        raise DiagramInvalid(bundle[0].file_name, [_unparsable(exc)]) from exc
    deep = too_deep(_trees(bundle), only_if_deep=True)
    if deep:  # a trial run would fail deep inside the chain and blame whichever step it reached
        raise DiagramInvalid(bundle[0].file_name, [deep])
    started = time.perf_counter()
    try:
        problems = dry_run(bundle, process_id, rules)
    except RecursionError as exc:
        raise DiagramInvalid(bundle[0].file_name, [too_deep(_trees(bundle))]) from exc
    log.debug("dry run of %s: %.1f ms", process_id, (time.perf_counter() - started) * 1000)
    if problems:
        raise DiagramInvalid(bundle[0].file_name, problems)
    return spec, subprocess_specs


def _add_bpmn(parser, source: DiagramSource, tree) -> None:
    try:
        parser.add_bpmn_xml(tree.getroot(), filename=source.file_name)
    except ValidationException as exc:
        raise DiagramInvalid(source.file_name, [explain_validation(exc, tree, [tree])]) from exc
    except RecursionError as exc:
        raise DiagramInvalid(source.file_name, [too_deep([tree])]) from exc
    except Exception as exc:
        raise DiagramInvalid(source.file_name, [_unparsable(exc)]) from exc


def _trees(bundle: list[DiagramSource]) -> list:
    return [s.parse_xml() for s in bundle if not s.is_dmn]


def _deployed_processes() -> list[str]:
    """The process ids deployed so far (for naming what a call activity may call)."""
    try:
        return list(db.session.scalars(select(ProcessVersion.process_key).distinct()))
    except RuntimeError:  # no application context (a check outside the app)
        return []


def _unparsable(exc: Exception) -> str:
    return (f"SpiffWorkflow 无法解析该文件（{type(exc).__name__}：{exc}）：请检查文件是否为 BPMN 2.0 / DMN 导出的完整文件，"
            "或在编辑器中重新导出")


def procedures_in(sources: list[DiagramSource]) -> list[tuple[DiagramSource, str]]:
    """Executable processes that no other file calls: the procedures to deploy."""
    called = set().union(*(s.called_processes() for s in sources if not s.is_dmn))
    return [(s, pid) for s in sources if not s.is_dmn for pid in s.process_ids() if pid not in called]


def no_executable(source: DiagramSource) -> str:
    processes = source.parse_xml().iterfind(".//bpmn:process", NS)
    named = "、".join(f"process '{p.get('id')}'" + (f"（{p.get('name')}）" if p.get("name") else "") for p in processes)
    return f"{named or '文件'}：没有可执行的流程（需要 isExecutable=\"true\"），描述性模型不能部署"
