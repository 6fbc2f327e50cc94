"""Graded exercises of lesson 05_inflation: inflating kernels, sizes, boring clips, batch norm and state dicts (I3D)."""
from __future__ import annotations

import numpy as np
import torch

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "05_inflation"


_ex = exercise_maker(ASSIGNMENT)


def _randn(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """A float64 tensor of standard normal numbers drawn from ``rng`` (exact comparisons, no float32 noise)."""
    return torch.from_numpy(rng.standard_normal(shape))


# --- inflate_weight -------------------------------------------------------------------------------
def _weight_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 4, 3, 3, 5), 3), note="a 3×5 kernel, 3 frames, average (the default)"),
             Case((_randn(rng, 2, 3, 3, 3), 5, "center"), note="a 3×3 kernel, 5 frames, center"),
             Case((_randn(rng, 3, 2, 5, 5), 4, "average"), note="4 frames (even), average"),
             Case((_randn(rng, 2, 2, 3, 3), 4, "center"), note="4 frames (even), center: frame 4 // 2 = 2"),
             Case((_randn(rng, 5, 1, 7, 7), 1, "average"), note="t = 1: a 2D kernel with a time axis of size 1")]
    for _ in range(3):
        o, i = (int(v) for v in rng.integers(1, 5, size=2))
        kh, kw = (int(v) for v in rng.choice([1, 3, 5], size=2))
        t = int(rng.integers(2, 8))
        mode = str(rng.choice(["average", "center"]))
        cases.append(Case((_randn(rng, o, i, kh, kw), t, mode), note=f"kernel {(o, i, kh, kw)}, {t} frames, {mode}"))
    cases.append(Case((_randn(rng, 2, 3, 3, 3, 3), 3), raises=ValueError, note="a 5-D (already 3D) kernel"))
    cases.append(Case((_randn(rng, 2, 3, 3, 3), 0), raises=ValueError, note="time_dim = 0"))
    cases.append(Case((_randn(rng, 2, 3, 3, 3), 3, "middle"), raises=ValueError, note="an unknown mode"))
    # the edges: the smallest legal kernel and time_dim, and time_dim of the wrong type
    cases.append(Case((_randn(rng, 1, 1, 1, 1), 1, "center"), note="a 1×1 kernel, one channel in and out, t = 1"))
    cases.append(Case((_randn(rng, 2, 1, 3, 3), 2.0), raises=ValueError, note="time_dim 2.0 (a float, not an int)"))
    cases.append(Case((_randn(rng, 2, 1, 3, 3), True), raises=ValueError, note="time_dim True (a bool, not an int)"))
    return cases


def _weight_no_divide(weight2d, time_dim, mode="average"):  # noqa: ANN001, ANN202
    weight = weight2d.unsqueeze(2)
    if mode == "average":
        return weight.repeat(1, 1, time_dim, 1, 1)
    weight3d = torch.zeros_like(weight).repeat(1, 1, time_dim, 1, 1)
    weight3d[:, :, time_dim // 2] = weight2d
    return weight3d


def _weight_time_last(weight2d, time_dim, mode="average"):  # noqa: ANN001, ANN202
    weight = weight2d.unsqueeze(-1)  # (C_out, C_in, k_h, k_w, 1)
    if mode == "average":
        return weight.repeat(1, 1, 1, 1, time_dim) / time_dim
    weight3d = torch.zeros_like(weight).repeat(1, 1, 1, 1, time_dim)
    weight3d[..., time_dim // 2] = weight2d
    return weight3d


def _weight_center_first_frame(weight2d, time_dim, mode="average"):  # noqa: ANN001, ANN202
    weight = weight2d.unsqueeze(2)
    if mode == "average":
        return weight.repeat(1, 1, time_dim, 1, 1) / time_dim
    weight3d = torch.zeros_like(weight).repeat(1, 1, time_dim, 1, 1)
    weight3d[:, :, 0] = weight2d
    return weight3d


def _weight_center_divided(weight2d, time_dim, mode="average"):  # noqa: ANN001, ANN202
    weight = weight2d.unsqueeze(2)
    if mode == "average":
        return weight.repeat(1, 1, time_dim, 1, 1) / time_dim
    weight3d = torch.zeros_like(weight).repeat(1, 1, time_dim, 1, 1)
    weight3d[:, :, time_dim // 2] = weight2d / time_dim
    return weight3d


def _weight_center_middle_down(weight2d, time_dim, mode="average"):  # noqa: ANN001, ANN202
    weight = weight2d.unsqueeze(2)
    if mode == "average":
        return weight.repeat(1, 1, time_dim, 1, 1) / time_dim
    weight3d = torch.zeros_like(weight).repeat(1, 1, time_dim, 1, 1)
    weight3d[:, :, (time_dim - 1) // 2] = weight2d
    return weight3d


# --- inflate_conv_args ------------------------------------------------------------------------------
def _args_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((3, 1, 1, 5), note="a 3×3 conv with padding 1, inflated to 5 frames"),
             Case((7, 2, 3, 7), note="the Inception-v1 stem 7×7, stride 2, inflated to 7×7×7"),
             Case(((3, 5), (2, 1), (1, 2), 3, 2), note="(3, 5) kernel, stride (2, 1), time stride 2"),
             Case((1, 2, 0, 1), note="a 1×1 conv with stride 2 (a shortcut), t = 1"),
             Case(([5, 3], [1, 3], [2, 0], 4), note="lists, 4 frames (padding 4 // 2 = 2)")]
    for _ in range(2):
        k = tuple(int(v) for v in rng.choice([1, 3, 5, 7], size=2))
        s = tuple(int(v) for v in rng.integers(1, 4, size=2))
        p = tuple(int(v) for v in rng.integers(0, 4, size=2))
        t, ts = int(rng.integers(1, 8)), int(rng.integers(1, 3))
        cases.append(Case((k, s, p, t, ts), note=f"kernel {k}, stride {s}, padding {p}, t = {t}, time stride {ts}"))
    cases.append(Case(((3, 3, 3), 1, 1, 3), raises=ValueError, note="a 3-entry (already 3D) kernel_size"))
    cases.append(Case((3, 0, 1, 3), raises=ValueError, note="stride 0"))
    cases.append(Case((3, 1, 1, 0), raises=ValueError, note="time_dim 0"))
    # the edges: the smallest legal sizes, and sizes of the wrong type
    cases.append(Case((1, 1, 0, 1), note="the smallest legal conv: kernel 1, stride 1, padding 0, t = 1"))
    cases.append(Case((3, 1.0, 1, 3), raises=ValueError, note="stride 1.0 (a float, not an int)"))
    cases.append(Case((3, 1, 1, True), raises=ValueError, note="time_dim True (a bool, not an int)"))
    cases.append(Case((3, 1, 1, 3, 0), raises=ValueError, note="time_stride 0"))
    return cases


def _pairs(kernel_size, stride, padding):  # noqa: ANN001, ANN202
    return [(v, v) if isinstance(v, int) else tuple(v) for v in (kernel_size, stride, padding)]


def _args_no_time_padding(kernel_size, stride, padding, time_dim, time_stride=1):  # noqa: ANN001, ANN202
    (kh, kw), (sh, sw), (ph, pw) = _pairs(kernel_size, stride, padding)
    return (time_dim, kh, kw), (time_stride, sh, sw), (0, ph, pw)


def _args_time_last(kernel_size, stride, padding, time_dim, time_stride=1):  # noqa: ANN001, ANN202
    (kh, kw), (sh, sw), (ph, pw) = _pairs(kernel_size, stride, padding)
    return (kh, kw, time_dim), (sh, sw, time_stride), (ph, pw, time_dim // 2)


def _args_spatial_stride_in_time(kernel_size, stride, padding, time_dim, time_stride=1):  # noqa: ANN001, ANN202
    (kh, kw), (sh, sw), (ph, pw) = _pairs(kernel_size, stride, padding)
    return (time_dim, kh, kw), (sh, sh, sw), (time_dim // 2, ph, pw)


def _args_spatial_padding_in_time(kernel_size, stride, padding, time_dim, time_stride=1):  # noqa: ANN001, ANN202
    (kh, kw), (sh, sw), (ph, pw) = _pairs(kernel_size, stride, padding)
    return (time_dim, kh, kw), (time_stride, sh, sw), (ph, ph, pw)


# --- boring_clip ----------------------------------------------------------------------------------------
def _clip_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 3, 5, 7), 4), note="2 RGB frames of 5×7, 4 frames"),
             Case((_randn(rng, 1, 1, 6, 6), 8), note="one grey 6×6 frame, 8 frames"),
             Case((_randn(rng, 3, 2, 4, 5), 1), note="T = 1")]
    for _ in range(2):
        n, c, h, w = (int(v) for v in rng.integers(1, 6, size=4))
        t = int(rng.integers(2, 9))
        cases.append(Case((_randn(rng, n, c, h, w), t), note=f"frames {(n, c, h, w)}, T = {t}"))
    cases.append(Case((_randn(rng, 3, 5, 7), 4), raises=ValueError, note="a frame without the batch axis"))
    cases.append(Case((_randn(rng, 1, 3, 5, 7), 0), raises=ValueError, note="num_frames 0"))
    # the edges: the smallest legal frame and clip, and bad input
    cases.append(Case((_randn(rng, 1, 1, 1, 1), 1), note="one grey 1×1 frame, T = 1"))
    cases.append(Case((_randn(rng, 1, 1, 4, 4), 2.0), raises=ValueError, note="num_frames 2.0 (a float)"))
    cases.append(Case((_randn(rng, 1, 1, 2, 4, 4), 2), raises=ValueError, note="a 5-D tensor (already a clip)"))
    return cases


def _clip_time_before_channels(frame, num_frames):  # noqa: ANN001, ANN202
    return frame.unsqueeze(1).repeat(1, num_frames, 1, 1, 1)  # (N, T, C, H, W)


def _clip_divided(frame, num_frames):  # noqa: ANN001, ANN202
    return frame.unsqueeze(2).repeat(1, 1, num_frames, 1, 1) / num_frames


def _clip_frame_once(frame, num_frames):  # noqa: ANN001, ANN202
    clip = torch.zeros_like(frame).unsqueeze(2).repeat(1, 1, num_frames, 1, 1)
    clip[:, :, 0] = frame
    return clip


# --- batchnorm_from_2d -------------------------------------------------------------------------------------
def _bn_args(rng: np.random.Generator, n: int, c: int, t: int, h: int, w: int) -> tuple:
    clip = _randn(rng, n, c, t, h, w) * 2 + 1
    mean, var = _randn(rng, c) * 0.5, torch.from_numpy(rng.uniform(0.2, 3.0, c))
    weight, bias = torch.from_numpy(rng.uniform(0.5, 2.0, c)), _randn(rng, c)
    return clip, mean, var, weight, bias


def _bn_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(_bn_args(rng, 2, 3, 3, 5, 6), note="3 channels, 3 frames of 5×6 (statistics on the wrong axis would still broadcast)"),
             Case(_bn_args(rng, 1, 4, 4, 3, 5), {"eps": 1e-3}, note="4 channels and 4 frames, eps 1e-3"),
             Case(_bn_args(rng, 3, 1, 5, 4, 4), note="one channel")]
    for _ in range(2):
        n, c, t, h, w = (int(v) for v in rng.integers(1, 6, size=5))
        cases.append(Case(_bn_args(rng, n, c, t, h, w), {"eps": float(rng.choice([1e-5, 1e-3, 0.1]))},
                          note=f"clip {(n, c, t, h, w)}"))
    clip, mean, var, weight, bias = _bn_args(rng, 1, 3, 2, 4, 4)
    cases.append(Case((clip[0], mean, var, weight, bias), raises=ValueError, note="a clip without the batch axis"))
    cases.append(Case((clip, mean[:2], var, weight, bias), raises=ValueError, note="a running_mean of the wrong length"))
    # the edges: the smallest legal clip, and a 6-D tensor
    cases.append(Case(_bn_args(rng, 1, 1, 1, 1, 1), note="one clip, one channel, T = 1, one 1×1 pixel"))
    cases.append(Case((clip[None], mean, var, weight, bias), raises=ValueError, note="a 6-D tensor"))
    return cases


def _bn_batch_statistics(clip, running_mean, running_var, weight, bias, eps=1e-5):  # noqa: ANN001, ANN202
    mean = clip.mean(dim=(0, 2, 3, 4), keepdim=True)
    var = clip.var(dim=(0, 2, 3, 4), unbiased=False, keepdim=True)
    C = clip.shape[1]
    return (clip - mean) / torch.sqrt(var + eps) * weight.view(1, C, 1, 1, 1) + bias.view(1, C, 1, 1, 1)


def _bn_over_time_axis(clip, running_mean, running_var, weight, bias, eps=1e-5):  # noqa: ANN001, ANN202
    def per(v):  # noqa: ANN001, ANN202
        return v.view(1, 1, -1, 1, 1)  # broadcast along T instead of C

    return (clip - per(running_mean)) / torch.sqrt(per(running_var) + eps) * per(weight) + per(bias)


def _bn_no_sqrt(clip, running_mean, running_var, weight, bias, eps=1e-5):  # noqa: ANN001, ANN202
    def per(v):  # noqa: ANN001, ANN202
        return v.view(1, -1, 1, 1, 1)

    return (clip - per(running_mean)) / (per(running_var) + eps) * per(weight) + per(bias)


def _bn_no_affine(clip, running_mean, running_var, weight, bias, eps=1e-5):  # noqa: ANN001, ANN202
    def per(v):  # noqa: ANN001, ANN202
        return v.view(1, -1, 1, 1, 1)

    return (clip - per(running_mean)) / torch.sqrt(per(running_var) + eps)


# --- inflate_state_dict ---------------------------------------------------------------------------------------
def _state(rng: np.random.Generator, c_in: int, widths: tuple[int, ...], k: int, classes: int) -> dict:
    """A state dict shaped like a small 2D CNN: conv (k×k), BN, a 1×1 shortcut conv with bias, a linear head."""
    state, c = {}, c_in
    for i, w in enumerate(widths):
        state[f"layer{i}.conv.weight"] = _randn(rng, w, c, k, k)
        state[f"layer{i}.bn.weight"] = torch.from_numpy(rng.uniform(0.5, 2.0, w))
        state[f"layer{i}.bn.bias"] = _randn(rng, w)
        state[f"layer{i}.bn.running_mean"] = _randn(rng, w)
        state[f"layer{i}.bn.running_var"] = torch.from_numpy(rng.uniform(0.2, 3.0, w))
        state[f"layer{i}.bn.num_batches_tracked"] = torch.tensor(int(rng.integers(1, 1000)))
        state[f"layer{i}.shortcut.weight"] = _randn(rng, w, c, 1, 1)
        state[f"layer{i}.shortcut.bias"] = _randn(rng, w)
        c = w
    state["fc.weight"], state["fc.bias"] = _randn(rng, classes, c), _randn(rng, classes)
    return state


def _state_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_state(rng, 1, (3, 4), 3, 5), 3), note="two 3×3 conv layers with BN and 1×1 shortcuts, t = 3"),
             Case((_state(rng, 2, (3,), 5, 2), 4), note="one 5×5 conv layer, t = 4"),
             Case((_state(rng, 3, (2, 2), 3, 3), 1), note="t = 1")]
    for _ in range(2):
        widths = tuple(int(v) for v in rng.integers(1, 5, size=int(rng.integers(1, 4))))
        k, t = int(rng.choice([3, 5, 7])), int(rng.integers(2, 6))
        cases.append(Case((_state(rng, int(rng.integers(1, 4)), widths, k, int(rng.integers(2, 6))), t),
                          note=f"widths {widths}, {k}×{k} kernels, t = {t}"))
    cases.append(Case((_state(rng, 1, (2,), 3, 2), 0), raises=ValueError, note="time_dim 0"))
    # the edges: the smallest legal network and time_dim, and time_dim of the wrong type
    cases.append(Case((_state(rng, 1, (1,), 1, 1), 1), note="one 1×1 conv of one channel, one class, t = 1"))
    cases.append(Case((_state(rng, 1, (2,), 3, 2), 1.0), raises=ValueError, note="time_dim 1.0 (a float)"))
    cases.append(Case((_state(rng, 1, (2,), 3, 2), True), raises=ValueError, note="time_dim True (a bool)"))
    return cases


def _state_no_divide(state_dict, time_dim):  # noqa: ANN001, ANN202
    if time_dim < 1:
        raise ValueError("time_dim")
    out = {}
    for name, tensor in state_dict.items():
        if tensor.dim() == 4:
            t = 1 if tuple(tensor.shape[2:]) == (1, 1) else time_dim
            out[name] = tensor.unsqueeze(2).repeat(1, 1, t, 1, 1)
        else:
            out[name] = tensor.clone()
    return out


def _state_stats_dropped(state_dict, time_dim):  # noqa: ANN001, ANN202
    if time_dim < 1:
        raise ValueError("time_dim")
    out = {}
    for name, tensor in state_dict.items():
        if tensor.dim() == 4:
            t = 1 if tuple(tensor.shape[2:]) == (1, 1) else time_dim
            out[name] = tensor.unsqueeze(2).repeat(1, 1, t, 1, 1) / t
        elif not name.endswith(("running_mean", "running_var", "num_batches_tracked")):
            out[name] = tensor.clone()
    return out


def _state_pointwise_inflated(state_dict, time_dim):  # noqa: ANN001, ANN202
    if time_dim < 1:
        raise ValueError("time_dim")
    return {name: tensor.unsqueeze(2).repeat(1, 1, time_dim, 1, 1) / time_dim if tensor.dim() == 4 else tensor.clone()
            for name, tensor in state_dict.items()}


def _state_time_last(state_dict, time_dim):  # noqa: ANN001, ANN202
    if time_dim < 1:
        raise ValueError("time_dim")
    out = {}
    for name, tensor in state_dict.items():
        if tensor.dim() == 4:
            t = 1 if tuple(tensor.shape[2:]) == (1, 1) else time_dim
            out[name] = tensor.unsqueeze(-1).repeat(1, 1, 1, 1, t) / t
        else:
            out[name] = tensor.clone()
    return out


EXERCISES = [
    _ex("inflate_weight", "course.nn.inflation", _weight_cases, [
        Misconception("no_divide", "divide the repeated kernel by time_dim: on a boring clip the t frames add up, "
                      "so without 1/t every response is t times the 2D one", _weight_no_divide),
        Misconception("time_last", "the new time axis goes after the channels: a Conv3d kernel is (C_out, C_in, t, "
                      "k_h, k_w), not (C_out, C_in, k_h, k_w, t)", _weight_time_last),
        Misconception("center_first_frame", "center mode puts the 2D kernel on the middle frame, index time_dim // 2, "
                      "not on frame 0", _weight_center_first_frame),
        Misconception("center_divided", "in center mode only one frame holds the kernel, so it keeps its 2D values: "
                      "no division by time_dim", _weight_center_divided),
        Misconception("center_middle_down", "for an even time_dim the middle frame is time_dim // 2 (the later of the "
                      "two middle frames), not (time_dim - 1) // 2", _weight_center_middle_down),
    ]),
    _ex("inflate_conv_args", "course.nn.inflation", _args_cases, [
        Misconception("no_time_padding", "pad time too: time_dim // 2 frames on each side keep the number of frames, "
                      "as the 2D padding keeps H and W", _args_no_time_padding),
        Misconception("time_last", "time comes first in every Conv3d triple: (t, h, w)", _args_time_last),
        Misconception("spatial_stride_in_time", "the time stride is time_stride (1 unless asked): copying the spatial "
                      "stride into time would drop frames", _args_spatial_stride_in_time),
        Misconception("spatial_padding_in_time", "the time padding follows the time kernel, time_dim // 2, not the "
                      "spatial padding", _args_spatial_padding_in_time),
    ]),
    _ex("boring_clip", "course.nn.inflation", _clip_cases, [
        Misconception("time_before_channels", "the Conv3d layout is (N, C, T, H, W): the time axis goes after the "
                      "channels", _clip_time_before_channels),
        Misconception("divided", "a boring clip repeats the frame itself; the 1/t of inflation belongs to the kernel, "
                      "not to the data", _clip_divided),
        Misconception("frame_once", "every frame of a boring clip is the image, not only the first one",
                      _clip_frame_once),
    ]),
    _ex("batchnorm_from_2d", "course.nn.inflation", _bn_cases, [
        Misconception("batch_statistics", "use the 2D network's running_mean and running_var (eval mode), not the "
                      "statistics of this clip: they are what the inflated network inherits", _bn_batch_statistics),
        Misconception("over_time_axis", "the statistics are per channel, axis 1 of (N, C, T, H, W): view them as "
                      "(1, C, 1, 1, 1)", _bn_over_time_axis),
        Misconception("no_sqrt", "divide by the standard deviation sqrt(running_var + eps), not by the variance",
                      _bn_no_sqrt),
        Misconception("no_affine", "after normalizing, scale by weight and shift by bias", _bn_no_affine),
    ]),
    _ex("inflate_state_dict", "course.nn.inflation", _state_cases, [
        Misconception("no_divide", "divide each inflated kernel by its number of frames t", _state_no_divide),
        Misconception("stats_dropped", "keep every entry: the batch-norm running statistics (and the batch counter) "
                      "are part of what the 2D network learned", _state_stats_dropped),
        Misconception("pointwise_inflated", "a 1×1 kernel stays 1×1×1 (pointwise, as in I3D); only kernels larger "
                      "than 1×1 get time_dim frames", _state_pointwise_inflated),
        Misconception("time_last", "the new time axis goes after the channels: (C_out, C_in, t, k_h, k_w)",
                      _state_time_last),
    ]),
]
