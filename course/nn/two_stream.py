"""Two-stream networks: an appearance (RGB) stream, a motion stream on stacked optical flow, late fusion.

Lesson 06_two_stream.

Simonyan & Zisserman 2014 ("Two-Stream Convolutional Networks for Action Recognition in Videos")
split a video into two inputs that two separate CNNs classify:

    spatial (RGB) stream   one frame: what is in the scene                     SingleFrame (fusion.py)
    temporal (flow) stream L optical flow fields between consecutive frames,  FlowStream
                           stacked on the channel axis: 2L channels
                           u₁, v₁, u₂, v₂, …, u_L, v_L  (their eq. 1)
    late fusion            the class scores (softmax) of the two streams,      TwoStream
                           averaged, or combined by a learned layer (the paper
                           trains a linear SVM on the scores)

Flow follows the course convention (``course.video.flow``): (N, 2, L, H, W) in the Conv3d layout,
channel 0 = u (along width), 1 = v (along height), pixels, frame_{t+1}(x + u, y + v) ≈ frame_t(x, y).

``course.train.fit`` feeds a model one tensor per batch, so :class:`TwoStream` reads clip and
flows packed together by :func:`pack_two_stream`: (N, C + 2, T, H, W), the C clip channels first,
then u and v, whose last time step (there are only T − 1 flows) is zero padding.

    stack_flows(flows)                          (N, 2, L, H, W) → (N, 2L, H, W), u/v interleaved [exercise]
    fuse_scores(rgb_logits, flow_logits, w)     weighted mean of the softmax scores              [exercise]
    pack_two_stream(clip, flows)                one input tensor for TwoStream
    FlowStream, TwoStream                       the models (sized for Moving Digits, 32×32, T = 8)
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from course.nn.fusion import frame_cnn

__all__ = ["stack_flows", "fuse_scores", "pack_two_stream", "FlowStream", "TwoStream"]


# --- the exercises --------------------------------------------------------------------------------
def stack_flows(flows: torch.Tensor) -> torch.Tensor:
    """Stack L flow fields on the channel axis in the order of Simonyan & Zisserman 2014 (eq. 1).

    Channel 2k is u of pair k and channel 2k + 1 is v of pair k: u₁, v₁, u₂, v₂, … A plain
    ``reshape`` of the Conv3d layout would instead give u₁ … u_L, v₁ … v_L (grouped by component,
    like ``early_fusion_stack``); here the pairs stay together.

    Args:
        flows: (N, 2, L, H, W) float flows, the Conv3d layout (channel 0 = u, 1 = v), pixels.

    Returns:
        (N, 2L, H, W), same dtype: ``out[:, 2k + c] == flows[:, c, k]``.

    Raises:
        ValueError: ``flows`` is not 5-D with 2 channels.
    """
    # 1. validate
    if flows.dim() != 5 or flows.shape[1] != 2:
        raise ValueError(f"flows must be (N, 2, L, H, W) with channels (u, v), got {tuple(flows.shape)}")
    N, _, L, H, W = flows.shape
    # 2. put the pair axis before the component axis, then merge them: index k·2 + c
    return flows.permute(0, 2, 1, 3, 4).reshape(N, 2 * L, H, W)  # (N, L, 2, H, W) → (N, 2L, H, W)


def fuse_scores(rgb_logits: torch.Tensor, flow_logits: torch.Tensor, flow_weight: float = 0.5) -> torch.Tensor:
    """Late fusion by averaging the class scores (softmax probabilities) of the two streams.

    scores = (1 − w)·softmax(rgb_logits) + w·softmax(flow_logits), with w = ``flow_weight``
    (Simonyan & Zisserman 2014, Sec. 6: "fusion by averaging"). Probabilities, not logits, are
    averaged: a stream's logits can be on any scale, its probabilities are comparable.

    Args:
        rgb_logits: (N, K) float logits of the spatial stream.
        flow_logits: (N, K) float logits of the flow stream, same shape.
        flow_weight: w in [0, 1], the weight of the flow stream.

    Returns:
        (N, K) probabilities (each row sums to 1), same dtype.

    Raises:
        ValueError: the logits are not (N, K) of one shape, or ``flow_weight`` is outside [0, 1].
    """
    # 1. validate
    if rgb_logits.dim() != 2 or rgb_logits.shape != flow_logits.shape:
        raise ValueError(f"rgb_logits and flow_logits must both be (N, K), got {tuple(rgb_logits.shape)} and "
                         f"{tuple(flow_logits.shape)}")
    if not 0 <= flow_weight <= 1:
        raise ValueError(f"flow_weight must be in [0, 1], got {flow_weight}")
    # 2. each stream's class probabilities
    rgb_scores = torch.softmax(rgb_logits, dim=1)  # (N, K)
    flow_scores = torch.softmax(flow_logits, dim=1)  # (N, K)
    # 3. their weighted mean
    return (1 - flow_weight) * rgb_scores + flow_weight * flow_scores


# --- models ---------------------------------------------------------------------------------------
def pack_two_stream(clip: torch.Tensor, flows: torch.Tensor) -> torch.Tensor:
    """Pack clips and their flows into one tensor for :class:`TwoStream` (and ``course.train.fit``).

    Args:
        clip: (N, C, T, H, W) float clips.
        flows: (N, 2, T − 1, H, W) float flows between consecutive frames (``clip_flows``).

    Returns:
        (N, C + 2, T, H, W) float32: channels 0..C−1 the clip, then u and v; flow time step T − 1
        is zero (padding).

    Raises:
        ValueError: the shapes do not fit together.
    """
    if clip.dim() != 5 or flows.shape != (clip.shape[0], 2, clip.shape[2] - 1, *clip.shape[3:]):
        raise ValueError(f"expected clip (N, C, T, H, W) and flows (N, 2, T - 1, H, W), got {tuple(clip.shape)} "
                         f"and {tuple(flows.shape)}")
    padded = torch.cat([flows, flows.new_zeros(flows.shape[0], 2, 1, *flows.shape[3:])], dim=2)  # (N, 2, T, H, W)
    return torch.cat([clip.float(), padded.float()], dim=1)


class FlowStream(nn.Module):
    """The temporal stream: a 2D CNN on L stacked flow fields.

        flows (N, 2, L, H, W)
          ↓ stack_flows                                      (N, 2L, H, W): u₁, v₁, …, u_L, v_L
          ↓ frame_cnn(in_channels = 2L) → global average pool (N, F)
          ↓ Linear                                           (N, num_classes)

    The first convolution sees all L displacement fields at once, so it can follow a motion over
    time (Simonyan & Zisserman 2014, Sec. 3.1). ~10 k parameters with the defaults and L = 7.

    Args:
        num_classes: classes of the output.
        num_pairs: L, the number of flow fields of an input.
        widths: widths of :func:`course.nn.fusion.frame_cnn` (circular padding, stride 2).
    """

    def __init__(self, num_classes: int, *,
                 # input
                 num_pairs: int,
                 # architecture
                 widths: Sequence[int] = (16, 24, 32)) -> None:
        super().__init__()
        self.num_pairs = num_pairs
        self.features = frame_cnn(in_channels=2 * num_pairs, widths=widths)
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, flows: torch.Tensor) -> torch.Tensor:
        if flows.dim() != 5 or flows.shape[1:3] != (2, self.num_pairs):
            raise ValueError(f"flows must be (N, 2, {self.num_pairs}, H, W), got {tuple(flows.shape)}")
        x = self.features(stack_flows(flows))  # (N, F, h, w)
        return self.classifier(x.mean(dim=(2, 3)))  # (N, num_classes)


class TwoStream(nn.Module):
    """Late fusion of a spatial (RGB) stream and a flow stream.

        packed (N, C + 2, T, H, W)           (pack_two_stream)
          ├─ channels :C           → rgb stream   → logits (N, K)
          └─ channels C:, t < T−1  → flow stream  → logits (N, K)
          ↓ "average": log of fuse_scores(rgb, flow, flow_weight)                  (N, K)
            "learned": Linear(2K → K) on the two streams' log-softmax scores      (N, K)

    The output is a log-probability (average) or a logit (learned), so ``argmax`` and
    cross-entropy work on both. With ``fusion="learned"`` the streams are frozen by default
    (``freeze_streams``): their weights get no gradient and they stay in eval mode (BatchNorm
    keeps its running statistics) even when the model is put in training mode, so
    ``course.train.fit`` trains only the fusion layer, on top of streams trained separately, as
    Simonyan & Zisserman 2014 train their SVM on the scores of trained streams.

    Args:
        rgb: maps clips (N, C, T, H, W) to logits (N, K), e.g. ``SingleFrame``.
        flow: maps flows (N, 2, T − 1, H, W) to logits (N, K), e.g. :class:`FlowStream`.
        num_classes: K.
        rgb_channels: C, the channels of the clip part of the input.
        fusion: "average" or "learned".
        flow_weight: w of :func:`fuse_scores` ("average" only).
        freeze_streams: freeze the two streams (default: True for "learned", False for "average").
    """

    def __init__(self, rgb: nn.Module, flow: nn.Module, num_classes: int, *,
                 # input
                 rgb_channels: int = 1,
                 # fusion
                 fusion: str = "average", flow_weight: float = 0.5, freeze_streams: bool | None = None) -> None:
        super().__init__()
        if fusion not in ("average", "learned"):
            raise ValueError(f"fusion must be 'average' or 'learned', got {fusion!r}")
        self.rgb, self.flow = rgb, flow
        self.rgb_channels, self.fusion, self.flow_weight = rgb_channels, fusion, flow_weight
        self.freeze_streams = (fusion == "learned") if freeze_streams is None else freeze_streams
        self.combine = nn.Linear(2 * num_classes, num_classes) if fusion == "learned" else None
        if self.freeze_streams:
            for p in [*rgb.parameters(), *flow.parameters()]:
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> TwoStream:
        super().train(mode)
        if self.freeze_streams:  # frozen streams always run as in evaluation
            self.rgb.eval()
            self.flow.eval()
        return self

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        C = self.rgb_channels
        if packed.dim() != 5 or packed.shape[1] != C + 2:
            raise ValueError(f"expected (N, {C} + 2, T, H, W) from pack_two_stream, got {tuple(packed.shape)}")
        rgb_logits = self.rgb(packed[:, :C])  # (N, K)
        flow_logits = self.flow(packed[:, C:, :-1])  # (N, K): the T − 1 real flows
        if self.fusion == "average":
            return torch.log(fuse_scores(rgb_logits, flow_logits, self.flow_weight).clamp_min(1e-12))
        scores = torch.cat([torch.log_softmax(rgb_logits, 1), torch.log_softmax(flow_logits, 1)], dim=1)
        return self.combine(scores)  # (N, K)
