"""The pages an official opens, answered through a real HTTP server on a loopback port (not only the test client):
key attention, the policy check, the inbox with its filters and sorts, and the administrator's user list."""
from __future__ import annotations

import pytest

from tests.webclient import HttpBrowser, serve


@pytest.mark.parametrize(("username", "path", "text"), [
    ("shahe_cun", "/households/attention", "重点关注户"),
    ("jiangxi_zhengce", "/diagrams/policy-check", "配置检查"),
    ("shahe_zhen", "/inbox?sort=household&claimed=unclaimed&procedure=identification", "我的待办"),
    ("zhanggong_xian", "/inbox?q=%E5%BC%A0&sort=created", "我的待办"),
    ("zhanggong_admin", "/admin/users?q=shahe", "用户管理"),
])
def test_the_page_answers_over_http(web_app, username: str, path: str, text: str) -> None:
    with serve(web_app) as base:
        browser = HttpBrowser(base)
        assert browser.login(username, "demo").status == 200
        answer = browser.get(path)
        page = answer.read().decode()
        assert answer.status == 200 and text in page, page[:500]
        assert answer.headers["Content-Type"].startswith("text/html")
