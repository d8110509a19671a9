"""A step's instructions (办理说明, ``spiffworkflow:instructionsForEndUser``) may name the case's data, as
SpiffWorkflow's instructions do: ``{{ campaign.window_start }}`` is the value the step's data holds there (a text or
a number), so a diagram says what policy data sets — this year's 统计时段 and 时点, a deadline — without writing it
down. Only dotted data names are allowed between the braces (a deploy refuses anything else, :func:`problems`); a
name the step's data does not hold is shown as 未设定 and logged."""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

log = logging.getLogger(__name__)

PROPERTY = "instructionsForEndUser"
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"^\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*$")
MISSING = "（未设定）"


def filled(text: str, data: Mapping[str, Any]) -> str:
    """``text`` with each ``{{ name }}`` replaced by the value ``data`` holds at that dotted name."""
    def value(found: re.Match[str]) -> str:
        name = _NAME.match(found[1])
        node: Any = data if name else None
        for part in name[1].split(".") if name else ():
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, str | int | Decimal | float) and not isinstance(node, bool):
            return str(node)
        log.warning("instructions name %r, which the step's data does not hold", found[0])
        return MISSING
    return _BRACES.sub(value, text)


def problems(text: str) -> list[str]:
    """What is wrong with the placeholders of ``text``: each ``{{ … }}`` that is not a dotted data name."""
    return [f"说明文字中的 {found[0]} 不是数据名称：花括号中只能写数据的名称（如 {{{{ campaign.window_start }}}}）"
            for found in _BRACES.finditer(text) if not _NAME.match(found[1])]
