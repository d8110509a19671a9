"""Human tasks: due dates."""
from __future__ import annotations

import pytest


def test_a_due_date_expression_may_give_no_limit_a_date_or_a_moment():
    from datetime import date as day
    from datetime import datetime as moment

    from engine.cases.tasks import due_moment

    assert due_moment(None) is None  # the jurisdiction has no such limit: the task has no due date
    assert due_moment("2026-10-06T00:00:00+08:00").isoformat() == "2026-10-06T00:00:00+08:00"
    assert due_moment(day(2026, 10, 5)).isoformat() == "2026-10-06T00:00:00+08:00"  # 24:00 of that day
    assert due_moment("2026-10-05").isoformat() == "2026-10-06T00:00:00+08:00"
    aware = moment.fromisoformat("2026-10-05T12:00:00+08:00")
    assert due_moment(aware) is aware
    with pytest.raises(TypeError, match="不是日期"):
        due_moment(5)
