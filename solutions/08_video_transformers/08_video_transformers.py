# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 08 — Video transformers: attention, tubelets, joint and divided space–time attention
#
# A transformer reads a sequence of tokens and lets every token look at every other one through
# **attention** (Vaswani et al. 2017, *Attention Is All You Need*). ViT (Dosovitskiy et al. 2021,
# *An Image Is Worth 16x16 Words*) made an image a sequence by cutting it into 16×16 patches. A
# clip of T frames then becomes T times as many tokens, and attention compares every pair of them:
# the cost grows with the **square** of the number of tokens. Two papers from 2021 answer this:
#
# * **TimeSformer** (Bertasius et al. 2021, *Is Space-Time Attention All You Need for Video
#   Understanding?*): patches of each frame as tokens, and **divided space–time attention** — first
#   each patch attends over the same position in the other frames (time), then over the patches of
#   its own frame (space).
# * **ViViT** (Arnab et al. 2021, *ViViT: A Video Vision Transformer*): **tubelet embedding** —
#   a token is a t×p×p tube of the clip, so one token already spans several frames — and a
#   factorised encoder (a spatial transformer per time step, then a temporal one).
#
# The claim this lesson shows with numbers: **divided attention's cost grows far slower in T than
# joint attention's**: P·T² + T·P² scores against (T·P)², for T frames of P patches.
#
# **Learning objectives.** After this lesson you can
#
# 1. write scaled dot-product attention and multi-head attention from scratch, and say why the
#    scores are divided by √d and over which axis the softmax runs;
# 2. turn a clip (N, C, T, H, W) into tokens (N, L, D) with per-frame patches and with ViViT's
#    tubelets, and show that both are convolutions whose kernel equals their stride;
# 3. write TimeSformer's divided space–time attention, including what happens to the CLS token;
# 4. count the attention scores of joint and divided attention, and measure FLOPs and peak memory
#    as the number of frames grows;
# 5. train a tiny TimeSformer and a tiny ViViT on Moving Digits and compare them with the small 3D
#    CNN of lesson 03.
#
# Data: Moving Digits (real 8×8 handwritten digits from scikit-learn moving on a 32×32
# wrap-around canvas, generated from a seed; lesson 03). Nothing is downloaded.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from autograder import check

# %% [markdown]
# ## 1. Attention
#
# ### Concept
#
# Attention takes L **queries** q_i, S **keys** k_j and S **values** v_j (rows of Q (L, d),
# K (S, d), V (S, d_v)). Query i scores every key by a dot product, turns its S scores into weights
# that are positive and sum to 1, and returns the weighted mean of the values:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V,
#   \qquad \text{softmax over the keys (the last axis of the } L \times S \text{ score matrix).}$$
#
# Why divide by √d? If the entries of q and k have variance 1, q·k is a sum of d products and has
# variance d. Without the scale the scores grow like √d, the softmax puts almost all its weight on
# one key, and its gradients vanish (Vaswani et al. 2017, Sec. 3.2.1). The experiment below
# measures it.
#
# A **mask** forbids some query–key pairs: a boolean mask is True where query i *may* look at key
# j (the convention of `torch.nn.functional.scaled_dot_product_attention`); those that may not get
# a score of −inf, hence a weight of 0. A float mask is added to the scores.
#
# ### Implement
#
# Write `attention` for any leading axes (batch, heads): use `@`, `.transpose(-2, -1)` and
# `torch.softmax`. Not allowed: torch's own `scaled_dot_product_attention` (the check detects it).
# Raise a `TypeError` when q, k or v is not a `torch.Tensor`, and a `ValueError` when one has
# fewer than 2 axes, q and k have different widths d, or k and v different lengths S. The check
# also tries the smallest legal sizes (one query, one key, d = 1). Mistakes it recognises: no 1/√d,
# 1/d instead of 1/√d, the softmax over the queries, a boolean mask read backwards, and a 1-D query
# accepted.

# %% nbgrader={"grade": false, "grade_id": "attention", "locked": false, "schema_version": 3, "solution": true}
def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              mask: torch.Tensor | None = None) -> torch.Tensor:
    """Scaled dot-product attention: softmax(Q·Kᵀ / √d) · V (Vaswani et al. 2017, eq. 1).

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
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_attention", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that attention computes softmax(Q·Kᵀ/√d)·V over the keys, honours masks, and rejects mismatched shapes."""
check(attention)

# %% [markdown]
# ### Use: the same numbers as torch's attention
#
# From here on we use the reference library `course` (the same functions as yours, tested), so a
# bug in an exercise does not spread. The reference gives the numbers of
# `torch.nn.functional.scaled_dot_product_attention` (SDPA), which runs a fused kernel.

# %%
from course.nn import attention as attn_lib

g = torch.Generator().manual_seed(0)
q, k, v = (torch.randn(2, 3, 5, 8, generator=g, dtype=torch.float64) for _ in range(3))
causal = torch.ones(5, 5, dtype=torch.bool).tril()  # query i may look at keys 0 … i
for name, mask in [("no mask", None), ("causal mask", causal)]:
    diff = (attn_lib.attention(q, k, v, mask) - F.scaled_dot_product_attention(q, k, v, attn_mask=mask)).abs().max()
    print(f"{name:<12} largest difference from torch's SDPA: {diff:.1e}")

# %%
q, k = torch.randn(6, 16, generator=g), torch.randn(9, 16, generator=g)
weights = {"no mask": torch.softmax(q @ k.T / 4, dim=-1),
           "a mask: query i sees keys 0 … i + 3": torch.softmax(
               (q @ k.T / 4).masked_fill(~torch.ones(6, 9, dtype=torch.bool).tril(3), float("-inf")), dim=-1)}
fig, axes = plt.subplots(1, 2, figsize=(9, 3), layout="constrained")
for ax, (title, w) in zip(axes, weights.items()):
    im = ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
    ax.set(xlabel="key j", ylabel="query i", title=title)
fig.colorbar(im, ax=axes, label="weight (each row sums to 1)")
plt.show()

# %% [markdown]
# ### Experiment: why 1/√d
#
# Random queries and keys with unit-variance entries; for growing d we measure the spread of the
# scores and how much weight the softmax gives to its largest entry (1/16 would be uniform over
# the 16 keys, 1 is all on one key).

# %%
print(f"{'d':>6}{'std of q·k':>12}{'std of q·k/√d':>15}{'max weight, raw':>17}{'max weight, /√d':>17}")
for d in (4, 16, 64, 256, 1024):
    q, k = torch.randn(512, d, generator=g), torch.randn(16, d, generator=g)
    raw = q @ k.T  # (512, 16)
    peak_raw = torch.softmax(raw, -1).max(-1).values.mean()  # the largest weight of a query, on average
    peak_scaled = torch.softmax(raw / math.sqrt(d), -1).max(-1).values.mean()
    print(f"{d:>6}{raw.std():>12.2f}{(raw / math.sqrt(d)).std():>15.2f}{peak_raw:>17.2f}{peak_scaled:>17.2f}")

# %% [markdown]
# Without the scale the scores' spread grows like √d and the softmax turns into an arg-max (the
# largest weight approaches 1); with it, the spread stays near 1 whatever d is.
#
# ## 2. Multi-head attention
#
# ### Concept
#
# A transformer layer does not attend once with D-wide vectors: it projects the tokens x (N, L, D)
# to queries, keys and values, splits the D features into h **heads** of D/h features, runs
# attention in every head independently, concatenates the heads and projects back:
#
#     q, k, v = x Wᵀ_in + b_in, split into 3            (N, L, D) each
#     q → (N, L, h, D/h) → transpose → (N, h, L, D/h)   head j owns features j·D/h … (j+1)·D/h − 1
#     heads = attention(q, k, v)                        (N, h, L, D/h)
#     out = heads → (N, L, D) → · Wᵀ_out + b_out        (N, L, D)
#
# The weights are those of `torch.nn.MultiheadAttention`: `in_weight` (3D, D) stacks the query, key
# and value projections; `out_weight` is (D, D). Each head has its own scale 1/√(D/h).
#
# ### Implement
#
# Write `multi_head_attention` using your `attention` (`F.linear(x, w, b)` computes x·wᵀ + b).
# Raise a `TypeError` when x is not a `torch.Tensor`, and a `ValueError` when x is not (N, L, D),
# h is not an int ≥ 1 that divides D, or the weights have the wrong shapes (one token, one head and
# D = 1 are legal). Mistakes the check recognises: splitting the heads with a reshape to
# (N, h, L, D/h) (which mixes tokens), giving head j every h-th feature, scaling by 1/√D,
# forgetting the output projection, and a float number of heads accepted.

# %% nbgrader={"grade": false, "grade_id": "multi_head_attention", "locked": false, "schema_version": 3, "solution": true}
def multi_head_attention(x: torch.Tensor, in_weight: torch.Tensor, in_bias: torch.Tensor | None,
                         out_weight: torch.Tensor, out_bias: torch.Tensor | None, num_heads: int) -> torch.Tensor:
    """Multi-head self-attention of tokens, from given weights (Vaswani et al. 2017, Sec. 3.2.2).

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
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_multi_head_attention", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that multi_head_attention splits D into contiguous heads, scales by 1/√(D/h) and projects back."""
check(multi_head_attention)

# %% [markdown]
# ### Use: the same numbers as `torch.nn.MultiheadAttention`

# %%
torch.manual_seed(0)
mha = torch.nn.MultiheadAttention(12, num_heads=3, batch_first=True, dtype=torch.float64)
x = torch.randn(2, 7, 12, dtype=torch.float64)
ours = attn_lib.multi_head_attention(x, mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight,
                                     mha.out_proj.bias, num_heads=3)
print("largest difference from torch.nn.MultiheadAttention:", f"{(ours - mha(x, x, x)[0]).abs().max():.1e}")
print("parameters of one attention with D = 12:", sum(p.numel() for p in mha.parameters()),
      "= 4·D² + 4·D (the heads split D, they add no weights)")

# %% [markdown]
# ## 3. From a clip to tokens: patches and tubelets
#
# ### Concept
#
# **The token layout of this course.** Tokens are (N, L, D). A clip of T frames with P patches per
# frame gives L = 1 + T·P tokens: a learned **CLS token** first (its final state is the clip's
# summary that the classifier reads), then the patch tokens **frame-major** — all P patches of
# frame 0 row by row, then those of frame 1, … — so token 1 + t·P + i is patch i of frame t, and
# `tokens[:, 1:].reshape(N, T, P, D)` gives (clip, frame, patch, feature). Every function of this
# lesson and the models of `course` (`TimeSformer`, `ViViT`) use this one order. The original
# TimeSformer code and Hugging Face's port store the patches **patch-major** instead (token
# 1 + i·T + t). The order changes no weight (space embeddings belong to a patch position, time
# embeddings to a frame), only the reshapes that undo it: `TimeSformer.from_hf` loads Hugging Face's
# weights unchanged and gives the same CLS token and logits, and
# `course.nn.timesformer.tokens_from_hf` puts their output tokens in our order.
#
# Two ways to make the tokens:
#
# * **per-frame patches** (ViT, TimeSformer): cut every frame into p×p patches; each patch,
#   flattened to C·p·p numbers, is multiplied by one matrix (D, C·p·p). That is a `Conv2d` with
#   kernel = stride = p, applied to each frame. A token sees one frame.
# * **tubelets** (ViViT): cut the clip into t×p×p tubes; each, flattened to C·t·p·p numbers, is
#   multiplied by one matrix. That is a `Conv3d` with kernel = stride = (t, p, p). A token sees t
#   frames, and T/t times fewer tokens come out.
#
# The figure shows both on a Moving Digits clip: the grid of 8×8 patches, and (colours) which
# frames share a tubelet when t = 2.

# %%
from course.data.moving_digits import DIRECTIONS, MovingDigits

clips = MovingDigits(8, label="direction", split="train", seed=0)
clip, label = clips[1]  # (1, T, H, W)
fig, axes = plt.subplots(1, 8, figsize=(12, 1.9), layout="constrained")
for t, ax in enumerate(axes):
    ax.imshow(clip[0, t], cmap="gray", vmin=0, vmax=1)
    for edge in range(0, 33, 8):
        ax.axhline(edge - 0.5, color="tab:orange", lw=0.8)
        ax.axvline(edge - 0.5, color="tab:orange", lw=0.8)
    for side in ax.spines.values():
        side.set(color=("tab:blue", "tab:green")[t // 2 % 2], linewidth=3)
    ax.set(xticks=[], yticks=[], title=f"frame {t}")
fig.suptitle(f"a clip moving {DIRECTIONS[int(label)]}: 4×4 patches of 8×8 px per frame (P = 16); "
             "tubelets 2×8×8 join frames of the same frame colour")
plt.show()

# %% [markdown]
# ### Implement
#
# Write `tubelet_embedding` with `reshape`, `permute` and one matrix product (no convolution: the
# check detects one). The tubelet size (t, p_h, p_w) comes from the weight (D, C, t, p_h, p_w).
# Cut each axis into (number of tubes, tube size), bring the tube indices forward (frame-major:
# t', then h', then w') and flatten each tube in the weight's own order (C, t, p_h, p_w). Raise a
# `TypeError` when the clip or the weight is not a `torch.Tensor`, and a `ValueError` when either
# is not 5-D, the channels differ, or T, H, W are not divisible by the tubelet size (T = 1, 1×1×1
# tubes and one tube as large as the clip are legal). Mistakes the check recognises: tubes
# flattened channels-last, tokens in patch-major order, axes split as (tube size, number of
# tubes), no bias, and sizes cropped silently instead of refused.

# %% nbgrader={"grade": false, "grade_id": "tubelet_embedding", "locked": false, "schema_version": 3, "solution": true}
def tubelet_embedding(clip: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """ViViT's tubelet embedding: cut a clip into t×p×p tubes and project each to D features.

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
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_tubelet_embedding", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that tubelet_embedding equals a Conv3d with kernel = stride, tokens frame-major, and rejects bad sizes."""
check(tubelet_embedding)

# %% [markdown]
# ### Use: tubelets are a Conv3d, patches a Conv2d on every frame
#
# `course.nn.attention.patch_embedding` is the tubelet embedding with t = 1. The table counts the
# tokens of the published configurations: joint attention over them compares every pair.

# %%
g = torch.Generator().manual_seed(1)
video = torch.randn(2, 3, 8, 32, 32, generator=g)
conv3d = torch.nn.Conv3d(3, 16, kernel_size=(2, 8, 8), stride=(2, 8, 8))
conv2d = torch.nn.Conv2d(3, 16, kernel_size=8, stride=8)
with torch.no_grad():
    by_conv3d = conv3d(video).flatten(2).transpose(1, 2)  # (N, T'·H'·W', D)
    by_conv2d = conv2d(video.transpose(1, 2).flatten(0, 1)).flatten(2).transpose(1, 2).reshape(2, -1, 16)
    tubes = attn_lib.tubelet_embedding(video, conv3d.weight, conv3d.bias)
    patches = attn_lib.patch_embedding(video, conv2d.weight, conv2d.bias)
print(f"tubelets {tuple(tubes.shape)}: largest difference from Conv3d {(tubes - by_conv3d).abs().max():.1e}")
print(f"patches  {tuple(patches.shape)}: largest difference from Conv2d per frame "
      f"{(patches - by_conv2d).abs().max():.1e}")

print(f"\n{'configuration':<44}{'patch tokens':>13}{'pairs (joint)':>16}")
for name, (T, H, t, p) in {"ViT-B/16, one 224×224 image": (1, 224, 1, 16),
                           "TimeSformer-B: 8 frames of 224², 16×16 patches": (8, 224, 1, 16),
                           "TimeSformer-L: 96 frames of 224²": (96, 224, 1, 16),
                           "ViViT-B: 32 frames of 224², tubelets 2×16×16": (32, 224, 2, 16),
                           "this lesson: 8 frames of 32², 8×8 patches": (8, 32, 1, 8)}.items():
    tokens = (T // t) * (H // p) ** 2
    print(f"{name:<44}{tokens:>13,}{(1 + tokens) ** 2:>16,}")

# %% [markdown]
# ## 4. Joint and divided space–time attention
#
# ### Concept
#
# **Joint** space–time attention runs one attention over all 1 + T·P tokens: every patch of every
# frame looks at every other one. **Divided** attention (TimeSformer) splits it into two attentions
# in a row, each with a residual connection:
#
# 1. **time**: the T tokens of one patch position (one per frame) attend to each other — P
#    sequences of length T per clip. The CLS token takes no part.
# 2. **space**: the P tokens of one frame attend to each other and to a **copy of the CLS token** —
#    T sequences of length 1 + P. The CLS token thus gets T outputs, one per frame, and adds their
#    **mean**.
#
# In TimeSformer's code each of the two steps also has a layer norm in front, the time step a
# further linear layer after it, and an MLP follows (`course.nn.timesformer.DividedSpaceTimeBlock`);
# here we write the attention part, the part that decides what sees what. The figure shows, for
# one query patch (frame 2, patch 5 of a 4×4 grid), which tokens it sees in one step.

# %%
T, side = 4, 4
P = side * side
query_t, query_p = 2, 5
masks = {"joint: every token": np.ones((T, P)),
         "divided, 1. time: same position": np.eye(P)[query_p][None].repeat(T, 0),
         "divided, 2. space: same frame": (np.arange(T) == query_t)[:, None].repeat(P, 1)}
fig, axes = plt.subplots(1, 3, figsize=(12, 2.6), layout="constrained")
for ax, (title, seen) in zip(axes, masks.items()):
    wide = np.concatenate([seen[t].reshape(side, side) for t in range(T)], axis=1)  # frames side by side
    ax.imshow(wide, cmap="Blues", vmin=0, vmax=1.3)
    ax.scatter([query_t * side + query_p % side], [query_p // side], marker="*", s=160, color="tab:red")
    for t in range(1, T):
        ax.axvline(t * side - 0.5, color="k", lw=1.5)
    ax.set(xticks=[side * t + side / 2 - 0.5 for t in range(T)], xticklabels=[f"frame {t}" for t in range(T)],
           yticks=[], title=title)
fig.suptitle("tokens that the query ★ attends to (blue); the CLS token is seen by the joint and the space step")
plt.show()

# %% [markdown]
# ### Implement
#
# Write `divided_space_time_attention` with your `multi_head_attention`. The weights of each step
# are a tuple `(in_weight, in_bias, out_weight, out_bias)`. Use the frame-major layout: regroup the
# patch tokens (N, T·P, D) → (N, T, P, D) → (N·P, T, D) for time, and → (N·T, P, D) for space,
# with the CLS token expanded to (N·T, 1, D) in front. Raise a `ValueError` when x is not
# (N, L, D), `num_frames` is not an int ≥ 1, or L − 1 is not a positive multiple of it (T = 1 and
# P = 1 are legal). Mistakes the check recognises: space before time, a CLS token that comes out
# unchanged, a CLS token that keeps one frame's output instead of the mean, the tokens read in
# patch-major order, and a clip of only the CLS token accepted.

# %% nbgrader={"grade": false, "grade_id": "divided_space_time_attention", "locked": false, "schema_version": 3, "solution": true}
def divided_space_time_attention(x: torch.Tensor, num_frames: int, time_weights: Sequence[torch.Tensor | None],
                                 space_weights: Sequence[torch.Tensor | None], num_heads: int) -> torch.Tensor:
    """Divided space–time attention: time attention, then space attention, each with a residual.

    Args:
        x: tokens (N, 1 + T·P, D), CLS first, then frame-major patches.
        num_frames: T >= 1.
        time_weights: (in_weight, in_bias, out_weight, out_bias) of the time attention.
        space_weights: the same for the space attention.
        num_heads: heads of both attentions, must divide D.

    Returns:
        (N, 1 + T·P, D), the same layout.

    Raises:
        ValueError: x not (N, L, D), or L − 1 not a positive multiple of num_frames.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_divided_space_time_attention", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that divided_space_time_attention runs time then space attention and averages the CLS token's outputs."""
check(divided_space_time_attention)

# %% [markdown]
# ### Use: what divided attention can and cannot see
#
# Joint attention (`course.nn.attention.joint_space_time_attention`) is `x + MHA(x)` over all
# tokens. A test of the reference (tests/nn/test_attention.py) shows that both equal the
# corresponding layers of Hugging Face's TimeSformer once its norms and MLP are switched off. Here
# we check what the figure promised: after one divided step, a patch's output depends on its own
# position in every frame and on its own frame — and on nothing else. We perturb one input token
# and see which outputs move.

# %%
def random_weights(D: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    return (torch.randn(3 * D, D, generator=generator) / math.sqrt(D), torch.randn(3 * D, generator=generator),
            torch.randn(D, D, generator=generator) / math.sqrt(D), torch.randn(D, generator=generator))


g = torch.Generator().manual_seed(2)
D = 8
tokens = torch.randn(1, 1 + T * P, D, generator=g)
w_time, w_space = random_weights(D, g), random_weights(D, g)
poked = tokens.clone()
poked[0, 1 + 0 * P + 9] += 1.0  # patch 9 of frame 0
nothing = (torch.zeros(3 * D, D), None, torch.zeros(D, D), None)  # an attention that adds 0
layers = {"time step only": lambda z: attn_lib.divided_space_time_attention(z, T, w_time, nothing, 2),
          "space step only": lambda z: attn_lib.divided_space_time_attention(z, T, nothing, w_space, 2),
          "divided (time, then space)": lambda z: attn_lib.divided_space_time_attention(z, T, w_time, w_space, 2),
          "joint": lambda z: attn_lib.joint_space_time_attention(z, w_space, 2)}
print(f"poke patch 9 of frame 0; outputs that change, per frame (of {P}):")
for name, layer in layers.items():
    change = (layer(poked) - layer(tokens)).abs().amax(-1)[0] > 1e-6  # (1 + T·P,)
    print(f"{name:<28}{str(change[1:].reshape(T, P).sum(1).tolist()):<18}CLS changes: {bool(change[0])}")

# %% [markdown]
# The time step moves patch 9 in every frame and nothing else; the space step moves all patches
# of frame 0 and the CLS token. Chained, the two reach every token of the clip — patch 9 of frame 2
# changed in the time step, so all of frame 2 changes in the space step — the same reach as joint
# attention, through two hops of T and 1 + P tokens instead of one hop of 1 + T·P.
#
# ## 5. What attention costs as T grows
#
# ### Concept
#
# The parts of a layer that grow faster than the number of tokens are the score matrices Q·Kᵀ:
# per head, one number for every query–key pair of every sequence. A sequence of L tokens costs L²
# scores; the products Q·Kᵀ and weights·V then cost 2·L²·D FLOPs each over all heads (D/h per
# head, times h heads; 2 FLOPs per multiply-accumulate, torch's convention, lesson 02).
#
# ### Implement
#
# Write `attention_score_count(num_frames, num_patches, attention_type)`: the scores one head
# computes for one clip with a CLS token, for `"joint_space_time"`, `"divided_space_time"` and
# `"space_only"` (TimeSformer's third option: space attention within each frame and no time
# attention at all). Count each attention as (number of sequences) × (sequence length)². Raise a
# `ValueError` for sizes that are not ints ≥ 1 (a bool is not a size) or an unknown type.
# Mistakes the check recognises: no CLS token, one sequence instead of P (or T), a CLS token in the
# time sequences, and float sizes accepted.

# %% nbgrader={"grade": false, "grade_id": "attention_score_count", "locked": false, "schema_version": 3, "solution": true}
def attention_score_count(num_frames: int, num_patches: int, attention_type: str) -> int:
    """Query–key scores one attention head computes for one clip of T frames with P patches each.

    Args:
        num_frames: T >= 1.
        num_patches: P >= 1 patches per frame.
        attention_type: one of "joint_space_time", "divided_space_time", "space_only".

    Returns:
        The count, a Python int (per head and per clip).

    Raises:
        ValueError: sizes that are not ints >= 1, or an unknown attention type.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_attention_score_count", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that attention_score_count sums (sequences × length²) with TimeSformer's CLS rule and rejects bad input."""
check(attention_score_count)

# %% [markdown]
# ### Experiment: FLOPs and peak memory, measured
#
# We run one joint and one divided attention layer (the reference functions, D = 64, 4 heads,
# P = 49 patches per frame as for 112×112 frames with 16×16 patches) on clips of T = 1 … 32 frames
# and measure:
#
# * **FLOPs** with `course.counting.count_flops` (torch's `FlopCounterMode`, which counts every
#   matrix product). The closed form: the projections, 8·L·D² for an attention over L tokens in
#   all (q, k, v: 6·L·D², output: 2·L·D²), plus the products Q·Kᵀ and weights·V,
#   4·D·(scores) = `course.nn.attention_cost.attention_flops`.
# * **peak memory**: the largest total size of the tensors that are alive at once during the
#   call, recorded at torch's dispatcher (`PeakMemory` below: every tensor an operator returns is
#   counted until Python frees it). Our attention keeps the scores and the weights of all heads
#   alive together, 2 · h · (scores) · 4 bytes at float32.

# %%
import weakref

from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from course.counting import count_flops
from course.nn.attention_cost import attention_flops


class PeakMemory(TorchDispatchMode):
    """Peak bytes of live tensors created by the operators run inside ``with PeakMemory() as m:``."""

    def __init__(self) -> None:
        super().__init__()
        self.live, self.peak, self.alive = 0, 0, set()

    def _freed(self, key: int, nbytes: int) -> None:
        self.live -= nbytes
        self.alive.discard(key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        for tensor in tree_leaves(out):
            if isinstance(tensor, torch.Tensor) and tensor.untyped_storage().data_ptr() not in self.alive:
                storage = tensor.untyped_storage()  # a view shares its base's storage: counted once
                self.alive.add(storage.data_ptr())
                self.live += storage.nbytes()
                weakref.finalize(storage, self._freed, storage.data_ptr(), storage.nbytes())
        self.peak = max(self.peak, self.live)
        return out


class AttentionLayer(torch.nn.Module):
    """One joint or divided attention step (the reference functions) with fixed random weights."""

    def __init__(self, attention_type: str, num_frames: int, D: int, num_heads: int, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.attention_type, self.num_frames, self.num_heads = attention_type, num_frames, num_heads
        self.w_time, self.w_space = random_weights(D, g), random_weights(D, g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.attention_type == "joint_space_time":
            return attn_lib.joint_space_time_attention(x, self.w_space, self.num_heads)
        return attn_lib.divided_space_time_attention(x, self.num_frames, self.w_time, self.w_space, self.num_heads)


def closed_form_flops(T: int, P: int, D: int, attention_type: str) -> int:
    """Projections (8·L·D² per attention over L tokens) + the two attention products."""
    tokens = 1 + T * P if attention_type == "joint_space_time" else T * P + T * (1 + P)
    return 8 * tokens * D * D + attention_flops(T, P, D, attention_type, cls_token=True)


P, D, HEADS = 49, 64, 4
FRAMES = [1, 2, 4, 8, 16, 32]
cost = {}  # (attention type, T) -> (measured FLOPs, closed form, peak bytes)
for T in FRAMES:
    x = torch.randn(1, 1 + T * P, D, generator=g)
    for kind in ("joint_space_time", "divided_space_time"):
        layer = AttentionLayer(kind, T, D, HEADS)
        with PeakMemory() as memory, torch.no_grad():
            layer(x)
        cost[kind, T] = (count_flops(layer, x), closed_form_flops(T, P, D, kind), memory.peak)

print(f"{'T':>3}{'tokens':>8}{'joint MFLOPs':>14}{'divided MFLOPs':>16}{'= closed form':>15}{'joint MB':>10}"
      f"{'divided MB':>12}{'ratio':>7}")
for T in FRAMES:
    (fj, cj, mj), (fd, cd, md) = cost["joint_space_time", T], cost["divided_space_time", T]
    print(f"{T:>3}{1 + T * P:>8,}{fj / 1e6:>14.1f}{fd / 1e6:>16.1f}{str(fj == cj and fd == cd):>15}"
          f"{mj / 1e6:>10.2f}{md / 1e6:>12.2f}{fj / fd:>7.1f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for kind, color in [("joint_space_time", "tab:red"), ("divided_space_time", "tab:blue")]:
    flops = [cost[kind, T][0] for T in FRAMES]
    axes[0].plot(FRAMES, flops, "o", color=color, label=f"{kind}, measured")
    axes[0].plot(FRAMES, [closed_form_flops(T, P, D, kind) for T in FRAMES], "-", color=color, alpha=0.5,
                 label="closed form")
    axes[1].plot(FRAMES, [cost[kind, T][2] / 1e6 for T in FRAMES], "o-", color=color, label=kind)
    axes[1].plot(FRAMES, [2 * HEADS * 4 * attn_lib.attention_score_count(T, P, kind) / 1e6 for T in FRAMES], ":",
                 color=color, label="scores + weights, 2·h·4 B per score")
for ax, ylabel in zip(axes, ["FLOPs of one layer", "peak memory (MB)"]):
    ax.set(xscale="log", yscale="log", xlabel="frames T", ylabel=ylabel, xticks=FRAMES, xticklabels=FRAMES)
    ax.legend(fontsize=8)
fig.suptitle(f"joint vs divided attention, P = {P} patches, D = {D}, {HEADS} heads")
plt.show()

# %% [markdown]
# The measured FLOPs equal the closed form exactly. On the log–log plot joint attention's curves
# bend up to slope 2 (their L² = (1 + T·P)² term takes over), while divided attention stays close
# to slope 1: its T·(1 + P)² term is linear in T and the P·T² term stays small as long as T < P.
# The same holds for memory: joint attention's peak is dominated by the score and weight matrices
# (the dotted line), divided attention's by the tokens and projections, which grow linearly.
#
# The full model. `course.nn.timesformer.TimeSformer` implements both (it loads Hugging Face's
# weights); on the CPU torch's fused attention kernel is not counted by `FlopCounterMode`, so we
# count it with the plain "math" kernel, and compare with a closed form of the whole model (patch
# embedding, per layer the projections 8·L·D², the attention products 4·D·(scores), `temporal_fc`'s
# 2·T·P·D² for divided, the MLP 4·L·D·D_ff, and the head). The parameters differ too: divided
# attention has a second attention (and a linear layer) per block.

# %%
from torch.nn.attention import SDPBackend, sdpa_kernel

from course.counting import count_params
from course.nn.timesformer import TimeSformer
from course.report import result


def model_flops(T: int, P: int, D: int, mlp: int, patch_numel: int, layers: int, classes: int, kind: str) -> int:
    """Closed form of the FLOPs of a TimeSformer on one clip (2 per multiply-accumulate)."""
    L = 1 + T * P  # tokens of the clip
    embed, head, mlps = 2 * T * P * patch_numel * D, 2 * D * classes, 4 * L * D * mlp
    if kind == "joint_space_time":  # one attention over L tokens: projections + products
        return embed + layers * (8 * L * D * D + 4 * D * L * L + mlps) + head
    time = 10 * T * P * D * D + 4 * D * P * T * T  # q, k, v, out and temporal_fc on T·P tokens; P·T² scores
    space = 8 * T * (1 + P) * D * D + 4 * D * T * (1 + P) ** 2  # T sequences of 1 + P tokens
    return embed + layers * (time + space + mlps) + head


model_cost = {}  # (attention type, T) -> measured FLOPs
print(f"{'TimeSformer, 2 layers, D = 64, 32×32 frames, 8×8 patches':<58}{'params':>9}{'T = 8 MFLOPs':>14}"
      f"{'T = 32 MFLOPs':>15}{'= closed form':>15}")
for kind in ("joint_space_time", "divided_space_time"):
    for T in (8, 32):
        torch.manual_seed(0)
        model = TimeSformer(image_size=32, patch_size=8, num_frames=T, hidden_size=64, num_layers=2, num_heads=4,
                            attention_type=kind, num_classes=4, in_channels=1, intermediate_size=128)
        with sdpa_kernel(SDPBackend.MATH):
            model_cost[kind, T] = count_flops(model, torch.zeros(1, 1, T, 32, 32))
    exact = all(model_cost[kind, T] == model_flops(T, 16, 64, 128, 64, 2, 4, kind) for T in (8, 32))
    print(f"{kind:<58}{count_params(model):>9,}{model_cost[kind, 8] / 1e6:>14.1f}{model_cost[kind, 32] / 1e6:>15.1f}"
          f"{str(exact):>15}")

# the layer of the experiment above at T = 32: the numbers the README quotes
(fj, _, mj), (fd, _, md) = cost["joint_space_time", 32], cost["divided_space_time", 32]
result("08.joint_layer_mflops_t32", fj / 1e6, tol=0.05, label="one joint layer at T = 32 (P = 49, D = 64), MFLOPs",
       fmt="{:.1f}")
result("08.divided_layer_mflops_t32", fd / 1e6, tol=0.05, label="one divided layer at T = 32, MFLOPs", fmt="{:.1f}")
result("08.joint_layer_mb_t32", mj / 1e6, tol=1.0, label="peak memory of the joint layer at T = 32, MB", fmt="{:.1f}")
result("08.divided_layer_mb_t32", md / 1e6, tol=0.5, label="peak memory of the divided layer at T = 32, MB",
       fmt="{:.1f}")

# %% [markdown]
# How much faster does joint attention's cost grow? Compare the ratio joint / divided at T = 8 and
# at T = 32, for the whole model as measured, and for the attention scores alone as the closed form
# `attention_score_count` gives them (P = 16).

# %%
ratio = {T: model_cost["joint_space_time", T] / model_cost["divided_space_time", T] for T in (8, 32)}
scores = {T: attn_lib.attention_score_count(T, 16, "joint_space_time")
          / attn_lib.attention_score_count(T, 16, "divided_space_time") for T in (8, 32)}
growth = result("08.model_ratio_growth", ratio[32] / ratio[8], tol=1e-3,
                label="whole model: growth of the joint/divided FLOPs ratio from T = 8 to T = 32")
score_growth = result("08.score_ratio_growth", scores[32] / scores[8], tol=1e-3,
                      label="attention scores alone (closed form): growth of the joint/divided ratio")
print(f"Quadrupling T (8 → 32) multiplies the joint/divided FLOPs ratio of the whole model by {growth:.2f} "
      f"({ratio[8]:.2f} → {ratio[32]:.2f}), not by 4. The closed form of the scores alone, (1 + T·P)² / "
      f"(P·T² + T·(1 + P)²) ≈ T·P / (T + P), predicts ×{score_growth:.2f} ({scores[8]:.1f} → {scores[32]:.1f}): "
      f"the ratio grows like T only while T ≪ P, and here P = 16. The projections and MLPs, linear in T "
      f"for both, dilute it further to the measured ×{growth:.2f}, which the closed form of the whole model "
      f"reproduces exactly.")

# %% [markdown]
# ## 6. Experiment: tiny video transformers on Moving Digits
#
# The motion task of lesson 03: say in which of four directions a digit moves (chance 25 %).
#
# **Time embeddings.** Attention treats its tokens as a *set*: permute the tokens and every output
# is permuted the same way (nothing in softmax(Q·Kᵀ/√d)·V refers to a token's place). In a
# TimeSformer the frames are told apart only by the **time embeddings** added to their patch tokens.
# Were they all equal, a clip and the same clip played backwards would be the same set of tokens,
# the CLS token would come out the same, and "up" could not be told from "down". TimeSformer and
# Hugging Face start them at **zero** (`position_init="zeros"`, the default of our
# `TimeSformer`); `position_init="trunc_normal"` draws them like the space embeddings (normal,
# std 0.02), so the frames differ from the first step. The next cell checks this on freshly
# initialised models: it shuffles the frames of a few clips and measures how much the logits move.

# %%
import course
from course.nn.fusion import SmallC3D
from course.nn.vivit import ViViT
from course.report import compare
from course.train import fit


def tiny_timesformer(position_init: str) -> TimeSformer:
    """The experiment's TimeSformer: 16×16 patches (P = 4 per frame), divided attention, D = 32, 2 blocks."""
    return TimeSformer(image_size=32, patch_size=16, num_frames=8, hidden_size=32, num_layers=2, num_heads=2,
                       attention_type="divided_space_time", num_classes=4, in_channels=1, intermediate_size=64,
                       position_init=position_init)


probe = MovingDigits(4, label="direction", split="test", seed=1).videos  # (4, 1, 8, 32, 32)
shuffled = probe[:, :, torch.randperm(8, generator=torch.Generator().manual_seed(0))]
for init in ("zeros", "trunc_normal"):
    torch.manual_seed(0)
    model = tiny_timesformer(init).eval()
    with torch.no_grad():
        change = (model(probe) - model(shuffled)).abs().max().item()
    print(f"time embeddings {init:<13} largest change of the logits when the frames are shuffled: {change:.1e}")

# %% [markdown]
# With zero time embeddings the change is rounding noise: the untrained model is blind to the order
# of the frames, and only gradient steps on the time embeddings can give it that sense. Drawn
# embeddings make the order visible from the start. Does that help after training? That is a
# comparison between two methods, so we run it over several seeds and print an interval.
#
# The same data and budget for every model (the constants in the next cell): the small 3D CNN of
# lesson 03 (one seed, as the reference point), a tiny **TimeSformer** (16×16 patches per frame —
# P = 4, so 33 tokens per clip, the size that fits this lesson's time budget — divided attention,
# D = 32, 2 blocks) with zero and with drawn time embeddings, and a tiny **ViViT** (2×8×8
# tubelets, D = 32, one spatial and one temporal block), each trained with `course.train.fit`
# (Adam, one-cycle) from seeds 0, 1, 2. A seed fixes the initial weights and the batch order; the
# clips are the same for all. Peak learning rates: 1e-2 for the CNN (lesson 03's), 3e-3 for the
# TimeSformer, 1e-3 for the ViViT (less stable at 3e-3). Besides the accuracy we measure the **axis
# accuracy**: how often the predicted direction is at least on the right axis (up/down or
# left/right; chance 50 %).

# %%
NUM_TRAIN, NUM_TEST, EPOCHS, BATCH_SIZE, SEEDS = 2000, 500, 3, 32, (0, 1, 2)
train_set = MovingDigits(NUM_TRAIN, label="direction", split="train", seed=0)
test_set = MovingDigits(NUM_TEST, label="direction", split="test", seed=1)
print(f"{NUM_TRAIN:,} training and {NUM_TEST:,} test clips {tuple(train_set.videos.shape[1:])}, {EPOCHS} epochs, "
      f"batches of {BATCH_SIZE}, seeds {SEEDS}, device {course.device()}")

runs = {}  # model name -> one dict per seed: test predictions (NUM_TEST,), final training loss, parameters, seconds


def train(name: str, build, lr: float, seeds: Sequence[int] = SEEDS) -> None:
    """Train a fresh model per seed and keep its test predictions."""
    runs[name] = []
    for seed in seeds:
        torch.manual_seed(seed)  # the initial weights
        model = build()
        history = fit(model, train_set, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=lr, seed=seed, progress=True)
        with torch.no_grad():
            predicted = torch.cat([model.eval()(x).argmax(1) for x in test_set.videos.split(250)])  # (NUM_TEST,)
        runs[name].append({"predicted": predicted, "loss": history.loss[-1], "params": count_params(model),
                           "seconds": history.seconds, "model": model})


train("small 3D CNN (lesson 03)", lambda: SmallC3D(4), 1e-2, seeds=(0,))

# %%
train("TimeSformer, time emb. 0", lambda: tiny_timesformer("zeros"), 3e-3)

# %%
train("TimeSformer, time emb. N", lambda: tiny_timesformer("trunc_normal"), 3e-3)

# %%
train("ViViT, tubelets 2×8×8", lambda: ViViT(image_size=32, num_frames=8, tubelet_size=(2, 8, 8), hidden_size=32,
                                             num_spatial_layers=1, num_temporal_layers=1, num_heads=2, num_classes=4,
                                             in_channels=1, intermediate_size=64),
      1e-3)

# %% [markdown]
# The table pools the seeds: the accuracy is the mean over seeds, and the prediction counts show
# how often each model said each direction (every direction is the truth for a quarter of the
# clips). A model that names only one or two directions has not learnt the task.

# %%
labels = test_set.labels  # (NUM_TEST,)
correct = {name: torch.cat([(r["predicted"] == labels).float() for r in rs]) for name, rs in runs.items()}
on_axis = {name: torch.cat([(r["predicted"] // 2 == labels // 2).float() for r in rs])  # up/down = 0, 1
           for name, rs in runs.items()}
keys = {"small 3D CNN (lesson 03)": "cnn", "TimeSformer, time emb. 0": "tsf_zero",
        "TimeSformer, time emb. N": "tsf_normal", "ViViT, tubelets 2×8×8": "vivit"}
print(f"{'model':<26}{'params':>8}{'seeds':>6}{'test acc':>10}{'axis acc':>10}{'loss':>7}{'train s':>9}   "
      f"predicted {' / '.join(DIRECTIONS)} (true: {NUM_TEST // 4} each per seed)")
for name, rs in runs.items():
    counts = torch.stack([torch.bincount(r["predicted"], minlength=4) for r in rs])  # (seeds, 4)
    per_seed = "; ".join(" / ".join(str(int(c)) for c in row) for row in counts)
    print(f"{name:<26}{rs[0]['params']:>8,}{len(rs):>6}{correct[name].mean():>10.1%}{on_axis[name].mean():>10.1%}"
          f"{np.mean([r['loss'] for r in rs]):>7.3f}{np.mean([r['seconds'] for r in rs]):>9.1f}   {per_seed}")
print(f"{'chance':<26}{'':>8}{'':>6}{0.25:>10.1%}{0.5:>10.1%}{math.log(4):>7.3f}")
for name, key in keys.items():
    result(f"08.{key}_acc", correct[name].mean(), tol=0.02 if key == "cnn" else 0.1,
           label=f"{name}: test accuracy, mean over {len(runs[name])} seed(s)", fmt="{:.1%}")
    result(f"08.{key}_axis_acc", on_axis[name].mean(), tol=0.02 if key == "cnn" else 0.1,
           label=f"{name}: axis accuracy", fmt="{:.1%}")

# %% [markdown]
# Now the verdicts, each a paired bootstrap over the test clips of all three seeds (the same clip
# and seed for both models) that resamples the seeds first and then the clips within them, so a
# run that goes its own way widens the interval: first the two kinds of time embeddings, then
# tubelets against per-frame patches, then whether the TimeSformer has found the axis and the sign
# of the motion — against a model that guesses (50 % on each).

# %%
ZERO, DRAWN, VIVIT = "TimeSformer, time emb. 0", "TimeSformer, time emb. N", "ViViT, tubelets 2×8×8"
seed_of = torch.cat([torch.full((len(labels),), i) for i in range(len(runs[ZERO]))])  # (seeds · NUM_TEST,) the seed of each clip
time_emb = compare("drawn time embeddings", correct[DRAWN], "zero time embeddings", correct[ZERO], groups=seed_of)
tubelets = compare("ViViT (2×8×8 tubelets)", correct[VIVIT], "TimeSformer (16×16 patches, time emb. 0)", correct[ZERO],
                   groups=seed_of)
# tolerance 0.15: on a CPU with other vector units (AVX-512 instead of AVX2) float rounding alone moved the
# time-embedding interval's upper end by 0.14 — three training seeds are few, and each run amplifies rounding
for key, cmp in [("time_emb", time_emb), ("vivit_vs_tsf", tubelets)]:
    for part in ("diff", "lower", "upper"):
        result(f"08.{key}_{part}", getattr(cmp, part), tol=0.15, label=f"{cmp.name_a} − {cmp.name_b}: {part}")

print()
sign_found = {}
for name, key in [(ZERO, "tsf_zero"), (DRAWN, "tsf_normal")]:
    axis = compare(f"{name}: right axis", on_axis[name], "a coin flip", torch.full_like(on_axis[name], 0.5),
                   groups=seed_of)
    found = on_axis[name].bool()  # the clips where the axis is right: is the sign right more than half the time?
    sign = compare(f"{name}: right sign, given the right axis", correct[name][found], "a coin flip",
                   torch.full_like(correct[name][found], 0.5),
                   groups=seed_of[found] if len(torch.unique(seed_of[found])) > 1 else None)
    sign_found[name] = sign.lower > 0
    print(f"  → {name}: the axis is {'found' if axis.lower > 0 else 'not shown to be found'}; the sign is "
          f"{'found' if sign.lower > 0 else 'not shown to be better than a guess'} "
          f"({sign.mean_a:.1%} right on the {int(found.sum())} clips with the right axis).")
    result(f"08.{key}_sign_given_axis", sign.mean_a, tol=0.1,
           label=f"{name}: sign accuracy on the clips with the right axis", fmt="{:.1%}")

# %% [markdown]
# With three seeds, resampling the seeds makes the intervals wide; here is what each seed did:

# %%
per_seed = {name: [float((r["predicted"] == labels).float().mean()) for r in runs[name]] for name in (ZERO, DRAWN)}
stuck = {name: sum(len(torch.unique(r["predicted"])) < 3 and acc < 0.3 for r, acc in zip(runs[name], per_seed[name]))
         for name in (ZERO, DRAWN)}  # runs that named at most two directions and stayed near chance
for name in (ZERO, DRAWN):
    print(f"{name}: test accuracy per seed {', '.join(f'{a:.1%}' for a in per_seed[name])}; "
          f"runs stuck near chance: {stuck[name]} of {len(SEEDS)}")
result("08.tsf_zero_stuck_runs", stuck[ZERO], tol=1, label="TimeSformer runs with zero time embeddings stuck near chance",
       fmt="{:.0f}")
result("08.tsf_normal_stuck_runs", stuck[DRAWN], tol=1, label="TimeSformer runs with drawn time embeddings stuck near "
       "chance", fmt="{:.0f}")
diffs = [100 * (a - b) for a, b in zip(per_seed[DRAWN], per_seed[ZERO])]
print(f"drawn − zero, per seed: {', '.join(f'{d:+.1f}' for d in diffs)} points")
if not any(sign_found.values()) and time_emb.resolved:
    print(f"Neither TimeSformer tells the sign of the motion better than a guess, so the difference of "
          f"{100 * time_emb.diff:+.1f} points is not a sense of order. It comes from how reliably training finds the "
          f"axis at this budget: runs stuck near chance, {stuck[ZERO]} with zero and {stuck[DRAWN]} with drawn "
          f"embeddings, weigh most; with {len(SEEDS)} seeds that is a hint, not a property of the embeddings.")
elif not time_emb.resolved:
    print("Drawn and zero time embeddings are not told apart at this budget.")
else:
    print("Drawn time embeddings also help with the sign: see the sign verdicts above.")
losses = [r["loss"] for name in (ZERO, DRAWN) for r in runs[name]]
print(f"\nFinal training loss of the six TimeSformers: {', '.join(f'{v:.2f}' for v in losses)} nats. A model certain "
      f"of the axis that guesses the sign has ln 2 = {math.log(2):.2f}; one that knows nothing, ln 4 = {math.log(4):.2f}.")
for name in (ZERO, DRAWN):
    embeds = [r["model"].time_embed[0].detach() for r in runs[name]]  # each (T, D)
    print(f"{name}: largest distance between two frames' time embeddings after training, per seed: "
          f"{', '.join(f'{torch.cdist(e, e).max():.3f}' for e in embeds)}")

# %% [markdown]
# Where do the models go wrong? The confusion matrices of seed 0 on the test clips (rows: true
# direction).

# %%
fig, axes = plt.subplots(1, len(runs), figsize=(15, 3.4), layout="constrained")
for ax, (name, rs) in zip(axes, runs.items()):
    predicted = rs[0]["predicted"]
    confusion = torch.zeros(4, 4, dtype=torch.long)
    confusion.index_put_((labels, predicted), torch.ones_like(predicted), accumulate=True)
    ax.imshow(confusion, cmap="Blues")
    for i in range(4):
        for j in range(4):
            ax.text(j, i, int(confusion[i, j]), ha="center", va="center", fontsize=8)
    ax.set(xticks=range(4), xticklabels=DIRECTIONS, yticks=range(4), yticklabels=DIRECTIONS,
           xlabel="predicted", title=f"{name}, seed 0\n{(predicted == labels).float().mean():.0%} correct")
axes[0].set_ylabel("true direction")
plt.show()

# %% [markdown]
# How to read it (the verdicts above are computed from this run; they depend on the seeds and the
# budget):
#
# * The **3D CNN**'s 3×3×3 kernels compare a pixel with its neighbours in the next frame from the
#   first layer on; that is the motion signal itself.
# * A **TimeSformer** can find the axis of motion (up/down against left/right) from the *set* of
#   frames — the digit is smeared along it — but the sign only from their *order*, and the order
#   reaches the model only through the time embeddings. Look for 2×2 blocks in its confusion
#   matrix, and compare its axis accuracy with its accuracy and the sign verdicts above. Whether
#   drawn time embeddings beat zero ones is the first verdict, and the per-seed lines say what
#   carries it. The TimeSformers' prediction counts show runs that never left one or two
#   directions: the spread between seeds is part of the result.
# * The **ViViT** sees motion inside each token: a 2×8×8 tubelet holds two consecutive frames, so
#   its embedding (a Conv3d) can compare them, as the 3D CNN's first layer does. The comparison
#   with the TimeSformer is loose in one respect: the two models also differ in patch size (8×8
#   against 16×16, chosen to keep the six TimeSformer runs within the lesson's time budget) and
#   in depth, so the verdict is about these two models, not about tubelets alone (exercise 5).
#
# Transformers have fewer built-in assumptions (no locality, no order) than convolutions, and pay
# for it with data: TimeSformer and ViViT were trained on Kinetics (hundreds of thousands of clips)
# starting from ImageNet weights. Here, on 2,000 clips and three epochs, the printed verdicts say
# which of these small models learnt the motion.
#
# ## Summary
#
# * Attention is softmax(Q·Kᵀ/√d)·V with the softmax over the keys; 1/√d keeps the scores' spread
#   near 1 so the softmax does not saturate. Multi-head attention splits D into h contiguous slices
#   and runs attention in each, with scale 1/√(D/h).
# * Per-frame patches (ViT, TimeSformer) are a Conv2d with kernel = stride on each frame;
#   ViViT's tubelets are a Conv3d with kernel = stride. Tokens are (N, L, D), CLS first, then
#   frame-major patches.
# * Joint attention over 1 + T·P tokens costs (1 + T·P)² scores per head; TimeSformer's divided
#   attention P·T² + T·(1 + P)²: time over each patch position (no CLS), then space over each
#   frame plus a CLS copy, the CLS token keeping the mean of its T outputs. The measured FLOPs equal
#   the closed form; joint attention's cost and memory grow as T², divided attention's almost as T
#   while T ≪ P — which is why quadrupling T did not quadruple the ratio between them here.
# * Attention does not know the order of its tokens: with zero time embeddings a TimeSformer gives
#   the same output for shuffled frames, and must learn the order from its time embeddings. Whether
#   drawing them at random (`position_init="trunc_normal"`) helps is a comparison between two
#   methods: over three seeds, with a paired-bootstrap interval, printed above. Tubelets (and
#   convolutions) hold motion inside a token.
#
# ## Exercises (not graded)
#
# 1. **Causal time attention.** Pass a causal mask to the time step so that frame t sees only
#    frames ≤ t. How does the count of scores change? (Masked scores are still computed.)
# 2. **Where does divided attention stop paying?** Solve P·T² + T·(1 + P)² = (1 + T·P)² for T at
#    P = 196 and at P = 4. Check with `attention_score_count`.
# 3. **Order from the data.** Train the tiny TimeSformer on the `"order"` task of Moving Digits
#    (lesson 07: is the second digit 1–4 or 6–9 steps after the first, counting mod 10?), with
#    `position_init="zeros"` and `"trunc_normal"`, over three seeds with `course.report.compare`.
#    Which of the two tasks is harder for it, and why?
# 4. **Space-only.** `TimeSformer(..., attention_type="space_only")` never attends over time and
#    averages the per-frame predictions. Predict its accuracy on the direction task, then measure it.
# 5. **ViViT's tubelet depth.** Train ViViT with tubelets 1×8×8, 2×8×8 and 4×8×8. How do the
#    number of tokens, the FLOPs (`count_flops`) and the accuracy change?
# 6. **More budget for the sign.** Give the TimeSformer 8×8 patches (four times the tokens), more
#    epochs or more clips, one change at a time, and watch the sign verdict and the final loss
#    against ln 2. Which change is worth its cost?
