"""Grading for Beyond 2D.

``from autograder import check`` gives in-notebook feedback on the public cases of an exercise;
``python -m autograder grade ...`` is the official, sandboxed grader (see autograder.grade).
"""
from autograder.check import CheckFailed, check

__all__ = ["check", "CheckFailed"]
