"""Figure for lesson 14_nnunet_monai: what a 3D U-Net, UNETR and Swin UNETR cost on one 96³ volume.

    plot_segmenter_costs(rows)   three bar panels on log scales: parameters (M), GFLOPs, activation
                                 memory (MB) of one forward pass, one bar per model

The rows are those of :func:`course.nn.segmenter_costs.segmenter_costs` (this module computes
nothing, so it imports no network). FLOPs follow ``course.counting``: 2 per multiply-accumulate.
Returns a :class:`course.viz._figure.PngFigure` (a notebook draws it as PNG); never calls ``plt.show()``.

Source: matplotlib (https://matplotlib.org), object-oriented interface.
"""
from __future__ import annotations

from collections.abc import Sequence

from matplotlib import colormaps
from matplotlib.figure import Figure

from course.viz._figure import PngFigure

__all__ = ["plot_segmenter_costs", "COST_PANELS"]

COST_PANELS = (  # (row key, scale to the unit shown, panel title)
    ("params", 1e-6, "parameters (M)"),
    ("flops", 1e-9, "GFLOPs per forward (2 per MAC)"),
    ("activation_bytes", 1e-6, "activation memory (MB)"),
)


def plot_segmenter_costs(rows: Sequence[dict], *, title: str | None = None) -> Figure:
    """Bars on log scales of the parameters, FLOPs and activation memory of each model.

    Args:
        rows: dicts with keys ``model`` (str), ``params``, ``flops``, ``activation_bytes`` (positive
            numbers: counts, FLOPs, bytes), e.g. ``segmenter_costs()``.
        title: figure title, or None (a title naming one forward pass of one volume).

    Returns:
        A PngFigure with 3 axes in the order of ``COST_PANELS``; each has one bar per row (x tick
        labels: the model names, in the rows' order), a log y axis, and the bar's value written on it.

    Raises:
        ValueError: no rows, a row without one of the keys, or a value that is not > 0 (a log scale
            cannot show it).
    """
    # 1. validate: every row has a name and three positive numbers
    if not rows:
        raise ValueError("rows is empty; pass segmenter_costs() (one dict per model)")
    for row in rows:
        missing = [k for k in ("model", *(key for key, _, _ in COST_PANELS)) if k not in row]
        if missing:
            raise ValueError(f"row {row!r} lacks {missing}; rows come from course.nn.segmenter_costs.segmenter_costs")
        if not all(row[key] > 0 for key, _, _ in COST_PANELS):
            raise ValueError(f"row of {row['model']!r} has a value <= 0, which a log scale cannot show: {row!r}")
    # 2. one panel per cost, one bar per model, same colour per model across panels
    names = [str(row["model"]) for row in rows]
    colors = [colormaps["tab10"](i % 10) for i in range(len(rows))]
    fig = PngFigure(figsize=(4 * len(COST_PANELS), 3.4), layout="constrained")
    axes = fig.subplots(1, len(COST_PANELS))
    for ax, (key, scale, label) in zip(axes, COST_PANELS):
        values = [row[key] * scale for row in rows]
        bars = ax.bar(names, values, color=colors, edgecolor="black", linewidth=0.5)
        ax.set_yscale("log")
        ax.set_title(label, fontsize=10)
        ax.bar_label(bars, labels=[f"{v:,.1f}" if v < 100 else f"{v:,.0f}" for v in values], fontsize=8)
        ax.set_ylim(min(values) / 3, max(values) * 3)  # room for the labels above the bars
        ax.tick_params(axis="x", labelsize=8)
    # 3. title
    fig.suptitle(title if title is not None else "one forward pass of one volume", fontsize=11)
    return fig
