"""The suite's parallel run keeps each xdist group on one worker (``make test`` uses ``--dist loadgroup``).

The demo class, the box, the shards and the browser each hold a costly fixture (a graded class, a
JupyterLab) that must be built once, on one worker. pytest 9.2 with pytest-xdist 3.8 dropped the
grouping without a word (pytest-xdist issue 1386): this runs a two-worker session on a tiny suite
and fails when a group's tests reach two workers.
"""
import subprocess
import sys
import textwrap


def test_a_group_runs_on_one_worker(tmp_path):
    (tmp_path / "test_grouped.py").write_text(textwrap.dedent('''
        import os, time
        import pytest
        pytestmark = pytest.mark.xdist_group("one")

        @pytest.mark.parametrize("i", range(6))
        def test_grouped(i):
            time.sleep(0.2)
            print("WORKER", os.environ["PYTEST_XDIST_WORKER"])
    '''))
    (tmp_path / "test_free.py").write_text(textwrap.dedent('''
        import time
        import pytest

        @pytest.mark.parametrize("i", range(6))
        def test_free(i):
            time.sleep(0.2)
    '''))
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider",
                           "-rA", "-q", "-c", "/dev/null", "--rootdir", str(tmp_path), str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    workers = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("WORKER ")}
    assert len(workers) == 1, f"the group's tests ran on {sorted(workers)}"
