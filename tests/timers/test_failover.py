"""Two servers against one PostgreSQL database, as on two machines: two `fangpin run` processes, each a web
worker and a timer scheduler of its own, with a short sweep and lease. Exactly one scheduler holds the lease and
fires the timers falling due; when it stalls (SIGSTOP) past its lease the other takes over, and the stalled one,
resumed, stands by instead of firing again; when the new leader's machine is gone (its server and scheduler
killed, no release) the first takes over once the lease has expired. Every timer fires once: one "timers_fired"
entry per case, with its one timer. A `fangpin run` whose scheduler alone dies starts it again. The time is the demo clock in the database, which every
process reads, moved forward by the test; the lease runs on real time."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import create_engine, select, text, update

from engine.app import CLOCK_KEY, DemoClock, create_engine_app
from engine.bootstrap import setup_database
from engine.cli import main
from engine.core.clock import FixedClock
from engine.core.config import REPO_ROOT, project_dir
from engine.core.db import db
from engine.core.models import AuditEvent, Case, CaseDeadline, SchedulerLease
from engine.core.transaction import transaction
from engine.demo import create_users, drive_case
from engine.policy.parameters import load_policy_file
from tests.factories import open_case
from tests.web.test_production_server import _free_port

SWEEP, LEASE = 1, 3  # seconds: FANGPIN_SWEEP_SECONDS, FANGPIN_LEASE_SECONDS
START_TIMEOUT = 120  # seconds for a server to start (a loaded machine imports slowly)
TIMEOUT = LEASE + 4 * SWEEP + 20  # seconds for a takeover or a sweep to be seen (generous for a loaded machine)
PER_GROUP = 2  # cases falling due at one moment
PUBLICITY_POSTED = "张贴村级公示"
SECRET = "f" * 64
START = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)
TICKED = re.compile(r"timers\.scheduler: sweep done")  # after each sweep (FANGPIN_LOG_LEVEL=DEBUG)
WOKE = re.compile(r"sweep: woke (\d+) cases")


class Server:
    """A `fangpin run` process and what it printed, read as it comes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from engine.cli import main; main()", "run", "--port", str(self.port)],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.owner = ""  # the lease owner name of its scheduler, "host:pid:random"

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
        self.lines.append("(ended)\n")

    def output(self) -> str:
        return "".join(self.lines)

    def count(self, pattern: re.Pattern) -> int:
        return sum(1 for line in list(self.lines) if pattern.search(line))

    def woken(self) -> int:
        return sum(int(m.group(1)) for line in list(self.lines) if (m := WOKE.search(line)))

    def tries(self, case_id: int) -> int:
        """How often its scheduler tried to wake the case that cannot be woken: once in each sweep that acts."""
        return self.count(re.compile(rf"case {case_id} could not be woken"))

    @property
    def scheduler_pid(self) -> int:
        return int(self.owner.rsplit(":", 2)[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.owner and _alive(self.scheduler_pid):  # its scheduler, were the server itself killed
            os.kill(self.scheduler_pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _until(what: str, condition: Callable[[], object], timeout: float, *servers: Server) -> object:
    """Poll ``condition`` until it holds (its value), or fail after ``timeout`` seconds showing the servers' output."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            shown = "\n".join(f"--- server on port {s.port} ---\n{s.output()[-6000:]}" for s in servers)
            pytest.fail(f"not within {timeout} s: {what}\n{shown}")
        time.sleep(0.1)
    return value


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    """A database of its own on the tests' PostgreSQL server (the other PostgreSQL tests drop their tables)."""
    name = "fangpin_failover"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def shared_app(database: str) -> Iterator[Flask]:
    """The application in the test process on that database, set up; the demo clock set before anything falls due."""
    app = create_engine_app({"SQLALCHEMY_DATABASE_URI": database, "FANGPIN_CLOCK_OBJECT": FixedClock(START)})
    with app.app_context():
        setup_database(app.extensions[CLOCK_KEY])
        DemoClock().set(START)
        db.session.commit()
        db.session.remove()
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def _open_groups(app: Flask) -> tuple[list[list[int]], list[datetime], int]:
    """Three groups of cases in their village publicity, each group ending a day after the one before, and a case
    that cannot be woken, due with the first group: the groups' case ids, the moments they fall due, that case."""
    with app.app_context():
        clock = app.extensions[CLOCK_KEY]
        with transaction():
            load_policy_file(project_dir("policy") / "demo_parameters.json")
            create_users()
        groups: list[list[int]] = []
        due: list[datetime] = []
        for day in range(3):
            clock.set(START + timedelta(days=day))
            groups.append([])
            for i in range(PER_GROUP):
                case = open_case(clock, head=f"户主{day}{i}")
                drive_case(case.id, clock, until=PUBLICITY_POSTED)
                groups[-1].append(case.id)
            moments = set(db.session.scalars(select(Case.next_wakeup_at).where(Case.id.in_(groups[-1]))))
            assert len(moments) == 1
            due += moments
        clock.set(START)
        stuck = open_case(clock, head="户主X")
        drive_case(stuck.id, clock, until=PUBLICITY_POSTED)
        db.session.execute(update(Case).where(Case.id == stuck.id).values(state=b"not a workflow"))
        db.session.commit()
        assert db.session.get(Case, stuck.id).next_wakeup_at == due[0]
        db.session.remove()
    assert due == sorted(set(due)) and due[0] > START  # three moments one after the other, none due yet
    return groups, due, stuck.id


def _fired(app: Flask) -> dict[int, list[list]]:
    """The timers fired per case: one list of timers per "timers_fired" entry."""
    with app.app_context():
        found: dict[int, list[list]] = {}
        for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "timers_fired")):
            found.setdefault(event.case_id, []).append(event.detail["timers"])
        return found


def _lease(app: Flask) -> SchedulerLease | None:
    with app.app_context():
        lease = db.session.get(SchedulerLease, "timers")
        if lease is not None:
            db.session.expunge(lease)
        return lease


def _set_clock(app: Flask, at: datetime) -> None:
    with app.app_context():
        DemoClock().set(at)
        db.session.commit()


def _answers(server: Server) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/login", timeout=30) as answer:
        return answer.status == 200


@pytest.mark.postgres
@pytest.mark.slow
def test_one_scheduler_fires_the_other_takes_over_and_no_timer_fires_twice(shared_app, database, tmp_path):
    app = shared_app
    env = {**os.environ, "DATABASE_URL": database, "FANGPIN_CLOCK": "demo", "FANGPIN_INSTANCE": str(tmp_path),
           "SECRET_KEY": SECRET, "FANGPIN_WORKERS": "1", "FANGPIN_SWEEP_SECONDS": str(SWEEP),
           "FANGPIN_LEASE_SECONDS": str(LEASE), "PYTHONUNBUFFERED": "1", "FANGPIN_LOG_LEVEL": "DEBUG"}
    servers = [Server(env), Server(env)]
    stopped: list[int] = []

    def until(what: str, condition: Callable[[], object]) -> object:
        return _until(what, condition, TIMEOUT, *servers)

    def sweeps(server: Server, n: int) -> None:
        """Wait for ``n`` more sweeps of the server's scheduler (so at least ``n - 1`` begun from now on)."""
        done = server.count(TICKED)
        until(f"{n} more sweeps on port {server.port}", lambda: server.count(TICKED) >= done + n)

    try:
        groups, due, stuck = _open_groups(app)  # while the servers start
        for server in servers:
            found = _until("both servers listening, their schedulers started", lambda s=server: (
                re.search(rf"Listening at: http://127\.0\.0\.1:{s.port}", s.output())
                and re.search(r"timer scheduler (\S+) started", s.output())), START_TIMEOUT, *servers)
            server.owner = re.search(r"timer scheduler (\S+) started", found.string).group(1)
        until("a scheduler holds the lease", lambda: _lease(app))
        lease = _lease(app)
        assert lease.owner in {s.owner for s in servers}
        leader, standby = sorted(servers, key=lambda s: s.owner != lease.owner)
        assert all(_answers(s) for s in servers)

        # 1. the lease holder fires what falls due, and tries the case that cannot be woken in every sweep; the
        # other sweeps as often but acts on nothing: it never even tries that case
        _set_clock(app, due[0] + timedelta(minutes=1))
        until("the first group fired", lambda: set(groups[0]) <= set(_fired(app)))
        until("the leader tried the stuck case twice", lambda: leader.tries(stuck) >= 2)
        sweeps(standby, 2)
        assert standby.tries(stuck) == 0
        assert (leader.woken(), standby.woken()) == (PER_GROUP, 0)
        assert _lease(app).owner == leader.owner

        # 2. the leader stalls past its lease (stopped right after a sweep, so holding no lock): the standby takes
        # over once the lease has expired, not before, and fires; resumed, the old leader stands by
        sweeps(leader, 1)
        os.kill(leader.scheduler_pid, signal.SIGSTOP)
        stopped.append(leader.scheduler_pid)
        held_until = _lease(app).expires_at
        _set_clock(app, due[1] + timedelta(minutes=1))
        until("the standby took the lease", lambda: _lease(app).owner == standby.owner)
        assert datetime.now(UTC) >= held_until
        until("the second group fired", lambda: set(groups[1]) <= set(_fired(app)))
        tried = leader.tries(stuck)
        os.kill(leader.scheduler_pid, signal.SIGCONT)
        stopped.remove(leader.scheduler_pid)
        sweeps(leader, 2)
        assert leader.tries(stuck) == tried and standby.tries(stuck) >= 1
        assert (leader.woken(), standby.woken()) == (PER_GROUP, PER_GROUP)
        assert _lease(app).owner == standby.owner

        # 3. the new leader's machine is gone (its server and its scheduler killed, the lease not released; a killed
        # scheduler alone its own `fangpin run` starts again: test_fangpin_run_starts_its_scheduler_again_when_it_dies)
        standby.process.kill()
        standby.process.wait()
        os.kill(standby.scheduler_pid, signal.SIGKILL)
        _set_clock(app, due[2] + timedelta(minutes=1))
        until("the first scheduler took the lease back", lambda: _lease(app).owner == leader.owner)
        until("the third group fired", lambda: set(groups[2]) <= set(_fired(app)))
        sweeps(leader, 2)
        assert leader.tries(stuck) > tried
        assert (leader.woken(), standby.woken()) == (2 * PER_GROUP, PER_GROUP)
        assert _answers(leader)  # its web server answers throughout

        fired = _fired(app)
        every = [case_id for group in groups for case_id in group]
        assert sorted(fired) == sorted(every)  # the stuck case never (it stays due)
        assert all(len(fired[c]) == 1 and len(fired[c][0]) == 1 for c in every), fired  # once each, its one timer
        with app.app_context():
            deadlines = db.session.execute(select(CaseDeadline.case_id, CaseDeadline.fired_at)
                                           .where(CaseDeadline.subject == "timer", CaseDeadline.case_id != stuck)).all()
        assert sorted(c for c, _ in deadlines) == sorted(every) and all(at for _, at in deadlines)
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        for server in servers:
            server.stop()


def test_a_lease_no_longer_than_the_sweep_is_refused():
    """Else the lease would lapse between two sweeps of a healthy leader, and the schedulers take turns."""
    for args, env in ((["--sweep-seconds", "5", "--lease-seconds", "5"], {}),
                      ([], {"FANGPIN_SWEEP_SECONDS": "30", "FANGPIN_LEASE_SECONDS": "20"})):
        result = CliRunner(env=env).invoke(main, ["scheduler", *args])
        assert result.exit_code == 2 and "--lease-seconds / FANGPIN_LEASE_SECONDS" in result.output, result.output
        assert "须长于扫描间隔" in result.output


@pytest.mark.postgres
@pytest.mark.slow
def test_fangpin_run_starts_its_scheduler_again_when_it_dies(shared_app, database, tmp_path):
    """kill -9 of the scheduler `fangpin run` started: the server says so in its log and starts another one, which
    takes the lease; before, the web server went on with no timer firing, and nothing said so."""
    env = {**os.environ, "DATABASE_URL": database, "FANGPIN_CLOCK": "demo", "FANGPIN_INSTANCE": str(tmp_path),
           "SECRET_KEY": SECRET, "FANGPIN_WORKERS": "1", "FANGPIN_SWEEP_SECONDS": str(SWEEP),
           "FANGPIN_LEASE_SECONDS": str(LEASE), "PYTHONUNBUFFERED": "1", "FANGPIN_LOG_LEVEL": "DEBUG"}
    server = Server(env)
    started = re.compile(r"timer scheduler (\S+) started")
    try:
        found = _until("the scheduler started", lambda: started.search(server.output()), START_TIMEOUT, server)
        server.owner = found.group(1)
        os.kill(server.scheduler_pid, signal.SIGKILL)
        _until("the server says its scheduler stopped and starts another",
               lambda: len(started.findall(server.output())) == 2, TIMEOUT, server)
        assert re.search(rf"the timer scheduler \(pid {server.scheduler_pid}\) stopped.*starting it again",
                         server.output())
        server.owner = started.findall(server.output())[1]
        assert _alive(server.scheduler_pid) and _answers(server)
    finally:
        server.stop()
