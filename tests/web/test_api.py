"""The JSON API: token or session log-in, the same roles and jurisdiction rules as the pages, the engine's
refusals mapped to HTTP statuses, and an OpenAPI document that covers every route."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.accounts.api_tokens import authenticate, issue_token, revoke, tokens_of
from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.errors import RuleViolation
from engine.core.models import ApiToken, AuditEvent, Household, HumanTask, User
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.webclient import login

APPLY = {"applied_on": "2026-09-20", "all_members_signed": True, "risk_description": "户主因病住院",
         "risk_types": ["illness"]}
FIRST_STEP = "受理申请并签署承诺授权书"


class Api:
    """A client of the API logged in one way: a Bearer token, or the browser session (with its CSRF token)."""

    def __init__(self, client: FlaskClient, token: str | None = None, csrf: str | None = None) -> None:
        self.client, self.token, self.csrf = client, token, csrf

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.csrf:
            headers["X-CSRFToken"] = self.csrf
        return {**headers, **(extra or {})}

    def get(self, url: str, **kwargs):
        return self.client.get(url, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, url: str, json=None, **kwargs):
        return self.client.post(url, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


def token_api(app: Flask, username: str, clock) -> Api:
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        token = issue_token(user, "测试系统", clock.now())
    return Api(app.test_client(), token=token)


def session_api(app: Flask, username: str) -> Api:
    client = login(app.test_client(), username)
    return Api(client, csrf=client.get("/api/me").get_json()["csrf_token"])


@pytest.fixture
def village_api(web_app, clock) -> Api:
    return token_api(web_app, "shahe_cun", clock)


@pytest.fixture
def household_id(web_app, clock) -> int:
    with web_app.app_context():
        return register_household(household_data("沙河村", "接口户", 2), "shahe_cun", clock).id


@pytest.fixture
def case_id(web_app, clock, household_id) -> int:
    with web_app.app_context():
        return open_identification(household_id, "cadre_screening", date(2026, 9, 19), "shahe_cun", clock).id


def _task_id(app: Flask, case_id: int, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(HumanTask.id).filter_by(case_id=case_id, name=name, state="READY"))


def _fields(response) -> set[str]:
    return {f["field"] for f in response.get_json()["fields"]}


# -- authentication -------------------------------------------------------------------------------


def test_without_login_every_endpoint_answers_401_json_never_a_redirect(web_app, case_id):
    client = web_app.test_client()
    for method, url in [("get", "/api/me"), ("get", "/api/tasks"), ("get", f"/api/cases/{case_id}"),
                        ("post", "/api/cases"), ("post", "/api/tasks/1/claim"), ("get", "/api/overdue")]:
        response = getattr(client, method)(url)
        assert response.status_code == 401, url
        assert response.is_json and "请先登录" in response.get_json()["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_bearer_token_acts_as_its_user_and_needs_no_csrf_token(web_app, clock):
    api = token_api(web_app, "shahe_cun", clock)
    me = api.get("/api/me").get_json()
    assert me["username"] == "shahe_cun" and me["auth"] == "token" and me["csrf_token"] is None
    assert me["jurisdiction"]["code"] == "360702101201" and me["roles"] == ["village_cadre"]
    assert api.post("/api/households", household_data("沙河村", "令牌户", 1)).status_code == 201


def test_unknown_malformed_and_revoked_tokens_are_refused(web_app, clock):
    client = web_app.test_client()
    for header in ("Bearer fp_nonsense", "Basic c2hhaGVfY3VuOmRlbW8=", "Bearer"):
        response = client.get("/api/me", headers={"Authorization": header})
        assert response.status_code == 401 and "令牌无效" in response.get_json()["error"]
    api = token_api(web_app, "shahe_cun", clock)
    with web_app.app_context():
        row = db.session.scalar(select(ApiToken))
        revoke(row.id, "admin", clock.now())
    assert api.get("/api/me").status_code == 401


def test_tokens_are_stored_only_as_sha256_and_revoked_once(app, clock):
    user = db.session.scalar(select(User).filter_by(username="shahe_zhen"))
    token = issue_token(user, "12317 平台", clock.now())
    row = tokens_of(user)[0]
    assert token.startswith("fp_") and token not in (row.token_sha256, row.label) and len(row.token_sha256) == 64
    assert authenticate(token).username == "shahe_zhen" and authenticate("fp_" + "x" * 43) is None
    revoke(row.id, "admin", clock.now())
    assert authenticate(token) is None
    with pytest.raises(RuleViolation, match="已于"):
        revoke(row.id, "admin", clock.now())
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("api_token%"))))
    assert actions == ["api_token_issued", "api_token_revoked"]


def test_a_session_post_without_the_csrf_header_is_refused(web_app):
    api = session_api(web_app, "shahe_cun")
    assert api.get("/api/me").get_json()["auth"] == "session"
    bare = api.client.post("/api/households", json=household_data("沙河村", "会话户", 1))
    assert bare.status_code == 400 and bare.get_json()["code"] == "csrf"
    wrong = api.client.post("/api/households", json=household_data("沙河村", "会话户", 1),
                            headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 400
    assert api.post("/api/households", household_data("沙河村", "会话户", 1)).status_code == 201


# -- households -----------------------------------------------------------------------------------


def test_register_and_find_a_household(village_api):
    created = village_api.post("/api/households", household_data("沙河村", "新登记户", 3, group_name="二组"))
    assert created.status_code == 201
    body = created.get_json()
    assert body["head"] == "新登记户" and body["size"] == 3 and body["group_name"] == "二组"
    assert created.headers["Location"].endswith(f"/api/households/{body['id']}")
    found = village_api.get(f"/api/households?number={body['number']}")
    assert found.status_code == 200 and found.get_json()["id"] == body["id"]
    assert village_api.get(f"/api/households/{body['id']}").get_json()["members"][0]["relation_to_head"] == "户主"
    assert village_api.get("/api/households?number=nope").status_code == 404
    assert village_api.get("/api/households/9999").status_code == 404
    missing = village_api.get("/api/households")
    assert missing.status_code == 422 and _fields(missing) == {"number"}


def test_invalid_registrations_are_422_naming_the_fields(village_api, web_app):
    bad = household_data("沙河村", "错误户", 2)
    bad["members"][1]["id_number"] = "123"
    del bad["members"][0]["name"]
    response = village_api.post("/api/households", bad)
    assert response.status_code == 422
    assert _fields(response) == {"members/0/name", "members/1/id_number"}
    two_heads = household_data("沙河村", "两户主", 2)
    two_heads["members"][1]["relation_to_head"] = "户主"
    response = village_api.post("/api/households", two_heads)
    assert response.status_code == 422 and _fields(response) == {"members"}
    assert "户主" in response.get_json()["fields"][0]["reason"]
    assert village_api.post("/api/households", [1, 2]).status_code == 422
    with web_app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Household)) == 0


def test_a_mistyped_id_number_is_422_at_its_field_naming_the_check_character_not_the_number(village_api, web_app):
    bad = household_data("沙河村", "录错户", 2)
    valid = bad["members"][1]["id_number"]
    mistyped = bad["members"][1]["id_number"] = valid[:17] + ("0" if valid[17] != "0" else "1")
    response = village_api.post("/api/households", bad)
    assert response.status_code == 422 and _fields(response) == {"members/1/id_number"}
    reason = response.get_json()["fields"][0]["reason"]
    assert reason.startswith(f"身份证号（A7）：校验位错误，第 18 位应为 {valid[17]}")
    assert mistyped not in response.get_data(as_text=True)
    with web_app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Household)) == 0


def test_households_of_another_jurisdiction_or_role_are_forbidden(web_app, clock, household_id, village_api):
    other = token_api(web_app, "huaping_cun", clock)
    assert other.get(f"/api/households/{household_id}").status_code == 403
    number = village_api.get(f"/api/households/{household_id}").get_json()["number"]
    assert other.get(f"/api/households?number={number}").status_code == 403
    outside = other.post("/api/households", household_data("沙河村", "越权户", 1))
    assert outside.status_code == 403 and "辖区" in outside.get_json()["error"]
    supervisor = token_api(web_app, "zhanggong_dudao", clock)
    assert supervisor.get(f"/api/households/{household_id}").status_code == 200  # reading is allowed
    refused = supervisor.post("/api/households", household_data("沙河村", "督导户", 1))
    assert refused.status_code == 403 and "角色" in refused.get_json()["error"]


# -- cases ----------------------------------------------------------------------------------------


def test_open_a_case_and_a_duplicate_is_409_with_the_engines_message(village_api, household_id):
    body = {"household_id": household_id, "channel": "self_application", "lead_date": "2026-09-20",
            "application": {"channel_detail": "APP 申报"}}
    created = village_api.post("/api/cases", body)
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert case["number"].startswith("SB-2026-") and case["channel_name"] == "农户自主申报"
    assert case["opened_by"] == "shahe_cun" and created.headers["Location"].endswith(f"/api/cases/{case['id']}")
    again = village_api.post("/api/cases", body)
    assert again.status_code == 409 and "已有未办结的识别申请" in again.get_json()["error"]


def test_opening_a_case_with_bad_input_is_422(village_api, household_id):
    response = village_api.post("/api/cases", {"household_id": "x", "channel": "rumour", "lead_date": "20.9.2026"})
    assert response.status_code == 422 and _fields(response) == {"household_id", "channel", "lead_date"}
    assert village_api.post("/api/cases", {"household_id": 999, "channel": "petition",
                                           "lead_date": "2026-09-20"}).status_code == 404
    other = village_api.post("/api/cases", {"household_id": 1, "channel": "green_channel", "lead_date": "2026-09-20"})
    assert other.status_code == 422 and _fields(other) == {"channel"}  # a channel of another procedure


def test_a_lead_found_long_ago_is_opened_with_its_backfill_reason(village_api, household_id):
    body = {"household_id": household_id, "channel": "cadre_screening", "lead_date": "2026-01-10"}
    refused = village_api.post("/api/cases", body)
    assert refused.status_code == 422 and _fields(refused) == {"backfill_reason"}
    assert "超过本地政策规定的 15 天" in refused.get_json()["error"]
    created = village_api.post("/api/cases", {**body, "application": {"backfill_reason": "1 月排查发现，当时未立案"}})
    assert created.status_code == 201, created.get_json()


def test_opening_a_case_elsewhere_or_without_the_role_is_403(web_app, clock, household_id):
    body = {"household_id": household_id, "channel": "cadre_screening", "lead_date": "2026-09-20"}
    assert token_api(web_app, "huaping_cun", clock).post("/api/cases", body).status_code == 403
    assert token_api(web_app, "zhanggong_dudao", clock).post("/api/cases", body).status_code == 403
    city = token_api(web_app, "ganzhou_shi", clock)  # as in the browser: policy/roles.json gives a city no "opens"
    refused = city.post("/api/cases", body)
    assert refused.status_code == 403 and "不能发起识别纳入" in refused.get_json()["error"]
    assert city.post("/api/households", household_data("沙河村", "市级户", 1)).status_code == 403
    assert token_api(web_app, "shahe_zhen", clock).post("/api/cases", body).status_code == 201  # township screening


def test_a_case_with_timeline_tasks_and_explained_deadlines(village_api, case_id, web_app, clock):
    response = village_api.get(f"/api/cases/{case_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert response.headers["ETag"] == f'"{body["case"]["version"]}"'
    assert body["case"]["lead_date"] == "2026-09-19" and body["case"]["channel"] == "cadre_screening"
    assert body["timeline"][0]["action"] == "case_opened"
    assert [t["name"] for t in body["tasks"]] == [FIRST_STEP] and body["tasks"][0]["role_name"].startswith("村干部")
    overall = body["deadlines"][0]
    assert overall["subject"] == "case" and overall["due_local"] == "2026-10-04 24:00"
    assert "起始日不计入" in overall["explanation"] and overall["data_version"]
    deadlines = village_api.get(f"/api/cases/{case_id}/deadlines").get_json()
    assert deadlines["items"] == body["deadlines"]
    assert token_api(web_app, "huaping_cun", clock).get(f"/api/cases/{case_id}").status_code == 403
    assert token_api(web_app, "huaping_cun", clock).get(f"/api/cases/{case_id}/deadlines").status_code == 403
    assert token_api(web_app, "zhanggong_xian", clock).get(f"/api/cases/{case_id}").status_code == 200
    assert village_api.get("/api/cases/9999").status_code == 404
    for path in ("/api", "/api/", "/api/no-such-thing"):  # the API's own error form, with or without the slash
        missing = village_api.get(path)
        assert missing.status_code == 404 and missing.is_json and missing.get_json()["error"], path


# -- tasks ----------------------------------------------------------------------------------------


def test_my_tasks_with_filters_and_keyset_pages(web_app, clock, village_api):
    with web_app.app_context():
        for i in range(3):
            h = register_household(household_data("沙河村", f"分页户{i}", 1), "shahe_cun", clock)
            open_identification(h.id, "cadre_screening", date(2026, 9, 18 + i), "shahe_cun", clock)
    first = village_api.get("/api/tasks?limit=2").get_json()
    assert first["total"] == 3 and len(first["items"]) == 2 and first["next"]
    assert [i["household"].split()[-1] for i in first["items"]] == ["分页户0", "分页户1"]  # most urgent first
    second = village_api.get("/api/tasks", query_string={"limit": 2, "after": first["next"]}).get_json()
    assert [i["household"].split()[-1] for i in second["items"]] == ["分页户2"] and second["next"] is None
    assert village_api.get("/api/tasks", query_string={"step": "入户核实"}).get_json()["total"] == 0
    assert village_api.get("/api/tasks", query_string={"procedure": "identification"}).get_json()["total"] == 3
    assert token_api(web_app, "shahe_zhen", clock).get("/api/tasks").get_json()["total"] == 0  # not a township task
    for bad in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"after": "garbage"}):
        response = village_api.get("/api/tasks", query_string=bad)
        assert response.status_code == 422 and _fields(response) == set(bad), bad


def test_the_task_form_is_its_json_schema(village_api, case_id, web_app, clock):
    task = _task_id(web_app, case_id, FIRST_STEP)
    response = village_api.get(f"/api/tasks/{task}/form")
    body = response.get_json()
    assert response.status_code == 200 and body["form"] == "identification_apply.json"
    assert body["schema"]["properties"]["all_members_signed"] == {"const": True, "title": "全体家庭成员已签署承诺授权书"}
    assert response.headers["ETag"] == f'"{body["case"]["version"]}"'
    assert token_api(web_app, "shahe_zhen", clock).get(f"/api/tasks/{task}/form").status_code == 403
    assert village_api.get("/api/tasks/9999/form").status_code == 404


def test_complete_a_task_and_refusals(village_api, case_id, web_app, clock):
    task = _task_id(web_app, case_id, FIRST_STEP)
    invalid = village_api.post(f"/api/tasks/{task}/complete", {"applied_on": "20 September", "risk_description": "",
                                                            "all_members_signed": False})
    assert invalid.status_code == 422
    assert _fields(invalid) == {"applied_on", "all_members_signed", "risk_description"}
    reasons = {f["field"]: f["reason"] for f in invalid.get_json()["fields"]}
    assert "必须确认" in reasons["all_members_signed"]
    assert reasons["applied_on"] == "申请日期：日期格式应为 年-月-日，如 2026-09-10"  # as the web pages and uploads say
    assert invalid.get_json()["error"].startswith(f"{FIRST_STEP}填写有误：")  # the task, not its form's file
    assert ".json" not in invalid.get_json()["error"] and "YYYY" not in invalid.get_json()["error"]
    assert token_api(web_app, "shahe_zhen", clock).post(f"/api/tasks/{task}/complete", APPLY).status_code == 403
    assert token_api(web_app, "huaping_cun", clock).post(f"/api/tasks/{task}/complete", APPLY).status_code == 403
    stale = village_api.post(f"/api/tasks/{task}/complete", APPLY, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and "已被他人更新" in stale.get_json()["error"]
    version = village_api.get(f"/api/tasks/{task}/form").headers["ETag"]
    done = village_api.post(f"/api/tasks/{task}/complete", APPLY, headers={"If-Match": version})
    assert done.status_code == 200, done.get_json()
    assert [t["name"] for t in done.get_json()["ready_tasks"]] == ["入户核实"]
    again = village_api.post(f"/api/tasks/{task}/complete", APPLY)
    assert again.status_code == 409 and "已由 沙河村村干部 于 2026-09-20 09:00 办理" in again.get_json()["error"]


def test_claim_and_release_with_conflicts(village_api, case_id, web_app, clock):
    task = _task_id(web_app, case_id, FIRST_STEP)
    colleague = session_api(web_app, "shahe_cun2")
    claimed = village_api.post(f"/api/tasks/{task}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by"] == "shahe_cun"
    taken = colleague.post(f"/api/tasks/{task}/claim")
    assert taken.status_code == 409 and taken.get_json()["error"] == "任务“受理申请并签署承诺授权书”已由 沙河村村干部 认领"
    blocked = colleague.post(f"/api/tasks/{task}/complete", APPLY)
    assert blocked.status_code == 409 and "已由 沙河村村干部 认领" in blocked.get_json()["error"]
    assert colleague.post(f"/api/tasks/{task}/release").status_code == 409
    assert token_api(web_app, "huaping_cun", clock).post(f"/api/tasks/{task}/claim").status_code == 403
    assert token_api(web_app, "shahe_zhen", clock).post(f"/api/tasks/{task}/release").status_code == 403
    assert colleague.client.post(f"/api/tasks/{task}/release").status_code == 400  # session without CSRF header
    assert village_api.post(f"/api/tasks/{task}/release").get_json()["claimed_by"] is None
    assert colleague.post(f"/api/tasks/{task}/claim").get_json()["claimed_by"] == "shahe_cun2"
    assert village_api.post("/api/tasks/9999/claim").status_code == 404


# -- overdue --------------------------------------------------------------------------------------


def test_overdue_cases_and_tasks_by_jurisdiction(web_app, clock, case_id, village_api):
    assert village_api.get("/api/overdue").get_json()["tasks"] == []
    clock.set(datetime(2026, 10, 6, 4, 0, tzinfo=UTC))  # the 15 days ended at 2026-10-04 24:00
    county = token_api(web_app, "zhanggong_xian", clock)
    body = county.get("/api/overdue", query_string={"j": "360702101"}).get_json()
    assert body["jurisdiction"]["name"] == "沙河镇"
    assert [(i["kind"], i["days_overdue"]) for i in body["cases"]] == [("case", 2)]
    assert [i["step"] for i in body["tasks"]] == [FIRST_STEP] and body["by_child"] == {"沙河村": 2}
    assert county.get("/api/overdue", query_string={"step": "入户核实"}).get_json()["tasks"] == []
    assert len(village_api.get("/api/overdue").get_json()["tasks"]) == 1
    assert village_api.get("/api/overdue", query_string={"j": "360702101202"}).status_code == 403
    assert village_api.get("/api/overdue", query_string={"j": "360702101"}).status_code == 403
    assert county.get("/api/overdue", query_string={"j": "999"}).status_code == 404


# -- OpenAPI --------------------------------------------------------------------------------------


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_the_openapi_document_describes_every_api_route(web_app):
    doc = web_app.test_client().get("/api/openapi.json").get_json()  # public: it holds no data
    assert doc["openapi"].startswith("3.1")
    routes = {(_openapi_path(r.rule), m.lower()) for r in web_app.url_map.iter_rules() if r.rule.startswith("/api")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert routes and routes == documented
    for path, method in documented - {("/api/openapi.json", "get")}:
        responses = doc["paths"][path][method]["responses"]
        assert "401" in responses and {"200", "201"} & set(responses), (path, method)
        assert method != "post" or "400" in responses  # the CSRF refusal of session calls
    bodies = {path for path, item in doc["paths"].items() if "requestBody" in item.get("post", {})}
    assert bodies == {"/api/households", "/api/cases", "/api/tasks/{task_id}/complete", "/api/warnings/batches"}


def test_the_complete_body_references_the_task_forms(web_app):
    doc = web_app.test_client().get("/api/openapi.json").get_json()
    complete = doc["paths"]["/api/tasks/{task_id}/complete"]["post"]
    assert complete["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TaskFormData"}
    refs = {r["$ref"] for r in doc["components"]["schemas"]["TaskFormData"]["anyOf"]}
    assert "#/components/schemas/Form_identification_apply" in refs
    assert doc["components"]["schemas"]["Form_household_verification"]["title"]
    assert {"409", "422", "403"} <= set(complete["responses"])
    register = doc["paths"]["/api/households"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert register == {"$ref": "#/components/schemas/Form_register_household"}


def test_the_openapi_document_is_valid(web_app):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(web_app.test_client().get("/api/openapi.json").get_json())


def test_a_department_pushes_a_warning_batch_through_the_api(web_app, clock, household_id):
    from engine.core.models import DepartmentWarning, Household

    with web_app.app_context():
        head = db.session.get(Household, household_id).head.id_number
    api = token_api(web_app, "zhanggong_yibao", clock)  # 章贡区医保局 (demo login)
    good = {"name": "接口户", "id_number": head, "indicator": "out_of_pocket", "amount": 25000, "date": "2026-09-10"}
    bad = {**good, "name": "外人", "id_number": "12345"}
    refused = api.post("/api/warnings/batches", json={"department": "medical", "period": "2026-Q3",
                                                      "rows": [good, bad]})
    assert refused.status_code == 422
    fields = {f["field"] for f in refused.get_json()["fields"]}
    assert "第 2 行 id_number" in fields and all(f.startswith("第 2 行") for f in fields)  # the good row is fine
    with web_app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(DepartmentWarning)) == 0
    created = api.post("/api/warnings/batches", json={"department": "medical", "period": "2026-Q3", "rows": [good]})
    assert created.status_code == 201, created.get_json()
    batch = created.get_json()
    assert (batch["rows_count"], batch["jurisdiction"]["code"]) == (1, "360702")
    assert api.get(f"/api/warnings/batches/{batch['id']}").get_json()["id"] == batch["id"]
    assert token_api(web_app, "shahe_cun", clock).post("/api/warnings/batches", json={}).status_code == 403
    assert token_api(web_app, "taian_xian", clock).get(f"/api/warnings/batches/{batch['id']}").status_code == 403


def test_a_case_of_no_one_household_is_answered_with_household_null(web_app, clock, household_id):
    """A department's warning batch runs as a case of no household: its case and its task forms are answered."""
    from engine.core.models import Case

    with web_app.app_context():
        head = db.session.get(Household, household_id).head.id_number
    row = {"name": "接口户", "id_number": head, "indicator": "out_of_pocket", "amount": 25000, "date": "2026-09-10"}
    created = token_api(web_app, "zhanggong_yibao", clock).post(
        "/api/warnings/batches", json={"department": "medical", "period": "2026-Q3", "rows": [row]})
    assert created.status_code == 201, created.get_json()
    with web_app.app_context():
        case = db.session.scalar(select(Case).filter_by(household_id=None).order_by(Case.id.desc()))
        task = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
        case_id, task_id = case.id, task.id
    answer = token_api(web_app, "zhanggong_xian", clock).get(f"/api/cases/{case_id}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["case"]["household"] is None
    county = token_api(web_app, "zhanggong_xian", clock)
    form = county.get(f"/api/tasks/{task_id}/form")
    assert form.status_code == 200 and form.get_json()["case"]["household"] is None
    today = clock.now().date().isoformat()
    done = county.post(f"/api/tasks/{task_id}/complete", json={"compared_on": today})
    assert done.status_code == 200, done.get_data(as_text=True)  # (was a 500 after the completion was saved)
    assert done.get_json()["case"]["household"] is None


def test_a_session_that_must_choose_a_new_password_is_refused_until_it_does(web_app, clock, case_id):
    """As on the pages, where every page leads to 设置新密码 first: the API refuses the browser session of an official
    whose password an administrator set (a token, issued to a system, is not a login and still works)."""
    with web_app.app_context():
        db.session.scalar(select(User).filter_by(username="shahe_cun")).must_change_password = True
        db.session.commit()
    client = login(web_app.test_client(), "shahe_cun")
    assert client.get("/inbox").headers["Location"].startswith("/password")
    for answer in (client.get("/api/tasks"), client.get(f"/api/cases/{case_id}"),
                   client.post(f"/api/tasks/{_task_id(web_app, case_id, FIRST_STEP)}/claim")):
        assert answer.status_code == 403 and answer.get_json()["code"] == "password_change_required"
        assert "设置新密码" in answer.get_json()["error"]
    with web_app.app_context():
        assert db.session.scalar(select(HumanTask).filter_by(case_id=case_id, name=FIRST_STEP)).claimed_by is None
    assert token_api(web_app, "shahe_cun", clock).get("/api/tasks").status_code == 200
