"""Numbers a lesson claims: recorded results, paired-bootstrap intervals, and verdicts printed by code.

A lesson never types a measured number into its text. It computes the number and prints it with
:func:`result`, which tags it with a key (``"07.lrcn_order_acc"``). The README and a lesson's
markdown may quote a recorded number only as ``value<!--key-->``; a test compares every such quote
with the value the executed lesson printed, within the tolerance the lesson declared.

Comparisons between two methods go through :func:`compare`: per-item scores of both methods (for
example 0/1 correctness per test clip, pooled over several training seeds and paired by item) give a
paired-bootstrap confidence interval of the difference of means (Efron & Tibshirani 1993, ch. 13),
and the verdict says "not resolved" when the interval contains 0.
"""
from __future__ import annotations

import dataclasses
import math
import re
from typing import Sequence

import numpy as np

__all__ = ["result", "points", "paired_bootstrap", "compare", "Comparison", "RESULT_PATTERN", "QUOTE_PATTERN",
           "parse_results", "check_quotes", "update_quotes"]

# What `result` prints, one line per number: "RESULT 07.lrcn_order_acc = 0.895 (tol 0.03)  LRCN accuracy ..."
RESULT_PATTERN = re.compile(r"^RESULT (?P<key>[0-9]{2}\.[A-Za-z0-9_.]+) = (?P<value>[-+0-9.eE]+|nan|inf|-inf)"
                            r" \(tol (?P<tol>[-+0-9.eE]+)\)", re.MULTILINE)
# How text quotes a recorded number: "89.5 %<!--07.lrcn_order_acc-->" or "0.919<!--11.unet_dice-->"
QUOTE_PATTERN = re.compile(r"(?P<text>[-−+]?[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?P<unit>%|×)?\s*<!--(?P<key>[0-9]{2}\.[A-Za-z0-9_.]+)-->")


def result(key: str, value: float, *, tol: float, label: str = "", fmt: str = "{:.3f}") -> float:
    """Print a recorded result of this lesson's run and return it.

    Args:
        key: ``"NN.name"``: the lesson number and a name unique in the lesson.
        value: the number (a fraction for accuracies: 0.895, quoted as "89.5 %").
        tol: how far another run on another machine may move it (the test's allowed difference).
        label: what the number is, in words.
        fmt: how to show ``value`` after the machine-readable part.

    Returns:
        ``value`` as a float.

    Raises:
        ValueError: the key is not ``NN.name`` or ``tol`` is negative.
    """
    if not re.fullmatch(r"[0-9]{2}\.[A-Za-z0-9_.]+", key):
        raise ValueError(f"result key {key!r} must look like '07.lrcn_order_acc' (lesson number, dot, name)")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    value = float(value)
    print(f"RESULT {key} = {value!r} (tol {tol!r})  {label}: {fmt.format(value)}".rstrip(": "))
    return value


def points(fraction: float) -> str:
    """A difference of two fractions in signed percentage points: ``points(0.0312)`` is ``"+3.1 points"``."""
    return f"{100 * fraction:+.1f} points"


def parse_results(text: str) -> dict[str, tuple[float, float]]:
    """``{key: (value, tol)}`` from the output text of an executed lesson."""
    return {m["key"]: (float(m["value"]), float(m["tol"])) for m in RESULT_PATTERN.finditer(text)}


def paired_bootstrap(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, *, num_resamples: int = 4000,
                     level: float = 0.95, seed: int = 0,
                     groups: Sequence[int] | np.ndarray | None = None) -> tuple[float, float, float]:
    """Mean of ``a − b`` with a percentile bootstrap interval, resampling the pairs.

    Args:
        a, b: (n,) per-item scores of two methods on the same n items (for example 0/1 correctness
            per test clip, items of several seeds concatenated); pair i is item i of both.
        num_resamples: bootstrap resamples.
        level: coverage of the interval.
        seed: seeds the resampling, so the interval is the same on every run.
        groups: (n,) the training seed (or other cluster) of each pair. None resamples pairs only,
            which ignores how much a whole run varies from seed to seed; with groups, each resample
            draws the groups with replacement and then pairs within each drawn group (a two-level
            bootstrap, Davison & Hinkley 1997, sec. 3.8), so one lucky or stuck run widens the
            interval. With only a few groups the interval is wide, which is the honest answer.

    Returns:
        (mean difference, lower, upper).

    Raises:
        ValueError: shapes differ, fewer than 2 items, fewer than 2 groups, or ``level`` is not in (0, 1).
    """
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size < 2:
        raise ValueError(f"need two equal-length score vectors of at least 2 paired items, got {a.shape} and {b.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    diff = a - b
    rng = np.random.default_rng(seed)
    means = np.empty(num_resamples)
    if groups is not None:
        labels = np.asarray(groups).ravel()
        if labels.shape != diff.shape:
            raise ValueError(f"groups must give one group per pair, got {labels.shape} for {diff.shape} pairs")
        members = [diff[labels == g] for g in np.unique(labels)]
        if len(members) < 2:
            raise ValueError("a grouped bootstrap needs at least 2 groups (seeds)")
        for r in range(num_resamples):
            drawn = rng.integers(0, len(members), size=len(members))
            total = count = 0.0
            for g in drawn:
                items = members[g]
                total += items[rng.integers(0, items.size, size=items.size)].sum()
                count += items.size
            means[r] = total / count
    else:
        for start in range(0, num_resamples, 500):  # 500 resamples at a time: bounded memory for large n
            stop = min(start + 500, num_resamples)
            means[start:stop] = diff[rng.integers(0, diff.size, size=(stop - start, diff.size))].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(diff.mean()), float(lo), float(hi)


@dataclasses.dataclass
class Comparison:
    """Method A against method B: mean difference and its interval, and the verdict in words."""

    name_a: str
    name_b: str
    mean_a: float
    mean_b: float
    diff: float
    lower: float
    upper: float
    level: float
    n: int
    groups: int = 0  # seeds resampled as groups (0: pairs only)

    @property
    def resolved(self) -> bool:
        """True when the interval excludes 0."""
        return self.lower > 0 or self.upper < 0

    @property
    def winner(self) -> str | None:
        """The name of the better method, or None when not resolved."""
        if not self.resolved:
            return None
        return self.name_a if self.diff > 0 else self.name_b

    def text(self, *, unit: str = "points", scale: float = 100.0) -> str:
        """One sentence: who wins, by how much, with the interval, or "not resolved"."""
        d, lo, hi = (scale * v for v in (self.diff, self.lower, self.upper))
        over = f"{self.n} items in {self.groups} seeds, seeds and items resampled" if self.groups else f"{self.n} items"
        span = f"{d:+.1f} {unit} ({100 * self.level:.0f} % CI [{lo:+.1f}, {hi:+.1f}], paired bootstrap over {over})"
        if not self.resolved:
            return f"{self.name_a} vs {self.name_b}: not resolved, {span}; the interval contains 0."
        better, worse = (self.name_a, self.name_b) if self.diff > 0 else (self.name_b, self.name_a)
        return f"{better} beats {worse}: {self.name_a} − {self.name_b} = {span}."


def compare(name_a: str, a: Sequence[float] | np.ndarray, name_b: str, b: Sequence[float] | np.ndarray, *,
            level: float = 0.95, seed: int = 0, show: bool = True, unit: str = "points",
            scale: float = 100.0, groups: Sequence[int] | np.ndarray | None = None) -> Comparison:
    """Compare two methods on paired per-item scores and print the verdict.

    Args:
        name_a, name_b: what the methods are called in the sentence.
        a, b: (n,) per-item scores (see :func:`paired_bootstrap`).
        level: coverage of the interval.
        seed: seed of the bootstrap.
        show: print the sentence.
        unit, scale: how the difference is written (default: percentage points of an accuracy).
        groups: (n,) the seed of each pair, for a two-level bootstrap (see :func:`paired_bootstrap`).

    Returns:
        A :class:`Comparison`.
    """
    diff, lo, hi = paired_bootstrap(a, b, level=level, seed=seed, groups=groups)
    a_arr, b_arr = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    cmp = Comparison(name_a, name_b, float(a_arr.mean()), float(b_arr.mean()), diff, lo, hi, level, a_arr.size,
                     0 if groups is None else len(np.unique(np.asarray(groups))))
    if show:
        print(cmp.text(unit=unit, scale=scale))
    return cmp


def _quoted(match: re.Match) -> tuple[float, float]:
    """(value in the recorded unit, rounding of the quote) of one quote: "89.5 %" → (0.895, 0.0005)."""
    text = match["text"].replace("−", "-").replace(",", "")
    decimals = len(text.split(".")[1]) if "." in text else 0
    scale = 100.0 if match["unit"] == "%" else 1.0
    return float(text) / scale, 0.5 * 10.0 ** -decimals / scale


def check_quotes(text: str, results: dict[str, tuple[float, float]], *, prefix: str = "") -> list[str]:
    """Every ``value<!--key-->`` quote in ``text`` whose key starts with ``prefix``, checked against ``results``.

    Returns:
        One line per quote that names an unknown key or differs from the run by more than the
        result's tolerance plus the quote's rounding; empty when all agree.
    """
    problems = []
    for m in QUOTE_PATTERN.finditer(text):
        if not m["key"].startswith(prefix):
            continue
        if m["key"] not in results:
            problems.append(f"{m['key']}: quoted as {m['text']}{m['unit'] or ''}, but the run printed no such RESULT")
            continue
        value, tol = results[m["key"]]
        quoted, rounding = _quoted(m)
        if not (math.isfinite(value) and abs(quoted - value) <= tol + rounding + 1e-12):
            problems.append(f"{m['key']}: quoted as {m['text']}{m['unit'] or ''}, the run printed {value!r} "
                            f"(tolerance {tol!r})")
    return problems


def update_quotes(text: str, results: dict[str, tuple[float, float]]) -> str:
    """``text`` with every quote of a key in ``results`` rewritten to the run's value.

    The quote keeps its decimals, its unit, its thousands separators, an explicit plus sign and its
    minus sign (− or -).
    """
    def repl(m: re.Match) -> str:
        if m["key"] not in results:
            return m.group(0)
        text_ = m["text"].replace("−", "-").replace(",", "")
        decimals = len(text_.split(".")[1]) if "." in text_ else 0
        value = results[m["key"]][0] * (100.0 if m["unit"] == "%" else 1.0)
        number = f"{value:{',' if ',' in m['text'] else ''}.{decimals}f}"
        unicode_minus = "−" in m["text"] or ("-" not in m["text"] and "−" in text)  # as the text writes it
        if unicode_minus:
            number = number.replace("-", "−")
        if m["text"].startswith("+") and value >= 0:
            number = "+" + number
        unit = f" {m['unit']}" if m["unit"] == "%" else (m["unit"] or "")
        return f"{number}{unit}<!--{m['key']}-->"
    return QUOTE_PATTERN.sub(repl, text)
