"""MkDocs hook: serve MathJax from the site itself, so that formulas render with no network.

MathJax 3 comes from the PyPI package ``django-static-mathjax`` (in the ``docs`` and
``dev`` extras; a plain copy of MathJax's files, it needs no Django to be read).
This hook adds the files a page needs to the site under ``javascripts/mathjax/``:
the combined ``tex-mml-chtml.js``, the CommonHTML output with its fonts, and what
that file loads on demand (TeX extensions, the menu, the accessibility
components), with MathJax's licence. ``mkdocs.yml`` points ``extra_javascript``
at ``javascripts/mathjax/tex-mml-chtml.js``.
"""

import importlib.util
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

__all__ = ["DESTINATION", "mathjax_root", "on_files"]

DESTINATION = "javascripts/mathjax"
# Relative to MathJax's es5/ folder; the other combined bundles (SVG output, full TeX, node) are left out.
NEEDED = ["tex-mml-chtml.js", "input", "output/chtml", "ui", "a11y", "sre", "adaptors"]


def mathjax_root() -> Path:
    """The ``es5`` folder of the installed MathJax copy.

    Raises:
        PluginError: if ``django-static-mathjax`` is not installed.
    """
    spec = importlib.util.find_spec("mathjax")
    locations = spec.submodule_search_locations if spec is not None else None
    if locations:
        for location in locations:
            root = Path(location) / "static" / "mathjax" / "es5"
            if (root / "tex-mml-chtml.js").is_file():
                return root
    raise PluginError(
        "mathjax_hook: MathJax not found; install the docs extra: pip install -e '.[docs]' "
        "(it brings django-static-mathjax)"
    )


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add MathJax's files to the site (``mkdocs build`` and ``mkdocs serve`` alike)."""
    root = mathjax_root()
    paths = [root.parent / "LICENSE"]
    for name in NEEDED:
        found = root / name
        paths += sorted(p for p in found.rglob("*") if p.is_file()) if found.is_dir() else [found]
    for path in paths:
        relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
        files.append(File.generated(config, f"{DESTINATION}/{relative.as_posix()}", abs_src_path=str(path)))
    return files
