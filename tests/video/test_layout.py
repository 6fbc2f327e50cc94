"""Tests of course.video.layout: layout conversions against explicit element-by-element loops on odd
sizes, view semantics, and uint8 → float conversion against hand-computed values."""
from __future__ import annotations

import itertools
import re

import pytest
import torch

from course.video.layout import frames_to_float, to_conv3d_layout, to_frame_layout

SHAPES_5D = [(2, 5, 3, 7, 9), (1, 1, 1, 1, 1), (3, 4, 1, 2, 5)]  # (N, T, C, H, W)
SHAPES_4D = [(5, 3, 7, 9), (1, 3, 2, 2), (6, 1, 3, 4)]  # (T, C, H, W)


def numbered(shape: tuple[int, ...]) -> torch.Tensor:
    """A tensor whose every element is distinct, so any mix-up of axes shows."""
    return torch.arange(torch.Size(shape).numel()).reshape(shape)


@pytest.mark.parametrize("shape", SHAPES_5D)
def test_to_conv3d_layout_5d_equals_explicit_loops(shape):
    """Check y[n, c, t, h, w] == x[n, t, c, h, w] for every element of a (N, T, C, H, W) tensor."""
    x = numbered(shape)
    y = to_conv3d_layout(x)
    N, T, C, H, W = shape
    assert y.shape == (N, C, T, H, W)
    for n, t, c, h, w in itertools.product(range(N), range(T), range(C), range(H), range(W)):
        assert y[n, c, t, h, w] == x[n, t, c, h, w]


@pytest.mark.parametrize("shape", SHAPES_4D)
def test_to_conv3d_layout_4d_equals_explicit_loops(shape):
    """Check y[c, t, h, w] == x[t, c, h, w] for every element of a (T, C, H, W) clip."""
    x = numbered(shape)
    y = to_conv3d_layout(x)
    T, C, H, W = shape
    assert y.shape == (C, T, H, W)
    for t, c, h, w in itertools.product(range(T), range(C), range(H), range(W)):
        assert y[c, t, h, w] == x[t, c, h, w]


@pytest.mark.parametrize("shape", [(2, 3, 5, 7, 9), (3, 5, 7, 9)])  # (N, C, T, H, W), (C, T, H, W)
def test_to_frame_layout_equals_explicit_loops(shape):
    """Check that to_frame_layout puts frame t of channel c at [.., t, c, ..], element by element."""
    x = numbered(shape)
    y = to_frame_layout(x)
    batch = [()] if len(shape) == 4 else [(n,) for n in range(shape[0])]
    C, T, H, W = shape[-4:]
    assert y.shape == (*shape[:-4], T, C, H, W)
    for n, c, t, h, w in itertools.product(batch, range(C), range(T), range(H), range(W)):
        assert y[(*n, t, c, h, w)] == x[(*n, c, t, h, w)]


@pytest.mark.parametrize("shape", SHAPES_5D + SHAPES_4D)
def test_layouts_are_inverse(shape):
    """Check to_frame_layout(to_conv3d_layout(x)) == x and the other way round."""
    x = numbered(shape)
    assert torch.equal(to_frame_layout(to_conv3d_layout(x)), x)
    assert torch.equal(to_conv3d_layout(to_frame_layout(x)), x)


@pytest.mark.parametrize("convert", [to_conv3d_layout, to_frame_layout])
def test_conversions_return_views(convert):
    """Check that the result shares memory with the input (a permute, no copy)."""
    x = numbered((2, 5, 3, 7, 9))
    y = convert(x)
    assert y.data_ptr() == x.data_ptr() and not y.is_contiguous()
    y[1, 2, 0, 6, 8] = -1
    assert (x == -1).sum() == 1  # the write shows through


def test_conv3d_layout_feeds_conv3d():
    """Check that Conv3d on the converted clip equals per-frame Conv2d (a kernel of depth 1)."""
    torch.manual_seed(0)
    frames = torch.randn(2, 5, 3, 7, 9)  # (N, T, C, H, W)
    conv3d = torch.nn.Conv3d(3, 4, kernel_size=(1, 3, 3), padding=(0, 1, 1))
    conv2d = torch.nn.Conv2d(3, 4, kernel_size=3, padding=1)
    conv2d.weight.data, conv2d.bias.data = conv3d.weight.data[:, :, 0], conv3d.bias.data
    out = to_frame_layout(conv3d(to_conv3d_layout(frames)))  # (N, T, 4, H, W)
    per_frame = torch.stack([conv2d(frames[:, t]) for t in range(5)], dim=1)
    torch.testing.assert_close(out, per_frame)


@pytest.mark.parametrize("convert", [to_conv3d_layout, to_frame_layout])
@pytest.mark.parametrize("shape", [(3, 7, 9), (7,), (1, 2, 5, 3, 7, 9)])
def test_conversions_reject_other_ranks(convert, shape):
    """Check that a 3-D, 1-D or 6-D tensor is refused with a message naming its shape."""
    with pytest.raises(ValueError, match=re.escape(f"got shape {tuple(shape)}")):
        convert(torch.zeros(shape))


@pytest.mark.parametrize("shape", [(5, 3, 7, 9), (2, 5, 3, 7, 9)])
def test_frames_to_float_hand_computed(shape):
    """Check 0 → 0, 255 → 1, 51 → 0.2, float32 dtype, same shape, and an untouched input."""
    frames = torch.zeros(shape, dtype=torch.uint8)
    frames.view(-1)[:3] = torch.tensor([255, 51, 128], dtype=torch.uint8)
    before = frames.clone()
    out = frames_to_float(frames)
    assert out.dtype == torch.float32 and out.shape == frames.shape
    assert out.view(-1)[:4].tolist() == pytest.approx([1.0, 0.2, 128 / 255, 0.0], abs=1e-7)
    assert out.min() >= 0 and out.max() <= 1
    assert torch.equal(frames, before)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.int8, torch.float16])
def test_frames_to_float_rejects_non_uint8(dtype):
    """Check that frames that are not uint8 are refused with the dtype in the message."""
    with pytest.raises(ValueError, match=rf"got {dtype}"):
        frames_to_float(torch.zeros(2, 3, 4, 5, dtype=dtype))
