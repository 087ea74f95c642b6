"""TensorLoader: every sample once per epoch, in torch's sampler order, reproducibly."""

import pytest
import torch
from torch.utils.data import SubsetRandomSampler

from minitorch_nn.data import TensorLoader


def test_unshuffled_batches_in_order() -> None:
    x, y = torch.arange(14.0).view(7, 2), torch.arange(7)
    batches = list(TensorLoader(x, y, batch_size=3))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert torch.equal(batches[1][0], x[3:6])


def test_drop_last() -> None:
    loader = TensorLoader(torch.arange(7), batch_size=3, drop_last=True)
    assert len(loader) == 2
    assert [b[0].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]]


def test_shuffle_follows_randperm_of_the_generator() -> None:
    loader = TensorLoader(
        torch.arange(10), batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(5)
    )
    expected = torch.randperm(10, generator=torch.Generator().manual_seed(5)).tolist()
    assert [i for (batch,) in loader for i in batch.tolist()] == expected


def test_each_epoch_is_a_new_permutation_of_every_sample() -> None:
    loader = TensorLoader(
        torch.arange(50), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    first = [i for (batch,) in loader for i in batch.tolist()]
    second = [i for (batch,) in loader for i in batch.tolist()]
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second


def test_seeded_generator_reproduces_the_epochs() -> None:
    def epochs() -> list[list[int]]:
        loader = TensorLoader(
            torch.arange(20), batch_size=6, shuffle=True, generator=torch.Generator().manual_seed(9)
        )
        return [[i for (b,) in loader for i in b.tolist()] for _ in range(3)]

    assert epochs() == epochs()


def test_rows_stay_paired() -> None:
    x = torch.arange(30.0).view(10, 3)
    y = x[:, 0] * 2
    for bx, by in TensorLoader(x, y, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(1)):
        assert torch.equal(bx[:, 0] * 2, by)


def test_custom_sampler() -> None:
    loader = TensorLoader(torch.arange(10), batch_size=2, sampler=SubsetRandomSampler([1, 3, 5]))
    assert sorted(i for (b,) in loader for i in b.tolist()) == [1, 3, 5]
    assert len(loader) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, r"expected batch_size to be an int >= 1, got 0"),
        (
            {"batch_size": 2, "shuffle": True, "sampler": SubsetRandomSampler([0])},
            r"either sampler or shuffle",
        ),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TensorLoader(torch.arange(4), **kwargs)  # type: ignore[arg-type]  # bad values are the point


def test_mismatched_sizes() -> None:
    with pytest.raises(ValueError, match=r"same first dimension, got sizes \[4, 3\]"):
        TensorLoader(torch.zeros(4), torch.zeros(3), batch_size=2)
