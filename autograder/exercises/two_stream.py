"""Graded exercises of lesson 06_two_stream: flow-constraint gradients, Horn–Schunck and Lucas–Kanade
steps, end-point error, flow stacking and late fusion of class scores."""
from __future__ import annotations

import numpy as np
import torch

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "06_two_stream"


_ex = exercise_maker(ASSIGNMENT)


def _randn(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """A float64 tensor of standard normal numbers drawn from ``rng`` (exact comparisons, no float32 noise)."""
    return torch.from_numpy(rng.standard_normal(shape))


def _rand(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """A float64 tensor of uniform numbers in [0, 1) drawn from ``rng``."""
    return torch.from_numpy(rng.random(shape))


def _pad1(x):  # noqa: ANN001, ANN202
    """(N, H, W) with its border replicated once: (N, H + 2, W + 2)."""
    return torch.nn.functional.pad(x[:, None], (1, 1, 1, 1), mode="replicate")[:, 0]


# --- image_gradients ------------------------------------------------------------------------------
def _gradients_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_rand(rng, 2, 7, 9), _rand(rng, 2, 7, 9)), note="2 random frame pairs of 7×9"),
             Case((torch.arange(5.0, dtype=torch.float64).repeat(4, 1)[None],
                   torch.arange(5.0, dtype=torch.float64).repeat(4, 1)[None] + 1),
                  note="a ramp along x (1 per column), one brighter the next frame")]
    for _ in range(2):
        n, h, w = int(rng.integers(1, 4)), int(rng.integers(3, 12)), int(rng.integers(3, 12))
        cases.append(Case((_rand(rng, n, h, w), _rand(rng, n, h, w)), note=f"{n} random pairs of {h}×{w}"))
    cases.append(Case((_rand(rng, 7, 9), _rand(rng, 7, 9)), raises=ValueError, note="frames without the batch axis"))
    cases.append(Case((_rand(rng, 1, 7, 9), _rand(rng, 1, 7, 8)), raises=ValueError, note="frames of different sizes"))
    # the edges: the smallest legal frames, and a 4-D tensor
    cases.append(Case((_rand(rng, 1, 1, 1), _rand(rng, 1, 1, 1)), note="one pair of 1×1 frames"))
    cases.append(Case((_rand(rng, 1, 1, 2), _rand(rng, 1, 1, 2)), note="one pair of 1×2 frames"))
    cases.append(Case((_rand(rng, 1, 1, 4, 4), _rand(rng, 1, 1, 4, 4)), raises=ValueError,
                      note="(N, C, H, W) frames: grey frames are (N, H, W)"))
    return cases


def _gradients_axes_swapped(frame1, frame2):  # noqa: ANN001, ANN202
    mean = _pad1((frame1 + frame2) / 2)
    iy = (mean[:, 1:-1, 2:] - mean[:, 1:-1, :-2]) / 2
    ix = (mean[:, 2:, 1:-1] - mean[:, :-2, 1:-1]) / 2
    return torch.stack([ix, iy, frame2 - frame1], dim=1)


def _gradients_it_sign(frame1, frame2):  # noqa: ANN001, ANN202
    mean = _pad1((frame1 + frame2) / 2)
    ix = (mean[:, 1:-1, 2:] - mean[:, 1:-1, :-2]) / 2
    iy = (mean[:, 2:, 1:-1] - mean[:, :-2, 1:-1]) / 2
    return torch.stack([ix, iy, frame1 - frame2], dim=1)


def _gradients_forward(frame1, frame2):  # noqa: ANN001, ANN202
    mean = _pad1((frame1 + frame2) / 2)
    ix = mean[:, 1:-1, 2:] - mean[:, 1:-1, 1:-1]
    iy = mean[:, 2:, 1:-1] - mean[:, 1:-1, 1:-1]
    return torch.stack([ix, iy, frame2 - frame1], dim=1)


def _gradients_frame1_only(frame1, frame2):  # noqa: ANN001, ANN202
    mean = _pad1(frame1)
    ix = (mean[:, 1:-1, 2:] - mean[:, 1:-1, :-2]) / 2
    iy = (mean[:, 2:, 1:-1] - mean[:, :-2, 1:-1]) / 2
    return torch.stack([ix, iy, frame2 - frame1], dim=1)


def _gradients_no_half(frame1, frame2):  # noqa: ANN001, ANN202
    mean = _pad1((frame1 + frame2) / 2)
    ix = mean[:, 1:-1, 2:] - mean[:, 1:-1, :-2]
    iy = mean[:, 2:, 1:-1] - mean[:, :-2, 1:-1]
    return torch.stack([ix, iy, frame2 - frame1], dim=1)


# --- horn_schunck_step ----------------------------------------------------------------------------
def _hs_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 3, 6, 8), _randn(rng, 2, 2, 6, 8), 0.5), note="random gradients and flow, α = 0.5"),
             Case((_randn(rng, 1, 3, 5, 5), torch.zeros(1, 2, 5, 5, dtype=torch.float64), 2.0),
                  note="the first iteration, from zero flow, α = 2")]
    for _ in range(2):
        n, h, w = int(rng.integers(1, 4)), int(rng.integers(2, 10)), int(rng.integers(2, 10))
        alpha = float(np.round(rng.uniform(0.1, 3.0), 2))
        cases.append(Case((_randn(rng, n, 3, h, w), _randn(rng, n, 2, h, w), alpha),
                          note=f"{n} random fields of {h}×{w}, α = {alpha}"))
    cases.append(Case((_randn(rng, 1, 3, 5, 5), _randn(rng, 1, 2, 5, 5), 0.0), raises=ValueError, note="α = 0"))
    cases.append(Case((_randn(rng, 1, 2, 5, 5), _randn(rng, 1, 2, 5, 5), 1.5), raises=ValueError,
                      note="grads with 2 channels instead of 3"))
    # the edges: the smallest legal field, a negative α, and 3-D tensors
    cases.append(Case((_randn(rng, 1, 3, 1, 1), _randn(rng, 1, 2, 1, 1), 1.0), note="one 1×1 field"))
    cases.append(Case((_randn(rng, 1, 3, 5, 5), _randn(rng, 1, 2, 5, 5), -1.0), raises=ValueError, note="α = -1"))
    cases.append(Case((_randn(rng, 3, 5, 5), _randn(rng, 2, 5, 5), 1.0), raises=ValueError,
                      note="fields without the batch axis"))
    return cases


def _hs_kernel(flow):  # noqa: ANN001, ANN202
    return torch.tensor([[1.0, 2.0, 1.0], [2.0, 0.0, 2.0], [1.0, 2.0, 1.0]], dtype=flow.dtype) / 12


def _hs_mean(flow):  # noqa: ANN001, ANN202
    N, _, H, W = flow.shape
    padded = torch.nn.functional.pad(flow.reshape(N * 2, 1, H, W), (1, 1, 1, 1), mode="replicate")
    return torch.nn.functional.conv2d(padded, _hs_kernel(flow)[None, None]).view(N, 2, H, W)


def _hs_uv_swapped(grads, flow, alpha):  # noqa: ANN001, ANN202
    ix, iy, it = grads[:, 0], grads[:, 1], grads[:, 2]
    mean = _hs_mean(flow)
    ratio = (ix * mean[:, 0] + iy * mean[:, 1] + it) / (alpha ** 2 + ix ** 2 + iy ** 2)
    return torch.stack([mean[:, 1] - iy * ratio, mean[:, 0] - ix * ratio], dim=1)


def _hs_alpha_not_squared(grads, flow, alpha):  # noqa: ANN001, ANN202
    ix, iy, it = grads[:, 0], grads[:, 1], grads[:, 2]
    mean = _hs_mean(flow)
    ratio = (ix * mean[:, 0] + iy * mean[:, 1] + it) / (alpha + ix ** 2 + iy ** 2)
    return torch.stack([mean[:, 0] - ix * ratio, mean[:, 1] - iy * ratio], dim=1)


def _hs_no_average(grads, flow, alpha):  # noqa: ANN001, ANN202
    ix, iy, it = grads[:, 0], grads[:, 1], grads[:, 2]
    u, v = flow[:, 0], flow[:, 1]
    ratio = (ix * u + iy * v + it) / (alpha ** 2 + ix ** 2 + iy ** 2)
    return torch.stack([u - ix * ratio, v - iy * ratio], dim=1)


def _hs_plus(grads, flow, alpha):  # noqa: ANN001, ANN202
    ix, iy, it = grads[:, 0], grads[:, 1], grads[:, 2]
    mean = _hs_mean(flow)
    ratio = (ix * mean[:, 0] + iy * mean[:, 1] + it) / (alpha ** 2 + ix ** 2 + iy ** 2)
    return torch.stack([mean[:, 0] + ix * ratio, mean[:, 1] + iy * ratio], dim=1)


# --- lucas_kanade_step ----------------------------------------------------------------------------
def _lk_cases(rng: np.random.Generator) -> list[Case]:
    flat = _randn(rng, 1, 3, 9, 11)
    flat[:, :2, :, 5:] = 0  # no spatial gradient on the right half: the aperture problem there
    cases = [Case((_randn(rng, 2, 3, 7, 8), 3), note="random gradients, a 3×3 window"),
             Case((flat, 3), {"min_eigenvalue": 1e-3}, note="zero gradients on the right half (singular windows)"),
             Case((_randn(rng, 1, 3, 6, 9), 5), {"min_eigenvalue": 0.5}, note="a 5×5 window, min_eigenvalue 0.5")]
    for _ in range(2):
        n, h, w = int(rng.integers(1, 3)), int(rng.integers(3, 10)), int(rng.integers(3, 10))
        window = int(rng.choice([1, 3, 5, 7]))
        cases.append(Case((_randn(rng, n, 3, h, w), window), note=f"{n} random fields of {h}×{w}, window {window}"))
    cases.append(Case((_randn(rng, 1, 3, 5, 5), 4), raises=ValueError, note="an even window"))
    cases.append(Case((_randn(rng, 1, 3, 5, 5), 0), raises=ValueError, note="window 0"))
    # the edges: the smallest legal window (1: one pixel, singular unless both gradients are there)
    cases.append(Case((_randn(rng, 2, 3, 4, 5), 1), {"min_eigenvalue": 0.0}, note="window 1, min_eigenvalue 0"))
    cases.append(Case((_randn(rng, 1, 3, 1, 1), 1), note="one 1×1 field, window 1"))
    cases.append(Case((_randn(rng, 1, 3, 5, 5), 3.0), raises=ValueError, note="window 3.0 (a float)"))
    cases.append(Case((_randn(rng, 1, 3, 5, 5), True), raises=ValueError, note="window True (a bool)"))
    cases.append(Case((_randn(rng, 3, 5, 5), 3), raises=ValueError, note="gradients without the batch axis"))
    return cases


def _lk_solve(sxx, sxy, syy, sxt, syt, min_eigenvalue):  # noqa: ANN001, ANN202
    det = sxx * syy - sxy * sxy
    safe = torch.where(det == 0, torch.ones_like(det), det)
    u = (-syy * sxt + sxy * syt) / safe
    v = (sxy * sxt - sxx * syt) / safe
    smaller = (sxx + syy) / 2 - torch.sqrt(((sxx - syy) / 2) ** 2 + sxy ** 2)
    ok = smaller > min_eigenvalue
    return torch.where(ok, u, 0.0), torch.where(ok, v, 0.0)


def _lk_sums(grads, window):  # noqa: ANN001, ANN202
    ix, iy, it = grads[:, 0], grads[:, 1], grads[:, 2]
    products = torch.stack([ix * ix, ix * iy, iy * iy, ix * it, iy * it], dim=1)
    box = torch.ones(5, 1, window, window, dtype=grads.dtype)
    return torch.nn.functional.conv2d(products, box, padding=window // 2, groups=5).unbind(1)


def _lk_uv_swapped(grads, window, min_eigenvalue=1e-6):  # noqa: ANN001, ANN202
    u, v = _lk_solve(*_lk_sums(grads, window), min_eigenvalue)
    return torch.stack([v, u], dim=1)


def _lk_no_window(grads, window, min_eigenvalue=1e-6):  # noqa: ANN001, ANN202
    ix, iy, it = grads[:, 0], grads[:, 1], grads[:, 2]
    u, v = _lk_solve(ix * ix, ix * iy, iy * iy, ix * it, iy * it, min_eigenvalue)
    return torch.stack([u, v], dim=1)


def _lk_b_sign(grads, window, min_eigenvalue=1e-6):  # noqa: ANN001, ANN202
    sxx, sxy, syy, sxt, syt = _lk_sums(grads, window)
    u, v = _lk_solve(sxx, sxy, syy, -sxt, -syt, min_eigenvalue)
    return torch.stack([u, v], dim=1)


def _lk_no_threshold(grads, window, min_eigenvalue=1e-6):  # noqa: ANN001, ANN202
    sxx, sxy, syy, sxt, syt = _lk_sums(grads, window)
    det = sxx * syy - sxy * sxy
    safe = torch.where(det == 0, torch.ones_like(det), det)
    return torch.stack([(-syy * sxt + sxy * syt) / safe, (sxy * sxt - sxx * syt) / safe], dim=1)


# --- endpoint_error -------------------------------------------------------------------------------
def _epe_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 2, 5, 7), _randn(rng, 2, 2, 5, 7)), note="random flows, every pixel"),
             Case((torch.tensor([3.0, 4.0], dtype=torch.float64).view(1, 2, 1, 1),
                   torch.zeros(1, 2, 1, 1, dtype=torch.float64)), note="one error vector (3, 4)"),
             Case((_randn(rng, 1, 2, 6, 6), _randn(rng, 1, 2, 6, 6), torch.from_numpy(rng.random((1, 6, 6)) < 0.5)),
                  note="half the pixels valid")]
    for _ in range(2):
        n, h, w = int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
        valid = torch.from_numpy(rng.random((n, h, w)) < 0.7)
        valid[0, 0, 0] = True
        cases.append(Case((_randn(rng, n, 2, h, w), _randn(rng, n, 2, h, w), valid), note=f"{n}×{h}×{w}, a mask"))
    cases.append(Case((_randn(rng, 1, 3, 4, 4), _randn(rng, 1, 3, 4, 4)), raises=ValueError,
                      note="3 channels instead of (u, v)"))
    cases.append(Case((_randn(rng, 1, 2, 4, 4), _randn(rng, 1, 2, 4, 4), torch.zeros(1, 4, 4, dtype=torch.bool)),
                      raises=ValueError, note="a mask that selects nothing"))
    # the edges: a mask that selects one pixel, a float mask, and 3-D flows
    one = torch.zeros(2, 3, 3, dtype=torch.bool)
    one[1, 2, 0] = True
    cases.append(Case((_randn(rng, 2, 2, 3, 3), _randn(rng, 2, 2, 3, 3), one), note="a mask that selects one pixel"))
    cases.append(Case((_randn(rng, 1, 2, 3, 3), _randn(rng, 1, 2, 3, 3), torch.ones(1, 3, 3, dtype=torch.float64)),
                      raises=ValueError, note="a float mask (use a bool mask)"))
    cases.append(Case((_randn(rng, 2, 3, 3), _randn(rng, 2, 3, 3)), raises=ValueError, note="flows without the batch axis"))
    return cases


def _epe_components(flow, flow_gt, valid=None):  # noqa: ANN001, ANN202
    error = (flow - flow_gt).abs().mean(dim=1)
    return error.mean() if valid is None else error[valid].mean()


def _epe_squared(flow, flow_gt, valid=None):  # noqa: ANN001, ANN202
    error = ((flow - flow_gt) ** 2).sum(dim=1)
    return error.mean() if valid is None else error[valid].mean()


def _epe_ignores_valid(flow, flow_gt, valid=None):  # noqa: ANN001, ANN202
    return torch.sqrt(((flow - flow_gt) ** 2).sum(dim=1)).mean()


def _epe_rms(flow, flow_gt, valid=None):  # noqa: ANN001, ANN202
    error = ((flow - flow_gt) ** 2).sum(dim=1)
    return torch.sqrt(error.mean() if valid is None else error[valid].mean())


# --- stack_flows ----------------------------------------------------------------------------------
def _stack_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 2, 3, 4, 5),), note="2 clips of 3 flow fields, 4×5"),
             Case((_randn(rng, 1, 2, 7, 6, 6),), note="L = 7, as for 8-frame clips")]
    for _ in range(2):
        n, L, h, w = int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(1, 7)), int(rng.integers(1, 7))
        cases.append(Case((_randn(rng, n, 2, L, h, w),), note=f"{n} clips, L = {L}, {h}×{w}"))
    cases.append(Case((_randn(rng, 2, 3, 3, 4, 4),), raises=ValueError, note="3 channels instead of (u, v)"))
    cases.append(Case((_randn(rng, 2, 6, 4, 4),), raises=ValueError, note="a 4-D tensor"))
    # the edges: the smallest legal stack
    cases.append(Case((_randn(rng, 1, 2, 1, 1, 1),), note="one clip, L = 1, 1×1"))
    cases.append(Case((_randn(rng, 3, 2, 1, 4, 5),), note="L = 1 (a two-frame clip)"))
    return cases


def _stack_grouped(flows):  # noqa: ANN001, ANN202
    N, _, L, H, W = flows.shape
    return flows.reshape(N, 2 * L, H, W)


def _stack_v_first(flows):  # noqa: ANN001, ANN202
    N, _, L, H, W = flows.shape
    return flows.flip(1).permute(0, 2, 1, 3, 4).reshape(N, 2 * L, H, W)


def _stack_time_reversed(flows):  # noqa: ANN001, ANN202
    N, _, L, H, W = flows.shape
    return flows.flip(2).permute(0, 2, 1, 3, 4).reshape(N, 2 * L, H, W)


# --- fuse_scores ----------------------------------------------------------------------------------
def _fuse_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((3 * _randn(rng, 4, 5), _randn(rng, 4, 5)), note="4 clips, 5 classes, the default weight 0.5"),
             Case((_randn(rng, 3, 4), 4 * _randn(rng, 3, 4), 0.25), note="flow weight 0.25"),
             Case((_randn(rng, 2, 3), _randn(rng, 2, 3), 1.0), note="flow weight 1: the flow stream alone")]
    for _ in range(2):
        n, k = int(rng.integers(1, 6)), int(rng.integers(2, 11))
        w = float(np.round(rng.uniform(0.05, 0.95), 2))
        cases.append(Case((3 * _randn(rng, n, k), 3 * _randn(rng, n, k), w), note=f"{n} clips, {k} classes, w = {w}"))
    cases.append(Case((_randn(rng, 2, 3), _randn(rng, 2, 4)), raises=ValueError, note="different numbers of classes"))
    # the edges: flow weight 0 (the RGB stream alone), one class, weights outside [0, 1], 1-D logits
    cases.append(Case((_randn(rng, 3, 4), 3 * _randn(rng, 3, 4), 0.0), note="flow weight 0: the RGB stream alone"))
    cases.append(Case((_randn(rng, 2, 1), _randn(rng, 2, 1)), note="one class"))
    cases.append(Case((_randn(rng, 2, 3), _randn(rng, 2, 3), 1.5), raises=ValueError, note="flow weight 1.5"))
    cases.append(Case((_randn(rng, 2, 3), _randn(rng, 2, 3), -0.5), raises=ValueError, note="flow weight -0.5"))
    cases.append(Case((_randn(rng, 3), _randn(rng, 3)), raises=ValueError, note="1-D logits: a batch is (N, K)"))
    cases.append(Case((_randn(rng, 2, 3), _randn(rng, 2, 3), 1.5), raises=ValueError, note="flow_weight 1.5"))
    return cases


def _fuse_logits(rgb_logits, flow_logits, flow_weight=0.5):  # noqa: ANN001, ANN202
    return torch.softmax((1 - flow_weight) * rgb_logits + flow_weight * flow_logits, dim=1)


def _fuse_weights_swapped(rgb_logits, flow_logits, flow_weight=0.5):  # noqa: ANN001, ANN202
    return flow_weight * torch.softmax(rgb_logits, dim=1) + (1 - flow_weight) * torch.softmax(flow_logits, dim=1)


def _fuse_no_softmax(rgb_logits, flow_logits, flow_weight=0.5):  # noqa: ANN001, ANN202
    return (1 - flow_weight) * rgb_logits + flow_weight * flow_logits


EXERCISES = [
    _ex("image_gradients", "course.video.flow", _gradients_cases, [
        Misconception("axes_swapped", "I_x is the derivative along x, the width (the last axis); I_y along y, the "
                      "height (rows)", _gradients_axes_swapped),
        Misconception("it_sign", "I_t is frame2 − frame1 (the later frame minus the earlier one)", _gradients_it_sign),
        Misconception("forward", "use central differences (I[x + 1] − I[x − 1]) / 2, not forward differences",
                      _gradients_forward),
        Misconception("frame1_only", "take the spatial derivatives of the mean of the two frames, not of frame1 "
                      "alone", _gradients_frame1_only),
        Misconception("no_half", "a central difference spans two pixels: divide I[x + 1] − I[x − 1] by 2",
                      _gradients_no_half),
    ]),
    _ex("horn_schunck_step", "course.video.flow", _hs_cases, [
        Misconception("uv_swapped", "channel 0 of the flow is u (along x, updated with I_x) and channel 1 is v "
                      "(along y, updated with I_y)", _hs_uv_swapped),
        Misconception("alpha_not_squared", "the smoothness weight enters squared: divide by α² + I_x² + I_y²",
                      _hs_alpha_not_squared),
        Misconception("no_average", "start each update from the neighbourhood averages ū, v̄ (the 3×3 kernel), "
                      "not from u, v at the pixel", _hs_no_average),
        Misconception("plus", "step against the residual: u = ū − I_x·r, v = v̄ − I_y·r", _hs_plus),
    ]),
    _ex("lucas_kanade_step", "course.video.flow", _lk_cases, [
        Misconception("uv_swapped", "channel 0 of the flow is u (along x) and channel 1 is v (along y)",
                      _lk_uv_swapped),
        Misconception("no_window", "sum the products I_x², I_x·I_y, … over the window before solving: one pixel's "
                      "matrix has rank 1 (the aperture problem), so every pixel got zero flow", _lk_no_window),
        Misconception("b_sign", "the right-hand side is −[∑ I_x·I_t, ∑ I_y·I_t]: the constraint is "
                      "I_x·u + I_y·v = −I_t", _lk_b_sign),
        Misconception("no_threshold", "set the flow to 0 where the smaller eigenvalue of the window's matrix is "
                      "not above min_eigenvalue", _lk_no_threshold),
    ]),
    _ex("endpoint_error", "course.video.flow", _epe_cases, [
        Misconception("components", "the end-point error is the length of the error vector, "
                      "sqrt((u − u_gt)² + (v − v_gt)²), not the mean of the two component errors", _epe_components),
        Misconception("squared", "take the square root per pixel: the error is a length in pixels, not a squared "
                      "length", _epe_squared),
        Misconception("ignores_valid", "average only over the pixels where valid is True", _epe_ignores_valid),
        Misconception("rms", "average the lengths, not the squared lengths (that would be an RMS error)", _epe_rms),
    ]),
    _ex("stack_flows", "course.nn.two_stream", _stack_cases, [
        Misconception("grouped", "keep each pair's u and v together: u₁, v₁, u₂, v₂, …; a plain reshape of "
                      "(N, 2, L, H, W) gives u₁ … u_L, v₁ … v_L (permute the pair axis before the component axis)",
                      _stack_grouped),
        Misconception("v_first", "u (channel 0) comes before v in each pair", _stack_v_first),
        Misconception("time_reversed", "keep the pairs in time order: the first flow field first", _stack_time_reversed),
    ]),
    _ex("fuse_scores", "course.nn.two_stream", _fuse_cases, [
        Misconception("logits", "average the probabilities, softmax(rgb) and softmax(flow), not the logits before "
                      "one softmax", _fuse_logits),
        Misconception("weights_swapped", "flow_weight multiplies the flow stream's scores; the RGB stream gets "
                      "1 − flow_weight", _fuse_weights_swapped),
        Misconception("no_softmax", "turn each stream's logits into probabilities with a softmax over the classes "
                      "before averaging", _fuse_no_softmax),
    ]),
]
