"""Per-student feedback: one small HTML page per assignment, written from a grading record."""
from __future__ import annotations

import html
from pathlib import Path

__all__ = ["write_feedback", "render_feedback"]

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
          "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4rem;text-align:left;"
          "vertical-align:top}.passed{background:#e8f6e8}.failed{background:#fbeaea}code{white-space:pre-wrap}")


def render_feedback(record: dict) -> str:
    """The feedback page of one grading record (see autograder.grade) as an HTML string."""
    e = html.escape
    score = sum(r["score"] for r in record["exercises"])
    total = sum(r["max_score"] for r in record["exercises"])
    rows = []
    for r in record["exercises"]:
        detail = e(r.get("reason") or "")
        if r.get("hint"):
            detail += f"<br><b>Likely cause:</b> {e(r['hint'])}"
        css = "passed" if r["status"] == "passed" else "failed"
        rows.append(f"<tr class='{css}'><td><code>{e(r['exercise_id'])}</code></td><td>{r['score']:g} / "
                    f"{r['max_score']:g}</td><td>{e(r['status'])}</td><td>{r.get('passed', 0)} / {r.get('total', 0)}"
                    f"</td><td>{detail}</td></tr>")
    # what the student may see: problems of the notebook, errors of its cells, and how it was graded;
    # the child's sandbox notes (users, mechanisms) stay in the instructor's results/ record
    notes = [*record.get("grading_notes", []), *record.get("problems", []),
             *(f"cell {c['grade_id']}: {c['error']}" for c in record.get("cell_errors", []))]
    notes_html = "".join(f"<li>{e(str(n))}</li>" for n in notes)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(record['assignment_id'])} — "
            f"{e(record['student_id'])}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{e(record['assignment_id'])}: {score:g} / {total:g}</h1><p>Student: {e(record['student_id'])}</p>"
            "<table><tr><th>exercise</th><th>score</th><th>status</th><th>cases passed</th><th>details</th></tr>"
            f"{''.join(rows)}</table>" + (f"<h2>Notes</h2><ul>{notes_html}</ul>" if notes else "") +
            "<p>Cases include hidden ones drawn at grading time; the public ones are those of <code>check()</code>.</p>"
            "</body></html>")


def write_feedback(record: dict, path: Path) -> None:
    """Write the feedback page of ``record`` to ``path`` (folders are created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_feedback(record), encoding="utf-8")
