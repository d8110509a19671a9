"""Resident ID numbers (公民身份号码, GB 11643-1999): 17 digits and a check character (ISO 7064 MOD 11-2)."""
from __future__ import annotations

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"


def check_character(body: str) -> str:
    """The check character of the first 17 digits."""
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def check_character_problem(id_number: str) -> str | None:
    """Why a well-formed 18-character number cannot be a real one (its check character is wrong), or None."""
    expected = check_character(id_number[:17])
    if id_number[17] != expected:
        return f"身份证号校验位不正确：{id_number}（按 GB 11643 最后一位应为 {expected}，请核对是否录错）"
    return None
