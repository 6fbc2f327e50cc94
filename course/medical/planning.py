"""nnU-Net's self-configuration: from a dataset fingerprint to a training plan.

Lesson 14_nnunet_monai.

Isensee, Jaeger, Kohl, Petersen, Maier-Hein 2021, "nnU-Net: a self-configuring method for deep
learning-based biomedical image segmentation" (Nature Methods 18:203-211), as nnU-Net v2 (2.x)
implements it. Written from scratch; every rule names the nnunetv2 function it follows, and
tests/medical/test_planning*.py prove it equal to nnunetv2 itself.

    Fingerprint            what the planner knows about a dataset: spacings, cropped shapes, foreground HU
    fingerprint            images + labels + spacings -> Fingerprint  (DatasetFingerprintExtractor)
    target_spacing         median spacing, with the anisotropy rule   (determine_fullres_target_spacing)
    ct_normalize           clip to the foreground 0.5/99.5 percentiles, z-score with global statistics
    zscore_normalize       per-volume z-score (every modality other than CT)
    pooling_strides        which axes each stage halves, as plain lists (get_pool_and_conv_props's pooling rule)
    pooling_plan           how often to halve each axis; conv kernels; divisible patch (get_pool_and_conv_props)
    evenly_spaced_starts   sliding-window tile starts              (compute_steps_for_sliding_window)
    estimate_memory        nnU-Net's memory proxy: feature-map values of its U-Net (compute_conv_feature_map_size)
    measure_activation_memory  the proxy beside a measurement on a course U-Net (course.counting)
    fit_patch_size         shrink the patch until the proxy fits the GPU budget
    plan                   Fingerprint -> Plan of the 3d_fullres configuration     (ExperimentPlanner)
    plan_table             ours beside nnU-Net's nnUNetPlans.json, row by row

Layout: a volume is (D, H, W) and its spacing (3,) mm in the same axis order. nnU-Net reads NIfTI
with SimpleITK, whose arrays are (z, y, x): written from a (D, H, W) array through
``course.medical.nifti`` (X, Y, Z) = (W, H, D), nnU-Net sees the very same (D, H, W) array. Inside
``plan`` the axes are reordered like nnU-Net's ``transpose_forward`` (coarsest spacing first) so that
ties break the same way; the Plan reports everything back in the input's axis order.

Only the 3d_fullres configuration is planned (not 2d, 3d_lowres or the cascade).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = [
    "Fingerprint",
    "fingerprint",
    "target_spacing",
    "ct_normalize",
    "zscore_normalize",
    "PoolingPlan",
    "pooling_strides",
    "pooling_plan",
    "evenly_spaced_starts",
    "estimate_memory",
    "memory_reference",
    "measure_activation_memory",
    "fit_patch_size",
    "Plan",
    "plan",
    "plan_table",
]

# nnU-Net v2's constants (ExperimentPlanner.__init__); the names say what each one is
REFERENCE_VOXELS_3D = 560_000_000  # feature-map values that fit "8 GB" at batch size 2 (set empirically)
REFERENCE_GPU_GB = 8.0             # the GPU memory that reference corresponds to
REFERENCE_BATCH_SIZE = 2           # the batch size that reference corresponds to
MIN_BATCH_SIZE = 2                 # never train with fewer samples per step
MAX_DATASET_COVERED = 0.05         # one batch sees at most 5 % of the dataset's voxels
BASE_FEATURES, MAX_FEATURES = 32, 320  # channels of stage s: min(32 * 2**s, 320)
INITIAL_PATCH_VOXELS = 256 ** 3    # the search starts from a patch this large (clipped to the median shape)
NORMALIZATION_BY_CHANNEL_NAME = {  # nnunetv2 map_channel_name_to_normalization; any other name -> z-score
    "ct": "CTNormalization", "nonorm": "NoNormalization", "zscore": "ZScoreNormalization",
    "rescale_to_0_1": "RescaleTo01Normalization", "rgb_to_0_1": "RGBTo01Normalization"}


@dataclass
class Fingerprint:
    """What nnU-Net's planner knows about a dataset (nnunetv2 ``dataset_fingerprint.json``).

    Attributes:
        spacings: (N, 3) float64, mm, one row per case, (D, H, W) order.
        shapes_after_crop: (N, 3) int, voxels of each case after cropping to its non-zero bounding box.
        mean, std, median, percentile_00_5, percentile_99_5: statistics of the sampled foreground
            intensities (label > 0) of channel 0, all cases pooled (HU for CT).
        min, max: their extremes (not used for planning).
        median_relative_size_after_crop: median over cases of cropped voxels / original voxels; below
            0.75 the z-score is computed inside the non-zero mask only (``use_mask_for_norm``).
    """

    spacings: np.ndarray
    shapes_after_crop: np.ndarray
    mean: float
    std: float
    median: float
    percentile_00_5: float
    percentile_99_5: float
    min: float = float("nan")
    max: float = float("nan")
    median_relative_size_after_crop: float = 1.0

    @classmethod
    def from_nnunet(cls, fingerprint_json: dict, channel: int = 0) -> "Fingerprint":
        """A Fingerprint from nnU-Net's ``dataset_fingerprint.json`` (already parsed).

        Its spacings and shapes are in the axis order of nnU-Net's image reader: (z, y, x) for
        SimpleITK, which is (D, H, W) for volumes written from (D, H, W) arrays (see the module docstring).
        """
        stats = fingerprint_json["foreground_intensity_properties_per_channel"][str(channel)]
        return cls(spacings=np.asarray(fingerprint_json["spacings"], dtype=np.float64),
                   shapes_after_crop=np.asarray(fingerprint_json["shapes_after_crop"], dtype=np.int64),
                   mean=stats["mean"], std=stats["std"], median=stats["median"],
                   percentile_00_5=stats["percentile_00_5"], percentile_99_5=stats["percentile_99_5"],
                   min=stats["min"], max=stats["max"],
                   median_relative_size_after_crop=float(fingerprint_json["median_relative_size_after_cropping"]))


def _spacing_table(spacings: np.ndarray, name: str = "spacings") -> np.ndarray:
    """(N, 3) float64 of finite positive spacings, or a ValueError that says what is wrong."""
    spacings = np.asarray(spacings, dtype=np.float64)
    if spacings.ndim != 2 or spacings.shape[1] != 3 or len(spacings) == 0:
        raise ValueError(f"{name} must be an (N, 3) table, one (D, H, W) row in mm per case, got shape {spacings.shape}")
    if not np.all(np.isfinite(spacings)) or np.any(spacings <= 0):
        raise ValueError(f"{name} must be finite and > 0 mm, got {spacings.tolist()}")
    return spacings


def fingerprint(images: Sequence[np.ndarray], labels: Sequence[np.ndarray], spacings: Sequence[Sequence[float]],
                *, num_samples: int = 10000, seed: int = 0) -> Fingerprint:
    """The dataset fingerprint: spacings, cropped shapes and foreground intensities (nnU-Net's first step).

    Follows nnunetv2 ``DatasetFingerprintExtractor.analyze_case`` / ``collect_foreground_intensities``
    / ``run``: each case is cropped to the bounding box of its non-zero voxels (``crop_to_nonzero``),
    ``num_samples`` foreground voxels (label > 0) are drawn **with replacement** by a fresh
    ``np.random.RandomState(seed)`` per case, and the statistics are those of all draws pooled. To
    reproduce nnU-Net exactly pass ``seed=1234`` and ``num_samples=int(1e8 // len(images))``.

    Args:
        images: N volumes (D, H, W), any real dtype, HU for CT (used as float32, like nnU-Net's reader).
        labels: N label maps (D, H, W) int, 0 = background, the shape of their image.
        spacings: N spacings (3,) mm, (D, H, W) order.
        num_samples: foreground draws per case, >= 1.
        seed: seed of every case's draw.

    Returns:
        A :class:`Fingerprint`. An all-zero image keeps its full extent (nothing to crop).

    Raises:
        ValueError: different numbers of images, labels and spacings; a volume that is not 3D; a label
            of another shape; a non-positive spacing; no foreground voxel in the whole dataset.
    """
    # 1. validate
    if not (len(images) == len(labels) == len(spacings)) or len(images) == 0:
        raise ValueError(f"need as many images, labels and spacings (>= 1), got {len(images)}, {len(labels)}, {len(spacings)}")
    spacings = _spacing_table(np.asarray(spacings, dtype=np.float64))
    shapes, relative, draws = [], [], []
    for i, (image, label) in enumerate(zip(images, labels)):
        image, label = np.asarray(image, dtype=np.float32), np.asarray(label)
        if image.ndim != 3 or label.shape != image.shape:
            raise ValueError(f"case {i}: image {image.shape} and label {label.shape} must be the same (D, H, W)")
        # 2. crop to the bounding box of the non-zero voxels
        nonzero = image != 0
        box = tuple(slice(*_extent(nonzero.any(axis=tuple(a for a in range(3) if a != axis)))) for axis in range(3))
        image, label = image[box], label[box]
        shapes.append(image.shape)
        relative.append(image.size / nonzero.size)
        # 3. draw foreground intensities with replacement
        foreground = image[label > 0]  # (F,) in C order, like nnU-Net
        if foreground.size:
            draws.append(np.random.RandomState(seed).choice(foreground, num_samples, replace=True))
    if not draws:
        raise ValueError("no label > 0 in any case: the foreground intensity statistics need foreground voxels")
    # 4. statistics of all draws pooled
    pooled = np.concatenate(draws)
    low, median, high = np.percentile(pooled, (0.5, 50.0, 99.5))
    return Fingerprint(spacings=spacings, shapes_after_crop=np.asarray(shapes, dtype=np.int64),
                       mean=float(np.mean(pooled)), std=float(np.std(pooled)), median=float(median),
                       percentile_00_5=float(low), percentile_99_5=float(high), min=float(pooled.min()),
                       max=float(pooled.max()), median_relative_size_after_crop=float(np.median(relative)))


def _extent(any_along: np.ndarray) -> tuple[int, int]:
    """[first, last + 1) of the True entries of a 1D mask; the whole axis when there is none."""
    where = np.flatnonzero(any_along)
    return (int(where[0]), int(where[-1]) + 1) if where.size else (0, len(any_along))


def target_spacing(spacings: np.ndarray, shapes: np.ndarray, *, anisotropy_threshold: float = 3.0) -> np.ndarray:
    """The spacing every case is resampled to: the median, except along a much coarser axis.

    nnunetv2 ``ExperimentPlanner.determine_fullres_target_spacing``. The median spacing of each
    axis, unless the dataset is anisotropic: when the axis with the coarsest median spacing is more
    than ``anisotropy_threshold`` times coarser than every other axis AND has fewer than 1 /
    ``anisotropy_threshold`` of their (median) voxels, that axis takes the 10th percentile of its
    spacings instead (finer slices interpolate less), but never finer than the other axes' coarsest
    median spacing (then that spacing + 1e-5 mm). Medians and percentiles are numpy's (linear).

    Args:
        spacings: (N, 3) mm, one (D, H, W) row per case.
        shapes: (N, 3) voxels per case (nnU-Net uses the shapes after cropping).
        anisotropy_threshold: 3 in nnU-Net (``ANISO_THRESHOLD``), > 0.

    Returns:
        (3,) float64 target spacing, mm, (D, H, W).

    Raises:
        ValueError: tables that are not (N, 3) with the same N, non-positive or non-finite spacings,
            shapes < 1, a threshold <= 0.
    """
    # 1. validate
    spacings = _spacing_table(spacings)
    shapes = np.asarray(shapes, dtype=np.float64)
    if shapes.shape != spacings.shape or np.any(shapes < 1):
        raise ValueError(f"shapes must be (N, 3) voxel counts >= 1 like spacings {spacings.shape}, got {shapes.tolist()}")
    if not anisotropy_threshold > 0:
        raise ValueError(f"anisotropy_threshold must be > 0, got {anisotropy_threshold}")
    # 2. the median spacing and the median shape
    target = np.percentile(spacings, 50, axis=0)
    median_shape = np.percentile(shapes, 50, axis=0)
    # 3. the anisotropy rule on the coarsest axis
    worst = int(np.argmax(target))
    others = [a for a in range(3) if a != worst]
    coarse = target[worst] > anisotropy_threshold * max(target[others])
    few_voxels = median_shape[worst] * anisotropy_threshold < min(median_shape[others])
    if coarse and few_voxels:
        finer = np.percentile(spacings[:, worst], 10)
        target[worst] = finer if finer >= max(target[others]) else max(target[others]) + 1e-5
    return target


def ct_normalize(volume: np.ndarray, *, lower: float, upper: float, mean: float, std: float) -> np.ndarray:
    """nnU-Net's CT normalization: clip to the dataset's foreground range, then a global z-score.

    nnunetv2 ``CTNormalization.run``: ``(clip(x, lower, upper) - mean) / max(std, 1e-8)`` in float32,
    with the **dataset's** statistics of foreground HU (``Fingerprint.percentile_00_5``,
    ``.percentile_99_5``, ``.mean``, ``.std``), so one HU maps to one value in every case (a
    per-volume z-score would not). The input is not modified.

    Args:
        volume: any shape, e.g. (D, H, W), real numbers (HU).
        lower: lower clip bound (HU), the foreground 0.5th percentile.
        upper: upper clip bound (HU), >= lower, the foreground 99.5th percentile.
        mean: foreground mean (HU).
        std: foreground standard deviation (HU), >= 0.

    Returns:
        float32 array of the volume's shape, dimensionless.

    Raises:
        ValueError: a non-numeric or empty volume, non-finite statistics, lower > upper, std < 0.
    """
    # 1. validate
    volume = np.asarray(volume)
    if volume.size == 0 or not (np.issubdtype(volume.dtype, np.number) or volume.dtype == bool):
        raise ValueError(f"volume must be a non-empty numeric array (HU), got dtype {volume.dtype}, shape {volume.shape}")
    if not all(np.isfinite(v) for v in (lower, upper, mean, std)):
        raise ValueError(f"lower, upper, mean and std must be finite, got {lower}, {upper}, {mean}, {std}")
    if lower > upper or std < 0:
        raise ValueError(f"need lower <= upper and std >= 0, got lower={lower}, upper={upper}, std={std}; "
                         "lower/upper are the foreground 0.5/99.5 percentiles")
    # 2. clip, 3. shift and scale (float32 throughout, like nnU-Net)
    out = volume.astype(np.float32, copy=True)
    np.clip(out, lower, upper, out=out)
    out -= mean
    out /= max(std, 1e-8)
    return out


def zscore_normalize(volume: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """nnU-Net's z-score (every channel not named CT): each volume with its own mean and std.

    nnunetv2 ``ZScoreNormalization.run``: without a mask ``(x - mean(x)) / max(std(x), 1e-8)``; with
    a mask (``use_mask_for_norm``, when cropping removed > 25 % of the voxels) the statistics and the
    change are inside the mask only and the rest is left as is. Compare
    ``course.medical.normalize.zscore``, which applies foreground statistics to every voxel.

    Args:
        volume: any shape, real numbers.
        mask: bool, the volume's shape, or None.

    Returns:
        float32 array of the volume's shape.

    Raises:
        ValueError: a mask of another shape, or an empty mask.
    """
    out = np.asarray(volume).astype(np.float32, copy=True)
    if mask is None:
        return (out - out.mean()) / max(out.std(), 1e-8)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != out.shape or not mask.any():
        raise ValueError(f"mask must be a non-empty bool array of the volume's shape {out.shape}, got {mask.shape}")
    out[mask] = (out[mask] - out[mask].mean()) / max(out[mask].std(), 1e-8)
    return out


@dataclass
class PoolingPlan:
    """The U-Net topology for one patch (nnunetv2 ``get_pool_and_conv_props``).

    Attributes:
        strides: per stage, stage 0 = (1, 1, 1); 2 where the stage halves that axis.
        kernel_sizes: per stage, 3 on axes whose spacing is within 2x of the finest, else 1.
        patch_size: the patch rounded up to a multiple of ``divisor`` on each axis.
        num_stages: len(strides) = poolings + 1.
        pools_per_axis: how often each axis is halved.
        divisor: 2 ** pools_per_axis, what each patch axis must be divisible by.
    """

    strides: list[tuple[int, ...]]
    kernel_sizes: list[tuple[int, ...]]
    patch_size: tuple[int, ...]
    num_stages: int
    pools_per_axis: tuple[int, ...] = field(default=())
    divisor: tuple[int, ...] = field(default=())


def pooling_strides(patch_size: Sequence[float], spacing: Sequence[float], *,
                    min_feature_map_size: int = 4) -> list[list[int]]:
    """How often, and along which axes, nnU-Net's U-Net halves a patch: one stride per stage.

    nnunetv2 ``get_pool_and_conv_props`` (nnU-Net v1's ``get_pool_and_conv_props_v2``), its pooling
    part. Stage after stage, an axis is halved while (a) its feature map has >= 2 *
    ``min_feature_map_size`` voxels and (b) its current spacing is less than 2x the finest current
    spacing among such axes, so a coarse axis waits until pooling the others has made them as coarse;
    (c) a single remaining axis is halved only while it has >= 3 * ``min_feature_map_size`` voxels.
    Sizes halve rounding up (a 5-voxel map becomes 3), spacings double.

    Args:
        patch_size: (3,) (D, H, W) or (2,) voxels per axis, > 0 (nnU-Net passes median shapes, which
            may be x.5).
        spacing: the same length, mm, > 0.
        min_feature_map_size: smallest bottleneck edge, 4 in nnU-Net, an int >= 1.

    Returns:
        One list of ints per stage, e.g. [[1, 1, 1], [1, 2, 2], [2, 2, 2], ...]: stage 0 is all 1s
        (full resolution), then 2 on each axis that the stage halves, 1 elsewhere.

    Raises:
        ValueError: lengths other than 2 or 3 or that differ, non-positive or non-finite sizes or
            spacings, a min_feature_map_size that is not an int >= 1.
    """
    # 1. validate
    size, current = [float(p) for p in patch_size], [float(s) for s in spacing]
    if len(size) not in (2, 3) or len(current) != len(size):
        raise ValueError(f"patch_size and spacing need the same length, 3 (D, H, W) or 2, got {patch_size!r}, {spacing!r}")
    if not all(math.isfinite(v) and v > 0 for v in size + current):
        raise ValueError(f"patch_size (voxels) and spacing (mm) must be finite and > 0, got {patch_size!r}, {spacing!r}")
    if isinstance(min_feature_map_size, bool) or not isinstance(min_feature_map_size, numbers.Integral) \
            or min_feature_map_size < 1:
        raise ValueError(f"min_feature_map_size must be an int >= 1 (nnU-Net: 4), got {min_feature_map_size!r}")
    dim, m = len(size), int(min_feature_map_size)
    strides = [[1] * dim]
    while True:
        # 2. axes that can be halved: big enough, and not much coarser than the finest of them
        axes = [a for a in range(dim) if size[a] >= 2 * m]
        if not axes:
            break
        finest = min(current[a] for a in axes)
        axes = [a for a in axes if current[a] / finest < 2]
        if len(axes) == 1 and size[axes[0]] < 3 * m:
            break
        # 3. pool: halve the size (rounding up), double the spacing
        strides.append([2 if a in axes else 1 for a in range(dim)])
        for a in axes:
            current[a], size[a] = current[a] * 2, math.ceil(size[a] / 2)
    return strides


def pooling_plan(patch_size: Sequence[float], spacing: Sequence[float], *, min_feature_map_size: int = 4,
                 max_stages: int | None = 6) -> PoolingPlan:
    """How often the U-Net halves each axis of a patch, its conv kernels, and the divisible patch size.

    nnunetv2 ``get_pool_and_conv_props`` (nnU-Net v1's ``get_pool_and_conv_props_v2``): the strides of
    :func:`pooling_strides`, then the kernels and the patch size. Kernels are 3 on axes within 2x of
    the finest current spacing (once 3, always 3), else 1; the bottleneck gets 3s. Finally the patch
    is rounded up to a multiple of 2 ** (poolings of each axis).

    ``max_stages`` caps the total number of stages (the first ``max_stages`` strides: the rule never
    looks ahead). nnU-Net v2 has no such cap (it passes ``max_numpool=999999``); ``plan`` uses
    ``max_stages=None`` to match it. With the default 6 the result equals nnU-Net's whenever
    nnU-Net's has <= 6 stages (3D patches up to ~190 voxels per axis).

    Args:
        patch_size: (3,) (or (2,)) voxels per axis, > 0 (nnU-Net passes median shapes, which may be x.5).
        spacing: the same length, mm, > 0.
        min_feature_map_size: smallest bottleneck edge, 4 in nnU-Net, >= 1.
        max_stages: at most this many stages (>= 1), or None for no cap.

    Returns:
        A :class:`PoolingPlan`.

    Raises:
        ValueError: lengths other than 2 or 3 or that differ, non-positive sizes or spacings, bad caps.
    """
    # 1. the strides, capped
    if max_stages is not None and (isinstance(max_stages, bool) or not isinstance(max_stages, numbers.Integral)
                                   or max_stages < 1):
        raise ValueError(f"max_stages must be an int >= 1 or None, got {max_stages!r}")
    strides = pooling_strides(patch_size, spacing, min_feature_map_size=min_feature_map_size)[:max_stages]
    # 2. each stage's kernel from the spacing before its pooling: 3 where within 2x of the finest
    dim, current, kernel, kernels = len(strides[0]), [float(s) for s in spacing], [1] * len(strides[0]), []
    for stride in strides[1:]:
        kernel = [3 if kernel[a] == 3 or current[a] / min(current) < 2 else 1 for a in range(dim)]
        kernels.append(tuple(kernel))
        current = [c * s for c, s in zip(current, stride)]
    # 3. bottleneck kernel; the patch rounded up to a multiple of 2 ** poolings
    kernels.append((3,) * dim)
    pools = tuple(sum(stride[a] == 2 for stride in strides) for a in range(dim))
    divisor = tuple(2 ** p for p in pools)
    padded = tuple(int(d * math.ceil(float(p) / d)) for p, d in zip(patch_size, divisor))
    return PoolingPlan(strides=[tuple(stride) for stride in strides], kernel_sizes=kernels, patch_size=padded,
                       num_stages=len(strides), pools_per_axis=pools, divisor=divisor)


def evenly_spaced_starts(size: int, roi: int, step_size: float = 0.5) -> list[int]:
    """Start indices of sliding-window tiles along one axis, spread evenly from 0 to size - roi.

    nnunetv2 ``compute_steps_for_sliding_window``: the number of tiles is the fewest whose step is at
    most ``roi * step_size``, n = ceil((size - roi) / (roi * step_size)) + 1, and the n starts are
    round(i * (size - roi) / (n - 1)) (numpy's round half to even), so the first tile starts at 0,
    the last ends at ``size`` and every overlap is about the same. Contrast
    ``course.patches.window_starts`` (MONAI): a fixed step, then one last tile moved back to fit.

    nnU-Net pads an image smaller than the tile to the tile size first (``pad_nd_image``), so a tile
    larger than the axis is refused here rather than silently answered.

    Args:
        size: voxels along the axis, >= 1.
        roi: tile size along the axis, 1 <= roi <= size.
        step_size: step as a fraction of the tile, 0 < step_size <= 1 (0.5: tiles overlap by half).

    Returns:
        Sorted list of int starts; [0] when roi == size.

    Raises:
        ValueError: sizes that are not integers >= 1, roi > size (pad first), step_size outside (0, 1].
    """
    # 1. validate
    for name, value in (("size", size), ("roi", roi)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if roi > size:
        raise ValueError(f"roi {roi} is larger than size {size}: pad the volume to at least the tile size first "
                         "(nnU-Net pads with pad_nd_image before sliding)")
    if not 0 < step_size <= 1:
        raise ValueError(f"step_size must be in (0, 1] (a fraction of the tile), got {step_size!r}")
    # 2. the fewest tiles whose step is at most roi * step_size
    num = math.ceil((size - roi) / (roi * step_size)) + 1
    if num == 1:
        return [0]
    # 3. spread them evenly over [0, size - roi]
    step = (size - roi) / (num - 1)
    return [int(np.round(step * i)) for i in range(num)]


def _features(num_stages: int) -> tuple[int, ...]:
    """nnU-Net's channels per stage: 32, 64, 128, 256, 320, 320, ..."""
    return tuple(min(MAX_FEATURES, BASE_FEATURES * 2 ** s) for s in range(num_stages))


def estimate_memory(patch_size: Sequence[int], strides: Sequence[Sequence[int]], *, num_classes: int = 2,
                    features_per_stage: Sequence[int] | None = None, convs_per_stage: int = 2) -> int:
    """nnU-Net's memory proxy: how many values the conv layers of its U-Net output for one sample.

    The arithmetic of ``PlainConvUNet.compute_conv_feature_map_size`` (dynamic_network_architectures,
    what nnU-Net v2's ``static_estimate_VRAM_usage`` returns): the encoder stage s has
    ``convs_per_stage`` convs of F_s channels at its size (the first one strided); each decoder stage
    (all but the bottleneck) a transposed conv and ``convs_per_stage`` convs of F_s channels; the head
    ``num_classes`` channels at full size (no deep supervision). Sizes divide by the strides rounding
    down. Norms, nonlinearities, weights and the backward pass are not counted: the planner compares
    this number with :func:`memory_reference`, an empirical value of what fits.

    Args:
        patch_size: (3,) voxels.
        strides: per stage, (3,) each, stage 0 first (e.g. ``PoolingPlan.strides``).
        num_classes: output channels, background included (nnU-Net: the labels of dataset.json).
        features_per_stage: channels per stage; None = nnU-Net's min(32 * 2**s, 320).
        convs_per_stage: 2 in nnU-Net.

    Returns:
        Number of values (not bytes), a Python int.

    Raises:
        ValueError: strides of another length than the patch, or features of another length than strides.
    """
    # 1. feature-map size of every stage
    features = _features(len(strides)) if features_per_stage is None else tuple(features_per_stage)
    if len(features) != len(strides) or any(len(s) != len(patch_size) for s in strides):
        raise ValueError(f"need one stride per axis of patch {tuple(patch_size)} and one feature count per stage; "
                         f"got strides {list(strides)}, features {features}")
    sizes, size = [], [int(p) for p in patch_size]
    for stride in strides:
        size = [d // s for d, s in zip(size, stride)]
        sizes.append(math.prod(size))
    # 2. encoder convs + decoder (transposed conv and convs, every stage but the bottleneck) + head
    encoder = sum(convs_per_stage * f * v for f, v in zip(features, sizes))
    decoder = sum((convs_per_stage + 1) * f * v for f, v in zip(features[:-1], sizes[:-1]))
    return int(encoder + decoder + num_classes * sizes[0])


def memory_reference(gpu_memory_gb: float = 8.0) -> float:
    """The proxy value nnU-Net accepts for a GPU of ``gpu_memory_gb`` at batch size 2: 560e6 * gb / 8."""
    return REFERENCE_VOXELS_3D * gpu_memory_gb / REFERENCE_GPU_GB


def measure_activation_memory(patch_size: Sequence[int], *, channels: Sequence[int] = (8, 16, 32),
                              num_classes: int = 2, batch_size: int = 1, norm: str = "instance") -> dict[str, int]:
    """The proxy beside a measurement: a course ``UNet3D`` on one small patch batch.

    The course U-Net (``course.nn.unet3d.UNet3D``) has nnU-Net's layout of conv outputs (two convs
    per level, a transposed conv into each skip level, a 1x1x1 head), so :func:`estimate_memory` with
    ``features_per_stage=channels`` counts exactly its conv outputs; ``course.counting.activation_memory``
    measures all leaf outputs (norms, ReLUs, pools too) in bytes. Their ratio is what the proxy leaves out.

    Args:
        patch_size: (3,) voxels, divisible by 2 ** (len(channels) - 1).
        channels: per level, top to bottom.
        num_classes: output channels.
        batch_size: samples in the measured batch.
        norm: "instance" (nnU-Net), "batch" or None.

    Returns:
        dict with ``estimate_values`` (proxy for the batch), ``estimate_bytes`` (float32: 4 per value)
        and ``measured_bytes``.
    """
    import torch

    from course.counting import activation_memory
    from course.nn.unet3d import UNet3D

    levels = len(channels)
    strides = [(1, 1, 1)] + [(2, 2, 2)] * (levels - 1)
    model = UNet3D(1, num_classes, tuple(channels), norm=norm).eval()
    x = torch.zeros(batch_size, 1, *(int(p) for p in patch_size))  # (N, 1, D, H, W)
    values = batch_size * estimate_memory(patch_size, strides, num_classes=num_classes, features_per_stage=channels)
    return {"estimate_values": values, "estimate_bytes": 4 * values, "measured_bytes": activation_memory(model, x)}


def fit_patch_size(spacing: Sequence[float], median_shape: Sequence[float], *, num_classes: int = 2,
                   gpu_memory_gb: float = 8.0) -> tuple[PoolingPlan, int]:
    """The largest patch whose memory proxy fits the budget (the loop of nnU-Net's planner).

    nnunetv2 ``ExperimentPlanner.get_plans_for_configuration``: start from a patch of 256^3 voxels
    shaped like the spacing allows (proportional to 1 / spacing, each axis rounded) and clipped to the
    median shape; while :func:`estimate_memory` exceeds :func:`memory_reference`, take the axis whose
    patch is largest relative to the median shape (ties as ``np.argsort``, which nnU-Net uses) and
    shrink it by its divisor (2 ** its poolings), recomputed after a first trial shrink so that no
    valid size is skipped; then recompute the topology.

    Args:
        spacing: (3,) target spacing, mm, in nnU-Net's transposed order (coarsest axis first).
        median_shape: (3,) median shape after resampling, same order.
        num_classes: output channels, background included.
        gpu_memory_gb: the GPU memory target, 8 in nnU-Net.

    Returns:
        (PoolingPlan of the final patch, its proxy estimate).

    Raises:
        ValueError: the budget is too small for any patch.
    """
    # 1. the initial patch: 256^3 voxels shaped by 1 / spacing, clipped to the median shape
    inverse = 1 / np.asarray(spacing, dtype=np.float64)
    initial = [round(v) for v in inverse * (INITIAL_PATCH_VOXELS / np.prod(inverse)) ** (1 / 3)]
    topology = pooling_plan([min(p, m) for p, m in zip(initial, median_shape)], spacing, max_stages=None)
    estimate = estimate_memory(topology.patch_size, topology.strides, num_classes=num_classes)
    # 2. shrink the most oversized axis until the proxy fits
    while estimate > memory_reference(gpu_memory_gb):
        patch = list(topology.patch_size)
        axis = int(np.argsort([p / m for p, m in zip(patch, median_shape)])[-1])
        trial = list(patch)
        trial[axis] -= topology.divisor[axis]
        if trial[axis] < 1:
            raise ValueError(f"gpu_memory_gb={gpu_memory_gb} is too small for any patch (axis {axis} reached "
                             f"{patch[axis]} voxels); raise the memory target")
        patch[axis] -= pooling_plan(trial, spacing, max_stages=None).divisor[axis]
        # 3. the topology of the smaller patch, and its estimate
        topology = pooling_plan(patch, spacing, max_stages=None)
        estimate = estimate_memory(topology.patch_size, topology.strides, num_classes=num_classes)
    return topology, estimate


@dataclass
class Plan:
    """nnU-Net's 3d_fullres configuration, every per-axis field in the input's (D, H, W) order.

    Attributes:
        spacing: (3,) target spacing, mm.
        normalization: "CTNormalization" | "ZScoreNormalization" (or another nnU-Net scheme name).
        use_mask_for_norm: z-score inside the non-zero mask only.
        patch_size: (3,) voxels.
        batch_size: samples per step.
        num_stages: resolution stages of the U-Net.
        strides, kernel_sizes: per stage, (3,) each.
        median_shape: (3,) median case shape after resampling to ``spacing`` (float, a median).
        features_per_stage: channels per stage.
        transpose_forward: nnU-Net's axis order for training (coarsest spacing first).
        estimate: the memory proxy of one sample (:func:`estimate_memory`).
    """

    spacing: tuple[float, ...]
    normalization: str
    use_mask_for_norm: bool
    patch_size: tuple[int, ...]
    batch_size: int
    num_stages: int
    strides: list[tuple[int, ...]]
    kernel_sizes: list[tuple[int, ...]]
    median_shape: tuple[float, ...]
    features_per_stage: tuple[int, ...]
    transpose_forward: tuple[int, ...]
    estimate: int


def plan(fp: Fingerprint, *, modality: str = "CT", gpu_memory_gb: float = 8.0, num_classes: int = 2,
         num_training: int | None = None, anisotropy_threshold: float = 3.0) -> Plan:
    """Plan the 3d_fullres U-Net from a fingerprint, as nnU-Net v2's ``ExperimentPlanner`` does.

    nnunetv2 ``ExperimentPlanner.plan_experiment`` (3d_fullres only) and
    ``get_plans_for_configuration``: target spacing (:func:`target_spacing`), axes reordered coarsest
    first (``determine_transpose``), the median shape after resampling (``compute_new_shape``:
    round(old spacing / new spacing * old shape)), the patch and topology (:func:`fit_patch_size`),
    the batch size round(reference / estimate * 2), capped so that one batch covers at most 5 % of
    the dataset's voxels and at least 2, and the normalization named by the channel.

    Args:
        fp: the dataset's :class:`Fingerprint`.
        modality: the channel name of dataset.json ("CT" -> CTNormalization; any unknown name -> z-score).
        gpu_memory_gb: GPU memory target, 8 in nnU-Net.
        num_classes: labels of dataset.json, background included.
        num_training: cases of the dataset (numTraining); None = the fingerprint's.
        anisotropy_threshold: 3 in nnU-Net.

    Returns:
        A :class:`Plan` in the input's axis order.

    Raises:
        ValueError: num_classes < 1, gpu_memory_gb <= 0, num_training < 1, and what :func:`target_spacing`
            and :func:`fit_patch_size` refuse.
    """
    if num_classes < 1 or not gpu_memory_gb > 0 or (num_training is not None and num_training < 1):
        raise ValueError(f"need num_classes >= 1 (background included), gpu_memory_gb > 0 and num_training >= 1, "
                         f"got {num_classes}, {gpu_memory_gb}, {num_training}")
    # 1. target spacing; nnU-Net's axis order (coarsest spacing first)
    spacing = target_spacing(fp.spacings, fp.shapes_after_crop, anisotropy_threshold=anisotropy_threshold)
    worst = int(np.argmax(spacing))
    forward = [worst] + [a for a in range(3) if a != worst]
    backward = [forward.index(a) for a in range(3)]
    # 2. median shape after resampling, and the dataset's voxels
    new_shapes = [[round(s / t * n) for s, t, n in zip(old, spacing, shape)]
                  for old, shape in zip(np.asarray(fp.spacings, dtype=np.float64), fp.shapes_after_crop)]
    median_shape = np.median(new_shapes, axis=0)
    cases = len(fp.spacings) if num_training is None else num_training
    dataset_voxels = float(np.prod(median_shape, dtype=np.float64) * cases)
    # 3. patch and topology in nnU-Net's order
    topology, estimate = fit_patch_size(spacing[forward], median_shape[forward], num_classes=num_classes,
                                        gpu_memory_gb=gpu_memory_gb)
    # 4. batch size: what the budget leaves, at most 5 % of the dataset, at least 2
    batch = round(memory_reference(gpu_memory_gb) / estimate * REFERENCE_BATCH_SIZE)
    cap = round(dataset_voxels * MAX_DATASET_COVERED / np.prod(topology.patch_size, dtype=np.float64))
    # 5. normalization named by the channel; the non-zero mask only when cropping removed > 25 %
    scheme = NORMALIZATION_BY_CHANNEL_NAME.get(modality.casefold(), "ZScoreNormalization")
    use_mask = scheme == "ZScoreNormalization" and fp.median_relative_size_after_crop < 0.75
    # 6. back to the input's axis order
    def back(values: Sequence) -> tuple:
        return tuple(values[i] for i in backward)

    return Plan(spacing=tuple(float(s) for s in spacing), normalization=scheme, use_mask_for_norm=use_mask,
                patch_size=back(topology.patch_size), batch_size=int(max(min(batch, cap), MIN_BATCH_SIZE)),
                num_stages=topology.num_stages, strides=[back(s) for s in topology.strides],
                kernel_sizes=[back(k) for k in topology.kernel_sizes],
                median_shape=tuple(float(m) for m in median_shape), features_per_stage=_features(topology.num_stages),
                transpose_forward=tuple(forward), estimate=estimate)


def _nnunet_rows(other: dict) -> dict:
    """Rows of an nnU-Net plans dict (whole nnUNetPlans.json or one configuration), in the input's axis order."""
    config = other["configurations"]["3d_fullres"] if "configurations" in other else other
    backward = other.get("transpose_backward", [0, 1, 2])

    def back(values: Sequence) -> tuple:
        return tuple(values[i] for i in backward)

    return {"spacing (mm)": back([float(s) for s in config["spacing"]]),
            "normalization": config["normalization_schemes"][0],
            "patch size": back([int(p) for p in config["patch_size"]]),
            "batch size": int(config["batch_size"]),
            "stages": len(config["architecture"]["arch_kwargs"]["strides"]),
            "strides": [back(s) for s in config["architecture"]["arch_kwargs"]["strides"]]}


def plan_table(ours: Plan, other: Plan | dict) -> str:
    """Our plan beside another one (a Plan, or nnU-Net's nnUNetPlans.json as a dict), row by row.

    An nnU-Net dict is mapped back to the input's axis order with its ``transpose_backward`` (a
    single configuration dict is taken as already in that order).

    Args:
        ours: a :class:`Plan`.
        other: a :class:`Plan`, the parsed nnUNetPlans.json, or its ``configurations["3d_fullres"]``.

    Returns:
        A text table: quantity | ours | other | same (spacings equal within 1e-6 mm).
    """
    def rows(p: Plan | dict) -> dict:
        if isinstance(p, dict):
            return _nnunet_rows(p)
        return {"spacing (mm)": tuple(round(s, 6) for s in p.spacing), "normalization": p.normalization,
                "patch size": tuple(p.patch_size), "batch size": p.batch_size, "stages": p.num_stages,
                "strides": list(p.strides)}

    def text(key: str, value: object) -> str:
        if key == "spacing (mm)":
            return str(tuple(round(v, 4) for v in value))
        if key == "strides":  # how often each axis is halved
            return f"{len(value)} stages, halved {tuple(sum(s[i] > 1 for s in value) for i in range(3))}"
        return str(value)

    a, b = rows(ours), rows(other)
    lines = [f"{'quantity':<15}{'ours':<36}{'other':<36}same"]
    for key in a:
        if key == "spacing (mm)":
            same = bool(np.allclose(a[key], b[key], rtol=0, atol=1e-6))
        elif key == "strides":
            same = [tuple(s) for s in a[key]] == [tuple(s) for s in b[key]]
        else:
            same = a[key] == b[key]
        lines.append(f"{key:<15}{text(key, a[key]):<36}{text(key, b[key]):<36}{'yes' if same else 'NO'}")
    return "\n".join(lines)
