"""Lesson 14's checks probe the edges: mutants that refuse a minimum legal input or loosen a validation fail.

Each mutant is the reference with one change of the kind that survives weak checks: a refused minimal
input (a dataset of one case, a one-voxel case, a 2D or one-voxel patch, a bottleneck of 1, a tile as
large as the axis, a tile of one voxel, a
single voxel, lower == upper, std 0, masks of one voxel, masks that fill the volume, empty masks), or a
validation turned off (tables of the wrong width or length, a threshold of 0, patches and spacings of
different lengths or sizes <= 0, lower > upper, a negative
std, a tile larger than the axis, a step outside (0, 1], masks of different shapes, a spacing of the
wrong length, a label map taken for a mask, a connectivity out of range). Both the public cases
(``check`` in the notebook) and the hidden cases (official grading) must reject every one. Mutants that
raise where the reference returns cannot carry a misconception hint (hints name wrong values), so this
file is their bank of known-wrong solutions.
"""
import numpy as np
import torch

from course import metrics
from course.medical import planning
from support import edge_mutant_test, flatten_mutants, refuse


def _arg(i, name):
    """The argument at position i or keyword ``name`` of a call."""
    return lambda *args, **kwargs: args[i] if len(args) > i else kwargs.get(name)


def _array(x):
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)


def _spacing_any_table(spacings, shapes, *, anisotropy_threshold=3.0):  # widths, lengths and thresholds not checked
    spacings = np.atleast_2d(np.asarray(spacings, dtype=np.float64))
    shapes = np.atleast_2d(np.asarray(shapes, dtype=np.float64))
    n = min(len(spacings), len(shapes))
    spacings = np.pad(spacings[:n, :3], ((0, 0), (0, max(0, 3 - spacings.shape[1]))), constant_values=1.0)
    shapes = np.pad(shapes[:n, :3], ((0, 0), (0, max(0, 3 - shapes.shape[1]))), constant_values=1.0)
    spacings = np.where(spacings > 0, spacings, 1.0)
    return planning.target_spacing(spacings, shapes, anisotropy_threshold=max(anisotropy_threshold, 1e-3))


def _ct_any_bounds(volume, *, lower, upper, mean, std):  # lower > upper swapped, a negative std made positive
    lower, upper = min(lower, upper), max(lower, upper)
    return planning.ct_normalize(volume, lower=lower, upper=upper, mean=mean, std=abs(std))


def _starts_any_sizes(size, roi, step_size=0.5):  # a tile larger than the axis, roi 0 and odd steps accepted
    roi = max(1, min(roi, size))
    step_size = min(max(step_size, 1e-3), 1.0)
    return planning.evenly_spaced_starts(size, roi, step_size)


def _pool_any_sizes(patch_size, spacing, *, min_feature_map_size=4):  # lengths, sizes and the minimum not checked
    patch_size, spacing = list(patch_size)[:3], list(spacing)[:3]
    n = min(len(patch_size), len(spacing))
    patch_size = [max(float(p), 1.0) for p in patch_size[:n]] + [1.0] * max(0, 2 - n)
    spacing = [abs(float(s)) or 1.0 for s in spacing[:n]] + [1.0] * max(0, 2 - n)
    return planning.pooling_strides(patch_size, spacing, min_feature_map_size=max(int(min_feature_map_size), 1))


def _hd_any_masks(pred_mask, target_mask, *, spacing=(1.0, 1.0, 1.0)):  # shapes cropped, spacing fitted, labels > 0
    pred, target = _array(pred_mask) != 0, _array(target_mask) != 0
    common = tuple(min(a, b) for a, b in zip(pred.shape, target.shape))
    pred, target = pred[tuple(slice(0, c) for c in common)], target[tuple(slice(0, c) for c in common)]
    spacing = tuple(abs(float(s)) or 1.0 for s in list(spacing)[:pred.ndim]) + (1.0,) * max(0, pred.ndim - len(spacing))
    return metrics.hd95(pred, target, spacing=spacing)


def _f1_any_masks(pred_mask, target_mask, *, connectivity=1):  # shapes cropped, connectivity clamped
    pred, target = _array(pred_mask) != 0, _array(target_mask) != 0
    common = tuple(min(a, b) for a, b in zip(pred.shape, target.shape))
    pred, target = pred[tuple(slice(0, c) for c in common)], target[tuple(slice(0, c) for c in common)]
    return metrics.lesion_f1(pred, target, connectivity=min(max(connectivity, 1), pred.ndim))


_spacings, _shapes = _arg(0, "spacings"), _arg(1, "shapes")
_volume = _arg(0, "volume")
_patch = _arg(0, "patch_size")
_pred, _target = _arg(0, "pred_mask"), _arg(1, "target_mask")


def _kw(name, default=None):
    return lambda *args, **kwargs: kwargs.get(name, default)


MUTANTS = {
    "target_spacing": {
        "refuses a dataset of one case": refuse(lambda *a, **k: len(np.asarray(_spacings(*a, **k))) == 1,
                                                planning.target_spacing),
        "refuses a case of one voxel per axis": refuse(lambda *a, **k: np.asarray(_shapes(*a, **k)).min() == 1,
                                                       planning.target_spacing),
        "accepts tables of any width or length and any threshold": _spacing_any_table,
    },
    "ct_normalize": {
        "refuses a single voxel": refuse(lambda *a, **k: np.asarray(_volume(*a, **k)).size == 1, planning.ct_normalize),
        "refuses lower == upper": refuse(lambda *a, **k: k["lower"] == k["upper"], planning.ct_normalize),
        "refuses std 0": refuse(lambda *a, **k: k["std"] == 0, planning.ct_normalize),
        "swaps lower > upper and takes |std|": _ct_any_bounds,
    },
    "pooling_strides": {
        "refuses a 2D patch": refuse(lambda *a, **k: len(_patch(*a, **k)) == 2, planning.pooling_strides),
        "refuses a patch of one voxel": refuse(lambda *a, **k: max(_patch(*a, **k)) == 1, planning.pooling_strides),
        "refuses min_feature_map_size 1": refuse(lambda *a, **k: k.get("min_feature_map_size") == 1,
                                                 planning.pooling_strides),
        "accepts lengths that differ, sizes or spacings <= 0 and min_feature_map_size 0": _pool_any_sizes,
    },
    "evenly_spaced_starts": {
        "refuses a tile as large as the axis": refuse(lambda size, roi, step_size=0.5: roi == size,
                                                      planning.evenly_spaced_starts),
        "refuses tiles of one voxel": refuse(lambda size, roi, step_size=0.5: roi == 1, planning.evenly_spaced_starts),
        "refuses step_size 1": refuse(lambda size, roi, step_size=0.5: step_size == 1, planning.evenly_spaced_starts),
        "accepts a tile larger than the axis, roi 0 and steps outside (0, 1]": _starts_any_sizes,
    },
    "hd95": {
        "refuses masks of one voxel": refuse(lambda *a, **k: int((_array(_pred(*a, **k)) != 0).sum()) == 1,
                                             metrics.hd95),
        "refuses masks that fill the volume": refuse(lambda *a, **k: bool((_array(_target(*a, **k)) != 0).all()),
                                                     metrics.hd95),
        "accepts different shapes, a spacing of the wrong length or 0, and label maps": _hd_any_masks,
    },
    "lesion_f1": {
        "refuses an empty prediction": refuse(lambda *a, **k: not (_array(_pred(*a, **k)) != 0).any(), metrics.lesion_f1),
        "refuses an empty target": refuse(lambda *a, **k: not (_array(_target(*a, **k)) != 0).any(), metrics.lesion_f1),
        "refuses a 1×1×1 volume": refuse(lambda *a, **k: _array(_pred(*a, **k)).size == 1, metrics.lesion_f1),
        "accepts different shapes and a connectivity out of range": _f1_any_masks,
    },
}

test_edge_mutants_are_rejected = edge_mutant_test(flatten_mutants(MUTANTS))
