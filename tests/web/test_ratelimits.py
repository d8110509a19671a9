"""Rate limits on the forms anyone can post: failed logins and public self-applications, per client address."""
from __future__ import annotations

import pytest

from tests.conftest import make_app, prepare_database
from tests.webclient import csrf_token
from web import create_app
from web.ratelimits import limiter


@pytest.fixture
def limited(db_path, clock):
    app = make_app(db_path, clock, factory=create_app, RATELIMIT_ENABLED=True,
                   FANGPIN_LOGIN_RATE_LIMIT="3 per minute", FANGPIN_APPLY_RATE_LIMIT="2 per hour")
    limiter.reset()
    with app.app_context():
        prepare_database(clock)
    yield app
    limiter.reset()


def _login(client, password: str):
    html = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"username": "shahe_cun", "password": password, "csrf_token": csrf_token(html)})


def test_failed_logins_are_limited_per_address_and_a_good_login_does_not_count(limited):
    client = limited.test_client()
    assert _login(client, "demo").status_code == 302  # success: not counted
    for _ in range(3):
        assert _login(client, "wrong").status_code == 401
    blocked = _login(client, "demo")
    assert blocked.status_code == 429 and "尝试过于频繁" in blocked.get_data(as_text=True)
    other = limited.test_client()
    html = other.get("/login", environ_base={"REMOTE_ADDR": "10.1.2.3"}).get_data(as_text=True)
    elsewhere = other.post("/login", data={"username": "shahe_cun", "password": "demo", "csrf_token": csrf_token(html)},
                           environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert elsewhere.status_code == 302  # another address is not blocked
    assert client.get("/login").status_code == 200  # the page itself stays readable


def test_public_applications_are_limited_per_address(limited):
    client = limited.test_client()
    for _ in range(2):
        html = client.get("/apply").get_data(as_text=True)
        assert client.post("/apply", data={"csrf_token": csrf_token(html)}).status_code == 422  # counted all the same
    html = client.get("/apply").get_data(as_text=True)
    assert client.post("/apply", data={"csrf_token": csrf_token(html)}).status_code == 429


def test_behind_a_trusted_proxy_each_client_address_counts(db_path, clock):
    app = make_app(db_path, clock, factory=create_app, RATELIMIT_ENABLED=True, FANGPIN_TRUSTED_PROXIES=1,
                   FANGPIN_LOGIN_RATE_LIMIT="1 per minute")
    limiter.reset()
    with app.app_context():
        prepare_database(clock)
    client = app.test_client()

    def attempt(address: str):
        html = client.get("/login").get_data(as_text=True)
        return client.post("/login", data={"username": "shahe_cun", "password": "wrong", "csrf_token": csrf_token(html)},
                           headers={"X-Forwarded-For": address})

    assert attempt("10.0.0.1").status_code == 401
    assert attempt("10.0.0.1").status_code == 429
    assert attempt("10.0.0.2").status_code == 401  # another client behind the same proxy
    limiter.reset()


def test_while_the_shared_store_is_down_a_login_is_refused_saying_why_not_a_500(db_path, clock):
    """README: while Redis is unreachable, logins fail with an error rather than go uncounted — a 503 that says
    which service is down (it was 系统出错 500 with a traceback)."""
    app = make_app(db_path, clock, factory=create_app, RATELIMIT_ENABLED=True,
                   RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")  # nothing listens there
    with app.app_context():
        prepare_database(clock)
    answer = _login(app.test_client(), "demo")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503 and "次数计数服务暂不可用" in page and answer.headers["Retry-After"] == "30"
    assert "系统出错" not in page
