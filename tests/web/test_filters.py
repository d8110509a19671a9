"""The navigation bar shows a page only to the roles its view admits (web.auth.roles_required)."""
from __future__ import annotations

import re

import pytest

from tests.webclient import login

LINKS = {"/supervisor": "督导", "/diagrams": "流程图库", "/warnings": "行业预警", "/ledger": "台账", "/publicity": "公示公告"}


def _nav_links(client) -> set[str]:
    html = client.get("/inbox").get_data(as_text=True)
    nav = re.search(r"<nav>(.*?)</nav>", html, re.DOTALL).group(1)
    return {href for href in re.findall(r'href="([^"?]+)"', nav) if href in LINKS}


@pytest.mark.parametrize(("user", "shown"), [
    ("shahe_cun", {"/ledger", "/publicity"}),
    ("zhanggong_dudao", {"/supervisor", "/diagrams", "/warnings", "/ledger", "/publicity"}),
    ("jiangxi_zhengce", {"/supervisor", "/diagrams", "/warnings", "/ledger", "/publicity"}),  # also a supervisor
    ("zhanggong_yibao", {"/warnings"}),
])
def test_the_navigation_shows_the_pages_the_users_roles_may_open(client, user, shown):
    links = _nav_links(login(client, user))
    assert links == shown
    for href in LINKS:  # each link shown opens; each left out is refused
        assert (client.get(href).status_code == 200) is (href in shown), href
