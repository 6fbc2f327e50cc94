# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 05 — Inflation: a 2D image network becomes a 3D video network (I3D)
#
# Video data sets are small next to image data sets, and 3D networks have many more weights than
# 2D ones. Carreira & Zisserman (2017, *Quo Vadis, Action Recognition? A New Model and the
# Kinetics Dataset*) found a way to start a 3D network from a trained 2D one: **inflate** it.
# Every k×k filter becomes a t×k×k filter — the 2D weights repeated on each of the t frames and
# divided by t — and pooling, batch norm and the classifier are carried over. Their I3D is
# Inception-v1 inflated this way, with ImageNet weights as its starting point.
#
# Why divide by t? Take a **boring video**: one image repeated in every frame. An inflated filter
# sums t frames, each weighted by 1/t of the 2D filter, so it returns exactly the 2D response.
# Layer by layer the whole inflated network then computes what the 2D network computes on the
# image: on a boring video the two networks agree, and training on real video starts from the
# image features.
#
# The claims this lesson shows with numbers: **an inflated network on a boring (static) clip gives
# the 2D network's output; a 2D network pretrained on images, inflated and fine-tuned on a few
# video clips, beats the same 3D network trained from scratch on those clips.** We also measure
# where the exact equality stops (the ends of the clip, where time is padded with zeros) and what
# averaging over time does to content that moves.
#
# **Learning objectives.** After this lesson you can
#
# 1. inflate a 2D kernel into a 3D one by averaging (I3D) or on the centre frame, and say why the
#    1/t is needed;
# 2. derive the kernel, stride and padding of the Conv3d that replaces a Conv2d;
# 3. build a boring clip in the Conv3d layout and verify the boring-video property, layer by
#    layer and for whole networks;
# 4. carry a 2D batch norm's statistics into the 3D network, and inflate a whole state dict;
# 5. count the parameters of I3D (at 400 classes) and see where inflation adds them;
# 6. pretrain a small 2D ResNet on digit images, inflate it, fine-tune it on a few Moving Digits
#    clips, and compare with training from scratch.
#
# Data: Moving Digits (real 8×8 handwritten digits from scikit-learn on a 32×32 wrap-around canvas,
# generated from a seed; lesson 03). Nothing is downloaded.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder import check

# %% [markdown]
# ## 1. Inflating a kernel
#
# ### Concept
#
# Layouts are those of `torch.nn.Conv3d`: clips (N, C, T, H, W), 2D kernels (C_out, C_in, k_h,
# k_w), 3D kernels (C_out, C_in, k_t, k_h, k_w). The new **time axis goes after the channels**.
#
# Write W for a 2D kernel and x for an image. On a boring clip every frame is x, so a 3D kernel
# W₃ with frames W₃[0], …, W₃[t−1] gives, at an inner frame,
#
# $$\sum_{\tau=0}^{t-1} W_3[\tau] * x \;=\; \Big(\sum_{\tau} W_3[\tau]\Big) * x .$$
#
# Any W₃ whose frames **sum to W** gives the 2D response. Two choices are common:
#
# * **average** (I3D): W₃[τ] = W / t for every τ — the 2D kernel repeated, divided by t;
# * **center**: W₃[t // 2] = W and zeros elsewhere — the 3D conv starts as the 2D conv applied
#   frame by frame, and learns to look at neighbouring frames during fine-tuning.
#
# The figure shows one 3×3 kernel inflated to 3 frames both ways.

# %%
kernel2d = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])  # a Sobel filter, one channel pair
panels = [("2D kernel W", kernel2d)]
for mode in ("average", "center"):
    for tau in range(3):
        frame_weights = kernel2d / 3 if mode == "average" else kernel2d * (tau == 1)
        panels.append((f"{mode}: frame {tau}", frame_weights))
fig, axes = plt.subplots(1, 7, figsize=(12, 2.2), layout="constrained")
for ax, (title, w) in zip(axes, panels):
    ax.imshow(w, cmap="RdBu_r", vmin=-2, vmax=2)
    for (i, j), v in np.ndenumerate(w.numpy()):
        ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=7)
    ax.set(title=title, xticks=[], yticks=[])
fig.suptitle("Inflating a 3×3 kernel to 3×3×3: the frames sum to W in both modes")
plt.show()

# %% [markdown]
# ### Implement
#
# Write `inflate_weight`. Add the time axis with `unsqueeze(2)`; `repeat` it; divide by t for
# "average". For "center" start from zeros and put the 2D kernel on frame `time_dim // 2` (for
# an even t, the later of the two middle frames). Raise a `ValueError` for a kernel that is not
# 4-D, a `time_dim` that is not an int ≥ 1, or an unknown mode. Mistakes the check recognises:
# forgetting the 1/t, a time axis in the wrong place, the wrong centre frame, and dividing in
# center mode.

# %% nbgrader={"grade": false, "grade_id": "inflate_weight", "locked": false, "schema_version": 3, "solution": true}
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
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_inflate_weight", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that inflate_weight returns (C_out, C_in, t, k_h, k_w) kernels whose frames sum to the 2D kernel."""
check(inflate_weight)

# %% [markdown]
# ### Use: one convolution on a boring clip
#
# From here on we use the reference library `course` (the same functions as yours, tested), so a
# bug in an exercise does not spread. A Conv3d with the inflated kernel, on a clip that repeats
# one image 7 times, against the Conv2d on the image. Time is padded with one zero frame on each
# side (what I3D does), so at the first and last frame one of the three taps reads zeros.

# %%
from course.nn.inflation import boring_clip as ref_boring_clip
from course.nn.inflation import inflate_weight as ref_inflate_weight

torch.manual_seed(0)
image = torch.randn(1, 3, 9, 11, dtype=torch.float64)  # (N, C, H, W)
weight2d = torch.randn(4, 3, 3, 3, dtype=torch.float64)  # (C_out, C_in, 3, 3)
clip = image.unsqueeze(2).repeat(1, 1, 7, 1, 1)  # (N, C, T = 7, H, W): one image, 7 times
y2d = F.conv2d(image, weight2d, padding=1)  # (1, 4, 9, 11)
print(f"{'mode':<9}" + "".join(f"{f'frame {k}':>10}" for k in range(7)) + "   (max |3D − 2D| per output frame)")
for mode in ("average", "center"):
    y3d = F.conv3d(clip, ref_inflate_weight(weight2d, 3, mode), padding=1)  # (1, 4, 7, 9, 11)
    gaps = [(y3d[:, :, k] - y2d).abs().max().item() for k in range(7)]
    print(f"{mode:<9}" + "".join(f"{g:>10.2g}" for g in gaps))
ratio = (F.conv3d(clip, ref_inflate_weight(weight2d, 3), padding=1)[:, :, 0] / y2d).median().item()
print(f"average mode, frame 0: the 3D response is {ratio:.4f} × the 2D one (two of three taps see the image)")
forgot = F.conv3d(clip, weight2d.unsqueeze(2).repeat(1, 1, 3, 1, 1), padding=1)[:, :, 3]
print(f"without the 1/t, an inner frame is {(forgot / y2d).median().item():.4f} × the 2D response")

# %% [markdown]
# Inner frames agree to rounding error in both modes. At the ends, "average" loses the taps that
# fall on padding (2/3 of the response with t = 3); "center" has zero weights there, so its ends
# are exact too. Without the 1/t every inner response is t times too large — and a deep network
# multiplies that error layer after layer (batch norm's stored statistics no longer fit).
#
# ## 2. Inflating a layer's sizes
#
# ### Concept
#
# A Conv2d has a kernel, a stride and a padding for height and width. Its Conv3d twin takes a
# **time part first**, as every Conv3d triple is (time, height, width):
#
# | | kernel | stride | padding |
# | --- | --- | --- | --- |
# | Conv2d | (k_h, k_w) | (s_h, s_w) | (p_h, p_w) |
# | inflated Conv3d | (t, k_h, k_w) | (s_t, s_h, s_w) | (t // 2, p_h, p_w) |
#
# The time padding t // 2 keeps the number of frames for an odd t and stride 1, as the spatial
# padding keeps H and W. The time stride s_t is a choice of the network's designer, not a copy of
# the spatial stride: I3D's stem strides time by 2, its other convolutions by 1.
#
# ### Implement
#
# Write `inflate_conv_args`. Sizes come as one int (for height and width) or as a pair; return
# three tuples of Python ints. Raise a `ValueError` for anything that is not an int or a pair of
# ints, a kernel or stride below 1, a negative padding, or a `time_dim` / `time_stride` below 1.

# %% nbgrader={"grade": false, "grade_id": "inflate_conv_args", "locked": false, "schema_version": 3, "solution": true}
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
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_inflate_conv_args", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that inflate_conv_args puts time first: (t, k_h, k_w), (s_t, s_h, s_w), (t // 2, p_h, p_w)."""
check(inflate_conv_args)

# %% [markdown]
# ### Use: `inflate_conv`
#
# `course.nn.inflation.inflate_conv` builds the Conv3d from a Conv2d with these sizes and the
# inflated weights (the bias, groups and dilation are copied). Frames in, frames out:

# %%
from course.nn.inflation import inflate_conv

conv2d = nn.Conv2d(3, 8, kernel_size=(5, 3), stride=2, padding=(2, 1))
for t, s_t in [(3, 1), (5, 1), (3, 2)]:
    conv3d = inflate_conv(conv2d, t, time_stride=s_t)
    out = conv3d(torch.randn(1, 3, 9, 32, 32))
    print(f"t = {t}, time stride {s_t}: kernel {conv3d.kernel_size}, stride {conv3d.stride}, padding "
          f"{conv3d.padding}, 9 frames → {out.shape[2]}, 32×32 → {out.shape[3]}×{out.shape[4]}, "
          f"{conv3d.weight.numel():,} weights (2D: {conv2d.weight.numel():,})")

# %% [markdown]
# ## 3. Boring clips
#
# ### Concept
#
# The property we want to verify needs its test input: a clip whose T frames are all the same
# image, in the Conv3d layout (N, C, T, H, W). The time axis goes **after** the channels, and every
# frame holds the image itself — the 1/t of inflation belongs to the kernel, not to the data.
#
# ### Implement
#
# Write `boring_clip`. Return a copy (editing the clip must not change the image). Raise a
# `ValueError` for a frame that is not (N, C, H, W) or a `num_frames` that is not an int ≥ 1.

# %% nbgrader={"grade": false, "grade_id": "boring_clip", "locked": false, "schema_version": 3, "solution": true}
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
    ### BEGIN SOLUTION
    # 1. validate
    if frame.dim() != 4:
        raise ValueError(f"frame must be (N, C, H, W), got shape {tuple(frame.shape)}")
    if not isinstance(num_frames, int) or isinstance(num_frames, bool) or num_frames < 1:
        raise ValueError(f"num_frames must be an int >= 1, got {num_frames!r}")
    # 2. a time axis after the channels, repeated T times (a copy, not a view: the clip can be edited)
    return frame.unsqueeze(2).repeat(1, 1, num_frames, 1, 1)  # (N, C, T, H, W)
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_boring_clip", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that boring_clip repeats each (N, C, H, W) image on a new time axis at position 2."""
check(boring_clip)

# %% [markdown]
# ### Use: what layers keep the property?
#
# Take a boring clip through each kind of layer and compare with the 2D layer on the image. A
# ReLU acts pixel by pixel, so it keeps a boring clip boring. A max or average pool that does not
# pool time does the same to every frame. Adaptive (global) pooling averages over time too, and
# the average of T equal frames is the frame.

# %%
from course.nn.inflation import inflate_pool

image = torch.randn(2, 4, 15, 13)
clip = ref_boring_clip(image, 6)
layers = [nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1)]
for layer in layers:
    layer3d = layer if isinstance(layer, nn.ReLU) else inflate_pool(layer)
    y3d, y2d = layer3d(clip), layer(image)
    frames = y3d.unbind(2)  # each output frame against the 2D output
    gap = max((f - y2d).abs().max().item() for f in frames)
    print(f"{type(layer).__name__:<18} → {type(layer3d).__name__:<18} output {tuple(y3d.shape)}, "
          f"max |frame − 2D| = {gap:.1e}")

# %% [markdown]
# ## 4. Batch norm keeps its statistics
#
# ### Concept
#
# A trained 2D network's BatchNorm2d holds, per channel c, a running mean μ_c and variance σ²_c
# of its input, and an affine weight γ_c and bias β_c. In eval mode it computes
# y = (x − μ_c) / √(σ²_c + ε) · γ_c + β_c. The inflated BatchNorm3d keeps all four: on a boring
# clip the features of every frame are the 2D features of the image, so the 2D statistics are the
# right ones. The numbers are per **channel**, axis 1 of (N, C, T, H, W), and broadcast over
# N, T, H and W.
#
# ### Implement
#
# Write `batchnorm_from_2d`: eval-mode batch norm of a clip with given statistics (do not compute
# the clip's own mean and variance — that is training mode, and it would throw away what the 2D
# network learned). Raise a `ValueError` for a clip that is not 5-D or a statistic that is not a
# (C,) vector.

# %% nbgrader={"grade": false, "grade_id": "batchnorm_from_2d", "locked": false, "schema_version": 3, "solution": true}
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
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_batchnorm_from_2d", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that batchnorm_from_2d normalizes each channel with the given running statistics, then scales and shifts."""
check(batchnorm_from_2d)

# %% [markdown]
# ### Use: `inflate_batchnorm` and torch's BatchNorm3d
#
# `course.nn.inflation.inflate_batchnorm` copies a BatchNorm2d into a BatchNorm3d (statistics,
# weight, bias, ε, momentum). Our function, torch's BatchNorm3d and the 2D layer applied frame by
# frame agree:

# %%
from course.nn.inflation import inflate_batchnorm
from course.nn.inflation import batchnorm_from_2d as ref_batchnorm_from_2d

torch.manual_seed(1)
bn2d = nn.BatchNorm2d(5)
bn2d.train()(torch.randn(64, 5, 8, 8) * 3 + 2)  # one training step fills the running statistics
bn2d.eval()
clip = torch.randn(2, 5, 4, 8, 8)
ours = ref_batchnorm_from_2d(clip, bn2d.running_mean, bn2d.running_var, bn2d.weight.detach(), bn2d.bias.detach())
torch_3d = inflate_batchnorm(bn2d).eval()(clip)
frame_by_frame = torch.stack([bn2d(clip[:, :, k]) for k in range(clip.shape[2])], dim=2)
print("ours vs nn.BatchNorm3d:", f"{(ours - torch_3d).abs().max().item():.1e}",
      "  ours vs BatchNorm2d frame by frame:", f"{(ours - frame_by_frame).abs().max().item():.1e}")

# %% [markdown]
# ## 5. A whole network
#
# ### Concept
#
# `course.nn.inflation.inflate_model(model2d, time_dim)` copies a 2D network and replaces every
# Conv2d by its inflated Conv3d (a 1×1 kernel stays 1×1×1, as in I3D), every BatchNorm2d by a
# BatchNorm3d with the same statistics and every 2D pooling by a 3D one; linear layers,
# activations and flattening stay. The network's own `forward` runs unchanged on 5-D tensors.
#
# Pretrained weights often come as a **state dict** (name → tensor). Inflating it is the same rule
# on plain tensors: every 4-D tensor is a conv kernel — inflate it (t frames, or 1 for a 1×1
# kernel, divided by its number of frames) — and copy everything else: conv biases, batch norm's
# weight, bias, running statistics and batch counter, the classifier.
#
# ### Implement
#
# Write `inflate_state_dict`; return a new dict with the same keys and copied tensors. Raise a
# `ValueError` when `time_dim` is not an int ≥ 1.

# %% nbgrader={"grade": false, "grade_id": "inflate_state_dict", "locked": false, "schema_version": 3, "solution": true}
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
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_inflate_state_dict", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that inflate_state_dict inflates k×k kernels (1×1 stay 1×1×1), divides by t and copies everything else."""
check(inflate_state_dict)

# %% [markdown]
# ### Use: the boring-video property of a whole ResNet
#
# `small_resnet2d` is a small 2D ResNet (a stride-2 stem, three basic blocks, global average
# pooling, a linear classifier). We give its batch norms non-trivial statistics, inflate it, check
# that `inflate_state_dict` of its weights loads into the inflated network, and compare the
# logits on boring clips with the 2D logits. Three settings: I3D's (average, time padded with
# zeros), average with time padded by **repeating** the end frames (`time_padding="replicate"`),
# and center.

# %%
from course.counting import count_params
from course.nn.inflation import inflate_model, small_resnet2d
from course.nn.inflation import inflate_state_dict as ref_inflate_state_dict

torch.manual_seed(2)
resnet2d = small_resnet2d(num_classes=10)
for m in resnet2d.modules():  # statistics as a trained network would have them
    if isinstance(m, nn.BatchNorm2d):
        m.running_mean.uniform_(-0.5, 0.5)
        m.running_var.uniform_(0.5, 2.0)
resnet2d.eval()
resnet3d = inflate_model(resnet2d, 3)
resnet3d.load_state_dict(ref_inflate_state_dict(resnet2d.state_dict(), 3))  # strict: every name and shape fits
print(f"small_resnet2d: {count_params(resnet2d):,} parameters; inflated (t = 3): {count_params(resnet3d):,}")

images = torch.randn(16, 1, 32, 32, dtype=torch.float64)
resnet2d = resnet2d.double()
with torch.no_grad():
    logits2d = resnet2d(images)
    print(f"{'inflation':<34}{'T = 4':>10}{'T = 8':>10}{'T = 16':>10}   max |logits 3D − logits 2D|")
    for mode, padding in [("average", "zeros"), ("average", "replicate"), ("center", "zeros")]:
        model3d = inflate_model(resnet2d, 3, mode=mode, time_padding=padding).eval()
        gaps = [(model3d(ref_boring_clip(images, T)) - logits2d).abs().max().item() for T in (4, 8, 16)]
        print(f"{mode + ', time padded with ' + padding:<34}" + "".join(f"{g:>10.1e}" for g in gaps))

# %% [markdown]
# With replicate padding or center inflation the inflated network returns the 2D logits to
# float64 rounding: the boring-video property holds for the whole network. I3D's own setting,
# average inflation with zero padding, is exact only away from the clip's ends; the zero frames
# enter the first and last frames at every layer, and through seven convolutions in a row their
# effect reaches most of a short clip. The gap shrinks as T grows, since a larger share of the
# frames is far from the ends.
#
# ## 6. I3D: Inception-v1 inflated
#
# `course.nn.i3d()` (in `course.nn.inception3d`) builds the RGB network of Carreira & Zisserman with the module names of
# the paper's figure: a 7×7×7 stem with stride 2, two max pools that do not pool time (1×3×3),
# nine Inception blocks, a 2×7×7 average pool and a 1×1×1 convolution as the classifier, whose
# logits are averaged over time. Every other convolution has no bias and is followed by batch
# norm. We count its parameters at 400 classes (Kinetics-400) on the `meta` device (shapes only,
# no memory), and compare each stage with the 2D network it was inflated from: a conv's 2D twin
# has its weights divided by its time size.

# %%
from course.counting import count_flops
from course.nn.inception3d import i3d

with torch.device("meta"):
    model = i3d(num_classes=400)
    meta_clip = torch.empty(1, 3, 64, 224, 224)
    flops = count_flops(model, meta_clip)


def params_2d(module: nn.Module) -> int:
    """Parameters of the 2D twin: every Conv3d's weights divided by its temporal kernel size."""
    total = 0
    for m in module.modules():
        for name, p in m.named_parameters(recurse=False):
            is_kernel = isinstance(m, nn.Conv3d) and name == "weight"
            total += p.numel() // m.kernel_size[0] if is_kernel else p.numel()
    return total


print(f"{'stage':<20}{'I3D params':>13}{'2D params':>12}{'× by inflation':>16}")
for name, stage in [*model.features.named_children(), ("logits", model.logits)]:
    n3, n2 = count_params(stage), params_2d(stage)
    if n3:
        print(f"{name:<20}{n3:>13,}{n2:>12,}{n3 / n2:>16.2f}")
print(f"{'total':<20}{count_params(model):>13,}{params_2d(model):>12,}{count_params(model) / params_2d(model):>16.2f}")
from course.report import result

result("05.i3d_params", count_params(model), tol=0, label="I3D parameters at 400 classes", fmt="{:,.0f}")
print(f"one forward pass on a 64×224×224 clip: {flops / 1e9:.1f} GFLOPs")

# %% [markdown]
# I3D has 12,697,264<!--05.i3d_params--> parameters; its 2D twin (Inception-v1 with batch norm and a 1024 → 400
# classifier) has the count in the "2D params" column. Inflation multiplies the 3×3 kernels by 3,
# the stem by 7, and leaves the 1×1 kernels, batch norms and the classifier alone — which is why
# the total grows by less than 3×. The inflated weights come for free from the 2D network; the
# new time axis costs compute, not learning from scratch.
#
# ## 7. Experiment: pretrain in 2D, inflate, fine-tune on few clips
#
# The point of inflation is to start a video network from image features. We play the whole
# story on Moving Digits:
#
# 1. **Pretrain** `small_resnet2d` on 3,000 single frames of Moving Digits labelled with their
#    digit (our "ImageNet": images, no motion) — 6 epochs.
# 2. **Inflate** it (t = 3) in two ways: average (I3D) and center.
# 3. **Zero-shot**: evaluate the inflated digit classifier, without any video training, on boring
#    clips made from test frames and on real moving test clips.
# 4. **Fine-tune** on two small video tasks: *digit* with 60 training clips and *direction* (up,
#    down, left, right — motion only) with 60 clips, against the same 3D network **from scratch**
#    (PyTorch's default initialization), with the same data, schedule and seed. For direction the
#    10-class head is replaced by a new 4-class one. We fine-tune the center-inflated network (the
#    zero-shot step shows why not the average one). Few clips mean few optimization steps, so we
#    also compare at twice the epochs, to separate "starts better" from "ends better".
#
# With so few clips the result depends on *which* clips, so every fine-tuning run is repeated with
# two seeds, each drawing its own training clips, initial head and batch order (the pretrained 2D
# network is the same; a 3D network's backward pass on the CPU is slow, so two seeds are what the
# lesson's time budget allows). Test accuracy on 500 clips of held-out digit images; comparisons
# give a 95 % paired-bootstrap interval that resamples the two seeds and the test clips within
# them. Two seeds are few: the interval is crude, and a difference that only one seed shows widens it.

# %%
from tqdm.auto import tqdm

from course.data.moving_digits import moving_digits
from course.report import compare, result
from course.train import correct_per_clip, evaluate, fit

PRE_FRAMES, PRE_EPOCHS = 3000, 6  # pretraining: single frames
FT_EPOCHS, FT_BATCH, FT_LR = 8, 32, 3e-3  # fine-tuning on few clips
SEEDS = (0, 1)  # fine-tuning: training clips, initial weights, batch order
clips, digits = moving_digits(PRE_FRAMES, label="digit", split="train", seed=100)  # (N, 1, 8, 32, 32)
pick = torch.randint(clips.shape[2], (PRE_FRAMES,), generator=torch.Generator().manual_seed(0))
frames = clips[torch.arange(PRE_FRAMES), :, pick]  # (N, 1, 32, 32): one random frame per clip
test_clips, test_digits = moving_digits(500, label="digit", split="test", seed=1)


torch.manual_seed(0)
pretrained2d = small_resnet2d(num_classes=10)
history = fit(pretrained2d, (frames, digits), epochs=PRE_EPOCHS, batch_size=64, lr=1e-2, progress=True)
acc_2d = result("05.pretrained2d_frame_acc", evaluate(pretrained2d, (test_clips[:, :, 0], test_digits)), tol=0.03,
                label="2D pretraining: test accuracy on single frames")

boring_test = ref_boring_clip(test_clips[:, :, 0], 8)  # the test frames as static clips
zero_shot = {}  # mode -> 0/1 per moving test clip
print(f"{'zero-shot, digit':<28}{'boring clips':>14}{'moving clips':>14}")
for mode in ("average", "center"):
    inflated = inflate_model(pretrained2d, 3, mode=mode)
    zero_shot[mode] = correct_per_clip(inflated, (test_clips, test_digits))
    print(f"{'inflated, ' + mode:<28}{evaluate(inflated, (boring_test, test_digits)):>14.3f}{zero_shot[mode].mean():>14.3f}")
compare("center inflation", zero_shot["center"], "average inflation", zero_shot["average"]);

# %% [markdown]
# The 2D network's single-frame accuracy carries over to boring clips — up to the zero-padding
# effect of section 5 for "average". On **moving** clips the two inflations part (the verdict
# line): average inflation sums each pixel over t frames at every layer; a digit that moves 2
# pixels per frame is smeared over the stacked receptive fields, and the features the 2D network
# learned on sharp digits no longer match. Center inflation starts as the 2D network applied frame
# by frame (its logits are the 2D logits averaged over the frames), so it sees sharp digits. Now
# fine-tuning:

# %%
def scratch_network(num_classes: int) -> nn.Module:
    """The inflated architecture with PyTorch's default initialization of every layer (no pretraining)."""
    model = inflate_model(small_resnet2d(num_classes=num_classes), 3)
    for m in model.modules():
        if isinstance(m, (nn.Conv3d, nn.BatchNorm3d, nn.Linear)):
            m.reset_parameters()
    return model


def start(kind: str, num_classes: int) -> nn.Module:
    if kind == "scratch":
        return scratch_network(num_classes)
    model = inflate_model(pretrained2d, 3, mode=kind)
    if num_classes != 10:  # a new head for a new label set
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


tasks = {"digit": (60, 10), "direction": (60, 4)}  # label: (training clips, classes)
runs = [("inflated, center", "center", 1), ("scratch", "scratch", 1),
        ("inflated, center, 2× ep.", "center", 2), ("scratch, 2× epochs", "scratch", 2)]  # (name, start, epochs ×)
test_sets = {task: moving_digits(500, label=task, split="test", seed=1) for task in tasks}
correct, last_loss = {}, {}  # (task, run) -> 0/1 per test clip (seeds concatenated); last training losses
for seed, task, (name, kind, epoch_factor) in tqdm([(s, t, r) for s in SEEDS for t in tasks for r in runs],
                                                   desc="seeds × tasks × starts"):
    n_train, num_classes = tasks[task]
    train_set = moving_digits(n_train, label=task, split="train", seed=seed)
    torch.manual_seed(1 + seed)
    model = start(kind, num_classes)
    h = fit(model, train_set, epochs=FT_EPOCHS * epoch_factor, batch_size=FT_BATCH, lr=FT_LR, seed=seed, progress=True)
    correct.setdefault((task, name), []).append(correct_per_clip(model, test_sets[task]))
    last_loss.setdefault((task, name), []).append(h.loss[-1])
correct = {key: np.concatenate(per_seed) for key, per_seed in correct.items()}  # (len(SEEDS)·500,)

print(f"{'start':<26}{'epochs':>7}" + "".join(f"{f'{t} ({n} clips)':>24}" for t, (n, _) in tasks.items())
      + "   test accuracy ± sd over seeds (last training loss)")
for name, _, factor in runs:
    cells = [f"{correct[t, name].mean():.3f} ± {correct[t, name].reshape(len(SEEDS), -1).mean(1).std():.3f} "
             f"({np.mean(last_loss[t, name]):.2f})" for t in tasks]
    print(f"{name:<26}{FT_EPOCHS * factor:>7}" + "".join(f"{c:>24}" for c in cells))
print(f"{'chance':<33}" + "".join(f"{1 / k:>24.3f}" for _, k in tasks.values()))
SLUG = {"inflated, center": "center", "scratch": "scratch",
        "inflated, center, 2× ep.": "center_2x", "scratch, 2× epochs": "scratch_2x"}
for task in tasks:
    for name, _, _ in runs:
        result(f"05.{task}_{SLUG[name]}_acc", correct[task, name].mean(), tol=0.04,
               label=f"{task}, {name}, mean of {len(SEEDS)} seeds")

# %% [markdown]
# The claim, "inflated-pretrained beats from-scratch", as verdicts with intervals at equal training
# budgets ("not resolved" when the interval contains 0):

# %%
verdicts = {}
for task in tasks:
    print(f"{task}:")
    for inflated, scratch in [("inflated, center", "scratch"), ("inflated, center, 2× ep.", "scratch, 2× epochs")]:
        verdicts[task, inflated] = compare(inflated, correct[task, inflated], scratch, correct[task, scratch],
                                           groups=np.repeat(SEEDS, len(test_sets[task][1])))
for task in tasks:
    for name, key in [("inflated, center", "center"), ("inflated, center, 2× ep.", "center_2x")]:
        v = verdicts[task, name]
        result(f"05.{task}_{key}_minus_scratch", v.diff, tol=0.05, label=f"{task}: {name} − scratch")
        result(f"05.{task}_{key}_minus_scratch_lower", v.lower, tol=0.05, label="  95 % CI lower")
        result(f"05.{task}_{key}_minus_scratch_upper", v.upper, tol=0.05, label="  95 % CI upper")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained")
colors = ["tab:green", "tab:gray", "darkgreen", "silver"]
for ax, (task, (n_train, num_classes)) in zip(axes, tasks.items()):
    names = [name for name, _, _ in runs]
    ax.bar(names, [correct[task, n].mean() for n in names], color=colors)
    ax.axhline(1 / num_classes, color="k", linestyle="--", linewidth=1, label="chance")
    ax.set(ylim=(0, 1.05), ylabel=f"test accuracy (mean of {len(SEEDS)} seeds)", title=f"{task}: {n_train} training clips")
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    ax.legend(loc="upper right", fontsize=8)
fig.suptitle("Moving Digits: a pretrained 2D ResNet, inflated and fine-tuned, against the same 3D ResNet from scratch")
plt.show()

# %% [markdown]
# Read the verdicts above, not this text, for which way each comparison went on this run; what to
# look for:
#
# * **Digit, 60 clips.** The pretrained network already knows digits and center inflation keeps
#   that knowledge through fine-tuning; 60 clips are few to learn digits from scratch, even with
#   twice the epochs.
# * **Direction, 60 clips.** The label is pure motion, which the 2D network never saw. Compare the
#   verdict at the same 8 epochs with the one at 16: a network from scratch can fit its training
#   clips (compare the last training losses) and still generalize worse, and a longer schedule may
#   let it catch up. If the pretrained start wins at 8 epochs but not at 16, the pretrained
#   features buy a faster, more data-efficient start, not a better end point.
#
# Tiny networks and a toy data set: the method — same architecture, data, schedule and seeds, a
# scratch baseline given extra epochs, intervals over seeds — is the point, not the exact numbers.
# Carreira & Zisserman report the same direction on real data: ImageNet-inflated I3D beats I3D
# trained from scratch on UCF-101 and HMDB-51, and on Kinetics itself the gain is small.
#
# ## Summary
#
# * Inflation turns a k×k kernel into t×k×k: average (repeat, divide by t, I3D) or center (the 2D
#   kernel on frame t // 2). The frames of the 3D kernel sum to the 2D kernel, so on a boring clip
#   every inner frame gives the 2D response; without the 1/t it is t times too large.
# * The Conv3d triples put time first: (t, k_h, k_w), (s_t, s_h, s_w), (t // 2, p_h, p_w).
# * ReLU, pooling that keeps time, global pooling and batch norm with the 2D statistics all keep
#   a boring clip's frames equal to the 2D features, so a whole inflated network reproduces the 2D
#   logits — exactly with center inflation or replicate time padding, and away from the clip's
#   ends with I3D's zero padding.
# * I3D is Inception-v1 inflated: 12,697,264<!--05.i3d_params--> parameters at 400 classes.
# * Pretraining in 2D, inflating and fine-tuning against training the same 3D network from scratch
#   on few clips, at equal budgets, with intervals: the verdicts above say for which label and
#   which budget the pretrained start wins. Average inflation smears moving content; center
#   inflation keeps per-frame features (the zero-shot verdict).
#
# ## Exercises (not graded)
#
# 1. **Other splits of W.** Any 3D kernel whose frames sum to W satisfies the boring-video
#    property. Write an inflation that puts W/2 on the first and last frames. What does it
#    compute on a clip where the digit moves?
# 2. **Time strides.** Inflate `small_resnet2d` with time stride 2 in the stem (use `inflate_conv`
#    with `time_stride=2` on `model.stem[0]`). Does the boring-video property still hold? How do
#    the FLOPs change?
# 3. **How few clips?** Repeat the direction experiment with 40, 100 and 400 training clips. Where
#    does the scratch network catch up with the inflated one?
# 4. **Freeze the 2D features.** Fine-tune only the classifier of the center-inflated network on
#    the direction task. Can a network whose convolutions are frame-by-frame learn the direction?
#    Which layers must train?
# 5. **I3D's two streams.** The paper also trains I3D on optical flow (2 input channels). How do
#    you inflate an ImageNet stem with 3 input channels into a 2-channel one? Count the parameters
#    of `i3d(in_channels=2)`.
