"""The functions the campaign diagrams call (年度采集排查流程可调用的函数), installed beside the engine's own by the
composition roots."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from engine.campaigns import area_screening, screening
from engine.campaigns import campaign as campaigns
from engine.cases.functions import CaseContext, install_functions
from engine.core import audit
from engine.core.db import db
from engine.core.models import Case
from engine.households.income import IncomeFigures, record_income


def _open_collections(ctx: CaseContext) -> Callable[..., Any]:
    def open_collections() -> int:
        """One collection-and-screening case per household of the township (开启入户采集排查)."""
        return campaigns.open_collections(ctx.case, ctx.actor, ctx.clock)
    return open_collections


def _record_annual_income(ctx: CaseContext) -> Callable[..., Any]:
    def record_annual_income(income: dict) -> bool:
        """Keep the year's income over the campaign's window (收入统计时段), from the collection form."""
        case = ctx.case
        campaign = db.session.get(Case, int(case.reference.split(":")[1]))
        dates = campaigns.campaign_dates(campaign.jurisdiction, campaigns.campaign_year(campaign))
        figures = IncomeFigures.from_mapping(income, int(income.get("household_size") or case.household.size))
        window = (date.fromisoformat(dates["window_start"]), date.fromisoformat(dates["window_end"]))
        record_income(figures, window, household_id=case.household_id, case_id=case.id, at=ctx.now(), by=ctx.actor)
        audit.record(ctx.now(), ctx.actor, "annual_income_recorded", case_id=case.id, household_id=case.household_id,
                     window=[dates["window_start"], dates["window_end"]])
        return True
    return record_annual_income


def _report_campaign(ctx: CaseContext) -> Callable[..., Any]:
    def report_campaign() -> str:
        """The township's summary of its campaign (汇总上报); refused while a household is not entered."""
        return campaigns.report_summary(ctx.case, ctx.now())
    return report_campaign


def _identify_from_screening(ctx: CaseContext) -> Callable[..., Any]:
    def identify_from_screening(found_on: str, detail: str) -> bool:
        """The household meets the criteria: open its identification (渠道：基层干部排查)."""
        screening.identify_from_screening(ctx.case, date.fromisoformat(str(found_on)[:10]), str(detail), ctx.actor,
                                          ctx.clock)
        return True
    return identify_from_screening


def _propose_elimination(ctx: CaseContext) -> Callable[..., Any]:
    def propose_elimination(mode: str) -> bool:
        """The monitored household's risk is gone: open its risk elimination (风险消除), refused when 三保障 or
        drinking water is not safe."""
        screening.propose_elimination(ctx.case, str(mode), ctx.actor, ctx.clock)
        return True
    return propose_elimination


def _open_area_visits(ctx: CaseContext) -> Callable[..., Any]:
    def open_area_visits() -> int:
        """One visit per household of the villages the county chose (灾后入户排查)."""
        data = screening_data(ctx.case)
        return area_screening.open_area_visits(ctx.case, data["villages"], data, ctx.actor, ctx.clock)
    return open_area_visits


def screening_data(case: Case) -> dict:
    """What the county gave when it started the screening (kept in its case_opened audit entry)."""
    return audit.first_of_case(case.id, "case_opened").detail["application"]["screening"]


def install() -> None:
    install_functions({"open_collections": _open_collections, "record_annual_income": _record_annual_income,
                       "report_campaign": _report_campaign, "identify_from_screening": _identify_from_screening,
                       "propose_elimination": _propose_elimination, "open_area_visits": _open_area_visits})
