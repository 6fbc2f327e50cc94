"""Tests of course.data.moving_digits: shapes, determinism, balance, disjoint splits, the motion
(checked against torch.roll and an independent numpy renderer), and that one frame does not reveal
the direction."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from course.data.moving_digits import (DIRECTIONS, LABEL_KINDS, MovingDigits, digit_images, moving_digits,
                                       order_pair_table, shift_frame)

# (row, column) displacement per frame for each direction name, written independently of the module
STEP = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
NUM_CLASSES = {"digit": 10, "direction": 4, "order": 2}


@pytest.mark.parametrize("label", LABEL_KINDS)
@pytest.mark.parametrize("num_clips, num_frames, size, digit_size, speed",
                         [(40, 8, 32, 12, 2), (13, 5, 29, 7, 3), (7, 2, 12, 12, 1)])
def test_shapes_dtype_range_and_labels(label, num_clips, num_frames, size, digit_size, speed):
    """Check (N, 1, T, H, W) float32 in [0, 1] with ink in every frame, and int64 labels in range."""
    videos, labels = moving_digits(num_clips, label=label, num_frames=num_frames, size=size,
                                   digit_size=digit_size, speed=speed, seed=3)
    assert videos.shape == (num_clips, 1, num_frames, size, size) and videos.dtype == torch.float32
    assert labels.shape == (num_clips,) and labels.dtype == torch.int64
    assert float(videos.min()) >= 0.0 and float(videos.max()) <= 1.0
    assert bool((videos.amax(dim=(1, 3, 4)) > 0.5).all()), "every frame shows a digit"
    assert 0 <= int(labels.min()) and int(labels.max()) < NUM_CLASSES[label]


@pytest.mark.parametrize("label", LABEL_KINDS)
def test_deterministic_per_seed(label):
    """Check that a seed fixes the clips bit for bit and another seed changes them."""
    a, la = moving_digits(50, label=label, seed=7)
    b, lb = moving_digits(50, label=label, seed=7)
    c, _ = moving_digits(50, label=label, seed=8)
    assert torch.equal(a, b) and torch.equal(la, lb)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("label", LABEL_KINDS)
@pytest.mark.parametrize("num_clips", [100, 101, 37])
def test_labels_are_balanced(label, num_clips):
    """Check that every class occurs N // K or N // K + 1 times."""
    _, labels = moving_digits(num_clips, label=label, seed=1)
    counts = torch.bincount(labels, minlength=NUM_CLASSES[label])
    assert int(counts.max()) - int(counts.min()) <= 1 and int(counts.sum()) == num_clips


def test_digit_images_match_sklearn_and_splits_are_disjoint():
    """Check that the 8×8 source images are sklearn's load_digits and that train ∩ test = ∅."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    from course.data.moving_digits import _digits_8x8

    images, labels = _digits_8x8()
    np.testing.assert_array_equal(images, digits.images.astype(np.float32))
    np.testing.assert_array_equal(labels, digits.target)
    train_img, train_lab, train_src = digit_images("train")
    test_img, test_lab, test_src = digit_images("test")
    assert set(train_src.tolist()).isdisjoint(test_src.tolist())
    assert len(train_src) + len(test_src) == 1797
    assert train_img.shape[1:] == (12, 12) and train_img.dtype == torch.float32
    assert 0.75 < len(train_src) / 1797 < 0.85
    for k in range(10):  # every digit in both splits
        assert (train_lab == k).sum() > 100 and (test_lab == k).sum() > 25
    np.testing.assert_array_equal(train_lab.numpy(), digits.target[train_src.numpy()])


@pytest.mark.parametrize("label", LABEL_KINDS)
def test_clips_use_only_their_split_images(label):
    """Check that train clips show only train images and test clips only test images."""
    _, _, train_src = digit_images("train")
    _, _, test_src = digit_images("test")
    train = MovingDigits(300, label=label, split="train", seed=2)
    test = MovingDigits(300, label=label, split="test", seed=2)
    assert set(train.image_ids.unique().tolist()) <= set(train_src.tolist())
    assert set(test.image_ids.unique().tolist()) <= set(test_src.tolist())


@pytest.mark.parametrize("label", LABEL_KINDS)
@pytest.mark.parametrize("speed", [1, 2, 5])
def test_motion_is_a_roll_on_the_torus(label, speed):
    """Check that frame t+1 is frame t rolled by `speed` px in the clip's direction (plain torch.roll)."""
    data = MovingDigits(60, label=label, speed=speed, size=27, seed=4)
    for video, direction, digits in zip(data.videos, data.directions, data.digits):
        dr, dc = STEP[DIRECTIONS[int(direction)]]
        for t in range(video.shape[1] - 1):
            if digits[t] != digits[t + 1]:
                continue  # "order": the digit changes between the halves
            rolled = torch.roll(video[0, t], shifts=(dr * speed, dc * speed), dims=(0, 1))
            assert torch.equal(video[0, t + 1], rolled)


def test_frames_match_an_independent_renderer():
    """Check every frame against a numpy renderer: the digit pasted at its position, wrapped with np.roll."""
    data = MovingDigits(20, label="order", size=30, seed=5)
    images, _, source = digit_images("train")
    row_of = {int(s): i for i, s in enumerate(source)}
    for n in range(len(data)):
        for t in range(data.videos.shape[2]):
            canvas = np.zeros((30, 30), dtype=np.float32)
            canvas[:12, :12] = images[row_of[int(data.image_ids[n, t])]].numpy()
            r, c = data.positions[n, t].tolist()
            np.testing.assert_array_equal(data.videos[n, 0, t].numpy(), np.roll(canvas, (r, c), axis=(0, 1)))


def test_label_semantics():
    """Check that the labels say what the clips show: the digit, the direction, and the order."""
    d = MovingDigits(200, label="digit", seed=0)
    assert torch.equal(d.labels, d.digits[:, 0]) and bool((d.digits == d.digits[:, :1]).all())
    m = MovingDigits(200, label="direction", seed=0)
    assert torch.equal(m.labels, m.directions)
    o = MovingDigits(200, label="order", num_frames=7, seed=0)
    first, second = o.digits[:, 0], o.digits[:, -1]
    assert bool((o.digits[:, :3] == first[:, None]).all()) and bool((o.digits[:, 3:] == second[:, None]).all())
    assert bool((first != second).all())
    step = (second - first) % 10
    assert bool(((step >= 1) & (step <= 4) | (step >= 6) & (step <= 9)).all())
    assert torch.equal(o.labels, (step >= 6).long())  # 0 = forward by 1..4, 1 = backward by 1..4


def test_order_pair_table_one_frame_carries_no_information():
    """Check, exactly, that one frame's digit is independent of the order label, and that reversing flips it.

    P(first, label) and P(second, label) factorize into 1/10 · 1/2, so the Bayes rate of a guess from
    one frame's digit is exactly 1/2; the pair decides the label (Bayes rate 1); swapping the two
    digits swaps the label.
    """
    p = order_pair_table()  # (10, 10, 2)
    assert p.shape == (10, 10, 2) and abs(p.sum() - 1) < 1e-12 and (p >= 0).all()
    for marginal in (p.sum(axis=1), p.sum(axis=0)):  # (digit, label) of the first frame, of the last frame
        np.testing.assert_allclose(marginal, np.full((10, 2), 0.05), rtol=0, atol=1e-15)
        assert abs(marginal.max(axis=1).sum() - 0.5) < 1e-12  # Bayes rate from one frame: exactly 1/2
    assert abs(p.max(axis=2).sum() - 1.0) < 1e-12  # from the ordered pair: exactly 1
    np.testing.assert_array_equal(p[:, :, 0], p[:, :, 1].T)  # "a then b" forward = "b then a" backward
    # the old label ("smaller digit first") leaked: Bayes rate from the first digit 70/90
    old = np.zeros((10, 2))
    for a in range(10):
        for b in range(10):
            if a != b:
                old[a, int(a > b)] += 1 / 90
    assert abs(old.max(axis=1).sum() - 70 / 90) < 1e-12


@pytest.mark.parametrize("t", [0, 7])
def test_order_single_frame_digit_lookup_is_at_chance(t):
    """Check that the generator samples the table: a lookup on frame t's digit scores 50 % on test.

    Fit the majority label per digit of frame t on train clips, score it on test clips; with 20,000
    test clips, 3 standard errors are 1.1 points. The same lookup on the pair (first, last) is perfect.
    """
    train = MovingDigits(20000, label="order", seed=21)
    test = MovingDigits(20000, label="order", split="test", seed=22)
    counts = torch.zeros(10, 2).index_put_((train.digits[:, t], train.labels), torch.ones(len(train)), accumulate=True)
    lookup = counts.argmax(1)  # (10,) majority label per digit
    accuracy = float((lookup[test.digits[:, t]] == test.labels).float().mean())
    assert abs(accuracy - 0.5) < 0.011, accuracy
    empirical = counts / counts.sum()  # the generator's (digit, label) frequencies: the table's 1/20 each
    assert float((empirical - 0.05).abs().max()) < 0.006
    pair = (test.digits[:, -1] - test.digits[:, 0]) % 10 >= 6
    assert torch.equal(pair.long(), test.labels)


def test_directions_are_uniform_for_appearance_labels():
    """Check that directions are roughly uniform when the label is the digit (motion is a nuisance)."""
    d = MovingDigits(2000, label="digit", seed=1)
    counts = torch.bincount(d.directions, minlength=4)
    assert int(counts.min()) > 400


def _nearest_centroid_accuracy(train_x, train_y, test_x, test_y, k):
    centroids = torch.stack([train_x[train_y == c].mean(0) for c in range(k)])  # (K, F)
    return float((torch.cdist(test_x, centroids).argmin(1) == test_y).float().mean())


@pytest.mark.parametrize("t", [0, 7])
def test_a_single_frame_does_not_reveal_the_direction(t):
    """Check that per-frame statistics are at chance for direction but not for digit.

    Two classifiers on one frame, trained on train clips and scored on test clips: nearest class
    centroid on the raw pixels (does the position say where the digit goes?) and on the magnitude
    of the 2D FFT (a shift-invariant description of the digit's appearance). Both must be at chance
    for the direction, while the FFT one is far above chance for the digit — so the test can see
    information when there is some.
    """
    def features(data):
        frame = data.videos[:, 0, t]  # (N, H, W)
        return frame.flatten(1), torch.fft.fft2(frame).abs().flatten(1)

    scores = {}
    for label, k in [("direction", 4), ("digit", 10)]:
        train, test = MovingDigits(3000, label=label, seed=11), MovingDigits(1500, label=label, split="test", seed=12)
        for name, tr, te in zip(["pixels", "fft"], features(train), features(test)):
            scores[label, name] = _nearest_centroid_accuracy(tr, train.labels, te, test.labels, k)
    assert abs(scores["direction", "pixels"] - 0.25) < 0.04, scores
    assert abs(scores["direction", "fft"] - 0.25) < 0.04, scores
    assert scores["digit", "fft"] > 0.5, scores


def test_generation_is_fast():
    """Check that 5,000 clips take well under a second (the generator is vectorized)."""
    moving_digits(10, seed=0)  # load and cache the digit images
    start = time.perf_counter()
    moving_digits(5000, label="direction", seed=0)
    assert time.perf_counter() - start < 1.0


def test_dataset_items_and_repr():
    """Check the TensorDataset interface: data[i] = (video (1, T, H, W), label), and the class names."""
    data = MovingDigits(12, label="direction", num_frames=6, size=20, seed=0)
    video, label = data[3]
    assert video.shape == (1, 6, 20, 20) and label.dtype == torch.int64 and len(data) == 12
    assert data.classes == DIRECTIONS and "12 clips" in repr(data)
    assert torch.equal(data.videos, moving_digits(12, label="direction", num_frames=6, size=20, seed=0)[0])


# --- shift_frame ------------------------------------------------------------------------------------
def test_shift_frame_by_hand():
    """Check each direction on a 3×4 frame with one bright pixel, and wrap-around at the edge."""
    frame = torch.zeros(3, 4)
    frame[0, 3] = 1.0  # top-right corner
    expected = {"up": (2, 3), "down": (1, 3), "left": (0, 2), "right": (0, 0)}
    for direction, name in enumerate(DIRECTIONS):
        out = shift_frame(frame, direction, 1)
        assert out.shape == frame.shape and out[expected[name]] == 1.0 and out.sum() == 1.0, name


def test_shift_frame_batches_and_inverse():
    """Check that shift_frame works on (..., H, W) batches and that down undoes up, right undoes left."""
    x = torch.rand(2, 3, 5, 7, 9)
    assert torch.equal(shift_frame(shift_frame(x, 0, 4), 1, 4), x)
    assert torch.equal(shift_frame(shift_frame(x, 2, 11), 3, 11), x)
    assert torch.equal(shift_frame(x, 3, -2), shift_frame(x, 2, 2))


@pytest.mark.parametrize("frame, direction", [(torch.zeros(5), 0), (torch.zeros(4, 4), 4), (torch.zeros(4, 4), -1)])
def test_shift_frame_rejects_bad_input(frame, direction):
    with pytest.raises(ValueError):
        shift_frame(frame, direction, 1)


@pytest.mark.parametrize("kwargs", [{"label": "colour"}, {"split": "val"}, {"digit_size": 40},
                                    {"num_frames": 1, "label": "order"}, {"num_frames": 0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        moving_digits(4, **kwargs)
