"""One small training loop for every lesson: Adam, a one-cycle learning rate, cross-entropy, tqdm.

    history = fit(model, (videos, labels), epochs=4, batch_size=64, lr=3e-3)
    acc = evaluate(model, (test_videos, test_labels))

Data is either a pair of tensors ``(inputs, labels)`` — inputs (N, ...) of any layout the model
reads, labels (N,) int64 class indices — or a ``torch.utils.data.Dataset`` whose items are
``(input, label)`` (a ``TensorDataset`` such as ``course.data.MovingDigits`` is used as its tensors
directly). The small data sets of the lessons fit in memory, so batches are cut from the tensors
with a seeded permutation instead of going through a DataLoader.

The learning-rate schedule is the one-cycle policy (Smith & Topin 2019, "Super-Convergence"),
``torch.optim.lr_scheduler.OneCycleLR``: warm up to ``lr`` over the first 30 % of the steps, then
anneal to almost zero. It makes a few epochs of Adam (Kingma & Ba 2015) reach a good accuracy
without tuning, which is what a lesson with a 90-second budget needs.

Opt-in extras for larger runs (all off by default; with them off, ``fit`` computes exactly what it
always did, bit for bit):

    amp="bf16" | "fp16"     mixed precision: ``torch.autocast`` around forward and loss; "fp16" also
                            scales the loss with ``torch.amp.GradScaler`` (CUDA only). PyTorch docs,
                            "Automatic Mixed Precision package - torch.amp"; Micikevicius et al. 2018.
    channels_last=True      the model and each batch in ``torch.channels_last_3d`` (5-D) or
                            ``torch.channels_last`` (4-D) memory format, which cuDNN and oneDNN favour.
    compile=True            ``torch.compile(model)`` for the steps (the weights stay ``model``'s).
    checkpoint=PATH         save everything the next epoch depends on (weights, optimizer, scheduler,
                            scaler, random states, history) after every epoch, atomically; a later
                            call with the same arguments resumes from it and ends with the same
                            weights, bit for bit on the CPU, as a run that was never interrupted.

The progress bar shows the throughput (samples/s) of the last epoch; ``History.samples_per_second``
keeps it, and ``History.step_loss`` the loss of every step.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset, TensorDataset
from tqdm.auto import tqdm

from course import device as default_device

__all__ = ["History", "fit", "evaluate", "correct_per_clip", "accuracy"]

Data = Dataset | tuple[torch.Tensor, torch.Tensor]


@dataclasses.dataclass
class History:
    """What :func:`fit` measured, one entry per epoch.

    Attributes:
        loss: mean training cross-entropy of each epoch (nats).
        accuracy: training accuracy of each epoch, in [0, 1], measured on the batches as they
            were trained (the model changes during the epoch).
        seconds: wall-clock time of the whole fit, in seconds (summed over resumed runs).
        samples_per_second: training throughput of each epoch (items / wall-clock second, data
            transfer included).
        step_loss: the cross-entropy of every optimizer step, in order (nats).
    """

    loss: list[float] = dataclasses.field(default_factory=list)
    accuracy: list[float] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    samples_per_second: list[float] = dataclasses.field(default_factory=list)
    step_loss: list[float] = dataclasses.field(default_factory=list)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of rows whose highest score is the label.

    Args:
        logits: (N, K) class scores (logits, log-probabilities or probabilities: only the argmax
            matters).
        labels: (N,) int64 class indices in 0..K-1.

    Returns:
        A Python float in [0, 1].

    Raises:
        ValueError: the shapes do not match or N = 0.
    """
    if logits.dim() != 2 or labels.shape != logits.shape[:1] or len(labels) == 0:
        raise ValueError(f"expected logits (N, K) and labels (N,) with N >= 1, got {tuple(logits.shape)} "
                         f"and {tuple(labels.shape)}")
    return (logits.argmax(dim=1) == labels).float().mean().item()


def _as_tensors(data: Data) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs (N, ...), labels (N,)) of a tensor pair or a dataset of (input, label) items."""
    if isinstance(data, (tuple, list)):
        inputs, labels = data
    elif isinstance(data, TensorDataset):
        inputs, labels = data.tensors[0], data.tensors[1]
    else:
        items = [data[i] for i in range(len(data))]
        inputs = torch.stack([x for x, _ in items])
        labels = torch.as_tensor([int(y) for _, y in items])
    if len(inputs) != len(labels) or labels.dim() != 1:
        raise ValueError(f"inputs and labels must have the same length N and labels must be (N,), got "
                         f"{tuple(inputs.shape)} and {tuple(labels.shape)}")
    return inputs, labels.long()


_AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def _amp_context(amp: str | None, dev: torch.device) -> tuple[contextlib.AbstractContextManager,
                                                                torch.amp.GradScaler | None]:
    """The autocast context of the forward pass and, for fp16, the gradient scaler (PyTorch AMP docs)."""
    if amp is None:
        return contextlib.nullcontext(), None
    if amp not in _AMP_DTYPES:
        raise ValueError(f"amp must be None, 'bf16' or 'fp16', got {amp!r}")
    if amp == "fp16" and dev.type != "cuda":
        raise ValueError(f"amp='fp16' needs CUDA (float16 autocast with a GradScaler); on {dev.type} use "
                         f"amp='bf16' or amp=None")
    autocast = torch.autocast(device_type=dev.type, dtype=_AMP_DTYPES[amp])
    return autocast, (torch.amp.GradScaler(dev.type) if amp == "fp16" else None)


def _memory_format(inputs: torch.Tensor) -> torch.memory_format:
    """channels_last_3d for (N, C, D, H, W) inputs, channels_last for (N, C, H, W)."""
    if inputs.dim() == 5:
        return torch.channels_last_3d
    if inputs.dim() == 4:
        return torch.channels_last
    raise ValueError(f"channels_last=True needs inputs (N, C, H, W) or (N, C, D, H, W), got shape "
                     f"{tuple(inputs.shape)}; pass channels_last=False")


def _save_checkpoint(path: Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically: a temporary file in the same folder, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(handle)
    try:
        torch.save(state, temporary)
        os.replace(temporary, path)  # readers see the old file or the new one, never half of one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _load_checkpoint(path: Path, config: dict) -> dict:
    """Read a checkpoint of :func:`fit` (tensors and plain data only) and check it fits ``config``."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("config") != config:
        changed = {k: (state.get("config", {}).get(k), v) for k, v in config.items()
                   if state.get("config", {}).get(k) != v}
        raise ValueError(f"checkpoint {path} was written by a run with other arguments (saved, now): {changed}; "
                         f"pass resume=False to start over, or delete the file")
    return state


def fit(model: nn.Module, train_data: Data, *, epochs: int, batch_size: int, lr: float,
        device: torch.device | str | None = None, seed: int = 0, one_cycle: bool = True,
        weight_decay: float = 0.0, progress: bool = True, amp: str | None = None,
        channels_last: bool = False, compile: bool = False, checkpoint: str | Path | None = None,
        resume: bool = True) -> History:
    """Train a classifier with Adam and cross-entropy, in place.

    Args:
        model: maps a batch of inputs (B, ...) to logits (B, K). Moved to ``device``.
        train_data: a tensor pair (inputs (N, ...), labels (N,) int64) or a Dataset of such items.
        epochs: passes over the data, >= 1.
        batch_size: clips per step; the last, smaller batch of an epoch is kept.
        lr: the (peak) learning rate of Adam.
        device: where to train; None picks CUDA when present (``course.device()``).
        seed: fixes the order of the batches and any randomness inside the model (dropout), without
            touching the global random state. The model's initial weights are not set here: seed
            (``torch.manual_seed``) before building the model.
        one_cycle: use the one-cycle schedule peaking at ``lr``; False keeps ``lr`` constant.
        weight_decay: Adam's L2 penalty.
        progress: show a tqdm bar with the loss, accuracy and throughput (samples/s) of each epoch.
        amp: None (float32), "bf16" (``torch.autocast`` to bfloat16, CPU or CUDA) or "fp16"
            (float16 autocast and a ``torch.amp.GradScaler``, CUDA only). Weights, optimizer state
            and the loss reduction stay float32. Measured on a small Conv3d model on the CPU
            (tests/test_train.py): one bf16 step's loss is within 1 % (relative; measured 3e-6)
            of the float32 loss, and at least 95 % of the weights move in the same direction as
            in the float32 step (measured 99.4 %; Adam's first step is about lr · sign(gradient)).
        channels_last: store the model and every batch in ``torch.channels_last_3d`` (5-D inputs)
            or ``torch.channels_last`` (4-D); the result equals the default layout's up to float
            rounding (a different order of summation inside the convolutions; measured on the CPU:
            losses within 2.4e-7, weights within 7.8e-7 after 10 Adam steps).
        compile: run the steps through ``torch.compile(model)``; the parameters stay ``model``'s.
            Without dropout the result equals eager mode's up to rounding; compiled dropout draws
            its masks from another random stream. The first step compiles (tens of seconds).
        checkpoint: a file path, or None. After every epoch the weights, optimizer, scheduler,
            gradient scaler, random states and history are written to it (temporary file, then
            ``os.replace``, so an interruption never leaves half a file).
        resume: with ``checkpoint`` set and the file present, continue from it (its epochs are not
            run again); False starts over and overwrites it.

    Returns:
        A :class:`History` (loss, accuracy and samples/s per epoch, the loss of every step, total
        seconds), the earlier epochs' entries included when resumed.

    Raises:
        ValueError: inputs and labels of different lengths, an unknown ``amp`` or "fp16" off CUDA,
            ``channels_last`` with inputs that are not 4-D or 5-D, or a checkpoint written with
            other arguments (epochs, batch_size, lr, seed, one_cycle, weight_decay, amp, N).
    """
    # 1. data, device and the opt-in extras
    dev = default_device(None if device is None else str(device))
    inputs, labels = _as_tensors(train_data)
    autocast, scaler = _amp_context(amp, dev)
    memory_format = _memory_format(inputs) if channels_last else torch.contiguous_format
    steps_per_epoch = -(-len(labels) // batch_size)  # ceil
    # 2. model, optimizer, schedule
    model.to(dev).train()
    if channels_last:
        model.to(memory_format=memory_format)
    forward = torch.compile(model) if compile else model
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
                 if one_cycle else None)
    shuffle = torch.Generator().manual_seed(seed)
    history, start, first_epoch = History(), time.perf_counter(), 0
    path = None if checkpoint is None else Path(checkpoint)
    config = dict(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, one_cycle=one_cycle,
                  weight_decay=weight_decay, amp=amp, num_items=len(labels))
    cuda_devices = [dev] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        # 3. resume: every state the remaining epochs depend on
        if path is not None and resume and path.exists():
            saved = _load_checkpoint(path, config)
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(saved["scheduler"])
            if scaler is not None:
                scaler.load_state_dict(saved["scaler"])
            shuffle.set_state(saved["shuffle_rng"])
            torch.set_rng_state(saved["cpu_rng"])
            if cuda_devices and saved["cuda_rng"] is not None:
                torch.cuda.set_rng_state(saved["cuda_rng"], dev)
            history = History(**saved["history"])
            first_epoch, start = saved["epoch"], start - history.seconds
        bar = tqdm(range(first_epoch, epochs), desc=type(model).__name__, disable=not progress, leave=False,
                   initial=first_epoch, total=epochs)
        for epoch in bar:
            # 4. one epoch of steps
            total_loss, correct, epoch_start = 0.0, 0, time.perf_counter()
            for batch in torch.randperm(len(labels), generator=shuffle).split(batch_size):
                x, y = inputs[batch].to(dev, non_blocking=True), labels[batch].to(dev, non_blocking=True)
                if channels_last:
                    x = x.contiguous(memory_format=memory_format)
                with autocast:
                    logits = forward(x)  # (B, K)
                    loss = F.cross_entropy(logits, y)
                optimizer.zero_grad(set_to_none=True)
                if scaler is None:
                    loss.backward()
                    optimizer.step()
                else:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                if scheduler is not None:
                    scheduler.step()
                history.step_loss.append(loss.item())
                total_loss += history.step_loss[-1] * len(y)
                correct += int((logits.argmax(1) == y).sum())
            # 5. log, then save what the next epoch needs
            history.loss.append(total_loss / len(labels))
            history.accuracy.append(correct / len(labels))
            history.samples_per_second.append(len(labels) / (time.perf_counter() - epoch_start))
            history.seconds = time.perf_counter() - start
            bar.set_postfix(loss=f"{history.loss[-1]:.3f}", acc=f"{history.accuracy[-1]:.3f}",
                            samples_s=f"{history.samples_per_second[-1]:.1f}")
            if path is not None:
                _save_checkpoint(path, dict(
                    config=config, epoch=epoch + 1, model=model.state_dict(), optimizer=optimizer.state_dict(),
                    scheduler=None if scheduler is None else scheduler.state_dict(),
                    scaler=None if scaler is None else scaler.state_dict(), shuffle_rng=shuffle.get_state(),
                    cpu_rng=torch.get_rng_state(),
                    cuda_rng=torch.cuda.get_rng_state(dev) if cuda_devices else None,
                    history=dataclasses.asdict(history)))
    history.seconds = time.perf_counter() - start
    return history


@torch.no_grad()
def evaluate(model: nn.Module, data: Data, *, batch_size: int = 256,
             device: torch.device | str | None = None) -> float:
    """Accuracy of a classifier on a data set, in eval mode (BatchNorm uses its running statistics).

    Args:
        model: maps inputs (B, ...) to logits (B, K).
        data: a tensor pair (inputs (N, ...), labels (N,) int64) or a Dataset of such items.
        batch_size: clips per forward pass (memory only; the result does not depend on it).
        device: where to run; None picks CUDA when present.

    Returns:
        The fraction of correctly classified items, a Python float in [0, 1].
    """
    return float(correct_per_clip(model, data, batch_size=batch_size, device=device).mean())


def correct_per_clip(model: nn.Module, data: Data, *, batch_size: int = 256,
                     device: torch.device | str | None = None) -> np.ndarray:
    """Whether a classifier gets each item right: the per-item scores a paired comparison resamples.

    Eval mode (BatchNorm uses its running statistics), no gradients; the prediction is the class with
    the highest logit, as in :func:`accuracy`.

    Args:
        model: maps inputs (B, ...) to logits (B, K); moved to ``device``.
        data: a tensor pair (inputs (N, ...), labels (N,) int64) or a Dataset of such items.
        batch_size: items per forward pass (memory only; the result does not depend on it).
        device: where to run; None picks CUDA when present.

    Returns:
        (N,) float64 array, 1.0 where the prediction is the label, else 0.0; its mean is
        :func:`evaluate`'s accuracy. :func:`course.report.compare` takes two of them.

    Raises:
        ValueError: inputs and labels of different lengths, or labels not (N,).
    """
    dev = default_device(None if device is None else str(device))
    inputs, labels = _as_tensors(data)
    model.to(dev).eval()
    with torch.no_grad():
        predictions = torch.cat([model(x.to(dev)).argmax(1).cpu() for x in inputs.split(batch_size)])  # (N,)
    return (predictions == labels).double().numpy()
