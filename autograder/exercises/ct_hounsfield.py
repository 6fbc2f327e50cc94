"""Graded exercises of lesson 09_ct_hounsfield: Hounsfield units, display windows, slice order."""
from __future__ import annotations

import numpy as np

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "09_ct_hounsfield"


_ex = exercise_maker(ASSIGNMENT)


def _hu_image(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A CT-like image in HU: air, soft tissue and bone values with noise (float32)."""
    tissue = rng.choice(np.array([-1000.0, -850.0, -100.0, 0.0, 40.0, 60.0, 700.0, 1500.0]), size=shape)
    return (tissue + rng.normal(0, 20, size=shape)).astype(np.float32)


# --- rescale_to_hu ----------------------------------------------------------------------------------
def _rescale_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for dtype, slope, intercept in [(np.uint16, 1.0, -1024.0), (np.int16, 1.0, -1024.0), (np.uint16, 0.5, -1000.0),
                                    (np.int16, 2.0, -2048.0), (np.uint16, float(rng.uniform(0.2, 3)), float(rng.uniform(-3000, 0)))]:
        shape = tuple(int(s) for s in rng.integers(3, 17, size=int(rng.integers(2, 4))))
        hi = 4095 if dtype == np.uint16 else 3000
        pixels = rng.integers(0, hi, size=shape).astype(dtype)
        cases.append(Case((pixels, slope, intercept), note=f"{np.dtype(dtype).name} {shape}, slope {slope:g}, "
                                                           f"intercept {intercept:g}"))
    big = np.array([[32767, 30000], [0, 1]], dtype=np.int16)
    cases.append(Case((big, 1.0, -1024.0), note="int16 values near the top of the range (overflow?)"))
    # the smallest inputs and the identity rescale
    one = np.array([[int(rng.integers(0, 4096))]], dtype=np.uint16)
    cases.append(Case((one, 1.0, -1024.0), note="a single pixel (1, 1)"))
    cases.append(Case((np.array([int(rng.integers(-1024, 3000))], dtype=np.int32), 1.0, 0.0),
                      note="one int32 value, slope 1, intercept 0: HU stored as they are"))
    cases.append(Case((np.zeros((1, 1, 1), dtype=np.int16), 1.0, -1024.0), note="a volume of one voxel (1, 1, 1)"))
    return cases


def _rescale_no_intercept(pixels, slope, intercept):  # noqa: ANN001, ANN202
    return (pixels.astype(np.float32) * slope).astype(np.float32)


def _rescale_reversed(pixels, slope, intercept):  # noqa: ANN001, ANN202
    return ((pixels.astype(np.float64) + intercept) * slope).astype(np.float32)


def _rescale_float64(pixels, slope, intercept):  # noqa: ANN001, ANN202
    return pixels.astype(np.float64) * slope + intercept


# --- apply_window / clip_window -----------------------------------------------------------------------
_PRESETS = [(-600.0, 1500.0), (50.0, 350.0), (50.0, 400.0), (30.0, 150.0), (400.0, 1800.0), (40.0, 80.0)]


def _window_cases(rng: np.random.Generator, *, narrow_raises: bool) -> list[Case]:
    cases = []
    for center, width in [_PRESETS[i] for i in rng.choice(len(_PRESETS), size=4, replace=False)]:
        shape = tuple(int(s) for s in rng.integers(4, 20, size=2))
        cases.append(Case((_hu_image(rng, shape), center, width), note=f"window L{center:g}/W{width:g} on {shape}"))
    edges = np.array([-1000, 9.5, 10, 10.5, 49.5, 50, 50.5, 89.5, 90, 90.5, 3000], dtype=np.float32)
    cases.append(Case((edges, 50.0, 80.0), note="values at the window's edges"))
    cases.append(Case((_hu_image(rng, (3, 5, 7)), 40.0, 80.0), note="a volume (D, H, W)"))
    if narrow_raises:
        cases.append(Case((edges, 50.0, 0.5), raises=ValueError, note="width < 1"))
    else:
        cases.append(Case((edges, 50.0, 0.0), raises=ValueError, note="width 0"))
    # the minimum legal widths, the smallest images, and a width that is not a number
    c = float(rng.integers(-100, 100)) + 0.5 * int(rng.integers(2))
    steps = np.array([c - 1, c - 0.5, c - 0.25, c, c + 0.25, c + 0.5, c + 1], dtype=np.float32)
    if narrow_raises:
        cases.append(Case((steps, c, 1.0), note=f"width 1, the minimum: a step at center {c:g}"))
        cases.append(Case((steps, c, 2.0), note=f"width 2 at center {c:g}"))
    else:
        cases.append(Case((steps, c, 0.5), note=f"width 0.5, below 1 HU: legal here (center {c:g})"))
        cases.append(Case((steps, c, 1.0), note=f"width 1 at center {c:g}"))
    cases.append(Case((np.array([[float(rng.uniform(-200, 200))]], dtype=np.float32), 40.0, 80.0),
                      note="a single pixel (1, 1)"))
    cases.append(Case((edges, 50.0, float("nan")), raises=ValueError, note="width NaN"))
    cases.append(Case((edges, 50.0, -80.0), raises=ValueError, note="a negative width"))
    return cases


def _apply_window_cases(rng: np.random.Generator) -> list[Case]:
    return _window_cases(rng, narrow_raises=True)


def _clip_window_cases(rng: np.random.Generator) -> list[Case]:
    return _window_cases(rng, narrow_raises=False)


def _simple_window(hu, center, width):  # noqa: ANN001, ANN202
    lo = center - width / 2
    return ((np.clip(hu.astype(np.float64), lo, lo + width) - lo) / width).astype(np.float32)


def _dicom_window(hu, center, width):  # noqa: ANN001, ANN202
    x = hu.astype(np.float64)
    y = np.clip((x - (center - 0.5)) / (width - 1) + 0.5, 0, 1)
    y[x <= center - 0.5 - (width - 1) / 2] = 0
    y[x > center - 0.5 + (width - 1) / 2] = 1
    return y.astype(np.float32)


def _window_swapped(hu, center, width):  # noqa: ANN001, ANN202
    return _simple_window(hu, width, center)


def _window_no_clip(hu, center, width):  # noqa: ANN001, ANN202
    return ((hu.astype(np.float64) - (center - width / 2)) / width).astype(np.float32)


def _window_full_width(hu, center, width):  # noqa: ANN001, ANN202
    lo, hi = center - width, center + width
    return ((np.clip(hu.astype(np.float64), lo, hi) - lo) / (hi - lo)).astype(np.float32)


def _dicom_window_unchecked(hu, center, width):  # noqa: ANN001, ANN202
    """The DICOM formula, right for every legal width, but never raising."""
    x = np.asarray(hu, dtype=np.float64)
    c, w = center - 0.5, width - 1.0
    below, above = x <= c - w / 2, x > c + w / 2
    out = np.where(above, 1.0, 0.0)
    between = ~below & ~above
    out[between] = (x[between] - c) / w + 0.5
    return out.astype(np.float32)


def _dicom_window_nan_passes(hu, center, width):  # noqa: ANN001, ANN202
    """`not finite and width < 1` instead of `or`: NaN (and nothing else) gets through."""
    if np.isfinite(width) and width < 1:
        raise ValueError("width < 1")
    return _dicom_window_unchecked(hu, center, width)


def _simple_window_nan_passes(hu, center, width):  # noqa: ANN001, ANN202
    if np.isfinite(width) and width <= 0:
        raise ValueError("width <= 0")
    return _simple_window(np.asarray(hu), center, width)


# --- naive_png_normalize --------------------------------------------------------------------------------
def _png_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_hu_image(rng, (8, 9)),), note="an 8 x 9 slice"), Case((_hu_image(rng, (2, 5, 6)),), note="a volume"),
             Case((np.full((4, 4), 40.0, dtype=np.float32),), note="a constant image")]
    small = np.array([[-1000.0, 0.0], [40.0, 3000.0]], dtype=np.float32)
    cases.append(Case((small,), note="air, water, soft tissue, metal"))
    # the smallest images, and images with no min..max
    cases.append(Case((np.array([float(rng.uniform(-1000, 1000))], dtype=np.float32),), note="a single pixel"))
    lo = float(rng.integers(-1000, 0))
    cases.append(Case((np.array([lo, lo + 1.0]),), note="two pixels 1 HU apart: 0 and 255"))
    cases.append(Case((np.zeros((0, 4), dtype=np.float32),), raises=ValueError, note="an empty image (0, 4)"))
    with_nan = _hu_image(rng, (3, 4))
    with_nan[1, 2] = np.nan
    cases.append(Case((with_nan,), raises=ValueError, note="an image holding NaN"))
    return cases


def _png_truncate(hu):  # noqa: ANN001, ANN202
    x = hu.astype(np.float64)
    span = x.max() - x.min()
    return ((x - x.min()) / (span if span else 1) * 255).astype(np.uint8)


def _png_float(hu):  # noqa: ANN001, ANN202
    x = hu.astype(np.float64)
    span = x.max() - x.min()
    return np.round((x - x.min()) / (span if span else 1) * 255).astype(np.float32)


def _png_clip_uint8(hu):  # noqa: ANN001, ANN202
    return np.clip(hu, 0, 255).astype(np.uint8)


def _png_nan_passes(hu):  # noqa: ANN001, ANN202
    """`size == 0 and not finite` instead of `or`: an image holding NaN is scaled anyway."""
    x = np.asarray(hu, dtype=np.float64)
    if x.size == 0 and not np.isfinite(x).all():
        raise ValueError("empty")
    lo, hi = np.nanmin(x), np.nanmax(x)
    return np.round(np.nan_to_num((x - lo) / (hi - lo) * 255.0)).astype(np.uint8)


# --- slice_normal / sort_slices -------------------------------------------------------------------------
def _orientation(rng: np.random.Generator) -> np.ndarray:
    """A random ImageOrientationPatient: two orthonormal direction cosines (row, column), 6 values."""
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return np.concatenate([q[:, 0], q[:, 1]]).astype(np.float64)


def _normal_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((np.array([1.0, 0, 0, 0, 1, 0]),), note="axial"),
             Case((np.array([1.0, 0, 0, 0, 0, -1]),), note="coronal"),
             Case((np.array([0.0, 1, 0, 0, 0, -1]),), note="sagittal")]
    cases += [Case((_orientation(rng),), note="oblique") for _ in range(3)]
    cases.append(Case((np.zeros(5),), raises=ValueError, note="5 values are not an orientation"))
    cases.append(Case((tuple(float(v) for v in _orientation(rng)),), note="a tuple of 6 floats, as pydicom gives"))
    cases.append(Case((_orientation(rng).reshape(2, 3),), raises=ValueError,
                      note="a (2, 3) array: 6 values, but not the flat (6,) the attribute holds"))
    cases.append(Case((np.zeros(7),), raises=ValueError, note="7 values"))
    return cases


def _normal_reversed(image_orientation):  # noqa: ANN001, ANN202
    iop = np.asarray(image_orientation, dtype=np.float64)
    return np.cross(iop[3:], iop[:3])


def _normal_wrong_split(image_orientation):  # noqa: ANN001, ANN202
    iop = np.asarray(image_orientation, dtype=np.float64)
    return np.cross(iop[0::2][:3], iop[1::2][:3])


def _normal_flattens(image_orientation):  # noqa: ANN001, ANN202
    """Checks the number of values, not the shape: a (2, 3) array gets through."""
    iop = np.asarray(image_orientation, dtype=np.float64).ravel()
    if iop.size != 6:
        raise ValueError("not 6 values")
    return np.cross(iop[:3], iop[3:])


def _sort_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    fixed = {"axial": np.array([1.0, 0, 0, 0, 1, 0]), "coronal": np.array([1.0, 0, 0, 0, 0, -1]),
             "sagittal": np.array([0.0, 1, 0, 0, 0, -1])}
    for kind in ("axial", "coronal", "oblique", "sagittal", "oblique"):
        iop = fixed[kind] if kind in fixed else _orientation(rng)
        normal = np.cross(iop[:3], iop[3:])
        d = int(rng.integers(3, 14))
        spacing = float(rng.choice([0.625, 1.25, 2.5, 5.0]))
        origin = rng.uniform(-200, 200, size=3)
        positions = origin + np.arange(d)[:, None] * spacing * normal
        order = rng.permutation(d)
        cases.append(Case((positions[order], iop), note=f"{d} {kind} slices in shuffled order"))
    iop = _orientation(rng)
    normal = np.cross(iop[:3], iop[3:])
    pos = np.arange(6)[:, None] * 2.0 * normal + np.array([0.0, 0.0, 100.0])
    cases.append(Case((pos[::-1].copy(), iop), note="oblique slices in reverse order"))
    # the smallest series, and positions of the wrong shape
    cases.append(Case((rng.uniform(-200, 200, size=(1, 3)), fixed["axial"]), note="a single slice (D = 1)"))
    two = np.array([[0.0, 0.0, 5.0], [0.0, 0.0, 2.5]]) + rng.uniform(-50, 50, size=3)
    cases.append(Case((two, fixed["axial"]), note="two axial slices, the upper one first"))
    cases.append(Case((rng.uniform(-200, 200, size=3), fixed["axial"]), raises=ValueError,
                      note="one position (3,) instead of (D, 3)"))
    cases.append(Case((rng.uniform(-200, 200, size=(4, 2)), fixed["axial"]), raises=ValueError,
                      note="positions (4, 2): x and y only"))
    cases.append(Case((rng.uniform(-200, 200, size=(2, 4, 3)), fixed["axial"]), raises=ValueError,
                      note="positions (2, 4, 3): a 3-D array"))
    return cases


def _sort_by_z(positions, image_orientation):  # noqa: ANN001, ANN202
    return np.argsort(np.asarray(positions)[:, 2], kind="stable")


def _sort_descending(positions, image_orientation):  # noqa: ANN001, ANN202
    iop = np.asarray(image_orientation, dtype=np.float64)
    return np.argsort(-(np.asarray(positions) @ np.cross(iop[:3], iop[3:])), kind="stable")


def _sort_unchecked(positions, image_orientation):  # noqa: ANN001, ANN202
    """Right for (D, 3), but the shape check joined with `and`: (3,) and (2, 4, 3) get through."""
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 2 and positions.shape[-1] != 3:
        raise ValueError("positions must be (D, 3)")
    iop = np.asarray(image_orientation, dtype=np.float64)
    return np.argsort(positions @ np.cross(iop[:3], iop[3:]), kind="stable").astype(np.int64)


EXERCISES = [
    _ex("rescale_to_hu", "course.medical.hounsfield", _rescale_cases, [
        Misconception("no_intercept", "the RescaleIntercept was not added: HU = pixels * slope + intercept",
                      _rescale_no_intercept),
        Misconception("reversed", "the intercept was added before multiplying by the slope", _rescale_reversed),
        Misconception("float64", "return float32 (cast once at the end)", _rescale_float64),
    ]),
    _ex("apply_window", "course.medical.hounsfield", _apply_window_cases, [
        Misconception("nan_passes", "a NaN width must raise ValueError too: `not finite or width < 1` "
                      "(with `and`, NaN gets through)", _dicom_window_nan_passes),
        Misconception("unchecked", "a width below 1 HU must raise ValueError: the standard's LINEAR window "
                      "needs width >= 1 (width 1 itself is legal: a step)", _dicom_window_unchecked),
        Misconception("simple", "that is the simple clip-and-rescale window; DICOM's LINEAR function uses "
                      "c - 0.5 and w - 1 (PS3.3 C.11.2.1.2.1)", _simple_window),
        Misconception("swapped", "center and width are swapped", _window_swapped),
        Misconception("no_clip", "values outside the window must be clipped to 0 and 1", _window_no_clip),
    ], atol=1e-5),
    _ex("clip_window", "course.medical.hounsfield", _clip_window_cases, [
        Misconception("nan_passes", "a NaN width must raise ValueError too: `not finite or width <= 0` "
                      "(with `and`, NaN gets through)", _simple_window_nan_passes),
        Misconception("dicom", "that is DICOM's LINEAR function; here the window is exactly center ± width/2",
                      _dicom_window),
        Misconception("no_clip", "values outside the window must be clipped to 0 and 1", _window_no_clip),
        Misconception("full_width", "the window reaches width/2 (not width) on each side of the center",
                      _window_full_width),
        Misconception("swapped", "center and width are swapped", _window_swapped),
    ], atol=1e-5),
    _ex("naive_png_normalize", "course.medical.hounsfield", _png_cases, [
        Misconception("nan_passes", "an image holding NaN (or an empty one) has no min..max: raise ValueError "
                      "when `x.size == 0 or not np.isfinite(x).all()`", _png_nan_passes),
        Misconception("truncate", "astype(np.uint8) truncates; round to the nearest grey level first", _png_truncate),
        Misconception("float", "return uint8 grey levels (0..255), as a PNG stores them", _png_float),
        Misconception("clip", "HU were clipped into 0..255 instead of min-max scaled", _png_clip_uint8),
    ]),
    _ex("slice_normal", "course.medical.dicom", _normal_cases, [
        Misconception("flattens", "check the shape, (6,), not just the number of values: a (2, 3) array is "
                      "not an ImageOrientationPatient", _normal_flattens),
        Misconception("reversed", "cross(column, row) points the other way: the normal is cross(row, column)",
                      _normal_reversed),
        Misconception("split", "ImageOrientationPatient is (row x, row y, row z, column x, column y, column z)",
                      _normal_wrong_split),
    ], atol=1e-9),
    _ex("sort_slices", "course.medical.dicom", _sort_cases, [
        Misconception("unchecked", "positions must be (D, 3): raise ValueError when `positions.ndim != 2 or "
                      "positions.shape[1] != 3`", _sort_unchecked),
        Misconception("z", "sorting by the z coordinate only works for axial slices; project each position on "
                      "the slice normal", _sort_by_z),
        Misconception("descending", "the order is reversed: sort by increasing position along the normal",
                      _sort_descending),
    ]),
]
