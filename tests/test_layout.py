"""The package's map: the contract, the module library (``modules/``), the optimizers (``optim/``).

Checks the layout promises of ``docs/index.md#package-map``: every public name
imports from ``minitorch_nn`` and from its subpackage as the same object, the
old flat module paths are gone, and imports flow one way (the contract and the
library never import the workflow around them; nothing imports ``__init__``).
"""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import minitorch_nn
import minitorch_nn.modules
import minitorch_nn.optim

PACKAGE = Path(minitorch_nn.__file__).parent
OLD_PATHS = [
    "layers", "activations", "smooth_activations", "softmax", "losses", "classification_losses",
    "containers", "adam", "optimizer_base", "schedulers", "conv", "pooling", "normalization", "dropout",
]  # fmt: skip
WORKFLOW = ("train", "checkpoint", "cli", "data", "distributed", "spec", "plot", "network_summary", "history")


@pytest.mark.parametrize("subpackage", [minitorch_nn.modules, minitorch_nn.optim], ids=["modules", "optim"])
def test_every_name_of_a_subpackage_is_the_same_object_at_the_top(subpackage: object) -> None:
    names = subpackage.__all__  # type: ignore[attr-defined]  # both subpackages define __all__
    assert names
    for name in names:
        assert getattr(subpackage, name) is getattr(minitorch_nn, name), name


@pytest.mark.parametrize("old", OLD_PATHS)
def test_the_old_flat_paths_are_gone(old: str) -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"minitorch_nn.{old}")


def test_importing_the_package_loads_only_files_that_exist() -> None:
    code = (
        "import sys, minitorch_nn\n"
        "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.startswith('minitorch_nn')))"
    )
    files = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = [Path(f) for f in files.split()]
    assert all(f.is_file() for f in loaded)
    assert {f.relative_to(PACKAGE).parts[0] for f in loaded} >= {"modules", "optim", "module.py"}


def _imports(path: Path) -> list[str]:
    """The ``minitorch_nn`` modules that ``path`` imports, as dotted names."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("minitorch_nn"):
            found += (
                [node.module]
                if node.module != "minitorch_nn"
                else [f"minitorch_nn.{a.name}" for a in node.names]
            )
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("minitorch_nn")]
    return found


CORE = [PACKAGE / "_types.py", PACKAGE / "parameter.py", PACKAGE / "module.py"]
LIBRARY = sorted((PACKAGE / "modules").glob("*.py")) + sorted((PACKAGE / "optim").glob("*.py"))


@pytest.mark.parametrize("path", CORE + LIBRARY, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_contract_and_the_library_do_not_import_the_workflow(path: Path) -> None:
    for name in _imports(path):
        assert name.split(".")[1] not in WORKFLOW, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_optim_do_not_import_each_other(path: Path) -> None:
    other = "optim" if path.parent.name == "modules" else "modules"
    assert not [n for n in _imports(path) if n.startswith(f"minitorch_nn.{other}")]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_inside_the_package_imports_its_init(path: Path) -> None:
    """``from minitorch_nn import X`` is allowed only for a submodule X (``init``, say)."""
    if path.name == "__init__.py" and path.parent == PACKAGE:
        return
    for name in _imports(path):
        importlib.import_module(name)  # a module path, not a name re-exported by __init__
