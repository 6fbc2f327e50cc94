"""Tests of course.viz.segmenters: the cost bars of 3D U-Net, UNETR and Swin UNETR (Agg, no display)."""
from __future__ import annotations

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course.viz.segmenters import COST_PANELS, plot_segmenter_costs

ROWS = [  # the 96³ numbers of course.nn.segmenter_costs (1 → 14 channels), written out: no network is built here
    dict(model="3D U-Net", params=16_547_086, flops=399_417_606_144, activation_bytes=1_423_097_856),
    dict(model="UNETR", params=92_784_046, flops=146_448_580_608, activation_bytes=1_437_917_184),
    dict(model="Swin UNETR", params=62_187_296, flops=637_049_465_472, activation_bytes=4_940_842_920),
]


def test_one_log_panel_per_cost_with_one_bar_per_model_at_its_value():
    """Check 3 panels (params M, GFLOPs, MB), each with a bar per model at the value in that unit, on a log axis."""
    fig = plot_segmenter_costs(ROWS)
    assert isinstance(fig, Figure) and len(fig.axes) == len(COST_PANELS) == 3
    for ax, (key, scale, label) in zip(fig.axes, COST_PANELS):
        assert ax.get_title() == label and ax.get_yscale() == "log"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["3D U-Net", "UNETR", "Swin UNETR"]
        bars = [p for p in ax.patches if type(p) is Rectangle]
        assert [b.get_height() for b in bars] == pytest.approx([r[key] * scale for r in ROWS])
        assert [t.get_text() for t in ax.texts] != []  # the values are written on the bars
    params_labels = [t.get_text() for t in fig.axes[0].texts]
    assert params_labels == ["16.5", "92.8", "62.2"]
    assert [t.get_text() for t in fig.axes[1].texts] == ["399", "146", "637"]
    assert fig.axes[0].patches[1].get_facecolor() == fig.axes[2].patches[1].get_facecolor()  # a model keeps its colour
    assert fig._repr_png_()[:4] == b"\x89PNG"


@pytest.mark.parametrize("rows, match", [
    ([], "empty"),
    ([dict(model="a", params=1, flops=2)], "lacks"),
    ([dict(model="a", params=1, flops=0, activation_bytes=3)], "log scale"),
])
def test_rejects_bad_rows(rows, match):
    with pytest.raises(ValueError, match=match):
        plot_segmenter_costs(rows)
