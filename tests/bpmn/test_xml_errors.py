"""A file that is not well-formed XML, or XML the BPMN / DMN schema refuses, is refused in Chinese
(engine.bpmn.xml_errors): where, which element, what and what to do, never the parser's English."""
from __future__ import annotations

import re

import pytest
from lxml import etree

from engine.bpmn.source import DiagramSource
from engine.bpmn.xml_errors import ADVICE, xml_problem
from engine.core.errors import DiagramInvalid
from engine.library.deploying import check_diagram
from engine.library.rules import parse_bundle
from tests.bpmn.test_refusals import process, table


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


# -- XML that the BPMN / DMN schema refuses (review 22, finding 4) ---------------------------------

def _schema_refusal(content: bytes, name: str = "t.bpmn") -> list[str]:
    source = DiagramSource(name, content)
    with pytest.raises(DiagramInvalid) as refused:
        if source.is_dmn:
            check_diagram(source)
        else:
            parse_bundle([source], source.process_ids()[0])
    return refused.value.problems


def _task(middle: str) -> bytes:
    return process(middle.replace("<task/>", '<bpmn:userTask id="x" name="审核">{io}</bpmn:userTask>'))


NO_TARGET_NAMESPACE = _task("<task/>").replace(b' targetNamespace="http://t"', b"")


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(("content", "expected"), [
    (NO_TARGET_NAMESPACE,
     ("第 4 行 definitions 'defs'：不符合 BPMN 2.0 规范，缺少必需的属性 targetNamespace；请在 <definitions> 上加上 "
     "targetNamespace=\"…\"")),
    (_task('<bpmn:userTask id="x" name="审核" foo="1">{io}</bpmn:userTask>'),
     "第 8 行 userTask 'x'（审核）：不符合 BPMN 2.0 规范，<userTask> 不能有属性 foo；请删除它"),
    (_task('<bpmn:userTask id="x" name="审核">{io}<bpmn:bogus/></bpmn:userTask>'),
     "userTask 'x'（审核）中的 <bogus>：不符合 BPMN 2.0 规范，<bogus> 不能出现在此处（此处可以是：outgoing、"),
    (_task('<bpmn:userTask id="x" name="审核" isForCompensation="maybe">{io}</bpmn:userTask>'),
     "属性 isForCompensation 的值 'maybe' 无效：应为 true 或 false"),
    (_task('<task/><bpmn:task id="x"/>'), "task 'x'：不符合 BPMN 2.0 规范，id 'x' 与本文件中另一元素的 id 重复"),
    (_task('<task/><bpmn:task id="1a"/>'), "id '1a' 的写法无效：id 须以字母或下划线开头"),
    (_task('<task/><bpmn:sequenceFlow id="f9" sourceRef="x"/>'),
     "sequenceFlow 'f9'：不符合 BPMN 2.0 规范，缺少必需的属性 targetRef"),
    (_task('<bpmn:userTask id="x" name="审核">{io}说明</bpmn:userTask>'), "<userTask> 中不能直接写文字"),
    (_task('<task/><bpmn:eventBasedGateway id="g" eventGatewayType="foo"/>'),
     "属性 eventGatewayType 的值 'foo' 不在允许的取值中（Exclusive、Parallel）；请改为其中之一"),
])
def test_a_schema_refusal_names_the_element_and_what_to_change_in_chinese(content, expected):
    problems = _schema_refusal(content)
    said = next((p for p in problems if "不符合 BPMN 2.0 规范" in p), "")
    assert expected in said, problems
    assert not re.search(r"[A-Z][a-z]+ [a-z]+|\{http", said), said  # no English sentence, no {namespace}tag
    assert "userTask 'x'（审核）：人工任务没有表单（属性 formJsonSchemaFilename）" in problems  # the lint: its own item


@pytest.mark.usefixtures("app")
def test_every_schema_problem_of_a_file_is_its_own_item():
    problems = _schema_refusal(_task('<bpmn:userTask id="x" name="审核" foo="1">{io}</bpmn:userTask>'
                                     '<bpmn:task id="x"/><bpmn:sequenceFlow id="f9"/>'))
    assert [p.split("：")[0] for p in problems] == [
        "第 8 行 userTask 'x'（审核）", "第 8 行 task 'x'", "第 8 行 sequenceFlow 'f9'", "第 8 行 sequenceFlow 'f9'",
        "userTask 'x'（审核）"]
    assert "sourceRef" in problems[2] and "targetRef" in problems[3]


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize("namespace", ["http://www.omg.org/spec/DMN/20180521/MODEL/",
                                       "https://www.omg.org/spec/DMN/20191111/MODEL/"])
def test_a_decision_table_the_dmn_schema_refuses_is_said_in_chinese(namespace):
    content = table(namespace).replace(b"<input ", b"<bogus /><input ").replace(b'"FIRST"', b'"FIRSTX"')
    problems = _schema_refusal(content, "grade.dmn")
    version = "1.2" if "2018" in namespace else "1.3"
    assert problems == [
        (f"第 5 行 decisionTable 'grade_table'：不符合 DMN {version} 规范，属性 hitPolicy 的值 'FIRSTX' 不在允许的取值中"
        "（UNIQUE、FIRST、PRIORITY、ANY、COLLECT、RULE ORDER、OUTPUT ORDER）；请改为其中之一"),
        (f"第 6 行 decisionTable 'grade_table'中的 <bogus>：不符合 DMN {version} 规范，<bogus> 不能出现在此处（此处可以是："
        "description、extensionElements、input、output）；请检查元素名称的拼写，名称无误时按规范规定的先后顺序调整它的位置，"
        "扩展内容放在 extensionElements 中")]
