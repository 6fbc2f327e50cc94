"""Resampling a volume to a new voxel spacing, keeping its voxel axes.

Scanners produce voxels of many sizes (1 mm isotropic, 0.9 x 0.9 x 3 mm...); a network sees array
cells, not millimetres, so volumes are resampled to one spacing before training. Here the new grid
keeps the old voxel axes (the affine's column directions) and the centre of voxel 0, and only the
step along each axis changes. Because new and old grids are parallel, the interpolation separates
into one 1D interpolation per axis (order 0: nearest neighbour, order 1: linear; three passes of
linear interpolation are trilinear interpolation).

Grid rule (nibabel's ``processing.vox2out_vox``): along an axis of n voxels of spacing s, the old
centres span (n - 1) s mm; the new grid of spacing s' has ceil((n - 1) s / s') + 1 samples from
voxel 0's centre, so its last sample may lie up to one new voxel beyond the last old centre. There
the edge value is repeated (nibabel fills 0). For a canonical (RAS, axis-aligned) volume the output
then has the same shape and affine as ``nibabel.processing.resample_to_output(img, spacing, order)``
and the same values at every voxel whose centre lies inside the old volume's span.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["resample_to_spacing"]


def resample_to_spacing(data: np.ndarray, affine: np.ndarray, spacing: Sequence[float] | float,
                        order: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Resample a volume to a new voxel spacing along its own voxel axes.

    Args:
        data: (X, Y, Z) or (X, Y, Z, ...) volume; axes after the third (time, channels) are kept.
        affine: (4, 4) voxel index -> world mm (RAS for NIfTI; any world space works).
        spacing: the new voxel size in mm along axes 0, 1, 2 (three values, or one for isotropic).
        order: 0 nearest neighbour (for label maps: no new label values), 1 linear (intensities).

    Returns:
        ``(data, affine)``: float32 resampled data of shape (ceil((n - 1) s / s') + 1 per axis,
        trailing axes unchanged) and its (4, 4) float64 affine (same origin and directions, column
        j scaled to length ``spacing[j]``). The old spacing is the affine's column lengths.

    Raises:
        ValueError: data has fewer than 3 dimensions, the affine is not 4x4 or has a zero column,
            the spacing is not 1 or 3 positive values, or order is not 0 or 1.
    """
    # 1. check and read the old spacing from the affine's column lengths
    data = np.asarray(data, dtype=np.float32)
    affine = np.asarray(affine, dtype=np.float64)
    new = np.asarray(spacing, dtype=np.float64)
    new = np.full(3, float(new)) if new.ndim == 0 else new
    if data.ndim < 3 or affine.shape != (4, 4) or new.shape != (3,) or not np.all(new > 0) or order not in (0, 1):
        raise ValueError(f"need data with >= 3 dims, a 4x4 affine, 1 or 3 positive spacings (mm) and order 0 or 1; "
                         f"got data {data.shape}, affine {affine.shape}, spacing {spacing!r}, order {order!r}")
    old = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))  # (3,) mm
    if old.min() == 0:
        raise ValueError(f"the affine has a zero column (spacings {old}); it cannot place voxels")
    # 2. the new grid: same origin and directions, longer or shorter steps
    out_affine = affine.copy()
    out_affine[:3, :3] = affine[:3, :3] * (new / old)[None, :]
    out = data
    for axis in range(3):
        n = data.shape[axis]
        size = int(np.ceil((n - 1) * old[axis] / new[axis])) + 1
        # 3. positions of the new samples in old voxel units, clamped to the old span (edge value)
        x = np.clip(np.arange(size) * (new[axis] / old[axis]), 0, n - 1)
        if order == 0:
            out = np.take(out, np.floor(x + 0.5).astype(np.int64), axis=axis)
            continue
        # 4. linear: the two neighbours and the weight of the upper one, shaped to broadcast on `axis`
        lower = np.minimum(np.floor(x).astype(np.int64), max(n - 2, 0))
        upper = np.minimum(lower + 1, n - 1)
        weight = (x - lower).reshape((-1,) + (1,) * (out.ndim - axis - 1)).astype(np.float32)
        out = np.take(out, lower, axis=axis) * (1 - weight) + np.take(out, upper, axis=axis) * weight
    return np.ascontiguousarray(out, dtype=np.float32), out_affine
