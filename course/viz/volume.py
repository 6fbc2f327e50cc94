"""Three orthogonal slices of a 3D volume: a static figure and an interactive viewer with sliders.

The volume is a NIfTI-style array (X, Y, Z) whose voxel axes point as ``axcodes`` says, usually the
canonical ("R", "A", "S") from :func:`course.medical.nifti.reorient`. Three display conventions:

* ``"radiological"`` (the default, as in lesson 09 and on a radiology workstation): the subject's
  **left on the image's right**, as if facing the patient (axial: seen from the feet); anterior up in
  the axial panel, superior up in the sagittal and coronal panels, anterior to the right in the
  sagittal panel;
* ``"neurological"``: the same, mirrored left-right: the subject's right on the image's right;
* ``"array"``: the array as a network sees it, whatever the affine says: the index of the horizontal
  axis grows to the right and of the vertical axis upwards (``origin="lower"``).

The two named conventions read the direction of each axis from ``axcodes``, so a volume stored LAS
and the same volume reoriented to RAS look the same; in ``"array"`` display they are mirror images.
Figures are ``matplotlib.figure.Figure`` objects (no pyplot state) that show as PNG in Jupyter even
before pyplot has drawn anything. :func:`slice_viewer` is the interactive twin of
:func:`show_orthogonal_slices`.
"""
from __future__ import annotations

import io
from typing import Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from course.viz._figure import PngFigure

__all__ = ["show_orthogonal_slices", "slice_viewer", "CONVENTIONS"]

_PLANES = ("sagittal", "coronal", "axial")  # the plane of a RAS volume with axis 0, 1 or 2 fixed
CONVENTIONS = ("radiological", "neurological", "array")
_PAIRS = {"R": "RL", "L": "RL", "A": "AP", "P": "AP", "S": "SI", "I": "SI"}
_OPPOSITE = {"R": "L", "L": "R", "A": "P", "P": "A", "S": "I", "I": "S"}


def _towards(axis_code: str, position: str, convention: str) -> str:
    """The subject direction the image's ``position`` ("right" or "up") should point to."""
    pair = _PAIRS[axis_code]
    if position == "right":
        return {"RL": "L" if convention == "radiological" else "R", "AP": "A", "SI": "S"}[pair]
    return {"RL": "R", "AP": "A", "SI": "S"}[pair]


def _check_volume(volume: np.ndarray) -> np.ndarray:
    volume = np.asarray(volume, dtype=np.float32)
    if volume.ndim != 3 or min(volume.shape) < 1:
        raise ValueError(f"expected a 3D volume (X, Y, Z), got shape {volume.shape}; "
                         "for 4D data pass one time point, e.g. data[..., 0]")
    return volume


def show_orthogonal_slices(volume: np.ndarray, index: Sequence[int] | None = None, *,
                           spacing: Sequence[float] | None = None, axcodes: Sequence[str] = ("R", "A", "S"),
                           vmin: float | None = None, vmax: float | None = None,
                           title: str | None = None, convention: str = "radiological") -> Figure:
    """Three orthogonal slices through one voxel, with crosshairs at the other two slices.

    Args:
        volume: (X, Y, Z) array (intensities, any units).
        index: (i, j, k) voxel the three slices go through; None for the centre voxel.
        spacing: (3,) voxel sizes in mm along X, Y, Z, to draw pixels with their true aspect ratio;
            None draws square pixels.
        axcodes: orientation codes of the volume's axes; they label the panels' axes and, in the
            named conventions, decide which way each axis is drawn (the panel titles name the planes
            only for RAS).
        vmin, vmax: grey scale limits shared by the panels; None uses the volume's min and max.
        title: figure title.
        convention: "radiological" (subject's left on the image's right), "neurological" (right
            on the right) or "array" (indices grow to the right and upwards); see the module docstring.

    Returns:
        A Figure with three image axes: axis 0 fixed, axis 1 fixed, axis 2 fixed. Panel ``a`` shows
        ``np.take(volume, index[a], axis=a).T`` (rows: the later remaining axis) with
        ``origin="lower"``; a named convention inverts a panel's x or y axis where the index runs the
        other way, and writes the subject direction at each edge of the panel.

    Raises:
        ValueError: the volume is not 3D, ``index``/``spacing``/``axcodes`` are not 3 valid values
            (axcodes: one letter of each pair R/L, A/P, S/I), or an unknown convention.
    """
    # 1. check the inputs
    volume = _check_volume(volume)
    index = [n // 2 for n in volume.shape] if index is None else [int(i) for i in index]
    spacing = [1.0, 1.0, 1.0] if spacing is None else [float(s) for s in spacing]
    if len(index) != 3 or len(spacing) != 3 or len(axcodes) != 3 or min(spacing) <= 0 or \
            any(not 0 <= i < n for i, n in zip(index, volume.shape)) or \
            sorted(_PAIRS.get(c, "?") for c in axcodes) != ["AP", "RL", "SI"]:
        raise ValueError(f"index must be 3 voxel indices inside {volume.shape}, spacing 3 positive mm values "
                         f"and axcodes one letter of each pair R/L, A/P, S/I; got index={index}, spacing={spacing}, "
                         f"axcodes={axcodes}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    vmin = float(volume.min()) if vmin is None else vmin
    vmax = float(volume.max()) if vmax is None else vmax
    # 2. one panel per fixed axis; the two other axes are horizontal and vertical
    fig = PngFigure(figsize=(11, 3.8), layout="constrained")
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
        # 4. a named convention: invert the axes that run the other way, name the subject directions
        if convention != "array":
            right, up = _towards(axcodes[horizontal], "right", convention), _towards(axcodes[vertical], "up", convention)
            if axcodes[horizontal] != right:
                ax.invert_xaxis()
            if axcodes[vertical] != up:
                ax.invert_yaxis()
            for x, y, letter, ha, va in [(0.01, 0.5, _OPPOSITE[right], "left", "center"),
                                         (0.99, 0.5, right, "right", "center"),
                                         (0.5, 0.99, up, "center", "top"), (0.5, 0.01, _OPPOSITE[up], "center", "bottom")]:
                ax.text(x, y, letter, transform=ax.transAxes, ha=ha, va=va, color="tab:orange", fontsize=9,
                        fontweight="bold")
    if title:
        fig.suptitle(f"{title} ({convention} display)" if convention != "array" else f"{title} (array display)")
    return fig


def slice_viewer(volume: np.ndarray, *, spacing: Sequence[float] | None = None,
                 axcodes: Sequence[str] = ("R", "A", "S"), convention: str = "radiological") -> widgets.VBox:
    """An interactive orthogonal slice viewer: one slider per axis, the figure redrawn on release.

    The image is :func:`show_orthogonal_slices` rendered to PNG in an ``ipywidgets.Image``
    (``continuous_update=False``), on one grey scale fixed by the whole volume. Building the widget
    needs no running kernel; a kernel makes it interactive. Static twin: :func:`show_orthogonal_slices`.

    Args:
        volume: (X, Y, Z) array.
        spacing: (3,) voxel sizes in mm, for the aspect ratio; None for square pixels.
        axcodes: orientation codes of the volume's axes (axis labels and directions).
        convention: display convention, as in :func:`show_orthogonal_slices`.

    Returns:
        A ``VBox`` whose ``children`` are three IntSliders (axes 0, 1, 2, starting at the centre)
        and the Image.

    Raises:
        ValueError: the volume is not 3D, or an unknown convention.
    """
    # 1. data and controls
    volume = _check_volume(volume)
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    vmin, vmax = float(volume.min()), float(volume.max())
    sliders = [widgets.IntSlider(value=n // 2, min=0, max=n - 1, description=f"axis {a} ({axcodes[a]})",
                                 continuous_update=False) for a, n in enumerate(volume.shape)]
    image = widgets.Image(format="png")

    # 2. redraw on every change
    def render(_change: object = None) -> None:
        fig = show_orthogonal_slices(volume, [s.value for s in sliders], spacing=spacing, axcodes=axcodes,
                                     vmin=vmin, vmax=vmax, convention=convention)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=72)
        image.value = buffer.getvalue()

    for slider in sliders:
        slider.observe(render, names="value")
    render()
    # 3. layout
    return widgets.VBox([*sliders, image])
