"""配置检查 (engine.policy.check): every place of the seeds can start every procedure with the shipped policy
data; a parameter removed is named by the check, the command (exit 1) and the page, and refused when a case
starts; every parameter the shipped policy gives a procedure is one the check knows, and an optional rule a place
has not set is said, not failed; the green channel and natural member changes run in Anshan (台安县) and Longkou
(龙口市)."""
from __future__ import annotations

import json
import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import delete, select

from engine.cases import functions, lifecycle
from engine.cases.lifecycle import complete_task, open_green_channel, open_identification, open_member_change
from engine.cli import main
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import PolicyMissing
from engine.core.id_numbers import with_check_character
from engine.core.models import Case, HumanTask, Jurisdiction, Notice, PolicyParameter, User
from engine.core.transaction import transaction
from engine.core.vocabulary import Procedure
from engine.demo import drive_case
from engine.elimination import eligibility
from engine.households.register import register_household
from engine.identification import comparison, exclusions
from engine.policy.check import (
    OPTIONAL_BY_CODE,
    OPTIONAL_FOR_EVERY_PROCEDURE,
    PUBLICITY,
    READ_BY_CODE,
    _code_of,
    _policy_names,
    check,
    gaps,
    optional_not_set,
    places_to_check,
    procedures_to_check,
    requirements,
)
from engine.policy.parameters import shipped_parameters
from tests.bdd.officials import household_data
from tests.bdd.steps import end_of
from tests.factories import password_hash
from tests.webclient import login

TODAY = date(2026, 9, 20)  # the clock fixture's day
SEED_COUNTIES = {"360702": "章贡区", "370681": "龙口市", "210321": "台安县"}
MARK = "按 001 配置，待当地确认"


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def _remove(code: str, key: str) -> None:
    with transaction():
        db.session.execute(delete(PolicyParameter).where(PolicyParameter.key == key,
                                                         PolicyParameter.jurisdiction_id == _place(code).id))


# -- the shipped data ----------------------------------------------------------------------------------------


def test_every_seed_place_can_start_every_procedure(app):
    results = check(TODAY)
    assert {r.place.code for r in results} == set(SEED_COUNTIES)
    assert {r.procedure for r in results} == {*Procedure.labels(), PUBLICITY}
    assert [(r.place.name, r.procedure, r.missing) for r in gaps(results)] == []
    versions = {(r.place.code, r.procedure): r.version.process_key for r in results if r.version}
    assert versions[("210321", "green_channel")] == versions[("370681", "green_channel")] == "green_channel"
    assert versions[("210321", "member_change")] == versions[("370681", "member_change")] == "member_change"
    assert versions[("370681", "identification")] == "identification_longkou"
    assert versions[("360702", "identification")] == "identification"  # 001 (江西省2023年指南)
    assert versions[("210321", "identification")] == "identification_anshan"  # 000 三(二)


def test_the_values_of_the_seed_places_and_what_they_cite(app):
    for code in ("210321100201", "370681104201"):
        village = _place(code)
        assert requirements("green_channel", village, TODAY).values["verification_months"] == 1  # 001 Q29
        assert requirements("member_change", village, TODAY).values["limit_months"] == 3  # 001 Q20
    anchors = {code: requirements("identification", _place(code), TODAY).values["income_window_anchor"]
               for code in SEED_COUNTIES}  # 001 Q10 识别纳入月份 (Anshan: as 001); 003 发现月份
    assert anchors == {"360702": "identification_month", "370681": "discovery_month", "210321": "identification_month"}
    assert requirements("identification", _place("360702"), date(2022, 3, 1)).values["income_window_anchor"] == \
        "identification_month"  # 002 收入指标说明: 以识别月份上一个月倒推上一年
    issuers = {code: requirements(PUBLICITY, _place(code), TODAY).values["issuer"] for code in SEED_COUNTIES}
    assert issuers == {"360702": "中共赣州市章贡区委农村工作领导小组", "370681": "龙口市扶贫开发领导小组办公室",
                       "210321": "台安县乡村振兴局"}


def test_zhanggong_2021_starts_on_the_times_002_sets_and_no_overall_limit(app):
    """002 sets no overall limit for the 七步工作法 (001 Q42's 15 days is Jiangxi's from 2023 on): its two
    7-day publicities alone end on the 16th day."""
    found = requirements("identification", _place("360702101201"), date(2022, 3, 1))
    assert found.ok and found.version.process_key == "identification_zhanggong_2021"
    assert "limit_days" not in found.values
    assert "assistance_plan_days" not in found.values  # 001 Q27's 10 days for plan and publicity: 002 puts a 7-day
    # announcement before the plan and a 7-day publicity after it, and gives the plan no time of its own
    days = ("verification_days", "village_publicity_days", "township_publicity_days", "announcement_days",
            "measures_publicity_days")  # 002 四(一)、(二)、(四)、(六)、(七)
    assert [found.values[k] for k in days] == [10, 7, 7, 7, 7]


def test_every_value_cites_its_seed_and_a_value_borrowed_from_001_says_so():
    rows = json.loads((project_dir("policy") / "parameters.json").read_text(encoding="utf-8"))["parameters"]
    for row in rows:
        source = row.get("source", "")
        assert re.search(r"00[0-4]", source) or "种子文件" in source, row
        if not row["jurisdiction"].startswith("36") and "001" in source:  # outside Jiangxi, 001 is borrowed
            assert MARK in source or re.search(r"按 001 .*配置，待.*确认", source), row


def test_the_engine_reads_the_elimination_parameters_the_check_lists():
    assert {f"elimination.{name}" for name in READ_BY_CODE["elimination"]} == {eligibility.ASSISTANCE_MONTHS,
                                                                                eligibility.EARLIEST_MONTH}


def test_the_engine_reads_the_identification_parameters_the_check_lists():
    assert {f"identification.{name}" for name in READ_BY_CODE["identification"]} == {functions.INCOME_WINDOW_ANCHOR,
                                                                                     exclusions.EXCLUSION_SET,
                                                                                     lifecycle.LATE_LEAD_KEY}
    assert {f"identification.{name}" for name in OPTIONAL_BY_CODE["identification"]} == {comparison.REUSE_MONTHS}


def _read_by_shipped_diagrams() -> set[str]:
    names: set[str] = set()
    for path in sorted(project_dir("processes").glob("*.bpmn")):
        for code in _code_of(etree.parse(str(path)).getroot()):
            names |= set().union(*_policy_names(code))
    return names


def test_every_parameter_the_shipped_policy_gives_a_procedure_is_one_the_check_knows():
    """Its binding, a parameter a shipped diagram reads (the check names the diagram), or one the engine's code
    reads, which the check describes in Chinese — needed (READ_BY_CODE) or a rule a place may have
    (OPTIONAL_BY_CODE, OPTIONAL_FOR_EVERY_PROCEDURE). identification.comparison_reuse_months (001 Q43) and the
    yearly campaign's dates were none of these."""
    read, unknown, outside = _read_by_shipped_diagrams(), set(), set()
    procedures = {*Procedure.labels(), PUBLICITY}
    for key in {row["key"] for row in shipped_parameters(project_dir("policy"))}:
        area, _, name = key.partition(".")
        described = {**READ_BY_CODE.get(area, {}), **OPTIONAL_BY_CODE.get(area, {}), **OPTIONAL_FOR_EVERY_PROCEDURE}
        if area not in procedures:
            outside.add(area)
        elif name != "process" and name not in read and name not in described:
            unknown.add(key)
    assert unknown == set()
    assert outside == {"dates", "monitoring", "warning"}  # no procedure's: not the check's
    descriptions = [text for table in (READ_BY_CODE, OPTIONAL_BY_CODE) for named in table.values()
                    for text in named.values()] + list(OPTIONAL_FOR_EVERY_PROCEDURE.values())
    assert all(re.search(r"[\u4e00-\u9fff]{4}", text) for text in descriptions), descriptions


def test_a_rule_a_place_has_not_set_is_said_with_what_it_is_and_is_no_gap(app):
    """001 Q43's comparison reuse is 江西's, and so is the citation of 问答第37条 after the month rule of elimination:
    龙口 (003) and 台安县 (000) have no such rule, and can start every procedure."""
    results = check(TODAY)
    assert not gaps(results)
    absent = [(o.found.place.code, o.key) for o in optional_not_set(results)]
    assert absent == [(code, key) for code in ("210321", "370681")
                      for key in (comparison.REUSE_MONTHS, "elimination.earliest_month_basis")]
    said, _ = [str(o) for o in optional_not_set(check(TODAY, _place("370681")))]
    assert said == ("未配置可选参数 identification.comparison_reuse_months（信息比对：排查识别时点前几个月内已开展过信息比对的"
                    "低保对象、分散供养特困人员等，可共用比对结果、不重复比对（001 第43问：三个月）），即当地没有此规定")


def test_a_place_without_its_income_window_rule_cannot_start_an_identification(app, clock):
    _remove("370681", "identification.income_window_anchor")
    missing = {r.procedure: r.missing for r in gaps(check(TODAY, _place("370681")))}
    assert missing == {"identification": (
        "没有配置政策参数 identification.income_window_anchor（收入计算时间的起算月份：识别纳入月份或发现月份）",)}
    household = register_household(household_data("诸由观村", "缺期户", 2), "zhuyouguan_cun", clock)
    with pytest.raises(PolicyMissing, match="不能开始识别纳入：没有配置政策参数 identification.income_window_anchor"):
        open_identification(household.id, "self_application", TODAY, "zhuyouguan_cun", clock)
    assert db.session.scalar(select(Case).filter_by(household_id=household.id)) is None


def test_a_diagram_reads_a_parameter_unguarded_or_optionally():
    assert _policy_names('publicity = {"days": policy["village_publicity_days"]}') == ({"village_publicity_days"}, set())
    code = 'months_from(d, policy["verification_months"]) if "verification_months" in policy else None'
    assert _policy_names(code) == ({"verification_months"}, {"verification_months"})
    assert _policy_names('not policy.get("household_consent")') == (set(), {"household_consent"})
    assert _policy_names("政策 policy 说明（不是代码") == (set(), set())


def test_places_below_a_county_are_checked_where_they_have_parameters_of_their_own(app):
    assert [p.code for p in places_to_check(_place("37"))] == ["370681"]
    assert [p.code for p in places_to_check(_place("370681104201"))] == ["370681104201"]
    with transaction():
        db.session.add(PolicyParameter(jurisdiction=_place("360702101"), key="member_change.limit_months", value=2,
                                       effective_from=date(2026, 1, 1), source="测试"))
    assert [p.code for p in places_to_check(_place("36"))] == ["360702", "360702101"]
    assert "member_change" in procedures_to_check()


# -- a parameter removed ---------------------------------------------------------------------------------------


def test_a_removed_parameter_is_named_and_the_case_is_refused(app, clock):
    _remove("2103", "green_channel.process")
    _remove("21", "identification.village_publicity_days")
    _remove("21", "elimination.assistance_months")
    _remove("210321", "publicity.issuer")
    missing = {r.procedure: r.missing for r in gaps(check(TODAY, _place("21")))}
    assert missing == {
        "green_channel": ("没有配置政策参数 green_channel.process（流程绑定）",),
        "identification": ("没有配置政策参数 identification.village_publicity_days（流程 identification_anshan 第 1 版使用）",),
        "elimination": ("没有配置政策参数 elimination.assistance_months（风险消除条件：帮扶措施落实和收入稳定的最少月数）",),
        PUBLICITY: ("没有配置政策参数 publicity.issuer（县级公告的落款机关）",),
    }
    assert not gaps(check(TODAY, _place("370681")))  # 龙口市 is not touched
    household = register_household(household_data("新华村", "缺参户", 2), "xinhua_cun", clock)
    with pytest.raises(PolicyMissing, match="辽宁省鞍山市台安县台安镇新华村 在 2026-09-20 不能开始绿色通道：没有配置政策参数 "
                                            "green_channel.process"):
        open_green_channel(household.id, "xinhua_cun", clock)
    assert db.session.scalar(select(Case).filter_by(household_id=household.id)) is None


def test_a_binding_to_a_process_never_deployed_or_a_missing_version(app):
    with transaction():
        db.session.add(PolicyParameter(jurisdiction=_place("370681"), key="member_change.process", value="no_such",
                                       effective_from=date(2026, 9, 1), source="测试"))
        db.session.add(PolicyParameter(jurisdiction=_place("210321"), key="member_change.process",
                                       value="member_change@7", effective_from=date(2026, 9, 1), source="测试"))
    missing = {r.place.code: r.missing for r in gaps(check(TODAY))}
    pinned = "流程绑定 member_change.process = member_change@7：流程 member_change 没有第 7 版（绑定 member_change@7）"
    assert missing == {"370681": ("流程绑定 member_change.process = no_such：流程 no_such 尚未部署",),
                       "210321": (pinned,)}


@pytest.fixture
def fangpin(tmp_path: Path, monkeypatch):
    db_file = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_file}")
    monkeypatch.setenv("FANGPIN_CLOCK", "demo")
    monkeypatch.setenv("FANGPIN_INSTANCE", str(tmp_path))
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    run("init")
    run("clock", "advance", "--to", "2026-09-20T09:00")
    lines = tmp_path / "lines.json"  # this year's monitoring lines, as each province publishes them
    lines.write_text(json.dumps({"monitoring_lines": [{"province": code, "year": 2026, "amount": 7500,
                                                       "source": "测试"} for code in ("36", "37", "21")]}))
    run("policy", "load", str(lines))
    run.db_file = db_file
    return run


def test_the_command_says_all_is_configured_or_lists_what_is_missing(fangpin):
    assert "各地各程序均已配置（2026-09-20，检查了 3 个辖区）" in fangpin("policy", "check")
    with sqlite3.connect(fangpin.db_file) as connection:
        connection.execute("DELETE FROM policy_parameter WHERE key = 'member_change.process' AND jurisdiction_id = "
                           "(SELECT id FROM jurisdiction WHERE code = '370681')")
    out = fangpin("policy", "check", code=1)
    assert ("山东省烟台市龙口市（370681）  家庭成员自然变更（member_change）：没有配置政策参数 member_change.process"
            "（流程绑定）") in out
    assert "1 项程序不能开始（检查了 3 个辖区）" in out and "章贡区" not in out
    # a publicity list whose source step Longkou's diagrams lack is named, without failing the check
    assert "提示：山东省烟台市龙口市（370681）  zhanggong_a10_approval_announcement：名单取自识别纳入中表单为 " \
           "county_approval.json 的步骤，山东省烟台市龙口市现行的流程 identification_longkou 第 1 版中没有该步骤" in out
    assert "zhanggong_a07_township_review_list" not in out  # no township publicity there: no gap (001 Q42)
    assert "可选：山东省烟台市龙口市（370681）  识别纳入：未配置可选参数 identification.comparison_reuse_months（信息比对：" in out
    assert "各地各程序均已配置" in fangpin("policy", "check", "--jurisdiction", "210321")
    assert "comparison_reuse_months" not in fangpin("policy", "check", "--jurisdiction", "360702")  # 江西's rule
    assert "member_change.process" in fangpin("policy", "check", "--jurisdiction", "370681104201", code=1)
    assert "没有代码为 99 的行政区划" in fangpin("policy", "check", "--jurisdiction", "99", code=2)
    assert "各地各程序均已配置" in fangpin("policy", "check", "--on", "2026-09-20", "--jurisdiction", "36")


def test_the_page_lists_what_is_missing(web_app, client):
    login(client, "jiangxi_zhengce")
    html = client.get("/diagrams/policy-check").get_data(as_text=True)
    assert "各地各程序均已配置" in html and "江西省赣州市章贡区" in html and "龙口市" not in html  # its own area
    assert "公示公告名单来源" in html and "各名单的来源步骤在各地现行流程中都有" in html
    assert "可选规定" in html and "各地都配置了系统读取的可选规定" in html  # 江西 has 001 Q43's rule
    assert "配置检查" in client.get("/diagrams").get_data(as_text=True)  # in the policy pages' menu
    with web_app.app_context():
        _remove("36", "green_channel.process")
    html = client.get("/diagrams/policy-check").get_data(as_text=True)
    assert "1 项程序不能开始" in html and "没有配置政策参数 green_channel.process（流程绑定）" in html
    assert "绿色通道" in html and "缺少配置" in html
    with web_app.app_context(), transaction():
        db.session.add(User(username="shandong_dudao", display_name="山东省督导", roles=["supervisor"],
                            password_hash=password_hash(),
                            jurisdiction=db.session.scalar(select(Jurisdiction).filter_by(code="37"))))
    html = login(web_app.test_client(), "shandong_dudao").get("/diagrams/policy-check").get_data(as_text=True)
    assert 'id="list-gaps"' in html and "山东省烟台市龙口市（370681）" in html and "批准“三类人群”的公告" in html
    optional = html[html.index('id="optional"'):html.index("</table>", html.index('id="optional"'))]
    assert "山东省烟台市龙口市（370681）" in optional and "未配置可选参数 identification.comparison_reuse_months" in optional
    supervisor = login(web_app.test_client(), "zhanggong_dudao")
    assert "green_channel.process" in supervisor.get("/diagrams/policy-check").get_data(as_text=True)
    assert login(web_app.test_client(), "shahe_cun").get("/diagrams/policy-check").status_code == 403


# -- the green channel and member changes in Anshan and Longkou, on the real engine --------------------------


@pytest.mark.parametrize(("village", "cadre"), [("新华村", "xinhua_cun"), ("诸由观村", "zhuyouguan_cun")])
def test_the_green_channel_runs_in_anshan_and_longkou(app, clock, village, cadre):
    household = register_household(household_data(village, f"{village}急难户", 3), cadre, clock)
    case = open_green_channel(household.id, cadre, clock, {"hardship": "房屋遭洪水冲毁"})
    assert case.process_version.process_key == "green_channel"
    drive_case(case.id, clock, until="纳入绿色通道并即时帮扶")
    verification = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    assert verification.role == "county_officer"
    assert verification.due_at == end_of("2026-10-20")  # entered 2026-09-20, verified within 1 month (001 Q29)
    drive_case(case.id, clock)
    assert db.session.get(Case, case.id).outcome == "qualified"
    titles = db.session.scalars(select(Notice.title).filter_by(case_id=case.id).order_by(Notice.id)).all()
    assert "纳入绿色通道告知" in titles
    follow = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="identification"))
    assert follow is not None and follow.channel == "green_channel"


@pytest.mark.parametrize(("village", "cadre", "code"), [("新华村", "xinhua_cun", "210321100201"),
                                                        ("诸由观村", "zhuyouguan_cun", "370681104201")])
def test_a_natural_member_change_runs_in_anshan_and_longkou(app, clock, village, cadre, code):
    household = register_household(household_data(village, f"{village}变更户", 2), cadre, clock)
    case = open_member_change(household.id, date(2026, 9, 10), cadre, clock)
    row = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    assert row.role == "village_cadre" and row.due_at == end_of("2026-12-10")  # 3 months (001 Q20)
    complete_task(row.id, {"changed_on": "2026-09-10", "change_type": "birth", "proof": "出生医学证明",
                           "new_member": {"name": "新生儿", "relation_to_head": "子",
                                          "id_number": with_check_character(f"{code[:6]}20260910001")}}, cadre, clock)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "completed" and household.size == 3


def test_the_check_agrees_with_opening_a_case(app, clock):
    """Whatever the check says a place cannot start, opening a case there is refused with the same words."""
    _remove("370681", "member_change.process")
    [gap] = gaps(check(TODAY))
    household = register_household(household_data("诸由观村", "一致户", 2), "zhuyouguan_cun", clock)
    with pytest.raises(PolicyMissing) as refused:
        open_member_change(household.id, date(2026, 9, 10), "zhuyouguan_cun", clock)
    assert gap.missing[0] in str(refused.value)
