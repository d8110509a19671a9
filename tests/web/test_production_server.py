"""The production server as `fangpin run` (and `make run`) starts it — gunicorn with two worker processes and the
scheduler beside it — answered over HTTP on a loopback port: logging in, a session that holds whichever worker
answers, the ledger downloads with their Chinese file names (RFC 5987) opening as files, and the JSON API."""
from __future__ import annotations

import csv
import http.cookiejar
import io
import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from urllib.error import HTTPError

import pytest
from openpyxl import load_workbook

from engine.core.config import REPO_ROOT
from engine.core.id_numbers import with_check_character
from tests.processes import stop
from tests.test_cli_security import START_TIMEOUT, _wait_for
from tests.test_cli_security import env as env  # noqa: PLC0414 — the fixture: a demo database of its own
from tests.webclient import csrf_token

pytestmark = pytest.mark.slow  # started first (tests/conftest.py)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(env):
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", "run", "--port", str(port)],
                               cwd=REPO_ROOT, env={**env, "FANGPIN_WORKERS": "2"}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(process, rf"Listening at: http://127\.0\.0\.1:{port}", r"Booting worker", r"scheduler .* started")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process, timeout=START_TIMEOUT)


class Browser:
    """A client with cookies, not following redirects to hide them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str):
        return self.opener.open(self.base + path, timeout=30)

    def post(self, path: str, data: dict):
        return self.opener.open(self.base + path, urllib.parse.urlencode(data).encode(), timeout=30)

    def login(self, username: str) -> Browser:
        page = self.get("/login").read().decode()
        answer = self.post("/login", {"username": username, "password": "demo", "csrf_token": csrf_token(page)})
        assert not answer.geturl().endswith("/login"), "the login was refused"
        return self


def test_the_production_server_serves_a_logged_in_official_on_every_worker(server):
    browser = Browser(server).login("zhanggong_xian")
    for _ in range(12):  # two workers: a session signed by one is read by the other
        answer = browser.get("/inbox")
        assert answer.status == 200 and not answer.geturl().endswith("/login")
        assert answer.headers["Server"].startswith("gunicorn")


def test_the_ledger_downloads_with_its_chinese_file_name_and_opens(server):
    browser = Browser(server).login("zhanggong_xian")
    answer = browser.get("/ledger.csv")
    disposition = answer.headers["Content-Disposition"]
    assert answer.status == 200 and answer.headers["Content-Type"] == "text/csv; charset=utf-8"  # (once: it said charset twice)
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition
    name = urllib.parse.unquote(re.search(r"filename\*=UTF-8''([^;]+)", disposition).group(1))
    assert "章贡区" in name and name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(answer.read().decode("utf-8-sig"))))
    assert rows[0][:2] and len(rows) > 1  # the header and the demo's monitored households

    answer = browser.get("/ledger.xlsx")
    assert ".xlsx" in urllib.parse.unquote(answer.headers["Content-Disposition"])
    sheet = load_workbook(io.BytesIO(answer.read())).active
    assert "防止返贫监测对象台账" in sheet["A1"].value


def test_the_json_api_answers_and_refuses_without_a_login(server):
    with pytest.raises(HTTPError) as refused:
        urllib.request.urlopen(server + "/api/tasks", timeout=30)
    assert refused.value.code == 401
    spec = json.loads(urllib.request.urlopen(server + "/api/openapi.json", timeout=30).read())
    assert spec["openapi"].startswith("3.") and "/api/tasks" in spec["paths"]


SERVER_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00 \[\d+\] (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
                         r"[\w.]+: ")


def test_the_server_logs_one_format_in_china_time_without_what_was_searched(env, tmp_path):
    """gunicorn's lines, its access log, the scheduler's and the application's: one format, the moment in China
    Standard Time with its offset, the process; a request's query string (a searched name or ID number) is not
    logged, nor apscheduler's two lines on every sweep."""
    log = tmp_path / "server.log"
    port = _free_port()
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", "run", "--port",
                                    str(port)], cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT,
                                   env={**env, "FANGPIN_WORKERS": "1", "FANGPIN_SWEEP_SECONDS": "1",
                                        "FANGPIN_LEASE_SECONDS": "3"})
    try:
        _wait_in(log, process, r"Listening at: ", r"sweep: woke")
        id_number = with_check_character("36070219800101001")
        page = Browser(f"http://127.0.0.1:{port}").get(f"/login?next=/cases%3Fq%3D{id_number}")
        assert page.status == 200
        _wait_in(log, process, r'"GET /login HTTP/1.1" 200')  # after the first sweep, a job of apscheduler's
    finally:
        stop(process, timeout=START_TIMEOUT)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines and [line for line in lines if not SERVER_LINE.match(line)] == []
    assert any("gunicorn.access" in line and '"GET /login HTTP/1.1" 200' in line for line in lines)
    assert id_number not in log.read_text(encoding="utf-8")
    assert not [line for line in lines if "Running job" in line or "executed successfully" in line]


def _wait_in(log, process: subprocess.Popen, *patterns: str) -> None:
    """Wait until the log file holds every pattern (the server writes it as it goes)."""
    deadline = time.monotonic() + START_TIMEOUT
    while not all(re.search(p, log.read_text(encoding="utf-8", errors="replace")) for p in patterns):
        assert process.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() < deadline, f"not within {START_TIMEOUT} s: {patterns}\n{log.read_text()}"
        time.sleep(0.1)
