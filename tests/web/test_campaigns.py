"""The yearly campaign pages (年度信息采集和集中排查): a township officer opens this year's campaign, confirms it in the
inbox, and follows its progress by village with the deadlines; others may read, not open; outsiders are refused."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.core.db import db
from engine.core.models import Case
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.webclient import csrf_token, login


def _open(client):
    page = client.get("/campaigns").get_data(as_text=True)
    return client.post("/campaigns", data={"csrf_token": csrf_token(page)})


def test_a_township_opens_its_campaign_and_follows_it_by_village(web_app, client, clock):
    with web_app.app_context():
        for head in ("页面甲", "页面乙"):
            register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    login(client, "shahe_zhen")
    assert "开启本乡镇 2026 年度采集排查" in client.get("/campaigns").get_data(as_text=True)
    opened = _open(client)
    assert opened.status_code == 302
    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "尚未生成入户任务" in page and "2026-12-08（还剩 79 天）" in page
    inbox = client.get("/inbox").get_data(as_text=True)
    task_id = re.search(r'href="/tasks/(\d+)">开启本乡镇年度信息采集和集中排查', inbox).group(1)
    form = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    version = re.search(r'name="seen_version" value="(\d+)"', form).group(1)
    done = client.post(f"/tasks/{task_id}", data={"opened_on": "2026-09-20", "seen_version": version,
                                                  "csrf_token": csrf_token(form)})
    assert done.status_code == 302
    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert re.search(r'data-label="村">沙河村</td><td data-label="户数">2</td>\s*<td data-label="待入户">2', page)
    assert "页面甲" in page and "页面乙" in page  # still to visit
    again = _open(client)
    assert "已开启" in client.get(again.headers["Location"]).get_data(as_text=True)
    with web_app.app_context():
        assert len(db.session.scalars(select(Case).filter_by(procedure="annual_campaign")).all()) == 1
    login(client, "shahe_cun")
    assert client.get("/campaigns").status_code == 403
    login(client, "zhanggong_xian")
    assert "沙河镇 2026 年度信息采集和集中排查" in client.get("/campaigns").get_data(as_text=True)
    assert client.post("/campaigns", data={"csrf_token": "x"}).status_code in (400, 403)
    login(client, "shuixi_zhen")
    assert client.get(opened.headers["Location"]).status_code == 403  # another township's


def test_a_county_starts_an_area_screening_of_the_villages_hit(web_app, client, clock):
    with web_app.app_context():
        register_household(household_data("沙河村", "受灾甲", 2), "shahe_cun", clock)
        register_household(household_data("华坪村", "未灾乙", 2), "huaping_cun", clock)
    login(client, "zhanggong_xian")
    page = client.get("/campaigns/area").get_data(as_text=True)
    assert "沙河村" in page and "华坪村" in page
    token = csrf_token(page)
    missing = client.post("/campaigns/area", data={"cause": "", "villages": ["360702101201"], "csrf_token": token})
    assert "请写明启动排查的原因" in missing.get_data(as_text=True)
    started = client.post("/campaigns/area", data={"cause": "2026 年 9 月洪涝灾害", "villages": ["360702101201"],
                                                  "csrf_token": token})
    assert started.status_code == 302
    assert "2026 年 9 月洪涝灾害：沙河村 区域性返贫风险排查" in client.get(started.headers["Location"]).get_data(as_text=True)
    login(client, "shahe_cun")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "灾后入户排查" in inbox and "受灾甲" in inbox
    login(client, "huaping_cun")
    assert "未灾乙" not in client.get("/inbox").get_data(as_text=True)  # not a village hit: no visit
    login(client, "shahe_zhen")
    assert client.get("/campaigns/area").status_code == 403


def _do(client, task_id: int, fields: dict):
    form = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    version = re.search(r'name="seen_version" value="(\d+)"', form).group(1)
    return client.post(f"/tasks/{task_id}", data={**fields, "seen_version": version, "csrf_token": csrf_token(form)})


def _tasks(client, step: str) -> list[int]:
    return [int(i) for i in re.findall(rf'href="/tasks/(\d+)">{step}<', client.get("/inbox").get_data(as_text=True))]


def test_a_township_runs_its_campaign_from_opening_to_the_report_on_the_task_pages(web_app, client, clock):
    with web_app.app_context():
        register_household(household_data("沙河村", "全程甲", 3), "shahe_cun", clock)
    login(client, "shahe_zhen")
    page = client.get(_open(client).headers["Location"])
    assert page.status_code == 200
    (opening,) = _tasks(client, "开启本乡镇年度信息采集和集中排查")
    assert _do(client, opening, {"opened_on": "2026-09-20"}).status_code == 302
    login(client, "shahe_cun")
    (visit,) = _tasks(client, "入户采集和排查")
    form = client.get(f"/tasks/{visit}").get_data(as_text=True)
    assert "电话访谈（长期在外务工）" in form and "采集人已签字确认" in form
    refused = _do(client, visit, {"collected_on": "2026-09-20", "interview": "phone", "household_signed": "on",
                                  "income.household_size": "3", "screening": "no_risk"})
    assert refused.status_code == 422  # the collector has not signed
    done = _do(client, visit, {"collected_on": "2026-09-20", "interview": "phone", "household_signed": "on",
                               "collector_signed": "on", "income.household_size": "3", "income.wages": "36000",
                               "screening": "no_risk"})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    login(client, "shahe_zhen")
    (entry,) = _tasks(client, "录入全国防返贫监测信息系统")
    assert _do(client, entry, {"entered_on": "2026-09-20"}).status_code == 302
    (report,) = _tasks(client, "汇总上报采集排查结果")
    assert _do(client, report, {"reported_on": "2026-09-20"}).status_code == 302
    with web_app.app_context():
        campaign = db.session.scalar(select(Case).filter_by(procedure="annual_campaign"))
        assert (campaign.status, campaign.outcome) == ("completed", "reported")
    html = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert re.search(r'data-label="户数">1</td>\s*<td data-label="待入户">0</td><td data-label="待录入">0</td>'
                     r'<td data-label="已完成">1</td>', html), html[:3000]


def test_the_priority_groups_are_visited_first(web_app, client, clock):
    with web_app.app_context():
        register_household(household_data("沙河村", "普通丙", 2), "shahe_cun", clock)
        data = household_data("沙河村", "重点丁", 3)
        data["members"][1].update(dibao=True)
        data["members"][2].update(school_status="在校生")
        register_household(data, "shahe_cun", clock)
    login(client, "shahe_zhen")
    location = _open(client).headers["Location"]
    (opening,) = _tasks(client, "开启本乡镇年度信息采集和集中排查")
    assert _do(client, opening, {"opened_on": "2026-09-20"}).status_code == 302
    html = client.get(location).get_data(as_text=True)
    listed = html.split('id="to-visit"')[1]
    assert listed.index("重点丁") < listed.index("普通丙")
    assert "重点：低保、大病、残疾同时有学生的家庭" in listed and listed.count("重点：") == 1
