"""The file clock (文件时钟, ``FANGPIN_CLOCK=file:PATH``): the time written in a file, read again on every ``now()`` —
how the browser tests give the production server they start the test's time, and how a date is rehearsed (演练).
A missing or unreadable file is a clear refusal in Chinese, as the process starts, never the real time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.app import create_engine_app, get_clock
from engine.cli import main
from engine.core.clock import ClockFileError, FileClock

CST = timezone(timedelta(hours=8))


def test_the_file_is_read_on_every_call(tmp_path: Path):
    path = tmp_path / "clock"
    path.write_text("2026-10-08T09:00:00+08:00\n", encoding="utf-8")
    clock = FileClock(path)
    assert clock.now() == datetime(2026, 10, 8, 1, tzinfo=UTC) and clock.now().tzinfo is UTC
    path.write_text("2026-12-31T23:30:00Z", encoding="utf-8")  # another process moves it
    assert clock.now() == datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    FileClock(path).set(datetime(2027, 1, 4, 9, tzinfo=CST))  # what the browser tests' clock does
    assert clock.now() == datetime(2027, 1, 4, 1, tzinfo=UTC)
    assert [p.name for p in tmp_path.iterdir()] == ["clock"]  # replaced at once, no partial file left


@pytest.mark.parametrize(("content", "says"), [
    (None, "不存在"),
    ("", "不是 ISO-8601 时间"),
    ("next tuesday", "不是 ISO-8601 时间"),
    ("2026-10-08T09:00:00", "没有时区"),
])
def test_a_missing_or_bad_file_is_a_clear_error_in_chinese(tmp_path: Path, content: str | None, says: str):
    path = tmp_path / "clock"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ClockFileError) as refused:
        FileClock(path).now()
    assert says in str(refused.value) and f"时钟文件 {path}" in str(refused.value)


def test_a_naive_time_is_not_written(tmp_path: Path):
    with pytest.raises(ValueError, match="timezone-aware"):
        FileClock(tmp_path / "clock").set(datetime(2026, 10, 8, 9))
    assert not (tmp_path / "clock").exists()


def test_the_setting_chooses_the_file_clock_and_checks_the_file_at_once(tmp_path: Path):
    path = tmp_path / "clock"
    path.write_text("2026-10-08T09:00:00+08:00", encoding="utf-8")
    app = create_engine_app({"FANGPIN_CLOCK": f"file:{path}", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        assert isinstance(get_clock(), FileClock) and get_clock().now() == datetime(2026, 10, 8, 1, tzinfo=UTC)
    with pytest.raises(ClockFileError, match="不存在"):
        create_engine_app({"FANGPIN_CLOCK": f"file:{tmp_path / 'missing'}", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(ClockFileError, match="须写时钟文件的路径"):
        create_engine_app({"FANGPIN_CLOCK": "file:", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_fangpin_run_refuses_to_start_without_its_clock_file(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("FANGPIN_CLOCK", f"file:{tmp_path / 'missing'}")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fangpin.db'}")
    monkeypatch.setenv("FANGPIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    result = CliRunner().invoke(main, ["run", "--no-scheduler", "--port", "0"])
    assert result.exit_code == 1, result.output
    assert f"错误：时钟文件 {tmp_path / 'missing'} 不存在" in result.output
