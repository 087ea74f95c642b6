"""Registry cases: the attention family (see tests/cases/__init__.py).

``MultiheadAttention`` in each layout, with and without biases, causal, with a key
padding mask, with dropout, with several heads; and ``encoder_block``. The
references restate the attention in plain torch (``matmul``, ``softmax``) from the
parameters ``[in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias]``, so
torch.autograd differentiates them independently of our backward.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor
from tests.cases.core import DROPOUT_SEED, Dims, Make, ModuleCase

LN_EPS = 1e-5


@dataclass(frozen=True)
class Setting:
    """One MultiheadAttention configuration; the sizes come from ``Dims``."""

    heads: int = 2
    bias: bool = True
    batch_first: bool = False
    causal: bool = False
    padding: bool = False
    dropout: float = 0.0
    unbatched: bool = False

    def embed(self, d: Dims) -> int:
        return self.heads * d.out  # head_dim = d.out (2..5)

    def shape(self, d: Dims) -> Shape:
        length, e = d.features, self.embed(d)
        if self.unbatched:
            return (length, e)
        return (d.batch, length, e) if self.batch_first else (length, d.batch, e)


def _padding_mask(batch: int, length: int) -> Tensor:
    """True (ignore) for the last ``n % 3`` keys of sample ``n``; key 0 is never masked."""
    keys, samples = torch.arange(length), torch.arange(batch).unsqueeze(1)
    return (keys >= length - samples % 3) & (keys > 0)


def _mask_for(setting: Setting, batch: int, length: int) -> Tensor:
    """The case's key padding mask as ``(N, S)``; unbatched, sample 2's (its last two keys)."""
    return _padding_mask(3, length)[2:] if setting.unbatched else _padding_mask(batch, length)


def _make(setting: Setting) -> Make:
    def make(d: Dims, g: torch.Generator) -> mn.MultiheadAttention:
        module = mn.MultiheadAttention(
            setting.embed(d),
            setting.heads,
            setting.dropout,
            setting.bias,
            batch_first=setting.batch_first,
            is_causal=setting.causal,
            generator=g,
        )
        for param in (module.in_proj_bias, module.out_proj.bias):
            if param is not None:  # torch starts them at zero: random values test more
                param.value.copy_(torch.randn(param.value.shape, generator=g))
        if setting.padding:
            mask = _mask_for(setting, d.batch, d.features)
            module.key_padding_mask = mask[0] if setting.unbatched else mask
        if setting.dropout:
            module.generator = torch.Generator().manual_seed(DROPOUT_SEED)
        return module

    return make


def attention(x: Tensor, p: Sequence[Tensor], setting: Setting) -> Tensor:
    """Self-attention of ``x`` (the case's layout) in plain torch: projections, scores, softmax, merge."""
    heads = setting.heads
    xb = x.unsqueeze(0) if setting.unbatched else (x if setting.batch_first else x.transpose(0, 1))
    n, length, e = xb.shape
    head = e // heads
    w, rest = p[0], list(p[1:])
    b = rest.pop(0) if setting.bias else None
    out_w = rest.pop(0)
    out_b = rest.pop(0) if setting.bias else None
    q, k, v = F.linear(xb, w, b).chunk(3, dim=-1)

    def split(t: Tensor) -> Tensor:
        return t.reshape(n, length, heads, head).transpose(1, 2)  # (N, H, L, d)

    scores = split(q) @ split(k).transpose(-1, -2) / math.sqrt(head)
    if setting.causal:
        future = torch.ones(length, length, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(future, -math.inf)
    if setting.padding:
        scores = scores.masked_fill(_mask_for(setting, n, length)[:, None, None, :], -math.inf)
    weights = torch.softmax(scores, dim=-1)
    if setting.dropout:
        g = torch.Generator().manual_seed(DROPOUT_SEED)
        keep = torch.rand((n * heads, length, length), generator=g, dtype=torch.float64) >= setting.dropout
        weights = weights * (keep.double() / (1 - setting.dropout)).view(n, heads, length, length)
    merged = (weights @ split(v)).transpose(1, 2).reshape(n, length, e)
    out = F.linear(merged, out_w, out_b)
    return out[0] if setting.unbatched else (out if setting.batch_first else out.transpose(0, 1))


def _case(name: str, setting: Setting) -> ModuleCase:
    return ModuleCase(
        name,
        _make(setting),
        setting.shape,
        lambda x, p, t, d: attention(x, p, setting),
        mode_dependent=bool(setting.dropout),
    )


def _block(d: Dims, g: torch.Generator) -> mn.Sequential:
    block = mn.encoder_block(2 * d.out, 2, d.features + 1, dropout=0.0, batch_first=True, generator=g)
    for _, param in block.named_parameters():  # LayerNorm and the biases start at 1 and 0: vary them
        param.value.add_(0.1 * torch.randn(param.value.shape, generator=g))
    return block


def _block_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    e = x.shape[-1]
    setting = Setting(heads=2, batch_first=True)
    h = x + attention(F.layer_norm(x, (e,), p[0], p[1], LN_EPS), p[2:6], setting)
    inner = F.gelu(F.linear(F.layer_norm(h, (e,), p[6], p[7], LN_EPS), p[8], p[9]))
    return h + F.linear(inner, p[10], p[11])


CASES: list[ModuleCase] = [
    _case("MultiheadAttention", Setting()),
    _case("MultiheadAttention-batch_first", Setting(batch_first=True)),
    _case("MultiheadAttention-no-bias", Setting(bias=False)),
    _case("MultiheadAttention-causal", Setting(causal=True, batch_first=True)),
    _case("MultiheadAttention-key_padding_mask", Setting(padding=True)),
    _case("MultiheadAttention-unbatched", Setting(unbatched=True, heads=1)),
    _case("MultiheadAttention-unbatched-padding", Setting(unbatched=True, padding=True, causal=True)),
    _case("MultiheadAttention-dropout", Setting(dropout=0.3, batch_first=True)),
    _case("MultiheadAttention-heads", Setting(heads=4)),
    ModuleCase("encoder_block", _block, lambda d: (d.batch, d.channels + 2, 2 * d.out), _block_reference),
]
