"""Tests of course.medical.normalize: z-score statistics checked with torch (an independent mean/std),
the foreground rule, min-max, errors, and the robustness claim of the lesson on the real T1."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course.data.samples import example4d_path
from course.medical.nifti import load_nifti
from course.medical.normalize import foreground_mask, minmax, zscore


@pytest.mark.parametrize("shape", [(5, 7, 9), (33, 41, 25), (11,)])
def test_zscore_uses_foreground_statistics(shape):
    """Check against torch's mean and population std over the masked voxels; background follows the same map."""
    rng = np.random.default_rng(len(shape))
    volume = rng.normal(100, 20, size=shape)
    mask = rng.random(shape) < 0.4
    volume[~mask] = rng.normal(3, 1, size=int((~mask).sum()))
    out = zscore(volume, mask)
    t = torch.from_numpy(volume[mask])
    expected = (torch.from_numpy(volume) - t.mean()) / t.std(correction=0)
    assert out.dtype == np.float32 and out.shape == volume.shape
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-5)
    assert abs(out[mask].mean()) < 1e-5 and abs(out[mask].std() - 1) < 1e-5


def test_zscore_default_mask_is_above_the_mean():
    """Check that mask=None equals the explicit mask volume > mean."""
    volume = np.random.default_rng(1).gamma(2.0, 10.0, size=(9, 7, 5))
    np.testing.assert_array_equal(foreground_mask(volume), volume > volume.mean())
    np.testing.assert_allclose(zscore(volume), zscore(volume, volume > volume.mean()))


def test_minmax_range_and_formula():
    """Check [0, 1] and the formula against torch."""
    volume = np.random.default_rng(2).normal(size=(5, 6, 7)) * 50
    out = minmax(volume)
    t = torch.from_numpy(volume)
    np.testing.assert_allclose(out, ((t - t.min()) / (t.max() - t.min())).numpy(), rtol=1e-6, atol=1e-7)
    assert out.min() == 0 and out.max() == 1 and out.dtype == np.float32


def test_one_outlier_moves_minmax_not_foreground_zscore():
    """Check the lesson's claim on a real head MRI (fMRI volume 0): one hot background voxel moves the
    min-max values of the brain by more than half their spread, and the foreground z-score not at all."""
    t1 = load_nifti(example4d_path())[0][..., 0]
    mask = foreground_mask(t1)
    hot = t1.copy()
    hot[0, 0, 0] = 10 * t1.max()  # one voxel in the background corner, not in the mask
    assert not mask[0, 0, 0]
    minmax_change = np.abs(minmax(hot) - minmax(t1))[mask].mean() / minmax(t1)[mask].std()
    zscore_change = np.abs(zscore(hot, mask) - zscore(t1, mask))[mask].mean()
    assert minmax_change > 0.5 and zscore_change < 1e-6


@pytest.mark.parametrize("volume, mask, match", [
    (np.ones((3, 3)), None, "at least 2"),  # constant: nothing above the mean
    (np.arange(9.0).reshape(3, 3), np.ones((3, 2), bool), "shape"),
    (np.array([1.0, 2.0, 5.0, 5.0]), np.array([0, 0, 1, 1], bool), "constant"),
])
def test_zscore_errors(volume, mask, match):
    """Check ValueError for an empty foreground, a mask of another shape and a constant foreground."""
    with pytest.raises(ValueError, match=match):
        zscore(volume, mask)


def test_minmax_and_mask_errors():
    """Check ValueError for a constant volume and an empty one."""
    with pytest.raises(ValueError):
        minmax(np.full((3, 3), 7.0))
    with pytest.raises(ValueError):
        foreground_mask(np.zeros((0, 3)))
