"""Tests of course.viz.medical's window explorer: it fits a 1280x800 screen, its sliders suit HU, its
preset menu says "custom" after a hand edit, and the image follows the controls (values driven from
Python, as a kernel would receive them from the browser)."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest

from course.medical.hounsfield import WINDOW_PRESETS, apply_window
from course.viz.medical import EXPLORER_CONTROLS_PX, EXPLORER_IMAGE_PX, window_explorer


def _parts(viewer: widgets.Box) -> dict[str, widgets.Widget]:
    controls, image = viewer.children
    by_name = {getattr(w, "description", ""): w for w in controls.children}
    return {"preset": by_name["preset"], "center": by_name["center"], "width": by_name["width"],
            "slice": by_name.get("slice"), "levels": controls.children[-1], "image": image}


def _px(length: str) -> int:
    assert length.endswith("px"), length
    return int(length[:-2])


@pytest.fixture
def volume() -> np.ndarray:
    return np.linspace(-1000, 1000, 3 * 17 * 19, dtype=np.float32).reshape(3, 17, 19)


def test_layout_fits_a_1280x800_screen(volume):
    """Check: controls beside the image (wrapping), image <= 512 px, sliders >= 400 px, and the two
    side by side narrower than a 1280 px screen with JupyterLab's margins."""
    viewer = window_explorer(volume)
    assert isinstance(viewer, widgets.Box) and viewer.layout.flex_flow == "row wrap"
    p = _parts(viewer)
    assert isinstance(p["image"], widgets.Image) and _px(p["image"].layout.width) == EXPLORER_IMAGE_PX <= 512
    for name in ("preset", "center", "width", "slice"):
        assert _px(p[name].layout.width) == EXPLORER_CONTROLS_PX >= 400
    assert EXPLORER_IMAGE_PX + EXPLORER_CONTROLS_PX <= 1280 - 300  # room for Lab's sidebar and margins
    assert EXPLORER_IMAGE_PX <= 800 - 250  # the image's height fits under browser and Lab toolbars


def test_sliders_suit_hounsfield_units(volume):
    """Check: center in 1 HU steps over lung..bone windows; a logarithmic width over 1..4000 HU whose
    steps are fine at narrow widths (a 40 px drag from 80 HU stays near 80 HU, not 1,371 HU)."""
    p = _parts(window_explorer(volume))
    center, width = p["center"], p["width"]
    assert isinstance(center, widgets.FloatSlider) and center.step == 1.0
    assert center.min <= -600 - 1500 / 2 + 500 and center.max >= 400 + 500  # lung .. bone centers, with room
    assert all(center.min <= c <= center.max for c, _ in WINDOW_PRESETS.values())
    assert isinstance(width, widgets.FloatLogSlider) and width.base == 10
    assert 10 ** width.min == pytest.approx(1.0) and 10 ** width.max == pytest.approx(4000.0)
    assert not center.continuous_update and not width.continuous_update
    track_px = EXPLORER_CONTROLS_PX - 120  # label and readout take ~120 px
    decades_per_px = (width.max - width.min) / track_px
    assert 80 * 10 ** (40 * decades_per_px) < 250  # a 40 px drag from 80 HU
    assert 80 * 10 ** width.step - 80 < 2  # one arrow-key step at 80 HU: under 2 HU
    width.value = 1.0  # the minimum legal width (a step function) renders
    assert p["image"].value[:8] == b"\x89PNG\r\n\x1a\n"


def test_preset_switches_to_custom_after_a_hand_edit(volume):
    """Check: choosing a preset sets both sliders (and stays chosen); editing center or width by hand
    shows "custom"; reaching a preset's values by hand shows that preset's name."""
    p = _parts(window_explorer(volume, center=40.0, width=400.0))
    assert p["preset"].value == "custom"
    p["preset"].value = "bone"
    assert (p["center"].value, p["width"].value) == WINDOW_PRESETS["bone"] and p["preset"].value == "bone"
    p["width"].value = 1000.0
    assert p["preset"].value == "custom"
    p["preset"].value = "lung"
    assert p["preset"].value == "lung"
    p["center"].value = -500.0
    assert p["preset"].value == "custom"
    p["center"].value, p["width"].value = WINDOW_PRESETS["brain"]
    assert p["preset"].value == "brain"
    assert _parts(window_explorer(volume, center=40.0, width=80.0))["preset"].value == "brain"


def test_image_follows_the_controls(volume):
    """Check: the PNG changes with preset, width and slice, each re-render shows the windowed slice,
    and the levels line states the window's black and white HU."""
    from PIL import Image as PILImage
    import io

    p = _parts(window_explorer(volume))
    seen = {p["image"].value}
    for change in (lambda: setattr(p["preset"], "value", "lung"), lambda: setattr(p["width"], "value", 50.0),
                   lambda: setattr(p["slice"], "value", 0)):
        change()
        assert p["image"].value not in seen
        seen.add(p["image"].value)
    shown = np.asarray(PILImage.open(io.BytesIO(p["image"].value)).convert("L"), dtype=np.float64) / 255
    factor = shown.shape[0] // 17
    expected = apply_window(volume[0], p["center"].value, 50.0)
    np.testing.assert_allclose(shown[::factor, ::factor], expected, atol=2 / 255)  # the colormap quantizes to 256 levels
    assert p["levels"].value == f"black below {-600 - 25:.0f} HU, white above {-600 + 25:.0f} HU"


def test_small_images_are_enlarged_with_sharp_pixels_and_single_slices_have_no_slice_slider(volume):
    """Check: a 17x19 slice is sent enlarged by whole pixels (at least the display width); a single
    slice has no slice slider."""
    from PIL import Image as PILImage
    import io

    p = _parts(window_explorer(volume[0]))
    assert p["slice"] is None
    w, h = PILImage.open(io.BytesIO(p["image"].value)).size
    assert w >= EXPLORER_IMAGE_PX and w % 19 == 0 and h % 17 == 0


@pytest.mark.parametrize("hu, kwargs", [(np.zeros(5), {}), (np.zeros((2, 3, 4, 5)), {}),
                                        (np.zeros((4, 4)), {"width": 0.5}), (np.zeros((4, 4)), {"width": 5000.0})])
def test_bad_input(hu, kwargs):
    """Check ValueError for 1D and 4D input and a width outside 1..4000 HU."""
    with pytest.raises(ValueError):
        window_explorer(hu, **kwargs)


# --- display conventions ---------------------------------------------------------------------------


@pytest.mark.parametrize("columns_toward, rows_toward, convention, flip_lr, flip_ud", [
    ("L", "P", "radiological", False, False),  # DICOM LPS axial: already radiological
    ("L", "P", "neurological", True, False),
    ("R", "A", "radiological", True, True),  # RAS-canonical NIfTI slice data[:, :, k].T
    ("R", "A", "neurological", False, True),
    ("R", "P", "neurological", False, False),
])
def test_axial_for_display_flips(columns_toward, rows_toward, convention, flip_lr, flip_ud):
    """Check which axes each combination flips."""
    from course.viz.medical import axial_for_display

    image = np.arange(12).reshape(3, 4)
    expected = image[::-1 if flip_ud else 1, ::-1 if flip_lr else 1]
    np.testing.assert_array_equal(axial_for_display(image, columns_toward=columns_toward, rows_toward=rows_toward,
                                                    convention=convention), expected)


def test_axial_for_display_puts_the_phantoms_heart_on_the_correct_side():
    """Check on the phantom (heart on the patient's left): image right in radiological display, image
    left in neurological, anterior (upper half) in both."""
    from course.data.phantom import PHANTOM_TISSUES, ct_phantom_labels
    from course.viz.medical import axial_for_display

    labels = ct_phantom_labels((24, 64, 64))[10]  # LPS: columns toward L, rows toward P
    heart = PHANTOM_TISSUES["heart"][0]
    for convention, right_side in (("radiological", True), ("neurological", False)):
        shown = axial_for_display(labels, convention=convention)
        rows, cols = np.nonzero(shown == heart)
        assert (cols.mean() > 31.5) == right_side and rows.mean() < 31.5


@pytest.mark.parametrize("image, kwargs", [(np.zeros((2, 3, 4)), {}), (np.zeros((3, 4)), {"columns_toward": "A"}),
                                           (np.zeros((3, 4)), {"rows_toward": "L"}),
                                           (np.zeros((3, 4)), {"convention": "surgical"})])
def test_axial_for_display_bad_input(image, kwargs):
    """Check ValueError for a volume, wrong direction letters and an unknown convention."""
    from course.viz.medical import axial_for_display

    with pytest.raises(ValueError):
        axial_for_display(image, **kwargs)
