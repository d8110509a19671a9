"""农户批量导入 in the browser, through the real HTTP server: the template download, a file with problems (each listed
by row and column, nothing written, no full ID number), a good one (its counts), a wrong file type, a file over the
size limit, and who may import."""
from __future__ import annotations

import io
import re
from urllib.parse import unquote

from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.core.db import db
from engine.core.id_numbers import FORM_PROBLEM
from engine.core.models import AuditEvent, Case, Household, Member
from engine.households.importing import columns
from tests.households.import_files import (
    CATEGORY,
    FORMERLY_POOR,
    ID,
    IDENTIFIED_ON,
    MEASURED,
    RISKS,
    SEX,
    as_csv,
    as_xlsx,
    household,
)
from tests.webclient import HttpBrowser, serve

PAGE = "/households/import"


def _counts(web_app) -> tuple[int, int, int, int]:
    with web_app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Household, Member, AuditEvent, Case))


def _logged_in(base: str, username: str = "zhanggong_xian") -> HttpBrowser:
    browser = HttpBrowser(base)
    browser.login(username, "demo")
    return browser


def test_the_template_downloads_as_an_xlsx_file_with_the_registration_forms_columns(web_app):
    with serve(web_app) as base:
        browser = _logged_in(base)
        page = browser.get(PAGE).read().decode()
        assert 'href="/households/import/template.xlsx"' in page and 'enctype="multipart/form-data"' in page
        answer = browser.get("/households/import/template.xlsx")
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        disposition = answer.headers["Content-Disposition"]
        assert disposition.startswith("attachment; filename=")
        encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
        assert unquote(encoded) == "农户导入模板.xlsx"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        book = load_workbook(io.BytesIO(answer.read()))
        assert [cell.value for cell in book.worksheets[0][1]] == [c.title for c in columns()]
        assert "填写说明" in book.sheetnames


def test_a_file_with_problems_lists_each_by_row_and_column_and_writes_nothing(web_app):
    rows = household("网页甲", 2) + [{**household("网页乙", 1)[0], ID: household("x", 1)[0][ID][:-1] + "Z"}]
    rows += [{**household("网页丙", 1)[0], SEX: "未知"}, {**household("网页丁", 1)[0], ID: rows[0][ID]}]
    before = _counts(web_app)
    with serve(web_app) as base:
        answer = _logged_in(base).upload(PAGE, [], [("file", "乡镇农户.csv", as_csv(rows))])
        html = answer.read().decode()
    assert answer.status == 422 and "未导入：文件有 3 处错误" in html and "未导入任何农户" in html
    for row, column, reason in ((4, "身份证号（A7）", FORM_PROBLEM), (5, "性别（A6）", "取值应为 男、女 之一"),
                                (6, "身份证号（A7）", "与第 2 行的身份证号相同")):
        assert re.search(rf"第 {row} 行</td><td[^>]*>{re.escape(column)}</td><td[^>]*>{re.escape(reason)}", html), row
    assert rows[0][ID] not in html  # the repeated ID number is named by its row, never shown
    assert _counts(web_app) == before


def test_a_good_file_is_imported_and_its_counts_shown(web_app):
    monitored = {FORMERLY_POOR: "是", CATEGORY: "脱贫不稳定户", IDENTIFIED_ON: "2025-03-01", RISKS: "因病、因学", **MEASURED}
    rows = household("网页户甲", 3) + household("网页户乙", 2, **monitored) + [{**household("网页户丙", 1)[0], "备注": "x"}]
    with serve(web_app) as base:
        browser = _logged_in(base)
        checked = browser.upload(PAGE, [("dry_run", "1")], [("file", "农户.xlsx", as_xlsx(rows))]).read().decode()
        assert "校验通过（未写入）" in checked
        with web_app.app_context():
            assert db.session.scalar(select(Member).filter_by(name="网页户甲")) is None
        answer = browser.upload(PAGE, [], [("file", "农户.xlsx", as_xlsx(rows))])
        html = answer.read().decode()
    assert answer.status == 200 and "已导入" in html
    assert "3 户（1 个村）" in html and "6 人" in html and "1 户，已开始每月回访" in html and "备注" in html
    with web_app.app_context():
        head = db.session.scalar(select(Member).filter_by(name="网页户乙"))
        assert head.household.status == "monitored" and len(head.household.members) == 2
        entry = db.session.scalar(select(AuditEvent).filter_by(action="households_imported"))
        assert entry.actor == "zhanggong_xian" and entry.detail["file"] == "农户.xlsx"


def test_a_wrong_file_type_and_no_file_are_refused_in_words(web_app):
    before = _counts(web_app)
    with serve(web_app) as base:
        browser = _logged_in(base)
        answer = browser.upload(PAGE, [], [("file", "农户.xls", b"\xd0\xcf\x11\xe0 old excel")])
        assert answer.status == 422 and "只接受 CSV（UTF-8）或 Excel（.xlsx）文件" in answer.read().decode()
        answer = browser.upload(PAGE, [], [("file", "农户.xlsx", b"PK not really")])
        assert answer.status == 422 and "不是有效的 Excel（.xlsx）文件" in answer.read().decode()
        answer = browser.upload(PAGE, [], [])
        assert answer.status == 422 and "请选择要导入的 Excel（.xlsx）或 CSV（UTF-8）文件" in answer.read().decode()
    assert _counts(web_app) == before


def test_a_file_over_the_size_limit_is_refused_saying_the_limit(web_app):
    web_app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    with serve(web_app) as base:
        browser = _logged_in(base)
        assert "文件不超过 0.1 MB" in browser.get(PAGE).read().decode()
        answer = browser.upload(PAGE, [], [("file", "大文件.csv", b"x" * (100 * 1024))])
        assert answer.status == 413 and "提交的内容过大" in answer.read().decode()


def test_without_the_csrf_token_nothing_is_imported(web_app):
    import urllib.request

    before = _counts(web_app)
    with serve(web_app) as base:
        browser = _logged_in(base)
        boundary = "b0undary"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'.encode()
                + as_csv(household("无令牌", 1)) + f"\r\n--{boundary}--\r\n".encode())
        request = urllib.request.Request(base + PAGE, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        answer = _send(browser, request)
        assert answer.status == 400
    assert _counts(web_app) == before


def _send(browser: HttpBrowser, request):
    import urllib.error

    try:
        return browser.opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        return error


def test_only_those_who_register_households_see_the_page(web_app):
    with serve(web_app) as base:
        assert _logged_in(base, "zhanggong_dudao").get(PAGE).status == 403
        assert _logged_in(base, "zhanggong_dudao").get("/households/import/template.xlsx").status == 403
        village = _logged_in(base, "shahe_cun")
        assert village.get(PAGE).status == 200
        assert "批量导入农户" in village.get("/cases").read().decode()


def test_an_imported_monitored_household_says_it_was_identified_outside_fangpin(web_app):
    """Where a household's identification would be named — its information form, its follow-up's case page, the
    API — an imported monitored household says 系统外识别（导入） and the file; one identified in fangpin does not."""
    monitored = {FORMERLY_POOR: "是", CATEGORY: "脱贫不稳定户", IDENTIFIED_ON: "2025-03-01", RISKS: "因病", **MEASURED}
    with serve(web_app) as base:
        browser = _logged_in(base)
        browser.upload(PAGE, [], [("file", "国家系统.csv", as_csv(household("外识户", 2, **monitored)))])
        with web_app.app_context():
            imported = db.session.scalar(select(Member).filter_by(name="外识户")).household
            followup = db.session.scalar(select(Case).filter_by(household_id=imported.id))
            household_id, case_id = imported.id, followup.id
        form = browser.get(f"/households/{household_id}/form").read().decode()
        assert "识别纳入 2025-03-01（系统外识别（导入）：国家系统.csv" in form and "由 zhanggong_xian 导入" in form
        assert re.search(r"产业帮扶</[^>]+>\s*<[^>]+>种植业<", form) and re.search(r"健康帮扶</[^>]+>\s*<[^>]+>医疗救助<", form)
        case_page = browser.get(f"/cases/{case_id}").read().decode()
        assert "识别日期 2025-03-01（系统外识别（导入）：国家系统.csv）" in case_page
        answer = browser.get(f"/api/households/{household_id}")
        import json

        data = json.loads(answer.read())
        assert data["identified_outside"]["source"] == "国家系统.csv" and data["identified_outside"]["by"] == "zhanggong_xian"
        assert data["status"] == "monitored" and [c["procedure"] for c in data["cases"]] == ["followup"]
