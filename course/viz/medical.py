"""Figures and a viewer for CT in Hounsfield units: display windows side by side, slices of a volume.

Display convention: axial slices are shown the **radiological** way (as if looking up at the patient
from the feet: anterior at the top, the patient's left on the image's right), the convention of
radiology workstations; the **neurological** one (looking down from the head: the patient's left on
the image's left) is common in brain research software. :func:`axial_for_display` flips a slice
into either, given the patient directions in which its row and column indices grow.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state, so nothing is shown twice or
kept alive); Jupyter shows a returned figure when it is a cell's last expression, and
``fig.savefig(...)`` works anywhere. The interactive :func:`window_explorer` has
:func:`show_windows` as its static twin.
"""
from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib.image
import numpy as np
from matplotlib.figure import Figure

from course.medical.hounsfield import WINDOW_PRESETS, apply_window, window_preset
from course.viz._figure import PngFigure

__all__ = ["show_windows", "window_explorer", "show_volume_slices", "axial_for_display", "CONVENTIONS"]

Window = str | tuple[float, float]  # a preset name or (window_center, window_width) in HU


#: Display conventions for axial slices, name -> the patient direction on the image's right.
CONVENTIONS: dict[str, str] = {
    "radiological": "L",  # viewed from the feet: patient's left on the image's right (radiology)
    "neurological": "R",  # viewed from the head: patient's left on the image's left
}
_OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A"}


def axial_for_display(image: np.ndarray, *, columns_toward: str = "L", rows_toward: str = "P",
                      convention: str = "radiological") -> np.ndarray:
    """An axial slice flipped so that ``imshow`` (origin "upper") shows it in a display convention.

    Both conventions put anterior at the top; "radiological" puts the patient's left on the image's
    right (as seen from the feet), "neurological" on the image's left (as seen from the head).
    Examples: a DICOM axial slice with ImageOrientationPatient (1, 0, 0, 0, 1, 0) has columns toward
    L and rows toward P (LPS), so it is already radiological; a slice ``data[:, :, k].T`` of a
    RAS-canonical NIfTI (nibabel) has columns toward R and rows toward A, so both axes flip.

    Args:
        image: (H, W) axial slice (any dtype); row index grows toward ``rows_toward``, column index
            toward ``columns_toward``.
        columns_toward: "L" or "R", the patient direction in which the column index grows.
        rows_toward: "A" or "P", the patient direction in which the row index grows.
        convention: "radiological" or "neurological" (see :data:`CONVENTIONS`).

    Returns:
        (H, W) view of ``image``, flipped left-right and/or up-down as needed.

    Raises:
        ValueError: ``image`` is not 2D, a direction is not one of those letters, or the convention
            is unknown.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"expected an axial slice (H, W), got shape {image.shape}")
    if columns_toward not in ("L", "R") or rows_toward not in ("A", "P") or convention not in CONVENTIONS:
        raise ValueError(f"columns_toward must be 'L' or 'R', rows_toward 'A' or 'P', convention one of "
                         f"{', '.join(CONVENTIONS)}; got {columns_toward!r}, {rows_toward!r}, {convention!r}")
    if columns_toward != CONVENTIONS[convention]:  # the image's right must be this direction
        image = image[:, ::-1]
    if rows_toward != "P":  # row index must grow downwards toward posterior: anterior at the top
        image = image[::-1, :]
    return image


def _middle_slice(hu: np.ndarray) -> np.ndarray:
    """(H, W) as given, or the middle slice of a (D, H, W) volume."""
    hu = np.asarray(hu)
    if hu.ndim == 3:
        return hu[hu.shape[0] // 2]
    if hu.ndim != 2:
        raise ValueError(f"expected a slice (H, W) or a volume (D, H, W) in HU, got shape {hu.shape}")
    return hu


def _window(window: Window) -> tuple[str, float, float]:
    """(label, center, width) of a preset name or a (center, width) pair."""
    center, width = window_preset(window) if isinstance(window, str) else window
    name = window if isinstance(window, str) else "window"
    return f"{name} (C {center:g}, W {width:g})", float(center), float(width)


def show_windows(hu: np.ndarray, presets: tuple[Window, ...] = ("lung", "mediastinum", "bone"), *,
                 title: str | None = None) -> Figure:
    """The same CT slice raw (min..max) and through each display window, side by side.

    Args:
        hu: (H, W) slice or (D, H, W) volume (its middle slice is shown), HU.
        presets: window preset names (see :data:`~course.medical.hounsfield.WINDOW_PRESETS`) or
            (window_center, window_width) pairs in HU.
        title: figure title.

    Returns:
        A Figure with ``1 + len(presets)`` image axes (raw first), each windowed with
        :func:`~course.medical.hounsfield.apply_window` (DICOM PS3.3 C.11.2.1.2.1).

    Raises:
        ValueError: ``hu`` is not 2D or 3D. KeyError: an unknown preset name.
    """
    image = _middle_slice(hu)  # (H, W)
    windows = [_window(w) for w in presets]
    fig = PngFigure(figsize=(3.2 * (1 + len(windows)), 3.6), layout="constrained")
    axes = fig.subplots(1, 1 + len(windows), squeeze=False)[0]
    axes[0].imshow(image, cmap="gray")
    axes[0].set_title(f"raw ({image.min():.0f}..{image.max():.0f} HU)", fontsize=9)
    for ax, (label, center, width) in zip(axes[1:], windows):
        ax.imshow(apply_window(image, center, width), cmap="gray", vmin=0, vmax=1)
        ax.set_title(label, fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig


def show_volume_slices(volume: np.ndarray, axis: int = 0, num: int = 6, *,
                       window: Window | None = None, spacing: tuple[float, float, float] | None = None,
                       title: str | None = None) -> Figure:
    """Evenly spaced slices of a volume along one axis, on one shared grey scale.

    Slices along axis 1 or 2 (coronal and sagittal for an axial series) are drawn with slice 0 at
    the bottom, so that the head (the last slice of an axial series) is at the top.

    Args:
        volume: (D, H, W), HU (or any intensity when ``window`` is None).
        axis: 0, 1 or 2 (slice, row or column axis).
        num: number of slices, at most the size of that axis (fewer are shown for a thin axis);
            slice ``floor((i + 0.5) * size / num)`` for i = 0..num-1, so num=1 shows the middle one.
        window: a preset name or (window_center, window_width); None scales the whole volume's
            min..max to black..white.
        spacing: (3,) voxel spacing in mm in the volume's axis order, to draw pixels with their true
            aspect ratio (a 2.5 mm slice is 3x taller than a 0.8 mm pixel); None draws square pixels.
        title: figure title.

    Returns:
        A Figure with one image axis per shown slice, titled with its index.

    Raises:
        ValueError: ``volume`` is not 3D, ``axis`` not in 0..2, or ``num`` < 1.
    """
    volume = np.asarray(volume)
    if volume.ndim != 3 or axis not in (0, 1, 2) or num < 1:
        raise ValueError(f"expected a (D, H, W) volume, axis 0..2 and num >= 1, "
                         f"got shape {volume.shape}, axis={axis}, num={num}")
    # 1. indices: the centres of num equal parts of the axis (num=1: the middle slice)
    size = volume.shape[axis]
    num = min(num, size)
    indices = np.floor((np.arange(num) + 0.5) * size / num).astype(int)
    # 2. one grey scale for all slices
    if window is not None:
        _, center, width = _window(window)
        volume, vmin, vmax = apply_window(volume, center, width), 0.0, 1.0
    else:
        vmin, vmax = float(volume.min()), float(volume.max())
    # 3. draw: the image's vertical and horizontal axes are the two axes other than `axis`
    vertical, horizontal = [a for a in range(3) if a != axis]
    aspect = 1.0 if spacing is None else spacing[vertical] / spacing[horizontal]
    fig = PngFigure(figsize=(2.6 * len(indices), 3.0), layout="constrained")
    axes = fig.subplots(1, len(indices), squeeze=False)[0]
    for ax, index in zip(axes, indices):
        ax.imshow(np.take(volume, index, axis=axis), cmap="gray", vmin=vmin, vmax=vmax,
                  aspect=aspect, origin="upper" if axis == 0 else "lower")
        ax.set_title(f"axis {axis}, index {index}", fontsize=9)
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig


def _png(image01: np.ndarray, min_size: int = 0) -> bytes:
    """PNG bytes of a (H, W) image in [0, 1], pixels repeated (nearest neighbour) until the longer side
    reaches ``min_size``, so that a browser shows a small image enlarged with sharp pixels."""
    factor = max(1, -(-min_size // max(image01.shape)))  # ceil(min_size / longer side)
    if factor > 1:
        image01 = np.repeat(np.repeat(image01, factor, axis=0), factor, axis=1)
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, image01, cmap="gray", vmin=0.0, vmax=1.0, format="png")
    return buffer.getvalue()


EXPLORER_IMAGE_PX = 440  # the image's displayed width: it and the 420 px controls fit a 1280x800 screen
EXPLORER_CONTROLS_PX = 420  # width of the sliders (a track of ~300 px after label and readout)
EXPLORER_CENTER_RANGE = (-1000.0, 1500.0)  # HU: lung (-600) to bone (400) windows and beyond, 1 HU steps
EXPLORER_WIDTH_RANGE = (1.0, 4000.0)  # HU, on a log scale: equal drags change the width by equal ratios
EXPLORER_WIDTH_STEP = 0.01  # log10 units: one step (arrow key) changes the width by 2.3 %


def window_explorer(hu: np.ndarray, *, center: float = 40.0, width: float = 400.0) -> widgets.Box:
    """An interactive display window: preset menu, center and width sliders, slice slider, image.

    Laid out for a 1280x800 screen: the controls (``EXPLORER_CONTROLS_PX`` wide) beside the image
    (shown ``EXPLORER_IMAGE_PX`` wide), wrapping the image below them in a narrower window. The
    center slider moves in 1 HU steps over ``EXPLORER_CENTER_RANGE``; the width slider is
    logarithmic (``FloatLogSlider``) over 1..4000 HU, so a drag changes the width by a ratio: fine
    steps for a narrow brain window (80 HU), coarse ones for a lung window (1500 HU). The preset
    menu sets center and width; editing either by hand switches it to "custom" (or to the preset
    whose values were reached). A line under the sliders says which HU become black and white.

    The image is a PNG in an ``ipywidgets.Image``, re-rendered (with
    :func:`~course.medical.hounsfield.apply_window`) when a control is released
    (``continuous_update=False``). Building the widget needs no running kernel; a kernel makes it
    interactive. Static twin: :func:`show_windows`.

    Args:
        hu: (H, W) slice or (D, H, W) volume, HU.
        center: initial window_center, HU (the slider's range is widened to include it).
        width: initial window_width, HU, 1..4000.

    Returns:
        A ``Box`` (flex row, wrapping) of two children: a ``VBox`` of the controls — preset
        Dropdown, center FloatSlider, width FloatLogSlider, a slice IntSlider for a volume, and an
        HTML line with the window's black and white levels — and the Image.

    Raises:
        ValueError: ``hu`` is not 2D or 3D, or ``width`` is outside 1..4000 HU.
    """
    # 1. data and controls
    volume = np.asarray(hu, dtype=np.float32)
    if volume.ndim not in (2, 3):
        raise ValueError(f"expected a slice (H, W) or a volume (D, H, W) in HU, got shape {volume.shape}")
    lo_width, hi_width = EXPLORER_WIDTH_RANGE
    if not lo_width <= width <= hi_width:
        raise ValueError(f"window width {width} HU is outside {lo_width:g}..{hi_width:g} HU")
    volume = volume[None] if volume.ndim == 2 else volume  # (D, H, W)
    slider_layout, style = widgets.Layout(width=f"{EXPLORER_CONTROLS_PX}px"), {"description_width": "56px"}
    preset = widgets.Dropdown(options=["custom", *WINDOW_PRESETS], value=_preset_name(center, width),
                              description="preset", layout=slider_layout, style=style)
    center_slider = widgets.FloatSlider(value=center, min=min(EXPLORER_CENTER_RANGE[0], center),
                                        max=max(EXPLORER_CENTER_RANGE[1], center), step=1.0,
                                        description="center", readout_format=".0f",
                                        continuous_update=False, layout=slider_layout, style=style)
    width_slider = widgets.FloatLogSlider(value=width, base=10.0, min=np.log10(lo_width),
                                          max=np.log10(hi_width), step=EXPLORER_WIDTH_STEP,
                                          description="width", readout_format=".0f",
                                          continuous_update=False, layout=slider_layout, style=style)
    slice_slider = widgets.IntSlider(value=len(volume) // 2, min=0, max=len(volume) - 1,
                                     description="slice", continuous_update=False,
                                     layout=slider_layout, style=style)
    levels = widgets.HTML(layout=slider_layout)
    size = max(volume.shape[1:])
    image = widgets.Image(format="png", width=str(EXPLORER_IMAGE_PX),
                          layout=widgets.Layout(width=f"{EXPLORER_IMAGE_PX}px", height="auto"))
    setting_preset = False  # True while the preset menu itself moves the sliders

    # 2. re-render on every change; a hand edit of center or width makes the preset "custom"
    def render(_change: object = None) -> None:
        if setting_preset:
            return
        c, w = center_slider.value, width_slider.value
        levels.value = f"black below {c - w / 2:.0f} HU, white above {c + w / 2:.0f} HU"
        image.value = _png(apply_window(volume[slice_slider.value], c, w), EXPLORER_IMAGE_PX if size < 256 else 0)

    def edited(_change: object) -> None:
        if not setting_preset:
            preset.value = _preset_name(center_slider.value, width_slider.value)

    def use_preset(change: dict) -> None:
        nonlocal setting_preset
        if change["new"] not in WINDOW_PRESETS:
            return
        setting_preset = True
        try:
            center_slider.value, width_slider.value = WINDOW_PRESETS[change["new"]]
        finally:
            setting_preset = False
        render()

    for control in (center_slider, width_slider):
        control.observe(edited, names="value")
    for control in (center_slider, width_slider, slice_slider):
        control.observe(render, names="value")
    preset.observe(use_preset, names="value")
    render()
    # 3. layout: controls beside the image, wrapping below them when the window is narrow
    controls = [preset, center_slider, width_slider] + ([slice_slider] if len(volume) > 1 else []) + [levels]
    return widgets.Box([widgets.VBox(controls), image],
                       layout=widgets.Layout(display="flex", flex_flow="row wrap", align_items="flex-start"))


def _preset_name(center: float, width: float) -> str:
    """The name of the preset with exactly this (center, width), else "custom"."""
    for name, (c, w) in WINDOW_PRESETS.items():
        if np.isclose(center, c) and np.isclose(width, w):
            return name
    return "custom"
