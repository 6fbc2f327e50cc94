"""Optical flow speed and agreement: our Horn–Schunck and Lucas–Kanade against OpenCV's Farneback.

On pairs of consecutive grey frames of ``bikes.mp4`` (640×272), prints milliseconds per frame pair
(best of ``--repeat``) and, for ours, the mean and median cosine between our flow and Farneback's over pixels
that move more than 1 px. Ours run batched on ``--device`` (the GPU when present); Farneback runs on
the CPU one pair at a time. A benchmark, not a test: run by hand (``python bench/flow.py``).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from course.data.samples import bikes_path
from course.video.flow import horn_schunck, lucas_kanade
from course.video.io import read_clip


def _best_ms(fn, repeat: int, sync: bool) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        if sync:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=4, help="consecutive frame pairs from frame 100")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    import cv2

    frames = read_clip(bikes_path(), list(range(100, 101 + args.pairs))).float().mean(dim=1) / 255  # (P+1, H, W)
    first, second = frames[:-1], frames[1:]
    grey = (frames.numpy() * 255).astype(np.uint8)

    def farneback() -> list[np.ndarray]:
        return [cv2.calcOpticalFlowFarneback(grey[i], grey[i + 1], None, 0.5, 4, 15, 3, 5, 1.2, 0)
                for i in range(args.pairs)]

    ref = torch.from_numpy(np.stack(farneback())).permute(0, 3, 1, 2)  # (P, 2, H, W)
    moving = ref.norm(dim=1) > 1.0
    dev, sync = torch.device(args.device), args.device.startswith("cuda")
    f1, f2 = first.to(dev), second.to(dev)
    print(f"bikes.mp4, {args.pairs} pairs of {tuple(first.shape[1:])}, ours on {dev}")
    print(f"{'method':<28}{'ms / pair':>10}{'mean / median cosine vs Farneback':>36}")
    print(f"{'OpenCV Farneback (CPU)':<28}{_best_ms(farneback, args.repeat, False) / args.pairs:>10.1f}{'-':>36}")
    for name, fn in [("horn_schunck (4 levels)", horn_schunck), ("lucas_kanade (4 levels)", lucas_kanade)]:
        ms = _best_ms(lambda: fn(f1, f2, levels=4), args.repeat, sync) / args.pairs  # noqa: B023
        flow = fn(f1, f2, levels=4).cpu()
        cosine = torch.nn.functional.cosine_similarity(flow, ref, dim=1, eps=1e-6)[moving]
        print(f"{name:<28}{ms:>10.1f}{f'{cosine.mean():.3f} / {cosine.median():.3f}':>36}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
