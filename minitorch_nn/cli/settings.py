"""The settings of a training run, and how each is chosen.

A training setting comes from, in order: the command line; with ``--resume``,
the checkpoint's stored settings; ``--preset``; the defaults below. So
``--resume`` needs no other option, and anything given explicitly wins.
"""

import argparse
import math
from collections.abc import Callable
from typing import Literal, TypedDict, cast

import torch

from minitorch_nn.spec import ACTIVATIONS

__all__ = ["DEFAULTS", "PRESETS", "RULES", "SETTINGS", "Settings", "check_stored", "resolve"]


class Settings(TypedDict):
    """Everything a training run is made of; stored in its checkpoints."""

    dataset: Literal["mnist", "fashion-mnist", "disk"]
    data_dir: str | None
    full: bool
    layers: list[int]
    activation: str
    output_activation: str | None
    dropout: float
    init_std: float | None
    loss: str
    reduction: Literal["mean", "sum"]
    optimizer: str
    lr: float | None
    lr_per_sample: float | None
    momentum: float
    weight_decay: float
    scheduler: Literal["none", "step", "cosine"]
    step_size: int
    gamma: float
    t_max: int | None
    epochs: int
    batch_size: int
    seed: int
    input_scale: float | None
    log_format: str


DEFAULTS: dict[str, object] = {
    "dataset": "mnist",
    "data_dir": None,
    "full": False,
    "layers": None,  # by data set: 784,256,128,10 for the images, 2,25,25,25,2 for the disk
    "activation": "relu",
    "output_activation": None,
    "dropout": 0.0,
    "init_std": None,
    "loss": "cross-entropy",
    "reduction": "mean",
    "optimizer": "sgd",
    "lr": None,  # 0.1 for sgd, 0.001 for adam
    "lr_per_sample": None,
    "momentum": 0.0,
    "weight_decay": 0.0,
    "scheduler": "none",
    "step_size": 10,
    "gamma": 0.1,
    "t_max": None,  # the first run's --epochs
    "epochs": 10,
    "batch_size": 64,
    "seed": 0,
    "input_scale": None,
    "log_format": "epoch",
}


SETTINGS = tuple(DEFAULTS)


PRESETS: dict[str, dict[str, object]] = {
    # The course notebook: the reduced MNIST split, inputs times 0.9, one full-batch SGD step per
    # epoch with lr 0.1 / N on the summed squared error, weights from N(0, 1e-6^2).
    "two-layer": {
        "dataset": "mnist",
        "layers": [784, 50, 10],
        "activation": "tanh",
        "output_activation": "tanh",
        "init_std": 1e-6,
        "loss": "mse",
        "reduction": "sum",
        "optimizer": "sgd",
        "lr_per_sample": 0.1,
        "batch_size": 0,
        "epochs": 200,
        "input_scale": 0.9,
        "log_format": "notebook",
    },
}


FLOAT32_MAX = float(torch.finfo(torch.float32).max)
SEED_LIMIT = 2**63  # seeds: Dropout gets seed + 1 + index, torch takes < 2**64; batch sizes: int64

Check = Callable[[object], object]
"""A rule for one setting: returns the value, or raises ``ValueError("expected ..., got ...")``."""


def _expected(what: str, value: object) -> ValueError:
    return ValueError(f"expected {what}, got {value!r}")


def number(least: float, below: float = math.inf, *, above: bool = False) -> Check:
    """A finite number ``>= least`` (``> least`` with ``above``), ``< below``, within float32's range."""
    bound = f"> {least:g}" if above else f">= {least:g}"
    upper = f" and < {below:g}" if below != math.inf else f" and <= {FLOAT32_MAX:.4g} (the float32 range)"

    def check(value: object) -> object:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not (value > least if above else value >= least) or not value < below:  # type: ignore[operator]  # a number here
            raise _expected(f"a finite number {bound}{upper}", value)
        if below == math.inf and value > FLOAT32_MAX:  # type: ignore[operator]  # a number here
            raise _expected(f"a finite number {bound}{upper}", value)
        return value

    return check


def count(least: int, below: int | None = None) -> Check:
    """An integer ``>= least`` (and ``< below``)."""
    upper = "" if below is None else " and < 2^63" if below == SEED_LIMIT else f" and < {below}"

    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise _expected(f"an integer >= {least}{upper}", value)
        if below is not None and value >= below:
            raise _expected(f"an integer >= {least}{upper}", value)
        return value

    return check


def choice(*values: object) -> Check:
    def check(value: object) -> object:
        if value not in values or isinstance(value, bool) != isinstance(values[0], bool):
            raise _expected(f"one of {', '.join(map(repr, values))}", value)
        return value

    return check


def optional(rule: Check) -> Check:
    return lambda value: None if value is None else rule(value)


def _text(value: object) -> object:
    if not isinstance(value, str):
        raise _expected("a string", value)
    return value


def _layers(value: object) -> object:
    if (
        not isinstance(value, list)
        or len(value) < 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        raise _expected("two or more sizes >= 1, such as [784, 256, 10]", value)
    return value


RULES: dict[str, Check] = {
    "dataset": choice("mnist", "fashion-mnist", "disk"),
    "data_dir": optional(_text),
    "full": choice(False, True),
    "layers": optional(_layers),
    "activation": choice(*sorted(ACTIVATIONS)),
    "output_activation": optional(choice(*sorted(ACTIVATIONS))),
    "dropout": number(0, 1),
    "init_std": optional(number(0, above=True)),
    "loss": choice("cross-entropy", "mse"),
    "reduction": choice("mean", "sum"),
    "optimizer": choice("sgd", "adam"),
    "lr": optional(number(0)),
    "lr_per_sample": optional(number(0)),
    "momentum": number(0, 1),
    "weight_decay": number(0),
    "scheduler": choice("none", "step", "cosine"),
    "step_size": count(1),
    "gamma": number(0, 1, above=True),
    "t_max": optional(count(1)),
    "epochs": count(0),
    "batch_size": count(0, SEED_LIMIT),
    "seed": count(0, SEED_LIMIT),
    "input_scale": optional(number(0, above=True)),
    "log_format": choice("epoch", "notebook", "none"),
}
"""The rules every setting obeys, on the command line and when read back from a checkpoint."""

assert RULES.keys() == DEFAULTS.keys()


def check_stored(stored: dict[str, object]) -> None:
    """Raise ``ValueError`` naming the first setting read from a checkpoint that breaks its rule."""
    missing = [key for key in RULES if key not in stored]
    if missing:
        raise ValueError(
            f"missing stored setting {missing[0]!r} (a train checkpoint stores all {len(RULES)})"
        )
    for key, value in stored.items():
        if key not in RULES:
            raise ValueError(f"unknown stored setting {key!r}")
        try:
            RULES[key](value)
        except ValueError as error:
            raise ValueError(f"stored setting {key}: {error}") from None


def resolve(
    args: argparse.Namespace, stored: dict[str, object] | None, preset: str | None, *, resuming: bool = False
) -> Settings:
    """Each setting from the command line, else the checkpoint, else the preset, else the default.

    Raises:
        ValueError: when ``resuming``, if an option other than ``--epochs`` and ``--data-dir`` changes
            a stored setting; if ``--step-size``, ``--gamma`` or ``--t-max`` is given without the
            ``--scheduler`` it applies to; if ``--scheduler cosine`` has no period (``--t-max``, or
            ``--epochs`` >= 1).
    """
    settings = dict(DEFAULTS)
    if preset is not None:
        settings.update(PRESETS[preset])
    if stored is not None:
        settings.update(stored)  # checked by check_stored when it was read
    given = {k: getattr(args, k) for k in SETTINGS if getattr(args, k, None) is not None}
    if given.get("data_dir") is not None:
        given["data_dir"] = str(given["data_dir"])
    if stored is not None and resuming:
        for key, value in given.items():
            if key not in ("epochs", "data_dir") and stored.get(key) != value:
                flag = "--" + key.replace("_", "-")
                raise ValueError(
                    f"{flag} {value} differs from the checkpoint's {stored.get(key)}: a resumed run keeps "
                    "its settings (only --epochs and --data-dir may change)"
                )
    if "lr" in given:
        settings["lr_per_sample"] = None
    settings.update(given)
    for key, scheduler in (("step_size", "step"), ("gamma", "step"), ("t_max", "cosine")):
        if key in given and settings["scheduler"] != scheduler:
            raise ValueError(
                f"--{key.replace('_', '-')} applies to --scheduler {scheduler}, "
                f"got --scheduler {settings['scheduler']}"
            )
    if settings["t_max"] is None and settings["epochs"] >= 1:  # type: ignore[operator]  # an int
        settings["t_max"] = settings["epochs"]
    if settings["scheduler"] == "cosine" and settings["t_max"] is None:
        raise ValueError("--scheduler cosine needs --t-max N, or --epochs N >= 1 as its default")
    if settings["layers"] is None:
        settings["layers"] = [2, 25, 25, 25, 2] if settings["dataset"] == "disk" else [784, 256, 128, 10]
    if settings["lr"] is None and settings["lr_per_sample"] is None:
        settings["lr"] = 0.001 if settings["optimizer"] == "adam" else 0.1
    return cast(Settings, settings)
