"""Graded exercises of lesson 12_slowfast_long_range: the pathways' frames, the three lateral connections, S3D's
separable convolution and LTC's clip sizing at a fixed budget."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "12_slowfast_long_range"


_ex = exercise_maker(ASSIGNMENT)


def _randn(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """A float64 tensor of standard normal numbers drawn from ``rng``."""
    return torch.from_numpy(rng.standard_normal(shape))


def _valid(x, alpha) -> None:  # noqa: ANN001 - the validation every wrong solution below keeps
    if not isinstance(x, torch.Tensor) or x.dim() != 5 or isinstance(alpha, bool) or not isinstance(alpha, int) \
            or alpha < 1 or alpha > x.shape[2]:
        raise ValueError("bad input")



def _bad_alphas(rng: np.random.Generator, shape: tuple[int, ...], float_alpha: float) -> list[Case]:
    """The α every SlowFast function must refuse, 0, a float and a bool, each with a fresh clip of ``shape``."""
    return [Case((_randn(rng, *shape), alpha), raises=ValueError, note=note)
            for alpha, note in ((0, "α = 0"), (float_alpha, f"α = {float_alpha}, a float"), (True, "α = True, a bool"))]

# --- pathway_frames --------------------------------------------------------------------------------------
def _pathway_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 1, 2, 32, 3, 3), 4), note="T = 32, α = 4: PySlowFast's 8×8 input, 8 slow frames"),
             Case((_randn(rng, 2, 1, 8, 2, 3), 2), note="T = 8, α = 2"),
             Case((_randn(rng, 2, 3, 16, 2, 2), 8), note="T = 16, α = 8: 2 slow frames, the first and the last")]
    for _ in range(2):
        alpha = int(rng.integers(2, 5))
        T = int(alpha * rng.integers(2, 6) + rng.integers(1, alpha))  # not a multiple of α
        cases.append(Case((_randn(rng, 2, 1, T, 3, 2), alpha), note=f"T = {T}, α = {alpha}: T // α slow frames"))
    cases += [
        Case((_randn(rng, 1, 1, 5, 2, 2), 5), note="α = T: one slow frame"),
        Case((_randn(rng, 2, 1, 6, 2, 2), 1), note="α = 1: both pathways get every frame"),
        Case((_randn(rng, 1, 1, 1, 1, 1), 1), note="the minimum: one 1×1 frame, α = 1"),
        Case((_randn(rng, 1, 1, 4, 2, 2), 5), raises=ValueError, note="α = 5 > T = 4 frames"),
        *_bad_alphas(rng, (1, 1, 4, 2, 2), 2.0),
        Case((_randn(rng, 1, 4, 2, 2), 2), raises=ValueError, note="a 4-D tensor is not a batch of clips"),
    ]
    return cases


def _pathway_first(clip, alpha):  # noqa: ANN001, ANN202
    _valid(clip, alpha)
    return clip[:, :, :clip.shape[2] // alpha], clip


def _pathway_every_alpha(clip, alpha):  # noqa: ANN001, ANN202
    _valid(clip, alpha)
    return clip[:, :, ::alpha][:, :, :clip.shape[2] // alpha], clip


def _pathway_rounded(clip, alpha):  # noqa: ANN001, ANN202
    _valid(clip, alpha)
    T = clip.shape[2]
    return clip.index_select(2, torch.linspace(0, T - 1, T // alpha).round().long()), clip


def _pathway_alpha_frames(clip, alpha):  # noqa: ANN001, ANN202
    _valid(clip, alpha)
    return clip.index_select(2, torch.linspace(0, clip.shape[2] - 1, alpha).long()), clip


# --- time_to_channel -------------------------------------------------------------------------------------
def _t2c_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 3, 8, 2, 3), 4), note="C = 3, T = 8, α = 4"),
             Case((_randn(rng, 1, 2, 6, 3, 1), 2), note="C = 2, T = 6, α = 2")]
    for _ in range(2):
        alpha, steps, C = (int(v) for v in rng.integers(2, 5, size=3))
        cases.append(Case((_randn(rng, 2, C, alpha * steps, 2, 3), alpha), note=f"C = {C}, T = {alpha * steps}, α = {alpha}"))
    cases += [
        Case((_randn(rng, 2, 3, 5, 2, 2), 5), note="α = T: all frames into the channels of one step"),
        Case((_randn(rng, 2, 3, 4, 2, 2), 1), note="α = 1: nothing to pack, the input back"),
        Case((_randn(rng, 1, 1, 1, 1, 1), 1), note="the minimum: one channel, one 1×1 frame, α = 1"),
        Case((_randn(rng, 1, 2, 6, 2, 2), 4), raises=ValueError, note="T = 6 is not a multiple of α = 4"),
        *_bad_alphas(rng, (1, 2, 6, 2, 2), 2.0),
        Case((_randn(rng, 2, 6, 2, 2), 2), raises=ValueError, note="a 4-D tensor"),
    ]
    return cases


def _t2c_frame_major(fast, alpha):  # noqa: ANN001, ANN202
    _valid(fast, alpha)
    N, C, T, H, W = fast.shape
    return fast.reshape(N, C, T // alpha, alpha, H, W).permute(0, 3, 1, 2, 4, 5).reshape(N, C * alpha, T // alpha, H, W)


def _t2c_plain_reshape(fast, alpha):  # noqa: ANN001, ANN202
    _valid(fast, alpha)
    N, C, T, H, W = fast.shape
    return fast.reshape(N, C * alpha, T // alpha, H, W)


def _t2c_mean(fast, alpha):  # noqa: ANN001, ANN202
    _valid(fast, alpha)
    N, C, T, H, W = fast.shape
    return fast.reshape(N, C, T // alpha, alpha, H, W).mean(dim=3)


# --- time_strided_sample ---------------------------------------------------------------------------------
def _sample_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 3, 8, 2, 3), 4), note="T = 8, α = 4: frames 0 and 4"),
             Case((_randn(rng, 1, 2, 9, 3, 2), 3), note="T = 9, α = 3")]
    alpha, steps = (int(v) for v in rng.integers(2, 6, size=2))
    cases += [
        Case((_randn(rng, 2, 1, alpha * steps, 2, 2), alpha), note=f"T = {alpha * steps}, α = {alpha}"),
        Case((_randn(rng, 1, 2, 3, 2, 2), 3), note="α = T: frame 0 only"),
        Case((_randn(rng, 1, 2, 3, 2, 2), 1), note="α = 1: every frame"),
        Case((_randn(rng, 1, 1, 1, 1, 1), 1), note="the minimum: one 1×1 frame"),
        Case((_randn(rng, 1, 2, 7, 2, 2), 2), raises=ValueError, note="T = 7 is not a multiple of α = 2"),
        *_bad_alphas(rng, (1, 2, 6, 2, 2), 3.0),
        Case((_randn(rng, 2, 6, 2, 2), 2), raises=ValueError, note="a 4-D tensor"),
    ]
    return cases


def _sample_first(fast, alpha):  # noqa: ANN001, ANN202
    _valid(fast, alpha)
    return fast[:, :, :fast.shape[2] // alpha]


def _sample_last_of_group(fast, alpha):  # noqa: ANN001, ANN202
    _valid(fast, alpha)
    return fast[:, :, alpha - 1::alpha]


def _sample_linspace(fast, alpha):  # noqa: ANN001, ANN202
    _valid(fast, alpha)
    T = fast.shape[2]
    return fast.index_select(2, torch.linspace(0, T - 1, T // alpha).long())


# --- time_strided_conv -----------------------------------------------------------------------------------
def _conv_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_randn(rng, 2, 2, 8, 3, 2), _randn(rng, 4, 2, 5, 1, 1), 4),
                  note="the paper's lateral: k = 5, α = 4, 2βC = 4 output channels"),
             Case((_randn(rng, 1, 3, 12, 2, 3), _randn(rng, 2, 3, 7, 1, 1), 4), note="PySlowFast's R50: k = 7")]
    for _ in range(2):
        alpha, steps, C, C_out = (int(v) for v in rng.integers(2, 5, size=4))
        k = int(rng.choice([3, 5]))
        cases.append(Case((_randn(rng, 2, C, alpha * steps, 3, 2), _randn(rng, C_out, C, k, 1, 1), alpha),
                          note=f"C = {C} → {C_out}, T = {alpha * steps}, k = {k}, α = {alpha}"))
    cases += [
        Case((_randn(rng, 1, 2, 6, 2, 2), _randn(rng, 3, 2, 1, 1, 1), 3), note="k = 1: no temporal context"),
        Case((_randn(rng, 1, 2, 5, 2, 2), _randn(rng, 3, 2, 3, 1, 1), 1), note="α = 1: no stride"),
        Case((_randn(rng, 1, 2, 4, 2, 2), _randn(rng, 3, 2, 5, 1, 1), 4), note="α = T: one output step"),
        Case((_randn(rng, 1, 1, 1, 1, 1), _randn(rng, 1, 1, 1, 1, 1), 1), note="the minimum: everything 1"),
        Case((_randn(rng, 1, 2, 8, 2, 2), _randn(rng, 3, 2, 4, 1, 1), 4), raises=ValueError, note="even k = 4"),
        Case((_randn(rng, 1, 2, 8, 2, 2), _randn(rng, 3, 3, 5, 1, 1), 4), raises=ValueError,
             note="the weight expects 3 channels, the fast pathway has 2"),
        Case((_randn(rng, 1, 2, 8, 2, 2), _randn(rng, 3, 2, 5, 3, 3), 4), raises=ValueError,
             note="a 5×3×3 kernel: the lateral is k×1×1"),
        Case((_randn(rng, 1, 2, 6, 2, 2), _randn(rng, 3, 2, 5, 1, 1), 4), raises=ValueError,
             note="T = 6 is not a multiple of α = 4"),
        Case((_randn(rng, 1, 2, 8, 2, 2), _randn(rng, 3, 2, 5, 1, 1), 2.0), raises=ValueError, note="α = 2.0"),
        Case((_randn(rng, 2, 8, 2, 2), _randn(rng, 3, 2, 5, 1, 1), 4), raises=ValueError, note="a 4-D tensor"),
    ]
    return cases


def _conv_valid(fast, weight, alpha) -> None:  # noqa: ANN001
    _valid(fast, alpha)
    if weight.dim() != 5 or weight.shape[1] != fast.shape[1] or weight.shape[3:] != (1, 1) or weight.shape[2] % 2 == 0:
        raise ValueError("bad weight")
    if fast.shape[2] % alpha:
        raise ValueError("bad T")


def _conv_no_stride(fast, weight, alpha):  # noqa: ANN001, ANN202
    _conv_valid(fast, weight, alpha)
    return F.conv3d(fast, weight, padding=(weight.shape[2] // 2, 0, 0))


def _conv_space_stride(fast, weight, alpha):  # noqa: ANN001, ANN202
    _conv_valid(fast, weight, alpha)
    return F.conv3d(fast, weight, stride=alpha, padding=(weight.shape[2] // 2, 0, 0))


def _conv_no_padding(fast, weight, alpha):  # noqa: ANN001, ANN202
    _conv_valid(fast, weight, alpha)
    return F.conv3d(fast, weight, stride=(alpha, 1, 1))


def _conv_causal(fast, weight, alpha):  # noqa: ANN001, ANN202
    _conv_valid(fast, weight, alpha)
    k = weight.shape[2]
    return F.conv3d(F.pad(fast, (0, 0, 0, 0, k - 1, 0)), weight, stride=(alpha, 1, 1))


# --- separable_conv3d ------------------------------------------------------------------------------------
def _sep_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k, kt in ((3, 3), (5, 3), (3, 5)):
        N, C, M, C_out = (int(v) for v in rng.integers(1, 4, size=4))
        T, H, W = (int(v) for v in rng.integers(3, 8, size=3))
        cases.append(Case((_randn(rng, N, C, T, H, W), _randn(rng, M, C, 1, k, k), _randn(rng, C_out, M, kt, 1, 1)),
                          note=f"(N, C, T, H, W) = {(N, C, T, H, W)}, {k}×{k} then {kt}, M = {M}, C_out = {C_out}"))
    cases += [
        Case((_randn(rng, 2, 3, 1, 4, 5), _randn(rng, 2, 3, 1, 3, 3), _randn(rng, 4, 2, 3, 1, 1)), note="T = 1"),
        Case((_randn(rng, 1, 2, 3, 3, 2), _randn(rng, 2, 2, 1, 1, 1), _randn(rng, 2, 2, 1, 1, 1)),
             note="1×1 kernels: two channel mixes with a ReLU between"),
        Case((_randn(rng, 1, 1, 1, 1, 1), _randn(rng, 1, 1, 1, 1, 1), _randn(rng, 1, 1, 1, 1, 1)),
             note="the minimum: everything 1"),
        Case((_randn(rng, 1, 2, 4, 4, 4), _randn(rng, 3, 2, 3, 3, 3), _randn(rng, 2, 3, 3, 1, 1)), raises=ValueError,
             note="a 3×3×3 spatial weight: it must be 1×k×k"),
        Case((_randn(rng, 1, 2, 4, 4, 4), _randn(rng, 3, 2, 1, 3, 3), _randn(rng, 2, 2, 3, 1, 1)), raises=ValueError,
             note="the temporal weight reads 2 channels, the spatial conv gives 3"),
        Case((_randn(rng, 1, 2, 4, 4, 4), _randn(rng, 3, 2, 1, 2, 2), _randn(rng, 2, 3, 3, 1, 1)), raises=ValueError,
             note="an even spatial kernel"),
        Case((_randn(rng, 2, 4, 4, 4), _randn(rng, 3, 2, 1, 3, 3), _randn(rng, 2, 3, 3, 1, 1)), raises=ValueError,
             note="a 4-D tensor"),
    ]
    return cases


def _sep_valid(x, ws, wt) -> None:  # noqa: ANN001
    if x.dim() != 5 or ws.dim() != 5 or ws.shape[1] != x.shape[1] or ws.shape[2] != 1 or ws.shape[3] % 2 == 0 \
            or wt.dim() != 5 or wt.shape[1] != ws.shape[0] or wt.shape[3:] != (1, 1) or wt.shape[2] % 2 == 0:
        raise ValueError("bad input")


def _sep_no_relu(x, spatial_weight, temporal_weight):  # noqa: ANN001, ANN202
    _sep_valid(x, spatial_weight, temporal_weight)
    k, kt = spatial_weight.shape[3], temporal_weight.shape[2]
    y = F.conv3d(x, spatial_weight, padding=(0, k // 2, k // 2))
    return F.conv3d(y, temporal_weight, padding=(kt // 2, 0, 0))


def _sep_relu_after(x, spatial_weight, temporal_weight):  # noqa: ANN001, ANN202
    _sep_valid(x, spatial_weight, temporal_weight)
    k, kt = spatial_weight.shape[3], temporal_weight.shape[2]
    y = F.relu(F.conv3d(x, spatial_weight, padding=(0, k // 2, k // 2)))
    return F.relu(F.conv3d(y, temporal_weight, padding=(kt // 2, 0, 0)))


def _sep_pad_everywhere(x, spatial_weight, temporal_weight):  # noqa: ANN001, ANN202
    _sep_valid(x, spatial_weight, temporal_weight)
    k, kt = spatial_weight.shape[3], temporal_weight.shape[2]
    y = F.relu(F.conv3d(x, spatial_weight, padding=k // 2))
    return F.conv3d(y, temporal_weight, padding=kt // 2)


def _sep_no_padding(x, spatial_weight, temporal_weight):  # noqa: ANN001, ANN202
    _sep_valid(x, spatial_weight, temporal_weight)
    return F.conv3d(F.relu(F.conv3d(x, spatial_weight)), temporal_weight)


# --- ltc_frame_size --------------------------------------------------------------------------------------
def _ltc_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((16 * 112 * 112, 16), note="LTC's 16×112² clip: side 112"),
             Case((16 * 112 * 112, 60), note="the same budget at 60 frames: 3,345.07 voxels per frame"),
             Case((16 * 32 * 32, 64), note="16×32² at 64 frames: exactly 16×16"),
             Case((1000, 7), note="142.86 voxels per frame: 11.95 rounds up, but 12² does not fit")]
    for _ in range(3):
        T = int(rng.integers(2, 200))
        budget = int(rng.integers(T, 10**6))
        cases.append(Case((budget, T), note=f"budget {budget}, {T} frames"))
    big = 3 * (10**8 + 1) ** 2 - 1  # one voxel short of 3 frames of (10**8 + 1)²: s = 10**8; a float sqrt gives 10**8 + 1
    cases += [
        Case((big, 3), note="a huge budget: exact integer arithmetic needed (math.isqrt)"),
        Case((5, 5), note="budget = T: one 1×1 frame per time step"),
        Case((1, 1), note="the minimum: one voxel"),
        Case((4, 5), raises=ValueError, note="budget < T: not even 1×1 frames"),
        Case((10, 0), raises=ValueError, note="num_frames = 0"),
        Case((100.0, 4), raises=ValueError, note="budget = 100.0, a float"),
        Case((100, True), raises=ValueError, note="num_frames = True, a bool"),
    ]
    return cases


def _ltc_valid(budget, num_frames) -> None:  # noqa: ANN001
    for v in (budget, num_frames):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError("not an int")
    if num_frames < 1 or budget < num_frames:
        raise ValueError("too small")


def _ltc_round(budget, num_frames):  # noqa: ANN001, ANN202
    _ltc_valid(budget, num_frames)
    return int(round(math.sqrt(budget / num_frames)))


def _ltc_float_sqrt(budget, num_frames):  # noqa: ANN001, ANN202
    _ltc_valid(budget, num_frames)
    return int(math.sqrt(budget / num_frames))


def _ltc_no_sqrt(budget, num_frames):  # noqa: ANN001, ANN202
    _ltc_valid(budget, num_frames)
    return budget // num_frames


def _ltc_sqrt_budget(budget, num_frames):  # noqa: ANN001, ANN202
    _ltc_valid(budget, num_frames)
    return max(1, math.isqrt(budget) // num_frames)


_TOL = {"rtol": 1e-9, "atol": 1e-12}  # float64 cases, same operations as the reference

EXERCISES = [
    _ex("pathway_frames", "course.nn.slowfast", _pathway_cases, [
        Misconception("first_frames", "the slow frames are spread over the WHOLE clip, first to last "
                      "(torch.linspace(0, T - 1, T // alpha)); the first T // alpha frames cover only the start",
                      _pathway_first),
        Misconception("every_alpha", "PackPathway takes linspace(0, T - 1, T // alpha).long(), which ends on the "
                      "last frame; every alpha-th frame from 0 (0, α, 2α, …) never reaches it", _pathway_every_alpha),
        Misconception("rounded", ".long() truncates towards zero (4.43 → 4, 8.86 → 8); rounding picks other frames",
                      _pathway_rounded),
        Misconception("alpha_frames", "the slow pathway gets T // alpha frames (alpha is the frame-RATE ratio), "
                      "not alpha frames", _pathway_alpha_frames),
    ], **_TOL),
    _ex("time_to_channel", "course.nn.slowfast", _t2c_cases, [
        Misconception("frame_major", "your channels are in frame-major order (k·C + c): a valid packing, but this "
                      "exercise fixes channel c·α + k = channel c of frame t·α + k, the α frames of one channel "
                      "together (permute to (N, C, α, T/α, H, W) before merging C and α)", _t2c_frame_major),
        Misconception("plain_reshape", "a plain reshape to (N, C·α, T/α, H, W) groups frames t, t + T/α, … "
                      "(far apart in time); split time as (T/α, α) so each step packs α CONSECUTIVE frames",
                      _t2c_plain_reshape),
        Misconception("mean", "time-to-channel keeps every frame as channels (C·α of them); averaging the α "
                      "frames is a temporal pool", _t2c_mean),
    ], **_TOL),
    _ex("time_strided_sample", "course.nn.slowfast", _sample_cases, [
        Misconception("first_frames", "sample every alpha-th frame over the whole clip (fast[:, :, ::alpha]); the "
                      "first T/α frames cover only the start", _sample_first),
        Misconception("last_of_group", "start at frame 0: frames 0, α, 2α, … (step t of the slow pathway is fast "
                      "frame t·α)", _sample_last_of_group),
        Misconception("linspace", "the lateral is a stride, fast[:, :, ::alpha] (0, α, 2α, …); PackPathway's "
                      "linspace indices are for cutting the slow pathway's input", _sample_linspace),
    ], **_TOL),
    _ex("time_strided_conv", "course.nn.slowfast", _conv_cases, [
        Misconception("no_stride", "the lateral must match the slow pathway's T/α steps: stride α in time "
                      "(stride=(alpha, 1, 1))", _conv_no_stride),
        Misconception("space_stride", "stride only in time, (alpha, 1, 1): both pathways keep the same H and W",
                      _conv_space_stride),
        Misconception("no_padding", "pad k // 2 frames in time only (padding=(k // 2, 0, 0)) so step t is "
                      "centred on fast frame t·α and there are T/α steps", _conv_no_padding),
        Misconception("causal", "pad k // 2 on both sides of time (centred kernel), not k − 1 before",
                      _conv_causal),
    ], **_TOL),
    _ex("separable_conv3d", "course.nn.s3d", _sep_cases, [
        Misconception("no_relu", "S3D puts a non-linearity between the spatial and the temporal conv: "
                      "relu(conv_s(x)) before conv_t (without it the pair is one rank-limited 3D conv)",
                      _sep_no_relu),
        Misconception("relu_after", "return conv_t(relu(conv_s(x))) without a ReLU on the output (the block's "
                      "BN and ReLU come after)", _sep_relu_after),
        Misconception("pad_everywhere", "pad each conv on its own axes only: (0, k//2, k//2) for 1×k×k and "
                      "(k_t//2, 0, 0) for k_t×1×1", _sep_pad_everywhere),
        Misconception("no_padding", "pad half the kernel so T, H and W are kept", _sep_no_padding),
    ], **_TOL),
    _ex("ltc_frame_size", "course.data.long_clips", _ltc_cases, [
        Misconception("float_sqrt", "a floating-point sqrt is not exact for large integers: use integer "
                      "arithmetic, math.isqrt(budget // num_frames)", _ltc_float_sqrt),
        Misconception("rounded", "the side is rounded DOWN: rounding up can overshoot the budget (T·s² > budget)",
                      _ltc_round),
        Misconception("no_sqrt", "budget // num_frames is the AREA per frame (s²); the side is its square root",
                      _ltc_no_sqrt),
        Misconception("sqrt_budget", "the constraint is num_frames·s² <= budget: the area per frame is "
                      "budget / num_frames, and the side is the root of that, not the root of the budget divided "
                      "by num_frames", _ltc_sqrt_budget),
    ]),
]
