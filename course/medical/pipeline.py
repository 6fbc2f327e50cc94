"""Lessons 09–11 as one preprocessing pipeline, next to MONAI's transforms, compared step by step (lesson 14).

The course built each step from scratch; MONAI packages the same steps as dictionary transforms:

    step                  course                                  MONAI
    orientation           course.medical.reorient                 Orientationd(axcodes=...)
    spacing               course.medical.resample_to_spacing      Spacingd(pixdim=..., mode=(bilinear, nearest))
                          (order 1 image, order 0 label)
    intensity window      scale_intensity_range (here)            ScaleIntensityRanged(a_min, a_max, b_min, b_max, clip)
    pos/neg patch crop    pos_neg_crop_centers + crop_at_centers  RandCropByPosNegLabeld(pos, neg, num_samples)
    model + stitching     course.patches.sliding_window_inference monai.inferers.sliding_window_inference

    course_preprocess, monai_preprocess   the first three steps, same signature, same output dict
    compare_steps, format_steps           each transform given the same input: shapes, affines, max |diff|

Layout. Both sides work on the NIfTI voxel order (X, Y, Z) with a voxel-to-RAS affine, as
``course.medical.load_nifti`` returns it; MONAI adds a channel axis in front, (C, X, Y, Z). The course's
volume layout (D, H, W) = (Z, Y, X) is ``course.medical.xyz_to_dhw`` of the result, and spacings then
reverse too. The network does not care which axis is which, but roi sizes and spacings must be given
in the order of the array's axes.

Where the two differ (measured on nibabel's ``anatomical.nii``, 33×41×25 at 2 mm, LAS; see the tests):

* **Orientation**: equal (same data, same affine; both permute and flip without interpolation).
* **Spacing, shape**: along an axis of n voxels of spacing s, the course keeps ceil((n − 1) s / s') + 1
  voxels (nibabel's rule: the new grid reaches at least the last old centre), MONAI round((n − 1) s / s') + 1
  (``compute_shape_offset``), so the course has one voxel more wherever the fraction is in (0, 0.5):
  2 mm → 1.5 mm turns 41 voxels into 55 (course) and 54 (MONAI). Both grids start at the centre of
  voxel 0 with the same spacing, so the affines are equal and MONAI's grid is a prefix of the course's.
* **Spacing, image (linear)**: equal on the common voxels up to float32 rounding (to 0.9 × 1.3 × 3.3 mm:
  max |diff| 0.0039 on intensities up to 30,393, 1.3e-7 relative; to 1.5 mm and 1 mm: 0). Beyond the last
  old centre both repeat the edge value (MONAI's padding_mode "border").
* **Spacing, label (nearest)**: equal except at ties, where a new voxel centre lies exactly halfway
  between two old ones (2 mm → 1 mm: every other voxel). The course rounds halves up; MONAI's
  ``grid_sample`` rounds coordinates that went through float32 normalization to [−1, 1], so its ties
  fall either way (a 1D ramp 0..4 at 2 mm resampled to 1 mm: MONAI 0 0 1 2 2 2 3 4 4, course
  0 1 1 2 2 3 3 4 4). Away from tie planes the labels are identical. With the label "intensity above
  its 80th percentile" of ``anatomical.nii``: 3,490 of 78,408 common voxels differ at 1.5 mm (4.5 %),
  14,537 of 257,985 at 1 mm (5.6 %), 1,283 of 72,576 at 0.9 × 1.3 × 3.3 mm, every one on a tie plane.
* **Intensity window**: equal up to float32 rounding (~1e-7). Mind the defaults: MONAI's
  ``ScaleIntensityRanged`` neither clips nor maps to [0, 1] unless told (``clip=False``,
  ``b_min=b_max=None``); the course's functions map to [0, 1] and clip.
* **Crop**: ``pos_neg_crop_centers`` draws with ``numpy.random.RandomState(seed)`` in MONAI's order,
  so it returns the very centres of ``RandCropByPosNegLabeld`` after ``set_random_state(seed)``, and
  the crops are equal. Its rules against ``course.patches.sample_patches``: the same shift of a
  foreground centre into the volume (corner = clip(p − s // 2, 0, n − s)), but MONAI's negative crops
  are centred on a background voxel (label 0) and then shifted, where ``sample_patches`` draws the
  corner uniformly; MONAI's pos/neg ratio is pos / (pos + neg).
* **Sliding window**: ``course.patches.sliding_window_inference`` equals MONAI's for constant and
  Gaussian blending (tested in ``tests/test_patches.py``); :func:`compare_steps` shows it on the
  preprocessed volume.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from course.medical.nifti import reorient
from course.medical.resample import resample_to_spacing

__all__ = [
    "scale_intensity_range",
    "course_preprocess",
    "monai_preprocess",
    "pos_neg_crop_centers",
    "crop_at_centers",
    "compare_steps",
    "format_steps",
]

Transform = Callable[..., tuple]  # (image, label | None, affine) -> the same three after one step


def scale_intensity_range(image: np.ndarray, *, a_min: float, a_max: float, b_min: float = 0.0, b_max: float = 1.0,
                          clip: bool = True) -> np.ndarray:
    """Map the intensity range [a_min, a_max] linearly onto [b_min, b_max] (a CT window), then clip.

        out = (x − a_min) / (a_max − a_min) · (b_max − b_min) + b_min,   clipped to [b_min, b_max] if ``clip``

    MONAI's ``ScaleIntensityRange`` semantics. With b = [0, 1] and clipping this is
    ``course.medical.clip_window`` with window_center = (a_min + a_max) / 2 and window_width = a_max − a_min.

    Args:
        image: any shape, HU for CT.
        a_min, a_max: the input range (e.g. −1000, 1000 HU), a_min < a_max.
        b_min, b_max: the output range, b_min <= b_max.
        clip: clip the output to [b_min, b_max].

    Returns:
        float32 array, same shape.

    Raises:
        ValueError: a_min >= a_max or b_min > b_max.
    """
    if not a_min < a_max or not b_min <= b_max:
        raise ValueError(f"need a_min < a_max and b_min <= b_max, got a=[{a_min}, {a_max}], b=[{b_min}, {b_max}]")
    out = (np.asarray(image, dtype=np.float64) - a_min) / (a_max - a_min) * (b_max - b_min) + b_min
    return (np.clip(out, b_min, b_max) if clip else out).astype(np.float32)


def _course_transforms(*, axcodes: str, spacing: Sequence[float], a_min: float, a_max: float, b_min: float,
                       b_max: float, clip: bool) -> list[tuple[str, Transform]]:
    """The course's three steps as (name, function of (image, label, affine)); image and label (X, Y, Z)."""
    def orientation(image, label, affine):  # permute and flip the voxel axes (no interpolation)
        out, new_affine = reorient(image, affine, axcodes)
        return out.astype(np.float32), None if label is None else reorient(label, affine, axcodes)[0], new_affine

    def spacing_(image, label, affine):  # linear for the image, nearest neighbour for the label
        out, new_affine = resample_to_spacing(image, affine, spacing, order=1)
        if label is not None:
            label = resample_to_spacing(label, affine, spacing, order=0)[0]
        return out, label, new_affine

    def intensity(image, label, affine):  # a window scaled to [b_min, b_max]
        out = scale_intensity_range(image, a_min=a_min, a_max=a_max, b_min=b_min, b_max=b_max, clip=clip)
        return out, label, affine

    return [("orientation", orientation), ("spacing", spacing_), ("intensity", intensity)]


def _monai_transforms(*, axcodes: str, spacing: Sequence[float], a_min: float, a_max: float, b_min: float,
                      b_max: float, clip: bool) -> list[tuple[str, Transform]]:
    """MONAI's three dictionary transforms, wrapped to take and return (image, label, affine) like the course's."""
    from monai.transforms import Orientationd, Spacingd, ScaleIntensityRanged

    def wrap(make: Callable[[list[str]], Callable[[dict], dict]]) -> Transform:
        def run(image, label, affine):
            from monai.data import MetaTensor

            affine_t = torch.as_tensor(np.asarray(affine, dtype=np.float64))
            data = {"image": MetaTensor(torch.as_tensor(np.asarray(image, dtype=np.float32))[None], affine=affine_t)}
            if label is not None:  # (1, X, Y, Z): MONAI is channel-first
                data["label"] = MetaTensor(torch.as_tensor(np.asarray(label, dtype=np.float32))[None], affine=affine_t)
            out = make(list(data))(data)
            out_label = None if label is None else np.rint(out["label"][0].numpy()).astype(np.int64)
            return out["image"][0].numpy().astype(np.float32), out_label, out["image"].affine.numpy().astype(np.float64)
        return run

    return [
        ("orientation", wrap(lambda keys: Orientationd(keys, axcodes=axcodes))),
        ("spacing", wrap(lambda keys: Spacingd(keys, pixdim=tuple(spacing), mode=("bilinear", "nearest")[:len(keys)]))),
        ("intensity", wrap(lambda keys: ScaleIntensityRanged("image", a_min=a_min, a_max=a_max, b_min=b_min,
                                                             b_max=b_max, clip=clip))),
    ]


def _run(transforms: list[tuple[str, Transform]], image: np.ndarray, label: np.ndarray | None,
         affine: np.ndarray) -> dict:
    """Apply the steps in order; the result as the output dict of the preprocess functions."""
    for _, transform in transforms:
        image, label, affine = transform(image, label, affine)
    return {"image": image, "label": None if label is None else np.asarray(label).astype(np.int64), "affine": affine}


def _check(image: np.ndarray, label: np.ndarray | None, affine: np.ndarray) -> None:
    image, affine = np.asarray(image), np.asarray(affine)
    if image.ndim != 3 or affine.shape != (4, 4) or (label is not None and np.shape(label) != image.shape):
        raise ValueError(f"need image (X, Y, Z) in the NIfTI voxel order, label None or the same shape, and a 4x4 "
                         f"affine (as course.medical.load_nifti returns them), got image {image.shape}, label "
                         f"{None if label is None else np.shape(label)}, affine {affine.shape}")


def course_preprocess(image: np.ndarray, label: np.ndarray | None, affine: np.ndarray, *, axcodes: str = "RAS",
                      spacing: Sequence[float], a_min: float, a_max: float, b_min: float = 0.0, b_max: float = 1.0,
                      clip: bool = True) -> dict:
    """The course's preprocessing: reorient → resample to ``spacing`` → intensity window scaled to [b_min, b_max].

    Steps: ``course.medical.reorient`` (lesson 10), ``course.medical.resample_to_spacing`` (order 1 for the
    image, 0 for the label; lesson 10), :func:`scale_intensity_range` (lesson 09's window). The same steps
    as :func:`monai_preprocess`; the module docstring lists where the two differ and by how much.

    Args:
        image: (X, Y, Z) float, NIfTI voxel order (e.g. from ``course.medical.load_nifti``), HU for CT.
        label: (X, Y, Z) int labels, 0 = background, or None.
        affine: (4, 4) voxel index -> RAS+ mm.
        axcodes: the target orientation, e.g. "RAS".
        spacing: (3,) mm along the *reoriented* voxel axes.
        a_min, a_max: intensity range mapped to [b_min, b_max] (e.g. −1000, 1000 HU).
        b_min, b_max: output range.
        clip: clip the output to [b_min, b_max].

    Returns:
        ``{"image": (X', Y', Z') float32, "label": (X', Y', Z') int64 or None, "affine": (4, 4) float64}``.

    Raises:
        ValueError: an image that is not 3D, a label of another shape, a bad affine, or what the steps reject.
    """
    _check(image, label, affine)
    steps = _course_transforms(axcodes=axcodes, spacing=spacing, a_min=a_min, a_max=a_max, b_min=b_min, b_max=b_max,
                               clip=clip)
    return _run(steps, image, label, affine)


def monai_preprocess(image: np.ndarray, label: np.ndarray | None, affine: np.ndarray, *, axcodes: str = "RAS",
                     spacing: Sequence[float], a_min: float, a_max: float, b_min: float = 0.0, b_max: float = 1.0,
                     clip: bool = True) -> dict:
    """The same preprocessing with MONAI: Orientationd → Spacingd (bilinear / nearest) → ScaleIntensityRanged.

    The arrays go in as channel-first ``MetaTensor`` (1, X, Y, Z) carrying ``affine``, as ``LoadImaged`` +
    ``EnsureChannelFirstd`` would give them; Spacingd keeps its defaults (padding_mode "border",
    align_corners False, float64 computation). Output as :func:`course_preprocess`, channel axis removed,
    the label rounded back to int64.

    Args:
        image, label, affine, axcodes, spacing, a_min, a_max, b_min, b_max, clip: as :func:`course_preprocess`.

    Returns:
        ``{"image": (X', Y', Z') float32, "label": (X', Y', Z') int64 or None, "affine": (4, 4) float64}``.

    Raises:
        ValueError: an image that is not 3D, a label of another shape, or a bad affine.
    """
    _check(image, label, affine)
    steps = _monai_transforms(axcodes=axcodes, spacing=spacing, a_min=a_min, a_max=a_max, b_min=b_min, b_max=b_max,
                              clip=clip)
    return _run(steps, image, label, affine)


def pos_neg_crop_centers(label: np.ndarray, *, spatial_size: Sequence[int], num_samples: int, pos: float = 1.0,
                         neg: float = 1.0, seed: int) -> np.ndarray:
    """Crop centres by MONAI's positive/negative rule (``RandCropByPosNegLabeld``), drawn with the same random numbers.

    For each sample: with probability pos / (pos + neg) pick a foreground voxel (label != 0), else a
    background voxel (label == 0), uniformly; then move it, axis by axis, into the range of centres
    whose crop [centre − s // 2, centre − s // 2 + s) lies inside the volume: [s // 2, n − s + s // 2].
    A shifted positive centre is no longer on the foreground, but its crop still contains the voxel.
    When one kind of voxel is missing every sample takes the other. The draws (``rand()`` then
    ``randint(count)`` per sample from ``numpy.random.RandomState(seed)``) follow MONAI's order, so the
    centres equal those of ``RandCropByPosNegLabeld(...).set_random_state(seed)``.

    Args:
        label: (X, Y, Z) (any number of axes) int labels, 0 = background.
        spatial_size: crop size per axis, 1 <= s <= n.
        num_samples: number of centres, >= 0.
        pos, neg: relative weights of positive and negative centres, >= 0, not both 0.
        seed: seeds ``numpy.random.RandomState``.

    Returns:
        (num_samples, ndim) int64 centres in voxels.

    Raises:
        ValueError: a crop larger than the label, bad weights, or a negative num_samples.
    """
    # 1. validate
    label = np.asarray(label)
    size = np.asarray(spatial_size, dtype=np.int64)
    if size.shape != (label.ndim,) or np.any(size < 1) or np.any(size > label.shape):
        raise ValueError(f"spatial_size must give 1 <= s <= n for each of the label's axes {label.shape}, "
                         f"got {tuple(spatial_size)}; pad the volume or crop smaller")
    if not (pos >= 0 and neg >= 0 and pos + neg > 0) or num_samples < 0:
        raise ValueError(f"need pos >= 0, neg >= 0, pos + neg > 0 and num_samples >= 0, got {pos}, {neg}, "
                         f"{num_samples}")
    # 2. the candidate voxels (flat indices in C order) and the probability of a positive centre
    foreground, background = np.flatnonzero(label != 0), np.flatnonzero(label == 0)
    pos_ratio = 0.0 if len(foreground) == 0 else 1.0 if len(background) == 0 else pos / (pos + neg)
    # 3. draw each centre, then shift it into the valid range
    rng, centers = np.random.RandomState(seed), []
    for _ in range(num_samples):
        candidates = foreground if rng.rand() < pos_ratio else background
        voxel = np.array(np.unravel_index(candidates[rng.randint(len(candidates))], label.shape))
        centers.append(np.clip(voxel, size // 2, np.array(label.shape) - size + size // 2))
    return np.array(centers, dtype=np.int64).reshape(num_samples, label.ndim)


def crop_at_centers(volume: np.ndarray, centers: np.ndarray, spatial_size: Sequence[int]) -> np.ndarray:
    """Crops [centre − s // 2, centre − s // 2 + s) of the last axes of ``volume`` (MONAI's ``SpatialCrop`` rule).

    Args:
        volume: (..., *S) array, e.g. (X, Y, Z) or (C, X, Y, Z).
        centers: (P, len(S)) int centres, each with its crop inside the volume.
        spatial_size: crop size per axis.

    Returns:
        (P, ..., *spatial_size) array, dtype of ``volume``.

    Raises:
        ValueError: a crop that leaves the volume.
    """
    # 1. the first voxel of each crop, which must lie inside the volume
    volume, size = np.asarray(volume), np.asarray(spatial_size, dtype=np.int64)
    starts = np.asarray(centers, dtype=np.int64).reshape(-1, len(size)) - size // 2  # (P, len(S))
    shape = np.array(volume.shape[volume.ndim - len(size):])  # the spatial axes S
    if np.any(starts < 0) or np.any(starts + size > shape):
        raise ValueError(f"every crop must lie inside the volume {tuple(shape)}; use pos_neg_crop_centers, which "
                         "shifts centres inside")
    # 2. slice the last axes, keep the leading ones (channels)
    lead = (slice(None),) * (volume.ndim - len(size))
    crops = [volume[lead + tuple(slice(a, a + s) for a, s in zip(start, size))] for start in starts]
    return np.stack(crops) if crops else np.zeros((0, *volume.shape[:len(lead)], *size), dtype=volume.dtype)


def _monai_crop_centers(label: np.ndarray, *, spatial_size: Sequence[int], num_samples: int, pos: float, neg: float,
                        seed: int) -> np.ndarray:
    """The centres MONAI's RandCropByPosNegLabeld chooses (from the crops' metadata)."""
    from monai.transforms import RandCropByPosNegLabeld

    crop = RandCropByPosNegLabeld(["label"], "label", spatial_size=tuple(spatial_size), pos=pos, neg=neg,
                                  num_samples=num_samples)
    crop.set_random_state(seed)
    out = crop({"label": torch.as_tensor(np.asarray(label))[None]})
    return np.array([list(sample["label"].meta["crop_center"]) for sample in out], dtype=np.int64)


def compare_steps(image: np.ndarray, label: np.ndarray | None, affine: np.ndarray, *, axcodes: str = "RAS",
                  spacing: Sequence[float], a_min: float, a_max: float, b_min: float = 0.0, b_max: float = 1.0,
                  clip: bool = True, crop_size: Sequence[int] | None = None, num_samples: int = 4,
                  seed: int = 0, roi_size: Sequence[int] | None = None, overlap: float = 0.25,
                  mode: str = "gaussian",
                  predictor: Callable[[torch.Tensor], torch.Tensor] | None = None) -> list[dict]:
    """Run the course's and MONAI's steps side by side; one row per transform, each given the same input.

    Each step gets the course's output of the step before, so a row measures that transform alone
    (a difference does not carry into the next row); the last row, "pipeline", compares
    :func:`course_preprocess` with :func:`monai_preprocess` run end to end. Differences are taken on
    the voxels both outputs have (their common corner: both grids start at voxel 0's centre).
    With ``crop_size`` (and a label) a "crop" row compares :func:`pos_neg_crop_centers` with
    ``RandCropByPosNegLabeld`` (same seed); with ``roi_size`` an "inference" row compares
    ``course.patches.sliding_window_inference`` with MONAI's on the preprocessed image, (1, 1, X', Y', Z'),
    with ``predictor`` (default: a seeded 3×3×3 convolution, 1 -> 2 channels).

    Args:
        image, label, affine, axcodes, spacing, a_min, a_max, b_min, b_max, clip: as :func:`course_preprocess`.
        crop_size, num_samples, seed: the pos/neg crop (pos = neg = 1); None leaves the row out.
        roi_size, overlap, mode: the sliding window; None leaves the row out.
        predictor: maps (B, 1, *roi) to (B, C, *roi).

    Returns:
        One dict per row: "transform" (the step), "course" and "monai" (what ran), "course_shape",
        "monai_shape", "affine_max_diff" (mm), "image_max_diff" (on the common voxels), "label_mismatches"
        (common label voxels that differ; for the crop row, centres that differ), "common_voxels" (for the
        crop row, the number of centres).

    Raises:
        ValueError: what :func:`course_preprocess` rejects.
    """
    _check(image, label, affine)
    kw = dict(axcodes=axcodes, spacing=spacing, a_min=a_min, a_max=a_max, b_min=b_min, b_max=b_max, clip=clip)
    names = {"orientation": (f"reorient({axcodes!r})", f"Orientationd({axcodes!r})"),
             "spacing": (f"resample_to_spacing({tuple(spacing)}, order 1 / 0)",
                         f"Spacingd({tuple(spacing)}, bilinear / nearest)"),
             "intensity": (f"scale_intensity_range([{a_min}, {a_max}] -> [{b_min}, {b_max}])",
                           "ScaleIntensityRanged")}
    rows, state = [], (np.asarray(image, dtype=np.float32), label, np.asarray(affine, dtype=np.float64))
    for (name, ours), (_, theirs) in zip(_course_transforms(**kw), _monai_transforms(**kw)):
        a, b = ours(*state), theirs(*state)
        rows.append(_row(name, *names[name], a, b))
        state = a
    rows.append(_row("pipeline", "course_preprocess", "monai_preprocess",
                     tuple(course_preprocess(image, label, affine, **kw).values()),
                     tuple(monai_preprocess(image, label, affine, **kw).values())))
    if crop_size is not None and state[1] is not None:
        rows.append(_crop_row(state[0], state[1], crop_size, num_samples, seed))
    if roi_size is not None:
        rows.append(_inference_row(state[0], roi_size, overlap, mode, predictor))
    return rows


def _row(name: str, course: str, monai: str, a: tuple, b: tuple) -> dict:
    """One table row from the two outputs (image, label, affine) of a step."""
    common = tuple(slice(0, min(m, n)) for m, n in zip(a[0].shape, b[0].shape))
    mismatches = None if a[1] is None else int(np.count_nonzero(np.asarray(a[1])[common] != np.asarray(b[1])[common]))
    return {"transform": name, "course": course, "monai": monai, "course_shape": tuple(a[0].shape),
            "monai_shape": tuple(b[0].shape), "affine_max_diff": float(np.abs(a[2] - b[2]).max()),
            "image_max_diff": float(np.abs(a[0][common] - b[0][common]).max()), "label_mismatches": mismatches,
            "common_voxels": int(np.prod([s.stop for s in common]))}


def _crop_row(image: np.ndarray, label: np.ndarray, crop_size: Sequence[int], num_samples: int, seed: int) -> dict:
    ours = pos_neg_crop_centers(label, spatial_size=crop_size, num_samples=num_samples, seed=seed)
    theirs = _monai_crop_centers(label, spatial_size=crop_size, num_samples=num_samples, pos=1.0, neg=1.0, seed=seed)
    a, b = crop_at_centers(image, ours, crop_size), crop_at_centers(image, theirs, crop_size)
    return {"transform": "crop", "course": f"pos_neg_crop_centers({tuple(crop_size)}, seed={seed})",
            "monai": "RandCropByPosNegLabeld", "course_shape": tuple(a.shape), "monai_shape": tuple(b.shape),
            "affine_max_diff": 0.0,
            "image_max_diff": float(np.abs(a - b).max()) if a.shape == b.shape else float("inf"),
            "label_mismatches": int(np.count_nonzero(np.any(ours != theirs, axis=1))), "common_voxels": len(ours)}


def _inference_row(image: np.ndarray, roi_size: Sequence[int], overlap: float, mode: str,
                   predictor: Callable[[torch.Tensor], torch.Tensor] | None) -> dict:
    from monai.inferers import sliding_window_inference as monai_sliding_window

    from course.patches import sliding_window_inference

    if predictor is None:
        torch.manual_seed(0)
        predictor = torch.nn.Conv3d(1, 2, 3, padding=1).eval()
    x = torch.from_numpy(image)[None, None]  # (1, 1, X', Y', Z')
    with torch.no_grad():
        a = sliding_window_inference(x, tuple(roi_size), predictor, overlap=overlap, mode=mode).numpy()
        b = monai_sliding_window(x, tuple(roi_size), 4, predictor, overlap=overlap, mode=mode).numpy()
    return {"transform": "inference", "course": f"sliding_window_inference({tuple(roi_size)}, {overlap}, {mode})",
            "monai": "monai.inferers.sliding_window_inference", "course_shape": a.shape, "monai_shape": b.shape,
            "affine_max_diff": 0.0, "image_max_diff": float(np.abs(a - b).max()), "label_mismatches": None,
            "common_voxels": int(a.size)}


def format_steps(rows: list[dict]) -> str:
    """The rows of :func:`compare_steps` as a plain-text table: transform | course | MONAI | max |diff|.

    Args:
        rows: the list :func:`compare_steps` returns.

    Returns:
        One line per row (shapes, affine difference, image difference, label mismatches), with a header.
    """
    lines = [f"{'transform':<12}| {'course':<20}| {'MONAI':<20}| {'affine':>8} | {'max |diff|':>10} | labels differ"]
    for r in rows:
        unit = " centres" if r["transform"] == "crop" else " voxels"
        labels = "-" if r["label_mismatches"] is None else f"{r['label_mismatches']} / {r['common_voxels']}{unit}"
        lines.append(f"{r['transform']:<12}| {str(r['course_shape']):<20}| {str(r['monai_shape']):<20}| "
                     f"{r['affine_max_diff']:8.2g} | {r['image_max_diff']:10.3g} | {labels}")
    return "\n".join(lines)
