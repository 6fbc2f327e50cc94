"""course.transfer: depth resampling against torch, the PE window, the shuffle control, pretraining clips."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.medical.hounsfield import clip_window
from course.transfer import (NUM_PRETRAINING_CLASSES, PE_WINDOW, ct_to_clip, pretraining_clips, resample_depth,
                             shuffle_frames)


@pytest.mark.parametrize("depth, frames", [(32, 16), (32, 32), (7, 16), (13, 5), (1, 4), (5, 1)])
def test_resample_depth_equals_torch_trilinear(depth: int, frames: int) -> None:
    x = torch.randn(2, 3, depth, 5, 7, generator=torch.Generator().manual_seed(depth * 100 + frames))
    expected = F.interpolate(x, size=(frames, 5, 7), mode="trilinear", align_corners=False)
    torch.testing.assert_close(resample_depth(x, frames), expected, rtol=1e-5, atol=1e-5)


def test_resample_depth_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="floating"):
        resample_depth(torch.zeros(1, 1, 4, 4, 4, dtype=torch.int64), 2)
    with pytest.raises(ValueError, match="floating"):
        resample_depth(torch.zeros(1, 4, 4, 4), 2)
    with pytest.raises(ValueError, match="num_frames"):
        resample_depth(torch.zeros(1, 1, 4, 4, 4), 0)


def test_ct_to_clip_applies_the_pe_window_then_resamples() -> None:
    rng = np.random.default_rng(0)
    hu = rng.uniform(-1000, 1000, size=(12, 6, 5)).astype(np.float32)
    clip = ct_to_clip(hu, 8)
    assert clip.shape == (1, 8, 6, 5) and clip.dtype == torch.float32
    windowed = torch.from_numpy(clip_window(hu, *PE_WINDOW)).float()
    expected = F.interpolate(windowed[None, None], size=(8, 6, 5), mode="trilinear", align_corners=False)[0]
    torch.testing.assert_close(clip, expected)
    # contrast (300 HU) bright but not saturated, a clot (55 HU) mid-grey, lung (-850 HU) black
    c, w = PE_WINDOW
    values = ct_to_clip(np.array([300.0, 55.0, -850.0], dtype=np.float32).reshape(3, 1, 1), 3).flatten()
    assert 0.75 < values[0] < 1.0 and 0.3 < values[1] < 0.6 and values[2] == 0.0
    with pytest.raises(ValueError, match="one"):
        ct_to_clip(np.zeros((2, 3, 4, 5)), 4)


def test_shuffle_frames_permutes_each_clip_on_its_own() -> None:
    N, C, T = 6, 2, 9
    clips = torch.arange(T, dtype=torch.float32).view(1, 1, T, 1, 1).expand(N, C, T, 3, 3) + \
        100 * torch.arange(N, dtype=torch.float32).view(N, 1, 1, 1, 1)
    out = shuffle_frames(clips, generator=torch.Generator().manual_seed(1))
    order = out[:, 0, :, 0, 0] - 100 * torch.arange(N).view(N, 1)  # (N, T) source frame of each frame
    assert all(sorted(row.tolist()) == list(range(T)) for row in order)
    assert torch.equal(out[:, 0], out[:, 1])  # channels move together
    assert len({tuple(row.tolist()) for row in order}) > 1  # not one permutation for every clip
    assert (order != torch.arange(T)).any(dim=1).all()  # none left in time order (9! permutations)
    again = shuffle_frames(clips, generator=torch.Generator().manual_seed(1))
    assert torch.equal(out, again)


def test_pretraining_clips_are_seeded_labelled_and_mixed() -> None:
    clips, labels = pretraining_clips(24, seed=3, num_frames=8, size=32)
    assert clips.shape == (24, 3, 8, 32, 32) and clips.dtype == torch.float32
    assert 0.0 <= float(clips.min()) and float(clips.max()) <= 1.0
    assert labels.dtype == torch.int64 and int(labels.min()) >= 0 and int(labels.max()) < NUM_PRETRAINING_CLASSES
    real = labels >= 40
    assert int(real.sum()) == 6  # a quarter are real-video crops
    # real crops have colour (channels differ); tinted digits are one image times a colour per channel
    assert (clips[real][:, 0] - clips[real][:, 1]).abs().mean() > 0.01
    # the motion matches the label: a pan or a digit moves `speed` pixels per frame
    again, labels_again = pretraining_clips(24, seed=3, num_frames=8, size=32)
    assert torch.equal(clips, again) and torch.equal(labels, labels_again)
    other, _ = pretraining_clips(24, seed=4, num_frames=8, size=32)
    assert not torch.equal(clips, other)
    with pytest.raises(ValueError):
        pretraining_clips(0, seed=0)
    small, _ = pretraining_clips(4, seed=0, num_frames=16, size=24, real_fraction=1.0)  # a long pan, a small crop
    assert small.shape == (4, 3, 16, 24, 24)


def test_real_crops_pan_the_way_their_label_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a still "video" (one random texture repeated), consecutive crops differ by the pan exactly."""
    import course.transfer as transfer

    texture = torch.rand(1, 3, 64, 90, generator=torch.Generator().manual_seed(0)).expand(10, 3, 64, 90)
    monkeypatch.setattr(transfer, "_real_frames", lambda height: (texture.contiguous(),))
    clips, labels = transfer.pretraining_clips(40, seed=5, num_frames=4, size=32, real_fraction=1.0, speed=2)
    assert set((labels // 4).tolist()) == {10} and set((labels % 4).tolist()) == {0, 1, 2, 3}
    moves = {0: (2, 0), 1: (-2, 0), 2: (0, 2), 3: (0, -2)}  # the content moves against the window's pan
    for clip, label in zip(clips, labels):
        dy, dx = moves[int(label) % 4]
        for t in range(3):
            a, b = clip[:, t], clip[:, t + 1]  # (3, 32, 32) consecutive frames
            moved = b[:, max(dy, 0):32 + min(dy, 0), max(dx, 0):32 + min(dx, 0)]
            before = a[:, max(-dy, 0):32 + min(-dy, 0), max(-dx, 0):32 + min(-dx, 0)]
            assert torch.equal(moved, before), (int(label), t)


def test_digit_clips_move_the_way_their_label_says() -> None:
    clips, labels = pretraining_clips(20, seed=2, num_frames=3, size=32, real_fraction=0.0, speed=2)
    moves = {0: (-2, 0), 1: (2, 0), 2: (0, -2), 3: (0, 2)}  # up, down, left, right on a torus
    for clip, label in zip(clips, labels):
        dy, dx = moves[int(label) % 4]
        assert torch.equal(torch.roll(clip[:, 0], shifts=(dy, dx), dims=(1, 2)), clip[:, 1]), int(label)


@pytest.mark.parametrize("arch", ["r3d", "r2plus1d", "vivit"])
def test_video_model_adapted_to_ct_gives_the_rgb_output_on_a_grey_clip(arch: str) -> None:
    """Summing the RGB filters: a 1-channel clip x gives the features the RGB model gave on (x, x, x)."""
    from course.transfer import to_ct_input, transfer_model

    torch.manual_seed(0)
    video = transfer_model(arch, num_classes=44).eval()
    grey = torch.rand(2, 1, 16, 48, 48, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        if arch == "vivit":
            before = video.tubelet_embed(grey.expand(-1, 3, -1, -1, -1))
        else:
            before = video.features(grey.expand(-1, 3, -1, -1, -1))
        ct = to_ct_input(video, num_classes=2)
        after = ct.tubelet_embed(grey) if arch == "vivit" else ct.features(grey)
        logits = ct(grey)
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)
    assert logits.shape == (2, 2)
    with pytest.raises((ValueError, RuntimeError)):  # the ViViT checks its channels; the ResNet's conv refuses 3
        ct(grey.expand(-1, 3, -1, -1, -1))
    with pytest.raises(TypeError):
        to_ct_input(torch.nn.Linear(3, 2))


def test_ct_pretraining_clips_label_place_and_flip() -> None:
    from course.data.chest_ct import chest_ct
    from course.transfer import ct_pretraining_clips

    clips, labels = ct_pretraining_clips(12, seed=7, size=(8, 12, 10), shape=(16, 24, 24))
    assert clips.shape == (12, 3, 8, 12, 10) and labels.dtype == torch.int64
    assert torch.equal(clips[:, 0], clips[:, 2])  # grey in three channels
    for i, (clip, label) in enumerate(zip(clips, labels)):
        volume = chest_ct(7, index=i, label=0, site="A", shape=(16, 24, 24))
        assert volume.embolus is None
        octant, flip = divmod(int(label), 4)
        plain = clip[0].flip(flip - 1) if flip else clip[0]  # undo the flip
        # the block is found in the windowed volume where its octant says
        window = ct_to_clip(volume.hu, 16)[0]
        hits = [(d, h, w) for d in range(9) for h in range(13) for w in range(15)
                if torch.equal(window[d:d + 8, h:h + 12, w:w + 10], plain)]
        assert hits, "the block is not a part of its volume"
        d, h, w = hits[0]
        assert octant == 4 * (d + 3.5 > 7.5) + 2 * (h + 5.5 > 11.5) + (w + 4.5 > 11.5)
    assert len(set(labels.tolist())) > 4
    with pytest.raises(ValueError, match="size"):
        ct_pretraining_clips(2, seed=7, size=(20, 12, 12), shape=(16, 24, 24))


def test_pretrain_arms_share_model_and_steps_and_differ_in_data() -> None:
    from course.transfer import fine_tune, pretrain, to_ct_input

    models = {arm: pretrain("r3d", arm, num_clips=8, epochs=1, seed=0, batch_size=8) for arm in ("V", "Vshuf", "C")}
    assert models["V"].fc.out_features == NUM_PRETRAINING_CLASSES and models["C"].fc.out_features == 32
    assert not torch.equal(models["V"].stem[0].weight, models["Vshuf"].stem[0].weight)  # one step on other data
    with pytest.raises(ValueError, match="arm"):
        pretrain("r3d", "X", num_clips=8, epochs=1, seed=0)
    ct = to_ct_input(models["V"])
    x, y = torch.rand(4, 1, 16, 24, 24), torch.tensor([0, 1, 0, 1])
    before = ct.fc.weight.clone()
    fine_tune(ct, x, y, steps=2, seed=0, batch_size=2)
    assert not torch.equal(before, ct.fc.weight) and not ct.training


def test_frame_pretrained_cnn_under_an_lrcn_keeps_its_grey_features() -> None:
    from course.nn.lrcn import LRCN
    from course.transfer import PRETRAINING_CONTENTS, pretrain, to_ct_input

    frames = pretrain("lrcn", "V", num_clips=8, epochs=1, seed=0, batch_size=8)
    assert frames.classifier.out_features == len(PRETRAINING_CONTENTS)
    with pytest.raises(ValueError, match="2D arm"):
        pretrain("lrcn", "C", num_clips=8, epochs=1, seed=0)
    lrcn = to_ct_input(frames)
    assert isinstance(lrcn, LRCN) and lrcn.features[0][1].in_channels == 1
    grey = torch.rand(3, 1, 24, 24, dtype=torch.float64)
    frames.double().eval(), lrcn.double().eval()
    assert torch.allclose(lrcn.features(grey), frames.features(grey.expand(-1, 3, -1, -1)), atol=1e-6)  # float32 sums
    assert lrcn(torch.rand(2, 1, 16, 24, 24, dtype=torch.float64)).shape == (2, 2)
