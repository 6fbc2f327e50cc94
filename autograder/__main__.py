"""Command line of the course: ``python -m autograder {grade,release,course}``.

    grade    grade submissions in nbgrader's layout (sandboxed, parallel, resumable)
    release  regenerate solutions/*.ipynb from the .py sources and the student release in notebooks/
    course   release, execute every lesson, grade the demo class, print a table (what `make course` runs)
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _grade(args: argparse.Namespace) -> int:
    from autograder.grader.gradebook import course_db_url
    from autograder.grader.grade import GradeConfig, grade_submissions, parse_shard
    from autograder.grader.record import totals

    seed = args.seed if args.seed is not None else os.environ.get("AUTOGRADER_SEED")
    if args.seed_file:
        try:
            seed = int(Path(args.seed_file).read_text().strip())
        except (OSError, ValueError) as exc:
            print(f"error: --seed-file {args.seed_file}: {exc} (the file must hold one integer)", file=sys.stderr)
            return 2
    elif args.seed is not None:
        print("note: --seed is visible to other users of this machine in the process list; prefer --seed-file "
              "(graded code runs in its own PID namespace and cannot see it)", file=sys.stderr)
    if seed is None:
        print("note: no --seed (or AUTOGRADER_SEED) given: grading on the public cases only"
              + (" (--per-student-seed needs a seed)" if args.per_student_seed else ""), file=sys.stderr)
    elif not 2**32 <= abs(int(seed)):
        print("note: a small seed can be found by trying seeds against one hidden case a student saw; use a large "
              "random one: python -c 'import secrets; print(secrets.randbits(64))' > SEED", file=sys.stderr)
    try:
        shard = parse_shard(args.shard) if args.shard else None
        course_dir = Path(args.course_dir) if args.course_dir else None
        db_url = args.db_url or course_db_url(course_dir)  # the course's gradebook, as nbgrader's commands use it
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = GradeConfig(submissions=Path(args.submissions), out=Path(args.out), seed=None if seed is None else int(seed),
                      jobs=args.jobs, assignments=args.assignment or None, force=args.force,
                      memory_mb=args.memory_mb, box=not args.no_box, db_url=db_url, course_dir=course_dir,
                      per_student_seed=args.per_student_seed, shard=shard)
    for text in args.duedate or []:
        assignment, _, when = text.rpartition("=")
        cfg.duedates[assignment or "*"] = when
    if args.source:
        cfg.source = Path(args.source)
    results = grade_submissions(cfg, progress=not args.quiet)
    for rec in results:
        score, total = totals(rec)
        late = rec.get("late") or {}
        note = (f"  (late {late['seconds_late'] / 3600:.1f} h, penalty {rec.get('late_submission_penalty', 0):g})"
                if (late.get("seconds_late") or 0) > 0 else "")
        note += f"  ({late['problem']})" if late.get("problem") else ""
        print(f"{rec['student_id']:<20} {rec['assignment_id']:<22} {score:g}/{total:g}"
              f"{'  (notebook unchanged: not run again)' if rec.get('reused') else ''}{note}")
    flagged = sorted({(rec["student_id"], rec["assignment_id"]) for rec in results if rec.get("review")})
    if flagged:
        print(f"{len(flagged)} submission(s) have cells to read by hand (a copy of the course's reference, a forbidden "
              f"operator, or names that can bypass the sandbox's checks; each cell's reason is listed in "
              f"{cfg.out / 'review.csv'}; scores are unchanged)")
    print(f"wrote {cfg.out / 'grades.csv'}, review.csv and feedback/"
          + (f" (shard {shard[0]}/{shard[1]}: {len(results)} submission(s); the files hold every shard's so far)"
             if shard else "") + f"; gradebook {_safe_url(db_url)}")
    return 0


def _safe_url(url: str) -> str:
    """A database URL to print: its password (if any) replaced by ***."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _release(args: argparse.Namespace) -> int:
    from autograder.builder.release import release

    release(args.assignment or None)
    return 0


def _course(args: argparse.Namespace) -> int:
    from autograder.builder.make_course import run_course

    return run_course(assignments=args.assignment or None, jobs=args.jobs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade submissions (SUBMISSIONS/<student_id>/<assignment_id>/<notebook>.ipynb)")
    g.add_argument("--submissions", required=True, help="folder of submissions in nbgrader's submitted layout")
    g.add_argument("--out", required=True, help="output folder: grades.csv, grades.json, review.csv, feedback/, "
                   "results/ (shards of one class share it)")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    g.add_argument("--assignment", action="append", help="grade only this assignment (repeatable)")
    g.add_argument("--seed", type=int, help="instructor-held seed of the hidden cases (or AUTOGRADER_SEED)")
    g.add_argument("--seed-file", help="a file holding the seed (kept out of the process list)")
    g.add_argument("--per-student-seed", action="store_true",
                   help="draw each student's hidden cases from HMAC-SHA256(seed, student id): no two students share "
                   "them, so pooled feedback does not line up (the same student gets the same cases on every run)")
    g.add_argument("--source", help="instructor source folder (default: the project's solutions/)")
    g.add_argument("--force", action="store_true", help="re-grade submissions that are already graded")
    g.add_argument("--memory-mb", type=int, default=2048, help="memory limit of a grading process (default 2048)")
    g.add_argument("--db-url", help="the nbgrader gradebook to write (an SQLAlchemy URL, as nbgrader's db_url, e.g. "
                   "sqlite:////srv/course/gradebook.db or postgresql+psycopg2://user@host/course); default: the "
                   "course's CourseDirectory.db_url from the nbgrader_config.py of --course-dir")
    g.add_argument("--course-dir", help="the folder nbgrader's commands run in: its nbgrader_config.py sets the "
                   "late-submission plugin (AssignLatePenalties.plugin_class); default: the current folder")
    g.add_argument("--duedate", action="append", metavar="[ASSIGNMENT=]TIME",
                   help="store this due date on the assignment in the gradebook, as `nbgrader db assignment add "
                   "ID --duedate TIME` (e.g. '2026-12-04 17:00:00 UTC'; without ASSIGNMENT=: every graded one); "
                   "default: the due date the gradebook holds")
    g.add_argument("--no-box", action="store_true",
                   help="grade without the bubblewrap box (only where it cannot be built; every feedback page says so)")
    g.add_argument("--shard", metavar="I/N", help="grade only shard I of N (0 <= I < N; students split by a hash of "
                   "their id): N processes, e.g. a Slurm array or a Kubernetes indexed Job, grade a class at once "
                   "into one --out and one gradebook")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=_grade)
    r = sub.add_parser("release", help="regenerate source notebooks and the student release")
    r.add_argument("--assignment", action="append", help="only this lesson (repeatable)")
    r.set_defaults(func=_release)
    c = sub.add_parser("course", help="release, execute every lesson, grade the demo class, print a table")
    c.add_argument("--assignment", action="append", help="only this lesson (repeatable)")
    c.add_argument("--jobs", type=int, default=2, help="parallel grading jobs (default 2)")
    c.set_defaults(func=_course)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
