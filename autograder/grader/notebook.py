"""Reading nbgrader notebooks: the trusted source and an untrusted submission.

The grader takes from a submission only the *solution* cells, matched to the source by their
nbgrader ``grade_id``; locked cells (setup, tests) always come from the source, so a submission
that edits, deletes or duplicates them gains nothing.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

__all__ = ["SourceNotebook", "Submission", "read_source", "read_submission", "MAX_NOTEBOOK_BYTES"]

MAX_NOTEBOOK_BYTES = 16 * 2**20  # a lesson's notebook with outputs is well under 5 MB; larger ones are not parsed


@dataclasses.dataclass
class SourceNotebook:
    """What the grader needs from the instructor's source notebook.

    Attributes:
        assignment: lesson id.
        path: the source ``.ipynb``.
        setup_cells: (grade_id, code) of locked setup cells, in order (grade_id starts with "setup").
        solution_ids: grade_ids of solution cells, in order.
        test_points: grade_id of each graded test cell -> points.
        test_sources: grade_id of each graded test cell -> its code (hidden tests included).
        manual_cells: grade_id -> (points, cell type) of each cell graded by hand: a solution cell that
            is also graded (a written answer, markdown or code) or a task cell, as nbgrader marks them.
    """

    assignment: str
    path: Path
    setup_cells: list[tuple[str, str]]
    solution_ids: list[str]
    test_points: dict[str, float]
    test_sources: dict[str, str] = dataclasses.field(default_factory=dict)
    manual_cells: dict[str, tuple[float, str]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Submission:
    """The solution cells found in a submission, and what was wrong with the file."""

    cells: dict[str, str]  # grade_id -> code
    problems: list[str]    # readable notes: "cell x duplicated (the last copy was graded)"
    readable: bool = True  # False when the notebook is not valid JSON / not a notebook


def _source_text(cell: dict) -> str | None:
    src = cell.get("source", "")
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    return src if isinstance(src, str) else None


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def read_source(path: Path, assignment: str) -> SourceNotebook:
    """Read the instructor's source notebook (trusted).

    Raises:
        FileNotFoundError: no source notebook at ``path``.
        ValueError: the source has no setup cell or two cells share a grade_id.
    """
    nb = json.loads(Path(path).read_text())
    setup, solutions, tests, sources, manual, seen = [], [], {}, {}, {}, set()
    for cell in nb["cells"]:
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        kind = cell.get("cell_type")
        if not gid or kind not in ("code", "markdown"):
            continue
        if gid in seen:
            raise ValueError(f"{path}: two cells have grade_id {gid!r}")
        seen.add(gid)
        if (meta.get("grade") and meta.get("solution")) or meta.get("task"):  # graded by hand
            manual[gid] = (float(meta.get("points", 0)), kind)
        if kind != "code":
            continue
        if meta.get("solution"):
            solutions.append(gid)
        elif meta.get("grade"):
            tests[gid] = float(meta.get("points", 0))
            sources[gid] = _source_text(cell) or ""
        elif meta.get("locked") and gid.startswith("setup"):
            setup.append((gid, _source_text(cell) or ""))
    if not setup:
        raise ValueError(f"{path}: no locked cell with a grade_id starting with 'setup'")
    return SourceNotebook(assignment, Path(path), setup, solutions, tests, sources, manual)


def read_submission(path: Path | None, source: SourceNotebook) -> Submission:
    """Read a student's notebook (untrusted): the code of each solution cell, by grade_id.

    Never raises on bad content: an unreadable notebook gives ``readable=False`` and a problem note.
    """
    if path is None:
        return Submission({}, ["no notebook was submitted"], readable=False)
    from autograder.grader.transport import read_regular

    try:  # a regular file of bounded size (not a FIFO, a link or a 60 MB bomb), then JSON
        nb = json.loads(read_regular(path, MAX_NOTEBOOK_BYTES).decode("utf-8"))
        cells = nb["cells"]
        if not isinstance(cells, list):
            raise TypeError("'cells' is not a list")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        return Submission({}, [f"{Path(path).name} is not a readable notebook ({type(exc).__name__}: {exc})"],
                          readable=False)
    found: dict[str, list[str]] = {}
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        gid = _nbgrader(cell).get("grade_id")
        text = _source_text(cell)
        if gid in source.solution_ids and text is not None:
            found.setdefault(gid, []).append(text)
    problems = []
    for gid in source.solution_ids:
        if gid not in found:
            problems.append(f"solution cell {gid!r} is missing (deleted?)")
        elif len(found[gid]) > 1:
            problems.append(f"solution cell {gid!r} appears {len(found[gid])} times; the last copy was graded")
    return Submission({gid: texts[-1] for gid, texts in found.items()}, problems)
