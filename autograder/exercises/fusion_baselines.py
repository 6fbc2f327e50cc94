"""Graded exercises of lesson 03_fusion_baselines: the toroidal motion of Moving Digits, and the
tensor plumbing of single-frame, late, early and slow fusion."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "03_fusion_baselines"


_ex = exercise_maker(ASSIGNMENT)


def _gen(rng: np.random.Generator) -> torch.Generator:
    return torch.Generator().manual_seed(int(rng.integers(1 << 31)))


def _distinct(rng: np.random.Generator, k: int, low: int = 2, high: int = 10) -> list[int]:
    """k distinct sizes in [low, high), so that a mixed-up axis changes the shape or the values."""
    return [int(v) for v in rng.choice(np.arange(low, high), size=k, replace=False)]


# --- shift_frame -------------------------------------------------------------------------------------
_STEP = ((-1, 0), (1, 0), (0, -1), (0, 1))  # (row, column) step of up, down, left, right


def _shift_cases(rng: np.random.Generator) -> list[Case]:
    g = _gen(rng)
    H, W = _distinct(rng, 2, 4, 12)
    cases = [Case((torch.rand(H, W, generator=g), 0, 2), note=f"up by 2 on one {H}x{W} frame")]
    for direction, name in enumerate(["up", "down", "left", "right"]):
        pixels = int(rng.integers(1, 6))
        cases.append(Case((torch.rand(2, 1, 3, H, W, generator=g), direction, pixels),
                          note=f"{name} by {pixels} on a batch (2, 1, 3, {H}, {W})"))
    cases.append(Case((torch.rand(H, W, generator=g), int(rng.integers(0, 4)), H + W + 1),
                      note=f"more pixels ({H + W + 1}) than the frame is wide: wraps around more than once"))
    cases.append(Case((torch.randint(0, 256, (3, H, W), dtype=torch.uint8, generator=g), 3, 0),
                      note="0 pixels, uint8: unchanged"))
    cases.append(Case((torch.zeros(H, W), 4, 1), raises=ValueError, note="direction 4 does not exist"))
    cases.append(Case((torch.rand(1, 1, generator=g), int(rng.integers(0, 4)), 1), note="the minimum: a 1x1 frame"))
    cases.append(Case((torch.rand(1, 2, 3, generator=g), 2, 1), note="left by 1 on a 2x3 frame"))
    cases.append(Case((torch.zeros(H, W), 4, 1), raises=ValueError, note="direction 4 does not exist"))
    cases.append(Case((torch.zeros(H, W), -1, 1), raises=ValueError, note="direction -1 does not exist"))
    cases.append(Case((torch.zeros(H, W), "up", 1), raises=ValueError, note="direction 'up', a string: use 0"))
    cases.append(Case((torch.zeros(W), 0, 1), raises=ValueError, note="a 1-D tensor is not a frame"))
    cases.append(Case((torch.tensor(1.0), 0, 1), raises=ValueError, note="a 0-D tensor is not a frame"))
    return cases


def _shift_axes(frame, direction, pixels):  # noqa: ANN001, ANN202
    dr, dc = _STEP[direction]
    return torch.roll(frame, shifts=(dc * pixels, dr * pixels), dims=(-2, -1))


def _shift_sign(frame, direction, pixels):  # noqa: ANN001, ANN202
    dr, dc = _STEP[direction]
    return torch.roll(frame, shifts=(-dr * pixels, -dc * pixels), dims=(-2, -1))


def _shift_zero_fill(frame, direction, pixels):  # noqa: ANN001, ANN202
    dr, dc = _STEP[direction]
    H, W = frame.shape[-2:]
    out = torch.zeros_like(frame)
    r, c = dr * pixels, dc * pixels
    if abs(r) >= H or abs(c) >= W:
        return out
    out[..., max(r, 0):H + min(r, 0), max(c, 0):W + min(c, 0)] = frame[..., max(-r, 0):H + min(-r, 0),
                                                                        max(-c, 0):W + min(-c, 0)]
    return out


# --- select_frames -----------------------------------------------------------------------------------
def _select_cases(rng: np.random.Generator) -> list[Case]:
    g = _gen(rng)
    N, H, W = _distinct(rng, 3, 2, 8)
    T = 2 * int(rng.integers(2, 5))  # even
    C = T // 2 + int(rng.integers(1, 3))  # more channels than T // 2, so indexing C instead of T runs
    cases = [Case((torch.rand(N, C, T, H, W, generator=g), "middle"), note=f"middle of T = {T} (even)"),
             Case((torch.rand(N, C, T + 1, H, W, generator=g), "middle"), note=f"middle of T = {T + 1} (odd)"),
             Case((torch.rand(N, C, T, H, W, generator=g), "first_last"), note=f"first and last of T = {T}"),
             Case((torch.rand(N, 1, T + 3, H, W, generator=g), "first_last"), note=f"first and last of T = {T + 3}"),
             Case((torch.rand(N, 2, 1, H, W, generator=g), "first_last"), note="T = 1: the first frame is the last"),
             Case((torch.randint(0, 256, (1, 3, 5, H, W), dtype=torch.uint8, generator=g), "middle"),
                  note="uint8 clip"),
             Case((torch.rand(1, 1, 1, 1, 1, generator=g), "middle"), note="the minimum: T = 1, middle"),
             Case((torch.rand(N, 1, 2, 1, W, generator=g), "middle"), note="T = 2: the middle is frame 1"),
             Case((torch.rand(1, 1, 2, 1, 1, generator=g), "first_last"), note="T = 2: both frames"),
             Case((torch.rand(N, C, T, H, W, generator=g), "last"), raises=ValueError, note="unknown mode"),
             Case((torch.rand(C, T, H, W, generator=g), "middle"), raises=ValueError, note="a 4-D tensor"),
             Case((torch.rand(1, N, C, T, H, W, generator=g), "middle"), raises=ValueError, note="a 6-D tensor")]
    return cases


def _select_indices(T: int, mode: str) -> list[int]:
    return [T // 2] if mode == "middle" else [0, T - 1]


def _select_floor(clip, mode):  # noqa: ANN001, ANN202
    T = clip.shape[2]
    return clip[:, :, [(T - 1) // 2] if mode == "middle" else [0, T - 1]]


def _select_dropped_axis(clip, mode):  # noqa: ANN001, ANN202
    T = clip.shape[2]
    return clip[:, :, T // 2] if mode == "middle" else clip[:, :, [0, T - 1]]


def _select_channel_axis(clip, mode):  # noqa: ANN001, ANN202
    return clip[:, _select_indices(clip.shape[2], mode)]


# --- fold_frames -------------------------------------------------------------------------------------
def _fold_cases(rng: np.random.Generator) -> list[Case]:
    g = _gen(rng)
    cases = []
    for _ in range(3):
        N, C, T, H, W = _distinct(rng, 5, 2, 9)
        cases.append(Case((torch.rand(N, C, T, H, W, generator=g),), note=f"(N, C, T, H, W) = {(N, C, T, H, W)}"))
    cases.append(Case((torch.randint(0, 256, (2, 3, 4, 5, 6), dtype=torch.uint8, generator=g),), note="uint8 clips"))
    cases.append(Case((torch.rand(1, 1, 7, 3, 3, generator=g),), note="one grey clip"))
    cases.append(Case((torch.rand(1, 1, 1, 1, 1, generator=g),), note="the minimum: N = C = T = H = W = 1"))
    cases.append(Case((torch.rand(3, 2, 1, 4, 5, generator=g),), note="T = 1: one frame per clip"))
    cases.append(Case((torch.rand(4, 3, 5, 6, generator=g),), raises=ValueError, note="a 4-D tensor"))
    cases.append(Case((torch.rand(1, 2, 3, 4, 5, 6, generator=g),), raises=ValueError, note="a 6-D tensor"))
    return cases


def _fold_reshape(clip):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    return clip.reshape(N * T, C, H, W)


def _fold_time_major(clip):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    return clip.permute(2, 0, 1, 3, 4).reshape(T * N, C, H, W)


# --- early_fusion_stack ------------------------------------------------------------------------------
def _stack_cases(rng: np.random.Generator) -> list[Case]:
    g = _gen(rng)
    cases = []
    for _ in range(3):
        N, C, T, H, W = _distinct(rng, 5, 2, 9)
        cases.append(Case((torch.rand(N, C, T, H, W, generator=g),), note=f"(N, C, T, H, W) = {(N, C, T, H, W)}"))
    cases.append(Case((torch.rand(3, 1, 8, 5, 7, generator=g),), note="grey clips of 8 frames (Moving Digits)"))
    cases.append(Case((torch.randint(0, 256, (2, 3, 4, 5, 6), dtype=torch.uint8, generator=g),), note="uint8 clips"))
    cases.append(Case((torch.rand(1, 1, 1, 1, 1, generator=g),), note="the minimum: N = C = T = H = W = 1"))
    cases.append(Case((torch.rand(2, 3, 1, 4, 5, generator=g),), note="T = 1: the stack is the frame"))
    cases.append(Case((torch.rand(4, 3, 5, 6, generator=g),), raises=ValueError, note="a 4-D tensor"))
    cases.append(Case((torch.rand(1, 2, 3, 4, 5, 6, generator=g),), raises=ValueError, note="a 6-D tensor"))
    return cases


def _stack_time_major(clip):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    return clip.permute(0, 2, 1, 3, 4).reshape(N, T * C, H, W)


def _stack_mean(clip):  # noqa: ANN001, ANN202
    return clip.mean(dim=2)


# --- circular_pad_hw ---------------------------------------------------------------------------------
def _pad_cases(rng: np.random.Generator) -> list[Case]:
    g = _gen(rng)
    N, C, T, H, W = _distinct(rng, 5, 3, 10)
    pad = int(rng.integers(1, min(H, W)))
    cases = [Case((torch.rand(N, C, T, H, W, generator=g), pad), note=f"(N, C, T, H, W) = {(N, C, T, H, W)}, pad {pad}"),
             Case((torch.rand(N, C, H, W, generator=g), 1), note=f"(N, C, H, W) = {(N, C, H, W)}, pad 1"),
             Case((torch.rand(H, W, generator=g), min(H, W)), note=f"one {H}x{W} frame padded by min(H, W)"),
             Case((torch.rand(2, 1, 3, 5, 4, generator=g), 0), note="pad 0: unchanged"),
             Case((torch.randint(0, 256, (2, 3, 6, 7), dtype=torch.uint8, generator=g), 2), note="uint8"),
             Case((torch.rand(2, 3, 4, 5, generator=g), 5), raises=ValueError, note="pad larger than H = 4"),
             Case((torch.rand(1, 1, generator=g), 1), note="the minimum: a 1x1 frame padded by 1 (= min(H, W))"),
             Case((torch.rand(2, 1, 2, 1, 5, generator=g), 1), note="H = 1, pad 1: the row wraps onto itself"),
             Case((torch.rand(2, 3, 4, 5, generator=g), 5), raises=ValueError, note="pad larger than H = 4"),
             Case((torch.rand(2, 3, 6, 3, generator=g), 4), raises=ValueError, note="pad larger than W = 3"),
             Case((torch.rand(2, 3, 4, 5, generator=g), -1), raises=ValueError, note="negative pad"),
             Case((torch.rand(5, generator=g), 1), raises=ValueError, note="a 1-D tensor")]
    return cases


def _pad_zeros(x, pad):  # noqa: ANN001, ANN202
    return F.pad(x, (pad, pad, pad, pad))


def _pad_swapped(x, pad):  # noqa: ANN001, ANN202
    H, W = x.shape[-2:]
    x = torch.cat([x[..., :pad, :], x, x[..., H - pad:, :]], dim=-2)
    return torch.cat([x[..., :pad], x, x[..., W - pad:]], dim=-1)


def _pad_wraps_time(x, pad):  # noqa: ANN001, ANN202
    if x.dim() < 3:
        return x
    D, H, W = x.shape[-3:]
    x = torch.cat([x[..., D - pad:, :, :], x, x[..., :pad, :, :]], dim=-3)
    x = torch.cat([x[..., H - pad:, :], x, x[..., :pad, :]], dim=-2)
    return torch.cat([x[..., W - pad:], x, x[..., :pad]], dim=-1)


# --- slow_fusion_windows -----------------------------------------------------------------------------
def _windows_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((8, 4, 2), note="8 frames, windows of 4, stride 2 (SlowFusion's first layer)"),
             Case((10, 4, 2), note="10 frames, windows of 4, stride 2 (Karpathy et al. 2014)"),
             Case((5, 5, 1), note="one window covers the whole clip"),
             Case((9, 2, 3), note="stride larger than the window: frames are skipped")]
    for _ in range(2):
        window, stride = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        T = window + int(rng.integers(0, 20))
        cases.append(Case((T, window, stride), note=f"{T} frames, windows of {window}, stride {stride}"))
    cases.append(Case((4, 5, 1), raises=ValueError, note="a window longer than the clip"))
    cases.append(Case((1, 1, 1), note="the minimum: one frame, a window of 1, stride 1"))
    cases.append(Case((int(rng.integers(2, 9)), 1, 1), note="windows of one frame, stride 1: every frame alone"))
    cases.append(Case((4, 5, 1), raises=ValueError, note="a window longer than the clip"))
    cases.append(Case((8, 2, 0), raises=ValueError, note="stride 0"))
    cases.append(Case((8, 0, 1), raises=ValueError, note="window 0"))
    cases.append(Case((0, 1, 1), raises=ValueError, note="num_frames 0"))
    return cases


def _windows_no_plus_one(num_frames, window, stride):  # noqa: ANN001, ANN202
    k = (num_frames - window) // stride
    return (torch.arange(k) * stride)[:, None] + torch.arange(window)[None, :]


def _windows_ignore_stride(num_frames, window, stride):  # noqa: ANN001, ANN202
    k = (num_frames - window) // stride + 1
    return (torch.arange(k) * window)[:, None] + torch.arange(window)[None, :]


EXERCISES = [
    _ex("shift_frame", "course.data.moving_digits", _shift_cases, [
        Misconception("axes", "up/down move along the rows (axis -2, H) and left/right along the columns "
                      "(axis -1, W); these axes are swapped", _shift_axes),
        Misconception("sign", "up means towards row 0, a negative shift along H (and left a negative shift "
                      "along W); the signs are reversed", _shift_sign),
        Misconception("zero_fill", "the canvas wraps around: what leaves one edge comes back on the other "
                      "(torch.roll), it is not replaced by zeros", _shift_zero_fill),
    ]),
    _ex("select_frames", "course.nn.fusion", _select_cases, [
        Misconception("floor", "the middle frame is T // 2 (frame 4 of 8), not (T - 1) // 2", _select_floor),
        Misconception("dropped_axis", "indexing with an int drops the time axis; index with a list ([T // 2]) so "
                      "the result is (N, C, 1, H, W)", _select_dropped_axis),
        Misconception("channel_axis", "frames were picked on axis 1, the channels; time is axis 2 of "
                      "(N, C, T, H, W)", _select_channel_axis),
    ]),
    _ex("fold_frames", "course.nn.fusion", _fold_cases, [
        Misconception("reshape", "reshape alone mixes channels and frames; move T next to N first "
                      "(permute(0, 2, 1, 3, 4)), then merge them", _fold_reshape),
        Misconception("time_major", "rows must go clip by clip (row n * T + t); this puts every clip's first "
                      "frame first (row t * N + n)", _fold_time_major),
    ]),
    _ex("early_fusion_stack", "course.nn.fusion", _stack_cases, [
        Misconception("time_major", "channel c * T + t keeps the frames of one input channel together, the order "
                      "of a Conv3d weight (O, C, T, kH, kW) flattened; this stacks frame by frame (t * C + c)",
                      _stack_time_major),
        Misconception("mean", "stack the frames, do not average them: the first layer must be able to weigh "
                      "every frame on its own", _stack_mean),
    ]),
    _ex("circular_pad_hw", "course.nn.fusion", _pad_cases, [
        Misconception("zeros", "that is zero padding; on the wrap-around canvas the rows above row 0 are the "
                      "last rows of the frame (circular padding)", _pad_zeros),
        Misconception("swapped", "the sides are swapped: the padding above the frame comes from its last rows "
                      "(x[..., H - pad:, :]) and the padding below from its first rows", _pad_swapped),
        Misconception("wraps_time", "only H and W wrap around; the axis before them (time, or channels) must not "
                      "be padded", _pad_wraps_time),
    ]),
    _ex("slow_fusion_windows", "course.nn.fusion", _windows_cases, [
        Misconception("no_plus_one", "off by one: there are (num_frames - window) // stride + 1 positions; the "
                      "last window may end exactly at the last frame", _windows_no_plus_one),
        Misconception("ignore_stride", "consecutive windows start `stride` frames apart (they overlap when "
                      "stride < window), not one window apart", _windows_ignore_stride),
    ]),
]
