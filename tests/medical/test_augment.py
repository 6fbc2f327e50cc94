"""Tests of course.medical.augment: determinism per seed, a smooth positive bias field, gamma equal to
MONAI's AdjustContrast, noise with the asked standard deviation, and lesions whose sizes and masks are
checked with scipy's connected components."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from course.medical.augment import (
    add_noise,
    adjust_gamma,
    augment_intensity,
    bias_field,
    insert_lesions,
    lesion_shape,
)


def _volume(shape: tuple[int, ...] = (1, 13, 17, 11), seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


# --- determinism ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda seed: bias_field((9, 12, 7), 0.4, seed=seed),
    lambda seed: add_noise(_volume(), 0.1, seed=seed),
    lambda seed: augment_intensity(_volume(), seed=seed),
    lambda seed: insert_lesions(_volume(), torch.ones(13, 17, 11, dtype=torch.bool), 3, intensity=(0.2, 0.4),
                                seed=seed)[0],
])
def test_same_seed_same_result_other_seed_other_result(fn) -> None:  # noqa: ANN001
    assert torch.equal(fn(3), fn(3))
    assert not torch.equal(fn(3), fn(4))
    # a torch.Generator works as well, and an int seed is the same as a generator seeded with it
    assert torch.equal(fn(torch.Generator().manual_seed(3)), fn(3))


def test_bad_seed() -> None:
    with pytest.raises(ValueError, match="seed"):
        bias_field((3, 3, 3), 0.1, seed=1.5)


# --- bias field --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,strength", [((9, 12, 7), 0.3), ((21, 5, 16), 0.8), ((4, 4, 4), 0.0)])
def test_bias_field_positive_bounded_and_smooth(shape: tuple[int, int, int], strength: float) -> None:
    for seed in range(5):
        field = bias_field(shape, strength, seed=seed)
        assert field.shape == shape and field.dtype == torch.float32
        assert (field > 0).all()
        log = torch.log(field.double())
        assert log.abs().max().item() == pytest.approx(strength, abs=1e-6)  # exactly the asked strength
        if strength == 0:
            continue
        # smooth: a cubic polynomial over [-1, 1] changes little between neighbours; its second
        # differences are far smaller than those of white noise with the same range
        for axis in range(3):
            if shape[axis] < 3:
                continue
            second = torch.diff(log, n=2, dim=axis).abs().max().item()
            assert second < 0.2 * strength * 8 / shape[axis]
        # and it is not a constant
        assert log.std() > 0.05 * strength


def test_bias_field_bad_arguments() -> None:
    with pytest.raises(ValueError, match="shape"):
        bias_field((5, 5), 0.1, seed=0)
    with pytest.raises(ValueError, match="strength"):
        bias_field((5, 5, 5), -0.1, seed=0)


# --- noise and gamma ----------------------------------------------------------------------------------------

def test_noise_has_the_asked_std() -> None:
    volume = torch.zeros(1, 31, 33, 35)
    noisy = add_noise(volume, 0.07, seed=1)
    assert noisy.shape == volume.shape and noisy.dtype == volume.dtype
    assert noisy.std().item() == pytest.approx(0.07, rel=0.02)
    assert abs(noisy.mean().item()) < 0.002
    assert torch.equal(add_noise(volume, 0.0, seed=1), volume)
    with pytest.raises(ValueError, match="std"):
        add_noise(volume, -1.0, seed=0)
    with pytest.raises(ValueError, match="float"):
        add_noise(volume.long(), 0.1, seed=0)


@pytest.mark.parametrize("gamma", [0.5, 0.8, 1.0, 1.7])
def test_gamma_matches_monai(gamma: float) -> None:
    from monai.transforms import AdjustContrast

    volume = _volume((2, 7, 9, 5), seed=2) * 3.0 - 0.5
    expected = AdjustContrast(gamma)(volume)
    np.testing.assert_allclose(adjust_gamma(volume, gamma).numpy(), np.asarray(expected), atol=1e-4)
    # min and max stay, order is kept
    out = adjust_gamma(volume, gamma)
    assert out.min().item() == pytest.approx(volume.min().item(), abs=1e-6)
    assert out.max().item() == pytest.approx(volume.max().item(), abs=1e-6)
    assert torch.equal(torch.argsort(out.flatten()), torch.argsort(volume.flatten()))
    with pytest.raises(ValueError, match="gamma"):
        adjust_gamma(volume, 0.0)


def test_augment_intensity_ranges() -> None:
    volume = _volume()
    same = augment_intensity(volume, seed=0, bias_strength=(0, 0), noise_std=(0, 0), gamma=(1, 1))
    torch.testing.assert_close(same, volume)
    changed = augment_intensity(volume, seed=0)
    assert changed.shape == volume.shape and not torch.allclose(changed, volume)
    with pytest.raises(ValueError, match="noise_std"):
        augment_intensity(volume, seed=0, noise_std=(0.1, 0.0))
    with pytest.raises(ValueError, match="D, H, W"):
        augment_intensity(volume[0, 0], seed=0)


# --- lesions -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("diameter,voxels", [(1, 1), (2, 8), (3, 19), (4, 32)])
def test_lesion_shape(diameter: int, voxels: int) -> None:
    ball = lesion_shape(diameter)
    assert ball.shape == (diameter,) * 3 and ball.dtype == torch.bool
    assert int(ball.sum()) == voxels
    for axis in range(3):  # it touches every face of its box: d voxels across along each axis
        assert ball.any(dim=tuple(a for a in range(3) if a != axis)).all()
        assert torch.equal(ball, ball.flip(axis))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lesions_sizes_positions_and_masks(seed: int) -> None:
    volume = _volume((2, 23, 19, 27), seed=seed)
    region = torch.zeros(23, 19, 27, dtype=torch.bool)
    region[3:20, 2:17, 4:25] = True
    out, mask = insert_lesions(volume, region, 6, intensity=(2.0, 3.0), seed=seed)
    assert out.shape == volume.shape and mask.shape == region.shape and mask.dtype == torch.bool
    # the mask is exactly the changed voxels (every channel changed alike), all inside the region
    changed = (out != volume)
    assert torch.equal(changed[0], mask) and torch.equal(changed[1], mask)
    assert not (mask & ~region).any()
    assert ((out[:, mask] >= 2.0) & (out[:, mask] <= 3.0)).all()
    # six separate components (scipy, 26-connectivity), each 2-4 voxels across on every axis
    labels, count = ndimage.label(mask.numpy(), structure=np.ones((3, 3, 3)))
    assert count == 6
    for box in ndimage.find_objects(labels):
        extents = [s.stop - s.start for s in box]
        assert all(2 <= e <= 4 for e in extents) and len(set(extents)) == 1
        assert int((labels[box] > 0).sum()) == {2: 8, 3: 19, 4: 32}[extents[0]]
        # one intensity per lesion
        assert out[0][torch.from_numpy(labels == labels[box].max())].unique().numel() == 1


def test_lesions_need_room() -> None:
    volume = _volume((1, 9, 9, 9))
    region = torch.zeros(9, 9, 9, dtype=torch.bool)
    region[:3, :3, :3] = True
    with pytest.raises(ValueError, match="room"):
        insert_lesions(volume, region, 3, intensity=(0.0, 1.0), diameters=(3,), seed=0, max_tries=200)
    with pytest.raises(ValueError, match="region"):
        insert_lesions(volume, region[0], 1, intensity=(0.0, 1.0), seed=0)
    out, mask = insert_lesions(volume, region, 0, intensity=(0.0, 1.0), seed=0)
    assert torch.equal(out, volume) and not mask.any()
