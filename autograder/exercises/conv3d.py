"""Graded exercises of lesson 02_conv3d: output sizes, 3D convolution from scratch, counting."""
from __future__ import annotations

import math

import numpy as np
import torch

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "02_conv3d"


_ex = exercise_maker(ASSIGNMENT)


def _reference(name: str):  # noqa: ANN202 - the trusted reference, for wrong answers built on it
    import importlib

    module = "course.counting" if name in ("conv_params", "conv3d_flops") else "course.nn.conv3d"
    return getattr(importlib.import_module(module), name)


# --- conv3d_output_size ---------------------------------------------------------------------------
def _size_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(((16, 112, 112), (3, 5, 5)), {"padding": (1, 2, 2)},
                  note="(3, 5, 5) kernel, 'same' padding (1, 2, 2)"),
             Case(((16, 112, 112), 3), {"padding": 1}, note="16×112×112 clip, 3×3×3 kernel, padding 1"),
             Case(((16, 112, 112), (3, 7, 7)), {"stride": (1, 2, 2), "padding": (1, 3, 3)},
                  note="a stem: (3, 7, 7) kernel, stride (1, 2, 2)"),
             Case(((5, 7, 6), (3, 2, 3)), {"dilation": (2, 1, 2)}, note="dilation (2, 1, 2), no padding"),
             Case(((9, 10, 11), 3), {"stride": 2}, note="stride 2 on odd and even sizes")]
    for _ in range(3):
        size = tuple(int(v) for v in rng.integers(4, 40, size=3))
        kernel = tuple(int(v) for v in rng.integers(1, 5, size=3))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=3))
        padding = tuple(int(v) for v in rng.integers(0, 3, size=3))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=3))
        cases.append(Case((size, kernel, stride, padding, dilation), note=f"size {size}, kernel {kernel}, "
                          f"stride {stride}, padding {padding}, dilation {dilation}"))
    cases.append(Case(((2, 8, 8), 3), raises=ValueError, note="the kernel is longer than the clip (T = 2)"))
    cases.append(Case(((8, 8, 8), (3, 3)), raises=ValueError, note="a 2-D kernel size"))
    cases.append(Case((1, 1), note="the minimum: a 1×1×1 kernel on a 1×1×1 input, stride 1"))
    cases.append(Case(((1, 5, 4), 3), {"padding": 1}, note="T = 1 with 'same' padding: one output frame"))
    n = int(rng.integers(2, 9))
    cases.append(Case(((n, 6, 7), (n, 1, 1)), {"stride": 1}, note=f"a kernel exactly as long as the clip (T = {n})"))
    cases.append(Case(((8, 8, 8), 3), {"stride": 0}, raises=ValueError, note="stride 0"))
    cases.append(Case(((8, 8, 8), 3), {"padding": -1}, raises=ValueError, note="padding -1"))
    cases.append(Case(((8, 8, 8), 3), {"dilation": 0}, raises=ValueError, note="dilation 0"))
    cases.append(Case(((0, 8, 8), 1), raises=ValueError, note="an input of size 0"))
    cases.append(Case(((8, 8, 8), (3, 3.0, 3)), raises=ValueError, note="kernel_size (3, 3.0, 3): a float"))
    cases.append(Case(((8, 8, 8, 8), 3), raises=ValueError, note="a 4-entry size"))
    return cases


def _size_no_plus_one(size, kernel_size, stride=1, padding=0, dilation=1):  # noqa: ANN001, ANN202
    def triple(v):  # noqa: ANN001, ANN202
        return (v,) * 3 if isinstance(v, int) else tuple(v)

    return tuple((n + 2 * p - d * (k - 1) - 1) // s for n, k, s, p, d in
                 zip(triple(size), triple(kernel_size), triple(stride), triple(padding), triple(dilation)))


def _size_no_dilation(size, kernel_size, stride=1, padding=0, dilation=1):  # noqa: ANN001, ANN202
    return _reference("conv3d_output_size")(size, kernel_size, stride, padding, 1)


def _size_one_side(size, kernel_size, stride=1, padding=0, dilation=1):  # noqa: ANN001, ANN202
    def triple(v):  # noqa: ANN001, ANN202
        return (v,) * 3 if isinstance(v, int) else tuple(v)

    return tuple((n + p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in
                 zip(triple(size), triple(kernel_size), triple(stride), triple(padding), triple(dilation)))


def _size_ceil(size, kernel_size, stride=1, padding=0, dilation=1):  # noqa: ANN001, ANN202
    def triple(v):  # noqa: ANN001, ANN202
        return (v,) * 3 if isinstance(v, int) else tuple(v)

    return tuple(-(-(n + 2 * p - d * (k - 1) - 1) // s) + 1 for n, k, s, p, d in
                 zip(triple(size), triple(kernel_size), triple(stride), triple(padding), triple(dilation)))


# --- conv3d ---------------------------------------------------------------------------------------
def _conv_case(rng: np.random.Generator, x_shape: tuple, w_shape: tuple, bias: bool, note: str,
               dtype: torch.dtype = torch.float64, **kwargs) -> Case:
    g = torch.Generator().manual_seed(int(rng.integers(1 << 31)))
    x = torch.randn(x_shape, generator=g, dtype=dtype)
    w = torch.randn(w_shape, generator=g, dtype=dtype)
    b = torch.randn(w_shape[0], generator=g, dtype=dtype) if bias else None
    return Case((x, w, b), kwargs, note=note)


def _conv_cases(rng: np.random.Generator) -> list[Case]:
    cases = [
        _conv_case(rng, (2, 4, 5, 7, 6), (3, 4, 3, 3, 3), True, "x (2, 4, 5, 7, 6), 3×3×3 kernel, bias, padding 1",
                   padding=1),
        _conv_case(rng, (1, 3, 6, 9, 8), (2, 3, 2, 3, 1), False,
                   "kernel (2, 3, 1), stride (1, 2, 2), padding (0, 1, 2)", stride=(1, 2, 2), padding=(0, 1, 2)),
        _conv_case(rng, (2, 2, 7, 8, 9), (4, 2, 3, 2, 3), True, "dilation (2, 1, 2), padding 2", dilation=(2, 1, 2),
                   padding=2),
        _conv_case(rng, (1, 4, 4, 5, 6), (6, 2, 3, 3, 3), True, "groups 2: 4 → 6 channels, padding 1", groups=2,
                   padding=1),
        _conv_case(rng, (2, 3, 5, 5, 5), (3, 1, 3, 3, 3), False, "depthwise: groups = channels = 3", groups=3),
        _conv_case(rng, (1, 2, 6, 10, 7), (4, 2, 3, 3, 3), True, "float32, stride 2, padding 1",
                   dtype=torch.float32, stride=2, padding=1),
    ]
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kernel = tuple(int(v) for v in rng.integers(1, 4, size=3))
    size = tuple(int(v) for v in rng.integers(5, 10, size=3))
    kw = {"stride": tuple(int(v) for v in rng.integers(1, 3, size=3)),
          "padding": tuple(int(v) for v in rng.integers(0, 2, size=3)),
          "dilation": tuple(int(v) for v in rng.integers(1, 3, size=3)), "groups": groups}
    cases.append(_conv_case(rng, (2, c_in, *size), (c_out, c_in // groups, *kernel), True,
                            f"x (2, {c_in}, {size}), kernel {kernel}, {kw}", **kw))
    x, w = torch.zeros(1, 3, 4, 5, 5), torch.zeros(2, 4, 3, 3, 3)
    cases.append(Case((x, w), raises=ValueError, note="x has 3 channels, the weight expects 4"))
    cases.append(Case((torch.zeros(1, 4, 4, 5, 5), torch.zeros(3, 2, 3, 3, 3)), {"groups": 2}, raises=ValueError,
                      note="groups 2 does not divide 3 output channels"))
    cases.append(Case((torch.zeros(4, 4, 5, 5), w), raises=ValueError, note="a 4-D input: the batch axis is missing"))
    cases.append(_conv_case(rng, (1, 1, 1, 1, 1), (1, 1, 1, 1, 1), True, "the minimum: a 1×1×1 kernel on a 1×1×1 clip"))
    cases.append(_conv_case(rng, (2, 2, 1, 4, 5), (3, 2, 1, 3, 3), True, "T = 1: a (1, 3, 3) kernel on one frame",
                            stride=1, padding=(0, 1, 1)))
    cases.append(_conv_case(rng, (1, 2, 3, 4, 4), (2, 2, 3, 4, 4), False, "a kernel as large as the clip: one output"))
    cases.append(Case((torch.zeros(1, 4, 2, 5, 5), w), raises=ValueError, note="the kernel is longer than the clip"))
    cases.append(Case((torch.zeros(1, 4, 4, 5, 5), torch.zeros(2, 4, 3, 3)), raises=ValueError,
                      note="a 4-D weight"))
    cases.append(Case((torch.zeros(1, 4, 4, 5, 5), w, torch.zeros(3)), raises=ValueError,
                      note="3 biases for 2 output channels"))
    cases.append(Case((torch.zeros(1, 4, 4, 5, 5), w), {"stride": 0}, raises=ValueError, note="stride 0"))
    cases.append(Case((torch.zeros(1, 4, 4, 5, 5), w), {"padding": -1}, raises=ValueError, note="padding -1"))
    cases.append(Case((torch.zeros(1, 4, 4, 5, 5), w), {"groups": 0}, raises=ValueError, note="groups 0"))
    return cases


def _conv_frame_layout(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: ANN001, ANN202
    stride, padding, dilation = (tuple(v) if isinstance(v, (tuple, list)) else (v,) * 3
                                 for v in (stride, padding, dilation))
    C_out, C_group, kT, kH, kW = weight.shape
    x = torch.nn.functional.pad(x, (padding[2], padding[2], padding[1], padding[1], padding[0], padding[0]))
    for axis, k, s, d in zip((2, 3, 4), (kT, kH, kW), stride, dilation):
        x = x.unfold(axis, d * (k - 1) + 1, s)
    patches = x[..., ::dilation[0], ::dilation[1], ::dilation[2]].unflatten(1, (groups, C_group))
    w = weight.unflatten(0, (groups, C_out // groups))
    out = torch.einsum("ngctyxijk,gocijk->ntgoyx", patches, w).flatten(2, 3)  # (N, T', C_out, H', W')
    if bias is not None:
        out = out + bias.view(1, 1, C_out, 1, 1)
    return out


def _conv_flipped(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: ANN001, ANN202
    return _reference("conv3d")(x, weight.flip(2, 3, 4), bias, stride, padding, dilation, groups)


def _conv_no_bias(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: ANN001, ANN202
    return _reference("conv3d")(x, weight, None, stride, padding, dilation, groups)


def _conv_no_dilation(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: ANN001, ANN202
    return _reference("conv3d")(x, weight, bias, stride, padding, 1, groups)


def _conv_interleaved_groups(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: ANN001, ANN202
    C_in = x.shape[1]
    order = [c * groups + g for g in range(groups) for c in range(C_in // groups)]  # channels g, g + G, ...
    return _reference("conv3d")(x[:, order], weight, bias, stride, padding, dilation, groups)


# --- receptive_field -----------------------------------------------------------------------------
def _field_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(([3, 2, 3, 2, 3],), {"strides": [1, 2, 1, 2, 1]}, note="conv, pool, conv, pool, conv"),
             Case(([3] * 8,), note="eight 3-tap layers, stride 1"),
             Case(([3, 3, 3],), {"strides": 1, "dilations": [1, 2, 4]}, note="dilations 1, 2, 4"),
             Case(([7],), {"strides": [2]}, note="one layer: its kernel"),
             Case(([1, 1],), note="1-tap layers see one position")]
    for _ in range(2):
        n = int(rng.integers(2, 7))
        cases.append(Case(([int(v) for v in rng.integers(1, 6, size=n)],),
                          {"strides": [int(v) for v in rng.integers(1, 3, size=n)],
                           "dilations": [int(v) for v in rng.integers(1, 3, size=n)]}, note=f"{n} random layers"))
    cases.append(Case(([],), raises=ValueError, note="no layers"))
    cases.append(Case(([3, 3],), {"strides": [1, 2, 1]}, raises=ValueError, note="3 strides for 2 layers"))
    cases.append(Case(([1],), note="the minimum: one 1-tap layer, stride 1"))
    cases.append(Case(([1, int(rng.integers(2, 6))],), {"strides": [int(rng.integers(2, 5)), 1]},
                      note="a 1-tap strided layer, then a wider one"))
    cases.append(Case(([3, 0],), raises=ValueError, note="a kernel of size 0"))
    cases.append(Case(([3, 3],), {"strides": 0}, raises=ValueError, note="stride 0"))
    cases.append(Case(([3, 3],), {"dilations": [1, 0]}, raises=ValueError, note="a dilation of 0"))
    cases.append(Case(([3, 3],), {"dilations": [1, 2, 1]}, raises=ValueError, note="3 dilations for 2 layers"))
    cases.append(Case(([3, 2.5],), raises=ValueError, note="a kernel size of 2.5"))
    return cases


def _listify(v, n):  # noqa: ANN001, ANN202
    return [v] * n if isinstance(v, int) else list(v)


def _field_no_strides(kernel_sizes, strides=1, dilations=1):  # noqa: ANN001, ANN202
    n = len(kernel_sizes)
    dilations = [dilations] * n if isinstance(dilations, int) else list(dilations)
    return 1 + sum(d * (k - 1) for k, d in zip(kernel_sizes, dilations))


def _field_sum_kernels(kernel_sizes, strides=1, dilations=1):  # noqa: ANN001, ANN202
    field, step = 0, 1
    for k, s, d in zip(kernel_sizes, _listify(strides, len(kernel_sizes)), _listify(dilations, len(kernel_sizes))):
        field += (d * (k - 1) + 1) * step
        step *= s
    return field


def _field_own_stride(kernel_sizes, strides=1, dilations=1):  # noqa: ANN001, ANN202
    field, step = 1, 1
    for k, s, d in zip(kernel_sizes, _listify(strides, len(kernel_sizes)), _listify(dilations, len(kernel_sizes))):
        step *= s
        field += d * (k - 1) * step
    return field


# --- conv_params ----------------------------------------------------------------------------------
def _params_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((3, 1, 3), note="3×3×3 kernel, 3 → 1 channels, with bias"),
             Case((3, 1, (3, 3)), {"bias": False}, note="3×3 2D kernel, 3 → 1 channels, no bias"),
             Case((64, 128, (3, 3, 3)), {"groups": 4}, note="groups 4"),
             Case((32, 32, (1, 3, 3)), {"groups": 32, "bias": False}, note="depthwise (1, 3, 3)"),
             Case((16, 8, (3, 1, 1)), note="a temporal (3, 1, 1) kernel")]
    for _ in range(2):
        groups = int(rng.choice([1, 2, 4]))
        c_in, c_out = groups * int(rng.integers(1, 33)), groups * int(rng.integers(1, 33))
        kernel = tuple(int(v) for v in rng.integers(1, 8, size=int(rng.integers(1, 4))))
        cases.append(Case((c_in, c_out, kernel), {"bias": bool(rng.integers(2)), "groups": groups},
                          note=f"{c_in} → {c_out}, kernel {kernel}, groups {groups}"))
    cases.append(Case((6, 4, 3), {"groups": 4}, raises=ValueError, note="groups 4 does not divide 6 input channels"))
    cases.append(Case((1, 1, 1), note="the minimum: 1 → 1 channel, a 1×1×1 kernel, with bias"))
    cases.append(Case((1, 1, (1,)), {"bias": False, "groups": 1}, note="a 1-D kernel of one tap, no bias"))
    cases.append(Case((3, 0, 3), raises=ValueError, note="0 output channels"))
    cases.append(Case((3, 1, (3, 0)), raises=ValueError, note="a kernel axis of size 0"))
    cases.append(Case((4, 4, 3), {"groups": 0}, raises=ValueError, note="groups 0"))
    cases.append(Case((3, 1, ()), raises=ValueError, note="a kernel without axes"))
    cases.append(Case((3.0, 1, 3), raises=ValueError, note="in_channels 3.0, a float"))
    return cases


def _params_no_bias(in_channels, out_channels, kernel_size, bias=True, groups=1):  # noqa: ANN001, ANN202
    kernel = (kernel_size,) * 3 if isinstance(kernel_size, int) else tuple(kernel_size)
    return out_channels * (in_channels // groups) * math.prod(kernel)


def _params_kernel_2d(in_channels, out_channels, kernel_size, bias=True, groups=1):  # noqa: ANN001, ANN202
    kernel = (kernel_size,) * 2 if isinstance(kernel_size, int) else tuple(kernel_size)
    return out_channels * (in_channels // groups) * math.prod(kernel) + (out_channels if bias else 0)


def _params_no_groups(in_channels, out_channels, kernel_size, bias=True, groups=1):  # noqa: ANN001, ANN202
    return _reference("conv_params")(in_channels, out_channels, kernel_size, bias)


def _params_both_divided(in_channels, out_channels, kernel_size, bias=True, groups=1):  # noqa: ANN001, ANN202
    kernel = (kernel_size,) * 3 if isinstance(kernel_size, int) else tuple(kernel_size)
    return (out_channels // groups) * (in_channels // groups) * math.prod(kernel) + (out_channels if bias else 0)


# --- conv3d_flops ---------------------------------------------------------------------------------
def _flops_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((3, 64, 3, (16, 112, 112)), note="C3D's first layer on a 16×112×112 clip"),
             Case((64, 64, (1, 3, 3), (8, 28, 28)), {"groups": 4}, note="spatial (1, 3, 3) kernel, groups 4"),
             Case((32, 32, (3, 3, 3), (5, 7, 6)), {"groups": 32}, note="depthwise, odd output size"),
             Case((16, 8, (3, 1, 1), 4), note="temporal (3, 1, 1) kernel, output 4×4×4")]
    for _ in range(2):
        groups = int(rng.choice([1, 2, 4]))
        c_in, c_out = groups * int(rng.integers(1, 33)), groups * int(rng.integers(1, 33))
        kernel = tuple(int(v) for v in rng.integers(1, 8, size=3))
        out = tuple(int(v) for v in rng.integers(1, 60, size=3))
        cases.append(Case((c_in, c_out, kernel, out), {"groups": groups},
                          note=f"{c_in} → {c_out}, kernel {kernel}, output {out}, groups {groups}"))
    cases.append(Case((6, 4, 3, 8), {"groups": 4}, raises=ValueError, note="groups 4 does not divide 6 input channels"))
    cases.append(Case((1, 1, 1, 1), note="the minimum: 1 → 1 channel, 1×1×1 kernel, 1×1×1 output"))
    cases.append(Case((2, 2, (1, 1, 1), (1, int(rng.integers(1, 9)), 1)), {"groups": 2},
                      note="a 1×1×1 kernel, groups 2, one output frame"))
    cases.append(Case((3, 8, (3, 3), (8, 8, 8)), raises=ValueError, note="a 2-D kernel size"))
    cases.append(Case((3, 8, 3, (8, 0, 8)), raises=ValueError, note="an output of size 0"))
    cases.append(Case((4, 4, 3, 8), {"groups": 0}, raises=ValueError, note="groups 0"))
    cases.append(Case((3, 8, (3, 3.0, 3), 8), raises=ValueError, note="kernel_size (3, 3.0, 3): a float"))
    return cases


def _flops_macs(in_channels, out_channels, kernel_size, output_size, groups=1):  # noqa: ANN001, ANN202
    kernel = (kernel_size,) * 3 if isinstance(kernel_size, int) else tuple(kernel_size)
    output = (output_size,) * 3 if isinstance(output_size, int) else tuple(output_size)
    return (in_channels // groups) * math.prod(kernel) * out_channels * math.prod(output)


def _flops_no_groups(in_channels, out_channels, kernel_size, output_size, groups=1):  # noqa: ANN001, ANN202
    return _reference("conv3d_flops")(in_channels, out_channels, kernel_size, output_size)


def _flops_with_bias(in_channels, out_channels, kernel_size, output_size, groups=1):  # noqa: ANN001, ANN202
    output = (output_size,) * 3 if isinstance(output_size, int) else tuple(output_size)
    flops = _reference("conv3d_flops")(in_channels, out_channels, kernel_size, output_size, groups)
    return flops + out_channels * math.prod(output)


EXERCISES = [
    _ex("conv3d_output_size", "course.nn.conv3d", _size_cases, [
        Misconception("no_plus_one", "off by one: a kernel fits at floor((n + 2p − span) / s) + 1 positions, "
                      "the first one included", _size_no_plus_one),
        Misconception("no_dilation", "dilation was ignored: a kernel of k taps with dilation d spans d·(k − 1) + 1 "
                      "input positions", _size_no_dilation),
        Misconception("one_side", "padding adds p zeros on *both* sides of each axis: n + 2p", _size_one_side),
        Misconception("ceil", "rounded up: a convolution drops the last partial window (floor, not ceil)", _size_ceil),
    ]),
    _ex("conv3d", "course.nn.conv3d", _conv_cases, [
        Misconception("frame_layout", "the output axes are in the frame layout (N, T', C_out, H', W'); "
                      "a 3D convolution returns the Conv3d layout (N, C_out, T', H', W')", _conv_frame_layout),
        Misconception("flipped", "the kernel was flipped (a true convolution); deep-learning conv3d is a "
                      "cross-correlation: y[t] = sum_i w[i] · x[t + i], no flip", _conv_flipped),
        Misconception("no_bias", "the bias was not added (one number per output channel)", _conv_no_bias),
        Misconception("no_dilation", "dilation was ignored: kernel tap i reads input position s·t + d·i",
                      _conv_no_dilation),
        Misconception("interleaved_groups", "group g must read the contiguous block of input channels "
                      "g·C_in/groups … (g + 1)·C_in/groups − 1, not every groups-th channel",
                      _conv_interleaved_groups),
    ], forbidden_ops=("aten.convolution",), rtol=1e-4, atol=1e-5,
        timeout=10.0),  # the operator recorder's first use imports torch._dynamo (≈2 s on a 2-core machine)
    _ex("receptive_field", "course.nn.conv3d", _field_cases, [
        Misconception("no_strides", "strides were ignored: after a stride-s layer, one step of the next layer's "
                      "input is s positions of the original input", _field_no_strides),
        Misconception("sum_kernels", "the kernel spans were added up; neighbouring windows overlap, so each layer "
                      "adds only d·(k − 1) steps", _field_sum_kernels),
        Misconception("own_stride", "a layer's own stride was applied to its kernel; a stride only spaces out the "
                      "layers *after* it", _field_own_stride),
    ]),
    _ex("conv_params", "course.counting", _params_cases, [
        Misconception("no_bias", "the bias term was forgotten: one bias per output channel when bias=True",
                      _params_no_bias),
        Misconception("kernel_2d", "an int kernel_size means a 3D cube k×k×k (as for nn.Conv3d), not a k×k square",
                      _params_kernel_2d),
        Misconception("no_groups", "groups were ignored: each filter sees only in_channels / groups channels",
                      _params_no_groups),
        Misconception("both_divided", "only the input channels are divided by groups; there are still "
                      "out_channels filters", _params_both_divided),
    ]),
    _ex("conv3d_flops", "course.counting", _flops_cases, [
        Misconception("macs", "that is the number of multiply-accumulates (MACs); one MAC is 2 FLOPs, as "
                      "torch's FlopCounterMode counts", _flops_macs),
        Misconception("no_groups", "groups were ignored: each output sums over in_channels / groups channels",
                      _flops_no_groups),
        Misconception("with_bias", "the bias additions were counted; FlopCounterMode (and this exercise) leaves "
                      "them out", _flops_with_bias),
    ]),
]
