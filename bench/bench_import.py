"""农户批量导入 at a county's size: a generated CSV file of 200 000 households (about 700 000 members, 2 % of the
households monitored, in 300 villages of 章贡区) imported by the county officer into a fresh SQLite file, against
the physical limit — a raw ``executemany`` of the same rows (households, members, audit entries) through sqlite3 in
one transaction. Prints the phases (reading and checking the whole file, writing, starting the monitored households'
monthly follow-up), households/s and members/s, and the import's time over the raw insert's; then the checking rate
of an .xlsx file of ``--xlsx-households``.

    .venv/bin/python bench/bench_import.py                    # 200 000 households (a few minutes)
    BENCH_QUICK=1 .venv/bin/python bench/bench_import.py      # a tenth
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path

from common import START, make_app, setup
from county import _places
from sqlalchemy import func, select

from engine.cases.household_import import _followup_policies, _start_followups, import_households
from engine.core.clock import FixedClock
from engine.core.config import tune_garbage_collector
from engine.core.db import db
from engine.core.id_numbers import check_character
from engine.core.models import AuditEvent, Case, Household, Member, User
from engine.core.transaction import transaction
from engine.households.importing import _defaults, columns, prepare_import, write_import

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ACTOR = "zhanggong_xian"  # 县级乡村振兴部门 of 章贡区
RELATIONS = ("配偶", "子", "女", "母亲", "父亲", "孙子")
SIZES = (1, 2, 3, 4, 5, 6)  # 3.5 members a household on average


def household_rows(households: int, villages: list[str], monitored_every: int = 50, first_person: int = 0,
                   ) -> list[list[str]]:
    """The header and data rows (by the template's column titles) of ``households`` households, every
    ``monitored_every``-th one a monitored household (脱贫不稳定户, identified in 2025, 因病、因学, with two measures
    and its responsible person); the ID numbers
    counted from ``first_person``."""
    titles = {c.key: c.title for c in columns()}
    header = [titles[k] for k in ("village", "name", "id_number", "relation_to_head", "sex", "education",
                                  "medical_insurance", "is_formerly_poor", "group_name", "contact_phone",
                                  "category", "identified_on", "risk_types", "measures_A39", "measures_A45",
                                  "measures_started_on", "responsible_person")]
    rows, person = [header], first_person
    for i in range(households):
        monitored = i % monitored_every == 0
        for m in range(SIZES[i % len(SIZES)]):
            person += 1
            born = date.fromordinal(date(1940, 1, 1).toordinal() + person // 1000).strftime("%Y%m%d")
            body = f"360702{born}{person % 1000:03d}"
            head = m == 0
            rows.append([villages[i % len(villages)] if head else "", f"户{i}成员{m}", body + check_character(body),
                         "户主" if head else RELATIONS[(m - 1) % len(RELATIONS)], "男" if m % 2 == 0 else "女",
                         "初中", "是", "是" if head and monitored else ("否" if head else ""),
                         f"{i % 9 + 1}组" if head else "", f"139{i:08d}" if head else "",
                         "脱贫不稳定户" if head and monitored else "", "2025-03-01" if head and monitored else "",
                         "因病、因学" if head and monitored else "", "种植业" if head and monitored else "",
                         "医疗救助" if head and monitored else "", "2025-03-10" if head and monitored else "",
                         f"帮扶人{i}" if head and monitored else ""])
    return rows


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def fresh(tmp: str, name: str, clock: FixedClock) -> tuple:
    """A set-up database with 300 more villages of 章贡区: the app and the villages' codes."""
    app = make_app(tmp, clock, name)
    with app.app_context():
        setup(clock)
        _, _, villages = _places()
        db.session.commit()
        return app, [v.code for v in villages]


def timed_import(app, data: bytes, clock: FixedClock) -> dict[str, float]:
    """The import's phases, as engine.cases.household_import.import_households runs them, in one transaction."""
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=ACTOR))
        times = {}
        started = time.perf_counter()
        with transaction():
            prepared = prepare_import("bench.csv", data, user, clock, lock=True)
            policies = _followup_policies(prepared, clock)
            assert not prepared.problems, prepared.problems.refusal()
            times["read and check"] = time.perf_counter() - started
            result = write_import(prepared, ACTOR, clock)
            times["write"] = time.perf_counter() - started - times["read and check"]
            _start_followups(result.monitored_ids, policies, ACTOR, clock)
            times["follow-ups"] = time.perf_counter() - started - times["read and check"] - times["write"]
        times["total (committed)"] = time.perf_counter() - started
        counts = (db.session.scalar(select(func.count()).select_from(Household)),
                  db.session.scalar(select(func.count()).select_from(Member)),
                  db.session.scalar(select(func.count()).select_from(Case).where(Case.procedure == "followup")))
        db.session.remove()
        db.engine.dispose()
    return times | {"households": counts[0], "members": counts[1], "follow-ups started": counts[2]}


def raw_insert(path: Path, app, data: bytes, clock: FixedClock) -> float:
    """The same rows as the import writes, in plain sqlite3: households (their keys read back), members, one audit
    entry per household and one per monitored one, the monitored ones' measures, ``executemany`` each, one
    transaction (the file's rows
    prepared beforehand, outside the time)."""
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=ACTOR))
        prepared = prepare_import("bench.csv", data, user, clock)
        villages = {v.code: v.id for v in prepared.villages.values()}
        household_defaults, member_defaults = _defaults(Household), _defaults(Member)
        db.session.remove()
        db.engine.dispose()
    now = START.strftime("%Y-%m-%d %H:%M:%S.%f")
    households = [{**household_defaults, "number": f"{h.head['village']}{i:06d}", "village_id": villages[h.head["village"]],
                   "created_at": now, "risk_types": json.dumps(h.head.get("risk_types", [])),
                   "status": "monitored" if h.monitored else "ordinary"} for i, h in enumerate(prepared.households)]
    columns_h = list(households[0])
    member_columns = [c for c in member_defaults if c not in ("household_id", "position")]
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    started = time.perf_counter()
    connection.execute("BEGIN")
    first = connection.execute("SELECT coalesce(max(id), 0) FROM household").fetchone()[0] + 1
    connection.executemany(f"INSERT INTO household ({', '.join(columns_h)}) VALUES ({', '.join('?' * len(columns_h))})",
                           [tuple(row[c] for c in columns_h) for row in households])
    ids = range(first, first + len(households))
    members = [(household_id, position, *({**member_defaults, **m}.get(c) for c in member_columns))
               for h, household_id in zip(prepared.households, ids, strict=True)
               for position, m in enumerate(h.data["members"])]
    connection.executemany(f"INSERT INTO member (household_id, position, {', '.join(member_columns)}) "
                           f"VALUES (?, ?, {', '.join('?' * len(member_columns))})", members)
    entries = [(now, ACTOR, "household_registered", household_id, json.dumps({"number": str(household_id)}))
               for household_id in ids]
    entries += [(now, ACTOR, "household_identified_outside", household_id, json.dumps({"category": "unstable"}))
                for h, household_id in zip(prepared.households, ids, strict=True) if h.monitored]
    connection.executemany("INSERT INTO audit_event (at, actor, action, household_id, detail) VALUES (?, ?, ?, ?, ?)",
                           entries)
    measures = [(household_id, code, item, "", developmental, "2025-03-10")
                for h, household_id in zip(prepared.households, ids, strict=True) if h.monitored
                for code, item, developmental in (("A39", "种植业", 1), ("A45", "医疗救助", 0))]
    connection.executemany("INSERT INTO measure (household_id, code, item, description, developmental, started_on) "
                           "VALUES (?, ?, ?, ?, ?, ?)", measures)
    connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20_000 if QUICK else 200_000)
    parser.add_argument("--xlsx-households", type=int, default=2_000 if QUICK else 20_000)
    args = parser.parse_args()
    tune_garbage_collector()
    clock = FixedClock(START)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        app, villages = fresh(tmp, "import.db", clock)
        rows = household_rows(args.households, villages)
        data = as_csv(rows)
        print(f"file: {args.households} households, {len(rows) - 1} members, {len(data) / 2**20:.1f} MB CSV")
        times = timed_import(app, data, clock)
        total = times["total (committed)"]
        for phase, value in times.items():
            print(f"  {phase}: {value:.1f} s" if isinstance(value, float) else f"  {phase}: {value}")
        print(f"import: {times['households'] / total:,.0f} households/s, {times['members'] / total:,.0f} members/s")
        raw_app, _ = fresh(tmp, "raw.db", clock)
        raw = raw_insert(Path(tmp) / "raw.db", raw_app, data, clock)
        print(f"raw executemany of the same rows: {raw:.1f} s ({times['households'] / raw:,.0f} households/s, "
              f"{times['members'] / raw:,.0f} members/s); import / raw = {total / raw:.1f}, "
              f"its writing alone / raw = {times['write'] / raw:.1f}")
        xlsx_rows = household_rows(args.xlsx_households, villages, first_person=5_000_000)
        xlsx = as_xlsx(xlsx_rows)
        with app.app_context():
            started = time.perf_counter()
            checked = import_households("bench.xlsx", xlsx, ACTOR, clock, dry_run=True)
            seconds = time.perf_counter() - started
            print(f"xlsx, checked only (--dry-run): {checked.households} households, {checked.members} members, "
                  f"{len(xlsx) / 2**20:.1f} MB in {seconds:.1f} s ({checked.members / seconds:,.0f} members/s)")
            audit = db.session.scalar(select(func.count()).select_from(AuditEvent))
            print(f"audit entries in the imported database: {audit}")


if __name__ == "__main__":
    main()
