"""Neural-network building blocks for video and volumes, written from scratch to be read.

Submodules (one idea per file):

    conv3d          3D convolution by unfold/einsum, output size, receptive field
    fusion          single-frame, late, early, slow fusion and small C3D-style baselines
    factorized      (2+1)D with the M_i rule, P3D, mixed convolutions
    resnet3d        R3D / MC3 / R(2+1)D builders
    inflation       I3D inflation of 2D kernels, batch norm and pooling; a small inflatable 2D ResNet
    inception3d     Inception-v1 inflated: I3D (12,697,264 parameters at 400 classes)
    two_stream      RGB and flow streams, flow stacks, late fusion of scores
    lrcn            LSTM / GRU cells and the time loop; per-frame CNN + RNN (LRCN)
    attention       scaled dot-product and multi-head attention, patch and tubelet embedding,
                    joint and divided space-time attention (the lesson's functions)
    attention_cost  closed-form attention FLOPs of joint / divided / space-only attention
    timesformer     TimeSformer (joint / divided / space-only), loads Hugging Face weights
    vivit           tubelet embedding and ViViT's factorised encoder
    unet3d          3D U-Net (Çiçek et al. 2016) and its 2D twin
    slowfast        SlowFast: PackPathway split, three lateral connections, R50 8×8 (34,566,488 parameters)
    s3d             S3D separable Inception and bottom-/top-heavy mixes (8,320,048 parameters)
    fstcn           FstCN-style network: spatial layers, then temporal layers
    unetr           UNETR (Hatamizadeh et al. 2022): ViT on 16³ patches + conv decoder, loads MONAI's weights
    segmenter_costs parameters, FLOPs, activation memory of 3D U-Net, UNETR, Swin UNETR at 96³ (meta device)
    adapt           a first convolution pretrained on RGB adapted to CT's one channel (sum, mean, first)

The models are also reachable from here (``course.nn.TimeSformer``); a submodule is imported only
when one of its names is first used, so ``import course.nn`` stays cheap.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "inflate_conv": "inflation", "inflate_model": "inflation", "inflate_batchnorm": "inflation",
    "inflate_pool": "inflation", "small_resnet2d": "inflation",
    "adapt_input_channels": "adapt", "adapt_conv_module": "adapt",
    "i3d": "inception3d", "I3D": "inception3d",
    "TwoStream": "two_stream", "FlowStream": "two_stream",
    "LRCN": "lrcn", "RecurrentHead": "lrcn",
    "TimeSformer": "timesformer",
    "ViViT": "vivit",
    "UNet3D": "unet3d", "unet3d_cicek2016": "unet3d",
    "SmallC3D": "fusion", "c3d": "fusion",
    "r3d_18": "resnet3d", "mc3_18": "resnet3d", "r2plus1d_18": "resnet3d",
    # builders named like their module (slowfast, s3d, fstcn) stay in it: course.nn.s3d is the module
    "SlowFast": "slowfast", "slowfast_r50": "slowfast", "slow_only": "slowfast", "fast_only": "slowfast",
    "S3D": "s3d", "FstCN": "fstcn",
    "UNETR": "unetr",  # the builder unetr and the function segmenter_costs stay in their modules
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'course.nn' has no attribute {name!r}; models: {', '.join(__all__)}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
