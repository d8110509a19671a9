"""Scaffold the initial BPMN diagrams of ``processes/`` with a simple left-to-right layout.

This was used to write the first versions of the identification diagrams. Policy staff edit the
``.bpmn`` files themselves (in the modeler); this script is kept only to regenerate the scaffold
(``python tools/scaffold_diagrams.py``), and it refuses to overwrite a file that differs from
what it would write unless ``--force`` is given.
"""
from __future__ import annotations

import argparse
import itertools
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

log = logging.getLogger("scaffold")

W, H = {"task": (120, 80), "event": (36, 36), "gateway": (50, 50)}, None
ROW_H, COL_W, X0 = 130, 170, 90


@dataclass
class Node:
    id: str
    kind: str  # start, end, user, script, xor, and, evgw, timer, message, call
    name: str
    lane: str
    col: int
    attrs: dict = field(default_factory=dict)
    row: int = 0


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None
    default: bool = False


class Process:
    def __init__(self, pid: str, name: str, lanes: list[str]) -> None:
        self.pid, self.name, self.lanes = pid, name, lanes
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.messages: dict[str, str] = {}

    def add(self, kind: str, nid: str, name: str, lane: str, col: int, row: int = 0, **attrs) -> str:
        self.nodes[nid] = Node(nid, kind, name, lane, col, attrs, row)
        return nid

    def flow(self, source: str, target: str, name: str | None = None, condition: str | None = None,
             default: bool = False) -> None:
        self.flows.append(Flow(f"Flow_{source}_{target}", source, target, name, condition, default))

    def chain(self, *ids: str) -> None:
        for a, b in itertools.pairwise(ids):
            self.flow(a, b)

    # ---- XML -------------------------------------------------------------------------------
    def xml(self) -> str:
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'id="Definitions_{self.pid}" targetNamespace="http://bpmn.io/schema/bpmn">'),
        ]
        for mid, mname in self.messages.items():
            parts.append(f'  <bpmn:message id="{mid}" name="{mname}" />')
        parts.append(f'  <bpmn:collaboration id="Collab_{self.pid}">')
        parts.append(f'    <bpmn:participant id="Pool_{self.pid}" name={quoteattr(self.name)} processRef="{self.pid}" />')
        parts.append("  </bpmn:collaboration>")
        parts.append(f'  <bpmn:process id="{self.pid}" name={quoteattr(self.name)} isExecutable="true">')
        parts.append(f'    <bpmn:laneSet id="LaneSet_{self.pid}">')
        for i, lane in enumerate(self.lanes):
            parts.append(f'      <bpmn:lane id="Lane_{self.pid}_{i}" name={quoteattr(lane)}>')
            for n in self.nodes.values():
                if n.lane == lane:
                    parts.append(f"        <bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>")
            parts.append("      </bpmn:lane>")
        parts.append("    </bpmn:laneSet>")
        for n in self.nodes.values():
            parts.extend("    " + line for line in self._node_xml(n))
        for f in self.flows:
            name = f" name={quoteattr(f.name)}" if f.name else ""
            if f.condition:
                parts.append(f'    <bpmn:sequenceFlow id="{f.id}"{name} sourceRef="{f.source}" targetRef="{f.target}">')
                parts.append(f'      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(f.condition)}</bpmn:conditionExpression>')
                parts.append("    </bpmn:sequenceFlow>")
            else:
                parts.append(f'    <bpmn:sequenceFlow id="{f.id}"{name} sourceRef="{f.source}" targetRef="{f.target}" />')
        parts.append("  </bpmn:process>")
        parts.extend(self._di())
        parts.append("</bpmn:definitions>")
        return "\n".join(parts) + "\n"

    def _io(self, n: Node) -> list[str]:
        out = [f"  <bpmn:incoming>{f.id}</bpmn:incoming>" for f in self.flows if f.target == n.id]
        out += [f"  <bpmn:outgoing>{f.id}</bpmn:outgoing>" for f in self.flows if f.source == n.id]
        return out

    def _node_xml(self, n: Node) -> list[str]:
        tag = {"start": "startEvent", "end": "endEvent", "user": "userTask", "script": "scriptTask",
               "xor": "exclusiveGateway", "and": "parallelGateway", "evgw": "eventBasedGateway",
               "timer": "intermediateCatchEvent", "message": "intermediateCatchEvent", "call": "callActivity",
               "boundary": "boundaryEvent", "rule": "businessRuleTask"}[n.kind]
        attrs = f' id="{n.id}" name={quoteattr(n.name)}'
        default = next((f.id for f in self.flows if f.source == n.id and f.default), None)
        if default:
            attrs += f' default="{default}"'
        if n.kind == "call":
            attrs += f' calledElement="{n.attrs["called"]}"'
        if n.kind == "boundary":
            attrs += f' cancelActivity="true" attachedToRef="{n.attrs["attached"]}"'
        body: list[str] = []
        if n.kind == "user":
            body.append("  <bpmn:extensionElements>")
            body.append("    <spiffworkflow:properties>")
            body.append(f'      <spiffworkflow:property name="formJsonSchemaFilename" value="{n.attrs["form"]}" />')
            if n.attrs.get("due"):
                body.append(f'      <spiffworkflow:property name="dueDate" value={quoteattr(n.attrs["due"])} />')
            if n.attrs.get("due_note"):  # why the step has no due date (shown on its task page)
                body.append(f'      <spiffworkflow:property name="dueDateNote" value={quoteattr(n.attrs["due_note"])} />')
            body.append("    </spiffworkflow:properties>")
            if n.attrs.get("instructions"):
                body.append(f'    <spiffworkflow:instructionsForEndUser>{escape(n.attrs["instructions"])}</spiffworkflow:instructionsForEndUser>')
            body.append("  </bpmn:extensionElements>")
        if n.kind == "rule":
            body += ["  <bpmn:extensionElements>",
                     f'    <spiffworkflow:calledDecisionId>{n.attrs["decision"]}</spiffworkflow:calledDecisionId>',
                     "  </bpmn:extensionElements>"]
        if n.attrs.get("doc"):
            body.insert(0, f"  <bpmn:documentation>{escape(n.attrs['doc'])}</bpmn:documentation>")
        body += self._io(n)
        if n.kind == "script":
            body.append(f"  <bpmn:script>{escape(n.attrs['script'])}</bpmn:script>")
        if n.kind == "timer":
            body.append(f'  <bpmn:timerEventDefinition id="{n.id}_def">')
            body.append(f'    <bpmn:timeDate xsi:type="bpmn:tFormalExpression">{escape(n.attrs["date"])}</bpmn:timeDate>')
            body.append("  </bpmn:timerEventDefinition>")
        if n.kind in ("message", "boundary"):
            body.append(f'  <bpmn:messageEventDefinition id="{n.id}_def" messageRef="{n.attrs["message"]}">')
            body.append("    <bpmn:extensionElements>")
            body.append(f'      <spiffworkflow:messageVariable>{n.attrs["variable"]}</spiffworkflow:messageVariable>')
            body.append("    </bpmn:extensionElements>")
            body.append("  </bpmn:messageEventDefinition>")
        return [f"<bpmn:{tag}{attrs}>", *body, f"</bpmn:{tag}>"]

    # ---- layout ----------------------------------------------------------------------------
    def _box(self, n: Node) -> tuple[int, int, int, int]:
        if n.kind == "boundary":  # on the bottom edge of the task it is attached to
            tx, ty, tw, th = self._box(self.nodes[n.attrs["attached"]])
            return tx + tw // 2 - 18, ty + th - 18, 36, 36
        w, h = W["event"] if n.kind in ("start", "end", "timer", "message") else (
            W["gateway"] if n.kind in ("xor", "and", "evgw") else W["task"])
        top, low, _ = self._lane_rows(n.lane)
        cx = X0 + 60 + n.col * COL_W
        cy = top + ROW_H // 2 + (n.row - low) * ROW_H
        return cx - w // 2, cy - h // 2, w, h

    def _lane_rows(self, lane: str) -> tuple[int, int, int]:
        """(y of the lane's top, its lowest row number, its height): each lane is as tall as its rows."""
        top = 0
        for name in self.lanes:
            rows = [n.row for n in self.nodes.values() if n.lane == name and n.kind != "boundary"] or [0]
            low, height = min(rows), (max(rows) - min(rows) + 1) * ROW_H
            if name == lane:
                return top, low, height
            top += height
        raise KeyError(lane)

    def _di(self) -> list[str]:
        cols = max(n.col for n in self.nodes.values()) + 1
        width = 60 + cols * COL_W + 60
        out = [f'  <bpmndi:BPMNDiagram id="Diagram_{self.pid}">',
               f'    <bpmndi:BPMNPlane id="Plane_{self.pid}" bpmnElement="Collab_{self.pid}">',
               f'      <bpmndi:BPMNShape id="Pool_{self.pid}_di" bpmnElement="Pool_{self.pid}" isHorizontal="true">',
               f'        <dc:Bounds x="0" y="0" width="{width + 30}" height="{sum(self._lane_rows(x)[2] for x in self.lanes)}" />',
               "      </bpmndi:BPMNShape>"]
        for i, lane in enumerate(self.lanes):
            top, _, height = self._lane_rows(lane)
            out += [f'      <bpmndi:BPMNShape id="Lane_{self.pid}_{i}_di" bpmnElement="Lane_{self.pid}_{i}" isHorizontal="true">',
                    f'        <dc:Bounds x="30" y="{top}" width="{width}" height="{height}" />',
                    "      </bpmndi:BPMNShape>"]
        for n in self.nodes.values():
            x, y, w, h = self._box(n)
            marker = ' isMarkerVisible="true"' if n.kind == "xor" else ""
            out += [f'      <bpmndi:BPMNShape id="{n.id}_di" bpmnElement="{n.id}"{marker}>',
                    f'        <dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />',
                    "      </bpmndi:BPMNShape>"]
        for f in self.flows:
            sx, sy, sw, sh = self._box(self.nodes[f.source])
            tx, ty, tw, th = self._box(self.nodes[f.target])
            a = (sx + sw, sy + sh // 2)
            b = (tx, ty + th // 2)
            if tx <= sx:  # loop back: go below
                below = max(sy + sh, ty + th) + 25
                pts = [(sx + sw // 2, sy + sh), (sx + sw // 2, below), (tx + tw // 2, below), (tx + tw // 2, ty + th)]
            elif a[1] == b[1]:
                pts = [a, b]
            else:
                mid = (a[0] + b[0]) // 2
                pts = [a, (mid, a[1]), (mid, b[1]), b]
            out.append(f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">')
            out += [f'        <di:waypoint x="{x}" y="{y}" />' for x, y in pts]
            out.append("      </bpmndi:BPMNEdge>")
        out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>"]
        return out


# ---------------------------------------------------------------------------------------------
# The procedures
# ---------------------------------------------------------------------------------------------
OPTIONAL_DUE = 'days_from({start}, policy["{key}"]) if "{key}" in policy else None'
LIMIT = OPTIONAL_DUE.format(start="lead_date", key="limit_days")
REJECT_SCRIPT = (
    'record_outcome("rejected", reason)\n'
    'notify_household("防返贫监测对象识别结果告知", "您户的监测对象识别申请未予纳入。理由：" + reason + "。如有异议，可向村委会或乡镇反映。")\n'
    'release_household("key_attention" if assessment.get("include") is False and risk_types else "ordinary", reason)'
)
CASE_LIMIT_SCRIPT = (
    'if "limit_days" in policy:\n'
    '    start_case_deadline("识别纳入时限：自发现之日起" + str(policy["limit_days"]) + "天内完成识别", '
    'days_from(lead_date, policy["limit_days"]))'
)
RECORD_PLAN_SCRIPT = "record_measures(measures, plan_publicized_on, responsible_person)"
IDENTIFIED_SCRIPT = (
    'record_outcome("identified", "认定为" + category_name(category))\n'
    'mark_monitored(category, identified_on)\n'
    'start_procedure("followup")\n'
    'notify_household("防返贫监测对象纳入告知", "您户已于 " + identified_on + " 经审定纳入防返贫监测对象（" + category_name(category) + "），将落实帮扶措施并每月回访。")'
)


def _publicity(p: Process, prefix: str, level: str, days_key: str, lane: str, col: int, post_name: str,
               due: str | None = LIMIT, due_note: str | None = None) -> tuple[str, str]:
    """post (user) → set publicity (script) → call publicity_period → objection upheld? Returns (first, gateway)."""
    post = p.add("user", f"{prefix}_post", post_name, lane, col, form="post_publicity.json", due=due,
                 due_note=due_note,
                 instructions=f"张贴{level}公示（不得公开身份证号、电话、银行账号和健康状况），填写张贴日期。")
    setp = p.add("script", f"{prefix}_set", f"{level}公示{'{'}{days_key}{'}'}天", lane, col + 1,
                 script=f'publicity = {{"level": "{level}", "days": policy["{days_key}"], "posted_on": posted_on}}')
    p.nodes[setp].name = f"{level}公示期"
    call = p.add("call", f"{prefix}_publicity", f"{level}公示", lane, col + 2, called="publicity_period")
    gw = p.add("xor", f"{prefix}_result", "公示有无成立的异议？", lane, col + 3)
    p.chain(post, setp, call, gw)
    return post, gw


def _decision(p: Process, nid: str, name: str, lane: str, col: int, form: str, due: str | None,
              instructions: str) -> tuple[str, str]:
    task = p.add("user", nid, name, lane, col, form=form, due=due, instructions=instructions)
    gw = p.add("xor", f"{nid}_ok", "是否通过？", lane, col + 1)
    p.flow(task, gw)
    return task, gw


def _tail(p: Process, gw_ok: str, lanes: dict[str, str], col: int, approve_lane: str, entry_lane: str,
          identified_from: str = "decided_on") -> str:
    """After approval: assistance plan and system entry in parallel, then identified. Returns the split id."""
    p.add("script", "set_identified", "确定识别日期", approve_lane, col,
          script=f'identified_on = application.get("green_channel_entered_on") or {identified_from}\n'
                 'category = county_category or assessment["category"]\nmeet_case_deadline()')
    p.flow(gw_ok, "set_identified", "通过", 'decision == "approve"')
    p.add("and", "split", "", approve_lane, col + 1)
    p.add("user", "assistance_plan", "制定帮扶计划并在村内公示", lanes["village"], col + 2, form="assistance_plan.json",
          due=OPTIONAL_DUE.format(start="identified_on", key="assistance_plan_days"),
          instructions="制定帮扶计划并在村内公示（有劳动能力的应有产业或就业帮扶措施）。")
    p.add("user", "system_entry", "录入全国防返贫监测信息系统", entry_lane, col + 2, row=1, form="system_entry.json",
          due=OPTIONAL_DUE.format(start="identified_on", key="system_entry_days"), instructions="审定后及时录入系统。")
    p.add("script", "record_plan", "登记帮扶措施和帮扶责任人", lanes["village"], col + 3, script=RECORD_PLAN_SCRIPT)
    p.add("and", "join", "", approve_lane, col + 4)
    p.add("script", "identified", "纳入监测并告知农户", approve_lane, col + 5, script=IDENTIFIED_SCRIPT)
    p.add("end", "end_identified", "纳入监测", approve_lane, col + 6)
    p.chain("set_identified", "split")
    p.flow("split", "assistance_plan")
    p.flow("split", "system_entry")
    p.chain("assistance_plan", "record_plan", "join")
    p.flow("system_entry", "join")
    p.chain("join", "identified", "end_identified")
    return "split"


def _front(p: Process, lanes: dict[str, str], verify_lane: str, verify_due: str, verify_name: str,
           decision: str = "household_category") -> int:
    """start → apply → verify → assess → classify (decision table) → conclude → eligible? Returns the next
    free column."""
    p.add("start", "start", "发现风险线索", lanes["village"], 0)
    p.add("script", "case_limit", "识别时限（自发现之日起）", lanes["village"], 1, script=CASE_LIMIT_SCRIPT)
    p.add("user", "apply", "受理申请并签署承诺授权书", lanes["village"], 2, form="identification_apply.json", due=LIMIT,
          instructions="农户提出申请，全体家庭成员签署承诺授权书。")
    p.add("user", "verify", verify_name, verify_lane, 3, form="household_verification.json", due=verify_due,
          instructions="入户核实家庭成员、收入（近12个月）、三保障和饮水安全情况，勾选原则上不纳入情形。")
    p.add("script", "assess", "测算收入并比对监测范围", verify_lane, 4,
          script="facts = assess_household(income, risk_types, exclusions, guarantees)")
    p.add("rule", "classify", "认定监测对象类别（决策表）", verify_lane, 5, decision=decision,
          doc=f"决策表 {decision}：按原则上不纳入情形、三保障和饮水、风险、收入与监测范围认定类别")
    p.add("script", "conclude", "形成认定意见", verify_lane, 6,
          script=('assessment = conclude_assessment(facts, include, category, category_reason)\n'
                  'decision = "approve" if assessment["include"] else "reject"\n'
                  'reason = assessment["explanation"]\ncounty_category = None'))
    p.add("xor", "eligible", "符合纳入条件？", verify_lane, 7)
    p.chain("start", "case_limit", "apply", "verify", "assess", "classify", "conclude", "eligible")
    return 8


def _reject_end(p: Process, lane: str, col: int) -> str:
    p.add("script", "rejected", "记录不予纳入理由并书面告知农户", lane, col, row=1, script=REJECT_SCRIPT)
    p.add("end", "end_rejected", "不予纳入", lane, col + 1, row=1)
    p.flow("rejected", "end_rejected")
    return "rejected"


def identification_default() -> Process:
    lanes = {"village": "村级", "township": "乡镇", "county": "县级"}
    p = Process("identification", "识别纳入（江西省2023年指南、鞍山市方案）", list(lanes.values()))
    col = _front(p, lanes, lanes["township"], LIMIT, "入户核实")
    rej = _reject_end(p, lanes["county"], col + 8)
    p.flow("eligible", rej, "不符合", 'decision == "reject"')
    appraisal, gw1 = _decision(p, "appraisal", "民主评议", lanes["village"], col, "democratic_appraisal.json", LIMIT,
                               "召开村民代表会议或村两委扩大会议进行民主评议。")
    p.flow("eligible", appraisal, "符合", 'decision == "approve"')
    p.flow(gw1, rej, "未通过", 'decision == "reject"')
    post, pgw = _publicity(p, "village", "村级", "village_publicity_days", lanes["village"], col + 2, "张贴村级公示")
    p.flow(gw1, post, "通过", 'decision == "approve"')
    p.flow(pgw, rej, "异议成立", 'publicity_result == "objection_upheld"')
    review, gw2 = _decision(p, "township_review", "乡镇审核（入户抽查）", lanes["township"], col + 6, "review_decision.json",
                            LIMIT, "乡镇审核，入户走访；不通过的写明理由。")
    p.flow(pgw, review, "公示无异议", 'publicity_result == "passed"')
    p.flow(gw2, rej, "不通过", 'decision == "reject"')
    compare, gw3 = _decision(p, "comparison", "信息比对", lanes["county"], col + 8, "information_comparison.json", LIMIT,
                             "会同公安、交通、金融、市场监管、住建、银行、税务等部门比对家庭资产信息。")
    p.flow(gw2, compare, "通过", 'decision == "approve"')
    p.flow(gw3, rej, "不通过", 'decision == "reject"')
    approve, gw4 = _decision(p, "county_approval", "县级审定", lanes["county"], col + 10, "county_approval.json", LIMIT,
                             "县级防止返贫工作领导小组审定；审定日期即识别日期。")
    p.flow(gw3, approve, "通过", 'decision == "approve"')
    p.flow(gw4, rej, "不通过", 'decision == "reject"')
    split = _tail(p, gw4, lanes, col + 12, lanes["county"], lanes["county"])
    p.add("user", "announcement", "在县政府网站和村内公告", lanes["county"], col + 14, row=-1, form="announcement.json",
          instructions="公告审定结果（不得公开身份证号、电话、银行账号和健康状况）。")
    p.nodes["system_entry"].col += 1
    p.flows = [f for f in p.flows if not (f.source == split and f.target == "system_entry")]
    p.flow(split, "announcement")
    p.flow("announcement", "system_entry")
    return p


def identification_zhanggong_2021() -> Process:
    lanes = {"village": "村级", "township": "乡镇", "county": "区级"}
    p = Process("identification_zhanggong_2021", "识别纳入（章贡区2021年七步工作法）", list(lanes.values()))
    verify_due = OPTIONAL_DUE.format(start="lead_date", key="verification_days")
    col = _front(p, lanes, lanes["village"], verify_due, "初步核实（入户核实）")
    rej = _reject_end(p, lanes["county"], col + 14)
    p.flow("eligible", rej, "不符合", 'decision == "reject"')
    appraisal, gw1 = _decision(p, "appraisal", "村民代表大会民主评议", lanes["village"], col, "democratic_appraisal.json",
                               None, "召开村民代表大会进行民主评议。")
    p.flow("eligible", appraisal, "符合", 'decision == "approve"')
    p.flow(gw1, rej, "未通过", 'decision == "reject"')
    post, pgw = _publicity(p, "village", "村级", "village_publicity_days", lanes["village"], col + 2, "张贴村级公示", None)
    p.flow(gw1, post, "通过", 'decision == "approve"')
    p.flow(pgw, rej, "异议成立", 'publicity_result == "objection_upheld"')
    compare, gw2 = _decision(p, "comparison", "区级部门信息比对", lanes["county"], col + 6, "information_comparison.json",
                             None, "区防返贫办会同相关部门比对。")
    p.flow(pgw, compare, "公示无异议", 'publicity_result == "passed"')
    p.flow(gw2, rej, "不通过", 'decision == "reject"')
    review, gw3 = _decision(p, "township_review", "镇级审核", lanes["township"], col + 8, "review_decision.json", None,
                            "镇（街道）根据比对核实结果召开会议审核。")
    p.flow(gw2, review, "通过", 'decision == "approve"')
    p.flow(gw3, rej, "不通过", 'decision == "reject"')
    post2, pgw2 = _publicity(p, "town", "镇村两级", "township_publicity_days", lanes["township"], col + 10, "在镇、村张贴公示",
                             None)
    p.flow(gw3, post2, "通过", 'decision == "approve"')
    p.flow(pgw2, rej, "异议成立", 'publicity_result == "objection_upheld"')
    approve, gw4 = _decision(p, "county_approval", "区级审定", lanes["county"], col + 14, "county_approval.json", None,
                             "区委农村工作领导小组审定；审定日期即识别日期。")
    p.flow(pgw2, approve, "公示无异议", 'publicity_result == "passed"')
    p.flow(gw4, rej, "不通过", 'decision == "reject"')
    _tail(p, gw4, lanes, col + 16, lanes["county"], lanes["township"])
    post3, pgw3 = _publicity(p, "announce", "镇村两级公告", "announcement_days", lanes["township"], col + 18,
                             "在镇、村张贴公告", None)
    p.nodes["system_entry"].col = col + 22
    p.nodes["join"].col, p.nodes["identified"].col, p.nodes["end_identified"].col = col + 23, col + 24, col + 25
    p.flows = [f for f in p.flows if not (f.source == "split" and f.target == "system_entry")]
    p.flow("split", post3)
    p.flow(pgw3, "system_entry", "公告期满")
    p.nodes[pgw3].name = "公告期满？"
    p.flows = [f for f in p.flows if not (f.source == pgw3 and f.target == "system_entry")]
    p.flow(pgw3, "system_entry", "公告期满", 'publicity_result == "passed"')
    p.flow(pgw3, rej, "异议成立", 'publicity_result == "objection_upheld"')
    return p


def identification_longkou() -> Process:
    lanes = {"village": "村级", "township": "乡镇", "county": "县级"}
    p = Process("identification_longkou", "识别纳入（龙口市：核实—评议—比对—公示—录入）", list(lanes.values()))
    verify_due = ('working_days_from(lead_date, policy["verification_working_days"]) '
                  'if "verification_working_days" in policy else None')
    col = _front(p, lanes, lanes["township"], verify_due, "入户调查核实（5个工作日内）", "household_category_longkou")
    rej = _reject_end(p, lanes["township"], col + 8)
    p.flow("eligible", rej, "不符合", 'decision == "reject"')
    appraisal, gw1 = _decision(p, "appraisal", "民主评议并签订授权承诺书", lanes["village"], col,
                               "democratic_appraisal.json", None, "召开村民代表会议评议，指导农户签订授权核查家庭资产信息承诺书。")
    p.flow("eligible", appraisal, "符合", 'decision == "approve"')
    p.flow(gw1, rej, "未通过", 'decision == "reject"')
    skip = p.add("xor", "needs_comparison", "需要信息比对？", lanes["county"], col + 2)
    p.flow(gw1, skip, "通过", 'decision == "approve"')
    compare, gw2 = _decision(p, "comparison", "市扶贫办信息比对", lanes["county"], col + 3, "information_comparison.json",
                             None, "会同公安、住建、市场监管等部门比对；脱贫享受政策户可不再比对。")
    p.flow(skip, compare, "需要比对", 'not household["enjoys_poverty_policy"]')
    p.flow(gw2, rej, "不通过", 'decision == "reject"')
    post, pgw = _publicity(p, "village", "村级", "village_publicity_days", lanes["village"], col + 5, "张贴村级公示", None)
    p.flow(skip, post, "脱贫享受政策户，不再比对", 'household["enjoys_poverty_policy"]')
    p.flow(gw2, post, "通过", 'decision == "approve"')
    p.flow(pgw, rej, "异议成立", 'publicity_result == "objection_upheld"')
    p.add("script", "set_identified", "确定识别日期", lanes["county"], col + 9,
          script='county_category = None\ncategory = assessment["category"]\nmeet_case_deadline()')
    p.add("user", "system_entry", "市扶贫办录入系统", lanes["county"], col + 10, form="system_entry.json",
          instructions="公示无异议后录入系统；录入日期即识别日期。")
    p.add("script", "identified_date", "录入日期为识别日期", lanes["county"], col + 11,
          script='identified_on = application.get("green_channel_entered_on") or entered_on')
    p.add("user", "assistance_plan", "制定帮扶措施", lanes["village"], col + 12, form="assistance_plan.json",
          instructions="落实帮扶责任人和帮扶措施。")
    p.add("script", "record_plan", "登记帮扶措施和帮扶责任人", lanes["village"], col + 13, script=RECORD_PLAN_SCRIPT)
    p.add("script", "identified", "纳入监测并告知农户", lanes["county"], col + 14, script=IDENTIFIED_SCRIPT)
    p.add("end", "end_identified", "纳入监测", lanes["county"], col + 15)
    p.flow(pgw, "set_identified", "公示无异议", 'publicity_result == "passed"')
    p.chain("set_identified", "system_entry", "identified_date", "assistance_plan", "record_plan", "identified",
            "end_identified")
    return p


def publicity_period() -> Process:
    p = Process("publicity_period", "公示期（可随时提出异议）", ["乡镇"])
    p.messages["Message_objection"] = "objection"
    lane = "乡镇"
    p.add("start", "p_start", "开始公示", lane, 0)
    p.add("evgw", "p_wait", "等待公示期满或异议", lane, 1)
    p.add("timer", "publicity_ends", "公示期满", lane, 2,
          date='days_from(publicity["posted_on"], publicity["days"])')
    p.add("script", "p_passed", "公示无异议", lane, 3, script='publicity_result = "passed"')
    p.add("end", "p_end", "公示结束", lane, 4)
    p.add("message", "objection_received", "收到异议", lane, 2, row=1, message="Message_objection", variable="objection")
    p.add("user", "verify_objection", "核实异议", lane, 3, row=1, form="verify_objection.json",
          due='days_from(objection["raised_on"], 5)', instructions="对公示期间提出的异议进行核实，并作出结论。")
    p.add("xor", "p_finding", "异议是否成立？", lane, 4, row=1)
    p.add("script", "p_upheld", "异议成立", lane, 5, row=1, script='publicity_result = "objection_upheld"')
    p.add("end", "p_end_upheld", "公示中止", lane, 6, row=1)
    p.chain("p_start", "p_wait")
    p.flow("p_wait", "publicity_ends")
    p.flow("p_wait", "objection_received")
    p.chain("publicity_ends", "p_passed", "p_end")
    p.chain("objection_received", "verify_objection", "p_finding")
    p.flow("p_finding", "p_wait", "异议不成立", 'objection_finding == "dismissed"')
    p.flow("p_finding", "p_upheld", "异议成立", 'objection_finding == "upheld"')
    p.flow("p_upheld", "p_end_upheld")
    return p


def monthly_followup() -> Process:
    lane = "村级"
    p = Process("monthly_followup", "每月回访（监测户帮扶与动态管理）", [lane])
    p.messages["Message_end_followup"] = "end_followup"
    p.add("start", "f_start", "纳入监测", lane, 0)
    p.add("script", "f_init", "从本月开始回访", lane, 1, script="visit_month = today()[:8] + \"01\"")
    p.add("user", "revisit", "每月回访", lane, 2, form="monthly_revisit.json",
          due="monthly_deadline(visit_month, 31)",
          instructions="每月至少回访一次：了解收入、风险和帮扶措施落实情况；当月未回访的，次月1日起逾期。")
    p.add("script", "f_next", "下一个回访月", lane, 3, script="visit_month = next_month(visit_month)")
    p.add("evgw", "f_wait", "等待下月或结束监测", lane, 4)
    p.add("timer", "f_month_starts", "下月开始", lane, 5, date='visit_month + "T00:00:00+08:00"')
    p.add("message", "f_end_msg", "风险消除或清退", lane, 5, row=1, message="Message_end_followup", variable="ended")
    p.add("end", "f_end", "结束回访", lane, 6, row=1)
    p.add("boundary", "f_end_during_visit", "风险消除或清退", lane, 2, attached="revisit",
          message="Message_end_followup", variable="ended")
    p.add("end", "f_end_2", "结束回访", lane, 3, row=1)
    p.flow("f_end_during_visit", "f_end_2")
    p.chain("f_start", "f_init", "revisit", "f_next", "f_wait")
    p.flow("f_wait", "f_month_starts")
    p.flow("f_wait", "f_end_msg")
    p.flow("f_month_starts", "revisit")
    p.flow("f_end_msg", "f_end")
    return p


POSTPONE_SCRIPT = (
    'record_outcome("postponed", reason)\n'
    'notify_household("风险消除结果告知", "您户暂不标注风险消除，继续落实帮扶措施。理由：" + reason + "。")'
)
ELIMINATION_APPROVAL = "elimination_approval.json"  # the county's 风险消除 decision (000 二(二)3 县级审定)
ANNOUNCEMENT_NOTE = ("种子文件未规定风险消除公告的张贴时限（000 二（二）3：县级确定消除风险对象名单后反馈各乡镇，在各自行政村公告），"
                     "故本环节不设期限；请在审定后及时张贴公告。")
ANNOUNCEMENT_NOTE_ZHANGGONG = ("002 只规定区级公告期7天（公告模版见附件17），未规定审批后发布公告的时限，故本环节不设期限；"
                               "请在区级审批后及时发布公告。")
ELIMINATED_SCRIPT = (
    'record_outcome("eliminated", "风险消除（" + ("自然消除" if mode == "natural" else "帮扶消除") + "）")\n'
    'mark_eliminated(mode, decided_on)\n'
    'end_procedure("followup")\n'
    'notify_household("风险消除告知", "您户已于 " + decided_on + " 标注风险消除，仍将作为重点关注对象持续跟踪；如出现新的风险，将重新识别。")'
)


def elimination() -> Process:
    lanes = {"village": "村级", "township": "乡镇", "county": "县级"}
    p = Process("elimination", "风险消除（鞍山市方案、江西省2023年指南）", list(lanes.values()))
    v, t, c = lanes["village"], lanes["township"], lanes["county"]
    p.add("start", "e_start", "乡镇季度研判列入", t, 0)
    p.add("script", "postponed", "暂缓消除，继续帮扶并告知农户", c, 14, row=1, script=POSTPONE_SCRIPT)
    p.add("end", "end_postponed", "暂缓消除", c, 15, row=1)
    p.flow("postponed", "end_postponed")
    appraisal, gw1 = _decision(p, "appraisal", "民主评议", v, 1, "democratic_appraisal.json", None,
                               "村民代表会议或村两委扩大会议评议风险是否消除。")
    p.flow("e_start", appraisal)
    p.flow(gw1, "postponed", "未通过", 'decision == "reject"')
    p.add("xor", "needs_consent", "需要农户认可？", v, 3)
    p.flow(gw1, "needs_consent", "通过", 'decision == "approve"')
    p.add("user", "consent", "农户本人认可", v, 4, form="household_consent.json", instructions="经农户本人认可后方可公示。")
    p.flow("needs_consent", "consent", "需要", 'policy.get("household_consent")')
    post, pgw = _publicity(p, "village", "村级", "village_publicity_days", v, 5, "张贴村级公示（风险消除）", None)
    p.flow("needs_consent", post, "不需要", 'not policy.get("household_consent")')
    p.flow("consent", post)
    p.flow(pgw, "postponed", "异议成立", 'publicity_result == "objection_upheld"')
    p.add("user", "township_review", "乡镇审核（入户核实收入）", t, 9, form="elimination_review.json",
          instructions="入户核实收入和“三保障”情况；不符合消除条件的写明理由。")
    p.add("script", "recheck", "按核实收入复核消除条件", t, 10,
          script=('check = check_elimination(income, mode)\n'
                  'if decision == "approve" and not check["eligible"]:\n'
                  '    decision = "reject"\n    reason = check["explanation"]'))
    p.add("xor", "review_ok", "是否通过？", t, 11)
    p.flow(pgw, "township_review", "公示无异议", 'publicity_result == "passed"')
    p.chain("township_review", "recheck", "review_ok")
    p.flow("review_ok", "postponed", "不通过", 'decision == "reject"')
    approve, gw3 = _decision(p, "county_approval", "县级审定", c, 12, ELIMINATION_APPROVAL, None,
                             "县级审定风险消除；审定日期即风险消除日期。")
    p.flow("review_ok", approve, "通过", 'decision == "approve"')
    p.flow(gw3, "postponed", "不通过", 'decision == "reject"')
    p.add("user", "announcement", "在各村公告", c, 14, form="announcement.json", due_note=ANNOUNCEMENT_NOTE,
          instructions="在各村公告风险消除名单（不得公开身份证号、电话、银行账号和健康状况）。")
    p.flow(gw3, "announcement", "通过", 'decision == "approve"')
    p.add("script", "eliminated", "标注风险消除并告知农户", c, 15, script=ELIMINATED_SCRIPT)
    p.add("end", "end_eliminated", "风险消除", c, 16)
    p.chain("announcement", "eliminated", "end_eliminated")
    return p


def _elimination_common(p: Process, v: str, t: str, c: str, end_col: int) -> None:
    """start, the postpone end and the township's home check shared by the elimination variants."""
    p.add("start", "e_start", "乡镇季度研判列入", t, 0)
    p.add("script", "postponed", "暂缓消除，继续帮扶并告知农户", c, end_col, row=1, script=POSTPONE_SCRIPT)
    p.add("end", "end_postponed", "暂缓消除", c, end_col + 1, row=1)
    p.flow("postponed", "end_postponed")


def _home_check(p: Process, t: str, col: int) -> str:
    p.add("user", "township_review", "乡镇审核（入户核实收入）", t, col, form="elimination_review.json",
          instructions="入户核实收入和“三保障”情况；不符合消除条件的写明理由。")
    p.add("script", "recheck", "按核实收入复核消除条件", t, col + 1,
          script=('check = check_elimination(income, mode)\n'
                  'if decision == "approve" and not check["eligible"]:\n'
                  '    decision = "reject"\n    reason = check["explanation"]'))
    p.add("xor", "review_ok", "是否通过？", t, col + 2)
    p.chain("township_review", "recheck", "review_ok")
    p.flow("review_ok", "postponed", "不通过", 'decision == "reject"')
    return "review_ok"


def elimination_zhanggong_2021() -> Process:
    lanes = {"village": "村级", "township": "乡镇", "county": "区级"}
    p = Process("elimination_zhanggong_2021", "风险消除（章贡区2021年：村级公示7天、镇级公示7天、区级公告7天）",
                list(lanes.values()))
    v, t, c = lanes["village"], lanes["township"], lanes["county"]
    _elimination_common(p, v, t, c, 18)
    appraisal, gw1 = _decision(p, "appraisal", "民主评议", v, 1, "democratic_appraisal.json", None,
                               "村民代表大会评议风险是否消除。")
    p.flow("e_start", appraisal)
    p.flow(gw1, "postponed", "未通过", 'decision == "reject"')
    post, pgw = _publicity(p, "village", "村级", "village_publicity_days", v, 3, "张贴村级公示（风险消除）", None)
    p.flow(gw1, post, "通过", 'decision == "approve"')
    p.flow(pgw, "postponed", "异议成立", 'publicity_result == "objection_upheld"')
    ok = _home_check(p, t, 7)
    p.flow(pgw, "township_review", "公示无异议", 'publicity_result == "passed"')
    post2, pgw2 = _publicity(p, "town", "镇级", "township_publicity_days", t, 10, "张贴镇级公示（风险消除）", None)
    p.flow(ok, post2, "通过", 'decision == "approve"')
    p.flow(pgw2, "postponed", "异议成立", 'publicity_result == "objection_upheld"')
    approve, gw3 = _decision(p, "county_approval", "区级审定", c, 14, ELIMINATION_APPROVAL, None,
                             "区级审定风险消除；审定日期即风险消除日期。")
    p.flow(pgw2, approve, "公示无异议", 'publicity_result == "passed"')
    p.flow(gw3, "postponed", "不通过", 'decision == "reject"')
    post3, pgw3 = _publicity(p, "announce", "区级公告", "announcement_days", c, 16, "发布区级公告（风险消除）", None,
                             ANNOUNCEMENT_NOTE_ZHANGGONG)
    p.flow(gw3, post3, "通过", 'decision == "approve"')
    p.flow(pgw3, "postponed", "异议成立", 'publicity_result == "objection_upheld"')
    p.add("script", "eliminated", "标注风险消除并告知农户", c, 20, script=ELIMINATED_SCRIPT)
    p.add("end", "end_eliminated", "风险消除", c, 21)
    p.flow(pgw3, "eliminated", "公告期满", 'publicity_result == "passed"')
    p.flow("eliminated", "end_eliminated")
    return p


def elimination_longkou() -> Process:
    lanes = {"village": "村级", "township": "乡镇", "county": "县级"}
    p = Process("elimination_longkou", "风险消除（龙口市：评议—审核—公示—标注）", list(lanes.values()))
    v, t, c = lanes["village"], lanes["township"], lanes["county"]
    _elimination_common(p, v, t, c, 12)
    appraisal, gw1 = _decision(p, "appraisal", "民主评议", v, 1, "democratic_appraisal.json", None,
                               "村民代表会议评议风险是否消除。")
    p.flow("e_start", appraisal)
    p.flow(gw1, "postponed", "未通过", 'decision == "reject"')
    ok = _home_check(p, t, 3)
    p.flow(gw1, "township_review", "通过", 'decision == "approve"')
    post, pgw = _publicity(p, "village", "村级", "village_publicity_days", v, 6, "张贴村级公示（风险消除）", None)
    p.flow(ok, post, "通过", 'decision == "approve"')
    p.flow(pgw, "postponed", "异议成立", 'publicity_result == "objection_upheld"')
    p.add("user", "tagging", "市扶贫办标注风险消除", c, 10, form="system_entry.json",
          instructions="公示无异议后标注“返贫风险消除”；标注日期即风险消除日期。")
    p.add("script", "decided", "标注日期为风险消除日期", c, 11, script="decided_on = entered_on")
    p.add("script", "eliminated", "标注风险消除并告知农户", c, 12, script=ELIMINATED_SCRIPT)
    p.add("end", "end_eliminated", "风险消除", c, 13)
    p.flow(pgw, "tagging", "公示无异议", 'publicity_result == "passed"')
    p.chain("tagging", "decided", "eliminated", "end_eliminated")
    return p


def green_channel() -> Process:
    lanes = {"village": "村级", "township": "乡镇", "county": "县级"}
    p = Process("green_channel", "绿色通道（江西省2023年指南 Q29）", list(lanes.values()))
    v, t, c = lanes["village"], lanes["township"], lanes["county"]
    p.add("start", "g_start", "突发严重困难", v, 0)
    p.add("user", "g_village", "村级确认突发严重困难", v, 1, form="green_channel_village.json",
          instructions="因灾因意外等突发风险、困难情形明显、急需帮扶的，村级确认后报乡镇。")
    p.add("script", "g_told_1", "告知农户已受理", v, 2,
          script='notify_household("绿色通道受理告知", "村委会已确认您户的突发困难情况，报乡镇确认。")')
    review, gw = _decision(p, "g_township", "乡镇确认", t, 3, "review_decision.json", None, "乡镇确认突发困难情况。")
    p.add("script", "g_refused", "告知农户不予纳入绿色通道", t, 5, row=1,
          script=('record_outcome("rejected", reason)\n'
                  'notify_household("绿色通道结果告知", "您户暂不纳入绿色通道。理由：" + reason + "。")\n'
                  'release_household("key_attention", reason)'))
    p.add("end", "g_end_refused", "不予纳入", t, 6, row=1)
    p.add("user", "g_entry", "纳入绿色通道并即时帮扶", c, 5, form="green_channel_entry.json",
          instructions="县级纳入绿色通道，相关部门、乡镇和村即时落实帮扶措施。")
    p.add("script", "g_entered", "即时落实帮扶措施并告知农户", c, 6,
          script=('enter_green_channel(entered_on)\n'
                  'record_measures(measures, entered_on, responsible_person)\n'
                  'notify_household("纳入绿色通道告知", "您户已于 " + entered_on + " 纳入绿色通道，帮扶措施即时落实；"'
                  ' + "一个月内将核实是否符合监测对象条件。")'))
    p.add("user", "g_verify", "一个月内核实是否符合监测对象条件", c, 7, form="green_channel_verification.json",
          due='months_from(entered_on, policy["verification_months"]) if "verification_months" in policy else None',
          instructions="纳入后1个月内核实：符合的补充履行识别程序（识别日期为纳入绿色通道日期）；不符合的退出并停止帮扶。")
    p.add("xor", "g_qualifies", "是否符合？", c, 8)
    p.add("script", "g_identify", "补充履行识别程序", c, 9,
          script=('record_outcome("qualified", "符合监测对象条件，补充履行识别程序")\n'
                  'start_procedure("identification", "green_channel", entered_on, '
                  '{"green_channel_entered_on": entered_on, "risk_description": hardship})\n'
                  'notify_household("绿色通道核实结果告知", "经核实，您户符合监测对象条件，将补充履行识别程序，识别日期为 " + entered_on + "。")'))
    p.add("end", "g_end_identify", "转入识别程序", c, 10)
    p.add("script", "g_left", "退出绿色通道，停止帮扶并告知农户", c, 9, row=1,
          script=('record_outcome("left_green_channel", reason)\n'
                  'stop_measures(reason)\n'
                  'release_household("key_attention", reason)\n'
                  'notify_household("绿色通道核实结果告知", "经核实，您户不符合监测对象条件，退出绿色通道，帮扶措施停止。理由：" + reason + "。")'))
    p.add("end", "g_end_left", "退出绿色通道", c, 10, row=1)
    p.chain("g_start", "g_village", "g_told_1", review)
    p.flow(gw, "g_refused", "不通过", 'decision == "reject"')
    p.flow("g_refused", "g_end_refused")
    p.flow(gw, "g_entry", "确认", 'decision == "approve"')
    p.chain("g_entry", "g_entered", "g_verify", "g_qualifies")
    p.flow("g_qualifies", "g_identify", "符合", 'qualifies == "yes"')
    p.flow("g_qualifies", "g_left", "不符合", 'qualifies == "no"')
    p.flow("g_identify", "g_end_identify")
    p.flow("g_left", "g_end_left")
    return p


def member_change() -> Process:
    lane = "村级"
    p = Process("member_change", "家庭成员自然变更（出生、婚嫁、死亡）", [lane])
    p.add("start", "m_start", "成员发生自然变更", lane, 0)
    p.add("user", "m_record", "登记家庭成员自然变更", lane, 1, form="member_change.json",
          due='months_from(lead_date, policy["limit_months"]) if "limit_months" in policy else None',
          instructions="依据佐证材料登记自然增减人员，原则上自变更之日起不超过3个月。")
    p.add("script", "m_apply", "更新家庭成员", lane, 2, script="apply_member_change(change_type, changed_on, proof, "
          "new_member if change_type in (\"birth\", \"marriage_in\", \"other_in\") else None, "
          "leaving_id_number if change_type in (\"death\", \"marriage_out\", \"other_out\") else None)")
    p.add("end", "m_end", "已更新", lane, 3)
    p.chain("m_start", "m_record", "m_apply", "m_end")
    return p


def correction() -> Process:
    lanes = {"county": "县级", "city": "市级", "province": "省级"}
    p = Process("correction", "清退、风险消除回退（逐级报省审定，国家局备案）", list(lanes.values()))
    c, m, pv = lanes["county"], lanes["city"], lanes["province"]
    p.add("start", "k_start", "发现识别或消除不精准", c, 0)
    p.add("user", "k_request", "县级书面申请", c, 1, form="correction_request.json",
          instructions="写明理由和核实取证情况；清退的，原县级批准部门作出审批意见并重新公告后上报。")
    review, gw = _decision(p, "k_city", "市级审核", m, 2, "review_decision.json", None, "市级审核县级申请。")
    p.add("user", "k_province", "省级审定并报国家局备案", pv, 4, form="province_decision.json",
          instructions="审定汇总后向国家乡村振兴局书面申请，经同意备案后统一操作。")
    p.add("xor", "k_ok", "是否同意？", pv, 5)
    p.add("script", "k_refused", "申请未获同意", c, 6, row=1, script='record_outcome("refused", reason)')
    p.add("end", "k_end_refused", "未获同意", c, 7, row=1)
    p.add("script", "k_apply", "执行清退或回退并告知农户", c, 6, script=(
        'apply_correction(kind, decided_on, national_reference)\n'
        'record_outcome(kind, reason)\n'
        'notify_household("监测对象信息变更告知", ("您户的风险消除已回退，恢复为监测对象，继续落实帮扶。" '
        'if kind == "rollback" else "经核实，您户不符合监测对象条件，已按程序清退。") + "理由：" + reason + "。")'))
    p.add("end", "k_end", "已办结", c, 7)
    p.chain("k_start", "k_request", review)
    p.flow(gw, "k_refused", "不通过", 'decision == "reject"')
    p.flow(gw, "k_province", "通过", 'decision == "approve"')
    p.chain("k_province", "k_ok")
    p.flow("k_ok", "k_refused", "不同意", 'decision == "reject"')
    p.flow("k_ok", "k_apply", "同意", 'decision == "approve"')
    p.flow("k_refused", "k_end_refused")
    p.flow("k_apply", "k_end")
    return p


# -- department warnings (行业预警, 000 §6) ------------------------------------------------------------
WARNING_LIMITS = ("000 六（二）2：各级风险预警信息的分解推送工作应在 5 个工作日内完成；"
                  "六（二）3：自交办之日起至县级乡村振兴部门审定，一般不超过 20 个工作日")


def warning_push() -> Process:
    lane = "行业部门"
    p = Process("warning_push", "行业部门按期推送预警数据", [lane])
    p.add("start", "wp_start", "推送期开始前", lane, 0)
    p.add("timer", "wp_opens", "本期开始", lane, 1, date='push["opens_on"] + "T00:00:00+08:00"')
    p.add("script", "wp_check", "本期是否已推送？", lane, 2,
          script='already_pushed = pushed_batches(push["department"], push["period"]) > 0')
    p.add("xor", "wp_gw", "已推送？", lane, 3)
    p.add("user", "wp_push", "推送预警数据", lane, 4, form="warning_push.json",
          due='working_days_from(push["event_on"], push["working_days"]) if "event_on" in push '
              'else monthly_deadline(push["due_month"], push["day"])',
          instructions="按本部门预警标准筛查后，在“推送预警数据”页上传本期数据（上传即完成本任务）；"
                       "本期没有达到标准的人员的，在此确认“本期无预警信息”。按月、按季推送的到当期期限，"
                       "随事件推送的（秋季学期开学、灾害发生等）自事件之日起计工作日；到期未推送的逾期。")
    p.add("script", "wp_next", "开启下一期推送", lane, 5, script="open_next_push()")
    p.add("end", "wp_end", "本期已推送", lane, 6)
    p.chain("wp_start", "wp_opens", "wp_check", "wp_gw")
    p.flow("wp_gw", "wp_push", "未推送", "not already_pushed")
    p.flow("wp_gw", "wp_next", "已推送", "already_pushed")
    p.chain("wp_push", "wp_next", "wp_end")
    return p


def _warning_comparison(p: Process, county: str, col: int, due: str) -> str:
    p.add("user", "wb_compare", "比对交办", county, col, form="warning_dispatch.json", due=due,
          instructions="与现有监测对象比对本批预警：已是监测对象或正在办理识别、绿色通道的记入该户；"
                       "其余交办所在乡镇入户核查（自交办之日起至县级审定一般不超过 20 个工作日）。")
    p.add("script", "wb_dispatch", "记入已监测户并交办乡镇", county, col + 1,
          script="dispatched = dispatch_to_townships()")
    p.add("end", "wb_end", "已比对交办", county, col + 2)
    p.chain("wb_compare", "wb_dispatch", "wb_end")
    return "wb_compare"


def warning_batch() -> Process:
    city, county = "市级", "县级"
    p = Process("warning_batch", "行业预警分解推送和比对交办", [city, county])
    p.add("start", "wb_start", "收到部门预警数据", county, 0, doc=WARNING_LIMITS)
    p.add("xor", "wb_level", "推送到哪一级？", county, 1)
    p.add("user", "wb_split", "分解推送到县", city, 2, form="warning_split.json",
          due='working_days_from(batch["received_on"], 5)',
          instructions="汇总本批预警，按县（市、区）分解推送到县级乡村振兴部门（5 个工作日内）。")
    p.add("script", "wb_push", "按县分解推送", city, 3, script="counties = split_to_counties()")
    p.add("end", "wb_end_city", "已分解推送", city, 4)
    compare = _warning_comparison(p, county, 2, 'working_days_from(batch["received_on"], 5)')
    p.chain("wb_start", "wb_level")
    p.flow("wb_level", "wb_split", "市级", 'place["level"] == "city"')
    p.flow("wb_level", compare, "县级", 'place["level"] != "city"')
    p.chain("wb_split", "wb_push", "wb_end_city")
    return p


def warning_batch_longkou() -> Process:
    county = "县级"
    p = Process("warning_batch_longkou", "行业预警比对交办（龙口市：各部门每月直接报市扶贫办）", [county])
    p.add("start", "wb_start", "收到部门预警数据", county, 0,
          doc="003 三（三）：各部门每月按时将预警信息报市扶贫办（县级），不经地级市分解。" + WARNING_LIMITS)
    compare = _warning_comparison(p, county, 1, 'working_days_from(batch["received_on"], 5)')
    p.flow("wb_start", compare)
    return p


def warning_verification() -> Process:
    township = "乡镇"
    p = Process("warning_verification", "预警信息入户核查", [township])
    p.add("start", "wv_start", "县级交办", township, 0, doc=WARNING_LIMITS)
    p.add("script", "wv_limit", "自交办起 20 个工作日", township, 1, script=(
        'start_case_deadline("自交办之日起至县级审定（20 个工作日）", working_days_from(warning["dispatched_on"], 20))'))
    p.add("user", "wv_verify", "入户核查", township, 2, form="warning_verification.json",
          due='working_days_from(warning["dispatched_on"], 20)',
          instructions="入户核查预警人员家庭情况：符合监测条件的启动识别程序（发现日期为交办日期）；"
                       "不符合的写明理由，该户列为重点关注户。")
    p.add("xor", "wv_meets", "是否符合监测条件？", township, 3)
    p.add("script", "wv_identify", "启动识别程序", township, 4, script=(
        "include_warned_household(reason)\nrecord_outcome(\"included\", reason)\nmeet_case_deadline()"))
    p.add("end", "wv_end", "已启动识别", township, 5)
    p.add("script", "wv_attention", "列为重点关注户", township, 4, row=1, script=(
        "keep_warned_household_in_view(reason)\nrecord_outcome(\"not_included\", reason)\nmeet_case_deadline()"))
    p.add("end", "wv_end_attention", "不符合条件", township, 5, row=1)
    p.chain("wv_start", "wv_limit", "wv_verify", "wv_meets")
    p.flow("wv_meets", "wv_identify", "符合", 'outcome == "meets"')
    p.flow("wv_meets", "wv_attention", "不符合", 'outcome == "not_meets"')
    p.flow("wv_identify", "wv_end")
    p.flow("wv_attention", "wv_end_attention")
    return p


def warning_report() -> Process:
    county = "县级"
    p = Process("warning_report", "县级每月上报预警核查办理结果", [county])
    p.add("start", "wr_start", "本月开始", county, 0)
    p.add("timer", "wr_month_ends", "月末", county, 1, date='report["opens_on"] + "T00:00:00+08:00"')
    p.add("user", "wr_submit", "上报上月交办事项核查结果", county, 2, form="warning_report.json",
          due='monthly_deadline(report["opens_on"], 25)',
          instructions="000 六（二）4：每月 25 日前将上个月交办事项的核查办理结果汇总上报市级乡村振兴部门。")
    p.add("script", "wr_record", "登记月报", county, 3, script="submit_warning_report()")
    p.add("script", "wr_next", "开启下月月报", county, 4, script="open_next_report()")
    p.add("end", "wr_end", "已上报", county, 5)
    p.chain("wr_start", "wr_month_ends", "wr_submit", "wr_record", "wr_next", "wr_end")
    return p


# -- 脱贫人口分类管理: 脱贫不再享受政策 (004 一(三), 附件2) ------------------------------------------------
POLICY_REPORT_DUE = ('monthly_deadline(today()[:4] + "-" + policy["report_by"][:2] + "-01", '
                     'int(policy["report_by"][3:])) if "report_by" in policy else None')
KEPT_SCRIPT = ('record_outcome("kept", reason)\n'
               'notify_household("脱贫人口分类管理结果告知", "经核实，您户仍按脱贫享受政策人口管理。" + reason + "。")')


def poverty_policy() -> Process:
    lanes = {"village": "村级", "township": "乡镇"}
    v, t = lanes["village"], lanes["township"]
    p = Process("poverty_policy", "脱贫人口分类管理：认定脱贫不再享受政策（004 附件2）", list(lanes.values()))
    p.add("start", "pp_start", "脱贫享受政策户逐户摸排", v, 0,
          doc="004 一（三）：按“民主评议—乡镇审核—村级公示（公示期5天）”的程序认定，12月8日前由街道汇总审定后报区。")
    p.add("user", "pp_check", "入户核实认定情形和例外情形", v, 1, form="poverty_policy_check.json", due=POLICY_REPORT_DUE,
          instructions="采取入户核实与数据比对相结合的方式，逐项核对附件2的8种认定情形和4种例外情形。")
    p.add("rule", "pp_rule", "是否拟认定为脱贫不再享受政策（决策表）", v, 2, decision="poverty_policy_status",
          doc="决策表 poverty_policy_status：存在认定情形且无例外情形的，拟认定为脱贫不再享受政策")
    p.add("script", "pp_reason", "形成认定意见", v, 3,
          script='reason = status_reason + "：" + poverty_policy_items(criteria, exceptions)')
    p.add("xor", "pp_proposed", "拟认定？", v, 4)
    p.add("script", "pp_kept", "仍按脱贫享受政策管理并告知农户", v, 5, row=1, script=KEPT_SCRIPT)
    p.add("end", "pp_end_kept", "仍享受政策", v, 6, row=1)
    appraisal, gw1 = _decision(p, "pp_appraisal", "民主评议", v, 5, "democratic_appraisal.json", POLICY_REPORT_DUE,
                               "召开村民代表会议民主评议拟认定对象。")
    review, gw2 = _decision(p, "pp_review", "乡镇审核", t, 7, "review_decision.json", POLICY_REPORT_DUE,
                            "乡镇（街道）审核村级民主评议结果。")
    post, pgw = _publicity(p, "pp_village", "村级", "village_publicity_days", v, 9, "张贴村级公示（脱贫不再享受政策）",
                           due=POLICY_REPORT_DUE)
    approve, gw3 = _decision(p, "pp_approve", "街道（乡镇）汇总审定", t, 13, "poverty_policy_approval.json",
                             POLICY_REPORT_DUE, "公示无异议的，由街道（乡镇）汇总审定后报县（区）乡村振兴部门（12月8日前）。")
    p.add("script", "pp_marked", "标注脱贫不再享受政策并告知农户", t, 15, script=(
        'record_outcome("not_enjoying", reason)\n'
        'mark_not_enjoying_policy(decided_on)\n'
        'notify_household("脱贫人口分类管理结果告知", "经民主评议、乡镇审核、村级公示，您户自 " + decided_on + '
        '" 起标注为脱贫不再享受政策人口。" + reason + "。如有异议，可向村委会或乡镇反映。")'))
    p.add("end", "pp_end_marked", "已标注", t, 16)
    p.chain("pp_start", "pp_check", "pp_rule", "pp_reason", "pp_proposed")
    p.flow("pp_proposed", "pp_kept", "仍享受政策", 'proposed_status == "enjoying"')
    p.flow("pp_proposed", appraisal, "拟认定", 'proposed_status == "not_enjoying"')
    p.flow(gw1, "pp_kept", "未通过", 'decision == "reject"')
    p.flow(gw1, review, "通过", 'decision == "approve"')
    p.flow(gw2, "pp_kept", "不通过", 'decision == "reject"')
    p.flow(gw2, post, "通过", 'decision == "approve"')
    p.flow(pgw, "pp_kept", "异议成立", 'publicity_result == "objection_upheld"')
    p.flow(pgw, approve, "公示无异议", 'publicity_result == "passed"')
    p.flow(gw3, "pp_kept", "不同意", 'decision == "reject"')
    p.flow(gw3, "pp_marked", "同意", 'decision == "approve"')
    p.flow("pp_kept", "pp_end_kept")
    p.flow("pp_marked", "pp_end_marked")
    return p


# -- the yearly campaign: annual information collection and concentrated screening (004 一(一)(二), 四) ----------
CAMPAIGN_ENTRY_DUE = 'monthly_deadline(campaign["entry_by"], int(campaign["entry_by"][8:]))'
CAMPAIGN_CLOSE_DUE = 'monthly_deadline(campaign["closes"], int(campaign["closes"][8:]))'


def annual_campaign() -> Process:
    t = "乡镇"
    p = Process("annual_campaign", "年度信息采集和集中排查（乡镇）", [t])
    p.add("start", "ac_start", "年度工作开始", t, 0,
          doc="004 一（一）（二）、四：对脱贫享受政策人口和监测对象采集更新信息，对所有农户集中排查；12月8日前完成录入，"
              "全国系统12月31日24时关闭。收入统计时段、时点和期限为政策数据。")
    p.add("user", "ac_open", "开启本乡镇年度信息采集和集中排查", t, 1, form="campaign_open.json", due=CAMPAIGN_ENTRY_DUE,
          instructions="确认本年度的收入统计时段和时点后开启：本乡镇每户农户生成一项入户采集排查任务。")
    p.add("script", "ac_households", "为每户生成入户采集排查任务", t, 2, script="households = open_collections()")
    p.add("user", "ac_report", "汇总上报采集排查结果", t, 3, form="campaign_report.json", due=CAMPAIGN_ENTRY_DUE,
          instructions="各村入户采集排查和录入完成后，汇总上报县（区）乡村振兴部门（12月8日前）。")
    p.add("script", "ac_reported", "登记上报（各户均已录入）", t, 4, script='record_outcome("reported", report_campaign())',
          doc="汇总本乡镇各户采集排查结果；尚有农户未入户采集或未录入全国系统的，不能上报。")
    p.add("end", "ac_end", "已上报", t, 5)
    p.chain("ac_start", "ac_open", "ac_households", "ac_report", "ac_reported", "ac_end")
    return p


def annual_collection() -> Process:
    v, t = "村级", "乡镇"
    p = Process("annual_collection", "入户信息采集和集中排查（每户）", [v, t])
    p.add("start", "cl_start", "乡镇开启年度采集排查", v, 0)
    p.add("user", "cl_visit", "入户采集和排查", v, 1, form="annual_collection.json", due=CAMPAIGN_ENTRY_DUE,
          instructions="按统计时段采集收入（务工时间同一时段），按时点采集健康、在校等状态；重要数据由农户和采集人双签字确认，"
                       "长期在外务工的可电话访谈并注明。排查：是否符合监测对象认定标准，监测对象风险是否消除。")
    p.add("script", "cl_record", "登记年度收入和排查结果", v, 2, script="record_annual_income(income)")
    p.add("xor", "cl_found", "排查结果？", v, 3)
    p.add("script", "cl_no_risk", "登记排查结果：无新风险", v, 4, script=(
        'record_outcome("no_risk", "集中排查：无新的返贫致贫风险")'))
    p.add("script", "cl_identify", "符合认定标准：启动识别程序", v, 4, row=1, script=(
        'identify_from_screening(collected_on, "年度集中排查")\n'
        'record_outcome("identify", "集中排查：符合监测对象认定标准，已启动识别程序（基层干部排查）")'))
    p.add("script", "cl_risk_gone", "监测对象风险已消除：启动风险消除程序", v, 4, row=2, script=(
        'propose_elimination(elimination_mode)\n'
        'record_outcome("risk_gone", "集中排查：致贫返贫风险已消除，“三保障”和饮水安全有保障，已启动风险消除程序")'),
          doc="004 一（二）：对以往认定的监测对象致贫返贫风险变化情况进行评估，风险消除且不存在“三保障”和饮水安全问题的，"
              "及时标注“风险消除”。“三保障”或饮水安全尚未保障的不能启动。")
    p.add("user", "cl_entry", "录入全国防返贫监测信息系统", t, 5, form="system_entry.json", due=CAMPAIGN_CLOSE_DUE,
          instructions="12月8日前完成录入；全国系统12月31日24时关闭。")
    p.add("end", "cl_end", "已采集录入", t, 6)
    p.chain("cl_start", "cl_visit", "cl_record", "cl_found")
    p.flow("cl_found", "cl_no_risk", "无新风险", 'screening == "no_risk"')
    p.flow("cl_no_risk", "cl_entry")
    p.flow("cl_found", "cl_identify", "符合认定标准", 'screening == "identify"')
    p.flow("cl_found", "cl_risk_gone", "风险已消除", 'screening == "risk_gone"')
    p.flow("cl_identify", "cl_entry")
    p.flow("cl_risk_gone", "cl_entry")
    p.chain("cl_entry", "cl_end")
    return p


# -- area screening after a disaster (区域性、规模性返贫风险排查, 000 二(三), 003 二(三)) ----------------------------
AREA_DUE = 'days_from(screening["started_on"], policy["visit_days"]) if "visit_days" in policy else None'


def area_screening() -> Process:
    c = "县级"
    p = Process("area_screening", "区域性、规模性返贫风险排查（灾害、疫情、价格下跌等之后）", [c])
    p.add("start", "as_start", "发生重大突发事件", c, 0,
          doc="000 二（三）、003 二（三）：遭遇自然灾害、疫情等重大突发公共事件，或大宗农副产品价格大幅下跌、农村劳动力规模性"
              "失业、产业项目失败时，迅速启动，及时排查区域性、规模性返贫风险。")
    p.add("script", "as_visits", "为所选村每户生成排查任务", c, 1, script="households = open_area_visits()")
    p.add("user", "as_assess", "研判区域性、规模性返贫风险", c, 2, form="area_assessment.json",
          due='days_from(screening["started_on"], policy["assessment_days"]) if "assessment_days" in policy else None',
          instructions="汇总各村排查结果，研判是否存在区域性、规模性返贫风险，研究制定防范措施。")
    p.add("script", "as_done", "登记研判结论", c, 3, script='record_outcome(risk_level, measures)')
    p.add("end", "as_end", "排查结束", c, 4)
    p.chain("as_start", "as_visits", "as_assess", "as_done", "as_end")
    return p


def area_visit() -> Process:
    v = "村级"
    p = Process("area_visit", "灾后入户排查（每户）", [v])
    p.add("start", "av_start", "县级启动区域排查", v, 0)
    p.add("user", "av_visit", "灾后入户排查", v, 1, form="area_visit.json", due=AREA_DUE,
          instructions="入户排查受灾（受影响）情况和返贫致贫风险：符合监测对象认定标准的启动识别程序；"
                       "困难情形明显、急需帮扶的报乡镇走绿色通道。")
    p.add("xor", "av_found", "排查结果？", v, 2)
    p.add("script", "av_identify", "启动识别程序", v, 3, row=1, script=(
        'identify_from_screening(visited_on, "区域性返贫风险排查：" + screening["cause"])'))
    p.add("end", "av_end", "已排查", v, 4)
    p.chain("av_start", "av_visit", "av_found")
    p.flow("av_found", "av_end", "无返贫致贫风险", 'outcome == "no_risk"')
    p.flow("av_found", "av_identify", "符合认定标准", 'outcome == "identify"')
    p.flow("av_identify", "av_end")
    return p


PROCEDURES = {
    "identification.bpmn": identification_default,
    "publicity.bpmn": publicity_period,
    "identification_zhanggong_2021.bpmn": identification_zhanggong_2021,
    "identification_longkou.bpmn": identification_longkou,
    "monthly_followup.bpmn": monthly_followup,
    "elimination.bpmn": elimination,
    "green_channel.bpmn": green_channel,
    "member_change.bpmn": member_change,
    "correction.bpmn": correction,
    "elimination_zhanggong_2021.bpmn": elimination_zhanggong_2021,
    "elimination_longkou.bpmn": elimination_longkou,
    "warning_push.bpmn": warning_push,
    "warning_batch.bpmn": warning_batch,
    "warning_batch_longkou.bpmn": warning_batch_longkou,
    "warning_verification.bpmn": warning_verification,
    "warning_report.bpmn": warning_report,
    "poverty_policy.bpmn": poverty_policy,
    "annual_campaign.bpmn": annual_campaign,
    "annual_collection.bpmn": annual_collection,
    "area_screening.bpmn": area_screening,
    "area_visit.bpmn": area_visit,
}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "processes")
    args = parser.parse_args()
    for name, build in PROCEDURES.items():
        path = args.out / name
        text = build().xml()
        if path.exists() and path.read_text(encoding="utf-8") != text and not args.force:
            log.warning("%s differs from the scaffold (edited by policy staff?): not overwritten", path)
            continue
        path.write_text(text, encoding="utf-8")
        log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
