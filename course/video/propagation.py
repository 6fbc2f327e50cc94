"""Mask propagation by optical flow, and the DAVIS measures J (region) and F (contour).

Lesson 13_video_tasks.

Lesson 13_video_tasks. In semi-supervised video object segmentation the mask of the object is given
in the first frame and must be found in every later frame (DAVIS; Perazzi et al. 2016, "A Benchmark
Dataset and Evaluation Methodology for Video Object Segmentation"). The oldest answer carries the
mask along the optical flow of lesson 06, frame by frame; modern ones (SAM 2) attend to a memory of
past frames instead, but are scored the same way.

**Which flow carries a mask forward.** ``course.video.flow`` defines the flow of a pair (a, b) by
b(x + u, y + v) ≈ a(x, y), and ``warp(image, flow)`` samples image at (x + u, y + v) — *backward*
warping: every output pixel looks up where it came from. To build the mask of frame t + 1 each of
its pixels must look up its position in frame t, so the flow needed is the one of the pair
(frame t + 1, frame t), the *backward* flow:

    mask_{t+1}(x, y) = mask_t(x + u, y + v)   with   frame_t(x + u, y + v) ≈ frame_{t+1}(x, y)
                     = warp(mask_t, flow of (frame_{t+1}, frame_t))

Warping with the forward flow (frame t → t + 1) instead moves the mask the wrong way: an object
sliding 2 px right would have its mask slide 2 px left.

    propagate_mask(mask, flow)             one step, t → t + 1, with the backward flow
    propagate_masks(first_mask, clip)      the whole clip: flows by Lucas–Kanade / Horn–Schunck,
                                           or "copy" (the first mask everywhere, the baseline)
    region_similarity(pred, gt)            J: the Jaccard index (IoU) of two masks        [exercise]
    contour_accuracy(pred, gt)             F: boundary precision / recall within a tolerance
    j_and_f(pred_masks, gt_masks)          J, F and their mean over the frames after the first
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course.video.flow import clip_flows, warp

__all__ = ["PROPAGATION_METHODS", "propagate_mask", "propagate_masks", "region_similarity", "contour_accuracy",
           "j_and_f"]

#: How :func:`propagate_masks` moves the mask: along a flow estimator of lesson 06, or not at all.
PROPAGATION_METHODS: tuple[str, ...] = ("lucas_kanade", "horn_schunck", "copy")


# --- propagation ----------------------------------------------------------------------------------
def propagate_mask(mask: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Carry masks from frame t to frame t + 1 along the *backward* flow (see the module docstring).

    ``out(x, y) = mask(x + u, y + v)``, bilinear, with the border pixels repeated outside the image
    (``course.video.flow.warp``). The result is soft (values between 0 and 1 at moving edges):
    threshold it to get a binary mask again.

    Args:
        mask: (N, 1, H, W) float or bool masks of frame t (1 = object).
        flow: (N, 2, H, W) float flow (u, v) in pixels of the pair (frame t + 1, frame t), i.e.
            ``frame_t(x + u, y + v) ≈ frame_{t+1}(x, y)``, e.g. ``lucas_kanade(frame_t1, frame_t)``.

    Returns:
        (N, 1, H, W) float masks of frame t + 1, the dtype of ``flow``.

    Raises:
        ValueError: shapes that are not (N, 1, H, W) and (N, 2, H, W) of the same N, H, W, or a
            non-float flow.
    """
    if mask.dim() != 4 or mask.shape[1] != 1 or flow.shape != (mask.shape[0], 2, *mask.shape[2:]):
        raise ValueError(f"mask must be (N, 1, H, W) and flow (N, 2, H, W) with the same N, H, W, got "
                         f"{tuple(mask.shape)} and {tuple(flow.shape)}")
    if not flow.is_floating_point():
        raise ValueError(f"flow must be float (pixels), got {flow.dtype}")
    return warp(mask[:, 0].to(flow.dtype), flow)[:, None]  # (N, 1, H, W)


def propagate_masks(first_mask: torch.Tensor, clip: torch.Tensor, *, method: str = "lucas_kanade",
                    threshold: float | None = 0.5, flows: torch.Tensor | None = None,
                    flow_kwargs: dict | None = None) -> torch.Tensor:
    """Propagate the first frame's mask through a clip, one frame at a time.

    The backward flows of all pairs (frame t + 1 → frame t) are estimated in one batch
    (``course.video.flow.clip_flows`` on the time-reversed clip); then mask_{t+1} =
    :func:`propagate_mask` (mask_t, flow_t), thresholded at ``threshold`` after every step so errors
    do not blur into a grey cloud. Errors accumulate: each step starts from the previous estimate.
    ``method="copy"`` returns the first mask in every frame (the baseline a propagation must beat).

    Args:
        first_mask: (H, W) or (1, H, W) mask of frame 0, bool or float in [0, 1] (the annotation).
        clip: (C, T, H, W) float frames of one clip (the Conv3d layout of a clip); colour is averaged
            to grey for the flow.
        method: one of :data:`PROPAGATION_METHODS`.
        threshold: a step's soft mask becomes ``mask > threshold``; None keeps the soft masks.
        flows: optional precomputed backward flows (2, T − 1, H, W): ``flows[:, t]`` is the flow of
            the pair (frame t + 1, frame t); then ``method`` only has to not be "copy".
        flow_kwargs: options for the estimator (``window``, ``levels``, ``alpha``, ...).

    Returns:
        (T, 1, H, W) float32 masks, frame 0 being ``first_mask`` (as float, thresholded if asked).

    Raises:
        ValueError: shapes that disagree, an unknown method, or a threshold outside [0, 1).
    """
    # 1. validate
    if clip.dim() != 4 or clip.shape[1] < 1:
        raise ValueError(f"clip must be one (C, T, H, W) clip, got {tuple(clip.shape)}; for a batch of "
                         f"(N, C, T, H, W) clips call this per clip")
    C, T, H, W = clip.shape
    if first_mask.dim() not in (2, 3, 4) or first_mask.shape[-2:] != (H, W) or first_mask.numel() != H * W:
        raise ValueError(f"first_mask must be (H, W) = {(H, W)} or (1, H, W), the size of the clip's frames, "
                         f"got {tuple(first_mask.shape)}")
    mask = first_mask.reshape(1, 1, H, W)
    if method not in PROPAGATION_METHODS:
        raise ValueError(f"method must be one of {PROPAGATION_METHODS}, got {method!r}")
    if threshold is not None and not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must be in [0, 1) or None, got {threshold}")
    if flows is not None and flows.shape != (2, T - 1, H, W):
        raise ValueError(f"flows must be (2, T - 1, H, W) = {(2, T - 1, H, W)}, got {tuple(flows.shape)}")

    def binarize(m: torch.Tensor) -> torch.Tensor:
        return (m > threshold).float() if threshold is not None else m.float()

    masks = [binarize(mask.float())]  # (1, 1, H, W) each
    if method == "copy":
        return torch.cat(masks * T)  # (T, 1, H, W)
    # 2. backward flows of every pair: the flow of the reversed clip, put back in forward time order
    if flows is None:
        reversed_flows = clip_flows(clip.float().flip(1)[None], method, **(flow_kwargs or {}))  # (1, 2, T-1, H, W)
        flows = reversed_flows[0].flip(1)  # (2, T − 1, H, W): flows[:, t] belongs to (frame t + 1, frame t)
    # 3. carry the mask one frame at a time
    for t in range(T - 1):
        masks.append(binarize(propagate_mask(masks[-1], flows[None, :, t].float())))
    return torch.cat(masks)  # (T, 1, H, W)


# --- the DAVIS measures ---------------------------------------------------------------------------
def _binary(mask: torch.Tensor) -> torch.Tensor:
    """Bool masks as they are; numbers are foreground where > 0.5."""
    return mask if mask.dtype == torch.bool else mask > 0.5


def region_similarity(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Region similarity J: the Jaccard index |pred ∩ gt| / |pred ∪ gt| of each pair of masks.

    DAVIS (Perazzi et al. 2016, Sec. 3.1) scores a mask by its intersection over union with the
    annotation. When both masks are empty (the object is absent and none is predicted) the union is
    empty and J is 1 — a correct answer, as in the DAVIS code (``db_eval_iou``). Bool masks are
    used as they are; float or integer masks count as foreground where > 0.5.

    Args:
        pred: (..., H, W) predicted masks.
        gt: (..., H, W) ground-truth masks, the same shape.

    Returns:
        (...) float32 J in [0, 1], one per mask (a 0-dim tensor for a single (H, W) pair).

    Raises:
        ValueError: the shapes differ or have fewer than 2 dimensions.
    """
    # 1. validate
    if pred.shape != gt.shape or pred.dim() < 2:
        raise ValueError(f"pred and gt must be masks of the same shape (..., H, W), got {tuple(pred.shape)} and "
                         f"{tuple(gt.shape)}")
    p = pred if pred.dtype == torch.bool else pred > 0.5
    g = gt if gt.dtype == torch.bool else gt > 0.5
    # 2. pixel counts of the intersection and the union of each mask
    inter = (p & g).sum(dim=(-2, -1)).float()  # (...)
    union = (p | g).sum(dim=(-2, -1)).float()  # (...)
    # 3. J, with 1 where both masks are empty
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def _boundary(mask: torch.Tensor) -> torch.Tensor:
    """(B, H, W) bool -> (B, H, W) bool one-pixel boundaries, the rule of DAVIS's ``seg2bmap``.

    A pixel is on the boundary when it differs from its right, lower or lower-right neighbour (a
    boundary half a pixel towards the origin). Pixels of the last row compare only with their right
    neighbour, of the last column only with their lower one, and the corner with none: a mask that
    reaches the image border has no boundary along it.
    """
    m = mask
    right, down, diag = torch.zeros_like(m), torch.zeros_like(m), torch.zeros_like(m)
    right[:, :, :-1], down[:, :-1, :], diag[:, :-1, :-1] = m[:, :, 1:], m[:, 1:, :], m[:, 1:, 1:]
    edge = (m ^ right) | (m ^ down) | (m ^ diag)
    edge[:, -1, :] = m[:, -1, :] ^ right[:, -1, :]
    edge[:, :, -1] = m[:, :, -1] ^ down[:, :, -1]
    edge[:, -1, -1] = False
    return edge


def _dilate(edge: torch.Tensor, radius: int) -> torch.Tensor:
    """(B, H, W) bool dilated by a disk of ``radius`` pixels (offsets with dy² + dx² <= radius²)."""
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32, device=edge.device)
    disk = ((offsets[:, None] ** 2 + offsets[None, :] ** 2) <= radius ** 2).float()  # (2r + 1, 2r + 1)
    hits = F.conv2d(edge[:, None].float(), disk[None, None], padding=radius)  # (B, 1, H, W)
    return hits[:, 0] > 0


def contour_accuracy(pred: torch.Tensor, gt: torch.Tensor, *, bound_th: float = 0.008) -> torch.Tensor:
    """Contour accuracy F: the F-measure of boundary pixels matched within a tolerance (DAVIS 2016).

    Both masks are reduced to one-pixel boundaries (a pixel that differs from its right, lower or
    lower-right neighbour; the rule of DAVIS's ``seg2bmap``, so the image border is not a boundary).
    A predicted boundary pixel is correct when a true boundary pixel lies within a disk of radius
    r = ⌈bound_th · √(H² + W²)⌉ pixels (bound_th >= 1 is read as r in pixels directly), and vice versa:

        precision = |pred boundary ∩ dilate(gt boundary, r)| / |pred boundary|
        recall    = |gt boundary ∩ dilate(pred boundary, r)| / |gt boundary|
        F         = 2 · precision · recall / (precision + recall)     (0 when both are 0)

    Empty boundaries, as in DAVIS's ``db_eval_boundary``: both empty → F = 1; only one empty → F = 0.
    Perazzi et al. 2016, Sec. 3.1, after Martin et al. 2004; written from the protocol, not the code.

    Args:
        pred: (..., H, W) predicted masks (bool, or numbers: foreground where > 0.5).
        gt: (..., H, W) ground-truth masks, the same shape.
        bound_th: the tolerance as a fraction of the image diagonal (< 1), or in pixels (>= 1), > 0.
            DAVIS's 0.008 is 1 pixel on a 32 × 32 image and 7 pixels at 854 × 480.

    Returns:
        (...) float32 F in [0, 1], one per mask.

    Raises:
        ValueError: the shapes differ or have fewer than 2 dimensions, or bound_th <= 0.
    """
    # 1. validate
    if pred.shape != gt.shape or pred.dim() < 2:
        raise ValueError(f"pred and gt must be masks of the same shape (..., H, W), got {tuple(pred.shape)} and "
                         f"{tuple(gt.shape)}")
    if not bound_th > 0:
        raise ValueError(f"bound_th must be > 0 (a fraction of the diagonal, or pixels if >= 1), got {bound_th}")
    *lead, H, W = pred.shape
    radius = int(bound_th) if bound_th >= 1 else math.ceil(bound_th * math.hypot(H, W))
    # 2. one-pixel boundaries of every mask: (B, H, W)
    pred_edge = _boundary(_binary(pred).reshape(-1, H, W))
    gt_edge = _boundary(_binary(gt).reshape(-1, H, W))
    # 3. matched boundary pixels: those within r of the other boundary
    n_pred, n_gt = pred_edge.sum(dim=(1, 2)).float(), gt_edge.sum(dim=(1, 2)).float()  # (B,)
    pred_hit = (pred_edge & _dilate(gt_edge, radius)).sum(dim=(1, 2)).float()
    gt_hit = (gt_edge & _dilate(pred_edge, radius)).sum(dim=(1, 2)).float()
    # 4. precision and recall, with DAVIS's values for empty boundaries
    precision = torch.where(n_pred > 0, pred_hit / n_pred.clamp(min=1), (n_gt == 0).float())
    recall = torch.where(n_gt > 0, gt_hit / n_gt.clamp(min=1), (n_pred == 0).float())
    total = precision + recall
    f = torch.where(total > 0, 2 * precision * recall / total.clamp(min=1e-12), torch.zeros_like(total))
    return f.reshape(lead)


def j_and_f(pred_masks: torch.Tensor, gt_masks: torch.Tensor, *, bound_th: float = 0.008,
            exclude_last: bool = False) -> dict:
    """The DAVIS scores of one propagated sequence: mean J, mean F and their mean, J&F.

    The first frame's mask is the given annotation, so it is not scored: the means run over frames
    1 … T − 1 (DAVIS 2016's protocol). The DAVIS 2017 evaluation code also drops the last frame
    (``all_gt_masks[:, 1:-1]`` in ``davis2017-evaluation``); ``exclude_last=True`` does the same.

    Args:
        pred_masks: (T, H, W) or (T, 1, H, W) predicted masks (bool, or numbers: foreground where > 0.5).
        gt_masks: (T, H, W) or (T, 1, H, W) true masks of the same T, H, W.
        bound_th: the tolerance of :func:`contour_accuracy`.
        exclude_last: also leave out the last frame (DAVIS 2017's code).

    Returns:
        A dict with "J", "F" and "J&F" (floats: the means over the scored frames; J&F = (J + F) / 2)
        and "J_per_frame", "F_per_frame" ((T,) float32 tensors over all frames, frame 0 included,
        for plots).

    Raises:
        ValueError: shapes that are not (T, H, W) / (T, 1, H, W) of one T, H, W, or too few frames to score
            (T >= 2, or T >= 3 with exclude_last).
    """
    def frames(masks: torch.Tensor) -> torch.Tensor | None:  # (T, H, W), or None for another shape
        if masks.dim() == 3 or (masks.dim() == 4 and masks.shape[1] == 1):
            return masks.reshape(masks.shape[0], *masks.shape[-2:])
        return None

    pred, gt = frames(pred_masks), frames(gt_masks)
    if pred is None or gt is None or pred.shape != gt.shape:
        raise ValueError(f"pred_masks and gt_masks must be (T, H, W) or (T, 1, H, W) masks of the same T, H, W, "
                         f"got {tuple(pred_masks.shape)} and {tuple(gt_masks.shape)}")
    T = pred_masks.shape[0]
    last = T - 1 if exclude_last else T
    if last - 1 < 1:
        raise ValueError(f"{T} frames leave none to score after the annotated first frame"
                         f"{' and the dropped last one' if exclude_last else ''}; give a longer sequence")
    j = region_similarity(pred, gt)  # (T,)
    f = contour_accuracy(pred, gt, bound_th=bound_th)  # (T,)
    j_mean, f_mean = float(j[1:last].mean()), float(f[1:last].mean())
    return {"J": j_mean, "F": f_mean, "J&F": (j_mean + f_mean) / 2, "J_per_frame": j, "F_per_frame": f}
