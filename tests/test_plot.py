"""Plots: PNG files only, written atomically through the checkpoint writer."""

import os
from pathlib import Path

import pytest
import torch

from minitorch_nn.checkpoint import OutputPathError
from minitorch_nn.history import EpochRecord, History
from minitorch_nn.plot import plot_confusion, plot_history

HISTORY = History([EpochRecord(1, 0.9, 0.3, 0.8, 0.35), EpochRecord(2, 0.5, 0.2, 0.6, 0.25)])
PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_history_refuses_a_path_that_is_not_png(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"plot_history: expected a \.png path, got '.*out\.txt'"):
        plot_history(HISTORY, tmp_path / "out.txt")
    assert list(tmp_path.iterdir()) == []


def test_plot_confusion_refuses_a_path_that_is_not_png(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"plot_confusion: expected a \.png path"):
        plot_confusion(torch.eye(2, dtype=torch.int64), tmp_path / "x.pdf")


def test_plot_history_writes_through_a_symlink(tmp_path: Path) -> None:
    target, link = tmp_path / "real.png", tmp_path / "link.png"
    target.write_bytes(b"old")
    link.symlink_to(target)
    plot_history(HISTORY, link)
    assert link.is_symlink() and target.read_bytes().startswith(PNG)


def test_plot_history_refuses_a_folder_named_png(tmp_path: Path) -> None:
    folder = tmp_path / "curves.png"
    folder.mkdir()
    with pytest.raises(OutputPathError, match="is a folder"):
        plot_history(HISTORY, folder)
    assert folder.is_dir() and os.listdir(folder) == []
