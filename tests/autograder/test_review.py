"""The static review (autograder.grader.review): every bypass the attack used is flagged; honest solutions are not.

The operator recorder runs inside the student's interpreter, so a determined student can defeat it;
these are the nine ways that worked, each as the line a submission would contain. The review must
flag each one for the instructor, and must flag nothing in the instructor's own solutions.
"""
import json

import pytest

from autograder.builder.release import lesson_ids
from autograder.exercises import exercises_for, find_exercise
from autograder.grader.notebook import read_source, read_submission
from autograder.grader.review import review_cells
from autograder.paths import PROJECT_ROOT

CONV = find_exercise("conv3d")
ATTENTION = next(ex for ex in exercises_for("08_video_transformers") if ex.forbidden_ops
                 and "attention" in ex.forbidden_ops[-1])

BYPASSES = [
    ("pops the dispatch mode", CONV, "import torch\ntorch._C._pop_torch_dispatch_stack()\n"),
    ("runs in a thread", CONV, "import threading\nthreading.Thread(target=print).start()\n"),
    ("excludes a dispatch key", CONV, "import torch\ng = torch._C._ExcludeDispatchKeyGuard(None)\n"),
    ("replaces the recorder", CONV, "import autograder.student.verdict as v\nv.OpRecorder = object\n"),
    ("calls aten._convolution", CONV, "import torch\ny = torch.ops.aten._convolution\n"),
    ("calls slow_conv3d", CONV, "import torch\nf = torch._C._nn.slow_conv3d\n"),
    ("uses scipy's correlate", CONV, "from scipy.signal import correlate\n"),
    ("uses F.multi_head_attention_forward", ATTENTION, "import torch.nn.functional as F\n"
                                                       "f = F.multi_head_attention_forward\n"),
    ("rewrites the result channel", CONV, "from autograder.grader.transport import ChannelWriter\n"),
    ("hides a name in a string", CONV, "import torch.nn.functional as F\nf = getattr(F, 'conv' + '3d')\n"),
    ("resends results on the channel", CONV, "import os, sys\nos.write(int(sys.argv[2]), b'')\n"),
    ("reads the hidden cases", CONV, "import torch\nc = torch.load(folder + '/inputs.pt')\n"),
    ("calls a lazy conv's forward", CONV, "import torch\nm = torch.nn.LazyConv3d(4, 3)\ny = m._conv_forward\n"),
    ("turns off the modes via attrgetter", CONV, "import operator, torch\n"
     "q = operator.attrgetter('utils._python' + '_dispatch._disable_current_modes')(torch)\n"),
]


@pytest.mark.parametrize("code, name", [
    ("f = lookup('con' + 'v3d')\n", "conv3d"),
    ("f = lookup('nn.functional.conv3d')\n", "conv3d"),
    ("f = lookup(f'nn.functional.{\"con\"}v3d')\n", None),  # an f-string with a field: not folded, not flagged
])
def test_names_built_from_string_constants_are_seen(code, name):
    flags = review_cells({CONV.name: code}, [CONV])
    assert [f.reason.split(":")[0] for f in flags] == ([f"uses {name}"] if name else [])


@pytest.mark.parametrize("label, exercise, code", BYPASSES, ids=[b[0] for b in BYPASSES])
def test_each_bypass_is_flagged(label, exercise, code):
    flags = review_cells({exercise.name: code}, [exercise])
    assert flags, f"{label}: not flagged"
    assert all(f.exercise_id == exercise.name and f.line >= 1 for f in flags)


def test_a_forbidden_name_is_flagged_only_where_it_is_forbidden():
    """Check that conv3d in a cell whose exercise forbids convolution is flagged, and not elsewhere."""
    other = find_exercise("conv_params")
    code = "import torch.nn.functional as F\ny = F.conv3d\n"
    assert [f.reason.split(":")[0] for f in review_cells({CONV.name: code}, [CONV, other])] == ["uses conv3d"]
    assert review_cells({other.name: code}, [CONV, other]) == []


@pytest.mark.parametrize("lesson", lesson_ids())
def test_the_instructors_solutions_raise_no_flag_but_copying(lesson):
    """Check that honest code is not flagged; the instructor's solutions are the references, which is flagged."""
    path = PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb"
    source = read_source(path, lesson)
    cells = read_submission(path, source).cells
    exercises = exercises_for(lesson)
    assert review_cells(cells, exercises, references=False) == []
    copied = review_cells(cells, exercises)
    assert {f.exercise_id for f in copied} == {ex.name for ex in exercises}
    assert all("copied" in f.reason for f in copied)


def test_a_renamed_variable_is_not_a_copy():
    """Check that the copy flag needs the reference's code, not just its behaviour."""
    import inspect
    import textwrap

    ex = find_exercise("clip_numel")
    code = textwrap.dedent(inspect.getsource(ex.load_reference()))
    assert any("copied" in f.reason for f in review_cells({ex.name: code}, [ex]))
    changed = code.replace("num_frames", "t_frames")
    assert changed != code and not any("copied" in f.reason for f in review_cells({ex.name: changed}, [ex]))


def test_a_padded_or_renamed_copy_is_nearly_the_reference():
    """Check that a reference with a no-op line or renamed variables is listed as nearly the reference."""
    import inspect
    import textwrap

    ex = find_exercise("conv3d")
    code = textwrap.dedent(inspect.getsource(ex.load_reference()))
    body_start = code.index('"""', code.index('"""') + 3) + 3
    padded = code[:body_start] + "\n    _unused = None" + code[body_start:]
    for variant in (padded, code.replace("weight", "w_")):
        reasons = [f.reason for f in review_cells({ex.name: variant}, [ex])]
        assert any("nearly the course's reference" in r for r in reasons), reasons
    own = "def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):\n    return x\n"
    assert not any("reference" in f.reason for f in review_cells({ex.name: own}, [ex]))


def test_a_copy_inside_a_block_or_under_another_name_is_listed():
    """Check that the copy check looks at every function of a cell, nested or renamed, not only `def <name>`."""
    import inspect
    import textwrap

    ex = find_exercise("conv3d")
    code = textwrap.dedent(inspect.getsource(ex.load_reference()))
    wrapped = "if True:\n" + textwrap.indent(code, "    ")
    aliased = code.replace("def conv3d(", "def _impl(", 1) + "\nconv3d = _impl\n"
    for variant in (wrapped, aliased):
        assert any("copied" in f.reason for f in review_cells({ex.name: variant}, [ex])), variant[:60]


def test_a_huge_cell_is_listed_without_being_compared(monkeypatch):
    """Check that a cell of many thousand lines is flagged as too long and never compared token by token
    (the review runs in the grader: a 20,000-line cell cost 90 s there)."""
    from autograder.grader import review

    def compared(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("a huge cell was compared with the reference")

    monkeypatch.setattr(review, "_copies", compared)
    ex = find_exercise("conv3d")
    code = "def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):\n" + "    x = x\n" * 20000
    flags = review_cells({ex.name: code}, [ex])
    assert any("too long to review" in f.reason for f in flags)


def test_torch_resampling_is_flagged_in_the_depth_exercises():
    """interpolate in resample_depth's cell is flagged; the same line in auroc's cell is not."""
    depth, other = find_exercise("resample_depth"), find_exercise("auroc")
    code = "import torch.nn.functional as F\ny = F.interpolate\n"
    assert [f.reason.split(":")[0] for f in review_cells({depth.name: code}, [depth, other])] == ["uses interpolate"]
    assert review_cells({other.name: code}, [depth, other]) == []
