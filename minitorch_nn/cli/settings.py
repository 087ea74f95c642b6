"""The settings of a training run, and how each is chosen.

A training setting comes from, in order: the command line; with ``--resume``,
the checkpoint's stored settings; ``--preset``; the defaults below. So
``--resume`` needs no other option, and anything given explicitly wins.
"""

import argparse
from typing import Literal, TypedDict, cast

__all__ = ["DEFAULTS", "PRESETS", "SETTINGS", "Settings", "resolve"]


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


_KINDS: dict[str, tuple[type, ...]] = {
    "full": (bool,),
    "layers": (list,),
    "dropout": (float, int),
    "momentum": (float, int),
    "weight_decay": (float, int),
    "step_size": (int,),
    "gamma": (float, int),
    "t_max": (int,),
    "epochs": (int,),
    "batch_size": (int,),
    "seed": (int,),
}


def _check_stored(stored: dict[str, object]) -> None:
    """Raise ``ValueError`` if settings read from a checkpoint have the wrong kinds of values."""
    for key, value in stored.items():
        kinds = _KINDS.get(key, (str, float, int, type(None)))
        if (
            key not in DEFAULTS
            or not isinstance(value, kinds)
            or isinstance(value, bool) != (kinds == (bool,))
        ):
            raise ValueError(f"the checkpoint's settings are damaged: {key}={value!r}")


def resolve(
    args: argparse.Namespace, stored: dict[str, object] | None, preset: str | None, *, resuming: bool = False
) -> Settings:
    """Each setting from the command line, else the checkpoint, else the preset, else the default.

    Raises:
        ValueError: if ``stored`` has unknown keys or values of the wrong kind, or, when
            ``resuming``, an option other than ``--epochs`` and ``--data-dir`` changes a stored setting.
    """
    settings = dict(DEFAULTS)
    if preset is not None:
        settings.update(PRESETS[preset])
    if stored is not None:
        _check_stored(stored)
        settings.update(stored)
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
    if settings["t_max"] is None:
        settings["t_max"] = settings["epochs"]
    if settings["layers"] is None:
        settings["layers"] = [2, 25, 25, 25, 2] if settings["dataset"] == "disk" else [784, 256, 128, 10]
    if settings["lr"] is None and settings["lr_per_sample"] is None:
        settings["lr"] = 0.001 if settings["optimizer"] == "adam" else 0.1
    return cast(Settings, settings)
