"""The check every constructor runs first: an argument it does not take is named, with the ones it does.

Python's own message, ``_Pool2d.__init__() got an unexpected keyword argument 'foo'``, names the
private class that defines ``__init__`` and not the one the user called; this names the public one.
"""

import inspect
from collections.abc import Callable, Mapping
from functools import cache

__all__ = ["check_arguments", "check_bool"]


@cache
def _parameters(init: Callable[..., None]) -> tuple[tuple[str, ...], tuple[str, ...], bool, bool]:
    """``(positional names, keyword names, takes *args, takes **kwargs)`` of ``init``, without ``self``."""
    positional: list[str] = []
    keyword: list[str] = []
    var_positional = var_keyword = False
    for index, parameter in enumerate(inspect.signature(init).parameters.values()):
        if index == 0:
            continue  # self
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            var_positional = True
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            var_keyword = True
        else:
            if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
                positional.append(parameter.name)
            if parameter.kind is not inspect.Parameter.POSITIONAL_ONLY:
                keyword.append(parameter.name)
    return tuple(positional), tuple(keyword), var_positional, var_keyword


def check_arguments(
    owner: str, init: Callable[..., None], args: tuple[object, ...], kwargs: Mapping[str, object]
) -> None:
    """Raise ``TypeError`` naming ``owner`` if ``init`` cannot take ``args`` and ``kwargs``.

    Only arguments that are too many or unknown are refused here; missing ones are left to ``init``.

    Example:
        >>> class Pool:
        ...     def __init__(self, kernel_size: int, stride: int | None = None) -> None: ...
        >>> check_arguments("AvgPool2d", Pool.__init__, (2,), {"divisor": 3})
        Traceback (most recent call last):
        ...
        TypeError: AvgPool2d: argument 'divisor' is not supported (AvgPool2d takes kernel_size, stride)
    """
    positional, keyword, var_positional, var_keyword = _parameters(init)
    takes = ", ".join(dict.fromkeys((*positional, *keyword)))
    if len(args) > len(positional) and not var_positional:
        raise TypeError(
            f"{owner}: expected at most {len(positional)} positional arguments "
            f"({', '.join(positional)}), got {len(args)}"
        )
    if var_keyword:
        return
    for name in kwargs:
        if name not in keyword:
            raise TypeError(f"{owner}: argument {name!r} is not supported ({owner} takes {takes})")
        if name in positional[: len(args)]:
            raise TypeError(f"{owner}: got argument {name!r} twice, by position and by name")


def check_bool(owner: str, name: str, value: object) -> bool:
    """Return ``value``; raise ``TypeError`` naming ``owner`` and ``name`` unless it is a ``bool``.

    Example:
        >>> check_bool("Conv2d", "bias", 1)
        Traceback (most recent call last):
        ...
        TypeError: Conv2d: expected bias to be a bool, got int
    """
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: expected {name} to be a bool, got {type(value).__name__}")
    return value
