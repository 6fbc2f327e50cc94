"""Medical volumes: DICOM files and series, Hounsfield units and display windows.

    course.medical.hounsfield   stored values -> HU (Modality LUT), HU -> [0, 1] (VOI LUT windows),
                                window presets, typical tissue HU
    course.medical.dicom        one DICOM file -> HU; a folder of slices -> (volume, spacing, affine)
    course.medical.nifti        NIfTI I/O, affines, orientation codes, reorient to RAS, DICOM series -> NIfTI
    course.medical.resample     resample_to_spacing (orders 0 and 1)
    course.medical.normalize    foreground z-score, min-max
    course.medical.augment      bias field, noise, gamma; synthetic small lesions
    course.medical.planning     nnU-Net v2's self-configuration: dataset fingerprint -> target spacing,
                                normalization, pooling plan, patch and batch size (lesson 14)
    course.medical.pipeline     lessons 09-11's preprocessing beside MONAI's Orientationd, Spacingd,
                                ScaleIntensityRanged and RandCropByPosNegLabeld, step by step (lesson 14)

Layout: a single volume is (D, H, W) = (slice, row, column), float32 HU; spacing is (3,) mm in the
same axis order; affines map voxel indices (k, r, c) to patient LPS millimetres (DICOM PS3.3 C.7.6.2).
NIfTI data stay in the file's voxel order, (X, Y, Z[, T]) float32, with voxel-to-RAS affines (NIfTI-1
sform/qform); ``xyz_to_dhw`` converts to the (D, H, W) volume layout.
"""
from course.medical.dicom import dicom_to_hu, load_dicom_series, slice_normal, sort_slices
from course.medical.augment import add_noise, adjust_gamma, augment_intensity, bias_field, insert_lesions, lesion_shape
from course.medical.nifti import (
    axcodes,
    dicom_series_to_nifti,
    load_nifti,
    lps_to_ras,
    reorient,
    save_nifti,
    time_series_to_frames,
    voxel_spacing,
    voxel_to_world,
    xyz_to_dhw,
)
from course.medical.normalize import foreground_mask, minmax, zscore
from course.medical.resample import resample_to_spacing
from course.medical import pipeline as _pipeline, planning as _planning
from course.medical.pipeline import *  # noqa: F403 (re-exported: their __all__ is added to this one)
from course.medical.planning import *  # noqa: F403
from course.medical.hounsfield import (
    TISSUE_HU,
    WINDOW_PRESETS,
    apply_window,
    clip_window,
    naive_png_normalize,
    rescale_to_hu,
    window_preset,
)

__all__ = [
    "rescale_to_hu",
    "apply_window",
    "clip_window",
    "WINDOW_PRESETS",
    "window_preset",
    "naive_png_normalize",
    "TISSUE_HU",
    "dicom_to_hu",
    "slice_normal",
    "sort_slices",
    "load_dicom_series",
    "load_nifti",
    "save_nifti",
    "dicom_series_to_nifti",
    "lps_to_ras",
    "voxel_to_world",
    "voxel_spacing",
    "axcodes",
    "reorient",
    "xyz_to_dhw",
    "time_series_to_frames",
    "resample_to_spacing",
    "foreground_mask",
    "zscore",
    "minmax",
    "bias_field",
    "add_noise",
    "adjust_gamma",
    "augment_intensity",
    "lesion_shape",
    "insert_lesions",
] + _pipeline.__all__ + _planning.__all__
