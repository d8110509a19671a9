"""The database schema is made and upgraded by the migrations in migrations/ (Flask-Migrate), and they match
the models: a new column without a migration fails here. PostgreSQL: tests/test_postgres.py."""
from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.bpmn.runtime import next_wakeup
from engine.cases.functions import CaseContext, case_workflow
from engine.cases.lifecycle import complete_task
from engine.cases.tasks import tasks_of_case
from engine.core.db import db
from engine.core.id_numbers import check_character
from engine.core.models import Case, Household, HumanTask
from engine.core.schema import BASE_REVISION
from engine.demo import drive_case, sample_form_data
from engine.households.guarantees import record_verified_guarantees
from tests.conftest import prepare_database
from tests.factories import open_case, ready_row

LATEST = "0020"


def _app(tmp_path, clock, **config):
    return create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'schema.db'}",
                              "FANGPIN_CLOCK_OBJECT": clock, "TESTING": True, **config})


def schema_differences() -> list:
    """What the models have that the database made by the migrations has not (and the reverse)."""
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)


def sample(form: str, case: Case | None = None) -> dict:
    return sample_form_data(form, date(2026, 9, 20), case)


def _revision() -> str:
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def test_the_migrations_make_the_schema_of_the_models(tmp_path, clock):
    with _app(tmp_path, clock).app_context():
        setup_database(clock)
        assert schema_differences() == []
        assert _revision() == LATEST  # the newest migration (update when one is added)
        setup_database(clock)  # again: nothing to upgrade, nothing added twice
        assert _revision() == LATEST


def test_a_database_made_before_migrations_is_taken_over_in_place(tmp_path, clock):
    """A database of a release before migrations existed (the initial schema, no migration history), holding a
    case half-way through its procedure, is upgraded in place: the case's state is converted and it goes on."""
    with _app(tmp_path, clock).app_context():
        prepare_database(clock)
        case_id = open_case(clock).id
        complete_task(ready_row(db.session.get(Case, case_id)).id, sample("identification_apply.json"), "shahe_cun",
                      clock)
        steps_before = [(t.name, t.state) for t in tasks_of_case(case_id)]
        downgrade(revision=BASE_REVISION)  # back to the initial schema: the state as SpiffWorkflow's JSON text
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()
        assert "state_json" in {c["name"] for c in inspect(db.engine).get_columns("case")}
    with _app(tmp_path, clock).app_context():  # a new process: nothing of the case is in memory
        setup_database(clock)
        assert _revision() == LATEST and schema_differences() == []
        assert [(t.name, t.state) for t in tasks_of_case(case_id)] == steps_before
        case = db.session.get(Case, case_id)
        assert next_wakeup(case_workflow(case, CaseContext(case, "t", clock).script_engine())) is None
        complete_task(ready_row(case).id, sample("household_verification.json", case), "shahe_zhen", clock)
        assert ready_row(db.session.get(Case, case_id)).name == "民主评议"


def test_upgrading_marks_the_county_decisions_projected_before_the_mark(tmp_path, clock):
    """0015: the county approvals of identifications projected before their diagrams said what they are (the form
    county_approval.json) become the county's decision (ledgerStep county_decision); no other step does."""
    with _app(tmp_path, clock).app_context():
        prepare_database(clock)
        case_id = open_case(clock).id
        drive_case(case_id, clock, until="县级审定")
        marks = {t.name: t.ledger_step for t in db.session.scalars(select(HumanTask).filter_by(case_id=case_id))}
        assert marks["县级审定"] == "county_decision"
        downgrade(revision="0014")
        db.session.expire_all()
        assert {t.ledger_step for t in db.session.scalars(select(HumanTask).filter_by(case_id=case_id))} == {None}
        upgrade()
        db.session.expire_all()
        assert {t.name: t.ledger_step for t in db.session.scalars(select(HumanTask).filter_by(case_id=case_id))} \
            == marks
        assert _revision() == LATEST


def test_upgrading_carries_the_medical_insurance_finding_from_the_audit_to_the_household(tmp_path, clock):
    """0018: A26 as the latest verification found it (audited ``guarantees_verified``) becomes the household's
    column: a finding of 'uninsured' later cleared is False, one not cleared is True, a household never found so
    False."""
    with _app(tmp_path, clock).app_context():
        prepare_database(clock)
        uninsured, cleared, never = (open_case(clock, head=name).household for name in ("未参保户", "已补缴户", "从未户"))
        found = {"no_basic_medical_insurance": True}
        for household in (uninsured, cleared):
            record_verified_guarantees(household, found, at=clock.now(), by="shahe_zhen", case_id=None)
        record_verified_guarantees(cleared, {}, at=clock.now(), by="shahe_zhen", case_id=None)
        db.session.commit()
        ids = [h.id for h in (uninsured, cleared, never)]
        downgrade(revision="0017")
        assert "no_medical_insurance_found" not in {c["name"] for c in inspect(db.engine).get_columns("household")}
        upgrade()
        db.session.expire_all()
        assert [db.session.get(Household, i).no_medical_insurance_found for i in ids] == [True, False, False]
        assert _revision() == LATEST and schema_differences() == []


def _capital_x_numbers(clock) -> tuple[str, str]:
    """Two registered members whose ID numbers end in X (the heads of two households of 沙河村)."""
    from engine.households.register import register_household
    from tests.bdd.officials import household_data

    numbers = []
    for head in ("大写甲", "大写乙"):
        data = household_data("沙河村", head, 1)
        body = next(b for b in (f"36070219800102{n:03d}" for n in range(len(numbers) * 500, 1000))
                    if check_character(b) == "X" and b + "X" not in numbers)
        data["members"][0]["id_number"] = body + "X"
        numbers.append(register_household(data, "shahe_cun", clock).members[0].id_number)
    return numbers[0], numbers[1]


def _stored(number: str) -> str | None:
    return db.session.scalar(text("SELECT id_number FROM member WHERE upper(id_number) = :n"), {"n": number})


def test_upgrading_makes_every_stored_id_number_end_in_a_capital_x(tmp_path, clock):
    """0019: a member registered before with a small x (registration kept it as typed) is stored with X."""
    with _app(tmp_path, clock).app_context():
        prepare_database(clock)
        first, second = _capital_x_numbers(clock)
        downgrade(revision="0018")
        db.session.execute(text("UPDATE member SET id_number = lower(id_number) WHERE id_number = :n"), {"n": first})
        db.session.commit()
        assert _stored(first) == first.lower()
        upgrade()
        assert (_stored(first), _stored(second)) == (first, second) and _revision() == LATEST


def test_upgrading_is_refused_naming_the_households_when_two_numbers_differ_only_by_the_case_of_x(tmp_path, clock):
    """Upper-casing ``…x`` beside a registered ``…X`` would make them one person: nothing is changed, and the refusal
    names both households and members (the numbers masked) for an administrator to correct one."""
    from engine.core.errors import FangpinError
    from engine.core.models import Household

    with _app(tmp_path, clock).app_context():
        prepare_database(clock)
        first, second = _capital_x_numbers(clock)
        downgrade(revision="0018")
        db.session.execute(text("UPDATE member SET id_number = :small WHERE id_number = :n"),
                           {"small": first.lower(), "n": second})  # 大写乙 typed as 大写甲's number, with x
        db.session.commit()
        households = {h.head.name: h.number for h in db.session.scalars(select(Household))}
        with pytest.raises(FangpinError) as refused:
            upgrade()
        message = str(refused.value)
        assert message.startswith("数据库升级未进行（没有改动任何数据）：有 1 组家庭成员的身份证号只差末位 x 的大小写")
        assert f"户 {households['大写甲']} 的大写甲（{first[:6]}********{first[-4:]}）" in message
        assert f"户 {households['大写乙']} 的大写乙（{first[:6]}********{first[-4:].lower()}）" in message
        assert first not in message and first.lower() not in message
        db.session.rollback()
        assert _revision() == "0018"  # and both rows as they were: nothing upper-cased
        assert sorted(db.session.scalars(text("SELECT id_number FROM member WHERE upper(id_number) = :n"),
                                         {"n": first})) == sorted([first, first.lower()])
