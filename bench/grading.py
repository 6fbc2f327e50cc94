"""Grading time per submission (budget: 10 s), on the demo class of every lesson."""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys

from autograder.demo import write_demo_class
from autograder.grade import GradeConfig, grade_submissions
from autograder.release import PROJECT_ROOT, lesson_ids

BUDGET_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    root = PROJECT_ROOT / "build" / "bench" / "grading"
    shutil.rmtree(root, ignore_errors=True)
    lessons = lesson_ids()
    write_demo_class(root / "submitted", lessons, out=root / "out")
    results = grade_submissions(GradeConfig(submissions=root / "submitted", out=root / "out", seed=1, jobs=args.jobs,
                                            force=True), progress=False)
    print(f"{'lesson':<22}{'student':<10}{'seconds':>9}")
    honest = []
    for rec in results:
        print(f"{rec['assignment_id']:<22}{rec['student_id']:<10}{rec['seconds']:>9.2f}")
        if rec["student_id"] != "cheater":  # the cheater spends its time limits on purpose
            honest.append(rec["seconds"])
    print(f"honest submissions: median {statistics.median(honest):.2f} s, max {max(honest):.2f} s (budget {BUDGET_S:.0f} s)")
    return 0 if max(honest) <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
