"""Patches of volumes: sampling them for training, and sliding-window inference that stitches them.

Lesson 11_unet3d_patches.

A 3D U-Net rarely sees a whole volume: training crops patches (a 96×112×96 brain at 1 mm does not
fit a batch of activations on a laptop), and inference slides a window of the same size over the
volume and averages the overlapping predictions.

    window_starts              start positions of the windows along one axis (MONAI's scan rule)
    gaussian_importance_map    weights that trust a window's centre more than its border, in
                               MONAI's convention (centre (n − 1)/2); nnU-Net (Isensee et al. 2021)
                               weights with a Gaussian too, peaked on voxel n // 2
    stitch                     weighted average of overlapping patch predictions
    sliding_window_inference   pad → windows → predict in batches → stitch → crop
    sample_patches             random patches, a fraction centred on foreground voxels (class balance,
                               as in nnU-Net's oversampling of foreground and Çiçek et al. 2016's
                               training on random crops)

Windows follow MONAI's ``sliding_window_inference`` (the same starts, weights and padding), so the
two give the same output; tests check it. Layout: volumes (N, C, D, H, W) or images (N, C, H, W);
roi and patch sizes are tuples in the order of the spatial axes.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

__all__ = ["window_starts", "gaussian_importance_map", "stitch", "sliding_window_inference", "sample_patches"]


def window_starts(size: int, roi: int, overlap: float) -> list[int]:
    """Start positions of the windows along one axis of length ``size``.

    Windows step by the scan interval ``int(roi · (1 − overlap))`` (at least 1) and the last window
    is moved back so that it ends exactly at the far edge; an axis no longer than the window gets
    one window at 0 (pad it to ``roi`` first). This is the rule of MONAI's sliding window.

    Args:
        size: length of the axis in voxels, >= 1.
        roi: window length in voxels, >= 1.
        overlap: fraction of a window shared with the next one, 0 <= overlap < 1.

    Returns:
        Increasing Python ints; every window [s, s + roi) lies inside [0, size) when size >= roi.
        E.g. (size 10, roi 4, overlap 0.5) → [0, 2, 4, 6].

    Raises:
        ValueError: size or roi below 1, or overlap outside [0, 1).
    """
    # 1. validate
    if size < 1 or roi < 1 or not 0 <= overlap < 1:
        raise ValueError(f"need size >= 1, roi >= 1 and 0 <= overlap < 1, got size={size}, roi={roi}, "
                         f"overlap={overlap}")
    # 2. one window covers the whole axis
    if size <= roi:
        return [0]
    # 3. step by the scan interval, then one last window flush with the far edge
    interval = max(int(roi * (1 - overlap)), 1)
    return list(range(0, size - roi, interval)) + [size - roi]


def gaussian_importance_map(roi_size: tuple[int, ...], sigma_scale: float = 0.125) -> torch.Tensor:
    """Separable Gaussian weights over a window, highest at its centre (MONAI's convention).

    Along each axis of length n: g(x) = exp(−x² / (2σ²)) with x = i − (n − 1)/2 for voxel i and
    σ = sigma_scale · n; the map is the outer product of the axes' g, not normalized (its centre is 1
    for odd sizes), clamped below at 1e-3 so that no voxel of a window has zero weight. Equal to
    MONAI's ``compute_importance_map(roi_size, mode="gaussian", sigma_scale=sigma_scale)``. nnU-Net's
    ``compute_gaussian`` (Isensee et al. 2021) is the other convention: a Gaussian filter of a single 1
    at voxel ``n // 2`` (half a voxel off the centre for even n), peak scaled to 1, zeros replaced by
    the smallest non-zero weight.

    Args:
        roi_size: window size (D, H, W) (or (H, W)), each >= 1.
        sigma_scale: σ as a fraction of each axis length, > 0.

    Returns:
        (*roi_size) float32 weights in [1e-3, 1].

    Raises:
        ValueError: an empty roi_size, a size below 1, or sigma_scale <= 0.
    """
    # 1. validate
    if len(roi_size) == 0 or min(roi_size) < 1 or not sigma_scale > 0:
        raise ValueError(f"need sizes >= 1 and sigma_scale > 0, got roi_size={roi_size}, sigma_scale={sigma_scale}")
    # 2. one centred 1D Gaussian per axis, multiplied into an outer product
    weight = torch.ones(())
    for n in roi_size:
        x = torch.arange(n, dtype=torch.float32) - (n - 1) / 2  # voxel offsets from the centre
        sigma = sigma_scale * n
        weight = weight.unsqueeze(-1) * torch.exp(-x ** 2 / (2 * sigma ** 2))  # (..., n)
    # 3. no voxel without weight
    return weight.clamp(min=1e-3)


def stitch(patches: torch.Tensor, corners: torch.Tensor, output_size: tuple[int, ...],
           weight: torch.Tensor) -> torch.Tensor:
    """Weighted average of overlapping patch predictions, placed at their corners.

        out[c, v] = Σ_p w(v − corner_p) · patch_p[c, v − corner_p] / Σ_p w(v − corner_p)

    over the patches p that cover voxel v; a voxel no patch covers is 0.

    Args:
        patches: (P, C, *roi) float predictions of P windows.
        corners: (P, dims) int64 first voxel of each window in the output (dims = len(roi)).
        output_size: spatial size of the output, e.g. (D, H, W).
        weight: (*roi) non-negative weight of each voxel of a window (ones, or a Gaussian map).

    Returns:
        (C, *output_size) tensor, dtype of ``patches``.

    Raises:
        ValueError: shapes that do not agree, or a window that leaves the output.
    """
    # 1. validate shapes and that every window lies inside the output
    P, C, *roi = patches.shape
    if tuple(corners.shape) != (P, len(roi)) or tuple(weight.shape) != tuple(roi) or len(output_size) != len(roi):
        raise ValueError(f"need patches (P, C, *roi), corners (P, {len(roi)}), weight roi={tuple(roi)} and a "
                         f"{len(roi)}-D output_size, got {tuple(corners.shape)}, {tuple(weight.shape)}, {output_size}")
    if (corners < 0).any() or (corners + corners.new_tensor(roi) > corners.new_tensor(output_size)).any():
        raise ValueError(f"every window [corner, corner + {tuple(roi)}) must lie inside {tuple(output_size)}")
    # 2. add up weighted predictions and weights
    total = patches.new_zeros((C, *output_size))
    count = patches.new_zeros(tuple(output_size))
    weight = weight.to(patches)
    for patch, corner in zip(patches, corners.tolist()):
        region = tuple(slice(s, s + r) for s, r in zip(corner, roi))
        total[(slice(None), *region)] += patch * weight
        count[region] += weight
    # 3. divide where some window has weight
    return torch.where(count > 0, total / count, torch.zeros(()).to(total))


def sliding_window_inference(inputs: torch.Tensor, roi_size: Sequence[int],
                             predictor: Callable[[torch.Tensor], torch.Tensor], overlap: float = 0.25,
                             mode: str = "constant", sigma_scale: float = 0.125, sw_batch_size: int = 4,
                             progress: bool = False) -> torch.Tensor:
    """Predict a whole volume window by window and blend the overlaps (as MONAI's sliding window).

    Axes shorter than the window are zero-padded symmetrically (the odd voxel at the end) and the
    padding is cropped off the output. Windows start at ``window_starts`` on every axis; their
    predictions are averaged with ``stitch``, with equal weights (``"constant"``) or a Gaussian map.

    Args:
        inputs: (N, C, D, H, W) volumes (or (N, C, H, W) images).
        roi_size: window size (D, H, W) (or (H, W)), each >= 1.
        predictor: maps (B, C, *roi_size) to (B, C_out, *roi_size), e.g. a network in eval mode.
        overlap: fraction shared by neighbouring windows along each axis, 0 <= overlap < 1.
        mode: "constant" or "gaussian" blending.
        sigma_scale: σ of the Gaussian as a fraction of the window size (``mode="gaussian"``).
        sw_batch_size: windows per call of the predictor, >= 1.
        progress: show a tqdm bar over the windows.

    Returns:
        (N, C_out, D, H, W) blended predictions, dtype of the predictor's output.

    Raises:
        ValueError: a roi_size that does not match the input's spatial axes, a bad overlap, mode or
            sw_batch_size, or a predictor whose output has another spatial size than its input.
    """
    # 1. validate
    dims = inputs.dim() - 2
    roi_size = tuple(int(r) for r in roi_size)
    if dims not in (2, 3) or len(roi_size) != dims or min(roi_size) < 1:
        raise ValueError(f"inputs must be (N, C, D, H, W) or (N, C, H, W) with one roi size per spatial axis, "
                         f"got inputs {tuple(inputs.shape)} and roi_size {roi_size}")
    if not 0 <= overlap < 1 or mode not in ("constant", "gaussian") or sw_batch_size < 1:
        raise ValueError(f"need 0 <= overlap < 1, mode 'constant' or 'gaussian' and sw_batch_size >= 1, got "
                         f"{overlap}, {mode!r}, {sw_batch_size}")
    # 2. pad axes shorter than the window (F.pad lists the last axis first)
    size = tuple(inputs.shape[2:])
    pads = [max(r - s, 0) for s, r in zip(size, roi_size)]
    x = F.pad(inputs, [p for d in reversed(pads) for p in (d // 2, d - d // 2)])
    padded = tuple(x.shape[2:])
    # 3. window corners: every combination of the axes' starts, and the blending weights
    starts = [torch.tensor(window_starts(s, r, overlap)) for s, r in zip(padded, roi_size)]
    corners = torch.stack(torch.meshgrid(*starts, indexing="ij"), dim=-1).reshape(-1, dims)  # (P, dims)
    weight = gaussian_importance_map(roi_size, sigma_scale) if mode == "gaussian" else torch.ones(roi_size)
    # 4. predict the windows of each volume in batches and stitch them
    outputs = []
    bar = tqdm(total=len(x) * len(corners), disable=not progress, desc="windows")
    for volume in x:  # (C, *padded)
        crops = [volume[(slice(None), *(slice(s, s + r) for s, r in zip(c, roi_size)))] for c in corners.tolist()]
        predictions = []
        for i in range(0, len(crops), sw_batch_size):
            out = predictor(torch.stack(crops[i:i + sw_batch_size]))  # (B, C_out, *roi)
            if tuple(out.shape[2:]) != roi_size:
                raise ValueError(f"predictor must keep the window size {roi_size}, returned {tuple(out.shape)}")
            predictions.append(out)
            bar.update(len(out))
        outputs.append(stitch(torch.cat(predictions), corners, padded, weight))
    bar.close()
    # 5. crop the padding off
    crop = tuple(slice(d // 2, d // 2 + s) for d, s in zip(pads, size))
    return torch.stack(outputs)[(slice(None), slice(None), *crop)]


def sample_patches(volume: torch.Tensor, label: torch.Tensor, patch_size: tuple[int, ...], num_patches: int, *,
                   foreground_ratio: float = 0.5, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random training patches, a fraction of them centred on foreground voxels.

    Each patch is, with probability ``foreground_ratio``, centred on a voxel drawn uniformly from the
    foreground (label > 0) and then shifted to lie inside the volume (the voxel stays inside the
    patch); otherwise its corner is uniform over all positions inside the volume. Without any
    foreground every patch is uniform. Uniform patches alone would rarely show a small structure.

    Args:
        volume: (C, D, H, W) image (or (C, H, W)).
        label: (D, H, W) int labels, 0 = background (or (H, W)).
        patch_size: (d, h, w) no larger than the volume (or (h, w)).
        num_patches: P, >= 0.
        foreground_ratio: probability that a patch is centred on foreground, in [0, 1].
        seed: seeds the ``torch.Generator``; the same seed gives the same patches.

    Returns:
        ``(patches, labels)``: (P, C, *patch_size) with the dtype of ``volume`` and (P, *patch_size)
        with the dtype of ``label``.

    Raises:
        ValueError: shapes that do not agree, a patch larger than the volume, or a ratio outside [0, 1].
    """
    # 1. validate
    C, *size = volume.shape
    patch_size = tuple(int(p) for p in patch_size)
    fits = len(patch_size) == len(size) and all(1 <= p <= s for p, s in zip(patch_size, size))
    if tuple(label.shape) != tuple(size) or not fits:
        raise ValueError(f"need volume (C, *S), label (*S) and 1 <= patch_size <= S, got {tuple(volume.shape)}, "
                         f"{tuple(label.shape)} and {patch_size}")
    if not 0 <= foreground_ratio <= 1 or num_patches < 0:
        raise ValueError(f"need 0 <= foreground_ratio <= 1 and num_patches >= 0, got {foreground_ratio}, {num_patches}")
    generator = torch.Generator().manual_seed(seed)
    highest = torch.tensor(size) - torch.tensor(patch_size)  # last valid corner per axis
    # 2. uniform corners
    corners = torch.stack([torch.randint(int(h) + 1, (num_patches,), generator=generator) for h in highest], dim=1)
    # 3. foreground corners: a foreground voxel minus half a patch, shifted inside the volume
    use_foreground = torch.rand(num_patches, generator=generator) < foreground_ratio
    foreground = torch.nonzero(label > 0)  # (F, dims)
    if len(foreground) > 0:
        picks = foreground[torch.randint(len(foreground), (num_patches,), generator=generator)]
        centred = torch.minimum((picks - torch.tensor(patch_size) // 2).clamp(min=0), highest)
        corners = torch.where(use_foreground[:, None], centred, corners)
    # 4. crop
    regions = [tuple(slice(s, s + p) for s, p in zip(c, patch_size)) for c in corners.tolist()]
    if not regions:
        return volume.new_zeros((0, C, *patch_size)), label.new_zeros((0, *patch_size))
    return torch.stack([volume[(slice(None), *r)] for r in regions]), torch.stack([label[r] for r in regions])
