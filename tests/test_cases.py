"""The registry itself: every public Module and Loss must have a case."""

import inspect

import torch

import minitorch_nn as mn
from tests.cases import CASES, Dims


def test_every_public_module_has_a_case() -> None:
    dims = Dims(2, 3, 2, 1, 6, 6)
    covered = {type(case.make(dims, torch.Generator())) for case in CASES}
    public = {
        obj
        for name in mn.__all__
        if inspect.isclass(obj := getattr(mn, name))
        and issubclass(obj, mn.Module | mn.Loss)
        and not inspect.isabstract(obj)
    }
    missing = sorted(cls.__name__ for cls in public - covered)
    assert not missing, f"modules without a registry case in tests/cases/: {missing}"
