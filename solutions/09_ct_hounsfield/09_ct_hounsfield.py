# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 09 — CT in Hounsfield units: DICOM slices, display windows, slice order
#
# A CT scanner measures how strongly each voxel attenuates X-rays, and calibrates that measurement
# to a physical scale, the **Hounsfield unit** (HU): water is 0 HU, air is −1000 HU, on every
# scanner. That calibration is what makes CT special among images: a number means a tissue. A
# DICOM file does not store HU, though: it stores integers plus the two numbers that turn them into
# HU. On the way to a screen, or to a neural network, the HU pass through a *display window*; and a
# CT volume is not one file but a folder of slices whose order you must work out yourself.
#
# The claim this lesson shows with numbers: **the same slice looks completely different through
# lung, soft-tissue and bone windows, and the "save it as a PNG" normalization destroys HU** — the
# same tissue gets different grey values in different slices.
#
# **Learning objectives.** After this lesson you can
#
# 1. convert stored pixel values to HU with RescaleSlope and RescaleIntercept (DICOM PS3.3
#    C.11.1.1.2), without integer overflow, and check your result against pydicom;
# 2. read typical tissue values in HU and measure them in a real CT slice;
# 3. apply a display window (center, width) with the DICOM LINEAR formula (PS3.3 C.11.2.1.2.1) and
#    with the simple clip-and-rescale version, and bound their difference;
# 4. explain, with measured grey values, why per-image min–max normalization to 8 bits loses HU;
# 5. order the slices of a series by their position along the slice normal (PS3.3 C.7.6.2.1.1),
#    not by file name, InstanceNumber or SliceLocation, and load a series as a volume with spacing
#    and affine;
# 6. name the radiological and the neurological display convention, and show a slice in either;
# 7. recognise a missing slice from the loader's error, and a lossy copy from its header.
#
# Data: two real CT slices that installed packages ship (`CT_small.dcm` from pydicom, a chest slice
# through the spine; `693_UNCI.dcm` from pydicom-data, a head slice), and a synthetic CT phantom that
# we write as a real DICOM series. Nothing is downloaded; everything written goes to a temporary
# folder.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from typing import Sequence

import numpy as np
import matplotlib.pyplot as plt

from autograder import check

# %% [markdown]
# ## 1. From stored values to Hounsfield units
#
# ### Concept
#
# With μ the linear attenuation coefficient of a voxel, the Hounsfield scale is
#
# $$\mathrm{HU} = 1000 \cdot \frac{\mu - \mu_\text{water}}{\mu_\text{water} - \mu_\text{air}},$$
#
# so water is 0 HU and air −1000 HU by definition. A CT file stores integers instead (12 to 16 bits;
# many scanners store HU + 1024, so that air is not negative). The **Modality LUT** of the DICOM
# grayscale pipeline turns them into HU; for CT it is linear (PS3.3 C.11.1.1.2):
#
# $$\mathrm{hu} = \text{pixels} \times \text{RescaleSlope (0028,1053)} + \text{RescaleIntercept (0028,1052)}.$$
#
# Mistakes the check below recognises:
#
# * **forgetting the intercept** — a min–max display still looks right, but every value is off
#   (typically by 1024 HU);
# * **adding the intercept before multiplying by the slope** — the same when the slope is 1, wrong
#   for any other slope;
# * **integer arithmetic** — stored values are `int16` or `uint16`; `pixels - 1024` on `uint16`
#   wraps around below zero, and large products overflow. Compute in `float64` and cast once, at the
#   end, to `float32` (HU need no more precision, and volumes get large).
#
# ### Implement

# %% nbgrader={"grade": false, "grade_id": "rescale_to_hu", "locked": false, "schema_version": 3, "solution": true}
def rescale_to_hu(pixels: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """Convert stored CT pixel values to Hounsfield units (DICOM PS3.3 C.11.1.1.2).

    Args:
        pixels: stored values, any shape ((H, W) slice or (D, H, W) volume), any integer or float dtype.
        slope: RescaleSlope, HU per stored unit.
        intercept: RescaleIntercept, HU.

    Returns:
        ``pixels * slope + intercept``: HU, same shape as ``pixels``, float32 (compute in float64,
        cast once at the end).
    """
    ### BEGIN SOLUTION
    return (np.asarray(pixels, dtype=np.float64) * slope + intercept).astype(np.float32)
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_rescale_to_hu", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that rescale_to_hu multiplies by the slope, then adds the intercept, and returns float32 HU."""
check(rescale_to_hu)

# %% [markdown]
# ### Use: two real CT slices
#
# From here on we use the reference library `course` (the same functions as yours, tested), so
# that a bug in an exercise does not spread to the rest of the lesson. We read each file with
# pydicom, convert the stored values with `rescale_to_hu`, and compare with pydicom's own Modality
# LUT, `pydicom.pixels.apply_modality_lut`, an independent implementation.

# %%
import pydicom
from pydicom.pixels import apply_modality_lut

import course.medical as med
from course.data import ct_small_path, unci_693_path
from course.report import result

datasets, stored, hu = {}, {}, {}  # by file name: the pydicom Dataset, stored values (H, W), HU (H, W)
for path in (ct_small_path(), unci_693_path()):
    name = path.name
    datasets[name] = ds = pydicom.dcmread(path)
    stored[name] = ds.pixel_array  # (H, W) integers, as written by the scanner
    hu[name] = med.rescale_to_hu(stored[name], float(ds.RescaleSlope), float(ds.RescaleIntercept))
    theirs = apply_modality_lut(stored[name], ds)  # pydicom, float64
    print(f"{name}: {ds.Rows}x{ds.Columns}, pixel spacing {float(ds.PixelSpacing[0]):.3f} mm, "
          f"slice thickness {float(ds.SliceThickness):g} mm, {float(ds.KVP):g} kVp, "
          f"ImageType {'/'.join(v.strip() for v in ds.ImageType)}, "
          f"contrast agent: {ds.get('ContrastBolusAgent') or 'none recorded'}")
    print(f"  stored {stored[name].dtype} {stored[name].min()}..{stored[name].max()}  "
          f"x RescaleSlope {float(ds.RescaleSlope):g} + RescaleIntercept {float(ds.RescaleIntercept):g}"
          f"  ->  {hu[name].dtype} {hu[name].min():.0f}..{hu[name].max():.0f} HU")
    worst = np.abs(hu[name] - theirs).max()
    print(f"  max |ours - pydicom| = {worst:g} HU: {'identical' if worst == 0 else 'they differ'}")
small, unci = hu["CT_small.dcm"], hu["693_UNCI.dcm"]

# %% [markdown]
# Both files store HU + 1024 (slope 1, intercept −1024), the most common convention, so the raw
# image and the HU image *look* the same once a viewer stretches each to black..white — which is
# exactly why a forgotten intercept goes unnoticed. The numbers differ, and the histogram in HU is
# where tissues become recognisable: peaks sit where the table of tissue values below puts them.
#
# Note the values far below air in the head slice. Outside the circle that the scanner reconstructs
# (its ReconstructionDiameter) nothing was measured, and the scanner writes a fill value there: the
# header names it, **PixelPaddingValue** (0028,0120), a *stored* value (PS3.3 C.7.5.1.1.2), which
# becomes HU through the same rescale; a **PixelPaddingRangeLimit** (0028,0121) would make it a
# range. Below, the tags and the pixels outside the circle: does the fill equal the padding value?

# %%
ds = datasets["693_UNCI.dcm"]
raw = stored["693_UNCI.dcm"].astype(np.int64)  # (H, W) stored values
slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
for keyword in ("PixelPaddingValue", "PixelPaddingRangeLimit", "RescaleSlope", "RescaleIntercept", "BitsStored",
                "PixelRepresentation", "ReconstructionDiameter", "ImageType", "DerivationDescription",
                "LossyImageCompression", "LossyImageCompressionRatio", "LossyImageCompressionMethod"):
    value = ds.get(keyword, "(absent)")
    print(f"  {keyword:28s} {'/'.join(v.strip() for v in value) if keyword == 'ImageType' else value}")
padding = int(ds.PixelPaddingValue)
rows, cols = np.indices(raw.shape)
radius_px = np.hypot(rows - (raw.shape[0] - 1) / 2, cols - (raw.shape[1] - 1) / 2)
outside = radius_px > raw.shape[0] / 2  # (H, W) outside the inscribed circle: nothing measured there
values, counts = np.unique(raw[outside], return_counts=True)
mode = int(values[counts.argmax()])
print(f"PixelPaddingValue {padding} stored -> {padding * slope + intercept:.0f} HU")
print(f"outside the circle: {outside.sum()} pixels; stored values {raw[outside].min()}..{raw[outside].max()}, "
      f"median {np.median(raw[outside]):.0f}, most common {mode} -> {mode * slope + intercept:.0f} HU")
exact = result("09.padding_exact_frac", np.mean(raw[outside] == padding), tol=0.0,
               label="fraction of the pixels outside the circle that equal PixelPaddingValue", fmt="{:.2%}")
below_air = result("09.padding_below_air_frac", np.mean(unci[outside] < -1024), tol=0.0,
                   label="fraction of the pixels outside the circle below -1024 HU", fmt="{:.2%}")
if ds.get("LossyImageCompression") == "01" and exact < 0.5:
    print(f"Verdict: the scanner wrote {padding} outside the circle, but this file is a lossy copy: "
          f"'{ds.DerivationDescription}', {ds.LossyImageCompressionMethod} "
          f"({ {'ISO_10918_1': 'JPEG', 'ISO_14495_1': 'JPEG-LS', 'ISO_15444_1': 'JPEG 2000'}.get(ds.LossyImageCompressionMethod, 'lossy')}) at "
          f"{float(ds.LossyImageCompressionRatio):.0f}:1, then decompressed. The compression smeared the fill "
          f"into a spread of values around {mode}; only {exact:.2%} of the outside pixels still equal "
          f"PixelPaddingValue. So `stored == PixelPaddingValue` misses almost all of the fill, while "
          f"`HU < -1024` (below air, which no tissue is) catches {below_air:.1%} of it.")
else:
    print(f"Verdict: {exact:.1%} of the outside pixels equal PixelPaddingValue; mask them with it.")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained")
bins = np.arange(-3100, 2000, 10)  # 10 HU bins
for ax, (name, image) in zip(axes, hu.items()):
    counts, _ = np.histogram(image, bins=bins)  # (len(bins) - 1,) pixels per bin
    ax.stairs(counts, bins, color="k", fill=True)  # one polygon: far faster than ax.hist's bars
    ax.set_yscale("log")
    for i, (tissue, (lo, hi)) in enumerate(med.TISSUE_HU.items()):
        ax.axvspan(lo - 5, hi + 5, color=f"C{i}", alpha=0.35, label=f"{tissue} {lo:g}..{hi:g}")
    ax.set(title=f"{name}: histogram of HU", xlabel="HU", ylabel="pixels (log)")
axes[1].legend(fontsize=7, loc="upper left", title="TISSUE_HU", title_fontsize=8)
plt.show()

# %% [markdown]
# ### Use: typical tissue values, measured
#
# `course.medical.TISSUE_HU` lists typical ranges: soft tissues after Kalender (2011) and Buzug
# (2008), bone as measured in patients (trabecular bone of vertebral bodies after Pickhardt et al.
# 2013, cortex after Radiopaedia), and blood with iodine contrast in the arterial phase of a CT
# angiogram; its docstring gives the sources. We measure the mean and standard deviation of a few
# hand-placed boxes in the two real slices, and the code says for each box whether its mean lies
# inside the table's range. The standard deviation is the scanner's noise plus the texture of the
# tissue.

# %%
regions = [  # (file, label, row slice, column slice, TISSUE_HU key to compare with)
    ("CT_small.dcm", "lung", slice(4, 28), slice(2, 14), "lung"),
    ("CT_small.dcm", "subcutaneous fat", slice(116, 126), slice(10, 40), "fat"),
    ("CT_small.dcm", "back muscle", slice(82, 94), slice(16, 36), "soft_tissue"),
    ("CT_small.dcm", "aorta (with contrast)", slice(2, 14), slice(90, 104), "blood"),
    ("CT_small.dcm", "vertebral body", slice(14, 30), slice(52, 68), "cancellous_bone"),
    ("693_UNCI.dcm", "air around the head", slice(30, 60), slice(220, 300), "air"),
    ("693_UNCI.dcm", "brain", slice(250, 300), slice(230, 290), "soft_tissue"),
]


def where(value: float, lo: float, hi: float, slack: float = 0.0) -> str:
    """'inside', 'above' or 'below' the range lo..hi (widened by slack on both sides)."""
    return "inside" if lo - slack <= value <= hi + slack else ("above" if value > hi else "below")


print(f"{'file':13s} {'region':22s} {'measured HU':>16s}   {'TISSUE_HU':>24s}  verdict")
boxes_hu = {}  # label -> (n,) HU of the box
for name, label, rows, cols, key in regions:
    box = boxes_hu[label] = hu[name][rows, cols].ravel()
    lo, hi = med.TISSUE_HU[key]
    print(f"{name:13s} {label:22s} {box.mean():8.0f} ± {box.std():4.0f}   {key:>15s} {lo:5.0f}..{hi:5.0f}"
          f"  {where(box.mean(), lo, hi, slack=20 if key == 'air' else 0)}")

# %% [markdown]
# Three rows deserve a closer look, and the code below states what each shows.
#
# * **The aorta** reads far above blood's range: this scan was taken with an iodine contrast agent
#   (the header names it above), which is why tables of "tissue HU" hold for unenhanced scans only.
#   How far above depends on the *phase* (the time between injection and scan).
# * **The vertebral body**: teaching tables often put cancellous bone several hundred HU higher, and
#   this course's table did too, which made the measured value look "too low" and invited an
#   explanation by partial volume. The box lies well inside the vertebral body (see the figure), and
#   its values are those of healthy trabecular bone measured in patients: the table was wrong, not
#   the measurement.
# * **The brain** box of the head slice has no noise at all. Its header said why, above: this file
#   is a lossy (JPEG 2000) copy, and the compression flattened the brain to a single value. Grey and
#   white matter, which differ by only a few HU, cannot be told apart in this file — treat it as an
#   illustration of windows, not as a measurement.

# %%
aorta = result("09.aorta_hu", boxes_hu["aorta (with contrast)"].mean(), tol=0.5,
               label="CT_small: mean HU of the aorta box", fmt="{:.0f} HU")
for key in ("blood", "blood_arterial_contrast"):
    lo, hi = med.TISSUE_HU[key]
    print(f"  aorta {aorta:.0f} HU is {where(aorta, lo, hi)} {key} ({lo:g}..{hi:g} HU)")
if where(aorta, *med.TISSUE_HU["blood"]) == "above" and where(aorta, *med.TISSUE_HU["blood_arterial_contrast"]) == "below":
    print("  Verdict: contrast-enhanced, but below a CT angiogram's arterial peak: a later phase, with the iodine "
          "spread through the whole blood pool.")

vertebra = boxes_hu["vertebral body"]
bone_hu = result("09.vertebra_hu", vertebra.mean(), tol=0.5, label="CT_small: mean HU of the vertebral body box",
                 fmt="{:.0f} HU")
textbook = (300.0, 800.0)  # cancellous bone as many teaching tables (and this course's first table) gave it
print(f"  vertebral body {bone_hu:.0f} HU (5th..95th percentile {np.percentile(vertebra, 5):.0f}.."
      f"{np.percentile(vertebra, 95):.0f} HU): {where(bone_hu, *med.TISSUE_HU['cancellous_bone'])} the clinical "
      f"trabecular range {med.TISSUE_HU['cancellous_bone']}, {where(bone_hu, *textbook)} the textbook range {textbook}")
if where(bone_hu, *med.TISSUE_HU["cancellous_bone"]) == "inside" and where(np.percentile(vertebra, 95), *textbook) == "below":
    print(f"  Verdict: a normal trabecular value; the textbook range, not partial volume, was the problem "
          f"(even the box's 95th percentile is below {textbook[0]:g} HU).")

brain = boxes_hu["brain"]
brain_std = result("09.brain_std_hu", brain.std(), tol=0.0, label="693_UNCI: standard deviation of the brain box",
                   fmt="{:.1f} HU")
print(f"  brain box: {brain.size} pixels, {np.unique(brain).size} distinct value(s) ({np.unique(brain)[:3]} HU); "
      f"Verdict: {'no texture is left to separate grey from white matter' if np.unique(brain).size == 1 else 'texture present'}.")

# %%
from matplotlib.patches import Rectangle

fig, axes = plt.subplots(1, 2, figsize=(10, 5), layout="constrained")
for ax, name in zip(axes, hu):
    ax.imshow(med.clip_window(hu[name], 40, 400), cmap="gray", vmin=0, vmax=1)
    for i, (file, label, rows, cols, _) in enumerate(regions):
        if file == name:
            ax.add_patch(Rectangle((cols.start - 0.5, rows.start - 0.5), cols.stop - cols.start,
                                   rows.stop - rows.start, fill=False, color=f"C{i}", lw=2))
            ax.text(cols.start, rows.stop, label, color=f"C{i}", fontsize=9, va="top",
                    bbox={"facecolor": "black", "alpha": 0.5, "pad": 1})
    ax.set_title(f"{name} (window C 40, W 400)")
    ax.set_axis_off()
plt.show()

# %% [markdown]
# ### Experiment: integer arithmetic wraps around
#
# Many scanners store `uint16`. The tempting one-liner `pixels - 1024` then stays `uint16`, and
# every stored value below 1024 — everything below 0 HU: air, lung, fat — wraps around to the top of
# the `uint16` range.

# %%
stored_u16 = stored["CT_small.dcm"].astype(np.uint16)  # the same slice as an unsigned scanner stores it
wrong = stored_u16 - 1024  # uint16 - int stays uint16: wraps below 0
right = med.rescale_to_hu(stored_u16, 1.0, -1024.0)
wrapped = stored_u16 < 1024
print(f"pixels - 1024 on uint16: dtype {wrong.dtype}, {wrong.min()}..{wrong.max()}; "
      f"{wrapped.mean():.1%} of the pixels (all below 0 HU) wrapped")
print(f"rescale_to_hu:           dtype {right.dtype}, {right.min():.0f}..{right.max():.0f} HU")

# %% [markdown]
# ## 2. Display windows
#
# ### Concept
#
# A CT slice spans thousands of HU (air −1000, cortical bone up to ~2000, metal beyond), but a
# screen shows 256 grey levels and an eye tells far fewer. A **window** picks the HU range a reader
# needs and stretches it from black to white; everything below is black, everything above white.
# It is given by its center *c* and width *w* in HU: the DICOM attributes WindowCenter (0028,1050)
# and WindowWidth (0028,1051), the **VOI LUT** of the grayscale pipeline.
#
# The standard's LINEAR function (PS3.3 C.11.2.1.2.1), with output range [0, 1]:
#
# $$y = \begin{cases} 0 & x \le c - 0.5 - \frac{w-1}{2} \\ 1 & x > c - 0.5 + \frac{w-1}{2} \\
# \frac{x - (c - 0.5)}{w - 1} + 0.5 & \text{otherwise} \end{cases}$$
#
# The half-unit shifts make the window cover exactly *w* integer HU values; it needs *w* ≥ 1 (raise
# `ValueError` otherwise). Most code uses a simpler window: clip to [*c* − *w*/2, *c* + *w*/2] and
# rescale to [0, 1] (it equals DICOM's LINEAR_EXACT, PS3.3 C.11.2.1.3.2; it needs *w* > 0). The two
# differ by at most 1/*w* — we measure that below.
#
# Mistakes the checks recognise: **center and width swapped** (radiologists say "W 400, L 40",
# DICOM's order is center, width); a window reaching **width, not width/2, on each side** of the
# center; **no clipping** (values outside the window must become exactly 0 and 1); and, for
# `apply_window`, the simple formula instead of the standard's (and vice versa for `clip_window`).
# The checks also probe the edges: the smallest legal width (1 HU for `apply_window`, a step; any
# width above 0, e.g. 0.5 HU, for `clip_window`), a single pixel, and a width that is no number
# (NaN must raise `ValueError` too: test `not np.isfinite(width) or width < 1`).
#
# ### Implement: the DICOM window

# %% nbgrader={"grade": false, "grade_id": "apply_window", "locked": false, "schema_version": 3, "solution": true}
def apply_window(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map HU to [0, 1] with the DICOM LINEAR VOI LUT function (PS3.3 C.11.2.1.2.1).

    With c = center and w = width: ``x <= c - 0.5 - (w - 1) / 2`` -> 0; ``x > c - 0.5 + (w - 1) / 2``
    -> 1; otherwise ``(x - (c - 0.5)) / (w - 1) + 0.5``.

    Args:
        hu: Hounsfield units, any shape, any real dtype.
        center: window_center (WindowCenter), HU.
        width: window_width (WindowWidth), HU; at least 1 (width 1 is legal: a step at the center).

    Returns:
        Grey levels in [0, 1], same shape as ``hu``, float32 (compute in float64).

    Raises:
        ValueError: ``width`` is not finite (NaN, inf) or ``width < 1``.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_apply_window", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that apply_window follows DICOM's LINEAR window, clips to [0, 1] and rejects width < 1."""
check(apply_window)

# %% [markdown]
# ### Implement: the simple window

# %% nbgrader={"grade": false, "grade_id": "clip_window", "locked": false, "schema_version": 3, "solution": true}
def clip_window(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map HU to [0, 1]: clip to ``center ± width/2``, then rescale that range to [0, 1].

    Args:
        hu: Hounsfield units, any shape, any real dtype.
        center: window_center, HU.
        width: window_width, HU; greater than 0 (also below 1 HU).

    Returns:
        ``(clip(hu, lo, hi) - lo) / (hi - lo)`` with ``lo, hi = center -/+ width / 2``: same shape as
        ``hu``, float32 (compute in float64).

    Raises:
        ValueError: ``width`` is not finite (NaN, inf) or ``width <= 0``.
    """
    ### BEGIN SOLUTION
    if not np.isfinite(width) or width <= 0:
        raise ValueError(f"window width {width} is not a finite number > 0: a window must cover a "
                         "positive HU range")
    lo, hi = center - width / 2, center + width / 2
    x = np.clip(np.asarray(hu, dtype=np.float64), lo, hi)
    return ((x - lo) / (hi - lo)).astype(np.float32)
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_clip_window", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that clip_window clips to center ± width/2, rescales to [0, 1] and rejects width <= 0."""
check(clip_window)

# %% [markdown]
# ### Use: one slice, several windows
#
# The usual presets (`course.medical.WINDOW_PRESETS`; sites differ by a few tens of HU):

# %%
for preset, (center, width) in med.WINDOW_PRESETS.items():
    print(f"{preset:12s} center {center:6.0f} HU, width {width:5.0f} HU -> "
          f"black below {center - width / 2:6.0f} HU, white above {center + width / 2:6.0f} HU")

# %% [markdown]
# `course.viz.show_windows` draws a slice raw (its own min..max stretched to black..white) and
# through each window. First the head slice, through lung, mediastinum (soft tissue), bone and brain
# windows, then the chest slice. Look at how the raw view wastes the grey scale: in the head slice
# the fill value outside the circle takes the black end, so air and brain are both mid-grey.

# %%
from IPython.display import display

from course.viz import show_volume_slices, show_windows, window_explorer

display(show_windows(unci, ("lung", "mediastinum", "bone", "brain"), title="693_UNCI.dcm (head)"))
display(show_windows(small, ("lung", "mediastinum", "bone"), title="CT_small.dcm (chest, at the spine)"))

# %% [markdown]
# Each window answers one question. In the chest slice the **lung** window shows the vessels in
# the lung but paints all soft tissue and bone near-white; the **mediastinum** window separates
# fat, muscle and the contrast-filled aorta but makes the lung uniformly black; the **bone** window
# shows the structure inside the vertebra. In the head slice only the **brain** window (a narrow
# one) shows anything inside the skull. The file itself suggests a window too: its WindowCenter and
# WindowWidth, and pydicom's `apply_windowing` implements the same LINEAR function (mapped to the
# stored-value range instead of [0, 1]; we rescale it to compare).

# %%
from pydicom.pixels import apply_windowing

for name, ds in datasets.items():
    print(f"{name}: header window center {ds.get('WindowCenter', '-')}, width {ds.get('WindowWidth', '-')}")
voi = pydicom.Dataset()  # just what apply_windowing reads: the window and a 16-bit unsigned output range
voi.PhotometricInterpretation, voi.BitsStored, voi.PixelRepresentation = "MONOCHROME2", 16, 0
for preset, (center, width) in med.WINDOW_PRESETS.items():
    voi.WindowCenter, voi.WindowWidth = center, width
    theirs = apply_windowing(unci.astype(np.float64), voi) / 65535  # 0..65535 -> [0, 1]
    ours = med.apply_window(unci, center, width)
    print(f"{preset:12s} max |apply_window - pydicom| = {np.abs(ours - theirs).max():.1e}")

# %% [markdown]
# ### Experiment: how far apart are the two windows?
#
# The DICOM window and the simple one differ by at most 1/width. Below, measured on the head slice
# and on a fine grid of HU values, for every preset, and converted to 8-bit grey levels (× 255,
# rounded); the verdict under the table says where the difference stays within one grey level. On
# screen nobody sees it, but a network's input and the reference it is compared with must use the
# *same* window function.

# %%
grid = np.arange(-1100.0, 3000.0, 0.25)  # every quarter HU
grey_max = {}  # preset -> largest grey-level difference on the slice
print(f"{'preset':12s} {'1/width':>9s} {'max diff (slice)':>17s} {'max diff (grid)':>16s} "
      f"{'max grey-level diff':>20s} {'pixels that differ':>19s}")
for preset, (center, width) in med.WINDOW_PRESETS.items():
    dicom, simple = med.apply_window(unci, center, width), med.clip_window(unci, center, width)
    diff_slice = np.abs(dicom.astype(np.float64) - simple).max()
    diff_grid = np.abs(med.apply_window(grid, center, width).astype(np.float64)
                       - med.clip_window(grid, center, width)).max()
    grey = np.abs(np.round(dicom * 255.0) - np.round(simple * 255.0))
    grey_max[preset] = grey.max()
    print(f"{preset:12s} {1 / width:9.6f} {diff_slice:17.6f} {diff_grid:16.6f} "
          f"{grey.max():20.0f} {(grey > 0).mean():19.1%}")
wide = [p for p, (_, w) in med.WINDOW_PRESETS.items() if w > 255]
narrow = [p for p in med.WINDOW_PRESETS if p not in wide]
print(f"Verdict: windows wider than 255 HU ({', '.join(wide)}) differ by at most "
      f"{max(grey_max[p] for p in wide):.0f} grey level(s); the narrow ones ({', '.join(narrow)}) by up to "
      f"{max(grey_max[p] for p in narrow):.0f} ({max(narrow, key=grey_max.get)}).")

# %% [markdown]
# ### Use: explore windows interactively
#
# The explorer below (`course.viz.window_explorer`) has a preset menu and sliders for center and
# width; it needs a running kernel to react. The center moves in 1 HU steps (arrow keys); the width
# slider is *logarithmic*: a drag multiplies the width by a factor, so the same hand movement is a
# few HU at a brain window and a few hundred at a lung window. Choose a preset and then move a slider:
# the menu switches to "custom", because the window is no longer that preset. The line under the
# sliders says which HU become black and white. Under it, a static figure of what the width slider
# does: the brain window's center with ever wider windows — a narrow window gives contrast inside
# a small HU range and saturates everything else, a wide one shows everything with little contrast.

# %%
display(window_explorer(unci, center=40.0, width=80.0))
display(show_windows(unci, ((40.0, 40.0), (40.0, 80.0), (40.0, 400.0), (40.0, 2000.0)),
                     title="693_UNCI.dcm: center 40 HU, width 40 → 2000 HU"))

# %% [markdown]
# ## 3. Why "save it as a PNG" destroys HU
#
# ### Concept
#
# A common shortcut for feeding CT to a 2D network is to export each slice as an 8-bit image:
# stretch the slice's own min..max to 0..255. Two problems follow:
#
# 1. **The mapping depends on each image.** A grey value means `min + grey × (max − min) / 255` HU,
#    with a different min and max in every slice, so the same tissue gets different grey values, and
#    a single outlier (metal, the fill value outside the field of view) shifts every pixel.
# 2. **256 levels cannot hold CT's range.** A slice spanning thousands of HU gets one grey level per
#    several HU, so the soft tissues — which differ by tens of HU — share a handful of levels.
#
# Implement it (we need it to measure the damage). Mistakes the check recognises:
# `astype(np.uint8)` **truncates** (round to the nearest level first); returning **floats** instead
# of `uint8` grey levels; **clipping** HU into 0..255 instead of scaling. A constant image (a
# single pixel, too) has no range: return zeros. An empty image or one holding NaN or inf has no
# min..max at all: raise `ValueError`.
#
# ### Implement

# %% nbgrader={"grade": false, "grade_id": "naive_png_normalize", "locked": false, "schema_version": 3, "solution": true}
def naive_png_normalize(hu: np.ndarray) -> np.ndarray:
    """Scale one image's own min..max to the grey levels 0..255, as an 8-bit PNG export does.

    Args:
        hu: one image (or volume), any shape, HU.

    Returns:
        uint8, same shape: ``round((hu - min) / (max - min) * 255)``; all zeros when the image is
        constant (a single pixel, too).

    Raises:
        ValueError: the image is empty or holds NaN or inf.
    """
    ### BEGIN SOLUTION
    x = np.asarray(hu, dtype=np.float64)
    if x.size == 0 or not np.isfinite(x).all():
        raise ValueError(f"an image of shape {x.shape} that is empty or holds NaN/inf has no min..max "
                         "to scale; pass a non-empty image of finite HU")
    lo, hi = x.min(), x.max()
    if hi == lo:
        return np.zeros(x.shape, dtype=np.uint8)
    return np.round((x - lo) / (hi - lo) * 255.0).astype(np.uint8)
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_naive_png_normalize", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that naive_png_normalize rounds each image's min..max to uint8 grey levels 0..255."""
check(naive_png_normalize)

# %% [markdown]
# ### Use: the two real slices as 8-bit images
#
# We export both real slices as "PNGs" with the reference `naive_png_normalize`, and read back the
# grey value of soft tissue — the back muscle of the chest slice and the brain of the head slice,
# both near 40 HU (measured above) — and the grey level an exact 40 HU pixel would get. Then the
# resolution: how many HU one grey level spans, and how many distinct grey levels the whole
# soft-tissue range of `TISSUE_HU` gets. For contrast, the mediastinum window maps HU the same way
# in every slice.

# %%
png = {name: med.naive_png_normalize(image) for name, image in hu.items()}  # (H, W) uint8 each
soft_lo, soft_hi = med.TISSUE_HU["soft_tissue"]
soft_range = np.arange(soft_lo, soft_hi + 1)  # every integer HU of soft tissue
boxes = {r[0]: r for r in regions if r[1] in ("back muscle", "brain")}  # one soft-tissue box per slice
mediastinum = med.WINDOW_PRESETS["mediastinum"]
grey_40s, soft_levels = {}, {}  # by file name: the grey of a 40 HU pixel, grey levels of soft tissue
for name, image in hu.items():
    lo, hi = float(image.min()), float(image.max())
    _, label, rows, cols, _ = boxes[name]
    grey_40 = grey_40s[name] = np.round((40.0 - lo) / (hi - lo) * 255.0)
    levels = soft_levels[name] = np.unique(np.round((soft_range - lo) / (hi - lo) * 255.0)).size
    print(f"{name}: min {lo:.0f} HU, max {hi:.0f} HU -> {(hi - lo) / 255:.1f} HU per grey level")
    print(f"  {label}: mean HU {image[rows, cols].mean():.0f}, mean PNG grey {png[name][rows, cols].mean():.0f}; "
          f"a 40 HU pixel -> grey {grey_40:.0f}; soft tissue {soft_lo:g}..{soft_hi:g} HU -> {levels} grey levels")
levels_window = np.unique(np.round(med.apply_window(soft_range, *mediastinum) * 255.0)).size
grey_window = np.round(med.apply_window(np.array([40.0]), *mediastinum)[0] * 255.0)
print(f"mediastinum window (either slice): a 40 HU pixel -> grey {grey_window:.0f}; "
      f"soft tissue -> {levels_window} grey levels; {mediastinum[1] / 255:.2f} HU per grey level")
gap = result("09.png_grey_gap_40hu", abs(grey_40s["CT_small.dcm"] - grey_40s["693_UNCI.dcm"]), tol=0.0,
             label="grey levels between a 40 HU pixel in the two slices' PNGs", fmt="{:.0f}")
fewest = result("09.png_soft_levels", min(soft_levels.values()), tol=0.0,
                label="fewest grey levels soft tissue (20..80 HU) gets in a slice's PNG", fmt="{:.0f}")
window_levels = result("09.window_soft_levels", levels_window, tol=0.0,
                       label="grey levels soft tissue gets in the mediastinum window", fmt="{:.0f}")
print(f"Verdict: in the PNGs the same 40 HU is {gap:.0f} grey levels apart between the two slices, and soft tissue "
      f"shrinks to {fewest:.0f} grey levels; the mediastinum window gives 40 HU one grey everywhere and soft tissue "
      f"{window_levels:.0f} levels ({window_levels / fewest:.0f}x as many).")

# %% [markdown]
# When the same soft tissue lands on different grey values in two "PNGs", a network trained on such
# images cannot learn "this intensity is soft tissue"; when its whole range shares a few grey levels,
# the differences between soft tissues are gone. The mapping lines make it visible: each slice gets its own line
# from HU to grey, set by its extremes; the window's line is the same for every slice and steep
# where the tissue of interest lies.

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), layout="constrained")
hu_axis = np.linspace(-4100, 2000, 500)
for ax, (i, name) in zip(axes[:2], enumerate(png)):
    ax.imshow(png[name], cmap="gray", vmin=0, vmax=255)
    _, label, rows, cols, _ = boxes[name]
    ax.add_patch(Rectangle((cols.start - 0.5, rows.start - 0.5), cols.stop - cols.start,
                           rows.stop - rows.start, fill=False, color=f"C{i}", lw=2))
    ax.set_title(f"{name} as an 8-bit PNG\n{label}: grey {png[name][rows, cols].mean():.0f}")
    ax.set_axis_off()
    lo, hi = float(hu[name].min()), float(hu[name].max())
    axes[2].plot(hu_axis, np.clip((hu_axis - lo) / (hi - lo), 0, 1) * 255, color=f"C{i}", label=f"PNG of {name}")
axes[2].plot(hu_axis, med.apply_window(hu_axis, *mediastinum) * 255, "k--", label="mediastinum window")
axes[2].axvspan(soft_lo, soft_hi, color="C2", alpha=0.3, label="soft tissue")
axes[2].set(xlabel="HU", ylabel="grey level", title="HU → grey level")
axes[2].legend(fontsize=8)
plt.show()

# %% [markdown]
# ### Experiment: one slice, with and without a metal implant
#
# A controlled version: one slice of the phantom, exported twice — as it is, and with a small metal
# implant (3000 HU, a few pixels). Nothing else changes; the code says how far each tissue's grey
# value moves.

# %%
from course.data import PHANTOM_TISSUES, ct_phantom, ct_phantom_labels

phantom_slice = ct_phantom((24, 64, 64), seed=0)[6]  # (64, 64) HU, a slice through the liver
labels = ct_phantom_labels((24, 64, 64))[6]  # (64, 64) tissue labels
with_metal = phantom_slice.copy()
with_metal[30:32, 30:32] = 3000.0  # a 2x2-pixel metal implant
without, metal = med.naive_png_normalize(phantom_slice), med.naive_png_normalize(with_metal)  # (64, 64) uint8
shifts = {}  # tissue -> |mean grey without - with metal|
for tissue, (label, mean_hu) in PHANTOM_TISSUES.items():
    mask = labels == label
    mask[30:32, 30:32] = False
    if mask.any():
        shifts[tissue] = abs(without[mask].mean() - metal[mask].mean())
        print(f"{tissue:16s} {mean_hu:6.0f} HU: grey {without[mask].mean():5.1f} without metal, "
              f"{metal[mask].mean():5.1f} with metal")
moved = [t for t, d in shifts.items() if d >= 1.0]
print(f"Verdict: {len(moved)} of {len(shifts)} tissues moved by at least one grey level "
      f"(the least: {min(shifts, key=shifts.get)}, {min(shifts.values()):.1f}; the most: "
      f"{max(shifts, key=shifts.get)}, {max(shifts.values()):.1f}), from a 2x2-pixel implant.")

# %% [markdown]
# The fix is not to throw the scale away: keep HU (as `int16` or `float32` volumes, e.g. NIfTI),
# and let the model's input transform be a fixed window (or a few windows as channels) applied the
# same way to every slice.
#
# ## 4. Slice order in a series
#
# ### Concept
#
# A CT volume is a **series**: one file per slice. Where a slice lies is written in the Image Plane
# Module (PS3.3 C.7.6.2), in the patient coordinate system LPS (+x to the patient's left, +y to the
# back, +z to the head), in mm:
#
# * **ImagePositionPatient** (0020,0032): the position of the centre of the first pixel (row 0,
#   column 0);
# * **ImageOrientationPatient** (0020,0037): six direction cosines — the first three are the **row
#   direction** (the direction in which the column index grows along a row), the last three the
#   **column direction** (in which the row index grows down a column);
# * **PixelSpacing** (0028,0030): spacing between rows, then between columns.
#
# Pixel (r, c) lies at `ImagePositionPatient + r · PixelSpacing[0] · column_direction +
# c · PixelSpacing[1] · row_direction` (PS3.3 C.7.6.2.1.1). The slice **normal** is
# `row_direction × column_direction` (for an axial slice, (1,0,0,0,1,0) → (0, 0, 1), towards the
# head), and a slice's place in the stack is its position projected on the normal,
# `ImagePositionPatient · normal`. Sort by that, in increasing order.
#
# What does *not* give the order: **file names** (random UIDs, or "10.dcm" sorting before "2.dcm");
# **InstanceNumber** (a counter the scanner may restart, reverse or number in acquisition order);
# **SliceLocation** (optional, and its origin and sign are the vendor's: an experiment below shows
# it); and the **z coordinate alone**, which works for axial slices only — coronal, sagittal and oblique
# slices of one series can share one z. The checks also recognise the normal computed as
# `column × row` (it points the other way), the six values split wrongly (they are row x, y, z then
# column x, y, z), and a descending sort; and they probe the edges: a single slice (D = 1) sorts to
# `[0]`, an orientation given as a tuple is fine but a (2, 3) array is not, and positions that are
# not (D, 3) raise `ValueError`.
#
# ### Implement: the slice normal

# %% nbgrader={"grade": false, "grade_id": "slice_normal", "locked": false, "schema_version": 3, "solution": true}
def slice_normal(image_orientation: Sequence[float] | np.ndarray) -> np.ndarray:
    """The unit normal of a slice: row direction × column direction (DICOM PS3.3 C.7.6.2.1.1).

    Args:
        image_orientation: ImageOrientationPatient, 6 direction cosines (row direction x, y, z, then
            column direction x, y, z), unitless.

    Returns:
        (3,) float64, LPS. For an axial slice, (1, 0, 0, 0, 1, 0) -> (0, 0, 1).

    Raises:
        ValueError: not 6 values.
    """
    ### BEGIN SOLUTION
    iop = np.asarray(image_orientation, dtype=np.float64)
    if iop.shape != (6,):
        raise ValueError(f"ImageOrientationPatient must hold 6 values, got shape {iop.shape}")
    return np.cross(iop[:3], iop[3:])
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_slice_normal", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that slice_normal returns row direction × column direction and rejects a wrong length."""
check(slice_normal)

# %% [markdown]
# ### Implement: the slice order
#
# Use your `slice_normal`; a *stable* sort keeps the given order of equal positions.

# %% nbgrader={"grade": false, "grade_id": "sort_slices", "locked": false, "schema_version": 3, "solution": true}
def sort_slices(positions: np.ndarray, image_orientation: Sequence[float] | np.ndarray) -> np.ndarray:
    """The order of slices along their normal, from their ImagePositionPatient.

    Args:
        positions: (D, 3) ImagePositionPatient of each slice, mm, LPS.
        image_orientation: the series' ImageOrientationPatient, 6 values.

    Returns:
        (D,) int64 indices into ``positions`` that sort ``positions @ normal`` in increasing order
        (stable argsort): for an axial series, from the lowest z (feet) to the highest (head). A
        single slice (D = 1) gives ``[0]``.

    Raises:
        ValueError: ``positions`` is not (D, 3), or the orientation is not 6 values.
    """
    ### BEGIN SOLUTION
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ValueError(f"positions must be (D, 3), one ImagePositionPatient per slice, got shape {positions.shape}")
    along_normal = positions @ slice_normal(image_orientation)  # (D,)
    return np.argsort(along_normal, kind="stable").astype(np.int64)
    ### END SOLUTION


# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_sort_slices", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that sort_slices orders slices by increasing position along the slice normal."""
check(sort_slices)

# %% [markdown]
# ### Use: a shuffled series on disk
#
# `course.data.write_ct_phantom_series` writes the synthetic CT phantom (air, fat, soft tissue,
# lungs widest at their bases, the mediastinum with the heart, the aorta with contrast as in a CT
# angiogram, liver, spine and ribs, in HU) as a real DICOM CT series: 24 axial slices 2.5 mm apart,
# stored as HU + 1024 with RescaleIntercept −1024, **random file names and shuffled
# InstanceNumbers**, as a de-identified export may well have. Everything goes into a temporary
# folder, removed at the end of the lesson. We read only the headers, and try three orders.

# %%
import tempfile
from pathlib import Path

from course.data import write_ct_phantom_series

tmp = tempfile.TemporaryDirectory()  # removed at the end of the lesson
series = Path(tmp.name) / "phantom_axial"
written = write_ct_phantom_series(series, shape=(24, 64, 64), spacing=(2.5, 0.8, 0.8), seed=0)  # [k]: slice k
files = sorted(series.iterdir())  # file-name order, what a naive loader uses
headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
positions = np.array([h.ImagePositionPatient for h in headers], dtype=np.float64)  # (D, 3) mm, LPS
iop = np.array(headers[0].ImageOrientationPatient, dtype=np.float64)  # (6,)
true_slice = np.array([written.index(f) for f in files])  # where each file really belongs

print(f"{'file':22s} {'InstanceNumber':>14s} {'ImagePositionPatient (mm)':>28s} {'true slice':>10s}")
for f, h, p, k in list(zip(files, headers, positions, true_slice))[:5]:
    print(f"{f.name:22s} {h.InstanceNumber:14d} {np.array2string(p, precision=1):>28s} {k:10d}")
print("...")
orders = {
    "file name": np.arange(len(files)),
    "InstanceNumber": np.argsort([h.InstanceNumber for h in headers], kind="stable"),
    "sort_slices": med.sort_slices(positions, iop),
}
normal = med.slice_normal(iop)
for how, order in orders.items():
    along = positions[order] @ normal  # (D,) mm along the normal, in this order
    in_place = np.sum(true_slice[order] == np.arange(len(files)))
    print(f"by {how:15s}: {in_place:2d} of {len(files)} slices in place, positions increasing: "
          f"{bool(np.all(np.diff(along) > 0))}; first positions (mm): {np.round(along[:6], 1)}")

# %% [markdown]
# ### Experiment: SliceLocation, what many loaders sort by
#
# Many loaders, and most tutorials, sort by **SliceLocation** (0020,1041) instead. It is an
# *optional* (Type 3) attribute of the Image Plane Module, defined only as the "relative position of
# the image plane expressed in mm", relative to "an unspecified implementation specific reference
# point" (PS3.3 C.7.6.2.1.2): no stated origin, no direction. Our writer fills it
# with the position along the normal, so here it happens to work. Three things break it: a vendor
# whose SliceLocation is a table position counted the other way (a sign convention the header does
# not state; below, the same files with the other sign), an anonymizer or converter that drops
# optional attributes (below, our headers without it), and a real scanner whose SliceLocation is not
# the image position at all (the chest slice). With **gantry tilt** a single number cannot say where
# a tilted slice lies either; ImagePositionPatient and ImageOrientationPatient are mandatory (Type 1)
# for CT and always do.

# %%
import copy

slice_location = np.array([float(h.SliceLocation) for h in headers])  # (D,) mm, as our writer wrote it
sl_orders = {"SliceLocation as written": np.argsort(slice_location, kind="stable"),
             "SliceLocation, other sign": np.argsort(-slice_location, kind="stable")}
for how, order in sl_orders.items():
    in_place = np.sum(true_slice[order] == np.arange(len(files)))
    print(f"by {how:26s}: {in_place:2d} of {len(files)} slices in place; the first is true slice {true_slice[order[0]]}")
flipped = result("09.sliceloc_other_sign_in_place", np.sum(true_slice[sl_orders["SliceLocation, other sign"]]
                                                           == np.arange(len(files))), tol=0.0,
                 label="slices in place when SliceLocation counts the other way", fmt="{:.0f}")
anonymized = [copy.deepcopy(h) for h in headers]
for h in anonymized:
    del h.SliceLocation  # optional: an anonymizer or converter may drop it
have = sum("SliceLocation" in h for h in anonymized)
order = med.sort_slices(np.array([h.ImagePositionPatient for h in anonymized], dtype=np.float64),
                        anonymized[0].ImageOrientationPatient)
print(f"without the optional tag: {have} of {len(anonymized)} headers have a SliceLocation to sort by; "
      f"sort_slices still puts {np.sum(true_slice[order] == np.arange(len(files)))} of {len(files)} in place")
chest = datasets["CT_small.dcm"]
along = np.asarray(chest.ImagePositionPatient, dtype=np.float64) @ med.slice_normal(chest.ImageOrientationPatient)
offset = result("09.ct_small_sliceloc_offset_mm", float(chest.SliceLocation) - along, tol=0.001,
                label="CT_small: SliceLocation minus position along the normal", fmt="{:+.3f} mm")
print(f"CT_small.dcm ({chest.PatientPosition}): SliceLocation {float(chest.SliceLocation):.3f} mm, "
      f"ImagePositionPatient · normal {along:.3f} mm")
print(f"Verdict: with the other sign the stack is upside down ({flipped:.0f} of {len(files)} in place) and nothing in the "
      f"header says which sign is meant; without the tag there is nothing to sort by; on a real scanner "
      f"SliceLocation is {abs(offset):.3f} mm {'away from' if abs(offset) > 0.01 else 'equal to'} the image position. "
      f"Sort by ImagePositionPatient projected on the normal.")

# %% [markdown]
# A stack in the wrong order looks fine slice by slice — each slice is a valid image — and only a
# cut across the slices (a coronal reformat) shows the damage. Below, the middle coronal row of each
# stack, drawn with the true aspect ratio (2.5 mm between slices, 0.8 mm pixels), head at the top.

# %%
slices_hu = [med.dicom_to_hu(f) for f in files]  # (H, W) HU each, in file-name order
fig, axes = plt.subplots(1, 3, figsize=(11, 4), layout="constrained")
for ax, (how, order) in zip(axes, orders.items()):
    stack = np.stack([slices_hu[i] for i in order])  # (D, H, W)
    ax.imshow(med.apply_window(stack[:, 32, :], *mediastinum), cmap="gray", vmin=0, vmax=1,
              aspect=2.5 / 0.8, origin="lower")
    ax.set_title(f"ordered by {how}")
    ax.set(xlabel="column (patient right → left)", ylabel="slice")
plt.show()

# %% [markdown]
# `course.medical.load_dicom_series` does all of this: it reads every file, checks that they form
# one stack of parallel slices, sorts by position along the normal, checks the spacing, converts
# each slice to HU with its own rescale, and returns the volume with its **spacing** (mm, in the
# volume's axis order slice, row, column) and **affine** (`affine @ [k, r, c, 1]` = the LPS position
# in mm of voxel `volume[k, r, c]`). The volume must equal the phantom we wrote, rounded to whole HU
# (the file stores integers).

# %%
volume, spacing, affine = med.load_dicom_series(series)
print(f"volume {volume.shape} {volume.dtype}, spacing (slice, row, column) = {spacing} mm")
print("affine (voxel index (k, r, c) -> LPS mm):")
print(np.array2string(affine, precision=2, suppress_small=True))
print(f"max |volume - round(phantom)| = {np.abs(volume - np.round(ct_phantom((24, 64, 64), seed=0))).max():g} HU")
last = len(volume) - 1
last_position = np.array(headers[files.index(written[last])].ImagePositionPatient, dtype=np.float64)
print(f"affine @ [{last}, 0, 0, 1] = {(affine @ np.array([last, 0, 0, 1]))[:3]} mm; "
      f"ImagePositionPatient of slice {last}: {last_position} mm")

# %%
display(show_volume_slices(volume, axis=0, num=6, window="mediastinum", spacing=tuple(spacing),
                           title="axial slices (axis 0), feet → head, radiological display "
                                 "(patient's left on the image's right)"))
display(show_volume_slices(volume, axis=2, num=4, window="liver", spacing=tuple(spacing),
                           title="sagittal cuts (axis 2), patient right → left, liver window: "
                                 "the liver is the brighter lower part of the second cut"))

# %% [markdown]
# ### Use: which side is the patient's left? Radiological and neurological display
#
# Every axial image in this lesson is shown in the **radiological convention**: as if standing at
# the feet of the supine patient and looking toward the head — anterior at the top, the patient's
# **left on the image's right**. Radiology workstations show CT and MRI this way. Much brain-imaging
# software uses the **neurological convention** instead: as if looking down from above the head,
# with the patient's left on the image's left. Neither is in the pixels. It follows from the patient
# directions in which the row and column indices grow (ImageOrientationPatient here; the affine's
# axis codes for NIfTI in lesson 10) and from how the slice is drawn. For an axial DICOM slice with
# ImageOrientationPatient (1, 0, 0, 0, 1, 0), the column index grows toward the patient's left (+x
# in LPS) and the row index toward the back (+y), so `imshow` shows it radiologically as stored.
# `course.viz.axial_for_display(image, columns_toward=..., rows_toward=..., convention=...)` flips
# a slice into either convention (lesson 10 uses it for RAS volumes). Once, side by side: the real
# chest slice, whose descending aorta lies left of the spine, and the phantom, whose heart lies on
# the patient's left.

# %%
from course.viz import axial_for_display


def toward(direction: np.ndarray) -> str:
    """The LPS letter an index direction points to, for an axis-aligned slice (else '?')."""
    axis = int(np.argmax(np.abs(direction)))
    return "?" if abs(direction[axis]) < 0.99 else ("LPS"[axis] if direction[axis] > 0 else "RAI"[axis])


k_heart = 10  # a phantom slice through the heart
pictures = {
    "CT_small.dcm": (med.apply_window(small, *mediastinum), np.asarray(datasets["CT_small.dcm"].ImageOrientationPatient, float)),
    f"phantom slice {k_heart}": (med.apply_window(volume[k_heart], *mediastinum), iop),
}
fig, axes = plt.subplots(1, 4, figsize=(13, 3.6), layout="constrained")
for (title, (image, orientation)), pair in zip(pictures.items(), (axes[:2], axes[2:])):
    columns_toward, rows_toward = toward(orientation[:3]), toward(orientation[3:])
    print(f"{title}: ImageOrientationPatient {orientation.round(3).tolist()}: column index toward {columns_toward}, "
          f"row index toward {rows_toward}")
    for ax, convention in zip(pair, ("radiological", "neurological")):
        shown = axial_for_display(image, columns_toward=columns_toward, rows_toward=rows_toward, convention=convention)
        ax.imshow(shown, cmap="gray", vmin=0, vmax=1)
        right = "L" if convention == "radiological" else "R"
        ax.text(0.02, 0.5, {"L": "R", "R": "L"}[right], color="yellow", transform=ax.transAxes, fontsize=14, va="center")
        ax.text(0.98, 0.5, right, color="yellow", transform=ax.transAxes, fontsize=14, va="center", ha="right")
        ax.set_title(f"{title}\n{convention}", fontsize=9)
        ax.set_axis_off()
plt.show()
phantom_labels = ct_phantom_labels((24, 64, 64))  # (D, H, W) tissue labels
for convention in ("radiological", "neurological"):
    sides = []
    for organ, side, k in (("heart", "left", k_heart), ("liver", "right", 4)):  # slice 4: through the liver
        slice_labels = phantom_labels[k]  # (64, 64)
        _, cols = np.nonzero(axial_for_display(slice_labels, convention=convention) == PHANTOM_TISSUES[organ][0])
        sides.append(f"the {organ} (patient's {side}) at column {cols.mean():.1f} of {slice_labels.shape[1]}, the "
                     f"image's {'right' if cols.mean() > (slice_labels.shape[1] - 1) / 2 else 'left'}")
    print(f"{convention}: {'; '.join(sides)}")

# %% [markdown]
# ### Experiment: sorting by z fails off-axis
#
# Write the same phantom as **coronal** slices (row direction +x, column direction −z, so the
# normal is +y): all slices share one range of z, so "sort by z" has nothing to sort by and keeps
# the file-name order, while the projection on the normal orders them correctly.

# %%
coronal = Path(tmp.name) / "phantom_coronal"
written_c = write_ct_phantom_series(coronal, shape=(12, 48, 48), spacing=(2.0, 1.0, 1.0), seed=1,
                                    image_orientation=(1, 0, 0, 0, 0, -1))
files_c = sorted(coronal.iterdir())
heads_c = [pydicom.dcmread(f, stop_before_pixels=True) for f in files_c]
pos_c = np.array([h.ImagePositionPatient for h in heads_c], dtype=np.float64)  # (D, 3)
iop_c = np.array(heads_c[0].ImageOrientationPatient, dtype=np.float64)
true_c = np.array([written_c.index(f) for f in files_c])
print(f"normal {med.slice_normal(iop_c) + 0.0}; distinct z values: {np.unique(pos_c[:, 2])} mm")
for how, order in {"z only": np.argsort(pos_c[:, 2], kind="stable"),
                   "sort_slices": med.sort_slices(pos_c, iop_c)}.items():
    print(f"by {how:11s}: {np.sum(true_c[order] == np.arange(len(files_c))):2d} of {len(files_c)} slices in place")

# %% [markdown]
# ### Experiment: a missing slice
#
# Files get lost in transfers. A volume stacked from a series with a gap is silently wrong — every
# slice above the gap is one slice off, and the spacing is a lie. The loader checks that the slices
# are evenly spaced; delete a middle file and read its message.

# %%
missing = written[12]
missing.unlink()  # slice 12 of 24 is lost
try:
    med.load_dicom_series(series)
except ValueError as err:
    print(f"ValueError: {err}")

# %%
tmp.cleanup()  # remove every file this lesson wrote

# %% [markdown]
# ## Summary
#
# * A CT file stores integers; **HU = stored × RescaleSlope + RescaleIntercept** (PS3.3 C.11.1.1.2).
#   Compute in float (integer arithmetic wraps around) and return `float32`. Our conversion of two
#   real slices was identical to pydicom's `apply_modality_lut` (printed above).
# * HU are physical: air −1000, water 0, fat and lung below 0, soft tissue a few tens above, bone in
#   the hundreds to thousands — measured in real slices above, with contrast agent as the reminder
#   that tables hold for unenhanced scans. A trabecular vertebral body reads a few hundred HU, as
#   measured in patients; the textbook range that called it "too low" was wrong, not the scan.
# * Values far below −1000 are a fill value, not tissue (PixelPaddingValue). A lossy copy (its
#   header says so: LossyImageCompression, DerivationDescription) no longer holds that value
#   exactly, and has lost fine texture: mask the fill by HU below air, and do not measure tissue in
#   a lossy file.
# * A **window** (center, width) picks the HU range to see (PS3.3 C.11.2.1.2.1). Lung, mediastinum,
#   bone and brain windows show different anatomy in the *same* slice. The DICOM LINEAR window and
#   the simple clip window differ by at most 1/width: within one 8-bit grey level for wide windows,
#   a few for narrow ones, as measured.
# * **Per-image min–max to 8 bits destroys HU**: the same tissue got different grey values in two
#   slices, even in one slice with and without a metal implant, and the soft-tissue range collapsed
#   to a few grey levels. Keep HU, and window the same way everywhere.
# * A **series** is ordered by ImagePositionPatient projected on the normal row × column
#   (PS3.3 C.7.6.2.1.1) — not by file name, InstanceNumber, SliceLocation (optional, its origin
#   and sign the vendor's) or z alone. `load_dicom_series` returns the volume in HU with its spacing
#   and affine, and refuses a series with a missing slice.
# * Axial slices are shown **radiologically** here (patient's left on the image's right, as seen
#   from the feet); the **neurological** convention mirrors them. `course.viz.axial_for_display`
#   flips a slice into either, from the directions its indices grow in.
#
# ## Exercises (not graded)
#
# 1. **Windows as channels.** Build a 3-channel image of the chest slice from the lung,
#    mediastinum and bone windows and show it as RGB. Which structures can you tell apart that no
#    single window shows? Why might this be a good input for a network pretrained on RGB images?
# 2. **Round trip through a PNG.** Write `png_to_hu(grey, lo, hi)`, the inverse of
#    `naive_png_normalize` given the slice's min and max, and measure the worst HU error on both
#    real slices. Compare it with half a grey level in HU. What if `lo` and `hi` were not saved?
# 3. **A window for the liver, and what a window cannot do.** In the phantom the liver is only a
#    little denser than the soft tissue around it, with noise on both. With the explorer on
#    `ct_phantom((24, 64, 64), seed=0)`, find a center and width that make the liver stand out in
#    slice 4. Then measure, with `ct_phantom_labels`, the difference of the two tissues' mean grey
#    levels and the contrast-to-noise ratio (that difference over the grey-level standard deviation)
#    for the `abdomen` and `liver` presets and your window. Why does the visible difference change
#    while the contrast-to-noise ratio hardly does, until the window saturates? What does averaging
#    3×3 pixels first do to the ratio? (Why not grey and white matter in the head slice? Measure the
#    brain box's distinct values, and read the header's lossy-compression tags.)
# 4. **An oblique series.** Write the phantom with an `image_orientation` tilted by 20° about the
#    x axis: row direction (1, 0, 0), column direction (0, cos 20°, sin 20°). Which way does the
#    normal point? Does sorting by z still work here, and does `sort_slices`? Check that
#    `affine @ [k, 0, 0, 1]` from `load_dicom_series` equals the ImagePositionPatient of slice k
#    for every k.
# 5. **Other broken series.** Instead of deleting a file, copy one slice to a second file name, or
#    add a file from another series (another `seed`). What does `load_dicom_series` say? Is each
#    message enough to fix the folder?
# 6. **InstanceNumber.** Write the series with `shuffle=False`: now the file names and
#    InstanceNumbers are in order. Reverse the InstanceNumbers by hand (read, change, save) — which
#    loaders would now build the volume upside down?
