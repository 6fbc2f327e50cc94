"""SlowFast networks: two pathways at two frame rates joined by lateral connections.

Lesson 12_slowfast_long_range.

Feichtenhofer, Fan, Malik & He 2019, "SlowFast Networks for Video Recognition" (ICCV), and the
layout of Facebook's PySlowFast (``slowfast/models/video_model_builder.py``, config
``SLOWFAST_8x8_R50``). A clip of T frames feeds two ResNet-3D pathways:

    clip (N, C, T, H, W)
      ├ slow pathway: T / α frames (pathway_frames), C_s = width channels in the stem;
      │   temporal kernel 1 in the stem, res2 and res3, 3 in res4 and res5 ("non-degenerate"
      │   temporal convolutions only late, where the receptive field is large)
      └ fast pathway: all T frames, β · C_s channels; temporal kernel 5 in the stem, 3 in every stage
    after the stem and after res2, res3, res4 a lateral connection maps fast → slow and the result is
    concatenated to the slow features on the channel axis:
      "t2c"     time-to-channel: the α frames of each slow step become channels (α·β·C channels)
      "sample"  time-strided sampling: every α-th fast frame (β·C channels)
      "conv"    time-strided convolution: k×1×1 kernel, stride α in time, 2·β·C channels,
                then BN and ReLU (the paper's ablation uses k = 5; PySlowFast's R50 8×8 uses k = 7)
    global average pool of each pathway → concatenate → dropout → Linear → logits (N, num_classes)

The ResNet-3D stages use bottleneck blocks (1×1 with the temporal kernel kt×1×1 → 1×3×3 with
the spatial stride → 1×1×1 with 4× the channels, each conv without bias, followed by BN, ReLU but
the last, plus a projection shortcut where the sizes change). Time is never strided inside the
pathways: the slow pathway keeps T/α steps and the fast pathway T steps up to the head.

PySlowFast's R50 8×8 config (α = 4, β = 1/8, 32 input frames, fusion kernel 7, fusion channel ratio
2) built here has 34,566,488 parameters at 400 classes; PyTorchVideo's model zoo lists 34.57 M and
65.71 GFLOPs (multiply-accumulates, fvcore's convention; the paper's Table 2: 65.7) for one 8×256²
slow / 32×256² fast view, and 32.45 M / 54.52 GFLOPs for the Slow-only R50 8×8, which
:func:`slow_only` also matches. See ``tests/nn/test_slowfast.py``.

Teaching functions (graded in the lesson):

    pathway_frames(clip, alpha)           → (slow, fast): PySlowFast's pack_pathway_output ("PackPathway")
    time_to_channel(fast, alpha)          the "t2c" lateral, as a reshape
    time_strided_sample(fast, alpha)      the "sample" lateral, as an index
    time_strided_conv(fast, weight, alpha) the "conv" lateral's convolution
"""
from __future__ import annotations

import dataclasses
import numbers
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LATERALS", "pathway_frames", "time_to_channel", "time_strided_sample", "time_strided_conv",
           "lateral_channels", "Lateral", "Bottleneck", "SlowFastConfig", "SlowFast", "slowfast", "slowfast_r50",
           "slow_only", "fast_only"]

#: The lateral connections of the paper's ablation (Table 5a): time-to-channel, time-strided sampling,
#: time-strided convolution.
LATERALS: tuple[str, ...] = ("t2c", "sample", "conv")


def _check_clip(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 5:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a (N, C, T, H, W) tensor, got {shape}")


def _check_alpha(alpha: int) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Integral) or alpha < 1:
        raise ValueError(f"alpha (the frame-rate ratio) must be an integer >= 1, got {alpha!r}")


# --- the teaching functions ------------------------------------------------------------------------
def pathway_frames(clip: torch.Tensor, alpha: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a clip into the slow and fast pathways' inputs, as PySlowFast's ``pack_pathway_output``.

    The fast pathway gets every frame. The slow pathway gets T // α frames spread over the whole
    clip, first and last frame included: indices ``torch.linspace(0, T - 1, T // alpha).long()``
    (the floor of evenly spaced positions). They are *not* exactly every α-th frame: for T = 32,
    α = 4 they are 0, 4, 8, 13, 17, 22, 26, 31.

    Args:
        clip: (N, C, T, H, W), any dtype.
        alpha: α, the frame-rate ratio, an integer with 1 <= α <= T.

    Returns:
        slow: (N, C, T // α, H, W), the selected frames (a copy).
        fast: (N, C, T, H, W), the clip itself.

    Raises:
        ValueError: the clip is not 5-D, or α is not an integer in 1..T.
    """
    # 1. validate
    _check_clip(clip, "clip")
    _check_alpha(alpha)
    T = clip.shape[2]
    if alpha > T:
        raise ValueError(f"alpha={alpha} leaves no slow frame in a clip of T={T} frames; use alpha <= T")
    # 2. T // α evenly spaced positions from the first to the last frame, rounded down
    index = torch.linspace(0, T - 1, T // alpha).long().to(clip.device)  # (T // α,)
    # 3. select them on the time axis
    return clip.index_select(2, index), clip


def time_to_channel(fast: torch.Tensor, alpha: int) -> torch.Tensor:
    """The time-to-channel lateral: pack each group of α consecutive fast frames into channels.

    Feichtenhofer et al. 2019, sec. 3.4: "{αT, S², βC} → {T, S², αβC}". Output channel
    ``c · α + k`` at step t is input channel c at frame ``t · α + k`` (channel-major: the α frames
    of one channel sit next to each other).

    Args:
        fast: (N, C, T, H, W) fast-pathway features; T must be a multiple of α.
        alpha: α >= 1.

    Returns:
        (N, C · α, T // α, H, W).

    Raises:
        ValueError: not 5-D, α not an integer >= 1, or T not a multiple of α.
    """
    # 1. validate
    _check_clip(fast, "fast")
    _check_alpha(alpha)
    N, C, T, H, W = fast.shape
    if T % alpha:
        raise ValueError(f"T={T} fast frames do not split into groups of alpha={alpha}; use T a multiple of alpha")
    # 2. split time into (T // α, α) and move the α axis next to the channels
    x = fast.reshape(N, C, T // alpha, alpha, H, W).permute(0, 1, 3, 2, 4, 5)  # (N, C, α, T/α, H, W)
    # 3. merge channels and the α frames: channel c·α + k
    return x.reshape(N, C * alpha, T // alpha, H, W)


def time_strided_sample(fast: torch.Tensor, alpha: int) -> torch.Tensor:
    """The time-strided sampling lateral: every α-th fast frame, starting with frame 0.

    Args:
        fast: (N, C, T, H, W); T must be a multiple of α (so the result has T / α steps, the slow length).
        alpha: α >= 1.

    Returns:
        (N, C, T // α, H, W): frames 0, α, 2α, ...

    Raises:
        ValueError: not 5-D, α not an integer >= 1, or T not a multiple of α.
    """
    _check_clip(fast, "fast")
    _check_alpha(alpha)
    if fast.shape[2] % alpha:
        raise ValueError(f"T={fast.shape[2]} is not a multiple of alpha={alpha}; the slow pathway has T / alpha steps")
    return fast[:, :, ::alpha]


def time_strided_conv(fast: torch.Tensor, weight: torch.Tensor, alpha: int) -> torch.Tensor:
    """The time-strided convolution lateral (its convolution; the module adds BN and ReLU).

    A k×1×1 convolution with stride α in time and 1 in space, padded by k // 2 in time only, so that
    output step t is centred on fast frame t · α. With k = 5 and 2βC filters it is the paper's
    default lateral connection.

    Args:
        fast: (N, C, T, H, W); T must be a multiple of α.
        weight: (C_out, C, k, 1, 1) with an odd k; no bias.
        alpha: α >= 1.

    Returns:
        (N, C_out, T // α, H, W).

    Raises:
        ValueError: bad ranks, channels, an even or non-temporal kernel, or T not a multiple of α.
    """
    # 1. validate
    _check_clip(fast, "fast")
    _check_alpha(alpha)
    N, C, T, H, W = fast.shape
    if weight.dim() != 5 or weight.shape[1] != C or weight.shape[3:] != (1, 1) or weight.shape[2] % 2 == 0:
        raise ValueError(f"weight must be (C_out, {C}, k, 1, 1) with an odd k, got {tuple(weight.shape)}")
    if T % alpha:
        raise ValueError(f"T={T} is not a multiple of alpha={alpha}; the slow pathway has T / alpha steps")
    # 2. stride α in time only, padding k // 2 in time only
    k = weight.shape[2]
    return F.conv3d(fast, weight, stride=(alpha, 1, 1), padding=(k // 2, 0, 0))


def lateral_channels(kind: str, fast_channels: int, alpha: int, fusion_ratio: int = 2) -> int:
    """Channels a lateral connection adds to the slow pathway.

    Args:
        kind: "t2c" (α · C_f), "sample" (C_f) or "conv" (fusion_ratio · C_f; 2βC in the paper).
        fast_channels: C_f = β · C, the fast pathway's channels at that point.
        alpha: α.
        fusion_ratio: output channels of the "conv" lateral per fast channel.

    Raises:
        ValueError: an unknown kind.
    """
    if kind not in LATERALS:
        raise ValueError(f"lateral must be one of {LATERALS}, got {kind!r}")
    return {"t2c": alpha * fast_channels, "sample": fast_channels, "conv": fusion_ratio * fast_channels}[kind]


# --- modules ---------------------------------------------------------------------------------------
class Lateral(nn.Module):
    """One fast → slow lateral connection (its output is concatenated to the slow features).

        fast (N, C_f, αT, H, W) → t2c | sample | conv k×1×1 stride α → BN → ReLU → (N, C_lat, T, H, W)

    Args:
        kind: one of :data:`LATERALS`.
        fast_channels: C_f.
        alpha: α.
        fusion_ratio: "conv" output channels per fast channel (2 in the paper).
        fusion_kernel: temporal kernel k of "conv" (5 in the paper's ablation, 7 in PySlowFast's R50 8×8).
    """

    def __init__(self, kind: str, fast_channels: int, alpha: int, *, fusion_ratio: int = 2,
                 fusion_kernel: int = 5) -> None:
        super().__init__()
        self.kind, self.alpha = kind, alpha
        self.out_channels = lateral_channels(kind, fast_channels, alpha, fusion_ratio)
        if kind == "conv":
            self.conv = nn.Conv3d(fast_channels, self.out_channels, (fusion_kernel, 1, 1), stride=(alpha, 1, 1),
                                  padding=(fusion_kernel // 2, 0, 0), bias=False)
            self.bn = nn.BatchNorm3d(self.out_channels)

    def forward(self, fast: torch.Tensor) -> torch.Tensor:
        """(N, C_f, T_f, H, W) → (N, out_channels, T_f / α, H, W)."""
        if self.kind == "t2c":
            return time_to_channel(fast, self.alpha)
        if self.kind == "sample":
            return time_strided_sample(fast, self.alpha)
        return F.relu(self.bn(self.conv(fast)))


class Bottleneck(nn.Module):
    """ResNet-3D bottleneck block of SlowFast (PySlowFast's ``bottleneck_transform``, stride on the 3×3).

        x (N, C_in, T, H, W)
        ├ a: Conv kt×1×1 (pad kt // 2) → BN → ReLU            (C_inner)
        │ b: Conv 1×3×3, stride (1, s, s) → BN → ReLU          (C_inner)
        │ c: Conv 1×1×1 → BN                                    (C_out)
        └ shortcut: Conv 1×1×1 stride (1, s, s) → BN where C_in != C_out or s > 1, else identity
        (+) → ReLU → (N, C_out, T, H / s, W / s)
    """

    def __init__(self, in_channels: int, inner_channels: int, out_channels: int, temporal_kernel: int,
                 spatial_stride: int = 1) -> None:
        super().__init__()
        kt, s = temporal_kernel, spatial_stride
        self.a = nn.Conv3d(in_channels, inner_channels, (kt, 1, 1), padding=(kt // 2, 0, 0), bias=False)
        self.a_bn = nn.BatchNorm3d(inner_channels)
        self.b = nn.Conv3d(inner_channels, inner_channels, (1, 3, 3), stride=(1, s, s), padding=(0, 1, 1), bias=False)
        self.b_bn = nn.BatchNorm3d(inner_channels)
        self.c = nn.Conv3d(inner_channels, out_channels, 1, bias=False)
        self.c_bn = nn.BatchNorm3d(out_channels)
        self.shortcut = None
        if in_channels != out_channels or s != 1:
            self.shortcut = nn.Sequential(nn.Conv3d(in_channels, out_channels, 1, stride=(1, s, s), bias=False),
                                          nn.BatchNorm3d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, H, W) → (N, C_out, T, H / s, W / s)."""
        y = F.relu(self.a_bn(self.a(x)))
        y = F.relu(self.b_bn(self.b(y)))
        y = self.c_bn(self.c(y))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


@dataclasses.dataclass
class SlowFastConfig:
    """Everything that defines a SlowFast network (defaults: PySlowFast's SLOWFAST_8x8_R50)."""

    num_classes: int = 400  # Kinetics-400
    in_channels: int = 3  # RGB
    alpha: int = 4  # frame-rate ratio: the fast pathway sees α× the slow pathway's frames
    beta: float = 1 / 8  # channel ratio: fast channels = β × slow channels
    lateral: str = "conv"  # "t2c", "sample" or "conv" (see LATERALS)
    fusion_kernel: int = 7  # temporal kernel of the "conv" lateral (the paper's ablation: 5)
    fusion_ratio: int = 2  # "conv" lateral channels = fusion_ratio × fast channels (2βC)
    pathways: tuple[str, ...] = ("slow", "fast")  # ("slow",): Slow-only; ("fast",): Fast-only
    width: int = 64  # slow stem channels; stage i has width·2^i inner and 4·width·2^i output channels
    depths: tuple[int, ...] = (3, 4, 6, 3)  # bottleneck blocks in res2 … res5 (ResNet-50)
    slow_temporal_kernels: tuple[int, ...] = (1, 1, 1, 3, 3)  # stem, res2 … res5
    fast_temporal_kernels: tuple[int, ...] = (5, 3, 3, 3, 3)  # stem, res2 … res5
    stem_kernel: int = 7  # spatial size of the stem conv
    stem_stride: int = 2  # spatial stride of the stem conv
    stem_pool: bool = True  # 1×3×3 max pool, stride (1, 2, 2), after the stem
    spatial_strides: tuple[int, ...] = (1, 2, 2, 2)  # res2 … res5
    dropout: float = 0.5  # before the classifier


def _fast_channels(width: int, beta: float) -> int:
    channels = width * beta
    if beta <= 0 or abs(channels - round(channels)) > 1e-9 or round(channels) < 1:
        raise ValueError(f"beta={beta} times width={width} must be a whole number of fast channels >= 1")
    return int(round(channels))


def _stem(in_channels: int, out_channels: int, temporal_kernel: int, config: SlowFastConfig) -> nn.Sequential:
    k, s, kt = config.stem_kernel, config.stem_stride, temporal_kernel
    layers: list[nn.Module] = [
        nn.Conv3d(in_channels, out_channels, (kt, k, k), stride=(1, s, s), padding=(kt // 2, k // 2, k // 2),
                  bias=False),
        nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True)]
    if config.stem_pool:
        layers.append(nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)))
    return nn.Sequential(*layers)


def _stage(in_channels: int, inner: int, out: int, depth: int, temporal_kernel: int, stride: int) -> nn.Sequential:
    blocks = [Bottleneck(in_channels if i == 0 else out, inner, out, temporal_kernel, stride if i == 0 else 1)
              for i in range(depth)]
    return nn.Sequential(*blocks)


class SlowFast(nn.Module):
    """A SlowFast network, or one of its pathways alone (see the module docstring for the data flow).

    Input: a clip (N, C, T, H, W), packed into pathways by :func:`pathway_frames`, or a list
    ``[slow (N, C, T/α, H, W), fast (N, C, T, H, W)]`` (PySlowFast's input). T must be a multiple of
    α when both pathways are used. Output: (N, num_classes) logits.

    Args:
        config: a :class:`SlowFastConfig`.

    Raises:
        ValueError: unknown lateral or pathway, β·width not a whole number, or per-stage tuples of
            the wrong length.
    """

    def __init__(self, config: SlowFastConfig) -> None:
        super().__init__()
        c = self.config = config
        if not c.pathways or set(c.pathways) - {"slow", "fast"}:
            raise ValueError(f"pathways must be a non-empty subset of ('slow', 'fast'), got {c.pathways!r}")
        if c.lateral not in LATERALS:
            raise ValueError(f"lateral must be one of {LATERALS}, got {c.lateral!r}")
        _check_alpha(c.alpha)
        stages = len(c.depths)
        if not (len(c.spatial_strides) == stages and len(c.slow_temporal_kernels) == len(c.fast_temporal_kernels)
                == stages + 1):
            raise ValueError("depths and spatial_strides need one entry per stage, the temporal kernels one more "
                             "(the stem)")
        self.use_slow, self.use_fast = "slow" in c.pathways, "fast" in c.pathways
        fused = self.use_slow and self.use_fast
        slow_ch, fast_ch = c.width, (_fast_channels(c.width, c.beta) if self.use_fast else 0)
        if self.use_slow:
            self.slow_stem = _stem(c.in_channels, slow_ch, c.slow_temporal_kernels[0], c)
            self.slow_stages = nn.ModuleList()
        if self.use_fast:
            self.fast_stem = _stem(c.in_channels, fast_ch, c.fast_temporal_kernels[0], c)
            self.fast_stages = nn.ModuleList()
        self.laterals = nn.ModuleList()
        fast_width = fast_ch
        for i, (depth, stride) in enumerate(zip(c.depths, c.spatial_strides)):
            if fused:  # a lateral after the stem and after every stage but the last
                lateral = Lateral(c.lateral, fast_ch, c.alpha, fusion_ratio=c.fusion_ratio,
                                  fusion_kernel=c.fusion_kernel)
                self.laterals.append(lateral)
            extra = self.laterals[-1].out_channels if fused else 0
            if self.use_slow:
                inner = c.width * 2 ** i
                self.slow_stages.append(_stage(slow_ch + extra, inner, 4 * inner, depth,
                                               c.slow_temporal_kernels[i + 1], stride))
                slow_ch = 4 * inner
            if self.use_fast:
                inner = fast_width * 2 ** i
                self.fast_stages.append(_stage(fast_ch, inner, 4 * inner, depth, c.fast_temporal_kernels[i + 1],
                                               stride))
                fast_ch = 4 * inner
        self.num_features = (slow_ch if self.use_slow else 0) + (fast_ch if self.use_fast else 0)
        self.dropout = nn.Dropout(c.dropout)
        self.fc = nn.Linear(self.num_features, c.num_classes)

    def features(self, clip: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        """Pooled features (N, num_features): slow features first, then fast."""
        if isinstance(clip, torch.Tensor):
            slow, fast = pathway_frames(clip, self.config.alpha) if self.use_slow else (None, clip)
        else:
            slow, fast = clip
        if self.use_slow:
            slow = self.slow_stem(slow)
        if self.use_fast:
            fast = self.fast_stem(fast)
        for i in range(len(self.config.depths)):
            if self.laterals:
                slow = torch.cat([slow, self.laterals[i](fast)], dim=1)  # (N, C_s + C_lat, T/α, H, W)
            if self.use_slow:
                slow = self.slow_stages[i](slow)
            if self.use_fast:
                fast = self.fast_stages[i](fast)
        pooled = [x.mean(dim=(2, 3, 4)) for x in (slow if self.use_slow else None, fast if self.use_fast else None)
                  if x is not None]
        return torch.cat(pooled, dim=1)  # (N, num_features)

    def forward(self, clip: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        """Clip (N, C, T, H, W) or [slow, fast] → logits (N, num_classes)."""
        return self.fc(self.dropout(self.features(clip)))


def slowfast(*,
             # output
             num_classes: int,
             # the two pathways and how they meet
             alpha: int = 4,
             beta: float = 1 / 8,
             lateral: str = "conv",
             fusion_kernel: int = 5,
             pathways: Sequence[str] = ("slow", "fast"),
             # size
             width: int = 64,
             depths: Sequence[int] = (3, 4, 6, 3),
             **kwargs: object) -> SlowFast:
    """A SlowFast network from keyword arguments (the other fields of :class:`SlowFastConfig` by name).

    Defaults are the paper's R50 with its ablation's lateral (time-strided conv, kernel 5).

    Returns:
        A :class:`SlowFast`.
    """
    config = SlowFastConfig(num_classes=num_classes, alpha=alpha, beta=beta, lateral=lateral,
                            fusion_kernel=fusion_kernel, pathways=tuple(pathways), width=width, depths=tuple(depths),
                            **kwargs)  # type: ignore[arg-type]
    return SlowFast(config)


def slowfast_r50(*, num_classes: int = 400) -> SlowFast:
    """PySlowFast's SLOWFAST_8x8_R50: α = 4, β = 1/8, fusion kernel 7 (34,566,488 parameters at 400 classes).

    Input: 32 frames (the slow pathway takes 8 of them), e.g. 32×224² for training, 32×256² for testing.
    """
    return SlowFast(SlowFastConfig(num_classes=num_classes))


def slow_only(*, num_classes: int, alpha: int = 4, width: int = 64, depths: Sequence[int] = (3, 4, 6, 3),
              **kwargs: object) -> SlowFast:
    """The slow pathway alone (the paper's "Slow-only"): T / α frames, no lateral connections."""
    return slowfast(num_classes=num_classes, alpha=alpha, pathways=("slow",), width=width, depths=depths, **kwargs)


def fast_only(*, num_classes: int, beta: float = 1 / 8, width: int = 64, depths: Sequence[int] = (3, 4, 6, 3),
              **kwargs: object) -> SlowFast:
    """The fast pathway alone (the paper's "Fast-only"): every frame, β · width stem channels."""
    return slowfast(num_classes=num_classes, beta=beta, pathways=("fast",), width=width, depths=depths, **kwargs)

