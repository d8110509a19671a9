"""The public self-application page (农户自主申报): no log-in, usable on a phone. A household states its
village, the head's name and ID number, a phone number, its difficulty and risk types, and accepts the
commitment and authorization (承诺授权); the engine finds the registered household and opens an
identification case on the channel ``self_application``. Rate limiting is not done here (see the report)."""
from __future__ import annotations

import logging
from itertools import groupby
from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for

from engine.app import get_clock
from engine.cases.self_application import (
    AUTHORIZATION,
    COMMITMENT,
    ApplicantNotFound,
    Application,
    risk_type_choices,
    submit_application,
    villages,
)
from engine.core.db import db
from engine.core.errors import FangpinError, FormInvalid, RuleViolation
from engine.core.models import Case, Jurisdiction

from .formrender import errors_by_field
from .ratelimits import apply_limit, limiter

log = logging.getLogger(__name__)
bp = Blueprint("apply", __name__)
SESSION_KEY = "applied_case_id"


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def _village_groups() -> list[tuple[str, list[Jurisdiction]]]:
    """Villages grouped by township ("章贡区沙河镇"), for the <optgroup>s of the village choice."""
    def township(v: Jurisdiction) -> str:
        return "".join(j.name for j in reversed(v.ancestors()[1:3]))

    return [(name, list(group)) for name, group in groupby(villages(), key=township)]


def _page(values: dict[str, Any], errors: dict[str, str], message: str | None, status: int) -> Any:
    return render_template("apply/form.html", groups=_village_groups(), risk_types=risk_type_choices(),
                           commitment=COMMITMENT, authorization=AUTHORIZATION, values=values, errors=errors,
                           message=message), status


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
        case = submit_application(application, get_clock())
    except FormInvalid as exc:
        return _page(values, errors_by_field(exc.errors), "请按提示修改后再提交。", 422)
    except ApplicantNotFound as exc:
        return _page(values, {}, str(exc), 422)
    except RuleViolation as exc:  # already monitored, or an unfinished application
        return _page(values, {}, f"{exc}。如有疑问，请联系所在村村委会。", 409)
    except FangpinError as exc:
        log.warning("self-application refused: %s", exc)
        return _page(values, {}, "暂时无法受理网上申请，请直接联系所在村村委会。", 503)
    session[SESSION_KEY] = case.id
    return redirect(url_for("apply.done"), code=303)


@bp.get("/apply/done")
def done() -> Any:
    """The result (only in the browser that applied): the case number and what happens next."""
    case = db.session.get(Case, session.get(SESSION_KEY) or 0)
    if case is None:
        return redirect(url_for("apply.form"))
    return render_template("apply/done.html", case=case)
