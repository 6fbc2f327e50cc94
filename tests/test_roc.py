"""course.roc: ROC curve and AUROC against scikit-learn; the paired AUROC bootstrap against a numpy loop."""
import zlib

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from course.roc import auroc, paired_auroc_bootstrap, roc_curve


def _case(name: str):
    """(scores, labels) of one named case, numpy or torch, as the table below lists."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    y = rng.integers(0, 2, size=37)
    y[:2] = [0, 1]  # both classes
    if name == "normal_float64":
        return rng.normal(size=37) + y, y
    if name == "normal_float32":
        return (rng.normal(size=37) + y).astype(np.float32), y
    if name == "many_ties":
        return rng.integers(0, 3, size=37).astype(np.float64) + 0.5 * y, y
    if name == "integer_scores":
        return rng.integers(-5, 6, size=37), y
    if name == "all_equal":
        return np.full(37, 0.25), y
    if name == "perfect":
        return y * 2.0 + rng.uniform(size=37), y
    if name == "inverted":
        return -(y * 2.0 + rng.uniform(size=37)), y
    if name == "n2":
        return np.array([0.7, 0.3]), np.array([1, 0])
    if name == "n2_tied":
        return np.array([0.5, 0.5]), np.array([1, 0])
    if name == "tensor_bool":
        return torch.randn(37, dtype=torch.float32) + torch.from_numpy(y), torch.from_numpy(y).bool()
    if name == "tensor_float64_int_labels":
        return torch.from_numpy(rng.integers(0, 4, size=37).astype(np.float64)), torch.from_numpy(y)
    if name == "imbalanced_large":
        y = (rng.uniform(size=1001) < 0.04).astype(int)
        y[0] = 1
        return np.round(rng.normal(size=1001) + 1.5 * y, 1), y
    raise KeyError(name)


CASES = ["normal_float64", "normal_float32", "many_ties", "integer_scores", "all_equal", "perfect", "inverted",
         "n2", "n2_tied", "tensor_bool", "tensor_float64_int_labels", "imbalanced_large"]


def _np(x):
    return x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@pytest.mark.parametrize("name", CASES)
def test_auroc_equals_sklearn(name):
    """Check that auroc equals sklearn's roc_auc_score, ties counted half."""
    scores, labels = _case(name)
    expected = roc_auc_score(_np(labels), _np(scores))
    assert auroc(scores, labels) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_roc_curve_equals_sklearn_and_its_area_is_the_auroc(name):
    """Check that roc_curve equals sklearn's (drop_intermediate=False) and its trapezoid area is auroc."""
    scores, labels = _case(name)
    fpr, tpr, thresholds = roc_curve(scores, labels)
    sk_fpr, sk_tpr, sk_thr = sk_roc_curve(_np(labels), _np(scores), drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr, atol=1e-12)
    np.testing.assert_allclose(tpr, sk_tpr, atol=1e-12)
    np.testing.assert_array_equal(thresholds, np.asarray(sk_thr, dtype=np.float64))
    area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)  # trapezoid rule
    assert area == pytest.approx(auroc(scores, labels), abs=1e-12)


@pytest.mark.parametrize("name, expected", [("perfect", 1.0), ("inverted", 0.0), ("all_equal", 0.5), ("n2_tied", 0.5)])
def test_known_values(name, expected):
    """Check the textbook values: perfect separation 1, inverted 0, no information 0.5."""
    assert auroc(*_case(name)) == expected


@pytest.mark.parametrize("scores, labels, match", [
    ([0.1, 0.2, 0.3], [1, 1, 1], "both classes"),
    ([0.1, 0.2, 0.3], [0, 0, 0], "both classes"),
    ([0.1, 0.2, 0.3], [0, 1], "one entry per case"),
    ([0.1, 0.2, 0.3], [0, 1, 2], "binary"),
    ([0.1, 0.2, 0.3], [-1, 1, 1], "binary"),
    ([0.1, np.nan, 0.3], [0, 1, 1], "finite"),
    ([0.1, np.inf, 0.3], [0, 1, 1], "finite"),
    (["a", "b", "c"], [0, 1, 1], "real numbers"),
])
def test_bad_inputs_are_refused(scores, labels, match):
    """Check that one class, unequal lengths, non-binary labels and non-finite scores are ValueErrors."""
    for fn in (auroc, roc_curve):
        with pytest.raises(ValueError, match=match):
            fn(np.array(scores), np.array(labels))


# ---- the paired bootstrap, against the test's own numpy loop ---------------------------------------------

def _pair_auroc(s, y):
    """AUROC by counting every (positive, negative) pair, ties one half: independent of course.roc."""
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    return ((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size)


def _reference(a, b, y, *, num_resamples, seed, groups=None, level=0.95):
    """The documented draw order, written out: (diff, lower, upper, number of one-class redraws)."""
    rng = np.random.default_rng(seed)
    members = None if groups is None else [np.flatnonzero(groups == g) for g in np.unique(groups)]
    diffs, redraws = [], 0
    while len(diffs) < num_resamples:
        if members is None:
            idx = rng.integers(0, y.size, size=y.size)
        else:
            parts = []
            for g in rng.integers(0, len(members), size=len(members)):
                parts.append(members[g][rng.integers(0, members[g].size, size=members[g].size)])
            idx = np.concatenate(parts)
        if y[idx].min() == y[idx].max():
            redraws += 1
            continue
        diffs.append(_pair_auroc(a[idx], y[idx]) - _pair_auroc(b[idx], y[idx]))
    lo, hi = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    return _pair_auroc(a, y) - _pair_auroc(b, y), lo, hi, redraws


def _two_models(n, *, seed, gap, ties=False):
    """Labels and scores of a better model A and a worse model B on the same n cases."""
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < 0.3).astype(int)
    y[:2] = [0, 1]
    a = rng.normal(size=n) + (1.0 + gap) * y
    b = rng.normal(size=n) + 1.0 * y
    if ties:
        a, b = np.round(a), np.round(b)
    return a, b, y


@pytest.mark.parametrize("n, ties, seed", [(23, False, 0), (40, True, 1), (9, True, 2)])
def test_bootstrap_reproduces_the_documented_draws(n, ties, seed):
    """Check that a numpy loop following the documented draw order gives the same interval, redraws included."""
    a, b, y = _two_models(n, seed=seed, gap=0.5, ties=ties)
    if n == 9:
        y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0])  # one positive: most resamples hold one class
    out = paired_auroc_bootstrap(a, b, y, num_resamples=300, seed=seed)
    diff, lo, hi, redraws = _reference(a, b, y, num_resamples=300, seed=seed)
    assert out["diff"] == pytest.approx(diff, abs=1e-12)
    assert (out["lower"], out["upper"]) == pytest.approx((lo, hi), abs=1e-12)
    assert out["auroc_a"] == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert out["auroc_b"] == pytest.approx(roc_auc_score(y, b), abs=1e-12)
    if n == 9:
        assert redraws > 100  # the redraw path was exercised


def test_grouped_bootstrap_reproduces_the_documented_draws():
    """Check the two-level path (seeds, then rows in each seed) against the numpy loop, with unsorted group ids."""
    a, b, y = _two_models(30, seed=3, gap=0.5)
    rng = np.random.default_rng(4)
    # three seeds' predictions of the same 30 cases, stacked; group ids not in order
    a3 = np.concatenate([a + 0.3 * rng.normal(size=30) for _ in range(3)])
    b3 = np.concatenate([b + 0.3 * rng.normal(size=30) for _ in range(3)])
    y3, g3 = np.tile(y, 3), np.repeat([7, 2, 5], 30)
    out = paired_auroc_bootstrap(a3, b3, y3, num_resamples=200, seed=11, groups=g3)
    diff, lo, hi, _ = _reference(a3, b3, y3, num_resamples=200, seed=11, groups=g3)
    assert (out["diff"], out["lower"], out["upper"]) == pytest.approx((diff, lo, hi), abs=1e-12)
    plain = paired_auroc_bootstrap(a3, b3, y3, num_resamples=200, seed=11)
    assert (plain["diff"], plain["auroc_a"]) == (out["diff"], out["auroc_a"])  # point estimates ignore groups
    assert (plain["lower"], plain["upper"]) != (out["lower"], out["upper"])


def test_grouped_interval_is_wider_when_one_seed_fails():
    """Check that one bad training seed of model A widens the grouped interval beyond the rows-only one."""
    a, b, y = _two_models(120, seed=5, gap=0.6)
    rng = np.random.default_rng(6)
    a3 = np.concatenate([a, a + 0.1 * rng.normal(size=120), rng.normal(size=120)])  # seed 3 learned nothing
    b3, y3, g3 = np.tile(b, 3), np.tile(y, 3), np.repeat([0, 1, 2], 120)
    grouped = paired_auroc_bootstrap(a3, b3, y3, num_resamples=400, seed=0, groups=g3)
    plain = paired_auroc_bootstrap(a3, b3, y3, num_resamples=400, seed=0)
    assert grouped["upper"] - grouped["lower"] > 1.5 * (plain["upper"] - plain["lower"])


def test_interval_shrinks_as_the_test_set_grows():
    """Check that ten times the cases gives an interval about sqrt(10) ≈ 3.2 times narrower (between 2 and 5)."""
    widths = []
    for n in (80, 800):
        a, b, y = _two_models(n, seed=7, gap=0.3)
        out = paired_auroc_bootstrap(a, b, y, num_resamples=400, seed=0)
        assert out["lower"] <= out["diff"] <= out["upper"]
        widths.append(out["upper"] - out["lower"])
    assert 2.0 < widths[0] / widths[1] < 5.0


def test_resolved_for_a_clear_gap_and_not_for_equal_models():
    """Check `resolved`: a strong model against a coin is resolved, two equally good models are not."""
    a, b, y = _two_models(200, seed=8, gap=0.0)
    coin = np.random.default_rng(9).normal(size=200)
    clear = paired_auroc_bootstrap(a, coin, y, num_resamples=500)
    assert clear["resolved"] and clear["lower"] > 0
    null = paired_auroc_bootstrap(a, b, y, num_resamples=500)
    assert not null["resolved"] and null["lower"] < 0 < null["upper"]
    swapped = paired_auroc_bootstrap(coin, a, y, num_resamples=500)
    assert swapped["resolved"] and swapped["upper"] < 0 and swapped["diff"] == pytest.approx(-clear["diff"])


def test_same_seed_same_interval_and_tensors_accepted():
    """Check that the seed fixes the interval and that torch tensors give the numpy answer."""
    a, b, y = _two_models(50, seed=10, gap=0.5)
    first = paired_auroc_bootstrap(a, b, y, num_resamples=100, seed=3)
    again = paired_auroc_bootstrap(torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(y).bool(),
                                   num_resamples=100, seed=3)
    assert first == again
    assert paired_auroc_bootstrap(a, b, y, num_resamples=100, seed=4) != first


@pytest.mark.parametrize("kwargs, match", [
    ({"groups": np.zeros(20)}, "at least 2 groups"),
    ({"groups": np.arange(19)}, "one group per row"),
    ({"level": 1.0}, "level"),
    ({"num_resamples": 0}, "num_resamples"),
])
def test_bootstrap_refuses_bad_options(kwargs, match):
    """Check that one group, mismatched groups, a level outside (0, 1) and no resamples are ValueErrors."""
    a, b, y = _two_models(20, seed=0, gap=0.5)
    with pytest.raises(ValueError, match=match):
        paired_auroc_bootstrap(a, b, y, **kwargs)


def test_bootstrap_refuses_one_class_and_mismatched_models():
    """Check that one-class labels and score vectors of different lengths are ValueErrors."""
    a, b, y = _two_models(20, seed=0, gap=0.5)
    with pytest.raises(ValueError, match="both classes"):
        paired_auroc_bootstrap(a, b, np.zeros(20, dtype=int))
    with pytest.raises(ValueError, match="one entry per case"):
        paired_auroc_bootstrap(a, b[:-1], y)


def _runs_reference(a, b, y, num_resamples, seed):  # noqa: ANN001, ANN202
    """The documented draw order, one resample at a time, each AUROC by scikit-learn."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    R, n = a.shape
    diffs = []
    for _ in range(num_resamples):
        runs = rng.integers(0, R, size=R)
        while True:
            cases = rng.integers(0, n, size=n)
            if 0 < y[cases].sum() < n:
                break
        diffs.append(np.mean([roc_auc_score(y[cases], a[r, cases]) - roc_auc_score(y[cases], b[r, cases]) for r in runs]))
    return np.quantile(diffs, [0.025, 0.975])


def test_paired_auroc_bootstrap_runs_equals_a_plain_resampling_with_scikit_learn() -> None:
    from sklearn.metrics import roc_auc_score

    from course.roc import paired_auroc_bootstrap_runs

    rng = np.random.default_rng(3)
    y = (rng.random(13) < 0.3).astype(int)  # few positives: one-class draws happen and are redrawn
    y[:2] = [0, 1]
    a = y + rng.normal(0, 1.0, size=(4, 13))
    b = np.round(y + rng.normal(0, 1.5, size=(4, 13)), 1)  # ties
    r = paired_auroc_bootstrap_runs(a, b, y, num_resamples=300, seed=5)
    lo, hi = _runs_reference(a, b, y, 300, 5)
    assert r["lower"] == pytest.approx(lo, abs=1e-12) and r["upper"] == pytest.approx(hi, abs=1e-12)
    mean_diff = np.mean([roc_auc_score(y, a[i]) - roc_auc_score(y, b[i]) for i in range(4)])
    assert r["diff"] == pytest.approx(mean_diff, abs=1e-12)
    assert r["auroc_a"] == pytest.approx(np.mean([roc_auc_score(y, row) for row in a]), abs=1e-12)


def test_paired_auroc_bootstrap_runs_rejects_bad_shapes() -> None:
    from course.roc import paired_auroc_bootstrap_runs

    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="R >= 2 runs"):
        paired_auroc_bootstrap_runs(np.zeros((1, 4)), np.zeros((1, 4)), y)
    with pytest.raises(ValueError, match="same shape"):
        paired_auroc_bootstrap_runs(np.zeros((2, 4)), np.zeros((3, 4)), y)
    with pytest.raises(ValueError, match="one entry per case"):
        paired_auroc_bootstrap_runs(np.zeros((2, 5)), np.zeros((2, 5)), y)


def test_resampled_run_aurocs_of_several_models_share_one_draw() -> None:
    from course.roc import resampled_run_aurocs

    rng = np.random.default_rng(1)
    y = np.array([0, 1] * 6)
    models = y + rng.normal(0, 1, size=(3, 2, 12))
    weight, together = resampled_run_aurocs(models, y, num_resamples=50, seed=4)
    for m in range(3):
        w, alone = resampled_run_aurocs(models[m], y, num_resamples=50, seed=4)
        assert np.array_equal(w, weight) and np.array_equal(alone, together[m])
    assert np.allclose(weight.sum(axis=1), 1.0)
