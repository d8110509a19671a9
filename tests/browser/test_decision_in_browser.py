"""Deciding from the task page in a real browser (#16), at desktop width and at 375 px: the township officer
reads the household, its income, the classification and the publicity's objection, submits too early — the
focus goes to the first invalid field, tied to its message — then approves; the village cadre registers a
household of two members on member cards ("添加家庭成员"); the policy editor's parameters page fits the screen.
None of these pages scrolls sideways."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from engine.cases.lifecycle import open_identification, raise_objection, wake_due
from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import Case, Household, HumanTask, Member
from engine.demo import drive_case
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.browser.conftest import screenshot, wait_for_text
from timers.calendar import to_local_date

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1280, 900), "phone": (375, 812)}
STICKING_OUT = """
const width = document.documentElement.clientWidth;
return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 1)
  .slice(0, 6).map(e => `${e.tagName.toLowerCase()}.${e.className} ${e.textContent.trim().slice(0, 30)}`);
"""


def _at(browser, size: str) -> None:
    width, height = SIZES[size]
    browser.set_window_size(width, height)
    WebDriverWait(browser, 5).until(lambda b: b.execute_script("return window.innerWidth") <= width)


def _log_in(browser, server: str, username: str) -> None:
    browser.get(f"{server}/login")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys("demo")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_text(browser, "退出")


def _fits(browser, page: str) -> None:
    """No sideways scrolling: the page is no wider than the window's content area."""
    wide, window = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert wide <= window, f"{page} is {wide} px wide in a {window} px window: {browser.execute_script(STICKING_OUT)}"


def _focused(browser) -> tuple[str, str]:
    """The focused input's name and the text of what describes it (aria-describedby)."""
    return browser.execute_script("""
        const e = document.activeElement;
        const ids = (e.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
        return [e.name || '', ids.map(i => document.getElementById(i).textContent.trim()).join(' ')];""")


@pytest.mark.parametrize("size", SIZES)
def test_a_township_officer_reviews_a_case_from_the_task_page(web_app, server, browser, clock, size):
    with web_app.app_context():
        household = register_household(household_data("沙河村", "浏览审核户", 3), "shahe_cun", clock)
        case_id = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock).id
        drive_case(case_id, clock, until="张贴村级公示")
        clock.advance(timedelta(days=1))
        raise_objection(case_id, "该户家中有小轿车", "村民 吴某", "shahe_cun", clock)
        drive_case(case_id, clock, until="核实异议",
                   data={"verify_objection.json": {"objection_finding": "dismissed", "reason": "车辆为亲戚所有"}})
        while (task := db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))) is None:
            clock.set(db.session.get(Case, case_id).next_wakeup_at)  # the publicity runs its period
            wake_due(clock.now(), clock)
        assert task.name == "乡镇审核（入户抽查）"
        task_id, today = task.id, to_local_date(clock.now()).isoformat()
    _at(browser, size)
    _log_in(browser, server, "shahe_zhen")
    browser.get(f"{server}/tasks/{task_id}")
    wait_for_text(browser, "类别认定（决策表）")
    basis = browser.find_element(By.CSS_SELECTOR, "aside.basis").text
    for words in ("浏览审核户", "边缘易致贫户", "人均收入参考范围（A38）", "监测范围", "该户家中有小轿车", "异议不成立",
                  "车辆为亲戚所有", "民主评议"):
        assert words in basis, words
    _fits(browser, f"the task page ({size})")
    skip = browser.find_element(By.CSS_SELECTOR, "aside.basis .skip a[href='#task-form']")
    basis_top, form_top = browser.execute_script(
        "return ['aside.basis', '#task-form'].map(s => document.querySelector(s).getBoundingClientRect().top)")
    if size == "phone":  # one column: first what to decide on, then the form, one tap away
        assert skip.is_displayed() and basis_top < form_top
    else:  # the form, and beside it what to decide on
        assert not skip.is_displayed() and abs(basis_top - form_top) < 2
    screenshot(browser, f"decision-township-review-{size}")

    browser.find_element(By.CSS_SELECTOR, "#task-form button.primary").click()  # nothing filled in
    wait_for_text(browser, "表单有误")
    name, message = _focused(browser)
    assert name == "reviewed_on" and "必填" in message
    _fits(browser, f"the task page with errors ({size})")
    screenshot(browser, f"decision-township-review-errors-{size}")

    browser.execute_script(f"document.querySelector('input[name=reviewed_on]').value = '{today}'")
    browser.find_element(By.NAME, "visited").click()
    Select(browser.find_element(By.NAME, "decision")).select_by_visible_text("通过")
    browser.find_element(By.NAME, "reason").send_keys("入户抽查属实")
    browser.find_element(By.CSS_SELECTOR, "#task-form button.primary").click()
    wait_for_text(browser, "已办理：乡镇审核（入户抽查）")
    with web_app.app_context():
        done = db.session.get(HumanTask, task_id)
        assert done.state == "COMPLETED" and done.form_data["reason"] == "入户抽查属实"
        assert db.session.scalar(select(HumanTask.name).filter_by(case_id=case_id, state="READY")) == "县级审定"  # the comparison was done beside the village


@pytest.mark.parametrize("size", SIZES)
def test_a_village_cadre_registers_two_members_on_cards(web_app, server, browser, size):
    _at(browser, size)
    _log_in(browser, server, "shahe_cun")
    browser.get(f"{server}/households/new")
    wait_for_text(browser, "添加家庭成员")
    cards = browser.find_elements(By.CSS_SELECTOR, "fieldset.row-card")
    assert len(cards) == 1
    unlabelled = browser.execute_script("""
        return [...document.querySelectorAll('fieldset.row-card input, fieldset.row-card select')]
          .filter(i => !(i.labels && i.labels.length)).map(i => i.name);""")
    assert unlabelled == []
    _fits(browser, f"household registration ({size})")
    browser.find_element(By.NAME, "members-0-name").send_keys("卡片户主")
    browser.find_element(By.NAME, "members-0-id_number").send_keys(with_check_character("36070219800101123"))
    Select(browser.find_element(By.NAME, "members-0-relation_to_head")).select_by_visible_text("户主")
    browser.find_element(By.CSS_SELECTOR, "[data-add-row]").click()
    assert browser.execute_script("return document.activeElement.name") == "members-1-name"
    assert len(browser.find_elements(By.CSS_SELECTOR, "fieldset.row-card")) == 2
    assert "家庭成员 2" in browser.find_elements(By.CSS_SELECTOR, "fieldset.row-card")[1].text
    browser.switch_to.active_element.send_keys("卡片户主妻")
    browser.find_element(By.NAME, "members-1-id_number").send_keys(with_check_character("36070219820202124"))
    Select(browser.find_element(By.NAME, "members-1-relation_to_head")).select_by_visible_text("配偶")
    _fits(browser, f"household registration with two members ({size})")
    screenshot(browser, f"registration-member-cards-{size}")
    browser.find_element(By.CSS_SELECTOR, "form button.primary").click()
    wait_for_text(browser, "已登记农户")
    with web_app.app_context():
        household = db.session.scalar(select(Household).join(Member).filter(Member.name == "卡片户主"))
        assert [m.name for m in household.members] == ["卡片户主", "卡片户主妻"]


@pytest.mark.parametrize("size", SIZES)
def test_the_policy_parameters_page_fits_the_screen(server, browser, size):
    _at(browser, size)
    _log_in(browser, server, "jiangxi_zhengce")
    browser.get(f"{server}/diagrams/parameters")
    wait_for_text(browser, "行业预警标准：医保部门")
    _fits(browser, f"the policy parameters ({size})")
    place = browser.execute_script(
        "return document.querySelector('table.params td[data-label=辖区]').getBoundingClientRect().width")
    assert place >= 60  # the jurisdiction reads as a name, not a character a line
    screenshot(browser, f"policy-parameters-{size}")
