"""The docs site typesets its formulas in a real browser, with no network.

The site is built (``mkdocs build --strict``) into a temporary folder and served
on 127.0.0.1 by a ``http.server`` thread; headless Chromium loads the two-layer
network tutorial with every other host unresolvable, waits (in virtual time) for
MathJax, and dumps the DOM. The formulas must have become MathJax's
``mjx-container`` elements, and no raw TeX may be left in the article. Skips,
saying why, where no Chromium binary is found (``apt-get install chromium``;
``.ci/run`` installs it).
"""

import functools
import http.server
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typing_extensions import override

ROOT = Path(__file__).resolve().parent.parent
PAGE = "two_layer_network/"
BROWSERS = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
# Any host but the local server fails to resolve: the page must render offline.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
ARTICLE = re.compile(r"<article\b.*?</article>", re.DOTALL)
CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.DOTALL)
FORMULA = re.compile(r'class="arithmatex"')
REMOTE = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"')


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    pytest.skip(f"no Chromium binary on PATH (looked for {', '.join(BROWSERS)}): apt-get install chromium")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    @override
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def site(built_site: Path) -> Path:
    return built_site


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site's address on 127.0.0.1, served by a thread for the module's tests."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def rendered(served: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tutorial's DOM after MathJax has run, as headless Chromium dumps it."""
    browser = _browser()
    profile = tmp_path_factory.mktemp("chromium-profile")
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", OFFLINE,
        f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--dump-dom", served + PAGE,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _article(html: str) -> str:
    found = ARTICLE.search(html)
    assert found is not None, "no <article> in the page"
    return found.group(0)


def test_the_page_has_formulas_to_typeset(site: Path) -> None:
    source = _article((site / PAGE / "index.html").read_text())
    assert len(FORMULA.findall(source)) >= 20
    assert "\\(" in source


def test_formulas_are_typeset_by_mathjax(site: Path, rendered: str) -> None:
    formulas = len(FORMULA.findall(_article((site / PAGE / "index.html").read_text())))
    article = _article(rendered)
    typeset = article.count("<mjx-container")
    assert typeset >= formulas, f"{typeset} mjx-container elements for {formulas} formulas"


def test_no_raw_tex_is_left_in_the_article(rendered: str) -> None:
    prose = CODE.sub("", _article(rendered))
    raw = [m.start() for m in re.finditer(r"\\[(\[]", prose)]
    assert not raw, f"raw TeX left at: {[prose[i : i + 60] for i in raw[:3]]}"


def test_no_page_loads_anything_from_another_host(site: Path) -> None:
    remote = {
        str(page.relative_to(site)): REMOTE.findall(page.read_text())
        for page in site.rglob("*.html")
        if REMOTE.search(page.read_text())
    }
    assert not remote, remote
