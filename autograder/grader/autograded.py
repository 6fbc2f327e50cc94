"""nbgrader's ``autograded/`` notebooks from our grading records, and the formgrader's manual scores back.

nbgrader's own tools read two things: the gradebook (written by :mod:`autograder.grader.gradebook`) and one
notebook per submission under ``<course root>/autograded/<student_id>/<assignment_id>/``. The
formgrader opens that notebook to show a submission, lists only submissions that have one, and
``nbgrader generate_feedback`` turns it into the student's HTML feedback. ``nbgrader autograde``
writes it by executing the submission; we never execute student code outside the box, so here it is
built from the submission as handed in, the way nbgrader's autograde treats a notebook before running
it (its ``ClearOutput``, ``OverwriteCells`` and ``CheckCellMetadata`` preprocessors):

1. every cell whose ``grade_id`` is in the source gets the source's nbgrader metadata back (type,
   locked flag, points, and the checksum ``nbgrader generate_assignment`` gave it), locked cells
   (setup, tests) get the released code back (hidden tests stay out: ``nbgrader generate_feedback``
   shows this notebook to the student), and a cell the student deleted is put back at its
   place (nbgrader's ``OverwriteCells.add_missing_cells``); a ``grade_id`` that appears twice keeps
   its metadata on the last copy only (the copy that was graded), the earlier copies stay as plain cells;
2. every output is cleared (outputs are the student's, and the formgrader shows them in the
   instructor's browser), then each graded test cell receives our result as a text output: status,
   score, the public/hidden case marks and the reasons, as the HTML feedback shows them (a hidden
   case shows its kind and what went wrong, never its values);
3. a submission that is missing or not a readable notebook is shown as the release: the source
   with its solutions replaced by nbgrader's stubs, and a note on top.

Manual scores: a grader who changes a score in the formgrader writes ``Grade.manual_score``;
:func:`apply_manual_scores` reads it back into the records, so ``grades.csv``, ``grades.json`` and
our feedback say what the formgrader and ``nbgrader export`` say.
"""
from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from pathlib import Path

from autograder.grader.feedback import MAX_LISTED, case_marks, failing_cases
from autograder.grader.notebook import MAX_NOTEBOOK_BYTES, SourceNotebook
from autograder.grader.record import spread_penalty

__all__ = ["write_autograded", "apply_manual_scores", "result_text", "safe_part"]

TIMESTAMP_FILE = "timestamp.txt"  # what nbgrader collect writes beside a submission
MANUAL_REVIEW = "manual score kept from before the submission changed: check it again in the formgrader"
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's cell id pattern


def safe_part(name: object) -> str:
    """``name`` if it is safe as one folder name under the course root, else an error.

    Raises:
        ValueError: not a non-empty string, or it holds "/" or a NUL, starts with "." (which also
            rules out "." and ".."), or is longer than 255 characters (a file name's limit).
    """
    if (not isinstance(name, str) or not name or name.startswith(".") or len(name) > 255
            or "/" in name or "\0" in name):
        raise ValueError(f"{str(name)[:80]!r} is not a safe folder name (no '/', NUL or leading '.'); "
                         "rename the student or assignment folder")
    return name


def write_autograded(course_root: Path, results: list[dict], sources: dict[str, SourceNotebook],
                     submissions: Path, *, autograded_directory: str = "autograded",
                     app=None) -> list[Path]:  # noqa: ANN001 - nbgrader's application
    """Write nbgrader's autograded notebook of every grading record (overwriting an earlier one).

    Args:
        course_root: nbgrader's ``CourseDirectory.root`` (the folder of the course's nbgrader_config.py).
        results: grading records (see autograder.grader.grade), one per student and assignment.
        sources: the source notebook of each assignment.
        submissions: the graded folder, ``SUBMISSIONS/<student_id>/<assignment_id>/<notebook>.ipynb``
            (a ``timestamp.txt`` beside the notebook is copied along).
        autograded_directory: nbgrader's ``CourseDirectory.autograded_directory`` (a relative path).
        app: the course's nbgrader application (:func:`autograder.grader.gradebook.nbgrader_app`), whose
            configuration of ``ClearSolutions`` and ``LockCells`` the release was made with; None:
            nbgrader's defaults.

    Returns:
        The notebooks written: ``course_root/<autograded_directory>/<student>/<assignment>/<name>.ipynb``,
        where ``<name>`` is the source notebook's name (what the formgrader and the gradebook expect).

    Raises:
        ValueError: an id or ``autograded_directory`` is not a safe path part, a record's assignment
            has no source (both checked before anything is written), or a path would leave
            ``course_root/<autograded_directory>``.
    """
    import nbformat

    _check_layout(app)
    base = _autograded_base(Path(course_root), autograded_directory)
    for rec in results:  # every id first: a bad one stops the run before anything is written
        safe_part(rec["student_id"])
        if safe_part(rec["assignment_id"]) not in sources:
            raise ValueError(f"no source notebook for assignment {rec['assignment_id']!r}; give its "
                             "SourceNotebook (autograder.grader.notebook.read_source) in sources")
    templates: dict[str, _Template] = {}
    written = []
    for rec in results:
        student, assignment = rec["student_id"], rec["assignment_id"]
        src = sources[assignment]
        template = templates.get(assignment) or templates.setdefault(assignment, _Template(src, app))
        # 1. the submitted notebook (untrusted), or None
        folder = Path(submissions) / student / assignment
        student_nb, problem = _read_submitted(folder, assignment)
        # 2. the autograded notebook: the submission with the source's cells restored, or the release
        nb = template.restore(student_nb) if student_nb is not None else template.release_copy(problem)
        template.put_results(nb, rec)
        nbformat.validate(nb)
        # 3. write it, and the submission time, inside base only
        dest = _inside(base, base / student / assignment)
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / f"{safe_part(src.path.stem)}.ipynb"
        _write_atomic(path, nbformat.writes(nb).encode("utf-8"))
        _copy_timestamp(folder, dest)
        written.append(path)
    return written


def _check_layout(app) -> None:  # noqa: ANN001 - nbgrader's application or None
    """Refuse a course whose ``CourseDirectory.directory_structure`` is not nbgrader's default layout."""
    if app is None:
        return
    from nbgrader.coursedir import CourseDirectory

    layout = CourseDirectory(config=app.config).directory_structure
    if layout != os.path.join("{nbgrader_step}", "{student_id}", "{assignment_id}"):
        raise ValueError(f"the course sets CourseDirectory.directory_structure = {layout!r}; autograded notebooks "
                         "are written as autograded/<student_id>/<assignment_id>/ only: remove that setting")


def _autograded_base(course_root: Path, autograded_directory: str) -> Path:
    parts = Path(autograded_directory).parts
    if not parts or Path(autograded_directory).is_absolute():
        raise ValueError(f"autograded_directory {autograded_directory!r} must be a relative folder name "
                         "(nbgrader's default is 'autograded')")
    for part in parts:
        safe_part(part)
    return _inside(course_root, course_root / autograded_directory)


def _inside(root: Path, path: Path) -> Path:
    """``path`` if, with links resolved, it lies inside ``root``, else ValueError."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"{path} resolves to {path.resolve()}, outside {root}; remove the link that leads there")
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file beside ``path`` and rename it over ``path`` (a link there is replaced)."""
    fd, tmp = tempfile.mkstemp(prefix=".autograded-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # what nbgrader's converters give notebooks they write
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _copy_timestamp(folder: Path, dest: Path) -> None:
    """Copy ``folder/timestamp.txt`` to ``dest`` (a stale copy goes when the submission has none)."""
    from autograder.grader.transport import read_regular

    try:
        data = read_regular(folder / TIMESTAMP_FILE, 4096)
    except OSError:  # none, a link, a FIFO or a huge file: nbgrader would find no time either
        (dest / TIMESTAMP_FILE).unlink(missing_ok=True)
        return
    _write_atomic(dest / TIMESTAMP_FILE, data)


def _read_submitted(folder: Path, assignment: str):  # noqa: ANN202 - (dict | None, problem)
    """The submitted notebook's JSON, found and read as the grader finds and reads it, or (None, why not)."""
    from autograder.grader.transport import read_regular

    path = folder / f"{assignment}.ipynb"
    if not path.is_file() and not path.is_symlink():
        others = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        if len(others) != 1:
            return None, "no notebook was submitted"
        path = others[0]
    # read as the grader reads it (autograder.grader.notebook.read_submission): the same bytes give the same
    # cells; every cell is rebuilt later, so nbformat's opinion of the rest does not matter
    try:
        nb = json.loads(read_regular(path, MAX_NOTEBOOK_BYTES).decode("utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise TypeError("no list of cells")
    except (OSError, UnicodeDecodeError, ValueError, TypeError, RecursionError) as exc:
        return None, f"{path.name} is not a readable notebook ({type(exc).__name__})"
    return nb, ""


class _Template:
    """One assignment's cells as nbgrader's gradebook knows them after ``generate_assignment``.

    ``release`` is the source run through nbgrader's ``LockCells``, ``ClearSolutions``,
    ``ComputeChecksums`` and ``ClearHiddenTests``, in ``generate_assignment``'s order: metadata and
    checksums as nbgrader's ``SaveCells`` stores them and ``OverwriteCells`` restores them; the code
    of locked cells as released (nbgrader's autograde would put hidden tests back, and its
    ``generate_feedback`` would then show them to the student; our grade never comes from them).
    """

    def __init__(self, src: SourceNotebook, app=None) -> None:  # noqa: ANN001 - nbgrader's application
        import nbformat
        from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, ComputeChecksums, LockCells

        self.source = src
        nb = nbformat.read(src.path, as_version=4)
        resources: dict = {}
        settings = {"parent": app} if app is not None else {}
        # generate_assignment's order: the checksums are taken before the hidden tests are cleared (what
        # SaveCells stores), and the hidden tests stay out: nbgrader's feedback would show them to students
        for pre in (LockCells(**settings), ClearSolutions(**settings), ComputeChecksums(**settings),
                    ClearHiddenTests(**settings)):
            nb, resources = pre.preprocess(nb, resources)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        self.release = nb
        self.by_id = {c.metadata.nbgrader["grade_id"]: c for c in nb.cells if _grade_id(c) is not None}
        self.order = list(self.by_id)

    def release_copy(self, problem: str):  # noqa: ANN201 - NotebookNode
        """The release notebook with a note on top saying why the submission is not shown."""
        import nbformat

        nb = copy.deepcopy(self.release)
        note = nbformat.v4.new_markdown_cell(f"**Grader's note:** {problem}; the released notebook is shown "
                                             "instead (the grader found no code of the student's to run).")
        nb.cells.insert(0, note)
        return nb

    def restore(self, student: dict):  # noqa: ANN201 - NotebookNode
        """The submission's cells with the source's nbgrader cells restored, outputs cleared."""
        import nbformat

        cells = [c for c in student["cells"] if _usable(c)]
        last = {}
        for i, cell in enumerate(cells):
            if (gid := self._match(cell)) is not None:
                last[gid] = i
        out, used_ids = [], {c.get("id") for c in self.release.cells}
        for i, cell in enumerate(cells):
            gid = self._match(cell)
            if gid is not None and last[gid] == i:
                out.append(self._restored(gid, cell))
            else:  # the student's own cell, or an earlier copy of a duplicated one: no nbgrader metadata
                out.append(_plain(cell, used_ids))
        # cells the student deleted go back after the source cell before them (or first)
        present = {_grade_id(c) for c in out}
        for k, gid in enumerate(self.order):
            if gid in present:
                continue
            cell = copy.deepcopy(self.by_id[gid])
            if not cell.metadata.nbgrader.get("locked"):
                cell.source = f"# This cell ({gid}) was missing from the submission; the grader put it back.\n" + cell.source
            before = [j for j, c in enumerate(out) if _grade_id(c) in self.order[:k]]
            out.insert(before[-1] + 1 if before else 0, cell)
            present.add(gid)
        nb = nbformat.v4.new_notebook(cells=out, metadata=copy.deepcopy(self.release.metadata))
        return nb

    def _match(self, cell: dict) -> str | None:
        """The source grade_id this cell stands for, as the grader counts it: a locked cell by its id alone
        (its code comes from the source), a solution cell only as a cell of the source's type with text
        (a code solution must stay code: the grader ignores any other, see
        autograder.grader.notebook.read_submission; a written answer graded by hand stays markdown)."""
        gid = _grade_id(cell)
        if gid not in self.by_id:
            return None
        if self.by_id[gid].metadata.nbgrader.get("locked"):
            return gid
        src = cell.get("source")
        text_ok = isinstance(src, str) or (isinstance(src, list) and all(isinstance(x, str) for x in src))
        return gid if cell.get("cell_type") == self.by_id[gid].cell_type and text_ok else None

    def _restored(self, gid: str, cell):  # noqa: ANN001, ANN202 - NotebookNode
        restored = copy.deepcopy(self.by_id[gid])
        if not restored.metadata.nbgrader.get("locked"):  # a solution cell: the student's code, our metadata
            restored.source = _text(cell.get("source"))
        return restored

    def put_results(self, nb, rec: dict) -> None:  # noqa: ANN001 - NotebookNode
        """Put each exercise's result into its graded test cell as a text output."""
        import nbformat

        cells = {_grade_id(c): c for c in nb.cells if _grade_id(c) is not None}
        for row in rec.get("exercises", []):
            cell = cells.get(row.get("grade_id") or f"test_{row['exercise_id']}")
            if cell is None or cell.cell_type != "code" or not cell.metadata.nbgrader.get("grade"):
                continue
            name = "stdout" if row.get("status") == "passed" else "stderr"
            cell.outputs = [nbformat.v4.new_output("stream", name=name, text=result_text(row))]


def _grade_id(cell) -> str | None:  # noqa: ANN001
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) else None


def _text(source: object) -> str:
    """A cell's source as one string that encodes as UTF-8 (JSON lets a lone surrogate through)."""
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    text = source if isinstance(source, str) else ""
    return text.encode("utf-8", "replace").decode("utf-8")


def _usable(cell: object) -> bool:
    return isinstance(cell, dict) and cell.get("cell_type") in ("code", "markdown", "raw")


def _plain(cell, used_ids: set):  # noqa: ANN001, ANN202 - NotebookNode
    """A fresh cell with the student's text only: no outputs, no nbgrader metadata, a unique id."""
    import nbformat
    from nbformat.v4.nbbase import validate

    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}[cell["cell_type"]]
    new = make(_text(cell.get("source")))
    if cell["cell_type"] != "code" and isinstance(cell.get("attachments"), dict):
        new.attachments = copy.deepcopy(cell["attachments"])  # images pasted into markdown
        try:
            validate(new, f"{cell['cell_type']}_cell")
            json.dumps(new, ensure_ascii=False).encode("utf-8")
        except Exception:  # noqa: BLE001 - untrusted: attachments nbformat would refuse are dropped
            del new["attachments"]
    cid = cell.get("id")
    if isinstance(cid, str) and _CELL_ID.match(cid) and cid not in used_ids:
        new.id = cid
    while new.id in used_ids:
        new.id = nbformat.v4.new_code_cell().id
    used_ids.add(new.id)
    return new


def result_text(row: dict) -> str:
    """One exercise's result as plain text, as the HTML feedback shows it (no hidden values).

    Args:
        row: an exercise row of a grading record (``exercise_id``, ``status``, ``score``, ``max_score``,
            ``passed``, ``total``, ``reason``, ``hint``, ``cases``; after penalties ``raw_score`` and
            ``late_submission_penalty``; after :func:`apply_manual_scores` ``manual_score``, ``auto_score``).

    Returns:
        Lines: the verdict and the automatic score; the manual score and the late penalty when there
        are; the public and hidden case marks (✓/✗); the reason, the likely cause, and one line per
        failing case (at most 6, the rest counted).
    """
    auto = float(row.get("auto_score", row.get("raw_score", row["score"])))
    lines = [f"{row['exercise_id']}: {row.get('status', '')} — automatic score {auto:g} / {float(row['max_score']):g} "
             f"(cases passed {row.get('passed', 0)} / {row.get('total', 0)})"]
    if row.get("manual"):
        lines.append(f"manual score set in the formgrader: {float(row['manual_score']):g}"
                     + (" (needs manual grading again: the submission changed)" if row.get("needs_manual_grade") else ""))
    if float(row.get("late_submission_penalty") or 0.0) > 0:
        lines.append(f"late penalty: {float(row['late_submission_penalty']):g} points (score after it: "
                     f"{float(row['score']):g})")
    cases = [c for c in row.get("cases") or [] if isinstance(c, dict)]
    lines += [f"{label} {marks}" for label, marks in case_marks(cases)]
    if row.get("reason"):
        lines.append(str(row["reason"]))
    if row.get("hint"):
        lines.append(f"Likely cause: {row['hint']}")
    failing = [f"  - {c['label']}" + (f" ({c['kind']})" if c["kind"] else "") + f": {c['why']}"
               + (f"; likely cause: {c['cause']}" if c["cause"] else "") for c in failing_cases(cases)]
    lines += failing[:MAX_LISTED]
    if len(failing) > MAX_LISTED:
        lines.append(f"  - and {len(failing) - MAX_LISTED} more")
    return "\n".join(lines) + "\n"


def apply_manual_scores(db_url: str, results: list[dict], sources: dict[str, SourceNotebook]) -> int:
    """Make the records report the manual scores a grader set in the formgrader (nbgrader's gradebook).

    nbgrader's rule (``Grade.score``): a manual score, when set, replaces the automatic one (plus any
    extra credit). A row with a manual score gets ``score`` (the manual score, less its share of the
    late penalty), ``raw_score`` (the manual score plus extra credit, before the penalty),
    ``auto_score``, ``manual_score``, ``manual = True`` and ``needs_manual_grade``; its ``status`` stays
    the automatic verdict. Where the gradebook asks for manual grading again (the submission changed
    under a manual score), the manual score is kept, as the formgrader shows it, and a review note
    goes to the record's ``review`` (``review.csv``). The late penalty is the one nbgrader stored on the
    submitted notebook (``AssignLatePenalties`` computes it from ``Grade.score``, manual scores
    included), spread over the exercises in proportion to their pre-penalty scores.

    Args:
        db_url: the gradebook's SQLAlchemy URL (``sqlite:///...``) or an SQLite file path.
        results: grading records (changed in place).
        sources: the source notebook of each assignment (its notebook name and graded cells).

    Returns:
        How many exercise rows changed (score, manual flags or penalty share).
    """
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.grader.gradebook import gradebook_url

    changed = 0
    with Gradebook(gradebook_url(db_url)) as gb:
        for rec in results:
            src = sources.get(rec["assignment_id"])
            if src is None:
                continue
            notebook = src.path.stem
            try:
                nb = gb.find_submission_notebook(notebook, rec["assignment_id"], rec["student_id"])
            except MissingEntry:
                continue  # not in the gradebook (yet): nothing was set by hand
            grades = {g.name: g for g in nb.grades}
            penalty = float(nb.late_submission_penalty or 0.0) if ("late" in rec or "raw_score" in rec) else None
            before = [_snapshot(row) for row in rec["exercises"]]
            for row in rec["exercises"]:
                _apply_grade(rec, row, grades.get(row.get("grade_id") or f"test_{row['exercise_id']}"))
            if penalty is not None:
                spread_penalty(rec, penalty)
            changed += sum(_snapshot(row) != b for row, b in zip(rec["exercises"], before))
    return changed


_TRACKED = ("score", "raw_score", "manual", "manual_score", "auto_score", "needs_manual_grade",
            "late_submission_penalty")


def _snapshot(row: dict) -> tuple:
    return tuple(row.get(k) for k in _TRACKED)


def _apply_grade(rec: dict, row: dict, grade) -> None:  # noqa: ANN001 - nbgrader.api.Grade or None
    """Put one grade's manual score on its row (or take an earlier manual score off it)."""
    if grade is None:
        return
    if grade.manual_score is None:
        if row.pop("manual", None):  # the grader cleared a manual score: back to the automatic one
            auto = float(row.pop("auto_score"))
            row.pop("manual_score", None)
            row.pop("needs_manual_grade", None)
            row["raw_score"] = row["score"] = auto
        return
    if grade.auto_score is not None:  # the gradebook's automatic score (what this grader stored)
        auto = float(grade.auto_score)
    else:
        auto = float(row["auto_score"]) if row.get("manual") else float(row.get("raw_score", row["score"]))
    raw = float(grade.manual_score) + float(grade.extra_credit or 0.0)
    row.update(auto_score=auto, manual_score=float(grade.manual_score), manual=True,
               needs_manual_grade=bool(grade.needs_manual_grade), raw_score=raw, score=raw)
    if grade.extra_credit:
        row["extra_credit"] = float(grade.extra_credit)
    if grade.needs_manual_grade:
        note = {"exercise_id": row["exercise_id"], "line": "", "reason": MANUAL_REVIEW}
        if note not in rec.setdefault("review", []):
            rec["review"].append(note)
