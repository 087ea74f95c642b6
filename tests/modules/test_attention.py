"""MultiheadAttention and encoder_block against torch.nn: outputs, weights, gradients, masks, errors."""

import re

import pytest
import torch
from torch import nn

import minitorch_nn as mn
from minitorch_nn._types import Tensor
from minitorch_nn.interop import from_torch

E, H, N, L, S = 8, 2, 3, 5, 4


def _pair(**settings: bool) -> tuple[nn.MultiheadAttention, mn.MultiheadAttention]:
    """torch's module (seeded) and ours holding its state, loaded by name."""
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(E, H, **settings)
    ours = mn.MultiheadAttention(E, H, **settings)  # type: ignore[arg-type]  # bool settings only
    ours.load_state_dict({k: v.detach().clone() for k, v in theirs.state_dict().items()})
    return theirs, ours


def _input(shape: tuple[int, ...], g: torch.Generator) -> Tensor:
    return torch.randn(shape, generator=g).requires_grad_()


def _check_gradients(
    theirs: nn.Module, ours: mn.Module, out: Tensor, leaves: list[Tensor], v: Tensor, grad_input: Tensor
) -> tuple[Tensor, ...]:
    params = list(theirs.named_parameters())
    grads = torch.autograd.grad(out, [*leaves, *(p for _, p in params)], v)
    torch.testing.assert_close(grad_input, grads[0], rtol=1e-10, atol=1e-12)
    ours_params = dict(ours.named_parameters())
    for (name, _), grad in zip(params, grads[len(leaves) :], strict=True):
        torch.testing.assert_close(ours_params[name].grad, grad, rtol=1e-10, atol=1e-12, msg=name)
    return grads


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_self_attention_matches_torch(batch_first: bool, bias: bool, generator: torch.Generator) -> None:
    theirs, ours = _pair(batch_first=batch_first, bias=bias)
    x = _input((N, L, E) if batch_first else (L, N, E), generator)
    out, weights = theirs(x, x, x, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(ours(x.detach()), out.detach(), rtol=1e-12, atol=1e-12)
    assert ours.attention_weights is not None
    torch.testing.assert_close(ours.attention_weights, weights.detach(), rtol=1e-12, atol=1e-12)
    v = torch.randn(out.shape, generator=generator)
    _check_gradients(theirs, ours, out, [x], v, ours.backward(v))


@pytest.mark.parametrize("extra", [{}, {"add_bias_kv": True}, {"add_zero_attn": True}])
def test_cross_attention_matches_torch(extra: dict[str, bool], generator: torch.Generator) -> None:
    theirs, ours = _pair(batch_first=True, **extra)
    q, k, v = _input((N, L, E), generator), _input((N, S, E), generator), _input((N, S, E), generator)
    out, _ = theirs(q, k, v)
    torch.testing.assert_close(ours(q.detach(), k.detach(), v.detach()), out.detach())
    g = torch.randn(out.shape, generator=generator)
    grad_query = ours.backward(g)
    expected = _check_gradients(theirs, ours, out, [q, k, v], g, grad_query)
    torch.testing.assert_close(ours.grad_key, expected[1])
    torch.testing.assert_close(ours.grad_value, expected[2])


def test_unbatched_matches_torch(generator: torch.Generator) -> None:
    theirs, ours = _pair()
    x = _input((L, E), generator)
    out, _ = theirs(x, x, x)
    torch.testing.assert_close(ours(x.detach()), out.detach())
    assert ours.attention_weights is not None and ours.attention_weights.shape == (H, L, L)
    v = torch.randn(out.shape, generator=generator)
    _check_gradients(theirs, ours, out, [x], v, ours.backward(v))


def _padding(dtype: torch.dtype) -> Tensor:
    mask = torch.zeros(N, L, dtype=torch.bool)
    mask[0, -2:] = mask[2, 1] = True
    return mask if dtype == torch.bool else torch.zeros(N, L).masked_fill(mask, -1e4).to(dtype)


@pytest.mark.parametrize("dtype", [torch.bool, torch.float64])
def test_key_padding_mask_matches_torch(dtype: torch.dtype, generator: torch.Generator) -> None:
    theirs, ours = _pair(batch_first=True)
    x = _input((N, L, E), generator)
    mask = _padding(dtype)
    out, _ = theirs(x, x, x, key_padding_mask=mask)
    ours.key_padding_mask = mask
    torch.testing.assert_close(ours(x.detach()), out.detach())
    v = torch.randn(out.shape, generator=generator)
    _check_gradients(theirs, ours, out, [x], v, ours.backward(v))


@pytest.mark.parametrize("stacked", [False, True])
def test_attn_mask_matches_torch(stacked: bool, generator: torch.Generator) -> None:
    theirs, ours = _pair()
    x = _input((L, N, E), generator)
    mask = torch.rand((N * H, L, L) if stacked else (L, L), generator=generator) < 0.4
    mask[..., 0] = False
    out, _ = theirs(x, x, x, attn_mask=mask)
    ours.attn_mask = mask
    torch.testing.assert_close(ours(x.detach()), out.detach())
    v = torch.randn(out.shape, generator=generator)
    _check_gradients(theirs, ours, out, [x], v, ours.backward(v))


def test_is_causal_matches_torchs_causal_mask(generator: torch.Generator) -> None:
    theirs, _ = _pair(batch_first=True)
    ours = mn.MultiheadAttention(E, H, batch_first=True, is_causal=True)
    ours.load_state_dict({k: v.detach().clone() for k, v in theirs.state_dict().items()})
    x = _input((N, L, E), generator)
    mask = nn.Transformer.generate_square_subsequent_mask(L)
    out, _ = theirs(x, x, x, attn_mask=mask, is_causal=True, average_attn_weights=False)
    torch.testing.assert_close(ours(x.detach()), out.detach())
    assert ours.attention_weights is not None
    assert torch.equal(ours.attention_weights.triu(1), torch.zeros(N, H, L, L))
    v = torch.randn(out.shape, generator=generator)
    _check_gradients(theirs, ours, out, [x], v, ours.backward(v))


def test_a_query_with_every_key_masked_is_refused() -> None:
    attention = mn.MultiheadAttention(E, H, batch_first=True)
    mask = torch.zeros(N, L, dtype=torch.bool)
    mask[1] = True
    attention.key_padding_mask = mask
    message = (
        "MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True): every key is masked for query 0 "
        "of sample 1 (head 0); its weights would be 0/0 (torch returns NaN): leave at least one key per "
        "query unmasked"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        attention(torch.zeros(N, L, E))


def test_a_query_without_keys_is_refused() -> None:
    attention = mn.MultiheadAttention(E, H, batch_first=True)
    message = (
        "MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True): expected at least one key, got key "
        "of shape (3, 0, 8); a query's weights over no keys are 0/0 (torch returns zeros)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        attention(torch.zeros(N, L, E), torch.zeros(N, 0, E), torch.zeros(N, 0, E))
    assert attention(torch.zeros(N, 0, E)).shape == (N, 0, E)  # no queries: nothing to attend


def test_masks_are_checked() -> None:
    attention = mn.MultiheadAttention(E, H)
    attention.key_padding_mask = torch.zeros(N, L + 1, dtype=torch.bool)
    with pytest.raises(
        ValueError, match=re.escape(f"expected key_padding_mask of shape ({N}, {L}), got ({N}, {L + 1})")
    ):
        attention(torch.zeros(L, N, E))
    attention.key_padding_mask = torch.zeros(N, L, dtype=torch.int64)
    with pytest.raises(
        TypeError,
        match=re.escape("expected key_padding_mask of dtype bool or floating point, got torch.int64"),
    ):
        attention(torch.zeros(L, N, E))
    attention.key_padding_mask = None
    attention.attn_mask = torch.zeros(2, L, L, dtype=torch.bool)
    with pytest.raises(
        ValueError,
        match=re.escape(f"expected attn_mask of shape ({L}, {L}) or ({N * H}, {L}, {L}), got (2, 5, 5)"),
    ):
        attention(torch.zeros(L, N, E))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: mn.MultiheadAttention(6, 4),
            ValueError,
            "MultiheadAttention: expected embed_dim divisible by num_heads, got embed_dim=6, num_heads=4",
        ),
        (
            lambda: mn.MultiheadAttention(8, 2, kdim=4),
            ValueError,
            "MultiheadAttention: expected kdim None or embed_dim=8, got 4; attention with torch's packed "
            "projection (keys and values of the query's size) is what is supported",
        ),
        (
            lambda: mn.MultiheadAttention(8, 0),
            ValueError,
            "MultiheadAttention: expected num_heads > 0, got 0",
        ),
        (
            lambda: mn.MultiheadAttention(8, 2, dropout=1.5),
            ValueError,
            "MultiheadAttention: expected dropout in [0, 1], got 1.5",
        ),
        (
            lambda: mn.MultiheadAttention(8, 2, batch_first=1),  # type: ignore[arg-type]  # the wrong type
            TypeError,
            "MultiheadAttention: expected batch_first to be a bool, got int",
        ),
    ],
)
def test_constructor_errors(make: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        make()  # type: ignore[operator]  # a constructor call


def test_input_errors() -> None:
    attention = mn.MultiheadAttention(E, H, batch_first=True)
    name = "MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)"
    with pytest.raises(
        ValueError, match=re.escape(f"{name}: expected input of shape (N, L, 8) or (L, 8), got (3, 5, 7)")
    ):
        attention(torch.zeros(3, 5, 7))
    with pytest.raises(
        TypeError, match=re.escape(f"{name}: expected a floating-point input, got torch.int64")
    ):
        attention(torch.zeros(3, 5, 8, dtype=torch.int64))
    with pytest.raises(
        TypeError, match=re.escape(f"{name}: expected input of dtype torch.float64, got torch.float32")
    ):
        attention(torch.zeros(3, 5, 8, dtype=torch.float32))
    with pytest.raises(RuntimeError, match=re.escape(f"{name}: backward called before forward")):
        attention.backward(torch.zeros(3, 5, 8))
    with pytest.raises(
        ValueError, match=re.escape(f"{name}: expected both key and value, or neither (self-attention)")
    ):
        attention(torch.zeros(3, 5, 8), torch.zeros(3, 5, 8))
    attention(torch.zeros(3, 5, 8))
    with pytest.raises(
        ValueError, match=re.escape(f"{name}: expected grad_output of shape (3, 5, 8), got (3, 5)")
    ):
        attention.backward(torch.zeros(3, 5))


def test_dropout_one_drops_every_weight_and_eval_drops_none(generator: torch.Generator) -> None:
    attention = mn.MultiheadAttention(E, H, dropout=1.0, generator=generator)
    assert attention.out_proj.bias is not None
    attention.out_proj.bias.value.normal_(generator=generator)
    x = torch.randn(L, N, E, generator=generator)
    torch.testing.assert_close(attention(x), attention.out_proj.bias.value.expand(L, N, E))
    eval_out = attention.eval()(x)
    assert attention.attention_weights is not None
    assert not torch.allclose(eval_out, attention.out_proj.bias.value.expand(L, N, E))


def test_accumulate_grad_adds_what_backward_adds(generator: torch.Generator) -> None:
    attention = mn.MultiheadAttention(E, H, generator=generator)
    x, v = torch.randn(L, N, E, generator=generator), torch.randn(L, N, E, generator=generator)
    attention(x)
    attention.backward(v)
    expected = [p.grad.clone() for p in attention.parameters()]
    attention.zero_grad()
    attention.accumulate_grad(v)
    for param, grad in zip(attention.parameters(), expected, strict=True):
        torch.testing.assert_close(param.grad, grad, rtol=0, atol=0)


def test_shared_copy_shares_parameters_and_sums_gradients(generator: torch.Generator) -> None:
    attention = mn.MultiheadAttention(E, H, generator=generator)
    twin = attention.shared_copy()
    assert (
        twin.in_proj_weight is attention.in_proj_weight and twin.out_proj.weight is attention.out_proj.weight
    )
    x1, x2 = torch.randn(L, N, E, generator=generator), torch.randn(L, N, E, generator=generator)
    v = torch.randn(L, N, E, generator=generator)
    attention(x1)
    twin(x2)  # its own caches: the first backward still sees x1
    attention.backward(v)
    twin.backward(v)
    total = [p.grad.clone() for p in attention.parameters()]
    reference = mn.MultiheadAttention(E, H)
    reference.load_state_dict(attention.state_dict())
    for x in (x1, x2):
        reference(x)
        reference.backward(v)
    for param, grad in zip(reference.parameters(), total, strict=True):
        torch.testing.assert_close(param.grad, grad)


def test_torch_state_dict_loads_with_torch_names() -> None:
    theirs = nn.MultiheadAttention(E, H, add_bias_kv=True)
    ours = mn.MultiheadAttention(E, H, add_bias_kv=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.load_state_dict(theirs.state_dict()) == ([], [], [])


# encoder_block against torch.nn.TransformerEncoderLayer(norm_first=True, activation="gelu") ------

_NAMES = {
    "norm1": "0.body.0",
    "self_attn": "0.body.1",
    "norm2": "1.body.0",
    "linear1": "1.body.1",
    "linear2": "1.body.3",
}


def _ours_name(torch_name: str) -> str:
    module, rest = torch_name.split(".", 1)
    return f"{_NAMES[module]}.{rest}"


def _layer_and_block(
    batch_first: bool, causal: bool = False
) -> tuple[nn.TransformerEncoderLayer, mn.Sequential]:
    torch.manual_seed(1)
    layer = nn.TransformerEncoderLayer(
        E, H, 16, dropout=0.0, activation="gelu", batch_first=batch_first, norm_first=True
    )
    with torch.no_grad():
        for param in layer.parameters():
            param.add_(0.1 * torch.randn(param.shape))
    block = mn.encoder_block(E, H, 16, dropout=0.0, batch_first=batch_first, is_causal=causal)
    block.load_state_dict({_ours_name(k): v.detach().clone() for k, v in layer.state_dict().items()})
    return layer, block


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_encoder_block_matches_transformer_encoder_layer(
    batch_first: bool, causal: bool, generator: torch.Generator
) -> None:
    layer, block = _layer_and_block(batch_first, causal)
    x = _input((N, L, E) if batch_first else (L, N, E), generator)
    mask = nn.Transformer.generate_square_subsequent_mask(L) if causal else None
    out = layer(x, src_mask=mask, is_causal=causal)
    torch.testing.assert_close(block(x.detach()), out.detach(), rtol=1e-12, atol=1e-12)
    v = torch.randn(out.shape, generator=generator)
    grad_input = block.backward(v)
    params = list(layer.named_parameters())
    grads = torch.autograd.grad(out, [x, *(p for _, p in params)], v)
    torch.testing.assert_close(grad_input, grads[0], rtol=1e-10, atol=1e-12)
    ours = dict(block.named_parameters())
    assert sorted(ours) == sorted(_ours_name(name) for name, _ in params)
    for (name, _), grad in zip(params, grads[1:], strict=True):
        torch.testing.assert_close(ours[_ours_name(name)].grad, grad, rtol=1e-10, atol=1e-12, msg=name)


def test_encoder_block_with_key_padding_mask_matches(generator: torch.Generator) -> None:
    layer, block = _layer_and_block(batch_first=True)
    x = _input((N, L, E), generator)
    mask = _padding(torch.bool)
    out = layer(x, src_key_padding_mask=mask)
    attention = block[0].body[1]  # type: ignore[attr-defined]  # Residual's body is a Sequential
    attention.key_padding_mask = mask
    torch.testing.assert_close(block(x.detach()), out.detach())
    v = torch.randn(out.shape, generator=generator)
    torch.testing.assert_close(block.backward(v), torch.autograd.grad(out, x, v)[0])


def test_from_torch_builds_the_encoder_block_composition() -> None:
    layer, block = _layer_and_block(batch_first=True)
    converted = from_torch(layer)
    assert repr(converted) == repr(block)
    assert list(converted.state_dict()) == list(block.state_dict())
    x = torch.randn(N, L, E)
    torch.testing.assert_close(converted(x), layer(x))


def test_train_steps_give_torchs_losses(generator: torch.Generator) -> None:
    layer, block = _layer_and_block(batch_first=True)
    head_t, head = nn.Linear(E, 1), mn.Linear(E, 1)
    head.load_state_dict(head_t.state_dict())
    model_t = nn.Sequential(layer, head_t)
    model = mn.Sequential(block, head)
    opt_t, opt = torch.optim.SGD(model_t.parameters(), lr=0.1), mn.SGD(model.parameters(), lr=0.1)
    loss_fn = mn.MSELoss()
    for _ in range(5):
        x, y = torch.randn(N, L, E, generator=generator), torch.randn(N, L, 1, generator=generator)
        opt_t.zero_grad()
        loss_t = nn.functional.mse_loss(model_t(x), y)
        loss_t.backward()  # type: ignore[no-untyped-call]  # torch's Tensor.backward
        opt_t.step()
        model.zero_grad()
        loss = loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        opt.step()
        torch.testing.assert_close(loss, loss_t.detach(), rtol=1e-9, atol=0)
