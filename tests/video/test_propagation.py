"""Tests of course.video.propagation: the flow direction on a known translation, propagation through a
textured clip, J against scikit-learn's Jaccard score and by hand, F by hand and against a NumPy/SciPy
rewrite of the protocol (loop boundaries, scipy's binary dilation with a disk)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from sklearn.metrics import jaccard_score

from course.data.flow_clips import textured_images
from course.video.flow import lucas_kanade
from course.video.propagation import (PROPAGATION_METHODS, contour_accuracy, j_and_f, propagate_mask,
                                      propagate_masks, region_similarity)


def _square_clip(T: int = 7, H: int = 41, W: int = 45, step: tuple[int, int] = (1, 2), side: int = 14,
                 seed: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """A textured square sliding `step` (rows, columns) per frame over a black canvas: (1, T, H, W), (T, H, W)."""
    texture = 0.2 + 0.8 * textured_images(1, side, side, seed=seed)[0]
    clip, masks = torch.zeros(1, T, H, W), torch.zeros(T, H, W, dtype=torch.bool)
    for t in range(T):
        r, c = 5 + step[0] * t, 4 + step[1] * t
        clip[0, t, r:r + side, c:c + side] = texture
        masks[t, r:r + side, c:c + side] = True
    return clip, masks


# --- propagate_mask -------------------------------------------------------------------------------
def test_propagate_mask_with_the_exact_backward_flow_moves_the_mask_with_the_object():
    """A square moving 2 px right and 1 px down: the pair (t + 1, t) has flow (u, v) = (−2, −1)."""
    mask = torch.zeros(1, 1, 23, 27)
    mask[0, 0, 5:12, 6:15] = 1.0
    backward = torch.zeros(1, 2, 23, 27)
    backward[:, 0], backward[:, 1] = -2.0, -1.0
    moved = propagate_mask(mask, backward)
    expected = torch.roll(mask, shifts=(1, 2), dims=(2, 3))  # down 1 row, right 2 columns
    assert moved.shape == (1, 1, 23, 27) and moved.dtype == torch.float32
    torch.testing.assert_close(moved, expected, atol=1e-5, rtol=0)  # float rounding of grid_sample only
    assert region_similarity(moved[0, 0], expected[0, 0]).item() == 1.0
    # the forward flow (+2, +1) of the pair (t, t + 1) moves it the wrong way
    wrong = propagate_mask(mask, -backward)
    torch.testing.assert_close(wrong, torch.roll(mask, shifts=(-1, -2), dims=(2, 3)), atol=1e-5, rtol=0)
    assert region_similarity(wrong[0, 0], expected[0, 0]).item() < 0.5


def test_propagate_mask_interpolates_half_pixels_and_takes_bool_masks():
    mask = torch.zeros(1, 1, 5, 9, dtype=torch.bool)
    mask[0, 0, :, 4] = True
    flow = torch.zeros(1, 2, 5, 9, dtype=torch.float64)
    flow[:, 0] = -0.5  # half a pixel right
    out = propagate_mask(mask, flow)
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out[0, 0, 2].numpy(), [0, 0, 0, 0, 0.5, 0.5, 0, 0, 0])


def test_propagate_mask_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        propagate_mask(torch.zeros(1, 2, 5, 5), torch.zeros(1, 2, 5, 5))
    with pytest.raises(ValueError, match=r"\(N, 2, H, W\)"):
        propagate_mask(torch.zeros(1, 1, 5, 5), torch.zeros(1, 2, 5, 6))
    with pytest.raises(ValueError, match="float"):
        propagate_mask(torch.zeros(1, 1, 5, 5), torch.zeros(1, 2, 5, 5, dtype=torch.int64))


# --- propagate_masks ------------------------------------------------------------------------------
def test_propagate_masks_with_exact_flows_reaches_j_of_one():
    clip, masks = _square_clip(T=6, step=(2, 1))
    flows = torch.zeros(2, 5, 41, 45)
    flows[0], flows[1] = -1.0, -2.0  # (u, v) of the pairs (t + 1, t): columns −1, rows −2
    out = propagate_masks(masks[0], clip, flows=flows)
    assert out.shape == (6, 1, 41, 45) and out.dtype == torch.float32
    assert torch.equal(out[:, 0] > 0.5, masks)
    assert j_and_f(out, masks)["J"] == 1.0


@pytest.mark.parametrize("method", ["lucas_kanade", "horn_schunck"])
def test_propagate_masks_by_estimated_flow_follows_a_textured_square(method):
    clip, masks = _square_clip()
    out = propagate_masks(masks[0], clip, method=method)
    flow_scores = j_and_f(out, masks)
    copy_scores = j_and_f(propagate_masks(masks[0], clip, method="copy"), masks)
    assert flow_scores["J"] >= 0.95 and flow_scores["F"] >= 0.9
    assert copy_scores["J"] < 0.6  # the square leaves its first position: copying fails
    assert set(out.unique().tolist()) <= {0.0, 1.0}  # thresholded at every step


def test_propagate_masks_flow_kwargs_and_soft_masks():
    clip, masks = _square_clip(T=3)
    soft = propagate_masks(masks[0].float()[None], clip, threshold=None, flow_kwargs={"window": 7, "levels": 2})
    assert soft.shape == (3, 1, 41, 45)
    assert float(soft.min()) >= 0.0 and float(soft.max()) <= 1.0
    assert j_and_f(soft, masks)["J"] >= 0.9
    with pytest.raises(ValueError, match="window"):  # the options reach the estimator
        propagate_masks(masks[0], clip, flow_kwargs={"window": 4})


def test_copy_repeats_the_first_mask():
    clip, masks = _square_clip(T=4)
    out = propagate_masks(masks[0], clip, method="copy")
    assert torch.equal(out, masks[0].float().expand(4, 1, 41, 45))
    assert "copy" in PROPAGATION_METHODS


def test_propagate_masks_rejects_bad_arguments():
    clip, masks = _square_clip(T=3)
    with pytest.raises(ValueError, match="method"):
        propagate_masks(masks[0], clip, method="farneback")
    with pytest.raises(ValueError, match="first_mask"):
        propagate_masks(masks[0, :-1], clip)
    with pytest.raises(ValueError, match="first_mask"):
        propagate_masks(masks[:2], clip)
    with pytest.raises(ValueError, match=r"\(C, T, H, W\)"):
        propagate_masks(masks[0], clip[None])
    with pytest.raises(ValueError, match="threshold"):
        propagate_masks(masks[0], clip, threshold=1.0)
    with pytest.raises(ValueError, match="flows"):
        propagate_masks(masks[0], clip, flows=torch.zeros(2, 3, 41, 45))


# --- region_similarity ----------------------------------------------------------------------------
def test_region_similarity_worked_cases():
    a = torch.zeros(4, 6, dtype=torch.bool)
    a[1:3, 1:5] = True  # 8 pixels
    b = torch.zeros(4, 6, dtype=torch.bool)
    b[1:3, 3:6] = True  # 6 pixels, 4 shared
    assert region_similarity(a, a).item() == 1.0
    assert region_similarity(a, b).item() == pytest.approx(4 / 10)
    assert region_similarity(a, ~a).item() == 0.0
    empty = torch.zeros(4, 6, dtype=torch.bool)
    assert region_similarity(empty, empty).item() == 1.0  # nothing to find, nothing predicted: correct
    assert region_similarity(a, empty).item() == 0.0
    assert region_similarity(a.float() * 0.7, b.float()).item() == pytest.approx(4 / 10)  # > 0.5 is foreground


def test_region_similarity_matches_sklearn_on_a_batch():
    g = torch.Generator().manual_seed(0)
    pred, gt = torch.rand(3, 2, 13, 17, generator=g) > 0.6, torch.rand(3, 2, 13, 17, generator=g) > 0.5
    j = region_similarity(pred, gt)
    assert j.shape == (3, 2) and j.dtype == torch.float32
    for idx in np.ndindex(3, 2):
        expected = jaccard_score(gt[idx].flatten().numpy(), pred[idx].flatten().numpy())
        assert j[idx].item() == pytest.approx(expected, abs=1e-6)


def test_region_similarity_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same shape"):
        region_similarity(torch.zeros(4, 5), torch.zeros(5, 4))
    with pytest.raises(ValueError, match="same shape"):
        region_similarity(torch.zeros(5), torch.zeros(5))


# --- contour_accuracy -----------------------------------------------------------------------------
def _boundary_loop(mask: np.ndarray) -> np.ndarray:
    """The boundary rule of the protocol, pixel by pixel: differs from the right, lower or lower-right
    neighbour, among the neighbours inside the image (the last row and column look along the border only)."""
    H, W = mask.shape
    out = np.zeros_like(mask, dtype=bool)
    for y in range(H):
        for x in range(W):
            if y == H - 1 and x == W - 1:
                continue
            if y == H - 1:
                neighbours = [(y, x + 1)]
            elif x == W - 1:
                neighbours = [(y + 1, x)]
            else:
                neighbours = [(y, x + 1), (y + 1, x), (y + 1, x + 1)]
            out[y, x] = any(mask[y, x] != mask[n] for n in neighbours)
    return out


def _f_reference(pred: np.ndarray, gt: np.ndarray, bound_th: float) -> float:
    H, W = pred.shape
    r = bound_th if bound_th >= 1 else math.ceil(bound_th * math.hypot(H, W))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disk = yy ** 2 + xx ** 2 <= r ** 2
    pb, gb = _boundary_loop(pred), _boundary_loop(gt)
    if pb.sum() == 0 or gb.sum() == 0:
        return float(pb.sum() == 0 and gb.sum() == 0)
    precision = (pb & ndi.binary_dilation(gb, structure=disk)).sum() / pb.sum()
    recall = (gb & ndi.binary_dilation(pb, structure=disk)).sum() / gb.sum()
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def test_contour_accuracy_shifted_stripe_within_and_beyond_the_tolerance():
    """On 32 × 32 the tolerance is ⌈0.008 · 45.25⌉ = 1 px. A stripe from the left border ending at
    column 9 has one boundary, column 9 (the image border is not a boundary)."""
    pred = torch.zeros(32, 32, dtype=torch.bool)
    pred[:, :10] = True
    one, two = torch.zeros_like(pred), torch.zeros_like(pred)
    one[:, :11], two[:, :12] = True, True
    assert contour_accuracy(pred, pred).item() == 1.0
    assert contour_accuracy(pred, one).item() == 1.0  # 1 px apart: within the tolerance
    assert contour_accuracy(pred, two).item() == 0.0  # 2 px apart: no boundary pixel matches
    assert contour_accuracy(pred, two, bound_th=2).item() == 1.0  # bound_th >= 1 is in pixels
    assert region_similarity(pred, two).item() == pytest.approx(10 / 12)  # J barely notices


def test_contour_accuracy_partial_match_by_hand():
    """Half of the true boundary is matched: precision 1, recall 1/2, F = 2/3."""
    gt = torch.zeros(32, 32, dtype=torch.bool)
    gt[:, :10] = True  # boundary: column 9, 32 pixels
    pred = torch.zeros_like(gt)
    pred[:16, :10] = True  # boundary: column 9 of rows 0..15, and row 15 (it ends there)
    f = contour_accuracy(pred, gt).item()
    pb, gb = _boundary_loop(pred.numpy()), _boundary_loop(gt.numpy())
    assert pb.sum() == 10 + 16 - 1 and gb.sum() == 32  # row 15 (cols 0..9) and column 9 (rows 0..15)
    # matched: pred's column-9 pixels and row 15 lie within 1 px of column 9 only near x = 8, 9
    precision = 17 / 25  # rows 0..15 of column 9 (16) + (15, 8) (1)
    recall = 17 / 32  # rows 0..16 of column 9
    assert f == pytest.approx(2 * precision * recall / (precision + recall), abs=1e-6)
    assert f == pytest.approx(_f_reference(pred.numpy(), gt.numpy(), 0.008), abs=1e-6)


def test_contour_accuracy_empty_masks():
    empty = torch.zeros(7, 9, dtype=torch.bool)
    blob = empty.clone()
    blob[2:5, 3:6] = True
    assert contour_accuracy(empty, empty).item() == 1.0
    assert contour_accuracy(blob, empty).item() == 0.0
    assert contour_accuracy(empty, blob).item() == 0.0


@pytest.mark.parametrize("shape, bound_th", [((33, 35), 0.008), ((29, 47), 0.05), ((21, 24), 3.0), ((40, 40), 1.0)])
def test_contour_accuracy_matches_a_numpy_scipy_rewrite(shape, bound_th):
    g = torch.Generator().manual_seed(shape[0])
    noise = torch.rand(4, 1, shape[0] // 4, shape[1] // 4, generator=g)
    blobs = torch.nn.functional.interpolate(noise, size=shape, mode="bilinear", align_corners=False)[:, 0] > 0.5
    pred, gt = blobs[:2], blobs[2:]
    f = contour_accuracy(pred, gt, bound_th=bound_th)
    assert f.shape == (2,) and f.dtype == torch.float32
    for k in range(2):
        assert f[k].item() == pytest.approx(_f_reference(pred[k].numpy(), gt[k].numpy(), bound_th), abs=1e-6)
    assert 0.0 < float(f.min()) < 1.0  # the random case is neither trivial nor disjoint


def test_contour_accuracy_rejects_bad_arguments():
    with pytest.raises(ValueError, match="bound_th"):
        contour_accuracy(torch.zeros(4, 4), torch.zeros(4, 4), bound_th=0.0)
    with pytest.raises(ValueError, match="same shape"):
        contour_accuracy(torch.zeros(4, 4), torch.zeros(4, 5))


# --- j_and_f --------------------------------------------------------------------------------------
def test_j_and_f_leaves_out_the_annotated_first_frame():
    _, masks = _square_clip(T=5)
    pred = masks.clone()
    pred[0] = False  # the first frame is the annotation: whatever is there is not scored
    out = j_and_f(pred, masks)
    assert out["J"] == 1.0 and out["F"] == 1.0 and out["J&F"] == 1.0
    assert out["J_per_frame"].shape == (5,) and out["J_per_frame"][0].item() == 0.0
    pred[-1] = torch.roll(masks[-1], 20, dims=1)  # a wrong last frame
    scored = j_and_f(pred, masks)
    assert scored["J"] < 1.0
    assert j_and_f(pred, masks, exclude_last=True)["J"] == 1.0  # DAVIS 2017's code drops it
    expected_j = float(region_similarity(pred[1:], masks[1:]).mean())
    expected_f = float(contour_accuracy(pred[1:], masks[1:]).mean())
    assert scored["J"] == pytest.approx(expected_j) and scored["J&F"] == pytest.approx((expected_j + expected_f) / 2)


def test_j_and_f_accepts_a_channel_axis_and_refuses_bad_inputs():
    _, masks = _square_clip(T=3)
    assert j_and_f(masks[:, None].float(), masks)["J"] == 1.0
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        j_and_f(masks[:, :-1], masks)
    with pytest.raises(ValueError, match="none to score"):
        j_and_f(masks[:1], masks[:1])
    with pytest.raises(ValueError, match="none to score"):
        j_and_f(masks[:2], masks[:2], exclude_last=True)


def test_lucas_kanade_of_the_pair_t1_t_is_the_backward_flow():
    """The flow convention read once more on the clip the tests use: lucas_kanade(frame t + 1, frame t)
    on a square moving (+1 row, +2 columns) gives about (u, v) = (−2, −1) inside the square."""
    clip, masks = _square_clip(T=2)
    flow = lucas_kanade(clip[:, 1], clip[:, 0])  # (1, 2, H, W)
    inside = masks[1]
    assert flow[0, 0][inside].mean().item() == pytest.approx(-2.0, abs=0.2)
    assert flow[0, 1][inside].mean().item() == pytest.approx(-1.0, abs=0.2)


@pytest.mark.gpu
def test_propagation_and_measures_on_cuda_match_cpu():
    clip, masks = _square_clip(T=4)
    cuda = torch.device("cuda")
    out = propagate_masks(masks[0].to(cuda), clip.to(cuda))
    assert out.device.type == "cuda"
    assert j_and_f(out.cpu(), propagate_masks(masks[0], clip))["J"] > 0.98  # kernels may round differently
    shifted = torch.roll(masks, 2, dims=2)
    for measure in (contour_accuracy, region_similarity):
        torch.testing.assert_close(measure(shifted.to(cuda), masks.to(cuda)).cpu(), measure(shifted, masks))
