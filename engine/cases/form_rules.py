"""Rules a task's data must meet beyond its JSON Schema (领域校验), checked before the task is completed; each
problem names the field, as a schema error would. A form asks for its rules by name (``"x-rules"`` in its schema,
e.g. ``["measures_cover_risks"]``), so a new form can use a rule without a change of code. A rule that depends on
the case's place may also narrow the form it checks to what the place offers (:func:`narrowed`: the task page and
the API's task form show that), so an official is not offered what the rule would refuse. A rule reads the form's
data, the case and the data the case's workflow holds at the step (what the steps before it concluded, e.g. the
decision table's ``assessment``)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.bpmn.forms import RULES_KEYWORD, load_form
from engine.core.errors import FangpinError, FormInvalid
from engine.core.models import Case
from engine.households import household_size
from engine.households.measures import check_plan
from engine.identification import comparison, county_decision, exclusions
from timers.calendar import to_local_date

RULES_KEY = RULES_KEYWORD  # the keyword is defined once, with the other form keywords (engine.bpmn.forms)
Rule = Callable[[dict[str, Any], Case, Mapping[str, Any]], list[tuple[str, str]]]  # (data, case, step's data)
Narrowing = Callable[[dict[str, Any], Case], dict[str, Any]]  # a form's schema → the schema the case's place offers
RULES: dict[str, Rule] = {
    # 帮扶措施: each risk of the household has a measure that answers it (assistance plan, green channel)
    "measures_cover_risks": lambda data, case, step: check_plan(data, case.household.risk_types or []),
    # 原则上不纳入情形: only the list the place's policy names (入户核实)
    exclusions.RULE: lambda data, case, step: exclusions.exclusion_problems(data, case),
    # 信息比对: an earlier comparison reused (001 Q43) where the place's rule, in force at the case's opening, allows
    comparison.RULE: lambda data, case, step: comparison.reuse_problems(data, case.jurisdiction, case.lead_date,
                                                                        to_local_date(case.opened_at)),
    # 入户核实 (identification, elimination): the 家庭人口数 is the register's (the members who live with the household, 001 Q16) or explained
    household_size.RULE: lambda data, case, step: household_size.household_size_problems(data, case.household),
    # 县级审定: a category the household may be given, and the reason when it is not the computed one
    county_decision.RULE: lambda data, case, step: county_decision.county_category_problems(
        data, case.household, county_decision.computed_category(step)),
}
NARROWINGS: dict[str, Narrowing] = {  # rule → how it narrows its form to the case's place (the same place and day)
    exclusions.RULE: exclusions.narrowed,  # the place's list, with its heading
    comparison.RULE: lambda schema, case: comparison.narrowed(schema, case.jurisdiction, to_local_date(case.opened_at)),
}


def install_rules(rules: dict[str, Rule]) -> None:
    """Rules of the packages above this one (department warnings), installed by the composition roots."""
    RULES.update(rules)


def narrowed(schema: dict[str, Any], case: Case) -> dict[str, Any]:
    """``schema`` (a task's form) as the case's place offers it: narrowed by each rule it asks for that narrows
    (:data:`NARROWINGS`), in turn; ``schema`` itself if none does. The completion is still checked against the
    whole form and its rules, which refuse what the place does not offer, naming the field."""
    for name in schema.get(RULES_KEY, []):
        narrow = NARROWINGS.get(name)
        if narrow is not None:
            schema = narrow(schema, case)
    return schema


def check_form_rules(form: str, data: dict[str, Any], case: Case, step: Mapping[str, Any]) -> None:
    """FormInvalid naming each field that breaks a rule the form asks for (``step``: the data the case's workflow
    holds at the task, before the form's); a rule the engine does not know is refused naming the form (what to
    change)."""
    problems: list[tuple[str, str]] = []
    schema = load_form(form)
    for name in schema.get(RULES_KEY, []):
        rule = RULES.get(name)
        if rule is None:
            raise FangpinError(f"表单 {form} 的 {RULES_KEY} 列出了未知的校验规则 {name}：可用的规则为 {'、'.join(RULES)}")
        problems += rule(data, case, step)
    if problems:
        raise FormInvalid(form, problems, schema.get("title"))
