"""What one 96³ forward pass costs: a 3D U-Net, UNETR and Swin UNETR side by side.

Parameters (``course.counting.count_params``), FLOPs (``course.counting.count_flops``:
``torch.utils.flop_counter``, 2 FLOPs per multiply-accumulate) and activation memory (bytes of the
outputs of every leaf module, the rule of ``course.counting.activation_memory``) of one forward pass
of one volume (N = 1). The models are built on PyTorch's **meta** device by default: tensors with
shapes and no data, so all three are counted in about 2 s (after MONAI's import) and a few hundred MB.
A real inference pass at 96³ on the 2-core CPU machine, measured once under load: 3D U-Net 14 s and
1.0 GB peak, UNETR 3.8 s and 1.2 GB, Swin UNETR 34 s and 2.3 GB — over a lesson's 1.5 GB.
tests/nn/test_segmenter_costs.py proves that the meta counts equal a real CPU run at 32 × 32 × 64 for
every model (``course.counting.activation_memory`` finds aliases by tensor identity, so it counts on
the meta device too).

The three networks (in_channels → out_channels, e.g. 1 → 14 for BTCV's 13 organs + background):

    3D U-Net    ``course.nn.unet3d.UNet3D`` with nnU-Net's widths for a 96³ patch of isotropic
                spacing: 5 stages of 32, 64, 128, 256, 320 features (nnU-Net pools an axis while the
                map stays >= 4 voxels: 96 → 48 → 24 → 12 → 6), two 3³ conv → instance norm → ReLU per
                stage. nnU-Net's own ``PlainConvUNet`` with that plan has the same convolutions
                (strided convs instead of max pooling: same parameters and FLOPs) plus 3 deep-supervision
                heads (6,314 parameters at 14 classes).
    UNETR       ``course.nn.unetr.UNETR`` (Hatamizadeh et al. 2022): feature 16, hidden 768, 12 heads.
    Swin UNETR  ``monai.networks.nets.SwinUNETR`` (Hatamizadeh et al. 2022, "Swin UNETR", BrainLes),
                feature_size 48 — counted, not rewritten. Published: 62.2M parameters; MONAI's model
                has 62,187,296 (62.19M) at 1 → 14: the same to the published digits.

    build_segmenter       one of the three models, on the meta device or the CPU
    segmenter_costs       one row per model: params, FLOPs, activation bytes, seconds to count
    format_costs          the rows as a text table (M parameters, GFLOPs, MB)

Activation memory counts only outputs of leaf modules: attention scores computed by a function
(UNETR's ``course.nn.attention.attention``) are not counted, while Swin UNETR's pass through an
``nn.Softmax`` module and are. At 96³ UNETR's scores are 12 layers × 12 heads × 216² floats (27 MB),
small beside its convolutional decoder.
"""
from __future__ import annotations

import time
from typing import Sequence

import torch
from torch import nn

from course.counting import activation_memory, count_flops, count_params
from course.nn.unet3d import UNet3D
from course.nn.unetr import UNETR

__all__ = ["SEGMENTERS", "UNET3D_CHANNELS", "build_segmenter", "segmenter_costs",
           "format_costs"]

SEGMENTERS = ("3D U-Net", "UNETR", "Swin UNETR")
UNET3D_CHANNELS = (32, 64, 128, 256, 320)  # nnU-Net's widths (32, doubling, capped at 320) for 4 poolings
_DIVISOR = 32  # Swin UNETR: patch 2 and 4 patch mergings; UNETR needs 16, the U-Net 2^4 = 16


def build_segmenter(name: str, roi_size: Sequence[int] = (96, 96, 96), *, in_channels: int = 1,
                    out_channels: int = 14, device: str | torch.device = "meta") -> nn.Module:
    """One of the three networks of the module docstring, in eval mode, on ``device``.

    Args:
        name: one of ``SEGMENTERS``: "3D U-Net", "UNETR", "Swin UNETR".
        roi_size: (D, H, W) of the volumes; UNETR's position embeddings are made for it.
        in_channels: input channels.
        out_channels: classes.
        device: "meta" (shapes only, nothing allocated) or a real device such as "cpu".

    Returns:
        The model.

    Raises:
        ValueError: an unknown name.
    """
    device = torch.device(device)
    if name == "3D U-Net":
        with device:
            return UNet3D(in_channels, out_channels, UNET3D_CHANNELS, norm="instance").eval()
    if name == "UNETR":
        with device:
            return UNETR(in_channels, out_channels, tuple(roi_size)).eval()
    if name == "Swin UNETR":
        from monai.networks.nets import SwinUNETR  # MONAI's import is slow; only here

        # its constructor calls .item() (drop-path rates), which meta tensors refuse: build on the CPU, then move
        return SwinUNETR(in_channels=in_channels, out_channels=out_channels, feature_size=48).to(device).eval()
    raise ValueError(f"unknown segmenter {name!r}; pick one of {SEGMENTERS}")


def segmenter_costs(roi_size: Sequence[int] = (96, 96, 96), *, in_channels: int = 1, out_channels: int = 14,
                    device: str | torch.device = "meta") -> list[dict]:
    """Parameters, FLOPs and activation memory of one forward pass of one volume, per network.

    Args:
        roi_size: (D, H, W) in voxels, each divisible by 32 (Swin UNETR's 5 halvings), one at least 64.
        in_channels: input channels (1 for CT).
        out_channels: classes (14: BTCV's 13 organs and background).
        device: "meta" (default: seconds and no memory at 96³) or "cpu" (a real forward: slow, GBs).

    Returns:
        One dict per model, in the order of ``SEGMENTERS``: ``model`` (name), ``params`` (int),
        ``flops`` (int, 2 per multiply-accumulate; GFLOPs = flops / 1e9), ``activation_bytes`` (int,
        float32), ``seconds`` (float, wall time to build and count this model).

    Raises:
        ValueError: a roi_size that is not three positive multiples of 32, or is 32³.
    """
    # 1. validate: three sizes, each a multiple of 32
    roi = tuple(roi_size)
    if len(roi) != 3 or not all(isinstance(s, int) and s > 0 and s % _DIVISOR == 0 for s in roi) \
            or max(roi) == _DIVISOR:
        raise ValueError(f"roi_size must be three positive multiples of {_DIVISOR} (D, H, W), one at least 64 (Swin "
                         f"UNETR halves the size 5 times and instance-normalizes the result, which needs more than "
                         f"one voxel), got {roi_size!r}; e.g. (96, 96, 96)")
    rows = []
    for name in SEGMENTERS:
        start = time.perf_counter()
        # 2. build (meta: no weights allocated), one input volume on the same device
        model = build_segmenter(name, roi, in_channels=in_channels, out_channels=out_channels, device=device)
        x = torch.zeros(1, in_channels, *roi, device=device)
        # 3. count: parameters, FLOPs of one forward, bytes of leaf outputs
        rows.append(dict(model=name, params=count_params(model), flops=count_flops(model, x),
                         activation_bytes=activation_memory(model, x), seconds=time.perf_counter() - start))
    return rows


def format_costs(rows: Sequence[dict]) -> str:
    """``segmenter_costs`` rows as a text table: parameters (M), GFLOPs, activation memory (MB = 1e6 bytes)."""
    lines = [f"{'model':<12}{'params (M)':>12}{'GFLOPs':>10}{'activations (MB)':>18}"]
    for r in rows:
        lines.append(f"{r['model']:<12}{r['params'] / 1e6:>12.2f}{r['flops'] / 1e9:>10.1f}"
                     f"{r['activation_bytes'] / 1e6:>18.0f}")
    return "\n".join(lines)
