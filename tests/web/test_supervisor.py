"""The supervisor's overview (逾期督导): who may see it, overdue counts per child jurisdiction with
drill-down, most overdue first, and the 2 % alert of unresolved monitored persons (001 Q40)."""
from __future__ import annotations

import itertools
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import Household, Jurisdiction, PolicyParameter, User
from engine.core.vocabulary import PrivateAccess
from engine.demo import drive_case
from engine.households.privacy import reveal_private
from engine.households.register import register_household
from engine.supervision.monitoring_ratio import ALERT_KEY, MISSING, RatioRow, alert_percent, monitoring_ratios
from engine.supervision.overview import overdue_overview
from engine.supervision.private_views import private_views
from tests.factories import add_township, statements_of
from tests.webclient import HttpBrowser, login, serve
from timers.calendar import to_local_date

CST = ZoneInfo("Asia/Shanghai")
SHAHE_CUN, HUAPING_CUN, SHUIXI_CUN = "360702101201", "360702101202", "360702102201"
SHAHE_ZHEN, SHUIXI_ZHEN, ZHANGGONG = "360702101", "360702102", "360702"
_ids = itertools.count(1)


def household(code: str, head: str, size: int, **extra) -> dict:
    members = [{"name": head if i == 0 else f"{head}家属{i}", "relation_to_head": "户主" if i == 0 else "其他",
                "id_number": with_check_character(f"{code[:6]}1990{next(_ids):07d}")} for i in range(size)]
    return {"village": code, "members": members, **extra}


def open_case(code: str, head: str, lead: date, clock, actor: str = "shahe_cun") -> int:
    h = register_household(household(code, head, 2), actor, clock)
    return open_identification(h.id, "self_application", lead, actor, clock).id


def place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


@pytest.fixture
def overdue(web_app, clock):
    """Five identification cases, none finished in time; at 2026-10-06 10:00 all are past the 15-day limit.

    沙河村: 甲, 乙 (at the first step), 丁 (at 入户核实, a township task); 华坪村: 丙 (lead two days earlier,
    so the most overdue); 水西村: 戊."""
    with web_app.app_context():
        ids = {
            "甲": open_case(SHAHE_CUN, "督甲", date(2026, 9, 20), clock),
            "乙": open_case(SHAHE_CUN, "督乙", date(2026, 9, 20), clock),
            "丙": open_case(HUAPING_CUN, "督丙", date(2026, 9, 18), clock, "huaping_cun"),
            "戊": open_case(SHUIXI_CUN, "督戊", date(2026, 9, 20), clock, "shuixi_zhen"),
            "丁": open_case(SHAHE_CUN, "督丁", date(2026, 9, 20), clock),
        }
        drive_case(ids["丁"], clock, until="受理申请并签署承诺授权书")
    clock.set(datetime(2026, 10, 6, 10, 0, tzinfo=CST))
    return ids


def place_counts(html: str) -> dict[str, tuple[int, int]]:
    """{code: (tasks, cases)} from the per-place table."""
    rows = re.findall(r'data-code="(\d+)" data-tasks="(\d+)" data-cases="(\d+)"', html)
    return {code: (int(tasks), int(cases)) for code, tasks, cases in rows}


def total(html: str, name: str) -> int:
    return int(re.search(rf'id="total-{name}">(\d+)<', html).group(1))


# ---------------------------------------------------------------- refusals


def test_login_is_required(client):
    response = client.get("/supervisor")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["shahe_cun", "shahe_zhen"])
def test_village_and_township_staff_are_refused(client, username):
    assert login(client, username).get("/supervisor").status_code == 403


@pytest.mark.parametrize("username", ["zhanggong_dudao", "zhanggong_xian", "ganzhou_shi", "jiangxi_zhengce"])
def test_supervisors_and_officers_may_look(web_app, username):
    assert login(web_app.test_client(), username).get("/supervisor").status_code == 200


def test_another_jurisdiction_is_forbidden(client):
    login(client, "zhanggong_dudao")
    assert client.get("/supervisor?j=370681").status_code == 403  # 龙口市
    assert client.get("/supervisor?j=3607").status_code == 403  # above the user's own
    assert client.get("/supervisor?j=999999").status_code == 404


# ---------------------------------------------------------------- overdue counts and drill-down


def test_nothing_overdue_before_the_limit_passes(client, web_app, clock):
    with web_app.app_context():
        open_case(SHAHE_CUN, "按时户", date(2026, 9, 20), clock)
    clock.set(datetime(2026, 10, 5, 23, 0, tzinfo=CST))
    html = login(client, "zhanggong_dudao").get("/supervisor").get_data(as_text=True)
    assert total(html, "cases") == 0 and total(html, "tasks") == 0
    assert "本区域没有逾期的任务或案件" in html


def test_county_totals_and_counts_per_township(client, overdue):
    html = login(client, "zhanggong_dudao").get("/supervisor").get_data(as_text=True)
    assert total(html, "cases") == 5 and total(html, "tasks") == 5
    assert place_counts(html) == {SHAHE_ZHEN: (4, 4), SHUIXI_ZHEN: (1, 1)}
    assert "<svg" in html and f'href="/supervisor?j={SHAHE_ZHEN}"' in html


def test_drill_down_to_the_township_and_the_village(client, overdue):
    login(client, "zhanggong_dudao")
    township = client.get(f"/supervisor?j={SHAHE_ZHEN}").get_data(as_text=True)
    assert total(township, "cases") == 4 and total(township, "tasks") == 4
    # 入户核实 of 丁 is held by the township itself (本级)
    assert place_counts(township) == {SHAHE_CUN: (2, 3), HUAPING_CUN: (1, 1), SHAHE_ZHEN: (1, 0)}
    village = client.get(f"/supervisor?j={SHAHE_CUN}").get_data(as_text=True)
    assert total(village, "cases") == 3 and total(village, "tasks") == 2
    assert "督丙" not in village and "督戊" not in village


def test_drill_down_from_the_province(web_app, overdue):
    client = login(web_app.test_client(), "jiangxi_zhengce")
    assert place_counts(client.get("/supervisor").get_data(as_text=True)) == {"3607": (5, 5)}
    city = client.get("/supervisor?j=3607").get_data(as_text=True)
    assert place_counts(city) == {ZHANGGONG: (5, 5)}


def test_the_list_shows_the_most_overdue_first_with_days(client, overdue):
    html = login(client, "zhanggong_dudao").get("/supervisor").get_data(as_text=True)
    listed = [int(case) for case in re.findall(r'data-case="(\d+)" data-kind="case"', html)]
    assert listed[0] == overdue["丙"]
    assert '<span class="due overdue">3 天</span>' in html and '<span class="due overdue">1 天</span>' in html


def test_counts_per_procedure_and_step_and_the_step_filter(client, overdue):
    login(client, "zhanggong_dudao")
    html = client.get("/supervisor").get_data(as_text=True)
    assert "识别纳入" in html and "受理申请并签署承诺授权书" in html and "入户核实" in html
    filtered = client.get("/supervisor", query_string={"step": "入户核实"}).get_data(as_text=True)
    assert total(filtered, "tasks") == 1 and total(filtered, "cases") == 0
    assert place_counts(filtered)[SHAHE_ZHEN] == (1, 0)


def test_the_overview_service_counts_days_overdue(web_app, overdue, clock):
    with web_app.app_context():
        data = overdue_overview(place(ZHANGGONG), clock.now())
        assert [i.days_overdue for i in data.items] == sorted((i.days_overdue for i in data.items), reverse=True)
        assert data.worst_days == 3
        assert {(c.code, c.tasks, c.cases) for c in data.by_child} == {(SHAHE_ZHEN, 4, 4), (SHUIXI_ZHEN, 1, 1)}


# ---------------------------------------------------------------- the 2 % alert


def _monitored(code: str, head: str, size: int, clock, **extra) -> Household:
    h = register_household(household(code, head, size, **extra), "shahe_cun", clock)
    h.status = "monitored"
    return h


@pytest.fixture
def ratios(web_app, clock):
    """沙河村 and 华坪村 with 100 rural residents each, 水西村 without population data."""
    with web_app.app_context():
        place(SHAHE_CUN).rural_population = 100
        place(HUAPING_CUN).rural_population = 100
        place(SHUIXI_CUN).rural_population = None
        _monitored(SHAHE_CUN, "两口户", 2, clock)  # 2 of 100 = exactly 2 %: no alert
        _monitored(SHAHE_CUN, "兜底户", 5, clock, social_guarantee=True)  # 兜底: excluded
        register_household(household(SHAHE_CUN, "普通户", 4), "shahe_cun", clock)  # not monitored
        _monitored(HUAPING_CUN, "三口户", 3, clock)
        away = _monitored(HUAPING_CUN, "外出户", 2, clock)  # only the head lives with the household
        away.members[1].lives_with_household = False
        _monitored(SHUIXI_CUN, "水西户", 2, clock)
        db.session.commit()


def test_the_ratio_counts_unresolved_persons_without_social_guarantee_households(web_app, ratios, clock):
    with web_app.app_context():
        rows = {r.code: r for r in monitoring_ratios(place(ZHANGGONG), to_local_date(clock.now()))}
    assert (rows[SHAHE_CUN].numerator, rows[SHAHE_CUN].alert) == (2, False)
    assert str(rows[SHAHE_CUN].ratio) == "0.020000"
    assert (rows[HUAPING_CUN].numerator, rows[HUAPING_CUN].alert) == (4, True)
    assert rows[SHAHE_ZHEN].numerator == 6 and rows[SHAHE_ZHEN].alert is False  # of 42 000
    assert rows[SHUIXI_CUN].population_missing and rows[SHUIXI_CUN].ratio is None
    assert rows[SHUIXI_CUN].percent_text == MISSING and rows[SHUIXI_CUN].alert is False
    assert set(rows) >= {SHAHE_ZHEN, SHAHE_CUN, HUAPING_CUN, SHUIXI_ZHEN, SHUIXI_CUN}
    assert ZHANGGONG not in rows  # townships and villages only


@pytest.mark.parametrize(("numerator", "population", "alert"), [
    (2, 100, False), (3, 100, True), (3, 150, False), (4, 150, True), (2, 99, True), (0, 0, False),
])
def test_the_alert_fires_only_strictly_above_two_percent(numerator, population, alert):
    assert RatioRow("1", "村", "village", "/1/", numerator, population, Decimal(2)).alert is alert
    assert RatioRow("1", "村", "village", "/1/", numerator, population, None).alert is False  # no threshold here


def test_the_page_shows_the_alerts_and_missing_population(client, ratios):
    html = login(client, "zhanggong_dudao").get("/supervisor").get_data(as_text=True)
    alerts = dict(re.findall(r'data-code="(\d+)" data-alert="(\d)"', html))
    assert alerts[HUAPING_CUN] == "1" and alerts[SHAHE_CUN] == "0" and alerts[SHUIXI_CUN] == "0"
    assert total(html, "alerts") == 1
    assert "人口数据缺失" in html and "4.00%" in html and "2.00%" in html


def test_the_ratios_read_the_same_statements_however_many_places(web_app, ratios, clock):
    """The alert threshold of every township and village is resolved from one read of the places and one of the
    parameters in force (engine.policy.parameters.resolve_each), not two statements per place — and is what
    resolving it place by place gives, a township's own threshold included."""
    on = to_local_date(clock.now())
    with web_app.app_context():
        county = place(ZHANGGONG)
        db.session.expire_all()
        few = statements_of(lambda: monitoring_ratios(county, on))
        villages = add_township(ZHANGGONG, "360702199", "新设镇", 3, rural_population=100)
        db.session.add(PolicyParameter(jurisdiction_id=place("360702199").id, key=ALERT_KEY, value=1,
                                       effective_from=date(2026, 1, 1)))
        household = _monitored(SHAHE_CUN, "新设户", 2, clock)
        household.village_id = villages[0].id  # 2 of 100: above the new township's 1 %
        db.session.commit()
        db.session.expire_all()
        found = []
        many = statements_of(lambda: found.extend(monitoring_ratios(county, on)))
        rows = {r.code: r for r in found}
        assert all(r.alert_percent == alert_percent(place(r.code), on) for r in found)
    assert many == few
    assert (rows[villages[0].code].alert_percent, rows[villages[0].code].alert) == (1, True)
    assert rows["360702199"].alert_percent == 1 and rows[SHAHE_CUN].alert_percent == 2
    assert rows[HUAPING_CUN].alert and not rows[SHAHE_CUN].alert


# ---------------------------------------------------------------- who saw private data


def _registered(web_app, clock, name: str) -> tuple[str, int, str]:
    """A household of two registered in 沙河村: its number, id and head's ID number."""
    data = household(SHAHE_CUN, name, 2)
    with web_app.app_context():
        registered = register_household(data, "shahe_cun", clock)
        return registered.number, registered.id, data["members"][0]["id_number"]


def _county_officer_opens_the_form(base: str, household_id: int, id_number: str) -> None:
    officer = HttpBrowser(base)
    officer.login("zhanggong_xian", "demo")
    assert id_number in officer.get(f"/households/{household_id}/form").read().decode()


def test_a_supervisor_sees_who_saw_private_data_in_full_and_nothing_of_the_data(web_app, clock):
    """Through a real server: the county officer opens a household's information form (its ID number in full);
    the county's supervisor lists that, without the ID number; the province's sees it too; the list of another
    county has none of it; it reads two statements however many entries there are."""
    number, seen_id, id_number = _registered(web_app, clock, "看见户")
    with serve(web_app) as base:
        _county_officer_opens_the_form(base, seen_id, id_number)
        supervisor = HttpBrowser(base)
        supervisor.login("zhanggong_dudao", "demo")
        assert "敏感信息查看记录" in supervisor.get("/supervisor").read().decode()
        page = supervisor.get("/supervisor/private-views").read().decode()
        assert "共 1 次" in page and number in page and "农户信息采集表" in page and "zhanggong_xian" in page
        assert id_number not in page
        assert supervisor.get("/supervisor/private-views?j=370681").status == 403  # not their jurisdiction
        province = HttpBrowser(base)
        province.login("jiangxi_zhengce", "demo")
        assert number in province.get("/supervisor/private-views").read().decode()
    with web_app.app_context():
        assert private_views(place("370681")) == (0, [])
        county = place("360702")
        one = statements_of(lambda: private_views(county))
        officer_user = db.session.scalar(select(User).filter_by(username="zhanggong_xian"))
        for _ in range(3):
            reveal_private(officer_user, place("360702101201"), clock, household_id=seen_id, number=number,
                           via=PrivateAccess.API, path="/api/households")
        county = place("360702")  # read again: the commits expired it
        assert statements_of(lambda: private_views(county)) == one == 2  # however many entries
        total, views = private_views(county)
        assert total == 4 and views[0].access == "数据接口（?sensitive=1）" and views[-1].access == "农户信息采集表"


def test_a_refused_request_for_private_data_is_listed_for_the_supervisor_marked_refused(web_app, clock):
    """Through a real server: the county officer opens a household's information form, then a department officer
    (whose role may not see private fields) asks the API for them in full and is refused; the supervisor's list
    has both, newest first, the refusal marked 被拒绝 — and nothing of the data; still two statements."""
    number, asked_id, id_number = _registered(web_app, clock, "拒绝户")
    with serve(web_app) as base:
        _county_officer_opens_the_form(base, asked_id, id_number)
        department = HttpBrowser(base)
        department.login("zhanggong_yibao", "demo")
        refused = department.get(f"/api/households/{asked_id}?sensitive=1")
        assert refused.status == 403 and id_number not in refused.read().decode()
        supervisor = HttpBrowser(base)
        supervisor.login("zhanggong_dudao", "demo")
        page = supervisor.get("/supervisor/private-views").read().decode()
    assert "共 2 次" in page and id_number not in page
    rows = {who: row for row in page.split("<tr")[1:] for who in ("zhanggong_yibao", "zhanggong_xian") if who in row}
    assert 'class="alert"' in rows["zhanggong_yibao"] and "被拒绝" in rows["zhanggong_yibao"]
    assert number in rows["zhanggong_yibao"] and "数据接口（?sensitive=1）" in rows["zhanggong_yibao"]
    assert "被拒绝" not in rows["zhanggong_xian"] and 'class="alert"' not in rows["zhanggong_xian"]
    with web_app.app_context():
        county = place(ZHANGGONG)
        assert statements_of(lambda: private_views(county)) == 2
        total, views = private_views(place(ZHANGGONG))
    assert total == 2 and [(v.username, v.refused) for v in views] == [
        ("zhanggong_yibao", True), ("zhanggong_xian", False)]
