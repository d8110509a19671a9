"""Printable publicity lists and announcements (公示公告): who may print them, which households each
holds, and privacy (001 Q47): no ID number, phone number or health status on any list, ever."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from engine.cases.lifecycle import complete_task, open_elimination, open_identification, wake_due
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.models import AuditEvent, Case, HumanTask, Jurisdiction, Notice, PolicyParameter
from engine.core.transaction import transaction
from engine.demo import drive_case, official_for, sample_form_data
from engine.households.register import register_household
from engine.policy.check import OPTIONAL_BY_CODE, PUBLICITY
from engine.publicity.lists import (
    PHONE_BLANK,
    PHONE_KEY,
    announcement_template,
    approved_entries,
    entries_for,
    is_private,
    not_in_force,
    parse_template,
    public_columns,
    publicity_list,
    source_gaps,
    step_posting,
    templates,
)
from tests.bdd.officials import household_data
from tests.factories import statements_of
from tests.webclient import HttpBrowser, login, post_form, serve
from timers.calendar import to_local_date

CST = ZoneInfo("Asia/Shanghai")
SHAHE_CUN, ZHANGGONG = "360702101201", "360702"
HEALTH = "尘肺病三期"
PHONE, CONTACT_PHONE = "13811112222", "13977776666"


def _sensitive_household(clock) -> tuple[int, list[str]]:
    data = household_data("沙河村", "公示甲", 3, group_name="一组", contact_phone=PHONE, monitoring_contact="李联系")
    data["members"][0]["health_status"] = HEALTH
    data["members"][1]["health_status"] = "残疾二级"
    household = register_household(data, "shahe_cun", clock)
    return household.id, [m["id_number"] for m in data["members"]]


@pytest.fixture
def cases(web_app, clock):
    """公示甲 identified (with its health status written into the application's free text), 公示乙 at
    village publicity, 公示丙 not yet posted."""
    with web_app.app_context():
        first, ids = _sensitive_household(clock)
        case = open_identification(first, "self_application", date(2026, 9, 20), "shahe_cun", clock)
        task = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
        complete_task(task.id, {"applied_on": "2026-09-20", "all_members_signed": True, "risk_types": ["illness"],
                                "risk_description": f"户主患{HEALTH}，电话{PHONE}"}, "shahe_cun", clock)
        drive_case(case.id, clock)
        second = register_household(household_data("沙河村", "公示乙", 2), "shahe_cun", clock)
        drive_case(open_identification(second.id, "self_application", date(2026, 9, 26), "shahe_cun", clock).id,
                   clock, until="张贴村级公示")
        third = register_household(household_data("沙河村", "公示丙", 2), "shahe_cun", clock)
        open_identification(third.id, "self_application", date(2026, 9, 26), "shahe_cun", clock)
        return {"ids": ids}


def _department_login(app, client):
    return login(client, "zhanggong_yibao")  # the demo login of 章贡区医保局 (a department officer)


def _page(client, template_id: str, code: str = SHAHE_CUN) -> str:
    response = client.get(f"/publicity/{template_id}?j={code}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("url", ["/publicity", "/publicity/zhanggong_a04_village_initial_list"])
def test_login_is_required(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_role_without_publicity_work_is_refused(web_app, client):
    _department_login(web_app, client)
    assert client.get("/publicity").status_code == 403
    assert client.get("/publicity/zhanggong_a04_village_initial_list").status_code == 403


def test_another_jurisdiction_is_forbidden(client):
    login(client, "huaping_cun")
    assert client.get(f"/publicity?j={SHAHE_CUN}").status_code == 403
    assert client.get(f"/publicity/zhanggong_a04_village_initial_list?j={SHAHE_CUN}").status_code == 403
    assert client.get("/publicity/zhanggong_a10_approval_announcement?j=370681").status_code == 403


def test_unknown_lists_and_bad_dates(client):
    login(client, "shahe_cun")
    assert client.get("/publicity/no_such_list").status_code == 404
    bad = client.get("/publicity/zhanggong_a04_village_initial_list?from=yesterday")
    assert bad.status_code == 400
    assert "“日期自”日期格式应为 年-月-日，如 2026-09-10" in bad.get_data(as_text=True)  # the field's label, not "from"


# ---------------------------------------------------------------- the lists


def test_the_index_lists_every_template_with_its_households(client, cases):
    html = login(client, "shahe_cun").get("/publicity").get_data(as_text=True)
    for template in templates().values():
        assert f"/publicity/{template.id}?j={SHAHE_CUN}" in html
    assert "沙河村“三类人群”初选名单公示" in html and "沙河镇沙河村初选拟消除致贫风险" in html
    levels = re.findall(r'<td data-label="层级">([^<]*)</td>', html)
    assert set(levels) == {"村级", "乡镇级", "县级"}  # each template's level by its label (JurisdictionLevel)


def _sheets(html: str) -> list[str]:
    """The printed sheets (一张公示) of a list page, in their order."""
    parts = html.split('<article class="sheet"')[1:]
    return [part[:part.index("</article>")] for part in parts]


def test_the_village_list_holds_the_posted_cases_with_names_period_and_date(client, cases):
    html = _page(login(client, "shahe_cun"), "zhanggong_a04_village_initial_list")
    assert "沙河村“三类人群”初选名单公示" in html and "江西省赣州市章贡区沙河镇沙河村" in html
    assert "公示甲" in html and "公示乙" in html and "公示丙" not in html
    assert "沙河村委会（盖章）" in html
    assert "边缘易致贫户" in html and "因病" in html and "15000.00" in html  # category, A27, A33
    assert "公示甲家属1" in html and 'rowspan="3"' in html  # one row per member, household cells merged


def test_households_posted_on_different_days_are_printed_one_sheet_per_day_signed_that_day(client, cases):
    """公示乙 posted on 09-26, 公示甲 on 09-20: two sheets, the latest first, each with its own period (Jiangxi's 5 days
    from its posting, 001 Q42), its own 序号 and total, and signed (落款) on its posting day — never one period
    "09-20 至 09-26 张贴" for both, signed on the day it is printed."""
    html = _page(login(client, "shahe_cun"), "zhanggong_a04_village_initial_list")
    later, earlier = _sheets(html)
    assert 'id="sheet-2026-09-26"' in later and "公示乙" in later and "公示甲" not in later
    assert "公示期：2026-09-26 张贴，至 2026-10-01 24:00 止（起始日不计入）" in later and "2026年9月26日" in later
    assert 'id="sheet-2026-09-20"' in earlier and "公示甲" in earlier and "公示乙" not in earlier
    assert "公示期：2026-09-20 张贴，至 2026-09-25 24:00 止（起始日不计入）" in earlier and "2026年9月20日" in earlier
    for sheet in (later, earlier):
        assert '<td class="num">1</td>' in sheet or 'class="num">1<' in sheet
        assert "共 1 户。" in sheet and "请从即日起5日内向村委会提出意见" in sheet
    assert " 至 2026-09-26 张贴" not in html
    chooser = html[html.index('id="sheets"'):]
    assert "分 2 天张贴" in chooser and f'?j={SHAHE_CUN}&amp;from=2026-09-20&amp;to=2026-09-20">2026-09-20（1 户）' in chooser
    one = _page(client, "zhanggong_a04_village_initial_list", f"{SHAHE_CUN}&from=2026-09-20&to=2026-09-20")
    assert len(_sheets(one)) == 1 and "公示甲" in one and 'id="sheets"' not in one


def test_the_village_list_proposes_sudden_hardship_for_a_sharp_fall_of_income(web_app, client, clock):
    """Before the county decides, the list shows the category the verification assessed — with the fall of income
    the verifier ticked, which is in the verification's form, not in the income record (001 Q10)."""
    with web_app.app_context():
        household = register_household(household_data("沙河村", "骤减丁", 2), "shahe_cun", clock)
        case = open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock)
        verification = sample_form_data("household_verification.json", date(2026, 9, 20))
        verification["income"] = {"household_size": 2, "wages": 30000, "business_income": 0, "property_income": 0,
                                  "transfer_income": 0, "business_expenses": 0, "sharply_reduced": True}
        drive_case(case.id, clock, until="张贴村级公示", data={"household_verification.json": verification})
    html = _page(login(client, "shahe_cun"), "zhanggong_a04_village_initial_list")
    row = html[html.index("骤减丁"):]
    assert "突发严重困难户" in row[:row.index("</tr>")]


def test_the_announcement_lists_identified_households_only(client, cases):
    html = _page(login(client, "zhanggong_xian"), "zhanggong_a10_approval_announcement", ZHANGGONG)
    assert "公示甲" in html and "公示乙" not in html and "共 1 户" in html
    assert "章贡区批准“三类人群”的公告" in html and "中共赣州市章贡区委农村工作领导小组" in html  # publicity.issuer


# ---------------------------------------------------------------- the household's own county


def test_a_longkou_announcement_names_longkou_and_its_own_authority(web_app, clock):
    with web_app.app_context():
        household = register_household(household_data("诸由观村", "龙口公告户", 2), "zhuyouguan_cun", clock)
        drive_case(open_identification(household.id, "self_application", date(2026, 9, 20), "zhuyouguan_cun",
                                       clock).id, clock)
    for username, code in (("zhuyouguan_cun", "370681104201"), ("longkou_shi", "370681")):
        client = login(web_app.test_client(), username)
        html = _page(client, "zhanggong_a10_approval_announcement", code)
        assert "龙口公告户" in html and "龙口市批准“三类人群”的公告" in html and "龙口市批复纳入“三类人群”名单" in html
        assert "龙口市扶贫开发领导小组办公室" in html and "章贡区" not in html and "赣州" not in html
        assert "章贡区" not in _page(client, "zhanggong_a17_elimination_announcement", code)
    index = login(web_app.test_client(), "zhuyouguan_cun").get("/publicity").get_data(as_text=True)
    assert "龙口市诸由观镇诸由观村“三类人群”享受帮扶措施及政策情况公示" in index and "章贡区批准" not in index


def test_above_a_county_the_announcement_names_the_county_of_its_households(web_app, cases):
    html = _page(login(web_app.test_client(), "ganzhou_shi"), "zhanggong_a10_approval_announcement", "3607")
    assert "公示甲" in html and "章贡区批准“三类人群”的公告" in html and "中共赣州市章贡区委农村工作领导小组" in html
    with web_app.app_context():
        province = db.session.scalar(select(Jurisdiction).filter_by(code="37"))
        empty = publicity_list("zhanggong_a10_approval_announcement", province, date(2026, 9, 20))
        assert empty.title == "____批准“三类人群”的公告" and empty.issuer == "____（盖章）"
        assert "请进入对应的县（区）打印" in empty.warnings[0]


def test_a_county_without_an_issuing_authority_leaves_it_blank_and_says_so(web_app, client):
    with web_app.app_context(), transaction():
        county = db.session.scalar(select(Jurisdiction).filter_by(code="210321"))
        db.session.execute(delete(PolicyParameter).where(PolicyParameter.key == "publicity.issuer",
                                                         PolicyParameter.jurisdiction_id == county.id))
    html = _page(login(client, "taian_xian"), "zhanggong_a10_approval_announcement", "210321")
    assert "台安县批准“三类人群”的公告" in html and "____（盖章）" in html
    assert "辽宁省鞍山市台安县没有配置政策参数 publicity.issuer（县级公告的落款机关），落款请手工填写。" in html


@pytest.mark.parametrize(("village", "cadre", "county_login", "issuer"), [
    ("沙河村", "shahe_cun", "zhanggong_xian", "中共赣州市章贡区委农村工作领导小组"),
    ("诸由观村", "zhuyouguan_cun", "longkou_shi", "龙口市扶贫开发领导小组办公室"),
    ("新华村", "xinhua_cun", "taian_xian", "台安县乡村振兴局"),
])
def test_a_notice_to_the_household_is_signed_by_its_own_county_authority(web_app, clock, village, cadre, county_login,
                                                                         issuer):
    """告知 as announcements (policy publicity.issuer): the diagram's words, then the household's county authority on a
    line of its own, stored with the notice (case page, API, the applicant's progress page)."""
    with web_app.app_context():
        household = register_household(household_data(village, f"{village}告知户", 2), cadre, clock)
        case = open_identification(household.id, "cadre_screening", date(2026, 9, 20), cadre, clock)
        drive_case(case.id, clock)
        (notice,) = db.session.scalars(select(Notice).filter_by(case_id=case.id)).all()
        entry = db.session.scalar(select(AuditEvent).filter_by(case_id=case.id, action="notice_sent"))
    assert notice.title == "防返贫监测对象纳入告知" and notice.body.startswith("您户已于 ")
    assert notice.body.endswith(f"每月回访。\n{issuer}") and entry.detail["body"] == notice.body
    others = {"中共赣州市章贡区委农村工作领导小组", "龙口市扶贫开发领导小组办公室", "台安县乡村振兴局"} - {issuer}
    page = login(web_app.test_client(), county_login).get(f"/cases/{case.id}").get_data(as_text=True)
    assert issuer in page and not any(other in page for other in others)


def test_a_notice_of_a_county_without_an_issuing_authority_is_sent_unsigned(web_app, clock, caplog):
    with web_app.app_context():
        with transaction():
            county = db.session.scalar(select(Jurisdiction).filter_by(code="210321"))
            db.session.execute(delete(PolicyParameter).where(PolicyParameter.key == "publicity.issuer",
                                                             PolicyParameter.jurisdiction_id == county.id))
        household = register_household(household_data("新华村", "未落款户", 2), "xinhua_cun", clock)
        case = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "xinhua_cun", clock)
        drive_case(case.id, clock)
        (notice,) = db.session.scalars(select(Notice).filter_by(case_id=case.id)).all()
    assert notice.body.endswith("每月回访。")  # the procedure is not held up; the policy check names what is missing
    assert "publicity.issuer is not configured" in caplog.text


def test_the_measures_publicity_shows_the_plans_measures(client, cases):
    html = _page(login(client, "shahe_cun"), "zhanggong_a11_measures_publicity")
    assert "公示甲" in html and "种植业" in html and "2026-09-26" in html  # measure, identification date


def test_elimination_lists_are_empty_until_a_risk_is_eliminated(client, cases):
    login(client, "shahe_zhen")
    for template_id in ("zhanggong_a12_village_elimination_list", "zhanggong_a14_township_elimination_list",
                        "zhanggong_a17_elimination_announcement"):
        html = _page(client, template_id, "360702101")
        assert "暂无符合条件的农户" in html and "公示甲" not in html


@pytest.fixture
def eliminating(web_app, clock):
    """消除户, identified in January 2026, revisited monthly for seven months with stable income, then put
    into risk elimination (帮扶消除) by the township; stopped once the village publicity is posted."""
    clock.set(datetime(2026, 1, 10, 9, 0, tzinfo=CST))
    with web_app.app_context():
        data = household_data("沙河村", "消除户", 3, is_formerly_poor=True, contact_phone=PHONE)
        data["members"][0]["health_status"] = HEALTH
        household = register_household(data, "shahe_cun", clock)
        drive_case(open_identification(household.id, "cadre_screening", date(2026, 1, 10), "shahe_cun", clock).id,
                   clock)
        followup = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="followup"))
        for _ in range(7):
            row = db.session.scalar(select(HumanTask).filter_by(case_id=followup.id, state="READY"))
            complete_task(row.id, sample_form_data(row.form, to_local_date(clock.now()), row.case), "shahe_cun", clock)
            local = clock.now().astimezone(CST)
            clock.set(datetime(local.year + local.month // 12, local.month % 12 + 1, 1, 8, tzinfo=CST))
            wake_due(clock.now(), clock)
        case = open_elimination(household.id, "assisted", "shahe_zhen", clock)
        drive_case(case.id, clock, until="张贴村级公示（风险消除）")
        return case.id, [m["id_number"] for m in data["members"]]


def test_the_elimination_lists_follow_the_elimination_procedure(web_app, eliminating, clock):
    case_id, secrets = eliminating
    client = login(web_app.test_client(), "shahe_cun")
    village = _page(client, "zhanggong_a12_village_elimination_list")
    assert "消除户" in village and "帮扶消除" in village and "符合风险消除条件" in village
    assert "沙河镇沙河村初选拟消除致贫风险“三类人群”的公示" in village
    assert "消除户" not in _page(client, "zhanggong_a17_elimination_announcement")
    assert "消除户" in _page(client, "zhanggong_a10_approval_announcement")  # still monitored
    with web_app.app_context():
        review = {"income": {"household_size": 3, "wages": 60000, "business_income": 0, "property_income": 0,
                             "transfer_income": 0, "business_expenses": 0}}
        drive_case(case_id, clock, data={"elimination_review.json": review})
    # 江西 since 2023 publicises in the village only (001 Q41/Q42/Q46): no township list, no township period
    township = _page(client, "zhanggong_a14_township_elimination_list")
    assert "消除户" not in township and 'class="period"' not in township and "暂无符合条件的农户" in township
    assert ('<p class="hint no-print" id="scope-note">江西省赣州市章贡区沙河镇沙河村现行的风险消除流程（风险消除（鞍山市方案、'
            "江西省2023年指南））没有乡镇级公示，不再生成本公示及其公示期") in township
    # the village list as it was posted: the income the township verified afterwards is not on it
    posted = _page(client, "zhanggong_a12_village_elimination_list")
    assert "消除户" in posted and "60000.00" not in posted
    announcement = _page(client, "zhanggong_a17_elimination_announcement")
    assert "消除户" in announcement and "帮扶消除" in announcement and "60000.00" in announcement
    assert "消除户" not in _page(client, "zhanggong_a10_approval_announcement")
    for page in (village, township, announcement):
        assert not [s for s in [*secrets, PHONE, HEALTH] if s in page]


def test_the_2021_township_list_holds_only_the_households_the_township_posted(web_app, clock, monkeypatch):
    """章贡区's 2021 procedure (镇级公示 after the township's review, 002 四（二）): 镇级甲 passes and is posted; 镇级乙's
    latest revisit found a new risk after the listing, so the recheck postponed it although the township approved
    (001 Q30): never on the township's 拟消除 list. The period is the recorded 镇级公示 timer."""
    from engine.elimination import eligibility

    risky: set[int] = set()
    monkeypatch.setattr(eligibility, "histories", lambda ids: {i: eligibility.History(
        date(2021, 10, 10), [{"income_stable": True, "new_risk": i in risky}] * 6) for i in ids})
    clock.set(datetime(2022, 6, 1, 9, 0, tzinfo=CST))
    review = {"elimination_review.json": {"income": {"household_size": 3, "wages": 60000, "business_income": 0,
                                                     "property_income": 0, "transfer_income": 0,
                                                     "business_expenses": 0}}}
    with web_app.app_context():
        cases = {}
        for head in ("镇级甲", "镇级乙"):
            household = register_household(household_data("沙河村", head, 3), "shahe_cun", clock)
            with transaction():
                household.status, household.category, household.identified_on = "monitored", "marginal", date(2022, 1, 5)
            cases[head] = open_elimination(household.id, "assisted", "shahe_zhen", clock)
            assert cases[head].process_version.process_key == "elimination_zhanggong_2021"
        risky.add(cases["镇级乙"].household_id)  # 每月回访: a new risk, after the township listed it
        drive_case(cases["镇级乙"].id, clock, data=review)
        drive_case(cases["镇级甲"].id, clock, until="张贴镇级公示（风险消除）", data=review)
        assert db.session.get(Case, cases["镇级乙"].id).outcome == "postponed"
    client = login(web_app.test_client(), "shahe_zhen")
    township = _page(client, "zhanggong_a14_township_elimination_list", SHAHE_ZHEN)
    assert "镇级甲" in township and "镇级乙" not in township and "共 1 户。" in township
    assert "60000.00" in township and 'id="scope-note"' not in township  # posted after the township verified
    posted, ends = re.search(r"公示期：(\S+) 张贴，至 (\S+) 24:00 止", township).groups()  # 镇级公示 7 days (002)
    assert date.fromisoformat(ends) - date.fromisoformat(posted) == timedelta(days=7) and posted.startswith("2022-06")
    clock.set(datetime(2026, 9, 20, 9, 0, tzinfo=CST))  # 江西 2023: no township publicity, the 2022 one still listed
    township = _page(client, "zhanggong_a14_township_elimination_list", SHAHE_ZHEN)
    assert "镇级甲" in township and 'id="scope-note"' in township
    index = client.get(f"/publicity?j={SHAHE_ZHEN}").get_data(as_text=True)
    assert index.count("现行流程无此公示") == 1  # 附件7: nobody ever posted; 附件14 lists 镇级甲


def test_the_2021_township_review_list_holds_the_households_posted_in_town_and_village(web_app, clock):
    """章贡区's 2021 identification (七步工作法, 002 四（四）): 镇审甲, approved by the township, is posted at 在镇、村张贴公示
    and on 附件7 with its 镇村两级 period; 镇审乙, refused by the township, is not; 镇审丙, approved and not yet posted,
    is on the list to be posted now (its 张贴 step, 仅列待张贴的农户), not on the posted one."""
    clock.set(datetime(2022, 6, 1, 9, 0, tzinfo=CST))
    with web_app.app_context():
        for head, decision, until in (("镇审甲", "approve", "在镇、村张贴公示"), ("镇审乙", "reject", "镇级审核"),
                                      ("镇审丙", "approve", "镇级审核")):
            household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
            case = open_identification(household.id, "cadre_screening", to_local_date(clock.now()), "shahe_cun", clock)
            assert case.process_version.process_key == "identification_zhanggong_2021"
            review = {"review_decision.json": {"decision": decision, "reason": "家庭收入高于监测范围"}}
            drive_case(case.id, clock, until=until, data=review)
    client = login(web_app.test_client(), "shahe_zhen")
    township = _page(client, "zhanggong_a07_township_review_list", SHAHE_ZHEN)
    assert "镇审甲" in township and "镇审乙" not in township and "镇审丙" not in township
    assert 'id="scope-note"' not in township
    pending = _page(client, "zhanggong_a07_township_review_list", f"{SHAHE_ZHEN}&pending=1")
    assert "镇审丙" in pending and "镇审甲" not in pending and "镇审乙" not in pending
    posted, ends = re.search(r"公示期：(\S+) 张贴，至 (\S+) 24:00 止", township).groups()  # 镇村两级公示 7 days (002)
    assert date.fromisoformat(ends) - date.fromisoformat(posted) == timedelta(days=7)


def test_the_date_filter(client, cases):
    login(client, "shahe_cun")
    html = client.get(f"/publicity/zhanggong_a04_village_initial_list?j={SHAHE_CUN}&from=2026-09-21").get_data(
        as_text=True)
    assert "公示乙" in html and "公示甲" not in html


def test_a_date_range_that_ends_before_it_starts_is_refused_on_the_form(client, cases):
    """日期自 2026-12-01 至 2026-01-01: an error on the form, the dates kept to correct, and no empty sheet that would
    read as no household."""
    login(client, "shahe_cun")
    answer = client.get(f"/publicity/zhanggong_a04_village_initial_list?j={SHAHE_CUN}&from=2026-12-01&to=2026-01-01")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert ('<p class="error" id="err-dates" role="alert">截止日期 2026-01-01 早于起始日期 2026-12-01，'
            "请改正“至”或“日期自”后再筛选</p>") in html
    assert 'value="2026-12-01" aria-invalid="true"' in html and 'value="2026-01-01" aria-invalid="true"' in html
    assert "暂无符合条件的农户" not in html and 'class="sheet"' not in html
    same_day = client.get(f"/publicity/zhanggong_a04_village_initial_list?j={SHAHE_CUN}&from=2026-09-21&to=2026-09-21")
    assert same_day.status_code == 200 and "err-dates" not in same_day.get_data(as_text=True)


def test_the_page_prints_without_navigation(client, cases):
    html = _page(login(client, "shahe_cun"), "zhanggong_a04_village_initial_list")
    assert "publicity.css" in html and 'class="no-print toolbar"' in html


# ---------------------------------------------------------------- privacy


def test_no_id_number_phone_or_health_status_on_any_publicity_page(web_app, cases):
    secrets = [*cases["ids"], PHONE, HEALTH, "残疾二级"]
    for username, code in (("shahe_cun", SHAHE_CUN), ("zhanggong_xian", ZHANGGONG)):
        client = login(web_app.test_client(), username)
        pages = [client.get(f"/publicity?j={code}").get_data(as_text=True)]
        pages += [_page(client, t, code) for t in templates()]
        assert any("公示甲" in page for page in pages)
        for page in pages:
            leaked = [s for s in secrets if s in page]
            assert not leaked, f"private data on a publicity page: {leaked}"


def test_private_columns_are_dropped_even_if_a_template_lists_them():
    raw = {"id": "t", "stage": "identification", "kind": "公示", "level": "village", "title": "____村名单",
           "columns": [{"header": "姓名", "form_key": "name"},
                       {"header": "身份证号", "form_key": "id_number"},
                       {"header": "健康状况", "form_key": "health_status"},
                       {"header": "联系电话", "form_key": "phone"},
                       {"header": "监测联系人", "form_key": "contact"},
                       {"header": "联系人电话", "form_key": "contact.contact_phone"},
                       {"header": "银行账号", "form_key": None},
                       {"header": "家庭人口数", "form_key": "household_size"},
                       {"header": "健康帮扶", "form_key": "health_support", "code": "A45"}]}
    assert [c.header for c in parse_template(raw).columns] == ["姓名", "家庭人口数", "健康帮扶"]
    assert [c.form_key for c in public_columns(raw["columns"])] == ["name", "household_size", "health_support"]
    assert is_private({"header": "户主身份证号码", "form_key": None})


def test_the_seed_templates_pass_the_filter_unchanged():
    import json

    from engine.core.config import project_dir

    raw = json.loads((project_dir("policy") / "publicity_fields.json").read_text(encoding="utf-8"))
    for entry in raw["templates"]:
        assert len(templates()[entry["id"]].columns) == len(entry["columns"])


# ---------------------------------------------------------------- the announcement a 公告 step posts (#16)

TAIAN = "210321"


def _ready_named(case_id: int, name: str) -> HumanTask:
    return db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY", name=name))


@pytest.fixture
def announcing(web_app, clock):
    """台安县 (identification: 县级审定, then 在县政府网站和村内公告 beside the assistance plan): 公告甲 and 公告乙
    approved by the county, 公告乙's announcement already posted; 公告丙 identified long before."""
    with web_app.app_context():
        ids = {}
        for head in ("公告丙", "公告甲", "公告乙"):
            household = register_household(household_data("新华村", head, 2), "xinhua_cun", clock)
            case = open_identification(household.id, "cadre_screening", to_local_date(clock.now()), "xinhua_cun", clock)
            drive_case(case.id, clock, until=None if head == "公告丙" else "县级审定")
            ids[head] = case.id
        posted = _ready_named(ids["公告乙"], "在县政府网站和村内公告")
        complete_task(posted.id, sample_form_data(posted.form, to_local_date(clock.now()), posted.case), "taian_xian", clock)
        task = _ready_named(ids["公告甲"], "在县政府网站和村内公告")
        assert db.session.get(Case, ids["公告甲"]).household.status != "monitored"  # identified only at the end
        return {"task": task.id, "cases": ids, "today": to_local_date(clock.now())}


def test_the_announcement_lists_the_household_just_approved(web_app, announcing):
    client = login(web_app.test_client(), "taian_xian")
    html = _page(client, "zhanggong_a10_approval_announcement", TAIAN)
    assert "公告甲" in html and "公告乙" in html and "公告丙" in html
    sheets = _sheets(html)  # dated by the county's decision (审定日期 = 识别日期), the latest first
    days = [re.search(r'id="sheet-([0-9-]+)"', sheet).group(1) for sheet in sheets]
    assert days[0] == str(announcing["today"]) and days == sorted(days, reverse=True)
    assert all(f"公告期：{day} 张贴" in sheet for day, sheet in zip(days, sheets, strict=True))
    assert sum(int(n) for n in re.findall(r"共 (\d+) 户。", html)) == 3
    pending = client.get(f"/publicity/zhanggong_a10_approval_announcement?j={TAIAN}&pending=1").get_data(as_text=True)
    assert "公告甲" in pending and "公告乙" not in pending and "公告丙" not in pending and "共 1 户" in pending
    assert "公告环节尚未办理的农户，即本次公告要张贴的农户" in pending


def test_the_announcement_task_shows_what_it_posts_and_why_it_has_no_due_date(web_app, announcing):
    client = login(web_app.test_client(), "taian_xian")
    html = client.get(f"/tasks/{announcing['task']}").get_data(as_text=True)
    start = html.index('id="posting-list"')
    listed = html[start:html.index("</div>", start)]
    assert "本次公告名单（1 户）" in listed and "公告甲" in listed and "本户" in listed and "含本户" in listed
    assert "公告乙" not in listed and "公告丙" not in listed
    assert f"/publicity/zhanggong_a10_approval_announcement?j={TAIAN}&amp;pending=1" in listed
    assert "期限 不设期限" in html and 'id="due-note"' in html and "为何不设期限" in html
    assert 'id="instructions"' in html and "公告审定结果" in html  # what the diagram asks for at this step


def test_an_announced_household_leaves_the_pending_list_and_a_postponed_one_leaves_the_announcement(
        web_app, announcing, clock):
    with web_app.app_context():
        drive_case(announcing["cases"]["公告甲"], clock)
        assert db.session.get(Case, announcing["cases"]["公告甲"]).household.status == "monitored"
    client = login(web_app.test_client(), "taian_xian")
    pending = client.get(f"/publicity/zhanggong_a10_approval_announcement?j={TAIAN}&pending=1").get_data(as_text=True)
    assert "暂无符合条件的农户" in pending
    assert "公告甲" in _page(client, "zhanggong_a10_approval_announcement", TAIAN)  # now as identified


@pytest.fixture
def approved_elimination(web_app, eliminating, clock):
    """消除户's risk elimination (江西省2023年指南: 民主评议, 村级公示, 乡镇审核, 县级审定) approved by the county, its
    公告 in each village to be posted."""
    case_id, secrets = eliminating
    with web_app.app_context():
        review = {"income": {"household_size": 3, "wages": 60000, "business_income": 0, "property_income": 0,
                             "transfer_income": 0, "business_expenses": 0}}
        drive_case(case_id, clock, until="县级审定", data={"elimination_review.json": review})
        approval = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, name="县级审定"))
        assert approval.form == "elimination_approval.json"
        task = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))
        assert task.name == "在各村公告"
        return task.id, approval.form_data["decided_on"], secrets


def test_the_elimination_announcement_lists_the_household_the_county_approved(web_app, approved_elimination):
    task_id, decided_on, secrets = approved_elimination
    client = login(web_app.test_client(), "shahe_zhen")
    for url in ("/publicity/zhanggong_a17_elimination_announcement?j=360702101",
                "/publicity/zhanggong_a17_elimination_announcement?j=360702101&pending=1"):
        html = client.get(url).get_data(as_text=True)
        assert "消除户" in html and "帮扶消除" in html and decided_on in html and "共 1 户" in html, url
        assert "60000.00" in html  # A33 as the township verified it
        assert not [s for s in [*secrets, PHONE, HEALTH] if s in html]
    page = login(web_app.test_client(), "zhanggong_xian").get(f"/tasks/{task_id}").get_data(as_text=True)
    listed = page[page.index('id="posting-list"'):]
    assert "本次公告名单（1 户）" in listed and "消除户" in listed and "/publicity/zhanggong_a17_elimination_announcement" in listed
    note = page[page.index('id="due-note"'):]
    assert "种子文件未规定风险消除公告的张贴时限" in note and "不设期限" in note


def test_the_announcements_households_are_read_in_the_same_statements_however_many(web_app, announcing, clock):
    """The county's approvals, their cases, households and publicity ends: one statement each, not one per
    household (a county announcement lists hundreds)."""
    with web_app.app_context():
        county = db.session.scalar(select(Jurisdiction).filter_by(code=TAIAN))
        source = next(s for s in announcement_template("identification").sources if s.kind == "approval")
        before = approved_entries(county, source)
        db.session.expire_all()
        few = statements_of(lambda: approved_entries(county, source))
        task = db.session.get(HumanTask, announcing["task"])
        posting = len(step_posting(task).households)
        db.session.expire_all()
        task = db.session.get(HumanTask, announcing["task"])
        page = statements_of(lambda: step_posting(task))  # the 公告 task page's list
        for head in ("公告丁", "公告戊"):
            household = register_household(household_data("新华村", head, 2), "xinhua_cun", clock)
            case = open_identification(household.id, "cadre_screening", to_local_date(clock.now()), "xinhua_cun", clock)
            drive_case(case.id, clock, until="县级审定")
        after = approved_entries(county, source)
        db.session.expire_all()
        assert len(after) == len(before) + 2
        assert statements_of(lambda: approved_entries(county, source)) == few
        task = db.session.get(HumanTask, announcing["task"])
        assert len(step_posting(task).households) == posting + 2
        db.session.expire_all()
        task = db.session.get(HumanTask, announcing["task"])
        assert statements_of(lambda: step_posting(task)) == page


# ---------------------------------------------------------------- where a list's households come from (名单来源)


def _raw_template(template_id: str) -> dict:
    import json

    from engine.core.config import project_dir

    raw = json.loads((project_dir("policy") / "publicity_fields.json").read_text(encoding="utf-8"))
    return next(t for t in raw["templates"] if t["id"] == template_id)


def test_a_list_holds_the_households_of_the_step_its_template_names(web_app, cases, clock):
    """The village list reads the step its template's ``households`` names: renamed there, the list follows it —
    and says the diagram in force has no such step."""
    raw = _raw_template("zhanggong_a04_village_initial_list")
    with web_app.app_context():
        village = db.session.scalar(select(Jurisdiction).filter_by(code=SHAHE_CUN))
        today = to_local_date(clock.now())
        template = parse_template(raw)
        assert {e.household.head.name for e in entries_for(template, village)[0]} == {"公示甲", "公示乙"}
        assert source_gaps(template, village, today) == []
        raw["households"][0]["step"] = "renamed_post"
        renamed = parse_template(raw)
        assert entries_for(renamed, village)[0] == []
        gaps = source_gaps(renamed, village, today)
        assert len(gaps) == 1 and "post_publicity.json" in gaps[0] and "renamed_post" in gaps[0]
        assert "identification" in gaps[0] and "沙河村" in gaps[0]


def test_an_approval_is_listed_when_its_form_says_approved(web_app, announcing):
    """``when`` is the form's values: an announcement source asking for another decision lists nobody."""
    raw = _raw_template("zhanggong_a10_approval_announcement")
    with web_app.app_context():
        county = db.session.scalar(select(Jurisdiction).filter_by(code=TAIAN))
        approval = parse_template(raw).sources[1]
        assert {e.household.head.name for e in approved_entries(county, approval)} == {"公告甲", "公告乙"}
        raw["households"][1]["when"] = {"decision": "reject"}
        assert approved_entries(county, parse_template(raw).sources[1]) == []


LONGKOU_WITHOUT = {"zhanggong_a10_approval_announcement", "zhanggong_a17_elimination_announcement"}
TOWNSHIP_LISTS = {"zhanggong_a07_township_review_list", "zhanggong_a14_township_elimination_list"}


def test_the_seed_templates_name_steps_the_demo_counties_have(web_app):
    """Every source step is in 章贡区's and 台安县's diagrams. 龙口市's procedures have no county approval (the city
    enters the result), and those lists say so. The township publicity (章贡区 2021's 镇级公示) is no gap where the
    diagrams in force have none — 江西 since 2023 (001 Q42), 辽宁, 山东 —: those lists say it is not posted there."""
    with web_app.app_context():
        for code, missing in ((ZHANGGONG, set()), (TAIAN, set()), ("370681", LONGKOU_WITHOUT)):
            county = db.session.scalar(select(Jurisdiction).filter_by(code=code))
            gaps = {t.id: source_gaps(t, county, date(2026, 10, 1)) for t in templates().values()}
            assert {key for key, found in gaps.items() if found} == missing, (code, gaps)
            scoped = {t.id for t in templates().values() if not_in_force(t, county, date(2026, 10, 1))}
            assert scoped == TOWNSHIP_LISTS, code
        county = db.session.scalar(select(Jurisdiction).filter_by(code=ZHANGGONG))
        assert not any(not_in_force(t, county, date(2022, 10, 1)) for t in templates().values())  # 2021's 镇级公示


def test_a_template_of_an_unknown_stage_is_refused_naming_it():
    raw = _raw_template("zhanggong_a04_village_initial_list") | {"stage": "harvest"}
    with pytest.raises(FangpinError, match="公示模版 zhanggong_a04_village_initial_list 的 stage 应为 identification"):
        parse_template(raw)


@pytest.mark.parametrize(("change", "words"), [
    ({"from": "somewhere"}, ["from 应为", "step（完成的步骤）"]),
    ({"procedure": ""}, ["缺少 procedure"]),
    ({"form": None}, ["缺少 form"]),
    ({"date_field": None}, ["缺少 date_field"]),
    ({"from": "status", "status": "happy", "date": "identified_on"}, ["status 应为", "monitored", "'happy'"]),
    ({"from": "status", "status": "monitored", "date": "born_on"}, ["date 应为", "identified_on"]),
])
def test_a_bad_source_is_refused_naming_the_template(change, words):
    raw = _raw_template("zhanggong_a04_village_initial_list")
    raw["households"][0].update(change)
    with pytest.raises(FangpinError) as refused:
        parse_template(raw)
    message = str(refused.value)
    assert "zhanggong_a04_village_initial_list" in message and all(w in message for w in words), message


XINHUA_CUN = "210321100201"


def test_a_lists_rows_are_read_in_the_same_statements_however_many_households(web_app, announcing, clock):
    """The village list, the township list and the county announcement read their households' incomes and the
    verifications their categories are proposed from in one statement each, the monitoring line and decision table
    once, not once per household: a county announcement lists hundreds."""
    lists = (("zhanggong_a04_village_initial_list", XINHUA_CUN), ("zhanggong_a10_approval_announcement", TAIAN))
    with web_app.app_context():
        today = to_local_date(clock.now())
        places = {code: db.session.scalar(select(Jurisdiction).filter_by(code=code)) for _, code in lists}

        def printed(template_id: str, code: str):
            return publicity_list(template_id, places[code], today)

        before = {t: printed(t, code) for t, code in lists}
        counts = {}
        for template_id, code in lists:
            db.session.expire_all()
            counts[template_id] = statements_of(lambda t=template_id, c=code: printed(t, c))
        for head in ("公告丁", "公告戊"):
            household = register_household(household_data("新华村", head, 2), "xinhua_cun", clock)
            case = open_identification(household.id, "cadre_screening", to_local_date(clock.now()), "xinhua_cun", clock)
            drive_case(case.id, clock, until="县级审定")
        for template_id, code in lists:
            after = printed(template_id, code)
            assert after.households == before[template_id].households + 2, template_id
            texts = {row.cells[3].text: [cell.text for cell in row.cells] for row in after.rows if row.number}
            for head in ("公告丁", "公告戊"):  # their verified income and proposed category, as 公告甲's (the same data)
                assert texts[head][4:] == texts["公告甲"][4:] and "10000.00" in texts[head], (template_id, texts)
                assert texts[head][-1] == "边缘易致贫户", (template_id, texts)
            db.session.expire_all()
            assert statements_of(lambda t=template_id, c=code: printed(t, c)) == counts[template_id], template_id


def _eliminations(heads: tuple[str, ...], clock) -> list[int]:
    """Households of 沙河村 identified in January 2026 and revisited monthly for seven months, each put into
    risk elimination (帮扶消除) by the township: their elimination cases, not yet evaluated."""
    clock.set(datetime(2026, 1, 10, 9, 0, tzinfo=CST))
    households = []
    for head in heads:
        household = register_household(household_data("沙河村", head, 3, is_formerly_poor=True), "shahe_cun", clock)
        drive_case(open_identification(household.id, "cadre_screening", date(2026, 1, 10), "shahe_cun", clock).id,
                   clock)
        households.append(household.id)
    followups = [db.session.scalar(select(Case).filter_by(household_id=h, procedure="followup")) for h in households]
    for _ in range(7):
        for followup in followups:
            row = db.session.scalar(select(HumanTask).filter_by(case_id=followup.id, state="READY"))
            complete_task(row.id, sample_form_data(row.form, to_local_date(clock.now()), row.case), "shahe_cun", clock)
        local = clock.now().astimezone(CST)
        clock.set(datetime(local.year + local.month // 12, local.month % 12 + 1, 1, 8, tzinfo=CST))
        wake_due(clock.now(), clock)
    return [open_elimination(h, "assisted", "shahe_zhen", clock).id for h in households]


def test_the_elimination_lists_rows_are_read_in_the_same_statements_however_many_households(web_app, clock):
    """On the elimination lists, the mode each case proposes (帮扶消除, from its opening record) and the incomes
    the township verified are read in one statement each, not one per household."""
    lists = (("zhanggong_a12_village_elimination_list", SHAHE_CUN), ("zhanggong_a17_elimination_announcement", ZHANGGONG))
    review = {"income": {"household_size": 3, "wages": 60000, "business_income": 0, "property_income": 0,
                         "transfer_income": 0, "business_expenses": 0}}
    with web_app.app_context():
        first, *others = _eliminations(("消除甲", "消除乙", "消除丙"), clock)
        drive_case(first, clock, until="县级审定", data={"elimination_review.json": review})
        today = to_local_date(clock.now())
        places = {code: db.session.scalar(select(Jurisdiction).filter_by(code=code)) for _, code in lists}
        counts = {}
        for template_id, code in lists:
            assert publicity_list(template_id, places[code], today).households == 1, template_id
            db.session.expire_all()
            counts[template_id] = statements_of(lambda t=template_id, c=code: publicity_list(t, places[c], today))
        for case_id in others:
            drive_case(case_id, clock, until="县级审定", data={"elimination_review.json": review})
        for template_id, code in lists:
            printed = publicity_list(template_id, places[code], today)
            assert printed.households == 3, template_id
            for row in (r for r in printed.rows if r.number):  # the village posted before the township verified
                texts = [cell.text for cell in row.cells]
                assert "帮扶消除" in texts, (template_id, texts)
                assert ("60000.00" in texts and "20000.00" in texts) == (template_id != lists[0][0]), (template_id, texts)
            db.session.expire_all()
            assert statements_of(lambda t=template_id, c=code: publicity_list(t, places[c], today)) == counts[
                template_id], template_id


def test_a_list_without_households_yet_gives_the_objection_period_in_force(web_app, clock):
    """The seed's template says 7日内 (章贡区 2021); in force in 2026 is Jiangxi's 5 days (001 Q42), also before
    any household is posted."""
    with web_app.app_context():
        village = db.session.scalar(select(Jurisdiction).filter_by(code="360702101202"))  # 华坪村, nobody posted
        printed = publicity_list("zhanggong_a04_village_initial_list", village, to_local_date(clock.now()))
        (sheet,) = printed.sheets
        assert printed.households == 0 and "请从即日起5日内向村委会提出意见" in sheet.objection


# ---------------------------------------------------------------- 监督电话 (#10)

HUAPING_CUN, SHAHE_ZHEN = "360702101202", "360702101"


def _set_phone(client, key: str, value: str, code: str, on: date):
    return post_form(client, "/diagrams/parameters", {"key": key, "value": value, "jurisdiction": code,
                                                      "effective_from": on.isoformat(),
                                                      "source": "沙河镇人民政府 2026年9月 监督电话通知"})


def test_the_supervision_phone_is_the_places_own_number_or_a_blank_line_never_the_templates_words(
        web_app, cases, clock):
    """002 附件4 prints "监督电话：（12317、村书记联系电话）": 12317 as it is, the village secretary's number entered by
    village on the policy parameters page (publicity.village_supervision_phone); until it is, a blank line to fill in
    by hand and a note on screen — the words "村书记联系电话" are never printed. The township's list has its own."""
    today = to_local_date(clock.now())
    village = login(web_app.test_client(), "shahe_cun")
    html = _page(village, "zhanggong_a04_village_initial_list")
    assert _sheets(html) and all(f"监督电话：12317、{PHONE_BLANK}</p>" in sheet and "村书记联系电话" not in sheet
                                 for sheet in _sheets(html))
    assert ('<p class="flash error no-print">江西省赣州市章贡区沙河镇沙河村的村书记联系电话未填写，监督电话处已留空：'
            "请打印后手工填写，或请政策管理员在“政策参数”页的“公示公告 · 村级公示监督电话”中按村填写。</p>") in html
    editor = login(web_app.test_client(), "jiangxi_zhengce")
    refused = _set_phone(editor, PHONE_KEY.format(level="village"), "村书记电话", SHAHE_CUN, today)
    (said,) = re.findall(r'<p class="flash error" role="status">([^<]*)</p>', refused.get_data(as_text=True))
    assert refused.status_code == 422 and "村级公示监督电话" in said and "publicity." not in said and "格式不正确" in said
    assert f"监督电话：12317、{PHONE_BLANK}" in _page(village, "zhanggong_a04_village_initial_list")  # nothing saved
    assert _set_phone(editor, "publicity.village_supervision_phone", "0797-8123456", SHAHE_CUN, today).status_code == 302
    assert _set_phone(editor, "publicity.township_supervision_phone", "0797-8120001", SHAHE_ZHEN,
                      today).status_code == 302
    html = _page(village, "zhanggong_a04_village_initial_list")
    assert all("监督电话：12317、0797-8123456</p>" in sheet for sheet in _sheets(html))
    assert "未填写" not in html and PHONE not in html and CONTACT_PHONE not in html  # no household's phone
    elsewhere = _page(login(web_app.test_client(), "huaping_cun"), "zhanggong_a04_village_initial_list", HUAPING_CUN)
    assert f"监督电话：12317、{PHONE_BLANK}" in elsewhere and "0797-8123456" not in elsewhere  # by village
    township = _page(login(web_app.test_client(), "shahe_zhen"), "zhanggong_a07_township_review_list", SHAHE_ZHEN)
    assert all("监督电话：0797-8120001</p>" in sheet and "工作站电话" not in sheet for sheet in _sheets(township))


def test_the_configuration_check_describes_each_supervision_phone_the_lists_read():
    read = {PHONE_KEY.format(level=t.level) for t in templates().values() if t.supervision_phone}
    assert read == {f"{PUBLICITY}.{name}" for name in OPTIONAL_BY_CODE[PUBLICITY]} == {
        "publicity.village_supervision_phone", "publicity.township_supervision_phone"}


# ---------------------------------------------------------------- the village's posting step (#18)


def test_the_village_posting_task_shows_and_links_the_list_it_is_to_print(web_app, clock):
    """张贴村级公示 of 沙河村 (as the county's 公告 task): the households whose posting is still to be done there, this
    one among them, and a link to that list — one sheet, posted and signed today, for the days in force (5, 001
    Q42) — not the households already posted nor another village's."""
    with web_app.app_context():
        ids = {}
        for head, name, cadre in (("待张贴甲", "沙河村", "shahe_cun"), ("待张贴乙", "沙河村", "shahe_cun"),
                                  ("华坪待张贴", "华坪村", "huaping_cun")):
            household = register_household(household_data(name, head, 2), cadre, clock)
            case = open_identification(household.id, "cadre_screening", to_local_date(clock.now()), cadre, clock)
            drive_case(case.id, clock, until="民主评议")
            ids[head] = case.id
        posted = register_household(household_data("沙河村", "已张贴户", 2), "shahe_cun", clock)
        drive_case(open_identification(posted.id, "cadre_screening", to_local_date(clock.now()), "shahe_cun",
                                       clock).id, clock, until="张贴村级公示")
        task = _ready_named(ids["待张贴甲"], "张贴村级公示")
        today = to_local_date(clock.now())
    client = login(web_app.test_client(), "shahe_cun")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    start = page.index('id="posting-list"')
    listed = page[start:page.index("</div>", start)]
    assert "本次公示名单（2 户）" in listed and "待张贴甲" in listed and "待张贴乙" in listed and "本户" in listed
    assert "华坪待张贴" not in listed and "已张贴户" not in listed and "含本户" in listed
    link = f"/publicity/zhanggong_a04_village_initial_list?j={SHAHE_CUN}&amp;pending=1"
    assert f'href="{link}">打印本次公示名单</a>' in listed
    printed = _page(client, "zhanggong_a04_village_initial_list", f"{SHAHE_CUN}&pending=1")
    (sheet,) = _sheets(printed)
    assert "待张贴甲" in sheet and "待张贴乙" in sheet and "已张贴户" not in sheet and "华坪待张贴" not in sheet
    assert f"公示期：{today} 张贴，至 {today + timedelta(days=5)} 24:00 止" in sheet and "请从即日起5日内" in sheet
    assert f"{today.year}年{today.month}月{today.day}日" in sheet and "共 2 户。" in sheet
    assert "本名单为张贴环节尚未办理的农户，即本次要张贴的农户" in printed
    assert 'name="pending" value="1" checked> 仅列待张贴的农户（张贴环节尚未办理）' in printed


# ---------------------------------------------------------------- one kind of blank (#25)


def test_above_a_village_every_title_leaves_its_blanks_in_one_style(web_app, clock):
    """附件11 above a village: "章贡区____镇（街道）____村…" over the sheet and over its table alike, not
    "_____镇" in one and "XX镇" in the other."""
    with web_app.app_context():
        county = db.session.scalar(select(Jurisdiction).filter_by(code=ZHANGGONG))
        printed = publicity_list("zhanggong_a11_measures_publicity", county, to_local_date(clock.now()))
        assert printed.title == "章贡区____镇（街道）____村“三类人群”享受帮扶措施及政策情况公示"
        assert printed.list_title == "章贡区____镇（街道）____村“三类人群”享受帮扶政策公示表"
        assert printed.issuer == "____镇（街道）____村村委会"
        for template in templates():
            shown = publicity_list(template, county, to_local_date(clock.now()))
            for text in (shown.title, shown.list_title, shown.issuer):
                assert "XX" not in text and "_____" not in text, (template, text)


# ---------------------------------------------------------------- the task page while the publicity runs (#12)


def test_the_task_page_says_no_objection_so_far_until_the_publicity_period_has_ended(web_app, clock):
    """信息比对 is done beside the village publicity (001 Q43): while the period runs the county reads
    "公示期未满，截至目前无异议", only once it has ended "公示期间无异议" — by the clock, over real HTTP."""
    with web_app.app_context():
        household = register_household(household_data("沙河村", "比对户", 2), "shahe_cun", clock)
        case = open_identification(household.id, "cadre_screening", to_local_date(clock.now()), "shahe_cun", clock)
        for name in ("受理申请并签署承诺授权书", "入户核实", "民主评议", "张贴村级公示"):
            row = _ready_named(case.id, name)
            complete_task(row.id, sample_form_data(row.form, to_local_date(clock.now()), row.case),
                          official_for(row.role, row.case).username, clock)
        comparison = _ready_named(case.id, "信息比对")
        ends = db.session.get(Case, case.id).next_wakeup_at
    with serve(web_app) as base:
        county = HttpBrowser(base)
        assert county.login("zhanggong_xian", "demo").status == 200

        def section() -> str:
            page = county.get(f"/tasks/{comparison.id}").read().decode()
            start = page.index('id="publicity"')
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[start:page.index("</section>", start)]))

        clock.set(ends - timedelta(minutes=1))
        running = section()
        assert "期满" in running and "公示期未满，截至目前无异议。" in running and "公示期间无异议" not in running
        clock.set(ends)
        assert "公示期间无异议。" in section() and "公示期未满" not in section()


# ---------------------------------------------------------------- approved, not yet in the ledger (#29)


def test_the_ledger_names_the_households_approved_whose_identification_is_not_finished(web_app, announcing):
    """公告甲 and 公告乙 are approved by 台安县 but their identification still runs (the plan, the announcement or the
    system entry to be done): the ledger holds 公告丙 only and says why the two are not in it yet, and when they will
    be — never as "共 0 户" with no word of them."""
    client = login(web_app.test_client(), "taian_xian")
    page = client.get(f"/ledger?j={TAIAN}").get_data(as_text=True)
    note = page[page.index('id="approved-pending"'):]
    note = note[:note.index("</p>")]
    assert "县级审定通过的农户，在识别程序办结" in note and "纳入日期为县级审定日期" in note
    assert "已审定、尚未办结的 2 户暂未列入" in note and "公告甲" in note and "公告乙" in note
    assert f"{announcing['today']} 审定" in note and "公告丙" not in note
    table = page[page.index("<table"):]
    assert "公告丙" in table and "公告甲" not in table
