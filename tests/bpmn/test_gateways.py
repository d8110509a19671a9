"""An exclusive gateway with a condition on every outgoing flow and no default flow stops a case when no condition
holds: a deploy says so as a notice (提示), not a refusal — unless the conditions are shown to cover every case
(each other's negation, or every value the variable can have: a form's choices, a script's or a decision table's
literal values), as in every shipped diagram."""
from __future__ import annotations

import io

import pytest
from lxml import etree

from engine.bpmn.forms import load_form
from engine.bpmn.gateways import gateway_notices
from engine.bpmn.parser import notices, procedures_in
from engine.bpmn.source import DiagramSource, bundle_for, read_directory
from engine.core.config import project_dir
from tests.bpmn.test_refusals import process
from tests.test_cli import fangpin  # noqa: F401 - the CLI fixture
from tests.webclient import csrf_token

ELIGIBLE = (b'sourceRef="eligible" targetRef="comparison_split">\n      <bpmn:conditionExpression '
            b'xsi:type="bpmn:tFormalExpression">decision == "approve"')


def slip() -> bytes:
    """identification.bpmn with a condition that reads "approved": never a value of the review forms."""
    content = (project_dir("processes") / "identification.bpmn").read_bytes()
    slipped = content.replace(ELIGIBLE, ELIGIBLE.replace(b'"approve"', b'"approved"'))
    assert slipped != content
    return slipped


def test_no_shipped_diagram_gets_a_notice():
    library = read_directory(project_dir("processes"))
    found = {pid: notices(bundle_for(main, library)) for main, pid in procedures_in(library)}
    assert len(found) > 10 and all(not n for n in found.values()), found


def test_a_condition_no_value_of_the_form_meets_is_noticed_naming_the_gateway_and_the_values():
    library = read_directory(project_dir("processes"))
    main = DiagramSource("identification.bpmn", slip())
    library = [main if s.file_name == main.file_name else s for s in library]
    assert notices(bundle_for(main, library)) == [
        ("exclusiveGateway 'eligible'（符合纳入条件？）：每条流出的顺序流都有条件，但没有默认流；decision 为 “approve” 时"
        "没有条件成立（条件中的 “approved” 不是它可能的取值：“approve”、“reject”）。条件都不成立时案件会停在这里，"
        "该步骤办理不能提交。建议把其中一条顺序流设为默认流（default），或修改条件使其覆盖所有情况")]


def _gateway(*conditions: str, default: bool = False, before: str = "") -> etree._ElementTree:
    flows = "".join(f'<bpmn:sequenceFlow id="c{i}" sourceRef="x" targetRef="end"><bpmn:conditionExpression>{c}'
                    "</bpmn:conditionExpression></bpmn:sequenceFlow>" for i, c in enumerate(conditions))
    outgoing = "".join(f"<bpmn:outgoing>c{i}</bpmn:outgoing>" for i in range(len(conditions)))
    marked = ' default="c0"' if default else ""
    middle = (f'{before}<bpmn:exclusiveGateway id="x" name="分数够吗"{marked}>'
              f"<bpmn:incoming>f1</bpmn:incoming>{outgoing}</bpmn:exclusiveGateway>{flows}")
    return etree.ElementTree(etree.fromstring(process(middle)))


@pytest.mark.parametrize("conditions", [
    ("passed", "not passed"),
    ('level == "city"', 'level != "city"'),
    ("score &gt;= 60", "score &lt; 60"),
    ('grade in ("A", "B")', 'grade not in ("A", "B")'),
])
def test_conditions_that_negate_each_other_need_no_default(conditions):
    assert gateway_notices([_gateway(*conditions)], load_form) == [[]]


def test_a_gateway_with_a_default_flow_needs_nothing():
    assert gateway_notices([_gateway("score &gt; 80", "score &lt; 20", default=True)], load_form) == [[]]


def test_conditions_whose_cover_cannot_be_shown_get_a_notice():
    (found,) = gateway_notices([_gateway("score &gt; 80", "score &lt; 20")], load_form)
    assert found == [("exclusiveGateway 'x'（分数够吗）：每条流出的顺序流都有条件，但没有默认流；条件都不成立时案件会停在这里，"
                     "该步骤办理不能提交。建议把其中一条顺序流设为默认流（default），或修改条件使其覆盖所有情况")]


SCRIPT = '<bpmn:scriptTask id="s" name="评级"><bpmn:script>{}</bpmn:script></bpmn:scriptTask>'


@pytest.mark.parametrize(("script", "noticed"), [
    ('grade = "A" if score &gt; 60 else "B"', False),  # every value the script gives is named
    ('grade = "A" if score &gt; 60 else "C"', True),  # "C": no condition
    ("grade = pick(score)", True),  # not a literal: cannot be told
])
def test_the_values_scripts_assign_tell_whether_the_conditions_cover_them(script, noticed):
    tree = _gateway('grade == "A"', 'grade == "B"', before=SCRIPT.format(script))
    (found,) = gateway_notices([tree], load_form)
    assert bool(found) == noticed, found
    if "C" in script:
        assert "grade 为 “C” 时没有条件成立" in found[0]


def _upload(client, content: bytes, name: str = "identification.bpmn", **fields):
    data = {"diagram": (io.BytesIO(content), name), "csrf_token": csrf_token(client.get("/diagrams").get_data(
        as_text=True)), **fields}
    return client.post("/diagrams/upload", data=data, content_type="multipart/form-data")


def test_the_upload_deploys_and_shows_the_notice(editor):
    response = _upload(editor, slip(), action="deploy")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "已部署：identification v2" in page
    assert '<p class="flash notice" role="status">提示：exclusiveGateway &#39;eligible&#39;（符合纳入条件？）：' in page


def test_the_draft_check_passes_and_shows_the_notice(editor):
    created = _upload(editor, slip(), action="draft")
    checked = editor.get(created.headers["Location"] + "?check=1").get_data(as_text=True)
    assert "校验通过" in checked and "提示：exclusiveGateway &#39;eligible&#39;" in checked and "“approved”" in checked


def test_the_cli_deploys_and_prints_the_notice(fangpin, tmp_path):  # noqa: F811 - the CLI fixture
    fangpin("init", "--demo")
    path = tmp_path / "identification.bpmn"
    path.write_bytes(slip())
    out = fangpin("--as", "jiangxi_zhengce", "process", "deploy", str(path))
    assert "已部署 identification v2" in out and "提示：exclusiveGateway 'eligible'（符合纳入条件？）" in out
