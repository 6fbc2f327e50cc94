"""Lessons against their specs: sources, releases, solution == reference, and execution."""
import ast
import inspect
import json
import textwrap

import pytest

from autograder.builder.release import lesson_ids, release_into, source_notebook
from autograder.exercises import assignments, exercises_for
from autograder.paths import PROJECT_ROOT

LESSONS = lesson_ids()


def _cells(nb: dict) -> dict[str, dict]:
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"] if "nbgrader" in c.get("metadata", {})}


def _text(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def test_every_graded_lesson_has_a_source():
    assert set(assignments()) <= set(LESSONS)


@pytest.mark.parametrize("lesson", LESSONS)
def test_source_notebook_is_generated_from_the_py_file(lesson):
    folder = PROJECT_ROOT / "solutions" / lesson
    committed = json.loads((folder / f"{lesson}.ipynb").read_text())
    assert committed == source_notebook(folder / f"{lesson}.py"), \
        f"solutions/{lesson}/{lesson}.ipynb is stale: run `make release`"


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_follows_the_template_and_its_spec(lesson):
    nb = json.loads((PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())
    cells = _cells(nb)
    exercises = exercises_for(lesson)
    assert len(exercises) >= 5
    setup = [gid for gid in cells if gid.startswith("setup")]
    assert setup, "a locked setup cell is required"
    for gid in setup:
        assert "course" not in _text(cells[gid]), "setup cells must not import course (the grader blocks references)"
    graded = {gid: c for gid, c in cells.items() if c["metadata"]["nbgrader"].get("grade")}
    assert set(graded) == {ex.grade_id for ex in exercises}, "one test cell per exercise spec"
    for ex in exercises:
        assert cells[ex.name]["metadata"]["nbgrader"]["solution"], f"{ex.name}: no solution cell"
        test = _text(graded[ex.grade_id])
        assert test.lstrip().startswith('"""Check that'), f"{ex.grade_id} must open with a docstring"
        assert f"check({ex.name})" in test


def _function_defs(code: str) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)}


def _without_docstring(fn: ast.FunctionDef) -> str:
    body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) and isinstance(fn.body[0].value, ast.Constant) \
        and isinstance(fn.body[0].value.value, str) else fn.body
    return ast.dump(ast.Module(body=body, type_ignores=[])) + ast.dump(fn.args) + ast.dump(fn.returns or ast.Constant(None))


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_is_the_reference_function(lesson):
    """The notebook's solution and course's reference are the same code (docstrings aside), helpers included."""
    nb = json.loads((PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())
    code = "\n".join(_text(c) for gid, c in _cells(nb).items() if c["metadata"]["nbgrader"].get("solution"))
    defined = _function_defs(code.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""))
    for ex in exercises_for(lesson):
        ref = ex.load_reference()
        module = inspect.getmodule(ref)
        todo, seen = [ref], set()
        while todo:
            fn = todo.pop()
            if fn.__name__ in seen:
                continue
            seen.add(fn.__name__)
            ref_def = _function_defs(textwrap.dedent(inspect.getsource(fn)))[fn.__name__]
            assert fn.__name__ in defined, f"{ex.name}: the solution cells do not define {fn.__name__}"
            assert _without_docstring(defined[fn.__name__]) == _without_docstring(ref_def), \
                f"{fn.__name__} in solutions/{lesson} differs from {module.__name__}.{fn.__name__}"
            names = {n.id for n in ast.walk(ref_def) if isinstance(n, ast.Name)}
            todo += [getattr(module, n) for n in names
                     if inspect.isfunction(getattr(module, n, None)) and getattr(module, n).__module__ == module.__name__]


def test_release_is_fresh(tmp_path):
    """notebooks/ is exactly what nbgrader generates from solutions/ now."""
    fresh = release_into(tmp_path, LESSONS)
    for lesson in LESSONS:
        committed = PROJECT_ROOT / "notebooks" / lesson
        generated = fresh / lesson
        assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in generated.iterdir())
        for path in generated.iterdir():
            assert (committed / path.name).read_bytes() == path.read_bytes(), \
                f"notebooks/{lesson}/{path.name} is stale: run `make release`"


@pytest.mark.parametrize("lesson", LESSONS)
def test_release_holds_no_solution(lesson):
    text = "\n".join(p.read_text(errors="replace") for p in (PROJECT_ROOT / "notebooks" / lesson).rglob("*") if p.is_file())
    assert "BEGIN SOLUTION" not in text
    assert not list((PROJECT_ROOT / "notebooks" / lesson).rglob("*.py"))
    release = json.loads((PROJECT_ROOT / "notebooks" / lesson / f"{lesson}.ipynb").read_text())
    source = json.loads((PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())
    for ex in exercises_for(lesson):
        stub = _text(_cells(release)[ex.name])
        assert "raise NotImplementedError" in stub
        solution_body = _text(_cells(source)[ex.name]).split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
        assert solution_body.strip() not in stub
