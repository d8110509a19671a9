"""A completed step's data as an official reads it on the case and task pages (engine.cases.views.describe_data): the
form's titles, and every option by its Chinese label — the form's own, else the label of the vocabulary its codes
are of (as the form offers them), never the code."""
from __future__ import annotations

from engine.cases.views import DataGroup, describe_data, describe_groups


def test_a_category_the_county_chose_reads_by_its_label_though_its_form_names_no_options(app):
    described = dict(describe_data("county_approval.json", {"county_category": "unstable"}))
    assert described == {"认定类别（留空则采用测算结果）": "脱贫不稳定户"}


def test_a_list_of_choices_reads_by_the_forms_own_labels(app):
    described = dict(describe_data("identification_apply.json", {"risk_types": ["illness", "schooling"]}))
    assert described == {"风险类型（A27）": "因病、因学"}


def test_a_group_of_fields_is_one_heading_over_its_fields_in_the_forms_order(app):
    """入户核实: its income fields under 家庭收入（近12个月） once, not repeated in each label; the form's own fields
    before and after the group under none."""
    data = {"verified_on": "2026-09-20", "income": {"household_size": 2, "wages": 12000}, "risk_types": ["illness"]}
    assert describe_groups("household_verification.json", data) == [
        DataGroup("", [("核实日期", "2026-09-20")]),
        DataGroup("家庭收入（近12个月）", [("家庭人口数", "2"), ("工资性收入（A28）", "12000")]),
        DataGroup("", [("风险类型（A27）", "因病")])]
    assert describe_data("household_verification.json", data)[1] == ("家庭收入（近12个月） · 家庭人口数", "2")


def test_a_plans_measures_are_shown_by_their_categorys_name():
    """The step's data on the case page: 措施类别 综合保障, not A48."""
    data = {"measures": [{"category": "A48", "item": "临时救助"}], "started_on": "2026-09-20"}
    described = dict(describe_data("assistance_plan.json", data))
    assert "措施类别 综合保障，具体措施 临时救助" in described["帮扶措施（A39–A52）"]
    assert "A48" not in described["帮扶措施（A39–A52）"]
