"""Segmentation metrics: hard Dice per class, surface distance (HD95), and lesion-wise detection.

Lessons 11_unet3d_patches, 14_nnunet_monai.

    dice             Dice = 2|A ∩ B| / (|A| + |B|) per class, from two label maps (Dice 1945;
                     Sørensen 1948), smoothed so a class absent from both maps scores 1
    detection_rate   the fraction of target connected components (lesions, nodules) that the
                     prediction touches — what Dice hides: one large structure dominates Dice while
                     several small ones may all be missed
    lesion_dice      one Dice per target component, each over the voxels nearest to it (its Voronoi
                     cell), so that false positives count against the nearest lesion: paired per-lesion
                     scores for comparing two methods (``course.report.compare``)
    hd95             the 95th-percentile Hausdorff distance (mm) between the surfaces of two masks
                     (Huttenlocher et al. 1993; the 95th percentile as in the BraTS and Medical
                     Segmentation Decathlon evaluations): Dice counts voxels, HD95 sees *where* the
                     boundary is wrong; equal to MONAI's ``compute_hausdorff_distance(percentile=95)``
    lesion_f1        lesion-wise precision, recall and F1 from connected components: a target lesion
                     is found when the prediction touches it, a predicted component is correct when
                     it touches the target (recall equals ``detection_rate``)

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

__all__ = ["dice", "binary_dice", "detection_rate", "lesion_dice", "hd95", "lesion_f1"]


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


def binary_dice(pred_mask: torch.Tensor | np.ndarray, target_mask: torch.Tensor | np.ndarray) -> float:
    """Dice of two binary masks (the foreground class of :func:`dice`, with its smoothing).

    Args:
        pred_mask: (*S) bool or 0/1, torch or numpy.
        target_mask: (*S) bool or 0/1, same shape.

    Returns:
        A Python float in [0, 1]; 1.0 when both masks are empty.

    Raises:
        ValueError: a mask that is not binary, or masks of different shapes.
    """
    pred = torch.from_numpy(_binary(pred_mask, "pred_mask")).long()
    target = torch.from_numpy(_binary(target_mask, "target_mask")).long()
    return float(dice(pred, target, 2)[1])


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


def _binary(mask: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    """A mask as a numpy bool array; its values must be 0/1 (or bool)."""
    array = np.asarray(mask.detach().cpu() if isinstance(mask, torch.Tensor) else mask)
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must be binary (bool or 0/1), got values {np.unique(array)[:5]}; "
                         "for a label map pass (labels == c) for the class c you measure")
    return array.astype(bool)


def hd95(pred_mask: torch.Tensor | np.ndarray, target_mask: torch.Tensor | np.ndarray, *,
         spacing: tuple[float, ...] = (1.0, 1.0, 1.0)) -> float:
    """95th-percentile Hausdorff distance (mm) between the surfaces of two binary masks.

    The surface of a mask is its voxels that have a face neighbour (6-neighbourhood in 3D) outside the
    mask, the volume's border counting as outside: ``mask & ~binary_erosion(mask)``. For every surface
    voxel of one mask take the Euclidean distance (mm, with ``spacing``) to the nearest surface voxel of
    the other; HD95 is the larger of the two directions' 95th percentiles (linear interpolation):

        HD95 = max(P95{d(p, ∂T) : p ∈ ∂P}, P95{d(t, ∂P) : t ∈ ∂T})

    Distances go to the other *surface*, not the other mask: a predicted surface voxel deep inside the
    target is as far as the target's boundary is. This is MONAI's definition (``get_mask_edges`` with
    erosion, ``get_surface_distance``), so the result equals
    ``compute_hausdorff_distance(pred[None, None], target[None, None], include_background=True,
    percentile=95, spacing=spacing)``. Huttenlocher et al. 1993 define the Hausdorff distance (the
    100th percentile); the 95th drops the worst 5 % of surface voxels, a few of which are often outliers.

    Empty masks: both empty gives NaN (nothing to measure; MONAI gives NaN too). Exactly one empty gives
    inf (no surface to reach). MONAI's plain Hausdorff distance also gives inf there, but its percentile
    version returns NaN, because ``torch.quantile`` interpolates inf − inf.

    Args:
        pred_mask: (D, H, W) (or (H, W)) bool or 0/1 predicted foreground, a tensor or an array.
        target_mask: the true foreground, same shape.
        spacing: voxel size in mm along each axis of the masks, one positive value per axis.

    Returns:
        HD95 in mm as a Python float >= 0; NaN when both masks are empty, inf when one is.

    Raises:
        ValueError: non-binary masks, different shapes, masks that are not 2D or 3D, or a spacing
            whose length differs from the masks' dimensions or that is not finite and positive.
    """
    # 1. validate the masks and the spacing
    pred, target = _binary(pred_mask, "pred_mask"), _binary(target_mask, "target_mask")
    sampling = np.asarray(spacing, dtype=np.float64)
    if pred.shape != target.shape or pred.ndim not in (2, 3):
        raise ValueError(f"pred_mask and target_mask must have the same (D, H, W) or (H, W) shape, got "
                         f"{pred.shape} and {target.shape}")
    if sampling.shape != (pred.ndim,) or not np.all(np.isfinite(sampling) & (sampling > 0)):
        raise ValueError(f"spacing must be {pred.ndim} positive voxel sizes in mm (one per mask axis, e.g. "
                         f"{(1.0,) * pred.ndim}), got {spacing!r}")
    # 2. empty masks: nothing to measure, or no surface to reach
    if not pred.any() and not target.any():
        return float("nan")
    if not pred.any() or not target.any():
        return float("inf")
    # 3. surfaces: mask voxels that erosion (face neighbours, border = outside) removes
    pred_surface = pred & ~ndimage.binary_erosion(pred)
    target_surface = target & ~ndimage.binary_erosion(target)
    # 4. distance (mm) of each surface voxel to the nearest voxel of the other surface
    to_target = ndimage.distance_transform_edt(~target_surface, sampling=sampling)[pred_surface]
    to_pred = ndimage.distance_transform_edt(~pred_surface, sampling=sampling)[target_surface]
    # 5. 95th percentile of each direction; the larger one
    return float(max(np.percentile(to_target, 95), np.percentile(to_pred, 95)))


def lesion_f1(pred_mask: torch.Tensor | np.ndarray, target_mask: torch.Tensor | np.ndarray, *,
              connectivity: int = 1) -> dict[str, float]:
    """Lesion-wise precision, recall and F1 from the connected components of both masks.

    A target component (lesion) is *found* when at least one predicted voxel lies in it; a predicted
    component is *correct* when at least one of its voxels lies in the target. Then

        recall    = found target components / target components     (= :func:`detection_rate`)
        precision = correct predicted components / predicted components
        f1        = 2 · precision · recall / (precision + recall)

    Counting components rather than voxels weighs a 5-voxel metastasis as much as a 5,000-voxel one.
    Overlap by one voxel is enough (the loosest criterion; challenges such as MSSEG add size or
    overlap thresholds). Conventions for empty maps: no target component gives recall 1 (nothing
    missed), no predicted component gives precision 1 (no false alarm), so two empty masks score
    f1 = 1, and f1 = 0 when precision + recall = 0. MONAI has no lesion-wise F1.

    Args:
        pred_mask: (*S) bool (or 0/1) predicted foreground, a tensor or an array.
        target_mask: (*S) bool (or 0/1) true foreground, same shape.
        connectivity: 1 … ndim; 1 joins voxels sharing a face (6-neighbourhood in 3D), ndim voxels
            sharing a corner (26-neighbourhood), see ``scipy.ndimage.generate_binary_structure``.

    Returns:
        ``{"precision": p, "recall": r, "f1": f}``, Python floats in [0, 1].

    Raises:
        ValueError: different shapes or a connectivity outside 1 … ndim.
    """
    # 1. validate; 2. components of the target, then of the prediction
    pred, target, target_components, num_target = _components(pred_mask, target_mask, connectivity)
    _, _, pred_components, num_pred = _components(target, pred, connectivity)
    # 3. components that the other map touches (labels > 0 of the overlapping voxels)
    overlap = pred & target
    found = len(np.unique(target_components[overlap]))
    correct = len(np.unique(pred_components[overlap]))
    # 4. ratios with the conventions for empty maps
    recall = found / num_target if num_target else 1.0
    precision = correct / num_pred if num_pred else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}
