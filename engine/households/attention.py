"""重点关注 (key attention, 000 名词解释 5 重点监测关注人群): households the village watches on its monthly visits
without monitoring them — one found within the monitoring range but stable and without risk (001 Q12), one that a
department's warning pointed at but home verification found not to meet the criteria (000 §6), and every
household whose risk was eliminated (000 §五). The status, the date and the reason are kept on the household;
becoming monitored again ends it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine.core.models import Household, Jurisdiction
from engine.core.vocabulary import HouseholdStatus
from engine.households.records import households_in

REASON_MAX = 500
LISTED = (HouseholdStatus.KEY_ATTENTION.value, HouseholdStatus.ELIMINATED.value)  # both are visited as key attention


def mark_key_attention(household: Household, on: date, reason: str) -> None:
    """The household becomes key attention from ``on``, for ``reason``."""
    household.status = HouseholdStatus.KEY_ATTENTION
    household.attention_since, household.attention_reason = on, (reason or "")[:REASON_MAX] or None


def end_key_attention(household: Household) -> None:
    """No longer key attention (monitored again, or back to ordinary)."""
    household.attention_since = household.attention_reason = None


@dataclass(frozen=True)
class AttentionEntry:
    household: Household
    since: date | None
    reason: str


def key_attention_households(place: Jurisdiction) -> list[AttentionEntry]:
    """The key-attention households at or below ``place`` (the eliminated ones included), by village and number."""
    return [_entry(h) for h in households_in(place, Household.status.in_(LISTED))]


def _entry(household: Household) -> AttentionEntry:
    if household.status == HouseholdStatus.ELIMINATED:
        return AttentionEntry(household, household.elimination_date, "风险已消除，作为重点关注人群持续跟踪")
    return AttentionEntry(household, household.attention_since, household.attention_reason or "")
