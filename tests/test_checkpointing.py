"""Tests of course.checkpointing: a checkpointed 3D U-Net computes what the plain one does — outputs,
gradients, batch-norm running statistics — and keeps fewer activations."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from course.checkpointing import CheckpointedBlock, checkpoint_unet3d
from course.nn.unet3d import UNet3D


def _pair(norm: str | None, spatial_dims: int = 3, up: str = "transpose") -> tuple[UNet3D, UNet3D]:
    torch.manual_seed(0)
    plain = UNet3D(2, 3, (4, 6, 8), norm=norm, spatial_dims=spatial_dims, up=up)
    return plain, checkpoint_unet3d(copy.deepcopy(plain))


def _unwrap(state: dict) -> dict:
    return {k.replace(".block.", "."): v for k, v in state.items()}


@pytest.mark.parametrize("norm, spatial_dims, up, shape", [
    ("batch", 3, "transpose", (2, 2, 4, 8, 12)),
    ("instance", 3, "linear", (1, 2, 8, 4, 4)),
    (None, 3, "transpose", (3, 2, 4, 4, 8)),
    ("batch", 2, "transpose", (2, 2, 12, 8)),
])
def test_outputs_gradients_and_running_statistics_equal_the_plain_model(norm, spatial_dims, up, shape):
    """Check forward, input and parameter gradients, and batch-norm buffers against the plain U-Net."""
    plain, wrapped = _pair(norm, spatial_dims, up)
    assert sum(isinstance(m, CheckpointedBlock) for m in wrapped.modules()) == 2 * 3 - 1
    x = torch.randn(*shape)
    outputs, grads = [], []
    for model in (plain, wrapped):
        xi = x.clone().requires_grad_(True)
        for _ in range(2):  # two steps, so running statistics update twice
            out = model(xi)
            (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        outputs.append(out.detach())
        grads.append([xi.grad] + [p.grad for p in model.parameters()])
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=0)
    for a, b in zip(grads[1], grads[0]):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    plain_state, wrapped_state = plain.state_dict(), _unwrap(wrapped.state_dict())
    assert plain_state.keys() == wrapped_state.keys()
    for key in plain_state:
        assert torch.equal(plain_state[key], wrapped_state[key]), key


def test_the_recomputation_really_runs_and_eval_mode_runs_the_plain_blocks():
    """Check that backward calls each wrapped block a second time in training, and never in eval mode."""
    _, wrapped = _pair("batch")
    calls = []
    for module in wrapped.modules():
        if isinstance(module, CheckpointedBlock):
            # the first conv of the block: the recomputation stops early once the saved tensors are
            # rebuilt, so a hook on the whole block would not see it
            module.block[0].register_forward_pre_hook(lambda m, i: calls.append(m))
    out = wrapped(torch.randn(2, 2, 4, 4, 4))
    forward_calls = len(calls)
    out.sum().backward()
    assert forward_calls == 5 and len(calls) == 10
    calls.clear()
    wrapped.eval()
    with torch.no_grad():
        wrapped(torch.randn(2, 2, 4, 4, 4))
    assert len(calls) == 5


def test_fewer_activations_are_kept_for_backward():
    """Check the memory claim: the tensors saved for backward shrink (counted with saved-tensor hooks)."""
    def saved_numbers(model: nn.Module) -> int:
        total = [0]

        def pack(t):
            total[0] += t.numel()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(torch.randn(2, 2, 8, 8, 8))
        return total[0]

    plain, wrapped = _pair("batch")
    assert saved_numbers(wrapped) < 0.5 * saved_numbers(plain)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="needs a course.nn.unet3d.UNet3D"):
        checkpoint_unet3d(nn.Conv3d(1, 1, 3))
    _, wrapped = _pair("batch")
    with pytest.raises(ValueError, match="already checkpointed"):
        checkpoint_unet3d(wrapped)
