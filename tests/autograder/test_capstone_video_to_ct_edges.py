"""Lesson 15's checks probe the edges: mutants that refuse a minimum legal input or loosen a validation fail.

Each mutant is the reference with one change of the kind that survives weak checks: a refused minimal
input (a 1×1×1 kernel, a Conv2d weight, a volume of one slice, one output frame, int16 HU, two cases,
five resamples), or a validation turned off (a weight with other than 3 channels, an unknown mode,
in_channels 0, a volume without its batch and channel axes, an integer tensor, a 2D slice, one class,
a NaN score, a label 2, a level of 1, a single group). Both the public cases (``check`` in the
notebook) and the hidden cases (official grading) must reject every one. Mutants that raise where the
reference returns cannot carry a misconception hint (hints name wrong values), so this file is their
bank of known-wrong solutions.
"""
import numpy as np
import pytest
import torch

from course import roc, transfer
from course.nn import adapt
from support import edge_mutant_test, flatten_mutants, refuse


def _arg(i, name):
    """The argument at position i or keyword ``name`` of a call."""
    return lambda *args, **kwargs: args[i] if len(args) > i else kwargs.get(name)


_weight = _arg(0, "weight")
_volumes, _frames = _arg(0, "volumes"), _arg(1, "num_frames")
_hu = _arg(0, "hu")
_scores = _arg(0, "scores")


def _adapt_any_weight(weight, in_channels=1, *, mode="sum"):  # any channel count, unknown modes, in_channels 0
    w = weight.detach()
    kernel = w.sum(1, keepdim=True) if mode == "sum" else w.mean(1, keepdim=True) if mode == "mean" else w[:, :1].clone()
    return kernel.repeat(1, in_channels, *([1] * (w.dim() - 2))) / max(in_channels, 1)


def _depth_any_input(volumes, num_frames):  # (D, H, W) volumes, integer tensors and num_frames 0 accepted
    v = volumes.float() if not volumes.is_floating_point() else volumes
    while v.ndim < 5:
        v = v[None]
    return transfer.resample_depth(v, max(int(num_frames), 1))


def _clip_any_shape(hu, num_frames, *, window=transfer.PE_WINDOW):  # a 2D slice or a 4D block taken as a volume
    x = np.asarray(hu.detach().cpu() if isinstance(hu, torch.Tensor) else hu, dtype=np.float32)
    x = x.reshape((-1,) + x.shape[-2:]) if x.ndim >= 2 else x
    return transfer.ct_to_clip(x, num_frames, window=window)


def _labels01(scores, labels):
    s = np.asarray(scores.detach() if isinstance(scores, torch.Tensor) else scores, dtype=np.float64).ravel()
    y = (np.asarray(labels.detach() if isinstance(labels, torch.Tensor) else labels).ravel() > 0).astype(np.int64)
    n = min(s.size, y.size)
    return np.nan_to_num(s[:n]), y[:n]


def _roc_any_input(scores, labels):  # one class, NaN scores, labels > 1 and lengths that differ accepted
    s, y = _labels01(scores, labels)
    if y.min() == y.max():
        return np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([np.inf, s.min()])
    return roc.roc_curve(s, y)


def _auroc_any_input(scores, labels):  # the same, with 0.5 for one class
    s, y = _labels01(scores, labels)
    return 0.5 if y.min() == y.max() else roc.auroc(s, y)


def _boot_any_options(scores_a, scores_b, labels, *, num_resamples=2000, level=0.95, seed=0, groups=None):
    """level clamped into (0, 1), at least one resample, a single group ignored, scores cut to one length."""
    a = np.asarray(scores_a.detach() if isinstance(scores_a, torch.Tensor) else scores_a).ravel()
    b = np.asarray(scores_b.detach() if isinstance(scores_b, torch.Tensor) else scores_b).ravel()
    y = np.asarray(labels.detach() if isinstance(labels, torch.Tensor) else labels).ravel()
    n = min(a.size, b.size, y.size)
    if groups is not None and np.unique(np.asarray(groups)).size < 2:
        groups = None
    if y[:n].min() == y[:n].max():
        return {"diff": 0.0, "lower": 0.0, "upper": 0.0, "auroc_a": 0.5, "auroc_b": 0.5, "resolved": False}
    return roc.paired_auroc_bootstrap(a[:n], b[:n], y[:n], num_resamples=max(int(num_resamples), 1),
                                      level=min(max(level, 0.01), 0.99), seed=seed, groups=groups)


MUTANTS = {
    "adapt_input_channels": {
        "refuses a 1×1×1 kernel": refuse(lambda *a, **k: _weight(*a, **k)[0, 0].numel() == 1, adapt.adapt_input_channels),
        "refuses a Conv2d weight": refuse(lambda *a, **k: _weight(*a, **k).dim() == 4, adapt.adapt_input_channels),
        "accepts any channel count, an unknown mode and in_channels 0": _adapt_any_weight,
    },
    "resample_depth": {
        "refuses a volume of one slice": refuse(lambda *a, **k: _volumes(*a, **k).shape[2] == 1, transfer.resample_depth),
        "refuses num_frames 1": refuse(lambda *a, **k: _frames(*a, **k) == 1, transfer.resample_depth),
        "accepts (D, H, W) volumes, integer tensors and num_frames 0": _depth_any_input,
    },
    "ct_to_clip": {
        "refuses a volume of one slice": refuse(lambda *a, **k: np.shape(_hu(*a, **k))[0] == 1, transfer.ct_to_clip),
        "refuses integer HU": refuse(lambda *a, **k: np.asarray(_hu(*a, **k)).dtype.kind in "iu", transfer.ct_to_clip),
        "accepts a 2D slice and a 4D block": _clip_any_shape,
    },
    "roc_curve": {
        "refuses two cases": refuse(lambda *a, **k: np.size(_scores(*a, **k)) == 2, roc.roc_curve),
        "accepts one class, NaN scores, labels > 1 and lengths that differ": _roc_any_input,
    },
    "auroc": {
        "refuses two cases": refuse(lambda *a, **k: np.size(_scores(*a, **k)) == 2, roc.auroc),
        "accepts one class, NaN scores, labels > 1 and lengths that differ": _auroc_any_input,
    },
    "paired_auroc_bootstrap": {
        "refuses two cases": refuse(lambda *a, **k: np.size(a[0]) == 2, roc.paired_auroc_bootstrap),
        "refuses fewer than 10 resamples": refuse(lambda *a, **k: k.get("num_resamples", 2000) < 10,
                                                  roc.paired_auroc_bootstrap),
        "accepts level 1, 0 resamples, one group, lengths that differ and one class": _boot_any_options,
    },
}

test_edge_mutants_are_rejected = edge_mutant_test(flatten_mutants(MUTANTS))


@pytest.mark.parametrize("name", ["resample_depth", "ct_to_clip"])
def test_torch_resampling_is_rejected_in_the_depth_exercises(name: str) -> None:
    """F.interpolate gives the right numbers; the exercise asks for the two-slice mix written out."""
    import numpy as np
    import torch.nn.functional as F

    from autograder.student.check import evaluate
    from autograder.exercises import find_exercise

    ex = find_exercise(name)

    def by_torch_depth(volumes, num_frames):  # noqa: ANN001, ANN202
        if volumes.ndim != 5 or not volumes.is_floating_point() or num_frames < 1:
            raise ValueError("bad input")
        return F.interpolate(volumes, size=(num_frames, *volumes.shape[3:]), mode="trilinear", align_corners=False)

    def by_torch_clip(hu, num_frames, *, window=(100.0, 700.0)):  # noqa: ANN001, ANN202
        hu = np.asarray(hu.detach().cpu() if isinstance(hu, torch.Tensor) else hu, dtype=np.float32)
        if hu.ndim != 3:
            raise ValueError("hu must be (D, H, W)")
        low = window[0] - window[1] / 2
        x = torch.from_numpy(np.clip((hu - low) / window[1], 0, 1).astype(np.float32))[None, None]
        return by_torch_depth(x, num_frames)[0]

    verdict = evaluate(ex, by_torch_depth if name == "resample_depth" else by_torch_clip, ex.cases())
    assert not verdict.ok and "upsample_trilinear3d" in verdict.reason
