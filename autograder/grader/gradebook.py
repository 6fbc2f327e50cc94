"""Scores into an nbgrader gradebook (nbgrader.api.Gradebook), so nbgrader's tools can read them.

Late submissions are handled as ``nbgrader autograde`` handles them: the submission's time comes from
the ``timestamp.txt`` that ``nbgrader collect`` writes beside it (read and parsed as
``CourseDirectory.get_existing_timestamp`` and ``nbgrader.utils.parse_utc`` do), the due date from the
gradebook's assignment (``nbgrader db assignment add ID --duedate ...``, the formgrader, or the
grader's ``--duedate``) plus any extension the student was given, and the penalty from nbgrader's own
``AssignLatePenalties`` preprocessor, configured from the course's ``nbgrader_config.py``: its
``plugin_class`` (``LateSubmissionPlugin`` with ``penalty_method = "none"`` or ``"zero"``, or the
course's own subclass) decides, and the penalty lands on the ``SubmittedNotebook`` where
``nbgrader export`` reads it.
"""
from __future__ import annotations

import atexit
import contextlib
import datetime
import functools
import hashlib
import logging
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from autograder.grader.notebook import SourceNotebook

__all__ = ["write_gradebook", "gradebook_lock", "ensure_tools_on_path", "nbgrader_app", "read_timestamp", "parse_time"]

TIMESTAMP_FILE = "timestamp.txt"  # what nbgrader collect (and nbgrader's exchange) writes beside a submission


def ensure_tools_on_path() -> None:
    """Put this interpreter's scripts folder on PATH: nbgrader runs the ``alembic`` command from there."""
    scripts = os.path.dirname(sys.executable)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def gradebook_url(db: Path | str) -> str:
    """An SQLAlchemy URL for ``db``: a URL is kept, a path becomes ``sqlite:///<absolute path>``."""
    return db if isinstance(db, str) and "://" in db else f"sqlite:///{Path(db).resolve()}"


# the key of the PostgreSQL advisory lock that serializes writers of one gradebook (any fixed 64-bit number)
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"beyond2d gradebook writer").digest()[:8], "big", signed=True)


@contextlib.contextmanager
def gradebook_lock(url: str):  # noqa: ANN201 - a context manager
    """Hold the gradebook at ``url`` for this process alone while it writes (shards grading one class).

    nbgrader's ``Gradebook`` creates its schema on first use, and its ``update_or_create_*`` methods read
    and then insert: two processes writing one fresh gradebook at once race (a half-created schema, a
    duplicate key). Writers therefore take turns, which also makes every write an idempotent upsert
    (a re-run after a crash finds the rows and updates them). Readers (nbgrader's formgrader, export) are
    not blocked.

    SQLite: an exclusive ``flock`` on ``<database>.lock`` beside the database file (local file systems;
    on NFS use PostgreSQL). PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) held on a
    connection of its own, released when the block ends or the process dies. Other databases: no lock.

    Args:
        url: an SQLAlchemy URL as nbgrader's ``db_url``.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        import fcntl

        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
    elif backend == "postgresql":
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        finally:
            engine.dispose()
    else:
        yield


def course_db_url(course_dir: Path | None = None, app=None) -> str:  # noqa: ANN001 - nbgrader's application
    """The course's gradebook: ``CourseDirectory.db_url`` as nbgrader run in ``course_dir`` sees it.

    nbgrader's default is ``sqlite:///<CourseDirectory.root>/gradebook.db``; a relative SQLite path (as
    ``sqlite:///build/release.db``) is taken relative to ``course_dir``, where nbgrader's commands run.

    Args:
        course_dir: the folder of the course's ``nbgrader_config.py`` (default: the current folder).
        app: an application from :func:`nbgrader_app` for that folder, if one is at hand.
    """
    from nbgrader.coursedir import CourseDirectory
    from sqlalchemy.engine import make_url

    base = Path(course_dir).resolve() if course_dir is not None else Path.cwd()
    app = app if app is not None else nbgrader_app(base)
    here = os.getcwd()
    os.chdir(base)  # CourseDirectory.root (default: the current folder; "." in a config) is read from here
    try:
        url = CourseDirectory(config=app.config).db_url
    finally:
        os.chdir(here)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not Path(parsed.database).is_absolute():
        url = f"sqlite:///{base / parsed.database}"
    return url


def nbgrader_app(course_dir: Path | None = None):  # noqa: ANN201 - nbgrader.apps.baseapp.NbGrader
    """An nbgrader application configured as ``nbgrader`` run in ``course_dir`` would be.

    nbgrader reads ``nbgrader_config.py`` from the Jupyter config path (``jupyter --paths``), then
    from the current folder, then from ``CourseDirectory.root``, and puts the current folder on
    ``sys.path`` (so a plugin class named as ``"module.Class"`` imports from there). This builds that
    application, in ``course_dir``, and returns it: its ``config`` is the course's configuration.

    Args:
        course_dir: the folder nbgrader's commands run in (default: the current folder, as nbgrader).

    Raises:
        RuntimeError: the configuration cannot be loaded (the message names the folder).
    """
    from nbgrader.apps.baseapp import NbGrader

    here = os.getcwd()
    target = Path(course_dir).resolve() if course_dir is not None else Path(here)
    if not target.is_dir():
        raise RuntimeError(f"course folder {target} does not exist; give the folder of the course's "
                           "nbgrader_config.py (--course-dir)")
    app = NbGrader(log_level=logging.ERROR)
    os.chdir(target)
    try:
        app.initialize([])
    except (SystemExit, Exception) as exc:  # noqa: BLE001 - a broken config file: say which one
        raise RuntimeError(f"nbgrader's configuration in {target} could not be loaded ({exc!r}); run "
                           f"`nbgrader db assignment list` there to see nbgrader's own message") from exc
    finally:
        os.chdir(here)
    return app


def parse_time(text: str) -> datetime.datetime:
    """A time as nbgrader parses it (``nbgrader.utils.parse_utc``): naive UTC.

    A time without a zone is UTC; ``"2026-12-04 17:00:00 Europe/Berlin"``, ``"... +0100"`` and ISO
    8601 are understood.

    Raises:
        ValueError: ``text`` is not a time (the message quotes it).
    """
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text[:80]!r} is not a time nbgrader can read (e.g. '2026-12-04 17:00:00 UTC')") from exc


def read_timestamp(folder: Path) -> tuple[datetime.datetime | None, str]:
    """The submission time in ``folder/timestamp.txt``, as ``CourseDirectory.get_existing_timestamp``.

    Args:
        folder: a submission folder (``SUBMITTED/<student_id>/<assignment_id>``).

    Returns:
        (time, problem): the time as naive UTC, or None with no file or an empty one (nbgrader: not
        late); ``problem`` says why an existing file gave no time ("" when there is nothing to say).
        nbgrader stops on an unreadable file; here the submission is graded as not late and the
        problem is reported to the instructor.
    """
    path = folder / TIMESTAMP_FILE
    if not path.is_file():
        return None, ""
    with open(path, "rb") as f:
        text = f.read(1000).decode(errors="replace").strip()
    if not text:
        return None, f"{TIMESTAMP_FILE} is empty: graded as not late (as nbgrader)"
    try:
        return parse_time(text), ""
    except ValueError as exc:
        return None, f"{TIMESTAMP_FILE} unreadable ({exc}): graded as not late"


def write_gradebook(db: Path | str, results: list[dict], sources: dict[str, SourceNotebook], *,
                    timestamps: dict[tuple[str, str], datetime.datetime | None] | None = None,
                    duedates: dict[str, datetime.datetime] | None = None,
                    app=None) -> dict[tuple[str, str], dict]:  # noqa: ANN001 - nbgrader's application
    """Create or update an nbgrader gradebook with the assignments, their grade cells and the scores.

    Args:
        db: an SQLite file (created when missing), or an SQLAlchemy URL as nbgrader's ``db_url``
            takes it (``sqlite:///path``, ``postgresql+psycopg2://user@host/db``).
        results: grading records (see autograder.grader.grade), one per student and assignment.
        sources: the source notebook of each assignment (notebook name, grade cells and points).
        timestamps: (student_id, assignment_id) -> submission time (naive UTC) or None; a time is
            written to the submission (nbgrader autograde's rule: none leaves the stored one).
        duedates: assignment_id -> due date (naive UTC) to store on the assignment; an assignment
            not listed keeps the due date the gradebook holds.
        app: the nbgrader application whose configuration sets ``AssignLatePenalties.plugin_class``
            (see :func:`nbgrader_app`); None: nbgrader's defaults (no penalty).

    Returns:
        (student_id, assignment_id) -> ``{"timestamp", "duedate"`` (ISO strings or None; the due date
        includes the student's extension), ``"seconds_late"``, ``"late_submission_penalty"`` (points,
        as nbgrader's preprocessor recorded it), ``"notebook_score"}`` (the score it was taken from).

    Raises:
        RuntimeError: the course's late-submission plugin failed (the message names it).

    Writers of one gradebook take turns (:func:`gradebook_lock`), so shards may call this at once.
    """
    ensure_tools_on_path()
    url = gradebook_url(db)
    with gradebook_lock(url):
        _start_from_empty_copy(url)
        return _write_locked(url, results, sources, timestamps or {}, duedates or {}, app)


def _start_from_empty_copy(url: str) -> None:
    """A new SQLite gradebook starts as a copy of an empty one, made once per process (:func:`_empty_gradebook`).

    nbgrader's ``Gradebook`` stamps each new database with its schema version by running the ``alembic``
    command in a second Python process (``nbgrader.api.get_alembic_version``: 3–4 s on 2 cores, more than
    writing a class's scores). Other databases, and SQLite files that exist, are left to nbgrader.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database)
    if path.exists() and path.stat().st_size > 0:
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    shutil.copyfile(_empty_gradebook(), partial)
    os.replace(partial, path)


@functools.cache
def _empty_gradebook() -> Path:
    """An empty SQLite gradebook as nbgrader's ``Gradebook`` creates one: its tables, its schema stamp
    (table ``alembic_version``) and its default course; in a private folder removed at exit.

    The stamp is the head revision of nbgrader's alembic migrations, read here with alembic's API
    (``ScriptDirectory.get_heads``, 0.1 s) where nbgrader runs ``alembic heads`` in a new process;
    nbgrader's ``Gradebook``, finding a stamped database, creates its tables and the course and runs
    nothing. A test compares the result with a gradebook nbgrader made itself.

    Raises:
        RuntimeError: nbgrader's migrations do not have exactly one head.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.api import Gradebook
    from nbgrader.dbutil import ALEMBIC_DIR
    from sqlalchemy import create_engine, text

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    heads = ScriptDirectory.from_config(config).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's alembic migrations in {ALEMBIC_DIR} have {len(heads)} heads, not one")
    folder = Path(tempfile.mkdtemp(prefix="empty-gradebook-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "gradebook.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:  # the stamp as nbgrader's Gradebook writes it into a database it created
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": heads[0]})
    finally:
        engine.dispose()
    with Gradebook(f"sqlite:///{path}"):  # a table exists: nbgrader adds its tables and course, runs no alembic
        pass
    return path


def _write_locked(url: str, results: list[dict], sources: dict[str, SourceNotebook], timestamps: dict,
                  duedates: dict, app) -> dict[tuple[str, str], dict]:  # noqa: ANN001
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties

    with warnings.catch_warnings(), Gradebook(url) as gb:
        # nbgrader's add_submission touches relationships before the new rows join the session
        warnings.filterwarnings("ignore", message=".*not in session.*")
        for assignment, src in sources.items():
            due = {"duedate": duedates[assignment]} if assignment in duedates else {}
            gb.update_or_create_assignment(assignment, **due)
            gb.update_or_create_notebook(src.path.stem, assignment)
            for gid, points in src.test_points.items():
                gb.update_or_create_grade_cell(gid, src.path.stem, assignment, max_score=points, cell_type="code")
            for gid, (points, cell_type) in src.manual_cells.items():  # graded by hand in the formgrader
                gb.update_or_create_grade_cell(gid, src.path.stem, assignment, max_score=points, cell_type=cell_type)
            for gid in [*src.solution_ids, *(g for g in src.manual_cells if g not in src.solution_ids)]:
                gb.update_or_create_solution_cell(gid, src.path.stem, assignment)
        for rec in results:
            src = sources[rec["assignment_id"]]
            gb.update_or_create_student(rec["student_id"])
            stamp = timestamps.get((rec["student_id"], rec["assignment_id"]))
            gb.update_or_create_submission(rec["assignment_id"], rec["student_id"],
                                           **({"timestamp": stamp} if stamp is not None else {}))
            for row in rec["exercises"]:
                grade_id = row.get("grade_id") or f"test_{row['exercise_id']}"
                if grade_id in src.manual_cells:  # no automatic score; review unless a manual one stands unchanged
                    grade = gb.find_grade(grade_id, src.path.stem, rec["assignment_id"], rec["student_id"])
                    grade.auto_score = None
                    if grade.manual_score is None or not rec.get("reused"):
                        grade.needs_manual_grade = True
                    continue
                if grade_id not in src.test_points:
                    continue
                grade = gb.find_grade(grade_id, src.path.stem, rec["assignment_id"], rec["student_id"])
                new_row = grade.auto_score is None  # this gradebook has no score for it yet
                grade.auto_score = float(row.get("auto_score", row.get("raw_score", row["score"])))
                # as nbgrader's SaveAutoGrades: review only where a manual score exists and the submission
                # was graded again (it changed under the manual score), or no automatic score could be
                # given; a record reused unchanged from the cache leaves the instructor's review as it is
                if new_row or not rec.get("reused"):
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            gb.db.commit()
    # the late penalties, by nbgrader's own preprocessor as `nbgrader autograde` runs it on each notebook
    penalties = AssignLatePenalties(parent=app) if app is not None else AssignLatePenalties()
    for rec in results:
        resources = {"nbgrader": {"notebook": sources[rec["assignment_id"]].path.stem, "db_url": url,
                                  "assignment": rec["assignment_id"], "student": rec["student_id"]}}
        try:
            penalties.preprocess(nbformat.v4.new_notebook(), resources)
        except Exception as exc:
            raise RuntimeError(f"the late-submission plugin {_name(penalties.plugin_class)} failed on "
                               f"{rec['student_id']}/{rec['assignment_id']}: {exc!r}; fix it in the course's "
                               "nbgrader_config.py (AssignLatePenalties.plugin_class)") from exc
    late = {}
    with Gradebook(url) as gb:
        for rec in results:
            key = (rec["student_id"], rec["assignment_id"])
            sub = gb.find_submission(rec["assignment_id"], rec["student_id"])
            nb = gb.find_submission_notebook(sources[rec["assignment_id"]].path.stem, *reversed(key))
            late[key] = {"timestamp": _iso(sub.timestamp), "duedate": _iso(sub.duedate),
                         "seconds_late": float(sub.total_seconds_late),
                         "late_submission_penalty": float(nb.late_submission_penalty or 0.0),
                         "notebook_score": float(nb.score), "plugin": _name(penalties.plugin_class),
                         "penalty_method": str(getattr(penalties.plugin_inst, "penalty_method", ""))}
    return late


def _iso(t: datetime.datetime | None) -> str | None:
    return None if t is None else t.isoformat(sep=" ")


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
