"""The torch.nn twin of a minitorch_nn network: now ``minitorch_nn.interop``, re-exported for older scripts.

``to_torch`` builds the same structure in torch.nn modules with copies of the
same values (``Residual`` and ``Concat`` become ``TorchResidual`` and
``TorchConcat``); the benchmarks and tests import it from ``minitorch_nn.interop``.
"""

from minitorch_nn.interop import TorchConcat, TorchResidual, to_torch

__all__ = ["TorchConcat", "TorchResidual", "to_torch"]
