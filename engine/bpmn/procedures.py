"""Which procedure a diagram carries out (流程所办理的程序): a process says it in the diagram itself, with the same
spiffworkflow properties its user tasks carry — set in the modeler's properties panel (select the pool: 办理程序)::

    <bpmn:process id="identification_longkou" …>
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="procedure" value="identification" />

its value one of the codes of :class:`engine.core.vocabulary.Procedure`. A process that says none is read by the
convention of ``processes/``: its id is the procedure's code or begins with it and ``_``
(``identification_longkou``, ``elimination_zhanggong_2021``, ``warning_batch_longkou``). A binding
(``<procedure>.process``) is refused when the version it names carries out another procedure, or one that cannot
be told (engine.policy.bindings).

All the versions of one process carry out the same procedure: a version that declares another one than those
deployed before is refused (a binding following the newest version would switch procedure), and a version
deployed before the declaration existed takes it from a later version of the same process.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from sqlalchemy import select

from engine.bpmn.conventions import BPMN, PANEL_HINT, SPIFF
from engine.core.db import db
from engine.core.models import DiagramFile, ProcessVersion
from engine.core.vocabulary import Procedure

PROCEDURE_PROPERTY = "procedure"
PANEL_PLACE = "在建模器中选中流程（泳池），在属性面板“办理程序”中选择"
_PROPERTY = f"{{{SPIFF}}}property"


def declared(tree: etree._ElementTree, process_id: str) -> str | None:
    """The procedure code the process ``process_id`` of ``tree`` declares (None: it declares none)."""
    for process in tree.getroot().iter(f"{{{BPMN}}}process"):
        if process.get("id") == process_id:
            node = _declaration(process)
            value = (node.get("value") or "").strip() if node is not None else ""
            return value or None
    return None


def _declaration(process: etree._Element) -> etree._Element | None:
    return process.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties/{_PROPERTY}[@name='{PROCEDURE_PROPERTY}']")


def by_convention(process_id: str) -> str | None:
    """The procedure a process id names by the convention of ``processes/`` (the longest code it is or begins
    with, followed by ``_``); None when it names none."""
    codes = sorted(Procedure.labels(), key=len, reverse=True)
    return next((code for code in codes if process_id == code or process_id.startswith(f"{code}_")), None)


def label(code: str) -> str:
    """“识别纳入”（identification）."""
    return f"“{Procedure.label_of(code)}”（{code}）"


def problems(tree: etree._ElementTree, describe: Callable[[etree._Element], str]) -> list[str]:
    """A declaration names a procedure of the vocabulary, and is on a process (the engine reads it there only)."""
    found = []
    allowed = "、".join(f"{code.value}（{code.label}）" for code in Procedure)
    for node in tree.getroot().iter(_PROPERTY):
        if node.get("name") != PROCEDURE_PROPERTY:
            continue
        holder = node.getparent()
        owner = holder.getparent().getparent() if holder is not None and holder.getparent() is not None else None
        owner = owner if owner is not None else node
        value = (node.get("value") or "").strip()
        if etree.QName(owner).localname != "process":
            found.append(f"{describe(owner)}：属性 {PROCEDURE_PROPERTY}（办理程序）只能设在流程（process）上；"
                         f"请删除该属性，{PANEL_PLACE}")
        elif value not in Procedure.labels():
            found.append(f"{describe(owner)}：属性 {PROCEDURE_PROPERTY}（办理程序）的取值“{value}”不是已知的办理程序；"
                         f"请改为其中之一：{allowed}，{PANEL_HINT}；被其他流程调用、不单独绑定的流程可以不设")
    return found


@dataclass(frozen=True)
class Carried:
    """What a deployed version carries out: ``code`` (None: cannot be told) and how that is known (``how``)."""

    code: str | None
    how: str

    @property
    def label(self) -> str:
        return label(self.code) if self.code else "未声明"


DECLARED = "流程图中声明"
BY_ID = "未声明，按流程标识推断"
UNKNOWN = "未声明，流程标识也不以办理程序代码开头"


def carried_by(version: ProcessVersion) -> Carried:
    """The procedure ``version`` carries out: its own declaration; else that of the newest version of the same
    process that has one (deployed before the declaration existed); else its id's (:func:`by_convention`)."""
    own = declared_in(_hashes(version), version.process_key)
    if own:
        return Carried(own, DECLARED)
    later = db.session.execute(select(ProcessVersion.version, ProcessVersion.files)
                               .filter_by(process_key=version.process_key)
                               .where(ProcessVersion.version != version.version)
                               .order_by(ProcessVersion.version.desc())).all()
    for number, files in later:
        code = declared_in(tuple(f["sha256"] for f in files), version.process_key)
        if code:
            return Carried(code, f"未声明，取自同一流程第 {number} 版的声明")
    code = by_convention(version.process_key)
    return Carried(code, BY_ID if code else UNKNOWN)


def _hashes(version: ProcessVersion) -> tuple[str, ...]:
    return tuple(f["sha256"] for f in version.files)


_DECLARED: dict[tuple[str, str], str | None] = {}  # (file hash, process id) → its declaration: a file never changes


def declared_in(file_hashes: tuple[str, ...], process_id: str) -> str | None:
    """The declaration of ``process_id`` in the deployed files with these hashes (each file read once)."""
    for sha256 in file_hashes:
        key = (sha256, process_id)
        if key not in _DECLARED:
            row = db.session.get(DiagramFile, sha256)
            if row is None:
                continue
            is_bpmn = not row.file_name.lower().endswith(".dmn")
            _DECLARED[key] = declared(etree.ElementTree(etree.fromstring(row.content)), process_id) if is_bpmn else None
        if _DECLARED[key]:
            return _DECLARED[key]
    return None


def _which(version: ProcessVersion, carried: Carried) -> str:
    """流程 identification_longkou（识别纳入（龙口市…））第 2 版办理“识别纳入”（identification，流程图中声明）."""
    which = f"流程 {version.process_key}" + (f"（{version.name}）" if version.name != version.process_key else "")
    which += f"第 {version.version} 版"
    if carried.code is None:
        return f"{which}{carried.how}，不能确定它办理哪一项程序"
    return f"{which}办理“{Procedure.label_of(carried.code)}”（{carried.code}，{carried.how}）"


def mismatch(procedure: str, version: ProcessVersion) -> str:
    """Why ``version`` cannot run new ``procedure`` cases ("" when it can): it carries out another procedure,
    or one that cannot be told; with what to change."""
    carried = carried_by(version)
    if carried.code == procedure:
        return ""
    what = _which(version, carried)
    if carried.code is None:
        return (f"{what}，不能作为{label(procedure)}的流程；如该流程图确实办理{Procedure.label_of(procedure)}，请"
                f"{PANEL_PLACE}“{Procedure.label_of(procedure)}”（写入 spiffworkflow:property name=\"{PROCEDURE_PROPERTY}\""
                f" value=\"{procedure}\"），部署后再绑定")
    return (f"{what}，不能作为{label(procedure)}的流程：新立案的{Procedure.label_of(procedure)}案件会按"
            f"{Procedure.label_of(carried.code)}的步骤办理。请改选办理{Procedure.label_of(procedure)}的流程；如该流程图确实"
            f"办理{Procedure.label_of(procedure)}，请{PANEL_PLACE}“{Procedure.label_of(procedure)}”，另存为新的流程标识部署后再绑定")


def change_problem(process_id: str, tree: etree._ElementTree, describe: Callable[[etree._Element], str]) -> str:
    """Why a new version of ``process_id`` (in ``tree``) cannot be deployed ("" when it can): it declares another
    procedure than the versions deployed before carry out — a binding following the newest version would switch
    procedure."""
    new = declared(tree, process_id)
    newest = db.session.scalar(select(ProcessVersion).filter_by(process_key=process_id)
                               .order_by(ProcessVersion.version.desc()).limit(1))
    if new is None or newest is None:
        return ""
    before = carried_by(newest)
    if before.code is None or before.code == new:
        return ""
    process = next(p for p in tree.getroot().iter(f"{{{BPMN}}}process") if p.get("id") == process_id)
    return (f"{describe(process)}：声明的办理程序{label(new)}与该流程已部署的版本不同（{_which(newest, before)}）；同一流程标识的各版本办理同一程序，按“最新版本”绑定该流程的辖区"
            f"不能因部署而改办另一程序。请把办理程序改回“{Procedure.label_of(before.code)}”，"
            f"或把流程另存为新的流程标识（如 {new}_…）后部署")
