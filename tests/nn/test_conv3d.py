"""Tests of course.nn.conv3d: the from-scratch 3D convolution against torch.nn.functional.conv3d
(forward and gradients, every stride / padding / dilation / groups combination of a table, float64)
and against the definition written as explicit loops; output sizes against nn.Conv3d; receptive
fields against hand counts and against a probe through real convolutions."""
from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from course.nn.conv3d import conv3d, conv3d_output_size, receptive_field

X_SHAPE = (2, 4, 5, 7, 6)  # (N, C_in, T, H, W): odd, all different
STRIDES = [1, (1, 2, 3)]
PADDINGS = [0, (1, 0, 2)]
DILATIONS = [1, (2, 1, 2)]
GROUPS = [1, 2, 4]
KERNELS = [(3, 3, 3), (3, 2, 1)]


def _inputs(groups: int, kernel: tuple[int, int, int], c_out: int = 8, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(X_SHAPE, generator=g, dtype=torch.float64)
    w = torch.randn((c_out, X_SHAPE[1] // groups, *kernel), generator=g, dtype=torch.float64)
    b = torch.randn(c_out, generator=g, dtype=torch.float64)
    return x, w, b


@pytest.mark.parametrize("stride, padding, dilation, groups, kernel",
                         list(itertools.product(STRIDES, PADDINGS, DILATIONS, GROUPS, KERNELS)))
def test_forward_and_gradients_equal_torch(stride, padding, dilation, groups, kernel):
    """Check output, and gradients w.r.t. input, weight and bias, against F.conv3d in float64."""
    x, w, b = _inputs(groups, kernel)
    leaves = [t.clone().requires_grad_(True) for t in (x, w, b)]
    refs = [t.clone().requires_grad_(True) for t in (x, w, b)]
    y = conv3d(*leaves, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y_ref = F.conv3d(*refs, stride=stride, padding=padding, dilation=dilation, groups=groups)
    assert y.shape == y_ref.shape
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
    upstream = torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    (y * upstream).sum().backward()
    (y_ref * upstream).sum().backward()
    for name, mine, ref in zip(("input", "weight", "bias"), leaves, refs):
        torch.testing.assert_close(mine.grad, ref.grad, rtol=1e-12, atol=1e-12, msg=f"gradient w.r.t. {name}")


def test_gradcheck_against_finite_differences():
    """Check autograd's gradients of conv3d against finite differences (independent of torch's conv)."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, 2, 3, 4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 1, 2, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: conv3d(x, w, b, stride=(1, 2, 1), padding=1, groups=2), (x, w, b))


def test_equals_the_definition_written_as_loops():
    """Check a cross-correlation (no kernel flip) against the defining sum, element by element."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(1, 2, 4, 5, 4, generator=g, dtype=torch.float64)
    w = torch.randn(3, 2, 2, 3, 2, generator=g, dtype=torch.float64)
    y = conv3d(x, w, stride=(2, 1, 1), dilation=(1, 1, 2))
    _, _, T, H, W = y.shape
    for o, t, h, ww in itertools.product(range(3), range(T), range(H), range(W)):
        expected = sum(w[o, c, i, j, k] * x[0, c, 2 * t + i, h + j, ww + 2 * k]
                       for c, i, j, k in itertools.product(range(2), range(2), range(3), range(2)))
        assert abs(float(y[0, o, t, h, ww] - expected)) < 1e-12


def test_float32_and_no_bias():
    """Check float32 in, float32 out, close to torch; and bias=None."""
    g = torch.Generator().manual_seed(5)
    x, w = torch.randn(2, 3, 6, 10, 7, generator=g), torch.randn(4, 3, 3, 3, 3, generator=g)
    y = conv3d(x, w, stride=2, padding=1)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, F.conv3d(x, w, stride=2, padding=1), rtol=1e-4, atol=1e-5)


def test_a_temporal_kernel_sees_only_time():
    """Check that a (3, 1, 1) kernel [-1, 0, 1] gives x[t + 2] - x[t]: it slides over time, not space."""
    x = torch.randn(1, 1, 6, 4, 5, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    w = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64).view(1, 1, 3, 1, 1)
    torch.testing.assert_close(conv3d(x, w), x[:, :, 2:] - x[:, :, :-2])


@pytest.mark.parametrize("x_shape, w_shape, kwargs, match", [
    ((1, 3, 4, 5, 5), (2, 4, 3, 3, 3), {}, r"C_in=3.*\(2, 4, 3, 3, 3\)"),
    ((1, 4, 4, 5, 5), (3, 2, 3, 3, 3), {"groups": 2}, r"groups=2.*C_out=3"),
    ((1, 4, 4, 5, 5), (4, 4, 3, 3, 3), {"groups": 3}, r"groups=3.*C_in=4"),
    ((4, 4, 5, 5), (2, 4, 3, 3, 3), {}, r"5-D.*\(4, 4, 5, 5\)"),
    ((1, 4, 4, 5, 5), (2, 4, 3, 3), {}, r"5-D.*\(2, 4, 3, 3\)"),
    ((1, 4, 2, 5, 5), (2, 4, 3, 3, 3), {}, r"does not fit.*\(2, 5, 5\)"),
    ((1, 4, 4, 5, 5), (2, 4, 3, 3, 3), {"stride": 0}, r"stride"),
    ((1, 4, 4, 5, 5), (2, 4, 3, 3, 3), {"padding": (1, 1)}, r"padding"),
])
def test_clear_errors_name_the_shapes(x_shape, w_shape, kwargs, match):
    """Check ValueErrors (not torch's RuntimeErrors) whose message names the problem."""
    with pytest.raises(ValueError, match=match):
        conv3d(torch.zeros(x_shape), torch.zeros(w_shape), **kwargs)


def test_bias_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        conv3d(torch.zeros(1, 4, 4, 5, 5), torch.zeros(2, 4, 3, 3, 3), torch.zeros(3))


@pytest.mark.parametrize("size, kernel, stride, padding, dilation", [
    ((16, 112, 112), 3, 1, 1, 1),
    ((16, 112, 112), (3, 7, 7), (1, 2, 2), (1, 3, 3), 1),
    ((5, 7, 6), (3, 2, 3), 1, 0, (2, 1, 2)),
    ((9, 10, 11), 3, 2, 0, 1),
    ((5, 7, 6), (3, 2, 1), (1, 2, 3), (1, 0, 2), (2, 1, 2)),
    ((1, 1, 1), 1, 1, 0, 1),
])
def test_output_size_equals_nn_conv3d(size, kernel, stride, padding, dilation):
    """Check the formula against the output shape of torch.nn.Conv3d (on the meta device, no compute)."""
    conv = torch.nn.Conv3d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, device="meta")
    expected = tuple(conv(torch.empty(1, 1, *size, device="meta")).shape[2:])
    got = conv3d_output_size(size, kernel, stride, padding, dilation)
    assert got == expected and type(got) is tuple and all(type(v) is int for v in got)


def test_output_size_accepts_one_int_for_all_axes():
    assert conv3d_output_size(8, 3) == (6, 6, 6)
    assert conv3d_output_size(8, 3, stride=2, padding=1, dilation=2) == (3, 3, 3)


@pytest.mark.parametrize("args, kwargs, match", [
    (((2, 8, 8), 3), {}, r"axis T.*spans 3"),
    (((8, 8, 8), 3), {"dilation": (1, 5, 1)}, r"axis H.*spans 11"),
    (((8, 8, 8), (3, 3)), {}, r"kernel_size"),
    (((8, 8, 8), 3), {"stride": 0}, r"stride"),
    (((8, 8, 8), 3), {"padding": -1}, r"padding"),
    (((8, 8.0, 8), 3), {}, r"size"),
])
def test_output_size_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv3d_output_size(*args, **kwargs)


@pytest.mark.parametrize("kernels, strides, dilations, expected", [
    ([3], 1, 1, 3),
    ([3] * 8, 1, 1, 17),  # eight 3-tap layers: 1 + 8·2
    ([3, 3, 3], 1, [1, 2, 4], 15),  # 1 + 2 + 4 + 8
    ([3, 2, 3, 2, 3], [1, 2, 1, 2, 1], 1, 18),  # 1 + 2 + 1 + 2·2 + 1·2 + 2·4
    ([7], [2], 1, 7),
])
def test_receptive_field_hand_counts(kernels, strides, dilations, expected):
    assert receptive_field(kernels, strides, dilations) == expected


@pytest.mark.parametrize("kernels, strides, dilations", [
    ([3, 2, 3, 2, 3], [1, 2, 1, 2, 1], [1, 1, 1, 1, 1]),
    ([2, 3, 1, 3], [2, 1, 2, 1], [1, 2, 1, 1]),
])
def test_receptive_field_equals_a_gradient_probe(kernels, strides, dilations):
    """Check the formula against the input positions a real 1-axis conv stack's last output depends on."""
    length = 64
    x = torch.zeros(1, 1, length, 1, 1, requires_grad=True)
    y = x
    for k, s, d in zip(kernels, strides, dilations):
        y = conv3d(y, torch.ones(1, 1, k, 1, 1), stride=(s, 1, 1), dilation=(d, 1, 1))
    y[0, 0, y.shape[2] // 2, 0, 0].backward()
    touched = x.grad[0, 0, :, 0, 0].nonzero().flatten()
    assert int(touched.max() - touched.min()) + 1 == receptive_field(kernels, strides, dilations)


@pytest.mark.parametrize("args, match", [
    (([],), "at least one layer"),
    (([3, 3], [1, 2, 1]), "3 strides"),
    (([3, 0],), "kernel_sizes"),
    (([3, 3], 1, [1, 0]), "dilations"),
])
def test_receptive_field_errors(args, match):
    with pytest.raises(ValueError, match=match):
        receptive_field(*args)


@pytest.mark.gpu
def test_cuda_equals_torch():
    x, w, b = (t.cuda() for t in _inputs(2, (3, 3, 3)))
    torch.testing.assert_close(conv3d(x, w, b, stride=(1, 2, 1), padding=1, dilation=(2, 1, 1), groups=2),
                               F.conv3d(x, w, b, stride=(1, 2, 1), padding=1, dilation=(2, 1, 1), groups=2))
