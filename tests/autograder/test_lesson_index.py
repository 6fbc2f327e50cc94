"""The lesson index and DESIGN.md against the code: one name chain per lesson, kept true by these tests.

The chain: a lesson folder in ``solutions/`` ↔ its spec in ``autograder/exercises`` ↔ each exercise's
reference in ``course`` (imported) ↔ the test files that import that module; ``solutions/README.md``
shows the generated table, and every file path ``DESIGN.md`` names exists. Each check is a small
function that returns what is wrong; the second half of this file feeds each one a broken index,
README, source or document and proves that it reports the break. Nothing here executes a notebook.
"""
import copy
import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

import pytest

import autograder.builder.lesson_index as li
from autograder.builder.lesson_index import lesson_index, readme_block, readme_problems, render_markdown
from autograder.paths import PROJECT_ROOT as ROOT

INDEX = lesson_index()
MODULES = sorted({ex["module"] for entry in INDEX for ex in entry["exercises"]})
LESSONS = [entry["lesson"] for entry in INDEX]
SOLUTION_HEADER = re.compile(r"^# %%(?P<markdown> \[markdown\])? nbgrader=(?P<meta>\{.*\})\s*$", re.MULTILINE)
BACKTICKED = re.compile(r"`([^`\s]+)`")
ROOT_FILES = ("README.md", "DESIGN.md", "Makefile", "pyproject.toml", "environment.yml", "nbgrader_config.py")
PLACEHOLDERS = ("NN", "<", "*", "{")  # a template such as solutions/NN_topic/NN_topic.py names no file


# --- the checks: each returns a list of what is wrong (empty when all is well) --------------------------------
def lessons_without_spec_or_source(index: list[dict]) -> list[str]:
    """Lessons with a source in solutions/ but no spec, and specs whose lesson has no source."""
    return ([f"{e['lesson']}: solutions/{e['lesson']}/ has no spec in autograder/exercises" for e in index
             if e["solution"] and not e["spec"]]
            + [f"{e['lesson']}: {e['spec']} has no source solutions/{e['lesson']}/{e['lesson']}.py" for e in index
               if e["spec"] and not e["solution"]])


def references_that_do_not_import(index: list[dict]) -> list[str]:
    """Exercises whose reference string does not resolve to an attribute of an importable module."""
    return [f"{e['lesson']}: {ex['name']} -> {ex['reference']}: {ex['error']}"
            for e in index for ex in e["exercises"] if ex["error"]]


def modules_without_tests(index: list[dict]) -> list[str]:
    """Reference modules that no file under tests/ imports."""
    return sorted({ex["module"] for e in index for ex in e["exercises"] if not ex["tests"]})


def repeated_exercise_names(index: list[dict]) -> list[str]:
    """Exercise names used more than once in the course (find_exercise would return only the first)."""
    counts = Counter(ex["name"] for e in index for ex in e["exercises"])
    return [f"{name} in {', '.join(e['lesson'] for e in index for ex in e['exercises'] if ex['name'] == name)}"
            for name, n in sorted(counts.items()) if n > 1]


def notebook_order(source: str) -> list[str]:
    """grade_ids of a jupytext source's solution code cells, in order."""
    return [meta["grade_id"] for m in SOLUTION_HEADER.finditer(source) if not m["markdown"]
            for meta in [json.loads(m["meta"])] if meta.get("solution")]


def order_problems(entry: dict, root: Path = ROOT) -> list[str]:
    """The spec's exercise order where it differs from the order of the source's solution cells."""
    if not entry["solution"]:
        return [f"{entry['lesson']}: no source"]
    spec = [ex["name"] for ex in entry["exercises"]]
    cells = notebook_order((root / entry["solution"]).read_text(encoding="utf-8"))
    return [] if spec == cells else [f"{entry['lesson']}: spec order {spec} but notebook order {cells}"]


def missing_paths(text: str, root: Path = ROOT) -> list[str]:
    """Backticked file paths of a document that do not exist (``file::test`` also needs ``def test``)."""
    top = {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")}
    missing = []
    for token in BACKTICKED.findall(text):
        path, _, test = token.partition("::")
        first = path.split("/", 1)[0]
        if any(p in token for p in PLACEHOLDERS) or not (path in ROOT_FILES or ("/" in path and first in top)):
            continue
        if not (root / path).exists():
            missing.append(token)
        elif test and not re.search(rf"^\s*def {re.escape(test.split('[')[0])}\(", (root / path).read_text(),
                                    re.MULTILINE):
            missing.append(token)
    return missing


# --- the real repository ----------------------------------------------------------------------------------------
def test_readme_block_is_the_generated_table():
    """Check that solutions/README.md shows the table the code generates now."""
    problems = readme_problems(render_markdown(INDEX), (ROOT / "solutions" / "README.md").read_text(encoding="utf-8"))
    assert not problems, ("solutions/README.md's lesson index is stale; run "
                          "`.venv/bin/python -m autograder.builder.lesson_index --write`:\n" + "\n".join(problems))


def test_every_lesson_has_a_spec_and_every_spec_a_lesson():
    """Check that each solutions/NN_topic/NN_topic.py has a spec and each spec a source."""
    assert len(INDEX) >= 14
    assert not lessons_without_spec_or_source(INDEX)


def test_every_reference_imports():
    """Check that each exercise's reference string names an attribute of an importable course module."""
    assert sum(len(e["exercises"]) for e in INDEX) >= 70
    assert not references_that_do_not_import(INDEX)
    assert all(ex["module"].startswith("course.") for e in INDEX for ex in e["exercises"])


@pytest.mark.parametrize("module", MODULES)
def test_every_reference_module_is_imported_by_a_test(module):
    """Check that some file under tests/ imports the module holding a reference."""
    assert module not in modules_without_tests(INDEX), f"no test file imports {module}"


def lesson_line_problems(index: list[dict], docs: dict[str, str]) -> list[str]:
    """Reference modules whose docstring lacks the paragraph naming exactly their lessons.

    The paragraph is ``Lesson NN_topic.``, or ``Lessons NN_a, NN_b.`` for a module that serves several.
    """
    wanted: dict[str, set[str]] = {}
    for entry in index:
        for ex in entry["exercises"]:
            wanted.setdefault(ex["module"], set()).add(entry["lesson"])
    problems = []
    for module, lessons in sorted(wanted.items()):
        line = (f"Lesson {min(lessons)}." if len(lessons) == 1 else f"Lessons {', '.join(sorted(lessons))}.")
        if line not in [p.strip() for p in (docs.get(module) or "").split("\n\n")]:
            problems.append(f"{module}: its docstring has no paragraph {line!r}")
    return problems


def test_each_reference_module_names_its_lessons_in_one_way():
    """Check that a maintainer reading a reference module finds its lessons in the same place and words."""
    import importlib

    docs = {m: importlib.import_module(m).__doc__ for m in MODULES}
    assert not lesson_line_problems(INDEX, docs)


def test_a_module_that_names_its_lesson_otherwise_is_reported():
    index = [{"lesson": "05_inflation", "exercises": [{"module": "a"}, {"module": "b"}]},
             {"lesson": "11_unet", "exercises": [{"module": "b"}]}]
    docs = {"a": "Inflation (lesson 05).\n\nMore.", "b": "Metrics.\n\nLessons 05_inflation, 11_unet.\n"}
    assert lesson_line_problems(index, docs) == ["a: its docstring has no paragraph 'Lesson 05_inflation.'"]


def test_exercise_names_are_unique_across_the_course():
    """Check that no two exercises share a name (check(fn) finds its exercise by the function's name)."""
    assert not repeated_exercise_names(INDEX)


@pytest.mark.parametrize("lesson", LESSONS)
def test_spec_lists_exercises_in_notebook_order(lesson):
    """Check that a spec's EXERCISES follow the source's solution cells (the index shows the spec's order)."""
    entry = next(e for e in INDEX if e["lesson"] == lesson)
    assert not order_problems(entry)


def test_design_names_only_files_that_exist():
    """Check that every file path (and file::test) DESIGN.md names in backticks exists."""
    text = (ROOT / "DESIGN.md").read_text(encoding="utf-8")
    assert "solutions/README.md" in text
    assert not missing_paths(text), f"DESIGN.md names paths that do not exist: {missing_paths(text)}"


# --- each check reports a break ------------------------------------------------------------------------------------
def _fake_project(root: Path, tests: dict[str, str], lessons: tuple[str, ...] = ("99_extra",)) -> Path:
    for lesson in lessons:
        (root / "solutions" / lesson).mkdir(parents=True)
        (root / "solutions" / lesson / f"{lesson}.py").write_text("# %%\n")
    for path, text in tests.items():
        (root / "tests" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "tests" / path).write_text(text)
    return root


def test_a_stale_or_unmarked_readme_is_reported():
    """Check that a changed row, a missing row, missing markers and repeated markers are reported."""
    table = render_markdown(INDEX)
    readme = f"# Title\n\n{li.BEGIN}\n{table}{li.END}\n"
    assert readme_block(readme) == table and not readme_problems(table, readme)
    renamed = readme.replace("`inflate_weight`", "`inflate_weights`")
    assert any("inflate_weights" in p and p.startswith("-") for p in readme_problems(table, renamed))
    dropped = readme.replace(table.splitlines()[-1] + "\n", "")
    assert readme_problems(table, dropped) == ["+" + table.splitlines()[-1]]
    assert "needs exactly one line" in readme_problems(table, readme.replace(li.END, ""))[0]
    assert "needs exactly one line" in readme_problems(table, readme + li.BEGIN + "\n")[0]


def test_check_command_exits_1_and_names_the_difference(tmp_path, monkeypatch, capsys):
    """Check that `--check` fails on a stale README, `--write` repairs it, and `--check` then passes."""
    (tmp_path / "solutions").mkdir()
    readme = tmp_path / "solutions" / "README.md"
    readme.write_text(f"intro\n{li.BEGIN}\n| stale |\n{li.END}\nafter\n")
    monkeypatch.setattr(li, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(li, "lesson_index", lambda: INDEX)
    assert li.main(["--check"]) == 1
    assert "-| stale |" in capsys.readouterr().out
    assert li.main(["--write"]) == 0
    assert readme.read_text().startswith("intro\n") and readme.read_text().endswith(f"{li.END}\nafter\n")
    assert li.main(["--check"]) == 0


def test_a_lesson_without_spec_and_a_spec_without_lesson_are_reported(tmp_path):
    """Check that an extra lesson folder and the specs whose sources are absent are both named."""
    index = lesson_index(_fake_project(tmp_path, {}))
    problems = lessons_without_spec_or_source(index)
    assert "99_extra: solutions/99_extra/ has no spec in autograder/exercises" in problems
    assert any(p.startswith("05_inflation: autograder/exercises/inflation.py has no source") for p in problems)


def test_a_reference_that_does_not_import_is_reported(monkeypatch):
    """Check that a missing function and a missing module are reported and marked in the table."""
    real = li.exercises_for("05_inflation")
    broken = [dataclasses.replace(real[0], reference="course.nn.inflation.no_such_function"),
              dataclasses.replace(real[1], reference="course.no_such_module.inflate_conv_args")] + real[2:]
    monkeypatch.setattr(li, "exercises_for", lambda lesson: broken if lesson == "05_inflation" else [])
    index = lesson_index()
    problems = references_that_do_not_import(index)
    assert len(problems) == 2
    assert "has no attribute 'no_such_function'" in problems[0]
    assert "module course.no_such_module does not import" in problems[1]
    assert "(does not import)" in render_markdown(index)


def test_tests_are_found_by_their_imports_and_a_module_without_tests_is_reported(tmp_path):
    """Check each import form, that file names are never used, and that an untested module is reported."""
    root = _fake_project(tmp_path, {
        "nn/test_inflation.py": "import numpy\n",  # the right name, no import: not a test of the module
        "a/test_one.py": "from course.nn import inflation\n",
        "b/test_two.py": "def test_x():\n    import course.nn.lrcn as lrcn\n",
        "c/test_three.py": "from course.video.flow import image_gradients\n",
        "d/test_four.py": "from course.nn.inflation_extra import x\nimport course\n",  # neither names the module
    }, lessons=())
    index = {e["lesson"]: e for e in lesson_index(root)}
    assert index["05_inflation"]["exercises"][0]["tests"] == ["tests/a/test_one.py"]
    assert index["07_cnn_rnn"]["exercises"][0]["tests"] == ["tests/b/test_two.py"]
    assert {ex["tests"][0] for ex in index["06_two_stream"]["exercises"] if ex["tests"]} == {"tests/c/test_three.py"}
    untested = modules_without_tests(list(index.values()))
    assert "course.nn.two_stream" in untested and "course.nn.inflation" not in untested
    assert "| none |" in render_markdown(list(index.values()))


def test_a_repeated_exercise_name_is_reported():
    """Check that an exercise name used in two lessons is named with both lessons."""
    index = copy.deepcopy(INDEX)
    index[1]["exercises"][0]["name"] = index[0]["exercises"][0]["name"]
    assert repeated_exercise_names(index) == [f"{index[0]['exercises'][0]['name']} in "
                                              f"{index[0]['lesson']}, {index[1]['lesson']}"]


def test_a_spec_out_of_notebook_order_is_reported(tmp_path):
    """Check that swapping two exercises in the source is reported, and markdown cells are ignored."""
    entry = copy.deepcopy(next(e for e in INDEX if e["lesson"] == "05_inflation"))
    header = '# %%{} nbgrader={{"grade": false, "grade_id": "{}", "locked": false, "schema_version": 3, "solution": true}}\n'
    names = [ex["name"] for ex in entry["exercises"]]
    (tmp_path / "in_order.py").write_text("".join(header.format("", n) for n in names)
                                          + header.format(" [markdown]", "written_answer"))
    (tmp_path / "swapped.py").write_text("".join(header.format("", n) for n in [names[1], names[0], *names[2:]]))
    entry["solution"] = "in_order.py"
    assert not order_problems(entry, tmp_path)
    entry["solution"] = "swapped.py"
    assert order_problems(entry, tmp_path) == [f"05_inflation: spec order {names} but notebook order "
                                               f"{[names[1], names[0], *names[2:]]}"]


def test_a_design_path_that_does_not_exist_is_reported(tmp_path):
    """Check that a missing file, a missing test function and a missing root file are reported; templates are not."""
    text = ("`autograder/student/spec.py` `autograder/no_such_module.py` `tests/autograder/test_lessons.py::"
            "test_release_is_fresh` `tests/autograder/test_lessons.py::test_no_such_test[x]` `Makefile` "
            "`solutions/NN_topic/NN_topic.py` `course.nn.inflation` `make test`")
    assert missing_paths(text) == ["autograder/no_such_module.py", "tests/autograder/test_lessons.py::test_no_such_test[x]"]
    assert missing_paths("`Makefile` `DESIGN.md`", tmp_path) == ["Makefile", "DESIGN.md"]
