"""A real Redis server for the tests of what several web processes share (no mocks).

``redis_url`` runs Debian's ``redis-server`` (tools/ensure-system-packages installs it) in a temporary directory,
listening on a free port of 127.0.0.1 only, keeping nothing on disk, and yields ``redis://127.0.0.1:PORT/0``; the
server is stopped and the directory removed at the end, even on failure. Without ``redis-server`` the test is
skipped, like the PostgreSQL tests without PostgreSQL (tests/pg.py).

Use it with ``from tests.redis_server import redis_url  # noqa: F401``.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import stop

START_TIMEOUT = 30  # seconds for the server to answer PING


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url() -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` on a server of its own, empty."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not found (run tools/ensure-system-packages, as `make test` does)")
    base = Path(tempfile.mkdtemp(prefix="fangpin-redis-", dir="/tmp"))
    port = _free_port()
    log = base / "redis.log"
    server = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(base),
                               "--save", "", "--appendonly", "no", "--logfile", str(log)],
                              cwd=base, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _ping(port):
            if server.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace") if log.exists() else ""
                pytest.fail(f"redis-server did not answer on port {port} (exit {server.poll()}):\n{text}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server, timeout=START_TIMEOUT)
        shutil.rmtree(base, ignore_errors=True)
