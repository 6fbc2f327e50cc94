"""Video ResNets: R3D, MC3 / rMC3 (mixed convolutions) and R(2+1)D, as in torchvision.models.video.

Tran et al. 2018, "A Closer Look at Spatiotemporal Convolutions for Action Recognition", compare
18-layer ResNets on clips that differ only in their convolutions:

    R3D      every conv 3×3×3
    MCx      3D convs in groups 1 … x−1, 2D (1×3×3) convs from group x on (MC3: stem and layer1 3D)
    rMCx     the reverse: 2D convs in groups 1 … x−1, 3D from group x on (rMC3: layer2–layer4 3D)
    R(2+1)D  every 3×3×3 conv replaced by a 1×3×3 conv → BN → ReLU → 3×1×1 conv (Conv2Plus1d)

The layout is torchvision's, module for module, so state-dict keys are the same:

    x (N, 3, T, H, W)
    │ stem        3D:     Conv3d 3→64 k(3,7,7) s(1,2,2) p(1,3,3) → BN → ReLU
    │             (2+1)D: Conv3d 3→M k(1,7,7) s(1,2,2) p(0,3,3) → BN → ReLU
    │                     → Conv3d M→64 k(3,1,1) p(1,0,0) → BN → ReLU        (M = 45 in torchvision)
    │             2D:     Conv3d 3→64 k(1,7,7) s(1,2,2) p(0,3,3) → BN → ReLU  (rMC, our choice)
    │ layer1      2 BasicBlocks,  64 channels, stride 1
    │ layer2      2 BasicBlocks, 128 channels, stride 2 (also in time, except for 2D convs)
    │ layer3      2 BasicBlocks, 256 channels, stride 2
    │ layer4      2 BasicBlocks, 512 channels, stride 2
    │ avgpool     AdaptiveAvgPool3d(1) → flatten
    ↓ fc          Linear 512 → num_classes

Why torchvision's R(2+1)D-18 has fewer parameters than R3D-18 (31,505,325 against 33,371,472)
although the M_i rule is meant to keep the count: torchvision computes M once per BasicBlock, from
the block's in_planes and planes, ``(in_planes * planes * 3 * 3 * 3) // (in_planes * 3 * 3 + 3 * planes)``
— exactly the M_i of the block's *first* conv — and uses it for *both* convs. Where in_planes equals
planes that is right for both. In the first block of layer2, layer3 and layer4 the first conv doubles
the channels (N_{i-1} = N_i / 2), so M = floor(1.8·N_i) (230, 460, 921), while the second conv
(N_i → N_i) needs M = 2.25·N_i (288, 576, 1152): those three convs get 20 % fewer intermediate
channels and weights than the 3D convs they replace, 1,865,514 parameters in all. The stem adds
12,958: torchvision uses M = 45 where the rule gives 83 for a 3→64, 3×7×7 conv.
``r2plus1d_18_paper`` applies the rule to every convolution, stem included, and has 33,383,797
parameters, 12,325 more than R3D-18 (+0.04 %): the floor in M_i removes a little, the BatchNorm
between each spatial and temporal conv (2·M parameters) adds a little more.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from course.nn.factorized import Conv2Plus1d, midplanes, mixed_conv_kernels

__all__ = [
    "CONV_KINDS",
    "BasicBlock",
    "VideoResNet",
    "make_conv",
    "make_stem",
    "block_mid_channels",
    "create_video_resnet",
    "r3d_18",
    "mc3_18",
    "rmc3_18",
    "r2plus1d_18",
    "r2plus1d_18_paper",
    "small_video_resnet",
]

CONV_KINDS = ("3d", "2d", "2+1d")  # t×d×d conv, 1×d×d conv (no time), 1×d×d → BN → ReLU → t×1×1
MIDPLANES_RULES = ("paper", "torchvision")


def make_conv(kind: str, in_channels: int, out_channels: int, stride: int = 1,
              mid_channels: int | None = None) -> nn.Module:
    """One 3×3×3-style convolution of a BasicBlock, padding 1 (sizes kept up to the stride).

    Args:
        kind: "3d" (3×3×3, stride (s, s, s)), "2d" (1×3×3, stride (1, s, s)) or "2+1d"
            (:class:`Conv2Plus1d`, stride (s, s, s)).
        in_channels, out_channels: channels.
        stride: s, the block's stride.
        mid_channels: M of a "2+1d" conv (None: the M_i rule); ignored by the others.

    Returns:
        A module without bias (a BatchNorm follows it).
    """
    if kind == "3d":
        return nn.Conv3d(in_channels, out_channels, (3, 3, 3), stride=stride, padding=1, bias=False)
    if kind == "2d":
        return nn.Conv3d(in_channels, out_channels, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1),
                         bias=False)
    if kind == "2+1d":
        return Conv2Plus1d(in_channels, out_channels, (3, 3, 3), stride=stride, padding=1, mid_channels=mid_channels)
    raise ValueError(f"kind must be one of {CONV_KINDS}, got {kind!r}")


def _downsample_stride(kind: str, stride: int) -> tuple[int, int, int]:
    return (1, stride, stride) if kind == "2d" else (stride, stride, stride)


class BasicBlock(nn.Module):
    """The two-conv residual block of ResNet-18/34, with 3D, 2D or (2+1)D convolutions.

        x (N, C_in, T, H, W)
        ├────────────────────────────────────────┐
        │ conv1: conv (stride) → BN → ReLU         │ downsample: 1×1×1 conv (stride) → BN,
        │ conv2: conv → BN                         │ or identity when sizes are kept
        ↓                                          │
        (+) ←──────────────────────────────────────┘
        ReLU → y (N, C_out, T', H', W')

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kind: "3d", "2d" or "2+1d" (see :func:`make_conv`).
        stride: the block's stride (in time too, unless ``kind`` is "2d").
        mid_channels: (M of conv1, M of conv2) for "2+1d"; None entries apply the M_i rule per conv.
    """

    def __init__(self, in_channels: int, out_channels: int, kind: str = "3d", stride: int = 1,
                 mid_channels: tuple[int | None, int | None] = (None, None)) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(make_conv(kind, in_channels, out_channels, stride, mid_channels[0]),
                                   nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(make_conv(kind, out_channels, out_channels, 1, mid_channels[1]),
                                   nn.BatchNorm3d(out_channels))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv3d(in_channels, out_channels, 1, stride=_downsample_stride(kind, stride), bias=False),
                nn.BatchNorm3d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, H, W) → (N, C_out, T', H', W')."""
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + shortcut)


def block_mid_channels(rule: str, in_channels: int, out_channels: int) -> tuple[int, int]:
    """(M of conv1, M of conv2) of a (2+1)D BasicBlock under a rule.

    "paper": the M_i rule per conv, ``midplanes(in, out, 3, 3)`` and ``midplanes(out, out, 3, 3)``.
    "torchvision": one M for both, ``(in * out * 27) // (in * 9 + 3 * out)``, which is conv1's M_i.
    """
    if rule == "paper":
        return midplanes(in_channels, out_channels, 3, 3), midplanes(out_channels, out_channels, 3, 3)
    if rule == "torchvision":
        m = (in_channels * out_channels * 3 * 3 * 3) // (in_channels * 3 * 3 + 3 * out_channels)
        return m, m
    raise ValueError(f"rule must be one of {MIDPLANES_RULES}, got {rule!r}")


def make_stem(kind: str, out_channels: int, *, in_channels: int = 3, kernel_size: Sequence[int] = (3, 7, 7),
              stride: Sequence[int] = (1, 2, 2), mid_channels: int | None = None) -> nn.Sequential:
    """The stem (group 1): one conv, or a (2+1)D pair, each followed by BN → ReLU.

    Padding is half the kernel (sizes kept up to the stride). The (2+1)D stem is flat, six
    children like torchvision's ``R2Plus1dStem`` (spatial conv, BN, ReLU, temporal conv, BN, ReLU);
    its temporal conv has stride 1 in time when ``stride[0]`` is 1.

    Args:
        kind: "3d" (k_t×k_h×k_w), "2d" (1×k_h×k_w) or "2+1d".
        out_channels: channels out (the width of layer1).
        in_channels: channels in (3 for RGB).
        kernel_size: (k_t, k_h, k_w) of the 3D stem; "2d" uses (1, k_h, k_w).
        stride: (s_t, s_h, s_w).
        mid_channels: M of a "2+1d" stem; None applies the M_i rule (83 for 3→64 with 3×7×7).
    """
    kt, kh, kw = kernel_size
    st, sh, sw = stride
    if kind == "3d":
        conv = nn.Conv3d(in_channels, out_channels, (kt, kh, kw), stride=(st, sh, sw),
                         padding=(kt // 2, kh // 2, kw // 2), bias=False)
        return nn.Sequential(conv, nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True))
    if kind == "2d":
        conv = nn.Conv3d(in_channels, out_channels, (1, kh, kw), stride=(1, sh, sw), padding=(0, kh // 2, kw // 2),
                         bias=False)
        return nn.Sequential(conv, nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True))
    if kind == "2+1d":
        mid = mid_channels if mid_channels is not None else \
            (kt * kh * kw * in_channels * out_channels) // (kh * kw * in_channels + kt * out_channels)
        return nn.Sequential(
            nn.Conv3d(in_channels, mid, (1, kh, kw), stride=(1, sh, sw), padding=(0, kh // 2, kw // 2), bias=False),
            nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
            nn.Conv3d(mid, out_channels, (kt, 1, 1), stride=(st, 1, 1), padding=(kt // 2, 0, 0), bias=False),
            nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True))
    raise ValueError(f"kind must be one of {CONV_KINDS}, got {kind!r}")


class VideoResNet(nn.Module):
    """stem → layer1 … layer4 → global average pool → fc: logits of a batch of clips.

        x (N, C, T, H, W) → stem → layer1 → layer2 → layer3 → layer4   (N, F, T', H', W')
          → avgpool (N, F, 1, 1, 1) → flatten (N, F) → fc → logits (N, num_classes)

    Weights are initialised like torchvision's VideoResNet: Kaiming-normal (fan_out, ReLU) convs,
    BatchNorm weight 1 and bias 0, fc weight N(0, 0.01) and bias 0.

    Args:
        stem: the first group (a module mapping (N, C, T, H, W) to (N, widths[0], ...)).
        layers: the residual groups, named layer1, layer2, ... in order.
        num_features: F, channels out of the last layer.
        num_classes: outputs of the fc layer.
    """

    def __init__(self, stem: nn.Module, layers: Sequence[nn.Module], num_features: int, num_classes: int) -> None:
        super().__init__()
        self.stem = stem
        self.num_layers = len(layers)
        for i, layer in enumerate(layers):
            self.add_module(f"layer{i + 1}", layer)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) → pooled features (N, F)."""
        x = self.stem(x)
        for i in range(self.num_layers):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.avgpool(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) → logits (N, num_classes)."""
        return self.fc(self.features(x))


def create_video_resnet(
    *,
    # stem (group 1)
    stem_kind: str = "3d",
    stem_kernel: Sequence[int] = (3, 7, 7),
    stem_stride: Sequence[int] = (1, 2, 2),
    stem_mid_channels: int | None = None,  # M of a (2+1)D stem; None: the M_i rule
    in_channels: int = 3,
    # residual groups (groups 2 … 5)
    layer_kinds: Sequence[str] = ("3d", "3d", "3d", "3d"),
    depths: Sequence[int] = (2, 2, 2, 2),  # BasicBlocks per group
    widths: Sequence[int] = (64, 128, 256, 512),
    strides: Sequence[int] = (1, 2, 2, 2),  # in time too, except for 2D convs
    midplanes_rule: str = "paper",  # "paper": M_i per conv; "torchvision": conv1's M_i for both convs
    # head
    num_classes: int = 400,
) -> VideoResNet:
    """A VideoResNet with BasicBlocks from keyword arguments (pytorchvideo-style builder).

    Returns:
        A :class:`VideoResNet`; input (N, in_channels, T, H, W), output (N, num_classes).

    Raises:
        ValueError: the per-group sequences differ in length, or an unknown kind or rule.
    """
    if not len(layer_kinds) == len(depths) == len(widths) == len(strides):
        raise ValueError(f"layer_kinds, depths, widths and strides need one entry per group, got "
                         f"{len(layer_kinds)}, {len(depths)}, {len(widths)}, {len(strides)}")
    if midplanes_rule not in MIDPLANES_RULES:
        raise ValueError(f"midplanes_rule must be one of {MIDPLANES_RULES}, got {midplanes_rule!r}")
    stem = make_stem(stem_kind, widths[0], in_channels=in_channels, kernel_size=stem_kernel, stride=stem_stride,
                     mid_channels=stem_mid_channels)
    layers, channels = [], widths[0]
    for kind, depth, width, stride in zip(layer_kinds, depths, widths, strides):
        blocks = []
        for i in range(depth):
            mids = block_mid_channels(midplanes_rule, channels, width) if kind == "2+1d" else (None, None)
            blocks.append(BasicBlock(channels, width, kind, stride if i == 0 else 1, mids))
            channels = width
        layers.append(nn.Sequential(*blocks))
    return VideoResNet(stem, layers, channels, num_classes)


def _kinds_from_kernels(kernels: list[tuple[int, int, int]]) -> list[str]:
    return ["3d" if t > 1 else "2d" for t, _, _ in kernels]


def r3d_18(*, num_classes: int = 400) -> VideoResNet:
    """R3D-18: 3D convolutions everywhere (torchvision ``r3d_18``; 33,371,472 parameters at 400 classes)."""
    return create_video_resnet(stem_kind="3d", layer_kinds=("3d",) * 4, num_classes=num_classes)


def mc3_18(*, num_classes: int = 400) -> VideoResNet:
    """MC3-18: 3D stem and layer1, 2D (1×3×3) convs in layer2–layer4 (torchvision ``mc3_18``; 11,695,440)."""
    kinds = _kinds_from_kernels(mixed_conv_kernels(5, 3))  # groups 1, 2 → 3D; 3, 4, 5 → 2D
    return create_video_resnet(stem_kind=kinds[0], layer_kinds=kinds[1:], num_classes=num_classes)


def rmc3_18(*, num_classes: int = 400) -> VideoResNet:
    """rMC3-18: 2D stem (1×7×7) and layer1, 3D convs in layer2–layer4 (not in torchvision)."""
    kinds = _kinds_from_kernels(mixed_conv_kernels(5, 3, reverse=True))  # groups 1, 2 → 2D; 3, 4, 5 → 3D
    return create_video_resnet(stem_kind=kinds[0], layer_kinds=kinds[1:], num_classes=num_classes)


def r2plus1d_18(*, num_classes: int = 400) -> VideoResNet:
    """R(2+1)D-18 as torchvision builds it (31,505,325 parameters at 400 classes).

    Stem M = 45; each block uses conv1's M_i for both convs, so the second conv of the first block
    of layer2–layer4 gets fewer intermediate channels than the M_i rule gives (see the module doc).
    """
    return create_video_resnet(stem_kind="2+1d", stem_mid_channels=45, layer_kinds=("2+1d",) * 4,
                               midplanes_rule="torchvision", num_classes=num_classes)


def r2plus1d_18_paper(*, num_classes: int = 400) -> VideoResNet:
    """R(2+1)D-18 with the M_i rule of Tran et al. 2018 on every convolution, the stem included.

    Its parameter count is within 0.1 % of R3D-18's (the tests state the measured ratio).
    """
    return create_video_resnet(stem_kind="2+1d", layer_kinds=("2+1d",) * 4, midplanes_rule="paper",
                               num_classes=num_classes)


def small_video_resnet(
    kind: str,
    *,
    # output
    num_classes: int,
    # size: widths of the four groups and BasicBlocks per group
    widths: Sequence[int] = (8, 16, 32, 64),
    depths: Sequence[int] = (1, 1, 1, 1),
    # input
    in_channels: int = 3,
    stem_stride: Sequence[int] = (2, 2, 2),  # 8×32×32 clips → 4×16×16 after the stem
) -> VideoResNet:
    """A small video ResNet for 8×32×32 clips (lesson 04's experiment): trains in seconds on a CPU.

    The stem is a 3×3×3 conv (or its 2D / (2+1)D counterpart) with stride 2 in time and space (a 2D
    stem does not stride in time); layer2–layer4 halve time, height and width (except in 2D groups).
    With 8 frames of 32×32 the groups of "r3d" see 4×16×16, 2×8×8, 1×4×4 and 1×2×2 positions.

    Args:
        kind: "r3d" (3D everywhere), "r2plus1d" (the M_i rule on every conv, about R3D's count),
            "r2d" (2D everywhere: no temporal modelling at all), "mc3" or "rmc3".
        num_classes: outputs.
        widths: channels of the four groups; the stem has widths[0].
        depths: BasicBlocks per group.
        in_channels: channels of the input frames.
        stem_stride: stride of the stem, (time, height, width).
    """
    groups = {"r3d": ["3d"] * 5, "r2plus1d": ["2+1d"] * 5, "r2d": ["2d"] * 5,
              "mc3": _kinds_from_kernels(mixed_conv_kernels(5, 3)),
              "rmc3": _kinds_from_kernels(mixed_conv_kernels(5, 3, reverse=True))}
    if kind not in groups:
        raise ValueError(f"kind must be one of {sorted(groups)}, got {kind!r}")
    kinds = groups[kind]
    return create_video_resnet(stem_kind=kinds[0], stem_kernel=(3, 3, 3), stem_stride=stem_stride,
                               in_channels=in_channels, layer_kinds=kinds[1:], depths=depths, widths=widths,
                               midplanes_rule="paper", num_classes=num_classes)

