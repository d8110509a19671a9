"""What is wrong with a file that is not well-formed XML (XML 格式错误), in words a policy editor can act on: where
(line and column), what (an undeclared namespace prefix, tags that do not pair, a file cut short …) and what to
do, from the XML parser's error code; the parser's own English is only logged."""
from __future__ import annotations

import logging
import re

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
