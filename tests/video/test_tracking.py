"""Tests of course.video.tracking: IoU against a plain loop, the Kalman steps against the information
form and a scalar case by hand, assignment against brute force, SORT / ByteTrack on scripted scenes,
and the MOT metrics against py-motmetrics."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from course.video.tracking import (associate, box_iou, boxes_to_state, constant_velocity_model, initial_state,
                                   kalman_predict, kalman_update, state_to_boxes)


def _random_boxes(n: int, seed: int, size: float = 50.0) -> torch.Tensor:
    g = np.random.default_rng(seed)
    xy = g.uniform(0, size, (n, 2))
    wh = g.uniform(0, 20, (n, 2))
    return torch.tensor(np.concatenate([xy, xy + wh], axis=1))


# --- box_iou --------------------------------------------------------------------------------------
def _iou_loop(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((len(a), len(b)))
    for i, j in itertools.product(range(len(a)), range(len(b))):
        ix = max(0.0, min(a[i, 2], b[j, 2]) - max(a[i, 0], b[j, 0]))
        iy = max(0.0, min(a[i, 3], b[j, 3]) - max(a[i, 1], b[j, 1]))
        inter = ix * iy
        union = (a[i, 2] - a[i, 0]) * (a[i, 3] - a[i, 1]) + (b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1]) - inter
        out[i, j] = inter / union if union > 0 else 0.0
    return out


@pytest.mark.parametrize("n, m, seed", [(7, 5, 0), (1, 9, 1), (13, 1, 2)])
def test_box_iou_matches_a_plain_loop(n, m, seed):
    a, b = _random_boxes(n, seed), _random_boxes(m, seed + 100)
    np.testing.assert_allclose(box_iou(a, b).numpy(), _iou_loop(a.numpy(), b.numpy()), rtol=1e-12, atol=1e-12)


def test_box_iou_worked_cases():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [2.0, 0.0, 4.0, 2.0], [5.0, 5.0, 5.0, 5.0]])
    # overlap 1 of union 7; identical; touching edge; degenerate point
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[1 / 7, 1.0, 0.0, 0.0]]))
    assert box_iou(b[3:], b[3:]).item() == 0.0  # empty union is 0, not NaN


def test_box_iou_empty_and_errors():
    assert box_iou(torch.zeros(0, 4), _random_boxes(3, 0)).shape == (0, 3)
    with pytest.raises(ValueError, match="x2 < x1"):
        box_iou(torch.tensor([[5.0, 0.0, 2.0, 3.0]]), torch.zeros(1, 4))
    with pytest.raises(ValueError, match=r"\(K, 4\)"):
        box_iou(torch.zeros(3, 5), torch.zeros(1, 4))


# --- Kalman filter --------------------------------------------------------------------------------
def _random_spd(n: int, d: int, g: torch.Generator) -> torch.Tensor:
    a = torch.randn(n, d, d, generator=g, dtype=torch.float64)
    return a @ a.transpose(-1, -2) + 0.5 * torch.eye(d, dtype=torch.float64)


def test_kalman_update_equals_the_information_form():
    """P'⁻¹ = P⁻¹ + Hᵀ R⁻¹ H and x' = P' (P⁻¹ x + Hᵀ R⁻¹ z): an independent derivation."""
    g = torch.Generator().manual_seed(3)
    N, D, M = 5, 7, 3
    mean = torch.randn(N, D, generator=g, dtype=torch.float64)
    cov = _random_spd(N, D, g)
    z = torch.randn(N, M, generator=g, dtype=torch.float64)
    H = torch.randn(M, D, generator=g, dtype=torch.float64)
    R = _random_spd(1, M, g)[0]
    new_mean, new_cov = kalman_update(mean, cov, z, H, R)
    info = torch.linalg.inv(cov) + H.T @ torch.linalg.inv(R) @ H
    expect_cov = torch.linalg.inv(info)
    expect_mean = (expect_cov @ (torch.linalg.solve(cov, mean[..., None]) + (H.T @ torch.linalg.inv(R) @ z.T).T[..., None]))[..., 0]
    torch.testing.assert_close(new_cov, expect_cov, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(new_mean, expect_mean, rtol=1e-9, atol=1e-9)


def test_kalman_scalar_case_by_hand():
    """1-D: prior x = 2, P = 3; predict with F = 1, Q = 1 → P = 4; measure z = 6 with R = 4: K = 1/2,
    x = 2 + (6 - 2)/2 = 4, P = (1 - 1/2)·4 = 2."""
    one = torch.ones(1, 1, dtype=torch.float64)
    mean, cov = kalman_predict(torch.tensor([[2.0]], dtype=torch.float64), 3 * one[None], one, one)
    assert cov.item() == 4.0 and mean.item() == 2.0
    mean, cov = kalman_update(mean, cov, torch.tensor([[6.0]], dtype=torch.float64), one, 4 * one)
    assert mean.item() == pytest.approx(4.0) and cov.item() == pytest.approx(2.0)


def test_kalman_predict_moves_by_velocity_and_grows_covariance():
    model = constant_velocity_model(dt=2.0)
    mean = torch.tensor([[10.0, 20.0, 12.0, 12.0, 1.5, -1.0, 0.0, 0.5]], dtype=torch.float64)
    new_mean, new_cov = kalman_predict(mean, model.P0[None], model.F, model.Q)
    torch.testing.assert_close(new_mean, torch.tensor([[13.0, 18.0, 12.0, 13.0, 1.5, -1.0, 0.0, 0.5]], dtype=torch.float64))
    # position variance: P0 + dt² · velocity variance + Q
    assert new_cov[0, 0, 0].item() == pytest.approx(1.0 + 4 * 25.0 + 1.0)
    torch.testing.assert_close(new_cov, new_cov.transpose(-1, -2))


def test_kalman_tracks_a_constant_velocity_box():
    model = constant_velocity_model()
    g = torch.Generator().manual_seed(0)
    truth = torch.tensor([[5.0, 30.0, 17.0, 42.0]], dtype=torch.float64)
    mean, cov = initial_state(truth, model)
    for t in range(1, 30):
        mean, cov = kalman_predict(mean, cov, model.F, model.Q)
        box = truth + torch.tensor([1.5, -0.5, 1.5, -0.5], dtype=torch.float64) * t
        z = boxes_to_state(box) + 0.5 * torch.randn(1, 4, generator=g, dtype=torch.float64)
        mean, cov = kalman_update(mean, cov, z, model.H, model.R)
    torch.testing.assert_close(mean[0, 4:], torch.tensor([1.5, -0.5, 0.0, 0.0], dtype=torch.float64), atol=0.15, rtol=0)
    torch.testing.assert_close(state_to_boxes(mean), box, atol=1.0, rtol=0)


def test_box_state_round_trip_and_kalman_errors():
    boxes = _random_boxes(6, 4)
    torch.testing.assert_close(state_to_boxes(boxes_to_state(boxes)), boxes)
    model = constant_velocity_model()
    with pytest.raises(ValueError, match="cov"):
        kalman_predict(torch.zeros(2, 8), torch.zeros(3, 8, 8), model.F, model.Q)
    with pytest.raises(ValueError, match="measurement"):
        kalman_update(torch.zeros(2, 8), torch.zeros(2, 8, 8), torch.zeros(2, 5), model.H, model.R)
    with pytest.raises(ValueError, match="velocity_std"):
        constant_velocity_model(velocity_std=0)


# --- associate ------------------------------------------------------------------------------------
def _brute_force_min_cost(cost: np.ndarray) -> float:
    n, m = cost.shape
    if n <= m:
        return min(sum(cost[i, p[i]] for i in range(n)) for p in itertools.permutations(range(m), n))
    return _brute_force_min_cost(cost.T)


@pytest.mark.parametrize("n, m, seed", [(3, 5, 0), (5, 3, 1), (4, 4, 2), (1, 6, 3)])
def test_associate_is_optimal_and_gates_after_assignment(n, m, seed):
    cost = torch.rand(n, m, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    matches, free_tracks, free_dets = associate(cost, max_cost=10.0)
    assert len(matches) == min(n, m)
    assert cost[matches[:, 0], matches[:, 1]].sum().item() == pytest.approx(_brute_force_min_cost(cost.numpy()))
    # gating removes exactly the expensive pairs of that same assignment
    gated, gt_free, gd_free = associate(cost, max_cost=0.5)
    keep = cost[matches[:, 0], matches[:, 1]] <= 0.5
    torch.testing.assert_close(gated, matches[keep])
    assert sorted(gt_free.tolist() + gated[:, 0].tolist()) == list(range(n))
    assert sorted(gd_free.tolist() + gated[:, 1].tolist()) == list(range(m))
    for t in (matches, free_tracks, free_dets, gated, gt_free, gd_free):
        assert t.dtype == torch.int64


def test_associate_rejects_after_not_during_assignment():
    """The optimal assignment is (0, 1) + (1, 0) = 1.0 (against 5.2); the gate then drops (0, 1) at 0.9, so
    track 0 stays unmatched although (0, 0) at 0.2 would have passed the gate."""
    cost = torch.tensor([[0.2, 0.9], [0.1, 5.0]])
    matches, free_tracks, free_dets = associate(cost, max_cost=0.5)
    assert matches.tolist() == [[1, 0]]
    assert free_tracks.tolist() == [0] and free_dets.tolist() == [1]


def test_associate_keeps_cost_equal_to_max_and_handles_empty():
    matches, _, _ = associate(torch.tensor([[0.5]]), max_cost=0.5)
    assert matches.tolist() == [[0, 0]]
    matches, ft, fd = associate(torch.zeros(0, 4), max_cost=1.0)
    assert matches.shape == (0, 2) and ft.tolist() == [] and fd.tolist() == [0, 1, 2, 3]
    matches, ft, fd = associate(torch.zeros(3, 0), max_cost=1.0)
    assert matches.shape == (0, 2) and ft.tolist() == [0, 1, 2] and fd.tolist() == []
    with pytest.raises(ValueError, match="NaN"):
        associate(torch.tensor([[float("nan")]]), max_cost=1.0)
    with pytest.raises(ValueError, match="2-D|N tracks"):
        associate(torch.zeros(3), max_cost=1.0)
