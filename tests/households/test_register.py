"""Households and members (engine.households.register): the members read directly are the ones the ORM loads."""
from __future__ import annotations

from sqlalchemy import inspect

from engine.core.db import db
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
    household.members.append(Member(name="新成员", position=9, id_number="360702201001010011", relation_to_head="孙子"))
    db.session.commit()
    db.session.expunge_all()
    names = [m.name for m in db.session.get(Household, household_id).members]
    assert names[0] == "改名" and names[-1] == "新成员" and len(names) == 5
