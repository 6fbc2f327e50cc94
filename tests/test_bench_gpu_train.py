"""Tests of bench/gpu_train.py without a GPU: the command line, the peak table, and a tiny CPU dry run
whose FLOP counts agree with course.counting and whose MFU follows its definition."""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest
import torch

from course.counting import count_flops

_PATH = Path(__file__).resolve().parents[1] / "bench" / "gpu_train.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_gpu_train", _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_help_and_defaults(bench, capsys):
    """Check --help exits cleanly and the defaults are the documented ones."""
    with pytest.raises(SystemExit) as done:
        bench.parse_args(["--help"])
    assert done.value.code == 0 and "--tiny" in capsys.readouterr().out
    args = bench.parse_args(["--device", "cpu"])
    assert (args.batch_size, args.steps, args.warmup, args.repeats, args.amp) == (8, 20, 5, 3, "bf16")
    assert args.models == ["timesformer", "r2plus1d", "unet3d"] and not args.channels_last and not args.compile
    assert bench.parse_args(["--device", "cpu", "--tiny"]).batch_size == 2


@pytest.mark.parametrize("argv", [
    ["--device", "cpu", "--steps", "0"],
    ["--device", "cpu", "--batch-size", "-1"],
    ["--device", "cpu", "--warmup", "-1"],
    ["--device", "cpu", "--models", "vgg"],
    ["--device", "cpu", "--amp", "fp8"],
])
def test_bad_arguments_exit_with_an_error(bench, argv):
    with pytest.raises(SystemExit) as done:
        bench.parse_args(argv)
    assert done.value.code == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")
def test_cuda_without_a_gpu_names_the_fix(bench, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(["--device", "cuda"])
    assert "--device cpu" in capsys.readouterr().err


@pytest.mark.parametrize("name, tflops", [
    ("NVIDIA H100 80GB HBM3", 989.0), ("NVIDIA H100 PCIe", 756.0), ("NVIDIA H200", 989.0),
    ("NVIDIA A100-SXM4-80GB", 312.0), ("NVIDIA GeForce RTX 3090", None),
])
def test_peak_table(bench, name, tflops):
    assert bench.peak_tflops(name) == tflops


def test_tiny_cpu_dry_run(bench, tmp_path, capsys):
    """Check a tiny CPU run: every course model measured, FLOPs of a training step 2–3× the forward
    pass (course.counting.count_flops), and MFU = FLOPs · steps/s / peak with --peak-tflops."""
    out = tmp_path / "rows.json"
    rows = bench.main(["--device", "cpu", "--tiny", "--steps", "1", "--warmup", "0", "--repeats", "1",
                       "--peak-tflops", "0.5", "--json", str(out)])
    printed = capsys.readouterr().out
    assert out.exists() and "MFU" in printed
    names = [row["model"] for row in rows]
    assert {"course TimeSformer", "course r2plus1d_18", "course UNet3D"} <= set(names)
    for row in rows:
        assert row["params"] > 0 and row["gflops_per_sample"] > 0 and row["samples_per_s"] > 0
        expected_mfu = row["gflops_per_sample"] * 1e9 * row["samples_per_s"] / 0.5e12
        assert row["mfu"] == pytest.approx(expected_mfu, rel=1e-9)
    cases = {case.name: case for case in bench.cases(tiny=True)[0]}
    for name in ("course TimeSformer", "course UNet3D"):
        case, row = cases[name], rows[names.index(name)]
        torch.manual_seed(0)
        forward = count_flops(case.build(), torch.randn(2, *case.input_shape)) / 2 / 1e9  # per sample
        assert 2.0 * forward <= row["gflops_per_sample"] <= 3.0 * forward + 1e-12, (name, forward, row)
    for line in printed.splitlines():
        if line.startswith("skipped peer:"):
            assert "not importable" in line
    assert not any(math.isnan(row["ms_per_step"]) for row in rows)
