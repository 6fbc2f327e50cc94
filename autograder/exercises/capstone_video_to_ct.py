"""Graded exercises of lesson 15_capstone_video_to_ct: an RGB first layer adapted to CT's one channel,
the depth axis resampled to a clip's frames (align_corners=False), a CT volume as a clip through the PE
window, the ROC curve, the AUROC with ties counted half (scikit-learn's), and the paired bootstrap of an
AUROC difference in its documented draw order.

``course.transfer.shuffle_frames`` (the frame-shuffled control) is shown in the lesson but not graded:
its ``torch.Generator`` argument is not plain data, so no case could carry it to the sandboxed grader.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import torch

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "15_capstone_video_to_ct"

_ex = exercise_maker(ASSIGNMENT)

#: torch's own resampling: the depth exercises ask for the two-slice mix written out
RESAMPLING_OPS = ("aten.upsample_trilinear3d", "aten.upsample_linear1d", "aten.upsample_bilinear2d",
                  "aten.upsample_nearest3d", "aten.upsample_nearest1d", "aten.upsample_nearest2d",
                  "aten._upsample_nearest_exact3d", "aten._upsample_nearest_exact1d", "aten.grid_sampler_3d",
                  "aten.grid_sampler_2d", "aten._adaptive_avg_pool3d", "aten.adaptive_avg_pool1d")


def _torch_gen(rng: np.random.Generator) -> torch.Generator:
    return torch.Generator().manual_seed(int(rng.integers(1 << 31)))


# --- adapt_input_channels -------------------------------------------------------------------------------------------
_MODES = ("sum", "mean", "first")


def _adapt_cases(rng: np.random.Generator) -> list[Case]:
    g = _torch_gen(rng)
    out = int(rng.integers(4, 9))
    cases = [Case((torch.randn(out, 3, 3, 7, 7, generator=g),), note=f"a Conv3d stem ({out}, 3, 3, 7, 7), defaults"),
             Case((torch.randn(5, 3, 3, 3, generator=g), 1), {"mode": "sum"}, note="a Conv2d weight (5, 3, 3, 3)"),
             Case((torch.randn(4, 3, 1, 3, 3, generator=g), 2), {"mode": "sum"}, note="2 input channels, sum"),
             Case((torch.randn(6, 3, 3, 3, 3, generator=g), 3), {"mode": "sum"},
                  note="3 input channels, sum: not the RGB weight unchanged"),
             Case((torch.randn(4, 3, 2, 3, 3, generator=g), 1), {"mode": "mean"}, note="mode mean"),
             Case((torch.randn(3, 3, 3, 5, 5, generator=g), 4), {"mode": "mean"}, note="4 input channels, mean"),
             Case((torch.randn(4, 3, 3, 3, 3, generator=g), 1), {"mode": "first"}, note="mode first"),
             Case((torch.randn(2, 3, 1, 2, 2, generator=g), 2), {"mode": "first"}, note="2 input channels, first"),
             Case((torch.randn(4, 3, 3, 3, 3, generator=g, dtype=torch.float64), 1), note="float64: keep the dtype"),
             Case((torch.randn(1, 3, 1, 1, 1, generator=g), 1), note="the smallest: one 1x1x1 kernel")]
    for _ in range(2):
        k = int(rng.integers(1, 4))
        in_channels = int(rng.integers(1, 6))
        cases.append(Case((torch.randn(int(rng.integers(2, 7)), 3, k, 3, 3, generator=g), in_channels),
                          {"mode": _MODES[int(rng.integers(3))]}, note=f"random, {in_channels} input channel(s)"))
    cases += [Case((torch.randn(4, 1, 3, 3, 3, generator=g), 1), raises=ValueError, note="a one-channel weight"),
              Case((torch.randn(4, 3, 3, generator=g), 1), raises=ValueError, note="a 3D tensor is no conv weight"),
              Case((torch.randn(4, 3, 3, 3, 3, generator=g), 1), {"mode": "max"}, raises=ValueError,
                   note="an unknown mode"),
              Case((torch.randn(4, 3, 3, 3, 3, generator=g), 0), raises=ValueError, note="in_channels 0")]
    return cases


def _adapt_checked(weight, in_channels, mode):  # noqa: ANN001, ANN202
    if weight.dim() not in (4, 5) or weight.shape[1] != 3 or mode not in _MODES or in_channels < 1:
        raise ValueError("bad weight, mode or in_channels")
    return weight.detach()


def _spread(kernel: torch.Tensor, in_channels: int, divide: bool = True) -> torch.Tensor:
    out = kernel.repeat(1, in_channels, *([1] * (kernel.dim() - 2)))
    return out / in_channels if divide else out


def _adapt_mean_for_sum(weight, in_channels=1, *, mode="sum"):  # noqa: ANN001, ANN202
    w = _adapt_checked(weight, in_channels, mode)
    kernel = w[:, :1].clone() if mode == "first" else w.mean(dim=1, keepdim=True)
    return _spread(kernel, in_channels)


def _adapt_first_always(weight, in_channels=1, *, mode="sum"):  # noqa: ANN001, ANN202
    w = _adapt_checked(weight, in_channels, mode)
    return _spread(w[:, :1].clone(), in_channels)


def _adapt_kernel(w: torch.Tensor, mode: str) -> torch.Tensor:
    if mode == "sum":
        return w.sum(dim=1, keepdim=True)
    return w.mean(dim=1, keepdim=True) if mode == "mean" else w[:, :1].clone()


def _adapt_no_divide(weight, in_channels=1, *, mode="sum"):  # noqa: ANN001, ANN202
    w = _adapt_checked(weight, in_channels, mode)
    return _spread(_adapt_kernel(w, mode), in_channels, divide=False)


def _adapt_timm_cyclic(weight, in_channels=1, *, mode="sum"):  # noqa: ANN001, ANN202
    w = _adapt_checked(weight, in_channels, mode)
    if in_channels == 1:
        return _adapt_kernel(w, mode)
    channels = [i % 3 for i in range(in_channels)]
    return w[:, channels] * (3 / in_channels)


def _adapt_identity_for_three(weight, in_channels=1, *, mode="sum"):  # noqa: ANN001, ANN202
    w = _adapt_checked(weight, in_channels, mode)
    if in_channels == 3:
        return w.clone()
    return _spread(_adapt_kernel(w, mode), in_channels)


# --- resample_depth -------------------------------------------------------------------------------------------------
def _depth_cases(rng: np.random.Generator) -> list[Case]:
    g = _torch_gen(rng)
    cases = [Case((torch.randn(1, 3, 13, 5, 4, generator=g), 5), note="13 slices to 5 frames"),
             Case((torch.randn(2, 1, 32, 6, 5, generator=g), 16), note="32 slices to 16 frames"),
             Case((torch.randn(1, 2, 7, 4, 3, generator=g), 16), note="7 slices to 16 frames: the edges clamp"),
             Case((torch.randn(1, 1, 10, 3, 3, generator=g), 10), note="10 slices to 10 frames: unchanged"),
             Case((torch.randn(2, 1, 5, 2, 3, generator=g, dtype=torch.float64), 8), note="float64: keep the dtype"),
             Case((torch.randn(1, 1, 1, 2, 2, generator=g), 4), note="one slice to 4 frames: repeated"),
             Case((torch.randn(1, 1, 5, 2, 2, generator=g), 1), note="5 slices to one frame: the middle one"),
             Case((torch.randn(1, 1, 2, 1, 1, generator=g), 3), note="the smallest volume, 2 slices to 3 frames")]
    for _ in range(2):
        d, t = int(rng.integers(3, 40)), int(rng.integers(2, 24))
        cases.append(Case((torch.randn(1, int(rng.integers(1, 3)), d, int(rng.integers(2, 6)), int(rng.integers(2, 6)),
                                       generator=g), t), note=f"{d} slices to {t} frames"))
    cases += [Case((torch.randn(6, 4, 4, generator=g), 3), raises=ValueError, note="a (D, H, W) volume without N, C"),
              Case((torch.randn(1, 1, 6, 4, 4, generator=g), 0), raises=ValueError, note="num_frames 0"),
              Case((torch.randint(0, 9, (1, 1, 6, 4, 4), generator=g), 3), raises=ValueError, note="an integer tensor")]
    return cases


def _depth_checked(volumes, num_frames):  # noqa: ANN001, ANN202
    if volumes.ndim != 5 or not volumes.is_floating_point() or num_frames < 1:
        raise ValueError("bad volumes or num_frames")
    return volumes


def _depth_align_corners(volumes, num_frames):  # noqa: ANN001, ANN202
    v = _depth_checked(volumes, num_frames)
    return _depth_linear(v, _corners_z(v.shape[2], num_frames))


def _depth_nearest(volumes, num_frames):  # noqa: ANN001, ANN202
    v = _depth_checked(volumes, num_frames)
    return v[:, :, _nearest_index(v.shape[2], num_frames)]


def _nearest_index(D: int, T: int) -> torch.Tensor:
    """Nearest-neighbour source slices, torch's "nearest" rule: floor(t · D / T) (written out: no resampling op)."""
    return (torch.arange(T, dtype=torch.float64) * D / T).floor().long().clamp(max=D - 1)


def _corners_z(D: int, T: int) -> torch.Tensor:
    """align_corners=True positions: first and last slices pinned, z = t · (D − 1) / (T − 1)."""
    return torch.zeros(1, dtype=torch.float64) if T == 1 else torch.arange(T, dtype=torch.float64) * (D - 1) / (T - 1)


def _centres_z(D: int, T: int) -> torch.Tensor:
    """Slice-centre positions (align_corners=False), clamped: z = (t + 0.5) · D / T − 0.5."""
    return ((torch.arange(T, dtype=torch.float64) + 0.5) * D / T - 0.5).clamp(0, D - 1)


def _depth_linear(volumes: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    D = volumes.shape[2]
    lo = z.floor().long()
    hi = (lo + 1).clamp(max=D - 1)
    w = (z - lo).to(volumes.dtype).view(1, 1, -1, 1, 1)
    return volumes[:, :, lo] * (1 - w) + volumes[:, :, hi] * w


def _depth_no_clamp(volumes, num_frames):  # noqa: ANN001, ANN202
    v = _depth_checked(volumes, num_frames)
    D = v.shape[2]
    z = (torch.arange(num_frames, dtype=torch.float64) + 0.5) * D / num_frames - 0.5
    return _depth_linear(v, z.clamp(max=D - 1))  # below 0: lo = -1 takes the LAST slice


def _depth_no_half_pixel(volumes, num_frames):  # noqa: ANN001, ANN202
    v = _depth_checked(volumes, num_frames)
    D = v.shape[2]
    z = (torch.arange(num_frames, dtype=torch.float64) * D / num_frames).clamp(0, D - 1)
    return _depth_linear(v, z)


def _depth_all_axes(volumes, num_frames):  # noqa: ANN001, ANN202
    v = _depth_checked(volumes, num_frames)
    D, H, W = v.shape[2:]
    out = _depth_linear(v, _centres_z(D, num_frames))  # (N, C, T, H, W), then the same along H and W
    for axis, n in ((3, max(1, round(H * num_frames / D))), (4, max(1, round(W * num_frames / D)))):
        out = _depth_linear(out.movedim(axis, 2), _centres_z(out.shape[axis], n)).movedim(2, axis)
    return out


# --- ct_to_clip -----------------------------------------------------------------------------------------------------
def _hu_volume(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """float32 HU: lung, soft tissue, clot, contrast, bone, with noise (values on both sides of the PE window)."""
    tissue = rng.choice([-850.0, 40.0, 55.0, 300.0, 900.0], size=shape, p=[0.35, 0.25, 0.1, 0.2, 0.1])
    return (tissue + rng.normal(0, 30, size=shape)).astype(np.float32)


def _clip_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_hu_volume(rng, 32, 8, 8), 16), note="32 slices of 8 x 8 to 16 frames, the PE window"),
             Case((_hu_volume(rng, 10, 6, 5), 16), note="10 slices to 16 frames"),
             Case((_hu_volume(rng, 12, 4, 4), 12), note="12 slices to 12 frames: the window alone"),
             Case((_hu_volume(rng, 9, 5, 5), 6), {"window": (40.0, 400.0)}, note="the mediastinum window (40, 400)"),
             Case((np.round(_hu_volume(rng, 8, 4, 6)).astype(np.int16), 4), note="int16 HU (as stored in DICOM)"),
             Case((torch.from_numpy(_hu_volume(rng, 7, 3, 3)), 5), note="a torch tensor of HU"),
             Case((_hu_volume(rng, 1, 3, 3), 3), note="the smallest: one slice to 3 frames")]
    d, t = int(rng.integers(4, 30)), int(rng.integers(2, 20))
    cases.append(Case((_hu_volume(rng, d, 5, 4), t), note=f"{d} slices to {t} frames"))
    cases += [Case((_hu_volume(rng, 6, 6), 3), raises=ValueError, note="a 2D slice"),
              Case((_hu_volume(rng, 1, 6, 6, 6), 3), raises=ValueError, note="a (1, D, H, W) volume")]
    return cases


def _clip_hu(hu) -> np.ndarray:  # noqa: ANN001
    hu = np.asarray(hu.detach().cpu() if isinstance(hu, torch.Tensor) else hu, dtype=np.float32)
    if hu.ndim != 3:
        raise ValueError("hu must be (D, H, W)")
    return hu


def _clip_resample(x: np.ndarray, num_frames: int, **kw) -> torch.Tensor:  # noqa: ANN003
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None, None]
    if kw.get("mode") == "nearest":
        return t[:, :, _nearest_index(t.shape[2], num_frames)][0]
    if kw.get("align_corners"):
        return _depth_linear(t, _corners_z(t.shape[2], num_frames))[0]
    return _depth_linear(t, _centres_z(t.shape[2], num_frames))[0]  # the right resampling, written out


def _window(hu: np.ndarray, center: float, width: float, half: float = 2.0, clip: bool = True) -> np.ndarray:
    lo, hi = center - width / half, center + width / half
    x = np.asarray(hu, dtype=np.float64)
    x = np.clip(x, lo, hi) if clip else x
    return ((x - lo) / (hi - lo)).astype(np.float32)


def _clip_half_width(hu, num_frames, *, window=(100.0, 700.0)):  # noqa: ANN001, ANN202
    return _clip_resample(_window(_clip_hu(hu), *window, half=1.0), num_frames)


def _clip_no_clip(hu, num_frames, *, window=(100.0, 700.0)):  # noqa: ANN001, ANN202
    return _clip_resample(_window(_clip_hu(hu), *window, clip=False), num_frames)


def _clip_minmax(hu, num_frames, *, window=(100.0, 700.0)):  # noqa: ANN001, ANN202
    x = _clip_hu(hu).astype(np.float64)
    return _clip_resample(((x - x.min()) / max(x.max() - x.min(), 1e-8)).astype(np.float32), num_frames)


def _clip_resample_first(hu, num_frames, *, window=(100.0, 700.0)):  # noqa: ANN001, ANN202
    resampled = _clip_resample(_clip_hu(hu), num_frames)  # (1, T, H, W) HU
    return torch.from_numpy(_window(resampled.numpy(), *window))


def _clip_nearest(hu, num_frames, *, window=(100.0, 700.0)):  # noqa: ANN001, ANN202
    return _clip_resample(_window(_clip_hu(hu), *window), num_frames, mode="nearest")


def _clip_align_corners(hu, num_frames, *, window=(100.0, 700.0)):  # noqa: ANN001, ANN202
    return _clip_resample(_window(_clip_hu(hu), *window), num_frames, mode="trilinear", align_corners=True)


def _clip_no_channel(hu, num_frames, *, window=(100.0, 700.0)):  # noqa: ANN001, ANN202
    return _clip_resample(_window(_clip_hu(hu), *window), num_frames)[0]


# --- roc_curve and auroc --------------------------------------------------------------------------------------------
def _scores_labels(rng: np.random.Generator, n: int, *, separation: float = 1.0, ties: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
    """n scores (positives shifted by ``separation``) and 0/1 labels holding both classes."""
    labels = rng.permutation(np.arange(n) < max(1, min(n - 1, int(rng.integers(1, n))))).astype(np.int64)
    scores = rng.normal(size=n) + separation * labels
    return (np.round(scores * 2) / 2 if ties else scores), labels


def _roc_common_cases(rng: np.random.Generator) -> list[Case]:
    """Cases for both roc_curve and auroc: ties first (they tell the tie conventions apart)."""
    probabilities, prob_labels = _scores_labels(rng, 24, separation=1.5)
    cases = [Case((np.array([0.5, 0.5, 0.5, 0.5]), np.array([1, 0, 1, 0])), note="four equal scores"),
             Case((np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])), note="scikit-learn's example"),
             Case((np.array([3, 1, 2, 2, 5, 2, 4]), np.array([1, 0, 0, 1, 1, 1, 0])),
                  note="integer scores (ratings) with a tie of three"),
             Case((*_scores_labels(rng, 30, ties=True),), note="30 scores rounded to halves: many ties"),
             Case((1 / (1 + np.exp(-probabilities)), prob_labels), note="24 probabilities in (0, 1)"),
             Case((torch.from_numpy(np.array([0.2, 0.9, 0.9, 0.4, 0.6], dtype=np.float32)),
                   torch.tensor([False, True, False, False, True])), note="torch float32 scores, bool labels"),
             Case((np.array([2.0, 1.0]), np.array([0, 1])), note="the smallest: one positive, one negative, inverted")]
    for _ in range(2):
        n = int(rng.integers(5, 60))
        cases.append(Case(_scores_labels(rng, n, separation=float(rng.uniform(0, 2)), ties=bool(rng.integers(2))),
                          note=f"{n} random scores"))
    cases += [Case((np.array([0.1, 0.2, 0.3]), np.array([1, 1, 1])), raises=ValueError, note="positives only"),
              Case((np.array([0.1, 0.2, 0.3]), np.array([0, 1])), raises=ValueError, note="3 scores, 2 labels"),
              Case((np.array([0.1, np.nan, 0.3]), np.array([0, 1, 1])), raises=ValueError, note="a NaN score"),
              Case((np.array([0.1, 0.2, 0.3]), np.array([0, 1, 2])), raises=ValueError, note="a label 2")]
    return cases


# The known-wrong solutions run inside the grading box, which holds no ``course``: what they share with
# the reference is written here (the same checks and messages' meaning, not its code).
_MAX_REDRAWS = 1000


def _as_numpy(x):  # noqa: ANN001, ANN202
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x).ravel()


def _check(scores, labels):  # noqa: ANN001, ANN202
    s, y = _as_numpy(scores), _as_numpy(labels)
    if s.shape != y.shape or not (np.issubdtype(s.dtype, np.number) or s.dtype == bool):
        raise ValueError("scores and labels must be real, one per case")
    s = s.astype(np.float64)
    if not np.isfinite(s).all() or not np.isin(y, [0, 1]).all():
        raise ValueError("scores must be finite and labels 0/1")
    y = y.astype(np.int64)
    if y.min() == y.max():
        raise ValueError("AUROC needs both classes")
    return s, y


def _pairwise_auroc(scores, labels) -> float:  # noqa: ANN001
    """P(score of a positive > score of a negative) + half the ties, over all pairs."""
    s, y = _check(scores, labels)
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


def _roc_checked(scores, labels):  # noqa: ANN001, ANN202
    return _check(scores, labels)


def _roc_points(s: np.ndarray, y: np.ndarray, *, merge: bool = True, strict: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts (fps, tps) and thresholds at every distinct score (or every case), highest first."""
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1] if merge else np.arange(s.size)
    if strict:  # positive when score > threshold: the cases above the tie only
        first = np.r_[0, np.flatnonzero(np.diff(s) != 0) + 1]
        tps, fps = np.r_[0, np.cumsum(y)][first].astype(np.float64), first - np.r_[0, np.cumsum(y)][first]
        return fps.astype(np.float64), tps, s[last]
    tps = np.cumsum(y)[last].astype(np.float64)
    return (last + 1) - tps, tps, s[last]


def _roc_no_tie_merge(scores, labels):  # noqa: ANN001, ANN202
    s, y = _roc_checked(scores, labels)
    fps, tps, thr = _roc_points(s, y, merge=False)
    return np.r_[0.0, fps] / fps[-1], np.r_[0.0, tps] / tps[-1], np.r_[np.inf, thr]


def _roc_no_origin(scores, labels):  # noqa: ANN001, ANN202
    s, y = _roc_checked(scores, labels)
    fps, tps, thr = _roc_points(s, y)
    return fps / fps[-1], tps / tps[-1], thr


def _roc_strict(scores, labels):  # noqa: ANN001, ANN202
    s, y = _roc_checked(scores, labels)
    fps, tps, thr = _roc_points(s, y, strict=True)
    n_pos, n_neg = float(y.sum()), float(y.size - y.sum())
    return np.r_[0.0, fps] / n_neg, np.r_[0.0, tps] / n_pos, np.r_[np.inf, thr]


def _roc_counts(scores, labels):  # noqa: ANN001, ANN202
    s, y = _roc_checked(scores, labels)
    fps, tps, thr = _roc_points(s, y)
    return np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thr]


def _roc_swapped(scores, labels):  # noqa: ANN001, ANN202
    s, y = _roc_checked(scores, labels)
    fps, tps, thr = _roc_points(s, y)
    return np.r_[0.0, tps] / tps[-1], np.r_[0.0, fps] / fps[-1], np.r_[np.inf, thr]


def _pairs(scores, labels):  # noqa: ANN001, ANN202
    s, y = _roc_checked(scores, labels)
    return s[y == 1][:, None], s[y == 0][None, :]


def _auroc_ties_zero(scores, labels):  # noqa: ANN001, ANN202
    pos, neg = _pairs(scores, labels)
    return float((pos > neg).mean())


def _auroc_ties_one(scores, labels):  # noqa: ANN001, ANN202
    pos, neg = _pairs(scores, labels)
    return float((pos >= neg).mean())


def _auroc_ordinal_ranks(scores, labels):  # noqa: ANN001, ANN202
    s, y = _roc_checked(scores, labels)
    ranks = np.empty(s.size)
    ranks[np.argsort(s, kind="mergesort")] = np.arange(1, s.size + 1)
    n_pos = int(y.sum())
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (y.size - n_pos)))


def _auroc_accuracy(scores, labels):  # noqa: ANN001, ANN202
    s, y = _roc_checked(scores, labels)
    return float(((s >= 0.5) == (y == 1)).mean())


def _auroc_inverted(scores, labels):  # noqa: ANN001, ANN202
    return 1.0 - _pairwise_auroc(scores, labels)


def _auroc_unsorted_trapezoid(scores, labels):  # noqa: ANN001, ANN202
    _, y = _roc_checked(scores, labels)
    tpr = np.r_[0.0, np.cumsum(y)] / y.sum()
    fpr = np.r_[0.0, np.cumsum(1 - y)] / (y.size - y.sum())
    return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))


# --- paired_auroc_bootstrap -----------------------------------------------------------------------------------------
def _two_models(rng: np.random.Generator, n: int, sep_a: float, sep_b: float, positives: int | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores of two models on the same n cases (sharing a per-case difficulty) and their labels."""
    positives = n // 2 if positives is None else positives
    labels = rng.permutation(np.arange(n) < positives).astype(np.int64)
    shared = rng.normal(size=n)
    a = shared + rng.normal(size=n) + sep_a * labels
    b = shared + rng.normal(size=n) + sep_b * labels
    return a, b, labels


def _boot_cases(rng: np.random.Generator) -> list[Case]:
    def kw(**extra):  # noqa: ANN003, ANN202
        return {"num_resamples": int(rng.integers(150, 300)), "seed": int(rng.integers(1000)), **extra}

    a, b, y = _two_models(rng, 40, 2.0, 0.3)
    na, nb, ny = _two_models(rng, 60, 0.2, 2.5)
    small_a, small_b, small_y = _two_models(rng, 8, 1.0, 0.5, positives=2)
    ga, gb, gy = _two_models(rng, 36, 1.2, 0.8)
    groups = np.repeat(np.arange(3), 12)
    ia, ib, iy = _two_models(rng, 30, 1.0, 1.0)
    cases = [Case((a, b, y), kw(), note="40 cases, A clearly better"),
             Case((na, nb, ny), kw(), note="60 cases, B clearly better: the interval lies below 0"),
             Case((small_a, small_b, small_y), kw(), note="8 cases, 2 positives: many one-class resamples, redrawn"),
             Case((ga, gb, gy), kw(groups=groups), note="3 groups (seeds) of 12 rows: groups first, then rows"),
             Case((ga, gb, gy), kw(groups=groups[::-1].copy() * 10), note="the same rows, groups numbered 20, 10, 0"),
             Case((np.round(ia), np.round(ib), iy), kw(level=0.9), note="rounded scores (ties), level 0.9"),
             Case((torch.from_numpy(a[:20]), torch.from_numpy(b[:20]), torch.from_numpy(y[:20] == 1)), kw(),
                  note="torch tensors, bool labels"),
             Case((np.array([0.3, 0.7]), np.array([0.3, 0.7]), np.array([0, 1])), {"num_resamples": 5, "seed": 1},
                  note="the smallest: 2 cases, 5 resamples, the same scores (difference 0)")]
    cases += [Case((a, b, y), {"level": 1.0}, raises=ValueError, note="level 1"),
              Case((a, b, y), {"num_resamples": 0}, raises=ValueError, note="0 resamples"),
              Case((a, b, y), {"groups": np.zeros(40)}, raises=ValueError, note="groups with one group"),
              Case((a, b[:30], y), raises=ValueError, note="40 scores for A, 30 for B"),
              Case((a, b, np.zeros(40, dtype=np.int64)), raises=ValueError, note="negatives only")]
    return cases


def _boot(scores_a, scores_b, labels, *, num_resamples=2000, level=0.95, seed=0, groups=None,  # noqa: ANN001, ANN202
          unpaired=False, skip=False, one_sided=False, percentile=False, use_groups=True, mean_diff=False,
          positive_only=False):
    """The bootstrap written plainly (one AUROC per resample), with one of the known mistakes switched on."""
    auroc = _pairwise_auroc
    s_a, y = _check(scores_a, labels)
    s_b, _ = _check(scores_b, labels)
    if not 0 < level < 1 or num_resamples < 1:
        raise ValueError("bad level or num_resamples")
    members = [np.arange(y.size)]
    if groups is not None:
        g = _as_numpy(groups)
        if g.shape != y.shape:
            raise ValueError("groups")
        members = [np.flatnonzero(g == v) for v in np.unique(g)]
        if len(members) < 2:
            raise ValueError("one group")
        if not use_groups:
            members = [np.arange(y.size)]
    rng = np.random.default_rng(seed)

    def draw(redraw: bool = True) -> np.ndarray | None:
        for _ in range(_MAX_REDRAWS if redraw else 1):
            if len(members) == 1:
                idx = rng.integers(0, y.size, size=y.size)
            else:
                drawn = rng.integers(0, len(members), size=len(members))
                idx = np.concatenate([members[k][rng.integers(0, members[k].size, size=members[k].size)]
                                      for k in drawn])
            if 0 < y[idx].sum() < idx.size:
                return idx
        if redraw:
            raise ValueError("one class")
        return None

    diffs = []
    for _ in range(num_resamples):
        if unpaired:
            idx_a, idx_b = draw(), draw()
        else:
            idx_a = idx_b = draw(redraw=not skip)
            if idx_a is None:
                continue
        diffs.append(auroc(s_a[idx_a], y[idx_a]) - auroc(s_b[idx_b], y[idx_b]))
    diffs = np.asarray(diffs)
    alpha = (1 - level) if one_sided else (1 - level) / 2
    lo, hi = np.percentile(diffs, [alpha, 1 - alpha]) if percentile else np.quantile(diffs, [alpha, 1 - alpha])
    auroc_a, auroc_b = auroc(s_a, y), auroc(s_b, y)
    diff = float(diffs.mean()) if mean_diff else auroc_a - auroc_b
    resolved = bool(lo > 0) if positive_only else bool(lo > 0 or hi < 0)
    return {"diff": diff, "lower": float(lo), "upper": float(hi), "auroc_a": auroc_a, "auroc_b": auroc_b,
            "resolved": resolved}


EXERCISES = [
    _ex("adapt_input_channels", "course.nn.adapt", _adapt_cases, [
        Misconception("mean_for_sum", "mode 'sum' SUMS the three RGB kernels (weight.sum(dim=1, keepdim=True)): a grey "
                      "volume then gives the response the RGB network gave to (x, x, x); the mean gives a third of it",
                      _adapt_mean_for_sum),
        Misconception("first_always", "follow the mode: 'sum' adds the three RGB kernels, 'mean' averages them; only "
                      "'first' keeps the red kernel", _adapt_first_always),
        Misconception("no_divide", "with in_channels > 1 the one combined kernel is repeated over the channels AND "
                      "divided by in_channels, so a volume repeated over the channels keeps the same response",
                      _adapt_no_divide),
        Misconception("identity_for_three", "in_channels = 3 is not 'nothing to do': the combined kernel is repeated "
                      "and divided by 3, as for every other channel count", _adapt_identity_for_three),
        Misconception("timm_cyclic", "that is timm's adapt_input_conv (R, G, B repeated cyclically, times 3 / "
                      "in_channels); this exercise spreads ONE combined kernel evenly: kernel.repeat(...) / "
                      "in_channels", _adapt_timm_cyclic),
    ]),
    _ex("resample_depth", "course.transfer", _depth_cases, [
        Misconception("align_corners", "use slice centres (align_corners=False): output slice t samples depth "
                      "(t + 0.5) * D / T - 0.5; align_corners=True pins the first and last slices instead",
                      _depth_align_corners),
        Misconception("nearest", "mix the two nearest slices linearly (weight z - floor(z)); nearest-neighbour copies "
                      "one slice", _depth_nearest),
        Misconception("no_clamp", "clamp the sampled depth to [0, D - 1]: when upsampling, the first output slices "
                      "sample below 0, and index floor(z) = -1 is the LAST slice in Python", _depth_no_clamp),
        Misconception("no_half_pixel", "output slice t samples depth (t + 0.5) * D / T - 0.5 (slice centres), not "
                      "t * D / T: that shifts every frame towards the top", _depth_no_half_pixel),
        Misconception("all_axes", "resample the depth axis only: H and W stay as they are "
                      "(size=(T, H, W), not a scale factor on every axis)", _depth_all_axes),
    ], forbidden_ops=RESAMPLING_OPS),
    _ex("ct_to_clip", "course.transfer", _clip_cases, [
        Misconception("half_width", "the window is center ± width / 2 (100 ± 350 HU: -250 to 450 for the PE window), "
                      "not center ± width", _clip_half_width),
        Misconception("no_clip", "clip the HU to [center - width/2, center + width/2] before rescaling: the clip must "
                      "lie in [0, 1]", _clip_no_clip),
        Misconception("minmax", "use the window (center, width), not the volume's own minimum and maximum: one HU "
                      "must give one grey level in every volume", _clip_minmax),
        Misconception("resample_first", "window first, then resample the depth: clipping is not linear, so "
                      "interpolating HU and clipping afterwards gives other values next to the window's edges",
                      _clip_resample_first),
        Misconception("nearest", "resample the depth linearly (resample_depth), not by nearest neighbour",
                      _clip_nearest),
        Misconception("align_corners", "resample with slice centres (resample_depth, align_corners=False), not "
                      "align_corners=True", _clip_align_corners),
        Misconception("no_channel", "return one channel in front: (1, T, H, W), the layout a clip reaches Conv3d in",
                      _clip_no_channel),
    ], forbidden_ops=RESAMPLING_OPS),
    _ex("roc_curve", "course.roc", _roc_common_cases, [
        Misconception("no_tie_merge", "cases with EQUAL scores share one threshold: keep only the last case of each "
                      "run of equal scores (np.diff(sorted_scores) != 0), so the curve crosses a tie diagonally",
                      _roc_no_tie_merge),
        Misconception("no_origin", "start the curve at (0, 0) with threshold inf (nothing called positive)",
                      _roc_no_origin),
        Misconception("strict", "a case is positive when its score is >= the threshold; with > the whole tie at the "
                      "threshold is left out", _roc_strict),
        Misconception("counts", "divide the counts by the number of negatives (fpr) and positives (tpr): rates in "
                      "[0, 1]", _roc_counts),
        Misconception("swapped", "return (fpr, tpr, thresholds): false-positive rate first", _roc_swapped),
    ]),
    _ex("auroc", "course.roc", _roc_common_cases, [
        Misconception("ties_zero", "a tied (positive, negative) pair counts ONE HALF (mid-ranks), not 0",
                      _auroc_ties_zero),
        Misconception("ties_one", "a tied (positive, negative) pair counts ONE HALF (mid-ranks), not 1",
                      _auroc_ties_one),
        Misconception("ordinal_ranks", "give every run of tied scores the MEAN of its ranks; ranks 1..n in sorted "
                      "order split a tie by the cases' order", _auroc_ordinal_ranks),
        Misconception("accuracy", "the AUROC is a ranking measure over all thresholds, not the accuracy at "
                      "threshold 0.5", _auroc_accuracy),
        Misconception("inverted", "U is the rank sum of the POSITIVES minus n_pos (n_pos + 1) / 2: higher scores "
                      "for positives give an AUROC near 1", _auroc_inverted),
        Misconception("unsorted_trapezoid", "sort the cases by score (highest first) before accumulating the "
                      "true- and false-positive counts", _auroc_unsorted_trapezoid),
    ], rtol=1e-9, atol=1e-12),
    _ex("paired_auroc_bootstrap", "course.roc", _boot_cases, [
        Misconception("unpaired", "PAIRED: score both models on the same resampled rows in each resample (one draw "
                      "per resample), so the case mix that helps or hurts both cancels", partial(_boot, unpaired=True)),
        Misconception("skip_one_class", "redraw a resample that holds one class (the next numbers of the same "
                      "generator) until it holds both; skipping it leaves fewer resamples",
                      partial(_boot, skip=True)),
        Misconception("one_sided", "a 95 % interval cuts 2.5 % at each end: np.quantile(diffs, [(1 - level) / 2, "
                      "(1 + level) / 2])", partial(_boot, one_sided=True)),
        Misconception("percentile", "np.quantile takes fractions (0.025); np.percentile takes percents (2.5)",
                      partial(_boot, percentile=True)),
        Misconception("groups_ignored", "with groups, draw the groups first (rng.integers(0, G, size=G)), then the "
                      "rows within each drawn group", partial(_boot, use_groups=False)),
        Misconception("mean_diff", "diff is AUROC_a - AUROC_b on all rows, not the mean of the resampled "
                      "differences", partial(_boot, mean_diff=True)),
        Misconception("positive_only", "resolved means the interval excludes 0 on EITHER side (lower > 0 or "
                      "upper < 0): B may be the better model", partial(_boot, positive_only=True)),
    ], rtol=1e-7, atol=1e-9, timeout=20.0),
]
