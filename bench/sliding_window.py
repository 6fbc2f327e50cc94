"""Sliding-window inference: ``course.patches`` vs MONAI on one volume (default (1, 1, 96, 112, 96)).

A small two-layer conv network (1 → 8 → 3 channels, eval mode) predicts 48³ windows, four per call,
with constant and Gaussian blending at overlap 0.25 and 0.5. For each setting the table gives the
number of windows, the best of ``--repeats`` wall times of both implementations and the largest
absolute difference of their outputs (both are float32; a difference of ~1e-7 is rounding).

    .venv/bin/python bench/sliding_window.py [--repeats 3] [--device cpu|cuda]

The GPU-size case: a 256³ volume, 128³ windows at overlap 0.5, and the full-size 6-stage 3D U-Net
(``UNet3D(1, 3, (32, 64, 128, 256, 320, 320), norm="instance")``, random weights, float32) as the
predictor instead of the two-layer network:

    .venv/bin/python bench/sliding_window.py --device cuda --size 256 --roi 128 --overlaps 0.5 --predictor unet3d

``--size`` and ``--roi`` take one side (a cube) or three (D H W); ``--modes`` and ``--overlaps`` pick
the settings; ``--sw-batch-size`` the windows per call (default 4).
"""
from __future__ import annotations

import argparse
import math
import time

import torch
from monai.inferers import sliding_window_inference as monai_sliding_window_inference

from course.patches import sliding_window_inference, window_starts

SHAPE = (1, 1, 96, 112, 96)
ROI = (48, 48, 48)
SW_BATCH = 4


def best_time(fn, repeats: int, device: torch.device) -> tuple[float, torch.Tensor]:
    best, out = math.inf, None
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.no_grad():
            out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best, torch.as_tensor(out)


def _cube(values: list[int], name: str, parser: argparse.ArgumentParser) -> tuple[int, int, int]:
    """One side (a cube) or three sides (D, H, W), each >= 1."""
    if len(values) not in (1, 3) or min(values) < 1:
        parser.error(f"--{name} takes one side or three (D H W), each >= 1, got {values}")
    return tuple(values * 3 if len(values) == 1 else values)  # type: ignore[return-value]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; the defaults are the original benchmark's (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, nargs="+", default=list(SHAPE[2:]), help="volume D H W (or one side)")
    parser.add_argument("--roi", type=int, nargs="+", default=list(ROI), help="window D H W (or one side)")
    parser.add_argument("--overlaps", type=float, nargs="+", default=[0.25, 0.5])
    parser.add_argument("--modes", nargs="+", choices=("constant", "gaussian"), default=["constant", "gaussian"])
    parser.add_argument("--sw-batch-size", type=int, default=SW_BATCH, help="windows per predictor call")
    parser.add_argument("--predictor", choices=("conv", "unet3d"), default="conv",
                        help="conv: 1 → 8 → 3 channels; unet3d: the 6-stage 3D U-Net (roi a multiple of 32)")
    args = parser.parse_args(argv)
    args.size, args.roi = _cube(args.size, "size", parser), _cube(args.roi, "roi", parser)
    if args.repeats < 1 or args.sw_batch_size < 1 or not all(0 <= o < 1 for o in args.overlaps):
        parser.error(f"need --repeats >= 1, --sw-batch-size >= 1 and overlaps in [0, 1), got {args.repeats}, "
                     f"{args.sw_batch_size}, {args.overlaps}")
    if args.predictor == "unet3d" and any(r % 32 or r < 64 for r in args.roi):
        parser.error(f"--predictor unet3d has 6 stages: every --roi side must be a multiple of 32 and >= 64, got "
                     f"{args.roi}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: torch sees no CUDA device; use --device cpu")
    return args


def predictor(kind: str, device: torch.device) -> torch.nn.Module:
    """The network both implementations call, in eval mode (seeded weights)."""
    torch.manual_seed(0)
    if kind == "unet3d":
        from course.nn.unet3d import UNet3D

        net = UNet3D(1, 3, (32, 64, 128, 256, 320, 320), norm="instance")
    else:
        net = torch.nn.Sequential(torch.nn.Conv3d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                  torch.nn.Conv3d(8, 3, 3, padding=1))
    return net.to(device).eval()


def main(argv: list[str] | None = None) -> list[dict]:
    """Time both implementations for every mode and overlap; print the table and return its rows."""
    args = parse_args(argv)
    device = torch.device(args.device)
    net = predictor(args.predictor, device)
    shape, roi, batch = (1, 1, *args.size), args.roi, args.sw_batch_size
    torch.manual_seed(0)
    inputs = torch.randn(shape, device=device)
    print(f"input {shape}, roi {roi}, sw_batch_size {batch}, predictor {args.predictor}, device {device}, "
          f"best of {args.repeats}")
    print(f"{'mode':<10}{'overlap':>8}{'windows':>8}{'course (s)':>12}{'MONAI (s)':>11}{'max |diff|':>12}")
    rows = []
    for mode in args.modes:
        for overlap in args.overlaps:
            windows = math.prod(len(window_starts(max(s, r), r, overlap)) for s, r in zip(shape[2:], roi))
            ours_s, ours = best_time(lambda: sliding_window_inference(inputs, roi, net, overlap, mode,
                                                                      sw_batch_size=batch), args.repeats, device)
            theirs_s, theirs = best_time(lambda: monai_sliding_window_inference(inputs, roi, batch, net,
                                                                                overlap, mode), args.repeats, device)
            diff = (ours - theirs).abs().max().item()
            print(f"{mode:<10}{overlap:>8}{windows:>8}{ours_s:>12.3f}{theirs_s:>11.3f}{diff:>12.2e}")
            rows.append(dict(mode=mode, overlap=overlap, windows=windows, course_s=ours_s, monai_s=theirs_s,
                             max_abs_diff=diff))
    return rows


if __name__ == "__main__":
    main()
