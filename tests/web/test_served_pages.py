"""The pages an official opens, answered through a real HTTP server on a loopback port (not only the test client):
key attention, the policy check (with its publicity list sources), the inbox with its filters and sorts, the
administrator's user list, the pending announcement list, the campaign pages, the warnings landing page, a
procedure's start page with the limits in force, the modeler's choices, and the API's JSON answer to a path it does
not have."""
from __future__ import annotations

import json

import pytest

from tests.webclient import HttpBrowser, serve


@pytest.mark.parametrize(("username", "path", "text"), [
    ("shahe_cun", "/households/attention", "重点关注户"),
    ("jiangxi_zhengce", "/diagrams/policy-check", "公示公告名单来源"),
    ("shahe_zhen", "/inbox?sort=household&claimed=unclaimed&procedure=identification", "我的待办"),
    ("zhanggong_xian", "/inbox?q=%E5%BC%A0&sort=created", "我的待办"),
    ("zhanggong_admin", "/admin/users?q=shahe", "用户管理"),
    ("zhanggong_xian", "/publicity/zhanggong_a10_approval_announcement?j=360702&pending=1", "公告"),
    ("zhanggong_xian", "/campaigns/county", "年度信息采集和集中排查进度"),
    ("shahe_zhen", "/campaigns", "年度"),
    ("zhanggong_xian", "/warnings", "行业预警"),
    ("shahe_cun", "/cases/start/poverty_policy", "村级公示（5天）"),  # the hint says the limits in force
    ("zhanggong_dudao", "/diagrams/policy-check", "公示公告名单来源"),
])
def test_the_page_answers_over_http(web_app, username: str, path: str, text: str) -> None:
    with serve(web_app) as base:
        browser = HttpBrowser(base)
        assert browser.login(username, "demo").status == 200
        answer = browser.get(path)
        page = answer.read().decode()
        assert answer.status == 200 and text in page, page[:500]
        assert answer.headers["Content-Type"].startswith("text/html")


def test_the_modelers_choices_answer_over_http(web_app) -> None:
    with serve(web_app) as base:
        browser = HttpBrowser(base)
        assert browser.login("jiangxi_zhengce", "demo").status == 200
        answer = browser.get("/diagrams/modeler/choices")
        choices = json.loads(answer.read().decode())
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("application/json")
        assert "member_change.json" in [f["file"] for f in choices["forms"]]
        assert any(fn["name"] == "working_days_from" and fn["label"] for fn in choices["functions"])


def test_the_api_answers_a_path_it_does_not_have_in_json_over_http(web_app) -> None:
    with serve(web_app) as base:
        browser = HttpBrowser(base)
        assert browser.login("shahe_cun", "demo").status == 200
        for path in ("/api", "/api/no-such-thing"):
            answer = browser.get(path)
            body = json.loads(answer.read().decode())
            assert answer.status == 404 and answer.headers["Content-Type"].startswith("application/json"), path
            assert body["error"], path


TECHNICAL = ("fangpin ", "processes/", "policy/", "sha256", "（medical）", "（代码 ", "COLLECT", "FIRST")


@pytest.mark.parametrize(("username", "path"), [
    ("jiangxi_zhengce", "/diagrams"),
    ("jiangxi_zhengce", "/diagrams/policy-check"),
    ("jiangxi_zhengce", "/diagrams/versions/1"),
    ("zhanggong_dudao", "/diagrams/policy-check"),
    ("zhanggong_xian", "/warnings/deadlines"),
    ("zhanggong_yibao", "/warnings/upload"),
    ("zhanggong_yibao", "/warnings/deadlines"),
])
def test_officials_read_no_commands_paths_or_codes_over_http(web_app, username: str, path: str) -> None:
    """Finding 21: the library said processes/ 目录 and COLLECT, the policy check fangpin policy check and
    policy/publicity_fields.json, the push deadlines fangpin warnings schedule, the warning upload 医保部门（medical）
    and （代码 out_of_pocket）."""
    import html
    import re

    with serve(web_app) as base:
        browser = HttpBrowser(base)
        assert browser.login(username, "demo").status == 200
        answer = browser.get(path)
        page = answer.read().decode()
    shown = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", page, flags=re.DOTALL)))
    assert answer.status == 200 and [t for t in TECHNICAL if t in shown] == []
