"""The official grader on a demo class and on broken or hostile submissions.

Each case here is a known-wrong or hostile submission that the grader must score correctly without
letting it touch anything outside its sandbox or anyone else's grade.

The demo class (four students of every lesson, 60 boxed submissions) executes every lesson's solution
cells: its tests are whole-lesson runs, in ``make test-lessons`` (marker ``lessons``) with the notebooks;
the broken and hostile single submissions of lesson 01 are in ``make test``.
"""
import csv
import hashlib
import json
import re

import pytest

from autograder.builder.demo import CHEATS, STUDENTS, write_demo_class
from autograder.builder.release import lesson_ids
from autograder.exercises import exercises_for
from autograder.grader.grade import GRADES_COLUMNS, GradeConfig, grade_submissions
from autograder.paths import PROJECT_ROOT

LESSONS = lesson_ids()
SEED = 1234


def demo_class(test):
    """Marks a test of the graded demo class: a whole-lesson run, on the one worker that grades it once."""
    return pytest.mark.lessons(pytest.mark.xdist_group("demo-class")(test))


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The demo class of every lesson, graded once (two jobs in parallel).

    Session scope: xdist may run its tests interleaved with other modules' on that worker, and a
    module-scoped fixture would be graded again after each switch."""
    root = tmp_path_factory.mktemp("demo")
    out = root / "out"
    protected = [PROJECT_ROOT / "README.md", PROJECT_ROOT / "course" / "__init__.py",
                 *(PROJECT_ROOT / "solutions" / l / f"{l}.ipynb" for l in LESSONS)]
    before = {p: _digest(p) for p in protected}
    expected = write_demo_class(root / "submitted", LESSONS, out=out)
    results = grade_submissions(GradeConfig(submissions=root / "submitted", out=out, seed=SEED, jobs=2), progress=False)
    return {"root": root, "out": out, "expected": expected, "results": results, "before": before}


def _record(results, student, lesson):
    return next(r for r in results if r["student_id"] == student and r["assignment_id"] == lesson)


@demo_class
@pytest.mark.parametrize("student", STUDENTS)
@pytest.mark.parametrize("lesson", LESSONS)
def test_demo_students_get_the_right_scores(demo, student, lesson):
    rec = _record(demo["results"], student, lesson)
    passed = {r["exercise_id"] for r in rec["exercises"] if r["status"] == "passed"}
    assert passed == demo["expected"][student][lesson], rec
    for row in rec["exercises"]:
        assert row["score"] == (row["max_score"] if row["exercise_id"] in passed else 0)


@demo_class
@pytest.mark.parametrize("lesson", LESSONS)
def test_blank_is_reported_as_not_implemented(demo, lesson):
    rec = _record(demo["results"], "blank", lesson)
    assert {r["status"] for r in rec["exercises"]} == {"not_implemented"}


@demo_class
@pytest.mark.parametrize("lesson", LESSONS)
def test_mistakes_are_named_in_the_feedback(demo, lesson):
    rec = _record(demo["results"], "mistakes", lesson)
    for ex, row in zip(exercises_for(lesson), rec["exercises"]):
        assert row["hint"] == ex.misconceptions[0].message, row


@demo_class
def test_every_cheat_was_tried_and_failed(demo):
    """Read which cheat each of the cheater's cells holds (the notebooks as written) and that each scored 0."""
    tried = {}
    for lesson in LESSONS:
        nb = json.loads((demo["root"] / "submitted" / "cheater" / lesson / f"{lesson}.ipynb").read_text())
        cells = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in nb["cells"]
                 if "nbgrader" in c.get("metadata", {})}
        rec = _record(demo["results"], "cheater", lesson)
        for row in rec["exercises"]:
            cheat = re.match(r"# demo cheat: (\w+)", cells[row["exercise_id"]])
            assert cheat, f"{lesson}/{row['exercise_id']}: the cheater's cell holds no cheat"
            tried.setdefault(cheat[1], []).append(row)
            assert row["score"] == 0, row
    assert set(tried) == set(CHEATS), f"the lessons have too few exercises to try {set(CHEATS) - set(tried)}"


@demo_class
def test_cheater_changed_no_file(demo):
    for path, digest in demo["before"].items():
        assert _digest(path) == digest, f"{path} was modified during grading"
    assert "tampered" not in (demo["out"] / "grades.csv").read_text()


@demo_class
def test_outputs(demo):
    out = demo["out"]
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == GRADES_COLUMNS
    n_exercises = sum(len(exercises_for(l)) for l in LESSONS)
    assert len(rows) == len(STUDENTS) * n_exercises
    for student in STUDENTS:
        for lesson in LESSONS:
            page = (out / "feedback" / student / f"{lesson}.html").read_text()
            assert lesson in page and "<table>" in page
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for lesson in LESSONS:
            perfect = gb.find_submission(lesson, "perfect")
            blank = gb.find_submission(lesson, "blank")
            assert perfect.score == perfect.max_score > 0
            assert blank.score == 0
            # autograded cells need no manual grading (the formgrader would list every submission otherwise)
            assert not perfect.needs_manual_grade and not blank.needs_manual_grade


@demo_class
def test_regrading_reuses_results_unless_forced(demo):
    cfg = GradeConfig(submissions=demo["root"] / "submitted", out=demo["out"], seed=SEED, jobs=2,
                      assignments=[LESSONS[0]])
    again = grade_submissions(cfg, progress=False)
    assert all(r.get("reused") for r in again)
    assert [r["exercises"] for r in again] == [_record(demo["results"], r["student_id"], LESSONS[0])["exercises"]
                                               for r in again]


@pytest.fixture()
def one_lesson(tmp_path):
    lesson = LESSONS[0]
    source = json.loads((PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())
    return lesson, source, tmp_path


def _grade_one(tmp_path, lesson, student, content):
    path = tmp_path / "submitted" / student / lesson / f"{lesson}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    results = grade_submissions(GradeConfig(submissions=tmp_path / "submitted", out=tmp_path / "out", seed=SEED),
                                progress=False)
    return _record(results, student, lesson)


def _solution_cells(nb):
    return [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]


def test_invalid_json_scores_zero_with_a_row_per_exercise(one_lesson):
    lesson, _, tmp = one_lesson
    rec = _grade_one(tmp, lesson, "broken", '{"cells": [ this is not json')
    assert len(rec["exercises"]) == len(exercises_for(lesson))
    assert all(r["score"] == 0 and r["status"] == "missing" for r in rec["exercises"])
    assert "not a readable notebook" in rec["problems"][0]


def test_deleted_cell_costs_only_its_exercise(one_lesson):
    lesson, source, tmp = one_lesson
    first = exercises_for(lesson)[0].name
    source["cells"] = [c for c in source["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != first]
    rec = _grade_one(tmp, lesson, "deleter", source)
    scores = {r["exercise_id"]: r["score"] for r in rec["exercises"]}
    assert scores[first] == 0 and all(v > 0 for k, v in scores.items() if k != first)
    assert any("missing" in p for p in rec["problems"])


def test_duplicated_cell_grades_the_last_copy(one_lesson):
    lesson, source, tmp = one_lesson
    ex = exercises_for(lesson)[0]
    cell = next(c for c in _solution_cells(source) if c["metadata"]["nbgrader"]["grade_id"] == ex.name)
    wrong = json.loads(json.dumps(cell))
    wrong["source"] = f"def {ex.name}(*args, **kwargs):\n    return None\n"
    i = source["cells"].index(cell)
    source["cells"].insert(i + 1, wrong)  # the last copy is wrong
    rec = _grade_one(tmp, lesson, "duplicator", source)
    assert rec["exercises"][0]["score"] == 0
    assert all(r["score"] > 0 for r in rec["exercises"][1:])
    assert any("appears 2 times" in p for p in rec["problems"])


def test_edited_locked_cells_are_restored_from_the_source(one_lesson):
    lesson, source, tmp = one_lesson
    release = json.loads((PROJECT_ROOT / "notebooks" / lesson / f"{lesson}.ipynb").read_text())
    ex = exercises_for(lesson)[0]
    for cell in release["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            cell["source"] = "print('all tests passed')"  # a test cell that cannot fail
        elif meta.get("grade_id", "").startswith("setup"):
            # the setup cell smuggles in the reference
            cell["source"] = f"from {ex.reference_module} import {ex.name}\n"
    rec = _grade_one(tmp, lesson, "editor", release)
    assert all(r["score"] == 0 for r in rec["exercises"])


def test_exit_at_import_time_zeroes_the_notebook_not_the_class(one_lesson):
    lesson, source, tmp = one_lesson
    _solution_cells(source)[0]["source"] = "import os\nos._exit(3)\n"
    good = json.loads((PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())
    (tmp / "submitted" / "good" / lesson).mkdir(parents=True)
    (tmp / "submitted" / "good" / lesson / f"{lesson}.ipynb").write_text(json.dumps(good))
    rec = _grade_one(tmp, lesson, "exiter", source)
    assert all(r["score"] == 0 and r["status"] == "crash" for r in rec["exercises"])
    results = json.loads((tmp / "out" / "grades.json").read_text())
    assert all(r["score"] > 0 for r in _record(results, "good", lesson)["exercises"])


def test_a_box_that_fails_to_start_is_not_cached(one_lesson, monkeypatch):
    """Check that a failure before any student code ran (the machine's fault) is reported and retried next run.

    A zero from a failed start used to be written to the resume cache, so re-running kept it.
    """
    import subprocess

    from autograder.grader import grade

    lesson, source, tmp = one_lesson
    real_popen = subprocess.Popen

    def popen(args, *a, **k):
        if "autograder.grader._child" in args:  # the child (in its box or not) cannot start
            args = ["/bin/sh", "-c", "echo 'OSError: the box could not be built' >&2; exit 1"]
        return real_popen(args, *a, **k)

    monkeypatch.setattr(grade.subprocess, "Popen", popen)
    first = _grade_one(tmp, lesson, "honest", source)
    assert all(r["score"] == 0 and grade.START_FAILED in r["reason"] for r in first["exercises"])
    assert not (tmp / "out" / "results" / "honest" / f"{lesson}.json").exists()
    monkeypatch.setattr(grade.subprocess, "Popen", real_popen)
    again = _grade_one(tmp, lesson, "honest", source)
    assert not again.get("reused") and all(r["score"] == r["max_score"] for r in again["exercises"])


@demo_class
def test_grading_one_assignment_keeps_the_others_in_the_outputs(demo):
    """Check that re-grading one lesson with --force rewrites its rows and keeps every other lesson's."""
    before = (demo["out"] / "grades.csv").read_text().splitlines()
    cfg = GradeConfig(submissions=demo["root"] / "submitted", out=demo["out"], seed=SEED, jobs=2,
                      assignments=[LESSONS[0]], force=True)
    again = grade_submissions(cfg, progress=False)
    assert again and all(not r.get("reused") for r in again)
    after = (demo["out"] / "grades.csv").read_text().splitlines()
    assert sorted(after) == sorted(before)  # same grades, every lesson still there
    assert {r["assignment_id"] for r in json.loads((demo["out"] / "grades.json").read_text())} == set(LESSONS)


def test_scores_go_to_the_gradebook_url_given(one_lesson):
    """Check that --db-url (an SQLAlchemy URL, as nbgrader's db_url) receives the grades instead of OUT/gradebook.db."""
    from nbgrader.api import Gradebook

    lesson, source, tmp = one_lesson
    path = tmp / "submitted" / "s" / lesson / f"{lesson}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(source))
    url = f"sqlite:///{tmp / 'course.db'}"
    grade_submissions(GradeConfig(submissions=tmp / "submitted", out=tmp / "out", seed=SEED, db_url=url), progress=False)
    assert not (tmp / "out" / "gradebook.db").exists()
    with Gradebook(url) as gb:
        sub = gb.find_submission(lesson, "s")
        assert sub.score == sub.max_score > 0


@pytest.mark.parametrize("note,kind", [
    ("8 frames, stride 6, start 14 of 80", "… frames, stride …, start … of …"),
    ("uint16 (5, 4), slope 2.54422, intercept -1348.63", "uint16 (…, …), slope …, intercept -…"),
    ("window L50/W400 on (17, 7)", "window L…/W… on (…, …)"),
    ("a 2D window, float32", "a 2D window, float32"),
    ("3×3×3 kernel, int64 indices", "…×…×… kernel, int64 indices"),
    ("", ""),
])
def test_a_hidden_case_shows_its_kind_without_numbers(note, kind):
    from autograder.student.verdict import case_kind

    assert case_kind(note) == kind


def _digits_outside_dtypes(text):
    import re

    from autograder.student.verdict import _KEEP

    text = re.sub(r"result(\[[^\]]*\])+", "result", text)  # an item's position in the result is no value
    return re.findall(r"\d", _KEEP.sub("", text))


@pytest.mark.parametrize("lesson", LESSONS[:3])
def test_each_case_is_marked_public_or_hidden_and_hidden_ones_show_no_values(lesson):
    """Check that a known-wrong solution failing only on hidden cases is told the kind of each failing case and
    the likely cause, and no number of those cases (no size, no expected value)."""
    from autograder.student.check import reference_outcomes
    from autograder.student.verdict import call, case_kind, judge

    for ex in exercises_for(lesson):
        if not ex.misconceptions:
            continue
        public, hidden = ex.cases(), ex.cases(SEED)
        expected = reference_outcomes(ex, public + hidden)
        wrong = ex.misconceptions[0]
        got = expected[:len(public)] + [call(wrong.wrong, c) for c in hidden]  # right on the public cases only
        verdict = judge(ex, public + hidden, expected, got, num_public=len(public), blind=True)
        assert [c["public"] for c in verdict.cases] == [True] * len(public) + [False] * len(hidden)
        assert all(c["ok"] for c in verdict.cases[:len(public)])
        failing = [(case, c) for case, c in zip(hidden, verdict.cases[len(public):]) if not c["ok"]]
        if not failing:
            continue  # this mistake happens to be right on every hidden case
        assert verdict.reason.startswith("hidden case ") and not _digits_outside_dtypes(verdict.reason.split(":", 1)[1])
        for case, c in failing:
            assert c["kind"] == case_kind(case.note) and not _digits_outside_dtypes(c["kind"] + " " + c["why"]), c
        assert any(c["cause"] == wrong.message for _, c in failing), (ex.name, failing)


@demo_class
@pytest.mark.parametrize("lesson", LESSONS)
def test_feedback_marks_cases_and_never_prints_a_hidden_case(demo, lesson):
    page = (demo["out"] / "feedback" / "mistakes" / f"{lesson}.html").read_text()
    rec = _record(demo["results"], "mistakes", lesson)
    for row in rec["exercises"]:  # each exercise's marks, one per case of its record, public and hidden apart
        for label, public in (("public", True), ("hidden", False)):
            marks = "".join("✓" if c["ok"] else "✗" for c in row["cases"] if bool(c.get("public")) == public)
            assert marks and f"{label} {marks}" in page, (row["exercise_id"], label, marks)
    assert "✗" in page  # the mistakes fail somewhere
    assert all(len(r["cases"]) == r["total"] for r in rec["exercises"])
    public_notes = {c.note for ex in exercises_for(lesson) for c in ex.cases()}
    for ex in exercises_for(lesson):
        for case in ex.cases(SEED):
            if _digits_outside_dtypes(case.note) and case.note not in public_notes:
                assert case.note not in page, f"the hidden case {case.note!r} is in the feedback"
