"""Tracking by detection: box IoU, a constant-velocity Kalman filter,
Hungarian assignment, SORT, ByteTrack and the CLEAR MOT / IDF1 metrics.

Lesson 13_video_tasks.

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


# --- trackers -------------------------------------------------------------------------------------
def _frame_input(frame: tuple, index: int, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One frame of a tracker's input or a metric's sequence: (boxes (K, 4) float64, values (K,))."""
    if not isinstance(frame, (tuple, list)) or len(frame) != 2:
        raise ValueError(f"frame {index} of {what} must be a pair; got {type(frame).__name__}")
    first, second = frame
    if what == "detections":
        boxes, values = torch.as_tensor(first), torch.as_tensor(second)
        order = "(boxes (N, 4), scores (N,))"
    else:
        values, boxes = torch.as_tensor(first), torch.as_tensor(second)
        order = "(ids (N,), boxes (N, 4))"
    boxes = boxes.reshape(-1, 4) if boxes.numel() == 0 else boxes
    if boxes.ndim != 2 or boxes.shape[1] != 4 or values.shape != (len(boxes),):
        raise ValueError(f"frame {index} of {what} must be {order}; got shapes {tuple(boxes.shape)} and "
                         f"{tuple(values.shape)}")
    if bool(((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])).any()):
        raise ValueError(f"frame {index} of {what} has a box with x2 < x1 or y2 < y1: boxes are [x1, y1, x2, y2]")
    return boxes.to(torch.float64), values


class _Tracks:
    """The state of a set of tracks: Kalman means and covariances plus per-track counters (lists).

    The means and covariances are NumPy arrays, and :meth:`predict` / :meth:`update` repeat the
    equations of :func:`kalman_predict` / :func:`kalman_update` in NumPy: for 8 × 8 matrices the
    arithmetic takes microseconds, and torch's per-call overhead (and its thread pool on a busy
    machine) costs many times more. ``tests/video/test_tracking.py`` checks that the two agree.
    """

    def __init__(self, model: BoxModel) -> None:
        self.model = model
        self.F, self.Q, self.H, self.R = (m.detach().cpu().numpy() for m in (model.F, model.Q, model.H, model.R))
        self.mean = np.zeros((0, 8), dtype=self.F.dtype)
        self.cov = np.zeros((0, 8, 8), dtype=self.F.dtype)
        self.info: list[dict] = []  # per track: id, hits, hit_streak, time_since_update, state, ...

    def __len__(self) -> int:
        return len(self.info)

    def boxes(self, index: torch.Tensor | list[int] | None = None) -> torch.Tensor:
        mean = self.mean if index is None else self.mean[np.asarray(index, dtype=np.int64)]
        return state_to_boxes(torch.from_numpy(mean.reshape(-1, 8)))

    def predict(self, index: list[int]) -> None:
        if not index:
            return
        idx = np.asarray(index, dtype=np.int64)
        mean = self.mean[idx].copy()
        # a shrinking box must not turn inside out (SORT sets the area velocity to 0 in that case)
        for k in (2, 3):
            mean[:, k + 4] = np.where(mean[:, k] + mean[:, k + 4] <= 0, 0.0, mean[:, k + 4])
        # kalman_predict: x ← F x, P ← F P Fᵀ + Q
        self.mean[idx] = mean @ self.F.T
        self.cov[idx] = self.F @ self.cov[idx] @ self.F.T + self.Q

    def update(self, index: list[int], boxes: torch.Tensor) -> None:
        if not index:
            return
        idx = np.asarray(index, dtype=np.int64)
        z = boxes_to_state(boxes).numpy().astype(self.mean.dtype)
        mean, cov, H = self.mean[idx], self.cov[idx], self.H
        # kalman_update: K = P Hᵀ S⁻¹ with S = H P Hᵀ + R, x ← x + K (z − H x), P ← (I − K H) P
        innovation = z - mean @ H.T  # (N, 4)
        S = H @ cov @ H.T + self.R  # (N, 4, 4)
        K = np.linalg.solve(S, H @ cov).transpose(0, 2, 1)  # (N, 8, 4)
        self.mean[idx] = mean + (K @ innovation[..., None])[..., 0]
        self.cov[idx] = (np.eye(8, dtype=cov.dtype) - K @ H) @ cov

    def add(self, boxes: torch.Tensor, infos: list[dict]) -> None:
        mean, cov = initial_state(boxes, self.model)
        self.mean = np.concatenate([self.mean, mean.numpy().astype(self.mean.dtype)])
        self.cov = np.concatenate([self.cov, cov.numpy().astype(self.cov.dtype)])
        self.info += infos

    def keep(self, index: list[int]) -> None:
        idx = np.asarray(index, dtype=np.int64)
        self.mean, self.cov = self.mean[idx], self.cov[idx]
        self.info = [self.info[i] for i in index]


def _output(tracks: _Tracks, index: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(track_ids (K,) int64, boxes (K, 4) float32) of some tracks, in increasing id."""
    index = sorted(index, key=lambda i: tracks.info[i]["id"])
    ids = torch.tensor([tracks.info[i]["id"] for i in index], dtype=torch.int64)
    return ids, tracks.boxes(index).float().reshape(-1, 4)


def sort(detections: Frames, *, iou_threshold: float = 0.3, max_age: int = 1, min_hits: int = 3,
         score_threshold: float = 0.6, model: BoxModel | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """SORT: Kalman prediction, Hungarian matching on IoU, one association per frame.

    Per frame (Bewley et al. 2016 and their reference code ``sort.py``):

    1. drop detections scoring below ``score_threshold`` (SORT itself takes whatever the detector
       kept; the default is ByteTrack's ``high_threshold``, so both trackers start from the same
       confident boxes);
    2. predict every track; a track not updated last frame loses its hit streak;
    3. match tracks to detections with cost 1 − IoU, rejecting pairs with IoU < ``iou_threshold``;
    4. update matched tracks with their detection; start a track at every unmatched detection;
    5. delete tracks unmatched for more than ``max_age`` frames;
    6. report a track updated this frame whose hit streak is at least ``min_hits`` (or any updated
       track during the first ``min_hits`` frames), with its Kalman-corrected box.

    Args:
        detections: list over frames of (boxes (Ni, 4) float [x1, y1, x2, y2] px, scores (Ni,)).
        iou_threshold: smallest IoU of a kept match.
        max_age: frames a track survives without a detection (>= 0).
        min_hits: consecutive updates before a new track is reported (>= 0).
        score_threshold: detections with a lower score are ignored.
        model: the Kalman model; default :func:`constant_velocity_model`.

    Returns:
        list over frames of (track_ids (Ki,) int64 from 1 in order of birth, boxes (Ki, 4) float32).

    Raises:
        ValueError: a frame that is not (boxes (N, 4), scores (N,)), or a negative max_age/min_hits.
    """
    if max_age < 0 or min_hits < 0:
        raise ValueError(f"max_age and min_hits must be >= 0; got {max_age} and {min_hits}")
    tracks, next_id, out = _Tracks(model or constant_velocity_model()), 1, []
    for frame_count, frame in enumerate(detections, start=1):
        boxes, scores = _frame_input(frame, frame_count - 1, "detections")
        boxes = boxes[scores.to(torch.float64) >= score_threshold]
        # 2. predict
        tracks.predict(list(range(len(tracks))))
        for info in tracks.info:
            if info["time_since_update"] > 0:
                info["hit_streak"] = 0
            info["time_since_update"] += 1
        # 3. associate on 1 - IoU
        cost = 1 - box_iou(tracks.boxes(), boxes)
        matches, _, new = associate(cost, max_cost=1 - iou_threshold)
        # 4. update and create
        tracks.update(matches[:, 0].tolist(), boxes[matches[:, 1]])
        for i in matches[:, 0].tolist():
            info = tracks.info[i]
            info.update(time_since_update=0, hits=info["hits"] + 1, hit_streak=info["hit_streak"] + 1)
        tracks.add(boxes[new], [dict(id=next_id + k, hits=0, hit_streak=0, time_since_update=0)
                                for k in range(len(new))])
        next_id += len(new)
        # 5. delete stale tracks, 6. report
        report = [i for i, info in enumerate(tracks.info) if info["time_since_update"] < 1
                  and (info["hit_streak"] >= min_hits or frame_count <= min_hits)]
        out.append(_output(tracks, report))
        tracks.keep([i for i, info in enumerate(tracks.info) if info["time_since_update"] <= max_age])
    return out


def bytetrack(detections: Frames, *, high_threshold: float = 0.6, low_threshold: float = 0.1,
              match_threshold: float = 0.8, second_match_threshold: float = 0.5, track_buffer: int = 30,
              new_track_threshold: float | None = None, unconfirmed_match_threshold: float = 0.7,
              fuse_score: bool = True, model: BoxModel | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """ByteTrack: associate every detection box, the low-score ones in a second pass.

    Per frame (Zhang et al. 2022, Algorithm 1, and the rules of their ``byte_tracker.py``); costs
    are IoU distances 1 − IoU, and "≤ threshold" keeps a pair:

    1. split detections into high (score ≥ ``high_threshold``; ByteTrack's code has >, so a score
       equal to the threshold falls in neither set there) and low (``low_threshold`` < score
       < ``high_threshold``); the rest are dropped;
    2. predict confirmed and lost tracks (a lost track's size velocity is set to 0 first);
    3. first association: those tracks with the high boxes, cost 1 − IoU·score (``fuse_score``),
       gate ``match_threshold``; a matched lost track is re-activated with its old id;
    4. second association: the still-unmatched tracks that were tracked last frame (not the lost
       ones) with the low boxes, cost 1 − IoU, gate ``second_match_threshold``; tracks left over
       become lost;
    5. unconfirmed tracks (born last frame) with the high boxes left over, gate
       ``unconfirmed_match_threshold``: matched ones are confirmed, the others deleted;
    6. a new (unconfirmed) track from each remaining high box scoring ≥ ``new_track_threshold``
       (ByteTrack's ``det_thresh``, default ``high_threshold + 0.1``); in frame 1 they start
       confirmed. Low boxes never start a track;
    7. delete tracks lost for more than ``track_buffer`` frames, and of a tracked and a lost track
       with IoU > 0.85 keep the older;
    8. report the confirmed tracks updated this frame, with their Kalman-corrected boxes.

    Association uses :func:`associate` (gate after assignment) where ByteTrack's code gates inside
    ``lap.lapjv``; the Kalman state is [cx, cy, w, h, ...] (module docstring) where ByteTrack's is
    [cx, cy, w / h, h, ...] with noise proportional to the height.

    Args:
        detections: list over frames of (boxes (Ni, 4) float [x1, y1, x2, y2] px, scores (Ni,)).
        high_threshold: score of a "high" box (ByteTrack's ``track_thresh``).
        low_threshold: boxes scoring at most this are ignored.
        match_threshold: largest IoU distance of a first-pass match.
        second_match_threshold: largest IoU distance of a low-box match.
        track_buffer: frames a lost track is kept for re-identification (>= 0).
        new_track_threshold: smallest score that starts a track; default high_threshold + 0.1.
        unconfirmed_match_threshold: largest IoU distance that confirms a new track.
        fuse_score: multiply IoU by the detection score in the high-box passes (as ByteTrack on MOT17).
        model: the Kalman model; default :func:`constant_velocity_model`.

    Returns:
        list over frames of (track_ids (Ki,) int64 from 1, boxes (Ki, 4) float32).

    Raises:
        ValueError: a frame that is not (boxes (N, 4), scores (N,)), low_threshold >= high_threshold,
            or a negative track_buffer.
    """
    if not low_threshold < high_threshold or track_buffer < 0:
        raise ValueError(f"need low_threshold < high_threshold and track_buffer >= 0; got {low_threshold}, "
                         f"{high_threshold}, {track_buffer}")
    new_track_threshold = high_threshold + 0.1 if new_track_threshold is None else new_track_threshold
    tracks, next_id, out = _Tracks(model or constant_velocity_model()), 1, []

    def matched(index: list[int], boxes: torch.Tensor, scores: torch.Tensor, frame_id: int) -> None:
        tracks.update(index, boxes)
        for i, score in zip(index, scores.tolist()):
            tracks.info[i].update(state="tracked", confirmed=True, end_frame=frame_id, score=score)

    def cost(index: list[int], boxes: torch.Tensor, scores: torch.Tensor | None) -> torch.Tensor:
        iou = box_iou(tracks.boxes(index).reshape(-1, 4), boxes)
        return 1 - (iou * scores.to(iou.dtype)[None, :] if scores is not None else iou)

    for frame_id, frame in enumerate(detections, start=1):
        boxes, scores = _frame_input(frame, frame_id - 1, "detections")
        scores = scores.to(torch.float64)
        # 1. high and low boxes
        high = scores >= high_threshold
        low = (scores > low_threshold) & ~high
        hi_boxes, hi_scores, lo_boxes, lo_scores = boxes[high], scores[high], boxes[low], scores[low]
        # 2. predict confirmed and lost tracks
        pool = [i for i, t in enumerate(tracks.info) if t["confirmed"]]
        unconfirmed = [i for i, t in enumerate(tracks.info) if not t["confirmed"]]
        for i in pool:
            if tracks.info[i]["state"] == "lost":
                tracks.mean[i, 6:] = 0.0
        tracks.predict(pool)
        # 3. first association: high boxes
        m1, free1, hi_free = associate(cost(pool, hi_boxes, hi_scores if fuse_score else None),
                                       max_cost=match_threshold)
        matched([pool[p] for p in m1[:, 0].tolist()], hi_boxes[m1[:, 1]], hi_scores[m1[:, 1]], frame_id)
        # 4. second association: low boxes, only for tracks that were tracked
        rest = [pool[p] for p in free1.tolist() if tracks.info[pool[p]]["state"] == "tracked"]
        m2, free2, _ = associate(cost(rest, lo_boxes, None), max_cost=second_match_threshold)
        matched([rest[p] for p in m2[:, 0].tolist()], lo_boxes[m2[:, 1]], lo_scores[m2[:, 1]], frame_id)
        for p in free2.tolist():
            tracks.info[rest[p]]["state"] = "lost"
        # 5. unconfirmed tracks with the high boxes left over
        hi_boxes, hi_scores = hi_boxes[hi_free], hi_scores[hi_free]
        m3, free3, hi_free = associate(cost(unconfirmed, hi_boxes, hi_scores if fuse_score else None),
                                       max_cost=unconfirmed_match_threshold)
        matched([unconfirmed[p] for p in m3[:, 0].tolist()], hi_boxes[m3[:, 1]], hi_scores[m3[:, 1]], frame_id)
        for p in free3.tolist():
            tracks.info[unconfirmed[p]]["state"] = "removed"
        # 6. new tracks from confident high boxes nobody claimed
        new = hi_free[hi_scores[hi_free] >= new_track_threshold]
        tracks.add(hi_boxes[new], [dict(id=next_id + k, state="tracked", confirmed=frame_id == 1, start_frame=frame_id,
                                        end_frame=frame_id, score=s) for k, s in enumerate(hi_scores[new].tolist())])
        next_id += len(new)
        # 7. forget old lost tracks; a tracked and a lost track on the same box: keep the older
        for t in tracks.info:
            if t["state"] == "lost" and frame_id - t["end_frame"] > track_buffer:
                t["state"] = "removed"
        on = [i for i, t in enumerate(tracks.info) if t["state"] == "tracked"]
        lost = [i for i, t in enumerate(tracks.info) if t["state"] == "lost"]
        if on and lost:
            age = [t["end_frame"] - t["start_frame"] for t in tracks.info]
            for p, q in torch.nonzero(cost(on, tracks.boxes(lost), None) < 0.15).tolist():
                a, b = on[p], lost[q]
                tracks.info[b if age[a] > age[b] else a]["state"] = "removed"
        # 8. report, then drop removed tracks
        out.append(_output(tracks, [i for i, t in enumerate(tracks.info)
                                    if t["state"] == "tracked" and t["confirmed"]]))
        tracks.keep([i for i, t in enumerate(tracks.info) if t["state"] != "removed"])
    return out


# --- metrics --------------------------------------------------------------------------------------
def mot_metrics(gt: Frames, hyp: Frames, *, iou_threshold: float = 0.5) -> dict[str, float]:
    """CLEAR MOT (MOTA, MOTP) and identity (IDF1) metrics of a tracker's output against ground truth.

    Per frame, as py-motmetrics' ``MOTAccumulator.update`` (Bernardin & Stiefelhagen 2008):
    a ground-truth object and a hypothesis may pair when IoU ≥ ``iou_threshold``;

    1. an object keeps the hypothesis it was last paired with (in any earlier frame) if that
       hypothesis is present and may pair;
    2. the remaining objects and hypotheses are paired by minimum total IoU distance (1 − IoU);
       a pairing that differs from the object's last one is an **ID switch**;
    3. unpaired objects are **misses** (FN), unpaired hypotheses **false positives** (FP).

    MOTA = 1 − (FN + FP + IDSW) / number of ground-truth boxes; MOTP = mean IoU *distance* 1 − IoU
    of the pairs (py-motmetrics' convention: lower is better). IDF1 (Ristani et al. 2016) pairs
    whole trajectories once, globally: each ground-truth id with at most one hypothesis id so that
    the number of frames in which paired ids may pair (IDTP) is largest; IDF1 = 2·IDTP /
    (ground-truth boxes + hypothesis boxes).

    Equal to py-motmetrics 1.4 with ``iou_matrix(..., max_iou=1 - iou_threshold)`` boxes as
    (x, y, w, h) and its SciPy solver (the same tie-breaking: forbidden pairs get its large finite
    cost, the full matrix is solved).

    Args:
        gt: list over frames of (ids (Ki,) int, boxes (Ki, 4) float [x1, y1, x2, y2] px); ids unique
            per frame.
        hyp: the tracker's output in the same format, as many frames as gt.
        iou_threshold: smallest IoU of a pair, in [0, 1].

    Returns:
        dict with ``mota``, ``motp``, ``idf1`` (floats; NaN when undefined, e.g. no ground truth),
        ``id_switches``, ``false_positives``, ``misses``, ``num_objects`` (ground-truth boxes),
        ``num_matches`` (pairs, switches included) and ``idtp`` (ints).

    Raises:
        ValueError: different frame counts, a malformed frame, repeated ids in a frame, or a
            threshold outside [0, 1].
    """
    if len(gt) != len(hyp):
        raise ValueError(f"gt has {len(gt)} frames and hyp {len(hyp)}; give the tracker's output for every frame")
    if not 0 <= iou_threshold <= 1:
        raise ValueError(f"iou_threshold must be in [0, 1]; got {iou_threshold}")
    last: dict[int, int] = {}  # object id -> hypothesis id of its last pairing
    pair_frames: dict[tuple[int, int], int] = {}  # (object id, hypothesis id) -> frames they may pair
    gt_frames: dict[int, int] = {}
    hyp_frames: dict[int, int] = {}
    switches = false_positives = misses = objects = matches = 0
    distance_sum = 0.0
    for t, (g, h) in enumerate(zip(gt, hyp)):
        g_boxes, g_ids = _frame_input(g, t, "gt")
        h_boxes, h_ids = _frame_input(h, t, "hyp")
        g_ids, h_ids = g_ids.tolist(), h_ids.tolist()
        if len(set(g_ids)) < len(g_ids) or len(set(h_ids)) < len(h_ids):
            raise ValueError(f"frame {t} repeats an id; each id appears at most once per frame")
        for i in g_ids:
            gt_frames[i] = gt_frames.get(i, 0) + 1
        for j in h_ids:
            hyp_frames[j] = hyp_frames.get(j, 0) + 1
        dist = (1 - box_iou(g_boxes, h_boxes)).numpy()  # (Ng, Nh)
        valid = ~(dist > 1 - iou_threshold)
        for a, b in zip(*np.nonzero(valid)):
            pair_frames[g_ids[a], h_ids[b]] = pair_frames.get((g_ids[a], h_ids[b]), 0) + 1
        g_free, h_free = np.ones(len(g_ids), bool), np.ones(len(h_ids), bool)
        pairs = []
        if len(g_ids) and len(h_ids):
            # 1. keep last pairings that are still possible
            for a, i in enumerate(g_ids):
                if i in last and last[i] in h_ids:
                    b = h_ids.index(last[i])
                    if h_free[b] and valid[a, b]:
                        g_free[a], h_free[b] = False, False
                        pairs.append((a, b))
            # 2. the rest by minimum total distance; forbidden pairs cost more than any allowed set
            allowed = valid & g_free[:, None] & h_free[None, :]
            if allowed.any():
                large = 2 * min(dist.shape) * (np.abs(dist[allowed]).max() + 1) + 1
                rows, cols = linear_sum_assignment(np.where(allowed, dist, large))
                for a, b in zip(rows, cols):
                    if allowed[a, b]:
                        switches += int(g_ids[a] in last and last[g_ids[a]] != h_ids[b])
                        g_free[a], h_free[b] = False, False
                        pairs.append((a, b))
        for a, b in pairs:
            last[g_ids[a]] = h_ids[b]
            distance_sum += float(dist[a, b])
        # 3. leftovers
        misses += int(g_free.sum())
        false_positives += int(h_free.sum())
        objects += len(g_ids)
        matches += len(pairs)
    # IDF1: one global pairing of trajectories maximizing the frames in which paired ids may pair
    g_list, h_list = sorted(gt_frames), sorted(hyp_frames)
    overlap = np.zeros((len(g_list), len(h_list)))
    for (i, j), n in pair_frames.items():
        overlap[g_list.index(i), h_list.index(j)] = n
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    idtp = int(overlap[rows, cols].sum())
    predictions = sum(hyp_frames.values())
    nan = float("nan")
    return dict(mota=1 - (misses + false_positives + switches) / objects if objects else nan,
                motp=distance_sum / matches if matches else nan,
                idf1=2 * idtp / (objects + predictions) if objects + predictions else nan,
                id_switches=switches, false_positives=false_positives, misses=misses, num_objects=objects,
                num_matches=matches, idtp=idtp)
