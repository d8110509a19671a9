"""Issue #16: Chinese error pages with the site's navigation and a way back, the favicon, compressed and cached
vendor and static files (through a real HTTP server), production builds only, the case page's scripts deferred."""
from __future__ import annotations

import gzip
import json
import re
from datetime import date
from http.client import HTTPConnection
from urllib.parse import urlsplit

import brotli
import pytest
from sqlalchemy import select

from engine.cases.lifecycle import open_identification
from engine.core.config import REPO_ROOT
from engine.core.db import db
from engine.core.models import User
from engine.households.register import register_household
from engine.library.deploying import diagram_source
from engine.library.drafts import save_draft
from tests.bdd.officials import household_data
from tests.web.test_diagrams import GRADE_DMN, grade_dmn
from tests.webclient import login, serve

DMN_BUNDLE = "/vendor/dmn-js/dmn-modeler.production.min.js"
BPMN_BUNDLE = "/vendor/bpmn-js/bpmn-modeler.production.min.js"
DEVELOPMENT = re.compile(r"development build of Inferno|Inferno is in development mode")


def _version(package: str) -> str:
    return json.loads((REPO_ROOT / "node_modules" / package / "package.json").read_text(encoding="utf-8"))["version"]


def _get(base: str, path: str, **headers: str):
    """One GET over a real socket (no redirect followed, no transparent decompression): status, headers, body."""
    parts = urlsplit(base)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html)


# -- error pages ------------------------------------------------------------------------------------


def _assert_chinese_page(response, status: int, title: str, logged_in: bool) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert title in html and "Not Found" not in html and "Forbidden" not in html and "Werkzeug" not in html
    assert f"错误代码 {status}" in html
    assert 'class="top"' in html and "防返贫监测帮扶" in html  # the site's header
    assert 'href="/">返回首页' in html
    assert ("我的待办" in html) is logged_in  # the navigation bar and the inbox link
    return html


def test_404_is_a_chinese_page_with_the_navigation_and_a_way_back(client, web_app):
    _assert_chinese_page(client.get("/no/such/page"), 404, "页面不存在", logged_in=False)
    official = login(web_app.test_client(), "shahe_cun")
    html = _assert_chinese_page(official.get("/no/such/page", headers={"Referer": "http://localhost/cases"}), 404,
                                "页面不存在", logged_in=True)
    assert 'href="/cases" rel="prev">返回上一页' in html
    other_site = official.get("/no/such/page", headers={"Referer": "https://evil.example/x"}).get_data(as_text=True)
    assert "返回上一页" not in other_site  # only a page of this site


def test_403_is_a_chinese_page_with_the_navigation(web_app):
    official = login(web_app.test_client(), "shahe_cun")
    html = _assert_chinese_page(official.get("/diagrams"), 403, "无权访问", logged_in=True)
    assert "权限" in html


def test_405_is_a_chinese_page_and_keeps_its_allow_header(web_app):
    response = login(web_app.test_client(), "shahe_cun").delete("/cases")
    _assert_chinese_page(response, 405, "不支持该请求方法", logged_in=True)
    assert "GET" in response.headers["Allow"]


def test_500_is_a_chinese_page(web_app):
    web_app.config["PROPAGATE_EXCEPTIONS"] = False

    @web_app.get("/test-boom")
    def boom():
        raise RuntimeError("boom")

    response = web_app.test_client().get("/test-boom")
    html = _assert_chinese_page(response, 500, "系统出错", logged_in=False)
    assert "boom" not in html and "Traceback" not in html


def test_errors_under_api_stay_json(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404 and response.is_json
    assert set(response.get_json()) == {"error", "code", "fields"}


def test_error_pages_over_a_real_server(web_app):
    with serve(web_app) as base:
        status, headers, body = _get(base, "/no/such/page", **{"Accept-Encoding": "identity"})
    assert status == 404 and headers["content-type"].startswith("text/html")
    html = body.decode("utf-8")
    assert "页面不存在" in html and "返回首页" in html and "Content-Security-Policy".lower() in headers


# -- favicon ----------------------------------------------------------------------------------------


def test_the_favicon_is_linked_and_answered(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in page
    for url in ("/favicon.ico", "/static/favicon.svg"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "image/svg+xml" and b"<svg" in response.get_data()


# -- compression and caching ------------------------------------------------------------------------


def test_vendor_urls_carry_the_package_version(web_app):
    html = login(web_app.test_client(), "jiangxi_zhengce").get("/diagrams/versions/1/modeler").get_data(as_text=True)
    assert f"{BPMN_BUNDLE}?v={_version('bpmn-js')}" in html
    assert f"bpmn-js.css?v={_version('bpmn-js')}" in html


def test_vendor_scripts_are_compressed_and_cached_over_a_real_server(web_app):
    bpmn, dmn = f"{BPMN_BUNDLE}?v={_version('bpmn-js')}", f"{DMN_BUNDLE}?v={_version('dmn-js')}"
    with serve(web_app) as base:
        status, plain_headers, plain = _get(base, bpmn, **{"Accept-Encoding": "identity"})
        assert status == 200 and "content-encoding" not in plain_headers
        status, headers, body = _get(base, bpmn, **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["content-encoding"] == "gzip"
        assert gzip.decompress(body) == plain and len(body) < len(plain) / 3
        assert "max-age=31536000" in headers["cache-control"] and "immutable" in headers["cache-control"]
        assert "accept-encoding" in headers["vary"].lower()
        status, headers, body = _get(base, dmn, **{"Accept-Encoding": "gzip, deflate, br"})
        assert status == 200 and headers["content-encoding"] == "br"
        assert len(brotli.decompress(body)) > 3 * len(body)
        etag = headers["etag"]
        status, _, body = _get(base, dmn, **{"Accept-Encoding": "gzip, deflate, br", "If-None-Match": etag})
        assert status == 304 and body == b""
        status, headers, _ = _get(base, DMN_BUNDLE, **{"Accept-Encoding": "identity"})  # no version: an hour
        assert status == 200 and "max-age=3600" in headers["cache-control"]
        status, _, _ = _get(base, "/vendor/left-pad/index.js")
        assert status == 404


def test_static_files_are_compressed_with_an_etag_and_answer_304(web_app):
    with serve(web_app) as base:
        status, headers, body = _get(base, "/static/app.css", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["content-encoding"] == "gzip" and gzip.decompress(body).startswith(b":root")
        status, _, body = _get(base, "/static/app.css", **{"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
        assert status == 304 and body == b""
        status, headers, body = _get(base, "/login", **{"Accept-Encoding": "gzip"})  # pages too
        assert status == 200 and headers["content-encoding"] == "gzip" and "登录".encode() in gzip.decompress(body)


# -- production builds, deferred scripts ------------------------------------------------------------


def test_the_dmn_bundle_served_is_a_production_build_of_the_installed_dmn_js(client):
    upstream = (REPO_ROOT / "node_modules/dmn-js/dist/dmn-modeler.production.min.js").read_text(encoding="utf-8")
    if not DEVELOPMENT.search(upstream):
        pytest.skip("dmn-js now ships a production Inferno: web/static/vendor/dmn-js/ may be removed")
    served = client.get(DMN_BUNDLE).get_data(as_text=True)
    assert not DEVELOPMENT.search(served)
    assert f"dmn-modeler v{_version('dmn-js')} " in served[:300], "rebuild web/static/vendor/dmn-js (web/__init__.py)"
    assert "bpmn.io/license" in served[:300]
    for name in ("bpmn-modeler.production.min.js", "bpmn-navigated-viewer.production.min.js"):
        assert not DEVELOPMENT.search(client.get(f"/vendor/bpmn-js/{name}").get_data(as_text=True)), name


def _dmn_draft(app, clock) -> int:
    with app.app_context():
        editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
        return save_draft(editor, diagram_source(GRADE_DMN, grade_dmn()), "分数线", clock).id


def test_the_modeler_pages_load_no_development_build(web_app, clock):
    editor = login(web_app.test_client(), "jiangxi_zhengce")
    for url in ("/diagrams/versions/1/modeler", f"/diagrams/drafts/{_dmn_draft(web_app, clock)}/modeler"):
        html = editor.get(url).get_data(as_text=True)
        scripts = _scripts(html)
        assert scripts and all("defer" in tag for tag in scripts), url
        assert "development" not in html, url
        for src in re.findall(r'<script\b[^>]*src="([^"]+)"', html):
            assert not DEVELOPMENT.search(editor.get(src).get_data(as_text=True)), src


def test_the_case_page_defers_its_scripts_and_has_zoom_controls(web_app, clock):
    with web_app.app_context():
        household = register_household(household_data("沙河村", "缩放户", 2), "shahe_cun", clock)
        case_id = open_identification(household.id, "self_application", date(2026, 9, 20), "shahe_cun", clock).id
    html = login(web_app.test_client(), "shahe_cun").get(f"/cases/{case_id}").get_data(as_text=True)
    scripts = _scripts(html)
    assert len(scripts) >= 2 and all("defer" in tag and "src=" in tag for tag in scripts)  # no inline script
    assert html.index("bpmn-navigated-viewer.production.min.js") < html.index("case-diagram.js")
    assert "development" not in html
    for zoom in ("in", "out", "fit", "current"):
        assert f'data-zoom="{zoom}"' in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers (the CSP forbids them)
