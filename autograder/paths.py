"""Where things are: the repository root and the folders of the project that the grader and the build use.

Defined once here, imported everywhere else (the grader, the build, the benchmarks and the tests).
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["PROJECT_ROOT", "EXERCISES_DIR"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the repository root (autograder/ lies in it)
EXERCISES_DIR = Path(__file__).parent / "exercises"  # the exercise specs, one module per lesson
