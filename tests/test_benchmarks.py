"""The benchmark script runs end to end at tiny sizes, so it never rots. It asserts no timings."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_writes_every_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_training

    out = tmp_path / "bench.json"
    rows = bench_training.main(
        ["--quick", "--json", str(out), "--reference-job", "--peak-memory", "--case-memory"]
    )
    assert [r.name[1] for r in rows] == list("aaabcdeffg")
    assert all(r.ours_ms > 0 and r.torch_ms > 0 for r in rows)
    report = json.loads(out.read_text())
    assert len(report["rows"]) == 10
    assert report["reference_job"]["same_log"] is True
    assert set(report["peak_rss_kb"]) == {"ours", "torch", "ours_step", "torch_step"}
    assert set(report["case_step_peak_kb"]) == {"d", "e"}
    assert all(peaks["ours"] >= 0 and peaks["torch"] >= 0 for peaks in report["case_step_peak_kb"].values())
    printed = capsys.readouterr().out
    assert "| case | batch | minitorch_nn | torch.nn | ratio |" in printed


def test_distributed_benchmark_runs_at_tiny_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_distributed

    rows = bench_distributed.main(["--quick", "--json", str(tmp_path / "d.json")])
    assert [(r.scaling, r.processes, r.global_batch) for r in rows] == [
        ("strong", 1, 128), ("strong", 1, 128), ("strong", 2, 128), ("weak", 1, 128), ("weak", 2, 256),
    ]  # fmt: skip
    assert all(r.samples_per_second > 0 for r in rows)
    assert [r.collectives_per_step for r in rows] == [0, 0, 1, 0, 1]  # one bucket holds the whole MLP
    assert "| scaling | processes x threads |" in capsys.readouterr().out
