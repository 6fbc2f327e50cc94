"""Layering of autograder: what a student's notebook imports never imports the grader or the course build.

A notebook runs ``from autograder import check``. The modules that brings in, found by reading
``import`` statements with :mod:`ast` (module level and inside functions, relative imports resolved,
a package's ``__init__`` included, and every module of a package whose ``__init__`` loads them all with
``pkgutil.iter_modules(__path__)``, as ``autograder.exercises`` does), are the student-facing ones.
None of them may import a module of the grader or of the build. A cross-check imports ``autograder``
in a fresh interpreter and compares ``sys.modules`` with what the static reading found.
"""
import ast
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "autograder"
ENTRY = ("autograder", "autograder.check")  # `from autograder import check` runs both
GRADER = ("grade", "_child", "sandbox", "box", "transport", "notebook", "gradebook", "feedback", "autograded",
          "review")
BUILD = ("release", "execute", "course", "demo")
FORBIDDEN = tuple(f"{PACKAGE}.{name}" for name in GRADER + BUILD)
AT_LEAST = ("autograder.check", "autograder.spec", "autograder.verdict", "autograder.compare", "autograder.exercises")
# Imports the code has today that break the rule, each to be removed by the autograder split (issue 15).
KNOWN: dict[tuple[str, str], str] = {}


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The source file of a module of the package under ``root``, or None (another package, or none)."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


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
    seen, todo = set(), list(ENTRY)
    while todo:
        name = todo.pop()
        if name in seen or name in FORBIDDEN:
            continue
        seen.add(name)
        todo += direct_imports(name, root)
    return seen


def violations(root: Path = ROOT) -> dict[tuple[str, str], int]:
    """(student-facing module, grader or build module it imports) -> line of the import."""
    return {(name, imported): line for name in sorted(student_facing(root))
            for imported, line in direct_imports(name, root).items() if imported in FORBIDDEN}


STUDENT = sorted(student_facing())
FOUND = violations()


def _pair(student: str, forbidden: str):  # noqa: ANN202 - a pytest param
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[student, forbidden])] if (student, forbidden) in KNOWN else []
    return pytest.param(student, forbidden, marks=marks, id=f"{student}->{forbidden}")


# --- the real package -------------------------------------------------------------------------------------------
def test_student_facing_modules_include_the_notebook_api():
    """Check that the static reading finds at least the modules a notebook's check needs, and every spec."""
    assert set(AT_LEAST) <= set(STUDENT)
    specs = {f"autograder.exercises.{p.stem}" for p in (ROOT / "autograder" / "exercises").glob("*.py")
             if p.stem != "__init__"}
    assert len(specs) >= 14 and specs <= set(STUDENT)
    assert not set(STUDENT) & set(FORBIDDEN)


@pytest.mark.parametrize(("student", "forbidden"), [_pair(s, f) for s, f in itertools.product(STUDENT, FORBIDDEN)])
def test_student_facing_module_does_not_import_grader_or_build(student, forbidden):
    """Check that a student-facing module imports no module of the grader or of the course build."""
    assert (student, forbidden) not in FOUND, (f"{module_file(student).relative_to(ROOT)} line "
                                               f"{FOUND[student, forbidden]} imports {forbidden}")


def test_every_known_violation_is_still_found():
    """Check that each xfail above names an import the code has (so its reason stays exact)."""
    assert set(KNOWN) <= set(FOUND)


def test_static_reading_matches_what_python_imports():
    """Check, in a fresh interpreter, that importing autograder and its specs loads no module the reading missed."""
    code = ("import sys, autograder, autograder.exercises as e; e.assignments(); "
            "print('\\n'.join(m for m in sys.modules if m == 'autograder' or m.startswith('autograder.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True).stdout.split()
    reached = set(STUDENT) | {f for _, f in FOUND}
    assert set(out) <= reached, f"imported but not found by reading the sources: {sorted(set(out) - reached)}"
    assert set(AT_LEAST) <= set(out)


# --- the check reports a break ----------------------------------------------------------------------------------
def _write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_every_import_form_is_followed_and_a_violation_reported(tmp_path):
    """Check relative, function-level, aliased and from-package imports, transitively, and the lines reported."""
    root = _write(tmp_path, {
        "autograder/__init__.py": "from autograder.check import check\n",
        "autograder/check.py": "from .helper import x\nfrom autograder import exercises\n",
        "autograder/helper.py": "x = 1\n\ndef later():\n    import autograder.release as r\n",
        "autograder/exercises/__init__.py": "import pkgutil\nfor i in pkgutil.iter_modules(__path__):\n    pass\n",
        "autograder/exercises/lesson.py": "from ..spec import Case\nfrom autograder import grade, spec\n",
        "autograder/spec.py": "import numpy\n",
        "autograder/grade.py": "from autograder import spec\n",
        "autograder/release.py": "",
        "autograder/box.py": "",  # imported by nobody: never reported
    })
    assert student_facing(root) == {"autograder", "autograder.check", "autograder.helper", "autograder.exercises",
                                    "autograder.exercises.lesson", "autograder.spec"}
    assert violations(root) == {("autograder.helper", "autograder.release"): 4,
                                ("autograder.exercises.lesson", "autograder.grade"): 2}


def test_a_clean_fake_package_has_no_violation(tmp_path):
    """Check that the checker reports nothing when only the grader imports the student-facing modules."""
    root = _write(tmp_path, {"autograder/__init__.py": "", "autograder/check.py": "from autograder import spec\n",
                             "autograder/spec.py": "", "autograder/grade.py": "from autograder.check import check\n"})
    assert student_facing(root) == {"autograder", "autograder.check", "autograder.spec"}
    assert violations(root) == {}
