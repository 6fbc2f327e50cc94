"""A static look at a submission, for the instructor: what the sandbox cannot prove.

The operator recorder (:class:`autograder.student.verdict.OpRecorder`) runs in the child's interpreter, which
belongs to the student: it catches an honest student who calls ``F.conv3d`` in an exercise that asks
for a convolution from scratch, but a determined one can pop it, dodge it or replace it. So its
verdict is advice, and the grade comes from the values the grader compares. What remains is read
here from the source, without running it (Python's ``ast``), and listed for manual review:

* in an exercise with ``forbidden_ops``, any name that reaches torch's (or SciPy's) own
  implementation of what the exercise teaches (``conv3d``, ``_convolution``, ``slow_conv3d``,
  ``correlate``, ``scaled_dot_product_attention``, ``multi_head_attention_forward``, ``interpolate``,
  ``zoom``, ...);
* in any solution cell, the tools of a bypass: dynamic lookup and execution (``getattr``,
  ``__import__``, ``eval``, ``exec``), torch's dispatcher internals (``torch._C``, ``torch.ops``,
  dispatch modes and keys), threads and processes, ``ctypes``, and imports of the grader itself.

* a graded function whose code is the ``course`` reference's, docstring aside (students have the
  library: the lessons import it; the box hides it while grading, but a cell can carry a copy).

A flag is a reason to read the cell, not a penalty: it never changes a score.
"""
from __future__ import annotations

import ast
import dataclasses

from autograder.student.spec import Exercise

__all__ = ["Flag", "review_cells", "FORBIDDEN_NAMES", "BYPASS_NAMES"]

# the names through which torch's own implementation of a forbidden operator is reached
FORBIDDEN_NAMES = {
    "aten.convolution": {"conv1d", "conv2d", "conv3d", "convolution", "_convolution", "conv_nd", "slow_conv3d",
                         "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "Conv1d", "Conv2d", "Conv3d",
                         "mkldnn_convolution", "conv_tbc", "correlate", "convolve", "fftconvolve", "oaconvolve",
                         "correlate1d", "convolve1d", "unfold3d", "_conv_forward", "LazyConv1d", "LazyConv2d",
                         "LazyConv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"},
    "attention": {"scaled_dot_product_attention", "multi_head_attention_forward", "MultiheadAttention",
                  "_native_multi_head_attention", "TransformerEncoderLayer", "_scaled_dot_product_attention_math",
                  "_scaled_dot_product_flash_attention", "_safe_softmax"},
    "resampling": {"interpolate", "upsample", "Upsample", "upsample_trilinear3d", "grid_sample", "affine_grid", "zoom",
                   "map_coordinates", "resize", "adaptive_avg_pool3d", "AdaptiveAvgPool3d"},
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
    "attrgetter": "dynamic attribute lookup", "methodcaller": "dynamic method call",
    "_disable_current_modes": "turns off dispatch modes", "memfd_create": "memory outside the limits",
    "argv": "the grading process's arguments (its job folder and channel)",
    "concurrent": "runs code in other threads or processes", "ThreadPoolExecutor": "runs code in a thread",
    "ProcessPoolExecutor": "processes", "getmembers": "dynamic attribute lookup", "posix_spawn": "processes",
    "posix_spawnp": "processes", "spawnv": "processes", "fstat": "inspects file descriptors",
}
# raw file-descriptor calls on ``os`` (the grader's channel is a file descriptor) and paths of the job
OS_CALLS = {"write", "read", "fdopen", "dup", "dup2", "pipe", "open", "sendfile", "splice"}
JOB_STRINGS = ("inputs.pt", "job.json", "/proc/")


@dataclasses.dataclass(frozen=True)
class Flag:
    """One reason to read a cell by hand."""

    exercise_id: str  # the exercise the cell defines, or the cell's grade_id
    line: int         # 1-based, in the cell
    reason: str

    def as_row(self) -> dict:
        return {"exercise_id": self.exercise_id, "line": self.line, "reason": self.reason}


def _constant_text(node: ast.AST) -> str | None:
    """The text of a string built only from constants (``"con" + "v3d"``, an f-string without fields)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _constant_text(node.left), _constant_text(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = [_constant_text(v) for v in node.values]
        return None if None in parts else "".join(parts)
    return None


def _names(tree: ast.AST) -> list[tuple[str, int]]:
    """Every identifier, attribute name, imported name, and name inside a string built from constants
    (split on dots, so ``"nn.functional.conv3d"`` and ``"con" + "v3d"`` count), with its line."""
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
        text = _constant_text(node) if isinstance(node, (ast.Constant, ast.BinOp, ast.JoinedStr)) else None
        if text is not None and len(text) <= 200:
            found += [(part, line) for part in text.split(".") if part.isidentifier()]
    return found


def _forbidden_names(exercise: Exercise) -> set[str]:
    names: set[str] = set()
    for op in exercise.forbidden_ops:
        kind = ("aten.convolution" if "convolution" in op else
                "resampling" if any(k in op for k in ("upsample", "grid_sampler", "adaptive_avg_pool")) else "attention")
        names |= FORBIDDEN_NAMES[kind]
    return names


def _body_dump(fn: ast.FunctionDef) -> str:
    """A function's code without its docstring and name, for comparison."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[])) + ast.dump(fn.args)


class _Anonymous(ast.NodeTransformer):
    """Every variable and argument called "_": a renamed copy looks like the original."""

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(id="_", ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return ast.copy_location(ast.arg(arg="_", annotation=None), node)


def _tokens(fn: ast.FunctionDef) -> list[str]:
    """The function's body as a token list with its names erased (for a similarity ratio)."""
    import re

    tree = _Anonymous().visit(ast.parse(ast.unparse(fn)))
    return re.findall(r"\w+|[^\w\s]", _body_dump(tree.body[0]))


def _reference_fn(exercise: Exercise) -> ast.FunctionDef | None:
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(exercise.load_reference())))
    except (OSError, TypeError, SyntaxError, ImportError):
        return None
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)


NEAR_COPY = 0.9  # token similarity (names erased) above which a function is listed as nearly the reference
MAX_REVIEW_LINES = 2000  # a longer cell is listed as too long to review (and not compared token by token)


def _reference_dump(exercise: Exercise) -> str | None:
    """The reference function's code as :func:`_body_dump` gives it (None when its source is not at hand)."""
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(exercise.load_reference())))
    except (OSError, TypeError, SyntaxError, ImportError):
        return None
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    return None if fn is None else _body_dump(fn)


def _copies(gid: str, tree: ast.Module, ref: ast.FunctionDef | None) -> list[Flag]:
    """Every function of the cell, nested or renamed ones too, that is (nearly) the reference."""
    import difflib

    if ref is None:
        return []
    ref_dump, ref_tokens = _body_dump(ref), _tokens(ref)
    for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        if _body_dump(fn) == ref_dump:
            return [Flag(gid, fn.lineno, f"{fn.name} is the course's reference for {gid}, copied (docstring aside)")]
        if len(ref_tokens) < 40:
            continue
        matcher = difflib.SequenceMatcher(None, _tokens(fn), ref_tokens, autojunk=False)
        if matcher.real_quick_ratio() >= NEAR_COPY and matcher.quick_ratio() >= NEAR_COPY \
                and (ratio := matcher.ratio()) >= NEAR_COPY:  # cheap bounds first: a huge body costs little
            return [Flag(gid, fn.lineno, f"{fn.name} is nearly the course's reference for {gid} (token similarity "
                                         f"{ratio:.2f} with names erased)")]
    return []


def review_cells(cells: dict[str, str], exercises: list[Exercise], *, references: bool = True) -> list[Flag]:
    """Flags for the solution cells of one submission (grade_id -> code), in cell then line order.

    A cell that does not parse is flagged once (the grader reports its error anyway). With
    ``references``, a graded function whose code equals the ``course`` reference is flagged too.
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
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in OS_CALLS and isinstance(node.value, ast.Name) \
                    and node.value.id == "os":
                flags.append(Flag(gid, node.lineno, f"os.{node.attr}: raw file descriptors (the grader's channel is "
                                                    "one)"))
            text = _constant_text(node) if isinstance(node, (ast.Constant, ast.BinOp, ast.JoinedStr)) else None
            if text and any(job in text for job in JOB_STRINGS):
                flags.append(Flag(gid, node.lineno, f"the string {text[:40]!r} names the grading job's files"))
        if len(code.splitlines()) > MAX_REVIEW_LINES:
            flags.append(Flag(gid, 1, f"{len(code.splitlines())} lines: too long to review; read it by hand"))
        elif references and gid in by_cell:
            flags += _copies(gid, tree, _reference_fn(by_cell[gid]))
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
