"""Intensity normalization of MRI: z-score over the foreground, and min-max for comparison.

Lesson 10_mri_nifti.

MRI intensities have no physical unit: the same tissue gets different numbers on different scanners,
sequences and even sessions (unlike CT's Hounsfield units). Standard practice before a network
(nnU-Net, Isensee et al. 2021; the survey of Reinhold et al. 2019) is a per-volume z-score: subtract
the mean and divide by the standard deviation **of the foreground** (the head), because the
background's share of the volume changes with the field of view and would otherwise dominate both
statistics. Histogram-matching methods (Nyúl & Udupa 1999; Nyúl, Udupa & Zhang 2000) go further by
aligning intensity landmarks across volumes. Min-max scaling to [0, 1] is shown for comparison: a
single outlier voxel (a vessel, an artefact) sets the maximum and squeezes every tissue.
"""
from __future__ import annotations

import numpy as np

__all__ = ["foreground_mask", "zscore", "minmax"]


def foreground_mask(volume: np.ndarray) -> np.ndarray:
    """Voxels brighter than the volume's mean intensity: a rough head (foreground) mask.

    In a head MRI most of the field of view is dark background near 0, so the overall mean lies
    between the background and the tissue intensities; a simple threshold that needs no parameter.

    Args:
        volume: any shape, intensities (arbitrary units).

    Returns:
        bool array, same shape: ``volume > volume.mean()``.

    Raises:
        ValueError: the volume is empty.
    """
    volume = np.asarray(volume, dtype=np.float64)
    if volume.size == 0:
        raise ValueError("the volume is empty; pass an array with at least one voxel")
    return volume > volume.mean()


def zscore(volume: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Z-score a volume with the mean and standard deviation of its foreground.

    ``(volume - mean(volume[mask])) / std(volume[mask])`` applied to every voxel (background too),
    with the population standard deviation (ddof 0, numpy's default).

    Args:
        volume: any shape (e.g. (X, Y, Z)), intensities (arbitrary units).
        mask: bool array of the same shape marking the foreground; None uses
            :func:`foreground_mask` (voxels above the mean).

    Returns:
        float32, same shape: foreground mean 0 and standard deviation 1 (computed in float64).

    Raises:
        ValueError: the mask's shape differs from the volume's, it selects fewer than 2 voxels, or
            the foreground is constant (standard deviation 0).
    """
    # 1. the foreground
    volume = np.asarray(volume, dtype=np.float64)
    mask = foreground_mask(volume) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != volume.shape:
        raise ValueError(f"mask shape {mask.shape} differs from volume shape {volume.shape}")
    if mask.sum() < 2:
        raise ValueError(f"the mask selects {int(mask.sum())} voxel(s); a z-score needs at least 2")
    # 2. its statistics
    values = volume[mask]
    mean, std = values.mean(), values.std()
    if std == 0:
        raise ValueError("the foreground is constant (standard deviation 0); nothing to normalize")
    # 3. applied to every voxel
    return ((volume - mean) / std).astype(np.float32)


def minmax(volume: np.ndarray) -> np.ndarray:
    """Scale a volume linearly to [0, 1]: ``(volume - min) / (max - min)``.

    Args:
        volume: any shape, intensities.

    Returns:
        float32, same shape, in [0, 1].

    Raises:
        ValueError: the volume is empty or constant.
    """
    volume = np.asarray(volume, dtype=np.float64)
    if volume.size == 0 or volume.max() == volume.min():
        raise ValueError("min-max scaling needs a non-empty volume with at least two different values")
    return ((volume - volume.min()) / (volume.max() - volume.min())).astype(np.float32)
