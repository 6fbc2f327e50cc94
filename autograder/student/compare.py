"""Strict comparison of a student's result with the reference result.

Strict means: the exact type (``torch.Tensor`` or ``np.ndarray`` itself, never a subclass or an
object that merely says it is equal), then shape, dtype, finiteness, then values within tolerance.
Nothing here calls a method of the student's object except through the exact-type fast path, so an
object whose ``__eq__`` always answers True, or a tensor subclass that overrides ``allclose``, fails.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

__all__ = ["compare", "describe", "Foreign"]


@dataclasses.dataclass(frozen=True)
class Foreign:
    """Stands for a value of a type that cannot travel between processes (a tensor subclass, a custom object...).

    :mod:`autograder.grader.transport` decodes such a value into ``Foreign(type_name)``; :func:`compare` fails it
    and :func:`describe` names its type.
    """

    type_name: str

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


def describe(value: Any) -> str:
    """A short description of a value for messages: type, shape and dtype of arrays."""
    if type(value) is Foreign:
        return value.type_name
    if type(value) is torch.Tensor:
        return f"torch.Tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if type(value) is np.ndarray:
        return f"np.ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return f"{type(value).__name__} of length {len(value)}"
    return f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")


def compare(expected: Any, got: Any, *, rtol: float = 1e-5, atol: float = 1e-6, where: str = "result",
            blind: bool = False) -> str | None:
    """Compare ``got`` with ``expected``.

    Args:
        expected: the reference result (trusted).
        got: the student's result (untrusted).
        rtol, atol: tolerances for floating-point values (``|got - expected| <= atol + rtol * |expected|``).
        where: a name for the compared value in messages ("result", "result[1]").
        blind: say what was expected and what kind of difference there is, but nothing of ``got``
            (no value, shape, length, key or index of it): the official grader's feedback, since the
            student's code has read the hidden cases and its result could spell them out.

    Returns:
        None when equal, else a one-line reason ("result has shape (8, 3) but (3, 8) was expected").
    """
    if type(expected) is torch.Tensor:
        return _compare_tensor(expected, got, rtol, atol, where, blind=blind)
    if type(expected) is np.ndarray:
        if type(got) is not np.ndarray:
            return f"{where} should be a np.ndarray" + ("" if blind else f", got a {describe(got)}")
        if got.shape != expected.shape:  # checked on the object, before any copy of an untrusted array
            return _shape_reason(where, tuple(got.shape), tuple(expected.shape), blind)
        if got.dtype != expected.dtype:
            return (f"{where} should have dtype {expected.dtype}" if blind else
                    f"{where} has dtype {got.dtype} but {expected.dtype} was expected")
        return _compare_tensor(torch.from_numpy(np.array(expected, order="C")), torch.from_numpy(np.array(got, order="C")),
                               rtol, atol, where, kind="np.ndarray", blind=blind)
    if type(expected) in (tuple, list):
        if type(got) is not type(expected):
            return f"{where} should be a {type(expected).__name__}" + ("" if blind else f", got a {describe(got)}")
        if len(got) != len(expected):
            return f"{where} should have {len(expected)} items" + ("" if blind else f", got {len(got)}")
        for i, (e, g) in enumerate(zip(expected, got)):
            reason = compare(e, g, rtol=rtol, atol=atol, where=f"{where}[{i}]", blind=blind)
            if reason:
                return reason
        return None
    if type(expected) is dict:
        if type(got) is not dict:
            return f"{where} should be a dict" + ("" if blind else f", got a {describe(got)}")
        if set(got) != set(expected):
            return (f"{where} should have keys {sorted(map(str, expected))}" +
                    ("" if blind else f", got {_short(sorted(map(str, got)))}"))
        for k in expected:
            reason = compare(expected[k], got[k], rtol=rtol, atol=atol, where=f"{where}[{k!r}]", blind=blind)
            if reason:
                return reason
        return None
    if type(expected) is bool or expected is None or type(expected) is str:
        if type(got) is not type(expected) or got != expected:
            return f"{where} should be {expected!r}" + ("" if blind else f", got {_short(got)}")
        return None
    if type(expected) is int:
        if type(got) is not int:
            return f"{where} should be a Python int" + ("" if blind else f", got a {describe(got)} ({_short(got)})")
        if got != expected:
            return f"{where} should be {expected:,}" + ("" if blind else f", got {_short(got)}")
        return None
    if type(expected) is float:
        if type(got) not in (int, float):
            return f"{where} should be a Python float" + ("" if blind else f", got a {describe(got)}")
        if not math.isfinite(got):
            return f"{where} is not a finite number" if blind else f"{where} is {got}, not a finite number"
        if abs(got - expected) > atol + rtol * abs(expected):
            return f"{where} should be {expected:.6g}" + ("" if blind else f", got {got:.6g}")
        return None
    raise TypeError(f"reference returned a {describe(expected)}, which compare() does not handle")


def _shape_reason(where: str, got: tuple, expected: tuple, blind: bool) -> str:
    hint = ""
    if sorted(got) == sorted(expected) and len(got) > 1:
        hint = " (the same sizes in another order: are the axes permuted?)"
    if blind:
        return f"{where} should have shape {expected}{hint}"
    return f"{where} has shape {got} but {expected} was expected{hint}"


def _compare_tensor(expected: torch.Tensor, got: Any, rtol: float, atol: float, where: str,
                    kind: str = "torch.Tensor", blind: bool = False) -> str | None:
    if type(got) is not torch.Tensor:
        return f"{where} should be a {kind}" + ("" if blind else f", got a {describe(got)}")
    if tuple(got.shape) != tuple(expected.shape):
        return _shape_reason(where, tuple(got.shape), tuple(expected.shape), blind)
    if got.dtype != expected.dtype:
        if blind:
            return f"{where} should have dtype {_dtype(expected.dtype, kind)}"
        return f"{where} has dtype {_dtype(got.dtype, kind)} but {_dtype(expected.dtype, kind)} was expected"
    got, expected = got.detach().cpu(), expected.detach().cpu()
    if got.is_floating_point() or got.is_complex():
        finite = torch.isfinite(got)
        if not bool(finite.all()) and bool(torch.isfinite(expected).all()):
            if blind:
                return f"{where} contains NaN or infinity"
            bad = (~finite).nonzero()[0].tolist()
            return f"{where} contains NaN or infinity (first at index {tuple(bad)})"
        close = torch.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        close = got == expected
    if bool(close.all()):
        return None
    if blind:
        return f"{where} differs from the expected values (run check() in the notebook to see where)"
    idx = tuple((~close).nonzero()[0].tolist())
    n_bad = int((~close).sum())
    extra = ""
    if got.is_floating_point():
        extra = f"; max abs error {float((got - expected).abs().nan_to_num(0).max()):.3g}"
    return (f"{where} differs at {n_bad} of {close.numel()} positions; first at index {idx}: "
            f"got {got[idx].item()!r}, expected {expected[idx].item()!r}{extra}")


def _dtype(dtype: torch.dtype, kind: str) -> str:
    if kind == "np.ndarray":
        return str(torch.empty(0, dtype=dtype).numpy().dtype)
    return str(dtype)


def _short(value: Any) -> str:
    try:
        text = repr(value) if type(value) in (int, float, str, bool, type(None)) else describe(value)
    except Exception:  # noqa: BLE001 - an untrusted object may fail in repr
        text = describe(value)
    return text if len(text) < 80 else text[:77] + "..."
