"""Outcomes of calls and the verdict on an exercise: shared by ``check`` and the official grader.

An :class:`Outcome` is what one call of a function did (returned a value, raised, or did not run).
:func:`judge` compares a student's outcomes with the reference's, case by case, and explains the
first failure, naming a known misconception when the student's output matches one.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import re
import warnings
from typing import Any, Callable

import numpy as np
from torch.utils._python_dispatch import TorchDispatchMode

from autograder.student.compare import compare
from autograder.student.spec import Case, Exercise

__all__ = ["Outcome", "Verdict", "call", "judge", "OpRecorder", "case_kind"]


@dataclasses.dataclass
class Outcome:
    """What one call did.

    kind: "return" (``value`` holds the result), "raise" (``exc_types`` holds the names of the
    exception's classes, most derived first, and ``message`` its text), or "missing" / "timeout" /
    "crash" / "error" (the call did not complete; ``message`` says why).
    """

    kind: str
    value: Any = None
    exc_types: tuple[str, ...] = ()
    message: str = ""
    forbidden: tuple[str, ...] = ()  # forbidden ATen operators the call used

    KINDS = ("return", "raise", "missing", "timeout", "crash", "error")

    def to_plain(self, encode: Callable[[Any], Any] = lambda v: v) -> dict:
        """The outcome as plain data for another process (the grading child's results to the grader).

        ``{"kind", "exc_types": [str], "message": str, "forbidden": [str]}``, plus ``"value"`` (passed
        through ``encode``, e.g. :func:`autograder.grader.transport.encode`) for a return.
        """
        plain = {"kind": self.kind, "exc_types": list(self.exc_types), "message": self.message,
                 "forbidden": list(self.forbidden)}
        if self.kind == "return":
            plain["value"] = encode(self.value)
        return plain

    @classmethod
    def from_plain(cls, plain: Any, decode: Callable[[Any], Any] = lambda v: v) -> Outcome:
        """The outcome that :meth:`to_plain` wrote, read strictly (the data may come from untrusted code).

        Raises:
            ValueError: not a dict, an unknown kind, a field of the wrong type, or a return without a value.
        """
        if type(plain) is not dict or plain.get("kind") not in cls.KINDS:
            raise ValueError(f"not an outcome: {type(plain).__name__} of kind {getattr(plain, 'get', dict().get)('kind')!r}")
        texts = {}
        for key in ("exc_types", "forbidden"):
            texts[key] = plain.get(key, [])
            if type(texts[key]) is not list or any(type(t) is not str for t in texts[key]):
                raise ValueError(f"outcome field {key} must be a list of strings")
        message = plain.get("message", "")
        if type(message) is not str:
            raise ValueError("outcome field message must be a string")
        if plain["kind"] == "return" and "value" not in plain:
            raise ValueError("a return outcome without a value")
        value = decode(plain["value"]) if plain["kind"] == "return" else None
        return cls(plain["kind"], value, tuple(texts["exc_types"]), message, tuple(texts["forbidden"]))


@dataclasses.dataclass
class Verdict:
    """The verdict on one exercise: passed cases, and the explanation of the first failure."""

    name: str
    passed: int
    total: int
    reason: str = ""      # why the first failing case failed
    hint: str = ""        # the likely cause, from the exercise's misconceptions
    status: str = "ok"    # ok | failed | not_implemented | missing | timeout | crash | error
    # one entry per case, in order: {"public": bool, "ok": bool, "kind": the case's note (a hidden case's
    # without its numbers), "why": what went wrong ("" when ok), "cause": the likely cause ("" if unknown)}
    cases: list[dict] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total

    def text(self, *, public: bool = True) -> str:
        """A human-readable verdict of one or a few lines."""
        which = "public " if public else ""
        if self.ok:
            return f"PASS {self.name}: all {self.total} {which}cases pass."
        lines = [f"FAIL {self.name}: {self.reason}"]
        if self.hint:
            lines.append(f"     Likely cause: {self.hint}")
        return "\n".join(lines)


class OpRecorder(TorchDispatchMode):
    """Records the ATen operators that run inside it (for ``Exercise.forbidden_ops``)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        self.ops.add(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


def call(fn: Callable[..., Any], case: Case, forbidden_ops: tuple[str, ...] = ()) -> Outcome:
    """Call ``fn`` on a deep copy of the case's arguments and record what happened.

    With ``forbidden_ops``, the call runs under an :class:`OpRecorder` and the outcome lists which
    of those operators it used.
    """
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    recorder = OpRecorder() if forbidden_ops else contextlib.nullcontext()
    try:
        with recorder:
            out = Outcome("return", fn(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - student code may raise anything
        out = Outcome("raise", exc_types=tuple(c.__name__ for c in type(exc).__mro__), message=str(exc)[:500])
    if forbidden_ops:
        out.forbidden = tuple(op for op in forbidden_ops if op in recorder.ops)
    return out


def _case_label(i: int, n: int, case: Case) -> str:
    label = f"case {i + 1} of {n}"
    return f"{label} ({case.note})" if case.note else label


_KEEP = re.compile(r"\b(?:u?int\d+|b?float\d+|complex\d+|[1-4]-?D)\b")  # dtype names and "2D"/"3D" stay
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def case_kind(note: str) -> str:
    """The kind of a case without its values: every number in its note becomes "…".

    ``"8 frames, stride 6, start 14 of 80"`` -> ``"… frames, stride …, start … of …"``; dtype names
    (``uint8``, ``float32``) and ``2D``/``3D`` are kept. A hidden case is shown this way: what kind of
    input failed, never its sizes or values.
    """
    parts, last = [], 0
    for m in _KEEP.finditer(note):
        parts += [_NUMBER.sub("…", note[last:m.start()]), m.group(0)]
        last = m.end()
    return "".join(parts) + _NUMBER.sub("…", note[last:])


def judge(exercise: Exercise, cases: list[Case], expected: list[Outcome], got: list[Outcome], *,
          num_public: int | None = None, blind: bool = False) -> Verdict:
    """Compare the student's outcomes with the reference's, case by case.

    Args:
        exercise: the exercise spec (tolerances and misconceptions).
        cases: the cases, in order: the public ones first.
        expected: the reference's outcomes (trusted).
        got: the student's outcomes (untrusted values, already plain data).
        num_public: how many of ``cases`` are public (None: all). A failing hidden case is named
            only by its number, the kind of case (:func:`case_kind`: its note without numbers), the
            kind of failure and the likely cause: no sizes, no expected value.
        blind: reasons say nothing of the student's values (see :func:`autograder.student.compare.compare`);
            the official grader sets it, since student code can read the hidden cases.

    Returns:
        A :class:`Verdict`; ``reason`` explains the first failing case, ``cases`` every case.
    """
    n = len(cases)
    num_public = n if num_public is None else num_public
    verdict = Verdict(exercise.name, passed=0, total=n)
    for i, (case, exp, out) in enumerate(zip(cases, expected, got)):
        public = i < num_public
        reason = _reason(exercise, case, exp, out, blind=blind)
        entry = {"public": public, "ok": reason is None, "kind": case.note if public else case_kind(case.note),
                 "why": "", "cause": ""}
        verdict.cases.append(entry)
        if reason is None:
            verdict.passed += 1
            continue
        entry["why"] = reason if public else _hidden_reason(exp, out, reason)
        if out.kind == "return" and not out.forbidden:  # right numbers from a forbidden op: no misconception
            entry["cause"] = _diagnose(exercise, case, out.value)
        if not verdict.reason:
            if public:
                verdict.reason = f"{_case_label(i, num_public, case)}: {reason}"
            else:
                kind = f" ({entry['kind']})" if entry["kind"] else ""
                verdict.reason = (f"hidden case {i - num_public + 1} of {n - num_public}{kind}: {entry['why']} "
                                  "(every public case passed; hidden cases differ in sizes and values)")
            verdict.status = _status(out)
            verdict.hint = entry["cause"]
    for i in range(len(got), n):  # the run stopped early (timeout or crash): the rest did not pass
        verdict.cases.append({"public": i < num_public, "ok": False, "why": "did not run", "cause": "",
                              "kind": cases[i].note if i < num_public else case_kind(cases[i].note)})
    if len(got) < n:
        verdict.reason = verdict.reason or f"only {len(got)} of {n} cases ran"
    return verdict


def _hidden_reason(exp: Outcome, out: Outcome, reason: str = "") -> str:
    """What went wrong in a hidden case, without any value of it.

    ``reason`` (the full reason, which may quote expected sizes or values) only picks the kind of
    difference: the type, the shape (and whether its sizes look permuted), the dtype, the number of
    items or keys, non-finite numbers, or the values.
    """
    if out.kind in ("missing", "timeout", "crash", "error"):
        return out.message or out.kind
    if out.forbidden:
        return reason  # names the forbidden operators only
    if exp.kind == "raise":
        return f"should raise {exp.exc_types[0]}" + (f", but raised {out.exc_types[0]}" if out.kind == "raise" else "")
    if out.kind == "raise":
        return f"raised {out.exc_types[0]}"
    where = reason.split(" ", 1)[0] if reason.startswith("result") else "result"
    for marker, what in _DIFFERENCES:
        if marker in reason:
            return f"returned a wrong value: {what} of {where}" + (
                " (the same sizes in another order: are the axes permuted?)" if "permuted" in reason else "")
    return "returned a wrong value"


# the kinds of difference autograder.student.compare reports (blind or not), by a phrase of its reason
_DIFFERENCES = (("should be a ", "the type"), ("shape", "the shape"), ("dtype", "the dtype"),
                ("items", "the number of items"), ("keys", "the keys"), ("NaN", "NaN or infinity in the values"),
                ("finite", "a non-finite number"), ("differs", "the values"), ("should be ", "the value"))


def _status(out: Outcome) -> str:
    if out.kind == "raise" and out.exc_types[:1] == ("NotImplementedError",):
        return "not_implemented"
    return out.kind if out.kind in ("missing", "timeout", "crash", "error") else "failed"


def _reason(exercise: Exercise, case: Case, exp: Outcome, out: Outcome, *, blind: bool = False) -> str | None:
    if out.kind in ("missing", "timeout", "crash", "error"):
        return out.message or out.kind
    if out.forbidden:
        return (f"uses {', '.join(out.forbidden)} (torch's own implementation), which this exercise asks you "
                "to write yourself")
    if exp.kind == "raise":
        if out.kind == "raise" and exp.exc_types[0] in out.exc_types:
            return None
        if out.kind == "raise":
            return f"should raise {exp.exc_types[0]}, but raised {out.exc_types[0]}" + (f": {out.message}" if out.message else "")
        return f"should raise {exp.exc_types[0]} for these arguments, but returned a value"
    if out.kind == "raise":
        if out.exc_types[:1] == ("NotImplementedError",):
            return "not implemented yet: replace `raise NotImplementedError()` with your code"
        return f"raised {out.exc_types[0]}" + (f": {out.message}" if out.message else "")
    return compare(exp.value, out.value, rtol=exercise.rtol, atol=exercise.atol, blind=blind)


def _diagnose(exercise: Exercise, case: Case, value: Any) -> str:
    for m in exercise.misconceptions:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            wrong = call(m.wrong, case)
        if wrong.kind == "return":
            try:
                same = compare(wrong.value, value, rtol=exercise.rtol, atol=exercise.atol) is None
            except TypeError:
                same = False
            if same:
                return m.message
    return ""
