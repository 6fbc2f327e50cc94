"""Hard Dice against MONAI's compute_dice (and where the conventions differ); detection rate by components;
HD95 against MONAI's compute_hausdorff_distance; lesion-wise F1 against a brute-force count with skimage's labels."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from monai.metrics import compute_dice

from course.metrics import binary_dice, detection_rate, dice


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return F.one_hot(labels, num_classes).movedim(-1, 0)[None].float()  # (1, C, *S)


@pytest.mark.parametrize("shape, num_classes", [((5, 7, 9), 3), ((11, 13), 4), ((3, 4, 5), 2), ((6, 5, 7), 5)])
def test_equals_monai_where_every_class_is_present(shape, num_classes):
    g = torch.Generator().manual_seed(num_classes)
    target = torch.randint(num_classes, shape, generator=g)
    pred = torch.where(torch.rand(shape, generator=g) < 0.7, target, torch.randint(num_classes, shape, generator=g))
    theirs = compute_dice(one_hot(pred, num_classes), one_hot(target, num_classes))[0].double()
    torch.testing.assert_close(dice(pred, target, num_classes, smooth=1e-12), theirs)
    # default smoothing moves a present class's Dice by at most smooth / (|P| + |T|)
    ours = dice(pred, target, num_classes)
    assert ours.dtype == torch.float64 and ours.shape == (num_classes,)
    assert (ours - theirs).abs().max() <= 1e-5


def test_empty_classes_follow_the_documented_convention():
    target = torch.zeros(4, 5, 6, dtype=torch.int64)
    target[1:3, 1:4, 2:5] = 1
    pred = target.clone()
    pred[0, 0, 0] = 3  # class 3: predicted once, absent from the target; class 2: absent from both
    ours = dice(pred, target, 4)
    assert ours[2].item() == 1.0  # absent from both: exactly 1 thanks to smoothing
    assert ours[3].item() == pytest.approx(0.0, abs=1e-4)  # false positive only
    monai_empty_is_nan = compute_dice(one_hot(pred, 4), one_hot(target, 4))[0]
    assert torch.isnan(monai_empty_is_nan[2:]).all()  # MONAI's default: NaN for an empty target
    monai_kept = compute_dice(one_hot(pred, 4), one_hot(target, 4), ignore_empty=False)[0].double()
    torch.testing.assert_close(ours, monai_kept, atol=1e-4, rtol=0)  # 1 for both empty, 0 for a false positive


def test_without_smoothing_an_empty_class_would_be_nan():
    with pytest.raises(ValueError, match="NaN"):
        dice(torch.zeros(3, 3, dtype=torch.int64), torch.zeros(3, 3, dtype=torch.int64), 2, smooth=0.0)


@pytest.mark.parametrize("pred, target, num_classes", [
    (torch.zeros(3, 4, dtype=torch.int64), torch.zeros(4, 3, dtype=torch.int64), 2),
    (torch.full((3, 3), 2), torch.zeros(3, 3, dtype=torch.int64), 2),
    (torch.zeros(3, 3, dtype=torch.int64), torch.full((3, 3), -1), 2),
])
def test_dice_rejects_bad_inputs(pred, target, num_classes):
    with pytest.raises(ValueError):
        dice(pred, target, num_classes)


# --- detection rate ------------------------------------------------------------------------------------
def blobs(shape, corners, size=2):
    mask = np.zeros(shape, dtype=bool)
    for c in corners:
        mask[tuple(slice(s, s + size) for s in c)] = True
    return mask


def test_detection_rate_counts_hit_components():
    corners = [(0, 0, 0), (5, 5, 5), (0, 8, 2), (8, 0, 8), (4, 10, 0)]
    target = blobs((11, 13, 10), corners)
    pred = np.zeros_like(target)
    pred[1, 1, 1] = True  # hits the first blob with one voxel
    pred[6, 5, 6] = True  # hits the second
    pred[10, 12, 9] = True  # hits nothing
    assert detection_rate(pred, target) == pytest.approx(2 / 5)
    assert detection_rate(torch.from_numpy(pred), torch.from_numpy(target)) == pytest.approx(2 / 5)
    assert detection_rate(target, target) == 1.0
    assert detection_rate(np.zeros_like(target), target) == 0.0
    assert detection_rate(pred, np.zeros_like(target)) == 1.0  # nothing to find


def test_detection_rate_connectivity():
    """Two voxels that touch only at a corner are two components with faces, one with corners."""
    target = np.zeros((4, 4, 4), dtype=bool)
    target[1, 1, 1] = target[2, 2, 2] = True
    pred = np.zeros_like(target)
    pred[1, 1, 1] = True
    assert detection_rate(pred, target) == pytest.approx(0.5)
    assert detection_rate(pred, target, connectivity=3) == 1.0


def test_detection_rate_is_blind_to_size_unlike_dice():
    """One big structure found, four small ones missed: Dice is high, detection rate is 1/5."""
    target = blobs((20, 20, 20), [(0, 0, 0)], size=10) | blobs((20, 20, 20), [(15, 15, 15), (15, 0, 15),
                                                                                 (0, 15, 15), (15, 15, 0)], size=2)
    pred = blobs((20, 20, 20), [(0, 0, 0)], size=10)
    assert detection_rate(pred, target) == pytest.approx(1 / 5)
    assert dice(torch.from_numpy(pred).long(), torch.from_numpy(target).long(), 2)[1] > 0.98


@pytest.mark.parametrize("kwargs", [dict(connectivity=0), dict(connectivity=4)])
def test_detection_rate_rejects_bad_connectivity(kwargs):
    with pytest.raises(ValueError):
        detection_rate(np.zeros((3, 3, 3)), np.zeros((3, 3, 3)), **kwargs)


def test_detection_rate_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        detection_rate(np.zeros((3, 3, 3)), np.zeros((3, 3, 4)))


def test_lesion_dice_counts_false_positives_against_the_nearest_lesion():
    """Two lesions far apart: each false positive lowers the Dice of the lesion it is nearest to only."""
    from course.metrics import lesion_dice

    target = np.zeros((12, 5, 5), dtype=bool)
    target[1:3, 1:3, 1:3] = True  # lesion 1: 8 voxels near x = 1
    target[9:11, 1:3, 1:3] = True  # lesion 2: 8 voxels near x = 10
    np.testing.assert_allclose(lesion_dice(target, target), [1.0, 1.0])
    np.testing.assert_allclose(lesion_dice(np.zeros_like(target), target), [0.0, 0.0])
    pred = target.copy()
    pred[4, 4, 4] = True  # a false positive nearer lesion 1
    pred[9:11, 1:3, 1] = False  # half of lesion 2 missed
    np.testing.assert_allclose(lesion_dice(pred, target), [2 * 8 / (9 + 8), 2 * 4 / (4 + 8)])
    np.testing.assert_allclose(lesion_dice(torch.from_numpy(pred), torch.from_numpy(target)), lesion_dice(pred, target))
    # the cells cover the volume: pooled, the per-lesion counts give the whole-volume Dice
    assert lesion_dice(pred, np.zeros_like(target)).shape == (0,)
    with pytest.raises(ValueError):
        lesion_dice(pred, target[:5])


# --- hd95 -------------------------------------------------------------------------------------------------
def random_blobs(shape, seed, sigma=2.0, fraction=0.15):
    """Smoothed noise thresholded at its (1 - fraction) quantile: a few irregular blobs."""
    from scipy import ndimage

    field = ndimage.gaussian_filter(np.random.default_rng(seed).random(shape), sigma)
    return field > np.quantile(field, 1 - fraction)


def monai_hd95(pred, target, spacing):
    from monai.metrics import compute_hausdorff_distance

    import warnings

    as_batch = lambda m: torch.as_tensor(np.asarray(m, dtype=np.float32))[None, None]  # (1, 1, *S)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # MONAI's own deprecation notice inside get_mask_edges
        return compute_hausdorff_distance(as_batch(pred), as_batch(target), include_background=True, percentile=95,
                                          spacing=list(spacing)).item()


@pytest.mark.parametrize("shape, spacing", [
    ((33, 34, 35), (1.0, 1.0, 1.0)),
    ((33, 34, 35), (3.0, 0.7, 0.9)),
    ((17, 9, 23), (0.5, 2.5, 1.25)),
    ((5, 40, 41), (5.0, 0.8, 0.8)),
    ((31, 29), (1.5, 0.6)),
])
def test_hd95_equals_monai_on_random_blobs(shape, spacing):
    from course.metrics import hd95

    for seed in range(3):
        pred, target = random_blobs(shape, 2 * seed), random_blobs(shape, 2 * seed + 1)
        ours = hd95(pred, target, spacing=spacing)
        assert type(ours) is float and ours > 0
        assert ours == pytest.approx(monai_hd95(pred, target, spacing), rel=1e-5)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_hd95_batch_of_two_volumes_equals_monai_per_sample():
    """MONAI on a (2, 1, 33, 34, 35) batch gives one HD95 per sample; ours, called per volume, the same."""
    from monai.metrics import compute_hausdorff_distance

    from course.metrics import hd95

    spacing = (2.0, 0.9, 0.9)
    pred = np.stack([random_blobs((33, 34, 35), s) for s in (10, 11)])[:, None]  # (2, 1, 33, 34, 35)
    target = np.stack([random_blobs((33, 34, 35), s) for s in (12, 13)])[:, None]
    theirs = compute_hausdorff_distance(torch.from_numpy(pred).float(), torch.from_numpy(target).float(),
                                        include_background=True, percentile=95, spacing=list(spacing))[:, 0]
    ours = [hd95(torch.from_numpy(p[0]), torch.from_numpy(t[0]).int(), spacing=spacing) for p, t in zip(pred, target)]
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5)


def test_hd95_hand_cases():
    """Two cubes shifted by 3 voxels along one axis: every surface distance is known by hand."""
    from course.metrics import hd95

    target = np.zeros((20, 12, 12), dtype=bool)
    target[4:10, 3:9, 3:9] = True
    assert hd95(target, target) == 0.0
    shifted = np.roll(target, 3, axis=0)
    # faces perpendicular to the shift are 3 voxels apart; side faces overlap (distance 0) except near the ends
    assert hd95(shifted, target, spacing=(2.0, 1.0, 1.0)) == pytest.approx(monai_hd95(shifted, target, (2, 1, 1)))
    assert hd95(shifted, target, spacing=(2.0, 1.0, 1.0)) == pytest.approx(2 * hd95(shifted, target), rel=0.01)
    # a single voxel is its own surface: two voxels 5 rows apart at 0.5 mm are 2.5 mm apart
    a, b = np.zeros((9, 9, 9), dtype=bool), np.zeros((9, 9, 9), dtype=bool)
    a[2, 4, 4], b[7, 4, 4] = True, True
    assert hd95(a, b, spacing=(0.5, 1.0, 1.0)) == pytest.approx(2.5)
    # a surface voxel inside the other mask counts its distance to that mask's surface, not 0
    big, small = np.zeros((11, 11, 11), dtype=bool), np.zeros((11, 11, 11), dtype=bool)
    big[1:10, 1:10, 1:10], small[5, 5, 5] = True, True
    assert hd95(small, big) == pytest.approx(monai_hd95(small, big, (1, 1, 1))) and hd95(small, big) >= 4.0


def test_hd95_empty_masks_follow_the_documented_convention():
    import warnings

    from monai.metrics import compute_hausdorff_distance

    from course.metrics import hd95

    empty, blob = np.zeros((6, 7, 8), dtype=bool), np.zeros((6, 7, 8), dtype=bool)
    blob[1:4, 2:5, 3:6] = True
    assert np.isnan(hd95(empty, empty))
    assert hd95(blob, empty) == float("inf") and hd95(empty, blob) == float("inf")
    as_batch = lambda m: torch.from_numpy(m).float()[None, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MONAI warns about the empty masks
        both = compute_hausdorff_distance(as_batch(empty), as_batch(empty), include_background=True, percentile=95)
        one_p95 = compute_hausdorff_distance(as_batch(empty), as_batch(blob), include_background=True, percentile=95)
        one_max = compute_hausdorff_distance(as_batch(empty), as_batch(blob), include_background=True)
    assert torch.isnan(both).all()  # both empty: NaN, like ours
    assert torch.isnan(one_p95).all()  # one empty: MONAI's percentile interpolates inf - inf = NaN ...
    assert torch.isinf(one_max).all()  # ... its plain Hausdorff distance gives inf, as ours does


@pytest.mark.parametrize("pred_shape, target_shape, kwargs, match", [
    ((4, 5, 6), (4, 5, 7), {}, "same"),
    ((4, 5, 6), (4, 5, 6), dict(spacing=(1.0, 1.0)), "spacing"),
    ((4, 5, 6), (4, 5, 6), dict(spacing=(1.0, 0.0, 1.0)), "spacing"),
    ((4, 5, 6), (4, 5, 6), dict(spacing=(1.0, -2.0, 1.0)), "spacing"),
    ((4, 5, 6), (4, 5, 6), dict(spacing=(1.0, float("nan"), 1.0)), "spacing"),
    ((2, 4, 5, 6), (2, 4, 5, 6), dict(spacing=(1.0,) * 4), "same"),
])
def test_hd95_rejects_bad_arguments(pred_shape, target_shape, kwargs, match):
    from course.metrics import hd95

    pred, target = np.ones(pred_shape, dtype=bool), np.ones(target_shape, dtype=bool)
    with pytest.raises(ValueError, match=match):
        hd95(pred, target, **kwargs)


def test_hd95_rejects_label_maps_and_probabilities():
    from course.metrics import hd95

    labels = np.zeros((4, 5, 6), dtype=np.int64)
    labels[1, 1, 1] = 2
    with pytest.raises(ValueError, match="binary"):
        hd95(labels, labels > 0)
    with pytest.raises(ValueError, match="binary"):
        hd95(np.full((4, 5, 6), 0.7), labels > 0)


# --- lesion_f1 --------------------------------------------------------------------------------------------
def brute_force_lesion_f1(pred, target, connectivity):
    """Independent count: skimage's labelling, then one overlap test per component."""
    from skimage.measure import label

    pred_components = label(pred, connectivity=connectivity)
    target_components = label(target, connectivity=connectivity)
    found = sum(bool(pred[target_components == i].any()) for i in range(1, target_components.max() + 1))
    correct = sum(bool(target[pred_components == i].any()) for i in range(1, pred_components.max() + 1))
    recall = found / target_components.max() if target_components.max() else 1.0
    precision = correct / pred_components.max() if pred_components.max() else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


@pytest.mark.parametrize("shape", [(33, 34, 35), (9, 17, 5), (40, 41)])
@pytest.mark.parametrize("connectivity", [1, 2, 3])
def test_lesion_f1_equals_a_brute_force_count(shape, connectivity):
    from course.metrics import lesion_f1

    connectivity = min(connectivity, len(shape))
    for seed in range(3):
        pred = random_blobs(shape, seed, sigma=1.0, fraction=0.08)
        target = random_blobs(shape, seed + 100, sigma=1.0, fraction=0.08)
        ours = lesion_f1(torch.from_numpy(pred), target, connectivity=connectivity)
        theirs = brute_force_lesion_f1(pred, target, connectivity)
        assert set(ours) == {"precision", "recall", "f1"} and all(type(v) is float for v in ours.values())
        assert ours == pytest.approx(theirs)
        assert ours["recall"] == pytest.approx(detection_rate(pred, target, connectivity=connectivity))
        assert 0 < ours["f1"] < 1  # a case that is neither perfect nor all wrong


def test_lesion_f1_hand_table():
    """Five target lesions, four predicted components: 2 found; 2 predictions correct, 2 false alarms."""
    from course.metrics import lesion_f1

    target = blobs((11, 13, 10), [(0, 0, 0), (5, 5, 5), (0, 8, 2), (8, 0, 8), (4, 10, 0)])
    pred = np.zeros_like(target)
    pred[0:3, 0:3, 0:3] = True  # overlaps lesion 1 (and is larger than it)
    pred[6, 6, 6] = True  # inside lesion 2
    pred[10, 12, 9] = True  # false alarm
    pred[10, 0, 0] = True  # false alarm
    result = lesion_f1(pred, target)
    assert result["recall"] == pytest.approx(2 / 5) and result["precision"] == pytest.approx(2 / 4)
    assert result["f1"] == pytest.approx(2 * 0.4 * 0.5 / 0.9)
    # one predicted component touching two lesions counts once for precision and twice for recall
    joint = np.zeros((3, 9, 3), dtype=bool)
    joint_target = np.zeros_like(joint)
    joint_target[1, 1, 1] = joint_target[1, 7, 1] = True
    joint[1, 1:8, 1] = True
    assert lesion_f1(joint, joint_target) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


@pytest.mark.parametrize("pred_empty, target_empty, expected", [
    (True, True, {"precision": 1.0, "recall": 1.0, "f1": 1.0}),
    (True, False, {"precision": 1.0, "recall": 0.0, "f1": 0.0}),
    (False, True, {"precision": 0.0, "recall": 1.0, "f1": 0.0}),
])
def test_lesion_f1_empty_maps_follow_the_documented_convention(pred_empty, target_empty, expected):
    from course.metrics import lesion_f1

    blob = blobs((6, 6, 6), [(1, 1, 1)])
    empty = np.zeros_like(blob)
    assert lesion_f1(empty if pred_empty else blob, empty if target_empty else blob) == expected


def test_lesion_f1_connectivity_and_errors():
    from course.metrics import lesion_f1

    target = np.zeros((4, 4, 4), dtype=bool)
    target[1, 1, 1] = target[2, 2, 2] = True  # touch at a corner only
    pred = np.zeros_like(target)
    pred[1, 1, 1] = True
    assert lesion_f1(pred, target)["recall"] == pytest.approx(0.5)
    assert lesion_f1(pred, target, connectivity=3)["recall"] == 1.0
    with pytest.raises(ValueError):
        lesion_f1(pred, target, connectivity=4)
    with pytest.raises(ValueError):
        lesion_f1(pred, target[:3])



def test_binary_dice_is_the_foreground_dice_of_monai():
    """Check binary_dice on numpy and torch masks against MONAI's compute_dice of the foreground."""
    rng = np.random.default_rng(0)
    a, b = rng.random((6, 7, 8)) < 0.3, rng.random((6, 7, 8)) < 0.4
    theirs = float(compute_dice(torch.from_numpy(a)[None, None].float(), torch.from_numpy(b)[None, None].float()))
    assert binary_dice(a, b) == pytest.approx(theirs, abs=1e-6)
    assert binary_dice(torch.from_numpy(a), torch.from_numpy(b).int()) == binary_dice(a, b)
    assert binary_dice(np.zeros(4, bool), np.zeros(4, bool)) == 1.0


def test_binary_dice_refuses_a_label_map():
    with pytest.raises(ValueError, match="binary"):
        binary_dice(np.array([0, 1, 2]), np.array([0, 1, 1]))
