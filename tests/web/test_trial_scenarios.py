"""The draft page's trial run: scenarios of the draft's process chosen from a list, 保存为场景 (policy editors,
CSRF, refused with nothing saved), the output with dates and step names as officials read them, at the top of the
page and focused."""
from __future__ import annotations

import html as markup
import io

from sqlalchemy import func, select

from engine.core.config import project_dir
from engine.core.db import db
from engine.core.models import TrialScenario
from tests.webclient import HttpBrowser, csrf_token, login, serve

SHIPPED = (project_dir("processes") / "scenarios" / "identification.json").read_text(encoding="utf-8")


def _draft(editor) -> int:
    token = csrf_token(editor.get("/diagrams").get_data(as_text=True))
    content = (project_dir("processes") / "identification.bpmn").read_bytes()
    created = editor.post("/diagrams/upload", data={"csrf_token": token, "action": "draft", "note": "",
                                                    "diagram": (io.BytesIO(content), "identification.bpmn")},
                          content_type="multipart/form-data")
    return int(created.headers["Location"].rsplit("/", 1)[1])


def _kept(web_app) -> list[tuple[str, str, str]]:
    with web_app.app_context():
        return [(s.process_key, s.name, s.saved_by) for s in db.session.scalars(select(TrialScenario).order_by(TrialScenario.id))]


def test_a_scenario_is_chosen_from_the_list_tried_and_the_result_is_on_top(editor, web_app):
    draft_id = _draft(editor)
    page = editor.get(f"/diagrams/drafts/{draft_id}").get_data(as_text=True)
    assert '<select id="scenario-choice" name="scenario">' in page
    assert "示例：村级受理至县级信息比对（identification；系统自带；2026-09-20 09:00）" in page
    assert 'id="result"' not in page  # nothing tried yet
    with web_app.app_context():
        shipped_id = db.session.scalar(select(TrialScenario.id))
    loaded = editor.get(f"/diagrams/drafts/{draft_id}?scenario={shipped_id}").get_data(as_text=True)
    textarea = loaded[loaded.index('<textarea name="scenario"'):loaded.index("</textarea>")]
    assert markup.unescape(textarea.split(">", 1)[1]) == SHIPPED  # loaded into the textarea, exactly
    assert f'<option value="{shipped_id}" selected>' in loaded

    tried = editor.post(f"/diagrams/drafts/{draft_id}/try",
                        data={"csrf_token": csrf_token(loaded), "scenario": SHIPPED})
    html = tried.get_data(as_text=True)
    assert tried.status_code == 200
    result = html.index('<div id="result" class="result" role="status" aria-live="polite" tabindex="-1" autofocus>')
    assert result < html.index("<dl class=\"facts\">") < html.index('<h2>试运行</h2>')  # above the draft and the form
    table = html[result:html.index("</table>", result)]
    assert "2026-10-03（周六）" in table  # 公示期满: 24:00 of 10-03, not 2026-10-04T00:00:00+08:00
    assert "2026-09-20 09:00" in table and ">2026-10-04T" not in table
    assert '<span title="函数 assess_household">测算收入并比对监测范围</span>' in table
    assert ">assess_household<" not in table and ">record_outcome<" not in table
    assert f'action="/diagrams/drafts/{draft_id}/try#result"' in html

    checked = editor.get(f"/diagrams/drafts/{draft_id}?check=1").get_data(as_text=True)
    assert checked.index('id="result"') < checked.index('<dl class="facts">')
    assert "校验通过" in checked[checked.index('id="result"'):checked.index('<dl class="facts">')]


def test_save_as_scenario_keeps_it_for_the_process_and_refuses_what_could_not_run(editor, web_app, clock):
    draft_id = _draft(editor)
    page = f"/diagrams/drafts/{draft_id}"
    token = csrf_token(editor.get(page).get_data(as_text=True))
    saved = editor.post(f"{page}/scenarios", data={"csrf_token": token, "scenario": SHIPPED,
                                                    "scenario_name": "乡镇抽查后县级审定"})
    assert saved.status_code == 302
    assert _kept(web_app)[-1] == ("identification", "乡镇抽查后县级审定", "jiangxi_zhengce")
    with web_app.app_context():
        new_id = db.session.scalar(select(func.max(TrialScenario.id)))
    assert saved.headers["Location"].endswith(f"{page}?scenario={new_id}#result")
    listed = editor.get(saved.headers["Location"]).get_data(as_text=True)
    assert "已保存场景“乡镇抽查后县级审定”" in listed
    assert "乡镇抽查后县级审定（identification；江西省政策管理员；2026-09-20 09:00）" in listed

    before = _kept(web_app)
    broken = editor.post(f"{page}/scenarios", data={"csrf_token": token, "scenario": '{"start": 1',
                                                     "scenario_name": "坏的"})
    text = broken.get_data(as_text=True)
    assert broken.status_code == 422 and "未保存场景：场景不是有效的 JSON：第 1 行" in text
    assert text.index('id="result"') < text.index('<dl class="facts">')
    assert '{&#34;start&#34;: 1' in text  # what was typed stays in the textarea
    unnamed = editor.post(f"{page}/scenarios", data={"csrf_token": token, "scenario": SHIPPED, "scenario_name": ""})
    assert unnamed.status_code == 422 and "请填写场景名称" in unnamed.get_data(as_text=True)
    assert editor.post(f"{page}/scenarios", data={"scenario": SHIPPED, "scenario_name": "无令牌"}).status_code == 400
    cadre = login(web_app.test_client(), "shahe_cun")
    cadre_token = csrf_token(cadre.get("/inbox").get_data(as_text=True))
    assert cadre.post(f"{page}/scenarios", data={"csrf_token": cadre_token, "scenario": SHIPPED,
                                                  "scenario_name": "村里的"}).status_code == 403
    supervisor = login(web_app.test_client(), "zhanggong_dudao")
    assert supervisor.get(page).status_code == 403
    assert _kept(web_app) == before  # nothing saved on any refusal


def test_a_scenario_is_saved_and_listed_over_http(editor, web_app):
    draft_id = _draft(editor)
    page = f"/diagrams/drafts/{draft_id}"
    with serve(web_app) as base:
        browser = HttpBrowser(base)
        assert browser.login("jiangxi_zhengce", "demo").status == 200
        answer = browser.post(f"{page}/scenarios", [("scenario", SHIPPED), ("scenario_name", "经服务器保存")], page=page)
        html = answer.read().decode()
        assert answer.status == 200 and f"{page}?scenario=" in answer.geturl() and "已保存场景“经服务器保存”" in html
        assert "经服务器保存（identification；江西省政策管理员；" in html
    assert _kept(web_app)[-1] == ("identification", "经服务器保存", "jiangxi_zhengce")
