"""A real PostgreSQL server for the tests marked ``postgres`` (no mocks).

``postgres_url`` (once per test session) runs Debian's ``initdb``/``pg_ctl`` in a temporary directory,
listening on a free port of 127.0.0.1 only, with trust authentication for the role ``fangpin``, and
yields the URL of the database ``fangpin_test``; the server is stopped and the directory removed at the
end, even on failure. Tests run as root in CI and ``initdb`` refuses root, so the server then runs as
the ``postgres`` OS user. ``pg_app`` is the ``app`` fixture of ``tests/conftest.py`` on that server,
with a clean schema for every test.

Use them with ``from tests.pg import pg_app, postgres_url  # noqa: F401``.
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.core.clock import FixedClock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.transaction import transaction
from engine.demo import create_users
from engine.policy.parameters import load_policy_file

ROLE = "fangpin"
DATABASE = "fangpin_test"
SESSION_TIME_ZONE = "Asia/Shanghai"  # not UTC, so that a stored instant must not depend on the session's zone
TIMEOUT = 60  # seconds, for each PostgreSQL command


def _bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has initdb and pg_ctl."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [d for d in found if (d / "pg_ctl").exists()]
    return max(found, key=lambda d: [int(n) for n in re.findall(r"\d+", d.parent.name)] or [0], default=None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    """The environment without PG* variables (a developer's PGHOST or PGDATA must not leak in)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class _Server:
    def __init__(self, bin_dir: Path, base: Path, settings: str = "") -> None:
        self.bin_dir, self.base, self.settings = bin_dir, base, settings
        self.data, self.log = base / "data", base / "server.log"
        self.as_postgres = os.geteuid() == 0
        self.started = False

    def run(self, tool: str, *args: str, as_server_user: bool = True, check: bool = True):
        command = [str(self.bin_dir / tool), *args]
        if as_server_user and self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        try:
            return subprocess.run(command, check=check, timeout=TIMEOUT, cwd=self.base, env=_env(),
                                  capture_output=True, text=True)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"{tool} failed ({exc.returncode}):\n{exc.stdout}{exc.stderr}{self._log()}") from exc

    def _log(self) -> str:
        return f"\n--- {self.log} ---\n{self.log.read_text(errors='replace')}" if self.log.exists() else ""

    def start(self) -> int:
        if self.as_postgres:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise RuntimeError("running as root, but there is no 'postgres' OS user to run initdb as "
                                   "(install Debian's postgresql package: tools/ensure-postgres)") from exc
            os.chown(self.base, account.pw_uid, account.pw_gid)
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", ROLE, "-E", "UTF8", "--locale=C", "--no-sync")
        port = _free_port()
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# fangpin tests\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {port}\n"
                f"unix_socket_directories = '{self.base}'\n"
                f"timezone = '{SESSION_TIME_ZONE}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "deadlock_timeout = '200ms'\n"
                f"{self.settings}"
            )
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(TIMEOUT), "start")
        self.started = True
        self.run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, DATABASE, as_server_user=False)
        return port

    def stop(self) -> None:
        if self.started:
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", str(TIMEOUT), "stop", check=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql+psycopg2://fangpin@127.0.0.1:PORT/fangpin_test`` on a server of its own."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                    "(run tools/ensure-postgres, as `make test` does)")
    base = Path(tempfile.mkdtemp(prefix="fangpin-pg-", dir="/tmp"))
    base.chmod(0o755)  # the postgres user must be able to reach its data and socket directory
    server = _Server(bin_dir, base)
    try:
        port = server.start()
        yield f"postgresql+psycopg2://{ROLE}@127.0.0.1:{port}/{DATABASE}"
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_app(postgres_url: str, clock: FixedClock) -> Iterator[Flask]:
    """Like ``app`` in tests/conftest.py, on PostgreSQL, with every table dropped and created again."""
    app = create_engine_app({
        "SQLALCHEMY_DATABASE_URI": postgres_url, "FANGPIN_CLOCK_OBJECT": clock, "TESTING": True,
        # fail instead of hanging if a test leaves a lock behind
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-c lock_timeout=20s -c statement_timeout=60s"}},
    })
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:  # the migration history too: setup_database upgrades from empty
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        setup_database(clock)
        with transaction():
            load_policy_file(project_dir("policy") / "demo_parameters.json")
            create_users()
        try:
            yield app
        finally:
            db.session.remove()
            with contextlib.suppress(Exception):
                db.engine.dispose()  # no idle connections left to block the next test's drop_all
