"""The ``fangpin`` command, as an official uses it: set up, register, open, list, complete, move the clock."""
from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.app import create_engine_app
from engine.cli import main
from engine.core.clock import SystemClock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import AuditEvent
from engine.demo import DEMO_DAY, demo_id_number
from tests.diagram_variants import with_property
from timers.calendar import display_moment

pytestmark = pytest.mark.slow  # started first (tests/conftest.py)


@pytest.fixture
def fangpin(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FANGPIN_CLOCK", "demo")
    monkeypatch.setenv("FANGPIN_INSTANCE", str(tmp_path))
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    run("init")
    run("clock", "advance", "--to", "2026-09-20T09:00")
    return run


def _register(fangpin, tmp_path: Path, head: str, id_number: str) -> str:
    """A one-person household of 沙河村 registered by its village cadre: its number."""
    household = {"village": "360702101201", "members": [
        {"name": head, "id_number": id_number, "relation_to_head": "户主"}]}
    (tmp_path / "h.json").write_text(json.dumps(household, ensure_ascii=False), encoding="utf-8")
    out = fangpin("--as", "shahe_cun", "household", "register", "--file", str(tmp_path / "h.json"))
    return re.search(r"已登记农户 (\d+)", out).group(1)


def _task_ids(output: str) -> list[int]:
    return [int(n) for n in re.findall(r"^#(\d+)", output, re.MULTILINE)]


def test_an_identification_step_by_step(fangpin, tmp_path):
    fangpin("init", "--demo")
    household = {"village": "360702101201", "is_formerly_poor": True, "members": [
        {"name": "测试户主", "id_number": "360702198001010999", "relation_to_head": "户主"}]}
    (tmp_path / "h.json").write_text(json.dumps(household, ensure_ascii=False), encoding="utf-8")
    out = fangpin("--as", "shahe_cun", "household", "register", "--file", str(tmp_path / "h.json"))
    number = re.search(r"已登记农户 (\d+)", out).group(1)
    out = fangpin("--as", "shahe_cun", "case", "open", "--household", number, "--channel", "petition",
                  "--lead-date", "2026-09-20")
    case_id = re.search(r"id (\d+)", out).group(1)
    listing = fangpin("--as", "shahe_cun", "task", "list")
    task = next(line for line in listing.splitlines() if "测试户主" in line)
    assert "受理申请并签署承诺授权书" in task and "2026-10-05 24:00" in task  # 15 days from the lead
    task_id = _task_ids(task)[0]
    out = fangpin("--as", "shahe_cun", "task", "complete", str(task_id), "--data",
                  '{"applied_on": "2026-09-20", "all_members_signed": false}', ok=False)
    assert "all_members_signed" in out and "risk_description" in out and "必填" in out
    fangpin("--as", "shahe_cun", "task", "complete", str(task_id), "--data",
            '{"applied_on": "2026-09-20", "all_members_signed": true, "risk_description": "因病"}')
    assert "入户核实" in fangpin("--as", "shahe_zhen", "task", "list")
    out = fangpin("--as", "shahe_zhen", "task", "complete", str(task_id), "--data", "{}", ok=False)
    assert "不能再次办理" in out
    history = fangpin("case", "show", case_id)
    assert "case_opened" in history and "task_completed" in history and "shahe_cun" in history


def test_wrong_user_and_unknown_things_are_refused(fangpin):
    assert "任务 999999 不存在" in fangpin("--as", "nobody", "task", "complete", "999999", "--data", "{}", ok=False)
    out = fangpin("household", "show", "999", ok=False)
    assert "农户 999 不存在" in out


def test_a_bad_file_a_huge_id_or_a_huge_step_of_the_clock_is_a_usage_error_not_a_traceback(fangpin, tmp_path):
    (tmp_path / "bad.json").write_text('{"village": ', encoding="utf-8")
    out = fangpin("--as", "shahe_cun", "household", "register", "--file", str(tmp_path / "bad.json"), ok=False)
    assert "不是有效的 JSON" in out
    assert "Error" in fangpin("--as", "shahe_cun", "task", "complete", "9" * 23, "--data", "{}", ok=False)
    assert "Error" in fangpin("clock", "advance", "--days", "99999999", ok=False)
    assert "2026-09-20 09:00" in fangpin("clock", "show")  # (was an OverflowError)


def test_the_demo_clock_moves_forward_only(fangpin):
    assert "2026-09-20 09:00" in fangpin("clock", "show")
    assert "2026-09-22 09:00" in fangpin("clock", "advance", "--days", "2")
    assert "只能向前" in fangpin("clock", "advance", "--to", "2026-09-01T00:00", ok=False)


def test_a_new_demo_starts_on_the_demo_day_whatever_the_real_date(tmp_path, monkeypatch):
    """``make run`` on a real date beyond the holiday and policy data shipped (here 2027, of which there is neither)
    still builds the demo: its clock starts on the demo's day. A second ``init --demo`` leaves the clock alone."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("FANGPIN_CLOCK", "demo")
    monkeypatch.setenv("FANGPIN_INSTANCE", str(tmp_path))
    monkeypatch.setattr(SystemClock, "now", lambda self: datetime(2027, 6, 1, 2, tzinfo=UTC))
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    out = run("init", "--demo")
    assert "演示时钟：2026-09-20 09:00" in out and "'cases': 9" in out
    with sqlite3.connect(tmp_path / "demo.db") as stored:  # deployed on the demo's day, not after its today
        moments = stored.execute("SELECT deployed_at FROM process_version UNION SELECT uploaded_at FROM diagram_file")
        assert {moment[:10] for (moment,) in moments} == {"2026-09-20"}
    assert run("clock", "show").strip() == display_moment(DEMO_DAY) == "2026-09-20 09:00"
    run("clock", "advance", "--days", "2")
    assert "演示时钟" not in run("init", "--demo")
    assert run("clock", "show").strip() == "2026-09-22 09:00"


def test_deployed_versions_are_listed(fangpin):
    out = fangpin("process", "list")
    assert {"identification v1", "identification_longkou v1", "identification_zhanggong_2021 v1"} <= {
        " ".join(line.split()[:2]) for line in out.splitlines()}


def test_green_channel_and_elimination_from_the_command_line(fangpin, tmp_path):
    fangpin("init", "--demo")
    number = _register(fangpin, tmp_path, "倒房户", with_check_character("36070219800101088"))
    assert "已启动绿色通道" in fangpin("--as", "shahe_cun", "green-channel", "--household", number, "--hardship", "房屋倒塌")
    assert "村级确认突发严重困难" in fangpin("--as", "shahe_cun", "task", "list")
    assert "已在绿色通道中" in fangpin("--as", "shahe_cun", "green-channel", "--household", number, ok=False)
    monitored = "2103211002010001"  # the demo's Anshan household, identified 40 days ago
    refused = fangpin("--as", "taian_zhen", "elimination", "start", "--household", monitored, ok=False)
    assert "暂不符合风险消除条件" in refused and "不在识别当月或次月消除" in refused
    listing = fangpin("--as", "taian_zhen", "elimination", "evaluate")
    assert listing.startswith(f"暂不符合  {monitored} 周玉兰") and "帮扶措施落实半年以上" in listing


def test_a_warning_from_file_to_identification_on_the_command_line(fangpin, tmp_path):
    fangpin("init", "--demo")
    csv_file = tmp_path / "medical.csv"
    row = f"陈志强,{demo_id_number('陈志强')},out_of_pocket,26000,,2026-09-10"
    csv_file.write_text(f"姓名,身份证号,预警指标,金额,村代码,日期\n{row}\n", encoding="utf-8-sig")
    out = fangpin("--as", "zhanggong_yibao", "warnings", "import", "--department", "medical", "--period", "2026-Q3",
                  "--file", str(csv_file))
    assert "已导入预警批次" in out and "1 条" in out
    assert re.search(r"预警 #(\d+) 陈志强", out)
    task_id = re.search(r"待办：任务 #(\d+) 比对交办（江西省赣州市章贡区", out).group(1)
    refused = fangpin("--as", "shahe_zhen", "task", "complete", task_id, "--data", '{"compared_on": "2026-09-20"}',
                      ok=False)
    assert "县级乡村振兴部门" in refused  # the county's step
    out = fangpin("--as", "zhanggong_xian", "task", "complete", task_id, "--data", '{"compared_on": "2026-09-20"}')
    assert "已办理" in out and "completed" in out
    out = fangpin("--as", "shahe_zhen", "task", "list")
    assert "入户核查" not in out  # 陈志强's household is already in an identification (demo data): noted, not dispatched
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,身份证号,预警指标,金额,村代码,日期\n某人,123,out_of_pocket,很多,,2026-09-10\n", encoding="utf-8-sig")
    refused = fangpin("--as", "zhanggong_yibao", "warnings", "import", "--department", "medical", "--period", "2026-Q3",
                      "--file", str(bad), ok=False)
    assert "第 2 行 amount" in refused and "第 2 行 id_number" in refused


def test_a_policy_editor_binds_and_pins_a_version_from_the_command_line(fangpin):
    fangpin("init", "--demo")
    out = fangpin("--as", "jiangxi_zhengce", "process", "bind", "identification@1", "--procedure", "identification",
                  "--jurisdiction", "360702", "--from", "2026-10-01", "--source", "区级文件（示例）")
    assert "已绑定：" in out and "章贡区 自 2026-10-01 起 identification 使用 identification@1" in out
    refused = fangpin("--as", "jiangxi_zhengce", "process", "bind", "identification@9", "--procedure",
                      "identification", "--jurisdiction", "360702", "--from", "2026-10-01", ok=False)
    assert "没有第 9 版" in refused
    assert "不是政策管理员" in fangpin("--as", "shahe_cun", "process", "bind", "identification", "--procedure",
                                   "identification", "--jurisdiction", "360702101201", "--from", "2026-10-01", ok=False)


def test_the_command_line_binds_a_diagram_only_as_the_procedure_it_declares(fangpin, tmp_path):
    fangpin("init", "--demo")
    refused = fangpin("--as", "jiangxi_zhengce", "process", "bind", "elimination", "--procedure", "identification",
                      "--jurisdiction", "360702", "--from", "2026-10-01", ok=False)
    assert ("不能绑定：流程 elimination（风险消除（鞍山市方案、江西省2023年指南））第 1 版办理“风险消除”（elimination，"
            "流程图中声明），不能作为“识别纳入”（identification）的流程") in refused
    with create_engine_app().app_context():
        bound = db.session.scalars(select(AuditEvent).filter_by(action="process_bound")).all()
        assert bound == []  # nothing bound
    shipped = (project_dir("processes") / "identification.bpmn").read_bytes()
    changed = tmp_path / "identification.bpmn"
    changed.write_bytes(with_property(shipped, "identification", "procedure", "elimination"))
    refused = fangpin("--as", "jiangxi_zhengce", "process", "deploy", str(changed), ok=False)
    assert "声明的办理程序“风险消除”（elimination）与该流程已部署的版本不同" in refused
    listed = fangpin("process", "list")
    assert "identification v1" in listed and "identification v2" not in listed


def test_a_department_records_the_event_its_push_follows(fangpin):
    fangpin("init", "--demo")
    out = fangpin("--as", "zhanggong_yibao", "warnings", "event", "--department", "education", "--date", "2026-09-01")
    assert "已登记：教育部门 2026-09-01（秋季学期开学）预警数据推送" in out
    assert "已登记" in fangpin("--as", "zhanggong_yibao", "warnings", "event", "--department", "education", "--date",
                             "2026-09-01", ok=False)
    assert "不是随事件推送" in fangpin("--as", "zhanggong_yibao", "warnings", "event", "--department", "medical",
                                  "--date", "2026-09-01", ok=False)


def test_calendar_recompute_lists_and_computes_again_the_provisional_deadlines(fangpin, tmp_path, monkeypatch):
    from tests.factories import FICTITIOUS_2027
    from timers.calendar import OVERRIDE_ENV_VAR, reset_default_calendar

    override = tmp_path / "override.json"
    override.write_text(json.dumps({"years": {}}), encoding="utf-8")
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(override))
    reset_default_calendar()
    fangpin("init", "--demo")
    assert "运行中的暂定期限：0 个" in fangpin("calendar", "recompute", "--list")
    assert "没有代码为 999 的辖区" in fangpin("calendar", "recompute", "--jurisdiction", "999", ok=False)
    override.write_text(json.dumps(FICTITIOUS_2027, ensure_ascii=False), encoding="utf-8")
    out = fangpin("--as", "zhanggong_admin", "calendar", "recompute", "--jurisdiction", "360702")
    assert "重新计算暂定期限：0 个期限改变了截止日" in out
    reset_default_calendar()


def test_household_show_masks_id_numbers_unless_an_allowed_official_asks_and_is_audited(fangpin, tmp_path):
    fangpin("init", "--demo")
    number = _register(fangpin, tmp_path, "命令行户主", "360702198001010999")
    shown = fangpin("household", "show", number)
    assert "360702********0999" in shown and "360702198001010999" not in shown
    assert "--as" in fangpin("household", "show", number, "--sensitive", ok=False)  # who is asking
    refused = fangpin("--as", "zhanggong_yibao", "household", "show", number, "--sensitive", ok=False)
    assert "360702198001010999" not in refused  # a department officer does not see private fields
    assert "360702198001010999" in fangpin("--as", "shahe_cun", "household", "show", number, "--sensitive")
    with create_engine_app().app_context():
        viewed = db.session.scalars(select(AuditEvent).filter_by(action="private_data_viewed")).all()
        assert [(e.actor, e.detail["number"], e.detail["via"]) for e in viewed] == [("shahe_cun", number, "command")]
        refusals = db.session.scalars(select(AuditEvent).filter_by(action="private_data_refused")).all()
        assert [(e.actor, e.detail["number"], e.detail["via"]) for e in refusals] == [
            ("zhanggong_yibao", number, "command")]


def test_the_server_refuses_to_start_on_a_database_never_initialised(tmp_path, monkeypatch):
    """Every page would be a 500 (relation "user" does not exist) and the scheduler a traceback every sweep."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("FANGPIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "a-secret-key-only-this-test-uses-3f9c2e71d0b84a56")
    result = CliRunner().invoke(main, ["run", "--port", "0"], catch_exceptions=False)
    assert result.exit_code == 1 and "数据库尚未初始化：请先运行 fangpin init" in result.output


@pytest.mark.parametrize(("url", "said"), [
    ("foo", "DATABASE_URL 不是有效的数据库地址"),
    ("postgresql://fangpin:secret@127.0.0.1:1/fangpin", "无法连接数据库 postgresql+psycopg2://fangpin:***@127.0.0.1:1/fangpin"),
])
def test_a_database_that_cannot_be_used_is_said_in_words_without_its_password(tmp_path, monkeypatch, url, said):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("FANGPIN_INSTANCE", str(tmp_path))
    result = CliRunner().invoke(main, ["--as", "county_it", "user", "list"], catch_exceptions=False)
    assert result.exit_code == 1 and said in result.output and "secret" not in result.output


def test_the_demo_is_refused_outside_the_demo_clock(tmp_path, monkeypatch):
    """A county's database (FANGPIN_CLOCK=system) never gets the demo's logins (password demo, an administrator
    among them) and made-up cases; nothing is written."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'county.db'}")
    monkeypatch.setenv("FANGPIN_CLOCK", "system")
    monkeypatch.setenv("FANGPIN_INSTANCE", str(tmp_path))
    result = CliRunner().invoke(main, ["init", "--demo"], catch_exceptions=False)
    assert result.exit_code == 2 and "只在演示时钟下加载" in result.output
    assert not (tmp_path / "county.db").exists() or (tmp_path / "county.db").stat().st_size == 0


def test_the_server_refuses_to_start_on_a_database_of_an_older_release(fangpin, monkeypatch):
    """A new release on a database not upgraded yet: run fangpin init first (it upgrades in place)."""
    from flask_migrate import stamp

    from engine.app import create_engine_app

    with create_engine_app().app_context():
        stamp(revision="0014")
    monkeypatch.setenv("SECRET_KEY", "a-secret-key-only-this-test-uses-3f9c2e71d0b84a56")
    out = fangpin("run", "--port", "0", ok=False)
    assert "数据库结构版本（0014）不是本版本的" in out and "请先运行 fangpin init（就地升级，数据不变）" in out


def test_household_import_checks_the_whole_file_lists_each_problem_and_imports_all_or_nothing(fangpin, tmp_path):
    """农户批量导入 from the command line: the template, a dry run, a refused file (each problem by row and column, no
    full ID number), then the good file."""
    from openpyxl import load_workbook

    from tests.households.import_files import (
        CATEGORY,
        FORMERLY_POOR,
        ID,
        IDENTIFIED_ON,
        MEASURED,
        RISKS,
        as_csv,
        household,
    )

    fangpin("init", "--demo")
    template = tmp_path / "模板.xlsx"
    assert "已写入导入模板" in fangpin("household", "template", "--out", str(template))
    assert load_workbook(template).worksheets[0]["A1"].value == "所在村（行政区划代码）"
    rows = household("命令行甲", 3) + household("命令行乙", 2, **{FORMERLY_POOR: "是", CATEGORY: "脱贫不稳定户",
                                                                   IDENTIFIED_ON: "2025-03-01", RISKS: "因病",
                                                                   **MEASURED})
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(as_csv(rows))
    bad.write_bytes(as_csv([*rows, {**rows[0], "姓名（A5）": "重复者"}]))
    out = fangpin("--as", "zhanggong_xian", "household", "import", "--file", str(bad), ok=False)
    assert "bad.csv 有 1 处错误，未导入任何农户" in out
    assert "第 7 行 身份证号（A7）：与第 2 行的身份证号相同" in out and rows[0][ID] not in out
    out = fangpin("--as", "zhanggong_xian", "household", "import", "--file", str(good), "--dry-run")
    assert "校验通过，未写入任何内容：可导入 2 户、5 人（1 个村），其中监测对象 1 户" in out
    out = fangpin("--as", "zhanggong_xian", "household", "import", "--file", str(good))
    assert "已导入 2 户、5 人（1 个村），其中监测对象 1 户（系统外识别），自动生成户编号 2 个" in out
    out = fangpin("--as", "zhanggong_xian", "household", "import", "--file", str(good), ok=False)
    assert "身份证号已登记" in out  # imported once only
    assert "不能登记农户" in fangpin("--as", "zhanggong_dudao", "household", "import", "--file", str(good), ok=False)


def test_household_register_is_refused_as_the_page_and_the_api_refuse_it(fangpin, tmp_path):
    """Only a role that registers households, and only for a village of its own jurisdiction; nothing saved (the
    same ID number registers afterwards, which a saved one would refuse)."""
    fangpin("init", "--demo")
    household = {"village": "360702101201", "members": [
        {"name": "越权登记", "id_number": with_check_character("36070219800101077"), "relation_to_head": "户主"}]}
    (tmp_path / "h.json").write_text(json.dumps(household, ensure_ascii=False), encoding="utf-8")
    for official, reason in (("huaping_cun", "辖区"), ("zhanggong_dudao", "不能登记农户")):
        out = fangpin("--as", official, "household", "register", "--file", str(tmp_path / "h.json"), ok=False)
        assert reason in out, out
    out = fangpin("--as", "nobody", "household", "register", "--file", str(tmp_path / "h.json"), ok=False)
    assert "用户 nobody 不存在" in out and "--as" in out and "--user" not in out, out  # the option given is named
    assert "已登记农户" in fangpin("--as", "shahe_cun", "household", "register", "--file", str(tmp_path / "h.json"))
