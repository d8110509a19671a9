"""The inbox (待办) and the task page (办理): ready tasks for my roles in my jurisdiction, most urgent
first; claim and release; the form rendered from the task's JSON Schema, completed through the engine."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from engine.app import get_clock
from engine.bpmn.forms import load_form
from engine.cases.deadlines import task_deadline
from engine.cases.decision_view import DecisionView, Prefill, decision_view, prefill
from engine.cases.event_dates import REASON_FIELD, REASON_MAX
from engine.cases.form_rules import narrowed
from engine.cases.lifecycle import authorize, complete_task, notices_of_case
from engine.cases.self_application import application_of_case, for_officials
from engine.cases.tasks import (
    CLAIM_FILTERS,
    MAX_PAGES,
    SORTS,
    TaskFilter,
    claim_task,
    count_ready,
    inbox,
    release_task,
    task_with_case,
)
from engine.cases.views import places_below
from engine.core.errors import ConflictError, FangpinError, FormInvalid, PermissionDenied
from engine.core.models import HumanTask
from engine.core.vocabulary import HouseholdCategory, Procedure
from engine.publicity.lists import step_posting
from engine.warnings.ledger import case_panel

from .auth import login_required
from .formrender import (
    Field,
    errors_by_field,
    fields_of,
    parse,
    schema_defaults,
    table_rows,
    with_defaults,
    with_posted,
)
from .security import parse_id, same_site_referrer

bp = Blueprint("tasks", __name__)
PAGE_SIZE = 25
CALENDAR_READERS = ("policy_editor", "supervisor")  # who is shown the calendar data a deadline was computed with


@bp.get("/inbox")
@login_required
def inbox_page() -> str:
    """待办: filtered by procedure, step, village (or a place below mine), claim and overdue, searched by household
    number or head's name; ordered by due date (keyset pages) or by creation, household or village (numbered
    pages, at most MAX_PAGES)."""
    user = g.user
    places = places_below(user.jurisdiction)
    village = next((p for p in places if p.code == request.args.get("village")), None)
    procedure = request.args.get("procedure", "")
    claimed = request.args.get("claimed", "")
    sort = request.args.get("sort", "")
    sort = sort if sort in SORTS else "due"
    text = request.args.get("q", "").strip()[:40]
    overdue = bool(request.args.get("overdue"))
    f = TaskFilter(tuple(user.roles), user.jurisdiction,
                   procedure=procedure if procedure in Procedure.labels() else None,
                   step=request.args.get("step", "").strip()[:200] or None, village=village,
                   claimed=claimed if claimed in CLAIM_FILTERS else "", username=user.username,
                   overdue_at=get_clock().now() if overdue else None, text=text, department=user.department)
    page = min(max(parse_id(request.args.get("page") or "") or 1, 1), MAX_PAGES)
    after = valid_cursor(request.args.get("after")) if sort == "due" else None
    total = count_ready(f)
    rows = inbox(f, limit=PAGE_SIZE + 1, after=after, offset=(page - 1) * PAGE_SIZE if sort != "due" else 0,
                 sort=sort, total=total)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    # what the links keep: every filter, and the order
    kept = {"procedure": f.procedure or "", "step": f.step or "", "village": village.code if village else "",
            "claimed": f.claimed, "q": text, "overdue": "1" if overdue else "", "sort": sort}

    def link(**changes: str | int) -> str:
        """This inbox with ``changes`` (a new order starts again at the first page)."""
        return url_for("tasks.inbox", **{k: v for k, v in {**kept, **changes}.items() if v})

    return render_template("tasks/inbox.html", rows=rows, total=total, kept=kept, link=link, places=places,
                           procedures=Procedure.labels(), claims=CLAIM_FILTERS, sorts=SORTS, sort=sort,
                           page=page, max_pages=MAX_PAGES, page_size=PAGE_SIZE,
                           next_cursor=rows[-1].cursor if more and rows and sort == "due" else None,
                           next_page=page + 1 if more and sort != "due" and page < MAX_PAGES else None)


bp.add_url_rule("/inbox", endpoint="inbox", view_func=inbox_page)


def valid_cursor(after: str | None) -> str | None:
    """The inbox's ``after`` cursor (``<due ISO time>|<task id>``, from the previous page), or None if it is not
    one (a hand-typed value starts from the first page instead of failing)."""
    if not after or len(after) > 80:
        return None
    due, _, last_id = after.partition("|")
    try:
        datetime.fromisoformat(due)
    except ValueError:
        return None
    return after if parse_id(last_id) is not None else None


def _my_task(task_id: int) -> HumanTask:
    row = task_with_case(task_id, g.user.username)  # the official too: a completion then reads nothing again
    if row is None:
        abort(404)
    try:
        authorize(g.user, row)  # the engine's rule: the task's role, in its place, of the user's department
    except PermissionDenied:
        abort(403)
    return row


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task_page(task_id: int) -> Any:
    """办理: the form, and beside it what the official decides on (the household, its verified income, the
    classification and why, the publicity and its objections, earlier decisions with their reasons)."""
    row = _my_task(task_id)
    form = load_form(row.form) if row.form else {"properties": {}}
    schema = narrowed(form, row.case)  # as the case's place offers it (its exclusion list, its rules)
    fields = fields_of(schema)
    errors: dict[str, str] = {}
    status = 200
    start, values = Prefill(), row.form_data or {}
    if request.method == "POST":
        fields = with_posted(fields, fields_of(form), request.form)  # a field not offered here is refused, not dropped
        values = parse(fields, request.form)
        name = row.name  # read now: the commit expires the row
        try:
            seen = parse_id(request.form.get("seen_version"))
            complete_task(row.id, values, g.user.username, get_clock(), seen_version=seen,
                          backdating_reason=request.form.get(REASON_FIELD, "")[:REASON_MAX] or None)
        except FormInvalid as exc:
            errors, status = errors_by_field(exc.errors, fields), 422
            flash("表单有误，请按提示修改；未保存任何内容。", "error")
        except ConflictError as exc:
            flash(str(exc), "error")
            status = 409
        except FangpinError as exc:
            flash(str(exc), "error")
            status = 422
        else:
            flash(f"已办理：{name}", "ok")
            return redirect(url_for("tasks.inbox"))
    application = application_of_case(row.case_id)  # what the household stated on the public page, if it did
    case = row.case
    basis = decision_view(row, get_clock())  # only for a page shown: a completion goes on without reading it
    if request.method == "GET" and row.state == "READY" and not row.form_data:
        start = prefill(row, application, basis)  # the case's tasks and names as the view read them
        values = with_defaults(schema_defaults(schema), start.values)
    _mark_computed_category(fields, basis)
    history = [t for t in basis.tasks if t.state == "COMPLETED"]
    names = basis.names
    notices, deadline = notices_of_case(case.id), task_deadline(row.id)
    return render_template("tasks/task.html", row=row, case=case, schema=schema, fields=fields, values=values,
                           errors=errors, reason_field=REASON_FIELD, reason=request.form.get(REASON_FIELD, ""),
                           history=history, names=names, notices=notices, table_rows=table_rows, basis=basis,
                           sources=start.sources, deadline=deadline,
                           titles={f.name: f.title for f in _all_fields(fields)},
                           category_name=HouseholdCategory.label_of,
                           calendar_reader=bool(set(CALENDAR_READERS) & set(g.user.roles)),
                           application=for_officials(application) if application else None,
                           posting=step_posting(row) if row.state == "READY" else None,
                           warning_panel=case_panel(case, get_clock().now())), status


def _mark_computed_category(fields: list[Field], basis: DecisionView) -> None:
    """A choice of category (认定类别) offers the labels, says what leaving it empty means, and marks the category
    the decision table computed."""
    computed = basis.classification
    categories = HouseholdCategory.labels()
    for f in _all_fields(fields):
        if f.kind != "choice" or not f.choices or any(v not in categories for v, _ in f.choices):
            continue
        if computed is not None and computed.include and computed.category:
            f.choices = [(v, f"{label}（测算结果）" if v == computed.category else label) for v, label in f.choices]
            f.empty_label = f"采用测算结果：{computed.category_name}"
            f.description = (f"决策表测算结果为{computed.category_name}。留空即采用测算结果；"
                             "改选其他类别时，请在理由中写明依据。")
        else:
            f.empty_label = "不选"


def _all_fields(fields: list[Field]):
    for f in fields:
        yield f
        if f.kind == "group":
            yield from _all_fields(f.children)


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int) -> Any:
    return _act(task_id, claim_task, "已认领")


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release(task_id: int) -> Any:
    return _act(task_id, release_task, "已释放")


def _act(task_id: int, action, done: str) -> Any:
    """Claim or release a task of mine, then back to where the official came from."""
    row = _my_task(task_id)
    try:
        action(row.id, g.user.username, get_clock().now())
        flash(f"{done}：{row.name}", "ok")
    except FangpinError as exc:
        flash(str(exc), "error")
    return redirect(same_site_referrer() or url_for("tasks.inbox"))
