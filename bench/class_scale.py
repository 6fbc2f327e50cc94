"""A class graded at scale: shards at once into one gradebook, and the grader beside `nbgrader autograde`.

    .venv/bin/python bench/class_scale.py shards [--students 300] [--lesson ID ...] [--shards 3] [--db-url URL]
    .venv/bin/python bench/class_scale.py versus [--students 20] [--lesson ID] [--each-once]

``shards``: STUDENTS submissions of each lesson (every other one the solutions, the rest the blank
release), graded by SHARDS processes of ``python -m autograder grade --shard I/N`` started at once with
one ``--out`` and one gradebook (SQLite in the output folder unless ``--db-url``); prints the wall time,
submissions per minute and what the gradebook holds (every submission once).

``versus``: the same STUDENTS submissions of one lesson graded by our grader (``--jobs 1``) and by
``nbgrader autograde`` (one process, as nbgrader runs), in the order A B B A so that a machine getting
busier or quieter during the run weighs on both; prints each run's wall and CPU time and the ratios.
Run on an otherwise idle machine (``OMP_WAIT_POLICY=PASSIVE`` is set for the children).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from autograder.builder.release import notebook_config
from autograder.grader.gradebook import ensure_tools_on_path
from autograder.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT / "build" / "bench" / "class_scale"


def _class(folder: Path, lessons: list[str], students: int, first: int = 0) -> None:
    """``folder/<student>/<lesson>/<lesson>.ipynb``: solutions for even students, the blank release for odd."""
    shutil.rmtree(folder, ignore_errors=True)
    for lesson in lessons:
        solved = (PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_bytes()
        blank = (PROJECT_ROOT / "notebooks" / lesson / f"{lesson}.ipynb").read_bytes()
        for i in range(first, first + students):
            target = folder / f"student{i:04d}" / lesson
            target.mkdir(parents=True)
            (target / f"{lesson}.ipynb").write_bytes(solved if i % 2 == 0 else blank)


def _env() -> dict:
    ensure_tools_on_path()
    return {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(PROJECT_ROOT)}


def _children_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (user, nice, system, irq, softirq, steal of /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = fields[0] + fields[1] + fields[2] + sum(fields[5:8])
    return busy / os.sysconf("SC_CLK_TCK")


def shards(args: argparse.Namespace) -> int:
    from nbgrader.api import Gradebook, SubmittedAssignment

    lessons = args.lesson or ["01_video_tensors", "02_conv3d"]
    _class(ROOT / "submitted", lessons, args.students)
    out = ROOT / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    url = args.db_url or f"sqlite:///{out / 'gradebook.db'}"
    (ROOT / "seed").write_text("918273645546372819\n")
    cmd = [sys.executable, "-m", "autograder", "grade", "--submissions", str(ROOT / "submitted"), "--out", str(out),
           "--seed-file", str(ROOT / "seed"), "--db-url", url, "--quiet", "--course-dir", str(ROOT)]
    (ROOT / "nbgrader_config.py").write_text("c = get_config()\n")
    t0, cpu0 = time.perf_counter(), _children_cpu()
    procs = [subprocess.Popen(cmd + ["--shard", f"{k}/{args.shards}"], env=_env(), cwd=PROJECT_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for k in range(args.shards)]
    failed = [p.communicate()[1].decode()[-2000:] for p in procs if p.wait() != 0]
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    n = args.students * len(lessons)
    with Gradebook(url) as gb:
        stored = gb.db.query(SubmittedAssignment).count()
    print(f"{n} submissions ({args.students} students × {len(lessons)} lessons) in {args.shards} shards at once: "
          f"{wall:.0f} s wall, {cpu:.0f} s CPU, {60 * n / wall:.0f} submissions/min; gradebook holds {stored} "
          f"submissions ({'every one once' if stored == n else 'MISMATCH'})")
    for err in failed:
        print("a shard failed:", err)
    return 0 if stored == n and not failed else 1


def _ours(submitted: Path, lesson: str) -> tuple[float, float]:
    out = ROOT / "versus-out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "autograder", "grade", "--submissions", str(submitted), "--out", str(out),
           "--seed", "918273645546372819", "--db-url", f"sqlite:///{out / 'gradebook.db'}", "--quiet",
           "--assignment", lesson, "--course-dir", str(ROOT)]
    return _timed(cmd, PROJECT_ROOT)


def _nbgrader(submitted: Path, lesson: str) -> tuple[float, float]:
    course = ROOT / "nbgrader-course"
    shutil.rmtree(course, ignore_errors=True)
    shutil.copytree(PROJECT_ROOT / "solutions" / lesson, course / "source" / lesson)
    shutil.copytree(submitted, course / "submitted")
    config = notebook_config(course)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        'c.CourseDirectory.source_directory = "source"\n'
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(course / 'gradebook.db')!r}\n"
        f"c.CourseDirectory.ignore = {list(config.CourseDirectory.ignore)!r}\n"
        "c.ExecutePreprocessor.timeout = 300\n")
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", lesson, "--force"], cwd=course,
                   env=_env(), check=True, capture_output=True)
    return _timed([sys.executable, "-m", "nbgrader", "autograde", lesson, "--force"], course)


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    t0, cpu0 = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[2:4]} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - t0, _children_cpu() - cpu0


def versus(args: argparse.Namespace) -> int:
    lesson = (args.lesson or ["01_video_tensors"])[0]
    (ROOT / "nbgrader_config.py").parent.mkdir(parents=True, exist_ok=True)
    (ROOT / "nbgrader_config.py").write_text("c = get_config()\n")
    if args.each_once:
        half = args.students // 2
        classes = [ROOT / "versus-first", ROOT / "versus-second"]
        _class(classes[0], [lesson], half)
        _class(classes[1], [lesson], args.students - half, first=half)
    else:
        classes = [ROOT / "versus-submitted"] * 2
        _class(classes[0], [lesson], args.students)
    runs = {"ours": [], "nbgrader": []}
    for name, k in (("ours", 0), ("nbgrader", 0), ("nbgrader", 1), ("ours", 1)):  # A B B A
        runs[name].append((_ours if name == "ours" else _nbgrader)(classes[k], lesson))
        print(f"{name:>9}: {runs[name][-1][0]:.1f} s wall, {runs[name][-1][1]:.1f} s CPU", flush=True)
    how = "sums over the two halves" if args.each_once else "means of two runs each"
    scale = 1 if args.each_once else 0.5
    wall = {k: scale * sum(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: scale * sum(c for _, c in v) for k, v in runs.items()}
    print(f"{args.students} submissions of {lesson}: ours {wall['ours']:.1f} s wall / {cpu['ours']:.1f} s CPU, "
          f"nbgrader autograde {wall['nbgrader']:.1f} s / {cpu['nbgrader']:.1f} s: ours is "
          f"{wall['nbgrader'] / wall['ours']:.2f}× faster in wall time and uses {cpu['nbgrader'] / cpu['ours']:.2f}× "
          f"less CPU ({how}, A B B A; CPU = the machine's busy time)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("shards")
    s.add_argument("--students", type=int, default=300)
    s.add_argument("--lesson", action="append")
    s.add_argument("--shards", type=int, default=3)
    s.add_argument("--db-url")
    s.set_defaults(func=shards)
    v = sub.add_parser("versus")
    v.add_argument("--students", type=int, default=20)
    v.add_argument("--lesson", action="append")
    v.add_argument("--each-once", action="store_true", help="grade each submission once per tool (halves, A B B A)")
    v.set_defaults(func=versus)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
