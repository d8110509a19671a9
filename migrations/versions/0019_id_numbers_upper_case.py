"""ID numbers are stored with a capital X (engine.core.id_numbers.normalised): a registration kept a check character
typed as x, while the household import and the department warnings' upload made it X — so one person could be
registered twice, ``…x`` and ``…X``, and a warning row (always X) did not find a member registered with x.

Upgrading upper-cases the members' ID numbers and the department warnings' (no other table keeps one: a
self-application keeps a digest of the number, made upper-case already). If two members' numbers differ only by
the case of their x, upper-casing would make one person of them, and the database's uniqueness would refuse it: the
upgrade is then refused before anything is changed, naming the households and members, for an administrator to find
out which one is mistyped and correct or remove it, then run ``fangpin init`` again.

Revision ID: 0019
Revises: 0018
"""
import logging

import sqlalchemy as sa
from alembic import op

from engine.core.errors import FangpinError

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)
member = sa.table("member", sa.column("id", sa.Integer), sa.column("household_id", sa.Integer),
                  sa.column("name", sa.String), sa.column("id_number", sa.String))
household = sa.table("household", sa.column("id", sa.Integer), sa.column("number", sa.String))
warning = sa.table("department_warning", sa.column("id_number", sa.String))
LISTED = 20  # duplicates named in the refusal; the others counted


class DuplicateIdNumbers(FangpinError):
    """Members whose ID numbers differ only by the case of their check character: nothing was upgraded."""


def _masked(number: str) -> str:
    """As the pages mask it (engine.households.privacy.mask_id_number, written out: a migration stays as it is)."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "*" * len(number)


def duplicates(connection) -> list[list[tuple[str, str, str]]]:
    """Each group of members one number would be once upper-cased: (household number, name, ID number)."""
    upper = sa.func.upper(member.c.id_number)
    clashing = sa.select(upper).group_by(upper).having(sa.func.count() > 1)
    rows = connection.execute(
        sa.select(upper, household.c.number, member.c.name, member.c.id_number)
        .join(household, household.c.id == member.c.household_id)
        .where(upper.in_(clashing)).order_by(upper, household.c.number, member.c.id)).all()
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for key, number, name, id_number in rows:
        groups.setdefault(key, []).append((number, name, id_number))
    return list(groups.values())


def refusal(groups: list[list[tuple[str, str, str]]]) -> str:
    listed = ["、".join(f"户 {number} 的{name}（{_masked(id_number)}）" for number, name, id_number in group)
              for group in groups[:LISTED]]
    more = f"；另有 {len(groups) - LISTED} 组未列出" if len(groups) > LISTED else ""
    return (f"数据库升级未进行（没有改动任何数据）：有 {len(groups)} 组家庭成员的身份证号只差末位 x 的大小写，统一为大写 X 后"
            f"会成为同一人：{'；'.join(listed)}{more}。同一人只能登记一次：请系统管理员对照证件核实每组中哪一条录错，"
            "在数据库中更正或删除后再运行 fangpin init")


def upgrade():
    connection = op.get_bind()
    groups = duplicates(connection)
    if groups:
        raise DuplicateIdNumbers(refusal(groups))
    changed = 0
    for table in (member, warning):
        changed += connection.execute(table.update().where(table.c.id_number != sa.func.upper(table.c.id_number))
                                      .values(id_number=sa.func.upper(table.c.id_number))).rowcount
    log.info("ID numbers upper-cased: %s", changed)


def downgrade():
    pass  # which numbers were typed with a small x is not kept: they stay upper-case
