"""A static look at a submission, for the instructor: what the sandbox cannot prove.

The operator recorder (:class:`autograder.verdict.OpRecorder`) runs in the child's interpreter, which
belongs to the student: it catches an honest student who calls ``F.conv3d`` in an exercise that asks
for a convolution from scratch, but a determined one can pop it, dodge it or replace it. So its
verdict is advice, and the grade comes from the values the grader compares. What remains is read
here from the source, without running it (Python's ``ast``), and listed for manual review:

* in an exercise with ``forbidden_ops``, any name that reaches torch's (or SciPy's) own
  implementation of what the exercise teaches (``conv3d``, ``_convolution``, ``slow_conv3d``,
  ``correlate``, ``scaled_dot_product_attention``, ``multi_head_attention_forward``, ...);
* in any solution cell, the tools of a bypass: dynamic lookup and execution (``getattr``,
  ``__import__``, ``eval``, ``exec``), torch's dispatcher internals (``torch._C``, ``torch.ops``,
  dispatch modes and keys), threads and processes, ``ctypes``, and imports of the grader itself.

A flag is a reason to read the cell, not a penalty: it never changes a score.
"""
from __future__ import annotations

import ast
import dataclasses

from autograder.spec import Exercise

__all__ = ["Flag", "review_cells", "FORBIDDEN_NAMES", "BYPASS_NAMES"]

# the names through which torch's own implementation of a forbidden operator is reached
FORBIDDEN_NAMES = {
    "aten.convolution": {"conv1d", "conv2d", "conv3d", "convolution", "_convolution", "conv_nd", "slow_conv3d",
                         "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "Conv1d", "Conv2d", "Conv3d",
                         "mkldnn_convolution", "conv_tbc", "correlate", "convolve", "fftconvolve", "oaconvolve",
                         "correlate1d", "convolve1d", "unfold3d"},
    "attention": {"scaled_dot_product_attention", "multi_head_attention_forward", "MultiheadAttention",
                  "_native_multi_head_attention", "TransformerEncoderLayer", "_scaled_dot_product_attention_math",
                  "_scaled_dot_product_flash_attention", "_safe_softmax"},
}
# the tools of a bypass (of the recorder, the import blocker or the result channel)
BYPASS_NAMES = {
    "getattr": "dynamic attribute lookup", "__getattribute__": "dynamic attribute lookup",
    "__import__": "dynamic import", "import_module": "dynamic import", "eval": "runs a string as code",
    "exec": "runs a string as code", "compile": "compiles a string as code", "globals": "reaches module globals",
    "vars": "reaches an object's namespace", "__dict__": "reaches an object's namespace",
    "__builtins__": "reaches the builtins", "modules": "sys.modules", "_C": "torch's C internals",
    "ops": "torch.ops (operators by name)", "_pop_torch_dispatch_stack": "removes dispatch modes",
    "_push_on_torch_dispatch_stack": "adds dispatch modes", "_ExcludeDispatchKeyGuard": "dispatch keys",
    "_DisableTorchDispatch": "turns off dispatch modes", "TorchDispatchMode": "dispatch modes",
    "_python_dispatch": "dispatch modes", "Thread": "runs code in a thread", "threading": "threads",
    "multiprocessing": "processes", "subprocess": "processes", "fork": "processes", "system": "shell commands",
    "ctypes": "native calls", "cffi": "native calls", "OpRecorder": "the grader's operator recorder",
    "autograder": "imports the grader", "ChannelWriter": "the grader's result channel",
}


@dataclasses.dataclass(frozen=True)
class Flag:
    """One reason to read a cell by hand."""

    exercise_id: str  # the exercise the cell defines, or the cell's grade_id
    line: int         # 1-based, in the cell
    reason: str

    def as_row(self) -> dict:
        return {"exercise_id": self.exercise_id, "line": self.line, "reason": self.reason}


def _names(tree: ast.AST) -> list[tuple[str, int]]:
    """Every identifier, attribute name, imported name and string constant naming one, with its line."""
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name):
            found.append((node.id, line))
        elif isinstance(node, ast.Attribute):
            found.append((node.attr, line))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module = getattr(node, "module", None) or ""
            found += [(part, line) for part in module.split(".") if part]
            for alias in node.names:
                found += [(part, line) for part in alias.name.split(".") if part]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            found.append((node.value, line))
    return found


def _forbidden_names(exercise: Exercise) -> set[str]:
    names: set[str] = set()
    for op in exercise.forbidden_ops:
        names |= FORBIDDEN_NAMES["aten.convolution" if "convolution" in op else "attention"]
    return names


def review_cells(cells: dict[str, str], exercises: list[Exercise]) -> list[Flag]:
    """Flags for the solution cells of one submission (grade_id -> code), in cell then line order.

    A cell that does not parse is flagged once (the grader reports its error anyway).
    """
    by_cell = {ex.name: ex for ex in exercises}
    flags: list[Flag] = []
    for gid, code in cells.items():
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            flags.append(Flag(gid, exc.lineno or 0, "does not parse as Python (magics or a syntax error)"))
            continue
        forbidden = _forbidden_names(by_cell[gid]) if gid in by_cell else set()
        seen: set[tuple[str, str]] = set()
        for name, line in _names(tree):
            if name in forbidden and (name, "f") not in seen:
                seen.add((name, "f"))
                ops = ", ".join(by_cell[gid].forbidden_ops[:2])
                flags.append(Flag(gid, line, f"uses {name}: torch's own implementation, which this exercise "
                                             f"forbids ({ops})"))
            elif name in BYPASS_NAMES and (name, "b") not in seen:
                seen.add((name, "b"))
                flags.append(Flag(gid, line, f"{name}: {BYPASS_NAMES[name]} (can bypass the sandbox's checks)"))
    return flags
