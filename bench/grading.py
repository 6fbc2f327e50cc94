"""Grading time per submission (budget: 10 s) and the grader's peak memory, on the demo class.

    .venv/bin/python bench/grading.py [--jobs N] [--no-box] [--lesson ID ...]

``--no-box`` grades the same class without the bubblewrap box, to measure what the box costs.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys

from autograder.builder.demo import write_demo_class
from autograder.builder.release import lesson_ids
from autograder.grader.grade import GradeConfig, grade_submissions
from autograder.paths import PROJECT_ROOT

BUDGET_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--no-box", action="store_true", help="grade without the bubblewrap box")
    parser.add_argument("--lesson", action="append", help="only this lesson (repeatable)")
    args = parser.parse_args()
    root = PROJECT_ROOT / "build" / "bench" / "grading"
    shutil.rmtree(root, ignore_errors=True)
    lessons = args.lesson or lesson_ids()
    write_demo_class(root / "submitted", lessons, out=root / "out")
    results = grade_submissions(GradeConfig(submissions=root / "submitted", out=root / "out", seed=1, jobs=args.jobs,
                                            force=True, box=not args.no_box), progress=False)
    print(f"{'lesson':<22}{'student':<10}{'seconds':>9}")
    honest = []
    for rec in results:
        print(f"{rec['assignment_id']:<22}{rec['student_id']:<10}{rec['seconds']:>9.2f}")
        if rec["student_id"] != "cheater":  # the cheater spends its time limits on purpose
            honest.append(rec["seconds"])
    print(f"honest submissions: median {statistics.median(honest):.2f} s, max {max(honest):.2f} s (budget {BUDGET_S:.0f} s)"
          f"; box {'off' if args.no_box else 'on'}; grader peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0 if max(honest) <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
