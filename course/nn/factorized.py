"""Factorized 3D convolutions: (2+1)D, P3D blocks and mixed 2D/3D stacks.

Lesson 04_factorized_conv.

A full 3D convolution with a t×d×d kernel learns space and time together. Two papers split it into a
spatial 1×d×d convolution and a temporal t×1×1 convolution:

    R(2+1)D  Tran et al. 2018, "A Closer Look at Spatiotemporal Convolutions for Action Recognition":
             spatial conv → BN → ReLU → temporal conv, with M_i intermediate channels chosen so the
             pair has (almost) the parameters of the 3D conv it replaces (their eq. for M_i);
             also the mixed-convolution families MCx (3D early, 2D late) and rMCx (reversed).
    P3D      Qiu et al. 2017, "Learning Spatio-Temporal Representation with Pseudo-3D Residual
             Networks": three ways to combine a spatial conv S and a temporal conv T inside a
             bottleneck residual block — A: T(S(x)), B: S(x) + T(x), C: S(x) + T(S(x)).

This file holds the graded functions of lesson 04 (plain data in, plain data out) and the modules
built from them:

    midplanes              M_i = floor(t·d²·N_{i-1}·N_i / (d²·N_{i-1} + t·N_i))
    conv2plus1d_params     weights (and biases) of a spatial + temporal pair
    factorize_kernel       kernel / stride / padding of a t×h×w conv split into 1×h×w and t×1×1
    conv2plus1d_forward    spatial conv → ReLU → temporal conv, with the weights as tensors
    mixed_conv_kernels     per-group kernels of MCx / rMCx stacks
    p3d_combine            the P3D-A/B/C combinations of S and T
    Conv2Plus1d            the (2+1)D module (torchvision's child layout: conv, BN, ReLU, conv)
    P3DBlockA/B/C          bottleneck residual blocks with the three P3D combinations

Layout: clips (N, C, T, H, W), the layout of ``torch.nn.Conv3d``; kernel, stride and padding
triples are (time, height, width).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course.nn._checks import ntuple

__all__ = [
    "midplanes",
    "conv2plus1d_params",
    "factorize_kernel",
    "conv2plus1d_forward",
    "mixed_conv_kernels",
    "p3d_combine",
    "Conv2Plus1d",
    "P3DBlock",
    "P3DBlockA",
    "P3DBlockB",
    "P3DBlockC",
]


def midplanes(in_channels: int, out_channels: int, t: int, d: int) -> int:
    """Intermediate channels M_i of a (2+1)D block (Tran et al. 2018, Sec. 3.5).

    A t×d×d 3D convolution from N_{i-1} to N_i channels has t·d²·N_{i-1}·N_i weights. Its (2+1)D
    replacement, a 1×d×d conv to M_i channels and then a t×1×1 conv to N_i channels, has
    M_i·(d²·N_{i-1} + t·N_i). Setting the two equal and flooring gives

        M_i = floor(t·d²·N_{i-1}·N_i / (d²·N_{i-1} + t·N_i)),

    so the (2+1)D block has at most the 3D conv's weights, fewer by less than d²·N_{i-1} + t·N_i.

    Args:
        in_channels: N_{i-1}, channels into the block, >= 1.
        out_channels: N_i, channels out of the block, >= 1.
        t: temporal kernel size, >= 1.
        d: spatial kernel size (d×d), >= 1.

    Returns:
        M_i, a Python int; (64, 64, 3, 3) gives 144 and (3, 64, 3, 7) gives 83.

    Raises:
        ValueError: an argument that is not an int >= 1.
    """
    # 1. validate: four integers >= 1
    for name, value in [("in_channels", in_channels), ("out_channels", out_channels), ("t", t), ("d", d)]:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    # 2. the 3D conv's weights divided by the weights per intermediate channel, floored (exact integers)
    return (t * d * d * in_channels * out_channels) // (d * d * in_channels + t * out_channels)


def conv2plus1d_params(in_channels: int, out_channels: int, t: int, d: int, mid_channels: int,
                       bias: bool = False) -> int:
    """Parameters of a (2+1)D pair: a 1×d×d conv to ``mid_channels``, then a t×1×1 conv.

    Only the two convolutions are counted (the BatchNorm between them adds 2·mid_channels more).

    Args:
        in_channels: channels into the spatial conv, >= 1.
        out_channels: channels out of the temporal conv, >= 1.
        t: temporal kernel size, >= 1.
        d: spatial kernel size (d×d), >= 1.
        mid_channels: channels between the two convs (M_i), >= 1.
        bias: whether both convs have a bias (one per output channel each).

    Returns:
        mid_channels·in_channels·d² + out_channels·mid_channels·t (+ mid_channels + out_channels
        with bias), a Python int; (64, 64, 3, 3, 144) gives 110,592, the 3D conv's 3·3·3·64·64.

    Raises:
        ValueError: a size that is not an int >= 1.
    """
    # 1. validate: five integers >= 1
    for name, value in [("in_channels", in_channels), ("out_channels", out_channels), ("t", t), ("d", d),
                        ("mid_channels", mid_channels)]:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    # 2. spatial conv: (mid, in, 1, d, d); temporal conv: (out, mid, t, 1, 1)
    spatial = mid_channels * in_channels * d * d
    temporal = out_channels * mid_channels * t
    # 3. one bias per output channel of each conv
    if bias:
        return spatial + temporal + mid_channels + out_channels
    return spatial + temporal


def factorize_kernel(kernel_size: int | Sequence[int], stride: int | Sequence[int] = 1,
                     padding: int | Sequence[int] = 0) -> tuple[tuple[tuple[int, int, int], ...], ...]:
    """Split a t×h×w convolution's kernel, stride and padding into a spatial and a temporal conv.

    The spatial conv works on each frame: kernel (1, h, w), stride (1, s_h, s_w), padding
    (0, p_h, p_w). The temporal conv works along time only: kernel (t, 1, 1), stride (s_t, 1, 1),
    padding (p_t, 0, 0). Applied one after the other, they give the same output size as the 3D conv.

    Args:
        kernel_size: t×h×w kernel of the 3D conv, an int (cube) or a (t, h, w) triple, each >= 1.
        stride: an int or a (s_t, s_h, s_w) triple, each >= 1.
        padding: an int or a (p_t, p_h, p_w) triple, each >= 0.

    Returns:
        ``((spatial_kernel, spatial_stride, spatial_padding), (temporal_kernel, temporal_stride,
        temporal_padding))``, each a (time, height, width) tuple of Python ints, spatial first.

    Raises:
        ValueError: a sequence that does not have 3 entries, or a value below its minimum.
    """
    # 1. ints become cubes; sequences must be (time, height, width) triples
    triples = []
    for name, value, minimum in [("kernel_size", kernel_size, 1), ("stride", stride, 1), ("padding", padding, 0)]:
        triple = (value, value, value) if isinstance(value, int) else tuple(value)
        if len(triple) != 3 or not all(isinstance(v, int) and v >= minimum for v in triple):
            raise ValueError(f"{name} must be an int >= {minimum} or 3 of them (time, height, width), got {value!r}")
        triples.append(triple)
    (kt, kh, kw), (st, sh, sw), (pt, ph, pw) = triples
    # 2. spatial conv: each frame alone (time axis untouched); temporal conv: each pixel alone
    spatial = ((1, kh, kw), (1, sh, sw), (0, ph, pw))
    temporal = ((kt, 1, 1), (st, 1, 1), (pt, 0, 0))
    return spatial, temporal


def conv2plus1d_forward(x: torch.Tensor, spatial_weight: torch.Tensor, temporal_weight: torch.Tensor,
                        stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0) -> torch.Tensor:
    """A (2+1)D convolution: spatial conv → ReLU → temporal conv, without biases or BatchNorm.

    ``stride`` and ``padding`` are those of the 3D conv being replaced: the spatial conv takes
    their height and width parts, the temporal conv their time part.

    Args:
        x: (N, C_in, T, H, W) clips.
        spatial_weight: (M, C_in, 1, k_h, k_w), the 1×k_h×k_w kernels.
        temporal_weight: (C_out, M, k_t, 1, 1), the k_t×1×1 kernels.
        stride: an int or (s_t, s_h, s_w).
        padding: an int or (p_t, p_h, p_w).

    Returns:
        (N, C_out, T', H', W'), the sizes ``F.conv3d`` gives for a k_t×k_h×k_w kernel with this
        stride and padding; dtype of ``x``.

    Raises:
        ValueError: ``x`` is not 5-D, a weight is not a spatial (time size 1) or temporal (1×1
            spatial size) kernel, or the channels do not chain.
    """
    # 1. validate the layout and the kernel shapes
    if x.dim() != 5:
        raise ValueError(f"x must be a batch of clips (N, C, T, H, W), got shape {tuple(x.shape)}")
    if spatial_weight.dim() != 5 or spatial_weight.shape[2] != 1:
        raise ValueError(f"spatial_weight must be (M, C_in, 1, k_h, k_w), got {tuple(spatial_weight.shape)}")
    if temporal_weight.dim() != 5 or tuple(temporal_weight.shape[3:]) != (1, 1):
        raise ValueError(f"temporal_weight must be (C_out, M, k_t, 1, 1), got {tuple(temporal_weight.shape)}")
    if spatial_weight.shape[1] != x.shape[1] or temporal_weight.shape[1] != spatial_weight.shape[0]:
        raise ValueError(f"channels do not chain: x has {x.shape[1]}, spatial_weight is "
                         f"{tuple(spatial_weight.shape)}, temporal_weight is {tuple(temporal_weight.shape)}")
    # 2. the 3D conv's stride and padding, split by axis
    st, sh, sw = (stride, stride, stride) if isinstance(stride, int) else stride
    pt, ph, pw = (padding, padding, padding) if isinstance(padding, int) else padding
    # 3. spatial conv on every frame, then the non-linearity, then the temporal conv at every pixel
    y = F.conv3d(x, spatial_weight, stride=(1, sh, sw), padding=(0, ph, pw))  # (N, M, T, H', W')
    y = F.relu(y)
    return F.conv3d(y, temporal_weight, stride=(st, 1, 1), padding=(pt, 0, 0))  # (N, C_out, T', H', W')


def mixed_conv_kernels(num_groups: int, switch_group: int, reverse: bool = False, t: int = 3,
                       d: int = 3) -> list[tuple[int, int, int]]:
    """Kernel of each group of a mixed-convolution network, MCx or rMCx (Tran et al. 2018, Sec. 3.2).

    Groups are numbered from 1 (group 1 is the stem, conv1). MCx uses 3D t×d×d kernels in groups
    1 … x−1 and 2D 1×d×d kernels from group x on; rMCx ("reversed") uses 2D kernels in groups
    1 … x−1 and 3D kernels from group x on. With 5 groups, MC3 is 3D, 3D, 2D, 2D, 2D and rMC3 is
    2D, 2D, 3D, 3D, 3D. (The stem's real kernel is larger, 7×7 in space; only its time size
    matters here.)

    Args:
        num_groups: groups of convolutions, >= 1 (5 for an 18-layer ResNet).
        switch_group: x, the first group of the second kind, 1 <= x <= num_groups.
        reverse: False for MCx (3D first), True for rMCx (2D first).
        t: temporal size of a 3D kernel, >= 1.
        d: spatial size of every kernel, >= 1.

    Returns:
        A list of ``num_groups`` (time, height, width) tuples: (t, d, d) for 3D and (1, d, d) for 2D.

    Raises:
        ValueError: num_groups, t or d below 1, or switch_group outside 1 … num_groups.
    """
    # 1. validate
    for name, value in [("num_groups", num_groups), ("t", t), ("d", d)]:
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if not isinstance(switch_group, int) or not 1 <= switch_group <= num_groups:
        raise ValueError(f"switch_group must be between 1 and num_groups={num_groups}, got {switch_group!r}")
    # 2. groups 1 … x−1 are the first kind, groups x … num_groups the second
    first, second = ((1, d, d), (t, d, d)) if reverse else ((t, d, d), (1, d, d))
    return [first if group < switch_group else second for group in range(1, num_groups + 1)]


def p3d_combine(x: torch.Tensor, spatial_weight: torch.Tensor, temporal_weight: torch.Tensor,
                variant: str) -> torch.Tensor:
    """Combine a spatial conv S and a temporal conv T as in P3D-A, B or C (Qiu et al. 2017, Fig. 2).

        A: T(S(x))          serial: S feeds T
        B: S(x) + T(x)      parallel: both see x, their outputs add
        C: S(x) + T(S(x))   serial with a shortcut from S to the output

    Both convs keep the size ("same" zero padding: k_h // 2, k_w // 2 for S and k_t // 2 for T) and
    the channels, so their outputs can be added. No bias, BatchNorm or ReLU here, and no identity
    shortcut from x: the residual blocks add those around this combination.

    Args:
        x: (N, C, T, H, W) clips.
        spatial_weight: (C, C, 1, k_h, k_w), odd k_h and k_w.
        temporal_weight: (C, C, k_t, 1, 1), odd k_t.
        variant: "A", "B" or "C".

    Returns:
        (N, C, T, H, W), dtype of ``x``.

    Raises:
        ValueError: an unknown variant, kernels that are not spatial/temporal C→C kernels of odd
            size, or ``x`` not 5-D.
    """
    # 1. validate
    if variant not in ("A", "B", "C"):
        raise ValueError(f"variant must be 'A', 'B' or 'C', got {variant!r}")
    if x.dim() != 5:
        raise ValueError(f"x must be a batch of clips (N, C, T, H, W), got shape {tuple(x.shape)}")
    C = x.shape[1]
    _, _, _, kh, kw = spatial_weight.shape
    kt = temporal_weight.shape[2]
    if tuple(spatial_weight.shape[:3]) != (C, C, 1) or tuple(temporal_weight.shape) != (C, C, kt, 1, 1):
        raise ValueError(f"with C={C} channels the weights must be (C, C, 1, k_h, k_w) and (C, C, k_t, 1, 1), "
                         f"got {tuple(spatial_weight.shape)} and {tuple(temporal_weight.shape)}")
    if kh % 2 == 0 or kw % 2 == 0 or kt % 2 == 0:
        raise ValueError(f"kernel sizes must be odd to keep the size, got k_t={kt}, k_h={kh}, k_w={kw}")
    # 2. S on every frame and T at every pixel, both size-preserving
    s = F.conv3d(x, spatial_weight, padding=(0, kh // 2, kw // 2))  # (N, C, T, H, W)
    if variant == "A":
        return F.conv3d(s, temporal_weight, padding=(kt // 2, 0, 0))
    if variant == "B":
        return s + F.conv3d(x, temporal_weight, padding=(kt // 2, 0, 0))
    return s + F.conv3d(s, temporal_weight, padding=(kt // 2, 0, 0))


def _triple(value: int | Sequence[int]) -> tuple[int, int, int]:
    value = value if isinstance(value, int) else tuple(int(v) for v in value)
    return ntuple(value, 3, "kernel_size, stride and padding", "(time, height, width)", minimum=0)  # type: ignore[return-value]


class Conv2Plus1d(nn.Sequential):
    """A (2+1)D convolution (Tran et al. 2018): a t×d×d Conv3d split into space then time.

        x (N, C_in, T, H, W)
        │  Conv3d 1×k_h×k_w, stride (1, s_h, s_w), padding (0, p_h, p_w)   [0] spatial
        │  BatchNorm3d(M)                                                   [1]
        │  ReLU                                                             [2] the extra non-linearity
        │  Conv3d k_t×1×1, stride (s_t, 1, 1), padding (p_t, 0, 0)         [3] temporal
        ↓
        y (N, C_out, T', H', W')   — the sizes a Conv3d(kernel_size, stride, padding) gives

    The children and their order are torchvision's ``Conv2Plus1D``, so state-dict keys match
    (``0.weight``, ``1.weight``, ``1.running_mean``, ``3.weight``).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: the 3D kernel (k_t, k_h, k_w) or an int; default 3×3×3.
        stride: the 3D stride (s_t, s_h, s_w) or an int.
        padding: the 3D padding (p_t, p_h, p_w) or an int (0 like Conv3d; 1 keeps 3×3×3 sizes).
        mid_channels: M; None applies the M_i rule (``midplanes``, with d² generalised to k_h·k_w)
            so the pair has at most the 3D conv's weights.
        bias: whether the temporal conv has a bias (the spatial conv never does: BatchNorm follows).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int] = (3, 3, 3),
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0, mid_channels: int | None = None,
                 bias: bool = False) -> None:
        spatial, temporal = factorize_kernel(_triple(kernel_size), _triple(stride), _triple(padding))
        kt, kh, kw = temporal[0][0], spatial[0][1], spatial[0][2]
        if mid_channels is None:  # M_i (Tran et al. 2018) for a k_t×k_h×k_w kernel
            mid_channels = (kt * kh * kw * in_channels * out_channels) // (kh * kw * in_channels + kt * out_channels)
        super().__init__(
            nn.Conv3d(in_channels, mid_channels, spatial[0], stride=spatial[1], padding=spatial[2], bias=False),
            nn.BatchNorm3d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv3d(mid_channels, out_channels, temporal[0], stride=temporal[1], padding=temporal[2], bias=bias),
        )
        self.mid_channels = mid_channels


def _conv_bn_relu(in_channels: int, out_channels: int, kernel_size: tuple[int, int, int],
                  stride: tuple[int, int, int] = (1, 1, 1),
                  relu: bool = True) -> nn.Sequential:
    padding = tuple(k // 2 for k in kernel_size)
    layers: list[nn.Module] = [nn.Conv3d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                         bias=False), nn.BatchNorm3d(out_channels)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class P3DBlock(nn.Module):
    """A P3D bottleneck residual block (Qiu et al. 2017, Fig. 3); ``variant`` picks A, B or C.

        x (N, C_in, T, H, W)
        ├──────────────────────────────────────────────┐
        │  1×1×1 conv → BN → ReLU   (C_in → M, stride)   │ shortcut: identity, or
        │  S = 1×3×3 conv → BN → ReLU (M → M)            │ 1×1×1 conv (stride) → BN
        │  T = 3×1×1 conv → BN → ReLU (M → M)            │ when sizes change
        │  combine S and T:  A: T(S(·))                  │
        │                    B: S(·) + T(·)              │
        │                    C: S(·) + T(S(·))           │
        │  1×1×1 conv → BN          (M → C_out)          │
        ↓                                                │
        (+) ←────────────────────────────────────────────┘
        ReLU → y (N, C_out, T', H', W')

    The stride (an int or a (time, height, width) triple) is applied by the first 1×1×1 conv, so
    that all three variants see the same sizes in S and T. M defaults to C_out // 4, the ResNet
    bottleneck ratio.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        variant: "A", "B" or "C".
        mid_channels: M (default ``out_channels // 4``, at least 1).
        stride: stride of the block.
    """

    def __init__(self, in_channels: int, out_channels: int, variant: str = "A", mid_channels: int | None = None,
                 stride: int | Sequence[int] = 1) -> None:
        super().__init__()
        if variant not in ("A", "B", "C"):
            raise ValueError(f"variant must be 'A', 'B' or 'C', got {variant!r}")
        stride = _triple(stride)
        mid = mid_channels if mid_channels is not None else max(1, out_channels // 4)
        self.variant = variant
        self.reduce = _conv_bn_relu(in_channels, mid, (1, 1, 1), stride)
        self.spatial = _conv_bn_relu(mid, mid, (1, 3, 3))
        self.temporal = _conv_bn_relu(mid, mid, (3, 1, 1))
        self.expand = _conv_bn_relu(mid, out_channels, (1, 1, 1), relu=False)
        self.shortcut = nn.Identity() if in_channels == out_channels and stride == (1, 1, 1) else \
            _conv_bn_relu(in_channels, out_channels, (1, 1, 1), stride, relu=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, H, W) → (N, C_out, T', H', W')."""
        h = self.reduce(x)  # (N, M, T', H', W')
        if self.variant == "A":
            h = self.temporal(self.spatial(h))
        elif self.variant == "B":
            h = self.spatial(h) + self.temporal(h)
        else:
            s = self.spatial(h)
            h = s + self.temporal(s)
        return self.relu(self.expand(h) + self.shortcut(x))


class P3DBlockA(P3DBlock):
    """P3D-A: serial, S then T.  x → 1×1×1 → S → T → 1×1×1 → (+ shortcut) → ReLU.

    Args: as :class:`P3DBlock` without ``variant``.
    """

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int | None = None,
                 stride: int | Sequence[int] = 1) -> None:
        super().__init__(in_channels, out_channels, "A", mid_channels, stride)


class P3DBlockB(P3DBlock):
    """P3D-B: parallel, S ‖ T added.  x → 1×1×1 → (S + T) → 1×1×1 → (+ shortcut) → ReLU.

    Args: as :class:`P3DBlock` without ``variant``.
    """

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int | None = None,
                 stride: int | Sequence[int] = 1) -> None:
        super().__init__(in_channels, out_channels, "B", mid_channels, stride)


class P3DBlockC(P3DBlock):
    """P3D-C: S then T, with a shortcut from S.  x → 1×1×1 → S → (S + T(S)) → 1×1×1 → (+ shortcut) → ReLU.

    Args: as :class:`P3DBlock` without ``variant``.
    """

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int | None = None,
                 stride: int | Sequence[int] = 1) -> None:
        super().__init__(in_channels, out_channels, "C", mid_channels, stride)
