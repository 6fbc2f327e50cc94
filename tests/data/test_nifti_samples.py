"""Tests of the NIfTI locators of course.data.samples: the files are nibabel's test data, with the
documented shape, dtype, voxel sizes and orientation; a missing nibabel names the package."""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from course.data import samples
from course.data.samples import anatomical_nii_path, example4d_path

# locator, file name, shape, voxel sizes (mm, then s for 4D), orientation, oblique affine?
NIFTIS = [
    (anatomical_nii_path, "anatomical.nii", (33, 41, 25), (2.0, 2.0, 2.0), ("L", "A", "S"), False),
    (example4d_path, "example4d.nii.gz", (128, 96, 24, 2), (2.0, 2.0, 2.2, 2000.0), ("L", "A", "S"), True),
]


@pytest.mark.parametrize("locate, name, shape, zooms, codes, oblique", NIFTIS)
def test_nifti_locators_find_the_documented_file(locate, name, shape, zooms, codes, oblique):
    """Check an absolute path to the named file that nibabel reads with the documented geometry."""
    path = locate()
    assert isinstance(path, Path) and path.is_absolute() and path.is_file() and path.name == name
    assert path.parent.as_posix().endswith("nibabel/tests/data")
    img = nib.load(path)
    assert isinstance(img, nib.Nifti1Image) and img.shape == shape and img.get_data_dtype().newbyteorder("=") == np.int16
    np.testing.assert_allclose(img.header.get_zooms(), zooms, rtol=1e-5)
    assert nib.aff2axcodes(img.affine) == codes
    off_diagonal = img.affine[:3, :3] - np.diag(np.diag(img.affine[:3, :3]))
    assert (np.abs(off_diagonal).max() > 0.1) == oblique


def test_nifti_locators_are_exported():
    """Check that both locators are in the module's __all__."""
    assert {"anatomical_nii_path", "example4d_path"} <= set(samples.__all__)


@pytest.mark.parametrize("locate", [anatomical_nii_path, example4d_path])
def test_missing_nibabel_names_the_package(monkeypatch, locate):
    """Check FileNotFoundError naming nibabel when the distribution is not installed."""
    def not_installed(dist):
        raise importlib.metadata.PackageNotFoundError(dist)

    monkeypatch.setattr(importlib.metadata, "files", not_installed)
    with pytest.raises(FileNotFoundError, match="pip install nibabel"):
        locate()
