"""Exercise specifications: what a graded function must do, how it is tested, and how it is diagnosed.

One :class:`Exercise` per graded function of a lesson. The same spec drives both grading paths
(README, For instructors): the in-notebook ``check(fn)`` (public cases, feedback) and the official
sandboxed grader (public and hidden cases, tamper-proof).

Conventions tying a spec to its lesson notebook (nbgrader source in ``solutions/``):
    * the solution cell that defines the function has ``grade_id == exercise.name``;
    * the test cell has ``grade_id == exercise.grade_id`` (``"test_" + name``) and ``points``;
    * the lesson's setup cells have a ``grade_id`` starting with ``"setup"``.

Cases are plain data (tensors, arrays, numbers, strings, tuples, lists, dicts of those), generated
from a numpy ``Generator``: public cases from a seed in this package, hidden cases from the
instructor's seed given at grading time (never stored in the release).
"""
from __future__ import annotations

import dataclasses
import importlib
import zlib
from typing import Any, Callable, Iterable

import numpy as np

__all__ = ["Case", "Misconception", "Exercise", "PUBLIC_SEED", "case_rng", "exercise_maker"]

PUBLIC_SEED = 2024  # the seed of the public cases; hidden cases use the grader's --seed


@dataclasses.dataclass(frozen=True)
class Case:
    """One call of the graded function.

    Attributes:
        args: positional arguments (plain data).
        kwargs: keyword arguments (plain data).
        raises: when set, the call must raise this exception type (or a subclass) instead of returning.
        note: a short human description shown in feedback ("stride 2 on 30 frames").
    """

    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    raises: type[BaseException] | None = None
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Misconception:
    """A known wrong way to solve the exercise, used to explain a failure.

    ``wrong`` is a deliberately wrong implementation with the exercise's signature. When a student's
    output differs from the reference but equals ``wrong(*case.args, **case.kwargs)``, feedback shows
    ``message``. The same functions form the bank of known-wrong solutions that tests prove each
    check rejects.
    """

    name: str
    message: str
    wrong: Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class Exercise:
    """A graded function of a lesson.

    Attributes:
        name: the function's name in the notebook; also the exercise id and the solution cell's grade_id.
        assignment: the lesson id, e.g. ``"01_video_tensors"``.
        reference: dotted path of the reference implementation in ``course``.
        make_cases: ``rng -> list[Case]``; called with a public or a hidden ``np.random.Generator``.
        points: points of the test cell.
        misconceptions: known wrong solutions, each with the message that explains it.
        rtol, atol: tolerances for floating-point results (``torch.allclose`` semantics).
        timeout: seconds the grader allows for all cases of this exercise together.
        forbidden_ops: ATen operators the solution may not use (e.g. ``("aten.convolution",)`` when the
            exercise is to write a convolution from scratch); detected at the dispatcher, whatever
            Python name the call went through (``F.conv3d``, ``torch.conv3d``, ``nn.Conv3d``...).
    """

    name: str
    assignment: str
    reference: str
    make_cases: Callable[[np.random.Generator], list[Case]]
    points: int = 1
    misconceptions: tuple[Misconception, ...] = ()
    rtol: float = 1e-5
    atol: float = 1e-6
    timeout: float = 5.0
    forbidden_ops: tuple[str, ...] = ()

    @property
    def grade_id(self) -> str:
        """grade_id of the nbgrader test cell of this exercise."""
        return f"test_{self.name}"

    @property
    def reference_module(self) -> str:
        """The module that holds the reference (blocked from import while grading)."""
        return self.reference.rsplit(".", 1)[0]

    def load_reference(self) -> Callable[..., Any]:
        """Import and return the reference implementation."""
        module, attr = self.reference.rsplit(".", 1)
        return getattr(importlib.import_module(module), attr)

    def cases(self, seed: int | None = None) -> list[Case]:
        """The public cases (``seed=None``) or the hidden cases drawn from the instructor's ``seed``."""
        return self.make_cases(case_rng(self.name, PUBLIC_SEED if seed is None else seed, hidden=seed is not None))


def case_rng(name: str, seed: int, *, hidden: bool) -> np.random.Generator:
    """A generator that depends on the seed, the exercise and whether the cases are hidden."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode()), int(hidden)])


def exercise_maker(assignment: str) -> Callable[..., Exercise]:
    """The constructor a lesson's spec module uses for its exercises.

    Returns:
        ``make(name, module, make_cases, misconceptions=(), **kw)``: an :class:`Exercise` of
        ``assignment`` whose reference is ``module.name`` (e.g. module ``"course.video.sampling"``).
    """
    def make(name: str, module: str, make_cases: Callable[[np.random.Generator], list[Case]],
             misconceptions: Iterable[Misconception] = (), **kw: Any) -> Exercise:
        return Exercise(name=name, assignment=assignment, reference=f"{module}.{name}", make_cases=make_cases,
                        misconceptions=tuple(misconceptions), **kw)

    return make
