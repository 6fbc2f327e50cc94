"""The course's pipeline (reorient → resample → window → pos/neg crop → sliding window) against MONAI.

Each step is compared on nibabel's real ``anatomical.nii`` (LAS, 2 mm) and on generated CT-like volumes
with anisotropic voxels and permuted/flipped axes. Where the two differ (output shape rounding, nearest-
neighbour ties) the test checks that the difference is exactly the documented one. Sliding-window
inference itself is tested against MONAI in tests/test_patches.py; here only its row in the table.
"""
import numpy as np
import pytest
import torch

from course.data.samples import anatomical_nii_path
from course.medical import clip_window, load_nifti, reorient
from course.medical.pipeline import (
    compare_steps,
    course_preprocess,
    crop_at_centers,
    format_steps,
    monai_preprocess,
    pos_neg_crop_centers,
    scale_intensity_range,
)
from course.patches import sample_patches

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning")


def anatomical():
    image, affine = load_nifti(anatomical_nii_path())  # (33, 41, 25), LAS, 2 mm
    label = (image > np.percentile(image, 80)).astype(np.int64)
    return image, label, affine


def ct_like(shape, spacing, codes, seed):
    """A CT-like volume in HU: air, an elliptic body of soft tissue with noise, a bone ring, two lesions (label 1, 2).

    ``codes`` permutes and flips the voxel axes of a RAS grid: e.g. "SPL" stores superior, posterior, left."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij"))  # (3, *shape)
    radius = np.sqrt((grid ** 2).sum(0))
    image = np.where(radius < 0.8, 40.0 + 15 * rng.standard_normal(shape), -1000.0)
    image[(radius > 0.65) & (radius < 0.75)] = 700.0  # bone ring
    label = np.zeros(shape, dtype=np.int64)
    label[np.sqrt(((grid - 0.25) ** 2).sum(0)) < 0.2] = 1
    label[np.sqrt(((grid + [[[[0.3]]], [[[-0.2]]], [[[0.1]]]]) ** 2).sum(0)) < 0.15] = 2
    image[label > 0] += 60.0
    # affine: column j is the world direction of voxel axis j times its spacing
    directions = {"R": [1, 0, 0], "L": [-1, 0, 0], "A": [0, 1, 0], "P": [0, -1, 0], "S": [0, 0, 1], "I": [0, 0, -1]}
    affine = np.eye(4)
    affine[:3, :3] = np.array([directions[c] for c in codes], dtype=float).T * np.asarray(spacing)
    affine[:3, 3] = [-90.5, 20.25, -33.0]
    return image.astype(np.float32), label, affine


CASES = {
    "anatomical LAS 2 mm -> 1.5 mm": (anatomical, dict(spacing=(1.5, 1.5, 1.5), a_min=0.0, a_max=600.0)),
    "anatomical LAS 2 mm -> (3, 2.5, 1) mm": (anatomical, dict(spacing=(3.0, 2.5, 1.0), a_min=-50.0, a_max=900.0,
                                                               b_min=-1.0, b_max=1.0)),
    "CT LPS (0.7, 0.7, 2.5) -> 1.3 mm": (lambda: ct_like((37, 33, 14), (0.7, 0.7, 2.5), "LPS", 0),
                                         dict(spacing=(1.3, 1.3, 1.3), a_min=-1000.0, a_max=1000.0)),
    "CT SPL (3, 0.9, 0.8) -> (1.1, 1.7, 2.9) mm, no clip": (
        lambda: ct_like((11, 29, 34), (3.0, 0.9, 0.8), "SPL", 1),
        dict(spacing=(1.1, 1.7, 2.9), a_min=-160.0, a_max=240.0, clip=False)),
    "CT RAS 2 mm -> 1 mm (ties)": (lambda: ct_like((17, 18, 9), (2.0, 2.0, 2.0), "RAS", 2),
                                   dict(spacing=(1.0, 1.0, 1.0), a_min=-1000.0, a_max=400.0)),
}


def tie_planes(affine_in, spacing, shape_out):
    """(X', Y', Z') bool: voxels whose centre lies exactly halfway between two old centres along some axis."""
    old = np.sqrt((affine_in[:3, :3] ** 2).sum(0))
    ties = np.zeros(shape_out, dtype=bool)
    for axis in range(3):
        x = np.arange(shape_out[axis]) * spacing[axis] / old[axis]
        on_tie = np.abs(x - np.floor(x) - 0.5) < 1e-6
        ties |= on_tie.reshape([-1 if a == axis else 1 for a in range(3)])
    return ties


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    make, kwargs = CASES[request.param]
    image, label, affine = make()
    return image, label, affine, kwargs, compare_steps(image, label, affine, **kwargs)


def test_orientation_is_equal(case):
    *_, rows = case
    row = rows[0]
    assert row["transform"] == "orientation" and row["course_shape"] == row["monai_shape"]
    assert row["affine_max_diff"] < 1e-9 and row["image_max_diff"] == 0.0 and row["label_mismatches"] == 0


def test_spacing_differs_only_as_documented(case):
    """Same affine; shapes ceil (course) vs round (MONAI); images equal on common voxels; labels off ties."""
    image, label, affine, kwargs, rows = case
    row = rows[1]
    oriented, oriented_affine = reorient(image, affine, "RAS")
    old_shape, old = np.array(oriented.shape), np.sqrt((oriented_affine[:3, :3] ** 2).sum(0))
    extent = (old_shape - 1) * old / np.asarray(kwargs["spacing"])
    assert row["course_shape"] == tuple(int(v) for v in np.ceil(extent - 1e-9) + 1)
    assert row["monai_shape"] == tuple(int(v) for v in np.round(extent) + 1)
    assert row["affine_max_diff"] < 1e-9
    scale = np.abs(image).max()
    assert row["image_max_diff"] <= 1e-6 * scale


def test_pipeline_end_to_end(case):
    """course_preprocess and monai_preprocess: same affine, same image on the common voxels, labels off ties."""
    image, label, affine, kwargs, rows = case
    ours, theirs = course_preprocess(image, label, affine, **kwargs), monai_preprocess(image, label, affine, **kwargs)
    assert set(ours) == set(theirs) == {"image", "label", "affine"}
    assert ours["image"].dtype == theirs["image"].dtype == np.float32
    assert ours["label"].dtype == theirs["label"].dtype == np.int64
    np.testing.assert_allclose(ours["affine"], theirs["affine"], atol=1e-9)
    common = tuple(slice(0, min(a, b)) for a, b in zip(ours["image"].shape, theirs["image"].shape))
    np.testing.assert_allclose(ours["image"][common], theirs["image"][common], atol=2e-6)
    differ = ours["label"][common] != theirs["label"][common]
    ties = tie_planes(reorient(image, affine, "RAS")[1], kwargs["spacing"], differ.shape)
    assert not (differ & ~ties).any(), "labels may differ only where a new centre is halfway between two old ones"
    assert rows[3]["transform"] == "pipeline" and rows[3]["label_mismatches"] == int(differ.sum())
    if kwargs["spacing"] == (1.0, 1.0, 1.0):
        assert differ.any()  # the documented difference is real: MONAI's ties go either way
    lo, hi = kwargs.get("b_min", 0.0), kwargs.get("b_max", 1.0)
    if kwargs.get("clip", True):
        assert ours["image"].min() >= lo and ours["image"].max() <= hi
    else:
        assert ours["image"].min() < lo or ours["image"].max() > hi


def test_preprocess_without_a_label():
    image, _, affine = anatomical()
    kwargs = dict(spacing=(2.5, 1.5, 2.0), a_min=0.0, a_max=600.0, axcodes="LPS")
    ours, theirs = course_preprocess(image, None, affine, **kwargs), monai_preprocess(image, None, affine, **kwargs)
    assert ours["label"] is None and theirs["label"] is None
    np.testing.assert_allclose(ours["affine"], theirs["affine"], atol=1e-9)
    common = tuple(slice(0, min(a, b)) for a, b in zip(ours["image"].shape, theirs["image"].shape))
    np.testing.assert_allclose(ours["image"][common], theirs["image"][common], atol=2e-6)
    crops = crop_at_centers(ours["image"][None], np.array([[4, 5, 6]]), (3, 4, 5))  # (P, C, *S): channels kept
    assert crops.shape == (1, 1, 3, 4, 5)


def test_intensity_step_is_equal(case):
    *_, rows = case
    assert rows[2]["transform"] == "intensity" and rows[2]["image_max_diff"] <= 1e-6
    assert rows[2]["affine_max_diff"] == 0.0 and rows[2]["label_mismatches"] == 0


def test_nearest_ties_on_a_ramp():
    """A ramp 0..4 at 2 mm resampled to 1 mm: the course rounds halves up; MONAI differs only at the ties."""
    ramp = np.broadcast_to(np.arange(5.0, dtype=np.float32)[:, None, None], (5, 3, 3)).copy()
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    kwargs = dict(spacing=(1.0, 2.0, 2.0), a_min=0.0, a_max=4.0)
    ours = course_preprocess(ramp, ramp.astype(np.int64), affine, **kwargs)
    theirs = monai_preprocess(ramp, ramp.astype(np.int64), affine, **kwargs)
    np.testing.assert_array_equal(ours["label"][:, 1, 1], [0, 1, 1, 2, 2, 3, 3, 4, 4])
    np.testing.assert_allclose(ours["image"][:, 1, 1], np.arange(9) / 8, atol=1e-7)  # linear: the same
    np.testing.assert_allclose(theirs["image"][:, 1, 1], np.arange(9) / 8, atol=1e-7)
    even = theirs["label"][::2, 1, 1]
    np.testing.assert_array_equal(even, [0, 1, 2, 3, 4])  # on old centres: equal
    odd = theirs["label"][1::2, 1, 1]
    assert np.all((odd == np.arange(4)) | (odd == np.arange(1, 5)))  # at ties: one of the two neighbours


def test_scale_intensity_range():
    from monai.transforms import ScaleIntensityRange

    hu = np.random.default_rng(0).uniform(-1500, 2500, (7, 6, 5)).astype(np.float32)
    for kwargs in [dict(a_min=-1000.0, a_max=1000.0), dict(a_min=-160.0, a_max=240.0, b_min=-1.0, b_max=1.0),
                   dict(a_min=-57.0, a_max=193.0, b_min=2.0, b_max=5.0, clip=False)]:
        kwargs = {"b_min": 0.0, "b_max": 1.0, "clip": True, **kwargs}  # MONAI's defaults: None, None, False
        theirs = ScaleIntensityRange(**kwargs)(torch.from_numpy(hu)).numpy()
        ours = scale_intensity_range(hu, **kwargs)
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    # with b = [0, 1] and clipping it is lesson 09's clip_window
    np.testing.assert_allclose(scale_intensity_range(hu, a_min=-160.0, a_max=240.0), clip_window(hu, 40.0, 400.0),
                               atol=1e-6)
    with pytest.raises(ValueError):
        scale_intensity_range(hu, a_min=10.0, a_max=10.0)
    with pytest.raises(ValueError):
        scale_intensity_range(hu, a_min=0.0, a_max=1.0, b_min=1.0, b_max=0.0)


# --- pos/neg crops ----------------------------------------------------------------------------------------
def monai_crops(image, label, spatial_size, num_samples, pos, neg, seed):
    from monai.transforms import RandCropByPosNegLabeld

    crop = RandCropByPosNegLabeld(["image", "label"], "label", spatial_size=spatial_size, pos=pos, neg=neg,
                                  num_samples=num_samples)
    crop.set_random_state(seed)
    out = crop({"image": torch.from_numpy(image)[None], "label": torch.from_numpy(label)[None]})
    centers = np.array([list(o["image"].meta["crop_center"]) for o in out])
    return centers, np.stack([o["image"][0].numpy() for o in out]), np.stack([o["label"][0].numpy() for o in out])


@pytest.mark.parametrize("spatial_size", [(8, 8, 8), (7, 9, 5), (33, 4, 25), (1, 1, 1)])
@pytest.mark.parametrize("pos, neg", [(1.0, 1.0), (1.0, 3.0), (2.0, 0.0), (0.0, 1.0)])
def test_crop_centers_and_crops_equal_monais(spatial_size, pos, neg):
    image, label, _ = anatomical()  # (33, 41, 25)
    for seed in (0, 7):
        ours = pos_neg_crop_centers(label, spatial_size=spatial_size, num_samples=6, pos=pos, neg=neg, seed=seed)
        centers, image_crops, label_crops = monai_crops(image, label, spatial_size, 6, pos, neg, seed)
        assert ours.dtype == np.int64 and ours.shape == (6, 3)
        np.testing.assert_array_equal(ours, centers)
        np.testing.assert_array_equal(crop_at_centers(image, ours, spatial_size), image_crops)
        np.testing.assert_array_equal(crop_at_centers(label, ours, spatial_size), label_crops)


def test_crop_rules():
    """Every crop inside; a positive crop holds foreground; the share of positive centres is pos / (pos + neg)."""
    label = np.zeros((30, 31, 29), dtype=np.int64)
    label[10:20, 12:19, 9:20] = 1  # far from the borders: no positive centre is shifted
    size = np.array([9, 8, 7])
    centers = pos_neg_crop_centers(label, spatial_size=size, num_samples=2000, pos=1.0, neg=3.0, seed=3)
    starts = centers - size // 2
    assert (starts >= 0).all() and (starts + size <= label.shape).all()
    positive = label[tuple(centers.T)] == 1
    share, half_width = positive.mean(), 3 * np.sqrt(0.25 * 0.75 / 2000)
    assert abs(share - 0.25) < half_width
    # a foreground voxel at a corner: its centre is shifted inside, and the crop still holds it
    corner = np.zeros((12, 13, 14), dtype=np.int64)
    corner[0, 12, 13] = 1
    c = pos_neg_crop_centers(corner, spatial_size=(5, 6, 4), num_samples=3, pos=1.0, neg=0.0, seed=0)
    np.testing.assert_array_equal(c, [[2, 10, 12]] * 3)
    assert (crop_at_centers(corner, c, (5, 6, 4)) == 1).any(axis=(1, 2, 3)).all()
    # no foreground at all: every centre is a background centre, no error
    empty = pos_neg_crop_centers(np.zeros((6, 6, 6)), spatial_size=(3, 3, 3), num_samples=4, seed=1)
    assert empty.shape == (4, 3)
    assert pos_neg_crop_centers(label, spatial_size=size, num_samples=0, seed=0).shape == (0, 3)


def test_foreground_rule_equals_course_sample_patches():
    """One foreground voxel: sample_patches (foreground_ratio 1) and the MONAI rule crop the same patch."""
    rng = np.random.default_rng(0)
    volume = rng.standard_normal((1, 15, 11, 13)).astype(np.float32)
    for voxel in [(0, 0, 0), (14, 10, 12), (7, 1, 12), (3, 5, 6)]:
        label = np.zeros((15, 11, 13), dtype=np.int64)
        label[voxel] = 1
        for size in [(5, 4, 7), (6, 6, 6), (15, 1, 2)]:
            patches, _ = sample_patches(torch.from_numpy(volume), torch.from_numpy(label), size, 2,
                                        foreground_ratio=1.0, seed=0)
            centers = pos_neg_crop_centers(label, spatial_size=size, num_samples=2, pos=1.0, neg=0.0, seed=0)
            np.testing.assert_array_equal(patches.numpy(), crop_at_centers(volume, centers, size))


@pytest.mark.parametrize("kwargs", [dict(spatial_size=(34, 4, 4)), dict(spatial_size=(4, 4)),
                                    dict(spatial_size=(0, 4, 4)), dict(spatial_size=(4, 4, 4), pos=0.0, neg=0.0),
                                    dict(spatial_size=(4, 4, 4), pos=-1.0),
                                    dict(spatial_size=(4, 4, 4), num_samples=-1)])
def test_crop_centers_reject_bad_arguments(kwargs):
    kwargs = {"num_samples": 2, "seed": 0, **kwargs}
    with pytest.raises(ValueError):
        pos_neg_crop_centers(np.zeros((33, 41, 25)), **kwargs)


def test_crop_at_centers_rejects_a_crop_outside():
    with pytest.raises(ValueError, match="inside"):
        crop_at_centers(np.zeros((5, 5, 5)), np.array([[0, 2, 2]]), (3, 3, 3))


# --- the table --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["gaussian", "constant"])
def test_table_with_crop_and_inference_rows(mode):
    image, label, affine = ct_like((21, 19, 8), (0.8, 0.8, 3.0), "LPI", 4)
    rows = compare_steps(image, label, affine, spacing=(1.5, 1.5, 1.5), a_min=-1000.0, a_max=1000.0,
                         crop_size=(8, 7, 9), num_samples=5, seed=2, roi_size=(10, 12, 9), overlap=0.5, mode=mode)
    assert [r["transform"] for r in rows] == ["orientation", "spacing", "intensity", "pipeline", "crop", "inference"]
    crop, inference = rows[4], rows[5]
    assert crop["label_mismatches"] == 0 and crop["image_max_diff"] == 0.0 and crop["course_shape"] == (5, 8, 7, 9)
    assert inference["course_shape"] == inference["monai_shape"] and inference["image_max_diff"] < 1e-5
    table = format_steps(rows)
    assert table.splitlines()[0].startswith("transform") and "max |diff|" in table and len(table.splitlines()) == 7
    assert "5 centres" in table


@pytest.mark.parametrize("image_shape, label_shape, affine_shape", [
    ((4, 5), None, (4, 4)), ((4, 5, 6), (4, 5, 7), (4, 4)), ((4, 5, 6), None, (3, 3))])
def test_preprocess_rejects_bad_inputs(image_shape, label_shape, affine_shape):
    image = np.zeros(image_shape, dtype=np.float32)
    label = None if label_shape is None else np.zeros(label_shape, dtype=np.int64)
    for fn in (course_preprocess, monai_preprocess, compare_steps):
        with pytest.raises(ValueError):
            fn(image, label, np.eye(affine_shape[0]), spacing=(1, 1, 1), a_min=0.0, a_max=1.0)
