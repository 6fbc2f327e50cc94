"""Figures for lesson 13_video_tasks: detection timelines, tracks over frames, masks over frames, and
diagrams of SAM 2 and of a video diffusion model.

    plot_timeline(num_frames, true_segments, ...)   a stream's true and predicted intervals, by class
    show_tracks(video, tracks, frames)              boxes drawn over frames, one colour per track id
    show_masks(video, masks, frames)                predicted masks (filled) and true masks (outline)
    render_tracks(video, tracks)                    the boxes burnt into RGB frames, for clip_player
    video_models_diagram()                          SAM 2's memory bank; a video diffusion model's
                                                    space-time latent (C, T, H, W)

Every function returns a :class:`course.viz._figure.PngFigure` (a notebook draws it as PNG) and never
calls ``plt.show()``. Segments are ``[start, end)`` in frames (the convention of
``course.video.detection``), boxes ``[x1, y1, x2, y2]`` in pixels (``course.video.tracking``).

Source: matplotlib (https://matplotlib.org), object-oriented interface; the diagrams follow Ravi et al.
2024 ("SAM 2: Segment Anything in Images and Videos", Fig. 3 and Sec. 4) and Ho et al. 2022 ("Video
Diffusion Models", pixel space), Blattmann et al. 2023 ("Align your Latents"; "Stable Video Diffusion").
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from course.viz._figure import PngFigure

__all__ = ["plot_timeline", "show_tracks", "show_masks", "render_tracks", "video_models_diagram", "id_color"]


def id_color(track_id: int) -> tuple[float, float, float, float]:
    """The RGBA colour of a track id (or class index): matplotlib's ``tab10``, cycling every 10 ids."""
    return colormaps["tab10"](int(track_id) % 10)


def _segments(x: torch.Tensor | np.ndarray | Sequence, name: str) -> np.ndarray:
    """(K, 2) float64 array of [start, end) segments, validated."""
    seg = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64).reshape(-1, 2) \
        if len(x) else np.zeros((0, 2))
    if np.any(seg[:, 1] < seg[:, 0]):
        raise ValueError(f"{name} must be (K, 2) [start, end) with start <= end, got {seg.tolist()}")
    return seg


def plot_timeline(num_frames: int, true_segments: torch.Tensor, true_labels: torch.Tensor | None = None,
                  pred_segments: torch.Tensor | None = None, pred_labels: torch.Tensor | None = None,
                  pred_scores: torch.Tensor | None = None, *, actionness: torch.Tensor | None = None,
                  snippet_starts: torch.Tensor | None = None, snippet_length: int | None = None,
                  class_names: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """A stream's timeline: true intervals on one row, predicted intervals below, coloured by class.

    A predicted interval's opacity is its score (when given). With ``actionness`` a second panel shows
    the per-snippet actionness as a step curve over the frames each snippet covers.

    Args:
        num_frames: T, the length of the stream in frames (the x axis is [0, T]).
        true_segments: (K, 2) float [start, end) frames of the ground truth.
        true_labels: (K,) int64 class of each true segment (1..C; None: all drawn in one colour).
        pred_segments: (P, 2) float [start, end) frames of the detections, or None.
        pred_labels: (P,) int64 classes of the detections, or None.
        pred_scores: (P,) float scores in [0, 1] (opacity), or None (opaque).
        actionness: (S,) float per-snippet actionness in [0, 1], or None (no second panel).
        snippet_starts: (S,) int first frame of each snippet (needed with ``actionness``).
        snippet_length: frames per snippet (needed with ``actionness``).
        class_names: names of classes 1..C for the legend, or None ("class c").
        title: figure title, or None.

    Returns:
        A PngFigure: axes 0 the timeline (one ``Rectangle`` patch per interval, row "truth" at y = 1,
        row "predicted" at y = 0), axes 1 the actionness (when given).

    Raises:
        ValueError: num_frames < 1, segments not (K, 2) with start <= end, labels or scores of another
            length, or actionness without snippet_starts/snippet_length of the same length.
    """
    # 1. validate
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    true = _segments(true_segments, "true_segments")
    pred = _segments(pred_segments, "pred_segments") if pred_segments is not None else np.zeros((0, 2))
    def as_array(v, n, name):  # noqa: ANN001, ANN202
        if v is None:
            return None
        a = np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v).reshape(-1)
        if len(a) != n:
            raise ValueError(f"{name} must have one entry per segment ({n}), got {len(a)}")
        return a
    t_lab = as_array(true_labels, len(true), "true_labels")
    p_lab = as_array(pred_labels, len(pred), "pred_labels")
    p_score = as_array(pred_scores, len(pred), "pred_scores")
    if actionness is not None and (snippet_starts is None or snippet_length is None
                                   or len(snippet_starts) != len(actionness)):
        raise ValueError("actionness needs snippet_starts of the same length and snippet_length")
    # 2. timeline rows: truth at y = 1, predictions at y = 0
    fig = PngFigure(figsize=(11, 2.6 if actionness is None else 3.8), layout="constrained")
    axes = fig.subplots(2 if actionness is not None else 1, 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": [1.3, 1] if actionness is not None else [1]})[:, 0]
    ax = axes[0]
    seen: dict[int, str] = {}
    for row, segs, labels, scores in ((1, true, t_lab, None), (0, pred, p_lab, p_score)):
        for k, (start, end) in enumerate(segs):
            c = 0 if labels is None else int(labels[k])
            alpha = 1.0 if scores is None else float(np.clip(scores[k], 0.15, 1.0))
            name = (class_names[c - 1] if class_names is not None and 1 <= c <= len(class_names) else f"class {c}")
            ax.add_patch(Rectangle((start, row - 0.35), max(end - start, 0.5), 0.7, facecolor=id_color(c),
                                   alpha=alpha, edgecolor="black", linewidth=0.5,
                                   label=None if c in seen else name))
            seen.setdefault(c, name)
    ax.set_xlim(0, num_frames)
    ax.set_ylim(-0.6, 1.6)
    ax.set_yticks([0, 1], ["predicted", "truth"])
    if seen and t_lab is not None:
        ax.legend(loc="upper right", fontsize=8, ncols=len(seen), framealpha=0.9)
    # 3. actionness as steps over each snippet's frames
    if actionness is not None:
        act = np.asarray(actionness.detach().cpu() if isinstance(actionness, torch.Tensor) else actionness, float)
        starts = np.asarray(snippet_starts.detach().cpu() if isinstance(snippet_starts, torch.Tensor)
                            else snippet_starts, float)
        axes[1].step(starts + snippet_length / 2, act, where="mid", color="black", linewidth=1)
        axes[1].set_ylim(-0.05, 1.05)
        axes[1].set_ylabel("actionness", fontsize=8)
    axes[-1].set_xlabel("frame")
    if title:
        fig.suptitle(title)
    return fig


def _frames_grey(video: torch.Tensor) -> np.ndarray:
    """(T, 1, H, W) or (T, H, W) float video → (T, H, W) numpy in [0, 1]."""
    if video.dim() == 4 and video.shape[1] == 1:
        video = video[:, 0]
    if video.dim() != 3:
        raise ValueError(f"video must be (T, 1, H, W) or (T, H, W) grey frames, got {tuple(video.shape)}")
    return video.detach().cpu().float().clamp(0, 1).numpy()


def _grid(fig: Figure, n: int, ncols: int) -> list:
    rows, cols = math.ceil(n / ncols), min(ncols, n)
    axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    for ax in axes:
        ax.set_axis_off()
    return axes[:n]


def _check_frames(frames: Sequence[int], T: int) -> list[int]:
    positions = [int(t) for t in frames]
    bad = [t for t in positions if not 0 <= t < T]
    if bad or not positions:
        raise ValueError(f"frames {bad or '[]'} do not select frames of a video of T={T} frames")
    return positions


def show_tracks(video: torch.Tensor, tracks: Sequence[tuple[torch.Tensor, torch.Tensor]], frames: Sequence[int], *,
                ncols: int = 6, title: str | None = None) -> Figure:
    """Boxes of a tracker (or of the ground truth) drawn over frames, one colour and label per track id.

    A swap of colours between two frames is an identity switch, visible at a glance.

    Args:
        video: (T, 1, H, W) float grey frames in [0, 1].
        tracks: a list over the T frames of ``(track_ids (K,) int64, boxes (K, 4) float [x1, y1, x2, y2]
            pixels)`` (the output of ``course.video.tracking.sort`` / ``bytetrack``).
        frames: which frames to show, in order.
        ncols: panels per row, >= 1.
        title: figure title, or None.

    Returns:
        A PngFigure with one panel per shown frame; each box is a ``Rectangle`` whose edge colour is
        :func:`id_color` of its id, labelled with the id.

    Raises:
        ValueError: the video is not grey frames, ``tracks`` does not have one entry per frame, a frame
            index is outside [0, T), or ncols < 1.
    """
    images = _frames_grey(video)
    T, H, W = images.shape
    if len(tracks) != T:
        raise ValueError(f"tracks must have one (ids, boxes) entry per frame ({T}), got {len(tracks)}")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    positions = _check_frames(frames, T)
    rows = math.ceil(len(positions) / ncols)
    fig = PngFigure(figsize=(2.0 * min(ncols, len(positions)), 2.0 * rows * H / W + (0.4 if title else 0.1)),
                    layout="constrained")
    for ax, t in zip(_grid(fig, len(positions), ncols), positions):
        ax.imshow(images[t], cmap="gray", vmin=0, vmax=1)
        ids, boxes = tracks[t]
        for i, (x1, y1, x2, y2) in zip(torch.as_tensor(ids).tolist(), torch.as_tensor(boxes).tolist()):
            # pixel centres sit at integer coordinates in imshow: a box [x1, x2) spans x1 - 0.5 .. x2 - 0.5
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=id_color(i),
                                   linewidth=1.5))
            ax.text(x1 - 0.5, y1 - 1, str(i), color=id_color(i), fontsize=8, fontweight="bold", va="bottom")
        ax.set_title(f"t = {t}", fontsize=9)
        ax.set_xlim(-0.5, W - 0.5)
        ax.set_ylim(H - 0.5, -0.5)
    if title:
        fig.suptitle(title)
    return fig


def render_tracks(video: torch.Tensor, tracks: Sequence[tuple[torch.Tensor, torch.Tensor]], *,
                  scale: int = 4, line: int = 1) -> torch.Tensor:
    """Draw each frame's boxes into the frame itself: an RGB clip for ``course.viz.video.clip_player``.

    The figure :func:`show_tracks` draws boxes as matplotlib patches on a few chosen frames (the
    static twin); this function paints them into the pixels of every frame, so the tracks can be
    played. The grey frames are first enlarged ``scale`` times (nearest neighbour, so one frame pixel
    becomes a scale × scale block and a 1-pixel outline stays thin), then each box's outline is
    painted in :func:`id_color` of its id: a box [x1, y1, x2, y2] covers the enlarged pixels
    round(x1 · scale) … round(x2 · scale) − 1 and likewise in y, and the outline is the ``line``
    outermost pixels of that rectangle. Boxes are clipped to the canvas; a box wholly outside is
    skipped. Later boxes of a frame are drawn over earlier ones.

    Args:
        video: (T, 1, H, W) or (T, H, W) float grey frames in [0, 1].
        tracks: a list over the T frames of ``(track_ids (K,) int, boxes (K, 4) float [x1, y1, x2, y2]
            pixels)``, e.g. the output of ``course.video.tracking.sort`` / ``bytetrack``.
        scale: integer enlargement of each frame, >= 1.
        line: outline thickness in enlarged pixels, >= 1.

    Returns:
        (T, 3, H · scale, W · scale) float32 RGB frames in [0, 1].

    Raises:
        ValueError: the video is not grey frames, ``tracks`` does not have one entry per frame, a box is
            not (K, 4) with x1 <= x2 and y1 <= y2, or scale / line < 1.
    """
    images = _frames_grey(video)
    T, H, W = images.shape
    if len(tracks) != T:
        raise ValueError(f"tracks must have one (ids, boxes) entry per frame ({T}), got {len(tracks)}")
    if isinstance(scale, bool) or int(scale) != scale or scale < 1 or isinstance(line, bool) or int(line) != line \
            or line < 1:
        raise ValueError(f"scale and line must be integers >= 1, got scale={scale!r}, line={line!r}")
    scale, line = int(scale), int(line)
    # 1. enlarge (nearest neighbour) and make RGB: (T, 3, H·scale, W·scale)
    big = np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)
    rgb = np.repeat(big[:, None], 3, axis=1).astype(np.float32)
    Hs, Ws = H * scale, W * scale
    # 2. paint each box's outline in its id's colour
    for t, (ids, boxes) in enumerate(tracks):
        ids = torch.as_tensor(ids).reshape(-1)
        boxes = torch.as_tensor(boxes, dtype=torch.float64)
        boxes = boxes.reshape(-1, 4) if boxes.numel() == 0 else boxes
        if boxes.dim() != 2 or boxes.shape[1] != 4 or len(boxes) != len(ids):
            raise ValueError(f"frame {t}: tracks must be (ids (K,), boxes (K, 4)), got shapes {tuple(ids.shape)} "
                             f"and {tuple(boxes.shape)}")
        if bool(((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])).any()):
            raise ValueError(f"frame {t} has a box with x2 < x1 or y2 < y1: boxes are [x1, y1, x2, y2]")
        for i, box in zip(ids.tolist(), boxes.tolist()):
            x1, y1, x2, y2 = (int(round(v * scale)) for v in box)
            x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, Ws), min(y2, Hs)
            if x1 >= x2 or y1 >= y2:
                continue  # outside the canvas, or thinner than one enlarged pixel
            color = np.asarray(id_color(i)[:3], dtype=np.float32)[:, None, None]
            for rows, cols in ((slice(y1, min(y1 + line, y2)), slice(x1, x2)),  # top
                               (slice(max(y2 - line, y1), y2), slice(x1, x2)),  # bottom
                               (slice(y1, y2), slice(x1, min(x1 + line, x2))),  # left
                               (slice(y1, y2), slice(max(x2 - line, x1), x2))):  # right
                rgb[t, :, rows, cols] = color
    return torch.from_numpy(rgb)


def show_masks(video: torch.Tensor, masks: torch.Tensor, frames: Sequence[int], *,
               gt_masks: torch.Tensor | None = None, ncols: int = 6, title: str | None = None) -> Figure:
    """Masks over frames: the predicted mask filled in colour, the true mask as a white outline.

    Args:
        video: (T, 1, H, W) float grey frames in [0, 1].
        masks: (T, 1, H, W) predicted masks (bool or float; > 0.5 is inside).
        frames: which frames to show, in order.
        gt_masks: (T, 1, H, W) true masks, or None.
        ncols: panels per row, >= 1.
        title: figure title, or None.

    Returns:
        A PngFigure with one panel per shown frame: the frame (first image), the predicted mask as an
        RGBA overlay (second image; alpha 0.45 inside, 0 outside), and the true mask's contour.

    Raises:
        ValueError: shapes disagree, a frame index is outside [0, T), or ncols < 1.
    """
    images = _frames_grey(video)
    T, H, W = images.shape
    if masks.shape[-2:] != (H, W) or masks.reshape(-1, H, W).shape[0] != T:
        raise ValueError(f"masks must be (T, 1, H, W) = {(T, 1, H, W)}, got {tuple(masks.shape)}")
    if gt_masks is not None and gt_masks.reshape(-1, H, W).shape != (T, H, W):
        raise ValueError(f"gt_masks must be (T, 1, H, W) = {(T, 1, H, W)}, got {tuple(gt_masks.shape)}")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    positions = _check_frames(frames, T)
    inside = (masks.reshape(T, H, W).detach().cpu().float() > 0.5).numpy()
    truth = None if gt_masks is None else (gt_masks.reshape(T, H, W).detach().cpu().float() > 0.5).numpy()
    rows = math.ceil(len(positions) / ncols)
    fig = PngFigure(figsize=(2.0 * min(ncols, len(positions)), 2.0 * rows * H / W + (0.4 if title else 0.1)),
                    layout="constrained")
    for ax, t in zip(_grid(fig, len(positions), ncols), positions):
        ax.imshow(images[t], cmap="gray", vmin=0, vmax=1)
        overlay = np.zeros((H, W, 4))
        overlay[..., :3] = id_color(1)[:3]
        overlay[..., 3] = 0.45 * inside[t]
        ax.imshow(overlay)
        if truth is not None and truth[t].any() and not truth[t].all():
            ax.contour(truth[t].astype(float), levels=[0.5], colors="white", linewidths=1.0)
        ax.set_title(f"t = {t}", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def _box(ax, x: float, y: float, w: float, h: float, text: str, color: str, fontsize: int = 8) -> None:  # noqa: ANN001
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02", facecolor=color, edgecolor="black",
                                linewidth=0.8))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], style: str = "-|>", **kw) -> None:  # noqa: ANN001
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=10, linewidth=1.0, **kw))


def video_models_diagram() -> Figure:
    """Two data-flow diagrams, drawn with matplotlib patches (no model is run).

    Left, **SAM 2** (Ravi et al. 2024): each frame is encoded once (image encoder, a Hiera ViT); the
    frame's features attend to a **memory bank** of earlier frames' memories and of the prompted
    frames' memories (memory attention), then the mask decoder, fed with the prompts (clicks, boxes,
    masks), predicts the mask; a memory encoder turns the prediction into the memory of this frame,
    which joins the bank (a FIFO of recent frames plus the prompted ones) and carries the object forward
    in time, frame by frame, like a recurrent state.

    Right, **a latent video diffusion model** (Blattmann et al. 2023; Ho et al. 2022 denoise the pixels
    themselves with the same space-time design): a clip is
    encoded (frame by frame) to a latent of shape (C, T, H, W); training adds Gaussian noise at a
    random level and a space-time U-Net or transformer (spatial layers per frame, temporal layers
    across frames) learns to predict the noise, conditioned on text; sampling starts from pure
    noise (C, T, H, W) and denoises all frames together, then the decoder maps the latent to frames.

    Returns:
        A PngFigure with two axes (titles "SAM 2 ..." and "Video diffusion ...").
    """
    fig = PngFigure(figsize=(12, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    for ax in (left, right):
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 6)
        ax.set_axis_off()
    # --- SAM 2: a streaming loop over frames with a memory bank
    left.set_title("SAM 2: streaming segmentation with a memory bank", fontsize=10)
    for k, (x, label) in enumerate([(0.2, "t−2"), (1.3, "t−1"), (2.4, "frame t")]):
        _box(left, x, 4.8, 1.0, 0.8, label, "#dddddd")
    _box(left, 2.2, 3.5, 1.5, 0.8, "image encoder\n(once per frame)", "#cfe2f3", 7)
    _arrow(left, (2.9, 4.8), (2.9, 4.3))
    _box(left, 4.2, 3.5, 1.8, 0.8, "memory attention\n(self + cross)", "#f9cb9c", 7)
    _arrow(left, (3.7, 3.9), (4.2, 3.9))
    _box(left, 4.2, 1.2, 1.8, 1.3, "memory bank\nrecent frames (FIFO)\n+ prompted frames\n+ object pointers",
         "#fff2cc", 7)
    _arrow(left, (5.1, 2.5), (5.1, 3.5))
    _box(left, 6.6, 3.5, 1.6, 0.8, "mask decoder", "#d9ead3")
    _arrow(left, (6.0, 3.9), (6.6, 3.9))
    _box(left, 6.6, 5.0, 1.6, 0.7, "prompts: clicks,\nbox, mask", "#ead1dc", 7)
    _arrow(left, (7.4, 5.0), (7.4, 4.3))
    _box(left, 8.6, 3.5, 1.3, 0.8, "mask t", "#b6d7a8")
    _arrow(left, (8.2, 3.9), (8.6, 3.9))
    _box(left, 6.6, 1.5, 1.6, 0.8, "memory encoder", "#cfe2f3", 7)
    _arrow(left, (9.25, 3.5), (7.4, 2.3), connectionstyle="arc3,rad=-0.2")
    _arrow(left, (6.6, 1.9), (6.0, 1.9))
    left.text(5.0, 0.5, "the memory of frame t joins the bank and is read at frame t+1:\n"
              "an object is carried through occlusions without re-prompting", ha="center", fontsize=7.5)
    # --- video diffusion: denoise a space-time latent
    right.set_title("Video diffusion: denoise a space-time latent", fontsize=10)
    for k in range(4):  # a stack of T latent frames, (C, T, H, W)
        right.add_patch(Rectangle((0.4 + 0.25 * k, 2.4 + 0.25 * k), 1.4, 1.4, facecolor="#cccccc",
                                  edgecolor="black", linewidth=0.8))
    right.text(1.5, 1.9, "noise z_T\n(C, T, H, W)", ha="center", fontsize=8)
    _box(right, 3.0, 2.6, 2.6, 1.6, "space-time denoiser\nspatial layers per frame\n+ temporal layers\n"
         "across frames", "#f9cb9c", 7.5)
    _arrow(right, (2.6, 3.3), (3.0, 3.3))
    _box(right, 3.2, 4.9, 2.2, 0.7, "text prompt\n(text encoder)", "#ead1dc", 7.5)
    _arrow(right, (4.3, 4.9), (4.3, 4.2))
    right.text(4.3, 2.05, "repeat for t = T … 1:\nz_{t−1} from z_t and the predicted noise", ha="center",
               fontsize=7.5)
    for k in range(4):
        right.add_patch(Rectangle((6.2 + 0.25 * k, 2.4 + 0.25 * k), 1.4, 1.4, facecolor="#b6d7a8",
                                  edgecolor="black", linewidth=0.8))
    _arrow(right, (5.6, 3.3), (6.2, 3.3))
    right.text(7.3, 1.9, "clean latent z_0\n(C, T, H, W)", ha="center", fontsize=8)
    _box(right, 8.4, 2.8, 1.4, 0.9, "decoder\n→ T frames", "#cfe2f3", 8)
    _arrow(right, (8.35, 3.3), (8.4, 3.3))
    right.text(5.0, 0.5, "all T frames are denoised together: motion is made consistent by the temporal\n"
               "layers, not predicted one frame after another", ha="center", fontsize=7.5)
    return fig
