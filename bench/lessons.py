"""Execution time and peak kernel memory of each lesson's solution notebook.

Budgets: 90 s and 1.5 GB per lesson on 2 CPU cores. Run on an otherwise idle machine:
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/lessons.py [NN_topic ...]
"""
from __future__ import annotations

import sys

from autograder.builder.execute import execute_notebook
from autograder.builder.release import lesson_ids
from autograder.paths import PROJECT_ROOT

BUDGET_S = 90.0
BUDGET_MB = 1536.0


def main(lessons: list[str]) -> int:
    over = False
    print(f"{'lesson':<24}{'seconds':>9}{'peak MB':>9}  budgets {BUDGET_S:.0f} s, {BUDGET_MB:.0f} MB")
    for lesson in lessons or lesson_ids():
        nb, seconds = execute_notebook(PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb",
                                       cwd=PROJECT_ROOT / "build" / "bench" / lesson)
        peak = nb.metadata["beyond2d"]["peak_rss_mb"]
        flags = ("  OVER TIME" if seconds > BUDGET_S else "") + ("  OVER MEMORY" if peak > BUDGET_MB else "")
        over |= bool(flags)
        print(f"{lesson:<24}{seconds:>9.1f}{peak:>9.0f}{flags}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
