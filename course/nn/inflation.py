"""Inflation: turn a trained 2D CNN into a 3D CNN for video (Carreira & Zisserman 2017, I3D).

Lesson 05_inflation.

Carreira & Zisserman 2017, "Quo Vadis, Action Recognition? A New Model and the Kinetics Dataset",
Sec. 2.4: a 2D network pretrained on images becomes a 3D network by **inflating** every k×k filter
into a t×k×k filter. The 2D weights are repeated t times along the new time axis and divided by t.
Then a "boring" video — one image repeated in every frame — gives every inflated convolution the
2D convolution's response in every frame, and pooling, batch norm (with the 2D running statistics)
and the classifier do the same: the inflated network classifies a boring video exactly as the 2D
network classifies its image. Training on real video then starts from the image features.

Layouts: clips (N, C, T, H, W), the layout of ``torch.nn.Conv3d``; 2D weights (C_out, C_in, k_h,
k_w); 3D weights (C_out, C_in, k_t, k_h, k_w); kernel, stride and padding triples are (time,
height, width).

The graded functions of lesson 05_inflation (plain data in, plain data out):

    inflate_weight(weight2d, time_dim, mode)            (O, I, kh, kw) → (O, I, t, kh, kw)
    inflate_conv_args(kernel_size, stride, padding,     2D sizes → Conv3d triples
                      time_dim, time_stride)
    boring_clip(frame, num_frames)                      (N, C, H, W) → (N, C, T, H, W), one frame repeated
    batchnorm_from_2d(clip, running_mean, ...)         eval-mode BatchNorm3d with a 2D BN's statistics
    inflate_state_dict(state_dict, time_dim)            a 2D network's weights → its inflated twin's

The modules built from them:

    inflate_conv(conv2d, time_dim, mode)                nn.Conv2d → nn.Conv3d
    inflate_batchnorm(bn2d)                             nn.BatchNorm2d → nn.BatchNorm3d (same statistics)
    inflate_pool(pool2d)                                2D pooling → 3D pooling that keeps time
    inflate_model(model2d, time_dim)                    a whole 2D CNN → its 3D twin
    ReplicatePadTime                                    pad time by repeating the end frames
    small_resnet2d(num_classes=K)                       a small inflatable 2D ResNet (lesson 05)

About the ends of the clip: I3D pads time with zeros. A zero frame is not a copy of the image, so
with ``mode="average"`` the first and last t // 2 output frames of a boring clip differ from the 2D
response; ``mode="center"`` (the 2D kernel on the middle frame only, zeros elsewhere) or padding
time by repetition (``inflate_model(..., time_padding="replicate")``) makes the equality exact at
every frame.
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "inflate_weight",
    "inflate_conv_args",
    "boring_clip",
    "batchnorm_from_2d",
    "inflate_state_dict",
    "inflate_conv",
    "inflate_batchnorm",
    "inflate_pool",
    "inflate_model",
    "ReplicatePadTime",
    "BasicBlock2d",
    "small_resnet2d",
]

INFLATION_MODES = ("average", "center")


# --- the exercises --------------------------------------------------------------------------------
def inflate_weight(weight2d: torch.Tensor, time_dim: int, mode: str = "average") -> torch.Tensor:
    """Inflate a 2D convolution kernel into a 3D one (Carreira & Zisserman 2017, Sec. 2.4).

    ``"average"``: the 2D kernel is repeated on each of the ``time_dim`` frames and divided by
    ``time_dim``, so on a clip whose frames are all equal the 3D conv sums t copies of (2D response
    / t) = the 2D response. ``"center"``: the 2D kernel sits on the middle frame (index
    ``time_dim // 2``) and the other frames are zero, so the 3D conv starts as the 2D conv applied
    frame by frame.

    Args:
        weight2d: (C_out, C_in, k_h, k_w) kernel of a Conv2d, any floating dtype.
        time_dim: t, the temporal size of the new kernel, an int >= 1.
        mode: "average" or "center".

    Returns:
        (C_out, C_in, t, k_h, k_w), the dtype and device of ``weight2d``; summed over the time
        axis it gives ``weight2d`` back in both modes.

    Raises:
        ValueError: ``weight2d`` is not 4-D, ``time_dim`` is not an int >= 1, or ``mode`` is unknown.
    """
    # 1. validate
    if weight2d.dim() != 4:
        raise ValueError(f"weight2d must be a Conv2d kernel (C_out, C_in, k_h, k_w), got shape {tuple(weight2d.shape)}")
    if not isinstance(time_dim, int) or isinstance(time_dim, bool) or time_dim < 1:
        raise ValueError(f"time_dim must be an int >= 1, got {time_dim!r}")
    # 2. a new time axis after the channels: the Conv3d layout (C_out, C_in, t, k_h, k_w)
    weight = weight2d.unsqueeze(2)  # (C_out, C_in, 1, k_h, k_w)
    if mode == "average":
        # 3a. the same kernel on every frame, scaled by 1/t so that t equal frames sum to the 2D response
        return weight.repeat(1, 1, time_dim, 1, 1) / time_dim  # (C_out, C_in, t, k_h, k_w)
    if mode == "center":
        # 3b. zeros on every frame but the middle one, which holds the 2D kernel unchanged
        weight3d = torch.zeros_like(weight).repeat(1, 1, time_dim, 1, 1)  # (C_out, C_in, t, k_h, k_w)
        weight3d[:, :, time_dim // 2] = weight2d
        return weight3d
    raise ValueError(f"mode must be 'average' or 'center', got {mode!r}")


def inflate_conv_args(kernel_size: int | Sequence[int], stride: int | Sequence[int], padding: int | Sequence[int],
                      time_dim: int, time_stride: int = 1) -> tuple[tuple[int, int, int], ...]:
    """The kernel, stride and padding of the Conv3d that inflates a Conv2d.

    Time goes first, as in ``nn.Conv3d``: the kernel gets ``time_dim`` frames, the stride
    ``time_stride`` (I3D keeps the frame rate in its early layers, so 1 by default) and the padding
    ``time_dim // 2`` frames on each side, so that with stride 1 an odd kernel keeps the number of
    frames, as the 2D padding keeps height and width. The spatial parts are the 2D ones.

    Args:
        kernel_size: (k_h, k_w) or one int for both.
        stride: (s_h, s_w) or one int.
        padding: (p_h, p_w) or one int (numbers of pixels, not "same").
        time_dim: k_t, an int >= 1.
        time_stride: s_t, an int >= 1.

    Returns:
        ``((k_t, k_h, k_w), (s_t, s_h, s_w), (k_t // 2, p_h, p_w))``, tuples of Python ints.

    Raises:
        ValueError: a size that is not one int or a pair of ints, a kernel or stride < 1, a negative
            padding, or a ``time_dim`` / ``time_stride`` that is not an int >= 1.
    """
    # 1. validate and expand ints to (height, width) pairs
    pairs = []
    for name, value, low in [("kernel_size", kernel_size, 1), ("stride", stride, 1), ("padding", padding, 0)]:
        pair = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, (tuple, list)) else ()
        if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= low for v in pair):
            raise ValueError(f"{name} must be an int >= {low} or a pair (height, width) of them, got {value!r}")
        pairs.append(pair)
    for name, value in [("time_dim", time_dim), ("time_stride", time_stride)]:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    (kh, kw), (sh, sw), (ph, pw) = pairs
    # 2. time first: t frames, the time stride, t // 2 frames of padding on each side
    return (time_dim, kh, kw), (time_stride, sh, sw), (time_dim // 2, ph, pw)


def boring_clip(frame: torch.Tensor, num_frames: int) -> torch.Tensor:
    """A "boring" video: the same image in every frame (Carreira & Zisserman 2017, Sec. 2.4).

    Args:
        frame: (N, C, H, W) images, any dtype.
        num_frames: T, an int >= 1.

    Returns:
        (N, C, T, H, W), the Conv3d layout: ``clip[:, :, t]`` equals ``frame`` for every t.

    Raises:
        ValueError: ``frame`` is not 4-D or ``num_frames`` is not an int >= 1.
    """
    # 1. validate
    if frame.dim() != 4:
        raise ValueError(f"frame must be (N, C, H, W), got shape {tuple(frame.shape)}")
    if not isinstance(num_frames, int) or isinstance(num_frames, bool) or num_frames < 1:
        raise ValueError(f"num_frames must be an int >= 1, got {num_frames!r}")
    # 2. a time axis after the channels, repeated T times (a copy, not a view: the clip can be edited)
    return frame.unsqueeze(2).repeat(1, 1, num_frames, 1, 1)  # (N, C, T, H, W)


def batchnorm_from_2d(clip: torch.Tensor, running_mean: torch.Tensor, running_var: torch.Tensor,
                       weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Batch norm of a clip in eval mode with the statistics of a 2D network's BatchNorm2d.

    An inflated network keeps each BatchNorm's per-channel running mean and variance and its affine
    weight and bias: y = (x − mean_c) / sqrt(var_c + eps) · weight_c + bias_c for every frame and
    pixel of channel c. A boring clip's frames are the 2D network's images, so these are the right
    statistics for them (Ioffe & Szegedy 2015 for batch norm; ``nn.BatchNorm3d`` in eval mode).

    Args:
        clip: (N, C, T, H, W) features, floating point.
        running_mean, running_var: (C,) the 2D BatchNorm's running statistics.
        weight, bias: (C,) its affine parameters.
        eps: added to the variance, > 0 (PyTorch's default 1e-5).

    Returns:
        (N, C, T, H, W), the dtype of ``clip``.

    Raises:
        ValueError: ``clip`` is not 5-D or a statistic is not a (C,) vector.
    """
    # 1. validate
    if clip.dim() != 5:
        raise ValueError(f"clip must be (N, C, T, H, W), got shape {tuple(clip.shape)}")
    C = clip.shape[1]
    for name, value in [("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                        ("bias", bias)]:
        if tuple(value.shape) != (C,):
            raise ValueError(f"{name} must have shape ({C},), one number per channel, got {tuple(value.shape)}")

    # 2. per-channel vectors broadcast over N, T, H and W: shape (1, C, 1, 1, 1)
    def per_channel(v: torch.Tensor) -> torch.Tensor:
        return v.view(1, C, 1, 1, 1)

    # 3. normalize with the stored statistics (not the clip's own), then scale and shift
    x = (clip - per_channel(running_mean)) / torch.sqrt(per_channel(running_var) + eps)
    return x * per_channel(weight) + per_channel(bias)


def inflate_state_dict(state_dict: dict[str, torch.Tensor], time_dim: int) -> dict[str, torch.Tensor]:
    """The weights of a 2D CNN, inflated for its 3D twin (I3D's "average" inflation).

    Every 4-D tensor is a Conv2d kernel (C_out, C_in, k_h, k_w): a k_h×k_w kernel larger than 1×1
    becomes (C_out, C_in, t, k_h, k_w), repeated over t frames and divided by t; a 1×1 kernel
    becomes 1×1×1 (a pointwise conv stays pointwise, as in I3D). Everything else — conv biases,
    batch-norm weights, biases and running statistics, the batch counter, the classifier — is
    copied unchanged.

    Args:
        state_dict: name -> tensor, as ``model2d.state_dict()`` returns.
        time_dim: t, an int >= 1.

    Returns:
        A new dict with the same keys; tensors are copies (editing them leaves the input alone).

    Raises:
        ValueError: ``time_dim`` is not an int >= 1.
    """
    # 1. validate
    if not isinstance(time_dim, int) or isinstance(time_dim, bool) or time_dim < 1:
        raise ValueError(f"time_dim must be an int >= 1, got {time_dim!r}")
    inflated = {}
    for name, tensor in state_dict.items():
        if tensor.dim() == 4:
            # 2. a conv kernel: t frames (1 for a 1×1 kernel), repeated and divided by t
            t = 1 if tuple(tensor.shape[2:]) == (1, 1) else time_dim
            inflated[name] = tensor.unsqueeze(2).repeat(1, 1, t, 1, 1) / t  # (C_out, C_in, t, k_h, k_w)
        else:
            # 3. biases, batch-norm statistics and parameters, linear layers: unchanged copies
            inflated[name] = tensor.clone()
    return inflated


# --- modules --------------------------------------------------------------------------------------
class ReplicatePadTime(nn.Module):
    """Pad the time axis of (N, C, T, H, W) by repeating the first and last frames ``pad`` times.

    Placed before an inflated conv whose own time padding is 0, it makes a boring clip stay boring
    at its ends, so ``mode="average"`` inflation gives the 2D response at every frame.
    """

    def __init__(self, pad: int) -> None:
        super().__init__()
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, 0, 0, 0, self.pad, self.pad), mode="replicate")  # (N, C, T + 2·pad, H, W)

    def extra_repr(self) -> str:
        return f"pad={self.pad}"


def inflate_conv(conv2d: nn.Conv2d, time_dim: int, mode: str = "average", *, time_stride: int = 1,
                 time_padding: int | None = None) -> nn.Conv3d:
    """A Conv3d whose t×k_h×k_w kernel is the inflated kernel of ``conv2d`` (I3D, Sec. 2.4).

    Kernel, stride and padding come from :func:`inflate_conv_args`, the weights from
    :func:`inflate_weight`; the bias (if any), groups, spatial dilation, device and dtype are
    copied. The padding mode is copied too and applies to time as well (``"zeros"``, the default,
    pads time with zero frames as I3D does).

    Args:
        conv2d: the 2D convolution (numeric padding, not ``"same"``/``"valid"``).
        time_dim: temporal kernel size t, >= 1.
        mode: "average" (repeat, divide by t) or "center" (the 2D kernel on the middle frame).
        time_stride: temporal stride, >= 1.
        time_padding: frames of padding on each side of the time axis; None means t // 2.

    Returns:
        An ``nn.Conv3d`` mapping (N, C_in, T, H, W) to (N, C_out, T', H', W'), where H', W' are
        the 2D conv's output sizes and T' = (T + 2·time_padding − t) // time_stride + 1.

    Raises:
        ValueError: ``conv2d`` is not an ``nn.Conv2d`` or has a string padding; bad sizes or mode.
    """
    # 1. validate
    if not isinstance(conv2d, nn.Conv2d):
        raise ValueError(f"inflate_conv expects an nn.Conv2d, got {type(conv2d).__name__}")
    if isinstance(conv2d.padding, str):
        raise ValueError(f"conv2d has padding={conv2d.padding!r}: give it numeric padding before inflating")
    # 2. the 3D sizes (time first)
    kernel, stride, padding = inflate_conv_args(conv2d.kernel_size, conv2d.stride, conv2d.padding, time_dim,
                                                time_stride)
    if time_padding is not None:
        padding = (time_padding, *padding[1:])
    # 3. the module, then the inflated weights
    conv3d = nn.Conv3d(conv2d.in_channels, conv2d.out_channels, kernel, stride, padding,
                       dilation=(1, *conv2d.dilation), groups=conv2d.groups, bias=conv2d.bias is not None,
                       padding_mode=conv2d.padding_mode, device=conv2d.weight.device, dtype=conv2d.weight.dtype)
    with torch.no_grad():
        conv3d.weight.copy_(inflate_weight(conv2d.weight, time_dim, mode))
        if conv2d.bias is not None:
            conv3d.bias.copy_(conv2d.bias)
    return conv3d


def inflate_batchnorm(bn2d: nn.BatchNorm2d) -> nn.BatchNorm3d:
    """A BatchNorm3d with the statistics, affine parameters and settings of ``bn2d``.

    Raises:
        ValueError: ``bn2d`` is not an ``nn.BatchNorm2d``.
    """
    if not isinstance(bn2d, nn.BatchNorm2d):
        raise ValueError(f"inflate_batchnorm expects an nn.BatchNorm2d, got {type(bn2d).__name__}")
    like = next(iter(bn2d.parameters()), bn2d.running_mean)  # device and dtype to copy (None: neither is stored)
    factory = {} if like is None else {"device": like.device, "dtype": like.dtype}
    bn3d = nn.BatchNorm3d(bn2d.num_features, eps=bn2d.eps, momentum=bn2d.momentum, affine=bn2d.affine,
                          track_running_stats=bn2d.track_running_stats, **factory)
    bn3d.load_state_dict(bn2d.state_dict())
    return bn3d.train(bn2d.training)


def _pair(value: int | Sequence[int | None] | None) -> tuple:
    return (value, value) if value is None or isinstance(value, int) else tuple(value)


def inflate_pool(pool2d: nn.Module) -> nn.Module:
    """The 3D twin of a 2D pooling layer; it does not pool time, except adaptive pooling.

    MaxPool2d / AvgPool2d with kernel (k_h, k_w) become MaxPool3d / AvgPool3d with kernel
    (1, k_h, k_w), stride (1, s_h, s_w) and padding (0, p_h, p_w); ceil mode and the other options
    are kept. AdaptiveAvgPool2d / AdaptiveMaxPool2d with output (o_h, o_w) become their 3D versions
    with output (1, o_h, o_w): a global pool over space pools time too, so a classifier after it
    sees (N, C, 1, o_h, o_w), which flattens like the 2D (N, C, o_h, o_w).

    Raises:
        ValueError: not one of these four layers, or a dilated max pool.
    """
    if isinstance(pool2d, nn.MaxPool2d):
        if _pair(pool2d.dilation) != (1, 1):
            raise ValueError("inflate_pool does not handle dilated max pooling")
        return nn.MaxPool3d((1, *_pair(pool2d.kernel_size)), (1, *_pair(pool2d.stride)), (0, *_pair(pool2d.padding)),
                            ceil_mode=pool2d.ceil_mode)
    if isinstance(pool2d, nn.AvgPool2d):
        return nn.AvgPool3d((1, *_pair(pool2d.kernel_size)), (1, *_pair(pool2d.stride)), (0, *_pair(pool2d.padding)),
                            ceil_mode=pool2d.ceil_mode, count_include_pad=pool2d.count_include_pad,
                            divisor_override=pool2d.divisor_override)
    if isinstance(pool2d, nn.AdaptiveAvgPool2d):
        return nn.AdaptiveAvgPool3d((1, *_pair(pool2d.output_size)))
    if isinstance(pool2d, nn.AdaptiveMaxPool2d):
        return nn.AdaptiveMaxPool3d((1, *_pair(pool2d.output_size)))
    raise ValueError(f"inflate_pool expects a 2D max, average or adaptive pooling layer, got {type(pool2d).__name__}")


_POOLS_2D = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
_NOT_INFLATABLE = (nn.modules.conv._ConvNd, nn.modules.batchnorm._NormBase, nn.modules.pooling._MaxPoolNd,
                   nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd,
                   nn.modules.pooling._AdaptiveMaxPoolNd)


def inflate_model(model2d: nn.Module, time_dim: int, *, mode: str = "average", time_padding: str = "zeros",
                  time_dims: Mapping[str, int] | None = None) -> nn.Module:
    """Inflate a whole 2D CNN into a 3D CNN for (N, C, T, H, W) clips (I3D, Sec. 2.4).

    A deep copy of ``model2d`` in which every Conv2d becomes :func:`inflate_conv` (t×k×k for a k×k
    kernel with k > 1, 1×1×1 for a 1×1 kernel, time stride 1), every BatchNorm2d
    :func:`inflate_batchnorm` and every 2D pooling :func:`inflate_pool`. Linear layers,
    activations, dropout and flattening are kept: after the global pool the features have the 2D
    network's size. The network's own ``forward`` is reused, so it must not depend on the number
    of dimensions (``torch.flatten(x, 1)``, ``torch.cat(..., dim=1)`` and ``x + y`` are fine,
    ``x.mean((2, 3))`` is not).

    Boring-video property: on ``boring_clip(image, T)`` the 3D network returns the 2D network's
    output on ``image`` (both in eval mode) — exactly with ``mode="center"`` or with
    ``time_padding="replicate"``; with ``mode="average"`` and zero time padding (I3D's choice) only
    up to the clip's ends, where the zero frames enter the first and last t // 2 frames.

    Args:
        model2d: the 2D network; left unchanged.
        time_dim: temporal kernel size t of the inflated k×k convs (k > 1), >= 1.
        mode: "average" or "center" (see :func:`inflate_weight`).
        time_padding: "zeros" (each conv pads time with t // 2 zero frames) or "replicate" (a
            :class:`ReplicatePadTime` before each conv with t > 1, which then pads time by 0).
        time_dims: per-conv overrides of t by module name, e.g. ``{"stem.0": 7}``.

    Returns:
        The inflated network, in the training mode of ``model2d``.

    Raises:
        ValueError: bad ``mode`` / ``time_padding`` / ``time_dims``, or a layer that cannot be
            inflated (a conv or norm that is not 2D, a transposed conv).
    """
    if time_padding not in ("zeros", "replicate"):
        raise ValueError(f"time_padding must be 'zeros' or 'replicate', got {time_padding!r}")
    if mode not in INFLATION_MODES:
        raise ValueError(f"mode must be 'average' or 'center', got {mode!r}")
    time_dims = dict(time_dims or {})
    names = {name for name, _ in model2d.named_modules()}
    if set(time_dims) - names:
        raise ValueError(f"time_dims names modules the model does not have: {sorted(set(time_dims) - names)}")

    def inflate_leaf(name: str, module: nn.Module) -> nn.Module | None:
        if isinstance(module, nn.Conv2d):
            t = time_dims.get(name, 1 if module.kernel_size == (1, 1) else time_dim)
            if time_padding == "replicate" and t > 1:
                return nn.Sequential(ReplicatePadTime(t // 2), inflate_conv(module, t, mode, time_padding=0))
            return inflate_conv(module, t, mode)
        if isinstance(module, nn.BatchNorm2d):
            return inflate_batchnorm(module)
        if isinstance(module, _POOLS_2D):
            return inflate_pool(module)
        if isinstance(module, _NOT_INFLATABLE):
            raise ValueError(f"cannot inflate {name or 'the model'} ({type(module).__name__}): only Conv2d, "
                             "BatchNorm2d and 2D pooling layers are inflated")
        return None

    model3d = copy.deepcopy(model2d)
    top = inflate_leaf("", model3d)
    if top is not None:
        return top
    for parent_name, parent in list(model3d.named_modules()):
        for child_name, child in list(parent.named_children()):
            new = inflate_leaf(f"{parent_name}.{child_name}" if parent_name else child_name, child)
            if new is not None:
                setattr(parent, child_name, new)
    return model3d


# --- a small inflatable 2D ResNet -----------------------------------------------------------------
class BasicBlock2d(nn.Module):
    """The ResNet basic block (He et al. 2016) in 2D, written so that :func:`inflate_model` can inflate it.

        x → conv 3×3 (stride) → BN → ReLU → conv 3×3 → BN → (+ shortcut(x)) → ReLU

    The shortcut is the identity, or a 1×1 conv with the stride and a BN when the shape changes.
    Nothing in ``forward`` depends on the number of dimensions.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


def small_resnet2d(*, num_classes: int, in_channels: int = 1, widths: Sequence[int] = (8, 16, 32)) -> nn.Sequential:
    """A small 2D ResNet for 32×32 images that :func:`inflate_model` turns into a video network.

        (N, in_channels, H, W)
          ↓ stem: conv 3×3, stride 2 → BN → ReLU                        (N, widths[0], H / 2, W / 2)
          ↓ one BasicBlock2d per width, stride 1 for the first, then 2   (N, widths[-1], H / 2^L, W / 2^L)
          ↓ AdaptiveAvgPool2d(1) → Flatten → Linear                     (N, num_classes)

    Every part is a module (an ``nn.Sequential`` of ``stem``, ``layers``, ``pool``, ``flatten``,
    ``fc``), so the inflated network runs the same code on (N, C, T, H, W) clips. The stride-2 stem
    keeps the inflated network cheap on a CPU: 3D convolutions with few channels at full
    resolution cost far more time than their FLOPs suggest. With the defaults and 10 classes:
    19,810 parameters; 32×32 images end as 4×4 feature maps.

    Args:
        num_classes: outputs of the classifier (logits).
        in_channels: channels of the images (1 for Moving Digits).
        widths: channels of the stem and of each block, L >= 1 entries.
    """
    chans = [widths[0], *widths]
    blocks = [BasicBlock2d(a, b, stride=1 if i == 0 else 2) for i, (a, b) in enumerate(zip(chans, chans[1:]))]
    return nn.Sequential(OrderedDict([
        ("stem", nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, stride=2, padding=1, bias=False),
                               nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))),
        ("layers", nn.Sequential(*blocks)),
        ("pool", nn.AdaptiveAvgPool2d(1)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(widths[-1], num_classes)),
    ]))
