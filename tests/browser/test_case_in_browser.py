"""The case page draws the case's diagram with bpmn-js, steps done and open now marked."""
from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from engine.cases.lifecycle import open_identification
from engine.demo import drive_case
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.browser.conftest import console_errors, screenshot
from tests.browser.test_official_in_browser import _log_in

pytestmark = pytest.mark.browser


def test_the_case_page_shows_where_the_case_stands_on_its_diagram(web_app, server, browser, clock):
    with web_app.app_context():
        household = register_household(household_data("沙河村", "流程图户", 3), "shahe_cun", clock)
        case_id = open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock).id
        drive_case(case_id, clock, until="张贴村级公示")
    _log_in(browser, server, "shahe_cun")
    browser.get(f"{server}/cases/{case_id}")
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element("id", "diagram").get_attribute("data-rendered") in ("true", "error"))
    assert browser.find_element("id", "diagram").get_attribute("data-rendered") == "true", console_errors(browser)
    done = browser.execute_script("return [...document.querySelectorAll('.djs-element.done')].map(e => e.dataset.elementId)")
    now = browser.execute_script("return [...document.querySelectorAll('.djs-element.current')].map(e => e.dataset.elementId)")
    assert {"apply", "verify", "appraisal", "village_post"} <= set(done)
    assert now == ["village_publicity"]  # waiting in the publicity call activity
    screenshot(browser, "05-case-page-diagram")
