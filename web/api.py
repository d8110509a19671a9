"""The JSON API (数据接口) for other systems — the "防返贫监测" APP, the 12317 platform, department systems — with
the same log-in, roles and jurisdiction rules as the web pages, calling the same engine services.

Authentication: ``Authorization: Bearer <token>`` (tokens from :mod:`engine.accounts.api_tokens`) or the browser
session; a session-authenticated POST must carry its CSRF token in the ``X-CSRFToken`` header.

Errors are JSON ``{"error": "...", "code": "...", "fields": [{"field": ..., "reason": ...}]}``, mapped from
the engine's refusals the same way everywhere (see :func:`engine_error`):

=================================  ======  ==========================================================
engine error                       status  meaning
=================================  ======  ==========================================================
NotFound                           404     the record does not exist
PermissionDenied                   403     wrong role, or outside the user's jurisdiction
FormInvalid                        422     the request data is wrong; ``fields`` names each field
RuleViolation naming a field       422     bad input the engine checks ("village: ...", "members: ...")
RuleViolation (any other)          409     a domain rule refuses it in the current state (duplicate
                                           application, publicity not over, case closed, ...)
ConflictError                      409     someone else changed or claimed it first; reload and retry
CalendarRefused, PolicyMissing     409     holiday or policy data is missing; an administrator adds it
other FangpinError                 422     refused as in the web pages; nothing was changed
=================================  ======  ==========================================================

Not logged in → 401 (never a redirect); CSRF token missing on a session POST → 400.

Private fields (敏感信息) — members' ID numbers (``id_number``) and health status (``health_status``), the
household's telephone number (``contact_phone``), and the same in task form data and the timeline — are masked
in every answer, as on the web pages (``360702********0013``, ``139****0001``, ``（已隐藏）``; answers about a
household say ``"private_fields": "masked"``). Add ``?sensitive=1`` to ``GET /api/households``,
``GET /api/households/{household_id}`` or ``GET /api/cases/{case_id}`` to have them in full
(``"private_fields": "full"``): only for an official of the household's jurisdiction whose role may see them —
the roles that open the information form (信息采集表; policy/roles.json ``sees_private``), otherwise 403 — and
each such answer is recorded in the audit log (``private_data_viewed``: who, when, which household or case), as
is each request refused for the role (``private_data_refused``: the same, and the 403 as before).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Flask, g, jsonify, request, url_for
from flask_wtf.csrf import generate_csrf, validate_csrf
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from engine.accounts.api_tokens import authenticate
from engine.app import get_clock
from engine.bpmn.forms import form_names, load_form
from engine.cases.deadlines import deadlines_of_case
from engine.cases.form_rules import narrowed
from engine.cases.lifecycle import authorize, case_history, complete_task, get_case, open_identification
from engine.cases.tasks import (
    CLAIM_FILTERS,
    COUNT_CAP,
    TaskFilter,
    claim_task,
    count_ready,
    inbox,
    release_task,
    tasks_of_case,
)
from engine.core.db import db
from engine.core.errors import (
    CalendarRefused,
    ConflictError,
    DiagramInvalid,
    FangpinError,
    FormInvalid,
    NotFound,
    PermissionDenied,
    PolicyMissing,
    RuleViolation,
)
from engine.core.json_values import json_depth
from engine.core.models import AuditEvent, Case, CaseDeadline, Household, HumanTask, Jurisdiction, Notice, WarningBatch
from engine.core.vocabulary import (
    IDENTIFICATION_CHANNELS,
    Channel,
    OverdueKind,
    PrivateAccess,
    Procedure,
    WarningSource,
)
from engine.households.outside import outside_identification
from engine.households.privacy import PRIVATE_REFUSED, PRIVATE_VIEWED, is_private, masked, reveal_private
from engine.households.register import (
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    REGISTRATION_FORM,
    find_household,
    get_household,
    register_household,
)
from engine.policy.permissions import require_may_open, require_may_register
from engine.policy.roles import all_roles
from engine.supervision.overdue import LIMIT, overdue_listing
from engine.warnings.intake import import_batch
from engine.warnings.procedure import get_batch
from engine.warnings.rows import read_json
from timers.calendar import DATE_FORMAT

from . import csrf
from .auth import within
from .filters import due_time
from .security import MAX_ID, http_message, parse_id

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LIMIT = 100
MAX_JSON_DEPTH = 32  # the deepest form is a few levels; deeper bodies are refused before any validation
DEFAULT_LIMIT = 50
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})
OPERATIONS: list[tuple[str, str, dict[str, Any]]] = []  # (Flask rule, method, OpenAPI operation)


class BadInput(Exception):
    """The request itself is malformed (not JSON, a wrong type, an unknown value): 422 naming the fields."""

    def __init__(self, fields: list[tuple[str, str]], message: str = "请求数据有误") -> None:
        super().__init__(message)
        self.fields = fields


def register(app: Flask) -> None:
    """Register the blueprint; token requests need no CSRF token (checked by hand for session requests)."""

    csrf.exempt(bp)
    app.register_blueprint(bp)


def api_route(rule: str, method: str, summary: str, *, tag: str, ok: tuple[int, str],
              body: str | None = None, query: tuple[tuple[str, dict, str, bool], ...] = (),
              errors: tuple[int, ...] = (), description: str = "", if_match: bool = False) -> Callable:
    """``bp.route`` that also records the endpoint's OpenAPI operation (see :func:`openapi_document`):
    ``ok`` = (status, response schema), ``body`` = request schema, ``query`` = (name, schema, text, required)."""

    def decorator(view: Callable) -> Callable:
        OPERATIONS.append((rule, method, {
            "summary": summary, "description": description, "tag": tag, "operationId": view.__name__, "ok": ok,
            "body": body, "query": query, "errors": errors, "if_match": if_match,
        }))
        return bp.route(rule, methods=[method])(view)

    return decorator


# -- authentication, CSRF, errors -----------------------------------------------------------------


@bp.before_request
def authenticate_request() -> Any:
    """Bearer token, else the session's user (then a state-changing request needs ``X-CSRFToken``)."""
    g.api_auth = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        user = authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return _error(401, "unauthorized", "接口令牌无效或已吊销（Authorization: Bearer <令牌>）")
        g.user, g.api_auth = user, "token"
        return None
    if g.get("user") is None:
        return _error(401, "unauthorized", "请先登录，或在 Authorization 请求头中提供接口令牌（Bearer）")
    g.api_auth = "session"
    if g.user.must_change_password:  # as on the pages: a password an administrator set is replaced first
        return _error(403, "password_change_required", "请先在网页上设置新密码（管理员设置的初始密码须先修改），再调用接口")
    if request.method not in SAFE_METHODS:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError:
            return _error(400, "csrf", "缺少或无效的 CSRF 令牌：使用登录会话调用时，请在 X-CSRFToken 请求头中提供")
    return None


def _error(status: int, code: str, message: str, fields: list[tuple[str, str]] | None = None) -> Any:
    body = {"error": message, "code": code, "fields": [{"field": f, "reason": r} for f, r in fields or []]}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="fangpin"'
    return response


@bp.errorhandler(FangpinError)
def engine_error(exc: FangpinError) -> Any:
    """One mapping of the engine's refusals to HTTP statuses (documented in the module docstring)."""
    message = str(exc)
    if isinstance(exc, NotFound):
        return _error(404, "not_found", message)
    if isinstance(exc, PermissionDenied):
        return _error(403, "forbidden", message)
    if isinstance(exc, FormInvalid):
        return _error(422, "invalid", message, exc.errors)
    if isinstance(exc, DiagramInvalid):
        return _error(422, "invalid", message, [(exc.file_name, p) for p in exc.problems])
    if isinstance(exc, RuleViolation):
        if exc.field:
            return _error(422, "invalid", message, [(exc.field, message)])
        return _error(409, "refused", message)
    if isinstance(exc, ConflictError | CalendarRefused | PolicyMissing):
        return _error(409, "conflict", message)
    return _error(422, "refused", message)


@bp.errorhandler(BadInput)
def bad_input(exc: BadInput) -> Any:
    return _error(422, "invalid", str(exc), exc.fields)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Any:
    """Werkzeug's errors (404, 405, 413 request body too large, …) in the API's format, in Chinese."""
    status = exc.code or 500
    response = _error(status, str(status), http_message(exc))
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _require_role(*roles: str) -> None:
    if not set(roles) & set(g.user.roles):
        names = "、".join(all_roles()[r].name for r in roles if r in all_roles())
        raise PermissionDenied(f"{g.user.display_name} 没有所需的角色（{names}）")


def _require_within(path: str, what: str) -> None:
    if not within(path):
        raise PermissionDenied(f"{what}不在 {g.user.jurisdiction.full_name} 辖区内")


def _json_body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # json.loads on "[[[[…": not a ValueError, so not silenced
        raise BadInput([("", f"请求体的 JSON 嵌套层数过多（最多 {MAX_JSON_DEPTH} 层）")]) from None
    if not isinstance(data, dict):
        raise BadInput([("", "请求体应为 JSON 对象（Content-Type: application/json）")])
    if not json_depth(data, MAX_JSON_DEPTH):
        raise BadInput([("", f"请求体的 JSON 嵌套层数过多（最多 {MAX_JSON_DEPTH} 层）")])
    return data


# -- JSON views of records ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _place(j: Jurisdiction) -> dict[str, Any]:
    return {"code": j.code, "name": j.name, "level": j.level, "full_name": j.full_name}


def household_json(h: Household, full: bool = False) -> dict[str, Any]:
    """A household with its members, private fields masked unless ``full`` (:func:`_sensitive`)."""
    head = h.head
    cases = db.session.scalars(select(Case).filter_by(household_id=h.id).order_by(Case.id))
    fields = {f: _plain(getattr(h, f)) for f in HOUSEHOLD_FIELDS}
    members = [{f: getattr(m, f) for f in MEMBER_FIELDS} for m in h.members]
    return {
        "id": h.id, "number": h.number, "village": _place(h.village), "head": head.name if head else None,
        "size": h.size, "status": h.status, "category": h.category, "identified_on": _plain(h.identified_on),
        "risk_types": h.risk_types, "responsible_person": h.responsible_person,
        **(fields if full else masked(fields)), "members": members if full else masked(members),
        "private_fields": "full" if full else "masked",
        "cases": [{"id": c.id, "number": c.number, "procedure": c.procedure, "status": c.status} for c in cases],
        "identified_outside": _outside_json(h),
    }


def _outside_json(h: Household) -> dict[str, Any] | None:
    """For a household imported as monitored (系统外识别), the import: its file, when and by whom."""
    outside = outside_identification(h.id) if h.identified_on else None
    return None if outside is None else {"source": outside.source, "at": _plain(outside.at), "by": outside.actor}


def case_json(c: Case) -> dict[str, Any]:
    """A case; ``household`` is null for a case of no one household (a department's warning batch, a
    campaign)."""
    h = c.household
    fields = ("id", "number", "procedure", "status", "outcome", "outcome_reason", "channel", "lead_date",
              "opened_at", "opened_by", "closed_at", "due_at", "deadline_label", "deadline_met_at", "overdue_since")
    return {
        **{f: _plain(getattr(c, f)) for f in fields}, "channel_name": Channel.label_of(c.channel),
        "version": c.lock_version, "jurisdiction": _place(c.jurisdiction),
        "household": {"id": h.id, "number": h.number, "head": h.head.name if h.head else None} if h else None,
    }


def task_json(t: HumanTask, full: bool = False) -> dict[str, Any]:
    """A human task; private values of its form data masked unless ``full``."""
    fields = ("id", "case_id", "name", "bpmn_id", "role", "state", "form", "created_at", "due_at", "overdue_since",
              "claimed_by", "claimed_at", "completed_by", "completed_at")
    role = all_roles().get(t.role or "")
    return {**{f: _plain(getattr(t, f)) for f in fields}, "form_data": t.form_data if full else masked(t.form_data),
            "role_name": role.name if role else t.role, "jurisdiction": _place(t.jurisdiction)}


def deadline_json(d: CaseDeadline) -> dict[str, Any]:
    fields = ("id", "subject", "label", "due_at", "explanation", "data_version", "provisional", "task_id", "fired_at")
    return {**{f: _plain(getattr(d, f)) for f in fields}, "due_local": due_time(d.due_at)}


def event_json(e: AuditEvent, full: bool = False) -> dict[str, Any]:
    """An entry of the audit log; private values of its detail (an application's phone, a leaving member's ID
    number) masked unless ``full``."""
    return {"id": e.id, "at": _plain(e.at), "actor": e.actor, "action": e.action,
            "detail": e.detail if full else masked(e.detail)}


def notice_json(n: Notice) -> dict[str, Any]:
    return {"id": n.id, "at": _plain(n.at), "title": n.title, "body": n.body}


def _created(body: dict[str, Any], location: str) -> Any:
    response = jsonify(body)
    response.status_code, response.headers["Location"] = 201, location
    return response


def _with_etag(body: dict[str, Any], version: int) -> Any:
    response = jsonify(body)
    response.headers["ETag"] = f'"{version}"'
    return response


def _query(name: str, text: str, schema: dict | None = None, required: bool = False) -> tuple[str, dict, str, bool]:
    return name, schema or {"type": "string"}, text, required


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if parse_id(raw) is None or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadInput([("limit", f"应为 1–{MAX_LIMIT} 的整数")])
    return int(raw)


def _cursor() -> str | None:
    after = request.args.get("after") or None
    if after is None:
        return None
    due, _, last_id = after.partition("|")
    try:
        datetime.fromisoformat(due)
    except ValueError:
        last_id = ""
    if len(after) > 80 or parse_id(last_id) is None:
        raise BadInput([("after", "游标无效：请使用上一页返回的 next")])
    return after


def _seen_version() -> int | None:
    raw = request.headers.get("If-Match", "").removeprefix("W/").strip().strip('"')
    if not raw:
        return None
    version = parse_id(raw)  # digits only, at most 19 of them (a 5 000-digit header is refused, not parsed)
    if version is None:
        raise BadInput([("If-Match", "应为案件版本号（GET 返回的 ETag）")])
    return version


SENSITIVE = _query("sensitive", "为 1 时返回完整的身份证号、联系电话和健康状况（默认打码）：仅限本辖区内可查看敏感信息的角色"
                   "（信息采集表的角色，policy/roles.json sees_private），其他角色 → 403；每次查看记入操作留痕"
                   f"（{PRIVATE_VIEWED}），被拒绝的请求也记入（{PRIVATE_REFUSED}）", {"type": "string", "enum": ["0", "1"]})


def _sensitive() -> bool:
    """Did the request ask for private fields in full (``?sensitive=1``)? A value other than 0 or 1 is refused."""
    raw = request.args.get("sensitive", "")
    if raw not in ("", "0", "1"):
        raise BadInput([("sensitive", "应为 1（完整显示身份证号、联系电话和健康状况）或 0（打码，默认）")])
    return raw == "1"


def _reveal(place: Jurisdiction, household: Household | None, case: Case | None = None) -> bool:
    """With ``?sensitive=1`` (already checked by :func:`_sensitive`): the user's right to the private fields of the
    household (or case) of ``place``, which is audited (engine.households.privacy); True if so, 403 if refused."""
    reveal_private(g.user, place, get_clock(), household_id=household.id if household else None,
                   number=household.number if household else None, case_id=case.id if case else None,
                   via=PrivateAccess.API, path=request.path, auth=g.api_auth or "")
    return True


def _place_by_code(code: str | None) -> Jurisdiction:
    if not code:
        return g.user.jurisdiction
    place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
    if place is None:
        raise NotFound(f"行政区划 {code} 不存在")
    _require_within(place.path, place.full_name)
    return place


def _visible_case(case_id: int) -> Case:
    case = get_case(case_id)
    _require_within(case.jurisdiction_path, f"案件 {case_id} ")  # what was asked: nothing of a case outside
    return case


def _my_task(task_id: int) -> HumanTask:
    """The task, if the user holds its role in its jurisdiction or above (the engine's rule); 403 otherwise."""
    row = db.session.get(HumanTask, task_id)
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在")
    authorize(g.user, row)
    return row


# -- who am I -------------------------------------------------------------------------------------


@api_route("/me", "GET", "当前用户", tag="用户", ok=(200, "Me"),
           description="角色与辖区；以登录会话调用时附带 CSRF 令牌（用于 X-CSRFToken 请求头）。")
def me() -> Any:
    user = g.user
    return jsonify({"username": user.username, "display_name": user.display_name, "roles": user.roles,
                    "jurisdiction": _place(user.jurisdiction), "auth": g.api_auth,
                    "csrf_token": generate_csrf() if g.api_auth == "session" else None})


# -- households -----------------------------------------------------------------------------------


@api_route("/households", "GET", "按户编号查找农户", tag="农户", ok=(200, "Household"), errors=(403, 404, 422),
           query=(_query("number", "户编号", required=True), SENSITIVE),
           description="身份证号、联系电话、健康状况默认打码；sensitive=1 见参数说明。")
def find_household_by_number() -> Any:
    full = _sensitive()
    number = request.args.get("number", "").strip()
    if not number:
        raise BadInput([("number", "必填")])
    if len(number) > 40:
        raise BadInput([("number", "户编号过长")])
    if number.isdigit() and parse_id(number) is None:  # not a possible id: only a household number can match
        household = db.session.scalar(select(Household).filter_by(number=number))
        if household is None:
            raise NotFound(f"农户 {number} 不存在")
    else:
        household = find_household(number)
    _require_within(household.village.path, f"农户 {household.number} ")
    return jsonify(household_json(household, full and _reveal(household.village, household)))


@api_route("/households", "POST", "登记农户及家庭成员", tag="农户", ok=(201, "Household"), body="Form_register_household",
           errors=(403, 422), description="请求体即表单 register_household.json；村须在本人辖区内。返回的身份证号、联系电话、"
                                           "健康状况已打码。")
def register_household_api() -> Any:
    require_may_register(g.user)
    data = _json_body()
    code = data.get("village")
    place = db.session.scalar(select(Jurisdiction).filter_by(code=code)) if isinstance(code, str) else None
    require_may_register(g.user, place)
    household = register_household(data, g.user.username, get_clock())
    return _created(household_json(household), url_for("api.household", household_id=household.id))


@api_route("/households/<int:household_id>", "GET", "农户详情（含家庭成员与案件）", tag="农户", ok=(200, "Household"),
           errors=(403, 404, 422), query=(SENSITIVE,),
           description="身份证号、联系电话、健康状况默认打码；sensitive=1 见参数说明。")
def household(household_id: int) -> Any:
    full = _sensitive()
    h = get_household(household_id)
    _require_within(h.village.path, f"农户 {household_id} ")  # what was asked: nothing of a household outside
    return jsonify(household_json(h, full and _reveal(h.village, h)))


# -- department warnings --------------------------------------------------------------------------


def batch_json(batch: WarningBatch) -> dict[str, Any]:
    return {"id": batch.id, "department": batch.department, "period": batch.period,
            "jurisdiction": {"code": batch.jurisdiction.code, "name": batch.jurisdiction.name,
                             "level": batch.jurisdiction.level, "full_name": batch.jurisdiction.full_name},
            "rows_count": batch.rows_count, "source": batch.source, "submitted_at": batch.submitted_at.isoformat(),
            "submitted_by": batch.submitted_by}


@api_route("/warnings/batches", "POST", "部门推送预警数据（整批校验，任何一行有误则整批不导入）", tag="行业预警",
           ok=(201, "WarningBatch"), body="WarningBatchIn", errors=(403, 409, 422))
def submit_warning_batch() -> Any:
    _require_role("department_officer")
    data = _json_body()
    department, period = data.get("department"), data.get("period")
    problems = [(name, "应为文本") for name, value in (("department", department), ("period", period))
                if not isinstance(value, str)]
    if not isinstance(data.get("rows"), list):
        problems.append(("rows", "应为数组"))
    if problems:
        raise BadInput(problems)
    batch = import_batch(department, period, read_json(data["rows"]), WarningSource.API, g.user.username, get_clock())
    return _created(batch_json(batch), url_for("api.warning_batch", batch_id=batch.id))


@api_route("/warnings/batches/<int:batch_id>", "GET", "预警数据批次", tag="行业预警", ok=(200, "WarningBatch"),
           errors=(403, 404))
def warning_batch(batch_id: int) -> Any:
    batch = get_batch(batch_id)
    _require_within(batch.jurisdiction.path, batch.jurisdiction.full_name)
    return jsonify(batch_json(batch))


# -- cases ----------------------------------------------------------------------------------------


def _open_request(data: dict[str, Any]) -> tuple[int, str, date, dict[str, Any] | None]:
    """household_id, channel, lead_date, application of POST /api/cases (types only; the rules are the engine's)."""
    problems = []
    household_id, channel, raw_date = data.get("household_id"), data.get("channel"), data.get("lead_date")
    application = data.get("application")
    if not isinstance(household_id, int) or isinstance(household_id, bool) or not 0 < household_id <= MAX_ID:
        problems.append(("household_id", "应为整数（农户 id）"))
    if not isinstance(channel, str) or channel not in IDENTIFICATION_CHANNELS:  # {} or [] are not hashable
        problems.append(("channel", f"取值应为 {[c.value for c in IDENTIFICATION_CHANNELS]} 之一"))
    try:
        lead_date = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        lead_date = None
    if lead_date is None:
        problems.append(("lead_date", DATE_FORMAT))
    if application is not None and not isinstance(application, dict):
        problems.append(("application", "应为对象"))
    if problems:
        raise BadInput(problems)
    return household_id, channel, lead_date, application


@api_route("/cases", "POST", "发起识别纳入（开案）", tag="案件", ok=(201, "Case"), body="OpenCase", errors=(403, 404, 409, 422),
           description="重复申请（已是监测对象或有未办结的识别申请）→ 409，附引擎的说明。")
def open_case() -> Any:
    require_may_open(g.user, Procedure.IDENTIFICATION)
    household_id, channel, lead_date, application = _open_request(_json_body())
    h = get_household(household_id)
    require_may_open(g.user, Procedure.IDENTIFICATION, h.village)
    case = open_identification(h.id, channel, lead_date, g.user.username, get_clock(), application=application)
    return _created(case_json(case), url_for("api.case", case_id=case.id))


@api_route("/cases/<int:case_id>", "GET", "案件详情：时间线、任务、期限（含计算说明）、告知", tag="案件",
           ok=(200, "CaseDetail"), errors=(403, 404, 422), query=(SENSITIVE,),
           description="ETag 为案件版本号，办理任务时可放入 If-Match。任务表单数据和时间线中的身份证号、联系电话、"
                       "健康状况默认打码；sensitive=1 见参数说明。")
def case(case_id: int) -> Any:
    full = _sensitive()
    visible = _visible_case(case_id)
    full = full and _reveal(visible.jurisdiction, visible.household, visible)
    history = case_history(case_id)
    body = {"case": case_json(history.case), "private_fields": "full" if full else "masked",
            "timeline": [event_json(e, full) for e in history.events],
            "tasks": [task_json(t, full) for t in history.tasks],
            "deadlines": [deadline_json(d) for d in deadlines_of_case(case_id)],
            "notices": [notice_json(n) for n in history.notices],
            "waiting_until": [{"label": label, "due_at": _plain(due), "due_local": due_time(due)}
                              for label, due in history.waiting_until]}
    return _with_etag(body, history.case.lock_version)


@api_route("/cases/<int:case_id>/deadlines", "GET", "案件的全部期限及计算说明", tag="案件", ok=(200, "DeadlineList"),
           errors=(403, 404))
def case_deadlines(case_id: int) -> Any:
    case = _visible_case(case_id)
    return jsonify({"case_id": case.id, "number": case.number,
                    "items": [deadline_json(d) for d in deadlines_of_case(case_id)]})


# -- tasks ----------------------------------------------------------------------------------------


@api_route("/tasks", "GET", "我的待办（按紧急程度排序，键集分页）", tag="任务", ok=(200, "TaskPage"), errors=(403, 404, 422),
           query=(_query("procedure", "流程，如 identification"), _query("step", "步骤名称，如 入户核实"),
                  _query("village", "村（或辖区内其他地区）的代码：只列其中农户的案件"),
                  _query("claimed", "认领：unclaimed 未认领、mine 我认领的、others 他人认领的",
                         {"type": "string", "enum": [k for k in CLAIM_FILTERS if k]}),
                  _query("overdue", "为 1 时只列已逾期的", {"type": "string", "enum": ["1"]}),
                  _query("q", "户编号（数字，前缀匹配）或户主姓名（前缀匹配）", {"type": "string", "maxLength": 40}),
                  _query("after", "上一页返回的 next 游标"),
                  _query("limit", f"每页条数，1–{MAX_LIMIT}，默认 {DEFAULT_LIMIT}",
                         {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})))
def my_tasks() -> Any:
    user = g.user
    limit, after = _limit(), _cursor()
    claimed, text = request.args.get("claimed", ""), request.args.get("q", "").strip()
    if claimed not in CLAIM_FILTERS:
        raise BadInput([("claimed", "应为 unclaimed、mine 或 others")])
    if len(text) > 40:
        raise BadInput([("q", "至多 40 个字符")])
    village = request.args.get("village") or None
    f = TaskFilter(tuple(user.roles), user.jurisdiction, procedure=request.args.get("procedure") or None,
                   step=request.args.get("step") or None, village=_place_by_code(village) if village else None,
                   claimed=claimed, username=user.username, text=text,
                   overdue_at=get_clock().now() if request.args.get("overdue") else None,
                   department=user.department)
    total = count_ready(f)
    rows = inbox(f, limit=limit + 1, after=after, total=total)
    more, rows = len(rows) > limit, rows[:limit]
    return jsonify({"items": [r.as_dict() for r in rows], "total": total.n, "total_more": total.more,
                    "next": rows[-1].cursor if more and rows else None})


@api_route("/tasks/<int:task_id>/form", "GET", "任务的表单（JSON Schema）", tag="任务", ok=(200, "TaskForm"),
           errors=(403, 404), description="办理（complete）时的请求体须符合此 schema。ETag 为案件版本号。")
def task_form(task_id: int) -> Any:
    row = _my_task(task_id)
    schema = narrowed(load_form(row.form), row.case) if row.form else {"type": "object", "properties": {}}
    body = {"task": task_json(row), "case": case_json(row.case), "form": row.form, "schema": schema}
    return _with_etag(body, row.case.lock_version)


@api_route("/tasks/<int:task_id>/claim", "POST", "认领任务", tag="任务", ok=(200, "Task"), errors=(403, 404, 409))
def claim(task_id: int) -> Any:
    row = _my_task(task_id)
    return jsonify(task_json(claim_task(row.id, g.user.username, get_clock().now())))


@api_route("/tasks/<int:task_id>/release", "POST", "释放已认领的任务", tag="任务", ok=(200, "Task"),
           errors=(403, 404, 409))
def release(task_id: int) -> Any:
    row = _my_task(task_id)
    return jsonify(task_json(release_task(row.id, g.user.username, get_clock().now())))


@api_route("/tasks/<int:task_id>/complete", "POST", "办理任务（提交表单）", tag="任务", ok=(200, "Completed"),
           body="TaskFormData", errors=(403, 404, 409, 422), if_match=True,
           query=(_query("backdating_reason", "补录原因：表单日期早于本步骤开始之日时须填写（仅在政策允许的天数内，"
                                              "dates.backdating_tolerance_days）", {"type": "string", "maxLength": 200}),),
           description="请求体即该任务的表单数据（GET /api/tasks/{task_id}/form 给出其 JSON Schema）。表单中的日期不能晚于"
                       "今天，也不能早于本步骤开始之日（第一步：发现日期），否则 422 并指明字段。可选 If-Match: "
                       "案件版本号；若案件已被他人更新 → 409。已由他人认领或已办理 → 409。")
def complete(task_id: int) -> Any:
    row = _my_task(task_id)
    data, seen = _json_body(), _seen_version()
    case = complete_task(row.id, data, g.user.username, get_clock(), seen_version=seen,
                         backdating_reason=request.args.get("backdating_reason", "")[:200] or None)
    ready = [t for t in tasks_of_case(case.id) if t.state == "READY"]
    return jsonify({"case": case_json(case), "ready_tasks": [task_json(t) for t in ready]})


# -- overdue --------------------------------------------------------------------------------------


@api_route("/overdue", "GET", "逾期案件与任务（本辖区及以下）", tag="督导", ok=(200, "Overdue"), errors=(403, 404),
           query=(_query("j", "行政区划代码（默认：本人辖区）"), _query("procedure", "流程"), _query("step", "步骤名称")))
def overdue() -> Any:
    place = _place_by_code(request.args.get("j"))
    now = get_clock().now()
    procedure, step = request.args.get("procedure") or None, request.args.get("step") or None
    listing = overdue_listing(place, now, procedure, step)
    return jsonify({"jurisdiction": _place(place), "at": _plain(now), "cases": [c.as_dict() for c in listing.cases],
                    "tasks": [t.as_dict() for t in listing.tasks], "total_cases": listing.total_cases,
                    "total_tasks": listing.total_tasks, "limit": LIMIT, "by_child": listing.by_child})


# -- OpenAPI --------------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description of this API (public: it holds no data)."""
    return jsonify(openapi_document())


def openapi_document() -> dict[str, Any]:
    """Every endpoint of the blueprint, its parameters, request body, responses and errors."""
    paths: dict[str, dict[str, Any]] = {
        "/api/openapi.json": {"get": {
            "summary": "本接口的 OpenAPI 3.1 描述", "operationId": "openapi", "tags": ["说明"], "security": [],
            "responses": {"200": {"description": "OpenAPI 文档", "content": {"application/json": {"schema": {
                "type": "object"}}}}}}},
    }
    for rule, method, op in OPERATIONS:
        paths.setdefault(_openapi_path(rule), {})[method.lower()] = _operation(rule, method, op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "防止返贫动态监测和帮扶 数据接口", "version": "1.0",
                 "description": (__doc__ or "").strip()},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "tags": [{"name": t} for t in ("用户", "农户", "案件", "任务", "督导", "说明")],
        "paths": paths,
        "components": {"securitySchemes": _security_schemes(), "responses": _error_responses(),
                       "schemas": {**_record_schemas(), **_form_schemas()}},
    }


PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
ERROR_TEXT = {
    400: "以登录会话调用时缺少或无效的 CSRF 令牌（X-CSRFToken）", 401: "未登录，或接口令牌无效/已吊销",
    403: "角色不符，或不在本人辖区内", 404: "记录不存在", 409: "与当前状态冲突：重复申请、已被他人认领或办理、案件已更新等",
    422: "请求数据有误；fields 逐项说明",
}


def _openapi_path(rule: str) -> str:
    return "/api" + PATH_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(rule: str, method: str, op: dict[str, Any]) -> dict[str, Any]:
    ids = {"type": "integer", "minimum": 0, "maximum": MAX_ID}  # a larger id is "不存在" (web.security.IdConverter)
    params = [{"name": m.group(2), "in": "path", "required": True,
               "schema": ids if m.group(1) == "int" else {"type": "string"}} for m in PATH_PARAM.finditer(rule)]
    params += [{"name": name, "in": "query", "required": required, "description": text, "schema": schema}
               for name, schema, text, required in op["query"]]
    errors = {401, *op["errors"]}
    if method != "GET":
        params.append({"name": "X-CSRFToken", "in": "header", "required": False, "schema": {"type": "string"},
                       "description": "以登录会话调用时必填（GET /api/me 返回）；使用接口令牌时不需要"})
        errors.add(400)
    if op["if_match"]:
        params.append({"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                       "description": "案件版本号（GET 返回的 ETag）；案件已被他人更新 → 409"})
    status, schema = op["ok"]
    out: dict[str, Any] = {
        "summary": op["summary"], "operationId": op["operationId"], "tags": [op["tag"]], "parameters": params,
        "responses": {str(status): {"description": op["summary"], "content": _json_content(_ref(schema))},
                      **{str(code): {"$ref": f"#/components/responses/E{code}"} for code in sorted(errors)}},
    }
    if op["description"]:
        out["description"] = op["description"]
    if op["body"]:
        out["requestBody"] = {"required": True, "content": _json_content(_ref(op["body"]))}
    return out


def _security_schemes() -> dict[str, Any]:
    return {
        "bearer": {"type": "http", "scheme": "bearer", "description": "接口令牌：Authorization: Bearer <令牌>"},
        "session": {"type": "apiKey", "in": "cookie", "name": "session",
                    "description": "网页登录会话；POST 须在 X-CSRFToken 请求头中附 CSRF 令牌"},
    }


def _error_responses() -> dict[str, Any]:
    return {f"E{code}": {"description": text, "content": _json_content(_ref("Error"))} for code, text in ERROR_TEXT.items()}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **({"required": list(required)} if required else {})}


STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
NSTR, NINT = {"type": ["string", "null"]}, {"type": ["integer", "null"]}
DATE, TIME = {"type": ["string", "null"], "format": "date"}, {"type": ["string", "null"], "format": "date-time"}


def _list(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": schema}


PRIVATE_FIELDS = {"enum": ["masked", "full"], "description": "masked：身份证号、联系电话、健康状况已打码（默认）；"
                                                             "full：完整（sensitive=1）"}


def _member_schema() -> dict[str, Any]:
    """A member as answered: the registration form's member, its private fields possibly masked."""
    item = load_form(REGISTRATION_FORM)["properties"]["members"]["items"]
    properties = {key: ({k: v for k, v in spec.items() if k not in ("pattern", "format")}
                        | {"description": "默认打码（sensitive=1 时完整）"}) if is_private(key) else spec
                  for key, spec in item["properties"].items()}
    return {**{k: v for k, v in item.items() if k != "properties"}, "properties": properties}


def _record_schemas() -> dict[str, Any]:
    member = _ref("Member")
    case_ref = _obj({"id": INT, "number": NSTR, "procedure": STR, "status": STR})
    overdue_item = _obj({"kind": {"enum": list(OverdueKind.labels())}, "id": INT, "case_id": INT, "case_number": STR,
                         "procedure": STR, "step": STR, "household": STR, "jurisdiction": STR,
                         "jurisdiction_path": STR, "role": NSTR, "due_at": TIME, "days_overdue": INT})
    return {
        "Error": _obj({"error": STR, "code": STR, "fields": _list(_obj({"field": STR, "reason": STR}))},
                      ("error", "fields")),
        "Place": _obj({"code": STR, "name": STR, "level": STR, "full_name": STR}),
        "Me": _obj({"username": STR, "display_name": STR, "roles": _list(STR), "jurisdiction": _ref("Place"),
                    "auth": {"enum": ["token", "session"]}, "csrf_token": NSTR}),
        "Member": _member_schema(),
        "Household": _obj({"id": INT, "number": STR, "village": _ref("Place"), "head": NSTR, "size": INT,
                           "status": STR, "category": NSTR, "identified_on": DATE, "risk_types": _list(STR),
                           **{f: {} for f in HOUSEHOLD_FIELDS},
                           "contact_phone": {**NSTR, "description": "联系电话：默认打码（sensitive=1 时完整）"},
                           "members": _list(member), "private_fields": PRIVATE_FIELDS, "cases": _list(case_ref),
                           "identified_outside": {
                               **_obj({"source": STR, "at": TIME, "by": STR}), "type": ["object", "null"],
                               "description": "系统外识别（导入）的监测对象：导入的文件、时间和导入人；在本系统识别的为 null"}}),
        "OpenCase": _obj({"household_id": INT, "channel": {"enum": [c.value for c in IDENTIFICATION_CHANNELS],
                                                            "description": "；".join(
                          f"{c.value}：{c.label}" for c in IDENTIFICATION_CHANNELS)},
                          "lead_date": {"type": "string", "format": "date", "description":
                                        "发现日期，不得晚于今天；早于今天超过政策参数 identification.late_lead_days 的天数"
                                        "的（补录），须在 application.backfill_reason 中写明补录说明"},
                          "application": {"type": "object", "description": "申请内容（自由结构，随案件保存）；"
                                          "backfill_reason：补录说明（为何现在才立案）"}},
                         ("household_id", "channel", "lead_date")),
        "Case": _obj({**{f: NSTR for f in ("number", "outcome", "outcome_reason", "opened_by", "deadline_label")},
                      **{f: TIME for f in ("opened_at", "closed_at", "due_at", "deadline_met_at", "overdue_since")},
                      "id": INT, "procedure": STR, "status": STR, "channel": STR, "channel_name": STR,
                      "lead_date": DATE, "version": {"type": "integer", "description": "案件版本号（乐观锁）"},
                      "jurisdiction": _ref("Place"),
                      "household": {**_obj({"id": INT, "number": STR, "head": NSTR}), "type": ["object", "null"],
                                    "description": "农户；部门预警批次、排查等不属于一户的案件为 null"}}),
        "Task": _obj({"id": INT, "case_id": INT, "name": STR, "bpmn_id": STR, "role": NSTR, "role_name": NSTR,
                      "state": STR, "form": NSTR, "created_at": TIME, "due_at": TIME, "overdue_since": TIME,
                      "claimed_by": NSTR, "claimed_at": TIME, "completed_by": NSTR, "completed_at": TIME,
                      "form_data": {"type": ["object", "null"]}, "jurisdiction": _ref("Place")}),
        "Deadline": _obj({"id": INT, "subject": {"enum": ["case", "task", "timer"]}, "label": STR, "due_at": TIME,
                          "due_local": {"type": "string", "description": "北京时间，期限为当日 24:00"},
                          "explanation": {"type": "string", "description": "期限如何计算（起算日、节假日数据版本）"},
                          "data_version": STR, "provisional": BOOL, "task_id": NINT,
                          "fired_at": {**TIME, "description": "定时器实际触发的时间（与 due_at 之差即延迟）"}}),
        "Event": _obj({"id": INT, "at": TIME, "actor": STR, "action": STR, "detail": {"type": "object"}}),
        "CaseDetail": _obj({"case": _ref("Case"), "private_fields": PRIVATE_FIELDS,
                            "timeline": _list(_ref("Event")), "tasks": _list(_ref("Task")),
                            "deadlines": _list(_ref("Deadline")),
                            "notices": _list(_obj({"id": INT, "at": TIME, "title": STR, "body": STR})),
                            "waiting_until": _list(_obj({"label": STR, "due_at": TIME, "due_local": STR}))}),
        "DeadlineList": _obj({"case_id": INT, "number": NSTR, "items": _list(_ref("Deadline"))}),
        "InboxItem": _obj({"id": INT, "case_id": INT, "case_number": STR, "procedure": STR, "household": STR,
                           "village": STR, "step": STR, "role": NSTR, "form": NSTR, "created_at": TIME,
                           "due_at": TIME, "claimed_by": NSTR}),
        "TaskPage": _obj({"items": _list(_ref("InboxItem")),
                          "total": {"type": "integer", "description": f"待办数，至多计到 {COUNT_CAP}"},
                          "total_more": {"type": "boolean", "description": f"多于 {COUNT_CAP} 项时为 true（total 即 {COUNT_CAP}）"},
                          "next": {"type": ["string", "null"], "description": "下一页的 after 参数；没有更多时为 null"}}),
        "TaskForm": _obj({"task": _ref("Task"), "case": _ref("Case"), "form": NSTR,
                          "schema": {"type": "object", "description": "该任务表单的 JSON Schema（forms/ 中的文件）"}}),
        "TaskFormData": {"description": "该任务的表单数据：符合 GET /api/tasks/{task_id}/form 返回的 schema，"
                                        "即下列表单之一", "anyOf": [_ref(_form_name(n)) for n in _task_forms()]},
        "Completed": _obj({"case": _ref("Case"), "ready_tasks": _list(_ref("Task"))}),
        "OverdueItem": overdue_item,
        "WarningBatchIn": _obj({"department": STR, "period": STR,
                                "rows": _list({"type": "object", "description": "一行预警：name, id_number, indicator, "
                                                                             "amount, village（可选）, date"})}),
        "WarningBatch": _obj({"id": INT, "department": STR, "period": STR, "jurisdiction": _ref("Place"),
                              "rows_count": INT, "source": STR, "submitted_at": TIME, "submitted_by": STR}),
        "Overdue": _obj({"jurisdiction": _ref("Place"), "at": TIME, "cases": _list(_ref("OverdueItem")),
                         "tasks": _list(_ref("OverdueItem")),
                         "total_cases": {**INT, "description": "逾期案件总数（列表只含逾期最久的 limit 项）"},
                         "total_tasks": {**INT, "description": "逾期任务总数"},
                         "limit": {**INT, "description": "每个列表最多列出的项数"},
                         "by_child": {"type": "object", "additionalProperties": INT,
                                      "description": "下一级行政区划各有多少逾期项"}}),
    }


def _form_name(file_name: str) -> str:
    return "Form_" + file_name.removesuffix(".json")


def _task_forms() -> list[str]:
    return [name for name in form_names() if name != REGISTRATION_FORM]


def _form_schemas() -> dict[str, Any]:
    """Each form of forms/ as it is (JSON Schema 2020-12 is OpenAPI 3.1's schema dialect)."""
    return {_form_name(name): load_form(name) for name in [REGISTRATION_FORM, *_task_forms()]}
