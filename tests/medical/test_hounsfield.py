"""Tests of course.medical.hounsfield against pydicom's Modality and VOI LUT functions, and of the
medical figures in course.viz.medical that draw those windows."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_modality_lut, apply_windowing

from course.medical.hounsfield import (
    TISSUE_HU,
    WINDOW_PRESETS,
    apply_window,
    clip_window,
    naive_png_normalize,
    rescale_to_hu,
    window_preset,
)

REAL_CT = ["CT_small.dcm", "693_UNCI.dcm"]


def _read(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(get_testdata_file(name))


# --- rescale_to_hu ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL_CT)
def test_rescale_to_hu_equals_pydicom_modality_lut(name):
    """Check that rescale_to_hu equals pydicom's apply_modality_lut on real CT files."""
    ds = _read(name)
    hu = rescale_to_hu(ds.pixel_array, float(ds.RescaleSlope), float(ds.RescaleIntercept))
    expected = apply_modality_lut(ds.pixel_array, ds)
    assert isinstance(hu, np.ndarray) and hu.dtype == np.float32
    assert hu.shape == ds.pixel_array.shape
    np.testing.assert_array_equal(hu, expected)


@pytest.mark.parametrize(
    "pixels, slope, intercept, expected",
    [
        (np.array([0, 1024, 2024], np.uint16), 1.0, -1024.0, [-1024.0, 0.0, 1000.0]),
        (np.array([32000, -32000], np.int16), 2.0, 0.0, [64000.0, -64000.0]),  # no int16 overflow
        (np.array([32000, -32000], np.int16), 2, 0, [64000.0, -64000.0]),  # integer slope too
        ([[0, 1]], 1.0, -1024.0, [[-1024.0, -1023.0]]),  # any array-like
        (np.array([[10, 20]], np.int32), 0.5, -3.0, [[2.0, 7.0]]),
        (np.array([3.0]), 1.0, 0.0, [3.0]),
    ],
)
def test_rescale_to_hu_cases(pixels, slope, intercept, expected):
    """Check that rescale_to_hu is pixels * slope + intercept, float32, without integer overflow."""
    hu = rescale_to_hu(pixels, slope, intercept)
    assert hu.dtype == np.float32 and hu.shape == np.shape(expected)
    np.testing.assert_array_equal(hu, np.asarray(expected, np.float32))


# --- apply_window / clip_window against pydicom ---------------------------------------------


def _pydicom_window01(hu: np.ndarray, name: str, center: float, width: float, function: str) -> np.ndarray:
    """pydicom's apply_windowing rescaled to [0, 1].

    pydicom maps the window onto the range of the *stored* values passed through the rescale
    (for a signed 16-bit file with intercept -1024: -33792..31743); we read that output range off
    pydicom itself by windowing two extreme values, then rescale to [0, 1].
    """
    ds = _read(name)  # apply_windowing edits the dataset, so a fresh one each time
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = center, width, function
    y_min, y_max = apply_windowing(np.array([-1e12, 1e12]), ds)
    return (apply_windowing(hu.astype(np.float64), ds) - y_min) / (y_max - y_min)


WINDOW_CASES = [
    ("CT_small.dcm", *WINDOW_PRESETS["lung"]),
    ("CT_small.dcm", *WINDOW_PRESETS["bone"]),
    ("CT_small.dcm", *WINDOW_PRESETS["brain"]),
    ("CT_small.dcm", 20.0, 1.0),  # width 1: a step at the center
    ("CT_small.dcm", 100.5, 2.0),
    ("693_UNCI.dcm", None, None),  # the file's own window (40, 100)
    ("693_UNCI.dcm", *WINDOW_PRESETS["mediastinum"]),
    ("693_UNCI.dcm", *WINDOW_PRESETS["liver"]),
    ("693_UNCI.dcm", -1000.0, 3.0),
]


@pytest.mark.parametrize("name, center, width", WINDOW_CASES)
def test_apply_window_equals_pydicom_linear(name, center, width):
    """Check that apply_window equals pydicom's LINEAR VOI LUT rescaled to [0, 1] on real CT."""
    ds = _read(name)
    if center is None:
        center, width = float(ds.WindowCenter), float(ds.WindowWidth)
    hu = apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
    ours = apply_window(hu, center, width)
    assert ours.dtype == np.float32 and ours.shape == hu.shape
    assert ours.min() >= 0.0 and ours.max() <= 1.0
    np.testing.assert_allclose(ours, _pydicom_window01(hu, name, center, width, "LINEAR"), atol=1e-6)


@pytest.mark.parametrize("name, center, width", [c for c in WINDOW_CASES if c[1] is not None])
def test_clip_window_equals_pydicom_linear_exact(name, center, width):
    """Check that clip_window equals pydicom's LINEAR_EXACT VOI LUT rescaled to [0, 1]."""
    ds = _read(name)
    hu = apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
    ours = clip_window(hu, center, width)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, _pydicom_window01(hu, name, center, width, "LINEAR_EXACT"), atol=1e-6)


def test_own_window_of_real_file_is_40_100():
    """Check the sample file's own window, which the lessons quote."""
    ds = _read("693_UNCI.dcm")
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (40.0, 100.0)


@pytest.mark.parametrize(
    "x, center, width, expected",
    [
        # the three cases of PS3.3 C.11.2.1.2.1 at and around their boundaries (c=40, w=400):
        # lower edge c - 0.5 - (w-1)/2 = -160, upper edge c - 0.5 + (w-1)/2 = 239
        (-160.0, 40, 400, 0.0),
        (-159.0, 40, 400, (-159 - 39.5) / 399 + 0.5),
        (39.5, 40, 400, 0.5),
        (239.0, 40, 400, 1.0),
        (238.0, 40, 400, (238 - 39.5) / 399 + 0.5),
        (1e6, 40, 400, 1.0),
        # width 1 is a step: x <= c - 0.5 -> 0, else 1
        (-0.5, 0, 1, 0.0),
        (-0.49, 0, 1, 1.0),
    ],
)
def test_apply_window_boundaries(x, center, width, expected):
    """Check apply_window at the boundaries of the standard's three cases."""
    assert apply_window(np.array([x]), center, width)[0] == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize(
    "x, center, width, expected",
    [(-160.0, 40, 400, 0.0), (40.0, 40, 400, 0.5), (140.0, 40, 400, 0.75), (240.0, 40, 400, 1.0),
     (0.1, 0, 0.5, 0.7)],
)
def test_clip_window_cases(x, center, width, expected):
    """Check clip_window's simple formula, including a window narrower than 1 HU."""
    assert clip_window(np.array([x]), center, width)[0] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("width", [1.0, 2.0, 80.0, 400.0, 1500.0])
def test_apply_and_clip_window_differ_by_at_most_one_over_width(width):
    """Check the docstrings' claim: the DICOM and the simple window differ by at most 1/width (tight)."""
    center = 37.0
    x = np.linspace(center - width, center + width, 200_001)
    diff = np.abs(apply_window(x, center, width).astype(np.float64) - clip_window(x, center, width))
    assert diff.max() <= 1.0 / width + 1e-6
    assert diff.max() >= 0.9 / width  # the bound is reached, not loose


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 5)])
def test_windows_keep_shape_and_are_monotonic(shape):
    """Check that both windows keep odd shapes, give float32 in [0, 1], and never decrease."""
    hu = np.linspace(-1200, 1200, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    for window in (apply_window, clip_window):
        out = window(hu, 50.0, 350.0)
        assert out.shape == shape and out.dtype == np.float32
        assert out.min() == 0.0 and out.max() == 1.0
        assert np.all(np.diff(out.ravel()) >= 0)


@pytest.mark.parametrize("window, width", [(apply_window, 0.99), (apply_window, 0), (clip_window, 0),
                                           (clip_window, -5), (apply_window, float("nan")),
                                           (clip_window, float("nan")), (apply_window, float("inf")),
                                           (clip_window, float("inf"))])
def test_too_narrow_window_raises(window, width):
    """Check that a window narrower than allowed raises a ValueError naming the width."""
    with pytest.raises(ValueError, match="width"):
        window(np.zeros(3), 0.0, width)


# --- presets, tissues, naive PNG ------------------------------------------------------------


def test_window_presets_table():
    """Check the preset table the lessons and the autograder rely on."""
    assert WINDOW_PRESETS == {
        "lung": (-600, 1500), "mediastinum": (50, 350), "abdomen": (50, 400),
        "liver": (30, 150), "bone": (400, 1800), "brain": (40, 80),
    }


@pytest.mark.parametrize("name", ["lung", "Bone", " brain "])
def test_window_preset_lookup(name):
    """Check that window_preset finds presets regardless of case and spaces."""
    assert window_preset(name) == WINDOW_PRESETS[name.strip().lower()]


def test_window_preset_unknown_lists_known_names():
    """Check that an unknown preset raises a KeyError listing the known names."""
    with pytest.raises(KeyError) as info:
        window_preset("kidney")
    assert "kidney" in str(info.value) and all(name in str(info.value) for name in WINDOW_PRESETS)


def test_tissue_hu_scale():
    """Check the tissue table: the scale's two defining points and the usual order of tissues."""
    assert TISSUE_HU["air"] == (-1000, -1000) and TISSUE_HU["water"] == (0, 0)
    assert all(lo <= hi for lo, hi in TISSUE_HU.values())
    order = ["air", "lung", "fat", "water", "soft_tissue", "cancellous_bone", "cortical_bone"]
    lows = [TISSUE_HU[name][0] for name in order]
    assert lows == sorted(lows)
    # bone as measured clinically: trabecular vertebral bone ~100..300 HU (a measured 205 HU is
    # normal, not partial volume), cortex from ~500 HU; arterial contrast far above blood
    assert TISSUE_HU["cancellous_bone"] == (100, 300) and TISSUE_HU["cortical_bone"] == (500, 1900)
    assert TISSUE_HU["blood"][1] < TISSUE_HU["blood_arterial_contrast"][0] <= 300 <= TISSUE_HU["blood_arterial_contrast"][1]
    for organ in ("blood", "liver"):
        assert TISSUE_HU["soft_tissue"][0] <= TISSUE_HU[organ][0] <= TISSUE_HU[organ][1] <= 80


def test_naive_png_normalize_is_per_image_min_max():
    """Check uint8 output and the per-image min-max mapping on an odd-sized image."""
    rng = np.random.default_rng(0)
    hu = rng.uniform(-1024, 3000, size=(5, 7)).astype(np.float32)
    out = naive_png_normalize(hu)
    assert out.dtype == np.uint8 and out.shape == (5, 7)
    assert out.min() == 0 and out.max() == 255
    expected = np.round((hu - hu.min()) / (hu.max() - hu.min()) * 255)
    np.testing.assert_array_equal(out, expected.astype(np.uint8))
    assert not naive_png_normalize(np.full((3, 3), 40.0)).any()  # constant image -> zeros
    assert naive_png_normalize(np.array([7.0])).tolist() == [0]  # a single pixel is constant


@pytest.mark.parametrize("hu", [np.zeros((0, 3)), np.array([1.0, np.nan]), np.array([[np.inf, 0.0]])])
def test_naive_png_normalize_rejects_images_without_a_range(hu):
    """Check ValueError for an empty image and for NaN or inf values."""
    with pytest.raises(ValueError, match="empty or holds NaN"):
        naive_png_normalize(hu)


def test_naive_png_normalize_destroys_hu():
    """Check the lesson's claim: one tissue gets two grey values, and soft tissue only ~4 levels."""
    liver = 60.0
    slice_a = np.array([[-1024.0, liver, 1000.0]])  # air, liver, bone
    slice_b = np.array([[-1024.0, liver, 3000.0]])  # same, with denser bone (a metal clip?)
    grey_a, grey_b = naive_png_normalize(slice_a)[0, 1], naive_png_normalize(slice_b)[0, 1]
    assert grey_a != grey_b  # the same 60 HU, two grey values
    full_range = np.concatenate([[-1024.0, 3000.0], np.arange(20.0, 81.0)])  # soft tissue 20..80 HU
    levels = np.unique(naive_png_normalize(full_range)[2:])
    assert len(levels) <= 5  # 61 HU values on ~4 grey levels (15.8 HU per level)


# --- course.viz.medical: the same windows in figures ----------------------------------------


@pytest.mark.parametrize(
    "hu_shape, presets, expected_axes",
    [((33, 35), ("lung", "mediastinum", "bone"), 4), ((5, 33, 35), ("brain",), 2),
     ((33, 35), ("liver", (40.0, 400.0)), 3)],
)
def test_show_windows_axes(hu_shape, presets, expected_axes):
    """Check that show_windows draws the raw slice plus one panel per window."""
    from matplotlib.figure import Figure

    from course.viz.medical import show_windows

    hu = np.linspace(-1000, 1500, int(np.prod(hu_shape)), dtype=np.float32).reshape(hu_shape)
    fig = show_windows(hu, presets, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == expected_axes
    shown = fig.axes[1].images[0].get_array()
    middle = hu if hu.ndim == 2 else hu[hu.shape[0] // 2]
    np.testing.assert_allclose(shown, apply_window(middle, *(window_preset(presets[0]))))


def test_show_windows_rejects_bad_input():
    """Check the errors for a 1D input and an unknown preset."""
    from course.viz.medical import show_windows

    with pytest.raises(ValueError, match="shape"):
        show_windows(np.zeros(5))
    with pytest.raises(KeyError, match="known presets"):
        show_windows(np.zeros((4, 4)), ("kidney",))


@pytest.mark.parametrize(
    "axis, num, expected_indices",
    [(0, 6, [0, 1, 2, 3, 4]), (1, 3, [1, 3, 5]), (2, 6, [0, 2, 3, 5, 6, 8]), (0, 1, [2])],
)
def test_show_volume_slices_axes(axis, num, expected_indices):
    """Check one panel per slice (at most the axis length), evenly spaced along the given axis."""
    from course.viz.medical import show_volume_slices

    volume = np.arange(5 * 7 * 9, dtype=np.float32).reshape(5, 7, 9)
    fig = show_volume_slices(volume, axis=axis, num=num, window="bone")
    assert len(fig.axes) == len(expected_indices)
    for ax, index in zip(fig.axes, expected_indices):
        shown = ax.images[0].get_array()
        np.testing.assert_allclose(shown, apply_window(np.take(volume, index, axis=axis), 400, 1800))


@pytest.mark.parametrize("axis, aspect, origin", [(0, 0.8 / 0.9, "upper"), (1, 2.5 / 0.9, "lower"),
                                                  (2, 2.5 / 0.8, "lower")])
def test_show_volume_slices_aspect_and_head_up(axis, aspect, origin):
    """Check that spacing sets the pixel aspect ratio and that reformatted slices put slice 0 low."""
    from course.viz.medical import show_volume_slices

    fig = show_volume_slices(np.zeros((5, 7, 9)), axis=axis, num=2, spacing=(2.5, 0.8, 0.9))
    assert fig.axes[0].get_aspect() == pytest.approx(aspect)
    assert fig.axes[0].images[0].origin == origin
