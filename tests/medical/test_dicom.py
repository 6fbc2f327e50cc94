"""Tests of course.medical.dicom: files to HU (against pydicom), slice geometry, and series loading
(on phantom series written with pydicom, checked against each file's own Image Plane attributes)."""
from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_modality_lut

from course.data.phantom import ct_phantom, write_ct_phantom_series
from course.medical import dicom as dicom_module
from course.medical.dicom import dicom_to_hu, load_dicom_series, slice_normal, sort_slices


def _rotation(a: float, b: float, c: float) -> np.ndarray:
    """A 3x3 rotation matrix from three angles in degrees (z, then y, then x)."""
    a, b, c = np.deg2rad([a, b, c])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    return rz @ ry @ rx


def _iop(rotation: np.ndarray) -> tuple[float, ...]:
    """ImageOrientationPatient of a rotated axial slice: the rotated x (row) and y (column) axes."""
    return tuple(np.concatenate([rotation[:, 0], rotation[:, 1]]).tolist())


ORIENTATIONS = {
    "axial": (1, 0, 0, 0, 1, 0),
    "axial_flipped": (1, 0, 0, 0, -1, 0),  # normal -z: sorting by z would reverse the volume
    "coronal": (1, 0, 0, 0, 0, -1),
    "sagittal": (0, 1, 0, 0, 0, -1),
    "oblique": _iop(_rotation(30, 20, -40)),
}


# --- dicom_to_hu -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["CT_small.dcm", "693_UNCI.dcm"])
@pytest.mark.parametrize("as_type", [str, Path, pydicom.dcmread])
def test_dicom_to_hu_equals_pydicom(name, as_type):
    """Check that dicom_to_hu equals pydicom's apply_modality_lut, from a str, Path or Dataset."""
    path = get_testdata_file(name)
    ds = pydicom.dcmread(path)
    hu = dicom_to_hu(as_type(path))
    assert hu.dtype == np.float32 and hu.shape == (ds.Rows, ds.Columns)
    np.testing.assert_array_equal(hu, apply_modality_lut(ds.pixel_array, ds))


def test_dicom_to_hu_known_values_of_ct_small():
    """Check CT_small's HU against its stored values and intercept -1024 (a value the lesson quotes)."""
    hu = dicom_to_hu(get_testdata_file("CT_small.dcm"))
    stored = pydicom.dcmread(get_testdata_file("CT_small.dcm")).pixel_array
    np.testing.assert_array_equal(hu, stored.astype(np.float32) - 1024)
    assert (hu.min(), hu.max()) == (-896.0, 1167.0)


def test_dicom_to_hu_enhanced_multiframe_uses_functional_groups():
    """Check that an enhanced CT's rescale is read from its functional groups (pydicom's is not)."""
    path = get_testdata_file("eCT_Supplemental.dcm")
    ds = pydicom.dcmread(path)
    assert "RescaleIntercept" not in ds  # only in SharedFunctionalGroupsSequence
    hu = dicom_to_hu(path)
    assert hu.shape == (2, 512, 512) and hu.dtype == np.float32
    np.testing.assert_array_equal(hu, ds.pixel_array.astype(np.float32) - 1024)


@pytest.mark.parametrize(
    "remove, expected_slope, expected_intercept",
    [(("RescaleSlope", "RescaleIntercept"), 1, 0), (("RescaleSlope",), 1, -1024),
     (("RescaleIntercept",), 1, 0)],
)
def test_dicom_to_hu_defaults_when_rescale_absent(remove, expected_slope, expected_intercept):
    """Check the documented defaults: slope 1, intercept 0 for whichever is missing."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for keyword in remove:
        delattr(ds, keyword)
    hu = dicom_to_hu(ds)
    np.testing.assert_array_equal(hu, ds.pixel_array * expected_slope + expected_intercept)


def test_dicom_to_hu_without_pixel_data_names_file(tmp_path):
    """Check that a file without pixel data gives a ValueError naming the file."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    del ds.PixelData
    path = tmp_path / "no_pixels.dcm"
    ds.save_as(path)
    with pytest.raises(ValueError, match=r"no_pixels\.dcm has no pixel data"):
        dicom_to_hu(path)


@pytest.mark.parametrize("content", [b"hello, I am a README\n", b"", b"\x00" * 300])
def test_dicom_to_hu_non_dicom_names_file(tmp_path, content):
    """Check that a non-DICOM file gives 'not a DICOM file' naming the file, chained to pydicom's error."""
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"notes\.txt is not a DICOM file") as info:
        dicom_to_hu(path)
    assert isinstance(info.value.__cause__, pydicom.errors.InvalidDicomError)


def test_dicom_to_hu_missing_file(tmp_path):
    """Check that a missing path is a FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="nowhere.dcm"):
        dicom_to_hu(tmp_path / "nowhere.dcm")


# --- slice_normal, sort_slices ---------------------------------------------------------------


@pytest.mark.parametrize(
    "orientation, expected",
    [("axial", (0, 0, 1)), ("axial_flipped", (0, 0, -1)), ("coronal", (0, 1, 0)), ("sagittal", (-1, 0, 0))],
)
def test_slice_normal_table(orientation, expected):
    """Check the normals of the standard orientations (row × column, LPS)."""
    normal = slice_normal(ORIENTATIONS[orientation])
    assert normal.shape == (3,) and normal.dtype == np.float64
    np.testing.assert_allclose(normal, expected, atol=1e-12)


def test_slice_normal_of_rotated_slice_is_rotated_z():
    """Check that the normal of a rotated axial slice is the rotated z axis (third column)."""
    rotation = _rotation(30, 20, -40)
    np.testing.assert_allclose(slice_normal(_iop(rotation)), rotation[:, 2], atol=1e-12)


@pytest.mark.parametrize("iop", [[1, 0, 0, 0, 1], [1, 0, 0, 0, 1, 0, 0], [[1, 0, 0], [0, 1, 0]]])
def test_slice_normal_needs_six_values(iop):
    """Check the error for a wrong number of direction cosines and for a (2, 3) array."""
    with pytest.raises(ValueError, match="6 values"):
        slice_normal(iop)


def test_sort_slices_single_slice_and_bad_shapes():
    """Check that one slice sorts to [0] and that positions not (D, 3) raise a ValueError."""
    np.testing.assert_array_equal(sort_slices(np.array([[1.0, 2.0, 3.0]]), ORIENTATIONS["axial"]), [0])
    for positions in (np.zeros(3), np.zeros((4, 2)), np.zeros((2, 4, 3))):
        with pytest.raises(ValueError, match=r"\(D, 3\)"):
            sort_slices(positions, ORIENTATIONS["axial"])


@pytest.mark.parametrize("orientation", list(ORIENTATIONS))
def test_sort_slices_orders_along_normal(orientation):
    """Check that sort_slices recovers a shuffled stack, whatever the in-plane offsets of the slices."""
    rng = np.random.default_rng(1)
    iop = np.array(ORIENTATIONS[orientation], dtype=np.float64)
    row, col, normal = iop[:3], iop[3:], np.cross(iop[:3], iop[3:])
    depth = np.arange(11) * 1.25 - 4.0  # (11,) mm along the normal, in slice order
    in_plane = rng.normal(size=(11, 2)) * 30  # offsets in the slice plane must not matter
    positions = depth[:, None] * normal + in_plane[:, :1] * row + in_plane[:, 1:] * col  # (11, 3)
    shuffle = rng.permutation(11)
    order = sort_slices(positions[shuffle], iop)
    assert order.dtype == np.int64 and order.shape == (11,)
    np.testing.assert_array_equal(shuffle[order], np.arange(11))


def test_sort_slices_is_stable():
    """Check that slices at equal positions keep their input order (a stable sort)."""
    positions = np.array([[0, 0, 5.0], [0, 0, 1.0], [9, 9, 5.0], [0, 0, 1.0]])
    np.testing.assert_array_equal(sort_slices(positions, ORIENTATIONS["axial"]), [1, 3, 0, 2])
    z = np.random.default_rng(0).integers(0, 3, size=64).astype(float)  # many ties, long input
    positions = np.stack([np.zeros(64), np.zeros(64), z], axis=1)
    expected = sorted(range(64), key=lambda i: z[i])  # Python's sort is stable
    np.testing.assert_array_equal(sort_slices(positions, ORIENTATIONS["axial"]), expected)


# --- load_dicom_series: geometry -------------------------------------------------------------


@pytest.mark.parametrize("orientation", list(ORIENTATIONS))
def test_load_dicom_series_geometry_matches_each_file(tmp_path, orientation):
    """Check volume, spacing and affine against each file's own pixels and Image Plane attributes.

    For every file: find its slice k in the volume by its pixels, then check that
    affine @ [k, r, c, 1] == ImagePositionPatient + r * PixelSpacing[0] * column direction
    + c * PixelSpacing[1] * row direction (DICOM PS3.3 C.7.6.2.1.1) at the corners.
    """
    shape, spacing = (5, 9, 11), (2.5, 0.7, 0.9)  # anisotropic pixels, H != W
    write_ct_phantom_series(tmp_path, shape=shape, spacing=spacing, seed=3,
                            image_orientation=ORIENTATIONS[orientation], origin=(10.0, -20.0, 30.0))
    volume, got_spacing, affine = load_dicom_series(tmp_path)
    assert volume.shape == shape and volume.dtype == np.float32
    assert got_spacing.dtype == np.float64 and affine.shape == (4, 4) and affine.dtype == np.float64
    np.testing.assert_allclose(got_spacing, spacing, atol=1e-4)
    for path in tmp_path.iterdir():
        ds = pydicom.dcmread(path)
        hu = apply_modality_lut(ds.pixel_array, ds)  # (H, W) = (Rows, Columns)
        (k,) = [k for k in range(shape[0]) if np.array_equal(volume[k], hu)]
        iop = np.array(ds.ImageOrientationPatient, dtype=float)
        row_spacing, col_spacing = (float(v) for v in ds.PixelSpacing)
        for r, c in [(0, 0), (shape[1] - 1, 0), (0, shape[2] - 1), (shape[1] - 1, shape[2] - 1)]:
            expected = (np.array(ds.ImagePositionPatient, dtype=float)
                        + r * row_spacing * iop[3:] + c * col_spacing * iop[:3])
            np.testing.assert_allclose((affine @ [k, r, c, 1])[:3], expected, atol=1e-4)
    np.testing.assert_allclose(affine[3], [0, 0, 0, 1])


@pytest.mark.parametrize("orientation", ["axial", "oblique"])
def test_load_dicom_series_affine_agrees_with_nibabel(tmp_path, orientation):
    """Check the affine against nibabel's DICOM wrapper of slice 0 (an independent implementation).

    nibabel indexes (row, column, slice) and takes its slice axis as column × row direction, the
    negative of our normal; with SliceThickness equal to the slice spacing the columns must match.
    """
    with warnings.catch_warnings():  # nibabel warns on import that its DICOM readers are young
        warnings.simplefilter("ignore", UserWarning)
        from nibabel.nicom import dicomwrappers

    paths = write_ct_phantom_series(tmp_path, shape=(4, 9, 11), spacing=(2.0, 0.7, 0.9),
                                    image_orientation=ORIENTATIONS[orientation])
    _, _, affine = load_dicom_series(tmp_path)
    theirs = dicomwrappers.wrapper_from_file(str(paths[0])).affine  # (4, 4)
    np.testing.assert_allclose(affine[:, [1, 2, 3]], theirs[:, [0, 1, 3]], atol=1e-5)
    np.testing.assert_allclose(affine[:3, 0], -theirs[:3, 2], atol=1e-5)


def test_load_dicom_series_recovers_volume_in_slice_order(tmp_path):
    """Check that a shuffled series (random names and InstanceNumbers) loads in position order."""
    write_ct_phantom_series(tmp_path, shape=(6, 13, 7), seed=5,
                            image_orientation=ORIENTATIONS["axial_flipped"])
    volume, _, affine = load_dicom_series(tmp_path)
    np.testing.assert_array_equal(volume, np.round(ct_phantom((6, 13, 7), seed=5)))
    assert affine[2, 0] < 0  # slices step towards the feet: the normal of this orientation is -z


def test_load_dicom_series_single_slice(tmp_path):
    """Check a one-slice series: spacing along the slice is SliceThickness."""
    write_ct_phantom_series(tmp_path, shape=(1, 8, 9), spacing=(3.0, 0.5, 0.6))
    volume, spacing, affine = load_dicom_series(tmp_path)
    assert volume.shape == (1, 8, 9)
    np.testing.assert_allclose(spacing, [3.0, 0.5, 0.6])
    np.testing.assert_allclose(affine[:3, 0], [0, 0, 3.0])


def test_load_dicom_series_skips_hidden_files(tmp_path):
    """Check that hidden files such as .DS_Store are skipped."""
    write_ct_phantom_series(tmp_path, shape=(3, 8, 8))
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    assert load_dicom_series(tmp_path)[0].shape == (3, 8, 8)


def test_load_dicom_series_tolerates_rounding_of_positions(tmp_path):
    """Check that a slice 0.005 mm off its place (decimal-string rounding) is not a gap."""
    paths = write_ct_phantom_series(tmp_path, shape=(4, 8, 8))
    ds = pydicom.dcmread(paths[2])
    ds.ImagePositionPatient[2] = float(ds.ImagePositionPatient[2]) + 0.005
    ds.save_as(paths[2])
    assert load_dicom_series(tmp_path)[0].shape == (4, 8, 8)


def test_progress_bar_only_for_large_series(tmp_path, capsys, monkeypatch):
    """Check that tqdm stays silent for a small series and shows above the threshold."""
    write_ct_phantom_series(tmp_path, shape=(3, 8, 8))
    load_dicom_series(tmp_path)
    assert "reading DICOM" not in capsys.readouterr().err
    monkeypatch.setattr(dicom_module, "_PROGRESS_MIN_FILES", 2)
    load_dicom_series(tmp_path)
    assert "reading DICOM" in capsys.readouterr().err


# --- load_dicom_series: errors ---------------------------------------------------------------


def test_empty_folder(tmp_path):
    """Check the error for an empty folder (hidden files do not count)."""
    (tmp_path / ".hidden").write_text("x")
    with pytest.raises(ValueError, match="holds no files"):
        load_dicom_series(tmp_path)


def test_not_a_folder(tmp_path):
    """Check the error when a file is passed instead of a folder."""
    path = tmp_path / "file.dcm"
    path.write_text("x")
    with pytest.raises(ValueError, match="is not a folder"):
        load_dicom_series(path)


def test_non_dicom_file_in_folder(tmp_path):
    """Check that a README in the folder is named in the error."""
    write_ct_phantom_series(tmp_path, shape=(3, 8, 8))
    (tmp_path / "README").write_text("scanned on a Tuesday")
    with pytest.raises(ValueError, match=r"README is not a DICOM file"):
        load_dicom_series(tmp_path)


@pytest.mark.parametrize("missing, low, high", [(3, -25, -20), (1, -30, -25), (5, -20, -15)])
def test_missing_slice_names_spacings_and_gap(tmp_path, missing, low, high):
    """Check that a missing slice gives both spacings and the positions around the gap."""
    paths = write_ct_phantom_series(tmp_path, shape=(7, 8, 8), spacing=(2.5, 0.8, 0.8))  # z = -30 + 2.5 k
    paths[missing].unlink()
    message = (f"series has 2 slice spacings (2.5 mm, 5 mm); "
               f"a slice between z={low:g} and z={high:g} mm is missing?")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_dicom_series(tmp_path)


def test_slice_out_of_place(tmp_path):
    """Check that a slice moved by 1 mm (not a rounding error) is reported as uneven spacing."""
    paths = write_ct_phantom_series(tmp_path, shape=(5, 8, 8))
    ds = pydicom.dcmread(paths[2])
    ds.ImagePositionPatient[2] = float(ds.ImagePositionPatient[2]) + 1.0
    ds.save_as(paths[2])
    with pytest.raises(ValueError, match=r"slice spacings \(1\.5 mm, 2\.5 mm, 3\.5 mm\)"):
        load_dicom_series(tmp_path)


def test_duplicate_position(tmp_path):
    """Check that a copied slice is reported as two slices at one position, naming both files."""
    paths = write_ct_phantom_series(tmp_path, shape=(4, 8, 8), shuffle=False)
    shutil.copy(paths[1], tmp_path / "copy.dcm")
    with pytest.raises(ValueError, match=r"same position z=-27\.5 mm \((copy\.dcm|slice_0001\.dcm) and"):
        load_dicom_series(tmp_path)


def test_two_series(tmp_path):
    """Check that two series in one folder are named with their UIDs and file counts."""
    first = write_ct_phantom_series(tmp_path, shape=(4, 8, 8), seed=0)
    second = write_ct_phantom_series(tmp_path, shape=(3, 8, 8), seed=1)
    uids = [pydicom.dcmread(paths[0]).SeriesInstanceUID for paths in (first, second)]
    assert uids[0] != uids[1]
    with pytest.raises(ValueError, match=r"2 series") as info:
        load_dicom_series(tmp_path)
    assert f"{uids[0]} (4 files" in str(info.value) and f"{uids[1]} (3 files" in str(info.value)


def test_two_orientations(tmp_path):
    """Check that a slice with another orientation (a localizer?) is reported with its file."""
    paths = write_ct_phantom_series(tmp_path, shape=(4, 8, 8), shuffle=False)
    ds = pydicom.dcmread(paths[2])
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    ds.save_as(paths[2])
    expected = r"2 orientations .*\(1, 0, 0, 0, 0, -1\) \(1 file, e\.g\. slice_0002\.dcm\)"
    with pytest.raises(ValueError, match=expected):
        load_dicom_series(tmp_path)


def test_two_image_sizes(tmp_path):
    """Check that a slice of another size is reported."""
    paths = write_ct_phantom_series(tmp_path, shape=(4, 8, 8), shuffle=False)
    ds = pydicom.dcmread(paths[0])
    ds.Rows, ds.Columns, ds.PixelData = 4, 4, ds.pixel_array[:4, :4].tobytes()
    ds.save_as(paths[0])
    expected = r"2 image sizes .*8×8 \(3 files.*4×4 \(1 file, e\.g\. slice_0000\.dcm\)"
    with pytest.raises(ValueError, match=expected):
        load_dicom_series(tmp_path)


def test_file_without_pixel_data_in_folder(tmp_path):
    """Check that a slice without PixelData is named."""
    paths = write_ct_phantom_series(tmp_path, shape=(4, 8, 8))
    ds = pydicom.dcmread(paths[1])
    del ds.PixelData
    ds.save_as(paths[1])
    with pytest.raises(ValueError, match=re.escape(f"{paths[1]} has no pixel data")):
        load_dicom_series(tmp_path)
