"""Tests of course.medical.resample: against nibabel.processing.resample_to_output on canonical volumes
(same shape and affine; values equal at voxels inside the input's span), and against
scipy.ndimage.map_coordinates on oblique and permuted affines (the coordinate mapping itself)."""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nibabel.affines import apply_affine, voxel_sizes
from nibabel.processing import resample_to_output
from scipy.ndimage import map_coordinates

from course.data.samples import anatomical_nii_path, example4d_path
from course.medical.nifti import load_nifti, reorient
from course.medical.resample import resample_to_spacing

SPACINGS = [(1.0, 1.0, 1.0), (1.3, 2.7, 0.9), (3.1, 1.7, 2.2), (0.7, 0.7, 2.9)]


def _inside(shape_out: tuple[int, ...], affine_out: np.ndarray, affine_in: np.ndarray,
            shape_in: tuple[int, ...]) -> tuple[slice, ...]:
    """The output voxels whose centres lie within the input's span of centres (axis-aligned grids)."""
    steps = voxel_sizes(affine_out) / voxel_sizes(affine_in)
    return tuple(slice(0, int(np.floor((n_in - 1) / s + 1e-9)) + 1) for n_in, s in zip(shape_in[:3], steps))


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("spacing", SPACINGS)
def test_equals_nibabel_on_canonical_anatomical(order, spacing):
    """Check shape, affine and values (inside the volume) against resample_to_output on the RAS T1."""
    ras, ras_affine = reorient(*load_nifti(anatomical_nii_path()))
    ours, ours_affine = resample_to_spacing(ras, ras_affine, spacing, order)
    theirs = resample_to_output(nib.Nifti1Image(ras, ras_affine), spacing, order=order)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours_affine, theirs.affine, atol=1e-9)
    inside = _inside(ours.shape, ours_affine, ras_affine, ras.shape)
    np.testing.assert_allclose(ours[inside], theirs.get_fdata()[inside], rtol=1e-5, atol=1e-2)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("seed", range(4))
def test_equals_scipy_on_oblique_and_permuted_affines(order, seed):
    """Check every output voxel against map_coordinates at affine_in^-1 @ affine_out @ index (mode nearest)."""
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(7, 5, 9)).astype(np.float32)
    if seed % 2:
        rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    else:
        rotation = np.eye(3)[:, rng.permutation(3)] * rng.choice([-1.0, 1.0], size=3)
    affine = np.eye(4)
    affine[:3, :3] = rotation * rng.uniform(0.5, 3.0, size=3)
    affine[:3, 3] = rng.uniform(-50, 50, size=3)
    spacing = rng.uniform(0.6, 2.5, size=3)
    ours, ours_affine = resample_to_spacing(data, affine, spacing, order)
    np.testing.assert_allclose(voxel_sizes(ours_affine), spacing)
    index = np.indices(ours.shape).reshape(3, -1).T  # (N, 3) output voxel indices
    old = apply_affine(np.linalg.inv(affine) @ ours_affine, index)  # (N, 3) positions in input voxels
    theirs = map_coordinates(data.astype(np.float64), np.clip(old, 0, np.array(data.shape) - 1).T, order=order)
    np.testing.assert_allclose(ours.reshape(-1), theirs, rtol=1e-5, atol=1e-5)


def test_4d_resamples_each_volume_alike():
    """Check the oblique 4D example: each time point equals resampling that 3D volume alone."""
    data, affine = load_nifti(example4d_path())
    data = data[::4, ::4, ::2]  # small crop keeps the test quick
    affine = affine.copy()
    affine[:3, :3] *= np.array([4, 4, 2])
    ours, ours_affine = resample_to_spacing(data, affine, 5.0)
    assert ours.shape[3] == 2
    for t in range(2):
        one, one_affine = resample_to_spacing(data[..., t], affine, 5.0)
        np.testing.assert_array_equal(ours[..., t], one)
        np.testing.assert_allclose(one_affine, ours_affine)


def test_order0_keeps_label_values_and_same_spacing_is_identity():
    """Check that nearest neighbour invents no label, and that resampling to the same spacing changes nothing."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=(9, 7, 5)).astype(np.float32)
    affine = np.diag([0.8, 1.1, 2.5, 1.0])
    out, _ = resample_to_spacing(labels, affine, (0.5, 0.9, 1.3), order=0)
    assert set(np.unique(out)) <= set(np.unique(labels))
    same, same_affine = resample_to_spacing(labels, affine, (0.8, 1.1, 2.5), order=1)
    np.testing.assert_array_equal(same, labels)
    np.testing.assert_allclose(same_affine, affine)


@pytest.mark.parametrize("kwargs", [dict(spacing=(1.0, 1.0)), dict(spacing=(1.0, 0.0, 1.0)), dict(spacing=1.0, order=3)])
def test_bad_arguments(kwargs):
    """Check ValueError for two spacings, a zero spacing and an unsupported order."""
    with pytest.raises(ValueError, match="positive spacings"):
        resample_to_spacing(np.zeros((3, 3, 3)), np.eye(4), **kwargs)
