"""In-notebook feedback: ``check(fn)`` runs an exercise's public cases and says what is wrong.

This path runs in the student's own kernel, so it is feedback, not proof: a student can fool it.
Official grades come from ``python -m autograder grade``, which runs student code in a sandbox and
compares in a trusted process (see autograder.grader.grade).

Show or raise. A student who presses Run All in JupyterLab must reach the end of the lesson, and any
exception in a cell makes the frontend drop every queued cell. So ``check`` decides by who runs it:

- a person at a notebook frontend (the execute request allows ``input()``, as JupyterLab, Notebook
  and VS Code send it): ``check`` shows one PASS/FAIL block and returns the verdict, never raising;
- nbgrader's own execution (``nbgrader validate``, ``autograde``, the Lab's Validate button: nbgrader
  sets ``NBGRADER_EXECUTION`` in the kernel's environment), any other headless execution (nbclient:
  ``make course``, the tests; it sends ``allow_stdin=False``), or plain Python outside a kernel: a
  failed check raises :class:`CheckFailed`, so nbgrader's test cell fails as it should.

The environment variable ``BEYOND2D_CHECK=show`` or ``=raise`` overrides the choice.
"""
from __future__ import annotations

import html
import os
from typing import Any, Callable

from autograder.exercises import find_exercise
from autograder.student.spec import Case, Exercise
from autograder.student.verdict import Outcome, Verdict, call, judge

__all__ = ["check", "CheckFailed", "reference_outcomes", "evaluate", "raises_on_failure"]


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


def raises_on_failure() -> bool:
    """True when a failed :func:`check` must raise (headless execution), False when it only shows.

    ``BEYOND2D_CHECK`` ("show" or "raise") decides when set; then nbgrader's execution marker
    (``NBGRADER_EXECUTION``) means raise; otherwise a kernel's current execute request decides:
    ``allow_stdin`` is True from a notebook frontend and False from nbclient. Outside an IPython
    kernel (a script, pytest) a failure raises.
    """
    forced = os.environ.get("BEYOND2D_CHECK", "").strip().lower()
    if forced in ("show", "raise"):
        return forced == "raise"
    if os.environ.get("NBGRADER_EXECUTION") or os.environ.get("NBGRADER_VALIDATING"):
        return True
    try:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        if kernel is None:
            return True
        try:
            parent = kernel.get_parent("shell")
        except TypeError:  # ipykernel < 6.23: no channel argument
            parent = kernel.get_parent()
        return not bool(parent.get("content", {}).get("allow_stdin", False))
    except Exception:  # noqa: BLE001 - any doubt: be strict
        return True


class _VerdictBlock:
    """A verdict displayed once: a coloured block in JupyterLab, plain text elsewhere."""

    def __init__(self, text: str, ok: bool) -> None:
        self.text, self.ok = text, ok

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        colour, back = ("#1a7f37", "#e6f4ea") if self.ok else ("#b42318", "#fdecea")
        body = html.escape(self.text)
        return (f'<pre style="border-left: 6px solid {colour}; background: {back}; color: #111; '
                f'padding: 6px 10px; margin: 4px 0; white-space: pre-wrap;">{body}</pre>')


def _show(verdict: Verdict) -> None:
    text = verdict.text()
    try:
        from IPython import get_ipython

        if getattr(get_ipython(), "kernel", None) is not None:
            from IPython.display import display

            display(_VerdictBlock(text, verdict.ok))
            return
    except Exception:  # noqa: BLE001 - fall back to plain text
        pass
    print(text)


def check(fn: Callable[..., Any], exercise: str | None = None) -> None:
    """Check a student's function on the public cases of its exercise and show a verdict.

    The verdict appears once, as a PASS or FAIL block naming the first failing case and the likely
    cause. At a notebook frontend a failure does not raise (Run All goes on); in headless execution
    (nbgrader validate/autograde) it raises, so the test cell fails. See the module docstring.

    Args:
        fn: the student's function; its ``__name__`` names the exercise unless ``exercise`` is given.
        exercise: the exercise name, when the function was renamed.

    Raises:
        CheckFailed: a case failed and :func:`raises_on_failure` is True.
        KeyError: no exercise has that name.
    """
    spec = find_exercise(exercise or getattr(fn, "__name__", ""))
    verdict = evaluate(spec, fn, spec.cases())
    if not verdict.ok and raises_on_failure():
        raise CheckFailed(verdict.text()) from None  # the traceback shows the verdict: shown once
    _show(verdict)
