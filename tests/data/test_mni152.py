"""Tests of course.data.mni152: the files are found and read, the 2 mm grid agrees with an independent
computation (scipy's 1D correlation + nibabel's affine algebra), the labels follow the documented rule,
the template is mirror-symmetric and the hemispheres split at x = 0 mm."""
from __future__ import annotations

import importlib.metadata

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from course.data import mni152
from course.data.mni152 import MNI152, load_mni152, lr_axis, mirror, mirror_asymmetry, mni152_path, split_hemispheres


@pytest.fixture(scope="module")
def raw() -> dict[str, nib.Nifti1Image]:
    return {kind: nib.load(mni152_path(kind)) for kind in ("t1", "gm", "wm")}


@pytest.fixture(scope="module")
def template() -> MNI152:
    return load_mni152()


# --- locators ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["t1", "gm", "wm"])
def test_files_are_the_documented_template(raw: dict, kind: str) -> None:
    img = raw[kind]
    assert mni152_path(kind).name == f"mni_icbm152_{kind}_tal_nlin_sym_09a_converted.nii.gz"
    assert img.shape == (197, 233, 189)
    assert nib.aff2axcodes(img.affine) == ("R", "A", "S")
    assert np.allclose(np.abs(np.diag(img.affine)[:3]), 1.0)
    assert img.get_data_dtype() == np.uint8


def test_unknown_kind_and_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="kind"):
        mni152_path("t2")

    def missing(dist: str) -> None:
        raise importlib.metadata.PackageNotFoundError(dist)

    monkeypatch.setattr(mni152.importlib.metadata, "files", missing)
    with pytest.raises(FileNotFoundError, match="pip install nilearn"):
        mni152_path("t1")


# --- the 2 mm grid ------------------------------------------------------------------------------------

def test_shapes_dtypes_and_ranges(template: MNI152) -> None:
    assert template.t1.shape == template.gm.shape == template.wm.shape == template.labels.shape == (73, 92, 78)
    assert template.t1.dtype == template.gm.dtype == template.wm.dtype == np.float32
    assert template.labels.dtype == np.int64
    assert set(np.unique(template.labels)) == {0, 1, 2}
    for volume in (template.t1, template.gm, template.wm):
        assert 0.0 <= volume.min() and volume.max() <= 1.0
    assert template.spacing == 2
    assert np.allclose(np.diag(template.affine)[:3], 2.0)


@pytest.mark.parametrize("spacing", [2, 3])
def test_downsampling_matches_scipy_and_the_affine(raw: dict, spacing: int) -> None:
    """Each kept voxel is the tent-filtered 1 mm volume at the voxel the affine points to."""
    coarse = load_mni152(spacing, crop=False)
    weights = np.array([spacing - abs(k) for k in range(-spacing + 1, spacing)], dtype=np.float64)
    weights /= weights.sum()
    for kind, ours in [("t1", coarse.t1), ("wm", coarse.wm)]:
        filtered = np.asarray(raw[kind].dataobj, dtype=np.float64) / 255.0
        for axis in range(3):
            filtered = ndimage.correlate1d(filtered, weights, axis=axis, mode="constant", cval=0.0)
        # voxel index on the 1 mm grid of each coarse voxel, through the two affines (nibabel)
        ijk = np.stack(np.meshgrid(*[np.arange(n) for n in ours.shape], indexing="ij"), -1).reshape(-1, 3)
        fine = nib.affines.apply_affine(np.linalg.inv(raw[kind].affine) @ coarse.affine, ijk)
        assert np.allclose(fine, np.round(fine))
        fine = np.round(fine).astype(int)
        expected = filtered[fine[:, 0], fine[:, 1], fine[:, 2]].reshape(ours.shape)
        np.testing.assert_allclose(ours, expected, atol=1e-6)


def test_labels_are_the_most_probable_class(template: MNI152) -> None:
    probs = np.stack([1 - template.gm - template.wm, template.gm, template.wm])
    best = probs.max(axis=0)
    chosen = np.take_along_axis(probs, template.labels[None], axis=0)[0]
    assert np.allclose(chosen, best, atol=1e-6)
    # the T1 contrast of the template: white brighter than grey brighter than background
    medians = [np.median(template.t1[template.labels == c]) for c in range(3)]
    assert medians[0] < medians[1] < medians[2]


def test_crop_keeps_the_brain_and_the_midline(template: MNI152) -> None:
    full = load_mni152(crop=False)
    assert full.labels.shape == (99, 117, 95)
    assert (full.labels > 0).sum() == (template.labels > 0).sum()  # no brain voxel lost
    # the crop is the same voxels: the affine places the cropped origin on the full grid
    start = np.round(np.linalg.solve(full.affine, template.affine @ [0, 0, 0, 1])[:3]).astype(int)
    x, y, z = (slice(s, s + n) for s, n in zip(start, template.labels.shape))
    np.testing.assert_array_equal(full.labels[x, y, z], template.labels)
    # the midline x = 0 mm is the central voxel of the left-right axis
    centre = (template.labels.shape[0] - 1) / 2
    assert nib.affines.apply_affine(template.affine, [centre, 0, 0])[0] == 0.0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="spacing"):
        load_mni152(0)
    with pytest.raises(ValueError, match="margin"):
        load_mni152(margin=-1)


# --- symmetry and hemispheres ----------------------------------------------------------------------------

def test_template_is_exactly_mirror_symmetric(raw: dict, template: MNI152) -> None:
    # on the original 1 mm files (x = 0 is voxel 98, the centre of 197)
    t1 = np.asarray(raw["t1"].dataobj)
    assert np.array_equal(t1, t1[::-1])
    # and on the 2 mm grid, for every map
    for volume in (template.t1, template.gm, template.wm, template.labels):
        assert mirror_asymmetry(volume, template.affine) == 0.0
    # a broken symmetry is measured
    broken = template.t1.copy()
    broken[10, 40, 40] += 0.25
    assert mirror_asymmetry(broken, template.affine) == pytest.approx(0.25)


def test_mirror_flips_about_the_midline_in_world_coordinates(template: MNI152) -> None:
    flipped = mirror(template.t1[None], template.affine)[0]  # leading axes are allowed
    assert np.array_equal(flipped, template.t1[::-1])
    # voxel i maps to x, its mirror voxel to -x
    n = template.t1.shape[0]
    for i in (0, 5, n - 1):
        x = nib.affines.apply_affine(template.affine, [i, 0, 0])[0]
        x_mirror = nib.affines.apply_affine(template.affine, [n - 1 - i, 0, 0])[0]
        assert x == -x_mirror
    uncentred = template.t1[1:]
    shifted = template.affine.copy()
    shifted[0, 3] += 2.0
    with pytest.raises(ValueError, match="centre"):
        mirror(uncentred, shifted)


def test_split_hemispheres_by_the_sign_of_x(template: MNI152) -> None:
    left, right = split_hemispheres(template.labels, template.affine)
    n = template.labels.shape[0]
    assert left.shape == right.shape == ((n - 1) // 2, 92, 78)
    xs = nib.affines.apply_affine(template.affine, np.stack([np.arange(n), np.zeros(n), np.zeros(n)], 1))[:, 0]
    np.testing.assert_array_equal(left, template.labels[xs < 0])
    np.testing.assert_array_equal(right, template.labels[xs > 0])
    np.testing.assert_array_equal(left, right[::-1])  # the symmetric template: one side is the other, mirrored
    # an LAS grid (x decreasing with the index) puts the left side after the midline
    las = template.affine @ np.array([[-1, 0, 0, n - 1], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    assert nib.aff2axcodes(las)[0] == "L" and lr_axis(las) == 0
    left_las, right_las = split_hemispheres(template.labels[::-1], las)
    np.testing.assert_array_equal(left_las, left[::-1])
    np.testing.assert_array_equal(right_las, right[::-1])


def test_split_needs_a_voxel_on_the_midline(template: MNI152) -> None:
    shifted = template.affine.copy()
    shifted[0, 3] += 1.0  # half a voxel
    with pytest.raises(ValueError, match="midline"):
        split_hemispheres(template.t1, shifted)
    with pytest.raises(ValueError, match="X, Y, Z"):
        split_hemispheres(template.t1[0], template.affine)
