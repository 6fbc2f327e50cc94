"""What the instructor writes in the source notebook counts, as it does for ``nbgrader autograde``.

A test cell the instructor adds (beyond the spec's) runs in the box after the notebook's cells and
scores its points when it raises nothing (hidden-test regions included: the grader takes the source's
code, not the student's copy); a cell graded by hand (a written answer) keeps its points in the
maximum and is left for the formgrader, flagged for review until the instructor scores it, and flagged
again when the student's notebook changes. The reference is nbgrader's gradebook, read through its API.
"""
import csv
import json
import shutil

import nbformat
import pytest

from autograder.grader.grade import GradeConfig, grade_submissions
from autograder.paths import PROJECT_ROOT

LESSON = "01_video_tensors"
pytestmark = pytest.mark.xdist_group("instructor-cells")

EXTRA_TEST = '''# the instructor's own check, with a hidden part
out = to_conv3d_layout(torch.zeros(1, 2, 3, 4, 5))
assert out.shape == (1, 3, 2, 4, 5)
### BEGIN HIDDEN TESTS
assert clip_numel(2, 3, 4, channels=1) == 24
### END HIDDEN TESTS
'''


def _meta(**nbgrader) -> dict:
    return {"nbgrader": {"schema_version": 3, "locked": False, "solution": False, "grade": False, **nbgrader}}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("instructor")
    source = nbformat.read(PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
    extra = nbformat.v4.new_code_cell(EXTRA_TEST, metadata=_meta(grade=True, locked=True, grade_id="test_extra_layout",
                                                                   points=2))
    answer = nbformat.v4.new_markdown_cell("Why is the channel axis second for Conv3d? YOUR ANSWER HERE",
                                           metadata=_meta(grade=True, solution=True, grade_id="why_channels_second",
                                                          points=3))
    source.cells += [answer, extra]
    (root / "source" / LESSON).mkdir(parents=True)
    nbformat.write(source, root / "source" / LESSON / f"{LESSON}.ipynb")
    solved = source
    blank = nbformat.read(PROJECT_ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb", as_version=4)
    blank.cells += [answer, extra]
    for student, nb in (("solved", solved), ("blank", blank)):
        (root / "submitted" / student / LESSON).mkdir(parents=True)
        nbformat.write(nb, root / "submitted" / student / LESSON / f"{LESSON}.ipynb")
    (root / "course").mkdir()
    return root


def _grade(course, out):
    cfg = GradeConfig(submissions=course / "submitted", out=out, seed=4321, source=course / "source",
                      course_dir=course / "course")
    return {r["student_id"]: r for r in grade_submissions(cfg, progress=False)}


def _rows(record):
    return {r["exercise_id"]: r for r in record["exercises"]}


def _grades(out, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        sub = gb.find_submission(LESSON, student)
        return sub.max_score, {g.name: (g.auto_score, g.manual_score, g.max_score, g.needs_manual_grade)
                               for nb in sub.notebooks for g in nb.grades}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return out, _grade(course, out)


def test_the_instructors_test_cell_runs_and_scores_its_points(graded):
    out, results = graded
    solved, blank = _rows(results["solved"]), _rows(results["blank"])
    assert solved["test_extra_layout"]["score"] == 2 and solved["test_extra_layout"]["status"] == "passed"
    assert blank["test_extra_layout"]["score"] == 0 and blank["test_extra_layout"]["status"] == "failed"
    assert "NotImplementedError" in blank["test_extra_layout"]["reason"]  # the blank stub raised in the cell
    spec_points = sum(r["max_score"] for r in results["solved"]["exercises"] if r.get("kind") is None)
    max_score, grades = _grades(out, "solved")
    assert grades["test_extra_layout"] == (2.0, None, 2.0, False)
    assert max_score == spec_points + 2 + 3  # the instructor's test and the written answer count


def test_a_failing_hidden_part_of_the_instructors_test_costs_its_points(course, tmp_path):
    src = course / "source" / LESSON / f"{LESSON}.ipynb"
    wrong = tmp_path / "source" / LESSON
    wrong.mkdir(parents=True)
    nb = json.loads(src.read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_extra_layout")
    cell["source"] = "".join(cell["source"]).replace("== 24", "== 25")  # the hidden assertion fails
    (wrong / f"{LESSON}.ipynb").write_text(json.dumps(nb))
    shutil.copytree(course / "submitted" / "solved", tmp_path / "submitted" / "solved")
    cfg = GradeConfig(submissions=tmp_path / "submitted", out=tmp_path / "out", seed=4321, source=tmp_path / "source",
                      course_dir=course / "course")
    rows = _rows(grade_submissions(cfg, progress=False)[0])
    assert rows["test_extra_layout"]["score"] == 0 and "AssertionError" in rows["test_extra_layout"]["reason"]


def test_a_written_answer_waits_for_the_formgrader_and_is_flagged_again_when_the_notebook_changes(course, graded,
                                                                                                 tmp_path):
    from nbgrader.api import Gradebook

    out, results = graded
    row = _rows(results["solved"])["why_channels_second"]
    assert (row["status"], row["score"], row["max_score"]) == ("manual", 0.0, 3.0)
    with open(out / "grades.csv", newline="") as f:
        pending = next(r for r in csv.DictReader(f) if r["student_id"] == "solved" and r["exercise_id"] == row["exercise_id"])
    assert pending["scored_by"] == "pending"
    assert _grades(out, "solved")[1]["why_channels_second"] == (None, None, 3.0, True)
    # the instructor scores it in the formgrader
    work = tmp_path / "out"
    shutil.copytree(out, work)
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:
        grade = gb.find_grade("why_channels_second", LESSON, LESSON, "solved")
        grade.manual_score, grade.needs_manual_grade = 2.5, False
        gb.db.commit()
    _grade(course, work)  # unchanged notebooks: reused from the cache, the instructor's review stands
    assert _grades(work, "solved")[1]["why_channels_second"] == (None, 2.5, 3.0, False)
    notebook = course / "submitted" / "solved" / LESSON / f"{LESSON}.ipynb"
    original = notebook.read_text()
    try:
        nb = nbformat.reads(original, as_version=4)
        nb.cells.append(nbformat.v4.new_markdown_cell("an edit after the review"))
        nbformat.write(nb, notebook)
        _grade(course, work)  # the notebook changed under the manual score: review it again
        assert _grades(work, "solved")[1]["why_channels_second"] == (None, 2.5, 3.0, True)
    finally:
        notebook.write_text(original)
