"""features/elimination_longkou.feature: 龙口市's risk elimination (003 六（二）, processes/elimination_longkou.bpmn)
on the real engine: both branches of its gateway on the category the household was identified in."""
from __future__ import annotations

from pytest_bdd import scenarios

from tests.bdd.elimination_steps import *
from tests.bdd.steps import *

scenarios("elimination_longkou.feature")
