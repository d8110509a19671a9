"""One person, one ID number, however its check character X was typed (engine.core.id_numbers.normalised): a
registration, the household import, a member change, a self-application and a department's warning row all keep
and compare it with a capital X, so ``…x`` and ``…X`` are never two members."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.cases.household_import import import_households
from engine.cases.lifecycle import complete_task, open_member_change
from engine.cases.self_application import find_applicant_household
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.id_numbers import check_character, normalised
from engine.core.models import DepartmentWarning, HumanTask, Member
from engine.households.importing import ImportRefused
from engine.households.register import REGISTERED_ELSEWHERE, register_household
from engine.warnings.intake import import_batch
from engine.warnings.rows import read_json
from tests.bdd.officials import household_data
from tests.households.import_files import ID, as_csv, household


def _ending_in_x(start: int) -> str:
    """The first ID number of 章贡区 from serial ``start`` whose check character is X, typed with a small x."""
    for serial in range(start, start + 200):
        body = f"36070219800101{serial:03d}"
        if check_character(body) == "X":
            return body + "x"
    raise AssertionError("no check character X in 200 serials")


def _registered_with_small_x(clock, head: str, start: int) -> str:
    data = household_data("沙河村", head, 1)
    data["members"][0]["id_number"] = typed = _ending_in_x(start)
    register_household(data, "shahe_cun", clock)
    return typed


def test_normalised_takes_out_spaces_and_makes_the_x_a_capital():
    assert normalised(" 36070219800101 106x ") == "36070219800101106X"
    assert normalised("360702198001011063") == "360702198001011063"


def test_a_registration_keeps_a_small_x_as_a_capital_and_refuses_the_same_number_typed_either_way(app, clock):
    typed = _registered_with_small_x(clock, "小写户", 100)
    assert db.session.scalar(select(Member.id_number).filter_by(name="小写户")) == typed.upper()
    for again in (typed.upper(), typed):
        data = household_data("沙河村", "再登记", 1)
        data["members"][0]["id_number"] = again
        with pytest.raises(FormInvalid) as refused:
            register_household(data, "shahe_cun", clock)
        assert refused.value.errors == [("members/0/id_number", f"身份证号（A7）：{REGISTERED_ELSEWHERE}")]
    assert db.session.scalar(select(Member).filter_by(name="再登记")) is None


def test_the_import_finds_a_number_registered_with_a_small_x(app, clock):
    typed = _registered_with_small_x(clock, "已登记x", 300)
    rows = household("导入户", 1)
    rows[0][ID] = typed.upper()
    with pytest.raises(ImportRefused) as refused:
        import_households("h.csv", as_csv(rows), "zhanggong_xian", clock)
    assert [(p.row, p.reason) for p in refused.value.problems] == [(2, "身份证号已登记（已是某户的成员）")]


def test_a_member_change_keeps_the_new_members_x_as_a_capital_and_finds_a_leaving_one_typed_small(app, clock):
    household = register_household(household_data("沙河村", "变更户", 1), "shahe_cun", clock)
    born = _ending_in_x(500)
    case = open_member_change(household.id, date(2026, 9, 1), "shahe_cun", clock)
    task = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    complete_task(task.id, {"change_type": "birth", "changed_on": "2026-09-01", "proof": "出生医学证明",
                            "new_member": {"name": "新生儿", "id_number": born, "relation_to_head": "子"}},
                  "shahe_cun", clock)
    assert db.session.scalar(select(Member.id_number).filter_by(name="新生儿")) == born.upper()
    case = open_member_change(household.id, date(2026, 9, 15), "shahe_cun", clock)
    task = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    complete_task(task.id, {"change_type": "death", "changed_on": "2026-09-15", "proof": "死亡证明",
                            "leaving_id_number": born}, "shahe_cun", clock)  # typed small again
    db.session.expire_all()
    assert db.session.scalar(select(Member.lives_with_household).filter_by(name="新生儿")) is False


def test_a_self_application_and_a_warning_row_find_the_member_registered_with_a_small_x(app, clock):
    typed = _registered_with_small_x(clock, "申报户x", 700)
    assert find_applicant_household("360702101201", "申报户x", typed.upper()).head.name == "申报户x"
    assert find_applicant_household("360702101201", "申报户x", typed).head.name == "申报户x"
    row = {"name": "申报户x", "id_number": typed.upper(), "indicator": "out_of_pocket", "amount": 30000,
           "village": "360702101201", "date": "2026-09-10"}
    import_batch("medical", "2026-Q3", read_json([row]), "api", "zhanggong_yibao", clock)
    warning = db.session.scalar(select(DepartmentWarning))
    assert warning.id_number == typed.upper() and warning.household_id is not None
