"""The sandbox the grading child applies to itself: files, network, signals, memory."""
import os
import subprocess
import sys
import textwrap

import pytest

from autograder.grader.sandbox import landlock_abi

needs_landlock = pytest.mark.skipif(landlock_abi() == 0, reason="this kernel has no Landlock")

PROBE = textwrap.dedent("""
    import json, os, socket, sys
    from pathlib import Path
    from autograder.grader import sandbox
    work, secret, outside, parent = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    notes = sandbox.apply(work, [secret], memory_mb=1024, cpu_seconds=20, drop_to=None)
    result = {"notes": notes}
    def attempt(name, fn):
        try:
            fn()
            result[name] = "allowed"
        except OSError as exc:
            result[name] = type(exc).__name__
    attempt("read_secret", lambda: open(os.path.join(secret, "reference.py")).read())
    attempt("list_secret", lambda: os.listdir(secret))
    attempt("read_other", lambda: open(sys.argv[5]).read())
    attempt("write_outside", lambda: open(outside, "a").write("x"))
    attempt("write_work", lambda: (work / "ok.txt").write_text("fine"))
    attempt("delete_outside", lambda: os.unlink(outside))
    attempt("connect", lambda: socket.create_connection(("127.0.0.1", int(sys.argv[6])), timeout=2))
    attempt("signal_parent", lambda: os.kill(parent, 0))
    try:
        bytearray(2 << 30)
        result["allocate_2g"] = "allowed"
    except MemoryError:
        result["allocate_2g"] = "MemoryError"
    (work / "result.json").write_text(json.dumps(result))
""")


@needs_landlock
def test_child_reads_and_writes_only_what_it_may(tmp_path):
    import json
    import socket

    work, other = tmp_path / "work", tmp_path / "public.txt"
    work.mkdir()
    secret = tmp_path / "secret" / "reference.py"
    secret.parent.mkdir()
    secret.write_text("SOLUTION = 42")
    outside = tmp_path / "grades.csv"
    outside.write_text("student,score\n")
    other.write_text("readable")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        subprocess.run([sys.executable, "-c", PROBE, str(work), str(secret.parent), str(outside), str(os.getpid()),
                        str(other), str(port)], check=True, timeout=60, start_new_session=True)
    finally:
        server.close()
    result = json.loads((work / "result.json").read_text())
    assert result["read_secret"] == "PermissionError"
    assert result["read_other"] == "allowed"
    assert result["write_outside"] == "PermissionError"
    assert result["delete_outside"] == "PermissionError"
    assert result["write_work"] == "allowed"
    assert result["allocate_2g"] == "MemoryError"
    assert outside.read_text() == "student,score\n" and secret.read_text() == "SOLUTION = 42"
    if landlock_abi() >= 4:
        assert result["connect"] == "PermissionError"
    if landlock_abi() >= 6:
        assert result["signal_parent"] == "PermissionError"


def test_file_rules_survive_files_that_vanish_during_the_walk(tmp_path):
    """Check that a path removed between the walk of / and its Landlock rule is skipped, not fatal.

    Other processes create and delete temporary files all the time; a vanished file used to end the
    child with FileNotFoundError before the student's notebook ran (a zero that depended on load).
    """
    code = textwrap.dedent(f"""
        from pathlib import Path
        from autograder.grader import sandbox
        walk = sandbox._readable_roots
        sandbox._readable_roots = lambda root, deny: walk(root, deny) + [Path({str(tmp_path / 'gone')!r})]
        sandbox._restrict_files(Path({str(tmp_path)!r}), [], 7)
        print("restricted")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "restricted" in out.stdout, out.stderr[-2000:]
