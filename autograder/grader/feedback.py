"""Per-student feedback: one small HTML page per assignment, written from a grading record."""
from __future__ import annotations

import html
from pathlib import Path

from autograder.grader.record import totals

__all__ = ["write_feedback", "render_feedback"]

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
          "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4rem;text-align:left;"
          "vertical-align:top}.passed{background:#e8f6e8}.failed{background:#fbeaea}code{white-space:pre-wrap}")


def render_feedback(record: dict) -> str:
    """The feedback page of one grading record (see autograder.grader.grade) as an HTML string."""
    e = html.escape
    score, total = totals(record)
    rows = []
    for r in record["exercises"]:
        detail = e(r.get("reason") or "")
        if r.get("hint"):
            detail += f"<br><b>Likely cause:</b> {e(r['hint'])}"
        detail += _failed_cases(r.get("cases") or [])
        if r.get("manual"):  # the instructor's score from the formgrader stands in for the automatic one
            auto = r.get("auto_score")
            detail += "<br><b>Scored by your instructor</b>" + (f" (automatic score: {auto:g})" if auto is not None
                                                                else "")
        css = "passed" if r["status"] == "passed" else "failed"
        rows.append(f"<tr class='{css}'><td><code>{e(r['exercise_id'])}</code></td><td>{r['score']:g} / "
                    f"{r['max_score']:g}</td><td>{e(r['status'])}</td><td>{r.get('passed', 0)} / {r.get('total', 0)}"
                    f"{_marks(r.get('cases') or [])}</td><td>{detail}</td></tr>")
    # what the student may see: problems of the notebook, errors of its cells, and how it was graded;
    # the child's sandbox notes (users, mechanisms) stay in the instructor's results/ record
    notes = [*record.get("grading_notes", []), *record.get("problems", []),
             *(f"cell {c['grade_id']}: {c['error']}" for c in record.get("cell_errors", []))]
    notes_html = "".join(f"<li>{e(str(n))}</li>" for n in notes)
    late = late_text(record)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(record['assignment_id'])} — "
            f"{e(record['student_id'])}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{e(record['assignment_id'])}: {score:g} / {total:g}</h1><p>Student: {e(record['student_id'])}</p>"
            + (f"<p class='late'><b>Late:</b> {e(late)}</p>" if late else "") +
            "<table><tr><th>exercise</th><th>score</th><th>status</th><th>cases passed</th><th>details</th></tr>"
            f"{''.join(rows)}</table>" + (f"<h2>Notes</h2><ul>{notes_html}</ul>" if notes else "") +
            "<p>Cases include hidden ones drawn at grading time (marked <i>hidden</i>: only their kind is shown, "
            "numbers as …, never their values); the public ones are those of <code>check()</code>.</p>"
            "</body></html>")


MAX_LISTED = 6  # failing cases listed per exercise (the rest are counted)


def case_marks(cases: list[dict]) -> list[tuple[str, str]]:
    """The pass/fail marks of an exercise's cases, public and hidden apart: ``[("public", "✓✓✗"), ("hidden", "✓✗")]``.

    A group without cases is left out. ``cases`` are the grading record's case dicts (``ok``, ``public``).
    """
    groups = [(label, [c for c in cases if bool(c.get("public")) == public]) for label, public in
              (("public", True), ("hidden", False))]
    return [(label, "".join("✓" if c.get("ok") else "✗" for c in group)) for label, group in groups if group]


def failing_cases(cases: list[dict]) -> list[dict]:
    """The failing cases in order, each ``{"label": "hidden case 2", "kind", "why", "cause"}`` (strings, may be "").

    Cases are numbered within their group (public or hidden) as the student sees them in ``case_marks``.
    """
    failing, counts = [], {True: 0, False: 0}
    for c in cases:
        public = bool(c.get("public"))
        counts[public] += 1
        if not c.get("ok"):
            failing.append({"label": f"{'public' if public else 'hidden'} case {counts[public]}",
                            "kind": str(c.get("kind") or ""), "why": str(c.get("why", "")),
                            "cause": str(c.get("cause") or "")})
    return failing


def _marks(cases: list[dict]) -> str:
    return "".join(f"<br>{label} {marks}" for label, marks in case_marks(cases))


def _failed_cases(cases: list[dict]) -> str:
    """One list item per failing case: public or hidden, its kind, what went wrong and the likely cause."""
    e = html.escape
    lines = [f"<li><i>{c['label']}</i>" + (f" ({e(c['kind'])})" if c["kind"] else "") + f": {e(c['why'])}"
             + (f"; likely cause: {e(c['cause'])}" if c["cause"] else "") + "</li>" for c in failing_cases(cases)]
    if not lines:
        return ""
    more = f"<li>and {len(lines) - MAX_LISTED} more</li>" if len(lines) > MAX_LISTED else ""
    return f"<ul>{''.join(lines[:MAX_LISTED])}{more}</ul>"


def late_text(record: dict) -> str:
    """One sentence on a late submission ("submitted 45.0 h late ...; late penalty: 6 points ..."), or "".

    Args:
        record: a grading record after the late penalty was applied (``record["late"]``,
            ``raw_score`` and ``late_submission_penalty``; see autograder.grader.grade).
    """
    late = record.get("late") or {}
    seconds = float(late.get("seconds_late") or 0.0)
    if seconds <= 0:
        return ""
    hours = f"{seconds / 3600:.1f} h" if seconds >= 360 else f"{seconds / 60:.0f} min"
    penalty = float(record.get("late_submission_penalty") or 0.0)
    raw = float(record.get("raw_score", totals(record)[0]))
    text = f"submitted {hours} late (at {late.get('timestamp')} UTC; due {late.get('duedate')} UTC); "
    if penalty > 0:
        return text + f"late penalty: {penalty:g} point{'s' if penalty != 1 else ''} (score before the penalty: {raw:g})"
    return text + "no late penalty applies"


def write_feedback(record: dict, path: Path) -> None:
    """Write the feedback page of ``record`` to ``path`` (folders are created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_feedback(record), encoding="utf-8")
