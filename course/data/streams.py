"""Untrimmed Moving Digits streams: long videos in which short actions occur between stretches of background.

Lesson 13_video_tasks (temporal action detection). A clip data set answers "what is this clip?";
an untrimmed stream asks "what happens *when*?" — like the videos of THUMOS'14 or ActivityNet, where
actions fill only part of the time.

One stream is a ``(T, 1, H, W)`` float32 video of a single handwritten digit (the 12×12 images of
:mod:`course.data.moving_digits`) on a wrap-around canvas:

    background   the digit stays at a home position and jitters: each frame it is drawn at home +
                 an offset in {−jitter, …, +jitter}² pixels, drawn afresh (no net drift)
    action k     the digit slides ``speed`` pixels per frame in direction k − 1 (1 = up, 2 = down,
                 3 = left, 4 = right, :data:`course.data.moving_digits.DIRECTIONS`), without jitter;
                 when the action ends, its last position is the new home

Per-frame labels are 0 for background and 1..num_classes for the action. Actions last
``min_length``..``max_length`` frames and are separated by ``min_gap``..``max_gap`` background
frames (uniform integers), starting with a gap; an action that would run past the end is left out.

**A single frame tells nothing.** Every frame shows the same digit image rolled on a torus, so its
pixel sum is the same in every frame of a stream, and the home position starts uniform on the torus
and stays uniform whatever moves it, so where the digit is says nothing about whether (or where) it
is moving. Only the change between frames — consistent sliding against jitter — separates action
from background and gives the class. A detector must look at time.

    action_stream(num_frames=..., seed=...)   -> ActionStream(video, labels, segments, segment_labels)
    action_streams(num_streams, seed=...)     -> a list of ActionStream (all rendered in one batch)
    snippets(video, labels, ...)              -> (clips (S, 1, L, H, W), majority labels (S,))
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from course.data.moving_digits import DIRECTIONS, digit_images

__all__ = ["ActionStream", "action_stream", "action_streams", "snippets"]

_STEPS = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])  # (row, column) step per direction, DIRECTIONS order


class ActionStream(NamedTuple):
    """One untrimmed stream and its annotation."""

    video: torch.Tensor  #: (T, 1, H, W) float32 in [0, 1], frames one by one
    labels: torch.Tensor  #: (T,) int64 per frame: 0 = background, 1..num_classes = action (direction + 1)
    segments: torch.Tensor  #: (K, 2) float32 [start, end) in frames, the actions in time order
    segment_labels: torch.Tensor  #: (K,) int64 in 1..num_classes, the class of each segment


def _layout(rng: np.random.Generator, T: int, num_classes: int, lengths: tuple[int, int],
            gaps: tuple[int, int]) -> tuple[list[tuple[int, int]], list[int]]:
    """Random [start, end) actions with their classes: a gap, an action, a gap, ... until T."""
    segments, classes = [], []
    t = int(rng.integers(gaps[0], gaps[1] + 1))  # the stream opens with background
    while True:
        length = int(rng.integers(lengths[0], lengths[1] + 1))
        if t + length > T:
            return segments, classes
        segments.append((t, t + length))
        classes.append(int(rng.integers(1, num_classes + 1)))
        t += length + int(rng.integers(gaps[0], gaps[1] + 1))


def action_streams(num_streams: int, *, seed: int, num_frames: int = 256, size: int = 32, num_classes: int = 4,
                   split: str = "train", digit_size: int = 12, speed: int = 2, jitter: int = 1,
                   min_length: int = 8, max_length: int = 40, min_gap: int = 8,
                   max_gap: int = 40) -> list[ActionStream]:
    """Generate several untrimmed Moving Digits streams (see the module docstring), rendered in one batch.

    Stream i draws everything from the seed sequence (seed, i), so ``action_streams(n, seed=s)[0]``
    equals ``action_stream(seed=s)`` and adding streams does not change the earlier ones.

    Args:
        num_streams: how many streams, >= 1.
        seed: the same seed (and arguments) gives the same streams, bit for bit.
        num_frames: frames per stream (T), >= 1.
        size: side of the square canvas in pixels (H = W), >= digit_size.
        num_classes: action classes, 1..4 (class k slides in direction k − 1 of DIRECTIONS).
        split: "train" or "test": which digit images (disjoint sets) the streams show.
        digit_size: side of the digit in pixels.
        speed: pixels per frame during an action, >= 1.
        jitter: largest background offset in pixels per axis, >= 0 (0 = the digit sits still).
        min_length, max_length: action lengths in frames, 1 <= min_length <= max_length.
        min_gap, max_gap: background stretches between actions in frames, 0 <= min_gap <= max_gap.

    Returns:
        A list of ``num_streams`` :class:`ActionStream`.

    Raises:
        ValueError: sizes out of range, num_classes not in 1..4, or an unknown split.
    """
    # 1. validate
    if num_streams < 1 or num_frames < 1:
        raise ValueError(f"num_streams and num_frames must be >= 1, got {num_streams} and {num_frames}")
    if not 1 <= num_classes <= len(DIRECTIONS):
        raise ValueError(f"num_classes must be 1..{len(DIRECTIONS)} (one class per direction of motion), "
                         f"got {num_classes}")
    if not 1 <= min_length <= max_length or not 0 <= min_gap <= max_gap:
        raise ValueError(f"need 1 <= min_length <= max_length and 0 <= min_gap <= max_gap, got lengths "
                         f"{min_length}..{max_length} and gaps {min_gap}..{max_gap}")
    if speed < 1 or jitter < 0:
        raise ValueError(f"speed must be >= 1 and jitter >= 0 pixels, got {speed} and {jitter}")
    if not 1 <= digit_size <= size:
        raise ValueError(f"the digit ({digit_size} px) must fit on the canvas ({size} px)")
    images, _, _ = digit_images(split, digit_size=digit_size)  # (M, d, d)
    N, T, S, d = num_streams, num_frames, size, digit_size

    # 2. per stream: the actions, the digit image, the start position and the background jitter
    labels = np.zeros((N, T), dtype=np.int64)
    velocity = np.zeros((N, T, 2), dtype=np.int64)  # (row, column) displacement into each frame
    offsets = np.zeros((N, T, 2), dtype=np.int64)  # jitter around home, background frames only
    image_ids, homes, layouts = np.zeros(N, dtype=np.int64), np.zeros((N, 2), dtype=np.int64), []
    for i in range(N):
        rng = np.random.default_rng([seed, i])
        segments, classes = _layout(rng, T, num_classes, (min_length, max_length), (min_gap, max_gap))
        layouts.append((segments, classes))
        image_ids[i], homes[i] = rng.integers(0, len(images)), rng.integers(0, S, size=2)
        for (start, end), k in zip(segments, classes):
            labels[i, start:end] = k
            velocity[i, start:end] = speed * _STEPS[k - 1]
        offsets[i] = rng.integers(-jitter, jitter + 1, size=(T, 2)) * (labels[i] == 0)[:, None]

    # 3. positions on the torus: home moves only during actions, jitter is added on top
    positions = torch.from_numpy((homes[:, None, :] + np.cumsum(velocity, axis=1) + offsets) % S)  # (N, T, 2)

    # 4. render every frame of every stream at once: scatter the d×d image at its wrapped rows and columns
    rows = (positions[..., 0, None] + torch.arange(d)) % S  # (N, T, d)
    cols = (positions[..., 1, None] + torch.arange(d)) % S  # (N, T, d)
    videos = torch.zeros(N, T, S, S)
    n_idx = torch.arange(N)[:, None, None, None]
    t_idx = torch.arange(T)[None, :, None, None]
    videos[n_idx, t_idx, rows[..., :, None], cols[..., None, :]] = images[torch.from_numpy(image_ids)][:, None]

    return [ActionStream(video=videos[i, :, None],  # (T, 1, S, S)
                         labels=torch.from_numpy(labels[i]),
                         segments=torch.tensor(segments, dtype=torch.float32).reshape(-1, 2),
                         segment_labels=torch.tensor(classes, dtype=torch.int64))
            for i, (segments, classes) in enumerate(layouts)]


def action_stream(*, num_frames: int = 256, size: int = 32, num_classes: int = 4, seed: int,
                  **kwargs: int | str) -> ActionStream:
    """One untrimmed Moving Digits stream: ``action_streams(1, seed=seed, ...)[0]``.

    Args:
        num_frames: frames in the stream (T).
        size: canvas side in pixels (H = W).
        num_classes: action classes, 1..4 (class k = direction k − 1 of DIRECTIONS).
        seed: fixes the stream bit for bit.
        **kwargs: the other options of :func:`action_streams` (split, speed, jitter, lengths, gaps).

    Returns:
        :class:`ActionStream` (video (T, 1, H, W) float32 in [0, 1], labels (T,) int64 with 0 =
        background, segments (K, 2) float32 [start, end) frames, segment_labels (K,) int64 in
        1..num_classes).

    Raises:
        ValueError: see :func:`action_streams`.
    """
    return action_streams(1, seed=seed, num_frames=num_frames, size=size, num_classes=num_classes, **kwargs)[0]


def snippets(video: torch.Tensor, labels: torch.Tensor, *, snippet_length: int = 8,
             stride: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut a stream into overlapping snippets, each labelled by the majority of its frame labels.

    Snippet s covers frames [s·stride, s·stride + snippet_length); S = (T − snippet_length) // stride + 1
    snippets start at 0, stride, 2·stride, ... (frames after the last full snippet are not covered).
    A snippet classifier trained on these gives the per-snippet actionness and class of a detector
    (the snippets of TSN / SSN, Wang et al. 2016, Zhao et al. 2017). Ties in the vote go to the
    lower label, so a snippet half background, half action is background.

    Args:
        video: (T, C, H, W) frames, one by one (as in :class:`ActionStream`).
        labels: (T,) int64 per-frame labels, >= 0.
        snippet_length: frames per snippet (L), 1..T.
        stride: frames between snippet starts, >= 1.

    Returns:
        clips: (S, C, L, H, W), the Conv3d layout (a copy, the dtype of ``video``).
        labels: (S,) int64 majority label of each snippet.

    Raises:
        ValueError: shapes that are not (T, C, H, W) and (T,), negative labels, or lengths out of range.
    """
    # 1. validate
    if video.dim() != 4 or labels.shape != (video.shape[0],):
        raise ValueError(f"video must be (T, C, H, W) and labels (T,), got {tuple(video.shape)} and "
                         f"{tuple(labels.shape)}")
    if labels.is_floating_point() or (labels.numel() and int(labels.min()) < 0):
        raise ValueError(f"labels must be integers >= 0, got {labels.dtype} with minimum "
                         f"{labels.min().item() if labels.numel() else None}")
    T = video.shape[0]
    if not 1 <= snippet_length <= T or stride < 1:
        raise ValueError(f"need 1 <= snippet_length <= T = {T} and stride >= 1, got {snippet_length} and {stride}")
    # 2. sliding windows over time: unfold puts the window last
    clips = video.unfold(0, snippet_length, stride)  # (S, C, H, W, L)
    clips = clips.permute(0, 1, 4, 2, 3).contiguous()  # (S, C, L, H, W)
    # 3. the majority vote: per-class counts in each window, the first maximum wins
    windows = labels.long().unfold(0, snippet_length, stride)  # (S, L)
    counts = F.one_hot(windows, int(labels.max()) + 1).sum(dim=1)  # (S, num_labels)
    return clips, counts.argmax(dim=1)
