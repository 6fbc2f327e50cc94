"""Tests of course.viz.video: the frame grid and the sampling timeline (Agg backend, no display)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course.video import evenly_spaced_indices, multi_clip_indices, uniform_stride_indices
from course.viz.video import plot_sampled_indices, show_frames


@pytest.mark.parametrize("T, indices, ncols, panels, grid", [
    (5, None, 8, 5, (1, 5)), (11, None, 4, 11, (3, 4)), (7, [6, 0, 3], 2, 3, (2, 2))])
def test_show_frames_grid_and_pixels(T, indices, ncols, panels, grid):
    """Check the panel count and grid, and that each panel shows the right frame's pixels."""
    clip = torch.randint(0, 256, (T, 3, 5, 9), generator=torch.Generator().manual_seed(T), dtype=torch.uint8)
    fig = show_frames(clip, indices, ncols=ncols, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == grid[0] * grid[1]
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == panels
    for ax, t in zip(shown, indices if indices is not None else range(T)):
        np.testing.assert_array_equal(ax.images[0].get_array(), clip[t].permute(1, 2, 0).numpy())
        assert ax.get_title() == f"t = {t}"


def test_show_frames_grey_float():
    """Check a one-channel float clip: grey colour map and values kept."""
    clip = torch.rand(3, 1, 4, 6, generator=torch.Generator().manual_seed(0))
    image = show_frames(clip).axes[1].images[0]
    assert image.get_cmap().name == "gray"
    np.testing.assert_allclose(image.get_array(), clip[1, 0].numpy())


@pytest.mark.parametrize("clip, indices", [(torch.zeros(3, 4, 5, 5), None), (torch.zeros(4, 3, 5), None),
                                           (torch.zeros(3, 3, 5, 5), [3])])
def test_show_frames_rejects_bad_input(clip, indices):
    """Check ValueError for a clip in the wrong layout and an index past the end."""
    with pytest.raises(ValueError):
        show_frames(clip, indices)


def test_plot_sampled_indices_rows_and_dots():
    """Check one row per sampler and one dot per distinct sampled frame, at the sampled frames."""
    sets = {"uniform": uniform_stride_indices(50, 4, 3), "evenly": evenly_spaced_indices(50, 5),
            "multi": multi_clip_indices(50, 2, 3, 2), "repeats": evenly_spaced_indices(3, 5)}
    fig = plot_sampled_indices(sets, 50)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == list(sets)
    dots = [c.get_offsets() for c in ax.collections]
    assert [d[:, 0].tolist() for d in dots] == [[0, 3, 6, 9], [5, 15, 25, 35, 45], [0, 2, 4], [45, 47, 49],
                                                [0, 1, 2]]
    assert [d[0, 1] for d in dots] == [0, 1, 2, 2, 3]
    assert sorted(t.get_text() for t in ax.texts) == ["×2", "×2"]


def test_plot_sampled_indices_rejects_out_of_range():
    """Check ValueError when an index lies past the end of the video."""
    with pytest.raises(ValueError, match=r"outside \[0, 10\)"):
        plot_sampled_indices({"bad": torch.tensor([0, 10])}, 10)
