"""Tests of course.video.io: video_info, read_clip (keyframe seeking) and read_all_frames.

The reference is an independent full sequential decode written here with PyAV directly; seeking
must give exactly its frames. Decode counts are checked against keyframe and reference-frame tables
built here by demuxing and by a whole-file decode that skips non-reference frames."""
from __future__ import annotations

import bisect
import functools
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from course.data.samples import bigbuckbunny_path, bikes_path, carphone_path
from course.video import DecodeStats, VideoInfo, read_all_frames, read_clip, video_info

VIDEOS = {"bikes": bikes_path, "carphone": carphone_path}


# --- independent references, computed once per video -----------------------------------------------


@functools.cache
def reference_frames(name: str) -> torch.Tensor:
    """(T, 3, H, W) uint8: every frame of a full sequential PyAV decode, in display order."""
    with av.open(str(VIDEOS[name]())) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)  # (T, H, W, C) → (T, C, H, W)


@functools.cache
def keyframes(name: str) -> list[int]:
    """Display indices of keyframes, from the packets' keyframe flags."""
    with av.open(str(VIDEOS[name]())) as container:
        packets = [(p.pts, p.is_keyframe) for p in container.demux(video=0) if p.size]
    return [i for i, (_, key) in enumerate(sorted(packets)) if key]


@functools.cache
def reference_frame_mask(name: str) -> list[bool]:
    """mask[i]: frame i is a reference frame (it survives a decode that skips non-reference frames)."""
    with av.open(str(VIDEOS[name]())) as container:
        all_pts = sorted(p.pts for p in container.demux(video=0) if p.size)
        container.seek(0)
        container.streams.video[0].codec_context.skip_frame = "NONREF"
        kept = {f.pts for f in container.decode(video=0)}
    return [p in kept for p in all_pts]


def remux(src: Path, dst: Path, **options: str) -> Path:
    """Copy the video packets of ``src`` into a new container ``dst`` (no re-encoding)."""
    with av.open(str(src)) as source, av.open(str(dst), "w", options=options) as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)
    return dst


# --- video_info ------------------------------------------------------------------------------------

# num_frames, fps, width, height, duration (s), codec: values from datasets/README.md and the files' headers
INFO_CASES = [
    (bikes_path, VideoInfo(250, 25.0, 640, 272, 10.0, "h264")),
    (carphone_path, VideoInfo(120, 30000 / 1001, 176, 144, 4.004, "h264")),
    (bigbuckbunny_path, VideoInfo(132, 25.0, 1280, 720, 5.28, "h264")),
]


@pytest.mark.parametrize("locate, expected", INFO_CASES)
def test_video_info_matches_the_documented_values(locate, expected):
    """Check every VideoInfo field against the documented values of the sample videos."""
    info = video_info(locate())
    assert (info.num_frames, info.width, info.height, info.codec) == (
        expected.num_frames, expected.width, expected.height, expected.codec)
    assert info.fps == pytest.approx(expected.fps, rel=1e-12)
    assert info.duration == pytest.approx(expected.duration, rel=1e-12)


@pytest.mark.parametrize("name", VIDEOS)
def test_video_info_frame_count_equals_decoded_count(name):
    """Check that num_frames equals the number of frames a full decode produces."""
    assert video_info(VIDEOS[name]()).num_frames == len(reference_frames(name))


def test_video_info_counts_packets_when_the_header_has_no_count(tmp_path):
    """Check the exact count for a Matroska copy, whose header declares no frame count."""
    mkv = remux(bikes_path(), tmp_path / "bikes.mkv")
    with av.open(str(mkv)) as container:
        assert container.streams.video[0].frames == 0  # the premise: no count in the header
    info = video_info(mkv)
    assert (info.num_frames, info.fps, info.duration) == (250, 25.0, 10.0)


def test_edit_list_hidden_frames_are_not_counted_or_returned(tmp_path):
    """Check an MP4 whose edit list hides bikes' first 3 frames: 247 frames, frame i is bikes' i + 3."""
    path = tmp_path / "trimmed.mp4"
    with av.open(str(bikes_path())) as source, av.open(str(path), "w") as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.dts is not None:  # shift 3 frames (3 × 512 ticks) before time 0: hidden on playback
                packet.pts, packet.dts, packet.stream = packet.pts - 1536, packet.dts - 1536, stream
                target.mux(packet)
    assert video_info(path).num_frames == 247
    indices = [0, 246, 1, 27, 100, 0]  # 27: bikes' frame 30, a keyframe
    assert torch.equal(read_clip(path, indices), reference_frames("bikes")[[i + 3 for i in indices]])


def test_video_info_is_frozen():
    """Check that VideoInfo is immutable."""
    info = video_info(carphone_path())
    with pytest.raises(AttributeError):
        info.num_frames = 1


# --- read_all_frames -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, shape", [("bikes", (250, 3, 272, 640)), ("carphone", (120, 3, 144, 176))])
def test_read_all_frames_equals_an_independent_decode(name, shape):
    """Check shape (T, C, H, W), dtype uint8 and every pixel against a direct PyAV decode."""
    frames = read_all_frames(VIDEOS[name]())
    assert frames.shape == shape and frames.dtype == torch.uint8
    assert torch.equal(frames, reference_frames(name))


# --- read_clip: frame-exact ------------------------------------------------------------------------

# hand-picked index lists; bikes' keyframes are at 0, 30, 76, 137, 187, 242; carphone has one at 0
CLIP_CASES = [
    ("bikes", [0]),
    ("bikes", [249]),
    ("bikes", [249, 0]),
    ("bikes", [5, 5, 5]),
    ("bikes", [0, 30, 76, 137, 187, 242]),  # every keyframe
    ("bikes", [29, 75, 136, 186, 241, 248]),  # the frame before each keyframe, and 248
    ("bikes", [200, 3, 200, 77, 31, 249, 0, 3]),  # unsorted with repeats
    ("bikes", [15, 46, 78, 109, 140, 171, 203, 234]),  # 8 evenly spaced (TSN centres)
    ("carphone", [0]),
    ("carphone", [119]),
    ("carphone", [119, 60, 0, 60, 1]),
    ("carphone", list(range(0, 120, 7))),
]


@pytest.mark.parametrize("name, indices", CLIP_CASES)
def test_read_clip_equals_full_decode(name, indices):
    """Check read_clip against the full decode indexed in the same order, repeats included."""
    clip = read_clip(VIDEOS[name](), indices)
    assert clip.shape == (len(indices), *reference_frames(name).shape[1:]) and clip.dtype == torch.uint8
    assert torch.equal(clip, reference_frames(name)[indices])


@pytest.mark.parametrize("name", VIDEOS)
@pytest.mark.parametrize("seed", range(4))
def test_read_clip_random_index_sets(name, seed):
    """Check random unsorted index sets with repeats, always holding the first and last frame."""
    reference = reference_frames(name)
    T = len(reference)
    generator = torch.Generator().manual_seed(seed)
    count = int(torch.randint(1, 13, (), generator=generator))
    indices = torch.cat([torch.randint(0, T, (count,), generator=generator), torch.tensor([0, T - 1, 0])])
    indices = indices[torch.randperm(len(indices), generator=generator)]  # (count + 3,) unsorted
    assert torch.equal(read_clip(VIDEOS[name](), indices), reference[indices])


def test_read_clip_is_frame_exact_in_matroska(tmp_path):
    """Check seeking in a Matroska copy (other demuxer, timestamps in ms) against the full decode."""
    mkv = remux(bikes_path(), tmp_path / "bikes.mkv")
    indices = [249, 0, 137, 136, 30, 100, 100, 241, 242]
    assert torch.equal(read_clip(mkv, indices), reference_frames("bikes")[indices])


@pytest.mark.parametrize("indices", [[3, 1, 4], (3, 1, 4), torch.tensor([3, 1, 4]), np.array([3, 1, 4]),
                                     torch.tensor([3, 1, 4], dtype=torch.int32)])
def test_read_clip_accepts_lists_tuples_tensors_and_arrays(indices):
    """Check that every documented container of integer indices gives the same frames."""
    assert torch.equal(read_clip(carphone_path(), indices), reference_frames("carphone")[[3, 1, 4]])


# --- read_clip: seeking decodes few frames -----------------------------------------------------------


@pytest.mark.parametrize("name, index", [("bikes", 0), ("bikes", 29), ("bikes", 30), ("bikes", 31),
                                         ("bikes", 136), ("bikes", 200), ("bikes", 249),
                                         ("carphone", 0), ("carphone", 57), ("carphone", 119)])
def test_read_clip_decodes_only_from_the_keyframe_before(name, index):
    """Check the exact decode count for one frame: the reference frames from its keyframe, plus itself."""
    keyframe = keyframes(name)[bisect.bisect_right(keyframes(name), index) - 1]
    is_reference = reference_frame_mask(name)
    expected = sum(is_reference[keyframe:index]) + 1  # reference frames before it, then the frame
    stats = DecodeStats()
    read_clip(VIDEOS[name](), [index], stats=stats)
    assert (stats.frames_decoded, stats.seeks) == (expected, 1)


def test_eight_evenly_spaced_frames_of_bikes_decode_under_half_of_the_video():
    """Check that 8 evenly spaced frames of bikes.mp4 decode < 50% of its 250 frames."""
    indices = [(2 * i + 1) * 250 // 16 for i in range(8)]  # [15, 46, 78, ..., 234]
    stats = DecodeStats()
    read_clip(bikes_path(), indices, stats=stats)
    # seeking alone may decode at most the frames from each wanted frame's keyframe up to it
    kf = keyframes("bikes")
    needed = set().union(*(range(kf[bisect.bisect_right(kf, i) - 1], i + 1) for i in indices))
    assert stats.frames_decoded <= len(needed) == 150
    assert stats.frames_decoded < 0.5 * 250
    assert stats.seeks == 5  # one per keyframe interval holding wanted frames: 0, 30, 76, 137, 187


def test_decode_stats_accumulate_over_calls():
    """Check that passing the same DecodeStats to two calls adds up their counts."""
    first, total = DecodeStats(), DecodeStats()
    read_clip(bikes_path(), [40], stats=first)
    read_clip(bikes_path(), [40], stats=total)
    read_clip(bikes_path(), [40], stats=total)
    assert first.frames_decoded > 0
    assert (total.frames_decoded, total.seeks) == (2 * first.frames_decoded, 2 * first.seeks)


# --- errors ----------------------------------------------------------------------------------------

READERS = [video_info, read_all_frames, lambda path: read_clip(path, [0])]


@pytest.mark.parametrize("read", READERS)
def test_missing_file_raises_file_not_found(tmp_path, read):
    """Check that a missing path raises FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="nothing_here.mp4"):
        read(tmp_path / "nothing_here.mp4")


@pytest.mark.parametrize("read", READERS)
def test_text_file_named_mp4_raises_value_error(tmp_path, read):
    """Check that a text file named x.mp4 gives our ValueError naming the file, not a PyAV error."""
    path = tmp_path / "x.mp4"
    path.write_text("this is not a video\n")
    with pytest.raises(ValueError, match=r"x\.mp4 cannot be opened as a video .*not a video file") as err:
        read(path)
    assert type(err.value) is ValueError  # ours, wrapping PyAV's InvalidDataError
    assert isinstance(err.value.__cause__, av.error.FFmpegError)


@pytest.mark.parametrize("read", READERS)
def test_truncated_mp4_raises_value_error(tmp_path, read):
    """Check that the first 20 KB of bikes.mp4 (its index, the moov atom, is at the end) give our error."""
    path = tmp_path / "bikes_20kb.mp4"
    path.write_bytes(bikes_path().read_bytes()[:20_000])
    with pytest.raises(ValueError, match=r"bikes_20kb\.mp4 .*truncated") as err:
        read(path)
    assert type(err.value) is ValueError


@pytest.mark.parametrize("read, message", [
    (video_info, r"half\.mp4: packet 117 is corrupt; the file is truncated"),
    (read_all_frames, r"half\.mp4: decoding failed .*truncated or corrupt"),
    (lambda path: read_clip(path, [0]), r"half\.mp4: packet 117 is corrupt; the file is truncated"),
])
def test_truncated_faststart_mp4_raises_value_error(tmp_path, read, message):
    """Check a faststart copy (index first) cut in half: it opens, then our ValueError says truncated."""
    whole = remux(bikes_path(), tmp_path / "whole.mp4", movflags="faststart")
    path = tmp_path / "half.mp4"
    data = whole.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with av.open(str(path)) as container:  # the premise: PyAV opens it and believes in 250 frames
        assert container.streams.video[0].frames == 250
    with pytest.raises(ValueError, match=message) as err:
        read(path)
    assert type(err.value) is ValueError


@pytest.mark.parametrize("read", [video_info, lambda path: read_clip(path, [0])])
def test_mp4_cut_at_a_packet_boundary_raises_value_error(tmp_path, read):
    """Check a faststart copy cut right after its 100th packet: no corrupt packet, but too few of them."""
    whole = remux(bikes_path(), tmp_path / "whole.mp4", movflags="faststart")
    with av.open(str(whole)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
        cut = packets[99].pos + packets[99].size  # packets are stored in decode order
    path = tmp_path / "cut.mp4"
    path.write_bytes(whole.read_bytes()[:cut])
    message = r"cut\.mp4 is truncated: its header declares 250 frames, but only 100 packets are in the file"
    with pytest.raises(ValueError, match=message):
        read(path)


@pytest.mark.parametrize("read", READERS)
def test_audio_only_file_raises_value_error(tmp_path, read):
    """Check that a file without a video stream says so and lists the streams it has."""
    path = tmp_path / "tone.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(ValueError, match=r"tone\.wav has no video stream \(streams: audio\)"):
        read(path)


@pytest.mark.parametrize("read", READERS)
def test_folder_raises_value_error(tmp_path, read):
    """Check that a folder is refused with a message, not an IsADirectoryError from FFmpeg."""
    with pytest.raises(ValueError, match="is a folder"):
        read(tmp_path)


@pytest.mark.parametrize("index", [250, 1000, -1])
def test_index_out_of_range_names_index_and_frame_count(index):
    """Check that an index outside [0, 250) raises IndexError naming it and the frame count."""
    message = rf"frame index {index} is out of range: bikes\.mp4 has 250 frames \(valid indices 0..249\)"
    with pytest.raises(IndexError, match=message):
        read_clip(bikes_path(), [0, index])


@pytest.mark.parametrize("indices, message", [
    ([], "empty"),
    (torch.tensor([0.0, 1.0]), "integers, got dtype torch.float32"),
    (torch.tensor([True, False]), "integers, got dtype torch.bool"),
    ([0, 1.5], "integers"),
    (torch.zeros(2, 3, dtype=torch.int64), r"1-D, got shape \(2, 3\)"),
])
def test_bad_index_arguments_raise_value_error(indices, message):
    """Check that empty, non-integer and 2-D index arguments are refused with a clear message."""
    with pytest.raises(ValueError, match=message):
        read_clip(carphone_path(), indices)


def test_error_messages_keep_the_file_name_after_a_copy(tmp_path):
    """Check that messages name the file actually read (a copy), not the original."""
    copy = tmp_path / "my_copy.mp4"
    shutil.copyfile(carphone_path(), copy)
    with pytest.raises(IndexError, match=r"my_copy\.mp4 has 120 frames"):
        read_clip(copy, [120])
