"""course.device() and the same code on CPU and GPU."""
import pytest
import torch

import course
from course.data import bikes_path
from course.video import evenly_spaced_indices, frames_to_float, read_clip, to_conv3d_layout, to_frame_layout


def test_device_defaults_to_what_is_available():
    assert course.device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert course.device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_asking_for_cuda_without_it_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no CUDA device"):
        course.device("cuda")


@pytest.mark.gpu
def test_real_clip_through_conv3d_on_gpu_matches_cpu():
    clip = frames_to_float(read_clip(bikes_path(), evenly_spaced_indices(250, 8)))  # (T, C, H, W) float32
    batch = to_conv3d_layout(clip[None, :, :, 64:128, 64:128])                      # (1, C, T, 64, 64)
    torch.manual_seed(0)
    conv = torch.nn.Conv3d(3, 8, kernel_size=3, padding=1)
    expected = conv(batch)
    dev = course.device()
    got = conv.to(dev)(batch.to(dev))
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), expected, rtol=1e-3, atol=1e-3)  # TF32 may be on for convs
    assert torch.equal(to_frame_layout(to_conv3d_layout(clip.to(dev))).cpu(), clip)
