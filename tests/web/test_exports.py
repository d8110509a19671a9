"""The monitoring ledger (监测台账) as a page, an Excel file and a CSV file, and a household's information
form (信息采集表, A1–A55) for authorized officials of its jurisdiction."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.models import AuditEvent, Jurisdiction
from engine.demo import drive_case
from engine.households.ledger import HEADERS, ledger_rows
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.factories import add_township, statements_of
from tests.webclient import HttpBrowser, login, serve

SHAHE_CUN, HUAPING_CUN, ZHANGGONG = "360702101201", "360702101202", "360702"
PHONE, HEALTH = "13811112222", "慢性病"
URLS = ("/ledger", "/ledger.xlsx", "/ledger.csv")


@pytest.fixture
def monitored(web_app, clock):
    """台账甲 (沙河村) and 台账乙 (华坪村) identified; 台账丙 (沙河村) still applying."""
    with web_app.app_context():
        data = household_data("沙河村", "台账甲", 3, group_name="一组", contact_phone=PHONE)
        data["members"][0]["health_status"] = HEALTH
        first = register_household(data, "shahe_cun", clock)
        drive_case(open_identification(first.id, "self_application", date(2026, 9, 20), "shahe_cun", clock).id, clock)
        second = register_household(household_data("华坪村", "台账乙", 2), "huaping_cun", clock)
        drive_case(open_identification(second.id, "self_application", date(2026, 9, 26), "huaping_cun", clock).id,
                   clock)
        third = register_household(household_data("沙河村", "台账丙", 2), "shahe_cun", clock)
        open_identification(third.id, "self_application", date(2026, 9, 26), "shahe_cun", clock)
        return {"甲": first.id, "乙": second.id, "丙": third.id, "甲号": first.number,
                "甲身份证": data["members"][0]["id_number"]}


def _department_login(app, client):
    return login(client, "zhanggong_yibao")  # the demo login of 章贡区医保局 (a department officer)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("url", [*URLS, "/households/1/form"])
def test_login_is_required(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_role_without_ledger_work_is_refused(web_app, client, monitored):
    _department_login(web_app, client)
    for url in [*URLS, f"/households/{monitored['甲']}/form"]:
        assert client.get(url).status_code == 403, url


def test_another_jurisdiction_is_forbidden(client, monitored):
    login(client, "huaping_cun")
    for url in URLS:
        assert client.get(f"{url}?j={SHAHE_CUN}").status_code == 403, url
    assert client.get(f"/households/{monitored['甲']}/form").status_code == 403
    assert client.get(f"/households/{monitored['乙']}/form").status_code == 200
    assert client.get("/households/99999/form").status_code == 404


# ---------------------------------------------------------------- the ledger


def test_the_ledger_page_links_the_files_and_shows_the_households(client, monitored):
    html = login(client, "zhanggong_xian").get("/ledger").get_data(as_text=True)
    assert f"/ledger.xlsx?j={ZHANGGONG}" in html and f"/ledger.csv?j={ZHANGGONG}" in html
    assert "台账甲" in html and "台账乙" in html and "台账丙" not in html  # not (yet) monitored
    assert f"/households/{monitored['甲']}/form" in html
    assert PHONE not in html and monitored["甲身份证"] not in html


def test_drill_down_to_a_village(client, monitored):
    html = login(client, "zhanggong_xian").get(f"/ledger?j={SHAHE_CUN}").get_data(as_text=True)
    assert "台账甲" in html and "台账乙" not in html


def test_the_excel_file_opens_and_holds_the_household(client, monitored):
    response = login(client, "shahe_cun").get("/ledger.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data))["监测台账"]
    assert "沙河村防止返贫监测对象台账" in sheet["A1"].value
    assert [c.value for c in sheet[3]] == list(HEADERS)
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert len(rows) == 1  # the village cadre's village only
    row = dict(zip(HEADERS, rows[0], strict=True))
    assert row["户编号"] == monitored["甲号"] and row["户主"] == "台账甲" and row["家庭人口数"] == 3
    assert row["监测对象类别"] == "边缘易致贫户" and row["风险类型"] == "因病"
    assert row["纳入监测日期"].date() == date(2026, 9, 26)
    assert row["帮扶责任人"] == "王帮扶" and "种植业" in row["帮扶措施"]
    assert row["监测状态"] == "监测中（风险未消除）"


def test_the_csv_has_a_bom_the_header_and_the_rows(client, monitored):
    response = login(client, "zhanggong_xian").get("/ledger.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == list(HEADERS)
    heads = {r[HEADERS.index("户主")] for r in rows[1:]}
    assert heads == {"台账甲", "台账乙"}
    assert all(len(r) == len(HEADERS) for r in rows)


def test_an_empty_ledger_still_has_its_header(client):
    response = login(client, "shahe_cun").get("/ledger.csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [list(HEADERS)]
    assert "本区域暂无监测对象" in client.get("/ledger").get_data(as_text=True)


# ---------------------------------------------------------------- the information form


def test_the_information_form_follows_the_a1_a55_layout(client, monitored):
    response = login(client, "shahe_cun").get(f"/households/{monitored['甲']}/form")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    positions = [html.index(f'<span class="code">{code}</span>') for code in ("A1", "A5", "A23", "A27", "A33",
                                                                               "A39", "A53", "A55")]
    assert positions == sorted(positions)
    assert "居住在大中型易地扶贫搬迁集中安置区" in html and "纳入监测对象的人均收入参考范围" in html
    assert "台账甲" in html and "15000.00" in html and "种植业" in html  # member, A33, A39


def test_the_information_form_shows_private_fields_to_authorized_officials(client, monitored):
    html = login(client, "zhanggong_xian").get(f"/households/{monitored['甲']}/form").get_data(as_text=True)
    assert monitored["甲身份证"] in html and PHONE in html and HEALTH in html
    assert "敏感" in html


def test_opening_the_information_form_is_recorded_and_so_is_a_role_refused(client, monitored, web_app):
    login(client, "huaping_cun")
    assert client.get(f"/households/{monitored['甲']}/form").status_code == 403  # another village: nothing recorded
    _department_login(web_app, client)  # in the household's county, but a role that may not see private fields
    refused = client.get(f"/households/{monitored['甲']}/form")
    assert refused.status_code == 403 and monitored["甲身份证"] not in refused.get_data(as_text=True)
    login(client, "zhanggong_xian").get(f"/households/{monitored['甲']}/form")
    with web_app.app_context():
        entries = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(("private_data_viewed", "private_data_refused"))).order_by(AuditEvent.id)).all()
        assert [(e.action, e.actor, e.household_id, e.detail["via"]) for e in entries] == [
            ("private_data_refused", "zhanggong_yibao", monitored["甲"], "information_form"),
            ("private_data_viewed", "zhanggong_xian", monitored["甲"], "information_form")]


def test_a_refused_information_form_is_a_403_over_http_and_recorded(monitored, web_app):
    """Through a real server: the department officer's request for the form gets the 403 page, none of the data."""
    with serve(web_app) as base:
        department = HttpBrowser(base)
        department.login("zhanggong_yibao", "demo")
        answer = department.get(f"/households/{monitored['甲']}/form")
        assert answer.status == 403 and monitored["甲身份证"] not in answer.read().decode()
    with web_app.app_context():
        refused = db.session.scalars(select(AuditEvent).filter_by(action="private_data_refused")).all()
        assert [(e.actor, e.household_id, e.detail["path"]) for e in refused] == [
            ("zhanggong_yibao", monitored["甲"], f"/households/{monitored['甲']}/form")]


def test_the_ledger_shows_the_measures_in_force_not_stopped_ones(client, monitored, web_app):
    """Measures come from the household's measure records (assistance plan and green channel alike);
    one stopped since is no longer listed."""
    from sqlalchemy import select

    from engine.core.db import db
    from engine.core.models import Measure
    from engine.core.transaction import transaction

    with web_app.app_context(), transaction():
        planned = db.session.scalars(select(Measure).filter_by(household_id=monitored["甲"])).all()
        assert [m.item for m in planned] == ["种植业"]
        planned[0].ended_on = date(2026, 10, 20)
        db.session.add(Measure(household_id=monitored["甲"], code="A40", item="技能培训", started_on=date(2026, 10, 21)))
    rows = list(csv.reader(io.StringIO(login(client, "shahe_cun").get("/ledger.csv").data.decode("utf-8-sig"))))
    row = dict(zip(HEADERS, rows[1], strict=True))
    assert "技能培训" in row["帮扶措施"] and "种植业" not in row["帮扶措施"]


def test_the_ledger_reads_the_same_statements_however_many_villages(web_app, monitored, clock):
    """The township of each household's village comes from the places read once (engine.core.models
    .load_ancestors), not one statement per village."""
    with web_app.app_context():
        county = db.session.scalar(select(Jurisdiction).filter_by(code=ZHANGGONG))
        db.session.expire_all()
        few = statements_of(lambda: ledger_rows(county))
        moved = [register_household(household_data("沙河村", f"新村户{i}", 2), "shahe_cun", clock) for i in range(3)]
        for household, village in zip(moved, add_township(ZHANGGONG, "360702199", "新设镇", 3), strict=True):
            household.village_id, household.identified_on = village.id, date(2026, 9, 20)
        db.session.commit()
        db.session.expire_all()
        rows = []
        many = statements_of(lambda: rows.extend(ledger_rows(county)))
    assert many == few
    places = {(r.township, r.village) for r in rows}
    assert {("沙河镇", "沙河村"), ("沙河镇", "华坪村"), ("新设镇", "新设镇1村"), ("新设镇", "新设镇3村")} <= places
