"""features/identification.feature (识别纳入) against the real engine and diagrams."""
from pytest_bdd import scenarios

from tests.bdd.steps import *

scenarios("identification.feature")
