"""Losses for segmentation: the soft Dice loss, and Dice plus cross-entropy.

Lesson 11_unet3d_patches.

Milletari, Navab, Ahmadi 2016, "V-Net: Fully Convolutional Neural Networks for Volumetric Medical
Image Segmentation" (3DV) train on the Dice coefficient itself, made differentiable by using class
probabilities instead of hard labels. Here the probabilities come from a softmax over the class
axis and the overlap is taken per sample and per class ("soft Dice"), then averaged:

    D(n, c) = (2 · Σ_v p[n,c,v] · y[n,c,v] + smooth) / (Σ_v p[n,c,v] + Σ_v y[n,c,v] + smooth)
    loss    = mean over n and c of 1 − D(n, c)

with p the softmax probabilities, y the one-hot target and v over every voxel. (V-Net squares p and
y in the denominator; this is the plain-sum form, MONAI's ``DiceLoss`` default.) Because Dice is a
ratio per class, a small structure weighs as much as a large one — unlike voxel-wise cross-entropy.

``dice_ce_loss`` adds voxel-wise cross-entropy to it, the loss nnU-Net trains with (Isensee et al.
2021, Nature Methods 18: "the sum of cross-entropy and Dice loss"; MONAI's ``DiceCELoss``): Dice keeps
small structures in view, cross-entropy gives smooth, well-scaled gradients from the first step.

Layout: logits (N, C, D, H, W) (or any (N, C, *S)); targets (N, D, H, W) or (N, 1, D, H, W) int64
class labels in [0, C).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["dice_loss", "dice_ce_loss"]


def dice_loss(logits: torch.Tensor, target: torch.Tensor, *, smooth: float = 1e-5,
              include_background: bool = True) -> torch.Tensor:
    """Soft multi-class Dice loss on softmax probabilities (Milletari et al. 2016).

    Args:
        logits: (N, C, *S) float, unnormalized class scores, C >= 2 (S = (D, H, W) for volumes).
        target: (N, *S) or (N, 1, *S) int64 class labels in [0, C).
        smooth: added to numerator and denominator, >= 0; it makes a class absent from both the
            target and the prediction count as a perfect match (loss 0). With 0 such a class has
            Dice 0 / (sum of tiny probabilities) = 0 and costs a full 1 although the prediction is
            right, or 0/0 = NaN once the probabilities underflow to exactly 0.
        include_background: if False, class 0 is left out of the mean.

    Returns:
        A scalar tensor, mean over samples and classes of 1 − soft Dice, in [0, 1]; differentiable
        with respect to ``logits``.

    Raises:
        ValueError: shapes that do not match, labels outside [0, C), a negative ``smooth``, or
            ``include_background=False`` with a single class.
    """
    # 1. validate the layout and the labels
    if target.dim() == logits.dim():
        target = target.squeeze(1)  # (N, 1, *S) → (N, *S)
    if logits.dim() < 3 or tuple(target.shape) != (logits.shape[0], *logits.shape[2:]):
        raise ValueError(f"logits must be (N, C, *S) and target (N, *S) or (N, 1, *S), got "
                         f"{tuple(logits.shape)} and {tuple(target.shape)}")
    num_classes = logits.shape[1]
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(f"target labels must be in [0, {num_classes}), got [{target.min()}, {target.max()}]")
    if smooth < 0 or (not include_background and num_classes < 2):
        raise ValueError(f"need smooth >= 0 and, without background, C >= 2; got smooth={smooth}, C={num_classes}")
    # 2. probabilities and one-hot target, both (N, C, V)
    probs = logits.softmax(dim=1).flatten(2)
    onehot = F.one_hot(target.long().flatten(1), num_classes).transpose(1, 2).to(probs.dtype)
    # 3. soft Dice per sample and class
    intersection = (probs * onehot).sum(dim=2)  # (N, C)
    total = probs.sum(dim=2) + onehot.sum(dim=2)  # (N, C)
    dice = (2 * intersection + smooth) / (total + smooth)
    # 4. leave out the background if asked, average 1 − Dice
    if not include_background:
        dice = dice[:, 1:]
    return (1 - dice).mean()


def dice_ce_loss(logits: torch.Tensor, target: torch.Tensor, *, lambda_dice: float = 1.0, lambda_ce: float = 1.0,
                 smooth: float = 1e-5, include_background: bool = True) -> torch.Tensor:
    """Weighted sum of the soft Dice loss and the mean voxel-wise cross-entropy (nnU-Net's training loss).

        loss = lambda_dice · dice_loss(logits, target) + lambda_ce · mean over n, v of −log softmax(logits)[n, y, v]

    Equal to ``monai.losses.DiceCELoss(include_background=include_background, to_onehot_y=True,
    softmax=True, smooth_nr=smooth, smooth_dr=smooth, lambda_dice=lambda_dice, lambda_ce=lambda_ce)``
    with its other defaults (reduction "mean", batch=False: one Dice per sample and class, then the
    mean; no class weights; no label smoothing) called with a (N, 1, *S) target. As in MONAI,
    ``include_background`` acts on the Dice term only: cross-entropy always sums over every class.
    (nnU-Net itself leaves the background out of its Dice term and uses a batch Dice for 3D
    full-resolution training; those are ``include_background=False`` and MONAI's ``batch=True``.)

    Args:
        logits: (N, C, *S) float, unnormalized class scores, C >= 2 (S = (D, H, W) for volumes).
        target: (N, *S) or (N, 1, *S) int64 class labels in [0, C).
        lambda_dice: weight of the Dice term, >= 0.
        lambda_ce: weight of the cross-entropy term, >= 0.
        smooth: added to numerator and denominator of each Dice ratio, >= 0 (see :func:`dice_loss`).
        include_background: if False, class 0 is left out of the Dice term (not of cross-entropy).

    Returns:
        A scalar tensor (nats for the cross-entropy part), differentiable with respect to ``logits``.

    Raises:
        ValueError: a negative weight, fewer than 2 classes, or whatever :func:`dice_loss` rejects
            (shapes, labels, smooth).
    """
    # 1. validate the weights (dice_loss validates the layout and the labels)
    if not (lambda_dice >= 0 and lambda_ce >= 0):
        raise ValueError(f"lambda_dice and lambda_ce must be >= 0, got {lambda_dice} and {lambda_ce}")
    if logits.dim() >= 2 and logits.shape[1] < 2:
        raise ValueError(f"logits need C >= 2 classes (background included), got {tuple(logits.shape)}; with one "
                         "channel cross-entropy is 0 (MONAI switches to binary cross-entropy): use two channels")
    dice = dice_loss(logits, target, smooth=smooth, include_background=include_background)
    # 2. cross-entropy over every class, averaged over samples and voxels: target (N, *S)
    labels = target.squeeze(1) if target.dim() == logits.dim() else target
    cross_entropy = F.cross_entropy(logits, labels.long())
    # 3. the weighted sum
    return lambda_dice * dice + lambda_ce * cross_entropy
