"""A village publicity list (公示) in a real browser, at desktop width and on a village phone (375 px; the
review's 390 px too): the page itself never scrolls sideways, the list's table does inside its box, and on a phone
says so in words and shows a shadow at the edge with more columns; the list's title is read whole above the table
(a caption centred over a table far wider than the screen read "沙河镇沙河:" cut off at the edge)."""
from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from engine.cases.lifecycle import open_identification
from engine.demo import drive_case
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.browser.conftest import screenshot, wait_for_text
from tests.browser.test_decision_in_browser import SIZES, _fits, _log_in
from tests.browser.test_phone_pages_in_browser import _english

pytestmark = pytest.mark.browser

WIDTHS = {**SIZES, "phone-390": (390, 844)}
LIST = "/publicity/zhanggong_a04_village_initial_list?j=360702101201"
TITLE = "沙河镇沙河村“三类人群”初选名单"
BOX = """
const box = document.querySelector('.sheet .scroll'), title = document.querySelector('.sheet-caption');
const r = title.getBoundingClientRect(), last = box.querySelector('thead th:last-child').getBoundingClientRect();
return {boxWide: box.scrollWidth, boxShown: box.clientWidth, titleLeft: r.left, titleRight: r.right,
        titleWide: title.scrollWidth, titleShown: title.clientWidth, window: document.documentElement.clientWidth,
        lastRight: last.right, boxRight: box.getBoundingClientRect().right,
        attachments: getComputedStyle(box).backgroundAttachment};"""


@pytest.mark.parametrize("size", WIDTHS)
def test_the_village_list_fits_the_screen_and_its_table_says_it_scrolls(web_app, server, browser, clock, size):
    with web_app.app_context():
        household = register_household(household_data("沙河村", "公示浏览户", 3), "shahe_cun", clock)
        case_id = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock).id
        drive_case(case_id, clock, until="张贴村级公示")
    width, height = WIDTHS[size]
    browser.set_window_size(width, height)
    WebDriverWait(browser, 5).until(lambda b: b.execute_script("return window.innerWidth") <= width)
    _log_in(browser, server, "shahe_cun")
    browser.get(f"{server}{LIST}")
    wait_for_text(browser, "公示浏览户")
    _fits(browser, f"the village list ({size})")
    assert _english(browser) == [], _english(browser)
    found = browser.execute_script(BOX)
    title = browser.find_element(By.CSS_SELECTOR, ".sheet-caption")
    assert title.text == TITLE  # whole, inside the window, on as many lines as it needs
    assert 0 <= found["titleLeft"] and found["titleRight"] <= found["window"] + 1, found
    assert found["titleWide"] <= found["titleShown"], found
    hint = browser.find_element(By.CSS_SELECTOR, ".sheet .scroll-hint")
    assert "local" in found["attachments"], found  # the edge's shadow, covered once that end is reached
    if size == "desktop":
        assert not hint.is_displayed()
    else:
        assert found["boxWide"] > found["boxShown"], found  # the table's box scrolls, the page does not
        assert hint.is_displayed() and hint.text == "表格共 16 栏，较宽：在表格上左右滑动查看右侧各栏。"
        assert found["lastRight"] > found["boxRight"], found  # 拟纳入监测对象类别: behind the edge, to scroll to
        browser.execute_script("const box = document.querySelector('.sheet .scroll'); box.scrollLeft = box.scrollWidth;")
        scrolled = browser.execute_script(BOX)
        assert scrolled["lastRight"] <= scrolled["boxRight"] + 1, scrolled  # …and reached by scrolling the box
        _fits(browser, f"the village list scrolled ({size})")
        browser.execute_script("document.querySelector('.sheet .scroll').scrollLeft = 0;")
    screenshot(browser, f"publicity-village-list-{size}")
    browser.execute_script("document.querySelector('.sheet-caption').scrollIntoView()")
    screenshot(browser, f"publicity-village-list-table-{size}")
