"""(2+1)D and P3D: the M_i rule, parameter counts, kernel splitting, shapes, and the block algebra."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from course.nn.factorized import (Conv2Plus1d, P3DBlock, P3DBlockA, P3DBlockB, P3DBlockC, conv2plus1d_forward,
                                  conv2plus1d_params, factorize_kernel, midplanes, mixed_conv_kernels, p3d_combine)
from support import n_params


# --- midplanes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, expected", [
    ((64, 64, 3, 3), 144),        # 27·64·64 / (9·64 + 3·64) = 144 exactly
    ((64, 128, 3, 3), 230),       # 221184 / 960 = 230.4
    ((128, 128, 3, 3), 288),      # 2.25·128
    ((256, 512, 3, 3), 921),      # 1.8·512 = 921.6
    ((512, 512, 3, 3), 1152),
    ((3, 64, 3, 7), 83),          # R(2+1)D stem: 28224 / 339 = 83.26 (torchvision uses 45)
    ((1, 1, 1, 1), 0),            # 1 / 2 floors to 0
    ((5, 7, 2, 5), 12),           # 2·25·5·7 / (25·5 + 2·7) = 1750 / 139 = 12.59
])
def test_midplanes_hand_computed(args, expected):
    assert midplanes(*args) == expected
    i, o, t, d = args
    assert expected == int(t * d * d * i * o / (d * d * i + t * o))  # the floor of the exact ratio


def test_midplanes_is_the_largest_m_that_does_not_exceed_the_3d_count():
    for i, o, t, d in itertools.product([1, 3, 17, 64], [2, 5, 64, 129], [1, 2, 3, 5], [1, 3, 7]):
        m = midplanes(i, o, t, d)
        full = t * d * d * i * o
        per_channel = d * d * i + t * o  # weights one intermediate channel costs
        assert m * per_channel <= full < (m + 1) * per_channel
        if m >= 1:
            assert 0 <= full - conv2plus1d_params(i, o, t, d, m) < per_channel
        assert isinstance(m, int)


@pytest.mark.parametrize("bad", [(0, 3, 3, 3), (3, -1, 3, 3), (3, 3, 0, 3), (3, 3, 3, 2.0), (3, 3, True, 3)])
def test_midplanes_rejects_bad_sizes(bad):
    with pytest.raises(ValueError):
        midplanes(*bad)


# --- parameter counts -------------------------------------------------------------------------------
@pytest.mark.parametrize("i, o, k, m, bias", [(3, 8, (3, 3, 3), 5, False), (7, 2, (5, 3, 3), 11, True),
                                             (64, 64, (3, 3, 3), 144, False)])
def test_conv2plus1d_params_equals_the_modules(i, o, k, m, bias):
    t, d, _ = k
    spatial = torch.nn.Conv3d(i, m, (1, d, d), bias=bias)
    temporal = torch.nn.Conv3d(m, o, (t, 1, 1), bias=bias)
    assert conv2plus1d_params(i, o, t, d, m, bias=bias) == n_params(spatial) + n_params(temporal)
    module = Conv2Plus1d(i, o, k, mid_channels=m, bias=bias)
    # the module also holds the BatchNorm between the convs (2·M), and only the temporal conv has a bias
    assert n_params(module) == conv2plus1d_params(i, o, t, d, m) + 2 * m + (o if bias else 0)


def test_conv2plus1d_default_mid_channels_follow_the_rule():
    assert Conv2Plus1d(64, 128).mid_channels == midplanes(64, 128, 3, 3) == 230
    assert Conv2Plus1d(3, 64, (3, 7, 7)).mid_channels == midplanes(3, 64, 3, 7) == 83
    # non-square spatial kernels: d² becomes k_h·k_w
    assert Conv2Plus1d(4, 6, (3, 3, 5)).mid_channels == (3 * 15 * 4 * 6) // (15 * 4 + 3 * 6)


@pytest.mark.parametrize("bad", [(0, 3, 3, 3, 4), (3, 3, 3, 3, 0), (3, 3, 3, 3, 1.5)])
def test_conv2plus1d_params_rejects_bad_sizes(bad):
    with pytest.raises(ValueError):
        conv2plus1d_params(*bad)


# --- factorize_kernel ------------------------------------------------------------------------------------
def test_factorize_kernel_splits_by_axis():
    assert factorize_kernel((3, 5, 7), (2, 1, 3), (1, 2, 0)) == (((1, 5, 7), (1, 1, 3), (0, 2, 0)),
                                                                ((3, 1, 1), (2, 1, 1), (1, 0, 0)))
    assert factorize_kernel(3, 2, 1) == (((1, 3, 3), (1, 2, 2), (0, 1, 1)), ((3, 1, 1), (2, 1, 1), (1, 0, 0)))
    assert factorize_kernel([3, 3, 3]) == (((1, 3, 3), (1, 1, 1), (0, 0, 0)), ((3, 1, 1), (1, 1, 1), (0, 0, 0)))


@pytest.mark.parametrize("bad", [dict(kernel_size=(3, 3)), dict(kernel_size=0), dict(kernel_size=3, stride=0),
                                 dict(kernel_size=3, padding=-1), dict(kernel_size=(3, 3, 3, 3))])
def test_factorize_kernel_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        factorize_kernel(**bad)


# --- shapes: (2+1)D gives Conv3d's output size -----------------------------------------------------------
CASES = [((3, 3, 3), 1, 0), ((3, 3, 3), 1, 1), ((3, 3, 3), 2, 1), ((3, 3, 3), (2, 1, 2), (1, 0, 1)),
         ((5, 3, 3), (1, 2, 3), (2, 1, 0)), ((3, 7, 7), (1, 2, 2), (1, 3, 3)), ((1, 3, 5), 3, (0, 2, 1))]


@pytest.mark.parametrize("kernel, stride, padding", CASES)
def test_conv2plus1d_output_shape_equals_conv3d(kernel, stride, padding):
    x = torch.randn(2, 3, 5, 9, 11)
    conv3d = torch.nn.Conv3d(3, 4, kernel, stride=stride, padding=padding)
    conv21 = Conv2Plus1d(3, 4, kernel, stride=stride, padding=padding)
    assert conv21(x).shape == conv3d(x).shape
    M = conv21.mid_channels
    ws, wt = torch.randn(M, 3, 1, kernel[1], kernel[2]), torch.randn(4, M, kernel[0], 1, 1)
    assert conv2plus1d_forward(x, ws, wt, stride, padding).shape == conv3d(x).shape


def test_conv2plus1d_state_dict_keys_are_torchvisions():
    keys = set(Conv2Plus1d(3, 4, 3, padding=1).state_dict())
    assert keys == {"0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                    "3.weight"}


# --- conv2plus1d_forward against an independent computation -------------------------------------------------
def test_without_the_relu_a_2plus1d_conv_is_a_3d_conv_with_a_rank_m_kernel():
    """With non-negative inputs and spatial weights the ReLU does nothing; then (2+1)D equals one Conv3d
    whose kernel is sum_m T[o, m, t] · S[m, c, h, w] (a 3D kernel of rank M across space and time)."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 5, 9, 11, generator=g, dtype=torch.float64)
    ws = torch.rand(6, 3, 1, 3, 5, generator=g, dtype=torch.float64)
    wt = torch.randn(4, 6, 3, 1, 1, generator=g, dtype=torch.float64)
    w3d = torch.einsum("omt,mchw->octhw", wt[:, :, :, 0, 0], ws[:, :, 0])  # (4, 3, 3, 3, 5)
    for stride, padding in [(1, 0), (2, 1), ((1, 2, 3), (1, 1, 2))]:
        # zero padding: a padded frame gives relu(S(0)) = 0, the same as padding after the ReLU
        expected = F.conv3d(x, w3d, stride=stride, padding=padding)
        torch.testing.assert_close(conv2plus1d_forward(x, ws, wt, stride, padding), expected)
    # with signed spatial weights the ReLU matters: the factorized conv is no longer linear
    ws_signed = ws - 0.5
    w3d_signed = torch.einsum("omt,mchw->octhw", wt[:, :, :, 0, 0], ws_signed[:, :, 0])
    assert not torch.allclose(conv2plus1d_forward(x, ws_signed, wt), F.conv3d(x, w3d_signed))


def test_conv2plus1d_forward_matches_the_module():
    torch.manual_seed(0)
    module = Conv2Plus1d(3, 5, (3, 3, 3), stride=(2, 1, 2), padding=1, mid_channels=7).eval()
    bn = module[1]
    bn.running_var.fill_(1 - bn.eps)  # running mean 0, var + eps = 1, weight 1, bias 0: the identity
    x = torch.randn(2, 3, 5, 9, 11)
    expected = module(x)
    got = conv2plus1d_forward(x, module[0].weight, module[3].weight, (2, 1, 2), 1)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("shapes", [
    ((2, 3, 4, 5, 5), (6, 3, 3, 3, 3), (4, 6, 3, 1, 1)),  # spatial weight with a temporal extent
    ((2, 3, 4, 5, 5), (6, 3, 1, 3, 3), (4, 6, 3, 3, 1)),  # temporal weight with a spatial extent
    ((2, 3, 4, 5, 5), (6, 2, 1, 3, 3), (4, 6, 3, 1, 1)),  # input channels do not chain
    ((2, 3, 4, 5, 5), (6, 3, 1, 3, 3), (4, 5, 3, 1, 1)),  # intermediate channels do not chain
    ((3, 4, 5, 5), (6, 3, 1, 3, 3), (4, 6, 3, 1, 1)),     # not a batch
])
def test_conv2plus1d_forward_rejects_bad_shapes(shapes):
    x, ws, wt = (torch.zeros(s) for s in shapes)
    with pytest.raises(ValueError):
        conv2plus1d_forward(x, ws, wt)


# --- mixed convolutions ------------------------------------------------------------------------------
def test_mixed_conv_kernels_follow_the_paper():
    three, two = (3, 3, 3), (1, 3, 3)
    assert mixed_conv_kernels(5, 3) == [three, three, two, two, two]           # MC3
    assert mixed_conv_kernels(5, 3, reverse=True) == [two, two, three, three, three]  # rMC3
    assert mixed_conv_kernels(5, 5) == [three] * 4 + [two]                    # MC5
    assert mixed_conv_kernels(5, 1) == [two] * 5                              # MC1 = a 2D ResNet on clips
    assert mixed_conv_kernels(4, 2, t=5, d=7) == [(5, 7, 7), (1, 7, 7), (1, 7, 7), (1, 7, 7)]


@pytest.mark.parametrize("bad", [(5, 0), (5, 6), (0, 1), (5, 3, False, 0)])
def test_mixed_conv_kernels_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        mixed_conv_kernels(*bad)


# --- P3D combinations ------------------------------------------------------------------------------------
def _identity_temporal(C: int, kt: int = 3) -> torch.Tensor:
    w = torch.zeros(C, C, kt, 1, 1, dtype=torch.float64)
    w[range(C), range(C), kt // 2] = 1.0  # a centred delta: T(x) = x
    return w


def test_p3d_combine_with_an_identity_temporal_conv():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 5, 7, 9, generator=g, dtype=torch.float64)
    ws = torch.randn(3, 3, 1, 3, 5, generator=g, dtype=torch.float64)
    s = F.conv3d(x, ws, padding=(0, 1, 2))
    wt = _identity_temporal(3)
    torch.testing.assert_close(p3d_combine(x, ws, wt, "A"), s)           # T(S(x)) = S(x)
    torch.testing.assert_close(p3d_combine(x, ws, wt, "B"), s + x)       # S(x) + T(x) = S(x) + x
    torch.testing.assert_close(p3d_combine(x, ws, wt, "C"), 2 * s)       # S(x) + T(S(x)) = 2 S(x)


def test_p3d_combine_variants_are_related():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 4, 6, 5, 7, generator=g, dtype=torch.float64)
    ws = torch.randn(4, 4, 1, 3, 3, generator=g, dtype=torch.float64)
    wt = torch.randn(4, 4, 5, 1, 1, generator=g, dtype=torch.float64)
    a, b, c = (p3d_combine(x, ws, wt, v) for v in "ABC")
    s = F.conv3d(x, ws, padding=(0, 1, 1))
    assert a.shape == b.shape == c.shape == x.shape
    torch.testing.assert_close(c, s + a)  # C = S + A
    torch.testing.assert_close(b - s, F.conv3d(x, wt, padding=(2, 0, 0)))
    assert not torch.allclose(a, b) and not torch.allclose(a, c)


@pytest.mark.parametrize("variant, ws_shape, wt_shape", [("D", (3, 3, 1, 3, 3), (3, 3, 3, 1, 1)),
                                                          ("A", (3, 3, 1, 2, 3), (3, 3, 3, 1, 1)),
                                                          ("B", (3, 3, 1, 3, 3), (3, 3, 4, 1, 1)),
                                                          ("C", (4, 3, 1, 3, 3), (4, 4, 3, 1, 1)),
                                                          ("A", (3, 3, 3, 3, 3), (3, 3, 3, 1, 1))])
def test_p3d_combine_rejects_bad_arguments(variant, ws_shape, wt_shape):
    with pytest.raises(ValueError):
        p3d_combine(torch.zeros(1, 3, 4, 5, 5), torch.zeros(ws_shape), torch.zeros(wt_shape), variant)


# --- P3D blocks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("block", [P3DBlockA, P3DBlockB, P3DBlockC])
@pytest.mark.parametrize("in_channels, out_channels, stride, expected_thw", [
    (16, 16, 1, (5, 9, 11)), (8, 16, 1, (5, 9, 11)), (16, 32, 2, (3, 5, 6)), (16, 16, (1, 2, 2), (5, 5, 6))])
def test_p3d_block_shapes(block, in_channels, out_channels, stride, expected_thw):
    x = torch.randn(2, in_channels, 5, 9, 11)
    y = block(in_channels, out_channels, stride=stride)(x)
    assert y.shape == (2, out_channels, *expected_thw)
    assert (y >= 0).all()  # the block ends with a ReLU


@pytest.mark.parametrize("block", [P3DBlockA, P3DBlockB, P3DBlockC])
def test_p3d_block_is_residual(block):
    """With the last BatchNorm's scale and shift at zero the residual branch adds nothing: y = relu(x)."""
    torch.manual_seed(0)
    m = block(8, 8)
    torch.nn.init.zeros_(m.expand[1].weight)
    x = torch.randn(2, 8, 4, 6, 7)
    torch.testing.assert_close(m(x), torch.relu(x))
    x.requires_grad_(True)
    m(x).sum().backward()  # and the gradient flows through the shortcut
    torch.testing.assert_close(x.grad, (x > 0).to(x.dtype))


def test_p3d_blocks_differ_only_in_the_combination():
    torch.manual_seed(0)
    blocks = [P3DBlockA(8, 16, stride=2), P3DBlockB(8, 16, stride=2), P3DBlockC(8, 16, stride=2)]
    state = blocks[0].state_dict()
    assert all(n_params(b) == n_params(blocks[0]) for b in blocks)  # same convs, combined differently
    for b in blocks[1:]:
        b.load_state_dict(state)
    x = torch.randn(2, 8, 6, 10, 10)
    a, b_, c = (b.eval()(x) for b in blocks)
    assert not torch.allclose(a, b_) and not torch.allclose(a, c) and not torch.allclose(b_, c)
    assert P3DBlock(8, 16, "B").variant == "B"
    with pytest.raises(ValueError):
        P3DBlock(8, 16, "E")
