"""Registry cases: the resampling family (see tests/cases/__init__.py)."""

from tests.cases.core import ModuleCase

CASES: list[ModuleCase] = []
