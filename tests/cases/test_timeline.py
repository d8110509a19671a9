"""A case's 办理记录 (engine.cases.timeline): every entry in words, the codes of its detail by their labels."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.cases.timeline import timeline
from engine.cases.views import status_text
from engine.core.models import AuditEvent, Case

AT = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)


def _entry(action: str, **detail) -> tuple[str, str]:
    (entry,) = timeline([AuditEvent(at=AT, actor="shahe_zhen", action=action, detail=detail)], {})
    return entry.title, entry.text


@pytest.mark.parametrize(("action", "detail", "expected"), [
    ("warning_dispatched", {"warning_id": 3, "township": "章贡区沙河镇"}, ("交办乡镇核查", "交办章贡区沙河镇入户核查")),
    ("warning_verified", {"outcome": "not_included", "reason": "收入稳定"},
     ("预警核查结论", "不符合条件，列为重点关注：收入稳定")),
    ("warning_noted", {"department_name": "医保部门", "indicator_name": "个人自付医疗费用", "amount": 52000.0,
                       "date": "2026-09-01", "comparison": "正在办理绿色通道（LS-2026-000010）"},
     ("部门预警已备注", "医保部门预警：个人自付医疗费用 52000 元（2026-09-01）；正在办理绿色通道（LS-2026-000010）")),
    ("warnings_pushed", {"batch_id": 2, "counties": {"章贡区": 3, "南康区": 1}}, ("分解推送", "章贡区 3 条、南康区 1 条")),
    ("green_channel_entered", {"entered_on": "2026-09-20"}, ("纳入绿色通道", "2026-09-20 纳入绿色通道，即时帮扶")),
    ("measures_recorded", {"measures": [{"category": "A48", "item": "临时救助"}, {"category": "A40", "item": "以工代赈"}],
                           "responsible_person": "李四"},
     ("落实帮扶措施", "综合保障：临时救助；就业帮扶：以工代赈；帮扶责任人 李四")),
    ("annual_income_recorded", {"window": ["2025-10-01", "2026-09-30"]},
     ("采集年度收入", "统计时段 2025-10-01 至 2026-09-30")),
    ("outcome", {"outcome": "postponed", "reason": "最近一次回访发现新的风险"}, ("结果", "暂缓消除：最近一次回访发现新的风险")),
    ("outcome", {"outcome": "included", "reason": "大病自付高"}, ("结果", "符合条件，已启动识别：大病自付高")),
    ("case_closed", {"outcome": "qualified"}, ("办结", "符合监测对象条件")),
    ("outcome", {"outcome": "qualified", "reason": "符合监测对象条件，补充履行识别程序"},
     ("结果", "符合监测对象条件，补充履行识别程序")),  # not the outcome's words twice
    ("outcome", {"outcome": "rejected", "reason": ""}, ("结果", "不予纳入")),
    ("case_closed", {"outcome": "no_risk"}, ("办结", "无新的返贫致贫风险")),
    ("household_eliminated", {"mode": "natural", "on": "2026-09-24"}, ("风险消除", "自然消除，风险消除日期 2026-09-24")),
    ("household_removal", {"approved_on": "2026-09-24", "reference": "GB-1"},
     ("清退", "2026-09-24 经审核同意，全国系统备案编号 GB-1")),
    ("case_ended", {"by": "FX-2026-000003"}, ("结束办理", "由 FX-2026-000003 结束")),
])
def test_an_entry_reads_in_words(action, detail, expected):
    assert _entry(action, **detail) == expected


def test_a_member_change_names_its_kind_and_masks_the_leaving_members_id_number():
    title, text = _entry("members_changed", change_type="death", changed_on="2026-09-10", proof="死亡证明",
                         added=None, left="360702199001010013")
    assert title == "家庭成员变更"
    assert text == "死亡（2026-09-10），身份证号 360702********0013 的成员不再共同生活，证明材料：死亡证明"


def test_a_case_ended_with_a_diagrams_outcome_shows_its_label():
    assert status_text(Case(status="completed", outcome="postponed")) == "已办结（暂缓消除）"
    assert status_text(Case(status="completed", outcome="left_green_channel")) == "已办结（退出绿色通道）"

