"""Strict comparison of a student's result with the reference result.

Strict means: the exact type (``torch.Tensor`` or ``np.ndarray`` itself, never a subclass or an
object that merely says it is equal), then shape, dtype, finiteness, then values within tolerance.
Nothing here calls a method of the student's object except through the exact-type fast path, so an
object whose ``__eq__`` always answers True, or a tensor subclass that overrides ``allclose``, fails.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from autograder.transport import Foreign

__all__ = ["compare", "describe"]


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


def compare(expected: Any, got: Any, *, rtol: float = 1e-5, atol: float = 1e-6, where: str = "result") -> str | None:
    """Compare ``got`` with ``expected``.

    Args:
        expected: the reference result (trusted).
        got: the student's result (untrusted).
        rtol, atol: tolerances for floating-point values (``|got - expected| <= atol + rtol * |expected|``).
        where: a name for the compared value in messages ("result", "result[1]").

    Returns:
        None when equal, else a one-line reason ("result has shape (8, 3) but (3, 8) was expected").
    """
    if type(expected) is torch.Tensor:
        return _compare_tensor(expected, got, rtol, atol, where)
    if type(expected) is np.ndarray:
        if type(got) is not np.ndarray:
            return f"{where} should be a np.ndarray, got a {describe(got)}"
        return _compare_tensor(torch.from_numpy(np.array(expected, order="C")), torch.from_numpy(np.array(got, order="C")),
                               rtol, atol, where, kind="np.ndarray")
    if type(expected) in (tuple, list):
        if type(got) is not type(expected):
            return f"{where} should be a {type(expected).__name__}, got a {describe(got)}"
        if len(got) != len(expected):
            return f"{where} should have {len(expected)} items, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            reason = compare(e, g, rtol=rtol, atol=atol, where=f"{where}[{i}]")
            if reason:
                return reason
        return None
    if type(expected) is dict:
        if type(got) is not dict:
            return f"{where} should be a dict, got a {describe(got)}"
        if set(got) != set(expected):
            return f"{where} should have keys {sorted(map(str, expected))}, got {sorted(map(str, got))}"
        for k in expected:
            reason = compare(expected[k], got[k], rtol=rtol, atol=atol, where=f"{where}[{k!r}]")
            if reason:
                return reason
        return None
    if type(expected) is bool or expected is None or type(expected) is str:
        if type(got) is not type(expected) or got != expected:
            return f"{where} should be {expected!r}, got {_short(got)}"
        return None
    if type(expected) is int:
        if type(got) is not int:
            return f"{where} should be a Python int, got a {describe(got)} ({_short(got)})"
        if got != expected:
            return f"{where} should be {expected:,}, got {got:,}"
        return None
    if type(expected) is float:
        if type(got) not in (int, float):
            return f"{where} should be a Python float, got a {describe(got)}"
        if not math.isfinite(got):
            return f"{where} is {got}, not a finite number"
        if abs(got - expected) > atol + rtol * abs(expected):
            return f"{where} should be {expected:.6g}, got {got:.6g}"
        return None
    raise TypeError(f"reference returned a {describe(expected)}, which compare() does not handle")


def _compare_tensor(expected: torch.Tensor, got: Any, rtol: float, atol: float, where: str,
                    kind: str = "torch.Tensor") -> str | None:
    if type(got) is not torch.Tensor:
        return f"{where} should be a {kind}, got a {describe(got)}"
    if tuple(got.shape) != tuple(expected.shape):
        hint = ""
        if sorted(got.shape) == sorted(expected.shape) and got.dim() > 1:
            hint = " (the same sizes in another order: are the axes permuted?)"
        return f"{where} has shape {tuple(got.shape)} but {tuple(expected.shape)} was expected{hint}"
    if got.dtype != expected.dtype:
        return f"{where} has dtype {_dtype(got.dtype, kind)} but {_dtype(expected.dtype, kind)} was expected"
    got, expected = got.detach().cpu(), expected.detach().cpu()
    if got.is_floating_point() or got.is_complex():
        finite = torch.isfinite(got)
        if not bool(finite.all()) and bool(torch.isfinite(expected).all()):
            bad = (~finite).nonzero()[0].tolist()
            return f"{where} contains NaN or infinity (first at index {tuple(bad)})"
        close = torch.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        close = got == expected
    if bool(close.all()):
        return None
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
