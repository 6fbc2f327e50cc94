"""The one Figure class of course.viz: shown as PNG in Jupyter whether or not pyplot is active.

A bare ``matplotlib.figure.Figure`` (no pyplot) gets its PNG formatter only once pyplot's inline
backend has registered one; before that, Jupyter prints ``<Figure size ... with N Axes>`` as text.
"""
from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["PngFigure"]


class PngFigure(Figure):
    """A ``matplotlib.figure.Figure`` with a ``_repr_png_``, so a notebook always draws it."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()
