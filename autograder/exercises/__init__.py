"""The registry of graded exercises, one module per lesson.

Each lesson module defines ``ASSIGNMENT`` (the lesson id) and ``EXERCISES`` (a list of
:class:`autograder.student.spec.Exercise`, in notebook order).
"""
from __future__ import annotations

import functools
import importlib
import pkgutil

from autograder.student.spec import Exercise

__all__ = ["lesson_modules", "exercises_for", "find_exercise", "assignments"]


@functools.cache
def lesson_modules() -> dict[str, str]:
    """Lesson id -> module under autograder.exercises, found by each module's ``ASSIGNMENT``."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[module.ASSIGNMENT] = info.name
    return found


def assignments() -> list[str]:
    """The lesson ids that have graded exercises, in course order."""
    return sorted(lesson_modules())


def exercises_for(assignment: str) -> list[Exercise]:
    """The exercises of a lesson, in notebook order.

    Raises:
        KeyError: the lesson has no exercise module.
    """
    if assignment not in lesson_modules():
        raise KeyError(f"no graded exercises for assignment {assignment!r}; known: {', '.join(assignments())}")
    module = importlib.import_module(f"{__name__}.{lesson_modules()[assignment]}")
    return list(module.EXERCISES)


def find_exercise(name: str) -> Exercise:
    """The exercise whose function is called ``name``, in any lesson.

    Raises:
        KeyError: no exercise has that name.
    """
    for assignment in assignments():
        for ex in exercises_for(assignment):
            if ex.name == name:
                return ex
    raise KeyError(f"no exercise named {name!r}: check(fn) looks the exercise up by the function's name; "
                   "pass exercise='...' if you renamed it")
