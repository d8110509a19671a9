"""Resident ID numbers (GB 11643-1999): the check character, and what a refusal says (never the number)."""
from __future__ import annotations

import pytest

from engine.core.id_numbers import FORM_PROBLEM, check_character, id_number_problem, is_id_number, with_check_character

STANDARD_EXAMPLE = "11010519491231002X"  # GB 11643-1999's own example: its check character is X


def test_the_check_character_of_the_standard_example():
    assert check_character(STANDARD_EXAMPLE[:17]) == "X"
    assert with_check_character(STANDARD_EXAMPLE[:17]) == STANDARD_EXAMPLE
    assert id_number_problem(STANDARD_EXAMPLE) is None and is_id_number(STANDARD_EXAMPLE)


def test_a_lower_case_x_is_the_check_character_x():
    assert id_number_problem(STANDARD_EXAMPLE.lower()) is None


@pytest.mark.parametrize("typed", [
    "110105194912310021",  # the last character mistyped
    "11010519491231003X",  # one digit of the body mistyped
    "11010519491213002X",  # two digits of the body swapped
])
def test_a_mistyped_number_is_refused_naming_the_check_character_it_should_have(typed):
    problem = id_number_problem(typed)
    assert problem is not None and problem.startswith("校验位错误")
    assert f"第 18 位应为 {check_character(typed[:17])}" in problem
    assert typed not in problem and typed[:17] not in problem  # the number is never repeated
    assert not is_id_number(typed)


@pytest.mark.parametrize("typed", ["", "12345", "11010519491231002", "1101051949123100211", "11010519491231002Y",
                                   "1101051949123100 X"])
def test_a_number_not_of_17_digits_and_a_check_character_is_refused_for_its_form(typed):
    assert id_number_problem(typed) == FORM_PROBLEM  # the same words whatever was typed


def test_anything_but_text_is_left_to_the_forms_type():
    assert is_id_number(110105194912310021)
