"""minitorch_nn: a small deep-learning framework whose every backward pass is written by hand.

Modules have an explicit ``forward`` (which caches what the backward pass
needs) and ``backward`` (which returns the input gradient and adds parameter
gradients into each ``Parameter.grad``). Optimizers update parameters from
those buffers. Everything runs on plain torch tensors, without autograd.
"""

from minitorch_nn import checkpoint, data, distributed, init, plot, train
from minitorch_nn.gradcheck import GradcheckError, gradcheck
from minitorch_nn.module import LoadResult, Loss, Module, ModuleBase
from minitorch_nn.modules import (
    ELU,
    GELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCEWithLogitsLoss,
    Concat,
    Conv2d,
    ConvTranspose2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    HuberLoss,
    Identity,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    MSELoss,
    ReLU,
    Residual,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from minitorch_nn.network_summary import summary
from minitorch_nn.optim import (
    SGD,
    Adam,
    AdamW,
    CosineAnnealingLR,
    HasParameters,
    Optimizer,
    OptimizerBase,
    OptimizerState,
    Scheduler,
    SchedulerState,
    StepLR,
)
from minitorch_nn.parameter import Buffer, Parameter
from minitorch_nn.spec import NetworkSpec

__all__ = [
    "ELU",
    "GELU",
    "SGD",
    "Adam",
    "AdamW",
    "AvgPool2d",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Buffer",
    "Concat",
    "Conv2d",
    "ConvTranspose2d",
    "CosineAnnealingLR",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GradcheckError",
    "HasParameters",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LoadResult",
    "LogSoftmax",
    "Loss",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleBase",
    "NetworkSpec",
    "Optimizer",
    "OptimizerBase",
    "OptimizerState",
    "Parameter",
    "ReLU",
    "Residual",
    "Scheduler",
    "SchedulerState",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "StepLR",
    "Tanh",
    "checkpoint",
    "data",
    "distributed",
    "gradcheck",
    "init",
    "plot",
    "summary",
    "train",
]

__version__ = "0.1.0"
