"""course.report: recorded results, quotes checked against a run, and the paired bootstrap (against SciPy)."""
import numpy as np
import pytest
from scipy import stats

from course.report import check_quotes, compare, paired_bootstrap, parse_results, points, result, update_quotes


def test_result_prints_a_line_that_parses_back(capsys):
    """Check that what `result` prints is what `parse_results` reads (value and tolerance exact)."""
    result("07.lrcn_order_acc", 0.8953125, tol=0.03, label="LRCN on order", fmt="{:.1%}")
    result("11.seam_bn", 3.1e-2, tol=0.01)
    out = capsys.readouterr().out
    assert parse_results(out) == {"07.lrcn_order_acc": (0.8953125, 0.03), "11.seam_bn": (0.031, 0.01)}
    assert "89.5%" in out


@pytest.mark.parametrize("key, tol", [("lrcn", 0.1), ("7.x", 0.1), ("07-x", 0.1), ("07.x", -1.0), ("07.x", float("nan"))])
def test_result_refuses_bad_keys_and_tolerances(key, tol):
    """Check that a key without the lesson number or a negative tolerance is refused."""
    with pytest.raises(ValueError):
        result(key, 1.0, tol=tol)


@pytest.mark.parametrize("quote, ok", [
    ("89.5 %<!--07.acc-->", True),      # percent of a fraction
    ("89.4 %<!--07.acc-->", True),      # within tol 0.001 + rounding 0.0005
    ("89.2 %<!--07.acc-->", False),
    ("0.895<!--07.acc-->", True),
    ("0.9<!--07.acc-->", True),         # one decimal: rounding 0.05
    ("1<!--07.acc-->", True),           # an integer quote rounds by 0.5: loose, as the quote itself is
    ("2<!--07.acc-->", False),
    ("90 %<!--07.acc-->", True),
    ("12,697,264<!--07.params-->", True),
    ("12,697,265<!--07.params-->", False),  # an exact count: an integer quote rounds by 0.5 only
    ("−0.25<!--07.neg-->", True),
    ("0.25<!--07.neg-->", False),
    ("0.5<!--07.missing-->", False),
])
def test_quotes_are_checked_against_the_run(quote, ok):
    """Check that a quote passes exactly when it is within the result's tolerance plus its own rounding."""
    results = {"07.acc": (0.8953, 0.001), "07.params": (12697264.0, 0.0), "07.neg": (-0.25, 0.0)}
    assert (check_quotes(f"text {quote} text", results) == []) is ok


def test_quotes_of_other_lessons_are_left_to_their_own_run():
    """Check that `prefix` selects one lesson's quotes."""
    assert check_quotes("a 0.1<!--08.x--> b", {}, prefix="07.") == []
    assert check_quotes("a 0.1<!--08.x--> b", {}, prefix="08.") != []


def test_update_quotes_rewrites_numbers_keeping_decimals_and_unit():
    """Check that `update_quotes` writes the run's value with the quote's decimals and unit."""
    text = "LRCN 80.5 %<!--07.acc--> and 0.12<!--07.d--> and 3<!--07.n--> and 1.0<!--08.other-->"
    new = update_quotes(text, {"07.acc": (0.8953, 0.0), "07.d": (0.456, 0.0), "07.n": (7.2, 0.0)})
    assert new == "LRCN 89.5 %<!--07.acc--> and 0.46<!--07.d--> and 7<!--07.n--> and 1.0<!--08.other-->"
    assert check_quotes(new, {"07.acc": (0.8953, 0.0), "07.d": (0.456, 0.0), "07.n": (7.2, 0.0)}, prefix="07.") == []
    runs = {"07.params": (12697264.0, 0.0), "07.neg": (-0.0612, 0.0)}
    assert update_quotes("I3D 12,000,000<!--07.params--> and −0.10<!--07.neg-->", runs) == \
        "I3D 12,697,264<!--07.params--> and −0.06<!--07.neg-->"
    assert update_quotes("0.10<!--07.neg--> (a − b)", runs) == "−0.06<!--07.neg--> (a − b)"
    assert update_quotes("0.10<!--07.neg-->", runs) == "-0.06<!--07.neg-->"
    assert update_quotes("+0.10<!--07.d--> +1.0<!--07.neg-->", {**runs, "07.d": (0.25, 0.0)}) == \
        "+0.25<!--07.d--> -0.1<!--07.neg-->"


@pytest.mark.parametrize("seed", [0, 1])
def test_paired_bootstrap_agrees_with_scipy(seed):
    """Check the interval against scipy.stats.bootstrap (paired, percentile) on the same data."""
    rng = np.random.default_rng(seed)
    a = (rng.random(400) < 0.8).astype(float)
    b = np.where(rng.random(400) < 0.7, a, 1 - a)
    diff, lo, hi = paired_bootstrap(a, b, num_resamples=20000, seed=seed)
    ref = stats.bootstrap((a, b), lambda x, y: np.mean(x - y), paired=True, vectorized=False, n_resamples=5000,
                          method="percentile", random_state=seed).confidence_interval
    assert diff == pytest.approx(np.mean(a - b))
    assert lo == pytest.approx(ref.low, abs=0.01) and hi == pytest.approx(ref.high, abs=0.01)
    assert paired_bootstrap(a, b, seed=3) == paired_bootstrap(a, b, seed=3)  # seeded: the same every run


def test_compare_says_not_resolved_when_the_interval_contains_zero(capsys):
    """Check the verdict sentence: a winner only when the interval excludes 0."""
    rng = np.random.default_rng(0)
    a = (rng.random(600) < 0.9).astype(float)
    b = (rng.random(600) < 0.5).astype(float)
    win = compare("A", a, "B", b)
    assert win.resolved and win.winner == "A" and win.lower > 0
    assert "A beats B" in capsys.readouterr().out
    tie = compare("A", a, "C", a[::-1].copy())
    assert not tie.resolved and tie.winner is None and tie.lower < 0 < tie.upper
    assert "not resolved" in capsys.readouterr().out


@pytest.mark.parametrize("a, b, level", [([1.0], [0.0], 0.95), ([1.0, 0.0], [1.0], 0.95), ([1.0, 0.0], [0.0, 1.0], 1.0)])
def test_paired_bootstrap_refuses_bad_input(a, b, level):
    """Check that unpaired, too short or a bad level is refused."""
    with pytest.raises(ValueError):
        paired_bootstrap(a, b, level=level)


def test_grouped_bootstrap_widens_the_interval_when_seeds_disagree(capsys):
    """Check the two-level bootstrap: a run that disagrees with the others widens the interval; with one
    pair per group it is the plain paired bootstrap's interval (same distribution of resamples)."""
    rng = np.random.default_rng(0)
    n = 300
    b = (rng.random(3 * n) < 0.5).astype(float)
    a = b.copy()
    a[:n] = 1.0  # seed 0: a right everywhere; seeds 1 and 2: a equals b
    seeds = np.repeat([0, 1, 2], n)
    _, lo_flat, hi_flat = paired_bootstrap(a, b, seed=0)
    diff, lo, hi = paired_bootstrap(a, b, seed=0, groups=seeds)
    assert diff == pytest.approx(np.mean(a - b))
    assert lo_flat > 0  # pairs only: "resolved", carried by one run
    assert lo <= 0.0 + 1e-12 and hi - lo > 2 * (hi_flat - lo_flat)  # seeds resampled: the run may be left out
    cmp = compare("A", a, "B", b, groups=seeds)
    assert not cmp.resolved and "in 3 seeds" in capsys.readouterr().out
    x, y = (rng.random(80) < 0.7).astype(float), (rng.random(80) < 0.5).astype(float)
    _, lo1, hi1 = paired_bootstrap(x, y, seed=1, num_resamples=4000)
    _, lo2, hi2 = paired_bootstrap(x, y, seed=2, num_resamples=4000, groups=np.arange(80))
    assert lo1 == pytest.approx(lo2, abs=0.04) and hi1 == pytest.approx(hi2, abs=0.04)
    with pytest.raises(ValueError):
        paired_bootstrap(x, y, groups=np.zeros(80))


@pytest.mark.parametrize("fraction,text", [(0.0312, "+3.1 points"), (-0.25, "-25.0 points"), (0.0, "+0.0 points")])
def test_points_shows_a_fraction_as_signed_percentage_points(fraction, text):
    assert points(fraction) == text
