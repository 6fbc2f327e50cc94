"""LRCN: the cells, the time loop and the whole forward pass against torch's LSTM/GRU modules."""
import pytest
import torch
import torch.nn.functional as F

from course.nn.fusion import LateFusion, fold_frames
from course.nn.lrcn import LRCN, RecurrentHead, frame_features, gru_cell, lrcn_forward, lstm_cell, run_rnn


def _weights(module: torch.nn.Module, suffix: str = "") -> tuple[torch.Tensor, ...]:
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return tuple(getattr(module, f"{name}{suffix}").detach() for name in names)


# --- cells ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("N, D, hidden", [(1, 1, 1), (3, 5, 7), (4, 13, 2)])
def test_lstm_cell_equals_torch(N, D, hidden):
    torch.manual_seed(N + D)
    cell = torch.nn.LSTMCell(D, hidden)
    x, h, c = torch.randn(N, D), torch.randn(N, hidden), torch.randn(N, hidden)
    h_ref, c_ref = cell(x, (h, c))
    h_got, c_got = lstm_cell(x, h, c, *_weights(cell))
    torch.testing.assert_close(h_got, h_ref)
    torch.testing.assert_close(c_got, c_ref)


@pytest.mark.parametrize("N, D, hidden", [(1, 1, 1), (3, 5, 7), (4, 13, 2)])
def test_gru_cell_equals_torch(N, D, hidden):
    torch.manual_seed(N + D)
    cell = torch.nn.GRUCell(D, hidden)
    x, h = torch.randn(N, D), torch.randn(N, hidden)
    torch.testing.assert_close(gru_cell(x, h, *_weights(cell)), cell(x, h))


def test_gru_reset_gate_scales_the_recurrent_matmul_not_its_input():
    """torch's candidate is tanh(W_in x + b_in + r * (W_hn h + b_hn)), not tanh(... + W_hn (r * h) + b_hn)."""
    torch.manual_seed(0)
    cell = torch.nn.GRUCell(3, 4)
    x, h = torch.randn(5, 3), torch.randn(5, 4)
    w_ih, w_hh, b_ih, b_hh = _weights(cell)
    r = torch.sigmoid(x @ w_ih[:4].T + b_ih[:4] + h @ w_hh[:4].T + b_hh[:4])
    z = torch.sigmoid(x @ w_ih[4:8].T + b_ih[4:8] + h @ w_hh[4:8].T + b_hh[4:8])
    n_cho = torch.tanh(x @ w_ih[8:].T + b_ih[8:] + (r * h) @ w_hh[8:].T + b_hh[8:])
    assert not torch.allclose((1 - z) * n_cho + z * h, gru_cell(x, h, w_ih, w_hh, b_ih, b_hh), atol=1e-4)


def test_cells_keep_float64():
    cell = torch.nn.LSTMCell(3, 2).double()
    x = torch.randn(2, 3, dtype=torch.float64)
    h, c = torch.zeros(2, 2, dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64)
    h1, c1 = lstm_cell(x, h, c, *_weights(cell))
    assert h1.dtype == c1.dtype == torch.float64
    torch.testing.assert_close(h1, cell(x, (h, c))[0])


@pytest.mark.parametrize("bad", ["ih", "hh"])
def test_cells_reject_weights_of_the_wrong_size(bad):
    lstm, gru = torch.nn.LSTMCell(3, 2), torch.nn.GRUCell(3, 2)
    x, h = torch.randn(2, 3), torch.randn(2, 2)
    lw, gw = list(_weights(lstm)), list(_weights(gru))
    k = 0 if bad == "ih" else 1
    lw[k], gw[k] = gw[k], lw[k]  # an LSTM weight in a GRU and vice versa
    with pytest.raises(ValueError, match="LSTM needs"):
        lstm_cell(x, h, h, *lw)
    with pytest.raises(ValueError, match="GRU needs"):
        gru_cell(x, h, *gw)


# --- the time loop --------------------------------------------------------------------------------
@pytest.mark.parametrize("rnn", ["lstm", "gru"])
@pytest.mark.parametrize("N, T, D, hidden", [(1, 1, 2, 3), (3, 7, 5, 4), (5, 3, 9, 11)])
def test_run_rnn_equals_torch_batch_first(rnn, N, T, D, hidden):
    torch.manual_seed(T)
    module = (torch.nn.LSTM if rnn == "lstm" else torch.nn.GRU)(D, hidden, batch_first=True)
    features = torch.randn(N, T, D)
    expected, _ = module(features)
    got = run_rnn(features, *_weights(module, "_l0"), rnn=rnn)
    assert got.shape == (N, T, hidden)
    torch.testing.assert_close(got, expected)


def test_run_rnn_reads_time_in_order_and_is_causal():
    """Reversing time changes the last state; changing frame t leaves the states before t alone."""
    torch.manual_seed(1)
    gru = torch.nn.GRU(4, 6, batch_first=True)
    w = _weights(gru, "_l0")
    x = torch.randn(2, 7, 4)
    out = run_rnn(x, *w, rnn="gru")
    assert not torch.allclose(run_rnn(x.flip(1), *w, rnn="gru")[:, -1], out[:, -1], atol=1e-4)
    y = x.clone()
    y[:, 4] += 1.0
    changed = run_rnn(y, *w, rnn="gru")
    torch.testing.assert_close(changed[:, :4], out[:, :4])
    assert not torch.allclose(changed[:, 4:], out[:, 4:])


def test_run_rnn_rejects_bad_input():
    w = _weights(torch.nn.LSTM(3, 2, batch_first=True), "_l0")
    with pytest.raises(ValueError, match=r"\(N, T, D\)"):
        run_rnn(torch.randn(5, 3), *w)
    with pytest.raises(ValueError, match="'lstm' or 'gru'"):
        run_rnn(torch.randn(2, 5, 3), *w, rnn="rnn")
    with pytest.raises(ValueError, match="GRU needs"):
        run_rnn(torch.randn(2, 5, 3), *w, rnn="gru")  # LSTM weights have 4 blocks, not 3


# --- frames → features → LRCN -----------------------------------------------------------------------
def test_frame_features_is_a_conv2d_on_every_frame_in_order():
    torch.manual_seed(2)
    N, C, T, H, W, D = 3, 2, 5, 7, 6, 4
    clip = torch.randn(N, C, T, H, W)
    weight, bias = torch.randn(D, C, 3, 3), torch.randn(D)
    got = frame_features(clip, weight, bias)
    assert got.shape == (N, T, D)
    for n in range(N):
        for t in range(T):
            frame = clip[n, :, t][None]  # (1, C, H, W)
            expected = F.relu(F.conv2d(frame, weight, bias, padding=1)).mean(dim=(2, 3))[0]
            torch.testing.assert_close(got[n, t], expected)
    with pytest.raises(ValueError):
        frame_features(clip[0], weight, bias)
    with pytest.raises(ValueError):
        frame_features(clip, torch.randn(D, C + 1, 3, 3), bias)


def _params(conv: torch.nn.Conv2d, rnn: torch.nn.Module, fc: torch.nn.Linear) -> dict[str, torch.Tensor]:
    w_ih, w_hh, b_ih, b_hh = _weights(rnn, "_l0")
    return {"conv.weight": conv.weight.detach(), "conv.bias": conv.bias.detach(), "rnn.weight_ih": w_ih,
            "rnn.weight_hh": w_hh, "rnn.bias_ih": b_ih, "rnn.bias_hh": b_hh, "fc.weight": fc.weight.detach(),
            "fc.bias": fc.bias.detach()}


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
@pytest.mark.parametrize("pool", ["last", "mean"])
def test_lrcn_forward_equals_torch_modules(rnn, pool):
    torch.manual_seed(3)
    N, C, T, H, W, D, hidden, K = 2, 3, 5, 9, 7, 6, 5, 4
    conv = torch.nn.Conv2d(C, D, 3, padding=1)
    module = (torch.nn.LSTM if rnn == "lstm" else torch.nn.GRU)(D, hidden, batch_first=True)
    fc = torch.nn.Linear(hidden, K)
    clip = torch.randn(N, C, T, H, W)
    with torch.no_grad():
        frames = F.relu(conv(fold_frames(clip))).mean(dim=(2, 3)).view(N, T, D)
        states, _ = module(frames)
        expected = fc(states[:, -1] if pool == "last" else states.mean(dim=1))
    got = lrcn_forward(clip, _params(conv, module, fc), rnn=rnn, pool=pool)
    assert got.shape == (N, K)
    torch.testing.assert_close(got, expected)
    with pytest.raises(ValueError, match="pool"):
        lrcn_forward(clip, _params(conv, module, fc), rnn=rnn, pool="first")


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_lrcn_module_matches_its_parts_and_tells_order(rnn):
    torch.manual_seed(4)
    model = LRCN(3, rnn=rnn, hidden_size=7).eval()
    clip = torch.rand(2, 1, 5, 17, 19)  # odd sizes: the stride-2 CNN pads circularly
    with torch.no_grad():
        frames = model.features(fold_frames(clip)).mean(dim=(2, 3)).view(2, 5, -1)
        torch.testing.assert_close(model.encode_frames(clip), frames)
        states, _ = model.head.rnn(frames)
        torch.testing.assert_close(model(clip), model.head.classifier(states[:, -1]))
        # a recurrent model sees the order of the frames; late fusion of the end frames
        # and an average over time would not see a reordering of the middle frames
        shuffled = clip[:, :, [0, 2, 1, 3, 4]]
        assert not torch.allclose(model(shuffled), model(clip), atol=1e-5)
        late = LateFusion(3).eval()
        torch.testing.assert_close(late(shuffled), late(clip))


def test_recurrent_head_checks_its_arguments():
    with pytest.raises(ValueError, match="rnn"):
        RecurrentHead(4, 2, rnn="transformer")
    with pytest.raises(ValueError, match="pool"):
        LRCN(2, pool="max")
    with pytest.raises(ValueError, match=r"\(N, T, D\)"):
        RecurrentHead(4, 2)(torch.randn(3, 4))
    head = RecurrentHead(4, 2, rnn="lstm", hidden_size=3, pool="mean")
    x = torch.randn(5, 6, 4)
    states, _ = head.rnn(x)
    torch.testing.assert_close(head(x), head.classifier(states.mean(dim=1)))
