"""Headless execution of lesson notebooks with nbclient (executed copies and HTML under build/)."""
from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["execute_notebook", "export_html"]


def execute_notebook(path: Path, *, cwd: Path, timeout: int = 600, kernel_name: str = "python3"):  # noqa: ANN201
    """Execute a notebook top to bottom in a fresh kernel.

    Args:
        path: the ``.ipynb`` to run (not modified).
        cwd: the kernel's working folder (created if missing).
        timeout: seconds allowed for any one cell.
        kernel_name: Jupyter kernel to start.

    Returns:
        (executed notebook (nbformat node), wall seconds).

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised; the message shows the cell and the error.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    cwd.mkdir(parents=True, exist_ok=True)
    env_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # the kernel inherits it; see the Makefile
    try:
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, resources={"metadata": {"path": str(cwd)}}).execute()
        return nb, time.perf_counter() - t0
    finally:
        if env_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_backend


def export_html(nb, out: Path) -> Path:  # noqa: ANN001
    """Write an executed notebook as a standalone HTML page."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out
