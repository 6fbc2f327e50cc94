"""Fusion baselines for video classification: where in the network do frames meet?

Lesson 03_fusion_baselines.

Karpathy et al. 2014 ("Large-scale Video Classification with Convolutional Neural Networks") compare
four ways of feeding a clip to a CNN; Tran et al. 2015 ("Learning Spatiotemporal Features with 3D
Convolutional Networks", C3D) convolve in time at every layer. All models here read clips in the
Conv3d layout (N, C, T, H, W) and return logits (N, num_classes):

    SingleFrame   a 2D CNN on one frame (or on every frame alone, scores       time never meets
                  averaged over time)
    LateFusion    the 2D CNN on the first and last frames; features meet      time meets at the end
                  in the classifier
    EarlyFusion   all T frames stacked on the channels of the first conv      time meets at layer 1
    SlowFusion    3D convs whose temporal extent grows layer by layer         time meets gradually
    SmallC3D      3×3×3 convs everywhere, BatchNorm (a small C3D)             time at every layer
    c3d()         the paper's C3D: 8 convs 3×3×3, 2 FC 4096, input 3×16×112×112 (78.4 M parameters)

The small models are sized for Moving Digits (course.data.moving_digits: 32×32, T = 8, a toroidal
canvas): ~6–40 k parameters, stride-2 first layers, and **circular** spatial padding, which matches
the wrap-around canvas (a digit leaving on the right re-enters on the left, and so does the
convolution's view). Time is never wrapped: it is zero-padded (SmallC3D) or not padded (SlowFusion).

The functions are the lesson's exercises (03_fusion_baselines), used by the models:
    select_frames(clip, mode)                       which frames single-frame / late fusion see
    fold_frames(clip)                               (N, C, T, H, W) → (N·T, C, H, W), frames as a batch
    early_fusion_stack(clip)                        (N, C, T, H, W) → (N, C·T, H, W)
    circular_pad_hw(x, pad)                         wrap-around padding of H and W
    slow_fusion_windows(num_frames, window, stride) the frames each position of a slow-fusion layer sees
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

__all__ = ["select_frames", "fold_frames", "early_fusion_stack", "circular_pad_hw", "slow_fusion_windows",
           "CircularPadHW", "frame_cnn", "SingleFrame", "LateFusion", "EarlyFusion", "SlowFusion", "SmallC3D",
           "C3D", "c3d"]


# --- the exercises --------------------------------------------------------------------------------
def select_frames(clip: torch.Tensor, mode: str) -> torch.Tensor:
    """The frames a single-frame or a late-fusion model looks at, keeping the time axis.

    Args:
        clip: (N, C, T, H, W) clips, any dtype.
        mode: "middle" — frame T // 2 (for even T the later of the two middle frames);
            "first_last" — frames 0 and T - 1 (Karpathy et al. 2014's late fusion).

    Returns:
        (N, C, K, H, W) with K = 1 for "middle" and K = 2 for "first_last".

    Raises:
        ValueError: ``clip`` is not 5-D or ``mode`` is unknown.
    """
    # 1. validate
    if clip.dim() != 5:
        raise ValueError(f"clip must be (N, C, T, H, W), got shape {tuple(clip.shape)}")
    T = clip.shape[2]
    # 2. the frame indices of the mode
    if mode == "middle":
        indices = [T // 2]
    elif mode == "first_last":
        indices = [0, T - 1]
    else:
        raise ValueError(f"mode must be 'middle' or 'first_last', got {mode!r}")
    # 3. index the time axis with a list, which keeps it (an int would drop it)
    return clip[:, :, indices]  # (N, C, K, H, W)


def fold_frames(clip: torch.Tensor) -> torch.Tensor:
    """Fold time into the batch so a 2D CNN sees every frame as a separate image.

    Args:
        clip: (N, C, T, H, W) clips, any dtype.

    Returns:
        (N·T, C, H, W) frames, clip by clip: row ``n * T + t`` is ``clip[n, :, t]``. A result per
        frame, (N·T, ...), goes back to its clip with ``.view(N, T, ...)``.

    Raises:
        ValueError: ``clip`` is not 5-D.
    """
    # 1. validate
    if clip.dim() != 5:
        raise ValueError(f"clip must be (N, C, T, H, W), got shape {tuple(clip.shape)}")
    N, C, T, H, W = clip.shape
    # 2. move T next to N (permute), then merge the two (reshape copies: the permuted view is not contiguous)
    return clip.permute(0, 2, 1, 3, 4).reshape(N * T, C, H, W)  # (N, T, C, H, W) → (N·T, C, H, W)


def early_fusion_stack(clip: torch.Tensor) -> torch.Tensor:
    """Stack the frames on the channel axis, for early fusion by a 2D convolution.

    Channel ``c * T + t`` of the result is channel c of frame t: channels are grouped by input
    channel, time varying fastest. This is the order of a Conv3d weight (O, C, T, kh, kw) flattened
    to (O, C·T, kh, kw), so a Conv2d on the stacked clip equals a Conv3d whose kernel spans all T
    frames (Karpathy et al. 2014, early fusion).

    Args:
        clip: (N, C, T, H, W) clips, any dtype.

    Returns:
        (N, C·T, H, W).

    Raises:
        ValueError: ``clip`` is not 5-D.
    """
    # 1. validate
    if clip.dim() != 5:
        raise ValueError(f"clip must be (N, C, T, H, W), got shape {tuple(clip.shape)}")
    N, C, T, H, W = clip.shape
    # 2. C and T are neighbours in the Conv3d layout: merging them gives channel c * T + t
    return clip.reshape(N, C * T, H, W)


def circular_pad_hw(x: torch.Tensor, pad: int) -> torch.Tensor:
    """Wrap-around (circular) padding of the last two axes, as on a torus.

    The ``pad`` rows above the frame are its last ``pad`` rows, the rows below it its first ones;
    then the same for columns (corners come from the opposite corners). Other axes (channels, time)
    are not padded. Equal to ``F.pad(x, (pad, pad, pad, pad), mode="circular")`` on (N, C, H, W)
    and to ``F.pad(x, (pad, pad, pad, pad, 0, 0), mode="circular")`` on (N, C, T, H, W).

    Args:
        x: (..., H, W), at least 2-D, any dtype.
        pad: pixels added on each side, 0 <= pad <= min(H, W).

    Returns:
        (..., H + 2·pad, W + 2·pad).

    Raises:
        ValueError: ``x`` has fewer than 2 dimensions or ``pad`` is negative or larger than H or W.
    """
    # 1. validate
    if x.dim() < 2:
        raise ValueError(f"x must be (..., H, W), got shape {tuple(x.shape)}")
    H, W = x.shape[-2:]
    if not 0 <= pad <= min(H, W):
        raise ValueError(f"pad must be between 0 and min(H, W) = {min(H, W)}, got {pad}")
    # 2. rows: the last `pad` rows on top, the first `pad` rows below
    x = torch.cat([x[..., H - pad:, :], x, x[..., :pad, :]], dim=-2)  # (..., H + 2 pad, W)
    # 3. columns of the row-padded tensor (this fills the corners too)
    return torch.cat([x[..., W - pad:], x, x[..., :pad]], dim=-1)  # (..., H + 2 pad, W + 2 pad)


def slow_fusion_windows(num_frames: int, window: int, stride: int) -> torch.Tensor:
    """The frames each temporal position of a slow-fusion layer sees (a Conv3d without time padding).

    A temporal kernel of size ``window`` applied with ``stride`` and no padding has
    K = (num_frames - window) // stride + 1 positions; position k covers frames
    k·stride, ..., k·stride + window - 1 (Karpathy et al. 2014: 4-frame windows with stride 2).

    Args:
        num_frames: frames of the input (T), >= 1.
        window: temporal kernel size, 1 <= window <= num_frames.
        stride: temporal stride, >= 1.

    Returns:
        (K, window) int64 frame indices; row k lists the frames of position k in increasing order.

    Raises:
        ValueError: a size < 1, or a window longer than the clip.
    """
    # 1. validate
    if num_frames < 1 or window < 1 or stride < 1:
        raise ValueError(f"num_frames, window and stride must be >= 1, got {num_frames}, {window}, {stride}")
    if window > num_frames:
        raise ValueError(f"a window of {window} frames does not fit in a clip of {num_frames} frames")
    # 2. K positions: the last window must end at or before the last frame
    num_windows = (num_frames - window) // stride + 1
    # 3. start of each window plus the offsets inside it (broadcast to (K, window))
    starts = torch.arange(num_windows) * stride  # (K,)
    return starts[:, None] + torch.arange(window)[None, :]  # (K, window)


# --- building blocks ------------------------------------------------------------------------------
class CircularPadHW(nn.Module):
    """:func:`circular_pad_hw` as a layer: (..., H, W) → (..., H + 2·pad, W + 2·pad)."""

    def __init__(self, pad: int) -> None:
        super().__init__()
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return circular_pad_hw(x, self.pad)

    def extra_repr(self) -> str:
        return f"pad={self.pad}"


def _block(in_channels: int, out_channels: int, *, kernel_size: tuple[int, ...], stride: tuple[int, ...],
           time_padding: int = 0) -> nn.Sequential:
    """CircularPadHW → Conv (2D or 3D by len(kernel_size), no bias) → BatchNorm → ReLU."""
    pad = kernel_size[-1] // 2  # same spatial size before the stride
    if len(kernel_size) == 2:
        conv, norm = nn.Conv2d(in_channels, out_channels, kernel_size, stride, bias=False), nn.BatchNorm2d
    else:  # time: zero padding (not circular: the end of a clip does not continue at its start)
        conv = nn.Conv3d(in_channels, out_channels, kernel_size, stride, padding=(time_padding, 0, 0), bias=False)
        norm = nn.BatchNorm3d
    return nn.Sequential(CircularPadHW(pad), conv, norm(out_channels), nn.ReLU(inplace=True))


def frame_cnn(*, in_channels: int = 1, widths: Sequence[int] = (8, 16, 32)) -> nn.Sequential:
    """The small 2D CNN that the frame-based models share (no classifier).

    (B, in_channels, H, W) → [CircularPadHW(1) → Conv2d 3×3 stride 2 → BN → ReLU] × len(widths)
    → (B, widths[-1], ⌈H / 2^L⌉, ⌈W / 2^L⌉). With the defaults: 32×32 → 4×4, ~6 k parameters.

    Args:
        in_channels: channels of one input image (1 for grey frames; C·T for early fusion).
        widths: output channels of each conv layer.
    """
    chans = [in_channels, *widths]
    return nn.Sequential(*[_block(a, b, kernel_size=(3, 3), stride=(2, 2)) for a, b in zip(chans, chans[1:])])


# --- the fusion models ----------------------------------------------------------------------------
class SingleFrame(nn.Module):
    """Single-frame baseline: a 2D CNN classifies one frame; time is never looked at.

        clip (N, C, T, H, W)
          ↓ one frame per clip (frames="one") or all T frames          (N, C, K, H, W), K = 1 or T
          ↓ fold_frames                                              (N·K, C, H, W)
          ↓ frame_cnn → global average pool → Linear                 (N·K, num_classes)
          ↓ view (N, K, num_classes), mean over K                    (N, num_classes)

    ``frames="one"`` (default) is Karpathy et al. 2014's single-frame model: it sees one frame of a
    clip, a random one per clip in training mode (so every frame of a training clip serves as an
    example) and the middle one, ``select_frames(clip, "middle")``, in eval mode.
    ``frames="all"`` classifies every frame alone and averages the logits over time; the output
    then does not depend on the order of the frames, but it is a *bag* of frames, not one frame:
    on the wrap-around canvas the positions a digit visits lie along a row or along a column, and a
    stride-2 CNN can partly tell which.

    Args:
        num_classes: classes of the output.
        in_channels: channels of a frame.
        frames: "one" or "all".
        widths: widths of :func:`frame_cnn`.
    """

    def __init__(self, num_classes: int, *,
                 # input
                 in_channels: int = 1, frames: str = "one",
                 # architecture
                 widths: Sequence[int] = (8, 16, 32)) -> None:
        super().__init__()
        if frames not in ("one", "all"):
            raise ValueError(f"frames must be 'one' or 'all', got {frames!r}")
        self.frames = frames
        self.features = frame_cnn(in_channels=in_channels, widths=widths)
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        if self.frames == "one" and self.training:  # a random frame of each clip
            N, T = clip.shape[0], clip.shape[2]
            t = torch.randint(T, (N,), device=clip.device)
            clip = clip[torch.arange(N, device=clip.device), :, t].unsqueeze(2)  # (N, C, 1, H, W)
        elif self.frames == "one":
            clip = select_frames(clip, "middle")  # (N, C, 1, H, W)
        N, K = clip.shape[0], clip.shape[2]
        x = self.features(fold_frames(clip))  # (N·K, F, h, w)
        logits = self.classifier(x.mean(dim=(2, 3)))  # (N·K, num_classes)
        return logits.view(N, K, -1).mean(dim=1)  # (N, num_classes)


class LateFusion(nn.Module):
    """Late fusion: the same 2D CNN on the first and the last frame; only the classifier sees both.

        clip (N, C, T, H, W)
          ↓ select_frames "first_last", fold_frames          (N·2, C, H, W)
          ↓ frame_cnn → global average pool                  (N·2, F)
          ↓ view: first and last features side by side       (N, 2·F)
          ↓ Linear                                           (N, num_classes)

    The two towers share their weights and meet only in the classifier (Karpathy et al. 2014 place
    two towers 15 frames apart and merge them in the first fully connected layer). Here each
    tower's features are pooled over space before they meet, which suits the wrap-around canvas
    (a digit is anywhere): the classifier compares *what* the two end frames show, not *where*, and
    nothing between them is seen.

    Args:
        num_classes: classes of the output.
        in_channels: channels of a frame.
        widths: widths of :func:`frame_cnn`.
    """

    def __init__(self, num_classes: int, *,
                 # input
                 in_channels: int = 1,
                 # architecture
                 widths: Sequence[int] = (8, 16, 32)) -> None:
        super().__init__()
        self.features = frame_cnn(in_channels=in_channels, widths=widths)
        self.classifier = nn.Linear(2 * widths[-1], num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        N = clip.shape[0]
        x = fold_frames(select_frames(clip, "first_last"))  # (N·2, C, H, W): clip n's first, then last
        x = self.features(x).mean(dim=(2, 3))  # (N·2, F)
        return self.classifier(x.view(N, -1))  # (N, 2·F) → (N, num_classes)


class EarlyFusion(nn.Module):
    """Early fusion: all frames enter the first convolution together, as channels.

        clip (N, C, T, H, W)
          ↓ early_fusion_stack                                    (N, C·T, H, W)
          ↓ frame_cnn(in_channels = C·T) → global average pool     (N, F)
          ↓ Linear                                                 (N, num_classes)

    The first layer's filters span all T frames (a Conv3d with temporal kernel T, Karpathy et al.
    2014); after it, time is gone. The number of frames is fixed by the first layer.

    Args:
        num_classes: classes of the output.
        in_channels: channels of a frame.
        num_frames: T of the clips the model reads.
        widths: widths of :func:`frame_cnn`.
    """

    def __init__(self, num_classes: int, *,
                 # input
                 in_channels: int = 1, num_frames: int = 8,
                 # architecture
                 widths: Sequence[int] = (8, 16, 32)) -> None:
        super().__init__()
        self.features = frame_cnn(in_channels=in_channels * num_frames, widths=widths)
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.features(early_fusion_stack(clip))  # (N, F, h, w)
        return self.classifier(x.mean(dim=(2, 3)))  # (N, num_classes)


class SlowFusion(nn.Module):
    """Slow fusion: 3D convolutions whose temporal extent grows across the layers.

        clip (N, C, T, H, W)
          ↓ [CircularPadHW(1) → Conv3d (k_t, 3, 3), stride (s_t, 2, 2), no time padding
             → BN → ReLU] per layer                                (N, F, T', h, w)
          ↓ global average pool over T', h, w → Linear             (N, num_classes)

    With the defaults, time kernels (4, 3, 1) and strides (2, 1, 1) on T = 8: the first layer sees
    windows of 4 frames starting at frames 0, 2, 4 (``slow_fusion_windows(8, 4, 2)``, 3 positions),
    the second fuses those 3 into one, so a unit of the last layer sees all 8 frames (temporal
    receptive fields 4, 8, 8). Karpathy et al. 2014 fuse 10 frames with extents 4, 2, 2, stride 2.

    Args:
        num_classes: classes of the output.
        in_channels: channels of a frame.
        widths: output channels of each layer.
        time_kernels: temporal kernel size of each layer.
        time_strides: temporal stride of each layer.
    """

    def __init__(self, num_classes: int, *,
                 # input
                 in_channels: int = 1,
                 # architecture
                 widths: Sequence[int] = (8, 16, 32), time_kernels: Sequence[int] = (4, 3, 1),
                 time_strides: Sequence[int] = (2, 1, 1)) -> None:
        super().__init__()
        chans = [in_channels, *widths]
        self.features = nn.Sequential(*[
            _block(a, b, kernel_size=(kt, 3, 3), stride=(st, 2, 2))
            for a, b, kt, st in zip(chans, chans[1:], time_kernels, time_strides)])
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.features(clip)  # (N, F, T', h, w)
        return self.classifier(x.mean(dim=(2, 3, 4)))  # (N, num_classes)


class SmallC3D(nn.Module):
    """A small C3D-style 3D CNN: 3×3×3 convolutions at every layer, BatchNorm, global pooling.

        clip (N, C, T, H, W)
          ↓ CircularPadHW(1) → Conv3d 3×3×3, stride (1, 2, 2), time zero-padded → BN → ReLU
          ↓ CircularPadHW(1) → Conv3d 3×3×3, stride (2, 2, 2)                      → BN → ReLU
          ↓ CircularPadHW(1) → Conv3d 3×3×3, stride (2, 2, 2)                      → BN → ReLU
          ↓ global average pool → Linear                           (N, num_classes)

    The first layer halves only H and W (as C3D's pool1 keeps time, Tran et al. 2015), so early
    layers see motion at full temporal resolution. ~37 k parameters with the default widths (the
    first layer is narrow: it runs at full T and half H, W, where most of the compute is).

    Args:
        num_classes: classes of the output.
        in_channels: channels of a frame.
        widths: output channels of the three conv layers.
    """

    def __init__(self, num_classes: int, *,
                 # input
                 in_channels: int = 1,
                 # architecture
                 widths: Sequence[int] = (8, 24, 48)) -> None:
        super().__init__()
        chans = [in_channels, *widths]
        strides = [(1, 2, 2)] + [(2, 2, 2)] * (len(widths) - 1)
        self.features = nn.Sequential(*[
            _block(a, b, kernel_size=(3, 3, 3), stride=s, time_padding=1)
            for a, b, s in zip(chans, chans[1:], strides)])
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.features(clip)  # (N, F, T', h, w)
        return self.classifier(x.mean(dim=(2, 3, 4)))  # (N, num_classes)


# --- C3D, as published ----------------------------------------------------------------------------
class C3D(nn.Module):
    """C3D (Tran et al. 2015): eight 3×3×3 convolutions, five poolings, two 4096-wide FC layers.

        clip (N, 3, 16, 112, 112)
          ↓ conv1a 64                      → pool1 1×2×2      (N, 64, 16, 56, 56)
          ↓ conv2a 128                     → pool2 2×2×2      (N, 128, 8, 28, 28)
          ↓ conv3a 256 → conv3b 256        → pool3 2×2×2      (N, 256, 4, 14, 14)
          ↓ conv4a 512 → conv4b 512        → pool4 2×2×2      (N, 512, 2, 7, 7)
          ↓ conv5a 512 → conv5b 512        → pool5 2×2×2, padding (0, 1, 1)   (N, 512, 1, 4, 4)
          ↓ flatten → fc6 4096 → ReLU → dropout → fc7 4096 → ReLU → dropout → fc8   (N, num_classes)

    Every conv is 3×3×3 with stride 1 and padding 1, followed by ReLU. pool1 keeps time "to not
    merge the temporal signal too early"; pool5 pads H and W by one so that 7×7 becomes 4×4, as in
    the released Caffe model, which gives 8192 features to fc6. The input size is fixed by fc6:
    16 frames of 112×112. 78,409,573 parameters with 101 classes (UCF101).
    """

    def __init__(self, num_classes: int = 101, *,
                 # input
                 in_channels: int = 3,
                 # classifier
                 dropout: float = 0.5) -> None:
        super().__init__()

        def conv(a: int, b: int) -> list[nn.Module]:
            return [nn.Conv3d(a, b, kernel_size=3, padding=1), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *conv(in_channels, 64), nn.MaxPool3d((1, 2, 2)),
            *conv(64, 128), nn.MaxPool3d(2),
            *conv(128, 256), *conv(256, 256), nn.MaxPool3d(2),
            *conv(256, 512), *conv(512, 512), nn.MaxPool3d(2),
            *conv(512, 512), *conv(512, 512), nn.MaxPool3d(2, padding=(0, 1, 1)),
        )
        self.classifier = nn.Sequential(
            nn.Linear(512 * 1 * 4 * 4, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.features(clip)  # (N, 512, 1, 4, 4) for a (N, 3, 16, 112, 112) clip
        return self.classifier(x.flatten(1))  # (N, num_classes)


def c3d(*, num_classes: int = 101,
        # input
        in_channels: int = 3,
        # classifier
        dropout: float = 0.5) -> C3D:
    """Build C3D as in Tran et al. 2015 (see :class:`C3D`); 78,409,573 parameters at 101 classes."""
    return C3D(num_classes, in_channels=in_channels, dropout=dropout)
