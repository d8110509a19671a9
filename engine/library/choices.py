"""What the modeler's properties panel offers a policy editor (建模器可选项): the forms, the roles a lane may name,
what a user task may say the step is (its publicStage and ledgerStep), the procedures a process may declare it
carries out (engine.bpmn.procedures), the deployed processes a call activity may call, the decisions of the
deployed decision tables, the dates a due date or timer may count from, and the functions and builtins a script
or expression may call."""
from __future__ import annotations

import inspect
import logging
from typing import Any

from engine.bpmn.forms import form_names, load_form
from engine.bpmn.scripting import builtin_names
from engine.bpmn.validation import NS, STEP_MARKS
from engine.cases.functions import CaseContext
from engine.core.clock import Clock
from engine.core.vocabulary import Procedure
from engine.library.catalogue import deployed_library
from engine.library.decisions import decision_library
from engine.library.stand_ins import FUNCTION_NOTES, function_label
from engine.policy.roles import all_roles

log = logging.getLogger(__name__)

START_DATES = {"today()": ["任务开始之日"], "lead_date": ["发现日期"]}  # what every due date may count from


def modeler_choices(actor: str, clock: Clock) -> dict[str, Any]:
    """Everything the properties panel offers, as JSON-ready lists (``actor``: the editor, for the functions'
    context)."""
    forms, dates = _forms_and_dates()
    return {
        "forms": forms,
        "roles": [{"key": r.key, "name": r.name, "lanes": list(r.lanes)} for r in all_roles().values() if r.lanes],
        "marks": [{"property": name, "label": what, "values": [{"value": code.value, "label": code.label}
                                                               for code in codes]}
                  for name, (codes, what) in STEP_MARKS.items()],
        "procedures": [{"value": code.value, "label": code.label} for code in Procedure],
        "processes": _callable_processes(),
        "decisions": sorted(({"id": d.id, "name": d.name, "file": table.file_name}
                             for table in decision_library() for d in table.decisions if d.id),
                            key=lambda d: d["id"]),
        "dates": [{"expr": expr, "label": f"{'／'.join(titles)}（{expr}）"} for expr, titles in dates.items()],
        "functions": _functions(actor, clock),
        "builtins": builtin_names(),
    }


def _forms_and_dates() -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    """The forms (file, title), and each date field of a form with its titles: a step's due date may count from
    a date its form records."""
    forms, dates = [], {key: list(titles) for key, titles in START_DATES.items()}
    for name in form_names():
        try:
            schema = load_form(name)
        except ValueError:  # FormKeywordInvalid too: refused when a diagram using it is checked
            log.warning("form %s is not readable JSON or declares its keywords wrongly: left out of the modeler's "
                        "choices", name)
            continue
        forms.append({"file": name, "title": str(schema.get("title") or "")})
        for field, spec in (schema.get("properties") or {}).items():
            if isinstance(spec, dict) and spec.get("format") == "date" and spec.get("title"):
                titles = dates.setdefault(field, [])
                if spec["title"] not in titles:
                    titles.append(str(spec["title"]))
    return forms, dates


def _callable_processes() -> list[dict[str, str]]:
    """What a call activity may call: the processes of the files as last deployed (and processes/)."""
    processes: dict[str, dict[str, str]] = {}
    for source in deployed_library():
        if not source.is_dmn:
            for node in source.parse_xml().iterfind(".//bpmn:process", NS):
                if node.get("id"):
                    processes.setdefault(node.get("id"), {"id": node.get("id"), "name": node.get("name") or "",
                                                          "file": source.file_name})
    return [processes[key] for key in sorted(processes)]


def _functions(actor: str, clock: Clock) -> list[dict[str, str]]:
    """The functions a diagram's code may call, with their signatures (no annotations), labels and notes."""
    functions = []
    for name, fn in sorted(CaseContext(None, actor, clock).functions().items()):  # type: ignore[arg-type]
        try:
            plain = [p.replace(annotation=inspect.Parameter.empty) for p in inspect.signature(fn).parameters.values()]
            signature = str(inspect.Signature(plain))
        except (TypeError, ValueError):
            signature = "(…)"
        functions.append({"name": name, "signature": name + signature, "label": function_label(name),
                          "note": FUNCTION_NOTES.get(name, "")})
    return functions
