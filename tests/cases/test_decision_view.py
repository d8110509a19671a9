"""What an official sees of the earlier steps (engine.cases.decision_view) follows what each form declares — its
verdict (``x-verdict``) and what it records (``x-records``) — never its file name: a procedure whose forms are
renamed copies gets the same decision view and the same prefilled values; a copy without the declaration is not
read as a decision; every shipped form the view used to name by file carries its declaration."""
from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import demo
from engine.bpmn.forms import VERDICT_KEYWORD, form_names, load_form, records_of, verdict_of
from engine.cases.decision_view import DecisionView, decision_view, prefill
from engine.cases.lifecycle import open_identification, raise_objection, wake_due
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.models import Case, HumanTask, SelfApplication, User
from engine.core.transaction import transaction
from engine.core.vocabulary import FormRecord
from engine.demo import drive_case
from engine.households.register import register_household
from engine.library.deploying import deploy_diagram, diagram_source
from engine.publicity.lists import case_incomes, figures, proposed_categories
from tests.bdd.officials import household_data

RENAMED = {  # the shipped form → its copy under another name, keywords and all
    "identification_apply.json": "village_application.json",
    "household_verification.json": "home_visit.json",
    "democratic_appraisal.json": "village_appraisal.json",
    "post_publicity.json": "notice_posting.json",
    "review_decision.json": "township_review.json",
    "information_comparison.json": "data_comparison.json",
    "verify_objection.json": "objection_check.json",
}
SHIPPED = {renamed: shipped for shipped, renamed in RENAMED.items()}
UNDECLARED = "township_review_undeclared.json"  # review_decision.json without its x-verdict
INCOME = {"household_size": 3, "wages": 9000, "business_income": 1500, "property_income": 300,
          "transfer_income": 1200, "business_expenses": 600}
OVERRIDES = {"identification_apply.json": {"risk_types": ["illness", "accident"]},
             "household_verification.json": {"income": INCOME},
             "verify_objection.json": {"objection_finding": "dismissed", "reason": "车辆为亲戚所有，已核实"},
             "review_decision.json": {"reason": "入户抽查属实"},
             "information_comparison.json": {"reason": "车辆、房产、工商信息无异常"}}


@pytest.fixture
def forms_dir(tmp_path: Path, monkeypatch):
    """The shipped forms, with each of RENAMED copied under its new name (and one copy without its x-verdict)."""
    folder = tmp_path / "forms"
    shutil.copytree(project_dir("forms"), folder)
    for shipped, renamed in RENAMED.items():
        shutil.copy(folder / shipped, folder / renamed)
    undeclared = (folder / "review_decision.json").read_text(encoding="utf-8")
    start = undeclared.index(f'"{VERDICT_KEYWORD}"')
    undeclared = undeclared[:start] + undeclared[undeclared.index('"type"', start):]
    (folder / UNDECLARED).write_text(undeclared, encoding="utf-8")
    monkeypatch.setenv("FANGPIN_FORMS_DIR", str(folder))
    load_form.cache_clear()
    # the demo's sample data is by the shipped file names: a renamed copy gets its original's
    shipped_sample = demo.sample_form_data
    monkeypatch.setattr(demo, "sample_form_data",
                        lambda form, today, case=None: shipped_sample(SHIPPED.get(form, form), today, case))
    yield folder
    load_form.cache_clear()


def _renamed_diagram(name: str) -> bytes:
    content = (project_dir("processes") / name).read_bytes()
    for shipped, renamed in RENAMED.items():
        content = content.replace(f'value="{shipped}"'.encode(), f'value="{renamed}"'.encode())
    return content


def _open(head: str, clock) -> int:
    household = register_household(household_data("沙河村", head, 3), "shahe_cun", clock)
    return open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock).id


def _ready(case_id: int) -> HumanTask:
    return db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))


def _data(case_id: int) -> dict[str, dict]:
    """OVERRIDES, under the names the case's forms have."""
    renamed = any(t.form in SHIPPED for t in db.session.scalars(select(HumanTask).filter_by(case_id=case_id)))
    return {(RENAMED[form] if renamed else form): values for form, values in OVERRIDES.items()}


def _in_step(cases: tuple[int, ...], clock, until: str) -> None:
    """Drive the cases one step each in turn (a timer moves the clock for all), until each has done ``until``:
    their steps are done on the same days."""
    finished: set[int] = set()
    while len(finished) < len(cases):
        moved = False
        for case_id in cases:
            row = _ready(case_id)
            if case_id not in finished and row is not None:
                drive_case(case_id, clock, until=row.name, data=_data(case_id))  # that one step
                finished |= {case_id} if row.name == until else set()
                moved = True
        if not moved:
            wakeups = [db.session.get(Case, case_id).next_wakeup_at for case_id in cases if case_id not in finished]
            clock.set(max(clock.now(), min(w for w in wakeups if w is not None)))
            wake_due(clock.now(), clock)


def _seen(view: DecisionView) -> tuple:
    """What the page shows of the view (the case's own household and tasks aside)."""
    return (tuple((e.step, e.by, e.at, e.verdict, e.rejected, e.reason, e.details) for e in view.decisions),
            tuple((o.raised_on, o.raised_by, o.text, o.finding, o.upheld, o.reason, o.verified_by)
                  for o in view.objections),
            view.publicity, view.income.figures if view.income else None, view.classification)


def test_a_procedure_on_renamed_forms_gets_the_same_decision_view_and_prefill(app, clock, forms_dir):
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    shipped = _open("原名户", clock)
    assert deploy_diagram(editor, diagram_source("identification.bpmn", _renamed_diagram("identification.bpmn")),
                          clock)
    assert deploy_diagram(editor, diagram_source("publicity.bpmn", _renamed_diagram("publicity.bpmn")), clock)
    renamed = _open("改名户", clock)
    assert (_ready(shipped).form, _ready(renamed).form) == ("identification_apply.json", "village_application.json")

    online = SelfApplication(number="A1B2C3D4E5", submitted_at=datetime(2026, 9, 19, 2, tzinfo=UTC),
                             statement="户主今年住院", risk_types=["illness"])
    first = [prefill(_ready(case_id), online) for case_id in (shipped, renamed)]
    assert first[0] == first[1] and first[0].values["risk_types"] == ["illness"]  # the application's prefill
    _in_step((shipped, renamed), clock, "受理申请并签署承诺授权书")
    verifying = [prefill(_ready(case_id), None) for case_id in (shipped, renamed)]
    assert verifying[0] == verifying[1]
    assert verifying[0].values == {"risk_types": ["illness", "accident"], "income": {"household_size": 3}}

    _in_step((shipped, renamed), clock, "张贴村级公示")
    clock.advance(timedelta(days=1))
    for case_id in (shipped, renamed):
        raise_objection(case_id, "该户家中有小轿车", "村民 吴某", "shahe_cun", clock)
    _in_step((shipped, renamed), clock, "乡镇审核（入户抽查）")  # the comparison, beside the village, is done
    forms = {t.form for t in db.session.scalars(select(HumanTask).filter_by(case_id=renamed, state="COMPLETED"))}
    assert set(RENAMED.values()) <= forms and not forms & set(RENAMED)  # it did run on the renamed copies

    views = [decision_view(_ready(case_id), clock) for case_id in (shipped, renamed)]
    assert _seen(views[0]) == _seen(views[1])
    decisions = {e.step: e for e in views[1].decisions}
    assert (decisions["民主评议"].verdict, decisions["民主评议"].rejected) == ("通过", False)
    assert dict(decisions["民主评议"].details)["参会人数"] == "15"  # the form's other fields, by its titles
    assert (decisions["信息比对"].verdict, decisions["信息比对"].reason) == ("通过", "车辆、房产、工商信息无异常")
    assert "核实异议" not in decisions  # an objection finding is shown with its objection
    (objection,) = views[1].objections
    assert (objection.finding, objection.upheld, objection.reason) == ("异议不成立", False, "车辆为亲戚所有，已核实")
    assert any(line.startswith("张贴村级公示：") and "村务公开栏" in line for line in views[1].publicity)
    cases = [db.session.get(Case, case_id) for case_id in (shipped, renamed)]  # the publicity list's category
    incomes = case_incomes([shipped, renamed])
    proposed = proposed_categories((c.household, c.id, figures(incomes.get(c.id))) for c in cases)
    assert proposed[cases[0].household_id] == proposed[cases[1].household_id] is not None

    with transaction():  # the same step done on a copy that does not declare its verdict: not read as a decision
        review = db.session.scalar(select(HumanTask).filter_by(case_id=renamed, form="township_review.json"))
        review.form = UNDECLARED
    steps = [e.step for e in decision_view(_ready(renamed), clock).decisions]
    assert review.name not in steps and "信息比对" in steps


# -- every form the view named by its file declares what it is --------------------------------------------------

OLD_VERDICT_FIELDS = ("decision", "objection_finding", "qualifies", "consented")  # the view's former guess
OLD_REJECTING = ("reject", "upheld", "no", False)
OLD_RECORDS = {  # the file names the view keyed on → what each now says it records
    "identification_apply.json": {FormRecord.APPLICATION},  # APPLY_FORM
    "household_verification.json": {FormRecord.RISK_TYPES, FormRecord.HOUSEHOLD_SIZE},  # VERIFY_FORM, SIZE_FORMS
    "elimination_review.json": {FormRecord.HOUSEHOLD_SIZE},  # SIZE_FORMS
    "post_publicity.json": {FormRecord.PUBLICITY_POSTING},
    "verify_objection.json": {FormRecord.OBJECTION_FINDING},  # OBJECTION_FORM
    "green_channel_village.json": {FormRecord.HARDSHIP},  # declared since (the green channel's 突发困难情况)
}


def _values(spec: dict) -> list:
    return spec["enum"] if "enum" in spec else [spec["const"]] if "const" in spec else [True, False]


def test_each_form_the_view_named_declares_what_it_records():
    declared = {name: set(records_of(load_form(name))) for name in form_names()}
    assert {name: records for name, records in declared.items() if records} == OLD_RECORDS


def test_each_form_the_view_guessed_a_verdict_of_declares_it():
    """The former guess — the first of OLD_VERDICT_FIELDS a form has, rejecting OLD_REJECTING, its ``reason`` —
    is what every shipped form now declares, so no decision silently drops out of the view."""
    deciding = []
    for name in form_names():
        schema = load_form(name)
        properties = schema.get("properties", {})
        guessed = next((field for field in OLD_VERDICT_FIELDS if field in properties), None)
        verdict = verdict_of(schema)
        if guessed is None:
            assert verdict is None, name
            continue
        deciding.append(name)
        assert verdict is not None and verdict.field == guessed, name
        rejecting = [v for v in _values(properties[guessed]) if any(v == o and type(v) is type(o) for o in OLD_REJECTING)]
        assert list(verdict.rejecting) == rejecting, name
        assert verdict.reason == ("reason" if "reason" in properties else None), name
    assert len(deciding) == 11 and "county_approval.json" in deciding and "household_consent.json" in deciding
    consent = verdict_of(load_form("household_consent.json"))
    assert consent.label(True) == "认可" and not consent.rejects(True)  # as the view showed it before
    assert verdict_of(load_form("verify_objection.json")).rejects("upheld")
