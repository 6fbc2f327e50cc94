"""Temporal action detection: tIoU, temporal NMS, average precision and mAP (ActivityNet / THUMOS).

Lesson 13_video_tasks.

Lesson 13_video_tasks. A clip label answers "what happens in this clip?"; temporal action detection
answers "which actions happen in this long, *untrimmed* video, and from when to when?". Its output is
a list of scored segments per class, and it is scored like object detection, in one dimension.

**Segments** are ``(N, 2)`` float tensors of ``[start, end]`` pairs with start <= end, in frames (or
seconds: any one unit throughout), and **scores** ``(N,)`` floats, higher = more confident.

    temporal_iou(segments, targets)             (N, M) intersection over union of 1-D intervals  [exercise]
    temporal_nms(segments, scores)              greedy hard NMS: indices of the kept segments    [exercise]
    soft_temporal_nms(segments, scores)         Gaussian soft-NMS (Bodla et al. 2017)
    average_precision(scores, is_tp, num_pos)   interpolated AP of one ranked list                [exercise]
    match_detections(segments, scores, targets) true / false positive per detection (ActivityNet)
    mean_average_precision(...)                 mAP per tIoU threshold and their average
    proposals_from_actionness(actionness)       runs above thresholds become proposals (TAG)
    segments_from_labels(labels)                runs of one non-background label become segments

The evaluation follows ActivityNet's official ``Evaluation/eval_detection.py``
(``compute_average_precision_detection`` with ``interpolated_prec_rec``; Caba Heilbron et al. 2015,
"ActivityNet: A Large-Scale Video Benchmark for Human Activity Understanding"): detections of one
class are ranked by score over all videos, each claims at most one ground-truth instance, and AP is
the area under the interpolated precision–recall curve. ActivityNet averages mAP over tIoU
0.5:0.05:0.95. THUMOS'14 reports mAP at tIoU 0.3:0.1:0.7; its official Matlab kit
(``TH14evalDet.m``) differs in two ways: each ground-truth instance, in turn, takes the still-free
detection it overlaps most if that tIoU is > the threshold (not detections by score), and AP is the
11-point interpolation (VOC 2007). Most recent papers score THUMOS'14 with ActivityNet's code instead,
the rule implemented here.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

__all__ = ["temporal_iou", "temporal_nms", "soft_temporal_nms", "average_precision", "match_detections",
           "mean_average_precision", "proposals_from_actionness", "segments_from_labels"]


# --- the exercises --------------------------------------------------------------------------------
def temporal_iou(segments: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Temporal intersection over union (tIoU) of every segment with every target.

    For 1-D intervals a = [s₁, e₁] and b = [s₂, e₂]:

        intersection = max(0, min(e₁, e₂) − max(s₁, s₂))
        union        = (e₁ − s₁) + (e₂ − s₂) − intersection
        tIoU         = intersection / union

    The ends are positions on a continuous time axis, not inclusive frame indices: [0, 5] and
    [5, 9] *touch* and have tIoU 0 (do not add 1 to the lengths). Two zero-length segments have
    union 0 and get tIoU 0 by convention, even at the same instant (no overlap of positive length);
    a zero-length segment against a longer one also gets 0 (its intersection is 0).

    Args:
        segments: (N, 2) [start, end] pairs, start <= end, in frames or seconds.
        targets: (M, 2) [start, end] pairs in the same unit.

    Returns:
        (N, M) tIoU in [0, 1]; the floating dtype the two inputs promote to (integer inputs give
        torch's default float dtype).

    Raises:
        ValueError: an input is not (K, 2), or has a row with start > end (or a NaN).
    """
    # 1. validate: (K, 2) pairs with start <= end (the comparison is False for NaN too)
    for name, pairs in (("segments", segments), ("targets", targets)):
        if pairs.dim() != 2 or pairs.shape[1] != 2:
            raise ValueError(f"{name} must be (K, 2) [start, end] pairs, got shape {tuple(pairs.shape)}")
        bad = ~(pairs[:, 0] <= pairs[:, 1])
        if bool(bad.any()):
            row = int(bad.nonzero()[0, 0])
            raise ValueError(f"{name} must have start <= end, but row {row} is {pairs[row].tolist()}; "
                             f"swap the two columns or drop the row")
    dtype = torch.promote_types(segments.dtype, targets.dtype)
    dtype = dtype if dtype.is_floating_point else torch.get_default_dtype()
    a, b = segments.to(dtype), targets.to(dtype)
    # 2. the overlap of every pair: (N, M), 0 when the intervals are disjoint or touch
    inter = (torch.minimum(a[:, None, 1], b[None, :, 1]) - torch.maximum(a[:, None, 0], b[None, :, 0])).clamp(min=0)
    # 3. the union: both lengths minus the overlap counted twice
    union = (a[:, 1] - a[:, 0])[:, None] + (b[:, 1] - b[:, 0])[None, :] - inter  # (N, M)
    # 4. divide where the union has positive length; two zero-length segments get 0
    return torch.where(union > 0, inter / torch.where(union > 0, union, torch.ones_like(union)),
                       torch.zeros_like(union))


def temporal_nms(segments: torch.Tensor, scores: torch.Tensor, *, iou_threshold: float = 0.5) -> torch.Tensor:
    """Greedy (hard) temporal non-maximum suppression.

    Repeat: keep the highest-scoring segment left, and remove every remaining segment whose tIoU
    with it is *greater than* ``iou_threshold`` (a tIoU equal to the threshold survives). Ties in
    score go to the lower index (a stable sort). This is the NMS of object detection (e.g. Girshick
    et al. 2014, R-CNN) on 1-D intervals, as used after temporal proposals (Shou et al. 2016, S-CNN;
    Zhao et al. 2017, SSN).

    Args:
        segments: (N, 2) [start, end] pairs, start <= end.
        scores: (N,) float scores, higher = more confident.
        iou_threshold: in [0, 1]; 1 keeps every segment, 0 keeps only segments that overlap no kept one.

    Returns:
        (K,) int64 indices into ``segments`` of the kept segments, in decreasing score order, on the
        device of ``scores``.

    Raises:
        ValueError: shapes that are not (N, 2) and (N,), a NaN score, a threshold outside [0, 1],
            or a segment with start > end.
    """
    # 1. validate
    if scores.dim() != 1 or segments.shape != (scores.shape[0], 2):
        raise ValueError(f"segments must be (N, 2) and scores (N,), got {tuple(segments.shape)} and "
                         f"{tuple(scores.shape)}")
    if bool(torch.isnan(scores).any()):
        raise ValueError("scores contain NaN; NMS needs an order: replace NaN by a number or drop the segment")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    # 2. every pairwise tIoU at once, and the visiting order: by score, ties to the lower index
    iou = temporal_iou(segments, segments)  # (N, N)
    order = torch.sort(scores, descending=True, stable=True).indices
    # 3. greedy: a segment not yet suppressed is kept and suppresses its strong overlaps
    suppressed = torch.zeros(scores.shape[0], dtype=torch.bool, device=iou.device)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return torch.tensor(keep, dtype=torch.int64, device=scores.device)


def average_precision(scores: torch.Tensor, is_true_positive: torch.Tensor, num_positives: int, *,
                      interpolated: bool = True) -> torch.Tensor:
    """Average precision of one ranked list of detections, with ActivityNet's interpolation.

    Rank the detections by score, highest first (a stable sort: ties keep their input order). At
    rank k, precision = TP(k) / k and recall = TP(k) / num_positives. Recall grows by
    1 / num_positives at each true positive, so the area under the precision–recall curve is

        AP = (1 / num_positives) · Σ over true positives k of  P_interp(k),

    where the **interpolated** precision P_interp(k) is the best precision at rank k or any later rank
    (the precision at recall r is the maximum precision at any recall >= r; the "all-point"
    envelope of VOC 2010+ that ActivityNet's ``interpolated_prec_rec`` computes). Positives that no
    detection finds add recall never reached: they lower AP. With ``interpolated=False`` the raw
    precision P(k) is used (the area of the step curve, scikit-learn's ``average_precision_score``
    when the scores have no ties).

    Args:
        scores: (N,) float detection scores.
        is_true_positive: (N,) bool, whether each detection matched a ground-truth instance
            (see :func:`match_detections`).
        num_positives: the number of ground-truth instances, >= 1 (found or not).
        interpolated: use the precision envelope (the protocol) or the raw precision.

    Returns:
        A 0-dim tensor in [0, 1], of the dtype of ``scores`` (torch's default float for integer
        scores). No detection gives 0.

    Raises:
        ValueError: shapes that are not (N,) alike, a non-bool ``is_true_positive``, NaN scores,
            num_positives < 1, or more true positives than positives.
    """
    # 1. validate
    if scores.dim() != 1 or is_true_positive.shape != scores.shape:
        raise ValueError(f"scores and is_true_positive must both be (N,), got {tuple(scores.shape)} and "
                         f"{tuple(is_true_positive.shape)}")
    if is_true_positive.dtype != torch.bool:
        raise ValueError(f"is_true_positive must be a bool tensor, got {is_true_positive.dtype}; use .bool()")
    if bool(torch.isnan(scores).any()):
        raise ValueError("scores contain NaN; AP needs a ranking: replace NaN by a number or drop the detection")
    if isinstance(num_positives, bool) or int(num_positives) != num_positives or num_positives < 1:
        raise ValueError(f"num_positives must be an int >= 1 (the ground-truth count), got {num_positives!r}")
    if int(is_true_positive.sum()) > num_positives:
        raise ValueError(f"{int(is_true_positive.sum())} true positives but only {num_positives} positives: "
                         f"each ground-truth instance can be matched once")
    dtype = scores.dtype if scores.is_floating_point() else torch.get_default_dtype()
    # 2. rank by score, highest first; ties keep their input order
    order = torch.sort(scores, descending=True, stable=True).indices
    tp = is_true_positive[order].to(dtype)  # (N,) 1 at a true positive
    # 3. precision at every rank
    ranks = torch.arange(1, tp.shape[0] + 1, dtype=dtype, device=tp.device)
    precision = torch.cumsum(tp, 0) / ranks  # (N,)
    # 4. the envelope: best precision at this rank or later (a running max from the end)
    if interpolated:
        precision = torch.flip(torch.cummax(torch.flip(precision, [0]), 0).values, [0])
    # 5. each true positive adds 1 / num_positives of recall at its precision
    return (precision * tp).sum() / num_positives


# --- matching and the mAP of a data set -----------------------------------------------------------
def match_detections(segments: torch.Tensor, scores: torch.Tensor, targets: torch.Tensor, *,
                     tiou_threshold: float) -> torch.Tensor:
    """Mark each detection of one class in one video as a true or a false positive.

    The rule of ActivityNet's ``compute_average_precision_detection``: visit the detections by
    decreasing score; each takes, among the targets not yet taken, the one of highest tIoU, if that
    tIoU is >= ``tiou_threshold`` (a true positive, and the target is locked); otherwise it is a
    false positive. So a second detection of an instance already found is a false positive even
    when it overlaps it perfectly, and it may still claim another, untaken target that it overlaps
    enough. Ties: equal scores are visited in index order and equal tIoUs go to the lower target
    index (ActivityNet's reversed ``argsort`` visits ties in an order NumPy does not fix; it changes
    which instance is locked, rarely the AP).

    Args:
        segments: (N, 2) [start, end] detections, start <= end.
        scores: (N,) float scores.
        targets: (M, 2) [start, end] ground-truth instances of the same class and video (M may be 0).
        tiou_threshold: in [0, 1], the minimum tIoU of a match.

    Returns:
        (N,) bool, True for the detections that are true positives, in the input order.

    Raises:
        ValueError: shapes that are not (N, 2), (N,), (M, 2), NaN scores, a threshold outside
            [0, 1], or start > end.
    """
    # 1. validate (temporal_iou checks the pairs themselves)
    if scores.dim() != 1 or segments.shape != (scores.shape[0], 2):
        raise ValueError(f"segments must be (N, 2) and scores (N,), got {tuple(segments.shape)} and "
                         f"{tuple(scores.shape)}")
    if bool(torch.isnan(scores).any()):
        raise ValueError("scores contain NaN; matching visits detections by score: replace or drop them")
    if not 0.0 <= tiou_threshold <= 1.0:
        raise ValueError(f"tiou_threshold must be in [0, 1], got {tiou_threshold}")
    iou = temporal_iou(segments, targets)  # (N, M)
    is_tp = torch.zeros(scores.shape[0], dtype=torch.bool, device=scores.device)
    taken = torch.zeros(iou.shape[1], dtype=torch.bool, device=iou.device)
    if iou.shape[1] == 0:
        return is_tp
    # 2. greedy by score: the best untaken target, if it overlaps enough
    for i in torch.sort(scores, descending=True, stable=True).indices.tolist():
        candidates = iou[i].masked_fill(taken, -1.0)  # taken targets can never match again
        j = int(torch.argmax(candidates))  # the first maximum: ties to the lower index
        if candidates[j] >= tiou_threshold:
            is_tp[i], taken[j] = True, True
    return is_tp


def _as_videos(name: str, value: torch.Tensor | Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """One tensor = one video; a list or tuple of tensors = one tensor per video."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, torch.Tensor) for v in value):
        return list(value)
    raise ValueError(f"{name} must be a tensor (one video) or a list of tensors (one per video), "
                     f"got {type(value).__name__}")


def mean_average_precision(pred_segments: torch.Tensor | Sequence[torch.Tensor],
                           pred_scores: torch.Tensor | Sequence[torch.Tensor],
                           pred_labels: torch.Tensor | Sequence[torch.Tensor],
                           gt_segments: torch.Tensor | Sequence[torch.Tensor],
                           gt_labels: torch.Tensor | Sequence[torch.Tensor], *,
                           tiou_thresholds: Sequence[float] = (0.3, 0.5, 0.7),
                           num_classes: int) -> dict:
    """Detection mAP at several tIoU thresholds, over one video or a list of videos (ActivityNet).

    For each class c with at least one ground-truth instance, and each threshold: the detections
    labelled c in each video are matched to that video's instances of c (:func:`match_detections`),
    then all detections of c, from all videos, are ranked together by score and scored with
    :func:`average_precision` against the total number of instances of c. mAP at a threshold is the
    mean AP over the classes that have ground truth (classes without any instance are left out,
    as ActivityNet's class list only holds annotated classes); ``average_mAP`` is the mean over the
    thresholds. Detections in a video without an instance of their class are false positives.

    Pass either one tensor per argument (one video) or a list of tensors per argument, one per
    video, in the same video order (the role of ActivityNet's ``video-id``).

    Args:
        pred_segments: (N, 2) [start, end] detections, or a list of them.
        pred_scores: (N,) float scores, or a list.
        pred_labels: (N,) int class of each detection in 0..num_classes − 1, or a list.
        gt_segments: (M, 2) [start, end] ground-truth instances, or a list.
        gt_labels: (M,) int class of each instance in 0..num_classes − 1, or a list.
        tiou_thresholds: the thresholds, each in [0, 1] (THUMOS'14: 0.3, 0.4, 0.5, 0.6, 0.7).
        num_classes: the number of classes K. With frame labels 0 = background and actions 1..K,
            pass K + 1: class 0 has no instance and is left out of the mean.

    Returns:
        A dict with ``"mAP@{t:g}"`` (float, e.g. ``"mAP@0.5"``) for each threshold t,
        ``"average_mAP"`` (float, the mean over thresholds), ``"ap"`` ((len(thresholds),
        num_classes) float64 tensor, NaN for classes without ground truth) and
        ``"tiou_thresholds"`` (the thresholds as a tuple of floats).

    Raises:
        ValueError: a different number of videos per argument, shapes that disagree, labels outside
            0..num_classes − 1, no ground truth at all, or a bad threshold.
    """
    # 1. one list entry per video, and validate
    videos = [_as_videos(name, value) for name, value in (
        ("pred_segments", pred_segments), ("pred_scores", pred_scores), ("pred_labels", pred_labels),
        ("gt_segments", gt_segments), ("gt_labels", gt_labels))]
    if len({len(v) for v in videos}) != 1:
        raise ValueError(f"every argument needs one entry per video, got {[len(v) for v in videos]} entries")
    thresholds = tuple(float(t) for t in tiou_thresholds)
    if not thresholds or not all(0.0 <= t <= 1.0 for t in thresholds):
        raise ValueError(f"tiou_thresholds must be a non-empty sequence of values in [0, 1], got {tiou_thresholds!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    for v, (seg, sc, lab, gseg, glab) in enumerate(zip(*videos)):
        if sc.dim() != 1 or seg.shape != (sc.shape[0], 2) or lab.shape != sc.shape:
            raise ValueError(f"video {v}: pred_segments must be (N, 2), pred_scores and pred_labels (N,), got "
                             f"{tuple(seg.shape)}, {tuple(sc.shape)}, {tuple(lab.shape)}")
        if glab.dim() != 1 or gseg.shape != (glab.shape[0], 2):
            raise ValueError(f"video {v}: gt_segments must be (M, 2) and gt_labels (M,), got "
                             f"{tuple(gseg.shape)} and {tuple(glab.shape)}")
        for name, labels in (("pred_labels", lab), ("gt_labels", glab)):
            if labels.is_floating_point() or bool(((labels < 0) | (labels >= num_classes)).any()):
                raise ValueError(f"video {v}: {name} must be integers in 0..{num_classes - 1}, got "
                                 f"{labels.unique().tolist()}; with background 0 and actions 1..K pass "
                                 f"num_classes=K + 1")
    pred_seg, pred_sc, pred_lab, gt_seg, gt_lab = videos
    num_positives = torch.stack([torch.bincount(g.long().cpu(), minlength=num_classes) for g in gt_lab]).sum(0)
    if int(num_positives.sum()) == 0:
        raise ValueError("there is no ground-truth instance in any video: mAP is undefined")
    # 2. AP of every (threshold, class) with ground truth: match per video, rank over all videos
    ap = torch.full((len(thresholds), num_classes), float("nan"), dtype=torch.float64)
    for c in range(num_classes):
        if num_positives[c] == 0:
            continue
        scores = torch.cat([s[lab == c].double().cpu() for s, lab in zip(pred_sc, pred_lab)])
        for t, threshold in enumerate(thresholds):
            is_tp = torch.cat([match_detections(seg[lab == c], s[lab == c], g[gl == c], tiou_threshold=threshold).cpu()
                               for seg, s, lab, g, gl in zip(pred_seg, pred_sc, pred_lab, gt_seg, gt_lab)])
            ap[t, c] = average_precision(scores, is_tp, int(num_positives[c]))
    # 3. mean over the classes with ground truth, then over the thresholds
    has_gt = num_positives > 0
    per_threshold = ap[:, has_gt].mean(dim=1)  # (len(thresholds),)
    result: dict = {f"mAP@{t:g}": float(m) for t, m in zip(thresholds, per_threshold)}
    result.update(average_mAP=float(per_threshold.mean()), ap=ap, tiou_thresholds=thresholds)
    return result


# --- proposals ------------------------------------------------------------------------------------
def proposals_from_actionness(actionness: torch.Tensor, *,
                              thresholds: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                              min_length: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Temporal proposals from a per-snippet actionness curve, by thresholding at several levels.

    For each threshold τ, every maximal run of consecutive snippets with actionness > τ becomes a
    proposal [start, end) (``end`` is one past the last snippet of the run), scored by the mean
    actionness inside the run. A low τ yields long proposals that merge neighbouring actions, a high
    τ short ones that split them; taking all levels together covers actions of many lengths. This
    is the watershed-like grouping of TAG (Zhao et al. 2017, "Temporal Action Detection with
    Structured Segment Networks", Sec. 3.4), without its merging tolerance γ. The same run found
    at several thresholds is kept once.

    Args:
        actionness: (T,) float, the probability (or any score) that each snippet is inside an action.
        thresholds: the levels τ; a run must be strictly above τ.
        min_length: the shortest proposal kept, in snippets, >= 1.

    Returns:
        segments: (K, 2) [start, end) in snippet indices, the dtype of ``actionness`` (float).
        scores: (K,) mean actionness of each proposal.
        Sorted by decreasing score; ties by start, then end.

    Raises:
        ValueError: ``actionness`` is not a 1-D float tensor or has NaN, no thresholds, or
            min_length < 1.
    """
    # 1. validate
    if actionness.dim() != 1 or not actionness.is_floating_point():
        raise ValueError(f"actionness must be a (T,) float tensor, got {actionness.dtype} {tuple(actionness.shape)}")
    if bool(torch.isnan(actionness).any()):
        raise ValueError("actionness contains NaN; fill the gaps (e.g. with 0) first")
    if len(thresholds) == 0:
        raise ValueError("thresholds is empty: give at least one level, e.g. (0.5,)")
    if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 1:
        raise ValueError(f"min_length must be an int >= 1 (snippets), got {min_length!r}")
    # 2. prefix sums give the mean over any run in one step
    prefix = torch.cat([actionness.new_zeros(1), torch.cumsum(actionness, 0)])  # (T + 1,)
    runs: set[tuple[int, int]] = set()
    for threshold in thresholds:
        # 3. runs above τ: +1 where a run starts, −1 one past where it ends
        above = F.pad((actionness > threshold).to(torch.int8), (1, 1))  # (T + 2,), a 0 at each end
        change = above[1:] - above[:-1]  # (T + 1,)
        starts, ends = (change == 1).nonzero()[:, 0], (change == -1).nonzero()[:, 0]
        runs.update((s, e) for s, e in zip(starts.tolist(), ends.tolist()) if e - s >= min_length)
    # 4. score = mean actionness; order by score, then start, then end
    pairs = sorted(runs)
    segments = torch.tensor(pairs, dtype=actionness.dtype, device=actionness.device).reshape(-1, 2)
    idx = segments.long()
    scores = (prefix[idx[:, 1]] - prefix[idx[:, 0]]) / (segments[:, 1] - segments[:, 0])
    order = torch.sort(scores, descending=True, stable=True).indices  # stable: the (start, end) order of `pairs`
    return segments[order], scores[order]


def segments_from_labels(labels: torch.Tensor, *, background: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn a per-frame (or per-snippet) label sequence into segments: each maximal run of one
    non-background label is a segment [start, end) with that label.

    The inverse of painting segments into a label track (as ``course.data.streams`` does), for
    ground truth or for a frame-wise classifier's predictions. Two actions of the same class with no
    background between them become one segment.

    Args:
        labels: (T,) integer labels.
        background: the label that is not an action.

    Returns:
        segments: (K, 2) float32 [start, end) in frames (snippets), in time order.
        labels: (K,) int64 the label of each segment.

    Raises:
        ValueError: ``labels`` is not a 1-D integer tensor.
    """
    if labels.dim() != 1 or labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be a (T,) integer tensor, got {labels.dtype} {tuple(labels.shape)}")
    if labels.numel() == 0:
        return torch.zeros(0, 2, device=labels.device), torch.zeros(0, dtype=torch.int64, device=labels.device)
    # 1. where a run starts: the first frame, and every frame whose label differs from the one before
    starts = torch.cat([torch.ones(1, dtype=torch.bool, device=labels.device), labels[1:] != labels[:-1]])
    begin = starts.nonzero()[:, 0]  # (R,) first frame of every run, background runs included
    end = torch.cat([begin[1:], begin.new_tensor([labels.shape[0]])])  # (R,) one past the last frame
    run_labels = labels[begin].long()
    # 2. keep the runs that are not background
    action = run_labels != background
    segments = torch.stack([begin[action], end[action]], dim=1).float()  # (K, 2)
    return segments, run_labels[action]


def soft_temporal_nms(segments: torch.Tensor, scores: torch.Tensor, *, sigma: float = 0.5,
                      score_threshold: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian soft-NMS on temporal segments (Bodla et al. 2017, "Soft-NMS — Improving Object
    Detection With One Line of Code").

    Hard NMS deletes every segment that overlaps a kept one by more than a threshold, so two true
    actions close in time can lose one of them. Soft-NMS only lowers the score of the overlapping
    segments, by a Gaussian of the overlap:

        repeat: pick the remaining segment M of highest (current) score;
                for every other remaining segment b:  score_b ← score_b · exp(−tIoU(M, b)² / σ);
                drop those whose score fell below score_threshold.

    Segments that start below ``score_threshold`` are dropped too. Ties pick the lower index.

    Args:
        segments: (N, 2) [start, end] pairs, start <= end.
        scores: (N,) float scores.
        sigma: σ > 0 of the Gaussian penalty (the paper's default 0.5); smaller decays faster.
        score_threshold: segments whose decayed score is below this are removed, >= 0.

    Returns:
        segments: (K, 2) the picked segments, in the order they were picked.
        scores: (K,) their decayed scores at the moment they were picked (non-increasing), the float
            dtype of ``scores``.

    Raises:
        ValueError: shapes that are not (N, 2) and (N,), NaN scores, sigma <= 0, score_threshold < 0,
            or start > end.
    """
    # 1. validate
    if scores.dim() != 1 or segments.shape != (scores.shape[0], 2):
        raise ValueError(f"segments must be (N, 2) and scores (N,), got {tuple(segments.shape)} and "
                         f"{tuple(scores.shape)}")
    if bool(torch.isnan(scores).any()):
        raise ValueError("scores contain NaN; replace NaN by a number or drop the segment")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    if not score_threshold >= 0:
        raise ValueError(f"score_threshold must be >= 0, got {score_threshold}")
    iou = temporal_iou(segments, segments)  # (N, N)
    current = scores.to(iou.dtype if not scores.is_floating_point() else scores.dtype).clone()
    alive = current >= score_threshold  # (N,) still in the running
    picked: list[int] = []
    picked_scores: list[torch.Tensor] = []
    while bool(alive.any()):
        # 2. the best remaining segment (argmax returns the first maximum: ties to the lower index)
        m = int(torch.argmax(current.masked_fill(~alive, float("-inf"))))
        picked.append(m)
        picked_scores.append(current[m].clone())
        alive[m] = False
        # 3. decay the others by their overlap with it, and drop the ones that fall too low
        current = torch.where(alive, current * torch.exp(-iou[m].to(current.dtype) ** 2 / sigma), current)
        alive &= current >= score_threshold
    index = torch.tensor(picked, dtype=torch.int64, device=segments.device)
    kept_scores = torch.stack(picked_scores) if picked_scores else current.new_zeros(0)
    return segments[index], kept_scores
