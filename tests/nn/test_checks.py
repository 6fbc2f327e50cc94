"""The shared argument checks of course.nn."""
from __future__ import annotations

import numpy as np
import pytest

from course.nn._checks import ntuple, positive_int


@pytest.mark.parametrize("value", [0, -3, 2.0, True, None, "3", np.int64(1)])
def test_positive_int_rejects_what_is_not_an_int_of_at_least_one(value: object) -> None:
    with pytest.raises(ValueError, match=r"num_frames must be an int >= 1, got"):
        positive_int(value, "num_frames")


def test_positive_int_returns_the_value() -> None:
    assert positive_int(1, "x") == 1 and positive_int(17, "x") == 17


@pytest.mark.parametrize("value, n, minimum, expected", [
    (3, 2, 1, (3, 3)), ((2, 5), 2, 1, (2, 5)), ([1, 2, 3], 3, 1, (1, 2, 3)), (0, 3, 0, (0, 0, 0)), ((0, 1), 2, 0, (0, 1)),
])
def test_ntuple_expands_and_keeps(value: object, n: int, minimum: int, expected: tuple) -> None:
    assert ntuple(value, n, "size", minimum=minimum) == expected


@pytest.mark.parametrize("value, n, minimum", [
    (0, 2, 1), ((1, 0), 2, 1), ((1, 2), 3, 1), ((1, 2, 3), 2, 1), (-1, 3, 0), ((1.0, 2), 2, 1), (True, 2, 1),
    ("ab", 2, 1), (None, 2, 1),
])
def test_ntuple_rejects_with_the_name_and_the_axes(value: object, n: int, minimum: int) -> None:
    with pytest.raises(ValueError, match=rf"tubelet_size must be an int >= {minimum} or a (pair|triple) \(t, h, w\) of them"):
        ntuple(value, n, "tubelet_size", "(t, h, w)", minimum=minimum)
