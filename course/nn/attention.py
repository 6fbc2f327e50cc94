"""Attention from scratch, and the two ways a video transformer spends it: joint and divided.

Lesson 08_video_transformers.

    attention                      softmax(Q·Kᵀ / √d) · V, the scaled dot-product attention of
                                   Vaswani et al. 2017 (eq. 1), with an optional mask
    multi_head_attention           self-attention with h heads, from given projection weights (the
                                   weights of ``torch.nn.MultiheadAttention``)
    tubelet_embedding              ViViT's tubelet embedding (Arnab et al. 2021, Sec. 3.2): cut a clip
                                   into t×p×p tubes, flatten each, project it (a Conv3d with kernel = stride)
    patch_embedding                ViT's patch embedding applied to every frame (Dosovitskiy et al. 2021):
                                   the tubelet embedding with t = 1
    joint_space_time_attention     one self-attention over all 1 + T·P tokens (TimeSformer "joint")
    divided_space_time_attention   time attention, then space attention (TimeSformer "divided",
                                   Bertasius et al. 2021, Sec. 3 and Fig. 1), with its CLS-token rule
    attention_score_count          how many query–key scores one head computes per clip

**The token layout** (the one order of the whole course: every function here,
:class:`course.nn.timesformer.TimeSformer` and :class:`course.nn.vivit.ViViT`): tokens are
(N, L, D) — N clips, L tokens, D features. A clip of T frames with P patches per frame has
L = 1 + T·P tokens: the CLS token first, then the patch tokens **frame-major**: all P patches of
frame 0 (row by row), then all P patches of frame 1, and so on, so token 1 + t·P + i is patch i of
frame t. ``tokens[:, 1:].reshape(N, T, P, D)`` recovers (clip, frame, patch, feature). (The
original TimeSformer code and Hugging Face's port store the patches patch-major, token 1 + i·T + t;
the order changes no weight, only which reshapes undo it: ``TimeSformer.from_hf`` loads their
weights unchanged and ``course.nn.timesformer.tokens_from_hf`` reorders their output tokens.)

Weights follow ``torch.nn.MultiheadAttention``: ``in_weight`` (3D, D) stacks the query, key and value
projections (rows 0..D-1, D..2D-1, 2D..3D-1), ``in_bias`` (3D,), ``out_weight`` (D, D), ``out_bias``
(D,); head j owns features j·D/h … (j + 1)·D/h − 1 of each projection.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "attention",
    "multi_head_attention",
    "tubelet_embedding",
    "patch_embedding",
    "joint_space_time_attention",
    "divided_space_time_attention",
    "attention_score_count",
]

ATTENTION_TYPES = ("joint_space_time", "divided_space_time", "space_only")  # TimeSformer's names


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              mask: torch.Tensor | None = None) -> torch.Tensor:
    """Scaled dot-product attention: softmax(Q·Kᵀ / √d) · V (Vaswani et al. 2017, eq. 1).

    Each of the L queries scores the S keys by a dot product divided by √d (so the scores keep a
    variance near 1 whatever d is), turns its scores into weights with a softmax **over the keys**
    (each query's weights sum to 1), and returns the weighted mean of the values. The same as
    ``torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)``.

    Args:
        q: queries (..., L, d); leading axes (batch, heads) are broadcast.
        k: keys (..., S, d).
        v: values (..., S, d_v).
        mask: optional, broadcastable to (..., L, S). Boolean: True where a query may look at a key
            (SDPA's convention); float: added to the scores (−inf forbids a pair).

    Returns:
        (..., L, d_v), the dtype of ``q``.

    Raises:
        TypeError: q, k or v is not a torch.Tensor.
        ValueError: inputs with fewer than 2 axes, queries and keys of different widths d, or keys
            and values of different lengths S.
    """
    # 1. validate: tensors, matrices with matching widths and lengths
    if not all(isinstance(z, torch.Tensor) for z in (q, k, v)):
        raise TypeError(f"q, k, v must be torch.Tensors, got {type(q).__name__}, {type(k).__name__}, {type(v).__name__}")
    if q.dim() < 2 or k.dim() < 2 or v.dim() < 2:
        raise ValueError(f"q, k, v need shapes (..., L, d); got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q (..., L, d) and k (..., S, d) need the same d, k and v the same S; got "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    # 2. scores: every query against every key, scaled by 1/√d
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., L, S)
    # 3. mask: forbid pairs (bool False) or add a bias (float)
    if mask is not None and mask.dtype == torch.bool:
        scores = scores.masked_fill(~mask, float("-inf"))
    elif mask is not None:
        scores = scores + mask
    # 4. weights: a softmax over the keys, so each query's row sums to 1
    weights = torch.softmax(scores, dim=-1)  # (..., L, S)
    # 5. the weighted mean of the values
    return weights @ v  # (..., L, d_v)


def multi_head_attention(x: torch.Tensor, in_weight: torch.Tensor, in_bias: torch.Tensor | None,
                         out_weight: torch.Tensor, out_bias: torch.Tensor | None, num_heads: int) -> torch.Tensor:
    """Multi-head self-attention of tokens, from given weights (Vaswani et al. 2017, Sec. 3.2.2).

    Project the tokens to queries, keys and values; split the D features into ``num_heads`` heads of
    D / h features each; run :func:`attention` in every head separately; concatenate the heads and
    project back. Equal to ``torch.nn.MultiheadAttention(D, num_heads, batch_first=True)`` with
    ``in_proj_weight = in_weight``, ``in_proj_bias = in_bias``, ``out_proj.weight = out_weight``,
    ``out_proj.bias = out_bias``, called as ``mha(x, x, x)[0]``.

    Args:
        x: tokens (N, L, D).
        in_weight: (3D, D), the query, key and value projections stacked in that order.
        in_bias: (3D,) or None.
        out_weight: (D, D), the output projection.
        out_bias: (D,) or None.
        num_heads: h >= 1, must divide D.

    Returns:
        (N, L, D), the dtype of ``x``.

    Raises:
        TypeError: x is not a torch.Tensor.
        ValueError: x not (N, L, D), h not an int dividing D, or weights of the wrong shapes.
    """
    # 1. validate: tokens (N, L, D), h divides D, weights of the module's shapes
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of tokens (N, L, D), got {type(x).__name__}")
    if x.dim() != 3:
        raise ValueError(f"x must be tokens (N, L, D), got shape {tuple(x.shape)}")
    N, L, D = x.shape
    if not isinstance(num_heads, int) or num_heads < 1 or D % num_heads:
        raise ValueError(f"num_heads must be an int >= 1 that divides D = {D}, got {num_heads!r}")
    if tuple(in_weight.shape) != (3 * D, D) or tuple(out_weight.shape) != (D, D):
        raise ValueError(f"in_weight must be (3D, D) = {(3 * D, D)} and out_weight (D, D) = {(D, D)}, got "
                         f"{tuple(in_weight.shape)} and {tuple(out_weight.shape)}")
    # 2. project: queries, keys and values, each (N, L, D)
    q, k, v = F.linear(x, in_weight, in_bias).chunk(3, dim=-1)
    # 3. split the features into heads: (N, L, D) -> (N, L, h, D/h) -> (N, h, L, D/h)
    q, k, v = (z.reshape(N, L, num_heads, D // num_heads).transpose(1, 2) for z in (q, k, v))
    # 4. attention in every head at once
    heads = attention(q, k, v)  # (N, h, L, D/h)
    # 5. concatenate the heads (N, L, D) and project back
    return F.linear(heads.transpose(1, 2).reshape(N, L, D), out_weight, out_bias)


def tubelet_embedding(clip: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """ViViT's tubelet embedding: cut a clip into t×p×p tubes and project each to D features.

    Arnab et al. 2021, Sec. 3.2 ("tubelet embedding"): non-overlapping spatio-temporal tubes, each
    flattened and multiplied by one matrix — a ``torch.nn.Conv3d`` whose kernel equals its stride,
    written as a reshape and a matrix product. The tokens come out frame-major (the module
    docstring's layout, without a CLS token): ``F.conv3d(clip, weight, bias, stride=weight.shape[2:])
    .flatten(2).transpose(1, 2)``.

    Args:
        clip: (N, C, T, H, W), the Conv3d layout.
        weight: (D, C, t, p_h, p_w); the tubelet size (t, p_h, p_w) is read from it.
        bias: (D,) or None.

    Returns:
        Tokens (N, T'·H'·W', D) with T' = T / t, H' = H / p_h, W' = W / p_w; token
        (t'·H' + h')·W' + w' is the tube at (t', h', w').

    Raises:
        TypeError: clip or weight is not a torch.Tensor.
        ValueError: a clip or weight that is not 5-D, channels that differ from the weight's, or T, H, W
            not divisible by the tubelet size (crop or pad the clip first).
    """
    # 1. validate: tensors (N, C, T, H, W), matching channels, sizes divisible by the tubelet size
    if not isinstance(clip, torch.Tensor) or not isinstance(weight, torch.Tensor):
        raise TypeError(f"clip and weight must be torch.Tensors, got {type(clip).__name__} and {type(weight).__name__}")
    if clip.dim() != 5 or weight.dim() != 5:
        raise ValueError(f"clip must be (N, C, T, H, W) and weight (D, C, t, p, p); got {tuple(clip.shape)} "
                         f"and {tuple(weight.shape)}")
    N, C, T, H, W = clip.shape
    D, C_w, t, ph, pw = weight.shape
    if C != C_w or T % t or H % ph or W % pw:
        raise ValueError(f"clip {tuple(clip.shape)} must have the weight's {C_w} channels and T, H, W divisible "
                         f"by the tubelet size {(t, ph, pw)}; crop or pad the clip first")
    # 2. cut each axis into (number of tubes, size of a tube)
    x = clip.reshape(N, C, T // t, t, H // ph, ph, W // pw, pw)
    # 3. tubes frame-major, each flattened in the weight's order (C, t, p_h, p_w)
    x = x.permute(0, 2, 4, 6, 1, 3, 5, 7).reshape(N, (T // t) * (H // ph) * (W // pw), C * t * ph * pw)
    # 4. one matrix product projects every tube to D features
    return F.linear(x, weight.reshape(D, C * t * ph * pw), bias)  # (N, T'·H'·W', D)


def patch_embedding(clip: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """ViT's patch embedding on every frame: p×p patches of each frame projected to D features.

    Dosovitskiy et al. 2021, eq. 1, applied frame by frame as TimeSformer does (Bertasius et al. 2021,
    Sec. 3): a ``Conv2d`` with kernel = stride on each frame, i.e. the tubelet embedding with t = 1.

    Args:
        clip: (N, C, T, H, W).
        weight: (D, C, p_h, p_w), the weight of that Conv2d.
        bias: (D,) or None.

    Returns:
        Tokens (N, T·P, D), frame-major, P = (H / p_h)·(W / p_w) patches per frame.

    Raises:
        ValueError: a weight that is not 4-D, or what :func:`tubelet_embedding` rejects.
    """
    if weight.dim() != 4:
        raise ValueError(f"weight must be a Conv2d weight (D, C, p, p), got shape {tuple(weight.shape)}")
    return tubelet_embedding(clip, weight.unsqueeze(2), bias)


def joint_space_time_attention(x: torch.Tensor, weights: Sequence[torch.Tensor | None],
                               num_heads: int) -> torch.Tensor:
    """Joint space–time attention with its residual: x + MHA(x) over all 1 + T·P tokens.

    Every token attends to every other token of the clip, in every frame (TimeSformer's "joint
    space-time", Bertasius et al. 2021, Fig. 1; ViViT model 1, Arnab et al. 2021): one attention
    over L = 1 + T·P tokens, (T·P + 1)² scores per head.

    Args:
        x: tokens (N, 1 + T·P, D) (any L works: the frames are not needed).
        weights: (in_weight, in_bias, out_weight, out_bias) of :func:`multi_head_attention`.
        num_heads: heads, must divide D.

    Returns:
        (N, L, D).

    Raises:
        ValueError: what :func:`multi_head_attention` rejects.
    """
    return x + multi_head_attention(x, *weights, num_heads)


def divided_space_time_attention(x: torch.Tensor, num_frames: int, time_weights: Sequence[torch.Tensor | None],
                                 space_weights: Sequence[torch.Tensor | None], num_heads: int) -> torch.Tensor:
    """Divided space–time attention: time attention, then space attention, each with a residual.

    TimeSformer's block (Bertasius et al. 2021, Sec. 3, Fig. 1 "Divided Space-Time", and their code):
    (a) **time**: each patch position attends over its T tokens (one per frame) — the CLS token takes
    no part; (b) **space**: each frame's P patch tokens attend over each other and over a copy of
    the CLS token; the CLS token thus gets T outputs, one per frame, and keeps their **mean**.
    The layer norms, the time attention's extra linear layer and the MLP of the full block are left
    out (they live in ``course.nn.timesformer``).

    Args:
        x: tokens (N, 1 + T·P, D), CLS first, then frame-major patches (module docstring).
        num_frames: T >= 1.
        time_weights: (in_weight, in_bias, out_weight, out_bias) of the time attention.
        space_weights: the same for the space attention.
        num_heads: heads of both attentions, must divide D.

    Returns:
        (N, 1 + T·P, D), the same layout.

    Raises:
        ValueError: x not (N, L, D), or L − 1 not a positive multiple of num_frames.
    """
    # 1. validate: L = 1 + T·P
    if x.dim() != 3 or not isinstance(num_frames, int) or num_frames < 1 or x.shape[1] < 1 + num_frames \
            or (x.shape[1] - 1) % num_frames:
        raise ValueError(f"x must be tokens (N, 1 + T·P, D) with T = num_frames = {num_frames!r}, got "
                         f"shape {tuple(x.shape)}")
    N, L, D = x.shape
    T, P = num_frames, (L - 1) // num_frames
    cls, patches = x[:, :1], x[:, 1:]  # (N, 1, D), (N, T·P, D)
    # 2. time: each patch position's T tokens form one sequence (N·P sequences), CLS left out
    xt = patches.reshape(N, T, P, D).transpose(1, 2).reshape(N * P, T, D)
    xt = xt + multi_head_attention(xt, *time_weights, num_heads)  # (N·P, T, D)
    xt = xt.reshape(N, P, T, D).transpose(1, 2).reshape(N * T, P, D)  # frame by frame: (N·T, P, D)
    # 3. space: each frame's P tokens plus a copy of CLS form one sequence (N·T sequences)
    xs = torch.cat([cls.expand(N, T, D).reshape(N * T, 1, D), xt], dim=1)  # (N·T, 1 + P, D)
    ys = multi_head_attention(xs, *space_weights, num_heads)  # (N·T, 1 + P, D)
    # 4. residuals: CLS adds the mean of its T outputs; the patches add their own
    cls = cls + ys[:, 0].reshape(N, T, D).mean(dim=1, keepdim=True)  # (N, 1, D)
    patches = (xt + ys[:, 1:]).reshape(N, T * P, D)
    return torch.cat([cls, patches], dim=1)


def attention_score_count(num_frames: int, num_patches: int, attention_type: str) -> int:
    """Query–key scores one attention head computes for one clip of T frames with P patches each.

    The score matrices are what grows quadratically: the FLOPs of Q·Kᵀ and of weights·V are
    2·d per score each, and the weights are held in memory as one number per score.

        joint_space_time     one sequence of 1 + T·P tokens:                   (1 + T·P)²
        divided_space_time   P time sequences of T tokens (no CLS), then
                             T space sequences of 1 + P tokens (CLS + frame):  P·T² + T·(1 + P)²
        space_only           T space sequences of 1 + P tokens, no time:      T·(1 + P)²

    Joint attention grows as T², divided attention almost linearly in T while P² dominates
    (Bertasius et al. 2021, Sec. 3, count the comparisons per patch the same way).

    Args:
        num_frames: T >= 1.
        num_patches: P >= 1 patches per frame.
        attention_type: one of "joint_space_time", "divided_space_time", "space_only".

    Returns:
        The count, a Python int (per head and per clip).

    Raises:
        ValueError: sizes that are not ints >= 1, or an unknown attention type.
    """
    # 1. validate
    for name, value in [("num_frames", num_frames), ("num_patches", num_patches)]:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    # 2. sequences × (length of one sequence)², summed over the attentions of the block
    T, P = num_frames, num_patches
    if attention_type == "joint_space_time":
        return (1 + T * P) ** 2
    if attention_type == "divided_space_time":
        return P * T ** 2 + T * (1 + P) ** 2
    if attention_type == "space_only":
        return T * (1 + P) ** 2
    raise ValueError(f"attention_type must be 'joint_space_time', 'divided_space_time' or 'space_only', "
                     f"got {attention_type!r}")
