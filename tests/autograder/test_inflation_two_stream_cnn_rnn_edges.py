"""Lessons 05-07's checks probe the edges: mutants that refuse a minimum legal value or loosen a validation fail.

Each mutant is the reference with one change of the kind that survives weak checks: a refused minimum
legal value (t = 1, window 1, L = 1, T = 1, flow weight 0, padding 0), a validation turned off, or a
type check that lets a float or a bool through. Both the public cases (``check`` in the notebook) and
the hidden cases (official grading) must reject every one. Mutants that raise where the reference
returns cannot carry a misconception hint (hints name wrong values), so this file is their bank of
known-wrong solutions.
"""
import torch
import torch.nn.functional as F

from course.nn import inflation, lrcn, two_stream
from course.video import flow
from support import edge_mutant_test, refuse


def _arg(i, name):
    """The argument at position i or keyword ``name`` of a call."""
    return lambda *args, **kwargs: args[i] if len(args) > i else kwargs.get(name)


# --- 05_inflation ------------------------------------------------------------------------------------
def _weight_float_time(weight2d, time_dim, mode="average"):  # `int(time_dim)`: 2.0 and True pass
    if weight2d.dim() != 4 or time_dim < 1:
        raise ValueError("bad input")
    return inflation.inflate_weight(weight2d, int(time_dim), mode)


def _args_no_type_check(kernel_size, stride, padding, time_dim, time_stride=1):  # floats and bools pass
    pair = lambda v: (v, v) if not isinstance(v, (tuple, list)) else tuple(v)  # noqa: E731
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel_size), pair(stride), pair(padding)
    if min(kh, kw, sh, sw, time_dim, time_stride) < 1 or min(ph, pw) < 0:
        raise ValueError("bad size")
    return (time_dim, kh, kw), (time_stride, sh, sw), (time_dim // 2, ph, pw)


def _clip_any_rank(frame, num_frames):  # a 5-D tensor is no longer refused; 2.0 frames pass
    if frame.dim() < 4 or num_frames < 1:
        raise ValueError("bad input")
    return frame.unsqueeze(2).expand(*frame.shape[:2], int(num_frames), *frame.shape[2:]).clone()


def _bn_any_rank(clip, running_mean, running_var, weight, bias, eps=1e-5):  # 6-D clips pass
    if clip.dim() < 5:
        raise ValueError("bad rank")
    shape = (1, -1) + (1,) * (clip.dim() - 2)
    return ((clip - running_mean.view(shape)) / torch.sqrt(running_var.view(shape) + eps) * weight.view(shape)
            + bias.view(shape))


def _state_float_time(state_dict, time_dim):  # `int(time_dim)`: 1.0 and True pass
    if time_dim < 1:
        raise ValueError("bad time_dim")
    return inflation.inflate_state_dict(state_dict, int(time_dim))


# --- 06_two_stream -----------------------------------------------------------------------------------
def _hs_zero_alpha_only(grads, flw, alpha):  # `alpha == 0` instead of `alpha <= 0`: α = -1 passes
    if grads.dim() != 4 or grads.shape[1] != 3 or flw.shape != (grads.shape[0], 2, *grads.shape[2:]) or alpha == 0:
        raise ValueError("bad input")
    return flow.horn_schunck_step(grads, flw, abs(alpha)) if alpha < 0 else flow.horn_schunck_step(grads, flw, alpha)


def _lk_bool_window(grads, window, min_eigenvalue=1e-6):  # the old check: True passes as window 1
    if grads.dim() != 4 or grads.shape[1] != 3 or not isinstance(window, int) or window < 1 or window % 2 == 0:
        raise ValueError("bad input")
    return flow.lucas_kanade_step(grads, int(window), min_eigenvalue)


def _epe_any_mask(flw, flow_gt, valid=None):  # a float mask passes
    return flow.endpoint_error(flw, flow_gt, None if valid is None else valid.bool())


def _fuse_no_range(rgb_logits, flow_logits, flow_weight=0.5):  # weights outside [0, 1] pass
    if rgb_logits.dim() != 2 or rgb_logits.shape != flow_logits.shape:
        raise ValueError("bad input")
    return (1 - flow_weight) * torch.softmax(rgb_logits, 1) + flow_weight * torch.softmax(flow_logits, 1)


# --- 07_cnn_rnn --------------------------------------------------------------------------------------
def _lstm_no_rank_check(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):  # the old reference: x (D,) passes
    hidden = h.shape[-1]
    if weight_ih.shape != (4 * hidden, x.shape[-1]) or weight_hh.shape != (4 * hidden, hidden):
        raise ValueError("bad weights")
    i, f, g, o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _gru_no_rank_check(x, h, weight_ih, weight_hh, bias_ih, bias_hh):  # x (D,) passes
    hidden = h.shape[-1]
    if weight_ih.shape != (3 * hidden, x.shape[-1]) or weight_hh.shape != (3 * hidden, hidden):
        raise ValueError("bad weights")
    x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + r * h_n) + z * h


def _features_any_rank(clip, weight, bias):  # a 6-D tensor is folded into N
    if clip.dim() < 5:
        raise ValueError("bad rank")
    clip = clip.reshape(-1, *clip.shape[-4:])
    N, C, T, H, W = clip.shape
    frames = clip.permute(0, 2, 1, 3, 4).reshape(N * T, C, H, W)
    return F.relu(F.conv2d(frames, weight, bias, padding=weight.shape[-1] // 2)).mean(dim=(2, 3)).view(N, T, -1)


def _rnn_any_rank(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn="lstm"):  # 4-D features: first row only
    if features.dim() == 4:
        features = features[0]
    return lrcn.run_rnn(features, weight_ih, weight_hh, bias_ih, bias_hh, rnn=rnn)


def _lrcn_unbatched(clip, params, rnn="lstm", pool="last"):  # a 4-D clip gets a batch axis
    return lrcn.lrcn_forward(clip[None] if clip.dim() == 4 else clip, params, rnn=rnn, pool=pool)


T_OF_CLIP = lambda *a, **k: a[0].shape[2] == 1  # noqa: E731 - (N, C, T, ...) with T = 1
CASES = [
    # 05
    ("inflate_weight", "refuses t = 1", refuse(lambda w, t, *a: t == 1, inflation.inflate_weight)),
    ("inflate_weight", "accepts a float or bool time_dim", _weight_float_time),
    ("inflate_conv_args", "refuses padding 0", refuse(lambda k, s, p, *a: p == 0, inflation.inflate_conv_args)),
    ("inflate_conv_args", "refuses a 1×1 kernel", refuse(lambda k, *a: k == 1, inflation.inflate_conv_args)),
    ("inflate_conv_args", "does not check types", _args_no_type_check),
    ("boring_clip", "refuses num_frames = 1", refuse(lambda f, n: n == 1, inflation.boring_clip)),
    ("boring_clip", "accepts any rank and float num_frames", _clip_any_rank),
    ("batchnorm_from_2d", "refuses T = 1", refuse(T_OF_CLIP, inflation.batchnorm_from_2d)),
    ("batchnorm_from_2d", "accepts a 6-D tensor", _bn_any_rank),
    ("inflate_state_dict", "refuses t = 1", refuse(lambda s, t: t == 1, inflation.inflate_state_dict)),
    ("inflate_state_dict", "accepts a float or bool time_dim", _state_float_time),
    # 06
    ("image_gradients", "refuses 1-pixel frames", refuse(lambda a, b: min(a.shape[1:]) < 2, flow.image_gradients)),
    ("horn_schunck_step", "refuses a 1×1 field", refuse(lambda g, *a: g.shape[-1] * g.shape[-2] == 1,
                                                         flow.horn_schunck_step)),
    ("horn_schunck_step", "only refuses α = 0", _hs_zero_alpha_only),
    ("lucas_kanade_step", "refuses window 1", refuse(lambda g, w, *a, **k: w == 1, flow.lucas_kanade_step)),
    ("lucas_kanade_step", "takes True as window 1", _lk_bool_window),
    ("endpoint_error", "accepts a float mask", _epe_any_mask),
    ("endpoint_error", "refuses a one-pixel mask", refuse(lambda f, g, v=None: v is not None and int(v.sum()) == 1,
                                                           flow.endpoint_error)),
    ("stack_flows", "refuses L = 1", refuse(lambda f: f.shape[2] == 1, two_stream.stack_flows)),
    ("fuse_scores", "refuses flow weight 0", refuse(lambda a, b, w=0.5: w == 0, two_stream.fuse_scores)),
    ("fuse_scores", "refuses one class", refuse(lambda a, b, w=0.5: a.shape[-1] == 1, two_stream.fuse_scores)),
    ("fuse_scores", "accepts flow weights outside [0, 1]", _fuse_no_range),
    # 07
    ("lstm_cell", "refuses hidden = 1", refuse(lambda x, h, *a: h.shape[-1] == 1 and x.shape[-1] == 1, lrcn.lstm_cell)),
    ("lstm_cell", "accepts 1-D inputs", _lstm_no_rank_check),
    ("gru_cell", "refuses D = 1", refuse(lambda x, *a: x.shape[-1] == 1, lrcn.gru_cell)),
    ("gru_cell", "accepts 1-D inputs", _gru_no_rank_check),
    ("frame_features", "refuses T = 1", refuse(T_OF_CLIP, lrcn.frame_features)),
    ("frame_features", "refuses a 1×1 filter", refuse(lambda c, w, b: w.shape[-1] == 1, lrcn.frame_features)),
    ("frame_features", "accepts a 6-D tensor", _features_any_rank),
    ("run_rnn", "refuses T = 1", refuse(lambda f, *a, **k: f.shape[1] == 1, lrcn.run_rnn)),
    ("run_rnn", "accepts 4-D features", _rnn_any_rank),
    ("lrcn_forward", "refuses a single frame", refuse(T_OF_CLIP, lrcn.lrcn_forward)),
    ("lrcn_forward", "accepts a clip without the batch axis", _lrcn_unbatched),
]


test_edge_mutant_is_rejected = edge_mutant_test(CASES)
