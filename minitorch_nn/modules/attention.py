"""Attention: ``MultiheadAttention``, and ``encoder_block``, a transformer encoder block composed of parts.

torch keeps ``MultiheadAttention`` in ``torch.nn.modules.activation``; our
``activation.py`` holds only elementwise activations, so attention has a
family file of its own. The transformer encoder block is not a class here: it
is a ``Sequential`` of two ``Residual`` blocks built from ``LayerNorm``,
``MultiheadAttention``, ``Dropout``, ``Linear`` and ``GELU`` (see
``encoder_block``), each with its own backward.
"""

import math
from typing import Final

import torch
from typing_extensions import override

from minitorch_nn import init
from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.modules.activation import GELU
from minitorch_nn.modules.container import Residual, Sequential
from minitorch_nn.modules.dropout import Dropout, check_probability, dropout_mask
from minitorch_nn.modules.linear import Linear, check_size
from minitorch_nn.modules.normalization import LayerNorm
from minitorch_nn.parameter import Parameter

__all__ = ["MultiheadAttention", "encoder_block"]


class MultiheadAttention(Module):
    r"""Multi-head scaled dot-product attention, as ``torch.nn.MultiheadAttention``, backward by hand.

    For each head :math:`h`, with :math:`d = E / H`:
    :math:`A_h = \mathrm{softmax}(Q_h K_h^T / \sqrt{d} + M)`, :math:`O_h = A_h V_h`, where
    :math:`Q = x_q W_q^T + b_q`, :math:`K = x_k W_k^T + b_k`, :math:`V = x_v W_v^T + b_v` (the three
    blocks of ``in_proj_weight``), :math:`M` the additive mask (``-inf`` where masked); the heads'
    outputs are joined and projected: :math:`y = [O_1, \ldots, O_H] W_o^T + b_o` (``out_proj``).

    ``forward(x)`` is self-attention (``x`` is query, key and value). ``forward(query, key, value)``
    is torch's cross-attention; ``backward`` then returns the gradient for ``query``, and those for
    ``key`` and ``value`` are ``grad_key`` and ``grad_value``. ``backward`` goes through the out
    projection, the head merge, :math:`dV = A^T dO`, :math:`dA = dO\, V^T`, the softmax Jacobian
    :math:`dS = A \odot (dA - \textstyle\sum_j dA \odot A)`, the scale, :math:`dQ = dS\, K`,
    :math:`dK = dS^T Q` and the packed input projection, all as batched matrix products over
    :math:`N H` heads. Unlike torch, a query row whose keys are all masked raises ``ValueError``
    (torch returns NaN there).

    Args:
        embed_dim: the model dimension :math:`E`; a multiple of ``num_heads``.
        num_heads: the number of heads :math:`H`.
        dropout: the probability of zeroing an attention weight in training (inverted scaling,
            one draw per weight from ``generator``, of shape :math:`(N H, L, S)`). Default: 0.0.
        bias: add the biases :math:`b_q, b_k, b_v, b_o`. Default: ``True``.
        add_bias_kv: append a learned key and value (``bias_k``, ``bias_v``) to the keys and
            values of every sample, as torch. Default: ``False``.
        add_zero_attn: append a key and value of zeros (per head, after the biases), as torch.
            Default: ``False``.
        kdim: the key feature size; only ``None`` or ``embed_dim`` (torch's packed projection).
        vdim: the value feature size; only ``None`` or ``embed_dim``.
        batch_first: inputs and output are :math:`(N, L, E)` instead of :math:`(L, N, E)`.
            Default: ``False``.
        is_causal: mask the keys after each query's position (self-attention, :math:`L = S`).
            Default: ``False``.
        generator: random generator for the initial values and the dropout masks.
            Default: torch's global one.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(L, N, E)`, :math:`(N, L, E)` with ``batch_first``, or unbatched :math:`(L, E)`;
          ``key`` and ``value``: the same with :math:`S` for :math:`L`.
        - Output: the shape of the query.

    Attributes:
        in_proj_weight: ``Parameter`` of shape ``(3 * embed_dim, embed_dim)``, :math:`[W_q; W_k; W_v]`,
            Xavier-uniform, as torch.
        in_proj_bias: ``Parameter`` of shape ``(3 * embed_dim,)``, zeros; ``None`` if ``bias=False``.
        out_proj: the ``Linear(embed_dim, embed_dim)`` output projection, its bias zeroed (torch's init).
        bias_k, bias_v: ``Parameter`` of shape ``(1, 1, embed_dim)``, Xavier-normal, if ``add_bias_kv``.
        key_padding_mask: set before ``forward``, or ``None`` (the default): ``(N, S)`` (``(S,)``
            unbatched), bool (``True``: ignore that key, as torch) or float (added to the scores).
        attn_mask: set before ``forward``, or ``None``: ``(L, S)`` or ``(N * num_heads, L, S)``
            (``(num_heads, L, S)`` unbatched), bool or float, as torch's.
        attention_weights: after ``forward``, the attention weights per head, before dropout:
            ``(N, num_heads, L, S)`` (``(num_heads, L, S)`` unbatched). torch's ``need_weights``
            returns their mean over the heads.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> attention = MultiheadAttention(8, 2, batch_first=True, generator=g)
        >>> attention
        MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
        >>> x = torch.randn(3, 5, 8, generator=g)
        >>> attention(x).shape, attention.attention_weights.shape
        (torch.Size([3, 5, 8]), torch.Size([3, 2, 5, 5]))
        >>> attention.attention_weights.sum(-1).allclose(torch.ones(3, 2, 5))
        True
        >>> attention.backward(torch.ones(3, 5, 8)).shape
        torch.Size([3, 5, 8])
        >>> [name for name, _ in attention.named_parameters()]
        ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
    """

    embed_dim: Final[int]
    num_heads: Final[int]
    dropout: Final[float]
    bias: Final[bool]
    add_bias_kv: Final[bool]
    add_zero_attn: Final[bool]
    kdim: Final[int]
    vdim: Final[int]
    batch_first: Final[bool]
    is_causal: Final[bool]
    head_dim: Final[int]
    fresh_output = True
    fresh_grad_input = True

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        *,
        is_causal: bool = False,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        owner = "MultiheadAttention"
        self.embed_dim = check_size(owner, "embed_dim", embed_dim)
        self.num_heads = check_size(owner, "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(
                f"{owner}: expected embed_dim divisible by num_heads, got embed_dim={embed_dim}, "
                f"num_heads={num_heads}"
            )
        self.dropout = float(check_probability(owner, "dropout", dropout))
        for name, flag in (("bias", bias), ("add_bias_kv", add_bias_kv), ("add_zero_attn", add_zero_attn)):
            check_bool(owner, name, flag)
        for name, size in (("kdim", kdim), ("vdim", vdim)):
            if size is not None and check_size(owner, name, size) != embed_dim:
                raise ValueError(
                    f"{owner}: expected {name} None or embed_dim={embed_dim}, got {size}; "
                    "attention with torch's packed projection (keys and values of the query's size) "
                    "is what is supported"
                )
        self.bias, self.add_bias_kv, self.add_zero_attn = bias, add_bias_kv, add_zero_attn
        self.kdim = self.vdim = embed_dim
        self.batch_first = check_bool(owner, "batch_first", batch_first)
        self.is_causal = check_bool(owner, "is_causal", is_causal)
        self.head_dim = embed_dim // num_heads
        self.generator = generator
        # torch's order of draws: out_proj's initial values, then in_proj_weight, then bias_k, bias_v.
        out_proj = Linear(embed_dim, embed_dim, bias, generator=generator, device=device, dtype=dtype)
        weight = torch.empty(3 * embed_dim, embed_dim, device=device, dtype=dtype)
        self.in_proj_weight = Parameter(init.xavier_uniform_(weight, generator=generator))
        self.in_proj_bias = (
            Parameter(torch.zeros(3 * embed_dim, device=device, dtype=dtype)) if bias else None
        )
        self.bias_k: Parameter | None = None
        self.bias_v: Parameter | None = None
        if add_bias_kv:
            self.bias_k, self.bias_v = (
                Parameter(
                    init.xavier_normal_(
                        torch.empty(1, 1, embed_dim, device=device, dtype=dtype), generator=generator
                    )
                )
                for _ in range(2)
            )
        if out_proj.bias is not None:
            out_proj.bias.value.zero_()
        self.out_proj = out_proj
        self.key_padding_mask: Tensor | None = None
        self.attn_mask: Tensor | None = None
        self.attention_weights: Tensor | None = None
        self.grad_key: Tensor | None = None
        self.grad_value: Tensor | None = None
        self._cache: dict[str, Tensor] = {}
        self._shapes: tuple[torch.Size, torch.Size, torch.Size] | None = None
        self._self_attention = True

    # Layout: a 3-D input is a grid of rows (L, N) or (N, L); each row is one vector of E features.

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Check the three inputs; return whether they are unbatched (2-D)."""
        e = self.embed_dim
        layout = "(N, L, {e}) or (L, {e})" if self.batch_first else "(L, N, {e}) or (L, {e})"
        for name, tensor in (("input", query), ("key", key), ("value", value)):
            self._check_floating(tensor, name)
            if tensor.dim() not in (2, 3) or tensor.shape[-1] != e:
                raise ValueError(
                    f"{self!r}: expected {name} of shape {layout.format(e=e)}, got {shape_str(tensor)}"
                )
            self._check_like(tensor, self.in_proj_weight.value)
        if key.dim() != query.dim() or value.shape != key.shape:
            raise ValueError(
                f"{self!r}: expected key and value of one shape, with the rank of the query "
                f"{shape_str(query)}, got key {shape_str(key)} and value {shape_str(value)}"
            )
        batch = 0 if self.batch_first else 1
        if query.dim() == 3 and key.shape[batch] != query.shape[batch]:
            raise ValueError(
                f"{self!r}: expected key and value with the query's batch size {query.shape[batch]}, "
                f"got {shape_str(key)}"
            )
        return query.dim() == 2

    def _sizes(self, query: Tensor, key: Tensor) -> tuple[int, int, int]:
        """``(N, L, S)`` for inputs of the module's layout."""
        if query.dim() == 2:
            return 1, query.shape[0], key.shape[0]
        if self.batch_first:
            return query.shape[0], query.shape[1], key.shape[1]
        return query.shape[1], query.shape[0], key.shape[0]

    def _seq_first(self, unbatched: bool) -> bool:
        return not self.batch_first and not unbatched

    def _heads(self, rows: Tensor, n: int, length: int, seq_first: bool) -> Tensor:
        """``(rows, E)`` in the input's row order -> ``(N, H, length, d)`` (a view)."""
        h, d = self.num_heads, self.head_dim
        if seq_first:
            return rows.view(length, n, h, d).permute(1, 2, 0, 3)
        return rows.view(n, length, h, d).permute(0, 2, 1, 3)

    @staticmethod
    def _rows(heads: Tensor, seq_first: bool) -> Tensor:
        """``(N, H, length, d)`` -> ``(length, N, H, d)`` or ``(N, length, H, d)``: rows in input order."""
        return heads.permute(2, 0, 1, 3) if seq_first else heads.permute(0, 2, 1, 3)

    def _additive(self, mask: Tensor, name: str, like: Tensor) -> Tensor:
        if not isinstance(mask, torch.Tensor):
            raise TypeError(
                f"{self!r}: expected {name} to be a torch.Tensor or None, got {type(mask).__name__}"
            )
        if mask.device != like.device:
            raise ValueError(f"{self!r}: expected {name} on device {like.device}, got {mask.device}")
        if mask.dtype == torch.bool:
            return torch.zeros(mask.shape, dtype=like.dtype, device=like.device).masked_fill_(mask, -math.inf)
        if not mask.is_floating_point():
            raise TypeError(f"{self!r}: expected {name} of dtype bool or floating point, got {mask.dtype}")
        return mask.to(like.dtype)

    def _mask(self, n: int, length: int, s: int, unbatched: bool, like: Tensor) -> Tensor | None:
        """The additive mask, ``(N or 1, H or 1, L or 1, S')``, or ``None`` when nothing is masked."""
        h = self.num_heads
        parts: list[Tensor] = []
        if self.is_causal:
            if length != s:
                raise ValueError(f"{self!r}: is_causal needs as many keys as queries, got L={length}, S={s}")
            causal = torch.full((length, s), -math.inf, dtype=like.dtype, device=like.device).triu_(1)
            parts.append(causal.view(1, 1, length, s))
        if self.attn_mask is not None:
            mask = self._additive(self.attn_mask, "attn_mask", like)
            if tuple(mask.shape) == (length, s):
                parts.append(mask.view(1, 1, length, s))
            elif tuple(mask.shape) == (n * h, length, s):
                parts.append(mask.view(n, h, length, s))
            else:
                stacked = f"({h}, {length}, {s})" if unbatched else f"({n * h}, {length}, {s})"
                raise ValueError(
                    f"{self!r}: expected attn_mask of shape ({length}, {s}) or {stacked}, "
                    f"got {shape_str(mask)}"
                )
        if self.key_padding_mask is not None:
            mask = self._additive(self.key_padding_mask, "key_padding_mask", like)
            expected = (s,) if unbatched else (n, s)
            if tuple(mask.shape) != expected:
                raise ValueError(
                    f"{self!r}: expected key_padding_mask of shape {expected}, got {shape_str(mask)}"
                )
            parts.append(mask.view(n, 1, 1, s))
        if not parts:
            return None
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        extra = int(self.add_bias_kv) + int(self.add_zero_attn)
        if extra:  # the appended keys are never masked
            total = torch.nn.functional.pad(total, (0, extra))
        self._refuse_masked_rows(total, n, length)
        return total

    def _refuse_masked_rows(self, mask: Tensor, n: int, length: int) -> None:
        rows = torch.isneginf(mask).all(-1)
        if bool(rows.any()):
            batch, head, query = (int(i) for i in rows.expand(n, self.num_heads, length).nonzero()[0])
            raise ValueError(
                f"{self!r}: every key is masked for query {query} of sample {batch} (head {head}); "
                "its weights would be 0/0 (torch returns NaN): leave at least one key per query unmasked"
            )

    def _extend(self, keys: Tensor, extra: Parameter | None) -> Tensor:
        """``(N, H, S, d)`` with ``bias_k``/``bias_v`` and a zero key appended as set, as ``(N H, S', d)``."""
        n, h, s, d = keys.shape
        parts = [keys]
        if extra is not None:
            parts.append(extra.value.view(1, h, 1, d).expand(n, h, 1, d))
        if self.add_zero_attn:
            parts.append(keys.new_zeros(n, h, 1, d))
        if len(parts) == 1:
            return keys.reshape(n * h, s, d)
        return torch.cat(parts, dim=2).view(n * h, s + len(parts) - 1, d)

    @override
    def forward(self, input: Tensor, key: Tensor | None = None, value: Tensor | None = None) -> Tensor:
        """Return the attention output for ``input`` (self-attention), or for query ``input`` over
        ``key`` and ``value``; set ``attention_weights``; cache the inputs, the projected queries,
        keys and values, the attention weights and the dropout mask for ``backward``."""
        if (key is None) != (value is None):
            raise ValueError(f"{self!r}: expected both key and value, or neither (self-attention)")
        self._self_attention = key is None
        key = input if key is None else key
        value = input if value is None else value
        unbatched = self._check_inputs(input, key, value)
        n, length, s = self._sizes(input, key)
        if s == 0 and length > 0 and not (self.add_bias_kv or self.add_zero_attn):
            raise ValueError(
                f"{self!r}: expected at least one key, got key of shape {shape_str(key)}; a query's weights "
                "over no keys are 0/0 (torch returns zeros)"
            )
        seq_first = self._seq_first(unbatched)
        mask = self._mask(n, length, s, unbatched, input)
        q, k, v, inputs = self._project(input, key, value, n, length, s, seq_first)
        h, d = self.num_heads, self.head_dim
        scale = 1.0 / math.sqrt(d)
        if mask is None:
            scores = torch.bmm(q, k.transpose(1, 2)).mul_(scale)
        else:
            size = k.shape[1]
            broadcast = mask.shape[0] == 1 and mask.shape[1] == 1
            bias = (
                mask.view(1, mask.shape[2], size)
                if broadcast
                else mask.expand(n, h, length, size).reshape(n * h, length, size)
            )
            scores = torch.baddbmm(bias, q, k.transpose(1, 2), alpha=scale)
        attention = torch.softmax(scores, dim=-1)
        self.attention_weights = attention.view(*((h,) if unbatched else (n, h)), length, k.shape[1])
        weights = attention
        self._cache = {"q": q, "k": k, "v": v, "attention": attention, **inputs}
        drop = self._draw(attention)
        if drop is not None:
            weights = attention * drop
            self._cache["drop"] = drop
        heads = torch.bmm(weights, v).view(n, h, length, d)
        merged = self._rows(heads, seq_first).reshape(-1, self.embed_dim)
        self._shapes = (input.shape, key.shape, value.shape)
        return self.out_proj.forward(merged).view(input.shape)

    @override
    def __call__(self, input: Tensor, key: Tensor | None = None, value: Tensor | None = None) -> Tensor:
        return self.forward(input, key, value)

    def _draw(self, attention: Tensor) -> Tensor | None:
        """In training with ``dropout > 0``: the scaled 0/1 mask for the attention weights, else ``None``."""
        if not self.training or self.dropout == 0.0:
            return None
        return dropout_mask(tuple(attention.shape), self.dropout, attention, self.generator)

    def _project(
        self, query: Tensor, key: Tensor, value: Tensor, n: int, length: int, s: int, seq_first: bool
    ) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
        """The queries ``(N H, L, d)``, keys and values ``(N H, S', d)``, and the 2-D inputs to cache."""
        e, h, d = self.embed_dim, self.num_heads, self.head_dim
        weight = self.in_proj_weight.value
        bias = None if self.in_proj_bias is None else self.in_proj_bias.value
        if self._self_attention:
            rows = query.reshape(-1, e)
            packed = torch.mm(rows, weight.t()) if bias is None else torch.addmm(bias, rows, weight.t())
            grid = packed.view(length, n, 3, h, d) if seq_first else packed.view(n, length, 3, h, d)
            perm = (1, 2, 0, 3) if seq_first else (0, 2, 1, 3)
            q4, k4, v4 = (grid.select(2, i).permute(perm) for i in range(3))
            inputs = {"x": rows}
        else:
            projected = []
            inputs = {}
            for i, (name, tensor, size) in enumerate(
                (("x", query, length), ("xk", key, s), ("xv", value, s))
            ):
                rows = tensor.reshape(-1, e)
                w = weight[i * e : (i + 1) * e]
                out = (
                    torch.mm(rows, w.t())
                    if bias is None
                    else torch.addmm(bias[i * e : (i + 1) * e], rows, w.t())
                )
                projected.append(self._heads(out, n, size, seq_first))
                inputs[name] = rows
            q4, k4, v4 = projected
        q = q4.reshape(n * h, length, d)
        return q, self._extend(k4, self.bias_k), self._extend(v4, self.bias_v), inputs

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Add the gradients of ``in_proj_weight``, ``in_proj_bias``, ``bias_k``, ``bias_v`` and
        ``out_proj``; return the input gradient (for self-attention the sum of the query, key and
        value paths; for cross-attention the query's, with ``grad_key`` and ``grad_value`` set)."""
        grad_input = self._backward(grad_output, need_input=True)
        assert grad_input is not None
        return grad_input

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Add the parameter gradients as ``backward`` does; skip the input gradients."""
        self._backward(grad_output, need_input=False)

    def _backward(self, grad_output: Tensor, need_input: bool) -> Tensor | None:
        if self._shapes is None or "attention" not in self._cache:
            raise RuntimeError(f"{self!r}: backward called before forward")
        query_shape, key_shape, _ = self._shapes
        self._check_floating(grad_output, "grad_output")
        self._check_grad_output(grad_output, query_shape)
        cache = self._cache
        q, k, v, attention = cache["q"], cache["k"], cache["v"], cache["attention"]
        drop = cache.get("drop")
        unbatched = len(query_shape) == 2
        seq_first = self._seq_first(unbatched)
        n, length = q.shape[0] // self.num_heads, q.shape[1]
        s = key_shape[0] if unbatched or seq_first else key_shape[1]
        grad_heads = self._heads(
            self.out_proj.backward(grad_output.reshape(-1, self.embed_dim)), n, length, seq_first
        )
        grad_o = grad_heads.reshape(n * self.num_heads, length, self.head_dim)
        weights = attention if drop is None else attention * drop
        grad_v = torch.bmm(weights.transpose(1, 2), grad_o)
        grad_a = torch.bmm(grad_o, v.transpose(1, 2))
        if drop is not None:
            grad_a.mul_(drop)
        # Softmax Jacobian: dS = A * (dA - sum(dA * A)), then the 1/sqrt(d) of the scores.
        grad_s = grad_a.sub_((grad_a * attention).sum(-1, keepdim=True)).mul_(attention)
        grad_s.mul_(1.0 / math.sqrt(self.head_dim))
        grad_q = torch.bmm(grad_s, k)
        grad_k = torch.bmm(grad_s.transpose(1, 2), q)
        grads = self._per_head(grad_q, grad_k, grad_v, n, s)
        return self._input_grads(grads, seq_first, need_input)

    def _per_head(
        self, grad_q: Tensor, grad_k: Tensor, grad_v: Tensor, n: int, s: int
    ) -> tuple[Tensor, Tensor, Tensor]:
        """The ``(N, H, length, d)`` gradients of the projected queries, keys, values; adds bias_k/v's."""
        h, d = self.num_heads, self.head_dim
        size = grad_k.shape[1]  # S plus the appended keys
        grad_k4, grad_v4 = grad_k.view(n, h, size, d), grad_v.view(n, h, size, d)
        for grad, extra in ((grad_k4, self.bias_k), (grad_v4, self.bias_v)):
            if extra is not None:
                extra.grad.add_(grad[:, :, s].sum(0).view(1, 1, self.embed_dim))
        return grad_q.view(n, h, grad_q.shape[1], d), grad_k4[:, :, :s], grad_v4[:, :, :s]

    def _input_grads(
        self, grads: tuple[Tensor, Tensor, Tensor], seq_first: bool, need_input: bool
    ) -> Tensor | None:
        """Accumulate the input projection's gradients; return the input gradient if ``need_input``."""
        e = self.embed_dim
        weight = self.in_proj_weight
        bias = self.in_proj_bias
        shapes = self._shapes
        assert shapes is not None  # set by forward, checked by _backward
        if self._self_attention:
            # x feeds q, k and v: one (rows, 3E) gradient, one product for the weight, one for x.
            packed = torch.stack([self._rows(grad, seq_first) for grad in grads], dim=-3).view(-1, 3 * e)
            weight.grad.add_(torch.mm(packed.t(), self._cache["x"]))
            if bias is not None:
                bias.grad.add_(packed.sum(0))
            return torch.mm(packed, weight.value).view(shapes[0]) if need_input else None
        results = []
        for i, (grad, name, shape) in enumerate(zip(grads, ("x", "xk", "xv"), shapes, strict=True)):
            rows = self._rows(grad, seq_first).reshape(-1, e)
            weight.grad[i * e : (i + 1) * e].add_(torch.mm(rows.t(), self._cache[name]))
            if bias is not None:
                bias.grad[i * e : (i + 1) * e].add_(rows.sum(0))
            if need_input:
                results.append(torch.mm(rows, weight.value[i * e : (i + 1) * e]).view(shape))
        if not need_input:
            return None
        self.grad_key, self.grad_value = results[1], results[2]
        return results[0]

    @override
    def __repr__(self) -> str:
        # One line, as in error messages; out_proj is a detail of the layer (torch prints it).
        return f"MultiheadAttention({self.extra_repr()})"

    @override
    def extra_repr(self) -> str:
        settings = [f"embed_dim={self.embed_dim}", f"num_heads={self.num_heads}"]
        for name, default in (
            ("dropout", 0.0),
            ("bias", True),
            ("add_bias_kv", False),
            ("add_zero_attn", False),
            ("batch_first", False),
            ("is_causal", False),
        ):
            if getattr(self, name) != default:
                settings.append(f"{name}={getattr(self, name)}")
        return ", ".join(settings)


def encoder_block(
    d_model: int,
    nhead: int,
    dim_feedforward: int = 2048,
    dropout: float = 0.1,
    *,
    batch_first: bool = False,
    is_causal: bool = False,
    layer_norm_eps: float = 1e-5,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Sequential:
    r"""A pre-norm transformer encoder block, composed of parts: what ``torch.nn.TransformerEncoderLayer(
    norm_first=True, activation="gelu")`` computes.

    :math:`h = x + \mathrm{Dropout}(\mathrm{MHA}(\mathrm{LN}_1(x)))`, then
    :math:`y = h + \mathrm{Dropout}(W_2\, \mathrm{GELU}(W_1 \mathrm{LN}_2(h) + b_1) + b_2)`, as
    ``Sequential(Residual(Sequential(LayerNorm, MultiheadAttention, Dropout)),
    Residual(Sequential(LayerNorm, Linear, GELU, Linear, Dropout)))``. Each part has its own
    backward; the block is no class of its own. A key padding mask goes on the attention module,
    ``block[0].body[1].key_padding_mask``.

    Args:
        d_model: the model dimension :math:`E`.
        nhead: the number of attention heads.
        dim_feedforward: the hidden size of the feed-forward part. Default: 2048.
        dropout: the dropout probability after the attention and after the feed-forward part
            (torch's encoder layer also drops inside the attention and after the activation; for
            ``dropout=0`` the two agree exactly). Default: 0.1.
        batch_first: inputs are :math:`(N, L, E)` instead of :math:`(L, N, E)`. Default: ``False``.
        is_causal: each position attends only to itself and the positions before it. Default: ``False``.
        layer_norm_eps: the ``eps`` of both ``LayerNorm`` layers. Default: 1e-5.
        generator: random generator for the initial values and the dropout masks. Default: torch's global one.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Returns:
        The ``Sequential``; its state names are those of the composition (``0.body.1.in_proj_weight``, ...).

    Example:
        >>> block = encoder_block(16, 4, 32, dropout=0.0, batch_first=True,
        ...                       generator=torch.Generator().manual_seed(0))
        >>> block
        Sequential(
          (0): Residual(
            (body): Sequential(
              (0): LayerNorm((16,), eps=1e-05, elementwise_affine=True, bias=True)
              (1): MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
              (2): Dropout(p=0.0, inplace=False)
            )
          )
          (1): Residual(
            (body): Sequential(
              (0): LayerNorm((16,), eps=1e-05, elementwise_affine=True, bias=True)
              (1): Linear(in_features=16, out_features=32)
              (2): GELU(approximate='none')
              (3): Linear(in_features=32, out_features=16)
              (4): Dropout(p=0.0, inplace=False)
            )
          )
        )
        >>> x = torch.randn(2, 5, 16)
        >>> block(x).shape, block.backward(torch.ones(2, 5, 16)).shape
        (torch.Size([2, 5, 16]), torch.Size([2, 5, 16]))
    """
    attention = MultiheadAttention(
        d_model,
        nhead,
        batch_first=batch_first,
        is_causal=is_causal,
        generator=generator,
        device=device,
        dtype=dtype,
    )
    return Sequential(
        Residual(
            Sequential(
                LayerNorm(d_model, eps=layer_norm_eps, device=device, dtype=dtype),
                attention,
                Dropout(dropout, generator=generator),
            )
        ),
        Residual(
            Sequential(
                LayerNorm(d_model, eps=layer_norm_eps, device=device, dtype=dtype),
                Linear(d_model, dim_feedforward, generator=generator, device=device, dtype=dtype),
                GELU(),
                Linear(dim_feedforward, d_model, generator=generator, device=device, dtype=dtype),
                Dropout(dropout, generator=generator),
            )
        ),
    )
