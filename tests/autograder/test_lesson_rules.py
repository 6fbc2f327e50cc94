"""Rules every lesson keeps, read statically from the source notebooks (no execution).

- Later cells never use a name a student defines: an Implement cell's function may be called only in
  its own check cell. The execution test finds stubs that raise; this one also finds a stub whose
  wrong result would silently flow into a figure or a number.
- No measured decimal percentage typed into markdown: it is printed by the run and quoted as
  ``value<!--NN.key-->`` (see course.report).
- No ``progress=False`` in a lesson: long training shows a bar.
"""
import ast
import json
import re

import pytest

from autograder.builder.release import lesson_ids
from autograder.paths import PROJECT_ROOT

LESSONS = lesson_ids()
TYPED_PERCENT = re.compile(r"(?<![\w.])\d+\.\d+\s?%(?!\s*<!--)")


def _cells(lesson: str) -> list[dict]:
    nb = json.loads((PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())
    return nb["cells"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


@pytest.mark.parametrize("lesson", LESSONS)
def test_later_cells_never_use_a_name_the_student_defines(lesson):
    """Check that every name an Implement cell defines is used only in check cells (and its own cell)."""
    student: set[str] = set()
    offending = []
    for i, cell in enumerate(_cells(lesson)):
        if cell["cell_type"] != "code":
            continue
        meta = _nbgrader(cell)
        tree = ast.parse(_source(cell))
        if meta.get("solution"):
            student |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            continue
        if meta.get("grade"):
            continue
        rebound = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
                   if isinstance(t, ast.Name)}
        rebound |= {a.asname or a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                    for a in n.names}
        rebound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        offending += [(i, name) for name in sorted((used & student) - rebound)]
        student -= rebound  # a cell that re-binds the name (e.g. imports the reference under it) makes it safe
    assert not offending, (f"{lesson}: cells use functions the student writes (cell index, name); use the "
                           f"course reference explicitly: {offending}")


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_typed_percentages_in_markdown(lesson):
    """Check that no decimal percentage is typed into markdown without a quote of the run."""
    typed = [m.group(0) for c in _cells(lesson) if c["cell_type"] == "markdown"
             for m in TYPED_PERCENT.finditer(_source(c))]
    assert not typed, f"{lesson}: percentages typed into markdown (print them, or quote value<!--NN.key-->): {typed}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_training_shows_progress(lesson):
    """Check that no cell turns the progress bar off."""
    hidden = [i for i, c in enumerate(_cells(lesson)) if c["cell_type"] == "code" and "progress=False" in _source(c)]
    assert not hidden, f"{lesson}: cells with progress=False: {hidden}"


def _course_functions() -> dict[str, str]:
    """Public function names of every ``course`` module → the module that defines it (read statically)."""
    names = {}
    for path in sorted((PROJECT_ROOT / "course").rglob("*.py")):
        module = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                names.setdefault(node.name, module)
    return names


def _lesson_functions(lesson: str) -> set[str]:
    """Top-level functions the lesson defines outside its Implement cells."""
    names = set()
    for cell in _cells(lesson):
        if cell["cell_type"] != "code" or _nbgrader(cell).get("solution"):
            continue
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:  # IPython magics; the execution tests run these cells
            continue
        names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return names


def redefinitions(lessons: dict[str, set[str]], library: dict[str, str]) -> list[str]:
    """A lesson helper named like a ``course`` function, or the same helper written in two lessons."""
    problems = [f"{lesson} defines {name}: use {library[name]}.{name}"
                for lesson, names in lessons.items() for name in sorted(names) if name in library]
    seen: dict[str, str] = {}
    for lesson, names in lessons.items():
        for name in sorted(names):
            if name in seen and name not in library:
                problems.append(f"{name} is written in {seen[name]} and {lesson}: move it to course")
            seen.setdefault(name, lesson)
    return problems


def test_lessons_use_course_instead_of_rewriting_it():
    """A lesson calls ``course``'s helpers instead of writing its own copy (its exercises aside)."""
    problems = redefinitions({lesson: _lesson_functions(lesson) for lesson in LESSONS}, _course_functions())
    assert not problems, "\n".join(problems)


def test_a_rewritten_helper_is_reported():
    """Check that the rule finds both kinds of copy and accepts distinct helpers."""
    library = {"count_params": "course.counting"}
    assert redefinitions({"01_a": {"count_params", "show"}, "02_b": {"show", "plot"}}, library) == [
        "01_a defines count_params: use course.counting.count_params",
        "show is written in 01_a and 02_b: move it to course"]
    assert redefinitions({"01_a": {"show"}, "02_b": {"plot"}}, library) == []


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_empty_code_cell(lesson):
    """An empty code cell (a stray ``# %%`` in the source) never runs: Run All leaves it without a number."""
    empty = [i for i, c in enumerate(_cells(lesson)) if c["cell_type"] == "code" and not _source(c).strip()]
    assert not empty, f"{lesson}: empty code cells at {empty} (remove the stray '# %%' from the .py source)"
