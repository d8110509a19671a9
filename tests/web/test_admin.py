"""User administration in the browser (web.admin, /password): a county administrator onboards an official who
then must choose their own password; a leaver is logged out at once; administrators see and change only their
jurisdiction; the one-time password is shown once and never cached. The onboarding runs through a real HTTP
server on a loopback port."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.core.db import db
from engine.core.models import User
from tests.timers.calendar_lines import DAYS_OFF_2027, SAVED_HOLIDAYS_2027
from tests.webclient import HttpBrowser, login, post_form, serve


def _password(html: str) -> str:
    match = re.search(r'<code id="one-time-password">([^<]+)</code>', html)
    assert match, "the page shows no one-time password"
    return match.group(1)


def test_a_county_administrator_onboards_a_village_cadre_who_sets_their_own_password(web_app):
    with serve(web_app) as base:
        admin = HttpBrowser(base)
        admin.login("zhanggong_admin", "demo")
        form = admin.get("/admin/users/new").read().decode()
        assert "村干部（村两委）" in form and "江西省赣州市章贡区沙河镇沙河村" in form
        assert "山东省" not in form  # only places of the administrator's own jurisdiction are offered
        answer = admin.post("/admin/users/new", [("username", "shahe_cun_li"), ("display_name", "李明"),
                                                 ("jurisdiction", "360702101201"), ("roles", "village_cadre")])
        assert answer.headers["Cache-Control"] == "no-store"
        password = _password(answer.read().decode())

        cadre = HttpBrowser(base)
        after_login = cadre.login("shahe_cun_li", password)
        assert after_login.geturl().startswith(base + "/password")  # must choose their own password first
        assert cadre.get("/inbox").geturl().startswith(base + "/password")
        done = cadre.post("/password", [("current", password), ("new", "shahe-li-2026"), ("again", "shahe-li-2026")])
        assert done.geturl().startswith(base + "/inbox") and "李明" in done.read().decode()
        assert HttpBrowser(base).login("shahe_cun_li", "shahe-li-2026").geturl().startswith(base + "/inbox")

        listing = admin.get("/admin/users?q=shahe_cun_li").read().decode()
        assert "李明" in listing and "在用" in listing and password not in listing
        history = admin.get("/admin/users/shahe_cun_li").read().decode()
        assert "创建用户" in history and "本人修改密码" in history and password not in history


def test_a_bad_form_names_each_field_and_creates_nothing(web_app, client):
    login(client, "zhanggong_admin")
    answer = post_form(client, "/admin/users/new", {"username": "X Y", "display_name": "", "jurisdiction": ""})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    for message in ("登录名须为", "请填写姓名或单位", "请至少选择一个角色", "请选择所在行政区划"):
        assert message in page
    assert 'aria-describedby="hint-username err-username"' in page and 'aria-describedby="err-display_name"' in page
    with web_app.app_context():
        assert db.session.scalar(select(User).filter_by(username="X Y")) is None


def test_a_role_of_another_level_than_the_place_is_refused_on_the_form_and_creates_nothing(web_app, client):
    login(client, "zhanggong_admin")
    answer = post_form(client, "/admin/users/new", {"username": "zg_sheng", "display_name": "县里的省干部",
                                                    "jurisdiction": "360702", "roles": "province_officer"})
    assert answer.status_code == 400
    assert "省级乡村振兴部门办理省的任务，不能设在县（江西省赣州市章贡区）：请选择省一级的辖区" in answer.get_data(as_text=True)
    with web_app.app_context():
        assert db.session.scalar(select(User).filter_by(username="zg_sheng")) is None


def test_a_deactivated_official_is_logged_out_at_the_next_request(web_app, client):
    cadre = web_app.test_client()
    login(cadre, "shahe_cun")
    assert cadre.get("/inbox").status_code == 200
    login(client, "zhanggong_admin")
    answer = post_form(client, "/admin/users/shahe_cun/deactivate", {"reason": "调离"},
                       page_url="/admin/users/shahe_cun")
    assert answer.status_code == 302
    assert "已停用" in client.get("/admin/users/shahe_cun").get_data(as_text=True)
    assert cadre.get("/inbox").headers["Location"].startswith("/login")
    refused = post_form(cadre, "/login", {"username": "shahe_cun", "password": "demo"})
    assert refused.status_code == 401


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/users/shahe_cun"])
def test_only_administrators_open_user_administration(client, path):
    login(client, "zhanggong_xian")  # a county officer, not an administrator
    assert client.get(path).status_code == 403


def test_an_administrator_cannot_open_an_official_of_another_county(client):
    login(client, "zhanggong_admin")
    assert client.get("/admin/users/zhuyouguan_cun").status_code == 403
    assert client.get("/admin/users/nobody_here").status_code == 404
    assert post_form(client, "/admin/users/zhuyouguan_cun/password", {}, page_url="/admin/users").status_code == 403


def test_a_password_reset_shows_a_new_one_time_password_once(web_app, client):
    login(client, "zhanggong_admin")
    answer = post_form(client, "/admin/users/shahe_zhen/password", {}, page_url="/admin/users/shahe_zhen")
    password = _password(answer.get_data(as_text=True))
    assert answer.headers["Cache-Control"] == "no-store"
    official = web_app.test_client()
    assert post_form(official, "/login", {"username": "shahe_zhen", "password": "demo"}).status_code == 401
    assert post_form(official, "/login", {"username": "shahe_zhen", "password": password}).status_code == 302
    assert official.get("/inbox").headers["Location"].startswith("/password")


def test_the_navigation_shows_user_administration_to_administrators_only(client, web_app):
    login(client, "zhanggong_admin")
    assert "用户管理" in client.get("/admin/users").get_data(as_text=True)
    other = web_app.test_client()
    login(other, "shahe_cun")
    assert "用户管理" not in other.get("/inbox").get_data(as_text=True)


def test_an_administrator_sees_missing_holiday_data_and_computes_provisional_deadlines_again(
        web_app, clock, tmp_path, monkeypatch):
    """工作日历 through a real server: from November the administrator's pages warn that next year's holiday data
    is missing; the calendar page lists the provisional deadlines of their jurisdiction; once the year is in the
    override file (no restart), computing again moves the deadline that the new data changes."""
    import json
    from datetime import UTC, datetime

    from engine.core.models import CaseDeadline
    from tests.factories import FICTITIOUS_2027, provisional_task_deadline
    from timers.calendar import OVERRIDE_ENV_VAR, reset_default_calendar

    override = tmp_path / "calendar_override.json"
    override.write_text(json.dumps({"years": {}}), encoding="utf-8")
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(override))
    reset_default_calendar()
    clock.set(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    with web_app.app_context():
        _, deadline_id = provisional_task_deadline(clock, "2026-12-03", "甲")
    with serve(web_app) as base:
        admin = HttpBrowser(base)
        inbox = admin.login("zhanggong_admin", "demo").read().decode()
        assert "还没有 2027 年的节假日/调休数据" in inbox and str(override) in inbox
        cadre = HttpBrowser(base)
        assert "2027 年的节假日" not in cadre.login("shahe_cun", "demo").read().decode()  # administrators only
        assert cadre.get("/admin/calendar").status == 403

        page = admin.get("/admin/calendar").read().decode()
        assert "运行中的暂定期限 <small>1 个</small>" in page and "2004–2026" in page and "暂定" in page
        override.write_text(json.dumps(FICTITIOUS_2027, ensure_ascii=False), encoding="utf-8")
        done = admin.post("/admin/calendar/recompute", [], page="/admin/calendar").read().decode()
        assert "1 个期限改变了截止日" in done and "运行中的暂定期限 <small>0 个</small>" in done
        assert "2004–2027" in done and "还没有 2027 年" not in done
    with web_app.app_context():
        assert db.session.get(CaseDeadline, deadline_id).due_at.isoformat() == "2027-01-04T16:00:00+00:00"
    reset_default_calendar()


HOLIDAYS_2027 = SAVED_HOLIDAYS_2027  # FICTITIOUS (tests.timers.calendar_lines): not the real 2027 notice
WORKDAYS_2027 = "2027-02-14 春节调休上班"


@pytest.fixture
def empty_override(tmp_path, monkeypatch):
    """A temporary, empty override file configured through the environment (the repository's is never touched)."""
    import json

    from timers.calendar import OVERRIDE_ENV_VAR, reset_default_calendar

    (tmp_path / "calendar").mkdir()  # a directory of its own (made read-only below), not the database's
    override = tmp_path / "calendar" / "calendar_override.json"
    override.write_text(json.dumps({"_comment": ["说明"], "years": {}}, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(override))
    reset_default_calendar()
    yield override
    reset_default_calendar()


def _year_fields(year: str, source: str, holidays: str, workdays: str) -> list[tuple[str, str]]:
    return [("year", year), ("source", source), ("holidays", holidays), ("workdays", workdays)]


def test_an_administrator_enters_next_years_holiday_arrangement_in_the_browser(web_app, clock, empty_override):
    """录入下一年节假日安排 through a real server: refused to a non-administrator; a wrong line is shown again
    with what was typed and the error, nothing written; the saved year is in the coverage, audited, and a working-day
    deadline into it computes instead of being refused."""
    from datetime import UTC, datetime

    from engine.core.models import AuditEvent
    from timers.calendar import CalendarDataMissing, default_calendar

    clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    with pytest.raises(CalendarDataMissing):
        default_calendar().add_working_days("2026-12-04", 20)
    with serve(web_app) as base:
        cadre = HttpBrowser(base)
        cadre.login("zhanggong_xian", "demo")  # a county officer, not an administrator
        assert cadre.post("/admin/calendar/year", _year_fields("2027", "x", HOLIDAYS_2027, ""),
                          page="/inbox").status == 403

        admin = HttpBrowser(base)
        admin.login("zhanggong_admin", "demo")
        page = admin.get("/admin/calendar").read().decode()
        assert "录入下一年节假日安排" in page and '<option value="2027" selected>2027</option>' in page

        before = empty_override.read_bytes()
        wrong = admin.post("/admin/calendar/year", _year_fields("2027", "虚构通知", HOLIDAYS_2027 + "\n2027-02-30 春节",
                                                                WORKDAYS_2027), page="/admin/calendar")
        shown = wrong.read().decode()
        assert wrong.status == 422
        assert '<p class="error" id="err-holidays">第 8 行“2027-02-30 春节”：日期不存在' in shown
        assert "2027-10-01~2027-10-07 国庆节\n2027-02-30 春节</textarea>" in shown and 'value="虚构通知"' in shown
        assert empty_override.read_bytes() == before

        done = admin.post("/admin/calendar/year", _year_fields("2027", "虚构通知（测试）", HOLIDAYS_2027, WORKDAYS_2027),
                          page="/admin/calendar")
        page = done.read().decode()
        assert done.geturl() == base + "/admin/calendar"
        assert f"已保存 2027 年节假日安排：放假 {DAYS_OFF_2027} 天，调休上班 1 天" in page and "重新计算本辖区的暂定期限" in page
        assert "<dd>2004–2027</dd>" in page and "虚构通知（测试）" in page
        corrected = admin.get("/admin/calendar?year=2027").read().decode()
        assert f"{HOLIDAYS_2027}</textarea>" in corrected  # the saved year, to correct it

    deadline = default_calendar().add_working_days("2026-12-04", 20)
    assert deadline.last_day.isoformat() == "2027-01-04"
    with web_app.app_context():
        [entry] = db.session.scalars(select(AuditEvent).filter_by(action="calendar_year_saved")).all()
        assert (entry.actor, entry.at) == ("zhanggong_admin", clock.now())
        assert entry.detail["year"] == 2027 and entry.detail["source"] == "虚构通知（测试）"
        assert (entry.detail["days_off"], entry.detail["working_days"]) == (DAYS_OFF_2027, 1)
        assert entry.detail["data_version"] == deadline.data_version


@pytest.mark.parametrize(("holidays", "workdays", "field", "message"), [
    ("2026-10-01 国庆节", "", "holidays",
     "第 1 行“2026-10-01 国庆节”：2026-10-01 不在 2027 年内，请改正日期"),
    (HOLIDAYS_2027, "2027-01-04 调休", "workdays",
     "第 1 行“2027-01-04 调休”：2027-01-04 是星期一，本来就上班；调休上班日只能是星期六或星期日"),
    ("2027-01-01 元旦", "", "holidays", "缺少春节、清明节、劳动节、端午节、中秋节、国庆节的放假日期，没有保存"),
])
def test_a_year_with_a_day_outside_it_a_weekday_worked_or_a_festival_missing_is_refused_over_http(
        web_app, empty_override, holidays, workdays, field, message):
    """The reviewer's three entries: each refused at its field naming the line or the festivals, the override file
    untouched and the year still not covered."""
    before = empty_override.read_bytes()
    with serve(web_app) as base:
        admin = HttpBrowser(base)
        admin.login("zhanggong_admin", "demo")
        answer = admin.post("/admin/calendar/year", _year_fields("2027", "国办发明电〔2026〕7号", holidays, workdays),
                            page="/admin/calendar")
        page = answer.read().decode()
    assert answer.status == 422
    assert f'<p class="error" id="err-{field}">{message}' in page and "<dd>2004–2026</dd>" in page
    assert empty_override.read_bytes() == before


def test_the_calendar_page_keeps_the_file_and_data_version_in_a_collapsed_block_for_the_it_staff(
        web_app, empty_override):
    """Finding 21: the page put the override file's server path, the data version (chinesecalendar … sha256:…) and
    the command fangpin calendar coverage among what the administrator reads; they are in a collapsed 技术信息
    block now, and the rest of the page names neither."""
    import html
    import re

    from timers.calendar import default_calendar

    with serve(web_app) as base:
        admin = HttpBrowser(base)
        admin.login("zhanggong_admin", "demo")
        page = admin.get("/admin/calendar").read().decode()
    block = re.search(r'<details class="calendar-data">\s*<summary>技术信息（供系统运维人员）</summary>(.*?)</details>',
                      page, re.DOTALL)
    assert block and "<details" not in block.group(1)
    technical = (str(empty_override), default_calendar().data_version, "fangpin calendar coverage")
    assert all(t in html.unescape(block.group(1)) for t in technical)
    rest = html.unescape(re.sub(r"<[^>]+>", " ", page.replace(block.group(0), "")))  # what the page shows
    assert [t for t in (*technical, "sha256", "chinesecalendar", "fangpin ") if t in rest] == []


def test_a_year_that_may_not_be_entered_is_refused(web_app, client, empty_override):
    login(client, "zhanggong_admin")
    answer = post_form(client, "/admin/calendar/year", dict(zip(("year", "source", "holidays", "workdays"),
                                                                ("2031", "虚构", "2031-01-01 元旦", ""), strict=True)),
                       page_url="/admin/calendar")
    assert answer.status_code == 422
    assert "不能录入 2031 年：只能录入第一个还没有数据的年份 2027" in answer.get_data(as_text=True)
    assert '"years": {}' in empty_override.read_text(encoding="utf-8")


def test_an_unwritable_override_file_is_refused_naming_it_and_nothing_is_audited(web_app, client, empty_override):
    from engine.core.models import AuditEvent
    from tests.timers.test_calendar_years import read_only_directory

    login(client, "zhanggong_admin")
    before = empty_override.read_bytes()
    fields = {"year": "2027", "source": "虚构", "holidays": HOLIDAYS_2027, "workdays": WORKDAYS_2027}
    with read_only_directory(empty_override.parent):
        answer = post_form(client, "/admin/calendar/year", fields, page_url="/admin/calendar")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert f"无法写入工作日历覆盖文件 {empty_override}" in page and "FANGPIN_CALENDAR_OVERRIDE" in page
    assert f"{HOLIDAYS_2027}</textarea>" in page  # what was typed, to save once the file is writable
    assert empty_override.read_bytes() == before
    with web_app.app_context():
        assert db.session.scalars(select(AuditEvent).filter_by(action="calendar_year_saved")).all() == []


def test_a_year_saved_meanwhile_by_another_administrator_is_not_overwritten_unawares(web_app, client, empty_override):
    """Two administrators open the form; the second to save is told the file changed, keeps what they typed, and
    overwrites only by saving again."""
    from tests.webclient import csrf_token

    login(client, "zhanggong_admin")
    form = client.get("/admin/calendar").get_data(as_text=True)
    seen = re.search(r'name="seen_version" value="([^"]+)"', form).group(1)
    other = web_app.test_client()
    login(other, "zhanggong_admin")
    fields = {"year": "2027", "source": "虚构", "holidays": HOLIDAYS_2027, "workdays": WORKDAYS_2027}
    assert post_form(other, "/admin/calendar/year", fields, page_url="/admin/calendar").status_code == 302
    theirs = empty_override.read_bytes()

    corrected = HOLIDAYS_2027.replace("2027-02-05~2027-02-13", "2027-02-06~2027-02-12")
    mine = {**fields, "holidays": corrected, "workdays": "", "seen_version": seen, "csrf_token": csrf_token(form)}
    answer = client.post("/admin/calendar/year", data=mine)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "在您打开本页之后已被修改" in page and f"{corrected}</textarea>" in page
    assert empty_override.read_bytes() == theirs
    again = re.search(r'name="seen_version" value="([^"]+)"', page).group(1)
    assert client.post("/admin/calendar/year", data={**mine, "seen_version": again}).status_code == 302
    assert empty_override.read_bytes() != theirs


def test_a_department_officer_is_created_with_the_department_they_belong_to(web_app, client):
    login(client, "zhanggong_admin")
    assert '<option value="medical" >医保部门</option>' in client.get("/admin/users/new").get_data(as_text=True)
    fields = {"username": "zg_yibao_er", "display_name": "章贡区医保局二", "jurisdiction": "360702",
              "roles": "department_officer"}
    missing = post_form(client, "/admin/users/new", fields)
    page = missing.get_data(as_text=True)
    assert missing.status_code == 400 and '<p class="error" id="err-department">行业部门人员须选择所属行业部门</p>' in page
    assert post_form(client, "/admin/users/new", {**fields, "department": "medical"}).status_code == 200
    with web_app.app_context():
        assert db.session.scalar(select(User.department).filter_by(username="zg_yibao_er")) == "medical"
