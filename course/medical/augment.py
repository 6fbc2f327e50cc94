"""Intensity augmentation of MRI volumes and synthetic small lesions, all seeded.

MRI intensities have no physical unit: the same tissue looks different from scanner to scanner.
Three effects dominate, and a segmentation network that should work on an unseen scanner is trained
on random versions of them (Isensee et al. 2021, nnU-Net, use the same family of transforms):

    bias_field(shape, strength, seed)     a smooth multiplicative field exp(p(x, y, z)), p a random cubic
                                          polynomial with max |p| = strength (coil sensitivity)
    add_noise(volume, std, seed)          additive Gaussian noise (thermal noise), std in intensity units
    adjust_gamma(volume, gamma)           a monotone contrast change of the [min, max] range
    augment_intensity(volume, seed, ...)  the three with random parameters, in that order

    insert_lesions(volume, region, ...)   small blobs (2, 3 or 4 voxels across) with their mask

Layout: a volume is (..., D, H, W) (any leading axes); fields and masks are (D, H, W). Every random
function takes ``seed``: an int or a ``torch.Generator``.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import torch

__all__ = ["bias_field", "add_noise", "adjust_gamma", "augment_intensity", "lesion_shape", "insert_lesions"]

Seed = int | torch.Generator


def _generator(seed: Seed) -> torch.Generator:
    """A CPU generator: ``seed`` itself when it is one, else a new one seeded with the int."""
    if isinstance(seed, torch.Generator):
        return seed
    if not isinstance(seed, int):
        raise ValueError(f"seed must be an int or a torch.Generator, got {type(seed).__name__}")
    return torch.Generator().manual_seed(seed)


def _uniform(low: float, high: float, generator: torch.Generator) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator, dtype=torch.float64))


def bias_field(shape: Sequence[int], strength: float, *, seed: Seed, degree: int = 3) -> torch.Tensor:
    """A smooth, positive, multiplicative bias field exp(p), p a random polynomial of the coordinates.

    p(x, y, z) = Σ c_ijk x^i y^j z^k over i + j + k <= ``degree`` (constant term excluded), with
    coordinates in [−1, 1] and standard normal coefficients, then scaled so that max |p| = strength.
    The field therefore lies in [exp(−strength), exp(strength)] (0.74 … 1.35 for strength 0.3).

    Args:
        shape: (D, H, W) of the volume.
        strength: max |log field| >= 0; 0 gives a field of ones.
        seed: int or torch.Generator.
        degree: polynomial degree >= 1 (3: smooth, a few bright and dark regions).

    Returns:
        (D, H, W) float32 field, > 0.

    Raises:
        ValueError: a shape that is not 3 sizes >= 1, a negative strength or a degree < 1.
    """
    # 1. validate
    shape = tuple(int(n) for n in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be (D, H, W) with sizes >= 1, got {shape}")
    if strength < 0 or degree < 1:
        raise ValueError(f"strength must be >= 0 and degree >= 1, got {strength} and {degree}")
    generator = _generator(seed)
    # 2. coordinates in [-1, 1] along each axis
    z, y, x = torch.meshgrid(*[torch.linspace(-1, 1, n, dtype=torch.float64) for n in shape], indexing="ij")
    # 3. random polynomial without constant term (a constant would only rescale the volume)
    powers = [p for p in itertools.product(range(degree + 1), repeat=3) if 0 < sum(p) <= degree]
    coefficients = torch.randn(len(powers), generator=generator, dtype=torch.float64)
    log_field = sum(c * z**i * y**j * x**k for c, (i, j, k) in zip(coefficients, powers))
    # 4. scale to max |p| = strength and exponentiate
    log_field = log_field * (strength / log_field.abs().max().clamp_min(1e-12))
    return torch.exp(log_field).to(torch.float32)


def add_noise(volume: torch.Tensor, std: float, *, seed: Seed) -> torch.Tensor:
    """Add Gaussian noise of standard deviation ``std`` (intensity units).

    Args:
        volume: (..., D, H, W) float tensor.
        std: noise standard deviation >= 0.
        seed: int or torch.Generator.

    Returns:
        A new tensor, shape and dtype of ``volume``.

    Raises:
        ValueError: a negative ``std`` or a non-float volume.
    """
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    if not volume.is_floating_point():
        raise ValueError(f"volume must be a float tensor, got {volume.dtype}")
    noise = torch.randn(volume.shape, generator=_generator(seed), dtype=torch.float32)
    return volume + std * noise.to(volume.device, volume.dtype)


def adjust_gamma(volume: torch.Tensor, gamma: float) -> torch.Tensor:
    """Gamma contrast change of the volume's own range: min + (max − min)·((v − min)/(max − min))^gamma.

    gamma > 1 darkens the mid-tones, gamma < 1 brightens them; min and max stay where they are, and
    the order of intensities is kept (a monotone map). This is MONAI's ``AdjustContrast`` without its
    epsilon.

    Args:
        volume: (..., D, H, W) float tensor.
        gamma: exponent > 0.

    Returns:
        A new tensor, shape and dtype of ``volume``.

    Raises:
        ValueError: gamma <= 0 or a non-float volume.
    """
    if gamma <= 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    if not volume.is_floating_point():
        raise ValueError(f"volume must be a float tensor, got {volume.dtype}")
    low, high = volume.min(), volume.max()
    span = (high - low).clamp_min(torch.finfo(volume.dtype).tiny)
    return low + span * ((volume - low) / span) ** gamma


def augment_intensity(volume: torch.Tensor, *, seed: Seed, bias_strength: tuple[float, float] = (0.0, 0.3),
                      noise_std: tuple[float, float] = (0.0, 0.05),
                      gamma: tuple[float, float] = (0.7, 1.5)) -> torch.Tensor:
    """Random bias field, then noise, then gamma: one simulated scanner per call.

    Each parameter is drawn uniformly from its (low, high) range; the gamma is drawn log-uniformly
    (so 0.7 and 1/0.7 are equally likely when the range is symmetric in log).

    Args:
        volume: (..., D, H, W) float tensor, intensities about in [0, 1].
        seed: int or torch.Generator.
        bias_strength: range of the bias field's max |log field|.
        noise_std: range of the noise standard deviation.
        gamma: range of the gamma exponent, both > 0.

    Returns:
        A new tensor, shape and dtype of ``volume``.

    Raises:
        ValueError: a range with low > high, or a volume with fewer than 3 axes.
    """
    # 1. validate
    if volume.dim() < 3:
        raise ValueError(f"volume must be (..., D, H, W), got shape {tuple(volume.shape)}")
    for name, (low, high) in [("bias_strength", bias_strength), ("noise_std", noise_std), ("gamma", gamma)]:
        if low > high:
            raise ValueError(f"{name} must be a (low, high) range, got {(low, high)}")
    generator = _generator(seed)
    # 2. draw the scanner
    strength = _uniform(*bias_strength, generator)
    std = _uniform(*noise_std, generator)
    g = float(torch.exp(torch.tensor(_uniform(*(float(torch.log(torch.tensor(v))) for v in gamma), generator))))
    # 3. apply: bias field (multiplicative), noise (additive), gamma (contrast)
    field = bias_field(volume.shape[-3:], strength, seed=generator).to(volume.device, volume.dtype)
    out = add_noise(volume * field, std, seed=generator)
    return adjust_gamma(out, g)


def lesion_shape(diameter: int) -> torch.Tensor:
    """A digital ball ``diameter`` voxels across: the voxels of a d×d×d box within d/2 of its centre.

    Args:
        diameter: 2, 3 or 4 (or any int >= 1).

    Returns:
        (d, d, d) bool mask, touching every face of its box (8, 19 and 32 voxels for d = 2, 3, 4).

    Raises:
        ValueError: diameter < 1.
    """
    if diameter < 1:
        raise ValueError(f"diameter must be >= 1 voxel, got {diameter}")
    offsets = torch.arange(diameter, dtype=torch.float64) - (diameter - 1) / 2  # voxel centres
    z, y, x = torch.meshgrid(offsets, offsets, offsets, indexing="ij")
    return z**2 + y**2 + x**2 <= (diameter / 2) ** 2


def insert_lesions(volume: torch.Tensor, region: torch.Tensor, num_lesions: int, *,
                   intensity: tuple[float, float], diameters: Sequence[int] = (2, 3, 4), seed: Seed,
                   max_tries: int = 10_000) -> tuple[torch.Tensor, torch.Tensor]:
    """Insert ``num_lesions`` small blobs of uniform intensity at random places inside ``region``.

    Each lesion is a :func:`lesion_shape` ball whose diameter is drawn from ``diameters`` and whose
    intensity is drawn uniformly from ``intensity``; every voxel of its box lies inside ``region``,
    and lesions never touch each other (a one-voxel gap), so each is one connected component.

    Args:
        volume: (..., D, H, W) float tensor (leading axes get the same lesion).
        region: (D, H, W) bool mask of allowed voxels (e.g. white matter).
        num_lesions: lesions to insert, >= 0.
        intensity: (low, high) range of a lesion's intensity (units of ``volume``).
        diameters: allowed diameters in voxels, each >= 1.
        seed: int or torch.Generator.
        max_tries: random positions tried before giving up.

    Returns:
        ``(volume_with_lesions, lesion_mask)``: a new tensor like ``volume`` and a (D, H, W) bool mask
        of exactly the changed voxels.

    Raises:
        ValueError: shapes that do not match, a bad range or diameter, or not enough room in ``region``.
    """
    # 1. validate
    if region.shape != volume.shape[-3:] or region.dtype != torch.bool:
        raise ValueError(f"region must be a bool (D, H, W) mask of shape {tuple(volume.shape[-3:])}, "
                         f"got {region.dtype} {tuple(region.shape)}")
    if num_lesions < 0 or intensity[0] > intensity[1] or not diameters or min(diameters) < 1:
        raise ValueError(f"need num_lesions >= 0, intensity low <= high and diameters >= 1, got "
                         f"{num_lesions}, {intensity}, {tuple(diameters)}")
    generator = _generator(seed)
    out, mask = volume.clone(), torch.zeros_like(region)
    shape = region.shape
    # 2. place the lesions one by one: a random corner, accepted when the box is free and allowed
    placed, tries = 0, 0
    while placed < num_lesions:
        tries += 1
        if tries > max_tries:
            raise ValueError(f"placed only {placed} of {num_lesions} lesions in {max_tries} tries: region has "
                             f"too little room; use fewer or smaller lesions or a larger region")
        d = int(diameters[int(torch.randint(len(diameters), (), generator=generator))])
        corner = [int(torch.randint(n - d + 1, (), generator=generator)) if n >= d else -1 for n in shape]
        if min(corner) < 0:
            continue
        box = tuple(slice(c, c + d) for c in corner)
        around = tuple(slice(max(c - 1, 0), c + d + 1) for c in corner)  # one-voxel gap to other lesions
        if not bool(region[box].all()) or bool(mask[around].any()):
            continue
        # 3. paint it: the ball's voxels take one intensity
        ball = lesion_shape(d)
        value = _uniform(*intensity, generator)
        mask[box] |= ball
        out[(..., *box)] = torch.where(ball, torch.tensor(value, dtype=out.dtype), out[(..., *box)])
        placed += 1
    return out, mask
