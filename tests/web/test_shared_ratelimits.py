"""Rate limits counted once for the whole web, however many processes serve it: the production server (gunicorn,
two worker processes, as `fangpin run` starts it) counting in a real Redis refuses a client after exactly the
limit of failed logins in total, whichever worker answered each; and counting in memory — each process on its
own — with several workers is warned about at start."""
from __future__ import annotations

import http.client
import logging
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from engine.app import create_engine_app
from engine.core.config import REPO_ROOT
from engine.core.db import db
from tests.conftest import make_app, prepare_database
from tests.processes import stop
from tests.redis_server import redis_url  # noqa: F401 — the fixture: a Redis server of its own
from tests.test_cli_security import START_TIMEOUT, _wait_for
from tests.web.test_production_server import _free_port
from tests.webclient import csrf_token
from web import create_app, ratelimits

LIMIT = 4  # failed logins per client address
WORKERS = 2


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _web_workers(server: int) -> list[int]:
    """The gunicorn workers of the ``fangpin run`` process ``server`` (its other child is the scheduler)."""
    workers = []
    for pid in _children(server):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"scheduler" not in command:
            workers.append(pid)
    return workers


@pytest.fixture
def shared(tmp_path, clock, redis_url):  # noqa: F811 — the fixture imported above
    """`fangpin run` as in production (not demo mode) with two workers counting in Redis, on a database with the
    demo logins: (its port, the workers' pids)."""
    url = f"sqlite:///{tmp_path / 'web.db'}"
    app = create_engine_app({"SQLALCHEMY_DATABASE_URI": url, "FANGPIN_CLOCK_OBJECT": clock})
    with app.app_context():
        prepare_database(clock)
        db.engine.dispose()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "FANGPIN_CLOCK": "system", "FANGPIN_INSTANCE": str(tmp_path),
           "SECRET_KEY": secrets.token_hex(32), "FANGPIN_WORKERS": str(WORKERS), "RATELIMIT_STORAGE_URI": redis_url,
           "FANGPIN_LOGIN_RATE_LIMIT": f"{LIMIT} per hour", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from engine.cli import main; main()", "run", "--port", str(port)], cwd=REPO_ROOT,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        started = _wait_for(process, rf"Listening at: http://127\.0\.0\.1:{port}", r"scheduler .* started")
        assert "RATELIMIT_STORAGE_URI is memory://" not in started
        deadline = time.monotonic() + START_TIMEOUT
        while len(workers := _web_workers(process.pid)) < WORKERS:
            assert time.monotonic() < deadline, f"{WORKERS} workers did not start: {workers}"
            time.sleep(0.1)
        serving: set[int | None] = set()  # a forked worker answers once it has built the app: until then the
        while serving != set(workers):  # other one takes every connection (GET /login counts no failed login)
            assert time.monotonic() < deadline, f"not every worker of {workers} answered: {serving}"
            serving.add(_answered_by(port, workers))
        yield port, workers
    finally:
        stop(process, timeout=START_TIMEOUT)


def _answering_worker(connection: http.client.HTTPConnection, port: int, workers: list[int]) -> int | None:
    """Which worker holds the server's end of ``connection`` (kept alive after its answer): the TCP socket from
    the connection's local port to ``port`` in /proc/net/tcp, found among the workers' open files."""
    client_port = connection.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        if (local, remote) == (port, client_port) and fields[3] == "01":  # ESTABLISHED
            inode = fields[9]
    for pid in workers:
        try:
            files = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        if f"socket:[{inode}]" in files:
            return pid
    return None


def _answered_by(port: int, workers: list[int]) -> int | None:
    """The worker that answered a GET of the login page on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/login")
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200, answer.status
        return _answering_worker(connection, port, workers)
    finally:
        connection.close()


def _login(port: int, workers: list[int], password: str, address: str = "127.0.0.1") -> tuple[int, int | None]:
    """A login from ``address`` on one new connection: (the answer's status, the worker that answered)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(address, 0))
    try:
        connection.request("GET", "/login")
        page = connection.getresponse()
        cookie = page.getheader("Set-Cookie", "").split(";")[0]
        body = urllib.parse.urlencode({"username": "shahe_cun", "password": password,
                                       "csrf_token": csrf_token(page.read().decode())})
        connection.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                    "Cookie": cookie})
        answer = connection.getresponse()
        answer.read()
        return answer.status, _answering_worker(connection, port, workers)
    finally:
        connection.close()


@pytest.mark.slow
def test_failed_logins_answered_by_different_workers_are_counted_together_in_redis(shared):
    port, workers = shared
    failures: dict[int | None, int] = {}
    for _ in range(LIMIT):
        status, worker = _login(port, workers, "wrong")
        assert status == 401
        failures[worker] = failures.get(worker, 0) + 1
    # Refused from now on, by every worker — also by one that saw fewer than LIMIT failures itself, which a
    # count of its own would still let through: asked until such a worker has answered.
    refused_by: set[int | None] = set()
    for _ in range(30):
        status, worker = _login(port, workers, "demo")  # the right password: refused all the same
        assert status == 429, f"answer {status} from worker {worker} after {failures} failed logins"
        refused_by.add(worker)
        if any(w in workers and failures.get(w, 0) < LIMIT for w in refused_by):
            break
    else:
        pytest.fail(f"one worker answered every request ({failures}, refused by {refused_by}): nothing shown")
    assert set(failures) | refused_by == set(workers)  # both workers answered, and each one was found
    assert _login(port, workers, "demo", address="127.0.0.2")[0] == 302  # another client address logs in


# -- counting in memory with several workers -----------------------------------------------------------------


@pytest.mark.parametrize(("workers", "storage", "mode", "warned"), [
    ("2", "memory://", "system", True),
    (None, "memory://", "system", True),  # FANGPIN_WORKERS unset: `fangpin run` starts 2
    ("1", "memory://", "system", False),
    ("2", "redis://127.0.0.1:6379/0", "system", False),  # shared (not connected to at start)
    ("2", "memory://", "demo", False),  # demo mode: one machine, nothing to guard
])
def test_counting_in_memory_with_several_workers_is_warned_at_start(db_path, clock, monkeypatch, caplog,
                                                                    workers, storage, mode, warned):
    if workers is None:
        monkeypatch.delenv("FANGPIN_WORKERS", raising=False)
    else:
        monkeypatch.setenv("FANGPIN_WORKERS", workers)
    ratelimits._warn_per_process.cache_clear()
    with caplog.at_level(logging.WARNING, logger="web.ratelimits"):
        make_app(db_path, clock, factory=create_app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                 FANGPIN_CLOCK=mode)
        make_app(db_path, clock, factory=create_app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                 FANGPIN_CLOCK=mode)  # each worker builds the application again: said once all the same
    said = [r.getMessage() for r in caplog.records if r.name == "web.ratelimits"]
    if warned:
        assert len(said) == 1 and re.search(r"memory://.*2 web worker processes.*up to 2 times.*redis://", said[0])
    else:
        assert said == []
    ratelimits._warn_per_process.cache_clear()
