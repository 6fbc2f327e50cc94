"""Graded exercises of lesson 08_video_transformers: attention, heads, tubelets, divided space–time attention, cost."""
from __future__ import annotations

import math

import numpy as np
import torch

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "08_video_transformers"

_ex = exercise_maker(ASSIGNMENT)

# torch's own attention, through any entry point (F.scaled_dot_product_attention, nn.MultiheadAttention):
# its fused kernels, and the softmax that only its math fallback uses (taken when the kernels do not fit,
# e.g. d_v != d); a plain torch.softmax runs aten._softmax and is allowed
SDPA_OPS = ("aten._safe_softmax", "aten._scaled_dot_product_flash_attention_for_cpu",
            "aten._scaled_dot_product_attention_math",
            "aten._scaled_dot_product_flash_attention", "aten._scaled_dot_product_efficient_attention",
            "aten._scaled_dot_product_cudnn_attention", "aten._native_multi_head_attention")


def _randn(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    """A float64 tensor of normal numbers drawn from ``rng`` (exact comparisons, no float32 noise)."""
    return torch.from_numpy(rng.standard_normal(shape) * scale)


def _mha_weights(rng: np.random.Generator, D: int, bias: bool = True) -> tuple:
    """(in_weight, in_bias, out_weight, out_bias) of a D-feature self-attention, scaled like torch's init."""
    return (_randn(rng, 3 * D, D, scale=1 / math.sqrt(D)), _randn(rng, 3 * D) if bias else None,
            _randn(rng, D, D, scale=1 / math.sqrt(D)), _randn(rng, D) if bias else None)


def _attn(q, k, v, scale=None, dim=-1):  # noqa: ANN001, ANN202 - plain attention for the wrong answers
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    return torch.softmax(q @ k.transpose(-2, -1) * scale, dim=dim) @ v


def _mha(x, in_weight, in_bias, out_weight, out_bias, num_heads):  # noqa: ANN001, ANN202 - a correct MHA
    N, L, D = x.shape
    q, k, v = torch.nn.functional.linear(x, in_weight, in_bias).chunk(3, dim=-1)
    q, k, v = (z.reshape(N, L, num_heads, D // num_heads).transpose(1, 2) for z in (q, k, v))
    heads = _attn(q, k, v).transpose(1, 2).reshape(N, L, D)
    return torch.nn.functional.linear(heads, out_weight, out_bias)


# --- attention ------------------------------------------------------------------------------------------
def _attention_cases(rng: np.random.Generator) -> list[Case]:
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    allowed = torch.from_numpy(rng.random((5, 7)) < 0.6) | torch.eye(5, 7, dtype=torch.bool)  # >= 1 key per query
    cases = [Case((_randn(rng, 2, 3, 5, 4), _randn(rng, 2, 3, 7, 4), _randn(rng, 2, 3, 7, 6), allowed),
                  note="batch 2, 3 heads, 5 queries, 7 keys, d = 4, d_v = 6, a boolean mask (True: may look)"),
             Case((_randn(rng, 2, 3, 5, 4), _randn(rng, 2, 3, 7, 4), _randn(rng, 2, 3, 7, 6)),
                  note="the same sizes without a mask"),
             Case((_randn(rng, 4, 9), _randn(rng, 6, 9), _randn(rng, 6, 2)), note="no batch axes: 4 queries, 6 keys"),
             Case((_randn(rng, 1, 6, 5), _randn(rng, 1, 6, 5), _randn(rng, 1, 6, 3), causal),
                  note="a boolean causal mask: query i sees keys 0 … i"),
             Case((_randn(rng, 2, 3, 16), _randn(rng, 2, 5, 16), _randn(rng, 2, 5, 16), _randn(rng, 2, 3, 5)),
                  note="a float mask added to the scores")]
    b, lq, s, d = (int(v) for v in rng.integers(1, 8, size=4))
    cases.append(Case((_randn(rng, b, lq, d + 1), _randn(rng, b, s + 1, d + 1), _randn(rng, b, s + 1, d)),
                      note=f"random sizes: batch {b}, {lq} queries, {s + 1} keys, d = {d + 1}"))
    cases.append(Case((torch.zeros(4, 3), torch.zeros(5, 2), torch.zeros(5, 3)), raises=ValueError,
                      note="queries of width 3, keys of width 2"))
    cases.append(Case((torch.zeros(4, 3), torch.zeros(5, 3), torch.zeros(6, 3)), raises=ValueError,
                      note="5 keys but 6 values"))
    # the minimum legal sizes and bad input
    cases.append(Case((_randn(rng, 1, 1), _randn(rng, 1, 1), _randn(rng, 1, 1)),
                      note="one query, one key, d = d_v = 1 (the weight is 1: the output is the value)"))
    lq, d = (int(v) for v in rng.integers(1, 6, size=2))
    cases.append(Case((_randn(rng, 2, lq, d), _randn(rng, 2, 1, d), _randn(rng, 2, 1, 3)),
                      note=f"a single key (S = 1) for {lq} queries of d = {d}"))
    cases.append(Case((_randn(rng, 4), _randn(rng, 5, 4), _randn(rng, 5, 3)), raises=ValueError,
                      note="a 1-D query of shape (4,): q must be (..., L, d)"))
    cases.append(Case((_randn(rng, 3, 4).numpy(), _randn(rng, 5, 4), _randn(rng, 5, 3)), raises=TypeError,
                      note="q is a NumPy array, not a torch.Tensor"))
    return cases


def _masked_scores(q, k, mask, scale):  # noqa: ANN001, ANN202
    scores = q @ k.transpose(-2, -1) * scale
    if mask is None:
        return scores
    return scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask


def _attention_no_scale(q, k, v, mask=None):  # noqa: ANN001, ANN202
    return torch.softmax(_masked_scores(q, k, mask, 1.0), dim=-1) @ v


def _attention_scale_by_d(q, k, v, mask=None):  # noqa: ANN001, ANN202
    return torch.softmax(_masked_scores(q, k, mask, 1 / q.shape[-1]), dim=-1) @ v


def _attention_softmax_over_queries(q, k, v, mask=None):  # noqa: ANN001, ANN202
    return torch.softmax(_masked_scores(q, k, mask, 1 / math.sqrt(q.shape[-1])), dim=-2) @ v


def _attention_accepts_1d(q, k, v, mask=None):  # noqa: ANN001, ANN202 - no check of the number of axes
    if not all(isinstance(z, torch.Tensor) for z in (q, k, v)):
        raise TypeError("q, k, v must be tensors")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError("mismatched shapes")
    return torch.softmax(_masked_scores(q, k, mask, 1 / math.sqrt(q.shape[-1])), dim=-1) @ v


def _attention_mask_inverted(q, k, v, mask=None):  # noqa: ANN001, ANN202
    if mask is not None and mask.dtype == torch.bool:
        mask = ~mask
    return torch.softmax(_masked_scores(q, k, mask, 1 / math.sqrt(q.shape[-1])), dim=-1) @ v


# --- multi_head_attention -------------------------------------------------------------------------------
def _mha_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 5, 12), *_mha_weights(rng, 12), 3), note="2 clips, 5 tokens, D = 12, 3 heads"),
             Case((_randn(rng, 1, 7, 8), *_mha_weights(rng, 8, bias=False), 4), note="no biases, 4 heads of 2"),
             Case((_randn(rng, 3, 4, 6), *_mha_weights(rng, 6), 1), note="one head")]
    n, l, h, d = (int(v) for v in rng.integers(1, 6, size=4))
    cases.append(Case((_randn(rng, n, l + 1, h * d), *_mha_weights(rng, h * d), h),
                      note=f"random sizes: N = {n}, L = {l + 1}, {h} heads of {d}"))
    cases.append(Case((_randn(rng, 1, 5, 12), *_mha_weights(rng, 12), 5), raises=ValueError,
                      note="5 heads do not divide D = 12"))
    cases.append(Case((_randn(rng, 5, 12), *_mha_weights(rng, 12), 3), raises=ValueError,
                      note="tokens without the batch axis"))
    # the minimum legal sizes and bad input
    cases.append(Case((_randn(rng, 1, 1, 1), *_mha_weights(rng, 1), 1), note="one token, D = 1, one head"))
    h = int(rng.integers(1, 4))
    cases.append(Case((_randn(rng, 2, 1, 2 * h), *_mha_weights(rng, 2 * h), h), note=f"L = 1 token, {h} heads of 2"))
    cases.append(Case((_randn(rng, 1, 5, 12), *_mha_weights(rng, 12), 0), raises=ValueError, note="0 heads"))
    cases.append(Case((_randn(rng, 1, 5, 12), *_mha_weights(rng, 12), 3.0), raises=ValueError,
                      note="num_heads = 3.0, a float"))
    cases.append(Case((_randn(rng, 1, 5, 12), *_mha_weights(rng, 8), 2), raises=ValueError,
                      note="weights made for D = 8, tokens of D = 12"))
    cases.append(Case((_randn(rng, 1, 5, 12).numpy(), *_mha_weights(rng, 12), 3), raises=TypeError,
                      note="x is a NumPy array, not a torch.Tensor"))
    return cases


def _mha_heads_reshape(x, in_weight, in_bias, out_weight, out_bias, num_heads):  # noqa: ANN001, ANN202
    N, L, D = x.shape
    q, k, v = torch.nn.functional.linear(x, in_weight, in_bias).chunk(3, dim=-1)
    q, k, v = (z.reshape(N, num_heads, L, D // num_heads) for z in (q, k, v))  # no transpose: tokens mixed up
    return torch.nn.functional.linear(_attn(q, k, v).reshape(N, L, D), out_weight, out_bias)


def _mha_heads_interleaved(x, in_weight, in_bias, out_weight, out_bias, num_heads):  # noqa: ANN001, ANN202
    N, L, D = x.shape
    q, k, v = torch.nn.functional.linear(x, in_weight, in_bias).chunk(3, dim=-1)
    q, k, v = (z.reshape(N, L, D // num_heads, num_heads).permute(0, 3, 1, 2) for z in (q, k, v))
    heads = _attn(q, k, v).permute(0, 2, 3, 1).reshape(N, L, D)
    return torch.nn.functional.linear(heads, out_weight, out_bias)


def _mha_scale_by_hidden(x, in_weight, in_bias, out_weight, out_bias, num_heads):  # noqa: ANN001, ANN202
    N, L, D = x.shape
    q, k, v = torch.nn.functional.linear(x, in_weight, in_bias).chunk(3, dim=-1)
    q, k, v = (z.reshape(N, L, num_heads, D // num_heads).transpose(1, 2) for z in (q, k, v))
    heads = _attn(q, k, v, scale=1 / math.sqrt(D)).transpose(1, 2).reshape(N, L, D)
    return torch.nn.functional.linear(heads, out_weight, out_bias)


def _mha_accepts_float_heads(x, in_weight, in_bias, out_weight, out_bias, num_heads):  # noqa: ANN001, ANN202
    if not isinstance(x, torch.Tensor):
        raise TypeError("x must be a tensor")
    num_heads = int(num_heads)  # silently turns 3.0 (or 3.7) into 3
    if x.dim() != 3 or num_heads < 1 or x.shape[-1] % num_heads or in_weight.shape != (3 * x.shape[-1], x.shape[-1]):
        raise ValueError("bad shapes")
    return _mha(x, in_weight, in_bias, out_weight, out_bias, num_heads)


def _mha_no_out_projection(x, in_weight, in_bias, out_weight, out_bias, num_heads):  # noqa: ANN001, ANN202
    N, L, D = x.shape
    q, k, v = torch.nn.functional.linear(x, in_weight, in_bias).chunk(3, dim=-1)
    q, k, v = (z.reshape(N, L, num_heads, D // num_heads).transpose(1, 2) for z in (q, k, v))
    return _attn(q, k, v).transpose(1, 2).reshape(N, L, D)


# --- tubelet_embedding -------------------------------------------------------------------------------------
def _tubelet_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 3, 4, 6, 9), _randn(rng, 5, 3, 2, 3, 3), _randn(rng, 5)),
                  note="RGB clip (2, 3, 4, 6, 9), tubelets 2×3×3, D = 5"),
             Case((_randn(rng, 1, 2, 6, 8, 4), _randn(rng, 4, 2, 3, 4, 2)), note="2 channels, tubelets 3×4×2, no bias"),
             Case((_randn(rng, 2, 1, 3, 4, 4), _randn(rng, 3, 1, 1, 2, 2), _randn(rng, 3)),
                  note="t = 1: ViT patches on every frame")]
    t, p, c = int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
    T, H, W = t * int(rng.integers(1, 4)), p * int(rng.integers(1, 4)), p * int(rng.integers(1, 4))
    cases.append(Case((_randn(rng, 2, c, T, H, W), _randn(rng, 6, c, t, p, p), _randn(rng, 6)),
                      note=f"random: clip (2, {c}, {T}, {H}, {W}), tubelets {t}×{p}×{p}"))
    cases.append(Case((torch.zeros(1, 3, 5, 8, 8), torch.zeros(4, 3, 2, 4, 4)), raises=ValueError,
                      note="T = 5 is not divisible by t = 2"))
    cases.append(Case((torch.zeros(1, 2, 4, 8, 8), torch.zeros(4, 3, 2, 4, 4)), raises=ValueError,
                      note="a 2-channel clip, a weight for 3 channels"))
    # the minimum legal sizes and bad input
    cases.append(Case((_randn(rng, 2, 1, 1, 3, 2), _randn(rng, 4, 1, 1, 1, 1), _randn(rng, 4)),
                      note="T = 1 frame, 1×1×1 tubes: every pixel is a token"))
    T, H, W = (int(v) for v in rng.integers(1, 5, size=3))
    cases.append(Case((_randn(rng, 2, 2, T, H, W), _randn(rng, 3, 2, T, H, W)),
                      note=f"one tubelet as large as the clip ({T}×{H}×{W}): one token per clip"))
    cases.append(Case((_randn(rng, 1, 1, 2, 2, 2), _randn(rng, 1, 1, 1, 2, 2), _randn(rng, 1)), note="D = 1"))
    cases.append(Case((torch.zeros(3, 4, 8, 8), torch.zeros(4, 3, 2, 4, 4)), raises=ValueError,
                      note="a 4-D clip (no batch axis)"))
    cases.append(Case((torch.zeros(1, 3, 4, 8, 8), torch.zeros(4, 3, 4, 4)), raises=ValueError,
                      note="a 4-D (Conv2d) weight"))
    cases.append(Case((np.zeros((1, 3, 4, 8, 8), np.float32), torch.zeros(4, 3, 2, 4, 4)), raises=TypeError,
                      note="the clip is a NumPy array, not a torch.Tensor"))
    return cases


def _tubelet_channels_last(clip, weight, bias=None):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    D, _, t, ph, pw = weight.shape
    x = clip.reshape(N, C, T // t, t, H // ph, ph, W // pw, pw).permute(0, 2, 4, 6, 3, 5, 7, 1)
    return torch.nn.functional.linear(x.reshape(N, -1, C * t * ph * pw), weight.reshape(D, -1), bias)


def _tubelet_patch_major(clip, weight, bias=None):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    D, _, t, ph, pw = weight.shape
    x = clip.reshape(N, C, T // t, t, H // ph, ph, W // pw, pw).permute(0, 4, 6, 2, 1, 3, 5, 7)
    return torch.nn.functional.linear(x.reshape(N, -1, C * t * ph * pw), weight.reshape(D, -1), bias)


def _tubelet_strided(clip, weight, bias=None):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    D, _, t, ph, pw = weight.shape
    x = clip.reshape(N, C, t, T // t, ph, H // ph, pw, W // pw).permute(0, 3, 5, 7, 1, 2, 4, 6)
    return torch.nn.functional.linear(x.reshape(N, -1, C * t * ph * pw), weight.reshape(D, -1), bias)


def _tubelet_drops_remainder(clip, weight, bias=None):  # noqa: ANN001, ANN202 - crops instead of refusing
    N, C, T, H, W = clip.shape
    D, _, t, ph, pw = weight.shape
    clip = clip[:, :, :T // t * t, :H // ph * ph, :W // pw * pw]
    return _tubelet_no_bias(clip, weight) + (0 if bias is None else bias)


def _tubelet_no_bias(clip, weight, bias=None):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    D, _, t, ph, pw = weight.shape
    x = clip.reshape(N, C, T // t, t, H // ph, ph, W // pw, pw).permute(0, 2, 4, 6, 1, 3, 5, 7)
    return torch.nn.functional.linear(x.reshape(N, -1, C * t * ph * pw), weight.reshape(D, -1))


# --- divided_space_time_attention ----------------------------------------------------------------------------
def _divided_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 1 + 3 * 4, 8), 3, _mha_weights(rng, 8), _mha_weights(rng, 8), 2),
                  note="2 clips, T = 3 frames of P = 4 patches, D = 8, 2 heads"),
             Case((_randn(rng, 1, 1 + 4 * 2, 6), 4, _mha_weights(rng, 6), _mha_weights(rng, 6), 3),
                  note="T = 4, P = 2, 3 heads"),
             Case((_randn(rng, 2, 1 + 2 * 5, 4), 2, _mha_weights(rng, 4, bias=False), _mha_weights(rng, 4), 1),
                  note="T = 2, P = 5, one head, no biases in time")]
    T, P, h = int(rng.integers(2, 5)), int(rng.integers(2, 6)), int(rng.integers(1, 3))
    cases.append(Case((_randn(rng, 2, 1 + T * P, 4 * h), T, _mha_weights(rng, 4 * h), _mha_weights(rng, 4 * h), h),
                      note=f"random: T = {T}, P = {P}, {h} heads"))
    cases.append(Case((_randn(rng, 2, 12, 4), 4, _mha_weights(rng, 4), _mha_weights(rng, 4), 2), raises=ValueError,
                      note="L − 1 = 11 tokens cannot be 4 frames"))
    # the minimum legal sizes and bad input
    P = int(rng.integers(1, 5))
    cases.append(Case((_randn(rng, 2, 1 + P, 4), 1, _mha_weights(rng, 4), _mha_weights(rng, 4), 2),
                      note=f"T = 1 frame of P = {P} patches (time attention over one token)"))
    T = int(rng.integers(1, 5))
    cases.append(Case((_randn(rng, 1, 1 + T, 2), T, _mha_weights(rng, 2), _mha_weights(rng, 2), 1),
                      note=f"P = 1 patch per frame, T = {T}, D = 2, one head"))
    cases.append(Case((_randn(rng, 1, 1 + 1, 1), 1, _mha_weights(rng, 1), _mha_weights(rng, 1), 1),
                      note="T = 1, P = 1, D = 1: the smallest clip"))
    cases.append(Case((_randn(rng, 2, 1, 4), 1, _mha_weights(rng, 4), _mha_weights(rng, 4), 2), raises=ValueError,
                      note="only the CLS token: no patches (L = 1)"))
    cases.append(Case((_randn(rng, 2, 7, 4), 0, _mha_weights(rng, 4), _mha_weights(rng, 4), 2), raises=ValueError,
                      note="num_frames = 0"))
    cases.append(Case((_randn(rng, 2, 7, 4), 3.0, _mha_weights(rng, 4), _mha_weights(rng, 4), 2), raises=ValueError,
                      note="num_frames = 3.0, a float"))
    cases.append(Case((_randn(rng, 7, 4), 3, _mha_weights(rng, 4), _mha_weights(rng, 4), 2), raises=ValueError,
                      note="tokens without the batch axis (L, D)"))
    return cases


def _split(x, num_frames):  # noqa: ANN001, ANN202
    N, L, D = x.shape
    return x[:, :1], x[:, 1:].reshape(N, num_frames, (L - 1) // num_frames, D)  # (N, 1, D), (N, T, P, D)


def _time(patches, weights, num_heads):  # noqa: ANN001, ANN202 - patches (N, T, P, D) -> after time attention
    N, T, P, D = patches.shape
    xt = patches.transpose(1, 2).reshape(N * P, T, D)
    xt = xt + _mha(xt, *weights, num_heads)
    return xt.reshape(N, P, T, D).transpose(1, 2)


def _space(cls, patches, weights, num_heads):  # noqa: ANN001, ANN202 - per-frame CLS outputs (N, T, D), patches
    N, T, P, D = patches.shape
    xs = torch.cat([cls.expand(N, T, D).reshape(N * T, 1, D), patches.reshape(N * T, P, D)], dim=1)
    ys = _mha(xs, *weights, num_heads)
    return ys[:, 0].reshape(N, T, D), patches + ys[:, 1:].reshape(N, T, P, D)


def _join(cls, patches):  # noqa: ANN001, ANN202
    N, T, P, D = patches.shape
    return torch.cat([cls, patches.reshape(N, T * P, D)], dim=1)


def _divided_swapped(x, num_frames, time_weights, space_weights, num_heads):  # noqa: ANN001, ANN202
    cls, patches = _split(x, num_frames)
    cls_out, patches = _space(cls, patches, space_weights, num_heads)
    return _join(cls + cls_out.mean(1, keepdim=True), _time(patches, time_weights, num_heads))


def _divided_cls_unchanged(x, num_frames, time_weights, space_weights, num_heads):  # noqa: ANN001, ANN202
    cls, patches = _split(x, num_frames)
    _, patches = _space(cls, _time(patches, time_weights, num_heads), space_weights, num_heads)
    return _join(cls, patches)


def _divided_cls_first_frame(x, num_frames, time_weights, space_weights, num_heads):  # noqa: ANN001, ANN202
    cls, patches = _split(x, num_frames)
    cls_out, patches = _space(cls, _time(patches, time_weights, num_heads), space_weights, num_heads)
    return _join(cls + cls_out[:, :1], patches)


def _divided_patch_major(x, num_frames, time_weights, space_weights, num_heads):  # noqa: ANN001, ANN202
    N, L, D = x.shape
    P = (L - 1) // num_frames
    cls, patches = x[:, :1], x[:, 1:].reshape(N, P, num_frames, D).transpose(1, 2)  # read as (p, t)
    cls_out, patches = _space(cls, _time(patches, time_weights, num_heads), space_weights, num_heads)
    return torch.cat([cls + cls_out.mean(1, keepdim=True), patches.transpose(1, 2).reshape(N, P * num_frames, D)],
                     dim=1)


def _divided_accepts_no_patches(x, num_frames, time_weights, space_weights, num_heads):  # noqa: ANN001, ANN202
    # checks only that L − 1 splits into T frames, so L = 1 (P = 0 patches) passes
    if x.dim() != 3 or not isinstance(num_frames, int) or num_frames < 1 or (x.shape[1] - 1) % num_frames:
        raise ValueError("bad token count")
    cls, patches = _split(x, num_frames)
    cls_out, patches = _space(cls, _time(patches, time_weights, num_heads), space_weights, num_heads)
    return _join(cls + cls_out.mean(1, keepdim=True), patches)


# --- attention_score_count ----------------------------------------------------------------------------------------
def _count_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((8, 196, "divided_space_time"), note="TimeSformer-Base: 8 frames of 14×14 patches, divided"),
             Case((8, 196, "joint_space_time"), note="the same clip, joint"),
             Case((8, 196, "space_only"), note="the same clip, space only"),
             Case((3, 5, "divided_space_time"), note="T = 3, P = 5, divided"),
             Case((1, 4, "joint_space_time"), note="one frame, joint")]
    for kind in ("joint_space_time", "divided_space_time"):
        T, P = (int(v) for v in rng.integers(2, 40, size=2))
        cases.append(Case((T, P, kind), note=f"T = {T}, P = {P}, {kind}"))
    cases.append(Case((8, 16, "divided"), raises=ValueError, note="an unknown attention type"))
    cases.append(Case((0, 16, "joint_space_time"), raises=ValueError, note="T = 0"))
    # the minimum legal sizes and bad input
    cases.append(Case((1, 1, "divided_space_time"), note="T = 1, P = 1, divided: 1 + 4 scores"))
    cases.append(Case((1, 1, "space_only"), note="T = 1, P = 1, space only"))
    cases.append(Case((int(rng.integers(1, 40)), 1, "joint_space_time"), note="P = 1 patch per frame, joint"))
    cases.append(Case((1, int(rng.integers(1, 200)), "divided_space_time"), note="T = 1 frame, divided"))
    cases.append(Case((4, 0, "space_only"), raises=ValueError, note="P = 0"))
    cases.append(Case((8.0, 16, "joint_space_time"), raises=ValueError, note="T = 8.0, a float"))
    cases.append(Case((True, 16, "joint_space_time"), raises=ValueError, note="T = True, a bool"))
    return cases


def _count_no_cls(num_frames, num_patches, attention_type):  # noqa: ANN001, ANN202
    T, P = num_frames, num_patches
    return {"joint_space_time": (T * P) ** 2, "divided_space_time": P * T ** 2 + T * P ** 2,
            "space_only": T * P ** 2}[attention_type]


def _count_one_sequence(num_frames, num_patches, attention_type):  # noqa: ANN001, ANN202
    T, P = num_frames, num_patches
    return {"joint_space_time": (1 + T * P) ** 2, "divided_space_time": T ** 2 + (1 + P) ** 2,
            "space_only": (1 + P) ** 2}[attention_type]


def _count_accepts_floats(num_frames, num_patches, attention_type):  # noqa: ANN001, ANN202 - checks only >= 1
    if num_frames < 1 or num_patches < 1 or attention_type not in ("joint_space_time", "divided_space_time",
                                                                    "space_only"):
        raise ValueError("sizes must be >= 1 and the type known")
    T, P = num_frames, num_patches
    return {"joint_space_time": (1 + T * P) ** 2, "divided_space_time": P * T ** 2 + T * (1 + P) ** 2,
            "space_only": T * (1 + P) ** 2}[attention_type]


def _count_cls_in_time(num_frames, num_patches, attention_type):  # noqa: ANN001, ANN202
    T, P = num_frames, num_patches
    return {"joint_space_time": (1 + T * P) ** 2, "divided_space_time": P * (1 + T) ** 2 + T * (1 + P) ** 2,
            "space_only": T * (1 + P) ** 2}[attention_type]


EXERCISES = [
    _ex("attention", "course.nn.attention", _attention_cases, [
        Misconception("accepts_1d", "a 1-D query was accepted: q, k and v must each have at least 2 axes "
                      "(..., L, d); raise a ValueError otherwise", _attention_accepts_1d),
        Misconception("no_scale", "the scores were not divided by √d: softmax(Q·Kᵀ / √d), where d is the width of "
                      "a query", _attention_no_scale),
        Misconception("scale_by_d", "the scores were divided by d; the scale is 1/√d (it keeps the variance of a "
                      "dot product of d unit-variance numbers at 1)", _attention_scale_by_d),
        Misconception("softmax_over_queries", "the softmax ran over the queries (dim −2); each query's weights "
                      "over the keys must sum to 1: softmax over the last axis", _attention_softmax_over_queries),
        Misconception("mask_inverted", "the boolean mask was read backwards: True means the query *may* look at "
                      "that key (torch's convention); fill the False places with −inf", _attention_mask_inverted),
    ], forbidden_ops=SDPA_OPS, timeout=10.0),  # the operator recorder's first use imports torch._dynamo
    _ex("multi_head_attention", "course.nn.attention", _mha_cases, [
        Misconception("accepts_float_heads", "num_heads = 3.0 was accepted; the number of heads must be an int "
                      "(isinstance(num_heads, int)), raise a ValueError otherwise", _mha_accepts_float_heads),
        Misconception("heads_reshape", "the heads were split with a reshape to (N, h, L, D/h), which mixes "
                      "tokens; reshape to (N, L, h, D/h) and then transpose to (N, h, L, D/h)", _mha_heads_reshape),
        Misconception("heads_interleaved", "head j must own the contiguous features j·D/h … (j + 1)·D/h − 1 "
                      "(reshape (N, L, h, D/h)), not every h-th feature", _mha_heads_interleaved),
        Misconception("scale_by_hidden", "the scores were scaled by 1/√D; each head's queries are D/h wide, so "
                      "the scale is 1/√(D/h)", _mha_scale_by_hidden),
        Misconception("no_out_projection", "the concatenated heads were returned without the output projection "
                      "(out_weight, out_bias)", _mha_no_out_projection),
    ], forbidden_ops=SDPA_OPS, timeout=10.0),
    _ex("tubelet_embedding", "course.nn.attention", _tubelet_cases, [
        Misconception("drops_remainder", "sizes not divisible by the tubelet were cropped silently; raise a "
                      "ValueError instead (the caller decides whether to crop or pad)", _tubelet_drops_remainder),
        Misconception("channels_last", "each tube was flattened as (t, p, p, C); the weight (D, C, t, p, p) "
                      "flattens as (C, t, p, p), so the tube must too", _tubelet_channels_last),
        Misconception("patch_major", "the tokens are patch-major (h', w', t'); the course's one token order "
                      "(also course.nn.TimeSformer's and ViViT's) is frame-major: all tubes of time step 0, row by "
                      "row, then time step 1", _tubelet_patch_major),
        Misconception("strided", "each axis was split as (tube size, number of tubes): a tube then takes every "
                      "T'-th frame instead of t neighbouring frames; split T as (T / t, t)", _tubelet_strided),
        Misconception("no_bias", "the bias was not added (one per output feature)", _tubelet_no_bias),
    ], forbidden_ops=("aten.convolution",), timeout=10.0),
    _ex("divided_space_time_attention", "course.nn.attention", _divided_cases, [
        Misconception("accepts_no_patches", "a clip with only the CLS token (L = 1, no patches) was accepted; "
                      "L − 1 must be a positive multiple of num_frames", _divided_accepts_no_patches),
        Misconception("swapped", "space attention ran before time attention; TimeSformer attends over time first, "
                      "then over space", _divided_swapped),
        Misconception("cls_unchanged", "the CLS token came out unchanged: it joins every frame's space attention "
                      "and adds the mean of its T outputs", _divided_cls_unchanged),
        Misconception("cls_first_frame", "the CLS token kept only one frame's output; it gets one output per frame "
                      "and adds their mean", _divided_cls_first_frame),
        Misconception("patch_major", "the tokens were read patch-major (Hugging Face's order); the course's one "
                      "order (also course.nn.TimeSformer's) is frame-major: token 1 + t·P + i is patch i of frame t",
                      _divided_patch_major),
    ], forbidden_ops=SDPA_OPS, timeout=10.0),
    _ex("attention_score_count", "course.nn.attention", _count_cases, [
        Misconception("accepts_floats", "a float (or bool) size was accepted; num_frames and num_patches must be "
                      "ints >= 1 (and not bool)", _count_accepts_floats),
        Misconception("no_cls", "the CLS token was left out: it is one more token in the joint sequence and in "
                      "every frame's space sequence (1 + P), though not in the time sequences", _count_no_cls),
        Misconception("one_sequence", "count every sequence: divided attention has P time sequences (one per patch "
                      "position) and T space sequences (one per frame)", _count_one_sequence),
        Misconception("cls_in_time", "the CLS token takes no part in the time attention: the P time sequences "
                      "have T tokens each, not T + 1", _count_cls_in_time),
    ]),
]
