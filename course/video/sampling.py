"""Temporal sampling: which frame indices of a video become a clip, and how big a clip is.

Lesson 01_video_tensors.

A video of ``total_frames`` frames is too long to feed whole; a model sees a clip of ``num_frames``
frames taken every ``stride`` frames. This file holds the samplers of lesson 01 (graded exercises)
and the arithmetic of clip sizes:

    uniform_stride_indices   start + stride * [0, 1, ..., num_frames - 1]
    evenly_spaced_indices    the centre frame of each of num_frames equal segments (TSN testing)
    random_crop_indices      a strided clip whose start is chosen by a number u in [0, 1)
    random_temporal_crop     the same with u drawn from a torch.Generator (training-time sampling)
    multi_clip_indices       K evenly spaced clips covering the video (test-time multi-clip views)
    clip_numel, clip_nbytes  how many numbers and bytes a clip holds

Every index tensor is torch.int64 and ready for ``course.video.read_clip`` or ``clip[indices]``.
A clip of ``num_frames`` frames with ``stride`` spans ``(num_frames - 1) * stride + 1`` frames.

Sources: Wang et al. 2016, "Temporal Segment Networks" (segment-centre sampling); Simonyan &
Zisserman 2014 and Feichtenhofer et al. 2019, "SlowFast Networks" (random temporal crops for
training; several uniformly spaced clips averaged at test time).
"""
from __future__ import annotations

import math
import numbers

import torch

__all__ = [
    "uniform_stride_indices",
    "evenly_spaced_indices",
    "random_crop_indices",
    "random_temporal_crop",
    "multi_clip_indices",
    "clip_numel",
    "clip_nbytes",
]


def uniform_stride_indices(total_frames: int, num_frames: int, stride: int,
                           start: int = 0) -> torch.Tensor:
    """Frames ``start, start + stride, ..., start + (num_frames - 1) * stride``.

    Args:
        total_frames: frames in the video, >= 1.
        num_frames: frames in the clip, >= 1.
        stride: step between sampled frames, >= 1 (1 = consecutive frames).
        start: index of the first sampled frame, >= 0.

    Returns:
        (num_frames,) int64 frame indices; (250, 4, 8, start=3) gives [3, 11, 19, 27].

    Raises:
        ValueError: an argument below its minimum, or the last index >= total_frames.
    """
    # 1. validate: sizes are integers >= 1, the start an integer >= 0
    for name, value, minimum in [("total_frames", total_frames, 1), ("num_frames", num_frames, 1),
                                 ("stride", stride, 1), ("start", start, 0)]:
        if not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    # 2. the last sampled frame must exist
    last = start + stride * (num_frames - 1)
    if last >= total_frames:
        raise ValueError(
            f"the last index start + stride * (num_frames - 1) = {last} is past the end of a video "
            f"of total_frames={total_frames}; lower start, stride or num_frames"
        )
    # 3. indices
    return start + stride * torch.arange(num_frames, dtype=torch.int64)


def evenly_spaced_indices(total_frames: int, num_frames: int) -> torch.Tensor:
    """The centre frame of each of ``num_frames`` equal segments of the video (TSN test sampling).

    Frame ``i`` is ``floor((i + 0.5) * total_frames / num_frames)``, computed in exact integer
    arithmetic as ``((2 * i + 1) * total_frames) // (2 * num_frames)``. When ``num_frames >
    total_frames`` segments are shorter than a frame and indices repeat.

    Args:
        total_frames: frames in the video, >= 1.
        num_frames: frames to sample, >= 1.

    Returns:
        (num_frames,) int64 frame indices, non-decreasing; (250, 8) gives
        [15, 46, 78, 109, 140, 171, 203, 234].

    Raises:
        ValueError: an argument below 1.

    Source: Wang et al. 2016, "Temporal Segment Networks", Sec. 3.
    """
    # 1. validate: both sizes are integers >= 1
    for name, value in [("total_frames", total_frames), ("num_frames", num_frames)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    # 2. centre of segment i is (i + 1/2) * total_frames / num_frames; floor it without floats
    i = torch.arange(num_frames, dtype=torch.int64)
    return ((2 * i + 1) * total_frames) // (2 * num_frames)


def random_crop_indices(total_frames: int, num_frames: int, stride: int, u: float) -> torch.Tensor:
    """A strided clip whose start is picked by ``u`` in [0, 1): the deterministic core of a crop.

    The clip spans ``span = (num_frames - 1) * stride + 1`` frames, so it can start at any of
    ``total_frames - span + 1`` frames; it starts at ``floor(u * (total_frames - span + 1))``.

    Args:
        total_frames: frames in the video, >= 1.
        num_frames: frames in the clip, >= 1.
        stride: step between sampled frames, >= 1.
        u: a number in [0, 1), e.g. a uniform random draw; 0 gives the first possible start.

    Returns:
        (num_frames,) int64 frame indices; (10, 3, 2, u=0.5) gives [3, 5, 7].

    Raises:
        ValueError: an argument below its minimum, u outside [0, 1), or span > total_frames.
    """
    # 1. validate: sizes are integers >= 1, u in [0, 1) (NaN fails too)
    for name, value in [("total_frames", total_frames), ("num_frames", num_frames),
                        ("stride", stride)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not 0.0 <= u < 1.0:
        raise ValueError(f"u must be in [0, 1), got {u!r}; draw it with torch.rand(())")
    # 2. the clip covers span frames, so it can start at any of total_frames - span + 1 frames
    span = (num_frames - 1) * stride + 1
    if span > total_frames:
        raise ValueError(f"a clip of num_frames={num_frames} with stride={stride} spans {span} "
                         f"frames, but the video has only total_frames={total_frames}; "
                         "lower num_frames or stride")
    start = math.floor(u * (total_frames - span + 1))  # < total_frames - span + 1, since u < 1
    # 3. indices
    return start + stride * torch.arange(num_frames, dtype=torch.int64)


def random_temporal_crop(total_frames: int, num_frames: int, stride: int = 1, *,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """A random strided clip (training-time temporal augmentation), reproducible with a generator.

    Draws ``u = torch.rand((), generator=generator).item()`` and returns
    ``random_crop_indices(total_frames, num_frames, stride, u)``.

    Args:
        total_frames: frames in the video, >= 1.
        num_frames: frames in the clip, >= 1.
        stride: step between sampled frames, >= 1.
        generator: a seeded CPU ``torch.Generator`` for reproducible draws; None uses torch's
            global generator.

    Returns:
        (num_frames,) int64 frame indices.

    Raises:
        ValueError: as ``random_crop_indices``.
    """
    u = torch.rand((), generator=generator).item()
    return random_crop_indices(total_frames, num_frames, stride, u)


def multi_clip_indices(total_frames: int, num_clips: int, num_frames: int,
                       stride: int = 1) -> torch.Tensor:
    """``num_clips`` evenly spaced clips for test-time multi-clip evaluation (scores are averaged).

    Each clip spans ``span = (num_frames - 1) * stride + 1`` frames. Clip ``k`` starts at
    ``k * (total_frames - span) // (num_clips - 1)``, so the first clip starts at frame 0 and the
    last ends at the last frame; a single clip is centred at ``(total_frames - span) // 2``.

    Args:
        total_frames: frames in the video, >= 1.
        num_clips: clips to take, >= 1.
        num_frames: frames per clip, >= 1.
        stride: step between sampled frames inside a clip, >= 1.

    Returns:
        (num_clips, num_frames) int64 frame indices; row k is clip k.

    Raises:
        ValueError: an argument below 1, or span > total_frames.

    Source: Feichtenhofer et al. 2019, "SlowFast Networks", Sec. 5 (uniformly spaced test clips).
    """
    # 1. validate: sizes are integers >= 1, and one clip fits in the video
    for name, value in [("total_frames", total_frames), ("num_clips", num_clips),
                        ("num_frames", num_frames), ("stride", stride)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    span = (num_frames - 1) * stride + 1
    if span > total_frames:
        raise ValueError(f"a clip of num_frames={num_frames} with stride={stride} spans {span} "
                         f"frames, but the video has only total_frames={total_frames}; "
                         "lower num_frames or stride")
    # 2. clip starts, evenly spread over the total_frames - span + 1 possible starts
    k = torch.arange(num_clips, dtype=torch.int64)
    if num_clips > 1:
        starts = k * (total_frames - span) // (num_clips - 1)  # (num_clips,)
    else:
        starts = torch.full((1,), (total_frames - span) // 2, dtype=torch.int64)
    # 3. one strided clip per start
    offsets = stride * torch.arange(num_frames, dtype=torch.int64)  # (num_frames,)
    return starts[:, None] + offsets[None, :]  # (num_clips, num_frames)


def clip_numel(num_frames: int, height: int, width: int, channels: int = 3, batch: int = 1) -> int:
    """How many numbers a batch of clips holds: ``batch * num_frames * channels * height * width``.

    Examples: a 64-frame 224×224 RGB clip holds 64 × 224 × 224 × 3 = 9,633,792 numbers (≈9.6 M);
    one minute at 30 fps (1,800 frames) at 224×224 holds 270,950,400 (≈271 M).

    Args:
        num_frames: frames per clip (T), >= 1.
        height: frame height in pixels (H), >= 1.
        width: frame width in pixels (W), >= 1.
        channels: channels per frame (C), >= 1; 3 for RGB.
        batch: clips in the batch (N), >= 1.

    Returns:
        The element count of an (N, C, T, H, W) tensor, a Python int.

    Raises:
        ValueError: an argument below 1.
    """
    # 1. validate: every size is an integer >= 1
    for name, value in [("num_frames", num_frames), ("height", height), ("width", width),
                        ("channels", channels), ("batch", batch)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    # 2. one number per (clip, frame, channel, row, column)
    return batch * num_frames * channels * height * width


def clip_nbytes(num_frames: int, height: int, width: int, channels: int = 3, batch: int = 1,
                dtype: torch.dtype = torch.float32) -> int:
    """How many bytes a batch of clips takes in memory: ``clip_numel(...) * dtype.itemsize``.

    Examples: a 64×224×224×3 clip takes 38,535,168 bytes (≈38.5 MB) in float32 and 9,633,792
    bytes as decoded uint8; one minute at 30 fps at 224×224 takes ≈1.08 GB in float32.

    Args:
        num_frames, height, width, channels, batch: as in ``clip_numel``.
        dtype: element type; float32 (4 bytes) by default, uint8 (1 byte) as decoded.

    Returns:
        Size in bytes, a Python int.

    Raises:
        ValueError: an argument below 1.
    """
    return clip_numel(num_frames, height, width, channels, batch) * dtype.itemsize
