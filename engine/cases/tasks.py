"""Human tasks (人工任务): the projection table kept in step with each case's workflow, and task lists
that read only that table."""
from __future__ import annotations

import dataclasses
import functools
import itertools
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.orm import aliased

from engine.accounts.users import display_names
from engine.bpmn.deployment import latest_version
from engine.bpmn.runtime import ready_human_tasks
from engine.bpmn.scripting import DiagramScriptEngine
from engine.bpmn.spec_cache import SPECS
from engine.bpmn.validation import DUE_PROPERTY, FORM_PROPERTY, LEDGER_STEP_PROPERTY, PUBLIC_STAGE_PROPERTY, STEP_MARKS
from engine.cases.deadlines import new_deadline
from engine.cases.runs import CaseRun
from engine.core import audit, reads
from engine.core.db import db, fixed
from engine.core.errors import ConflictError, NotFound
from engine.core.models import Case, CaseDeadline, Household, HumanTask, Jurisdiction, Member, ProcessVersion, User
from engine.core.transaction import transaction
from engine.core.vocabulary import JurisdictionLevel, Procedure
from engine.core.writes import insert_rows
from engine.policy.roles import all_roles, role_for_lane
from timers.calendar import display_moment, end_of_day

NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)


def sync_tasks(run: CaseRun, now: datetime) -> tuple[list[HumanTask], list[CaseDeadline]]:
    """Bring the projection of the case in line with its workflow (without reading it back: before the run it
    showed ``run.ready_before``): the tasks no longer ready are updated and the newly ready ones inserted, one
    statement each. Returns the new tasks and their deadlines (not yet written: the caller writes them with the
    case's others)."""
    case, workflow = run.case, run.workflow
    ready = {str(t.id): t for t in ready_human_tasks(workflow)}
    left: dict[str, list[str]] = {}
    for uid in run.ready_before - ready.keys() - run.settled:
        task = workflow.get_task_from_id(UUID(uid))
        left.setdefault(TaskState.get_name(task.state) if task is not None else "CANCELLED", []).append(uid)
    for state, uids in left.items():
        db.session.execute(update(HumanTask).where(HumanTask.case_id == case.id, HumanTask.task_uuid.in_(uids),
                                                   HumanTask.state == "READY")
                           .values(state=state).execution_options(synchronize_session=False))
    created, computed = [], []
    for uid, task in ready.items():
        if uid not in run.ready_before:
            run.ctx.deadlines.clear()
            created.append(project_task(case, task, run.engine, now))
            computed.append(list(run.ctx.deadlines))
    insert_rows(created)
    deadlines = [new_deadline(case.id, "task", row.name, row.due_at, found, now, task=row)
                 for row, found in zip(created, computed, strict=True) if row.due_at is not None]
    return created, deadlines


def due_moment(value: Any) -> datetime | None:
    """A task's due date as its diagram expression gives it: None (no limit here, e.g. the jurisdiction has no
    such rule), an ISO date-time, a date-time, or a date (due at its 24:00, China Standard Time)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return end_of_day(value)
    raise TypeError(f"期限表达式的结果 {value!r} 不是日期或日期时间")


def project_task(case: Case, task, engine: DiagramScriptEngine, now: datetime) -> HumanTask:
    spec = task.task_spec
    properties = spec.extensions.get("properties", {})
    role = role_for_lane(spec.lane)
    jurisdiction = (role and case.jurisdiction.ancestor_at(role.level)) or case.jurisdiction
    due = properties.get(DUE_PROPERTY)
    due_at = due_moment(engine.evaluate_plain(due, task.data)) if due else None
    marks = step_marks(task)
    return HumanTask(
        case_id=case.id, procedure=case.procedure, task_uuid=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
        role=role.key if role else None, jurisdiction_id=jurisdiction.id, jurisdiction_path=jurisdiction.path,
        state="READY", form=properties.get(FORM_PROPERTY), public_stage=marks.get(PUBLIC_STAGE_PROPERTY),
        ledger_step=marks.get(LEDGER_STEP_PROPERTY), created_at=now, due_at=due_at, sort_due=due_at or NO_DUE,
    )


def step_marks(task) -> dict[str, str]:
    """What the diagram says the step of ``task`` (a SpiffWorkflow task) is: its user task's properties
    publicStage and ledgerStep (name → value). A process deployed before a mark existed (none of its steps has
    that property, e.g. a version without ledgerStep county_decision) takes that mark from the step of the same id
    in the same process of the newest deployed version, so that a case running on it keeps its stages and ledger
    steps until it is moved to a newer version (engine.cases.migration)."""
    own = _marks_of(task.task_spec)
    process = task.workflow.spec  # the process the step is in (a called process's own)
    declared = {name for marks in _process_marks(process).values() for name in marks}
    if declared >= set(STEP_MARKS):
        return own
    newest = _newest_marks(task, process)
    return {**own, **{name: value for name, value in newest.items() if name not in declared}}


def _newest_marks(task, process) -> dict[str, str]:
    """The marks of the step of ``task``'s id in the same process of the newest deployed version."""
    top = getattr(task.workflow, "top_workflow", task.workflow).spec
    try:
        newest = latest_version(top.name)  # once per transaction: a case just opened on it reads nothing more
    except NotFound:
        return {}
    spec, subprocess_specs = SPECS.cached(top.name, newest.bundle_sha256) or SPECS.get(newest)
    same = spec if spec.name == process.name else subprocess_specs.get(process.name)
    return _process_marks(same).get(task.task_spec.bpmn_id, {}) if same is not None else {}


def _marks_of(spec) -> dict[str, str]:
    extensions = getattr(spec, "extensions", None)
    properties = extensions.get("properties", {}) if isinstance(extensions, dict) else {}
    return {name: properties[name] for name in STEP_MARKS if properties.get(name)}


_PROCESS_MARKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _process_marks(process) -> dict[str, dict[str, str]]:
    """Step id → its marks, in one process (a deployed spec never changes: read once)."""
    if process not in _PROCESS_MARKS:
        _PROCESS_MARKS[process] = {task_spec.bpmn_id: marks for task_spec in process.task_specs.values()
                                   if (marks := _marks_of(task_spec)) and getattr(task_spec, "bpmn_id", None)}
    return _PROCESS_MARKS[process]


@dataclass(frozen=True)
class TaskView:
    """A line of a task list."""

    id: int
    case_id: int
    case_number: str
    procedure: str
    household: str  # "<number> <head's name>"
    village: str
    step: str
    role: str | None
    form: str | None
    created_at: datetime
    due_at: datetime | None
    claimed_by: str | None
    household_number: str = ""
    head: str = ""
    village_code: str = ""
    procedure_name: str = ""  # the vocabulary's label (识别纳入)
    role_name: str | None = None  # the role's Chinese name (村干部（村两委）)
    claimed_by_name: str | None = None  # the claimer's display name (their login if the account is gone)

    @property
    def cursor(self) -> str:
        """Where the next page starts (keyset pagination: stays fast however deep)."""
        return f"{(self.due_at or NO_DUE).isoformat()}|{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


CLAIM_FILTERS = {"": "不限", "unclaimed": "未认领", "mine": "我认领的", "others": "他人认领的"}
"""Who has claimed the tasks an inbox shows (``TaskFilter.claimed``)."""

SORTS = {"due": "期限", "created": "创建时间", "household": "农户", "village": "村"}
"""How an inbox may be ordered: by due date (most urgent first, keyset pages: the default), by creation (newest
first), by household number or by village (tree order), each then by due date."""

MAX_PAGES = 50  # an inbox ordered otherwise than by due date pages by offset, up to this many pages


@dataclass(frozen=True)
class TaskFilter:
    """What an inbox shows: roles, place (and below), and optional procedure, step, the case's village (or any
    place below ``jurisdiction``), claim state (``CLAIM_FILTERS``, relative to ``username``), overdue at a moment,
    and a search: digits are a household number (prefix), anything else the head of household's name (prefix)."""

    roles: tuple[str, ...] | None
    jurisdiction: Jurisdiction
    procedure: str | None = None
    step: str | None = None
    village: Jurisdiction | None = None
    claimed: str = ""
    username: str | None = None
    overdue_at: datetime | None = None
    text: str = ""
    department: str | None = None  # a department officer's: the tasks of other departments' cases are not theirs


def list_ready(role: str | None, jurisdiction: Jurisdiction, limit: int = 100, offset: int = 0) -> list[TaskView]:
    """Ready tasks of ``role`` (all roles if None) in ``jurisdiction`` and below, most urgent first."""
    roles = (role,) if role else None
    return inbox(TaskFilter(roles, jurisdiction), limit=limit, offset=offset)


@dataclass(frozen=True)
class _Shape:
    """What the SQL of a filter's statements depends on (its values are the statements' parameters): each shape's
    statements are built once per process and reused, so that a request pays neither for building them nor for
    their cache keys (which cost more than running them on an index)."""

    roles: bool
    procedure: bool
    step: bool
    claimed: str
    department: bool
    overdue: bool
    text: str  # "" | "number" (digits: a household number prefix) | "head" (the head of household's name prefix)
    village: bool
    sort: str


def _shape(f: TaskFilter, sort: str = "due") -> tuple[_Shape, dict[str, Any]]:
    """The filter's shape and the values of its parameters."""
    text = f.text.strip()
    values = _bounds("place", f.jurisdiction.path)
    if f.roles is not None:
        values["roles"] = list(f.roles)
    if f.procedure:
        values["procedure"] = f.procedure
    if f.step:
        values["step"] = f.step
    claimed = f.claimed if f.claimed in ("unclaimed", "mine", "others") else ""
    if claimed in ("mine", "others"):
        values["username"] = f.username or ""
    if f.department is not None:
        values["department"] = f.department
    if f.overdue_at is not None:
        values["overdue_at"] = f.overdue_at
    if text:  # a prefix as LIKE 'text%', escaped: right under any collation
        values["text"] = text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    if f.village is not None:
        values |= _bounds("village", f.village.path)
    return _Shape(f.roles is not None, bool(f.procedure), bool(f.step), claimed, f.department is not None,
                  f.overdue_at is not None, ("number" if text.isdigit() else "head") if text else "",
                  f.village is not None, sort), values


def _bounds(name: str, path: str) -> dict[str, Any]:
    """The parameters of :func:`_within` ``name``: the place paths at or below ``path``, as
    :func:`engine.core.db.within` compares them (a range, which an index serves on both databases)."""
    return {f"{name}_lo": path, f"{name}_hi": path[:-1] + chr(ord(path[-1]) + 1)}


def _within(column, name: str):
    return and_(column >= bindparam(f"{name}_lo"), column < bindparam(f"{name}_hi"))


@functools.cache
def _query(shape: _Shape):
    """The ids of a shape's ready tasks (the case and household are joined only when a village, a search or the
    order needs them), with the filter's values as parameters (:func:`_shape`)."""
    query = select(HumanTask.id).where(HumanTask.state == fixed("READY"), _within(HumanTask.jurisdiction_path, "place"))
    if shape.roles:
        query = query.where(HumanTask.role.in_(bindparam("roles", expanding=True)))
    if shape.procedure:
        query = query.where(HumanTask.procedure == bindparam("procedure"))
    if shape.step:
        query = query.where(HumanTask.name == bindparam("step"))
    if shape.claimed == "unclaimed":
        query = query.where(HumanTask.claimed_by.is_(None))
    elif shape.claimed == "mine":
        query = query.where(HumanTask.claimed_by == bindparam("username"))
    elif shape.claimed == "others":
        query = query.where(HumanTask.claimed_by.is_not(None), HumanTask.claimed_by != bindparam("username"))
    if shape.department:  # the case by another name: not the one joined below for a village, a search or the order
        case = aliased(Case)
        query = query.where(or_(HumanTask.role != fixed("department_officer"), select(case.id).where(
            case.id == HumanTask.case_id, or_(case.department.is_(None), case.department == bindparam("department")))
            .exists()))
    if shape.overdue:  # sort_due is due_at, or far in the future: in the inbox indexes, unlike due_at
        query = query.where(HumanTask.sort_due < bindparam("overdue_at"))
    if shape.village or shape.text or shape.sort in ("household", "village"):
        query = query.join(Case, Case.id == HumanTask.case_id)
    if shape.village:
        query = query.where(_within(Case.jurisdiction_path, "village"))  # the case's place (a task's is above)
    if shape.text or shape.sort == "household":  # a case about a place (a warning batch) has no household
        query = query.outerjoin(Household, Household.id == Case.household_id)
    # each prefix is checked on the joined row of a task the inbox's index found: an index on it would not be used
    if shape.text == "number":
        query = query.where(Household.number.like(bindparam("text"), escape="/"))
    elif shape.text == "head":
        query = query.where(select(Member.id).where(Member.household_id == Household.id,
                                                    Member.relation_to_head == "户主",
                                                    Member.name.like(bindparam("text"), escape="/"))
                            .exists())
    return query


URGENCY_INDEX = "INDEXED BY ix_task_urgency"
WIDE_LEVELS = (JurisdictionLevel.PROVINCE, JurisdictionLevel.CITY, JurisdictionLevel.COUNTY)


def _wide(f: TaskFilter, total: TaskCount | None) -> bool:
    """A county's (or wider) inbox with no filter but its roles, holding more than COUNT_CAP tasks: its first page
    is the first ready tasks in urgency order that are its own, found after a few hundred index entries, instead of
    sorting every one of its tasks first (SQLite has no statistics to choose so itself). Every role's inbox of a
    county is that wide by itself; one role's by its capped count (``total``, if the caller has it; else counted)."""
    if f.jurisdiction.level not in WIDE_LEVELS or (
            f.procedure or f.step or f.village is not None or f.claimed or f.overdue_at is not None or f.text.strip()):
        return False
    return f.roles is None or (total or count_ready(f)).more


def _order(sort: str) -> tuple:
    if sort == "created":
        return HumanTask.created_at.desc(), HumanTask.id.desc()
    if sort == "household":
        return Household.number, HumanTask.sort_due, HumanTask.id
    if sort == "village":
        return Case.jurisdiction_path, HumanTask.sort_due, HumanTask.id
    return HumanTask.sort_due, HumanTask.id


@functools.cache
def _page_statement(shape: _Shape, wide: bool, paging: str):
    """One page of a shape's tasks with what a line shows (built once per shape: :class:`_Shape`): the page of
    task ids as the filter's indexes give it, then its cases, households, villages, heads and claimers' names, the
    places and names looked up by key for the page's lines only (fewer joins for PostgreSQL to plan). ``wide``:
    SQLite reads the urgency index (:func:`_wide`); ``paging``: "after" a cursor (keyset), "offset" or ""."""
    page = _query(shape).order_by(*_order(shape.sort)).limit(bindparam("limit"))
    if wide:
        page = page.with_hint(HumanTask, URGENCY_INDEX, "sqlite")
    if paging == "after":
        page = page.where(tuple_(HumanTask.sort_due, HumanTask.id) > tuple_(
            bindparam("after_due", type_=HumanTask.sort_due.type), bindparam("after_id", type_=Integer)))
    elif paging == "offset":
        page = page.offset(bindparam("offset"))
    page = page.subquery("page")  # with its LIMIT, never merged into the joins below: its plan stays the index's
    head = (select(Member.name).where(Member.household_id == Household.id)
            .order_by(Member.relation_to_head != "户主", Member.position, Member.id).limit(1).scalar_subquery())
    village = aliased(Jurisdiction)
    village_name = select(village.name).where(village.id == Case.jurisdiction_id).scalar_subquery()
    village_code = select(village.code).where(village.id == Case.jurisdiction_id).scalar_subquery()
    claimer = select(User.display_name).where(User.username == HumanTask.claimed_by).scalar_subquery()
    return (select(HumanTask.id, HumanTask.case_id, Case.number, HumanTask.procedure, Household.number, head,
                   village_name, village_code, HumanTask.name, HumanTask.role, HumanTask.form, HumanTask.created_at,
                   HumanTask.due_at, HumanTask.claimed_by, claimer, Case.subject)
            .select_from(page).join(HumanTask, HumanTask.id == page.c.id)
            .join(Case, Case.id == HumanTask.case_id).outerjoin(Household, Household.id == Case.household_id)
            .order_by(*_order(shape.sort)))


def inbox(f: TaskFilter, limit: int = 50, after: str | None = None, offset: int = 0, sort: str = "due",
          total: TaskCount | None = None) -> list[TaskView]:
    """One page of ready tasks in the order ``sort`` (a key of ``SORTS``), read in one statement
    (:func:`_page_statement`). In the default order (most urgent first) ``after`` is the previous page's last
    cursor; otherwise ``offset``. ``total``: the filter's :func:`count_ready`, when the caller shows it anyway (not
    counted twice)."""
    sort = sort if sort in SORTS else "due"
    shape, values = _shape(f, sort)
    values["limit"] = limit
    wide = sort == "due" and db.engine.dialect.name == "sqlite" and _wide(f, total)  # PostgreSQL has statistics
    paging = ""
    if after and sort == "due":
        due, _, last_id = after.partition("|")
        paging, values["after_due"], values["after_id"] = "after", datetime.fromisoformat(due), int(last_id)
    elif offset:
        paging, values["offset"] = "offset", offset
    roles = all_roles()
    views = []
    for (task_id, case_id, case_number, procedure, number, head_name, village_name, village_code, step, role, form,
         created_at, due_at, claimed_by, claimer, subject) in db.session.execute(_page_statement(shape, wide, paging),
                                                                                values):
        views.append(TaskView(
            id=task_id, case_id=case_id, case_number=case_number or str(case_id), procedure=procedure,
            household=f"{number} {head_name or ''}".strip() if number else (subject or ""), village=village_name,
            step=step, role=role, form=form,
            created_at=created_at, due_at=due_at, claimed_by=claimed_by, household_number=number or "",
            head=head_name or "", village_code=village_code, procedure_name=Procedure.label_of(procedure),
            role_name=roles[role].name if role in roles else role, claimed_by_name=claimer or claimed_by))
    return views


COUNT_CAP = 1000  # an inbox counts its tasks up to this many and then says "1000+": a bigger number decides nothing


@dataclass(frozen=True)
class TaskCount:
    """How many ready tasks a filter matches, counted up to ``cap``: ``more`` when there are more than that."""

    n: int
    more: bool

    def __str__(self) -> str:
        return f"{self.n}+" if self.more else str(self.n)


@functools.cache
def _count_statement(shape: _Shape):
    return select(func.count()).select_from(_query(shape).limit(bindparam("cap")).subquery())


def count_ready(f: TaskFilter, cap: int = COUNT_CAP) -> TaskCount:
    """The filter's ready tasks, counted without reading more than ``cap`` + 1 index entries (a county's every-role
    inbox has 100 000: an exact count would cost more than the page it heads)."""
    shape, values = _shape(f)
    found = db.session.scalar(_count_statement(shape), {**values, "cap": cap + 1}) or 0
    return TaskCount(min(found, cap), found > cap)


@dataclass(frozen=True)
class StepCount:
    """The ready tasks of one step of a procedure that an inbox holds: how many, and the first due."""

    procedure: str
    step: str
    count: int
    first_due: datetime | None


def ready_steps(f: TaskFilter, procedures: Iterable[str]) -> list[StepCount]:
    """The ready tasks of ``f`` (its roles, place and department) in ``procedures``, by procedure and step — the
    steps as the diagrams in force name them — with their number and first due date, in the order of
    ``procedures`` and then by urgency; one statement."""
    order = list(procedures)
    shape, values = _shape(dataclasses.replace(f, procedure=None, step=None))
    ids = _query(shape).where(HumanTask.procedure.in_(order))
    statement = (select(HumanTask.procedure, HumanTask.name, func.count(), func.min(HumanTask.due_at))
                 .where(HumanTask.id.in_(ids)).group_by(HumanTask.procedure, HumanTask.name))
    rows = [StepCount(procedure, step, count, first) for procedure, step, count, first
            in db.session.execute(statement, values)]
    return sorted(rows, key=lambda r: (order.index(r.procedure), r.first_due is None, r.first_due or datetime.min,
                                       r.step))


def claim_task(task_id: int, username: str, now: datetime) -> HumanTask:
    """Take a ready task so that no one else works on it (认领)."""
    with transaction():
        row = ready_row(task_id)
        if row.claimed_by and row.claimed_by != username:
            raise ConflictError(claimed_by_other(row))
        row.claimed_by, row.claimed_at = username, now
        audit.record(now, username, "task_claimed", case_id=row.case_id, task_id=row.id, step=row.name)
    return row


def release_task(task_id: int, username: str, now: datetime) -> HumanTask:
    """Give a claimed task back to the inbox (only the one who claimed it)."""
    with transaction():
        row = ready_row(task_id)
        if row.claimed_by != username:
            raise ConflictError(f"任务“{row.name}”不是由你认领的，不能释放")
        row.claimed_by = row.claimed_at = None
        audit.record(now, username, "task_released", case_id=row.case_id, task_id=row.id, step=row.name)
    return row


PLACES_UP = 4  # a village's township, county, city and province


@dataclass(frozen=True)
class _TaskRead:
    """The statement that reads a task with its case, household and places (and an official with theirs), and the
    entities of its row in order: task, case, household, the case's place and the PLACES_UP above it, then (if
    with an official) the user and the user's place."""

    statement: Select
    entities: tuple[reads.Entity, ...]


@functools.cache
def _task_read(with_user: bool) -> _TaskRead:
    """Built once per process. One row of plain columns, joined as the ORM joined the eager loads it replaces (the
    task's case, its household, its diagram version (without the diagram), its place and every place above it; the
    user and their place), read without the ORM's loading (:mod:`engine.core.reads`)."""
    task, case, household, version = HumanTask.__table__, Case.__table__, Household.__table__, ProcessVersion.__table__
    places = [Jurisdiction.__table__.alias(f"place_{i}") for i in range(PLACES_UP + 1)]
    joined = (task.outerjoin(case, case.c.id == task.c.case_id)
              .outerjoin(household, household.c.id == case.c.household_id)
              .outerjoin(version, version.c.id == case.c.process_version_id)
              .outerjoin(places[0], places[0].c.id == case.c.jurisdiction_id))
    for below, above in itertools.pairwise(places):
        joined = joined.outerjoin(above, above.c.id == below.c.parent_id)
    entities = [reads.entity(HumanTask), reads.entity(Case), reads.entity(Household), reads.entity(ProcessVersion),
                *(reads.entity(Jurisdiction, place) for place in places)]
    if with_user:
        user, user_place = User.__table__, Jurisdiction.__table__.alias("user_place")
        joined = (joined.outerjoin(user, user.c.username == bindparam("username"))
                  .outerjoin(user_place, user_place.c.id == user.c.jurisdiction_id))
        entities += [reads.entity(User), reads.entity(Jurisdiction, user_place)]
    statement = (select(*(column for e in entities for column in e.columns)).select_from(joined)
                 .where(task.c.id == bindparam("task_id")))
    return _TaskRead(statement, tuple(entities))


def _read_task(task_id: int, username: str | None = None) -> tuple[HumanTask | None, User | None]:
    """The task with its case, household and places, and the user ``username`` with their place (if one is
    given), in one statement; their relationships set as the joined eager loads would set them, so that
    ``row.case.household``, ``row.case.process_version`` (a case's instance rebuilt from its stored state needs it),
    ``row.case.jurisdiction.ancestors()`` and ``user.jurisdiction`` read nothing more.

    Not through the ORM's loading: set up anew on every execution for the ten entities of this row, it cost
    several times reading the row, on every completion and task page (:mod:`engine.core.reads`).

    Read once per transaction: asked again in the same transaction (a task page's POST reads the task to check
    access, then the completion reads it), it gives the objects of the first read without a statement, as long
    as the session still holds them unexpired — reading the row again would give the very same objects with the
    same values (loading only fills expired attributes), and the completion's writes check the row's state and
    the case's version anyway (:func:`engine.core.writes.update_row`)."""
    session = db.session()
    key = (task_id, username)
    earlier = _reads_in_transaction(session).get(key)
    if earlier is not None and all(reads.held(session, o) for o in earlier[1]):
        return earlier[0]
    read = _task_read(username is not None)
    params = {"task_id": task_id} if username is None else {"task_id": task_id, "username": username}
    found = reads.first(session, read.statement, params)  # autoflushed first, as a query through the ORM is
    if found is None:
        return None, None
    objects = reads.objects(session, read.entities, found)
    row, case, household, version, *rest = objects
    places, (user, user_place) = rest[:PLACES_UP + 1], (rest[PLACES_UP + 1:] or (None, None))
    reads.set_loaded(row, "case", case)
    if case is not None:
        reads.set_loaded(case, "household", household)
        reads.set_loaded(case, "process_version", version)
        reads.set_loaded(case, "jurisdiction", places[0])
    for below, above in itertools.pairwise(places):  # the last one's parent is left to load (a province has none)
        if below is None:
            break
        reads.set_loaded(below, "parent", above)
    if user is not None:
        reads.set_loaded(user, "jurisdiction", user_place)
    _reads_in_transaction(session)[key] = ((row, user), [o for o in objects if o is not None])
    return row, user


_TASK_READS = "fangpin.task_reads"  # Session.info: the tasks read in its current transaction


def _reads_in_transaction(session: Any) -> dict[tuple[int, str | None], tuple[tuple[Any, Any], list[Any]]]:
    """(task id, username) → what :func:`_read_task` gave and the objects it read, for the session's current
    transaction only (another transaction, or none yet, starts with nothing)."""
    transaction = session.get_transaction()
    held = session.info.get(_TASK_READS)
    if held is None or held[0] is not transaction:
        held = session.info[_TASK_READS] = (transaction, {})
    return held[1]


def task_with_case(task_id: int, username: str | None = None) -> HumanTask | None:
    """The task, with its case, household and places read in the same statement (None if there is none). With
    ``username``, the official is read in it too, so that their completion of the task in the same transaction
    (:func:`engine.cases.lifecycle.complete_task`) reads nothing again."""
    return _read_task(task_id, username)[0]


def ready_row(task_id: int) -> HumanTask:
    """The ready task, with its case and places; NotFound or ConflictError otherwise."""
    return _ready(task_with_case(task_id), task_id)


@dataclass(frozen=True)
class TaskToDo:
    """A ready task about to be done and the official doing it (None if there is no such login)."""

    row: HumanTask
    user: User | None

    def follows_a_step(self) -> bool:
        """Whether an earlier step of its case was done before the task became ready (otherwise it is a first step,
        following the lead). Read when asked: only a date before the day the task began needs it."""
        earlier = (select(HumanTask.id).where(HumanTask.case_id == self.row.case_id, HumanTask.state == "COMPLETED",
                                              HumanTask.completed_at <= self.row.created_at).exists())
        return bool(db.session.scalar(select(earlier)))


def task_to_do(task_id: int, username: str) -> TaskToDo:
    """:func:`ready_row` and the user ``username`` (with their place), read in one statement."""
    row, user = _read_task(task_id, username)
    return TaskToDo(_ready(row, task_id), user)


def _ready(row: HumanTask | None, task_id: int) -> HumanTask:
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在")
    if row.state != "READY":
        raise ConflictError(f"任务“{row.name}”{_done_by(row)}，不能再次办理")
    return row


def claimed_by_other(row: HumanTask) -> str:
    """That the task is taken (认领) by another official, as the one who comes too late reads it: by their name."""
    return f"任务“{row.name}”已由 {display_names({row.claimed_by})[row.claimed_by]} 认领"


def _done_by(row: HumanTask) -> str:
    """Who did the task and when, as the official who comes too late reads it: their name, China Standard Time."""
    if not row.completed_by:
        return "已取消"
    name = display_names({row.completed_by})[row.completed_by]
    return f"已由 {name} 于 {display_moment(row.completed_at)} 办理" if row.completed_at else f"已由 {name} 办理"


_TASKS_OF_CASE = select(HumanTask).where(HumanTask.case_id == bindparam("case_id")).order_by(HumanTask.id)  # built once (engine.core.reads)


def tasks_of_case(case_id: int) -> list[HumanTask]:
    return list(db.session.scalars(_TASKS_OF_CASE, {"case_id": case_id}))
