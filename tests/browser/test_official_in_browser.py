"""A village cadre logs in and completes an identification task in a real browser."""
from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.models import HumanTask
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.browser.conftest import screenshot, wait_for_text

pytestmark = pytest.mark.browser


def _log_in(browser, server: str, username: str) -> None:
    browser.get(f"{server}/login")
    screenshot(browser, "01-login")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys("demo")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_text(browser, "退出")  # logged in: the next page load must not overtake the login


def test_a_village_cadre_completes_an_identification_task(web_app, server, browser, clock):
    with web_app.app_context():
        household = register_household(household_data("沙河村", "浏览器户", 3), "shahe_cun", clock)
        case_id = open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock).id
    _log_in(browser, server, "shahe_cun")
    wait_for_text(browser, "我的待办")
    screenshot(browser, "02-inbox-village-cadre")
    browser.find_element(By.LINK_TEXT, "受理申请并签署承诺授权书").click()
    wait_for_text(browser, "全体家庭成员已签署承诺授权书")
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()  # empty form first
    wait_for_text(browser, "表单有误")
    assert "必须确认" in browser.page_source
    screenshot(browser, "03-task-form-errors")
    browser.execute_script("document.querySelector('input[name=applied_on]').value = '2026-09-20'")
    browser.find_element(By.NAME, "all_members_signed").click()
    browser.find_element(By.NAME, "risk_description").send_keys("户主因病住院，医疗支出较大")
    browser.find_element(By.CSS_SELECTOR, "input[name=risk_types][value=illness]").click()
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait_for_text(browser, "已办理：受理申请并签署承诺授权书")
    screenshot(browser, "04-inbox-after-completion")
    with web_app.app_context():
        ready = db.session.scalars(select(HumanTask.name).filter_by(case_id=case_id, state="READY")).all()
    assert ready == ["入户核实"]
