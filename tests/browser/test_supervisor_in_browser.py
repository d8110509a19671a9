"""A county supervisor logs in and finds the overdue case of their area in a real browser."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from engine.cases.lifecycle import open_identification, wake_due
from engine.core.db import db
from engine.core.models import User
from engine.households.register import register_household
from engine.supervision.overview import overdue_overview
from tests.bdd.officials import household_data
from tests.browser.conftest import screenshot, wait_for_text
from tests.browser.test_official_in_browser import _log_in

pytestmark = pytest.mark.browser


def test_a_supervisor_sees_an_overdue_case(web_app, server, browser, clock):
    with web_app.app_context():
        household = register_household(household_data("华坪村", "逾期户", 2), "huaping_cun", clock)
        number = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "huaping_cun", clock).number
        clock.set(datetime(2026, 10, 8, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
        wake_due(clock.now(), clock)
    _log_in(browser, server, "zhanggong_dudao")
    browser.get(f"{server}/supervisor")
    wait_for_text(browser, number)
    page = browser.page_source
    assert "逾期" in page and "沙河镇" in page and "逾期户" in page
    screenshot(browser, "06-supervisor-overdue")
    browser.find_element(By.PARTIAL_LINK_TEXT, "沙河镇").click()  # drill down to the township
    wait_for_text(browser, "华坪村")
    screenshot(browser, "07-supervisor-township")


WORST_DAYS = "//div[contains(@class, 'total')][span[.='最长逾期（天）']]/span[@class='n']"


def test_the_server_counts_overdue_days_at_the_test_clock_even_after_it_moved(web_app, server, browser, clock):
    with web_app.app_context():
        household = register_household(household_data("华坪村", "时钟户", 2), "huaping_cun", clock)
        open_identification(household.id, "cadre_screening", date(2026, 9, 20), "huaping_cun", clock)
        clock.set(datetime(2026, 10, 8, 9, tzinfo=ZoneInfo("Asia/Shanghai")))  # the server is already running
        county = db.session.scalar(select(User).filter_by(username="zhanggong_dudao")).jurisdiction
        worst = overdue_overview(county, clock.now()).worst_days
    assert worst > 0
    _log_in(browser, server, "zhanggong_dudao")
    browser.get(f"{server}/supervisor")
    assert browser.find_element(By.XPATH, WORST_DAYS).text == str(worst)  # the test's time, not the real one
    clock.advance(timedelta(days=2))
    browser.refresh()
    assert browser.find_element(By.XPATH, WORST_DAYS).text == str(worst + 2)
