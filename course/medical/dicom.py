"""Reading CT from DICOM: one file to Hounsfield units, a folder of slices to a 3D volume.

Lesson 09_ct_hounsfield.

A CT *series* is a folder of files, one slice each. The file names and the InstanceNumber say
nothing reliable about where a slice lies; the geometry is in three attributes of the Image Plane
Module (DICOM PS3.3 C.7.6.2):

* ImagePositionPatient (0020,0032): x, y, z in mm of the *centre of the first transmitted pixel*
  (row 0, column 0), in the patient coordinate system LPS (+x to the patient's Left, +y to
  Posterior, +z to Superior, the head);
* ImageOrientationPatient (0020,0037): six direction cosines. The first three are the *row*
  direction: the direction in which the **column index increases** along a row; the last three
  are the *column* direction: the direction in which the **row index increases** down a column;
* PixelSpacing (0028,0030): [spacing between rows (the vertical, along the column direction),
  spacing between columns (the horizontal, along the row direction)] in mm.

So pixel (row r, column c) of a slice lies at (PS3.3 C.7.6.2.1.1)::

    ImagePositionPatient + r * PixelSpacing[0] * column_direction + c * PixelSpacing[1] * row_direction

Slices are stacked along the slice normal (row direction × column direction) and sorted by their
position projected on it (:func:`slice_normal`, :func:`sort_slices`, :func:`load_dicom_series`).
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from tqdm.auto import tqdm

from course.medical.hounsfield import rescale_to_hu

__all__ = ["dicom_to_hu", "slice_normal", "sort_slices", "load_dicom_series"]

_SPACING_ATOL_MM = 0.01  # slice gaps may differ by this much plus _SPACING_RTOL of the typical gap
_SPACING_RTOL = 0.01  # (positions are stored as decimal strings of at most 16 characters)
_ORIENTATION_ATOL = 1e-4  # direction cosines this close are one orientation
_PROGRESS_MIN_FILES = 200  # show a tqdm progress bar only for larger series
_PIXEL_DATA_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def dicom_to_hu(path_or_dataset: str | os.PathLike | Dataset) -> np.ndarray:
    """Read the pixels of one DICOM CT image and convert them to Hounsfield units.

    Uses :func:`~course.medical.hounsfield.rescale_to_hu` with RescaleSlope / RescaleIntercept
    (DICOM PS3.3 C.11.1.1.2). A missing RescaleSlope counts as 1 and a missing RescaleIntercept as
    0. When both are missing at the top level, an enhanced multi-frame image's functional groups
    (PixelValueTransformationSequence, PS3.3 C.7.6.16.2.9) are used; with no rescale anywhere the
    stored values are returned as float32. (pydicom's ``apply_modality_lut`` reads the top level
    only, so it returns stored values for enhanced CT such as pydicom-data's eCT_Supplemental.dcm.)

    Args:
        path_or_dataset: a file path, or a ``pydicom.Dataset`` already read.

    Returns:
        HU, float32: (H, W) for a single-frame image, (F, H, W) for a multi-frame one.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the file is not DICOM, cannot be read, has no pixel data, its pixel data cannot
            be decoded, or it uses a non-linear Modality LUT (ModalityLUTSequence). The message
            names the file; pydicom's own exception is chained below it.
    """
    # 1. read the file (or take the dataset as given)
    ds = path_or_dataset if isinstance(path_or_dataset, Dataset) else _read_dicom(path_or_dataset)
    name = _describe(ds)
    # 2. decode the stored values
    if not any(k in ds for k in _PIXEL_DATA_KEYWORDS):
        raise ValueError(f"{name} has no pixel data (no PixelData element): it is not an image "
                         "(a report, a DICOMDIR?) or the file is truncated; pass a complete image file")
    try:
        pixels = ds.pixel_array
    except Exception as err:
        raise ValueError(f"cannot decode the pixel data of {name} (transfer syntax "
                         f"{_transfer_syntax(ds)}): {err}; a compressed file may need a decoder "
                         "plugin such as pylibjpeg") from err
    # 3. apply the linear Modality LUT
    slope, intercept = _rescale(ds, name)
    return rescale_to_hu(pixels, slope, intercept)


def slice_normal(image_orientation: Sequence[float] | np.ndarray) -> np.ndarray:
    """The unit normal of a slice: row direction × column direction (DICOM PS3.3 C.7.6.2.1.1).

    Args:
        image_orientation: ImageOrientationPatient, 6 direction cosines (row direction x, y, z, then
            column direction x, y, z), unitless.

    Returns:
        (3,) float64, LPS. For an axial slice, (1,0,0,0,1,0) -> (0, 0, 1), pointing to the head.

    Raises:
        ValueError: not 6 values.
    """
    iop = np.asarray(image_orientation, dtype=np.float64)
    if iop.shape != (6,):
        raise ValueError(f"ImageOrientationPatient must hold 6 values, got shape {iop.shape}")
    return np.cross(iop[:3], iop[3:])


def sort_slices(positions: np.ndarray, image_orientation: Sequence[float] | np.ndarray) -> np.ndarray:
    """The order of slices along their normal, from their ImagePositionPatient.

    Args:
        positions: (D, 3) ImagePositionPatient of each slice, mm, LPS.
        image_orientation: the series' ImageOrientationPatient, 6 values.

    Returns:
        (D,) int64 indices into ``positions`` (a stable argsort of ``positions @ normal``): the
        first index is the slice furthest against the normal (for an axial series, the lowest z).
        A single slice (D = 1) gives ``[0]``.

    Raises:
        ValueError: ``positions`` is not (D, 3), or the orientation is not 6 values.
    """
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ValueError(f"positions must be (D, 3), one ImagePositionPatient per slice, got shape {positions.shape}")
    along_normal = positions @ slice_normal(image_orientation)  # (D,)
    return np.argsort(along_normal, kind="stable").astype(np.int64)


def load_dicom_series(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load a folder holding one CT series (one file per slice) as a volume in HU with its geometry.

    Slices are ordered by ImagePositionPatient projected on the slice normal, never by file name
    or InstanceNumber. Hidden files (names starting with ".") are skipped; sub-folders are not
    searched; any other file must be a DICOM image of the series.

    Affine convention: ``affine @ [k, r, c, 1]`` is the LPS position in mm (DICOM PS3.3
    C.7.6.2.1.1) of the centre of voxel ``volume[k, r, c]``, i.e. of slice k, row r, column c:
    column 0 is the step from one slice to the next (the mean of ImagePositionPatient[k+1] - [k]),
    column 1 is PixelSpacing[0] * column direction (next row), column 2 is PixelSpacing[1] * row
    direction (next column), column 3 is the ImagePositionPatient of slice 0. For an axial series
    (k, r, c) run along (z, y, x), so the 3x3 part has a negative determinant. For a NIfTI-style
    RAS affine, negate the first two rows (``np.diag([-1, -1, 1, 1]) @ affine``); for the
    (column, row, slice) order of ``volume.transpose(2, 1, 0)``, use ``affine[:, [2, 1, 0, 3]]``.

    Args:
        folder: the folder of the series.

    Returns:
        ``(volume, spacing, affine)``:
        volume: (D, H, W) float32 HU, D slices along the normal, H = Rows, W = Columns;
        spacing: (3,) float64 mm in the volume's axis order (slice, row, column) =
            (distance between slice positions, PixelSpacing[0], PixelSpacing[1]); for a single
            slice the first is SliceThickness (1.0 when absent);
        affine: (4, 4) float64, voxel index (k, r, c) -> LPS mm, as above.

    Raises:
        ValueError: an empty folder; a non-DICOM file or one without pixel data (named); files
            from several series, orientations, image sizes or pixel spacings (each named with its
            file count); slices at the same position; uneven slice spacing (a missing slice: the
            message gives the spacings and where the gap is).
    """
    # 1. read every file and check that they form one stack of parallel slices
    paths, datasets = _read_folder(Path(folder))
    _check_one_series(Path(folder), paths, datasets)
    iop = np.asarray(datasets[0].ImageOrientationPatient, dtype=np.float64)  # (6,)
    # 2. sort by position along the normal; check for duplicates and gaps
    positions = np.array([ds.ImagePositionPatient for ds in datasets], dtype=np.float64)  # (D, 3)
    order = sort_slices(positions, iop)
    positions = positions[order]
    datasets = [datasets[i] for i in order]
    _check_slice_gaps(positions @ slice_normal(iop), [paths[i] for i in order])
    # 3. stack the slices in HU (each slice with its own rescale)
    volume = np.stack([dicom_to_hu(ds) for ds in datasets])  # (D, H, W)
    # 4. geometry: spacing and affine in the volume's axis order (slice, row, column)
    if len(datasets) > 1:
        slice_step = (positions[-1] - positions[0]) / (len(datasets) - 1)  # (3,) mm
    else:
        slice_step = slice_normal(iop) * float(datasets[0].get("SliceThickness") or 1.0)
    row_spacing, col_spacing = (float(v) for v in datasets[0].PixelSpacing)
    spacing = np.array([np.linalg.norm(slice_step), row_spacing, col_spacing])
    affine = np.eye(4)
    affine[:3, 0] = slice_step  # k: next slice
    affine[:3, 1] = iop[3:] * row_spacing  # r: next row, along the column direction
    affine[:3, 2] = iop[:3] * col_spacing  # c: next column, along the row direction
    affine[:3, 3] = positions[0]
    return volume, spacing, affine


# ---------------------------------------------------------------------------------------------
# helpers


def _read_dicom(path: str | os.PathLike) -> Dataset:
    """dcmread with our message on top of pydicom's errors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such DICOM file: {path}")
    try:
        return pydicom.dcmread(path)
    except InvalidDicomError as err:
        raise ValueError(f"{path} is not a DICOM file (no 'DICM' marker after the 128-byte "
                         "preamble); remove it or pass a DICOM file") from err
    except Exception as err:
        raise ValueError(f"could not read {path} as DICOM ({type(err).__name__}: {err}); "
                         "the file may be truncated or corrupt") from err


def _describe(ds: Dataset) -> str:
    """The file name of a dataset read from disk, else a short description."""
    filename = getattr(ds, "filename", None)
    if isinstance(filename, (str, os.PathLike)) and str(filename):
        return str(filename)
    return f"dataset (SOPInstanceUID {ds.get('SOPInstanceUID', 'unknown')})"


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    return f"{uid.name}" if uid is not None else "unknown"


def _rescale(ds: Dataset, name: str) -> tuple[float, float]:
    """(slope, intercept): top level, else an enhanced image's functional groups, else (1, 0)."""
    if ds.get("ModalityLUTSequence"):
        raise ValueError(f"{name} uses a non-linear Modality LUT (ModalityLUTSequence), which this "
                         "course does not support; use pydicom.pixels.apply_modality_lut")
    if _present(ds, "RescaleSlope") or _present(ds, "RescaleIntercept"):  # a missing one: 1 or 0
        return float(ds.get("RescaleSlope") or 1.0), float(ds.get("RescaleIntercept") or 0.0)
    found = set()  # enhanced multi-frame images keep the rescale in functional groups
    for group in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        for item in ds.get(group) or []:
            for t in item.get("PixelValueTransformationSequence") or []:
                if _present(t, "RescaleSlope") and _present(t, "RescaleIntercept"):
                    found.add((float(t.RescaleSlope), float(t.RescaleIntercept)))
    if len(found) > 1:
        raise ValueError(f"{name} has {len(found)} different rescales in its frames "
                         f"{sorted(found)}; convert frame by frame")
    return found.pop() if found else (1.0, 0.0)


def _present(ds: Dataset, keyword: str) -> bool:
    """The element is there and holds a value."""
    return ds.get(keyword) not in (None, "")


def _read_folder(folder: Path) -> tuple[list[Path], list[Dataset]]:
    """All non-hidden files of ``folder``, read as DICOM images (pixel data present)."""
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder; pass the folder that holds the series' files")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not paths:
        raise ValueError(f"{folder} holds no files (hidden files are skipped); "
                         "pass the folder that holds the series' .dcm files")
    datasets = []
    for path in tqdm(paths, desc="reading DICOM", disable=len(paths) <= _PROGRESS_MIN_FILES):
        ds = _read_dicom(path)
        if not any(k in ds for k in _PIXEL_DATA_KEYWORDS):
            raise ValueError(f"{path} has no pixel data (no PixelData element; not an image, or "
                             "truncated); remove it from the folder or replace it with the slice's "
                             "complete image file")
        if int(ds.get("NumberOfFrames") or 1) > 1:
            raise ValueError(f"{path} is a multi-frame image ({ds.NumberOfFrames} frames), not one "
                             "slice of a series; read it alone with dicom_to_hu")
        missing = [k for k in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing")
                   if not _present(ds, k)]
        if missing:
            raise ValueError(f"{path} lacks {', '.join(missing)}, so its place in the volume is "
                             "unknown; this loader needs the Image Plane Module (PS3.3 C.7.6.2)")
        datasets.append(ds)
    return paths, datasets


def _check_one_series(folder: Path, paths: list[Path], datasets: list[Dataset]) -> None:
    """One series, one orientation, one image size, one pixel spacing; else a ValueError."""
    checks = [
        ("series (SeriesInstanceUID)", lambda ds: str(ds.get("SeriesInstanceUID", "missing")),
         "put each series in its own folder"),
        ("orientations (ImageOrientationPatient)",
         lambda ds: _rounded(ds.ImageOrientationPatient, 4),
         "a series must be one stack of parallel slices: was a localizer (scout) image included?"),
        ("image sizes (Rows × Columns)", lambda ds: f"{ds.Rows}×{ds.Columns}",
         "all slices of a volume must have the same size"),
        ("pixel spacings (PixelSpacing)", lambda ds: _rounded(ds.PixelSpacing, 4),
         "all slices of a volume must have the same pixel spacing"),
    ]
    for what, key, fix in checks:
        keys = [key(ds) for ds in datasets]
        counts = Counter(keys)
        if len(counts) > 1:
            parts = []
            for value, n in counts.most_common():
                example = paths[keys.index(value)].name
                parts.append(f"{value} ({n} file{'s' * (n > 1)}, e.g. {example})")
            raise ValueError(f"{folder} holds files of {len(counts)} {what}: "
                             f"{'; '.join(parts)}; {fix}")


def _rounded(values: Sequence[float], decimals: int) -> str:
    """A printable, comparable key for a list of decimal values."""
    return "(" + ", ".join(f"{round(float(v), decimals) + 0.0:g}" for v in values) + ")"


def _check_slice_gaps(along_normal: np.ndarray, paths: list[Path]) -> None:
    """Sorted slice positions (D,) in mm must be distinct and evenly spaced."""
    gaps = np.diff(along_normal)  # (D - 1,)
    if len(gaps) == 0:
        return
    tol = _SPACING_ATOL_MM + _SPACING_RTOL * float(np.median(gaps))
    dup = np.flatnonzero(gaps <= tol)
    if len(dup) > 0:
        i = dup[0]
        raise ValueError(f"two slices at the same position z={along_normal[i]:.6g} mm "
                         f"({paths[i].name} and {paths[i + 1].name}); the folder may hold two "
                         "acquisitions of one series, or a copied file: remove the duplicate")
    typical = float(np.median(gaps))
    odd = np.flatnonzero(np.abs(gaps - typical) > tol)
    if len(odd) > 0:
        i = odd[0]
        distinct = sorted({round(float(g), 3) for g in (typical, *gaps[odd])})
        listed = ", ".join(f"{g:g} mm" for g in distinct)
        where = f"between z={along_normal[i]:.6g} and z={along_normal[i + 1]:.6g} mm"
        guess = f"a slice {where} is missing?" if gaps[i] > typical else f"an extra slice {where}?"
        raise ValueError(f"series has {len(distinct)} slice spacings ({listed}); {guess} "
                         "(z is the position along the slice normal)")
