"""Tests of course.video.tracking: IoU against a plain loop, the Kalman steps against the information
form and a scalar case by hand, assignment against brute force, SORT / ByteTrack on scripted scenes,
and the MOT metrics against py-motmetrics."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from course.video.tracking import (associate, box_iou, boxes_to_state, bytetrack, constant_velocity_model,
                                   initial_state, kalman_predict, kalman_update, mot_metrics, sort, state_to_boxes)


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
    information = torch.linalg.solve(cov, mean[..., None]) + (H.T @ torch.linalg.inv(R) @ z.T).T[..., None]
    expect_mean = (expect_cov @ information)[..., 0]
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
    expect = torch.tensor([[13.0, 18.0, 12.0, 13.0, 1.5, -1.0, 0.0, 0.5]], dtype=torch.float64)
    torch.testing.assert_close(new_mean, expect)
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
    empty_mean, empty_cov = torch.zeros(0, 8, dtype=torch.float64), torch.zeros(0, 8, 8, dtype=torch.float64)
    assert kalman_predict(empty_mean, empty_cov, model.F, model.Q)[1].shape == (0, 8, 8)
    assert kalman_update(empty_mean, empty_cov, torch.zeros(0, 4, dtype=torch.float64), model.H, model.R)[0].shape == (0, 8)


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


# --- trackers -------------------------------------------------------------------------------------
def _box(x: float, y: float, size: float = 12.0) -> list[float]:
    return [x, y, x + size, y + size]


def _frames(tracks: dict[int, list], scores: dict[int, list] | None = None) -> list:
    """Detections from per-object box lists (None = no detection in that frame); scores default 0.9."""
    T = len(next(iter(tracks.values())))
    out = []
    for t in range(T):
        boxes = [b[t] for b in tracks.values() if b[t] is not None]
        sc = [(scores or {}).get(k, [0.9] * T)[t] for k, b in tracks.items() if b[t] is not None]
        out.append((torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), torch.tensor(sc, dtype=torch.float32)))
    return out


def _ids(output: list) -> list[list[int]]:
    return [ids.tolist() for ids, _ in output]


def test_sort_two_straight_tracks_keep_their_ids_and_follow_the_boxes():
    T = 12
    a = [_box(2 + 2 * t, 5) for t in range(T)]
    b = [_box(60 - 2 * t, 40) for t in range(T)]
    out = sort(_frames({0: a, 1: b}))
    assert _ids(out) == [[1, 2]] * T
    for t, (ids, boxes) in enumerate(out):
        assert boxes.dtype == torch.float32 and ids.dtype == torch.int64
        torch.testing.assert_close(boxes, torch.tensor([a[t], b[t]]), atol=1.0, rtol=0)


def test_sort_min_hits_and_max_age_follow_the_reference_rules():
    T = 14
    a = [_box(2 + t, 5) for t in range(T)]
    late = [None] * 5 + [_box(40, 40 - t) for t in range(5, T)]  # born in frame 5 (0-based)
    a[9] = None  # one missing frame: the track survives (max_age=1) but loses its hit streak
    out = sort(_frames({0: a, 1: late}), min_hits=3, max_age=1)
    ids = _ids(out)
    assert ids[:3] == [[1]] * 3  # the first min_hits frames report every updated track
    assert ids[3:5] == [[1], [1]]
    assert ids[5:8] == [[1]] * 3 and ids[8] == [1, 2]  # track 2 reported after 3 consecutive hits
    assert ids[9] == [2]  # track 1 not updated in frame 9
    assert ids[10:12] == [[2], [2]] and ids[12] == [1, 2]  # streak rebuilt from 0: reported again at 3 hits
    gap = [_box(2 + t, 5) if t not in (4, 5) else None for t in range(10)]
    assert _ids(sort(_frames({0: gap}), min_hits=0, max_age=1))[6] == [2]  # two missing frames: a new id


def test_sort_ignores_boxes_below_its_score_threshold():
    a = [_box(5 + t, 5) for t in range(6)]
    frames = _frames({0: a}, {0: [0.3] * 6})
    assert all(len(ids) == 0 for ids in _ids(sort(frames)))
    assert _ids(sort(frames, score_threshold=0.0)) == [[1]] * 6


def test_bytetrack_keeps_an_occluded_object_through_low_scores_where_sort_switches():
    """Scores fall to 0.3 for four frames (occlusion): ByteTrack's second pass keeps the id; SORT, which
    sees only the confident boxes, loses the track (max_age=1) and starts a new one."""
    T = 16
    a = [_box(2 + 1.5 * t, 20) for t in range(T)]
    scores = [0.9] * T
    for t in range(6, 10):
        scores[t] = 0.3
    frames = _frames({0: a}, {0: scores})
    assert _ids(bytetrack(frames)) == [[1]] * T
    sort_ids = {i for ids in _ids(sort(frames)) for i in ids}
    assert len(sort_ids) == 2


def test_bytetrack_low_boxes_never_start_a_track_and_new_tracks_need_confirmation():
    low = _frames({0: [_box(5 + t, 5) for t in range(5)]}, {0: [0.5] * 5})
    assert all(len(ids) == 0 for ids in _ids(bytetrack(low)))
    T = 8
    a = [_box(2 + t, 5) for t in range(T)]
    b = [None] * 3 + [_box(40, 30 + t) for t in range(3, T)]
    ids = _ids(bytetrack(_frames({0: a, 1: b})))
    assert ids[0] == [1]  # frame 1 tracks start confirmed
    assert ids[3] == [1] and ids[4] == [1, 2]  # born in frame 3, confirmed by its next match
    one_frame = [None] * 3 + [_box(40, 30)] + [None] * 4  # a single flash: never reported
    assert {i for f in _ids(bytetrack(_frames({0: a, 1: one_frame}))) for i in f} == {1}


@pytest.mark.parametrize("buffer, same_id", [(30, True), (2, False)])
def test_bytetrack_re_identifies_a_lost_track_within_its_buffer(buffer, same_id):
    T = 20
    a = [_box(2 + 2 * t, 20) if not 8 <= t < 13 else None for t in range(T)]  # gone for 5 frames
    ids = _ids(bytetrack(_frames({0: a}), track_buffer=buffer))
    assert all(ids[t] == [] for t in range(8, 13))
    assert (ids[13] == [1]) == same_id and ids[-1] == ([1] if same_id else [2])


def test_tracker_input_errors():
    with pytest.raises(ValueError, match=r"\(boxes \(N, 4\), scores"):
        sort([(torch.zeros(2, 4), torch.zeros(3))])
    with pytest.raises(ValueError, match="x2 < x1"):
        bytetrack([(torch.tensor([[4.0, 0.0, 1.0, 2.0]]), torch.ones(1))])
    with pytest.raises(ValueError, match="low_threshold"):
        bytetrack([], low_threshold=0.7, high_threshold=0.6)
    assert sort([]) == [] and bytetrack([(torch.zeros(0, 4), torch.zeros(0))])[0][0].shape == (0,)


# --- MOT metrics against py-motmetrics ------------------------------------------------------------
motmetrics = pytest.importorskip("motmetrics", reason="py-motmetrics is a dev dependency (pip install motmetrics)")


@pytest.fixture(autouse=True)
def _numpy2_asfarray(monkeypatch):
    """py-motmetrics 1.4's iou_matrix calls np.asfarray, which NumPy 2 removed; give it back for these tests."""
    if not hasattr(np, "asfarray"):
        monkeypatch.setattr(np, "asfarray", lambda a: np.asarray(a, dtype=np.float64), raising=False)


def _motmetrics(gt: list, hyp: list, iou_threshold: float = 0.5) -> dict:
    acc = motmetrics.MOTAccumulator(auto_id=True)
    for (g_ids, g_boxes), (h_ids, h_boxes) in zip(gt, hyp):
        g = torch.as_tensor(g_boxes).numpy().astype(np.float64).reshape(-1, 4)  # astype copies: gt stays intact
        h = torch.as_tensor(h_boxes).numpy().astype(np.float64).reshape(-1, 4)
        g[:, 2:] -= g[:, :2]  # (x, y, w, h)
        h[:, 2:] -= h[:, :2]
        dist = motmetrics.distances.iou_matrix(g, h, max_iou=1 - iou_threshold)
        acc.update(np.asarray(g_ids).tolist(), np.asarray(h_ids).tolist(), dist.reshape(len(g), len(h)))
    names = ["mota", "motp", "idf1", "num_switches", "num_false_positives", "num_misses", "num_objects",
             "num_detections", "idtp"]
    row = motmetrics.metrics.create().compute(acc, metrics=names, name="x").iloc[0]
    return dict(zip(["mota", "motp", "idf1", "id_switches", "false_positives", "misses", "num_objects",
                     "num_matches", "idtp"], row.tolist()))


def _assert_same(ours: dict, theirs: dict) -> None:
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, abs=1e-12, nan_ok=True), key


def _seq(frames: list[dict[int, list]]) -> list:
    return [(torch.tensor(list(f), dtype=torch.int64),
             torch.tensor(list(f.values()), dtype=torch.float64).reshape(-1, 4)) for f in frames]


def test_mot_metrics_worked_case_by_hand():
    """One object over 4 frames; hypothesis 10 for two frames, a miss, then hypothesis 20: 3 pairs, 1 miss,
    1 switch, MOTA = 1 − 2/4; IDF1 pairs object 1 with 10 (2 frames): 2·2 / (4 + 3)."""
    b = _box(0, 0)
    gt = _seq([{1: b}] * 4)
    hyp = _seq([{10: b}, {10: b}, {}, {20: b}])
    m = mot_metrics(gt, hyp)
    assert (m["misses"], m["false_positives"], m["id_switches"], m["num_objects"]) == (1, 0, 1, 4)
    assert m["mota"] == 0.5 and m["idf1"] == pytest.approx(4 / 7) and m["motp"] == 0.0
    _assert_same(m, _motmetrics(gt, hyp))


def test_mot_metrics_pair_as_many_objects_as_possible_before_minimizing_distance():
    """A-Y is the cheapest pair, but taking it leaves B without a partner (B-X has IoU 1/3 < 0.5): CLEAR MOT
    (and py-motmetrics, through its large finite cost for forbidden pairs) takes A-X and B-Y instead."""
    A, B, X, Y = [0, 0, 10, 10], [3, 0, 13, 10], [-2, 0, 8, 10], [1.5, 0, 11.5, 10]
    gt, hyp = _seq([{1: A, 2: B}]), _seq([{5: X, 6: Y}])
    m = mot_metrics(gt, hyp)
    assert (m["num_matches"], m["misses"], m["false_positives"]) == (2, 0, 0)
    _assert_same(m, _motmetrics(gt, hyp))


def _crossing() -> tuple[list, list]:
    """Two objects cross; the tracker swaps their ids after the crossing and drops one frame."""
    gt, hyp = [], []
    for t in range(10):
        a, b = _box(2 + 4 * t, 10), _box(38 - 4 * t, 12)
        gt.append({1: a, 2: b})
        h = {7: a, 8: b} if t < 5 else {8: a, 7: b}
        if t == 6:
            h.pop(8)
        if t == 3:
            h[9] = _box(50, 50)  # a false positive
        hyp.append(h)
    return _seq(gt), _seq(hyp)


def _random_sequence(seed: int) -> tuple[list, list]:
    """Random objects with jittered, dropped, id-swapped and spurious hypotheses (ties of IoU included)."""
    g = np.random.default_rng(seed)
    K, T = int(g.integers(2, 6)), int(g.integers(5, 15))
    start = g.uniform(0, 40, (K, 2))
    velocity = g.uniform(-3, 3, (K, 2))
    gt, hyp = [], []
    hyp_id = {k: 100 + k for k in range(K)}
    for t in range(T):
        gt_f, hyp_f = {}, {}
        if g.random() < 0.3:  # swap two hypothesis ids
            a, b = g.choice(K, 2, replace=False)
            hyp_id[a], hyp_id[b] = hyp_id[b], hyp_id[a]
        for k in range(K):
            if g.random() < 0.9:
                xy = start[k] + velocity[k] * t
                gt_f[k] = [*xy, *(xy + 10)]
                if g.random() < 0.8:
                    hyp_f[hyp_id[k]] = [*(xy + g.normal(0, 2, 2)), *(xy + 10 + g.normal(0, 2, 2))]
        for j in range(int(g.poisson(0.7))):
            xy = g.uniform(0, 40, 2)
            hyp_f[500 + j] = [*xy, *(xy + 10)]
        gt.append(gt_f)
        hyp.append(hyp_f)
    return _seq(gt), _seq(hyp)


@pytest.mark.parametrize("case", ["crossing", *[f"random{s}" for s in range(12)]])
@pytest.mark.parametrize("iou_threshold", [0.5, 0.3])
def test_mot_metrics_equal_py_motmetrics(case, iou_threshold):
    gt, hyp = _crossing() if case == "crossing" else _random_sequence(int(case[6:]))
    _assert_same(mot_metrics(gt, hyp, iou_threshold=iou_threshold), _motmetrics(gt, hyp, iou_threshold))


def test_mot_metrics_on_tracker_output_equal_py_motmetrics():
    T = 20
    gt = _seq([{1: _box(2 + 2.5 * t, 20), 2: _box(50 - 2.5 * t, 22)} for t in range(T)])
    dets = [(boxes + 0.7 * torch.randn(boxes.shape, generator=torch.Generator().manual_seed(t), dtype=torch.float64),
             torch.full((len(boxes),), 0.9 if 7 > t or t > 12 else 0.4)) for t, (_, boxes) in enumerate(gt)]
    for tracker in (sort, bytetrack):
        hyp = tracker(dets)
        _assert_same(mot_metrics(gt, hyp), _motmetrics(gt, hyp))


def test_mot_metrics_errors():
    gt, hyp = _crossing()
    with pytest.raises(ValueError, match="frames"):
        mot_metrics(gt, hyp[:-1])
    with pytest.raises(ValueError, match="repeats an id"):
        mot_metrics([(torch.tensor([1, 1]), torch.zeros(2, 4))], [(torch.tensor([1]), torch.zeros(1, 4))])
    with pytest.raises(ValueError, match="iou_threshold"):
        mot_metrics(gt, hyp, iou_threshold=1.5)


def test_tracker_state_steps_match_the_torch_kalman_functions():
    """Check the trackers' NumPy predict/update (_Tracks) against kalman_predict/kalman_update, odd N = 5."""
    from course.video.tracking import _Tracks

    g = torch.Generator().manual_seed(3)
    model = constant_velocity_model(velocity_std=0.7, measurement_std=1.3)
    boxes = torch.rand(5, 2, generator=g, dtype=torch.float64) * 40
    boxes = torch.cat([boxes, boxes + 3 + torch.rand(5, 2, generator=g, dtype=torch.float64) * 9], dim=1)
    tracks = _Tracks(model)
    tracks.add(boxes, [{} for _ in range(5)])
    mean, cov = initial_state(boxes, model)
    mean[:, 4:] = torch.randn(5, 4, generator=g, dtype=torch.float64)  # give the tracks velocities
    tracks.mean[:, 4:] = mean[:, 4:].numpy()
    chosen = [0, 2, 3]
    tracks.predict(chosen)
    m, c = kalman_predict(mean[chosen], cov[chosen], model.F, model.Q)
    seen = boxes[chosen] + torch.randn(3, 4, generator=g, dtype=torch.float64).abs()
    tracks.update(chosen, seen)
    m, c = kalman_update(m, c, boxes_to_state(seen), model.H, model.R)
    np.testing.assert_allclose(tracks.mean[chosen], m.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tracks.cov[chosen], c.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(tracks.mean[[1, 4]], mean[[1, 4]].numpy())  # the others untouched
