"""execute_notebook measures the kernel's peak memory and leaves the lesson's cells as they were."""
import nbformat

from autograder.builder.execute import execute_notebook


def test_peak_memory_of_the_kernel_is_measured(tmp_path):
    """Check that a kernel that holds 300 MB once reports a peak of at least that, and one that does not, less."""
    for megabytes in (0, 300):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"import numpy as np\nx = np.ones({megabytes} * 2**20, np.uint8)\ndel x"),
                    nbformat.v4.new_code_cell("print('done')")]
        path = tmp_path / f"m{megabytes}.ipynb"
        nbformat.write(nb, path)
        executed, seconds = execute_notebook(path, cwd=tmp_path / "run", timeout=120)
        peak = executed.metadata["beyond2d"]["peak_rss_mb"]
        assert len(executed.cells) == 2 and executed.cells[-1].outputs[0]["text"] == "done\n"
        assert seconds > 0
        if megabytes:
            assert peak >= 300, peak
        else:
            assert 20 < peak < 300, peak
