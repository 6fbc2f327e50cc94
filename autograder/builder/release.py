"""Source notebooks and the student release.

``solutions/NN_topic/NN_topic.py`` (jupytext percent format, the file instructors edit) is converted
to ``solutions/NN_topic/NN_topic.ipynb`` (the nbgrader source notebook), and nbgrader's
``generate_assignment`` writes the student release to ``notebooks/NN_topic/`` (solutions replaced by
stubs, outputs cleared). Nothing under notebooks/ is edited by hand: a test regenerates the release
and fails when the committed one differs.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from autograder.paths import PROJECT_ROOT

__all__ = ["lesson_ids", "source_notebook", "sync_source", "generate_release", "release",
           "notebook_config", "release_into"]



def lesson_ids(root: Path = PROJECT_ROOT) -> list[str]:
    """Lesson ids that have a jupytext source, in course order."""
    return sorted(p.parent.name for p in (root / "solutions").glob("*/*.py") if p.stem == p.parent.name)


def source_notebook(py_path: Path) -> dict:
    """The nbgrader source notebook (nbformat JSON) of a jupytext ``.py`` source, without outputs."""
    import jupytext

    nb = jupytext.read(py_path, fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    nb.metadata.setdefault("language_info", {"name": "python"})
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("lines_to_next_cell", None)
        # stable ids (jupytext draws random ones): the grade_id where nbgrader has one, else the position
        cell["id"] = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell-{i}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return json.loads(jupytext.writes(nb, fmt="ipynb"))


def sync_source(lesson: str, root: Path = PROJECT_ROOT) -> Path:
    """Write ``solutions/<lesson>/<lesson>.ipynb`` from its ``.py`` source; return its path."""
    folder = root / "solutions" / lesson
    out = folder / f"{lesson}.ipynb"
    out.write_text(json.dumps(source_notebook(folder / f"{lesson}.py"), indent=1, ensure_ascii=False) + "\n")
    return out


def notebook_config(root: Path, release_directory: str = "notebooks"):  # noqa: ANN201 - traitlets Config
    """The course's nbgrader configuration, read from ``nbgrader_config.py`` at the project root.

    The file nbgrader's own commands read (``nbgrader ...`` and the formgrader, run from the project
    root) is the one source: this loads it as nbgrader does (``traitlets``' Python config loader) and
    only places it: ``CourseDirectory.root`` becomes ``root``, the release goes to
    ``release_directory``, and a relative SQLite ``db_url`` is taken relative to ``root``.

    Args:
        root: the course folder (the project root, or a copy of its solutions in a test).
        release_directory: the release folder, relative to ``root``.

    Raises:
        FileNotFoundError: the project has no ``nbgrader_config.py``.
    """
    from sqlalchemy.engine import make_url
    from traitlets.config.loader import PyFileConfigLoader

    path = PROJECT_ROOT / "nbgrader_config.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: it is the course's nbgrader configuration")
    c = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.release_directory = release_directory
    url = make_url(c.CourseDirectory.db_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_absolute():
        c.CourseDirectory.db_url = f"sqlite:///{Path(root) / url.database}"
    return c


def generate_release(lessons: list[str], root: Path = PROJECT_ROOT, release_directory: str = "notebooks") -> None:
    """Run nbgrader's generate_assignment for each lesson into ``root/release_directory``.

    nbgrader with ``force`` deletes the old release folder first and deletes it again when it then
    fails (as when it refuses to change an assignment that has submissions in the gradebook), so a
    failed release would lose the last good one. Here nbgrader writes into a staging folder under
    ``build/``; only a lesson it released completely replaces the old folder, by renames.

    Raises:
        RuntimeError: nbgrader reported an error (its log is in the message); the release folder of
            that lesson is left as it was.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from autograder.grader.gradebook import ensure_tools_on_path

    (root / "build").mkdir(exist_ok=True)
    ensure_tools_on_path()
    staging = Path(tempfile.mkdtemp(prefix=".release-", dir=root / "build"))
    try:
        config = notebook_config(root, str(staging.relative_to(root)))
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        for lesson in lessons:
            result = api.generate_assignment(lesson, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {lesson} failed (the release in "
                                   f"{root / release_directory / lesson} is unchanged):\n"
                                   f"{result.get('log', '')}{result.get('error', '')}")
            _replace_dir(staging / lesson, root / release_directory / lesson)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replace_dir(new: Path, target: Path) -> None:
    """Put the folder ``new`` in the place of ``target``: the old one is renamed aside, then removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    try:
        shutil.move(str(new), str(target))
    except BaseException:
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def release(lessons: list[str] | None = None, root: Path = PROJECT_ROOT) -> list[str]:
    """Regenerate the source notebooks and the student release of ``lessons`` (all by default)."""
    lessons = lessons or lesson_ids(root)
    for lesson in lessons:
        sync_source(lesson, root)
    generate_release(lessons, root)
    return lessons


def release_into(tmp: Path, lessons: list[str], root: Path = PROJECT_ROOT) -> Path:
    """Generate a fresh release of ``lessons`` in a scratch course folder ``tmp`` (for staleness checks)."""
    for lesson in lessons:
        shutil.copytree(root / "solutions" / lesson, tmp / "solutions" / lesson)
        sync_source(lesson, tmp)
    generate_release(lessons, tmp)
    return tmp / "notebooks"

