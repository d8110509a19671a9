"""Households and members (engine.households.register): the members read directly are the ones the ORM loads."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from engine.core.db import db
from engine.core.errors import FormInvalid, RuleViolation
from engine.core.id_numbers import check_character, with_check_character
from engine.core.models import Household, Member
from engine.households.register import members_of, register_household
from tests.bdd.officials import household_data
from tests.factories import statements_of


def test_members_read_directly_are_the_members_the_orm_loads_in_their_order(app, clock):
    household_id = register_household(household_data("沙河村", "成员户", 4), "shahe_cun", clock).id
    db.session.commit()
    db.session.expunge_all()
    loaded = [(m.id, m.name, m.position, m.lives_with_household) for m in db.session.get(Household,
                                                                                         household_id).members]
    db.session.expunge_all()
    household = db.session.get(Household, household_id)
    assert statements_of(lambda: members_of(household)) == 1
    assert [(m.id, m.name, m.position, m.lives_with_household) for m in household.members] == loaded
    assert len(loaded) == 4
    assert statements_of(lambda: (members_of(household), household.size, household.members[0].household)) == 0
    assert all(inspect(m).persistent and not inspect(m).modified for m in household.members)

    household.members[0].name = "改名"  # changed and added as through a lazily loaded collection
    household.members.append(Member(name="新成员", position=9, id_number=with_check_character("36070220100101001"), relation_to_head="孙子"))
    db.session.commit()
    db.session.expunge_all()
    names = [m.name for m in db.session.get(Household, household_id).members]
    assert names[0] == "改名" and names[-1] == "新成员" and len(names) == 5


def test_a_number_typed_by_hand_is_passed_by_the_numbers_made_after_it(app, clock):
    """户编号 left empty is the village's code and the next sequence number after the highest given so far: a number
    typed by hand in the same form counts, so that the next one made is free (it was count + 1, taken)."""
    first = register_household(household_data("沙河村", "编号甲", 1), "shahe_cun", clock).number
    code, sequence = first[:12], int(first[12:])
    typed = register_household({**household_data("沙河村", "编号乙", 1), "number": f"{code}{sequence + 5:04d}"},
                               "shahe_cun", clock)
    made = register_household(household_data("沙河村", "编号丙", 1), "shahe_cun", clock)
    assert made.number == f"{code}{sequence + 6:04d}" and typed.number == f"{code}{sequence + 5:04d}"


def test_a_number_already_registered_is_refused_naming_the_field(app, clock):
    taken = register_household(household_data("沙河村", "编号丁", 1), "shahe_cun", clock).number
    with pytest.raises(RuleViolation) as refused:
        register_household({**household_data("沙河村", "编号戊", 1), "number": taken}, "shahe_cun", clock)
    assert refused.value.field == "number" and str(refused.value) == f"户编号 {taken} 已登记"
    assert db.session.query(Household).filter_by(number=taken).count() == 1


def test_a_telephone_number_is_digits(app, clock):
    with pytest.raises(FormInvalid) as refused:
        register_household({**household_data("沙河村", "电话户", 1), "contact_phone": "abc"}, "shahe_cun", clock)
    assert ("contact_phone", "联系电话（不公开）：格式不正确") in refused.value.errors
    for phone in ("13900000001", "0797-8123456", "+86 139 0000 0001"):
        register_household({**household_data("沙河村", f"电话户{phone[-2:]}", 1), "contact_phone": phone}, "shahe_cun",
                           clock)


def _mistyped(id_number: str) -> str:
    """``id_number`` with one digit of its body mistyped (its check character no longer fits)."""
    return f"{(int(id_number[0]) + 1) % 10}{id_number[1:]}"


def test_a_mistyped_id_number_is_refused_naming_the_member_and_its_check_character(app, clock):
    data = household_data("沙河村", "录错户", 2)
    typed = data["members"][1]["id_number"] = _mistyped(data["members"][1]["id_number"])
    with pytest.raises(FormInvalid) as refused:
        register_household(data, "shahe_cun", clock)
    assert [field for field, _ in refused.value.errors] == ["members/1/id_number"]
    reason = dict(refused.value.errors)["members/1/id_number"]
    assert reason.startswith("身份证号（A7）：校验位错误") and f"第 18 位应为 {check_character(typed[:17])}" in reason
    assert typed not in str(refused.value)  # the number is not repeated (the message reaches logs and API answers)
    assert db.session.query(Member).filter(Member.name.startswith("录错户")).count() == 0


def test_an_id_number_registered_already_is_refused_without_showing_it_in_full(app, clock):
    first = household_data("沙河村", "重号甲", 1)
    register_household(first, "shahe_cun", clock)
    taken = first["members"][0]["id_number"]
    again = household_data("沙河村", "重号乙", 1)
    again["members"][0]["id_number"] = taken
    with pytest.raises(FormInvalid) as refused:
        register_household(again, "shahe_cun", clock)
    assert refused.value.errors == [("members/0/id_number", ("身份证号（A7）：已登记为其他农户的成员（一人只能是一户的成员）："
                                     "请核对号码；如确为本户成员，请联系乡镇（街道）或县级乡村振兴部门查明原登记后办理家庭成员变更"))]
    assert taken[-4:] not in str(refused.value)  # neither the number nor where it is registered
    assert db.session.query(Member).filter_by(name="重号乙").count() == 0


def test_an_id_number_typed_twice_is_refused_at_the_second_naming_the_first(app, clock):
    data = household_data("沙河村", "重复户", 3)
    data["members"][2]["id_number"] = data["members"][1]["id_number"]
    with pytest.raises(FormInvalid) as refused:
        register_household(data, "shahe_cun", clock)
    assert refused.value.errors == [("members/2/id_number", "身份证号（A7）：与第 2 行的身份证号相同，同一人只填写一次")]


def test_a_household_without_members_is_asked_for_one(app, clock):
    with pytest.raises(FormInvalid) as refused:
        register_household({"village": "360702101201", "members": []}, "shahe_cun", clock)
    assert refused.value.errors == [("members", "家庭成员（A5–A22）：至少填写 1 名家庭成员")]


def test_a_household_where_no_member_lives_together_is_refused(app, clock):
    """Its size (家庭人口数, 001 Q16: the members living together and sharing income) would be 0, and every
    per-capita income divided by it."""
    data = household_data("沙河村", "无人户", 2)
    for member in data["members"]:
        member["lives_with_household"] = False
    with pytest.raises(RuleViolation, match="家庭成员中至少应有一人“实际共同生活”") as refused:
        register_household(data, "shahe_cun", clock)
    assert refused.value.field == "members"
    assert db.session.query(Member).filter_by(name="无人户").first() is None
    data["members"][1]["lives_with_household"] = True
    assert register_household(data, "shahe_cun", clock).size == 1
