"""Tests of course.video.sampling against hand-computed index tables, exact rational arithmetic
(fractions.Fraction) and explicit loops."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from course.video.sampling import (
    clip_nbytes,
    clip_numel,
    evenly_spaced_indices,
    multi_clip_indices,
    random_crop_indices,
    random_temporal_crop,
    uniform_stride_indices,
)


def assert_indices(actual: torch.Tensor, expected: list) -> None:
    """Exact type, dtype int64 and values."""
    assert type(actual) is torch.Tensor and actual.dtype == torch.int64
    assert actual.tolist() == expected


# --- uniform_stride_indices --------------------------------------------------------------------------

@pytest.mark.parametrize("total_frames, num_frames, stride, start, expected", [
    (250, 8, 4, 0, [0, 4, 8, 12, 16, 20, 24, 28]),
    (250, 4, 8, 3, [3, 11, 19, 27]),
    (10, 3, 4, 1, [1, 5, 9]),  # the last index is the last frame
    (7, 7, 1, 0, [0, 1, 2, 3, 4, 5, 6]),
    (1, 1, 5, 0, [0]),  # one frame: the stride never applies
    (13, 1, 1, 12, [12]),
])
def test_uniform_stride_hand_computed(total_frames, num_frames, stride, start, expected):
    """Check start + stride * arange(num_frames) on hand-computed cases."""
    assert_indices(uniform_stride_indices(total_frames, num_frames, stride, start), expected)


@pytest.mark.parametrize("args, message", [
    ((10, 3, 4, 2), r"last index .* = 10 .*total_frames=10"),  # one past the end
    ((250, 64, 4, 0), r"= 252"),
    ((10, 0, 1, 0), "num_frames must be an integer >= 1"),
    ((10, 2, 0, 0), "stride must be an integer >= 1"),
    ((10, 2, 1, -1), "start must be an integer >= 0"),
    ((0, 1, 1, 0), "total_frames must be an integer >= 1"),
    ((10, 2.0, 1, 0), "num_frames must be an integer"),
])
def test_uniform_stride_rejects_bad_arguments(args, message):
    """Check the ValueError and its message for out-of-range and invalid arguments."""
    with pytest.raises(ValueError, match=message):
        uniform_stride_indices(*args)


# --- evenly_spaced_indices ---------------------------------------------------------------------------

@pytest.mark.parametrize("total_frames, num_frames, expected", [
    (250, 8, [15, 46, 78, 109, 140, 171, 203, 234]),
    (10, 3, [1, 5, 8]),
    (7, 7, [0, 1, 2, 3, 4, 5, 6]),  # as many frames as segments: every frame
    (3, 5, [0, 0, 1, 2, 2]),  # more samples than frames: indices repeat
    (1, 4, [0, 0, 0, 0]),
    (100, 1, [50]),
])
def test_evenly_spaced_hand_computed(total_frames, num_frames, expected):
    """Check segment centres floor((i + 0.5) * total / num) on hand-computed cases."""
    assert_indices(evenly_spaced_indices(total_frames, num_frames), expected)


def test_evenly_spaced_equals_exact_rational_formula():
    """Check against floor((i + 1/2) * total / num) in exact fractions for every size up to 40 × 40."""
    for total_frames in range(1, 41):
        for num_frames in range(1, 41):
            expected = [math.floor((i + Fraction(1, 2)) * total_frames / num_frames)
                        for i in range(num_frames)]
            actual = evenly_spaced_indices(total_frames, num_frames).tolist()
            assert actual == expected, (total_frames, num_frames)


def test_evenly_spaced_has_no_float_error_on_large_videos():
    """Check a case where float arithmetic floors wrongly: exact integers must be used."""
    total_frames, num_frames = 2**53 + 1, 3  # a float cannot even hold total_frames
    expected = [((2 * i + 1) * total_frames) // (2 * num_frames) for i in range(num_frames)]
    assert evenly_spaced_indices(total_frames, num_frames).tolist() == expected


@pytest.mark.parametrize("args", [(0, 3), (10, 0), (-5, 2)])
def test_evenly_spaced_rejects_bad_arguments(args):
    """Check ValueError for a video or a sample count below 1."""
    with pytest.raises(ValueError, match="must be an integer >= 1"):
        evenly_spaced_indices(*args)


# --- random_crop_indices and random_temporal_crop -----------------------------------------------------

@pytest.mark.parametrize("total_frames, num_frames, stride, u, expected", [
    (10, 3, 2, 0.0, [0, 2, 4]),  # span 5, 6 possible starts
    (10, 3, 2, 0.5, [3, 5, 7]),  # floor(0.5 * 6) = 3
    (10, 3, 2, 0.99, [5, 7, 9]),  # floor(5.94) = 5: the last start
    (10, 3, 2, 1 / 6, [1, 3, 5]),  # floor(1.0) = 1: a boundary
    (250, 8, 4, 0.25, [55, 59, 63, 67, 71, 75, 79, 83]),  # span 29, floor(0.25 * 222) = 55
    (5, 5, 1, 0.7, [0, 1, 2, 3, 4]),  # the clip is the whole video: one start
    (9, 1, 3, 0.999, [8]),
])
def test_random_crop_hand_computed(total_frames, num_frames, stride, u, expected):
    """Check start = floor(u * (total - span + 1)) on hand-computed cases."""
    assert_indices(random_crop_indices(total_frames, num_frames, stride, u), expected)


@pytest.mark.parametrize("args, message", [
    ((10, 3, 2, 1.0), r"u must be in \[0, 1\)"),
    ((10, 3, 2, -0.1), r"u must be in \[0, 1\)"),
    ((10, 3, 2, float("nan")), r"u must be in \[0, 1\)"),
    ((10, 4, 4, 0.5), r"spans 13 frames.*total_frames=10"),
    ((10, 0, 1, 0.5), "num_frames must be an integer >= 1"),
    ((10, 2, 0, 0.5), "stride must be an integer >= 1"),
])
def test_random_crop_rejects_bad_arguments(args, message):
    """Check the ValueError and its message for bad u, too long clips and bad sizes."""
    with pytest.raises(ValueError, match=message):
        random_crop_indices(*args)


def test_random_crop_u_just_below_one_gives_the_last_start():
    """Check that u one float step below 1 floors to the last start (rounding would overshoot)."""
    u = math.nextafter(1.0, 0.0)
    for total_frames in [10, 1_000_003, 2**40 + 7]:
        indices = random_crop_indices(total_frames, 4, 3, u)
        assert indices[-1].item() == total_frames - 1


def test_random_temporal_crop_draws_u_from_the_generator():
    """Check that the crop is random_crop_indices with u = torch.rand((), generator) of the same seed."""
    for seed in range(5):
        u = torch.rand((), generator=torch.Generator().manual_seed(seed)).item()
        expected = random_crop_indices(101, 6, 3, u)
        actual = random_temporal_crop(101, 6, 3, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(actual, expected) and actual.dtype == torch.int64


def test_random_temporal_crop_is_reproducible_and_covers_every_start():
    """Check that a seed fixes the sequence, and that all 6 starts of a (10, 3, 2) crop occur."""
    def draws(seed: int) -> list[list[int]]:
        generator = torch.Generator().manual_seed(seed)
        return [random_temporal_crop(10, 3, 2, generator=generator).tolist() for _ in range(200)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert {clip[0] for clip in draws(7)} == {0, 1, 2, 3, 4, 5}
    assert all(clip[1] - clip[0] == 2 and clip[2] - clip[1] == 2 for clip in draws(7))


def test_random_temporal_crop_default_stride_is_one():
    """Check the default stride of 1: consecutive frames."""
    indices = random_temporal_crop(50, 7, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.diff(indices), torch.ones(6, dtype=torch.int64))


# --- multi_clip_indices -------------------------------------------------------------------------------

@pytest.mark.parametrize("total_frames, num_clips, num_frames, stride, starts", [
    (250, 3, 8, 4, [0, 110, 221]),  # span 29: k * 221 // 2
    (10, 4, 3, 1, [0, 2, 4, 7]),  # span 3: k * 7 // 3
    (100, 1, 16, 2, [34]),  # span 31: one centred clip at 69 // 2
    (5, 4, 5, 1, [0, 0, 0, 0]),  # the clip is the whole video
    (11, 2, 1, 1, [0, 10]),
])
def test_multi_clip_hand_computed_starts(total_frames, num_clips, num_frames, stride, starts):
    """Check the hand-computed clip starts and that every row is a strided clip."""
    expected = [[s + stride * j for j in range(num_frames)] for s in starts]
    assert_indices(multi_clip_indices(total_frames, num_clips, num_frames, stride), expected)


def test_multi_clip_equals_explicit_loop():
    """Check every small case against an explicit loop, and that the clips stay inside the video."""
    for total_frames in range(1, 30):
        for num_clips in range(1, 6):
            for num_frames, stride in [(1, 1), (2, 3), (4, 2), (5, 1)]:
                span = (num_frames - 1) * stride + 1
                if span > total_frames:
                    with pytest.raises(ValueError, match=f"spans {span} frames"):
                        multi_clip_indices(total_frames, num_clips, num_frames, stride)
                    continue
                actual = multi_clip_indices(total_frames, num_clips, num_frames, stride)
                for k in range(num_clips):
                    start = (k * (total_frames - span) // (num_clips - 1) if num_clips > 1
                             else (total_frames - span) // 2)
                    assert actual[k].tolist() == [start + stride * j for j in range(num_frames)]
                assert actual.shape == (num_clips, num_frames)
                assert actual.min() >= 0 and actual.max() < total_frames
                if num_clips > 1:
                    assert actual[0, 0] == 0 and actual[-1, -1] == total_frames - 1


@pytest.mark.parametrize("args", [(10, 0, 3, 1), (10, 2, 0, 1), (10, 2, 3, 0), (10, 2, 6, 2)])
def test_multi_clip_rejects_bad_arguments(args):
    """Check ValueError for zero clips, frames or stride, and a clip longer than the video."""
    with pytest.raises(ValueError):
        multi_clip_indices(*args)


# --- clip_numel and clip_nbytes ------------------------------------------------------------------------

@pytest.mark.parametrize("args, numel", [
    ((64, 224, 224), 9_633_792),  # lesson 01's seed claim: ≈ 9.6 M numbers
    ((1800, 224, 224), 270_950_400),  # one minute at 30 fps: ≈ 271 M
    ((8, 33, 35, 1, 2), 18_480),
    ((1, 1, 1, 1, 1), 1),
])
def test_clip_numel_hand_computed(args, numel):
    """Check the element count on the lesson's numbers and an odd size."""
    assert clip_numel(*args) == numel and type(clip_numel(*args)) is int


@pytest.mark.parametrize("shape", [(16, 112, 112, 3, 4), (5, 33, 35, 1, 2), (64, 224, 224, 3, 1)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8, torch.float16, torch.float64])
def test_clip_nbytes_equals_a_real_tensor(shape, dtype):
    """Check numel and nbytes against an (N, C, T, H, W) tensor on the meta device (no memory)."""
    T, H, W, C, N = shape
    tensor = torch.empty(N, C, T, H, W, dtype=dtype, device="meta")
    assert clip_numel(T, H, W, C, N) == tensor.numel()
    assert clip_nbytes(T, H, W, C, N, dtype=dtype) == tensor.numel() * tensor.element_size()


def test_clip_nbytes_default_is_float32():
    """Check the default dtype: 4 bytes per number (a 64×224×224×3 clip is 38,535,168 bytes)."""
    assert clip_nbytes(64, 224, 224) == 38_535_168


@pytest.mark.parametrize("args", [(0, 224, 224), (64, 0, 224), (64, 224, -1), (64, 224, 224, 0),
                                  (64, 2, 2, 3, 0)])
def test_clip_numel_rejects_sizes_below_one(args):
    """Check ValueError for a zero or negative size."""
    with pytest.raises(ValueError, match="must be an integer >= 1"):
        clip_numel(*args)


def test_samplers_accept_numpy_integers():
    """Check that sizes given as numpy integers (e.g. from an array) are accepted."""
    assert_indices(evenly_spaced_indices(np.int64(10), np.int64(3)), [1, 5, 8])
