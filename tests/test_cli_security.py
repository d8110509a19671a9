"""The security review's findings on the ``fangpin`` command: ``run`` refuses to start without a real session
key, stopping ``run`` or ``scheduler`` releases the scheduler lease, and deploying or binding a diagram needs
a policy editor, as on the web's /diagrams."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.app import create_engine_app
from engine.cli import main
from engine.core.config import REPO_ROOT
from engine.core.db import db
from engine.core.models import ProcessVersion, SchedulerLease
from tests.diagram_variants import ZHANGGONG_2021, without_town_publicity

pytestmark = pytest.mark.slow  # started first (tests/conftest.py)

RELEASED_BEFORE = datetime(2001, 1, 1, tzinfo=UTC)  # release_lease sets the lease to expire in the year 2000
START_TIMEOUT = 120  # seconds for a subprocess to import, start and sweep once (a hung process fails the test)


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> dict[str, str]:
    """A database of its own (initialised with the demo data), in the environment of this process and its children."""
    values = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "FANGPIN_CLOCK": "demo",
              "FANGPIN_INSTANCE": str(tmp_path)}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FANGPIN_USER", raising=False)
    _run("init", "--demo")
    _run("clock", "advance", "--to", "2026-09-20T09:00")  # the demo clock: the time every process of the test uses
    return {**os.environ, **values, "PYTHONUNBUFFERED": "1"}


def _run(*args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def _fangpin(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", *args], cwd=REPO_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(process: subprocess.Popen, *patterns: str) -> str:
    """Read the process's output until every pattern has matched a line (or fail after START_TIMEOUT)."""
    pattern = " and ".join(patterns)
    waiting = list(patterns)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen = []
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no line matching {pattern!r} within {START_TIMEOUT} s:\n{''.join(seen)}")
        if line is None:
            pytest.fail(f"the process ended without {pattern!r}:\n{''.join(seen)}")
        seen.append(line)
        waiting = [p for p in waiting if not re.search(p, line)]
        if not waiting:
            return "".join(seen)


def _lease() -> SchedulerLease | None:
    app = create_engine_app()
    with app.app_context():
        lease = db.session.get(SchedulerLease, "timers")
        if lease is not None:
            db.session.expunge(lease)
        return lease


# -- 1. no session key, no server ---------------------------------------------------------------------------


def test_run_refuses_to_start_without_a_real_secret_key(env):
    for key in (None, "dev-only-change-me", "kurz"):
        child = {**env, "FANGPIN_CLOCK": "system"}
        if key:
            child["SECRET_KEY"] = key
        try:
            result = subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", "run", "--port", "0"],
                                    check=False, cwd=REPO_ROOT, env=child, capture_output=True, text=True, timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`fangpin run` started with SECRET_KEY={key!r}")
        assert result.returncode == 1, result.stderr
        assert "SECRET_KEY" in result.stderr and "secrets.token_hex(32)" in result.stderr
        assert "Traceback" not in result.stderr


# -- 10. stopping releases the scheduler lease --------------------------------------------------------------


@pytest.mark.parametrize(("command", "stop"), [(("run", "--port", "0"), signal.SIGTERM),
                                               (("run", "--port", "0"), signal.SIGINT),
                                               (("scheduler",), signal.SIGTERM),
                                               (("scheduler",), signal.SIGINT)])
def test_stopping_the_process_releases_the_scheduler_lease(env, command, stop):
    process = _fangpin(env, *command)
    try:
        ready = [r"holds the lease: it fires the timers"]  # the first sweep took the lease
        if command[0] == "run":
            ready.append(r"Listening at: http://")  # and the server is serving (the signal must not hit its start-up)
        _wait_for(process, *ready)
        held = _lease()
        assert held is not None and held.expires_at > RELEASED_BEFORE
        process.send_signal(stop)
        process.wait(timeout=START_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    released = _lease()
    assert released.owner == held.owner and released.expires_at < RELEASED_BEFORE  # the next process fires at once


# -- 12. deploying and binding need a policy editor -------------------------------------------------------------


def test_only_a_policy_editor_deploys_or_binds_from_the_command_line(env, tmp_path):
    edited = tmp_path / ZHANGGONG_2021
    edited.write_bytes(without_town_publicity())

    def versions() -> int:
        with create_engine_app().app_context():
            return db.session.query(ProcessVersion).filter_by(process_key="identification_zhanggong_2021").count()

    before = versions()
    for user in ("shahe_cun", "zhanggong_xian", "zhanggong_dudao"):
        refused = _run("--as", user, "process", "deploy", str(edited), ok=False)
        assert "不是政策管理员" in refused and "只有政策管理员可以部署流程图" in refused
    assert "请用 --as 用户名 指定办理人" in _run("process", "deploy", str(edited), ok=False)
    assert "用户 nobody 不存在" in _run("--as", "nobody", "process", "deploy", str(edited), ok=False)
    assert versions() == before  # nothing deployed
    refused = _run("--as", "shahe_cun", "process", "bind", "identification@1", "--procedure", "identification",
                   "--jurisdiction", "360702101201", "--from", "2026-10-01", ok=False)
    assert "不是政策管理员" in refused and "只有政策管理员可以绑定流程" in refused

    assert "已部署 identification_zhanggong_2021 v2" in _run("--as", "jiangxi_zhengce", "process", "deploy", str(edited))
    assert versions() == before + 1
    assert "已绑定：" in _run("--as", "jiangxi_zhengce", "process", "bind", "identification@1", "--procedure",
                              "identification", "--jurisdiction", "360702", "--from", "2026-10-01")


def test_a_log_level_the_server_does_not_know_stops_it_in_words(env, monkeypatch):
    monkeypatch.setenv("FANGPIN_LOG_LEVEL", "LOUD")
    out = _run("scheduler", ok=False)
    assert "FANGPIN_LOG_LEVEL='LOUD'：应为 DEBUG、INFO、WARNING 或 ERROR" in out
