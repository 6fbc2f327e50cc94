"""course.experiments: every tiny configuration trains on the CPU, every full one builds (on the meta device)
with the published parameter count and takes its documented input, the command line, and fit_dense's resume."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from course.experiments import (EXPERIMENTS, Experiment, build_model, experiment, fit_dense, main, make_data,
                                parse_args, run, run_capstone_protocol)
from course.nn.unet3d import UNet3D

NAMES = sorted(EXPERIMENTS)


@pytest.mark.parametrize("name", NAMES)
def test_tiny_configuration_trains_two_steps_on_the_cpu(name: str) -> None:
    """Check the tiny twin trains for 2 steps: finite loss, the documented output shape, samples/s measured."""
    exp = experiment(name)
    summary = run(exp, device="cpu", steps=2, progress=False)
    assert summary["samples"] == min(exp.num_train, 2 * exp.batch_size)
    assert summary["loss_finite"] and len(summary["loss"]) == exp.epochs and math.isfinite(summary["loss"][-1])
    dense = exp.data == "mni152"
    expected = [exp.batch_size, exp.num_classes, *exp.input_shape[1:]] if dense else [exp.batch_size, exp.num_classes]
    assert summary["output_shape"] == expected
    assert summary["samples_per_second_last"] > 0 and summary["params"] == sum(
        p.numel() for p in build_model(exp).parameters())
    json.dumps(summary)  # JSON-ready


def _hf_timesformer_params() -> int:
    transformers = pytest.importorskip("transformers")
    with torch.device("meta"):
        model = transformers.TimesformerForVideoClassification(transformers.TimesformerConfig(num_labels=400))
    return sum(p.numel() for p in model.parameters())


def _plain_conv_unet_params(exp: Experiment) -> int:
    unet = pytest.importorskip("dynamic_network_architectures.architectures.unet")
    channels = exp.model_args["channels"]
    with torch.device("meta"):
        model = unet.PlainConvUNet(1, len(channels), channels, nn.Conv3d, 3, (1,) + (2,) * (len(channels) - 1), 2,
                                   exp.num_classes, 2, True, nn.InstanceNorm3d, {"eps": 1e-5, "affine": True},
                                   None, None, nn.LeakyReLU, {"inplace": True})
    return sum(p.numel() for p in model.parameters())


def _unet3d_formula(channels: tuple[int, ...], in_channels: int, classes: int) -> int:
    """Conv weights + biases, 2 affine norm parameters per channel, transposed convs, head: by hand."""
    block = lambda a, b: (27 * a * b + b + 2 * b) + (27 * b * b + b + 2 * b)  # noqa: E731
    total, previous = 0, in_channels
    for c in channels:
        total, previous = total + block(previous, c), c
    for c in reversed(channels[:-1]):
        total += 8 * previous * c + c + block(2 * c, c)  # up-conv 2×2×2, then a block on cat(up, skip)
        previous = c
    return total + channels[0] * classes + classes


def _references(name: str, exp: Experiment, model: nn.Module) -> list[tuple[int, int, float, str]]:
    """(our count, the reference count, relative tolerance, where the reference comes from) for a full model."""
    params = sum(p.numel() for p in model.parameters())
    if name == "timesformer":
        return [(params, _hf_timesformer_params(), 0.0, "Hugging Face TimesformerForVideoClassification, 400 labels"),
                (params, 121_400_000, 0.005, "Bertasius et al. 2021, Table 1: 121.4 M")]
    if name == "r2plus1d":
        return [(params, 31_505_325, 0.0, "torchvision r2plus1d_18 weights metadata num_params")]
    if name == "i3d":
        backbone = params - sum(p.numel() for p in model.logits.parameters())
        return [(params, 12_697_264, 0.0, "Inception-v1 inflated, affine batch norm, 400 classes"),
                (backbone, 12_300_000, 0.005, "≈ 12.3 M without the 400-way logits"),
                (params, 12_000_000, 0.06, "Carreira & Zisserman 2017, Table 1: 12 M")]
    if name == "unet3d":
        channels = exp.model_args["channels"]
        return [(params, _unet3d_formula(channels, 1, exp.num_classes), 0.0, "conv/norm/up-conv counts by hand"),
                (params, _plain_conv_unet_params(exp), 0.001, "nnU-Net PlainConvUNet, same stages")]
    if name == "capstone":
        from course.transfer import transfer_model
        from course.transfer_experiment import CONFIG

        scratch = transfer_model(arch="r2plus1d", num_classes=2, in_channels=1, num_frames=CONFIG.crop[0],
                                 size=CONFIG.crop[1])  # the S arm of run_one
        return [(params, sum(p.numel() for p in scratch.parameters()), 0.0, "the capstone's S arm of r2plus1d")]
    raise AssertionError(f"no reference count for {name}: add one (no full configuration goes unchecked)")


@pytest.mark.parametrize("name", NAMES)
def test_full_configuration_builds_on_meta_with_the_published_count(name: str) -> None:
    """Check each full model, built on the meta device, has the published (or independent) parameter count
    within the stated tolerance and maps a batch of its documented input to logits."""
    exp = experiment(name, full=True)
    with torch.device("meta"):
        model = build_model(exp)
        out = model(torch.empty(2, *exp.input_shape))
    params = sum(p.numel() for p in model.parameters())
    assert exp.published_params is None or exp.published_params == pytest.approx(params, rel=0.001)
    for ours, reference, tolerance, source in _references(name, exp, model):
        assert abs(ours - reference) <= tolerance * reference, (name, ours, reference, source)
    expected = (2, exp.num_classes, *exp.input_shape[1:]) if exp.data == "mni152" else (2, exp.num_classes)
    assert tuple(out.shape) == expected


@pytest.mark.parametrize("name, shape, labels", [
    ("i3d", (2, 3, 64, 224, 224), (2,)),
    ("timesformer", (2, 3, 8, 224, 224), (2,)),
    ("unet3d", (1, 1, 128, 128, 128), (1, 128, 128, 128)),
])
def test_full_data_has_the_models_input_shape(name: str, shape: tuple, labels: tuple) -> None:
    """Check the full configurations' data (generated clips at 224², 128³ patches of the 1 mm brain)."""
    exp = experiment(name, full=True)
    x, y, note = make_data(exp, shape[0])
    assert tuple(x.shape) == shape and tuple(y.shape) == labels and x.dtype == torch.float32 and y.dtype == torch.int64
    if exp.data == "moving_digits":
        assert "synthetic input" in note and torch.equal(x[:, 0], x[:, 2]) and x.max() > 0.5
    else:
        assert "1 mm" in note and set(torch.unique(y).tolist()) <= {0, 1, 2} and (y > 0).any()


def test_unknown_names_and_bad_arguments_name_the_fix(capsys) -> None:
    with pytest.raises(ValueError, match="python -m course.experiments list"):
        experiment("c3d")
    for argv in (["i3d", "--steps", "0"], ["i3d", "--epochs", "-1"], ["vgg"], ["i3d", "--amp", "fp8"]):
        with pytest.raises(SystemExit) as done:
            parse_args(argv)
        assert done.value.code == 2
    with pytest.raises(ValueError, match="steps must be >= 1"):
        run(experiment("i3d"), steps=0)
    with pytest.raises(ValueError, match="UNet3D"):
        build_model(dataclasses.replace(experiment("i3d"), grad_checkpointing=True))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")
def test_cuda_without_a_gpu_names_the_fix(capsys) -> None:
    with pytest.raises(SystemExit):
        parse_args(["i3d", "--device", "cuda"])
    assert "--device cpu" in capsys.readouterr().err


def test_command_line_overrides_and_writes_the_summary(tmp_path: Path, capsys) -> None:
    """Check the CLI applies its overrides (gradient checkpointing, batch, amp) and writes the JSON it prints."""
    out = tmp_path / "unet.json"
    summary = main(["unet3d", "--device", "cpu", "--steps", "1", "--batch-size", "2", "--grad-checkpointing",
                    "--amp", "bf16", "--no-channels-last", "--json", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert json.loads(out.read_text())["loss"] == summary["loss"] and "samples/s" in printed and "MNI152" in printed
    assert (summary["samples"], summary["batch_size"], summary["amp"], summary["grad_checkpointing"],
            summary["channels_last"]) == (2, 2, "bf16", True, False)
    main(["list"])
    assert "timesformer" in capsys.readouterr().out


def test_fit_dense_resumes_bit_for_bit(tmp_path: Path, monkeypatch) -> None:
    """Check that 2 epochs in one call, and 2 epochs interrupted after the first and resumed from the
    checkpoint, end with the same weights; a checkpoint of other arguments is refused."""
    import course.experiments as experiments

    x = torch.randn(6, 1, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    y = (x[:, 0] > 0).long()  # (6, 8, 8, 8)

    def train(epochs: int, checkpoint: Path | None) -> nn.Module:
        torch.manual_seed(0)
        model = UNet3D(1, 2, (4, 8), norm="batch")
        history = fit_dense(model, x, y, epochs=epochs, batch_size=4, lr=1e-2, device="cpu", checkpoint=checkpoint,
                            progress=False)
        assert len(history.loss) == epochs and all(math.isfinite(v) for v in history.step_loss)
        return model

    whole = train(2, None)
    train(1, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="other arguments"):
        train(2, tmp_path / "other.pt")
    save = experiments._save_checkpoint

    def save_then_stop(path: Path, state: dict) -> None:
        save(path, state)
        raise KeyboardInterrupt  # killed right after the first epoch's checkpoint

    monkeypatch.setattr(experiments, "_save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train(2, tmp_path / "c.pt")
    monkeypatch.setattr(experiments, "_save_checkpoint", save)
    resumed = train(2, tmp_path / "c.pt")
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="labels"):
        fit_dense(whole, x, y[:, 0], epochs=1, batch_size=4, lr=1e-2, device="cpu", progress=False)


def test_capstone_protocol_tiny(tmp_path: Path) -> None:
    """Check the shrunk protocol runs every arm for both seeds and gives a verdict on each claim."""
    from course.transfer_experiment import ARMS

    result = run_capstone_protocol(tmp_path, full=False, progress=False)
    assert result["runs"] == 2 * len(ARMS) and (tmp_path / "weights" / "SHA256SUMS").exists()
    assert set(result["verdicts"]["4"]) == {"claim 1", "claim 2", "claim 3", "mechanism"}
    assert all(-1 <= r["diff"] <= 1 for r in result["comparisons"])
