"""Every lesson executes top to bottom (solutions in place) under nbgrader's own autograde, with full marks.

Each lesson is executed twice here, which is what dominates the suite's time: once as the instructor's
solutions (through ``nbgrader autograde``, whose executed copy is then inspected) and once as the
blank release (``nbgrader validate --invert``).
"""
import json
import shutil

import nbformat
import pytest

from autograder.release import PROJECT_ROOT, lesson_ids, notebook_config

LESSONS = lesson_ids()


@pytest.mark.parametrize("lesson", LESSONS)
def test_solutions_execute_and_nbgrader_autograde_gives_full_marks(lesson, tmp_path, monkeypatch):
    """The compatibility path: nbgrader's generate_assignment + autograde on the instructor's solutions.

    The executed notebook must hold no error, at least one figure, at least five PASS lines of
    ``check`` and no FAIL.
    """
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from autograder.gradebook import ensure_tools_on_path

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
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for o in outputs), \
        "a lesson shows at least one figure"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "FAIL" not in text and text.count("PASS") >= 5


@pytest.mark.parametrize("lesson", LESSONS)
def test_nbgrader_validate_fails_every_test_cell_of_the_release(lesson, tmp_path):
    """`nbgrader validate --invert` on the blank release: no test cell passes (autograde above covers the source)."""
    from nbgrader.validator import Validator

    shutil.copy(PROJECT_ROOT / "notebooks" / lesson / f"{lesson}.ipynb", tmp_path / "release.ipynb")
    assert Validator(invert=True).validate(str(tmp_path / "release.ipynb")) == {}
