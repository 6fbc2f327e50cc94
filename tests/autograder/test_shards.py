"""A class graded in shards into one gradebook: SQLite and PostgreSQL, shards at once, one killed.

The reference is a single grading process over the whole class, into a gradebook of its own; the
shards' gradebook must hold the same students, submissions and grades (read back through nbgrader's
own ``Gradebook`` API), no row twice, and the shared ``grades.csv`` the same rows. Shards run as the
command line (``python -m autograder grade --shard I/N``), each a process of its own, as a batch
scheduler starts them. The PostgreSQL server is Debian's, started here on 127.0.0.1 in a private data
folder (``.ci/run`` installs it; without it these tests skip, except in CI, where they fail).
"""
import csv
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.grader.grade import parse_shard, shard_of
from autograder.grader.gradebook import ensure_tools_on_path
from autograder.paths import PROJECT_ROOT

LESSON = "01_video_tensors"
SHARDS = 3
KILLED = 1  # the shard the PostgreSQL test kills mid-run: it has two students, the others one
PER_SHARD = {0: 1, KILLED: 2, 2: 1}
pytestmark = pytest.mark.xdist_group("shards")  # one grading class at a time on a 2-core machine


# --- the split --------------------------------------------------------------------------------------
def test_shard_of_splits_every_student_into_exactly_one_shard_evenly_and_stably():
    ids = [f"student{i:04d}" for i in range(3000)]
    for n in (1, 2, 3, 7):
        counts = [0] * n
        for sid in ids:
            k = shard_of(sid, n)
            assert 0 <= k < n
            counts[k] += 1
        assert sum(counts) == len(ids)
        assert max(counts) - min(counts) < 0.1 * len(ids) / n + 20, counts  # about even
    # stable: a fresh interpreter (another hash salt) puts every student in the same shard
    code = ("from autograder.grader.grade import shard_of; import sys; "
            "print(' '.join(str(shard_of(f'student{i:04d}', 7)) for i in range(3000)))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
                           env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other.stdout.split() == [str(shard_of(sid, 7)) for sid in ids]
    # a student's shard does not depend on who else is in the class
    assert shard_of("alice", 3) == shard_of("alice", 3)


@pytest.mark.parametrize("text", ["3/3", "-1/3", "1", "a/b", "1/0", "1/2/3", ""])
def test_parse_shard_refuses_what_is_not_i_of_n(text):
    with pytest.raises(ValueError, match="I/N"):
        parse_shard(text)


def test_parse_shard_reads_zero_based_indices():
    assert parse_shard("0/3") == (0, 3) and parse_shard("2/3") == (2, 3)


# --- a class ----------------------------------------------------------------------------------------
def _students() -> list[str]:
    """PER_SHARD[k] students in shard k of SHARDS (ids chosen by the split itself)."""
    chosen: dict[int, list[str]] = {k: [] for k in range(SHARDS)}
    for i in range(1000):
        sid = f"s{i:03d}"
        k = shard_of(sid, SHARDS)
        if len(chosen[k]) < PER_SHARD[k]:
            chosen[k].append(sid)
        if all(len(v) == PER_SHARD[k] for k, v in chosen.items()):
            return sorted(s for v in chosen.values() for s in v)
    raise AssertionError("the split left a shard empty")


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """Submissions of one lesson: half the class hands in the solutions, half the blank release."""
    root = tmp_path_factory.mktemp("shards")
    solved = (PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb").read_text()
    blank = (PROJECT_ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb").read_text()
    for i, student in enumerate(_students()):
        folder = root / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        (folder / f"{LESSON}.ipynb").write_text(solved if i % 2 == 0 else blank)
    (root / "seed").write_text("98765432109876\n")
    (root / "course").mkdir()
    (root / "course" / "nbgrader_config.py").write_text("c = get_config()\n")
    return root


def _grade_cmd(klass: Path, out: Path, db_url: str, shard: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "autograder", "grade", "--submissions", str(klass / "submitted"), "--out", str(out),
           "--seed-file", str(klass / "seed"), "--db-url", db_url, "--course-dir", str(klass / "course"), "--quiet"]
    return cmd + (["--shard", shard] if shard else [])


def _env() -> dict:
    ensure_tools_on_path()
    return {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(PROJECT_ROOT)}


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=PROJECT_ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def _snapshot(db_url: str) -> dict:
    """Everything graded in a gradebook, read through nbgrader's API, plus its raw row counts."""
    from nbgrader.api import Grade, Gradebook, Student, SubmittedAssignment

    with Gradebook(db_url) as gb:
        snap = {"students": sorted(s.id for s in gb.students)}
        for student in snap["students"]:
            sub = gb.find_submission(LESSON, student)
            snap[student] = {"score": sub.score, "max_score": sub.max_score,
                             "grades": sorted((g.name, g.auto_score, g.max_score, g.needs_manual_grade)
                                              for nb in sub.notebooks for g in nb.grades)}
        snap["rows"] = {table.__tablename__: gb.db.query(table).count()
                        for table in (Student, SubmittedAssignment, Grade)}
    return snap


def _csv_rows(out: Path) -> list[dict]:
    with open(out / "grades.csv", newline="") as f:
        return sorted(csv.DictReader(f), key=lambda r: (r["student_id"], r["exercise_id"]))


@pytest.fixture(scope="module")
def single(klass, tmp_path_factory):
    """The reference: one process grades the whole class into its own SQLite gradebook."""
    out = tmp_path_factory.mktemp("single")
    url = f"sqlite:///{out / 'gradebook.db'}"
    _run(_grade_cmd(klass, out, url))
    snap = _snapshot(url)
    assert len(snap["students"]) == sum(PER_SHARD.values())
    scores = [snap[s]["score"] for s in snap["students"]]
    assert min(scores) == 0 < max(scores), scores  # the class has right and wrong notebooks
    return {"out": out, "snapshot": snap}


def _start(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                            cwd=PROJECT_ROOT, start_new_session=True)


def _finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]


def test_shards_at_once_into_one_sqlite_gradebook_equal_a_single_run(klass, single, tmp_path):
    out = tmp_path / "out"
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    procs = [_start(_grade_cmd(klass, out, url, f"{k}/{SHARDS}")) for k in range(SHARDS)]
    for proc in procs:
        _finish(proc)
    assert _snapshot(url) == single["snapshot"]
    assert _csv_rows(out) == _csv_rows(single["out"])


def test_a_second_run_of_one_shard_and_a_whole_class_run_beside_shards_are_refused(klass, tmp_path):
    from autograder.grader.grade import _lock_out

    out = tmp_path / "out"
    out.mkdir()
    held = _lock_out(out, (0, 2))
    try:
        _lock_out(out, (1, 2))[0].close()  # another shard of the split: allowed
        with pytest.raises(RuntimeError, match="another grading run"):
            _lock_out(out, (0, 2))
        with pytest.raises(RuntimeError, match="another grading run"):
            _lock_out(out)
    finally:
        for f in held:
            f.close()
    whole = _lock_out(out)
    try:
        with pytest.raises(RuntimeError, match="whole class"):
            _lock_out(out, (1, 2))
    finally:
        for f in whole:
            f.close()


# --- PostgreSQL ---------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of Debian's on 127.0.0.1 in a private data folder; yields a URL factory."""
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    try:
        import psycopg2
    except ImportError:
        psycopg2 = None
    if not initdb or psycopg2 is None:
        message = "PostgreSQL (Debian's postgresql) or psycopg2 is not installed"
        if os.environ.get("CI"):
            pytest.fail(message + "; in CI this is a failure (.ci/run installs it)", pytrace=False)
        pytest.skip(message + " (outside CI this skips; set CI=1 to make it fail)")
    bindir = Path(initdb[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: as Debian's postgres user
        shutil.chown(data, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(as_user + [str(bindir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres",
                              "--no-sync"], check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data / "db"), "-o", options, "-l", str(data / "log"),
                              "-w", "-t", "60", "start"], check=True, capture_output=True, timeout=120)
    try:
        def make(name: str) -> str:
            conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE {name}")
            conn.close()
            return f"postgresql+psycopg2://postgres@127.0.0.1:{port}/{name}"

        yield make
    finally:
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def test_three_shards_into_one_postgresql_gradebook_one_killed_and_rerun_equal_a_single_run(klass, single, postgres,
                                                                                           tmp_path):
    url = postgres("shards")
    out = tmp_path / "out"
    procs = [_start(_grade_cmd(klass, out, url, f"{k}/{SHARDS}")) for k in range(SHARDS)]
    # kill a shard with SIGKILL as soon as it has graded one of its two students (mid-run: one to go)
    victim = procs[KILLED]
    mine = [s for s in _students() if shard_of(s, SHARDS) == KILLED]
    deadline = time.monotonic() + 300
    while not any((out / "results" / s / f"{LESSON}.json").exists() for s in mine):
        assert victim.poll() is None, "the shard finished before it could be killed: " + victim.stderr.read()[-2000:]
        assert time.monotonic() < deadline, f"shard {KILLED} graded nothing in 300 s"
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    for k, proc in enumerate(procs):
        if k != KILLED:
            _finish(proc)
    _finish(_start(_grade_cmd(klass, out, url, f"{KILLED}/{SHARDS}")))  # the scheduler's retry
    assert _snapshot(url) == single["snapshot"]
    assert _csv_rows(out) == _csv_rows(single["out"])
