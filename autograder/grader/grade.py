"""Official grading: sandboxed, parallel, resumable (README, For instructors).

For each submission ``SUBMISSIONS/<student_id>/<assignment_id>/<notebook>.ipynb`` (nbgrader's layout):

1. take the setup cells from the instructor's source and the solution cells from the submission
   (matched by grade_id; see :mod:`autograder.grader.notebook`);
2. run them in a child process (:mod:`autograder.grader._child`) inside a box built by the operating system
   (:mod:`autograder.grader.box`: bubblewrap's user, mount, PID, IPC and network namespaces; only Python, the
   environment and the student-visible packages mounted read-only; the reference modules of the graded
   exercises replaced by ``/dev/null``), with resource limits and Landlock rules as a second layer
   (:mod:`autograder.grader.sandbox`), a scrubbed environment and its own working folder. Where the box
   cannot be built, grading refuses unless ``box=False`` (``--no-box``), and every feedback page says so;
3. the child calls the student's functions on the public and hidden cases and writes back plain
   data only; the trusted parent compares with the reference (:mod:`autograder.student.verdict`);
4. a crash, a time-out or a limit zeroes the exercise it happened in; the child is restarted for the
   exercises after it.

Outputs under OUT: ``grades.csv``, ``results/<student>/<assignment>.json`` (also the resume cache),
``feedback/<student>/<assignment>.html`` and ``review.csv`` (cells to read by hand:
:mod:`autograder.grader.review`; the operator check in the child is advice, since the child's interpreter
belongs to the student). The grades also go to nbgrader's gradebook at
``db_url``: the command line passes the course's ``CourseDirectory.db_url`` (or ``--db-url``); a caller
of :func:`grade` that leaves ``db_url`` None gets ``OUT/gradebook.db``.

Late submissions: the time in each submission's ``timestamp.txt``, the assignment's due date in the
gradebook (plus the student's extension) and the course's ``AssignLatePenalties.plugin_class`` give
the penalty exactly as ``nbgrader autograde`` does (:mod:`autograder.grader.gradebook`); it is recomputed on
every run (a changed due date or plugin needs no re-grading) and spread over the exercises in
proportion to their scores, so ``grades.csv`` keeps the ``raw_score`` beside the penalized ``score``.

Hidden cases: one set per class from the instructor's seed, or, with ``per_student_seed``
(``--per-student-seed``), one set per student from :func:`student_seed` (HMAC-SHA256 of the student id
under the instructor's seed), so the hidden-case messages of two students do not line up when pooled.
The resume cache is keyed by a digest of the seed a student's cases came from, never the seed.

Shards: ``shard=(i, n)`` (``--shard i/n``) grades only the students with :func:`shard_of` ``== i``, a
stable split by a hash of the student id (all of a student's assignments in one shard), so a batch
scheduler can grade a class in ``n`` processes on ``n`` machines at once, each with the same ``OUT`` (a
shared folder) and the same gradebook: shards of one split run side by side (each holds its own lock
and a shared one that a whole-class run takes exclusively), the gradebook's writers take turns
(:func:`autograder.grader.gradebook.gradebook_lock`), and ``grades.csv``/``grades.json``/``review.csv`` are
merged under a lock, so the last shard to finish leaves the whole class in them.
"""
from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import hashlib
import hmac
import importlib.util
import io
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.exercises import exercises_for
from autograder.grader import transport
from autograder.grader.box import CgroupLimits, box_command, box_problem
from autograder.grader.notebook import SourceNotebook, read_source, read_submission
from autograder.grader.review import review_cells
from autograder.paths import EXERCISES_DIR, PROJECT_ROOT
from autograder.student.check import reference_outcomes
from autograder.student.spec import Case, Exercise
from autograder.grader.record import exercise_row, new_record, spread_penalty, totals
from autograder.student.verdict import Outcome, judge

__all__ = ["GradeConfig", "grade_submissions", "grade_one", "student_seed", "shard_of", "parse_shard",
           "GRADES_COLUMNS"]

GRADES_COLUMNS = ["student_id", "assignment_id", "exercise_id", "score", "max_score", "status",
                  "raw_score", "late_submission_penalty", "timestamp", "seconds_late", "scored_by"]
REVIEW_COLUMNS = ["student_id", "assignment_id", "exercise_id", "line", "reason"]
GRADER_VERSION = 4  # 2: children graded in a bubblewrap box; 3: a static review of each submission; 4: every case
#                      in the record (public or hidden, the kind of a hidden case, its likely cause)
PROJECT_PRIVATE = (".git", "build", "solutions", "tests", "bench")  # unreadable to student code while grading


@dataclasses.dataclass
class GradeConfig:
    """Settings of a grading run (the CLI's options)."""

    submissions: Path
    out: Path
    source: Path = PROJECT_ROOT / "solutions"   # instructor sources: SOURCE/<assignment>/<assignment>.ipynb
    seed: int | None = None                      # instructor-held seed of the hidden cases
    per_student_seed: bool = False               # hidden cases per student: student_seed(seed, student_id)
    jobs: int = 1                                # submissions graded at once
    assignments: list[str] | None = None         # None: every assignment found in the submissions
    force: bool = False                          # re-grade what is already graded
    memory_mb: int = 2048                        # address-space limit of the child
    setup_timeout: float = 30.0                  # seconds for interpreter start + the notebook's cells
    drop_privileges: bool = True                 # unboxed only: run the child as nobody when the grader is root
    box: bool = True                             # each child in a bubblewrap box; False: without (feedback says so)
    db_url: str | None = None                    # nbgrader gradebook URL; None: sqlite OUT/gradebook.db
    course_dir: Path | None = None               # where nbgrader's commands run (its nbgrader_config.py); None: cwd
    duedates: dict[str, str] = dataclasses.field(default_factory=dict)  # assignment (or "*": all) -> due date
    shard: tuple[int, int] | None = None         # (i, n): grade only the students with shard_of(id, n) == i


@dataclasses.dataclass
class _Prepared:
    """Everything about an assignment that is the same for every student (computed once)."""

    source: SourceNotebook
    exercises: list[Exercise]
    cases: list[list[Case]]
    expected: list[list[Outcome]]
    inputs_file: Path
    deny_read: list[str]
    blocked_modules: list[str]
    hidden_files: list[str]                      # the reference modules' files: /dev/null inside the box
    extra_tests: list[str] = dataclasses.field(default_factory=list)  # the instructor's own test cells (grade_ids)


def grade_submissions(cfg: GradeConfig, *, progress: bool = True) -> list[dict]:
    """Grade every submission under ``cfg.submissions``; write all outputs; return the result records.

    Raises:
        FileNotFoundError: the submissions folder or a source notebook does not exist.
    """
    from tqdm.auto import tqdm

    if not cfg.submissions.is_dir():
        raise FileNotFoundError(f"submissions folder {cfg.submissions} does not exist")
    if cfg.box and (problem := box_problem()) is not None:
        raise RuntimeError(f"cannot build the grading box: {problem}. Fix that, or grade without the box "
                           "(--no-box; every feedback page then says the submission was graded unboxed)")
    app, duedates = _late_settings(cfg)  # a broken config or due date stops the run before any grading
    cfg.out.mkdir(parents=True, exist_ok=True)
    locks = _lock_out(cfg.out, cfg.shard)
    work = Path(tempfile.mkdtemp(prefix="grading-"))
    os.chmod(work, 0o711)
    try:
        todo = _find_submissions(cfg)
        prepared = {a: _prepare(cfg, a, work) for a in sorted({a for _, a, _ in todo})}
        results: list[dict] = []
        with concurrent.futures.ThreadPoolExecutor(max(1, cfg.jobs)) as pool:
            futures = [pool.submit(_grade_or_reuse, cfg, prepared[a], s, p, work) for s, a, p in todo]
            bar = tqdm(concurrent.futures.as_completed(futures), total=len(futures), desc="grading",
                       unit="submission", disable=not progress)
            for fut in bar:
                results.append(fut.result())
        results.sort(key=lambda r: (r["student_id"], r["assignment_id"]))
        _write_outputs(cfg, results, prepared, app, duedates)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for lock in reversed(locks):
            lock.close()


def _late_settings(cfg: GradeConfig):  # noqa: ANN202 - (nbgrader's application, due dates)
    """nbgrader's configuration of the course (its late-submission plugin) and the due dates to store.

    Raises:
        ValueError: a due date nbgrader cannot read.
        RuntimeError: the course's configuration, or the plugin class it names, cannot be loaded.
    """
    from nbgrader.preprocessors import AssignLatePenalties

    from autograder.grader.gradebook import nbgrader_app, parse_time

    duedates = {a: parse_time(t) for a, t in cfg.duedates.items()}
    app = nbgrader_app(cfg.course_dir)
    try:
        AssignLatePenalties(parent=app).plugin_class  # noqa: B018 - imports the class the course names
    except Exception as exc:  # noqa: BLE001 - a traitlets error: the class cannot be imported or is no plugin
        raise RuntimeError(f"the course's AssignLatePenalties.plugin_class cannot be loaded ({exc}); it must "
                           "name a subclass of nbgrader.plugins.BasePlugin importable from the course folder") from exc
    return app, duedates


def shard_of(student_id: str, n: int) -> int:
    """The shard (0 … n−1) of a student: the first 8 bytes of SHA-256 of the id, modulo ``n``.

    Stable across runs, machines and Python versions (no ``hash()`` salt), and independent of which
    other students exist, so a student added late lands in the same shard as before.
    """
    return int.from_bytes(hashlib.sha256(student_id.encode()).digest()[:8], "big") % n


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` (0 <= i < n, as Kubernetes' JOB_COMPLETION_INDEX or a 0-based Slurm array) -> (i, n).

    Raises:
        ValueError: not two integers with 0 <= i < n.
    """
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes I/N with 0 <= I < N (e.g. 0/3), got {text!r}") from None
    if not 0 <= i < n:
        raise ValueError(f"--shard I/N needs 0 <= I < N, got {text!r} (shards are numbered from 0)")
    return i, n


def _lock_out(out: Path, shard: tuple[int, int] | None = None) -> list:
    """Take the output folder's locks (flock on files in ``OUT``) or fail at once.

    A whole-class run holds ``.grading.lock`` exclusively. A shard holds it shared and
    ``.grading.shard-I-of-N.lock`` exclusively: the shards of a split run side by side, while two runs
    of one shard, or a whole-class run beside shards, would grade the same students and race at the
    end; the second is refused with a message.

    Returns:
        The open lock files (held until closed).

    Raises:
        RuntimeError: another grading run holds a lock this one needs.
    """
    import fcntl

    wanted = [(".grading.lock", fcntl.LOCK_EX if shard is None else fcntl.LOCK_SH)]
    if shard is not None:
        wanted.append((f".grading.shard-{shard[0]}-of-{shard[1]}.lock", fcntl.LOCK_EX))
    held = []
    for name, mode in wanted:
        f = open(out / name, "a+")  # noqa: SIM115 - held until the run ends
        try:
            fcntl.flock(f, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            for other in held:
                other.close()
            what = "a grading run of the whole class" if mode == fcntl.LOCK_SH else "another grading run"
            raise RuntimeError(f"{what} is writing to {out} (it holds {out / name}); wait for it to finish or "
                               "choose another --out") from None
        held.append(f)
    return held


def _find_submissions(cfg: GradeConfig) -> list[tuple[str, str, Path | None]]:
    wanted = set(cfg.assignments) if cfg.assignments else None
    todo = []
    for student in sorted(p for p in cfg.submissions.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if cfg.shard is not None and shard_of(student.name, cfg.shard[1]) != cfg.shard[0]:
            continue
        names = wanted if wanted is not None else {p.name for p in student.iterdir() if p.is_dir()}
        for assignment in sorted(names):
            if not (cfg.source / assignment).is_dir():
                continue
            folder = student / assignment
            nb = folder / f"{assignment}.ipynb"
            if not nb.is_file():
                others = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
                nb = others[0] if len(others) == 1 else None
            todo.append((student.name, assignment, nb))
    return todo


def _prepare(cfg: GradeConfig, assignment: str, work: Path) -> _Prepared:
    source = read_source(cfg.source / assignment / f"{assignment}.ipynb", assignment)
    exercises = exercises_for(assignment)
    shared = cfg.seed if not cfg.per_student_seed else None  # per student: the hidden cases come later
    cases = [ex.cases() + (ex.cases(shared) if shared is not None else []) for ex in exercises]
    expected = [reference_outcomes(ex, cs) for ex, cs in zip(exercises, cases)]
    inputs_file = work / f"{assignment}-inputs.pt"
    _save_inputs(cases, inputs_file)
    modules = sorted({ex.reference_module for ex in exercises})
    # the solutions, other students' work, the outputs, and anything in the project that holds or tests
    # the references (git history, executed notebooks, tests with independent implementations)
    deny = [str(p) for p in (cfg.source, cfg.submissions, cfg.out, *(PROJECT_ROOT / d for d in PROJECT_PRIVATE))]
    # the exercise specs (every lesson's): their known-wrong solutions are one edit from right ones, and
    # a student must not import them while graded; the child itself never needs them
    hidden = [str(p) for p in sorted(EXERCISES_DIR.glob("*.py")) if p.name != "__init__.py"]
    deny += hidden
    for mod in modules:
        spec = importlib.util.find_spec(mod)
        if spec is not None and spec.origin:
            hidden.append(spec.origin)
            deny.append(spec.origin)
            deny.append(importlib.util.cache_from_source(spec.origin))
    # test cells the instructor added beyond the spec's: run after the notebook's cells, as nbgrader would
    ours = {ex.grade_id for ex in exercises}
    extra = [gid for gid in source.test_points if gid not in ours]
    return _Prepared(source, exercises, cases, expected, inputs_file, deny, modules, hidden, extra)


def _save_inputs(cases: list[list[Case]], path: Path) -> None:
    """Write the cases' arguments for the child (plain data), readable only by the grader."""
    inputs = [[{"args": transport.encode(c.args), "kwargs": transport.encode(c.kwargs)} for c in cs] for cs in cases]
    transport.save(inputs, path)
    os.chmod(path, 0o600)  # the hidden cases: readable only by the grader (and the box it binds them into)


def student_seed(seed: int, student_id: str) -> int:
    """The seed of one student's hidden cases: HMAC-SHA256 (RFC 2104) of the id under the instructor's seed.

    Without the instructor's seed, one student's seed says nothing of another's (HMAC is a keyed
    pseudo-random function), so hidden cases cannot be predicted or pooled across a class.

    Args:
        seed: the instructor's seed (the HMAC key is its decimal text, UTF-8).
        student_id: nbgrader's student id (the message, UTF-8).

    Returns:
        The first 8 bytes of the MAC as a big-endian unsigned integer (0 <= s < 2**64).
    """
    mac = hmac.new(str(int(seed)).encode(), student_id.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(mac[:8], "big")


def _hidden_seed(cfg: GradeConfig, student: str) -> int | None:
    """The seed of this student's hidden cases (None: public cases only)."""
    if cfg.seed is None:
        return None
    return student_seed(cfg.seed, student) if cfg.per_student_seed else cfg.seed


def _for_student(prep: _Prepared, seed: int, work: Path) -> _Prepared:
    """``prep`` with one student's hidden cases (drawn from ``seed``) after the public ones."""
    cases, expected = [], []
    for ex, public, public_expected in zip(prep.exercises, prep.cases, prep.expected):
        hidden = ex.cases(seed)
        cases.append(public + hidden)
        expected.append(public_expected + reference_outcomes(ex, hidden))
    fd, name = tempfile.mkstemp(prefix=f"{prep.source.assignment}-", suffix="-inputs.pt", dir=work)
    os.close(fd)
    _save_inputs(cases, Path(name))
    return dataclasses.replace(prep, cases=cases, expected=expected, inputs_file=Path(name))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


START_FAILED = "the grading process failed before running the notebook"


def _grade_or_reuse(cfg: GradeConfig, prep: _Prepared, student: str, nb: Path | None, work: Path) -> dict:
    cache = cfg.out / "results" / student / f"{prep.source.assignment}.json"
    sub_digest = _digest(nb.read_bytes()) if nb is not None and nb.is_file() else "none"
    seed = _hidden_seed(cfg, student)
    seed_digest = _digest(f"{seed}".encode())[:16]  # never the seed: a per-student seed gives that student's cases
    key = {"grader_version": GRADER_VERSION, "submission_sha256": sub_digest, "seed_digest": seed_digest,
           "source_sha256": _digest(prep.source.path.read_bytes())}
    if cache.is_file() and not cfg.force:
        try:
            old = json.loads(cache.read_text())
            if all(old.get(k) == v for k, v in key.items()):
                old["reused"] = True
                return old
        except ValueError:
            pass
    mine = prep
    try:
        if cfg.per_student_seed and seed is not None:
            mine = _for_student(prep, seed, work)
        record = grade_one(cfg, mine, student, nb, work)
    except Exception as exc:  # noqa: BLE001 - a grader fault on one submission must not stop the class
        rows = [exercise_row(ex.name, prep.source.test_points.get(ex.grade_id, ex.points), ok=False,
                             status="error", reason=f"grader error: {type(exc).__name__}: {exc}")
                for ex in prep.exercises]
        return new_record(student, prep.source.assignment, rows,
                          problems=["the grader failed on this submission; re-run to retry"])
    finally:
        if mine is not prep:
            mine.inputs_file.unlink(missing_ok=True)
    record.update(key)
    if any(START_FAILED in r.get("reason", "") for r in record["exercises"]):
        return record  # the box failed before student code ran: the machine's fault, never cached (re-run retries)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(record, indent=1))
    return record


def grade_one(cfg: GradeConfig, prep: _Prepared, student: str, nb: Path | None, work: Path) -> dict:
    """Grade one student's notebook for one assignment; never raises for anything the student did."""
    t0 = time.perf_counter()
    sub = read_submission(nb, prep.source)
    n = len(prep.exercises)
    outcomes: list[list[Outcome]] = [[] for _ in range(n)]
    cell_errors: list[dict] = []
    notes: list[str] = []
    if sub.readable:
        outcomes, cell_errors, notes = _run_child(cfg, prep, sub.cells, student, work)
    rows = []
    for ex, cases, expected, got in zip(prep.exercises, prep.cases, prep.expected, outcomes):
        if not sub.readable:
            got = [Outcome("missing", message=sub.problems[0])]
        elif ex.name not in sub.cells:
            got = [Outcome("missing", message=f"the solution cell {ex.name!r} is missing from the notebook")]
        verdict = judge(ex, cases, expected, got, num_public=len(ex.cases()), blind=True)
        points = prep.source.test_points.get(ex.grade_id, float(ex.points))
        status = "passed" if verdict.ok else (verdict.status if verdict.status != "ok" else "failed")
        rows.append(exercise_row(ex.name, points, ok=verdict.ok, status=status, passed=verdict.passed,
                                 total=verdict.total, reason=verdict.reason, hint=verdict.hint, cases=verdict.cases))
    rows += _instructor_rows(prep, sub.readable, cell_errors)
    review = [f.as_row() for f in review_cells(sub.cells, prep.exercises)] if sub.readable else []
    return new_record(student, prep.source.assignment, rows, problems=sub.problems, cell_errors=cell_errors,
                      sandbox_notes=notes, review=review, grading_notes=[] if cfg.box else [UNBOXED],
                      seconds=round(time.perf_counter() - t0, 3))


def _instructor_rows(prep: _Prepared, ran: bool, cell_errors: list[dict]) -> list[dict]:
    """Rows for the cells of the source that the spec does not grade.

    An instructor's own test cell scores its points when it ran without an error, as in ``nbgrader
    autograde`` (it runs in the box after the notebook's cells; a cell that did not finish scores 0).
    Like nbgrader's, such a cell runs in the student's interpreter, which student code controls: it
    catches mistakes, not a student who attacks the grader (a spec's cases are compared outside). A
    cell graded by hand (a written answer or a task) scores 0 with status ``manual`` until a score is
    given in the formgrader; its points count in the maximum.
    """
    failed = {e["grade_id"]: e["error"] for e in cell_errors}
    rows = []
    for gid in prep.extra_tests:
        points = prep.source.test_points[gid]
        ok = ran and gid not in failed
        reason = "" if ok else (failed.get(gid) or "the notebook could not be read, so the cell was not run")
        rows.append(exercise_row(gid, points, ok=ok, status="passed" if ok else "failed", passed=int(ok), total=1,
                                 reason=reason, grade_id=gid, kind="instructor_test"))
    for gid, (points, cell_type) in prep.source.manual_cells.items():
        rows.append(exercise_row(gid, points, ok=False, status="manual", grade_id=gid, kind="manual",
                                 reason=f"graded by hand ({cell_type} cell): the score comes from the formgrader"))
    return rows


def _run_child(cfg: GradeConfig, prep: _Prepared, cells: dict[str, str], student: str,
               work: Path) -> tuple[list[list[Outcome]], list[dict], list[str]]:
    n = len(prep.exercises)
    outcomes: list[list[Outcome]] = [[] for _ in range(n)]
    program = [{"grade_id": gid, "source": code} for gid, code in prep.source.setup_cells]
    program += [{"grade_id": gid, "source": cells[gid]} for gid in prep.source.solution_ids if gid in cells]
    program += [{"grade_id": gid, "source": prep.source.test_sources[gid]} for gid in prep.extra_tests]
    cell_errors: list[dict] = []
    notes: list[str] = []
    start = 0
    drop_to = (_nobody() if not cfg.box and cfg.drop_privileges and os.geteuid() == 0 and _readable_by_others()
               else None)  # in the box the user namespace is the isolation
    while start < n:
        wd = Path(tempfile.mkdtemp(prefix=f"{_safe(student)}-", dir=work))
        shutil.copyfile(prep.inputs_file, wd / "inputs.pt")
        os.chmod(wd, 0o700)
        timeouts = [ex.timeout for ex in prep.exercises]
        job = {"cells": program, "exercises": [ex.name for ex in prep.exercises], "start": start,
               "forbidden_ops": [list(ex.forbidden_ops) for ex in prep.exercises],
               "deny_read": prep.deny_read, "blocked_modules": prep.blocked_modules, "memory_mb": cfg.memory_mb,
               "cpu_seconds": int(cfg.setup_timeout + sum(timeouts[start:]) + 5), "drop_to": drop_to,
               "boxed": cfg.box, "writable": BOX_TMP if cfg.box else str(wd)}
        (wd / "job.json").write_text(json.dumps(job))
        if drop_to is not None:
            for p in (wd, wd / "job.json", wd / "inputs.pt"):
                os.chown(p, drop_to, drop_to)
        states = ["start"] + ([f"cell {c['grade_id']}" for c in program] if start == 0 else []) + \
            [f"exercise {i}" for i in range(start, n)] + ["done"]
        died_in, how, sent = _supervise(wd, cfg, timeouts, states, prep.hidden_files)
        shutil.rmtree(wd, ignore_errors=True)  # a restart gets a fresh folder; nothing piles up
        for i, data in sent.results.items():
            if start <= i < n:
                outcomes[i] = _load_outcomes(data)
        if start == 0:
            cell_errors = _load_cell_errors(sent.cell_errors, {c["grade_id"]: c["source"] for c in program})
            notes = _load_notes(sent.notes) + ([sent.limits_note] if sent.limits_note else [])
        if died_in is None:
            break
        if start == 0 and (died_in == "start" or died_in.startswith("cell")):  # the instructor's tests never ended
            cell_errors = [e for e in cell_errors if e.get("grade_id") not in prep.extra_tests] + [
                {"grade_id": gid, "error": f"not run to its end: the notebook's cells did not finish ({how})"}
                for gid in prep.extra_tests]
        if died_in == "start":  # before the first cell: no student code had run (states only move forward)
            tail = sent.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            notes.append(f"start failure: {tail[0][:300]}")  # the instructor's record: paths, the machine
            msg = f"{START_FAILED} ({how}); the grading machine's fault, not yours: it is retried on the next run"
            for i in range(start, n):
                outcomes[i] = [Outcome("error", message=msg)]
            break
        if died_in.startswith("cell"):
            msg = f"the notebook's cells did not finish ({how} while running {died_in}); no function could be called"
            for i in range(start, n):
                outcomes[i] = outcomes[i] or [Outcome(_kind(how), message=msg)]
            break
        i = int(died_in.split()[1])  # one of the states offered: start <= i < n, so the loop ends
        outcomes[i] = [Outcome(_kind(how), message=f"{how} while running {prep.exercises[i].name}")]
        start = i + 1
    return outcomes, cell_errors, notes


def _kind(how: str) -> str:
    return "timeout" if how.startswith("timed out") else "crash"


UNBOXED = ("graded WITHOUT the operating-system box (bubblewrap namespaces): only resource limits and Landlock "
           "isolated this submission from the machine and from other submissions")


BOX_TMP = "/tmp"  # noqa: S108 - the box's private tmpfs: the child's only writable folder there


@dataclasses.dataclass
class _Sent:
    """What the child sent over its channel (raw bytes, untrusted until validated)."""

    states: list[str]  # the progress reports this child may send, in order
    results: dict[int, bytes] = dataclasses.field(default_factory=dict)
    cell_errors: bytes = b""
    notes: bytes = b""
    stderr: bytes = b""  # the first 64 KB of the child's stdout and stderr (the rest is read and dropped)
    limits_note: str = ""  # why the child had no control groups, if it had none
    position: int = 0    # index in ``states`` of where the child is

    @property
    def where(self) -> str:
        return self.states[self.position]

    def take(self, tag: bytes, payload: bytes) -> None:
        """File one frame. A progress report counts only if it names a later state than the current one:
        student code can write to the pipe too, but it cannot move the child back (to restart a clock,
        or to pass as a failure before any code ran) or out of range."""
        if tag == b"PROG":
            text = payload[:100].decode(errors="replace")
            if text in self.states[self.position + 1:]:
                self.position = self.states.index(text, self.position + 1)
        if tag == b"RSLT" and len(payload) >= 4:
            self.results[int.from_bytes(payload[:4], "big")] = payload[4:]
        elif tag == b"CERR" and not self.where.startswith(("exercise ", "done")):
            # the child sends its cells' errors after the last cell and before the first exercise; a frame
            # student code sends during the cells is replaced by the child's own, and none counts later
            self.cell_errors = payload
        elif tag == b"NOTE":
            self.notes = payload[:64 * 1024]


def _supervise(wd: Path, cfg: GradeConfig, timeouts: list[float], states: list[str],
               hidden: list[str]) -> tuple[str | None, str, _Sent]:
    """Run the child, read its channel, and kill it past a time limit or a size limit.

    Returns:
        (where it stopped, how, what it sent): where is "start", "cell <id>" or "exercise <i>" when it
        did not finish, None when it finished (how is then "").
    """
    env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": str(wd), "LANG": "C.UTF-8",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(wd)}
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # machine-specific safety settings, kept
        if var in os.environ:
            env[var] = os.environ[var]
    if cfg.box:
        env.update(HOME=BOX_TMP, TMPDIR=BOX_TMP)
    read_fd, write_fd = os.pipe()
    err_fd, err_write_fd = os.pipe()  # stdout and stderr: a pipe, so nothing the child prints lands on disk
    argv = [sys.executable, "-I", "-m", "autograder.grader._child", str(wd), str(write_fd)]
    if cfg.box:
        argv = box_command(argv, workdir=wd, hidden=hidden)
    groups = CgroupLimits(memory_mb=cfg.memory_mb)
    argv = groups.wrap(argv)
    proc = subprocess.Popen(argv, cwd=wd, env=env, pass_fds=(write_fd,), stdin=subprocess.DEVNULL,
                            stdout=err_write_fd, stderr=err_write_fd, start_new_session=True)
    os.close(write_fd)  # the child holds the only write ends: end of file when it (and all it started) ends
    os.close(err_write_fd)
    os.set_blocking(err_fd, False)
    channel, sent = transport.ChannelReader(read_fd), _Sent(states)
    if groups.problem:
        sent.limits_note = groups.problem
    start = next((int(st.split()[1]) for st in states if st.startswith("exercise ")), 0)
    where, t_start = "start", time.monotonic()
    first_seen = {where: t_start}  # a state's clock starts when it is first reported and never restarts
    cap = cfg.setup_timeout + sum(timeouts[start:]) + 5
    how = ""
    try:
        while True:
            running = proc.poll() is None
            select.select([read_fd, err_fd], [], [], 0.02 if running else 0)
            sent.stderr += _drain(err_fd, 64 * 1024 - len(sent.stderr))
            for tag, payload in channel.read_available():
                sent.take(tag, payload)
            if sent.where != where:
                where = sent.where
                first_seen.setdefault(where, time.monotonic())
            if channel.error:  # a flood: stop the child, keep what came before
                how = channel.error
                break
            if not running:
                break
            now = time.monotonic()
            limit = cfg.setup_timeout
            if where.startswith("exercise "):
                try:
                    limit = timeouts[int(where.split()[1])]
                except (ValueError, IndexError):
                    pass
            if now - first_seen[where] > limit or now - t_start > cap:
                how = f"timed out after {now - first_seen[where]:.0f} s"
                break
    finally:
        _kill_group(proc)
        groups.close()  # whatever the child started and left: killed, unboxed or not
        os.close(read_fd)
        os.close(err_fd)
    if how:
        return where, how, sent
    if where == "done" and proc.returncode == 0:
        return None, "", sent
    code = proc.returncode
    how = f"the process was killed by signal {signal.Signals(-code).name}" if code < 0 else f"the process exited with code {code}"
    if code == -signal.SIGKILL or code == -signal.SIGXCPU:
        how += " (a memory or CPU limit?)"
    return (where if where != "done" else None), how, sent


def _drain(fd: int, keep: int) -> bytes:
    """Read what a non-blocking pipe holds; return at most ``keep`` bytes of it (the rest is dropped)."""
    kept = b""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except (BlockingIOError, OSError):
            return kept
        if not chunk:
            return kept
        if keep > len(kept):
            kept += chunk[:keep - len(kept)]


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _exception_names(names: object) -> tuple[str, ...]:
    """The built-in exception names of an MRO the child reported (a class a student defines is a free-text
    channel, so its name is dropped)."""
    import builtins

    if type(names) not in (list, tuple):
        return ()
    return tuple(n for n in names if type(n) is str and isinstance(getattr(builtins, n, None), type)
                 and issubclass(getattr(builtins, n), BaseException))


def _load_outcomes(data: bytes) -> list[Outcome]:
    """One exercise's outcomes as the child sent them, validated (anything malformed is an error outcome).

    Texts are the grader's own: the child's messages (exception texts, its own reports) are student
    code's output and could carry anything, hidden cases included, into the feedback.
    """
    try:
        raw = transport.loads(data)
        if type(raw) is not list:
            raise ValueError("not a list")
        out = []
        for r in raw:
            sent = Outcome.from_plain(r, transport.decode)
            kind, forbidden = sent.kind, sent.forbidden
            if kind == "return":
                out.append(Outcome("return", sent.value, forbidden=forbidden))
            elif kind == "raise":
                out.append(Outcome("raise", exc_types=_exception_names(sent.exc_types) or ("Exception",),
                                   message="", forbidden=forbidden))
            elif kind == "missing":
                out.append(Outcome("missing", message="the function is not defined after the notebook's cells ran"))
            elif kind == "crash":
                out.append(Outcome("crash", message="ran out of memory (the grader's memory limit)"))
            else:
                raise ValueError(f"unknown outcome kind {kind!r}")
        return out
    except Exception as exc:  # noqa: BLE001 - the bytes are untrusted
        return [Outcome("error", message=f"the results could not be read ({type(exc).__name__})")]


_LINE = re.compile(r"\(line (\d+) of <cell [^>]{0,100}>\)$")


def _load_cell_errors(data: bytes, cells: dict[str, str] | None = None) -> list[dict]:
    """The child's cell errors, validated: ``{"grade_id", "error", "detail"}``, one per cell at most.

    ``error`` (shown to the student) is the grader's own text: a built-in exception name and a line
    number that exists in that cell; ``detail`` (the instructor's record only) keeps the child's text,
    cut to 500 characters. With ``cells`` (grade_id -> source), only the notebook's own cells count:
    student code can forge this message, so nothing of it reaches the page but a known cell id, an
    exception name and a line of that cell (a few bits, as a real error would give).
    """
    try:
        raw = transport.decode(transport.loads(data))
    except Exception:  # noqa: BLE001 - untrusted (or nothing sent)
        return []
    if not isinstance(raw, list):
        return []
    out, seen = [], set()
    for r in raw[:50]:
        if not (type(r) is dict and type(r.get("grade_id")) is str and type(r.get("error")) is str):
            continue
        gid = r["grade_id"][:100]
        if (cells is not None and gid not in cells) or gid in seen:
            continue
        seen.add(gid)
        text = r["error"][:500]
        name = (_exception_names([text.split(":", 1)[0].strip()]) or ("an exception",))[0]
        line = _LINE.search(text)
        lines = len(cells[gid].splitlines()) if cells is not None else None
        ok_line = line and (lines is None or 1 <= int(line.group(1)) <= lines)
        error = f"{name} at line {line.group(1)}" if ok_line else name
        out.append({"grade_id": gid, "error": error, "detail": text})
    return out


def _load_notes(data: bytes) -> list[str]:
    """The child's sandbox notes, validated: a JSON list of at most 20 strings of 300 characters (else none)."""
    try:
        raw = json.loads(data)
    except ValueError:
        return []
    if type(raw) is not list:
        return []
    return [s[:300] for s in raw[:20] if type(s) is str]


def _readable_by_others() -> bool:
    """Whether an unprivileged child could import what it needs (stdlib, torch, this package)."""
    import torch

    from autograder.grader.sandbox import others_can_read

    return all(others_can_read(p) for p in (os.__file__, torch.__file__, __file__, sys.executable))


def _nobody() -> int:
    import pwd

    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        from autograder.grader.sandbox import NOBODY

        return NOBODY


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "student"


def _apply_late(rec: dict, late: dict, problem: str) -> None:
    """Put the late penalty of ``late`` (see autograder.grader.gradebook.write_gradebook) on a grading record.

    The record's exercises keep their ``raw_score``; the penalty (at most the raw total, as nbgrader
    caps it at the notebook's score) is spread over them in proportion to their raw scores, so their
    ``score`` adds up to the penalized total; the record gets ``raw_score``, ``late_submission_penalty``,
    ``score``, ``max_score`` and ``late`` (times, seconds late, the plugin, and any timestamp problem).
    """
    spread_penalty(rec, float(late.get("late_submission_penalty") or 0.0))
    rec.update(max_score=totals(rec)[1],
               late={k: late.get(k) for k in ("timestamp", "duedate", "seconds_late", "plugin", "penalty_method")}
               | {"problem": problem})


def _write_outputs(cfg: GradeConfig, results: list[dict], prepared: dict[str, _Prepared], app=None,  # noqa: ANN001
                   duedates: dict | None = None) -> None:
    from autograder.grader.autograded import apply_manual_scores
    from autograder.grader.feedback import write_feedback
    from autograder.grader.gradebook import gradebook_url, read_timestamp, write_gradebook

    # 1. the gradebook first: scores, submission times and due dates, then nbgrader's late penalties
    stamps, problems = {}, {}
    for rec in results:
        key = (rec["student_id"], rec["assignment_id"])
        stamps[key], problems[key] = read_timestamp(cfg.submissions / key[0] / key[1])
    wanted = {a: d for a, d in (duedates or {}).items() if a in prepared}
    if "*" in (duedates or {}):
        wanted = {a: wanted.get(a, duedates["*"]) for a in prepared}
    url = gradebook_url(cfg.db_url or cfg.out / "gradebook.db")
    sources = {a: p.source for a, p in prepared.items()}
    late = write_gradebook(url, results, sources, timestamps=stamps, duedates=wanted, app=app)
    # scores given by hand in the formgrader are what every output reports (before the penalty is spread:
    # nbgrader's penalty was taken from the notebook's score, manual scores included)
    apply_manual_scores(url, results, sources)
    for rec in results:
        key = (rec["student_id"], rec["assignment_id"])
        _apply_late(rec, late[key], problems[key])
    # 2. the files, under a lock: shards finishing at once merge one after the other
    with open(cfg.out / ".outputs.lock", "a+") as lock:
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)
        _merge_files(cfg, results, url)
    for rec in results:
        write_feedback(rec, cfg.out / "feedback" / rec["student_id"] / f"{rec['assignment_id']}.html")
    _write_autograded(cfg, results, sources, url, app)


def _write_autograded(cfg: GradeConfig, results: list[dict], sources: dict, url: str, app) -> None:  # noqa: ANN001
    """Into the course's gradebook, also the course's ``autograded/`` notebooks, for the formgrader and
    ``nbgrader generate_feedback`` (another gradebook has no course folder of its own to write them in)."""
    from autograder.grader.autograded import write_autograded
    from autograder.grader.gradebook import course_db_url

    if app is None or url != course_db_url(cfg.course_dir, app):
        return
    conf = app.config.CourseDirectory
    root = ((cfg.course_dir or Path.cwd()) / conf.get("root", ".")).resolve()
    write_autograded(root, results, sources, cfg.submissions,
                     autograded_directory=conf.get("autograded_directory", "autograded"), app=app)


def _merge_files(cfg: GradeConfig, results: list[dict], url: str) -> None:
    """Merge this run's records into grades.json, grades.csv and review.csv (written anew from the merge).

    Earlier records kept in the merge get the gradebook's manual scores too, as they stand now.
    """
    from autograder.grader.autograded import apply_manual_scores
    # this run's records replace the earlier ones of the same (student, assignment); the others stay, so
    # grading one assignment, one late student or one shard keeps the rest of grades.csv
    graded = {(r["student_id"], r["assignment_id"]) for r in results}
    try:
        earlier = json.loads((cfg.out / "grades.json").read_text())
        earlier = [r for r in earlier if isinstance(r, dict) and (r.get("student_id"), r.get("assignment_id"))
                   not in graded and isinstance(r.get("exercises"), list)] if isinstance(earlier, list) else []
    except (OSError, ValueError):
        earlier = []
    sources = {}
    for a in sorted({str(r.get("assignment_id")) for r in earlier}):
        try:
            sources[a] = read_source(cfg.source / a / f"{a}.ipynb", a)
        except (OSError, ValueError):
            pass  # an assignment whose source is gone: its rows stay as they were
    apply_manual_scores(url, [r for r in earlier if r.get("assignment_id") in sources], sources)
    merged = sorted(earlier + results, key=lambda r: (str(r["student_id"]), str(r["assignment_id"])))
    grades, review = io.StringIO(newline=""), io.StringIO(newline="")
    writer = csv.DictWriter(grades, GRADES_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for rec in merged:
        when = rec.get("late") or {}
        for row in rec["exercises"]:
            writer.writerow({"raw_score": row["score"], "late_submission_penalty": 0.0, **row,
                             "student_id": rec["student_id"], "assignment_id": rec["assignment_id"],
                             "timestamp": when.get("timestamp") or "", "seconds_late": when.get("seconds_late") or 0.0,
                             "scored_by": _scored_by(row)})
    writer = csv.DictWriter(review, REVIEW_COLUMNS, extrasaction="ignore")  # for the instructor: cells to read
    writer.writeheader()
    for rec in merged:
        for flag in rec.get("review", []):
            writer.writerow({"student_id": rec["student_id"], "assignment_id": rec["assignment_id"], **flag})
    # each file replaced whole (a killed run leaves the old file or the new one, never half of one);
    # grades.json last: it is what the next merge reads
    for name, text in (("grades.csv", grades.getvalue()), ("review.csv", review.getvalue()),
                       ("grades.json", json.dumps(merged, indent=1))):
        _replace_file(cfg.out / name, text)


def _scored_by(row: dict) -> str:
    """Who gave a row its score: ``instructor`` (a manual score from the formgrader), ``pending`` (a cell
    graded by hand that has no score yet) or ``grader``."""
    if row.get("manual"):
        return "instructor"
    return "pending" if row.get("status") == "manual" else "grader"


def _replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file beside it, then ``os.replace``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
