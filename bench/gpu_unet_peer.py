"""bf16 training throughput of course's 3D U-Net on 128³ patches beside nnU-Net's PlainConvUNet.

For the GPU machine (not part of `make test`), in the style of ``bench/gpu_train.py`` (whose training
step, FLOP counting and MFU it reuses). The same configuration for every row: 6 stages of
(32, 64, 128, 256, 320, 320) features (nnU-Net's 3d_fullres plan for a 128³ patch), instance norm,
two 3×3×3 convolutions per stage in encoder and decoder, 3 classes, batch 2, bf16 autocast, Adam,
cross-entropy on every voxel:

    course UNet3D                    course.nn.unet3d.UNet3D(1, 3, features, norm="instance"): 2×2×2 max
                                     pooling down, transposed convolutions up, ReLU
    course UNet3D, checkpointed      the same with course.checkpointing.checkpoint_unet3d (each level
                                     recomputed in backward: less memory, about one more forward pass)
    nnU-Net PlainConvUNet            dynamic_network_architectures' PlainConvUNet with nnU-Net's defaults
                                     (strided first conv per stage, transposed convs, conv bias, instance
                                     norm eps 1e-5 affine, LeakyReLU 0.01, no deep supervision); skipped,
                                     with the reason, when the package does not import

Columns as in bench/gpu_train.py. FLOPs are the model's (one forward + backward of the plain
network); the checkpointed row keeps the plain network's FLOPs, so its MFU counts the recomputation
as overhead (Chowdhery et al. 2022, appendix B).

    .venv/bin/python bench/gpu_unet_peer.py [--device cuda] [--batch-size 2] [--patch 128] [--steps 20]
        [--warmup 5] [--repeats 3] [--amp bf16|none] [--channels-last] [--compile] [--peak-tflops 989]
        [--json build/gpu_unet_peer.json]
    .venv/bin/python bench/gpu_unet_peer.py --device cpu --tiny     # 64³, narrow, float32: checks the script runs

Sliding-window inference of a 256³ volume against MONAI's is ``bench/sliding_window.py --device cuda
--size 256 --roi 128 --overlaps 0.5 --predictor unet3d``.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _gpu_train():
    """bench/gpu_train.py as a module (bench is a folder of scripts, not a package)."""
    if "bench_gpu_train" in sys.modules:
        return sys.modules["bench_gpu_train"]
    spec = importlib.util.spec_from_file_location("bench_gpu_train", Path(__file__).with_name("gpu_train.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


gpu_train = _gpu_train()

from course.checkpointing import checkpoint_unet3d  # noqa: E402
from course.nn.unet3d import UNet3D  # noqa: E402

FEATURES = (32, 64, 128, 256, 320, 320)  # nnU-Net 3d_fullres, 6 stages
TINY_FEATURES = (2, 4, 8, 8, 8, 8)  # the same 6 stages, narrow
NUM_CLASSES = 3


def plain_conv_unet(features: tuple[int, ...], num_classes: int) -> nn.Module:
    """nnU-Net's PlainConvUNet with nnU-Net's defaults for 3D full resolution (see the module docstring).

    Raises:
        ImportError: ``dynamic_network_architectures`` is not installed.
    """
    from dynamic_network_architectures.architectures.unet import PlainConvUNet

    stages = len(features)
    return PlainConvUNet(1, stages, features, nn.Conv3d, 3, (1,) + (2,) * (stages - 1), 2, num_classes, 2,
                         conv_bias=True, norm_op=nn.InstanceNorm3d, norm_op_kwargs={"eps": 1e-5, "affine": True},
                         nonlin=nn.LeakyReLU, nonlin_kwargs={"inplace": True}, deep_supervision=False)


def cases(tiny: bool, patch: int) -> tuple[list, list[str]]:
    """The rows to measure (gpu_train.Case) and a line for each skipped peer."""
    Case = gpu_train.Case
    features = TINY_FEATURES if tiny else FEATURES
    shape = (1, patch, patch, patch)
    course = lambda: UNet3D(1, NUM_CLASSES, features, norm="instance")  # noqa: E731
    out = [Case("unet3d", "course UNet3D", course, shape, NUM_CLASSES, dense=True),
           Case("unet3d", "course UNet3D, checkpointed", lambda: checkpoint_unet3d(course()), shape, NUM_CLASSES,
                dense=True)]
    skipped = []
    try:
        importlib.import_module("dynamic_network_architectures.architectures.unet")
    except Exception as error:  # ImportError, or a package whose own imports fail
        skipped.append(f"dynamic_network_architectures.architectures.unet.PlainConvUNet not importable "
                       f"({type(error).__name__}: {error}); pip install dynamic-network-architectures (nnU-Net's)")
    else:
        out.append(Case("unet3d", "nnU-Net PlainConvUNet", lambda: plain_conv_unet(features, NUM_CLASSES), shape,
                        NUM_CLASSES, dense=True))
    return out, skipped


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="cuda, cuda:1 or cpu (default: cuda when present)")
    parser.add_argument("--tiny", action="store_true",
                        help="narrow stages, 64³ patches, float32: a seconds-long dry run")
    parser.add_argument("--batch-size", type=int, default=2, help="patches per step (default 2, nnU-Net's)")
    parser.add_argument("--patch", type=int, default=None, help="patch side in voxels (default 128, 64 with --tiny)")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed window")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (cuDNN autotuning, compile)")
    parser.add_argument("--repeats", type=int, default=3, help="timed windows; the best counts")
    parser.add_argument("--amp", choices=("bf16", "none"), default=None,
                        help="autocast dtype (default bf16; none with --tiny: bf16 convolutions are slow on CPUs)")
    parser.add_argument("--channels-last", action="store_true", help="channels_last_3d model and patches")
    parser.add_argument("--compile", action="store_true", help="torch.compile each model")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="peak dense bf16 TFLOP/s of the card, for MFU (default: looked up by its name)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    if args.patch is None:
        args.patch = 64 if args.tiny else 128
    if args.amp is None:
        args.amp = "none" if args.tiny else "bf16"
    if args.patch < 1:
        parser.error(f"--patch must be >= 1, got {args.patch}")
    gpu_train.check_common_args(parser, args)
    stride = 2 ** (len(FEATURES) - 1)
    if args.patch % stride or args.patch < 2 * stride:
        parser.error(f"--patch {args.patch}: 6 stages need a multiple of {stride}, at least {2 * stride} (instance "
                     f"norm needs more than one voxel at the bottom stage)")
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    """Measure every row, print the table (and skipped peers), return the rows."""
    args = parse_args(argv)
    dev = torch.device(args.device)
    selected, skipped = cases(args.tiny, args.patch)
    card = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    features = TINY_FEATURES if args.tiny else FEATURES
    print(f"device {card}; {args.patch}³ patches, features {features}, batch {args.batch_size}, amp {args.amp}; "
          f"best of {args.repeats} × {args.steps} steps; torch {torch.__version__}")
    for line in skipped:
        print(f"skipped peer: {line}")
    rows = [gpu_train.measure(case, args, dev) for case in selected]
    plain = rows[0]  # the checkpointed network's model FLOPs are the plain network's
    for row in rows:
        if row["model"].endswith("checkpointed"):
            row["hardware_gflops_per_sample"] = row["gflops_per_sample"]
            row["gflops_per_sample"] = plain["gflops_per_sample"]
            if row["mfu"] is not None:
                row["mfu"] *= plain["gflops_per_sample"] / row["hardware_gflops_per_sample"]
    gpu_train.report(rows, skipped, card, args, width=30)
    return rows


if __name__ == "__main__":
    main()
