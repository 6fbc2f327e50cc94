"""Figures for video: a grid of clip frames, and a timeline of which frames each sampler picks.

    show_frames(clip)                           frames of a (T, C, H, W) clip in a grid
    plot_sampled_indices(index_sets, total)     one row per sampler, a dot at every sampled frame
    clip_player(clip)                           ipywidgets player: Play button, frame slider, the frame

The figures return a ``matplotlib.figure.Figure`` and never call ``plt.show()``; a notebook displays
the returned figure. The player's static twin is :func:`show_frames`.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot), so they work on
any backend, including Agg in tests, and do not pile up in pyplot's list of open figures.

Source: matplotlib (https://matplotlib.org), object-oriented interface.
"""
from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from course.viz._figure import PngFigure

__all__ = ["show_frames", "plot_sampled_indices", "clip_player"]


def show_frames(clip: torch.Tensor, indices: Sequence[int] | torch.Tensor | None = None, *,
                ncols: int = 8, title: str | None = None) -> Figure:
    """A grid of frames of a clip, each titled with its position in the clip.

    Args:
        clip: (T, C, H, W) frames, C = 1 (grey) or 3 (RGB); uint8 in 0..255 or float in [0, 1]
            (floats are clipped to [0, 1]).
        indices: positions along T to show, in order; None shows every frame.
        ncols: panels per row, >= 1.
        title: figure title, or None.

    Returns:
        A Figure with one image panel per shown frame (unused panels of the last row are hidden).

    Raises:
        ValueError: ``clip`` is not 4-D with C in {1, 3}, an index is outside [0, T), or ncols < 1.
    """
    # 1. validate
    if clip.dim() != 4 or clip.shape[1] not in (1, 3):
        raise ValueError(f"show_frames expects a (T, C, H, W) clip with C = 1 or 3, got shape "
                         f"{tuple(clip.shape)}; convert a (C, T, H, W) clip with "
                         "course.video.to_frame_layout")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    T = clip.shape[0]
    positions = list(range(T)) if indices is None else [int(i) for i in indices]
    bad = [i for i in positions if not 0 <= i < T]
    if bad or not positions:
        raise ValueError(f"indices {bad or '[]'} do not select frames of a clip of T={T} frames")
    # 2. frames as (H, W, C) numpy images in [0, 1] or 0..255
    frames = clip.detach().cpu()
    frames = frames.float().clamp(0, 1) if frames.is_floating_point() else frames
    # 3. grid
    rows, cols = math.ceil(len(positions) / ncols), min(ncols, len(positions))
    H, W = clip.shape[2], clip.shape[3]
    height_in = 2.0 * rows * H / W + (0.4 if title else 0.0)  # inches, 2 in per panel width
    fig = PngFigure(figsize=(2.0 * cols, height_in), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, t in zip(axes.flat, positions):
        image = frames[t].permute(1, 2, 0).numpy()  # (C, H, W) → (H, W, C)
        if image.shape[2] == 1:
            vmax = 1 if clip.is_floating_point() else 255
            ax.imshow(image[:, :, 0], cmap="gray", vmin=0, vmax=vmax)
        else:
            ax.imshow(image)
        ax.set_title(f"t = {t}", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plot_sampled_indices(index_sets: Mapping[str, torch.Tensor | Sequence[int]],
                         total_frames: int) -> Figure:
    """A timeline of the frames each sampler picks: one row per sampler, one dot per sampled frame.

    A 2-D index set (num_clips, num_frames), e.g. from ``multi_clip_indices``, is drawn as one
    colour per clip on its row. A frame picked several times is drawn once, with its count.

    Args:
        index_sets: sampler name → (num_frames,) or (num_clips, num_frames) integer frame indices.
        total_frames: frames in the video; the x axis spans 0..total_frames - 1.

    Returns:
        A Figure with one Axes; row r (y = r, from the top) shows ``index_sets``' r-th entry.

    Raises:
        ValueError: empty ``index_sets``, total_frames < 1, or an index outside [0, total_frames).
    """
    # 1. validate
    if not index_sets:
        raise ValueError("index_sets is empty; pass e.g. {'uniform': uniform_stride_indices(...)}")
    if total_frames < 1:
        raise ValueError(f"total_frames must be >= 1, got {total_frames}")
    # 2. one row per sampler: the whole video as a grey bar, sampled frames as dots
    names = list(index_sets)
    fig = PngFigure(figsize=(10, 0.6 * len(names) + 1.2), layout="constrained")
    ax = fig.subplots()
    for row, name in enumerate(names):
        clips = torch.atleast_2d(torch.as_tensor(index_sets[name]))  # (num_clips, num_frames)
        if clips.dim() != 2:
            raise ValueError(f"{name!r} must be 1-D or 2-D indices, got shape {tuple(clips.shape)}")
        if clips.numel() and (clips.min() < 0 or clips.max() >= total_frames):
            raise ValueError(f"{name!r} holds indices outside [0, {total_frames}): "
                             f"min {int(clips.min())}, max {int(clips.max())}")
        ax.plot([0, total_frames - 1], [row, row], color="0.85", linewidth=6, solid_capstyle="butt",
                zorder=0)
        for k, clip in enumerate(clips):
            frames, counts = torch.unique(clip, return_counts=True)
            ax.scatter(frames.numpy(), [row] * len(frames), s=25, color=f"C{k % 10}", zorder=2)
            for f, c in zip(frames.tolist(), counts.tolist()):
                if c > 1:
                    ax.annotate(f"×{c}", (f, row), textcoords="offset points", xytext=(0, 6),
                                ha="center", fontsize=7)
    # 3. axes
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(-0.5, total_frames - 0.5)
    ax.set_xlabel(f"frame index (video of {total_frames} frames)")
    return fig


def _frame_png(frame: np.ndarray) -> bytes:
    """PNG bytes of one (H, W, 3) uint8 frame."""
    import matplotlib.image

    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, frame, format="png")
    return buffer.getvalue()


def clip_player(clip: torch.Tensor, *, fps: float = 8.0, width_px: int = 480, description: str = "frame"):  # noqa: ANN201
    """Play a clip in the notebook: an ``ipywidgets.Play`` button linked to a frame slider and the frame.

    Frames are encoded to PNG once, up front, so playing only swaps bytes. Static twin:
    :func:`show_frames` (an executed notebook shows that figure; the player needs a live kernel).

    Args:
        clip: (T, C, H, W) frames, C = 1 or 3; uint8 in 0..255 or float in [0, 1] (clipped).
        fps: playback speed, frames per second (> 0).
        width_px: displayed width of the frame in pixels; the height follows the aspect ratio.
        description: the slider's label.

    Returns:
        An ``ipywidgets.VBox`` whose children are ``HBox([Play, IntSlider])`` and the ``Image``.
        Moving the slider (mouse, arrow keys or Play) shows that frame.

    Raises:
        ValueError: ``clip`` is not (T, C, H, W) with C in {1, 3}, T < 1, or ``fps`` <= 0.
    """
    import ipywidgets as widgets

    # 1. validate
    if clip.dim() != 4 or clip.shape[1] not in (1, 3) or clip.shape[0] < 1:
        raise ValueError(f"clip_player expects a (T, C, H, W) clip with T >= 1 and C = 1 or 3, got shape "
                         f"{tuple(clip.shape)}; convert a (C, T, H, W) clip with course.video.to_frame_layout")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    # 2. frames → (T, H, W, 3) uint8 → PNG bytes
    frames = clip.detach().cpu()
    if frames.is_floating_point():
        frames = (frames.float().clamp(0, 1) * 255).round()
    frames = frames.to(torch.uint8).permute(0, 2, 3, 1).expand(-1, -1, -1, 3).numpy()  # (T, H, W, 3)
    pngs = [_frame_png(np.ascontiguousarray(f)) for f in frames]
    # 3. widgets: Play drives the slider, the slider picks the frame
    T = len(pngs)
    play = widgets.Play(value=0, min=0, max=T - 1, step=1, interval=max(1, int(1000 / fps)), description="play")
    slider = widgets.IntSlider(value=0, min=0, max=T - 1, step=1, description=description,
                               layout=widgets.Layout(width=f"{max(width_px, 200)}px"))
    widgets.jslink((play, "value"), (slider, "value"))
    image = widgets.Image(value=pngs[0], format="png", layout=widgets.Layout(width=f"{width_px}px"))

    def show(change: dict) -> None:
        image.value = pngs[change["new"]]

    slider.observe(show, names="value")
    return widgets.VBox([widgets.HBox([play, slider]), image])
