"""ROC curve, AUROC, and a paired bootstrap of the AUROC difference of two models.

Lesson 15_capstone_video_to_ct.

Lesson 15 follows Ke et al. 2023, "Video Pretraining Advances 3D Deep Learning on Chest CT Tasks":
a detector of pulmonary embolism is scored by the area under the ROC curve (AUROC), and two
detectors are compared on the same test scans with a paired bootstrap interval of the AUROC
difference.

    roc_curve(scores, labels)                   (n,) scores, (n,) 0/1 labels → fpr, tpr, thresholds
    auroc(scores, labels)                       the area under it (Hanley & McNeil 1982)
    paired_auroc_bootstrap(scores_a, scores_b,  AUROC_a − AUROC_b with a percentile interval,
                           labels, groups=...)  the same resampled cases for both models
    paired_auroc_bootstrap_runs(a, b, labels)   the mean over training runs (seeds) of that difference,
                                                runs and cases resampled

Ties: cases with equal scores share one threshold, so the curve goes diagonally across a tie and
the area counts a tied (positive, negative) pair as half a correct ordering. This is the
Mann–Whitney U statistic divided by n_pos · n_neg, and it is what scikit-learn's
``roc_auc_score`` and ``roc_curve(..., drop_intermediate=False)`` compute.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["roc_curve", "auroc", "paired_auroc_bootstrap", "paired_auroc_bootstrap_runs", "resampled_run_aurocs"]

_MAX_REDRAWS = 1000  # consecutive one-class resamples before the bootstrap gives up


def _as_numpy(x: Any) -> np.ndarray:
    """A numpy copy of a tensor (any device) or array-like, flattened."""
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x).ravel()


def _check(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """(scores float64, labels int64), both (n,), checked: same length, finite, 0/1, both classes."""
    s, y = _as_numpy(scores), _as_numpy(labels)
    if s.shape != y.shape:
        raise ValueError(f"scores and labels must have one entry per case, got {s.size} scores and {y.size} labels")
    if not (np.issubdtype(s.dtype, np.number) or s.dtype == bool):
        raise ValueError(f"scores must be real numbers, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if not np.isfinite(s).all():
        raise ValueError(f"scores must be finite, got {int((~np.isfinite(s)).sum())} NaN or infinite values; "
                         "check the model's output (or use logits instead of log-probabilities of 0)")
    if not np.isin(y, [0, 1]).all():
        raise ValueError(f"labels must be binary (0/1 or False/True), got values {np.unique(y)[:5].tolist()}")
    y = y.astype(np.int64)
    if y.min() == y.max():
        raise ValueError(f"AUROC needs both classes, but all {y.size} labels are {int(y[0])}; "
                         "the test set needs positive and negative cases")
    return s, y


def roc_curve(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve: false- and true-positive rates at every distinct score used as threshold.

    A case is called positive when its score is >= the threshold. Equal to scikit-learn's
    ``roc_curve(labels, scores, drop_intermediate=False)``.

    Args:
        scores: (n,) real scores, higher = more likely positive (logits or probabilities); a numpy
            array, a sequence or a torch tensor of any float or int dtype.
        labels: (n,) binary labels, 0/1 ints or bools, same kinds as ``scores``.

    Returns:
        (fpr, tpr, thresholds), each (k + 1,) float64 for k distinct scores: thresholds run from
        ``inf`` (nothing called positive, the point (0, 0)) down to the smallest score (everything
        called positive, the point (1, 1)).

    Raises:
        ValueError: shapes differ, labels are not binary or hold only one class, scores not finite.
    """
    s, y = _check(scores, labels)
    # 1. sort the cases by score, highest first (stable, so equal scores keep their order)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    # 2. the last case of each run of equal scores: a threshold there lets the whole tie through
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    # 3. positives and negatives at or above each threshold
    tps = np.cumsum(y)[last].astype(np.float64)
    fps = (last + 1) - tps
    # 4. prepend the threshold that lets nothing through, then turn counts into rates
    tps, fps = np.r_[0.0, tps], np.r_[0.0, fps]
    return fps / fps[-1], tps / tps[-1], np.r_[np.inf, s[last]]


def auroc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve: the chance that a random positive outscores a random negative.

    Computed from mid-ranks as the Mann–Whitney U statistic over n_pos · n_neg (Hanley & McNeil
    1982, "The meaning and use of the area under a receiver operating characteristic (ROC)
    curve", Radiology 143:29–36); a tied (positive, negative) pair counts one half. Equal to
    ``sklearn.metrics.roc_auc_score(labels, scores)`` and to the trapezoid area under
    :func:`roc_curve`.

    Args:
        scores: (n,) real scores (see :func:`roc_curve`).
        labels: (n,) binary labels (see :func:`roc_curve`).

    Returns:
        AUROC in [0, 1]: 1 for perfect separation, 0.5 for a score that ignores the label (or
        equal scores everywhere), 0 for perfectly inverted scores.

    Raises:
        ValueError: as :func:`roc_curve`.
    """
    s, y = _check(scores, labels)
    # 1. ranks 1..n of the sorted scores; 2. every tied run gets the mean of its ranks
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s) != 0) + 1]  # first index of each tied run
    ends = np.r_[starts[1:], s.size]
    mid = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(s.size)
    ranks[order] = np.repeat(mid, ends - starts)
    # 3. U = rank sum of the positives minus its smallest possible value
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _weighted_auroc(s_sorted: np.ndarray, y_sorted: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """AUROC of R resamples given as case counts: (R, n) counts over cases sorted by score → (R,).

    A resample that draws case i c_i times is the original cases weighted by c_i, so the AUROC is
    the weighted Mann–Whitney statistic: per run of tied scores, positives weighted by the
    negatives strictly below plus half the tied negatives. No sorting per resample.
    """
    starts = np.r_[0, np.flatnonzero(np.diff(s_sorted) != 0) + 1]
    pos = np.add.reduceat(counts * y_sorted, starts, axis=1)  # (R, runs) positives per tied run
    neg = np.add.reduceat(counts * (1 - y_sorted), starts, axis=1)  # (R, runs) negatives per tied run
    below = np.cumsum(neg, axis=1) - neg  # (R, runs) negatives with a strictly lower score
    u = (pos * (below + 0.5 * neg)).sum(axis=1)
    return u / (pos.sum(axis=1) * neg.sum(axis=1))


def _draw(rng: np.random.Generator, members: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    """One resample's case indices (see :func:`paired_auroc_bootstrap` for the draw order)."""
    for _ in range(_MAX_REDRAWS):
        if len(members) == 1:  # cases only
            idx = rng.integers(0, y.size, size=y.size)
        else:  # groups with replacement, then cases within each drawn group
            drawn = rng.integers(0, len(members), size=len(members))
            idx = np.concatenate([members[g][rng.integers(0, members[g].size, size=members[g].size)]
                                  for g in drawn])
        if 0 < y[idx].sum() < idx.size:
            return idx
    raise ValueError(f"{_MAX_REDRAWS} resamples in a row held one class only; the test set needs more "
                     "positive and negative cases (and every group should hold both)")


def paired_auroc_bootstrap(scores_a: Any, scores_b: Any, labels: Any, *, num_resamples: int = 2000,
                           level: float = 0.95, seed: int = 0, groups: Any = None) -> dict[str, float | bool]:
    """AUROC of model A minus AUROC of model B, with a paired percentile bootstrap interval.

    Both models are scored on the same resampled cases in every resample (paired), so the case mix
    that helps or hurts both cancels in the difference (Efron & Tibshirani 1993, ch. 13; the same
    conventions as :func:`course.report.paired_bootstrap`). A resample that holds only one class
    has no AUROC; it is redrawn (with the next numbers of the same generator) until it holds both.

    Draw order, exactly (so a reader can reproduce the interval with ``np.random.default_rng(seed)``):
    for each of the ``num_resamples`` resamples in turn, without groups, one
    ``rng.integers(0, n, size=n)`` gives the case indices; with groups, one
    ``rng.integers(0, G, size=G)`` draws G groups (numbered in the order of ``np.unique(groups)``),
    then for each drawn group in turn ``rng.integers(0, m, size=m)`` draws its m rows (in their
    original order); a one-class draw is repeated from the start of that resample. The interval is
    ``np.quantile`` (linear) of the resampled differences at (1 − level)/2 and (1 + level)/2.

    Args:
        scores_a, scores_b: (n,) real scores of the two models on the same n rows (row i of both
            is the same case); numpy arrays, sequences or torch tensors.
        labels: (n,) binary labels, 0/1 or bool.
        num_resamples: bootstrap resamples.
        level: coverage of the interval.
        seed: seeds ``np.random.default_rng``; the same seed gives the same interval.
        groups: (n,) optional cluster of each row, for example the training seed when the
            predictions of several seeds are stacked (each test case then appears once per seed).
            Resampled first, then the rows within each drawn group (two levels, as in
            :func:`course.report.paired_bootstrap`), so a lucky or stuck training run widens the
            interval. The AUROC of a resample pools its rows over the drawn groups, so scores of
            different seeds are ranked together: seeds whose scores sit on different scales lower
            the pooled AUROC of that model. The point estimates do not depend on ``groups``.

    Returns:
        dict with ``diff`` (AUROC_a − AUROC_b on all rows), ``lower``, ``upper`` (the interval),
        ``auroc_a``, ``auroc_b`` (floats) and ``resolved`` (bool: the interval excludes 0).

    Raises:
        ValueError: shapes differ, bad labels or scores (see :func:`roc_curve`), fewer than 2
            groups, ``level`` not in (0, 1), ``num_resamples`` < 1, or resamples keep holding
            one class.
    """
    # 1. check the inputs and the observed AUROCs
    s_a, y = _check(scores_a, labels)
    s_b, _ = _check(scores_b, labels)
    if not 0 < level < 1 or num_resamples < 1:
        raise ValueError(f"level must be in (0, 1) and num_resamples >= 1, got {level} and {num_resamples}")
    auroc_a, auroc_b = auroc(s_a, y), auroc(s_b, y)
    # 2. the rows of each group (one group of all rows without groups)
    members = [np.arange(y.size)]
    if groups is not None:
        g = _as_numpy(groups)
        if g.shape != y.shape:
            raise ValueError(f"groups must give one group per row, got {g.size} for {y.size} rows")
        members = [np.flatnonzero(g == v) for v in np.unique(g)]
        if len(members) < 2:
            raise ValueError("a grouped bootstrap needs at least 2 groups (seeds); pass groups=None for one")
    # 3. draw every resample's rows, in the documented order
    rng = np.random.default_rng(seed)
    draws = [_draw(rng, members, y) for _ in range(num_resamples)]
    # 4. AUROC of both models on the same rows, as counts per case, 500 resamples at a time
    order_a, order_b = np.argsort(s_a, kind="mergesort"), np.argsort(s_b, kind="mergesort")
    diffs = np.empty(num_resamples)
    for start in range(0, num_resamples, 500):  # bounded memory for large n
        counts = np.stack([np.bincount(d, minlength=y.size) for d in draws[start:start + 500]]).astype(np.float64)
        diffs[start:start + 500] = (_weighted_auroc(s_a[order_a], y[order_a], counts[:, order_a])
                                    - _weighted_auroc(s_b[order_b], y[order_b], counts[:, order_b]))
    # 5. percentile interval
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    return {"diff": auroc_a - auroc_b, "lower": float(lo), "upper": float(hi), "auroc_a": auroc_a,
            "auroc_b": auroc_b, "resolved": bool(lo > 0 or hi < 0)}


def paired_auroc_bootstrap_runs(scores_a: Any, scores_b: Any, labels: Any, *, num_resamples: int = 2000,
                                level: float = 0.95, seed: int = 0) -> dict[str, float | bool]:
    """The mean over R training runs of AUROC_a − AUROC_b, with a two-level paired bootstrap interval.

    Run r of both models (for example the same fine-tuning seed) scored the same n test cases. The
    statistic is ``mean_r (AUROC(a_r) − AUROC(b_r))``: each run's AUROC on its own, so runs whose
    scores sit on different scales are never ranked together (unlike pooling the runs' rows in
    :func:`paired_auroc_bootstrap` with ``groups``). A resample draws R runs with replacement and
    n cases with replacement, the same cases for every run and both models, so the interval holds
    both the run-to-run and the test-set variation (Davison & Hinkley 1997, sec. 3.8).

    Draw order, exactly: for each resample in turn, ``rng.integers(0, R, size=R)`` draws the runs, then
    ``rng.integers(0, n, size=n)`` the cases, the case draw repeated (the run draw kept) while it
    holds one class only. The interval is ``np.quantile`` (linear) at (1 − level)/2 and (1 + level)/2.

    Args:
        scores_a, scores_b: (R, n) scores of the two models, run r of both on the same n cases.
        labels: (n,) binary labels of the cases.
        num_resamples, level, seed: as :func:`paired_auroc_bootstrap`.

    Returns:
        dict with ``diff`` (the mean difference on all runs and cases), ``lower``, ``upper``,
        ``auroc_a``, ``auroc_b`` (means over runs) and ``resolved`` (the interval excludes 0).

    Raises:
        ValueError: shapes differ or are not (R, n) with R >= 2, bad labels or scores, ``level``
            not in (0, 1), ``num_resamples`` < 1, or resamples keep holding one class.
    """
    # 1. check the inputs; each run's observed AUROC
    a, b = _as_runs(scores_a), _as_runs(scores_b)
    if a.shape != b.shape:
        raise ValueError(f"scores must be two (R, n) arrays of the same shape, got {a.shape} and {b.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    # 2. every run's AUROC on every resample's cases (the same draws for both: same R, n, labels, seed)
    weight, (aurocs_a, aurocs_b) = resampled_run_aurocs(np.stack([a, b]), labels, num_resamples=num_resamples,
                                                        seed=seed)
    y = _check(a[0], labels)[1]
    auroc_a, auroc_b = np.array([auroc(r, y) for r in a]), np.array([auroc(r, y) for r in b])
    # 3. the mean over the drawn runs, and its percentile interval
    diffs = (weight * (aurocs_a - aurocs_b)).sum(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    return {"diff": float((auroc_a - auroc_b).mean()), "lower": float(lo), "upper": float(hi),
            "auroc_a": float(auroc_a.mean()), "auroc_b": float(auroc_b.mean()), "resolved": bool(lo > 0 or hi < 0)}


def _as_runs(scores: Any) -> np.ndarray:
    """(R, n) float64 scores of R >= 2 runs, from a tensor or array-like."""
    x = np.asarray(scores.detach().cpu().numpy() if hasattr(scores, "detach") else scores, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"scores must be an (R, n) array of R >= 2 runs (seeds) on the same n cases, got shape {x.shape}")
    return x


def resampled_run_aurocs(scores: Any, labels: Any, *, num_resamples: int = 2000, seed: int = 0
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Each run's AUROC on each bootstrap resample, and how often each resample drew each run.

    The draws are those of :func:`paired_auroc_bootstrap_runs` (they depend only on R, n, the labels
    and ``seed``), so outputs for two models with one seed are paired, and ``(weight * aurocs).sum(-1)``
    is the resampled mean AUROC over runs. Several models (M, R, n) share one draw.

    Args:
        scores: (R, n) scores of R runs on the same n cases, or (M, R, n) for M models.
        labels: (n,) binary labels.
        num_resamples: B.
        seed: seeds ``np.random.default_rng``.

    Returns:
        weight (B, R): the share of resample b's R drawn runs that are run r (rows sum to 1);
        aurocs (B, R), or (M, B, R): run r's AUROC on resample b's cases.

    Raises:
        ValueError: as :func:`paired_auroc_bootstrap_runs`.
    """
    # 1. check
    x = np.asarray(scores.detach().cpu().numpy() if hasattr(scores, "detach") else scores, dtype=np.float64)
    models = x if x.ndim == 3 else x[None]
    for m in models:
        _as_runs(m)
    if num_resamples < 1:
        raise ValueError(f"num_resamples must be >= 1, got {num_resamples}")
    y = _check(models[0, 0], labels)[1]
    for row in models.reshape(-1, models.shape[-1]):
        _check(row, y)
    M, R, n = models.shape
    # 2. draw runs and cases, in the documented order
    rng = np.random.default_rng(seed)
    runs, cases = np.empty((num_resamples, R), dtype=np.int64), []
    for i in range(num_resamples):
        runs[i] = rng.integers(0, R, size=R)
        cases.append(_draw(rng, [np.arange(n)], y))
    weight = np.stack([np.bincount(r, minlength=R) for r in runs]) / R  # (B, R)
    # 3. every run's AUROC on every resample's cases, as counts per case, 500 resamples at a time
    aurocs = np.empty((M, num_resamples, R))
    for start in range(0, num_resamples, 500):
        counts = np.stack([np.bincount(d, minlength=n) for d in cases[start:start + 500]]).astype(np.float64)
        for m in range(M):
            for r in range(R):
                order = np.argsort(models[m, r], kind="mergesort")
                aurocs[m, start:start + 500, r] = _weighted_auroc(models[m, r][order], y[order], counts[:, order])
    return weight, (aurocs if x.ndim == 3 else aurocs[0])
