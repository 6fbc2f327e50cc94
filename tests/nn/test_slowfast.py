"""SlowFast: R50 8×8 counts against PyTorchVideo's model zoo, the pathway split, the three laterals, small configurations."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from course.counting import count_params
from course.nn.slowfast import (LATERALS, Lateral, SlowFast, fast_only, lateral_channels, pathway_frames,
                                slow_only, slowfast, slowfast_r50, time_strided_conv, time_strided_sample,
                                time_to_channel)

# PyTorchVideo's model zoo, Kinetics-400, "SlowFast R50 8x8": 34.57 M parameters, 65.71 "GFLOPs" (fvcore's
# convention, 1 per multiply-accumulate) for one 8×256² + 32×256² view; "Slow R50 8x8": 32.45 M, 54.52.
R50_PARAMS_M, R50_GMACS = 34.57, 65.71
SLOW_R50_PARAMS_M, SLOW_R50_GMACS = 32.45, 54.52
R50_PARAMS = 34_566_488  # our exact count of PySlowFast's SLOWFAST_8x8_R50 config at 400 classes (rounds to 34.57 M)
# PySlowFast's head pools res5 with the kernel of its 224² training crop, (8, 7, 7) at stride 1: at 256² the
# 8×8 map leaves 2×2 positions, and the classifier runs at each of them (then the scores are averaged); ours
# pools globally and runs it once. The difference is 3 more positions × 2304 × 400 multiply-accumulates.
PYSLOWFAST_HEAD_EXTRA_MACS = 3 * 2304 * 400


def test_r50_parameter_count():
    with torch.device("meta"):
        params = count_params(slowfast_r50(num_classes=400))
    assert round(params / 1e6, 2) == R50_PARAMS_M  # the published figure
    assert params == R50_PARAMS


def test_slow_only_r50_matches_the_model_zoo():
    with torch.device("meta"):
        model = slow_only(num_classes=400, alpha=4, width=64).eval()
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(torch.empty(1, 3, 32, 256, 256))  # keeps 8 of the 32 frames
    assert round(count_params(model) / 1e6, 2) == SLOW_R50_PARAMS_M
    assert round(counter.get_total_flops() / 2 / 1e9, 2) == SLOW_R50_GMACS


@pytest.mark.parametrize("num_classes", [1, 101])
def test_r50_parameters_change_only_in_the_classifier(num_classes):
    with torch.device("meta"):
        model = slowfast_r50(num_classes=num_classes)
    assert count_params(model) == R50_PARAMS - 2305 * 400 + 2305 * num_classes  # 2048 + 256 features, + bias


def test_r50_multiply_accumulates_match_the_model_zoo():
    with torch.device("meta"):
        model = slowfast_r50().eval()
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model([torch.empty(1, 3, 8, 256, 256), torch.empty(1, 3, 32, 256, 256)])
    macs = counter.get_total_flops() // 2  # torch counts 2 FLOPs per multiply-accumulate
    assert round(macs / 1e9, 2) == R50_GMACS
    assert round((macs + PYSLOWFAST_HEAD_EXTRA_MACS) / 1e9, 2) == R50_GMACS  # PySlowFast's own head: same figure


def test_r50_layout_follows_pyslowfast():
    model = slowfast_r50(num_classes=5)
    # stems: slow 1×7×7 with 64 channels, fast 5×7×7 with 64 / 8
    assert model.slow_stem[0].weight.shape == (64, 3, 1, 7, 7)
    assert model.fast_stem[0].weight.shape == (8, 3, 5, 7, 7)
    # lateral convolutions: 7×1×1, stride α = 4 in time, 2βC channels
    convs = [lat.conv for lat in model.laterals]
    assert [tuple(c.weight.shape) for c in convs] == [(16, 8, 7, 1, 1), (64, 32, 7, 1, 1), (128, 64, 7, 1, 1),
                                                     (256, 128, 7, 1, 1)]
    assert all(c.stride == (4, 1, 1) and c.padding == (3, 0, 0) for c in convs)
    # the slow stages' first blocks take the lateral channels on top of their own
    assert [s[0].a.in_channels for s in model.slow_stages] == [64 + 16, 256 + 64, 512 + 128, 1024 + 256]
    # temporal kernels: slow 1, 1, 3, 3; fast 3 everywhere
    assert [s[0].a.kernel_size[0] for s in model.slow_stages] == [1, 1, 3, 3]
    assert [s[0].a.kernel_size[0] for s in model.fast_stages] == [3, 3, 3, 3]
    assert [len(s) for s in model.slow_stages] == [3, 4, 6, 3]
    assert model.fc.in_features == 2048 + 256


def test_pathway_frames_is_pyslowfast_packpathway():
    clip = torch.arange(32.0).view(1, 1, 32, 1, 1).expand(2, 3, 32, 4, 5)
    slow, fast = pathway_frames(clip, 4)
    # linspace(0, 31, 8) = 0, 4.43, 8.86, 13.29, 17.71, 22.14, 26.57, 31, rounded down (worked by hand)
    assert slow[0, 0, :, 0, 0].tolist() == [0, 4, 8, 13, 17, 22, 26, 31]
    assert fast is clip and slow.shape == (2, 3, 8, 4, 5)


@pytest.mark.parametrize("T, alpha", [(7, 2), (13, 3), (5, 5), (9, 1)])
def test_pathway_frames_odd_sizes_against_numpy(T, alpha):
    clip = torch.randn(2, 1, T, 3, 5)
    slow, _ = pathway_frames(clip, alpha)
    index = np.floor(np.linspace(0, T - 1, T // alpha)).astype(int)
    assert torch.equal(slow, clip[:, :, index])


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, 9])
def test_pathway_frames_rejects_bad_alpha(bad):
    with pytest.raises(ValueError, match="alpha"):
        pathway_frames(torch.zeros(1, 1, 8, 2, 2), bad)


def test_time_to_channel_against_a_loop():
    N, C, T, H, W, alpha = 2, 3, 12, 5, 7, 4
    fast = torch.randn(N, C, T, H, W)
    out = time_to_channel(fast, alpha)
    assert out.shape == (N, C * alpha, T // alpha, H, W)
    for c in range(C):
        for t in range(T // alpha):
            for k in range(alpha):
                assert torch.equal(out[:, c * alpha + k, t], fast[:, c, t * alpha + k])


def test_time_strided_sample_and_errors():
    fast = torch.randn(2, 3, 9, 4, 5)
    assert torch.equal(time_strided_sample(fast, 3), fast[:, :, [0, 3, 6]])
    with pytest.raises(ValueError, match="multiple"):
        time_strided_sample(fast, 2)
    with pytest.raises(ValueError, match="multiple"):
        time_to_channel(fast, 2)
    with pytest.raises(ValueError, match=r"\(N, C, T, H, W\)"):
        time_to_channel(fast[0], 3)


@pytest.mark.parametrize("k, alpha", [(5, 4), (3, 2), (1, 3), (7, 1)])
def test_time_strided_conv_against_explicit_sums(k, alpha):
    N, C, T, H, W, C_out = 2, 3, 12, 3, 5, 4
    fast, weight = torch.randn(N, C, T, H, W, dtype=torch.float64), torch.randn(C_out, C, k, 1, 1, dtype=torch.float64)
    out = time_strided_conv(fast, weight, alpha)
    padded = F.pad(fast, (0, 0, 0, 0, k // 2, k // 2))  # zeros before and after in time
    expected = torch.stack([torch.einsum("ocj,ncjhw->nohw", weight[:, :, :, 0, 0], padded[:, :, t * alpha:t * alpha + k])
                            for t in range(T // alpha)], dim=2)
    assert out.shape == (N, C_out, T // alpha, H, W)
    assert torch.allclose(out, expected)


def test_time_strided_conv_rejects_bad_weights():
    fast = torch.randn(1, 3, 8, 2, 2)
    for weight in (torch.randn(4, 3, 4, 1, 1), torch.randn(4, 2, 5, 1, 1), torch.randn(4, 3, 5, 3, 3)):
        with pytest.raises(ValueError, match="weight"):
            time_strided_conv(fast, weight, 4)


@pytest.mark.parametrize("kind, expected", [("t2c", 24), ("sample", 6), ("conv", 12)])
def test_lateral_channels_and_module(kind, expected):
    assert lateral_channels(kind, 6, 4) == expected
    lateral = Lateral(kind, 6, 4, fusion_kernel=5)
    y = lateral(torch.randn(2, 6, 12, 3, 5))
    assert y.shape == (2, expected, 3, 3, 5) and lateral.out_channels == expected


def test_unknown_lateral_is_refused():
    with pytest.raises(ValueError, match="lateral"):
        lateral_channels("add", 6, 4)
    with pytest.raises(ValueError, match="beta"):
        slowfast(num_classes=3, width=8, beta=1 / 3)


SMALL = dict(width=8, depths=(1, 1), slow_temporal_kernels=(1, 1, 3), fast_temporal_kernels=(3, 3, 3),
             stem_kernel=3, stem_stride=1, stem_pool=False, spatial_strides=(1, 2))


@pytest.mark.parametrize("lateral", LATERALS)
def test_small_slowfast_forward_and_backward(lateral):
    torch.manual_seed(0)
    model = slowfast(num_classes=7, alpha=4, beta=1 / 4, lateral=lateral, in_channels=1, **SMALL)
    clip = torch.randn(3, 1, 16, 11, 13)  # odd frame sizes
    logits = model(clip)
    assert logits.shape == (3, 7)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()  # no dropout, running BN statistics: the two input forms must agree exactly
    assert torch.allclose(model(clip), model(list(pathway_frames(clip, 4))))


def test_pathways_alone_and_together_count_up():
    """SlowFast = Slow-only + Fast-only + laterals + the slow convs' extra input channels − one classifier."""
    kw = dict(num_classes=5, in_channels=1, **SMALL)
    both = slowfast(alpha=4, beta=1 / 4, lateral="conv", fusion_kernel=5, **kw)
    slow, fast = slow_only(alpha=4, **kw), fast_only(beta=1 / 4, **kw)
    laterals = sum(count_params(m) for m in both.laterals)
    # the first block of each slow stage reads extra channels in its kt×1×1 conv and its shortcut
    extra = 0
    for stage, lateral in zip(both.slow_stages, both.laterals):
        block = stage[0]
        extra += lateral.out_channels * (block.a.out_channels * block.a.kernel_size[0] + block.shortcut[0].out_channels)
    heads = count_params(slow.fc) + count_params(fast.fc) - count_params(both.fc)
    assert count_params(both) == count_params(slow) + count_params(fast) + laterals + extra - heads
    # Slow-only sees T / α frames, Fast-only every frame
    assert slow(torch.randn(2, 1, 16, 9, 9)).shape == fast(torch.randn(2, 1, 16, 9, 9)).shape == (2, 5)
    assert isinstance(both, SlowFast) and both.config.pathways == ("slow", "fast")
