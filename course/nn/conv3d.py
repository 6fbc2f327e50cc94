"""3D convolution from scratch: output sizes, unfold + einsum, and receptive fields of stacks.

Lesson 02_conv3d.

A 3D convolution slides a (kT, kH, kW) kernel over time as well as space. For an input
``x`` of shape (N, C_in, T, H, W) (the Conv3d layout of ``course.video.layout``) and a weight of
shape (C_out, C_in / groups, kT, kH, kW), output channel ``o`` of group ``g`` at position (t, h, w) is

    y[n, o, t, h, w] = b[o] + sum_{c, i, j, k} w[o, c, i, j, k]
                              · x_pad[n, g·C_in/groups + c, s_T·t + d_T·i, s_H·h + d_H·j, s_W·w + d_W·k]

with ``x_pad`` the input zero-padded by ``padding`` on both sides of T, H and W, ``s`` the strides
and ``d`` the dilations. Like every deep-learning "convolution" (and ``torch.nn.functional.conv3d``)
this is a **cross-correlation**: the kernel is not flipped.

    conv3d_output_size  the output (T', H', W') for an input size and the hyper-parameters
    conv3d              the convolution itself, by ``Tensor.unfold`` windows and one ``einsum``
    receptive_field     how many input positions along one axis an output of a conv stack sees

Sources: the shape formula and the argument conventions of ``torch.nn.Conv3d`` (PyTorch
documentation); Dumoulin & Visin 2016, *A guide to convolution arithmetic for deep learning*
(output sizes, dilation); Araujo et al. 2019, *Computing Receptive Fields of Convolutional Neural
Networks*, Distill (receptive fields of stacks, eq. 2); Tran et al. 2015, *Learning Spatiotemporal
Features with 3D Convolutional Networks* (C3D: 3×3×3 kernels).
"""
from __future__ import annotations

import numbers
from typing import Sequence

import torch

__all__ = ["conv3d_output_size", "conv3d", "receptive_field"]


def conv3d_output_size(size: int | Sequence[int], kernel_size: int | Sequence[int],
                       stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                       dilation: int | Sequence[int] = 1) -> tuple[int, int, int]:
    """Output size (T', H', W') of a 3D convolution, per axis floor((n + 2p − d(k − 1) − 1) / s) + 1.

    A kernel of k taps with dilation d spans d(k − 1) + 1 input positions; it fits at
    floor((n + 2p − span) / s) + 1 positions of a padded axis of n + 2p positions taken every s.

    Args:
        size: input size (T, H, W), or one int for all three axes; each >= 1.
        kernel_size: (kT, kH, kW) or one int; each >= 1.
        stride: (s_T, s_H, s_W) or one int; each >= 1.
        padding: zeros added on *both* sides of each axis, (p_T, p_H, p_W) or one int; each >= 0.
        dilation: spacing between kernel taps, (d_T, d_H, d_W) or one int; each >= 1.

    Returns:
        (T', H', W'), a tuple of three Python ints, each >= 1.

    Raises:
        ValueError: an argument that is not an int or three ints in range, or a kernel that does
            not fit in the padded input (the output would be empty); the message names the axis.
    """
    # 1. every argument as three ints, validated
    limits = {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}
    triples = {}
    for name, value in zip(limits, (size, kernel_size, stride, padding, dilation)):
        triple = (value,) * 3 if isinstance(value, numbers.Integral) else tuple(value)
        if len(triple) != 3 or not all(isinstance(v, numbers.Integral) and v >= limits[name] for v in triple):
            raise ValueError(f"{name} must be an int >= {limits[name]} or three of them (T, H, W), got {value!r}")
        triples[name] = tuple(int(v) for v in triple)
    # 2. per axis: how many kernel positions fit in the padded input
    out = []
    for axis, n, k, s, p, d in zip("THW", *triples.values()):
        span = d * (k - 1) + 1  # input positions one dilated kernel covers
        if n + 2 * p < span:
            raise ValueError(f"axis {axis}: the kernel spans {span} positions (kernel_size={k}, dilation={d}) "
                             f"but the padded input has only {n} + 2·{p} = {n + 2 * p}; the output would be "
                             "empty: pad more or use a smaller kernel")
        out.append((n + 2 * p - span) // s + 1)
    return tuple(out)


def conv3d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
           dilation: int | Sequence[int] = 1, groups: int = 1) -> torch.Tensor:
    """3D convolution (a cross-correlation, as in ``torch.nn.functional.conv3d``) by unfold + einsum.

    Differentiable by autograd with respect to ``x``, ``weight`` and ``bias``.

    Args:
        x: (N, C_in, T, H, W) input, float, the Conv3d layout.
        weight: (C_out, C_in / groups, kT, kH, kW) kernels, same dtype and device as ``x``.
        bias: (C_out,) or None.
        stride: (s_T, s_H, s_W) or one int, each >= 1.
        padding: zeros on both sides of T, H and W, (p_T, p_H, p_W) or one int, each >= 0.
        dilation: spacing of the kernel taps, (d_T, d_H, d_W) or one int, each >= 1.
        groups: input and output channels are split into ``groups`` blocks; output block g sees
            only input block g. C_in and C_out must be divisible by it.

    Returns:
        (N, C_out, T', H', W'), with (T', H', W') = ``conv3d_output_size(...)``.

    Raises:
        ValueError: wrong ranks, channels that do not match, groups that do not divide the
            channels, a bias of the wrong shape, hyper-parameters out of range, or a kernel larger
            than the padded input; the message names the shapes.
    """
    # 1. validate shapes; hyper-parameters as three ints
    if x.dim() != 5 or weight.dim() != 5:
        raise ValueError(f"expected x (N, C_in, T, H, W) and weight (C_out, C_in/groups, kT, kH, kW), both 5-D; "
                         f"got x {tuple(x.shape)} and weight {tuple(weight.shape)}")
    N, C_in, T, H, W = x.shape
    C_out, C_group, kT, kH, kW = weight.shape  # C_group = input channels per group
    if not isinstance(groups, int) or groups < 1 or C_in % groups or C_out % groups:
        raise ValueError(f"groups={groups!r} must be an int >= 1 dividing C_in={C_in} and C_out={C_out}")
    if C_group * groups != C_in:
        raise ValueError(f"x {tuple(x.shape)} has C_in={C_in} channels but weight {tuple(weight.shape)} expects "
                         f"{C_group} per group × groups={groups} = {C_group * groups}")
    if bias is not None and tuple(bias.shape) != (C_out,):
        raise ValueError(f"bias must have shape ({C_out},), one per output channel; got {tuple(bias.shape)}")
    stride, padding, dilation = (tuple(v) if isinstance(v, (tuple, list)) else (v,) * 3
                                 for v in (stride, padding, dilation))
    if not len(stride) == len(padding) == len(dilation) == 3 or min(stride + dilation) < 1 or min(padding) < 0:
        raise ValueError(f"stride {stride} and dilation {dilation} need three ints >= 1 (T, H, W), "
                         f"padding {padding} three ints >= 0")
    # 2. zero-pad T, H and W on both sides (F.pad lists the last axis first)
    x = torch.nn.functional.pad(x, (padding[2], padding[2], padding[1], padding[1], padding[0], padding[0]))
    # 3. windows: each unfold adds a trailing axis of span = d(k - 1) + 1 positions, taken every s
    for axis, k, s, d in zip((2, 3, 4), (kT, kH, kW), stride, dilation):
        if x.shape[axis] < d * (k - 1) + 1:
            raise ValueError(f"kernel {(kT, kH, kW)} with dilation {dilation} does not fit in the padded input "
                             f"{tuple(x.shape[2:])} (T, H, W); the output would be empty")
        x = x.unfold(axis, d * (k - 1) + 1, s)
    patches = x[..., ::dilation[0], ::dilation[1], ::dilation[2]]  # (N, C_in, T', H', W', kT, kH, kW), a view
    # 4. multiply-accumulate over input channels and kernel taps, group by group
    patches = patches.unflatten(1, (groups, C_group))  # (N, G, C_in/G, T', H', W', kT, kH, kW)
    w = weight.unflatten(0, (groups, C_out // groups))  # (G, C_out/G, C_in/G, kT, kH, kW)
    out = torch.einsum("ngctyxijk,gocijk->ngotyx", patches, w).flatten(1, 2)  # (N, C_out, T', H', W')
    # 5. one bias per output channel
    if bias is not None:
        out = out + bias.view(1, C_out, 1, 1, 1)
    return out


def receptive_field(kernel_sizes: Sequence[int], strides: int | Sequence[int] = 1,
                    dilations: int | Sequence[int] = 1) -> int:
    """Receptive field along one axis of a stack of convolutions (or poolings), in input positions.

    Layer l (counted from the input) with kernel k_l, stride s_l and dilation d_l widens the
    receptive field by d_l (k_l − 1) steps of its input, and one step of its input is
    s_1 · … · s_{l−1} input positions (Araujo et al. 2019, eq. 2):

        r = 1 + sum_l d_l (k_l − 1) · prod_{j < l} s_j

    Use it per axis: the temporal receptive field of a 3D CNN comes from its kT, s_T and d_T.

    Args:
        kernel_sizes: kernel size of each layer along the axis, from input to output; each >= 1.
        strides: stride of each layer (same length), or one int for all; each >= 1.
        dilations: dilation of each layer (same length), or one int for all; each >= 1.

    Returns:
        The number of input positions (frames, pixels) one output position depends on, a Python int.

    Raises:
        ValueError: no layers, values < 1, non-integers, or lengths that differ.
    """
    # 1. one (kernel, stride, dilation) per layer, validated
    num_layers = len(kernel_sizes)
    strides = [strides] * num_layers if isinstance(strides, numbers.Integral) else list(strides)
    dilations = [dilations] * num_layers if isinstance(dilations, numbers.Integral) else list(dilations)
    if num_layers == 0 or len(strides) != num_layers or len(dilations) != num_layers:
        raise ValueError(f"need one kernel, stride and dilation per layer and at least one layer; got "
                         f"{num_layers} kernel sizes, {len(strides)} strides, {len(dilations)} dilations")
    for name, values in [("kernel_sizes", kernel_sizes), ("strides", strides), ("dilations", dilations)]:
        if not all(isinstance(v, numbers.Integral) and v >= 1 for v in values):
            raise ValueError(f"{name} must be integers >= 1, got {list(values)!r}")
    # 2. accumulate: each layer adds d(k - 1) steps of its input, one step = product of earlier strides
    field, step = 1, 1
    for k, s, d in zip(kernel_sizes, strides, dilations):
        field += d * (k - 1) * step
        step *= s
    return int(field)
