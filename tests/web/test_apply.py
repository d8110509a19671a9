"""The public self-application page (农户自主申报): no log-in; the household is found by the head's ID
number, name and village; an identification case is opened for the village cadres; duplicates are refused. The
answers never show a household or case number — only the application number — and every household that cannot
apply on line gets the same answer. Progress and cancellation: tests/web/test_apply_progress.py."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import AuditEvent, Case, Household, HumanTask, SelfApplication
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.factories import add_place, add_township, statements_of
from tests.webclient import csrf_token, login

SHAHE = "360702101201"
HUAPING = "360702101202"
REFUSED = "未能在网上受理您的申请"


@pytest.fixture
def family(web_app, clock) -> dict:
    return register_family(web_app, clock)


def register_family(web_app, clock) -> dict:
    """A registered household in 沙河村: head 申请户 and one member."""
    with web_app.app_context():
        household = register_household(household_data("沙河村", "申请户", 2, contact_phone="13900000009"),
                                       "shahe_cun", clock)
        head, other = household.members
        return {"id": household.id, "number": household.number, "head_id": head.id_number,
                "other_id": other.id_number, "other_name": other.name}


def _form(family: dict, **changes) -> dict:
    data = {"village": SHAHE, "head_name": "申请户", "id_number": family["head_id"], "phone": "139 0000 0009",
            "description": "户主今年住院，自付医疗费约 3 万元", "risk_types": ["illness", "accident"], "agreed": "on"}
    return {k: v for k, v in {**data, **changes}.items() if v is not None}


def _apply(client, data: dict):
    html = client.get("/apply").get_data(as_text=True)
    return client.post("/apply", data={**data, "csrf_token": csrf_token(html)})


def _cases(app) -> list[Case]:
    with app.app_context():
        cases = list(db.session.scalars(select(Case)))
        db.session.expunge_all()
        return cases


def test_the_page_is_public_and_lists_villages_risks_and_the_commitment(client):
    response = client.get("/apply")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'value="{SHAHE}"' in html and "沙河村" in html and 'label="章贡区沙河镇"' in html
    assert "诸由观村" in html and 'value="illness"' in html and "因病" in html
    assert "授权相关部门" in html and "客观真实" in html and 'name="agreed"' in html
    assert 'name="viewport"' in html and "apply.css" in html
    assert client.get("/static/apply.css").status_code == 200


def application_number(html: str) -> str:
    match = re.search(r'<strong class="number" id="application-number">([0-9A-Z]{5}-[0-9A-Z]{5})</strong>', html)
    assert match, "the answer shows no application number"
    return match.group(1)


def alert(html: str) -> str:
    match = re.search(r'<p class="flash error" role="alert">([^<]*)</p>', html)
    assert match, "the page shows no refusal"
    return match.group(1)


def test_a_household_applies_and_the_village_cadre_gets_the_first_task(client, family, web_app, clock):
    response = _apply(client, _form(family))
    assert response.status_code == 303 and response.headers["Location"].endswith("/apply/done")
    answer = client.get("/apply/done")
    done = answer.get_data(as_text=True)
    [case] = _cases(web_app)
    assert answer.headers["Cache-Control"] == "no-store"
    assert "入户核实" in done and "公示" in done and "书面说明理由" in done and "查询申报进度" in done
    assert "2026-10-05 24:00" in done  # 15 days from today's lead
    number = application_number(done)
    assert case.number not in done and family["number"] not in done and "13900000009" not in done
    with web_app.app_context():
        case = db.session.get(Case, case.id)
        assert (case.channel, case.opened_by, str(case.lead_date)) == ("self_application", "self_application",
                                                                      "2026-09-20")
        assert case.household.status == "applying"
        opened = db.session.scalar(select(AuditEvent).filter_by(case_id=case.id, action="case_opened"))
        assert opened.actor == "self_application"
        application = opened.detail["application"]
        assert application["phone"] == "13900000009" and application["risk_types"] == ["illness", "accident"]
        assert application["agreed"] is True and "授权" in application["authorization"]
        assert application["application_number"] == number
        assert family["head_id"] not in str(opened.detail)  # the ID number is not copied into the case
        record = db.session.scalar(select(SelfApplication).filter_by(case_id=case.id))
        assert (record.statement, record.phone, record.risk_types, record.status) == (
            "户主今年住院，自付医疗费约 3 万元", "13900000009", ["illness", "accident"], "submitted")
        assert record.number == number.replace("-", "") and record.submitted_at == clock.now()
        assert record.household_status_before == "ordinary"
        assert family["head_id"] not in repr([getattr(record, c.key) for c in SelfApplication.__table__.columns])
        task = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
        assert (task.name, task.role) == ("受理申请并签署承诺授权书", "village_cadre")
    inbox = login(web_app.test_client(), "shahe_cun").get("/inbox").get_data(as_text=True)
    assert "申请户" in inbox


def test_application_numbers_are_random(client, family, web_app, clock):
    with web_app.app_context():
        second = register_household(household_data("沙河村", "第二户", 1), "shahe_cun", clock)
        second_id = second.members[0].id_number
    _apply(client, _form(family))
    first = application_number(client.get("/apply/done").get_data(as_text=True))
    other = web_app.test_client()
    _apply(other, _form({"head_id": second_id}, head_name="第二户"))
    assert application_number(other.get("/apply/done").get_data(as_text=True)) != first
    assert all(first.replace("-", "") != c.number.replace("-", "") for c in _cases(web_app))


def test_a_second_application_is_refused_without_naming_the_household_or_its_case(client, family, web_app):
    assert _apply(client, _form(family)).status_code == 303
    again = _apply(web_app.test_client(), _form(family))
    html = again.get_data(as_text=True)
    [case] = _cases(web_app)
    assert again.status_code == 422 and REFUSED in alert(html) and "查询进度" in alert(html)
    assert again.headers["Cache-Control"] == "no-store"
    assert case.number not in html and family["number"] not in html
    assert len(_cases(web_app)) == 1


def test_an_already_monitored_household_may_not_apply(client, family, web_app):
    with web_app.app_context():
        household = db.session.get(Household, family["id"])
        household.status = "monitored"
        db.session.commit()
    response = _apply(client, _form(family))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and REFUSED in alert(html)
    assert family["number"] not in html
    assert _cases(web_app) == []


def test_registered_monitored_applying_and_unknown_households_get_the_same_answer(client, family, web_app, clock):
    """Typing someone's ID number tells nothing of what the system knows of them: not registered, registered in
    another village, already monitored and already applying all get one answer, with one status."""
    with web_app.app_context():
        monitored = register_household(household_data("沙河村", "监测户", 1), "shahe_cun", clock)
        monitored.status = "monitored"
        monitored_id = monitored.members[0].id_number
        db.session.commit()
    assert _apply(client, _form(family)).status_code == 303
    answers = {
        "unknown": _apply(web_app.test_client(), _form(family, id_number=with_check_character("36070219809999999"))),
        "other village": _apply(web_app.test_client(), _form(family, village=HUAPING)),
        "monitored": _apply(web_app.test_client(), _form({"head_id": monitored_id}, head_name="监测户")),
        "applying": _apply(web_app.test_client(), _form(family)),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 422)
    assert len({alert(r.get_data(as_text=True)) for r in answers.values()}) == 1


@pytest.mark.parametrize("change", [
    {"head_name": "别人"},  # wrong name
    {"village": HUAPING},  # wrong village
    {"id_number": with_check_character("36070219809999999")},  # not registered
    "member",  # a member who is not the head
])
def test_a_mismatch_tells_the_household_to_contact_the_village(client, family, web_app, change):
    changes = {"head_name": family["other_name"], "id_number": family["other_id"]} if change == "member" else change
    response = _apply(client, _form(family, **changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and REFUSED in alert(html) and "村委会" in alert(html)
    assert family["number"] not in html
    assert _cases(web_app) == []


def test_the_id_number_matches_whatever_the_case_of_its_x(client, web_app, clock):
    with web_app.app_context():
        data = household_data("华坪村", "末位户", 1)
        id_number = data["members"][0]["id_number"] = with_check_character("36070219800101106")
        assert id_number.endswith("X")
        register_household(data, "huaping_cun", clock)
    form = _form({"head_id": id_number.lower()}, village=HUAPING, head_name="末位户")
    assert _apply(client, form).status_code == 303


def test_missing_or_wrong_fields_are_shown_next_to_them(client, family, web_app):
    response = _apply(client, _form(family, agreed=None, id_number="12345", phone="abc", description=" "))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("agreed", "id_number", "phone", "description"):
        assert f'id="err-{name}"' in html, name
    assert "须阅读并同意承诺和授权" in html and 'value="12345"' in html  # what was typed stays
    assert response.headers["Cache-Control"] == "no-store"  # (what was typed: an ID number, a telephone)
    assert _cases(web_app) == []


def test_a_mistyped_id_number_is_named_beside_its_field_not_looked_up(client, family, web_app):
    """A mistyped number (its check character does not fit) is a typing error, said as such: the applicant corrects
    it rather than being told to ask the village; saying so tells nothing of who is registered."""
    head_id = family["head_id"]
    mistyped = f"{(int(head_id[0]) + 1) % 10}{head_id[1:]}"  # the first digit mistyped
    response = _apply(client, _form(family, id_number=mistyped))
    html = response.get_data(as_text=True)
    error = re.search(r'id="err-id_number"[^>]*>([^<]*)<', html).group(1)
    assert response.status_code == 422 and error.startswith("身份证号校验位错误，第 18 位应为")
    assert mistyped not in error and REFUSED not in html
    assert _cases(web_app) == []


def test_a_post_without_the_csrf_token_is_refused(client, family, web_app):
    client.get("/apply")
    assert client.post("/apply", data=_form(family)).status_code == 400
    assert _cases(web_app) == []


def test_the_result_page_only_shows_in_the_browser_that_applied(client, family):
    _apply(client, _form(family))
    stranger = client.application.test_client()
    response = stranger.get("/apply/done")
    assert response.status_code == 302 and response.headers["Location"].endswith("/apply")


def test_the_village_choice_reads_the_same_statements_however_many_villages(web_app, client):
    """The page lists every village in the system under its county and township: the places above them are read
    in one statement (engine.cases.self_application.village_groups), not one per village."""
    def page() -> tuple[int, str]:
        db.session.remove()  # a request of its own: nothing read before (the request shares this app context)
        pages = []
        count = statements_of(lambda: pages.append(client.get("/apply")))
        assert pages[0].status_code == 200
        return count, pages[0].get_data(as_text=True)

    with web_app.app_context():
        page()  # the first request also reads what the application keeps afterwards
        few, html = page()
        add_township("360702", "360702199", "新设镇", 3)
        add_place("360702102", "360702102299", "新水西村", "village")
        db.session.commit()
        many, more = page()
    assert many == few
    assert 'label="章贡区新设镇"' not in html and 'label="章贡区新设镇"' in more and "新设镇3村" in more
    assert 'value="360702102299"' in more and more.count('label="章贡区水西镇"') == 1
