"""Data-parallel training over several processes: ``course.train.fit``'s loop under ``torchrun``.

    torchrun --nproc_per_node 2 train_script.py        # the script calls fit_distributed(...)

Each process (rank) holds a full copy of the model wrapped in ``DistributedDataParallel`` (Li et al.
2020, "PyTorch Distributed: Experiences on Accelerating Data Parallel Training", VLDB), computes the
gradient of its share of every batch, and DDP averages the gradients across ranks during backward
(all-reduce, bucketed and overlapped with the backward pass), so every rank takes the same optimizer
step and the copies stay equal.

What makes the run equal to one process with the same global batch (``course.train.fit``):

    order      every rank draws the same seeded permutation and cuts the same global batches of
               ``batch_size`` items; rank r takes items r, r + W, r + 2W, … of each (W ranks), the
               split of ``torch.utils.data.DistributedSampler``, applied per batch
    loss       rank r's loss is (sum of its items' cross-entropies) · W / B for a global batch of B,
               so DDP's mean over ranks is the gradient of the global mean cross-entropy even when B
               is not a multiple of W: the mean of the ranks' gradients equals the gradient of the
               mean loss, up to float rounding (the sum is taken in another order)
    logging    the per-step loss and the epoch's accuracy are all-reduced, so every rank's History
               is the global one; only rank 0 shows a progress bar and writes checkpoints
    randomness dropout draws from seed + rank (each rank's items get their own masks), so a model
               with dropout follows the single-process run in distribution, not exactly

Batch norm normalizes with each rank's own items (B / W of them); ``sync_batchnorm=True`` converts
to ``nn.SyncBatchNorm`` (CUDA only), whose statistics cover the global batch. Backend: NCCL on CUDA
(one GPU per rank, ``cuda:LOCAL_RANK``), gloo on the CPU.
"""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from course.train import Data, History, _as_tensors, _load_checkpoint, _save_checkpoint

__all__ = ["rank_slice", "fit_distributed"]


def rank_slice(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """The items of one global batch that rank ``rank`` trains on: ``batch[rank::world_size]``.

    Args:
        batch: (B,) int64 item indices of one global batch.
        rank: 0 .. world_size - 1.
        world_size: number of processes W >= 1.

    Returns:
        (ceil((B - rank) / W),) int64 indices; over all ranks they partition ``batch``.

    Raises:
        ValueError: rank outside 0..W-1, or B < W (a rank would get no item).
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank must be in 0..world_size-1, got rank={rank}, world_size={world_size}")
    if len(batch) < world_size:
        raise ValueError(f"a batch of {len(batch)} items cannot feed {world_size} processes; choose batch_size "
                         f"and the data size so every batch (the last one too) has >= {world_size} items")
    return batch[rank::world_size]


def _setup(backend: str | None) -> tuple[int, int, torch.device, bool]:
    """(rank, world size, device, whether this call started the process group) under torchrun."""
    started = not dist.is_initialized()
    if started:
        if "RANK" not in os.environ:
            raise ValueError("fit_distributed runs under torchrun (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT "
                             "unset): `torchrun --nproc_per_node N script.py`, or init the process group first")
        dist.init_process_group(backend or ("nccl" if torch.cuda.is_available() else "gloo"))
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if dist.get_backend() == "nccl":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank % torch.cuda.device_count())))
        torch.cuda.set_device(dev)
    else:
        dev = torch.device("cpu")
    return rank, world_size, dev, started


def fit_distributed(model: nn.Module, train_data: Data, *, epochs: int, batch_size: int, lr: float,
                    seed: int = 0, one_cycle: bool = True, weight_decay: float = 0.0, progress: bool = True,
                    checkpoint: str | Path | None = None, sync_batchnorm: bool = False,
                    backend: str | None = None) -> History:
    """Train a classifier like ``course.train.fit``, data-parallel over the processes of ``torchrun``.

    Every rank calls this with the same model (rank 0's initial weights are broadcast), the same data
    and the same arguments; the model is trained in place on every rank.

    Args:
        model: maps inputs (B, ...) to logits (B, K).
        train_data: a tensor pair (inputs (N, ...), labels (N,) int64) or a Dataset of such items,
            the whole data set on every rank.
        epochs, batch_size, lr, seed, one_cycle, weight_decay: as in ``course.train.fit``;
            ``batch_size`` is the global batch B (each rank trains on about B / W items).
        progress: a tqdm bar on rank 0.
        checkpoint: a file rank 0 writes after every epoch (``course.train.fit``'s format: model,
            optimizer, scheduler, every rank's random state); a later run with the same arguments
            and world size resumes from it.
        sync_batchnorm: convert batch norms to ``nn.SyncBatchNorm`` (CUDA/NCCL only).
        backend: "gloo" or "nccl"; None picks NCCL when CUDA is present, else gloo. Used only when
            this call starts the process group (and then destroys it at the end).

    Returns:
        The global :class:`course.train.History` (same on every rank).

    Raises:
        ValueError: not under torchrun, a batch with fewer items than processes,
            ``sync_batchnorm`` off CUDA, or a checkpoint written with other arguments.
    """
    # 1. processes, device, data
    rank, world_size, dev, started = _setup(backend)
    inputs, labels = _as_tensors(train_data)
    for size in {batch_size, len(labels) % batch_size or batch_size}:
        rank_slice(torch.arange(size), rank, world_size)  # raises if a batch cannot feed every rank
    if sync_batchnorm and dev.type != "cuda":
        raise ValueError("sync_batchnorm=True needs CUDA (nn.SyncBatchNorm); on the CPU pass sync_batchnorm=False")
    # 2. model, DDP, optimizer, schedule (the same on every rank)
    model.to(dev).train()
    ddp = DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(model) if sync_batchnorm else model,
                                  device_ids=[dev] if dev.type == "cuda" else None)
    steps_per_epoch = -(-len(labels) // batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
                 if one_cycle else None)
    shuffle = torch.Generator().manual_seed(seed)
    path = None if checkpoint is None else Path(checkpoint)
    config = dict(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, one_cycle=one_cycle,
                  weight_decay=weight_decay, amp=None, num_items=len(labels), world_size=world_size)
    history, start, first_epoch = History(), time.perf_counter(), 0
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed + rank)
        # 3. resume from rank 0's file
        if path is not None and path.exists():
            saved = _load_checkpoint(path, config)
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(saved["scheduler"])
            shuffle.set_state(saved["shuffle_rng"])
            torch.set_rng_state(saved["cpu_rng"][rank])
            history = History(**saved["history"])
            first_epoch, start = saved["epoch"], start - history.seconds
        bar = tqdm(range(first_epoch, epochs), desc=f"{type(model).__name__} ×{world_size}", leave=False,
                   disable=not progress or rank != 0, initial=first_epoch, total=epochs)
        for epoch in bar:
            # 4. one epoch: every rank its slice of each global batch
            total = torch.zeros(2, dtype=torch.float64, device=dev)  # (summed loss, correct) over the epoch
            epoch_start = time.perf_counter()
            for batch in torch.randperm(len(labels), generator=shuffle).split(batch_size):
                mine = rank_slice(batch, rank, world_size)
                x, y = inputs[mine].to(dev, non_blocking=True), labels[mine].to(dev, non_blocking=True)
                logits = ddp(x)  # (B / W, K)
                loss_sum = F.cross_entropy(logits, y, reduction="sum")
                optimizer.zero_grad(set_to_none=True)
                (loss_sum * world_size / len(batch)).backward()  # DDP divides by W: the global mean
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                step = torch.stack([loss_sum.detach().double(), (logits.argmax(1) == y).sum().double()])
                dist.all_reduce(step)  # (global loss sum, global correct)
                history.step_loss.append(step[0].item() / len(batch))
                total += step
            # 5. log the global numbers; rank 0 saves
            history.loss.append(total[0].item() / len(labels))
            history.accuracy.append(total[1].item() / len(labels))
            history.samples_per_second.append(len(labels) / (time.perf_counter() - epoch_start))
            history.seconds = time.perf_counter() - start
            bar.set_postfix(loss=f"{history.loss[-1]:.3f}", acc=f"{history.accuracy[-1]:.3f}",
                            samples_s=f"{history.samples_per_second[-1]:.1f}")
            if path is not None:
                _save_rank0(path, rank, world_size, dict(
                    config=config, epoch=epoch + 1, model=model.state_dict(), optimizer=optimizer.state_dict(),
                    scheduler=None if scheduler is None else scheduler.state_dict(), scaler=None,
                    shuffle_rng=shuffle.get_state(), cuda_rng=None, history=dataclasses.asdict(history)))
    history.seconds = time.perf_counter() - start
    if started:
        dist.destroy_process_group()
    return history


def _save_rank0(path: Path, rank: int, world_size: int, state: dict) -> None:
    """Gather every rank's CPU random state, let rank 0 write the checkpoint, and wait for it."""
    rng_states: list = [None] * world_size
    dist.all_gather_object(rng_states, torch.get_rng_state())
    if rank == 0:
        _save_checkpoint(path, {**state, "cpu_rng": rng_states})
    dist.barrier()  # no rank runs ahead of a checkpoint it may have to resume from
