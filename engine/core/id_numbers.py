"""Resident ID numbers (公民身份号码, GB 11643-1999): 17 digits and a check character (ISO 7064 MOD 11-2), the one
check of a number wherever one enters the system — a household's members, a member change, a department's warning
rows, a self-application. Forms declare such a field with ``"format": "id-number"`` (:data:`FORMAT`, checked by
engine.bpmn.forms). A refusal says what is wrong and never repeats the number: it ends up in logs and messages.

Wherever a number enters it is first made :func:`normalised` — as it is stored and compared: without spaces, its
check character X a capital — so that one person is one number however it was typed (a member registered with
``…x`` is the warning row's ``…X``); migration 0019 made the numbers stored before so."""
from __future__ import annotations

import re
from typing import Any

ID_NUMBER = re.compile(r"^[0-9]{17}[0-9Xx]$")  # the form alone: 17 digits and a digit or X (x as typed)
FORMAT = "id-number"  # the JSON Schema format of a form field holding an ID number
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
WHITESPACE = re.compile(r"\s+")
FORM_PROBLEM = "应为 18 位（前 17 位为数字，最后一位为数字或 X）"


def normalised(value: str) -> str:
    """``value`` as an ID number is stored and compared: without spaces (as copied from a document or a sheet) and
    with a capital X (a check character typed as x). Anything else is left as it is, for the checks to name."""
    return WHITESPACE.sub("", value).upper()


def with_normalised(record: Any, key: str = "id_number") -> Any:
    """``record`` (a member's fields, as a form gives them) with its ID number at ``key`` :func:`normalised`, a new
    dict; anything else as it is."""
    if isinstance(record, dict) and isinstance(record.get(key), str):
        return {**record, key: normalised(record[key])}
    return record


def check_character(body: str) -> str:
    """The check character of the first 17 digits."""
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def with_check_character(body: str) -> str:
    """The ID number of the 17 digits ``body``: ``body`` and its check character (demo data, benchmarks, tests)."""
    return body + check_character(body)


def check_character_problem(id_number: str) -> str | None:
    """Why a well-formed number (:data:`ID_NUMBER`) cannot be a real one — its check character is wrong — or None;
    the words follow the field's name ("身份证号校验位错误，…")."""
    expected = check_character(id_number[:17])
    if id_number[17].upper() != expected:
        return (f"校验位错误，第 18 位应为 {expected}（按前 17 位计算）；请对照证件逐位核对："
                "多是前 17 位中有一位录错，不要只改最后一位")
    return None


def id_number_problem(value: str) -> str | None:
    """What is wrong with ``value`` as an ID number — its form or its check character — or None."""
    if not ID_NUMBER.match(value):
        return FORM_PROBLEM
    return check_character_problem(value)


def is_id_number(value: object) -> bool:
    """Is ``value`` a valid ID number? (anything but a string is left to the form's ``type``)"""
    return not isinstance(value, str) or id_number_problem(value) is None
