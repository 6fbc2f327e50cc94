"""Tests of course.nn.fusion: the exercise functions against independent torch code, the fusion
models' shapes, parameter counts and invariances, and C3D's published parameter count."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from course.nn.fusion import (C3D, EarlyFusion, LateFusion, SingleFrame, SlowFusion, SmallC3D, c3d,
                              circular_pad_hw, early_fusion_stack, fold_frames, frame_cnn, select_frames,
                              slow_fusion_windows)


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --- the exercise functions ---------------------------------------------------------------------------
@pytest.mark.parametrize("T", [1, 2, 7, 8])
def test_select_frames(T):
    """Check the middle frame T // 2 and the first and last frames, with the time axis kept."""
    clip = torch.rand(3, 2, T, 5, 6)
    middle = select_frames(clip, "middle")
    assert middle.shape == (3, 2, 1, 5, 6) and torch.equal(middle[:, :, 0], clip[:, :, T // 2])
    ends = select_frames(clip, "first_last")
    assert ends.shape == (3, 2, 2, 5, 6)
    assert torch.equal(ends[:, :, 0], clip[:, :, 0]) and torch.equal(ends[:, :, 1], clip[:, :, -1])


@pytest.mark.parametrize("clip, mode", [(torch.rand(2, 3, 4, 5), "middle"), (torch.rand(1, 1, 4, 5, 5), "last")])
def test_select_frames_rejects_bad_input(clip, mode):
    with pytest.raises(ValueError):
        select_frames(clip, mode)


def test_fold_frames_orders_rows_clip_by_clip():
    """Check that row n * T + t of the folded batch is frame t of clip n, for odd sizes."""
    N, C, T, H, W = 3, 2, 5, 7, 4
    clip = torch.rand(N, C, T, H, W)
    folded = fold_frames(clip)
    assert folded.shape == (N * T, C, H, W)
    for n in range(N):
        for t in range(T):
            assert torch.equal(folded[n * T + t], clip[n, :, t])
    assert torch.equal(folded.view(N, T, C, H, W).transpose(1, 2), clip)  # the inverse
    with pytest.raises(ValueError):
        fold_frames(torch.rand(2, 3, 4, 5))


@pytest.mark.parametrize("C, T", [(1, 8), (3, 5), (2, 1)])
def test_early_fusion_stack_conv2d_equals_conv3d_spanning_all_frames(C, T):
    """Check the channel order c * T + t: a Conv2d on the stack equals a Conv3d with a T-frame kernel."""
    clip = torch.rand(2, C, T, 9, 11, dtype=torch.float64)
    weight = torch.rand(4, C, T, 3, 3, dtype=torch.float64)  # Conv3d weight (O, C, kT = T, kH, kW)
    expected = F.conv3d(clip, weight, padding=(0, 1, 1))[:, :, 0]  # (N, O, H, W): one temporal position
    stacked = early_fusion_stack(clip)
    assert stacked.shape == (2, C * T, 9, 11)
    got = F.conv2d(stacked, weight.reshape(4, C * T, 3, 3), padding=1)
    torch.testing.assert_close(got, expected)
    with pytest.raises(ValueError):
        early_fusion_stack(torch.rand(2, 3, 4, 5))


@pytest.mark.parametrize("shape, pad", [((2, 3, 7, 9), 1), ((2, 3, 7, 9), 0), ((1, 2, 4, 5, 6), 2),
                                        ((1, 1, 3, 5, 4), 4), ((2, 1, 3, 5), 3)])
def test_circular_pad_hw_matches_torch(shape, pad):
    """Check against F.pad(mode="circular"), padding H and W only (never time), at odd sizes."""
    x = torch.rand(shape)
    torch_pad = (pad, pad, pad, pad) if len(shape) == 4 else (pad, pad, pad, pad, 0, 0)
    assert torch.equal(circular_pad_hw(x, pad), F.pad(x, torch_pad, mode="circular"))


def test_circular_pad_hw_any_leading_dims_and_errors():
    """Check 2-D and 6-D inputs and the errors for negative or too large pads."""
    x = torch.arange(12.0).reshape(3, 4)
    out = circular_pad_hw(x, 1)
    assert out.shape == (5, 6) and out[0, 0] == x[-1, -1] and out[-1, -1] == x[0, 0] and out[1, 0] == x[0, -1]
    y = torch.rand(2, 1, 2, 3, 5, 6)
    assert torch.equal(circular_pad_hw(y, 2)[0, 0], F.pad(y[0, 0], (2, 2, 2, 2, 0, 0), mode="circular"))
    for bad in (-1, 4):
        with pytest.raises(ValueError):
            circular_pad_hw(x, bad)
    with pytest.raises(ValueError):
        circular_pad_hw(torch.rand(5), 1)


@pytest.mark.parametrize("T, window, stride", [(8, 4, 2), (10, 4, 2), (9, 3, 3), (5, 5, 1), (7, 1, 2), (11, 4, 3)])
def test_slow_fusion_windows_match_unfold(T, window, stride):
    """Check against torch's unfold of the frame indices (an independent sliding window)."""
    windows = slow_fusion_windows(T, window, stride)
    assert windows.dtype == torch.int64
    assert torch.equal(windows, torch.arange(T).unfold(0, window, stride))


@pytest.mark.parametrize("args", [(4, 5, 1), (8, 0, 1), (8, 2, 0), (0, 1, 1)])
def test_slow_fusion_windows_errors(args):
    with pytest.raises(ValueError):
        slow_fusion_windows(*args)


def test_slow_fusion_first_layer_sees_exactly_its_windows():
    """Check with gradients: output position k of SlowFusion's first layer depends on window k only."""
    torch.manual_seed(0)
    layer = SlowFusion(4).features[0].eval()
    clip = torch.rand(1, 1, 8, 16, 16, requires_grad=True)
    out = layer(clip)  # (1, 8, 3, 8, 8)
    windows = slow_fusion_windows(8, 4, 2)
    assert out.shape[2] == len(windows)
    for k, frames in enumerate(windows):
        (grad,) = torch.autograd.grad(out[:, :, k].sum(), clip, retain_graph=True)
        seen = grad.abs().sum(dim=(0, 1, 3, 4)) > 0  # (T,)
        assert seen.nonzero().flatten().tolist() == frames.tolist()


# --- the models -------------------------------------------------------------------------------------
MODELS = {
    "single": lambda k, T: SingleFrame(k),
    "single_all": lambda k, T: SingleFrame(k, frames="all"),
    "late": lambda k, T: LateFusion(k),
    "early": lambda k, T: EarlyFusion(k, num_frames=T),
    "slow_fusion": lambda k, T: SlowFusion(k),
    "c3d": lambda k, T: SmallC3D(k),
}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("shape", [(3, 1, 8, 32, 32), (2, 1, 9, 29, 33), (1, 1, 11, 17, 20)])
@pytest.mark.parametrize("training", [True, False])
def test_output_shapes_for_odd_sizes(name, shape, training):
    """Check (N, num_classes) logits for odd T, H, W, in training and eval mode."""
    torch.manual_seed(0)
    model = MODELS[name](5, shape[2]).train(training)
    out = model(torch.rand(shape))
    assert out.shape == (shape[0], 5) and out.dtype == torch.float32 and bool(torch.isfinite(out).all())


def test_parameter_counts():
    """Check the counts by hand: 3×3 convs without bias, BatchNorm (2 per channel), a linear head."""
    trunk = 9 * (1 * 8 + 8 * 16 + 16 * 32) + 2 * (8 + 16 + 32)  # 5,944
    assert _params(frame_cnn()) == trunk
    assert _params(SingleFrame(10)) == trunk + 32 * 10 + 10
    assert _params(LateFusion(4)) == trunk + 64 * 4 + 4
    assert _params(EarlyFusion(4, num_frames=8)) == trunk + 9 * 8 * 8 - 9 * 8 + 32 * 4 + 4
    slow = 36 * 8 + 27 * 8 * 16 + 9 * 16 * 32 + 2 * (8 + 16 + 32) + 32 * 4 + 4
    assert _params(SlowFusion(4)) == slow
    small_c3d = 27 * (1 * 8 + 8 * 24 + 24 * 48) + 2 * (8 + 24 + 48) + 48 * 4 + 4
    assert _params(SmallC3D(4)) == small_c3d
    for model in (SingleFrame(10), LateFusion(10), EarlyFusion(10), SlowFusion(10)):
        assert 5_000 < _params(model) < 12_000
    assert 30_000 < _params(SmallC3D(10)) < 45_000


def test_c3d_has_the_published_parameter_count_and_runs_on_its_input():
    """Check 78,409,573 parameters at 101 classes and a (1, 3, 16, 112, 112) forward pass."""
    model = c3d(num_classes=101)
    assert isinstance(model, C3D) and _params(model) == 78_409_573
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv3d)]
    assert len(convs) == 8 and all(m.kernel_size == (3, 3, 3) for m in convs)
    pools = [m for m in model.modules() if isinstance(m, torch.nn.MaxPool3d)]
    assert pools[0].kernel_size == (1, 2, 2)
    model.eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 16, 112, 112)).shape == (1, 101)
    assert _params(c3d(num_classes=10)) == 78_409_573 - 4097 * 91


def test_single_frame_ignores_the_order_of_frames():
    """Check that frames="all" gives the same output for permuted frames, and "one" uses the middle frame."""
    torch.manual_seed(0)
    clip = torch.rand(4, 1, 8, 32, 32)
    model = SingleFrame(4, frames="all").eval()
    permuted = clip[:, :, torch.randperm(8)]
    torch.testing.assert_close(model(permuted), model(clip))
    one = SingleFrame(4).eval()
    other = torch.rand_like(clip)
    other[:, :, 4] = clip[:, :, 4]  # only the middle frame (T // 2) in common
    torch.testing.assert_close(one(other), one(clip))


def test_single_frame_trains_on_one_random_frame_per_clip():
    """Check that in training mode each clip is classified from one of its frames, chosen at random."""
    torch.manual_seed(0)
    model = SingleFrame(3).train()
    for m in model.modules():  # freeze BatchNorm's batch statistics: clips must not interact
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()
    clip = torch.rand(6, 1, 5, 16, 16)
    per_frame = torch.stack([model(clip[:, :, t:t + 1]) for t in range(5)], dim=1)  # (N, T, K)
    out = model(clip)  # (N, K)
    matches = (out[:, None] - per_frame).abs().amax(dim=2) < 1e-5  # (N, T)
    assert bool((matches.sum(dim=1) >= 1).all())


def test_late_fusion_ignores_the_frames_in_between():
    """Check that changing every frame but the first and the last leaves the output unchanged."""
    torch.manual_seed(0)
    model = LateFusion(4).eval()
    clip = torch.rand(3, 1, 8, 32, 32)
    other = torch.rand_like(clip)
    other[:, :, [0, -1]] = clip[:, :, [0, -1]]
    torch.testing.assert_close(model(other), model(clip))
    swapped = clip[:, :, [7, 1, 2, 3, 4, 5, 6, 0]]  # the two ends exchanged: the classifier sees order
    assert not torch.allclose(model(swapped), model(clip))


@pytest.mark.parametrize("name", ["early", "slow_fusion", "c3d"])
def test_video_models_see_every_frame(name):
    """Check that early fusion, slow fusion and the 3D CNN depend on every frame."""
    torch.manual_seed(0)
    model = MODELS[name](4, 8).eval()
    clip = torch.rand(2, 1, 8, 32, 32)
    for t in range(8):
        changed = clip.clone()
        changed[:, :, t] = torch.rand(2, 1, 32, 32)
        assert not torch.allclose(model(changed), model(clip)), f"frame {t} ignored"


@pytest.mark.parametrize("name", list(MODELS))
def test_circular_padding_makes_models_agree_on_the_torus(name):
    """Check that rolling every frame by the total stride (8 px) does not change the output.

    With circular padding and global pooling a network computes the same features for a digit
    wherever it is on the wrap-around canvas (exactly, for shifts by a multiple of the stride).
    """
    torch.manual_seed(0)
    model = MODELS[name](4, 8).eval()
    clip = torch.rand(2, 1, 8, 32, 32)
    rolled = torch.roll(clip, shifts=(8, -16), dims=(3, 4))
    torch.testing.assert_close(model(rolled), model(clip), rtol=1e-4, atol=1e-5)
