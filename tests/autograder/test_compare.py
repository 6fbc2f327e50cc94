"""Strict comparison: exact types, shapes, dtypes, finiteness, tolerance; objects that lie fail."""
import numpy as np
import pytest
import torch

from autograder.student.compare import compare


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


class LyingTensor(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return True


T = torch.arange(6.0).reshape(2, 3)
A = np.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize("expected, got", [
    (T, T.clone()),
    (T, T + 1e-7),
    (A, A.copy()),
    (3, 3),
    (2.5, 2.5 + 1e-9),
    (2.0, 2),  # an int where a float is expected is fine when equal
    ((T, 3), (T.clone(), 3)),
    ({"a": [1, 2]}, {"a": [1, 2]}),
    ("lung", "lung"),
    (torch.tensor([float("nan")]), torch.tensor([float("nan")])),  # NaN where the reference has NaN
])
def test_equal_values_pass(expected, got):
    assert compare(expected, got) is None


@pytest.mark.parametrize("expected, got, words", [
    (T, AlwaysEqual(), "should be a torch.Tensor"),
    (T, T.clone().as_subclass(LyingTensor), "should be a torch.Tensor"),
    (T, A, "should be a torch.Tensor"),
    (A, T, "should be a np.ndarray"),
    (T, T.T.contiguous(), "axes permuted"),
    (T, T.double(), "dtype torch.float64"),
    (A, A.astype(np.float32), "dtype float32"),
    (T, T + 1e-2, "max abs error"),
    (T, torch.full((2, 3), float("nan")), "NaN"),
    (3, 3.0, "Python int"),
    (3, np.int64(3), "Python int"),
    (3, True, "Python int"),
    (2.5, float("nan"), "not a finite number"),
    (2.5, float("inf"), "not a finite number"),
    ((1, 2), [1, 2], "should be a tuple"),
    ((1, 2), (1,), "2 items"),
    ({"a": 1}, {"b": 1}, "keys"),
    ("lung", AlwaysEqual(), "should be 'lung'"),
    (True, 1, "should be True"),
])
def test_wrong_values_fail_with_a_reason(expected, got, words):
    reason = compare(expected, got)
    assert reason is not None and words in reason, reason


def test_first_mismatch_is_located():
    got = T.clone()
    got[1, 2] = 100
    reason = compare(T, got)
    assert "index (1, 2)" in reason and "1 of 6" in reason
