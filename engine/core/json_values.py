"""JSON values (JSON 数据) that officials, policy editors and other systems send — form data, policy values, API
bodies: how deep they may nest, and the JSON Schema validator they are checked with, whose numbers are finite."""
from __future__ import annotations

import math
from typing import Any

from jsonschema import Draft202012Validator, validators


def json_depth(value: Any, limit: int) -> bool:
    """Is the parsed JSON ``value`` nested at most ``limit`` levels deep? (counted without recursion)"""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return False
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def _finite_number(checker: Any, instance: Any) -> bool:
    """A number is a finite one: JSON has no NaN or Infinity, but Python's parser and a typed "nan" make them, and
    they pass every ``minimum`` and ``maximum``."""
    return (Draft202012Validator.TYPE_CHECKER.is_type(instance, "number")
            and not (isinstance(instance, float) and not math.isfinite(instance)))


FiniteValidator = validators.extend(
    Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _finite_number))
"""JSON Schema draft 2020-12, numbers finite."""
