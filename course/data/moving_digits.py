"""Moving Digits: seeded synthetic videos of real handwritten digits sliding on a wrap-around canvas.

Lesson 03_fusion_baselines.

A clip is a ``(C=1, T, H, W)`` float32 video in [0, 1] (the Conv3d layout of one clip): a 12×12
handwritten digit moves by ``speed`` pixels per frame, up, down, left or right, on a toroidal
canvas (what leaves on the right comes back on the left), from a uniformly random start position.
Three label kinds ask different questions of the same kind of video:

    "digit"      10 classes, which digit it is          appearance decides; one frame is enough
    "direction"  4 classes, up / down / left / right    motion decides; every single frame is
                                                        uninformative (see below)
    "order"      2 classes, does the second digit       order decides: digit A is shown in the first
                 come 1-4 or 6-9 steps after the first  half of the clip and B in the second half;
                 on a clock of the ten digits            label 0 ("forward") when (B - A) mod 10 is
                                                        1..4, label 1 ("backward") when it is 6..9.
                                                        Reversing a clip flips its label; every
                                                        single frame is independent of the label

Why a cyclic order label: an earlier version asked "is the smaller digit first?". Then one frame
gives the answer away: a first digit 0 is always the smaller one, a 9 always the larger, and a
lookup on one frame's digit scored 79 % on test (Bayes rate 70/90 = 77.8 %). Here A is uniform over
the ten digits and the step (B - A) mod 10 is uniform over 1..4 (label 0) or 6..9 (label 1), so A
alone, and B alone, are uniform whatever the label: one frame is at exactly 50 %
(:func:`order_pair_table` gives the exact joint distribution). Only the pair, in its order, decides.

Why a wrap-around canvas: on a bounded canvas a digit moving right must start on the left, so a
single frame leaks the direction through the position (we measured 58 % instead of 25 % for a
single-frame CNN). On a torus with uniform start positions the position of the digit in any one
frame is uniform whatever the direction, so a single frame carries no information about it; small
CNNs with circular padding match this geometry.

The digit images are real: the 1,797 8×8 images of scikit-learn's ``load_digits`` (a copy of the
test set of the UCI "Optical Recognition of Handwritten Digits" data, optdigits; Alpaydin & Kaynak
1998), read directly from the CSV file that scikit-learn ships (nothing is downloaded, sklearn is
not imported), scaled from 0..16 to [0, 1] and upsampled to 12×12 with bilinear interpolation.
Train and test use disjoint images: per class, the first 80 % of the images in file order are
"train" and the rest "test".

The idea follows Moving MNIST (Srivastava, Mansimov & Salakhutdinov 2015, "Unsupervised Learning
of Video Representations using LSTMs"), simplified to one digit, four directions and a torus.

    moving_digits(num_clips, label=..., split=..., seed=...)  -> (videos, labels) tensors
    MovingDigits(num_clips, ...)                              the same as a TensorDataset, plus the
                                                              directions, digit images and positions
    shift_frame(frame, direction, pixels)                     one step of the motion: torch.roll
    digit_images(split)                                       the 12×12 digit images of a split
    order_pair_table()                                        exact P(first digit, second digit, label)
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

__all__ = ["DIRECTIONS", "LABEL_KINDS", "ORDER_CLASSES", "ORDER_STEPS", "order_pair_table", "digit_images",
           "shift_frame", "moving_digits", "MovingDigits"]

#: Motion directions, in label order: label 0 = "up" (towards row 0), ... 3 = "right".
DIRECTIONS: tuple[str, ...] = ("up", "down", "left", "right")
#: The label kinds a Moving Digits set can carry.
LABEL_KINDS: tuple[str, ...] = ("digit", "direction", "order")
#: Class names of the "order" labels.
ORDER_CLASSES: tuple[str, ...] = ("forward: second = first + 1..4 (mod 10)", "backward: second = first - 1..4 (mod 10)")
#: Steps (second - first) mod 10 of each "order" label, drawn uniformly; 5 is left out (its reverse is itself).
ORDER_STEPS: tuple[tuple[int, ...], ...] = ((1, 2, 3, 4), (6, 7, 8, 9))

_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))  # (row, column) step of each direction, in label order
_TRAIN_FRACTION = 0.8  # per class, this fraction of the images (in file order) is the train split
_SPLITS = ("train", "test")


# --- the digit images -----------------------------------------------------------------------------
def _digits_csv() -> Path:
    """The CSV file of sklearn's load_digits, found without importing sklearn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("Moving Digits needs the digit images that scikit-learn ships: "
                                  "pip install scikit-learn")
    return Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"


@functools.cache
def _digits_8x8() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images, (1797, 8, 8) float32 in 0..16, and their (1797,) int64 labels (cached)."""
    table = np.loadtxt(_digits_csv(), delimiter=",", dtype=np.float32)  # (1797, 65): 64 pixels, label
    return table[:, :64].reshape(-1, 8, 8), table[:, 64].astype(np.int64)


def _split_indices(split: str) -> np.ndarray:
    """Indices into the 1,797 images of a split: per class, the first 80 % train, the rest test."""
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    _, labels = _digits_8x8()
    chosen = []
    for digit in range(10):
        of_class = np.flatnonzero(labels == digit)  # in file order
        n_train = int(round(_TRAIN_FRACTION * len(of_class)))
        chosen.append(of_class[:n_train] if split == "train" else of_class[n_train:])
    return np.sort(np.concatenate(chosen))


def digit_images(split: str = "train", *, digit_size: int = 12) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The handwritten digit images of a split, as Moving Digits draws them.

    Args:
        split: "train" (about 80 % of the images of each digit) or "test" (the rest; disjoint).
        digit_size: side of the upsampled image in pixels (bilinear from 8×8), >= 1.

    Returns:
        images: (M, digit_size, digit_size) float32 in [0, 1] (0 = background, 1 = full ink).
        labels: (M,) int64 digit classes 0..9.
        source: (M,) int64 row of each image in sklearn's ``load_digits`` (0..1796).

    Raises:
        ValueError: unknown split or digit_size < 1.
    """
    if digit_size < 1:
        raise ValueError(f"digit_size must be >= 1 pixel, got {digit_size}")
    images, labels = _digits_8x8()
    source = _split_indices(split)
    small = torch.from_numpy(images[source] / 16.0).float()  # (M, 8, 8) in [0, 1]
    big = F.interpolate(small[:, None], size=(digit_size, digit_size), mode="bilinear",
                        align_corners=False)[:, 0]  # (M, d, d)
    return big.clamp(0, 1), torch.from_numpy(labels[source]), torch.from_numpy(source)


def order_pair_table() -> np.ndarray:
    """The exact distribution the "order" label samples from: P(first digit, second digit, label).

    The label is balanced, the first digit uniform, the step (second - first) mod 10 uniform over
    the label's :data:`ORDER_STEPS`. Each marginal P(first, label) and P(second, label) is the
    product 1/10 · 1/2, so one frame's digit carries no information about the label.

    Returns:
        (10, 10, 2) float64 array ``p[a, b, label]``, summing to 1.
    """
    p = np.zeros((10, 10, 2))
    for label, steps in enumerate(ORDER_STEPS):
        for a in range(10):
            for step in steps:
                p[a, (a + step) % 10, label] += 0.5 * 0.1 / len(steps)
    return p


# --- one step of the motion -----------------------------------------------------------------------
def shift_frame(frame: torch.Tensor, direction: int, pixels: int) -> torch.Tensor:
    """Move the content of frames by ``pixels`` in a direction on a wrap-around (toroidal) canvas.

    Rows grow downwards and columns to the right, as in an image: "up" moves content towards row 0.
    What leaves one edge comes back on the opposite edge (``torch.roll``), so nothing is lost.

    Args:
        frame: (..., H, W) one frame or any batch of frames, any dtype.
        direction: 0 up, 1 down, 2 left, 3 right (the index in :data:`DIRECTIONS`).
        pixels: the distance in pixels (an int; negative moves the opposite way).

    Returns:
        A tensor of the same shape and dtype with ``out[..., r, c] == frame[..., r - dr, c - dc]``
        (indices modulo H and W), where (dr, dc) = pixels × the direction's (row, column) step.

    Raises:
        ValueError: ``frame`` has fewer than 2 dimensions or ``direction`` is not 0, 1, 2 or 3.
    """
    # 1. validate
    if frame.dim() < 2:
        raise ValueError(f"frame must be (..., H, W), got shape {tuple(frame.shape)}")
    if direction not in (0, 1, 2, 3):
        raise ValueError(f"direction must be 0 (up), 1 (down), 2 (left) or 3 (right), got {direction!r}")
    # 2. the (row, column) step of the direction; up = towards row 0 = a negative row shift
    row_step, col_step = ((-1, 0), (1, 0), (0, -1), (0, 1))[direction]
    # 3. roll both image axes: content wraps around the edges of the torus
    return torch.roll(frame, shifts=(row_step * pixels, col_step * pixels), dims=(-2, -1))


# --- the generator --------------------------------------------------------------------------------
class _Clips(NamedTuple):
    videos: torch.Tensor  # (N, 1, T, S, S) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64
    directions: torch.Tensor  # (N,) int64, index into DIRECTIONS
    digits: torch.Tensor  # (N, T) int64, the class of the digit shown in each frame
    image_ids: torch.Tensor  # (N, T) int64, the load_digits row of the image shown in each frame
    positions: torch.Tensor  # (N, T, 2) int64, (row, column) of the digit's top-left pixel


def _generate(num_clips: int, label: str, split: str, num_frames: int, size: int, seed: int,
              digit_size: int, speed: int) -> _Clips:
    # 1. validate
    if label not in LABEL_KINDS:
        raise ValueError(f"label must be one of {LABEL_KINDS}, got {label!r}")
    if num_clips < 1 or num_frames < 1:
        raise ValueError(f"num_clips and num_frames must be >= 1, got {num_clips} and {num_frames}")
    if label == "order" and num_frames < 2:
        raise ValueError("the 'order' label needs num_frames >= 2 (one digit in each half of the clip)")
    if not 1 <= digit_size <= size:
        raise ValueError(f"the digit ({digit_size} px) must fit on the canvas ({size} px)")
    images, classes, source = digit_images(split, digit_size=digit_size)  # (M, d, d), (M,), (M,)
    N, T, S, d = num_clips, num_frames, size, digit_size
    rng = np.random.default_rng([seed, _SPLITS.index(split), LABEL_KINDS.index(label)])

    # 2. balanced labels: every class equally often (up to one clip), in random order
    num_classes = {"digit": 10, "direction": 4, "order": 2}[label]
    labels = rng.permutation(np.arange(N) % num_classes)  # (N,)
    directions = labels if label == "direction" else rng.integers(0, 4, size=N)  # (N,)

    # 3. which image each frame shows: one image per clip, or two of different digits for "order"
    order = np.argsort(classes.numpy(), kind="stable")  # image rows grouped by digit
    counts = np.bincount(classes.numpy(), minlength=10)  # (10,) images per digit
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])  # (10,) first row of each digit in `order`

    def draw_image(digit: np.ndarray) -> np.ndarray:  # (N,) digit classes -> (N,) uniform image rows
        return order[offsets[digit] + (rng.random(len(digit)) * counts[digit]).astype(np.int64)]

    if label == "digit":
        first = draw_image(labels)
        shown = np.repeat(first[:, None], T, axis=1)  # (N, T)
    elif label == "direction":
        shown = np.repeat(rng.integers(0, len(images), size=N)[:, None], T, axis=1)  # (N, T)
    else:  # order: first digit uniform, second = first + a step of the label's set (mod 10)
        first = rng.integers(0, 10, size=N)  # (N,) uniform, independent of the label
        steps = np.asarray(ORDER_STEPS)[labels, rng.integers(0, 4, size=N)]  # (N,) 1..4 or 6..9
        second = (first + steps) % 10  # (N,) uniform too: a fixed step permutes the ten digits
        shown = np.where(np.arange(T) < T // 2, draw_image(first)[:, None], draw_image(second)[:, None])

    # 4. positions on the torus: uniform start, then `speed` px per frame in the direction
    start = rng.integers(0, S, size=(N, 1, 2))  # (N, 1, 2) top-left (row, column)
    steps = np.array(_STEPS)[directions][:, None, :]  # (N, 1, 2)
    positions = (start + speed * np.arange(T)[None, :, None] * steps) % S  # (N, T, 2)

    # 5. render all frames at once: scatter each d×d image at its (wrapped) rows and columns
    shown_t, pos_t = torch.from_numpy(shown), torch.from_numpy(positions)
    rows = (pos_t[..., 0, None] + torch.arange(d)) % S  # (N, T, d)
    cols = (pos_t[..., 1, None] + torch.arange(d)) % S  # (N, T, d)
    videos = torch.zeros(N, T, S, S)
    n_idx = torch.arange(N)[:, None, None, None]
    t_idx = torch.arange(T)[None, :, None, None]
    videos[n_idx, t_idx, rows[..., :, None], cols[..., None, :]] = images[shown_t]  # (N, T, d, d)

    return _Clips(videos=videos.unsqueeze(1),  # (N, 1, T, S, S): the Conv3d layout
                  labels=torch.from_numpy(labels).long(), directions=torch.from_numpy(directions).long(),
                  digits=classes[shown_t], image_ids=source[shown_t], positions=pos_t.long())


def moving_digits(num_clips: int, *, label: str = "direction", split: str = "train", num_frames: int = 8,
                  size: int = 32, seed: int = 0, digit_size: int = 12,
                  speed: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate Moving Digits clips and their labels (see the module docstring for the task).

    Args:
        num_clips: how many clips (N), >= 1.
        label: "digit" (10 classes), "direction" (4 classes, :data:`DIRECTIONS`) or "order"
            (2 classes, :data:`ORDER_CLASSES`: (second - first) mod 10 in 1..4 or 6..9).
        split: "train" or "test"; the two use disjoint digit images.
        num_frames: frames per clip (T), >= 1 (>= 2 for "order").
        size: side of the square canvas in pixels (H = W), >= digit_size.
        seed: the same seed (with the same other arguments) gives the same clips, bit for bit.
        digit_size: side of the digit in pixels.
        speed: pixels per frame.

    Returns:
        videos: (N, 1, T, size, size) float32 in [0, 1], the Conv3d layout.
        labels: (N,) int64; every class occurs N // K or N // K + 1 times (K classes).

    Raises:
        ValueError: an unknown label kind or split, or sizes that do not fit.
    """
    clips = _generate(num_clips, label, split, num_frames, size, seed, digit_size, speed)
    return clips.videos, clips.labels


class MovingDigits(TensorDataset):
    """Moving Digits as a ``TensorDataset``: ``data[i]`` is ``(video (1, T, H, W), label)``.

    Same arguments as :func:`moving_digits`. Besides ``videos`` (N, 1, T, H, W) float32 and
    ``labels`` (N,) int64 it keeps what generated each clip:

        directions  (N,) int64      direction of motion, index into DIRECTIONS
        digits      (N, T) int64    digit class shown in each frame
        image_ids   (N, T) int64    row in sklearn's load_digits of the image shown in each frame
        positions   (N, T, 2) int64 (row, column) of the digit's top-left pixel (wrapping around)
        classes     tuple of str    the class names of the labels
    """

    def __init__(self, num_clips: int, *, label: str = "direction", split: str = "train", num_frames: int = 8,
                 size: int = 32, seed: int = 0, digit_size: int = 12, speed: int = 2) -> None:
        clips = _generate(num_clips, label, split, num_frames, size, seed, digit_size, speed)
        super().__init__(clips.videos, clips.labels)
        self.label, self.split = label, split
        self.directions, self.digits = clips.directions, clips.digits
        self.image_ids, self.positions = clips.image_ids, clips.positions
        self.classes = {"digit": tuple(str(k) for k in range(10)), "direction": DIRECTIONS,
                        "order": ORDER_CLASSES}[label]

    @property
    def videos(self) -> torch.Tensor:
        """(N, 1, T, H, W) float32 in [0, 1]."""
        return self.tensors[0]

    @property
    def labels(self) -> torch.Tensor:
        """(N,) int64 class labels."""
        return self.tensors[1]

    def __repr__(self) -> str:
        N, C, T, H, W = self.videos.shape
        return (f"MovingDigits({N} clips of (C={C}, T={T}, H={H}, W={W}), label={self.label!r}, "
                f"split={self.split!r}, classes={len(self.classes)})")
