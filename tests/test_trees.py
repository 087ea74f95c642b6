"""Property tests: random trees of ``Sequential``, ``Residual`` and ``Concat`` against torch.autograd.

Hypothesis draws a tree, up to three containers deep, whose leaves are ``Linear``
(with or without bias) and element-wise activations (``Tanh``, ``Sigmoid``, ``ReLU``,
``LeakyReLU``, ``SiLU``, ``Identity``), with widths that fit: a ``Sequential`` chains
its children's widths, a ``Residual`` whose body changes the width gets a ``Linear``
shortcut (one that keeps it gets the identity or a ``Linear``), and a ``Concat``
along ``dim=1`` or ``dim=-1`` outputs the sum of its branches' widths. All in float64.

From the same drawn spec the reference restates the tree as one plain-torch
function of the input and the parameter values (taken in ``parameters()`` order):
``F.linear``, the activations, ``+`` for a residual and ``torch.cat`` for a
concatenation. ``torch.autograd`` differentiates it. The properties: the output,
the input gradient and every ``Parameter.grad`` match (rtol 1e-9; atol 1e-11 or
256 ulps of the largest gradient, whichever is larger); the input and the upstream
gradient are left unmodified; ``accumulate_grad`` gives exactly the parameter
gradients of ``backward``; a second ``backward`` doubles them exactly. The input
and the weights come from seeded generators (no exact zeros, so no activation is
evaluated at its kink). Examples are derandomized, so every run draws the same ones.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import minitorch_nn as mn
from minitorch_nn._types import Tensor

DTYPE = torch.float64
RTOL, ATOL = 1e-9, 1e-11
NOISE_ULPS = 256
EPS = torch.finfo(DTYPE).eps
MAX_DEPTH = 3  # containers nested at most this deep under the root

# As in test_properties.py: the same examples on every run, no database; the autouse float64 fixture
# is not relied on (every tensor and module is created as float64 explicitly).
BASE = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# The drawn spec ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """An element-wise leaf: how to build ours, and the same function in plain torch."""

    name: str
    make: Callable[[], mn.Module] = field(repr=False)
    reference: Callable[[Tensor], Tensor] = field(repr=False)


def _identity(x: Tensor) -> Tensor:
    return x


ACTIVATIONS = (
    Activation("Tanh", mn.Tanh, torch.tanh),
    Activation("Sigmoid", mn.Sigmoid, torch.sigmoid),
    Activation("ReLU", mn.ReLU, torch.relu),
    Activation("LeakyReLU", lambda: mn.LeakyReLU(0.1), lambda x: F.leaky_relu(x, 0.1)),
    Activation("SiLU", mn.SiLU, F.silu),
    Activation("Identity", mn.Identity, _identity),
)


@dataclass(frozen=True)
class LinearSpec:
    in_features: int
    out_features: int
    bias: bool


@dataclass(frozen=True)
class SequentialSpec:
    children: tuple["Node", ...]


@dataclass(frozen=True)
class ResidualSpec:
    body: "Node"
    shortcut: LinearSpec | None


@dataclass(frozen=True)
class ConcatSpec:
    branches: tuple["Node", ...]
    dim: int


Node = Activation | LinearSpec | SequentialSpec | ResidualSpec | ConcatSpec


@dataclass(frozen=True)
class Tree:
    """A whole drawn example: the tree, its input width, the batch and the seeds."""

    root: Node
    in_features: int
    batch: int
    init_seed: int
    data_seed: int


# Strategies --------------------------------------------------------------------------------------

WIDTHS = st.integers(1, 5)


@st.composite
def _leaf(draw: st.DrawFn, width: int) -> tuple[Node, int]:
    if draw(st.booleans()):
        out = draw(WIDTHS)
        return LinearSpec(width, out, draw(st.booleans())), out
    return draw(st.sampled_from(ACTIVATIONS)), width


@st.composite
def _node(draw: st.DrawFn, width: int, depth: int, container: bool = False) -> tuple[Node, int]:
    """A node taking ``width`` features, and the width it returns; containers only at ``depth`` > 0."""
    kinds = ["sequential", "residual", "concat"] if depth > 0 else []
    if not container or not kinds:
        kinds.append("leaf")
    kind = draw(st.sampled_from(kinds))
    if kind == "leaf":
        return draw(_leaf(width))
    if kind == "sequential":
        children, out = [], width
        for _ in range(draw(st.integers(1, 3))):
            child, out = draw(_node(out, depth - 1))
            children.append(child)
        return SequentialSpec(tuple(children)), out
    if kind == "residual":
        body, out = draw(_node(width, depth - 1))
        keep = out == width and draw(st.booleans())
        shortcut = None if keep else LinearSpec(width, out, draw(st.booleans()))
        return ResidualSpec(body, shortcut), out
    branches = [draw(_node(width, depth - 1)) for _ in range(draw(st.integers(1, 3)))]
    dim = draw(st.sampled_from((1, -1)))
    return ConcatSpec(tuple(b for b, _ in branches), dim), sum(w for _, w in branches)


@st.composite
def trees(draw: st.DrawFn) -> Tree:
    """A random tree whose root is a container, its input width, a batch size and two seeds."""
    width = draw(WIDTHS)
    root, _ = draw(_node(width, MAX_DEPTH, container=True))
    seeds = st.integers(0, 2**32 - 1)
    return Tree(root, width, draw(st.integers(1, 4)), draw(seeds), draw(seeds))


# Ours and the reference --------------------------------------------------------------------------


def build(node: Node, g: torch.Generator) -> mn.Module:
    """Our module for ``node``; the Linear weights drawn from ``g`` in forward order."""
    if isinstance(node, Activation):
        return node.make()
    if isinstance(node, LinearSpec):
        return mn.Linear(node.in_features, node.out_features, bias=node.bias, generator=g, dtype=DTYPE)
    if isinstance(node, SequentialSpec):
        return mn.Sequential(*(build(child, g) for child in node.children))
    if isinstance(node, ResidualSpec):
        body = build(node.body, g)
        return mn.Residual(body, None if node.shortcut is None else build(node.shortcut, g))
    return mn.Concat(*(build(branch, g) for branch in node.branches), dim=node.dim)


def reference(node: Node, x: Tensor, params: Iterator[Tensor]) -> Tensor:
    """``node`` in plain torch; ``params`` yields the parameter values in ``parameters()`` order."""
    if isinstance(node, Activation):
        return node.reference(x)
    if isinstance(node, LinearSpec):
        weight = next(params)
        return F.linear(x, weight, next(params) if node.bias else None)
    if isinstance(node, SequentialSpec):
        for child in node.children:
            x = reference(child, x, params)
        return x
    if isinstance(node, ResidualSpec):
        out = reference(node.body, x, params)
        return out + (x if node.shortcut is None else reference(node.shortcut, x, params))
    return torch.cat([reference(branch, x, params) for branch in node.branches], dim=node.dim)


def _example(tree: Tree) -> tuple[mn.Module, Tensor, Tensor]:
    """Our tree, an input and an upstream gradient of the output's shape."""
    model = build(tree.root, torch.Generator().manual_seed(tree.init_seed))
    note(repr(model))
    g = torch.Generator().manual_seed(tree.data_seed)
    x = torch.randn(tree.batch, tree.in_features, generator=g, dtype=DTYPE)
    params = iter([p.value for p in model.parameters()])
    shape = reference(tree.root, x, params).shape
    assert next(params, None) is None, "the reference used fewer parameters than the model has"
    return model, x, torch.randn(shape, generator=g, dtype=DTYPE)


def _prefixed(what: str) -> Callable[[str], str]:
    return lambda message: f"{what}: {message}"


# Properties --------------------------------------------------------------------------------------


@settings(BASE, max_examples=200)
@given(trees())
def test_output_and_gradients_match_autograd(tree: Tree) -> None:
    model, x, v = _example(tree)
    kept_x, kept_v = x.clone(), v.clone()
    output = model(x)
    grad_input = model.backward(v)
    assert torch.equal(x, kept_x) and torch.equal(v, kept_v), "an argument was modified"

    leaves = [x.clone().requires_grad_()] + [p.value.clone().requires_grad_() for p in model.parameters()]
    with torch.enable_grad():
        expected_output = reference(tree.root, leaves[0], iter(leaves[1:]))
        expected = torch.autograd.grad(expected_output, leaves, grad_outputs=v)
    scale = max(float(grad.abs().max()) for grad in expected if grad.numel())
    atol = max(ATOL, NOISE_ULPS * EPS * scale)
    torch.testing.assert_close(output, expected_output.detach(), rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(grad_input, expected[0], rtol=RTOL, atol=atol)
    for (name, param), grad in zip(model.named_parameters(), expected[1:], strict=True):
        torch.testing.assert_close(param.grad, grad, rtol=RTOL, atol=atol, msg=_prefixed(f"grad of {name}"))


@settings(BASE, max_examples=100)
@given(trees())
def test_accumulate_grad_gives_the_parameter_gradients_of_backward(tree: Tree) -> None:
    model, x, v = _example(tree)
    model(x)
    model.backward(v)
    expected = [param.grad.clone() for param in model.parameters()]
    model.zero_grad()
    model(x)
    model.accumulate_grad(v)
    for (name, param), grad in zip(model.named_parameters(), expected, strict=True):
        assert torch.equal(param.grad, grad), f"grad of {name} differs from backward's"


@settings(BASE, max_examples=100)
@given(trees())
def test_second_backward_doubles_parameter_gradients(tree: Tree) -> None:
    model, x, v = _example(tree)
    model(x)
    first = model.backward(v).clone()
    once = [param.grad.clone() for param in model.parameters()]
    assert torch.equal(model.backward(v), first), "a second backward returned another input gradient"
    for (name, param), grad in zip(model.named_parameters(), once, strict=True):
        assert torch.equal(param.grad, 2 * grad), f"grad of {name} is not exactly doubled"
