"""Fixtures of the elimination tests."""
from __future__ import annotations

from datetime import date

import pytest


@pytest.fixture
def assisted(monkeypatch):
    """Every household with measures since 2021-01-10 and six stable monthly revisits: the conditions other than the
    income are met (what they read is not the point here)."""
    from engine.elimination import eligibility

    monkeypatch.setattr(eligibility, "histories", lambda ids: {
        i: eligibility.History(date(2021, 1, 10), [{"income_stable": True, "new_risk": False}] * 6) for i in ids})
