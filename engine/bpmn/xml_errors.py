"""What is wrong with a file that is not well-formed XML (XML 格式错误), in words a policy editor can act on: where
(line and column), what (an undeclared namespace prefix, tags that do not pair, a file cut short …) and what to
do, from the XML parser's error code; and what is wrong with one that is XML but not what the BPMN or DMN schema
(XSD) allows (:func:`schema_problems`: a required attribute missing, an element where it may not stand, a value of
the wrong kind, a duplicate id …), naming the element. The parser's own English is only logged."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

from lxml import etree

log = logging.getLogger(__name__)

# libxml2's error codes (xmlParserErrors) → what they mean; {0}, {1}, … are the names the message gives
_WHAT: dict[int, tuple[str, str]] = {  # code → (pattern of its message, words)
    4: ("", "文件开头不是 XML 标签（应以“<”开始），可能不是流程图文件，或文件已损坏"),
    5: ("", "根元素结束后还有其他内容（一个文件只能有一个根元素，可能把两个文件拼在了一起）"),
    9: ("", "含有 XML 不允许的控制字符"),
    23: ("", "以“&”开始的实体缺少“;”：文字中的 & 应写作 &amp;"),
    26: (r"Entity '([^']+)'", "未定义的实体 &{0};：文字中的 & 应写作 &amp;"),
    39: ("", "属性值没有放在引号中（应写作 名称=\"值\"）"),
    41: (r"attribute (\S+?),", "属性 {0} 没有值（应写作 {0}=\"值\"）"),
    42: (r"Attribute (\S+) redefined", "同一元素中属性 {0} 出现了两次"),
    45: ("", "注释没有结束（缺少“-->”）"),
    63: ("", "CDATA 段没有结束（缺少“]]>”）"),
    64: ("", "XML 声明（<?xml …?>）只能在文件最开头，前面不能有空格、空行或其他字符"),
    73: (r"Start Tag (\S+)", "开始标签 <{0}> 没有写完（缺少“>”）"),
    76: (r"mismatch: (\S+) line (\d+) and (\S+?),", "标签不配对：第 {1} 行开始的 <{0}> 与此处的结束标签 </{2}> 不对应"),
    77: (r"in tag (\S+) line (\d+)", "文件不完整：第 {1} 行开始的 <{0}> 没有结束标签，文件可能被截断或只保存了一部分"),
    81: ("", "含有不是 UTF-8 编码的字符（请以 UTF-8 编码保存文件）"),
    201: (r"prefix (\S+) on (\S+) is", "用了没有声明的命名空间前缀 {0}（元素 {0}:{1}）：根元素应声明 xmlns:{0}=\"…\""),
}
_ATTRIBUTE_PREFIX = (r"prefix (\S+) for (\S+) on (\S+) is",  # code 201 too, for an attribute
                     "用了没有声明的命名空间前缀 {0}（元素 {2} 的属性 {0}:{1}）：根元素应声明 xmlns:{0}=\"…\"")
_NAME_REQUIRED = 68  # "xmlParseEntityRef: no name" or "StartTag: invalid element name"
_COLUMN = re.compile(r"column (\d+)")
OTHER = "写法不符合 XML 的规则"
ADVICE = "请用流程图编辑器（如本系统的在线编辑器）打开、重新保存后再上传，或用文本编辑器改正该处"


def xml_problem(error: etree.XMLSyntaxError) -> str:
    """The problem of a file the parser refused, in words: 不是格式正确的 XML 文件：第 3 行第 5 列，标签不配对：…。请…"""
    message = error.msg or ""
    log.info("not well-formed XML (libxml2 error %s): %s", error.code, message)
    column = _COLUMN.search(message)
    where = f"第 {error.lineno} 行" + (f"第 {column.group(1)} 列" if column else "")
    return f"不是格式正确的 XML 文件：{where}，{_what(error.code, message)}。{ADVICE}"


def _what(code: int, message: str) -> str:
    if code == _NAME_REQUIRED:
        return ("“&”后缺少实体名称：文字中的 & 应写作 &amp;" if "EntityRef" in message
                else "“<”后不是合法的元素名称：文字中的 < 应写作 &lt;")
    pattern, words = _ATTRIBUTE_PREFIX if " for " in message and code == 201 else _WHAT.get(code, ("", OTHER))
    found = re.search(pattern, message) if pattern else None
    if pattern and found is None:
        return OTHER
    return words.format(*found.groups()) if found else words


# -- a file that is XML but not what the BPMN / DMN schema (XSD) allows ---------------------------

_SCHEMA_ELEMENT = re.compile(r"^Element '(?P<element>[^']+)'(?:, attribute '(?P<attribute>[^']+)')?: (?P<rest>.*)$",
                             re.DOTALL)
_EXPECTED = re.compile(r"Expected is (?:one of )?\( (?P<names>[^)]*) \)")
_VALUE_TYPE = re.compile(r"^'(?P<value>[^']*)' is not a valid value of the (?:local )?(?:atomic|list|union) type"
                         r"(?: '(?P<type>[^']+)')?")
_ENUMERATION = re.compile(r"The value '(?P<value>[^']*)' is not an element of the set \{(?P<allowed>[^}]*)\}")
_VALUE_WORDS = {  # an XSD type → what a value of it is
    "xs:boolean": "true 或 false", "xs:integer": "整数", "xs:int": "整数", "xs:decimal": "数字",
    "xs:QName": "（可带命名空间前缀的）名称，如 bpmn:tMessage", "xs:anyURI": "URI（地址），如 http://bpmn.io/schema/bpmn",
    "xs:IDREF": "本文件中另一元素的 id", "xs:IDREFS": "本文件中其他元素的 id（以空格分隔）",
}
_NCNAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
_ID_RULE = "id 须以字母或下划线开头，只含字母、数字、下划线、“-”和“.”"
SCHEMA_ADVICE = "请用流程图编辑器打开该文件、改正后重新保存再上传"
KNOCK_ON = "（其后另有结构问题，可能由此引起，改正此处后请重新校验）"
_MISPLACED = "This element is not expected"


def schema_problems(errors: Iterable[tuple[str, int | None]], tree: etree._ElementTree | None, standard: str,
                    describe: Callable[[etree._Element], str]) -> list[str]:
    """Each problem the schema check found in ``tree`` (``errors``: libxml2's messages and lines), in words: 第 4 行
    元素 <definitions>：不符合 BPMN 2.0 规范，缺少必需的属性 targetNamespace；请加上 targetNamespace="…"。 An element
    that may not stand where it is usually upsets the checks after it in the same file: only the first such is said.
    ``describe`` names an element that has an id (userTask 'x'（审核）)."""
    problems: list[str] = []
    misplaced: int | None = None  # the index of the first element that may not stand where it is
    for message, line in errors:
        log.info("schema (%s) refused line %s: %s", standard, line, message)
        if _MISPLACED in message and misplaced is not None:
            problems[misplaced] = problems[misplaced].removesuffix(KNOCK_ON) + KNOCK_ON
            continue
        problem = schema_problem(message, line, tree, standard, describe)
        if _MISPLACED in message:
            misplaced = len(problems)
        if problem not in problems:
            problems.append(problem)
    return problems


def schema_problem(message: str, line: int | None, tree: etree._ElementTree | None, standard: str,
                   describe: Callable[[etree._Element], str]) -> str:
    """One schema refusal in words, naming the line, the element and what to change (:func:`schema_problems`)."""
    found = _SCHEMA_ELEMENT.match(message.strip())
    where = f"第 {line} 行 " if line else ""
    if found is None:
        return f"{where}不符合 {standard} 规范的写法：{SCHEMA_ADVICE}"
    node = _node(tree, found["element"], line)
    element = _element_words(found["element"], node, describe)
    what = _schema_what(found["rest"].strip().rstrip("."), found["element"], found["attribute"], node)
    return f"{where}{element}：不符合 {standard} 规范，{what}"


def _schema_what(rest: str, element: str, attribute: str | None, node: etree._Element | None) -> str:
    tag = _local(element)
    missing = re.match(r"The attribute '([^']+)' is required but missing", rest)
    if missing:
        return f"缺少必需的属性 {missing[1]}；请在 <{tag}> 上加上 {missing[1]}=\"…\""
    if "is not allowed" in rest and attribute:
        return (f"<{tag}> 不能有属性 {_local(attribute)}；请删除它（本系统和其他编辑器的扩展属性须带命名空间前缀，"
                "如 spiffworkflow:…）")
    if _MISPLACED in rest or "Missing child element" in rest:
        expected = _EXPECTED.search(rest)
        allowed = "、".join(_local(n.strip()) for n in expected["names"].split(",")) if expected else ""
        if "Missing child element" in rest:
            return f"<{tag}> 缺少必需的子元素（应有：{allowed or '见规范'}）；请补上"
        return (f"<{tag}> 不能出现在此处" + (f"（此处可以是：{allowed}）" if allowed else "")
                + "；请检查元素名称的拼写，名称无误时按规范规定的先后顺序调整它的位置，扩展内容放在 extensionElements 中")
    if "No matching global declaration available for the validation root" in rest:
        return (f"根元素 <{tag}>（{_namespace_words(element)}）不能部署；流程图的根元素应为 BPMN 2.0 的 definitions"
                "（命名空间 http://www.omg.org/spec/BPMN/20100524/MODEL），决策表应为 DMN 的 definitions")
    if "Character content other than whitespace is not allowed" in rest:
        return f"<{tag}> 中不能直接写文字；文字请写在 documentation 等子元素中，或删除"
    if "Element content is not allowed" in rest:
        return f"<{tag}> 中只能写文字，不能有子元素；请删除其中的子元素"
    enumeration = _ENUMERATION.search(rest)
    if enumeration:
        allowed = "、".join(a.strip().strip("'") for a in enumeration["allowed"].split(","))
        return f"{_attribute_words(attribute)}的值 '{enumeration['value']}' 不在允许的取值中（{allowed}）；请改为其中之一"
    value = _VALUE_TYPE.match(rest)
    if value:
        return _value_words(value["value"], value["type"] or "", attribute, node)
    return f"写法不符合规范：{SCHEMA_ADVICE}"


def _value_words(value: str, kind: str, attribute: str | None, node: etree._Element | None) -> str:
    named = _attribute_words(attribute)
    if kind == "xs:ID":
        if _NCNAME.match(value) and node is not None and _id_count(node, value) > 1:
            return f"id '{value}' 与本文件中另一元素的 id 重复；每个元素的 id 须唯一，请改为另一个 id"
        return f"id '{value}' 的写法无效：{_ID_RULE}；请改正"
    wanted = _VALUE_WORDS.get(kind)
    return f"{named}的值 '{value}' 无效" + (f"：应为 {wanted}" if wanted else f"（不符合类型 {_local(kind)}）") + "；请改正"


def _attribute_words(attribute: str | None) -> str:
    return f"属性 {_local(attribute)} " if attribute else "内容"


def _element_words(element: str, node: etree._Element | None, describe: Callable[[etree._Element], str]) -> str:
    """``userTask 'x'（审核）`` for an element with an id, ``userTask 'x'（审核）中的 <bogus>`` for one inside it."""
    tag = f"<{_local(element)}>"
    if node is None:
        return f"元素 {tag}"
    if node.get("id") is not None:
        return describe(node)
    parent = node.getparent()
    return f"{describe(parent)}中的 {tag}" if parent is not None and describe(parent) != "文件" else f"元素 {tag}"


def _node(tree: etree._ElementTree | None, element: str, line: int | None) -> etree._Element | None:
    """The element a message is about: its tag on the line given (the only one of its tag if the line says none)."""
    if tree is None:
        return None
    candidates = [n for n in tree.getroot().iter(element)]
    on_line = [n for n in candidates if n.sourceline == line]
    return (on_line or (candidates if len(candidates) == 1 else [None]))[0]


def _id_count(node: etree._Element, value: str) -> int:
    return sum(1 for n in node.getroottree().getroot().iter() if isinstance(n.tag, str) and n.get("id") == value)


def _namespace_words(element: str) -> str:
    namespace = etree.QName(element).namespace if element.startswith("{") else None
    return f"命名空间 {namespace}" if namespace else "没有命名空间"


def _local(name: str) -> str:
    return etree.QName(name).localname if name.startswith("{") else name
