"""bf16 training throughput and MFU of course's video and volume models beside peer implementations.

For the GPU machine (not part of `make test`). One run measures, side by side and with the same
training step (AMP bf16 autocast, Adam, cross-entropy, as ``course.train.fit(amp="bf16")`` takes it):

    family       course model                                   peer (skipped, with the reason, when
                                                                 its package is not importable)
    TimeSformer  course.nn.timesformer.TimeSformer, ViT-B/16,   transformers TimesformerForVideoClassification
                 divided space-time, 8 × 224², 400 classes      (same configuration, random weights)
    R(2+1)D-18   course.nn.resnet3d.r2plus1d_18, 16 × 112²      torchvision.models.video.r2plus1d_18
    3D U-Net     course.nn.unet3d.UNet3D(1, 2, (32, 64, 128,     monai.networks.nets.UNet, same widths,
                 256), instance norm), 96³ patches               2 residual units per level (MONAI's usual)

For each model the table gives parameters, training FLOPs per sample (one forward + backward step
counted by ``torch.utils.flop_counter.FlopCounterMode``, attention on its math kernel so that the
counter sees its two matmuls; 2 FLOPs per multiply-add; element-wise work counts 0), the best
throughput over ``--repeats`` timed windows of ``--steps`` steps after ``--warmup`` steps (samples
per second, CUDA synchronised), the step time, the peak memory, and the model FLOPs utilisation

    MFU = training FLOPs per step · steps per second / peak dense bf16 FLOP/s of the card

(Chowdhery et al. 2022, PaLM, appendix B: the model's FLOPs, not the hardware's, so recomputation
such as gradient checkpointing does not raise it). Peaks from the vendors' data sheets, dense (no
2:4 sparsity): see ``PEAK_BF16_TFLOPS``; an unknown card prints MFU as "—" unless ``--peak-tflops``
is given. Peers differ in detail from course's models (the table's parameter and FLOP columns show
how much); compare MFU and samples/s with that in mind.

    .venv/bin/python bench/gpu_train.py [--device cuda] [--models timesformer r2plus1d unet3d]
        [--batch-size N] [--steps 20] [--warmup 5] [--repeats 3] [--channels-last] [--compile]
        [--amp bf16|none] [--peak-tflops 989] [--json build/gpu_train.json]
    .venv/bin/python bench/gpu_train.py --device cpu --tiny     # seconds; checks the script runs
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course.counting import count_params  # noqa: E402
from course.nn.resnet3d import r2plus1d_18, small_video_resnet  # noqa: E402
from course.nn.timesformer import TimeSformer  # noqa: E402
from course.nn.unet3d import UNet3D  # noqa: E402

# Peak dense bf16 tensor-core throughput, TFLOP/s, by a substring of torch.cuda.get_device_name()
# (first match wins, so the more specific names come first). NVIDIA data sheets: H100 SXM5 989.4,
# H100 PCIe 756, H200 SXM 989 (the H100 SXM's compute with more memory), A100 312.
PEAK_BF16_TFLOPS: list[tuple[str, float]] = [
    ("H200", 989.0),
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.0),  # SXM5 (the name reads "NVIDIA H100 80GB HBM3")
    ("A100", 312.0),
]
FAMILIES = ("timesformer", "r2plus1d", "unet3d")


def peak_tflops(device_name: str) -> float | None:
    """Peak dense bf16 TFLOP/s of a card from its name, or None when the table does not know it."""
    for key, value in PEAK_BF16_TFLOPS:
        if key.lower() in device_name.lower():
            return value
    return None


@dataclasses.dataclass
class Case:
    """One model to measure: how to build it, its input, and its target."""

    family: str
    name: str
    build: Callable[[], nn.Module]
    input_shape: tuple[int, ...]  # one sample, without the batch axis
    num_classes: int
    dense: bool = False  # per-voxel labels (segmentation) instead of one per clip
    to_input: Callable[[torch.Tensor], torch.Tensor] = lambda x: x  # course layout → the model's layout
    logits: Callable[[object], torch.Tensor] = lambda out: out  # the model's output → logits


def _peer(module: str, attribute: str) -> tuple[object | None, str]:
    """An attribute of an optional package, or (None, why not)."""
    try:
        return getattr(importlib.import_module(module), attribute), ""
    except Exception as error:  # ImportError, or a package whose own imports fail
        return None, f"{module}.{attribute} not importable ({type(error).__name__}: {error})"


def cases(tiny: bool) -> tuple[list[Case], list[str]]:
    """The models of every family, course's first; and a line for each skipped peer."""
    skipped, out = [], []
    # TimeSformer: clips (N, C, T, H, W) for course, (N, T, C, H, W) for Hugging Face
    size, frames, width, layers, heads = (32, 2, 64, 2, 2) if tiny else (224, 8, 768, 12, 12)
    out.append(Case("timesformer", "course TimeSformer", lambda: TimeSformer(image_size=size, patch_size=16,
                                                                             num_frames=frames, hidden_size=width,
                                                                             num_layers=layers, num_heads=heads,
                                                                             num_classes=400),
                    (3, frames, size, size), 400))
    config_cls, why = _peer("transformers", "TimesformerConfig")
    model_cls, why2 = _peer("transformers", "TimesformerForVideoClassification")
    if config_cls is None or model_cls is None:
        skipped.append(why or why2)
    else:
        config = config_cls(image_size=size, patch_size=16, num_frames=frames, hidden_size=width,
                            num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=4 * width,
                            num_labels=400, attention_type="divided_space_time")
        out.append(Case("timesformer", "transformers Timesformer", lambda: model_cls(config),
                        (3, frames, size, size), 400, to_input=lambda x: x.transpose(1, 2),
                        logits=lambda o: o.logits))
    # R(2+1)D-18: clips (N, 3, T, H, W)
    shape = (3, 8, 32, 32) if tiny else (3, 16, 112, 112)
    out.append(Case("r2plus1d", "course r2plus1d_18",
                    (lambda: small_video_resnet("r2plus1d", num_classes=400)) if tiny else
                    (lambda: r2plus1d_18(num_classes=400)), shape, 400))
    tv, why = _peer("torchvision.models.video", "r2plus1d_18")
    if tv is None:
        skipped.append(why)
    else:
        out.append(Case("r2plus1d", "torchvision r2plus1d_18", lambda: tv(num_classes=400), shape, 400))
    # 3D U-Net: volumes (N, 1, D, H, W), per-voxel labels of 2 classes
    channels, side = ((4, 8, 16), 16) if tiny else ((32, 64, 128, 256), 96)
    out.append(Case("unet3d", "course UNet3D", lambda: UNet3D(1, 2, channels, norm="instance"),
                    (1, side, side, side), 2, dense=True))
    monai_unet, why = _peer("monai.networks.nets", "UNet")
    if monai_unet is None:
        skipped.append(why)
    else:
        out.append(Case("unet3d", "MONAI UNet", lambda: monai_unet(3, 1, 2, channels, (2,) * (len(channels) - 1),
                                                                   num_res_units=2), (1, side, side, side), 2,
                        dense=True))
    return out, skipped


def train_step(model: nn.Module, case: Case, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               autocast) -> torch.Tensor:
    """One step of course.train.fit's loop: forward and loss under autocast, backward, Adam."""
    with autocast:
        logits = case.logits(model(case.to_input(x)))  # (N, K) or (N, K, D, H, W)
        loss = F.cross_entropy(logits.float(), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def measure(case: Case, args: argparse.Namespace, dev: torch.device) -> dict:
    """Parameters, training FLOPs, samples/s, step time, memory and MFU of one model."""
    # 1. model, optimizer, one synthetic batch
    torch.manual_seed(0)
    model = case.build().to(dev).train()
    memory_format = torch.channels_last_3d if len(case.input_shape) == 4 else torch.contiguous_format
    if args.channels_last:
        model.to(memory_format=memory_format)
    step_model = torch.compile(model) if args.compile else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(args.batch_size, *case.input_shape, device=dev)
    if args.channels_last:
        x = x.contiguous(memory_format=memory_format)
    label_shape = (args.batch_size, *case.input_shape[1:]) if case.dense else (args.batch_size,)
    y = torch.randint(case.num_classes, label_shape, device=dev)
    autocast = (torch.autocast(dev.type, dtype=torch.bfloat16) if args.amp == "bf16" else
                torch.autocast(dev.type, enabled=False))
    # 2. FLOPs of one training step (math attention, so the counter sees the matmuls)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        train_step(model, case, optimizer, x, y, autocast)
    flops = counter.get_total_flops()
    # 3. warm up, then the best of `repeats` timed windows
    for _ in range(args.warmup):
        train_step(step_model, case, optimizer, x, y, autocast)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    best = math.inf
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            loss = train_step(step_model, case, optimizer, x, y, autocast)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        best = min(best, (time.perf_counter() - start) / args.steps)
    if not math.isfinite(loss.item()):
        raise RuntimeError(f"{case.name}: the loss is {loss.item()} (not finite) after {args.steps} steps")
    peak = args.peak_tflops if args.peak_tflops else (peak_tflops(torch.cuda.get_device_name(dev))
                                                       if dev.type == "cuda" else None)
    return dict(family=case.family, model=case.name, params=count_params(model),
                gflops_per_sample=flops / args.batch_size / 1e9, samples_per_s=args.batch_size / best,
                ms_per_step=1e3 * best, peak_memory_gib=(torch.cuda.max_memory_allocated(dev) / 2 ** 30
                                                         if dev.type == "cuda" else None),
                mfu=None if peak is None else flops / best / (peak * 1e12))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="cuda, cuda:1 or cpu (default: cuda when present)")
    parser.add_argument("--models", nargs="+", choices=FAMILIES, default=list(FAMILIES), help="families to measure")
    parser.add_argument("--tiny", action="store_true", help="small models and inputs: a seconds-long dry run")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="samples per step (default: 8, 2 with --tiny)")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed window")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (cuDNN autotuning, compile)")
    parser.add_argument("--repeats", type=int, default=3, help="timed windows; the best counts")
    parser.add_argument("--amp", choices=("bf16", "none"), default="bf16", help="autocast dtype (default bf16)")
    parser.add_argument("--channels-last", action="store_true", help="channels_last_3d for 5-D inputs")
    parser.add_argument("--compile", action="store_true", help="torch.compile each model")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="peak dense bf16 TFLOP/s of the card, for MFU (default: looked up by its name)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    if args.batch_size is None:
        args.batch_size = 2 if args.tiny else 8
    check_common_args(parser, args)
    return args


def check_common_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The checks every GPU benchmark makes: counts >= 1, warm-up >= 0, CUDA present when asked for."""
    for name in ("batch_size", "steps", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.warmup < 0:
        parser.error(f"--warmup must be >= 0, got {args.warmup}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: torch sees no CUDA device; use --device cpu (with --tiny)")


def main(argv: list[str] | None = None) -> list[dict]:
    """Measure every selected model, print the table (and skipped peers), return the rows."""
    args = parse_args(argv)
    dev = torch.device(args.device)
    selected, skipped = cases(args.tiny)
    card = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"device {card}; amp {args.amp}; batch {args.batch_size}; best of {args.repeats} × {args.steps} steps; "
          f"torch {torch.__version__}")
    for line in skipped:
        print(f"skipped peer: {line}")
    rows = [measure(case, args, dev) for case in selected if case.family in args.models]
    report(rows, skipped, card, args)
    return rows


def report(rows: list[dict], skipped: list[str], card: str, args: argparse.Namespace, *, width: int = 26) -> None:
    """Print the table of measured rows and write them (with the device and arguments) to ``args.json``."""
    print(f"{'model':{width}} {'params':>12} {'GFLOP/sample':>13} {'samples/s':>10} {'ms/step':>9} {'GiB':>6} {'MFU':>7}")
    for row in rows:
        memory = "—" if row["peak_memory_gib"] is None else f"{row['peak_memory_gib']:.1f}"
        mfu = "—" if row["mfu"] is None else f"{100 * row['mfu']:.1f} %"
        print(f"{row['model']:{width}} {row['params']:>12,} {row['gflops_per_sample']:>13.2f} {row['samples_per_s']:>10.2f} "
              f"{row['ms_per_step']:>9.1f} {memory:>6} {mfu:>7}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(dict(device=card, args={k: str(v) for k, v in vars(args).items()},
                                             skipped=skipped, rows=rows), indent=2))


if __name__ == "__main__":
    main()
