"""An FstCN-style network: spatial convolutions on every frame, then temporal convolutions (lesson 12_slowfast_long_range).

Sun, Jia, Yeung & Shi 2015, "Human Action Recognition using Factorized Spatio-Temporal
Convolutional Networks" (ICCV) factorise a 3D network into lower **spatial** convolution layers
(SCL, 2D convs shared by all frames) and upper **temporal** convolution layers (TCL, 1D convs along
time at every position of the spatial feature map), joined by a transformation and permutation
operator. The paper adds a parallel spatial path beside the temporal layers, training and testing on
several clips per video, and a score fusion weighted by a sparsity concentration index; this builder
keeps the idea the lesson needs, spatial first, temporal on top (it is not the paper's full network):

    clip (N, C, T, H, W)
      ↓ SCL: per stage Conv 1×3×3 → BN → ReLU → MaxPool 1×2×2          (N, F, T, H/2^s, W/2^s)
      ↓ transformation: Conv 1×1×1 → BN → ReLU                         (N, F, T, h, w)
      ↓ TCL: Conv k_t×1×1 (pad k_t // 2) → BN → ReLU, once per entry    (N, F, T, h, w)
      ↓ global average pool → Linear                                    (N, num_classes)
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["FstCN", "fstcn"]


def _unit(in_channels: int, out_channels: int, kernel: tuple[int, int, int]) -> list[nn.Module]:
    return [nn.Conv3d(in_channels, out_channels, kernel, padding=tuple(k // 2 for k in kernel), bias=False),
            nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True)]


class FstCN(nn.Module):
    """Spatial-then-temporal convolutions (see the module docstring).

    Args:
        num_classes: outputs.
        in_channels: channels of the frames.
        spatial_widths: channels of each SCL stage (each halves H and W).
        temporal_layers: TCL convs on top (0: a per-frame network with temporal average pooling).
        temporal_kernel: k_t of the TCL convs (odd).
    """

    def __init__(self, num_classes: int, *, in_channels: int = 3, spatial_widths: Sequence[int] = (16, 32, 64),
                 temporal_layers: int = 2, temporal_kernel: int = 3) -> None:
        super().__init__()
        if temporal_kernel % 2 == 0 or temporal_layers < 0 or not spatial_widths:
            raise ValueError(f"temporal_kernel must be odd, temporal_layers >= 0 and spatial_widths non-empty; got "
                             f"{temporal_kernel}, {temporal_layers}, {tuple(spatial_widths)}")
        layers: list[nn.Module] = []
        channels = in_channels
        for width in spatial_widths:
            layers += [*_unit(channels, width, (1, 3, 3)), nn.MaxPool3d((1, 2, 2))]
            channels = width
        self.spatial = nn.Sequential(*layers)
        self.transform = nn.Sequential(*_unit(channels, channels, (1, 1, 1)))
        self.temporal = nn.Sequential(*[m for _ in range(temporal_layers)
                                        for m in _unit(channels, channels, (temporal_kernel, 1, 1))])
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) → (N, num_classes)."""
        x = self.temporal(self.transform(self.spatial(clip)))  # (N, F, T, h, w)
        return self.fc(x.mean(dim=(2, 3, 4)))


def fstcn(*, num_classes: int, in_channels: int = 3, spatial_widths: Sequence[int] = (16, 32, 64),
          temporal_layers: int = 2, temporal_kernel: int = 3) -> FstCN:
    """An :class:`FstCN` from keyword arguments."""
    return FstCN(num_classes, in_channels=in_channels, spatial_widths=spatial_widths,
                 temporal_layers=temporal_layers, temporal_kernel=temporal_kernel)
