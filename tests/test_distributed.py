"""Tests of course.distributed: two CPU processes (torchrun, gloo) train like one process on the same
global batch, and the split of a batch over ranks is a partition."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch

import course
from course.distributed import fit_distributed, rank_slice
from course.train import fit

# The data and model both runs use: executed here and in the worker script.
_SETUP = textwrap.dedent('''
    import torch
    from torch import nn

    def make_data():
        """45 clips (45, 2, 4, 6, 6) float32 and labels (45,) int64: batches of 8 end with 5 (3 + 2 items)."""
        g = torch.Generator().manual_seed(0)
        labels = torch.arange(45) % 3
        x = torch.randn(45, 2, 4, 6, 6, generator=g)
        x[:, 0] += labels.view(-1, 1, 1, 1).float()
        return x, labels

    def make_model():
        """A Conv3d classifier without batch norm or dropout (per-rank statistics and masks would differ)."""
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv3d(2, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                             nn.Linear(6, 3))

    KWARGS = dict(epochs=2, batch_size=8, lr=1e-2, seed=3, weight_decay=1e-3, progress=False)
''')

_WORKER = _SETUP + textwrap.dedent('''
    import os, sys
    from course.distributed import fit_distributed

    out = sys.argv[1]
    model = make_model()
    if "STOP_AT_STEP" in os.environ:  # a killed run: forward call number STOP_AT_STEP raises on every rank
        calls = iter(range(int(os.environ["STOP_AT_STEP"]), -1, -1))
        model.register_forward_pre_hook(lambda module, args: None if next(calls) else sys.exit(3))
    history = fit_distributed(model, make_data(), checkpoint=os.path.join(out, "run.pt"), **KWARGS)
    torch.save({"step_loss": history.step_loss, "loss": history.loss, "accuracy": history.accuracy,
                "state": model.state_dict()}, os.path.join(out, f"rank{os.environ['RANK']}.pt"))
''')


_ROOT = str(os.path.dirname(os.path.dirname(os.path.abspath(course.__file__))))  # the checkout, for the workers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(out, stop_at_step: int | None = None) -> subprocess.CompletedProcess:
    """Run the worker script on 2 CPU processes with torchrun (gloo), writing into ``out``."""
    script = out / "worker.py"
    script.write_text(_WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": _ROOT}
    if stop_at_step is not None:
        env["STOP_AT_STEP"] = str(stop_at_step)
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
               "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), "--monitor-interval", "0.1",
               str(script), str(out)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory) -> list[dict]:
    """What each of the 2 ranks of an uninterrupted run returned (step losses, history, weights)."""
    out = tmp_path_factory.mktemp("ddp")
    done = _launch(out)
    assert done.returncode == 0, done.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1)] + [
        torch.load(out / "run.pt", weights_only=True)]


def test_two_gloo_processes_follow_the_one_process_run(two_process_run):
    """Check that 2 ranks × half batches give fit's per-step losses and weights on the same global batch.

    Tolerance: step losses rtol 1e-5, weights atol 1e-5 (float32; the mean of the ranks' gradients
    and the gradient of the mean differ only in the order of summation). Measured on the CPU: relative
    step-loss difference <= 1.3e-7, weight difference <= 3.0e-8 (printed with -s).
    """
    *ranks, saved = two_process_run
    namespace: dict = {}
    exec(_SETUP, namespace)
    model = namespace["make_model"]()
    single = fit(model, namespace["make_data"](), device="cpu", **namespace["KWARGS"])

    assert len(ranks[0]["step_loss"]) == len(single.step_loss) == 12
    assert ranks[0]["step_loss"] == ranks[1]["step_loss"] and ranks[0]["loss"] == ranks[1]["loss"]
    for key, value in ranks[0]["state"].items():
        assert torch.equal(value, ranks[1]["state"][key]), "DDP must keep the copies equal"
    losses = torch.tensor(ranks[0]["step_loss"], dtype=torch.float64)
    expected = torch.tensor(single.step_loss, dtype=torch.float64)
    torch.testing.assert_close(losses, expected, rtol=1e-5, atol=0)
    assert ranks[0]["accuracy"] == single.accuracy
    for key, value in model.state_dict().items():
        torch.testing.assert_close(ranks[0]["state"][key], value, rtol=0, atol=1e-5)
    print(f"\nmax relative step-loss difference {((losses - expected).abs() / expected).max().item():.2e}, "
          f"max weight difference {max((ranks[0]['state'][k] - v).abs().max().item() for k, v in model.state_dict().items()):.2e}")

    assert saved["epoch"] == 2 and len(saved["cpu_rng"]) == 2 and saved["config"]["world_size"] == 2


@pytest.mark.parametrize("size, world_size", [(8, 2), (5, 2), (7, 3), (3, 3), (1, 1)])
def test_rank_slices_partition_the_batch(size, world_size):
    """Check that the ranks' slices are disjoint, cover the batch, and differ in size by at most one."""
    batch = torch.randperm(100)[:size]
    parts = [rank_slice(batch, r, world_size) for r in range(world_size)]
    assert sorted(torch.cat(parts).tolist()) == sorted(batch.tolist())
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_bad_splits_and_a_missing_launcher_raise(monkeypatch):
    with pytest.raises(ValueError, match="cannot feed 3 processes"):
        rank_slice(torch.arange(2), 0, 3)
    with pytest.raises(ValueError, match="rank must be"):
        rank_slice(torch.arange(4), 2, 2)
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(ValueError, match="torchrun"):
        fit_distributed(torch.nn.Linear(2, 2), (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)), epochs=1,
                        batch_size=2, lr=1e-3)


def test_an_interrupted_two_process_run_resumes_to_the_same_weights_bit_for_bit(tmp_path, two_process_run):
    """Check that killing both ranks inside epoch 2 and launching again ends where the whole run ended."""
    killed = _launch(tmp_path, stop_at_step=9)  # 6 steps per epoch: step 9 lies inside epoch 2
    assert killed.returncode != 0 and not (tmp_path / "rank0.pt").exists()
    assert torch.load(tmp_path / "run.pt", weights_only=True)["epoch"] == 1
    done = _launch(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed, whole = torch.load(tmp_path / "rank0.pt", weights_only=True), two_process_run[0]
    assert resumed["step_loss"] == whole["step_loss"] and resumed["loss"] == whole["loss"]
    for key, value in whole["state"].items():
        assert torch.equal(resumed["state"][key], value), key
