"""Graded exercises of lesson 01_video_tensors: layouts, clip sizes and temporal samplers."""
from __future__ import annotations

import numpy as np
import torch

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "01_video_tensors"


_ex = exercise_maker(ASSIGNMENT)


# --- to_conv3d_layout -------------------------------------------------------------------------
def _layout_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(3):
        n, t, c, h, w = (int(v) for v in rng.choice(np.arange(1, 10), size=5, replace=False))
        g = torch.Generator().manual_seed(int(rng.integers(1 << 31)))
        cases.append(Case((torch.rand(n, t, c, h, w, generator=g),), note=f"(N, T, C, H, W) = {(n, t, c, h, w)}"))
    t, c, h, w = (int(v) for v in rng.choice(np.arange(2, 12), size=4, replace=False))
    frames = torch.randint(0, 256, (t, c, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(int(t)))
    cases.append(Case((frames,), note=f"one clip (T, C, H, W) = {(t, c, h, w)}, uint8"))
    cases.append(Case((torch.rand(1, 1, 1, 1, 1, generator=torch.Generator().manual_seed(1)),), note="the smallest batch: N = T = C = H = W = 1"))
    t1 = int(rng.integers(2, 6))  # one frame, several channels: T = 1 is a legal clip
    cases.append(Case((torch.rand(1, t1, 3, 2, generator=torch.Generator().manual_seed(t1)),),
                      note=f"one clip of T = 1 frame, (T, C, H, W) = (1, {t1}, 3, 2)"))
    cases.append(Case((torch.zeros(3, 4, 5),), raises=ValueError, note="a 3-D tensor is not a clip"))
    cases.append(Case((torch.zeros(1, 2, 3, 4, 5, 6),), raises=ValueError, note="a 6-D tensor is not a clip"))
    return cases


def _layout_reshape(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(*x.shape[:-4], x.shape[-3], x.shape[-4], *x.shape[-2:])


def _layout_channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.movedim(-3, -1)


def _layout_swap_hw(x: torch.Tensor) -> torch.Tensor:
    return x.transpose(-4, -3).transpose(-2, -1)


# --- clip_numel ----------------------------------------------------------------------------------
def _numel_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((64, 224, 224), note="64 frames of 224 x 224 RGB"),
             Case((1800, 224, 224), note="1 minute at 30 fps")]
    for _ in range(3):
        t, h, w = (int(v) for v in rng.integers(1, 400, size=3))
        cases.append(Case((t, h, w), {"channels": int(rng.integers(1, 5)), "batch": int(rng.integers(1, 9))},
                          note=f"T, H, W = {t}, {h}, {w} with channels and batch"))
    cases.append(Case((1, 1, 1), {"channels": 1, "batch": 1}, note="the minimum: one grey 1x1 frame, one clip"))
    cases.append(Case((1, int(rng.integers(1, 50)), 1), note="T = 1 and W = 1 (legal: one frame, one column)"))
    cases.append(Case((0, 224, 224), raises=ValueError, note="num_frames = 0"))
    cases.append(Case((16, 224, 224), {"batch": 0}, raises=ValueError, note="batch = 0"))
    cases.append(Case((16, 224, 224), {"channels": 0}, raises=ValueError, note="channels = 0"))
    cases.append(Case((16.0, 224, 224), raises=ValueError, note="num_frames = 16.0, a float: sizes are integers"))
    cases.append(Case((16, 224, 2.5), raises=ValueError, note="width = 2.5"))
    return cases


def _numel_no_channels(num_frames, height, width, channels=3, batch=1):  # noqa: ANN001, ANN202
    return num_frames * height * width * batch


def _numel_bytes(num_frames, height, width, channels=3, batch=1):  # noqa: ANN001, ANN202
    return num_frames * height * width * channels * batch * 4


def _numel_no_batch(num_frames, height, width, channels=3, batch=1):  # noqa: ANN001, ANN202
    return num_frames * height * width * channels


# --- uniform_stride_indices -------------------------------------------------------------------------
def _stride_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(4):
        num, stride = int(rng.integers(1, 17)), int(rng.integers(1, 9))
        span = (num - 1) * stride + 1
        total = span + int(rng.integers(0, 40))
        start = int(rng.integers(0, total - span + 1))
        cases.append(Case((total, num, stride), {"start": start}, note=f"{num} frames, stride {stride}, start {start} of {total}"))
    cases.append(Case((30, 8, 4), {"start": 1}, note="the last index is exactly 29 of 30"))
    cases.append(Case((30, 8, 4), {"start": 2}, raises=ValueError, note="the last index would be 30 of 30"))
    cases.append(Case((1, 1, 1), note="the minimum: one frame of a one-frame video, stride 1"))
    cases.append(Case((10, 1, 4), {"start": 9}, note="one frame, the last one (stride does not matter)"))
    cases.append(Case((12, 12, 1), note="stride 1: every frame of the video"))
    cases.append(Case((30, 0, 1), raises=ValueError, note="num_frames = 0"))
    cases.append(Case((30, 4, 0), raises=ValueError, note="stride = 0"))
    cases.append(Case((30, 4, 2), {"start": -1}, raises=ValueError, note="start = -1"))
    cases.append(Case((0, 1, 1), raises=ValueError, note="total_frames = 0"))
    cases.append(Case((30, 4, 2.0), raises=ValueError, note="stride = 2.0, a float"))
    return cases


def _stride_late(total_frames, num_frames, stride, start=0):  # noqa: ANN001, ANN202
    return start + stride * torch.arange(1, num_frames + 1)


def _stride_int32(total_frames, num_frames, stride, start=0):  # noqa: ANN001, ANN202
    return (start + stride * torch.arange(num_frames)).to(torch.int32)


# --- evenly_spaced_indices -------------------------------------------------------------------------
def _even_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((250, 8), note="bikes.mp4: 8 of 250"), Case((10, 10), note="as many frames as the video has"),
             Case((5, 8), note="more samples than frames: indices repeat")]
    for _ in range(3):
        total, num = int(rng.integers(2, 500)), int(rng.integers(1, 33))
        cases.append(Case((total, num), note=f"{num} of {total}"))
    cases.append(Case((1, 1), note="the minimum: one frame of a one-frame video"))
    cases.append(Case((1, int(rng.integers(2, 6))), note="a one-frame video: every index is 0"))
    cases.append(Case((0, 3), raises=ValueError, note="total_frames = 0"))
    cases.append(Case((10, 0), raises=ValueError, note="num_frames = 0"))
    cases.append(Case((10.0, 3), raises=ValueError, note="total_frames = 10.0, a float"))
    return cases


def _even_starts(total_frames, num_frames):  # noqa: ANN001, ANN202
    return torch.arange(num_frames) * total_frames // num_frames


def _even_linspace(total_frames, num_frames):  # noqa: ANN001, ANN202
    return torch.linspace(0, total_frames - 1, num_frames).long()


def _even_round(total_frames, num_frames):  # noqa: ANN001, ANN202
    return torch.round((torch.arange(num_frames) + 0.5) * total_frames / num_frames).long()


# --- random_crop_indices ------------------------------------------------------------------------------
def _crop_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((100, 8, 2, 0.0), note="u = 0: the first possible start"),
             Case((100, 8, 2, 0.999999), note="u close to 1: the last possible start"),
             Case((15, 8, 2, 0.5), note="the clip fills the video exactly")]
    for _ in range(3):
        num, stride = int(rng.integers(1, 17)), int(rng.integers(1, 5))
        total = (num - 1) * stride + 1 + int(rng.integers(0, 200))
        cases.append(Case((total, num, stride, float(rng.random())), note=f"{num} frames, stride {stride} of {total}"))
    cases.append(Case((10, 8, 2, 0.5), raises=ValueError, note="the clip is longer than the video"))
    cases.append(Case((1, 1, 1, 0.5), note="the minimum: one frame of a one-frame video"))
    cases.append(Case((10, 1, 5, 0.95), note="one frame: the stride does not matter, 10 starts"))
    cases.append(Case((100, 8, 1, 0.5), note="stride 1: consecutive frames"))
    cases.append(Case((100, 8, 2, 1.0), raises=ValueError, note="u must be < 1"))
    cases.append(Case((100, 8, 2, -0.25), raises=ValueError, note="u must be >= 0"))
    cases.append(Case((100, 8, 0, 0.5), raises=ValueError, note="stride = 0"))
    cases.append(Case((100, 0, 2, 0.5), raises=ValueError, note="num_frames = 0"))
    cases.append(Case((100.0, 8, 2, 0.5), raises=ValueError, note="total_frames = 100.0, a float"))
    return cases


def _crop_no_plus_one(total_frames, num_frames, stride, u):  # noqa: ANN001, ANN202
    span = (num_frames - 1) * stride + 1
    return int(u * (total_frames - span)) + stride * torch.arange(num_frames)


def _crop_span_no_stride(total_frames, num_frames, stride, u):  # noqa: ANN001, ANN202
    return int(u * (total_frames - num_frames + 1)) + stride * torch.arange(num_frames)


def _crop_whole_video(total_frames, num_frames, stride, u):  # noqa: ANN001, ANN202
    return int(u * total_frames) + stride * torch.arange(num_frames)


# --- multi_clip_indices ----------------------------------------------------------------------------
def _multi_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((250, 4, 8), {"stride": 2}, note="4 clips of 8 frames, stride 2, from 250"),
             Case((100, 1, 16), note="one clip: centred"),
             Case((16, 3, 16), note="clips as long as the video")]
    for _ in range(3):
        k, num, stride = int(rng.integers(1, 11)), int(rng.integers(1, 17)), int(rng.integers(1, 5))
        total = (num - 1) * stride + 1 + int(rng.integers(0, 300))
        cases.append(Case((total, k, num), {"stride": stride}, note=f"{k} clips of {num}, stride {stride}, from {total}"))
    cases.append(Case((1, 1, 1), note="the minimum: one clip of one frame from a one-frame video"))
    cases.append(Case((9, 3, 1), note="one-frame clips, stride 1: first, middle and last frame"))
    cases.append(Case((10, 2, 8), {"stride": 2}, raises=ValueError, note="clips longer than the video"))
    cases.append(Case((100, 0, 8), raises=ValueError, note="num_clips = 0"))
    cases.append(Case((100, 2, 8), {"stride": 0}, raises=ValueError, note="stride = 0"))
    cases.append(Case((100, 2.0, 8), raises=ValueError, note="num_clips = 2.0, a float"))
    return cases


def _multi_span_no_stride(total_frames, num_clips, num_frames, stride=1):  # noqa: ANN001, ANN202
    starts = [k * (total_frames - num_frames) // max(num_clips - 1, 1) for k in range(num_clips)]
    if num_clips == 1:
        starts = [(total_frames - num_frames) // 2]
    return torch.tensor(starts)[:, None] + stride * torch.arange(num_frames)


def _multi_single_at_zero(total_frames, num_clips, num_frames, stride=1):  # noqa: ANN001, ANN202
    span = (num_frames - 1) * stride + 1
    starts = [k * (total_frames - span) // max(num_clips - 1, 1) for k in range(num_clips)]
    return torch.tensor(starts)[:, None] + stride * torch.arange(num_frames)


def _multi_divide_by_k(total_frames, num_clips, num_frames, stride=1):  # noqa: ANN001, ANN202
    span = (num_frames - 1) * stride + 1
    starts = [k * (total_frames - span) // num_clips for k in range(num_clips)]
    return torch.tensor(starts)[:, None] + stride * torch.arange(num_frames)


EXERCISES = [
    _ex("to_conv3d_layout", "course.video.layout", _layout_cases, [
        Misconception("reshape", "reshape/view keeps the memory order and only relabels the sizes; "
                      "moving an axis needs permute (or movedim/transpose)", _layout_reshape),
        Misconception("channels_last", "channels were moved to the last axis; Conv3d wants (N, C, T, H, W)",
                      _layout_channels_last),
        Misconception("swap_hw", "height and width were swapped as well", _layout_swap_hw),
    ]),
    _ex("clip_numel", "course.video.sampling", _numel_cases, [
        Misconception("no_channels", "the colour channels were not counted", _numel_no_channels),
        Misconception("bytes", "that is the size in bytes of float32 numbers, not the number of values", _numel_bytes),
        Misconception("no_batch", "the batch size was not counted", _numel_no_batch),
    ]),
    _ex("uniform_stride_indices", "course.video.sampling", _stride_cases, [
        Misconception("late", "the clip starts one stride late: the first index is `start`", _stride_late),
        Misconception("int32", "indices must be torch.int64 (torch.long), the dtype indexing expects", _stride_int32),
    ]),
    _ex("evenly_spaced_indices", "course.video.sampling", _even_cases, [
        Misconception("starts", "these are the segment starts; take the centre of each segment, floor((i + 0.5) * T / N)",
                      _even_starts),
        Misconception("linspace", "linspace over [0, T - 1] is a different rule; take segment centres", _even_linspace),
        Misconception("round", "round() instead of floor: use integer arithmetic ((2i + 1) * T) // (2N)", _even_round),
    ]),
    _ex("random_crop_indices", "course.video.sampling", _crop_cases, [
        Misconception("no_plus_one", "off by one: there are total_frames - span + 1 possible starts", _crop_no_plus_one),
        Misconception("span", "the clip spans (num_frames - 1) * stride + 1 frames, not num_frames", _crop_span_no_stride),
        Misconception("whole_video", "the start was drawn over the whole video, so the clip can run past the end",
                      _crop_whole_video),
    ]),
    _ex("multi_clip_indices", "course.video.sampling", _multi_cases, [
        Misconception("span", "the clip spans (num_frames - 1) * stride + 1 frames, not num_frames",
                      _multi_span_no_stride),
        Misconception("single", "with one clip, centre it: start (total_frames - span) // 2", _multi_single_at_zero),
        Misconception("divide_by_k", "divide the free range by num_clips - 1 so the last clip ends at the last frame",
                      _multi_divide_by_k),
    ]),
]
