"""Task forms (JSON Schema): every free-text field and every list has a size limit, and a value over it is
refused naming the field, in Chinese (no field can grow a case's state, its audit and its form data without
bound). A form's own keywords (x-verdict, x-records) are checked when it is loaded: a wrong one refuses the form,
and a diagram using it, naming the form and what to change."""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from engine.bpmn.forms import keyword_problems, load_form, validate_form, without_fields
from engine.bpmn.source import DiagramSource
from engine.core.config import project_dir
from engine.core.errors import DiagramInvalid, FormInvalid, FormKeywordInvalid
from engine.core.id_numbers import with_check_character
from engine.library.deploying import check_diagram

FORMS = sorted(project_dir("forms").glob("*.json"))
BOUNDED_BY_SHAPE = ("maxLength", "enum", "const", "format", "pattern")


def _nodes(node: object, path: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _nodes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{path}[{index}]")


def _types(node: dict) -> set[str]:
    kind = node.get("type")
    return {kind} if isinstance(kind, str) else set(kind or [])


@pytest.mark.parametrize("form", FORMS, ids=lambda p: p.name)
def test_every_text_field_and_list_of_a_form_is_bounded(form):
    schema = json.loads(form.read_text(encoding="utf-8"))
    unbounded = [path for path, node in _nodes(schema)
                 if ("string" in _types(node) and not any(k in node for k in BOUNDED_BY_SHAPE))
                 or ("array" in _types(node) and "maxItems" not in node)]
    assert unbounded == []


def test_ten_million_characters_of_notes_are_refused_naming_the_field():
    data = {"visited_on": "2026-11-20", "income_stable": True, "measures_effective": True, "new_risk": False,
            "notes": "很" * 10_000_000}
    with pytest.raises(FormInvalid) as refused:
        validate_form("monthly_revisit.json", data)
    assert ("notes", "回访记录：最多 2000 个字符") in refused.value.errors


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_number_that_is_not_finite_is_refused_naming_the_field(value):
    """Python's JSON parser reads NaN and Infinity, and a typed "nan" is a float: they pass every minimum and
    maximum, and would reach the database (NOT NULL income_record.wages) instead of the official."""
    with pytest.raises(FormInvalid) as refused:
        validate_form("household_verification.json", {"verified_on": "2026-11-20", "income": {"wages": value}})
    assert ("income/wages", "工资性收入（A28）：应为有限的数字（不能是 NaN 或无穷大）") in refused.value.errors


def test_a_sharp_fall_of_income_without_a_risk_type_is_refused_naming_the_risk_types():
    """收入大幅缩减 makes a household above the line 突发严重困难户 only with a risk (001 Q10 存在返贫或致贫风险的); ticked
    without one, the table would say 无返贫致贫风险."""
    data = {"verified_on": "2026-11-20", "exclusions": [], "guarantees": {}, "risk_types": [],
            "income": {"household_size": 2, "wages": 30000, "business_income": 0, "property_income": 0,
                       "transfer_income": 0, "business_expenses": 0, "sharply_reduced": True}}
    with pytest.raises(FormInvalid) as refused:
        validate_form("household_verification.json", data)
    assert refused.value.errors == [("risk_types", "风险类型（A27）：至少选择 1 项")]
    validate_form("household_verification.json", {**data, "risk_types": ["accident"]})
    validate_form("household_verification.json", {**data, "income": {**data["income"], "sharply_reduced": False}})


def test_a_wrong_choice_in_a_list_names_the_list_and_the_choices_by_their_labels():
    data = {"applied_on": "2026-11-20", "all_members_signed": True, "risk_description": "户主因病住院",
            "risk_types": ["illness", "flood"] + ["other"] * 100}
    with pytest.raises(FormInvalid) as refused:
        validate_form("identification_apply.json", data)
    reasons = dict(refused.value.errors)
    assert reasons["risk_types/1"].startswith("风险类型（A27）：取值应为 因病、因学、") and "illness" not in reasons["risk_types/1"]
    assert ("risk_types", "风险类型（A27）：最多 100 项") in refused.value.errors  # (was jsonschema's English)


def test_a_form_without_some_fields_drops_them_where_they_are_required_or_tested():
    """A place that does not offer a field (engine.cases.form_rules.narrowed) shows the form without it: not among
    the properties, not required, and no condition on it left to fail; the form itself is not changed."""
    schema = {"properties": {"a": {"type": "string"}, "b": {"type": "boolean"}, "c": {"type": "string"}},
              "required": ["a", "b"],
              "allOf": [{"if": {"properties": {"b": {"const": True}}, "required": ["b"]}, "then": {"required": ["c"]}},
                        {"if": {"properties": {"a": {"const": "x"}}}, "then": {"required": ["c"]}}]}
    assert without_fields(schema, ["b"]) == {"properties": {"a": {"type": "string"}, "c": {"type": "string"}},
                                             "required": ["a"], "allOf": [schema["allOf"][1]]}
    assert without_fields(schema, ["c"]) == {"properties": {"a": {"type": "string"}, "b": {"type": "boolean"}},
                                             "required": ["a", "b"]}  # both conditions asked for it
    assert list(schema["properties"]) == ["a", "b", "c"] and len(schema["allOf"]) == 2


def test_a_member_field_longer_than_its_column_is_refused():
    household = {"village": "360702101201", "members": [
        {"name": "甲" * 51, "relation_to_head": "户主", "id_number": with_check_character("36070219900101001")}]}
    with pytest.raises(FormInvalid) as refused:
        validate_form("register_household.json", household)
    assert any(field == "members/0/name" and "最多 50 个字符" in reason for field, reason in refused.value.errors)


# -- a form's own keywords (x-verdict, x-records): a wrong one refuses the form, naming it and what to change ---

REVIEW = json.loads((project_dir("forms") / "review_decision.json").read_text(encoding="utf-8"))
BAD_DECLARATIONS = {  # what the form declares → what the refusal says
    "unknown_record": ({"x-records": ["posting"]}, "中的“posting”不是可用的取值；可用的取值为 application（识别申请"),
    "record_without_its_field": ({"x-records": ["household_size"]},
                                 "household_size（家庭人口数：预填农户登记的实际共同生活人数）要求表单有字段 income.household_size"),
    "finding_without_verdict": ({"x-records": ["objection_finding"], "x-verdict": None},
                                "须同时用 x-verdict 写明核实结论所在的字段"),
    "verdict_field_missing": ({"x-verdict": {"field": "decison", "rejecting": ["reject"]}},
                              "x-verdict（结论字段）的 field “decison”不是表单的字段；请写明结论所在的字段，可选：reviewed_on、"),
    "rejecting_not_a_value": ({"x-verdict": {"field": "decision", "rejecting": ["rejected"]}},
                              "x-verdict（结论字段）的 rejecting 中的“rejected”不是结论字段 decision 的取值；可选：approve、reject"),
    "verdict_without_values": ({"x-verdict": {"field": "reason"}}, "结论字段 reason 没有固定的取值"),
    "reason_not_a_field": ({"x-verdict": {"field": "decision", "reason": "why"}}, "reason “why”不是表单中结论以外的字段"),
    "unknown_verdict_item": ({"x-verdict": {"field": "decision", "rejects": ["reject"]}},
                             "x-verdict（结论字段）中的 rejects 不是可用的项；可用的项为 field"),
    "misspelt_keyword": ({"x-verdicts": {"field": "decision"}}, "关键字 x-verdicts 不是表单可用的关键字；可用的关键字为 x-rules"),
    "verdict_not_an_object": ({"x-verdict": "decision"}, "x-verdict（结论字段）应为对象，例如 {\"field\": \"decision\""),
}


@pytest.fixture
def bad_forms(tmp_path, monkeypatch):
    """The shipped forms, and a copy of review_decision.json for each of BAD_DECLARATIONS: ``bad_<name>.json``."""
    folder = tmp_path / "forms"
    shutil.copytree(project_dir("forms"), folder)
    for name, (declared, _) in BAD_DECLARATIONS.items():
        schema = {key: value for key, value in {**REVIEW, **declared}.items() if value is not None}
        (folder / f"bad_{name}.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("FANGPIN_FORMS_DIR", str(folder))
    load_form.cache_clear()
    yield folder
    load_form.cache_clear()


@pytest.mark.parametrize("name", BAD_DECLARATIONS)
def test_a_wrong_form_keyword_refuses_the_form_naming_it_and_what_to_change(bad_forms, name):
    with pytest.raises(FormKeywordInvalid) as refused:
        load_form(f"bad_{name}.json")
    assert str(refused.value).startswith(f"表单 bad_{name}.json 的声明有误：")
    assert BAD_DECLARATIONS[name][1] in str(refused.value)
    assert load_form("review_decision.json")["x-verdict"]["field"] == "decision"  # the form it copies is taken


def test_a_diagram_using_a_form_with_a_wrong_keyword_is_not_deployed(app, bad_forms):
    content = (project_dir("processes") / "identification.bpmn").read_bytes().replace(
        b'value="review_decision.json"', b'value="bad_rejecting_not_a_value.json"')
    with pytest.raises(DiagramInvalid) as refused:
        check_diagram(DiagramSource("identification.bpmn", content))
    problems = "；".join(refused.value.problems)
    assert "userTask 'township_review'（乡镇审核（入户抽查））：表单 bad_rejecting_not_a_value.json 无效：" in problems
    assert "rejecting 中的“rejected”不是结论字段 decision 的取值" in problems


def test_every_shipped_form_declares_its_keywords_rightly():
    problems = {path.name: keyword_problems(json.loads(path.read_text(encoding="utf-8"))) for path in FORMS}
    assert {name: found for name, found in problems.items() if found} == {}


# -- many documents of one form, field by field (FormChecker): the same problems as validating each whole ---------

WRONG_VALUES = ("", "x" * 300, 5, -1, 3.5, True, None, [], {}, "男", "户主", "abc", "13900000001", "36070219800101001X",
                "2026-13-40", float("nan"))


def _random_document(schema: dict, rnd) -> object:
    """A document of ``schema``'s fields (and some unknown ones) with right and wrong values, lists of 0–3 items."""
    if rnd.random() < 0.03:
        return rnd.choice(WRONG_VALUES)
    properties = schema.get("properties", {})
    document = {}
    for key in rnd.sample([*properties, "unknown"], rnd.randint(0, min(8, len(properties) + 1))):
        node = properties.get(key, {})
        if node.get("type") == "array" and isinstance(node.get("items"), dict) and "properties" in node["items"]:
            document[key] = [_random_document(node["items"], rnd) for _ in range(rnd.randint(0, 3))]
        elif node.get("type") == "object" and "properties" in node:
            document[key] = _random_document(node, rnd)
        else:
            document[key] = rnd.choice([*WRONG_VALUES, *node.get("enum", [])])
    return document


@pytest.mark.parametrize("form", ["register_household.json", "assistance_plan.json", "green_channel_entry.json", "area_visit.json"])
def test_a_form_checked_field_by_field_finds_exactly_what_validating_each_whole_document_finds(form):
    import random

    from engine.bpmn.forms import FormChecker, _validator, schema_problems

    schema = load_form(form)
    checker = FormChecker(form)
    rnd = random.Random(form)
    for _ in range(600):
        document = _random_document(schema, rnd)
        assert set(checker.problems(document)) == set(schema_problems(schema, document, _validator(form, schema))), \
            document


def test_the_registration_form_is_checked_field_by_field_and_a_form_with_conditions_whole(tmp_path, monkeypatch):
    from engine.bpmn.forms import FormChecker

    assert FormChecker("register_household.json").field_by_field
    conditional = {**load_form("register_household.json"),
                   "if": {"properties": {"is_formerly_poor": {"const": True}}}, "then": {"required": ["address"]}}
    (tmp_path / "conditional.json").write_text(json.dumps(conditional, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("FANGPIN_FORMS_DIR", str(tmp_path))
    load_form.cache_clear()
    try:
        checker = FormChecker("conditional.json")
        assert not checker.field_by_field  # taken apart, the condition would be lost: validated whole
        members = [{"name": "甲", "id_number": "360702198001010016", "relation_to_head": "户主"}]
        assert ("address", "家庭住址：必填") in checker.problems(
            {"village": "1", "is_formerly_poor": True, "members": members})
    finally:
        load_form.cache_clear()
