"""Issue #15's "Done means", the rest of it: in each seed county, freshly installed (tests/web/fresh_county.py), the
officials its administrators onboard in the browser run every procedure over real HTTP on the production server —
after identifying a household, its monthly follow-up (每月回访) each month, a natural member change (成员自然变更),
risk elimination (风险消除), and the county's request to roll the elimination back (风险消除回退), which goes up to
the city's and the province's review; and the green channel (绿色通道) for another household, which turns into its
identification (opened, its first step with the village cadre). At every step each ready step of every running case
is in the inbox of the one official of its role and place and nobody else's, and nobody else can open it; each
procedure is started on its page (/cases/start/…).

The city and the province review a rollback or removal, and no county administrator can create their officials (an
administrator acts only in their own jurisdiction and below): the province's administrator is created on the command
line, as a fresh install creates its first one (``fangpin init --admin``, allowed for a place that no administrator
covers), and onboards the province's officer and the city's administrator, who onboards the city's officer.

Time: identified in September (START), the household may have its risk eliminated from the second month after
(Jiangxi 001 Q37, policy ``elimination.earliest_month_after_identification``), in November; 帮扶消除 needs half a
year of measures and stable income, which would reach 2027, a year without a holiday calendar yet (README), so the
township proposes 自然消除 (natural elimination, exempt from the half-year rules, 001 Q32)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from tests.web.fresh_county import (
    FLASH_ERROR,
    County,
    Desk,
    Install,
    Official,
    api,
    county,
    first_login,
    get,
    household_id,
    id_number,
    installed,
    member,
    onboard,
    onboard_county,
    open_identification,
    post,
    register,
    server,
)
from tests.webclient import HttpBrowser
from timers.calendar import to_local_date

__all__ = ["county", "installed", "server"]  # the fixtures, from the shared module
pytestmark = pytest.mark.slow  # started first (tests/conftest.py)

ABOVE = {  # county → (province, city): names of the places above it
    "360702": ("江西省", "赣州市"), "370681": ("山东省", "烟台市"), "210321": ("辽宁省", "鞍山市"),
}
ISSUERS = {"360702": "中共赣州市章贡区委农村工作领导小组", "370681": "龙口市扶贫开发领导小组办公室",
           "210321": "台安县乡村振兴局"}  # policy publicity.issuer of each seed county
ELIMINATION = {  # the county's risk elimination, step by step (role, step)
    "360702": (("village_cadre", "民主评议"), ("village_cadre", "张贴村级公示（风险消除）"),
               ("township_officer", "乡镇审核（入户核实收入）"), ("county_officer", "县级审定"),
               ("county_officer", "在各村公告")),
    "370681": (("village_cadre", "民主评议"), ("township_officer", "乡镇审核（入户核实收入）"),
               ("village_cadre", "张贴村级公示（风险消除）"), ("county_officer", "市扶贫办标注致贫风险消除")),
    "210321": (("village_cadre", "民主评议"), ("village_cadre", "农户本人认可"),
               ("village_cadre", "张贴村级公示（风险消除）"), ("township_officer", "乡镇审核（入户核实收入）"),
               ("county_officer", "县级审定"), ("county_officer", "在各村公告")),
}
GREEN_CHANNEL = [("village_cadre", "村级确认突发严重困难"), ("township_officer", "乡镇确认"),
                 ("county_officer", "纳入绿色通道并即时帮扶"), ("county_officer", "一个月内核实是否符合监测对象条件")]
CORRECTION = [("county_officer", "县级书面申请"), ("city_officer", "市级审核"), ("province_officer", "省级审定并报国家局备案")]
VISIT = ("village_cadre", "每月回访")
ERROR = re.compile(r'<p class="error"[^>]*>([^<]{0,300})')


def test_a_fresh_county_runs_every_procedure(county: County, installed, server):
    install, one_time = installed
    admin, officials = onboard_county(server, county, one_time)
    bystanders = [admin, *_onboard_above(install, server, county, admin, officials)]
    cadre, township = officials["village_cadre"], officials["township_officer"]
    region = county.village[:6]

    # identification (the drive of tests/web/test_fresh_county.py), then this month's follow-up visit
    number = register(cadre, county, "一组8号", [member("户主甲", "男", "户主", id_number(region, "19750301", 11)),
                                               member("配偶乙", "女", "配偶", id_number(region, "19780612", 22)),
                                               member("子丙", "男", "子", id_number(region, "20080915", 31))])
    identification = open_identification(cadre, install, number)
    desk = Desk(install, officials, bystanders, [household_id(cadre, identification)])
    household = desk.households[0]
    assert desk.drive(identification)[0] == list(county.steps)
    assert _household(desk)["status"] == "monitored"
    followup = _running(desk, household, "followup")
    assert _visit(desk, followup) == [VISIT]  # September's

    # the green channel, for another household hit by a sudden hardship; it turns into its identification
    other = register(cadre, county, "二组3号", [member("户主丁", "男", "户主", id_number(region, "19690203", 41)),
                                              member("配偶戊", "女", "配偶", id_number(region, "19710405", 52))])
    green = _start(cadre, "green_channel", household=other, hardship="房屋遭洪水冲毁")
    desk.households.append(household_id(cadre, green))
    assert desk.drive(green)[0] == GREEN_CHANNEL
    assert api(cadre, f"/cases/{green}")["case"]["outcome"] == "qualified"
    follow_up = api(cadre, f"/cases/{_running(desk, desk.households[1], 'identification')}")
    assert follow_up["case"]["channel"] == "green_channel" and follow_up["case"]["lead_date"] == install.today()
    assert [(t["role"], t["name"]) for t in follow_up["tasks"] if t["state"] == "READY"] == [county.steps[0]]
    # (its identification runs as the household's above; its first step stays in the village cadre's inbox)

    # a natural member change: a child is born
    change = _start(cadre, "member_change", household=number, changed_on=install.today())
    birth = {"change_type": "birth", "changed_on": install.today(), "proof": "出生医学证明",
             "new_member": {"name": "新生儿", "sex": "女", "relation_to_head": "女", "medical_insurance": True,
                            "lives_with_household": True, "id_number": id_number(region, "20260920", 62)}}
    assert desk.drive(change, {"member_change.json": birth})[0] == [("village_cadre", "登记家庭成员自然变更")]
    assert _household(desk)["size"] == 4

    # the follow-up each month; risk elimination refused in October (the month after the identification) …
    _next_month(desk, followup, 10)
    assert _visit(desk, followup) == [VISIT]
    refused = _refused(township, "elimination", household=number, mode="natural")
    assert "暂不符合风险消除条件" in refused and "✗ 不在识别当月或次月消除" in refused, refused
    _next_month(desk, followup, 11)
    assert _visit(desk, followup) == [VISIT]

    # … and proposed by the township in November: the follow-up ends with it
    elimination = _start(township, "elimination", household=number, mode="natural")
    verified = {"elimination_review.json": {"income": {"household_size": 4, "wages": 40000, "business_income": 6000,
                                                       "property_income": 0, "transfer_income": 1200,
                                                       "business_expenses": 1200}}}
    assert desk.drive(elimination, verified)[0] == list(ELIMINATION[county.code])
    assert _household(desk)["status"] == "eliminated"
    assert api(cadre, f"/cases/{followup}")["case"]["status"] == "completed"

    # the county asks to roll it back: the city reviews, the province approves; the follow-up starts again
    correction = _start(officials["county_officer"], "correction", household=number, kind="rollback")
    assert desk.drive(correction)[0] == CORRECTION
    places = {t["name"]: t["jurisdiction"]["code"] for t in api(cadre, f"/cases/{correction}")["tasks"]}
    assert places == {"县级书面申请": county.code, "市级审核": county.city, "省级审定并报国家局备案": county.province}
    assert _household(desk)["status"] == "monitored"
    restarted = _running(desk, household, "followup")
    assert restarted != followup
    desk.check_inboxes(desk.running_cases())  # its visit is the village cadre's

    # every notice to the household names its county's authority (policy publicity.issuer)
    cases = [c["id"] for c in api(cadre, f"/households/{household}")["cases"]]
    notices = [n for c in cases for n in api(cadre, f"/cases/{c}")["notices"]]
    assert {"防返贫监测对象纳入告知", "风险消除告知", "监测对象信息变更告知"} <= {n["title"] for n in notices}
    assert all(n["body"].endswith(ISSUERS[county.code]) for n in notices), notices
    assert ISSUERS[county.code] in get(cadre, f"/cases/{elimination}").text


def _onboard_above(install: Install, server: str, county: County, county_admin: HttpBrowser,
                   officials: dict[str, HttpBrowser]) -> list[HttpBrowser]:
    """The city's and province's officers of a rollback's review: the county's administrator may not create them;
    the province's administrator, created on the command line, onboards the province's officer and the city's
    administrator, who onboards the city's officer. Returns the two administrators' browsers."""
    province, city = ABOVE[county.code]
    refused = post(county_admin, "/admin/users/new", [("username", "city_li"), ("display_name", "李市干"),
                                                      ("jurisdiction", county.city), ("roles", "city_officer")])
    assert refused.status == 400 and "不在" in refused.text and "辖区内" in refused.text, refused.text[:2000]
    one_time = install.first_administrator("province_it", f"{province}信息中心", county.province)
    province_admin = first_login(server, "province_it", one_time, "province-it-2026")
    officials["province_officer"] = onboard(server, province_admin, Official(
        "province_officer", "province_xu", "徐省干", county.province))
    city_admin = onboard(server, province_admin, Official("administrator", "city_it", f"{city}信息中心", county.city))
    officials["city_officer"] = onboard(server, city_admin, Official("city_officer", "city_li", "李市干", county.city))
    return [province_admin, city_admin]


def _start(browser: HttpBrowser, procedure: str, **values: str) -> int:
    """Start ``procedure`` for a household on its page (/cases/start/…): the new case's id."""
    answer = post(browser, f"/cases/start/{procedure}", list(values.items()))
    case = re.search(r"/cases/(\d+)$", answer.url)
    assert case and "已" in answer.text, (answer.status, answer.url, FLASH_ERROR.findall(answer.text),
                                         ERROR.findall(answer.text))
    return int(case.group(1))


def _refused(browser: HttpBrowser, procedure: str, **values: str) -> str:
    answer = post(browser, f"/cases/start/{procedure}", list(values.items()))
    assert answer.status == 422 and answer.url.endswith(f"/cases/start/{procedure}"), (answer.status, answer.url)
    return answer.text


def _household(desk: Desk, index: int = 0) -> dict[str, Any]:
    return api(desk.viewer, f"/households/{desk.households[index]}")


def _running(desk: Desk, household: int, procedure: str) -> int:
    (case,) = [c["id"] for c in api(desk.viewer, f"/households/{household}")["cases"]
               if c["procedure"] == procedure and c["status"] == "running"]
    return case


def _visit(desk: Desk, followup: int) -> list[tuple[str, str]]:
    """This month's visit of the follow-up, done: the follow-up then waits for the next month."""
    done, wakes = desk.drive(followup, until=lambda d: not any(t["state"] == "READY" for t in d["tasks"]))
    assert wakes == 0 and api(desk.viewer, f"/cases/{followup}")["waiting_until"], done
    return done


def _next_month(desk: Desk, followup: int, month: int) -> None:
    """The follow-up's visit of ``month``, ready: unless the clock already passed the start of the month (the other
    procedures' waiting moved it), it moves there and the follow-up's timer fires."""
    running = desk.running_cases()
    if not any(t["state"] == "READY" for t in running[followup]["tasks"]):
        desk.wake(running, min(datetime.fromisoformat(w["due_at"]) for w in running[followup]["waiting_until"]))
    assert to_local_date(desk.install.clock.now()).month == month
