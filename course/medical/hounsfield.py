"""Hounsfield units and display windows: from stored CT pixel values to grey levels on a screen.

Lesson 09_ct_hounsfield.

Two look-up steps of the DICOM grayscale pipeline (DICOM PS3.3 C.11), both linear for CT:

1. the **Modality LUT** turns stored values into Hounsfield units (HU), a physical scale in which
   water is 0 HU and air is -1000 HU: ``hu = pixels * RescaleSlope + RescaleIntercept``
   (PS3.3 C.11.1.1.2) -> :func:`rescale_to_hu`;
2. the **VOI LUT** (a display *window*, given by its ``window_center`` and ``window_width`` in HU)
   picks the HU range a person wants to see and stretches it over the grey levels
   (PS3.3 C.11.2.1.2.1) -> :func:`apply_window` (the standard's exact formula) and
   :func:`clip_window` (the simple version most code uses; they differ by at most 1/width).

Also here: the usual window presets (:data:`WINDOW_PRESETS`), typical HU of tissues
(:data:`TISSUE_HU`), and :func:`naive_png_normalize`, the per-image min-max scaling that
"save it as a PNG" does and that destroys the HU scale.

All functions take numpy arrays of any shape, e.g. a slice (H, W) or a volume (D, H, W), and return
float32 arrays of the same shape (uint8 for :func:`naive_png_normalize`).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "rescale_to_hu",
    "apply_window",
    "clip_window",
    "WINDOW_PRESETS",
    "window_preset",
    "naive_png_normalize",
    "TISSUE_HU",
]

#: Common CT display windows, name -> (window_center, window_width) in HU. Values as used in
#: radiology practice (e.g. the window settings tabulated on Radiopaedia, "Windowing (CT)");
#: scanners and sites vary by a few tens of HU.
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "abdomen": (50.0, 400.0),
    "liver": (30.0, 150.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
}

#: Typical HU ranges of tissues at 120 kVp, name -> (low, high) in HU. Air (-1000) and water (0) are
#: the two points that define the scale, so their "range" is a single value. Soft tissues follow the
#: tissue scale in W. A. Kalender, *Computed Tomography: Fundamentals, System Technology, Image
#: Quality, Applications*, 3rd ed., Publicis, 2011 (chapter 1), and T. M. Buzug, *Computed
#: Tomography*, Springer, 2008. Bone follows clinical measurements rather than textbook round
#: numbers: the trabecular (cancellous) bone of an adult vertebral body reads about 100..300 HU
#: (P. J. Pickhardt et al., "Opportunistic screening for osteoporosis using abdominal CT scans",
#: *Ann. Intern. Med.* 158 (2013) 588-595: L1 trabecular attenuation of healthy adults ~150..250 HU,
#: osteoporotic below ~100..160 HU), cortical bone about 500..1900 HU (Radiopaedia, "Hounsfield
#: unit"). Iodine contrast lifts blood far above its unenhanced 30..45 HU: the aorta of a CT
#: angiogram in its arterial phase reads about 250..350 HU (often quoted as the target for a
#: diagnostic CTA), a portal-venous phase about 150..200 HU. Values in other texts differ by a few
#: tens of HU; tables hold for unenhanced tissue unless the name says otherwise.
TISSUE_HU: dict[str, tuple[float, float]] = {
    "air": (-1000.0, -1000.0),
    "lung": (-900.0, -500.0),
    "fat": (-120.0, -60.0),
    "water": (0.0, 0.0),
    "soft_tissue": (20.0, 80.0),
    "blood": (30.0, 45.0),  # unclotted, unenhanced; a fresh clot reads 50..75 HU
    "liver": (40.0, 60.0),  # without contrast agent
    "blood_arterial_contrast": (250.0, 350.0),  # aorta in the arterial phase of a CT angiogram
    "cancellous_bone": (100.0, 300.0),  # trabecular bone of a vertebral body, adult
    "cortical_bone": (500.0, 1900.0),  # dense cortex reaches ~1900 HU
}


def rescale_to_hu(pixels: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """Convert stored CT pixel values to Hounsfield units with the linear Modality LUT.

    ``hu = pixels * slope + intercept`` (DICOM PS3.3 C.11.1.1.2, attributes RescaleSlope (0028,1053)
    and RescaleIntercept (0028,1052)). Most CT scanners store ``hu + 1024`` with slope 1 and
    intercept -1024.

    Args:
        pixels: stored values, any shape (e.g. (H, W) or (D, H, W)), any integer or float dtype.
        slope: RescaleSlope, HU per stored unit.
        intercept: RescaleIntercept, HU.

    Returns:
        HU, same shape as ``pixels``, float32. The arithmetic is done in float64 (an int16 input
        would otherwise overflow) and rounded once to float32.
    """
    return (np.asarray(pixels, dtype=np.float64) * slope + intercept).astype(np.float32)


def apply_window(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map HU to [0, 1] with the DICOM linear VOI LUT function (the standard's exact formula).

    DICOM PS3.3 C.11.2.1.2.1 (VOI LUT Function "LINEAR", output range [0, 1]), with c = center and
    w = width::

        x <= c - 0.5 - (w - 1) / 2  ->  0
        x >  c - 0.5 + (w - 1) / 2  ->  1
        otherwise                   ->  (x - (c - 0.5)) / (w - 1) + 0.5

    The half-unit shifts make the window cover exactly ``w`` integer input values. Compare
    :func:`clip_window`, the simple ``c ± w/2`` version most code uses: the two differ by at most
    ``1 / w`` (e.g. 0.0025 for a 400 HU window, below one 8-bit grey level for w > 255).
    pydicom's ``apply_windowing`` computes the same function but maps to the stored-value range
    instead of [0, 1].

    Args:
        hu: Hounsfield units, any shape, any real dtype.
        center: window_center (WindowCenter (0028,1050)), HU.
        width: window_width (WindowWidth (0028,1051)), HU; at least 1.

    Returns:
        Grey levels in [0, 1], same shape as ``hu``, float32 (computed in float64).

    Raises:
        ValueError: ``width`` is not finite (NaN, inf) or ``width < 1`` (the standard requires
            width >= 1 for LINEAR; use :func:`clip_window` for narrower windows). Width 1, the
            minimum, is a step at the center.
    """
    if not np.isfinite(width) or width < 1:
        raise ValueError(f"window width {width} is not a finite number >= 1: the DICOM LINEAR window "
                         "needs width >= 1 HU (PS3.3 C.11.2.1.2.1); use clip_window for a narrower window")
    # 1. the standard's shifted center and width
    x = np.asarray(hu, dtype=np.float64)
    c, w = center - 0.5, width - 1.0
    # 2. the three cases
    below = x <= c - w / 2
    above = x > c + w / 2
    between = ~below & ~above  # empty when w == 0, so no division by zero
    out = np.zeros_like(x)
    out[above] = 1.0
    out[between] = (x[between] - c) / w + 0.5
    return out.astype(np.float32)


def clip_window(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map HU to [0, 1] with the simple window most code uses: clip to ``center ± width/2``, rescale.

    ``lo = center - width/2``, ``hi = center + width/2``; ``(clip(hu, lo, hi) - lo) / (hi - lo)``.
    This is not the DICOM formula (see :func:`apply_window`, PS3.3 C.11.2.1.2.1) but differs from it
    by at most ``1 / width``; it is equal to the DICOM "LINEAR_EXACT" function (PS3.3 C.11.2.1.3.2).

    Args:
        hu: Hounsfield units, any shape, any real dtype.
        center: window_center, HU.
        width: window_width, HU; greater than 0 (any positive width, also below 1 HU).

    Returns:
        Grey levels in [0, 1], same shape as ``hu``, float32 (computed in float64).

    Raises:
        ValueError: ``width`` is not finite (NaN, inf) or ``width <= 0``.
    """
    if not np.isfinite(width) or width <= 0:
        raise ValueError(f"window width {width} is not a finite number > 0: a window must cover a "
                         "positive HU range")
    lo, hi = center - width / 2, center + width / 2
    x = np.clip(np.asarray(hu, dtype=np.float64), lo, hi)
    return ((x - lo) / (hi - lo)).astype(np.float32)


def window_preset(name: str) -> tuple[float, float]:
    """Look up a display window by name in :data:`WINDOW_PRESETS`.

    Args:
        name: preset name, e.g. "lung", "mediastinum", "bone" (case-insensitive).

    Returns:
        (window_center, window_width) in HU.

    Raises:
        KeyError: unknown name; the message lists the known names.
    """
    key = name.strip().lower()
    if key not in WINDOW_PRESETS:
        raise KeyError(f"unknown window preset {name!r}; known presets: {', '.join(WINDOW_PRESETS)}")
    return WINDOW_PRESETS[key]


def naive_png_normalize(hu: np.ndarray) -> np.ndarray:
    """Scale one image's own min..max to 0..255, as "save it as a PNG" does. Shown to be harmful.

    Two problems, both shown in lesson 09:

    * the mapping depends on each image's min and max, so the same tissue (say 40 HU liver) gets
      different grey values in two slices, and a network can no longer read HU from intensity;
    * 256 levels cannot hold CT's range: a slice spanning -1024..3000 HU gets one level per
      4024 / 255 ≈ 15.8 HU, so all soft tissue (20..80 HU) falls on about 4 grey levels.

    Args:
        hu: one image (or volume), any shape, HU.

    Returns:
        uint8 array, same shape: ``round((hu - min) / (max - min) * 255)``; all zeros when the
        image is constant (a single pixel, too).

    Raises:
        ValueError: the image is empty or holds NaN or inf (no min..max to scale).
    """
    x = np.asarray(hu, dtype=np.float64)
    if x.size == 0 or not np.isfinite(x).all():
        raise ValueError(f"an image of shape {x.shape} that is empty or holds NaN/inf has no min..max "
                         "to scale; pass a non-empty image of finite HU")
    lo, hi = x.min(), x.max()
    if hi == lo:
        return np.zeros(x.shape, dtype=np.uint8)
    return np.round((x - lo) / (hi - lo) * 255.0).astype(np.uint8)
