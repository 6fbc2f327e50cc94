"""Layering of autograder: what a student's notebook imports never imports the grader or the course build.

The package is split by role: :mod:`autograder.student` and the exercise specs in
:mod:`autograder.exercises` are the student side, :mod:`autograder.grader` the official grader,
:mod:`autograder.builder` the course build (and ``autograder/__main__.py`` the command line of both).
The roles are found by package, so a module added to a subpackage is covered without editing this file.

A notebook runs ``from autograder import check``. The modules that brings in are found by reading
``import`` statements with :mod:`ast` (module level and inside functions, relative imports resolved,
a package's ``__init__`` included, and every module of a package whose ``__init__`` loads them all with
``pkgutil.iter_modules(__path__)``, as ``autograder.exercises`` does). They must all lie on the student
side, and no module of the student side may import a module of the grader or of the build. A cross-check
imports ``autograder`` in a fresh interpreter and compares ``sys.modules`` with what the static reading found.
"""
import ast
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.paths import PROJECT_ROOT as ROOT

PACKAGE = "autograder"
ENTRY = ("autograder", "autograder.student.check")  # `from autograder import check` runs both
STUDENT_PACKAGES = ("autograder.student", "autograder.exercises")  # the student side, with the package's __init__
OTHER_ROLES = ("autograder.grader", "autograder.builder", "autograder.__main__")  # the grader, the build, the CLI
AT_LEAST = ("autograder.student.check", "autograder.student.spec", "autograder.student.verdict",
            "autograder.student.compare", "autograder.exercises")


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The source file of a module of the package under ``root``, or None (another package, or none)."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def package_modules(name: str, root: Path = ROOT) -> set[str]:
    """A module, or a package with every module in its folder (subpackages included); empty when absent."""
    path = module_file(name, root)
    if path is None:
        return set()
    if path.name != "__init__.py":
        return {name}
    found = {name}
    for sub in path.parent.rglob("*.py"):
        parts = sub.relative_to(root).with_suffix("").parts
        found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def student_side(root: Path = ROOT) -> set[str]:
    """The package's ``__init__`` and every module of the student packages."""
    return {PACKAGE}.union(*(package_modules(p, root) for p in STUDENT_PACKAGES))


def forbidden(root: Path = ROOT) -> set[str]:
    """Every module of the grader and of the build, and the command line."""
    return set().union(*(package_modules(p, root) for p in OTHER_ROLES))


def direct_imports(name: str, root: Path = ROOT) -> dict[str, int]:
    """The package's modules that module ``name`` imports, each with the line of its first import.

    A submodule counts with its parent packages (importing ``a.b.c`` runs ``a`` and ``a.b``);
    ``from a.b import c`` counts ``a.b.c`` when that is a module, else ``a.b``.
    """
    path = module_file(name, root)
    is_package = path.name == "__init__.py"
    found: dict[str, int] = {}

    def add(module: str, line: int) -> None:
        parts = module.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if module_file(prefix, root) is not None:
                found.setdefault(prefix, line)

    source = path.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package this module is in (or is)
                anchor = name.split(".")[:len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module
            add(base, node.lineno)
            for alias in node.names:
                if module_file(f"{base}.{alias.name}", root) is not None:
                    add(f"{base}.{alias.name}", node.lineno)
    if is_package and "iter_modules(__path__)" in source:  # the package imports all its modules itself
        for sub in sorted(path.parent.glob("*.py")):
            if sub.name != "__init__.py":
                found.setdefault(f"{name}.{sub.stem}", 0)
    found.pop(name, None)
    return found


def student_facing(root: Path = ROOT) -> set[str]:
    """The modules a notebook's ``from autograder import check`` imports, not following forbidden ones."""
    stop = forbidden(root)
    seen, todo = set(), list(ENTRY)
    while todo:
        name = todo.pop()
        if name in seen or name in stop:
            continue
        seen.add(name)
        todo += direct_imports(name, root)
    return seen


def violations(root: Path = ROOT) -> dict[tuple[str, str], int]:
    """(student-side or notebook-loaded module, grader or build module it imports) -> line of the import."""
    stop = forbidden(root)
    return {(name, imported): line for name in sorted(student_side(root) | student_facing(root))
            for imported, line in direct_imports(name, root).items() if imported in stop}


STUDENT = sorted(student_side())
FORBIDDEN = sorted(forbidden())
REACHED = student_facing()
FOUND = violations()


# --- the real package -------------------------------------------------------------------------------------------
def test_the_roles_are_found_by_package():
    """Check that each role's package holds the modules the split put there (so the checks below are not empty)."""
    assert {"autograder.student.check", "autograder.student.spec", "autograder.student.verdict",
            "autograder.student.compare"} <= set(STUDENT)
    assert {"autograder.grader.grade", "autograder.grader._child", "autograder.grader.box",
            "autograder.grader.transport"} <= set(FORBIDDEN)
    assert {"autograder.builder.release", "autograder.builder.make_course", "autograder.builder.lesson_index",
            "autograder.__main__"} <= set(FORBIDDEN)
    assert not set(STUDENT) & set(FORBIDDEN)


def test_student_facing_modules_include_the_notebook_api():
    """Check that the static reading finds at least the modules a notebook's check needs, and every spec."""
    assert set(AT_LEAST) <= REACHED
    specs = {f"autograder.exercises.{p.stem}" for p in (ROOT / "autograder" / "exercises").glob("*.py")
             if p.stem != "__init__"}
    assert len(specs) >= 14 and specs <= REACHED
    assert not REACHED & set(FORBIDDEN)


def test_a_notebook_loads_only_the_student_side():
    """Check that ``from autograder import check`` reaches no module outside the student packages."""
    assert REACHED <= set(STUDENT), f"outside the student packages: {sorted(REACHED - set(STUDENT))}"


@pytest.mark.parametrize(("student", "other"), [pytest.param(s, f, id=f"{s}->{f}")
                                                for s, f in itertools.product(STUDENT, FORBIDDEN)])
def test_student_facing_module_does_not_import_grader_or_build(student, other):
    """Check that a student-side module imports no module of the grader or of the course build."""
    assert (student, other) not in FOUND, (f"{module_file(student).relative_to(ROOT)} line "
                                           f"{FOUND[student, other]} imports {other}")


def test_static_reading_matches_what_python_imports():
    """Check, in a fresh interpreter, that importing autograder and its specs loads no module the reading missed."""
    code = ("import sys, autograder, autograder.exercises as e; e.assignments(); "
            "print('\\n'.join(m for m in sys.modules if m == 'autograder' or m.startswith('autograder.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True).stdout.split()
    reached = REACHED | {f for _, f in FOUND}
    assert set(out) <= reached, f"imported but not found by reading the sources: {sorted(set(out) - reached)}"
    assert set(AT_LEAST) <= set(out)
    assert not set(out) & set(FORBIDDEN)


# --- the check reports a break ----------------------------------------------------------------------------------
def _write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_every_import_form_is_followed_and_a_violation_reported(tmp_path):
    """Check relative, function-level, aliased and from-package imports, transitively, and the lines reported."""
    root = _write(tmp_path, {
        "autograder/__init__.py": "from autograder.student.check import check\n",
        "autograder/student/__init__.py": "",
        "autograder/student/check.py": "from .helper import x\nfrom autograder import exercises\n",
        "autograder/student/helper.py": "x = 1\n\ndef later():\n    import autograder.builder.release as r\n",
        "autograder/student/unused.py": "from ..grader import box\n",  # imported by nobody: still on the student side
        "autograder/exercises/__init__.py": "import pkgutil\nfor i in pkgutil.iter_modules(__path__):\n    pass\n",
        "autograder/exercises/lesson.py": "from ..student.spec import Case\nfrom autograder.grader import grade\n",
        "autograder/student/spec.py": "import numpy\n",
        "autograder/grader/__init__.py": "",
        "autograder/grader/grade.py": "from autograder.student import spec\n",
        "autograder/grader/box.py": "",
        "autograder/builder/__init__.py": "",
        "autograder/builder/release.py": "",
    })
    assert student_facing(root) == {"autograder", "autograder.student", "autograder.student.check",
                                    "autograder.student.helper", "autograder.exercises",
                                    "autograder.exercises.lesson", "autograder.student.spec"}
    assert violations(root) == {
        ("autograder.student.helper", "autograder.builder"): 4,
        ("autograder.student.helper", "autograder.builder.release"): 4,
        ("autograder.student.unused", "autograder.grader"): 1,
        ("autograder.student.unused", "autograder.grader.box"): 1,
        ("autograder.exercises.lesson", "autograder.grader"): 2,
        ("autograder.exercises.lesson", "autograder.grader.grade"): 2,
    }


def test_a_module_outside_the_student_packages_is_reported(tmp_path):
    """Check that a notebook's import reaching a top-level module (neither student side nor forbidden) shows."""
    root = _write(tmp_path, {"autograder/__init__.py": "from autograder.student.check import check\n",
                             "autograder/student/__init__.py": "",
                             "autograder/student/check.py": "from autograder.paths import ROOT\n",
                             "autograder/paths.py": ""})
    assert student_facing(root) - student_side(root) == {"autograder.paths"}


def test_a_clean_fake_package_has_no_violation(tmp_path):
    """Check that the checker reports nothing when only the grader imports the student-facing modules."""
    root = _write(tmp_path, {"autograder/__init__.py": "", "autograder/student/__init__.py": "",
                             "autograder/student/check.py": "from autograder.student import spec\n",
                             "autograder/student/spec.py": "", "autograder/grader/__init__.py": "",
                             "autograder/grader/grade.py": "from autograder.student.check import check\n"})
    assert student_facing(root) == {"autograder", "autograder.student", "autograder.student.check",
                                    "autograder.student.spec"}
    assert student_side(root) == student_facing(root)
    assert forbidden(root) == {"autograder.grader", "autograder.grader.grade"}
    assert violations(root) == {}


# --- the picture in the README ----------------------------------------------------------------------------------
PICTURE_LINE = r"^(?P<part>autograder/\w+|course)\s+→\s+(?P<targets>.+)$"


def part_of(module: str) -> str:
    """The part of the project a module belongs to, as the README's picture names it."""
    parts = module.split(".")
    return "course" if parts[0] == "course" else "autograder/" + parts[1] if len(parts) > 1 else "autograder"


def part_imports(root: Path = ROOT) -> dict[str, set[str]]:
    """Each part → the other parts its modules import (``autograder``'s own ``__init__`` left out)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((root / "autograder").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        targets = set(direct_imports(name, root))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.split(".")[0] == "course"}
            elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "course":
                targets.add(node.module)
        if name == PACKAGE:
            continue
        graph.setdefault(part_of(name), set()).update(
            part_of(t) for t in targets if part_of(t) not in (part_of(name), "autograder"))
    course = root / "course"
    graph["course"] = set()
    for path in sorted(course.rglob("*.py")) if course.is_dir() else []:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            graph["course"] |= {"autograder/" + n.split(".")[1] if "." in n else "autograder"
                                for n in names if n.split(".")[0] == "autograder"}
    return graph


def readme_picture(text: str) -> dict[str, set[str]]:
    """The picture's lines ``part → a, b`` as part → {"autograder/a", ...} ("(nothing)" is the empty set)."""
    import re

    picture = {}
    for m in re.finditer(PICTURE_LINE, text, re.MULTILINE):
        targets = m["targets"].strip()
        picture[m["part"]] = set() if targets == "(nothing)" else {
            t if t == "course" else f"autograder/{t}" for t in (x.strip() for x in targets.split(","))}
    return picture


def test_the_readme_picture_of_imports_is_the_code():
    """Check that the README's import picture lists exactly the imports between parts that the code has."""
    assert readme_picture((ROOT / "README.md").read_text(encoding="utf-8")) == part_imports()


def test_a_picture_that_misses_an_import_is_told_apart(tmp_path):
    """Check the picture's reading and the code's graph on a fake project with one import too many."""
    root = _write(tmp_path, {"autograder/__init__.py": "from autograder.student.check import check\n",
                             "autograder/student/__init__.py": "",
                             "autograder/student/check.py": "import course.report\n",
                             "autograder/grader/__init__.py": "",
                             "autograder/grader/grade.py": "from autograder.student import check\n",
                             "course/__init__.py": "", "course/report.py": ""})
    picture = readme_picture("autograder/student    → (nothing)\nautograder/grader     → student\n"
                             "course                → (nothing)\n")
    code = part_imports(root)
    assert code == {"autograder/student": {"course"}, "autograder/grader": {"autograder/student"}, "course": set()}
    assert picture != code and picture["autograder/grader"] == code["autograder/grader"]
