"""Lesson 12's data: twitching digits (appearance × fast motion), counted flashes (long evidence), LTC sizing."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.data.long_clips import event_count_clips, ltc_frame_size, ltc_input, twitch_digits
from course.data.moving_digits import digit_images


def test_twitch_clips_are_seeded_balanced_and_labelled():
    a, b = twitch_digits(203, seed=3, num_frames=13), twitch_digits(203, seed=3, num_frames=13)
    assert torch.equal(a.videos, b.videos) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.videos, twitch_digits(203, seed=4, num_frames=13).videos)
    assert a.videos.shape == (203, 1, 13, 32, 32) and a.videos.dtype == torch.float32
    counts = torch.bincount(a.labels, minlength=8)
    assert counts.max() - counts.min() <= 1
    digits = torch.tensor([0, 1, 2, 3])
    assert torch.equal(a.labels, (a.labels // 2) * 2 + a.axes) and torch.equal(digits[a.labels // 2], a.digits)


def test_twitch_path_drifts_one_pixel_and_jumps_once_on_its_axis():
    c = twitch_digits(64, seed=1, num_frames=11, size=29, jump=3)
    S = 29
    step = (c.positions[:, 1:] - c.positions[:, :-1] + S // 2) % S - S // 2  # wrapped differences (N, T-1, 2)
    for n in range(64):
        t0, axis = int(c.twitch_start[n]), int(c.axes[n])
        drift = step[n, 0] if t0 > 1 else step[n, -1]
        assert drift.abs().sum() == 1  # 1 px per frame in one direction
        jump = step[n, t0 - 1] - drift
        assert jump[axis].abs() == 3 and jump[1 - axis] == 0  # the twitch: along the label's axis only
        back = step[n, t0] - drift
        assert torch.equal(back, -jump)  # and back on the path the frame after
        others = [t for t in range(10) if t not in (t0 - 1, t0)]
        assert torch.equal(step[n, others], drift.expand(len(others), 2))


def test_twitch_frames_show_the_digit_at_its_position():
    c = twitch_digits(5, seed=2, num_frames=6, split="test")
    images, classes, _ = digit_images("test")
    for n in range(5):
        frame = c.videos[n, 0, 3]
        r, col = c.positions[n, 3].tolist()
        patch = torch.roll(frame, shifts=(-r, -col), dims=(0, 1))[:12, :12]
        matches = [(classes[i] == c.digits[n]) and torch.equal(patch, images[i]) for i in range(len(images))]
        assert any(matches)  # one of the test split's images of that digit
        assert frame.sum() == pytest.approx(patch.sum().item(), rel=1e-6)  # nothing else drawn


def test_twitch_rejects_bad_arguments():
    with pytest.raises(ValueError, match="digits"):
        twitch_digits(4, digits=(1, 1))
    with pytest.raises(ValueError, match="num_frames"):
        twitch_digits(4, num_frames=2)
    with pytest.raises(ValueError, match="split"):
        twitch_digits(4, split="val")


def _onsets(video):
    """Flashes counted from the pixels: frames lit whose previous frame is dark (events never touch)."""
    lit = (video[0].amax(dim=(1, 2)) > 0).int()  # (T,)
    return int(((lit[1:] - lit[:-1]) == 1).sum() + lit[0])


def test_event_counts_match_the_pixels_and_spread_over_the_clip():
    videos, labels, times = event_count_clips(120, seed=5, num_frames=40, size=19, max_events=4, event_frames=2)
    assert videos.shape == (120, 1, 40, 19, 19)
    assert [_onsets(v) for v in videos] == (labels + 1).tolist()
    assert torch.equal((times >= 0).sum(1), labels + 1)
    counts = torch.bincount(labels)
    assert counts.max() - counts.min() <= 1
    first = times[:, 0]
    assert first.float().mean() > 2 and times.max() > 30  # events are not all at the start
    v2, l2, _ = event_count_clips(120, seed=5, num_frames=40, size=19, max_events=4, event_frames=2)
    assert torch.equal(v2, videos) and torch.equal(l2, labels)
    with pytest.raises(ValueError, match="max_events"):
        event_count_clips(3, num_frames=10, max_events=3, event_frames=2)


def test_ltc_frame_size_against_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(300):
        T = int(rng.integers(1, 200))
        budget = int(rng.integers(T, 10**7))
        s = ltc_frame_size(budget, T)
        assert T * s * s <= budget < T * (s + 1) ** 2
    assert ltc_frame_size(16 * 112 * 112, 16) == 112  # LTC's 16-frame, 112² input
    assert ltc_frame_size(16 * 112 * 112, 60) == 57  # the same budget at 60 frames (the paper used 58²: 0.6 % more)
    assert ltc_frame_size(10**30, 10**29) == math.isqrt(10)  # exact for huge integers


@pytest.mark.parametrize("budget, T", [(5, 6), (10, 0), (10.0, 2), (10, True), (10, 2.5)])
def test_ltc_frame_size_rejects(budget, T):
    with pytest.raises(ValueError):
        ltc_frame_size(budget, T)


def test_ltc_input_is_average_pooling_for_integer_factors():
    videos = torch.rand(3, 1, 20, 32, 32)
    out = ltc_input(videos, 12, 16)
    expected = F.avg_pool3d(videos[:, :, :12], kernel_size=(1, 2, 2))
    assert out.shape == (3, 1, 12, 16, 16) and torch.allclose(out, expected, atol=1e-6)
    with pytest.raises(ValueError):
        ltc_input(videos, 21, 16)


def test_several_twitches_on_a_still_digit():
    c = twitch_digits(50, seed=7, num_frames=16, size=16, digit_size=8, jump=4, twitches=3, drift=0, digits=(0, 1))
    assert c.twitch_start.shape == (50, 3)
    for n in range(50):
        starts = set(c.twitch_start[n].tolist())
        assert len(starts) == 3 and min(starts) >= 1 and max(starts) <= 14
        moved = (c.positions[n] != c.positions[n, 0]).any(dim=1)  # (T,) frames away from the start
        assert set(torch.nonzero(moved).flatten().tolist()) == starts
        axis = int(c.axes[n])
        assert (c.positions[n, :, 1 - axis] == c.positions[n, 0, 1 - axis]).all()  # never off the label's axis
    assert set(c.labels.tolist()) == {0, 1, 2, 3}
