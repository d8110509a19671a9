"""Issue #15's "Done means", walked through over real HTTP for each seed county: a county installs fangpin on an empty
database (``fangpin init --admin``, no demo data and no demo login), starts the production server (``fangpin run``:
gunicorn), its administrator logs in with the one-time password printed by the install and chooses their own,
onboards the officials its identification procedure needs (a village cadre, a township officer, a county officer),
each of whom sets their own password; the village cadre registers a household and opens its identification, and
each official completes their own ready steps on the task pages — the test moving the server's clock (a file) past
the publicity and firing due timers with ``fangpin wake`` — until the household is monitored. At every step each
ready step is in the inbox of the one official of its role and nobody else's, and another official cannot open it.

The monitoring line (监测范围): the policy shipped with fangpin has lines for the seed documents' years only (2021,
Jiangxi 2023), so a county installing it today loads its province's published line for this year
(``fangpin policy load``) after ``fangpin policy check`` named it missing (the test at the end)."""
from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from engine.bpmn.forms import load_form
from engine.core.clock import FileClock
from engine.core.config import REPO_ROOT
from engine.demo import sample_form_data
from tests.browser.conftest import LOOSE_LIMITS, THREADS, WORKERS, _base_url, _stop
from tests.webclient import HttpBrowser
from timers.calendar import CHINA_TZ, to_local_date
from web.formrender import fields_of, inputs_for, parse

START = datetime(2026, 9, 20, 9, 0, tzinfo=CHINA_TZ)  # the suite's day (tests/conftest.py): a county installing now
COMMAND_SECONDS = 120  # an init or a wake, on a busy machine
MAX_STEPS = 40
SEEN = re.compile(r'name="seen_version" value="([^"]*)"')
ONE_TIME = re.compile(r'<code id="one-time-password">([^<]+)</code>')
INBOX_TASK = re.compile(r'href="/tasks/(\d+)"')
FLASH_ERROR = re.compile(r'class="flash error"[^>]*>([^<]{0,300})')


@dataclass(frozen=True)
class Official:
    role: str
    username: str
    name: str
    place: str  # jurisdiction code


@dataclass(frozen=True)
class County:
    name: str
    code: str
    province: str
    line: int  # the province's monitoring line for START's year, yuan per person and year (as demo_parameters)
    village: str
    village_name: str
    officials: tuple[Official, ...]
    steps: tuple[tuple[str, str], ...]  # (role, step) in the order completed: the county's own procedure


COUNTIES = [
    County("章贡区", "360702", "36", 7800, "360702101201", "沙河村", (
        Official("village_cadre", "shahe_li", "李村干", "360702101201"),
        Official("township_officer", "shahe_wang", "王镇干", "360702101"),
        Official("county_officer", "zhanggong_zhao", "赵区干", "360702"),
    ), (
        ("village_cadre", "受理申请并签署承诺授权书"), ("township_officer", "入户核实"),
        ("village_cadre", "民主评议"), ("village_cadre", "张贴村级公示"),
        ("township_officer", "乡镇审核（入户抽查）"), ("county_officer", "信息比对"),
        ("county_officer", "县级审定"), ("village_cadre", "制定帮扶计划并在村内公示"),
        ("county_officer", "在县政府网站和村内公告"), ("county_officer", "录入全国防返贫监测信息系统"),
    )),
    County("龙口市", "370681", "37", 7500, "370681104201", "诸由观村", (
        Official("village_cadre", "zhuyouguan_sun", "孙村干", "370681104201"),
        Official("township_officer", "zhuyouguan_zhou", "周镇干", "370681104"),
        Official("county_officer", "longkou_wu", "吴市干", "370681"),
    ), (  # 003: 核实—评议—比对—公示—录入, no county approval
        ("village_cadre", "受理申请并签署承诺授权书"), ("township_officer", "入户调查核实（5个工作日内）"),
        ("village_cadre", "民主评议并签订授权承诺书"), ("county_officer", "市扶贫办信息比对"),
        ("village_cadre", "张贴村级公示"), ("county_officer", "市扶贫办录入系统"),
        ("village_cadre", "制定帮扶措施"),
    )),
    County("台安县", "210321", "21", 7500, "210321100201", "新华村", (
        Official("village_cadre", "xinhua_zheng", "郑村干", "210321100201"),
        Official("township_officer", "taian_zhen_feng", "冯镇干", "210321100"),
        Official("county_officer", "taian_chen", "陈县干", "210321"),
    ), (
        ("village_cadre", "受理申请并签署承诺授权书"), ("township_officer", "入户核实"),
        ("village_cadre", "民主评议"), ("village_cadre", "张贴村级公示"),
        ("township_officer", "乡镇审核（入户抽查）"), ("county_officer", "信息比对"),
        ("county_officer", "县级审定"), ("village_cadre", "制定帮扶计划并在村内公示"),
        ("county_officer", "在县政府网站和村内公告"), ("county_officer", "录入全国防返贫监测信息系统"),
    )),
]


# -- the install ---------------------------------------------------------------------------------------------


@dataclass
class Install:
    """A county's fresh install: its database, clock file, policy folder and environment."""

    tmp: Path
    env: dict[str, str]
    clock: FileClock
    db_path: Path

    def fangpin(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``fangpin ARGS`` as the county's IT officer runs it, on the same database and clock as the server."""
        return subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *args], check=False,
                              cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=COMMAND_SECONDS)


def _install(tmp: Path) -> Install:
    """An empty database and the environment of every command and the server (the policy as shipped)."""
    clock = FileClock(tmp / "clock")
    clock.set(START.astimezone(UTC))
    db_path = tmp / "fangpin.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "FANGPIN_INSTANCE": str(tmp / "instance"),
           "FANGPIN_CLOCK": f"file:{clock.path}", "SECRET_KEY": secrets.token_hex(32),
           "FANGPIN_LOGIN_RATE_LIMIT": LOOSE_LIMITS, "FANGPIN_APPLY_RATE_LIMIT": LOOSE_LIMITS,
           "FANGPIN_WORKERS": WORKERS, "FANGPIN_THREADS": THREADS, "PYTHONUNBUFFERED": "1"}
    for name in ("FANGPIN_USER", "FANGPIN_POLICY_DIR", "FANGPIN_PROCESSES_DIR", "FANGPIN_FORMS_DIR"):
        env.pop(name, None)
    return Install(tmp, env, clock, db_path)


def _load_line(install: Install, province: str, amount: int) -> None:
    """The province's monitoring line for START's year, loaded as a county loads what its province published."""
    file = install.tmp / "line.json"
    file.write_text(json.dumps({"monitoring_lines": [{"province": province, "year": START.year, "amount": amount,
                                                      "source": "本省公布的当年监测范围（测试数据）"}]},
                               ensure_ascii=False), encoding="utf-8")
    done = install.fangpin("policy", "load", str(file))
    assert done.returncode == 0 and "添加 1 项" in done.stdout, done.stdout + done.stderr


@pytest.fixture(params=COUNTIES, ids=[c.code for c in COUNTIES])
def county(request) -> County:
    return request.param


@pytest.fixture
def installed(county: County, tmp_path: Path) -> tuple[Install, str]:
    """``fangpin init --admin county_it …`` on an empty database: the install and the printed one-time password."""
    install = _install(tmp_path)
    done = install.fangpin("init", "--admin", "county_it", "--admin-name", f"{county.name}信息中心",
                           "--admin-jurisdiction", county.code)
    assert done.returncode == 0, done.stderr
    _load_line(install, county.province, county.line)
    assert "已创建第一位系统管理员" in done.stderr and "county_it" in done.stderr
    password = done.stdout.strip().splitlines()[-1]  # engine/cli.py _print_issued: the password alone, last
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", password), done.stdout
    assert password not in done.stderr
    return install, password


@pytest.fixture
def server(installed: tuple[Install, str]) -> Iterator[str]:
    """``fangpin run --no-scheduler --port 0`` on the install (as tests/browser/conftest.py starts it); timers are
    fired with ``fangpin wake``. Its output is printed as the fixture ends (pytest shows it when the test failed)."""
    install, _ = installed
    log = install.tmp / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", "run", "--port", "0",
                                    "--no-scheduler"], cwd=REPO_ROOT, env=install.env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield _base_url(process, log)
    finally:
        _stop(process)
        print(f"--- the server's output ({log}) ---\n{log.read_text(errors='replace')}")


# -- a browser over HTTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """An answer, read: the final URL (redirects followed), the status, the text and the headers."""

    url: str
    status: int
    text: str
    headers: Any


def _page(answer: Any) -> Page:
    return Page(answer.geturl(), answer.status, answer.read().decode(), answer.headers)


def _get(browser: HttpBrowser, path: str) -> Page:
    return _page(browser.get(path))


def _post(browser: HttpBrowser, path: str, fields: list[tuple[str, str]], page: str | None = None) -> Page:
    return _page(browser.post(path, fields, page))


def _api(browser: HttpBrowser, path: str) -> Any:
    answer = _get(browser, "/api" + path)
    assert answer.status == 200, answer.text
    return json.loads(answer.text)


def _ok(answer: Page, url_end: str) -> str:
    """The page a form led to, which must be ``url_end`` (else the page's error is the message)."""
    error = FLASH_ERROR.search(answer.text)
    assert answer.url.split("?")[0].endswith(url_end), (answer.status, answer.url,
                                                        error.group(1) if error else answer.text[:2000])
    return answer.text


def _first_login(base: str, username: str, one_time: str, own: str) -> HttpBrowser:
    """Log in with the one-time password, be sent to /password, choose one's own; the inbox opens."""
    browser = HttpBrowser(base)
    assert "/password" in _page(browser.login(username, one_time)).url
    assert "/password" in _get(browser, "/cases").url  # nothing else opens before
    _ok(_post(browser, "/password", [("current", one_time), ("new", own), ("again", own)]), "/inbox")
    return browser


def _posted(form: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """``values`` as the form's inputs, checked to parse back to them as the web's own parser reads them (which
    also gives each unticked box as false)."""
    fields = fields_of(load_form(form))
    posted = inputs_for(fields, values)
    assert _holds(parse(fields, MultiDict(posted)), values), (form, posted)
    return posted


def _holds(parsed: Any, values: Any) -> bool:
    """Does ``parsed`` hold every value of ``values`` (dictionaries and lists item by item)?"""
    if isinstance(values, dict):
        return isinstance(parsed, dict) and all(_holds(parsed.get(k), v) for k, v in values.items())
    if isinstance(values, list) and values and isinstance(values[0], dict):
        return isinstance(parsed, list) and len(parsed) == len(values) and all(map(_holds, parsed, values))
    return parsed == values


def _id_number(region: str, birthday: str, serial: int) -> str:
    """A well-formed 18-digit resident ID number (GB 11643: ISO 7064 MOD 11-2 check character)."""
    body = f"{region}{birthday}{serial:03d}"
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body))
    return body + "10X98765432"[total % 11]


# -- the walkthrough --------------------------------------------------------------------------------------------


def test_a_fresh_county_onboards_its_officials_who_identify_a_household(county, installed, server):
    install, one_time = installed
    for demo in ("shahe_cun", "zhuyouguan_cun", "zhanggong_admin"):  # no demo login on a fresh install
        assert HttpBrowser(server).login(demo, "demo").status == 401
    assert HttpBrowser(server).login("county_it", "demo").status == 401

    # 1. the administrator: the printed one-time password, then their own
    admin = _first_login(server, "county_it", one_time, "county-it-2026")
    form = _get(admin, "/admin/users/new").text
    assert all(f'value="{o.place}"' in form for o in county.officials)
    others = [c for c in COUNTIES if c is not county]
    assert not any(f'value="{c.code}"' in form or f'value="{c.village}"' in form for c in others)  # its own only

    # 2. the officials the procedure needs, each setting their own password
    officials: dict[str, HttpBrowser] = {}
    for o in county.officials:
        answer = _post(admin, "/admin/users/new", [("username", o.username), ("display_name", o.name),
                                                 ("jurisdiction", o.place), ("roles", o.role)])
        assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store", answer.text[:2000]
        issued = ONE_TIME.search(answer.text)
        assert issued, answer.text[:2000]
        officials[o.role] = _first_login(server, o.username, issued.group(1), f"{o.username}-pw-2026")
        assert o.name in _get(officials[o.role], "/inbox").text
    assert set(officials) == {o.role for o in county.officials}
    listing = _get(admin, "/admin/users").text
    assert all(o.username in listing for o in county.officials)

    # 3. the village cadre registers a household and opens its identification
    cadre = officials["village_cadre"]
    region = county.village[:6]
    household = {"village": county.village, "group_name": "一组", "address": f"{county.village_name}一组8号",
                 "contact_phone": "13800000000", "members": [
                     {"name": "户主甲", "sex": "男", "id_number": _id_number(region, "19750301", 11),
                      "relation_to_head": "户主", "medical_insurance": True, "lives_with_household": True},
                     {"name": "配偶乙", "sex": "女", "id_number": _id_number(region, "19780612", 22),
                      "relation_to_head": "配偶", "medical_insurance": True, "lives_with_household": True},
                     {"name": "子丙", "sex": "男", "id_number": _id_number(region, "20080915", 31),
                      "relation_to_head": "子", "medical_insurance": True, "lives_with_household": True}]}
    registered = _post(cadre, "/households/new", _posted("register_household.json", household))
    opening = _ok(registered, "/cases/new")
    number = re.search(r"已登记农户 (\d+)，请立案", opening)
    assert number and f'<option value="{number.group(1)}">' in opening, opening[:3000]
    today = to_local_date(install.clock.now())
    opened = _post(cadre, "/cases/new", [("household", number.group(1)), ("channel", "cadre_screening"),
                                       ("lead_date", today.isoformat()), ("channel_detail", "入户排查发现")],
                        page=f"/cases/new?household={number.group(1)}")
    opened_case = re.search(r"/cases/(\d+)$", opened.url)
    assert opened_case and "已立案" in opened.text, (opened.url, opened.text[:2000])
    case_id = int(opened_case.group(1))

    # 4. each official completes their own ready steps; the clock moves past each waiting period
    done, wakes = _drive(install, officials, [admin], case_id)
    assert done == list(county.steps)
    assert wakes == 1  # the village publicity (村级公示) ended when its days were over

    detail = _api(cadre, f"/cases/{case_id}")
    assert detail["case"]["status"] == "completed" and detail["case"]["outcome"] == "identified", detail["case"]
    by_role = {o.role: o.username for o in county.officials}
    assert all(t["completed_by"] == by_role[t["role"]] for t in detail["tasks"] if t["state"] == "COMPLETED")
    monitored = _api(cadre, f"/households/{detail['case']['household']['id']}")
    assert monitored["status"] == "monitored" and monitored["category"], monitored
    assert monitored["identified_on"]
    page = _get(cadre, f"/cases/{case_id}").text
    assert "已办结" in page and "纳入监测" in page


def _drive(install: Install, officials: dict[str, HttpBrowser], bystanders: list[HttpBrowser],
           case_id: int) -> tuple[list[tuple[str, str]], int]:
    """Complete the case's ready steps through the task pages, each by the official of its role, firing timers
    with ``fangpin wake`` after moving the clock when nothing is ready; every inbox holds exactly that official's
    ready steps, and a bystander's (the administrator's) none. Returns the steps completed as (role, step), and
    how many times a timer was fired."""
    viewer = officials["county_officer"]
    done: list[tuple[str, str]] = []
    wakes = 0
    for _ in range(MAX_STEPS):
        detail = _api(viewer, f"/cases/{case_id}")
        if detail["case"]["status"] != "running":
            return done, wakes
        ready = [t for t in detail["tasks"] if t["state"] == "READY"]
        inboxes = {role: {int(i) for i in INBOX_TASK.findall(_get(b, "/inbox").text)} for role, b in officials.items()}
        for role, ids in inboxes.items():
            assert ids == {t["id"] for t in ready if t["role"] == role}, (role, ids, ready)  # theirs, all of theirs
        assert all(t["role"] in officials for t in ready), ready
        assert not any(INBOX_TASK.search(_get(b, "/inbox").text) for b in bystanders)
        if not ready:
            assert detail["waiting_until"], f"the case waits for nothing and has no ready step: {detail}"
            due = min(datetime.fromisoformat(w["due_at"]) for w in detail["waiting_until"])
            install.clock.set(max(install.clock.now(), due))
            woken = install.fangpin("wake")
            assert woken.returncode == 0 and "触发了 1 个" in woken.stdout, (woken.stdout, woken.stderr)
            wakes += 1
            continue
        task = ready[0]
        for other in [b for role, b in officials.items() if role != task["role"]] + bystanders:
            assert _get(other, f"/tasks/{task['id']}").status == 403  # not theirs to open
        browser = officials[task["role"]]
        page = _get(browser, f"/tasks/{task['id']}")
        assert page.status == 200, page.text[:2000]
        seen = SEEN.search(page.text)
        assert seen, page.text[:2000]
        values = sample_form_data(task["form"], to_local_date(install.clock.now()))
        answer = _post(browser, f"/tasks/{task['id']}", [*_posted(task["form"], values),
                                                          ("seen_version", seen.group(1))])
        _ok(answer, "/inbox")
        done.append((task["role"], task["name"]))
    raise AssertionError(f"case {case_id} did not finish in {MAX_STEPS} steps: {done}")


# -- the policy as shipped -------------------------------------------------------------------------------------


def test_the_configuration_check_of_a_fresh_install_names_a_missing_monitoring_line(tmp_path):
    install = _install(tmp_path)
    done = install.fangpin("init", "--admin", "county_it", "--admin-jurisdiction", "360702")
    assert done.returncode == 0, done.stderr
    check = install.fangpin("policy", "check", "--jurisdiction", "360702")
    assert check.returncode == 1
    assert f"江西省 没有 {START.year} 年的监测范围" in check.stdout and "识别纳入" in check.stdout
    _load_line(install, "36", 7800)
    check = install.fangpin("policy", "check", "--jurisdiction", "360702")
    assert check.returncode == 0 and "各地各程序均已配置" in check.stdout, check.stdout + check.stderr
    with sqlite3.connect(install.db_path) as connection:
        (detail,) = connection.execute("SELECT detail FROM audit_event WHERE action = 'policy_loaded'").fetchone()
    assert json.loads(detail)["added"] == 1
