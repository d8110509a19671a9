"""``fangpin init --admin`` and ``fangpin user …``: a fresh install has no login until its first administrator is
created; that administrator onboards, changes and deactivates officials from a shell."""
from __future__ import annotations

import re

from engine.accounts import users
from engine.app import create_engine_app
from tests.test_cli import fangpin as fangpin  # noqa: PLC0414 — the fixture: `fangpin init` on a database of its own


def _one_time(output: str) -> str:
    return output.strip().splitlines()[-1]  # the only line on standard output


def _login(username: str, password: str):
    with create_engine_app().app_context():
        user = users.login(username, password)
        return user and (user.username, user.roles, user.jurisdiction.code)


def test_a_fresh_install_gets_its_first_administrator_who_onboards_an_official(fangpin):
    assert _login("zhanggong_admin", "demo") is None  # `init` without --demo made no demo logins
    out = fangpin("init", "--admin", "county_it", "--admin-name", "章贡区信息中心", "--admin-jurisdiction", "360702")
    assert "已创建第一位系统管理员" in out
    admin_password = _one_time(out)
    assert _login("county_it", admin_password) == ("county_it", ["administrator"], "360702")
    assert "已有系统管理员" in fangpin("init", "--admin", "another", "--admin-jurisdiction", "360702", ok=False)

    out = fangpin("--as", "county_it", "user", "create", "--username", "shahe_zhen_wang", "--name", "王镇干",
                  "--role", "township_officer", "--jurisdiction", "360702101")
    official_password = _one_time(out)
    assert _login("shahe_zhen_wang", official_password) == ("shahe_zhen_wang", ["township_officer"], "360702101")
    listing = fangpin("--as", "county_it", "user", "list")
    assert re.search(r"shahe_zhen_wang\s+王镇干\s+\S*沙河镇\s+township_officer\s+在用", listing)

    fangpin("--as", "county_it", "user", "change", "shahe_zhen_wang", "--role", "township_officer",
            "--role", "supervisor")
    assert _login("shahe_zhen_wang", official_password)[1] == ["township_officer", "supervisor"]
    fangpin("--as", "county_it", "user", "deactivate", "shahe_zhen_wang", "--reason", "调离")
    assert _login("shahe_zhen_wang", official_password) is None
    again = _one_time(fangpin("--as", "county_it", "user", "reactivate", "shahe_zhen_wang"))
    assert _login("shahe_zhen_wang", again) is not None


def test_refusals_on_the_command_line_name_what_is_wrong(fangpin):
    fangpin("init", "--demo")
    out = fangpin("--as", "zhanggong_xian", "user", "create", "--username", "abc", "--name", "x", "--role",
                  "village_cadre", "--jurisdiction", "360702101201", ok=False)
    assert "不是系统管理员" in out
    out = fangpin("--as", "zhanggong_admin", "user", "create", "--username", "abc", "--name", "x", "--role",
                  "mayor", "--jurisdiction", "370681", ok=False)
    assert "roles: 没有角色 mayor" in out and "jurisdiction: " in out and "不在 江西省赣州市章贡区 辖区内" in out
    assert "请用 --admin-jurisdiction" in fangpin("init", "--admin", "x_y_z", ok=False)
