"""Tests of course.data.chest_ct: HU of every tissue after the 2x downsampling, the clot inside an
artery, determinism, patient-level variation, the two sites' noise and slices, and the DICOM and
NIfTI files read back with course.medical, pydicom and nibabel."""
from __future__ import annotations

import dataclasses
import re

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from scipy import ndimage

from course.data.chest_ct import (CHEST_CT_HU, CHEST_SITES, ChestCT, ChestSite, chest_ct, chest_ct_dataset,
                                  write_chest_ct_nifti, write_chest_ct_series)
from course.medical import load_dicom_series, load_nifti, lps_to_ras, voxel_to_world

SIX = ndimage.generate_binary_structure(3, 1)


def clean(site: str) -> ChestSite:
    """The site without noise and kernel blur; same name, so the same seed draws the same patient."""
    return dataclasses.replace(CHEST_SITES[site], noise_std_hu=(0.0, 0.0), kernel_sigma_mm=0.0)


def interiors(v: ChestCT) -> dict[str, np.ndarray]:
    """Voxels two voxels away from any other tissue (and one voxel inside the large arteries)."""
    near_vessel = ndimage.binary_dilation(v.vessel_mask, SIX, iterations=2)
    near_clot = ndimage.binary_dilation(v.embolus_mask, SIX, iterations=2)
    near_nodule = ndimage.binary_dilation(v.nodule_mask, SIX, iterations=2)
    return {"lung": ndimage.binary_erosion(v.lung_mask, SIX, iterations=2) & ~near_vessel & ~near_nodule,
            "soft_tissue": ~ndimage.binary_dilation(v.lung_mask, SIX, iterations=2) & ~near_vessel,
            "vessel": ndimage.binary_erosion(v.vessel_mask, SIX) & ~near_clot}


# --- layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, site", [((32, 48, 48), "A"), ((17, 41, 45), "B"), ((9, 37, 33), "A")])
def test_layout_shapes_dtypes_and_affine(shape, site):
    """Check (D, H, W) float32 HU, bool masks, spacing (3,) mm and an axial LPS affine centred on the volume."""
    v = chest_ct(4, label=1, site=site, shape=shape)
    assert v.hu.shape == shape and v.hu.dtype == np.float32 and np.isfinite(v.hu).all()
    for mask in (v.embolus_mask, v.vessel_mask, v.lung_mask, v.nodule_mask):
        assert mask.shape == shape and mask.dtype == bool
    assert v.spacing.shape == (3,) and v.spacing[1] == v.spacing[2]
    np.testing.assert_allclose(np.linalg.norm(v.affine[:3, :3], axis=0), v.spacing)
    centre = v.affine @ np.array([(n - 1) / 2 for n in shape] + [1.0])
    np.testing.assert_allclose(centre[:3], 0.0, atol=1e-9)  # the volume's centre is the LPS origin
    assert v.affine[2, 0] == pytest.approx(v.spacing[0])  # slice index runs towards the head (+z)
    assert re.fullmatch(rf"{site}-s4-p0000", v.patient_id) and v.site == site and v.label == 1
    assert v.tree.shape == (31, 7) and v.embolus.shape == (7,) and v.nodules.shape[1] == 7


# --- Hounsfield units ------------------------------------------------------------------------


@pytest.mark.parametrize("site", ["A", "B"])
def test_tissue_hu_after_downsampling_equals_the_drawn_values(site):
    """Check, without noise and blur, that interior voxels hold exactly each tissue's drawn HU (partial
    volume touches only borders), and that the drawn values lie in CHEST_CT_HU."""
    for index in range(4):
        v = chest_ct(6, index=index, label=1, site=clean(site))
        for name, (low, high) in CHEST_CT_HU.items():
            assert low <= v.tissue_hu[name] <= high, name
        for name, region in interiors(v).items():
            assert region.sum() > 20, name
            np.testing.assert_allclose(np.median(v.hu[region]), v.tissue_hu[name], atol=0.5, err_msg=name)
        # (sub-voxel terminal branches and nodules, in no mask, touch a few lung voxels)
        assert np.mean(np.abs(v.hu[interiors(v)["lung"]] - v.tissue_hu["lung"]) < 1.0) > 0.97


@pytest.mark.parametrize("site", ["A", "B"])
def test_tissue_hu_with_noise_stays_in_range(site):
    """Check noisy scans against the documented ranges: the median HU of lung and soft-tissue interiors,
    and the brightest lumen voxels (95th percentile of the vessel mask; partial volume and the kernel's
    blur darken the narrow arteries, more so at site B)."""
    for index in range(4):
        v = chest_ct(7, index=index, label=0, site=site)
        for name, region in interiors(v).items():
            if name != "vessel":
                low, high = CHEST_CT_HU[name]
                assert low - 3 <= np.median(v.hu[region]) <= high + 3, name
        low, high = CHEST_CT_HU["vessel"]
        assert low - 20 <= np.percentile(v.hu[v.vessel_mask], 95) <= high + 2 * CHEST_SITES[site].noise_std_hu[1]


def test_embolus_is_a_filling_defect_of_soft_tissue_hu():
    """Check, without noise, that some voxel is all clot (the drawn 40-70 HU) and that the clot's voxels
    are on average far darker than the contrast around them."""
    site = dataclasses.replace(clean("A"), slice_thickness_mm=(1.25, 1.25))
    for index in range(6):
        v = chest_ct(8, index=index, label=1, site=site)
        clot = v.hu[v.embolus_mask]
        assert np.abs(clot - v.tissue_hu["embolus"]).min() < 1.0
        assert clot.mean() < v.tissue_hu["vessel"] - 100
        rim = ndimage.binary_dilation(v.embolus_mask, SIX) & v.vessel_mask & ~v.embolus_mask
        assert v.hu[rim].mean() > clot.mean() + 50  # brighter lumen next to the clot


# --- the clot inside an artery ---------------------------------------------------------------


@pytest.mark.parametrize("site", ["A", "B"])
def test_embolus_lies_inside_an_artery(site):
    """Check that the clot's axis lies on an artery's axis with a smaller radius (strictly inside the
    lumen in space), that its voxel mask is non-empty, inside the vessel mask and in the lung, and
    that label 0 has no clot."""
    for index in range(6):
        v = chest_ct(9, index=index, label=1, site=site)
        assert v.embolus_mask.any() and not (v.embolus_mask & ~v.vessel_mask).any()
        assert v.lung_mask[v.embolus_mask].mean() > 0.5
        a, d = v.tree[:, :3], v.tree[:, 3:6] - v.tree[:, :3]
        for end in (v.embolus[:3], v.embolus[3:6]):  # distance of each clot end to each artery axis
            t = np.clip(np.sum((end - a) * d, axis=1) / np.sum(d * d, axis=1), 0, 1)
            dist = np.linalg.norm(end - (a + t[:, None] * d), axis=1)
            host = np.argmin(dist)
            assert dist[host] < 1e-6 and v.embolus[6] <= 0.8 * v.tree[host, 6] + 1e-9
        none = chest_ct(9, index=index, label=0, site=site)
        assert not none.embolus_mask.any() and none.embolus is None and none.label == 0


def test_nodules_stay_outside_the_arteries():
    """Check that the soft-tissue distractors (present at both labels) never overlap an artery's lumen."""
    for index in range(6):
        v = chest_ct(10, index=index, label=0)
        assert 1 <= len(v.nodules) <= 6
        a, d = v.tree[None, :, :3], v.tree[None, :, 3:6] - v.tree[None, :, :3]
        for nodule in v.nodules:
            points = nodule[:3] + np.linspace(0, 1, 11)[:, None] * (nodule[3:6] - nodule[:3])  # (11, 3)
            t = np.clip(np.sum((points[:, None] - a) * d, -1) / np.sum(d * d, -1), 0, 1)
            dist = np.linalg.norm(points[:, None] - (a + t[..., None] * d), axis=-1)  # (11, S)
            assert (dist > v.tree[None, :, 6] + nodule[6]).all()


def test_same_patient_with_and_without_the_clot():
    """Check that the label changes only the clot (which takes one nodule's place): same tree, tissue
    values and noise, so the two volumes are equal away from the clot and that nodule."""
    without, with_clot = chest_ct(11, label=0), chest_ct(11, label=1)
    np.testing.assert_array_equal(without.tree, with_clot.tree)
    np.testing.assert_array_equal(without.nodules[1:], with_clot.nodules)
    assert without.tissue_hu == with_clot.tissue_hu
    changed = without.hu != with_clot.hu
    assert changed[with_clot.embolus_mask].all()
    grid = np.stack(np.meshgrid(*[(np.arange(n) - (n - 1) / 2) * s for n, s in
                                  zip(without.hu.shape, without.spacing)], indexing="ij"), axis=-1)
    near = np.zeros(without.hu.shape, dtype=bool)
    for capsule in (with_clot.embolus, without.nodules[0]):
        centre = (capsule[:3] + capsule[3:6]) / 2
        near |= np.linalg.norm(grid - centre, axis=-1) < 16.0  # mm: the capsule plus the kernel's blur
    assert not changed[~near].any()


# --- determinism and variation ---------------------------------------------------------------


def test_deterministic_per_seed_and_different_between_seeds():
    """Check bit-identical volumes for the same arguments and different ones for another seed or index."""
    a, b = chest_ct(12, index=3, site="B"), chest_ct(12, index=3, site="B")
    for field in ("hu", "spacing", "affine", "embolus_mask", "vessel_mask", "lung_mask", "nodule_mask", "tree",
                  "nodules"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.tissue_hu == b.tissue_hu and a.label == b.label and a.patient_id == b.patient_id
    for other in (chest_ct(13, index=3, site="B"), chest_ct(12, index=4, site="B"), chest_ct(12, index=3, site="A")):
        assert not np.array_equal(a.hu, other.hu) and not np.array_equal(a.tree, other.tree)


def test_patient_level_variation_of_the_tree():
    """Check that radii, lengths and branch angles vary between patients within the documented ranges."""
    volumes = [chest_ct(14, index=i) for i in range(8)]
    root_radii = [v.tree[0, 6] for v in volumes]
    assert all(5.0 <= r <= 6.5 for r in root_radii) and np.std(root_radii) > 0.2
    angles, ratios = [], []
    for v in volumes:
        for child in range(1, len(v.tree)):
            parent = v.tree[(child - 1) // 2]  # breadth first: children 2p+1, 2p+2
            np.testing.assert_allclose(v.tree[child, :3], parent[3:6])  # a child starts at its parent's end
            u, w = parent[3:6] - parent[:3], v.tree[child, 3:6] - v.tree[child, :3]
            angles.append(np.degrees(np.arccos(np.clip(u @ w / np.linalg.norm(u) / np.linalg.norm(w), -1, 1))))
            ratios.append(v.tree[child, 6] / parent[6])
    assert 0.72 <= min(ratios) and max(ratios) <= 0.85
    assert 5 < np.percentile(angles, 10) and np.percentile(angles, 90) < 80 and np.std(angles) > 5
    z_extent = [np.ptp(v.tree[:, [0, 3]]) for v in volumes]  # mm along the slices' normal: oblique trees
    assert min(z_extent) > 20 and np.std(z_extent) > 3
    assert len({round(v.tissue_hu["vessel"], 3) for v in volumes}) == 8


# --- sites: slices, kernel, noise ------------------------------------------------------------


@pytest.mark.parametrize("site", ["A", "B"])
def test_noise_is_correlated_with_the_documented_std(site):
    """Check the noise (scan minus the same scan without noise): std in the site's range, the neighbour
    correlation of Gaussian-filtered white noise (Σ w_i w_(i+1) / Σ w_i² per axis), and a uniform region."""
    s = CHEST_SITES[site]
    noisy = chest_ct(15, site=site)
    quiet = chest_ct(15, site=dataclasses.replace(s, noise_std_hu=(0.0, 0.0)))
    noise = (noisy.hu - quiet.hu).astype(np.float64)
    low, high = s.noise_std_hu
    assert low * 0.95 <= noise.std() <= high * 1.05
    for axis, sigma in ((0, s.noise_sigma_vox[0]), (2, s.noise_sigma_vox[1])):
        a, b = np.moveaxis(noise, axis, 0)[:-1].ravel(), np.moveaxis(noise, axis, 0)[1:].ravel()
        i = np.arange(-int(4 * sigma + 0.5), int(4 * sigma + 0.5) + 1)
        w = np.exp(-i**2 / (2 * sigma**2))  # the sampled Gaussian kernel (4 sigma wide, as scipy's)
        expected = np.sum(w[1:] * w[:-1]) / np.sum(w * w)  # lag-1 correlation of filtered white noise
        assert np.corrcoef(a, b)[0, 1] == pytest.approx(expected, abs=0.04)
        assert expected > 0.3 or axis == 0  # in-plane, the noise is clearly correlated
    region = interiors(noisy)["soft_tissue"]
    assert low * 0.9 <= noisy.hu[region].std() <= high * 1.1


def test_site_b_has_thicker_slices_more_and_coarser_noise():
    """Check the documented differences between the training site A and the held-out site B."""
    a, b = CHEST_SITES["A"], CHEST_SITES["B"]
    assert a.slice_thickness_mm[1] < b.slice_thickness_mm[0] and a.noise_std_hu[1] <= b.noise_std_hu[0]
    assert a.kernel_sigma_mm < b.kernel_sigma_mm and a.noise_sigma_vox[1] < b.noise_sigma_vox[1]
    for i in range(5):
        va, vb = chest_ct(16, index=i, site="A"), chest_ct(16, index=i, site="B")
        assert 1.25 <= va.spacing[0] <= 2.5 and 3.0 <= vb.spacing[0] <= 5.0
        assert va.site == "A" and vb.site == "B" and vb.patient_id.startswith("B-")


# --- files -----------------------------------------------------------------------------------


def test_dicom_series_round_trip(tmp_path):
    """Check the series read back by course.medical.load_dicom_series and, independently, by pydicom:
    HU equal to the volume within the rescale rounding, the spacing and the affine."""
    v = chest_ct(17, label=1, site="B", shape=(11, 33, 35))
    folder = write_chest_ct_series(v, tmp_path / "series")
    volume, spacing, affine = load_dicom_series(folder)
    np.testing.assert_array_equal(volume, np.round(v.hu))
    assert np.abs(volume - v.hu).max() <= 0.5
    np.testing.assert_allclose(spacing, v.spacing, rtol=1e-6)
    np.testing.assert_allclose(affine, v.affine, atol=1e-6)
    datasets = [pydicom.dcmread(p) for p in folder.iterdir()]
    datasets.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    stack = np.stack([apply_modality_lut(ds.pixel_array, ds) for ds in datasets])
    np.testing.assert_array_equal(stack, np.round(v.hu))
    assert {ds.PatientID for ds in datasets} == {v.patient_id} and len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert float(datasets[0].SliceThickness) == pytest.approx(v.spacing[0], rel=1e-6)


def test_dicom_series_differ_between_volumes(tmp_path):
    """Check that two patients, and one patient with and without a clot, get different series UIDs."""
    uids = set()
    for i, v in enumerate([chest_ct(18, label=0), chest_ct(18, label=1), chest_ct(18, index=1, label=0)]):
        folder = write_chest_ct_series(v, tmp_path / str(i), shuffle=False)
        uids.add(pydicom.dcmread(next(folder.iterdir())).SeriesInstanceUID)
    assert len(uids) == 3


def test_nifti_round_trip(tmp_path):
    """Check the NIfTI file with course.medical.load_nifti and nibabel: same array, RAS affine, and
    every voxel at the LPS point of the volume's affine with x and y negated."""
    v = chest_ct(19, shape=(12, 40, 36))
    path = write_chest_ct_nifti(v, tmp_path / "ct.nii.gz")
    data, affine = load_nifti(path)
    np.testing.assert_array_equal(data, v.hu)
    np.testing.assert_allclose(affine, lps_to_ras(v.affine), atol=1e-4)
    img = nib.load(path)
    assert nib.aff2axcodes(img.affine) == ("S", "P", "L")  # slice -> head, row -> back, column -> left
    ijk = np.array([[0, 0, 0], [11, 39, 35], [3, 7, 20]])
    lps = voxel_to_world(v.affine, ijk)
    np.testing.assert_allclose(voxel_to_world(img.affine, ijk), lps * [-1, -1, 1], atol=1e-3)


# --- cohorts and errors ----------------------------------------------------------------------


@pytest.mark.parametrize("n, prevalence, positives", [(10, 0.5, 5), (7, 0.5, 4), (9, 0.25, 2), (3, 0.0, 0)])
def test_dataset_is_balanced_with_one_patient_per_volume(n, prevalence, positives):
    """Check the exact number of positives, unique patient ids, and volume i == chest_ct(seed, index=i)."""
    volumes = chest_ct_dataset(n, seed=20, prevalence=prevalence, shape=(8, 32, 32))
    labels = [v.label for v in volumes]
    assert sum(labels) == positives and len({v.patient_id for v in volumes}) == n
    np.testing.assert_array_equal(volumes[2].hu, chest_ct(20, index=2, label=labels[2], shape=(8, 32, 32)).hu)


def test_dataset_labels_are_shuffled_by_seed():
    """Check that the balanced labels are in a seeded random order (not alternating, seed-dependent)."""
    orders = {tuple(v.label for v in chest_ct_dataset(12, seed=s, shape=(6, 24, 24))) for s in range(3)}
    assert len(orders) > 1 and (0, 1) * 6 not in orders and (1, 0) * 6 not in orders


@pytest.mark.parametrize("call, match", [
    (lambda: chest_ct(0, site="C"), "unknown site"),
    (lambda: chest_ct(0, label=2), "label must be"),
    (lambda: chest_ct(0, shape=(32, 12, 48)), "shape must be"),
    (lambda: chest_ct(0, shape=(3, 48, 48)), "shape must be"),
    (lambda: chest_ct_dataset(0, seed=0), "num_volumes"),
    (lambda: chest_ct_dataset(4, seed=0, prevalence=1.5), "prevalence"),
])
def test_errors_name_the_problem(call, match):
    """Check the messages of bad sites, labels, shapes, counts and prevalences."""
    with pytest.raises(ValueError, match=match):
        call()


def test_series_writer_refuses_a_non_axial_affine(tmp_path):
    """Check that an affine other than chest_ct's axial one is refused with a message, not written wrong."""
    v = chest_ct(21, shape=(6, 24, 24))
    v.affine = v.affine[:, [1, 0, 2, 3]]
    with pytest.raises(ValueError, match="axial"):
        write_chest_ct_series(v, tmp_path)


@pytest.mark.parametrize("site", ["A", "B"])
def test_partial_volume_matches_a_supersampled_count(site):
    """Check the artery's partial volume in the mediastinum (soft tissue only, no noise or blur): the
    fraction f = (HU − soft) / (contrast − soft) of each voxel against the share of 5 × 5 × 5 points of
    the voxel that lie within some capsule of the tree (an independent brute-force count)."""
    v = chest_ct(22, label=0, site=clean(site))
    soft, contrast = v.tissue_hu["soft_tissue"], v.tissue_hu["vessel"]
    # 1. voxels of the mediastinum near the root, away from the lung and the nodules
    far = ~ndimage.binary_dilation(v.lung_mask | v.nodule_mask, SIX, iterations=3)
    near = ndimage.binary_dilation(v.vessel_mask, SIX, iterations=2)
    voxels = np.argwhere(far & near)  # (P, 3) indices (k, r, c)
    assert len(voxels) > 30
    # 2. 125 points per voxel, mm from the volume's centre along (D, H, W)
    offsets = (np.stack(np.meshgrid(*[np.arange(5)] * 3, indexing="ij"), -1).reshape(-1, 3) + 0.5) / 5 - 0.5
    centres = (voxels - (np.array(v.hu.shape) - 1) / 2) * v.spacing  # (P, 3)
    points = (centres[:, None] + offsets[None] * v.spacing).reshape(-1, 3)  # (P * 125, 3)
    # 3. inside the union of capsules: within the radius of some segment's axis
    a, d = v.tree[None, :, :3], v.tree[None, :, 3:6] - v.tree[None, :, :3]
    t = np.clip(np.sum((points[:, None] - a) * d, -1) / np.sum(d * d, -1), 0, 1)
    inside = (np.linalg.norm(points[:, None] - (a + t[..., None] * d), axis=-1) < v.tree[None, :, 6]).any(1)
    expected = inside.reshape(len(voxels), -1).mean(axis=1)
    fraction = (v.hu[tuple(voxels.T)] - soft) / (contrast - soft)
    partial = (expected > 0.05) & (expected < 0.95)
    assert partial.sum() > 10  # there are border voxels to compare
    assert np.abs(fraction - expected).mean() < 0.04 and np.abs(fraction - expected).max() < 0.2


def test_candidate_is_the_clot_in_a_positive_and_the_same_contrast_filled_place_in_a_negative() -> None:
    from course.data.chest_ct import candidate_crop, chest_ct

    for index in range(4):
        pos = chest_ct(5, index=index, label=1)
        neg = chest_ct(5, index=index, label=0)
        np.testing.assert_allclose(pos.candidate, neg.candidate)  # one place for both labels
        centroid = np.argwhere(pos.embolus_mask).mean(axis=0)
        assert np.abs(centroid - pos.candidate).max() <= 1.0, (centroid, pos.candidate)
        k = tuple(np.round(neg.candidate).astype(int))
        assert neg.vessel_mask[k] and neg.hu[k] > 150  # contrast where the clot would be
        crop_pos, crop_neg = candidate_crop(pos), candidate_crop(neg)
        assert crop_pos.shape == (16, 24, 24) and crop_pos.dtype == np.float32
        start = np.clip(np.round(pos.candidate).astype(int) - np.array([8, 12, 12]), 0, np.array([16, 24, 24]))
        block = pos.embolus_mask[start[0]:start[0] + 16, start[1]:start[1] + 24, start[2]:start[2] + 24]
        assert block.sum() == pos.embolus_mask.sum()  # the whole clot is inside the crop
        # same patient, same noise: the crops differ only around the clot and around the nodule it replaces
        # in a positive (the negative keeps it), each with its blur
        changed = pos.embolus_mask | (neg.nodule_mask & ~pos.nodule_mask)
        near = ndimage.binary_dilation(changed, iterations=3)[start[0]:start[0] + 16, start[1]:start[1] + 24,
                                                              start[2]:start[2] + 24]
        differs = np.abs(crop_pos - crop_neg) > 5.0
        assert differs.any() and not (differs & ~near).any()
    edge = candidate_crop(chest_ct(5, index=0), size=(32, 48, 48))
    np.testing.assert_array_equal(edge, chest_ct(5, index=0).hu)  # the whole volume: shifted inside, no padding
    with pytest.raises(ValueError, match="size"):
        candidate_crop(chest_ct(5, index=0), size=(33, 8, 8))
