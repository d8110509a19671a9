"""A township runs its year's campaign in a real browser (#18, Done means), at desktop width and at 375 × 812: the
township officer opens 沙河镇's 2026 campaign from the navigation and confirms it in the inbox; the village cadres of
沙河村 and 华坪村 collect and screen every household — one by phone, the 双签字 enforced (the collector's signature
missing is refused next to its box) — the township sees the progress by village, enters each household in the
national system and makes the 12-08 report; the county officer sees the township reported. Every household's task,
deadline and outcome are on record. No page scrolls sideways."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from engine.core.db import db
from engine.core.models import Case, HumanTask
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.browser.conftest import screenshot, wait_for_text
from tests.browser.test_decision_in_browser import SIZES, _at, _fits, _log_in

pytestmark = pytest.mark.browser

TODAY = "2026-09-20"  # the suite's clock
HOUSEHOLDS = {"沙河村": ["浏采甲", "浏采乙"], "华坪村": ["浏采丙"]}
CADRES = {"沙河村": "shahe_cun", "华坪村": "huaping_cun"}
PHONE = "浏采甲"  # works far away: interviewed by phone (004 四)


def _as(browser, server: str, username: str) -> None:
    browser.delete_all_cookies()
    _log_in(browser, server, username)


def _set_date(browser, name: str, value: str = TODAY) -> None:
    browser.execute_script(f"document.querySelector('input[name=\"{name}\"]').value = '{value}'")


def _tick(browser, name: str) -> None:
    box = browser.find_element(By.NAME, name)
    if not box.is_selected():
        box.click()


def _submit(browser) -> None:
    browser.find_element(By.CSS_SELECTOR, "form button.primary[type=submit]").click()


def _open_task(browser, server: str, step: str, head: str | None = None) -> None:
    """From the inbox, the task ``step`` (of the household ``head``)."""
    browser.get(f"{server}/inbox")
    wait_for_text(browser, "我的待办")
    row = f"//tr[contains(., '{head}')]" if head else "//tr"
    browser.find_element(By.XPATH, f"{row}//a[.='{step}']").click()
    wait_for_text(browser, "办理")


def _collect(browser, server: str, head: str, size: str, first: bool) -> None:
    _open_task(browser, server, "入户采集和排查", head)
    assert "电话访谈（长期在外务工）" in browser.page_source and "采集人已签字确认" in browser.page_source
    _set_date(browser, "collected_on")
    Select(browser.find_element(By.NAME, "interview")).select_by_value("phone" if head == PHONE else "home_visit")
    _tick(browser, "household_signed")
    browser.find_element(By.NAME, "income.household_size").send_keys("2")
    browser.find_element(By.NAME, "income.wages").send_keys("36000")
    Select(browser.find_element(By.NAME, "screening")).select_by_value("no_risk")
    if first:  # only the household has signed: refused, nothing saved
        _submit(browser)
        wait_for_text(browser, "表单有误")
        assert "采集人已签字确认：必须确认" in browser.page_source
        screenshot(browser, f"campaign-03-collection-refused-{size}")
        _fits(browser, "the collection form")
        _set_date(browser, "collected_on")  # as the official would check it again
    _tick(browser, "collector_signed")
    _submit(browser)
    wait_for_text(browser, "已办理：入户采集和排查")


def _village_row(browser, village: str) -> dict[str, str]:
    cells = browser.find_elements(By.XPATH, f"//table[@id='progress']//tr[td[1][.='{village}']]/td")
    return {c.get_attribute("data-label"): c.text for c in cells}


@pytest.mark.parametrize("size", SIZES)
def test_a_township_runs_its_campaign_from_opening_to_the_12_08_report(web_app, server, browser, clock, size):
    with web_app.app_context():
        for village, heads in HOUSEHOLDS.items():
            for head in heads:
                register_household(household_data(village, head, 2), CADRES[village], clock)
    _at(browser, size)

    _as(browser, server, "shahe_zhen")  # the township opens its campaign from the navigation
    browser.find_element(By.XPATH, "//header//nav//a[.='年度采集排查']").click()
    wait_for_text(browser, "开启本乡镇 2026 年度采集排查")
    screenshot(browser, f"campaign-01-index-{size}")
    browser.find_element(By.XPATH, "//button[.='开启本乡镇 2026 年度采集排查']").click()
    wait_for_text(browser, "已创建 沙河镇 2026 年度信息采集和集中排查")
    campaign_url = browser.current_url
    assert "2026-12-08（还剩 79 天）" in browser.page_source and "2026-12-31 24:00（还剩 102 天）" in browser.page_source
    _open_task(browser, server, "开启本乡镇年度信息采集和集中排查")
    _set_date(browser, "opened_on")
    _submit(browser)
    wait_for_text(browser, "已办理：开启本乡镇年度信息采集和集中排查")
    browser.get(campaign_url)
    wait_for_text(browser, "各村进度")
    assert _village_row(browser, "沙河村")["待入户"] == "2" and _village_row(browser, "华坪村")["待入户"] == "1"
    assert all(head in browser.find_element(By.ID, "to-visit").text for heads in HOUSEHOLDS.values() for head in heads)
    screenshot(browser, f"campaign-02-opened-{size}")
    _fits(browser, "the campaign page")

    for village, heads in HOUSEHOLDS.items():  # each village cadre collects and screens their households
        _as(browser, server, CADRES[village])
        for head in heads:
            _collect(browser, server, head, size, first=head == PHONE)
    screenshot(browser, f"campaign-04-cadre-inbox-{size}")

    _as(browser, server, "shahe_zhen")  # the township sees the progress, enters each household, reports
    browser.get(campaign_url)
    wait_for_text(browser, "各村进度")
    assert (_village_row(browser, "沙河村")["已采集排查"], _village_row(browser, "沙河村")["待录入"]) == ("2", "2")
    assert _village_row(browser, "华坪村")["待录入"] == "1"
    assert "没有尚待入户的农户" in browser.page_source
    screenshot(browser, f"campaign-05-collected-{size}")
    for _ in range(3):
        _open_task(browser, server, "录入全国防返贫监测信息系统")
        _set_date(browser, "entered_on")
        _submit(browser)
        wait_for_text(browser, "已办理：录入全国防返贫监测信息系统")
    _open_task(browser, server, "汇总上报采集排查结果")
    _set_date(browser, "reported_on")
    _submit(browser)
    wait_for_text(browser, "已办理：汇总上报采集排查结果")
    browser.get(campaign_url)
    wait_for_text(browser, "已汇总上报")
    assert "3 户完成采集排查并录入全国系统" in browser.find_element(By.ID, "campaign-state").text
    assert _village_row(browser, "沙河村")["已录入"] == "2" and _village_row(browser, "华坪村")["已录入"] == "1"
    screenshot(browser, f"campaign-06-reported-{size}")
    _fits(browser, "the reported campaign")

    _as(browser, server, "zhanggong_xian")  # the county sees it from its navigation
    browser.find_element(By.XPATH, "//header//nav//a[.='全县采集进度']").click()
    wait_for_text(browser, "章贡区 2026 年度信息采集和集中排查进度")
    row = browser.find_element(By.XPATH, "//table[@id='townships']//tr[td[1][.='沙河镇']]")
    assert "已汇总上报" in row.text
    screenshot(browser, f"campaign-07-county-{size}")
    _fits(browser, "the county's view")

    with web_app.app_context():  # every household's task, deadline and outcome are on record
        campaign = db.session.scalar(select(Case).filter_by(procedure="annual_campaign"))
        assert (campaign.status, campaign.outcome) == ("completed", "reported")
        collections = db.session.scalars(select(Case).filter_by(procedure="annual_collection")).all()
        assert sorted(c.household.head.name for c in collections) == sorted(h for hs in HOUSEHOLDS.values() for h in hs)
        for case in collections:
            tasks = db.session.scalars(select(HumanTask).filter_by(case_id=case.id).order_by(HumanTask.id)).all()
            assert [(t.bpmn_id, t.state) for t in tasks] == [("cl_visit", "COMPLETED"), ("cl_entry", "COMPLETED")]
            assert all(t.due_at is not None and t.completed_by for t in tasks)
            assert (case.status, case.outcome) == ("completed", "no_risk")
            visit = tasks[0].form_data
            assert visit["household_signed"] is visit["collector_signed"] is True
            assert visit["interview"] == ("phone" if case.household.head.name == PHONE else "home_visit")
