"""Execution time of each lesson's solution notebook (budget: 90 s on 2 CPU cores)."""
from __future__ import annotations

import sys

from autograder.execute import execute_notebook
from autograder.release import PROJECT_ROOT, lesson_ids

BUDGET_S = 90.0


def main(lessons: list[str]) -> int:
    worst = 0.0
    print(f"{'lesson':<24}{'seconds':>9}  budget {BUDGET_S:.0f} s")
    for lesson in lessons or lesson_ids():
        _, seconds = execute_notebook(PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb",
                                      cwd=PROJECT_ROOT / "build" / "bench" / lesson)
        worst = max(worst, seconds)
        print(f"{lesson:<24}{seconds:>9.1f}{'  OVER' if seconds > BUDGET_S else ''}")
    return 0 if worst <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
