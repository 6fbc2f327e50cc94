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


def _signature_problems(obj) -> list[str]:
    """Where a network or builder breaks the convention: ``Net(num_classes, *, settings)``, ``build(*, num_classes)``.

    A network is a public ``nn.Module`` class with a ``num_classes`` parameter (or a transformer whose
    head is optional); every setting with a default must be keyword-only, ``num_classes`` aside. A
    builder is a public function with a ``num_classes`` parameter; it must take it by keyword.
    """
    import inspect

    import torch.nn as nn

    params = inspect.signature(obj).parameters
    if "num_classes" not in params:
        return []
    if inspect.isclass(obj) and issubclass(obj, nn.Module):
        return [f"{obj.__name__}({p.name}=...) can be passed by position"
                for p in params.values() if p.default is not p.empty and p.name != "num_classes"
                and p.kind is p.POSITIONAL_OR_KEYWORD]
    if inspect.isfunction(obj) and params["num_classes"].kind is not inspect.Parameter.KEYWORD_ONLY:
        return [f"{obj.__name__}(num_classes) can be passed by position"]
    return []


def test_networks_and_builders_take_their_settings_by_keyword():
    """Check that every network and builder of course.nn follows one call convention (torchvision's builders)."""
    problems = []
    for name in NAMES:
        problems += _signature_problems(getattr(course.nn, name))
    assert not problems, problems


def test_the_convention_check_finds_a_positional_setting():
    """Check that the convention check reports what it must (a network and a builder that break it)."""
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self, num_classes: int, width: int = 8, *, depth: int = 2) -> None:
            super().__init__()

    def build(num_classes: int = 10, **kw) -> nn.Module:
        return Net(num_classes)

    def build_ok(*, num_classes: int = 10) -> nn.Module:
        return Net(num_classes)

    assert _signature_problems(Net) == ["Net(width=...) can be passed by position"]
    assert _signature_problems(build) == ["build(num_classes) can be passed by position"]
    assert _signature_problems(build_ok) == []
