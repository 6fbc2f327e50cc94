"""Graded exercises of lesson 11_unet3d_patches: sliding windows, Gaussian blending, stitching, Dice
loss and metric, and patch sampling."""
from __future__ import annotations

import numpy as np
import torch

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "11_unet3d_patches"

_ex = exercise_maker(ASSIGNMENT)


def _randn(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """A float64 tensor of standard normal numbers drawn from ``rng``."""
    return torch.from_numpy(rng.standard_normal(shape))


def _labels(rng: np.random.Generator, high: int, *shape: int) -> torch.Tensor:
    """An int64 tensor of labels in [0, high)."""
    return torch.from_numpy(rng.integers(0, high, size=shape)).long()


# --- window_starts ------------------------------------------------------------------------------------------
def _starts_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((11, 4, 0.5), note="11 voxels, windows of 4, step 2: the step does not reach the edge"),
             Case((10, 4, 0.5), note="10 voxels, windows of 4, step 2: the step lands on the edge"),
             Case((37, 8, 0.25), note="37 voxels, windows of 8, overlap 0.25 (step 6)"),
             Case((5, 8, 0.5), note="an axis shorter than the window"),
             Case((16, 16, 0.0), note="one window exactly"),
             Case((20, 5, 0.0), note="no overlap, 4 windows end to end")]
    for _ in range(3):
        roi = int(rng.integers(2, 12))
        size = int(rng.integers(roi + 1, 60))
        overlap = float(rng.choice([0.0, 0.25, 0.5, 0.75]))
        cases.append(Case((size, roi, overlap), note=f"{size} voxels, windows of {roi}, overlap {overlap}"))
    # the smallest legal values: a window of 1 voxel, an axis of 1 voxel, a volume equal to the window
    cases += [Case((5, 1, 0.0), note="windows of 1 voxel, no overlap: one window per voxel"),
              Case((4, 1, 0.5), note="windows of 1 voxel, overlap 0.5 (the step is still 1)"),
              Case((1, 1, 0.0), note="an axis of 1 voxel and a window of 1"),
              Case((1, 6, 0.75), note="an axis of 1 voxel, a window of 6"),
              Case((9, 9, 0.5), note="an axis exactly as long as the window, overlap 0.5"),
              Case((10, 9, 0.0), note="an axis one voxel longer than the window")]
    cases.append(Case((10, 4, 1.0), raises=ValueError, note="overlap 1 (the window would never move)"))
    cases.append(Case((0, 4, 0.5), raises=ValueError, note="size 0"))
    cases.append(Case((10, 0, 0.5), raises=ValueError, note="roi 0"))
    cases.append(Case((10, 4, -0.25), raises=ValueError, note="a negative overlap"))
    return cases


def _starts_last_missing(size, roi, overlap):  # noqa: ANN001, ANN202
    if size <= roi:
        return [0]
    interval = max(int(roi * (1 - overlap)), 1)
    return list(range(0, size - roi + 1, interval))


def _starts_past_edge(size, roi, overlap):  # noqa: ANN001, ANN202
    if size <= roi:
        return [0]
    interval = max(int(roi * (1 - overlap)), 1)
    return list(range(0, size, interval))


def _starts_duplicate_last(size, roi, overlap):  # noqa: ANN001, ANN202
    if size <= roi:
        return [0]
    interval = max(int(roi * (1 - overlap)), 1)
    return list(range(0, size - roi + 1, interval)) + [size - roi]


def _starts_no_validation(size, roi, overlap):  # noqa: ANN001, ANN202
    if size <= roi:
        return [0]
    interval = max(int(roi * (1 - overlap)), 1)
    return list(range(0, size - roi, interval)) + [size - roi]


def _starts_step_is_overlap(size, roi, overlap):  # noqa: ANN001, ANN202
    if size <= roi:
        return [0]
    interval = max(int(roi * overlap), 1)
    return list(range(0, size - roi, interval)) + [size - roi]


# --- gaussian_importance_map -----------------------------------------------------------------------------------
def _gauss_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(((9, 9, 9),), note="a 9×9×9 window, the default sigma_scale"),
             Case(((8, 5, 12), 0.25), note="8×5×12, sigma_scale 0.25 (even sizes: the centre is between voxels)"),
             Case(((7, 6),), note="a 2D window"),
             Case(((3, 1, 4), 1.0), note="tiny sizes, wide Gaussian")]
    for _ in range(2):
        roi = tuple(int(v) for v in rng.integers(1, 14, size=3))
        scale = float(rng.choice([0.125, 0.2, 0.5]))
        cases.append(Case((roi, scale), note=f"roi {roi}, sigma_scale {scale}"))
    cases += [Case(((1, 1, 1),), note="a window of one voxel: weight 1"),
              Case(((1, 5, 2),), note="a window 1 voxel thick"),
              Case(((6,), 0.3), note="a 1D window")]
    cases.append(Case(((5, 5, 5), 0.0), raises=ValueError, note="sigma_scale 0"))
    cases.append(Case(((5, 5, 5), -0.125), raises=ValueError, note="a negative sigma_scale"))
    cases.append(Case(((5, 0, 5),), raises=ValueError, note="a size of 0"))
    cases.append(Case(((),), raises=ValueError, note="an empty roi_size ()"))
    return cases


def _gauss_no_clamp(roi_size, sigma_scale=0.125):  # noqa: ANN001, ANN202
    weight = torch.ones(())
    for n in roi_size:
        x = torch.arange(n, dtype=torch.float32) - (n - 1) / 2
        weight = weight.unsqueeze(-1) * torch.exp(-x ** 2 / (2 * (sigma_scale * n) ** 2))
    return weight


def _gauss_sigma_not_scaled(roi_size, sigma_scale=0.125):  # noqa: ANN001, ANN202
    weight = torch.ones(())
    for n in roi_size:
        x = torch.arange(n, dtype=torch.float32) - (n - 1) / 2
        weight = weight.unsqueeze(-1) * torch.exp(-x ** 2 / (2 * sigma_scale ** 2))
    return weight.clamp(min=1e-3)


def _gauss_nnunet_centre(roi_size, sigma_scale=0.125):  # noqa: ANN001, ANN202
    weight = torch.ones(())
    for n in roi_size:
        x = torch.arange(n, dtype=torch.float32) - n // 2
        weight = weight.unsqueeze(-1) * torch.exp(-x ** 2 / (2 * (sigma_scale * n) ** 2))
    return weight.clamp(min=1e-3)


def _gauss_normalized(roi_size, sigma_scale=0.125):  # noqa: ANN001, ANN202
    weight = torch.ones(())
    for n in roi_size:
        x = torch.arange(n, dtype=torch.float32) - (n - 1) / 2
        weight = weight.unsqueeze(-1) * torch.exp(-x ** 2 / (2 * (sigma_scale * n) ** 2))
    return (weight / weight.sum()).clamp(min=1e-3)


# --- stitch -------------------------------------------------------------------------------------------------------
def _stitch_case(rng: np.random.Generator, output_size: tuple[int, ...], roi: tuple[int, ...], channels: int,
                 gaussian: bool, note: str) -> Case:
    starts = [sorted({int(v) for v in rng.integers(0, s - r + 1, size=3)} | {0, s - r}) for s, r in zip(output_size, roi)]
    corners = torch.cartesian_prod(*[torch.tensor(s) for s in starts]).reshape(-1, len(roi))
    patches = _randn(rng, len(corners), channels, *roi)
    weight = torch.from_numpy(rng.uniform(0.05, 1.0, size=roi)) if gaussian else torch.ones(roi, dtype=torch.float64)
    return Case((patches, corners, output_size, weight), note=note)


def _stitch_cases(rng: np.random.Generator) -> list[Case]:
    cases = [_stitch_case(rng, (7, 9, 8), (4, 5, 4), 2, False, "3D, 2 channels, equal weights"),
             _stitch_case(rng, (9, 7, 10), (5, 4, 6), 1, True, "3D, 1 channel, unequal weights"),
             _stitch_case(rng, (11, 6), (5, 3), 3, True, "2D, 3 channels, unequal weights")]
    gap = torch.tensor([[0, 0, 0], [0, 0, 5]])  # two windows with a gap between them (voxels 3, 4 uncovered)
    cases.append(Case((_randn(rng, 2, 1, 3, 3, 3), gap, (3, 3, 8), torch.ones(3, 3, 3, dtype=torch.float64)),
                      note="voxels that no window covers are 0"))
    for _ in range(2):
        roi = tuple(int(v) for v in rng.integers(2, 6, size=3))
        size = tuple(r + int(v) for r, v in zip(roi, rng.integers(1, 6, size=3)))
        cases.append(_stitch_case(rng, size, roi, int(rng.integers(1, 4)), bool(rng.integers(2)),
                                  f"output {size}, windows {roi}"))
    # the smallest legal inputs: one window as large as the output, windows of one voxel
    gauss = torch.from_numpy(rng.uniform(0.05, 1.0, size=(3, 4, 2)))
    cases.append(Case((_randn(rng, 1, 2, 3, 4, 2), torch.tensor([[0, 0, 0]]), (3, 4, 2), gauss),
                      note="one window exactly as large as the output"))
    single = torch.cartesian_prod(torch.arange(2), torch.arange(3), torch.arange(1))
    cases.append(Case((_randn(rng, 6, 1, 1, 1, 1), single, (2, 3, 1), torch.full((1, 1, 1), 0.5, dtype=torch.float64)),
                      note="windows of one voxel tiling a (2, 3, 1) output"))
    cases.append(Case((_randn(rng, 1, 1, 4, 4, 4), torch.tensor([[0, 0, 3]]), (4, 4, 6),
                       torch.ones(4, 4, 4, dtype=torch.float64)), raises=ValueError, note="a window leaving the output"))
    cases.append(Case((_randn(rng, 1, 1, 4, 4, 4), torch.tensor([[0, -1, 0]]), (4, 6, 6),
                       torch.ones(4, 4, 4, dtype=torch.float64)), raises=ValueError, note="a negative corner"))
    cases.append(Case((_randn(rng, 1, 1, 4, 4, 4), torch.tensor([[0, 0, 0]]), (4, 4, 4),
                       torch.ones(4, 4, dtype=torch.float64)), raises=ValueError, note="a 2D weight for 3D windows"))
    cases.append(Case((_randn(rng, 2, 1, 4, 4, 4), torch.tensor([[0, 0, 0]]), (4, 4, 6),
                       torch.ones(4, 4, 4, dtype=torch.float64)), raises=ValueError, note="2 patches but 1 corner"))
    return cases


def _stitch_no_divide(patches, corners, output_size, weight):  # noqa: ANN001, ANN202
    P, C, *roi = patches.shape
    total = patches.new_zeros((C, *output_size))
    if (corners < 0).any() or (corners + torch.tensor(roi) > torch.tensor(output_size)).any() or len(corners) != P:
        raise ValueError("bad windows")
    for patch, corner in zip(patches, corners.tolist()):
        total[(slice(None), *(slice(s, s + r) for s, r in zip(corner, roi)))] += patch * weight.to(patches)
    return total


def _stitch_last_wins(patches, corners, output_size, weight):  # noqa: ANN001, ANN202
    P, C, *roi = patches.shape
    total = patches.new_zeros((C, *output_size))
    if (corners < 0).any() or (corners + torch.tensor(roi) > torch.tensor(output_size)).any() or len(corners) != P:
        raise ValueError("bad windows")
    for patch, corner in zip(patches, corners.tolist()):
        total[(slice(None), *(slice(s, s + r) for s, r in zip(corner, roi)))] = patch
    return total


def _stitch_unweighted(patches, corners, output_size, weight):  # noqa: ANN001, ANN202
    P, C, *roi = patches.shape
    total = patches.new_zeros((C, *output_size))
    count = patches.new_zeros(tuple(output_size))
    if (corners < 0).any() or (corners + torch.tensor(roi) > torch.tensor(output_size)).any() or len(corners) != P:
        raise ValueError("bad windows")
    for patch, corner in zip(patches, corners.tolist()):
        region = tuple(slice(s, s + r) for s, r in zip(corner, roi))
        total[(slice(None), *region)] += patch
        count[region] += 1
    return torch.where(count > 0, total / count, torch.zeros(()).to(total))


def _stitch_divide_by_count(patches, corners, output_size, weight):  # noqa: ANN001, ANN202
    P, C, *roi = patches.shape
    total = patches.new_zeros((C, *output_size))
    count = patches.new_zeros(tuple(output_size))
    if (corners < 0).any() or (corners + torch.tensor(roi) > torch.tensor(output_size)).any() or len(corners) != P:
        raise ValueError("bad windows")
    for patch, corner in zip(patches, corners.tolist()):
        region = tuple(slice(s, s + r) for s, r in zip(corner, roi))
        total[(slice(None), *region)] += patch * weight.to(patches)
        count[region] += 1
    return torch.where(count > 0, total / count, torch.zeros(()).to(total))


# --- dice_loss -----------------------------------------------------------------------------------------------------
def _loss_cases(rng: np.random.Generator) -> list[Case]:
    logits = _randn(rng, 2, 3, 4, 5, 3)
    target = _labels(rng, 3, 2, 4, 5, 3)
    empty_logits = _randn(rng, 2, 3, 3, 4, 5)
    empty_logits[:, 2] = -1e4  # class 2 is never predicted (its probability underflows to exactly 0) …
    empty_target = _labels(rng, 2, 2, 3, 4, 5)  # … and never present: 0/0 without smoothing
    cases = [Case((empty_logits, empty_target), note="class 2 absent from target and prediction"),
             Case((logits, target), note="2 volumes, 3 classes"),
             Case((logits, target), {"include_background": False}, note="without the background class"),
             Case((_randn(rng, 3, 2, 6, 7), _labels(rng, 2, 3, 6, 7)), {"smooth": 1.0},
                  note="2D images, 2 classes, smooth 1"),
             Case((_randn(rng, 1, 4, 3, 3, 5), _labels(rng, 4, 1, 1, 3, 3, 5)),
                  note="a single volume, target with a channel axis (N, 1, D, H, W)")]
    for _ in range(2):
        n, c = int(rng.integers(2, 4)), int(rng.integers(2, 5))
        shape = tuple(int(v) for v in rng.integers(2, 7, size=3))
        cases.append(Case((_randn(rng, n, c, *shape), _labels(rng, c, n, *shape)),
                          {"include_background": bool(rng.integers(2))}, note=f"{n} volumes, {c} classes, {shape}"))
    cases += [Case((_randn(rng, 1, 2, 1, 1, 1), _labels(rng, 2, 1, 1, 1, 1)), note="one sample of one voxel, 2 classes"),
              Case((_randn(rng, 2, 2, 5), _labels(rng, 2, 2, 5)), {"include_background": False},
                   note="1D signals, 2 classes, without the background (one class left)"),
              Case((_randn(rng, 2, 3, 4, 4), _labels(rng, 3, 2, 4, 4)), {"smooth": 0.0}, note="smooth 0 (allowed)")]
    cases.append(Case((logits, target + 1), raises=ValueError, note="a label equal to the number of classes"))
    cases.append(Case((logits, target[:, :3]), raises=ValueError, note="target and logits of different sizes"))
    cases.append(Case((_randn(rng, 4, 3), _labels(rng, 3, 4)), raises=ValueError,
                      note="logits (N, C) without a spatial axis"))
    cases.append(Case((logits, target), {"smooth": -1.0}, raises=ValueError, note="a negative smooth"))
    cases.append(Case((_randn(rng, 2, 1, 3, 3), torch.zeros(2, 3, 3, dtype=torch.long)),
                      {"include_background": False}, raises=ValueError, note="one class and no background: no class left"))
    return cases


def _loss_parts(logits, target, dim=1, pool_batch=False):  # noqa: ANN001, ANN202
    F = torch.nn.functional
    if target.dim() == logits.dim():
        target = target.squeeze(1)
    if tuple(target.shape) != (logits.shape[0], *logits.shape[2:]) or target.min() < 0 or target.max() >= logits.shape[1]:
        raise ValueError("bad target")
    probs = logits.softmax(dim=dim).flatten(2)
    onehot = F.one_hot(target.long().flatten(1), logits.shape[1]).transpose(1, 2).to(probs.dtype)
    if pool_batch:
        return probs.transpose(0, 1).flatten(1)[None], onehot.transpose(0, 1).flatten(1)[None]
    return probs, onehot


def _loss_no_smooth(logits, target, *, smooth=1e-5, include_background=True):  # noqa: ANN001, ANN202
    probs, onehot = _loss_parts(logits, target)
    dice = 2 * (probs * onehot).sum(2) / (probs.sum(2) + onehot.sum(2))
    return (1 - (dice if include_background else dice[:, 1:])).mean()


def _loss_softmax_last_axis(logits, target, *, smooth=1e-5, include_background=True):  # noqa: ANN001, ANN202
    probs, onehot = _loss_parts(logits, target, dim=-1)
    dice = (2 * (probs * onehot).sum(2) + smooth) / (probs.sum(2) + onehot.sum(2) + smooth)
    return (1 - (dice if include_background else dice[:, 1:])).mean()


def _loss_background_flag_ignored(logits, target, *, smooth=1e-5, include_background=True):  # noqa: ANN001, ANN202
    probs, onehot = _loss_parts(logits, target)
    dice = (2 * (probs * onehot).sum(2) + smooth) / (probs.sum(2) + onehot.sum(2) + smooth)
    return (1 - dice).mean()


def _loss_last_class_dropped(logits, target, *, smooth=1e-5, include_background=True):  # noqa: ANN001, ANN202
    probs, onehot = _loss_parts(logits, target)
    dice = (2 * (probs * onehot).sum(2) + smooth) / (probs.sum(2) + onehot.sum(2) + smooth)
    return (1 - (dice if include_background else dice[:, :-1])).mean()


def _loss_batch_pooled(logits, target, *, smooth=1e-5, include_background=True):  # noqa: ANN001, ANN202
    probs, onehot = _loss_parts(logits, target, pool_batch=True)
    dice = (2 * (probs * onehot).sum(2) + smooth) / (probs.sum(2) + onehot.sum(2) + smooth)
    return (1 - (dice if include_background else dice[:, 1:])).mean()


def _loss_dice_not_loss(logits, target, *, smooth=1e-5, include_background=True):  # noqa: ANN001, ANN202
    probs, onehot = _loss_parts(logits, target)
    dice = (2 * (probs * onehot).sum(2) + smooth) / (probs.sum(2) + onehot.sum(2) + smooth)
    return (dice if include_background else dice[:, 1:]).mean()


# --- dice -------------------------------------------------------------------------------------------------------------
def _dice_cases(rng: np.random.Generator) -> list[Case]:
    pred, target = _labels(rng, 3, 5, 6, 7), _labels(rng, 3, 5, 6, 7)
    absent_pred, absent_target = _labels(rng, 2, 4, 5, 6), _labels(rng, 2, 4, 5, 6)
    cases = [Case((absent_pred, absent_target, 3), note="class 2 absent from both maps"),
             Case((pred, target, 3), note="3 classes, 5×6×7"),
             Case((pred, pred, 3), note="a perfect prediction"),
             Case((_labels(rng, 2, 9, 11), _labels(rng, 2, 9, 11), 2), {"smooth": 1.0}, note="2D, smooth 1")]
    for _ in range(2):
        c = int(rng.integers(2, 6))
        shape = tuple(int(v) for v in rng.integers(2, 9, size=3))
        cases.append(Case((_labels(rng, c, *shape), _labels(rng, c, *shape), c), note=f"{c} classes, {shape}"))
    cases += [Case((torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, 4, dtype=torch.long), 1),
                   note="one class (num_classes 1): everything is background"),
              Case((torch.tensor([1]), torch.tensor([0]), 2), note="a single voxel, wrong"),
              Case((_labels(rng, 2, 1, 1, 1), _labels(rng, 2, 1, 1, 1), 2), note="a 1×1×1 volume")]
    cases.append(Case((pred, target[:, :3], 3), raises=ValueError, note="maps of different shapes"))
    cases.append(Case((pred, target, 2), raises=ValueError, note="label 2 with num_classes 2"))
    cases.append(Case((pred - 1, target, 3), raises=ValueError, note="a negative label"))
    cases.append(Case((pred, target, 3), {"smooth": 0.0}, raises=ValueError, note="smooth 0"))
    return cases


def _dice_counts(pred, target, num_classes):  # noqa: ANN001, ANN202
    if pred.shape != target.shape or max(int(pred.max()), int(target.max())) >= num_classes:
        raise ValueError("bad maps")
    pred, target = pred.flatten(), target.flatten()
    return (torch.bincount(pred, minlength=num_classes).double(), torch.bincount(target, minlength=num_classes).double(),
            torch.bincount(pred[pred == target], minlength=num_classes).double())


def _dice_no_smooth(pred, target, num_classes, *, smooth=1e-5):  # noqa: ANN001, ANN202
    if not smooth > 0:
        raise ValueError("smooth must be > 0")
    p, t, both = _dice_counts(pred, target, num_classes)
    return 2 * both / (p + t)


def _dice_not_doubled(pred, target, num_classes, *, smooth=1e-5):  # noqa: ANN001, ANN202
    if not smooth > 0:
        raise ValueError("smooth must be > 0")
    p, t, both = _dice_counts(pred, target, num_classes)
    return (both + smooth) / (p + t + smooth)


def _dice_jaccard(pred, target, num_classes, *, smooth=1e-5):  # noqa: ANN001, ANN202
    if not smooth > 0:
        raise ValueError("smooth must be > 0")
    p, t, both = _dice_counts(pred, target, num_classes)
    return (both + smooth) / (p + t - both + smooth)


def _dice_negative_labels_pass(pred, target, num_classes, *, smooth=1e-5):  # noqa: ANN001, ANN202
    if pred.shape != target.shape or max(int(pred.max()), int(target.max())) >= num_classes or not smooth > 0:
        raise ValueError("bad maps")  # checks the upper end only
    pred, target = pred.flatten().clamp(min=0), target.flatten().clamp(min=0)
    both = torch.bincount(pred[pred == target], minlength=num_classes).double()
    p, t = torch.bincount(pred, minlength=num_classes).double(), torch.bincount(target, minlength=num_classes).double()
    return (2 * both + smooth) / (p + t + smooth)


def _dice_float32(pred, target, num_classes, *, smooth=1e-5):  # noqa: ANN001, ANN202
    if not smooth > 0:
        raise ValueError("smooth must be > 0")
    p, t, both = _dice_counts(pred, target, num_classes)
    return ((2 * both + smooth) / (p + t + smooth)).float()


# --- sample_patches ---------------------------------------------------------------------------------------------------
def _patch_cases(rng: np.random.Generator) -> list[Case]:
    volume = _randn(rng, 2, 9, 11, 10)
    corner_label = torch.zeros(9, 11, 10, dtype=torch.long)
    corner_label[0, 0, 0] = corner_label[8, 10, 9] = 1  # foreground only in two corners of the volume
    small_label = torch.zeros(9, 11, 10, dtype=torch.long)
    small_label[4:6, 5:7, 3:5] = 2
    cases = [Case((volume, corner_label, (5, 6, 5), 6), {"foreground_ratio": 1.0, "seed": 0},
                  note="foreground only in two corners of the volume"),
             Case((volume, small_label, (4, 4, 4), 8), {"foreground_ratio": 1.0, "seed": 3},
                  note="every patch centred on a small structure"),
             Case((volume, small_label, (4, 5, 3), 9), {"seed": 1}, note="foreground_ratio 0.5"),
             Case((volume, torch.zeros(9, 11, 10, dtype=torch.long), (3, 3, 3), 4), {"seed": 2},
                  note="no foreground: every patch uniform"),
             Case((_randn(rng, 1, 12, 13), _labels(rng, 2, 12, 13), (5, 4), 5), {"foreground_ratio": 0.7, "seed": 4},
                  note="2D images")]
    for _ in range(2):
        size = tuple(int(v) for v in rng.integers(6, 12, size=3))
        patch = tuple(int(rng.integers(2, s + 1)) for s in size)
        label = torch.from_numpy((rng.random(size) < 0.05).astype(np.int64))
        cases.append(Case((_randn(rng, 1, *size), label, patch, int(rng.integers(1, 6))),
                          {"foreground_ratio": float(rng.choice([0.3, 1.0])), "seed": int(rng.integers(100))},
                          note=f"volume {size}, patches {patch}"))
    # the smallest legal values: a patch as large as the volume, patches of one voxel, no patch, ratio 0
    cases += [Case((volume, small_label, (9, 11, 10), 3), {"seed": 5}, note="a patch as large as the volume"),
              Case((volume, small_label, (1, 1, 1), 6), {"foreground_ratio": 1.0, "seed": 6},
                   note="patches of one voxel, all on foreground"),
              Case((volume, small_label, (4, 4, 4), 0), {"seed": 7}, note="no patch (num_patches 0)"),
              Case((volume, small_label, (4, 4, 4), 5), {"foreground_ratio": 0.0, "seed": 8},
                   note="foreground_ratio 0: every patch uniform")]
    cases.append(Case((volume, small_label, (10, 4, 4), 2), {"seed": 0}, raises=ValueError,
                      note="a patch larger than the volume"))
    cases.append(Case((volume, small_label, (0, 4, 4), 2), {"seed": 0}, raises=ValueError, note="a patch of size 0"))
    cases.append(Case((volume, small_label, (4, 4), 2), {"seed": 0}, raises=ValueError,
                      note="a 2D patch size for a 3D volume"))
    cases.append(Case((volume, small_label[0], (4, 4, 4), 2), {"seed": 0}, raises=ValueError,
                      note="a 2D label for a 3D volume"))
    cases.append(Case((volume, small_label, (4, 4, 4), -1), {"seed": 0}, raises=ValueError, note="num_patches -1"))
    cases.append(Case((volume, small_label, (4, 4, 4), 2), {"foreground_ratio": 1.5, "seed": 0}, raises=ValueError,
                      note="foreground_ratio 1.5"))
    return cases


def _patch_corners(volume, label, patch_size, num_patches, foreground_ratio, seed, centre, clamp):  # noqa: ANN001, ANN202
    C, *size = volume.shape
    patch_size = tuple(int(p) for p in patch_size)
    if tuple(label.shape) != tuple(size) or any(p > s for p, s in zip(patch_size, size)) or not 0 <= foreground_ratio <= 1:
        raise ValueError("bad arguments")
    generator = torch.Generator().manual_seed(seed)
    highest = torch.tensor(size) - torch.tensor(patch_size)
    corners = torch.stack([torch.randint(int(h) + 1, (num_patches,), generator=generator) for h in highest], dim=1)
    use_foreground = torch.rand(num_patches, generator=generator) < foreground_ratio
    foreground = torch.nonzero(label > 0)
    if len(foreground) > 0:
        picks = foreground[torch.randint(len(foreground), (num_patches,), generator=generator)]
        centred = picks - torch.tensor(patch_size) // 2 if centre else picks
        if clamp:
            centred = torch.minimum(centred.clamp(min=0), highest)
        corners = torch.where(use_foreground[:, None], centred, corners)
    return corners


def _patch_crop_padded(volume, label, patch_size, corners):  # noqa: ANN001, ANN202
    """Crop from a zero-padded copy, so that corners outside the volume still give full-size patches."""
    pad = [p for s in reversed(patch_size) for p in (s, s)]
    vol = torch.nn.functional.pad(volume, pad)
    lab = torch.nn.functional.pad(label, pad)
    regions = [tuple(slice(c + s, c + 2 * s) for c, s in zip(corner, patch_size)) for corner in corners.tolist()]
    return (torch.stack([vol[(slice(None), *r)] for r in regions]), torch.stack([lab[r] for r in regions]))


def _patch_leaves_volume(volume, label, patch_size, num_patches, *, foreground_ratio=0.5, seed):  # noqa: ANN001, ANN202
    corners = _patch_corners(volume, label, patch_size, num_patches, foreground_ratio, seed, True, False)
    return _patch_crop_padded(volume, label, tuple(patch_size), corners)


def _patch_corner_on_voxel(volume, label, patch_size, num_patches, *, foreground_ratio=0.5, seed):  # noqa: ANN001, ANN202
    corners = _patch_corners(volume, label, patch_size, num_patches, foreground_ratio, seed, False, True)
    return _patch_crop_padded(volume, label, tuple(patch_size), corners)


def _patch_ratio_ignored(volume, label, patch_size, num_patches, *, foreground_ratio=0.5, seed):  # noqa: ANN001, ANN202
    corners = _patch_corners(volume, label, patch_size, num_patches, 1.0, seed, True, True)
    return _patch_crop_padded(volume, label, tuple(patch_size), corners)


EXERCISES = [
    _ex("window_starts", "course.patches", _starts_cases, [
        Misconception("no_validation", "raise a ValueError for size or roi below 1 and for overlap outside [0, 1) "
                      "(1 itself is legal for size and roi, and 0 for overlap)", _starts_no_validation),
        Misconception("last_missing", "the last window must end exactly at the far edge: when the step does not "
                      "land on size − roi, add one more window starting at size − roi", _starts_last_missing),
        Misconception("past_edge", "a window [s, s + roi) must lie inside the axis: stop the steps before "
                      "size − roi and finish with one window at size − roi", _starts_past_edge),
        Misconception("duplicate_last", "when a step lands exactly on size − roi, that window must not be "
                      "listed twice: step over range(0, size − roi), then add size − roi", _starts_duplicate_last),
        Misconception("step_is_overlap", "the step between windows is roi · (1 − overlap), the part of a window "
                      "that is NOT shared", _starts_step_is_overlap),
    ]),
    _ex("gaussian_importance_map", "course.patches", _gauss_cases, [
        Misconception("no_clamp", "clamp the weights below at 1e-3: a voxel with (almost) zero weight in every "
                      "window covering it would be divided by ~0 when stitching", _gauss_no_clamp),
        Misconception("sigma_not_scaled", "σ is a fraction of the window: σ = sigma_scale · n for an axis of "
                      "n voxels", _gauss_sigma_not_scaled),
        Misconception("nnunet_centre", "that is nnU-Net's convention (peak on voxel n // 2); this exercise follows "
                      "MONAI's: the centre of an axis of n voxels is (n − 1) / 2, between two voxels when n is even",
                      _gauss_nnunet_centre),
        Misconception("normalized", "do not normalize the map: its peak is 1 (stitching divides by the sum of "
                      "the weights anyway)", _gauss_normalized),
    ]),
    _ex("stitch", "course.patches", _stitch_cases, [
        Misconception("no_divide", "divide the weighted sum by the sum of the weights at each voxel; without it "
                      "voxels covered by several windows are too large and seams appear", _stitch_no_divide),
        Misconception("last_wins", "add the overlapping windows up (weighted average); writing each window over "
                      "the previous one keeps only the last", _stitch_last_wins),
        Misconception("unweighted", "multiply each patch by the weight map before adding, and divide by the sum "
                      "of the weights", _stitch_unweighted),
        Misconception("divide_by_count", "divide by the sum of the weights, not by the number of windows",
                      _stitch_divide_by_count),
    ], rtol=1e-7, atol=1e-9),
    _ex("dice", "course.metrics", _dice_cases, [
        Misconception("no_smooth", "add smooth to the numerator and the denominator: a class absent from both "
                      "maps gives 0/0 = NaN without it, and should score 1", _dice_no_smooth),
        Misconception("not_doubled", "Dice counts the overlap twice: 2·|P ∩ T| / (|P| + |T|)", _dice_not_doubled),
        Misconception("jaccard", "that is the Jaccard index |P ∩ T| / |P ∪ T|; Dice is 2·|P ∩ T| / (|P| + |T|)",
                      _dice_jaccard),
        Misconception("float32", "return float64 (count with .double()): voxel counts of a large volume "
                      "exceed float32's exact integers", _dice_float32),
        Misconception("negative_labels_pass", "labels must lie in [0, num_classes): check the lower end too and "
                      "raise a ValueError for a negative label", _dice_negative_labels_pass),
    ]),
    _ex("dice_loss", "course.losses", _loss_cases, [
        Misconception("no_smooth", "add smooth to the numerator and the denominator: a class absent from target "
                      "and prediction gives 0/0 = NaN without it", _loss_no_smooth),
        Misconception("softmax_last_axis", "the softmax runs over the class axis, dim=1 of (N, C, D, H, W)",
                      _loss_softmax_last_axis),
        Misconception("background_flag_ignored", "with include_background=False leave class 0 out of the mean",
                      _loss_background_flag_ignored),
        Misconception("last_class_dropped", "the background is class 0: include_background=False drops dice[:, 0], "
                      "not the last class", _loss_last_class_dropped),
        Misconception("batch_pooled", "compute the Dice of each sample separately (sum over the voxels only, "
                      "not over the batch), then average", _loss_batch_pooled),
        Misconception("dice_not_loss", "return the loss, 1 − Dice, so that a perfect prediction gives 0",
                      _loss_dice_not_loss),
    ], rtol=1e-7, atol=1e-9),
    _ex("sample_patches", "course.patches", _patch_cases, [
        Misconception("leaves_volume", "a patch centred on a foreground voxel near the border must be shifted back "
                      "inside the volume: clamp its corner to [0, size − patch_size]", _patch_leaves_volume),
        Misconception("corner_on_voxel", "centre the patch on the foreground voxel: its corner is the voxel minus "
                      "patch_size // 2", _patch_corner_on_voxel),
        Misconception("ratio_ignored", "only a fraction foreground_ratio of the patches is centred on foreground "
                      "(torch.rand(P) < foreground_ratio); the others keep their uniform corner", _patch_ratio_ignored),
    ]),
]
