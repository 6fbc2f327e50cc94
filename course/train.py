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
"""
from __future__ import annotations

import dataclasses
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset, TensorDataset
from tqdm.auto import tqdm

from course import device as default_device

__all__ = ["History", "fit", "evaluate", "accuracy"]

Data = Dataset | tuple[torch.Tensor, torch.Tensor]


@dataclasses.dataclass
class History:
    """What :func:`fit` measured, one entry per epoch.

    Attributes:
        loss: mean training cross-entropy of each epoch (nats).
        accuracy: training accuracy of each epoch, in [0, 1], measured on the batches as they
            were trained (the model changes during the epoch).
        seconds: wall-clock time of the whole fit, in seconds.
    """

    loss: list[float] = dataclasses.field(default_factory=list)
    accuracy: list[float] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


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


def fit(model: nn.Module, train_data: Data, *, epochs: int, batch_size: int, lr: float,
        device: torch.device | str | None = None, seed: int = 0, one_cycle: bool = True,
        weight_decay: float = 0.0, progress: bool = True) -> History:
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
        progress: show a tqdm bar with the loss and accuracy of each epoch.

    Returns:
        A :class:`History` (loss and accuracy per epoch, total seconds).
    """
    dev = default_device(None if device is None else str(device))
    inputs, labels = _as_tensors(train_data)
    steps_per_epoch = -(-len(labels) // batch_size)  # ceil
    model.to(dev).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
                 if one_cycle else None)
    shuffle = torch.Generator().manual_seed(seed)
    history, start = History(), time.perf_counter()
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        bar = tqdm(range(epochs), desc=type(model).__name__, disable=not progress, leave=False)
        for _ in bar:
            total_loss, correct = 0.0, 0
            for batch in torch.randperm(len(labels), generator=shuffle).split(batch_size):
                x, y = inputs[batch].to(dev, non_blocking=True), labels[batch].to(dev, non_blocking=True)
                logits = model(x)  # (B, K)
                loss = F.cross_entropy(logits, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total_loss += loss.item() * len(y)
                correct += int((logits.argmax(1) == y).sum())
            history.loss.append(total_loss / len(labels))
            history.accuracy.append(correct / len(labels))
            bar.set_postfix(loss=f"{history.loss[-1]:.3f}", acc=f"{history.accuracy[-1]:.3f}")
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
    dev = default_device(None if device is None else str(device))
    inputs, labels = _as_tensors(data)
    model.to(dev).eval()
    logits = torch.cat([model(x.to(dev)).cpu() for x in inputs.split(batch_size)])  # (N, K)
    return accuracy(logits, labels)
