"""Helpers shared by the engine's tests: a case opened for a new household, its ready task, a table's row count."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.models import Case, HumanTask
from engine.households.register import register_household
from tests.bdd.officials import household_data


def open_case(clock, head: str = "张三") -> Case:
    household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    return open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock)


def ready_row(case: Case) -> HumanTask:
    return db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))


def count_rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def at_assistance_plan(app, clock) -> int:
    """A new household of 沙河村 identified up to its assistance plan (制定帮扶计划): the plan task's id."""
    from engine.demo import drive_case  # the demo driver: imported here so that the factories stay light

    with app.app_context():
        household = register_household(household_data("沙河村", "措施户", 3), "shahe_cun", clock)
        case_id = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock).id
        drive_case(case_id, clock, until="县级审定")
        return db.session.scalar(select(HumanTask.id).filter_by(case_id=case_id, state="READY",
                                                                form="assistance_plan.json"))
