"""A synthetic CT phantom in Hounsfield units, and a writer that saves it as a real DICOM CT series.

The phantom is a cartoon of an axial chest/upper-abdomen scan, as in a CT angiogram (contrast in
the arteries): an elliptic body cylinder of soft tissue in air, wrapped in a ring of subcutaneous
fat; in the upper (thoracic) slices two lungs, widest at their bases and tapering to the apices,
with the mediastinum between them (mediastinal fat holding the heart, anterior and to the patient's
left, low in the chest); a liver in the lower slices under the right lung base; the descending
aorta, filled with iodine contrast, left-anterior of the spine in every slice; a spine (cancellous
bone inside a cortical shell) and ribs around the lungs. Tissue values lie in the ranges of
:data:`course.medical.hounsfield.TISSUE_HU`.

Axes and orientation of a volume (D, H, W) = (slice, row, column), as displayed in radiology:
slice index increases towards the head, row index increases towards the patient's back (the
spine is at the bottom of the image), column index increases towards the patient's left (the
liver, on the patient's right, is on the left of the image). With the default axial
ImageOrientationPatient (1, 0, 0, 0, 1, 0) these are the +z, +y and +x axes of DICOM's LPS system.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pydicom.valuerep import DSfloat

__all__ = ["PHANTOM_TISSUES", "ct_phantom_labels", "ct_phantom", "write_ct_phantom_series", "write_ct_series"]

#: Tissues of the phantom, name -> (label in :func:`ct_phantom_labels`, mean HU in :func:`ct_phantom`).
PHANTOM_TISSUES: dict[str, tuple[int, float]] = {
    "air": (0, -1000.0),
    "soft_tissue": (1, 40.0),
    "fat": (2, -100.0),
    "lung": (3, -850.0),
    "liver": (4, 60.0),
    "cancellous_bone": (5, 200.0),  # trabecular bone of a vertebral body (TISSUE_HU: 100..300)
    "cortical_bone": (6, 1200.0),
    "heart": (7, 40.0),  # myocardium and blood, without contrast in this cartoon
    "aorta": (8, 300.0),  # blood with iodine contrast, arterial phase of a CT angiogram
}

_NOISE_HU = 10.0  # standard deviation of the Gaussian noise, HU
_STORED_OFFSET = 1024  # stored value = HU + 1024 (RescaleIntercept -1024, RescaleSlope 1)


def ct_phantom_labels(shape: tuple[int, int, int] = (24, 64, 64)) -> np.ndarray:
    """The tissue label of every voxel of the phantom (no noise, no seed: the anatomy is fixed).

    Args:
        shape: (D, H, W) slices, rows, columns; any positive sizes (the anatomy scales with them).

    Returns:
        (D, H, W) uint8 labels, see :data:`PHANTOM_TISSUES` (0 air, 1 soft tissue, 2 fat (also
        the mediastinal fat between the lungs), 3 lung, 4 liver, 5 cancellous bone, 6 cortical
        bone, 7 heart, 8 aorta).

    Raises:
        ValueError: ``shape`` is not three positive integers.
    """
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be three positive sizes (D, H, W), got {shape}")
    D, H, W = shape
    L = {name: label for name, (label, _) in PHANTOM_TISSUES.items()}
    # 1. normalised coordinates: t in (0, 1) feet -> head, v in [-1, 1] front -> back,
    #    u in [-1, 1] patient right -> left; voxel centres, so odd and even sizes are symmetric
    t = ((np.arange(D) + 0.5) / D)[:, None, None]  # (D, 1, 1)
    v = ((np.arange(H) + 0.5) / H * 2 - 1)[None, :, None]  # (1, H, 1)
    u = ((np.arange(W) + 0.5) / W * 2 - 1)[None, None, :]  # (1, 1, W)

    def ellipse(cu: float, cv: float, au: np.ndarray | float, av: np.ndarray | float) -> np.ndarray:
        inside = ((u - cu) / au) ** 2 + ((v - cv) / av) ** 2 <= 1.0  # (1 or D, H, W)
        return np.broadcast_to(inside, shape)  # (D, H, W)

    labels = np.zeros(shape, dtype=np.uint8)
    # 2. body: fat ring around soft tissue, the same in every slice
    labels[ellipse(0, 0, 0.88, 0.66)] = L["fat"]
    labels[ellipse(0, 0, 0.80, 0.58)] = L["soft_tissue"]
    # 3. chest (t > 0.35): mediastinal fat, then the lungs, widest at their bases (t = 0.35) and
    #    tapering to the apices (a paraboloid: half-axes ~ sqrt(distance below the top))
    chest = t > 0.35  # (D, 1, 1)
    labels[ellipse(0, -0.08, 0.22, 0.44) & chest] = L["fat"]
    lung_size = np.sqrt(np.clip((1.05 - t) / 0.70, 1e-6, 1))  # (D, 1, 1): 1 at the base, ~0.3 at the top
    for side in (-1, 1):
        lung = ellipse(side * 0.42, -0.02, 0.30 * lung_size, 0.44 * lung_size)
        labels[lung & chest] = L["lung"]
    # 4. liver under the right lung base (patient right = image left), in the lower 55 %
    labels[ellipse(-0.33, 0.02, 0.36, 0.34) & (t < 0.55) & ~(labels == L["lung"])] = L["liver"]
    # 5. heart: an ellipsoid low in the chest, anterior and to the patient's left (image right)
    in_heart = np.abs(t - 0.47) < 0.12  # (D, 1, 1): t in 0.35..0.59
    heart_size = np.sqrt(np.clip(1 - ((t - 0.47) / 0.12) ** 2, 1e-6, 1))  # (D, 1, 1)
    labels[ellipse(0.12, -0.16, 0.18 * heart_size, 0.20 * heart_size) & in_heart] = L["heart"]
    # 6. bones: ribs around the lungs, the spine (cortical shell around cancellous bone); the
    #    descending aorta with contrast, left-anterior of the spine, in every slice
    for angle in np.deg2rad([35, 70, 110, 145, 215, 325]):
        rib = ellipse(0.74 * np.cos(angle), 0.52 * np.sin(angle), 0.05, 0.05)
        labels[rib & chest] = L["cortical_bone"]
    labels[ellipse(0, 0.42, 0.14, 0.14)] = L["cortical_bone"]
    labels[ellipse(0, 0.42, 0.10, 0.10)] = L["cancellous_bone"]
    labels[ellipse(0.13, 0.20, 0.075, 0.075)] = L["aorta"]
    return labels


def ct_phantom(shape: tuple[int, int, int] = (24, 64, 64), *, seed: int = 0) -> np.ndarray:
    """A synthetic CT volume in Hounsfield units: the phantom's tissues plus Gaussian noise.

    Args:
        shape: (D, H, W) slices, rows, columns.
        seed: seed of the noise; the same seed gives the same volume, bit for bit.

    Returns:
        (D, H, W) float32 HU: each tissue's mean HU from :data:`PHANTOM_TISSUES` plus noise of
        standard deviation 10 HU (also in the air, as in a real scan).

    Raises:
        ValueError: ``shape`` is not three positive integers.
    """
    # 1. anatomy
    labels = ct_phantom_labels(shape)  # (D, H, W) uint8
    # 2. mean HU of each tissue, looked up by label
    hu_of_label = np.zeros(len(PHANTOM_TISSUES), dtype=np.float64)
    for label, hu in PHANTOM_TISSUES.values():
        hu_of_label[label] = hu
    # 3. seeded noise
    noise = np.random.default_rng(seed).normal(0.0, _NOISE_HU, size=labels.shape)
    return (hu_of_label[labels] + noise).astype(np.float32)


def write_ct_phantom_series(
    folder: str | os.PathLike,
    *,
    shape: tuple[int, int, int] = (24, 64, 64),
    spacing: tuple[float, float, float] = (2.5, 0.8, 0.8),
    seed: int = 0,
    shuffle: bool = True,
    image_orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    origin: Sequence[float] = (-25.6, -25.6, -30.0),
) -> list[Path]:
    """Write :func:`ct_phantom` as a DICOM CT series, one file per slice (CT Image Storage).

    The files are those of :func:`write_ct_series` for ``ct_phantom(shape, seed=seed)``: slice k
    (``volume[k]``) at ImagePositionPatient ``origin + k * spacing[0] * normal``, stored values
    ``round(HU) + 1024``, a soft-tissue window; study, series, frame of reference and instance UIDs
    derived from all the arguments but ``folder``, so the same call writes the same files. Files
    already in ``folder`` are left alone (writing twice into one folder with different arguments
    makes a folder with two series).

    Args:
        folder: where to write; created if missing.
        shape: (D, H, W) slices, rows, columns.
        spacing: (slice, row, column) spacing in mm.
        seed: seed of the phantom's noise and of the file names.
        shuffle: True: file names are random hex strings and InstanceNumbers a random permutation,
            so neither says where a slice lies; False: ``slice_0000.dcm``, ... and InstanceNumber
            k + 1, both in slice order.
        image_orientation: ImageOrientationPatient, row then column direction cosines (6 values,
            two orthogonal unit vectors, LPS).
        origin: ImagePositionPatient of slice 0 (centre of its first pixel), mm, LPS.

    Returns:
        The written paths in slice order: ``paths[k]`` holds ``volume[k]``.

    Raises:
        ValueError: ``image_orientation`` is not two orthogonal unit vectors, ``spacing`` is not
            three positive values, or ``origin`` is not three values.
    """
    identity = ["beyond2d ct_phantom", repr(tuple(shape)), repr(tuple(map(float, spacing))), str(seed),
                repr(tuple(np.asarray(image_orientation, dtype=np.float64).tolist())),
                repr(tuple(map(float, origin)))]
    return write_ct_series(ct_phantom(shape, seed=seed), folder, spacing=spacing, seed=seed, shuffle=shuffle,
                           image_orientation=image_orientation, origin=origin, identity=identity)


def write_ct_series(
    hu: np.ndarray,
    folder: str | os.PathLike,
    *,
    spacing: Sequence[float],
    origin: Sequence[float] = (0.0, 0.0, 0.0),
    image_orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    seed: int = 0,
    shuffle: bool = True,
    identity: Sequence[str] = (),
    patient_id: str = "BEYOND2D-PHANTOM",
    patient_name: str = "Phantom^CT",
    series_description: str = "synthetic CT phantom (course.data.phantom)",
) -> list[Path]:
    """Write any (D, H, W) HU volume as a DICOM CT series, one file per slice (CT Image Storage).

    Slice k (``hu[k]``) is written with ImagePositionPatient ``origin + k * spacing[0] * normal``,
    where normal = row direction × column direction of ``image_orientation`` (DICOM PS3.3 C.7.6.2),
    PixelSpacing ``[spacing[1], spacing[2]]`` (between rows, between columns), SliceThickness
    ``spacing[0]`` (contiguous slices), stored values ``round(HU) + 1024`` as signed 16-bit with
    RescaleSlope 1 and RescaleIntercept -1024 (clipped to int16), and a soft-tissue window (center
    40, width 400). Study, series, frame of reference and instance UIDs are derived from
    ``identity`` (strings naming the volume) and the slice index, file names from ``seed``: the
    same call writes the same files.

    Args:
        hu: (D, H, W) float HU, D slices of H rows and W columns.
        folder: where to write; created if missing.
        spacing: (slice, row, column) spacing in mm.
        origin: ImagePositionPatient of slice 0 (centre of its first pixel), mm, LPS.
        image_orientation: ImageOrientationPatient, row then column direction cosines (6 values,
            two orthogonal unit vectors, LPS).
        seed: seed of the file names and InstanceNumbers.
        shuffle: True: file names are random hex strings and InstanceNumbers a random permutation;
            False: ``slice_0000.dcm``, ... and InstanceNumber k + 1, both in slice order.
        identity: strings that name the volume; the UIDs are hashes of them (give each volume its own).
        patient_id, patient_name, series_description: PatientID, PatientName, SeriesDescription.

    Returns:
        The written paths in slice order: ``paths[k]`` holds ``hu[k]``.

    Raises:
        ValueError: ``hu`` is not 3D, ``image_orientation`` is not two orthogonal unit vectors,
            ``spacing`` is not three positive values, or ``origin`` is not three values.
    """
    # 1. check the volume and the geometry
    hu = np.asarray(hu)
    if hu.ndim != 3 or min(hu.shape) < 1:
        raise ValueError(f"hu must be a (D, H, W) volume, got shape {hu.shape}")
    iop = np.asarray(image_orientation, dtype=np.float64)
    if iop.shape != (6,) or not np.allclose(
            [iop[:3] @ iop[:3], iop[3:] @ iop[3:], iop[:3] @ iop[3:]], [1, 1, 0], atol=1e-6):
        raise ValueError(f"image_orientation must be two orthogonal unit vectors (6 values), "
                         f"got {tuple(image_orientation)}")
    if len(spacing) != 3 or min(spacing) <= 0 or len(origin) != 3:
        raise ValueError(f"spacing must be 3 positive mm values and origin 3 mm values, "
                         f"got spacing={tuple(spacing)}, origin={tuple(origin)}")
    D = hu.shape[0]  # number of slices
    normal = np.cross(iop[:3], iop[3:])
    # 2. pixels and deterministic identifiers
    stored = np.clip(np.round(hu.astype(np.float64)) + _STORED_OFFSET, -32768, 32767).astype("<i2")  # (D, H, W)
    entropy = list(identity)
    study_uid, series_uid, frame_uid = (generate_uid(entropy_srcs=[*entropy, part])
                                        for part in ("study", "series", "frame of reference"))
    rng = np.random.default_rng([seed, 20_240_901])
    if shuffle:
        names = [f"{rng.integers(2**63):016x}.dcm" for _ in range(D)]
        instance_numbers = rng.permutation(D) + 1
    else:
        names, instance_numbers = [f"slice_{k:04d}.dcm" for k in range(D)], np.arange(D) + 1
    # 3. one file per slice
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(D):
        position = np.asarray(origin, dtype=np.float64) + k * spacing[0] * normal
        ds = _ct_slice_dataset(stored[k], position, iop, spacing, normal)
        ds.PatientName, ds.PatientID, ds.SeriesDescription = patient_name, patient_id, series_description
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(
            entropy_srcs=[*entropy, "instance", str(k)])
        ds.InstanceNumber = int(instance_numbers[k])
        paths.append(folder / names[k])
        ds.save_as(paths[-1], enforce_file_format=True)
    return paths


def _ds(values: Sequence[float] | np.ndarray) -> list[DSfloat]:
    """Decimal strings (VR DS) of at most 16 characters."""
    return [DSfloat(float(x), auto_format=True) for x in np.atleast_1d(values)]


def _ct_slice_dataset(stored: np.ndarray, position: np.ndarray, iop: np.ndarray,
                      spacing: Sequence[float], normal: np.ndarray) -> Dataset:
    """The attributes of one CT slice that do not depend on its identity (UIDs, InstanceNumber)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.SOPClassUID = CTImageStorage
    # patient, study, series (General modules, PS3.3 C.7)
    ds.PatientName, ds.PatientID = "Phantom^CT", "BEYOND2D-PHANTOM"
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240901", "120000", "1", ""
    ds.Modality, ds.SeriesNumber, ds.Manufacturer = "CT", 1, "Beyond 2D course (synthetic)"
    ds.SeriesDescription = "synthetic CT phantom (course.data.phantom)"
    # image plane (PS3.3 C.7.6.2)
    ds.ImagePositionPatient = _ds(position)
    ds.ImageOrientationPatient = _ds(iop)
    ds.PixelSpacing = _ds(spacing[1:])
    ds.SliceThickness = _ds(spacing[0])[0]
    ds.SliceLocation = _ds(position @ normal)[0]
    # image pixel, CT image, VOI LUT (PS3.3 C.7.6.3, C.8.2.1, C.11.2)
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -_STORED_OFFSET, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.KVP = 120
    ds.PixelData = stored.tobytes()
    return ds
