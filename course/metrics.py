"""Segmentation metrics: hard Dice per class and lesion detection rate.

    dice             Dice = 2|A ∩ B| / (|A| + |B|) per class, from two label maps (Dice 1945;
                     Sørensen 1948), smoothed so a class absent from both maps scores 1
    detection_rate   the fraction of target connected components (lesions, nodules) that the
                     prediction touches — what Dice hides: one large structure dominates Dice while
                     several small ones may all be missed
    lesion_dice      one Dice per target component, each over the voxels nearest to it (its Voronoi
                     cell), so that false positives count against the nearest lesion: paired per-lesion
                     scores for comparing two methods (``course.report.compare``)

Conventions compared with MONAI's ``compute_dice`` / ``DiceMetric`` (which work per sample on
one-hot inputs): ``dice`` pools every voxel it is given (call it per volume for per-volume scores);
for a class absent from the target MONAI gives NaN with ``ignore_empty=True`` (its default) and, with
``ignore_empty=False``, 1 if the prediction is empty too and 0 otherwise; ``dice`` gives 1 when both
are empty and smooth / (|A| + smooth) ≈ 0 when only the prediction has the class. Where a class is
present, the two differ by at most smooth / (|A| + |B|).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

__all__ = ["dice", "detection_rate", "lesion_dice"]


def dice(pred: torch.Tensor, target: torch.Tensor, num_classes: int, *, smooth: float = 1e-5) -> torch.Tensor:
    """Hard Dice coefficient of each class between two label maps.

        Dice(c) = (2 · |P_c ∩ T_c| + smooth) / (|P_c| + |T_c| + smooth)

    with P_c, T_c the voxels labelled c in ``pred`` and ``target``. Without smoothing a class absent
    from both maps gives 0/0 = NaN; with it, that class scores exactly 1.

    Args:
        pred: (*S) int64 predicted labels in [0, num_classes) (e.g. ``logits.argmax(1)``).
        target: (*S) int64 true labels in [0, num_classes), same shape.
        num_classes: number of classes C, >= 1 (background included).
        smooth: > 0, added to numerator and denominator.

    Returns:
        (C,) float64 Dice of each class, in [0, 1].

    Raises:
        ValueError: different shapes, labels outside [0, C), or smooth <= 0.
    """
    # 1. validate
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    for name, labels in [("pred", pred), ("target", target)]:
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} labels must be in [0, {num_classes}), got [{labels.min()}, {labels.max()}]")
    if not smooth > 0:
        raise ValueError(f"smooth must be > 0 (0 gives 0/0 = NaN for a class absent from both maps), got {smooth}")
    # 2. voxel counts per class: |P_c|, |T_c| and |P_c ∩ T_c|
    pred, target = pred.flatten().long(), target.flatten().long()
    pred_count = torch.bincount(pred, minlength=num_classes).double()
    target_count = torch.bincount(target, minlength=num_classes).double()
    both_count = torch.bincount(pred[pred == target], minlength=num_classes).double()
    # 3. smoothed ratio
    return (2 * both_count + smooth) / (pred_count + target_count + smooth)


def _components(pred_mask: torch.Tensor | np.ndarray, target_mask: torch.Tensor | np.ndarray,
                connectivity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Both masks as boolean arrays (validated) and the target's connected components (scipy's labels)."""
    pred_np = np.asarray(pred_mask.detach().cpu() if isinstance(pred_mask, torch.Tensor) else pred_mask) != 0
    target_np = np.asarray(target_mask.detach().cpu() if isinstance(target_mask, torch.Tensor) else target_mask) != 0
    if pred_np.shape != target_np.shape:
        raise ValueError(f"pred_mask and target_mask must have the same shape, got {pred_np.shape} and "
                         f"{target_np.shape}")
    if not 1 <= connectivity <= max(target_np.ndim, 1):
        raise ValueError(f"connectivity must be in 1 … {target_np.ndim}, got {connectivity}")
    structure = ndimage.generate_binary_structure(target_np.ndim, connectivity)
    components, count = ndimage.label(target_np, structure=structure)
    return pred_np, target_np, components, count


def detection_rate(pred_mask: torch.Tensor | np.ndarray, target_mask: torch.Tensor | np.ndarray, *,
                   connectivity: int = 1) -> float:
    """Fraction of the target's connected components that overlap the prediction by >= 1 voxel.

    Components come from ``scipy.ndimage.label``; ``connectivity`` 1 joins voxels that share a face
    (6-neighbourhood in 3D), ``ndim`` joins those that share a corner (26-neighbourhood).

    Args:
        pred_mask: (*S) bool (or 0/1) predicted foreground, a tensor or an array.
        target_mask: (*S) bool (or 0/1) true foreground, same shape.
        connectivity: 1 … ndim, see ``scipy.ndimage.generate_binary_structure``.

    Returns:
        hits / components, a Python float in [0, 1]; 1.0 when the target has no component (nothing
        to find, nothing missed).

    Raises:
        ValueError: different shapes or a connectivity outside 1 … ndim.
    """
    # 1. validate; 2. label the target's components
    pred_np, target_np, components, count = _components(pred_mask, target_mask, connectivity)
    if count == 0:
        return 1.0
    # 3. components with at least one predicted voxel
    hit = np.unique(components[pred_np & target_np])
    return float(np.count_nonzero(hit)) / count


def lesion_dice(pred_mask: torch.Tensor | np.ndarray, target_mask: torch.Tensor | np.ndarray, *,
                connectivity: int = 1) -> np.ndarray:
    """Dice of each target component (lesion) over its Voronoi cell: per-lesion scores that see false positives.

    The volume is split into cells, one per target component: every voxel belongs to the component
    nearest to it (Euclidean distance in voxels, ties broken by ``scipy.ndimage.distance_transform_edt``).
    Lesion i with voxels L_i and cell V_i scores

        Dice_i = 2 |P ∩ L_i| / (|P ∩ V_i| + |L_i|),

    so a predicted voxel anywhere in the volume counts against the lesion nearest to it, and the
    cells together cover the whole volume. A missed lesion scores 0 (its false positives only lower
    nothing, it stays 0); a perfect prediction scores 1 everywhere.

    Args:
        pred_mask: (*S) bool (or 0/1) predicted foreground, a tensor or an array.
        target_mask: (*S) bool (or 0/1) true foreground, same shape.
        connectivity: 1 … ndim, how voxels join into components (as :func:`detection_rate`).

    Returns:
        (K,) float64, one Dice per target component in the order of ``scipy.ndimage.label``; empty when
        the target has no component.

    Raises:
        ValueError: different shapes or a connectivity outside 1 … ndim.
    """
    # 1. validate; 2. components, and (below) the cell of each voxel: the component of its nearest target voxel
    pred_np, target_np, components, count = _components(pred_mask, target_mask, connectivity)
    if count == 0:
        return np.zeros(0)
    nearest = ndimage.distance_transform_edt(~target_np, return_distances=False, return_indices=True)
    cells = components[tuple(nearest)]  # (*S) in 1 … K
    # 3. per component: |P ∩ L_i|, |P ∩ V_i| and |L_i|
    hits = np.bincount(components[pred_np & target_np], minlength=count + 1)[1:]
    predicted = np.bincount(cells[pred_np], minlength=count + 1)[1:]
    sizes = np.bincount(components[target_np], minlength=count + 1)[1:]
    return 2.0 * hits / (predicted + sizes)
