"""录入下一年节假日安排 in a real browser at phone width: the administrator types next year's arrangement on the
工作日历 page of the production server; a wrong line comes back next to its field with what was typed, and once
corrected the year is saved and covered. The arrangement is FICTITIOUS, not the real 2027 notice."""
from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import screenshot, wait_for_text
from tests.browser.test_admin_in_browser import PHONE, _field_error, _fits_the_width, _log_in
from tests.timers.calendar_lines import DAYS_OFF_2027, SAVED_HOLIDAYS_2027
from timers.calendar import OVERRIDE_ENV_VAR

pytestmark = pytest.mark.browser


@pytest.fixture
def override(tmp_path, monkeypatch):
    """An empty override file in the server's environment (requested before ``server``, which inherits it)."""
    path = tmp_path / "calendar_override.json"
    path.write_text(json.dumps({"years": {}}), encoding="utf-8")
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(path))
    return path


def _type(browser, field_id: str, text: str) -> None:
    field = browser.find_element(By.ID, field_id)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    field.clear()
    field.send_keys(text)


def test_an_administrator_enters_next_years_arrangement_at_phone_width(override, server, browser):
    browser.set_window_size(*PHONE)
    WebDriverWait(browser, 5).until(lambda b: b.execute_script("return window.innerWidth") <= PHONE[0])
    _log_in(browser, server, "zhanggong_admin", "demo")
    wait_for_text(browser, "我的待办")
    browser.get(f"{server}/admin/calendar")
    wait_for_text(browser, "录入下一年节假日安排")
    assert browser.find_element(By.CSS_SELECTOR, "#f-year option:checked").text == "2027"
    _type(browser, "f-source", "虚构通知（测试）")
    _type(browser, "f-holidays", SAVED_HOLIDAYS_2027 + "\n2027-02-31 春节")
    _type(browser, "f-workdays", "2027-02-14 春节调休上班")
    browser.find_element(By.XPATH, "//button[.='保存到工作日历']").click()
    wait_for_text(browser, "请修改标出的项目后重新提交")
    assert "第 8 行“2027-02-31 春节”：日期不存在" in _field_error(browser, "f-holidays")
    assert browser.find_element(By.ID, "f-workdays").get_attribute("value") == "2027-02-14 春节调休上班"
    _fits_the_width(browser, "the calendar form with an error")
    screenshot(browser, "admin-calendar-year-error-phone")
    assert json.loads(override.read_text(encoding="utf-8")) == {"years": {}}

    _type(browser, "f-holidays", SAVED_HOLIDAYS_2027)
    browser.find_element(By.XPATH, "//button[.='保存到工作日历']").click()
    wait_for_text(browser, f"已保存 2027 年节假日安排：放假 {DAYS_OFF_2027} 天，调休上班 1 天")
    assert "2004–2027" in browser.page_source
    _fits_the_width(browser, "the calendar page after saving")
    screenshot(browser, "admin-calendar-year-saved-phone")
    assert json.loads(override.read_text(encoding="utf-8"))["years"]["2027"]["workdays"] == {"2027-02-14": "春节调休上班"}
