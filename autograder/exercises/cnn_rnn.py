"""Graded exercises of lesson 07_cnn_rnn: LSTM and GRU cells in torch's gate order, frames to feature
sequences, the time loop, and the LRCN forward pass with given weights."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "07_cnn_rnn"


_ex = exercise_maker(ASSIGNMENT)


def _randn(rng: np.random.Generator, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal numbers drawn from ``rng`` (scaled by 0.5 so the gates are not all saturated)."""
    return torch.from_numpy(0.5 * rng.standard_normal(shape)).to(dtype)


def _distinct(rng: np.random.Generator, k: int, low: int = 2, high: int = 9) -> list[int]:
    """k distinct sizes in [low, high), so that a mixed-up axis changes the shape or the values."""
    return [int(v) for v in rng.choice(np.arange(low, high), size=k, replace=False)]


def _rnn_weights(rng: np.random.Generator, gates: int, D: int, hidden: int,
                 dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ...]:
    """weight_ih (G·hidden, D), weight_hh (G·hidden, hidden), bias_ih, bias_hh (G·hidden,)."""
    return (_randn(rng, gates * hidden, D, dtype=dtype), _randn(rng, gates * hidden, hidden, dtype=dtype),
            _randn(rng, gates * hidden, dtype=dtype), _randn(rng, gates * hidden, dtype=dtype))


# --- correct cells, for building the wrong loops below ------------------------------------------------
def _lstm(x, h, c, w_ih, w_hh, b_ih, b_hh):  # noqa: ANN001, ANN202
    i, f, g, o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _gru(x, h, w_ih, w_hh, b_ih, b_hh):  # noqa: ANN001, ANN202
    x_r, x_z, x_n = (x @ w_ih.T + b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + r * h_n) + z * h


# --- lstm_cell -------------------------------------------------------------------------------------------
def _lstm_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(3):
        N, D, hidden = _distinct(rng, 3)
        cases.append(Case((_randn(rng, N, D), _randn(rng, N, hidden), _randn(rng, N, hidden),
                           *_rnn_weights(rng, 4, D, hidden)), note=f"N = {N}, D = {D}, hidden = {hidden}"))
    cases.append(Case((_randn(rng, 2, 3, dtype=torch.float64), _randn(rng, 2, 4, dtype=torch.float64),
                       _randn(rng, 2, 4, dtype=torch.float64), *_rnn_weights(rng, 4, 3, 4, torch.float64)),
                      note="float64 inputs: keep the dtype"))
    cases.append(Case((_randn(rng, 1, 5), torch.zeros(1, 1), torch.zeros(1, 1), *_rnn_weights(rng, 4, 5, 1)),
                      note="hidden = 1, zero states"))
    cases.append(Case((_randn(rng, 2, 3), _randn(rng, 2, 4), _randn(rng, 2, 4), *_rnn_weights(rng, 3, 3, 4)),
                      raises=ValueError, note="GRU-sized weights (3·hidden rows) in an LSTM"))
    # the edges: N = D = hidden = 1, and inputs without the batch axis
    cases.append(Case((_randn(rng, 1, 1), _randn(rng, 1, 1), _randn(rng, 1, 1), *_rnn_weights(rng, 4, 1, 1)),
                      note="N = D = hidden = 1"))
    cases.append(Case((_randn(rng, 3), _randn(rng, 2, 4), _randn(rng, 2, 4), *_rnn_weights(rng, 4, 3, 4)),
                      raises=ValueError, note="x of shape (D,): one step of a batch is (N, D)"))
    return cases


def _lstm_gate_order(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: ANN001, ANN202
    i, f, o, g = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _lstm_sigmoid_g(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: ANN001, ANN202
    i, f, g, o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.sigmoid(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _lstm_old_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: ANN001, ANN202
    i, f, g, o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_next), c


def _lstm_no_forget(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: ANN001, ANN202
    i, f, g, o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)
    c = torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _lstm_no_tanh_c(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: ANN001, ANN202
    i, f, g, o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * c, c


# --- gru_cell --------------------------------------------------------------------------------------------
def _gru_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(3):
        N, D, hidden = _distinct(rng, 3)
        cases.append(Case((_randn(rng, N, D), _randn(rng, N, hidden), *_rnn_weights(rng, 3, D, hidden)),
                          note=f"N = {N}, D = {D}, hidden = {hidden}"))
    cases.append(Case((_randn(rng, 2, 3, dtype=torch.float64), _randn(rng, 2, 4, dtype=torch.float64),
                       *_rnn_weights(rng, 3, 3, 4, torch.float64)), note="float64 inputs: keep the dtype"))
    cases.append(Case((_randn(rng, 3, 2), _randn(rng, 3, 1), *_rnn_weights(rng, 3, 2, 1)), note="hidden = 1"))
    cases.append(Case((_randn(rng, 2, 3), _randn(rng, 2, 4), *_rnn_weights(rng, 4, 3, 4)),
                      raises=ValueError, note="LSTM-sized weights (4·hidden rows) in a GRU"))
    # the edges: N = D = hidden = 1, and inputs without the batch axis
    cases.append(Case((_randn(rng, 1, 1), _randn(rng, 1, 1), *_rnn_weights(rng, 3, 1, 1)), note="N = D = hidden = 1"))
    cases.append(Case((_randn(rng, 3), _randn(rng, 2, 4), *_rnn_weights(rng, 3, 3, 4)), raises=ValueError,
                      note="x of shape (D,): one step of a batch is (N, D)"))
    return cases


def _gru_reset_before(x, h, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: ANN001, ANN202
    x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
    w_hr, w_hz, w_hn = weight_hh.chunk(3, dim=0)
    b_hr, b_hz, b_hn = bias_hh.chunk(3, dim=0)
    r = torch.sigmoid(x_r + h @ w_hr.T + b_hr)
    z = torch.sigmoid(x_z + h @ w_hz.T + b_hz)
    n = torch.tanh(x_n + (r * h) @ w_hn.T + b_hn)
    return (1 - z) * n + z * h


def _gru_gate_order(x, h, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: ANN001, ANN202
    x_z, x_r, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_z, h_r, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + r * h_n) + z * h


def _gru_update_swapped(x, h, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: ANN001, ANN202
    x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return z * torch.tanh(x_n + r * h_n) + (1 - z) * h


def _gru_no_reset(x, h, weight_ih, weight_hh, bias_ih, bias_hh):  # noqa: ANN001, ANN202
    x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
    z = torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + h_n) + z * h


# --- frame_features --------------------------------------------------------------------------------------
def _features_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in (3, 3, 1):
        N, C, T, H, W, D = _distinct(rng, 6, 2, 10)
        cases.append(Case((_randn(rng, N, C, T, H, W), _randn(rng, D, C, k, k), _randn(rng, D)),
                          note=f"(N, C, T, H, W) = {(N, C, T, H, W)}, {D} filters {k}x{k}"))
    cases.append(Case((_randn(rng, 1, 1, 8, 7, 5), _randn(rng, 4, 1, 5, 5), _randn(rng, 4)),
                      note="one grey clip of 8 frames, 5x5 filters"))
    cases.append(Case((_randn(rng, 2, 3, 4, 5), _randn(rng, 4, 2, 3, 3), _randn(rng, 4)), raises=ValueError,
                      note="a 4-D tensor is not a batch of clips"))
    cases.append(Case((_randn(rng, 2, 3, 4, 5, 5), _randn(rng, 4, 2, 3, 3), _randn(rng, 4)), raises=ValueError,
                      note="the weight expects 2 input channels, the clips have 3"))
    # the edges: T = 1, and the smallest legal clip and filter
    cases.append(Case((_randn(rng, 2, 3, 1, 5, 4), _randn(rng, 4, 3, 3, 3), _randn(rng, 4)), note="T = 1: one frame per clip"))
    cases.append(Case((_randn(rng, 1, 1, 1, 1, 1), _randn(rng, 1, 1, 1, 1), _randn(rng, 1)),
                      note="one clip of one 1×1 grey frame, one 1×1 filter"))
    cases.append(Case((_randn(rng, 1, 1, 2, 3, 3, 3), _randn(rng, 4, 1, 3, 3), _randn(rng, 4)), raises=ValueError,
                      note="a 6-D tensor"))
    return cases


def _features_reshape(clip, weight, bias):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    maps = F.relu(F.conv2d(clip.reshape(N * T, C, H, W), weight, bias, padding=weight.shape[-1] // 2))
    return maps.mean(dim=(2, 3)).view(N, T, -1)


def _features_time_major(clip, weight, bias):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    frames = clip.permute(0, 2, 1, 3, 4).reshape(N * T, C, H, W)
    maps = F.relu(F.conv2d(frames, weight, bias, padding=weight.shape[-1] // 2))
    return maps.mean(dim=(2, 3)).view(T, N, -1).transpose(0, 1)


def _features_no_padding(clip, weight, bias):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    frames = clip.permute(0, 2, 1, 3, 4).reshape(N * T, C, H, W)
    return F.relu(F.conv2d(frames, weight, bias)).mean(dim=(2, 3)).view(N, T, -1)


def _features_no_relu(clip, weight, bias):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    frames = clip.permute(0, 2, 1, 3, 4).reshape(N * T, C, H, W)
    return F.conv2d(frames, weight, bias, padding=weight.shape[-1] // 2).mean(dim=(2, 3)).view(N, T, -1)


# --- run_rnn ---------------------------------------------------------------------------------------------
def _rnn_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for rnn in ("lstm", "gru", "lstm", "gru"):
        N, T, D, hidden = _distinct(rng, 4)
        cases.append(Case((_randn(rng, N, T, D), *_rnn_weights(rng, 4 if rnn == "lstm" else 3, D, hidden)),
                          {"rnn": rnn}, note=f"{rnn.upper()}, (N, T, D) = {(N, T, D)}, hidden = {hidden}"))
    cases.append(Case((_randn(rng, 3, 1, 2), *_rnn_weights(rng, 4, 2, 5)), note="LSTM (the default), one time step"))
    cases.append(Case((_randn(rng, 3, 4), *_rnn_weights(rng, 4, 4, 2)), raises=ValueError,
                      note="2-D features: a batch of sequences is (N, T, D)"))
    cases.append(Case((_randn(rng, 2, 3, 4), *_rnn_weights(rng, 3, 4, 2)), {"rnn": "rnn"}, raises=ValueError,
                      note="unknown rnn"))
    # the edges: everything 1, and a 4-D tensor
    cases.append(Case((_randn(rng, 1, 1, 1), *_rnn_weights(rng, 3, 1, 1)), {"rnn": "gru"},
                      note="GRU, N = T = D = hidden = 1"))
    cases.append(Case((_randn(rng, 2, 3, 4, 2), *_rnn_weights(rng, 4, 2, 3)), raises=ValueError,
                      note="4-D features: a batch of sequences is (N, T, D)"))
    return cases


def _loop(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn, *, carry_h=True, carry_c=True):  # noqa: ANN001, ANN202
    N, T, D = features.shape
    h = features.new_zeros(N, weight_hh.shape[1])
    c = torch.zeros_like(h)
    outputs = []
    for t in range(T):
        if rnn == "lstm":
            h_new, c_new = _lstm(features[:, t], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        else:
            h_new, c_new = _gru(features[:, t], h, weight_ih, weight_hh, bias_ih, bias_hh), c
        outputs.append(h_new)
        h = h_new if carry_h else h
        c = c_new if carry_c else c
    return torch.stack(outputs, dim=1)


def _rnn_batch_axis(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn="lstm"):  # noqa: ANN001, ANN202
    if features.dim() != 3 or rnn not in ("lstm", "gru"):
        raise ValueError("bad input")
    return _loop(features.transpose(0, 1), weight_ih, weight_hh, bias_ih, bias_hh, rnn).transpose(0, 1)


def _rnn_no_recurrence(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn="lstm"):  # noqa: ANN001, ANN202
    if features.dim() != 3 or rnn not in ("lstm", "gru"):
        raise ValueError("bad input")
    return _loop(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn, carry_h=False, carry_c=False)


def _rnn_cell_reset(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn="lstm"):  # noqa: ANN001, ANN202
    if features.dim() != 3 or rnn not in ("lstm", "gru"):
        raise ValueError("bad input")
    return _loop(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn, carry_c=False)


def _rnn_reversed(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn="lstm"):  # noqa: ANN001, ANN202
    if features.dim() != 3 or rnn not in ("lstm", "gru"):
        raise ValueError("bad input")
    return _loop(features.flip(1), weight_ih, weight_hh, bias_ih, bias_hh, rnn)


# --- lrcn_forward ----------------------------------------------------------------------------------------
def _lrcn_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for rnn, pool in (("lstm", "last"), ("gru", "last"), ("gru", "mean"), ("lstm", "mean")):
        N, C, T, H, W = _distinct(rng, 5, 2, 8)
        D, hidden, K = _distinct(rng, 3, 2, 7)
        gates = 4 if rnn == "lstm" else 3
        w_ih, w_hh, b_ih, b_hh = _rnn_weights(rng, gates, D, hidden)
        params = {"conv.weight": _randn(rng, D, C, 3, 3), "conv.bias": _randn(rng, D), "rnn.weight_ih": w_ih,
                  "rnn.weight_hh": w_hh, "rnn.bias_ih": b_ih, "rnn.bias_hh": b_hh,
                  "fc.weight": _randn(rng, K, hidden), "fc.bias": _randn(rng, K)}
        cases.append(Case((_randn(rng, N, C, T, H, W), params), {"rnn": rnn, "pool": pool},
                          note=f"{rnn.upper()}, pool {pool!r}, (N, C, T, H, W) = {(N, C, T, H, W)}, {K} classes"))
    cases.append(Case((cases[0].args[0], cases[0].args[1]), {"rnn": "lstm", "pool": "first"}, raises=ValueError,
                      note="unknown pool"))
    # the edges: a single frame (T = 1) of 1×1, one clip, D = hidden = K = 1
    for rnn, pool in (("lstm", "last"), ("gru", "mean")):
        gates = 4 if rnn == "lstm" else 3
        w_ih, w_hh, b_ih, b_hh = _rnn_weights(rng, gates, 1, 1)
        params = {"conv.weight": _randn(rng, 1, 1, 1, 1), "conv.bias": _randn(rng, 1), "rnn.weight_ih": w_ih,
                  "rnn.weight_hh": w_hh, "rnn.bias_ih": b_ih, "rnn.bias_hh": b_hh,
                  "fc.weight": _randn(rng, 1, 1), "fc.bias": _randn(rng, 1)}
        cases.append(Case((_randn(rng, 1, 1, 1, 1, 1), params), {"rnn": rnn, "pool": pool},
                          note=f"{rnn.upper()}, pool {pool!r}: one clip of one 1×1 frame, D = hidden = 1, one class"))
    cases.append(Case((cases[0].args[0][0], cases[0].args[1]), {"rnn": "lstm", "pool": "last"}, raises=ValueError,
                      note="a 4-D tensor: one clip without the batch axis"))
    return cases


def _lrcn(clip, params, rnn, pool_fn):  # noqa: ANN001, ANN202
    N, C, T, H, W = clip.shape
    frames = clip.permute(0, 2, 1, 3, 4).reshape(N * T, C, H, W)
    w = params["conv.weight"]
    feats = F.relu(F.conv2d(frames, w, params["conv.bias"], padding=w.shape[-1] // 2)).mean(dim=(2, 3)).view(N, T, -1)
    states = _loop(feats, params["rnn.weight_ih"], params["rnn.weight_hh"], params["rnn.bias_ih"],
                   params["rnn.bias_hh"], rnn)
    return pool_fn(states) @ params["fc.weight"].T + params["fc.bias"]


def _check_pool(pool):  # noqa: ANN001, ANN202
    if pool not in ("last", "mean"):
        raise ValueError("bad pool")


def _lrcn_first(clip, params, rnn="lstm", pool="last"):  # noqa: ANN001, ANN202
    _check_pool(pool)
    return _lrcn(clip, params, rnn, lambda s: s[:, 0] if pool == "last" else s.mean(dim=1))


def _lrcn_always_mean(clip, params, rnn="lstm", pool="last"):  # noqa: ANN001, ANN202
    _check_pool(pool)
    return _lrcn(clip, params, rnn, lambda s: s.mean(dim=1))


def _lrcn_mean_over_batch(clip, params, rnn="lstm", pool="last"):  # noqa: ANN001, ANN202
    _check_pool(pool)
    return _lrcn(clip, params, rnn, lambda s: s[:, -1] if pool == "last" else s.mean(dim=0))


_TOL = {"rtol": 1e-4, "atol": 1e-5}  # float32 sums in another order differ by ~1e-7

EXERCISES = [
    _ex("lstm_cell", "course.nn.lrcn", _lstm_cases, [
        Misconception("gate_order", "torch stacks the LSTM gates in the order i, f, g, o (input, forget, cell "
                      "candidate, output); these were read as i, f, o, g", _lstm_gate_order),
        Misconception("sigmoid_g", "the cell candidate g goes through tanh (values in -1..1, so the cell can "
                      "also decrease); sigmoid is for the three gates i, f, o only", _lstm_sigmoid_g),
        Misconception("old_cell", "return the updated cell state c' = σ(f)·c + σ(i)·tanh(g), not the c that "
                      "came in", _lstm_old_cell),
        Misconception("no_forget", "the new cell keeps part of the old one: c' = σ(f)·c + σ(i)·tanh(g); the "
                      "forget-gate term σ(f)·c is missing", _lstm_no_forget),
        Misconception("no_tanh_c", "the hidden state is h' = σ(o)·tanh(c'): squash the cell through tanh "
                      "before the output gate", _lstm_no_tanh_c),
    ], **_TOL),
    _ex("gru_cell", "course.nn.lrcn", _gru_cases, [
        Misconception("reset_before", "torch applies the reset gate after the recurrent matmul: "
                      "n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), not W_hn (r·h) + b_hn", _gru_reset_before),
        Misconception("gate_order", "torch stacks the GRU gates in the order r, z, n (reset, update, "
                      "candidate); r and z were swapped", _gru_gate_order),
        Misconception("update_swapped", "h' = (1 - z)·n + z·h: z is the share of the OLD state that is kept",
                      _gru_update_swapped),
        Misconception("no_reset", "the candidate uses the reset gate: n = tanh(W_in x + b_in + r·(W_hn h + b_hn))",
                      _gru_no_reset),
    ], **_TOL),
    _ex("frame_features", "course.nn.lrcn", _features_cases, [
        Misconception("reshape", "reshape alone mixes channels and frames: move T next to N first "
                      "(permute(0, 2, 1, 3, 4)), then merge them into N·T", _features_reshape),
        Misconception("time_major", "the frames were folded clip by clip (row n·T + t), so unfold them the same "
                      "way: view(N, T, D), not view(T, N, D)", _features_time_major),
        Misconception("no_padding", "pad by k // 2 (zero 'same' padding) so that every frame keeps its size "
                      "before the average over space", _features_no_padding),
        Misconception("no_relu", "apply the ReLU after the convolution and before the average over space",
                      _features_no_relu),
    ], **_TOL),
    _ex("run_rnn", "course.nn.lrcn", _rnn_cases, [
        Misconception("batch_axis", "the loop ran over axis 0, the batch; features are batch first (N, T, D): "
                      "time is axis 1, so step t reads features[:, t] for all N sequences", _rnn_batch_axis),
        Misconception("no_recurrence", "each step must start from the state the previous step returned: "
                      "assign the cell's output back to h (and c) inside the loop", _rnn_no_recurrence),
        Misconception("cell_reset", "the LSTM's cell state c must be carried from step to step like h; it was "
                      "restarted from zero at every step", _rnn_cell_reset),
        Misconception("reversed", "read the frames forwards, t = 0, 1, …, T - 1, and return the states in "
                      "that order", _rnn_reversed),
    ], **_TOL),
    _ex("lrcn_forward", "course.nn.lrcn", _lrcn_cases, [
        Misconception("first_state", "pool='last' takes the hidden state after the LAST frame, states[:, -1], "
                      "which has read the whole clip; states[:, 0] has seen one frame", _lrcn_first),
        Misconception("always_mean", "pool='last' classifies from the last hidden state; the mean over time is "
                      "for pool='mean' only", _lrcn_always_mean),
        Misconception("mean_over_batch", "pool='mean' averages over time, axis 1 of (N, T, hidden); axis 0 "
                      "mixes the clips of the batch", _lrcn_mean_over_batch),
    ], **_TOL),
]
