"""``python -m minitorch_nn``: the ``minitorch-nn`` command line."""

from minitorch_nn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
