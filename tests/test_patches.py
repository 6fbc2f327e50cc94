"""Patches: window starts, Gaussian weights and sliding-window inference against MONAI; stitching; sampling."""
import math

import pytest
import torch
from monai.data.utils import compute_importance_map, dense_patch_slices
from monai.inferers import sliding_window_inference as monai_sliding_window_inference
from monai.inferers.utils import _get_scan_interval

from course.patches import gaussian_importance_map, sample_patches, sliding_window_inference, stitch, window_starts


# --- window_starts ---------------------------------------------------------------------------------------
def monai_starts(size: int, roi: int, overlap: float) -> list[int]:
    """Starts along one axis as MONAI computes them (after padding an axis shorter than the window)."""
    size = max(size, roi)
    interval = _get_scan_interval((size,), (roi,), 1, (overlap,))
    return sorted({s[0].start for s in dense_patch_slices((size,), (roi,), interval)})


@pytest.mark.parametrize("overlap", [0.0, 0.1, 0.25, 1 / 3, 0.5, 0.625, 0.75, 0.9, 0.99])
def test_window_starts_equal_monais(overlap):
    for roi in [1, 2, 3, 5, 8, 16, 17, 32, 96]:
        for size in list(range(1, 60)) + [95, 96, 97, 111, 112, 113, 200]:
            ours = window_starts(size, roi, overlap)
            assert ours == monai_starts(size, roi, overlap), (size, roi, overlap)
            if size >= roi:  # every window inside, the axis covered, the last flush with the edge
                assert ours[0] == 0 and ours[-1] == size - roi
                assert all(b - a <= roi for a, b in zip(ours, ours[1:]))


def test_window_starts_hand_cases():
    assert window_starts(10, 4, 0.5) == [0, 2, 4, 6]
    assert window_starts(10, 4, 0.0) == [0, 4, 6]
    assert window_starts(3, 8, 0.25) == [0]
    assert window_starts(7, 7, 0.5) == [0]
    assert window_starts(5, 2, 0.9) == [0, 1, 2, 3]  # interval int(0.2) = 0 → 1


@pytest.mark.parametrize("args", [(0, 4, 0.5), (5, 0, 0.5), (5, 4, 1.0), (5, 4, -0.1)])
def test_window_starts_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        window_starts(*args)


# --- gaussian_importance_map ----------------------------------------------------------------------------------
@pytest.mark.parametrize("roi_size", [(5, 6, 7), (16, 16, 16), (1, 3, 2), (33,), (96, 112), (4, 9, 1)])
@pytest.mark.parametrize("sigma_scale", [0.125, 0.05, 1.0])
def test_gaussian_map_equals_monais(roi_size, sigma_scale):
    ours = gaussian_importance_map(roi_size, sigma_scale)
    theirs = compute_importance_map(roi_size, mode="gaussian", sigma_scale=sigma_scale)
    assert ours.dtype == torch.float32 and ours.shape == roi_size
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=0)


def test_gaussian_map_shape_of_the_weights():
    w = gaussian_importance_map((9, 11, 7))
    assert w[4, 5, 3].item() == 1.0  # odd sizes: the centre has weight 1
    assert w.min().item() == pytest.approx(1e-3)  # the corners are clamped
    torch.testing.assert_close(w, w.flip(0).flip(1).flip(2))  # symmetric
    sigma = 0.125 * 11
    assert w[4, 6, 3].item() == pytest.approx(math.exp(-1 / (2 * sigma ** 2)), rel=1e-6)


@pytest.mark.parametrize("args", [((),), ((4, 0, 4),), ((4, 4), 0.0)])
def test_gaussian_map_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        gaussian_importance_map(*args)


# --- stitch -----------------------------------------------------------------------------------------------
def test_stitch_is_a_weighted_average_computed_voxel_by_voxel():
    g = torch.Generator().manual_seed(0)
    patches = torch.randn(3, 2, 4, 3, generator=g, dtype=torch.float64)
    corners = torch.tensor([[0, 0], [2, 1], [3, 3]])
    weight = torch.rand(4, 3, generator=g, dtype=torch.float64) + 0.1
    out = stitch(patches, corners, (7, 7), weight)
    assert out.shape == (2, 7, 7) and out.dtype == torch.float64
    for i in range(7):
        for j in range(7):
            num, den = torch.zeros(2, dtype=torch.float64), 0.0
            for p, (a, b) in zip(patches, corners.tolist()):
                if a <= i < a + 4 and b <= j < b + 3:
                    num += weight[i - a, j - b] * p[:, i - a, j - b]
                    den += weight[i - a, j - b].item()
            expected = num / den if den > 0 else torch.zeros(2, dtype=torch.float64)
            torch.testing.assert_close(out[:, i, j], expected)


def test_stitch_of_equal_patches_returns_them_whatever_the_weights():
    value = torch.randn(3, 1, 1, 1).expand(3, 5, 6, 4)  # one constant per channel
    corners = torch.cartesian_prod(torch.tensor([0, 2, 4]), torch.tensor([0, 3]), torch.tensor([0, 1, 2]))
    patches = value[None].expand(len(corners), 3, 5, 6, 4)  # the windows cover the (9, 9, 6) output
    out = stitch(patches, corners, (9, 9, 6), gaussian_importance_map((5, 6, 4)))
    torch.testing.assert_close(out, value[:, :1, :1, :1].expand(3, 9, 9, 6))


@pytest.mark.parametrize("corners, output_size, weight_shape", [
    ([[0, 0], [3, 3]], (6, 6), (4, 4)),  # the second window leaves the output
    ([[0, 0], [-1, 0]], (8, 8), (4, 4)),  # negative corner
    ([[0, 0], [1, 1]], (8, 8), (4, 3)),  # weight of another size
    ([[0, 0, 0], [1, 1, 1]], (8, 8), (4, 4)),  # corners of another rank
    ([[0, 0], [1, 1]], (8, 8, 8), (4, 4)),  # output of another rank
])
def test_stitch_rejects_inconsistent_arguments(corners, output_size, weight_shape):
    with pytest.raises(ValueError):
        stitch(torch.zeros(2, 1, 4, 4), torch.tensor(corners), output_size, torch.ones(weight_shape))


# --- sliding_window_inference ----------------------------------------------------------------------------------
CASES = [((1, 1, 33, 47, 29), (16, 16, 16)), ((2, 2, 10, 47, 29), (16, 20, 8)), ((1, 2, 7, 9, 11), (8, 12, 4)),
         ((1, 1, 20, 20, 20), (20, 20, 20)), ((2, 3, 25, 31), (16, 12))]


@pytest.mark.parametrize("shape, roi_size", CASES)
@pytest.mark.parametrize("overlap", [0.0, 0.25, 0.5])
@pytest.mark.parametrize("mode", ["constant", "gaussian"])
def test_sliding_window_equals_monais(shape, roi_size, overlap, mode):
    torch.manual_seed(sum(shape))
    conv = torch.nn.Conv3d if len(shape) == 5 else torch.nn.Conv2d
    predictor = conv(shape[1], 4, 3, padding=1).eval()  # out_channels ≠ in_channels
    inputs = torch.randn(shape)
    with torch.no_grad():
        ours = sliding_window_inference(inputs, roi_size, predictor, overlap, mode, sw_batch_size=3)
        theirs = monai_sliding_window_inference(inputs, roi_size, 3, predictor, overlap, mode)
    assert ours.shape == (shape[0], 4, *shape[2:])
    torch.testing.assert_close(ours, theirs.as_tensor() if hasattr(theirs, "as_tensor") else theirs,
                               rtol=1e-5, atol=1e-6)


def test_sliding_window_sigma_and_batch_size_do_not_change_the_agreement():
    torch.manual_seed(5)
    predictor = torch.nn.Sequential(torch.nn.Conv3d(1, 3, 3, padding=1), torch.nn.Tanh()).eval()
    inputs = torch.randn(1, 1, 19, 23, 17)
    with torch.no_grad():
        ours = sliding_window_inference(inputs, (8, 10, 6), predictor, 0.4, "gaussian", sigma_scale=0.3,
                                        sw_batch_size=1)
        theirs = monai_sliding_window_inference(inputs, (8, 10, 6), 7, predictor, 0.4, "gaussian", sigma_scale=0.3)
    torch.testing.assert_close(ours, torch.as_tensor(theirs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape, roi_size", CASES)
@pytest.mark.parametrize("mode", ["constant", "gaussian"])
def test_identity_predictor_returns_its_input(shape, roi_size, mode):
    inputs = torch.randn(shape)
    out = sliding_window_inference(inputs, roi_size, lambda x: x, overlap=0.5, mode=mode)
    torch.testing.assert_close(out, inputs, rtol=1e-6, atol=1e-6)


def test_seams_disappear_with_position_independent_predictors():
    """A predictor that is exact inside its window gives the same result for any overlap or blending."""
    inputs = torch.randn(1, 2, 13, 17, 11)
    results = [sliding_window_inference(inputs, (6, 8, 5), lambda x: 2 * x.flip(1), ov, mode)
               for ov in (0.0, 0.5) for mode in ("constant", "gaussian")]
    for r in results:
        torch.testing.assert_close(r, 2 * inputs.flip(1), rtol=1e-6, atol=1e-6)


def test_progress_bar_does_not_change_the_result(capsys):
    inputs = torch.randn(1, 1, 9, 9, 9)
    a = sliding_window_inference(inputs, (4, 4, 4), lambda x: x + 1, progress=True)
    b = sliding_window_inference(inputs, (4, 4, 4), lambda x: x + 1, progress=False)
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("shape, roi_size, kwargs", [
    ((1, 1, 8, 8, 8), (4, 4), {}),
    ((8, 8, 8), (4, 4, 4), {}),
    ((1, 1, 8, 8, 8), (4, 4, 4), dict(overlap=1.0)),
    ((1, 1, 8, 8, 8), (4, 4, 4), dict(mode="linear")),
    ((1, 1, 8, 8, 8), (4, 4, 4), dict(sw_batch_size=0)),
])
def test_sliding_window_rejects_bad_arguments(shape, roi_size, kwargs):
    with pytest.raises(ValueError):
        sliding_window_inference(torch.zeros(shape), roi_size, lambda x: x, **kwargs)


def test_sliding_window_rejects_a_predictor_that_changes_the_size():
    with pytest.raises(ValueError, match="window size"):
        sliding_window_inference(torch.zeros(1, 1, 8, 8, 8), (4, 4, 4), lambda x: x[..., :2])


# --- sample_patches ----------------------------------------------------------------------------------------
def test_patches_are_crops_of_the_volume_inside_its_bounds():
    g = torch.Generator().manual_seed(0)
    volume = torch.randn(2, 13, 17, 11, generator=g)
    label = (torch.rand(13, 17, 11, generator=g) > 0.97).long() * 2
    patches, labels = sample_patches(volume, label, (5, 7, 4), 40, foreground_ratio=0.5, seed=3)
    assert patches.shape == (40, 2, 5, 7, 4) and labels.shape == (40, 5, 7, 4)
    assert patches.dtype == volume.dtype and labels.dtype == label.dtype
    # find every patch in the volume: a crop at some corner inside the bounds, label and image together
    windows = volume.unfold(1, 5, 1).unfold(2, 7, 1).unfold(3, 4, 1)  # (2, 9, 11, 8, 5, 7, 4)
    for p, lab in zip(patches, labels):
        match = (windows == p[:, None, None, None]).flatten(4).all(-1).all(0)  # (9, 11, 8)
        (d, h, w), = match.nonzero().tolist()
        assert torch.equal(lab, label[d:d + 5, h:h + 7, w:w + 4])


def test_same_seed_same_patches_other_seed_other_patches():
    volume = torch.randn(1, 20, 20, 20)
    label = torch.zeros(20, 20, 20, dtype=torch.int64)
    label[3:6, 14:18, 9:12] = 1
    a = sample_patches(volume, label, (8, 8, 8), 10, seed=1)
    b = sample_patches(volume, label, (8, 8, 8), 10, seed=1)
    c = sample_patches(volume, label, (8, 8, 8), 10, seed=2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.5, 0.8, 1.0])
def test_foreground_ratio_statistically(ratio):
    """One foreground voxel in a corner: a uniform patch holds it with probability q = 1/(positions along
    each axis that include it); a foreground patch always does. So P(hit) = ratio + (1 − ratio)·q."""
    size, patch, n = (30, 31, 29), (6, 5, 7), 4000
    label = torch.zeros(size, dtype=torch.int64)
    label[1, 2, 0] = 3
    volume = torch.arange(math.prod(size), dtype=torch.float32).reshape(1, *size)
    _, labels = sample_patches(volume, label, patch, n, foreground_ratio=ratio, seed=11)
    hit = (labels > 0).flatten(1).any(1).float().mean().item()
    positions = [s - p + 1 for s, p in zip(size, patch)]
    q = (2 / positions[0]) * (3 / positions[1]) * (1 / positions[2])  # corners 0–1, 0–2 and 0 include it
    expected = ratio + (1 - ratio) * q
    sd = math.sqrt(expected * (1 - expected) / n)
    assert abs(hit - expected) <= 4 * sd + 1e-9


def test_foreground_patches_contain_their_voxel_near_the_border():
    label = torch.zeros(10, 12, 9, dtype=torch.int64)
    label[9, 0, 8] = 1  # a corner voxel: centring would leave the volume, so the patch is shifted inside
    _, labels = sample_patches(torch.zeros(1, 10, 12, 9), label, (4, 5, 3), 20, foreground_ratio=1.0, seed=0)
    assert (labels[:, 3, 0, 2] == 1).all()


def test_no_foreground_falls_back_to_uniform():
    volume = torch.randn(1, 9, 9, 9)
    patches, labels = sample_patches(volume, torch.zeros(9, 9, 9, dtype=torch.int64), (3, 3, 3), 5,
                                     foreground_ratio=1.0, seed=0)
    assert patches.shape == (5, 1, 3, 3, 3) and (labels == 0).all()


def test_2d_patches():
    patches, labels = sample_patches(torch.randn(3, 15, 16), torch.ones(15, 16, dtype=torch.int64), (5, 6), 4, seed=0)
    assert patches.shape == (4, 3, 5, 6) and labels.shape == (4, 5, 6)


@pytest.mark.parametrize("volume_shape, label_shape, patch_size, kwargs", [
    ((1, 8, 8, 8), (8, 8, 8), (9, 4, 4), {}),  # larger than the volume
    ((1, 8, 8, 8), (8, 8, 7), (4, 4, 4), {}),  # label of another size
    ((1, 8, 8, 8), (8, 8, 8), (4, 4), {}),  # patch of another rank
    ((1, 8, 8, 8), (8, 8, 8), (4, 4, 4), dict(foreground_ratio=1.5)),
])
def test_sample_patches_rejects_bad_arguments(volume_shape, label_shape, patch_size, kwargs):
    with pytest.raises(ValueError):
        sample_patches(torch.zeros(volume_shape), torch.zeros(label_shape, dtype=torch.int64), patch_size, 3,
                       seed=0, **kwargs)


@pytest.mark.gpu
def test_sliding_window_on_cuda_equals_monais():
    torch.manual_seed(6)
    predictor = torch.nn.Conv3d(1, 2, 3, padding=1).cuda().eval()
    inputs = torch.randn(1, 1, 33, 47, 29, device="cuda")
    with torch.no_grad():
        ours = sliding_window_inference(inputs, (16, 16, 16), predictor, 0.5, "gaussian")
        theirs = monai_sliding_window_inference(inputs, (16, 16, 16), 4, predictor, 0.5, "gaussian")
    assert ours.device.type == "cuda"
    torch.testing.assert_close(ours, torch.as_tensor(theirs), rtol=1e-4, atol=1e-5)
