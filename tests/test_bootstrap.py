"""A county installs fangpin on its own places (``FANGPIN_PLACES``), not the seed documents' places that
policy/jurisdictions.json ships: every shipped diagram still deploys, nothing is set up at a place the county does
not have, its officials work there, and a broken tree file is refused in words with nothing loaded."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.app import create_engine_app
from engine.cli import main
from engine.core.db import db
from engine.core.id_numbers import with_check_character
from engine.core.models import Case, Jurisdiction, ProcessVersion

pytestmark = pytest.mark.slow  # started first (tests/conftest.py)

NANKANG = {"jurisdictions": [{"code": "36", "name": "江西省", "level": "province", "children": [
    {"code": "3607", "name": "赣州市", "level": "city", "children": [
        {"code": "360703", "name": "南康区", "level": "county", "children": [
            {"code": "360703101", "name": "蓉江街道", "level": "township", "rural_population": 30000, "children": [
                {"code": "360703101201", "name": "坪岗村", "level": "village", "rural_population": 2100}]}]}]}]}]}


@pytest.fixture
def county(tmp_path: Path, monkeypatch):
    """``fangpin`` on an empty database of its own; the county's places are tmp_path/places.json (the test writes it)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'county.db'}")
    monkeypatch.setenv("FANGPIN_CLOCK", "demo")  # the demo clock without demo data: the suite's day
    monkeypatch.setenv("FANGPIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("FANGPIN_PLACES", str(tmp_path / "places.json"))
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return run


def _database(tmp_path: Path):
    return create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'county.db'}"}).app_context()


def test_a_county_installs_on_its_own_places_and_identifies_a_household_there(county, tmp_path):
    (tmp_path / "places.json").write_text(json.dumps(NANKANG, ensure_ascii=False), encoding="utf-8")
    out = county("init", "--admin", "nankang_it", "--admin-jurisdiction", "360703")
    admin = re.search(r"\n([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})", out)
    assert admin and "已创建第一位系统管理员" in out
    with _database(tmp_path):
        codes = set(db.session.scalars(select(Jurisdiction.code)))
        assert codes == {"36", "3607", "360703", "360703101", "360703101201"}  # no seed place came with it
        keys = set(db.session.scalars(select(ProcessVersion.process_key)))
        assert {"identification", "identification_zhanggong_2021", "elimination_zhanggong_2021",
                "identification_longkou", "warning_push"} <= keys  # bound nowhere here, deployed all the same
        paths = set(db.session.scalars(select(Case.jurisdiction_path)))
        assert paths and all(p in ("/36/3607/", "/36/3607/360703/") for p in paths)  # department pushes: its own

    county("clock", "advance", "--to", "2026-09-20T09:00")
    lines = {"monitoring_lines": [{"province": "36", "year": 2026, "amount": 7800, "source": "测试"}]}
    (tmp_path / "lines.json").write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    county("--as", "nankang_it", "policy", "load", str(tmp_path / "lines.json"))
    out = county("--as", "nankang_it", "user", "create", "--username", "pinggang_cun", "--name", "坪岗村干部",
                 "--role", "village_cadre", "--jurisdiction", "360703101201")
    assert "pinggang_cun" in out
    household = {"village": "360703101201", "members": [
        {"name": "南康户主", "id_number": with_check_character("36070319800101001"), "relation_to_head": "户主"}]}
    (tmp_path / "h.json").write_text(json.dumps(household, ensure_ascii=False), encoding="utf-8")
    out = county("--as", "pinggang_cun", "household", "register", "--file", str(tmp_path / "h.json"))
    number = re.search(r"已登记农户 (\d+)", out).group(1)
    county("--as", "pinggang_cun", "case", "open", "--household", number, "--channel", "petition",
           "--lead-date", "2026-09-20")
    task = next(line for line in county("--as", "pinggang_cun", "task", "list").splitlines() if "南康户主" in line)
    assert "受理申请并签署承诺授权书" in task and "2026-10-05 24:00" in task  # 江西's 15 days, inherited from 36


@pytest.mark.parametrize(("tree", "said"), [
    ({"jurisdictions": [{"code": "36", "name": "江西省", "level": "city"}]}, "江西省（36）在最上层，层级须为 province"),
    ({"jurisdictions": [{"code": "36", "name": "江西省", "level": "province", "children": [
        {"code": "4307", "name": "常德市", "level": "city"}]}]}, "常德市（4307）的代码须以上级代码 36 开头"),
    ({"jurisdictions": [{"code": "36", "name": "江西省", "level": "province", "children": [
        {"code": "360703", "name": "南康区", "level": "county"}]}]}, "南康区（360703）在江西省（36）之下，层级须为 city"),
    ({"jurisdictions": [{"code": "36", "level": "province"}]}, "缺少 “name”"),
    ({"jurisdictions": [{"code": "36", "name": "江西省", "level": "province", "rural_population": -1}]},
     "rural_population（农村户籍人口）须为非负整数"),
    ({"places": []}, '含非空的 "jurisdictions" 列表'),
])
def test_a_broken_places_file_is_refused_naming_the_place_and_nothing_is_loaded(county, tmp_path, tree, said):
    (tmp_path / "places.json").write_text(json.dumps(tree, ensure_ascii=False), encoding="utf-8")
    out = county("init", ok=False)
    assert said in out and "Traceback" not in out
    with _database(tmp_path):
        assert db.session.scalar(select(func.count(Jurisdiction.id))) == 0


def test_a_places_file_that_is_not_json_is_said_in_words(county, tmp_path):
    (tmp_path / "places.json").write_text('{"jurisdictions": [', encoding="utf-8")
    assert "无法读取" in county("init", ok=False)
