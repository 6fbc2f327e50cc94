"""The 3D U-Net for volumetric segmentation, and its 2D twin for slice-wise baselines.

Çiçek, Abdulkadir, Lienkamp, Brox, Ronneberger 2016, "3D U-Net: Learning Dense Volumetric
Segmentation from Sparse Annotation" (MICCAI), which carries Ronneberger et al. 2015's U-Net to
volumes: every 2D operation becomes its 3D counterpart.

    analysis path     per level: two 3×3×3 conv → norm → ReLU, then 2×2×2 max pooling (stride 2)
    synthesis path    per level: 2×2×2 transposed conv (stride 2) → concatenate the skip of the same
                      level → two 3×3×3 conv → norm → ReLU
    head              1×1×1 conv to one logit per class

Unlike the paper (valid convolutions, output smaller than input) every 3×3×3 conv here pads by 1, so
the output has the input's size; D, H and W must then be divisible by 2^(levels − 1).

    UNet3D                    the network; ``spatial_dims=2`` gives the same design with Conv2d
    unet3d_cicek2016          the paper's configuration (3 channels in, 3 classes, 32 … 512 channels)
    cicek2016_param_count     parameters counted as the paper counts them: 19,069,955

Layout: volumes (N, C, D, H, W) (images (N, C, H, W) for the 2D twin); logits (N, classes, D, H, W).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["ConvBlock", "UNet3D", "unet3d_cicek2016", "cicek2016_param_count"]

_LAYERS = {  # spatial_dims → (conv, transposed conv, max pooling, batch norm, instance norm, interpolation)
    2: (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d, nn.BatchNorm2d, nn.InstanceNorm2d, "bilinear"),
    3: (nn.Conv3d, nn.ConvTranspose3d, nn.MaxPool3d, nn.BatchNorm3d, nn.InstanceNorm3d, "trilinear"),
}


def _norm(norm: str | None, channels: int, spatial_dims: int) -> nn.Module:
    _, _, _, batch, instance, _ = _LAYERS[spatial_dims]
    if norm == "batch":
        return batch(channels)
    if norm == "instance":
        return instance(channels, affine=True)
    return nn.Identity()


class ConvBlock(nn.Sequential):
    """Two size-preserving convolutions, each followed by a norm and a ReLU (one U-Net level).

        x (N, C_in, *S) → conv 3×3×3 (pad 1) → norm → ReLU      [0, 1, 2]   C_in → C_mid
                        → conv 3×3×3 (pad 1) → norm → ReLU      [3, 4, 5]   C_mid → C_out
                        → (N, C_out, *S)

    The convolutions keep their bias, as in the paper's parameter count, although a batch norm right
    after makes it redundant. With ``norm=None`` the norm is ``nn.Identity``.

    Args:
        in_channels: C_in.
        mid_channels: C_mid, channels after the first conv.
        out_channels: C_out.
        norm: "batch", "instance" (affine) or None.
        spatial_dims: 3 for volumes, 2 for images.
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, norm: str | None = "batch",
                 spatial_dims: int = 3) -> None:
        conv = _LAYERS[spatial_dims][0]
        super().__init__(
            conv(in_channels, mid_channels, 3, padding=1), _norm(norm, mid_channels, spatial_dims),
            nn.ReLU(inplace=True),
            conv(mid_channels, out_channels, 3, padding=1), _norm(norm, out_channels, spatial_dims),
            nn.ReLU(inplace=True),
        )


class UNet3D(nn.Module):
    """3D U-Net (Çiçek et al. 2016) with size-preserving convolutions.

        x (N, C_in, D, H, W)
        │ down[0]  ConvBlock → channels[0] ─────────────────────────────── skip 0 ──┐
        │ pool 2×2×2 → down[1]  ConvBlock → channels[1] ──────── skip 1 ──┐          │
        │ …                                                                │          │
        │ pool 2×2×2 → down[L−1] ConvBlock → channels[L−1] (bottom)         │          │
        │ up[0]  up-conv 2×2×2 → cat(·, skip L−2) → ConvBlock → channels[L−2]          │
        │ …                                                                            │
        │ up[L−2] up-conv 2×2×2 → cat(·, skip 0) → ConvBlock → channels[0] ←───────────┘
        │ head   conv 1×1×1 → out_channels
        ↓
        logits (N, out_channels, D, H, W)

    The up-convolution is concatenated *before* the skip (``torch.cat([up, skip], dim=1)``).

    Args:
        in_channels: C_in, channels of the input (MRI sequences, CT windows, …).
        out_channels: number of classes, one logit each (background included).
        channels: output channels of each level, top to bottom; L = len(channels) >= 2 levels, so
            L − 1 poolings.
        norm: "batch" (the paper), "instance" (per-sample statistics, as nnU-Net) or None.
        spatial_dims: 3 for volumes (Conv3d …), 2 for the slice-wise twin (Conv2d …).
        up: "transpose" (2×2×2 transposed conv, the paper) or "linear" (trilinear upsampling, then a
            1×1×1 conv; no checkerboard artefacts).
        double_before_pool: if True the first conv of each analysis level outputs half the level's
            channels (the paper's 32 → 64, 64 → 128, …: channels double before pooling); if False
            both convs output ``channels[i]``.
        up_keeps_channels: if True the up-conv keeps its input's channels (the paper's 512 → 512);
            if False it halves them to the level's channels, as in the 2D U-Net.

    Raises:
        ValueError: fewer than 2 levels, an unknown ``norm``/``up``/``spatial_dims``, and in
            ``forward`` an input of the wrong rank, channels or size (see ``check_input``).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 2, channels: Sequence[int] = (16, 32, 64, 128), *,
                 norm: str | None = "batch", spatial_dims: int = 3, up: str = "transpose",
                 double_before_pool: bool = False, up_keeps_channels: bool = False) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if len(channels) < 2 or min(channels) < 1:
            raise ValueError(f"channels needs at least 2 levels of >= 1 channels, got {channels}")
        if norm not in ("batch", "instance", None):
            raise ValueError(f"norm must be 'batch', 'instance' or None, got {norm!r}")
        if spatial_dims not in _LAYERS:
            raise ValueError(f"spatial_dims must be 3 (volumes) or 2 (slices), got {spatial_dims!r}")
        if up not in ("transpose", "linear"):
            raise ValueError(f"up must be 'transpose' or 'linear', got {up!r}")
        conv, transpose, pool, _, _, interpolation = _LAYERS[spatial_dims]
        self.in_channels, self.out_channels, self.channels = in_channels, out_channels, channels
        self.spatial_dims = spatial_dims
        # analysis path
        self.down = nn.ModuleList()
        previous = in_channels
        for c in channels:
            mid = max(1, c // 2) if double_before_pool else c
            self.down.append(ConvBlock(previous, mid, c, norm, spatial_dims))
            previous = c
        self.pool = pool(2)
        # synthesis path, bottom to top
        self.up = nn.ModuleList()
        self.decode = nn.ModuleList()
        for c in reversed(channels[:-1]):
            up_channels = previous if up_keeps_channels else c
            if up == "transpose":
                self.up.append(transpose(previous, up_channels, 2, stride=2))
            else:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode=interpolation, align_corners=False),
                                             conv(previous, up_channels, 1)))
            self.decode.append(ConvBlock(up_channels + c, c, c, norm, spatial_dims))
            previous = c
        self.head = conv(channels[0], out_channels, 1)

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a ValueError unless ``x`` is (N, C_in, *S) with every spatial size divisible by 2^(L−1)."""
        dims = self.spatial_dims
        layout = "(N, C, D, H, W)" if dims == 3 else "(N, C, H, W)"
        if x.dim() != dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected {layout} with C={self.in_channels}, got shape {tuple(x.shape)}")
        factor = 2 ** (len(self.channels) - 1)
        sizes = tuple(x.shape[2:])
        if any(s % factor for s in sizes):
            fixed = tuple(-(-s // factor) * factor for s in sizes)
            raise ValueError(f"spatial size {sizes} must be divisible by 2^{len(self.channels) - 1} = {factor} "
                             f"({len(self.channels) - 1} poolings); pad to {fixed} or use patches "
                             f"(sliding-window inference) whose size is a multiple of {factor}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, *S) → logits (N, out_channels, *S); S = (D, H, W) or (H, W), divisible by 2^(L−1)."""
        self.check_input(x)
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))  # (N, channels[i], *S / 2^i)
            skips.append(x)
        skips.pop()  # the bottom level has no skip
        for up, block in zip(self.up, self.decode):
            x = block(torch.cat([up(x), skips.pop()], dim=1))  # (N, channels[i], *S / 2^i)
        return self.head(x)


def unet3d_cicek2016(*, num_classes: int = 3, norm: str | None = "batch") -> UNet3D:
    """The network of Çiçek et al. 2016, Fig. 1: 3 input channels, 3 classes (``num_classes``), 4 levels.

    Analysis: 3 → 32 → 64, pool, 64 → 64 → 128, pool, 128 → 128 → 256, pool, 256 → 256 → 512.
    Synthesis: up-conv 512 → 512, cat 256 → 768 → 256 → 256; up-conv 256 → 256, cat 128 → 384 →
    128 → 128; up-conv 128 → 128, cat 64 → 192 → 64 → 64; 1×1×1 conv 64 → 3. The paper reports
    19,069,955 parameters (see ``cicek2016_param_count``); padding 1 instead of the paper's valid
    convolutions changes no parameter.
    """
    return UNet3D(3, num_classes, (64, 128, 256, 512), norm=norm, double_before_pool=True, up_keeps_channels=True)


def cicek2016_param_count(model: UNet3D) -> int:
    """Parameters as Çiçek et al. 2016 count them: conv weights and biases, up-conv weights only.

    The norm layers' scales and shifts and the up-convolutions' biases are left out; with that rule
    ``unet3d_cicek2016()`` has exactly the paper's 19,069,955. ``sum(p.numel() for p in
    model.parameters())`` counts everything: 19,075,523 with batch norm (4,672 scales and shifts,
    2 per channel of its 14 norms, and 896 up-conv biases).

    Args:
        model: a ``UNet3D``.

    Returns:
        The count, a Python int.
    """
    total = 0
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Conv3d)):
            total += sum(p.numel() for p in module.parameters())
        elif isinstance(module, (nn.ConvTranspose2d, nn.ConvTranspose3d)):
            total += module.weight.numel()
    return total
