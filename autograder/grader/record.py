"""The grading record: one student's result on one assignment, as the grader writes and caches it.

A record is plain JSON (it is cached under ``build/`` and read back), so it stays a ``dict``; its
fields are written down here once, as ``TypedDict``s, with the only functions that build a row, add
up a record and spread a late penalty over it. Everything else reads these fields.

    record = {"student_id", "assignment_id", "exercises": [row, ...], "problems", "cell_errors",
              "sandbox_notes", "review", "grading_notes", "seconds"}
             + after the gradebook: "raw_score", "late_submission_penalty", "score", "max_score", "late"
    row    = {"exercise_id", "score", "max_score", "status", "passed", "total", "reason", "hint", "cases"}
             + "grade_id" and "kind" for an instructor's test or manual cell
             + after the gradebook: "raw_score", "late_submission_penalty", and for a score given by hand
               "auto_score", "manual_score", "manual", "needs_manual_grade", "extra_credit"
"""
from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["Row", "Record", "exercise_row", "new_record", "totals", "spread_penalty"]


class Row(TypedDict, total=False):
    """One graded cell of a record (an exercise, an instructor's test cell or a manual cell)."""

    exercise_id: str
    score: float
    max_score: float
    status: str        # passed | failed | not_implemented | missing | timeout | crash | error | manual
    passed: int        # cases passed
    total: int         # cases run
    reason: str        # why the first failing case failed
    hint: str          # the likely cause (a known mistake's message)
    cases: list[dict]  # per case: public, ok, kind, why, cause (see autograder.student.verdict.Verdict)
    grade_id: str
    kind: str          # instructor_test | manual (absent for a spec's exercise)
    raw_score: float
    late_submission_penalty: float


class Record(TypedDict, total=False):
    """One student's result on one assignment."""

    student_id: str
    assignment_id: str
    exercises: list[Row]
    problems: list[str]
    cell_errors: list[dict]
    sandbox_notes: list[str]
    review: list[dict]
    grading_notes: list[str]
    seconds: float
    raw_score: float
    late_submission_penalty: float
    score: float
    max_score: float
    late: dict[str, Any]


def exercise_row(exercise_id: str, max_score: float, *, ok: bool, status: str, passed: int = 0, total: int = 0,
        reason: str = "", hint: str = "", cases: list[dict] | None = None, **extra: Any) -> Row:
    """A row: full marks when ``ok``, else 0 (a cell scores all or nothing, as in nbgrader)."""
    return Row(exercise_id=exercise_id, score=float(max_score) if ok else 0.0, max_score=float(max_score),
               status=status, passed=passed, total=total, reason=reason, hint=hint, cases=cases or [],
               **extra)


def new_record(student_id: str, assignment_id: str, rows: list[Row], *, problems: list[str] = (),
               cell_errors: list[dict] = (), sandbox_notes: list[str] = (), review: list[dict] = (),
               grading_notes: list[str] = (), seconds: float = 0.0) -> Record:
    """A record as the grader writes it, before the gradebook adds late penalties and manual scores."""
    return Record(student_id=student_id, assignment_id=assignment_id, exercises=list(rows), problems=list(problems),
                  cell_errors=list(cell_errors), sandbox_notes=list(sandbox_notes), review=list(review),
                  grading_notes=list(grading_notes), seconds=float(seconds))


def totals(record: Record) -> tuple[float, float]:
    """(score, max_score) of a record: the sums over its rows (the penalized score once one is applied)."""
    rows = record["exercises"]
    return sum(float(r["score"]) for r in rows), sum(float(r["max_score"]) for r in rows)


def spread_penalty(record: Record, penalty: float) -> None:
    """Take a late penalty off a record, spread over its rows in proportion to their pre-penalty scores.

    Each row keeps its ``raw_score`` (the score before any penalty, set on the first call) and gets
    ``score`` and ``late_submission_penalty``; the record gets ``raw_score``,
    ``late_submission_penalty`` and ``score``. The penalty is at most the raw total (nbgrader caps it
    at the notebook's score) and at least 0. Applying it again with new raw scores is safe.
    """
    raws = [float(r.get("raw_score", r["score"])) for r in record["exercises"]]
    raw = sum(raws)
    penalty = min(max(float(penalty), 0.0), raw)
    keep = (raw - penalty) / raw if raw > 0 else 1.0
    for r, before in zip(record["exercises"], raws):
        r["raw_score"] = before
        r["score"] = round(before * keep, 6)
        r["late_submission_penalty"] = round(before - r["score"], 6)
    record.update(raw_score=raw, late_submission_penalty=penalty, score=round(raw - penalty, 6))
