"""Fuzzing the JSON API from its own OpenAPI document (schemathesis, through a real HTTP server on a loopback
port): whatever a client sends — wrong types, huge numbers, odd strings, missing fields — the answer is never
a server error (5xx). Bounded: a fixed number of examples per operation, derandomized, so CI stays short and
a failure is reproducible."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from engine.accounts.api_tokens import issue_token
from engine.core.clock import FixedClock
from engine.core.db import db
from engine.core.models import User
from engine.demo import load_demo
from tests.conftest import make_app, prepare_database
from tests.webclient import serve
from web.api import openapi_document

pytestmark = pytest.mark.slow  # started first (tests/conftest.py)

EXAMPLES_PER_OPERATION = 12
ACTING_AS = "zhanggong_xian"  # a county officer: reads and writes in a whole county


@pytest.fixture(scope="module")
def api_server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """The web app with demo data served on a free local port, and an API token of a county officer."""
    from web import create_app

    clock = FixedClock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    app = make_app(tmp_path_factory.mktemp("fuzz") / "fangpin.db", clock, create_app)
    with app.app_context():
        prepare_database(clock)
        load_demo(clock)
        user = db.session.scalar(select(User).filter_by(username=ACTING_AS))
        token = issue_token(user, "fuzzing", clock.now())
    with serve(app) as base:
        yield base, token


schema = schemathesis.openapi.from_dict(openapi_document())  # the document /api/openapi.json serves


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_api_fail_with_a_server_error(case, api_server):
    base, token = api_server
    case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
