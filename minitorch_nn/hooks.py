"""Hooks: functions a module calls around its ``forward`` and ``backward``, with torch.nn's signatures.

``ModuleBase.register_forward_pre_hook``, ``register_forward_hook`` and
``register_full_backward_hook`` store a hook in a dict of the instance and
return a ``RemovableHandle``. The first hook of an instance installs instance
attributes that wrap its methods (``forward``, ``forward_``, ``backward``,
``backward_``, ``accumulate_grad``); removing its last hook removes them, so a
module without hooks runs the class's methods untouched: hooks cost nothing
until they are used. What the wrappers do is described in ``docs/contract.md``
(section Hooks).
"""

import itertools
import warnings
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

import torch

from minitorch_nn._types import Tensor, brief, shape_str

if TYPE_CHECKING:
    from minitorch_nn.module import ModuleBase

__all__ = ["RemovableHandle"]

# The instance attributes that hold the hooks, {hook id: hook} in call order, created with the first
# hook of their kind and deleted with the last (torch's names).
PRE: Final = "_forward_pre_hooks"
FORWARD: Final = "_forward_hooks"
BACKWARD: Final = "_backward_hooks"
_KINDS: Final = (PRE, FORWARD, BACKWARD)
# The instance attribute that records what the wrappers replaced, while they are installed.
_RECORD: Final = "_hook_wrappers"
_METHODS: Final = ("forward", "forward_", "backward", "backward_", "accumulate_grad")
# A hooked module hands on no tensor to be overwritten: a hook may keep what it was given.
_FLAGS: Final = ("fresh_output", "fresh_grad_input")
_MISSING: Final = object()
_ids = itertools.count()

Hook = Callable[..., object]


class RemovableHandle:
    """What ``register_*_hook`` returns: ``remove()`` takes the hook off again, as torch's handle.

    ``remove()`` may be called any number of times, also from inside a running
    hook (the hooks of the call under way still run, as in torch). Used as a
    context manager, the handle removes its hook when the block ends.

    Attributes:
        id: the hook's key in the module's dict of hooks, unique in the process.

    Example:
        >>> import torch
        >>> from minitorch_nn import Tanh
        >>> layer = Tanh()
        >>> with layer.register_forward_hook(lambda module, args, output: print("seen", tuple(output.shape))):
        ...     _ = layer(torch.zeros(2, 3))
        seen (2, 3)
        >>> _ = layer(torch.zeros(2, 3))  # removed: nothing printed
    """

    def __init__(self, module: "ModuleBase", kind: str, hook_id: int) -> None:
        self._module = weakref.ref(module)
        self._kind = kind
        self.id = hook_id

    def remove(self) -> None:
        """Remove the hook; nothing happens if it is already gone."""
        module = self._module()
        if module is not None:
            _remove(module, self._kind, self.id)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.remove()


def register(module: "ModuleBase", kind: str, hook: Hook, prepend: bool) -> RemovableHandle:
    """Add ``hook`` to ``module``'s hooks of ``kind`` (first if ``prepend``); install the wrappers if due."""
    if not callable(hook):
        raise TypeError(f"{brief(module)}: expected a callable hook, got {type(hook).__name__}")
    state = vars(module)
    hooks: dict[int, Hook] = state.setdefault(kind, {})
    hook_id = next(_ids)
    if prepend:
        rest = dict(hooks)
        hooks.clear()
        hooks[hook_id] = hook
        hooks.update(rest)
    else:
        hooks[hook_id] = hook
    if _RECORD not in state:
        install(module)
    return RemovableHandle(module, kind, hook_id)


def _remove(module: "ModuleBase", kind: str, hook_id: int) -> None:
    state = vars(module)
    hooks = state.get(kind)
    if hooks is None or hook_id not in hooks:
        return
    del hooks[hook_id]
    if not hooks:
        del state[kind]
    if not any(name in state for name in _KINDS):
        uninstall(module)


class _Record:
    """What ``install`` replaced (``_MISSING``: none) and the depth of the calls under way."""

    __slots__ = ("backward_depth", "forward_depth", "previous")

    def __init__(self, previous: dict[str, object]) -> None:
        self.previous = previous
        self.forward_depth = 0
        self.backward_depth = 0


def install(module: "ModuleBase") -> None:
    """Wrap ``module``'s methods in instance attributes that call its hooks (the outermost call only)."""
    state = vars(module)
    cls = type(module)
    names = [name for name in _METHODS if hasattr(cls, name)]
    flags = [name for name in _FLAGS if hasattr(cls, name)]
    record = _Record({name: state.get(name, _MISSING) for name in names + flags})
    methods: dict[str, Callable[..., object]] = {name: getattr(module, name) for name in names}
    arity: int = getattr(cls, "_hook_arity", 1)
    wrappers = _wrappers(module, record, methods, arity)
    state[_RECORD] = record
    for name in names:
        state[name] = wrappers[name]
    for name in flags:
        state[name] = False


def uninstall(module: "ModuleBase") -> None:
    """Put back what ``install`` replaced; the instance is then as it was before its first hook."""
    state = vars(module)
    record = state.pop(_RECORD, None)
    if not isinstance(record, _Record):
        return
    for name, value in record.previous.items():
        if value is _MISSING:
            state.pop(name, None)
        else:
            state[name] = value


def plain_state(module: "ModuleBase") -> dict[str, object]:
    """``vars(module)`` without the wrappers (what pickling and copying store); the hooks stay."""
    state = dict(vars(module))
    record = state.pop(_RECORD, None)
    if isinstance(record, _Record):
        for name, value in record.previous.items():
            if value is _MISSING:
                state.pop(name, None)
            else:
                state[name] = value
    return state


def restore(module: "ModuleBase") -> None:
    """Install the wrappers on a module rebuilt from ``plain_state`` if it has hooks (unpickling, copying)."""
    state = vars(module)
    if _RECORD not in state and any(state.get(name) for name in _KINDS):
        install(module)


def drop(module: "ModuleBase") -> None:
    """Remove every hook and the wrappers (a ``shared_copy`` starts without hooks)."""
    uninstall(module)
    for name in _KINDS:
        vars(module).pop(name, None)


def _wrappers(
    module: "ModuleBase", record: _Record, methods: dict[str, Callable[..., object]], arity: int
) -> dict[str, Callable[..., object]]:
    forward = methods.get("forward", _absent)
    backward = methods.get("backward", _absent)

    def call_forward(*args: Tensor, **kwargs: object) -> object:
        if record.forward_depth:  # an inner call: a default forward_ calls forward
            return forward(*args, **kwargs)
        args = _run_pre_hooks(module, args)
        record.forward_depth += 1
        try:
            output = forward(*args, **kwargs)
        finally:
            record.forward_depth -= 1
        return _run_forward_hooks(module, args, output)

    def call_forward_(input: Tensor) -> object:
        if record.forward_depth:
            return methods["forward_"](input)
        return call_forward(input)  # the hooks may keep the input: out of place

    def call_backward(*args: Tensor | None, **kwargs: Tensor | None) -> object:
        if record.backward_depth:
            return backward(*args, **kwargs)
        record.backward_depth += 1
        try:
            grad_input = backward(*args, **kwargs)
        finally:
            record.backward_depth -= 1
        grad_output = args[0] if args else kwargs.get("grad_output")
        return _run_backward_hooks(module, grad_input, grad_output, arity)

    def call_backward_(grad_output: Tensor) -> object:
        if record.backward_depth:
            return methods["backward_"](grad_output)
        return call_backward(grad_output)

    def call_accumulate_grad(grad_output: Tensor) -> None:
        if record.backward_depth:
            methods["accumulate_grad"](grad_output)
            return
        record.backward_depth += 1
        try:
            methods["accumulate_grad"](grad_output)
        finally:
            record.backward_depth -= 1
        _run_backward_hooks(module, None, grad_output, arity)

    return {
        "forward": call_forward,
        "forward_": call_forward_,
        "backward": call_backward,
        "backward_": call_backward_,
        "accumulate_grad": call_accumulate_grad,
    }


def _absent(*args: object, **kwargs: object) -> object:
    raise AssertionError("install wraps only the methods the class has")


def _hooks(module: "ModuleBase", kind: str) -> tuple[Hook, ...]:
    """A snapshot of ``module``'s hooks of ``kind``: removing one while they run is safe."""
    hooks = vars(module).get(kind)
    return tuple(hooks.values()) if hooks else ()


def _run_pre_hooks(module: "ModuleBase", args: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    for hook in _hooks(module, PRE):
        result = hook(module, args)
        if result is None:
            continue
        new = result if isinstance(result, tuple) else (result,)
        if len(new) != len(args):
            raise ValueError(
                f"{brief(module)}: forward pre-hook {_name(hook)}: expected None or {len(args)} "
                f"replacement arguments, got {len(new)}"
            )
        for index, (old, replacement) in enumerate(zip(args, new, strict=True)):
            _check_like(module, hook, "forward pre-hook", f"argument {index}", old, replacement)
        _warn_straight_through(module, hook, "forward pre-hook", "the arguments")
        args = new
    return args


def _run_forward_hooks(module: "ModuleBase", args: tuple[Tensor, ...], output: object) -> object:
    for hook in _hooks(module, FORWARD):
        result = hook(module, args, output)
        if result is not None:
            if isinstance(output, torch.Tensor):
                _check_like(module, hook, "forward hook", "output", output, result)
            _warn_straight_through(module, hook, "forward hook", "the output")
            output = result
    return output


def _warn_straight_through(module: "ModuleBase", hook: Hook, kind: str, what: str) -> None:
    """Say (once per module and hook, by Python's default filter) how backward treats a replacement.

    torch differentiates what the hook computed; here nothing can, so the gradient is handed on
    unchanged. That is torch's result only for a replacement that is the original plus a term that does
    not depend on it, so a user porting ``output * 3`` is told rather than given another gradient.
    """
    warnings.warn(
        f"{brief(module)}: {kind} {_name(hook)} replaced {what}; backward hands the gradient on "
        "unchanged (straight-through), which is torch's gradient only when the replacement is the "
        "original plus a term that does not depend on it",
        UserWarning,
        stacklevel=4,
    )


def _run_backward_hooks(
    module: "ModuleBase", grad_input: object, grad_output: Tensor | None, arity: int
) -> object:
    hooks = _hooks(module, BACKWARD)
    if not hooks:
        return grad_input
    if grad_output is None:  # a loss's implicit 1, as torch's (tensor(1.),)
        like = grad_input if isinstance(grad_input, torch.Tensor) else None
        grad_output = torch.ones((), dtype=like.dtype if like is not None else None,
                                 device=like.device if like is not None else None)  # fmt: skip
    grads: tuple[Tensor | None, ...] = (grad_input if isinstance(grad_input, torch.Tensor) else None,)
    grads += (None,) * (arity - 1)
    for hook in hooks:
        result = hook(module, grads, (grad_output,))
        if result is None:
            continue
        grads = _check_grads(module, hook, grads, result)
    return grads[0] if grad_input is not None else None


def _check_grads(
    module: "ModuleBase", hook: Hook, grads: tuple[Tensor | None, ...], result: object
) -> tuple[Tensor | None, ...]:
    where = f"{brief(module)}: full backward hook {_name(hook)}"
    if not isinstance(result, tuple | list) or len(result) != len(grads):
        got = f"{len(result)} entries" if isinstance(result, tuple | list) else type(result).__name__
        raise TypeError(f"{where}: expected None or a tuple of {len(grads)} grad_input entries, got {got}")
    for index, (old, new) in enumerate(zip(grads, result, strict=True)):
        if old is None and new is not None:
            reason = (
                "no input gradient is computed here (accumulate_grad: the input needs none)"
                if index == 0
                else "the target of a loss gets no gradient"
            )
            raise ValueError(f"{where}: expected None at grad_input[{index}] ({reason}), got {_kind(new)}")
        if old is not None:
            _check_like(module, hook, "full backward hook", f"grad_input[{index}]", old, new)
    return tuple(result)


def _check_like(module: "ModuleBase", hook: Hook, kind: str, what: str, old: object, new: object) -> None:
    """Raise unless ``new`` is a tensor of ``old``'s shape, dtype and device.

    A replacement stands for the original: its gradient is handed on as the
    original's, so it must have the original's shape.
    """
    where = f"{brief(module)}: {kind} {_name(hook)}"
    if not isinstance(old, torch.Tensor):
        return
    if not isinstance(new, torch.Tensor):
        raise TypeError(f"{where}: expected a tensor as the replacement {what}, got {_kind(new)}")
    if new.shape != old.shape:
        raise ValueError(
            f"{where}: expected a replacement {what} of shape {shape_str(old)} (the original's), "
            f"got {shape_str(new)}"
        )
    if new.dtype != old.dtype or new.device != old.device:
        raise TypeError(
            f"{where}: expected a replacement {what} of dtype {old.dtype} on {old.device} (the original's), "
            f"got {new.dtype} on {new.device}"
        )


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _name(hook: Hook) -> str:
    return repr(getattr(hook, "__qualname__", None) or type(hook).__name__)
