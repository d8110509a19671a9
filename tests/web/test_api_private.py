"""Private fields in the JSON API, through a real HTTP server on a loopback port: ID numbers, telephone numbers
and health status are masked in every answer, as on the pages; ``?sensitive=1`` gives them in full only to an
official of the household's jurisdiction whose role may see them (policy/roles.json ``sees_private``), and each
time the audit log says who saw which household's, when; any other role is refused (403, in Chinese) and the
audit log records the refused request the same way; an official of another jurisdiction gets nothing of the
household either way."""
from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.accounts.api_tokens import issue_token
from engine.cases.lifecycle import complete_task, open_identification, open_member_change
from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import AuditEvent, HumanTask, User
from engine.households.register import register_household
from engine.policy import permissions, roles
from tests.bdd.officials import household_data
from tests.webclient import HttpBrowser, serve

PHONE, HEALTH, APPLICANT_PHONE = "13912345678", "长期慢性病", "13800001111"
NEWBORN_ID, NEWBORN_HEALTH = with_check_character("36070220260905002"), "先天性心脏病"
NEWBORN_MASKED = f"{NEWBORN_ID[:6]}********{NEWBORN_ID[-4:]}"


@dataclasses.dataclass
class Answer:
    status: int
    body: Any
    text: str  # the whole answer, to look for a value anywhere in it


@dataclasses.dataclass
class Private:
    """A household of 沙河村 with an ID number, a phone and a health status; its identification (applied for with
    a phone number) and a member change recording a newborn; the full values to look for."""

    household: int
    number: str
    ids: list[str]
    identification: int
    member_change: int


@pytest.fixture
def private(web_app: Flask, clock) -> Private:
    data = household_data("沙河村", "隐私户", 2, contact_phone=PHONE)
    data["members"][0]["health_status"] = HEALTH
    newborn = {"name": "新生儿", "sex": "女", "relation_to_head": "女", "id_number": NEWBORN_ID,
               "health_status": NEWBORN_HEALTH, "medical_insurance": True, "lives_with_household": True}
    with web_app.app_context():
        household = register_household(data, "shahe_cun", clock)
        identification = open_identification(household.id, "self_application", date(2026, 9, 19), "shahe_cun", clock,
                                             application={"phone": APPLICANT_PHONE, "channel_detail": "电话申报"})
        change = open_member_change(household.id, date(2026, 9, 10), "shahe_cun", clock)
        task = db.session.scalar(select(HumanTask.id).filter_by(case_id=change.id, state="READY"))
        complete_task(task, {"change_type": "birth", "changed_on": "2026-09-10", "proof": "出生医学证明",
                             "new_member": newborn}, "shahe_cun", clock)
        return Private(household.id, household.number, [m["id_number"] for m in data["members"]],
                       identification.id, change.id)


@pytest.fixture
def server(web_app: Flask) -> Iterator[str]:
    with serve(web_app) as base:
        yield base


@pytest.fixture
def token(web_app: Flask, clock):
    """An API token of a demo official, as another system holds it."""

    def issue(username: str) -> str:
        with web_app.app_context():
            return issue_token(db.session.scalar(select(User).filter_by(username=username)), "测试系统", clock.now())

    return issue


def _get(base: str, path: str, token: str) -> Answer:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
        assert error.headers["Content-Type"].startswith("application/json")
    body = json.loads(raw)
    return Answer(status, body, json.dumps(body, ensure_ascii=False))  # the text as read, not \u-escaped


def _viewings(app: Flask, action: str = "private_data_viewed") -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return rows


def _refusals(app: Flask) -> list[AuditEvent]:
    return _viewings(app, "private_data_refused")


def _full_values(p: Private) -> list[str]:
    return [*p.ids, NEWBORN_ID, PHONE, APPLICANT_PHONE, HEALTH, NEWBORN_HEALTH]


# -- masked by default ----------------------------------------------------------------------------


def test_household_and_case_answers_are_masked_by_default(web_app, private, server, token):
    cadre = token("shahe_cun")
    for path in (f"/api/households/{private.household}", f"/api/households?number={private.number}",
                 f"/api/households/{private.household}?sensitive=0"):
        answer = _get(server, path, cadre)
        assert answer.status == 200 and answer.body["private_fields"] == "masked", path
        head, relative, newborn = answer.body["members"]
        assert head["name"] == "隐私户" and head["id_number"] == f"{private.ids[0][:6]}********{private.ids[0][-4:]}"
        assert head["health_status"] == "（已隐藏）" and relative["health_status"] is None  # none recorded
        assert newborn["id_number"] == NEWBORN_MASKED and answer.body["contact_phone"] == "139****5678"
        assert not any(value in answer.text for value in _full_values(private)), path
    change = _get(server, f"/api/cases/{private.member_change}", cadre)
    assert change.status == 200 and change.body["private_fields"] == "masked"
    data = next(t["form_data"] for t in change.body["tasks"] if t["form"] == "member_change.json")
    assert data["new_member"]["name"] == "新生儿" and data["new_member"]["id_number"] == NEWBORN_MASKED
    assert data["new_member"]["health_status"] == "（已隐藏）" and data["proof"] == "出生医学证明"
    opened = _get(server, f"/api/cases/{private.identification}", cadre)
    application = next(e for e in opened.body["timeline"] if e["action"] == "case_opened")["detail"]["application"]
    assert application == {"phone": "138****1111", "channel_detail": "电话申报"}
    for answer in (change, opened):
        assert not any(value in answer.text for value in _full_values(private))
    assert _viewings(web_app) == [] and _refusals(web_app) == []  # a masked answer is no viewing


# -- in full, when asked, for an allowed official: audited ----------------------------------------


def test_sensitive_1_gives_an_allowed_official_the_full_values_and_the_audit_log_records_it(
        web_app, clock, private, server, token):
    answer = _get(server, f"/api/households/{private.household}?sensitive=1", token("shahe_cun"))
    assert answer.status == 200 and answer.body["private_fields"] == "full"
    assert [m["id_number"] for m in answer.body["members"]] == [*private.ids, NEWBORN_ID]
    assert answer.body["members"][0]["health_status"] == HEALTH and answer.body["contact_phone"] == PHONE
    (viewing,) = _viewings(web_app)
    assert (viewing.actor, viewing.at, viewing.household_id, viewing.case_id) == (
        "shahe_cun", clock.now(), private.household, None)
    assert viewing.detail == {"number": private.number, "via": "api", "auth": "token",
                              "path": f"/api/households/{private.household}"}

    supervisor = token("zhanggong_dudao")  # the county's supervisor opens the information form too
    found = _get(server, f"/api/households?number={private.number}&sensitive=1", supervisor)
    assert found.status == 200 and found.body["members"][0]["id_number"] == private.ids[0]
    change = _get(server, f"/api/cases/{private.member_change}?sensitive=1", supervisor)
    data = next(t["form_data"] for t in change.body["tasks"] if t["form"] == "member_change.json")
    assert change.status == 200 and change.body["private_fields"] == "full"
    assert data["new_member"]["id_number"] == NEWBORN_ID and data["new_member"]["health_status"] == NEWBORN_HEALTH
    assert [(v.actor, v.household_id, v.case_id) for v in _viewings(web_app)] == [
        ("shahe_cun", private.household, None), ("zhanggong_dudao", private.household, None),
        ("zhanggong_dudao", private.household, private.member_change)]
    assert any(e["action"] == "private_data_viewed" for e in change.body["timeline"])  # in the case's own trail


def test_a_viewing_through_a_case_is_on_the_case_page_for_the_officials_above(web_app, private, server, token):
    assert _get(server, f"/api/cases/{private.identification}?sensitive=1", token("shahe_cun")).status == 200
    browser = HttpBrowser(server)
    assert browser.login("zhanggong_dudao", "demo").status == 200
    page = browser.get(f"/cases/{private.identification}").read().decode()
    assert "查看敏感信息" in page and "通过数据接口查看了完整的身份证号、联系电话和健康状况" in page
    assert '<span class="hint">沙河村村干部</span>' in page and "（shahe_cun）" not in page


def test_a_session_login_may_ask_too_and_the_log_says_so(web_app, private, server):
    browser = HttpBrowser(server)
    assert browser.login("shahe_zhen", "demo").status == 200
    answer = browser.get(f"/api/households/{private.household}?sensitive=1")
    assert answer.status == 200 and json.loads(answer.read())["members"][0]["id_number"] == private.ids[0]
    assert [(v.actor, v.detail["auth"]) for v in _viewings(web_app)] == [("shahe_zhen", "session")]


# -- refused ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["zhanggong_yibao", "zhanggong_admin"])  # a department officer, an administrator
def test_a_role_that_may_not_see_them_is_refused_in_chinese_and_the_refusal_is_recorded(
        web_app, clock, private, server, token, username):
    official = token(username)
    assert _get(server, f"/api/households/{private.household}", official).status == 200  # masked: allowed
    paths = (f"/api/households/{private.household}?sensitive=1", f"/api/households?number={private.number}&sensitive=1",
             f"/api/cases/{private.member_change}?sensitive=1")
    for path in paths:
        answer = _get(server, path, official)
        assert answer.status == 403 and answer.body["code"] == "forbidden", path
        assert "无权查看完整的身份证号、联系电话和健康状况" in answer.body["error"]
        assert "村干部（村两委）" in answer.body["error"]  # the roles that may, from policy/roles.json
        assert not any(value in answer.text for value in _full_values(private))
    assert _viewings(web_app) == []  # nothing was seen
    refusals = _refusals(web_app)
    assert [(r.actor, r.at, r.household_id, r.case_id, r.detail["path"]) for r in refusals] == [
        (username, clock.now(), private.household, None, f"/api/households/{private.household}"),
        (username, clock.now(), private.household, None, "/api/households"),
        (username, clock.now(), private.household, private.member_change, f"/api/cases/{private.member_change}")]
    assert refusals[0].detail == {"number": private.number, "via": "api", "auth": "token",
                                  "path": f"/api/households/{private.household}"}
    change = _get(server, f"/api/cases/{private.member_change}", official)  # masked, with the refusal in its trail
    assert change.status == 200 and change.body["private_fields"] == "masked"
    assert [e["action"] for e in change.body["timeline"]].count("private_data_refused") == 1
    assert not any(value in change.text for value in _full_values(private))
    browser = HttpBrowser(server)
    assert browser.login("zhanggong_dudao", "demo").status == 200
    page = browser.get(f"/cases/{private.member_change}").read().decode()
    assert "拒绝查看敏感信息" in page and "通过数据接口请求查看完整的身份证号、联系电话和健康状况，其角色无权查看，已拒绝" in page


@pytest.mark.parametrize("username", ["huaping_cun", "longkou_shi"])  # another village; another county's officer
def test_an_official_of_another_jurisdiction_gets_nothing_of_the_household_either_way(
        web_app, private, server, token, username):
    official = token(username)
    for path in (f"/api/households/{private.household}", f"/api/households/{private.household}?sensitive=1",
                 f"/api/households?number={private.number}", f"/api/households?number={private.number}&sensitive=1",
                 f"/api/cases/{private.member_change}", f"/api/cases/{private.member_change}?sensitive=1"):
        answer = _get(server, path, official)
        assert answer.status == 403 and set(answer.body) == {"error", "code", "fields"}, path
        assert "辖区" in answer.body["error"] and not any(value in answer.text for value in [
            *_full_values(private), "隐私户", "新生儿", "139****5678", "（已隐藏）"])
        if "?number=" not in path:  # (asked by its number, the answer may say which number it was)
            assert private.number not in answer.text, path
    assert _viewings(web_app) == [] and _refusals(web_app) == []  # refused before private fields come into it


def test_a_wrong_sensitive_value_is_422_naming_the_parameter(private, server, token):
    answer = _get(server, f"/api/households/{private.household}?sensitive=yes", token("shahe_cun"))
    assert answer.status == 422 and answer.body["fields"][0]["field"] == "sensitive"
    assert "应为 1" in answer.body["fields"][0]["reason"]


def test_who_may_see_them_is_the_policy_data(web_app, private, server, token, monkeypatch):
    department = roles.all_roles()["department_officer"]
    changed = {**roles.all_roles(), "department_officer": dataclasses.replace(department, sees_private=True)}
    monkeypatch.setattr(permissions, "all_roles", lambda: changed)
    answer = _get(server, f"/api/households/{private.household}?sensitive=1", token("zhanggong_yibao"))
    assert answer.status == 200 and answer.body["members"][0]["id_number"] == private.ids[0]
    assert [v.actor for v in _viewings(web_app)] == ["zhanggong_yibao"]


# -- documented -------------------------------------------------------------------------------------


def test_the_openapi_document_served_describes_the_masking_and_sensitive_1(server):
    with urllib.request.urlopen(server + "/api/openapi.json", timeout=30) as response:
        spec = json.loads(response.read())
    assert "?sensitive=1" in spec["info"]["description"] and "private_data_viewed" in spec["info"]["description"]
    assert "private_data_refused" in spec["info"]["description"]
    for path in ("/api/households", "/api/households/{household_id}", "/api/cases/{case_id}"):
        (sensitive,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "sensitive"]
        assert sensitive["schema"]["enum"] == ["0", "1"] and "403" in sensitive["description"], path
    member = spec["components"]["schemas"]["Member"]["properties"]
    assert "pattern" not in member["id_number"] and "打码" in member["id_number"]["description"]
    assert "private_fields" in spec["components"]["schemas"]["Household"]["properties"]
