"""Tests of course.video.detection: worked cases by hand, NumPy loops written from the definitions, the
ActivityNet matching loop rewritten in NumPy, and scikit-learn's average precision where it coincides."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

from course.data.streams import action_streams
from course.video.detection import (average_precision, match_detections, mean_average_precision,
                                    proposals_from_actionness, segments_from_labels, soft_temporal_nms, temporal_iou,
                                    temporal_nms)


def _segments(n: int, seed: int, length: float = 40.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    start = torch.rand(n, generator=g, dtype=dtype) * length
    return torch.stack([start, start + torch.rand(n, generator=g, dtype=dtype) * length / 3], dim=1)


def _tiou_loop(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((len(a), len(b)))
    for i, (s1, e1) in enumerate(a):
        for j, (s2, e2) in enumerate(b):
            inter = max(0.0, min(e1, e2) - max(s1, s2))
            union = (e1 - s1) + (e2 - s2) - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


# --- temporal_iou ---------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b, expected", [
    ([0, 5], [5, 9], 0.0),  # touching: no overlap of positive length
    ([0, 10], [2, 4], 0.2),  # nested: 2 / 10
    ([3, 7], [3, 7], 1.0),  # identical
    ([0, 2], [6, 9], 0.0),  # disjoint
    ([0, 4], [2, 6], 2 / 6),  # partial overlap
    ([3, 3], [3, 3], 0.0),  # two zero-length segments: union 0, tIoU 0 by convention
    ([3, 3], [0, 6], 0.0),  # a zero-length segment inside a longer one
    ([0.5, 1.5], [1.0, 3.0], 0.5 / 2.5),
])
def test_temporal_iou_worked_cases(a, b, expected):
    iou = temporal_iou(torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64))
    assert iou.shape == (1, 1) and iou.dtype == torch.float64
    assert iou.item() == pytest.approx(expected, abs=1e-12)
    assert temporal_iou(torch.tensor([b], dtype=torch.float64), torch.tensor([a], dtype=torch.float64)).item() == \
        pytest.approx(expected, abs=1e-12)  # symmetric


def test_temporal_iou_matches_a_numpy_loop_on_odd_sizes():
    a, b = _segments(7, seed=0), _segments(5, seed=1)
    iou = temporal_iou(a, b)
    assert iou.shape == (7, 5)
    np.testing.assert_allclose(iou.numpy(), _tiou_loop(a.numpy(), b.numpy()), atol=1e-12)
    assert (iou > 0).any() and (iou == 0).any()  # the random case has both overlaps and gaps


def test_temporal_iou_dtypes_and_empty_inputs():
    a32 = _segments(3, seed=2, dtype=torch.float32)
    assert temporal_iou(a32, a32).dtype == torch.float32
    ints = torch.tensor([[0, 4], [2, 9]])
    out = temporal_iou(ints, ints)
    assert out.dtype == torch.get_default_dtype()
    assert out[0, 1].item() == pytest.approx(2 / 9)
    assert temporal_iou(torch.zeros(0, 2), a32).shape == (0, 3)
    assert temporal_iou(a32, torch.zeros(0, 2)).shape == (3, 0)


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(3, 3), r"\(K, 2\)"),
    (torch.zeros(4), r"\(K, 2\)"),
    (torch.tensor([[0.0, 1.0], [5.0, 2.0]]), r"row 1 .*start <= end|start <= end.*row 1"),
    (torch.tensor([[float("nan"), 1.0]]), "start <= end"),
])
def test_temporal_iou_rejects_bad_segments(bad, match):
    good = torch.tensor([[0.0, 1.0]])
    with pytest.raises(ValueError, match=match):
        temporal_iou(bad, good)
    with pytest.raises(ValueError, match=match):
        temporal_iou(good, bad)


# --- temporal_nms ---------------------------------------------------------------------------------
def _nms_loop(segments: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Greedy NMS written from the definition with Python lists."""
    remaining = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep: list[int] = []
    while remaining:
        best = remaining.pop(0)
        keep.append(best)
        remaining = [j for j in remaining if _tiou_loop(segments[[best]], segments[[j]])[0, 0] <= threshold]
    return keep


def test_temporal_nms_keeps_the_higher_score():
    segments = torch.tensor([[0.0, 10.0], [1.0, 10.0], [20.0, 25.0]])
    scores = torch.tensor([0.5, 0.9, 0.7])
    keep = temporal_nms(segments, scores, iou_threshold=0.5)
    assert keep.dtype == torch.int64
    assert keep.tolist() == [1, 2]  # [1, 10] (0.9) suppresses [0, 10] (tIoU 0.9); [20, 25] is apart


def test_temporal_nms_threshold_is_strict_and_ties_go_to_the_lower_index():
    segments = torch.tensor([[0.0, 4.0], [2.0, 6.0], [0.0, 4.0]])  # tIoU(0, 1) = 1/3, (0, 2) = 1
    scores = torch.tensor([0.8, 0.7, 0.8])
    assert temporal_nms(segments, scores, iou_threshold=1 / 3).tolist() == [0, 1]  # 1/3 is not > 1/3
    assert temporal_nms(segments, scores, iou_threshold=0.3).tolist() == [0]
    assert temporal_nms(segments, scores, iou_threshold=1.0).tolist() == [0, 2, 1]


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.7])
def test_temporal_nms_matches_a_loop_from_the_definition(threshold):
    segments = _segments(23, seed=3)
    scores = torch.rand(23, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    keep = temporal_nms(segments, scores, iou_threshold=threshold)
    assert keep.tolist() == _nms_loop(segments.numpy(), scores.numpy(), threshold)


def test_temporal_nms_edges_and_errors():
    assert temporal_nms(torch.zeros(0, 2), torch.zeros(0)).tolist() == []
    assert temporal_nms(torch.tensor([[1.0, 2.0]]), torch.tensor([0.3])).tolist() == [0]
    with pytest.raises(ValueError, match=r"\(N, 2\) and scores \(N,\)"):
        temporal_nms(torch.zeros(3, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="iou_threshold"):
        temporal_nms(torch.zeros(1, 2), torch.zeros(1), iou_threshold=1.5)
    with pytest.raises(ValueError, match="NaN"):
        temporal_nms(torch.zeros(1, 2), torch.tensor([float("nan")]))
    with pytest.raises(ValueError, match="start <= end"):
        temporal_nms(torch.tensor([[2.0, 1.0]]), torch.tensor([0.5]))


# --- soft_temporal_nms ----------------------------------------------------------------------------
def _soft_nms_loop(segments: np.ndarray, scores: np.ndarray, sigma: float, threshold: float):
    scores = scores.astype(float).copy()
    remaining = [i for i in range(len(scores)) if scores[i] >= threshold]
    picked, picked_scores = [], []
    while remaining:
        best = max(remaining, key=lambda i: (scores[i], -i))
        picked.append(best)
        picked_scores.append(scores[best])
        remaining.remove(best)
        for j in remaining:
            scores[j] *= math.exp(-_tiou_loop(segments[[best]], segments[[j]])[0, 0] ** 2 / sigma)
        remaining = [j for j in remaining if scores[j] >= threshold]
    return picked, picked_scores


def test_soft_nms_worked_case():
    segments = torch.tensor([[0.0, 4.0], [2.0, 6.0], [10.0, 12.0]], dtype=torch.float64)  # tIoU(0, 1) = 1/3
    scores = torch.tensor([0.9, 0.8, 0.5], dtype=torch.float64)
    kept, kept_scores = soft_temporal_nms(segments, scores, sigma=0.5)
    decayed = 0.8 * math.exp(-(1 / 3) ** 2 / 0.5)  # 0.7172...: still above the third segment
    assert kept.tolist() == [[0.0, 4.0], [2.0, 6.0], [10.0, 12.0]]
    np.testing.assert_allclose(kept_scores.numpy(), [0.9, decayed, 0.5], atol=1e-12)
    # a narrow Gaussian pushes the overlapping segment below the isolated one
    kept, kept_scores = soft_temporal_nms(segments, scores, sigma=0.05)
    assert kept.tolist() == [[0.0, 4.0], [10.0, 12.0], [2.0, 6.0]]
    assert kept_scores[2].item() == pytest.approx(0.8 * math.exp(-(1 / 9) / 0.05))
    # narrower still, its score falls below score_threshold (1e-3) and it is dropped
    kept, _ = soft_temporal_nms(segments, scores, sigma=0.01)
    assert kept.tolist() == [[0.0, 4.0], [10.0, 12.0]]


@pytest.mark.parametrize("sigma, threshold", [(0.5, 1e-3), (0.1, 0.05), (2.0, 0.3)])
def test_soft_nms_matches_a_loop_from_the_paper(sigma, threshold):
    segments = _segments(17, seed=5)
    scores = torch.rand(17, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    kept, kept_scores = soft_temporal_nms(segments, scores, sigma=sigma, score_threshold=threshold)
    picked, picked_scores = _soft_nms_loop(segments.numpy(), scores.numpy(), sigma, threshold)
    np.testing.assert_allclose(kept.numpy(), segments.numpy()[picked])
    np.testing.assert_allclose(kept_scores.numpy(), picked_scores, rtol=1e-12)
    assert (kept_scores[1:] <= kept_scores[:-1]).all()


def test_soft_nms_edges_and_errors():
    kept, kept_scores = soft_temporal_nms(torch.zeros(0, 2), torch.zeros(0))
    assert kept.shape == (0, 2) and kept_scores.shape == (0,)
    kept, _ = soft_temporal_nms(torch.tensor([[0.0, 1.0], [5.0, 6.0]]), torch.tensor([1e-4, 0.5]))
    assert kept.tolist() == [[5.0, 6.0]]  # below score_threshold from the start
    with pytest.raises(ValueError, match="sigma"):
        soft_temporal_nms(torch.zeros(1, 2), torch.ones(1), sigma=0.0)
    with pytest.raises(ValueError, match="score_threshold"):
        soft_temporal_nms(torch.zeros(1, 2), torch.ones(1), score_threshold=-1.0)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        soft_temporal_nms(torch.zeros(2, 3), torch.ones(2))


# --- average_precision ----------------------------------------------------------------------------
def _ap_from_definition(scores: np.ndarray, tp: np.ndarray, num_positives: int) -> float:
    """Area under the interpolated PR curve: p_interp(r) = max precision at recall >= r."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    precision, recall, hits = [], [], 0
    for k, i in enumerate(order, start=1):
        hits += int(tp[i])
        precision.append(hits / k)
        recall.append(hits / num_positives)
    ap, previous = 0.0, 0.0
    for r in sorted(set(recall)):
        if r == 0:
            continue
        ap += (r - previous) * max(p for p, q in zip(precision, recall) if q >= r)
        previous = r
    return ap


def test_average_precision_worked_case_with_and_without_the_envelope():
    scores = torch.tensor([0.9, 0.8, 0.7])
    tp = torch.tensor([False, True, True])  # precision 0, 1/2, 2/3
    # interpolated: both hits see the later, higher precision 2/3 -> (2/3 + 2/3) / 3
    assert average_precision(scores, tp, 3).item() == pytest.approx(4 / 9)
    # raw step curve: (1/2 + 2/3) / 3
    assert average_precision(scores, tp, 3, interpolated=False).item() == pytest.approx(7 / 18)


def test_average_precision_ranks_by_score_not_by_input_order():
    scores = torch.tensor([0.1, 0.9, 0.5])
    tp = torch.tensor([True, False, True])  # ranked: F (0.9), T (0.5), T (0.1)
    assert average_precision(scores, tp, 2).item() == pytest.approx(2 / 3)
    assert average_precision(scores, tp, 4).item() == pytest.approx(1 / 3)  # two positives never found


def test_average_precision_ties_keep_the_input_order():
    scores = torch.tensor([0.5, 0.5])
    assert average_precision(scores, torch.tensor([True, False]), 1).item() == pytest.approx(1.0)
    assert average_precision(scores, torch.tensor([False, True]), 1).item() == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(5))
def test_average_precision_matches_the_definition(seed):
    g = torch.Generator().manual_seed(seed)
    n = 31
    scores = torch.rand(n, generator=g, dtype=torch.float64)
    tp = torch.rand(n, generator=g) < 0.4
    num_positives = int(tp.sum()) + 3
    ap = average_precision(scores, tp, num_positives)
    assert ap.dtype == torch.float64
    assert ap.item() == pytest.approx(_ap_from_definition(scores.numpy(), tp.numpy(), num_positives), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_raw_average_precision_equals_sklearn_when_every_positive_is_detected(seed):
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(29, generator=g, dtype=torch.float64)  # distinct scores: no ties
    tp = torch.rand(29, generator=g) < 0.5
    expected = average_precision_score(tp.numpy(), scores.numpy())
    ap = average_precision(scores, tp, int(tp.sum()), interpolated=False)
    assert ap.item() == pytest.approx(expected, abs=1e-12)
    assert average_precision(scores, tp, int(tp.sum())).item() >= ap.item() - 1e-12  # the envelope only lifts


def test_average_precision_edges_and_errors():
    assert average_precision(torch.zeros(0), torch.zeros(0, dtype=torch.bool), 2).item() == 0.0
    assert average_precision(torch.tensor([0.3]), torch.tensor([True]), 1).item() == 1.0
    with pytest.raises(ValueError, match="num_positives"):
        average_precision(torch.tensor([0.3]), torch.tensor([False]), 0)
    with pytest.raises(ValueError, match="bool"):
        average_precision(torch.tensor([0.3]), torch.tensor([1]), 1)
    with pytest.raises(ValueError, match="true positives"):
        average_precision(torch.tensor([0.3, 0.2]), torch.tensor([True, True]), 1)
    with pytest.raises(ValueError, match=r"\(N,\)"):
        average_precision(torch.zeros(3), torch.zeros(2, dtype=torch.bool), 1)


# --- match_detections -----------------------------------------------------------------------------
def _activitynet_loop(segments: np.ndarray, scores: np.ndarray, targets: np.ndarray, threshold: float) -> np.ndarray:
    """The loop of ActivityNet's compute_average_precision_detection, for one video, in NumPy."""
    tp = np.zeros(len(scores), dtype=bool)
    locked = np.zeros(len(targets), dtype=bool)
    for i in sorted(range(len(scores)), key=lambda k: (-scores[k], k)):
        tiou = _tiou_loop(segments[[i]], targets)[0]
        for j in np.argsort(-tiou, kind="stable"):
            if tiou[j] < threshold:
                break  # every later target overlaps even less: a false positive
            if locked[j]:
                continue
            tp[i], locked[j] = True, True
            break
    return tp


def test_match_detections_worked_case():
    targets = torch.tensor([[0.0, 10.0], [12.0, 20.0]])
    segments = torch.tensor([[0.0, 10.0],  # 0.6: exact hit on target 0
                             [1.0, 10.0],  # 0.9: tIoU 0.9 with target 0 -> the first to claim it
                             [11.0, 20.0],  # 0.5: tIoU 8/9 with target 1
                             [30.0, 40.0]])  # 0.8: nothing there
    scores = torch.tensor([0.6, 0.9, 0.5, 0.8])
    assert match_detections(segments, scores, targets, tiou_threshold=0.5).tolist() == [False, True, True, False]
    assert match_detections(segments, scores, targets, tiou_threshold=0.95).tolist() == [True, False, False, False]


def test_match_detections_takes_the_next_best_untaken_target():
    targets = torch.tensor([[0.0, 10.0], [2.0, 12.0]])
    segments = torch.tensor([[0.0, 10.0], [1.0, 11.0]])  # the second: tIoU 9/11 with both targets
    scores = torch.tensor([0.9, 0.8])
    assert match_detections(segments, scores, targets, tiou_threshold=0.5).tolist() == [True, True]
    # equal to the threshold counts as a match (>=)
    assert match_detections(torch.tensor([[0.0, 4.0]]), torch.tensor([1.0]), torch.tensor([[2.0, 6.0]]),
                            tiou_threshold=1 / 3).tolist() == [True]


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.7])
def test_match_detections_matches_the_activitynet_loop(threshold):
    segments, targets = _segments(41, seed=7), _segments(9, seed=8)
    scores = torch.rand(41, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    is_tp = match_detections(segments, scores, targets, tiou_threshold=threshold)
    expected = _activitynet_loop(segments.numpy(), scores.numpy(), targets.numpy(), threshold)
    assert is_tp.tolist() == expected.tolist()
    assert int(is_tp.sum()) <= len(targets)


def test_match_detections_edges_and_errors():
    assert match_detections(torch.tensor([[0.0, 1.0]]), torch.ones(1), torch.zeros(0, 2),
                            tiou_threshold=0.5).tolist() == [False]
    assert match_detections(torch.zeros(0, 2), torch.zeros(0), torch.tensor([[0.0, 1.0]]),
                            tiou_threshold=0.5).tolist() == []
    with pytest.raises(ValueError, match="tiou_threshold"):
        match_detections(torch.zeros(1, 2), torch.ones(1), torch.zeros(1, 2), tiou_threshold=-0.1)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        match_detections(torch.zeros(2, 2), torch.ones(3), torch.zeros(1, 2), tiou_threshold=0.5)


# --- mean_average_precision -----------------------------------------------------------------------
def test_map_of_perfect_detections_is_one():
    gt = torch.tensor([[0.0, 10.0], [20.0, 30.0], [40.0, 45.0]])
    labels = torch.tensor([1, 2, 1])
    out = mean_average_precision(gt, torch.tensor([0.9, 0.8, 0.7]), labels, gt, labels, num_classes=3)
    assert out["mAP@0.3"] == out["mAP@0.5"] == out["mAP@0.7"] == out["average_mAP"] == 1.0
    assert out["ap"].shape == (3, 3) and torch.isnan(out["ap"][:, 0]).all()  # class 0: no ground truth
    assert out["tiou_thresholds"] == (0.3, 0.5, 0.7)


def test_map_worked_case_over_two_videos():
    # class 0: one instance per video; class 1: one instance in video 1
    gt_segments = [torch.tensor([[0.0, 10.0]]), torch.tensor([[5.0, 15.0], [20.0, 30.0]])]
    gt_labels = [torch.tensor([0]), torch.tensor([0, 1])]
    pred_segments = [torch.tensor([[0.0, 8.0], [50.0, 60.0]]),  # tIoU 0.8 with its instance; a false alarm
                     torch.tensor([[6.0, 15.0], [22.0, 30.0]])]  # tIoU 0.9; class 1 at tIoU 0.8
    pred_scores = [torch.tensor([0.7, 0.9]), torch.tensor([0.8, 0.6])]
    pred_labels = [torch.tensor([0, 0]), torch.tensor([0, 1])]
    out = mean_average_precision(pred_segments, pred_scores, pred_labels, gt_segments, gt_labels,
                                 tiou_thresholds=(0.5, 0.85), num_classes=2)
    # class 0 ranked over both videos: F (0.9), T (0.8), T (0.7) with 2 instances -> (2/3 + 2/3) / 2
    # at 0.85 only the 0.9-tIoU hit counts: F, T, F -> (1/2) / 2; class 1: 1 at 0.5, 0 at 0.85
    np.testing.assert_allclose(out["ap"].numpy(), [[2 / 3, 1.0], [1 / 4, 0.0]], atol=1e-12)
    assert out["mAP@0.5"] == pytest.approx((2 / 3 + 1) / 2)
    assert out["mAP@0.85"] == pytest.approx(1 / 8)
    assert out["average_mAP"] == pytest.approx(((2 / 3 + 1) / 2 + 1 / 8) / 2)


def test_map_of_one_video_equals_the_list_of_that_one_video():
    gt, gl = _segments(6, seed=10), torch.tensor([0, 1, 2, 1, 0, 2])
    pred = _segments(15, seed=11)
    scores = torch.rand(15, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    labels = torch.randint(0, 3, (15,), generator=torch.Generator().manual_seed(13))
    single = mean_average_precision(pred, scores, labels, gt, gl, num_classes=3)
    listed = mean_average_precision([pred], [scores], [labels], [gt], [gl], num_classes=3)
    assert single["average_mAP"] == listed["average_mAP"]
    # and the per-class AP is average_precision of match_detections
    c = 1
    tp = match_detections(pred[labels == c], scores[labels == c], gt[gl == c], tiou_threshold=0.5)
    assert single["ap"][1, c].item() == pytest.approx(average_precision(scores[labels == c], tp, 2).item())


def test_map_errors_name_the_fix():
    gt, gl = torch.tensor([[0.0, 1.0]]), torch.tensor([3])
    with pytest.raises(ValueError, match="num_classes=K"):
        mean_average_precision(gt, torch.ones(1), gl, gt, gl, num_classes=3)
    with pytest.raises(ValueError, match="one entry per video"):
        mean_average_precision([gt, gt], [torch.ones(1)], [gl], [gt], [gl], num_classes=4)
    with pytest.raises(ValueError, match="no ground-truth"):
        mean_average_precision(gt, torch.ones(1), gl, torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64),
                               num_classes=4)
    with pytest.raises(ValueError, match="tiou_thresholds"):
        mean_average_precision(gt, torch.ones(1), gl, gt, gl, num_classes=4, tiou_thresholds=(1.2,))


# --- proposals_from_actionness --------------------------------------------------------------------
def test_proposals_worked_case():
    actionness = torch.tensor([0.0, 0.6, 0.9, 0.6, 0.0, 0.8, 0.0])
    segments, scores = proposals_from_actionness(actionness, thresholds=(0.5, 0.7))
    # τ = 0.5: [1, 4) mean 0.7 and [5, 6) mean 0.8; τ = 0.7: [2, 3) mean 0.9 and [5, 6) again (kept once)
    assert segments.tolist() == [[2.0, 3.0], [5.0, 6.0], [1.0, 4.0]]
    np.testing.assert_allclose(scores.numpy(), [0.9, 0.8, 0.7], rtol=1e-6)
    segments, _ = proposals_from_actionness(actionness, thresholds=(0.5, 0.7), min_length=2)
    assert segments.tolist() == [[1.0, 4.0]]


def test_proposals_at_the_ends_and_strictly_above():
    actionness = torch.tensor([0.9, 0.9, 0.2, 0.5, 0.9], dtype=torch.float64)
    segments, scores = proposals_from_actionness(actionness, thresholds=(0.5,))
    assert segments.tolist() == [[0.0, 2.0], [4.0, 5.0]]  # 0.5 is not above 0.5; runs touch both ends
    assert segments.dtype == scores.dtype == torch.float64


@pytest.mark.parametrize("seed", range(3))
def test_proposals_match_a_loop(seed):
    a = torch.rand(37, generator=torch.Generator().manual_seed(seed))
    thresholds = (0.2, 0.5, 0.8)
    expected = {}
    for t in thresholds:
        start = None
        for i, v in enumerate(a.tolist() + [-1.0]):
            if v > t and start is None:
                start = i
            elif v <= t and start is not None:
                expected[(start, i)] = float(a[start:i].mean())
                start = None
    segments, scores = proposals_from_actionness(a, thresholds=thresholds)
    got = {(int(s), int(e)): float(v) for (s, e), v in zip(segments.tolist(), scores)}
    assert got.keys() == expected.keys()
    for key in got:
        assert got[key] == pytest.approx(expected[key], rel=1e-5)
    assert (scores[1:] <= scores[:-1]).all()


def test_proposals_edges_and_errors():
    segments, scores = proposals_from_actionness(torch.zeros(9))
    assert segments.shape == (0, 2) and scores.shape == (0,)
    with pytest.raises(ValueError, match=r"\(T,\) float"):
        proposals_from_actionness(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\(T,\) float"):
        proposals_from_actionness(torch.zeros(4, dtype=torch.int64))
    with pytest.raises(ValueError, match="min_length"):
        proposals_from_actionness(torch.zeros(4), min_length=0)
    with pytest.raises(ValueError, match="thresholds"):
        proposals_from_actionness(torch.zeros(4), thresholds=())


# --- segments_from_labels -------------------------------------------------------------------------
def test_segments_from_labels_worked_case():
    labels = torch.tensor([0, 2, 2, 0, 0, 1, 1, 1, 3, 0, 2])
    segments, classes = segments_from_labels(labels)
    assert segments.tolist() == [[1.0, 3.0], [5.0, 8.0], [8.0, 9.0], [10.0, 11.0]]  # runs touch the end too
    assert classes.tolist() == [2, 1, 3, 2] and classes.dtype == torch.int64
    segments, classes = segments_from_labels(labels, background=1)
    assert classes.tolist() == [0, 2, 0, 3, 0, 2]


def test_segments_from_labels_inverts_the_streams_labels():
    for stream in action_streams(5, seed=3):
        segments, classes = segments_from_labels(stream.labels)
        assert torch.equal(segments, stream.segments) and torch.equal(classes, stream.segment_labels)


def test_segments_from_labels_edges_and_errors():
    assert segments_from_labels(torch.zeros(0, dtype=torch.int64))[0].shape == (0, 2)
    assert segments_from_labels(torch.zeros(6, dtype=torch.int64))[0].shape == (0, 2)
    assert segments_from_labels(torch.full((4,), 2))[0].tolist() == [[0.0, 4.0]]
    with pytest.raises(ValueError, match="integer"):
        segments_from_labels(torch.zeros(5))
    with pytest.raises(ValueError, match=r"\(T,\)"):
        segments_from_labels(torch.zeros(2, 3, dtype=torch.int64))


# --- on a GPU -------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_detection_on_cuda_matches_cpu():
    segments, targets = _segments(31, seed=20), _segments(7, seed=21)
    scores = torch.rand(31, generator=torch.Generator().manual_seed(22), dtype=torch.float64)
    cuda = torch.device("cuda")
    torch.testing.assert_close(temporal_iou(segments.to(cuda), targets.to(cuda)).cpu(), temporal_iou(segments, targets))
    keep = temporal_nms(segments.to(cuda), scores.to(cuda), iou_threshold=0.4)
    assert keep.device.type == "cuda"
    assert keep.cpu().tolist() == temporal_nms(segments, scores, iou_threshold=0.4).tolist()
    is_tp = match_detections(segments.to(cuda), scores.to(cuda), targets.to(cuda), tiou_threshold=0.3)
    assert is_tp.cpu().tolist() == match_detections(segments, scores, targets, tiou_threshold=0.3).tolist()
    assert average_precision(scores.to(cuda), is_tp, 7).item() == pytest.approx(
        average_precision(scores, is_tp.cpu(), 7).item())
