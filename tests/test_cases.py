"""The registry itself: every public Module and Loss must have a case."""

import inspect

import torch

import minitorch_nn as mn
from tests.cases import CASES


def test_every_public_module_has_a_case() -> None:
    covered = {type(case.make(torch.Generator())) for case in CASES}
    public = {
        obj
        for name in mn.__all__
        if inspect.isclass(obj := getattr(mn, name))
        and issubclass(obj, mn.Module | mn.Loss)
        and not inspect.isabstract(obj)
    }
    missing = sorted(cls.__name__ for cls in public - covered)
    assert not missing, f"modules without a registry case in tests/cases.py: {missing}"
