"""Rules beyond a form's schema (engine.cases.form_rules): a form asks for them by name (``x-rules``); every name a
shipped form asks for is a rule the engine knows, and an unknown one is refused naming the form."""
from __future__ import annotations

import pytest

from engine.bpmn.forms import form_names, load_form
from engine.cases import form_rules
from engine.core.errors import FangpinError


def test_every_rule_a_shipped_form_asks_for_is_known(app):
    asked = {name: load_form(name).get(form_rules.RULES_KEY, []) for name in form_names()}
    assert asked["assistance_plan.json"] == ["measures_cover_risks"]
    assert asked["information_comparison.json"] == ["comparison_reuse"]  # 001 Q43, engine.identification.comparison
    assert asked["warning_verification.json"] == ["verification_outcome"]  # installed by the warnings package
    assert asked["county_approval.json"] == ["county_category"]  # engine.identification.county_decision
    assert {rule for rules in asked.values() for rule in rules} <= set(form_rules.RULES)


def test_an_unknown_rule_is_refused_naming_the_form(app, monkeypatch):
    monkeypatch.setattr(form_rules, "load_form", lambda name: {"x-rules": ["measures_cover_risks", "moon_phase"]})
    monkeypatch.setitem(form_rules.RULES, "measures_cover_risks", lambda data, case, step: [])
    with pytest.raises(FangpinError, match="表单 some.json 的 x-rules 列出了未知的校验规则 moon_phase"):
        form_rules.check_form_rules("some.json", {}, None, {})


def test_a_form_is_narrowed_by_each_rule_it_asks_for_that_narrows_in_turn(monkeypatch):
    """The task page and the API's task form show a form as the case's place offers it (form_rules.narrowed): the
    place's exclusion list (入户核实), 001 Q43's reuse only where the rule is in force (信息比对)."""
    assert set(form_rules.NARROWINGS) == {"exclusions_of_the_place", "comparison_reuse"} <= set(form_rules.RULES)
    monkeypatch.setitem(form_rules.NARROWINGS, "first", lambda schema, case: {**schema, "first": case})
    monkeypatch.setitem(form_rules.NARROWINGS, "second", lambda schema, case: {**schema, "second": schema["first"]})
    schema = {"x-rules": ["first", "measures_cover_risks", "second"], "properties": {}}
    assert form_rules.narrowed(schema, "the case") == {**schema, "first": "the case", "second": "the case"}
    plain = {"x-rules": ["measures_cover_risks"], "properties": {}}
    assert form_rules.narrowed(plain, "the case") is plain  # no rule of it narrows: the form itself
