"""The ``fangpin`` command: set up the database, run the system, and act as an official from a shell
(register a household, open a case, list and complete tasks, move the demo clock, read a history)."""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import inspect, select
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from engine.accounts import users
from engine.accounts.api_tokens import issue_token, revoke, tokens_of
from engine.app import DemoClock, create_engine_app, get_clock
from engine.bootstrap import setup_database
from engine.bpmn.forms import load_form
from engine.bpmn.source import DiagramSource
from engine.cases.deadlines import deadlines_of_case, provisional_deadlines, recompute_provisional
from engine.cases.household_import import import_households
from engine.cases.lifecycle import (
    case_history,
    close_publicity,
    complete_task,
    open_correction,
    open_elimination,
    open_green_channel,
    open_identification,
    open_member_change,
    raise_objection,
    wake_due,
)
from engine.cases.tasks import list_ready
from engine.core import audit
from engine.core.clock import Clock, FixedClock
from engine.core.config import tune_garbage_collector
from engine.core.db import MAX_ID, database_unreachable, db
from engine.core.errors import FangpinError, FormInvalid, PermissionDenied
from engine.core.logs import configure_command_logging, configure_server_logging
from engine.core.models import AppSetting, Case, DepartmentWarning, HumanTask, Jurisdiction, ProcessVersion, User
from engine.core.schema import schema_problem
from engine.core.transaction import transaction
from engine.core.vocabulary import OverdueKind, PrivateAccess
from engine.demo import DEMO_DAY, load_demo
from engine.elimination.eligibility import evaluation_list
from engine.households.importing import ImportRefused, template_xlsx
from engine.households.privacy import mask_id_number, reveal_private
from engine.households.register import find_household, register_household
from engine.library.catalogue import with_library
from engine.library.deploying import deploy_files, diagram_notices, diagram_source
from engine.library.trial import readable, run_scenario
from engine.policy.check import check as policy_checks
from engine.policy.check import gaps as policy_gaps
from engine.policy.check import optional_not_set
from engine.policy.editing import bind_process
from engine.policy.parameters import load_policy_file
from engine.policy.permissions import require_editor, require_may_register
from engine.publicity.lists import list_source_gaps
from engine.serving import scheduler_command, serve, share_demo_key
from engine.supervision.overdue import LIMIT, overdue_listing
from engine.warnings.intake import import_batch
from engine.warnings.procedure import batch_reference
from engine.warnings.rows import read_upload
from engine.warnings.schedules import open_event_push, open_schedules
from engine.warnings.thresholds import departments
from timers.calendar import CHINA_TZ as CST
from timers.calendar import display_deadline, display_moment, to_local_date
from timers.cli import calendar_group
from timers.scheduler import TimerScheduler
from web import create_app
from web.security import ConfigurationError

log = logging.getLogger(__name__)
RECORD_ID = click.IntRange(1, MAX_ID)  # a case's, task's or token's id: a larger number is no record (not an overflow)
MAX_ADVANCE_DAYS = 3650  # the demo clock moves at most ten years at a time (the holiday data ends long before)


def _with_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command inside an application context; engine refusals exit 1 with their message."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            app = create_engine_app()
        except ArgumentError as exc:  # DATABASE_URL=foo
            click.echo(f"错误：DATABASE_URL 不是有效的数据库地址（如 postgresql://用户:口令@主机/fangpin）：{exc}", err=True)
            sys.exit(1)
        with app.app_context():
            try:
                return fn(*args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                click.echo(f"错误：{database_unreachable(exc)}", err=True)
                sys.exit(1)
            except FormInvalid as exc:
                click.echo(f"错误：{exc.form} 填写有误", err=True)
                for field, reason in exc.errors:
                    click.echo(f"  - {field or '(表单)'}: {reason}", err=True)
                sys.exit(1)
            except FangpinError as exc:
                click.echo(f"错误：{exc}", err=True)
                sys.exit(1)

    return wrapper


def _actor(ctx: click.Context) -> str:
    username = ctx.obj.get("user")
    if not username:
        raise click.UsageError("请用 --as 用户名 指定办理人（或设置环境变量 FANGPIN_USER）")
    return username


def _where(ctx: click.Context, code: str | None) -> tuple[User | None, Jurisdiction]:
    """The acting user (if any) and the jurisdiction asked for, or the user's own."""
    user = db.session.scalar(select(User).filter_by(username=ctx.obj.get("user") or ""))
    jurisdiction = db.session.scalar(select(Jurisdiction).filter_by(code=code)) if code else (user and user.jurisdiction)
    if jurisdiction is None:
        raise click.UsageError("请指定 --jurisdiction 代码或 --as 用户名")
    return user, jurisdiction


def _json_arg(data: str | None, file: Path | None) -> dict[str, Any]:
    try:
        return json.loads(file.read_text(encoding="utf-8") if file is not None else data or "{}")
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"文件 {file} 不是 UTF-8 编码的文本") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise click.BadParameter(f"{'文件 ' + str(file) if file else '--data'} 不是有效的 JSON：{exc}") from exc


@click.group()
@click.option("--as", "user", envvar="FANGPIN_USER", help="acting official's username")
@click.option("-v", "--verbose", is_flag=True)
@click.pass_context
def main(ctx: click.Context, user: str | None, verbose: bool) -> None:
    """fangpin 防止返贫动态监测和帮扶 — command line."""
    configure_command_logging(verbose)
    ctx.ensure_object(dict)["user"] = user


main.add_command(calendar_group)


@calendar_group.command("recompute")
@click.option("--jurisdiction", "code", help="only the cases at or below this place (default: every case)")
@click.option("--list", "listing", is_flag=True, help="only list the provisional deadlines, change nothing")
@click.pass_context
@_with_app
def calendar_recompute(ctx: click.Context, code: str | None, listing: bool) -> None:
    """Compute again the provisional deadlines (暂定期限) of running cases with the calendar data as it is now (after
    adding next year's holiday arrangement to the override file)."""
    place = db.session.scalar(select(Jurisdiction).filter_by(code=code)) if code else None
    if code and place is None:
        raise click.UsageError(f"没有代码为 {code} 的辖区")
    path = place.path if place is not None else "/"
    total, first = provisional_deadlines(path, limit=50)
    click.echo(f"运行中的暂定期限：{total} 个")
    for item in first:
        mark = "（需人工核对）" if item.by_hand else ""
        click.echo(f"  {item.case_number} {item.deadline.label} 截止 {_due(item.deadline.due_at)}{mark}")
    if listing:
        return
    with transaction():
        done = recompute_provisional(path, ctx.obj.get("user") or "system", get_clock().now())
    click.echo(done.summary())


@main.command()
@click.option("--demo", is_flag=True, help="also add demo logins, households and cases")
@click.option("--admin", "admin", help="create the first administrator of --admin-jurisdiction with this login (a "
              "fresh install, or a city or province above the existing administrators)")
@click.option("--admin-name", default="系统管理员", show_default=True)
@click.option("--admin-jurisdiction", help="jurisdiction code of the first administrator (e.g. the county's)")
@_with_app
def init(demo: bool, admin: str | None, admin_name: str, admin_jurisdiction: str | None) -> None:
    """Create the tables, load jurisdictions and policy data, deploy the diagrams of processes/; without --demo no
    login exists until the first administrator is created (--admin with --admin-jurisdiction)."""

    if demo and not isinstance(get_clock(), DemoClock):  # a county's database: its logins "demo", its cases made up
        raise click.UsageError("演示数据（--demo）只在演示时钟下加载（FANGPIN_CLOCK=demo，make run 已设置）：它会加入口令为 "
                               "demo 的账号（其中有系统管理员）和虚构的农户、案件，不能加载到县里在用的数据库")
    click.echo(f"初始化：{setup_database(_setup_clock(demo))}")
    if demo:
        _start_demo_clock()
        click.echo(f"演示数据：{load_demo(get_clock())}")
    else:
        with transaction():
            click.echo(f"行业预警推送和月报任务：{open_schedules(get_clock())}")
    if admin:
        if not admin_jurisdiction:
            raise click.UsageError("请用 --admin-jurisdiction 指定第一位系统管理员所在的行政区划代码")
        issued = users.create_first_administrator(admin, admin_name, admin_jurisdiction, get_clock().now())
        _print_issued(issued, "已创建第一位系统管理员")
    elif not demo and not db.session.scalar(select(User.id).limit(1)):
        click.echo("尚无任何登录账号：请运行 fangpin init --admin 登录名 --admin-jurisdiction 区划代码 创建第一位系统管理员",
                   err=True)


def _setup_clock(demo: bool) -> Clock:
    """The clock the set-up records its deploys and policy data by: with --demo on a new database, the demo's day
    (its clock starts there right after), so that the diagrams are not listed as uploaded after the demo's today."""
    clock = get_clock()
    if demo and isinstance(clock, DemoClock) and not (inspect(db.engine).has_table(AppSetting.__tablename__)
                                                      and clock.is_set()):
        return FixedClock(DEMO_DAY)
    return clock


def _start_demo_clock() -> None:
    """A demo clock not set yet starts on the demo's day (engine.demo.DEMO_DAY) instead of following the real time."""
    clock = get_clock()
    if isinstance(clock, DemoClock) and not clock.is_set():
        with transaction():
            clock.set(DEMO_DAY)
        click.echo(f"演示时钟：{_local(DEMO_DAY)}（演示数据的“今天”；用 fangpin clock advance 向前拨）")


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int, help="0: any free port (the log says which)")
@click.option("--no-scheduler", is_flag=True, help="only the web UI: the timers fire elsewhere (`fangpin scheduler`)")
def run(host: str, port: int, no_scheduler: bool) -> None:
    """Start the web UI (gunicorn, FANGPIN_WORKERS processes) and the timer scheduler (a process of its own)."""
    from engine.core.clock import ClockFileError

    _server_logging()
    share_demo_key()
    try:
        app = create_app()  # the configuration is checked once here, before any process starts
    except (ConfigurationError, ClockFileError) as exc:  # no real SECRET_KEY outside demo mode, …: refuse to start
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
    with app.app_context():
        problem = _database_problem()
    if problem:  # every page would be a 500 and the scheduler a traceback a sweep: refuse to start, saying why
        click.echo(f"错误：{problem}", err=True)
        sys.exit(1)
    serve(create_app, host, port, None if no_scheduler else scheduler_command())


def _server_logging() -> None:
    """The log of ``run`` and ``scheduler`` (engine.core.logs); a FANGPIN_LOG_LEVEL it does not know stops them."""
    try:
        configure_server_logging()
    except ValueError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)


def _database_problem() -> str | None:
    """Why the configured database cannot serve (it cannot be reached, is not initialised or not upgraded)."""
    try:
        return schema_problem()
    except (OperationalError, InterfaceError) as exc:
        return database_unreachable(exc)


@main.command()
@click.option("--sweep-seconds", default=30, type=click.IntRange(min=1), envvar="FANGPIN_SWEEP_SECONDS",
              show_default=True, show_envvar=True, help="how often everything due is woken")
@click.option("--lease-seconds", default=90, type=click.IntRange(min=2), envvar="FANGPIN_LEASE_SECONDS",
              show_default=True, show_envvar=True,
              help="how long the lease lasts unrenewed: a standby takes over this long after the leader died")
@click.option("--processes", default=min(os.cpu_count() or 1, 4), type=click.IntRange(min=1),
              envvar="FANGPIN_WAKE_PROCESSES", show_default="the cores, at most 4", show_envvar=True,
              help="processes that wake cases when many are due at once (a catch-up, a night of monthly visits)")
def scheduler(sweep_seconds: int, lease_seconds: int, processes: int) -> None:
    """Run only the timer scheduler (another one against the same database waits as a standby). `fangpin run`
    starts this command, so the two environment variables set it there too."""

    if lease_seconds <= sweep_seconds:
        raise click.BadParameter(f"须长于扫描间隔 {sweep_seconds} 秒（否则租约在两次扫描之间过期，主备来回切换）",
                                 param_hint="--lease-seconds / FANGPIN_LEASE_SECONDS")
    _server_logging()
    tune_garbage_collector()
    app = create_engine_app()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # before the start: a signal during it is a normal stop too
        signal.signal(signum, lambda *_: stop.set())
    running = TimerScheduler(app, sweep_seconds=sweep_seconds, lease_seconds=lease_seconds,
                             processes=processes).start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()  # the lease is released, so a standby takes over at once


@main.command()
@click.option("--jurisdiction", "code", help="jurisdiction code (default: the acting user's)")
@click.option("--procedure", help="e.g. identification")
@click.option("--step", help="a step name")
@click.pass_context
@_with_app
def overdue(ctx: click.Context, code: str | None, procedure: str | None, step: str | None) -> None:
    """Overdue tasks and cases in a jurisdiction and below (逾期), most overdue first."""

    _, jurisdiction = _where(ctx, code)
    now = get_clock().now()
    listing = overdue_listing(jurisdiction, now, procedure, step)
    click.echo(f"{jurisdiction.full_name}：逾期案件 {listing.total_cases} 件，逾期任务 {listing.total_tasks} 项"
               f"（{_local(now)}）")
    for name, n in listing.by_child.items():
        click.echo(f"  {name}: {n}")
    if listing.total_cases > len(listing.cases) or listing.total_tasks > len(listing.tasks):
        click.echo(f"（各列出逾期最久的 {LIMIT} 项）")
    for item in listing.cases + listing.tasks:
        click.echo(f"{OverdueKind.label_of(item.kind)} {item.case_number}  {item.household}  {item.jurisdiction}  {item.step}  "
                   f"期限 {_due(item.due_at)}  逾期 {item.days_overdue} 天")


# -- households -----------------------------------------------------------------------------------


@main.group()
def household() -> None:
    """Households and members (农户)."""


@household.command("register")
@click.option("--file", "file", type=click.Path(path_type=Path, exists=True), help="JSON file (forms/register_household.json)")
@click.option("--data", help="the same as inline JSON")
@click.pass_context
@_with_app
def household_register(ctx: click.Context, file: Path | None, data: str | None) -> None:
    """Register a household and its members."""

    values, user = _json_arg(data, file), _user_named(_actor(ctx), "--as")
    code = values.get("village") if isinstance(values, dict) else None
    require_may_register(user, db.session.scalar(select(Jurisdiction).filter_by(code=code)) if isinstance(code, str)
                         else None)  # as the page and the API: a role that registers, a village of its jurisdiction
    h = register_household(values, user.username, get_clock())
    click.echo(f"已登记农户 {h.number}（id {h.id}），{len(h.members)} 人，{h.village.full_name}")


@household.command("import")
@click.option("--file", "file", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
              help="an .xlsx or UTF-8 .csv file, one row per member (fangpin household template)")
@click.option("--dry-run", is_flag=True, help="check the whole file and say what would be imported; write nothing")
@click.pass_context
@_with_app
def household_import(ctx: click.Context, file: Path, dry_run: bool) -> None:
    """Import many households with their members (农户批量导入): all of the file, or none of it."""

    try:
        result = import_households(file.name, file.read_bytes(), _actor(ctx), get_clock(), dry_run=dry_run)
    except ImportRefused as exc:
        click.echo(f"错误：{file.name} 有 {exc.total} 处错误，未导入任何农户（改正后重新导入整个文件）：", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        if exc.total > len(exc.problems):
            click.echo(f"  ……另有 {exc.total - len(exc.problems)} 处未列出", err=True)
        sys.exit(1)
    click.echo(result.text())


@household.command("template")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), default=Path("农户导入模板.xlsx"),
              show_default=True, help="where to write the import template (.xlsx)")
def household_template(out: Path) -> None:
    """Write the import template (农户批量导入模板), made from the registration form."""
    out.write_bytes(template_xlsx())
    click.echo(f"已写入导入模板 {out}（列说明见其“填写说明”表）")


@household.command("show")
@click.argument("key")
@click.option("--sensitive", is_flag=True,
              help="ID numbers in full: for an official (--as) whose role sees private fields, audited")
@click.pass_context
@_with_app
def household_show(ctx: click.Context, key: str, sensitive: bool) -> None:
    """Show a household (by id or number); ID numbers masked unless --sensitive."""

    h = find_household(key)
    if sensitive:
        user = db.session.scalar(select(User).filter_by(username=_actor(ctx)))
        if user is None:
            raise click.UsageError(f"用户 {_actor(ctx)} 不存在")
        reveal_private(user, h.village, get_clock(), household_id=h.id, number=h.number, via=PrivateAccess.COMMAND)
    click.echo(f"{h.number}  {h.village.full_name}  状态 {h.status}  类别 {h.category or '-'}  纳入日期 {h.identified_on or '-'}")
    for m in h.members:
        click.echo(f"  {m.relation_to_head}  {m.name}  {m.id_number if sensitive else mask_id_number(m.id_number)}")


@household.command("change")
@click.option("--household", "household_key", required=True)
@click.option("--changed-on", type=click.DateTime(["%Y-%m-%d"]), required=True, help="the day of the birth, marriage or death")
@click.pass_context
@_with_app
def household_change(ctx: click.Context, household_key: str, changed_on: datetime) -> None:
    """Report a natural member change (出生、婚嫁、死亡): the village records it with proof within 3 months."""

    c = open_member_change(find_household(household_key).id, changed_on.date(), _actor(ctx), get_clock())
    click.echo(f"已登记成员变更事项 {c.number}（id {c.id}），请在期限内凭佐证材料办理")


# -- cases ----------------------------------------------------------------------------------------


@main.group()
def case() -> None:
    """Cases (案件)."""


@case.command("open")
@click.option("--household", "household_key", required=True, help="household id or number")
@click.option("--channel", required=True, type=click.Choice(["self_application", "cadre_screening",
                                                              "department_warning", "petition"]))
@click.option("--lead-date", type=click.DateTime(["%Y-%m-%d"]), help="day the risk was found (default today)")
@click.option("--application", help="JSON with details of the lead")
@click.pass_context
@_with_app
def case_open(ctx: click.Context, household_key: str, channel: str, lead_date: datetime | None,
              application: str | None) -> None:
    """Open an identification case (识别纳入)."""

    clock = get_clock()
    lead = lead_date.date() if lead_date else to_local_date(clock.now())
    c = open_identification(find_household(household_key).id, channel, lead, _actor(ctx), clock,
                            _json_arg(application, None))
    click.echo(f"已立案 {c.number}（id {c.id}），流程 {c.process_version.process_key} v{c.process_version.version}")


@case.command("show")
@click.argument("case_id", type=RECORD_ID)
@_with_app
def case_show(case_id: int) -> None:
    """A case's history: timeline, tasks, notices, waiting timers."""

    h = case_history(case_id)
    c = h.case
    click.echo(f"{c.number}  {c.household.number}  {c.jurisdiction.full_name}  {c.status}  {c.outcome or ''} "
               f"{c.outcome_reason or ''}".rstrip())
    click.echo(f"流程 {c.process_version.process_key} v{c.process_version.version}，发现日期 {c.lead_date}")
    click.echo("时间线：")
    for e in h.events:
        detail = {k: v for k, v in e.detail.items() if k != "data"}
        click.echo(f"  {_local(e.at)}  {e.actor:<16} {e.action:<18} {json.dumps(detail, ensure_ascii=False)}")
    click.echo("任务：")
    for t in h.tasks:
        click.echo(f"  #{t.id} {t.name} [{t.role}] {t.state} 期限 {_due(t.due_at)} {t.completed_by or ''}".rstrip())
    for n in h.notices:
        click.echo(f"告知：{n.title} — {n.body}")
    for name, due in h.waiting_until:
        click.echo(f"等待：{name} 至 {_due(due)}")

    for d in deadlines_of_case(case_id):
        flag = "（暂定）" if d.provisional else ""
        click.echo(f"期限：{d.label} 截止 {_due(d.due_at)}{flag}  {d.explanation}")


def _local(moment: datetime | None) -> str:
    """When something happened, China Standard Time (midnight reads 00:00)."""
    return display_moment(moment) if moment is not None else "-"


def _due(moment: datetime | None) -> str:
    """A deadline, China Standard Time; at midnight it reads as 24:00 of the day before (期限截止于当日24时)."""
    return display_deadline(moment) if moment is not None else "-"


@main.group()
def elimination() -> None:
    """Risk elimination (风险消除)."""


@elimination.command("evaluate")
@click.option("--jurisdiction", "code", help="a township code (default: the acting user's jurisdiction)")
@click.pass_context
@_with_app
def elimination_evaluate(ctx: click.Context, code: str | None) -> None:
    """The quarterly evaluation (季度研判): monitored households, each condition explained."""

    _, place = _where(ctx, code)
    for result in evaluation_list(place, to_local_date(get_clock().now())):
        h = result.household
        click.echo(f"{'可以消除' if result.eligible else '暂不符合'}  {h.number} {h.head.name if h.head else ''}")
        click.echo(f"    {result.explanation}")


@elimination.command("start")
@click.option("--household", "household_key", required=True)
@click.option("--mode", type=click.Choice(["assisted", "natural"]), default="assisted",
              help="assisted 帮扶消除 / natural 自然消除")
@click.pass_context
@_with_app
def elimination_start(ctx: click.Context, household_key: str, mode: str) -> None:
    """Start risk elimination for a household that meets the conditions."""

    c = open_elimination(find_household(household_key).id, mode, _actor(ctx), get_clock())
    click.echo(f"已启动风险消除 {c.number}（id {c.id}）")


@elimination.command("correct")
@click.option("--household", "household_key", required=True)
@click.option("--kind", type=click.Choice(["rollback", "removal"]), required=True,
              help="rollback 风险消除回退 / removal 清退")
@click.pass_context
@_with_app
def elimination_correct(ctx: click.Context, household_key: str, kind: str) -> None:
    """A county's written request for a rollback or a removal, up to the province."""

    c = open_correction(find_household(household_key).id, kind, _actor(ctx), get_clock())
    click.echo(f"已提交{'风险消除回退' if kind == 'rollback' else '清退'}申请 {c.number}（id {c.id}）")


@main.command("green-channel")
@click.option("--household", "household_key", required=True)
@click.option("--hardship", default="", help="what happened")
@click.pass_context
@_with_app
def green_channel(ctx: click.Context, household_key: str, hardship: str) -> None:
    """Start the green channel (绿色通道) for a sudden severe hardship."""

    c = open_green_channel(find_household(household_key).id, _actor(ctx), get_clock(), {"hardship": hardship})
    click.echo(f"已启动绿色通道 {c.number}（id {c.id}），待村级确认")


@main.group()
def warnings() -> None:
    """Department warnings (行业预警)."""


@warnings.command("import")
@click.option("--department", required=True, help="e.g. medical, education (policy/warning_thresholds.json)")
@click.option("--period", required=True, help="e.g. 2026-10, 2026-Q3, or the event date")
@click.option("--file", "file", type=click.Path(path_type=Path, exists=True), required=True, help=".csv or .xlsx")
@click.pass_context
@_with_app
def warnings_import(ctx: click.Context, department: str, period: str, file: Path) -> None:
    """A department pushes a batch: checked row by row, imported whole or not at all."""

    source, rows = read_upload(file.name, file.read_bytes())
    batch = import_batch(department, period, rows, source, _actor(ctx), get_clock(), file_name=file.name)
    click.echo(f"已导入预警批次 #{batch.id}：{batch.rows_count} 条，推送至 {batch.jurisdiction.full_name}")

    for w in db.session.scalars(select(DepartmentWarning).filter_by(batch_id=batch.id).order_by(DepartmentWarning.id)):
        click.echo(f"  预警 #{w.id} {w.person_name} {w.indicator} {w.amount}")
    step = db.session.scalar(select(HumanTask).join(Case, Case.id == HumanTask.case_id).where(
        Case.reference == batch_reference(batch, batch.jurisdiction), HumanTask.state == "READY"))
    if step is not None:
        click.echo(f"待办：任务 #{step.id} {step.name}（{step.jurisdiction.full_name}，期限 {_due(step.due_at)}）")


@warnings.command("event")
@click.option("--department", required=True, help="a department pushing after an event, e.g. education")
@click.option("--date", "event_on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="the event's date (秋季学期开学、灾害发生…)")
@click.pass_context
@_with_app
def warnings_event(ctx: click.Context, department: str, event_on: datetime) -> None:
    """A department records an event its push follows; the push task opens, due its working days after it."""

    _, place = _where(ctx, None)
    found = departments(place, to_local_date(get_clock().now()))
    if department not in found:
        raise click.BadParameter(f"{place.full_name} 没有行业部门 {department}（可选：{'、'.join(found)}）")
    with transaction():
        case = open_event_push(place, found[department], event_on.date(), _actor(ctx), get_clock())
    click.echo(f"已登记：{case.subject}（案件 {case.number}）")


@warnings.command("schedule")
@click.pass_context
@_with_app
def warnings_schedule(ctx: click.Context) -> None:
    """Open each department's push case of the coming period and each county's monthly report case where none runs
    (run on install and by the scheduler every day; after a policy change it opens the new ones)."""

    with transaction():
        opened = open_schedules(get_clock(), _actor(ctx))
    click.echo(f"已开启推送任务 {opened['push']} 个、月报任务 {opened['report']} 个")


# -- tasks ----------------------------------------------------------------------------------------


@main.group()
def task() -> None:
    """Human tasks (待办任务)."""


@task.command("list")
@click.option("--role", help="role key (default: all roles of the acting user)")
@click.option("--jurisdiction", "code", help="jurisdiction code (default: the acting user's)")
@click.option("--limit", default=50)
@click.pass_context
@_with_app
def task_list(ctx: click.Context, role: str | None, code: str | None, limit: int) -> None:
    """Ready tasks for a role in a jurisdiction and below, most urgent first."""

    user, jurisdiction = _where(ctx, code)
    roles = [role] if role else (user.roles if user else [None])
    now = get_clock().now()
    for r in roles:
        for t in list_ready(r, jurisdiction, limit=limit):
            left = f"剩 {(t.due_at - now).days} 天" if t.due_at and t.due_at > now else ("已逾期" if t.due_at else "")
            click.echo(f"#{t.id}  {t.case_number}  {t.household}  {t.village}  {t.step}  [{t.role}]  "
                       f"期限 {_due(t.due_at)} {left}  表单 {t.form}")


@task.command("complete")
@click.argument("task_id", type=RECORD_ID)
@click.option("--data", help="form data as JSON")
@click.option("--file", "file", type=click.Path(path_type=Path, exists=True))
@click.option("--backdating-reason", help="why a date is earlier than the step it follows (补录原因; only within "
                                          "the policy's tolerance)")
@click.pass_context
@_with_app
def task_complete(ctx: click.Context, task_id: int, data: str | None, file: Path | None,
                  backdating_reason: str | None) -> None:
    """Complete a task with form data (validated against its form; its dates neither in the future nor before the
    step it follows)."""

    c = complete_task(task_id, _json_arg(data, file), _actor(ctx), get_clock(), backdating_reason=backdating_reason)
    click.echo(f"已办理。案件 {c.number} 状态 {c.status} {c.outcome or ''}".rstrip())


@task.command("form")
@click.argument("task_id", type=RECORD_ID)
@_with_app
def task_form(task_id: int) -> None:
    """Print the JSON Schema of a task's form."""

    row = db.session.get(HumanTask, task_id)
    if row is None or not row.form:
        raise click.UsageError(f"任务 {task_id} 不存在或没有表单")
    click.echo(json.dumps(load_form(row.form), ensure_ascii=False, indent=2))


# -- publicity ------------------------------------------------------------------------------------


@main.group()
def publicity() -> None:
    """Publicity periods (公示)."""


@publicity.command("close")
@click.argument("case_id", type=RECORD_ID)
@click.pass_context
@_with_app
def publicity_close(ctx: click.Context, case_id: int) -> None:
    """End a publicity whose period is over (refused before)."""

    c = close_publicity(case_id, _actor(ctx), get_clock())
    click.echo(f"公示已结束，案件 {c.number} 继续办理")


@publicity.command("object")
@click.argument("case_id", type=RECORD_ID)
@click.option("--text", required=True, help="the objection")
@click.option("--by", "raised_by", default="匿名", help="who raised it")
@click.pass_context
@_with_app
def publicity_object(ctx: click.Context, case_id: int, text: str, raised_by: str) -> None:
    """Register an objection raised during a publicity."""

    c = raise_objection(case_id, text, raised_by, _actor(ctx), get_clock())
    click.echo(f"已登记异议，案件 {c.number} 待核实异议")


# -- clock and timers -----------------------------------------------------------------------------


@main.group()
def clock() -> None:
    """The demo clock (FANGPIN_CLOCK=demo) and timers."""


@clock.command("show")
@_with_app
def clock_show() -> None:
    click.echo(_local(get_clock().now()))


@clock.command("advance")
@click.option("--days", default=0, type=click.IntRange(0, MAX_ADVANCE_DAYS))
@click.option("--hours", default=0, type=click.IntRange(0, MAX_ADVANCE_DAYS * 24))
@click.option("--to", "to", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), help="a China Standard Time moment")
@_with_app
def clock_advance(days: int, hours: int, to: datetime | None) -> None:
    """Move the demo clock forward (the first time: to any moment), then fire every timer due by then."""

    demo = get_clock()
    if not isinstance(demo, DemoClock):
        raise click.UsageError("只有演示时钟（FANGPIN_CLOCK=demo）可以调整")
    target = to.replace(tzinfo=CST) if to else demo.now() + timedelta(days=days, hours=hours)
    if demo.is_set() and target < demo.now():
        raise click.UsageError("时钟只能向前调整（首次设置演示时钟时可以设为任意时间）")
    demo.set(target)
    db.session.commit()
    click.echo(f"现在是 {_local(target)}；触发了 {wake_due(target, demo)} 个案件的定时器")


@main.command()
@_with_app
def wake() -> None:
    """Fire every timer due now (what the scheduler does)."""

    clock_ = get_clock()
    click.echo(f"触发了 {wake_due(clock_.now(), clock_)} 个案件的定时器")


# -- diagrams -------------------------------------------------------------------------------------


@main.group()
def process() -> None:
    """Deployed diagrams (流程图)."""


@process.command("list")
@_with_app
def process_list() -> None:
    for v in db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_key, ProcessVersion.version)):
        files = ", ".join(f["file_name"] for f in v.files)
        click.echo(f"{v.process_key} v{v.version}  {v.name}  {_local(v.deployed_at)} {v.deployed_by}  "
                   f"{v.bundle_sha256[:12]}  [{files}]")


@process.command("try")
@click.argument("file", type=click.Path(path_type=Path, exists=True))
@click.option("--scenario", type=click.Path(path_type=Path, exists=True), required=True, help="scenario JSON")
@click.option("--process", "process_id", help="process id (default: the file's executable process)")
@_with_app
def process_try(file: Path, scenario: Path, process_id: str | None) -> None:
    """Try a diagram (a draft too) against a scenario: the path taken and the dates computed; nothing is stored."""

    main = DiagramSource(file.name, file.read_bytes())
    library = with_library(main)
    trace = run_scenario(library, file.name, process_id or main.process_ids()[0],
                         json.loads(scenario.read_text(encoding="utf-8")))
    click.echo("时间  事件  步骤  期限（截止当日24时）")
    for row in readable(trace):  # as the draft page shows it: dates as officials read them, steps by their names
        extra = f"  期限 {row.due}" if row.due else ""
        extra += f"（{row.lane}）" if row.lane else ""
        click.echo(f"{row.at}  {row.kind}  {row.step}{extra}")


@process.command("deploy")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.pass_context
@_with_app
def process_deploy(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Validate and deploy diagrams (with the other files as last deployed for the processes they call).
    Policy editors only, as on /diagrams."""

    actor = _editor(ctx, "部署流程图")
    given = [diagram_source(p.name, p.read_bytes()) for p in files]  # .bpmn/.dmn, not empty, at most 2 MB
    versions, kept = deploy_files(actor, given, get_clock())
    for v in versions:
        click.echo(f"已部署 {v.process_key} v{v.version}")
    for name in kept:
        click.echo(f"已保存决策表 {name}（尚无流程调用；调用它的流程部署时一并使用）")
    if not versions and not kept:
        click.echo("没有变化，无需部署")
    if versions:
        for notice in dict.fromkeys(n for source in given for n in diagram_notices(source)):
            click.echo(f"提示：{notice}")


@process.command("bind")
@click.argument("process_ref")
@click.option("--procedure", required=True, help="办理程序: identification, elimination, green_channel, …")
@click.option("--jurisdiction", required=True, help="行政区划代码")
@click.option("--from", "effective_from", required=True, type=click.DateTime(["%Y-%m-%d"]), help="生效日期")
@click.option("--source", default="", help="依据（文件名、文号）")
@click.pass_context
@_with_app
def process_bind(ctx: click.Context, process_ref: str, procedure: str, jurisdiction: str, effective_from,
                 source: str) -> None:
    """流程绑定: from a date, new cases of the jurisdiction start on PROCESS_REF — ``identification`` (its newest
    version) or ``identification@2`` (that version; an earlier one rolls back). Policy editors only; audited."""

    editor = _editor(ctx, "绑定流程")
    row = bind_process(editor, procedure, process_ref, jurisdiction, effective_from.date(), get_clock(), source=source)
    click.echo(f"已绑定：{row.jurisdiction.full_name} 自 {row.effective_from} 起 {procedure} 使用 {row.value}")


def _editor(ctx: click.Context, what: str) -> User:
    """The acting official (``--as``), who must be a policy editor (政策管理员) as on the web's /diagrams."""
    username = _actor(ctx)
    user = db.session.scalar(select(User).filter_by(username=username))
    if user is None:
        raise PermissionDenied(f"用户 {username} 不存在，不能{what}")
    try:
        require_editor(user)
    except PermissionDenied as exc:
        raise PermissionDenied(f"{exc}，不能{what}：只有政策管理员可以{what}（请用 --as 指定政策管理员）") from exc
    return user


# -- policy ---------------------------------------------------------------------------------------


@main.group()
def policy() -> None:
    """Policy data (政策参数)."""


@policy.command("check")
@click.option("--jurisdiction", "code", help="only this jurisdiction (行政区划代码) and below")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), help="the day to check (default today)")
@_with_app
def policy_check(code: str | None, on: datetime | None) -> None:
    """配置检查: every procedure a jurisdiction cannot start, and what is missing (exit 1 if any)."""

    scope = db.session.scalar(select(Jurisdiction).filter_by(code=code)) if code else None
    if code and scope is None:
        raise click.BadParameter(f"没有代码为 {code} 的行政区划", param_hint="--jurisdiction")
    day = on.date() if on else to_local_date(get_clock().now())
    results = policy_checks(day, scope)
    missing = policy_gaps(results)
    for r in missing:
        click.echo(f"{r.place.full_name}（{r.place.code}）  {r.label}（{r.procedure}）：{'；'.join(r.missing)}")
    places = len({r.place.id for r in results})
    for gap in list_source_gaps(day, scope):  # a list without some of its households: said, not a failure
        click.echo(f"提示：{gap.place.full_name}（{gap.place.code}）  {gap.template.id}：{'；'.join(gap.gaps)}")
    for absent in optional_not_set(results):  # a rule the place does not have: said, not a failure
        place = absent.found.place
        click.echo(f"可选：{place.full_name}（{place.code}）  {absent.found.label}：{absent}")
    if missing:
        click.echo(f"{day}：{len(missing)} 项程序不能开始（检查了 {places} 个辖区）", err=True)
        sys.exit(1)
    click.echo(f"各地各程序均已配置（{day}，检查了 {places} 个辖区）")


@policy.command("load")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.pass_context
@_with_app
def policy_load(ctx: click.Context, file: Path) -> None:
    """Add the parameters and monitoring lines of a policy file (as policy/parameters.json) that are not in the
    database yet — e.g. this year's monitoring line (监测范围) as the province published it. Audited."""

    try:
        with transaction():
            added = load_policy_file(file)
            audit.record(get_clock().now(), ctx.obj.get("user") or "cli", "policy_loaded", file=file.name,
                         sha256=hashlib.sha256(file.read_bytes()).hexdigest(), added=added)
            opened = open_schedules(get_clock())  # a department added: its pushes from the coming period
    except (ValueError, KeyError) as exc:
        raise click.BadParameter(f"{file} 不是有效的政策数据文件：{exc}", param_hint="FILE") from exc
    click.echo(f"已从 {file.name} 添加 {added} 项政策数据（已有的不重复添加）；请运行 fangpin policy check 检查")
    if opened["push"] or opened["report"]:
        click.echo(f"已开启行业预警推送任务 {opened['push']} 个、月报任务 {opened['report']} 个")


# -- API tokens -----------------------------------------------------------------------------------


@main.group()
def token() -> None:
    """API tokens for other systems: the APP, 12317, department systems (接口令牌)."""


def _user_named(username: str, option: str = "--user") -> User:
    """The user ``username`` given by ``option`` (``--as`` for the acting official); refused naming the option."""
    user = db.session.scalar(select(User).filter_by(username=username))
    if user is None:
        raise click.BadParameter(f"用户 {username} 不存在", param_hint=option)
    return user


@token.command("issue")
@click.option("--user", "username", required=True, help="the user the token acts as (its roles and jurisdiction)")
@click.option("--label", required=True, help="which system uses it, e.g. '12317 平台'")
@click.pass_context
@_with_app
def token_issue(ctx: click.Context, username: str, label: str) -> None:
    """Issue a token; its plaintext is printed this once (only its SHA-256 is stored)."""

    user = _user_named(username)
    click.echo(issue_token(user, label, get_clock().now(), actor=ctx.obj.get("user") or "cli"))
    click.echo(f"已为 {user.display_name}（{user.username}）签发接口令牌“{label}”：令牌只显示这一次，请妥善保存。", err=True)


@token.command("list")
@click.option("--user", "username", required=True)
@_with_app
def token_list(username: str) -> None:
    """A user's tokens (never their plaintext)."""

    for row in tokens_of(_user_named(username)):
        state = f"已吊销 {_local(row.revoked_at)}" if row.revoked_at else "有效"
        click.echo(f"#{row.id}  {row.label}  签发 {_local(row.created_at)}  {state}")


@token.command("revoke")
@click.argument("token_id", type=RECORD_ID)
@click.pass_context
@_with_app
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token: it stops working at once."""

    row = revoke(token_id, ctx.obj.get("user") or "cli", get_clock().now())
    click.echo(f"已吊销接口令牌 #{row.id}（{row.user.username}，{row.label}）")


# -- user administration --------------------------------------------------------------------------


@main.group()
def user() -> None:
    """User administration (用户管理), acting as an administrator (--as): create, change, deactivate, reactivate
    officials of your jurisdiction and reset their passwords."""


def _administrator(ctx: click.Context) -> User:
    actor = _user_named(_actor(ctx), "--as")
    if not users.is_administrator(actor):
        raise PermissionDenied(f"{actor.display_name} 不是系统管理员，不能管理用户")
    return actor


def _print_issued(issued: users.Issued, what: str) -> None:
    click.echo(f"{what}：{issued.user.display_name}（{issued.user.username}，{issued.user.jurisdiction.full_name}）",
               err=True)
    click.echo("一次性密码只显示这一次，本人登录后须改为自己的密码：", err=True)
    click.echo(issued.password)


@user.command("create")
@click.option("--username", required=True, help="login, e.g. shahe_cun_li")
@click.option("--name", "display_name", required=True, help="the official's name or office")
@click.option("--role", "roles", multiple=True, required=True, help="a role key (repeat for several)")
@click.option("--jurisdiction", "code", required=True, help="jurisdiction code of their place")
@click.option("--department", help="a department officer's department (行业部门), e.g. medical")
@click.pass_context
@_with_app
def user_create(ctx: click.Context, username: str, display_name: str, roles: tuple[str, ...], code: str,
                department: str | None) -> None:
    """Create an official; the one-time password is printed."""

    issued = users.create_user(_administrator(ctx), username, display_name, list(roles), code, get_clock().now(),
                               department=department)
    _print_issued(issued, "已创建用户")


@user.command("list")
@click.option("--search", default="", help="part of a login or a name")
@click.option("--jurisdiction", "code", help="only this place and below")
@click.pass_context
@_with_app
def user_list(ctx: click.Context, search: str, code: str | None) -> None:
    """The officials of your jurisdiction (or of --jurisdiction inside it)."""

    actor = _administrator(ctx)
    place = db.session.scalar(select(Jurisdiction).filter_by(code=code)) if code else None
    if code and place is None:
        raise click.BadParameter(f"没有代码为 {code} 的行政区划", param_hint="--jurisdiction")
    for row in users.users_within(actor, search, place):
        state = "在用" if row.active else f"已停用 {_local(row.deactivated_at)}"
        click.echo(f"{row.username}  {row.display_name}  {row.jurisdiction.full_name}  {','.join(row.roles)}  {state}")


@user.command("change")
@click.argument("username")
@click.option("--name", "display_name")
@click.option("--role", "roles", multiple=True, help="the new roles (all of them; repeat for several)")
@click.option("--jurisdiction", "code")
@click.option("--department", help="a department officer's department (行业部门); \"\" for none")
@click.pass_context
@_with_app
def user_change(ctx: click.Context, username: str, display_name: str | None, roles: tuple[str, ...],
                code: str | None, department: str | None) -> None:
    """Change an official's name, roles, place or department."""

    row = users.change_user(_administrator(ctx), username, get_clock().now(), display_name=display_name,
                            roles=list(roles) or None, jurisdiction_code=code, department=department)
    click.echo(f"已更新用户 {row.username}：{row.display_name}，{row.jurisdiction.full_name}，{','.join(row.roles)}")


@user.command("deactivate")
@click.argument("username")
@click.option("--reason", required=True, help="why (调离、退休 …)")
@click.pass_context
@_with_app
def user_deactivate(ctx: click.Context, username: str, reason: str) -> None:
    """Deactivate a leaver: no more login, no API token."""

    users.deactivate_user(_administrator(ctx), username, reason, get_clock().now())
    click.echo(f"已停用用户 {username}")


@user.command("reactivate")
@click.argument("username")
@click.pass_context
@_with_app
def user_reactivate(ctx: click.Context, username: str) -> None:
    """Reactivate an official, with a new one-time password."""

    _print_issued(users.reactivate_user(_administrator(ctx), username, get_clock().now()), "已重新启用用户")


@user.command("reset-password")
@click.argument("username")
@click.pass_context
@_with_app
def user_reset_password(ctx: click.Context, username: str) -> None:
    """A new one-time password for an official."""

    _print_issued(users.reset_password(_administrator(ctx), username, get_clock().now()), "已重置密码")
