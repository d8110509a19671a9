"""The yearly campaign pages (年度信息采集和集中排查): a township officer opens this year's campaign, confirms it in the
inbox, and follows its progress by village with the deadlines; others may read, not open; outsiders are refused."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.campaigns.campaign import open_campaign
from engine.cases.lifecycle import complete_task, open_identification, wake_due
from engine.core.db import db
from engine.core.models import Case, HumanTask, Jurisdiction, PolicyParameter
from engine.core.transaction import transaction
from engine.demo import drive_case, sample_form_data
from engine.households.guarantees import record_verified_guarantees
from engine.households.register import register_household
from engine.supervision.overview import overdue_overview
from tests.bdd.officials import household_data
from tests.webclient import csrf_token, login
from timers.calendar import to_local_date


def cells(page: str, first: str) -> dict[str, str]:
    """The cells of the progress row whose first cell is ``first``, by their labels (data-label)."""
    row = re.search(rf'<tr[^>]*><t[dh][^>]*>{first}</t[dh]>(.*?)</tr>', page, re.DOTALL)
    assert row, f"no row {first}"
    return dict(re.findall(r'data-label="([^"]+)">([^<]*)</td>', row.group(1)))


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
    state = re.search(r'<p class="meta" id="campaign-state">(.*?)</p>', page, re.DOTALL).group(1)
    assert state == ("尚未开始入户采集排查：乡镇在待办中办理“开启本乡镇年度信息采集和集中排查”后，"
                     "系统为本乡镇各户生成入户采集排查任务")  # not 办理中 before it is opened
    inbox = client.get("/inbox").get_data(as_text=True)
    task_id = re.search(r'href="/tasks/(\d+)">开启本乡镇年度信息采集和集中排查', inbox).group(1)
    form = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    version = re.search(r'name="seen_version" value="(\d+)"', form).group(1)
    done = client.post(f"/tasks/{task_id}", data={"opened_on": "2026-09-20", "seen_version": version,
                                                  "csrf_token": csrf_token(form)})
    assert done.status_code == 302
    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    state = re.search(r'<p class="meta" id="campaign-state">(.*?)</p>', page, re.DOTALL).group(1)
    assert state == "办理中：各村入户采集排查，乡镇录入全国系统后汇总上报（待办“汇总上报采集排查结果”）"
    assert cells(page, "沙河村") == {"户数": "2", "已采集排查": "0", "已录入": "0", "待入户": "2", "待录入": "0",
                                         "逾期": "0", "排查启动识别": "0", "启动风险消除": "0"}
    assert "页面甲" in page and "页面乙" in page  # still to visit
    listing = client.get("/campaigns").get_data(as_text=True)  # opened: no button to open it again, a link to it
    assert "开启本乡镇 2026 年度采集排查" not in listing and 'action="/campaigns"' not in listing
    assert re.search(r'本乡镇 2026 年度采集排查已于 2026-09-20 \d\d:\d\d 开启：<a href="/campaigns/\d+">ND-2026-\d+</a>（办理中）',
                     listing), listing
    again = _open(client)  # a second post (an old page) is still refused
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
    assert {k: cells(html, "沙河村")[k] for k in ("户数", "已采集排查", "已录入", "待入户", "待录入")} == {
        "户数": "1", "已采集排查": "1", "已录入": "1", "待入户": "0", "待录入": "0"}
    assert "已汇总上报" in html and "1 户完成采集排查并录入全国系统" in html


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


def test_a_malformed_priority_group_saved_before_it_was_checked_lists_the_visits_without_priority(
        web_app, client, clock, caplog):
    """Finding 2: [1,2] saved as a township's priority groups (before the parameters page checked their shape) made
    its campaign page a 500; the visits are listed without priority now, and the log says why."""
    with web_app.app_context(), transaction():
        register_household(household_data("沙河村", "重点戊", 2), "shahe_cun", clock)
        town = db.session.scalar(select(Jurisdiction).filter_by(code="360702101"))
        db.session.add(PolicyParameter(jurisdiction=town, key="annual_campaign.priority_groups", value=[1, 2],
                                       effective_from=date(2026, 1, 1), source="未经校验写入"))
    login(client, "shahe_zhen")
    location = _open(client).headers["Location"]
    (opening,) = _tasks(client, "开启本乡镇年度信息采集和集中排查")
    assert _do(client, opening, {"opened_on": "2026-09-20"}).status_code == 302
    response = client.get(location)
    assert response.status_code == 200
    listed = response.get_data(as_text=True).split('id="to-visit"')[1]
    assert "重点戊" in listed and "重点：" not in listed
    assert "annual_campaign.priority_groups in force for 360702101 on 2026-09-20 is not usable" in caplog.text
    assert "第 1 个群体：应为对象" in caplog.text


def _campaign_opened_in_shahe(web_app, clock, heads: dict[str, list[str]]) -> int:
    """沙河镇's 2026 campaign, opened and confirmed, for the households ``heads`` (village → heads)."""
    with web_app.app_context():
        for village, names in heads.items():
            for head in names:
                register_household(household_data(village, head, 2), "system", clock)
        with transaction():
            case = open_campaign(db.session.scalar(select(Jurisdiction).filter_by(code="360702101")), 2026,
                                 "shahe_zhen", clock)
        (opening,) = db.session.scalars(select(HumanTask).filter_by(case_id=case.id, state="READY")).all()
        complete_task(opening.id, {"opened_on": to_local_date(clock.now()).isoformat()}, "shahe_zhen", clock)
        return case.id


def _collect_in_process(web_app, clock, head: str, user: str) -> None:
    with web_app.app_context():
        rows = db.session.scalars(select(HumanTask).filter_by(bpmn_id="cl_visit", state="READY")).all()
        (row,) = [r for r in rows if r.case.household.head.name == head]
        complete_task(row.id, sample_form_data("annual_collection.json", date(2026, 9, 20)), user, clock)


def test_a_county_officer_follows_every_township_by_township_and_village_from_the_navigation(web_app, client, clock):
    campaign_id = _campaign_opened_in_shahe(web_app, clock, {"沙河村": ["县看甲", "县看乙"], "华坪村": ["县看丙"]})
    _collect_in_process(web_app, clock, "县看甲", "shahe_cun")
    login(client, "zhanggong_xian")
    home = client.get("/inbox").get_data(as_text=True)
    assert '<a href="/campaigns/county">全县采集进度</a>' in home  # in the county officer's navigation
    page = client.get("/campaigns/county").get_data(as_text=True)
    assert "章贡区 2026 年度信息采集和集中排查进度" in page
    assert "2026-12-08（还剩 79 天）" in page and "2026-12-31 24:00（还剩 102 天）" in page
    townships = page.split('id="townships"')[1].split("</table>")[0]
    assert f'href="/campaigns/{campaign_id}">沙河镇</a>' in townships
    shahe = cells(townships, f'<a href="/campaigns/{campaign_id}">沙河镇</a>')
    assert shahe == {"状态": "采集排查中", "户数": "3", "已采集排查": "1", "已录入": "0", "待入户": "2", "待录入": "1",
                     "逾期": "0", "排查启动识别": "0", "启动风险消除": "0"}
    assert cells(townships, "水西镇")["状态"] == "未开启" and cells(townships, "水西镇")["户数"] == "0"
    villages = page.split('id="villages"')[1].split("</table>")[0]
    assert cells(villages, "沙河村")["待入户"] == "1" and cells(villages, "华坪村")["待入户"] == "1"
    listed = page.split('id="to-visit"')[1]
    assert "县看乙" in listed and "县看丙" in listed and "县看甲" not in listed and "沙河镇 华坪村" in listed
    assert "1 个乡镇" not in page and "已开启 1 个" in page
    clock.set(datetime(2026, 12, 9, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    late = client.get("/campaigns/county").get_data(as_text=True)
    assert "已过 1 天" in late
    assert cells(late.split('id="townships"')[1], f'<a href="/campaigns/{campaign_id}">沙河镇</a>')["逾期"] == "3"  # the entry too: 12月8日前完成信息录入 (004)
    assert client.get("/campaigns/county?year=2019").status_code == 404
    login(client, "ganzhou_shi")  # above a county: the counties to choose from
    chooser = client.get("/campaigns/county").get_data(as_text=True)
    assert 'href="/campaigns/county?county=360702"' in chooser
    assert "沙河镇" in client.get("/campaigns/county?county=360702").get_data(as_text=True)
    login(client, "shahe_zhen")
    assert client.get("/campaigns/county").status_code == 403
    assert "全县采集进度" not in client.get("/inbox").get_data(as_text=True)
    login(client, "longkou_shi")
    assert client.get("/campaigns/county?county=360702").status_code == 403  # another county's


def test_the_supervisor_counts_overdue_campaign_tasks_like_any_other(web_app, client, clock):
    _campaign_opened_in_shahe(web_app, clock, {"沙河村": ["督办甲", "督办乙"]})
    with web_app.app_context():
        household = register_household(household_data("华坪村", "督办识别", 2), "system", clock)
        open_identification(household.id, "cadre_screening", date(2026, 9, 20), "huaping_cun", clock)
        clock.set(datetime(2026, 12, 9, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
        wake_due(clock.now(), clock)
        county = db.session.scalar(select(Jurisdiction).filter_by(code="360702"))
        overview = overdue_overview(county, clock.now())
        steps = {name: n for kind, name, n in overview.by_step if kind == "task"}
        procedures = dict(overview.by_procedure)
    assert steps["入户采集和排查"] == 2 and procedures["annual_collection"] == 2
    assert procedures["identification"] >= 1
    login(client, "zhanggong_dudao")
    page = client.get("/supervisor").get_data(as_text=True)
    tasks = int(re.search(r'id="total-tasks">(\d+)<', page).group(1))
    assert tasks == overview.tasks and tasks >= 3  # the campaign's two visits with the identification's task
    shahe = re.search(r'data-code="360702101" data-tasks="(\d+)"', page).group(1)
    assert int(shahe) == overview.tasks  # all in 沙河镇
    assert "入户采集和排查" in page and "督办甲" in page
    only = client.get("/supervisor?procedure=annual_collection").get_data(as_text=True)
    assert re.search(r'id="total-tasks">2<', only) and "督办识别" not in only.split("逾期最久的事项")[1].split("</section>")[0]


def test_a_risk_gone_screening_opens_the_elimination_on_the_task_page_or_is_refused_in_chinese(web_app, client, clock):
    with web_app.app_context():
        for head, housing in (("消除可", False), ("消除危房", True)):
            household = register_household(household_data("沙河村", head, 3, is_formerly_poor=True), "system", clock)
            drive_case(open_identification(household.id, "cadre_screening", date(2026, 9, 20), "system", clock).id,
                       clock)
            if housing:
                with transaction():
                    record_verified_guarantees(db.session.get(type(household), household.id), {"housing_unsafe": True},
                                               at=clock.now(), by="shahe_zhen", case_id=None)
        today = to_local_date(clock.now()).isoformat()
    _campaign_opened_in_shahe(web_app, clock, {})
    login(client, "shahe_cun")
    inbox = client.get("/inbox").get_data(as_text=True)
    by_head = {head: int(task) for task, head in re.findall(
        r'href="/tasks/(\d+)">入户采集和排查</a>.*?<td data-label="农户">\d+ (\S+)</td>', inbox, re.DOTALL)}
    assert set(by_head) == {"消除可", "消除危房"}
    fields = {"collected_on": today, "interview": "home_visit", "household_signed": "on", "collector_signed": "on",
              "income.household_size": "3", "income.wages": "36000", "screening": "risk_gone"}
    no_mode = _do(client, by_head["消除可"], fields)
    assert no_mode.status_code == 422 and "风险消除方式" in no_mode.get_data(as_text=True)
    unsafe = _do(client, by_head["消除危房"], {**fields, "elimination_mode": "assisted"})
    assert unsafe.status_code == 422
    assert "的“三保障”和饮水安全尚未保障（住房安全），不能标注风险消除" in unsafe.get_data(as_text=True)
    done = _do(client, by_head["消除可"], {**fields, "elimination_mode": "assisted"})
    assert done.status_code == 302
    with web_app.app_context():
        eliminations = db.session.scalars(select(Case).filter_by(procedure="elimination")).all()
        assert [(c.household.head.name, c.status) for c in eliminations] == [("消除可", "running")]
    assert "民主评议" in client.get("/inbox").get_data(as_text=True)


def test_the_area_screening_is_offered_only_to_who_may_open_it(client):
    login(client, "shahe_zhen")  # a township officer: /campaigns/area answers 403
    assert "/campaigns/area" not in client.get("/campaigns").get_data(as_text=True)
    assert client.get("/campaigns/area").status_code == 403
    login(client, "zhanggong_xian")
    assert 'href="/campaigns/area"' in client.get("/campaigns").get_data(as_text=True)


def _campaign_task_pages(web_app, client, clock) -> dict[str, str]:
    """The opener's task page (shahe_zhen) and a household's 入户采集和排查 page (shahe_cun) of 沙河镇's 2026 campaign."""
    with web_app.app_context():
        register_household(household_data("沙河村", "时段户", 2), "system", clock)
        with transaction():
            case = open_campaign(db.session.scalar(select(Jurisdiction).filter_by(code="360702101")), 2026,
                                 "shahe_zhen", clock)
        (opening,) = db.session.scalars(select(HumanTask).filter_by(case_id=case.id, state="READY")).all()
        opening_id = opening.id
    login(client, "shahe_zhen")
    pages = {"open": client.get(f"/tasks/{opening_id}").get_data(as_text=True)}
    with web_app.app_context():
        complete_task(opening_id, {"opened_on": "2026-09-20"}, "shahe_zhen", clock)
        (visit,) = db.session.scalars(select(HumanTask).filter_by(bpmn_id="cl_visit", state="READY")).all()
        visit_id = visit.id
    login(client, "shahe_cun")
    pages["visit"] = client.get(f"/tasks/{visit_id}").get_data(as_text=True)
    return pages


def test_the_campaign_tasks_explain_their_deadline_as_once_a_year(web_app, client, clock):
    """Review 22, finding 8: the 12-08 limit (004 四, policy annual_campaign.entry_by) was explained “每月 8 日前：
    2026-12 的期限为 2026-12-08”, which an official reads as a monthly deadline."""
    for what, page in _campaign_task_pages(web_app, client, clock).items():
        explanation = re.search(r'<p class="hint deadline-explanation">([^<]*)</p>', page)
        assert explanation, what
        assert explanation.group(1) == "每年 12 月 8 日前：2026 年的期限为 2026-12-08，截止 2026-12-08 24:00（节假日不顺延）。", what


def test_the_campaign_tasks_say_this_years_income_window_and_moment_from_policy(web_app, client, clock):
    """Review 22, finding 9: the collection asked for 年度家庭收入（统计时段内）and the opener said “确认本年度的收入统计时段和
    时点后开启”, but neither page said which (004 一（一）: 10-01 of the year before to 09-30, state at 09-30 24 时 —
    policy parameters annual_campaign.window and annual_campaign.moment)."""
    with web_app.app_context():  # 沙河镇 set another window and moment: the pages say the place's own
        township = db.session.scalar(select(Jurisdiction).filter_by(code="360702101"))
        for key, value in (("annual_campaign.window", {"start": "11-01", "end": "10-31"}),
                           ("annual_campaign.moment", "10-31")):
            db.session.add(PolicyParameter(jurisdiction=township, key=key, value=value,
                                           effective_from=date(2026, 1, 1), source="测试：本镇另定统计时段和时点"))
        db.session.commit()
    pages = _campaign_task_pages(web_app, client, clock)
    instructions = {what: re.search(r'<p class="instructions" id="instructions">([^<]*)</p>', page).group(1)
                    for what, page in pages.items()}
    assert instructions["open"].startswith("确认本年度的收入统计时段（2025-11-01 至 2026-10-31）和时点（2026-10-31 24 时）后开启")
    assert "2026-12-08 前完成录入并汇总上报" in instructions["open"]
    assert instructions["visit"].startswith("按统计时段 2025-11-01 至 2026-10-31 采集收入（务工时间同一时段），"
                                            "按时点 2026-10-31 24 时采集健康、在校等状态")
    assert not any("{{" in text or "未设定" in text for text in instructions.values())
