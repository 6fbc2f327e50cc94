"""Late penalties in the official grader, checked against nbgrader's own late-submission machinery.

One lesson is graded once for three students who hand in the same (correct) notebook: one on
time, one 45 hours late, one without a ``timestamp.txt``. Every other test re-grades from that
run's cache (nothing runs in a child again) under another course configuration, so each one only
exercises the penalty: the course's ``nbgrader_config.py``, the due date in the gradebook, and
nbgrader's ``AssignLatePenalties`` with its ``LateSubmissionPlugin`` (or the course's subclass).
The independent reference is nbgrader itself: its plugin called directly, its timestamp reader,
its gradebook API, and the ``nbgrader export`` command.
"""
import csv
import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grader.grade import GradeConfig, grade_submissions
from autograder.grader.gradebook import read_timestamp
from autograder.paths import PROJECT_ROOT

LESSON = "01_video_tensors"
SEED = 1234
DUE = "2026-12-04 00:00:00"  # UTC, as nbgrader reads a time without a zone
STAMPS = {"ontime": "2026-12-03 23:59:59.000000 UTC", "late": "2026-12-05 21:00:00.000000 UTC", "nostamp": None}
ZERO = 'c = get_config()\nc.LateSubmissionPlugin.penalty_method = "zero"\n'
HALF = '''c = get_config()
from nbgrader.plugins import LateSubmissionPlugin

class HalfMarks(LateSubmissionPlugin):
    """The course's own rule: half marks when late."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return score / 2

c.AssignLatePenalties.plugin_class = HalfMarks
'''


def _course(folder: Path, config: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (folder / "nbgrader_config.py").write_text(config)
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Three students' submissions of one lesson, graded once with nbgrader's "zero" penalty."""
    root = tmp_path_factory.mktemp("late")
    notebook = (PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb").read_text()
    for student, stamp in STAMPS.items():
        folder = root / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        (folder / f"{LESSON}.ipynb").write_text(notebook)
        if stamp is not None:
            (folder / "timestamp.txt").write_text(stamp + "\n")  # as nbgrader collect writes it
    cfg = GradeConfig(submissions=root / "submitted", out=root / "out", seed=SEED, jobs=2,
                      course_dir=_course(root / "course", ZERO), duedates={"*": DUE})
    results = {r["student_id"]: r for r in grade_submissions(cfg, progress=False)}
    return {"root": root, "results": results, "cfg": cfg}


def _regrade(graded, tmp_path, config: str | None, *, duedates=None):
    """Grade the same submissions again from the first run's cache, under another course config.

    The first run's gradebook is copied too, unless the test put one there (a new one costs nbgrader
    an ``alembic`` subprocess of several seconds).
    """
    out = tmp_path / "out"
    shutil.copytree(graded["root"] / "out" / "results", out / "results")
    if not (out / "gradebook.db").exists():
        shutil.copy(graded["root"] / "out" / "gradebook.db", out / "gradebook.db")
    cfg = GradeConfig(submissions=graded["root"] / "submitted", out=out, seed=SEED,
                      course_dir=_course(tmp_path / "course", config),
                      duedates={"*": DUE} if duedates is None else duedates)
    results = {r["student_id"]: r for r in grade_submissions(cfg, progress=False)}
    assert all(r.get("reused") for r in results.values()), "the re-grade should come from the cache"
    return results, out


def _nbgrader_penalty(plugin, student, score, seconds):
    """nbgrader's own rule: the plugin's penalty, capped to [0, score] as AssignLatePenalties caps it."""
    if seconds <= 0:
        return 0.0
    penalty = plugin.late_submission_penalty(student, score, seconds)
    return 0.0 if penalty is None else min(max(penalty, 0.0), score)


def test_45_hours_late_scores_zero_as_nbgrader(graded):
    from nbgrader.plugins import LateSubmissionPlugin

    rec = graded["results"]["late"]
    total = sum(r["max_score"] for r in rec["exercises"])
    assert rec["late"]["seconds_late"] == 45 * 3600
    expected = _nbgrader_penalty(LateSubmissionPlugin(penalty_method="zero"), "late", total, 45 * 3600)
    assert rec["late_submission_penalty"] == expected == total > 0
    assert rec["raw_score"] == total and rec["score"] == 0
    assert all(r["score"] == 0 and r["raw_score"] == r["max_score"] for r in rec["exercises"])


@pytest.mark.parametrize("student", ["ontime", "nostamp"])
def test_on_time_or_without_timestamp_scores_full(graded, student):
    rec = graded["results"][student]
    assert rec["late"]["seconds_late"] == 0 and rec["late_submission_penalty"] == 0
    assert all(r["score"] == r["raw_score"] == r["max_score"] for r in rec["exercises"])
    assert (rec["late"]["timestamp"] is None) == (STAMPS[student] is None)


def test_grades_csv_keeps_raw_and_penalized_scores(graded):
    with open(graded["root"] / "out" / "grades.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["student_id"] == "late"]
    assert rows and all(float(r["score"]) == 0 and float(r["raw_score"]) == float(r["max_score"]) for r in rows)
    assert {r["timestamp"] for r in rows} == {"2026-12-05 21:00:00"}
    assert {float(r["seconds_late"]) for r in rows} == {45 * 3600.0}
    saved = {r["student_id"]: r for r in json.loads((graded["root"] / "out" / "grades.json").read_text())}
    assert saved["late"]["score"] == 0 and saved["late"]["raw_score"] == saved["ontime"]["score"] > 0


def test_feedback_says_how_late_and_the_penalty(graded):
    page = (graded["root"] / "out" / "feedback" / "late" / f"{LESSON}.html").read_text()
    assert "submitted 45.0 h late" in page and "late penalty: 6 points" in page and f"{LESSON}: 0 / 6" in page
    assert "Late:" not in (graded["root"] / "out" / "feedback" / "ontime" / f"{LESSON}.html").read_text()


def test_nbgrader_export_shows_timestamp_and_penalty(graded, tmp_path):
    """Check that nbgrader's own `export` command reads the times and the penalties from our gradebook."""
    target = tmp_path / "grades.csv"
    db = f"sqlite:///{graded['root'] / 'out' / 'gradebook.db'}"
    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "export", "--db", db, "--to", str(target)],
                   cwd=tmp_path, check=True, capture_output=True, timeout=120)
    with open(target) as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    late = rows["late"]
    assert (late["duedate"], late["timestamp"]) == ("2026-12-04 00:00:00", "2026-12-05 21:00:00")
    assert float(late["raw_score"]) == float(late["late_submission_penalty"]) == 6 and float(late["score"]) == 0
    assert float(rows["ontime"]["score"]) == 6 and float(rows["ontime"]["late_submission_penalty"]) == 0
    assert rows["nostamp"]["timestamp"] == "" and float(rows["nostamp"]["score"]) == 6


@pytest.mark.parametrize("where", ["config", "module"])
def test_a_course_plugin_subclass_is_honored(graded, tmp_path, where):
    """Check that the course's own LateSubmissionPlugin subclass decides, defined in nbgrader_config.py or
    in a module beside it (nbgrader puts the course folder on sys.path)."""
    config = HALF
    if where == "module":
        (tmp_path / "course").mkdir()
        module = HALF.replace("c = get_config()\n", "").replace("\nc.AssignLatePenalties.plugin_class = HalfMarks\n", "")
        (tmp_path / "course" / "late_rules_half.py").write_text(module)
        config = 'c = get_config()\nc.AssignLatePenalties.plugin_class = "late_rules_half.HalfMarks"\n'
    results, out = _regrade(graded, tmp_path, config)
    assert results["late"]["late_submission_penalty"] == 3 and results["late"]["score"] == 3
    assert all(r["score"] == r["raw_score"] / 2 for r in results["late"]["exercises"])
    assert results["ontime"]["score"] == results["nostamp"]["score"] == 6
    assert results["late"]["late"]["plugin"].endswith("HalfMarks")


def test_penalty_method_none_records_lateness_without_penalty(graded, tmp_path):
    results, out = _regrade(graded, tmp_path, None)  # no config: nbgrader's default, penalty_method "none"
    assert results["late"]["late"]["seconds_late"] == 45 * 3600 and results["late"]["score"] == 6
    page = (out / "feedback" / "late" / f"{LESSON}.html").read_text()
    assert "submitted 45.0 h late" in page and "no late penalty applies" in page


def test_due_date_and_extension_come_from_the_gradebook(graded, tmp_path):
    """Check that without --duedate the gradebook's due date counts, with the student's extension (as nbgrader)."""
    from nbgrader.api import Gradebook

    def gradebook(folder):
        (folder / "out").mkdir(parents=True)
        shutil.copy(graded["root"] / "out" / "gradebook.db", folder / "out" / "gradebook.db")
        return Gradebook(f"sqlite:///{folder / 'out' / 'gradebook.db'}")

    with gradebook(tmp_path / "extended") as gb:  # as the formgrader grants it
        gb.update_or_create_submission(LESSON, "late", extension=datetime.timedelta(hours=46))
    results, _ = _regrade(graded, tmp_path / "extended", ZERO, duedates={})
    assert results["late"]["late"]["duedate"] == "2026-12-05 22:00:00"
    assert results["late"]["late"]["seconds_late"] == 0 and results["late"]["score"] == 6
    with gradebook(tmp_path / "undated") as gb:  # no due date: nothing is late
        gb.update_or_create_assignment(LESSON, duedate=None)
    results, _ = _regrade(graded, tmp_path / "undated", ZERO, duedates={})
    assert results["late"]["late"]["duedate"] is None and results["late"]["score"] == 6


@pytest.mark.parametrize("text", ["2026-12-05 21:00:00.000000 UTC", "2026-12-05 22:00:00 +0100",
                                  "2026-12-05T21:00:00Z", "2026-12-05 16:00:00 America/New_York", ""])
def test_timestamps_read_as_nbgrader_reads_them(tmp_path, text):
    from nbgrader.coursedir import CourseDirectory

    (tmp_path / "timestamp.txt").write_text(text)
    ours, problem = read_timestamp(tmp_path)
    assert ours == CourseDirectory().get_existing_timestamp(str(tmp_path))
    assert (ours is None) == (text == "") == bool(problem)
    assert read_timestamp(tmp_path / "missing") == (None, "")


def test_bad_settings_stop_before_grading(graded, tmp_path):
    cfg = GradeConfig(submissions=graded["root"] / "submitted", out=tmp_path / "out", seed=SEED,
                      course_dir=_course(tmp_path / "course", ZERO), duedates={"*": "next friday-ish"})
    with pytest.raises(ValueError, match="not a time nbgrader can read"):
        grade_submissions(cfg, progress=False)
    cfg.duedates = {}
    cfg.course_dir = _course(tmp_path / "other", 'c = get_config()\nc.AssignLatePenalties.plugin_class = "nowhere.Plugin"\n')
    with pytest.raises(RuntimeError, match="plugin_class cannot be loaded"):
        grade_submissions(cfg, progress=False)
    assert not (tmp_path / "out").exists()
