"""Embedding, PositionalEmbedding and the shape modules: what the registry cannot see.

Refusals with their exact messages, the padding row, int32 indices, torch's state dicts and
constructor arguments, integer inputs in ``gradcheck`` and ``Sequential``, and the torch.nn twins
of a small vision-transformer-like network.
"""

import re

import pytest
import torch
from torch import nn

import minitorch_nn as mn
from minitorch_nn._types import Tensor
from minitorch_nn.interop import TorchMean, TorchPermute, TorchPositionalEmbedding, from_torch, to_torch


def _raises(error: type[Exception], message: str) -> pytest.RaisesExc[Exception]:
    return pytest.raises(error, match="^" + re.escape(message) + "$")


# Refusals.


def test_embedding_refuses_float_indices() -> None:
    with _raises(
        TypeError, "Embedding(4, 3): expected integer indices (torch.int64 or torch.int32), got torch.float64"
    ):
        mn.Embedding(4, 3)(torch.zeros(2))


@pytest.mark.parametrize("bad", [4, -1])
def test_embedding_refuses_an_index_out_of_range_naming_it(bad: int) -> None:
    with _raises(
        ValueError, f"Embedding(4, 3): expected indices in [0, 4), got {bad} (in indices of shape (2, 2))"
    ):
        mn.Embedding(4, 3)(torch.tensor([[0, 1], [bad, 2]]))


@pytest.mark.parametrize(
    ("padding_idx", "error", "message"),
    [
        (4, ValueError, "Embedding: expected padding_idx in [-4, 4) (num_embeddings=4), got 4"),
        (-5, ValueError, "Embedding: expected padding_idx in [-4, 4) (num_embeddings=4), got -5"),
        (1.0, TypeError, "Embedding: expected padding_idx to be an int or None, got float"),
    ],
)
def test_embedding_refuses_a_bad_padding_idx(
    padding_idx: object, error: type[Exception], message: str
) -> None:
    with _raises(error, message):
        mn.Embedding(4, 3, padding_idx)  # type: ignore[arg-type]  # bad values are the point


def test_embedding_refuses_grad_output_of_another_shape() -> None:
    table = mn.Embedding(4, 3)
    table(torch.tensor([0, 1]))
    with _raises(ValueError, "Embedding(4, 3): expected grad_output of shape (2, 3), got (2, 4)"):
        table.backward(torch.zeros(2, 4))


def test_positional_embedding_refuses_a_sequence_longer_than_its_table() -> None:
    with _raises(
        ValueError,
        "PositionalEmbedding(4, 3, batch_first=True): expected a sequence of at most 4 positions, "
        "got L = 5 in an input of shape (2, 5, 3)",
    ):
        mn.PositionalEmbedding(4, 3)(torch.zeros(2, 5, 3))


def test_positional_embedding_refuses_a_wrong_embedding_size() -> None:
    with _raises(
        ValueError,
        "PositionalEmbedding(4, 3, batch_first=False): expected input of shape (L, N, E) or (L, E) "
        "with E = 3, got (2, 2, 2)",
    ):
        mn.PositionalEmbedding(4, 3, batch_first=False)(torch.zeros(2, 2, 2))


@pytest.mark.parametrize(
    ("module", "input", "error", "message"),
    [
        (
            mn.Unflatten(1, (2, 3)),
            torch.zeros(4, 5),
            ValueError,
            "Unflatten(dim=1, unflattened_size=(2, 3)): expected dimension 1 of size 6, "
            "got 5 in an input of shape (4, 5)",
        ),
        (
            mn.Permute([0, 2, 1]),
            torch.zeros(4, 5),
            ValueError,
            "Permute(dims=[0, 2, 1]): expected an input with 3 dimensions, got (4, 5)",
        ),
        (
            mn.Select(1, -4),
            torch.zeros(2, 3, 5),
            ValueError,
            "Select(dim=1, index=-4): expected dimension 1 of size at least 4, got (2, 3, 5)",
        ),
        (
            mn.Select(3, 0),
            torch.zeros(2, 3, 5),
            ValueError,
            "Select(dim=3, index=0): expected an input with at least 4 dimensions, got (2, 3, 5)",
        ),
        (
            mn.Mean(1),
            torch.zeros(2, 0, 5),
            ValueError,
            "Mean(dim=1, keepdim=False): expected a non-empty dimension 1 (a mean over no values is NaN), "
            "got (2, 0, 5)",
        ),
        (
            mn.Mean(1),
            torch.zeros(2, 3, dtype=torch.int64),
            TypeError,
            "Mean(dim=1, keepdim=False): expected a floating-point input, got torch.int64",
        ),
    ],
)
def test_shape_modules_refuse_inputs_they_cannot_take(
    module: mn.Module, input: Tensor, error: type[Exception], message: str
) -> None:
    with _raises(error, message):
        module(input)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: mn.Permute([0, 0, 1]),
            "Permute: expected dims to be a permutation of range(3), got [0, 0, 1]",
        ),
        (
            lambda: mn.Permute([0, 3, 1]),
            "Permute: expected dims to be a permutation of range(3), got [0, 3, 1]",
        ),
        (
            lambda: mn.Unflatten(1, (-1, -1)),
            "Unflatten: expected sizes >= 0 with at most one -1 in unflattened_size, got (-1, -1)",
        ),
    ],
)
def test_shape_modules_refuse_bad_settings(make: object, message: str) -> None:
    with _raises(ValueError, message):
        make()  # type: ignore[operator]  # a factory


# The padding row, int32 indices, torch's state.


def test_padding_row_starts_at_zero_and_gets_no_gradient(generator: torch.Generator) -> None:
    table = mn.Embedding(6, 4, padding_idx=-2, generator=generator)
    assert table.padding_idx == 4 and torch.count_nonzero(table.weight.value[4]) == 0
    indices = torch.tensor([[4, 1, 4], [0, 4, 1]])
    table(indices)
    table.backward(torch.ones(2, 3, 4))
    assert torch.count_nonzero(table.weight.grad[4]) == 0
    # the other rows: how often each index was looked up (by hand)
    assert table.weight.grad[:, 0].tolist() == [1.0, 2.0, 0.0, 0.0, 0.0, 0.0]


def test_int32_indices_give_what_int64_ones_give(generator: torch.Generator) -> None:
    table = mn.Embedding(7, 3, generator=generator)
    indices = torch.randint(0, 7, (4, 5), generator=generator)
    v = torch.randn(4, 5, 3, generator=generator)
    expected = table(indices).clone()
    table.backward(v)
    grad = table.weight.grad.clone()
    table.zero_grad()
    assert torch.equal(table(indices.int()), expected)
    table.backward(v)
    assert torch.equal(table.weight.grad, grad)


def test_torch_embedding_state_dict_loads(generator: torch.Generator) -> None:
    theirs = nn.Embedding(10, 3, padding_idx=2)
    ours = mn.Embedding(10, 3, padding_idx=2)
    ours.load_state_dict(theirs.state_dict())
    indices = torch.randint(0, 10, (3, 4), generator=generator)
    torch.testing.assert_close(ours(indices), theirs(indices).detach(), rtol=0, atol=0)


def test_embedding_initialisation_is_torchs() -> None:
    # torch draws the weight from N(0, 1) with the global generator; with one seed both draw the same.
    torch.manual_seed(3)
    theirs = nn.Embedding(8, 5, padding_idx=1)
    torch.manual_seed(3)
    ours = mn.Embedding(8, 5, padding_idx=1)
    assert torch.equal(ours.weight.value, theirs.weight.detach())


def test_torch_embedding_with_default_arguments_converts_and_other_values_are_refused() -> None:
    theirs = nn.Embedding(10, 3, None, None, 2.0, False, False)
    ours = from_torch(theirs)
    assert isinstance(ours, mn.Embedding) and repr(ours) == "Embedding(10, 3)"
    assert isinstance(to_torch(mn.Embedding(10, 3, padding_idx=-1)), nn.Embedding)
    assert to_torch(mn.Embedding(10, 3, padding_idx=-1)).padding_idx == 9
    with pytest.raises(ValueError, match=r"sparse=False \(gradients are dense tensors here\), got True"):
        from_torch(nn.Embedding(10, 3, sparse=True))


# Integer inputs in gradcheck and in a network.


class _WrongEmbedding(mn.Embedding):
    def accumulate_grad(self, grad_output: Tensor) -> None:
        super().accumulate_grad(2 * grad_output)

    def backward(self, grad_output: Tensor) -> Tensor:
        return super().backward(2 * grad_output)


def test_gradcheck_takes_indices_and_checks_the_weight(generator: torch.Generator) -> None:
    indices = torch.tensor([[0, 1, 1], [2, 1, 0]])
    assert mn.gradcheck(mn.Embedding(3, 2, dtype=torch.float64), indices, generator=generator)
    with pytest.raises(mn.GradcheckError, match=r"gradient of 'weight' disagrees"):
        mn.gradcheck(_WrongEmbedding(3, 2, dtype=torch.float64), indices, generator=generator)


def test_sequential_starting_with_an_embedding_runs_backward_and_accumulate_grad(
    generator: torch.Generator,
) -> None:
    model = mn.Sequential(
        mn.Embedding(5, 4, generator=generator), mn.Mean(1), mn.Linear(4, 2, generator=generator)
    )
    indices = torch.randint(0, 5, (3, 6), generator=generator)
    model(indices)
    grad_input = model.backward(torch.ones(3, 2))
    assert grad_input.shape == (3, 6) and torch.count_nonzero(grad_input) == 0
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.accumulate_grad(torch.ones(3, 2))
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads, strict=True))


def test_fit_trains_a_network_that_starts_with_an_embedding(generator: torch.Generator) -> None:
    model = mn.Sequential(
        mn.Embedding(4, 3, generator=generator), mn.Flatten(), mn.Linear(6, 2, generator=generator)
    )
    loss = mn.CrossEntropyLoss()
    indices = torch.randint(0, 4, (16, 2), generator=generator)
    target = indices[:, 0] % 2
    before = loss(model(indices), target).item()
    mn.train.fit(
        model, loss, mn.SGD(model.parameters(), lr=0.5), (indices, target),
        epochs=10, batch_size=8, generator=generator, progress=False,
    )  # fmt: skip
    assert loss(model(indices), target).item() < before


# The torch.nn twins of a small vision transformer's parts.


def _patches_network(g: torch.Generator) -> mn.Sequential:
    return mn.Sequential(
        mn.Conv2d(1, 4, 4, stride=4, generator=g),  # (N, 4, 2, 2)
        mn.Flatten(2),  # (N, 4, 4)
        mn.Permute([0, 2, 1]),  # (N, 4 tokens, 4)
        mn.PositionalEmbedding(6, 4, generator=g),
        mn.Linear(4, 4, generator=g),
        mn.Mean(1),
        mn.Linear(4, 3, generator=g),
    ).to(dtype=torch.float64)


def test_patch_network_converts_to_a_runnable_torch_network_and_back(generator: torch.Generator) -> None:
    model = _patches_network(generator)
    twin = to_torch(model)
    assert isinstance(twin[2], TorchPermute) and isinstance(twin[3], TorchPositionalEmbedding)
    assert isinstance(twin[5], TorchMean)
    assert list(twin.state_dict()) == list(model.state_dict())
    x = torch.randn(2, 1, 8, 8, generator=generator)
    out = twin(x)
    torch.testing.assert_close(out, model(x), rtol=1e-12, atol=1e-12)
    v = torch.randn(out.shape, generator=generator)
    expected = torch.autograd.grad((out * v).sum(), list(twin.parameters()))
    model.backward(v)
    for (name, param), grad in zip(model.named_parameters(), expected, strict=True):
        torch.testing.assert_close(param.grad, grad, rtol=1e-10, atol=1e-12, msg=name)
    back = from_torch(twin)
    assert repr(back) == repr(model)
    torch.testing.assert_close(back(x), model(x), rtol=0, atol=0)


def test_last_time_step_network_converts(generator: torch.Generator) -> None:
    model = mn.Sequential(mn.Unflatten(1, (4, 3)), mn.Select(1, -1), mn.Linear(3, 2, generator=generator))
    twin = to_torch(model)
    assert isinstance(twin[0], nn.Unflatten)
    x = torch.randn(5, 12, generator=generator)
    torch.testing.assert_close(twin(x), model(x))
    assert repr(from_torch(twin)) == repr(model)


# torch's other constructor arguments.


@pytest.mark.parametrize(
    "settings",
    [
        {"max_norm": 1.0},
        {"max_norm": 0.5, "norm_type": 1.0, "padding_idx": 2},
        {"scale_grad_by_freq": True},
        {"scale_grad_by_freq": True, "padding_idx": 0, "max_norm": 2.0},
    ],
    ids=str,
)
def test_torch_embedding_settings_give_torchs_output_weight_and_gradient(
    settings: dict[str, object], generator: torch.Generator
) -> None:
    theirs = nn.Embedding(6, 4, **settings).double()  # type: ignore[arg-type]  # torch's own arguments
    with torch.no_grad():
        theirs.weight.mul_(3)  # rows with norms above max_norm
    ours = from_torch(theirs)
    assert isinstance(ours, mn.Embedding)
    indices = torch.tensor([[0, 2, 2, 5], [2, 1, 0, 2]])
    v = torch.randn(2, 4, 4, generator=generator, dtype=torch.float64)
    out = theirs(indices)
    (expected,) = torch.autograd.grad(out, [theirs.weight], v)
    torch.testing.assert_close(ours(indices), out.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ours.weight.value, theirs.weight.detach(), rtol=1e-12, atol=1e-12)
    ours.backward(v)
    torch.testing.assert_close(ours.weight.grad, expected, rtol=1e-12, atol=1e-12)
    assert repr(ours) == repr(theirs)


def test_initial_weight_is_copied_from_weight_argument() -> None:
    initial = torch.arange(6.0).view(3, 2)
    table = mn.Embedding(3, 2, 0, _weight=initial)
    assert torch.equal(table.weight.value, initial) and table.weight.value is not initial
    with _raises(ValueError, "Embedding: expected _weight of shape (3, 2), got (2, 3)"):
        mn.Embedding(3, 2, _weight=initial.view(2, 3))


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"max_norm": 0.0}, ValueError, "Embedding: expected max_norm > 0, got 0.0"),
        ({"norm_type": float("nan")}, ValueError, "Embedding: expected norm_type > 0, got nan"),
        ({"max_norm": "1"}, TypeError, "Embedding: expected max_norm to be a number, got str"),
        (
            {"scale_grad_by_freq": 1},
            TypeError,
            "Embedding: expected scale_grad_by_freq to be a bool, got int",
        ),
    ],
)
def test_embedding_refuses_bad_norm_settings(
    settings: dict[str, object], error: type[Exception], message: str
) -> None:
    with _raises(error, message):
        mn.Embedding(4, 3, **settings)  # type: ignore[arg-type]  # bad values are the point
