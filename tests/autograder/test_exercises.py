"""Every exercise spec: the reference passes, every known-wrong solution is rejected and named."""
import pytest

from autograder import CheckFailed, check
from autograder.exercises import assignments, exercises_for, find_exercise
from autograder.student.check import evaluate

EXERCISES = [ex for a in assignments() for ex in exercises_for(a)]
WRONG = [(ex, m) for ex in EXERCISES for m in ex.misconceptions]


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.name)
def test_reference_passes_public_and_hidden_cases(ex):
    """Check the spec against its reference: every case declared to raise raises that error, no other
    case raises, the reference keeps to the exercise's forbidden operators, and it gives the same result
    twice (a result that depends on global state fails). The reference's values themselves are tested
    against outside libraries in tests/ (the lesson index lists which file)."""
    ref = ex.load_reference()
    for seed in (None, 1, 2):
        verdict = evaluate(ex, ref, ex.cases(seed))
        assert verdict.ok, verdict.text()


def test_the_reference_test_can_fail(monkeypatch):
    """Check that the test above fails on a misdeclared case, an undeclared error and a reference whose
    answer changes from call to call."""
    from autograder.student.spec import Case

    ex = find_exercise("clip_numel")
    good = ex.cases()[0]
    assert good.raises is None
    with pytest.raises(RuntimeError, match="did not raise"):
        evaluate(ex, ex.load_reference(), [Case(good.args, good.kwargs, raises=ValueError)])
    calls = iter(range(1000))

    def flaky(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return next(calls)

    monkeypatch.setattr(type(ex), "load_reference", lambda self: flaky)
    assert not evaluate(ex, flaky, [good]).ok

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise IndexError("a reference that fails on a legal case")

    monkeypatch.setattr(type(ex), "load_reference", lambda self: broken)
    with pytest.raises(RuntimeError, match="reference raised IndexError"):
        evaluate(ex, broken, [good])


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.name)
def test_cases_are_deterministic_and_hidden_ones_differ(ex):
    def keys(cases):
        return [repr(c.args) + repr(c.kwargs) for c in cases]

    assert keys(ex.cases()) == keys(ex.cases())
    assert keys(ex.cases(5)) == keys(ex.cases(5))
    assert keys(ex.cases(5)) != keys(ex.cases(6)), "two students draw the same hidden cases"
    assert keys(ex.cases(5)) != keys(ex.cases()), "a student's hidden cases are the public ones"


@pytest.mark.parametrize("ex, wrong", WRONG, ids=lambda x: getattr(x, "name", ""))
def test_known_wrong_solution_is_rejected_with_its_message(ex, wrong):
    verdict = evaluate(ex, wrong.wrong, ex.cases())
    assert not verdict.ok
    assert verdict.hint == wrong.message, verdict.text()


@pytest.mark.parametrize("lesson, ex", [(a, ex) for a in assignments() for ex in exercises_for(a) if ex.misconceptions],
                         ids=lambda x: getattr(x, "name", ""))
def test_the_demo_students_mistake_runs_standalone_and_is_named(lesson, ex):
    """Check that the source the demo class submits for a mistake (builder/demo.py) is that mistake, standalone.

    It runs after the lesson's setup cells in a fresh namespace, as the grading box runs a cell: it
    must not import ``course`` (absent from the box), must define the exercise's name, and must get
    the mistake's own message.
    """
    import json
    import re

    from autograder.builder.demo import _wrong_source
    from autograder.paths import PROJECT_ROOT

    wrong = ex.misconceptions[0]
    source = _wrong_source(wrong.wrong, ex.name)
    assert not re.search(r"^\s*(import|from)\s+course\b", source, re.MULTILINE), source
    namespace: dict = {"__name__": "__main__"}
    nb = json.loads((PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("setup"):
            exec(compile("".join(cell["source"]), "<setup cell>", "exec"), namespace)  # noqa: S102
    exec(compile(source, "<demo cell>", "exec"), namespace)  # noqa: S102
    verdict = evaluate(ex, namespace[ex.name], ex.cases())
    assert not verdict.ok and verdict.hint == wrong.message, verdict.text()


def test_a_partial_is_submitted_with_its_arguments_written_out():
    """Check _wrong_source on a partial: the flag reaches the function, and a non-literal argument is refused."""
    import functools

    from autograder.builder.demo import _wrong_source

    source = _wrong_source(functools.partial(_scaled, scale=3), "student_fn")
    namespace: dict = {}
    exec(compile(source, "<demo cell>", "exec"), namespace)  # noqa: S102
    assert namespace["student_fn"](2) == 6 and namespace["student_fn"](2, scale=5) == 10
    with pytest.raises(ValueError, match="non-literal"):
        _wrong_source(functools.partial(_scaled, scale=[3]), "student_fn")


def _scaled(x, *, scale=1):  # noqa: ANN001, ANN202 - a known-wrong solution with a flag, for the test above
    return x * scale


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.name)
def test_stub_and_wrong_types_are_rejected(ex):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    verdict = evaluate(ex, stub, ex.cases())
    assert not verdict.ok and verdict.status == "not_implemented" and "not implemented" in verdict.reason

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    assert not evaluate(ex, lambda *a, **k: AlwaysEqual(), ex.cases()).ok


def test_check_prints_and_raises_outside_a_notebook_frontend(capsys, monkeypatch):
    """Check that outside a kernel a PASS is printed and a FAIL raises, its message shown once (in the error)."""
    monkeypatch.delenv("BEYOND2D_CHECK", raising=False)
    ex = find_exercise("clip_numel")
    ref = ex.load_reference()
    check(ref)
    assert "PASS clip_numel" in capsys.readouterr().out

    def clip_numel(num_frames, height, width, channels=3, batch=1):
        return num_frames * height * width * batch

    with pytest.raises(CheckFailed, match="colour channels") as failure:
        check(clip_numel)
    assert "FAIL clip_numel" in str(failure.value) and "Likely cause" in str(failure.value)
    assert "FAIL" not in capsys.readouterr().out  # not printed a second time
    monkeypatch.setenv("BEYOND2D_CHECK", "show")
    check(clip_numel)  # shown, not raised
    out = capsys.readouterr().out
    assert out.count("FAIL clip_numel") == 1 and "Likely cause" in out


def test_check_names_unknown_functions():
    def not_an_exercise():
        pass

    with pytest.raises(KeyError, match="no exercise named"):
        check(not_an_exercise)


def test_forbidden_operators_are_caught_whatever_the_python_name():
    """An exercise that asks for a convolution from scratch rejects torch's, through any entry point."""
    import torch
    import torch.nn.functional as F

    from autograder.student.spec import Case, Exercise

    ex = Exercise(name="conv", assignment="demo", reference="torch.nn.functional.conv3d",
                  make_cases=lambda rng: [Case((torch.randn(1, 2, 4, 5, 5), torch.randn(3, 2, 3, 3, 3)))],
                  forbidden_ops=("aten.convolution",))
    via_module = lambda x, w: torch.nn.Conv3d(2, 3, 3, bias=False).requires_grad_(False)._conv_forward(x, w, None)  # noqa: E731
    for fn in (F.conv3d, torch.conv3d, via_module):
        verdict = evaluate(ex, fn, ex.cases())
        assert not verdict.ok and "aten.convolution" in verdict.reason

    def by_hand(x, w):  # unfold + einsum: allowed
        patches = x.unfold(2, 3, 1).unfold(3, 3, 1).unfold(4, 3, 1)  # (N, C, T', H', W', 3, 3, 3)
        return torch.einsum("ncdhwijk,ocijk->nodhw", patches, w)

    assert evaluate(ex, by_hand, ex.cases()).ok


def test_forbidden_operator_with_right_numbers_gets_no_misconception_hint():
    """A forbidden call whose values match a known mistake's values is reported as forbidden, not as that mistake."""
    import torch
    import torch.nn.functional as F

    from autograder.student.spec import Case, Exercise, Misconception

    lookalike = Misconception("lookalike", "this message must not appear", lambda x, w: F.conv3d(x, w))
    ex = Exercise(name="conv", assignment="demo", reference="torch.nn.functional.conv3d",
                  make_cases=lambda rng: [Case((torch.randn(1, 2, 4, 5, 5), torch.randn(3, 2, 3, 3, 3)))],
                  misconceptions=(lookalike,), forbidden_ops=("aten.convolution",))
    verdict = evaluate(ex, F.conv3d, ex.cases())
    assert not verdict.ok and "aten.convolution" in verdict.reason
    assert "must not appear" not in (verdict.hint or "")
