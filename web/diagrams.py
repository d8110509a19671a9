"""Policy editing (政策管理) pages: the diagram library (流程图库) with versions and decision tables, downloads of
the exact deployed bytes, uploads validated and deployed by the engine (optionally bound to a jurisdiction from
a date), drafts (草稿), the bpmn-js modeler and the dmn-js decision table editor, binding a procedure to a
diagram (its newest or a pinned version) from a date, rolling back to an earlier version, changing a policy
parameter from a date, and moving a running case to another version. Policy editors (政策管理员) only;
supervisors may read the library. The rules live in engine.library (catalogue, deploying, drafts, trial runs),
engine.policy (bindings, editing) and engine.cases.migration."""
from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from engine.accounts.users import display_names
from engine.app import get_clock
from engine.bpmn.deployment import get_version, newest_versions, versions_of
from engine.bpmn.procedures import carried_by
from engine.cases.migration import check_migration, migrate_case
from engine.core.db import db
from engine.core.errors import DiagramInvalid, FangpinError, FormInvalid, NotFound, PermissionDenied
from engine.core.models import Case, PolicyParameter
from engine.core.vocabulary import Procedure
from engine.library.catalogue import deployed_file, main_file, process_library, running_cases, version_summary
from engine.library.choices import modeler_choices as choices_for_modeler
from engine.library.decisions import decision_library
from engine.library.deploying import MAX_DIAGRAM_BYTES, BindingRequest, Deployed, deploy_diagram, diagram_source
from engine.library.drafts import check_draft, deploy_draft, draft_notices, drafts, get_draft, save_draft
from engine.library.scenarios import (
    draft_processes,
    parse_scenario,
    save_scenario,
    scenario_process,
    scenarios_for,
)
from engine.library.trial import readable, try_draft
from engine.policy.bindings import bindings, parse_process_ref
from engine.policy.check import check as policy_check
from engine.policy.check import gaps as policy_gaps
from engine.policy.check import optional_not_set
from engine.policy.editing import (
    bind_process,
    parameter_keys,
    parameter_rows,
    parse_value,
    procedures,
    roll_back,
    set_parameter,
)
from engine.policy.labels import parameter_labels, value_text, value_words
from engine.policy.monitoring_lines import lines_below, set_monitoring_line
from engine.policy.parameters import PROCESS_SUFFIX
from engine.policy.permissions import editable_jurisdictions, jurisdiction_by_code
from engine.policy.schemas import field_titles
from engine.publicity.lists import list_source_gaps
from timers.calendar import DATE_FORMAT, to_local_date

from .auth import roles_required, within
from .security import attachment, parse_id

bp = Blueprint("diagrams", __name__)
log = logging.getLogger(__name__)
EDITORS = ("policy_editor",)
READERS = ("policy_editor", "supervisor")


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def _is_editor() -> bool:
    return "policy_editor" in g.user.roles


def _found(fn, *args: Any) -> Any:
    """Call an engine reader; its NotFound is a 404 page."""
    try:
        return fn(*args)
    except NotFound:
        abort(404)


def _xml_download(name: str, content: bytes) -> Response:
    """Uploaded XML is only ever downloaded (attachment, nosniff): a diagram holding a script is never rendered
    on this site. The modeler fetches the same URL with fetch(), which reads attachments as well."""
    return attachment(content, "application/xml", name)


def _date(field: str, required: bool = True) -> date | None:
    raw = (request.form.get(field) or "").strip()
    if not raw and not required:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FangpinError(f"“{raw}”不是日期：{DATE_FORMAT}") from None


# -- library and versions -------------------------------------------------------------------------


def _today() -> date:
    return to_local_date(get_clock().now())


def _bind_choices() -> dict[str, Any]:
    """What the deploy and rollback forms offer: the editor's jurisdictions, the procedures, today."""
    if not _is_editor():
        return {"places": [], "procedures": [], "today": _today()}
    return {"places": editable_jurisdictions(g.user), "procedures": procedures(), "today": _today()}


def _library(problems: list[str] | None = None, refused: str | None = None, status: int = 200) -> Any:
    processes, tables = process_library(g.user.jurisdiction, _today()), decision_library()
    names = display_names([s.version.deployed_by for p in processes for s in p.versions]
                          + [v.uploaded_by for t in tables for v in t.versions])
    return render_template("diagrams/library.html", processes=processes, decision_tables=tables, names=names,
                           can_edit=_is_editor(), problems=problems or [], refused=refused,
                           procedure_names=Procedure.labels(), form=request.form, **_bind_choices()), status


@bp.get("/diagrams")
@roles_required(*READERS)
def library() -> Any:
    """流程图库: every process, its versions and where it is used."""
    return _library()


@bp.get("/diagrams/versions/<int:version_id>")
@roles_required(*READERS)
def version(version_id: int) -> str:
    return _version_page(_found(get_version, version_id))


def _version_page(found, status: int = 200) -> Any:
    files = [deployed_file(f["sha256"]) for f in found.files]
    summary = version_summary(found, g.user.jurisdiction, _today())
    used_with = sorted({b.procedure for b in bindings(g.user.jurisdiction, found.process_key)})
    carried = carried_by(found)
    names = display_names([found.deployed_by, *(f.uploaded_by for f in files)])
    return render_template("diagrams/version.html", v=found, summary=summary, files=files, carried=carried, names=names,
                           bindings=bindings(g.user.jurisdiction, found.process_key),
                           newest=newest_versions().get(found.process_key), used_with=used_with,
                           cases=running_cases(found, g.user.jurisdiction), can_edit=_is_editor(),
                           procedure_names=Procedure.labels(), form=request.form, **_bind_choices()), status


@bp.post("/diagrams/versions/<int:version_id>/rollback")
@roles_required(*EDITORS)
def rollback(version_id: int) -> Any:
    """回退到此版本: a jurisdiction's procedure starts new cases on this version from a date (running cases
    keep theirs)."""
    found = _found(get_version, version_id)
    form = request.form
    try:
        row = roll_back(g.user, found.id, form.get("procedure", ""), form.get("jurisdiction", ""),
                        _date("effective_from"), get_clock(), form.get("source", ""))
    except PermissionDenied:
        abort(403)
    except FangpinError as exc:
        flash(str(exc), "error")
        return _version_page(found, 422)
    flash(f"已设置：{row.jurisdiction.full_name} 自 {row.effective_from} 起新立案的"
          f"{Procedure.label_of(form.get('procedure', ''))}案件使用 "
          f"{found.process_key} v{found.version}；办理中的案件不变。", "ok")
    return redirect(url_for("diagrams.version", version_id=found.id))


@bp.get("/diagrams/files/<sha256>")
@roles_required(*READERS)
def file(sha256: str) -> Response:
    """The deployed file, byte for byte as uploaded."""
    stored = _found(deployed_file, sha256)
    return _xml_download(stored.file_name, stored.content)


# -- uploads and drafts ---------------------------------------------------------------------------


@bp.post("/diagrams/upload")
@roles_required(*EDITORS)
def upload() -> Any:
    """Upload a .bpmn/.dmn file: validate and deploy it, or keep it as a draft."""
    sent = request.files.get("diagram")
    try:
        source = diagram_source(sent.filename if sent else "", sent.read(MAX_DIAGRAM_BYTES + 1) if sent else b"")
        if request.form.get("action") == "draft":
            draft = save_draft(g.user, source, request.form.get("note", ""), get_clock())
            flash(f"已存为草稿：{draft.file_name}", "ok")
            return redirect(url_for("diagrams.draft", draft_id=draft.id))
        binding = _binding_request()
        versions = deploy_diagram(g.user, source, get_clock(), binding)
    except DiagramInvalid as exc:
        return _library(exc.problems, exc.file_name, 422)
    except PermissionDenied as exc:
        flash(f"{exc}：未部署", "error")
        return _library(status=403)
    except FangpinError as exc:
        flash(str(exc), "error")
        return _library(status=422)
    return _deployed(versions, binding)


def _binding_request() -> BindingRequest | None:
    """The deploy form's optional binding (绑定到行政区划、办理程序、生效日期): all three or none."""
    form = request.form
    fields = [(form.get(name) or "").strip() for name in ("bind_jurisdiction", "bind_procedure", "bind_effective_from")]
    if not any(fields):
        return None
    if not all(fields):
        raise FangpinError("部署并绑定需要同时填写“绑定到（行政区划）”“办理程序”和“生效日期”；未部署")
    return BindingRequest(procedure=fields[1], jurisdiction_code=fields[0], effective_from=_date("bind_effective_from"),
                          source=form.get("bind_source", ""), keep_others=form.get("keep_others") == "1")


def _binding_text(row: PolicyParameter) -> str:
    return f"{row.jurisdiction.full_name}（{Procedure.label_of(row.key.removesuffix(PROCESS_SUFFIX))}）"


def _deployed(versions: Deployed, binding: BindingRequest | None = None) -> Response:
    if not versions:
        flash("没有新的流程版本：文件与已部署的相同；决策表如尚无流程调用，已校验并存入图库，"
              "调用它的流程图上传部署时一并使用。", "ok")
        return redirect(url_for("diagrams.library"))
    message = "已部署：" + "、".join(f"{v.process_key} v{v.version}" for v in versions) + "。运行中的案件仍按原版本办理。"
    if binding is not None:
        place = jurisdiction_by_code(binding.jurisdiction_code).full_name
        message += f"已绑定：自 {binding.effective_from} 起{place}新立案的案件使用新版本。"
    following = versions.following
    if following:
        message += "以下绑定为“最新版本”，新立案的案件即改用新版本：" + "、".join(map(_binding_text, following)) + "。"
    pinned = versions.pinned
    if pinned:
        message += "以下绑定保持部署前的版本（本次部署只改变本辖区）：" + "、".join(
            f"{_binding_text(row)}固定为 {row.value}" for row in pinned) + "。"
    flash(message, "ok")
    for notice in versions.notices:
        flash(f"提示：{notice}", "notice")
    return redirect(url_for("diagrams.version", version_id=versions[0].id))


@bp.get("/diagrams/drafts")
@roles_required(*EDITORS)
def draft_list() -> str:
    kept = drafts()
    return render_template("diagrams/drafts.html", drafts=kept, names=display_names(d.saved_by for d in kept))


@bp.get("/diagrams/drafts/<int:draft_id>")
@roles_required(*EDITORS)
def draft(draft_id: int) -> Any:
    """A draft; with ``?check=1`` it is validated like an upload (nothing deployed)."""
    found = _found(get_draft, draft_id)
    checked, problems, processes, notices, status = request.args.get("check") == "1", [], [], [], 200
    if checked:
        try:
            processes = check_draft(draft_id)
            notices = draft_notices(draft_id)
        except DiagramInvalid as exc:
            problems, status = [f"{exc.file_name}：{p}" for p in exc.problems], 422
    return _draft_page(found, status, checked=checked, problems=problems, processes=processes, notices=notices)


def _draft_page(found, status: int = 200, **values: Any) -> Any:
    """The draft's page; a result (校验, 试运行, 保存为场景) is shown at its top (``result``), focused."""
    values = {"checked": False, "problems": [], "processes": [], "notices": [], "scenario": None, "trace": None, "try_error": None,
              "scenario_error": None, **values}
    kept = scenarios_for(draft_processes(found.file_name, found.content))
    chosen = None
    if values["scenario"] is None:
        chosen = next((s for s in kept if str(s.id) == request.args.get("scenario")), None)
        values["scenario"] = chosen.content if chosen else ""
    values["result"] = bool(values["checked"] or values["trace"] or values["try_error"] or values["scenario_error"])
    names = display_names([found.saved_by, *(s.saved_by for s in kept)])
    return render_template("diagrams/draft.html", d=found, form=request.form, procedure_names=Procedure.labels(),
                           kept_scenarios=kept, chosen_scenario=chosen, names=names, **_bind_choices(), **values), status


@bp.post("/diagrams/drafts/<int:draft_id>/try")
@roles_required(*EDITORS)
def try_saved(draft_id: int) -> Any:
    """试运行: run the draft against the scenario typed in or chosen (JSON); nothing is stored."""
    found = _found(get_draft, draft_id)
    text = request.form.get("scenario", "")
    trace, error, status = None, None, 200
    try:
        trace = readable(try_draft(found.content, found.file_name, parse_scenario(text)))
    except (FangpinError, KeyError, ValueError) as exc:
        error, status = str(exc), 422
    return _draft_page(found, status, scenario=text, trace=trace, try_error=error)


@bp.post("/diagrams/drafts/<int:draft_id>/scenarios")
@roles_required(*EDITORS)
def save_trial_scenario(draft_id: int) -> Any:
    """保存为场景: keep the scenario typed in under a name, for the process the draft is tried as; a scenario
    that could not run is refused and nothing is saved."""
    found = _found(get_draft, draft_id)
    text = request.form.get("scenario", "")
    try:
        process_key = scenario_process(found.file_name, found.content, parse_scenario(text))
        row, replaced = save_scenario(g.user, process_key, request.form.get("scenario_name", ""), text, get_clock())
    except PermissionDenied:
        abort(403)
    except FangpinError as exc:
        return _draft_page(found, 422, scenario=text, scenario_error=f"未保存场景：{exc}")
    flash(f"已{'更新' if replaced else '保存'}场景“{row.name}”（流程 {row.process_key}），可在场景列表中选用。", "ok")
    return redirect(url_for("diagrams.draft", draft_id=found.id, scenario=row.id, _anchor="result"))


@bp.get("/diagrams/drafts/<int:draft_id>/download")
@roles_required(*EDITORS)
def draft_file(draft_id: int) -> Response:
    found = _found(get_draft, draft_id)
    return _xml_download(found.file_name, found.content)


@bp.post("/diagrams/drafts/<int:draft_id>/deploy")
@roles_required(*EDITORS)
def deploy_saved(draft_id: int) -> Any:
    _found(get_draft, draft_id)
    try:
        binding = _binding_request()
        versions = deploy_draft(g.user, draft_id, get_clock(), binding)
    except DiagramInvalid as exc:
        problems = [f"{exc.file_name}：{p}" for p in exc.problems]
        flash("草稿未通过校验，未部署任何内容。", "error")
        return _draft_page(get_draft(draft_id), 422, checked=True, problems=problems)
    except PermissionDenied as exc:
        flash(f"{exc}：未部署", "error")
        return _draft_page(get_draft(draft_id), 403)
    except FangpinError as exc:
        flash(str(exc), "error")
        return _draft_page(get_draft(draft_id), 422)
    return _deployed(versions, binding)


# -- the modeler ----------------------------------------------------------------------------------


@bp.get("/diagrams/versions/<int:version_id>/modeler")
@roles_required(*EDITORS)
def edit_version(version_id: int) -> str:
    found = _found(get_version, version_id)
    main = main_file(found)
    return _modeler(main.file_name, "diagrams.file", {"sha256": main.sha256}, f"{found.process_key} v{found.version}")


@bp.get("/diagrams/files/<sha256>/modeler")
@roles_required(*EDITORS)
def edit_file(sha256: str) -> str:
    """A deployed file (a decision table of the library, or any file of a version) in its editor."""
    stored = _found(deployed_file, sha256)
    return _modeler(stored.file_name, "diagrams.file", {"sha256": stored.sha256},
                    f"已部署版本 {stored.sha256[:12]}")


@bp.get("/diagrams/drafts/<int:draft_id>/modeler")
@roles_required(*EDITORS)
def edit_draft(draft_id: int) -> str:
    found = _found(get_draft, draft_id)
    return _modeler(found.file_name, "diagrams.draft_file", {"draft_id": found.id}, f"草稿 {found.id}")


MODELERS = {".bpmn": "bpmn", ".dmn": "dmn"}  # file suffix → editor (bpmn-js, dmn-js)


def _modeler(file_name: str, endpoint: str, args: dict[str, Any], origin: str) -> str:
    """The editor for the file's kind: bpmn-js for .bpmn, dmn-js (decision tables) for .dmn; 404 otherwise."""
    kind = next((k for suffix, k in MODELERS.items() if file_name.lower().endswith(suffix)), None)
    if kind is None:
        abort(404)
    return render_template("diagrams/modeler.html", file_name=file_name, kind=kind, origin=origin,
                           xml_url=url_for(endpoint, **args), download_url=url_for(endpoint, **args),
                           save_url=url_for("diagrams.save_from_modeler", file_name=file_name))


@bp.get("/diagrams/modeler/choices")
@roles_required(*EDITORS)
def modeler_choices() -> Response:
    """What the modeler's properties panel offers (JSON): the forms (forms/), the roles a lane may name
    (policy/roles.json), the deployed processes a call activity may call, the decisions of the deployed decision
    tables, the dates a due date or timer may count from, and the functions a script or expression may call."""
    return jsonify(choices_for_modeler(g.user.username, get_clock()))


@bp.post("/diagrams/drafts/modeler")
@roles_required(*EDITORS)
def save_from_modeler() -> Any:
    """The modeler's XML (request body, CSRF token in the X-CSRFToken header) saved as a new draft."""
    if (request.content_length or 0) > MAX_DIAGRAM_BYTES:
        return jsonify({"error": f"流程图超过 {MAX_DIAGRAM_BYTES // 1024 // 1024} MB"}), 413
    try:
        source = diagram_source(request.args.get("file_name", ""), request.get_data())
        saved = save_draft(g.user, source, request.args.get("note", ""), get_clock())
    except FangpinError as exc:
        return jsonify({"error": str(exc)}), 422
    return jsonify({"draft_id": saved.id, "sha256": saved.sha256,
                    "url": url_for("diagrams.draft", draft_id=saved.id)}), 201


# -- bindings and parameters ----------------------------------------------------------------------


def _policy_form(template: str, status: int = 200, **extra: Any) -> Any:
    places = editable_jurisdictions(g.user)
    return render_template(template, places=places, form=request.form, procedures=procedures(),
                           procedure_names=Procedure.labels(), today=to_local_date(get_clock().now()), **extra), status


def _binding_form(status: int = 200) -> Any:
    newest = newest_versions()
    processes = {key: versions_of(key) for key in sorted(newest)}
    names = display_names(v.deployed_by for versions in processes.values() for v in versions)
    return _policy_form("diagrams/bindings.html", status, rows=bindings(g.user.jurisdiction), processes=processes,
                        newest=newest, names=names)


@bp.get("/diagrams/bindings")
@roles_required(*EDITORS)
def binding_page() -> Any:
    """流程绑定: which diagram (a version, or the newest) each jurisdiction runs from which date, and the form
    to change it."""
    return _binding_form()


@bp.post("/diagrams/bindings")
@roles_required(*EDITORS)
def bind() -> Any:
    """流程绑定: a procedure of a jurisdiction runs a process (its newest version, or the one chosen) from a date."""
    form = request.form
    process_key = form.get("process_key", "").strip()
    try:
        version = None
        if form.get("version"):
            chosen = parse_process_ref(form["version"] if "@" in form["version"] else f"{process_key}@{form['version']}")
            if chosen.key != process_key:
                raise FangpinError(f"所选版本 {chosen.key} v{chosen.version} 不是流程 {process_key} 的版本")
            version = chosen.version
        row = bind_process(g.user, form.get("procedure", ""), process_key, form.get("jurisdiction", ""),
                           _date("effective_from"), get_clock(), _date("effective_to", required=False),
                           form.get("source", ""), version=version)
    except PermissionDenied:
        abort(403)
    except FangpinError as exc:
        flash(str(exc), "error")
        return _binding_form(422)
    ref = parse_process_ref(row.value)
    flash(f"已绑定：{row.jurisdiction.full_name} 自 {row.effective_from} 起 {row.key} = {ref.label}", "ok")
    return redirect(url_for("diagrams.binding_page"))


@bp.get("/diagrams/parameters")
@roles_required(*EDITORS)
def parameter_page() -> Any:
    """政策参数: every value that applies in my area, by parameter, jurisdiction (by name) and date; structured
    values are shown as labelled lists (the titles of their schemas in policy/schemas/), never as escaped JSON."""
    return _parameter_form(request.args.get("key") or None)


def _parameter_form(key: str | None, status: int = 200) -> Any:
    """The parameters page: every value that applies in my area (of ``key`` only, if given), each parameter by its
    name (policy/parameter_labels.json)."""
    everything = parameter_rows(g.user.jurisdiction)
    keys = parameter_keys()
    return _policy_form("diagrams/parameters.html", status, keys=keys, key=key, labels=parameter_labels(keys),
                        rows=[r for r in everything if key is None or r.key == key], titles=field_titles(),
                        value_names=value_words(), source_required=True,
                        raw=lambda value: json.dumps(value, ensure_ascii=False, indent=2))


@bp.post("/diagrams/parameters")
@roles_required(*EDITORS)
def set_value() -> Any:
    """修改政策参数 from a date (the value typed is read as the type the parameter already has; 依据 required)."""
    form = request.form
    key = form.get("key", "")
    try:
        row = set_parameter(g.user, key, parse_value(key, form.get("value", "")), form.get("jurisdiction", ""),
                            _date("effective_from"), get_clock(), _date("effective_to", required=False),
                            form.get("source", ""))
    except PermissionDenied:
        abort(403)
    except FangpinError as exc:
        flash(str(exc), "error")
        return _parameter_form(key if key in parameter_keys() else None, 422)
    flash(f"已修改：{row.jurisdiction.full_name} 自 {row.effective_from} 起“{parameter_labels([row.key])[row.key]}”"
          f"为 {value_text(row.value)}", "ok")
    return redirect(url_for("diagrams.parameter_page", key=row.key))


@bp.get("/diagrams/policy-check")
@roles_required(*READERS)
def policy_check_page() -> str:
    """配置检查: every procedure a jurisdiction of the user's area cannot start today, and what is missing; the
    publicity lists whose sources name steps the diagrams there lack (名单来源); the optional rules not set there."""
    today = _today()
    results = policy_check(today, g.user.jurisdiction)
    places: dict[int, list] = {}
    for r in results:
        places.setdefault(r.place.id, []).append(r)
    return render_template("diagrams/policy_check.html", today=today, places=list(places.values()),
                           missing=policy_gaps(results), list_gaps=list_source_gaps(today, g.user.jurisdiction),
                           optional=optional_not_set(results))


@bp.get("/diagrams/monitoring-lines")
@roles_required(*EDITORS)
def monitoring_lines_page() -> Any:
    """监测范围: each province's line per year, and the form to set next year's (or correct one)."""

    return _policy_form("diagrams/monitoring_lines.html", rows=lines_below(g.user.jurisdiction), errors={})


@bp.post("/diagrams/monitoring-lines")
@roles_required(*EDITORS)
def set_monitoring_line_value() -> Any:

    form = request.form
    raw_year = form.get("year", "").strip()
    year = int(raw_year) if raw_year.isascii() and raw_year.isdigit() and len(raw_year) <= 4 else 0  # 0: refused
    try:
        set_monitoring_line(g.user, form.get("province", ""), year, form.get("amount", ""), form.get("source", ""),
                            get_clock())
    except PermissionDenied:
        abort(403)
    except FormInvalid as exc:
        return _policy_form("diagrams/monitoring_lines.html", 422, rows=lines_below(g.user.jurisdiction),
                            errors=dict(exc.errors))
    except FangpinError as exc:
        flash(str(exc), "error")
        return _policy_form("diagrams/monitoring_lines.html", 422, rows=lines_below(g.user.jurisdiction), errors={})
    flash(f"已设置 {year} 年监测范围", "ok")
    return redirect(url_for("diagrams.monitoring_lines_page"))


# -- migration ------------------------------------------------------------------------------------


def _visible_case(number: str) -> Case:
    case = db.session.scalar(select(Case).where(Case.number == number.strip()[:100]))
    case_id = parse_id(number) if case is None else None
    if case_id is not None:
        case = db.session.get(Case, case_id)
    if case is None:
        abort(404)
    if not within(case.jurisdiction_path):
        abort(403)
    return case


@bp.get("/diagrams/versions/<int:version_id>/migration")
@roles_required(*EDITORS)
def migration(version_id: int) -> Any:
    """迁移检查: could a running case move to this version? Changes nothing."""
    target = _found(get_version, version_id)
    case = _visible_case(request.args.get("case", ""))
    check = check_migration(case.id, target.id, get_clock())
    return render_template("diagrams/migration.html", v=target, case=case, check=check)


@bp.post("/diagrams/versions/<int:version_id>/migration")
@roles_required(*EDITORS)
def migrate(version_id: int) -> Any:
    target = _found(get_version, version_id)
    case = _visible_case(request.form.get("case", ""))
    try:
        migrate_case(case.id, target.id, g.user.username, get_clock())
    except FangpinError as exc:
        flash(str(exc), "error")
        return render_template("diagrams/migration.html", v=target, case=case,
                               check=check_migration(case.id, target.id, get_clock())), 422
    flash(f"案件 {case.number} 已迁移到 {target.process_key} v{target.version}", "ok")
    return redirect(url_for("diagrams.version", version_id=target.id))
