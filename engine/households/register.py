"""Households and members (农户与家庭成员): registration, validated against ``forms/register_household.json``."""
from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, bindparam, select

from engine.bpmn.forms import load_form, validate_form
from engine.core import audit, reads
from engine.core.clock import Clock
from engine.core.db import db, fetch
from engine.core.errors import FormInvalid, NotFound, RuleViolation
from engine.core.id_numbers import with_normalised
from engine.core.models import Household, Jurisdiction, Member
from engine.core.transaction import transaction
from engine.core.vocabulary import JurisdictionLevel
from engine.core.writes import lock_row

REGISTRATION_FORM = "register_household.json"
HEAD = "户主"  # 与户主关系 of the head of the household
MEMBER_FIELDS = tuple(c.key for c in Member.__table__.columns if c.key not in ("id", "household_id", "position"))
HOUSEHOLD_FIELDS = (
    "group_name", "address", "in_large_relocation_site", "relocation_site", "monitoring_contact", "is_formerly_poor", "enjoys_poverty_policy", "housing_unsafe",
    "compulsory_education_dropout", "drinking_water_unsafe", "contact_phone", "social_guarantee",
)  # fmt: skip


def register_household(data: dict[str, Any], actor: str, clock: Clock) -> Household:
    """Register a household with its members; refused (nothing saved) if any field is wrong. The members' ID
    numbers are kept :func:`~engine.core.id_numbers.normalised` (a check character x as X)."""
    if isinstance(data.get("members"), list):
        data = {**data, "members": [with_normalised(m) for m in data["members"]]}
    with transaction():
        validate_form(REGISTRATION_FORM, data)
        village = db.session.scalar(select(Jurisdiction).filter_by(code=data["village"]))
        if (problem := village_problem(village, data["village"])) is not None:
            raise RuleViolation(problem, field="village")
        lock_row(village)  # the village's registrations one after the other: each its own next number
        _check_members(data["members"])
        number = data.get("number") or next_numbers({village: 1})[village.id][0]
        if taken_numbers([number]):
            raise RuleViolation(f"number: 户编号 {number} 已登记")
        household = Household(
            number=number, village=village, created_at=clock.now(),
            **{f: data[f] for f in HOUSEHOLD_FIELDS if f in data},
        )
        household.members = [
            Member(position=i, **{f: m[f] for f in MEMBER_FIELDS if f in m}) for i, m in enumerate(data["members"])
        ]
        db.session.add(household)
        db.session.flush()
        audit.record(clock.now(), actor, "household_registered", household_id=household.id,
                     number=household.number, members=len(household.members))
    return household


# -- the rules of a registration, shared with the import of many (engine.households.importing) -------------------


def village_problem(place: Jurisdiction | None, code: str) -> str | None:
    """Why the place of code ``code`` (None: no such place) cannot be a household's village, or None."""
    if place is None or place.level != JurisdictionLevel.VILLAGE:
        return f"{code} 不是已登记的村"
    return None


NOBODY_LIVES_TOGETHER = ("家庭成员中至少应有一人“实际共同生活”：家庭人口数按实际共同生活、共享收支的成员计算，不能为 0；"
                         "请勾选在本户共同生活的成员")


def member_problems(members: Sequence[Mapping[str, Any]]) -> list[tuple[int | None, str, str]]:
    """What is wrong with a household's members beyond the form's schema, as far as it can be told without the
    database: (index of the member or None for the household's, field, reason). Exactly one head (户主), and at
    least one member living with the household: its size (家庭人口数) counts those (001 Q16), and every per-capita
    figure is divided by it."""
    heads = sum(1 for m in members if m.get("relation_to_head") == HEAD)
    if heads != 1:
        return [(None, "relation_to_head", f"家庭成员中应有且只有一名户主（与户主关系为“{HEAD}”），现有 {heads} 名")]
    if members and not any(m.get("lives_with_household", True) for m in members):
        return [(None, "lives_with_household", NOBODY_LIVES_TOGETHER)]
    return []


def registered_id_numbers(ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` that a registered member has already (身份证号已登记)."""
    return {found for chunk in _chunks(ids) for found in db.session.scalars(
        select(Member.id_number).where(Member.id_number.in_(chunk)))}


def taken_numbers(numbers: Iterable[str]) -> set[str]:
    """Those of ``numbers`` that a registered household has already (户编号已登记)."""
    return {found for chunk in _chunks(numbers) for found in db.session.scalars(
        select(Household.number).where(Household.number.in_(chunk)))}


def next_numbers(wanted: Mapping[Jurisdiction, int], typed: Mapping[int, Iterable[str]] | None = None,
                 ) -> dict[int, list[str]]:
    """For each village (by id), the ``wanted`` new household numbers: the village's code and the next free
    sequence numbers after the highest one given so far — registered, or in ``typed`` (village id → the numbers
    given with the new households): a number typed by hand, 户编号 of the village's code and digits, counts too.
    One query for all the villages."""
    villages = {village.id: village for village in wanted}
    highest = dict.fromkeys(villages, 0)
    registered = [] if not villages else db.session.execute(
        select(Household.village_id, Household.number).where(Household.village_id.in_(villages)))
    for village_id, number in [*registered, *((v, n) for v, ns in (typed or {}).items() for n in ns)]:
        code = villages[village_id].code if village_id in villages else None
        if code is not None and number.startswith(code) and number[len(code):].isdigit():
            highest[village_id] = max(highest[village_id], int(number[len(code):]))
    return {village.id: [f"{village.code}{highest[village.id] + i:04d}" for i in range(1, count + 1)]
            for village, count in wanted.items()}


REGISTERED_ELSEWHERE = ("已登记为其他农户的成员（一人只能是一户的成员）：请核对号码；如确为本户成员，请联系乡镇（街道）或"
                        "县级乡村振兴部门查明原登记后办理家庭成员变更")  # never where: the other household may be anywhere


def _check_members(members: list[dict]) -> None:
    """Exactly one head (:func:`member_problems`), and each ID number once — in the form and among the registered
    members: refused at each member's ID number, which is never repeated (logs, API answers) nor said where it is
    registered (a village cadre does not see other villages' households)."""
    problems = member_problems(members)
    if problems:
        raise RuleViolation(problems[0][2], field="members")
    ids = [m["id_number"] for m in members]
    taken = registered_id_numbers(ids)
    title = load_form(REGISTRATION_FORM)["properties"]["members"]["items"]["properties"]["id_number"]["title"]
    found = []
    for index, number in enumerate(ids):
        where = f"members/{index}/id_number"
        if number in ids[:index]:
            found.append((where, f"{title}：与第 {ids.index(number) + 1} 行的身份证号相同，同一人只填写一次"))
        elif number in taken:
            found.append((where, f"{title}：{REGISTERED_ELSEWHERE}"))
    if found:
        raise FormInvalid(REGISTRATION_FORM, found)


def _chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """``values`` in lists of ``size``, for ``IN (…)`` (each database has its limit of parameters)."""
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start:start + size]


@functools.cache
def _members_read() -> tuple[Select, reads.Entity]:
    """Built once per process: the members of a household in the order of ``Household.members``."""
    member = reads.entity(Member)
    table = Member.__table__
    statement = (select(*member.columns).where(table.c.household_id == bindparam("household_id"))
                 .order_by(table.c.position))
    return statement, member


def members_of(household: Household) -> list[Member]:
    """The household's members (家庭成员), read as columns (:mod:`engine.core.reads`) unless loaded already: a page
    that shows a household reads them so, at a fraction of the cost of their lazy load."""
    if "members" not in household.__dict__:
        statement, member = _members_read()
        session = db.session()
        rows = session.execute(statement, {"household_id": household.id})
        reads.set_loaded(household, "members", reads.collection(session, member, rows))
    return household.members


def get_household(household_id: int) -> Household:
    return fetch(Household, household_id, "农户")


def lock_household(household: Household) -> Household:
    """Take the household's row for the rest of the caller's transaction (一户一办), before checking what may be
    opened for it: an official opening a case for the same household at the same moment waits until this
    transaction ends and then reads what it wrote, so that "one identification at a time" and the like hold however
    many submit at once (:func:`engine.core.writes.lock_row`). Returns the household as stored now."""
    return lock_row(household)


def find_household(key: str) -> Household:
    """By database id or household number."""
    household = db.session.scalar(select(Household).filter_by(number=key))
    if household is None and key.isdigit():
        household = db.session.get(Household, int(key))
    if household is None:
        raise NotFound(f"农户 {key} 不存在")
    return household
