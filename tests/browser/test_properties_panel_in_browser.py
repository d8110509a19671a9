"""Issue #17: a policy editor who does not read XML adds a step to the identification 章贡区 runs, in the browser — a new
lane and a new user task in it — and sets its form, its lane's role and a working-day due date through the
properties panel (in Chinese), saves a draft, validates it (校验) and deploys it for 章贡区 only; the stored XML is
the engine's own convention (spiffworkflow:property formJsonSchemaFilename / dueDate / publicStage, a lane named by the role) and
the engine runs it. At a phone's width the page still works."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from lxml import etree
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from engine.bpmn.deployment import latest_version
from engine.bpmn.spec_cache import SPECS
from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.models import DiagramDraft, DiagramFile
from engine.households.register import register_household
from engine.library.drafts import check_draft
from engine.policy.parameters import resolve
from engine.policy.permissions import jurisdiction_by_code
from tests.bdd.officials import household_data
from tests.browser.conftest import screenshot, wait_for_text
from tests.browser.test_official_in_browser import _log_in
from timers.calendar import to_local_date

pytestmark = pytest.mark.browser

PROCESS = "identification"  # what 章贡区 (bound through 江西省) runs today
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}

# What the editor does with the mouse on the canvas (the panel is then used through its fields): a lane below
# 县级 (context pad: 在下方添加泳道), a user task in it between 录入系统 and the join, selected.
ADD_STEP = """
const modeler = window.fangpinModeler;
const registry = modeler.get('elementRegistry'), modeling = modeler.get('modeling');
const county = registry.get('Lane_identification_2');
const lane = modeling.addLane(county, 'bottom');
const entry = registry.get('system_entry'), join = registry.get('join');
const x = entry.x + entry.width / 2 + 60, y = lane.y + lane.height / 2;
const task = modeling.createShape({ type: 'bpmn:UserTask' }, { x: x, y: y }, registry.get('Pool_identification'));
const flow = registry.get('Flow_system_entry_join');
modeling.reconnectEnd(flow, task, { x: task.x, y: task.y + task.height / 2 });
modeling.connect(task, join);
modeler.get('selection').select(task);
return [task.id, lane.id, (lane.businessObject.name || '')];
"""
ADD_TIMER = """
const modeler = window.fangpinModeler, registry = modeler.get('elementRegistry');
const timer = modeler.get('modeling').createShape(
  { type: 'bpmn:IntermediateCatchEvent', eventDefinitionType: 'bpmn:TimerEventDefinition' },
  { x: 400, y: 700 }, registry.get('Pool_identification'));
modeler.get('selection').select(timer);
return timer.id;
"""
TIMER_DATE = """
const timer = window.fangpinModeler.get('elementRegistry').get(arguments[0]).businessObject.eventDefinitions[0];
return timer.timeDate ? timer.timeDate.body : null;
"""
STATE = """
const modeler = window.fangpinModeler;
const registry = modeler.get('elementRegistry');
const task = registry.get(arguments[0]).businessObject, lane = registry.get(arguments[1]).businessObject;
const props = {};
(task.extensionElements ? task.extensionElements.values : []).forEach(function (v) {
  (v.properties || []).forEach(function (p) { props[p.name] = p.value; });
});
return { name: task.name || '', lane: lane.name || '', props: props };
"""


def _panel(browser):
    return browser.find_element(By.ID, "properties")


def _field(browser, entry_id: str):
    return browser.find_element(By.ID, f"bio-properties-panel-{entry_id}")


def _select(browser, element_id: str) -> None:
    browser.execute_script("const m = window.fangpinModeler;"
                           "m.get('selection').select(m.get('elementRegistry').get(arguments[0]));", element_id)


def _choose(browser, entry_id: str, value: str) -> None:
    """Pick an option of one of the panel's selects as the editor's click does: the select gets the value and
    fires its input and change events (WebDriver's option click does not fire "input", which the panel reads)."""
    select = _field(browser, entry_id)
    assert value in [o.get_attribute("value") for o in Select(select).options], (entry_id, value)
    browser.execute_script("arguments[0].value = arguments[1];"
                           "arguments[0].dispatchEvent(new Event('input', { bubbles: true }));"
                           "arguments[0].dispatchEvent(new Event('change', { bubbles: true }));", select, value)


def _wait_state(browser, task_id: str, lane_id: str, check, message: str) -> dict:
    seen: list[dict] = []

    def done(b) -> bool:
        seen[:] = [b.execute_script(STATE, task_id, lane_id)]
        return check(seen[0])

    try:
        WebDriverWait(browser, 10).until(done)
    except TimeoutException:
        raise AssertionError(f"{message}: {seen}") from None
    return seen[0]


def test_a_policy_editor_sets_form_role_and_working_day_due_date_in_the_panel_and_deploys_for_one_county(
        web_app, server, browser, clock):
    with web_app.app_context():
        before = latest_version(PROCESS)
    _log_in(browser, server, "jiangxi_zhengce")
    browser.get(f"{server}/diagrams/versions/{before.id}/modeler")
    WebDriverWait(browser, 30).until(
        lambda b: b.find_element(By.ID, "modeler").get_attribute("data-ready") in ("true", "error"))
    assert browser.find_element(By.ID, "modeler").get_attribute("data-ready") == "true", browser.page_source[-2000:]
    assert _panel(browser).get_attribute("data-ready") == "true", _panel(browser).text
    # the palette, the context pad and the panel speak Chinese
    titles = [e.get_attribute("title") for e in browser.find_elements(By.CSS_SELECTOR, ".djs-palette .entry")]
    assert "开始事件" in titles and "任务" in titles and "框选" in titles, titles
    assert not [t for t in titles if t and re.fullmatch(r"[A-Za-z /-]+", t)], titles
    assert "选择图中的一个元素" in _panel(browser).text or "基本信息" in _panel(browser).text

    task_id, lane_id, lane_name = browser.execute_script(ADD_STEP)
    assert lane_name == ""
    wait_for_text(browser, "办理（表单、角色）")
    assert "办理期限" in _panel(browser).text and "基本信息" in _panel(browser).text
    pad = [e.get_attribute("title") for e in browser.find_elements(By.CSS_SELECTOR, ".djs-context-pad .entry")]
    assert "追加任务" in pad and "删除" in pad, pad
    screenshot(browser, "26-properties-panel-new-task")

    name = _field(browser, "name")
    name.send_keys("行业部门核实比对结果")
    form = Select(_field(browser, "fangpin-form"))
    assert "预警信息入户核查（warning_verification.json）" in [o.text for o in form.options]
    _choose(browser, "fangpin-form", "warning_verification.json")
    role = Select(_field(browser, "fangpin-role"))
    assert "行业部门（泳道名：行业部门）" in [o.text for o in role.options]
    _choose(browser, "fangpin-role", "department_officer")
    kind = Select(_field(browser, "fangpin-due-kind"))
    assert [o.text for o in kind.options][:4] == ["无期限", "N 个自然日（日历天）", "N 个工作日", "N 个月"]
    _choose(browser, "fangpin-due-kind", "working_days_from")
    state = _wait_state(browser, task_id, lane_id, lambda s: "dueDate" in s["props"], "no due date written")
    assert state["props"]["dueDate"] == "working_days_from(today(), 5)"
    start = Select(_field(browser, "fangpin-due-start"))
    assert start.first_selected_option.text == "任务开始之日（today()）"
    decided = [o.text for o in start.options if o.text.endswith("（decided_on）")]  # a case date, by the forms' titles
    assert len(decided) == 1 and "审定日期（即识别日期）" in decided[0] and "审定日期（即风险消除日期）" in decided[0]
    amount = _field(browser, "fangpin-due-amount")
    amount.send_keys(Keys.CONTROL, "a")
    amount.send_keys("10")  # typed over the 5 (the keys stay in the field: the diagram's shortcuts ignore them)
    state = _wait_state(browser, task_id, lane_id,
                        lambda s: s["props"].get("dueDate") == "working_days_from(today(), 10)", "N not written")
    stage = Select(_field(browser, "fangpin-mark-publicStage"))  # what the applicant's progress page says of it
    labels = [o.get_attribute("textContent") for o in stage.options]  # the group is folded: not displayed text
    assert labels[:3] == ["（不设）", "受理中（application）", "入户核实（verification）"]
    ledger = Select(_field(browser, "fangpin-mark-ledgerStep"))
    assert "入户采集和排查（household_visit）" in [o.get_attribute("textContent") for o in ledger.options]
    _choose(browser, "fangpin-mark-publicStage", "review")
    state = _wait_state(browser, task_id, lane_id, lambda s: "publicStage" in s["props"], "no public stage written")
    assert state == {"name": "行业部门核实比对结果", "lane": "行业部门",
                     "props": {"formJsonSchemaFilename": "warning_verification.json",
                               "dueDate": "working_days_from(today(), 10)", "publicStage": "review"}}
    assert "写入：working_days_from(today(), 10)" in _panel(browser).text
    browser.find_element(By.CSS_SELECTOR, "#properties details.fangpin-functions summary").click()
    assert "working_days_from(start, n, extend_over_holidays=False)" in _panel(browser).text
    screenshot(browser, "27-properties-panel-form-role-due")

    note = browser.find_element(By.ID, "modeler-note")
    note.clear()
    note.send_keys("增加行业部门核实")
    browser.find_element(By.ID, "modeler-save").click()
    wait_for_text(browser, "草稿已保存")
    with web_app.app_context():
        draft = db.session.scalar(select(DiagramDraft).order_by(DiagramDraft.id.desc()))
        assert (draft.file_name, draft.note) == (f"{PROCESS}.bpmn", "增加行业部门核实")
        _assert_engine_convention(draft.content, task_id, lane_id)
        assert check_draft(draft.id) == [PROCESS]

    browser.find_element(By.LINK_TEXT, "校验或部署").click()
    wait_for_text(browser, f"草稿 {draft.id}")
    browser.find_element(By.LINK_TEXT, "校验").click()
    wait_for_text(browser, "校验通过")
    screenshot(browser, "28-properties-panel-draft-validated")
    browser.find_element(By.CSS_SELECTOR, "details.bind-fields summary").click()
    Select(browser.find_element(By.ID, "bind_jurisdiction")).select_by_value("360702")
    Select(browser.find_element(By.ID, "bind_procedure")).select_by_value("identification")
    tomorrow = to_local_date(clock.now()) + timedelta(days=1)
    browser.execute_script("document.getElementById('bind_effective_from').value = arguments[0];", tomorrow.isoformat())
    browser.find_element(By.ID, "bind_source").send_keys("章贡区测试文件")
    browser.find_element(By.XPATH, "//button[text()='校验并部署']").click()
    wait_for_text(browser, f"已部署：{PROCESS} v{before.version + 1}")
    assert "已绑定" in browser.page_source and "章贡区" in browser.page_source
    screenshot(browser, "29-properties-panel-deployed")

    with web_app.app_context():
        after = latest_version(PROCESS)
        assert after.version == before.version + 1
        main = next(f for f in after.files if f["file_name"] == f"{PROCESS}.bpmn")
        stored = db.session.get(DiagramFile, main["sha256"]).content
        assert stored == draft.content  # deployed byte for byte as saved
        _assert_engine_convention(stored, task_id, lane_id)
        spec, _ = SPECS.get(after)  # what the engine runs
        task = spec.task_specs[task_id]
        assert task.lane == "行业部门" and task.extensions["properties"] == {
            "formJsonSchemaFilename": "warning_verification.json", "dueDate": "working_days_from(today(), 10)",
            "publicStage": "review"}
        county = jurisdiction_by_code("360702")
        assert resolve("identification.process", county, tomorrow) == f"{PROCESS}@{after.version}"
    clock.advance(timedelta(days=1))  # from the effective date, 章贡区's new cases start on the new version
    with web_app.app_context():
        household = register_household(household_data("沙河村", "面板户", 2), "shahe_cun", clock)
        case = open_identification(household.id, "self_application", tomorrow, "shahe_cun", clock)
        assert case.process_version_id == after.id

    # a phone: the panel goes below the diagram, nothing is wider than the screen
    browser.set_window_size(390, 844)
    browser.get(f"{server}/diagrams/versions/{after.id}/modeler")
    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "modeler").get_attribute("data-ready") == "true")
    _select(browser, task_id)
    wait_for_text(browser, "办理（表单、角色）")
    assert Select(_field(browser, "fangpin-role")).first_selected_option.get_attribute("value") == "department_officer"
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    canvas = browser.find_element(By.ID, "modeler").rect
    panel = _panel(browser).rect
    assert panel["y"] >= canvas["y"] + canvas["height"] - 1 and panel["width"] <= width
    screenshot(browser, "30-properties-panel-phone")
    browser.execute_script("document.getElementById('properties').scrollIntoView();")
    assert "办理角色（泳道）" in _panel(browser).text and "人工任务" in _panel(browser).text
    screenshot(browser, "31-properties-panel-phone-panel")

    # the other elements the panel edits show what the diagram says (nothing saved from here on)
    for element_id, entry_id, value in (("village_publicity", "fangpin-called-process", "publicity_period"),
                                        ("classify", "fangpin-decision", "household_category")):
        _select(browser, element_id)
        assert _field(browser, entry_id).get_attribute("value") == value, element_id
    _select(browser, "case_limit")
    assert "start_case_deadline(" in _field(browser, "fangpin-script").get_attribute("value")
    assert "可用的函数（受限的 Python）" in _panel(browser).text
    _select(browser, "Flow_eligible_rejected")
    assert _field(browser, "fangpin-condition").get_attribute("value") == 'decision == "reject"'
    timer = browser.execute_script(ADD_TIMER)
    _choose(browser, "fangpin-due-kind", "days_from")
    WebDriverWait(browser, 10).until(lambda b: b.execute_script(TIMER_DATE, timer) == "days_from(today(), 5)")
    assert Select(_field(browser, "fangpin-due-start")).first_selected_option.text == "定时开始之日（today()）"


def _assert_engine_convention(content: bytes, task_id: str, lane_id: str) -> None:
    """The new task carries its form and due date as the shipped diagrams do, and its lane names the role."""
    root = etree.fromstring(content)
    task = root.find(f".//bpmn:userTask[@id='{task_id}']", NS)
    assert task is not None and task.get("name") == "行业部门核实比对结果"
    props = task.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    assert [(p.get("name"), p.get("value")) for p in props] == [
        ("formJsonSchemaFilename", "warning_verification.json"), ("dueDate", "working_days_from(today(), 10)"),
        ("publicStage", "review")]
    lane = root.find(f".//bpmn:lane[@id='{lane_id}']", NS)
    assert lane.get("name") == "行业部门"
    assert task_id in [ref.text for ref in lane.findall("bpmn:flowNodeRef", NS)]
    assert root.find(".//bpmn:userTask[@id='apply']/bpmn:extensionElements/spiffworkflow:properties", NS) is not None


PROCESS_PROCEDURE = """
const process = window.fangpinModeler.get('elementRegistry').get(arguments[0]).businessObject.processRef;
const found = [];
(process.extensionElements ? process.extensionElements.values : []).forEach(function (v) {
  (v.properties || []).forEach(function (p) { if (p.name === 'procedure') { found.push(p.value); } });
});
return found;
"""


def test_the_pool_shows_the_procedure_its_diagram_carries_out_and_another_one_is_refused_on_deploying(
        web_app, server, browser):
    """The editor selects the pool: 办理程序 shows what the process declares; changing it to 风险消除 writes the
    process's property (the XML the engine reads), and the new version is refused when checked and deployed, as a
    binding following the newest version would switch procedure."""
    with web_app.app_context():
        before = latest_version(PROCESS)
    _log_in(browser, server, "jiangxi_zhengce")
    browser.get(f"{server}/diagrams/versions/{before.id}/modeler")
    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "modeler").get_attribute("data-ready") == "true")
    _select(browser, "Pool_identification")
    wait_for_text(browser, "办理程序")
    procedure = Select(_field(browser, "fangpin-procedure"))
    assert procedure.first_selected_option.get_attribute("value") == "identification"
    labels = [o.get_attribute("textContent") for o in procedure.options]
    assert labels[:3] == ["（不设）", "识别纳入（identification）", "帮扶回访（followup）"]
    assert "风险消除（elimination）" in labels
    described = _panel(browser).get_attribute("textContent")  # the group is folded: not displayed text
    assert "写入流程“识别纳入（江西省2023年指南）”（identification）的属性 procedure" in described
    _choose(browser, "fangpin-procedure", "elimination")
    WebDriverWait(browser, 10).until(
        lambda b: b.execute_script(PROCESS_PROCEDURE, "Pool_identification") == ["elimination"])
    screenshot(browser, "32-properties-panel-procedure")
    browser.find_element(By.ID, "modeler-save").click()
    wait_for_text(browser, "草稿已保存")
    with web_app.app_context():
        draft = db.session.scalar(select(DiagramDraft).order_by(DiagramDraft.id.desc()))
        root = etree.fromstring(draft.content)
        props = root.findall("bpmn:process[@id='identification']/bpmn:extensionElements/spiffworkflow:properties/"
                             "spiffworkflow:property[@name='procedure']", NS)
        assert [p.get("value") for p in props] == ["elimination"]

    browser.find_element(By.LINK_TEXT, "校验或部署").click()
    wait_for_text(browser, f"草稿 {draft.id}")
    refusal = "声明的办理程序“风险消除”（elimination）与该流程已部署的版本不同"
    browser.find_element(By.LINK_TEXT, "校验").click()
    wait_for_text(browser, refusal)
    browser.find_element(By.XPATH, "//button[text()='校验并部署']").click()
    wait_for_text(browser, "草稿未通过校验，未部署任何内容")
    assert refusal in browser.page_source and "请把办理程序改回“识别纳入”" in browser.page_source
    with web_app.app_context():
        assert latest_version(PROCESS).id == before.id
