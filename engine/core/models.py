"""Tables: jurisdictions, users, households and members, income, policy data, deployed diagrams,
cases (workflow instances), the human-task projection, the audit log and notices."""
from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship, validates
from sqlalchemy.orm.attributes import set_committed_value

from engine.core.db import UTCDateTime, db
from engine.core.vocabulary import HouseholdCategory, HouseholdStatus, WarningStatus

Money = Numeric(14, 2)

# A place's path ("/36/3607/360702/"): compared byte by byte (PostgreSQL's "C" collation; SQLite's default), so that
# "at or below a place" is a range an index serves (engine.core.db.within) whatever the database's locale.
PlacePath = String(400).with_variant(String(400, collation="C"), "postgresql")
READY_TASK = text("state = 'READY'")
RUNNING_CASE = text("status = 'running' AND deadline_met_at IS NULL")
FIRED_TIMER = text("fired_at IS NOT NULL")


class Jurisdiction(db.Model):
    """行政区划: province → city → county → township → village."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"))
    path: Mapped[str] = mapped_column(PlacePath, index=True)  # "/36/3607/360702/"
    rural_population: Mapped[int | None] = mapped_column(Integer)

    parent: Mapped[Jurisdiction | None] = relationship(remote_side=[id])

    def ancestors(self) -> list[Jurisdiction]:
        """Self first, then parent, up to the province (read in one query the first time in a session; for many
        places at once, :func:`load_ancestors` first)."""
        if self.parent_id is not None and "parent" not in inspect(self).dict:
            load_ancestors([self])
        chain, node = [], self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def contains(self, other: Jurisdiction | str) -> bool:
        """Whether ``other`` (a place, or the path of one) is this place or lies below it (辖区内)."""
        return (other if isinstance(other, str) else other.path).startswith(self.path)

    def ancestor_at(self, level: str) -> Jurisdiction | None:
        return next((j for j in self.ancestors() if j.level == level), None)

    @property
    def full_name(self) -> str:
        return "".join(j.name for j in reversed(self.ancestors()))


def load_ancestors(places: Iterable[Jurisdiction]) -> None:
    """Read every place the paths of ``places`` pass through, in one query per session (none when all are read
    already), so that ``ancestors()`` — and what is built on it: ``ancestor_at``, ``full_name``, policy
    resolution — of each of them reads nothing more."""
    unread: dict[Any, list[Jurisdiction]] = {}
    for place in places:
        session = object_session(place)
        if session is not None and place.parent_id is not None and "parent" not in inspect(place).dict:
            unread.setdefault(session, []).append(place)
    for session, chosen in unread.items():
        known = {j.code: j for j in chosen}
        paths = {j.path: [code for code in j.path.split("/") if code] for j in chosen}
        missing = {code for codes in paths.values() for code in codes} - set(known)
        if missing:
            known.update((j.code, j) for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(missing))))
        for codes in paths.values():
            chain = [known[code] for code in codes if code in known]
            for parent, child in itertools.pairwise(chain):
                if child.parent_id == parent.id and "parent" not in inspect(child).dict:
                    set_committed_value(child, "parent", parent)
            if chain and chain[0].parent_id is None and "parent" not in inspect(chain[0]).dict:
                set_committed_value(chain[0], "parent", None)


class User(db.Model):
    """An official (or a demo login) with roles in one jurisdiction. A deactivated official (a leaver) can no
    longer log in nor act through an API token; the row stays, for the record. After an administrator sets a
    password, the official must choose their own at the next login (``must_change_password``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    department: Mapped[str | None] = mapped_column(String(40))  # a department officer's department (行业部门)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    jurisdiction: Mapped[Jurisdiction] = relationship()


class ApiToken(db.Model):
    """A token for other systems (the APP, 12317, department systems) to call the JSON API as a user.
    Only its SHA-256 is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Household(db.Model):
    """农户 (the monitored unit is the household, 以家庭为单位); fields A1–A4, A23–A27, A53–A55
    (codes as in policy/household_form.json)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    group_name: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(200))  # 家庭住址 (no code)
    in_large_relocation_site: Mapped[bool] = mapped_column(Boolean, default=False)  # A1 (800人以上安置区)
    relocation_site: Mapped[str | None] = mapped_column(String(200))  # A2 安置区地址
    is_formerly_poor: Mapped[bool] = mapped_column(Boolean, default=False)  # A4 脱贫户
    enjoys_poverty_policy: Mapped[bool] = mapped_column(Boolean, default=False)  # 脱贫享受政策户
    category: Mapped[str | None] = mapped_column(String(16))  # A3: unstable / marginal / sudden
    status: Mapped[str] = mapped_column(String(20), default=HouseholdStatus.ORDINARY.value, index=True)
    identified_on: Mapped[date | None] = mapped_column(Date)
    risk_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # A27
    housing_unsafe: Mapped[bool] = mapped_column(Boolean, default=False)  # A23
    compulsory_education_dropout: Mapped[bool] = mapped_column(Boolean, default=False)  # A24
    drinking_water_unsafe: Mapped[bool] = mapped_column(Boolean, default=False)  # A25
    # A26 as the latest verification that recorded it found it (a lapsed insurance the members' A17 do not show yet)
    no_medical_insurance_found: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    social_guarantee: Mapped[bool] = mapped_column(Boolean, default=False)  # 整户无劳动能力兜底保障户
    responsible_person: Mapped[str | None] = mapped_column(String(50))
    monitoring_contact: Mapped[str | None] = mapped_column(String(50))  # A55 监测联系人
    contact_phone: Mapped[str | None] = mapped_column(String(30))  # 联系电话, private
    elimination_mode: Mapped[str | None] = mapped_column(String(16))  # A53
    elimination_date: Mapped[date | None] = mapped_column(Date)  # A54
    attention_since: Mapped[date | None] = mapped_column(Date)  # 重点关注 since (engine.households.attention)
    attention_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    village: Mapped[Jurisdiction] = relationship()
    members: Mapped[list[Member]] = relationship(
        back_populates="household", order_by="Member.position", cascade="all, delete-orphan"
    )

    @property
    def head(self) -> Member | None:
        return next((m for m in self.members if m.relation_to_head == "户主"), None) or (
            self.members[0] if self.members else None
        )

    @property
    def size(self) -> int:
        return sum(1 for m in self.members if m.lives_with_household)

    @property
    def no_basic_medical_insurance(self) -> bool:
        """A26, derived from A17: a member without basic medical insurance."""
        return any(not m.medical_insurance for m in self.members if m.lives_with_household)

    @validates("status")
    def _known_status(self, _key: str, value: str) -> str:
        """Only a status of engine.core.vocabulary.HouseholdStatus is ever stored."""
        return HouseholdStatus(value).value

    @validates("category")
    def _known_category(self, _key: str, value: str | None) -> str | None:
        return None if value is None else HouseholdCategory(value).value


class Member(db.Model):
    """家庭成员, fields A5–A22 of the information form."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(50))  # A5
    sex: Mapped[str | None] = mapped_column(String(4))  # A6
    id_number: Mapped[str] = mapped_column(String(18), unique=True)  # A7, private
    relation_to_head: Mapped[str] = mapped_column(String(20))  # A8
    ethnicity: Mapped[str | None] = mapped_column(String(20))  # A9
    political_status: Mapped[str | None] = mapped_column(String(20))  # A10
    education: Mapped[str | None] = mapped_column(String(20))  # A11
    school_status: Mapped[str | None] = mapped_column(String(20))  # A12
    health_status: Mapped[str | None] = mapped_column(String(40))  # A13, private
    labour_skill: Mapped[str | None] = mapped_column(String(40))  # A14
    work_area: Mapped[str | None] = mapped_column(String(40))  # A15
    work_months: Mapped[int | None] = mapped_column(Integer)  # A16
    medical_insurance: Mapped[bool] = mapped_column(Boolean, default=True)  # A17
    serious_illness_insurance: Mapped[bool] = mapped_column(Boolean, default=False)  # A18
    pension_insurance: Mapped[bool] = mapped_column(Boolean, default=False)  # A19
    dibao: Mapped[bool] = mapped_column(Boolean, default=False)  # A20 低保
    tekun: Mapped[bool] = mapped_column(Boolean, default=False)  # A21 特困
    relocated: Mapped[bool] = mapped_column(Boolean, default=False)  # A22
    lives_with_household: Mapped[bool] = mapped_column(Boolean, default=True)  # 实际共同生活

    household: Mapped[Household] = relationship(back_populates="members")


class IncomeRecord(db.Model):
    """收入: A28–A32, A35, A36 for an income window; A33, A34, A37, A38 are computed (engine.households.income)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)  # a publicity list's, a task page's
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    household_size: Mapped[int] = mapped_column(Integer)
    wages: Mapped[Decimal] = mapped_column(Money, default=0)  # A28
    business_income: Mapped[Decimal] = mapped_column(Money, default=0)  # A29
    property_income: Mapped[Decimal] = mapped_column(Money, default=0)  # A30
    transfer_income: Mapped[Decimal] = mapped_column(Money, default=0)  # A31
    business_expenses: Mapped[Decimal] = mapped_column(Money, default=0)  # A32
    insurance_payouts: Mapped[Decimal] = mapped_column(Money, default=0)  # A35
    compliant_out_of_pocket: Mapped[Decimal] = mapped_column(Money, default=0)  # A36
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))


class Measure(db.Model):
    """An assistance measure (帮扶措施) of a household, A39–A52, in force from a date."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    code: Mapped[str] = mapped_column(String(4))
    item: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    developmental: Mapped[bool] = mapped_column(Boolean, default=False)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


class MonitoringLine(db.Model):
    """监测范围: yuan per person per year, per province and year (policy data)."""

    __table_args__ = (UniqueConstraint("province_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"))
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(300))


class PolicyParameter(db.Model):
    """A policy value for a jurisdiction (inherited downwards) from a date (政策参数)."""

    __table_args__ = (Index("ix_policy_lookup", "key", "jurisdiction_id", "effective_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"))
    key: Mapped[str] = mapped_column(String(80))
    value: Mapped[Any] = mapped_column(JSON)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)  # exclusive
    source: Mapped[str] = mapped_column(String(300), default="")

    jurisdiction: Mapped[Jurisdiction] = relationship()


class DiagramFile(db.Model):
    """An uploaded BPMN/DMN file, bytes kept exactly as uploaded, addressed by content hash."""

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(64))


class DiagramDraft(db.Model):
    """A diagram being edited (草稿): saved from the modeler or uploaded, not deployed; bytes kept as saved."""

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(200), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(300), default="")
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    saved_by: Mapped[str] = mapped_column(String(64))


class ProcessVersion(db.Model):
    """A deployed version of an executable process: its files and its serialized spec (stored once)."""

    __table_args__ = (
        UniqueConstraint("process_key", "version"),
        UniqueConstraint("process_key", "bundle_sha256"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    files: Mapped[list[dict]] = mapped_column(JSON)  # [{"file_name", "sha256"}], main file first
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)  # 5–50 KB, read once per process (spec_cache)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(64))


class Case(db.Model):
    """A running or finished procedure (案件 = one workflow instance): for one household, or — a department
    warning batch, push or monthly report — for a place, named by ``subject`` and found by ``reference``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    procedure: Mapped[str] = mapped_column(String(40), index=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"))
    jurisdiction_path: Mapped[str] = mapped_column(PlacePath, index=True)
    subject: Mapped[str | None] = mapped_column(String(200))  # what a case of no household is about
    reference: Mapped[str | None] = mapped_column(String(80), index=True)  # e.g. warning_push:medical:2026-09
    department: Mapped[str | None] = mapped_column(String(40))  # the department whose officer acts in it
    channel: Mapped[str] = mapped_column(String(30))
    lead_date: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    outcome: Mapped[str | None] = mapped_column(String(30))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the procedure's overall limit (indexes below)
    deadline_label: Mapped[str | None] = mapped_column(String(200))
    deadline_met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_wakeup_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)  # the workflow instance (engine.bpmn.runtime.dump_state)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__: ClassVar[dict] = {"version_id_col": lock_version}
    # running cases by due date, covering the overdue counts and lists (place, procedure, label) as the tasks' do
    __table_args__ = (Index("ix_case_running_due", "due_at", "id", "jurisdiction_path", "procedure", "deadline_label",
                            sqlite_where=RUNNING_CASE, postgresql_where=RUNNING_CASE),
                      Index("ix_case_newly_due", "due_at", sqlite_where=text(f"{RUNNING_CASE.text} AND overdue_since IS NULL"),
                            postgresql_where=text(f"{RUNNING_CASE.text} AND overdue_since IS NULL")))

    process_version: Mapped[ProcessVersion] = relationship()
    household: Mapped[Household | None] = relationship()
    jurisdiction: Mapped[Jurisdiction] = relationship()


class SelfApplication(db.Model):
    """A household's own application on the public page (农户自主申报), kept with the case it opened: what the
    household stated, how to reach it (private: officials only) and the application number (申请编号) with which
    the applicant — together with the ID number given — follows or cancels it. The ID number itself is not kept
    here, only a digest keyed by the application number."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    applicant_digest: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(String(30))  # private
    risk_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # A27 keys
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="submitted")  # submitted | cancelled
    household_status_before: Mapped[str] = mapped_column(String(20))  # restored when the household cancels
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()


class HumanTask(db.Model):
    """Projection of the human tasks of every case, so that task lists never deserialize workflows."""

    # every list of tasks reads only ready ones, however many are done: the indexes hold the ready tasks only
    __table_args__ = (Index("ix_task_inbox", "role", "jurisdiction_path", "sort_due", "id", sqlite_where=READY_TASK,
                            postgresql_where=READY_TASK),
                      Index("ix_task_ready_place", "jurisdiction_path", "sort_due", sqlite_where=READY_TASK,
                            postgresql_where=READY_TASK),
                      # the overdue lists' first pages (due date, then id: no sort, no row read to filter) and, on
                      # PostgreSQL, the overdue counts of what the sweep has not marked yet
                      Index("ix_task_ready_due", "due_at", "id", "jurisdiction_path", "procedure", "name",
                            "overdue_since", sqlite_where=READY_TASK, postgresql_where=READY_TASK),
                      Index("ix_task_newly_due", "due_at", sqlite_where=text(f"{READY_TASK.text} AND overdue_since IS NULL"),
                            postgresql_where=text(f"{READY_TASK.text} AND overdue_since IS NULL")),
                      # the overdue counts of what the sweep has marked, in their groups' order (place, procedure,
                      # step): counted as they are read
                      Index("ix_task_overdue", "jurisdiction_path", "procedure", "name", "due_at",
                            sqlite_where=text(f"{READY_TASK.text} AND overdue_since IS NOT NULL"),
                            postgresql_where=text(f"{READY_TASK.text} AND overdue_since IS NOT NULL")),
                      Index("ix_task_urgency", "sort_due", "id", sqlite_where=READY_TASK, postgresql_where=READY_TASK),
                      UniqueConstraint("case_id", "task_uuid"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    procedure: Mapped[str] = mapped_column(String(40), server_default="")  # the case's (lists need no join)
    task_uuid: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(40))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"))
    jurisdiction_path: Mapped[str] = mapped_column(PlacePath)
    state: Mapped[str] = mapped_column(String(16))
    form: Mapped[str | None] = mapped_column(String(100))
    # what the diagram says the step is (its user task's properties publicStage and ledgerStep; vocabulary
    # PublicStage, LedgerStep): read by the public progress page and the ledgers, never the step's id
    public_stage: Mapped[str | None] = mapped_column(String(40))
    ledger_step: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # indexed among ready tasks (above)
    sort_due: Mapped[datetime] = mapped_column(UTCDateTime)  # due_at, or far in the future: inbox order
    overdue_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    form_data: Mapped[dict | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship()
    jurisdiction: Mapped[Jurisdiction] = relationship()


class CaseDeadline(db.Model):
    """Every deadline computed for a case (期限): what it is, when it ends, and how it was computed."""

    __table_args__ = (Index("ix_case_deadline_fired", "fired_at", sqlite_where=FIRED_TIMER,
                            postgresql_where=FIRED_TIMER),)  # the timers fired lately (supervision.timer_lateness)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    subject: Mapped[str] = mapped_column(String(10))  # case | task | timer
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), index=True)  # a task page's deadline
    timer_uuid: Mapped[str | None] = mapped_column(String(36))
    label: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    explanation: Mapped[str] = mapped_column(Text, default="")
    data_version: Mapped[str] = mapped_column(String(120), default="")
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a timer: when it fired (its lateness)
    # how it was computed (timers.calendar.Deadline), so that it can be computed again with newer calendar data
    kind: Mapped[str | None] = mapped_column(String(16))  # working_days | days | months | monthly_day | yearly_day
    start_on: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[int | None] = mapped_column(Integer)
    extended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    task: Mapped[HumanTask | None] = relationship()


class SchedulerLease(db.Model):
    """Which scheduler process may fire timers (a lease renewed on every sweep)."""

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WarningBatch(db.Model):
    """A batch of department warnings (行业部门预警数据) pushed for a period, imported whole or not at all."""

    id: Mapped[int] = mapped_column(primary_key=True)
    department: Mapped[str] = mapped_column(String(40), index=True)
    period: Mapped[str] = mapped_column(String(20))  # e.g. "2026-10"
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"))  # the city or county it goes to
    source: Mapped[str] = mapped_column(String(10))  # csv | xlsx | api
    file_name: Mapped[str | None] = mapped_column(String(200))
    rows_count: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(64))

    jurisdiction: Mapped[Jurisdiction] = relationship()


class DepartmentWarning(db.Model):
    """One warning about a person (预警信息), followed from the department through city and county to the
    township's home verification and its outcome. Its steps are the warning procedures' (processes/warning_*.bpmn);
    ``status`` is where those have taken it, set by their diagram functions (engine.warnings.functions)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("warning_batch.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    department: Mapped[str] = mapped_column(String(40))
    indicator: Mapped[str] = mapped_column(String(60))  # what was screened, e.g. medical_out_of_pocket
    amount: Mapped[Decimal | None] = mapped_column(Money)
    person_name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"))
    jurisdiction_path: Mapped[str] = mapped_column(String(400), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    status: Mapped[str] = mapped_column(String(30), default=WarningStatus.RECEIVED.value, index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))  # the identification it started
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    # the warning-procedure case whose step it waits in: the city's split, the county's comparison, the township's
    # home verification (its due date and step are that case's ready task)
    step_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)

    batch: Mapped[WarningBatch] = relationship()


# engine.households.privacy.PRIVATE_ACCESS, in its order: the query names the same list, so SQLite uses the index
PRIVATE_ACCESS_EVENT = text("action IN ('private_data_viewed', 'private_data_refused')")


class AuditEvent(db.Model):
    """Append-only audit log (操作留痕): who did what to which case, when, with which data."""

    # who saw or asked to see private data, newest first, without reading the rest of the log
    # (engine.supervision.private_views)
    __table_args__ = (Index("ix_audit_private_access", "id", sqlite_where=PRIVATE_ACCESS_EVENT,
                            postgresql_where=PRIVATE_ACCESS_EVENT),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    task: Mapped[HumanTask | None] = relationship()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper, connection, target) -> None:
    raise PermissionError("the audit log is append-only")


class Notice(db.Model):
    """A written notice to a household (告知), e.g. the reason for a rejection."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class AppSetting(db.Model):
    """Small key/value settings (the demo clock's time)."""

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class TrialScenario(db.Model):
    """A trial-run scenario (试运行场景) kept in the library for a process: the JSON an editor runs a draft of that
    process against (engine.library.scenarios), under a name unique for the process; the text kept as saved."""

    __table_args__ = (UniqueConstraint("process_key", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    saved_by: Mapped[str] = mapped_column(String(64))
