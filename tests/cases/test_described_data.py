"""A completed step's data as an official reads it on the case and task pages (engine.cases.views.describe_data): the
form's titles, and every option by its Chinese label — the form's own, else the label of the vocabulary its codes
are of (as the form offers them), never the code."""
from __future__ import annotations

from engine.cases.views import describe_data


def test_a_category_the_county_chose_reads_by_its_label_though_its_form_names_no_options(app):
    described = dict(describe_data("county_approval.json", {"county_category": "unstable"}))
    assert described == {"认定类别（留空则采用测算结果）": "脱贫不稳定户"}


def test_a_list_of_choices_reads_by_the_forms_own_labels(app):
    described = dict(describe_data("identification_apply.json", {"risk_types": ["illness", "schooling"]}))
    assert described == {"风险类型（A27）": "因病、因学"}
