"""Lesson 09_ct_hounsfield: small wrong versions of each solution that change only input validation
(the mutants that survived an earlier version of the cases) are rejected by the public cases and by
every hidden case set. Mutants that return a value are also named by a misconception (see
autograder/exercises/ct_hounsfield.py); those that raise on a legal input cannot be named, so they are
proven here."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.exercises import find_exercise
from autograder.student.check import evaluate
from course.medical import dicom, hounsfield


def _apply_window_refuses_width_1(hu, center, width):  # `width < 2` instead of `width < 1`
    if not np.isfinite(width) or width < 2:
        raise ValueError("width")
    return hounsfield.apply_window(hu, center, width)


def _apply_window_accepts_half(hu, center, width):  # `width <= 0` instead of `width < 1`
    if not np.isfinite(width) or width <= 0:
        raise ValueError("width")
    return hounsfield.apply_window(hu, center, max(width, 1.0))


def _clip_window_refuses_below_1(hu, center, width):  # `width < 1` copied from apply_window
    if not np.isfinite(width) or width < 1:
        raise ValueError("width")
    return hounsfield.clip_window(hu, center, width)


def _clip_window_accepts_0(hu, center, width):  # `width < 0` instead of `width <= 0`
    if not np.isfinite(width) or width < 0:
        raise ValueError("width")
    return hounsfield.clip_window(hu, center, max(width, 1e-9))


def _png_refuses_single_pixel(hu):  # "an image needs two pixels"
    if np.asarray(hu).size < 2:
        raise ValueError("too small")
    return hounsfield.naive_png_normalize(hu)


def _sort_refuses_one_slice(positions, image_orientation):  # "a series needs two slices"
    if len(np.asarray(positions)) < 2:
        raise ValueError("too few slices")
    return dicom.sort_slices(positions, image_orientation)


def _normal_refuses_tuples(image_orientation):  # `isinstance(iop, np.ndarray)` required
    if not isinstance(image_orientation, np.ndarray):
        raise TypeError("need an array")
    return dicom.slice_normal(image_orientation)


def _rescale_refuses_one_pixel(pixels, slope, intercept):  # "an image is at least 2x2"
    if min(np.shape(pixels)) < 2:
        raise ValueError("too small")
    return hounsfield.rescale_to_hu(pixels, slope, intercept)


MUTANTS = [
    ("apply_window", _apply_window_refuses_width_1), ("apply_window", _apply_window_accepts_half),
    ("clip_window", _clip_window_refuses_below_1), ("clip_window", _clip_window_accepts_0),
    ("naive_png_normalize", _png_refuses_single_pixel), ("sort_slices", _sort_refuses_one_slice),
    ("slice_normal", _normal_refuses_tuples), ("rescale_to_hu", _rescale_refuses_one_pixel),
]


@pytest.mark.parametrize("name, mutant", MUTANTS, ids=[m.__name__.strip("_") for _, m in MUTANTS])
@pytest.mark.parametrize("seed", [None, 1, 2], ids=["public", "hidden1", "hidden2"])
def test_validation_mutants_are_rejected(name, mutant, seed):
    """Check that public and hidden cases each reject the mutant."""
    exercise = find_exercise(name)
    verdict = evaluate(exercise, mutant, exercise.cases(seed))
    assert not verdict.ok, f"{mutant.__name__} passed every {'public' if seed is None else 'hidden'} case"
