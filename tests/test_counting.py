"""Tests of course.counting: closed forms against torch's modules and torch's FlopCounterMode, and
activation memory against a hand count."""
from __future__ import annotations

import itertools

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from course.counting import activation_memory, best_time, conv3d_flops, conv_params, count_flops, count_params
from course.nn.conv3d import conv3d_output_size

CONV_CONFIGS = [  # in, out, kernel, groups
    (3, 1, (3, 3, 3), 1),
    (64, 128, (3, 3, 3), 4),
    (32, 32, (1, 3, 3), 32),
    (16, 8, (3, 1, 1), 2),
    (6, 9, (2, 5, 3), 3),
]


def test_the_seed_numbers_81_and_27():
    """A 3×3×3 conv from 3 channels to 1 has 81 weights; a 3×3 2D conv 27."""
    assert conv_params(3, 1, 3, bias=False) == 81 == torch.nn.Conv3d(3, 1, 3, bias=False).weight.numel()
    assert conv_params(3, 1, (3, 3), bias=False) == 27 == torch.nn.Conv2d(3, 1, 3, bias=False).weight.numel()
    assert conv_params(3, 1, 3) == 82 and conv_params(3, 1, (3, 3)) == 28


@pytest.mark.parametrize("c_in, c_out, kernel, groups", CONV_CONFIGS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_params_equals_torch_modules(c_in, c_out, kernel, groups, bias):
    conv3 = torch.nn.Conv3d(c_in, c_out, kernel, groups=groups, bias=bias, device="meta")
    conv2 = torch.nn.Conv2d(c_in, c_out, kernel[1:], groups=groups, bias=bias, device="meta")
    conv1 = torch.nn.Conv1d(c_in, c_out, kernel[:1], groups=groups, bias=bias, device="meta")
    assert conv_params(c_in, c_out, kernel, bias, groups) == count_params(conv3) \
        == sum(p.numel() for p in conv3.parameters())
    assert conv_params(c_in, c_out, kernel[1:], bias, groups) == count_params(conv2)
    assert conv_params(c_in, c_out, kernel[:1], bias, groups) == count_params(conv1)


@pytest.mark.parametrize("args, kwargs", [((6, 4, 3), {"groups": 4}), ((3, 0, 3), {}), ((3, 1, (3, 0)), {}),
                                          ((3, 1, ()), {}), ((3.0, 1, 3), {})])
def test_conv_params_errors(args, kwargs):
    with pytest.raises(ValueError):
        conv_params(*args, **kwargs)


def test_count_params_trainable_only_and_shared():
    model = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3), torch.nn.BatchNorm3d(4), torch.nn.Conv3d(4, 2, 1))
    assert count_params(model) == (4 * 3 * 27 + 4) + 8 + (2 * 4 + 2)  # BatchNorm: weight and bias, no buffers
    model[0].requires_grad_(False)
    assert count_params(model, trainable_only=True) == 8 + 10
    shared = torch.nn.Sequential(model[2], model[2])
    assert count_params(shared) == 10


@pytest.mark.parametrize("c_in, c_out, kernel, groups", CONV_CONFIGS)
@pytest.mark.parametrize("size, stride, padding", [((5, 9, 8), 1, 1), ((8, 12, 11), (1, 2, 2), (1, 0, 2))])
def test_conv3d_flops_equals_flop_counter_mode(c_in, c_out, kernel, groups, size, stride, padding):
    """Closed form == count_flops == FlopCounterMode, per clip times the batch."""
    conv = torch.nn.Conv3d(c_in, c_out, kernel, stride=stride, padding=padding, groups=groups)
    x = torch.randn(2, c_in, *size)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        conv(x)
    out = conv3d_output_size(size, kernel, stride, padding)
    assert 2 * conv3d_flops(c_in, c_out, kernel, out, groups) == counter.get_total_flops() == count_flops(conv, x)


def test_flops_are_two_per_multiply_accumulate():
    """One output of a 1×1×1 conv from 1 channel is one multiply-add: 2 FLOPs (bias not counted)."""
    assert conv3d_flops(1, 1, 1, 1) == 2
    assert conv3d_flops(3, 64, 3, (16, 112, 112)) == 2 * 64 * 3 * 27 * 16 * 112 * 112


@pytest.mark.parametrize("args, kwargs", [((6, 4, 3, 8), {"groups": 4}), ((3, 8, (3, 3), 8), {}),
                                          ((3, 8, 3, (8, 8)), {}), ((3, 8, 3, 0), {})])
def test_conv3d_flops_errors(args, kwargs):
    with pytest.raises(ValueError):
        conv3d_flops(*args, **kwargs)


def test_count_flops_of_a_network_is_the_sum_of_its_layers():
    model = torch.nn.Sequential(torch.nn.Conv3d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool3d(2),
                                torch.nn.Conv3d(8, 4, (1, 3, 3)), torch.nn.Flatten(), torch.nn.Linear(4 * 2 * 3 * 2, 5))
    x = torch.randn(3, 3, 4, 10, 8)
    expected = 3 * (conv3d_flops(3, 8, 3, (4, 10, 8)) + conv3d_flops(8, 4, (1, 3, 3), (2, 3, 2)) + 2 * 48 * 5)
    assert count_flops(model, x) == expected


def test_activation_memory_hand_count():
    """Conv (1→2 ch) 960 B, ReLU 960 B, in-place ReLU 0 B, Flatten (a view) 0 B, Linear 5·4 B."""
    model = torch.nn.Sequential(torch.nn.Conv3d(1, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.ReLU(inplace=True),
                                torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 5 * 6, 5))
    x = torch.randn(1, 1, 4, 5, 6)
    assert activation_memory(model, x) == 2 * 4 * 5 * 6 * 4 + 2 * 4 * 5 * 6 * 4 + 0 + 0 + 5 * 4
    assert activation_memory(model, torch.randn(3, 1, 4, 5, 6)) == 3 * activation_memory(model, x)
    assert activation_memory(model.double(), x.double()) == 2 * activation_memory(model.float(), x)


def test_activation_memory_counts_nested_leaves_once_and_removes_its_hooks():
    inner = torch.nn.Sequential(torch.nn.Conv3d(2, 3, 1), torch.nn.ReLU())
    model = torch.nn.Sequential(inner, torch.nn.Conv3d(3, 1, 1))
    x = torch.randn(1, 2, 2, 3, 4)
    assert activation_memory(model, x) == (3 + 3 + 1) * 24 * 4
    assert all(not m._forward_hooks for m in model.modules())


def test_activation_memory_removes_hooks_when_the_forward_fails():
    model = torch.nn.Sequential(torch.nn.Conv3d(2, 3, 1))
    with pytest.raises(RuntimeError):
        activation_memory(model, torch.randn(1, 5, 2, 2, 2))
    assert not model[0]._forward_hooks


def test_3d_costs_kt_times_the_2d_conv_per_frame():
    """A 3×3×3 conv costs 3× the FLOPs of a 3×3 conv applied to every frame (same output size)."""
    for c_in, c_out in itertools.product((3, 16), (8, 64)):
        frame_by_frame = conv3d_flops(c_in, c_out, (1, 3, 3), (16, 56, 56))
        assert conv3d_flops(c_in, c_out, 3, (16, 56, 56)) == 3 * frame_by_frame


def test_count_flops_counts_fused_attention():
    """Check that attention through scaled_dot_product_attention is counted: QKᵀ and AV, 2 FLOPs per MAC."""
    class Attend(torch.nn.Module):
        def forward(self, q, k, v):  # noqa: ANN001, ANN201
            return torch.nn.functional.scaled_dot_product_attention(q, k, v)

    n, heads, length, dim = 2, 3, 17, 8
    q, k, v = (torch.randn(n, heads, length, dim) for _ in range(3))
    assert count_flops(Attend(), q, k, v) == 2 * (2 * n * heads * length * length * dim)


def test_best_time_is_the_shortest_of_the_calls(monkeypatch):
    """Check best_time with a clock that we control: calls of 3, 1 and 2 s give 1 s, and fn ran 3 times."""
    import course.counting as counting

    ticks = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])
    monkeypatch.setattr(counting.time, "perf_counter", lambda: next(ticks))
    calls = []
    assert best_time(lambda: calls.append(1), repeats=3) == 1.0
    assert len(calls) == 3


@pytest.mark.parametrize("repeats", [0, -1, 1.5, True])
def test_best_time_rejects_a_bad_repeat_count(repeats):
    with pytest.raises(ValueError, match="repeats"):
        best_time(lambda: None, repeats=repeats)
