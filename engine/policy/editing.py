"""Editing policy parameters (修改政策参数) from a date: checked against the type and schema of the key, the row in
force closed the day before, audited; binding a procedure to a version and rolling back are such edits."""
from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from sqlalchemy import select

from engine.bpmn.deployment import get_version, newest_version_number
from engine.bpmn.procedures import mismatch
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db
from engine.core.errors import NotFound, PolicyMissing, RuleViolation
from engine.core.models import Jurisdiction, PolicyParameter, ProcessVersion, User
from engine.core.transaction import transaction
from engine.policy.bindings import ProcessRef, applies_in, bound_version, parse_process_ref
from engine.policy.check import refuse_unstartable
from engine.policy.labels import parameter_labels
from engine.policy.parameters import PROCESS_SUFFIX, resolve
from engine.policy.permissions import jurisdiction_by_code, require_editor
from engine.policy.schemas import check_policy_value, shape_of
from timers.calendar import to_local_date

log = logging.getLogger(__name__)


def check_procedure(procedure: str) -> None:
    if procedure not in procedures():
        raise RuleViolation(f"没有名为 {procedure} 的办理程序（已有：{'、'.join(procedures())}）")


def parameter_keys() -> list[str]:
    """Every key that has a value somewhere (new keys are added in policy/parameters.json, not here)."""
    return list(db.session.scalars(select(PolicyParameter.key).distinct().order_by(PolicyParameter.key)))


def procedures() -> list[str]:
    return [k[: -len(PROCESS_SUFFIX)] for k in parameter_keys() if k.endswith(PROCESS_SUFFIX)]


def parameter_rows(viewer: Jurisdiction, key: str | None = None) -> list[PolicyParameter]:
    """The rows that apply in the viewer's area, by key, jurisdiction and date."""
    query = select(PolicyParameter).order_by(PolicyParameter.key, PolicyParameter.jurisdiction_id,
                                             PolicyParameter.effective_from, PolicyParameter.id)
    if key:
        query = query.where(PolicyParameter.key == key)
    return [r for r in db.session.scalars(query) if applies_in(r.jurisdiction, viewer)]


TYPE_NAMES = {bool: "是/否", int: "整数", float: "数字", str: "文字", list: "列表", dict: "对象"}


def _kind(value: Any) -> type:
    return bool if isinstance(value, bool) else type(value)


def expected_type(key: str) -> type:
    """The type of the values ``key`` has now; NotFound if the key has no value anywhere."""
    values = list(db.session.scalars(select(PolicyParameter.value).filter_by(key=key)))
    if not values:
        raise NotFound(f"政策参数 {key} 不存在（新参数请在 policy/parameters.json 中添加）")
    kinds = {_kind(v) for v in values}
    return kinds.pop() if len(kinds) == 1 else (float if kinds <= {int, float} else str)


def parse_value(key: str, text: str) -> Any:
    """The text typed in a form, as a value of the type ``key`` already has (RuleViolation otherwise)."""
    kind, raw = expected_type(key), (text or "").strip()
    try:
        if kind is bool:
            if raw.lower() in ("true", "是", "1"):
                return True
            if raw.lower() in ("false", "否", "0"):
                return False
            raise ValueError(raw)
        if kind in (list, dict):
            try:
                value = json.loads(raw)
            except RecursionError:  # "[[[[…": not a ValueError
                raise ValueError(raw) from None
            if not isinstance(value, kind):
                raise ValueError(raw)
            return value
        if not raw:
            raise ValueError(raw)
        return kind(raw)
    except ValueError as exc:
        shown = raw if len(raw) <= 60 else raw[:60] + "…"
        raise RuleViolation(f"“{_label(key)}”的值应为{TYPE_NAMES.get(kind, kind.__name__)}，“{shown}”不符合"
                            f"{_shape(key)}，未保存") from exc


def _label(key: str) -> str:
    return parameter_labels([key])[key]


def _shape(key: str) -> str:
    shape = shape_of(key)
    return f"。格式：{shape.rstrip('。')}" if shape else ""


def _check_value(key: str, value: Any) -> None:
    kind = expected_type(key)
    ok = _kind(value) is kind or (kind is float and _kind(value) is int)
    if not ok:
        raise RuleViolation(f"“{_label(key)}”的值应为{TYPE_NAMES.get(kind, kind.__name__)}，不能设为 "
                            f"{json.dumps(value, ensure_ascii=False)[:60]}，未保存")
    problems = check_policy_value(key, value)
    if problems:
        raise RuleViolation(f"“{_label(key)}”的值不符合要求："
                            + "；".join(problems) + f"{_shape(key)}，未保存")
    if key.endswith(PROCESS_SUFFIX):
        ref = parse_process_ref(value)
        numbers = list(db.session.scalars(select(ProcessVersion.version).filter_by(process_key=ref.key)
                                          .order_by(ProcessVersion.version)))
        if not numbers:
            raise RuleViolation(f"流程 {ref.key} 尚未部署，不能绑定")
        if ref.pinned and ref.version not in numbers:
            raise RuleViolation(f"流程 {ref.key} 没有第 {ref.version} 版（已部署："
                                f"{'、'.join(f'v{n}' for n in numbers)}），不能绑定")
        problem = mismatch(key.removesuffix(PROCESS_SUFFIX), bound_version(value))
        if problem:
            raise RuleViolation(f"不能绑定：{problem}")


def _rows_of(place: Jurisdiction, key: str) -> list[PolicyParameter]:
    return list(db.session.scalars(
        select(PolicyParameter).filter_by(jurisdiction_id=place.id, key=key).order_by(PolicyParameter.effective_from)
    ))


def _in_force(rows: list[PolicyParameter], on: date) -> PolicyParameter | None:
    return next((r for r in rows if r.effective_from <= on and (r.effective_to is None or r.effective_to > on)), None)


def _end_of_new_row(rows: list[PolicyParameter], current: PolicyParameter | None, start: date,
                    end: date | None) -> date | None:
    """Until the current row would have ended, or the next planned row starts; an explicit end must not
    overlap the next planned row."""
    later = [r.effective_from for r in rows if r.effective_from > start]
    following = min(later) if later else None
    if end is not None:
        if end <= start:
            raise RuleViolation(f"截止日期 {end} 应晚于生效日期 {start}")
        if following is not None and end > following:
            raise RuleViolation(f"截止日期 {end} 与自 {following} 起的设置重叠")
        return end
    candidates = [d for d in (current.effective_to if current else None, following) if d is not None]
    return min(candidates) if candidates else None


def set_parameter(editor: User, key: str, value: Any, jurisdiction_code: str, effective_from: date, clock: Clock,
                  effective_to: date | None = None, source: str = "") -> PolicyParameter:
    """修改政策参数: ``key`` = ``value`` for a jurisdiction from a date (not before today).

    The row of the same jurisdiction in force on that date is closed the day before (effective_to is
    exclusive), or replaced when it starts on that same date (no row of zero length); the new row runs
    until that row would have ended, the next planned change, or ``effective_to``. Cases already started keep the
    values they started with. ``source`` (依据: the document and its number) is required, as a year of the work
    calendar needs its 来源. Audited."""
    with transaction():
        row = write_parameter(editor, key, value, jurisdiction_code, effective_from, clock, effective_to, source,
                              source_required=True)
    return row


SOURCE_MISSING = "请填写“依据”：所依据文件的名称和文号，例如“关于调整村级公示天数的通知（×府办发〔2026〕N号）”，未保存"


def write_parameter(editor: User, key: str, value: Any, code: str, start: date, clock: Clock, end: date | None,
         source: str, action: str = "policy_parameter_set", check_place: bool = True,
         source_required: bool = False, **detail: Any) -> PolicyParameter:
    place = jurisdiction_by_code(code)
    require_editor(editor, place if check_place else None)
    _check_value(key, value)
    today = to_local_date(clock.now())
    if start < today:
        raise RuleViolation(f"生效日期 {start} 早于今天 {today}：政策修改只能从今天或以后生效，已有记录不改写")
    if source_required and not (source or "").strip():
        raise RuleViolation(SOURCE_MISSING)
    rows = _rows_of(place, key)
    current = _in_force(rows, start)
    new_end = _end_of_new_row(rows, current, start, end)
    closed = replaced = None
    if current is not None and current.effective_from == start:  # a second change on the same day replaces the row
        replaced = {"id": current.id, "value": current.value, "effective_from": current.effective_from,
                    "effective_to": current.effective_to}
    elif current is not None:
        closed = {"id": current.id, "value": current.value, "effective_from": current.effective_from,
                  "effective_to_before": current.effective_to, "effective_to": start}
        current.effective_to = start
    row = PolicyParameter(jurisdiction=place, key=key, value=value, effective_from=start, effective_to=new_end,
                          source=(source or f"{editor.display_name} 修改").strip()[:300])
    db.session.add(row)
    db.session.flush()  # before the replaced row goes: the new row's id is above every other (rules' parse cache key)
    if replaced:
        db.session.delete(current)
        db.session.flush()
        detail["replaced"] = replaced
    audit.record(clock.now(), editor.username, action, key=key, jurisdiction=place.code, value=value,
                 effective_from=start, effective_to=new_end, parameter_id=row.id, closed=closed, source=row.source,
                 **detail)
    log.info("%s: %s = %r for %s from %s", editor.username, key, value, place.code, start)
    return row


def bind_process(editor: User, procedure: str, process_key: str, jurisdiction_code: str, effective_from: date,
                 clock: Clock, effective_to: date | None = None, source: str = "",
                 version: int | None = None) -> PolicyParameter:
    """流程绑定: from ``effective_from`` new ``procedure`` cases of the jurisdiction (and below, unless set
    lower) start on ``version`` of ``process_key`` or, without a version, on its newest deployed version
    (``process_key`` may also be given as ``"<key>@<version>"``). Running cases keep their version."""
    check_procedure(procedure)
    ref = parse_process_ref(process_key)
    if version is not None:
        ref = ProcessRef(ref.key, version)
    with transaction():
        row = write_parameter(editor, f"{procedure}{PROCESS_SUFFIX}", str(ref), jurisdiction_code, effective_from, clock,
                   effective_to, source, action="process_bound")
        refuse_unstartable(procedure, jurisdiction_by_code(jurisdiction_code), str(ref),
                           max(effective_from, to_local_date(clock.now())), "未绑定")
    return row


def roll_back(editor: User, version_id: int, procedure: str, jurisdiction_code: str, effective_from: date,
              clock: Clock, source: str = "") -> PolicyParameter:
    """回退到此版本: from ``effective_from`` (today or later) new ``procedure`` cases of the jurisdiction start
    on this (earlier) version — the binding is pinned to it. Running cases are not touched. Audited as
    ``process_rolled_back`` with the binding it replaces (pinning the newest version: ``process_bound``)."""
    check_procedure(procedure)
    version = get_version(version_id)
    key = f"{procedure}{PROCESS_SUFFIX}"
    newest = newest_version_number(version.process_key)
    older = version.version < newest
    with transaction():
        place = jurisdiction_by_code(jurisdiction_code)
        try:
            before = resolve(key, place, effective_from)
        except PolicyMissing:
            before = None
        note = f"{'回退到' if older else '固定使用'} {version.process_key} v{version.version}"
        row = write_parameter(editor, key, str(ProcessRef(version.process_key, version.version)), jurisdiction_code,
                   effective_from, clock, None, source or note, action="process_rolled_back" if older else "process_bound",
                   note=note, replaces=before, replaces_version=_version_number(before), newest_version=newest)
        refuse_unstartable(procedure, place, str(ProcessRef(version.process_key, version.version)),
                           max(effective_from, to_local_date(clock.now())), "未回退")
    return row


def _version_number(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return bound_version(value).version
    except (NotFound, RuleViolation):
        return None
