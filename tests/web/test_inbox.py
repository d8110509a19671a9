"""The inbox (待办): filters for every procedure, village, claimer and overdue; search by household number or head's
name; sortable columns; real names and Chinese labels; a capped count; a constant number of SQL statements."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, insert, select

from engine.cases.lifecycle import open_green_channel, open_identification, open_member_change
from engine.cases.tasks import COUNT_CAP, MAX_PAGES, claim_task
from engine.core.db import db
from engine.core.models import HumanTask, Jurisdiction, User
from engine.core.transaction import transaction
from engine.core.vocabulary import Procedure
from engine.demo import _demo_password_hash
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.webclient import login

SHAHE, HUAPING = "360702101201", "360702101202"  # two villages of 沙河镇


@pytest.fixture
def zhen_cadre(web_app) -> str:
    """A village cadre working for every village of 沙河镇 (沙河村, 华坪村)."""
    with web_app.app_context(), transaction():
        town = db.session.scalar(select(Jurisdiction).filter_by(code="360702101"))
        db.session.add(User(username="zhen_cadre", display_name="沙河镇包村干部", roles=["village_cadre"],
                            jurisdiction=town, password_hash=_demo_password_hash()))
    return "zhen_cadre"


@pytest.fixture
def tasks(web_app, clock, zhen_cadre) -> dict[str, dict]:
    """Four ready tasks for the village cadres of 沙河镇, opened an hour apart: 甲一 (沙河村, identification, claimed
    by the township's cadre), 乙二 (华坪村, green channel: no due date), 丙三 (沙河村, member change, claimed by
    shahe_cun) and 丁四 (华坪村, identification whose lead was found 19 days ago: overdue)."""
    out = {}
    with web_app.app_context():
        for head, village, open_case in (
                ("甲一", "沙河村", lambda h: open_identification(h, "self_application", date(2026, 9, 19), "shahe_cun", clock)),
                ("乙二", "华坪村", lambda h: open_green_channel(h, "huaping_cun", clock, {"hardship": "房屋遭洪水冲毁"})),
                ("丙三", "沙河村", lambda h: open_member_change(h, date(2026, 9, 10), "shahe_cun", clock)),
                ("丁四", "华坪村", lambda h: open_identification(h, "cadre_screening", date(2026, 9, 1), "huaping_cun", clock,
                                                               {"backfill_reason": "9 月 1 日排查发现，当时未立案"}))):
            household = register_household(household_data(village, head, 2), "shahe_cun", clock)
            case = open_case(household.id)
            task = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
            out[head] = {"id": task.id, "number": household.number}
            clock.advance(timedelta(hours=1))
        claim_task(out["甲一"]["id"], "zhen_cadre", clock.now())
        claim_task(out["丙三"]["id"], "shahe_cun", clock.now())
    return out


def _heads(html: str) -> list[str]:
    """The heads of household of the inbox's rows, in order."""
    return re.findall(r'<td data-label="农户">\d+ (\S+)</td>', html)


def _page(client, **query) -> str:
    response = client.get("/inbox", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    """What a reader sees: the page without its tags (attributes, option values, hidden fields)."""
    return re.sub(r"<[^>]+>", " ", html.split("<main", 1)[-1])


def test_most_urgent_first_and_every_procedure_can_be_chosen(client, tasks):
    html = _page(login(client, "zhen_cadre"))
    assert _heads(html) == ["丁四", "甲一", "丙三", "乙二"]  # overdue, then by due date; no due date last
    assert "4 项" in html
    for key, label in Procedure.labels().items():
        assert f'<option value="{key}" >{label}</option>' in html
    assert _heads(_page(client, procedure="green_channel")) == ["乙二"]
    assert _heads(_page(client, procedure="member_change")) == ["丙三"]
    assert _heads(_page(client, procedure="identification")) == ["丁四", "甲一"]
    assert _heads(_page(client, procedure="not-a-procedure")) == ["丁四", "甲一", "丙三", "乙二"]  # ignored


def test_village_claim_and_overdue_filters(client, tasks):
    html = _page(login(client, "zhen_cadre"))
    assert f'<option value="{SHAHE}" >' in html and f'<option value="{HUAPING}" >' in html
    assert _heads(_page(client, village=HUAPING)) == ["丁四", "乙二"]
    assert _heads(_page(client, village=SHAHE)) == ["甲一", "丙三"]
    assert _heads(_page(client, village="360702102201")) == ["丁四", "甲一", "丙三", "乙二"]  # not below 沙河镇: ignored
    assert _heads(_page(client, claimed="unclaimed")) == ["丁四", "乙二"]
    assert _heads(_page(client, claimed="mine")) == ["甲一"]
    assert _heads(_page(client, claimed="others")) == ["丙三"]
    assert _heads(_page(client, overdue="1")) == ["丁四"]
    assert _heads(_page(client, overdue="1", village=SHAHE)) == []
    combined = _page(client, village=SHAHE, claimed="others", procedure="member_change")
    assert _heads(combined) == ["丙三"] and "1 项" in combined
    # the same filters through the JSON inbox
    api = client.get("/api/tasks", query_string={"village": HUAPING, "claimed": "unclaimed"}).get_json()
    assert [i["head"] for i in api["items"]] == ["丁四", "乙二"] and api["total"] == 2
    assert [i["head"] for i in client.get("/api/tasks?overdue=1").get_json()["items"]] == ["丁四"]
    assert client.get("/api/tasks?claimed=whoever").status_code == 422


def test_search_by_household_number_or_head_name(client, tasks):
    login(client, "zhen_cadre")
    assert _heads(_page(client, q=tasks["丙三"]["number"])) == ["丙三"]  # the whole number
    assert _heads(_page(client, q=HUAPING)) == ["丁四", "乙二"]  # a prefix: the village's households
    assert _heads(_page(client, q="丙三")) == ["丙三"]
    assert _heads(_page(client, q="丁")) == ["丁四"]  # a name's beginning
    assert _heads(_page(client, q="丙三家属1")) == []  # a member who is not the head
    assert _heads(_page(client, q="丙_")) == [] and _heads(_page(client, q="%")) == []  # no wildcards
    assert _heads(_page(client, q="王")) == [] and "没有符合条件的待办任务" in _page(client, q="王")
    assert _heads(_page(client, q="甲", claimed="unclaimed")) == []
    api = client.get("/api/tasks", query_string={"q": tasks["甲一"]["number"]}).get_json()
    assert [i["household_number"] for i in api["items"]] == [tasks["甲一"]["number"]]


def test_columns_sort_with_aria_sort(client, tasks):
    login(client, "zhen_cadre")
    default = _page(client)
    assert re.search(r'<th aria-sort="ascending"><a href="[^"]*sort=due[^"]*">期限', default)
    assert '<th aria-sort="none"><a href="/inbox?sort=household"' in default
    created = _page(client, sort="created")
    assert _heads(created) == ["丁四", "丙三", "乙二", "甲一"]  # newest first
    assert re.search(r'<th aria-sort="descending"><a href="[^"]*sort=created[^"]*">创建', created)
    assert f"至多 {MAX_PAGES} 页" in created  # numbered pages, and how far they go
    assert _heads(_page(client, sort="household")) == ["甲一", "丙三", "乙二", "丁四"]  # by number
    assert _heads(_page(client, sort="village")) == ["甲一", "丙三", "丁四", "乙二"]  # 沙河村 first, each by due
    assert _heads(_page(client, sort="village", village=HUAPING, claimed="unclaimed")) == ["丁四", "乙二"]
    assert _heads(_page(client, sort="nonsense")) == ["丁四", "甲一", "丙三", "乙二"]
    # a sort link keeps the filters
    filtered = _page(client, village=HUAPING, q="丁")
    link = re.search(r'<a href="([^"]*sort=created[^"]*)"', filtered).group(1).replace("&amp;", "&")
    assert f"village={HUAPING}" in link and "q=" in link
    assert _heads(_page(client, sort="household", page="2")) == []  # 4 tasks: one page
    assert _heads(_page(client, sort="household", page="9999")) == []  # at most MAX_PAGES: no error


def test_people_and_codes_are_shown_by_their_chinese_names(client, tasks):
    text = _text(_page(login(client, "zhen_cadre")))
    assert "沙河村村干部" in text and "已认领" in text  # 丙三, claimed by shahe_cun, shown by name
    assert "村干部（村两委）" in text  # the step's role
    for label in ("识别纳入", "绿色通道", "家庭成员自然变更"):
        assert label in text
    for code in ("identification", "green_channel", "member_change", "village_cadre", "None"):
        assert code not in text, code
    mine = _text(_page(client, claimed="mine"))
    assert "释放" in mine  # my own claim: a button, not a name
    item = client.get("/api/tasks", query_string={"claimed": "others"}).get_json()["items"][0]
    assert (item["claimed_by"], item["claimed_by_name"], item["role_name"], item["procedure_name"]) == (
        "shahe_cun", "沙河村村干部", "村干部（村两委）", "家庭成员自然变更")


def test_the_count_stops_at_the_cap(web_app, client, tasks):
    with web_app.app_context():
        row = db.session.get(HumanTask, tasks["乙二"]["id"])
        columns = {c.key: getattr(row, c.key) for c in HumanTask.__table__.columns if c.key != "id"}
        with transaction():
            db.session.execute(insert(HumanTask), [{**columns, "task_uuid": f"copy-{i}"} for i in range(COUNT_CAP)])
    login(client, "zhen_cadre")
    assert f"{COUNT_CAP}+ 项" in _page(client)
    assert f"{COUNT_CAP}+ 项" in _page(client, procedure="green_channel", village=HUAPING)
    assert "1 项" in _page(client, procedure="member_change")
    assert len(_heads(_page(client, sort="created"))) == 25


def _statements(app, client, **query) -> int:
    seen = []

    def count(*_args) -> None:
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        _page(client, **query)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def _open(app, clock, n: int, start: int = 0) -> list[int]:
    """``n`` identifications in 沙河村 and 华坪村 by turns; their first tasks' ids."""
    with app.app_context():
        ids = []
        for i in range(start, start + n):
            household = register_household(household_data(("华坪村", "沙河村")[i % 2], f"户{i:02d}", 2), "shahe_cun",
                                           clock)
            case = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock)
            ids.append(db.session.scalar(select(HumanTask.id).filter_by(case_id=case.id, state="READY")))
        return ids


def test_the_page_reads_a_constant_number_of_statements(web_app, client, clock, zhen_cadre):
    queries = [{}, {"sort": "household"}, {"sort": "village", "q": "户", "claimed": "others", "village": SHAHE},
               {"q": "3607021012"}]
    _open(web_app, clock, 3)
    login(client, zhen_cadre)
    few = [_statements(web_app, client, **q) for q in queries]
    ids = _open(web_app, clock, 27, start=3)
    with web_app.app_context():
        for n, task_id in enumerate(ids):  # claimed by different people: their names still come in the one statement
            claim_task(task_id, ("shahe_cun", "shahe_cun2", "huaping_cun", "gone_away")[n % 4], clock.now())
    many = [_statements(web_app, client, **q) for q in queries]
    assert len(_heads(_page(client))) == 25 and len(_heads(_page(client, q="户", claimed="others"))) == 25
    assert few == many, (few, many)
