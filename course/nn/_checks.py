"""The small argument checks the network modules share: positive integers and per-axis tuples.

    positive_int(value, "num_frames")                 the value, or ValueError naming it
    ntuple(size, 3, "tubelet_size", "(t, h, w)")      an int repeated, or a sequence of n ints, checked
"""
from __future__ import annotations

from typing import Any, Sequence

_NAMES = {2: "pair", 3: "triple"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(value: Any, name: str) -> int:
    """``value`` when it is an int >= 1 (bools excluded).

    Raises:
        ValueError: naming ``name`` and the value given.
    """
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


def ntuple(value: int | Sequence[int], n: int, name: str, axes: str = "", *, minimum: int = 1) -> tuple[int, ...]:
    """An int repeated ``n`` times, or a sequence of ``n`` ints, each >= ``minimum``, as a tuple.

    Args:
        value: one int for every axis, or one per axis.
        n: number of axes (2 for (height, width), 3 for (time or depth, height, width)).
        name: the argument's name, for the error.
        axes: how the axes read, for the error, e.g. "(t, h, w)".
        minimum: the least value allowed (1 for sizes and strides, 0 for paddings).

    Raises:
        ValueError: not an int or a sequence of ``n`` ints >= ``minimum``.
    """
    out = (value,) * n if _is_int(value) else tuple(value) if isinstance(value, Sequence) else (value,)
    if len(out) != n or not all(_is_int(v) and v >= minimum for v in out):
        raise ValueError(f"{name} must be an int >= {minimum} or a {_NAMES.get(n, f'{n}-tuple')} {axes} of them, "
                         f"got {value!r}".replace("  ", " "))
    return out
