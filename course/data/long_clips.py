"""Clips: fast motion that a low frame rate misses, and evidence spread over a long clip.

Lesson 12_slowfast_long_range.

Two seeded, vectorised generators on the wrap-around canvas of :mod:`course.data.moving_digits`
(its digit images: sklearn's handwritten digits, disjoint train and test images):

    twitch_digits(num_clips, ...)    label = (digit, twitch axis): appearance AND fast motion decide.
        A digit drifts ``drift`` px per frame in a random direction (0: it stands still). A few times
        per clip (``twitches``), at random frames in 1 … T-2, it *twitches*: for ``twitch_frames``
        frames it jumps ``jump`` px along the vertical or horizontal axis (random sign) and then
        returns to its path. The axis is half the label, the digit the other half. A pathway that
        sees one frame in α misses most twitches; one frame never shows the axis (the position is
        uniform on the torus).
    event_count_clips(num_clips, ...) label = number of brief flashes (1 … max_events) in a long clip.
        Small bright squares flash for ``event_frames`` frames at random, non-overlapping times over
        the whole clip, at random places. A window that sees only part of the clip undercounts.

and the clip sizing of Long-term Temporal Convolutions (Varol, Laptev & Schmid 2017, "Long-term
Temporal Convolutions for Action Recognition", TPAMI): at a fixed budget of input voxels, a longer
clip is seen at a lower resolution (the paper: 16×112² against 60×58², about the same voxels, 0.6 %
more; its best 100×71² clips spend 2.5× as many):

    ltc_frame_size(budget, num_frames)     largest side s with num_frames · s² <= budget
    ltc_input(videos, num_frames, size)    the first num_frames frames, area-resized to size × size
"""
from __future__ import annotations

import math
import numbers
from typing import NamedTuple, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from course.data.moving_digits import digit_images

__all__ = ["AXES", "TwitchClips", "twitch_digits", "event_count_clips", "ltc_frame_size", "ltc_input"]

#: The twitch axes, in label order: 0 = vertical (rows), 1 = horizontal (columns).
AXES: tuple[str, ...] = ("vertical", "horizontal")
_SPLITS = ("train", "test")
_DRIFT = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])  # (row, column) step of the 4 drift directions


class TwitchClips(NamedTuple):
    """What :func:`twitch_digits` returns."""

    videos: torch.Tensor  # (N, 1, T, S, S) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64: digit_index * 2 + axis
    digits: torch.Tensor  # (N,) int64: the digit class shown (one of `digits`)
    axes: torch.Tensor  # (N,) int64: 0 vertical, 1 horizontal twitch
    twitch_start: torch.Tensor  # (N, twitches) int64: first frame of each twitch, sorted
    positions: torch.Tensor  # (N, T, 2) int64: (row, column) of the digit's top-left pixel


def _render(images: torch.Tensor, positions: torch.Tensor, size: int) -> torch.Tensor:
    """Scatter one d×d image per clip at (N, T, 2) wrapped positions: (N, T, S, S) float32."""
    N, T, _ = positions.shape
    d = images.shape[-1]
    rows = (positions[..., 0, None] + torch.arange(d)) % size  # (N, T, d)
    cols = (positions[..., 1, None] + torch.arange(d)) % size  # (N, T, d)
    frames = torch.zeros(N, T, size, size)
    n_idx = torch.arange(N)[:, None, None, None]
    t_idx = torch.arange(T)[None, :, None, None]
    frames[n_idx, t_idx, rows[..., :, None], cols[..., None, :]] = images[:, None]  # (N, T, d, d)
    return frames


def twitch_digits(num_clips: int, *, split: str = "train", seed: int = 0, num_frames: int = 16, size: int = 32,
                  digits: Sequence[int] = (0, 1, 2, 3), digit_size: int = 12, jump: int = 4,
                  twitch_frames: int = 1, twitches: int = 1, drift: int = 1) -> TwitchClips:
    """Digits that drift and twitch once; the label needs the digit and the twitch axis.

    Args:
        num_clips: N >= 1.
        split: "train" or "test" (disjoint digit images).
        seed: same seed and arguments → the same clips, bit for bit.
        num_frames: T >= twitch_frames + 2 (the twitch starts in 1 … T - 1 - twitch_frames).
        size: S, side of the wrap-around canvas, >= digit_size.
        digits: the digit classes used, distinct, in 0..9; label = index in ``digits`` · 2 + axis.
        digit_size: side of the digit in pixels.
        jump: twitch distance in pixels, >= 1.
        twitch_frames: how many frames each twitch lasts, >= 1.
        twitches: how many twitches per clip (same axis, each with its own sign and start; starts drawn
            without replacement from 1 … T - 1 - twitch_frames, so twitches may touch but are distinct).
        drift: pixels per frame of the steady motion (0: the digit stands still between twitches).

    Returns:
        A :class:`TwitchClips`; labels are balanced (each of the 2·len(digits) classes N // K or
        N // K + 1 times).

    Raises:
        ValueError: sizes that do not fit, an unknown split, or bad digits.
    """
    # 1. validate
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    digits = tuple(int(d) for d in digits)
    if not digits or len(set(digits)) != len(digits) or not all(0 <= d <= 9 for d in digits):
        raise ValueError(f"digits must be distinct classes in 0..9, got {digits}")
    if num_clips < 1 or jump < 1 or twitch_frames < 1 or drift < 0 or not 1 <= twitches <= num_frames - 1 - \
            twitch_frames or not 1 <= digit_size <= size:
        raise ValueError(f"need num_clips >= 1, jump >= 1, twitch_frames >= 1, drift >= 0, 1 <= twitches <= "
                         f"num_frames - 1 - twitch_frames and 1 <= digit_size <= size; got {num_clips}, {jump}, "
                         f"{twitch_frames}, {drift}, {twitches}, {num_frames}, {digit_size}, {size}")
    N, T, S = num_clips, num_frames, size
    rng = np.random.default_rng([seed, _SPLITS.index(split), 12])
    images, classes, _ = digit_images(split, digit_size=digit_size)  # (M, d, d), (M,)

    # 2. balanced labels → (digit, axis); one image of that digit per clip
    K = 2 * len(digits)
    labels = rng.permutation(np.arange(N) % K)  # (N,)
    digit_index, axes = labels // 2, labels % 2
    digit = np.asarray(digits)[digit_index]  # (N,)
    cls = classes.numpy()
    image_rows = np.empty(N, dtype=np.int64)
    for d in digits:  # a uniform image of the clip's digit
        mine = np.flatnonzero(digit == d)
        image_rows[mine] = rng.choice(np.flatnonzero(cls == d), size=len(mine))

    # 3. path: uniform start, `drift` px per frame in one of 4 directions
    start = rng.integers(0, S, size=(N, 1, 2))  # (N, 1, 2)
    steps = drift * _DRIFT[rng.integers(0, 4, size=N)][:, None, :]  # (N, 1, 2)
    positions = start + np.arange(T)[None, :, None] * steps  # (N, T, 2)

    # 4. the twitches: frames t0 … t0 + twitch_frames - 1 move `jump` px along the axis, random sign
    num_starts = T - 1 - twitch_frames  # starts 1 … T - 1 - twitch_frames
    t0 = 1 + np.argsort(rng.random((N, num_starts)), axis=1)[:, :twitches]  # (N, twitches) distinct starts
    t0 = np.sort(t0, axis=1)
    sign = rng.choice([-1, 1], size=(N, twitches))
    frames = np.arange(T)[None, None, :]  # (1, 1, T)
    during = (frames >= t0[..., None]) & (frames < (t0 + twitch_frames)[..., None])  # (N, twitches, T)
    shift = (during * (sign * jump)[..., None]).sum(axis=1)  # (N, T); touching twitches add up
    offset = np.zeros((N, T, 2), dtype=np.int64)
    offset[np.arange(N), :, axes] = shift  # row offset if vertical, column offset if horizontal
    positions = (positions + offset) % S

    # 5. render
    pos_t = torch.from_numpy(positions).long()
    videos = _render(images[torch.from_numpy(image_rows)], pos_t, S).unsqueeze(1)  # (N, 1, T, S, S)
    return TwitchClips(videos=videos, labels=torch.from_numpy(labels).long(), digits=torch.from_numpy(digit).long(),
                       axes=torch.from_numpy(axes).long(), twitch_start=torch.from_numpy(t0).long(), positions=pos_t)


def event_count_clips(num_clips: int, *, seed: int = 0, split: str = "train", num_frames: int = 64, size: int = 32,
                      max_events: int = 4, event_frames: int = 2,
                      event_size: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Long clips with 1 … max_events brief flashes; the label is how many (minus one).

    The clip is cut into num_frames // (2 · event_frames) slots; each event takes one slot (drawn
    without replacement) and flashes in the first half of it, so two events are always separated by
    at least event_frames dark frames and are spread uniformly over the clip. A flash is a bright
    event_size × event_size square at a uniform place (wrapping around).

    Args:
        num_clips: N >= 1.
        seed: same seed and arguments → the same clips.
        split: "train" or "test" (independent random streams).
        num_frames: T.
        size: S.
        max_events: largest count, >= 1; classes 0 … max_events - 1 mean 1 … max_events events.
        event_frames: frames per flash, >= 1.
        event_size: side of the square in pixels, 1 … S.

    Returns:
        videos: (N, 1, T, S, S) float32 in [0, 1].
        labels: (N,) int64 in 0 … max_events - 1 (balanced).
        times: (N, max_events) int64 first frame of each event, -1 for the unused ones, sorted.

    Raises:
        ValueError: sizes that do not fit (fewer slots than max_events), or an unknown split.
    """
    # 1. validate
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    slots = num_frames // max(2 * event_frames, 1)
    if num_clips < 1 or max_events < 1 or event_frames < 1 or slots < max_events or not 1 <= event_size <= size:
        raise ValueError(f"need num_clips >= 1, max_events >= 1, event_frames >= 1, num_frames // (2 * event_frames) "
                         f">= max_events and 1 <= event_size <= size; got {num_clips}, {max_events}, {event_frames}, "
                         f"{num_frames}, {event_size}, {size}")
    N, T, S, E = num_clips, num_frames, size, max_events
    rng = np.random.default_rng([seed, _SPLITS.index(split), 1212])

    # 2. balanced counts, and distinct slots per clip (argsort of uniform keys: a random subset)
    labels = rng.permutation(np.arange(N) % E)  # (N,) count - 1
    chosen = np.argsort(rng.random((N, slots)), axis=1)[:, :E]  # (N, E) distinct slots
    used = np.arange(E)[None, :] <= labels[:, None]  # (N, E) the first count entries
    times = np.where(used, chosen * 2 * event_frames, -1)  # (N, E)
    times = np.sort(np.where(used, times, T + 1), axis=1)  # used ones first, sorted
    times = np.where(times > T, -1, times)

    # 3. draw: each event lights its square during its frames
    places = rng.integers(0, S, size=(N, E, 2))  # (N, E, 2)
    videos = torch.zeros(N, T, S, S)
    n, e = np.nonzero(times >= 0)  # every (clip, event) that happens
    for k in range(event_frames):  # event_frames is small: vectorised over all clips and events
        t = times[n, e] + k
        rows = (places[n, e, 0, None] + np.arange(event_size)) % S  # (M, s)
        cols = (places[n, e, 1, None] + np.arange(event_size)) % S  # (M, s)
        videos[torch.from_numpy(n)[:, None, None], torch.from_numpy(t)[:, None, None],
               torch.from_numpy(rows)[:, :, None], torch.from_numpy(cols)[:, None, :]] = 1.0
    return videos.unsqueeze(1), torch.from_numpy(labels).long(), torch.from_numpy(times).long()


def ltc_frame_size(budget: int, num_frames: int) -> int:
    """The largest frame side s such that a num_frames × s × s clip fits a voxel budget.

    Long-term Temporal Convolutions (Varol et al. 2017) trade resolution for length at a roughly
    fixed number of input voxels. The answer must be exact for budgets of any size.

    Args:
        budget: voxels per clip (T · H · W), an integer >= num_frames.
        num_frames: T, an integer >= 1.

    Returns:
        s, a Python int >= 1 with num_frames · s² <= budget < num_frames · (s + 1)².

    Raises:
        ValueError: non-integers (bools too), num_frames < 1, or a budget below one 1×1 frame per time step.
    """
    # 1. validate: integers, and at least one voxel per frame
    for name, value in (("budget", budget), ("num_frames", num_frames)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if num_frames < 1 or budget < num_frames:
        raise ValueError(f"need num_frames >= 1 and budget >= num_frames (one 1×1 frame each); got budget={budget}, "
                         f"num_frames={num_frames}")
    # 2. the largest s with s² <= budget / T, in exact integer arithmetic
    return int(math.isqrt(int(budget) // int(num_frames)))


def ltc_input(videos: torch.Tensor, num_frames: int, size: int) -> torch.Tensor:
    """The first ``num_frames`` frames of each clip, resized to ``size`` × ``size`` by area averaging.

    Args:
        videos: (N, C, T, H, W) with T >= num_frames.
        num_frames: frames kept (contiguous, from the start: the same frame rate).
        size: output side (area interpolation, i.e. average pooling for integer factors).

    Returns:
        (N, C, num_frames, size, size) float32.

    Raises:
        ValueError: not 5-D, or num_frames outside 1 … T, or size < 1.
    """
    if videos.dim() != 5 or not 1 <= num_frames <= videos.shape[2] or size < 1:
        raise ValueError(f"need videos (N, C, T, H, W) with 1 <= num_frames <= T and size >= 1; got "
                         f"{tuple(videos.shape)}, {num_frames}, {size}")
    clip = videos[:, :, :num_frames]
    N, C, T, H, W = clip.shape
    frames = clip.transpose(1, 2).reshape(N * T, C, H, W)  # (N·T, C, H, W)
    small = F.interpolate(frames, size=(size, size), mode="area")  # (N·T, C, s, s)
    return small.reshape(N, T, C, size, size).transpose(1, 2).contiguous()  # (N, C, T, s, s)
