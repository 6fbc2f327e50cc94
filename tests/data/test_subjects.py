"""Tests of course.data.subjects: deterministic, distinct, aligned subjects (the warp checked against
torch's grid_sample), sites that differ as documented, patient-level folds, and the exact threshold fit."""
from __future__ import annotations

import dataclasses

import nibabel as nib
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.data.subjects import (SITES, Site, fit_threshold, kfold_split, make_subjects, subject_template,
                                  warp_volume)

# a scanner that changes nothing: the template's own grid, no slice blur, no bias, noise or gamma
IDEAL = Site("ideal", spacing=(2.0, 2.0, 2.0), slice_thickness=1.0, bias_strength=(0.0, 0.0),
             noise_std=(0.0, 0.0), gamma=(1.0, 1.0))


@pytest.fixture(scope="module")
def sites():
    """Three patients (seed 0) scanned at site A and at site B."""
    return make_subjects(3, seed=0, site="A"), make_subjects(3, seed=0, site="B")


def _grid_sample(volume: np.ndarray, coords: np.ndarray, mode: str) -> np.ndarray:
    """torch's sampler at voxel coordinates (3, X, Y, Z): align_corners=True, edge values outside."""
    shape = np.array(volume.shape, dtype=np.float64)
    normalized = 2 * coords / (shape - 1)[:, None, None, None] - 1  # (3, X, Y, Z) in [-1, 1]
    grid = torch.from_numpy(normalized[::-1].transpose(1, 2, 3, 0).copy())[None]  # (1, X, Y, Z, 3) as (z, y, x)
    out = F.grid_sample(torch.from_numpy(volume.astype(np.float64))[None, None], grid, mode=mode,
                        padding_mode="border", align_corners=True)
    return out[0, 0].numpy()


def test_same_seed_same_bytes_and_subjects_differ():
    """Check determinism per seed, and that subjects of one seed, and seeds, differ in image and label."""
    first, again, other = make_subjects(2, seed=5), make_subjects(2, seed=5), make_subjects(2, seed=6)
    for a, b in zip(first, again):
        assert a.subject_id == b.subject_id and a.image.tobytes() == b.image.tobytes()
        np.testing.assert_array_equal(a.label, b.label)
    for a, b in [(first[0], first[1]), (first[0], other[0])]:
        assert a.subject_id != b.subject_id
        assert np.abs(a.image - b.image).mean() > 0.02 and (a.label != b.label).mean() > 0.05


def test_shapes_dtypes_and_geometry(sites):
    """Check layouts, dtypes, label values, ids, spacing and an affine that matches it (RAS, template origin)."""
    _, _, t_affine = subject_template()
    for subjects, shape, spacing in [(sites[0], (56, 68, 55), (3, 3, 3)), (sites[1], (56, 68, 28), (3, 3, 6))]:
        for i, s in enumerate(subjects):
            assert s.image.shape == s.label.shape == shape and s.displacement.shape == (3, *shape)
            assert s.image.dtype == np.float32 and s.label.dtype == np.int64 and s.displacement.dtype == np.float32
            assert set(np.unique(s.label)) == {0, 1, 2}
            assert s.subject_id == f"{s.site}-s0-{i:03d}" and s.site in "AB"
            np.testing.assert_allclose(s.spacing, spacing)
            np.testing.assert_allclose(np.linalg.norm(s.affine[:3, :3], axis=0), spacing)
            np.testing.assert_allclose(s.affine[:, 3], t_affine[:, 3])  # voxel 0 at the template's voxel 0
            assert nib.aff2axcodes(s.affine) == ("R", "A", "S")


def test_zero_displacement_on_the_template_grid_returns_the_template():
    """Check that without deformation and with an ideal scanner the subject is the template itself."""
    t1, labels, t_affine = subject_template()
    (s,) = make_subjects(1, seed=0, site=IDEAL, max_displacement_mm=0.0)
    np.testing.assert_array_equal(s.label, labels)
    np.testing.assert_allclose(s.image, t1, atol=1e-6)
    np.testing.assert_allclose(s.affine, t_affine)
    assert np.abs(s.displacement).max() == 0


def test_image_and_label_follow_the_same_deformation():
    """Check image and label against torch's grid_sample of the template at p + u(p): bilinear for the
    image, nearest for the label (an independent sampler of the same field)."""
    t1, labels, _ = subject_template()
    (s,) = make_subjects(1, seed=2, site=IDEAL)
    assert np.abs(s.displacement).max() > 4  # a real deformation, several mm
    index = np.stack(np.meshgrid(*[np.arange(n) for n in s.image.shape], indexing="ij")).astype(np.float64)
    coords = index + s.displacement.astype(np.float64) / 2.0  # template voxels of 2 mm
    np.testing.assert_allclose(s.image, _grid_sample(t1, coords, "bilinear"), atol=1e-5)
    agree = s.label == _grid_sample(labels.astype(np.float64), coords, "nearest")
    assert agree.mean() > 0.9999  # only exact half-way ties may round differently
    assert (s.label != labels)[labels > 0].mean() > 0.05  # and the deformation did move the anatomy


def test_deformation_is_smooth_bounded_and_does_not_fold():
    """Check max |u| <= max_displacement_mm and a positive Jacobian determinant of p -> p + u(p) everywhere."""
    (s,) = make_subjects(1, seed=4, site="A", max_displacement_mm=8.0)
    assert 4.0 < np.abs(s.displacement).max() <= 8.0 + 1e-4
    grads = [np.gradient(s.displacement[c], *s.spacing) for c in range(3)]  # du_c / dx_j
    jacobian = np.stack([np.stack(g) for g in grads]) + np.eye(3)[:, :, None, None, None]  # (3, 3, X, Y, Z)
    det = np.linalg.det(jacobian.transpose(2, 3, 4, 0, 1))
    assert det.min() > 0.2 and 0.95 < det.mean() < 1.05


def test_site_b_differs_as_documented(sites):
    """Check site B: 6 mm slices (half as many), noise in the air within each site's documented range,
    darker white matter than site A on the same patients, and a white-matter threshold fitted on site A
    that loses > 0.1 Dice there, more than B's own best threshold does."""
    site_a, site_b = sites
    assert SITES["B"].spacing == (3.0, 3.0, 6.0) and site_b[0].image.shape[2] < site_a[0].image.shape[2] * 0.55
    corner = (slice(0, 6), slice(0, 6), slice(None))  # air outside the brain (template 0, times the bias)
    for a, b in zip(site_a, site_b):
        assert 0.009 < a.image[corner].std() < 0.033 and 0.036 < b.image[corner].std() < 0.066
        assert np.median(b.image[b.label == 2]) < np.median(a.image[a.label == 2]) - 0.03
    threshold, dice_a = fit_threshold([s.image for s in site_a], [s.label == 2 for s in site_a])
    _, dice_b = fit_threshold([s.image for s in site_b], [s.label == 2 for s in site_b])
    predicted = [s.image > threshold for s in site_b]
    truth = [s.label == 2 for s in site_b]
    both = sum((p & t).sum() for p, t in zip(predicted, truth))
    a_on_b = 2 * both / sum(p.sum() + t.sum() for p, t in zip(predicted, truth))
    assert 0.85 < dice_a < 0.93 and a_on_b < dice_a - 0.1 and a_on_b < dice_b - 0.05


@pytest.mark.parametrize("num_ids, k", [(9, 3), (10, 3), (12, 4), (5, 5), (7, 2)])
def test_kfold_split_is_patient_level(num_ids, k):
    """Check folds: disjoint train/test, each id tested exactly once, sizes within one, order kept, seeded."""
    ids = [f"A-s0-{i:03d}" for i in range(num_ids)][::-1]  # an order that is not sorted
    folds = kfold_split(ids, k, seed=1)
    assert len(folds) == k and folds == kfold_split(ids, k, seed=1)
    tested = [i for _, test in folds for i in test]
    assert sorted(tested) == sorted(ids)
    assert max(len(t) for _, t in folds) - min(len(t) for _, t in folds) <= 1
    for train, test in folds:
        assert not set(train) & set(test) and sorted(train + test) == sorted(ids)
        assert train == [i for i in ids if i in train] and test == [i for i in ids if i in test]
    assert any(kfold_split(ids, k, seed=s) != folds for s in range(2, 6))


@pytest.mark.parametrize("ids, k, match", [(["a", "b", "a"], 2, r"unique.*'a'"),
                                           (["a", "b"], 3, r"k must be in \[2, 2\]"), (["a", "b"], 1, r"k must be")])
def test_kfold_split_refuses_bad_input(ids, k, match):
    """Check duplicate ids (images of one patient) and impossible k are refused with a message."""
    with pytest.raises(ValueError, match=match):
        kfold_split(ids, k, seed=0)


def test_fit_threshold_is_the_exact_best_threshold():
    """Check against brute force over every midpoint between distinct values, pooled over two images."""
    rng = np.random.default_rng(0)
    masks = [rng.random((5, 6, 7)) < 0.3, rng.random((3, 4, 5)) < 0.3]
    images = [np.round(m + rng.normal(0, 0.6, m.shape), 1).astype(np.float32) for m in masks]  # ties included
    threshold, dice = fit_threshold(images, masks)
    values, inside = np.concatenate([i.ravel() for i in images]), np.concatenate([m.ravel() for m in masks])
    distinct = np.unique(values)
    candidates = np.concatenate([(distinct[1:] + distinct[:-1]) / 2, [distinct[0] - 1]])
    scores = [2 * ((values > t) & inside).sum() / ((values > t).sum() + inside.sum()) for t in candidates]
    assert dice == pytest.approx(max(scores)) and threshold == pytest.approx(candidates[int(np.argmax(scores))])


@pytest.mark.parametrize("kwargs, match", [({"num_subjects": 0, "seed": 0}, r"num_subjects >= 1"),
                                           ({"num_subjects": 1, "seed": 0, "site": "C"},
                                            r"site must be one of \['A', 'B'\]"),
                                           ({"num_subjects": 1, "seed": 0, "sigma_mm": 0}, r"sigma_mm > 0"),
                                           ({"num_subjects": 1, "seed": 0, "site": Site("C", gamma=(1.2, 1.1))},
                                            r"site 'C' needs.*ranges"),
                                           ({"num_subjects": 1, "seed": 0, "site": Site("D", spacing=(3, 0, 3))},
                                            r"site 'D' needs 3 positive spacings")])
def test_make_subjects_refuses_bad_arguments(kwargs, match):
    """Check that bad arguments raise ValueError naming the allowed values."""
    with pytest.raises(ValueError, match=match):
        make_subjects(**kwargs)


def test_warp_nearest_keeps_dtype_and_rounds_half_up():
    """Check warp_volume(order=0): int64 stays int64, x.5 rounds up, outside takes the edge value."""
    volume = np.arange(2 * 3 * 4, dtype=np.int64).reshape(2, 3, 4)
    coords = np.array([[0.5, -3.0], [1.49, 0.0], [2.5, 9.0]])  # two points
    out = warp_volume(volume, coords, order=0)
    assert out.dtype == np.int64 and out.tolist() == [volume[1, 1, 3], volume[0, 0, 3]]
    with pytest.raises(ValueError, match=r"order 0 or 1"):
        warp_volume(volume, coords, order=3)


def test_site_is_a_frozen_dataclass():
    """Check a custom site can be derived from a documented one (dataclasses.replace)."""
    thick = dataclasses.replace(SITES["A"], name="A-thick", spacing=(3.0, 3.0, 4.5), slice_thickness=4.5)
    (s,) = make_subjects(1, seed=0, site=thick)
    assert s.site == "A-thick" and s.image.shape[2] == 37
