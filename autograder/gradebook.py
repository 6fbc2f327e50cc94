"""Scores into an nbgrader gradebook (nbgrader.api.Gradebook), so nbgrader's tools can read them."""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from autograder.notebook import SourceNotebook

__all__ = ["write_gradebook", "ensure_tools_on_path"]


def ensure_tools_on_path() -> None:
    """Put this interpreter's scripts folder on PATH: nbgrader runs the ``alembic`` command from there."""
    scripts = os.path.dirname(sys.executable)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def write_gradebook(db: Path | str, results: list[dict], sources: dict[str, SourceNotebook]) -> None:
    """Create or update an nbgrader gradebook with the assignments, their grade cells and the scores.

    Args:
        db: an SQLite file (created when missing), or an SQLAlchemy URL as nbgrader's ``db_url``
            takes it (``sqlite:///path``, ``postgresql+psycopg2://user@host/db``).
        results: grading records (see autograder.grade), one per student and assignment.
        sources: the source notebook of each assignment (notebook name, grade cells and points).
    """
    from nbgrader.api import Gradebook

    ensure_tools_on_path()
    url = db if isinstance(db, str) and "://" in db else f"sqlite:///{Path(db).resolve()}"
    with warnings.catch_warnings(), Gradebook(url) as gb:
        # nbgrader's add_submission touches relationships before the new rows join the session
        warnings.filterwarnings("ignore", message=".*not in session.*")
        for assignment, src in sources.items():
            gb.update_or_create_assignment(assignment)
            gb.update_or_create_notebook(src.path.stem, assignment)
            for gid, points in src.test_points.items():
                gb.update_or_create_grade_cell(gid, src.path.stem, assignment, max_score=points, cell_type="code")
            for gid in src.solution_ids:
                gb.update_or_create_solution_cell(gid, src.path.stem, assignment)
        for rec in results:
            src = sources[rec["assignment_id"]]
            gb.update_or_create_student(rec["student_id"])
            gb.update_or_create_submission(rec["assignment_id"], rec["student_id"])
            for row in rec["exercises"]:
                grade_id = f"test_{row['exercise_id']}"
                if grade_id not in src.test_points:
                    continue
                grade = gb.find_grade(grade_id, src.path.stem, rec["assignment_id"], rec["student_id"])
                grade.auto_score = float(row["score"])
                # as nbgrader's SaveAutoGrades: review only where a manual score exists (the submission
                # changed under it) or no automatic score could be given
                grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            gb.db.commit()
