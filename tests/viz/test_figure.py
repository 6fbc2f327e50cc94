"""Every course.viz figure draws in Jupyter even before pyplot is active (no `<Figure size ...>` text)."""
import numpy as np
import torch
from IPython.core.formatters import PNGFormatter

from course.viz import plot_sampled_indices, show_frames, show_orthogonal_slices, show_volume_slices, show_windows


def test_figures_have_a_png_form_without_pyplot():
    """Check that IPython's PNG formatter, with no pyplot formatter registered, renders each figure as a PNG."""
    formatter = PNGFormatter()  # a fresh formatter: no type printer for Figure, as before pyplot's inline backend
    volume = np.random.default_rng(0).normal(size=(6, 7, 8)).astype(np.float32)
    figures = [show_frames(torch.rand(3, 1, 8, 8)), plot_sampled_indices({"a": [0, 2]}, 4),
               show_windows(volume * 100), show_volume_slices(volume, num=2), show_orthogonal_slices(volume)]
    for fig in figures:
        png = formatter(fig)
        assert isinstance(png, bytes) and png.startswith(b"\x89PNG"), type(fig)
