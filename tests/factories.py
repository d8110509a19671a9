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
