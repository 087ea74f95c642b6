"""The reference job against the course notebook's own algorithm (examples/notebook_per_sample.py).

Both run for 15 iterations on the same data: the printed logs must agree line
for line and the parameters to float32 tolerance.
"""

from collections.abc import Iterator

import pytest
import torch

from tests.examples import load_example

ITERATIONS = 15

two_layer = load_example("two_layer_mnist")
per_sample = load_example("notebook_per_sample")


@pytest.fixture(autouse=True)
def float32_default() -> Iterator[None]:
    """The notebook works in float32."""
    torch.set_default_dtype(torch.float32)
    yield


def test_example_reproduces_the_notebook(capsys: pytest.CaptureFixture[str]) -> None:
    expected_log, expected_params = per_sample.notebook(ITERATIONS)
    model = two_layer.main(["--epochs", str(ITERATIONS)])
    log = capsys.readouterr().out.splitlines()
    assert log == expected_log
    for (name, param), expected in zip(model.named_parameters(), expected_params, strict=True):
        torch.testing.assert_close(
            param.value, expected, rtol=1e-4, atol=1e-6, msg=f"parameter {name} differs"
        )
