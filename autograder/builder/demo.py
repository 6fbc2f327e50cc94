"""A demo class generated from the solutions, to show (and test) that grading gives the right scores.

Four students per lesson, written in nbgrader's submitted layout ``DIR/<student>/<lesson>/<lesson>.ipynb``:

* ``perfect`` — the instructor's solutions: full marks;
* ``blank`` — the student release, untouched: zero;
* ``mistakes`` — each exercise answered with one of its known misconceptions: zero, with the
  misconception named in the feedback;
* ``cheater`` — each exercise "answered" by an attack on the grader (calling the reference, an object
  that equals everything, a lying tensor subclass, patching torch and the checker, printing fake
  success, NaN, ``os._exit``, an endless loop, a huge allocation, writing to the project's and the
  grader's files, reading the solutions): zero on every exercise.
"""
from __future__ import annotations

import copy
import functools
import inspect
import json
import textwrap
from pathlib import Path

from autograder.exercises import exercises_for
from autograder.paths import PROJECT_ROOT

__all__ = ["STUDENTS", "CHEATS", "write_demo_class", "cheat_source"]

STUDENTS = ("perfect", "blank", "mistakes", "cheater")

# Each cheat is the body of a solution cell for the function NAME whose reference is REF (module path).
CHEATS: dict[str, str] = {
    "call_reference": """
        import importlib
        def NAME(*args, **kwargs):
            return getattr(importlib.import_module("REF"), "NAME")(*args, **kwargs)
        """,
    "read_solutions": """
        import json, pathlib
        def NAME(*args, **kwargs):
            nb = json.loads(pathlib.Path("SOLUTIONS").read_text())
            ns = {}
            for cell in nb["cells"]:
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "NAME":
                    exec("".join(cell["source"]), ns)
            return ns["NAME"](*args, **kwargs)
        """,
    "always_equal": """
        class _Yes:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __bool__(self): return True
            def __getattr__(self, name): return lambda *a, **k: True
        def NAME(*args, **kwargs):
            return _Yes()
        """,
    "lying_tensor": """
        import torch
        class _Liar(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return True
        def NAME(*args, **kwargs):
            return torch.zeros(3).as_subclass(_Liar)
        """,
    "patch_and_print": """
        import numpy, torch, autograder, autograder.student.compare
        torch.allclose = torch.equal = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        autograder.student.check = lambda *a, **k: print("PASS NAME: all cases pass.")
        autograder.student.compare.compare = lambda *a, **k: None
        print("PASS NAME: all cases pass.")
        def NAME(*args, **kwargs):
            return None
        """,
    "nan": """
        import torch
        def NAME(*args, **kwargs):
            return torch.tensor(float("nan"))
        """,
    "exit": """
        import os
        def NAME(*args, **kwargs):
            os._exit(0)
        """,
    "endless": """
        def NAME(*args, **kwargs):
            while True:
                pass
        """,
    "memory": """
        def NAME(*args, **kwargs):
            hog = bytearray(64 << 30)
            return hog
        """,
    "write_files": """
        import pathlib
        def NAME(*args, **kwargs):
            for target in ["PROJECT/README.md", "PROJECT/course/__init__.py", "SOLUTIONS", "OUT/grades.csv"]:
                try:
                    with open(target, "a") as f:
                        f.write("# tampered")
                except OSError:
                    pass
            return None
        """,
}


def cheat_source(cheat: str, name: str, reference_module: str, *, solutions: Path, out: Path) -> str:
    """The code of a cheating solution cell; its first line names the cheat (``# demo cheat: <name>``)."""
    body = f"# demo cheat: {cheat}\n" + textwrap.dedent(CHEATS[cheat]).strip() + "\n"
    for key, value in (("NAME", name), ("REF", reference_module), ("SOLUTIONS", str(solutions)),
                       ("PROJECT", str(PROJECT_ROOT)), ("OUT", str(out))):
        body = body.replace(key, value)
    return body


def _wrong_source(fn, name: str) -> str:  # noqa: ANN001
    """The source of a known-wrong solution renamed to ``name``, with the globals it uses, standalone.

    ``fn`` is a module-level function, or a ``functools.partial`` of one with literal arguments (one
    function with a flag per mistake): then the function keeps its name and ``name`` calls it with the
    partial's arguments written out.

    Raises:
        ValueError: a partial whose arguments are not literals (they could not be written as source).
    """
    if isinstance(fn, functools.partial):
        for value in (*fn.args, *fn.keywords.values()):
            if not isinstance(value, (bool, int, float, str, type(None))):
                raise ValueError(f"the partial of {fn.func.__name__} has a non-literal argument {value!r}; "
                                 "the demo class submits source and cannot write it")
        inner = _wrong_source(fn.func, fn.func.__name__)
        return (f"{inner}\n\ndef {name}(*args, **kwargs):\n"
                f"    return {fn.func.__name__}(*{fn.args!r}, *args, **{{**{fn.keywords!r}, **kwargs}})\n")
    src = textwrap.dedent(inspect.getsource(fn)).replace(f"def {fn.__name__}(", f"def {name}(", 1)
    return "\n".join(_global_definitions(fn, set())) + "\n\n" + src


def _global_definitions(fn, seen: set[str]) -> list[str]:  # noqa: ANN001
    """Lines that define the module-level names ``fn`` uses: imports, literal constants, helper functions."""
    lines: list[str] = []
    codes, names = [fn.__code__], set()
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if inspect.iscode(c))
    for n in sorted(names - seen):
        if n not in fn.__globals__:
            continue
        seen.add(n)
        value = fn.__globals__[n]
        if inspect.ismodule(value):
            lines.append(f"import {value.__name__} as {n}" if value.__name__ != n else f"import {n}")
        elif inspect.isfunction(value) and value.__module__ == fn.__module__:
            lines += [*_global_definitions(value, seen), textwrap.dedent(inspect.getsource(value))]
        elif isinstance(value, (int, float, str, tuple, list, dict, frozenset)):
            lines.append(f"{n} = {value!r}")
    return lines


def write_demo_class(folder: Path, lessons: list[str], *, out: Path,
                     source_root: Path = PROJECT_ROOT) -> dict[str, dict[str, set[str]]]:
    """Write the demo class's submissions; return, per student and lesson, the exercises it should pass.

    Args:
        folder: where to write ``<student>/<lesson>/<lesson>.ipynb``.
        lessons: lesson ids (each needs a source in solutions/ and a release in notebooks/).
        out: the grading output folder (a target of the cheater's writes).
        source_root: the project root holding solutions/ and notebooks/.
    """
    expected: dict[str, dict[str, set[str]]] = {s: {} for s in STUDENTS}
    cheat_names = list(CHEATS)
    n_cheats = 0  # the cheats go round across lessons, so a course with enough exercises tries them all
    for lesson in lessons:
        source_path = source_root / "solutions" / lesson / f"{lesson}.ipynb"
        source = json.loads(source_path.read_text())
        release = json.loads((source_root / "notebooks" / lesson / f"{lesson}.ipynb").read_text())
        exercises = exercises_for(lesson)
        variants = {"perfect": source, "blank": release, "mistakes": copy.deepcopy(release),
                    "cheater": copy.deepcopy(release)}
        for ex in exercises:
            wrong = _wrong_source(ex.misconceptions[0].wrong, ex.name) if ex.misconceptions else \
                f"def {ex.name}(*args, **kwargs):\n    return None\n"
            cheat = cheat_source(cheat_names[n_cheats % len(cheat_names)], ex.name, ex.reference_module,
                                 solutions=source_path, out=out)
            n_cheats += 1
            _set_solution(variants["mistakes"], ex.name, wrong)
            _set_solution(variants["cheater"], ex.name, cheat)
        for student, nb in variants.items():
            path = folder / student / lesson / f"{lesson}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(nb, indent=1))
            expected[student][lesson] = {ex.name for ex in exercises} if student == "perfect" else set()
    return expected


def _set_solution(nb: dict, grade_id: str, code: str) -> None:
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = code
            return
    raise KeyError(f"no cell with grade_id {grade_id!r}")
