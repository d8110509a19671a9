"""Browser tests: the production server (``fangpin run``: gunicorn with gthread workers) on a free port of
127.0.0.1, driven by Debian's Chromium through Selenium. Screenshots of the main pages are kept in
``artifacts/screenshots`` to be looked at.

The test sets its data up in-process (``with web_app.app_context(): …``) on the SQLite file the server reads, and
moves the test clock, whose time the server reads from a file (``FANGPIN_CLOCK=file:…``) — even after it started."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from engine.core.clock import FileClock, FixedClock
from engine.core.config import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
START_SECONDS = 120  # to import, fork and listen, on a busy machine
STOP_SECONDS = 20  # a graceful stop, then the process group is killed
LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")
WORKERS, THREADS = "1", "8"  # one process (one rate-limit memory), threads for the browser's parallel requests
LOOSE_LIMITS = "10000 per minute"  # the in-process test app runs with the rate limits off


class SharedClock(FixedClock):
    """The test's fixed clock, written to a file each time it is set or advanced: the server process, started
    with ``FANGPIN_CLOCK=file:<that file>``, reads the same time."""

    def __init__(self, at: datetime, path: Path) -> None:
        self.file = FileClock(path)
        super().__init__(at)
        self.file.set(self.now())

    def set(self, at: datetime) -> None:
        super().set(at)
        self.file.set(self.now())

    def advance(self, delta: timedelta) -> None:
        super().advance(delta)
        self.file.set(self.now())


@pytest.fixture
def clock(clock: FixedClock, tmp_path: Path) -> SharedClock:
    """The suite's clock (same start), shared with the server through ``tmp_path/clock``."""
    return SharedClock(clock.now(), tmp_path / "clock")


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail("Chromium and chromedriver are missing: `make test` installs Debian's chromium and chromium-driver")
    return browser, driver


@pytest.fixture
def server(web_app: Flask, db_path: Path, clock: SharedClock, tmp_path: Path) -> Iterator[str]:
    """``fangpin run --no-scheduler`` on a free port of 127.0.0.1, on the test's database (set up by ``web_app``)
    and clock; no scheduler (the tests fire timers with ``wake_due``). Its base URL; its output is printed as the
    fixture ends (pytest shows it when the test failed)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "FANGPIN_INSTANCE": str(tmp_path / "instance"),
           "FANGPIN_CLOCK": f"file:{clock.file.path}", "SECRET_KEY": secrets.token_hex(32),
           "FANGPIN_LOGIN_RATE_LIMIT": LOOSE_LIMITS, "FANGPIN_APPLY_RATE_LIMIT": LOOSE_LIMITS,
           "FANGPIN_WORKERS": WORKERS, "FANGPIN_THREADS": THREADS, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-c", "from engine.cli import main; main()", "run", "--port", "0",
                                    "--no-scheduler"], cwd=REPO_ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # its workers: one group
    try:
        yield _base_url(process, log)
    finally:
        _stop(process)
        print(f"--- the server's output ({log}) ---\n{log.read_text(errors='replace')}")


def _base_url(process: subprocess.Popen, log: Path) -> str:
    """Wait for gunicorn's "Listening at: http://127.0.0.1:<port>" (its port 0 picked a free one)."""
    deadline = time.monotonic() + START_SECONDS
    while not (found := LISTENING.search(log.read_text(errors="replace"))):
        if process.poll() is not None:
            pytest.fail(f"the server ended (exit {process.returncode}) before listening:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the server was not listening within {START_SECONDS} s:\n{log.read_text()}")
        time.sleep(0.1)
    return found.group(1)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the master and its workers (a group of their own)
            process.wait()


@pytest.fixture
def browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1280,900", "--lang=zh-CN", f"--user-data-dir={tmp_path / 'chrome'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console_errors() reads the page's console
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()


def console_errors(browser) -> list[str]:
    """What the pages logged as errors in the browser's console since the last call."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(browser, name: str) -> Path:
    """Keep a picture of the page as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def wait_for_text(browser, text: str, timeout: float = 10) -> None:
    """Wait until the page shows ``text`` (navigation after a click is asynchronous)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(lambda b: text in b.page_source, message=f"page never showed {text!r}")
