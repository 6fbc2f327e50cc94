"""In-notebook feedback: ``check(fn)`` runs an exercise's public cases and says what is wrong.

This path runs in the student's own kernel, so it is feedback, not proof: a student can fool it.
Official grades come from ``python -m autograder grade``, which runs student code in a sandbox and
compares in a trusted process (see autograder.grade).
"""
from __future__ import annotations

from typing import Any, Callable

from autograder.exercises import find_exercise
from autograder.spec import Case, Exercise
from autograder.verdict import Outcome, Verdict, call, judge

__all__ = ["check", "CheckFailed", "reference_outcomes", "evaluate"]


class CheckFailed(AssertionError):
    """Raised by :func:`check` when a public case fails (so nbgrader's test cell fails too)."""


def reference_outcomes(exercise: Exercise, cases: list[Case]) -> list[Outcome]:
    """Run the reference on every case (trusted code).

    Raises:
        RuntimeError: the spec is inconsistent (a case marked ``raises`` on which the reference returns).
    """
    ref = exercise.load_reference()
    outcomes = []
    for case in cases:
        out = call(ref, case)
        if case.raises is not None and not (out.kind == "raise" and case.raises.__name__ in out.exc_types):
            raise RuntimeError(f"{exercise.name}: reference did not raise {case.raises.__name__} on {case}")
        if case.raises is None and out.kind == "raise":
            raise RuntimeError(f"{exercise.name}: reference raised {out.exc_types[0]}: {out.message} on {case}")
        outcomes.append(out)
    return outcomes


def evaluate(exercise: Exercise, fn: Callable[..., Any], cases: list[Case]) -> Verdict:
    """Run ``fn`` in this process on ``cases`` and judge it against the reference."""
    expected = reference_outcomes(exercise, cases)
    got = [call(fn, case, exercise.forbidden_ops) for case in cases]
    return judge(exercise, cases, expected, got)


def check(fn: Callable[..., Any], exercise: str | None = None) -> None:
    """Check a student's function on the public cases of its exercise and print a verdict.

    Args:
        fn: the student's function; its ``__name__`` names the exercise unless ``exercise`` is given.
        exercise: the exercise name, when the function was renamed.

    Raises:
        CheckFailed: a case failed (the message says which and the likely cause).
        KeyError: no exercise has that name.
    """
    spec = find_exercise(exercise or getattr(fn, "__name__", ""))
    verdict = evaluate(spec, fn, spec.cases())
    print(verdict.text())
    if not verdict.ok:
        raise CheckFailed(verdict.text()) from None
