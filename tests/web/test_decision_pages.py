"""Officials decide from the task page (#16), answered through a real HTTP server: beside the form of each deciding
step, the household, its income as household verification recorded it (A28–A38), the decision table's category and
why (for a risk elimination, its conditions rechecked), the publicity and its objections, earlier decisions with
their reasons; the category offered in Chinese with the computed one marked; prefilled values saying where they came
from; errors tied to their inputs; the registration's members as cards; the policy parameters readable; no calendar
jargon shown to cadres."""
from __future__ import annotations

import html as html_lib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import open_identification, raise_objection
from engine.core.db import db
from engine.core.id_numbers import check_character, with_check_character
from engine.core.models import Case, CaseDeadline, Household, HumanTask, Member, Notice
from engine.demo import drive_case, load_demo
from engine.households.records import case_incomes
from engine.households.records import figures as income_figures
from engine.households.register import register_household
from tests.bdd.officials import household_data
from tests.webclient import HttpBrowser, serve
from timers.calendar import to_local_date

SHAHE = "360702101201"
INCOME = {"household_size": 3, "wages": 9000, "business_income": 1500, "property_income": 300,
          "transfer_income": 1200, "business_expenses": 600, "insurance_payouts": 2000, "compliant_out_of_pocket": 6000}
# A33 = 9000 + 1500 + 300 + 1200 − 600 = 11 400; A34 = 3 800; A37 = 11 400 + 2 000 − 6 000 = 7 400; A38 = 2 466.67


def _text(page: str) -> str:
    """The words of a page, as a reader sees them (tags gone, spaces collapsed)."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


def _ready(app, case_id: int) -> HumanTask:
    with app.app_context():
        row = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))
        db.session.expunge(row)
        return row


def _input(page: str, name: str) -> str:
    """The tag of the input (or select) named ``name``."""
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    assert match, f"no input {name}"
    return match.group(0)


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return _text(page[start:page.index("</section>", start)])


@pytest.fixture
def deciding(web_app, clock) -> int:
    """An identification of 沙河村 at 县级审定: verified with INCOME, appraised, publicized with an objection that the
    township dismissed, reviewed and compared with reasons."""
    with web_app.app_context():
        household = register_household(household_data("沙河村", "审定户", 3), "shahe_cun", clock)
        case_id = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock).id
        drive_case(case_id, clock, until="张贴村级公示", data={  # the comparison is done beside the village's steps
            "household_verification.json": {"income": INCOME},
            "information_comparison.json": {"reason": "车辆、房产、工商信息无异常"}})
        clock.advance(timedelta(days=1))
        raise_objection(case_id, "该户家中有小轿车", "村民 吴某", "shahe_cun", clock)
        drive_case(case_id, clock, until="乡镇审核（入户抽查）", data={
            "verify_objection.json": {"objection_finding": "dismissed", "reason": "车辆为亲戚所有，已核实"},
            "review_decision.json": {"reason": "入户抽查属实"}})
    return case_id


def test_the_county_officer_decides_from_the_task_page_alone(web_app, deciding):
    task = _ready(web_app, deciding)
    assert task.name == "县级审定"
    with serve(web_app) as base:
        county = HttpBrowser(base)
        assert county.login("zhanggong_xian", "demo").status == 200
        answer = county.get(f"/tasks/{task.id}")
        page = answer.read().decode()
    assert answer.status == 200
    words = _text(page)
    assert "审定户" in words and "一般农户 · 3 人" in words  # the household
    income = _section(page, "income")
    for figure in ("家庭纯收入（A33）", "11,400.00 元", "家庭人均纯收入（A34）", "3,800.00 元", "收入参考范围（A37）",
                   "7,400.00 元", "人均收入参考范围（A38）", "2,466.67 元", "理赔收入（A35） 2,000.00 元",
                   "合规自付支出（A36） 6,000.00 元", "A33＋A35－A36", "收入计算区间 2025-09-01 至 2026-08-31"):
        assert figure in income, figure
    assert "监测范围 7,800.00 元" in income and "人均收入参考范围（A38）2,466.67 元不高于监测范围" in income
    classification = _section(page, "classification")
    assert "测算结果：纳入， 边缘易致贫户" in classification
    assert "一般农户人均纯收入不高于监测范围且存在致贫风险" in classification  # the table's reason
    publicity = _section(page, "publicity")
    assert "村级公示5天" in publicity and "该户家中有小轿车" in publicity and "村民 吴某" in publicity
    assert "核实结论： 异议不成立 ，车辆为亲戚所有，已核实" in publicity
    decisions = _section(page, "decisions")
    assert re.search(r"民主评议 ：\s*通过", decisions) and "参会人数 15" in decisions
    assert "乡镇审核（入户抽查）" in decisions and "理由：入户抽查属实" in decisions
    assert "信息比对" in decisions and "理由：车辆、房产、工商信息无异常" in decisions
    assert "shahe_zhen" not in decisions and "沙河镇乡镇干部" in decisions  # people by their names
    # the category in Chinese, the computed one marked, leaving it empty adopts it
    category = page[page.index('name="county_category"'):page.index("</select>", page.index('name="county_category"'))]
    assert '<option value="">采用测算结果：边缘易致贫户</option>' in category
    assert ">边缘易致贫户（测算结果）</option>" in category and ">脱贫不稳定户</option>" in category
    assert ">突发严重困难户</option>" in category
    assert not re.search(r">\s*(unstable|marginal|sudden)\s*<", page)  # no code shown as a label
    assert page.index('id="household"') < page.index('id="task-form"')  # on a phone: read, then decide


def test_leaving_the_category_empty_adopts_the_computed_one(web_app, deciding, clock):
    task = _ready(web_app, deciding)
    with serve(web_app) as base:
        county = HttpBrowser(base)
        county.login("zhanggong_xian", "demo")
        today = to_local_date(clock.now()).isoformat()
        answer = county.post(f"/tasks/{task.id}", [("decided_on", today), ("county_category", ""),
                                                   ("decision", "approve")])
        assert answer.status == 200 and "已办理：县级审定" in answer.read().decode()
    with web_app.app_context():
        drive_case(deciding, clock)
        household = db.session.scalar(select(Household).join(Household.members).filter_by(name="审定户"))
        assert household.category == "marginal"


def test_a_category_the_household_may_not_have_or_changed_without_reason_is_refused_beside_its_input(
        web_app, deciding, clock):
    """审定户 is a 一般农户 (computed: 边缘易致贫户): the county choosing 脱贫不稳定户 is refused at 认定类别, and, having
    left 理由 empty, at 理由 naming the computed category; nothing is saved."""
    task = _ready(web_app, deciding)
    today = to_local_date(clock.now()).isoformat()
    with serve(web_app) as base:
        county = HttpBrowser(base)
        county.login("zhanggong_xian", "demo")
        refused = county.post(f"/tasks/{task.id}", [("decided_on", today), ("county_category", "unstable"),
                                                    ("decision", "approve"), ("reason", "")])
        answer = refused.read().decode()
    assert refused.status == 422
    errors = dict(re.findall(r'<p class="error" id="err-([\w.-]+)">(.*?)</p>', answer))
    assert errors["county_category"] == ("脱贫不稳定户须为脱贫户：本户是一般农户，可认定为边缘易致贫户、突发严重困难户，"
                                         "或留空采用测算结果")
    assert errors["reason"] == "认定类别脱贫不稳定户与决策表测算结果边缘易致贫户不同：请在理由中写明改定类别的依据"
    with web_app.app_context():
        assert db.session.get(HumanTask, task.id).state == "READY"


def test_household_verification_is_prefilled_and_says_from_where(web_app, clock):
    with web_app.app_context():
        household_id = register_household(household_data("沙河村", "核实户", 4), "shahe_cun", clock).id
        case_id = open_identification(household_id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock).id
        drive_case(case_id, clock, until="受理申请并签署承诺授权书",
                   data={"identification_apply.json": {"risk_types": ["illness", "accident"]}})
    task = _ready(web_app, case_id)
    with serve(web_app) as base:
        township = HttpBrowser(base)
        township.login("shahe_zhen", "demo")
        page = township.get(f"/tasks/{task.id}").read().decode()
        assert 'name="income.household_size" value="4"' in page
        assert 'name="risk_types" value="illness" checked' in page and 'name="risk_types" value="accident" checked' in page
        assert 'name="risk_types" value="schooling" checked' not in page
        source = _text(page[page.index('id="src-risk_types"'):])
        assert "预填自「受理申请并签署承诺授权书」（沙河村村干部 2026-09-20 办理）" in source
        assert "预填自农户登记（实际共同生活的成员 4 人）" in _text(page[page.index('id="src-income.household_size"'):])
        described = 'aria-describedby="hint-income.household_size src-income.household_size"'  # its rule, its source
        assert described in _input(page, "income.household_size")
        assert 'id="prefilled"' in page and "已按本案已办步骤和农户登记预填" in _text(page)
        answer = township.post(f"/tasks/{task.id}", [  # the prefilled values posted as they are
            ("verified_on", "2026-09-20"), ("income.household_size", "4"), ("income.wages", "8000"),
            ("income.business_income", "0"), ("income.property_income", "0"), ("income.transfer_income", "0"),
            ("income.business_expenses", "0"), ("risk_types", "illness"), ("risk_types", "accident")])
        assert "已办理：入户核实" in answer.read().decode()
    with web_app.app_context():
        assert db.session.get(Household, household_id).risk_types == ["illness", "accident"]


def _verification_fields(size: str, notes: str = "") -> list[tuple[str, str]]:
    return [("verified_on", "2026-09-20"), ("income.household_size", size), ("income.wages", "9000"),
            ("income.business_income", "0"), ("income.property_income", "0"), ("income.transfer_income", "0"),
            ("income.business_expenses", "0"), ("risk_types", "illness"), ("notes", notes)]


def _at_verification(web_app, clock, data: dict, cadre: str):
    """A household registered by ``cadre`` with its identification (基层干部排查, 2026-09-20) at 入户核实: (case id,
    the ready task)."""
    with web_app.app_context():
        household_id = register_household(data, cadre, clock).id
        case_id = open_identification(household_id, "cadre_screening", date(2026, 9, 20), cadre, clock).id
        drive_case(case_id, clock, until="受理申请并签署承诺授权书")
    return case_id, _ready(web_app, case_id)


def test_a_household_size_other_than_the_registers_is_refused_beside_its_input_unless_explained(web_app, clock):
    """001 Q16: 家庭人口数 counts the members who live together (核实户 has three, one of whom 外出另居): 3 is refused
    at 家庭人口数 naming both numbers, nothing saved; 3 with the reason in 核实情况说明 is accepted, and A34 is
    divided by it."""
    case_id, task = _at_verification(web_app, clock, household_data("沙河村", "核实户", 3, away=1), "shahe_cun")
    with serve(web_app) as base:
        township = HttpBrowser(base)
        township.login("shahe_zhen", "demo")
        page = township.get(f"/tasks/{task.id}").read().decode()
        assert 'name="income.household_size" value="2"' in page and "请先办理家庭成员变更" in _text(page)
        refused = township.post(f"/tasks/{task.id}", _verification_fields("3", notes="  "))
        answer = refused.read().decode()
        assert refused.status == 422
        errors = dict(re.findall(r'<p class="error" id="err-([\w.-]+)">(.*?)</p>', answer))
        assert errors == {"income.household_size": "家庭人口数 3 人与农户登记中实际共同生活的成员 2 人不同：请先办理家庭成员"
                                                   "变更，或在核实情况说明中写明原因（家庭人口数以实际共同生活、共享收支的成员为准）"}
        assert 'aria-invalid="true"' in _input(answer, "income.household_size")
        with web_app.app_context():
            assert db.session.get(HumanTask, task.id).state == "READY"
        explained = township.post(f"/tasks/{task.id}", _verification_fields("3", notes="户主之母常年随住，户籍在外村"))
        assert "已办理：入户核实" in explained.read().decode()
    with web_app.app_context():
        assert db.session.get(HumanTask, task.id).state == "COMPLETED"
        figures = income_figures(case_incomes([case_id])[case_id])
        assert figures.household_size == 3 and figures.net_income_per_capita == 3000  # 9 000 ÷ 3


def test_a_sharp_fall_of_income_ticked_on_the_page_makes_a_household_above_the_line_sudden_hardship(web_app, clock):
    # 001 Q10: 推算的收入高于7800元、但因突发事件等各类因素影响导致……收入大幅缩减 → 突发严重困难户
    case_id, task = _at_verification(web_app, clock, household_data("沙河村", "骤减户", 2), "shahe_cun")
    with serve(web_app) as base:
        township = HttpBrowser(base)
        township.login("shahe_zhen", "demo")
        page = township.get(f"/tasks/{task.id}").read().decode()
        assert "因病因残因学因灾因意外事故等导致收入大幅缩减，基本生活出现严重困难" in _text(page)
        assert 'checked' not in _input(page, "income.sharply_reduced")
        answer = township.post(f"/tasks/{task.id}", [
            ("verified_on", "2026-09-20"), ("income.household_size", "2"), ("income.wages", "30000"),
            ("income.business_income", "0"), ("income.property_income", "0"), ("income.transfer_income", "0"),
            ("income.business_expenses", "0"), ("income.sharply_reduced", "on"), ("risk_types", "accident")])
        assert "已办理：入户核实" in answer.read().decode()
    with web_app.app_context():
        case = db.session.get(Case, case_id)
        done = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, form="household_verification.json"))
        assert done.form_data["income"]["sharply_reduced"] is True
        assert case.status == "running"  # included: on to 民主评议, not rejected
    task = _ready(web_app, case_id)
    with serve(web_app) as base:
        village = HttpBrowser(base)
        village.login("shahe_cun", "demo")
        appraisal = _text(village.get(f"/tasks/{task.id}").read().decode())
    assert task.name == "民主评议" and "突发严重困难户" in appraisal
    assert "收入高于监测范围，但因病因灾因意外事故等收入大幅缩减，基本生活出现严重困难" in appraisal


def test_after_an_error_each_invalid_input_is_tied_to_its_message(web_app, deciding):
    task = _ready(web_app, deciding)
    with serve(web_app) as base:
        county = HttpBrowser(base)
        county.login("zhanggong_xian", "demo")
        answer = county.post(f"/tasks/{task.id}", [("decision", "reject"), ("reason", "")])
        page = answer.read().decode()
    assert answer.status == 422
    for name in ("decided_on", "reason"):
        tag = _input(page, name)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="err-{name}"' in tag, tag
        assert f'<p class="error" id="err-{name}">' in page
    assert 'aria-invalid' not in _input(page, "decision")
    assert 'src="/static/forms.js' in page  # which moves the focus to the first of them (tests/browser)


def test_registration_shows_members_as_cards_with_labelled_inputs(web_app):
    with serve(web_app) as base:
        cadre = HttpBrowser(base)
        cadre.login("shahe_cun", "demo")
        page = cadre.get("/households/new").read().decode()
        names = re.findall(r'name="(members-0-[a-z_]+)"', page)
        assert len(names) == 19  # A5–A22 and 实际共同生活: one card
        for name in names:
            assert f'id="f-{name}"' in page and (f'<label for="f-{name}">' in page or
                                                 re.search(rf'<label class="check"><input[^>]*name="{name}"', page)), name
        assert "members-1-name" not in page and 'name="members-__i__-name"' in page  # the card "添加家庭成员" copies
        assert "＋ 添加家庭成员" in page and "家庭成员 <span class=\"row-number\">1</span>" in page
        bad = cadre.post("/households/new", [("village", SHAHE), ("members-0-name", "卡片户"),
                                             ("members-0-id_number", "123"), ("members-0-relation_to_head", "户主"),
                                             ("members-3-name", "卡片户妻")])  # a card added in the browser
        page = bad.read().decode()
        assert bad.status == 422
        tag = _input(page, "members-0-id_number")
        assert 'aria-invalid="true"' in tag and 'aria-describedby="err-members-0-id_number"' in tag
        assert ('<p class="error" id="err-members-0-id_number">身份证号（A7）：应为 18 位（前 17 位为数字，最后一位为数字或 X）'
                '</p>') in page
        assert 'value="卡片户妻"' in page and 'id="err-members-1-id_number"' in page  # kept, renumbered, its own error


def test_registration_refuses_a_mistyped_id_number_beside_its_field_and_saves_nothing(web_app):
    valid = with_check_character("36070219800101123")
    mistyped = valid[:16] + str((int(valid[16]) + 1) % 10) + valid[17]  # one digit of the body mistyped
    with serve(web_app) as base:
        cadre = HttpBrowser(base)
        cadre.login("shahe_cun", "demo")
        cadre.get("/households/new")
        bad = cadre.post("/households/new", [("village", SHAHE), ("members-0-name", "录错户"),
                                             ("members-0-id_number", mistyped), ("members-0-relation_to_head", "户主")])
        page = bad.read().decode()
    assert bad.status == 422 and 'aria-invalid="true"' in _input(page, "members-0-id_number")
    error = re.search(r'<p class="error" id="err-members-0-id_number">([^<]*)</p>', page).group(1)
    assert error.startswith(f"身份证号（A7）：校验位错误，第 18 位应为 {check_character(mistyped[:17])}")
    assert mistyped not in error  # (the input keeps what was typed, for the cadre to correct)
    with web_app.app_context():
        assert db.session.scalar(select(Member).filter_by(name="录错户")) is None


def test_the_policy_parameters_are_readable(web_app):
    with serve(web_app) as base:
        editor = HttpBrowser(base)
        editor.login("jiangxi_zhengce", "demo")
        page = editor.get("/diagrams/parameters").read().decode()
        one = editor.get("/diagrams/parameters?key=warning.department.medical").read().decode()
    values = re.findall(r'<td data-label="值" class="value">(.*?)(?:<details|</td>)', page, re.DOTALL)
    assert len(values) > 30 and "\\u" not in page
    assert not any("&#34;" in v or "{" in v for v in values)  # no JSON: words, lists and labelled fields
    words = _text(page)
    assert "识别纳入 · 村级公示天数" in words and "江西省" in words and "风险消除 · 须经农户本人认可" in words
    assert "识别纳入 · 收入计算时间的起算月份" in words  # 001 Q10 识别纳入月份, 003 发现月份
    assert "识别纳入 · 帮扶措施公示天数" in words  # 章贡区 2021 (002 四(七))
    row = _text(one[one.index("<tbody>"):])
    assert "行业预警标准：医保部门" in row and "部门名称 医保部门" in row
    assert "脱贫人口：超过 0.5 万元（含）" in row and "推送时间 每月 25 日前向本级乡村振兴部门推送一次" in row
    assert '"name": "医保部门"' in html_lib.unescape(one)  # the raw value, to copy from, readable too


def test_cadres_are_not_shown_calendar_data_versions(web_app, clock):
    _, task = _at_verification(web_app, clock, household_data("诸由观村", "龙口户", 2), "zhuyouguan_cun")
    assert task.name == "入户调查核实（5个工作日内）"
    with web_app.app_context():  # the deadline was computed on the working-day calendar, whose version is kept
        kept = db.session.scalar(select(CaseDeadline.data_version).filter_by(task_id=task.id))
    assert kept.startswith("chinesecalendar")
    with serve(web_app) as base:
        township = HttpBrowser(base)
        township.login("zhuyouguan_zhen", "demo")
        page = township.get(f"/tasks/{task.id}").read().decode()
    assert "工作日" in _text(page[page.index('class="hint deadline-explanation"'):])  # how the deadline was counted
    assert "chinesecalendar" not in page and "sha256" not in page


def test_the_county_approves_a_risk_elimination_on_the_conditions_rechecked(web_app, clock):
    with web_app.app_context():
        load_demo(clock)  # 水西村's 黄金水: monitored since January, risk elimination listed by the township
        case = db.session.scalar(select(Case).filter_by(procedure="elimination", status="running"))
        case_id = case.id
        drive_case(case_id, clock, until="乡镇审核（入户核实收入）")
    task = _ready(web_app, case_id)
    assert task.name == "县级审定" and task.form == "elimination_approval.json"  # its own form, not identification's
    with serve(web_app) as base:
        county = HttpBrowser(base)
        county.login("zhanggong_xian", "demo")
        page = county.get(f"/tasks/{task.id}").read().decode()
    conditions = _section(page, "elimination-conditions")
    assert "风险消除条件（帮扶消除）" in conditions
    assert "按核实收入复核：符合" in conditions and "帮扶措施落实半年以上" in conditions
    assert "收入持续稳定半年以上" in conditions and "无新的返贫致贫风险" in conditions
    assert "收入高于当年监测范围且刚性支出问题已解决" in conditions  # the income against the line, rechecked
    assert "乡镇季度研判列入时：符合" in conditions  # the township's quarterly evaluation, too
    income = _section(page, "income")
    assert "本案入户核实" in income and "家庭人均纯收入（A34） A33÷3 人 12,000.00 元" in income
    assert re.search(r"监测范围 [\d,.]+ 元/人·年：人均纯收入（A34）12,000.00 元高于监测范围", income)
    guarantees = _section(page, "guarantees")  # 三保障 and drinking water, as the household's record holds them
    for label in ("住房安全", "义务教育（适龄儿童失学辍学）", "饮水安全", "基本医疗保险"):
        assert f"{label} 有保障" in guarantees, label
    decisions = _section(page, "decisions")  # the village's and the township's results
    assert re.search(r"民主评议 ：\s*通过", decisions)
    assert "乡镇审核（入户核实收入） ： 通过" in decisions and "工资性收入" not in decisions  # figures: in the table
    assert "公示" in _section(page, "publicity")
    words = _text(page)
    assert "审定日期（即风险消除日期）" in words and "即识别日期" not in words  # the elimination's own wording
    assert ">通过，标注风险消除</option>" in page and ">不通过，暂缓消除、继续帮扶</option>" in page
    assert 'name="county_category"' not in page and 'id="classification"' not in page  # nothing to classify


def test_the_township_reviewing_an_elimination_sees_a_new_risk_found_since_the_listing(web_app, clock):
    """水西村's 黄金水 (demo data), listed by the township's quarterly evaluation: the village's monthly revisit then
    finds a new risk (001 Q30 不存在新增返贫致贫风险). The township's 乡镇审核（入户核实收入） page says so before the
    township goes to the house — today's conditions first, the listing's snapshot folded below."""
    from engine.cases.lifecycle import complete_task, wake_due
    from engine.demo import sample_form_data

    with web_app.app_context():
        load_demo(clock)
        case = db.session.scalar(select(Case).filter_by(procedure="elimination", status="running"))
        case_id, household_id = case.id, case.household_id
        followup = db.session.scalar(select(Case).filter_by(household_id=household_id, procedure="followup",
                                                            status="running"))
        revisit = db.session.scalar(select(HumanTask).filter_by(case_id=followup.id, state="READY",
                                                                form="monthly_revisit.json"))
        values = {**sample_form_data(revisit.form, to_local_date(clock.now())), "new_risk": True,
                  "new_risk_description": "户主突发疾病住院"}
        complete_task(revisit.id, values, "shuixi_cun", clock)
        while (task := db.session.scalar(select(HumanTask).filter_by(case_id=case_id, state="READY"))) is None or (
                task.name != "乡镇审核（入户核实收入）"):
            if task is not None:
                drive_case(case_id, clock, until=task.name)
            else:
                clock.set(db.session.get(Case, case_id).next_wakeup_at)
                wake_due(clock.now(), clock)
        task_id, today = task.id, to_local_date(clock.now())
    with serve(web_app) as base:
        township = HttpBrowser(base)
        township.login("shuixi_zhen", "demo")
        page = township.get(f"/tasks/{task_id}").read().decode()
    conditions = _section(page, "elimination-conditions")
    assert f"按今天（{today}）的记录：不符合，请核实后办理" in conditions
    assert "✗ 无新的返贫致贫风险：最近一次回访发现新风险" in conditions
    assert conditions.index("按今天") < conditions.index("乡镇季度研判列入时：符合")  # the snapshot comes after
    assert '<details class="evaluation"><summary>乡镇季度研判列入时：符合</summary>' in page
    with web_app.app_context():  # the township approves anyway: the recheck postpones, the household told why in words
        drive_case(case_id, clock)
        case = db.session.get(Case, case_id)
        (notice,) = db.session.scalars(select(Notice).filter_by(case_id=case_id, title="风险消除结果告知"))
        assert case.outcome == "postponed"
        assert notice.body.startswith("您户暂不标注风险消除，继续落实帮扶措施。理由：最近一次回访发现新的返贫致贫风险。")
        assert not any(mark in notice.body for mark in ("✓", "✗", "Q3", "人均纯收入", "监测范围"))
    with serve(web_app) as base:  # the officials keep the checklist on the township's (done) step
        township = HttpBrowser(base)
        township.login("shuixi_zhen", "demo")
        done = _section(township.get(f"/tasks/{task_id}").read().decode(), "elimination-conditions")
    assert "按核实收入复核：不符合" in done and "✗ 无新的返贫致贫风险：最近一次回访发现新风险" in done


def test_the_county_postpones_an_elimination_with_its_reason_told_to_the_household(web_app, clock):
    with web_app.app_context():
        load_demo(clock)
        case_id = db.session.scalar(select(Case.id).filter_by(procedure="elimination", status="running"))
        drive_case(case_id, clock, until="乡镇审核（入户核实收入）")
    task = _ready(web_app, case_id)
    today = to_local_date(clock.now()).isoformat()
    with serve(web_app) as base:
        county = HttpBrowser(base)
        county.login("zhanggong_xian", "demo")
        refused = county.post(f"/tasks/{task.id}", [("decided_on", today), ("decision", "reject")])
        page = refused.read().decode()
        assert refused.status == 422 and "理由（不通过时必填，将写入告知农户的通知）" in _text(page)
        assert 'aria-describedby="err-reason"' in _input(page, "reason")
        done = county.post(f"/tasks/{task.id}", [("decided_on", today), ("decision", "reject"),
                                                 ("reason", "务工收入尚不稳定，继续帮扶")])
        assert "已办理：县级审定" in done.read().decode()
    with web_app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.status, case.outcome) == ("completed", "postponed")
        assert case.household.status == "monitored"
