"""农户批量导入 (engine.households.importing, engine.cases.household_import): a file checked whole with the rules of
one registration, every problem named by row and column and nothing written; a good one written set-based, its
monitored households identified outside fangpin with their monthly follow-up."""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.cases.household_import import import_households
from engine.core.db import db
from engine.core.errors import PermissionDenied
from engine.core.id_numbers import FORM_PROBLEM
from engine.core.models import AuditEvent, Case, Household, HumanTask, Measure, Member
from engine.core.vocabulary import HouseholdStatus
from engine.households.importing import MAX_LISTED, ImportRefused, columns, template_xlsx
from engine.households.outside import outside_identification
from engine.households.records import plan_summaries
from engine.households.register import NOBODY_LIVES_TOGETHER, register_household
from tests.bdd.officials import household_data
from tests.factories import statements_of
from tests.households.import_files import (
    CATEGORY,
    FORMERLY_POOR,
    HUAPING,
    ID,
    IDENTIFIED_ON,
    INDUSTRY,
    LIVES,
    LONGKOU_VILLAGE,
    MEASURED,
    MEASURES_FROM,
    NAME,
    NUMBER,
    PHONE,
    RELATION,
    RESPONSIBLE,
    RISKS,
    SEX,
    SHAHE,
    VILLAGE,
    WATER,
    as_csv,
    as_xlsx,
    household,
    id_number,
)

COUNTY = "zhanggong_xian"
MONITORED = {FORMERLY_POOR: "是", CATEGORY: "脱贫不稳定户", IDENTIFIED_ON: "2025-03-01", RISKS: "因病、因学", **MEASURED}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _refused(rows, actor: str = COUNTY, clock=None, file_name: str = "households.csv") -> ImportRefused:
    before = (_count(Household), _count(Member), _count(AuditEvent))
    with pytest.raises(ImportRefused) as refused:
        import_households(file_name, as_csv(rows) if isinstance(rows, list) else rows, actor, clock)
    assert (_count(Household), _count(Member), _count(AuditEvent)) == before  # nothing written
    return refused.value


def _problems(refusal: ImportRefused) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in refusal.problems]


def test_a_good_file_registers_every_household_with_its_members_in_file_order(app, clock):
    rows = household("甲一", 3) + household("乙二", 1, HUAPING) + household("丙三", 2, **{NUMBER: "3607021012019001"})
    result = import_households("households.csv", as_csv(rows), COUNTY, clock)
    assert (result.households, result.members, result.monitored, result.numbers_made, result.written) == (
        3, 6, 0, 2, True)
    heads = {m.name: m.household for m in db.session.scalars(select(Member).where(Member.relation_to_head == "户主"))}
    first, second, third = heads["甲一"], heads["乙二"], heads["丙三"]
    assert [m.name for m in first.members] == ["甲一", "甲一家1", "甲一家2"] and first.head.sex == "男"
    assert first.village.code == SHAHE and second.village.code == HUAPING
    assert third.number == "3607021012019001"  # kept as given
    assert first.number == f"{SHAHE}9002"  # made after the highest given in the village (the file's too)
    assert second.number.startswith(HUAPING) and first.status == HouseholdStatus.ORDINARY
    assert all(m.medical_insurance and m.lives_with_household for m in first.members)  # the form's defaults
    entries = db.session.scalars(select(AuditEvent).filter_by(action="household_registered")).all()
    assert sorted((e.household_id, e.detail["source"]) for e in entries) == sorted(
        (h.id, "households.csv") for h in (first, second, third))
    summary = db.session.scalar(select(AuditEvent).filter_by(action="households_imported"))
    assert summary.actor == COUNTY and summary.detail["households"] == 3 and summary.detail["members"] == 6


def test_the_same_file_as_xlsx_and_the_information_forms_names_for_the_columns(app, clock):
    rows = household("表格户", 2, **{FORMERLY_POOR: True, PHONE: 13900000001})
    rows[0] = {("居民身份证（残疾人证）号码" if k == ID else "是否脱贫户" if k == FORMERLY_POOR else k): v
               for k, v in rows[0].items()}
    rows[1] = {("居民身份证（残疾人证）号码" if k == ID else k): v for k, v in rows[1].items()}
    import_households("households.xlsx", as_xlsx(rows), COUNTY, clock)
    imported = db.session.scalar(select(Member).filter_by(name="表格户")).household
    assert imported.is_formerly_poor and imported.contact_phone == "13900000001" and len(imported.members) == 2


def test_a_monitored_household_is_identified_outside_fangpin_with_its_monthly_follow_up(app, clock):
    rows = household("监测户", 2, **MONITORED) + household("一般户", 1)
    result = import_households("国家系统导出.csv", as_csv(rows), COUNTY, clock)
    monitored = db.session.scalar(select(Member).filter_by(name="监测户")).household
    assert (monitored.status, monitored.category, monitored.identified_on, monitored.risk_types) == (
        HouseholdStatus.MONITORED, "unstable", date(2025, 3, 1), ["illness", "schooling"])
    assert result.monitored == 1 and result.monitored_ids == [monitored.id]
    entry = db.session.scalar(select(AuditEvent).filter_by(action="household_identified_outside"))
    assert entry.household_id == monitored.id and entry.detail["source"] == "国家系统导出.csv"
    assert entry.detail["identified_on"] == "2025-03-01" and entry.detail["category"] == "unstable"
    outside = outside_identification(monitored.id)
    assert outside is not None and outside.text == "系统外识别（导入）：国家系统导出.csv"
    followup = db.session.scalars(select(Case).filter_by(household_id=monitored.id)).all()
    assert [(c.procedure, c.status) for c in followup] == [("followup", "running")]
    assert db.session.scalars(select(HumanTask.name).filter_by(case_id=followup[0].id, state="READY")).all() == [
        "每月回访"]
    ordinary = db.session.scalar(select(Member).filter_by(name="一般户")).household
    assert ordinary.status == HouseholdStatus.ORDINARY and outside_identification(ordinary.id) is None
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.household_id == ordinary.id)) == 0


def test_every_problem_is_named_by_row_and_column_and_nothing_is_written(app, clock):
    registered = register_household(household_data("沙河村", "已登记", 1), "shahe_cun", clock)
    taken_id = registered.members[0].id_number
    rows = household("甲", 2)  # rows 2-3: good
    rows += household("外县", 1, LONGKOU_VILLAGE)  # row 4: not in 章贡区
    rows += [{VILLAGE: SHAHE, NAME: "重号", ID: rows[1][ID], RELATION: "户主", SEX: "不详"}]  # row 5
    rows += [{VILLAGE: SHAHE, NAME: "已登记者", ID: taken_id, RELATION: "户主", FORMERLY_POOR: "也许"}]  # row 6
    rows += [{VILLAGE: SHAHE, NUMBER: registered.number, NAME: "旧编号", ID: id_number(), RELATION: "户主"}]  # 7
    rows += [{VILLAGE: "360702101299", NAME: "无此村", ID: id_number(), RELATION: "户主"}]  # row 8
    rows += [{VILLAGE: SHAHE, NAME: "", ID: "36070219800101001", RELATION: "户主", PHONE: "电话13912345678"}]  # 9
    rows += household("未来", 1, **{**MONITORED, IDENTIFIED_ON: "2026-09-21", RISKS: "因穷"})  # row 10
    rows += household("缺日期", 1, **{CATEGORY: "边缘易致贫户", FORMERLY_POOR: "是"})  # row 11
    rows += household("无类别", 1, **{IDENTIFIED_ON: "2025-01-01", RISKS: "因病"})  # row 12
    rows += [{VILLAGE: SHAHE, NUMBER: "3607021012017777", NAME: "两户主甲", ID: id_number(), RELATION: "户主"},
             {NUMBER: "3607021012017777", NAME: "两户主乙", ID: id_number(), RELATION: "户主"}]  # rows 13-14
    rows += household("非脱贫", 1, **{**MONITORED, FORMERLY_POOR: "否"})  # row 15: 脱贫不稳定户 of a 一般农户
    refusal = _refused(rows, clock=clock)
    problems = _problems(refusal)
    assert (4, VILLAGE, "山东省烟台市龙口市诸由观镇诸由观村 不在 江西省赣州市章贡区 辖区内") in problems
    assert (5, SEX, "取值应为 男、女 之一") in problems
    assert (5, ID, "与第 3 行的身份证号相同（同一人只能登记一次）") in problems
    assert (6, ID, "身份证号已登记（已是某户的成员）") in problems
    assert (6, FORMERLY_POOR, "应填“是”或“否”，现为“也许”") in problems
    assert (7, NUMBER, f"户编号 {registered.number} 已登记") in problems
    assert (8, VILLAGE, "360702101299 不是已登记的村") in problems
    assert (9, NAME, "必填") in problems and (9, ID, FORM_PROBLEM) in problems
    assert (9, PHONE, "格式不正确") in problems
    assert (10, IDENTIFIED_ON, "识别纳入时间 2026-09-21 晚于今天") in problems
    assert any(p[:2] == (10, RISKS) and p[2].startswith("“因穷”不是风险类型，可选：因病、因学") for p in problems)
    assert (11, IDENTIFIED_ON, "填写了监测对象类别（A3）的户须填写识别纳入时间") in problems
    assert (11, CATEGORY, "边缘易致贫户是一般农户，脱贫户应为脱贫不稳定户（或突发严重困难户）") in problems
    assert (12, IDENTIFIED_ON, "识别纳入时间只用于监测对象：请同时填写监测对象类别（A3），或清空该格") in problems
    assert (12, RISKS, "风险类型只用于监测对象：请同时填写监测对象类别（A3），或清空该格") in problems
    assert (13, RELATION, "家庭成员中应有且只有一名户主（与户主关系为“户主”），现有 2 名") in problems
    assert (15, CATEGORY, "脱贫不稳定户须为脱贫户：是否脱贫户（A4）应填“是”") in problems
    assert not any(row in (2, 3) for row, _, _ in problems)  # the good household is not named
    assert [p[0] for p in problems] == sorted(p[0] for p in problems) and refusal.total == len(problems)
    listed = str(refusal) + " ".join(p[2] for p in problems)
    assert rows[1][ID] not in listed and taken_id not in listed and "13912345678" not in listed  # never in full


def test_a_cell_that_cannot_be_read_is_named_once_not_again_as_missing(app, clock):
    rows = household("读不了", 1, **{ID: 360702198001010016})  # an ID number saved as a number in Excel
    problems = _problems(_refused(as_xlsx(rows), clock=clock, file_name="h.xlsx"))
    assert problems == [(2, ID, "身份证号应以文本格式保存（数字格式会丢失末位），请把该列设为“文本”后重新填写")]


def test_the_list_of_problems_is_capped_and_says_how_many_more(app, clock):
    rows = [{VILLAGE: SHAHE, NAME: f"无号{i}", ID: f"12{i}", RELATION: "户主"} for i in range(MAX_LISTED + 30)]
    refusal = _refused(rows, clock=clock)
    assert refusal.total == MAX_LISTED + 30 and len(refusal.problems) == MAX_LISTED
    assert refusal.problems[0].row == 2 and "另有 30 处未列出" in str(refusal)


@pytest.mark.parametrize(("file_name", "content", "reason"), [
    ("households.txt", b"x", "只接受 CSV（UTF-8）或 Excel（.xlsx）文件"),
    ("households.csv", "姓名,身份证号".encode("utf-16"), "既不是 UTF-8 也不是 GBK 编码"),  # a GBK file is read (spreadsheets)
    ("households.xlsx", b"not a workbook", "不是有效的 Excel（.xlsx）文件"),
    ("households.csv", b"", "文件是空的"),
    ("households.csv", "姓名（A5）,身份证号（A7）\n".encode(), "表头缺少必填的列：所在村（行政区划代码）、与户主关系（A8）"),
    ("households.csv", as_csv([], header=[VILLAGE, NAME, ID, RELATION]), "没有数据行"),
])
def test_a_file_that_is_not_a_household_table_is_refused_saying_why(app, clock, file_name, content, reason):
    refusal = _refused(content, clock=clock, file_name=file_name)
    assert len(refusal.problems) == 1 and reason in refusal.problems[0].reason


def test_rows_without_a_household_number_belong_to_the_head_above_and_numbered_rows_to_their_number(app, clock):
    rows = [{VILLAGE: SHAHE, NUMBER: "3607021012018001", NAME: "编号户主", ID: id_number(), RELATION: "户主"},
            {VILLAGE: SHAHE, NAME: "无号户主", ID: id_number(), RELATION: "户主"},
            {NAME: "无号之子", ID: id_number(), RELATION: "子"},
            {NUMBER: "3607021012018001", NAME: "编号之妻", ID: id_number(), RELATION: "配偶"}]
    import_households("h.csv", as_csv(rows), COUNTY, clock)
    numbered = db.session.scalar(select(Household).filter_by(number="3607021012018001"))
    assert [m.name for m in numbered.members] == ["编号户主", "编号之妻"]
    other = db.session.scalar(select(Member).filter_by(name="无号户主")).household
    assert [m.name for m in other.members] == ["无号户主", "无号之子"]
    lone = [{NAME: "无户之人", ID: id_number(), RELATION: "子", VILLAGE: SHAHE}]
    assert _problems(_refused(lone, clock=clock)) == [
        (2, RELATION, "家庭成员中应有且只有一名户主（与户主关系为“户主”），现有 0 名")]


def test_a_household_where_no_member_lives_together_is_refused_at_its_head_row(app, clock):
    rows = household("不同住", 2)
    for row in rows:
        row[LIVES] = "否"
    assert _problems(_refused(rows, clock=clock)) == [
        (2, LIVES, NOBODY_LIVES_TOGETHER)]


def test_a_dry_run_checks_everything_and_writes_nothing(app, clock):
    rows = household("试导", 2, **MONITORED)
    before = (_count(Household), _count(AuditEvent), _count(Case))
    result = import_households("h.csv", as_csv(rows), COUNTY, clock, dry_run=True)
    assert (result.households, result.members, result.monitored, result.written) == (1, 2, 1, False)
    assert (_count(Household), _count(AuditEvent), _count(Case)) == before
    assert "校验通过，未写入任何内容" in result.text()


def test_only_an_official_who_registers_households_may_import_and_only_in_their_jurisdiction(app, clock):
    with pytest.raises(PermissionDenied, match="不能登记农户"):
        import_households("h.csv", as_csv(household("督导导入", 1)), "zhanggong_dudao", clock)
    problems = _problems(_refused(household("邻村户", 1, HUAPING), actor="shahe_cun", clock=clock))
    assert problems == [(2, VILLAGE, "江西省赣州市章贡区沙河镇华坪村 不在 江西省赣州市章贡区沙河镇沙河村 辖区内")]
    import_households("h.csv", as_csv(household("本村户", 1)), "shahe_cun", clock)  # a village cadre: their village


def test_writing_is_set_based_a_few_statements_per_chunk_whatever_the_number_of_households(app, clock):
    """Ten times the households, the same statements: the rows of each kind in one INSERT per chunk."""
    def statements(households: int, first: str) -> int:
        rows = [row for i in range(households) for row in household(f"{first}{i}", 3)]
        data = as_csv(rows)
        return statements_of(lambda: import_households("h.csv", data, COUNTY, clock))

    assert statements(100, "百") == statements(10, "十")


def test_the_template_is_the_registration_form_and_reads_back_as_an_empty_file(app, clock):
    from openpyxl import load_workbook

    content = template_xlsx()
    book = load_workbook(io.BytesIO(content))
    header = [cell.value for cell in book.worksheets[0][1]]
    assert header == [c.title for c in columns()]
    assert {VILLAGE, NAME, ID, RELATION, SEX, CATEGORY, IDENTIFIED_ON, RISKS} <= set(header)
    explained = [row[0] for row in book["填写说明"].iter_rows(values_only=True)]
    assert all(c.title in explained for c in columns())
    refusal = _refused(content, clock=clock, file_name="模板.xlsx")
    assert [p.reason for p in refusal.problems] == ["没有数据行：第 1 行为表头，其下每行一名家庭成员"]


def test_an_imported_monitored_household_is_assessed_with_its_measures_and_its_months(app, clock):
    """The elimination conditions read an imported household as any other: identified on its date (so the months
    since count), with the measures it came with in force from their day (so 帮扶措施落实半年以上 is met), and its
    income stable only once its follow-up has visited it (每月回访 in fangpin)."""
    from engine.elimination.eligibility import assess

    import_households("h.csv", as_csv(household("待消除", 2, **MONITORED)), COUNTY, clock)
    imported = db.session.scalar(select(Member).filter_by(name="待消除")).household
    result = assess(imported, date(2026, 9, 20))
    assert result.facts["months_since_identification"] == 18
    assert (result.facts["has_measures"], result.facts["first_measure"]) == (True, "2025-03-10")
    failed = [c.name for c in result.checks if not c.passed]
    assert failed == ["收入持续稳定半年以上"], result.explanation


def test_a_monitored_household_comes_with_its_measures_as_the_information_form_has_them(app, clock):
    """Each category A39–A52 a column (its items by name, or 是 for one without items): the measures are the
    household's in force from 帮扶措施落实时间, as an assistance plan's (without its case), with its 帮扶责任人."""
    rows = household("带措施", 2, **{**MONITORED, INDUSTRY: "种植业、养殖业", WATER: "是"})
    import_households("国家系统.csv", as_csv(rows), COUNTY, clock)
    imported = db.session.scalar(select(Member).filter_by(name="带措施")).household
    measures = db.session.scalars(select(Measure).filter_by(household_id=imported.id).order_by(Measure.id)).all()
    assert [(m.code, m.item, m.started_on, m.case_id, m.developmental) for m in measures] == [
        ("A39", "种植业", date(2025, 3, 10), None, True), ("A39", "养殖业", date(2025, 3, 10), None, True),
        ("A44", "饮水安全保障", date(2025, 3, 10), None, False), ("A45", "医疗救助", date(2025, 3, 10), None, False)]
    assert imported.responsible_person == "王帮扶"
    plan = plan_summaries([imported.id])[imported.id]
    assert plan.measures_text == "产业帮扶：种植业；产业帮扶：养殖业；饮水安全保障：饮水安全保障；健康帮扶：医疗救助"
    entry = db.session.scalar(select(AuditEvent).filter_by(action="household_identified_outside"))
    assert entry.detail["measures_started_on"] == "2025-03-10" and entry.detail["responsible_person"] == "王帮扶"
    assert len(entry.detail["measures"]) == 4


def test_a_monitored_households_measures_are_checked_and_an_ordinary_one_has_none(app, clock):
    rows = household("无措施", 1, **{FORMERLY_POOR: "是", CATEGORY: "脱贫不稳定户", IDENTIFIED_ON: "2025-03-01",
                                     RISKS: "因病"})  # row 2
    rows += household("错措施", 1, **{**MONITORED, INDUSTRY: "种菜", WATER: "也许"})  # row 3
    rows += household("早措施", 1, **{**MONITORED, MEASURES_FROM: "2025-02-28"})  # row 4
    rows += household("晚措施", 1, **{**MONITORED, MEASURES_FROM: "2026-09-21"})  # row 5
    rows += household("一般户", 1, **{INDUSTRY: "种植业", RESPONSIBLE: "李"})  # row 6
    problems = _problems(_refused(rows, clock=clock))
    assert problems == [
        (2, INDUSTRY, ("监测对象须填写帮扶措施（识别为监测对象后都要落实帮扶措施）：在户主行的帮扶措施列"
                      "（产业帮扶（A39）至基础设施建设（A52））填写已落实的措施")),
        (2, MEASURES_FROM, "监测对象须填写帮扶措施落实时间（风险消除按此计算帮扶时长）"),
        (2, RESPONSIBLE, "监测对象须填写帮扶责任人（每户确定 1 名）"),
        (3, INDUSTRY, "“种菜”不是产业帮扶，可选：种植业、林业、养殖业、加工业、乡村旅游、消费帮扶、其他"),
        (3, WATER, "应填“是”或“否”，现为“也许”"),
        (4, MEASURES_FROM, "帮扶措施落实时间 2025-02-28 早于识别纳入时间 2025-03-01：应填写识别纳入后针对其风险开始落实措施的日期"),
        (5, MEASURES_FROM, "帮扶措施落实时间 2026-09-21 晚于今天"),
        (6, RESPONSIBLE, "帮扶责任人只用于监测对象：请同时填写监测对象类别（A3），或清空该格"),
        (6, INDUSTRY, "帮扶措施只用于监测对象：请同时填写监测对象类别（A3），或清空各帮扶措施列"),
    ]


def test_a_village_where_the_monthly_follow_up_cannot_start_is_named_and_nothing_is_written(app, clock, monkeypatch):
    from engine.cases import household_import
    from engine.core.errors import PolicyMissing

    def missing(procedure, place, on):
        raise PolicyMissing(f"{place.full_name} 在 {on} 不能开始每月回访：未绑定流程（followup.process）")

    monkeypatch.setattr(household_import, "start_policy", missing)
    rows = household("一般", 1) + household("回访户", 1, **MONITORED) + household("回访户二", 1, **MONITORED)
    assert _problems(_refused(rows, clock=clock)) == [
        (3, CATEGORY, ("监测对象导入后须开始每月回访，但江西省赣州市章贡区沙河镇沙河村 在 2026-09-20 不能开始每月回访："
                      "未绑定流程（followup.process）"))]  # once for the village, at its first monitored household


def test_a_mistyped_id_number_is_refused_by_its_check_character_as_at_one_registration(app, clock):
    rows = household("校验", 2)
    good = rows[1][ID]
    rows[1][ID] = good[:-1] + ("0" if good[-1] != "0" else "1")  # the last character wrong
    problems = _problems(_refused(rows, clock=clock))
    assert [(row, column) for row, column, _ in problems] == [(3, ID)]
    assert "校验位" in problems[0][2] and good[:-1] not in problems[0][2]  # said why, the number not repeated
    assert db.session.scalar(select(Member.id).filter_by(name="校验")) is None  # nothing written
