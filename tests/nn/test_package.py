"""The models of course.nn are reachable from the package, each the object its submodule defines."""
import importlib
import subprocess
import sys

import pytest

import course.nn

NAMES = sorted(course.nn._EXPORTS)


@pytest.mark.parametrize("name", NAMES)
def test_export_is_the_submodule_object(name):
    """Check that course.nn.<name> is the object of course.nn.<submodule>.<name>."""
    module = importlib.import_module(f"course.nn.{course.nn._EXPORTS[name]}")
    assert getattr(course.nn, name) is getattr(module, name)


def test_unknown_name_is_an_attribute_error_naming_the_models():
    """Check that a typo gets an AttributeError that lists what exists."""
    with pytest.raises(AttributeError, match="TimeSformer"):
        course.nn.Timesformer  # noqa: B018


def test_import_is_lazy():
    """Check that importing course.nn imports none of its model submodules."""
    code = "import sys, course.nn; print(sorted(m for m in sys.modules if m.startswith('course.nn.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
