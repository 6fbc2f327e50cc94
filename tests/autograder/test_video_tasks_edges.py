"""Lesson 13's checks probe the edges: mutants that refuse a minimum legal input or loosen a validation fail.

Each mutant is the reference with one change of the kind that survives weak checks: a refused empty
or minimal input (no segments, no detections, no tracks, a zero-length segment, two empty masks, a
1×1 mask), or a validation turned off (start > end accepted, a score per segment not enforced,
num_positives = 0 accepted, a 1-D cost matrix read as one track). Both the public cases (``check`` in
the notebook) and the hidden cases (official grading) must reject every one. Mutants that raise
where the reference returns cannot carry a misconception hint (hints name wrong values), so this file
is their bank of known-wrong solutions.
"""
import torch

from course.video import detection, propagation, tracking
from support import edge_mutant_test, flatten_mutants, refuse


def _tiou_any_order(segments, targets):  # start > end and (2, N) accepted: sorted into [min, max]
    segments = segments.reshape(-1, 2).sort(dim=1).values
    targets = targets.reshape(-1, 2).sort(dim=1).values
    return detection.temporal_iou(segments, targets)


def _nms_scores_unchecked(segments, scores, *, iou_threshold=0.5):  # extra scores dropped, start > end swapped
    n = len(segments)
    return detection.temporal_nms(segments.sort(dim=1).values, scores[:n], iou_threshold=iou_threshold)


def _ap_any_positives(scores, is_true_positive, num_positives):  # num_positives = 0 gives 0; lengths unchecked
    n = min(len(scores), len(is_true_positive))
    if num_positives < 1:
        return torch.zeros((), dtype=detection.average_precision(torch.ones(1), torch.ones(1, dtype=torch.bool), 1).dtype)
    return detection.average_precision(scores[:n], is_true_positive[:n], num_positives)


def _associate_any_rank(cost, *, max_cost):  # a 1-D cost is read as one track
    return tracking.associate(cost.reshape(-1, cost.shape[-1]) if cost.dim() < 2 else cost, max_cost=max_cost)


def _kalman_any_cov(mean, cov, measurement, H, R):  # a covariance of the wrong size is padded with the identity
    N, D = mean.shape
    if cov.shape[-1] != D:
        full = torch.eye(D, dtype=cov.dtype).repeat(N, 1, 1)
        full[:, :cov.shape[-1], :cov.shape[-1]] = cov
        cov = full
    return tracking.kalman_update(mean, cov, measurement, H, R)


def _j_broadcast(pred, gt):  # masks of different sizes cropped to the common size
    h, w = min(pred.shape[-2], gt.shape[-2]), min(pred.shape[-1], gt.shape[-1])
    return propagation.region_similarity(pred[..., :h, :w], gt[..., :h, :w])


def _arg(i, name):
    """The argument at position i or keyword ``name`` of a call."""
    return lambda *args, **kwargs: args[i] if len(args) > i else kwargs.get(name)


_segments, _targets = _arg(0, "segments"), _arg(1, "targets")
_zero_length = lambda s: bool((s[:, 1] == s[:, 0]).any()) if s.dim() == 2 and s.shape[-1] == 2 else False  # noqa: E731

MUTANTS = {
    "temporal_iou": {
        "refuses no segments": refuse(lambda *a, **k: _segments(*a, **k).shape[0] == 0, detection.temporal_iou),
        "refuses no targets": refuse(lambda *a, **k: _targets(*a, **k).shape[0] == 0, detection.temporal_iou),
        "refuses zero-length segments": refuse(lambda *a, **k: _zero_length(_segments(*a, **k)) or
                                               _zero_length(_targets(*a, **k)), detection.temporal_iou),
        "accepts start > end and other layouts": _tiou_any_order,
    },
    "temporal_nms": {
        "refuses no segments": refuse(lambda *a, **k: _segments(*a, **k).shape[0] == 0, detection.temporal_nms),
        "refuses one segment": refuse(lambda *a, **k: _segments(*a, **k).shape[0] == 1, detection.temporal_nms),
        "does not check scores and ends": _nms_scores_unchecked,
    },
    "average_precision": {
        "refuses no detections": refuse(lambda *a, **k: len(_arg(0, "scores")(*a, **k)) == 0,
                                        detection.average_precision),
        "refuses one detection": refuse(lambda *a, **k: len(_arg(0, "scores")(*a, **k)) == 1,
                                        detection.average_precision),
        "accepts num_positives = 0 and unequal lengths": _ap_any_positives,
    },
    "kalman_update": {
        "refuses no tracks": refuse(lambda *a, **k: _arg(0, "mean")(*a, **k).shape[0] == 0, tracking.kalman_update),
        "refuses one measured number": refuse(lambda *a, **k: _arg(3, "H")(*a, **k).shape[0] == 1,
                                              tracking.kalman_update),
        "pads a covariance of the wrong size": _kalman_any_cov,
    },
    "associate": {
        "refuses no tracks": refuse(lambda *a, **k: _arg(0, "cost")(*a, **k).shape[0] == 0, tracking.associate),
        "refuses no detections": refuse(lambda *a, **k: _arg(0, "cost")(*a, **k).shape[-1] == 0, tracking.associate),
        "refuses one track and one detection": refuse(lambda *a, **k: _arg(0, "cost")(*a, **k).numel() == 1,
                                                      tracking.associate),
        "reads a 1-D cost as one track": _associate_any_rank,
    },
    "region_similarity": {
        "refuses two empty masks": refuse(lambda *a, **k: not bool(_arg(0, "pred")(*a, **k).any() or
                                                                 _arg(1, "gt")(*a, **k).any()),
                                          propagation.region_similarity),
        "refuses a 1×1 mask": refuse(lambda *a, **k: _arg(0, "pred")(*a, **k).shape[-2:] == (1, 1),
                                     propagation.region_similarity),
        "crops masks of different sizes": _j_broadcast,
    },
}

test_edge_mutants_are_rejected = edge_mutant_test(flatten_mutants(MUTANTS))
