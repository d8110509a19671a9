"""Issue #15's "Done means", walked through over real HTTP for each seed county: a county installs fangpin on an empty
database (``fangpin init --admin``, no demo data and no demo login), starts the production server (``fangpin run``:
gunicorn), its administrator logs in with the one-time password printed by the install and chooses their own,
onboards the officials its identification procedure needs (a village cadre, a township officer, a county officer),
each of whom sets their own password; the village cadre registers a household and opens its identification, and
each official completes their own ready steps on the task pages — the test moving the server's clock (a file) past
the publicity and firing due timers with ``fangpin wake`` — until the household is monitored. At every step each
ready step is in the inbox of the one official of its role and nobody else's, and another official cannot open it.

The monitoring line (监测范围): the policy shipped with fangpin has lines for the seed documents' years only (2021,
Jiangxi 2023), so a county installing it today loads its province's published line for this year
(``fangpin policy load``) after ``fangpin policy check`` named it missing (the test at the end)."""
from __future__ import annotations

import json
import sqlite3

import pytest

from tests.web.fresh_county import (
    START,
    Desk,
    api,
    county,
    get,
    household_id,
    id_number,
    installed,
    load_line,
    member,
    new_install,
    onboard_county,
    open_identification,
    register,
    server,
)

__all__ = ["county", "installed", "server"]  # the fixtures, from the shared module
pytestmark = pytest.mark.slow  # started first (tests/conftest.py)


# -- the walkthrough --------------------------------------------------------------------------------------------


def test_a_fresh_county_onboards_its_officials_who_identify_a_household(county, installed, server):
    install, one_time = installed
    # 1. the administrator (the printed one-time password, then their own) onboards the officials
    admin, officials = onboard_county(server, county, one_time)
    assert set(officials) == {o.role for o in county.officials}

    # 2. the village cadre registers a household and opens its identification
    cadre = officials["village_cadre"]
    region = county.village[:6]
    number = register(cadre, county, "一组8号", [member("户主甲", "男", "户主", id_number(region, "19750301", 11)),
                                               member("配偶乙", "女", "配偶", id_number(region, "19780612", 22)),
                                               member("子丙", "男", "子", id_number(region, "20080915", 31))])
    case_id = open_identification(cadre, install, number)

    # 3. each official completes their own ready steps; the clock moves past each waiting period
    desk = Desk(install, officials, [admin], [household_id(cadre, case_id)])
    done, wakes = desk.drive(case_id)
    assert done == list(county.steps)
    assert wakes == 1  # the village publicity (村级公示) ended when its days were over

    detail = api(cadre, f"/cases/{case_id}")
    assert detail["case"]["status"] == "completed" and detail["case"]["outcome"] == "identified", detail["case"]
    by_role = {o.role: o.username for o in county.officials}
    assert all(t["completed_by"] == by_role[t["role"]] for t in detail["tasks"] if t["state"] == "COMPLETED")
    monitored = api(cadre, f"/households/{detail['case']['household']['id']}")
    assert monitored["status"] == "monitored" and monitored["category"], monitored
    assert monitored["identified_on"]
    page = get(cadre, f"/cases/{case_id}").text
    assert "已办结" in page and "纳入监测" in page


# -- the policy as shipped -------------------------------------------------------------------------------------


def test_the_configuration_check_of_a_fresh_install_names_a_missing_monitoring_line(tmp_path):
    install = new_install(tmp_path)
    done = install.fangpin("init", "--admin", "county_it", "--admin-jurisdiction", "360702")
    assert done.returncode == 0, done.stderr
    check = install.fangpin("policy", "check", "--jurisdiction", "360702")
    assert check.returncode == 1
    assert f"江西省 没有 {START.year} 年的监测范围" in check.stdout and "识别纳入" in check.stdout
    load_line(install, "36", 7800)
    check = install.fangpin("policy", "check", "--jurisdiction", "360702")
    assert check.returncode == 0 and "各地各程序均已配置" in check.stdout, check.stdout + check.stderr
    with sqlite3.connect(install.db_path) as connection:
        (detail,) = connection.execute("SELECT detail FROM audit_event WHERE action = 'policy_loaded'").fetchone()
    assert json.loads(detail)["added"] == 1
