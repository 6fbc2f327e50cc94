"""Grading for Beyond 2D, one subpackage per role.

``from autograder import check`` gives in-notebook feedback on the public cases of an exercise
(:mod:`autograder.student`, with the specs in :mod:`autograder.exercises`);
``python -m autograder grade ...`` is the official, sandboxed grader (:mod:`autograder.grader`);
``python -m autograder release|course`` builds the course (:mod:`autograder.builder`).
"""
from autograder.student.check import CheckFailed, check

__all__ = ["check", "CheckFailed"]
