"""A county's view over its townships' campaigns (全县采集排查进度): by township and by village, the deadlines with
the days left from policy data, the households still to visit — in a fixed number of statements however many
households there are; and the one helper both the campaign and the area screening open their household cases
with."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from engine.campaigns.area_screening import start_area_screening
from engine.campaigns.campaign import county_progress, open_campaign
from engine.cases.lifecycle import complete_task
from engine.core.db import db
from engine.core.errors import RuleViolation
from engine.core.models import Case, HumanTask, Jurisdiction, PolicyParameter
from engine.core.transaction import transaction
from engine.demo import sample_form_data
from engine.households.register import register_household
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

CST = ZoneInfo("Asia/Shanghai")


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


VILLAGES = {"沙河村": "360702101201", "华坪村": "360702101202", "水西村": "360702102201"}


def _households(clock, village: str, n: int, prefix: str) -> None:
    for i in range(n):
        data = {**household_data("沙河村", f"{prefix}{i}", 2), "village": VILLAGES[village]}
        register_household(data, "system", clock)


OFFICERS = {"360702101": "shahe_zhen", "360702102": "shuixi_zhen"}


def _campaign(clock, township: str = "360702101") -> Case:
    with transaction():
        case = open_campaign(_place(township), 2026, OFFICERS[township], clock)
    (opening,) = db.session.scalars(select(HumanTask).filter_by(case_id=case.id, state="READY")).all()
    complete_task(opening.id, {"opened_on": to_local_date(clock.now()).isoformat()}, OFFICERS[township], clock)
    return case


def _collect(clock, head_prefix: str, user: str = "shahe_cun") -> None:
    rows = db.session.scalars(select(HumanTask).filter_by(bpmn_id="cl_visit", state="READY")).all()
    row = next(r for r in rows if r.case.household.head.name.startswith(head_prefix))
    complete_task(row.id, sample_form_data("annual_collection.json", to_local_date(clock.now())), user, clock)


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_the_county_sees_every_township_and_village_with_the_deadlines_and_the_households_to_visit(app, clock):
    _households(clock, "沙河村", 2, "沙河户")
    _households(clock, "华坪村", 1, "华坪户")
    _campaign(clock)
    _collect(clock, "沙河户0")
    county = _place("360702")
    p = county_progress(county, 2026, clock.now())
    assert [(t.township.name, t.state) for t in p.townships] == [("沙河镇", "采集排查中"), ("水西镇", "未开启")]
    shahe, shuixi = p.townships
    assert (shahe.tally.households, shahe.tally.collected, shahe.tally.to_visit, shahe.tally.to_enter,
            shahe.tally.done, shahe.tally.overdue) == (3, 1, 2, 1, 0, 0)
    assert [(v.village, v.households, v.to_visit) for v in shahe.villages] == [("沙河村", 2, 1), ("华坪村", 1, 1)]
    assert shuixi.tally.households == 0 and shuixi.villages == [] and shuixi.campaign is None
    assert (p.opened, p.reported, p.total.households) == (1, 0, 3)
    assert (p.deadlines.entry_by, p.deadlines.days_to_entry) == (date(2026, 12, 8), 79)
    assert (p.deadlines.closes, p.deadlines.days_to_close) == (date(2026, 12, 31), 102)
    assert {(r.head, r.village, r.township) for r in p.to_visit} == {("沙河户1", "沙河村", "沙河镇"),
                                                                   ("华坪户0", "华坪村", "沙河镇")}
    clock.set(datetime(2026, 12, 9, 9, tzinfo=CST))  # the visits and the entries were due by 12-08 24:00 (004 二（三）)
    late = county_progress(county, 2026, clock.now())
    assert (late.townships[0].tally.overdue, late.deadlines.days_to_entry) == (3, -1)  # 2 visits, 1 entry


def test_the_deadlines_are_the_countys_policy_data(app, clock):
    county = _place("360702")
    db.session.add(PolicyParameter(jurisdiction=county, key="annual_campaign.entry_by", value="12-05",
                                   effective_from=date(2026, 1, 1), source="测试：本县提前至12月5日"))
    db.session.commit()
    p = county_progress(county, 2026, clock.now())
    assert (p.deadlines.entry_by, p.deadlines.days_to_entry) == (date(2026, 12, 5), 76)


def test_the_county_view_is_a_fixed_number_of_statements_however_many_households(app, clock):
    county = _place("360702")
    _households(clock, "沙河村", 1, "少户")
    _campaign(clock)
    with statements() as few:
        county_progress(county, 2026, clock.now())
    _households(clock, "水西村", 8, "水西户")
    _campaign(clock, "360702102")
    db.session.expire_all()
    with statements() as many:
        p = county_progress(county, 2026, clock.now())
    assert p.total.households == 9 and p.opened == 2 and len(p.to_visit) == 9
    assert len(many) == len(few), many  # one grouped statement for the villages, one for the households to visit
    grouped = [s for s in many if "GROUP BY" in s]
    assert len(grouped) == 1


def test_only_a_county_has_a_county_view(app, clock):
    with pytest.raises(RuleViolation, match="不是县级"):
        county_progress(_place("360702101"), 2026, clock.now())


def test_the_campaign_and_the_area_screening_open_one_case_per_household_the_same_way(app, clock):
    _households(clock, "沙河村", 2, "同法户")
    _households(clock, "水西村", 1, "别镇户")
    campaign = _campaign(clock)
    collections = db.session.scalars(select(Case).filter_by(procedure="annual_collection")).all()
    assert sorted(c.household.head.name for c in collections) == ["同法户0", "同法户1"]  # the township's villages
    assert {c.reference.rsplit(":", 1)[0] for c in collections} == {f"annual_collection:{campaign.id}"}
    with transaction():
        screening = start_area_screening(_place("360702"), ["360702102201"], "2026 年 9 月洪涝灾害", "zhanggong_xian",
                                         clock)
    visits = db.session.scalars(select(Case).filter_by(procedure="area_visit")).all()
    assert [(v.household.head.name, v.reference) for v in visits] == [
        ("别镇户0", f"area_visit:{screening.id}:{visits[0].household_id}")]
    assert {v.lead_date for v in collections + visits} == {to_local_date(clock.now())}
