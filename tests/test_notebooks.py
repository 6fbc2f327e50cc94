"""Every lesson executes top to bottom, as the instructor's solutions and as the student's blank release.

Each lesson is executed twice here, which is what dominates the suite's time:

1. the instructor's solutions through ``nbgrader autograde`` (full marks, no error, figures drawn,
   PASS blocks), whose executed copy is also the lesson's *run*: every ``RESULT`` line it prints
   (``course.report.result``) is compared with every quote ``value<!--NN.key-->`` of that lesson in
   its own markdown and in the README;
2. the blank release through ``nbgrader validate --invert`` (no test cell passes), whose executed copy
   shows that a student who leaves every stub untouched reaches the end: the only failing cells are
   the exercises' check cells, and each fails with a verdict (``CheckFailed``), not a crash.
"""
import json
import re
import shutil

import nbformat
import pytest

from autograder.builder.release import lesson_ids, notebook_config
from autograder.paths import PROJECT_ROOT
from course.report import QUOTE_PATTERN, check_quotes, parse_results

LESSONS = lesson_ids()
FIGURE_TEXT = re.compile(r"<Figure size \d+x\d+ with \d+ Axes>")


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(outputs) -> str:
    """All text a reader sees: streams, plain-text displays and results."""
    parts = []
    for o in outputs:
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        elif o.get("output_type") in ("display_data", "execute_result"):
            parts.append(o.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _figures_as_text(outputs) -> list[str]:
    """Outputs that show a figure only as its text (``<Figure size ...>``), with no image beside it."""
    bad = []
    for o in outputs:
        data = o.get("data", {})
        text = o.get("text", "") if o.get("output_type") == "stream" else data.get("text/plain", "")
        if FIGURE_TEXT.search(text) and "image/png" not in data:
            bad.append(FIGURE_TEXT.search(text)[0])
    return bad


def _is_grade(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade", False))


@pytest.mark.parametrize("lesson", LESSONS)
def test_solutions_execute_and_nbgrader_autograde_gives_full_marks(lesson, tmp_path, monkeypatch):
    """The compatibility path: nbgrader's generate_assignment + autograde on the instructor's solutions.

    The executed notebook must hold no error, at least one figure and no figure printed as text, at
    least five PASS verdicts of ``check`` and no FAIL; every quoted number of the lesson (its markdown
    and its README row) must agree with the RESULT the run printed.
    """
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from autograder.grader.gradebook import ensure_tools_on_path

    ensure_tools_on_path()
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # figures as outputs, as in Jupyter
    shutil.copytree(PROJECT_ROOT / "solutions" / lesson, tmp_path / "solutions" / lesson)
    (tmp_path / "build").mkdir()
    config = notebook_config(tmp_path, "release")
    config.CourseDirectory.submitted_directory = "submitted"
    config.CourseDirectory.autograded_directory = "autograded"
    config.ExecutePreprocessor.timeout = 300
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    assert api.generate_assignment(lesson, force=True, create=True)["success"]
    submitted = tmp_path / "submitted" / "student" / lesson
    submitted.mkdir(parents=True)
    shutil.copy(tmp_path / "solutions" / lesson / f"{lesson}.ipynb", submitted / f"{lesson}.ipynb")
    (submitted / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
    result = api.autograde(lesson, "student", force=True, create=True)
    assert result["success"], result.get("log", "") + result.get("error", "")
    with Gradebook(config.CourseDirectory.db_url) as gb:
        sub = gb.find_submission(lesson, "student")
        assert sub.max_score > 0 and sub.score == sub.max_score, json.dumps(
            {g.name: (g.score, g.max_score) for nb in sub.notebooks for g in nb.grades})
    nb = nbformat.read(tmp_path / "autograded" / "student" / lesson / f"{lesson}.ipynb", as_version=4)
    outputs = _outputs(nb)
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, "\n".join(f"{o.get('ename')}: {o.get('evalue')}" for o in errors)
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for o in outputs), \
        "a lesson shows at least one figure"
    assert not _figures_as_text(outputs), f"figures printed as text instead of drawn: {_figures_as_text(outputs)}"
    text = _text(outputs)
    assert "FAIL" not in text and text.count("PASS") >= 5
    # every quoted number of this lesson agrees with its run
    results = parse_results(text)
    number = lesson[:2] + "."
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    problems = check_quotes(markdown, results, prefix=number) + check_quotes(readme, results, prefix=number)
    assert not problems, f"{lesson}: quoted numbers disagree with the run:\n" + "\n".join(problems)
    foreign = [m["key"] for m in QUOTE_PATTERN.finditer(markdown) if not m["key"].startswith(number)]
    assert not foreign, f"{lesson} quotes results of other lessons: {foreign}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_release_with_untouched_stubs_runs_to_the_end(lesson, tmp_path, monkeypatch):
    """`nbgrader validate --invert` on the blank release: no test cell passes, and nothing else fails.

    In the executed copy, every cell that is not a check cell runs without an error (later cells use
    the ``course`` reference, never a stub), every check cell fails with ``CheckFailed`` (a verdict,
    not a crash), the last cell ran, and no figure is printed as text.
    """
    from traitlets.config import Config

    from nbgrader.validator import Validator

    class KeepExecuted(Validator):
        executed = None

        def _preprocess(self, nb):  # noqa: ANN001, ANN202 - nbgrader's hook
            KeepExecuted.executed = super()._preprocess(nb)
            return KeepExecuted.executed

    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # figures as outputs, as in Jupyter
    shutil.copy(PROJECT_ROOT / "notebooks" / lesson / f"{lesson}.ipynb", tmp_path / "release.ipynb")
    config = Config()
    config.Execute.timeout = 300
    assert KeepExecuted(invert=True, config=config).validate(str(tmp_path / "release.ipynb")) == {}
    nb = KeepExecuted.executed
    code = [c for c in nb.cells if c.cell_type == "code"]
    broken = [(i, o.get("ename"), o.get("evalue", "")[:200]) for i, c in enumerate(code) if not _is_grade(c)
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not broken, f"{lesson}: cells other than checks fail with the stubs untouched (code cell, error): {broken}"
    checks = [c for c in code if _is_grade(c)]
    not_verdicts = [(c.source.splitlines()[0], [o.get("ename") for o in c.outputs if o.get("output_type") == "error"])
                    for c in checks
                    if [o.get("ename") for o in c.outputs if o.get("output_type") == "error"] != ["CheckFailed"]]
    assert not not_verdicts, f"{lesson}: check cells that do not fail with a verdict: {not_verdicts}"
    assert code[-1].get("execution_count"), f"{lesson}: the last code cell did not run"
    figures = _figures_as_text(_outputs(nb))
    assert not figures, f"{lesson}: figures printed as text instead of drawn: {figures}"
