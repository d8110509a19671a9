"""A seed county's fresh install, driven over real HTTP (shared by tests/web/test_fresh_county.py and
tests/web/test_fresh_county_procedures.py): the county installs fangpin on an empty database (``fangpin init
--admin``, no demo data and no demo login), loads its province's monitoring line for this year, starts the production
server (``fangpin run``: gunicorn) on a file clock (``FANGPIN_CLOCK=file:PATH``) that the test moves, and fires due
timers with ``fangpin wake``. Its administrators log in with the one-time password the install printed and onboard
the officials in the browser; each official completes their own ready steps on the task pages, every inbox holding
exactly the ready steps of its official's role and place, and nobody else opening them."""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from engine.bpmn.forms import load_form
from engine.core.clock import FileClock
from engine.core.config import REPO_ROOT
from engine.core.id_numbers import with_check_character
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
WOKEN = re.compile(r"触发了 (\d+) 个")


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
    steps: tuple[tuple[str, str], ...]  # (role, step) in the order completed: the county's own identification

    @property
    def city(self) -> str:
        return self.code[:4]


COUNTIES = [
    County("章贡区", "360702", "36", 7800, "360702101201", "沙河村", (
        Official("village_cadre", "shahe_li", "李村干", "360702101201"),
        Official("township_officer", "shahe_wang", "王镇干", "360702101"),
        Official("county_officer", "zhanggong_zhao", "赵区干", "360702"),
    ), (  # 001 Q43: the comparison runs beside the village's steps (done here when it is the oldest ready step)
        ("village_cadre", "受理申请并签署承诺授权书"), ("township_officer", "入户核实"),
        ("village_cadre", "民主评议"), ("county_officer", "信息比对"), ("village_cadre", "张贴村级公示"),
        ("township_officer", "乡镇审核（入户抽查）"), ("county_officer", "县级审定"), ("village_cadre", "制定帮扶计划并在村内公示"),
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
    ), (  # 000 三(二): 评议, then the village committee verifies; the township's 入户核查 after the publicity
        ("village_cadre", "受理申请并签署承诺授权书"), ("village_cadre", "民主评议"),
        ("village_cadre", "入户核实"), ("village_cadre", "张贴村级公示"),
        ("township_officer", "乡镇审核（入户核查）"), ("county_officer", "信息比对"),
        ("county_officer", "县级审定"), ("village_cadre", "制定帮扶计划并在村内公示"),
        ("county_officer", "在县政府网站和村内公告"), ("township_officer", "录入全国防返贫监测信息系统"),
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

    def today(self) -> str:
        return to_local_date(self.clock.now()).isoformat()

    def first_administrator(self, username: str, name: str, place: str) -> str:
        """``fangpin init --admin USERNAME …``: the administrator of ``place``, created on the command line as a
        fresh install creates its first one; returns the one-time password it printed."""
        done = self.fangpin("init", "--admin", username, "--admin-name", name, "--admin-jurisdiction", place)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "已创建第一位系统管理员" in done.stderr and username in done.stderr, done.stderr
        password = done.stdout.strip().splitlines()[-1]  # engine/cli.py _print_issued: the password alone, last
        assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", password), done.stdout
        assert password not in done.stderr
        return password


def new_install(tmp: Path) -> Install:
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


def load_line(install: Install, province: str, amount: int) -> None:
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
    install = new_install(tmp_path)
    password = install.first_administrator("county_it", f"{county.name}信息中心", county.code)
    load_line(install, county.province, county.line)
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


def page_of(answer: Any) -> Page:
    return Page(answer.geturl(), answer.status, answer.read().decode(), answer.headers)


def get(browser: HttpBrowser, path: str) -> Page:
    return page_of(browser.get(path))


def post(browser: HttpBrowser, path: str, fields: list[tuple[str, str]], page: str | None = None) -> Page:
    return page_of(browser.post(path, fields, page))


def api(browser: HttpBrowser, path: str) -> Any:
    answer = get(browser, "/api" + path)
    assert answer.status == 200, answer.text
    return json.loads(answer.text)


def ok(answer: Page, url_end: str) -> str:
    """The page a form led to, which must be ``url_end`` (else the page's error is the message)."""
    error = FLASH_ERROR.search(answer.text)
    assert answer.url.split("?")[0].endswith(url_end), (answer.status, answer.url,
                                                        error.group(1) if error else answer.text[:2000])
    return answer.text


def first_login(base: str, username: str, one_time: str, own: str) -> HttpBrowser:
    """Log in with the one-time password, be sent to /password, choose one's own; the inbox opens."""
    browser = HttpBrowser(base)
    assert "/password" in page_of(browser.login(username, one_time)).url
    assert "/password" in get(browser, "/cases").url  # nothing else opens before
    ok(post(browser, "/password", [("current", one_time), ("new", own), ("again", own)]), "/inbox")
    return browser


def onboard(base: str, admin: HttpBrowser, official: Official) -> HttpBrowser:
    """The administrator creates ``official`` on 用户管理 (the one-time password shown once, never cached); the
    official logs in with it and chooses their own password. Their browser, logged in."""
    answer = post(admin, "/admin/users/new", [("username", official.username), ("display_name", official.name),
                                             ("jurisdiction", official.place), ("roles", official.role)])
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store", answer.text[:2000]
    issued = ONE_TIME.search(answer.text)
    assert issued, answer.text[:2000]
    browser = first_login(base, official.username, issued.group(1), f"{official.username}-pw-2026")
    assert official.name in get(browser, "/inbox").text
    return browser


def posted(form: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """``values`` as the form's inputs, checked to parse back to them as the web's own parser reads them (which
    also gives each unticked box as false)."""
    fields = fields_of(load_form(form))
    inputs = inputs_for(fields, values)
    assert _holds(parse(fields, MultiDict(inputs)), values), (form, inputs)
    return inputs


def _holds(parsed: Any, values: Any) -> bool:
    """Does ``parsed`` hold every value of ``values`` (dictionaries and lists item by item)?"""
    if isinstance(values, dict):
        return isinstance(parsed, dict) and all(_holds(parsed.get(k), v) for k, v in values.items())
    if isinstance(values, list) and values and isinstance(values[0], dict):
        return isinstance(parsed, list) and len(parsed) == len(values) and all(map(_holds, parsed, values))
    return parsed == values


def id_number(region: str, birthday: str, serial: int) -> str:
    """A valid resident ID number (GB 11643, with its check character)."""
    return with_check_character(f"{region}{birthday}{serial:03d}")


def member(name: str, sex: str, relation: str, number: str) -> dict[str, Any]:
    return {"name": name, "sex": sex, "id_number": number, "relation_to_head": relation, "medical_insurance": True,
            "lives_with_household": True}


def register(cadre: HttpBrowser, county: County, address: str, members: list[dict[str, Any]]) -> str:
    """The village cadre registers a household on 农户登记 (and is sent on to 立案): its number."""
    household = {"village": county.village, "group_name": "一组", "address": f"{county.village_name}{address}",
                 "contact_phone": "13800000000", "members": members}
    opening = ok(post(cadre, "/households/new", posted("register_household.json", household)), "/cases/new")
    number = re.search(r"已登记农户 (\d+)，请立案", opening)
    assert number and f'<option value="{number.group(1)}">' in opening, opening[:3000]
    return number.group(1)


# -- doing the steps -------------------------------------------------------------------------------------------


@dataclass
class Desk:
    """The county's officials at work: each one's browser by role (one official per role, each in the place of
    that role's steps), the administrators (who do no step), the viewer reading cases through the API, and the
    households whose cases are followed. What each inbox must hold is read from the install's database: every ready
    step of the role and place of its official (the followed cases' and any other's, such as the department
    warnings' scheduled cases)."""

    install: Install
    officials: dict[str, HttpBrowser]
    bystanders: list[HttpBrowser]
    households: list[int] = field(default_factory=list)

    @property
    def viewer(self) -> HttpBrowser:
        return self.officials["county_officer"]

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of the install's database, read as the server writes it (SQLite lets a reader in beside)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.install.db_path}?mode=ro", uri=True)) as connection:
            return connection.execute(sql).fetchall()

    def places(self) -> dict[str, str]:
        """The place (jurisdiction path) of the one active official holding each role of ``officials``."""
        holders: dict[str, list[str]] = {}
        for roles, path in self._rows('SELECT u.roles, j.path FROM "user" u JOIN jurisdiction j '
                                      "ON j.id = u.jurisdiction_id WHERE u.active"):
            for role in json.loads(roles):
                holders.setdefault(role, []).append(path)
        assert all(len(holders.get(role, [])) == 1 for role in self.officials), holders
        return {role: holders[role][0] for role in self.officials}

    def running_cases(self) -> dict[int, dict[str, Any]]:
        """Every running case of the followed households, as the API details it."""
        ids = [c["id"] for h in self.households for c in api(self.viewer, f"/households/{h}")["cases"]
               if c["status"] == "running"]
        return {i: api(self.viewer, f"/cases/{i}") for i in ids}

    def check_inboxes(self, running: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
        """Each ready step of the followed cases belongs to an official of its role whose place holds it; each
        official's inbox holds exactly the ready steps of their role in their place and below, a bystander's none.
        Returns the followed cases' ready steps."""
        places = self.places()
        ready = [t for detail in running.values() for t in detail["tasks"] if t["state"] == "READY"]
        assert all(t["role"] in self.officials for t in ready), ready
        everyone = self._rows("SELECT id, role, jurisdiction_path FROM human_task WHERE state = 'READY'")
        paths = {i: path for i, _, path in everyone}
        assert all(paths[t["id"]].startswith(places[t["role"]]) for t in ready), (ready, places)
        for role, browser in self.officials.items():
            ids = {int(i) for i in INBOX_TASK.findall(get(browser, "/inbox").text)}
            expected = {i for i, r, path in everyone if r == role and path.startswith(places[role])}
            assert ids == expected, (role, ids, expected, ready)  # theirs, all of theirs
        assert not any(INBOX_TASK.search(get(b, "/inbox").text) for b in self.bystanders)
        return ready

    def wake(self, running: dict[int, dict[str, Any]], due: datetime) -> None:
        """Move the clock to ``due`` (never back) and fire the timers that fell due: one wake-up for each running
        case (of the followed households or any other) waiting for a moment now past."""
        self.install.clock.set(max(self.install.clock.now(), due))
        now = self.install.clock.now()
        waiting = self._rows("""SELECT next_wakeup_at FROM "case"
                                WHERE status = 'running' AND next_wakeup_at IS NOT NULL""")
        expected = sum(1 for (moment,) in waiting if datetime.fromisoformat(moment).replace(tzinfo=UTC) <= now)
        assert any(datetime.fromisoformat(w["due_at"]) <= now for d in running.values() for w in d["waiting_until"])
        woken = self.install.fangpin("wake")
        assert woken.returncode == 0, woken.stdout + woken.stderr
        count = WOKEN.search(woken.stdout)
        assert count and int(count.group(1)) == expected >= 1, (woken.stdout, woken.stderr, expected)

    def complete(self, task: dict[str, Any], data: dict[str, Any] | None = None) -> None:
        """The official of the task's role completes it on its page (sample data, ``data`` overriding); nobody
        else may open it."""
        for other in [b for role, b in self.officials.items() if role != task["role"]] + self.bystanders:
            assert get(other, f"/tasks/{task['id']}").status == 403  # not theirs to open
        browser = self.officials[task["role"]]
        page = get(browser, f"/tasks/{task['id']}")
        assert page.status == 200, page.text[:2000]
        seen = SEEN.search(page.text)
        assert seen, page.text[:2000]
        values = {**sample_data(task["form"], self.install), **(data or {})}
        ok(post(browser, f"/tasks/{task['id']}", [*posted(task["form"], values), ("seen_version", seen.group(1))]),
           "/inbox")

    def drive(self, case_id: int, data: dict[str, dict[str, Any]] | None = None,
              until: Callable[[dict[str, Any]], bool] | None = None) -> tuple[list[tuple[str, str]], int]:
        """Complete the case's ready steps, each by the official of its role (``data``: values by form), moving
        the clock and firing timers when it waits, until it ends (or ``until(detail)`` holds, checked before each
        step); every inbox is checked before each step. Returns the steps completed as (role, step), and how many
        times the clock was moved to fire a timer."""
        done: list[tuple[str, str]] = []
        wakes = 0
        for _ in range(MAX_STEPS):
            running = self.running_cases()
            self.check_inboxes(running)
            if case_id not in running:
                return done, wakes
            detail = running[case_id]
            if until is not None and until(detail):
                return done, wakes
            ready = [t for t in detail["tasks"] if t["state"] == "READY"]
            if not ready:
                assert detail["waiting_until"], f"the case waits for nothing and has no ready step: {detail}"
                self.wake(running, min(datetime.fromisoformat(w["due_at"]) for w in detail["waiting_until"]))
                wakes += 1
                continue
            self.complete(ready[0], (data or {}).get(ready[0]["form"]))
            done.append((ready[0]["role"], ready[0]["name"]))
        raise AssertionError(f"case {case_id} did not finish in {MAX_STEPS} steps: {done}")


def sample_data(form: str, install: Install) -> dict[str, Any]:
    """Plausible data for ``form`` today (engine.demo's samples; a member change has none: its test gives it)."""
    return {} if form == "member_change.json" else sample_form_data(form, to_local_date(install.clock.now()))


# -- the county's own officials, and an identification -----------------------------------------------------------


def onboard_county(base: str, county: County, one_time: str) -> tuple[HttpBrowser, dict[str, HttpBrowser]]:
    """The county's administrator logs in with the install's one-time password and chooses their own, sees only
    the places of their own county, and onboards the county's officials (a village cadre, a township officer and
    a county officer), each choosing their own password: the administrator's browser and the officials' by role."""
    for demo in ("shahe_cun", "zhuyouguan_cun", "zhanggong_admin"):  # no demo login on a fresh install
        assert HttpBrowser(base).login(demo, "demo").status == 401
    assert HttpBrowser(base).login("county_it", "demo").status == 401
    admin = first_login(base, "county_it", one_time, "county-it-2026")
    form = get(admin, "/admin/users/new").text
    assert all(f'value="{o.place}"' in form for o in county.officials)
    others = [c for c in COUNTIES if c is not county]
    assert not any(f'value="{c.code}"' in form or f'value="{c.village}"' in form for c in others)  # its own only
    assert f'value="{county.city}"' not in form and f'value="{county.province}"' not in form  # nothing above it
    officials = {o.role: onboard(base, admin, o) for o in county.officials}
    listing = get(admin, "/admin/users").text
    assert all(o.username in listing for o in county.officials)
    return admin, officials


def open_identification(cadre: HttpBrowser, install: Install, number: str) -> int:
    """The village cadre opens the household's identification (立案, 基层干部排查 today): the case's id."""
    opened = post(cadre, "/cases/new", [("household", number), ("channel", "cadre_screening"),
                                        ("lead_date", install.today()), ("channel_detail", "入户排查发现")],
                  page=f"/cases/new?household={number}")
    case = re.search(r"/cases/(\d+)$", opened.url)
    assert case and "已立案" in opened.text, (opened.url, opened.text[:2000])
    return int(case.group(1))


def household_id(browser: HttpBrowser, case_id: int) -> int:
    return api(browser, f"/cases/{case_id}")["case"]["household"]["id"]
