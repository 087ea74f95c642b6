"""A griffe extension for the API reference: PyTorch-style docstrings, rendered by mkdocstrings.

The docstrings follow PyTorch's conventions (see STYLE.md): an ``Example:``
section and ``:math:`...``` roles. griffe's Google parser knows the section as
``Examples:`` and Markdown knows maths as ``$...$`` (MathJax renders it), so
this extension rewrites both when mkdocs loads the package. The source stays
as ``help()`` and the doctests read it. ``mkdocs.yml`` loads it by path.
"""

import re
from typing import Any

import griffe

__all__ = ["PyTorchDocstrings", "to_markdown"]

_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
_MATH = re.compile(r":math:`([^`]+)`")


def to_markdown(text: str) -> str:
    """Rewrite one docstring.

    Example:
        >>> print(to_markdown("Sum :math:`x_i`.\\n\\nExample:\\n    >>> 1\\n    1"))
        Sum $x_i$.
        <BLANKLINE>
        Examples:
            >>> 1
            1
    """
    return _MATH.sub(lambda match: f"${match.group(1)}$", _EXAMPLE.sub(r"\1Examples:", text))


class PyTorchDocstrings(griffe.Extension):
    """Apply ``to_markdown`` to every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
