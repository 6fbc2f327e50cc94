"""S3D: separable 3D Inception networks, and I3D-to-S3D mixes that are bottom- or top-heavy.

Lesson 12_slowfast_long_range.

Xie, Sun, Huang, Tu & Murphy 2018, "Rethinking Spatiotemporal Feature Learning: Speed-Accuracy
Trade-offs in Video Classification" (ECCV). Start from I3D (Inception-v1 with every k×k filter
inflated to k×k×k, :mod:`course.nn.inception3d`) and decide, convolution by convolution, how time
is handled:

    "3d"   a full k×k×k convolution                               (I3D)
    "sep"  1×k×k → BN → ReLU → k×1×1 (a "temporally separable" conv) (S3D)
    "2d"   1×k×k only: no temporal mixing at all                     (the paper's "I2D")

The paper's **bottom-heavy** networks keep 3D convs in the lower layers and 2D above a switch
point; **top-heavy** ones are 2D below and 3D above. Top-heavy was faster and at least as accurate
in the paper, on Kinetics and on Something-something (temporal modelling pays off on high-level
features, where the maps are also small and cheap).
:func:`heavy_kinds` writes both layouts; :func:`small_s3d` is the same network scaled down for
32×32 clips.

Layout (torchvision's ``s3d``, module for module; 8,320,048 parameters at 400 classes):

    clip (N, 3, T, 224, 224)
      ↓ conv1 7×7×7 stride 2 (kind)          → MaxPool 1×3×3, stride 1×2×2
      ↓ conv2b 1×1×1 (64) → conv2c 3×3×3 (192, kind) → MaxPool 1×3×3, stride 1×2×2
      ↓ Mixed_3b, Mixed_3c                    → MaxPool 3×3×3, stride 2, pad 1
      ↓ Mixed_4b … Mixed_4f                   → MaxPool 2×2×2, stride 2
      ↓ Mixed_5b, Mixed_5c                    → AvgPool 2×7×7, stride 1
      ↓ Dropout → Conv3d 1×1×1 (with bias) → mean over the positions → (N, num_classes)

Each Inception block's two 3×3 branches use the block's kind; the 1×1×1 convs and the pool branch
are the same in every kind. Every conv but the classifier has no bias and is followed by BN and
ReLU (torchvision uses BN eps 1e-3, momentum 1e-3; here PyTorch's defaults, same parameters). The
gated variant S3D-G (feature gating after each block) is not built here.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course.nn.inception3d import INCEPTION_V1_BLOCKS

__all__ = ["CONV_KINDS", "separable_conv3d", "heavy_kinds", "conv_unit", "SepInceptionBlock", "S3D", "s3d",
           "small_s3d"]

CONV_KINDS: tuple[str, ...] = ("3d", "sep", "2d")


def separable_conv3d(x: torch.Tensor, spatial_weight: torch.Tensor, temporal_weight: torch.Tensor) -> torch.Tensor:
    """An S3D separable convolution without batch norm: k×k in space → ReLU → k in time.

    Both convolutions have stride 1 and pad half their kernel on their own axes only, so T, H and W
    are kept (odd kernels).

    Args:
        x: (N, C, T, H, W).
        spatial_weight: (M, C, 1, k, k), odd k.
        temporal_weight: (C_out, M, k_t, 1, 1), odd k_t.

    Returns:
        (N, C_out, T, H, W) = conv_t(relu(conv_s(x))), before the block's last BN and ReLU.

    Raises:
        ValueError: ranks, shapes or channels that do not fit, or even kernels.
    """
    # 1. validate
    if x.dim() != 5:
        raise ValueError(f"x must be (N, C, T, H, W), got shape {tuple(x.shape)}")
    ws, wt = spatial_weight, temporal_weight
    if ws.dim() != 5 or ws.shape[1] != x.shape[1] or ws.shape[2] != 1 or ws.shape[3] != ws.shape[4] or ws.shape[3] % 2 == 0:
        raise ValueError(f"spatial_weight must be (M, {x.shape[1]}, 1, k, k) with an odd k, got {tuple(ws.shape)}")
    if wt.dim() != 5 or wt.shape[1] != ws.shape[0] or wt.shape[3:] != (1, 1) or wt.shape[2] % 2 == 0:
        raise ValueError(f"temporal_weight must be (C_out, {ws.shape[0]}, k_t, 1, 1) with an odd k_t, "
                         f"got {tuple(wt.shape)}")
    # 2. spatial conv on every frame, padded in H and W only
    k, kt = ws.shape[3], wt.shape[2]
    y = F.relu(F.conv3d(x, ws, padding=(0, k // 2, k // 2)))  # (N, M, T, H, W)
    # 3. temporal conv at every pixel, padded in T only
    return F.conv3d(y, wt, padding=(kt // 2, 0, 0))  # (N, C_out, T, H, W)


def heavy_kinds(layout: str, num_layers: int, switch: int, *, other: str = "2d") -> tuple[str, ...]:
    """The kind of each layer of a bottom- or top-heavy network.

    Args:
        layout: "bottom" (3D in layers 0 … switch - 1, ``other`` above) or "top" (``other`` in layers
            0 … switch - 1, 3D above).
        num_layers: layers that have a temporal choice (11 in S3D: conv1, conv2c and 9 blocks).
        switch: the index of the first layer of the second kind, 0 … num_layers.
        other: the non-3D kind, "2d" (the paper's I2D parts) or "sep".

    Raises:
        ValueError: unknown layout or kind, or switch outside 0 … num_layers.
    """
    if layout not in ("bottom", "top") or other not in CONV_KINDS or not 0 <= switch <= num_layers:
        raise ValueError(f"layout must be 'bottom' or 'top', other one of {CONV_KINDS}, 0 <= switch <= "
                         f"{num_layers}; got {layout!r}, {other!r}, {switch}")
    first, second = ("3d", other) if layout == "bottom" else (other, "3d")
    return tuple(first if i < switch else second for i in range(num_layers))


def _conv_bn_relu(in_channels: int, out_channels: int, kernel: tuple[int, int, int],
                  stride: tuple[int, int, int]) -> nn.Sequential:
    padding = tuple(k // 2 for k in kernel)
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv3d(in_channels, out_channels, kernel, stride, padding=padding, bias=False)),
        ("bn", nn.BatchNorm3d(out_channels)), ("relu", nn.ReLU(inplace=True))]))


def conv_unit(kind: str, in_channels: int, out_channels: int, kernel_size: int,
              stride: Sequence[int] = (1, 1, 1)) -> nn.Sequential:
    """One k×k×k-style convolution unit of a kind, each conv followed by BN → ReLU.

    Args:
        kind: "3d" (k×k×k), "sep" (1×k×k → k×1×1, torchvision's ``TemporalSeparableConv``) or
            "2d" (1×k×k).
        in_channels, out_channels: channels.
        kernel_size: k.
        stride: (s_t, s_h, s_w); "sep" strides space in its first conv and time in its second.

    Raises:
        ValueError: an unknown kind.
    """
    k, (st, sh, sw) = kernel_size, tuple(stride)
    if kind == "3d":
        return _conv_bn_relu(in_channels, out_channels, (k, k, k), (st, sh, sw))
    if kind == "2d":
        return _conv_bn_relu(in_channels, out_channels, (1, k, k), (st, sh, sw))
    if kind == "sep":
        return nn.Sequential(_conv_bn_relu(in_channels, out_channels, (1, k, k), (1, sh, sw)),
                             _conv_bn_relu(out_channels, out_channels, (k, 1, 1), (st, 1, 1)))
    raise ValueError(f"kind must be one of {CONV_KINDS}, got {kind!r}")


class SepInceptionBlock(nn.Module):
    """An Inception block whose two 3×3 branches are of one kind ("sep" in S3D).

        x (N, C_in, T, H, W)
          ├ b0: 1×1×1 → c0
          ├ b1: 1×1×1 → c1r → 3×3 unit (kind) → c1
          ├ b2: 1×1×1 → c2r → 3×3 unit (kind) → c2
          └ b3: MaxPool 3×3×3 (stride 1, pad 1) → 1×1×1 → c3
        cat on channels → (N, c0 + c1 + c2 + c3, T, H, W)
    """

    def __init__(self, in_channels: int, channels: Sequence[int], kind: str = "sep") -> None:
        super().__init__()
        c0, c1r, c1, c2r, c2, c3 = channels
        self.branch0 = conv_unit("3d", in_channels, c0, 1)
        self.branch1 = nn.Sequential(conv_unit("3d", in_channels, c1r, 1), conv_unit(kind, c1r, c1, 3))
        self.branch2 = nn.Sequential(conv_unit("3d", in_channels, c2r, 1), conv_unit(kind, c2r, c2, 3))
        self.branch3 = nn.Sequential(nn.MaxPool3d(3, stride=1, padding=1), conv_unit("3d", in_channels, c3, 1))
        self.out_channels = c0 + c1 + c2 + c3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, H, W) → (N, out_channels, T, H, W)."""
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], dim=1)


class S3D(nn.Module):
    """S3D / I3D / I2D and their bottom- and top-heavy mixes (see the module docstring).

    Args:
        num_classes: outputs.
        kinds: one kind per temporal layer: conv1, conv2c, then one per block (len(blocks) + 2).
        in_channels: 3 for RGB.
        stem_channels: (conv1, conv2b, conv2c) channels.
        stem_kernel: k of conv1 (7 in the paper).
        stem_stride: (s_t, s_h, s_w) of conv1.
        blocks: block name → (c0, c1r, c1, c2r, c2, c3), in order.
        block_pools: block name → (kernel, stride, padding) of a max pool before that block.
        head_pool: average-pool kernel before the classifier (torchvision: (2, 7, 7), stride 1, then
            the mean of the class scores over the remaining positions); None: global average.
        dropout: before the classifier.
    """

    def __init__(self, num_classes: int = 400, *,
                 kinds: Sequence[str] = ("sep",) * 11,
                 in_channels: int = 3,
                 stem_channels: Sequence[int] = (64, 64, 192),
                 stem_kernel: int = 7,
                 stem_stride: Sequence[int] = (2, 2, 2),
                 blocks: Mapping[str, Sequence[int]] = INCEPTION_V1_BLOCKS,
                 block_pools: Mapping[str, tuple[int, int, int]] | None = None,
                 head_pool: Sequence[int] | None = (2, 7, 7),
                 dropout: float = 0.2) -> None:
        super().__init__()
        if len(kinds) != len(blocks) + 2 or set(kinds) - set(CONV_KINDS):
            raise ValueError(f"kinds needs {len(blocks) + 2} entries from {CONV_KINDS} (conv1, conv2c, one per "
                             f"block), got {tuple(kinds)}")
        pools = {"Mixed_4b": (3, 2, 1), "Mixed_5b": (2, 2, 0)} if block_pools is None else dict(block_pools)
        c1, c2b, c2c = stem_channels
        layers: OrderedDict[str, nn.Module] = OrderedDict([
            ("conv1", conv_unit(kinds[0], in_channels, c1, stem_kernel, stem_stride)),
            ("pool1", nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))),
            ("conv2b", conv_unit("3d", c1, c2b, 1)),
            ("conv2c", conv_unit(kinds[1], c2b, c2c, 3)),
            ("pool2", nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))),
        ])
        channels = c2c
        for (name, config), kind in zip(blocks.items(), kinds[2:]):
            if name in pools:
                k, s, p = pools[name]
                layers[f"pool_{name}"] = nn.MaxPool3d(k, stride=s, padding=p)
            block = SepInceptionBlock(channels, config, kind)
            layers[name] = block
            channels = block.out_channels
        self.features = nn.Sequential(layers)
        self.avgpool = nn.AvgPool3d(tuple(head_pool), stride=1) if head_pool is not None else nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Conv3d(channels, num_classes, 1, bias=True)
        self.kinds = tuple(kinds)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) → (N, num_classes): class scores averaged over the pooled positions."""
        x = self.classifier(self.dropout(self.avgpool(self.features(clip))))  # (N, K, T', H', W')
        return x.mean(dim=(2, 3, 4))


def s3d(*, num_classes: int = 400, kinds: Sequence[str] = ("sep",) * 11, dropout: float = 0.2) -> S3D:
    """S3D as torchvision's ``s3d`` (8,320,048 parameters at 400 classes); other ``kinds`` give I3D/I2D mixes."""
    return S3D(num_classes, kinds=kinds, dropout=dropout)


def small_s3d(*, num_classes: int, kinds: Sequence[str], in_channels: int = 1, width: int = 8,
              dropout: float = 0.0) -> S3D:
    """S3D scaled down for 32×32 clips: a 3×3 stem with ``width`` channels and two Inception blocks.

    Channels are Inception-v1's Mixed_3b and Mixed_3c divided by 64 / width (at width 8:
    (8, 12, 16, 2, 4, 4) → 32 channels, (16, 16, 24, 4, 12, 8) → 60). Spatial size: 32 → 16 (pool1)
    → 8 (pool2) → 4 (a 3×3×3 stride-2 pool before Mixed_3c, which also halves time). A global
    average pool feeds the classifier.

    Args:
        num_classes: outputs.
        kinds: four kinds: conv1, conv2c, Mixed_3b, Mixed_3c (see :func:`heavy_kinds`).
        in_channels: 1 for grey clips.
        width: conv1's channels (64 in S3D).
        dropout: before the classifier.
    """
    scale = 64 // width if 64 % width == 0 else None
    if scale is None:
        raise ValueError(f"width must divide 64, got {width}")
    blocks = {name: tuple(max(1, c // scale) for c in INCEPTION_V1_BLOCKS[name]) for name in ("Mixed_3b", "Mixed_3c")}
    return S3D(num_classes, kinds=kinds, in_channels=in_channels, stem_channels=(width, width, 3 * width),
               stem_kernel=3, stem_stride=(1, 1, 1), blocks=blocks, block_pools={"Mixed_3c": (3, 2, 1)},
               head_pool=None, dropout=dropout)
