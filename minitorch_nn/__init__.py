"""minitorch_nn: a small deep-learning framework whose every backward pass is written by hand.

Modules have an explicit ``forward`` (which caches what the backward pass
needs) and ``backward`` (which returns the input gradient and adds parameter
gradients into each ``Parameter.grad``). Optimizers update parameters from
those buffers. Everything runs on plain torch tensors, without autograd.
"""

from minitorch_nn import checkpoint, data, distributed, init, plot, train
from minitorch_nn.gradcheck import GradcheckError, gradcheck
from minitorch_nn.module import LoadResult, Loss, Module, ModuleBase
from minitorch_nn.modules.activation import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from minitorch_nn.modules.container import Sequential
from minitorch_nn.modules.conv import Conv2d
from minitorch_nn.modules.dropout import Dropout
from minitorch_nn.modules.linear import Flatten, Linear
from minitorch_nn.modules.loss import BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss
from minitorch_nn.modules.normalization import BatchNorm1d
from minitorch_nn.modules.pooling import AvgPool2d, MaxPool2d
from minitorch_nn.network_summary import summary
from minitorch_nn.optim.adam import Adam, AdamW
from minitorch_nn.optim.lr_scheduler import CosineAnnealingLR, Scheduler, SchedulerState, StepLR
from minitorch_nn.optim.optimizer import HasParameters, Optimizer, OptimizerBase, OptimizerState
from minitorch_nn.optim.sgd import SGD
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
    "Buffer",
    "Conv2d",
    "CosineAnnealingLR",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GradcheckError",
    "HasParameters",
    "HuberLoss",
    "Identity",
    "L1Loss",
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
