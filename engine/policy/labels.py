"""What a policy parameter is called (参数名称) and how its value reads where officials see them — the parameters
page, its refusals and its confirmations: the names are policy data (``policy/parameter_labels.json``), a key
``identification.village_publicity_days`` reads 识别纳入 · 村级公示天数, a department's warning thresholds
行业预警标准：医保部门; never the key itself."""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from engine.bpmn.forms import form_names, load_form
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.models import PolicyParameter, ProcessVersion
from engine.core.vocabulary import Procedure
from engine.policy.departments import DEPARTMENT_PREFIX
from engine.policy.exclusions import criteria_sets
from engine.policy.schemas import value_names

LABELS_FILE = "parameter_labels.json"
SHOWN_CHARACTERS = 200  # a confirmation shows this much of a structured value; the page lists all of it


@functools.cache
def _labels(folder: str) -> dict[str, Any]:
    return json.loads((project_dir("policy") / LABELS_FILE).read_text(encoding="utf-8"))


def _data() -> dict[str, Any]:
    return _labels(str(project_dir("policy")))


def named(key: str) -> bool:
    """Does ``key`` have a name of its own (its area and its name are in policy/parameter_labels.json, or it is a
    department's thresholds)?"""
    area, _, rest = key.partition(".")
    data = _data()
    return key.startswith(DEPARTMENT_PREFIX + ".") or (
        (area in Procedure.labels() or area in data["areas"]) and rest in data["names"])


def parameter_label(key: str, value: Any = None, department: str | None = None) -> str:
    """What ``key`` is called: 识别纳入 · 村级公示天数; a department's thresholds by the department's name in
    ``value``, else ``department``, else its code."""
    data = _data()
    if key.startswith(DEPARTMENT_PREFIX + "."):
        name = value.get("name") if isinstance(value, dict) else None
        return f"{data['departments']}：{name or department or key.removeprefix(DEPARTMENT_PREFIX + '.')}"
    area, _, rest = key.partition(".")
    return f"{Procedure.labels().get(area) or data['areas'].get(area, area)} · {data['names'].get(rest, rest)}"


def parameter_labels(keys: Iterable[str]) -> dict[str, str]:
    """Each key's name (:func:`parameter_label`), a department by the name its values give anywhere (one
    statement for them all)."""
    wanted = list(dict.fromkeys(keys))
    departments: dict[str, str] = {}
    codes = [k for k in wanted if k.startswith(DEPARTMENT_PREFIX + ".")]
    if codes:
        rows = db.session.execute(select(PolicyParameter.key, PolicyParameter.value)
                                  .where(PolicyParameter.key.in_(codes)).order_by(PolicyParameter.id))
        for key, value in rows:
            if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"]:
                departments.setdefault(key, value["name"])
    return {k: parameter_label(k, department=departments.get(k)) for k in wanted}


def value_words() -> dict[str, str]:
    """A code a value holds → what it means, as the parameters page shows it: the fixed values of the schemas
    (formerly_poor: 脱贫人口), each deployed diagram by its name (a procedure's ``process``), each exclusion list by
    its place (``exclusion_set``), each form by its title (``opener_may_not_complete``)."""
    words = {name: str(load_form(name).get("title") or name) for name in form_names()}
    words |= {key: f"{spec.get('jurisdiction_hint') or key}的清单" for key, spec in criteria_sets().items()}
    words |= dict(db.session.execute(select(ProcessVersion.process_key, ProcessVersion.name)
                                     .order_by(ProcessVersion.version)).all())
    return words | value_names()


def value_text(value: Any) -> str:
    """A saved value as a confirmation says it: 是/否, a number or text as it is, a list of names joined by 、,
    anything structured as JSON (with its Chinese unescaped), shortened."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return "无"
    if isinstance(value, str | int | float):
        text = str(value)
    elif isinstance(value, list) and all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
        text = "、".join(str(v) for v in value) if value else "（空）"
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "…"
