"""Pinning a jurisdiction to a diagram version from a date, and rolling back (issue #6), through the web UI:
deploying a new version bound to one jurisdiction from an effective date, the bindings page with a version,
"回退到此版本" on a version page, refusals that change nothing, the audit records, and uploads validated
with the files as last deployed. The injected clock is moved (never slept)."""
from __future__ import annotations

import io
import itertools
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine.cases.lifecycle import open_identification
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import RuleViolation
from engine.core.id_numbers import with_check_character
from engine.core.models import AuditEvent, Case, DiagramFile, Jurisdiction, PolicyParameter, ProcessVersion, User
from engine.core.transaction import transaction
from engine.households.register import register_household
from engine.policy.bindings import ProcessRef, bound_version, parse_process_ref
from engine.policy.parameters import resolve
from tests.factories import password_hash
from tests.webclient import csrf_token, login
from timers.calendar import to_local_date

CST = ZoneInfo("Asia/Shanghai")
SHAHE_TOWN, SHAHE, SHUIXI, XINHUA = "360702101", "360702101201", "360702102201", "210321100201"
IDENTIFICATION = "identification.bpmn"
_ids = itertools.count(700001)


def _changed(name: str = IDENTIFICATION, mark: str = "v2") -> bytes:
    """The repository's file with a comment added: other bytes, so a new version when deployed."""
    return (project_dir("processes") / name).read_bytes() + f"<!-- {mark} -->\n".encode()


def _token(client, url: str = "/diagrams") -> str:
    return csrf_token(client.get(url).get_data(as_text=True))


def _upload(client, content: bytes, name: str = IDENTIFICATION, **fields):
    data = {"diagram": (io.BytesIO(content), name), "action": "deploy", "csrf_token": _token(client), **fields}
    return client.post("/diagrams/upload", data=data, content_type="multipart/form-data")


def _bound_upload(client, content: bytes, place: str = SHAHE_TOWN, start: str = "2026-10-01", **fields):
    return _upload(client, content, bind_jurisdiction=place, bind_procedure="identification",
                   bind_effective_from=start, bind_source="测试：先在沙河镇试行", **fields)


def _open(web_app, clock, village_code: str) -> tuple[int, str, int]:
    """A new identification case in the village today: (case id, process key, version)."""
    number = next(_ids)
    member = {"name": f"版本户{number}", "relation_to_head": "户主",
              "id_number": with_check_character(f"{village_code[:6]}1980{number:07d}")}
    data = {"village": village_code, "members": [member]}
    with web_app.app_context():
        household = register_household(data, "test", clock)
        case = open_identification(household.id, "self_application", to_local_date(clock.now()), "test", clock)
        return case.id, case.process_version.process_key, case.process_version.version


def _versions_of_cases(web_app, ids: list[int]) -> list[tuple[int, str]]:
    with web_app.app_context():
        return [(db.session.get(Case, i).process_version.version, db.session.get(Case, i).status) for i in ids]


def _count(web_app, model) -> int:
    with web_app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _events(web_app, action: str) -> list[dict]:
    with web_app.app_context():
        rows = db.session.scalars(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id))
        return [{"actor": r.actor, **r.detail} for r in rows]


def _version_id(web_app, key: str, number: int) -> int:
    with web_app.app_context():
        return db.session.scalar(select(ProcessVersion.id).filter_by(process_key=key, version=number))


def _on(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 9, tzinfo=CST))


@pytest.fixture
def liaoning_too(web_app):
    """辽宁省 runs 江西省's diagram as well (as shipped it runs its own, identification_anshan): a province outside
    the editor's area whose binding follows the newest version of the process deployed."""
    with web_app.app_context(), transaction():
        province = db.session.scalar(select(Jurisdiction).filter_by(code="21"))
        db.session.add(PolicyParameter(jurisdiction=province, key="identification.process", value="identification",
                                       effective_from=date(2026, 9, 1), source="测试：辽宁省也使用江西省的识别流程"))


# -- the binding value ----------------------------------------------------------------------------


def test_a_binding_value_is_a_process_key_or_a_key_at_a_version(app):
    assert parse_process_ref("identification") == ProcessRef("identification")
    assert parse_process_ref("identification@2") == ProcessRef("identification", 2)
    assert str(ProcessRef("identification", 2)) == "identification@2" and not ProcessRef("x").pinned
    for bad in ("", "@2", "identification@", "identification@0", "identification@two", "identification@-1", 7):
        with pytest.raises(RuleViolation, match="格式不正确"):
            parse_process_ref(bad)
    assert bound_version("identification").version == 1
    assert bound_version("identification@1").version == 1
    with pytest.raises(Exception, match="没有第 3 版"):
        bound_version("identification@3")


# -- a deploy changes only the editor's own jurisdiction ------------------------------------------


def test_a_plain_deploy_changes_only_the_editors_province(editor, web_app, clock, liaoning_too):
    response = _upload(editor, _changed())
    assert response.status_code == 302
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "新立案的案件即改用新版本：江西省（识别纳入）" in page
    assert "以下绑定保持部署前的版本（本次部署只改变本辖区）：辽宁省（识别纳入）固定为 identification@1" in page
    assert _open(web_app, clock, SHAHE)[1:] == ("identification", 2)  # 江西省 follows the newest version
    assert _open(web_app, clock, XINHUA)[1:] == ("identification", 1)  # 辽宁省 keeps the version it ran
    pinned = {(e["actor"], e["jurisdiction"], e["value"]) for e in _events(web_app, "process_pinned")}
    assert pinned == {("jiangxi_zhengce", "21", "identification@1")}


def _county_editor(client, web_app):
    """章贡区's policy editor, added and logged in."""
    with web_app.app_context():
        zhanggong = db.session.scalar(select(Jurisdiction).filter_by(code="360702"))
        db.session.add(User(username="zhanggong_zhengce", display_name="章贡区政策管理员", roles=["policy_editor"],
                            jurisdiction=zhanggong, password_hash=password_hash()))
        db.session.commit()
    return login(client, "zhanggong_zhengce")


def test_a_county_editors_plain_deploy_changes_only_that_county(client, web_app, clock, liaoning_too):
    county_editor = _county_editor(client, web_app)
    response = _upload(county_editor, _changed())
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _open(web_app, clock, SHAHE)[1:] == ("identification", 2)  # inside 章贡区: the new version
    assert _open(web_app, clock, XINHUA)[1:] == ("identification", 1)
    with web_app.app_context():  # the province's row (which 章贡区 inherited) is kept on v1 for the rest of 江西省
        province = db.session.scalar(select(Jurisdiction).filter_by(code="36"))
        assert resolve("identification.process", province, date(2026, 9, 20)) == "identification@1"
    pinned = {e["jurisdiction"] for e in _events(web_app, "process_pinned")}
    assert pinned == {"36", "21"}
    (own,) = [e for e in _events(web_app, "process_bound") if e["jurisdiction"] == "360702"]
    assert (own["actor"], own["value"]) == ("zhanggong_zhengce", "identification")


# -- deploying bound to a jurisdiction from a date ------------------------------------------------


def test_a_new_version_deployed_for_one_township_from_a_date(editor, web_app, clock, liaoning_too):
    before = [_open(web_app, clock, code) for code in (SHAHE, SHUIXI)]
    assert [(key, number) for _, key, number in before] == [("identification", 1)] * 2
    response = _bound_upload(editor, _changed(), keep_others="1")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "已部署：identification v2" in page and "自 2026-10-01 起江西省赣州市章贡区沙河镇新立案的案件使用新版本" in page
    # before the date: everyone, 沙河镇 too, stays on v1 (the bindings that followed the newest were pinned)
    assert [_open(web_app, clock, code)[1:] for code in (SHAHE, SHUIXI, XINHUA)] == [("identification", 1)] * 3
    _on(clock, date(2026, 10, 1))
    assert _open(web_app, clock, SHAHE)[1:] == ("identification", 2)
    assert _open(web_app, clock, SHUIXI)[1:] == ("identification", 1)  # another township: pinned to v1
    assert _open(web_app, clock, XINHUA)[1:] == ("identification", 1)  # 台安县 (another province) too
    assert _versions_of_cases(web_app, [i for i, _, _ in before]) == [(1, "running")] * 2
    (deployed,) = _events(web_app, "diagram_deployed")
    assert (deployed["actor"], deployed["process"], deployed["version"]) == ("jiangxi_zhengce", "identification", 2)
    (bound,) = _events(web_app, "process_bound")
    assert (bound["jurisdiction"], bound["value"], bound["effective_from"]) == (SHAHE_TOWN, "identification@2",
                                                                                "2026-10-01")
    pinned = {(e["jurisdiction"], e["value"], e["effective_from"]) for e in _events(web_app, "process_pinned")}
    assert pinned == {("36", "identification@1", "2026-09-20"), ("21", "identification@1", "2026-09-20")}
    opened = _events(web_app, "case_opened")[-3:]
    assert [(e["binding"], e["version"]) for e in opened] == [("identification@2", 2), ("identification@1", 1),
                                                              ("identification@1", 1)]
    library = editor.get("/diagrams").get_data(as_text=True)
    section = library[library.index('id="p-identification"'):library.index('id="p-identification_anshan"')]
    assert "江西省赣州市章贡区沙河镇（识别纳入）自 2026-10-01：v2（固定版本）" in section
    assert "江西省（识别纳入）自 2026-09-20：v1（固定版本）" in section
    assert "江西省（识别纳入）自 2023-05-01 至 2026-09-20 前：最新版本" in section


def test_without_keeping_the_others_bindings_that_follow_the_newest_change_at_once(editor, web_app, clock, liaoning_too):
    token = _token(editor, "/diagrams/bindings")
    pin = editor.post("/diagrams/bindings", data={
        "csrf_token": token, "procedure": "identification", "process_key": "identification",
        "version": "identification@1", "jurisdiction": "360702102", "effective_from": "2026-09-20"})
    assert pin.status_code == 302
    response = _bound_upload(editor, _changed())  # the box "其他辖区保持当前版本" unticked
    assert response.status_code == 302
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "以下绑定为“最新版本”，新立案的案件即改用新版本：江西省（识别纳入）" in page
    # only 辽宁省 (outside the editor's province) is kept on v1: a deploy changes only the editor's own area
    pinned = {(e["jurisdiction"], e["value"]) for e in _events(web_app, "process_pinned")}
    assert pinned == {("21", "identification@1")}
    assert _open(web_app, clock, SHAHE)[1:] == ("identification", 2)  # follows the province's newest
    assert _open(web_app, clock, SHUIXI)[1:] == ("identification", 1)  # 水西镇 was pinned to v1


def test_a_draft_is_deployed_bound_from_its_page(editor, web_app, clock):
    created = _upload(editor, _changed(), action="draft")
    draft_id = int(created.headers["Location"].rsplit("/", 1)[1])
    html = editor.get(f"/diagrams/drafts/{draft_id}").get_data(as_text=True)
    assert "绑定到（行政区划）" in html and "办理程序" in html and "生效日期" in html
    deployed = editor.post(f"/diagrams/drafts/{draft_id}/deploy", data={
        "csrf_token": csrf_token(html), "bind_jurisdiction": SHAHE_TOWN, "bind_procedure": "identification",
        "bind_effective_from": "2026-09-20", "keep_others": "1"})
    assert deployed.status_code == 302
    assert _open(web_app, clock, SHAHE)[1:] == ("identification", 2)  # from today
    assert _open(web_app, clock, SHUIXI)[1:] == ("identification", 1)
    assert [e["draft_id"] for e in _events(web_app, "draft_deployed")] == [draft_id]


def test_a_refused_binding_deploys_nothing(editor, web_app, clock):
    versions, files, rows = _count(web_app, ProcessVersion), _count(web_app, DiagramFile), _count(web_app,
                                                                                                   PolicyParameter)
    past = _bound_upload(editor, _changed(), start="2026-09-19", keep_others="1")
    assert past.status_code == 422 and "早于今天" in past.get_data(as_text=True)
    foreign = _bound_upload(editor, _changed(), place="370681", keep_others="1")
    assert foreign.status_code == 403 and "不在 江西省 辖区内" in foreign.get_data(as_text=True)
    partial = _upload(editor, _changed(), bind_jurisdiction=SHAHE_TOWN)
    assert partial.status_code == 422 and "需要同时填写" in partial.get_data(as_text=True)
    procedure = _upload(editor, _changed(), bind_jurisdiction=SHAHE_TOWN, bind_procedure="nope",
                        bind_effective_from="2026-10-01")
    assert procedure.status_code == 422 and "没有名为 nope 的办理程序" in procedure.get_data(as_text=True)
    same = _bound_upload(editor, (project_dir("processes") / IDENTIFICATION).read_bytes())
    assert same.status_code == 422 and "没有新的版本可绑定" in same.get_data(as_text=True)
    assert (_count(web_app, ProcessVersion), _count(web_app, DiagramFile),
            _count(web_app, PolicyParameter)) == (versions, files, rows)
    assert _events(web_app, "diagram_deployed") == [] and _events(web_app, "process_bound") == []
    assert _open(web_app, clock, SHAHE)[1:] == ("identification", 1)



def _township_rows(web_app) -> list[tuple[str, str, str]]:
    with web_app.app_context():
        rows = db.session.scalars(select(PolicyParameter).filter_by(key="identification.process").join(Jurisdiction)
                                  .where(Jurisdiction.code == SHAHE_TOWN).order_by(PolicyParameter.effective_from))
        return [(r.value, str(r.effective_from), str(r.effective_to)) for r in rows]


def _flashed(client, response) -> str:
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return page[page.index("已部署："):].split("</p>", 1)[0]


@pytest.mark.parametrize("start", ["2026-09-20", "2026-10-01"])  # today, and a planned date
def test_deploying_and_binding_again_from_the_same_date_replaces_that_binding(editor, web_app, clock, start):
    assert _bound_upload(editor, _changed(mark="v2"), start=start, keep_others="1").status_code == 302
    again = _bound_upload(editor, _changed(mark="v3"), start=start, keep_others="1")
    assert again.status_code == 302, again.get_data(as_text=True)
    message = _flashed(editor, again)
    assert message.count("沙河镇") == 1 and f"已绑定：自 {start} 起江西省赣州市章贡区沙河镇新立案的案件使用新版本" in message
    # one row from that date, on the newest version: no binding of zero length (from == to) is left behind
    assert _township_rows(web_app) == [("identification@3", start, "None")]
    bound = _events(web_app, "process_bound")[-1]
    assert bound["replaced"]["value"] == "identification@2" and bound["closed"] is None
    _on(clock, date.fromisoformat(start))
    assert _open(web_app, clock, SHAHE)[1:] == ("identification", 3)


@pytest.mark.parametrize("start", ["2026-09-20", "2026-10-01"])
def test_a_binding_that_follows_the_newest_from_the_same_date_is_replaced_not_pinned(editor, web_app, clock, start):
    follow = _bind(editor, jurisdiction=SHAHE_TOWN, version="", effective_from=start)
    assert follow.status_code == 302
    response = _bound_upload(editor, _changed(), start=start, keep_others="1")
    assert response.status_code == 302
    message = _flashed(editor, response)
    assert message.count("沙河镇") == 1, message  # not also "沙河镇（识别纳入）固定为 identification@1"
    assert _township_rows(web_app) == [("identification@2", start, "None")]
    assert SHAHE_TOWN not in {e["jurisdiction"] for e in _events(web_app, "process_pinned")}


def test_a_county_editor_binding_the_county_from_today_gets_one_row(client, web_app, clock):
    county_editor = _county_editor(client, web_app)
    response = _bound_upload(county_editor, _changed(), place="360702", start="2026-09-20")
    assert response.status_code == 302
    message = _flashed(county_editor, response)
    assert message.count("章贡区") == 1, message  # bound, not also listed as following the newest
    with web_app.app_context():
        rows = db.session.scalars(select(PolicyParameter).filter_by(key="identification.process").join(Jurisdiction)
                                  .where(Jurisdiction.code == "360702", PolicyParameter.effective_from >= date(2026, 9, 20)))
        assert [(r.value, str(r.effective_from), r.effective_to) for r in rows] == [
            ("identification@2", "2026-09-20", None)]


# -- rolling back ---------------------------------------------------------------------------------


def test_rolling_back_a_township_to_the_earlier_version_from_a_date(editor, web_app, clock):
    assert _bound_upload(editor, _changed(), start="2026-09-20", keep_others="1").status_code == 302
    on_v2 = _open(web_app, clock, SHAHE)
    assert on_v2[1:] == ("identification", 2)
    v1, v2 = _version_id(web_app, "identification", 1), _version_id(web_app, "identification", 2)
    page = editor.get(f"/diagrams/versions/{v1}").get_data(as_text=True)
    assert "回退到此版本" in page and "江西省赣州市章贡区沙河镇：识别纳入，自 2026-09-20" in page
    assert "固定使用此版本" in editor.get(f"/diagrams/versions/{v2}").get_data(as_text=True)
    token = csrf_token(page)
    form = {"csrf_token": token, "procedure": "identification", "jurisdiction": SHAHE_TOWN,
            "effective_from": "2026-10-08", "source": "新版本公示环节有误，回退"}
    rows = _count(web_app, PolicyParameter)
    assert editor.post(f"/diagrams/versions/{v1}/rollback", data={**form, "csrf_token": ""}).status_code == 400
    past = editor.post(f"/diagrams/versions/{v1}/rollback", data={**form, "effective_from": "2026-09-19"})
    assert past.status_code == 422 and "早于今天" in past.get_data(as_text=True)
    foreign = editor.post(f"/diagrams/versions/{v1}/rollback", data={**form, "jurisdiction": "370681"})
    assert foreign.status_code == 403
    cadre = login(web_app.test_client(), "shahe_cun")
    assert cadre.post(f"/diagrams/versions/{v1}/rollback",
                      data={**form, "csrf_token": _token(cadre, "/inbox")}).status_code == 403
    assert _count(web_app, PolicyParameter) == rows
    done = editor.post(f"/diagrams/versions/{v1}/rollback", data=form)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/diagrams/versions/{v1}")
    shown = editor.get(done.headers["Location"]).get_data(as_text=True)
    assert "自 2026-10-08 起新立案的识别纳入案件使用 identification v1；办理中的案件不变" in shown
    assert "自 2026-10-08，\n      <strong>v1</strong>（固定版本）" in shown
    assert _open(web_app, clock, SHAHE)[1:] == ("identification", 2)  # until the date: still v2
    _on(clock, date(2026, 10, 8))
    assert _open(web_app, clock, SHAHE)[1:] == ("identification", 1)
    assert _open(web_app, clock, "360702101202")[1:] == ("identification", 1)  # 华坪村, same township
    assert _versions_of_cases(web_app, [on_v2[0]]) == [(2, "running")]  # the running v2 case is untouched
    (event,) = _events(web_app, "process_rolled_back")
    assert (event["actor"], event["jurisdiction"], event["value"], event["effective_from"]) == (
        "jiangxi_zhengce", SHAHE_TOWN, "identification@1", "2026-10-08")
    assert (event["replaces"], event["replaces_version"], event["newest_version"]) == ("identification@2", 2, 2)
    assert event["source"] == "新版本公示环节有误，回退"
    library = editor.get("/diagrams").get_data(as_text=True)
    assert "江西省赣州市章贡区沙河镇（识别纳入）自 2026-10-08，固定" in library


# -- the bindings page with a version -------------------------------------------------------------


def _bind(client, **fields):
    data = {"procedure": "identification", "process_key": "identification", "jurisdiction": "360702102",
            "effective_from": "2026-10-01", "csrf_token": _token(client, "/diagrams/bindings"), **fields}
    return client.post("/diagrams/bindings", data=data)


def test_the_bindings_page_pins_a_version_or_follows_the_newest(editor, web_app, clock):
    page = editor.get("/diagrams/bindings").get_data(as_text=True)
    assert "最新版本（以后部署的新版本自动使用）" in page and 'value="identification@1"' in page
    assert re.search(r"<code>identification</code></td>\s*<td data-label=\"版本\">最新版本（目前 v1）", page)
    assert _bind(editor, version="identification@1").status_code == 302
    shown = editor.get("/diagrams/bindings").get_data(as_text=True)
    assert "已绑定：江西省赣州市章贡区水西镇 自 2026-10-01 起 identification.process = identification v1（固定版本）" in shown
    assert _bind(editor, version="", effective_from="2026-11-01").status_code == 302
    with web_app.app_context():
        rows = db.session.scalars(select(PolicyParameter.value).filter_by(key="identification.process")
                                  .where(PolicyParameter.effective_from >= date(2026, 10, 1))
                                  .order_by(PolicyParameter.effective_from)).all()
    assert rows == ["identification@1", "identification"]


def test_an_invalid_pinned_version_is_refused_and_nothing_saved(editor, web_app):
    rows = _count(web_app, PolicyParameter)
    missing = _bind(editor, version="identification@9")
    assert missing.status_code == 422
    assert "流程 identification 没有第 9 版（已部署：v1），不能绑定" in missing.get_data(as_text=True)
    other = _bind(editor, version="identification_longkou@1")
    assert other.status_code == 422 and "不是流程 identification 的版本" in other.get_data(as_text=True)
    malformed = _bind(editor, version="identification@x")
    assert malformed.status_code == 422 and "格式不正确" in malformed.get_data(as_text=True)
    typed = _bind(editor, process_key="identification@4", version="")
    assert typed.status_code == 422 and "没有第 4 版" in typed.get_data(as_text=True)
    assert _count(web_app, PolicyParameter) == rows and _events(web_app, "process_bound") == []


# -- validation with the files as last deployed ---------------------------------------------------


def test_an_upload_is_bundled_with_the_called_files_as_last_deployed(editor, web_app):
    publicity = _changed("publicity.bpmn", "公示流程修订")
    assert _upload(editor, publicity, name="publicity.bpmn").status_code == 302
    deployed_publicity = {e["process"] for e in _events(web_app, "diagram_deployed")}
    assert {"identification", "identification_longkou", "identification_zhanggong_2021"} <= deployed_publicity
    assert _upload(editor, _changed(mark="v3")).status_code == 302
    with web_app.app_context():
        newest = db.session.scalar(select(ProcessVersion).filter_by(process_key="identification")
                                   .order_by(ProcessVersion.version.desc()).limit(1))
        files = {f["file_name"]: f["sha256"] for f in newest.files}
        assert newest.version == 3
        assert db.session.get(DiagramFile, files["publicity.bpmn"]).content == publicity  # not the file on disk
