"""User administration (engine.accounts.users): an administrator manages the officials of their own jurisdiction
only; every change is audited; refusals name the field and change nothing; a leaver cannot log in or use a token."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.accounts import users
from engine.accounts.api_tokens import authenticate, issue_token
from engine.core.db import db
from engine.core.errors import FormInvalid, PermissionDenied, RuleViolation
from engine.core.models import AuditEvent, Jurisdiction, User


def _user(username: str) -> User:
    return db.session.scalar(select(User).filter_by(username=username))


@pytest.fixture
def admin(app) -> User:
    return _user("zhanggong_admin")  # 章贡区系统管理员 (demo)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_administrator_creates_an_official_who_logs_in_once_with_the_one_time_password(admin, clock):
    issued = users.create_user(admin, "shahe_cun_li", "李村干", ["village_cadre"], "360702101201", clock.now())
    official = _user("shahe_cun_li")
    assert official.jurisdiction.code == "360702101201" and official.roles == ["village_cadre"]
    assert official.must_change_password and official.active
    assert issued.password not in official.password_hash  # only a salted hash is kept
    assert users.login("shahe_cun_li", issued.password) == official
    assert users.login("shahe_cun_li", "wrong-password") is None
    users.change_own_password(official, issued.password, "my-own-pass-2026", clock.now())
    assert not official.must_change_password
    assert users.login("shahe_cun_li", issued.password) is None
    assert users.login("shahe_cun_li", "my-own-pass-2026") == official
    actions = [e.action for e in users.history("shahe_cun_li")]
    assert actions == ["user_created", "password_changed"]
    created = users.history("shahe_cun_li")[0]
    assert created.actor == "zhanggong_admin" and created.detail["jurisdiction"] == "360702101201"
    assert issued.password not in str(created.detail)


def test_an_administrator_acts_only_inside_their_jurisdiction(admin, clock):
    with pytest.raises(FormInvalid) as refused:
        users.create_user(admin, "longkou_x", "龙口某", ["village_cadre"], "370681104201", clock.now())
    ((field, reason),) = refused.value.errors
    assert field == "jurisdiction" and reason.startswith("山东省") and reason.endswith("不在 江西省赣州市章贡区 辖区内")
    for action in (lambda: users.reset_password(admin, "zhuyouguan_cun", clock.now()),
                   lambda: users.deactivate_user(admin, "zhuyouguan_cun", "调离", clock.now()),
                   lambda: users.change_user(admin, "ganzhou_shi", clock.now(), display_name="x")):
        with pytest.raises(PermissionDenied, match="不在 .*章贡区 辖区内"):
            action()
    with pytest.raises(PermissionDenied, match="不是系统管理员"):
        users.create_user(_user("zhanggong_xian"), "a_b_c", "某", ["village_cadre"], "360702101201", clock.now())
    assert {u.username for u in users.users_within(admin)} >= {"shahe_cun", "shahe_zhen", "zhanggong_xian"}
    assert not {"ganzhou_shi", "zhuyouguan_cun"} & {u.username for u in users.users_within(admin)}


def test_bad_input_names_every_field_and_changes_nothing(admin, clock):
    before_users, before_audit = _count(User), _count(AuditEvent)
    with pytest.raises(FormInvalid) as refused:
        users.create_user(admin, "Shahe Cun", "", ["mayor"], "999", clock.now())
    fields = [field for field, _ in refused.value.errors]
    assert fields == ["username", "display_name", "roles", "jurisdiction"]
    assert "可选：village_cadre（村干部（村两委））" in dict(refused.value.errors)["roles"]
    with pytest.raises(FormInvalid, match="登录名 shahe_cun 已被使用"):
        users.create_user(admin, "shahe_cun", "重名", ["village_cadre"], "360702101201", clock.now())
    assert (_count(User), _count(AuditEvent)) == (before_users, before_audit)


def test_a_role_that_does_a_levels_tasks_is_never_given_above_that_level(admin, clock):
    """A village cadre placed at the county would see every village's tasks there: refused, on creation and on a
    change, naming the level; roles without tasks of a level (督导, 系统管理员) sit anywhere in the area."""
    before = _count(User)
    with pytest.raises(FormInvalid) as refused:
        users.create_user(admin, "zg_vill", "县里的村干部", ["village_cadre"], "360702", clock.now())
    assert refused.value.errors == [("roles", "村干部（村两委）办理村的任务，不能设在县（江西省赣州市章贡区）：请选择村一级的辖区")]
    with pytest.raises(FormInvalid, match="乡镇工作人员办理乡镇的任务，不能设在县"):
        users.change_user(admin, "shahe_zhen", clock.now(), jurisdiction_code="360702")
    with pytest.raises(FormInvalid, match="村干部（村两委）办理村的任务，不能设在乡镇"):
        users.change_user(admin, "shahe_zhen", clock.now(), roles=["township_officer", "village_cadre"])
    assert _count(User) == before and _user("shahe_zhen").jurisdiction.code == "360702101"
    users.create_user(admin, "zg_dudao2", "章贡区督导二", ["supervisor"], "360702", clock.now())
    users.create_user(admin, "shahe_cun_2", "沙河村干部二", ["village_cadre"], "360702101201", clock.now())
    assert _count(User) == before + 2


PLACES = {"province": "36", "city": "3607", "county": "360702", "township": "360702101", "village": "360702101201"}
# where each role that does a level's tasks may sit (policy/roles.json): its level; a department at a county or a city
SITS_AT = {"village_cadre": {"village"}, "township_officer": {"township"}, "county_officer": {"county"},
           "city_officer": {"city"}, "province_officer": {"province"}, "department_officer": {"county", "city"}}


@pytest.mark.parametrize("role", sorted(SITS_AT))
def test_a_role_that_does_a_levels_tasks_is_given_only_at_its_levels_neither_above_nor_below(app, role):
    for level, code in PLACES.items():
        place = db.session.scalar(select(Jurisdiction).filter_by(code=code))
        assert place.level == level
        problems = users.level_problems([role], place)
        assert (problems == []) == (level in SITS_AT[role]), (role, level, problems)


def test_a_province_officer_at_a_county_is_refused_naming_the_role_and_the_levels(app, clock):
    """Below its level a role's tasks never reach the official (a province's review sits at the province): refused
    on creation and on a change, as a village cadre at a township is; nothing is created or changed."""
    province = users.create_first_administrator("jiangxi_it", "江西省信息中心", "36", clock.now()).user
    before_users, before_audit = _count(User), _count(AuditEvent)
    with pytest.raises(FormInvalid) as refused:
        users.create_user(province, "zg_sheng", "县里的省干部", ["province_officer"], "360702", clock.now())
    assert refused.value.errors == [
        ("roles", "省级乡村振兴部门办理省的任务，不能设在县（江西省赣州市章贡区）：请选择省一级的辖区")]
    with pytest.raises(FormInvalid, match="市级乡村振兴部门办理市的任务，不能设在县（江西省赣州市章贡区）"):
        users.change_user(province, "zhanggong_xian", clock.now(), roles=["county_officer", "city_officer"])
    with pytest.raises(FormInvalid, match="省级乡村振兴部门办理省的任务，不能设在市（江西省赣州市）"):
        users.change_user(province, "jiangxi_sheng", clock.now(), jurisdiction_code="3607")
    with pytest.raises(FormInvalid, match="行业部门办理县或市的任务，不能设在乡镇（江西省赣州市章贡区沙河镇）：请选择县或市一级的辖区"):
        users.create_user(province, "shahe_yibao", "沙河镇医保", ["department_officer"], "360702101", clock.now())
    assert (_count(User), _count(AuditEvent)) == (before_users, before_audit)
    assert _user("jiangxi_sheng").jurisdiction.code == "36" and _user("zhanggong_xian").roles == ["county_officer"]
    users.create_user(province, "jiangxi_li", "省干部", ["province_officer"], "36", clock.now())
    users.create_user(province, "ganzhou_ybj", "赣州市医保局二", ["department_officer"], "3607", clock.now(),
                      department="medical")
    users.create_user(province, "jiangxi_dudao", "省督导", ["supervisor"], "36", clock.now())  # no level's tasks
    assert _count(User) == before_users + 3


def test_a_leaver_cannot_log_in_nor_use_a_token_until_reactivated(admin, clock):
    official = _user("shahe_cun")
    token = issue_token(official, "村级 APP", clock.now())
    assert authenticate(token) == official
    with pytest.raises(FormInvalid, match="请写明停用原因"):
        users.deactivate_user(admin, "shahe_cun", " ", clock.now())
    users.deactivate_user(admin, "shahe_cun", "调离沙河村", clock.now())
    assert users.login("shahe_cun", "demo") is None and authenticate(token) is None
    with pytest.raises(RuleViolation, match="已停用"):
        users.reset_password(admin, "shahe_cun", clock.now())
    issued = users.reactivate_user(admin, "shahe_cun", clock.now())
    assert users.login("shahe_cun", "demo") is None  # the old password does not come back
    assert users.login("shahe_cun", issued.password) == official and official.must_change_password
    assert [e.action for e in users.history("shahe_cun")] == ["user_deactivated", "user_reactivated"]
    assert users.history("shahe_cun")[0].detail["reason"] == "调离沙河村"


def test_an_administrator_cannot_lock_themselves_out(admin, clock):
    with pytest.raises(RuleViolation, match="不能停用自己的账号"):
        users.deactivate_user(admin, "zhanggong_admin", "试试", clock.now())
    with pytest.raises(FormInvalid, match="不能取消自己的系统管理员角色"):
        users.change_user(admin, "zhanggong_admin", clock.now(), roles=["supervisor"])


def test_changing_roles_and_place_is_audited_with_before_and_after(admin, clock):
    users.change_user(admin, "shahe_cun2", clock.now(), roles=["village_cadre", "supervisor"],
                      jurisdiction_code="360702101202")
    moved = _user("shahe_cun2")
    assert moved.roles == ["village_cadre", "supervisor"] and moved.jurisdiction.code == "360702101202"
    (entry,) = users.history("shahe_cun2")
    assert entry.detail["before"] == {"roles": ["village_cadre"], "jurisdiction": "360702101201"}
    assert entry.detail["after"] == {"roles": ["village_cadre", "supervisor"], "jurisdiction": "360702101202"}
    with pytest.raises(RuleViolation, match="没有变化"):
        users.change_user(admin, "shahe_cun2", clock.now(), roles=["village_cadre", "supervisor"])


def test_a_password_that_is_too_weak_is_refused(admin, clock):
    official = _user("shahe_zhen")
    for weak, reason in (("short1", "至少 10 位"), ("1234567890", "不能只有数字"), ("demo", "至少"), ("a1" * 65, "至多 128 位")):
        with pytest.raises(FormInvalid, match=reason):
            users.change_own_password(official, "demo", weak, clock.now())
    with pytest.raises(FormInvalid, match="填写有误：当前密码不正确"):
        users.change_own_password(official, "not-demo", "good-password-1", clock.now())
    assert users.login("shahe_zhen", "demo") == official and users.login("shahe_zhen", "x" * 1_000_000) is None


def test_the_first_administrator_is_created_once(app, clock):
    for row in db.session.scalars(select(User).where(User.username == "zhanggong_admin")):
        row.active = False
    db.session.commit()
    issued = users.create_first_administrator("county_it", "县信息中心", "360702", clock.now())
    assert issued.user.roles == ["administrator"] and users.login("county_it", issued.password) == issued.user
    with pytest.raises(RuleViolation, match="已有系统管理员"):
        users.create_first_administrator("county_it2", "又一个", "360702", clock.now())


def test_a_city_or_province_above_the_install_gets_its_first_administrator_on_the_command_line(app, clock):
    """The city's and province's officers review a county's rollback or removal; no county administrator may create
    them, so the first administrator of a place that no administrator covers is created as the install's first."""
    county = _user("zhanggong_admin")  # 章贡区 (demo): it covers its townships and villages, not the city
    with pytest.raises(RuleViolation, match="已有系统管理员（zhanggong_admin，江西省赣州市章贡区）"):
        users.create_first_administrator("shahe_it", "沙河镇", "360702101", clock.now())
    with pytest.raises(FormInvalid, match="不在 江西省赣州市章贡区 辖区内"):
        users.create_user(county, "ganzhou_li", "李市干", ["city_officer"], "3607", clock.now())
    city = users.create_first_administrator("ganzhou_it", "赣州市信息中心", "3607", clock.now()).user
    users.create_user(city, "ganzhou_li", "李市干", ["city_officer"], "3607", clock.now())
    with pytest.raises(RuleViolation, match="已有系统管理员（ganzhou_it，江西省赣州市）"):
        users.create_first_administrator("ganzhou_it2", "又一个", "3607", clock.now())
    province = users.create_first_administrator("jiangxi_it", "江西省信息中心", "36", clock.now()).user
    assert users.managed(province, "ganzhou_it") and users.managed(province, "zhanggong_admin")
    entry = db.session.scalars(select(AuditEvent).filter_by(action="user_created")).all()[-1]
    assert entry.actor == "install" and entry.detail["user"] == "jiangxi_it"


def test_the_official_of_a_login_session_is_read_with_their_place_in_one_statement(app):
    """Every web request reads its official (web.auth.load_user): one statement gives them and their place, the
    same objects the session holds; an id without a user gives None."""
    from tests.factories import statements_of

    user_id = db.session.scalar(select(User.id).filter_by(username="shahe_cun"))
    db.session.remove()
    found = []
    assert statements_of(lambda: found.append(users.signed_in(user_id))) == 1
    user = found[0]
    assert statements_of(lambda: (user.roles, user.jurisdiction.code, user.jurisdiction.path)) == 0
    assert (user.username, user.jurisdiction.code) == ("shahe_cun", "360702101201")
    assert db.session.get(User, user_id) is user and db.session.get(Jurisdiction, user.jurisdiction_id) is user.jurisdiction
    assert not db.session.dirty and not db.session.new
    db.session.commit()  # expired: read again, the same object
    assert users.signed_in(user_id) is user and user.active
    assert users.signed_in(user_id + 10_000) is None


def test_a_department_officer_belongs_to_a_department_configured_for_their_place(admin, clock):
    """行业部门: without one, a department officer could push any department's warnings and do its push tasks (the
    engine checks the department only of an account that has one); no other official belongs to one."""
    def refused(**fields) -> dict[str, str]:
        with pytest.raises(FormInvalid) as refusal:
            users.create_user(admin, "zg_bumen", "章贡区某局", fields.pop("roles", ["department_officer"]), "360702",
                              clock.now(), **fields)
        return dict(refusal.value.errors)

    assert refused() == {"department": "行业部门人员须选择所属行业部门"}
    assert refused(department="tax")["department"].startswith("江西省赣州市章贡区 没有配置行业部门 tax（已配置：")
    assert refused(roles=["county_officer"], department="medical") == {"department": "只有行业部门人员才选择所属行业部门"}
    official = users.create_user(admin, "zg_bumen", "章贡区医保局二", ["department_officer"], "360702", clock.now(),
                                 department="medical").user
    assert official.department == "medical"
    users.change_user(admin, "zg_bumen", clock.now(), department="civil_affairs")
    assert _user("zg_bumen").department == "civil_affairs"
    with pytest.raises(FormInvalid, match="只有行业部门人员才选择所属行业部门"):
        users.change_user(admin, "zg_bumen", clock.now(), roles=["county_officer"])  # its department stays: refused
    users.change_user(admin, "zg_bumen", clock.now(), roles=["county_officer"], department="")
    assert (_user("zg_bumen").roles, _user("zg_bumen").department) == (["county_officer"], None)


def test_logins_read_as_the_officials_names_in_one_statement(app):
    from tests.factories import statements_of

    found: dict[str, str] = {}
    logins = ["shahe_cun", "zhanggong_xian", "system", "self_application", "gone_user", None]
    assert statements_of(lambda: found.update(users.display_names(logins))) == 1  # however many logins
    assert found == {"shahe_cun": "沙河村村干部", "zhanggong_xian": db.session.scalar(
        select(User.display_name).filter_by(username="zhanggong_xian")), "system": "系统",
        "self_application": "农户网上申请", "gone_user": "gone_user"}
    assert statements_of(lambda: users.display_names(["system", None])) == 0
