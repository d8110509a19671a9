"""录入下一年节假日安排 through the engine (engine.cases.calendar_year): the override file is written and the save
audited in one transaction — a transaction that does not commit leaves the file as it was."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.cases.calendar_year import ACTION, save_calendar_year
from engine.core.db import db
from engine.core.models import AuditEvent
from engine.core.transaction import transaction
from tests.timers.calendar_lines import HOLIDAYS_2027, WORKDAYS_2027
from timers import calendar_years
from timers.calendar import OVERRIDE_ENV_VAR, reset_default_calendar

HOLIDAYS, WORKDAYS = HOLIDAYS_2027, WORKDAYS_2027  # FICTITIOUS: exercises the mechanism only


@pytest.fixture
def override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "calendar_override.json"
    path.write_bytes(Path(calendar_years.__file__).with_name("calendar_override.json").read_bytes())
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(path))
    reset_default_calendar()
    yield path
    reset_default_calendar()


def _saved() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(action=ACTION))


def test_a_save_whose_transaction_does_not_commit_leaves_the_file_as_it_was(app, clock, override: Path) -> None:
    before = override.read_bytes()
    with pytest.raises(RuntimeError), transaction():
        save_calendar_year("county_admin", clock.now(), "2027", "虚构测试通知", HOLIDAYS, WORKDAYS)
        assert override.read_bytes() != before  # written in step with the transaction ...
        raise RuntimeError("the commit fails")  # ... which then does not commit: no audit entry, so no new file
    assert override.read_bytes() == before and _saved() == 0
    assert calendar_years.year_text(2027) is None

    with transaction():
        saved = save_calendar_year("county_admin", clock.now(), "2027", "虚构测试通知", HOLIDAYS, WORKDAYS)
    assert _saved() == 1 and calendar_years.current_version(override) == saved.data_version
    assert calendar_years.year_text(2027) is not None

