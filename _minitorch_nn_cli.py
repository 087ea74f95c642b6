"""The ``minitorch-nn`` console script: the command line, with Ctrl-C and a closed pipe handled early.

Importing torch takes a second or two. This launcher lives outside the
``minitorch_nn`` package so that a Ctrl-C during that import, or while the
command starts, ends with one line and status 130 instead of a traceback.
"""

import os
import sys

__all__ = ["main"]


def main() -> int:
    """Import and run ``minitorch_nn.cli.main``; return its exit status."""
    try:
        from minitorch_nn.cli import main as run

        return run()
    except KeyboardInterrupt:
        print("minitorch-nn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
