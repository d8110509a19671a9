"""User administration (用户管理) in a real browser: the county administrator onboards a village cadre — the
form's errors first, then the one-time password — who logs in and must choose their own password; at phone
width the list and the form fit the screen and the administrator deactivates the leaver, who can no longer log
in."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import screenshot, wait_for_text

pytestmark = pytest.mark.browser

ADMIN, NEW_LOGIN, NEW_NAME = "zhanggong_admin", "shahe_cun_wangxiuying", "王秀英"  # a pinyin login
SHAHE_CUN = "360702101201"  # 江西省赣州市章贡区沙河镇沙河村
CADRE_ROLE = "村干部（村两委）"
OWN_PASSWORD = "shahe-wang-2026"
PHONE = (390, 844)

OVERFLOWING = """
const width = window.innerWidth;
const describe = e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + e.className : ''}`
  + ` ${JSON.stringify(e.textContent.trim().slice(0, 40))}`;
return [...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll')).flatMap(e => {
  const box = e.getBoundingClientRect();
  if (box.right > width + 1) return [`${describe(e)} reaches ${Math.round(box.right)} px`];
  if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'
      && box.left + e.scrollWidth > width + 1)  // content (e.g. a long word) spilling out of its box
    return [`${describe(e)}: its content reaches ${Math.round(box.left + e.scrollWidth)} px`];
  return [];
}).slice(0, 8);
"""


def _log_in(browser, server: str, username: str, password: str) -> None:
    browser.get(f"{server}/login")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def _log_out(browser) -> None:
    browser.find_element(By.XPATH, "//header//button[.='退出']").click()
    wait_for_text(browser, "已退出登录")


def _fits_the_width(browser, page: str) -> None:
    """The page does not scroll sideways (a wide table may scroll inside its own ``.scroll`` box)."""
    scroll_width, inner_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width + 1, (
        f"{page} scrolls sideways at {inner_width} px: {scroll_width} px wide; "
        f"sticking out: {browser.execute_script(OVERFLOWING)}")


def _field_error(browser, field_id: str) -> str:
    """The error linked to a field by aria-describedby (and shown next to it, in the same .field)."""
    field = browser.find_element(By.ID, field_id)
    assert field.get_attribute("aria-invalid") == "true", f"{field_id} is not marked invalid"
    described = field.get_attribute("aria-describedby")
    assert described, f"{field_id} has no aria-describedby"
    errors = [i for i in described.split() if i.startswith("err-")]
    assert errors, f"{field_id} is described by no error ({described})"
    error = browser.find_element(By.ID, errors[0])
    assert error.is_displayed()
    assert browser.execute_script(
        "return arguments[0].closest('.field, fieldset') === arguments[1].closest('.field, fieldset')",
        field, error), f"the error of {field_id} is not next to it"
    return error.text


def _cadre_role(browser):
    return browser.find_element(By.XPATH, f"//label[contains(@class, 'check')][contains(., '{CADRE_ROLE}')]/input")


def test_an_administrator_onboards_a_cadre_and_deactivates_them_at_phone_width(server, browser):
    _log_in(browser, server, ADMIN, "demo")
    wait_for_text(browser, "我的待办")
    browser.find_element(By.XPATH, "//header//nav//a[.='用户管理']").click()
    wait_for_text(browser, "新建用户")
    assert "章贡区" in browser.find_element(By.TAG_NAME, "h1").text
    assert "shahe_cun" in browser.page_source  # the officials of the county are listed
    screenshot(browser, "admin-users-desktop")

    # -- the form: the browser's own check, then the server's errors next to the fields ----------------------
    browser.find_element(By.LINK_TEXT, "新建用户").click()
    wait_for_text(browser, "创建并生成初始密码")
    Select(browser.find_element(By.ID, "f-jurisdiction")).select_by_value(SHAHE_CUN)
    browser.find_element(By.ID, "f-username").send_keys("Wang Xiuying")  # capitals and a space: a bad login
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    assert browser.execute_script("return document.getElementById('f-display_name').validity.valueMissing")
    assert "请修改标出的项目" not in browser.page_source  # an empty required name is stopped in the browser
    browser.find_element(By.ID, "f-display_name").send_keys("   ")  # only blanks: passes `required`
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait_for_text(browser, "请修改标出的项目后重新提交")
    assert "登录名须为" in _field_error(browser, "f-username")
    assert _field_error(browser, "f-display_name") == "请填写姓名或单位"
    roles = browser.find_element(By.CSS_SELECTOR, "fieldset.multi")
    assert browser.find_element(By.ID, roles.get_attribute("aria-describedby")).text == "请至少选择一个角色"
    assert "err-jurisdiction" not in browser.page_source  # a correct field carries no error
    ids = browser.execute_script("return [...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids)), "duplicate ids on the page"
    focused = browser.execute_script(
        "const a = document.activeElement; return [a.tagName, a.id, a.textContent.trim()]")
    assert focused == ["P", "", "请修改标出的项目后重新提交。"] or focused[1] == "f-username", (
        f"after refused input the focus is on {focused}, not on the error summary or the first wrong field")
    assert browser.find_element(By.ID, "f-username").get_attribute("value") == "Wang Xiuying"  # what was typed stays
    assert Select(browser.find_element(By.ID, "f-jurisdiction")).first_selected_option.get_attribute(
        "value") == SHAHE_CUN
    screenshot(browser, "admin-new-user-errors")

    # -- then correctly: the one-time password, shown once ---------------------------------------------------
    for field, value in (("f-username", NEW_LOGIN), ("f-display_name", NEW_NAME)):
        browser.find_element(By.ID, field).clear()
        browser.find_element(By.ID, field).send_keys(value)
    _cadre_role(browser).click()
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait_for_text(browser, "新用户已创建")
    one_time = browser.find_element(By.ID, "one-time-password").text.strip()
    assert len(one_time) >= 10
    assert "沙河村" in browser.page_source and NEW_LOGIN in browser.page_source
    screenshot(browser, "admin-one-time-password")
    _log_out(browser)

    # -- the new official must choose their own password before anything else -------------------------------
    _log_in(browser, server, NEW_LOGIN, one_time)
    wait_for_text(browser, "请先改为自己的密码")
    assert "/password" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "修改密码"
    for name, value in (("current", one_time), ("new", OWN_PASSWORD), ("again", OWN_PASSWORD)):
        browser.find_element(By.NAME, name).send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait_for_text(browser, "密码已修改")
    assert "/inbox" in browser.current_url
    assert "我的待办" in browser.page_source and NEW_NAME in browser.find_element(By.CSS_SELECTOR, ".who").text
    _log_out(browser)

    # -- at phone width: the list and the form fit; the leaver is deactivated --------------------------------
    browser.set_window_size(*PHONE)
    WebDriverWait(browser, 5).until(lambda b: b.execute_script("return window.innerWidth") <= PHONE[0])
    _log_in(browser, server, ADMIN, "demo")
    wait_for_text(browser, "我的待办")
    browser.get(f"{server}/admin/users")
    wait_for_text(browser, NEW_LOGIN)
    _fits_the_width(browser, "the user list (/admin/users)")
    screenshot(browser, "admin-users-phone")
    browser.get(f"{server}/admin/users/new")
    wait_for_text(browser, "创建并生成初始密码")
    _fits_the_width(browser, "the new-user form (/admin/users/new)")
    browser.find_element(By.LINK_TEXT, "工作日历").click()
    wait_for_text(browser, "运行中的暂定期限")
    assert "2004–2026" in browser.page_source
    _fits_the_width(browser, "the working-day calendar (/admin/calendar)")
    browser.get(f"{server}/admin/users?q={NEW_LOGIN}")
    browser.find_element(By.LINK_TEXT, NEW_LOGIN).click()
    wait_for_text(browser, "停用账号")
    assert "本人修改密码" in browser.page_source  # the account's history
    _fits_the_width(browser, f"the user form (/admin/users/{NEW_LOGIN})")
    screenshot(browser, "admin-user-form-phone")
    reason = browser.find_element(By.ID, "f-reason")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", reason)
    reason.send_keys("调离沙河村")
    browser.find_element(By.XPATH, "//button[.='停用账号']").click()
    wait_for_text(browser, "已停用，不能再登录")
    assert "已停用" in browser.find_element(By.TAG_NAME, "h1").text
    assert "调离沙河村" in browser.page_source and "重新启用" in browser.page_source
    _fits_the_width(browser, f"the deactivated user's form (/admin/users/{NEW_LOGIN})")
    _log_out(browser)

    _log_in(browser, server, NEW_LOGIN, OWN_PASSWORD)
    wait_for_text(browser, "用户名或密码不正确")
    assert "/login" in browser.current_url and "退出" not in browser.page_source
