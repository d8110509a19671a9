"""The pages officials use, in a real browser at desktop width and on a village phone (375×812) (#16): the inbox, a
task whose form comes back with an error, the case page (also on a slow village connection: 400 kbit/s), household
registration and the supervisor view. None scrolls sideways, none shows English words, and each is kept as a
screenshot (artifacts/screenshots). A township officer and then the county approve a risk elimination on a phone,
each from the task page alone."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from engine.cases.lifecycle import open_identification, wake_due
from engine.core.db import db
from engine.core.models import Case, HumanTask
from engine.demo import drive_case, load_demo
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.browser.conftest import screenshot, wait_for_text
from tests.browser.test_decision_in_browser import SIZES, _at, _fits, _focused, _log_in
from tests.factories import at_assistance_plan
from timers.calendar import to_local_date

pytestmark = pytest.mark.browser

CST = ZoneInfo("Asia/Shanghai")
ASCII_WORD = re.compile(r"(?<![A-Za-z0-9_\-./:@])[A-Za-z]{2,}(?![A-Za-z0-9_\-./:@])")
KEY_NAMES = {"Ctrl"}  # a key on the keyboard, as printed on it
SLOW = {"offline": False, "latency": 150, "downloadThroughput": 400 * 1000 // 8, "uploadThroughput": 200 * 1000 // 8}
SLOW_FIRST_CONTENT_MS = 2000  # the case page's words at 400 kbit/s: 8.3 s when the viewer blocked it, 2.7 s while the
# diagram's stylesheets still did, 1.1 s since they load as print styles switched on by case-diagram.js


def _english(browser) -> list[str]:
    """ASCII words an official reads on the page (codes such as A33, XC-2026-000001 or 3607… are not words)."""
    text = browser.execute_script("return document.body.innerText")
    return sorted(set(ASCII_WORD.findall(text)) - KEY_NAMES)


def _checked(browser, page: str, name: str) -> None:
    """The page fits the window, reads in Chinese, and is kept as a screenshot."""
    _fits(browser, page)
    assert _english(browser) == [], f"{page} shows English: {_english(browser)}"
    screenshot(browser, name)


def _until_ready(case_id: int, name: str, clock) -> HumanTask:
    """Complete the case's steps with sample data, and run its timers (its publicity), until the step ``name`` is
    ready."""
    while (task := db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))) is None or (
            task.name != name):
        if task is not None:
            drive_case(case_id, clock, until=task.name)
        else:
            clock.set(db.session.get(Case, case_id).next_wakeup_at)
            wake_due(clock.now(), clock)
    return task


@pytest.mark.parametrize("size", SIZES)
def test_the_inbox_sorts_searches_and_fits(web_app, server, browser, clock, size):
    with web_app.app_context():
        for head in ("待办甲", "待办乙", "待办丙"):
            household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
            open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock)
    _at(browser, size)
    _log_in(browser, server, "shahe_cun")
    browser.get(f"{server}/inbox")
    wait_for_text(browser, "待办丙")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert all(head in page for head in ("待办甲", "待办乙", "待办丙")) and "沙河村村干部" not in page.split("待办甲")[0]
    _checked(browser, f"the inbox ({size})", f"inbox-{size}")
    search = browser.find_element(By.NAME, "q")
    search.send_keys("待办乙")
    search.submit()
    wait_for_text(browser, "查找农户")  # (the inbox before the search shows it too: the search's page may still come)
    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(  # the old page's, replaced
        lambda b: "待办甲" not in b.find_element(By.TAG_NAME, "main").text)
    assert "待办乙" in browser.find_element(By.TAG_NAME, "main").text
    _checked(browser, f"the inbox searched ({size})", f"inbox-searched-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_an_assistance_plan_chooses_measures_from_the_catalogue_and_shows_its_error(web_app, server, browser,
                                                                                    clock, size):
    task_id = at_assistance_plan(web_app, clock)
    _at(browser, size)
    _log_in(browser, server, "shahe_cun")
    browser.get(f"{server}/tasks/{task_id}")
    wait_for_text(browser, "具体措施")
    Select(browser.find_element(By.NAME, "measures-0-category")).select_by_visible_text("就业帮扶")
    offered = browser.execute_script("""
        return [...document.querySelector('select[name="measures-0-item"]').options]
          .filter(o => o.value && !o.parentElement.disabled).map(o => o.text);""")
    assert offered == ["技能培训", "劳务输出", "外出务工补贴", "以工代赈", "经营主体就业", "其他"]  # 就业帮扶's only
    Select(browser.find_element(By.NAME, "measures-0-item")).select_by_visible_text("劳务输出")
    browser.find_element(By.CSS_SELECTOR, "#task-form button.primary").click()  # no responsible person yet
    wait_for_text(browser, "表单有误")
    name, message = _focused(browser)
    assert name == "responsible_person" and "必填" in message
    assert Select(browser.find_element(By.NAME, "measures-0-item")).first_selected_option.text == "劳务输出"  # kept
    _checked(browser, f"the plan with errors ({size})", f"task-plan-errors-{size}")
    Select(browser.find_element(By.NAME, "measures-0-category")).select_by_visible_text("产业帮扶")
    assert browser.find_element(By.NAME, "measures-0-item").get_attribute("value") == ""  # 劳务输出 is not 产业帮扶
    Select(browser.find_element(By.NAME, "measures-0-item")).select_by_visible_text("种植业")
    browser.find_element(By.NAME, "responsible_person").send_keys("王帮扶")
    browser.execute_script("document.querySelector('input[name=plan_publicized_on]').value = arguments[0]",
                           to_local_date(clock.now()).isoformat())
    browser.find_element(By.CSS_SELECTOR, "#task-form button.primary").click()
    wait_for_text(browser, "已办理：制定帮扶计划并在村内公示")
    with web_app.app_context():
        assert db.session.get(HumanTask, task_id).form_data["measures"] == [{"category": "A39", "item": "种植业"}]


@pytest.mark.parametrize("size", SIZES)
def test_the_case_page_fits_and_draws_its_diagram(web_app, server, browser, clock, size):
    with web_app.app_context():
        household = register_household(household_data("沙河村", "案件页户", 3), "shahe_cun", clock)
        case_id = open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock).id
        drive_case(case_id, clock, until="张贴村级公示")
    _at(browser, size)
    _log_in(browser, server, "shahe_zhen")
    browser.get(f"{server}/cases/{case_id}")
    WebDriverWait(browser, 30).until(
        lambda b: b.find_element(By.ID, "diagram").get_attribute("data-rendered") in ("true", "error"))
    assert browser.find_element(By.ID, "diagram").get_attribute("data-rendered") == "true"
    assert browser.find_element(By.ID, "diagram-tools").is_displayed()  # zoom and fit
    assert "案件页户" in browser.find_element(By.TAG_NAME, "main").text
    _checked(browser, f"the case page ({size})", f"case-page-{size}")


def test_the_case_page_is_usable_on_a_slow_village_connection(web_app, server, browser, clock):
    with web_app.app_context():
        household = register_household(household_data("沙河村", "慢网户", 3), "shahe_cun", clock)
        case_id = open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock).id
        drive_case(case_id, clock, until="张贴村级公示")
    _at(browser, "phone")
    _log_in(browser, server, "shahe_cun")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})  # a first visit: nothing cached
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", SLOW)
    try:
        browser.get(f"{server}/cases/{case_id}")
        painted = browser.execute_script("""
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            return paint ? paint.startTime : performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd;""")
        loads = browser.execute_script("""return performance.getEntriesByType('resource')
            .map(r => [r.name.split('/').slice(-1)[0], r.transferSize, Math.round(r.responseEnd)]);""")
        assert "慢网户" in browser.find_element(By.TAG_NAME, "main").text  # the timeline and deadlines, readable
        assert painted < SLOW_FIRST_CONTENT_MS, f"the case page showed its words after {painted:.0f} ms at 400 kbit/s: {loads}"
        WebDriverWait(browser, 120).until(  # the diagram follows, without having held the page up
            lambda b: b.find_element(By.ID, "diagram").get_attribute("data-rendered") in ("true", "error"))
        assert browser.find_element(By.ID, "diagram").get_attribute("data-rendered") == "true"
        screenshot(browser, "case-page-slow-connection-phone")
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions",
                                {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


@pytest.mark.parametrize("size", SIZES)
def test_household_registration_with_an_error_fits_and_reads_in_chinese(server, browser, size):
    _at(browser, size)
    _log_in(browser, server, "shahe_cun")
    browser.get(f"{server}/households/new")
    wait_for_text(browser, "添加家庭成员")
    browser.find_element(By.NAME, "members-0-name").send_keys("登记户主")
    browser.find_element(By.NAME, "members-0-id_number").send_keys("123")
    Select(browser.find_element(By.NAME, "members-0-relation_to_head")).select_by_visible_text("户主")
    browser.find_element(By.CSS_SELECTOR, "form button.primary").click()
    wait_for_text(browser, "应为 18 位")
    name, message = _focused(browser)  # the focus on the first invalid field, tied to its message
    assert name == "members-0-id_number" and "身份证号（A7）：应为 18 位" in message
    _checked(browser, f"household registration with errors ({size})", f"registration-errors-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_the_supervisor_view_fits(web_app, server, browser, clock, size):
    with web_app.app_context():
        household = register_household(household_data("华坪村", "督导户", 2), "huaping_cun", clock)
        number = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "huaping_cun", clock).number
        clock.set(datetime(2026, 10, 8, 9, tzinfo=CST))
        wake_due(clock.now(), clock)
    _at(browser, size)
    _log_in(browser, server, "zhanggong_dudao")
    browser.get(f"{server}/supervisor")
    wait_for_text(browser, number)
    assert "督导户" in browser.find_element(By.TAG_NAME, "main").text
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart")  # on a phone its 8 px names: the table says the same
    assert chart.is_displayed() == (size != "phone") and browser.find_element(By.CSS_SELECTOR, "table.places").is_displayed()
    _checked(browser, f"the supervisor view ({size})", f"supervisor-{size}")


def test_a_risk_elimination_is_approved_on_a_phone_from_each_task_page_alone(web_app, server, browser, clock):
    """水西村's 黄金水 (demo data): the township verifies the income at home and approves, then the county decides —
    each reading what it decides on beside the form, on a 375 px phone, opening no other page."""
    with web_app.app_context():
        load_demo(clock)
        case_id = db.session.scalar(select(Case.id).filter_by(procedure="elimination", status="running"))
        task = _until_ready(case_id, "乡镇审核（入户核实收入）", clock)
        review_id, today = task.id, to_local_date(clock.now()).isoformat()
    _at(browser, "phone")
    _log_in(browser, server, "shuixi_zhen")
    browser.get(f"{server}/tasks/{review_id}")
    wait_for_text(browser, "风险消除条件")
    basis = browser.find_element(By.CSS_SELECTOR, "aside.basis").text
    for words in ("黄金水", "乡镇季度研判列入时：符合", "帮扶措施落实半年以上", "“三保障”和饮水安全", "民主评议", "村级公示"):
        assert words in basis, words
    assert browser.find_element(By.NAME, "income.household_size").get_attribute("value") == "3"  # prefilled
    _checked(browser, "the township's elimination review (phone)", "elimination-review-phone")
    browser.find_element(By.CSS_SELECTOR, ".skip a[href='#task-form']").click()
    browser.execute_script("document.querySelector('input[name=reviewed_on]').value = arguments[0]", today)
    for name, amount in (("income.wages", "30000"), ("income.business_income", "6000"), ("income.property_income", "0"),
                         ("income.transfer_income", "1200"), ("income.business_expenses", "1200")):
        browser.find_element(By.NAME, name).send_keys(amount)
    Select(browser.find_element(By.NAME, "decision")).select_by_visible_text("通过")
    browser.find_element(By.CSS_SELECTOR, "#task-form button.primary").click()
    wait_for_text(browser, "已办理：乡镇审核（入户核实收入）")
    with web_app.app_context():
        approval = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))
        assert (approval.name, approval.form) == ("县级审定", "elimination_approval.json")
        approval_id = approval.id

    browser.delete_all_cookies()
    _log_in(browser, server, "zhanggong_xian")
    browser.get(f"{server}/tasks/{approval_id}")
    wait_for_text(browser, "乡镇入户核实后按核实收入复核：符合")
    basis = browser.find_element(By.CSS_SELECTOR, "aside.basis").text
    for words in ("收入高于当年监测范围", "人均收入参考范围（A38）", "高于监测范围", "住房安全", "有保障",
                  "乡镇审核（入户核实收入）", "民主评议"):
        assert words in basis, words
    _checked(browser, "the county's elimination approval (phone)", "elimination-approval-phone")
    browser.execute_script("document.querySelector('input[name=decided_on]').value = arguments[0]", today)
    Select(browser.find_element(By.NAME, "decision")).select_by_visible_text("通过，标注风险消除")
    browser.find_element(By.CSS_SELECTOR, "#task-form button.primary").click()
    wait_for_text(browser, "已办理：县级审定")
    with web_app.app_context():
        announcement = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))
        assert announcement.name == "在各村公告"
        announcement_id = announcement.id
    browser.get(f"{server}/tasks/{announcement_id}")
    wait_for_text(browser, "本次公告名单")
    listed = browser.find_element(By.ID, "posting-list").text
    assert "黄金水" in listed and "本户" in listed
    assert "为何不设期限" in browser.find_element(By.ID, "due-note").text
    _checked(browser, "the announcement task (phone)", "elimination-announcement-phone")


def test_a_department_warning_task_and_the_diagram_library_fit_a_phone(web_app, server, browser, clock):
    """The warning panel beside a township's 入户核查 (its table as one labelled card per row) and the diagram
    library (a decision table's long file name wraps) scroll no page sideways on a phone."""
    from engine.demo import official_for

    with web_app.app_context():
        load_demo(clock)
        task = db.session.scalar(select(HumanTask).where(HumanTask.state == "READY",
                                                         HumanTask.procedure == "warning_verification",
                                                         HumanTask.role == "township_officer"))
        task_id, login = task.id, official_for("township_officer", task.case).username
    _at(browser, "phone")
    _log_in(browser, server, login)
    browser.get(f"{server}/tasks/{task_id}")
    wait_for_text(browser, "预警信息")
    assert browser.execute_script(  # one labelled card per row on a phone
        "const td = document.querySelector('#warning-panel td[data-label=\"比对结果\"]');"
        "return [getComputedStyle(td).display, getComputedStyle(td, '::before').content]") == ["block", '"比对结果："']
    _fits(browser, "a township's warning verification (phone)")
    screenshot(browser, "warning-verification-phone")
    browser.delete_all_cookies()
    _log_in(browser, server, "jiangxi_zhengce")
    browser.get(f"{server}/diagrams")
    wait_for_text(browser, "household_category_longkou.dmn")
    _fits(browser, "the diagram library (phone)")
