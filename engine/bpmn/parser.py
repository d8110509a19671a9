"""Parsing and validating a bundle (流程图解析与校验) with SpiffWorkflow's spiff parser: the BPMN/DMN schema,
SpiffWorkflow's own checks, the lint (engine.bpmn.validation) and the trial evaluation (engine.bpmn.dry_run),
under the rules the caller hands in; every refusal names the file, the element and the reason. What is worth
saying but not refusing is a notice (:func:`notices`)."""
from __future__ import annotations

import logging
import re
import time

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from sqlalchemy import select

from engine.bpmn.decision_tables import check_outputs
from engine.bpmn.dry_run import dry_run
from engine.bpmn.forms import load_form
from engine.bpmn.gateways import gateway_notices
from engine.bpmn.rules import DiagramRules
from engine.bpmn.source import DiagramSource, bundle_hash
from engine.bpmn.validation import NS, SchemaViolation, add_dmn, explain_validation, lint, new_parser, too_deep
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
    """Every stage's problems of every file at once (the schema and SpiffWorkflow's own checks, the lint, then
    the trial run), each named with its file when it is not the main one; a problem that follows from one
    already reported (the same element failing again in the trial run) is folded under it."""
    parser = new_parser()
    by_file: list[tuple[DiagramSource, list[str]]] = []
    parsed = True
    for source in bundle:
        found: list[str] = []
        try:
            tree = source.parse_xml()
        except DiagramInvalid as exc:  # not XML at all: nothing more to check in it
            by_file.append((source, exc.problems))
            parsed = False
            continue
        try:
            if source.is_dmn:
                add_dmn(parser, source.file_name, tree)  # DiagramInvalid naming the decision, never another exception
            else:
                _add_bpmn(parser, source, tree)
        except DiagramInvalid as exc:
            found += exc.problems
            parsed = False
        found += [p for p in lint(tree, rules) if p not in found]  # BPMN: lanes, forms, expressions, other modelers
        if source.is_dmn:
            found += check_outputs(source)  # literal outputs fit their column's type and allowed values
        if found:
            by_file.append((source, found))
    file_name, problems = _named(bundle, by_file)
    if not parsed:
        raise DiagramInvalid(file_name, problems)
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        tree = next((s.parse_xml() for s in bundle if s.file_name == exc.file_name), None)
        known = [*parser.get_process_ids(), *_deployed_processes()]
        explained = explain_validation(exc, tree, _trees(bundle), known)
        raise DiagramInvalid(exc.file_name or bundle[0].file_name,
                             problems if explained in problems else [*problems, explained]) from exc
    except RecursionError as exc:
        raise DiagramInvalid(bundle[0].file_name, [*problems, too_deep(_trees(bundle))]) from exc
    except Exception as exc:
        raise DiagramInvalid(bundle[0].file_name, [*problems, _unparsable(exc)]) from exc
    deep = too_deep(_trees(bundle), only_if_deep=True)
    if deep:  # a trial run would fail deep inside the chain and blame whichever step it reached
        raise DiagramInvalid(bundle[0].file_name, [*problems, deep])
    started = time.perf_counter()
    try:
        tried = dry_run(bundle, process_id, rules)
    except RecursionError as exc:
        raise DiagramInvalid(bundle[0].file_name, [*problems, too_deep(_trees(bundle))]) from exc
    log.debug("dry run of %s: %.1f ms", process_id, (time.perf_counter() - started) * 1000)
    tried = _not_knock_on(tried, problems)
    if problems and tried:  # what the trial run found beside them may follow from them: folded under them
        raise DiagramInvalid(file_name, [*problems, (f"另有 {len(tried)} 处试运行问题，可能由上述问题引起，修正上述问题后"
                                                    f"再校验：{'；'.join(tried)}")])
    if problems or tried:
        raise DiagramInvalid(file_name if problems else bundle[0].file_name, problems or tried)
    return spec, subprocess_specs


def notices(bundle: list[DiagramSource]) -> list[str]:
    """What a deploy of ``bundle`` is told without being refused (提示): exclusive gateways that may find no
    condition true (engine.bpmn.gateways); elements of a file other than the main one named with their file."""
    found = gateway_notices([s.parse_xml() for s in bundle], load_form)
    return [n if source is bundle[0] else f"{source.file_name} 中 {n}" for source, ns in zip(bundle, found, strict=True)
            for n in ns]


def _named(bundle: list[DiagramSource], by_file: list[tuple[DiagramSource, list[str]]]) -> tuple[str, list[str]]:
    """The file a refusal names and its problems: the one file that has any, or the main file with every other
    file's problems named with their file."""
    if len(by_file) == 1:
        return by_file[0][0].file_name, by_file[0][1]
    return bundle[0].file_name, [p if source is bundle[0] or p.startswith(source.file_name) else f"{source.file_name} 中 {p}"
                                 for source, problems in by_file for p in problems]


_ELEMENT = re.compile(r"(?:^|\s)\w+ '([^']+)'")  # an element named in a problem: userTask 'x', 规则 'r2'


def _elements(problem: str) -> list[str]:
    """The ids of the elements a problem names, the most specific (a decision table's rule) last."""
    return _ELEMENT.findall(problem)


def _not_knock_on(tried: list[str], reported: list[str]) -> list[str]:
    """The trial run's problems but those about an element already reported (its failure follows from that)."""
    causes = {ids[-1] for p in reported if (ids := _elements(p))}
    return [p for p in tried if not causes.intersection(_elements(p))]


def _add_bpmn(parser, source: DiagramSource, tree) -> None:
    try:
        parser.add_bpmn_xml(tree.getroot(), filename=source.file_name)
    except SchemaViolation as exc:
        raise DiagramInvalid(source.file_name, exc.problems) from exc
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
