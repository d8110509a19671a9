"""The public self-application pages (农户自主申报): no log-in, usable on a phone. A household states its
village, the head's name and ID number, a phone number, its difficulty and risk types, and accepts the
commitment and authorization (承诺授权); the engine finds the registered household and opens an
identification case on the channel ``self_application``. The answer shows only the application number (申请编号)
— never a household or case number — and one refusal for every household that cannot apply on line. With the
application number and the ID number the applicant follows the application (/apply/progress) and may cancel it
while the village has not accepted it (/apply/cancel). The posts are rate limited per client address
(web.ratelimits: the lookups share one counter, so that guessing pairs costs the same on either page); what
the pages answer is never cached."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, make_response, redirect, render_template, request, session, url_for

from engine.app import get_clock
from engine.cases.self_application import (
    AUTHORIZATION,
    COMMITMENT,
    Application,
    ApplicationNotFound,
    ApplicationRefused,
    cancel_application,
    display_number,
    normalize_number,
    progress,
    progress_of,
    risk_type_choices,
    submit_application,
    village_groups,
)
from engine.core.db import db
from engine.core.errors import ConflictError, FangpinError, FormInvalid, RuleViolation
from engine.core.id_numbers import FORM_PROBLEM, ID_NUMBER
from engine.core.models import SelfApplication

from .formrender import errors_by_field
from .ratelimits import apply_limit, limiter

log = logging.getLogger(__name__)
bp = Blueprint("apply", __name__)
SESSION_KEY = "self_application_id"
LOOKUP_SCOPE = "apply-lookup"  # the progress query and the cancellation count together
UNAVAILABLE = "暂时无法受理网上申请，请直接联系所在村村委会。"


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def _private(body: str, status: int = 200) -> Any:
    """A page about one applicant: never kept by the browser or a proxy."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(values: dict[str, Any], errors: dict[str, str], message: str | None, status: int) -> Any:
    """The application form; refused, it shows again what was typed (an ID number, a telephone): never kept."""
    return _private(render_template("apply/form.html", groups=village_groups(), risk_types=risk_type_choices(),
                                    commitment=COMMITMENT, authorization=AUTHORIZATION, values=values, errors=errors,
                                    message=message), status)


@bp.get("/apply")
def form() -> Any:
    return _page({"risk_types": []}, {}, None, 200)


@bp.post("/apply")
@limiter.limit(apply_limit)
def submit() -> Any:
    values = {key: request.form.get(key, "").strip() for key in ("village", "head_name", "id_number", "phone",
                                                                  "description")}
    values["risk_types"] = request.form.getlist("risk_types")
    values["agreed"] = request.form.get("agreed") == "on"
    application = Application(values["village"], values["head_name"], values["id_number"], values["phone"],
                              values["description"], values["risk_types"], values["agreed"])
    try:
        record = submit_application(application, get_clock())
    except FormInvalid as exc:
        return _page(values, errors_by_field(exc.errors), "请按提示修改后再提交。", 422)
    except ApplicationRefused as exc:  # the same answer whatever the reason (not registered, monitored, …)
        log.info("self-application refused: %s", exc.reason)
        return _page(values, {}, str(exc), 422)
    except FangpinError as exc:
        log.warning("self-application refused: %s", exc)
        return _page(values, {}, UNAVAILABLE, 503)
    session[SESSION_KEY] = record.id
    return redirect(url_for("apply.done"), code=303)


@bp.get("/apply/done")
def done() -> Any:
    """The answer (only in the browser that applied): the application number and what happens next."""
    record = db.session.get(SelfApplication, session.get(SESSION_KEY) or 0)
    if record is None:
        return redirect(url_for("apply.form"))
    return _private(render_template("apply/done.html", number=display_number(record.number),
                                    progress=progress_of(record)))


# -- 申报进度查询, 取消申报 -----------------------------------------------------------------------------


def _lookup_values() -> dict[str, str]:
    return {"number": request.form.get("number", "").strip(), "id_number": request.form.get("id_number", "").strip(),
            "reason": request.form.get("reason", "").strip(), "confirm": request.form.get("confirm", "")}


def _lookup_errors(values: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not normalize_number(values["number"]):
        errors["number"] = "请填写申请编号"
    if not ID_NUMBER.match(values["id_number"]):  # its form only: it is compared with the number the application
        errors["id_number"] = f"身份证号{FORM_PROBLEM}"  # was made with, as registered (check character unchecked then)
    return errors


def _lookup_page(template: str, values: dict[str, str], errors: dict[str, str], message: str | None,
                 status: int, result=None) -> Any:
    return _private(render_template(template, values=values, errors=errors, message=message, result=result), status)


@bp.get("/apply/progress")
def progress_form() -> Any:
    return _lookup_page("apply/progress.html", {}, {}, None, 200)


@bp.post("/apply/progress")
@limiter.shared_limit(apply_limit, scope=LOOKUP_SCOPE)
def progress_query() -> Any:
    values = _lookup_values()
    errors = _lookup_errors(values)
    if errors:
        return _lookup_page("apply/progress.html", values, errors, "请按提示修改后再查询。", 422)
    try:
        result = progress(values["number"], values["id_number"])
    except ApplicationNotFound as exc:
        return _lookup_page("apply/progress.html", values, {}, str(exc), 404)
    return _lookup_page("apply/progress.html", values, {}, None, 200, result)


@bp.get("/apply/cancel")
def cancel_form() -> Any:
    return _lookup_page("apply/cancel.html", {}, {}, None, 200)


@bp.post("/apply/cancel")
@limiter.shared_limit(apply_limit, scope=LOOKUP_SCOPE)
def cancel() -> Any:
    values = _lookup_values()
    errors = _lookup_errors(values)
    if values["confirm"] != "on":
        errors["confirm"] = "请确认取消本次申请"
    if errors:
        return _lookup_page("apply/cancel.html", values, errors, "请按提示修改后再提交。", 422)
    try:
        result = cancel_application(values["number"], values["id_number"], values["reason"], get_clock())
    except ApplicationNotFound as exc:
        return _lookup_page("apply/cancel.html", values, {}, str(exc), 404)
    except FormInvalid as exc:
        return _lookup_page("apply/cancel.html", values, errors_by_field(exc.errors), "请按提示修改后再提交。", 422)
    except ConflictError:
        return _lookup_page("apply/cancel.html", values, {}, "您的申请刚刚有了新的办理进展，请重新查询进度。", 409)
    except RuleViolation as exc:  # already accepted by the village, or no longer running (public wording)
        return _lookup_page("apply/cancel.html", values, {}, str(exc), 409)
    except FangpinError as exc:
        log.warning("self-application cancellation failed: %s", exc)
        return _lookup_page("apply/cancel.html", values, {}, "暂时无法在网上取消，请联系所在村村委会。", 503)
    return _lookup_page("apply/cancel.html", {}, {}, None, 200, result)
