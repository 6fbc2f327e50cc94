"""Lessons 10 and 11: small wrong versions of the solutions that change only input validation.

Each mutant refuses a minimum legal value (or accepts bad input) and is otherwise the reference. It
raises where the reference returns, so no misconception hint can name it (hints compare returned
values); the check must still reject it, on the public cases and on hidden ones.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.exercises import find_exercise
from autograder.student.check import evaluate
from course import losses, metrics, patches
from course.medical import nifti, normalize


def _refusing(reference, refuse):  # noqa: ANN001, ANN202
    """The reference, except that it raises ValueError whenever ``refuse(*args, **kwargs)`` is true."""
    def mutant(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if refuse(*args, **kwargs):
            raise ValueError("refused")
        return reference(*args, **kwargs)
    return mutant


def _size(x) -> int:  # noqa: ANN001
    return int(np.asarray(x).size)


MUTANTS = {
    # lesson 10
    "voxel_to_world": {
        "refuses a single (1, 3) index": _refusing(nifti.voxel_to_world, lambda a, ijk: np.ndim(ijk) == 2 and len(ijk) < 2),
        "refuses a list": _refusing(nifti.voxel_to_world, lambda a, ijk: not isinstance(ijk, np.ndarray)),
    },
    "voxel_spacing": {
        "refuses voxels under 0.01 mm": _refusing(
            nifti.voxel_spacing, lambda a: np.sqrt((np.asarray(a, float)[:3, :3] ** 2).sum(0)).min() < 0.01),
    },
    "axcodes": {
        "refuses voxels under 0.01 mm": _refusing(
            nifti.axcodes, lambda a: np.abs(np.asarray(a, float)[:3, :3]).max() < 0.01),
    },
    "reorient": {
        "refuses an axis of size 1": _refusing(nifti.reorient, lambda d, a, t="RAS": min(np.shape(d)[:3]) < 2),
    },
    "zscore": {
        "refuses a mask of 2 voxels (needs 3)": _refusing(
            normalize.zscore, lambda v, m=None: m is not None and np.asarray(m).shape == np.shape(v)
            and np.asarray(m, bool).sum() < 3),
        "refuses a 1D volume": _refusing(normalize.zscore, lambda v, m=None: np.ndim(v) < 2),
    },
    # lesson 11
    "window_starts": {
        "refuses roi 1 (roi <= 1)": _refusing(patches.window_starts, lambda size, roi, overlap: roi <= 1),
        "refuses overlap 0 (overlap <= 0)": _refusing(patches.window_starts, lambda size, roi, overlap: overlap <= 0),
        "refuses size 1": _refusing(patches.window_starts, lambda size, roi, overlap: size <= 1),
        "refuses size == roi": _refusing(patches.window_starts, lambda size, roi, overlap: size == roi),
    },
    "gaussian_importance_map": {
        "refuses a size of 1": _refusing(patches.gaussian_importance_map, lambda roi, s=0.125: min(roi) <= 1),
        "refuses a 1D window": _refusing(patches.gaussian_importance_map, lambda roi, s=0.125: len(roi) < 2),
    },
    "stitch": {
        "refuses a window as large as the output": _refusing(
            patches.stitch, lambda p, c, size, w: tuple(p.shape[2:]) == tuple(size)),
        "refuses windows of one voxel": _refusing(patches.stitch, lambda p, c, size, w: min(p.shape[2:]) < 2),
    },
    "dice": {
        "refuses num_classes 1": _refusing(metrics.dice, lambda p, t, c, **k: c < 2),
        "refuses a single voxel": _refusing(metrics.dice, lambda p, t, c, **k: p.numel() < 2),
    },
    "dice_loss": {
        "refuses one voxel": _refusing(losses.dice_loss, lambda x, y, **k: x[0, 0].numel() < 2),
        "refuses smooth 0": _refusing(losses.dice_loss, lambda x, y, **k: k.get("smooth", 1e-5) <= 0),
        "refuses one class left without background": _refusing(
            losses.dice_loss, lambda x, y, **k: not k.get("include_background", True) and x.shape[1] < 3),
    },
    "sample_patches": {
        "refuses a patch as large as the volume": _refusing(
            patches.sample_patches, lambda v, l, ps, n, **k: any(p >= s for p, s in zip(ps, v.shape[1:]))),
        "refuses num_patches 0": _refusing(patches.sample_patches, lambda v, l, ps, n, **k: n < 1),
        "refuses foreground_ratio 0": _refusing(
            patches.sample_patches, lambda v, l, ps, n, **k: k.get("foreground_ratio", 0.5) <= 0),
        "refuses patches of one voxel": _refusing(patches.sample_patches, lambda v, l, ps, n, **k: min(ps) < 2),
    },
}
CASES = [(name, label, fn) for name, mutants in MUTANTS.items() for label, fn in mutants.items()]


@pytest.mark.parametrize("name, label, mutant", CASES, ids=[f"{n}-{label}" for n, label, _ in CASES])
@pytest.mark.parametrize("seed", [None, 11])
def test_mutant_that_refuses_a_legal_edge_is_rejected(name, label, mutant, seed):
    ex = find_exercise(name)
    verdict = evaluate(ex, mutant, ex.cases(seed))
    assert not verdict.ok, f"{name}: the mutant that {label} passes every {'public' if seed is None else 'hidden'} case"
    assert "refused" in verdict.reason


@pytest.mark.parametrize("name", list(MUTANTS))
def test_reference_passes_the_edges(name):
    ex = find_exercise(name)
    for seed in (None, 11):
        assert evaluate(ex, ex.load_reference(), ex.cases(seed)).ok
