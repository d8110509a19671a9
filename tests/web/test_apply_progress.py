"""Progress query (申报进度查询) and cancellation (取消申报) of a self-application with the application number and the
ID number (000 附件1 四、查询、取消申报): a wrong pair gets one refusal; the progress is told in plain words and
shows no household or case number and no phone; the household may cancel until the village has accepted the
application, which ends the case through the engine and takes the task out of the cadre's inbox. The village cadre
sees the statement, phone and risk types on the first task, whose form is prefilled from them."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import complete_task, wake_due
from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import AuditEvent, Case, Household, HumanTask, SelfApplication
from engine.demo import official_for, sample_form_data
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.conftest import make_app, prepare_database
from tests.web.test_apply import _apply, _form, alert, application_number, register_family
from tests.webclient import HttpBrowser, login, post_form, serve
from timers.calendar import to_local_date
from web import create_app
from web.ratelimits import limiter

NOT_FOUND = "申请编号或身份证号不正确"
APPLY_STEP = "受理申请并签署承诺授权书"


@pytest.fixture
def family(web_app, clock) -> dict:
    return register_family(web_app, clock)


def _applied(client, family: dict) -> str:
    """Apply for ``family``; the application number shown."""
    assert _apply(client, _form(family)).status_code == 303
    return application_number(client.get("/apply/done").get_data(as_text=True))


def _query(client, number: str, id_number: str):
    return post_form(client, "/apply/progress", {"number": number, "id_number": id_number})


def _cancel(client, number: str, id_number: str, reason: str = ""):
    return post_form(client, "/apply/cancel", {"number": number, "id_number": id_number, "reason": reason,
                                               "confirm": "on"})


def _step(html: str) -> str:
    match = re.search(r'<strong class="step" id="step">([^<]+)</strong>', html)
    assert match, "the page shows no progress"
    return match.group(1)


def _case(app) -> Case:
    with app.app_context():
        case = db.session.scalar(select(Case))
        db.session.expunge_all()
        return case


def _task(app, case_id: int) -> HumanTask:
    with app.app_context():
        row = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, name=APPLY_STEP))
        db.session.expunge_all()
        return row


def _secrets(app, family: dict) -> list[str]:
    """What no anonymous page may show: the household number, the case number, the phone."""
    return [family["number"], _case(app).number, "13900000009", "139 0000 0009"]


def test_the_applicant_sees_the_progress_in_plain_words_and_nothing_else(client, family, web_app):
    number = _applied(client, family)
    stranger = web_app.test_client()  # another phone: only the pair is needed
    answer = _query(stranger, number, family["head_id"])
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert _step(html) == "受理中" and number in html and "沙河村村委会" in html and "承诺授权书" in html
    assert 'action="/apply/cancel"' in html  # not yet accepted: may be cancelled
    for secret in _secrets(web_app, family):
        assert secret not in html, secret
    typed_loosely = number.lower().replace("-", " ").replace("0", "o")
    assert _step(_query(stranger, typed_loosely, family["head_id"].lower()).get_data(as_text=True)) == "受理中"


def test_a_wrong_pair_gets_one_refusal(client, family, web_app, clock):
    number = _applied(client, family)
    with web_app.app_context():
        other = register_household(household_data("沙河村", "别家", 1), "shahe_cun", clock)
        other_id = other.members[0].id_number
    wrong = {
        "wrong ID number": (number, other_id),
        "a member's ID number": (number, family["other_id"]),
        "wrong number": ("ABCDE-12345", family["head_id"]),
        "short number": ("ABC", family["head_id"]),
    }
    for page in ("/apply/progress", "/apply/cancel"):
        answers = {name: post_form(client, page, {"number": n, "id_number": i, "confirm": "on"})
                   for name, (n, i) in wrong.items()}
        assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(wrong, 404), page
        messages = {alert(r.get_data(as_text=True)) for r in answers.values()}
        assert len(messages) == 1 and NOT_FOUND in messages.pop()
    assert _case(web_app).status == "running"  # nothing cancelled


def test_a_missing_field_is_named_and_nothing_is_looked_up(client):
    answer = post_form(client, "/apply/progress", {"number": "", "id_number": "123"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="err-number"' in html and 'id="err-id_number"' in html
    unconfirmed = post_form(client, "/apply/cancel", {"number": "ABCDE-12345", "id_number": with_check_character("36070219800000000")})
    assert unconfirmed.status_code == 422 and "请确认取消本次申请" in unconfirmed.get_data(as_text=True)


def test_cancelling_ends_the_case_and_the_cadre_no_longer_sees_the_task(client, family, web_app, clock):
    number = _applied(client, family)
    case = _case(web_app)
    task = _task(web_app, case.id)
    cadre = login(web_app.test_client(), "shahe_cun")
    assert "申请户" in cadre.get("/inbox").get_data(as_text=True)

    answer = _cancel(web_app.test_client(), number, family["head_id"], reason="家里情况好转了")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "已取消申请" in html and _step(html) == "已取消"
    for secret in _secrets(web_app, family):
        assert secret not in html, secret

    with web_app.app_context():
        case = db.session.get(Case, case.id)
        assert (case.status, case.outcome) == ("completed", "cancelled") and case.closed_at == clock.now()
        assert case.outcome_reason == "农户网上取消申请：家里情况好转了" and case.next_wakeup_at is None
        assert case.household.status == "ordinary"
        record = db.session.scalar(select(SelfApplication).filter_by(case_id=case.id))
        assert (record.status, record.cancelled_at) == ("cancelled", clock.now())
        assert db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY")) is None
        events = [(e.action, e.actor, e.detail.get("outcome") or e.detail.get("status"))
                  for e in db.session.scalars(select(AuditEvent).filter_by(case_id=case.id).order_by(AuditEvent.id))]
        assert events[-3:] == [("outcome", "self_application", "cancelled"),
                               ("household_released", "self_application", "ordinary"),
                               ("case_closed", "self_application", "cancelled")]
    assert _task(web_app, case.id).state == "CANCELLED"
    assert "申请户" not in cadre.get("/inbox").get_data(as_text=True)
    page = cadre.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "该任务已取消（农户已于 2026-09-20 09:00 取消申请）" in page and "<form method=\"post\" novalidate>" not in page
    refused = post_form(cadre, f"/tasks/{task.id}", {"applied_on": "2026-09-20", "all_members_signed": "on",
                                                     "risk_description": "x"}, page_url=f"/tasks/{task.id}")
    assert refused.status_code == 409 and "已取消，不能再次办理" in refused.get_data(as_text=True)

    assert _step(_query(client, number, family["head_id"]).get_data(as_text=True)) == "已取消"
    again = _cancel(client, number, family["head_id"])
    assert again.status_code == 409 and "已经取消" in alert(again.get_data(as_text=True))
    assert _apply(web_app.test_client(), _form(family)).status_code == 303  # the household may apply anew


def test_cancelling_gives_the_household_back_the_status_it_had(client, family, web_app):
    with web_app.app_context():
        db.session.get(Household, family["id"]).status = "key_attention"
        db.session.commit()
    number = _applied(client, family)
    assert _cancel(client, number, family["head_id"]).status_code == 200
    with web_app.app_context():
        assert db.session.get(Household, family["id"]).status == "key_attention"


def test_once_the_village_accepted_the_application_it_cannot_be_cancelled_on_line(client, family, web_app):
    number = _applied(client, family)
    case = _case(web_app)
    cadre = login(web_app.test_client(), "shahe_cun")
    task = _task(web_app, case.id)
    done = post_form(cadre, f"/tasks/{task.id}", {"applied_on": "2026-09-20", "all_members_signed": "on",
                                                  "risk_description": "户主住院", "risk_types": ["illness"]})
    assert done.status_code == 302
    progress = _query(client, number, family["head_id"]).get_data(as_text=True)
    assert _step(progress) == "入户核实" and 'action="/apply/cancel"' not in progress
    refused = _cancel(client, number, family["head_id"])
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "村委会已受理您的申请，不能在网上取消" in alert(html)
    assert case.number not in html
    assert _case(web_app).status == "running"


def _one_step(app, case_id: int, clock) -> str | None:
    """Complete the case's next ready task with sample data (or let its timers fire); the name done, or None."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        row = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY").order_by(HumanTask.id))
        if row is not None:
            complete_task(row.id, sample_form_data(row.form, to_local_date(clock.now()), row.case),
                          official_for(row.role, case).username, clock)
            return row.name
        if case.status == "running" and case.next_wakeup_at is not None:
            clock.set(max(clock.now(), case.next_wakeup_at))
            wake_due(clock.now(), clock)
            return "timer"
        return None


def test_the_progress_follows_the_procedure_to_its_end(client, family, web_app, clock):
    number = _applied(client, family)
    case_id = _case(web_app).id
    seen = [_step(_query(client, number, family["head_id"]).get_data(as_text=True))]
    while _one_step(web_app, case_id, clock) is not None:
        word = _step(_query(client, number, family["head_id"]).get_data(as_text=True))
        if word != seen[-1]:
            seen.append(word)
    assert seen == ["受理中", "入户核实", "民主评议", "公示中", "审核审定中", "已审定纳入"]
    final = _query(client, number, family["head_id"]).get_data(as_text=True)
    assert "防返贫监测对象纳入告知" in final  # the written notice to the household
    for secret in _secrets(web_app, family):
        assert secret not in final, secret


def _complete_named(app, case_id: int, name: str, clock) -> None:
    with app.app_context():
        case = db.session.get(Case, case_id)
        row = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY", name=name))
        complete_task(row.id, sample_form_data(row.form, to_local_date(clock.now()), row.case),
                      official_for(row.role, case).username, clock)


def test_while_the_county_compares_the_application_is_where_the_village_is(client, family, web_app, clock):
    """001 Q43: the county's comparison (a step of 审核审定中) runs beside the village's appraisal and publicity:
    the applicant is told the step of the least advanced of the two, and of the publicity while its period runs."""
    number = _applied(client, family)
    case_id = _case(web_app).id

    def seen() -> str:
        return _step(_query(client, number, family["head_id"]).get_data(as_text=True))

    for name in (APPLY_STEP, "入户核实"):
        _complete_named(web_app, case_id, name, clock)
    assert seen() == "民主评议"  # the comparison is ready too
    for name in ("民主评议", "张贴村级公示"):
        _complete_named(web_app, case_id, name, clock)
    assert seen() == "公示中"  # the period runs; the comparison still waits for the county
    with web_app.app_context():
        clock.set(db.session.get(Case, case_id).next_wakeup_at)
        wake_due(clock.now(), clock)
    _complete_named(web_app, case_id, "乡镇审核（入户抽查）", clock)
    assert seen() == "审核审定中"  # only the comparison is left before the county's approval


def test_a_rejected_application_says_so_with_the_written_reason(client, family, web_app, clock):
    number = _applied(client, family)
    case_id = _case(web_app).id
    with web_app.app_context():
        case = db.session.get(Case, case_id)
        for form, data in (("identification_apply.json", {}), ("household_verification.json", {})):
            row = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))
            assert row.form == form
            complete_task(row.id, {**sample_form_data(form, to_local_date(clock.now()), case), **data},
                          official_for(row.role, case).username, clock)
        row = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))
        complete_task(row.id, {**sample_form_data(row.form, to_local_date(clock.now()), row.case), "decision": "reject",
                               "reason": "评议认为家庭收入稳定"}, official_for(row.role, case).username, clock)
    html = _query(client, number, family["head_id"]).get_data(as_text=True)
    assert _step(html) == "未纳入" and "识别结果告知" in html and "评议认为家庭收入稳定" in html


def test_the_cadre_sees_the_application_and_gets_the_form_prefilled(client, family, web_app):
    number = _applied(client, family)
    case = _case(web_app)
    task = _task(web_app, case.id)
    cadre = login(web_app.test_client(), "shahe_cun")
    page = cadre.get(f"/tasks/{task.id}").get_data(as_text=True)
    aside = page[page.index('id="self-application"'):]
    assert number in aside and "13900000009" in aside and "因病、因意外事故" in aside
    assert "户主今年住院，自付医疗费约 3 万元" in aside and 'id="prefilled"' in page
    assert 'name="risk_description" value="户主今年住院，自付医疗费约 3 万元"' in page
    assert 'name="applied_on" value="2026-09-20"' in page
    for key, checked in (("illness", True), ("accident", True), ("schooling", False)):
        assert (f'name="risk_types" value="{key}" checked' in page) is checked, key
    assert 'name="all_members_signed" checked' not in page  # the signatures are for the cadre to confirm
    history = cadre.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"申请编号 {number}" in history  # officials can find the case from the number a caller gives


def test_a_case_opened_by_the_village_has_no_application_and_no_prefill(web_app, clock):
    from engine.cases.lifecycle import open_identification

    with web_app.app_context():
        household = register_household(household_data("沙河村", "村里户", 1), "shahe_cun", clock)
        case = open_identification(household.id, "self_application", to_local_date(clock.now()), "shahe_cun", clock)
        task_id = db.session.scalar(select(HumanTask.id).filter_by(case_id=case.id))
    page = login(web_app.test_client(), "shahe_cun").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="self-application"' not in page and 'id="prefilled"' not in page
    assert 'name="risk_description" value=""' in page


def test_apply_follow_and_cancel_over_http(family, web_app):
    with serve(web_app) as base:
        phone = HttpBrowser(base)
        answer = phone.post("/apply", [("village", "360702101201"), ("head_name", "申请户"),
                                       ("id_number", family["head_id"]), ("phone", "13900000009"),
                                       ("description", "户主今年住院"), ("risk_types", "illness"), ("agreed", "on")])
        done = answer.read().decode()
        assert answer.geturl() == base + "/apply/done" and answer.headers["Cache-Control"] == "no-store"
        number = application_number(done)
        for secret in _secrets(web_app, family):
            assert secret not in done, secret

        other = HttpBrowser(base)
        refused = other.post("/apply/progress", [("number", number), ("id_number", family["other_id"])])
        assert refused.status == 404 and NOT_FOUND in refused.read().decode()
        progress = other.post("/apply/progress", [("number", number), ("id_number", family["head_id"])])
        page = progress.read().decode()
        assert progress.status == 200 and _step(page) == "受理中" and progress.headers["Cache-Control"] == "no-store"

        cancelled = other.post("/apply/cancel", [("number", number), ("id_number", family["head_id"]),
                                                 ("confirm", "on")])
        assert cancelled.status == 200 and _step(cancelled.read().decode()) == "已取消"
    case = _case(web_app)
    assert (case.status, case.outcome) == ("completed", "cancelled")
    assert "申请户" not in login(web_app.test_client(), "shahe_cun").get("/inbox").get_data(as_text=True)


@pytest.fixture
def limited(db_path, clock):
    app = make_app(db_path, clock, factory=create_app, RATELIMIT_ENABLED=True, FANGPIN_APPLY_RATE_LIMIT="2 per hour")
    limiter.reset()
    with app.app_context():
        prepare_database(clock)
    yield app
    limiter.reset()


def test_the_query_and_the_cancellation_share_one_rate_limit(limited):
    client = limited.test_client()
    pair = {"number": "ABCDE-12345", "id_number": with_check_character("36070219800000000")}
    assert post_form(client, "/apply/progress", pair).status_code == 404
    assert post_form(client, "/apply/cancel", {**pair, "confirm": "on"}).status_code == 404
    blocked = post_form(client, "/apply/progress", pair)
    assert blocked.status_code == 429 and "尝试过于频繁" in blocked.get_data(as_text=True)
    assert client.get("/apply/progress").status_code == 200  # the page itself stays readable
