"""features/elimination.feature: risk elimination eligibility and procedure on the real engine."""
from __future__ import annotations

from pytest_bdd import scenarios

from tests.bdd.elimination_steps import *
from tests.bdd.steps import *

scenarios("elimination.feature")
