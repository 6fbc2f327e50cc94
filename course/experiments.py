"""Full-size configurations of the lessons' models, one command each, with the tiny twin that CI runs.

The lessons train small models on a CPU in seconds. Each entry of :data:`EXPERIMENTS` pairs that
small configuration with the full-size one of the paper the lesson follows:

    name         lesson                   tiny (default; CPU seconds)      --full (a GPU)
    timesformer  08_video_transformers    TimeSformer D=32, 2 blocks,      TimeSformer-B/16, divided attention,
                                          1×8×32², 4 classes               3×8×224², 400 classes, batch 8, bf16
    r2plus1d     04_factorized_conv       small R(2+1)D, 1×8×32²           R(2+1)D-18 (torchvision's), 3×16×112²,
                                                                           400 classes, batch 32, bf16, channels_last
    i3d          05_inflation             lesson 05's inflated small       I3D (inflated Inception-v1), 3×64×224²,
                                          ResNet, 1×8×32²                  400 classes, batch 8, bf16, channels_last
    unet3d       11_unet3d_patches        UNet3D (8, 16, 32), MNI152 at    UNet3D (32, 64, 128, 256, 320, 320),
                                          2 mm, 24³ patches, batch 4       6 stages, instance norm, MNI152 at 1 mm,
                                                                           128³ patches, batch 2, bf16, channels_last
    capstone     15_capstone_video_to_ct  the experiment's small R(2+1)D   the same on 320 site-A blocks; then the
                                          on 8 blocks; the protocol shrunk whole protocol of transfer_experiment
                                          (2 seeds, N = 4, 1 step)         (pretrain if weights are missing, run,
                                                                           report)

    python -m course.experiments list
    python -m course.experiments NAME [--full] [--device cuda] [--steps 20] [--epochs 2] [--batch-size B]
        [--amp bf16|fp16|none] [--channels-last | --no-channels-last] [--compile] [--grad-checkpointing]
        [--checkpoint PATH] [--seed 0] [--json build/experiments/NAME.json] [--out FOLDER] [--no-progress]

Every run trains with the lessons' loop, :func:`course.train.fit` (Adam, one-cycle, cross-entropy;
its opt-in bf16/fp16 autocast, channels_last, ``torch.compile`` and resumable checkpoints); the
U-Net, whose labels are per voxel, with :func:`fit_dense`, the same loop with nnU-Net's Dice +
cross-entropy loss, and :func:`course.checkpointing.checkpoint_unet3d` for gradient checkpointing. ``--steps`` caps the
optimiser steps per epoch (the data set is cut to steps × batch samples); with two or more epochs
the last epoch's samples/s is measured after warm-up (cuDNN autotuning, compilation). The run
prints parameters, the loss and samples/s of each epoch and writes a JSON summary.

Data (nothing is downloaded). Video: generated Moving Digits (real 8×8 handwritten digits of
scikit-learn, upsampled; :mod:`course.data.moving_digits`) on a canvas of the model's size, the
digit and its speed scaled with the canvas (12 px and 2 px/frame per 32 px), grey copied to 3
channels for the RGB models. No real video of 224² and 64 frames ships with the packages, so
the full-size video runs train on generated clips, with the 400-way Kinetics head of the published
models (the labels use 4 of its classes); the output says so. Volumes: the real MNI152 T1 template
(:mod:`course.data.mni152`) with the lessons' labels from its tissue maps; at 1 mm a 128³ patch is
wider than one hemisphere, so the full run samples both (the template is mirror-symmetric: no
hemisphere is held out, it measures training, not generalisation). Capstone: the generated chest CT
candidate blocks of :mod:`course.transfer_experiment`.

Parameter counts of the full models at 400 classes, against the published ones (tests/test_experiments.py):

    TimeSformer-B/16 8×224²   121,566,352  = Hugging Face TimesformerForVideoClassification (400 labels);
                                              the paper (Bertasius et al. 2021, Table 1) rounds to 121.4 M
    R(2+1)D-18                 31,505,325  = torchvision r2plus1d_18 (its weights' metadata: 31,505,325)
    I3D                        12,697,264  with the 400-way logits; 12,287,264 ≈ 12.3 M without them
                                              (Carreira & Zisserman 2017, Table 1: 12 M)
    UNet3D 6 stages             31,194,083  nnU-Net's PlainConvUNet with the same stages: 31,196,399
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

from course import device as default_device
from course.checkpointing import checkpoint_unet3d
from course.counting import count_params
from course.losses import dice_ce_loss
from course.nn.inception3d import i3d
from course.nn.inflation import inflate_model, small_resnet2d
from course.nn.resnet3d import r2plus1d_18, small_video_resnet
from course.nn.timesformer import TimeSformer
from course.nn.unet3d import UNet3D
from course.train import History, _amp_context, _load_checkpoint, _memory_format, _save_checkpoint, fit

__all__ = ["Experiment", "EXPERIMENTS", "experiment", "make_data", "build_model", "fit_dense", "run",
           "run_capstone_protocol", "main"]

DATA_SOURCES = ("moving_digits", "mni152", "capstone")


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One named training configuration: model, input, data, and the knobs of :func:`course.train.fit`.

    Attributes:
        name: the registry's name (``python -m course.experiments NAME``).
        lesson: the lesson id whose model it is.
        full: True for the full-size configuration, False for the tiny one.
        build: a builder called as ``build(**model_args)``; returns an ``nn.Module`` mapping
            (B, *input_shape) to logits (B, num_classes) or (B, num_classes, D, H, W).
        model_args: keyword arguments of ``build``.
        input_shape: one sample without the batch axis: (C, T, H, W) for clips, (C, D, H, W) volumes.
        num_classes: outputs of the model's head (the labels use the first classes only when the
            data has fewer).
        data: where the samples come from, one of :data:`DATA_SOURCES`.
        data_args: extra arguments of the data source (``label`` of Moving Digits, ``spacing`` in
            mm of MNI152).
        num_train: samples per epoch (``--steps`` cuts it to steps × batch_size).
        batch_size, epochs, lr: of :func:`course.train.fit`.
        amp: None, "bf16" or "fp16" (autocast; fp16 needs CUDA).
        channels_last: ``channels_last_3d`` memory format for model and batches.
        compile: ``torch.compile`` the model.
        grad_checkpointing: recompute each U-Net level in backward (UNet3D only).
        published_params: the parameter count of the published model, or None (the lesson's own).
        published: where ``published_params`` comes from.
    """

    name: str
    lesson: str
    full: bool
    build: Callable[..., nn.Module]
    model_args: dict
    input_shape: tuple[int, ...]
    num_classes: int
    data: str
    data_args: dict = dataclasses.field(default_factory=dict)
    num_train: int = 64  # samples per epoch
    batch_size: int = 4
    epochs: int = 1
    lr: float = 1e-3
    amp: str | None = None  # "bf16" or "fp16" on a GPU
    channels_last: bool = False
    compile: bool = False
    grad_checkpointing: bool = False
    published_params: int | None = None
    published: str = ""


def _inflated_resnet(*, num_classes: int, in_channels: int = 1, time_dim: int = 3) -> nn.Module:
    """Lesson 05's network: the small 2D ResNet inflated to 3D (I3D's recipe at toy scale)."""
    return inflate_model(small_resnet2d(num_classes=num_classes, in_channels=in_channels), time_dim)


def _capstone_model(**kwargs) -> nn.Module:
    from course.transfer import transfer_model  # the capstone's builder (imports the data generators)

    return transfer_model(**kwargs)


def _registry() -> dict[str, tuple[Experiment, Experiment]]:
    """name → (tiny, full)."""
    E = Experiment
    return {
        "timesformer": (
            E("timesformer", "08_video_transformers", False, TimeSformer,
              dict(image_size=32, patch_size=16, num_frames=8, hidden_size=32, num_layers=2, num_heads=2,
                   num_classes=4, in_channels=1, intermediate_size=64), (1, 8, 32, 32), 4, "moving_digits",
              dict(label="direction"), num_train=64, batch_size=32, epochs=1, lr=3e-3),
            E("timesformer", "08_video_transformers", True, TimeSformer,
              dict(image_size=224, patch_size=16, num_frames=8, hidden_size=768, num_layers=12, num_heads=12,
                   num_classes=400, in_channels=3), (3, 8, 224, 224), 400, "moving_digits",
              dict(label="direction"), num_train=1024, batch_size=8, epochs=2, lr=1e-4, amp="bf16",
              published_params=121_566_352,
              published="Hugging Face TimesformerForVideoClassification, base config, 400 labels "
                        "(Bertasius et al. 2021, Table 1: 121.4 M)")),
        "r2plus1d": (
            E("r2plus1d", "04_factorized_conv", False, small_video_resnet,
              dict(kind="r2plus1d", num_classes=4, in_channels=1), (1, 8, 32, 32), 4, "moving_digits",
              dict(label="direction"), num_train=64, batch_size=32, epochs=1, lr=1e-2),
            E("r2plus1d", "04_factorized_conv", True, r2plus1d_18, dict(num_classes=400), (3, 16, 112, 112), 400,
              "moving_digits", dict(label="direction"), num_train=4096, batch_size=32, epochs=2, lr=1e-3,
              amp="bf16", channels_last=True, published_params=31_505_325,
              published="torchvision.models.video.r2plus1d_18, 400 classes (weights metadata num_params)")),
        "i3d": (
            E("i3d", "05_inflation", False, _inflated_resnet, dict(num_classes=4), (1, 8, 32, 32), 4,
              "moving_digits", dict(label="direction"), num_train=64, batch_size=32, epochs=1, lr=3e-3),
            E("i3d", "05_inflation", True, i3d, dict(num_classes=400), (3, 64, 224, 224), 400, "moving_digits",
              dict(label="direction"), num_train=512, batch_size=8, epochs=2, lr=1e-3, amp="bf16",
              channels_last=True, published_params=12_697_264,
              published="Inception-v1 inflated, affine batch norm, 400-way logits; 12,287,264 (≈ 12.3 M) "
                        "without them (Carreira & Zisserman 2017, Table 1: 12 M)")),
        "unet3d": (
            E("unet3d", "11_unet3d_patches", False, UNet3D,
              dict(in_channels=1, out_channels=3, channels=(8, 16, 32), norm="batch"), (1, 24, 24, 24), 3,
              "mni152", dict(spacing=2), num_train=16, batch_size=4, epochs=1, lr=1e-2, channels_last=True),
            E("unet3d", "11_unet3d_patches", True, UNet3D,
              dict(in_channels=1, out_channels=3, channels=(32, 64, 128, 256, 320, 320), norm="instance"),
              (1, 128, 128, 128), 3, "mni152", dict(spacing=1), num_train=250, batch_size=2, epochs=2, lr=1e-3,
              amp="bf16", channels_last=True, published_params=31_196_399,
              published="nnU-Net's PlainConvUNet (dynamic_network_architectures), the same 6 stages, "
                        "instance norm, 3 classes")),
        "capstone": (
            E("capstone", "15_capstone_video_to_ct", False, _capstone_model,
              dict(arch="r2plus1d", num_classes=2, in_channels=1, num_frames=16, size=24), (1, 16, 24, 24), 2,
              "capstone", dict(cohort=(11, "A", 8)), num_train=8, batch_size=8, epochs=1, lr=3e-3),
            E("capstone", "15_capstone_video_to_ct", True, _capstone_model,
              dict(arch="r2plus1d", num_classes=2, in_channels=1, num_frames=16, size=24), (1, 16, 24, 24), 2,
              "capstone", dict(cohort=(11, "A", 320)), num_train=320, batch_size=16, epochs=10, lr=3e-3)),
    }


#: name → (tiny, full) configurations.
EXPERIMENTS: dict[str, tuple[Experiment, Experiment]] = _registry()


def experiment(name: str, full: bool = False) -> Experiment:
    """The tiny (default) or full configuration of a registered experiment.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {sorted(EXPERIMENTS)} "
                         f"(`python -m course.experiments list`)")
    return EXPERIMENTS[name][1 if full else 0]


def build_model(exp: Experiment, **overrides) -> nn.Module:
    """``exp.build(**exp.model_args, **overrides)``, gradient-checkpointed when the config asks for it.

    Raises:
        ValueError: ``grad_checkpointing`` on a model that is not a UNet3D.
    """
    model = exp.build(**{**exp.model_args, **overrides})
    if exp.grad_checkpointing:
        if not isinstance(model, UNet3D):
            raise ValueError(f"grad_checkpointing wraps the levels of a UNet3D; {exp.name} builds "
                             f"{type(model).__name__}: leave it off")
        checkpoint_unet3d(model)
    return model


def _moving_digits(exp: Experiment, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    from course.data.moving_digits import moving_digits

    channels, frames, size, _ = exp.input_shape
    digit, speed = round(12 * size / 32), max(1, round(2 * size / 32))  # the lessons' 12 px, 2 px/frame at 32 px
    videos, labels = moving_digits(n, label=exp.data_args.get("label", "direction"), num_frames=frames, size=size,
                                   seed=seed, digit_size=digit, speed=speed)  # (n, 1, T, S, S), (n,)
    note = (f"Moving Digits (generated: real 8×8 digits upsampled to {digit} px, {speed} px/frame, on a {size}² "
            f"torus, {frames} frames)")
    if channels != 1:
        videos = videos.expand(-1, channels, -1, -1, -1)  # grey as RGB, a view: no copy
        note += f", grey copied to {channels} channels"
    if size >= 112:
        note += "; synthetic input: no real video of this size ships with the installed packages"
    return videos, labels, note


def _mni152(exp: Experiment, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    from course.data.mni152 import load_mni152
    from course.medical.normalize import zscore
    from course.patches import sample_patches

    spacing = exp.data_args.get("spacing", 2)
    brain = load_mni152(spacing=spacing)
    volume = torch.from_numpy(zscore(brain.t1, brain.labels > 0))[None]  # (1, X, Y, Z), brain mean 0, std 1
    labels = torch.from_numpy(brain.labels)  # (X, Y, Z) int64: 0 background, 1 grey, 2 white matter
    patch = tuple(exp.input_shape[1:])
    if any(p > s for p, s in zip(patch, labels.shape)):
        raise ValueError(f"{patch} patches do not fit the {tuple(labels.shape)} brain at {spacing} mm; use smaller "
                         f"patches or a finer grid")
    x, y = sample_patches(volume, labels, patch, n, foreground_ratio=0.5, seed=seed)  # (n, 1, *patch), (n, *patch)
    note = (f"MNI152 2009a T1 template (real, nilearn's file) at {spacing} mm, {tuple(labels.shape)} voxels, "
            f"labels background / grey / white matter from its tissue maps; {patch[0]}³ patches from both "
            f"hemispheres (mirror-symmetric template: nothing held out, this measures training)")
    return x, y, note


def _capstone(exp: Experiment, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    from course.transfer_experiment import CONFIG, candidate_clips

    cohort_seed, site, volumes = exp.data_args["cohort"]
    clips, labels = candidate_clips(cohort_seed, site, min(n, volumes), crop=CONFIG.crop)  # (n, 1, 16, 24, 24)
    note = (f"generated chest CT, site {site}, candidate blocks {CONFIG.crop} in the PE window "
            f"(course.transfer_experiment.candidate_clips), half with an embolus")
    return clips, labels, note


def make_data(exp: Experiment, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, str]:
    """``n`` training samples of an experiment and a sentence saying what they are.

    Returns:
        inputs (n, *exp.input_shape) float32; labels (n,) int64 (classification) or
        (n, D, H, W) int64 (segmentation); the description printed with the run.

    Raises:
        ValueError: an unknown data source, or patches larger than the volume.
    """
    sources = {"moving_digits": _moving_digits, "mni152": _mni152, "capstone": _capstone}
    if exp.data not in sources:
        raise ValueError(f"data must be one of {DATA_SOURCES}, got {exp.data!r}")
    return sources[exp.data](exp, n, seed)


def fit_dense(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, *, epochs: int, batch_size: int,
              lr: float, device: str | None = None, seed: int = 0, amp: str | None = None,
              channels_last: bool = False, compile: bool = False, checkpoint: str | Path | None = None,
              progress: bool = True) -> History:
    """:func:`course.train.fit` for segmentation: per-voxel labels and nnU-Net's Dice + cross-entropy loss.

    ``fit`` takes one label per sample; this is its loop (Adam, one-cycle, seeded batch order, the
    same autocast, memory format, compile and per-epoch atomic checkpoints) with labels (N, D, H, W)
    and :func:`course.losses.dice_ce_loss`. Resuming restores weights, optimizer, schedule, batch
    order and history (not the global random state: the U-Net draws no random numbers).

    Args:
        model: maps (B, C, D, H, W) to logits (B, K, D, H, W).
        inputs: (N, C, D, H, W) float32; labels: (N, D, H, W) int64 in [0, K).
        epochs, batch_size, lr, device, seed, amp, channels_last, compile, checkpoint, progress: as in ``fit``.

    Returns:
        A :class:`course.train.History` (``accuracy`` stays empty).

    Raises:
        ValueError: inputs and labels of different lengths, or what ``fit``'s options raise.
    """
    # 1. device, autocast, layout, optimiser, schedule
    if len(inputs) != len(labels) or labels.dim() != inputs.dim() - 1:
        raise ValueError(f"need inputs (N, C, D, H, W) and labels (N, D, H, W), got {tuple(inputs.shape)} and "
                         f"{tuple(labels.shape)}")
    dev = default_device(device)
    autocast, scaler = _amp_context(amp, dev)
    layout = _memory_format(inputs) if channels_last else torch.contiguous_format
    model.to(dev, memory_format=layout).train()
    forward = torch.compile(model) if compile else model
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr,
                                                    total_steps=epochs * -(-len(labels) // batch_size))
    shuffle, history, first = torch.Generator().manual_seed(seed), History(), 0
    config = dict(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, amp=amp, num_items=len(labels))
    path = None if checkpoint is None else Path(checkpoint)
    # 2. resume
    if path is not None and path.exists():
        saved = _load_checkpoint(path, config)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        shuffle.set_state(saved["shuffle_rng"])
        history, first = History(**saved["history"]), saved["epoch"]
    for epoch in tqdm(range(first, epochs), desc=type(model).__name__, disable=not progress, leave=False):
        # 3. one epoch
        epoch_start, losses = time.perf_counter(), []
        for batch in torch.randperm(len(labels), generator=shuffle).split(batch_size):
            x = inputs[batch].to(dev).contiguous(memory_format=layout)  # (B, C, D, H, W)
            y = labels[batch].to(dev)  # (B, D, H, W)
            with autocast:
                loss = dice_ce_loss(forward(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            (loss if scaler is None else scaler.scale(loss)).backward()
            if scaler is None:
                optimizer.step()
            else:
                scaler.step(optimizer)
                scaler.update()
            scheduler.step()
            losses.append(loss.item() * len(batch))
            history.step_loss.append(loss.item())
        # 4. log and save
        history.loss.append(sum(losses) / len(labels))
        history.samples_per_second.append(len(labels) / (time.perf_counter() - epoch_start))
        history.seconds += time.perf_counter() - epoch_start
        if path is not None:
            _save_checkpoint(path, dict(config=config, epoch=epoch + 1, model=model.state_dict(),
                                        optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                                        shuffle_rng=shuffle.get_state(), history=dataclasses.asdict(history)))
    return history


def run(exp: Experiment, *, device: str | None = None, steps: int | None = None, seed: int = 0,
        checkpoint: str | Path | None = None, progress: bool = True) -> dict:
    """Build, train with :func:`course.train.fit` and summarise one configuration.

    Args:
        exp: the configuration (see :func:`experiment`; ``dataclasses.replace`` changes a field).
        device: "cpu", "cuda", …; None: CUDA when present.
        steps: at most this many optimiser steps per epoch (samples = steps × batch_size); None: all.
        seed: seeds the data, the initial weights and the batch order.
        checkpoint: a file for fit's per-epoch checkpoints (resumed when present), or None.
        progress: tqdm bars.

    Returns:
        A JSON-ready dict: name, full, lesson, device, params, published_params, data (what it is),
        samples, batch_size, epochs, amp, channels_last, compile, grad_checkpointing, loss and
        samples_per_second per epoch, samples_per_second_last, seconds, output_shape (of one batch
        in eval mode), loss_finite.

    Raises:
        ValueError: ``steps`` < 1, or what :func:`make_data`, :func:`build_model` and fit raise.
    """
    # 1. data, cut to the steps asked for
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be >= 1 (or None for whole epochs), got {steps}")
    n = exp.num_train if steps is None else min(exp.num_train, steps * exp.batch_size)
    inputs, labels, note = make_data(exp, n, seed)
    # 2. the model, seeded
    torch.manual_seed(seed)
    model = build_model(exp)
    # 3. train with the lessons' loop
    train = fit_dense if labels.dim() > 1 else (lambda m, x, y, **kw: fit(m, (x, y), **kw))
    history: History = train(model, inputs, labels, epochs=exp.epochs, batch_size=exp.batch_size, lr=exp.lr,
                             device=device, seed=seed, amp=exp.amp, channels_last=exp.channels_last,
                             compile=exp.compile, checkpoint=checkpoint, progress=progress)
    # 4. one batch through the trained model, in eval mode
    dev = default_device(device)
    with torch.no_grad(), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=exp.amp == "bf16"):
        output = model.eval()(inputs[:exp.batch_size].to(dev))  # (B, K) or (B, K, D, H, W)
    return dict(name=exp.name, full=exp.full, lesson=exp.lesson, device=str(dev),
                params=count_params(model), published_params=exp.published_params, published=exp.published,
                data=note, samples=len(labels), batch_size=exp.batch_size, epochs=exp.epochs, amp=exp.amp,
                channels_last=exp.channels_last, compile=exp.compile, grad_checkpointing=exp.grad_checkpointing,
                loss=history.loss, samples_per_second=history.samples_per_second,
                samples_per_second_last=history.samples_per_second[-1], seconds=history.seconds,
                output_shape=list(output.shape), loss_finite=all(math.isfinite(v) for v in history.step_loss))


def _tiny_protocol_config():
    from course.transfer_experiment import Config

    return Config(pretrain_clips=8, pretrain_epochs=1, pretrain_batch=8, fine_tune_steps=1, fine_tune_batch=8,
                  train_sizes=(4,), seeds=(0, 1), train_cohort=(11, "A", 8), test_cohort=(12, "B", 8),
                  heldout_cohort=(13, "A", 6), num_resamples=20)


def run_capstone_protocol(out: Path, *, full: bool, progress: bool = True) -> dict:
    """The capstone's whole experiment (:mod:`course.transfer_experiment`), full or shrunk, into ``out``.

    Full: the shipped weights when ``course/data/transfer/weights/SHA256SUMS`` exists, else every arm
    is pretrained into ``out/weights`` first; then every arm × architecture × N × seed is fine-tuned
    (:func:`course.transfer_experiment.run_all`, on the CPU: the module fixes it for bit-for-bit
    weights) and the comparisons and verdicts are computed. Tiny: the same steps with 8 pretraining
    clips, two seeds (the bootstrap needs two), N = 4, one fine-tuning step, 8 test volumes
    (seconds; the numbers mean nothing).

    Returns:
        {"config", "runs", "seconds", "comparisons" (rows), "verdicts" (per N)}.
    """
    from course import transfer_experiment as te

    config, start = (te.CONFIG if full else _tiny_protocol_config()), time.perf_counter()
    weights = te.FILES / "weights"
    if not (full and (weights / "SHA256SUMS").exists()):
        weights = out / "weights"
        if not (weights / "SHA256SUMS").exists():
            sums = te.pretrain_all(weights, config=config, progress=progress)
            (weights / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
    te.run_all(out, config=config, progress=progress, weights=weights)
    rows = te.comparisons(te.read_scores(out), config=config)
    return dict(config=dataclasses.asdict(config), runs=len(te.read_results(out)),
                seconds=time.perf_counter() - start, comparisons=rows,
                verdicts={str(n): te.verdicts(rows, n) for n in config.train_sizes})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m course.experiments", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=[*EXPERIMENTS, "list"], help="an experiment, or `list`")
    parser.add_argument("--full", action="store_true", help="the full-size configuration (default: the tiny one)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when present)")
    parser.add_argument("--steps", type=int, default=None, help="at most this many steps per epoch")
    parser.add_argument("--epochs", type=int, default=None, help="override the configuration's epochs")
    parser.add_argument("--batch-size", type=int, default=None, help="override the configuration's batch size")
    parser.add_argument("--amp", choices=("bf16", "fp16", "none"), default=None, help="override autocast")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--grad-checkpointing", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--checkpoint", type=Path, default=None, help="per-epoch checkpoint file (resumes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None,
                        help="summary file (default build/experiments/NAME[-full].json)")
    parser.add_argument("--out", type=Path, default=None,
                        help="capstone: folder of the protocol's results (default build/experiments/capstone[-full])")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    args = parser.parse_args(argv)
    for name in ("steps", "epochs", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.device and args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: torch sees no CUDA device; use --device cpu")
    return args


def _configure(args: argparse.Namespace) -> Experiment:
    """The registered configuration with the command line's overrides."""
    exp = experiment(args.name, args.full)
    changes = {field: getattr(args, field) for field in ("epochs", "batch_size", "channels_last", "compile",
                                                         "grad_checkpointing") if getattr(args, field) is not None}
    if args.amp is not None:
        changes["amp"] = None if args.amp == "none" else args.amp
    return dataclasses.replace(exp, **changes)


def _print(summary: dict) -> None:
    published = summary["published_params"]
    print(f"{summary['name']} ({'full' if summary['full'] else 'tiny'}, lesson {summary['lesson']}) on "
          f"{summary['device']}: {summary['params']:,} parameters"
          + (f" (published {published:,}: {summary['published']})" if published else ""))
    print(f"data: {summary['data']}")
    print(f"{summary['samples']} samples, batch {summary['batch_size']}, amp {summary['amp']}, channels_last "
          f"{summary['channels_last']}, compile {summary['compile']}, gradient checkpointing "
          f"{summary['grad_checkpointing']}; output {tuple(summary['output_shape'])}")
    for epoch, (loss, speed) in enumerate(zip(summary["loss"], summary["samples_per_second"]), 1):
        print(f"epoch {epoch}: loss {loss:.4f}, {speed:.1f} samples/s" + (" (includes warm-up)" if epoch == 1 else ""))


def main(argv: list[str] | None = None) -> dict | None:
    """Run one experiment from the command line; print it and write its JSON summary (returned)."""
    args = parse_args(argv)
    if args.name == "list":
        for name, (tiny, full) in EXPERIMENTS.items():
            print(f"{name:<12} lesson {tiny.lesson:<24} tiny {tiny.input_shape}, full {full.input_shape} "
                  f"batch {full.batch_size} amp {full.amp}")
        return None
    exp = _configure(args)
    suffix = "-full" if exp.full else ""
    checkpoint = args.checkpoint
    summary = run(exp, device=args.device, steps=args.steps, seed=args.seed, checkpoint=checkpoint,
                  progress=not args.no_progress)
    _print(summary)
    if exp.data == "capstone":
        if args.steps is not None:
            print("capstone protocol skipped (--steps given: only the fine-tuning run above was measured)")
        else:
            out = args.out or Path("build") / "experiments" / f"capstone{suffix}"
            summary["protocol"] = run_capstone_protocol(out, full=exp.full, progress=not args.no_progress)
            print(f"protocol: {summary['protocol']['runs']} fine-tuning runs in {summary['protocol']['seconds']:.0f} s "
                  f"(results in {out}); verdicts {summary['protocol']['verdicts']}"
                  + ("" if exp.full else " (tiny: this checks that the protocol runs; its verdicts mean nothing)"))
    path = args.json or Path("build") / "experiments" / f"{exp.name}{suffix}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, default=str))
    print(f"summary: {path}")
    return summary


if __name__ == "__main__":
    main()
