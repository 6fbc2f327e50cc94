"""I3D: the Two-Stream Inflated 3D ConvNet's RGB network, Inception-v1 with every filter inflated.

Carreira & Zisserman 2017, "Quo Vadis, Action Recognition? A New Model and the Kinetics Dataset":
Inception-v1 (Szegedy et al. 2015, "Going Deeper with Convolutions", with batch norm after every
convolution) whose k×k filters become k×k×k (the 7×7 stem becomes 7×7×7; 1×1 filters stay
1×1×1), whose first two max pools do not pool time (1×3×3), and whose classifier is a 1×1×1
convolution whose per-frame logits are averaged over time. Module names follow the paper's figure
and DeepMind's released model (kinetics-i3d):

    clip (N, 3, 64, 224, 224)
      ↓ Conv3d_1a_7x7 (64, stride 2)          → MaxPool3d_2a_3x3 (1×3×3, stride 1×2×2)   (N, 64, 32, 56, 56)
      ↓ Conv3d_2b_1x1 (64) → Conv3d_2c_3x3 (192) → MaxPool3d_3a_3x3 (1×3×3, 1×2×2)      (N, 192, 32, 28, 28)
      ↓ Mixed_3b (256) → Mixed_3c (480)       → MaxPool3d_4a_3x3 (3×3×3, stride 2)       (N, 480, 16, 14, 14)
      ↓ Mixed_4b … Mixed_4f (512, 512, 512, 528, 832) → MaxPool3d_5a_2x2 (2×2×2, 2)      (N, 832, 8, 7, 7)
      ↓ Mixed_5b (832) → Mixed_5c (1024)      → AvgPool (2×7×7, stride 1)                (N, 1024, 7, 1, 1)
      ↓ dropout → Conv3d_0c_1x1 logits (1×1×1, with bias) → mean over time               (N, num_classes)

Every convolution but the logits is a ``Unit3D``: Conv3d without bias → BatchNorm3d → ReLU. Each
Inception block has four branches concatenated on the channels: a 1×1×1 conv; 1×1×1 then 3×3×3;
1×1×1 then 3×3×3 (DeepMind's model, like Inception-v2, uses 3×3 where Inception-v1 drew a 5×5);
a 3×3×3 max pool (stride 1) then 1×1×1. With PyTorch's affine batch norm (a weight and a bias per
channel) the network has exactly 12,697,264 parameters at 400 classes (Kinetics-400).

Padding: DeepMind's TensorFlow model pads "SAME" (asymmetrically for even sizes); here every
convolution pads k // 2 on each side and the pools pad as listed, which gives the same output
sizes for the 64×224×224 input above.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from torch import nn

__all__ = ["Unit3D", "InceptionBlock3d", "I3D", "i3d", "INCEPTION_V1_BLOCKS"]

#: Channels of each Inception block: (1×1, 3×3 reduce, 3×3, "5×5" reduce, "5×5", pool projection),
#: the Inception-v1 table of Szegedy et al. 2015, which I3D keeps.
INCEPTION_V1_BLOCKS: dict[str, tuple[int, int, int, int, int, int]] = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


class Unit3D(nn.Sequential):
    """Conv3d (no bias, padding k // 2) → BatchNorm3d → ReLU, I3D's convolution unit.

    Args:
        in_channels, out_channels: channels in and out.
        kernel_size: (k_t, k_h, k_w) or one int.
        stride: (s_t, s_h, s_w) or one int.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int] = 1,
                 stride: int | Sequence[int] = 1) -> None:
        kernel = (kernel_size,) * 3 if isinstance(kernel_size, int) else tuple(kernel_size)
        super().__init__(OrderedDict([
            ("conv", nn.Conv3d(in_channels, out_channels, kernel, stride, padding=tuple(k // 2 for k in kernel),
                               bias=False)),
            ("bn", nn.BatchNorm3d(out_channels)),
            ("relu", nn.ReLU(inplace=True)),
        ]))


class InceptionBlock3d(nn.Module):
    """An inflated Inception block: four branches concatenated on the channel axis.

        x (N, C_in, T, H, W)
          ├ b0: Unit3D 1×1×1 → c0
          ├ b1: Unit3D 1×1×1 → c1r → Unit3D 3×3×3 → c1
          ├ b2: Unit3D 1×1×1 → c2r → Unit3D 3×3×3 → c2
          └ b3: MaxPool3d 3×3×3 (stride 1, padding 1) → Unit3D 1×1×1 → c3
        cat on channels → (N, c0 + c1 + c2 + c3, T, H, W)

    Args:
        in_channels: C_in.
        channels: (c0, c1r, c1, c2r, c2, c3), see :data:`INCEPTION_V1_BLOCKS`.
    """

    def __init__(self, in_channels: int, channels: Sequence[int]) -> None:
        super().__init__()
        c0, c1r, c1, c2r, c2, c3 = channels
        self.branch0 = Unit3D(in_channels, c0)
        self.branch1 = nn.Sequential(Unit3D(in_channels, c1r), Unit3D(c1r, c1, 3))
        self.branch2 = nn.Sequential(Unit3D(in_channels, c2r), Unit3D(c2r, c2, 3))
        self.branch3 = nn.Sequential(nn.MaxPool3d(3, stride=1, padding=1), Unit3D(in_channels, c3))
        self.out_channels = c0 + c1 + c2 + c3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)]
        return torch.cat(branches, dim=1)  # (N, c0 + c1 + c2 + c3, T, H, W)


class I3D(nn.Module):
    """Inflated Inception-v1 for RGB clips (Carreira & Zisserman 2017); see the module docstring.

    Input (N, in_channels, T, 224, 224): the final 2×7×7 average pool needs 7×7 features, i.e.
    224×224 frames, and T >= 13 frames (so that 2 time steps reach the 2×7×7 average pool); the
    paper trains on 64 frames. Output: (N, num_classes) logits, the per-frame logits averaged over
    the remaining time steps.

    Args:
        num_classes: classes of the logits (400 for Kinetics-400).
        in_channels: 3 for RGB (2 for the optical-flow stream of the paper).
        dropout: probability of dropout before the logits (0.5 in DeepMind's released model).
    """

    def __init__(self, num_classes: int = 400, *,
                 # input
                 in_channels: int = 3,
                 # classifier
                 dropout: float = 0.5) -> None:
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict([
            ("Conv3d_1a_7x7", Unit3D(in_channels, 64, 7, stride=2)),
            ("MaxPool3d_2a_3x3", nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))),
            ("Conv3d_2b_1x1", Unit3D(64, 64, 1)),
            ("Conv3d_2c_3x3", Unit3D(64, 192, 3)),
            ("MaxPool3d_3a_3x3", nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))),
        ])
        channels = 192
        pools = {"Mixed_4b": ("MaxPool3d_4a_3x3", nn.MaxPool3d(3, stride=2, padding=1)),
                 "Mixed_5b": ("MaxPool3d_5a_2x2", nn.MaxPool3d(2, stride=2))}
        for name, config in INCEPTION_V1_BLOCKS.items():
            if name in pools:
                layers[pools[name][0]] = pools[name][1]
            block = InceptionBlock3d(channels, config)
            layers[name] = block
            channels = block.out_channels
        self.features = nn.Sequential(layers)
        self.avg_pool = nn.AvgPool3d((2, 7, 7), stride=1)
        self.dropout = nn.Dropout(dropout)
        self.logits = nn.Conv3d(channels, num_classes, 1, bias=True)  # "Conv3d_0c_1x1"

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.avg_pool(self.features(clip))  # (N, 1024, T', 1, 1)
        x = self.logits(self.dropout(x))  # (N, num_classes, T', 1, 1): logits per time step
        return x.mean(dim=(2, 3, 4))  # (N, num_classes)


def i3d(*, num_classes: int = 400,
        # input
        in_channels: int = 3,
        # classifier
        dropout: float = 0.5) -> I3D:
    """Build I3D's RGB network (see :class:`I3D`); 12,697,264 parameters at 400 classes."""
    return I3D(num_classes, in_channels=in_channels, dropout=dropout)
