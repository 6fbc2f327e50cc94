"""Tests of course.viz.tasks: timelines, tracks and masks over frames, the diagrams (Agg, no display)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course.viz.tasks import id_color, plot_timeline, render_tracks, show_masks, show_tracks, video_models_diagram


def _rects(ax) -> list[Rectangle]:  # noqa: ANN001
    return [p for p in ax.patches if type(p) is Rectangle]


def test_timeline_draws_each_interval_on_its_row_with_its_class_colour():
    """Check one rectangle per interval, at [start, end) on the truth (y=1) or predicted (y=0) row."""
    true = torch.tensor([[3.0, 17.0], [40.0, 41.0], [60.0, 90.0]])
    pred = torch.tensor([[5.0, 15.0], [58.0, 93.0]])
    fig = plot_timeline(101, true, torch.tensor([1, 2, 4]), pred, torch.tensor([1, 3]), torch.tensor([1.0, 0.5]))
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    rects = _rects(fig.axes[0])
    assert len(rects) == 5
    got = [(r.get_x(), r.get_x() + r.get_width(), round(r.get_y() + 0.35)) for r in rects]
    assert got == [(3, 17, 1), (40, 41, 1), (60, 90, 1), (5, 15, 0), (58, 93, 0)]
    assert rects[2].get_facecolor()[:3] == pytest.approx(id_color(4)[:3])
    assert rects[4].get_alpha() == pytest.approx(0.5)  # the score is the opacity
    assert fig.axes[0].get_xlim() == (0, 101)
    assert fig._repr_png_()[:4] == b"\x89PNG"


def test_timeline_with_actionness_and_empty_predictions():
    """Check the second panel's steps follow the actionness, and that no predictions draw no bars."""
    act = torch.tensor([0.1, 0.9, 0.3])
    fig = plot_timeline(17, torch.zeros(0, 2), None, torch.zeros(0, 2), actionness=act,
                        snippet_starts=torch.tensor([0, 4, 8]), snippet_length=8)
    assert len(fig.axes) == 2 and not _rects(fig.axes[0])
    (line,) = fig.axes[1].lines
    np.testing.assert_allclose(line.get_ydata(), act.numpy())
    np.testing.assert_allclose(line.get_xdata(), [4, 8, 12])


@pytest.mark.parametrize("kwargs", [
    {"num_frames": 0, "true_segments": torch.zeros(0, 2)},
    {"num_frames": 10, "true_segments": torch.tensor([[5.0, 2.0]])},
    {"num_frames": 10, "true_segments": torch.tensor([[1.0, 2.0]]), "true_labels": torch.tensor([1, 2])},
    {"num_frames": 10, "true_segments": torch.zeros(0, 2), "actionness": torch.rand(3)},
])
def test_timeline_rejects_bad_input(kwargs):
    """Check ValueError for no frames, start > end, labels of another length, actionness without snippets."""
    with pytest.raises(ValueError):
        plot_timeline(**kwargs)


def test_show_tracks_colours_by_id_and_places_boxes():
    """Check one rectangle per box, at the box, coloured by its id, the same id the same colour in each frame."""
    video = torch.rand(7, 1, 23, 31, generator=torch.Generator().manual_seed(0))
    tracks = [(torch.tensor([3, 12]), torch.tensor([[1.0, 2.0, 9.0, 11.0], [15.0, 4.0, 25.0, 14.0]]))] * 7
    tracks[5] = (torch.tensor([12]), torch.tensor([[2.0, 3.0, 10.0, 9.0]]))
    fig = show_tracks(video, tracks, [0, 5, 6], ncols=2, title="tracks")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3
    np.testing.assert_allclose(panels[1].images[0].get_array(), video[5, 0].numpy(), rtol=1e-6)
    first, middle = _rects(panels[0]), _rects(panels[1])
    assert len(first) == 2 and len(middle) == 1
    assert (first[0].get_x(), first[0].get_y(), first[0].get_width(), first[0].get_height()) == (0.5, 1.5, 8, 9)
    assert first[1].get_edgecolor() == pytest.approx(id_color(12))
    assert middle[0].get_edgecolor() == pytest.approx(id_color(12))
    assert first[0].get_edgecolor() != pytest.approx(id_color(12))
    assert [t.get_text() for t in panels[1].texts] == ["12"]


@pytest.mark.parametrize("video, tracks, frames", [
    (torch.rand(3, 3, 8, 8), [(torch.zeros(0), torch.zeros(0, 4))] * 3, [0]),
    (torch.rand(3, 1, 8, 8), [(torch.zeros(0), torch.zeros(0, 4))] * 2, [0]),
    (torch.rand(3, 1, 8, 8), [(torch.zeros(0), torch.zeros(0, 4))] * 3, [3]),
])
def test_show_tracks_rejects_bad_input(video, tracks, frames):
    """Check ValueError for colour frames, one entry too few in tracks, a frame past the end."""
    with pytest.raises(ValueError):
        show_tracks(video, tracks, frames)


def test_render_tracks_paints_outlines_into_enlarged_frames():
    """Check by hand on a 5 × 7 clip at scale 3: grey enlarged by blocks, each box's outline in its id colour."""
    video = torch.rand(2, 1, 5, 7, generator=torch.Generator().manual_seed(1))
    tracks = [(torch.tensor([4]), torch.tensor([[1.0, 1.0, 3.0, 4.0]])),  # pixels x 3..8, y 3..11 at scale 3
              (torch.tensor([4, 7]), torch.tensor([[1.0, 1.0, 3.0, 4.0], [5.0, -2.0, 9.0, 2.0]]))]  # 2nd: clipped
    clip = render_tracks(video, tracks, scale=3)
    assert clip.shape == (2, 3, 15, 21) and clip.dtype == torch.float32
    expected = np.empty((2, 3, 15, 21), dtype=np.float32)
    for t in range(2):  # the enlargement, one pixel at a time
        for y in range(15):
            for x in range(21):
                expected[t, :, y, x] = float(video[t, 0, y // 3, x // 3])
    c4, c7 = np.array(id_color(4)[:3]), np.array(id_color(7)[:3])
    for t in range(2):
        for y in range(3, 12):
            for x in range(3, 9):
                if y in (3, 11) or x in (3, 8):
                    expected[t, :, y, x] = c4
    for y in range(0, 6):  # box 7 spans x 15..26 → 15..20 and y −6..5 → 0..5 after clipping
        for x in range(15, 21):
            if y in (0, 5) or x in (15, 20):
                expected[1, :, y, x] = c7
    np.testing.assert_allclose(clip.numpy(), expected, rtol=0, atol=1e-6)


def test_render_tracks_thick_lines_empty_frames_and_the_player():
    """Check a 2-pixel outline, a frame without boxes left grey, and that clip_player accepts the result."""
    video = torch.full((3, 9, 11), 0.25)
    tracks = [(torch.zeros(0, dtype=torch.int64), torch.zeros(0, 4)),
              (torch.tensor([2]), torch.tensor([[2.0, 2.0, 8.0, 7.0]])),
              (torch.tensor([2]), torch.tensor([[20.0, 20.0, 30.0, 30.0]]))]  # wholly outside: skipped
    clip = render_tracks(video, tracks, scale=1, line=2)
    assert torch.all(clip[0] == 0.25) and torch.all(clip[2] == 0.25)
    painted = (clip[1] != 0.25).any(dim=0)
    ring = torch.zeros(9, 11, dtype=torch.bool)
    ring[2:7, 2:8] = True
    ring[4:5, 4:6] = False  # the inside of a 2-pixel outline of rows 2..6 and columns 2..7
    assert torch.equal(painted, ring)
    from course.viz.video import clip_player

    player = clip_player(clip, fps=4)
    assert player.children[0].children[1].max == 2


@pytest.mark.parametrize("video, tracks, kwargs", [
    (torch.rand(3, 3, 8, 8), [(torch.zeros(0), torch.zeros(0, 4))] * 3, {}),
    (torch.rand(3, 1, 8, 8), [(torch.zeros(0), torch.zeros(0, 4))] * 2, {}),
    (torch.rand(1, 1, 8, 8), [(torch.tensor([1]), torch.tensor([[5.0, 1.0, 2.0, 3.0]]))], {}),
    (torch.rand(1, 1, 8, 8), [(torch.tensor([1, 2]), torch.tensor([[1.0, 1.0, 2.0, 3.0]]))], {}),
    (torch.rand(1, 1, 8, 8), [(torch.zeros(0), torch.zeros(0, 4))], {"scale": 0}),
    (torch.rand(1, 1, 8, 8), [(torch.zeros(0), torch.zeros(0, 4))], {"line": 1.5}),
])
def test_render_tracks_rejects_bad_input(video, tracks, kwargs):
    """Check ValueError for colour frames, a missing frame, an inside-out box, ids ≠ boxes, bad scale/line."""
    with pytest.raises(ValueError):
        render_tracks(video, tracks, **kwargs)


def test_show_masks_overlays_the_prediction_and_outlines_the_truth():
    """Check the overlay's alpha is 0.45 exactly inside the predicted mask, and a contour for the truth."""
    video = torch.rand(5, 1, 13, 17, generator=torch.Generator().manual_seed(1))
    masks = torch.zeros(5, 1, 13, 17, dtype=torch.bool)
    masks[:, :, 2:7, 3:11] = True
    truth = masks.roll(2, dims=-1)
    fig = show_masks(video, masks, [1, 4], gt_masks=truth)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2
    overlay = panels[0].images[1].get_array()
    np.testing.assert_allclose(overlay[..., 3], 0.45 * masks[1, 0].numpy())
    assert panels[0].collections  # the truth's contour
    with pytest.raises(ValueError):
        show_masks(video, masks[:4], [0])


def test_video_models_diagram_draws_both_diagrams():
    """Check the two titled panels and that the figure renders to PNG."""
    fig = video_models_diagram()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("SAM 2") and titles[1].startswith("Video diffusion")
    assert len(fig._repr_png_()) > 1000
