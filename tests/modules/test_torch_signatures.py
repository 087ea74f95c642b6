"""Every public layer with a ``torch.nn`` namesake takes torch's constructor arguments, in torch's order
and with torch's defaults, and prints torch's ``repr``.

The reference is ``inspect.signature`` of the ``torch.nn`` class and the ``torch.nn`` module itself.
The differences are listed once, each with its reason: ``KEYWORD_ONLY`` (accepted, by keyword only)
and ``REFUSED`` (a value the layer refuses, with the message that says why).
"""

import inspect
import re
import warnings

import pytest
import torch

import minitorch_nn as mn

# The containers' children are not constructor settings; their signatures are another matter.
_CONTAINERS = {"Module", "Sequential"}
LAYERS = sorted(
    name
    for name in mn.__all__
    if isinstance(getattr(mn, name), type)
    and issubclass(getattr(mn, name), mn.Module)
    and hasattr(torch.nn, name)
    and name not in _CONTAINERS
)

# torch parameters accepted by keyword only: the project keeps device and dtype keyword-only (with
# generator), so that they never shift a positional call; torch code passes them by keyword.
KEYWORD_ONLY: dict[str, str] = {
    "device": "keyword-only by the project's rule; torch code passes it by keyword",
    "dtype": "keyword-only by the project's rule; torch code passes it by keyword",
}

# (layer, argument) -> (the refused value, the error, the message that says why).
REFUSED: dict[tuple[str, str], tuple[object, type[Exception], str]] = {
    ("MaxPool2d", "return_indices"): (
        True,
        ValueError,
        "MaxPool2d: expected return_indices=False (forward returns one tensor; "
        "read the indices of the last forward from the indices property), got True",
    ),
    ("Embedding", "sparse"): (
        True,
        ValueError,
        "Embedding: expected sparse=False (gradients are dense tensors here), got True",
    ),
    ("Embedding", "_freeze"): (
        True,
        ValueError,
        "Embedding: expected _freeze=False (every Parameter here is trained; leave it out of the "
        "optimizer instead), got True",
    ),
}

# The positional arguments each refused-value check needs besides the refused one.
_REQUIRED: dict[str, tuple[object, ...]] = {"MaxPool2d": (2,), "Embedding": (4, 3)}


def _torch_parameters(name: str) -> list[inspect.Parameter]:
    """torch's constructor parameters without ``self``; none for a class that keeps ``Module.__init__``
    (``Tanh``, ``Sigmoid``: torch.nn.Module refuses any argument they are given)."""
    cls = getattr(torch.nn, name)
    if cls.__init__ is torch.nn.Module.__init__:
        return []
    if issubclass(cls, torch.nn.RNNBase):
        return _recurrent_parameters(cls)
    return list(inspect.signature(cls.__init__).parameters.values())[1:]


def _recurrent_parameters(cls: type[torch.nn.RNNBase]) -> list[inspect.Parameter]:
    """torch's RNN, LSTM and GRU take ``*args, **kwargs`` and hand them to ``RNNBase.__init__`` after its
    ``mode``: their signature as torch documents it is that one, with ``nonlinearity`` fourth for RNN
    and ``proj_size`` for LSTM only."""
    parameters = list(inspect.signature(torch.nn.RNNBase.__init__).parameters.values())[2:]
    if cls is not torch.nn.LSTM:
        parameters = [p for p in parameters if p.name != "proj_size"]
    if cls is torch.nn.RNN:
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        parameters.insert(3, inspect.Parameter("nonlinearity", kind, default="tanh"))
    return parameters


def _our_parameters(name: str) -> list[inspect.Parameter]:
    return list(inspect.signature(getattr(mn, name).__init__).parameters.values())[1:]


def _positional(parameters: list[inspect.Parameter]) -> list[inspect.Parameter]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p for p in parameters if p.kind in kinds]


def test_the_layers_with_a_torch_namesake_are_all_checked() -> None:
    assert {"Linear", "Conv2d", "BatchNorm1d", "LayerNorm", "MaxPool2d", "Upsample", "Identity"} <= set(
        LAYERS
    )


@pytest.mark.parametrize("name", LAYERS)
def test_torch_positional_arguments_in_torch_order(name: str) -> None:
    theirs = [p for p in _positional(_torch_parameters(name)) if p.name not in KEYWORD_ONLY]
    ours = _positional(_our_parameters(name))
    assert [p.name for p in ours] == [p.name for p in theirs]
    # The keyword-only ones come last in torch's order, so that leaving them out shifts nothing.
    names = [p.name for p in _positional(_torch_parameters(name))]
    assert names[: len(theirs)] == [p.name for p in theirs]


@pytest.mark.parametrize("name", LAYERS)
def test_every_torch_argument_is_taken_with_torch_default(name: str) -> None:
    ours = {p.name: p for p in _our_parameters(name)}
    for parameter in _torch_parameters(name):
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            assert any(p.kind is parameter.kind for p in ours.values()), f"{name} takes no {parameter}"
            continue
        assert parameter.name in ours, f"{name} does not take torch's {parameter.name!r}"
        own = ours[parameter.name]
        assert own.default == parameter.default, parameter.name
        if parameter.name in KEYWORD_ONLY or parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            assert own.kind is inspect.Parameter.KEYWORD_ONLY, parameter.name


@pytest.mark.parametrize("name", LAYERS)
def test_our_own_arguments_are_keyword_only(name: str) -> None:
    torch_names = {p.name for p in _torch_parameters(name)}
    extra = [p for p in _our_parameters(name) if p.name not in torch_names]
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY or p.kind in variadic for p in extra), extra


@pytest.mark.parametrize("key", list(REFUSED), ids="/".join)
def test_a_refused_value_is_named_with_the_reason(key: tuple[str, str]) -> None:
    name, argument = key
    value, error, message = REFUSED[key]
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        getattr(mn, name)(*_REQUIRED.get(name, ()), **{argument: value})
    getattr(torch.nn, name)(*_REQUIRED.get(name, ()), **{argument: value})  # which torch takes


# Constructions in torch's positional order; each must give torch's repr and state names.
CONSTRUCTIONS: list[tuple[str, tuple[object, ...], dict[str, object]]] = [
    ("Linear", (3, 4), {}),
    ("Linear", (3, 4, False), {}),
    ("Conv2d", (3, 4, 3), {}),
    ("Conv2d", (4, 6, (3, 2), 2, 1, 2, 2, False, "reflect"), {}),
    ("Conv2d", (2, 2, 3, 1, "same"), {"padding_mode": "circular"}),
    ("ConvTranspose2d", (4, 2, 3, 2, 1, 1, 2, False, 1, "zeros"), {}),
    ("BatchNorm1d", (10, 0.001, None), {}),
    ("BatchNorm1d", (10, 1e-5, 0.3, False, False), {}),
    ("BatchNorm2d", (3,), {"bias": False}),
    ("LayerNorm", ([2, 3], 0.001, True, False), {}),
    ("LayerNorm", (4, 1e-5, False), {}),
    ("LayerNorm", (torch.Size([4]),), {}),
    ("MaxPool2d", (3, 2, 1, 1, False, True), {}),
    ("MaxPool2d", ((2, 3),), {}),
    ("AvgPool2d", (3, 2, 1, True, False, 2), {}),
    ("AdaptiveAvgPool2d", ((None, 2),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("Upsample", (None, 2), {}),
    ("Upsample", (None, (2, 3), "bilinear", True), {}),
    ("Upsample", ((4, 5),), {"mode": "nearest-exact"}),
    ("Dropout", (0, True), {}),
    ("Dropout", (), {}),
    ("Dropout2d", (0.2, True), {}),
    ("Flatten", (0, 2), {}),
    ("Identity", (3,), {"unused": 0.1}),
    ("ReLU", (True,), {}),
    ("ReLU", (), {}),
    ("SiLU", (True,), {}),
    ("ELU", (2, True), {}),
    ("ELU", (0.5,), {}),
    ("LeakyReLU", (0, True), {}),
    ("LeakyReLU", (), {}),
    ("Softplus", (2, 10), {}),
    ("GELU", ("tanh",), {}),
    ("Softmax", (), {}),
    ("Softmax", (1,), {}),
    ("LogSoftmax", (-1,), {}),
    ("Tanh", (), {}),
    ("Sigmoid", (), {}),
    ("Embedding", (10, 3), {}),
    ("Embedding", (10, 3, -2, 1.5, 1.0, True), {}),
    ("Unflatten", (1, (2, 3)), {}),
    ("RNN", (3, 4), {}),
    ("RNN", (3, 4, 2, "relu", False, True, 0.2, True), {}),
    ("LSTM", (3, 4, 2, True, True, 0.0, True, 2), {}),
    ("LSTM", (3, 4), {"bias": False}),
    ("GRU", (3, 4, 3), {"dropout": 0.5, "bidirectional": True}),
    ("MultiheadAttention", (8, 2), {}),
    ("MultiheadAttention", (8, 2, 0.1, False, True, True, None, None, True), {}),
]


def _pair(name: str, args: tuple[object, ...], kwargs: dict[str, object]) -> tuple[object, torch.nn.Module]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own warnings about deprecated or odd settings
        return getattr(mn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


def _id(construction: tuple[str, tuple[object, ...], dict[str, object]]) -> str:
    name, args, kwargs = construction
    return f"{name}{args}{kwargs or ''}"


REASON_MHA = "torch's repr shows only the out_proj child, not embed_dim or num_heads; ours shows the settings"

# repr texts that differ from torch's on purpose: (ours, torch's) -> the reason.
REPR_DIFFERENCES: dict[tuple[str, str], str] = {
    (
        "Linear(in_features=3, out_features=4)",
        "Linear(in_features=3, out_features=4, bias=True)",
    ): "the default bias=True is left out, as in every error message and document of the project",
    (
        "RNN(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.2, bidirectional=True, "
        "nonlinearity='relu')",
        "RNN(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.2, bidirectional=True)",
    ): "torch's repr leaves the nonlinearity out, so a relu RNN would print as a tanh one",
    (
        "MultiheadAttention(embed_dim=8, num_heads=2)",
        "MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, "
        "out_features=8, bias=True)\n)",
    ): REASON_MHA,
    (
        "MultiheadAttention(embed_dim=8, num_heads=2, dropout=0.1, bias=False, add_bias_kv=True, "
        "add_zero_attn=True, batch_first=True)",
        "MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, "
        "out_features=8, bias=False)\n)",
    ): REASON_MHA,
}


@pytest.mark.parametrize("construction", CONSTRUCTIONS, ids=_id)
def test_repr_is_torch_repr(construction: tuple[str, tuple[object, ...], dict[str, object]]) -> None:
    ours, theirs = _pair(*construction)
    if (repr(ours), repr(theirs)) not in REPR_DIFFERENCES:
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("construction", CONSTRUCTIONS, ids=_id)
def test_state_names_and_shapes_are_torch(
    construction: tuple[str, tuple[object, ...], dict[str, object]],
) -> None:
    ours, theirs = _pair(*construction)
    assert isinstance(ours, mn.Module)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }


def test_every_layer_has_a_construction() -> None:
    assert {name for name, _, _ in CONSTRUCTIONS} == set(LAYERS)


@pytest.mark.parametrize("kind", ["BatchNorm1d", "BatchNorm2d"])
def test_momentum_none_is_the_cumulative_average_of_torch(kind: str) -> None:
    ours, theirs = getattr(mn, kind)(3, 0.001, None), getattr(torch.nn, kind)(3, 0.001, None)
    ours.to(dtype=torch.float64)
    theirs.to(torch.float64)
    g = torch.Generator().manual_seed(0)
    shape = (5, 3) if kind == "BatchNorm1d" else (4, 3, 2, 2)
    batches = [torch.randn(shape, generator=g, dtype=torch.float64) * (i + 1) + i for i in range(4)]
    for batch in batches:
        ours(batch)
        theirs(batch)
    for name, buffer in ours.named_buffers():
        torch.testing.assert_close(buffer.value, getattr(theirs, name), rtol=0, atol=1e-12)
    # The cumulative average of the batch means, worked out by hand.
    dims = (0,) if kind == "BatchNorm1d" else (0, 2, 3)
    expected = torch.stack([b.mean(dim=dims) for b in batches]).mean(dim=0)
    assert ours.running_mean is not None
    torch.testing.assert_close(ours.running_mean.value, expected, rtol=0, atol=1e-12)


INPLACE = [
    ("ReLU", (True,)),
    ("SiLU", (True,)),
    ("ELU", (1.5, True)),
    ("LeakyReLU", (0.2, True)),
    ("Dropout", (0.0, True)),
    ("Dropout2d", (0.0, True)),
]


@pytest.mark.parametrize(("name", "args"), INPLACE, ids=[name for name, _ in INPLACE])
def test_inplace_gives_torch_result_and_leaves_the_input(name: str, args: tuple[object, ...]) -> None:
    ours, theirs = _pair(name, args, {})
    assert isinstance(ours, mn.Module)
    x = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    before = x.clone()
    output = ours(x)
    assert torch.equal(x, before)
    torch.testing.assert_close(output, theirs(x.clone()))


@pytest.mark.parametrize("kind", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("shape", [(5,), (2, 5), (2, 3, 4), (2, 3, 4, 5)])
def test_dim_none_picks_torch_dimension_and_warns(kind: str, shape: tuple[int, ...]) -> None:
    ours, theirs = _pair(kind, (), {})
    assert isinstance(ours, mn.Module)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with pytest.warns(UserWarning, match="implicit dimension choice"):
        output = ours(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(x)
    torch.testing.assert_close(output, expected)
    v = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    leaf = x.clone().requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (grad,) = torch.autograd.grad(theirs(leaf), leaf, v)
    torch.testing.assert_close(ours.backward(v), grad)


BAD_SETTINGS: list[tuple[str, tuple[object, ...], type[Exception], str]] = [
    ("ReLU", ("yes",), TypeError, "ReLU: expected inplace to be a bool, got str"),
    ("SiLU", (1,), TypeError, "SiLU: expected inplace to be a bool, got int"),
    ("ELU", (float("nan"),), ValueError, "ELU: expected alpha to be finite, got nan"),
    ("ELU", ("1",), TypeError, "ELU: expected alpha to be a float, got str"),
    ("LeakyReLU", (float("inf"),), ValueError, "LeakyReLU: expected negative_slope to be finite, got inf"),
    ("LeakyReLU", (0.1, None), TypeError, "LeakyReLU: expected inplace to be a bool, got NoneType"),
    ("Softplus", (0,), ValueError, "Softplus: expected beta > 0, got 0"),
    ("Softplus", (1.0, float("nan")), ValueError, "Softplus: expected threshold to be finite, got nan"),
    ("GELU", (None,), TypeError, "GELU: expected approximate to be a str, got NoneType"),
    ("Softmax", (1.0,), TypeError, "Softmax: expected dim to be an int or None, got float"),
    ("Flatten", (1, "end"), TypeError, "Flatten: expected end_dim to be an int, got str"),
    ("Linear", (3, 4, "no"), TypeError, "Linear: expected bias to be a bool, got str"),
    ("Dropout", (0.5, 1), TypeError, "Dropout: expected inplace to be a bool, got int"),
]


@pytest.mark.parametrize(("name", "args", "error", "message"), BAD_SETTINGS, ids=lambda v: "")
def test_bad_settings_are_refused(
    name: str, args: tuple[object, ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        getattr(mn, name)(*args)
