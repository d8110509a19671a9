"""Task forms (JSON Schema): every free-text field and every list has a size limit, and a value over it is
refused naming the field, in Chinese (no field can grow a case's state, its audit and its form data without
bound)."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from engine.bpmn.forms import validate_form
from engine.core.config import project_dir
from engine.core.errors import FormInvalid

FORMS = sorted(project_dir("forms").glob("*.json"))
BOUNDED_BY_SHAPE = ("maxLength", "enum", "const", "format", "pattern")


def _nodes(node: object, path: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _nodes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{path}[{index}]")


def _types(node: dict) -> set[str]:
    kind = node.get("type")
    return {kind} if isinstance(kind, str) else set(kind or [])


@pytest.mark.parametrize("form", FORMS, ids=lambda p: p.name)
def test_every_text_field_and_list_of_a_form_is_bounded(form):
    schema = json.loads(form.read_text(encoding="utf-8"))
    unbounded = [path for path, node in _nodes(schema)
                 if ("string" in _types(node) and not any(k in node for k in BOUNDED_BY_SHAPE))
                 or ("array" in _types(node) and "maxItems" not in node)]
    assert unbounded == []


def test_ten_million_characters_of_notes_are_refused_naming_the_field():
    data = {"visited_on": "2026-11-20", "income_stable": True, "measures_effective": True, "new_risk": False,
            "notes": "很" * 10_000_000}
    with pytest.raises(FormInvalid) as refused:
        validate_form("monthly_revisit.json", data)
    assert ("notes", "回访记录：最多 2000 个字符") in refused.value.errors


def test_a_member_field_longer_than_its_column_is_refused():
    household = {"village": "360702101201", "members": [
        {"name": "甲" * 51, "relation_to_head": "户主", "id_number": "360702199001010011"}]}
    with pytest.raises(FormInvalid) as refused:
        validate_form("register_household.json", household)
    assert any(field == "members/0/name" and "最多 50 个字符" in reason for field, reason in refused.value.errors)
