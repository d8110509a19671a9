"""A file that is not well-formed XML is refused in Chinese (engine.bpmn.xml_errors): where, what and what to do,
never the parser's English."""
from __future__ import annotations

import re

import pytest
from lxml import etree

from engine.bpmn.xml_errors import ADVICE, xml_problem


def _problem(content: bytes) -> str:
    with pytest.raises(etree.XMLSyntaxError) as refused:
        etree.fromstring(content)
    return xml_problem(refused.value)


@pytest.mark.parametrize(("content", "expected"), [
    (b"hello", "第 1 行第 1 列，文件开头不是 XML 标签（应以“<”开始）"),
    (b"<bpmn:definitions>", "第 1 行第 18 列，用了没有声明的命名空间前缀 bpmn（元素 bpmn:definitions）：根元素应声明 xmlns:bpmn"),
    (b"<a b:c='1'/>", "用了没有声明的命名空间前缀 b（元素 a 的属性 b:c）"),
    (b"<a>\n<b>\n</a>", "第 3 行第 5 列，标签不配对：第 2 行开始的 <b> 与此处的结束标签 </a> 不对应"),
    (b"<a>\n<b>x", "文件不完整：第 2 行开始的 <b> 没有结束标签"),
    (b"<a></a><b/>", "根元素结束后还有其他内容"),
    (b"<a x='1' x='2'/>", "同一元素中属性 x 出现了两次"),
    (b"<a x=1/>", "属性值没有放在引号中"),
    (b"<a b></a>", "属性 b 没有值（应写作 b=\"值\"）"),
    (b"<a>&</a>", "“&”后缺少实体名称：文字中的 & 应写作 &amp;"),
    (b"<a>&x</a>", "以“&”开始的实体缺少“;”"),
    (b"<a>&foo;</a>", "未定义的实体 &foo;"),
    (b"<1a/>", "“<”后不是合法的元素名称"),
    (b"<a", "开始标签 <a> 没有写完（缺少“>”）"),
    (b"<a>\xff</a>", "含有不是 UTF-8 编码的字符"),
    (b"<a>\x01</a>", "含有 XML 不允许的控制字符"),
    (b"<a><!-- x</a>", "注释没有结束"),
    (b"<a><![CDATA[x</a>", "CDATA 段没有结束"),
    (b" <?xml version='1.0'?><a/>", "XML 声明（<?xml …?>）只能在文件最开头"),
])
def test_what_is_wrong_is_said_in_chinese(content, expected):
    problem = _problem(content)
    assert problem.startswith("不是格式正确的 XML 文件：第 ") and expected in problem and problem.endswith(ADVICE)
    assert not re.search(r"[A-Z][a-z]+ [a-z]+", problem.replace(ADVICE, "")), problem  # no English sentence
