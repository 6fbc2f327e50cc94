"""Generated "subjects" for an honest 3D segmentation evaluation: many brains, two scanner sites.

The MNI152 2009a symmetric template (lesson 11, :mod:`course.data.mni152`) is one brain, and an
exactly mirror-symmetric one: its other hemisphere is not held-out data, and one intensity threshold
segments its white matter with Dice ≈ 0.965. Lesson 14 needs what a reviewer accepts instead: several
patients split at the patient level (cross-validation), and a held-out scanner. This module makes them.

Each subject is the template under a smooth random **elastic deformation** (its own anatomy), seen
by a **site** (its scanner):

    anatomy (seed, index)      a displacement field u(p), mm: Gaussian-smoothed white noise on a 4 mm
                               control grid, scaled to max |u| = max_displacement_mm, read trilinearly at
                               each voxel (Simard et al. 2003; MONAI's Rand3DElastic is the same idea)
    image                      T1'(p + u(p)), trilinear, where T1' is the template averaged over the
                               slice profile (a box of ``slice_thickness`` mm along the last axis:
                               thick slices blur; blurring before the smooth warp instead of after it
                               changes little and costs one sample per voxel instead of six)
    label                      labels(p + u(p)), nearest neighbour at the slice centre
    scanner (site)             course.medical.augment: gamma (the sequence's contrast), then a bias
                               field (the coil, multiplicative), then Gaussian noise (thermal, additive)

    site   spacing (mm)   slice thickness   bias strength   noise std     gamma
    A      3 × 3 × 3      3 mm              0 … 0.15        0.01 … 0.03   0.9 … 1.1
    B      3 × 3 × 6      6 mm              0.3 … 0.5       0.04 … 0.06   1.5 … 1.9

Site B is the held-out scanner: thick axial slices (twice the spacing along the last axis, so half as
many), a stronger coil bias, more noise, and a gamma that darkens the mid-tones (white matter drops
below site A's grey/white threshold, in part). Unlike augment_intensity (bias, noise, then gamma: an
augmentation), the gamma comes first here, so the noise keeps its standard deviation in the air.

The anatomy depends on ``(seed, index)`` only, not on the site: the same seed on both sites gives the
same patients scanned twice ("travelling subjects"). Use different seeds for different patients.

Layout: arrays are (X, Y, Z) in RAS voxel order, like :func:`course.data.mni152.load_mni152`, used as
(D, H, W) by the networks; ``affine`` maps voxel indices to RAS millimetres; ``spacing`` is (3,) mm in
the same axis order. Labels: 0 background (outside the brain and CSF), 1 grey matter, 2 white matter
(the most probable class of the template's maps, :data:`course.data.mni152.LABEL_NAMES`).

Source: P. Simard, D. Steinkraus, J. Platt, "Best practices for convolutional neural networks applied
to visual document analysis", ICDAR 2003 (elastic distortion: smoothed random displacement fields);
template as in :mod:`course.data.mni152` (Fonov et al. 2009, 2011).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Sequence

import nibabel as nib
import numpy as np
import torch
from scipy import ndimage

from course.data.mni152 import mni152_path
from course.medical.augment import add_noise, adjust_gamma, bias_field

__all__ = ["Site", "SITES", "Subject", "make_subjects", "kfold_split", "fit_threshold", "subject_template",
           "warp_volume"]

_GRID_MM = 4.0  # spacing of the control grid on which the displacement noise is smoothed


@dataclasses.dataclass(frozen=True)
class Site:
    """A scanner: its voxel grid and the ranges its per-subject intensity parameters are drawn from.

    Attributes:
        name: the site's name, used in subject ids.
        spacing: (3,) voxel size in mm along the array axes (X, Y, Z); the last is the slice spacing.
        slice_thickness: mm covered by one slice along the last axis (>= 1; a box profile).
        bias_strength: (low, high) of the bias field's max |log field| (course.medical.augment.bias_field).
        noise_std: (low, high) of the Gaussian noise std (the template's T1 is in [0, 1]).
        gamma: (low, high) of the gamma exponent, drawn log-uniformly (> 1 darkens the mid-tones).
    """

    name: str
    spacing: tuple[float, float, float] = (3.0, 3.0, 3.0)  # mm, (X, Y, Z)
    slice_thickness: float = 3.0  # mm along Z
    bias_strength: tuple[float, float] = (0.0, 0.15)  # coil sensitivity, log units
    noise_std: tuple[float, float] = (0.01, 0.03)  # intensity units of the [0, 1] T1
    gamma: tuple[float, float] = (0.9, 1.1)  # contrast of the sequence


#: The two sites of lesson 14: A for training and cross-validation, B held out.
SITES: dict[str, Site] = {
    "A": Site("A"),
    "B": Site("B", spacing=(3.0, 3.0, 6.0), slice_thickness=6.0, bias_strength=(0.3, 0.5),
              noise_std=(0.04, 0.06), gamma=(1.5, 1.9)),
}


@dataclasses.dataclass
class Subject:
    """One generated patient scanned at one site.

    Attributes:
        subject_id: unique across seeds and sites, e.g. "A-s0-003" (site, seed, index).
        site: the site's name ("A" or "B").
        image: (X, Y, Z) float32 T1-like intensity (arbitrary units: the template's [0, 1] after the
            scanner; about −0.3 … 1.2 with the noise).
        label: (X, Y, Z) int64, 0 background, 1 grey matter, 2 white matter.
        spacing: (3,) float64 voxel size in mm, same axis order.
        affine: (4, 4) float64 voxel index -> RAS mm.
        displacement: (3, X, Y, Z) float32 mm, the elastic field u at each voxel centre (along X, Y, Z):
            voxel p shows the template at p + u(p).
    """

    subject_id: str
    site: str
    image: np.ndarray
    label: np.ndarray
    spacing: np.ndarray
    affine: np.ndarray
    displacement: np.ndarray


@functools.lru_cache(maxsize=4)
def subject_template(spacing: int = 2, margin: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The MNI152 2009a T1 and its labels on a ``spacing`` mm grid, cropped to the brain (cached).

    Faster than :func:`course.data.mni152.load_mni152` (0.3 s instead of 3 s): each ``spacing``³ block
    of the 1 mm maps is averaged (a box filter), then labels are the most probable of background,
    grey and white matter. The crop keeps ``margin`` voxels around the brain, room for deformations.

    Args:
        spacing: block size in mm (int >= 1).
        margin: voxels kept around the brain's bounding box (>= 0).

    Returns:
        ``(t1, labels, affine)``: (X, Y, Z) float32 in [0, 1], (X, Y, Z) int64 in {0, 1, 2}, (4, 4)
        float64 voxel -> RAS mm. At 2 mm with margin 6: (84, 102, 83), voxel 0 at (−83.5, −117.5, −71.5) mm.

    Raises:
        ValueError: spacing < 1 or margin < 0.
        FileNotFoundError: nilearn (which ships the template) is not installed.
    """
    # 1. validate and read the 1 mm uint8 maps
    if not isinstance(spacing, int) or spacing < 1 or margin < 0:
        raise ValueError(f"need an int spacing >= 1 mm and margin >= 0 voxels, got {spacing!r} and {margin!r}")
    images = {kind: nib.load(mni152_path(kind)) for kind in ("t1", "gm", "wm")}
    # 2. block means: (n // s, s) blocks per axis, averaged
    maps = {}
    for kind, img in images.items():
        data = np.asarray(img.dataobj, dtype=np.float32) / 255.0
        n = [size // spacing for size in data.shape]
        data = data[: n[0] * spacing, : n[1] * spacing, : n[2] * spacing]
        maps[kind] = data.reshape(n[0], spacing, n[1], spacing, n[2], spacing).mean(axis=(1, 3, 5))
    block = np.diag([spacing, spacing, spacing, 1.0])
    block[:3, 3] = (spacing - 1) / 2  # the new voxel's centre is the block's centre
    affine = images["t1"].affine @ block
    # 3. labels, then the crop to the brain plus margin
    labels = np.argmax(np.stack([1 - maps["gm"] - maps["wm"], maps["gm"], maps["wm"]]), axis=0)
    lo = [max(int(i.min()) - margin, 0) for i in np.nonzero(labels)]
    hi = [min(int(i.max()) + margin + 1, n) for i, n in zip(np.nonzero(labels), labels.shape)]
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    affine[:3, 3] = affine[:3, :3] @ np.array(lo, dtype=np.float64) + affine[:3, 3]
    t1, labels = np.ascontiguousarray(maps["t1"][box]), np.ascontiguousarray(labels[box]).astype(np.int64)
    t1.flags.writeable = labels.flags.writeable = False  # shared by every caller of the cache
    return t1, labels, affine


def warp_volume(volume: np.ndarray, coords: np.ndarray, *, order: int) -> np.ndarray:
    """Sample a volume at (fractional) voxel coordinates: trilinear for images, nearest for labels.

    Outside the volume the nearest edge value is used (the template's edge is background).

    Args:
        volume: (X, Y, Z) array.
        coords: (3, ...) float voxel coordinates into ``volume`` (axis 0 indexes X, Y, Z).
        order: 1 trilinear (float32 result), 0 nearest neighbour (result keeps ``volume``'s dtype;
            a half-way coordinate rounds up).

    Returns:
        (...) array of the sampled values.

    Raises:
        ValueError: volume not 3D, coords not (3, ...), or order not 0 or 1.
    """
    if volume.ndim != 3 or coords.shape[0] != 3 or order not in (0, 1):
        raise ValueError(f"need a 3D volume, (3, ...) coords and order 0 or 1; got {volume.shape}, "
                         f"{coords.shape} and {order!r}")
    if order == 0:  # exact rounding, in any dtype (map_coordinates would go through floats)
        idx = [np.clip(np.floor(c + 0.5).astype(np.int64), 0, n - 1) for c, n in zip(coords, volume.shape)]
        return volume[tuple(idx)]
    return ndimage.map_coordinates(volume.astype(np.float32, copy=False), coords, order=1, mode="nearest")


def _linear(data: np.ndarray, x: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of ``data`` at positions ``x`` (voxels) along one axis; edges repeated."""
    n = data.shape[axis]
    x = np.clip(x, 0, n - 1)
    lower = np.minimum(np.floor(x).astype(np.int64), max(n - 2, 0))
    weight = (x - lower).reshape((-1,) + (1,) * (data.ndim - axis - 1))
    upper = np.minimum(lower + 1, n - 1)
    return np.take(data, lower, axis=axis) * (1 - weight) + np.take(data, upper, axis=axis) * weight


@functools.lru_cache(maxsize=8)
def _slice_profile_t1(thickness: float) -> np.ndarray:
    """The template T1 averaged along Z over a box of ``thickness`` mm (1 mm sub-samples, linear)."""
    t1, _, affine = subject_template()
    count = max(int(round(thickness)), 1)
    offsets = ((np.arange(count) + 0.5) / count - 0.5) * thickness / affine[2, 2]  # template voxels
    z = np.arange(t1.shape[2], dtype=np.float64)
    out = np.mean([_linear(t1, z + dz, axis=2) for dz in offsets], axis=0).astype(np.float32)
    out.flags.writeable = False
    return out


def _displacement_field(shape: Sequence[int], spacing: float, *, sigma_mm: float, max_mm: float,
                        rng: np.random.Generator) -> np.ndarray:
    """A smooth random field on a control grid: (3, *grid) mm, Gaussian-smoothed noise, max |u| = max_mm."""
    extent = (np.asarray(shape) - 1) * spacing  # mm covered by the template
    grid = tuple(int(np.ceil(e / _GRID_MM)) + 1 for e in extent)
    noise = rng.standard_normal((3, *grid))
    field = np.stack([ndimage.gaussian_filter(n, sigma_mm / _GRID_MM, mode="reflect") for n in noise])
    return field * (max_mm / max(np.abs(field).max(), 1e-12))


def _make_one(index: int, seed: int, site: Site, sigma_mm: float, max_mm: float) -> Subject:
    """One subject: the anatomy from (seed, index), the scanner from (seed, index, site)."""
    t1, labels, t_affine = subject_template()
    t_spacing = float(t_affine[0, 0])
    # 1. the output grid: same origin and axes as the template, the site's spacing, inside its extent
    spacing = np.asarray(site.spacing, dtype=np.float64)
    shape = tuple(int(np.floor((n - 1) * t_spacing / s + 1e-9)) + 1 for n, s in zip(t1.shape, spacing))
    affine = t_affine @ np.diag([*(spacing / t_spacing), 1.0])
    axes_mm = [np.arange(n) * s for n, s in zip(shape, spacing)]  # voxel centres, mm from voxel 0
    # 2. the anatomy: a smooth displacement (mm), read trilinearly at every voxel centre (separable:
    #    the control grid and the output grid are parallel)
    u = _displacement_field(t1.shape, t_spacing, sigma_mm=sigma_mm, max_mm=max_mm,
                            rng=np.random.default_rng([seed, index]))
    for axis, x in enumerate(axes_mm):
        u = _linear(u, x / _GRID_MM, axis=axis + 1)  # (3, X, Y, Z) mm once all three axes are done
    points = np.stack(np.meshgrid(*axes_mm, indexing="ij"))  # (3, X, Y, Z) mm
    where = (points + u) / t_spacing  # template voxel coordinates
    # 3. image: trilinear in the template blurred by the slice profile; label: nearest neighbour
    image = warp_volume(_slice_profile_t1(float(site.slice_thickness)), where, order=1)
    label = warp_volume(labels, where, order=0)
    # 4. the scanner: contrast (gamma), coil bias (multiplicative), thermal noise (additive)
    rng = np.random.default_rng([seed, index, *site.name.encode()])
    gamma = float(np.exp(rng.uniform(np.log(site.gamma[0]), np.log(site.gamma[1]))))
    strength, std = rng.uniform(*site.bias_strength), rng.uniform(*site.noise_std)
    volume = adjust_gamma(torch.from_numpy(image), gamma)
    volume = volume * bias_field(shape, strength, seed=int(rng.integers(2**62)))
    image = add_noise(volume, std, seed=int(rng.integers(2**62))).numpy()
    return Subject(subject_id=f"{site.name}-s{seed}-{index:03d}", site=site.name, image=image, label=label,
                   spacing=spacing, affine=affine, displacement=u.astype(np.float32))


def make_subjects(num_subjects: int, *, seed: int, site: str | Site = "A", sigma_mm: float = 15.0,
                  max_displacement_mm: float = 8.0) -> list[Subject]:
    """Generate ``num_subjects`` deformed copies of the MNI152 template, scanned at ``site``.

    Args:
        num_subjects: how many, >= 1.
        seed: int; with the subject's index it fixes the anatomy, with the site also the scanner.
        site: "A", "B" (see :data:`SITES`) or a :class:`Site`.
        sigma_mm: smoothness of the deformation (Gaussian sigma in mm, > 0; larger: smoother).
        max_displacement_mm: the largest displacement component on the control grid (>= 0; 0 gives
            the template itself, resampled to the site's grid).

    Returns:
        A list of :class:`Subject`, ids "<site>-s<seed>-<index>" with index 0 … num_subjects − 1. Site A
        gives (56, 68, 55) voxels of 3 mm, site B (56, 68, 28) with 6 mm slices.

    Raises:
        ValueError: num_subjects < 1, a negative seed, an unknown site name or an impossible
            :class:`Site`, sigma_mm <= 0 or a negative max_displacement_mm.
        FileNotFoundError: nilearn (which ships the template) is not installed.
    """
    # 1. validate
    if isinstance(site, str):
        if site not in SITES:
            raise ValueError(f"site must be one of {sorted(SITES)} or a Site, got {site!r}")
        site = SITES[site]
    ranges = [site.bias_strength, site.noise_std, site.gamma]
    if (len(site.spacing) != 3 or min(site.spacing) <= 0 or site.slice_thickness <= 0 or min(site.gamma) <= 0
            or min(site.bias_strength + site.noise_std) < 0 or any(low > high for low, high in ranges)):
        raise ValueError(f"site {site.name!r} needs 3 positive spacings, slice_thickness > 0, gamma > 0, "
                         f"non-negative bias and noise, and (low, high) ranges; got {site}")
    if num_subjects < 1 or not isinstance(seed, int) or seed < 0 or sigma_mm <= 0 or max_displacement_mm < 0:
        raise ValueError(f"need num_subjects >= 1, an int seed >= 0, sigma_mm > 0 and max_displacement_mm >= 0; "
                         f"got {num_subjects}, {seed!r}, {sigma_mm} and {max_displacement_mm}")
    # 2. one subject per index
    return [_make_one(i, seed, site, sigma_mm, max_displacement_mm) for i in range(num_subjects)]


def kfold_split(subject_ids: Sequence[str], k: int = 3, *, seed: int) -> list[tuple[list[str], list[str]]]:
    """Patient-level k-fold cross-validation: every subject is tested exactly once, never trained on then.

    The ids are shuffled (numpy ``default_rng(seed)``) and cut into k folds whose sizes differ by at
    most one (``numpy.array_split``); fold i tests its own ids and trains on all the others. Both lists
    keep the order of ``subject_ids``. Like scikit-learn's ``KFold(k, shuffle=True)`` on patients; pass
    one id per patient, never one per image or patch.

    Args:
        subject_ids: unique ids.
        k: number of folds, 2 <= k <= len(subject_ids).
        seed: int, fixes the shuffle.

    Returns:
        k pairs ``(train_ids, test_ids)``.

    Raises:
        ValueError: duplicate ids, or k out of range.
    """
    ids = list(subject_ids)
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"subject ids must be unique (one per patient), got duplicates {duplicates[:5]}")
    if not 2 <= k <= len(ids):
        raise ValueError(f"k must be in [2, {len(ids)}] for {len(ids)} subjects, got {k}")
    folds = np.array_split(np.random.default_rng(seed).permutation(len(ids)), k)
    split = []
    for fold in folds:
        test = set(fold.tolist())
        train_ids = [s for i, s in enumerate(ids) if i not in test]
        split.append((train_ids, [s for i, s in enumerate(ids) if i in test]))
    return split


def fit_threshold(images: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> tuple[float, float]:
    """The single intensity threshold t whose segmentation ``image > t`` has the best pooled Dice.

    Pooled over all voxels of all images: Dice(t) = 2 TP / (2 TP + FP + FN). Every midpoint between
    consecutive distinct intensities is a candidate, so the maximum is exact (a sort, O(N log N)).

    Args:
        images: (X, Y, Z) float arrays.
        masks: bool arrays of the same shapes (e.g. ``label == 2`` for white matter).

    Returns:
        ``(threshold, dice)``: the threshold (image units) and its pooled Dice in [0, 1].

    Raises:
        ValueError: no images, shapes that differ, or no voxel in any mask.
    """
    # 1. pool and validate
    if not images or len(images) != len(masks) or any(i.shape != m.shape for i, m in zip(images, masks)):
        raise ValueError("need as many images as masks, with matching shapes, and at least one")
    values = np.concatenate([np.ravel(i) for i in images]).astype(np.float64)
    inside = np.concatenate([np.ravel(m) for m in masks]).astype(bool)
    if not inside.any():
        raise ValueError("the masks are empty: there is nothing to segment")
    # 2. sort descending: predicting the first j voxels gives TP = inside[:j].sum(), FP = j - TP
    order = np.argsort(-values, kind="stable")
    values, inside = values[order], inside[order]
    tp = np.cumsum(inside)
    j = np.arange(1, values.size + 1)
    dice = 2 * tp / (j + inside.sum())
    # 3. only cuts between distinct values are thresholds; take the best one
    valid = np.append(values[1:] < values[:-1], True)
    best = int(np.argmax(np.where(valid, dice, -1.0)))
    below = values[best + 1] if best + 1 < values.size else values[best] - 1.0
    return float((values[best] + below) / 2), float(dice[best])
