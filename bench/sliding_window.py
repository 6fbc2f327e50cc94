"""Sliding-window inference: ``course.patches`` vs MONAI on one (1, 1, 96, 112, 96) volume.

A small two-layer conv network (1 → 8 → 3 channels, eval mode) predicts 48³ windows, four per call,
with constant and Gaussian blending at overlap 0.25 and 0.5. For each setting the table gives the
number of windows, the best of ``--repeats`` wall times of both implementations and the largest
absolute difference of their outputs (both are float32; a difference of ~1e-7 is rounding).

    .venv/bin/python bench/sliding_window.py [--repeats 3] [--device cpu|cuda]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    predictor = torch.nn.Sequential(torch.nn.Conv3d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                    torch.nn.Conv3d(8, 3, 3, padding=1)).to(device).eval()
    inputs = torch.randn(SHAPE, device=device)
    print(f"input {SHAPE}, roi {ROI}, sw_batch_size {SW_BATCH}, device {device}, best of {args.repeats}")
    print(f"{'mode':<10}{'overlap':>8}{'windows':>8}{'course (s)':>12}{'MONAI (s)':>11}{'max |diff|':>12}")
    for mode in ("constant", "gaussian"):
        for overlap in (0.25, 0.5):
            windows = math.prod(len(window_starts(s, r, overlap)) for s, r in zip(SHAPE[2:], ROI))
            ours_s, ours = best_time(lambda: sliding_window_inference(inputs, ROI, predictor, overlap, mode,
                                                                      sw_batch_size=SW_BATCH), args.repeats, device)
            theirs_s, theirs = best_time(lambda: monai_sliding_window_inference(inputs, ROI, SW_BATCH, predictor,
                                                                                overlap, mode), args.repeats, device)
            diff = (ours - theirs).abs().max().item()
            print(f"{mode:<10}{overlap:>8}{windows:>8}{ours_s:>12.3f}{theirs_s:>11.3f}{diff:>12.2e}")


if __name__ == "__main__":
    main()
