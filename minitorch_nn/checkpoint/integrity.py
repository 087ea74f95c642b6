"""SHA-256 digests of a checkpoint's tensors and metadata, which format ``minitorch_nn.checkpoint/2`` stores.

The ``digests`` entry of the safetensors ``__metadata__`` is the JSON object
``{"metadata": <hex>, "tensors": {<key>: <hex>, ...}}``:

* a tensor's digest is the SHA-256 of ``json.dumps([key, dtype, shape])``
  (``dtype`` as torch names it without ``torch.``, e.g. ``"float64"``; ``shape``
  a list), one NUL byte, then the tensor's bytes as safetensors stores them
  (row-major, little-endian). So an edit of a tensor's bytes, or of its dtype or
  shape in the safetensors header, changes it;
* the metadata's digest is the SHA-256 of every ``__metadata__`` entry except
  ``digests`` itself, serialised canonically:
  ``json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``.
"""

import hashlib
import json
from collections.abc import Mapping

import torch

from minitorch_nn._types import Tensor

__all__ = ["DIGESTS", "metadata_digest", "tensor_digest"]

DIGESTS = "digests"
"""The ``__metadata__`` entry that holds the digests.

Example:
    >>> DIGESTS
    'digests'
"""


def tensor_digest(key: str, tensor: Tensor) -> str:
    """The SHA-256 hex digest of a tensor's key, dtype, shape and bytes (hashed in place, not copied).

    Args:
        key: the tensor's name in the file, such as ``"model/0.weight"``.
        tensor: a CPU tensor (a contiguous one is hashed without a copy).

    Example:
        >>> weight = torch.zeros(2, 3)
        >>> tensor_digest("model/w", weight) == tensor_digest("model/w", weight.clone())
        True
        >>> tensor_digest("model/w", weight) == tensor_digest("model/w", weight.reshape(3, 2))
        False
    """
    head = json.dumps([key, str(tensor.dtype).removeprefix("torch."), list(tensor.shape)])
    digest = hashlib.sha256(head.encode("ascii") + b"\0")
    if tensor.numel() > 0:
        raw = tensor.detach().reshape(-1).view(torch.uint8).numpy()  # a view of the same memory
        digest.update(raw)  # type: ignore[arg-type]  # numpy's stubs declare __buffer__ only for Python >= 3.12
    return digest.hexdigest()


def metadata_digest(entries: Mapping[str, object]) -> str:
    """The SHA-256 hex digest of every metadata entry except ``digests``, canonically serialised.

    Args:
        entries: the safetensors ``__metadata__`` (``{name: text}``).

    Example:
        >>> a = metadata_digest({"epoch": "1", "format": "f"})
        >>> a == metadata_digest({"format": "f", "epoch": "1", "digests": "ignored"})
        True
        >>> a == metadata_digest({"epoch": "2", "format": "f"})
        False
    """
    covered = {key: value for key, value in entries.items() if key != DIGESTS}
    canonical = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
