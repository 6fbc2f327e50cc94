"""Multi-digit scenes for tracking (lesson 13_video_tasks): handwritten digits that cross and occlude
each other, their ground-truth tracks, and a simulated detector whose confidence falls with occlusion.

A scene is a grey video ``(T, 1, H, W)`` float32 in [0, 1] (frames handled one by one, the course's
``(T, C, H, W)`` layout) in which ``num_digits`` Moving Digits images (``course.data.moving_digits``,
12×12 by default) move at constant velocity, plus a little position noise, on a bounded canvas:

* **frequent crossings**: digit k moves along the angle θ₀ + 2πk / K (K = 2: head-on from opposite
  sides; K = 3: three directions 120° apart) and passes a point near the canvas centre at a time
  drawn in the middle of the clip, so the paths of most pairs meet in most scenes; its speed is the
  largest (up to ``max_speed``) that keeps the whole path inside the canvas;
* **occlusion**: digits are drawn in a random depth order, each over the ones below with its ink as
  opacity (alpha compositing: pixel = a_top + (1 − a_top) · below). A digit's **visibility** in a
  frame is the fraction of its ink not covered by the digits above it (1 = fully visible);
* **ground truth**: per frame the ids (0..K−1, the same digit keeps its id) and boxes
  ``[x1, y1, x2, y2]`` in pixels, the tight box of the digit's ink (pixels > 0.1); every digit is
  in every frame, occluded or not, as in MOT ground truth.

:func:`noisy_detections` turns a scene into what a detector would report: boxes jittered, some
missed (always when visibility < ``min_visibility``), false positives with low scores, and a
score that falls with visibility (score = visibility × U(0.85, 1)), so a half-hidden digit scores
below 0.6: the "low-score boxes" that ByteTrack (Zhang et al. 2022) keeps and SORT throws away.

    digit_scene(num_digits=3, num_frames=40, size=64, seed=...)   -> DigitScene(video, ids, boxes)
                                                                      + .visibility, .labels
    noisy_detections(scene, seed=..., miss_rate=..., jitter=..., false_positives=...)
                                                                   -> list of (boxes, scores)
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from course.data.moving_digits import digit_images

__all__ = ["DigitScene", "digit_scene", "noisy_detections"]

_INK = 0.1  # a pixel with ink above this belongs to the digit's tight box


class _SceneFields(NamedTuple):
    video: torch.Tensor  # (T, 1, H, W) float32 in [0, 1]
    ids: list[torch.Tensor]  # per frame (K,) int64
    boxes: list[torch.Tensor]  # per frame (K, 4) float32 [x1, y1, x2, y2], pixels


class DigitScene(_SceneFields):
    """A scene: the named tuple ``(video, ids, boxes)``, plus two attributes.

    Attributes:
        video: (T, 1, H, W) float32 in [0, 1].
        ids: list over frames of (K,) int64 ids 0..K−1 (digit k keeps id k).
        boxes: list over frames of (K, 4) float32 [x1, y1, x2, y2] in pixels, rows in id order.
        visibility: list over frames of (K,) float32 in [0, 1], fraction of each digit's ink not
            covered by digits drawn above it (rows in id order).
        labels: (K,) int64 digit class of each id.

    Unpacking gives the three fields (``video, ids, boxes = scene``); the attributes travel with
    the object (``_replace`` drops them).
    """

    visibility: list[torch.Tensor]
    labels: torch.Tensor


def _tight_boxes(images: torch.Tensor) -> torch.Tensor:
    """(K, d, d) ink images → (K, 4) int64 [x1, y1, x2, y2] of their pixels above _INK (x2, y2 exclusive)."""
    ink = images > _INK
    rows, cols = ink.any(dim=2), ink.any(dim=1)  # (K, d) each
    d = images.shape[-1]
    first = lambda m: torch.argmax(m.int(), dim=1)  # noqa: E731  first True
    last = lambda m: d - torch.argmax(m.flip(1).int(), dim=1)  # noqa: E731  one past the last True
    return torch.stack([first(cols), first(rows), last(cols), last(rows)], dim=1)


def digit_scene(*, num_digits: int = 3, num_frames: int = 40, size: int = 64, seed: int,
                digit_size: int = 12, max_speed: float = 1.5, position_noise: float = 0.3,
                split: str = "train") -> DigitScene:
    """A seeded scene of ``num_digits`` handwritten digits that cross and occlude each other.

    Args:
        num_digits: digits in the scene, K >= 1 (distinct classes, so K <= 10).
        num_frames: frames T >= 2.
        size: canvas side H = W in pixels, > 2 · digit_size.
        seed: seed of every random choice (digits, paths, depth order, noise).
        digit_size: side of a digit image in pixels (see ``moving_digits.digit_images``).
        max_speed: largest speed in pixels per frame (> 0); slower when the canvas is too small
            for the path.
        position_noise: standard deviation of the per-frame position noise in pixels (>= 0);
            positions are rounded to whole pixels.
        split: which digit images, "train" or "test" (disjoint).

    Returns:
        a :class:`DigitScene` (video, ids, boxes, plus .visibility and .labels).

    Raises:
        ValueError: a size or count out of range.
    """
    K, T, d = num_digits, num_frames, digit_size
    if not 1 <= K <= 10 or T < 2 or size <= 2 * d or max_speed <= 0 or position_noise < 0:
        raise ValueError(f"need 1 <= num_digits <= 10, num_frames >= 2, size > 2 * digit_size, max_speed > 0 and "
                         f"position_noise >= 0; got {K}, {T}, {size} (digit_size {d}), {max_speed}, {position_noise}")
    g = np.random.default_rng(seed)
    images, labels, _ = digit_images(split, digit_size=d)
    # 1. K digits of distinct classes
    classes = g.choice(10, K, replace=False)
    pick = [int(g.choice(np.flatnonzero(labels.numpy() == c))) for c in classes]
    patches = images[pick]  # (K, d, d)
    # 2. paths: direction θ0 + 2πk/K, through a point near the centre at a mid-clip time
    hi = size - d  # top-left corner in [0, hi]
    angle = g.uniform(0, 2 * math.pi) + 2 * math.pi * np.arange(K) / K + g.uniform(-0.3, 0.3, K)
    direction = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (K, 2) unit (x, y)
    through = hi / 2 + g.uniform(-d / 2, d / 2, (K, 2))  # (K, 2) top-left corner at time t0
    t0 = g.uniform(0.3, 0.7, K) * (T - 1)
    speed = np.full(K, max_speed)
    for frames, sign in ((T - 1 - t0, 1.0), (t0, -1.0)):  # forward and backward in time
        step = sign * direction  # (K, 2)
        room = np.where(step > 0, hi - through, through)  # pixels to the wall along each axis
        limit = room / np.maximum(np.abs(step) * frames[:, None], 1e-9)
        speed = np.minimum(speed, limit.min(axis=1))
    t = np.arange(T)[:, None, None]  # (T, 1, 1)
    corner = through + (speed[:, None] * direction) * (t - t0[:, None])  # (T, K, 2) float (x, y)
    corner = corner + g.normal(0, position_noise, corner.shape) if position_noise > 0 else corner
    corner = torch.from_numpy(np.clip(np.rint(corner), 0, hi).astype(np.int64))  # (T, K, 2)
    # 3. draw each digit on its own layer, then composite in depth order
    layers = torch.zeros(T, K, size, size)
    x, y = corner[..., 0], corner[..., 1]  # (T, K)
    span = torch.arange(d)
    rows = (y[..., None] + span)[..., :, None]  # (T, K, d, 1)
    cols = (x[..., None] + span)[..., None, :]  # (T, K, 1, d)
    layers[torch.arange(T)[:, None, None, None], torch.arange(K)[None, :, None, None], rows, cols] = patches
    depth = torch.from_numpy(g.permutation(K))  # depth[k] = drawing rank of digit k (0 = bottom)
    order = torch.argsort(depth)  # digits from bottom to top
    alpha = layers[:, order]  # (T, K, H, W) bottom → top
    through_above = torch.cumprod((1 - alpha).flip(1), dim=1).flip(1)  # Π_{j >= k} (1 − a_j)
    above = torch.cat([through_above[:, 1:], torch.ones_like(through_above[:, :1])], dim=1)  # Π_{j > k}
    seen = alpha * above  # (T, K, H, W): what of each layer reaches the eye
    video = seen.sum(dim=1, keepdim=True).clamp(0, 1)  # (T, 1, H, W)
    visibility = torch.empty(T, K)
    visibility[:, order] = seen.sum(dim=(2, 3)) / alpha.sum(dim=(2, 3)).clamp(min=1e-12)
    # 4. ground truth: the tight ink box moved with the digit
    tight = _tight_boxes(patches)  # (K, 4)
    boxes = (tight[None] + corner.repeat(1, 1, 2)).float()  # (T, K, 4)
    ids = torch.arange(K)
    scene = DigitScene(video.float(), [ids.clone() for _ in range(T)], list(boxes.unbind(0)))
    scene.visibility = list(visibility.float().unbind(0))
    scene.labels = torch.as_tensor(classes, dtype=torch.int64)
    return scene


def noisy_detections(scene: DigitScene, *, seed: int, miss_rate: float = 0.05, jitter: float = 0.05,
                     false_positives: float = 0.2, min_visibility: float = 0.25,
                     score_range: tuple[float, float] = (0.85, 1.0),
                     false_positive_scores: tuple[float, float] = (0.05, 0.5),
                     ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A simulated detector on a scene: per frame (boxes, scores), in random order.

    Each digit is detected unless it is missed at random (``miss_rate``) or mostly hidden
    (visibility < ``min_visibility``); its box is the ground truth plus Gaussian noise on each
    coordinate, ``jitter`` times the box's width (x) or height (y), kept inside the canvas; its
    score is visibility × U(score_range), so occluded digits get low scores. False positives: a
    Poisson number per frame (mean ``false_positives``), digit-sized boxes at random places with
    scores U(false_positive_scores).

    Args:
        scene: a :class:`DigitScene` from :func:`digit_scene`.
        seed: seed of every random choice.
        miss_rate: probability of missing a visible digit, in [0, 1].
        jitter: standard deviation of the box-coordinate noise as a fraction of the box's width (x1, x2)
            or height (y1, y2), >= 0 (0.05 moves a 12 px edge by 0.6 px).
        false_positives: mean number of false positives per frame (>= 0).
        min_visibility: digits less visible than this are never detected.
        score_range: (low, high) of the factor multiplied by visibility, 0 <= low <= high <= 1.
        false_positive_scores: (low, high) of a false positive's uniform score.

    Returns:
        list over frames of (boxes (Ni, 4) float32 [x1, y1, x2, y2] px, scores (Ni,) float32 in [0, 1]).

    Raises:
        ValueError: a rate, noise level or range out of bounds, or a scene without visibility.
    """
    if not 0 <= miss_rate <= 1 or jitter < 0 or false_positives < 0:
        raise ValueError(f"need 0 <= miss_rate <= 1, jitter >= 0 and false_positives >= 0; got {miss_rate}, "
                         f"{jitter}, {false_positives}")
    for name, (low, high) in (("score_range", score_range), ("false_positive_scores", false_positive_scores)):
        if not 0 <= low <= high <= 1:
            raise ValueError(f"{name} must be (low, high) with 0 <= low <= high <= 1; got {(low, high)}")
    if not hasattr(scene, "visibility"):
        raise ValueError("scene has no .visibility: make it with course.data.scenes.digit_scene")
    g = np.random.default_rng(seed)
    T, _, H, W = scene.video.shape
    limit = np.array([W, H, W, H], dtype=np.float64)
    out = []
    for t in range(T):
        gt = scene.boxes[t].double().numpy()  # (K, 4)
        vis = scene.visibility[t].double().numpy()  # (K,)
        # 1. true detections: visible enough and not missed; jittered box; score from visibility
        keep = (vis >= min_visibility) & (g.random(len(gt)) >= miss_rate)
        side = np.tile(gt[keep, 2:] - gt[keep, :2], 2)  # (k, 4): width, height, width, height
        boxes = gt[keep] + g.normal(0, 1, side.shape) * jitter * side
        scores = vis[keep] * g.uniform(*score_range, int(keep.sum()))
        # 2. false positives: digit-sized boxes anywhere, low scores
        n_fp = int(g.poisson(false_positives))
        side = np.median(gt[:, 2:] - gt[:, :2], axis=0) if len(gt) else np.array([10.0, 10.0])
        corner = g.uniform(0, 1, (n_fp, 2)) * np.maximum([W, H] - side, 0)
        boxes = np.concatenate([boxes, np.concatenate([corner, corner + side], axis=1)])
        scores = np.concatenate([scores, g.uniform(*false_positive_scores, n_fp)])
        # 3. inside the canvas, at least 1 px wide and high; random order (the order carries no identity)
        boxes = np.clip(boxes, 0, limit)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], np.minimum(boxes[:, :2] + 1, limit[2:]))
        boxes[:, :2] = np.minimum(boxes[:, :2], boxes[:, 2:] - 1)
        perm = g.permutation(len(boxes))
        out.append((torch.from_numpy(boxes[perm]).float(), torch.from_numpy(scores[perm]).float()))
    return out
