"""Video for deep learning: decoding real files, temporal sampling, clip layouts and sizes.

    course.video.io        video_info, read_clip (keyframe seeking, frame-exact), read_all_frames
    course.video.sampling  uniform stride, evenly spaced (TSN), random temporal crop, multi-clip,
                           clip_numel / clip_nbytes
    course.video.layout    to_conv3d_layout / to_frame_layout, frames_to_float
    course.video.flow      optical flow (its convention is defined there): Horn–Schunck, pyramidal
                           Lucas–Kanade, end-point error, warping, HSV colour coding
    course.video.detection    temporal action detection: tIoU, hard/soft temporal NMS, interpolated AP,
                              ActivityNet matching and mAP, proposals from actionness (lesson 13)
    course.video.tracking     box IoU, Kalman filter, Hungarian association, SORT, ByteTrack, MOTA/IDF1
                              (lesson 13)
    course.video.propagation  mask propagation along the backward flow; DAVIS J, F and J&F (lesson 13)

Layouts: decoded clips are (T, C, H, W) uint8 RGB; batches are (N, T, C, H, W) when frames are
handled one by one and (N, C, T, H, W) for Conv3d (see ``course.video.layout``).
"""
from course.video.flow import (
    clip_flows,
    color_wheel,
    endpoint_error,
    flow_to_color,
    horn_schunck,
    horn_schunck_step,
    image_gradients,
    lucas_kanade,
    lucas_kanade_step,
    warp,
)
from course.video.detection import __all__ as _detection_all
from course.video.detection import *  # noqa: F401,F403
from course.video.propagation import __all__ as _propagation_all
from course.video.propagation import *  # noqa: F401,F403
from course.video.tracking import __all__ as _tracking_all
from course.video.tracking import *  # noqa: F401,F403
from course.video.io import DecodeStats, VideoInfo, read_all_frames, read_clip, video_info
from course.video.layout import frames_to_float, to_conv3d_layout, to_frame_layout
from course.video.sampling import (
    clip_nbytes,
    clip_numel,
    evenly_spaced_indices,
    multi_clip_indices,
    random_crop_indices,
    random_temporal_crop,
    uniform_stride_indices,
)

__all__ = [
    # io
    "VideoInfo",
    "DecodeStats",
    "video_info",
    "read_clip",
    "read_all_frames",
    # sampling
    "uniform_stride_indices",
    "evenly_spaced_indices",
    "random_crop_indices",
    "random_temporal_crop",
    "multi_clip_indices",
    "clip_numel",
    "clip_nbytes",
    # layout
    "to_conv3d_layout",
    "to_frame_layout",
    "frames_to_float",
    # flow
    "image_gradients",
    "horn_schunck_step",
    "horn_schunck",
    "lucas_kanade_step",
    "lucas_kanade",
    "endpoint_error",
    "warp",
    "clip_flows",
    "flow_to_color",
    "color_wheel",
    # lesson 13: detection, tracking, propagation
    *_detection_all,
    *_tracking_all,
    *_propagation_all,
]
