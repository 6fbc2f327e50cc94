"""Tests of course.train: fit learns a tiny separable problem, is deterministic, and evaluate agrees
with a hand computation."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from torch.utils.data import Dataset, TensorDataset

from course.train import History, accuracy, evaluate, fit


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
