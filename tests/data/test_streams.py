"""Tests of course.data.streams: shapes, labels against segments, the motion against np.roll, that a single
frame does not separate action from background (while two frames do), and snippets against a loop."""
from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
import pytest
import torch

from course.data.streams import ActionStream, action_stream, action_streams, snippets

# (row, column) displacement per frame of each class 1..4 (up, down, left, right), written independently
STEP = {1: (-1, 0), 2: (1, 0), 3: (0, -1), 4: (0, 1)}


@pytest.mark.parametrize("num_frames, size, num_classes, digit_size", [(256, 32, 4, 12), (97, 23, 3, 7),
                                                                         (1, 12, 1, 12)])
def test_shapes_dtypes_and_labels_agree_with_segments(num_frames, size, num_classes, digit_size):
    """Check (T, 1, H, W) float32 in [0, 1], int64 labels, and that labels are the segments painted in."""
    stream = action_stream(num_frames=num_frames, size=size, num_classes=num_classes, seed=5,
                           digit_size=digit_size, min_length=5, min_gap=3)
    assert isinstance(stream, ActionStream)
    video, labels, segments, segment_labels = stream
    assert video.shape == (num_frames, 1, size, size) and video.dtype == torch.float32
    assert float(video.min()) >= 0.0 and float(video.max()) <= 1.0
    assert labels.shape == (num_frames,) and labels.dtype == torch.int64
    assert segments.dtype == torch.float32 and segments.shape == (len(segment_labels), 2)
    assert segment_labels.dtype == torch.int64
    painted = torch.zeros(num_frames, dtype=torch.int64)
    for (start, end), k in zip(segments.long().tolist(), segment_labels.tolist()):
        assert 1 <= k <= num_classes and 5 <= end - start <= 40 and 0 <= start < end <= num_frames
        painted[start:end] = k
    assert torch.equal(painted, labels)
    if len(segments) > 1:
        assert bool((segments[1:, 0] - segments[:-1, 1] >= 3).all())  # the gaps keep their minimum


def test_a_long_stream_has_several_actions_of_every_class_and_background():
    streams = action_streams(20, seed=0)
    labels = torch.stack([s.labels for s in streams])
    counts = torch.bincount(labels.flatten(), minlength=5)
    assert bool((counts > 0).all())
    assert 0.25 < float((labels > 0).float().mean()) < 0.75  # neither mostly action nor mostly background
    assert min(len(s.segments) for s in streams) >= 2


def test_deterministic_per_seed_and_prefix_stable():
    """Check bit-for-bit determinism, that stream i depends on (seed, i) only, and that seeds differ."""
    a, b = action_streams(3, seed=11), action_streams(5, seed=11)
    for x, y in zip(a, b):
        assert all(torch.equal(u, v) for u, v in zip(x, y))
    assert all(torch.equal(u, v) for u, v in zip(action_stream(seed=11), a[0]))
    assert not torch.equal(action_stream(seed=12).video, a[0].video)
    assert not torch.equal(a[0].video, a[1].video)


def _shift_between(frame_a: np.ndarray, frame_b: np.ndarray, reach: int) -> set[tuple[int, int]]:
    """Every (dr, dc) with |dr|, |dc| <= reach such that np.roll(frame_a, (dr, dc)) equals frame_b."""
    return {(dr, dc) for dr in range(-reach, reach + 1) for dc in range(-reach, reach + 1)
            if np.array_equal(np.roll(frame_a, (dr, dc), axis=(0, 1)), frame_b)}


@pytest.mark.parametrize("speed, jitter", [(2, 1), (3, 0), (1, 2)])
def test_actions_slide_and_background_only_jitters(speed, jitter):
    """Check, with np.roll, that action frames slide by speed px in the class direction and that
    background frames stay within the jitter of each other."""
    stream = action_stream(num_frames=120, size=29, speed=speed, jitter=jitter, seed=3)
    frames, labels = stream.video[:, 0].numpy(), stream.labels.numpy()
    for t in range(1, len(labels)):
        k, previous = int(labels[t]), int(labels[t - 1])
        if k > 0 and previous == k:  # inside an action: an exact slide
            dr, dc = STEP[k]
            assert np.array_equal(np.roll(frames[t - 1], (speed * dr, speed * dc), axis=(0, 1)), frames[t])
        elif k == 0 and previous == 0:  # inside a gap: two jitters apart at most
            assert _shift_between(frames[t - 1], frames[t], 2 * jitter), f"frame {t} left the jitter range"
    if jitter == 0:  # a still digit: every background frame equals its predecessor
        still = (labels[1:] == 0) & (labels[:-1] == 0)
        assert all(np.array_equal(frames[t], frames[t + 1]) for t in np.flatnonzero(still))


def _centroids(video: torch.Tensor) -> torch.Tensor:
    """(T, 1, S, S) -> (T, 2) circular (row, column) centre of mass in pixels, on the torus."""
    S = video.shape[-1]
    angle = 2 * math.pi * torch.arange(S) / S
    out = []
    for profile in (video[:, 0].sum(2), video[:, 0].sum(1)):  # over columns -> rows, over rows -> columns
        a = torch.atan2((profile * torch.sin(angle)).sum(1), (profile * torch.cos(angle)).sum(1))
        out.append((a % (2 * math.pi)) * S / (2 * math.pi))
    return torch.stack(out, dim=1)


def _lookup_accuracy(train: list[ActionStream], test: list[ActionStream], two_frames: bool) -> tuple[float, float]:
    """Accuracy of a lookup table (majority label per feature value, fitted on train) and of the majority class."""
    def features(streams):
        xs, ys = [], []
        for s in streams:
            c = _centroids(s.video)
            if two_frames:  # the displacement between consecutive frames, in whole pixels
                xs += torch.round((c[1:] - c[:-1] + 16) % 32 - 16).long().tolist()
                ys += s.labels[1:].tolist()
            else:  # where the digit is: a 4 × 4 grid of cells (its ink is the same in every frame)
                xs += (c // 8).long().tolist()
                ys += s.labels.tolist()
        return [tuple(x) for x in xs], ys

    x_train, y_train = features(train)
    x_test, y_test = features(test)
    table: dict[tuple, Counter] = defaultdict(Counter)
    for x, y in zip(x_train, y_train):
        table[x][y] += 1
    majority = Counter(y_train).most_common(1)[0][0]
    predictions = [table[x].most_common(1)[0][0] if x in table else majority for x in x_test]
    accuracy = float(np.mean([p == y for p, y in zip(predictions, y_test)]))
    return accuracy, float(np.mean([y == majority for y in y_test]))


def test_one_frame_does_not_tell_action_from_background_but_two_frames_do():
    """Check the temporal claim: the ink of a frame is the same in every frame of a stream, a lookup on
    one frame's position is at the majority rate, and a lookup on the displacement between two frames
    is far above it (the control that shows the check can fail)."""
    train, test = action_streams(30, seed=1), action_streams(30, seed=2)
    for s in train[:5]:
        ink = s.video.sum(dim=(1, 2, 3))
        assert float(ink.max() - ink.min()) < 1e-3  # rolled copies of one image: same sum in every frame
    one_frame, majority = _lookup_accuracy(train, test, two_frames=False)
    two_frames, majority_2 = _lookup_accuracy(train, test, two_frames=True)
    assert one_frame <= majority + 0.03, (one_frame, majority)
    assert two_frames >= majority_2 + 0.25, (two_frames, majority_2)


def test_splits_use_different_digit_images():
    train = action_streams(6, seed=4, split="train")
    test = action_streams(6, seed=4, split="test")
    assert all(torch.equal(a.labels, b.labels) for a, b in zip(train, test))  # same layout: the rng is the same
    assert not any(torch.equal(a.video, b.video) for a, b in zip(train, test))


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_classes=5), "num_classes"),
    (dict(num_classes=0), "num_classes"),
    (dict(min_length=10, max_length=5), "min_length"),
    (dict(min_gap=-1), "min_gap"),
    (dict(speed=0), "speed"),
    (dict(jitter=-1), "jitter"),
    (dict(num_frames=0), "num_frames"),
    (dict(size=8), "fit"),
    (dict(split="val"), "split"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        action_stream(seed=0, **kwargs)


# --- snippets -------------------------------------------------------------------------------------
@pytest.mark.parametrize("T, L, stride", [(37, 8, 4), (37, 5, 3), (8, 8, 1), (20, 1, 7)])
def test_snippets_match_a_loop(T, L, stride):
    g = torch.Generator().manual_seed(T + L)
    video = torch.rand(T, 2, 5, 6, generator=g)
    labels = torch.randint(0, 4, (T,), generator=g)
    clips, snippet_labels = snippets(video, labels, snippet_length=L, stride=stride)
    starts = list(range(0, T - L + 1, stride))
    assert clips.shape == (len(starts), 2, L, 5, 6) and snippet_labels.shape == (len(starts),)
    assert snippet_labels.dtype == torch.int64
    for s, start in enumerate(starts):
        assert torch.equal(clips[s], video[start:start + L].permute(1, 0, 2, 3))  # (C, L, H, W)
        counts = Counter(labels[start:start + L].tolist())
        best = max(counts.values())
        assert snippet_labels[s].item() == min(k for k, v in counts.items() if v == best)


def test_snippet_votes_tie_to_the_lower_label_and_follow_the_stream():
    clips, votes = snippets(torch.zeros(4, 1, 2, 2), torch.tensor([0, 0, 3, 3]), snippet_length=4)
    assert votes.tolist() == [0]
    stream = action_stream(seed=9)
    clips, votes = snippets(stream.video, stream.labels, snippet_length=8, stride=4)
    assert clips.shape == ((256 - 8) // 4 + 1, 1, 8, 32, 32)
    inside = [s for s in range(len(votes)) if len(set(stream.labels[4 * s:4 * s + 8].tolist())) == 1]
    assert all(votes[s] == stream.labels[4 * s] for s in inside)
    assert set(votes.tolist()) - {0} <= set(stream.segment_labels.tolist())


def test_snippets_refuse_bad_inputs():
    video, labels = torch.zeros(10, 1, 4, 4), torch.zeros(10, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"\(T, C, H, W\)"):
        snippets(video[:, 0], labels)
    with pytest.raises(ValueError, match=r"labels \(T,\)"):
        snippets(video, labels[:9])
    with pytest.raises(ValueError, match="snippet_length"):
        snippets(video, labels, snippet_length=11)
    with pytest.raises(ValueError, match="stride"):
        snippets(video, labels, stride=0)
    with pytest.raises(ValueError, match="integers >= 0"):
        snippets(video, labels - 1)
