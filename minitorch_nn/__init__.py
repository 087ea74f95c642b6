"""minitorch_nn: a small deep-learning framework whose every backward pass is written by hand.

Modules have an explicit ``forward`` (which caches what the backward pass
needs) and ``backward`` (which returns the input gradient and adds parameter
gradients into each ``Parameter.grad``). Optimizers update parameters from
those buffers. Everything runs on plain torch tensors, without autograd.
"""

from minitorch_nn import data, init
from minitorch_nn.activations import Tanh
from minitorch_nn.containers import Sequential
from minitorch_nn.gradcheck import GradcheckError, gradcheck
from minitorch_nn.layers import Linear
from minitorch_nn.losses import MSELoss
from minitorch_nn.module import LoadResult, Loss, Module, ModuleBase
from minitorch_nn.optim import SGD, HasParameters, Optimizer
from minitorch_nn.parameter import Parameter

__all__ = [
    "SGD",
    "GradcheckError",
    "HasParameters",
    "Linear",
    "LoadResult",
    "Loss",
    "MSELoss",
    "Module",
    "ModuleBase",
    "Optimizer",
    "Parameter",
    "Sequential",
    "Tanh",
    "data",
    "gradcheck",
    "init",
]

__version__ = "0.1.0"
