"""The module library: every layer, activation and loss, one file per family as torch names them.

Each module keeps the contract of ``minitorch_nn.module``: ``forward`` caches
what ``backward`` needs, ``backward`` returns the input gradient and adds the
parameter gradients into each ``Parameter.grad``.

- ``linear``: ``Linear``, ``Flatten``
- ``activation``: elementwise activations, ``Softmax`` and ``LogSoftmax``
- ``loss``: regression and classification losses
- ``conv``, ``pooling``, ``upsampling``, ``normalization``, ``dropout``
- ``container``: ``Sequential``, ``Residual``, ``Concat``
- ``rnn``: ``RNN``, ``LSTM``, ``GRU`` (backpropagation through time)
- ``attention``: ``MultiheadAttention``, and ``encoder_block`` (a transformer block composed of parts)
- ``sparse``: ``Embedding``, ``PositionalEmbedding``
- ``shape``: ``Unflatten``, ``Permute``, ``Select``, ``Mean``
"""

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
from minitorch_nn.modules.attention import MultiheadAttention, encoder_block
from minitorch_nn.modules.container import Concat, Residual, Sequential
from minitorch_nn.modules.conv import Conv2d, ConvTranspose2d
from minitorch_nn.modules.dropout import Dropout, Dropout2d
from minitorch_nn.modules.linear import Flatten, Linear
from minitorch_nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from minitorch_nn.modules.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from minitorch_nn.modules.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from minitorch_nn.modules.rnn import GRU, LSTM, RNN
from minitorch_nn.modules.shape import Mean, Permute, Select, Unflatten
from minitorch_nn.modules.sparse import Embedding, PositionalEmbedding
from minitorch_nn.modules.upsampling import Upsample

__all__ = [
    "ELU",
    "GELU",
    "GRU",
    "LSTM",
    "RNN",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Concat",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "Embedding",
    "Flatten",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Mean",
    "MultiheadAttention",
    "NLLLoss",
    "Permute",
    "PositionalEmbedding",
    "ReLU",
    "Residual",
    "Select",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
    "Upsample",
    "encoder_block",
]
