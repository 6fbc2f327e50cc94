"""Graded exercises of lesson 14_nnunet_monai: nnU-Net's target spacing (with its anisotropy rule),
its CT normalization, its pooling strides, its evenly spaced sliding-window starts, and two evaluation
metrics: the 95th-percentile Hausdorff distance (MONAI's definition) and lesion-wise F1."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import ndimage

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "14_nnunet_monai"

_ex = exercise_maker(ASSIGNMENT)


# --- target_spacing -------------------------------------------------------------------------------------------------
def _table(rows) -> np.ndarray:  # noqa: ANN001
    return np.asarray(rows, dtype=np.float64)


def _anisotropic(rng: np.random.Generator, n: int, axis: int, fine: float, coarse: tuple[float, float],
                 size: int, slices: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """n cases whose ``axis`` is coarse (spacing in ``coarse``, few slices) and the other two fine."""
    spacings = np.full((n, 3), fine) * rng.uniform(0.9, 1.1, size=(n, 1))
    spacings[:, axis] = rng.choice(np.arange(coarse[0], coarse[1] + 0.01, 0.5), size=n)
    shapes = np.full((n, 3), size) + rng.integers(-20, 20, size=(n, 3))
    shapes[:, axis] = rng.integers(slices[0], slices[1] + 1, size=n)
    return spacings, shapes.astype(np.float64)


def _spacing_cases(rng: np.random.Generator) -> list[Case]:
    # an isotropic-ish dataset whose spacings are skewed (a mean is pulled up by one coarse case)
    skewed = _table([[1.0, 0.8, 0.8], [1.2, 0.7, 0.7], [1.1, 0.75, 0.75], [4.0, 2.0, 2.0]])
    skewed_shapes = _table([[200, 256, 256], [180, 300, 300], [190, 280, 280], [60, 120, 120]])
    # ACDC-like: 5-10 mm slices, ~1.5 mm in-plane, ~10 slices of ~200 x 200
    acdc = _table([[10.0, 1.5, 1.5], [5.0, 1.4, 1.4], [10.0, 1.6, 1.6], [6.5, 1.5, 1.5], [10.0, 1.3, 1.3]])
    acdc_shapes = _table([[9, 220, 200], [18, 210, 190], [10, 230, 210], [14, 200, 200], [8, 240, 220]])
    # coarse slices but MANY of them: anisotropic spacing, not anisotropic voxels
    many = _table([[5.0, 0.7, 0.7], [5.0, 0.8, 0.8], [3.0, 0.7, 0.7]])
    many_shapes = _table([[300, 512, 512], [250, 512, 512], [400, 512, 512]])
    # the 10th percentile of the coarse axis is finer than the in-plane spacing: floor + 1e-5 mm
    floor = _table([[2.0, 2.1, 7.0], [2.2, 1.9, 0.5], [1.8, 2.3, 9.0], [2.1, 2.0, 8.0], [1.9, 2.2, 0.6]])
    floor_shapes = _table([[300, 300, 20], [300, 300, 200], [300, 300, 15], [300, 300, 18], [300, 300, 22]])
    cases = [Case((many, many_shapes), note="5 mm slices but hundreds of them: coarse spacing, not few voxels"),
             Case((acdc, acdc_shapes), note="ACDC-like: 5-10 mm slices, ~10 slices of ~1.5 mm pixels (anisotropic)"),
             Case((skewed, skewed_shapes), note="four nearly isotropic cases, one of them coarse: the median resists it"),
             Case((floor, floor_shapes), note="coarse last axis whose 10th percentile is finer than the other axes"),
             Case((acdc, acdc_shapes), {"anisotropy_threshold": 10.0}, note="the ACDC-like set with threshold 10")]
    for axis in (0, 1, 2):
        n = int(rng.integers(4, 9))
        spacings, shapes = _anisotropic(rng, n, axis, float(rng.uniform(0.6, 1.6)), (4.0, 8.0), 256, (10, 40))
        cases.append(Case((spacings, shapes), note=f"{n} cases, coarse axis {axis}"))
    n = int(rng.integers(3, 8))
    cases.append(Case((rng.uniform(0.5, 2.0, size=(n, 3)), rng.integers(50, 300, size=(n, 3)).astype(np.float64)),
                      note=f"{n} random nearly isotropic cases"))
    # the smallest legal inputs: one case, one voxel per axis
    cases += [Case((_table([[3.0, 0.8, 0.8]]), _table([[40, 512, 512]])), note="a single case (anisotropic)"),
              Case((_table([[1.0, 1.0, 1.0]]), _table([[1, 1, 1]])), note="a single case of one voxel"),
              Case((_table([[2.0, 1.0, 1.0], [6.0, 1.0, 1.0]]), _table([[30, 200, 200], [20, 200, 200]])),
                   note="two cases: the median is their mean, the 10th percentile interpolates")]
    cases.append(Case((_table([[1.0, 1.0]]), _table([[10, 10]])), raises=ValueError, note="(N, 2) instead of (N, 3)"))
    cases.append(Case((acdc, acdc_shapes[:3]), raises=ValueError, note="5 spacings but 3 shapes"))
    cases.append(Case((_table([[1.0, 0.0, 1.0]]), _table([[10, 10, 10]])), raises=ValueError, note="a spacing of 0 mm"))
    cases.append(Case((acdc, acdc_shapes), {"anisotropy_threshold": 0.0}, raises=ValueError,
                      note="anisotropy_threshold 0"))
    return cases


def _spacing_checked(spacings, shapes, anisotropy_threshold):  # noqa: ANN001, ANN202
    spacings, shapes = np.asarray(spacings, dtype=np.float64), np.asarray(shapes, dtype=np.float64)
    if spacings.ndim != 2 or spacings.shape[1] != 3 or shapes.shape != spacings.shape or np.any(spacings <= 0) \
            or np.any(shapes < 1) or not anisotropy_threshold > 0:
        raise ValueError("bad tables")
    return spacings, shapes


def _spacing_rule(spacings, shapes, anisotropy_threshold, centre, reversed_voxels=False, floor=True):  # noqa: ANN001, ANN202
    target, size = centre(spacings), np.percentile(shapes, 50, axis=0)
    worst = int(np.argmax(target))
    others = [a for a in range(3) if a != worst]
    few = size[worst] * anisotropy_threshold > min(size[others]) if reversed_voxels else \
        size[worst] * anisotropy_threshold < min(size[others])
    if target[worst] > anisotropy_threshold * max(target[others]) and few:
        finer = np.percentile(spacings[:, worst], 10)
        target[worst] = finer if finer >= max(target[others]) or not floor else max(target[others]) + 1e-5
    return target


def _spacing_mean(spacings, shapes, *, anisotropy_threshold=3.0):  # noqa: ANN001, ANN202
    spacings, shapes = _spacing_checked(spacings, shapes, anisotropy_threshold)
    return _spacing_rule(spacings, shapes, anisotropy_threshold, lambda s: s.mean(axis=0))


def _spacing_no_anisotropy_rule(spacings, shapes, *, anisotropy_threshold=3.0):  # noqa: ANN001, ANN202
    spacings, shapes = _spacing_checked(spacings, shapes, anisotropy_threshold)
    return np.percentile(spacings, 50, axis=0)


def _spacing_percentile_every_axis(spacings, shapes, *, anisotropy_threshold=3.0):  # noqa: ANN001, ANN202
    spacings, shapes = _spacing_checked(spacings, shapes, anisotropy_threshold)
    target = np.percentile(spacings, 50, axis=0)
    size = np.percentile(shapes, 50, axis=0)
    worst = int(np.argmax(target))
    others = [a for a in range(3) if a != worst]
    if target[worst] > anisotropy_threshold * max(target[others]) and size[worst] * anisotropy_threshold < \
            min(size[others]):
        return np.maximum(np.percentile(spacings, 10, axis=0), 0.0)
    return target


def _spacing_voxels_reversed(spacings, shapes, *, anisotropy_threshold=3.0):  # noqa: ANN001, ANN202
    spacings, shapes = _spacing_checked(spacings, shapes, anisotropy_threshold)
    return _spacing_rule(spacings, shapes, anisotropy_threshold, lambda s: np.percentile(s, 50, axis=0),
                         reversed_voxels=True)


def _spacing_no_floor(spacings, shapes, *, anisotropy_threshold=3.0):  # noqa: ANN001, ANN202
    spacings, shapes = _spacing_checked(spacings, shapes, anisotropy_threshold)
    return _spacing_rule(spacings, shapes, anisotropy_threshold, lambda s: np.percentile(s, 50, axis=0), floor=False)


# --- ct_normalize ---------------------------------------------------------------------------------------------------
def _hu(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """A float32 volume of HU-like values: air, soft tissue and bone."""
    tissue = rng.choice([-1000.0, -80.0, 40.0, 60.0, 700.0, 1500.0], size=shape, p=[0.3, 0.1, 0.25, 0.2, 0.1, 0.05])
    return (tissue + rng.normal(0, 25, size=shape)).astype(np.float32)


def _ct_cases(rng: np.random.Generator) -> list[Case]:
    stats = {"lower": -150.0, "upper": 1300.0, "mean": 210.0, "std": 380.0}
    cases = [Case((_hu(rng, 6, 7, 8),), stats, note="a (6, 7, 8) HU volume, bone-window statistics"),
             Case((_hu(rng, 5, 9, 4),), {"lower": -50.0, "upper": 120.0, "mean": 42.0, "std": 18.5},
                  note="soft-tissue statistics: most voxels are clipped"),
             Case((_hu(rng, 3, 4, 5).astype(np.int16),), stats, note="int16 HU (as stored in DICOM): float32 out"),
             Case((_hu(rng, 8, 8),), stats, note="a 2D slice")]
    for _ in range(2):
        shape = tuple(int(v) for v in rng.integers(2, 9, size=3))
        lower = float(rng.uniform(-1000, 0))
        upper = lower + float(rng.uniform(100, 2000))
        cases.append(Case((_hu(rng, *shape),), {"lower": lower, "upper": upper, "mean": float(rng.uniform(lower, upper)),
                                                "std": float(rng.uniform(10, 500))}, note=f"volume {shape}"))
    # the smallest legal values: one voxel, lower == upper, std 0 (divide by 1e-8)
    cases += [Case((np.array([[[35.0]]], dtype=np.float32),), stats, note="a single voxel"),
              Case((_hu(rng, 3, 3, 3),), {"lower": 40.0, "upper": 40.0, "mean": 40.0, "std": 0.0},
                   note="lower == upper == mean and std 0: every voxel becomes 0"),
              Case((_hu(rng, 2, 3, 4),), {"lower": -100.0, "upper": 100.0, "mean": 0.0, "std": 0.5},
                   note="std below 1: values grow")]
    cases.append(Case((_hu(rng, 3, 3, 3),), {"lower": 100.0, "upper": -100.0, "mean": 0.0, "std": 1.0},
                      raises=ValueError, note="lower > upper"))
    cases.append(Case((_hu(rng, 3, 3, 3),), {"lower": -100.0, "upper": 100.0, "mean": 0.0, "std": -1.0},
                      raises=ValueError, note="a negative std"))
    return cases


def _ct_checked(volume, lower, upper, std):  # noqa: ANN001, ANN202
    if lower > upper or std < 0:
        raise ValueError("need lower <= upper and std >= 0")
    return np.asarray(volume).astype(np.float32)


def _ct_zscore_first(volume, *, lower, upper, mean, std):  # noqa: ANN001, ANN202
    out = _ct_checked(volume, lower, upper, std)
    return np.clip((out - mean) / max(std, 1e-8), lower, upper).astype(np.float32)


def _ct_minmax(volume, *, lower, upper, mean, std):  # noqa: ANN001, ANN202
    out = np.clip(_ct_checked(volume, lower, upper, std), lower, upper)
    return ((out - lower) / max(upper - lower, 1e-8)).astype(np.float32)


def _ct_volume_std(volume, *, lower, upper, mean, std):  # noqa: ANN001, ANN202
    out = np.clip(_ct_checked(volume, lower, upper, std), lower, upper)
    return ((out - out.mean()) / max(float(out.std()), 1e-8)).astype(np.float32)


def _ct_own_percentiles(volume, *, lower, upper, mean, std):  # noqa: ANN001, ANN202
    out = _ct_checked(volume, lower, upper, std)
    low, high = np.percentile(out, [1, 99])
    return ((np.clip(out, low, high) - mean) / max(std, 1e-8)).astype(np.float32)


def _ct_no_epsilon(volume, *, lower, upper, mean, std):  # noqa: ANN001, ANN202
    out = np.clip(_ct_checked(volume, lower, upper, std), lower, upper)
    with np.errstate(all="ignore"):
        return ((out - mean) / np.float32(std)).astype(np.float32)


# --- evenly_spaced_starts -------------------------------------------------------------------------------------------
# --- pooling_strides ------------------------------------------------------------------------------------------------
def _pool_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(((128, 128, 128), (1.0, 1.0, 1.0)), note="128³ at 1 mm: five poolings, down to 4 voxels"),
             Case(((20, 256, 224), (5.0, 0.8, 0.8)), note="anisotropic: 5 mm slices, 0.8 mm pixels"),
             Case(((40, 192, 160), (3.0, 0.75, 0.75)), note="anisotropic: the slices join once the pixels reach 1.5 mm"),
             Case(((64, 64, 64), (2.0, 1.0, 1.0)), note="a coarse axis exactly 2x the others waits one stage"),
             Case(((80, 80, 80), (1.0, 1.0, 1.0)), note="80 voxels: pooling stops at 5 (5 < 8)"),
             Case(((112, 96, 56), (1.0, 1.0, 1.0)), note="stops at 7, 6 and 7 voxels"),
             Case(((37, 53, 29), (1.2, 0.9, 1.1)), note="odd sizes: halving rounds up"),
             Case(((8, 8, 40), (1.0, 1.0, 1.0)), note="one axis left to pool: only while it has >= 12 voxels"),
             Case(((45.5, 256.0, 256.0), (3.6, 0.7, 0.7)), note="a median shape with a half voxel"),
             Case(((256, 224), (1.0, 1.0)), note="a 2D patch"),
             Case(((1, 1, 1), (1.0, 1.0, 1.0)), note="a patch of one voxel: no pooling, only stage 0"),
             Case(((7, 7, 7), (1.0, 1.0, 1.0)), note="7 voxels per axis: too small to pool"),
             Case(((64, 64, 64), (1.0, 1.0, 1.0)), {"min_feature_map_size": 2}, note="min_feature_map_size 2"),
             Case(((16, 16, 16), (1.0, 1.0, 1.0)), {"min_feature_map_size": 1}, note="min_feature_map_size 1")]
    for _ in range(3):
        fine = float(rng.uniform(0.5, 1.5))
        coarse_axis = int(rng.integers(0, 3))
        spacing = [fine * float(rng.uniform(0.9, 1.1)) for _ in range(3)]
        spacing[coarse_axis] = fine * float(rng.choice([1.5, 2.0, 3.0, 4.0, 6.0]))
        size = [int(rng.integers(24, 300)) for _ in range(3)]
        size[coarse_axis] = int(rng.integers(8, 80))
        cases.append(Case((tuple(size), tuple(spacing)), note=f"random patch {tuple(size)}, coarse axis {coarse_axis}"))
    cases += [Case(((64, 64), (1.0, 1.0, 1.0)), raises=ValueError, note="a 2D patch with a 3D spacing"),
              Case(((64, 64, 64, 64), (1.0,) * 4), raises=ValueError, note="a 4D patch"),
              Case(((64, 0, 64), (1.0, 1.0, 1.0)), raises=ValueError, note="a size of 0"),
              Case(((64, 64, 64), (1.0, -1.0, 1.0)), raises=ValueError, note="a negative spacing"),
              Case(((64, 64, 64), (1.0, 1.0, 1.0)), {"min_feature_map_size": 0}, raises=ValueError,
                   note="min_feature_map_size 0")]
    return cases


def _pool_validated(patch_size, spacing, min_feature_map_size):  # noqa: ANN001, ANN202
    size, current = [float(p) for p in patch_size], [float(s) for s in spacing]
    if len(size) not in (2, 3) or len(current) != len(size) or not all(math.isfinite(v) and v > 0 for v in size + current) \
            or isinstance(min_feature_map_size, bool) or int(min_feature_map_size) != min_feature_map_size \
            or min_feature_map_size < 1:
        raise ValueError("bad patch, spacing or min_feature_map_size")
    return size, current, int(min_feature_map_size)


def _pool_rule(patch_size, spacing, min_feature_map_size, *, least=2, use_spacing=True, at_two=False,  # noqa: ANN001, ANN202
               strict=False, stage0=True):
    size, current, m = _pool_validated(patch_size, spacing, min_feature_map_size)
    strides = [[1] * len(size)]
    while len(strides) <= 64:  # halving "while >= 1 voxel" never stops (ceil(1 / 2) = 1): cap the wrong rules
        axes = [a for a in range(len(size)) if (size[a] > least * m if strict else size[a] >= least * m)]
        if not axes:
            break
        if use_spacing:
            finest = min(current[a] for a in axes)
            axes = [a for a in axes if (current[a] / finest <= 2 if at_two else current[a] / finest < 2)]
        if len(axes) == 1 and size[axes[0]] < 3 * m:
            break
        strides.append([2 if a in axes else 1 for a in range(len(size))])
        for a in axes:
            current[a], size[a] = current[a] * 2, math.ceil(size[a] / 2)
    return strides if stage0 else strides[1:]


def _pool_below_four(patch_size, spacing, *, min_feature_map_size=4):  # noqa: ANN001, ANN202
    return _pool_rule(patch_size, spacing, min_feature_map_size, least=1)


def _pool_ignore_spacing(patch_size, spacing, *, min_feature_map_size=4):  # noqa: ANN001, ANN202
    return _pool_rule(patch_size, spacing, min_feature_map_size, use_spacing=False)


def _pool_coarse_early(patch_size, spacing, *, min_feature_map_size=4):  # noqa: ANN001, ANN202
    return _pool_rule(patch_size, spacing, min_feature_map_size, at_two=True)


def _pool_strict(patch_size, spacing, *, min_feature_map_size=4):  # noqa: ANN001, ANN202
    return _pool_rule(patch_size, spacing, min_feature_map_size, strict=True)


def _pool_no_stage0(patch_size, spacing, *, min_feature_map_size=4):  # noqa: ANN001, ANN202
    return _pool_rule(patch_size, spacing, min_feature_map_size, stage0=False)


def _starts_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((23, 10, 0.5), note="23 voxels, tiles of 10: 4 tiles 13/3 voxels apart"),
             Case((13, 4, 0.6), note="13 voxels, tiles of 4, step 0.6: starts 0, 2.25, 4.5, 6.75, 9 rounded"),
             Case((100, 40), note="100 voxels, tiles of 40, step 0.5: 4 tiles spread evenly"),
             Case((11, 4, 0.5), note="11 voxels, tiles of 4: the even spread rounds"),
             Case((10, 4, 0.5), note="10 voxels, tiles of 4: the steps land on the edge"),
             Case((37, 8, 0.25), note="37 voxels, tiles of 8, step 0.25 (overlap 0.75)"),
             Case((50, 20, 1.0), note="step 1 (no planned overlap): 3 tiles still spread evenly")]
    for _ in range(4):
        roi = int(rng.integers(2, 20))
        size = int(rng.integers(roi + 1, 120))
        step = float(rng.choice([0.25, 0.5, 0.75, 1.0, 0.33]))
        cases.append(Case((size, roi, step), note=f"{size} voxels, tiles of {roi}, step {step}"))
    # the smallest legal values: a tile as large as the axis, tiles of one voxel, an axis of one voxel
    cases += [Case((16, 16, 0.5), note="one tile exactly as large as the axis"),
              Case((5, 1, 1.0), note="tiles of one voxel, step 1"),
              Case((1, 1, 0.5), note="an axis of one voxel and a tile of one"),
              Case((9, 8, 0.5), note="an axis one voxel longer than the tile")]
    cases.append(Case((8, 10, 0.5), raises=ValueError, note="a tile larger than the axis (pad first)"))
    cases.append(Case((10, 4, 0.0), raises=ValueError, note="step_size 0 (the tile would never move)"))
    cases.append(Case((10, 4, 1.5), raises=ValueError, note="step_size above 1 (gaps between tiles)"))
    cases.append(Case((10, 0, 0.5), raises=ValueError, note="roi 0"))
    return cases


def _starts_checked(size, roi, step_size):  # noqa: ANN001, ANN202
    if roi < 1 or roi > size or not 0 < step_size <= 1:
        raise ValueError("need 1 <= roi <= size and 0 < step_size <= 1")


def _starts_last_window(size, roi, step_size=0.5):  # noqa: ANN001, ANN202
    _starts_checked(size, roi, step_size)
    if size <= roi:
        return [0]
    interval = max(int(roi * step_size), 1)
    return list(range(0, size - roi, interval)) + [size - roi]


def _starts_rounded(size, roi, step_size, rounding):  # noqa: ANN001, ANN202
    """nnU-Net's count and step, each start rounded by ``rounding`` instead of to the nearest voxel."""
    _starts_checked(size, roi, step_size)
    num = math.ceil((size - roi) / (roi * step_size)) + 1
    step = (size - roi) / (num - 1) if num > 1 else 0
    return [int(rounding(step * i)) for i in range(num)]


def _starts_ceil(size, roi, step_size=0.5):  # noqa: ANN001, ANN202
    return _starts_rounded(size, roi, step_size, math.ceil)


def _starts_floor(size, roi, step_size=0.5):  # noqa: ANN001, ANN202
    return _starts_rounded(size, roi, step_size, math.floor)


def _starts_count_on_size(size, roi, step_size=0.5):  # noqa: ANN001, ANN202
    _starts_checked(size, roi, step_size)
    num = math.ceil(size / (roi * step_size))
    step = (size - roi) / (num - 1) if num > 1 else 0
    return [int(np.round(step * i)) for i in range(num)]


def _starts_python_round(size, roi, step_size=0.5):  # noqa: ANN001, ANN202
    return _starts_rounded(size, roi, step_size, lambda x: math.floor(x + 0.5))


# --- hd95 -----------------------------------------------------------------------------------------------------------
def _ball(shape: tuple[int, ...], centre: tuple[float, ...], radius: tuple[float, ...]) -> np.ndarray:
    """A bool ellipsoid of the given radii (voxels) in an array of ``shape``."""
    grid = np.indices(shape, dtype=np.float64)
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radius)) <= 1.0


def _hd_cases(rng: np.random.Generator) -> list[Case]:
    shape = (14, 16, 15)
    target = _ball(shape, (7, 8, 7), (4.5, 5, 4))
    shifted = _ball(shape, (8, 9, 7), (4.5, 5, 4))
    inner = _ball(shape, (7, 8, 7), (2.5, 3, 2))
    with_outlier = target.copy()
    with_outlier[0, 0, 0] = with_outlier[13, 15, 14] = True  # two stray voxels far from the target
    speckle = target.copy()
    speckle[rng.random(shape) < 0.02] = True
    part_a = _ball((12, 14, 13), (6.3, 6.4, 7.9), (2.2, 3.5, 4.2))
    part_b = _ball((12, 14, 13), (4.7, 5.5, 4.25), (3.3, 1.7, 2.5))
    cases = [Case((part_a, part_b), {"spacing": (2.0, 1.0, 0.75)},
                  note="two ellipsoids that overlap in part, 2 x 1 x 0.75 mm voxels"),
             Case((with_outlier, target), note="a prediction with two stray voxels in the corners"),
             Case((inner, target), note="a prediction inside the target: the two directions differ"),
             Case((shifted, target), {"spacing": (3.0, 0.8, 0.8)}, note="shifted by one voxel, 3 mm slices"),
             Case((torch.from_numpy(speckle), torch.from_numpy(target)), {"spacing": (1.5, 1.0, 1.0)},
                  note="speckled false positives (tensors)"),
             Case((target, target), note="a perfect prediction: 0 mm"),
             Case((_ball((20, 18), (9, 9), (6, 5)), _ball((20, 18), (11, 8), (4, 6))), {"spacing": (0.7, 1.3)},
                  note="2D masks with a 2D spacing")]
    for _ in range(2):
        size = tuple(int(v) for v in rng.integers(10, 18, size=3))
        a = _ball(size, tuple(float(v) for v in rng.uniform(4, 6, 3)), tuple(float(v) for v in rng.uniform(2, 4, 3)))
        b = _ball(size, tuple(float(v) for v in rng.uniform(4, 6, 3)), tuple(float(v) for v in rng.uniform(2, 4, 3)))
        b[tuple(int(rng.integers(0, s)) for s in size)] = True
        spacing = tuple(float(v) for v in rng.choice([0.5, 1.0, 2.5], size=3))
        cases.append(Case((a.astype(np.uint8), b.astype(np.uint8)), {"spacing": spacing},
                          note=f"two ellipsoids in {size}, 0/1 uint8 masks, spacing {spacing}"))
    # the smallest legal inputs: single voxels, a mask filling the whole volume
    one, other = np.zeros((5, 5, 5), bool), np.zeros((5, 5, 5), bool)
    one[1, 1, 1], other[3, 1, 4] = True, True
    cases += [Case((one, other), {"spacing": (2.0, 1.0, 0.5)}, note="one voxel each, 2 x 1 x 0.5 mm voxels"),
              Case((np.ones((3, 4, 3), bool), target[:3, :4, :3] | True), note="both masks fill the whole volume"),
              Case((np.ones((1, 1, 1), bool), np.ones((1, 1, 1), bool)), note="a 1 x 1 x 1 volume")]
    cases.append(Case((target, target[:, :, :10]), raises=ValueError, note="masks of different shapes"))
    cases.append(Case((target, target), {"spacing": (1.0, 1.0)}, raises=ValueError, note="2 spacings for a 3D mask"))
    cases.append(Case((target, target), {"spacing": (1.0, 0.0, 1.0)}, raises=ValueError, note="a spacing of 0 mm"))
    cases.append(Case((target.astype(np.int64) * 2, target), raises=ValueError, note="a label map (values 0 and 2)"))
    return cases


def _hd_prepare(pred_mask, target_mask, spacing):  # noqa: ANN001, ANN202
    pred = np.asarray(pred_mask)
    target = np.asarray(target_mask)
    if pred.shape != target.shape or len(spacing) != pred.ndim or min(spacing) <= 0 or \
            not np.isin(pred, (0, 1)).all() or not np.isin(target, (0, 1)).all():
        raise ValueError("bad masks or spacing")
    return pred.astype(bool), target.astype(bool)


def _hd_distances(pred, target, spacing, surfaces=True):  # noqa: ANN001, ANN202
    if surfaces:
        pred, target = pred & ~ndimage.binary_erosion(pred), target & ~ndimage.binary_erosion(target)
    to_target = ndimage.distance_transform_edt(~target, sampling=spacing)[pred]
    to_pred = ndimage.distance_transform_edt(~pred, sampling=spacing)[target]
    return to_target, to_pred


def _hd_max(pred_mask, target_mask, *, spacing=(1.0, 1.0, 1.0)):  # noqa: ANN001, ANN202
    a, b = _hd_distances(*_hd_prepare(pred_mask, target_mask, spacing), spacing)
    return float(max(a.max(), b.max()))


def _hd_one_direction(pred_mask, target_mask, *, spacing=(1.0, 1.0, 1.0)):  # noqa: ANN001, ANN202
    a, _ = _hd_distances(*_hd_prepare(pred_mask, target_mask, spacing), spacing)
    return float(np.percentile(a, 95))


def _hd_spacing_ignored(pred_mask, target_mask, *, spacing=(1.0, 1.0, 1.0)):  # noqa: ANN001, ANN202
    pred, target = _hd_prepare(pred_mask, target_mask, spacing)
    a, b = _hd_distances(pred, target, None)
    return float(max(np.percentile(a, 95), np.percentile(b, 95)))


def _hd_voxels(pred_mask, target_mask, *, spacing=(1.0, 1.0, 1.0)):  # noqa: ANN001, ANN202
    a, b = _hd_distances(*_hd_prepare(pred_mask, target_mask, spacing), spacing, surfaces=False)
    return float(max(np.percentile(a, 95), np.percentile(b, 95)))


def _hd_to_mask(pred_mask, target_mask, *, spacing=(1.0, 1.0, 1.0)):  # noqa: ANN001, ANN202
    pred, target = _hd_prepare(pred_mask, target_mask, spacing)
    sampling = np.asarray(spacing, dtype=np.float64)
    if not pred.any() or not target.any():
        return float("nan") if not pred.any() and not target.any() else float("inf")
    surface = lambda m: m & ~ndimage.binary_erosion(m)  # noqa: E731
    a = ndimage.distance_transform_edt(~target, sampling=sampling)[surface(pred)]
    b = ndimage.distance_transform_edt(~pred, sampling=sampling)[surface(target)]
    return float(max(np.percentile(a, 95), np.percentile(b, 95)))


def _hd_pooled(pred_mask, target_mask, *, spacing=(1.0, 1.0, 1.0)):  # noqa: ANN001, ANN202
    a, b = _hd_distances(*_hd_prepare(pred_mask, target_mask, spacing), spacing)
    return float(np.percentile(np.concatenate([a, b]), 95))


# --- lesion_f1 ------------------------------------------------------------------------------------------------------
def _blobs(rng: np.random.Generator, shape: tuple[int, ...], count: int) -> np.ndarray:
    """A bool mask of ``count`` small boxes at random places (they may touch or merge)."""
    mask = np.zeros(shape, bool)
    for _ in range(count):
        corner = [int(rng.integers(0, s - 1)) for s in shape]
        size = [int(rng.integers(1, 3)) for _ in shape]
        mask[tuple(slice(c, c + z) for c, z in zip(corner, size))] = True
    return mask


def _f1_cases(rng: np.random.Generator) -> list[Case]:
    target = np.zeros((8, 10, 10), bool)
    target[1:3, 1:3, 1:3] = target[5:7, 6:8, 6:8] = target[2, 7, 2] = True  # three lesions
    pred = np.zeros_like(target)
    pred[2:4, 2:4, 2:4] = True  # finds lesion 1
    pred[6, 1, 8] = pred[0, 9, 0] = pred[7, 0, 0] = True  # three false alarms
    pred[5, 6, 6] = pred[6, 7, 7] = True  # two components (they touch at a corner only) inside lesion 2
    diagonal = np.zeros((6, 6, 6), bool)
    diagonal[1, 1, 1] = diagonal[2, 2, 2] = True  # two voxels that touch at a corner only
    cases = [Case((pred, target), note="2 of 3 lesions found, lesion 2 by two predicted components, 3 false alarms"),
             Case((target, pred), note="the same masks swapped: precision and recall swap"),
             Case((diagonal, diagonal), note="two voxels touching at a corner: 2 components at connectivity 1"),
             Case((diagonal, diagonal), {"connectivity": 3}, note="the same at connectivity 3: one component"),
             Case((torch.from_numpy(pred), torch.from_numpy(target)), note="tensors")]
    for _ in range(3):
        shape = tuple(int(v) for v in rng.integers(6, 12, size=3))
        cases.append(Case((_blobs(rng, shape, int(rng.integers(1, 6))), _blobs(rng, shape, int(rng.integers(1, 6)))),
                          {"connectivity": int(rng.integers(1, 4))}, note=f"random boxes in {shape}"))
    empty = np.zeros((4, 5, 6), bool)
    cases += [Case((empty, target[:4, :5, :6]), note="an empty prediction: recall 0, precision 1, f1 0"),
              Case((target[:4, :5, :6], empty), note="an empty target: recall 1, precision 0"),
              Case((empty, empty), note="two empty masks: nothing missed, no false alarm (f1 1)"),
              Case((np.ones((1, 1, 1), bool), np.ones((1, 1, 1), bool)), note="a 1 x 1 x 1 volume"),
              Case((_blobs(rng, (9, 11), 4), _blobs(rng, (9, 11), 3)), {"connectivity": 2}, note="2D masks")]
    cases.append(Case((pred, target[:, :, :9]), raises=ValueError, note="masks of different shapes"))
    cases.append(Case((pred, target), {"connectivity": 4}, raises=ValueError, note="connectivity 4 in 3D"))
    cases.append(Case((pred, target), {"connectivity": 0}, raises=ValueError, note="connectivity 0"))
    return cases


def _f1_labels(pred_mask, target_mask, connectivity):  # noqa: ANN001, ANN202
    pred, target = np.asarray(pred_mask) != 0, np.asarray(target_mask) != 0
    if pred.shape != target.shape or not 1 <= connectivity <= pred.ndim:
        raise ValueError("bad masks or connectivity")
    structure = ndimage.generate_binary_structure(pred.ndim, connectivity)
    return pred, target, ndimage.label(pred, structure)[0], ndimage.label(target, structure)[0]


def _f1_from(found, num_target, correct, num_pred, empty=1.0):  # noqa: ANN001, ANN202
    """Precision, recall and F1 from counts; ``empty`` is the score of a map with no component."""
    recall = found / num_target if num_target else empty
    precision = correct / num_pred if num_pred else empty
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def _f1_voxels(pred_mask, target_mask, *, connectivity=1):  # noqa: ANN001, ANN202
    pred, target, _, _ = _f1_labels(pred_mask, target_mask, connectivity)
    hits = int((pred & target).sum())
    return _f1_from(hits, int(target.sum()), hits, int(pred.sum()))


def _f1_precision_is_recall(pred_mask, target_mask, *, connectivity=1):  # noqa: ANN001, ANN202
    pred, target, pred_labels, target_labels = _f1_labels(pred_mask, target_mask, connectivity)
    found = len(np.unique(target_labels[pred & target]))
    num_target, num_pred = int(target_labels.max()), int(pred_labels.max())
    return _f1_from(found, num_target, found, num_pred)


def _f1_empty_zero(pred_mask, target_mask, *, connectivity=1):  # noqa: ANN001, ANN202
    pred, target, pred_labels, target_labels = _f1_labels(pred_mask, target_mask, connectivity)
    found = len(np.unique(target_labels[pred & target]))
    correct = len(np.unique(pred_labels[pred & target]))
    return _f1_from(found, int(target_labels.max()), correct, int(pred_labels.max()), empty=0.0)


def _f1_background_label(pred_mask, target_mask, *, connectivity=1):  # noqa: ANN001, ANN202
    pred, target, pred_labels, target_labels = _f1_labels(pred_mask, target_mask, connectivity)
    found = len(np.unique(target_labels[pred]))  # label 0 counts wherever the prediction lies outside the target
    correct = len(np.unique(pred_labels[target]))
    return _f1_from(found, int(target_labels.max()), correct, int(pred_labels.max()))


def _f1_full_connectivity(pred_mask, target_mask, *, connectivity=1):  # noqa: ANN001, ANN202
    pred, target, _, _ = _f1_labels(pred_mask, target_mask, connectivity)
    structure = np.ones((3,) * pred.ndim, bool)
    pred_labels, target_labels = ndimage.label(pred, structure)[0], ndimage.label(target, structure)[0]
    found = len(np.unique(target_labels[pred & target]))
    correct = len(np.unique(pred_labels[pred & target]))
    return _f1_from(found, int(target_labels.max()), correct, int(pred_labels.max()))


EXERCISES = [
    _ex("target_spacing", "course.medical.planning", _spacing_cases, [
        Misconception("mean", "take the MEDIAN spacing of each axis (np.percentile(spacings, 50, axis=0)): one "
                      "coarse case pulls a mean towards it", _spacing_mean),
        Misconception("no_anisotropy_rule", "the median is not the end: when the coarsest axis is > threshold x "
                      "coarser than the others AND has < 1/threshold of their voxels, it takes the 10th "
                      "percentile of its spacings", _spacing_no_anisotropy_rule),
        Misconception("percentile_every_axis", "the anisotropy rule changes the coarse axis only; the other axes "
                      "keep their median spacing", _spacing_percentile_every_axis),
        Misconception("voxels_reversed", "the voxel condition is median_shape[coarse] * threshold < the smallest "
                      "median shape of the other axes (FEW slices), not >", _spacing_voxels_reversed),
        Misconception("no_floor", "the coarse axis never becomes finer than the other axes' largest spacing: if "
                      "its 10th percentile is below that, use that spacing + 1e-5 mm", _spacing_no_floor),
    ]),
    _ex("ct_normalize", "course.medical.planning", _ct_cases, [
        Misconception("zscore_first", "clip first (in HU, to [lower, upper]), then subtract the mean and divide "
                      "by the std; clipping z-scores to HU bounds clips nothing", _ct_zscore_first),
        Misconception("minmax", "nnU-Net's CT normalization is a z-score with the dataset's foreground mean and std "
                      "after clipping, not a rescaling of [lower, upper] to [0, 1]", _ct_minmax),
        Misconception("volume_std", "use the given mean and std (the dataset's foreground statistics), not the "
                      "volume's own: one HU must map to one value in every case", _ct_volume_std),
        Misconception("own_percentiles", "clip to the given bounds (the dataset's foreground 0.5 / 99.5 "
                      "percentiles), not to percentiles of this volume", _ct_own_percentiles),
        Misconception("no_epsilon", "divide by max(std, 1e-8): a std of 0 gives 0/0 = NaN", _ct_no_epsilon),
    ]),
    _ex("pooling_strides", "course.medical.planning", _pool_cases, [
        Misconception("below_four", "halve an axis only while its map has >= 2 * min_feature_map_size = 8 voxels, "
                      "so the bottleneck keeps at least 4; halving while >= 4 pools below 4", _pool_below_four),
        Misconception("ignore_spacing", "an axis is halved only while its current spacing is < 2x the finest current "
                      "spacing among the poolable axes: thick slices wait until the pixels have caught up",
                      _pool_ignore_spacing),
        Misconception("coarse_early", "a coarse axis joins when its spacing is LESS than 2x the finest (ratio < 2); "
                      "at exactly 2x it waits one more stage", _pool_coarse_early),
        Misconception("strict", "halve while the map has >= 8 voxels (8 -> 4 is allowed); > 8 stops one stage early",
                      _pool_strict),
        Misconception("no_stage0", "the list starts with stage 0, all 1s (full resolution, no pooling), then one "
                      "list per halving", _pool_no_stage0),
    ]),
    _ex("evenly_spaced_starts", "course.medical.planning", _starts_cases, [
        Misconception("last_window", "that is MONAI's rule (a fixed step, the last tile moved back to the edge); "
                      "nnU-Net takes n = ceil((size − roi) / (roi · step_size)) + 1 tiles and spreads them "
                      "evenly over [0, size − roi]", _starts_last_window),
        Misconception("ceil", "round each start to the NEAREST voxel (np.round), not up", _starts_ceil),
        Misconception("floor", "round each start to the NEAREST voxel (np.round); int() truncates towards 0",
                      _starts_floor),
        Misconception("count_on_size", "count the steps over the room the tile can move, size − roi: "
                      "n = ceil((size − roi) / (roi · step_size)) + 1", _starts_count_on_size),
        Misconception("python_round", "np.round rounds halves to the even neighbour (2.5 -> 2), as nnU-Net's "
                      "code does; floor(x + 0.5) rounds them up", _starts_python_round),
    ]),
    _ex("hd95", "course.metrics", _hd_cases, [
        Misconception("max", "take the 95th percentile of the distances (np.percentile(d, 95)), not the maximum: "
                      "that is the plain Hausdorff distance, ruled by single outliers", _hd_max),
        Misconception("to_mask", "measure to the other mask's SURFACE (distance_transform_edt(~surface)), not to "
                      "the mask: a surface voxel inside the other mask is as far as that mask's boundary", _hd_to_mask),
        Misconception("one_direction", "measure both directions (prediction -> target and target -> "
                      "prediction) and keep the larger 95th percentile", _hd_one_direction),
        Misconception("spacing_ignored", "distances are in mm: pass sampling=spacing to the distance transform",
                      _hd_spacing_ignored),
        Misconception("voxels", "measure between SURFACES (mask & ~binary_erosion(mask)), not between all voxels "
                      "of the masks", _hd_voxels),
        Misconception("pooled", "one 95th percentile of both directions pooled is medpy's hd95 (nnU-Net v1's "
                      "evaluator), a real definition; this exercise follows MONAI: each direction's 95th "
                      "percentile, the larger kept", _hd_pooled),
    ], rtol=1e-7, atol=1e-9),
    _ex("lesion_f1", "course.metrics", _f1_cases, [
        Misconception("voxels", "count connected COMPONENTS (scipy.ndimage.label), not voxels: a 5-voxel lesion "
                      "counts as much as a 5,000-voxel one", _f1_voxels),
        Misconception("precision_is_recall", "precision counts PREDICTED components that touch the target "
                      "(false alarms lower it); recall counts target components that the prediction touches",
                      _f1_precision_is_recall),
        Misconception("background_label", "label 0 is the background, not a lesion: count the labels > 0 under the "
                      "overlap (pred & target); np.unique of the labels under the whole other mask includes 0 "
                      "wherever it lies outside", _f1_background_label),
        Misconception("empty_zero", "the course's convention (see the docstring): with no target component nothing "
                      "was missed (recall 1); with no predicted component nothing was a false alarm (precision 1)",
                      _f1_empty_zero),
        Misconception("full_connectivity", "use generate_binary_structure(ndim, connectivity): connectivity 1 "
                      "joins voxels that share a face, not a corner", _f1_full_connectivity),
    ], rtol=1e-9, atol=1e-12),
]
