"""Headless execution of lesson notebooks with nbclient (executed copies and HTML under build/)."""
from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["execute_notebook", "export_html"]


# VmHWM: the kernel process's own peak resident memory (kB). Not getrusage's ru_maxrss: on Linux
# that survives execve, so it would report the RSS of the process that launched the kernel.
PEAK_CELL = ("print('PEAK_RSS_KB', next(line.split()[1] for line in open('/proc/self/status') "
             "if line.startswith('VmHWM')))")


def execute_notebook(path: Path, *, cwd: Path, timeout: int = 600, kernel_name: str = "python3"):  # noqa: ANN201
    """Execute a notebook top to bottom in a fresh kernel, and measure the kernel's peak memory.

    After the last cell, one more cell (removed again from the returned notebook) reads the
    kernel's peak resident memory (``VmHWM`` of ``/proc/self/status``; Linux only, 0 elsewhere).
    It lands in ``nb.metadata["beyond2d"]["peak_rss_mb"]``.

    Args:
        path: the ``.ipynb`` to run (not modified).
        cwd: the kernel's working folder (created if missing).
        timeout: seconds allowed for any one cell.
        kernel_name: Jupyter kernel to start.

    Returns:
        (executed notebook (nbformat node), wall seconds). The seconds exclude the memory cell.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised; the message shows the cell and the error.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    cwd.mkdir(parents=True, exist_ok=True)
    env_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # the kernel inherits it; see the Makefile
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, resources={"metadata": {"path": str(cwd)}})
        t0 = time.perf_counter()
        seconds = 0.0

        def lesson_done(cell, cell_index, **_kw) -> None:  # noqa: ANN001 - nbclient hook
            nonlocal seconds
            if cell_index == len(nb.cells) - 2:
                seconds = time.perf_counter() - t0

        client.on_cell_executed = lesson_done
        client.execute()
        peak = nb.cells.pop()
        text = "".join(o.get("text", "") for o in peak.get("outputs", []))
        kb = int(text.split()[1]) if text.startswith("PEAK_RSS_KB") else 0  # no /proc: an error output, 0
        nb.metadata.setdefault("beyond2d", {})["peak_rss_mb"] = kb / 1024
        return nb, seconds or time.perf_counter() - t0
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
