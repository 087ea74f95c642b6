"""NetworkSpec counts its parameters and refuses, before allocating, a network that cannot fit."""

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from minitorch_nn import spec as spec_module
from minitorch_nn.spec import NetworkSpec, available_memory, format_bytes

GiB = 1024**3


def _memory(cpu: int | None, other: int | None = None) -> Callable[[torch.device | str], int | None]:
    """An ``available_memory`` that reports ``cpu`` bytes on the CPU and ``other`` elsewhere."""
    return lambda device: cpu if torch.device(device).type == "cpu" else other


def test_refusal_names_count_bytes_dtype_and_what_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_module, "available_memory", _memory(int(21.7 * GiB)))
    count = (2 + 1) * 10**11 + (10**11 + 1) * 2  # weight and bias of each Linear
    needed = count * 4 * 2  # float32 values and their gradients
    expected = (
        f"NetworkSpec(layers=(2, 100000000000, 2)): its {count} parameters need "
        f"{needed / 1024**4:.1f} TiB in float32 (values and gradients), "
        "more than the 21.7 GiB of memory available"
    )
    assert (count, f"{needed / 1024**4:.1f}") == (500000000002, "3.6")
    with pytest.raises(ValueError, match=re.escape(expected)):
        NetworkSpec((2, 10**11, 2)).build(0, dtype=torch.float32)


def test_refusal_against_this_machines_memory() -> None:
    """No machine that runs these tests has 72.8 TiB of memory available."""
    with pytest.raises(
        ValueError, match=r"parameters need 72\.8 TiB in float64 \(values and gradients\), more than the"
    ):
        NetworkSpec((2, 10**12, 2)).build(0, dtype=torch.float64)


def test_a_small_network_builds() -> None:
    model = NetworkSpec((784, 256, 10)).build(0, dtype=torch.float32)
    assert [tuple(p.shape) for p in model.parameters()] == [(256, 784), (256,), (10, 256), (10,)]


@pytest.mark.parametrize(
    "spec",
    [
        NetworkSpec((784, 10)),
        NetworkSpec((784, 256, 10)),
        NetworkSpec((2, 25, 25, 25, 2), dropout=0.2),
        NetworkSpec((3, 1, 7), activation="tanh", output_activation="sigmoid"),
    ],
    ids=str,
)
def test_parameter_count_matches_the_built_network(spec: NetworkSpec) -> None:
    assert spec.parameter_count() == sum(p.value.numel() for p in spec.build(0).parameters())


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_parameter_bytes_are_the_values_in_the_dtype(dtype: torch.dtype) -> None:
    spec = NetworkSpec((784, 256, 10))
    built = spec.build(0, dtype=dtype)
    assert spec.parameter_bytes(dtype) == sum(
        p.value.numel() * p.value.element_size() for p in built.parameters()
    )


def test_a_medium_network_is_refused_when_little_memory_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_module, "available_memory", _memory(1024**2))
    expected = (
        "NetworkSpec(layers=(784, 256, 10)): its 203530 parameters need 1.6 MiB in float32 "
        "(values and gradients), more than the 1.0 MiB of memory available"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        NetworkSpec((784, 256, 10)).build(0, dtype=torch.float32)
    NetworkSpec((784, 50, 10)).build(0, dtype=torch.float32)  # 39760 * 8 bytes fit


def test_a_network_for_a_gpu_must_fit_in_its_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_module, "available_memory", _memory(None, 1024**2))
    with pytest.raises(ValueError, match=re.escape("more than the 1.0 MiB of memory available on cuda:1")):
        NetworkSpec((784, 256, 10)).build(0, dtype=torch.float32, device="cuda:1")


def test_a_network_for_a_gpu_must_fit_in_cpu_memory_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_module, "available_memory", _memory(1024**2, 100 * GiB))
    expected = (
        "more than the 1.0 MiB of CPU memory available "
        "(the parameters are drawn there before they move to cuda)"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        NetworkSpec((784, 256, 10)).build(0, dtype=torch.float32, device="cuda")


def test_unknown_memory_refuses_only_what_no_machine_can_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_module, "available_memory", _memory(None))
    NetworkSpec((784, 256, 10)).build(0)
    with pytest.raises(ValueError, match=re.escape("more than the 8.0 EiB any machine can address")):
        NetworkSpec((2, 2**62, 2)).build(0)


@pytest.mark.parametrize(
    ("layers", "words"),
    [
        (
            (2, 2**62, 2),
            "NetworkSpec(layers=(2, 4611686018427387904, 2)): its 2.3e+19 parameters need 320.0 EiB",
        ),
        ((10**4000, 10**4000), "NetworkSpec(layers=(1.0e+4000, 1.0e+4000)): its 1.0e+8000 parameters need"),
    ],
    ids=["past-int64", "thousands-of-digits"],
)
def test_absurd_sizes_are_a_value_error(layers: tuple[int, ...], words: str) -> None:
    """No OverflowError or MemoryError, and no 4300-digit limit on printing ints, escapes."""
    with pytest.raises(ValueError, match=re.escape(words)) as info:
        NetworkSpec(layers).build(0)
    assert type(info.value) is ValueError


def test_cpu_memory_is_memavailable() -> None:
    if not Path("/proc/meminfo").exists():
        pytest.skip("no /proc/meminfo here")
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    expected = int(fields["MemAvailable"].split()[0]) * 1024
    available = available_memory("cpu")
    assert available is not None and abs(available - expected) < 0.05 * expected  # it moves a little


def test_cpu_memory_without_meminfo_is_the_physical_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_meminfo(path: str) -> None:
        raise FileNotFoundError(2, "No such file or directory", path)

    monkeypatch.setattr(spec_module, "open", no_meminfo, raising=False)
    assert available_memory("cpu") == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")

    def no_sysconf(name: str) -> int:
        raise ValueError(f"unrecognized configuration name {name!r}")

    monkeypatch.setattr(os, "sysconf", no_sysconf)
    assert available_memory("cpu") is None


def test_cuda_memory_is_free_plus_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (5 * GiB, 80 * GiB))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device: 3 * GiB)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device: 2 * GiB)
    assert available_memory("cuda:0") == 6 * GiB


def test_cuda_memory_without_cuda_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_driver(device: torch.device) -> tuple[int, int]:
        raise RuntimeError("Found no NVIDIA driver on your system.")

    monkeypatch.setattr(torch.cuda, "mem_get_info", no_driver)
    assert available_memory("cuda") is None


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1.0 KiB"),
        (int(21.7 * GiB), "21.7 GiB"),
        (2**63 - 1, "8.0 EiB"),
    ],
)
def test_format_bytes(count: int, text: str) -> None:
    assert format_bytes(count) == text
