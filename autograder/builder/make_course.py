"""``make course``: release → execute every lesson → grade the demo class → print a table.

Executing the lessons is also the course's *run*: every ``RESULT`` line a lesson prints
(``course.report.result``) is collected into ``build/results.json``, and every quote
``value<!--NN.key-->`` in README.md is rewritten to the run's value, so the README's numbers are the
numbers of the last run (the notebook tests fail when a quote and a run disagree beyond the result's
tolerance).
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from autograder.builder.release import lesson_ids, release
from autograder.paths import PROJECT_ROOT
from course.report import parse_results, update_quotes

__all__ = ["run_course", "DEMO_SEED"]

DEMO_SEED = 20261123  # hidden-case seed of the demo class (a real class uses the instructor's own)


def run_course(assignments: list[str] | None = None, *, jobs: int = 2, root: Path = PROJECT_ROOT) -> int:
    """Build the release, execute each solution notebook, grade the demo class and print a table.

    Returns:
        0 when every lesson executed and every demo student got the expected score, else 1.
    """
    import nbformat
    from tqdm.auto import tqdm

    from autograder.builder.demo import STUDENTS, write_demo_class
    from autograder.builder.execute import execute_notebook, export_html
    from autograder.exercises import exercises_for
    from autograder.grader.record import totals
    from autograder.grader.grade import GradeConfig, grade_submissions

    lessons = assignments or lesson_ids(root)
    build = root / "build"
    print(f"1/3 release: {', '.join(lessons)}")
    release(lessons, root)
    times: dict[str, float] = {}
    memory: dict[str, float] = {}
    results: dict[str, tuple[float, float]] = {}
    failed: list[str] = []
    for lesson in tqdm(lessons, desc="2/3 executing lessons", unit="lesson"):
        try:
            nb, seconds = execute_notebook(root / "solutions" / lesson / f"{lesson}.ipynb", cwd=build / "run" / lesson)
        except Exception as exc:  # noqa: BLE001 - report and go on with the other lessons
            failed.append(f"{lesson}: {str(exc)[-2000:]}")
            continue
        times[lesson] = seconds
        memory[lesson] = nb.metadata.get("beyond2d", {}).get("peak_rss_mb", 0.0)
        results.update(parse_results(_output_text(nb)))
        (build / "executed").mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, build / "executed" / f"{lesson}.ipynb")
        export_html(nb, build / "html" / f"{lesson}.html")
    _write_results(results, times, memory, root)
    demo = build / "demo"
    shutil.rmtree(demo, ignore_errors=True)
    out = demo / "grades"
    expected = write_demo_class(demo / "submitted", lessons, out=out, source_root=root)
    print("3/3 grading the demo class")
    from autograder.grader.box import box_problem

    boxed = box_problem() is None
    if not boxed:  # the demo class is no exam: grade it anyway, and say how
        print(f"note: the demo class is graded without the box ({box_problem()})")
    t0 = time.perf_counter()
    graded = grade_submissions(GradeConfig(submissions=demo / "submitted", out=out, seed=DEMO_SEED, jobs=jobs,
                                            source=root / "solutions", box=boxed))
    wall = time.perf_counter() - t0
    honest = sorted(r["seconds"] for r in graded if r["student_id"] != "cheater")
    ok = not failed
    header = f"{'lesson':<22}{'run (s)':>9}{'peak MB':>9}{'exercises':>11}" + "".join(f"{s:>10}" for s in STUDENTS)
    print("\n" + header + "\n" + "-" * len(header))
    for lesson in lessons:
        n = len(exercises_for(lesson))
        cells = []
        for student in STUDENTS:
            rec = next(r for r in graded if r["student_id"] == student and r["assignment_id"] == lesson)
            score, total = totals(rec)
            passed = {r["exercise_id"] for r in rec["exercises"] if r["status"] == "passed"}
            ok &= passed == expected[student][lesson]
            cells.append(f"{100 * score / total:>9.0f}%")
        run = f"{times[lesson]:>9.1f}{memory[lesson]:>9.0f}" if lesson in times else f"{'FAILED':>18}"
        print(f"{lesson:<22}{run}{n:>11}" + "".join(cells))
    print(f"\ngrading: {len(graded)} submissions in {wall:.1f} s with {jobs} jobs; one honest submission takes "
          f"{honest[len(honest) // 2]:.1f} s (median), {honest[-1]:.1f} s (max); the cheater spends its time limits")
    print(f"executed notebooks and HTML: {build / 'executed'}, {build / 'html'}; grades: {out / 'grades.csv'}")
    for msg in failed:
        print(f"\nlesson failed to execute: {msg}")
    if not ok:
        print("\nSOMETHING IS WRONG: a lesson failed or a demo student did not get the expected score")
    return 0 if ok else 1


def _output_text(nb) -> str:  # noqa: ANN001 - nbformat node
    """Every stream and plain-text output of an executed notebook."""
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            parts.append(o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _write_results(results: dict[str, tuple[float, float]], times: dict[str, float], memory: dict[str, float],
                   root: Path) -> None:
    """Write ``build/results.json`` and rewrite the README's quotes of this run's results."""
    out = root / "build" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"results": {k: {"value": v, "tol": t} for k, (v, t) in sorted(results.items())},
              "seconds": times, "peak_rss_mb": memory}
    out.write_text(json.dumps(record, indent=1), encoding="utf-8")
    readme = root / "README.md"
    old = readme.read_text(encoding="utf-8")
    new = update_quotes(old, results)
    if new != old:
        readme.write_text(new, encoding="utf-8")
    changed = sum(a != b for a, b in zip(old.splitlines(), new.splitlines()))
    print(f"results of the run: {out} ({len(results)} numbers); README.md: {changed} lines updated from the run")
