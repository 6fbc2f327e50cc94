"""Lesson 12's checks probe the edges: mutants that refuse a minimum legal value or loosen a validation fail.

Each mutant is the reference with one change of the kind that survives weak checks: a refused legal
extreme (α = 1, α = T, a one-frame clip, k = 1, budget = T), a validation turned off (T not a multiple
of α, an even or non-temporal kernel), or a type check that lets a float or a bool through. Both the
public cases (``check`` in the notebook) and the hidden cases (official grading) must reject every one.
"""
import math

import torch
import torch.nn.functional as F

from course.data import long_clips
from course.nn import s3d, slowfast
from support import edge_mutant_test, refuse


def _alpha_of(args, kwargs):
    return args[1] if len(args) > 1 else kwargs.get("alpha")


def _pathway_float_alpha(clip, alpha):  # `int(alpha)`: 2.0 and True pass
    if clip.dim() != 5 or alpha < 1 or alpha > clip.shape[2]:
        raise ValueError("bad input")
    return slowfast.pathway_frames(clip, int(alpha))


def _pathway_alpha_above_t(clip, alpha):  # α > T gives an empty slow pathway instead of an error
    if clip.dim() != 5 or isinstance(alpha, bool) or not isinstance(alpha, int) or alpha < 1:
        raise ValueError("bad input")
    T = clip.shape[2]
    return clip.index_select(2, torch.linspace(0, T - 1, T // alpha).long()), clip


def _t2c_truncates(fast, alpha):  # T not a multiple of α: the extra frames are dropped
    if fast.dim() != 5 or isinstance(alpha, bool) or not isinstance(alpha, int) or alpha < 1:
        raise ValueError("bad input")
    T = fast.shape[2]
    return slowfast.time_to_channel(fast[:, :, :T - T % alpha], alpha)


def _t2c_float_alpha(fast, alpha):
    if isinstance(alpha, float) and alpha.is_integer():
        alpha = int(alpha)
    return slowfast.time_to_channel(fast, int(alpha))


def _sample_any_t(fast, alpha):  # T not a multiple of α: ceil(T / α) frames
    if fast.dim() != 5 or isinstance(alpha, bool) or not isinstance(alpha, int) or alpha < 1:
        raise ValueError("bad input")
    return fast[:, :, ::alpha]


def _sample_float_alpha(fast, alpha):
    return slowfast.time_strided_sample(fast, int(alpha))


def _conv_even_kernel(fast, weight, alpha):  # even k passes (and shifts the steps by half a frame)
    if fast.dim() != 5 or weight.shape[1] != fast.shape[1] or weight.shape[3:] != (1, 1) or fast.shape[2] % alpha:
        raise ValueError("bad input")
    return F.conv3d(fast, weight, stride=(int(alpha), 1, 1), padding=(weight.shape[2] // 2, 0, 0))


def _conv_spatial_kernel(fast, weight, alpha):  # a k×3×3 kernel passes, padded in space
    if fast.dim() != 5 or weight.shape[1] != fast.shape[1] or weight.shape[2] % 2 == 0 or fast.shape[2] % alpha:
        raise ValueError("bad input")
    return F.conv3d(fast, weight, stride=(alpha, 1, 1), padding=tuple(k // 2 for k in weight.shape[2:]))


def _conv_any_t(fast, weight, alpha):  # T not a multiple of α: ceil(T / α) steps
    if fast.dim() != 5 or weight.dim() != 5 or weight.shape[1] != fast.shape[1] or weight.shape[3:] != (1, 1) \
            or weight.shape[2] % 2 == 0 or isinstance(alpha, bool) or not isinstance(alpha, int) or alpha < 1:
        raise ValueError("bad input")
    return F.conv3d(fast, weight, stride=(alpha, 1, 1), padding=(weight.shape[2] // 2, 0, 0))


def _sep_any_spatial_weight(x, spatial_weight, temporal_weight):  # a k×k×k "spatial" weight passes
    if x.dim() != 5 or temporal_weight.shape[1] != spatial_weight.shape[0]:
        raise ValueError("bad input")
    k, kt = spatial_weight.shape[3], temporal_weight.shape[2]
    y = F.relu(F.conv3d(x, spatial_weight, padding=(spatial_weight.shape[2] // 2, k // 2, k // 2)))
    return F.conv3d(y, temporal_weight, padding=(kt // 2, 0, 0))


def _sep_unbatched(x, spatial_weight, temporal_weight):  # a 4-D input gets a batch axis
    return s3d.separable_conv3d(x[None] if x.dim() == 4 else x, spatial_weight, temporal_weight)


def _ltc_float(budget, num_frames):  # `int(...)`: 100.0 and True pass
    if num_frames < 1 or budget < num_frames:
        raise ValueError("too small")
    return math.isqrt(int(budget) // int(num_frames))


T_IS_1 = lambda x, *a, **k: x.shape[2] == 1  # noqa: E731 - a one-frame clip (N, C, 1, H, W)
CASES = [
    ("pathway_frames", "refuses α = 1", refuse(lambda c, a: a == 1, slowfast.pathway_frames)),
    ("pathway_frames", "refuses α = T", refuse(lambda c, a: a == c.shape[2], slowfast.pathway_frames)),
    ("pathway_frames", "refuses a one-frame clip", refuse(T_IS_1, slowfast.pathway_frames)),
    ("pathway_frames", "accepts a float or bool α", _pathway_float_alpha),
    ("pathway_frames", "accepts α > T", _pathway_alpha_above_t),
    ("time_to_channel", "refuses α = 1", refuse(lambda f, a: a == 1, slowfast.time_to_channel)),
    ("time_to_channel", "refuses α = T", refuse(lambda f, a: a == f.shape[2], slowfast.time_to_channel)),
    ("time_to_channel", "drops frames when T is not a multiple of α", _t2c_truncates),
    ("time_to_channel", "accepts a float or bool α", _t2c_float_alpha),
    ("time_strided_sample", "refuses α = 1", refuse(lambda f, a: a == 1, slowfast.time_strided_sample)),
    ("time_strided_sample", "refuses α = T", refuse(lambda f, a: a == f.shape[2], slowfast.time_strided_sample)),
    ("time_strided_sample", "accepts T not a multiple of α", _sample_any_t),
    ("time_strided_sample", "accepts a float or bool α", _sample_float_alpha),
    ("time_strided_conv", "refuses k = 1", refuse(lambda f, w, a: w.shape[2] == 1, slowfast.time_strided_conv)),
    ("time_strided_conv", "refuses α = 1", refuse(lambda f, w, a: a == 1, slowfast.time_strided_conv)),
    ("time_strided_conv", "refuses one output step (α = T)", refuse(lambda f, w, a: a == f.shape[2],
                                                                     slowfast.time_strided_conv)),
    ("time_strided_conv", "accepts an even k", _conv_even_kernel),
    ("time_strided_conv", "accepts a kernel with a spatial extent", _conv_spatial_kernel),
    ("time_strided_conv", "accepts T not a multiple of α", _conv_any_t),
    ("separable_conv3d", "refuses T = 1", refuse(T_IS_1, s3d.separable_conv3d)),
    ("separable_conv3d", "refuses 1×1 kernels", refuse(lambda x, ws, wt: ws.shape[-1] == 1, s3d.separable_conv3d)),
    ("separable_conv3d", "accepts a k×k×k spatial weight", _sep_any_spatial_weight),
    ("separable_conv3d", "accepts a clip without the batch axis", _sep_unbatched),
    ("ltc_frame_size", "refuses budget = T", refuse(lambda b, t: b == t, long_clips.ltc_frame_size)),
    ("ltc_frame_size", "refuses T = 1", refuse(lambda b, t: t == 1, long_clips.ltc_frame_size)),
    ("ltc_frame_size", "accepts a float or bool", _ltc_float),
]


test_edge_mutant_is_rejected = edge_mutant_test(CASES)
