"""Every lesson's solutions execute top to bottom through nbgrader, once: the lesson's run.

The instructor's solutions go through ``nbgrader autograde`` (full marks, no error, figures drawn,
PASS blocks); its executed copy is the lesson's *run*: every ``RESULT`` line it prints
(``course.report.result``) is compared with every quote ``value<!--NN.key-->`` of that lesson in its
own markdown and in the README.

The student's side, the blank release with every stub untouched, is executed once too, where a
student runs it: Run All in JupyterLab in Chromium (``tests/browser/test_lab.py``), which checks that
it reaches the last cell, that only the check cells fail and each shows its verdict, and that figures
and widgets work. Both run in ``make test-lessons`` (marker ``lessons``), not in ``make test``.
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
pytestmark = pytest.mark.lessons
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
