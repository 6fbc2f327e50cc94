"""Lessons 01-04's checks probe the edges: mutants that refuse a minimum legal value or loosen a validation fail.

Each mutant is the reference with one change of the kind that survived an earlier round of mutation
grading: a refused minimum legal value (``stride <= 1``, ``num_frames < 2`` so that T = 1 is refused,
a kernel as large as the input), a validation turned off, or ``or`` turned into ``and`` in a type
check. Both the public cases (``check`` in the notebook) and the hidden cases (official grading)
must reject every one. (Mutants that raise where the reference returns cannot carry a misconception
hint, which only names wrong *values*; this file is their bank of known-wrong solutions.)
"""
import math
import numbers

import torch

from course import counting
from course.data.moving_digits import shift_frame as _ref_shift_frame
from course.nn import conv3d as conv
from course.nn import factorized, fusion
from course.video import layout, sampling
from support import edge_mutant_test, flatten_mutants, refuse


def _ints(*values) -> bool:
    return all(isinstance(v, numbers.Integral) for v in values)


# --- 01_video_tensors ------------------------------------------------------------------------------
def _layout_any_rank(x):
    if x.dim() < 4:  # a 6-D tensor is no longer refused
        raise ValueError("bad rank")
    return x.transpose(-4, -3)


def _numel_or_to_and(num_frames, height, width, channels=3, batch=1):
    for value in (num_frames, height, width, channels, batch):
        if not isinstance(value, numbers.Integral) and value < 1:  # `or` → `and`: 0 and 2.5 pass
            raise ValueError("bad size")
    return batch * num_frames * channels * height * width


def _stride_or_to_and(total_frames, num_frames, stride, start=0):
    for value, minimum in [(total_frames, 1), (num_frames, 1), (stride, 1), (start, 0)]:
        if not isinstance(value, numbers.Integral) and value < minimum:
            raise ValueError("bad size")
    if start + stride * (num_frames - 1) >= total_frames:
        raise ValueError("past the end")
    return start + stride * torch.arange(num_frames, dtype=torch.int64)


def _even_or_to_and(total_frames, num_frames):
    if not _ints(total_frames) and total_frames < 1 or not _ints(num_frames) and num_frames < 1:
        raise ValueError("bad size")
    i = torch.arange(int(num_frames), dtype=torch.int64)
    return ((2 * i + 1) * total_frames) // (2 * num_frames)


def _crop_or_to_and(total_frames, num_frames, stride, u):
    for value in (total_frames, num_frames, stride):
        if not isinstance(value, numbers.Integral) and value < 1:
            raise ValueError("bad size")
    if not 0.0 <= u < 1.0:
        raise ValueError("bad u")
    span = (num_frames - 1) * stride + 1
    if span > total_frames:
        raise ValueError("too long")
    return math.floor(u * (total_frames - span + 1)) + stride * torch.arange(num_frames, dtype=torch.int64)


def _multi_or_to_and(total_frames, num_clips, num_frames, stride=1):
    for value in (total_frames, num_clips, num_frames, stride):
        if not isinstance(value, numbers.Integral) and value < 1:
            raise ValueError("bad size")
    return sampling.multi_clip_indices(int(total_frames), int(num_clips), int(num_frames), int(stride))


# --- 02_conv3d -------------------------------------------------------------------------------------
def _triple(v):
    return (v,) * 3 if isinstance(v, numbers.Integral) else tuple(v)


def _size_or_to_and(size, kernel_size, stride=1, padding=0, dilation=1):
    limits = {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}
    triples = []
    for name, value in zip(limits, (size, kernel_size, stride, padding, dilation)):
        t = _triple(value)
        if len(t) != 3 and not all(isinstance(v, numbers.Integral) and v >= limits[name] for v in t):
            raise ValueError("bad argument")
        triples.append(t)
    return tuple(int((n + 2 * p - d * (k - 1) - 1) // s + 1) for n, k, s, p, d in zip(*triples))


def _size_refuses_exact_fit(size, kernel_size, stride=1, padding=0, dilation=1):
    out = conv.conv3d_output_size(size, kernel_size, stride, padding, dilation)
    for n, k, p, d in zip(_triple(size), _triple(kernel_size), _triple(padding), _triple(dilation)):
        if n + 2 * p <= d * (k - 1) + 1:  # `<` → `<=`: a kernel exactly as long as the input is refused
            raise ValueError("does not fit")
    return out


def _field_or_to_and(kernel_sizes, strides=1, dilations=1):
    n = len(kernel_sizes)
    strides = [strides] * n if isinstance(strides, numbers.Integral) else list(strides)
    dilations = [dilations] * n if isinstance(dilations, numbers.Integral) else list(dilations)
    if n == 0 or len(strides) != n or len(dilations) != n:
        raise ValueError("lengths")
    for values in (kernel_sizes, strides, dilations):
        if not all(isinstance(v, numbers.Integral) and v >= 1 or v >= 1 for v in values):  # a float >= 1 passes
            raise ValueError("bad value")
    field, step = 1, 1
    for k, s, d in zip(kernel_sizes, strides, dilations):
        field += d * (k - 1) * step
        step *= s
    return field


def _params_or_to_and(in_channels, out_channels, kernel_size, bias=True, groups=1):
    kernel = _triple(kernel_size)
    for value in (in_channels, out_channels, groups, *kernel):
        if not isinstance(value, numbers.Integral) and value < 1:
            raise ValueError("bad size")
    if len(kernel) == 0 or in_channels % groups or out_channels % groups:
        raise ValueError("groups")
    return out_channels * (in_channels // groups) * math.prod(kernel) + (out_channels if bias else 0)


def _params_no_axes_check(in_channels, out_channels, kernel_size, bias=True, groups=1):
    if kernel_size == ():  # a kernel without axes counts as one tap
        return out_channels * (in_channels // groups) + (out_channels if bias else 0)
    return counting.conv_params(in_channels, out_channels, kernel_size, bias, groups)


def _flops_or_to_and(in_channels, out_channels, kernel_size, output_size, groups=1):
    kernel, output = _triple(kernel_size), _triple(output_size)
    if len(kernel) != 3 or len(output) != 3:
        raise ValueError("three sizes")
    for value in (in_channels, out_channels, groups, *kernel, *output):
        if not isinstance(value, numbers.Integral) and value < 1:
            raise ValueError("bad size")
    if in_channels % groups or out_channels % groups:
        raise ValueError("groups")
    return int(2 * (in_channels // groups) * math.prod(kernel) * out_channels * math.prod(output))


# --- 03_fusion_baselines -----------------------------------------------------------------------------
def _shift_negative_direction(frame, direction, pixels):
    if frame.dim() < 2 or direction > 3:  # direction -1 is no longer refused (it indexes "right")
        raise ValueError("bad input")
    row_step, col_step = ((-1, 0), (1, 0), (0, -1), (0, 1))[direction]
    return torch.roll(frame, shifts=(row_step * pixels, col_step * pixels), dims=(-2, -1))


def _fold_no_rank_check(clip):
    if clip.dim() < 5:
        raise ValueError("bad rank")
    return clip.transpose(1, 2).flatten(0, 1)


def _stack_no_rank_check(clip):
    if clip.dim() < 5:
        raise ValueError("bad rank")
    return clip.flatten(1, 2)


def _select_no_rank_check(clip, mode):
    if clip.dim() < 5:
        raise ValueError("bad rank")
    T = clip.shape[2]
    if mode not in ("middle", "first_last"):
        raise ValueError("mode")
    return clip[:, :, [T // 2] if mode == "middle" else [0, T - 1]]


def _pad_checks_h_only(x, pad):
    if x.dim() < 2 or not 0 <= pad <= x.shape[-2]:  # W is no longer checked
        raise ValueError("bad pad")
    H, W = x.shape[-2:]
    x = torch.cat([x[..., H - pad:, :], x, x[..., :pad, :]], dim=-2)
    return torch.cat([x[..., W - pad:], x, x[..., :pad]], dim=-1)


def _windows_no_minimum(num_frames, window, stride):
    if stride < 1 or window > num_frames:  # window 0 and num_frames 0 are no longer refused
        raise ValueError("bad size")
    k = (num_frames - window) // stride + 1
    return (torch.arange(k) * stride)[:, None] + torch.arange(window)[None, :]


# --- 04_factorized_conv ------------------------------------------------------------------------------
def _midplanes_or_to_and(in_channels, out_channels, t, d):
    for value in (in_channels, out_channels, t, d):
        if not isinstance(value, int) and value < 1:  # `or` → `and`: 64.0 and 0 pass
            raise ValueError("bad size")
    return (t * d * d * in_channels * out_channels) // (d * d * in_channels + t * out_channels)


def _midplanes_accepts_bool(in_channels, out_channels, t, d):
    for value in (in_channels, out_channels, t, d):
        if not isinstance(value, int) or value < 1:  # the bool exclusion is gone: True counts as 1
            raise ValueError("bad size")
    return (t * d * d * in_channels * out_channels) // (d * d * in_channels + t * out_channels)


def _c21_params_or_to_and(in_channels, out_channels, t, d, mid_channels, bias=False):
    for value in (in_channels, out_channels, t, d, mid_channels):
        if not isinstance(value, int) and value < 1:
            raise ValueError("bad size")
    return mid_channels * in_channels * d * d + out_channels * mid_channels * t + (mid_channels + out_channels) * bias


def _factorize_or_to_and(kernel_size, stride=1, padding=0):
    triples = []
    for value, minimum in [(kernel_size, 1), (stride, 1), (padding, 0)]:
        t = (value,) * 3 if isinstance(value, int) else tuple(value)
        if len(t) != 3 and not all(isinstance(v, int) and v >= minimum for v in t):
            raise ValueError("bad argument")
        triples.append(t[:3])
    (kt, kh, kw), (st, sh, sw), (pt, ph, pw) = triples
    return ((1, kh, kw), (1, sh, sw), (0, ph, pw)), ((kt, 1, 1), (st, 1, 1), (pt, 0, 0))


def _forward_no_temporal_shape_check(x, spatial_weight, temporal_weight, stride=1, padding=0):
    if temporal_weight.dim() == 5 and tuple(temporal_weight.shape[3:]) != (1, 1):  # the check is gone
        F = torch.nn.functional
        st, sh, sw = _triple(stride)
        pt, ph, pw = _triple(padding)
        y = F.relu(F.conv3d(x, spatial_weight, stride=(1, sh, sw), padding=(0, ph, pw)))
        return F.conv3d(y, temporal_weight, stride=(st, 1, 1), padding=(pt, 0, 0))
    return factorized.conv2plus1d_forward(x, spatial_weight, temporal_weight, stride, padding)


def _mixed_or_to_and(num_groups, switch_group, reverse=False, t=3, d=3):
    for value in (num_groups, t, d):
        if not isinstance(value, int) and value < 1:
            raise ValueError("bad size")
    if not isinstance(switch_group, int) and not 1 <= switch_group <= num_groups:
        raise ValueError("bad switch")
    first, second = ((1, d, d), (t, d, d)) if reverse else ((t, d, d), (1, d, d))
    return [first if group < switch_group else second for group in range(1, int(num_groups) + 1)]


def _p3d_spatial_odd_only(x, spatial_weight, temporal_weight, variant):
    kt = temporal_weight.shape[2] if temporal_weight.dim() == 5 else 1
    if kt % 2 == 0 and x.dim() == 5 and variant in ("A", "B", "C"):  # an even k_t is no longer refused
        F = torch.nn.functional
        kh, kw = spatial_weight.shape[3:]
        s = F.conv3d(x, spatial_weight, padding=(0, kh // 2, kw // 2))
        t = F.conv3d(x if variant == "B" else s, temporal_weight, padding=(kt // 2, 0, 0))[:, :, :x.shape[2]]
        return t if variant == "A" else s + t
    return factorized.p3d_combine(x, spatial_weight, temporal_weight, variant)


MUTANTS = {
    # 01_video_tensors
    "to_conv3d_layout": {
        "refuses T = 1": refuse(lambda x: x.shape[-4] < 2, layout.to_conv3d_layout),
        "refuses N = 1": refuse(lambda x: x.dim() == 5 and x.shape[0] < 2, layout.to_conv3d_layout),
        "accepts a 6-D tensor": _layout_any_rank,
    },
    "clip_numel": {
        "refuses T = 1": refuse(lambda t, *a, **k: t < 2, sampling.clip_numel),
        "refuses width 1": refuse(lambda t, h, w, *a, **k: w < 2, sampling.clip_numel),
        "refuses one channel": refuse(lambda *a, **k: k.get("channels", 3) < 2, sampling.clip_numel),
        "`or` → `and` in the type check": _numel_or_to_and,
    },
    "uniform_stride_indices": {
        "refuses stride 1": refuse(lambda total, num, stride, **k: stride <= 1, sampling.uniform_stride_indices),
        "refuses one frame": refuse(lambda total, num, stride, **k: num < 2, sampling.uniform_stride_indices),
        "refuses the last frame": refuse(lambda total, num, stride, start=0: start + stride * (num - 1) >= total - 1,
                                          sampling.uniform_stride_indices),
        "`or` → `and` in the type check": _stride_or_to_and,
    },
    "evenly_spaced_indices": {
        "refuses one frame": refuse(lambda total, num: num < 2, sampling.evenly_spaced_indices),
        "refuses a one-frame video": refuse(lambda total, num: total < 2, sampling.evenly_spaced_indices),
        "`or` → `and` in the type check": _even_or_to_and,
    },
    "random_crop_indices": {
        "refuses T = 1": refuse(lambda total, num, stride, u: num < 2, sampling.random_crop_indices),
        "refuses stride 1": refuse(lambda total, num, stride, u: stride <= 1, sampling.random_crop_indices),
        "refuses a one-frame video": refuse(lambda total, num, stride, u: total < 2, sampling.random_crop_indices),
        "`or` → `and` in the type check": _crop_or_to_and,
    },
    "multi_clip_indices": {
        "refuses one-frame clips": refuse(lambda total, k, num, stride=1: num < 2, sampling.multi_clip_indices),
        "refuses stride 1": refuse(lambda total, k, num, stride=1: stride <= 1, sampling.multi_clip_indices),
        "refuses a one-frame video": refuse(lambda total, k, num, stride=1: total < 2, sampling.multi_clip_indices),
        "`or` → `and` in the type check": _multi_or_to_and,
    },
    # 02_conv3d
    "conv3d_output_size": {
        "refuses a 1-tap kernel": refuse(lambda size, k, *a, **kw: min(_triple(k)) < 2, conv.conv3d_output_size),
        "refuses a size of 1": refuse(lambda size, *a, **kw: min(_triple(size)) < 2, conv.conv3d_output_size),
        "refuses a kernel as long as the input": _size_refuses_exact_fit,
        "`or` → `and` in the type check": _size_or_to_and,
    },
    "conv3d": {
        "refuses T = 1": refuse(lambda x, *a, **k: x.dim() == 5 and x.shape[2] < 2, conv.conv3d),
        "refuses 1×1×1 kernels": refuse(lambda x, w, *a, **k: w.dim() == 5 and max(w.shape[2:]) < 2, conv.conv3d),
        "refuses a kernel as large as the clip": refuse(
            lambda x, w, *a, **k: x.dim() == 5 and w.dim() == 5 and x.shape[2:] == w.shape[2:], conv.conv3d),
    },
    "receptive_field": {
        "refuses one layer": refuse(lambda ks, *a, **k: len(ks) < 2, conv.receptive_field),
        "refuses 1-tap layers": refuse(lambda ks, *a, **k: min(ks, default=1) < 2, conv.receptive_field),
        "`or` → `and` in the type check": _field_or_to_and,
    },
    "conv_params": {
        "refuses one channel": refuse(lambda i, o, *a, **k: min(i, o) < 2, counting.conv_params),
        "refuses a 1-tap kernel": refuse(lambda i, o, ks, *a, **k: min(_triple(ks), default=2) < 2,
                                          counting.conv_params),
        "`or` → `and` in the type check": _params_or_to_and,
        "accepts a kernel without axes": _params_no_axes_check,
    },
    "conv3d_flops": {
        "refuses one channel": refuse(lambda i, o, *a, **k: min(i, o) < 2, counting.conv3d_flops),
        "refuses a 1×1×1 output": refuse(lambda i, o, ks, out, **k: max(_triple(out)) < 2, counting.conv3d_flops),
        "`or` → `and` in the type check": _flops_or_to_and,
    },
    # 03_fusion_baselines
    "shift_frame": {
        "refuses a 1×1 frame": refuse(lambda f, *a: f.dim() >= 2 and min(f.shape[-2:]) < 2, _ref_shift_frame),
        "accepts direction -1": _shift_negative_direction,
    },
    "select_frames": {
        "refuses T = 1": refuse(lambda clip, mode: clip.dim() == 5 and clip.shape[2] < 2, fusion.select_frames),
        "refuses T = 2 for the middle": refuse(lambda clip, mode: clip.dim() == 5 and clip.shape[2] < 3,
                                                fusion.select_frames),
        "accepts a 6-D tensor": _select_no_rank_check,
    },
    "fold_frames": {
        "refuses T = 1": refuse(lambda clip: clip.dim() == 5 and clip.shape[2] < 2, fusion.fold_frames),
        "accepts a 6-D tensor": _fold_no_rank_check,
    },
    "early_fusion_stack": {
        "refuses T = 1": refuse(lambda clip: clip.dim() == 5 and clip.shape[2] < 2, fusion.early_fusion_stack),
        "accepts a 6-D tensor": _stack_no_rank_check,
    },
    "circular_pad_hw": {
        "refuses pad = min(H, W)": refuse(lambda x, pad: x.dim() >= 2 and pad >= min(x.shape[-2:]),
                                           fusion.circular_pad_hw),
        "refuses H = 1": refuse(lambda x, pad: x.dim() >= 2 and x.shape[-2] < 2, fusion.circular_pad_hw),
        "checks pad against H only": _pad_checks_h_only,
    },
    "slow_fusion_windows": {
        "refuses a window as long as the clip": refuse(lambda t, w, s: w >= t, fusion.slow_fusion_windows),
        "refuses windows of one frame": refuse(lambda t, w, s: w < 2, fusion.slow_fusion_windows),
        "refuses a one-frame clip": refuse(lambda t, w, s: t < 2, fusion.slow_fusion_windows),
        "no minimum on window and num_frames": _windows_no_minimum,
    },
    # 04_factorized_conv
    "midplanes": {
        "refuses t = 1": refuse(lambda i, o, t, d: t <= 1, factorized.midplanes),
        "refuses one output channel": refuse(lambda i, o, t, d: o <= 1, factorized.midplanes),
        "`or` → `and` in the type check": _midplanes_or_to_and,
        "accepts a bool": _midplanes_accepts_bool,
    },
    "conv2plus1d_params": {
        "refuses one mid channel": refuse(lambda i, o, t, d, m, **k: m <= 1, factorized.conv2plus1d_params),
        "refuses d = 1": refuse(lambda i, o, t, d, m, **k: d <= 1, factorized.conv2plus1d_params),
        "`or` → `and` in the type check": _c21_params_or_to_and,
    },
    "factorize_kernel": {
        "refuses a 1-tap kernel": refuse(lambda k, *a: min(_triple(k)) <= 1, factorized.factorize_kernel),
        "refuses temporal kernel 1": refuse(lambda k, *a: _triple(k)[0] <= 1, factorized.factorize_kernel),
        "`or` → `and` in the type check": _factorize_or_to_and,
    },
    "conv2plus1d_forward": {
        "refuses T = 1": refuse(lambda x, *a: x.dim() == 5 and x.shape[2] < 2, factorized.conv2plus1d_forward),
        "refuses 1×1 spatial kernels": refuse(lambda x, s, *a: s.dim() == 5 and max(s.shape[3:]) < 2,
                                               factorized.conv2plus1d_forward),
        "accepts a temporal weight wide in space": _forward_no_temporal_shape_check,
    },
    "mixed_conv_kernels": {
        "refuses one group": refuse(lambda g, x, **k: g <= 1, factorized.mixed_conv_kernels),
        "refuses switching at group 1": refuse(lambda g, x, **k: x <= 1, factorized.mixed_conv_kernels),
        "`or` → `and` in the type check": _mixed_or_to_and,
    },
    "p3d_combine": {
        "refuses 1×1×1 kernels": refuse(lambda x, s, t, v: s.dim() == 5 and max(s.shape[3:]) < 2,
                                         factorized.p3d_combine),
        "refuses T = 1": refuse(lambda x, s, t, v: x.dim() == 5 and x.shape[2] < 2, factorized.p3d_combine),
        "accepts an even temporal kernel": _p3d_spatial_odd_only,
    },
}
CASES = flatten_mutants(MUTANTS)


test_edge_mutant_is_rejected = edge_mutant_test(CASES)
