"""NIfTI files, affines and orientation codes: load, save, canonicalize, and DICOM series to NIfTI.

Lesson 10_mri_nifti.

A NIfTI-1 file stores an array and up to two affines that map a voxel index (i, j, k) to a position
in millimetres (NIfTI-1 standard, nifti1.h, "method 2" qform: quaternion, pixdim and qfac, and
"method 3" sform: a general 4x4 matrix; each has a code saying what its world space is). The world
space is **RAS+**: x grows towards the subject's Right, y towards Anterior, z towards Superior.
DICOM's patient system is **LPS+** (x to the Left, y to Posterior): the two differ by the sign of x
and y, so an LPS affine becomes a RAS affine with ``np.diag([-1, -1, 1, 1]) @ affine_lps``.

Conventions in this module (they follow nibabel's coordinate-system documentation):

* ``data[i, j, k]`` is the voxel whose centre lies at ``affine @ [i, j, k, 1]`` (mm, RAS+). The array
  keeps the file's voxel order: nothing is transposed on load. Data are float32 numpy arrays, like
  the (D, H, W) volumes of :mod:`course.medical.dicom`; affines are (4, 4) float64.
* Orientation codes (``axcodes``) name, for each voxel axis, the direction in which its index grows:
  ("L", "A", "S") means i grows to the subject's Left, j to Anterior, k to Superior. (ITK and DICOM
  tools often name the direction an axis comes *from* instead, so their "RAI" is our "LPS".)
* "Canonical" means RAS: i to Right, j to Anterior, k to Superior (nibabel's ``as_closest_canonical``).

Functions:
    load_nifti, save_nifti      file <-> (data, affine), nibabel does the file format
    lps_to_ras                  DICOM (LPS) affine -> NIfTI (RAS) affine
    voxel_to_world              affine @ [i, j, k, 1]
    voxel_spacing               column norms of the affine's 3x3 part, mm
    axcodes                     orientation codes from the affine's columns
    reorient                    permute and flip axes to a target orientation, affine updated
    dicom_series_to_nifti       a DICOM CT series folder -> a NIfTI file (LPS -> RAS done right)
    xyz_to_dhw, time_series_to_frames   NIfTI (X, Y, Z[, T]) -> the course layouts (D, H, W), (T, 1, D, H, W)
"""
from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError

from course.medical.dicom import load_dicom_series

__all__ = [
    "load_nifti",
    "save_nifti",
    "lps_to_ras",
    "voxel_to_world",
    "voxel_spacing",
    "axcodes",
    "reorient",
    "dicom_series_to_nifti",
    "xyz_to_dhw",
    "time_series_to_frames",
]

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])  # negate x and y; also RAS -> LPS (its own inverse)


def load_nifti(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a NIfTI-1 or NIfTI-2 file (.nii or .nii.gz) as float32 data and its voxel-to-RAS affine.

    The affine is nibabel's choice (``img.affine``): the sform when its code is non-zero, else the
    qform when its code is non-zero, else a scaling by the voxel sizes (NIfTI-1 standard, methods
    3, 2 and 1). The stored values are scaled by scl_slope/scl_inter when the header sets them.

    Args:
        path: the file.

    Returns:
        ``(data, affine)``: data (X, Y, Z) or (X, Y, Z, T, ...) float32 in the file's voxel order;
        affine (4, 4) float64 mapping voxel index (i, j, k, 1) to RAS+ millimetres.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the file is not a NIfTI image nibabel can read (nibabel's error chained below).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NIfTI file at {path}; check the path (.nii or .nii.gz)")
    try:
        img = nib.load(path)
    except (ImageFileError, OSError, EOFError) as err:
        raise ValueError(f"could not read {path} as NIfTI ({type(err).__name__}: {err}); "
                         "is it a .nii/.nii.gz file and complete?") from err
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise ValueError(f"{path} is a {type(img).__name__}, not NIfTI; convert it first "
                         "(e.g. nibabel.Nifti1Image(img.get_fdata(), img.affine))")
    return np.asarray(img.get_fdata(dtype=np.float32)), np.asarray(img.affine, dtype=np.float64)


def save_nifti(data: np.ndarray, affine: np.ndarray, path: str | os.PathLike) -> Path:
    """Write data and a voxel-to-RAS affine as a NIfTI-1 file (nibabel does the format).

    Both the sform and the qform are set to ``affine`` with code 1 ("scanner anatomical"), and the
    units to millimetres and seconds, so that every reader, whichever of the two it prefers, puts
    the voxels in the same place (the qform cannot hold a shear; nibabel then stores the nearest
    rotation there and the sform keeps the exact matrix).

    Args:
        data: (X, Y, Z) or (X, Y, Z, T) array; stored as float32.
        affine: (4, 4) voxel index -> RAS+ mm.
        path: the file to write (.nii or .nii.gz); its folder must exist.

    Returns:
        The path written.

    Raises:
        ValueError: data has fewer than 3 dimensions, or the affine is not 4x4.
    """
    data = np.asarray(data, dtype=np.float32)
    affine = np.asarray(affine, dtype=np.float64)
    if data.ndim < 3 or affine.shape != (4, 4):
        raise ValueError(f"need data with at least 3 dimensions and a 4x4 affine, got data shape "
                         f"{data.shape} and affine shape {affine.shape}")
    img = nib.Nifti1Image(data, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    img.header.set_xyzt_units("mm", "sec")
    nib.save(img, Path(path))
    return Path(path)


def lps_to_ras(affine: np.ndarray) -> np.ndarray:
    """Turn a voxel-to-LPS affine (DICOM) into a voxel-to-RAS affine (NIfTI), or back.

    RAS = diag(-1, -1, 1) LPS: the same point has the opposite x and y. So the first two *rows* of
    the affine change sign (translation included); the voxel axes (columns) stay as they are.

    Args:
        affine: (4, 4) voxel index -> LPS mm (e.g. from :func:`~course.medical.dicom.load_dicom_series`).

    Returns:
        (4, 4) float64 voxel index -> RAS mm (applied twice, the original affine).

    Raises:
        ValueError: not a 4x4 matrix.
    """
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4):
        raise ValueError(f"expected a 4x4 affine, got shape {affine.shape}")
    return _LPS_TO_RAS @ affine


def voxel_to_world(affine: np.ndarray, ijk: np.ndarray) -> np.ndarray:
    """World positions (mm) of voxel indices: ``affine @ [i, j, k, 1]`` for each row of ``ijk``.

    The 1 appended to each index is what adds the affine's translation (its last column).

    Args:
        affine: (4, 4) voxel index -> world mm.
        ijk: (3,) one index or (N, 3) indices (integer or fractional voxel coordinates).

    Returns:
        float64, (3,) or (N, 3): world coordinates in mm, in the affine's world space.

    Raises:
        ValueError: the affine is not 4x4, or ``ijk`` does not end in an axis of size 3.
    """
    affine = np.asarray(affine, dtype=np.float64)
    ijk = np.asarray(ijk, dtype=np.float64)
    if affine.shape != (4, 4) or ijk.ndim not in (1, 2) or ijk.shape[-1] != 3:
        raise ValueError(f"need a 4x4 affine and indices of shape (3,) or (N, 3), "
                         f"got {affine.shape} and {ijk.shape}")
    # 1. homogeneous coordinates: (..., 4) with a trailing 1
    homogeneous = np.concatenate([ijk, np.ones(ijk.shape[:-1] + (1,))], axis=-1)
    # 2. one matrix product per index, written for row vectors: (A @ x)^T = x^T @ A^T
    return (homogeneous @ affine.T)[..., :3]


def voxel_spacing(affine: np.ndarray) -> np.ndarray:
    """Voxel sizes (mm) along the voxel axes i, j, k: the lengths of the affine's first three columns.

    Column j of the 3x3 part is the world step of one voxel along axis j, so its length is the
    spacing whatever the rotation or axis permutation (the diagonal alone is right only for
    an affine without rotation or permutation).

    Args:
        affine: (4, 4) voxel index -> world mm.

    Returns:
        (3,) float64 mm.

    Raises:
        ValueError: not a 4x4 matrix.
    """
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4):
        raise ValueError(f"expected a 4x4 affine, got shape {affine.shape}")
    return np.sqrt((affine[:3, :3] ** 2).sum(axis=0))


def axcodes(affine: np.ndarray) -> tuple[str, str, str]:
    """Orientation codes of a voxel-to-RAS affine: where each voxel axis points (nibabel's aff2axcodes).

    Column j of the 3x3 part is the world step of voxel axis j. Its largest component names the
    world axis it follows (x: R/L, y: A/P, z: S/I) and its sign the direction (+ gives R, A, S;
    - gives L, P, I). Each world axis is given once, first to the column that follows its world
    axis most closely (largest component of the unit column), so an oblique affine still gets three
    different axes. For rotations with any voxel sizes (no shear) this is what nibabel's
    ``io_orientation`` computes.

    Args:
        affine: (4, 4) voxel index -> RAS+ mm (a DICOM LPS affine must go through :func:`lps_to_ras`).

    Returns:
        Three letters, e.g. ("L", "A", "S") for ``anatomical.nii``.

    Raises:
        ValueError: not a 4x4 matrix, or its 3x3 part is singular (an axis has no direction).
    """
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4):
        raise ValueError(f"expected a 4x4 affine, got shape {affine.shape}")
    directions = affine[:3, :3]  # column j: world step of voxel axis j
    norms = np.sqrt((directions ** 2).sum(axis=0))
    if norms.min() == 0 or abs(np.linalg.det(directions)) < 1e-9 * norms.prod():
        raise ValueError(f"the affine's 3x3 part is singular (column lengths {norms}); "
                         "every voxel axis needs its own direction")
    # 1. unit columns; the most axis-aligned column chooses first
    directions = directions / norms
    codes = ["", "", ""]
    for j in np.argsort(-np.abs(directions).max(axis=0), kind="stable"):
        # 2. the world axis this voxel axis moves along most (among those not yet taken)
        world = int(np.argmax(np.abs(directions[:, j])))
        # 3. its sign: towards R, A, S (+) or L, P, I (-)
        codes[j] = "RAS"[world] if directions[world, j] > 0 else "LPI"[world]
        # 4. that world axis is taken
        directions[world, :] = 0.0
    return codes[0], codes[1], codes[2]


def reorient(data: np.ndarray, affine: np.ndarray, target: str = "RAS") -> tuple[np.ndarray, np.ndarray]:
    """Permute and flip the voxel axes so that they point as ``target`` says; update the affine.

    Only axis permutations and flips are done (no interpolation), so every voxel keeps its value
    and its world position: ``new_affine @ [i', j', k', 1]`` is the position of the same voxel as
    before. A flip of axis t (size n) maps new index i' to old index n - 1 - i', so the affine's
    column t changes sign *and* its translation moves by that column times (n - 1). Same result as
    nibabel's ``as_closest_canonical`` for "RAS" (and ``ornt_transform`` + ``apply_orientation``
    for other targets).

    Args:
        data: (X, Y, Z) or (X, Y, Z, ...) array; axes after the third (time, channels) are kept.
        affine: (4, 4) voxel index -> RAS+ mm.
        target: three letters, one of R/L, one of A/P, one of S/I in any order, e.g. "RAS", "LPS".

    Returns:
        ``(data, affine)``: the reoriented data (a contiguous copy, same dtype) and its (4, 4)
        float64 affine, whose :func:`axcodes` are ``tuple(target)``.

    Raises:
        ValueError: data has fewer than 3 dimensions, the affine is not 4x4 or singular, or
            ``target`` is not a valid orientation code.
    """
    data = np.asarray(data)
    affine = np.asarray(affine, dtype=np.float64)
    pairs = ("RL", "AP", "SI")
    if len(target) != 3 or sorted(i for c in target for i, p in enumerate(pairs) if c in p) != [0, 1, 2]:
        raise ValueError(f"target must hold one letter of each pair R/L, A/P, S/I (e.g. 'RAS'), got {target!r}")
    if data.ndim < 3:
        raise ValueError(f"data must have at least 3 dimensions (X, Y, Z), got shape {data.shape}")
    source = axcodes(affine)
    # 1. for each target axis: the source axis on the same world axis, and whether it runs backwards
    order, flip = [], []
    for letter in target:
        pair = next(p for p in pairs if letter in p)
        axis = next(j for j, code in enumerate(source) if code in pair)
        order.append(axis)
        flip.append(source[axis] != letter)
    # 2. data: permute the three spatial axes (trailing axes stay), then flip
    out = np.transpose(data, order + list(range(3, data.ndim)))
    for axis in range(3):
        if flip[axis]:
            out = np.flip(out, axis=axis)
    # 3. affine: new index -> old index (permutation; old = n - 1 - new on flipped axes)
    new_to_old = np.zeros((4, 4))
    new_to_old[3, 3] = 1.0
    for axis in range(3):
        new_to_old[order[axis], axis] = -1.0 if flip[axis] else 1.0
        new_to_old[order[axis], 3] = out.shape[axis] - 1 if flip[axis] else 0.0
    return out.copy(), affine @ new_to_old  # a new C-ordered array, never a view of the input


def dicom_series_to_nifti(folder: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Convert a DICOM CT series (a folder of slices) into a NIfTI file in HU.

    The volume keeps :func:`~course.medical.dicom.load_dicom_series`'s voxel order (slice, row,
    column); its LPS affine becomes a RAS affine with :func:`lps_to_ras`. Reading the file back
    with :func:`load_nifti` gives the same array, and every voxel lands at the same physical point.

    Args:
        folder: the series' folder.
        path: the NIfTI file to write (.nii or .nii.gz).

    Returns:
        The path written.

    Raises:
        ValueError: whatever :func:`~course.medical.dicom.load_dicom_series` rejects.
    """
    volume, _, affine_lps = load_dicom_series(folder)  # (D, H, W) HU, voxel (k, r, c) -> LPS mm
    return save_nifti(volume, lps_to_ras(affine_lps), path)


def xyz_to_dhw(data: np.ndarray) -> np.ndarray:
    """A NIfTI volume (X, Y, Z) in the course's volume layout (D, H, W) = (Z, Y, X).

    For a canonical (RAS) volume, D runs inferior -> superior (axial slices), H posterior ->
    anterior and W left -> right.

    Args:
        data: (X, Y, Z) array.

    Returns:
        (Z, Y, X) contiguous array, same dtype.

    Raises:
        ValueError: data is not 3D.
    """
    data = np.asarray(data)
    if data.ndim != 3:
        raise ValueError(f"expected a 3D volume (X, Y, Z), got shape {data.shape}; "
                         "for (X, Y, Z, T) use time_series_to_frames")
    return np.ascontiguousarray(data.transpose(2, 1, 0))


def time_series_to_frames(data: np.ndarray) -> np.ndarray:
    """A 4D NIfTI time series (X, Y, Z, T) as a "video" of volumes (T, 1, D, H, W).

    Like frames (T, C, H, W) of a clip: T volumes in time order, one channel each, each volume in
    the (D, H, W) = (Z, Y, X) layout of :func:`xyz_to_dhw`.

    Args:
        data: (X, Y, Z, T) array, e.g. an fMRI run.

    Returns:
        (T, 1, Z, Y, X) contiguous array, same dtype.

    Raises:
        ValueError: data is not 4D.
    """
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"expected a 4D time series (X, Y, Z, T), got shape {data.shape}")
    return np.ascontiguousarray(data.transpose(3, 2, 1, 0)[:, None])  # (T, 1, Z, Y, X)
