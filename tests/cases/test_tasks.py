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


def test_an_inbox_counts_its_tasks_only_up_to_the_cap(app, clock):
    from sqlalchemy import event, select

    from engine.cases.tasks import TaskFilter, count_ready
    from engine.core.db import db
    from engine.core.models import Jurisdiction
    from tests.factories import open_case

    for head in ("甲", "乙", "丙"):
        open_case(clock, head)
    village = db.session.scalar(select(Jurisdiction).filter_by(code="360702101201"))
    f = TaskFilter(("village_cadre",), village)
    assert (count_ready(f).n, count_ready(f).more, str(count_ready(f))) == (3, False, "3")
    statements = []

    def seen(*args) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", seen)
    capped = count_ready(f, cap=2)
    event.remove(db.engine, "before_cursor_execute", seen)
    assert (capped.n, capped.more, str(capped)) == (2, True, "2+")
    assert len(statements) == 1 and "LIMIT" in statements[0]  # one statement that stops after cap + 1 rows
    assert str(count_ready(f, cap=3)) == "3"


def test_a_county_wide_inbox_of_every_role_reads_the_urgency_index_and_gives_the_same_page(app, clock):
    from sqlalchemy import event, select

    from engine.cases.tasks import TaskFilter, inbox
    from engine.core.db import db
    from engine.core.models import HumanTask, Jurisdiction
    from tests.factories import open_case

    for head in ("甲", "乙", "丙", "丁"):
        open_case(clock, head)
    county = db.session.scalar(select(Jurisdiction).filter_by(code="360702"))
    expected = [t.id for t in db.session.scalars(select(HumanTask).filter_by(state="READY")
                                                 .order_by(HumanTask.sort_due, HumanTask.id))][:3]
    statements = []

    def seen(*args) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", seen)
    page = inbox(TaskFilter(None, county), limit=3)
    event.remove(db.engine, "before_cursor_execute", seen)
    assert [v.id for v in page] == expected
    assert any("INDEXED BY ix_task_urgency" in s for s in statements)
    village = db.session.scalar(select(Jurisdiction).filter_by(code="360702101201"))
    statements.clear()
    event.listen(db.engine, "before_cursor_execute", seen)
    inbox(TaskFilter(None, village), limit=3)  # a village's few tasks: its place index, not the urgency scan
    event.remove(db.engine, "before_cursor_execute", seen)
    assert not any("INDEXED BY" in s for s in statements)


def test_a_task_to_do_is_read_in_one_statement_and_what_its_callers_read_of_it_in_none(app, clock):
    """What a completion (engine.cases.lifecycle.complete_task) and a task page (web.tasks) read of the task, its
    case, household and places and of the official comes with the task's one statement — in a new session, in one
    that holds them all expired (after a commit), and for an official whose place is not above the case's (whose
    own places above it are read when asked, as before: only the message refusing them names them)."""
    from sqlalchemy import inspect

    from engine.cases.tasks import task_to_do, task_with_case
    from engine.core.db import db
    from engine.core.models import Case, Jurisdiction
    from tests.factories import open_case, ready_row, statements_of

    case = open_case(clock)
    task_id, case_id = ready_row(case).id, case.id

    def everything(row, user=None) -> tuple:
        case = row.case
        place = case.jurisdiction
        return (row.name, row.form_data, case.lock_version, case.state[:1], case.household.number, place.full_name,
                [p.level for p in place.ancestors()], place.ancestor_at("county").code,
                user and (user.roles, user.department, user.jurisdiction.code, user.jurisdiction.path))

    for username, user_place in (("shahe_cun", "360702101201"), ("huaping_cun", "360702101202"),
                                 ("shahe_zhen", "360702101")):
        db.session.remove()
        found = []
        assert statements_of(lambda: found.append(task_to_do(task_id, username))) == 1  # noqa: B023
        todo = found[0]
        assert statements_of(lambda: everything(todo.row, todo.user)) == 0  # noqa: B023
        assert todo.user.username == username and todo.user.jurisdiction.code == user_place
        assert everything(todo.row)[6] == ["village", "township", "county", "city", "province"]
        if todo.user.jurisdiction.contains(todo.row.case.jurisdiction):  # one of the case's places
            assert statements_of(lambda: todo.user.jurisdiction.full_name) == 0  # noqa: B023
        assert db.session.get(Case, case_id) is todo.row.case and not db.session.dirty
        assert db.session.get(Jurisdiction, todo.user.jurisdiction_id) is todo.user.jurisdiction
        assert all(not inspect(o).modified for o in db.session.identity_map.values())
        db.session.commit()  # everything expired: read again from the same statement's row
        assert statements_of(lambda: task_to_do(task_id, username)) == 1  # noqa: B023
        assert statements_of(lambda: everything(todo.row, todo.user)) == 0  # noqa: B023

    db.session.remove()
    assert task_to_do(task_id, "nobody").user is None
    db.session.remove()
    found = []
    assert statements_of(lambda: found.append(task_with_case(task_id))) == 1
    assert statements_of(lambda: everything(found[0])) == 0
    assert task_with_case(task_id + 1000) is None


def test_a_task_read_again_in_the_same_transaction_sends_no_statement(app, clock):
    """A task page's POST reads the task (and the official) to check access, then the completion reads it: the
    second read in the same transaction gives the same objects without a statement; after a commit, a rollback,
    an expunge or an expire it reads the row again."""
    from engine.cases.tasks import task_to_do, task_with_case
    from engine.core.db import db
    from tests.factories import open_case, ready_row, statements_of

    task_id = ready_row(open_case(clock)).id
    db.session.remove()
    found = []
    assert statements_of(lambda: found.append(task_with_case(task_id, "shahe_cun"))) == 1
    assert statements_of(lambda: found.append(task_to_do(task_id, "shahe_cun"))) == 0
    assert found[1].row is found[0] and found[1].user.username == "shahe_cun"
    assert statements_of(lambda: task_with_case(task_id, "shahe_cun")) == 0
    assert statements_of(lambda: task_to_do(task_id, "huaping_cun")) == 1  # another official: read with them
    for forget in (lambda row: db.session.commit(), lambda row: db.session.rollback(),
                   lambda row: db.session.expunge_all(), lambda row: db.session.expire(row.case)):
        forget(task_with_case(task_id, "shahe_cun"))
        again = []
        assert statements_of(lambda: again.append(task_to_do(task_id, "shahe_cun"))) == 1  # noqa: B023
        assert again[0].row.case.lock_version > 0 and again[0].user.jurisdiction.code == "360702101201"
