"""Per-student hidden cases: each student's seed is HMAC-SHA256 of the id under the instructor's seed.

The seed function is checked against HMAC written out from its definition (RFC 2104) on hashlib's
SHA-256, and frozen on one value; the grader is checked on a real lesson: two students get
different hidden cases, the same student the same ones on every run (the cache is reused), and no
output file holds the instructor's seed or a student's seed.
"""
import hashlib
import json

import numpy as np
import pytest
import torch

from autograder.exercises import exercises_for
from autograder.grader import grade
from autograder.grader.grade import GradeConfig, grade_submissions, student_seed
from autograder.paths import PROJECT_ROOT

LESSON = "01_video_tensors"
SEED = 80386420231775553  # large and odd-looking: its digits cannot turn up by chance in an output file
STUDENTS = ("alice", "bob")


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC from its definition (RFC 2104): H((K ^ opad) || H((K ^ ipad) || m)), 64-byte blocks."""
    key = hashlib.sha256(key).digest() if len(key) > 64 else key
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + message).digest()
    return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).digest()


@pytest.mark.parametrize("seed,student", [(SEED, "alice"), (SEED, "bob"), (1, "a"), (2**64 + 5, "Zoë Müller"),
                                          (SEED, "x" * 300)])
def test_student_seed_is_hmac_sha256_of_the_id(seed, student):
    expected = int.from_bytes(_hmac_sha256(str(seed).encode(), student.encode())[:8], "big")
    assert student_seed(seed, student) == expected
    assert 0 <= expected < 2**64


def test_student_seed_is_frozen():
    """Check that a student's seed never changes between versions (a regrade would draw other cases)."""
    assert student_seed(1234, "alice") == int.from_bytes(_hmac_sha256(b"1234", b"alice")[:8], "big")
    assert student_seed(1234, "alice") == 0x15E8C5EA46FE0ED4


def _same(a, b) -> bool:
    """Whether two case arguments are equal (tensors, arrays, numbers, containers)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return type(a) is type(b) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _same_cases(xs, ys) -> bool:
    return len(xs) == len(ys) and all(_same((x.args, x.kwargs), (y.args, y.kwargs)) for x, y in zip(xs, ys))


def test_two_students_draw_different_hidden_cases_and_the_same_ones_again():
    exercises = exercises_for(LESSON)
    alice = [ex.cases(student_seed(SEED, "alice")) for ex in exercises]
    bob = [ex.cases(student_seed(SEED, "bob")) for ex in exercises]
    again = [ex.cases(student_seed(SEED, "alice")) for ex in exercises]
    assert all(_same_cases(a, b) for a, b in zip(alice, again))
    differ = [ex.name for ex, a, b in zip(exercises, alice, bob) if not _same_cases(a, b)]
    assert len(differ) == len(exercises), f"same hidden cases for both students in {set(e.name for e in exercises) - set(differ)}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory, request):
    """Two students hand in the lesson's solution; graded with per-student hidden cases."""
    root = tmp_path_factory.mktemp("seeds")
    notebook = (PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb").read_text()
    for student in STUDENTS:
        path = root / "submitted" / student / LESSON / f"{LESSON}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(notebook)
    saved = {}
    real_save = grade._save_inputs
    monkeypatch = pytest.MonkeyPatch()
    request.addfinalizer(monkeypatch.undo)

    def save(cases, path):  # what the grader hands the child: recorded to prove whose cases they were
        saved[str(path)] = cases
        real_save(cases, path)

    monkeypatch.setattr(grade, "_save_inputs", save)
    cfg = GradeConfig(submissions=root / "submitted", out=root / "out", seed=SEED, per_student_seed=True, jobs=2)
    results = {r["student_id"]: r for r in grade_submissions(cfg, progress=False)}
    again = {r["student_id"]: r for r in grade_submissions(cfg, progress=False)}
    return {"root": root, "cfg": cfg, "results": results, "again": again, "saved": saved}


def test_the_child_gets_each_students_own_hidden_cases(graded):
    exercises = exercises_for(LESSON)
    sent = list(graded["saved"].values())
    for student in STUDENTS:
        mine = [ex.cases() + ex.cases(student_seed(SEED, student)) for ex in exercises]
        assert sum(all(_same_cases(a, b) for a, b in zip(cases, mine)) for cases in sent) == 1, student
    shared = [ex.cases() + ex.cases(SEED) for ex in exercises]
    assert not any(all(_same_cases(a, b) for a, b in zip(cases, shared)) for cases in sent)


def test_per_student_cases_grade_a_correct_notebook_fully_and_resume(graded):
    for student in STUDENTS:
        rec = graded["results"][student]
        assert all(r["score"] == r["max_score"] > 0 for r in rec["exercises"]), rec
        assert rec["seed_digest"] == hashlib.sha256(str(student_seed(SEED, student)).encode()).hexdigest()[:16]
        assert graded["again"][student].get("reused"), "the same student's cases on a re-run: the cache holds"
    assert graded["results"]["alice"]["seed_digest"] != graded["results"]["bob"]["seed_digest"]


def test_no_output_file_holds_a_seed(graded):
    secrets = [str(SEED), hex(SEED)[2:]]
    for student in STUDENTS:
        s = student_seed(SEED, student)
        secrets += [str(s), hex(s)[2:], f"{s:016x}", _hmac_sha256(str(SEED).encode(), student.encode()).hex()]
    files = [p for p in (graded["root"] / "out").rglob("*") if p.is_file()]
    assert len(files) >= 6
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{path.name} holds a seed"
    assert json.loads((graded["root"] / "out" / "grades.json").read_text())  # the outputs were written
