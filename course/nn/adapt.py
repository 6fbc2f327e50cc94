"""Adapt the first convolution of an RGB-pretrained network to CT's single channel.

Lesson 15_capstone_video_to_ct.

Lesson 15 follows Ke et al. 2023, "Video Pretraining Advances 3D Deep Learning on Chest CT Tasks":
3D CNNs pretrained on RGB video (Kinetics) are fine-tuned on chest CT, which has one channel
(Hounsfield units). Either the gray volume is repeated into three channels, or the first
convolution is changed to take one channel. Summing the pretrained kernel over its RGB channels
makes the two the same network: for a gray volume x repeated as (x, x, x),

    sum_c w_c * x = (sum_c w_c) * x,

so the adapted convolution gives exactly the response the pretrained one gave to the repeated
volume, at a third of the first layer's cost. (Which of the two Ke et al. use is not checked here;
with ``mode="sum"`` it does not change the function, only the compute.)

timm's ``adapt_input_conv`` (pytorch-image-models, ``timm/models/_manipulate.py``, ``helpers.py``
in older releases; 2D weights only) sums over RGB for one input channel, as here; for other channel
counts it repeats the R, G, B kernels cyclically and rescales them by 3 / in_channels, keeping the
channels different. Here ``in_channels`` > 1 spreads one combined kernel evenly instead (divided by
in_channels), so a volume repeated over the channels gives the pretrained response again: the same
invariant as for one channel.

    adapt_input_channels(weight, in_channels, mode)   (O, 3, kt, kh, kw) → (O, in_channels, kt, kh, kw)
    adapt_conv_module(conv, in_channels, mode)        nn.Conv3d / nn.Conv2d → the same kind, adapted

Modes: ``"sum"`` (the invariant above), ``"mean"`` (the RGB average: a third of the response),
``"first"`` (the red kernel only: the response to a volume in the red channel alone).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["adapt_input_channels", "adapt_conv_module", "MODES"]

MODES = ("sum", "mean", "first")  # how the three RGB kernels become one


def adapt_input_channels(weight: torch.Tensor, in_channels: int = 1, *, mode: str = "sum") -> torch.Tensor:
    """A first-layer convolution weight pretrained on RGB, adapted to ``in_channels`` input channels.

    Args:
        weight: (C_out, 3, kT, kH, kW) of a Conv3d or (C_out, 3, kH, kW) of a Conv2d, any float dtype.
        in_channels: input channels of the adapted weight (1 for CT).
        mode: ``"sum"`` (a gray input repeated as RGB gives the pretrained response), ``"mean"``
            (one third of it), ``"first"`` (the red kernel). For ``in_channels`` > 1 the combined
            kernel is repeated over the channels and divided by ``in_channels``, so an input
            repeated over the channels gives the same response as one channel.

    Returns:
        (C_out, in_channels, ...) a new tensor (detached from ``weight``), same dtype and device.

    Raises:
        ValueError: ``weight`` is not 4D/5D or has not 3 input channels, ``mode`` is unknown, or
            ``in_channels`` < 1.
    """
    # 1. check
    if weight.dim() not in (4, 5) or weight.shape[1] != 3:
        raise ValueError(f"expected an RGB conv weight (C_out, 3, kT, kH, kW) or (C_out, 3, kH, kW), "
                         f"got shape {tuple(weight.shape)}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not isinstance(in_channels, int) or in_channels < 1:
        raise ValueError(f"in_channels must be an int >= 1, got {in_channels!r}")
    w = weight.detach()
    # 2. one kernel from the three RGB kernels: (C_out, 1, ...)
    if mode == "sum":
        kernel = w.sum(dim=1, keepdim=True)
    elif mode == "mean":
        kernel = w.mean(dim=1, keepdim=True)
    else:
        kernel = w[:, :1].clone()
    # 3. spread it evenly over the new input channels
    repeats = (1, in_channels) + (1,) * (w.dim() - 2)
    return kernel.repeat(*repeats) / in_channels


def adapt_conv_module(conv: nn.Conv3d | nn.Conv2d, in_channels: int = 1, mode: str = "sum") -> nn.Conv3d | nn.Conv2d:
    """A copy of an RGB first convolution that takes ``in_channels`` channels (see :func:`adapt_input_channels`).

    Args:
        conv: a ``nn.Conv3d`` or ``nn.Conv2d`` with 3 input channels and ``groups=1``.
        in_channels: input channels of the new convolution.
        mode: ``"sum"``, ``"mean"`` or ``"first"``.

    Returns:
        A new convolution of the same type with the adapted weight, a copy of the bias, and the same
        out_channels, kernel_size, stride, padding, dilation, padding_mode, dtype and device.

    Raises:
        TypeError: ``conv`` is not a Conv2d or Conv3d.
        ValueError: ``groups`` != 1, or as :func:`adapt_input_channels`.
    """
    if not isinstance(conv, (nn.Conv2d, nn.Conv3d)):
        raise TypeError(f"expected nn.Conv3d or nn.Conv2d, got {type(conv).__name__}")
    if conv.groups != 1:
        raise ValueError(f"only groups=1 convolutions can be adapted, got groups={conv.groups}")
    weight = adapt_input_channels(conv.weight, in_channels, mode=mode)
    new = type(conv)(in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride, padding=conv.padding,
                     dilation=conv.dilation, groups=1, bias=conv.bias is not None, padding_mode=conv.padding_mode,
                     device=conv.weight.device, dtype=conv.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(weight)
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new
