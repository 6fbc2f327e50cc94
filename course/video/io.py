"""Decode video files into tensors with PyAV: file facts, frame-exact seeking reads, full decodes.

The course does not teach decoding; lessons call three functions and get tensors in the frame
layout (T, C, H, W), uint8 RGB:

    video_info(path)               -> VideoInfo: exact frame count, fps, size, duration, codec
    read_clip(path, frame_indices) -> only the frames asked for, seeking to keyframes
    read_all_frames(path)          -> every frame, one sequential decode (the baseline)

Why seeking pays. A compressed video stores a few **keyframes** (decodable on their own) and, in
between, frames stored as differences to other frames. To get frame 200 one must decode from the
keyframe before it, not from frame 0. ``read_clip`` therefore

1. demuxes the packets once (reads compressed packet headers, decodes no pixels) to build a table
   frame index → presentation timestamp (PTS) and the list of keyframes;
2. groups the wanted frames into runs, one per keyframe interval (GOP) that holds any of them;
3. for each run seeks to the keyframe's PTS (FFmpeg's ``av_seek_frame`` with the backward flag;
   PyAV flushes the decoder) and decodes forward only to the last wanted frame of the run;
4. on the way it lets the decoder skip **non-reference** frames that are not wanted (FFmpeg's
   ``skip_frame = AVDISCARD_NONREF``, what ``ffmpeg -skip_frame noref`` does): no other frame is
   predicted from them, so skipping them changes no other frame's pixels.

On ``bikes.mp4`` (250 frames, keyframes at 0, 30, 76, 137, 187, 242) the 8 evenly spaced frames
need frames 0-15, 30-46, 76-109, 137-171 and 187-234 from their keyframes: 150 frames by seeking
alone, 84 once non-reference B-frames are skipped.

``DecodeStats`` counts decoded frames and seeks, which is how lesson 01 shows that sampling 8 frames
of ``bikes.mp4`` decodes far fewer than its 250 frames.

Errors are ours, never a bare PyAV traceback: a missing file raises ``FileNotFoundError``; a file
that is not a video, has no video stream, or is truncated or corrupt raises ``ValueError`` naming
the file and the problem; a frame index out of range raises ``IndexError``.

Source: PyAV (https://pyav.org) over FFmpeg's libavformat/libavcodec; the index→PTS table with
keyframe seeking follows the design of torchvision's and decord's video readers.
"""
from __future__ import annotations

import bisect
import contextlib
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import torch

__all__ = ["VideoInfo", "DecodeStats", "video_info", "read_clip", "read_all_frames"]


@dataclass(frozen=True)
class VideoInfo:
    """Facts about the first video stream of a file.

    Attributes:
        num_frames: number of frames, counted from the demuxed packets (exact; not the header's
            estimate).
        fps: average frame rate in frames per second (e.g. 29.97002997 for NTSC's 30000/1001).
        width: frame width in pixels.
        height: frame height in pixels.
        duration: ``num_frames / fps`` in seconds.
        codec: FFmpeg's codec name, e.g. "h264".
    """

    num_frames: int
    fps: float
    width: int
    height: int
    duration: float
    codec: str


@dataclass
class DecodeStats:
    """Counters that ``read_clip`` adds to; pass the same object to several calls to total them.

    Attributes:
        frames_decoded: frames the decoder produced, wanted or not (non-reference frames it was
            told to skip are not decoded and not counted).
        seeks: seeks performed (one per run of wanted frames inside a keyframe interval).
    """

    frames_decoded: int = 0
    seeks: int = 0


@dataclass(frozen=True)
class _FrameTable:
    """Frame index → PTS table of a video stream, built by demuxing (no decoding).

    Attributes:
        pts: pts[i] is the presentation timestamp of frame i in stream time-base units; ascending.
        keyframes: indices of frames to seek to, ascending; always starts with frame 0.
    """

    pts: list[int]
    keyframes: list[int]

    def keyframe_before(self, index: int) -> int:
        """Index of the last seek point at or before frame ``index``."""
        return self.keyframes[bisect.bisect_right(self.keyframes, index) - 1]

    def index_of(self, pts: int | None, path: Path) -> int:
        """Frame index of a decoded frame's PTS; ValueError if no packet announced that PTS."""
        i = bisect.bisect_left(self.pts, pts) if pts is not None else len(self.pts)
        if i == len(self.pts) or self.pts[i] != pts:
            raise ValueError(
                f"{path}: the decoder returned a frame with PTS {pts} that no packet announced; "
                "the file's timestamps are inconsistent, use read_all_frames(path) instead"
            )
        return i


def _existing_file(path: str | Path) -> Path:
    """``path`` as a Path; FileNotFoundError if nothing is there, ValueError for a folder."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no video file at {path}; check the path "
                                "(course.data has locators of the sample videos)")
    if not path.is_file():
        raise ValueError(f"{path} is a folder, not a video file")
    return path


@contextlib.contextmanager
def _open_video(path: Path) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """Open ``path`` and yield (container, first video stream), turning PyAV errors into ours."""
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as err:
        raise ValueError(
            f"{path.name} cannot be opened as a video ({err.strerror}); it is not a video file, "
            "or it is truncated (an MP4 keeps its index, the 'moov' atom, at the end) or corrupt"
        ) from err
    try:
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ["none"]
            raise ValueError(f"{path.name} has no video stream (streams: {', '.join(kinds)})")
        yield container, container.streams.video[0]
    except av.error.FFmpegError as err:
        raise ValueError(
            f"{path.name}: decoding failed ({err.strerror}); the file is truncated or corrupt"
        ) from err
    finally:
        container.close()


def _scan_packets(container: av.container.InputContainer, stream: av.VideoStream,
                  path: Path) -> _FrameTable:
    """Demux every packet of ``stream`` (no decoding) into a frame index → PTS table.

    Raises:
        ValueError: a corrupt packet, fewer packets than the header declares (truncated file),
            packets without timestamps, duplicate timestamps, or no frames at all.
    """
    # 1. demux: one packet holds one compressed frame; only headers are read, nothing is decoded
    pts, key_pts, num_packets = [], set(), 0
    for packet in container.demux(stream):
        if packet.size == 0:  # the empty packet that marks the end of the stream
            continue
        num_packets += 1
        if packet.is_corrupt:
            raise ValueError(f"{path.name}: packet {num_packets} is corrupt; "
                             "the file is truncated or damaged")
        if packet.is_discard:  # hidden by an edit list: decoded as a reference, never shown
            continue
        if packet.pts is None:
            raise ValueError(f"{path.name}: packets carry no timestamps, so it cannot be seeked; "
                             "remux it into MP4 or use read_all_frames(path)")
        pts.append(packet.pts)
        if packet.is_keyframe:
            key_pts.add(packet.pts)
    # 2. sanity checks against the header
    if stream.frames and num_packets < stream.frames:
        raise ValueError(f"{path.name} is truncated: its header declares {stream.frames} frames, "
                         f"but only {num_packets} packets are in the file")
    if not pts:
        raise ValueError(f"{path.name}: the video stream holds no frames")
    if len(set(pts)) != len(pts):
        raise ValueError(f"{path.name}: two frames share a timestamp; use read_all_frames(path)")
    # 3. display order is PTS order; frame 0 is always a seek point (the start of the file)
    pts.sort()
    keyframes = sorted({0} | {i for i, p in enumerate(pts) if p in key_pts})
    return _FrameTable(pts=pts, keyframes=keyframes)


def _frame_to_tensor(frame: av.VideoFrame) -> torch.Tensor:
    """One decoded frame → (C, H, W) uint8 RGB."""
    rgb = torch.from_numpy(frame.to_ndarray(format="rgb24"))  # (H, W, C)
    return rgb.permute(2, 0, 1)  # (C, H, W)


def video_info(path: str | Path) -> VideoInfo:
    """Frame count, frame rate, size, duration and codec of a video file's first video stream.

    The frame count comes from demuxing every packet (cheap: no pixel is decoded), so it is exact
    even when the container's header has no count or a wrong one.

    Args:
        path: a video file PyAV/FFmpeg can read (MP4, MKV, AVI, ...).

    Returns:
        A ``VideoInfo``; ``bikes.mp4`` gives num_frames=250, fps=25.0, width=640, height=272,
        duration=10.0 s, codec="h264".

    Raises:
        FileNotFoundError: nothing at ``path``.
        ValueError: not a video, no video stream, no frame rate, or truncated/corrupt.
    """
    path = _existing_file(path)
    with _open_video(path) as (container, stream):
        num_frames = len(_scan_packets(container, stream, path).pts)
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise ValueError(f"{path.name}: the video stream declares no frame rate")
        fps = float(rate)
        return VideoInfo(num_frames=num_frames, fps=fps, width=stream.codec_context.width,
                         height=stream.codec_context.height, duration=num_frames / fps,
                         codec=stream.codec_context.name)


def _as_index_list(frame_indices: Sequence[int] | torch.Tensor, num_frames: int,
                   path: Path) -> list[int]:
    """Validate frame indices (1-D, integers, in [0, num_frames)) and return them as a list."""
    if isinstance(frame_indices, torch.Tensor):
        dtype = frame_indices.dtype
        if dtype == torch.bool or dtype.is_floating_point or dtype.is_complex:
            raise ValueError(f"frame_indices must be integers, got dtype {dtype}; "
                             "use .long() on indices you computed")
        if frame_indices.dim() != 1:
            raise ValueError(f"frame_indices must be 1-D, got shape {tuple(frame_indices.shape)}; "
                             "read clips one at a time: read_clip(path, indices[k])")
        frame_indices = frame_indices.tolist()
    try:
        indices = [operator.index(i) for i in frame_indices]
    except TypeError:
        raise ValueError(f"frame_indices must be integers, got {list(frame_indices)[:5]}; "
                         "round computed indices and convert them with int()") from None
    if not indices:
        raise ValueError("frame_indices is empty; ask for at least one frame")
    for i in indices:
        if not 0 <= i < num_frames:
            raise IndexError(f"frame index {i} is out of range: {path.name} has {num_frames} "
                             f"frames (valid indices 0..{num_frames - 1})")
    return indices


def _plan_runs(table: _FrameTable, wanted: list[int]) -> list[tuple[int, list[int]]]:
    """Group sorted unique frame indices into (keyframe to seek to, frames to keep) runs.

    A new run starts when the next wanted frame has a keyframe after the previous wanted frame:
    seeking there skips decoding every frame in between.
    """
    runs: list[tuple[int, list[int]]] = []
    for index in wanted:
        keyframe = table.keyframe_before(index)
        if runs and keyframe <= runs[-1][1][-1]:
            runs[-1][1].append(index)  # same keyframe interval: keep decoding forward
        else:
            runs.append((keyframe, [index]))
    return runs


def _decode_run(container: av.container.InputContainer, stream: av.VideoStream, table: _FrameTable,
                path: Path, keyframe: int, wanted: list[int], frames: dict[int, torch.Tensor],
                stats: DecodeStats) -> None:
    """Seek to ``keyframe``, decode forward to the last of ``wanted``; put them in ``frames``."""
    # 1. seek: FFmpeg jumps to the keyframe at or before this PTS; PyAV flushes the decoder
    container.seek(table.pts[keyframe], stream=stream, backward=True)
    stats.seeks += 1
    wanted_set, wanted_pts = set(wanted), {table.pts[i] for i in wanted}
    codec = stream.codec_context
    for packet in container.demux(stream):
        # 2. a non-reference frame (no other frame predicts from it) is skipped unless it is wanted
        codec.skip_frame = "DEFAULT" if packet.pts in wanted_pts else "NONREF"
        # 3. decode; frames come out in display order; keep the wanted ones, stop after the last
        for frame in codec.decode(packet):
            stats.frames_decoded += 1
            index = table.index_of(frame.pts, path)
            if index in wanted_set:
                frames[index] = _frame_to_tensor(frame)
            if index >= wanted[-1]:
                codec.skip_frame = "DEFAULT"
                return
    codec.skip_frame = "DEFAULT"


def read_clip(path: str | Path, frame_indices: Sequence[int] | torch.Tensor, *,
              stats: DecodeStats | None = None) -> torch.Tensor:
    """Decode only the frames ``frame_indices`` of a video, seeking to the keyframe before each run.

    Frame-exact: the result equals ``read_all_frames(path)[frame_indices]``, but decodes only from
    the keyframe before each wanted frame up to it (see the module docstring).

    Args:
        path: a video file PyAV/FFmpeg can read.
        frame_indices: (T,) integer frame indices in [0, num_frames), any order, repeats allowed
            (a list, a tuple, or an int64 tensor such as the output of ``course.video.sampling``).
        stats: optional counters; frames decoded and seeks made are added to them.

    Returns:
        (T, C, H, W) uint8 RGB tensor, C = 3, frames in the order of ``frame_indices``.

    Raises:
        FileNotFoundError: nothing at ``path``.
        ValueError: not a video, truncated or corrupt; indices not 1-D integers or empty.
        IndexError: an index outside [0, num_frames), naming it and the number of frames.
    """
    path = _existing_file(path)
    stats = stats if stats is not None else DecodeStats()
    with _open_video(path) as (container, stream):
        # 1. frame index → PTS table and keyframes, from packets only
        table = _scan_packets(container, stream, path)
        indices = _as_index_list(frame_indices, len(table.pts), path)
        # 2. one run per keyframe interval that holds wanted frames
        frames: dict[int, torch.Tensor] = {}
        for keyframe, wanted in _plan_runs(table, sorted(set(indices))):
            # 3. seek and decode forward; if the seek landed late, retry from the keyframe before
            _decode_run(container, stream, table, path, keyframe, wanted, frames, stats)
            while keyframe > 0 and any(i not in frames for i in wanted):
                keyframe = table.keyframe_before(keyframe - 1)
                _decode_run(container, stream, table, path, keyframe, wanted, frames, stats)
        missing = sorted(set(indices) - frames.keys())
        if missing:
            raise ValueError(f"{path.name}: frames {missing[:5]} could not be decoded; the file is "
                             "truncated or corrupt")
    # 4. in the order asked for (repeats share one decoded frame)
    return torch.stack([frames[i] for i in indices])  # (T, C, H, W)


def read_all_frames(path: str | Path) -> torch.Tensor:
    """Decode every frame of a video in one sequential pass (the baseline ``read_clip`` beats).

    Args:
        path: a video file PyAV/FFmpeg can read.

    Returns:
        (T, C, H, W) uint8 RGB tensor with all T frames in display order; ``bikes.mp4`` gives
        (250, 3, 272, 640), about 130 MB.

    Raises:
        FileNotFoundError: nothing at ``path``.
        ValueError: not a video, no video stream, no frames, or truncated/corrupt.
    """
    path = _existing_file(path)
    with _open_video(path) as (container, stream):
        frames = [_frame_to_tensor(frame) for frame in container.decode(stream)]
    if not frames:
        raise ValueError(f"{path.name}: the video stream holds no frames")
    return torch.stack(frames)  # (T, C, H, W)
