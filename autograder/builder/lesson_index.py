"""The lesson index: lesson → graded exercises → ``course`` modules → tests → spec, read from the code.

Nothing here is typed by hand. For every lesson the index is derived from:

* the lesson sources: ``solutions/NN_topic/NN_topic.py`` (the jupytext file an instructor edits);
* the exercise specs: the modules of :mod:`autograder.exercises`, each with ``ASSIGNMENT`` (the
  lesson id) and ``EXERCISES`` (its graded functions in notebook order), each exercise naming its
  reference as a dotted string (``Exercise.reference``, e.g. ``"course.nn.inflation.inflate_weight"``),
  which is imported here to prove that it exists;
* the tests: every ``tests/**/*.py`` file whose import statements name the reference module
  (``import course.nn.inflation``, ``from course.nn.inflation import ...`` or
  ``from course.nn import inflation``), read with :mod:`ast`, never guessed from file names.

``solutions/README.md`` shows the table :func:`render_markdown` makes, between the lines
:data:`BEGIN` and :data:`END`; ``tests/autograder/test_lesson_index.py`` fails when the two differ
or when a lesson, spec, reference or test is missing. Usage (from the repository root)::

    python -m autograder.builder.lesson_index            # print the table
    python -m autograder.builder.lesson_index --check    # exit 1 and say what differs from solutions/README.md
    python -m autograder.builder.lesson_index --write    # put the table into solutions/README.md
"""
from __future__ import annotations

import argparse
import ast
import difflib
import importlib
import sys
from pathlib import Path

from autograder.exercises import exercises_for, lesson_modules
from autograder.paths import PROJECT_ROOT

__all__ = ["BEGIN", "END", "lesson_index", "render_markdown", "readme_block", "readme_problems",
           "imported_modules", "main"]

BEGIN = "<!-- lesson-index:begin -->"  # the line before the table in solutions/README.md
END = "<!-- lesson-index:end -->"  # the line after it
README = Path("solutions") / "README.md"  # relative to the root


def imported_modules(path: Path) -> set[str]:
    """The modules a Python file names in its import statements (module level and inside functions).

    Args:
        path: a ``.py`` file.

    Returns:
        Dotted module names: ``a.b`` for ``import a.b`` and ``from a.b import c``, and also ``a.b.c``
        for the latter (``c`` may be a submodule). Relative imports are skipped.

    Raises:
        SyntaxError: the file is not valid Python.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _resolve(reference: str) -> str | None:
    """None when ``reference`` ("pkg.module.function") imports, else what went wrong."""
    module, _, attr = reference.rpartition(".")
    try:
        found = importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - any import failure is reported, not raised
        return f"module {module} does not import ({type(exc).__name__}: {exc})"
    if not hasattr(found, attr):
        return f"module {module} has no attribute {attr!r}"
    return None


def lesson_index(root: Path = PROJECT_ROOT) -> list[dict]:
    """Every lesson with its spec, graded exercises, reference modules, tests and source.

    Args:
        root: the repository root (``solutions/`` and ``tests/`` are read there; the specs are the
            imported :mod:`autograder.exercises`).

    Returns:
        One dict per lesson id found in ``solutions/*/`` or in a spec, sorted by id::

            {"lesson": "05_inflation",
             "spec": "autograder/exercises/inflation.py" or None (no spec),
             "solution": "solutions/05_inflation/05_inflation.py" or None (no source),
             "exercises": [{"name": "inflate_weight",                 # in the spec's (notebook) order
                            "reference": "course.nn.inflation.inflate_weight",
                            "module": "course.nn.inflation",
                            "function": "inflate_weight",
                            "error": None or why the reference does not import,
                            "tests": ["tests/nn/test_inflation.py", ...]},   # files importing the module
                           ...]}

        Paths are relative to ``root``, with ``/``.
    """
    # 1. the lessons: solution folders holding NN_topic/NN_topic.py, and the specs' lesson ids
    solutions = {p.parent.name: p.relative_to(root).as_posix()
                 for p in (root / "solutions").glob("*/*.py") if p.stem == p.parent.name}
    specs = lesson_modules()  # lesson id -> module name under autograder.exercises
    # 2. which modules each test file imports
    imports = {p.relative_to(root).as_posix(): imported_modules(p) for p in sorted((root / "tests").rglob("*.py"))}
    index = []
    for lesson in sorted(set(solutions) | set(specs)):
        exercises = []
        for ex in (exercises_for(lesson) if lesson in specs else []):
            # 3. each reference, imported; the tests that import its module
            module, _, function = ex.reference.rpartition(".")
            exercises.append({"name": ex.name, "reference": ex.reference, "module": module, "function": function,
                              "error": _resolve(ex.reference),
                              "tests": [path for path, names in imports.items() if module in names]})
        index.append({"lesson": lesson,
                      "spec": f"autograder/exercises/{specs[lesson]}.py" if lesson in specs else None,
                      "solution": solutions.get(lesson), "exercises": exercises})
    return index


def _code(text: str) -> str:
    return f"`{text}`"


def render_markdown(index: list[dict]) -> str:
    """The index as a Markdown table, one row per run of consecutive exercises with one reference module.

    Args:
        index: what :func:`lesson_index` returns.

    Returns:
        The table (header, separator, rows), ending in a newline; paths are from the repository root.
        A lesson's id, source and spec appear on its first row only; a missing part reads "none".
    """
    lines = ["| lesson (source) | graded exercises (in the spec's order) | `course` module | tests importing it | spec |",
             "| --- | --- | --- | --- | --- |"]
    for entry in index:
        # 1. consecutive exercises with the same reference module share a row
        runs: list[list[dict]] = []
        for ex in entry["exercises"]:
            if runs and runs[-1][0]["module"] == ex["module"]:
                runs[-1].append(ex)
            else:
                runs.append([ex])
        lesson = f"{_code(entry['lesson'])} ({_code(entry['solution']) if entry['solution'] else 'no source'})"
        spec = _code(entry["spec"]) if entry["spec"] else "none"
        # 2. one row per run; a lesson without exercises still gets its row
        for i, run in enumerate(runs or [[]]):
            names = ", ".join(_code(ex["name"]) + (" (does not import)" if ex["error"] else "") for ex in run)
            module = _code(run[0]["module"]) if run else "none"
            tests = ", ".join(_code(t) for t in run[0]["tests"]) if run and run[0]["tests"] else "none"
            first = i == 0
            lines.append(f"| {lesson if first else ''} | {names or 'none'} | {module} | {tests} | "
                         f"{spec if first else ''} |")
    return "\n".join(lines) + "\n"


def readme_block(text: str) -> str | None:
    """The text between the :data:`BEGIN` and :data:`END` lines of a README, or None without both markers."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        return None
    return "".join(lines[starts[0] + 1:ends[0]])


def readme_problems(table: str, text: str) -> list[str]:
    """What differs between a generated table and the block of a README.

    Args:
        table: :func:`render_markdown`'s output.
        text: the README's whole text.

    Returns:
        An empty list when the block equals the table; else messages: missing or repeated markers,
        then each differing line (``-`` in the README only, ``+`` generated only).
    """
    block = readme_block(text)
    if block is None:
        return [f"{README} needs exactly one line {BEGIN} followed by one line {END}"]
    if block.strip() == table.strip():
        return []
    diff = difflib.unified_diff(block.strip().splitlines(), table.strip().splitlines(), lineterm="", n=0)
    return [line for line in diff if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))]


def _write(readme: Path, table: str) -> None:
    text = readme.read_text(encoding="utf-8")
    if readme_block(text) is None:
        raise SystemExit(f"{README} needs exactly one line {BEGIN} followed by one line {END}")
    head, rest = text.split(BEGIN + "\n", 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{table}{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Print the table; ``--check``: compare it with solutions/README.md; ``--write``: update that file.

    Returns:
        The exit status: 1 when ``--check`` finds a difference, else 0.
    """
    parser = argparse.ArgumentParser(prog="python -m autograder.builder.lesson_index",
                                     description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help=f"exit 1 when the block in {README} differs")
    group.add_argument("--write", action="store_true", help=f"replace the block in {README} by the table")
    args = parser.parse_args(argv)
    table = render_markdown(lesson_index())
    readme = PROJECT_ROOT / README
    if args.write:
        _write(readme, table)
        return 0
    if not args.check:
        print(table, end="")
        return 0
    problems = readme_problems(table, readme.read_text(encoding="utf-8"))
    if problems:
        print(f"{README}: the lesson index is stale (run `python -m autograder.builder.lesson_index --write`):",
              *problems, sep="\n")
        return 1
    print(f"{README}: the lesson index is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
