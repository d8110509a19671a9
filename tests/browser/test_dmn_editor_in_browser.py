"""A policy editor opens a DMN draft in the dmn-js decision table editor, changes a rule's condition by typing in
its cell and saves it as a new draft, in a real browser; the saved bytes are a DMN document SpiffWorkflow reads
and the draft still validates with the process that calls the table. The library lists the decision table."""
from __future__ import annotations

import pytest
from lxml import etree
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import select

from engine.core.db import db
from engine.core.models import DiagramDraft, User
from engine.library.deploying import diagram_source
from engine.library.drafts import check_draft, save_draft
from tests.browser.conftest import console_errors, screenshot, wait_for_text
from tests.browser.test_official_in_browser import _log_in
from tests.web.test_diagrams import GRADE_DMN, deploy_grade, grade_dmn

pytestmark = pytest.mark.browser

CELL = "//div[contains(@class, 'dmn-decision-table-container')]//td[normalize-space(.)='>= 60']"
CELLS = """
const table = window.fangpinModeler.getActiveViewer().get('sheet').getRoot();
return table.rows.map(row => row.cells.map(cell => cell.businessObject.text));
"""


def _ready(browser) -> None:
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.ID, "modeler").get_attribute("data-ready") in ("true", "error"))
    assert browser.find_element(By.ID, "modeler").get_attribute("data-ready") == "true", browser.page_source[-2000:]
    assert console_errors(browser) == []


def test_a_policy_editor_edits_a_decision_table_in_dmn_js_and_saves_a_draft(web_app, server, browser, clock):
    deploy_grade(web_app, clock)  # the process calling the table, so the draft can be validated with it
    with web_app.app_context():
        editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
        draft_id = save_draft(editor, diagram_source(GRADE_DMN, grade_dmn()), "分数线 60", clock).id
    _log_in(browser, server, "jiangxi_zhengce")
    browser.get(f"{server}/diagrams/drafts/{draft_id}/modeler")
    _ready(browser)
    assert browser.execute_script("return window.fangpinModeler.getActiveView().type") == "decisionTable"
    tabs = browser.find_element(By.ID, "dmn-views")
    assert "决策表：测试评级" in tabs.text
    tabs.find_element(By.XPATH, ".//button[.='决策需求图']").click()  # the views are tabs: there and back
    WebDriverWait(browser, 5).until(lambda b: b.execute_script("return window.fangpinModeler.getActiveView().type")
                                    == "drd")
    browser.find_element(By.XPATH, "//nav[@id='dmn-views']/button[.='决策表：测试评级']").click()
    WebDriverWait(browser, 5).until(lambda b: b.find_elements(By.XPATH, CELL))
    assert browser.execute_script(CELLS) == [[">= 60", '"合格"'], ["", '"不合格"']]
    cell = browser.find_element(By.XPATH, CELL)
    cell.click()
    editable = cell.find_element(By.CSS_SELECTOR, "[contenteditable='true']")
    editable.send_keys(Keys.END, Keys.BACKSPACE, Keys.BACKSPACE, "75")
    browser.find_element(By.ID, "modeler-note").click()
    WebDriverWait(browser, 5).until(lambda b: b.execute_script(CELLS)[0][0] == ">= 75",
                                    message="the typed condition never reached the table")
    note = browser.find_element(By.ID, "modeler-note")
    note.clear()
    note.send_keys("分数线改为 75")
    screenshot(browser, "23-dmn-editor")
    browser.find_element(By.ID, "modeler-save").click()
    wait_for_text(browser, "草稿已保存")
    screenshot(browser, "24-dmn-draft-saved")
    with web_app.app_context():
        draft = db.session.scalar(select(DiagramDraft).order_by(DiagramDraft.id.desc()))
        assert draft.id != draft_id
        assert (draft.file_name, draft.note, draft.saved_by) == (GRADE_DMN, "分数线改为 75", "jiangxi_zhengce")
        root = etree.fromstring(draft.content)
        assert etree.QName(root).namespace == "https://www.omg.org/spec/DMN/20191111/MODEL/"
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_dmn_xml(root, filename=draft.file_name)
        assert parser.get_engine("test_grade", None) is not None  # SpiffWorkflow reads the saved table
        texts = [t.text for t in root.iter("{*}text")]
        assert ">= 75" in texts and ">= 60" not in texts
        assert check_draft(draft.id) == ["test_grade_process"]  # still deployable with its process
    browser.find_element(By.LINK_TEXT, "校验或部署").click()
    wait_for_text(browser, f"草稿 {draft.id}")
    browser.get(f"{server}/diagrams#decisions")
    wait_for_text(browser, "测试评级")
    browser.execute_script("document.getElementById('decisions').scrollIntoView()")
    screenshot(browser, "25-diagram-library-decision-tables")
