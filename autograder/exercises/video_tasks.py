"""Graded exercises of lesson 13_video_tasks: temporal IoU, temporal NMS and interpolated average
precision (temporal action detection, the ActivityNet protocol); the Kalman update and the
thresholded optimal assignment (tracking by detection, SORT / ByteTrack); region similarity J
(mask propagation, DAVIS)."""
from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "13_video_tasks"


_ex = exercise_maker(ASSIGNMENT)


def _segments(rng: np.random.Generator, n: int, *, span: int = 40, max_len: int = 15, min_len: int = 1,
              dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(n, 2) [start, end] segments with integer ends (so touching and identical segments are exact)."""
    start = rng.integers(0, span, size=n)
    length = rng.integers(min_len, max_len + 1, size=n)
    return torch.from_numpy(np.stack([start, start + length], axis=1).astype(np.float64)).to(dtype)


def _check_segments(*segments: torch.Tensor) -> None:
    """The validation of the wrong solutions below: (N, 2) with start <= end."""
    for s in segments:
        if s.dim() != 2 or s.shape[1] != 2 or bool((s[:, 0] > s[:, 1]).any()):
            raise ValueError("segments must be (N, 2) with start <= end")


# --- temporal_iou ---------------------------------------------------------------------------------------
def _tiou_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(2):
        n, m = (int(v) for v in rng.choice(np.arange(2, 9), size=2, replace=False))
        cases.append(Case((_segments(rng, n), _segments(rng, m)), note=f"{n} segments against {m} targets"))
    hand = torch.tensor([[0.0, 5.0], [5.0, 9.0], [2.0, 4.0], [0.0, 5.0], [20.0, 30.0]], dtype=torch.float64)
    cases.append(Case((hand, hand[:4]), note="touching ([0, 5] and [5, 9]), nested, identical and disjoint intervals"))
    cases.append(Case((torch.tensor([[0.0, 5.0]]), torch.tensor([[5.0, 9.0], [4.0, 6.0]])),
                      note="float32; [0, 5] touches [5, 9]: they share no frame, tIoU 0"))
    cases.append(Case((_segments(rng, 3, dtype=torch.float32) / 7, _segments(rng, 4, dtype=torch.float32) / 7),
                      note="float32 seconds (not whole frames): keep the dtype"))
    # the edges: zero-length segments, empty inputs, one segment
    cases.append(Case((torch.tensor([[3.0, 3.0], [1.0, 6.0]], dtype=torch.float64),
                       torch.tensor([[3.0, 3.0], [0.0, 2.0]], dtype=torch.float64)),
                      note="two zero-length segments at the same time: union 0, tIoU 0 (not NaN)"))
    cases.append(Case((torch.zeros(0, 2, dtype=torch.float64), _segments(rng, 3)), note="no segments: (0, M)"))
    cases.append(Case((_segments(rng, 2), torch.zeros(0, 2, dtype=torch.float64)), note="no targets: (N, 0)"))
    cases.append(Case((_segments(rng, 1), _segments(rng, 1)), note="one segment, one target"))
    cases.append(Case((torch.tensor([[4.0, 2.0]], dtype=torch.float64), _segments(rng, 2)), raises=ValueError,
                      note="start > end"))
    cases.append(Case((_segments(rng, 3).T.contiguous(), _segments(rng, 2)), raises=ValueError,
                      note="(2, N) instead of (N, 2)"))
    cases.append(Case((torch.tensor([0.0, 5.0], dtype=torch.float64), _segments(rng, 2)), raises=ValueError,
                      note="one segment without its batch axis: (2,) instead of (1, 2)"))
    return cases


def _tiou(segments, targets, *, inclusive=False, clamp=True, subtract=True, guard=True):  # noqa: ANN001, ANN202
    _check_segments(segments, targets)
    one = 1.0 if inclusive else 0.0
    s, t = segments[:, None], targets[None]  # (N, 1, 2), (1, M, 2)
    inter = torch.minimum(s[..., 1], t[..., 1]) - torch.maximum(s[..., 0], t[..., 0]) + one
    inter = inter.clamp(min=0) if clamp else inter
    union = (s[..., 1] - s[..., 0] + one) + (t[..., 1] - t[..., 0] + one) - (inter if subtract else 0)
    if not guard:
        return inter / union
    return torch.where(union > 0, inter / torch.where(union > 0, union, torch.ones_like(union)), torch.zeros_like(union))


def _tiou_inclusive(segments, targets):  # noqa: ANN001, ANN202
    return _tiou(segments, targets, inclusive=True)


def _tiou_no_clamp(segments, targets):  # noqa: ANN001, ANN202
    return _tiou(segments, targets, clamp=False)


def _tiou_no_subtract(segments, targets):  # noqa: ANN001, ANN202
    return _tiou(segments, targets, subtract=False)


def _tiou_nan(segments, targets):  # noqa: ANN001, ANN202
    return _tiou(segments, targets, guard=False)


# --- temporal_nms ---------------------------------------------------------------------------------------
def _nms_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, thr in ((9, 0.5), (7, 0.3), (8, 0.6)):
        segments = _segments(rng, n, span=20, max_len=12, min_len=2)  # crowded: many overlaps
        scores = torch.from_numpy(rng.permutation(n) / n + 0.05).to(torch.float64)
        cases.append(Case((segments, scores), {"iou_threshold": thr}, note=f"{n} overlapping segments, threshold {thr}"))
    cases.append(Case((torch.tensor([[0.0, 10.0], [1.0, 11.0]], dtype=torch.float64), torch.tensor([0.3, 0.9])),
                      note="two overlapping segments (tIoU 9/11): keep the higher score, index 1"))
    cases.append(Case((torch.tensor([[0.0, 10.0], [5.0, 15.0], [10.0, 20.0]], dtype=torch.float64),
                       torch.tensor([0.9, 0.8, 0.7], dtype=torch.float64)), {"iou_threshold": 0.3},
                      note="a chain: [5, 15] is suppressed by [0, 10], so it cannot suppress [10, 20]"))
    cases.append(Case((torch.tensor([[0.0, 4.0], [2.0, 6.0], [0.0, 4.0]], dtype=torch.float64),
                       torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64)), {"iou_threshold": 1 / 3},
                      note="equal scores: lower index first; tIoU exactly 1/3 = the threshold is not suppressed"))
    # the edges: no segment, one segment, errors
    cases.append(Case((torch.zeros(0, 2, dtype=torch.float64), torch.zeros(0, dtype=torch.float64)),
                      note="no segments: an empty int64 index tensor"))
    cases.append(Case((torch.tensor([[3.0, 8.0]]), torch.tensor([0.2])), note="one segment"))
    cases.append(Case((_segments(rng, 3), torch.from_numpy(rng.random(4))), raises=ValueError,
                      note="3 segments, 4 scores"))
    cases.append(Case((torch.tensor([[5.0, 1.0], [0.0, 2.0]]), torch.tensor([0.5, 0.4])), raises=ValueError,
                      note="start > end"))
    return cases


def _nms(segments, scores, iou_threshold, *, ascending=False, ge=False, index_order=False, all_suppress=False):  # noqa: ANN001, ANN202
    _check_segments(segments)
    if scores.shape != segments.shape[:1]:
        raise ValueError("one score per segment")
    order = torch.argsort(scores if ascending else -scores, stable=True).tolist()
    iou = _tiou(segments, segments)
    keep, suppressed = [], torch.zeros(len(order), dtype=torch.bool)
    over = iou >= iou_threshold if ge else iou > iou_threshold
    for rank, i in enumerate(order):
        if all_suppress:
            if not any(bool(over[j, i]) for j in order[:rank]):
                keep.append(i)
            continue
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= over[i]
    keep = sorted(keep) if index_order else keep
    return torch.tensor(keep, dtype=torch.int64)


def _nms_lower_score(segments, scores, iou_threshold=0.5):  # noqa: ANN001, ANN202
    return _nms(segments, scores, iou_threshold, ascending=True)


def _nms_ge(segments, scores, iou_threshold=0.5):  # noqa: ANN001, ANN202
    return _nms(segments, scores, iou_threshold, ge=True)


def _nms_index_order(segments, scores, iou_threshold=0.5):  # noqa: ANN001, ANN202
    return _nms(segments, scores, iou_threshold, index_order=True)


def _nms_suppressed_suppress(segments, scores, iou_threshold=0.5):  # noqa: ANN001, ANN202
    return _nms(segments, scores, iou_threshold, all_suppress=True)


# --- average_precision ----------------------------------------------------------------------------------
def _ap_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n in (9, 12, 7):
        scores = torch.from_numpy(rng.permutation(n) / n + 0.01).to(torch.float64)
        hits = torch.from_numpy(rng.random(n) < 0.5)
        hits[int(rng.integers(0, n))] = True
        cases.append(Case((scores, hits, int(hits.sum()) + int(rng.integers(0, 3))),
                          note=f"{n} detections, {int(hits.sum())} of them true"))
    cases.append(Case((torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([True, False, True, True]), 3),
                      note="by hand: precision 1, 1/2, 2/3, 3/4 at recall 1/3, 1/3, 2/3, 1; the envelope lifts 2/3 to 3/4"))
    cases.append(Case((torch.tensor([0.2, 0.9, 0.5, 0.7]), torch.tensor([False, True, False, True]), 2),
                      note="detections not sorted by score: sort them first"))
    cases.append(Case((torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64), torch.tensor([False, True, True]), 4),
                      note="tied scores: keep the given order (stable sort); 2 of 4 positives found"))
    # the edges: no detection, no true detection, one detection, errors
    cases.append(Case((torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.bool), 3),
                      note="no detections: AP 0"))
    cases.append(Case((torch.tensor([0.9, 0.4]), torch.tensor([False, False]), 1), note="no true detection: AP 0"))
    cases.append(Case((torch.tensor([0.3]), torch.tensor([True]), 1), note="one detection, the one positive"))
    cases.append(Case((torch.tensor([0.9, 0.4]), torch.tensor([True, False]), 0), raises=ValueError,
                      note="num_positives = 0: AP is undefined"))
    cases.append(Case((torch.tensor([0.9, 0.4]), torch.tensor([True, False, True]), 2), raises=ValueError,
                      note="2 scores, 3 flags"))
    return cases


def _ap_curve(scores, is_true_positive, num_positives, *, sort=True, by_found=False):  # noqa: ANN001, ANN202
    if num_positives < 1 or scores.shape != is_true_positive.shape or scores.dim() != 1:
        raise ValueError("bad input")
    order = torch.argsort(-scores, stable=True) if sort else torch.arange(len(scores))
    tp = is_true_positive[order].to(torch.float64)
    ctp, cfp = tp.cumsum(0), (1 - tp).cumsum(0)
    denominator = max(float(tp.sum()), 1.0) if by_found else float(num_positives)
    return ctp / denominator, ctp / (ctp + cfp).clamp(min=1)  # recall, precision


def _ap_enveloped(recall, precision):  # noqa: ANN001, ANN202
    zero, one = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    mrec, mprec = torch.cat([zero, recall, one]), torch.cat([zero, precision, zero])
    mprec = mprec.flip(0).cummax(0).values.flip(0)
    steps = torch.nonzero(mrec[1:] != mrec[:-1])[:, 0] + 1
    return ((mrec[steps] - mrec[steps - 1]) * mprec[steps]).sum()


def _ap_no_envelope(scores, is_true_positive, num_positives):  # noqa: ANN001, ANN202
    recall, precision = _ap_curve(scores, is_true_positive, num_positives)
    zero = torch.zeros(1, dtype=torch.float64)
    return ((recall - torch.cat([zero, recall[:-1]])) * precision).sum()


def _ap_unsorted(scores, is_true_positive, num_positives):  # noqa: ANN001, ANN202
    return _ap_enveloped(*_ap_curve(scores, is_true_positive, num_positives, sort=False))


def _ap_recall_of_found(scores, is_true_positive, num_positives):  # noqa: ANN001, ANN202
    return _ap_enveloped(*_ap_curve(scores, is_true_positive, num_positives, by_found=True))


def _ap_eleven_point(scores, is_true_positive, num_positives):  # noqa: ANN001, ANN202
    recall, precision = _ap_curve(scores, is_true_positive, num_positives)
    total = torch.zeros((), dtype=torch.float64)
    for r in torch.linspace(0, 1, 11, dtype=torch.float64):
        above = precision[recall >= r - 1e-12]
        total = total + (above.max() if len(above) else 0.0) / 11
    return total


# --- kalman_update --------------------------------------------------------------------------------------
def _spd(rng: np.random.Generator, n: int, d: int) -> torch.Tensor:
    """(n, d, d) symmetric positive definite matrices (covariances)."""
    a = rng.standard_normal((n, d, d))
    return torch.from_numpy(a @ a.transpose(0, 2, 1) + 0.5 * np.eye(d))


def _kalman_case(rng: np.random.Generator, n: int, d: int, m: int, *, square_h: bool = False,
                 dtype: torch.dtype = torch.float64, note: str = "") -> Case:
    H = rng.standard_normal((m, d)) if square_h else np.eye(m, d) * rng.uniform(0.5, 2.0, size=(m, 1))
    return Case((torch.from_numpy(rng.standard_normal((n, d))).to(dtype), _spd(rng, n, d).to(dtype),
                 torch.from_numpy(rng.standard_normal((n, m))).to(dtype), torch.from_numpy(H).to(dtype),
                 _spd(rng, 1, m)[0].to(dtype)), note=note or f"N = {n}, D = {d}, M = {m}")


def _kalman_cases(rng: np.random.Generator) -> list[Case]:
    cases = [_kalman_case(rng, 3, 4, 4, square_h=True, note="N = 3, D = M = 4, a full H (not the identity)"),
             _kalman_case(rng, 4, 8, 4, note="the box filter's sizes: D = 8 (position, size, velocities), M = 4"),
             _kalman_case(rng, 2, 7, 4, note="SORT's sizes: D = 7, M = 4"),
             _kalman_case(rng, 2, 5, 3, dtype=torch.float32, note="float32: keep the dtype")]
    one = torch.ones(1, 1, dtype=torch.float64)
    cases.append(Case((torch.zeros(1, 1, dtype=torch.float64), 4 * torch.ones(1, 1, 1, dtype=torch.float64),
                       2 * one, one, one), note="by hand, scalar: P = 4, R = 1, K = 4/5, x' = 8/5, P' = 4/5"))
    # the edges: no track, one track and one measured number, errors
    cases.append(Case((torch.zeros(0, 4, dtype=torch.float64), torch.zeros(0, 4, 4, dtype=torch.float64),
                       torch.zeros(0, 2, dtype=torch.float64), torch.eye(2, 4, dtype=torch.float64),
                       torch.eye(2, dtype=torch.float64)), note="no tracks (N = 0): empty results"))
    cases.append(_kalman_case(rng, 1, 3, 1, note="one track, one measured number (M = 1)"))
    bad = _kalman_case(rng, 2, 4, 2)
    cases.append(Case((bad.args[0], bad.args[1], torch.zeros(2, 3, dtype=torch.float64), *bad.args[3:]),
                      raises=ValueError, note="measurement (N, 3) for H of shape (2, 4)"))
    cases.append(Case((bad.args[0], bad.args[1][:, :3, :3], *bad.args[2:]), raises=ValueError,
                      note="covariance (N, 3, 3) for a state of D = 4"))
    return cases


def _kalman(mean, cov, measurement, H, R, *, gain="full", use_h=True, sign=1, cov_rule="joseph_free"):  # noqa: ANN001, ANN202
    N, D = mean.shape
    if cov.shape != (N, D, D) or measurement.shape != (N, H.shape[0]) or H.shape[1] != D:
        raise ValueError("bad shapes")
    if not use_h:
        H = torch.eye(D, dtype=mean.dtype)[: measurement.shape[1]] if measurement.shape[1] != D else \
            torch.eye(D, dtype=mean.dtype)
    Ht = H.T
    S = H @ cov @ Ht + R  # (N, M, M)
    K = cov @ Ht @ (torch.linalg.inv(R) if gain == "r_only" else torch.linalg.inv(S))  # (N, D, M)
    innovation = measurement - mean @ Ht  # (N, M)
    new_mean = mean + sign * (K @ innovation[..., None])[..., 0]
    eye = torch.eye(D, dtype=mean.dtype)
    new_cov = {"joseph_free": (eye - K @ H) @ cov, "plus": (eye + K @ H) @ cov, "same": cov.clone()}[cov_rule]
    return new_mean, new_cov


def _kalman_gain_r(mean, cov, measurement, H, R):  # noqa: ANN001, ANN202
    return _kalman(mean, cov, measurement, H, R, gain="r_only")


def _kalman_no_h(mean, cov, measurement, H, R):  # noqa: ANN001, ANN202
    return _kalman(mean, cov, measurement, H, R, use_h=False)


def _kalman_innovation_sign(mean, cov, measurement, H, R):  # noqa: ANN001, ANN202
    return _kalman(mean, cov, measurement, H, R, sign=-1)


def _kalman_cov_plus(mean, cov, measurement, H, R):  # noqa: ANN001, ANN202
    return _kalman(mean, cov, measurement, H, R, cov_rule="plus")


def _kalman_cov_unchanged(mean, cov, measurement, H, R):  # noqa: ANN001, ANN202
    return _kalman(mean, cov, measurement, H, R, cov_rule="same")


# --- associate ------------------------------------------------------------------------------------------
def _associate_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, m, max_cost in ((5, 7, 0.6), (6, 4, 0.5), (4, 4, 0.7)):
        cost = torch.from_numpy(rng.random((n, m)))
        cases.append(Case((cost,), {"max_cost": max_cost}, note=f"{n} tracks, {m} detections, max_cost {max_cost}"))
    cases.append(Case((torch.tensor([[0.1, 0.2], [0.2, 0.9]], dtype=torch.float64),), {"max_cost": 0.5},
                      note="greedy takes (0, 0) and leaves (1, 1) at cost 0.9; the optimum is (0, 1), (1, 0)"))
    cases.append(Case((torch.tensor([[0.3, 0.95], [0.9, 0.5]], dtype=torch.float64),), {"max_cost": 0.5},
                      note="a pair at exactly max_cost is kept; a pair above it is rejected after assignment"))
    # the edges: no tracks, no detections, one of each, errors
    cases.append(Case((torch.zeros(0, 3, dtype=torch.float64),), {"max_cost": 0.5},
                      note="no tracks: every detection unmatched"))
    cases.append(Case((torch.zeros(2, 0, dtype=torch.float64),), {"max_cost": 0.5},
                      note="no detections: every track unmatched"))
    cases.append(Case((torch.tensor([[0.8]], dtype=torch.float64),), {"max_cost": 0.3},
                      note="one track, one detection, too far apart"))
    cases.append(Case((torch.tensor([0.1, 0.2], dtype=torch.float64),), {"max_cost": 0.5}, raises=ValueError,
                      note="a 1-D cost: the cost matrix is (tracks, detections)"))
    return cases


def _associate(cost, max_cost, *, threshold=True, greedy=False, strict=False, report_rejected=True):  # noqa: ANN001, ANN202
    if cost.dim() != 2:
        raise ValueError("cost must be (N, M)")
    N, M = cost.shape
    if greedy:
        rows, cols, taken = [], [], set()
        for i in range(N):
            free = [j for j in range(M) if j not in taken]
            if free:
                j = min(free, key=lambda k: float(cost[i, k]))
                rows.append(i), cols.append(j), taken.add(j)
    else:
        rows, cols = linear_sum_assignment(cost.numpy()) if N and M else ([], [])
    pairs = [(int(i), int(j)) for i, j in zip(rows, cols)]
    kept = [p for p in pairs if not threshold or (cost[p] < max_cost if strict else cost[p] <= max_cost)]
    matched = kept if report_rejected else pairs  # the mistake: rejected pairs still count as matched
    tracks = [i for i in range(N) if i not in {p[0] for p in matched}]
    dets = [j for j in range(M) if j not in {p[1] for p in matched}]
    return (torch.tensor(kept, dtype=torch.int64).reshape(-1, 2), torch.tensor(tracks, dtype=torch.int64),
            torch.tensor(dets, dtype=torch.int64))


def _associate_no_threshold(cost, *, max_cost):  # noqa: ANN001, ANN202
    return _associate(cost, max_cost, threshold=False)


def _associate_greedy(cost, *, max_cost):  # noqa: ANN001, ANN202
    return _associate(cost, max_cost, greedy=True)


def _associate_strict(cost, *, max_cost):  # noqa: ANN001, ANN202
    return _associate(cost, max_cost, strict=True)


def _associate_rejected_lost(cost, *, max_cost):  # noqa: ANN001, ANN202
    return _associate(cost, max_cost, report_rejected=False)


# --- region_similarity ----------------------------------------------------------------------------------
def _masks(rng: np.random.Generator, *shape: int, p: float = 0.4) -> torch.Tensor:
    return torch.from_numpy(rng.random(shape) < p)


def _j_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_masks(rng, 7, 9), _masks(rng, 7, 9)), note="one 7×9 frame of random masks")]
    cases.append(Case((_masks(rng, 5, 11, 6), _masks(rng, 5, 11, 6)), note="5 frames: one J per frame"))
    square = torch.zeros(1, 8, 8, dtype=torch.bool)
    square[0, 2:6, 2:6] = True
    cases.append(Case((square, square.roll(1, dims=-1)), note="a 4×4 square moved by one pixel: J = 12/20"))
    empty = torch.zeros(3, 4, 5, dtype=torch.bool)
    half = empty.clone()
    half[1, :2] = True
    cases.append(Case((empty, half), note="frames 0 and 2 empty in both masks (J = 1, as DAVIS); frame 1 missed (J = 0)"))
    cases.append(Case((torch.zeros(6, 7, dtype=torch.bool), torch.zeros(6, 7, dtype=torch.bool)),
                      note="two empty masks: the object is absent and correctly so, J = 1"))
    cases.append(Case((_masks(rng, 1, 1), _masks(rng, 1, 1)), note="one 1×1 mask"))
    soft = torch.from_numpy(rng.random((2, 6, 5))).float()
    cases.append(Case((soft, (soft.flip(-1) > 0.5).float()), note="float masks (e.g. propagated): foreground where > 0.5"))
    cases.append(Case((_masks(rng, 4, 5), _masks(rng, 4, 6)), raises=ValueError, note="masks of different sizes"))
    return cases


def _j(pred, gt, *, empty=1.0, dice=False):  # noqa: ANN001, ANN202
    if pred.shape != gt.shape or pred.dim() < 2:
        raise ValueError("masks must have the same shape (..., H, W)")
    p = pred if pred.dtype == torch.bool else pred > 0.5
    g = gt if gt.dtype == torch.bool else gt > 0.5
    inter = (p & g).sum(dim=(-2, -1)).float()
    union = (p | g).sum(dim=(-2, -1)).float()
    if dice:
        total = p.sum(dim=(-2, -1)) + g.sum(dim=(-2, -1))
        return torch.where(total > 0, 2 * inter / total.clamp(min=1), torch.full_like(inter, empty))
    return torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(inter, empty))


def _j_empty_zero(pred, gt):  # noqa: ANN001, ANN202
    return _j(pred, gt, empty=0.0)


def _j_empty_nan(pred, gt):  # noqa: ANN001, ANN202
    return _j(pred, gt, empty=float("nan"))


def _j_dice(pred, gt):  # noqa: ANN001, ANN202
    return _j(pred, gt, dice=True)


_TOL = {"rtol": 1e-5, "atol": 1e-6}

EXERCISES = [
    _ex("temporal_iou", "course.video.detection", _tiou_cases, [
        Misconception("inclusive_end", "segments are [start, end): [0, 5] and [5, 9] touch but share no frame, so "
                      "their tIoU is 0; adding 1 to lengths and overlaps (inclusive ends) counts a frame that is "
                      "not there", _tiou_inclusive),
        Misconception("no_clamp", "the overlap of disjoint intervals is min(end) − max(start) < 0: clamp it at 0 "
                      "before dividing", _tiou_no_clamp),
        Misconception("union_no_subtract", "union = length_a + length_b − intersection: the overlap was counted "
                      "twice", _tiou_no_subtract),
        Misconception("zero_over_zero", "two zero-length segments have union 0: return tIoU 0 there instead of "
                      "dividing 0 by 0 (NaN)", _tiou_nan),
    ], **_TOL),
    _ex("temporal_nms", "course.video.detection", _nms_cases, [
        Misconception("keeps_lower_score", "visit the segments from the HIGHEST score down (argsort of −scores): "
                      "NMS keeps the most confident detection and suppresses its overlapping neighbours",
                      _nms_lower_score),
        Misconception("suppress_at_threshold", "a segment is suppressed when its tIoU with a kept one is "
                      "> iou_threshold; a tIoU equal to the threshold stays", _nms_ge),
        Misconception("index_order", "return the kept indices in the order they were kept (decreasing score), "
                      "not sorted by index", _nms_index_order),
        Misconception("suppressed_suppress", "only KEPT segments suppress others: a segment that was itself "
                      "suppressed must not remove its neighbours", _nms_suppressed_suppress),
    ]),
    _ex("average_precision", "course.video.detection", _ap_cases, [
        Misconception("no_interpolation", "ActivityNet interpolates: before summing, replace each precision by "
                      "the highest precision at any recall ≥ its recall (the envelope, a running max from the "
                      "end); this summed the raw precision × recall steps", _ap_no_envelope),
        Misconception("unsorted", "sort the detections by score, highest first (a stable sort), before the "
                      "cumulative sums", _ap_unsorted),
        Misconception("recall_of_found", "recall divides by num_positives (all ground-truth instances), not by "
                      "the number of true detections found: a missed instance lowers AP", _ap_recall_of_found),
        Misconception("eleven_point", "this is the 11-point AP of PASCAL VOC 2007; ActivityNet sums the "
                      "envelope over every recall step (all-point)", _ap_eleven_point),
    ], **_TOL),
    _ex("kalman_update", "course.video.tracking", _kalman_cases, [
        Misconception("gain_without_prior", "the gain is K = P Hᵀ (H P Hᵀ + R)⁻¹: the innovation covariance "
                      "S = H P Hᵀ + R, not R alone (K = P Hᵀ R⁻¹ ignores how uncertain the prediction is)",
                      _kalman_gain_r),
        Misconception("forgot_h", "the measurement sees the state through H: compare z with H x, use "
                      "S = H P Hᵀ + R, K = P Hᵀ S⁻¹ and P' = (I − K H) P; this treated H as the identity",
                      _kalman_no_h),
        Misconception("innovation_sign", "the innovation is z − H x (measurement minus prediction); with "
                      "H x − z the update moves away from the measurement", _kalman_innovation_sign),
        Misconception("covariance_grows", "a measurement shrinks the uncertainty: P' = (I − K H) P, with a minus",
                      _kalman_cov_plus),
        Misconception("covariance_unchanged", "update the covariance too: P' = (I − K H) P (a measurement "
                      "makes the state more certain)", _kalman_cov_unchanged),
    ], rtol=1e-4, atol=1e-6),
    _ex("associate", "course.video.tracking", _associate_cases, [
        Misconception("no_threshold", "after the assignment, reject pairs whose cost is > max_cost (they become "
                      "an unmatched track and an unmatched detection): the Hungarian algorithm matches everything "
                      "it can, however far apart", _associate_no_threshold),
        Misconception("greedy", "use scipy.optimize.linear_sum_assignment for the minimum total cost; taking "
                      "each track's cheapest free detection in turn is not optimal", _associate_greedy),
        Misconception("strict_threshold", "a pair at exactly max_cost is kept: reject only cost > max_cost",
                      _associate_strict),
        Misconception("rejected_lost", "a pair rejected by the threshold leaves BOTH its track and its detection "
                      "unmatched; report them in the unmatched lists", _associate_rejected_lost),
    ], **_TOL),
    _ex("region_similarity", "course.video.propagation", _j_cases, [
        Misconception("empty_is_zero", "when both masks are empty the object is absent and correctly so: DAVIS "
                      "scores J = 1 there, not 0", _j_empty_zero),
        Misconception("empty_is_nan", "when both masks are empty the union is 0: return J = 1 (as DAVIS), not "
                      "0/0 = NaN", _j_empty_nan),
        Misconception("dice", "J is the Jaccard index |A ∩ B| / |A ∪ B|; 2|A ∩ B| / (|A| + |B|) is the Dice "
                      "score", _j_dice),
    ], **_TOL),
]
