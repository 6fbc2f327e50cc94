"""Tracking by detection (lesson 13_video_tasks): box IoU, a constant-velocity Kalman filter,
Hungarian assignment, SORT, ByteTrack and the CLEAR MOT / IDF1 metrics.

**Boxes** are ``(N, 4)`` float ``[x1, y1, x2, y2]`` in pixels (x along the width, y down the rows;
x1 <= x2, y1 <= y2). A tracker's input is a list over frames of ``(boxes (Ni, 4), scores (Ni,))``;
its output, like a ground truth, a list over frames of ``(track_ids (Ki,) int64, boxes (Ki, 4))``.

**Kalman state.** SORT (Bewley et al. 2016) tracks ``[cx, cy, s, r, vcx, vcy, vs]`` with s = area and
r = aspect ratio held constant; ByteTrack (Zhang et al. 2022, after DeepSORT) tracks
``[cx, cy, a, h, ...]`` with a = w / h. Here both trackers use the simpler linear state

    mean = [cx, cy, w, h, vcx, vcy, vw, vh]     (pixels and pixels per frame)

because every component has the unit "pixel", so one noise level in pixels fits all of them (an
area s lives in pixels² and its noise cannot be stated in the same unit as cx), the box ↔ state
conversion is exact and linear, and the measurement model H just picks the first four entries. It
is the ``xywh`` variant that ByteTrack's successors (BoT-SORT) adopted. Both trackers share the
model, so a comparison between them isolates their association rules.

    box_iou(boxes_a, boxes_b)                       (N, M) intersection over union          [exercise]
    kalman_predict(mean, cov, F, Q)                 x ← F x, P ← F P Fᵀ + Q                   [exercise]
    kalman_update(mean, cov, z, H, R)               K = P Hᵀ (H P Hᵀ + R)⁻¹, P ← (I − K H) P  [exercise]
    associate(cost, max_cost=...)                   Hungarian matching, then a gate          [exercise]
    constant_velocity_model(...)                    F, Q, H, R and the initial covariance
    boxes_to_state / state_to_boxes / initial_state box ↔ Kalman state
    sort(detections, ...)                           SORT (Bewley et al. 2016)
    bytetrack(detections, ...)                      ByteTrack (Zhang et al. 2022)
    mot_metrics(gt, hyp, ...)                       MOTA, MOTP, IDF1, ID switches (py-motmetrics' rules)
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

__all__ = ["box_iou", "kalman_predict", "kalman_update", "associate", "BoxModel", "constant_velocity_model",
           "boxes_to_state", "state_to_boxes", "initial_state", "sort", "bytetrack", "mot_metrics"]

Frames = Sequence[tuple[torch.Tensor, torch.Tensor]]  # per frame (boxes (Ni, 4), scores or ids (Ni,))


# --- box IoU --------------------------------------------------------------------------------------
def box_iou(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> torch.Tensor:
    """Intersection over union of every pair of boxes.

    IoU(a, b) = area(a ∩ b) / area(a ∪ b), 0 when the union is empty (two degenerate boxes). The
    same quantity as ``torchvision.ops.box_iou`` (no "+1 pixel" convention: a box from x1 = 2 to
    x2 = 5 is 3 pixels wide).

    Args:
        boxes_a: (N, 4) float [x1, y1, x2, y2] in pixels, x1 <= x2 and y1 <= y2.
        boxes_b: (M, 4) float, the same format.

    Returns:
        (N, M) IoU in [0, 1], the dtype of the inputs (float32 at least).

    Raises:
        ValueError: a box array not of shape (K, 4), or a box with x2 < x1 or y2 < y1.
    """
    for name, boxes in (("boxes_a", boxes_a), ("boxes_b", boxes_b)):
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"{name} must be (K, 4) [x1, y1, x2, y2]; got shape {tuple(boxes.shape)}")
        if bool(((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])).any()):
            raise ValueError(f"{name} has a box with x2 < x1 or y2 < y1: boxes are [x1, y1, x2, y2], not [x, y, w, h]")
    dtype = torch.promote_types(torch.promote_types(boxes_a.dtype, boxes_b.dtype), torch.float32)
    a, b = boxes_a.to(dtype)[:, None, :], boxes_b.to(dtype)[None, :, :]  # (N, 1, 4), (1, M, 4)
    # 1. intersection: the overlap of the two intervals along x and along y
    width = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0])).clamp(min=0)
    height = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1])).clamp(min=0)
    inter = width * height  # (N, M)
    # 2. union = area a + area b - intersection
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])  # (N, 1)
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # (1, M)
    union = area_a + area_b - inter
    # 3. ratio, 0 where the union is empty
    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(dtype).tiny), torch.zeros_like(inter))


# --- Kalman filter --------------------------------------------------------------------------------
def kalman_predict(mean: torch.Tensor, cov: torch.Tensor, F: torch.Tensor,
                   Q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The Kalman prediction step for N independent tracks: x ← F x, P ← F P Fᵀ + Q.

    Args:
        mean: (N, D) float state means.
        cov: (N, D, D) float state covariances (symmetric, positive semi-definite).
        F: (D, D) state transition (a constant-velocity model: position += velocity · dt).
        Q: (D, D) process noise covariance added at each step.

    Returns:
        mean: (N, D) predicted means; cov: (N, D, D) predicted covariances.

    Raises:
        ValueError: shapes that do not agree (the message names them).

    Source: Kalman 1960; the notation of Welch & Bishop, "An Introduction to the Kalman Filter".
    """
    N, D = mean.shape
    if cov.shape != (N, D, D) or F.shape != (D, D) or Q.shape != (D, D):
        raise ValueError(f"expected mean (N, D), cov (N, D, D), F and Q (D, D); got mean {tuple(mean.shape)}, "
                         f"cov {tuple(cov.shape)}, F {tuple(F.shape)}, Q {tuple(Q.shape)}")
    mean = mean @ F.T  # (N, D): each row x becomes F x
    cov = F @ cov @ F.T + Q  # (N, D, D)
    return mean, cov


def kalman_update(mean: torch.Tensor, cov: torch.Tensor, measurement: torch.Tensor, H: torch.Tensor,
                  R: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The Kalman update (correction) step for N tracks, each with one measurement.

        y = z − H x                 innovation
        S = H P Hᵀ + R              innovation covariance
        K = P Hᵀ S⁻¹                Kalman gain (solved, never inverted)
        x ← x + K y,   P ← (I − K H) P

    Args:
        mean: (N, D) float predicted state means.
        cov: (N, D, D) float predicted covariances.
        measurement: (N, M) float measurements z (here a box as [cx, cy, w, h]).
        H: (M, D) measurement matrix (z = H x + noise).
        R: (M, M) measurement noise covariance.

    Returns:
        mean: (N, D) corrected means; cov: (N, D, D) corrected covariances.

    Raises:
        ValueError: shapes that do not agree (the message names them).

    Source: Kalman 1960; Welch & Bishop, "An Introduction to the Kalman Filter", eqs. 1.11-1.13.
    """
    N, D = mean.shape
    M = measurement.shape[-1]
    if cov.shape != (N, D, D) or measurement.shape != (N, M) or H.shape != (M, D) or R.shape != (M, M):
        raise ValueError(f"expected mean (N, D), cov (N, D, D), measurement (N, M), H (M, D), R (M, M); got mean "
                         f"{tuple(mean.shape)}, cov {tuple(cov.shape)}, measurement {tuple(measurement.shape)}, "
                         f"H {tuple(H.shape)}, R {tuple(R.shape)}")
    # 1. innovation and its covariance
    innovation = measurement - mean @ H.T  # (N, M)
    S = H @ cov @ H.T + R  # (N, M, M)
    # 2. gain: K = P Hᵀ S⁻¹, i.e. Kᵀ = S⁻¹ H P (S and P symmetric)
    K = torch.linalg.solve(S, H @ cov).transpose(-1, -2)  # (N, D, M)
    # 3. correct the mean and shrink the covariance
    mean = mean + (K @ innovation[..., None])[..., 0]  # (N, D)
    identity = torch.eye(D, dtype=cov.dtype, device=cov.device)
    cov = (identity - K @ H) @ cov  # (N, D, D)
    return mean, cov


class BoxModel(NamedTuple):
    """The matrices of the constant-velocity box model (state [cx, cy, w, h, vcx, vcy, vw, vh])."""

    F: torch.Tensor  # (8, 8) transition: position += velocity · dt
    Q: torch.Tensor  # (8, 8) process noise covariance, pixels² and (pixels / frame)²
    H: torch.Tensor  # (4, 8) measurement: the box [cx, cy, w, h]
    R: torch.Tensor  # (4, 4) measurement noise covariance, pixels²
    P0: torch.Tensor  # (8, 8) covariance of a new track (its velocity unknown)


def constant_velocity_model(*, dt: float = 1.0, position_std: float = 1.0, velocity_std: float = 0.5,
                            measurement_std: float = 1.0, initial_velocity_std: float = 5.0,
                            dtype: torch.dtype = torch.float64) -> BoxModel:
    """F, Q, H, R and the initial covariance of the box state [cx, cy, w, h, vcx, vcy, vw, vh].

    Diagonal noise as in SORT's filter; the defaults suit digits of ~12 px moving ~1 px per frame
    with detections jittered by ~1 px (``course.data.scenes``).

    Args:
        dt: frames between two steps (> 0).
        position_std: process noise of cx, cy, w, h per step, pixels (> 0).
        velocity_std: process noise of the velocities per step, pixels per frame (> 0).
        measurement_std: noise of a detected box's cx, cy, w, h, pixels (> 0).
        initial_velocity_std: spread of a new track's unknown velocity, pixels per frame (> 0).
        dtype: floating dtype of the matrices.

    Returns:
        a :class:`BoxModel` (F (8, 8), Q (8, 8), H (4, 8), R (4, 4), P0 (8, 8)).

    Raises:
        ValueError: a non-positive dt or standard deviation.
    """
    values = dict(dt=dt, position_std=position_std, velocity_std=velocity_std, measurement_std=measurement_std,
                  initial_velocity_std=initial_velocity_std)
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be > 0; got {value}")
    F = torch.eye(8, dtype=dtype)
    F[:4, 4:] = dt * torch.eye(4, dtype=dtype)  # position += velocity · dt
    Q = torch.diag(torch.tensor([position_std**2] * 4 + [velocity_std**2] * 4, dtype=dtype))
    H = torch.eye(4, 8, dtype=dtype)  # picks [cx, cy, w, h]
    R = measurement_std**2 * torch.eye(4, dtype=dtype)
    P0 = torch.diag(torch.tensor([measurement_std**2] * 4 + [initial_velocity_std**2] * 4, dtype=dtype))
    return BoxModel(F, Q, H, R, P0)


def boxes_to_state(boxes: torch.Tensor) -> torch.Tensor:
    """[x1, y1, x2, y2] → [cx, cy, w, h]: (N, 4) → (N, 4), pixels (the measurement z of a box)."""
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) [x1, y1, x2, y2]; got shape {tuple(boxes.shape)}")
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


def state_to_boxes(mean: torch.Tensor) -> torch.Tensor:
    """[cx, cy, w, h, ...] → [x1, y1, x2, y2]: (N, >=4) → (N, 4), pixels (velocities ignored)."""
    if mean.ndim != 2 or mean.shape[1] < 4:
        raise ValueError(f"mean must be (N, D >= 4) starting [cx, cy, w, h]; got shape {tuple(mean.shape)}")
    cx, cy, w, h = mean[:, :4].unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def initial_state(boxes: torch.Tensor, model: BoxModel) -> tuple[torch.Tensor, torch.Tensor]:
    """New tracks from boxes: mean [cx, cy, w, h, 0, 0, 0, 0] (N, 8), covariance model.P0 (N, 8, 8)."""
    z = boxes_to_state(boxes).to(model.F.dtype)
    mean = torch.cat([z, torch.zeros_like(z)], dim=1)  # (N, 8): velocity unknown, start at 0
    return mean, model.P0.expand(len(z), 8, 8).clone()


# --- assignment -----------------------------------------------------------------------------------
def associate(cost: torch.Tensor, *, max_cost: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Match tracks to detections by minimum total cost (Hungarian / Kuhn-Munkres), then gate.

    The optimal one-to-one assignment comes from ``scipy.optimize.linear_sum_assignment``; a matched
    pair whose cost exceeds ``max_cost`` is then split into an unmatched track and an unmatched
    detection (SORT's rule: assign first, reject low-IoU pairs after). ByteTrack's ``lap.lapjv(...,
    cost_limit=...)`` instead forbids such pairs inside the assignment, which can pick a different
    matching when a gated pair would have displaced a good one.

    Args:
        cost: (N, M) float cost of matching track i to detection j (e.g. 1 − IoU), finite.
        max_cost: largest cost a kept match may have (cost == max_cost is kept).

    Returns:
        matches: (K, 2) int64 rows (track index, detection index), in increasing track index.
        unmatched_tracks: (N − K,) int64 track indices, increasing.
        unmatched_detections: (M − K,) int64 detection indices, increasing.

    Raises:
        ValueError: cost not 2-D or not finite.

    Source: Kuhn 1955; Bewley et al. 2016 (SORT), ``associate_detections_to_trackers``.
    """
    if cost.ndim != 2:
        raise ValueError(f"cost must be (N tracks, M detections); got shape {tuple(cost.shape)}")
    if not bool(torch.isfinite(cost).all()):
        raise ValueError("cost has NaN or infinite entries; give forbidden pairs a large finite cost instead")
    N, M = cost.shape
    # 1. optimal assignment (scipy handles N = 0 or M = 0 and returns rows in increasing order)
    rows, cols = linear_sum_assignment(cost.detach().cpu().double().numpy())
    # 2. gate: drop pairs that cost too much
    keep = cost.detach().cpu().double().numpy()[rows, cols] <= max_cost
    matches = torch.as_tensor(np.stack([rows[keep], cols[keep]], axis=1), dtype=torch.int64).reshape(-1, 2)
    # 3. whatever is not in a kept pair is unmatched
    track_free = torch.ones(N, dtype=torch.bool)
    track_free[matches[:, 0]] = False
    detection_free = torch.ones(M, dtype=torch.bool)
    detection_free[matches[:, 1]] = False
    return matches, torch.nonzero(track_free)[:, 0], torch.nonzero(detection_free)[:, 0]
