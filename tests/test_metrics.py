"""Hard Dice against MONAI's compute_dice (and where the conventions differ); detection rate by components."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from monai.metrics import compute_dice

from course.metrics import detection_rate, dice


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
