"""docs/why_stuck.md shows what examples/why_stuck.py prints, and the figures it draws exist.

The full run takes about 10 s on two threads, so the test runs it (``--quick``
prints shorter tables than the page shows). The printed figures are bit-exact
only for one machine, thread count and torch build: on another, a mismatch
here means the page must be regenerated there, not that the code is wrong.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest
import torch

from tests.examples import load_example

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "why_stuck.md"
FIGURES = ("why_stuck_plateau.png", "why_stuck_dead.png", "why_stuck_vanishing.png")
TEXT_BLOCK = re.compile(r"^```text\n(.*?)^```", re.MULTILINE | re.DOTALL)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    """The full run's printed lines, and the folder it drew its figures into."""
    folder = tmp_path_factory.mktemp("figures")
    dtype = torch.get_default_dtype()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            load_example("why_stuck").main(["--figures", str(folder)])
    finally:
        torch.set_default_dtype(dtype)
    return out.getvalue().splitlines(), folder


def test_the_page_shows_what_the_script_prints(run: tuple[list[str], Path]) -> None:
    printed, _ = run
    blocks = [block.splitlines() for block in TEXT_BLOCK.findall(PAGE.read_text())]
    assert len(blocks) == 4, "the page shows four printed outputs"
    shown = [line for block in blocks for line in block]
    assert shown == printed, "docs/why_stuck.md must show every printed line, in order"


def test_the_stories_end_as_the_page_says(run: tuple[list[str], Path]) -> None:
    """The claims the prose makes, against the printed lines (not against the page's copy)."""
    printed, _ = run
    text = "\n".join(printed)
    plateau = [line for line in printed if re.match(r"^\s+\d+\s+[\d.]+ %\s+\S+\s+\S+\s+\|", line)]
    assert len(plateau) == 30
    assert all(" 88.3 %" in line.split("|")[0] for line in plateau[1:27])
    assert " 88.3 %" not in plateau[27].split("|")[0]
    assert "vanishing" in text.split("story 1, N(0, 1e-6²) init: 2 verdict(s)")[0]
    assert "story 1, torch default init: 0 verdict(s)" in text
    assert "layer [1] ReLU(): 79% of its units never fired" in text
    assert "story 2, lr 0.05: 0 verdict(s)" in text
    assert "story 3, Sigmoid: 4 verdict(s)" in text
    assert "story 3, Tanh: 0 verdict(s)" in text


def test_the_figures_exist(run: tuple[list[str], Path]) -> None:
    _, folder = run
    page = PAGE.read_text()
    for name in FIGURES:
        assert f"]({name})" in page, f"docs/why_stuck.md does not show {name}"
        for path in (ROOT / "docs" / name, folder / name):
            assert path.read_bytes()[:8] == PNG, f"{path} is not a PNG"
