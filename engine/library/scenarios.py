"""Trial-run scenarios (试运行场景) kept in the library per process: the JSON a draft of the process is tried against
(engine.library.trial), saved under a name by a policy editor and chosen from a list on the draft's page. The
scenarios of ``processes/scenarios/`` are added at ``fangpin init`` (the file's ``process`` or its name is the
process, ``_name`` or the file name the scenario's name). A scenario is checked before it is kept: one that could
not run is refused in Chinese, and nothing is saved."""
from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.bpmn.source import DiagramSource
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db, fetch
from engine.core.errors import DiagramInvalid
from engine.core.models import TrialScenario, User
from engine.core.transaction import transaction
from engine.library.catalogue import bundles_containing
from engine.library.stand_ins import ScenarioError
from engine.library.trial import tried_in
from engine.policy.permissions import require_editor

log = logging.getLogger(__name__)

MAX_NAME = 100
MAX_SCENARIO_CHARS = 200_000
STEP_KINDS = ("complete", "advance_to")
EXAMPLE_START = "2026-09-20T09:00:00+08:00"


# -- what a scenario is -----------------------------------------------------------------------------------


def parse_scenario(text: str) -> dict[str, Any]:
    """The scenario in ``text`` (JSON), checked for what a trial run reads; ScenarioError saying in Chinese what
    is wrong and where (the line of a JSON error, the step of a wrong step)."""
    if not (text or "").strip():
        raise ScenarioError("场景是空的：请粘贴或选择一个场景（JSON）")
    if len(text) > MAX_SCENARIO_CHARS:
        raise ScenarioError(f"场景超过 {MAX_SCENARIO_CHARS // 1000} 千字，请删减")
    try:
        scenario = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"场景不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近格式有误（{exc.msg}）；"
                            "请检查引号、逗号和括号是否成对") from None
    except RecursionError:
        raise ScenarioError("场景的 JSON 嵌套层数过多") from None
    if not isinstance(scenario, dict):
        raise ScenarioError("场景应为一个 JSON 对象（以 { 开头），包含 start、data、steps")
    _moment(scenario.get("start"), "start（开始时刻）")
    if "data" in scenario and not isinstance(scenario["data"], dict):
        raise ScenarioError("data（立案时的数据）应为 JSON 对象")
    line = scenario.get("monitoring_line")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int | float)):
        raise ScenarioError(f"monitoring_line（监测范围，元/人·年）应为数字，而不是 {json.dumps(line, ensure_ascii=False)}")
    if "process_file" in scenario and not isinstance(scenario["process_file"], str):
        raise ScenarioError("process_file 应为流程图的文件名，如 identification.bpmn")
    steps = scenario.get("steps", [])
    if not isinstance(steps, list):
        raise ScenarioError("steps（办理步骤）应为列表：[{\"complete\": 步骤名称, \"data\": {…}}, {\"advance_to\": 时刻}]")
    for number, step in enumerate(steps, start=1):
        _check_step(number, step)
    return scenario


def _check_step(number: int, step: Any) -> None:
    where = f"steps 第 {number} 步"
    if not isinstance(step, dict) or not any(kind in step for kind in STEP_KINDS):
        raise ScenarioError(f"{where}：应为 {{\"complete\": 步骤名称, \"data\": {{…}}}} 或 {{\"advance_to\": 时刻}}")
    if "complete" in step:
        if not isinstance(step["complete"], str) or not step["complete"].strip():
            raise ScenarioError(f"{where}：complete 应为要办理的步骤名称（如“入户核实”）")
        if "data" in step and not isinstance(step["data"], dict):
            raise ScenarioError(f"{where}：data（表单数据）应为 JSON 对象")
    else:
        _moment(step["advance_to"], f"{where}的 advance_to（时钟移到的时刻）")


def _moment(value: Any, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        shown = "未填写" if value is None else f"“{value}”不是带时区的时刻"
        raise ScenarioError(f"{what}{shown}；应为如 {EXAMPLE_START} 的时刻（北京时间 +08:00）")
    return moment


# -- which process a draft's scenarios are for ------------------------------------------------------------


def draft_processes(file_name: str, content: bytes) -> list[str]:
    """The processes whose scenarios a draft may be tried with: a diagram's own executable processes, a decision
    table's the processes calling it (as last deployed). A file that does not parse has none."""
    source = DiagramSource(file_name, content)
    try:
        if not source.is_dmn:
            return source.process_ids()
        return list(dict.fromkeys(process_id for _, process_id in bundles_containing(source)))
    except DiagramInvalid:
        return []


def scenario_process(file_name: str, content: bytes, scenario: dict[str, Any]) -> str:
    """The process a scenario tried on this draft is kept for: the process a trial run of the draft runs
    (:func:`engine.library.trial.tried_in`; for a decision table, the one of the scenario's ``process_file``);
    ScenarioError, nothing saved, when there is none."""
    try:
        return tried_in(DiagramSource(file_name, content), scenario)[2]
    except DiagramInvalid as exc:
        raise ScenarioError(f"{file_name} 无法解析，不能为它保存场景：{'；'.join(exc.problems)}") from exc
    except ScenarioError as exc:
        raise ScenarioError(f"{exc}；未保存") from exc


# -- the scenarios kept ----------------------------------------------------------------------------------


def scenarios_for(process_keys: list[str]) -> list[TrialScenario]:
    """The scenarios kept for these processes, by process (in the order given) and name."""
    if not process_keys:
        return []
    rows = db.session.scalars(select(TrialScenario).where(TrialScenario.process_key.in_(process_keys))
                              .order_by(TrialScenario.name, TrialScenario.id))
    return sorted(rows, key=lambda row: process_keys.index(row.process_key))


def get_scenario(scenario_id: int) -> TrialScenario:
    return fetch(TrialScenario, scenario_id, "试运行场景")


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ScenarioError("请填写场景名称；未保存")
    if len(name) > MAX_NAME:
        raise ScenarioError(f"场景名称不超过 {MAX_NAME} 个字；未保存")
    return name


def save_scenario(editor: User, process_key: str, name: str, text: str, clock: Clock) -> tuple[TrialScenario, bool]:
    """保存为场景: keep ``text`` (checked by :func:`parse_scenario`) for ``process_key`` under ``name``; a scenario of
    that name for the process is replaced. Policy editors only; audited as ``scenario_saved``. Returns the row and
    whether it replaced one. Refused (nothing saved) with ScenarioError."""
    require_editor(editor)
    name = _check_name(name)
    parse_scenario(text)
    with transaction():
        row = db.session.scalar(select(TrialScenario).filter_by(process_key=process_key, name=name))
        replaced = row is not None
        if row is None:
            row = TrialScenario(process_key=process_key, name=name)
            db.session.add(row)
        row.content, row.saved_at, row.saved_by = text, clock.now(), editor.username
        db.session.flush()
        audit.record(clock.now(), editor.username, "scenario_saved", scenario_id=row.id, process=process_key,
                     name=name, replaced=replaced)
    return row, replaced


def seed_scenarios(folder: Path, actor: str, clock: Clock) -> int:
    """Inside the caller's transaction: keep each scenario file of ``folder`` (``*.json``) for its process unless
    one of that name is kept already; a file that is not a valid scenario is left out with a warning. Returns how
    many were added."""
    added = 0
    for path in sorted(folder.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            scenario = parse_scenario(text)
        except ScenarioError as exc:
            log.warning("scenario %s left out: %s", path.name, exc)
            continue
        process_key = str(scenario.get("process") or path.stem)
        name = str(scenario.get("_name") or path.stem)[:MAX_NAME]
        if db.session.scalar(select(TrialScenario.id).filter_by(process_key=process_key, name=name)) is not None:
            continue
        db.session.add(TrialScenario(process_key=process_key, name=name, content=text, saved_at=clock.now(),
                                     saved_by=actor))
        added += 1
    return added
