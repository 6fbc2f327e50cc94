"""Tests of course.medical.nifti: orientation codes and reorientation against nibabel (real files,
random permutations, flips and rotations), affines, NIfTI I/O, and DICOM series -> NIfTI round trips
(checked against each DICOM file's ImagePositionPatient read by pydicom)."""
from __future__ import annotations

import itertools
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from nibabel.affines import apply_affine, voxel_sizes
from nibabel.orientations import apply_orientation, axcodes2ornt, inv_ornt_aff, io_orientation, ornt_transform

from course.data.phantom import write_ct_phantom_series
from course.data.samples import anatomical_nii_path, example4d_path
from course.medical.dicom import load_dicom_series
from course.medical.nifti import (
    axcodes,
    dicom_series_to_nifti,
    load_nifti,
    lps_to_ras,
    reorient,
    save_nifti,
    time_series_to_frames,
    voxel_spacing,
    voxel_to_world,
    xyz_to_dhw,
)

REAL_FILES = [anatomical_nii_path, example4d_path]
TARGETS = ["RAS", "LPS", "LAS", "PIR", "SAL", "ILA"]


def _random_affine(rng: np.random.Generator, *, oblique: bool = False) -> np.ndarray:
    """A voxel-to-world affine: a random axis permutation with flips (or a random rotation), random
    voxel sizes (mm) and translation."""
    if oblique:
        rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    else:
        rotation = np.eye(3)[:, rng.permutation(3)] * rng.choice([-1.0, 1.0], size=3)
    affine = np.eye(4)
    affine[:3, :3] = rotation * rng.uniform(0.4, 3.5, size=3)[None, :]
    affine[:3, 3] = rng.uniform(-120, 120, size=3)
    return affine


def _reorient_with_nibabel(data: np.ndarray, affine: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray]:
    """nibabel's own way: orientation transform, apply it to the data, and the affine's fix."""
    transform = ornt_transform(io_orientation(affine), axcodes2ornt(tuple(target)))
    return apply_orientation(data, transform), affine @ inv_ornt_aff(transform, data.shape)


# --- the real files -------------------------------------------------------------------------------


@pytest.mark.parametrize("locate", REAL_FILES)
def test_load_nifti_equals_nibabel(locate):
    """Check float32 data and the float64 affine equal nibabel's get_fdata and affine."""
    data, affine = load_nifti(locate())
    img = nib.load(locate())
    assert data.dtype == np.float32 and affine.dtype == np.float64
    assert data.shape == img.shape
    np.testing.assert_array_equal(data, img.get_fdata())
    np.testing.assert_array_equal(affine, img.affine)


@pytest.mark.parametrize("locate", REAL_FILES)
def test_axcodes_of_real_files_equal_nibabel(locate):
    """Check the LAS codes of anatomical.nii and of the oblique example4d.nii.gz against aff2axcodes."""
    _, affine = load_nifti(locate())
    assert axcodes(affine) == nib.aff2axcodes(affine) == ("L", "A", "S")


@pytest.mark.parametrize("locate", REAL_FILES)
def test_reorient_real_files_equals_as_closest_canonical(locate):
    """Check data (3D and 4D) and affine against nibabel's as_closest_canonical."""
    data, affine = load_nifti(locate())
    canonical = nib.as_closest_canonical(nib.load(locate()))
    ras, ras_affine = reorient(data, affine)
    np.testing.assert_array_equal(ras, canonical.get_fdata())
    np.testing.assert_allclose(ras_affine, canonical.affine, atol=1e-9)
    assert axcodes(ras_affine) == ("R", "A", "S")
    assert ras.flags.c_contiguous and ras.dtype == np.float32


def test_reorient_flip_moves_the_translation():
    """Check, on anatomical.nii (LAS -> RAS flips x), that the origin moves by (n - 1) * x step."""
    data, affine = load_nifti(anatomical_nii_path())
    _, ras_affine = reorient(data, affine)
    n = data.shape[0]
    np.testing.assert_allclose(ras_affine[:3, 3], affine[:3, 3] + (n - 1) * affine[:3, 0])
    np.testing.assert_allclose(ras_affine[:3, 0], -affine[:3, 0])
    assert not np.allclose(ras_affine[:3, 3], affine[:3, 3])


# --- random affines --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_axcodes_equal_nibabel_on_permutations_flips_and_rotations(seed):
    """Check axcodes against aff2axcodes for 6 random permuted/flipped and 6 oblique affines."""
    rng = np.random.default_rng(seed)
    affine = _random_affine(rng, oblique=seed >= 6)
    assert axcodes(affine) == nib.aff2axcodes(affine)


def test_axcodes_equal_nibabel_on_many_oblique_rotations():
    """Check 500 random rotations with random voxel sizes: the most axis-aligned column chooses first."""
    rng = np.random.default_rng(2024)
    for _ in range(500):
        affine = _random_affine(rng, oblique=True)
        assert axcodes(affine) == nib.aff2axcodes(affine), affine


@pytest.mark.parametrize("perm, signs", list(itertools.product(itertools.permutations(range(3)),
                                                               [(1, 1, 1), (-1, 1, -1), (1, -1, 1)])))
def test_axcodes_of_every_permutation(perm, signs):
    """Check all 6 axis permutations with several flips (the columns, not the rows, decide)."""
    affine = np.eye(4)
    affine[:3, :3] = np.eye(3)[:, list(perm)] * np.array(signs, dtype=float) * np.array([0.7, 1.3, 2.9])
    assert axcodes(affine) == nib.aff2axcodes(affine)


@pytest.mark.parametrize("seed, target", [(s, t) for s in range(4) for t in TARGETS])
def test_reorient_equals_nibabel_for_any_target(seed, target):
    """Check data and affine against nibabel's orientation transforms, odd sizes, 3D and 4D."""
    rng = np.random.default_rng(100 + seed)
    shape = (5, 7, 9) if seed % 2 else (3, 5, 7, 2)
    data = rng.normal(size=shape).astype(np.float32)
    affine = _random_affine(rng, oblique=seed == 3)
    ours, ours_affine = reorient(data, affine, target)
    theirs, theirs_affine = _reorient_with_nibabel(data, affine, target)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(ours_affine, theirs_affine, atol=1e-9)
    assert axcodes(ours_affine) == tuple(target)


@pytest.mark.parametrize("seed", range(4))
def test_reorient_keeps_every_voxel_at_its_world_position(seed):
    """Check that each voxel value sits at the same world point before and after (nibabel apply_affine)."""
    rng = np.random.default_rng(seed)
    data = np.arange(5 * 7 * 9, dtype=np.float32).reshape(5, 7, 9)  # every value unique
    affine = _random_affine(rng)
    new, new_affine = reorient(data, affine, "RAS")
    for new_index in rng.integers(0, new.shape, size=(10, 3)):
        old_index = np.argwhere(data == new[tuple(new_index)])[0]
        np.testing.assert_allclose(apply_affine(new_affine, new_index), apply_affine(affine, old_index), atol=1e-9)


def test_reorient_twice_returns_the_original():
    """Check that going to LPS and back to the original codes gives the original data and affine."""
    rng = np.random.default_rng(7)
    data = rng.normal(size=(3, 5, 7)).astype(np.float32)
    affine = _random_affine(rng)
    back, back_affine = reorient(*reorient(data, affine, "LPS"), "".join(axcodes(affine)))
    np.testing.assert_array_equal(back, data)
    np.testing.assert_allclose(back_affine, affine, atol=1e-9)


@pytest.mark.parametrize("target", ["RAR", "RA", "XYZ", "RASL", "LRS"])
def test_reorient_rejects_bad_targets(target):
    """Check ValueError for an invalid orientation code."""
    with pytest.raises(ValueError, match="one letter of each pair"):
        reorient(np.zeros((3, 3, 3)), np.eye(4), target)


def test_bad_affines_and_data_are_rejected():
    """Check ValueError for a 2D array, a 3x3 affine and a singular affine."""
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        reorient(np.zeros((3, 3)), np.eye(4))
    with pytest.raises(ValueError, match="4x4"):
        axcodes(np.eye(3))
    singular = np.eye(4)
    singular[:3, 2] = singular[:3, 0]
    with pytest.raises(ValueError, match="singular"):
        axcodes(singular)


# --- affines: world coordinates and spacing ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_voxel_to_world_equals_apply_affine(seed):
    """Check (N, 3) and (3,) indices against nibabel's apply_affine."""
    rng = np.random.default_rng(seed)
    affine = _random_affine(rng, oblique=seed % 2 == 1)
    ijk = rng.uniform(-2, 30, size=(11, 3))
    np.testing.assert_allclose(voxel_to_world(affine, ijk), apply_affine(affine, ijk), atol=1e-9)
    np.testing.assert_allclose(voxel_to_world(affine, ijk[0]), apply_affine(affine, ijk[0]), atol=1e-9)
    with pytest.raises(ValueError):
        voxel_to_world(affine, ijk[:, :2])


@pytest.mark.parametrize("seed", range(6))
def test_voxel_spacing_equals_nibabel_voxel_sizes(seed):
    """Check column norms against nibabel's voxel_sizes, also for oblique and permuted affines."""
    affine = _random_affine(np.random.default_rng(seed), oblique=seed >= 3)
    np.testing.assert_allclose(voxel_spacing(affine), voxel_sizes(affine))


@pytest.mark.parametrize("locate", REAL_FILES)
def test_voxel_spacing_of_real_files_equals_header_zooms(locate):
    """Check the oblique example4d.nii.gz too: the spacing is not the affine's diagonal there."""
    _, affine = load_nifti(locate())
    zooms = nib.load(locate()).header.get_zooms()[:3]
    np.testing.assert_allclose(voxel_spacing(affine), zooms, rtol=1e-6)


def test_lps_to_ras_negates_x_and_y_and_is_its_own_inverse():
    """Check on a random affine: world points change sign in x and y; applying twice is the identity."""
    affine = _random_affine(np.random.default_rng(3), oblique=True)
    ijk = np.array([[1.0, 2.0, 3.0], [4.0, 0.0, 7.0]])
    np.testing.assert_allclose(voxel_to_world(lps_to_ras(affine), ijk),
                               voxel_to_world(affine, ijk) * np.array([-1, -1, 1]))
    np.testing.assert_allclose(lps_to_ras(lps_to_ras(affine)), affine)


# --- writing NIfTI; DICOM series -> NIfTI --------------------------------------------------------------


def test_save_nifti_round_trip_and_header(tmp_path):
    """Check that nibabel reads back the data, the affine in both sform and qform, code 1, and mm units."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(5, 7, 3)).astype(np.float32)
    affine = _random_affine(rng, oblique=True)
    path = save_nifti(data, affine, tmp_path / "x.nii.gz")
    img = nib.load(path)
    np.testing.assert_array_equal(img.get_fdata(), data)
    np.testing.assert_allclose(img.get_sform(), affine, atol=1e-6)
    np.testing.assert_allclose(img.get_qform(), affine, atol=1e-4)
    assert int(img.header["sform_code"]) == int(img.header["qform_code"]) == 1
    assert img.header.get_xyzt_units() == ("mm", "sec")
    back, back_affine = load_nifti(path)
    np.testing.assert_array_equal(back, data)


def test_load_nifti_errors(tmp_path):
    """Check FileNotFoundError for a missing file and ValueError for a file that is not NIfTI."""
    with pytest.raises(FileNotFoundError, match="no NIfTI file"):
        load_nifti(tmp_path / "missing.nii")
    bad = tmp_path / "bad.nii"
    bad.write_bytes(b"not a nifti file at all" * 20)
    with pytest.raises(ValueError, match="could not read"):
        load_nifti(bad)


@pytest.mark.parametrize("orientation", [(1, 0, 0, 0, 1, 0), (1, 0, 0, 0, 0, -1), (0.0, 0.8, 0.6, 0, -0.6, 0.8)])
def test_dicom_series_to_nifti_round_trip(tmp_path, orientation):
    """Check that the NIfTI written from a shuffled phantom series holds the same HU, that nibabel
    puts voxel (k, 0, 0) at each file's ImagePositionPatient with x and y negated (LPS -> RAS), and
    that nibabel's canonical view equals our reorient."""
    folder = tmp_path / "series"
    paths = write_ct_phantom_series(folder, shape=(7, 11, 13), spacing=(2.5, 0.7, 0.9), image_orientation=orientation)
    out = dicom_series_to_nifti(folder, tmp_path / "ct.nii.gz")
    volume, _, affine_lps = load_dicom_series(folder)
    data, affine = load_nifti(out)
    np.testing.assert_array_equal(data, volume)
    img = nib.load(out)
    for k, path in enumerate(paths):
        position_lps = np.array(pydicom.dcmread(path).ImagePositionPatient, dtype=float)
        np.testing.assert_allclose(apply_affine(img.affine, [k, 0, 0]), position_lps * [-1, -1, 1], atol=1e-3)
    canonical = nib.as_closest_canonical(img)
    ras, ras_affine = reorient(data, affine)
    np.testing.assert_array_equal(ras, canonical.get_fdata())
    np.testing.assert_allclose(ras_affine, canonical.affine, atol=1e-4)


def test_dicom_series_to_nifti_axial_codes(tmp_path):
    """Check that an axial series (slice, row, column) = (+z, +y, +x) in LPS is ('S', 'P', 'L') in RAS."""
    write_ct_phantom_series(tmp_path / "s", shape=(5, 9, 7))
    out = dicom_series_to_nifti(tmp_path / "s", tmp_path / "ct.nii")
    assert axcodes(nib.load(out).affine) == nib.aff2axcodes(nib.load(out).affine) == ("S", "P", "L")


# --- layouts ----------------------------------------------------------------------------------------------


def test_xyz_to_dhw_and_frames():
    """Check (X, Y, Z) -> (Z, Y, X) and (X, Y, Z, T) -> (T, 1, Z, Y, X) element by element."""
    rng = np.random.default_rng(0)
    vol = rng.normal(size=(3, 5, 7)).astype(np.float32)
    dhw = xyz_to_dhw(vol)
    assert dhw.shape == (7, 5, 3) and dhw[6, 4, 2] == vol[2, 4, 6] and dhw[1, 2, 0] == vol[0, 2, 1]
    series = rng.normal(size=(3, 5, 7, 2)).astype(np.float32)
    frames = time_series_to_frames(series)
    assert frames.shape == (2, 1, 7, 5, 3) and frames.flags.c_contiguous
    for t in range(2):
        np.testing.assert_array_equal(frames[t, 0], xyz_to_dhw(series[..., t]))
    with pytest.raises(ValueError):
        xyz_to_dhw(series)
    with pytest.raises(ValueError):
        time_series_to_frames(vol)


@pytest.mark.parametrize("shape, diag", [((1, 1, 1), (-1.0, -1.0, 1.0)), ((1, 4, 1), (-2.0, 1.0, -1.0)),
                                         ((3, 4, 5), (1.0, 1.0, 1.0))])
def test_reorient_returns_a_new_array_with_positive_strides(shape, diag):
    """Check a copy (not a view of the input, even for RAS in) with C strides, also when size-1 axes are flipped."""
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    out, _ = reorient(data, np.diag([*diag, 1.0]))
    assert out.flags.c_contiguous and min(out.strides) > 0 and not np.shares_memory(out, data)
