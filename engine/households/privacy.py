"""Private fields of a household (敏感信息: ID numbers, telephone numbers, health status — the fields marked
``private`` in policy/household_form.json; no record holds a bank account number): the one way
they are masked, for the pages and the JSON API alike, and who may see them in full.

Masked is the default everywhere. In full they are shown only to an official of the household's jurisdiction
whose role may (policy/roles.json ``sees_private``: the roles that open the information form), and through the
API only when asked for, each time recorded in the audit log: who saw which household's, when and how
(``private_data_viewed``). Asking for them in full with a role that may not see them is refused and recorded
as well (``private_data_refused``), so that a supervisor sees the attempts beside the views."""
from __future__ import annotations

import re
from typing import Any

from engine.core import audit
from engine.core.clock import Clock
from engine.core.id_numbers import ID_NUMBER
from engine.core.models import Jurisdiction, User
from engine.core.transaction import transaction
from engine.core.vocabulary import AuditAction
from engine.households.records import private_keys
from engine.policy.permissions import may_see_private, require_may_see_private

_NUMBERS_IN_TEXT = re.compile(  # an ID number (18 characters, or the old 15 digits), a mobile or a landline number
    r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15}|(?:\+?86[ -]?)?1[3-9][0-9]{9}|0[0-9]{2,3}[ -]?[0-9]{7,8})(?![0-9Xx])")
HIDDEN = "（已隐藏）"
PRIVATE_VIEWED = AuditAction.PRIVATE_DATA_VIEWED.value
PRIVATE_REFUSED = AuditAction.PRIVATE_DATA_REFUSED.value  # asked for in full by a role that may not see them (sees_private)
PRIVATE_ACCESS = (PRIVATE_VIEWED, PRIVATE_REFUSED)  # the audit entries of who saw or asked to see them


def mask_id_number(value: str | None) -> str:
    """An ID number with the birth date and sequence hidden (A7 is private): 360702********0013."""
    if not value:
        return ""
    return value[:6] + "*" * max(len(value) - 10, 0) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    """A telephone number with its middle digits hidden (联系电话 is private): 139****0001; a shorter one (a
    landline without its area code) keeps only its last four, so that at least four digits are always hidden."""
    if not value:
        return ""
    if len(value) >= 11:
        return value[:3] + "****" + value[-4:]
    return "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_numbers_in(text: str) -> str:
    """``text`` (a message that may quote what was typed) with every ID number in it masked as
    :func:`mask_id_number` does (the old 15-digit ones too) and every mobile or landline number as :func:`mask_phone`
    does: 身份证号 360702********0013 已登记. Other numbers (a household's number, a place's code) stay."""
    def masked_number(found: re.Match) -> str:
        number = found.group(0)
        return mask_id_number(number) if ID_NUMBER.match(number) or len(number) == 15 else mask_phone(number)

    return _NUMBERS_IN_TEXT.sub(masked_number, text)


def is_private(key: str) -> bool:
    """Is the field ``key`` private: marked so in the information form, or an ID or telephone number wherever it
    stands (``leaving_id_number`` of a member change, an application's ``phone``)?"""
    return key in private_keys() or key.endswith(("id_number", "phone"))


def mask(key: str, value: Any) -> Any:
    """The private ``value`` of the field ``key`` as pages and the API show it: an ID number keeps its first six
    and last four characters, a telephone number its first three and last four, anything else (健康状况) is
    hidden altogether. An empty value stays as it is (None, "")."""
    if value is None or value == "":
        return value
    text = str(value)
    if key.endswith("id_number") or ID_NUMBER.match(text):
        return mask_id_number(text)
    if key.endswith("phone"):
        return mask_phone(text)
    return HIDDEN


def masked(value: Any, key: str = "") -> Any:
    """A copy of ``value`` (a record, form data, an audit entry's detail) with every private field masked by
    :func:`mask`, at any depth, and any text that is an ID number masked whatever its field (the members_changed
    entry's ``left``)."""
    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, key) for v in value]
    if is_private(key) or (isinstance(value, str) and ID_NUMBER.match(value)):
        return mask(key, value)
    return value


def reveal_private(user: User, place: Jurisdiction, clock: Clock, *, household_id: int | None = None,
                   number: str | None = None, case_id: int | None = None, **how: str) -> None:
    """Let ``user`` see the private fields of a household (or of a case) of ``place`` in full, and record it in the
    audit log in its own transaction: ``private_data_viewed`` by the user, now, with the household (its id and
    ``number``), the case if any, and ``how`` (through what: ``via``, ``path``, ``auth``). PermissionDenied unless
    a role of the user ``sees_private`` (policy/roles.json) and ``place`` lies in the user's jurisdiction. A user
    none of whose roles may is recorded the same way, as ``private_data_refused``, in its own transaction before
    the refusal is raised; one whose role may, asking about a place outside their jurisdiction, is refused
    unrecorded (the API refuses that before asking for private fields: the household is not theirs at all)."""
    if not may_see_private(user):
        with transaction():
            audit.record(clock.now(), user.username, PRIVATE_REFUSED, household_id=household_id, case_id=case_id,
                         number=number, **how)
    require_may_see_private(user, place)
    with transaction():
        audit.record(clock.now(), user.username, PRIVATE_VIEWED, household_id=household_id, case_id=case_id,
                     number=number, **how)
