"""Tests of bench/gpu_unet_peer.py and of bench/sliding_window.py's size options, without a GPU: the command
lines, a tiny CPU dry run (FLOPs against course.counting, the checkpointed row's model FLOPs, the nnU-Net peer
or the line that names why it is missing), and sliding-window outputs equal to MONAI's."""
from __future__ import annotations

import importlib
import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import torch

from course.counting import count_flops
from course.patches import window_starts

_BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", _BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def peer():
    return _load("gpu_unet_peer")


@pytest.fixture(scope="module")
def sliding():
    return _load("sliding_window")


def test_help_and_defaults(peer, capsys):
    """Check --help exits cleanly and the defaults are the documented configuration (128³, batch 2, bf16)."""
    with pytest.raises(SystemExit) as done:
        peer.parse_args(["--help"])
    assert done.value.code == 0 and "--tiny" in capsys.readouterr().out
    args = peer.parse_args(["--device", "cpu"])
    assert (args.patch, args.batch_size, args.amp, args.steps, args.warmup, args.repeats) == (128, 2, "bf16", 20, 5, 3)
    assert peer.FEATURES == (32, 64, 128, 256, 320, 320) and not args.channels_last and not args.compile
    tiny = peer.parse_args(["--device", "cpu", "--tiny"])
    assert (tiny.patch, tiny.amp) == (64, "none")
    assert peer.parse_args(["--device", "cpu", "--tiny", "--amp", "bf16"]).amp == "bf16"


@pytest.mark.parametrize("argv", [
    ["--patch", "100"],  # not a multiple of 32
    ["--patch", "32"],  # the bottom stage would be 1³: instance norm cannot train
    ["--steps", "0"],
    ["--batch-size", "0"],
    ["--warmup", "-1"],
    ["--amp", "fp8"],
])
def test_bad_arguments_exit_with_an_error(peer, argv):
    with pytest.raises(SystemExit) as done:
        peer.parse_args(["--device", "cpu", *argv])
    assert done.value.code == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")
def test_cuda_without_a_gpu_names_the_fix(peer, sliding, capsys):
    for parse in (peer.parse_args, sliding.parse_args):
        with pytest.raises(SystemExit):
            parse(["--device", "cuda"])
        assert "--device cpu" in capsys.readouterr().err


def test_tiny_cpu_dry_run(peer, tmp_path, capsys):
    """Check a tiny CPU run: course's rows and the peer measured, training FLOPs 2–3× the forward pass
    (course.counting.count_flops), the checkpointed row with the plain model's FLOPs and more hardware
    FLOPs (the recomputed forward), MFU = FLOPs · steps/s / peak, and the peer's size near course's."""
    out = tmp_path / "rows.json"
    rows = peer.main(["--device", "cpu", "--tiny", "--batch-size", "1", "--steps", "1", "--warmup", "0",
                      "--repeats", "1", "--peak-tflops", "0.5", "--json", str(out)])
    printed = capsys.readouterr().out
    assert json.loads(out.read_text())["rows"] == rows and "MFU" in printed
    by_name = {row["model"]: row for row in rows}
    plain, checkpointed = by_name["course UNet3D"], by_name["course UNet3D, checkpointed"]
    for row in rows:
        assert row["params"] > 0 and row["samples_per_s"] > 0 and not math.isnan(row["ms_per_step"])
        expected_mfu = row["gflops_per_sample"] * 1e9 * row["samples_per_s"] / 0.5e12
        assert row["mfu"] == pytest.approx(expected_mfu, rel=1e-9)
    torch.manual_seed(0)
    case = peer.cases(True, 64)[0][0]
    forward = count_flops(case.build(), torch.randn(1, *case.input_shape)) / 1e9
    assert 2.0 * forward <= plain["gflops_per_sample"] <= 3.0 * forward
    assert checkpointed["params"] == plain["params"] and checkpointed["gflops_per_sample"] == plain["gflops_per_sample"]
    model_flops, hardware_flops = plain["gflops_per_sample"], checkpointed["hardware_gflops_per_sample"]
    assert 1.1 * model_flops <= hardware_flops <= 1.6 * model_flops
    if importlib.util.find_spec("dynamic_network_architectures") is not None:
        nnunet = by_name["nnU-Net PlainConvUNet"]
        assert nnunet["params"] == pytest.approx(plain["params"], rel=0.01)
        assert nnunet["gflops_per_sample"] == pytest.approx(plain["gflops_per_sample"], rel=0.05)
    else:
        assert "skipped peer: dynamic_network_architectures" in printed


def test_missing_peer_is_skipped_and_named(peer, monkeypatch):
    """Check that without dynamic_network_architectures the peer is left out with a line saying why."""
    real = importlib.import_module

    def no_dna(name, *args, **kwargs):
        if name.startswith("dynamic_network_architectures"):
            raise ImportError("No module named 'dynamic_network_architectures'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(peer.importlib, "import_module", no_dna)
    selected, skipped = peer.cases(False, 128)
    assert [case.name for case in selected] == ["course UNet3D", "course UNet3D, checkpointed"]
    assert len(skipped) == 1 and "not importable" in skipped[0] and "pip install" in skipped[0]


def test_sliding_window_defaults_and_the_gpu_size(sliding):
    """Check the default arguments are the original benchmark's and --size 256 --roi 128 is a cube."""
    args = sliding.parse_args(["--device", "cpu"])
    assert (args.size, args.roi, args.overlaps, args.modes, args.sw_batch_size, args.predictor) == (
        (96, 112, 96), (48, 48, 48), [0.25, 0.5], ["constant", "gaussian"], 4, "conv")
    args = sliding.parse_args(["--device", "cpu", "--size", "256", "--roi", "128", "--overlaps", "0.5",
                               "--predictor", "unet3d"])
    assert (args.size, args.roi, args.overlaps) == ((256, 256, 256), (128, 128, 128), [0.5])
    for argv in (["--size", "1", "2"], ["--roi", "0"], ["--overlaps", "1.0"], ["--predictor", "unet3d", "--roi", "48"]):
        with pytest.raises(SystemExit) as done:
            sliding.parse_args(["--device", "cpu", *argv])
        assert done.value.code == 2


def test_sliding_window_tiny_run_equals_monai(sliding, capsys):
    """Check a small CPU run: course's and MONAI's outputs agree, and the window counts are window_starts'."""
    rows = sliding.main(["--device", "cpu", "--repeats", "1", "--size", "20", "24", "18", "--roi", "8", "6", "8",
                         "--overlaps", "0.25", "0.5"])
    assert len(rows) == 4 and "MONAI" in capsys.readouterr().out
    for row in rows:
        assert row["max_abs_diff"] <= 1e-6
        assert row["windows"] == math.prod(len(window_starts(s, r, row["overlap"]))
                                           for s, r in zip((20, 24, 18), (8, 6, 8)))
