"""Form tables as cards (web.formrender): a new card starts with its items' defaults, and a card left as it was
added is no row; options without their own names read as the vocabulary's Chinese labels; an error in a card's
cell is kept for that cell."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from web.formrender import errors_by_field, fields_of, parse, table_rows

SCHEMA = {"properties": {
    "category": {"type": ["string", "null"], "enum": ["unstable", "marginal", "sudden", None], "title": "认定类别"},
    "members": {"type": "array", "title": "家庭成员（A5–A22）", "items": {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "title": "姓名（A5）"},
                       "lives_with_household": {"type": "boolean", "title": "实际共同生活", "default": True},
                       "dibao": {"type": "boolean", "title": "享受农村低保（A20）"}}}}}}


def test_a_new_card_has_its_defaults_and_an_untouched_one_is_no_row():
    fields = fields_of(SCHEMA)
    members = fields[1]
    assert members.item == "家庭成员" and table_rows(members, None) == [{"lives_with_household": True}]
    posted = MultiDict([("members-0-name", "张三"), ("members-0-lives_with_household", "on"),
                        ("members-1-lives_with_household", "on"),  # added, left as it was
                        ("members-2-dibao", "on"), ("members-2-lives_with_household", "on"),  # a box ticked
                        ("members-3-name", "李四")])  # its default box unticked: lives elsewhere
    assert parse(fields, posted)["members"] == [
        {"name": "张三", "lives_with_household": True, "dibao": False},
        {"lives_with_household": True, "dibao": True},
        {"name": "李四", "lives_with_household": False, "dibao": False}]
    assert table_rows(members, [{"name": "张三"}]) == [{"name": "张三"}]  # "添加家庭成员" adds the next one


def test_codes_read_as_their_chinese_labels():
    assert fields_of(SCHEMA)[0].choices == [("unstable", "脱贫不稳定户"), ("marginal", "边缘易致贫户"),
                                            ("sudden", "突发严重困难户")]


def test_a_cells_error_is_kept_for_the_cell_and_named_in_the_summary():
    errors = errors_by_field([("members/1/name", "必填"), ("category", "不是可选的值")], fields_of(SCHEMA))
    assert errors == {"members-1-name": "必填", "members": "第 2 行：姓名（A5）：必填", "category": "不是可选的值"}
