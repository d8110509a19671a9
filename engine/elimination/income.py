"""What a risk elimination measures the household's income by (风险消除的收入计算时间和监测范围).

The seeds' rule: the income of the 12 months ending with the month before the month of elimination — 002 附件12–17,
收入指标说明 2: “收入数据为消除风险的上一月份倒推上一年收入。例如2021年6月份消除风险，收入计算时间为2020年6月-2021年5月” —
above the monitoring line of that year (000 四（一）“家庭人均纯收入稳定超过当地当年度监测范围”; 001 Q30, Q37
“超过当年监测范围”; 001 Q10 “以后年度，按照当年确定的年度监测范围执行”). No seed gives another rule for a place, so it
is the same everywhere (not a policy parameter, unlike identification's ``identification.income_window_anchor``).

The month of elimination is the month of the household's elimination date (A54 风险消除时间), the date the diagrams
hand to ``mark_eliminated``: the county's approval (县级审定, 章贡区's 区级审批: “审定日期即风险消除日期” — as the
identification date is the county's approval, 001 Q45, and elimination follows the identification's procedure, Q46),
or in 龙口 the city office's tagging (市扶贫办标注，“标注日期即风险消除日期”). The township verifies the income at home
(乡镇审核（入户核实收入）) before that date is known: the day of the verification stands for it until then — the window
the income is recorded over and the year whose line the conditions are checked against — and the window is settled
on the elimination date (audited ``income_window_settled``, as at identification). Where the elimination date falls
in another year than the verification (verified in December, approved in January), the conditions are decided again
at the approval, with the income verified, against the line of the year of elimination (the diagrams' step
按风险消除年度监测范围复核, engine.cases.functions ``check_elimination_line``, audited ``elimination_line_settled``):
not above it, the elimination is postponed; that year's line not yet set, the approval is refused until it is.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.core.models import Household
from engine.households.income import income_window
from engine.policy.parameters import monitoring_line


def elimination_window(eliminated_on: date) -> tuple[date, date]:
    """The 12 months of income counted for a household eliminated on ``eliminated_on`` (or, at the township's home
    verification, expected to be in its month): eliminated in June 2021 → 2020-06-01 … 2021-05-31."""
    return income_window(eliminated_on)


def elimination_line(household: Household, eliminated_on: date) -> Decimal:
    """The monitoring line the income of ``household`` must be above to be eliminated on ``eliminated_on``: its
    province's line of that year (当年监测范围); PolicyMissing (in words) if the province has not set it."""
    return monitoring_line(household.village, eliminated_on.year)
