"""The registry: one or more ``ModuleCase`` for every public ``Module`` and ``Loss``.

The cases live in one file per family (``core``: the first library; ``conv``,
``normalization``, ``resampling``, ``containers``: the 4-D layer set and the
branching containers; ``sparse``: the lookup tables and the shape modules;
``attention``: MultiheadAttention and the composed encoder block; ``rnn``: RNN,
LSTM and GRU).
``CASES`` is all of them, in that order.
"""

from tests.cases import attention, containers, conv, core, normalization, resampling, rnn, sparse
from tests.cases.core import BN_EPS, DROPOUT_SEED, Dims, ModuleCase

__all__ = ["BN_EPS", "CASES", "DROPOUT_SEED", "Dims", "ModuleCase"]

CASES: list[ModuleCase] = [
    *core.CASES,
    *conv.CASES,
    *normalization.CASES,
    *resampling.CASES,
    *containers.CASES,
    *sparse.CASES,
    *attention.CASES,
    *rnn.CASES,
]
