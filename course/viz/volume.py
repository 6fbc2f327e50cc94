"""Three orthogonal slices of a 3D volume: a static figure and an interactive viewer with sliders.

The volume is a NIfTI-style array (X, Y, Z) whose voxel axes point as ``axcodes`` says, usually the
canonical ("R", "A", "S") from :func:`course.medical.nifti.reorient`. Each panel is drawn with its
horizontal axis growing to the right and its vertical axis growing upwards (``origin="lower"``), so
for a RAS volume: sagittal = (A to the right, S up), coronal = (R to the right, S up), axial = (R to
the right, A up): the "neurological" convention (the radiological one mirrors left and right).
Figures are ``matplotlib.figure.Figure`` objects (no pyplot state). :func:`slice_viewer` is the
interactive twin of :func:`show_orthogonal_slices`.
"""
from __future__ import annotations

import io
from typing import Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

__all__ = ["show_orthogonal_slices", "slice_viewer"]

_PLANES = ("sagittal", "coronal", "axial")  # the plane of a RAS volume with axis 0, 1 or 2 fixed


def _check_volume(volume: np.ndarray) -> np.ndarray:
    volume = np.asarray(volume, dtype=np.float32)
    if volume.ndim != 3 or min(volume.shape) < 1:
        raise ValueError(f"expected a 3D volume (X, Y, Z), got shape {volume.shape}; "
                         "for 4D data pass one time point, e.g. data[..., 0]")
    return volume


def show_orthogonal_slices(volume: np.ndarray, index: Sequence[int] | None = None, *,
                           spacing: Sequence[float] | None = None, axcodes: Sequence[str] = ("R", "A", "S"),
                           vmin: float | None = None, vmax: float | None = None,
                           title: str | None = None) -> Figure:
    """Three orthogonal slices through one voxel, with crosshairs at the other two slices.

    Args:
        volume: (X, Y, Z) array (intensities, any units).
        index: (i, j, k) voxel the three slices go through; None for the centre voxel.
        spacing: (3,) voxel sizes in mm along X, Y, Z, to draw pixels with their true aspect ratio;
            None draws square pixels.
        axcodes: orientation codes of the volume's axes; they label the panels' axes (the panel
            titles name the planes only for RAS).
        vmin, vmax: grey scale limits shared by the panels; None uses the volume's min and max.
        title: figure title.

    Returns:
        A Figure with three image axes: axis 0 fixed, axis 1 fixed, axis 2 fixed. Panel ``a`` shows
        ``np.take(volume, index[a], axis=a).T`` (rows: the later remaining axis, drawn upwards).

    Raises:
        ValueError: the volume is not 3D, or ``index``/``spacing``/``axcodes`` are not 3 valid values.
    """
    # 1. check the inputs
    volume = _check_volume(volume)
    index = [n // 2 for n in volume.shape] if index is None else [int(i) for i in index]
    spacing = [1.0, 1.0, 1.0] if spacing is None else [float(s) for s in spacing]
    if len(index) != 3 or len(spacing) != 3 or len(axcodes) != 3 or min(spacing) <= 0 or \
            any(not 0 <= i < n for i, n in zip(index, volume.shape)):
        raise ValueError(f"index must be 3 voxel indices inside {volume.shape}, spacing 3 positive mm values "
                         f"and axcodes 3 letters; got index={index}, spacing={spacing}, axcodes={axcodes}")
    vmin = float(volume.min()) if vmin is None else vmin
    vmax = float(volume.max()) if vmax is None else vmax
    # 2. one panel per fixed axis; the two other axes are horizontal and vertical
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    canonical = tuple(axcodes) == ("R", "A", "S")
    for fixed, ax in enumerate(axes):
        horizontal, vertical = [a for a in range(3) if a != fixed]
        image = np.take(volume, index[fixed], axis=fixed).T  # (vertical, horizontal)
        ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax, origin="lower",
                  aspect=spacing[vertical] / spacing[horizontal], interpolation="nearest")
        # 3. crosshairs at the other two slices, axis labels from the orientation codes
        ax.axvline(index[horizontal], color="yellow", lw=0.7, alpha=0.7)
        ax.axhline(index[vertical], color="yellow", lw=0.7, alpha=0.7)
        ax.set_xlabel(f"axis {horizontal} -> {axcodes[horizontal]}", fontsize=8)
        ax.set_ylabel(f"axis {vertical} -> {axcodes[vertical]}", fontsize=8)
        plane = f"{_PLANES[fixed]}, " if canonical else ""
        ax.set_title(f"{plane}axis {fixed} = {index[fixed]}", fontsize=9)
        ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title)
    return fig


def slice_viewer(volume: np.ndarray, *, spacing: Sequence[float] | None = None,
                 axcodes: Sequence[str] = ("R", "A", "S")) -> widgets.VBox:
    """An interactive orthogonal slice viewer: one slider per axis, the figure redrawn on release.

    The image is :func:`show_orthogonal_slices` rendered to PNG in an ``ipywidgets.Image``
    (``continuous_update=False``), on one grey scale fixed by the whole volume. Building the widget
    needs no running kernel; a kernel makes it interactive. Static twin: :func:`show_orthogonal_slices`.

    Args:
        volume: (X, Y, Z) array.
        spacing: (3,) voxel sizes in mm, for the aspect ratio; None for square pixels.
        axcodes: orientation codes of the volume's axes (axis labels).

    Returns:
        A ``VBox`` whose ``children`` are three IntSliders (axes 0, 1, 2, starting at the centre)
        and the Image.

    Raises:
        ValueError: the volume is not 3D.
    """
    # 1. data and controls
    volume = _check_volume(volume)
    vmin, vmax = float(volume.min()), float(volume.max())
    sliders = [widgets.IntSlider(value=n // 2, min=0, max=n - 1, description=f"axis {a} ({axcodes[a]})",
                                 continuous_update=False) for a, n in enumerate(volume.shape)]
    image = widgets.Image(format="png")

    # 2. redraw on every change
    def render(_change: object = None) -> None:
        fig = show_orthogonal_slices(volume, [s.value for s in sliders], spacing=spacing, axcodes=axcodes,
                                     vmin=vmin, vmax=vmax)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=72)
        image.value = buffer.getvalue()

    for slider in sliders:
        slider.observe(render, names="value")
    render()
    # 3. layout
    return widgets.VBox([*sliders, image])
