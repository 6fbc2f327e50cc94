"""Tests of course.viz.volume: the orthogonal-slice figure shows the right slices with the right
aspect and crosshairs (Agg backend, no display), and the viewer redraws when a slider moves."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure

from course.viz.volume import show_orthogonal_slices, slice_viewer


@pytest.mark.parametrize("index, spacing", [(None, None), ((1, 5, 2), (0.8, 1.1, 2.5))])
def test_panels_show_the_slices_through_the_voxel(index, spacing):
    """Check each panel's pixels (the transposed slice), its aspect ratio and crosshair positions."""
    volume = np.random.default_rng(0).normal(size=(5, 7, 9)).astype(np.float32)
    fig = show_orthogonal_slices(volume, index, spacing=spacing, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    idx = [n // 2 for n in volume.shape] if index is None else list(index)
    sp = [1.0, 1.0, 1.0] if spacing is None else list(spacing)
    for fixed, ax in enumerate(fig.axes):
        horizontal, vertical = [a for a in range(3) if a != fixed]
        np.testing.assert_array_equal(ax.images[0].get_array(), np.take(volume, idx[fixed], axis=fixed).T)
        assert ax.images[0].origin == "lower"
        assert ax.get_aspect() == pytest.approx(sp[vertical] / sp[horizontal])
        lines = [tuple(line.get_xdata()) + tuple(line.get_ydata()) for line in ax.lines]
        assert (idx[horizontal], idx[horizontal], 0, 1) in lines and (0, 1, idx[vertical], idx[vertical]) in lines
    assert [ax.get_title() for ax in fig.axes] == [f"{p}, axis {a} = {idx[a]}" for a, p in
                                                   enumerate(("sagittal", "coronal", "axial"))]


def test_non_canonical_codes_label_axes_without_plane_names():
    """Check that LAS codes appear in the labels and the planes are not named."""
    fig = show_orthogonal_slices(np.zeros((3, 5, 7)) + np.arange(7), axcodes=("L", "A", "S"))
    assert fig.axes[2].get_xlabel() == "axis 0 -> L" and fig.axes[0].get_ylabel() == "axis 2 -> S"
    assert fig.axes[0].get_title() == "axis 0 = 1"


@pytest.mark.parametrize("volume, kwargs", [(np.zeros((3, 4)), {}), (np.zeros((3, 4, 5, 2)), {}),
                                            (np.zeros((3, 4, 5)), {"index": (3, 0, 0)}),
                                            (np.zeros((3, 4, 5)), {"spacing": (1, 0, 1)})])
def test_bad_input(volume, kwargs):
    """Check ValueError for 2D and 4D input, an index outside the volume and a zero spacing."""
    with pytest.raises(ValueError):
        show_orthogonal_slices(volume, **kwargs)


def test_viewer_redraws_when_a_slider_moves():
    """Check the widget tree, the PNG image, and that moving a slider changes the picture."""
    volume = np.random.default_rng(1).normal(size=(5, 6, 7)).astype(np.float32)
    viewer = slice_viewer(volume, spacing=(1.0, 1.0, 2.0))
    assert isinstance(viewer, widgets.VBox) and len(viewer.children) == 4
    *sliders, image = viewer.children
    assert [(s.min, s.max, s.value) for s in sliders] == [(0, 4, 2), (0, 5, 3), (0, 6, 3)]
    before = image.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n"
    sliders[2].value = 0
    assert image.value != before
    with pytest.raises(ValueError):
        slice_viewer(np.zeros((3, 4)))


@pytest.mark.parametrize("codes, convention, inverted_x", [
    (("R", "A", "S"), "radiological", True), (("L", "A", "S"), "radiological", False),
    (("R", "A", "S"), "neurological", False), (("L", "A", "S"), "neurological", True),
    (("R", "A", "S"), "array", False), (("L", "A", "S"), "array", False)])
def test_conventions_put_the_subjects_left_where_they_say(codes, convention, inverted_x):
    """Check the axial panel: radiological puts L on the image's right, neurological R, array ignores the codes."""
    fig = show_orthogonal_slices(np.zeros((3, 5, 7)), axcodes=codes, convention=convention)
    axial = fig.axes[2]
    assert axial.xaxis_inverted() == inverted_x and not axial.yaxis_inverted()
    letters = [t.get_text() for t in axial.texts]
    if convention == "array":
        assert letters == []
    else:
        left_on_right = convention == "radiological"
        assert letters[:2] == (["R", "L"] if left_on_right else ["L", "R"]) and letters[2:] == ["A", "P"]


def test_las_and_ras_look_the_same_in_a_named_convention():
    """Check that a volume stored LAS and its RAS copy show the same pictures (radiological), mirrored as arrays."""
    rng = np.random.default_rng(2)
    ras = rng.normal(size=(6, 5, 4)).astype(np.float32)
    las = ras[::-1].copy()

    def pixels(volume, codes, convention):  # each panel as seen: rows top to bottom, columns left to right
        fig = show_orthogonal_slices(volume, (2, 2, 2) if codes[0] == "R" else (3, 2, 2), axcodes=codes,
                                     convention=convention)
        seen = []
        for ax in fig.axes:
            image = np.asarray(ax.images[0].get_array())[::-1]  # origin lower: row 0 at the bottom
            seen.append(image[::-1] if ax.yaxis_inverted() else image)
            seen[-1] = seen[-1][:, ::-1] if ax.xaxis_inverted() else seen[-1]
        return np.concatenate([a.ravel() for a in seen])

    assert np.array_equal(pixels(ras, "RAS", "radiological"), pixels(las, "LAS", "radiological"))
    assert not np.array_equal(pixels(ras, "RAS", "array"), pixels(las, "LAS", "array"))


def test_figure_shows_as_png_without_pyplot_and_bad_convention():
    """Check the figure's own PNG (Jupyter shows it before pyplot is active) and ValueError for an unknown convention."""
    fig = show_orthogonal_slices(np.zeros((3, 4, 5)))
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        show_orthogonal_slices(np.zeros((3, 4, 5)), convention="radiology")
    with pytest.raises(ValueError):
        show_orthogonal_slices(np.zeros((3, 4, 5)), axcodes=("R", "L", "S"))
    with pytest.raises(ValueError):
        slice_viewer(np.zeros((3, 4, 5)), convention="neuro")
