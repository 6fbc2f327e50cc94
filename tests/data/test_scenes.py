"""Tests of course.data.scenes: determinism, geometry of the ground truth against the drawn pixels,
visibility against an independent per-pixel occlusion count, frequent crossings, and detector
scores that fall with occlusion."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course.data.moving_digits import digit_images
from course.data.scenes import DigitScene, digit_scene, noisy_detections
from course.video.tracking import box_iou


@pytest.fixture(scope="module")
def scenes() -> list[DigitScene]:
    return [digit_scene(seed=s) for s in range(20)]


def test_scene_is_a_named_tuple_of_three_with_shapes_and_dtypes():
    scene = digit_scene(num_digits=2, num_frames=17, size=45, seed=3)
    video, ids, boxes = scene  # unpacks to three fields
    assert video.shape == (17, 1, 45, 45) and video.dtype == torch.float32
    assert 0 <= video.min() and video.max() <= 1 and video.max() > 0.5
    assert len(ids) == len(boxes) == len(scene.visibility) == 17
    assert all(i.dtype == torch.int64 and i.tolist() == [0, 1] for i in ids)
    assert all(b.shape == (2, 4) and b.dtype == torch.float32 for b in boxes)
    assert scene.labels.shape == (2,) and len(set(scene.labels.tolist())) == 2


def test_scene_is_deterministic_by_seed():
    a, b, c = digit_scene(seed=5), digit_scene(seed=5), digit_scene(seed=6)
    assert torch.equal(a.video, b.video) and all(torch.equal(x, y) for x, y in zip(a.boxes, b.boxes))
    assert all(torch.equal(x, y) for x, y in zip(a.visibility, b.visibility))
    assert not torch.equal(a.video, c.video)
    da, db = noisy_detections(a, seed=1), noisy_detections(a, seed=1)
    assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(da, db))
    assert not all(torch.equal(x[1], y[1]) for x, y in zip(da, noisy_detections(a, seed=2)))


def test_boxes_are_inside_the_canvas_and_hold_the_digit_ink(scenes):
    for scene in scenes[:6]:
        T, _, H, W = scene.video.shape
        for t in range(T):
            b = scene.boxes[t]
            assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all() and (b[:, 2] <= W).all() and (b[:, 3] <= H).all()
            assert (b[:, 2] > b[:, 0]).all() and (b[:, 3] > b[:, 1]).all()
            # every inked pixel of the frame lies in some box; fully visible digits have ink on all four box edges
            inside = torch.zeros(H, W, dtype=torch.bool)
            for x1, y1, x2, y2 in b.long().tolist():
                inside[y1:y2, x1:x2] = True
            assert not ((scene.video[t, 0] > 0.1) & ~inside).any()


def test_one_unoccluded_digit_is_drawn_exactly_at_its_box():
    scene = digit_scene(num_digits=1, num_frames=9, size=40, seed=11, position_noise=0.0)
    images, labels, _ = digit_images("train")
    frame = scene.video[4, 0]
    x1, y1, x2, y2 = scene.boxes[4][0].long().tolist()
    ink = frame > 0.1
    rows, cols = torch.nonzero(ink, as_tuple=True)
    assert (rows.min().item(), rows.max().item() + 1, cols.min().item(), cols.max().item() + 1) == (y1, y2, x1, x2)
    assert scene.visibility[4].item() == 1.0
    # the drawn 12×12 patch, placed so that it covers the box, is one of the images of the scene's class
    found = any(torch.equal(frame[y:y + 12, x:x + 12], img)
                for y in range(max(y2 - 12, 0), y1 + 1) for x in range(max(x2 - 12, 0), x1 + 1)
                for img in images[labels == scene.labels[0]])
    assert found


def test_ids_are_stable_and_motion_is_nearly_constant_velocity(scenes):
    for scene in scenes[:8]:
        centers = torch.stack([(b[:, :2] + b[:, 2:]) / 2 for b in scene.boxes])  # (T, K, 2)
        velocity = centers[1:] - centers[:-1]
        # per digit, frame-to-frame steps stay close to the digit's mean step (noise 0.3 px plus rounding)
        assert (velocity - velocity.mean(0)).abs().max() < 3.0
        assert velocity.abs().max() <= 1.5 * np.sqrt(2) + 3.0


def test_crossings_happen_in_most_scenes(scenes):
    crossed = 0
    for scene in scenes:
        overlap = max(box_iou(b, b).fill_diagonal_(0).max().item() for b in scene.boxes)
        crossed += overlap > 0.2
    assert crossed >= 0.8 * len(scenes)


def test_visibility_is_one_without_overlap_and_lower_when_covered(scenes):
    fell = 0
    for scene in scenes:
        for t, b in enumerate(scene.boxes):
            iou = box_iou(b, b).fill_diagonal_(0)
            vis = scene.visibility[t]
            assert ((vis >= 0) & (vis <= 1 + 1e-6)).all()
            alone = iou.max(dim=1).values == 0
            # 1e-3: faint ink (< 0.1) lies outside the tight boxes
            torch.testing.assert_close(vis[alone], torch.ones(int(alone.sum())), atol=1e-3, rtol=0)
            fell += int((vis < 0.8).sum())
    assert fell > 0  # occlusion really happens


def test_visibility_equals_the_ink_left_after_compositing():
    """Redraw a two-digit scene by hand (bottom digit, then the top one over it) and compare."""
    scene = digit_scene(num_digits=2, num_frames=30, size=40, seed=4, position_noise=0.0)
    # where the two boxes overlap most, visibility of one digit is below 1 and the other's is 1
    t = int(torch.stack([box_iou(b[:1], b[1:])[0, 0] for b in scene.boxes]).argmax())
    vis = scene.visibility[t]
    assert vis.min() < 1 and vis.max() == pytest.approx(1.0)
    # ink sum of the frame = sum over digits of (visible fraction × own ink), since the background is 0;
    # each digit's own ink is measured in a frame where the two are apart (frame 0 or the last)
    frame = scene.video[t, 0]
    far = 0 if box_iou(scene.boxes[0][:1], scene.boxes[0][1:]).item() == 0 else len(scene.boxes) - 1
    assert box_iou(scene.boxes[far][:1], scene.boxes[far][1:]).item() == 0
    total_far = scene.video[far, 0].sum()
    ink = _ink_per_digit(scene, far)
    assert ink.sum().item() == pytest.approx(total_far.item(), rel=1e-5)
    assert frame.sum().item() == pytest.approx((vis * ink).sum().item(), rel=1e-4)


def _ink_per_digit(scene: DigitScene, t: int) -> torch.Tensor:
    """Ink of each digit in a frame where no two boxes overlap: the pixel sum inside its box."""
    out = []
    for x1, y1, x2, y2 in scene.boxes[t].long().tolist():
        out.append(scene.video[t, 0, y1:y2, x1:x2].sum())
    return torch.stack(out)


def test_scene_errors():
    with pytest.raises(ValueError, match="num_digits"):
        digit_scene(num_digits=11, seed=0)
    with pytest.raises(ValueError, match="size"):
        digit_scene(size=20, seed=0)
    with pytest.raises(ValueError, match="visibility"):
        noisy_detections(digit_scene(seed=0)._replace(), seed=0)
    with pytest.raises(ValueError, match="miss_rate"):
        noisy_detections(digit_scene(seed=0), seed=0, miss_rate=1.5)


# --- noisy detections -----------------------------------------------------------------------------
def test_detections_are_jittered_truth_plus_false_positives(scenes):
    scene = scenes[0]
    T, _, H, W = scene.video.shape
    dets = noisy_detections(scene, seed=0, miss_rate=0.0, false_positives=0.0, min_visibility=0.0)
    for t, (boxes, scores) in enumerate(dets):
        assert boxes.dtype == torch.float32 and scores.dtype == torch.float32 and boxes.shape == (3, 4)
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= W).all() and (boxes[:, 3] <= H).all()
        assert (boxes[:, 2:] > boxes[:, :2]).all()
        assert box_iou(boxes, scene.boxes[t]).max(dim=0).values.min() > 0.5  # each truth has a close detection
    exact = noisy_detections(scene, seed=0, miss_rate=0.0, false_positives=0.0, min_visibility=0.0, jitter=0.0)
    for t, (boxes, _) in enumerate(exact):
        assert sorted(map(tuple, boxes.tolist())) == sorted(map(tuple, scene.boxes[t].tolist()))
    many = noisy_detections(scene, seed=0, false_positives=3.0, miss_rate=0.0, min_visibility=0.0)
    mean_fp = np.mean([len(b) - 3 for b, _ in many])
    assert 2.0 < mean_fp < 4.0


def test_miss_rate_drops_that_fraction(scenes):
    n_true, n_kept = 0, 0
    for i, scene in enumerate(scenes):
        dets = noisy_detections(scene, seed=i, miss_rate=0.3, false_positives=0.0, min_visibility=0.0)
        n_true += 3 * len(dets)
        n_kept += sum(len(b) for b, _ in dets)
    assert n_kept / n_true == pytest.approx(0.7, abs=0.03)


def test_scores_fall_with_occlusion(scenes):
    """Pair each detection with its truth (zero jitter) and compare scores of occluded and free digits."""
    free, hidden, low_hidden = [], [], 0
    for i, scene in enumerate(scenes):
        dets = noisy_detections(scene, seed=i, miss_rate=0.0, false_positives=0.0, jitter=0.0)
        for t, (boxes, scores) in enumerate(dets):
            for k, truth in enumerate(scene.boxes[t]):
                same = (boxes == truth).all(dim=1)
                if not same.any():
                    assert scene.visibility[t][k] < 0.25  # only hidden digits are missed
                    continue
                score, vis = scores[same][0].item(), scene.visibility[t][k].item()
                assert 0.85 * vis - 1e-6 <= score <= vis + 1e-6
                (free if vis == 1 else hidden).append(score)
                low_hidden += vis < 0.7 and score < 0.6
    assert np.mean(hidden) < np.mean(free) - 0.05
    assert min(free) >= 0.85 - 1e-6 and low_hidden > 20  # occluded digits give ByteTrack low-score boxes
