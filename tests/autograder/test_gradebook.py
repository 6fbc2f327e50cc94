"""The grader writes into the course's own nbgrader gradebook: roster kept, times stored, export works.

The reference is nbgrader: its ``CourseDirectory`` decides where the course's gradebook is, its
``Gradebook`` API holds the roster, and its ``nbgrader export`` command reads what we wrote.
"""
import contextlib
import csv
import datetime
import functools
import subprocess
import sys

import pytest

from autograder.grader.gradebook import course_db_url, ensure_tools_on_path, gradebook_lock, write_gradebook
from autograder.grader.notebook import read_source
from autograder.paths import PROJECT_ROOT

LESSON = "01_video_tensors"


def test_the_course_gradebook_is_where_nbgrader_run_in_the_course_folder_would_write(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "nbgrader_config.py").write_text("c = get_config()\n")
    assert course_db_url(plain) == f"sqlite:///{plain.resolve() / 'gradebook.db'}"  # nbgrader's default
    relative = tmp_path / "relative"
    relative.mkdir()
    (relative / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.db_url = "sqlite:///build/x.db"\n')
    assert course_db_url(relative) == f"sqlite:///{relative.resolve() / 'build' / 'x.db'}"
    pg = tmp_path / "pg"
    pg.mkdir()
    (pg / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.db_url = "postgresql+psycopg2://teacher:pw@db.example/course"\n')
    assert course_db_url(pg) == "postgresql+psycopg2://teacher:pw@db.example/course"
    # the project's own configuration: the release database in build/
    assert course_db_url(PROJECT_ROOT) == f"sqlite:///{PROJECT_ROOT / 'build' / 'release.db'}"


def test_grading_keeps_the_roster_and_stores_the_submission_time_where_nbgrader_export_reads_them(tmp_path):
    from nbgrader.api import Gradebook

    ensure_tools_on_path()
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    url = course_db_url(tmp_path)
    with Gradebook(url) as gb:  # the roster, as `nbgrader db student import` leaves it
        gb.update_or_create_student("ada", first_name="Ada", last_name="Lovelace", email="ada@example.org")
    source = read_source(PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", LESSON)
    rows = [{"exercise_id": gid.removeprefix("test_"), "score": points, "max_score": points, "status": "passed"}
            for gid, points in source.test_points.items()]
    records = [{"student_id": s, "assignment_id": LESSON, "exercises": rows} for s in ("ada", "newcomer")]
    when = datetime.datetime(2026, 12, 3, 23, 59, 59)
    write_gradebook(url, records, {LESSON: source}, timestamps={("ada", LESSON): when})
    with Gradebook(url) as gb:
        ada = gb.find_student("ada")
        assert (ada.first_name, ada.last_name, ada.email) == ("Ada", "Lovelace", "ada@example.org")
        assert gb.find_student("newcomer").email is None  # created, since the roster lacked it
        assert gb.find_submission(LESSON, "ada").timestamp == when
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(tmp_path / "grades.csv")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(tmp_path / "grades.csv", newline="") as f:
        exported = {r["student_id"]: r for r in csv.DictReader(f)}
    total = sum(source.test_points.values())
    assert exported["ada"]["first_name"] == "Ada" and exported["ada"]["email"] == "ada@example.org"
    assert exported["ada"]["timestamp"].startswith("2026-12-03 23:59:59")
    assert float(exported["ada"]["raw_score"]) == float(exported["newcomer"]["raw_score"]) == total


def test_writers_of_one_sqlite_gradebook_take_turns(tmp_path):
    import fcntl
    import threading

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    order = []

    def writer(name: str) -> None:
        with gradebook_lock(url):
            order.append(f"{name} in")
            threading.Event().wait(0.2)
            order.append(f"{name} out")

    # flock locks belong to open files, so two threads with their own files exclude each other too
    threads = [threading.Thread(target=writer, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    with open(tmp_path / "gradebook.db.lock") as f:  # released afterwards
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db"])
def test_databases_without_a_lock_file_are_written_without_one(url):
    with gradebook_lock(url):
        pass


def test_new_gradebooks_are_what_nbgrader_makes_without_its_alembic_subprocess(tmp_path, monkeypatch):
    """Two new SQLite gradebooks written by the grader have nbgrader's tables, schema stamp and course
    row, the same as one nbgrader's own ``Gradebook`` makes (its stamp from the ``alembic`` command); the
    grader ran that command for neither."""
    import sqlite3

    import nbgrader.api
    from nbgrader.api import Gradebook

    from autograder.grader import gradebook

    ensure_tools_on_path()
    calls = []
    real = nbgrader.api.get_alembic_version
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", lambda: calls.append(1) or real())
    gradebook._empty_gradebook.cache_clear()
    monkeypatch.setattr(gradebook, "_empty_gradebook", functools.cache(gradebook._empty_gradebook.__wrapped__))
    source = read_source(PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", LESSON)
    rows = [{"exercise_id": gid.removeprefix("test_"), "score": 0, "max_score": points, "status": "failed"}
            for gid, points in source.test_points.items()]
    for name in ("first", "second"):
        write_gradebook(tmp_path / name / "gradebook.db", [{"student_id": name, "assignment_id": LESSON,
                                                             "exercises": rows}], {LESSON: source})
    assert calls == []
    with Gradebook(f"sqlite:///{tmp_path / 'nbgrader.db'}"):  # nbgrader's own new gradebook
        pass
    assert len(calls) == 1

    def shape(path):
        with contextlib.closing(sqlite3.connect(path)) as db:
            tables = sorted(db.execute("SELECT name, sql FROM sqlite_master"))
            return tables, db.execute("SELECT version_num FROM alembic_version").fetchall(), \
                db.execute("SELECT id FROM course").fetchall()

    expected = shape(tmp_path / "nbgrader.db")
    assert expected[1] and expected[2]  # a stamp and the default course
    for name in ("first", "second"):
        assert shape(tmp_path / name / "gradebook.db") == expected
        with Gradebook(f"sqlite:///{tmp_path / name / 'gradebook.db'}") as gb:
            assert gb.find_submission(LESSON, name).score == 0
