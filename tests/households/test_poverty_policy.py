"""Whether a formerly poor household enjoys the poverty policies (engine.households.poverty_policy): Longkou's 脱贫不稳定户
whose risk is eliminated is managed as a 脱贫享受政策户 from then on (003 六（二）); a household that is not formerly
poor cannot be."""
from __future__ import annotations

import pytest

from engine.core.errors import RuleViolation
from engine.core.models import Household
from engine.households.poverty_policy import mark_enjoying, status_label


def test_a_formerly_poor_household_not_enjoying_the_policies_is_managed_as_enjoying_them():
    household = Household(number="3706811042010001", is_formerly_poor=True, enjoys_poverty_policy=False)
    mark_enjoying(household)
    assert household.enjoys_poverty_policy and status_label(household) == "是（享受政策）"


def test_a_household_that_is_not_formerly_poor_is_refused_in_chinese_and_unchanged():
    household = Household(number="3706811042010002", is_formerly_poor=False, enjoys_poverty_policy=False)
    with pytest.raises(RuleViolation, match="户 3706811042010002 不是脱贫户，不能作为脱贫享受政策户管理"):
        mark_enjoying(household)
    assert not household.enjoys_poverty_policy
