"""Browser tests: the real web application served on 127.0.0.1, driven by Debian's Chromium through
Selenium. Screenshots of the main pages are kept in ``artifacts/screenshots`` to be looked at."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from engine.core.config import REPO_ROOT
from tests.webclient import serve

SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail("Chromium and chromedriver are missing: `make test` installs Debian's chromium and chromium-driver")
    return browser, driver


@pytest.fixture
def server(web_app: Flask) -> Iterator[str]:
    """The web app on a free local port, in a thread (same database and injected clock as the test)."""
    with serve(web_app) as base:
        yield base


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
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()


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
