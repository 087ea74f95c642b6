"""Registry cases: the containers family (see tests/cases/__init__.py)."""

from tests.cases.core import ModuleCase

CASES: list[ModuleCase] = []
