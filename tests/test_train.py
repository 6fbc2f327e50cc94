"""Tests of course.train: fit learns a tiny separable problem, is deterministic, and evaluate agrees
with a hand computation."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.utils.data import Dataset, TensorDataset

from course.train import History, accuracy, correct_per_clip, evaluate, fit


def _blobs(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Three well-separated Gaussian blobs in 5-D: (n, 5) float32, (n,) int64."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    centres = torch.tensor([[4.0, 0, 0, 0, 0], [0, 4.0, 0, 0, 0], [0, 0, 4.0, 0, 0]])
    return centres[labels] + torch.randn(n, 5, generator=g), labels


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))


def test_fit_reduces_the_loss_and_learns():
    """Check that a few epochs drive the loss down and the accuracy up on separable blobs."""
    model, data = _model(), _blobs()
    history = fit(model, data, epochs=8, batch_size=32, lr=1e-2, progress=False, device="cpu")
    assert isinstance(history, History) and len(history.loss) == len(history.accuracy) == 8
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert history.seconds > 0
    assert evaluate(model, _blobs(seed=1), device="cpu") > 0.95


def test_fit_is_deterministic_and_keeps_the_global_random_state():
    """Check that the same seed gives the same weights (dropout and batch order included)."""
    states = []
    for _ in range(2):
        model = _model()
        torch.manual_seed(123)
        before = torch.rand(1)
        torch.manual_seed(123)
        fit(model, _blobs(), epochs=2, batch_size=50, lr=1e-2, seed=4, progress=False, device="cpu")
        assert torch.equal(torch.rand(1), before), "fit must not consume the global random state"
        states.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*states))
    other = _model()
    fit(other, _blobs(), epochs=2, batch_size=50, lr=1e-2, seed=5, progress=False, device="cpu")
    assert not all(torch.equal(a, b) for a, b in zip(states[0], other.parameters()))


def test_constant_lr_without_one_cycle_and_progress_bar_runs(capsys):
    """Check one_cycle=False and the tqdm bar (written to stderr) do not break training."""
    model = _model()
    history = fit(model, _blobs(64), epochs=2, batch_size=16, lr=1e-3, one_cycle=False, progress=True, device="cpu")
    assert len(history.loss) == 2


class _ListDataset(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def test_datasets_and_tensor_pairs_give_the_same_result():
    """Check that a TensorDataset, a generic Dataset and a tensor pair train and evaluate alike."""
    x, y = _blobs(96)
    results = []
    for data in [(x, y), TensorDataset(x, y), _ListDataset(x, y)]:
        model = _model()
        fit(model, data, epochs=2, batch_size=32, lr=1e-2, progress=False, device="cpu")
        results.append((evaluate(model, data, device="cpu"), [p.detach().clone() for p in model.parameters()]))
    for acc, params in results[1:]:
        assert acc == results[0][0] and all(torch.equal(a, b) for a, b in zip(params, results[0][1]))


def test_evaluate_matches_a_hand_count_and_does_not_depend_on_batch_size():
    """Check evaluate against argmax by hand, in eval mode, for several batch sizes."""
    model, (x, y) = _model(), _blobs(70)
    fit(model, (x, y), epochs=1, batch_size=16, lr=1e-2, progress=False, device="cpu")
    model.eval()
    with torch.no_grad():
        expected = (model(x).argmax(1) == y).float().mean().item()
    for batch_size in (1, 7, 256):
        assert evaluate(model, (x, y), batch_size=batch_size, device="cpu") == pytest.approx(expected)
    assert not model.training


def test_accuracy():
    logits = torch.tensor([[0.1, 0.9], [2.0, -1.0], [0.0, 1.0], [3.0, 3.5]])
    assert accuracy(logits, torch.tensor([1, 0, 0, 0])) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        accuracy(logits, torch.tensor([1, 0]))


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError):
        fit(_model(), (torch.zeros(4, 5), torch.zeros(3, dtype=torch.long)), epochs=1, batch_size=2, lr=1e-3,
            progress=False)


# --- the opt-in extras: a frozen reference loop, AMP, channels_last, compile, checkpoints ----------------------


def _reference_fit(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, *, epochs: int, batch_size: int,
                   lr: float, seed: int = 0, one_cycle: bool = True,
                   weight_decay: float = 0.0) -> tuple[list[float], list[float]]:
    """The loop of course.train.fit as it was before the opt-in extras, written out plainly (CPU only).

    Frozen on purpose: fit with its default arguments must keep computing exactly this.
    """
    steps_per_epoch = -(-len(labels) // batch_size)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
                 if one_cycle else None)
    shuffle = torch.Generator().manual_seed(seed)
    losses, accuracies = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(epochs):
            total_loss, correct = 0.0, 0
            for batch in torch.randperm(len(labels), generator=shuffle).split(batch_size):
                x, y = inputs[batch], labels[batch]
                logits = model(x)
                loss = torch.nn.functional.cross_entropy(logits, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total_loss += loss.item() * len(y)
                correct += int((logits.argmax(1) == y).sum())
            losses.append(total_loss / len(labels))
            accuracies.append(correct / len(labels))
    return losses, accuracies


class _Conv3dNet(nn.Module):
    """A small Conv3d classifier with batch norm and dropout: (N, 2, 4, 6, 6) → (N, 3).

    Records the dtype and memory layout of what its convolution sees, so tests can tell that AMP
    and channels_last reach the model.
    """

    def __init__(self, dropout: float = 0.2) -> None:
        super().__init__()
        self.conv = nn.Conv3d(2, 6, 3, padding=1, bias=False)  # a bias before batch norm gets a gradient of ~0,
        # whose rounding noise Adam would blow up to ±lr steps
        self.norm = nn.BatchNorm3d(6)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(6, 3)
        self.seen: list[tuple[torch.dtype, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)  # (N, 6, D, H, W)
        self.seen.append((h.dtype, x.is_contiguous(memory_format=torch.channels_last_3d) and not x.is_contiguous()))
        h = torch.relu(self.norm(h)).mean(dim=(2, 3, 4))  # (N, 6)
        return self.head(self.drop(h))


def _clips(n: int = 37, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 2, 4, 6, 6) float32 clips whose label shifts the mean of one channel; (n,) int64 labels."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    x = torch.randn(n, 2, 4, 6, 6, generator=g)
    x[:, 0] += labels.view(-1, 1, 1, 1).float()
    return x, labels


def _conv_model(seed: int = 0, dropout: float = 0.2) -> _Conv3dNet:
    torch.manual_seed(seed)
    return _Conv3dNet(dropout)


def _weights(model: nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in model.state_dict().values()]


@pytest.mark.parametrize("make, data, kwargs", [
    (_conv_model, _clips(), dict(epochs=3, batch_size=8, lr=1e-2, seed=3)),
    (_conv_model, _clips(41), dict(epochs=2, batch_size=41, lr=3e-3, one_cycle=False, weight_decay=1e-3)),
    (_model, _blobs(70), dict(epochs=2, batch_size=16, lr=1e-2, seed=1, weight_decay=1e-2)),
])
def test_fit_with_default_options_equals_the_frozen_reference_loop_bit_for_bit(make, data, kwargs):
    """Check that fit's defaults still compute the original loop exactly: weights, losses, accuracies."""
    model, reference = make(), make()
    history = fit(model, data, progress=False, device="cpu", **kwargs)
    losses, accuracies = _reference_fit(reference, *data, **kwargs)
    assert history.loss == losses and history.accuracy == accuracies
    assert all(torch.equal(a, b) for a, b in zip(_weights(model), _weights(reference)))
    assert len(history.step_loss) == kwargs["epochs"] * -(-len(data[1]) // kwargs["batch_size"])
    assert len(history.samples_per_second) == kwargs["epochs"] and min(history.samples_per_second) > 0


def _one_step(amp: str | None) -> tuple[float, list[torch.Tensor], list[torch.Tensor], _Conv3dNet]:
    """One full-batch step of fit on the conv model without dropout: loss, weights before and after."""
    model = _conv_model(dropout=0.0)
    before = [p.detach().clone() for p in model.parameters()]
    history = fit(model, _clips(24), epochs=1, batch_size=24, lr=1e-3, one_cycle=False, progress=False,
                  device="cpu", amp=amp)
    return history.loss[0], before, [p.detach().clone() for p in model.parameters()], model


def test_bf16_autocast_step_is_within_tolerance_of_the_float32_step():
    """Check that amp='bf16' runs the conv in bfloat16 and one step stays close to the float32 step.

    Tolerances (stated in fit's docstring): relative loss difference < 1 % (measured 3e-6); Adam's
    first step moves every weight by about lr · sign(gradient), so the update is compared by
    direction: at least 95 % of the weights move the same way (measured 355 of 357, 99.4 %; the
    others have gradients near 0, where bfloat16's rounding, 2^-9 ≈ 0.2 % relative, flips the sign).
    """
    loss32, before, after32, model32 = _one_step(None)
    loss16, _, after16, model16 = _one_step("bf16")
    assert {dtype for dtype, _ in model32.seen} == {torch.float32}
    assert {dtype for dtype, _ in model16.seen} == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in model16.parameters())
    assert loss16 != loss32, "bf16 and float32 giving the same loss bit for bit means autocast did nothing"
    assert abs(loss16 - loss32) / loss32 < 1e-2
    update32 = torch.cat([(a - b).flatten() for a, b in zip(after32, before)])
    update16 = torch.cat([(a - b).flatten() for a, b in zip(after16, before)])
    assert (torch.sign(update16) == torch.sign(update32)).float().mean().item() >= 0.95
    assert (update16 - update32).abs().max().item() <= 2.001e-3  # a flip moves a weight by at most 2 lr


def test_channels_last_gives_the_default_result_within_float_rounding():
    """Check that channels_last_3d reaches the model and changes the result only by rounding."""
    plain, last = _conv_model(), _conv_model()
    h1 = fit(plain, _clips(), epochs=2, batch_size=8, lr=1e-2, progress=False, device="cpu")
    h2 = fit(last, _clips(), epochs=2, batch_size=8, lr=1e-2, progress=False, device="cpu", channels_last=True)
    assert all(is_last for _, is_last in last.seen) and not any(is_last for _, is_last in plain.seen)
    assert last.conv.weight.is_contiguous(memory_format=torch.channels_last_3d)
    torch.testing.assert_close(torch.tensor(h2.step_loss), torch.tensor(h1.step_loss), rtol=1e-4, atol=1e-5)
    for a, b in zip(_weights(last), _weights(plain)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_channels_last_on_4d_images():
    """Check the 4-D path (torch.channels_last) on a small Conv2d model."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    x, y = torch.randn(10, 3, 7, 9), torch.arange(10) % 2
    fit(net, (x, y), epochs=1, batch_size=4, lr=1e-2, progress=False, device="cpu", channels_last=True)
    assert net[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_compile_flag_reaches_torch_compile(monkeypatch):
    """Check that compile=True steps through torch.compile(model) and that the weights stay the model's.

    torch.compile itself (Inductor, a C++ build) takes far longer than a test may on this CPU, so it is
    replaced by a recorder that returns the model unchanged.
    """
    calls = []

    def fake_compile(model, *args, **kwargs):
        calls.append(model)
        return model

    monkeypatch.setattr(torch, "compile", fake_compile)
    model = _model()
    fit(model, _blobs(32), epochs=1, batch_size=16, lr=1e-2, progress=False, device="cpu")
    assert calls == []
    fit(model, _blobs(32), epochs=1, batch_size=16, lr=1e-2, progress=False, device="cpu", compile=True)
    assert len(calls) == 1 and calls[0] is model


@pytest.mark.parametrize("kwargs, match", [
    (dict(amp="fp16"), "needs CUDA"),
    (dict(amp="float16"), "amp must be"),
    (dict(amp="BF16"), "amp must be"),
    (dict(channels_last=True), "channels_last=True needs inputs"),
])
def test_bad_options_raise_with_a_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(_model(), _blobs(16), epochs=1, batch_size=8, lr=1e-2, progress=False, device="cpu", **kwargs)


class _Interrupt(Exception):
    pass


class _StopAfter(nn.Module):
    """Wraps a model and raises _Interrupt on forward call number ``calls`` (a killed run)."""

    def __init__(self, model: nn.Module, calls: int) -> None:
        super().__init__()
        self.model, self.calls = model, calls

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls -= 1
        if self.calls < 0:
            raise _Interrupt
        return self.model(x)


@pytest.mark.parametrize("stop_at_step", [10, 13])  # 5 steps per epoch: at an epoch's end, and inside one
def test_a_resumed_run_equals_an_uninterrupted_run_bit_for_bit(tmp_path, stop_at_step):
    """Check that killing fit and calling it again with the checkpoint gives the same weights and history."""
    data, kwargs = _clips(), dict(epochs=4, batch_size=8, lr=1e-2, seed=2, progress=False, device="cpu")
    whole = _StopAfter(_conv_model(), calls=10 ** 6)
    expected = fit(whole, data, **kwargs)
    path = tmp_path / "sub" / "run.pt"
    with pytest.raises(_Interrupt):
        fit(_StopAfter(_conv_model(), calls=stop_at_step), data, checkpoint=path, **kwargs)
    assert path.exists() and not list(path.parent.glob("*.tmp"))
    assert torch.load(path, weights_only=True)["epoch"] == stop_at_step // 5
    torch.manual_seed(99)  # a process that starts afresh: other initial weights, other global random state
    resumed = _StopAfter(_conv_model(seed=7), calls=10 ** 6)
    history = fit(resumed, data, checkpoint=path, **kwargs)
    assert history.loss == expected.loss and history.accuracy == expected.accuracy
    assert history.step_loss == expected.step_loss
    assert all(torch.equal(a, b) for a, b in zip(_weights(resumed), _weights(whole)))
    again = _StopAfter(_conv_model(seed=7), calls=0)  # everything done: no step runs, the result is loaded
    assert fit(again, data, checkpoint=path, **kwargs).loss == expected.loss
    assert all(torch.equal(a, b) for a, b in zip(_weights(again), _weights(whole)))


def test_a_checkpoint_from_other_arguments_is_refused_unless_resume_is_false(tmp_path):
    """Check that resuming with another lr names the difference, and resume=False starts over."""
    path, data = tmp_path / "run.pt", _blobs(32)
    fit(_model(), data, epochs=1, batch_size=16, lr=1e-2, progress=False, device="cpu", checkpoint=path)
    with pytest.raises(ValueError, match="lr"):
        fit(_model(), data, epochs=1, batch_size=16, lr=3e-2, progress=False, device="cpu", checkpoint=path)
    fresh, reference = _model(), _model()
    fit(fresh, data, epochs=1, batch_size=16, lr=3e-2, progress=False, device="cpu", checkpoint=path, resume=False)
    fit(reference, data, epochs=1, batch_size=16, lr=3e-2, progress=False, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(_weights(fresh), _weights(reference)))
    assert torch.load(path, weights_only=True)["config"]["lr"] == 3e-2


def test_progress_bar_shows_samples_per_second(capsys):
    """Check that the tqdm postfix carries the throughput."""
    fit(_model(), _blobs(32), epochs=1, batch_size=16, lr=1e-2, progress=True, device="cpu")
    assert "samples_s=" in capsys.readouterr().err


@pytest.mark.slow
def test_compile_for_real_matches_eager():
    """Check that torch.compile (Inductor, CPU) trains like eager mode (measured here: 26 s, max |Δw| = 0).

    Dropout is switched off: compiled code draws its masks from another random stream.
    """
    compiled, eager = _model(), _model()
    compiled[2].p = eager[2].p = 0.0
    h1 = fit(compiled, _blobs(32), epochs=1, batch_size=16, lr=1e-2, progress=False, device="cpu", compile=True)
    h2 = fit(eager, _blobs(32), epochs=1, batch_size=16, lr=1e-2, progress=False, device="cpu")
    torch.testing.assert_close(torch.tensor(h1.step_loss), torch.tensor(h2.step_loss), rtol=1e-5, atol=1e-6)
    for a, b in zip(_weights(compiled), _weights(eager)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_cuda_amp_step_is_within_tolerance_of_the_float32_step(amp):
    """Check both AMP dtypes on CUDA (fp16 with its GradScaler) against the float32 step, as on the CPU."""
    def one_step(amp):
        model = _conv_model(dropout=0.0)
        before = [p.detach().clone() for p in model.parameters()]
        loss = fit(model, _clips(24), epochs=1, batch_size=24, lr=1e-3, one_cycle=False, progress=False,
                   device="cuda", amp=amp).loss[0]
        return loss, torch.cat([(p.detach().cpu() - b).flatten() for p, b in zip(model.parameters(), before)]), model

    loss32, update32, _ = one_step(None)
    loss16, update16, model = one_step(amp)
    assert {dtype for dtype, _ in model.seen} == {torch.bfloat16 if amp == "bf16" else torch.float16}
    assert abs(loss16 - loss32) / loss32 < 1e-2
    assert (torch.sign(update16) == torch.sign(update32)).float().mean().item() >= 0.95


@pytest.mark.gpu
def test_cuda_resume_equals_an_uninterrupted_run(tmp_path):
    """Check the checkpoint round trip on CUDA (CUDA random state included); equal within rounding, since
    some CUDA kernels are not deterministic."""
    data, kwargs = _clips(), dict(epochs=3, batch_size=8, lr=1e-2, seed=2, progress=False, device="cuda")
    whole = _StopAfter(_conv_model(), calls=10 ** 6)
    expected = fit(whole, data, **kwargs)
    with pytest.raises(_Interrupt):
        fit(_StopAfter(_conv_model(), calls=7), data, checkpoint=tmp_path / "run.pt", **kwargs)
    resumed = _StopAfter(_conv_model(seed=7), calls=10 ** 6)
    history = fit(resumed, data, checkpoint=tmp_path / "run.pt", **kwargs)
    torch.testing.assert_close(torch.tensor(history.step_loss), torch.tensor(expected.step_loss), rtol=1e-4, atol=1e-5)
    for a, b in zip(_weights(resumed), _weights(whole)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_correct_per_clip_marks_each_item_as_a_plain_argmax_loop_does():
    """Check correct_per_clip against a loop over single items, in eval mode, without gradients."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))
    model.train()(torch.randn(16, 3, 4))  # BatchNorm's running statistics now differ from a batch's own
    inputs, labels = torch.randn(37, 3, 4), torch.randint(0, 3, (37,))
    expected = []
    model.eval()
    for x, y in zip(inputs, labels):
        expected.append(float(model(x[None]).argmax(1).item() == y.item()))
    model.train()
    got = correct_per_clip(model, (inputs, labels), batch_size=5, device="cpu")
    assert got.dtype == np.float64 and got.shape == (37,)
    np.testing.assert_array_equal(got, expected)
    assert not model.training
    assert 0 < got.sum() < 37  # a case that can tell right from wrong
    np.testing.assert_array_equal(correct_per_clip(model, TensorDataset(inputs, labels), device="cpu"), expected)
    assert evaluate(model, (inputs, labels), device="cpu") == pytest.approx(float(np.mean(expected)))


def test_correct_per_clip_rejects_labels_of_another_length():
    with pytest.raises(ValueError, match="same length"):
        correct_per_clip(nn.Flatten(), (torch.zeros(4, 2), torch.zeros(3, dtype=torch.long)), device="cpu")
