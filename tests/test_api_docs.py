"""The API reference covers the public API: every name in ``__all__`` is documented, with an example.

The site is built once (``mkdocs build --strict``, as the README's test command
does) into a temporary folder; each public name must have its anchor there.
Docstrings are read with griffe, mkdocstrings' own loader, so module-level
constants and type aliases (whose docstrings Python does not keep) count too,
and their examples run here since ``--doctest-modules`` cannot see them.
"""

import doctest
import importlib
import re
import types
from pathlib import Path

import griffe
import pytest

import minitorch_nn

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = re.compile(r"^\s*Example:\s*$", re.MULTILINE)
# The exceptions: the two abstract bases, whose use is shown by every subclass's example.
NO_EXAMPLE_NEEDED = {"minitorch_nn.Module", "minitorch_nn.Loss"}


def public_names(module: types.ModuleType = minitorch_nn, prefix: str = "minitorch_nn") -> list[str]:
    """Every name in ``__all__``, and recursively in the ``__all__`` of public subpackages."""
    names = []
    for name in module.__all__:
        value, path = getattr(module, name), f"{prefix}.{name}"
        names.append(path)
        if isinstance(value, types.ModuleType):
            names += public_names(value, path)
    return names


NAMES = public_names()


@pytest.fixture(scope="module")
def package() -> griffe.Object:
    loaded = griffe.load("minitorch_nn", search_paths=[str(ROOT)], resolve_aliases=True)
    assert isinstance(loaded, griffe.Object)
    return loaded


@pytest.fixture(scope="module")
def site_html(built_site: Path) -> str:
    return "\n".join(page.read_text() for page in (built_site / "api").rglob("*.html"))


def canonical(path: str) -> str:
    """Where a class or function is defined (``minitorch_nn.gradcheck`` is also a module's name)."""
    value = _resolve(path)
    if isinstance(value, type | types.FunctionType):
        return f"{value.__module__}.{value.__qualname__}"
    return path


def docstring(package: griffe.Object, path: str) -> str:
    found = package[canonical(path).removeprefix("minitorch_nn.")]
    return found.docstring.value if found.docstring is not None else ""


def test_the_public_api_is_large_enough_to_mean_something() -> None:
    assert len(NAMES) > 80
    assert "minitorch_nn.train.fit" in NAMES and "minitorch_nn.Linear" in NAMES


@pytest.mark.parametrize("path", NAMES)
def test_every_public_name_is_in_the_built_reference(path: str, site_html: str) -> None:
    ids = {f'id="{path}"', f'id="{canonical(path)}"'}
    assert any(i in site_html for i in ids), f"{path} has no entry in the API reference (docs/api/*.md)"


@pytest.mark.parametrize("path", NAMES)
def test_every_public_name_has_a_docstring_with_an_example(path: str, package: griffe.Object) -> None:
    text = docstring(package, path)
    assert text.strip(), f"{path} has no docstring"
    if path not in NO_EXAMPLE_NEEDED and not isinstance(_resolve(path), types.ModuleType):
        assert EXAMPLE.search(text), f"{path}: its docstring has no 'Example:' section"


def _resolve(path: str) -> object:
    module_path, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module_path), name)


ATTRIBUTES = [
    path
    for path in NAMES
    if not callable(_resolve(path)) and not isinstance(_resolve(path), types.ModuleType)
]


@pytest.mark.parametrize("path", ATTRIBUTES)
def test_examples_of_constants_and_aliases_run(path: str, package: griffe.Object) -> None:
    """Python keeps no docstring for a constant or a type alias, so doctest never sees these."""
    found = package[canonical(path).removeprefix("minitorch_nn.")]
    module = importlib.import_module(found.canonical_path.rpartition(".")[0])
    test = doctest.DocTestParser().get_doctest(docstring(package, path), dict(vars(module)), path, None, 0)
    assert test.examples, f"{path}: no examples"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_signatures_link_to_their_types(site_html: str) -> None:
    """Cross-links: Sequential's signature links to Module's entry, fit's to OptimizerBase's."""
    assert 'href="../module/#minitorch_nn.Module"' in site_html
    assert "#minitorch_nn.OptimizerBase" in site_html
