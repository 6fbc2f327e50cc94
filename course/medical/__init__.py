"""Medical volumes: DICOM files and series, Hounsfield units and display windows.

    course.medical.hounsfield   stored values -> HU (Modality LUT), HU -> [0, 1] (VOI LUT windows),
                                window presets, typical tissue HU
    course.medical.dicom        one DICOM file -> HU; a folder of slices -> (volume, spacing, affine)

Layout: a single volume is (D, H, W) = (slice, row, column), float32 HU; spacing is (3,) mm in the
same axis order; affines map voxel indices (k, r, c) to patient LPS millimetres (DICOM PS3.3 C.7.6.2).
"""
from course.medical.dicom import dicom_to_hu, load_dicom_series, slice_normal, sort_slices
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
]
