"""Beyond 2D reference library: the tested versions of everything the lessons build from scratch.

Subpackages:
    course.video     decoding (PyAV), temporal sampling, clip layouts and memory arithmetic
    course.medical   DICOM, Hounsfield units and display windows, DICOM series loading; NIfTI,
                     orientation (axcodes, reorient), resampling to a spacing, MRI z-score, augmentation
    course.data      locators of real sample files shipped by installed packages; seeded generators
                     (CT phantom as a DICOM series, Moving Digits videos); the MNI152 template
    course.nn        3D convolution from scratch, fusion baselines, (2+1)D / P3D, R3D-family builders,
                     inflation and I3D, two-stream, LRCN, attention, TimeSformer, ViViT, 3D U-Net
    course.patches   patch sampling, Gaussian weights and sliding-window inference (stitching)
    course.losses    soft Dice loss (Milletari et al. 2016)
    course.metrics   hard Dice per class, HD95, lesion detection rate and lesion-wise F1
    course.roc       ROC curve, AUROC (Mann–Whitney), paired bootstrap of an AUROC difference
    course.transfer  video → CT transfer: CT volumes as clips, pretraining clips and arms, the shuffle control
    course.transfer_experiment  the capstone's experiment: arms × architectures × N × seeds, decision rules
    course.counting  parameters, FLOPs (torch.utils.flop_counter) and activation memory
    course.train     one small training loop (Adam + one-cycle, tqdm, seeded); opt-in bf16/fp16 AMP,
                     channels_last, torch.compile, per-epoch checkpoints with bit-exact resume
    course.checkpointing  gradient checkpointing for the 3D U-Net (Chen et al. 2016)
    course.distributed    the same loop data-parallel under torchrun (DDP; gloo on CPU, NCCL on GPU)
    course.experiments    named tiny and full-size configurations of the lessons' models (python -m course.experiments)
    course.viz       matplotlib figures and ipywidgets viewers

Layouts (one per kind of data): clips (N, C, T, H, W) for Conv3d and (N, T, C, H, W) when frames
are handled one by one; volumes (N, C, D, H, W), a single volume (D, H, W).
"""
from __future__ import annotations

import torch

__all__ = ["device"]


def device(prefer: str | None = None) -> torch.device:
    """The device lessons and training run on: CUDA when present, else the CPU.

    Args:
        prefer: force a device ("cpu", "cuda", "cuda:1"); None picks CUDA when available.

    Returns:
        A ``torch.device``.

    Raises:
        RuntimeError: ``prefer`` names CUDA but no CUDA device is available.
    """
    if prefer is not None:
        dev = torch.device(prefer)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {prefer!r} asked for, but torch sees no CUDA device; use 'cpu'")
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
