"""Graded exercises of lesson 04_factorized_conv: the M_i rule, (2+1)D convolutions, mixed convolutions, P3D."""
from __future__ import annotations

import numpy as np
import torch

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "04_factorized_conv"


_ex = exercise_maker(ASSIGNMENT)


def _randn(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """A float64 tensor of standard normal numbers drawn from ``rng`` (exact comparisons, no float32 noise)."""
    return torch.from_numpy(rng.standard_normal(shape))


# --- midplanes ------------------------------------------------------------------------------------------
def _midplanes_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((64, 128, 3, 3), note="layer2's first conv, 64 -> 128 channels: 230.4 before flooring"),
             Case((3, 64, 3, 7), note="the stem, 3 -> 64 channels with a 3x7x7 kernel"),
             Case((64, 64, 3, 3), note="64 -> 64, an exact division")]
    for _ in range(3):
        i, o = (int(v) for v in rng.integers(1, 600, size=2))
        t, d = int(rng.integers(1, 6)), int(rng.choice([1, 3, 5, 7]))
        cases.append(Case((i, o, t, d), note=f"{i} -> {o} channels, t = {t}, d = {d}"))
    cases.append(Case((0, 64, 3, 3), raises=ValueError, note="in_channels = 0"))
    cases.append(Case((1, 1, 1, 1), note="the minimum: 1 -> 1 channel, 1x1x1 (M = 0 after the floor)"))
    cases.append(Case((int(rng.integers(2, 40)), 1, 1, 1), note="t = d = 1 and one output channel"))
    cases.append(Case((64, 64, 0, 3), raises=ValueError, note="t = 0"))
    cases.append(Case((64, 64, 3, 0), raises=ValueError, note="d = 0"))
    cases.append(Case((64, 0, 3, 3), raises=ValueError, note="out_channels = 0"))
    cases.append(Case((64.0, 64, 3, 3), raises=ValueError, note="in_channels = 64.0, a float"))
    cases.append(Case((64, 64, True, 3), raises=ValueError, note="t = True, a bool, not an int"))
    return cases


def _midplanes_ceil(in_channels, out_channels, t, d):  # noqa: ANN001, ANN202
    return -(-(t * d * d * in_channels * out_channels) // (d * d * in_channels + t * out_channels))


def _midplanes_swapped(in_channels, out_channels, t, d):  # noqa: ANN001, ANN202
    return (t * d * d * in_channels * out_channels) // (d * d * out_channels + t * in_channels)


def _midplanes_no_t(in_channels, out_channels, t, d):  # noqa: ANN001, ANN202
    return (d * d * in_channels * out_channels) // (d * d * in_channels + out_channels)


def _midplanes_float(in_channels, out_channels, t, d):  # noqa: ANN001, ANN202
    return t * d * d * in_channels * out_channels / (d * d * in_channels + t * out_channels)


# --- conv2plus1d_params ------------------------------------------------------------------------------------
def _params_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((64, 64, 3, 3, 144), note="layer1 of R(2+1)D-18, M = 144"),
             Case((3, 64, 3, 7, 45), note="torchvision's R(2+1)D stem, M = 45"),
             Case((5, 7, 2, 5, 12), {"bias": True}, note="5 -> 7 channels, 2x5x5, M = 12, with biases")]
    for _ in range(3):
        i, o, m = (int(v) for v in rng.integers(1, 300, size=3))
        t, d = int(rng.integers(1, 6)), int(rng.choice([1, 3, 5, 7]))
        cases.append(Case((i, o, t, d, m), {"bias": bool(rng.integers(2))}, note=f"{i} -> {m} -> {o}, t = {t}, d = {d}"))
    cases.append(Case((1, 1, 1, 1, 1), note="the minimum: 1 -> 1 -> 1 channel, 1x1x1, no bias"))
    cases.append(Case((1, 1, 1, 1, 1), {"bias": True}, note="the minimum with biases"))
    cases.append(Case((64, 64, 3, 3, 0), raises=ValueError, note="mid_channels = 0"))
    cases.append(Case((64, 64, 0, 3, 144), raises=ValueError, note="t = 0"))
    cases.append(Case((64, 64, 3, 3, 144.0), raises=ValueError, note="mid_channels = 144.0, a float"))
    cases.append(Case((64, 64, 3, True, 144), raises=ValueError, note="d = True, a bool, not an int"))
    return cases


def _params_no_square(in_channels, out_channels, t, d, mid_channels, bias=False):  # noqa: ANN001, ANN202
    return mid_channels * in_channels * d + out_channels * mid_channels * t + (mid_channels + out_channels) * bias


def _params_temporal_from_input(in_channels, out_channels, t, d, mid_channels, bias=False):  # noqa: ANN001, ANN202
    return mid_channels * in_channels * d * d + out_channels * in_channels * t + (mid_channels + out_channels) * bias


def _params_bias_once(in_channels, out_channels, t, d, mid_channels, bias=False):  # noqa: ANN001, ANN202
    return mid_channels * in_channels * d * d + out_channels * mid_channels * t + out_channels * bias


# --- factorize_kernel ---------------------------------------------------------------------------------------
def _factorize_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(((3, 3, 3), 1, 1), note="3x3x3, stride 1, padding 1"),
             Case(((3, 7, 7), (1, 2, 2), (1, 3, 3)), note="the R3D stem"),
             Case(((5, 3, 1), (2, 1, 3), (2, 1, 0)), note="every axis different"),
             Case((3, 2, 0), note="ints: a 3x3x3 cube, stride 2")]
    for _ in range(2):
        k = tuple(int(v) for v in rng.integers(1, 8, size=3))
        s = tuple(int(v) for v in rng.integers(1, 4, size=3))
        p = tuple(int(v) for v in rng.integers(0, 4, size=3))
        cases.append(Case((k, s, p), note=f"kernel {k}, stride {s}, padding {p}"))
    cases.append(Case(((3, 3), 1, 1), raises=ValueError, note="a 2-entry kernel_size"))
    cases.append(Case((1, 1, 0), note="the minimum: a 1x1x1 kernel, stride 1, no padding"))
    cases.append(Case(((1, 3, 3), (1, 1, 2), (0, 1, 1)), note="a kernel with one frame (2D): temporal kernel 1"))
    cases.append(Case(((3, 3), 1, 1), raises=ValueError, note="a 2-entry kernel_size"))
    cases.append(Case(((3, 3, 3), 0, 1), raises=ValueError, note="stride 0"))
    cases.append(Case(((3, 3, 3), 1, -1), raises=ValueError, note="padding -1"))
    cases.append(Case(((3, 0, 3), 1, 1), raises=ValueError, note="a kernel of height 0"))
    cases.append(Case(((3, 3, 3), (1, 2.0, 2), 1), raises=ValueError, note="a float stride"))
    cases.append(Case(((3, 3, 3, 3), 1, 1), raises=ValueError, note="a 4-entry kernel_size"))
    return cases


def _triples(kernel_size, stride, padding):  # noqa: ANN001, ANN202
    return [(v, v, v) if isinstance(v, int) else tuple(v) for v in (kernel_size, stride, padding)]


def _factorize_temporal_first(kernel_size, stride=1, padding=0):  # noqa: ANN001, ANN202
    (kt, kh, kw), (st, sh, sw), (pt, ph, pw) = [(v, v, v) if isinstance(v, int) else tuple(v)
                                                for v in (kernel_size, stride, padding)]
    return ((kt, 1, 1), (st, 1, 1), (pt, 0, 0)), ((1, kh, kw), (1, sh, sw), (0, ph, pw))


def _factorize_padding_everywhere(kernel_size, stride=1, padding=0):  # noqa: ANN001, ANN202
    (kt, kh, kw), (st, sh, sw), (pt, ph, pw) = _triples(kernel_size, stride, padding)
    return ((1, kh, kw), (1, sh, sw), (pt, ph, pw)), ((kt, 1, 1), (st, 1, 1), (pt, ph, pw))


def _factorize_stride_twice(kernel_size, stride=1, padding=0):  # noqa: ANN001, ANN202
    (kt, kh, kw), (st, sh, sw), (pt, ph, pw) = _triples(kernel_size, stride, padding)
    return ((1, kh, kw), (st, sh, sw), (0, ph, pw)), ((kt, 1, 1), (st, sh, sw), (pt, 0, 0))


def _factorize_no_time_axis(kernel_size, stride=1, padding=0):  # noqa: ANN001, ANN202
    (kt, kh, kw), (st, sh, sw), (pt, ph, pw) = _triples(kernel_size, stride, padding)
    return ((kh, kw), (sh, sw), (ph, pw)), ((kt, 1, 1), (st, 1, 1), (pt, 0, 0))


# --- conv2plus1d_forward --------------------------------------------------------------------------------------
def _forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 3, 5, 9, 11), _randn(rng, 3, 3, 1, 3, 3), _randn(rng, 3, 3, 3, 1, 1), 1, 1),
                  note="3 -> 3 -> 3 channels (so a swapped order would still run), padding 1"),
             Case((_randn(rng, 1, 2, 7, 10, 9), _randn(rng, 5, 2, 1, 3, 5), _randn(rng, 4, 5, 3, 1, 1),
                   (2, 1, 2), (1, 1, 2)), note="2 -> 5 -> 4 channels, 3x3x5 kernel, stride (2, 1, 2)"),
             Case((_randn(rng, 2, 4, 6, 8, 8), _randn(rng, 6, 4, 1, 3, 3), _randn(rng, 5, 6, 3, 1, 1), 2, 0),
                  note="stride 2, no padding")]
    for _ in range(2):
        n, c, m, o = (int(v) for v in rng.integers(1, 5, size=4))
        kt, kh, kw = (int(v) for v in rng.choice([1, 3, 5], size=3))
        t, h, w = (int(v) for v in rng.integers(5, 12, size=3))
        stride = tuple(int(v) for v in rng.integers(1, 3, size=3))
        padding = (kt // 2, kh // 2, kw // 2)
        cases.append(Case((_randn(rng, n, c, t, h, w), _randn(rng, m, c, 1, kh, kw), _randn(rng, o, m, kt, 1, 1),
                           stride, padding), note=f"x {(n, c, t, h, w)}, kernel {(kt, kh, kw)}, stride {stride}"))
    cases.append(Case((_randn(rng, 1, 2, 4, 5, 5), _randn(rng, 3, 2, 3, 3, 3), _randn(rng, 2, 3, 3, 1, 1)),
                      raises=ValueError, note="a spatial weight with a temporal size of 3"))
    cases.append(Case((_randn(rng, 2, 4, 5, 5), _randn(rng, 3, 2, 1, 3, 3), _randn(rng, 2, 3, 3, 1, 1)),
                      raises=ValueError, note="x without the batch axis"))
    cases.append(Case((_randn(rng, 1, 1, 1, 1, 1), _randn(rng, 1, 1, 1, 1, 1), _randn(rng, 1, 1, 1, 1, 1), 1, 0),
                      note="the minimum: one 1x1 frame, 1x1x1 kernels, one channel"))
    cases.append(Case((_randn(rng, 2, 2, 1, 4, 5), _randn(rng, 3, 2, 1, 3, 3), _randn(rng, 2, 3, 1, 1, 1), 1,
                       (0, 1, 1)), note="T = 1: a one-frame clip, temporal kernel 1"))
    cases.append(Case((_randn(rng, 1, 2, 4, 5, 5), _randn(rng, 3, 2, 1, 3, 3), _randn(rng, 2, 3, 3, 3, 1)),
                      raises=ValueError, note="a temporal weight that is 3 wide in space"))
    cases.append(Case((_randn(rng, 1, 2, 4, 5, 5), _randn(rng, 3, 2, 1, 3, 3), _randn(rng, 2, 4, 3, 1, 1)),
                      raises=ValueError, note="the channels do not chain: 3 mid channels, temporal weight reads 4"))
    cases.append(Case((_randn(rng, 1, 2, 4, 5, 5), _randn(rng, 3, 2, 3, 3), _randn(rng, 2, 3, 3, 1, 1)),
                      raises=ValueError, note="a 4-D spatial weight"))
    return cases


def _forward_no_relu(x, spatial_weight, temporal_weight, stride=1, padding=0):  # noqa: ANN001, ANN202
    conv3d = torch.nn.functional.conv3d
    st, sh, sw = (stride,) * 3 if isinstance(stride, int) else stride
    pt, ph, pw = (padding,) * 3 if isinstance(padding, int) else padding
    y = conv3d(x, spatial_weight, stride=(1, sh, sw), padding=(0, ph, pw))
    return conv3d(y, temporal_weight, stride=(st, 1, 1), padding=(pt, 0, 0))


def _forward_temporal_first(x, spatial_weight, temporal_weight, stride=1, padding=0):  # noqa: ANN001, ANN202
    conv3d = torch.nn.functional.conv3d
    st, sh, sw = (stride,) * 3 if isinstance(stride, int) else stride
    pt, ph, pw = (padding,) * 3 if isinstance(padding, int) else padding
    y = torch.relu(conv3d(x, temporal_weight, stride=(st, 1, 1), padding=(pt, 0, 0)))
    return conv3d(y, spatial_weight, stride=(1, sh, sw), padding=(0, ph, pw))


def _forward_padding_everywhere(x, spatial_weight, temporal_weight, stride=1, padding=0):  # noqa: ANN001, ANN202
    conv3d = torch.nn.functional.conv3d
    st, sh, sw = (stride,) * 3 if isinstance(stride, int) else stride
    y = torch.relu(conv3d(x, spatial_weight, stride=(1, sh, sw), padding=padding))
    return conv3d(y, temporal_weight, stride=(st, 1, 1), padding=padding)


def _forward_stride_twice(x, spatial_weight, temporal_weight, stride=1, padding=0):  # noqa: ANN001, ANN202
    conv3d = torch.nn.functional.conv3d
    pt, ph, pw = (padding,) * 3 if isinstance(padding, int) else padding
    y = torch.relu(conv3d(x, spatial_weight, stride=stride, padding=(0, ph, pw)))
    return conv3d(y, temporal_weight, stride=stride, padding=(pt, 0, 0))


# --- mixed_conv_kernels -------------------------------------------------------------------------------------------
def _mixed_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((5, 3), note="MC3 of an 18-layer ResNet (5 groups)"),
             Case((5, 3), {"reverse": True}, note="rMC3"),
             Case((5, 5), note="MC5: only the last group is 2D"),
             Case((4, 2), {"reverse": True, "t": 5, "d": 7}, note="rMC2 of 4 groups, 5x7x7 kernels")]
    for _ in range(2):
        g = int(rng.integers(1, 9))
        x = int(rng.integers(1, g + 1))
        cases.append(Case((g, x), {"reverse": bool(rng.integers(2)), "t": int(rng.integers(2, 6))},
                          note=f"{g} groups, switching at group {x}"))
    cases.append(Case((5, 0), raises=ValueError, note="switch_group 0 (groups are numbered from 1)"))
    cases.append(Case((1, 1), note="the minimum: one group, switching at group 1 (all 2D for MC1)"))
    cases.append(Case((1, 1), {"reverse": True, "t": 1, "d": 1}, note="rMC1 of one group, t = d = 1"))
    cases.append(Case((5, 0), raises=ValueError, note="switch_group 0 (groups are numbered from 1)"))
    cases.append(Case((5, 6), raises=ValueError, note="switch_group past the last group"))
    cases.append(Case((0, 1), raises=ValueError, note="num_groups 0"))
    cases.append(Case((5, 3), {"t": 0}, raises=ValueError, note="t = 0"))
    cases.append(Case((5, 3), {"d": 0}, raises=ValueError, note="d = 0"))
    cases.append(Case((5, 3.0), raises=ValueError, note="switch_group 3.0, a float"))
    cases.append(Case((5.0, 3), raises=ValueError, note="num_groups 5.0, a float"))
    return cases


def _mixed_off_by_one(num_groups, switch_group, reverse=False, t=3, d=3):  # noqa: ANN001, ANN202
    first, second = ((1, d, d), (t, d, d)) if reverse else ((t, d, d), (1, d, d))
    return [first if group <= switch_group else second for group in range(1, num_groups + 1)]


def _mixed_reverse_ignored(num_groups, switch_group, reverse=False, t=3, d=3):  # noqa: ANN001, ANN202
    return [(t, d, d) if group < switch_group else (1, d, d) for group in range(1, num_groups + 1)]


def _mixed_no_time_axis(num_groups, switch_group, reverse=False, t=3, d=3):  # noqa: ANN001, ANN202
    first, second = ((d, d), (t, d, d)) if reverse else ((t, d, d), (d, d))
    return [first if group < switch_group else second for group in range(1, num_groups + 1)]


# --- p3d_combine ---------------------------------------------------------------------------------------------------
def _p3d_cases(rng: np.random.Generator) -> list[Case]:
    x, ws, wt = _randn(rng, 2, 3, 4, 6, 7), _randn(rng, 3, 3, 1, 3, 3), _randn(rng, 3, 3, 3, 1, 1)
    cases = [Case((x, ws, wt, v), note=f"P3D-{v}, 3 channels, 3x3 and 3-tap kernels") for v in "ABC"]
    for _ in range(3):
        c = int(rng.integers(2, 5))
        kt, kh, kw = (int(v) for v in rng.choice([1, 3, 5], size=3))
        t, h, w = (int(v) for v in rng.integers(3, 10, size=3))
        variant = str(rng.choice(["A", "B", "C"]))
        cases.append(Case((_randn(rng, 1, c, t, h, w), _randn(rng, c, c, 1, kh, kw), _randn(rng, c, c, kt, 1, 1),
                           variant), note=f"P3D-{variant}, {c} channels, clip {(t, h, w)}, kernel {(kt, kh, kw)}"))
    cases.append(Case((x, ws, wt, "D"), raises=ValueError, note="variant 'D'"))
    x1, w1 = _randn(rng, 1, 1, 1, 1, 1), _randn(rng, 1, 1, 1, 1, 1)
    cases.extend(Case((x1, w1, _randn(rng, 1, 1, 1, 1, 1), v), note=f"the minimum: P3D-{v}, one 1x1 frame, 1x1x1 kernels")
                 for v in "ABC")
    cases.append(Case((_randn(rng, 2, 2, 1, 3, 4), _randn(rng, 2, 2, 1, 3, 3), _randn(rng, 2, 2, 3, 1, 1), "C"),
                      note="T = 1 with a 3-tap temporal kernel (padding fills the missing frames)"))
    cases.append(Case((x, ws, wt, "D"), raises=ValueError, note="variant 'D'"))
    cases.append(Case((x, ws, wt, "a"), raises=ValueError, note="variant 'a' (lower case)"))
    cases.append(Case((x, _randn(rng, 3, 3, 1, 2, 3), wt, "A"), raises=ValueError, note="an even kernel size"))
    cases.append(Case((x, ws, _randn(rng, 3, 3, 2, 1, 1), "B"), raises=ValueError, note="an even temporal kernel"))
    cases.append(Case((x, ws, _randn(rng, 3, 2, 3, 1, 1), "A"), raises=ValueError, note="a temporal weight for 2 channels"))
    cases.append(Case((x[0], ws, wt, "A"), raises=ValueError, note="x without the batch axis"))
    return cases


def _p3d_parts(x, spatial_weight, temporal_weight):  # noqa: ANN001, ANN202
    conv3d = torch.nn.functional.conv3d
    kh, kw, kt = spatial_weight.shape[3], spatial_weight.shape[4], temporal_weight.shape[2]

    def S(v):  # noqa: ANN001, ANN202, N802
        return conv3d(v, spatial_weight, padding=(0, kh // 2, kw // 2))

    def T(v):  # noqa: ANN001, ANN202, N802
        return conv3d(v, temporal_weight, padding=(kt // 2, 0, 0))

    return S, T


def _p3d_with_identity(x, spatial_weight, temporal_weight, variant):  # noqa: ANN001, ANN202
    conv3d = torch.nn.functional.conv3d
    kh, kw, kt = spatial_weight.shape[3], spatial_weight.shape[4], temporal_weight.shape[2]
    s = conv3d(x, spatial_weight, padding=(0, kh // 2, kw // 2))
    if variant == "A":
        out = conv3d(s, temporal_weight, padding=(kt // 2, 0, 0))
    elif variant == "B":
        out = s + conv3d(x, temporal_weight, padding=(kt // 2, 0, 0))
    else:
        out = s + conv3d(s, temporal_weight, padding=(kt // 2, 0, 0))
    return x + out


def _p3d_a_temporal_first(x, spatial_weight, temporal_weight, variant):  # noqa: ANN001, ANN202
    S, T = _p3d_parts(x, spatial_weight, temporal_weight)
    return {"A": lambda: S(T(x)), "B": lambda: S(x) + T(x), "C": lambda: S(x) + T(S(x))}[variant]()


def _p3d_b_c_swapped(x, spatial_weight, temporal_weight, variant):  # noqa: ANN001, ANN202
    S, T = _p3d_parts(x, spatial_weight, temporal_weight)
    return {"A": lambda: T(S(x)), "B": lambda: S(x) + T(S(x)), "C": lambda: S(x) + T(x)}[variant]()


def _p3d_c_no_shortcut(x, spatial_weight, temporal_weight, variant):  # noqa: ANN001, ANN202
    S, T = _p3d_parts(x, spatial_weight, temporal_weight)
    return {"A": lambda: T(S(x)), "B": lambda: S(x) + T(x), "C": lambda: T(S(x))}[variant]()


EXERCISES = [
    _ex("midplanes", "course.nn.factorized", _midplanes_cases, [
        Misconception("ceil", "M_i is rounded down (floor), so that the (2+1)D block never has more weights than "
                      "the 3D conv", _midplanes_ceil),
        Misconception("swapped", "N_{i-1} (in_channels) goes with d² and N_i (out_channels) with t in the "
                      "denominator: d²·N_{i-1} + t·N_i", _midplanes_swapped),
        Misconception("no_t", "the temporal size t appears twice: in the numerator t·d²·N_{i-1}·N_i and in the "
                      "denominator's t·N_i", _midplanes_no_t),
        Misconception("float", "M_i is a number of channels: floor the ratio to a Python int (use //)",
                      _midplanes_float),
    ]),
    _ex("conv2plus1d_params", "course.nn.factorized", _params_cases, [
        Misconception("no_square", "the spatial kernel is d×d: each of its filters has in_channels·d² weights",
                      _params_no_square),
        Misconception("temporal_from_input", "the temporal conv reads the mid_channels outputs of the spatial "
                      "conv, not the block's input: out_channels·mid_channels·t weights", _params_temporal_from_input),
        Misconception("bias_once", "with bias=True both convs have one: mid_channels + out_channels biases",
                      _params_bias_once),
    ]),
    _ex("factorize_kernel", "course.nn.factorized", _factorize_cases, [
        Misconception("temporal_first", "return the spatial conv first, then the temporal one: (2+1)D is 2D in "
                      "space, then 1D in time", _factorize_temporal_first),
        Misconception("padding_everywhere", "each conv pads only its own axes: (0, p_h, p_w) for the spatial conv "
                      "and (p_t, 0, 0) for the temporal one", _factorize_padding_everywhere),
        Misconception("stride_twice", "each conv strides only its own axes, (1, s_h, s_w) and (s_t, 1, 1); "
                      "striding in both would downsample twice", _factorize_stride_twice),
        Misconception("no_time_axis", "Conv3d needs three sizes: the spatial kernel is (1, k_h, k_w), with a time "
                      "size of 1", _factorize_no_time_axis),
    ]),
    _ex("conv2plus1d_forward", "course.nn.factorized", _forward_cases, [
        Misconception("no_relu", "apply a ReLU between the spatial and the temporal conv: that extra "
                      "non-linearity is the point of (2+1)D", _forward_no_relu),
        Misconception("temporal_first", "the spatial conv (spatial_weight) comes first, then the temporal one",
                      _forward_temporal_first),
        Misconception("padding_everywhere", "each conv pads only its own axes: (0, p_h, p_w) for the spatial conv "
                      "and (p_t, 0, 0) for the temporal one", _forward_padding_everywhere),
        Misconception("stride_twice", "each conv strides only its own axes, (1, s_h, s_w) and (s_t, 1, 1)",
                      _forward_stride_twice),
    ]),
    _ex("mixed_conv_kernels", "course.nn.factorized", _mixed_cases, [
        Misconception("off_by_one", "MCx switches AT group x: groups 1 … x−1 are the first kind, groups x … "
                      "num_groups the second", _mixed_off_by_one),
        Misconception("reverse_ignored", "with reverse=True (rMCx) the early groups are 2D and the late ones 3D",
                      _mixed_reverse_ignored),
        Misconception("no_time_axis", "a 2D kernel is written (1, d, d) here: the same Conv3d with a time size "
                      "of 1", _mixed_no_time_axis),
    ]),
    _ex("p3d_combine", "course.nn.factorized", _p3d_cases, [
        Misconception("with_identity", "p3d_combine returns only the S/T combination; the identity shortcut "
                      "x + ... belongs to the residual block around it", _p3d_with_identity),
        Misconception("a_temporal_first", "P3D-A is T(S(x)): the spatial conv first", _p3d_a_temporal_first),
        Misconception("b_c_swapped", "B is parallel, S(x) + T(x); C is serial with a shortcut, S(x) + T(S(x))",
                      _p3d_b_c_swapped),
        Misconception("c_no_shortcut", "P3D-C adds S's output to T's: S(x) + T(S(x))", _p3d_c_no_shortcut),
    ]),
]
