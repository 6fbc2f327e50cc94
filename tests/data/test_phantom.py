"""Tests of course.data.phantom: the HU phantom, and the DICOM series writer (read back with pydicom
and with course.medical.load_dicom_series)."""
from __future__ import annotations

import re

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian

from course.data.phantom import PHANTOM_TISSUES, ct_phantom, ct_phantom_labels, write_ct_phantom_series
from course.medical import TISSUE_HU, load_dicom_series

LABEL = {name: label for name, (label, _) in PHANTOM_TISSUES.items()}

# --- the phantom -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(24, 64, 64), (5, 33, 35), (1, 7, 9), (3, 64, 17)])
def test_phantom_shape_dtype_and_labels(shape):
    """Check shape and dtype for odd sizes, and that labels are the documented ones."""
    volume, labels = ct_phantom(shape), ct_phantom_labels(shape)
    assert volume.shape == shape and volume.dtype == np.float32
    assert labels.shape == shape and labels.dtype == np.uint8
    assert set(np.unique(labels)) <= set(LABEL.values())


def test_phantom_has_every_tissue_at_default_size():
    """Check that every tissue of PHANTOM_TISSUES appears in the default phantom."""
    assert set(np.unique(ct_phantom_labels())) == set(LABEL.values())


def test_phantom_is_deterministic_per_seed():
    """Check that a seed fixes the noise and that the anatomy does not depend on it."""
    np.testing.assert_array_equal(ct_phantom(seed=4), ct_phantom(seed=4))
    assert not np.array_equal(ct_phantom(seed=4), ct_phantom(seed=5))
    assert np.abs(ct_phantom(seed=4) - ct_phantom(seed=5)).max() < 100  # noise only


def test_phantom_tissue_values_and_noise():
    """Check each tissue's mean HU (PHANTOM_TISSUES) and the 10 HU noise."""
    volume, labels = ct_phantom(seed=2), ct_phantom_labels()
    mean_hu = np.zeros(labels.shape)
    for name, (label, hu) in PHANTOM_TISSUES.items():
        assert volume[labels == label].mean() == pytest.approx(hu, abs=2.0), name
        mean_hu[labels == label] = hu
    assert np.std(volume - mean_hu) == pytest.approx(10.0, abs=0.2)


@pytest.mark.parametrize("tissue, reference", [("air", "air"), ("soft_tissue", "soft_tissue"), ("fat", "fat"),
                                               ("lung", "lung"), ("liver", "liver"),
                                               ("cancellous_bone", "cancellous_bone"),
                                               ("cortical_bone", "cortical_bone"), ("heart", "blood"),
                                               ("aorta", "blood_arterial_contrast")])
def test_phantom_hu_within_typical_tissue_ranges(tissue, reference):
    """Check that each phantom tissue's HU lies in the typical range of TISSUE_HU."""
    low, high = TISSUE_HU[reference]
    assert low <= PHANTOM_TISSUES[tissue][1] <= high


def test_phantom_anatomy_follows_radiological_convention():
    """Check the documented layout: liver on the image's left (patient right) in low slices,
    lungs in high slices (towards the head), spine at the bottom (posterior) in every slice."""
    labels = ct_phantom_labels((24, 64, 64))
    d, r, c = np.nonzero(labels == LABEL["liver"])
    t = (d + 0.5) / 24  # slice centre, 0 feet .. 1 head
    assert c.mean() < 32 and t.max() < 0.55 and d.min() == 0
    d, _, _ = np.nonzero(labels == LABEL["lung"])
    t = (d + 0.5) / 24
    assert t.min() > 0.35 and d.max() == 23
    for k in range(24):
        rows, cols = np.nonzero(labels[k] == LABEL["cancellous_bone"])
        assert rows.mean() > 32 and abs(cols.mean() - 31.5) < 1
    assert (labels[:, :, 0] == LABEL["air"]).all()  # body inside the field of view


@pytest.mark.parametrize("shape", [(24, 64, 64), (40, 96, 80)])
def test_lungs_are_widest_at_their_bases(shape):
    """Check that each lung's cross-section area grows from the apex (top slice) down to its base,
    and that the base is at least three times the apex."""
    labels = ct_phantom_labels(shape)
    half = shape[2] // 2
    for side in (slice(0, half), slice(half, None)):  # patient right (image left), patient left
        area = (labels[:, :, side] == LABEL["lung"]).sum(axis=(1, 2))  # (D,) voxels per slice
        chest = np.flatnonzero(area)
        assert chest[-1] == shape[0] - 1  # the apex reaches the top slice
        assert np.all(np.diff(area[chest]) <= 0)  # never wider higher up
        assert area[chest[0]] >= 3 * area[chest[-1]]


def test_heart_and_mediastinum_sit_between_the_lungs_low_in_the_chest():
    """Check the heart: low in the chest only, anterior, on the patient's left (image right) and
    between the lungs; and fat (the mediastinum) on the midline between the lungs above it."""
    labels = ct_phantom_labels((24, 64, 64))
    d, r, c = np.nonzero(labels == LABEL["heart"])
    lung_slices = np.flatnonzero((labels == LABEL["lung"]).any(axis=(1, 2)))
    assert d.min() == lung_slices.min() and d.max() < lung_slices.min() + len(lung_slices) // 2
    assert r.mean() < 32 and c.mean() > 32  # anterior, patient's left
    for k in lung_slices:
        lung_cols = np.flatnonzero((labels[k] == LABEL["lung"]).any(axis=0))
        assert lung_cols[lung_cols < 32].max() < 28 and lung_cols[lung_cols >= 32].min() >= 36
        between = labels[k, 20:30, 28:36]  # on the midline, in front of the spine
        allowed = [LABEL["fat"], LABEL["heart"], LABEL["liver"]]  # the liver's dome at the lung bases
        assert np.isin(between, allowed).mean() > 0.8, k
        assert (between == LABEL["fat"]).any(), k


def test_aorta_carries_contrast_in_every_slice():
    """Check that the aorta is in every slice, left-anterior of the spine, and reads in the arterial
    contrast range of TISSUE_HU (a CT angiogram)."""
    labels, volume = ct_phantom_labels((24, 64, 64)), ct_phantom((24, 64, 64), seed=0)
    low, high = TISSUE_HU["blood_arterial_contrast"]
    for k in range(24):
        r, c = np.nonzero(labels[k] == LABEL["aorta"])
        spine_r, spine_c = np.nonzero(labels[k] == LABEL["cancellous_bone"])
        assert len(r) > 0 and r.mean() < spine_r.mean() and c.mean() > spine_c.mean()
        assert low <= volume[k][labels[k] == LABEL["aorta"]].mean() <= high


# --- the DICOM writer ------------------------------------------------------------------------


def test_written_files_are_valid_ct(tmp_path):
    """Check each file's DICOM attributes as read back by pydicom, and its pixels in HU."""
    shape, spacing, origin = (5, 9, 11), (2.5, 0.7, 0.9), (-1.0, 2.0, -30.0)
    paths = write_ct_phantom_series(tmp_path, shape=shape, spacing=spacing, origin=origin, seed=7)
    assert len(paths) == 5 and sorted(paths) == sorted(tmp_path.iterdir())
    expected_hu = np.round(ct_phantom(shape, seed=7))
    datasets = [pydicom.dcmread(p) for p in paths]
    for k, (path, ds) in enumerate(zip(paths, datasets)):
        assert path.read_bytes()[128:132] == b"DICM"
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert ds.SOPClassUID == ds.file_meta.MediaStorageSOPClassUID == CTImageStorage
        assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
        assert ds.Modality == "CT" and (ds.Rows, ds.Columns) == (9, 11)
        assert (ds.BitsAllocated, ds.BitsStored, ds.PixelRepresentation) == (16, 16, 1)
        assert (ds.RescaleSlope, ds.RescaleIntercept) == (1, -1024)
        assert (ds.WindowCenter, ds.WindowWidth) == (40, 400)
        np.testing.assert_allclose(ds.ImagePositionPatient, np.add(origin, [0, 0, 2.5 * k]), atol=1e-6)
        np.testing.assert_allclose(ds.ImageOrientationPatient, [1, 0, 0, 0, 1, 0])
        np.testing.assert_allclose(ds.PixelSpacing, [0.7, 0.9])
        assert ds.SliceThickness == 2.5
        np.testing.assert_array_equal(apply_modality_lut(ds.pixel_array, ds), expected_hu[k])
        assert ds.pixel_array.dtype == np.int16
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1
    assert len({ds.SOPInstanceUID for ds in datasets}) == 5
    assert all(UID(ds.SOPInstanceUID).is_valid and UID(ds.SeriesInstanceUID).is_valid for ds in datasets)


@pytest.mark.parametrize("shuffle", [True, False])
def test_file_names_and_instance_numbers(tmp_path, shuffle):
    """Check that shuffled names and InstanceNumbers say nothing about slice order, and the reverse."""
    paths = write_ct_phantom_series(tmp_path, shape=(12, 8, 8), shuffle=shuffle)
    numbers = [int(pydicom.dcmread(p).InstanceNumber) for p in paths]  # in slice order
    assert sorted(numbers) == list(range(1, 13))
    names = [p.name for p in paths]
    if shuffle:
        assert all(re.fullmatch(r"[0-9a-f]{16}\.dcm", n) for n in names)
        assert names != sorted(names) and numbers != sorted(numbers)
    else:
        assert names == [f"slice_{k:04d}.dcm" for k in range(12)] and numbers == list(range(1, 13))


def test_writer_is_deterministic(tmp_path):
    """Check that the same call writes the same files, and another seed other UIDs and names."""
    a = write_ct_phantom_series(tmp_path / "a", shape=(3, 8, 8), seed=1)
    b = write_ct_phantom_series(tmp_path / "b", shape=(3, 8, 8), seed=1)
    c = write_ct_phantom_series(tmp_path / "c", shape=(3, 8, 8), seed=2)
    assert [p.name for p in a] == [p.name for p in b] != [p.name for p in c]
    assert all(pa.read_bytes() == pb.read_bytes() for pa, pb in zip(a, b))
    assert pydicom.dcmread(a[0]).SeriesInstanceUID != pydicom.dcmread(c[0]).SeriesInstanceUID


@pytest.mark.parametrize(
    "orientation",
    [(1, 0, 0, 0, 1, 0), (0, 1, 0, 0, 0, -1), (0.866025403784, 0.5, 0, -0.5, 0.866025403784, 0),
     (0.8, 0, 0.6, 0, 1, 0)],
)
def test_round_trip_through_load_dicom_series(tmp_path, orientation):
    """Check write -> load_dicom_series: the rounded phantom, the spacing, and the slice normal."""
    shape, spacing = (6, 13, 11), (3.0, 0.6, 0.75)
    write_ct_phantom_series(tmp_path, shape=shape, spacing=spacing, seed=9, image_orientation=orientation)
    volume, got_spacing, affine = load_dicom_series(tmp_path)
    np.testing.assert_array_equal(volume, np.round(ct_phantom(shape, seed=9)))
    np.testing.assert_allclose(got_spacing, spacing, atol=1e-4)
    normal = np.cross(orientation[:3], orientation[3:])
    np.testing.assert_allclose(affine[:3, 0], spacing[0] * normal, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"image_orientation": (1, 0, 0, 1, 0, 0)}, "orthogonal unit vectors"),
     ({"image_orientation": (2, 0, 0, 0, 1, 0)}, "orthogonal unit vectors"),
     ({"image_orientation": (1, 0, 0, 0, 1)}, "orthogonal unit vectors"),
     ({"spacing": (2.5, 0.0, 0.8)}, "positive"),
     ({"origin": (0.0, 0.0)}, "origin")],
)
def test_writer_rejects_bad_geometry(tmp_path, kwargs, match):
    """Check the errors for an orientation that is not two orthonormal vectors and bad spacing/origin."""
    with pytest.raises(ValueError, match=match):
        write_ct_phantom_series(tmp_path, shape=(2, 4, 4), **kwargs)
