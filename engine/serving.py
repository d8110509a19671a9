"""Serving the web application for real (生产服务): gunicorn with several worker processes, and the timer scheduler
as a process of its own beside it — the server ``fangpin run`` starts, ``make run`` uses and the HTTP tests
exercise. The web application's factory is handed in by the composition root (the CLI); this module knows only
how to run one."""
from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from engine.core.config import REPO_ROOT, env_count, tune_garbage_collector
from engine.core.logs import gunicorn_logconfig

log = logging.getLogger(__name__)

WORKERS_SETTING, THREADS_SETTING = "FANGPIN_WORKERS", "FANGPIN_THREADS"
# Measured on 2 cores with PostgreSQL beside it (bench/bench_http.py, 20 clients without pauses): 2 × 2 served
# 124-133 completions/s with POST p95 91-94 ms, 2 × 4 110-121/s (p95 110-146 ms), 3 × 2, 4 × 1, 4 × 2 and 6 × 1
# 113-118/s. Why more threads per process serve fewer requests here is not established (a shorter or longer
# interpreter switch interval changed nothing)
DEFAULT_WORKERS, DEFAULT_THREADS = 2, 2
# who, which page, the answer, its size and how long it took — the path without its query string, which can hold
# what an official searched for (a name, an ID number)
ACCESS_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
STOP_SECONDS = 30  # a stopping scheduler finishes the sweep under way and releases its lease
WATCH_SECONDS = 5  # how often `fangpin run` looks whether its scheduler still runs


class _Server(BaseApplication):
    """gunicorn configured in code: each worker builds the application with the factory after it is forked."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        tune_garbage_collector()
        return self.factory()


def share_demo_key() -> None:
    """Demo mode without SECRET_KEY: one random key for every worker of this run (a key per worker would log a user
    out whenever the next request reaches another worker). Outside demo mode the application refuses to start
    without a real key (web.security)."""
    if os.environ.get("FANGPIN_CLOCK") == "demo" and not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = secrets.token_hex(32)


def serve(factory: Callable[[], Flask], host: str, port: int, scheduler_command: list[str] | None = None) -> None:
    """Run the web application on ``host:port`` with ``FANGPIN_WORKERS`` processes of ``FANGPIN_THREADS`` threads
    (default 2 × 2), and ``scheduler_command`` (if given: ``fangpin run --no-scheduler`` gives none) as a child
    process for as long as the server runs. Port 0 is any free port, named in the log line "Listening at: …".
    SIGTERM and Ctrl-C stop both; the scheduler releases its lease as it stops."""
    options = {"bind": f"{host}:{port}", "workers": env_count(WORKERS_SETTING, DEFAULT_WORKERS, minimum=1),
               "threads": env_count(THREADS_SETTING, DEFAULT_THREADS, minimum=1), "worker_class": "gthread",
               "accesslog": "-", "errorlog": "-", "loglevel": "info", "graceful_timeout": STOP_SECONDS,
               "logconfig_dict": gunicorn_logconfig(), "access_log_format": ACCESS_FORMAT,
               "proc_name": "fangpin", "control_socket_disable": True}  # no shared socket in $HOME
    scheduler = SchedulerChild(scheduler_command) if scheduler_command else None
    try:
        _Server(factory, options).run()
    finally:
        if scheduler is not None:
            scheduler.stop()


class SchedulerChild:
    """The timer scheduler as a process of ``fangpin run``: started with the server, started again (and said so in
    the log) whenever it dies — else the web server would go on serving with no timer firing, and systemd, seeing
    the server alive, would never restart it — and stopped with the server."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process = self._start()
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a restart and the stop never cross
        threading.Thread(target=self._watch, name="scheduler-watch", daemon=True).start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(self.command, cwd=REPO_ROOT)

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            with self._lock:
                code = self.process.poll()  # (gunicorn's arbiter may have reaped it: then poll() says 0)
                if code is not None and not self._stopping.is_set():
                    log.error("the timer scheduler (pid %s) stopped, exit code %s: starting it again",
                              self.process.pid, code)
                    self.process = self._start()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
        _stop(self.process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log.error("the scheduler did not stop within %s s; killed (its lease expires by itself)", STOP_SECONDS)
            process.kill()
            process.wait()


def scheduler_command() -> list[str]:
    """This interpreter running ``fangpin scheduler``."""
    return [sys.executable, "-c", "from engine.cli import main; main()", "scheduler"]
