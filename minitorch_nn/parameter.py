"""``Parameter``: a trainable value and its gradient buffer; ``Buffer``: state that is not trained."""

from dataclasses import dataclass, field

import torch

from minitorch_nn._types import Tensor, shape_str

__all__ = ["Buffer", "Parameter"]


@dataclass(frozen=True, slots=True, eq=False)
class Parameter:
    """A trainable tensor ``value`` together with its gradient buffer ``grad``.

    ``grad`` is created as zeros with the same shape, dtype and device as
    ``value``, so it is never ``None``. Neither field is ever reassigned: the
    tensors change only in place (``Module.backward`` adds into ``grad``, an
    optimizer updates ``value``), so references held elsewhere stay valid.

    Args:
        value: the initial value; must be a floating-point tensor. It is used
            as is, not copied.

    Attributes:
        value: the current value.
        grad: the accumulated gradient of the loss with respect to ``value``.

    Raises:
        TypeError: if ``value`` is not a floating-point tensor.

    Example:
        >>> p = Parameter(torch.ones(2, 3))
        >>> p
        Parameter(shape=(2, 3), dtype=torch.float32)
        >>> p.grad.add_(1.0).sum().item()
        6.0
        >>> p.zero_grad()
        >>> p.grad.abs().sum().item()
        0.0
    """

    value: Tensor
    grad: Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.value, torch.Tensor):
            raise TypeError(f"Parameter: expected a torch.Tensor, got {type(self.value).__name__}")
        if not self.value.is_floating_point():
            raise TypeError(f"Parameter: expected a floating-point tensor, got {self.value.dtype}")
        # The one place ``grad`` is assigned: the frozen dataclass needs object.__setattr__.
        object.__setattr__(self, "grad", torch.zeros_like(self.value))

    @property
    def shape(self) -> torch.Size:
        """The shape of ``value`` (and of ``grad``)."""
        return self.value.shape

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of ``value`` (and of ``grad``)."""
        return self.value.dtype

    @property
    def device(self) -> torch.device:
        """The device of ``value`` (and of ``grad``)."""
        return self.value.device

    def zero_grad(self) -> None:
        """Set every element of ``grad`` to zero, in place."""
        self.grad.zero_()

    def to_(
        self,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        memory_format: torch.memory_format | None = None,
    ) -> None:
        """Move ``value`` and ``grad`` to ``device``, to ``dtype``, and to ``memory_format``.

        The tensor objects are kept (their storage is swapped, as
        ``torch.nn.Module.to`` does), so anything holding ``value`` or ``grad``
        sees the moved data. ``memory_format`` applies to 4-D tensors only
        (convolution weights), as in torch.
        """
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"Parameter: expected a floating-point dtype, got {dtype}")
        layout = memory_format if self.value.dim() == 4 else None
        for tensor in (self.value, self.grad):
            if layout is None:
                tensor.data = tensor.data.to(device=device, dtype=dtype)
            else:
                tensor.data = tensor.data.to(device=device, dtype=dtype, memory_format=layout)

    def __repr__(self) -> str:
        return f"Parameter(shape={shape_str(self.value)}, dtype={self.value.dtype})"


@dataclass(frozen=True, slots=True, eq=False)
class Buffer:
    """Module state that is saved and moved with the parameters but not trained.

    BatchNorm's running statistics are buffers: ``state_dict`` includes them,
    ``to`` moves them, optimizers never see them. Like ``Parameter``, the field
    is never reassigned and ``value`` changes only in place.

    Args:
        value: the initial value, used as is. Integer buffers (counters) keep
            their dtype when the module is converted to another float dtype.

    Example:
        >>> b = Buffer(torch.zeros(3))
        >>> b.value.add_(1.0).tolist()
        [1.0, 1.0, 1.0]
        >>> b
        Buffer(shape=(3,), dtype=torch.float32)
    """

    value: Tensor

    def __post_init__(self) -> None:
        if not isinstance(self.value, torch.Tensor):
            raise TypeError(f"Buffer: expected a torch.Tensor, got {type(self.value).__name__}")

    @property
    def shape(self) -> torch.Size:
        """The shape of ``value``."""
        return self.value.shape

    def to_(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        """Move ``value`` to ``device``; convert it to ``dtype`` only if it is floating point."""
        convert = dtype if self.value.is_floating_point() else None
        self.value.data = self.value.data.to(device=device, dtype=convert)

    def __repr__(self) -> str:
        return f"Buffer(shape={shape_str(self.value)}, dtype={self.value.dtype})"
