"""The documentation cannot drift from the code.

- Every ```python block in README.md and docs/*.md runs (blocks of one page
  share a namespace, in order).
- Every ```py block is an excerpt: each of its lines must appear in the
  package, the examples or the tests.
- The training logs the pages show are what the reference example prints.
"""

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tests.examples import load_example

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
LOG_LINE = re.compile(r"^\d+ acc_train_loss .*%$")


def _blocks(page: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(page.read_text()) if lang == language]


def _source_lines() -> set[str]:
    files = [*(ROOT / "minitorch_nn").rglob("*.py"), *(ROOT / "examples").glob("*.py")]
    return {line.strip() for path in files for line in path.read_text().splitlines()}


@pytest.fixture(autouse=True)
def float32_default() -> Iterator[None]:
    """The pages are written for torch's default dtype."""
    torch.set_default_dtype(torch.float32)
    yield


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p, "python")], ids=lambda p: p.name)
def test_python_blocks_run(page: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for block in _blocks(page, "python"):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block, str(page), "exec"), namespace)


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p, "py")], ids=lambda p: p.name)
def test_excerpts_exist_in_the_source(page: Path) -> None:
    source = _source_lines()
    for block in _blocks(page, "py"):
        missing = [line for line in block.splitlines() if line.strip() and line.strip() not in source]
        assert not missing, f"{page.name}: excerpt lines not found in the source: {missing}"


def test_logs_shown_are_what_the_example_prints() -> None:
    shown = {
        page.name: [
            line for block in _blocks(page, "text") for line in block.splitlines() if LOG_LINE.match(line)
        ]
        for page in PAGES
    }
    shown = {name: lines for name, lines in shown.items() if lines}
    assert shown, "no page shows a training log"
    longest = max(len(lines) for lines in shown.values())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        load_example("two_layer_mnist").main(["--epochs", str(longest)])
    printed = out.getvalue().splitlines()
    for name, lines in shown.items():
        assert lines == printed[: len(lines)], name


def test_the_docs_home_shows_the_readmes_test_command() -> None:
    """docs/index.md repeats the command CI runs; it must be the README's, word for word."""
    readme = (ROOT / "README.md").read_text().splitlines()
    command = next(line for line in readme if line.startswith('pip install -e ".[dev]"'))
    assert command in (ROOT / "docs" / "index.md").read_text().splitlines()
