"""The department warning pages (行业预警): upload refused row by row or imported, push deadlines, the ledger and
the monthly report; the city's split, the county's comparison, the township's home verification and the report are
tasks of the warning procedures, done on their task pages from the inbox. Each refusal: not logged in, wrong role,
other jurisdiction, CSRF token missing."""
from __future__ import annotations

import io
import re
from datetime import date, datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from engine.bpmn.deployment import latest_version
from engine.cases.lifecycle import wake_due
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.models import (
    AuditEvent,
    Case,
    DepartmentWarning,
    Household,
    HumanTask,
    Jurisdiction,
    User,
    WarningBatch,
)
from engine.core.transaction import transaction
from engine.core.vocabulary import WarningStatus
from engine.households.register import register_household
from engine.policy.parameters import load_policy_file
from engine.warnings.schedules import open_schedules
from tests.bdd.officials import household_data
from tests.factories import password_hash
from tests.webclient import HttpBrowser, csrf_token, login, serve
from timers.calendar import DATE_FORMAT

CST = ZoneInfo("Asia/Shanghai")
HEADER = "姓名,身份证号,预警指标,金额,村代码,日期"
OUTSIDER = "360702198505050011"  # not registered; a valid birth date and check character
DEPARTMENT_USERS = {"zg_yibao": "360702", "gz_yibao": "3607", "lk_minzheng": "370681"}


@pytest.fixture
def app(web_app, clock):
    """The web app with the warning policy, department logins and two households in 沙河村 (one monitored)."""
    with web_app.app_context():
        with transaction():
            load_policy_file(project_dir("policy") / "warning_thresholds.json")
            for username, code in DEPARTMENT_USERS.items():
                place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
                db.session.add(User(username=username, display_name=f"{place.name}行业部门", jurisdiction=place,
                                    roles=["department_officer"], password_hash=password_hash()))
        poor = register_household(household_data("沙河村", "网页预警", 2, is_formerly_poor=True), "shahe_cun", clock)
        monitored = register_household(household_data("沙河村", "网页监测", 2), "shahe_cun", clock)
        with transaction():
            db.session.get(Household, monitored.id).status = "monitored"
        web_app.config["ids"] = {"poor": poor.head.id_number, "monitored": monitored.head.id_number}
    return web_app


@pytest.fixture
def client(app):
    return app.test_client()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def _csv(*rows: str, bom: bool = True) -> bytes:
    return "\n".join((HEADER, *rows)).encode("utf-8-sig" if bom else "utf-8")


def _upload(client, data: bytes, name: str = "yibao.csv", department: str = "medical", period: str = "2026-Q3",
            token: bool = True):
    form = {"department": department, "period": period, "file": (io.BytesIO(data), name)}
    if token:
        form["csrf_token"] = csrf_token(client.get("/warnings/upload").get_data(as_text=True))
    return client.post("/warnings/upload", data=form, content_type="multipart/form-data")


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _warnings(app) -> list[DepartmentWarning]:
    with app.app_context():
        rows = db.session.scalars(select(DepartmentWarning).order_by(DepartmentWarning.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _post(client, url: str, data: dict, page_url: str):
    token = csrf_token(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _imported(app, client) -> list[DepartmentWarning]:
    """A Zhanggong medical batch: the formerly-poor person at 5000 (the bound counts) and the monitored one."""
    ids = app.config["ids"]
    login(client, "zg_yibao")
    response = _upload(client, _csv(f"网页预警,{ids['poor']},out_of_pocket,5000,,2026-09-10",
                                    f"网页监测,{ids['monitored']},out_of_pocket,25000,,2026-09-11"))
    assert response.status_code == 302, response.get_data(as_text=True)
    return _warnings(app)


def _ready(app, step: str, place: str = "/36/3607/") -> list[int]:
    """The ids of the ready tasks of a warning diagram's step (wb_split, wb_compare, wv_verify, wr_submit) in
    ``place`` (a path) and below."""
    with app.app_context():
        return list(db.session.scalars(select(HumanTask.id).filter_by(bpmn_id=step, state="READY").where(
            HumanTask.jurisdiction_path.startswith(place)).order_by(HumanTask.id)))


def _do(client, task_id: int, data: dict):
    """Complete a task on its page, as an official would."""
    page = f"/tasks/{task_id}"
    html = client.get(page).get_data(as_text=True)
    version = re.search(r'name="seen_version" value="(\d+)"', html).group(1)
    return client.post(page, data={**data, "seen_version": version, "csrf_token": csrf_token(html)})


def _dispatched(app, client) -> list[DepartmentWarning]:
    _imported(app, client)
    login(client, "zhanggong_xian")
    (task_id,) = _ready(app, "wb_compare")
    assert _do(client, task_id, {"compared_on": "2026-09-20"}).status_code == 302
    return _warnings(app)


# -- refusals -------------------------------------------------------------------------------------


PAGES = ["/warnings", "/warnings/upload", "/warnings/deadlines", "/warnings/ledger", "/warnings/report",
         "/warnings/template.csv"]


def test_every_page_needs_a_login(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/warnings/upload", data={"csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("username", "url"), [
    ("shahe_cun", "/warnings"), ("shahe_cun", "/warnings/upload"), ("zhanggong_xian", "/warnings/upload"),
    ("zg_yibao", "/warnings/ledger"), ("shahe_zhen", "/warnings/ledger"), ("shahe_zhen", "/warnings/deadlines"),
    ("zhanggong_xian", "/warnings/template.csv"),
])
def test_pages_of_other_roles_are_forbidden(client, username, url):
    assert login(client, username).get(url).status_code == 403


def test_steps_of_other_roles_and_places_are_forbidden(app, client):
    _imported(app, client)
    (compare,) = _ready(app, "wb_compare")
    for username in ("shahe_zhen", "zg_yibao", "longkou_shi"):
        login(client, username)
        assert client.get(f"/tasks/{compare}").status_code == 403, username
    login(client, "zhanggong_xian")
    assert _do(client, compare, {"compared_on": "2026-09-20"}).status_code == 302
    (verify,) = _ready(app, "wv_verify")
    for username in ("shuixi_zhen", "zhanggong_xian", "zhuyouguan_zhen"):
        login(client, username)
        assert client.get(f"/tasks/{verify}").status_code == 403, username
    assert {w.status for w in _warnings(app)} == {"dispatched", "already_monitored"}


def test_posts_without_csrf_token_are_refused(app, client):
    _imported(app, client)
    login(client, "zg_yibao")
    assert _upload(client, _csv(f"某人,{OUTSIDER},out_of_pocket,30000,360702101201,2026-09-10"), token=False) \
        .status_code == 400
    login(client, "zhanggong_xian")
    (compare,) = _ready(app, "wb_compare")
    assert client.post(f"/tasks/{compare}", data={"compared_on": "2026-09-20"}).status_code == 400
    assert _count(app, WarningBatch) == 1
    assert {w.status for w in _warnings(app)} == {"at_county"}


def test_other_jurisdictions_are_forbidden(app, client):
    warnings = _dispatched(app, client)
    batch_id = warnings[0].batch_id
    login(client, "longkou_shi")  # county officer of 龙口市
    assert client.get(f"/warnings/batches/{batch_id}").status_code == 403
    assert client.get("/warnings/ledger?j=360702").status_code == 403
    assert client.get("/warnings/report?j=360702").status_code == 403
    assert "网页预警" not in client.get("/warnings/ledger").get_data(as_text=True)
    login(client, "lk_minzheng")
    assert client.get(f"/warnings/batches/{batch_id}").status_code == 403
    assert client.get("/warnings/deadlines?j=360702").status_code == 403
    login(client, "shuixi_zhen")  # another township of 章贡区
    assert "网页预警" not in client.get("/inbox").get_data(as_text=True)


# -- the department uploads ------------------------------------------------------------------------


def test_a_batch_with_a_bad_row_is_refused_whole_with_each_row_and_reason(app, client):
    ids = app.config["ids"]
    login(client, "zg_yibao")
    response = _upload(client, _csv(f"网页预警,{ids['poor']},out_of_pocket,5000,,2026-09-10",
                                    f"外人,{OUTSIDER},out_of_pocket,19999.99,360702101201,2026-09-10",
                                    "坏行,3607021985,out_of_pocket,abc,360702101201,2026-09-10"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "整批数据均未保存" in html
    assert "第 3 行" in html and "其他农村人口 ≥ 20,000 元（含本数 20,000 元）" in html
    assert "第 4 行" in html and "身份证号格式不正确" in html and "金额不是数字：abc" in html
    assert "第 2 行" not in html
    assert _count(app, WarningBatch) == 0 and _count(app, DepartmentWarning) == 0


def test_a_gbk_csv_as_chinese_excel_saves_it_by_default_is_read_as_gbk(app, client):
    """Excel's “CSV（逗号分隔）” on a Chinese Windows is GBK: read as such (GB18030), names and indicator as typed."""
    login(client, "zg_yibao")
    indicator = "年度累计自付医疗费用（经基本医保、大病保险、医疗救助三重保障后）"
    gbk = f"{HEADER}\r\n外人,{OUTSIDER},{indicator},30000,360702101201,2026-09-10\r\n".encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    response = _upload(client, gbk)
    assert response.status_code == 302, response.get_data(as_text=True)
    (warning,) = _warnings(app)
    assert (warning.person_name, warning.indicator, str(warning.amount)) == ("外人", "out_of_pocket", "30000.00")


def test_files_that_are_not_utf8_or_gbk_csv_or_xlsx_are_refused(app, client):
    login(client, "zg_yibao")
    utf16 = f"{HEADER}\n外人,{OUTSIDER},out_of_pocket,30000,360702101201,2026-09-10".encode("utf-16")  # Unicode 文本
    html = _upload(client, utf16).get_data(as_text=True)
    assert "既不是 UTF-8 也不是 GBK 编码的文本：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新上传" in html
    assert "只接受 CSV" in _upload(client, b"x", name="data.xls").get_data(as_text=True)
    assert "不是有效的 Excel" in _upload(client, b"not a zip", name="data.xlsx").get_data(as_text=True)
    assert "表头缺少列" in _upload(client, "姓名,金额\n张三,1".encode()).get_data(as_text=True)
    response = _upload(client, _csv(f"外人,{OUTSIDER},out_of_pocket,30000,360702101201,2026-09-10"), period="2026-09")
    assert response.status_code == 422 and "应为季度，如 2026-Q3" in response.get_data(as_text=True)
    assert _count(app, WarningBatch) == 0


@pytest.mark.parametrize(("department", "user", "period", "starts"), [
    ("medical", "zg_yibao", "2027-Q4", "2027-10-01"),  # quarterly at Zhanggong; today is 2026-09-20
    ("medical", "zg_yibao", "2026-Q4", "2026-10-01"),
    ("medical", "gz_yibao", "2026-10", "2026-10-01"),  # monthly at the city
])
def test_a_batch_for_a_period_that_has_not_started_is_refused_naming_it(app, client, department, user, period,
                                                                          starts):
    """A future period cannot have been screened, and would be filed as pushed on time: refused at its field."""
    login(client, user)
    response = _upload(client, _csv(f"外人,{OUTSIDER},out_of_pocket,30000,360702101201,2026-09-10"),
                       department=department, period=period)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"期间 {period} 无效：尚未开始（{starts} 起），只能推送已开始的期间" in html
    assert _count(app, WarningBatch) == 0 and _count(app, DepartmentWarning) == 0


def test_an_officer_of_no_one_department_chooses_it(app, client):
    html = login(client, "zg_yibao").get("/warnings/upload").get_data(as_text=True)
    select_tag = html[html.index('<select id="department"'):]
    assert "selected" not in select_tag[:select_tag.index("</select>")]


def test_a_good_csv_with_bom_is_imported_and_shown(app, client):
    ids = app.config["ids"]
    login(client, "zg_yibao")
    response = _upload(client, _csv(f"网页预警,{ids['poor']},out_of_pocket,5000,,2026-09-10",
                                    f"外人,{OUTSIDER},out_of_pocket,20000,360702101201,2026-09-10"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/warnings/batches/1")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已导入第 1 批预警数据，共 2 行" in html and "导入 2 行（上传 CSV 文件：" in html  # how, in words
    assert "由 章贡区行业部门 导入" in html and "zg_yibao" not in html  # who, by name (the login: 用户管理)
    assert "网页预警" in html and "360702********0011" in html and OUTSIDER not in html
    listed = client.get("/warnings/deadlines").get_data(as_text=True).split("已推送的批次", 1)[1]
    assert '<td data-label="部门">医保部门</td>' in listed and ">medical<" not in listed
    assert '<span class="hint">章贡区行业部门，章贡区</span>' in listed and "zg_yibao" not in listed
    assert "待县级比对交办" in html and "比对交办" in html
    assert [w.status for w in _warnings(app)] == ["at_county", "at_county"]


def test_an_excel_batch_is_imported_and_a_numeric_id_is_refused(app, client):
    login(client, "zg_yibao")
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "预警指标", "金额", "村代码", "日期"])
    sheet.append(["外人", OUTSIDER, "年度累计自付医疗费用（经基本医保、大病保险、医疗救助三重保障后）", 30000.5,
                  360702101201, datetime(2026, 9, 10)])
    data = io.BytesIO()
    book.save(data)
    response = _upload(client, data.getvalue(), name="yibao.xlsx")
    assert response.status_code == 302, response.get_data(as_text=True)
    (warning,) = _warnings(app)
    assert (warning.indicator, str(warning.amount), warning.detail["date"]) == ("out_of_pocket", "30000.50",
                                                                                "2026-09-10")
    sheet.append(["外人二", 360702198505050038, "out_of_pocket", 30000, 360702101201, datetime(2026, 9, 10)])
    data = io.BytesIO()
    book.save(data)
    html = _upload(client, data.getvalue(), name="yibao.xlsx").get_data(as_text=True)
    assert "身份证号应以文本格式保存" in html and "第 3 行" in html
    assert "已在第 1 批第 2 行导入" in html
    assert _count(app, WarningBatch) == 1


def test_the_template_is_a_utf8_csv_with_bom_whose_example_row_uploads_as_it_is(app, client):
    with app.app_context(), transaction():
        db.session.scalar(select(User).filter_by(username="zg_yibao")).department = "medical"
    response = login(client, "zg_yibao").get("/warnings/template.csv")
    assert response.status_code == 200 and response.data.startswith("\ufeff姓名,身份证号".encode())
    uploaded = _upload(client, response.data)  # (its 5 200.50 元 was below every threshold: refused)
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)
    assert _count(app, WarningBatch) == 1


def test_the_template_downloads_over_http_under_a_chinese_name_of_the_officers_department(app):
    """行业预警导入模板_医保部门.csv as the browser saves it (RFC 6266 filename*, as the other downloads), the header
    latin-1 with an ASCII fallback name; the content the UTF-8 CSV with its BOM."""
    with app.app_context(), transaction():
        db.session.scalar(select(User).filter_by(username="zg_yibao")).department = "medical"
    with serve(app) as base:
        browser = HttpBrowser(base)
        browser.login("zg_yibao", "demo")
        answer = browser.get("/warnings/template.csv")
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/csv")
        disposition = answer.headers["Content-Disposition"]
        assert disposition.startswith('attachment; filename="') and "warning_template" not in disposition
        encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
        assert unquote(encoded) == "行业预警导入模板_医保部门.csv"
        assert answer.read().startswith("\ufeff姓名,身份证号".encode())


def test_an_id_number_with_a_wrong_check_character_is_refused_without_repeating_it(app, client):
    login(client, "zg_yibao")
    mistyped = OUTSIDER[:17] + "2"  # OUTSIDER's check character is 1: the same number with its last one mistyped
    response = _upload(client, _csv(f"外人,{mistyped},out_of_pocket,30000,360702101201,2026-09-10"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "身份证号校验位错误，第 18 位应为 1" in html and mistyped not in html
    assert _count(app, WarningBatch) == 0


def test_a_department_officer_pushes_only_their_own_department(app, client):
    with app.app_context(), transaction():
        db.session.scalar(select(User).filter_by(username="zg_yibao")).department = "medical"
    login(client, "zg_yibao")
    html = client.get("/warnings/upload").get_data(as_text=True)
    assert 'value="medical"' in html and 'value="education"' not in html
    assert '<option value="medical" selected>' in html  # their one department is chosen, not 请选择
    response = _upload(client, _csv(f"外人,{OUTSIDER},self_paid_fees,30000,360702101201,2026-09-10"),
                       department="education", period="2026-09-01")
    assert response.status_code == 403
    assert _count(app, WarningBatch) == 0


def test_push_deadlines_show_the_missing_pushes_after_the_25th(app, client, clock):
    with app.app_context(), transaction():
        open_schedules(clock)
    clock.set(_at("2026-09-25T23:00"))
    login(client, "zg_yibao")
    html = client.get("/warnings/deadlines").get_data(as_text=True)
    assert "2026-Q3" in html and "没有逾期未推送的数据" in html
    clock.set(_at("2026-09-26T09:00"))
    html = client.get("/warnings/deadlines").get_data(as_text=True)
    assert ("医保部门", "2026-Q3", True) in _missing_rows(html)
    assert _upload(client, _csv(f"外人,{OUTSIDER},out_of_pocket,30000,360702101201,2026-09-10")).status_code == 302
    html = client.get("/warnings/deadlines").get_data(as_text=True)
    rows = _missing_rows(html)
    assert ("医保部门", "2026-Q3", True) not in rows and ("民政部门", "2026-Q3", True) in rows
    assert "逾期推送" in html  # the batch came after 09-25 24:00


def _missing_rows(html: str) -> list[tuple[str, str, bool]]:
    """(department, period, overdue by one day) of each row of the missing-push table."""
    section = html.split("各部门各期推送")[0]
    rows = re.findall(r'data-label="部门">([^<]+)</td><td data-label="期间">([^<]+)</td>(.*?)</tr>', section, re.DOTALL)
    return [(dept, period, "已逾期 1 天" in rest) for dept, period, rest in rows]


# -- the city, the county and the township: tasks in their inboxes ---------------------------------


def test_the_city_splits_and_pushes_a_batch_to_the_counties(app, client, clock):
    login(client, "gz_yibao")
    response = _upload(client, _csv(f"外人,{OUTSIDER},out_of_pocket,30000,360702101201,2026-09-10"), period="2026-09")
    assert response.status_code == 302
    assert [w.status for w in _warnings(app)] == ["received"]
    login(client, "ganzhou_shi")
    assert "分解推送到县" in client.get("/inbox?procedure=warning_batch").get_data(as_text=True)
    (split,) = _ready(app, "wb_split")
    assert "外人" in client.get(f"/tasks/{split}").get_data(as_text=True)
    assert _do(client, split, {"pushed_on": "2026-09-20"}).status_code == 302
    assert [w.status for w in _warnings(app)] == ["at_county"]
    login(client, "zhanggong_xian")
    html = client.get("/inbox").get_data(as_text=True)
    assert "比对交办" in html and "医保部门 2026-09 预警数据（章贡区 1 条）" in html


def test_the_county_compares_and_dispatches(app, client):
    _imported(app, client)
    login(client, "zhanggong_xian")
    (compare,) = _ready(app, "wb_compare")
    html = client.get(f"/tasks/{compare}").get_data(as_text=True)
    assert "网页预警" in html and "未纳入监测" in html
    assert "已是监测对象" in html and "记入该户，不交办" in html
    assert _do(client, compare, {"compared_on": "2026-09-20"}).status_code == 302
    poor, monitored = _warnings(app)
    assert (poor.status, monitored.status) == ("dispatched", "already_monitored")
    with app.app_context():
        noted = db.session.scalar(select(AuditEvent).filter_by(action="warning_noted"))
        assert noted.household_id == monitored.household_id
        verification = db.session.get(Case, poor.step_case_id)
        assert verification.procedure == "warning_verification" and verification.due_at == datetime(
            2026, 10, 24, tzinfo=CST)  # 24:00 of the 20th working day after Sunday 09-20
    html = client.get("/warnings/ledger").get_data(as_text=True)
    assert "已交办乡镇核查" in html and "已在监测，已备注" in html and "2026-10-23 24:00" in html
    assert _ready(app, "wb_compare") == []


def test_a_person_noted_in_the_green_channel_is_not_said_to_be_monitored(app, client, clock):
    """The department's batch page and the county's ledger: 吴长林, only in the green channel, reads 绿色通道中，已记入该案;
    only the monitored person reads 已在监测."""
    with app.app_context():
        green = register_household(household_data("沙河村", "网页绿色", 2), "shahe_cun", clock)
        with transaction():
            db.session.get(Household, green.id).status = "green_channel"
        green_id = green.head.id_number
    login(client, "zg_yibao")
    monitored = app.config["ids"]["monitored"]
    assert _upload(client, _csv(f"网页绿色,{green_id},out_of_pocket,25000,,2026-09-11",
                                f"网页监测,{monitored},out_of_pocket,25000,,2026-09-11")).status_code == 302
    login(client, "zhanggong_xian")
    (compare,) = _ready(app, "wb_compare")
    assert _do(client, compare, {"compared_on": "2026-09-20"}).status_code == 302
    batch_id = _warnings(app)[0].batch_id
    for user, page in (("zg_yibao", f"/warnings/batches/{batch_id}"), ("zhanggong_xian", "/warnings/ledger")):
        login(client, user)
        html = client.get(page).get_data(as_text=True)
        cells = re.findall(r'<td data-label="(?:状态|状态与结果)">([^<]+)', html)
        assert sorted(cells) == sorted(["绿色通道中，已记入该案", "已在监测，已备注"]), (page, cells)


def test_a_badly_written_date_is_refused_in_the_same_words_on_the_task_page_and_the_upload(app, client):
    """比对日期 typed as 2026/09/20 on the county's task and a row's date typed as 10.9.2026 in a department's file:
    both say 日期格式应为 年-月-日，如 2026-09-10, never YYYY-MM-DD."""
    _imported(app, client)
    login(client, "zhanggong_xian")
    (compare,) = _ready(app, "wb_compare")
    refused = _do(client, compare, {"compared_on": "2026/09/20"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and DATE_FORMAT in html and "YYYY" not in html
    login(client, "zg_yibao")
    html = _upload(client, _csv(f"外人,{OUTSIDER},out_of_pocket,30000,360702101201,10.9.2026")).get_data(as_text=True)
    assert f"{DATE_FORMAT}：10.9.2026" in html and "YYYY" not in html


def test_the_ledger_filters_by_status_with_the_statuses_labels(app, client):
    """The status filter offers every warning status by its label and lists the warnings in the one chosen; an
    unknown status filters nothing."""
    _dispatched(app, client)
    html = client.get("/warnings/ledger?status=already_monitored").get_data(as_text=True)
    statuses = re.search(r'<select name="status">(.*?)</select>', html, re.DOTALL).group(1)
    options = dict(re.findall(r'<option value="(\w+)" (?:selected)?>([^<]+)</option>', statuses))
    assert options == WarningStatus.labels()
    assert '<option value="already_monitored" selected>已在监测，已备注</option>' in html
    assert "网页监测" in html and "网页预警" not in html
    html = client.get("/warnings/ledger?status=dispatched").get_data(as_text=True)
    assert "网页预警" in html and "网页监测" not in html
    html = client.get("/warnings/ledger?status=no_such_status").get_data(as_text=True)
    assert "网页预警" in html and "网页监测" in html


def test_the_ledger_filters_by_department_chosen_by_its_name(app, client):
    """部门: a choice of the place's departments by their Chinese names (no code to type), the chosen one selected;
    an unknown one filters nothing."""
    _dispatched(app, client)
    html = client.get("/warnings/ledger").get_data(as_text=True)
    select_ = re.search(r'<select name="department">(.*?)</select>', html, re.DOTALL).group(1)
    options = dict(re.findall(r'<option value="(\w*)" ?(?:selected)?>([^<]+)</option>', select_))
    assert options[""] == "全部" and options["medical"] == "医保部门" and options["education"] == "教育部门"
    assert 'name="department" value=' not in html and "如 medical" not in html
    html = client.get("/warnings/ledger?department=medical").get_data(as_text=True)
    assert '<option value="medical" selected>医保部门</option>' in html
    assert "网页预警" in html and "网页监测" in html
    html = client.get("/warnings/ledger?department=education").get_data(as_text=True)
    assert "网页预警" not in html and "没有符合条件的预警" in html
    html = client.get("/warnings/ledger?department=no_such").get_data(as_text=True)
    assert "网页预警" in html


def test_the_township_records_that_the_criteria_are_met(app, client, clock):
    warning = next(w for w in _dispatched(app, client) if w.status == "dispatched")
    clock.set(_at("2026-09-22T10:00"))
    login(client, "shahe_zhen")
    html = client.get("/inbox").get_data(as_text=True)
    assert "入户核查" in html and "网页预警" in html
    (verify,) = _ready(app, "wv_verify")
    assert "网页预警" in client.get(f"/tasks/{verify}").get_data(as_text=True)
    response = _do(client, verify, {"verified_on": "2026-09-22", "outcome": "meets", "reason": "入户核实属实"})
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(select(Case).filter_by(channel="department_warning", procedure="identification"))
        assert case.lead_date == date(2026, 9, 20) and case.household_id == warning.household_id
        assert db.session.get(DepartmentWarning, warning.id).status == "included"


def test_the_township_records_that_the_criteria_are_not_met(app, client):
    warning = next(w for w in _dispatched(app, client) if w.status == "dispatched")
    login(client, "shahe_zhen")
    (verify,) = _ready(app, "wv_verify")
    response = _do(client, verify, {"verified_on": "2026-09-20", "outcome": "not_meets", "reason": ""})
    assert response.status_code == 422 and "不符合纳入条件时须写明理由" in response.get_data(as_text=True)
    assert _do(client, verify, {"verified_on": "2026-09-20", "reason": "x"}).status_code == 422
    response = _do(client, verify, {"verified_on": "2026-09-20", "outcome": "not_meets",
                                    "reason": "收入稳定，费用已由商业保险理赔"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Household, warning.household_id).status == "key_attention"
        assert db.session.get(DepartmentWarning, warning.id).outcome_reason == "收入稳定，费用已由商业保险理赔"
        assert db.session.scalar(select(func.count()).select_from(Case).filter_by(procedure="identification")) == 0
    login(client, "zhanggong_xian")
    assert "列为重点关注户：收入稳定" in client.get("/warnings/ledger").get_data(as_text=True)


def test_overdue_warnings_are_listed_in_the_ledger_and_the_supervisor_view(app, client, clock):
    _dispatched(app, client)
    clock.set(_at("2026-10-24T09:00"))
    login(client, "zhanggong_xian")
    html = client.get("/warnings/ledger").get_data(as_text=True)
    assert "逾期 <small>1 条</small>" in html and "已逾期 1 天" in html
    login(client, "ganzhou_shi")
    assert "已逾期 1 天" in client.get("/warnings/ledger").get_data(as_text=True)
    login(client, "zhanggong_dudao")
    assert "入户核查" in client.get("/supervisor?j=360702101").get_data(as_text=True)


def _report_due(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.search(r'<p class="meta" id="report-due">(.*?)</p>', html,
                                                                   re.DOTALL).group(1))).strip()


def test_the_monthly_report_is_a_task_due_before_the_25th(app, client, clock):
    """000 六（二）4: before the 25th the county reports last month's results. Review 22, finding 10: on 09-20 the
    report page opened on 2026-08 with 上报期限：（本月月报任务尚未开启）— the first report opened was September's,
    so nothing was due. Now a county's first report is last month's (open at once, due 09-25), the next one opens
    when it is made, and the page says what is due."""
    with app.app_context(), transaction():
        open_schedules(clock)
    with app.app_context():
        wake_due(clock.now(), clock)
    (august,) = _ready(app, "wr_submit")
    login(client, "zhanggong_xian")
    html = client.get("/warnings/report").get_data(as_text=True)  # last month's, by default
    assert "2026-08 交办事项核查办理结果" in html and _report_due(html).startswith("上报期限：2026-09-25 24:00 未上报")
    html = client.get("/warnings/report?month=2026-09").get_data(as_text=True)
    assert _report_due(html) == "上报期限：本系统没有 2026-09 的月报任务"  # opened once August's is made
    assert re.search(r'当前应上报：<a href="/warnings/report\?j=360702&amp;month=2026-08">2026-08 交办事项核查办理结果</a>，'
                     r"2026-09-25 24:00 截止", html)
    assert _do(client, august, {"reported_on": "2026-09-20"}).status_code == 302
    _dispatched(app, client)
    assert _ready(app, "wr_submit") == []  # September has not ended
    html = client.get("/warnings/report?month=2026-09").get_data(as_text=True)
    assert _report_due(html) == "上报期限：2026-09 结束后，2026-10-01 开启上报任务" and "当前应上报" not in html
    with app.app_context():
        september = db.session.scalar(select(Case.id).filter_by(reference="warning_report:360702:2026-09"))
    case_page = client.get(f"/cases/{september}").get_data(as_text=True)
    assert "章贡区 2026-09 预警交办事项核查结果月报" in case_page
    assert "发现渠道" not in case_page and "发现日期" not in case_page  # a report has no household to find
    clock.set(_at("2026-10-26T09:00"))
    with app.app_context():
        wake_due(clock.now(), clock)
    login(client, "zhanggong_xian")
    html = client.get("/warnings/report?month=2026-09").get_data(as_text=True)
    assert "2026-09 交办事项核查办理结果" in html and "网页预警" in html and "网页监测" not in html
    assert "2026-10-25 24:00" in html and "未上报 已逾期 1 天" in html
    (report,) = _ready(app, "wr_submit")
    assert _do(client, report, {"reported_on": "2026-10-26"}).status_code == 302
    html = client.get("/warnings/report?month=2026-09").get_data(as_text=True)
    assert "已于 2026-10-26 09:00 由 章贡区乡村振兴局 上报（逾期上报）" in html and "办理上报任务" not in html
    login(client, "ganzhou_shi")
    assert "已于 2026-10-26 09:00" in client.get("/warnings/report?j=360702&month=2026-09").get_data(as_text=True)


def test_the_landing_page_links_each_role_to_its_warning_tasks(app, client):
    _imported(app, client)
    html = login(client, "zhanggong_xian").get("/warnings").get_data(as_text=True)
    step = "procedure=warning_batch&amp;step=%E6%AF%94%E5%AF%B9%E4%BA%A4%E5%8A%9E"  # 比对交办, as its diagram names it
    assert "<strong>比对交办</strong>" in html and step in html
    assert re.search(r'<span class="n">1</span><span>项待办，最早 \d{4}-\d\d-\d\d \d\d:\d\d 截止</span>', html), html
    assert "<strong>分解推送到县</strong>" not in html and "5 个工作日" not in html  # no city step here; no limits in code
    assert "上传预警数据" in login(client, "zg_yibao").get("/warnings").get_data(as_text=True)


def test_the_template_names_the_indicator_in_chinese(app, client):
    with app.app_context(), transaction():
        db.session.scalar(select(User).filter_by(username="zg_yibao")).department = "medical"
    text = login(client, "zg_yibao").get("/warnings/template.csv").data.decode("utf-8-sig")
    assert "年度累计自付医疗费用" in text and "out_of_pocket" not in text
    html = client.get("/warnings/upload").get_data(as_text=True)
    assert "年度累计自付医疗费用（经基本医保、大病保险、医疗救助三重保障后）：" in html
    # finding 21: the department table showed 医保部门（medical） and （代码 out_of_pocket）
    assert "医保部门（medical）" not in html and "（代码 " not in html and "也可填代码" not in html
    assert ">医保部门</td>" in html


def test_an_unknown_indicator_is_refused_offering_the_indicators_by_name(app, client):
    ids = app.config["ids"]
    login(client, "zg_yibao")
    response = _upload(client, _csv(f"网页预警,{ids['poor']},自付费用,5000,,2026-09-10"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "医保部门没有预警指标“自付费用”，可选：“年度累计自付医疗费用（经基本医保、大病保险、医疗救助三重保障后）”" in html
    assert "out_of_pocket" not in html


def test_a_warning_case_has_its_page_and_diagram(app, client):
    _imported(app, client)
    (compare,) = _ready(app, "wb_compare")
    with app.app_context():
        case_id = db.session.get(HumanTask, compare).case_id
    login(client, "zhanggong_xian")
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "医保部门 2026-Q3 预警数据（章贡区 2 条）" in html and "比对交办" in html
    diagram = client.get(f"/cases/{case_id}/diagram.bpmn")
    assert diagram.status_code == 200 and b"warning_batch" in diagram.data
    login(client, "shahe_zhen")
    assert client.get(f"/cases/{case_id}").status_code == 403  # the county's batch, not the township's


def test_a_policy_editor_changes_the_township_limit_in_the_modeler_for_one_county_from_a_date(app, client, clock):
    """The editor opens the verification diagram in the modeler, saves it as 章贡区's own diagram with 15 working
    days, deploys the draft and binds it to 章贡区 from tomorrow: today's dispatch keeps 20, tomorrow's has 15."""
    with app.app_context():
        version = latest_version("warning_verification")
    login(client, "jiangxi_zhengce")
    html = client.get(f"/diagrams/versions/{version.id}/modeler").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    save_url = re.search(r'data-save="([^"]+)"', html).group(1).replace("&amp;", "&")
    xml = client.get(re.search(r'data-xml="([^"]+)"', html).group(1).replace("&amp;", "&")).data
    changed = (xml.decode().replace('working_days_from(warning["dispatched_on"], 20)',
                                    'working_days_from(warning["dispatched_on"], 15)')
               .replace('processRef="warning_verification"', 'processRef="warning_verification_zhanggong"')
               .replace('<bpmn:process id="warning_verification"', '<bpmn:process id="warning_verification_zhanggong"'))
    assert changed.encode() != xml
    saved = client.post(save_url + "&note=章贡区核查时限 15 个工作日", data=changed.encode(),
                        content_type="application/xml", headers={"X-CSRFToken": token})
    assert saved.status_code == 201, saved.get_data(as_text=True)
    draft = f"/diagrams/drafts/{saved.json['draft_id']}"
    deployed = client.post(f"{draft}/deploy", data={"csrf_token": csrf_token(client.get(draft).get_data(as_text=True))})
    assert deployed.status_code == 302, deployed.get_data(as_text=True)
    bound = client.post("/diagrams/bindings", data={
        "procedure": "warning_verification", "process_key": "warning_verification_zhanggong", "jurisdiction": "360702",
        "effective_from": "2026-09-21", "source": "区级通知（示例）",
        "csrf_token": csrf_token(client.get("/diagrams/bindings").get_data(as_text=True))})
    assert bound.status_code == 302
    today = _dispatched(app, client)
    first = next(w for w in today if w.status == "dispatched")
    clock.set(_at("2026-09-21T10:00"))
    login(client, "zg_yibao")
    assert _upload(client, _csv(f"外人,{OUTSIDER},out_of_pocket,30000,360702101201,2026-09-10")).status_code == 302
    login(client, "zhanggong_xian")
    (compare,) = _ready(app, "wb_compare")
    assert _do(client, compare, {"compared_on": "2026-09-21"}).status_code == 302
    with app.app_context():
        second = db.session.scalar(select(DepartmentWarning).filter_by(id_number=OUTSIDER))
        cases = [db.session.get(Case, w.step_case_id) for w in (first, second)]
        assert [c.process_version.process_key for c in cases] == ["warning_verification",
                                                                 "warning_verification_zhanggong"]
        assert [c.due_at for c in cases] == [datetime(2026, 10, 24, tzinfo=CST), datetime(2026, 10, 20, tzinfo=CST)]


def test_a_push_after_an_event_is_a_task_due_working_days_after_it(app, client, clock):
    with app.app_context(), transaction():
        db.session.scalar(select(User).filter_by(username="zg_yibao")).department = "education"
    login(client, "zg_yibao")
    page = client.get("/warnings/deadlines").get_data(as_text=True)
    assert "每年秋季学期开学后 15 个工作日内推送一次" in page
    token = csrf_token(page)
    late = client.post("/warnings/events", data={"department": "education", "event_on": "2026-09-30",
                                                 "csrf_token": token})
    assert "晚于今天" in client.get(late.headers["Location"]).get_data(as_text=True)
    assert client.post("/warnings/events", data={"department": "medical", "event_on": "2026-09-01",
                                                 "csrf_token": token}).status_code == 403  # not my department
    done = client.post("/warnings/events", data={"department": "education", "event_on": "2026-09-01",
                                                 "csrf_token": token})
    assert done.status_code == 302 and "procedure=warning_push" in done.headers["Location"]
    (push,) = [t for t in _ready(app, "wp_push")]
    with app.app_context():
        row = db.session.get(HumanTask, push)
        assert row.due_at == datetime(2026, 9, 22, tzinfo=CST)  # 15 working days after 09-01 (Sunday 09-20 counted)
        assert row.case.department == "education"
    again = client.post("/warnings/events", data={"department": "education", "event_on": "2026-09-01",
                                                  "csrf_token": token})
    assert "已登记" in client.get(again.headers["Location"]).get_data(as_text=True)
    response = _upload(client, _csv(f"外人,{OUTSIDER},self_paid_fees,30000,360702101201,2026-09-10"),
                       department="education", period="2026-09-01")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _ready(app, "wp_push") == []  # the upload did the task


def test_a_page_links_only_to_the_tasks_its_reader_may_do(app, client, clock):
    """A department's case page links its own push task, not another department's (which answers 403); a batch's
    rows link the step a county officer does for that officer, not for the department that pushed it."""
    with app.app_context():
        db.session.scalar(select(User).filter_by(username="zg_yibao")).department = "medical"
        db.session.commit()
        with transaction():
            open_schedules(clock)
        pushes = {t.case.department: (t.case_id, t.id) for t in db.session.scalars(select(HumanTask).where(
            HumanTask.state == "READY", HumanTask.procedure == "warning_push", HumanTask.jurisdiction_path == "/36/3607/360702/"))}
    login(client, "zg_yibao")
    (own_case, own_task), (other_case, other_task) = pushes["medical"], pushes["civil_affairs"]
    assert f'href="/tasks/{own_task}"' in client.get(f"/cases/{own_case}").get_data(as_text=True)
    assert f'href="/tasks/{other_task}"' not in client.get(f"/cases/{other_case}").get_data(as_text=True)
    assert client.get(f"/tasks/{other_task}").status_code == 403  # (what the link led to)

    assert _upload(client, _csv(f"外人,{OUTSIDER},out_of_pocket,30000,360702101201,2026-09-10")).status_code == 302
    with app.app_context():
        comparison = db.session.scalar(select(HumanTask.id).where(HumanTask.state == "READY",
                                                                   HumanTask.procedure == "warning_batch"))
    assert f'href="/tasks/{comparison}"' not in client.get("/warnings/batches/1").get_data(as_text=True)
    county = login(app.test_client(), "zhanggong_xian")
    assert f'href="/tasks/{comparison}"' in county.get("/warnings/batches/1").get_data(as_text=True)
