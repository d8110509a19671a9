"""Edited copies of the repository's diagrams, made the way a policy editor would in the modeler (delete
elements, draw a flow, rename a step), for the policy-editing and migration tests."""
from __future__ import annotations

from lxml import etree

from engine.core.config import project_dir

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI}

ZHANGGONG_2021 = "identification_zhanggong_2021.bpmn"
TOWN_PUBLICITY = ("town_post", "town_set", "town_publicity", "town_result")
NEW_FLOW = "Flow_township_review_ok_county_approval"


def zhanggong_2021() -> bytes:
    return (project_dir("processes") / ZHANGGONG_2021).read_bytes()


def _dump(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def _by_id(root: etree._Element, element_id: str) -> etree._Element:
    found = root.find(f".//*[@id='{element_id}']")
    assert found is not None, element_id
    return found


def _remove(node: etree._Element) -> None:
    node.getparent().remove(node)


def without_town_publicity(content: bytes | None = None, process_id: str | None = None,
                           name: str | None = None) -> bytes:
    """章贡区's 2021 diagram with the 镇村两级公示 deleted: 镇级审核 “通过” leads straight to 区级审定.

    ``process_id``/``name`` give the copy a new procedure key (bound from a date); without them the copy is a
    new version of the same procedure."""
    root = etree.fromstring(content or zhanggong_2021())
    process = root.find("bpmn:process", NS)
    flows = [f for f in process.iterfind("bpmn:sequenceFlow", NS)
             if f.get("sourceRef") in TOWN_PUBLICITY or f.get("targetRef") in TOWN_PUBLICITY]
    gone = set(TOWN_PUBLICITY) | {f.get("id") for f in flows}
    for flow in flows:
        _remove(flow)
    for element_id in TOWN_PUBLICITY:
        _remove(_by_id(process, element_id))
    for ref in list(process.iterfind(".//bpmn:flowNodeRef", NS)):
        if ref.text in gone:
            _remove(ref)
    for ref in list(process.iter(f"{{{BPMN}}}incoming", f"{{{BPMN}}}outgoing")):
        if ref.text in gone:
            _remove(ref)
    for shape in list(root.iterfind(".//bpmndi:BPMNPlane/*", NS)):
        if shape.get("bpmnElement") in gone:
            _remove(shape)
    _draw_flow(root, process)
    if process_id:
        _rename_process(root, process, process_id, name or process_id)
    return _dump(root)


def _draw_flow(root: etree._Element, process: etree._Element) -> None:
    flow = etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id=NEW_FLOW, name="通过",
                            sourceRef="township_review_ok", targetRef="county_approval")
    condition = etree.SubElement(flow, f"{{{BPMN}}}conditionExpression", {f"{{{XSI}}}type": "bpmn:tFormalExpression"})
    condition.text = 'decision == "approve"'
    etree.SubElement(_by_id(process, "township_review_ok"), f"{{{BPMN}}}outgoing").text = NEW_FLOW
    approval = _by_id(process, "county_approval")
    incoming = etree.Element(f"{{{BPMN}}}incoming")
    incoming.text = NEW_FLOW
    approval.find(f"{{{BPMN}}}outgoing").addprevious(incoming)
    gateway = root.find(".//bpmndi:BPMNShape[@bpmnElement='township_review_ok']/dc:Bounds", NS)
    target = root.find(".//bpmndi:BPMNShape[@bpmnElement='county_approval']/dc:Bounds", NS)
    gx, gy = float(gateway.get("x")) + float(gateway.get("width")), float(gateway.get("y")) + 25
    tx, ty = float(target.get("x")), float(target.get("y")) + float(target.get("height")) / 2
    edge = etree.SubElement(root.find(".//bpmndi:BPMNPlane", NS), f"{{{BPMNDI}}}BPMNEdge", id=f"{NEW_FLOW}_di",
                            bpmnElement=NEW_FLOW)
    for x, y in ((gx, gy), (gx + 40, gy), (gx + 40, ty), (tx, ty)):
        etree.SubElement(edge, f"{{{DI}}}waypoint", x=str(int(x)), y=str(int(y)))


def _rename_process(root: etree._Element, process: etree._Element, process_id: str, name: str) -> None:
    old = process.get("id")
    process.set("id", process_id)
    process.set("name", name)
    for participant in root.iterfind(".//bpmn:participant", NS):
        if participant.get("processRef") == old:
            participant.set("processRef", process_id)
            participant.set("name", name)


def renamed_step(content: bytes, element_id: str, name: str) -> bytes:
    """The same diagram with one element's name changed (what the modeler's label edit does)."""
    root = etree.fromstring(content)
    _by_id(root, element_id).set("name", name)
    return _dump(root)


def step_id_changed(content: bytes, element_id: str, new_id: str, name: str | None = None) -> bytes:
    """The same diagram with a step's id changed (and, given, its name), everywhere the diagram refers to it: its
    flows, its lane and its shape — what a policy editor does who renames a step's id in the modeler, or what a
    county's own diagram may call the same step."""
    root = etree.fromstring(content)
    step = _by_id(root, element_id)
    step.set("id", new_id)
    if name is not None:
        step.set("name", name)
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for attribute in ("sourceRef", "targetRef", "bpmnElement", "default"):
            if node.get(attribute) == element_id:
                node.set(attribute, new_id)
        if etree.QName(node).localname == "flowNodeRef" and (node.text or "").strip() == element_id:
            node.text = new_id
    return _dump(root)


def with_property(content: bytes, element_id: str, name: str, value: str) -> bytes:
    """The same diagram with an element's ``spiffworkflow:property name`` set to ``value`` (added if missing)."""
    spiff = "http://spiffworkflow.org/bpmn/schema/1.0/core"
    root = etree.fromstring(content)
    element = _by_id(root, element_id)
    extensions = element.find(f"{{{BPMN}}}extensionElements")
    if extensions is None:
        extensions = etree.Element(f"{{{BPMN}}}extensionElements")
        element.insert(0, extensions)
    properties = extensions.find(f"{{{spiff}}}properties")
    if properties is None:
        properties = etree.SubElement(extensions, f"{{{spiff}}}properties")
    found = properties.find(f"{{{spiff}}}property[@name='{name}']")
    if found is None:
        found = etree.SubElement(properties, f"{{{spiff}}}property", name=name)
    found.set("value", value)
    return _dump(root)


def undeclared(content: bytes, process_id: str | None = None, name: str | None = None) -> bytes:
    """The same diagram without its process's procedure declaration (spiffworkflow:property procedure: as deployed
    before the declaration existed, or as drawn in another modeler), the process renamed when ``process_id`` is
    given (``Process_0x1d2c3``, as bpmn-js names a new one)."""
    root = etree.fromstring(content)
    process = root.find("bpmn:process", NS)
    extensions = process.find(f"{{{BPMN}}}extensionElements")
    for node in list(extensions.iter("{http://spiffworkflow.org/bpmn/schema/1.0/core}property")):
        if node.get("name") == "procedure":
            _remove(node)
    for node in (extensions[0] if len(extensions) else None, extensions):
        if node is not None and len(node) == 0:
            _remove(node)
    if process_id:
        _rename_process(root, process, process_id, name or process.get("name"))
    return _dump(root)
