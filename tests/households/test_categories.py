"""Which category a household may be given (engine.households.categories): 脱贫不稳定户 only a 脱贫户, 边缘易致贫户
only a 一般农户, 突发严重困难户 either (001 Q3, Q10) — the one rule of the household import and the county's decision."""
from __future__ import annotations

import pytest

from engine.households.categories import FORMERLY_POOR, NOT_FORMERLY_POOR, categories_for, category_mismatch


@pytest.mark.parametrize(("category", "formerly_poor", "mismatch"), [
    ("unstable", True, None), ("unstable", False, NOT_FORMERLY_POOR),
    ("marginal", False, None), ("marginal", True, FORMERLY_POOR),
    ("sudden", True, None), ("sudden", False, None), (None, False, None),
])
def test_a_category_fits_whether_the_household_is_formerly_poor(category, formerly_poor, mismatch):
    assert category_mismatch(category, formerly_poor) == mismatch


def test_the_categories_a_household_may_be_given():
    assert categories_for(True) == ["unstable", "sudden"] and categories_for(False) == ["marginal", "sudden"]
