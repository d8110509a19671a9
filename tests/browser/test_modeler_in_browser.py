"""A policy editor opens 章贡区's deployed diagram in the bpmn-js modeler, renames a step and saves it as a draft,
in a real browser; the draft keeps the spiffworkflow extensions, so it still passes the engine's validation."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from engine.bpmn.deployment import latest_version
from engine.core.db import db
from engine.core.models import DiagramDraft
from engine.library.drafts import check_draft
from tests.browser.conftest import console_errors, screenshot, wait_for_text
from tests.browser.test_official_in_browser import _log_in

pytestmark = pytest.mark.browser

RENAME = """
const modeler = window.fangpinModeler;
const element = modeler.get('elementRegistry').get(arguments[0]);
modeler.get('modeling').updateLabel(element, arguments[1]);
return modeler.get('elementRegistry').get(arguments[0]).businessObject.name;
"""


def test_a_policy_editor_renames_a_step_in_the_modeler_and_saves_a_draft(web_app, server, browser):
    with web_app.app_context():
        version_id = latest_version("identification_zhanggong_2021").id
    _log_in(browser, server, "jiangxi_zhengce")
    wait_for_text(browser, "我的待办")
    browser.get(f"{server}/diagrams/versions/{version_id}/modeler")
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.ID, "modeler").get_attribute("data-ready") in ("true", "error"))
    assert browser.find_element(By.ID, "modeler").get_attribute("data-ready") == "true", browser.page_source[-2000:]
    assert console_errors(browser) == []  # e.g. bpmn-js refusing an option it no longer has
    assert browser.execute_script(RENAME, "town_post", "在镇、村张贴公示（七天）") == "在镇、村张贴公示（七天）"
    note = browser.find_element(By.ID, "modeler-note")
    note.clear()
    note.send_keys("改名测试")
    browser.find_element(By.ID, "modeler-save").click()
    wait_for_text(browser, "草稿已保存")
    screenshot(browser, "20-modeler-draft-saved")
    with web_app.app_context():
        draft = db.session.scalar(select(DiagramDraft).order_by(DiagramDraft.id.desc()))
        assert (draft.file_name, draft.note, draft.saved_by) == (
            "identification_zhanggong_2021.bpmn", "改名测试", "jiangxi_zhengce")
        xml = draft.content.decode()
        assert 'name="在镇、村张贴公示（七天）"' in xml and "formJsonSchemaFilename" in xml
        assert check_draft(draft.id) == ["identification_zhanggong_2021"]  # still deployable
    browser.find_element(By.LINK_TEXT, "校验或部署").click()
    wait_for_text(browser, f"草稿 {draft.id}")
    browser.get(f"{server}/diagrams")
    wait_for_text(browser, "流程图库")
    screenshot(browser, "21-diagram-library")
    browser.set_window_size(390, 844)
    browser.get(f"{server}/diagrams/versions/{version_id}")
    wait_for_text(browser, "主流程")
    screenshot(browser, "22-diagram-version-phone")
