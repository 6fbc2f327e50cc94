"""The MNI152 2009a symmetric brain template: a real T1 MRI with grey- and white-matter maps.

The ``nilearn`` package ships three files of the ICBM 2009a nonlinear symmetric template (Fonov et
al. 2009, 2011) in ``nilearn/datasets/data/``:

    file                                                  contents (197×233×189 voxels, 1 mm, RAS)
    mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz      T1-weighted average, skull stripped, uint8
    mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz      grey-matter probability × 255, uint8
    mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz      white-matter probability × 255, uint8

They are found through ``importlib.metadata.files("nilearn")`` (the package's own file list), so
``nilearn`` is never imported, and read with ``nibabel``. Nothing is downloaded.

What this module adds:

* :func:`load_mni152` reads the three maps, brings them to a coarser grid (2 mm by default) with a
  tent (triangle) filter and decimation that keeps the central voxel, turns the probabilities into
  labels 0 = background, 1 = grey matter, 2 = white matter (the most probable of background, grey,
  white), and crops to the brain symmetrically about the midline.
* :func:`mirror` and :func:`split_hemispheres` work along the left–right axis found from the affine.
  The *symmetric* template is exactly mirror-symmetric (left equals flipped right, voxel for voxel),
  so one hemisphere is not held-out data for the other: :func:`mirror_asymmetry` measures it.

Layout: a volume is (X, Y, Z) in RAS voxel order (X from left to right, Y from back to front, Z from
bottom to top), used as (D, H, W) by the networks; ``affine`` maps voxel indices to RAS millimetres.

Source: V. Fonov, A. Evans, R. McKinstry, C. Almli, D. Collins, "Unbiased nonlinear average
age-appropriate brain templates from birth to adulthood", NeuroImage 47 (2009) S102; V. Fonov et al.,
"Unbiased average age-appropriate atlases for pediatric studies", NeuroImage 54 (2011) 313–327.
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
from pathlib import Path

import nibabel as nib
import numpy as np

__all__ = ["MNI152", "mni152_path", "load_mni152", "lr_axis", "mirror", "mirror_asymmetry", "split_hemispheres"]

_NILEARN_DIST = "nilearn"  # the pip name; the package itself is never imported
_FILES = {kind: f"nilearn/datasets/data/mni_icbm152_{kind}_tal_nlin_sym_09a_converted.nii.gz"
          for kind in ("t1", "gm", "wm")}
LABEL_NAMES = ("background", "grey matter", "white matter")  # index = label value


def mni152_path(kind: str = "t1") -> Path:
    """Path of one MNI152 2009a symmetric file shipped with the ``nilearn`` package.

    Args:
        kind: ``"t1"`` (T1-weighted template), ``"gm"`` or ``"wm"`` (grey/white-matter probability).

    Returns:
        Absolute path of an existing ``.nii.gz`` file (197×233×189, 1 mm, RAS, uint8).

    Raises:
        ValueError: an unknown ``kind``.
        FileNotFoundError: ``nilearn`` is not installed or does not ship the file.
    """
    # 1. which file
    if kind not in _FILES:
        raise ValueError(f"kind must be one of {sorted(_FILES)}, got {kind!r}")
    relative_path = _FILES[kind]
    # 2. the installed distribution's file list (no import of nilearn)
    try:
        files = importlib.metadata.files(_NILEARN_DIST) or []
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(f"{relative_path} ships with the 'nilearn' package, which is not installed; "
                                f"install it with `pip install nilearn` (nothing is downloaded at run time)") from None
    for entry in files:
        if entry.as_posix() == relative_path:
            path = Path(str(entry.locate())).resolve()
            if path.is_file():
                return path
    raise FileNotFoundError(f"the installed 'nilearn' package does not contain {relative_path}; "
                            f"reinstall it with `pip install --force-reinstall nilearn`")


@dataclasses.dataclass(frozen=True)
class MNI152:
    """The template on one grid.

    Attributes:
        t1: (X, Y, Z) float32 T1 intensity in [0, 1] (the file's uint8 divided by 255; arbitrary units).
        gm: (X, Y, Z) float32 grey-matter probability in [0, 1].
        wm: (X, Y, Z) float32 white-matter probability in [0, 1].
        labels: (X, Y, Z) int64, 0 background (CSF and outside), 1 grey matter, 2 white matter.
        affine: (4, 4) float64, voxel index -> RAS millimetres.
        spacing: voxel size in mm (the same along every axis).
    """

    t1: np.ndarray
    gm: np.ndarray
    wm: np.ndarray
    labels: np.ndarray
    affine: np.ndarray
    spacing: int


def _tent_decimate(volume: np.ndarray, factor: int) -> np.ndarray:
    """Low-pass with a tent filter of half-width ``factor`` and keep every ``factor``-th voxel.

    The kept voxels include the central voxel of each axis ((n − 1) // 2), so a volume that is
    symmetric about its centre stays symmetric. Outside the volume counts as 0.
    """
    weights = np.array([factor - abs(k) for k in range(-factor + 1, factor)], dtype=np.float64)
    weights /= weights.sum()  # factor 2: [1, 2, 1] / 4
    out = volume.astype(np.float64)
    for axis in range(3):
        n = out.shape[axis]
        pad = [(0, 0)] * 3
        pad[axis] = (factor - 1, factor - 1)
        padded = np.pad(out, pad)
        start = ((n - 1) // 2) % factor
        kept = np.arange(start, n, factor)  # centres of the output voxels on the input grid
        out = sum(w * np.take(padded, kept + k, axis=axis) for k, w in enumerate(weights))
    return out


def load_mni152(spacing: int = 2, *, crop: bool = True, margin: int = 1) -> MNI152:
    """Load the T1 template and its tissue labels on a grid of ``spacing`` mm.

    Downsampling: each map (T1 and both probabilities) is filtered with a separable tent filter of
    half-width ``spacing`` voxels ([1, 2, 1] / 4 for 2 mm) and every ``spacing``-th voxel is kept,
    starting so that the central voxel (the midline, x = 0 mm) is kept. At 2 mm the 197×233×189 grid
    becomes 99×117×95 before cropping.

    Labels: the most probable of background (1 − gm − wm), grey matter (gm) and white matter (wm), on
    the downsampled probabilities; a tie goes to the lower label.

    Crop (``crop=True``): the bounding box of the non-background labels, widened by ``margin`` voxels
    and made symmetric about the midline along the left–right axis, so that :func:`mirror` is exact.

    Args:
        spacing: voxel size in mm, an int >= 1 (1 keeps the original grid).
        crop: crop to the brain.
        margin: voxels kept around the brain's bounding box, >= 0.

    Returns:
        An :class:`MNI152`; at 2 mm with the crop, every array is (73, 92, 78) (X, Y, Z) and voxel
        (0, 0, 0) sits at (−72, −108, −72) mm.

    Raises:
        ValueError: ``spacing`` < 1 or ``margin`` < 0.
        FileNotFoundError: ``nilearn`` (which ships the files) is not installed.
    """
    # 1. validate
    if not isinstance(spacing, int) or spacing < 1:
        raise ValueError(f"spacing must be an int number of mm >= 1, got {spacing!r}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0 voxels, got {margin}")
    # 2. read the 1 mm maps (uint8 -> [0, 1]) and downsample them
    images = {kind: nib.load(mni152_path(kind)) for kind in _FILES}
    maps = {kind: _tent_decimate(np.asarray(img.dataobj, dtype=np.float64) / 255.0, spacing)
            for kind, img in images.items()}
    shape = images["t1"].shape
    offset = [((n - 1) // 2) % spacing for n in shape]
    scale = np.diag([spacing, spacing, spacing, 1.0])
    scale[:3, 3] = offset
    affine = images["t1"].affine @ scale  # new voxel i sits at old voxel offset + spacing·i
    # 3. labels: the most probable of background, grey matter, white matter
    labels = np.argmax(np.stack([1.0 - maps["gm"] - maps["wm"], maps["gm"], maps["wm"]]), axis=0)
    # 4. crop to the brain, symmetric about the midline on the left-right axis
    slices = [slice(None)] * 3
    if crop:
        axis, mid = lr_axis(affine), _midline_index(affine, labels.shape)
        for a, idx in enumerate(np.nonzero(labels)):
            lo, hi = max(int(idx.min()) - margin, 0), min(int(idx.max()) + margin, labels.shape[a] - 1)
            if a == axis:
                half = min(max(mid - lo, hi - mid), mid, labels.shape[a] - 1 - mid)
                lo, hi = mid - half, mid + half
            slices[a] = slice(lo, hi + 1)
        affine = affine.copy()
        affine[:3, 3] = affine[:3, :3] @ np.array([s.start for s in slices]) + affine[:3, 3]
    region = tuple(slices)
    return MNI152(t1=maps["t1"][region].astype(np.float32), gm=maps["gm"][region].astype(np.float32),
                  wm=maps["wm"][region].astype(np.float32), labels=labels[region].astype(np.int64),
                  affine=affine, spacing=spacing)


def lr_axis(affine: np.ndarray) -> int:
    """The voxel axis (0, 1 or 2) that runs left–right, from the affine's orientation codes.

    Args:
        affine: (4, 4) voxel -> RAS mm.

    Returns:
        The index of the axis whose code is "L" or "R".

    Raises:
        ValueError: the affine is not (4, 4).
    """
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4):
        raise ValueError(f"affine must be (4, 4), got {affine.shape}")
    return [code in "LR" for code in nib.aff2axcodes(affine)].index(True)


def _midline_index(affine: np.ndarray, shape: tuple[int, ...]) -> int:
    """The voxel index on the left–right axis where x = 0 mm (the midline plane)."""
    axis = lr_axis(affine)
    # x(i) = affine[0, axis]·i + affine[0, 3] along that axis, the others at 0
    index = -affine[0, 3] / affine[0, axis]
    if abs(index - round(index)) > 1e-6 or not 0 <= round(index) < shape[axis]:
        raise ValueError(f"the midline x = 0 mm is not on a voxel of this grid (index {index:.3f} of "
                         f"{shape[axis]}); resample so that a voxel centre lies on it")
    return int(round(index))


def mirror(volume: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Flip a volume left–right about the midline x = 0 mm.

    Args:
        volume: (..., X, Y, Z) array on the grid of ``affine`` whose midline is its central voxel
            (as :func:`load_mni152` crops it).
        affine: (4, 4) voxel -> RAS mm.

    Returns:
        The mirrored array, same shape and dtype.

    Raises:
        ValueError: fewer than 3 axes, or the midline is not the central voxel of the left–right axis.
    """
    if volume.ndim < 3:
        raise ValueError(f"volume must be (..., X, Y, Z), got shape {volume.shape}")
    axis = lr_axis(affine)
    n = volume.shape[volume.ndim - 3 + axis]
    mid = _midline_index(affine, volume.shape[-3:])
    if 2 * mid != n - 1:
        raise ValueError(f"the midline is voxel {mid} of {n}, not the centre; crop symmetrically "
                         f"(load_mni152(crop=True) does) before mirroring")
    return np.flip(volume, axis=volume.ndim - 3 + axis).copy()


def mirror_asymmetry(volume: np.ndarray, affine: np.ndarray) -> float:
    """Largest absolute difference between a volume and its left–right mirror image (0 = symmetric).

    Args:
        volume: (..., X, Y, Z) array, midline at the centre (see :func:`mirror`).
        affine: (4, 4) voxel -> RAS mm.

    Returns:
        max |volume − mirror(volume)| as a float, in the volume's units.
    """
    volume = np.asarray(volume, dtype=np.float64)
    return float(np.abs(volume - mirror(volume, affine)).max())


def split_hemispheres(volume: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut a volume into its left (x < 0 mm) and right (x > 0 mm) halves; the midline plane is dropped.

    Args:
        volume: (..., X, Y, Z) array on the grid of ``affine`` (RAS or any orientation).
        affine: (4, 4) voxel -> RAS mm.

    Returns:
        ``(left, right)``, each (..., X', Y, Z) (with the left–right axis shortened), in the original
        voxel order (not mirrored); copies.

    Raises:
        ValueError: fewer than 3 axes, or no voxel lies on the midline x = 0 mm.
    """
    if volume.ndim < 3:
        raise ValueError(f"volume must be (..., X, Y, Z), got shape {volume.shape}")
    axis = lr_axis(affine)
    mid = _midline_index(affine, volume.shape[-3:])
    dim = volume.ndim - 3 + axis
    before = np.take(volume, np.arange(0, mid), axis=dim)
    after = np.take(volume, np.arange(mid + 1, volume.shape[dim]), axis=dim)
    # the axis direction decides which side is left: x grows with the index when affine[0, axis] > 0
    return (before, after) if affine[0, axis] > 0 else (after, before)
