"""Helpers for web tests: the app served on a loopback port (as it runs), logging in through the real login form
(with its CSRF token)."""
from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.core.db import db
from engine.core.models import HumanTask


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, in a thread, for the duration of the block: its base URL."""
    app.config["WTF_CSRF_SSL_STRICT"] = False
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = "demo") -> FlaskClient:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(page)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post_form(client: FlaskClient, url: str, data: dict, page_url: str | None = None):
    """POST like a browser: with the CSRF token of the page the form is on."""
    html = client.get(page_url or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token(html)})


def ready_task(app: Flask, case_id: int, name: str) -> HumanTask | None:
    """The case's ready task ``name`` (detached, readable after the request), or None."""
    with app.app_context():
        row = db.session.scalar(select(HumanTask).filter_by(case_id=case_id, name=name, state="READY"))
        if row is not None:
            db.session.expunge(row)
        return row


class HttpBrowser:
    """A browser over real HTTP: cookies kept, redirects followed (the final URL is the answer's ``geturl()``),
    forms posted with the CSRF token of their page; 4xx and 5xx answers returned, not raised."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str):
        return self._open(self.base + path)

    def post(self, path: str, fields: list[tuple[str, str]], page: str | None = None):
        token = csrf_token(self.get(page or path).read().decode())
        return self._open(self.base + path, urllib.parse.urlencode([*fields, ("csrf_token", token)]).encode())

    def post_json(self, path: str, data: object):
        """A JSON request of the API with this browser's session (and its CSRF token, as the pages' scripts send)."""
        csrf = json.loads(self.get("/api/me").read())["csrf_token"]
        request = urllib.request.Request(self.base + path, json.dumps(data).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "X-CSRFToken": csrf})
        return self._open(request)

    def upload(self, path: str, fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]],
               page: str | None = None):
        """POST a multipart form as a browser sends a file input (the file's name in UTF-8): ``files`` are (field,
        file name, content)."""
        token = csrf_token(self.get(page or path).read().decode())
        boundary = uuid.uuid4().hex
        parts = [(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n').encode()
                 for name, value in [*fields, ("csrf_token", token)]]
        parts += [(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
                   "Content-Type: application/octet-stream\r\n\r\n").encode() + content + b"\r\n"
                  for name, file_name, content in files]
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.base + path, body,
                                         {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            return self.opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            return error

    def login(self, username: str, password: str):
        return self.post("/login", [("username", username), ("password", password)])

    def _open(self, url: str | urllib.request.Request, body: bytes | None = None):
        try:
            return self.opener.open(url, body, timeout=30)
        except urllib.error.HTTPError as error:
            return error
