"""CNN + RNN for video (LRCN): a 2D CNN encodes every frame, a recurrent network reads the sequence.

Lesson 07_cnn_rnn.

Donahue et al. 2015 ("Long-term Recurrent Convolutional Networks for Visual Recognition and
Description", LRCN) run a 2D CNN on each frame and feed the per-frame features, in time order,
to an LSTM (Hochreiter & Schmidhuber 1997, "Long Short-Term Memory"); the GRU (Cho et al. 2014,
"Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine Translation")
is the lighter recurrent cell with two gates instead of three. Unlike pooling frames (single frame,
late fusion, an average over time), the recurrence reads the frames *in order*: "A then B" and
"B then A" give different hidden states.

    clip (N, C, T, H, W)
      ↓ to frame layout, fold time into the batch          (N·T, C, H, W)
      ↓ 2D CNN → global average pool                       (N·T, D)
      ↓ view back per clip                                 (N, T, D)
      ↓ LSTM or GRU over t = 0 … T−1                       (N, T, hidden)
      ↓ last hidden state, or the mean over time           (N, hidden)
      ↓ Linear                                             (N, num_classes)

The functions are the lesson's exercises (07_cnn_rnn), written with plain tensors and torch's
gate order and weight layout, so that they equal ``torch.nn.LSTMCell`` / ``GRUCell`` /
``LSTM`` / ``GRU`` (``batch_first=True``) given the same weights:

    lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh)   one LSTM step → (h', c')
    gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)       one GRU step → h'
    frame_features(clip, weight, bias)                           per-frame conv → ReLU → pool, (N, T, D)
    run_rnn(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn)   the time loop → (N, T, hidden)
    lrcn_forward(clip, params, rnn, pool)                        the whole LRCN with given weights

Modules: :class:`RecurrentHead` (a feature sequence (N, T, D) → logits; trains alone on frozen
per-frame features) and :class:`LRCN` (frame CNN of :func:`course.nn.fusion.frame_cnn` + head),
both built on ``torch.nn.LSTM`` / ``GRU``.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from course.nn.fusion import frame_cnn
from course.video.layout import to_frame_layout

__all__ = ["RNN_KINDS", "POOLS", "lstm_cell", "gru_cell", "frame_features", "run_rnn", "lrcn_forward",
           "RecurrentHead", "LRCN"]

#: Recurrent cells, and the number of gate blocks stacked in their weights (torch's layout).
RNN_KINDS: dict[str, int] = {"lstm": 4, "gru": 3}
#: How the hidden states of all time steps become one vector per clip.
POOLS: tuple[str, ...] = ("last", "mean")


# --- the exercises --------------------------------------------------------------------------------
def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, weight_ih: torch.Tensor,
              weight_hh: torch.Tensor, bias_ih: torch.Tensor,
              bias_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of an LSTM cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

    With torch's gate order (i, f, g, o) stacked in the rows of the weights:

        i, f, g, o = split(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ, 4 blocks of `hidden` columns)
        c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)
        h' = σ(o) ⊙ tanh(c')

    Equal to ``torch.nn.LSTMCell`` with the same weights.

    Args:
        x: (N, D) inputs of this time step.
        h: (N, hidden) hidden state of the previous step.
        c: (N, hidden) cell state of the previous step.
        weight_ih: (4·hidden, D) input weights, blocks i, f, g, o.
        weight_hh: (4·hidden, hidden) recurrent weights, same blocks.
        bias_ih: (4·hidden,) input bias.
        bias_hh: (4·hidden,) recurrent bias.

    Returns:
        (h', c'), each (N, hidden), the dtype of the inputs.

    Raises:
        ValueError: x, h or c is not 2-D (c not shaped like h), or the weights are not (4·hidden, D) and
            (4·hidden, hidden) for x (N, D) and h (N, hidden).
    """
    # 1. validate: (N, D) and (N, hidden) inputs, four gate blocks of `hidden` rows each
    if x.dim() != 2 or h.dim() != 2 or c.shape != h.shape:
        raise ValueError(f"x must be (N, D) and h, c (N, hidden), got {tuple(x.shape)}, {tuple(h.shape)}, "
                         f"{tuple(c.shape)}")
    hidden = h.shape[-1]
    if weight_ih.shape != (4 * hidden, x.shape[-1]) or weight_hh.shape != (4 * hidden, hidden):
        raise ValueError(f"for x {tuple(x.shape)} and h {tuple(h.shape)} an LSTM needs weight_ih "
                         f"(4·hidden, D) = {(4 * hidden, x.shape[-1])} and weight_hh {(4 * hidden, hidden)}, "
                         f"got {tuple(weight_ih.shape)} and {tuple(weight_hh.shape)}")
    # 2. all four gates in one matmul each, then split the columns: i, f, g, o
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh  # (N, 4·hidden)
    i, f, g, o = gates.chunk(4, dim=1)  # 4 × (N, hidden)
    # 3. the cell keeps part of its past (forget gate) and writes new content (input gate)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    # 4. the output gate decides what of the cell is shown as the hidden state
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    return h_next, c_next


def gru_cell(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor,
             bias_ih: torch.Tensor, bias_hh: torch.Tensor) -> torch.Tensor:
    """One step of a GRU cell (Cho et al. 2014), in torch's formulation.

    With torch's gate order (r, z, n) stacked in the rows of the weights:

        r = σ(Wᵢᵣ x + bᵢᵣ + Wₕᵣ h + bₕᵣ)              reset gate
        z = σ(Wᵢz x + bᵢz + Wₕz h + bₕz)              update gate
        n = tanh(Wᵢₙ x + bᵢₙ + r ⊙ (Wₕₙ h + bₕₙ))      candidate: r scales the *result* of the matmul
        h' = (1 − z) ⊙ n + z ⊙ h

    Cho et al. write the candidate as Wₙ(r ⊙ h); torch (like cuDNN) applies r after the matmul, which
    lets the three recurrent matmuls run as one. Equal to ``torch.nn.GRUCell`` with the same weights.

    Args:
        x: (N, D) inputs of this time step.
        h: (N, hidden) hidden state of the previous step.
        weight_ih: (3·hidden, D) input weights, blocks r, z, n.
        weight_hh: (3·hidden, hidden) recurrent weights, same blocks.
        bias_ih: (3·hidden,) input bias.
        bias_hh: (3·hidden,) recurrent bias.

    Returns:
        h': (N, hidden), the dtype of the inputs.

    Raises:
        ValueError: x or h is not 2-D, or the weights are not (3·hidden, D) and (3·hidden, hidden) for
            x (N, D) and h (N, hidden).
    """
    # 1. validate: (N, D) and (N, hidden) inputs, three gate blocks of `hidden` rows each
    if x.dim() != 2 or h.dim() != 2:
        raise ValueError(f"x must be (N, D) and h (N, hidden), got {tuple(x.shape)} and {tuple(h.shape)}")
    hidden = h.shape[-1]
    if weight_ih.shape != (3 * hidden, x.shape[-1]) or weight_hh.shape != (3 * hidden, hidden):
        raise ValueError(f"for x {tuple(x.shape)} and h {tuple(h.shape)} a GRU needs weight_ih "
                         f"(3·hidden, D) = {(3 * hidden, x.shape[-1])} and weight_hh {(3 * hidden, hidden)}, "
                         f"got {tuple(weight_ih.shape)} and {tuple(weight_hh.shape)}")
    # 2. input and recurrent parts separately: r must scale the recurrent part of n only
    x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)  # 3 × (N, hidden)
    h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)  # 3 × (N, hidden)
    # 3. gates, then the candidate state
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    # 4. z keeps the old state, 1 - z takes the candidate
    return (1 - z) * n + z * h


def frame_features(clip: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """A one-layer per-frame CNN: every frame through conv → ReLU → global average pool, in time order.

    Args:
        clip: (N, C, T, H, W) float clips (the Conv3d layout).
        weight: (D, C, k, k) conv weight, k odd; zero "same" padding of k // 2, stride 1.
        bias: (D,) conv bias.

    Returns:
        (N, T, D): row [n, t] is the D features of frame t of clip n.

    Raises:
        ValueError: ``clip`` is not 5-D, the weight is not 4-D, or its input channels differ from C.
    """
    # 1. validate
    if clip.dim() != 5 or weight.dim() != 4 or weight.shape[1] != clip.shape[1]:
        raise ValueError(f"expected clip (N, C, T, H, W) and weight (D, C, k, k) with the same C, got "
                         f"{tuple(clip.shape)} and {tuple(weight.shape)}")
    N, C, T, H, W = clip.shape
    # 2. frames as a batch: (N, C, T, H, W) → (N, T, C, H, W) → (N·T, C, H, W), row n·T + t
    frames = clip.permute(0, 2, 1, 3, 4).reshape(N * T, C, H, W)
    # 3. the 2D CNN on every frame, then the mean over space
    maps = F.relu(F.conv2d(frames, weight, bias, padding=weight.shape[-1] // 2))  # (N·T, D, H, W)
    pooled = maps.mean(dim=(2, 3))  # (N·T, D)
    # 4. back to one sequence per clip
    return pooled.view(N, T, -1)  # (N, T, D)


def run_rnn(features: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor, bias_ih: torch.Tensor,
            bias_hh: torch.Tensor, rnn: str = "lstm") -> torch.Tensor:
    """Run an LSTM or GRU over the time axis of feature sequences, from zero initial states.

    Equal to the first output of ``torch.nn.LSTM`` / ``torch.nn.GRU`` (one layer, ``batch_first=True``)
    with the same weights (``weight_ih_l0`` …).

    Args:
        features: (N, T, D) sequences, batch first: time is axis 1.
        weight_ih: (G·hidden, D) with G = 4 for "lstm", 3 for "gru".
        weight_hh: (G·hidden, hidden).
        bias_ih: (G·hidden,).
        bias_hh: (G·hidden,).
        rnn: "lstm" (:func:`lstm_cell`) or "gru" (:func:`gru_cell`).

    Returns:
        (N, T, hidden): the hidden state after every time step; [:, -1] is the last one.

    Raises:
        ValueError: ``features`` is not 3-D, ``rnn`` is unknown, or the weights do not fit (from the cell).
    """
    # 1. validate
    if features.dim() != 3:
        raise ValueError(f"features must be (N, T, D), got shape {tuple(features.shape)}")
    if rnn not in ("lstm", "gru"):
        raise ValueError(f"rnn must be 'lstm' or 'gru', got {rnn!r}")
    N, T, D = features.shape
    # 2. zero initial states, one row per sequence
    h = features.new_zeros(N, weight_hh.shape[1])  # (N, hidden)
    c = torch.zeros_like(h)  # the LSTM's cell state
    # 3. the time loop: step t reads frame t and the state left by step t - 1
    outputs = []
    for t in range(T):
        if rnn == "lstm":
            h, c = lstm_cell(features[:, t], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        else:
            h = gru_cell(features[:, t], h, weight_ih, weight_hh, bias_ih, bias_hh)
        outputs.append(h)
    # 4. stack on the time axis
    return torch.stack(outputs, dim=1)  # (N, T, hidden)


def lrcn_forward(clip: torch.Tensor, params: dict[str, torch.Tensor], rnn: str = "lstm",
                 pool: str = "last") -> torch.Tensor:
    """LRCN with given weights: per-frame CNN → LSTM/GRU over time → one vector per clip → Linear.

    Args:
        clip: (N, C, T, H, W) float clips.
        params: the weights, as tensors:
            "conv.weight" (D, C, k, k), "conv.bias" (D,)                 — :func:`frame_features`;
            "rnn.weight_ih" (G·hidden, D), "rnn.weight_hh" (G·hidden, hidden),
            "rnn.bias_ih" (G·hidden,), "rnn.bias_hh" (G·hidden,)        — :func:`run_rnn`;
            "fc.weight" (num_classes, hidden), "fc.bias" (num_classes,) — the classifier.
        rnn: "lstm" or "gru".
        pool: "last" — the hidden state after the last frame, which has read the whole clip in order
            (Donahue et al. 2015 average the per-frame predictions instead); "mean" — the average of
            the hidden states over time.

    Returns:
        (N, num_classes) logits.

    Raises:
        ValueError: ``pool`` is unknown, or a step below rejects its input.
    """
    # 1. validate
    if pool not in ("last", "mean"):
        raise ValueError(f"pool must be 'last' or 'mean', got {pool!r}")
    # 2. per-frame features, in time order
    features = frame_features(clip, params["conv.weight"], params["conv.bias"])  # (N, T, D)
    # 3. the recurrence over time
    states = run_rnn(features, params["rnn.weight_ih"], params["rnn.weight_hh"], params["rnn.bias_ih"],
                     params["rnn.bias_hh"], rnn)  # (N, T, hidden)
    # 4. one vector per clip: the last state, or the average over the time axis
    summary = states[:, -1] if pool == "last" else states.mean(dim=1)  # (N, hidden)
    # 5. the classifier
    return summary @ params["fc.weight"].T + params["fc.bias"]  # (N, num_classes)


# --- modules --------------------------------------------------------------------------------------
class RecurrentHead(nn.Module):
    """Feature sequences → LSTM or GRU → last state or time average → Linear.

        features (N, T, D) → nn.LSTM / nn.GRU (batch_first) → (N, T, hidden)
          ↓ [:, -1] ("last") or mean over T ("mean")          (N, hidden)
          ↓ Linear                                            (N, num_classes)

    The head of :class:`LRCN`; alone, it trains on per-frame features computed once by a frozen CNN.

    Args:
        in_features: D, the features per frame.
        num_classes: classes of the output.
        rnn: "lstm" or "gru".
        hidden_size: width of the recurrent state.
        pool: "last" or "mean" (see :func:`lrcn_forward`).

    Raises:
        ValueError: unknown ``rnn`` or ``pool``.
    """

    def __init__(self, in_features: int, num_classes: int, *, rnn: str = "gru", hidden_size: int = 64,
                 pool: str = "last") -> None:
        super().__init__()
        if rnn not in RNN_KINDS:
            raise ValueError(f"rnn must be 'lstm' or 'gru', got {rnn!r}")
        if pool not in POOLS:
            raise ValueError(f"pool must be 'last' or 'mean', got {pool!r}")
        self.pool = pool
        self.rnn = (nn.LSTM if rnn == "lstm" else nn.GRU)(in_features, hidden_size, batch_first=True)
        self.classifier = nn.Linear(hidden_size, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 3:
            raise ValueError(f"features must be (N, T, D), got shape {tuple(features.shape)}")
        states, _ = self.rnn(features)  # (N, T, hidden)
        summary = states[:, -1] if self.pool == "last" else states.mean(dim=1)  # (N, hidden)
        return self.classifier(summary)  # (N, num_classes)


class LRCN(nn.Module):
    """Long-term Recurrent Convolutional Network (Donahue et al. 2015), small, for Moving Digits.

        clip (N, C, T, H, W)
          ↓ to_frame_layout, fold time into the batch          (N·T, C, H, W)
          ↓ frame_cnn → global average pool                    (N·T, F)
          ↓ view per clip                                      (N, T, F)
          ↓ RecurrentHead: LSTM / GRU → last or mean → Linear  (N, num_classes)

    The CNN is :func:`course.nn.fusion.frame_cnn` (circular padding, stride 2, BatchNorm), the one
    the fusion baselines use, so the models differ only in how frames meet. ``pool="last"`` (the
    default) classifies from the hidden state after the last frame, which has read the frames in
    order; ``pool="mean"`` averages the hidden states over time.

    Args:
        num_classes: classes of the output.
        in_channels: channels of a frame.
        widths: widths of :func:`frame_cnn`.
        rnn: "lstm" or "gru".
        hidden_size: width of the recurrent state.
        pool: "last" or "mean".

    Raises:
        ValueError: unknown ``rnn`` or ``pool``.
    """

    def __init__(self, num_classes: int, *,
                 # input
                 in_channels: int = 1,
                 # per-frame CNN
                 widths: Sequence[int] = (8, 16, 32),
                 # recurrence
                 rnn: str = "gru", hidden_size: int = 64, pool: str = "last") -> None:
        super().__init__()
        self.features = frame_cnn(in_channels=in_channels, widths=widths)
        self.head = RecurrentHead(widths[-1], num_classes, rnn=rnn, hidden_size=hidden_size, pool=pool)

    def encode_frames(self, clip: torch.Tensor) -> torch.Tensor:
        """Per-frame CNN features of clips: (N, C, T, H, W) → (N, T, F), in time order."""
        frames = to_frame_layout(clip)  # (N, T, C, H, W), a view
        N, T, C, H, W = frames.shape
        x = self.features(frames.reshape(N * T, C, H, W))  # (N·T, F, h, w)
        return x.mean(dim=(2, 3)).view(N, T, -1)  # (N, T, F)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return self.head(self.encode_frames(clip))  # (N, num_classes)
