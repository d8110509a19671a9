"""Form tables as cards (web.formrender): a new card starts with its items' defaults, and a card left as it was
added is no row; options without their own names read as the vocabulary's Chinese labels; an error in a card's
cell is kept for that cell, naming its column; a measure (具体措施) is chosen from the catalogue of policy data."""
from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from engine.bpmn.forms import load_form
from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import HumanTask
from engine.demo import drive_case
from engine.households.measures import categories
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.factories import at_assistance_plan
from tests.webclient import HttpBrowser, csrf_token, login, serve
from timers.calendar import to_local_date
from web.formrender import errors_by_field, fields_of, parse, table_rows, with_posted

SCHEMA = {"properties": {
    "category": {"type": ["string", "null"], "enum": ["unstable", "marginal", "sudden", None], "title": "认定类别"},
    "members": {"type": "array", "title": "家庭成员（A5–A22）", "items": {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "title": "姓名（A5）"},
                       "lives_with_household": {"type": "boolean", "title": "实际共同生活", "default": True},
                       "dibao": {"type": "boolean", "title": "享受农村低保（A20）"}}}}}}


def test_a_new_card_has_its_defaults_and_an_untouched_one_is_no_row():
    fields = fields_of(SCHEMA)
    members = fields[1]
    assert members.item == "家庭成员" and table_rows(members, None) == [{"lives_with_household": True}]
    posted = MultiDict([("members-0-name", "张三"), ("members-0-lives_with_household", "on"),
                        ("members-1-lives_with_household", "on"),  # added, left as it was
                        ("members-2-dibao", "on"), ("members-2-lives_with_household", "on"),  # a box ticked
                        ("members-3-name", "李四")])  # its default box unticked: lives elsewhere
    assert parse(fields, posted)["members"] == [
        {"name": "张三", "lives_with_household": True, "dibao": False},
        {"lives_with_household": True, "dibao": True},
        {"name": "李四", "lives_with_household": False, "dibao": False}]
    assert table_rows(members, [{"name": "张三"}]) == [{"name": "张三"}]  # "添加家庭成员" adds the next one


def test_codes_read_as_their_chinese_labels():
    assert fields_of(SCHEMA)[0].choices == [("unstable", "脱贫不稳定户"), ("marginal", "边缘易致贫户"),
                                            ("sudden", "突发严重困难户")]


def test_a_cells_error_is_kept_for_the_cell_and_its_place_named_in_the_summary():
    errors = errors_by_field([("members/1/name", "必填"), ("category", "不是可选的值")], fields_of(SCHEMA))
    assert errors == {"members-1-name": "姓名（A5）：必填", "members": "第 2 行的“姓名（A5）”有误", "category": "不是可选的值"}
    assert errors_by_field([("members/0/name", "必填")]) == {"members-0-name": "必填", "members": "第 1 行：必填"}


# ---------------------------------------------------------------- 具体措施 chosen from the catalogue (#16)


def test_a_measure_is_chosen_from_the_catalogue_of_its_category():
    """The options are policy/measures.json's, grouped by category (no list in code): a category without items
    (A44 饮水安全保障) offers its own name."""
    for form in ("assistance_plan.json", "green_channel_entry.json"):
        measures = next(f for f in fields_of(load_form(form)) if f.name == "measures")
        item = next(c for c in measures.children if c.name == "item")
        assert item.kind == "choice" and item.depends_on == "category"
        groups = {key: (label, [value for value, _ in options]) for key, label, options in item.option_groups}
        assert list(groups) == list(categories())
        for code, category in categories().items():
            expected = [i["label"] for i in category.get("items", [])] or [category["label"]]
            assert groups[code] == (category["label"], expected), code
    assert "种植业" in groups["A39"][1] and groups["A44"][1] == ["饮水安全保障"]


def test_the_plan_page_offers_the_catalogue_and_names_the_field_of_a_measure_outside_it(web_app, clock):
    task_id = at_assistance_plan(web_app, clock)
    client = login(web_app.test_client(), "shahe_cun")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    item = page[page.index('name="measures-0-item"'):]
    item = item[:item.index("</select>")]
    assert 'data-depends-on="measures-0-category"' in item
    assert '<optgroup label="产业帮扶" data-key="A39">' in item and '<option value="种植业" >种植业</option>' in item
    assert '<optgroup label="就业帮扶" data-key="A40">' in item and ">技能培训</option>" in item
    today = to_local_date(clock.now()).isoformat()
    plan = [("csrf_token", csrf_token(page)), ("responsible_person", "王帮扶"), ("able_and_willing", "on"),
            ("plan_publicized_on", today), ("measures-0-category", "A39")]
    wrong = client.post(f"/tasks/{task_id}", data=MultiDict([*plan, ("measures-0-item", "技能培训")]))
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    error = re.search(r'<p class="error" id="err-measures-0-item">(.*?)</p>', html).group(1)
    assert error.startswith("具体措施：“技能培训”不是产业帮扶的措施，应为：种植业、")  # names the field and the choices
    select_tag = re.search(r'<select name="measures-0-item"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in select_tag and "err-measures-0-item" in select_tag
    assert "第 1 行的“具体措施”有误" in html and html.count("不是产业帮扶的措施") == 1  # where, the reason once
    done = client.post(f"/tasks/{task_id}", data=MultiDict([*plan, ("measures-0-item", "种植业")]))
    assert done.status_code == 302
    with web_app.app_context():
        row = db.session.get(HumanTask, task_id)
        assert row.state == "COMPLETED" and row.form_data["measures"] == [{"category": "A39", "item": "种植业"}]


def test_a_death_is_recorded_without_the_optional_new_member_its_unticked_boxes_would_make():
    """成员自然变更, 死亡: the form's optional 新增成员 is left blank (its boxes unticked): it is not sent, so that the
    schema asks only for the leaving member — it asked for the new member's name, ID number and relation."""
    from engine.bpmn.forms import validate_form

    schema = load_form("member_change.json")
    posted = parse(fields_of(schema), MultiDict({"change_type": "death", "changed_on": "2026-09-18",
                                                 "proof": "死亡证明", "leaving_id_number": with_check_character("36070219700512001")}))
    assert "new_member" not in posted
    validate_form("member_change.json", posted)
    required = {"properties": {"income": {"type": "object", "properties": {"wages": {"type": "number"}}}},
                "required": ["income"]}
    assert parse(fields_of(required), MultiDict()) == {"income": {}}  # a required part still says what it lacks


# ---------------------------------------------------------------- a form as the case's place offers it


def _ready_after(web_app, clock, village: str, head: str, step: str, form: str) -> int:
    """A new identification of a household of ``village`` done with sample data up to ``step``: the id of its
    ready task of ``form``."""
    with web_app.app_context():
        household = register_household(household_data(village, head, 2), "system", clock)
        case_id = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "system", clock).id
        drive_case(case_id, clock, until=step)
        return db.session.scalar(select(HumanTask.id).filter_by(case_id=case_id, state="READY", form=form))


def test_a_field_the_place_does_not_offer_is_read_from_a_post_that_has_it():
    """A post is read with the fields shown and, in the form's order, any other field of the form it has — so that
    the engine refuses it at that field instead of taking the post without it."""
    every = fields_of({"properties": {"a": {"type": "string"}, "b": {"type": "boolean"},
                                      "c": {"type": "object", "properties": {"d": {"type": "string"}}}}})
    shown = [every[0]]
    assert with_posted(shown, every, MultiDict({"a": "x"})) is shown
    assert [f.name for f in with_posted(shown, every, MultiDict({"b": "on", "a": "x"}))] == ["a", "b"]
    assert [f.name for f in with_posted(shown, every, MultiDict({"c.d": "y"}))] == ["a", "c"]
    assert parse(with_posted(shown, every, MultiDict({"b": "on"})), MultiDict({"b": "on"})) == {"b": True}


def test_the_verification_page_offers_the_places_own_exclusion_criteria(web_app, clock):
    """江西 (001): its cases of 可不纳入、持续跟踪, never 鞍山's high-value housing (weighed there, Q14), over real HTTP:
    the page, the JSON API's form of the task, and a post of another place's criterion refused at its field."""
    task_id = _ready_after(web_app, clock, "沙河村", "清单户", "受理申请并签署承诺授权书", "household_verification.json")
    with serve(web_app) as base:
        township = HttpBrowser(base)
        township.login("shahe_zhen", "demo")
        page = township.get(f"/tasks/{task_id}").read().decode()
        assert "推算收入低于监测范围，但未出现返贫（致贫）风险" in page and 'value="below_line_no_risk"' in page
        assert "有高价商品房" not in page and 'value="high_value_housing"' not in page
        schema = json.loads(township.get(f"/api/tasks/{task_id}/form").read())["schema"]
        assert schema["properties"]["exclusions"]["items"]["enum"] == [
            "stable_no_risk", "below_line_no_risk", "high_income_self_solvable"]
        refused = township.post(f"/tasks/{task_id}", [
            ("verified_on", "2026-09-20"), ("income.household_size", "2"), ("income.wages", "8000"),
            ("income.business_income", "0"), ("income.property_income", "0"), ("income.transfer_income", "0"),
            ("income.business_expenses", "0"), ("risk_types", "illness"), ("exclusions", "high_value_housing")])
        answer = refused.read().decode()
        assert refused.status == 422 and 'id="err-exclusions"' in answer and "不在江西省" in answer
    with web_app.app_context():
        assert db.session.get(HumanTask, task_id).state == "READY"


def test_the_comparison_offers_reusing_an_earlier_one_only_where_the_places_policy_has_the_rule(web_app, clock):
    """001 Q43, over real HTTP: 江西 (identification.comparison_reuse_months = 3) offers “3 个月内已比对” (the months
    the parameter's) and its date on the 信息比对 page and in the API's task form, and refuses the date posted without
    the tick, at the date; 鞍山 (000, no such rule) offers neither, and a post of them — the page's or the API's — is
    refused at each field in Chinese, with nothing saved."""
    jiangxi = _ready_after(web_app, clock, "沙河村", "比对甲", "入户核实", "information_comparison.json")
    anshan = _ready_after(web_app, clock, "新华村", "比对乙", "乡镇审核（入户核查）", "information_comparison.json")
    reuse = ("earlier_comparison_reused", "earlier_compared_on")
    today = to_local_date(clock.now()).isoformat()
    posted = [("compared_on", today), ("decision", "approve")]
    with serve(web_app) as base:
        zhanggong = HttpBrowser(base)
        zhanggong.login("zhanggong_xian", "demo")
        page = zhanggong.get(f"/tasks/{jiangxi}").read().decode()
        assert all(f'name="{name}"' in page for name in reuse) and "前 3 个月内已开展过信息比对" in page
        assert "3 个月内已比对（低保对象、分散供养特困人员等）" in page and "三个月" not in page
        schema = json.loads(zhanggong.get(f"/api/tasks/{jiangxi}/form").read())["schema"]
        assert set(reuse) <= set(schema["properties"])
        assert schema["properties"]["earlier_comparison_reused"]["title"].startswith("3 个月内已比对")
        unticked = zhanggong.post(f"/tasks/{jiangxi}", [*posted, ("earlier_compared_on", "2026-09-01")])
        error = re.search(r'<p class="error" id="err-earlier_compared_on">(.*?)</p>', unticked.read().decode())
        assert unticked.status == 422 and error and error.group(1) == (
            "填写了此前比对日期 2026-09-01，但未勾选“3 个月内已比对”：共用此前比对结果的请勾选此项，本次已开展比对的请清空此前比对日期")
        taian = HttpBrowser(base)
        taian.login("taian_xian", "demo")
        page = taian.get(f"/tasks/{anshan}").read().decode()
        assert 'name="compared_on"' in page and not any(name in page for name in reuse)
        assert "个月内已比对" not in page and "此前比对日期" not in page
        schema = json.loads(taian.get(f"/api/tasks/{anshan}/form").read())["schema"]
        assert not set(reuse) & set(schema["properties"]) and "earlier_comparison_reused" not in json.dumps(schema)
        refused = taian.post(f"/tasks/{anshan}", [*posted, ("earlier_comparison_reused", "on"),
                                                  ("earlier_compared_on", "2026-09-01")])
        answer = refused.read().decode()
        assert refused.status == 422
        rule = "辽宁省鞍山市台安县台安镇新华村 在 2026-09-20 没有“已比对的可不重复比对”的规定（政策参数 identification.comparison_reuse_months）"
        for name, reason in zip(reuse, ("请开展信息比对", "不填此前比对日期，请开展信息比对"), strict=True):
            error = re.search(rf'<p class="error" id="err-{name}">(.*?)</p>', answer)
            assert error and error.group(1) == f"{rule}，{reason}", name  # beside the input it posted
        by_api = taian.post_json(f"/api/tasks/{anshan}/complete", {
            "compared_on": today, "decision": "approve", "earlier_comparison_reused": True,
            "earlier_compared_on": "2026-09-01"})
        assert by_api.status == 422
        assert json.loads(by_api.read())["fields"] == [
            {"field": "earlier_comparison_reused", "reason": f"{rule}，请开展信息比对"},
            {"field": "earlier_compared_on", "reason": f"{rule}，不填此前比对日期，请开展信息比对"}]
        with web_app.app_context():
            assert db.session.get(HumanTask, anshan).state == "READY"
        assert taian.post(f"/tasks/{anshan}", posted).geturl().endswith("/inbox")  # the comparison made: done
        assert zhanggong.post(f"/tasks/{jiangxi}", [*posted, ("earlier_comparison_reused", "on"),
                                                    ("earlier_compared_on", "2026-09-01")]).geturl().endswith("/inbox")
    with web_app.app_context():
        done = {row.id: row for row in db.session.scalars(select(HumanTask).where(HumanTask.id.in_([jiangxi, anshan])))}
        assert done[jiangxi].state == done[anshan].state == "COMPLETED"
        assert done[jiangxi].form_data["earlier_comparison_reused"] is True
        assert "earlier_comparison_reused" not in done[anshan].form_data
