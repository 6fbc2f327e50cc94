"""Clip layouts: the one helper pair that moves between frame layout and Conv3d layout.

Lesson 01_video_tensors.

The course uses two layouts for video (one layout per kind of operation, named in every docstring):

    frame layout   (N, T, C, H, W)   frames handled one by one (decoding, 2D CNNs per frame, RNNs)
    conv3d layout  (N, C, T, H, W)   what ``torch.nn.Conv3d`` expects: channels, then depth = time

and the same two without the batch axis, (T, C, H, W) and (C, T, H, W). Going from one to the
other swaps the time and channel axes; it is its own inverse, but the two names say which way you
are going. Both return **views** (``Tensor.permute``): no copy is made, the result shares memory
with the input and is not contiguous; call ``.contiguous()`` if a later step needs that.

``frames_to_float`` turns the decoder's uint8 frames into float32 in [0, 1].

Source: the (N, C, D, H, W) input layout of ``torch.nn.Conv3d`` (PyTorch documentation).
"""
from __future__ import annotations

import torch

__all__ = ["to_conv3d_layout", "to_frame_layout", "frames_to_float"]


def to_conv3d_layout(x: torch.Tensor) -> torch.Tensor:
    """Frame layout → Conv3d layout: (N, T, C, H, W) → (N, C, T, H, W); (T, C, H, W) → (C, T, H, W).

    Args:
        x: (N, T, C, H, W) or (T, C, H, W) tensor, any dtype and device.

    Returns:
        A view of ``x`` (shared memory, not contiguous) of shape (N, C, T, H, W) or (C, T, H, W);
        ``y[n, c, t] == x[n, t, c]``.

    Raises:
        ValueError: ``x`` is not 4-D or 5-D; the message names its shape.
    """
    # 1. validate: one clip (T, C, H, W) or a batch (N, T, C, H, W)
    if x.dim() not in (4, 5):
        raise ValueError(f"expected a clip in frame layout, (N, T, C, H, W) or (T, C, H, W) for "
                         f"one clip; got shape {tuple(x.shape)} ({x.dim()}-D); add or remove the "
                         "batch axis")
    # 2. swap T and C with permute (reshape/view would only relabel the sizes)
    if x.dim() == 5:
        return x.permute(0, 2, 1, 3, 4)  # (N, T, C, H, W) → (N, C, T, H, W)
    return x.permute(1, 0, 2, 3)  # (T, C, H, W) → (C, T, H, W)


def to_frame_layout(x: torch.Tensor) -> torch.Tensor:
    """Conv3d layout → frame layout: (N, C, T, H, W) → (N, T, C, H, W); (C, T, H, W) → (T, C, H, W).

    The inverse of ``to_conv3d_layout``: ``to_frame_layout(to_conv3d_layout(x))`` equals ``x``.

    Args:
        x: (N, C, T, H, W) or (C, T, H, W) tensor, any dtype and device.

    Returns:
        A view of ``x`` (shared memory, not contiguous) of shape (N, T, C, H, W) or (T, C, H, W);
        ``y[n, t, c] == x[n, c, t]``.

    Raises:
        ValueError: ``x`` is not 4-D or 5-D; the message names its shape.
    """
    # 1. validate: one clip (C, T, H, W) or a batch (N, C, T, H, W)
    if x.dim() not in (4, 5):
        raise ValueError(f"expected a clip in Conv3d layout, (N, C, T, H, W) or (C, T, H, W) for "
                         f"one clip; got shape {tuple(x.shape)} ({x.dim()}-D); add or remove the "
                         "batch axis")
    # 2. the same swap of T and C (it is its own inverse)
    return x.permute(0, 2, 1, 3, 4) if x.dim() == 5 else x.permute(1, 0, 2, 3)


def frames_to_float(frames: torch.Tensor) -> torch.Tensor:
    """Decoded uint8 frames → float32 in [0, 1] (divide by 255); the layout is kept.

    Args:
        frames: (T, C, H, W) uint8, as returned by ``read_clip`` (any shape is accepted, e.g.
            (N, T, C, H, W)); values 0..255.

    Returns:
        A new float32 tensor of the same shape, values in [0, 1]; ``frames`` is not modified.

    Raises:
        ValueError: ``frames`` is not uint8 (already converted, or not decoder output).
    """
    if frames.dtype != torch.uint8:
        raise ValueError(
            f"frames_to_float expects decoder output of dtype torch.uint8, got {frames.dtype}; "
            "frames that are already float need no conversion"
        )
    return frames.to(torch.float32) / 255.0
